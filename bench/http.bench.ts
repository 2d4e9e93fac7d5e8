// HTTP surface benchmarks, traffic to 127.0.0.1 only, about 45 s:
//  1. GET /api/providers (100 providers) through the handler against a bare
//     node:http server answering the same bytes, both measured in this run
//     (alternating rounds), with autocannon in a worker thread.
//  2. 1,000 req/s for 10 s against the API and the status page of a polling
//     cache: each checker must still be called once per poll interval.
//  3. Fleet scale: GET /api/providers at 10,000 providers, 10 concurrent
//     clients in another process (accepting gzip): req/s while the cache is
//     quiet and while it sweeps every 100 ms, sweeps completed with and
//     without that load, and bytes on the wire with gzip, brotli and identity.
//  4. queries: ?state=unhealthy and ?limit=100 against the full list (10,000).
//  5. events: sweeps in which all 10,000 providers change, with no event
//     stream, 100 streams without batches and 100 with ?batch=1.
//  6. rows: building 10,000 JSON rows, the former rows against the current ones, and the list size.
// Run: node --import tsx bench/http.bench.ts [throughput] [polling] [fleet] [queries] [events] [rows]
import http from 'node:http';
import { loadavg } from 'node:os';
import autocannon, { type Result } from 'autocannon';
import { createHealthHandler } from '../src/http/index.js';
import { HealthCache, ProviderRegistry } from '../src/index.js';
import { events, queries } from './http-fleet.js';
import { rows } from './http-rows.js';
import { loadFromAnotherProcess } from './http-load-clients.js';

const PROVIDERS = 100;
const ROUND_SECONDS = 2;
const ROUNDS = 6;
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits });

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return `http://127.0.0.1:${port}`;
}

