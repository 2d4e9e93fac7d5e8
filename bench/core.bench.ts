// Core benchmarks: read cost against a bare Map, snapshot cost independent of size,
// sweep throughput and event-loop delay, reads causing no checks, memory, secret scrubbing, and
// the fleet-scale sections of core-fleet.ts (turns during a sweep, snapshot readers, CPU per check)
// and of core-organise.ts (a sweep with labels, dependencies and silences against one without).
// Run with `npm run bench` (which passes --expose-gc).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { HealthCache, ProviderRegistry, redactSecrets, type HealthReport } from '../src/index.js';
import { cleanMessage } from '../src/messages.js';
import { fleetSections } from './core-fleet.js';
import { organiseSections } from './core-organise.js';

const gc = (globalThis as { gc?: () => void }).gc;
const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

/** Nanoseconds per call of `fn` over `keys`, best of `rounds` (the least disturbed run). */
function timePerCall(
  keys: readonly string[],
  fn: (key: string) => unknown,
  iterations: number,
  rounds = 7,
): number {
  let best = Infinity;
  let sink = 0;
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) if (fn(keys[i % keys.length]!) !== undefined) sink++;
    const ns = Number(process.hrtime.bigint() - start) / iterations;
    if (round > 0) best = Math.min(best, ns); // round 0 warms up the JIT
  }
  if (sink === -1) console.log(sink);
  return best;
}

function healthyRegistry(count: number): ProviderRegistry {
  const registry = new ProviderRegistry();
  for (let i = 0; i < count; i++)
    registry.register(`provider-${i}`, { healthCheck: async () => ({ healthy: true }) });
  return registry;
}

/** A cache that has checked every provider once and is polling (an hour apart), as in a service. */
async function pollingCache(count: number) {
  const registry = healthyRegistry(count);
  const cache = new HealthCache(registry, { pollInterval: 3_600_000, concurrency: Infinity });
  const stop = new AbortController();
  const swept = new Promise<void>((resolve) => cache.onSweep(() => resolve()));
  const running = cache.run(stop.signal);
  await swept;
  return { registry, cache, stop: async () => (stop.abort(), await running) };
}

async function benchGet(): Promise<void> {
  const { registry, cache, stop } = await pollingCache(10_000);
  const keys = registry.names();
  const map = new Map(keys.map((k) => [k, cache.get(k)]));
  const iterations = 20_000_000;
  // Interleaved rounds, so that a disturbance hits all three alike.
  const bare = timePerCall(keys, (k) => map.get(k), iterations);
  const polling = timePerCall(keys, (k) => cache.get(k), iterations);
  await stop();
  // Reads have no side effects: without a running poller, get() is the same Map lookup.
  const idle = timePerCall(keys, (k) => cache.get(k), iterations);
  const bare2 = timePerCall(keys, (k) => map.get(k), iterations);
  const base = Math.min(bare, bare2);
  console.log(`get() vs Map.get, 10,000 keys`);
  console.log(`  Map.get               ${fmt(base, 2)} ns/op`);
  console.log(
    `  get() while polling   ${fmt(polling, 2)} ns/op   ratio ${fmt(polling / base, 2)} (goal <= 1.25)`,
  );
  console.log(`  get() after run ended ${fmt(idle, 2)} ns/op   ratio ${fmt(idle / base, 2)} (goal <= 1.25)`);
}

async function benchSnapshot(): Promise<void> {
  const small = await pollingCache(10);
  const large = await pollingCache(100_000);
  const keys = ['x'];
  small.cache.snapshot();
  large.cache.snapshot();
  const iterations = 20_000_000;
  const tSmall = timePerCall(keys, () => small.cache.snapshot(), iterations);
  const tLarge = timePerCall(keys, () => large.cache.snapshot(), iterations);
  await small.stop();
  await large.stop();
  console.log(`snapshot() between changes`);
  console.log(`  10 providers          ${fmt(tSmall, 2)} ns/op`);
  console.log(
    `  100,000 providers     ${fmt(tLarge, 2)} ns/op   ratio ${fmt(tLarge / tSmall, 2)} (goal <= 2: no copy)`,
  );
}

