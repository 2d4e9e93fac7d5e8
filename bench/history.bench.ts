// History benchmarks (issue 13): the cost of the 24h/7d/30d windows on the record path (ring alone
// against ring + windows, interleaved in one run, and whether a push allocates), memory per provider
// at 10,000 providers, and the state file at 10,000 providers with 30 days of results each (bytes per
// provider, save and load time). Run with `npm run bench history` (which passes --expose-gc).
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { HealthCache, ProviderRegistry } from '../src/index.js';
import type { Logger } from '../src/cli/logger.js';
import { keepHistory } from '../src/cli/history-state.js';
import { savedEntry } from '../src/cli/history-file.js';
import { ProviderHistory } from '../src/history-keeper.js';
import { HistoryRing } from '../src/history.js';
import { FileStateStore } from '../src/state/file-state-store.js';
import { ManualClock } from '../src/testing/index.js';
import { UptimeWindows } from '../src/uptime-windows.js';

const gc = (globalThis as { gc?: () => void }).gc;
const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const T0 = Date.UTC(2026, 2, 2);
const STATES = ['healthy', 'healthy', 'degraded', 'healthy', 'unhealthy'] as const;

/** The JS heap and the typed arrays' backing stores (outside the heap beyond 64 bytes). */
function heapUsed(): number {
  gc?.();
  gc?.();
  const { heapUsed: heap, arrayBuffers } = process.memoryUsage();
  return heap + arrayBuffers;
}

/** Minor and major GCs while `fn` runs (0 for code that allocates nothing on the heap). */
async function gcsDuring(fn: () => void): Promise<number> {
  let count = 0;
  let from = Infinity;
  let to = Infinity;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (entry.startTime >= from && entry.startTime <= to) count++;
  });
  observer.observe({ entryTypes: ['gc'] });
  gc?.();
  from = performance.now();
  fn();
  to = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 100));
  observer.disconnect();
  return count;
}

/** ns per result pushed into 1,000 histories, best of 7 interleaved rounds each. */
async function benchRecordPath(): Promise<void> {
  const providers = 1_000;
  const perRound = 2_000_000;
  const rings = Array.from({ length: providers }, () => new HistoryRing(60));
  const histories = Array.from({ length: providers }, () => new ProviderHistory(60));
  // Results a minute apart per provider, so the windows move through hours and days as in service.
  const ringOnly = (base: number) => {
    for (let i = 0; i < perRound; i++) {
      const at = T0 + base + Math.floor(i / providers) * MINUTE;
      rings[i % providers]!.push(at, 5 + (i % 40), STATES[i % 5]!, false);
    }
  };
  const withWindows = (base: number) => {
    for (let i = 0; i < perRound; i++) {
      const at = T0 + base + Math.floor(i / providers) * MINUTE;
      histories[i % providers]!.push(at, 5 + (i % 40), STATES[i % 5]!, false);
    }
  };
  let best = { ring: Infinity, windows: Infinity };
  for (let round = 0; round < 8; round++) {
    const base = round * (perRound / providers) * MINUTE;
    for (const [name, fn] of [
      ['ring', ringOnly],
      ['windows', withWindows],
    ] as const) {
      const start = process.hrtime.bigint();
      fn(base);
      const ns = Number(process.hrtime.bigint() - start) / perRound;
      if (round > 0) best = { ...best, [name]: Math.min(best[name], ns) };
    }
  }
  console.log('record path: one result into the history (1,000 providers, results a minute apart)');
  console.log(
    `  ring alone ${fmt(best.ring, 1)} ns; ring + 24h/7d/30d windows ${fmt(best.windows, 1)} ns (+${fmt(best.windows - best.ring, 1)} ns, ${fmt(best.windows / best.ring, 2)}x)`,
  );
  // Times as small integers (ms since 1970): a fresh non-integer-sized double would be boxed by the
  // loop itself on each call; the cache passes a result's existing time, so nothing new there either.
  const history = new ProviderHistory(60);
  const gcs = await gcsDuring(() => {
    for (let i = 0; i < 5_000_000; i++) history.push(i * 200, i % 300, STATES[i % 5]!, false);
  });
  console.log(`  GCs during 5,000,000 pushes (ring + windows) over 11 days of results: ${gcs}`);

  // The whole check path, for scale: a sweep of 10,000 synchronous checkers.
  const registry = new ProviderRegistry();
  for (let i = 0; i < 10_000; i++)
    registry.register(`p${i}`, { healthCheck: () => Promise.resolve({ healthy: true }) });
  const cache = new HealthCache(registry, { concurrency: Infinity });
  await cache.checkNow();
  let sweep = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    await cache.checkNow();
    sweep = Math.min(sweep, Number(process.hrtime.bigint() - start) / 1e6);
  }
  console.log(
    `  for scale: a whole check (sweep of 10,000 synchronous checkers) ${fmt((sweep * 1e6) / 10_000, 0)} ns per provider (best of 5)`,
  );
}