async function stop(server: http.Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

function load(options: autocannon.Options): Promise<Result> {
  return new Promise((resolve, reject) => {
    autocannon(options, (error: unknown, result) =>
      error ? reject(error instanceof Error ? error : new Error('autocannon failed')) : resolve(result),
    );
  });
}

/**
 * `count` providers answering at once; with `io`, each answer waits one turn
 * of the event loop, as a checker doing network I/O does (a checker that
 * resolves in a microtask lets a whole sweep run without serving a request).
 */
function registry(count: number, calls: Map<string, number>, io = false): ProviderRegistry {
  const providers = new ProviderRegistry();
  for (let i = 0; i < count; i++) {
    const name = `provider-${String(i).padStart(3, '0')}`;
    calls.set(name, 0);
    providers.register(name, {
      healthCheck: async () => {
        calls.set(name, (calls.get(name) ?? 0) + 1);
        if (io) await new Promise((resolve) => setImmediate(resolve));
        return {
          healthy: i % 17 !== 0,
          degraded: i % 5 === 0,
          message: `checked ${name}`,
          latency: 5 + (i % 40),
        };
      },
    });
  }
  return providers;
}

async function throughput(): Promise<void> {
  const cache = new HealthCache(registry(PROVIDERS, new Map()), { pollInterval: 3_600_000 });
  for (let i = 0; i < 10; i++) await cache.checkNow(); // some history, as in a running service
  const handler = createHealthHandler(cache, { metrics: false });
  const served = http.createServer(handler);
  const servedUrl = await listen(served);
  const reference = await fetch(`${servedUrl}/api/providers`);
  const bytes = Buffer.from(await reference.arrayBuffer());
  const bare = http.createServer((_req, res) => {
    res.writeHead(200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': bytes.length,
      'Cache-Control': 'no-cache',
      ETag: reference.headers.get('etag') ?? '',
    });
    res.end(bytes);
  });
  const bareUrl = await listen(bare);
  console.log(`GET /api/providers, ${PROVIDERS} providers, ${fmt(bytes.length)} bytes a response`);
  const rates = { bare: [] as number[], handler: [] as number[] };
  // Warm both up so neither pays for the JIT in its first round.
  await load({ url: `${bareUrl}/api/providers`, connections: 20, duration: 1, workers: 1 });
  await load({ url: `${servedUrl}/api/providers`, connections: 20, duration: 1, workers: 1 });
  await load({ url: `${servedUrl}/api/providers`, connections: 20, duration: 1, workers: 1 });
  // Other processes share this machine: alternate the order (ABBA) and take
  // the median of the per-round ratios, which a burst of outside load skews least.
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (['bare', 'handler'] as const) : (['handler', 'bare'] as const);
    const rate = { bare: 0, handler: 0 };
    for (const kind of order) {
      const url = kind === 'bare' ? bareUrl : servedUrl;
      const result = await load({
        url: `${url}/api/providers`,
        connections: 50,
        duration: ROUND_SECONDS,
        workers: 1,
      });
      if (result.non2xx > 0 || result.errors > 0) {
        throw new Error(`${kind}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
      }
      rate[kind] = result.requests.average;
      rates[kind].push(result.requests.average);
    }
    ratios.push(rate.handler / rate.bare);
  }
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length / 2;
    return sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  console.log(
    `  bare node:http, same bytes : ${fmt(median(rates.bare))} req/s (median of ${ROUNDS} rounds of ${ROUND_SECONDS} s)`,
  );
  console.log(`  createHealthHandler        : ${fmt(median(rates.handler))} req/s`);
  console.log(
    `  ratio                      : ${fmt(median(ratios), 2)} (median of per-round ratios ${ratios.map((r) => fmt(r, 2)).join(', ')}; goal >= 0.80)`,
  );
  handler.close();
  await stop(served);
  await stop(bare);
}

async function pollingUnderLoad(): Promise<void> {
  const POLL = 1_000;
  const SECONDS = 10;
  const calls = new Map<string, number>();
  const cache = new HealthCache(registry(20, calls), {
    pollInterval: POLL,
    checkTimeout: 500,
    staleAfter: 5_000,
  });
  const handler = createHealthHandler(cache);
  const server = http.createServer(handler);
  const url = await listen(server);
  const running = new AbortController();
  const swept = new Promise<void>((resolve) => cache.onSweep(() => resolve()));
  const polling = cache.run(running.signal);
  await swept;
  for (const name of calls.keys()) calls.set(name, 0);
  let sweeps = 0;
  cache.onSweep(() => sweeps++);
  const started = performance.now();
  const result = await load({
    url,
    connections: 20,
    overallRate: 1_000,
    duration: SECONDS,
    workers: 1,
    requests: [
      { method: 'GET', path: '/api/providers' },
      { method: 'GET', path: '/api/health' },
      { method: 'GET', path: '/api/providers/provider-007' },
      { method: 'GET', path: '/' },
      { method: 'GET', path: '/api/history' },
      { method: 'GET', path: '/metrics' },
    ],
  });
  const elapsed = (performance.now() - started) / 1000;
  running.abort();
  await polling;
  handler.close();
  await stop(server);
  const counts = [...calls.values()];
  const min = Math.min(...counts);
  const max = Math.max(...counts);
  const expected = elapsed / (POLL / 1000);
  console.log(
    `\n${fmt(result.requests.total)} requests in ${fmt(elapsed, 1)} s (${fmt(result.requests.average)} req/s, target 1,000) against the API, page and metrics`,
  );
  console.log(
    `  non-2xx answers            : ${result.non2xx} (GET /api/health is 503 by design: some providers are unhealthy)`,
  );
  console.log(
    `  sweeps meanwhile           : ${sweeps} (poll interval ${POLL} ms => about ${fmt(expected, 1)})`,
  );
  console.log(
    `  calls per checker          : min ${min}, max ${max} (once per poll interval; reads never call a checker)`,
  );
  const ok = max <= Math.ceil(expected) + 1 && min >= Math.floor(expected) - 1 && max === min;
  console.log(`  verdict                    : ${ok ? 'OK' : 'UNEXPECTED'}`);
}

/**
 * `pollInterval` 100 ms is the setting: at 10,000 providers the sweeps
 * alone fill the main thread here, so any HTTP work takes sweeps away. 1 s is
 * a rate this machine sustains, the regime of a real fleet (default 30 s).
 */
async function fleet(io: boolean, pollInterval = 100): Promise<void> {
  const PROVIDERS = 10_000;
  const SECONDS = 8;
  const cache = new HealthCache(registry(PROVIDERS, new Map(), io), {
    pollInterval,
    checkTimeout: Math.min(50, pollInterval / 2),
  });
  await cache.checkNow();
  const handler = createHealthHandler(cache, { metrics: false });
  const server = http.createServer(handler);
  const url = `${await listen(server)}/api/providers`;
  const size = async (encoding: string): Promise<number> => {
    const res = await new Promise<http.IncomingMessage>((resolve) =>
      http.get(url, { headers: { 'Accept-Encoding': encoding } }, resolve),
    );
    let n = 0;
    for await (const chunk of res) n += (chunk as Buffer).length;
    return n;
  };
  const identity = await size('identity');
  const gzip = await size('gzip');
  const br = await size('br');
  const checkers = io ? 'each yielding once to the event loop, like I/O' : 'resolving in a microtask';
  console.log(
    `\nGET /api/providers, ${fmt(PROVIDERS)} providers polled every ${fmt(pollInterval)} ms (checkers ${checkers}), 10 clients in another process (gzip), ${SECONDS} s each (load average ${loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')})`,
  );
  console.log(
    `  bytes on the wire          : identity ${fmt(identity)}, gzip ${fmt(gzip)} (${fmt(identity / gzip, 1)}x smaller), brotli ${fmt(br)} (${fmt(identity / br, 1)}x smaller)`,
  );
  const sweepsDuring = async (
    work: () => Promise<unknown>,
  ): Promise<{ sweeps: number; seconds: number; result: unknown }> => {
    let sweeps = 0;
    const counting = cache.onSweep(() => sweeps++);
    const running = new AbortController();
    const polling = cache.run(running.signal);
    const started = performance.now();
    try {
      const result = await work();
      return { result, sweeps, seconds: (performance.now() - started) / 1000 };
    } finally {
      running.abort();
      await polling;
      counting.dispose();
    }
  };
  const quiet = await loadFromAnotherProcess(url, SECONDS, 'gzip');
  const idle = await sweepsDuring(() => new Promise((resolve) => setTimeout(resolve, SECONDS * 1000)));
  const loaded = await sweepsDuring(() => loadFromAnotherProcess(url, SECONDS, 'gzip'));
  const sweeping = loaded.result as { requests: number; failures: number };
  // The client stops starting requests after SECONDS; the last ones may end later.
  const quietRate = quiet.requests / SECONDS;
  const sweepingRate = sweeping.requests / loaded.seconds;
  const idleSweeps = idle.sweeps / idle.seconds;
  const loadedSweeps = loaded.sweeps / loaded.seconds;
  console.log(`  req/s, cache quiet         : ${fmt(quietRate)} (${quiet.failures} failures)`);
  console.log(
    `  req/s, cache sweeping      : ${fmt(sweepingRate, 1)} over ${fmt(loaded.seconds, 1)} s (${fmt(sweepingRate / Math.max(quietRate, 1e-9), 2)}x quiet; goal >= 0.80)`,
  );
  console.log(
    `  sweeps per second          : ${fmt(idleSweeps, 2)} without HTTP load, ${fmt(loadedSweeps, 2)} under it (${fmt(loadedSweeps / Math.max(idleSweeps, 1e-9), 2)}x; goal >= 0.80)`,
  );
  handler.close();
  await stop(server);
}

{
  const only = process.argv.slice(2);
  const wanted = (name: string): boolean => only.length === 0 || only.includes(name);
  if (wanted('throughput')) await throughput();
  if (wanted('polling')) await pollingUnderLoad();
  if (wanted('fleet')) {
    await fleet(true);
    await fleet(false);
    await fleet(true, 1_000);
  }
  if (wanted('queries')) await queries();
  if (wanted('events')) await events();
  if (wanted('rows')) await rows();
}
