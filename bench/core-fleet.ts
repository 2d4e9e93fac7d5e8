// Fleet-scale core benchmarks (issue 10), each beside its baseline in the same run: the core
// as it was before issue 10 (extracted from git at BASELINE_COMMIT) and the current one.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { HealthCache, HealthCacheOptions, ProviderRegistry } from '../src/index.js';

/** The last commit before issue 10's core changes (bounded snapshots, yielding sweeps). */
const BASELINE_COMMIT = 'a3c2692';

/** The two classes a bench needs, from one version of the core. */
interface Core {
  readonly label: string;
  readonly HealthCache: new (registry: ProviderRegistry, options?: HealthCacheOptions) => HealthCache;
  readonly ProviderRegistry: new () => ProviderRegistry;
}

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');

async function importCore(dir: string, label: string): Promise<Core> {
  const cacheModule = (await import(pathToFileURL(join(dir, 'health-cache.ts')).href)) as Pick<
    Core,
    'HealthCache'
  >;
  const registryModule = (await import(pathToFileURL(join(dir, 'registry.ts')).href)) as Pick<
    Core,
    'ProviderRegistry'
  >;
  return { label, HealthCache: cacheModule.HealthCache, ProviderRegistry: registryModule.ProviderRegistry };
}

/** The current core and, when git can provide it, the baseline. */
async function cores(): Promise<Core[]> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const current = await importCore(join(root, 'src'), 'now');
  const dir = join(tmpdir(), `provider-health-core-${BASELINE_COMMIT}`);
  try {
    if (!existsSync(join(dir, 'src', 'health-cache.ts'))) {
      mkdirSync(dir, { recursive: true });
      const archive = execFileSync('git', ['-C', root, 'archive', BASELINE_COMMIT, 'src'], {
        maxBuffer: 64 * 2 ** 20,
      });
      execFileSync('tar', ['-x', '-C', dir], { input: archive });
    }
    return [await importCore(join(dir, 'src'), `before (${BASELINE_COMMIT})`), current];
  } catch (error) {
    console.log(`  (no baseline: ${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
    return [current];
  }
}

function registryOf(core: Core, count: number, check: () => unknown): ProviderRegistry {
  const registry = new core.ProviderRegistry();
  for (let i = 0; i < count; i++)
    registry.register(`provider-${String(i).padStart(6, '0')}`, { healthCheck: check });
  return registry;
}

/** CPU (user + system) of one `checkNow` sweep, in ms. */
async function sweepCpu(cache: HealthCache): Promise<number> {
  const before = process.cpuUsage();
  await cache.checkNow();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1_000;
}

const fiveMs = () => sleep(5).then(() => ({ healthy: true }));

/**
 * 100,000 providers answering in 5 ms, concurrency 500: a sweep's CPU with
 * nobody reading, and with `snapshot()` called every millisecond.
 */
async function benchSnapshotReaders(): Promise<void> {
  const count = 100_000;
  console.log(
    `snapshot() every ms during a sweep: ${fmt(count, 0)} providers x 5 ms checks, concurrency 500`,
  );
  console.log(`  load average ${load()}`);
  for (const core of await cores()) {
    const variants: [string, HealthCacheOptions][] =
      core.label === 'now'
        ? [
            ['now, snapshotInterval 100 (default)', {}],
            ['now, snapshotInterval 0', { snapshotInterval: 0 }],
          ]
        : [[core.label, {}]];
    for (const [label, options] of variants) {
      const cache = new core.HealthCache(registryOf(core, count, fiveMs), {
        pollInterval: 600_000,
        checkTimeout: 5_000,
        concurrency: 500,
        ...options,
      });
      await cache.checkNow(); // warm-up: every provider has a status, as in a running service
      const quiet = await sweepCpu(cache);
      let reads = 0;
      const reader = setInterval(() => {
        cache.snapshot();
        reads++;
      }, 1);
      const read = await sweepCpu(cache);
      clearInterval(reader);
      console.log(
        `  ${label.padEnd(38)} no readers ${fmt(quiet, 0)} ms CPU; with readers ${fmt(read, 0)} ms (${fmt(reads, 0)} reads); ratio ${fmt(read / quiet, 2)} (goal <= 1.5)`,
      );
      cache.dispose();
    }
  }
}

/**
 * CPU per check of one sweep at 1,000, 10,000 and 100,000 providers (checkers
 * answering at once). Three rounds, each measuring every size with every core
 * in turn (a fresh cache each time, collected after), and the best of the
 * rounds per size: this machine's speed drifts over seconds, and measuring
 * the sizes one after another let a slow stretch land on one size alone.
 */
async function benchLinear(): Promise<void> {
  const sizes = [1_000, 10_000, 100_000];
  console.log(
    `CPU per check by fleet size (checkers answering at once, concurrency 500, best of 3 interleaved rounds)`,
  );
  console.log(`  load average ${load()}`);
  const all = await cores();
  const best = all.map(() => sizes.map(() => Infinity));
  for (let round = 0; round < 3; round++) {
    for (const [s, size] of sizes.entries()) {
      for (const [c, core] of all.entries()) {
        const cache = new core.HealthCache(
          registryOf(core, size, async () => ({ healthy: true })),
          { pollInterval: 600_000, concurrency: 500 },
        );
        await cache.checkNow();
        // Small fleets are swept several times, so every measurement is about 100,000 checks.
        const sweeps = Math.max(1, 100_000 / size);
        let cpu = 0;
        for (let i = 0; i < sweeps; i++) cpu += await sweepCpu(cache);
        best[c]![s] = Math.min(best[c]![s]!, (cpu * 1_000) / (sweeps * size));
        cache.dispose();
        globalThis.gc?.();
      }
    }
  }
  for (const [c, core] of all.entries()) {
    const perCheck = best[c]!;
    const [first = 1, , last = 1] = perCheck;
    console.log(
      `  ${core.label.padEnd(18)} ${sizes.map((s, i) => `${fmt(s, 0)}: ${fmt(perCheck[i] ?? 0, 1)} µs`).join(', ')}; 100,000 vs 1,000 ratio ${fmt(last / first, 2)} (goal <= 1.2)`,
    );
  }
}

/** Event-loop turns during one sweep of 10,000 checkers that answer synchronously. */
async function benchTurns(): Promise<void> {
  const count = 10_000;
  console.log(`event-loop turns during a sweep of ${fmt(count, 0)} synchronous checkers (concurrency 16)`);
  console.log(`  load average ${load()}`);
  for (const core of await cores()) {
    const cache = new core.HealthCache(
      registryOf(core, count, () => ({ healthy: true })),
      { pollInterval: 600_000 },
    );
    await cache.checkNow();
    let turns = 0;
    let longest = 0;
    let last = performance.now();
    let sweeping = true;
    const turn = (): void => {
      if (!sweeping) return;
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      turns++;
      setImmediate(turn);
    };
    setImmediate(turn);
    const start = performance.now();
    const statuses = await cache.checkNow();
    sweeping = false;
    const wall = performance.now() - start;
    longest = Math.max(longest, performance.now() - last);
    console.log(
      `  ${core.label.padEnd(18)} sweep ${fmt(wall, 0)} ms, ${fmt(turns, 0)} turns, longest without a turn ${fmt(longest, 1)} ms, ${fmt(statuses.length, 0)} statuses`,
    );
    cache.dispose();
  }
}

/** The fleet sections of `bench/core.bench.ts`. */
export const fleetSections: Record<string, () => Promise<void>> = {
  turns: benchTurns,
  'snapshot-readers': benchSnapshotReaders,
  linear: benchLinear,
};