/** Heap per provider: windows alone, ring alone, both (as each cache entry holds them), and a whole cache entry. */
async function benchMemory(): Promise<void> {
  if (!gc) console.log('memory: run with --expose-gc for exact figures');
  const count = 10_000;
  const perProvider = (make: () => unknown): number => {
    const base = heapUsed();
    const kept = Array.from({ length: count }, make);
    const used = heapUsed() - base;
    if (kept.length !== count) throw new Error('unreachable');
    return used / count;
  };
  const windows = perProvider(() => {
    const w = new UptimeWindows();
    w.push(T0, 5, 'healthy');
    return w;
  });
  const ring = perProvider(() => new HistoryRing(60));
  const both = perProvider(() => new ProviderHistory(60));
  console.log(`memory per provider at ${fmt(count, 0)} providers (heap delta / n)`);
  console.log(
    `  UptimeWindows ${fmt(windows, 0)} B (${UptimeWindows.BYTES} B of buckets); HistoryRing(60) ${fmt(ring, 0)} B; both, as an entry keeps them, ${fmt(both, 0)} B`,
  );
  const registry = new ProviderRegistry();
  for (let i = 0; i < count; i++)
    registry.register(`p${i}`, { healthCheck: () => Promise.resolve({ healthy: true }) });
  const cache = new HealthCache(registry, { concurrency: Infinity });
  const before = heapUsed();
  for (let i = 0; i < 60; i++) await cache.checkNow();
  const after = heapUsed();
  console.log(`  whole cache entry (status, 60 samples, windows) ${fmt((after - before) / count, 0)} B`);
}

/** 30 days of results every 30 s for one provider, exported: what each of the 10,000 is given. */
function monthOfHistory() {
  const windows = new UptimeWindows();
  const ring = new ProviderHistory(60);
  for (let at = T0; at < T0 + 30 * DAY; at += 30_000) {
    const state = STATES[(at / 30_000) % 5]!;
    windows.push(at, 12 + ((at / 30_000) % 7), state);
    ring.push(at, 12 + ((at / 30_000) % 7), state, false);
  }
  const exported = ring.export();
  return { samples: exported.samples, windows: windows.toBytes() };
}

const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

async function benchStateFile(): Promise<void> {
  const count = 10_000;
  const history = monthOfHistory();
  const now = T0 + 30 * DAY;
  const registry = new ProviderRegistry();
  for (let i = 0; i < count; i++) registry.register(`provider-${String(i).padStart(5, '0')}`, {});
  const clock = new ManualClock(now);
  const cache = new HealthCache(registry, { clock, staleAfter: 2 * DAY });
  const dir = await mkdtemp(join(tmpdir(), 'provider-health-bench-history-'));
  const store = await FileStateStore.open(join(dir, 'state.json'));
  // Following the cache before the results come, as serve does.
  const keeper = await keepHistory(cache, store, quiet, { clock, interval: 3_600_000 });
  const status = {
    name: '',
    healthy: true,
    message: 'HTTP 200 OK in 12 ms',
    latency: 12,
    checkedAt: new Date(now - 30_000),
    state: 'healthy' as const,
    stale: false,
    consecutiveFailures: 0,
    consecutiveSuccesses: 3,
    lastSuccessAt: new Date(now - 30_000),
    lastFailureAt: new Date(now - 120_000),
    lastTransitionAt: new Date(now - 90_000),
    history: {
      samples: 60,
      uptime: 0.8,
      latencyP50: 15,
      latencyP95: 18,
      uptimeExcludingSilenced: 0.8,
      silencedSamples: 0,
    },
    details: undefined,
    labels: {},
    dependsOn: [],
    blockedBy: [],
    silencedBy: [],
  };
  for (const name of registry.names()) {
    cache.importHistory(name, history);
    cache.restore({ ...status, name });
  }
  const one = savedEntry(
    'provider-00000',
    cache.get('provider-00000'),
    cache.exportHistory('provider-00000'),
  );
  console.log(`state file at ${fmt(count, 0)} providers, 30 days of results every 30 s, historySize 60`);
  console.log(
    `  one provider saved: ${fmt(one.bytes, 0)} B (windows ${history.windows.byteLength} B, samples and status the rest; base64 adds a third)`,
  );
  try {
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    let start = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    await keeper.close();
    const saveMs = Number(process.hrtime.bigint() - start) / 1e6;
    const saveCpu = process.cpuUsage(cpu);
    delay.disable();
    const size = (await stat(join(dir, 'state.json'))).size;
    const index = (await store.get('history')) as { providers: number; parts: number };
    console.log(
      `  save: ${fmt(size / 2 ** 20, 2)} MiB in ${index.parts} parts, ${fmt(index.providers, 0)} of ${fmt(count, 0)} providers kept (24 MiB budget); ${fmt(saveMs, 0)} ms wall, ${fmt((saveCpu.user + saveCpu.system) / 1000, 0)} ms CPU, longest event-loop delay ${fmt(delay.max / 1e6, 0)} ms`,
    );
    const fresh = new HealthCache(registry, { clock, staleAfter: 2 * DAY });
    start = process.hrtime.bigint();
    const reopened = await FileStateStore.open(join(dir, 'state.json'));
    const loader = await keepHistory(fresh, reopened, quiet, { clock, interval: 3_600_000 });
    const loadMs = Number(process.hrtime.bigint() - start) / 1e6;
    loader.dispose();
    const restored = registry.names().filter((name) => fresh.get(name) !== undefined).length;
    console.log(
      `  load (open, parse, import, restore): ${fmt(loadMs, 0)} ms wall, ${fmt(restored, 0)} statuses restored`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await benchRecordPath();
await benchMemory();
await benchStateFile();
