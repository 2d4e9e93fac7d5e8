// Selector benchmark, all in the same run:
//  1. filtering 100,000 label sets with a parsed selector against a hand-written loop testing
//     the same conditions, and against no filter at all;
//  2. the /api/providers page builder over 100,000 rows with ?selector= against no filter;
//  3. GET /api/health?selector= at 10,000 providers against GET /api/health (the first request
//     after a change, which builds the body, and cached requests).
// Run with `npm run bench selector` (or `node --import tsx bench/selector.bench.ts`).
import http from 'node:http';
import { createHealthHandler } from '../src/http/index.js';
import { providerPage } from '../src/http/provider-list.js';
import type { ProviderJSON } from '../src/http/provider-json.js';
import type { ProvidersQuery } from '../src/http/providers-query.js';
import { HealthCache, ProviderRegistry } from '../src/index.js';
import { validateLabels, type Labels } from '../src/labels.js';
import { parseSelector } from '../src/selector.js';

const COUNT = 100_000;
const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

/** 100,000 label sets spread over 4 envs, 20 teams, 5 tiers, 50 regions; one in 10 a canary. */
function labelSets(): Labels[] {
  const envs = ['prod', 'staging', 'dev', 'test'];
  const sets: Labels[] = [];
  for (let i = 0; i < COUNT; i++) {
    const labels: Record<string, string> = {
      env: envs[i % 4]!,
      team: `team-${i % 20}`,
      tier: `t${i % 5}`,
      region: `region-${i % 50}`,
      kind: i % 3 === 0 ? 'docker' : 'kubernetes',
    };
    if (i % 10 === 0) labels.canary = '';
    sets.push(validateLabels(labels));
  }
  return sets;
}

/** Milliseconds per pass of `filter` over `sets`, best of `rounds` after one warm-up round. */
function time(
  sets: readonly Labels[],
  filter: (labels: Labels) => boolean,
  rounds = 15,
): { ms: number; count: number } {
  let best = Infinity;
  let count = 0;
  for (let round = 0; round <= rounds; round++) {
    const start = process.hrtime.bigint();
    const selected: Labels[] = [];
    for (let i = 0; i < sets.length; i++) if (filter(sets[i]!)) selected.push(sets[i]!);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    count = selected.length;
    if (round > 0) best = Math.min(best, ms);
  }
  return { ms: best, count };
}

const sets = labelSets();
const cases: { text: string; plain: (l: Labels) => boolean }[] = [
  { text: 'env=prod', plain: (l) => l.env === 'prod' },
  {
    text: 'env=prod,team!=team-3,tier in (t1,t2),!canary',
    plain: (l) =>
      l.env === 'prod' &&
      l.team !== 'team-3' &&
      (l.tier === 't1' || l.tier === 't2') &&
      l.canary === undefined,
  },
  {
    text: 'region in (region-1,region-2,region-3,region-4,region-5,region-6,region-7,region-8,region-9,region-10),kind=docker',
    plain: (l) => {
      const r = l.region;
      return r !== undefined && /^region-([1-9]|10)$/.test(r) && l.kind === 'docker';
    },
  },
];

const all = time(sets, () => true);
console.log(`Filtering ${fmt(COUNT, 0)} label sets (best of 15 passes)`);
console.log(`  no filter (copy all)       ${fmt(all.ms, 2)} ms  ${fmt(all.count, 0)} selected`);
for (const { text, plain } of cases) {
  const parseStart = process.hrtime.bigint();
  const selector = parseSelector(text);
  const parseUs = Number(process.hrtime.bigint() - parseStart) / 1e3;
  const base = time(sets, plain);
  const compiled = time(sets, (labels) => selector.matches(labels));
  if (base.count !== compiled.count)
    throw new Error(`"${text}": plain loop selected ${base.count}, selector ${compiled.count}`);
  console.log(`\n  selector ${text}`);
  console.log(`    parse                    ${fmt(parseUs, 1)} µs (first parse, cold)`);
  console.log(`    plain loop               ${fmt(base.ms, 2)} ms  ${fmt(base.count, 0)} selected`);
  console.log(
    `    Selector.matches         ${fmt(compiled.ms, 2)} ms  (${fmt((compiled.ms * 1e6) / COUNT, 1)} ns per set)`,
  );
  console.log(`    ratio to plain loop      ${fmt(compiled.ms / base.ms, 2)}x`);
  console.log(`    ratio to no filter       ${fmt(compiled.ms / all.ms, 2)}x`);
}

// ---------------------------------------------------------------------------------------------
// The HTTP surface, in the same run: the list filter over 100,000 providers, and /api/health
// with and without ?selector= at 10,000 providers.

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

/** Best time (ms) of `rounds` runs of `work`, after one warm-up run. */
function best(work: () => unknown, rounds = 10): number {
  let min = Infinity;
  for (let round = 0; round <= rounds; round++) {
    const start = process.hrtime.bigint();
    work();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (round > 0) min = Math.min(min, ms);
  }
  return min;
}