async function benchSweep(): Promise<void> {
  const registry = new ProviderRegistry();
  const count = 10_000;
  const checkMs = 20;
  const concurrency = 100;
  for (let i = 0; i < count; i++) {
    registry.register(`p${i}`, {
      healthCheck: async (signal: AbortSignal): Promise<HealthReport> => {
        await sleep(checkMs, undefined, { signal });
        return { healthy: true };
      },
    });
  }
  const cache = new HealthCache(registry, { pollInterval: 60_000, checkTimeout: 1_000, concurrency });
  await cache.checkNow(); // warm-up sweep
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const start = performance.now();
  await cache.checkNow();
  const wall = performance.now() - start;
  delay.disable();
  const ideal = (count / concurrency) * checkMs;
  console.log(`one sweep: ${fmt(count, 0)} providers x ${checkMs} ms checks, concurrency ${concurrency}`);
  console.log(
    `  wall ${fmt(wall, 0)} ms, ideal ${fmt(ideal, 0)} ms, ratio ${fmt(wall / ideal, 3)} (goal <= 1.15)`,
  );
  console.log(
    `  event-loop delay p99 ${fmt(delay.percentile(99) / 1e6, 2)} ms, max ${fmt(delay.max / 1e6, 2)} ms (goal p99 < 20 ms)`,
  );
}

async function benchReadersCauseNoChecks(): Promise<void> {
  const registry = new ProviderRegistry();
  const calls = new Map<string, number>();
  for (let i = 0; i < 100; i++) {
    const name = `p${i}`;
    registry.register(name, { healthCheck: async () => void calls.set(name, (calls.get(name) ?? 0) + 1) });
  }
  const cache = new HealthCache(registry, { pollInterval: 50, checkTimeout: 25 });
  const stop = new AbortController();
  let sweeps = 0;
  cache.onSweep(() => {
    if (++sweeps === 10) stop.abort();
  });
  const running = cache.run(stop.signal);
  const names = registry.names();
  let reads = 0;
  while (!stop.signal.aborted || reads < 1_000_000) {
    for (let i = 0; i < 2_000; i++, reads++) {
      if (i % 2 === 0) cache.get(names[i % names.length]!);
      else cache.snapshot();
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  await running;
  const counts = new Set(calls.values());
  console.log(`readers cause no checks: ${fmt(reads, 0)} get/snapshot calls during ${sweeps} sweeps`);
  console.log(
    `  calls per checker: ${[...counts].join(', ')} (expected exactly 10 for each of ${calls.size})`,
  );
}

function heapUsed(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

async function benchMemory(): Promise<void> {
  if (!gc) console.log('memory: run with --expose-gc for exact figures');
  const count = 10_000;
  const base = heapUsed();
  const registry = healthyRegistry(count);
  const cache = new HealthCache(registry, { concurrency: Infinity });
  const afterRegistry = heapUsed();
  for (let i = 0; i < 60; i++) await cache.checkNow(); // fill the default history of 60
  const full = heapUsed();
  console.log(`memory per provider (default history of 60, full)`);
  console.log(
    `  registry entry ${fmt((afterRegistry - base) / count, 0)} B; cache entry with status and history ${fmt((full - afterRegistry) / count, 0)} B`,
  );

  const small = new HealthCache(healthyRegistry(1_000), { concurrency: Infinity });
  for (let i = 0; i < 100; i++) await small.checkNow();
  const after100 = heapUsed();
  for (let i = 100; i < 10_000; i++) await small.checkNow();
  const after10k = heapUsed();
  console.log(`heap after 10,000 sweeps of 1,000 providers vs after 100`);
  console.log(
    `  ${fmt(after100 / 2 ** 20, 1)} MiB -> ${fmt(after10k / 2 ** 20, 1)} MiB (growth ${fmt((after10k - after100) / 2 ** 20, 2)} MiB)`,
  );
}

async function benchRedaction(): Promise<void> {
  console.log('secret scrubbing of "a.a.a…" messages (the input that was quadratic)');
  for (const size of [10_000, 20_000, 40_000, 80_000]) {
    const message = 'a.'.repeat(size / 2);
    const redact = timeOnce(() => redactSecrets(message));
    const clean = timeOnce(() => cleanMessage(message, 1_024));
    console.log(
      `  ${fmt(size, 0).padStart(6)} chars: redactSecrets ${fmt(redact, 3)} ms, cleanMessage (cap 1,024) ${fmt(clean, 3)} ms`,
    );
  }
}

/** Best of 5 runs of `fn`, in ms. */
function timeOnce(fn: () => unknown): number {
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    fn();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

const sections: Record<string, () => Promise<void>> = {
  get: benchGet,
  snapshot: benchSnapshot,
  sweep: benchSweep,
  readers: benchReadersCauseNoChecks,
  memory: benchMemory,
  redaction: benchRedaction,
  ...fleetSections,
  ...organiseSections,
};
// `node --import tsx bench/core.bench.ts get snapshot` runs only those sections.
const chosen = process.argv.slice(2);
console.log(`provider-health core benchmarks (node ${process.version})\n`);
for (const [name, section] of Object.entries(sections)) {
  if (chosen.length === 0 || chosen.includes(name)) await section();
}
