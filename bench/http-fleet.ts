// Fleet-scale sections of bench/http.bench.ts (10,000 providers): the
// filtered and paged lists against the full one, and the event stream with
// 100 connected clients against none. Each figure is printed with its
// baseline from the same run and the ratio.
import http from 'node:http';
import { loadavg } from 'node:os';
import { WARM_AFTER_READ } from '../src/http/api-bodies.js';
import { createHealthHandler } from '../src/http/index.js';
import { HealthCache, ProviderRegistry } from '../src/index.js';
import {
  burnInAnotherProcess,
  loadFromAnotherProcess,
  streamsFromAnotherProcess,
  type StreamsResult,
} from './http-load-clients.js';

const PROVIDERS = 10_000;
/**
 * `staleAfter` of the fleet caches: their quiet phases poll nothing, and with
 * the default (3 × `pollInterval`) every status turned stale inside them, a
 * change (a new version, every row rebuilt) timed as "quiet"; and
 * `?state=unhealthy` matched none (`[]`, 2 bytes).
 */
export const QUIET_STALE_AFTER = 3_600_000;
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits });
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * 10,000 providers whose checkers each yield once to the event loop (as I/O
 * does); every sweep changes every message, so every provider changes.
 */
function fleetRegistry(): { registry: ProviderRegistry; nextRound: () => void } {
  const registry = new ProviderRegistry();
  let round = 0;
  for (let i = 0; i < PROVIDERS; i++) {
    registry.register(`provider-${String(i).padStart(5, '0')}`, {
      healthCheck: async () => {
        await new Promise((resolve) => setImmediate(resolve));
        return {
          healthy: i % 17 !== 0,
          degraded: i % 5 === 0,
          message: `round ${round}`,
          latency: 5 + (i % 40),
        };
      },
    });
  }
  return { registry, nextRound: () => round++ };
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function stop(server: http.Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

/** `?state=unhealthy` and `?limit=100` against the full list: req/s (10 gzip clients in another process) quiet and sweeping. */
export async function queries(): Promise<void> {
  const SECONDS = 5;
  const { registry } = fleetRegistry();
  const cache = new HealthCache(registry, {
    pollInterval: 100,
    checkTimeout: 50,
    staleAfter: QUIET_STALE_AFTER,
  });
  // Several sweeps: a provider is unhealthy only after consecutive failures, and ?state=unhealthy must match some.
  for (let i = 0; i < 3; i++) await cache.checkNow();
  const handler = createHealthHandler(cache, { metrics: false });
  const server = http.createServer(handler);
  const base = `${await listen(server)}/api/providers`;
  const variants = [
    ['full list', ''],
    ['?state=unhealthy', '?state=unhealthy'],
    ['?limit=100', '?limit=100'],
  ] as const;
  console.log(
    `\nGET /api/providers variants, ${fmt(PROVIDERS)} providers, 10 gzip clients in another process, ${SECONDS} s each`,
  );
  const rates = new Map<string, { quiet: number; sweeping: number; bytes: number }>();
  for (const [label, query] of variants) {
    const quiet = await loadFromAnotherProcess(`${base}${query}`, SECONDS, 'gzip');
    const running = new AbortController();
    const polling = cache.run(running.signal);
    const started = performance.now();
    const sweeping = await loadFromAnotherProcess(`${base}${query}`, SECONDS, 'gzip');
    const seconds = (performance.now() - started) / 1000;
    running.abort();
    await polling;
    rates.set(label, {
      quiet: quiet.requests / SECONDS,
      sweeping: sweeping.requests / seconds,
      bytes: quiet.bytes / Math.max(quiet.requests, 1),
    });
  }
  const full = rates.get('full list')!;
  for (const [label, rate] of rates) {
    console.log(
      `  ${label.padEnd(18)}: quiet ${fmt(rate.quiet, 1)} req/s (${fmt(rate.quiet / full.quiet, 1)}x the full list), sweeping ${fmt(rate.sweeping, 1)} req/s (${fmt(rate.sweeping / full.sweeping, 1)}x), ${fmt(rate.bytes)} gzip bytes a response (${fmt(full.bytes / rate.bytes, 1)}x smaller)`,
    );
  }
  handler.close();
  await stop(server);
}

/** One sweep in which every provider changes: wall time of `checkNow`, and CPU until the events are out. */
async function sweep(cache: HealthCache, nextRound: () => void): Promise<{ wall: number; cpu: number }> {
  nextRound();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await cache.checkNow();
  const wall = performance.now() - started;
  // The last batch and the last queued changes go out within one publishInterval (250 ms).
  await new Promise((resolve) => setTimeout(resolve, 300));
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000 };
}

/** Sweeps of 10,000 changes with no stream, 100 streams without batches and 100 with `?batch=1`. */
export async function events(): Promise<void> {
  const SWEEPS = 5;
  const STREAMS = 100;
  const { registry, nextRound } = fleetRegistry();
  const cache = new HealthCache(registry, { pollInterval: 3_600_000, checkTimeout: 1_000 });
  await cache.checkNow();
  const handler = createHealthHandler(cache, { metrics: false });
  const server = http.createServer(handler);
  const url = `${await listen(server)}/api/events`;
  const measure = async (
    streams: string | undefined,
    gzip = false,
  ): Promise<{ wall: number; cpu: number; got?: StreamsResult }> => {
    const crowd = streams === undefined ? undefined : await streamsFromAnotherProcess(streams, STREAMS, gzip);
    // With streams, lets the snapshots (3.5 MB a stream) arrive; with none, waits until the last
    // stream's reads are WARM_AFTER_READ old, so no row is built ahead. Then a warm-up sweep, not counted.
    await new Promise((resolve) => setTimeout(resolve, crowd ? 2_000 : WARM_AFTER_READ + 500));
    await sweep(cache, nextRound);
    await crowd?.mark();
    const runs: { wall: number; cpu: number }[] = [];
    for (let i = 0; i < SWEEPS; i++) runs.push(await sweep(cache, nextRound));
    const got = crowd ? await crowd.stop() : undefined;
    return {
      wall: median(runs.map((r) => r.wall)),
      cpu: median(runs.map((r) => r.cpu)),
      ...(got ? { got } : {}),
    };
  };
  console.log(
    `\n/api/events, ${fmt(PROVIDERS)} providers, every provider changing in every sweep, ${STREAMS} streams in another process (median of ${SWEEPS} sweeps; load average ${loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')})`,
  );
  const none = await measure(undefined);
  const each = await measure(url);
  const batched = await measure(`${url}?batch=1`);
  const light = await measure(`${url}?batch=1&fields=name,state,message`);
  const delta = await measure(`${url}?batch=1&delta=1`);
  const eachGzip = await measure(url, true);
  const batchedGzip = await measure(`${url}?batch=1`, true);
  const noneAgain = await measure(undefined);
  const base = { wall: (none.wall + noneAgain.wall) / 2, cpu: (none.cpu + noneAgain.cpu) / 2 };
  console.log(
    `  no stream                  : sweep ${fmt(base.wall)} ms, CPU ${fmt(base.cpu)} ms (mean of before and after: ${fmt(none.wall)}, ${fmt(noneAgain.wall)} ms)`,
  );
  for (const [label, run] of [
    ['100 streams, each change', each],
    ['100 streams, ?batch=1', batched],
    ['100, ?batch=1&fields=name,state,message', light],
    ['100 streams, ?batch=1&delta=1', delta],
    ['100 gzip streams, each change', eachGzip],
    ['100 gzip streams, ?batch=1', batchedGzip],
  ] as const) {
    const got = run.got!;
    console.log(
      `  ${label.padEnd(27)}: sweep ${fmt(run.wall)} ms (${fmt(run.wall / base.wall, 2)}x; goal <= 1.20), CPU ${fmt(run.cpu)} ms (${fmt(run.cpu / base.cpu, 2)}x); per stream per sweep ${fmt(got.events / got.decoded / SWEEPS, 1)} events, ${fmt(got.bytes / got.open / SWEEPS)} bytes (${got.open} open)`,
    );
  }
  handler.close();
  await stop(server);
}

/**
 * Whether the rate lost while sweeping is the server's doing or the
 * machine's: `GET /api/providers` with the cache quiet, against the same
 * with another process burning a quarter of a core in 1 s periods (about
 * what a sweep adds at 1 s polls), on CPU alone and touching 256 MB. Four
 * rounds each, alternated, so a drift of the machine lands on both.
 */
export async function contention(): Promise<void> {
  const SECONDS = 6;
  const ROUNDS = 4;
  const DUTY = 0.25;
  const { registry } = fleetRegistry();
  const cache = new HealthCache(registry, { pollInterval: 3_600_000 });
  await cache.checkNow();
  const handler = createHealthHandler(cache, { metrics: false });
  const server = http.createServer(handler);
  const url = `${await listen(server)}/api/providers`;
  console.log(
    `\nGET /api/providers, ${fmt(PROVIDERS)} providers, cache quiet, 10 gzip clients in another process, with and without a process burning ${DUTY * 100}% of a core (${ROUNDS} rounds of two ${SECONDS} s phases; load average ${loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')})`,
  );
  for (const memory of [false, true]) {
    const ratios: number[] = [];
    const rates: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const quiet = await loadFromAnotherProcess(url, SECONDS, 'gzip');
      const stopBurning = await burnInAnotherProcess(DUTY, memory);
      const burned = await loadFromAnotherProcess(url, SECONDS, 'gzip');
      stopBurning();
      ratios.push(burned.requests / quiet.requests);
      rates.push(`${fmt(quiet.requests / SECONDS)}/${fmt(burned.requests / SECONDS)}`);
    }
    console.log(
      `  ${(memory ? 'touching 256 MB' : 'CPU alone').padEnd(16)}: req/s without/with ${rates.join(', ')}; with / without ${fmt(median(ratios), 2)}x (median of ${ratios.map((r) => fmt(r, 2)).join(', ')})`,
    );
  }
  handler.close();
  await stop(server);
  cache.dispose();
}