/** `GET /api/providers` over 100,000 rows in memory: the page builder with and without a selector. */
function listFilter(): void {
  const rows: ProviderJSON[] = sets.map((labels, i) => ({
    name: `provider-${String(i).padStart(6, '0')}`,
    healthy: i % 7 !== 0,
    message: i % 7 === 0 ? 'connection refused' : 'ok',
    latency: 1_000_000,
    checked_at: '2026-03-01T10:00:00.000Z',
    state: i % 7 === 0 ? 'unhealthy' : 'healthy',
    stale: false,
    consecutive_failures: 0,
    consecutive_successes: 3,
    uptime: 1,
    latency_p50: 1_000_000,
    latency_p95: 2_000_000,
    labels,
    samples: 10,
  }));
  const plain: ProvidersQuery = {
    states: undefined,
    fields: undefined,
    limit: undefined,
    after: undefined,
    key: 'x',
  };
  const selector = parseSelector('env=prod,team!=team-3,tier in (t1,t2),!canary');
  const selected = { ...plain, selector };
  const byState: ProvidersQuery = { ...plain, states: ['unhealthy'] };
  const count = (query: ProvidersQuery): number => providerPage(rows, query, '/api/providers').rows.length;
  const none = best(() => providerPage(rows, plain, '/api/providers'));
  const filtered = best(() => providerPage(rows, selected, '/api/providers'));
  const stated = best(() => providerPage(rows, byState, '/api/providers'));
  const noneBody = best(() => JSON.stringify(providerPage(rows, plain, '/api/providers').rows), 5);
  const filteredBody = best(() => JSON.stringify(providerPage(rows, selected, '/api/providers').rows), 5);
  console.log(`\n/api/providers page builder over ${fmt(COUNT, 0)} rows (best of 10)`);
  console.log(`  no filter                  ${fmt(none, 2)} ms  ${fmt(count(plain), 0)} rows`);
  console.log(`  ?state=unhealthy           ${fmt(stated, 2)} ms  ${fmt(count(byState), 0)} rows`);
  console.log(`  ?selector=${selector.toString()}  ${fmt(filtered, 2)} ms  ${fmt(count(selected), 0)} rows`);
  console.log(`  ratio selector / no filter ${fmt(filtered / none, 2)}x`);
  console.log(
    `  with JSON.stringify of the page: no filter ${fmt(noneBody, 1)} ms, selector ${fmt(filteredBody, 1)} ms`,
  );
  console.log(`  ratio selector / no filter (serialised) ${fmt(filteredBody / noneBody, 2)}x`);
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** One GET on a keep-alive agent; resolves with the round-trip time (ms) and status. */
function get(url: string, agent: http.Agent): Promise<{ ms: number; status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    http
      .get(url, { agent }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () =>
          resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, status: res.statusCode ?? 0, bytes }),
        );
      })
      .once('error', reject);
  });
}

/**
 * `/api/health` and `/api/health?selector=team=team-3` at 10,000 providers:
 * the first request after a change (the body is built) and repeated requests
 * (the cached body), alternating the two in each round.
 */
async function healthAtFleetScale(): Promise<void> {
  const PROVIDERS = 10_000;
  const registry = new ProviderRegistry();
  for (let i = 0; i < PROVIDERS; i++) {
    registry.register(
      `provider-${String(i).padStart(5, '0')}`,
      { healthCheck: () => ({ healthy: i % 7 !== 0, message: i % 7 === 0 ? 'down' : 'ok' }) },
      { labels: sets[i]! },
    );
  }
  const cache = new HealthCache(registry, { pollInterval: 3_600_000, checkTimeout: 5_000 });
  await cache.checkNow();
  const handler = createHealthHandler(cache, { metrics: false, page: false, publishInterval: 0 });
  const server = http.createServer(handler);
  const base = await listen(server);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const plainUrl = `${base}/api/health`;
  const selectorUrl = `${base}/api/health?selector=${encodeURIComponent('team=team-3')}`;
  const cold = { plain: [] as number[], selector: [] as number[] };
  const warm = { plain: [] as number[], selector: [] as number[] };
  let bytes = { plain: 0, selector: 0 };
  let flip = 0;
  const change = async (): Promise<void> => {
    // One provider's new result: the cache publishes a new version, every body is rebuilt on demand.
    await cache.checkProvider(`provider-${String(flip++ % PROVIDERS).padStart(5, '0')}`);
  };
  for (let round = 0; round < 21; round++) {
    const order = round % 2 === 0 ? (['plain', 'selector'] as const) : (['selector', 'plain'] as const);
    for (const which of order) {
      const url = which === 'plain' ? plainUrl : selectorUrl;
      await change();
      const first = await get(url, agent);
      if (round > 0) cold[which].push(first.ms);
      bytes = { ...bytes, [which]: first.bytes };
      const start = process.hrtime.bigint();
      for (let i = 0; i < 200; i++) await get(url, agent);
      if (round > 0) warm[which].push(Number(process.hrtime.bigint() - start) / 1e6 / 200);
    }
  }
  console.log(`\n/api/health at ${fmt(PROVIDERS, 0)} providers (20 alternating rounds, medians, one client)`);
  console.log(
    `  plain:     first after a change ${fmt(median(cold.plain), 2)} ms, cached ${fmt(median(warm.plain) * 1000, 0)} µs/request, ${fmt(bytes.plain, 0)} bytes`,
  );
  console.log(
    `  selector:  first after a change ${fmt(median(cold.selector), 2)} ms, cached ${fmt(median(warm.selector) * 1000, 0)} µs/request, ${fmt(bytes.selector, 0)} bytes`,
  );
  console.log(
    `  ratio selector / plain: first ${fmt(median(cold.selector) / median(cold.plain), 2)}x, cached ${fmt(median(warm.selector) / median(warm.plain), 2)}x`,
  );
  agent.destroy();
  handler.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  cache.dispose();
}

listFilter();
await healthAtFleetScale();
