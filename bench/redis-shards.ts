// Sharded polling (shards: true) with replicas as separate processes, each
// checker burning ~1 ms of CPU (what a TLS handshake or a parse costs):
// - the wall time of a full sweep of 5,000 providers (a checkNow, which every
//   member runs on its share) with 1 and with 2 replica processes, in the same run;
// - Redis commands per check at 1, 2 and 4 replicas in steady polling
//   (INFO commandstats deltas over a window, divided by the checks made in it).
// Used by bench/redis.bench.ts (--shards runs this section alone).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { ShardReplicaConfig } from '../test/fixtures/shard-replica.js';
import { ReplicaProcess, SHARD_REPLICA_SCRIPT } from '../test/support/redis-replicas.js';

export const SHARD_PROVIDERS = 5_000;
const BURN_MS = 1;
/** Long enough that no scheduled check falls inside a timed sweep. */
const SWEEP_POLL = 600_000;
const SWEEP_TTL = 5_000;
/** Sweeps timed per replica count; the median and the best are reported (the best shows the split with the least interference). */
const SWEEPS = 5;
/** Steady polling for the commands figures: 2 s of CPU per interval in total, so a loaded machine keeps up. */
const STEADY_PROVIDERS = 2_000;
const STEADY_POLL = 10_000;
const STEADY_WINDOW = 20_000;

/** Figures of the sharded section. */
export interface ShardFigures {
  /** Median sweep wall time by replica count, ms. */
  readonly sweepMs: ReadonlyMap<number, number>;
  /** Best (shortest) sweep wall time by replica count, ms. */
  readonly bestMs: ReadonlyMap<number, number>;
  /** CPU time of the busiest replica during the median sweep, ms. */
  readonly sweepCpuMs: ReadonlyMap<number, number>;
  /** Commands per check by replica count: sent by the replicas, and including those inside scripts. */
  readonly perCheck: ReadonlyMap<number, { sent: number; all: number; checks: number; breakdown: string }>;
}

function spawnAll(
  url: string,
  key: string,
  n: number,
  poll: number,
  ttl: number,
  providers = SHARD_PROVIDERS,
): ReplicaProcess[] {
  return Array.from({ length: n }, (_, i) => {
    const config: ShardReplicaConfig = {
      redis: url,
      key,
      replicaId: `r${i}`,
      providers,
      pollInterval: poll,
      leaseTtl: ttl,
      checker: 'cpu',
      burnMs: BURN_MS,
      checkTimeout: Math.min(30_000, Math.floor(poll / 2)),
    };
    return ReplicaProcess.spawn(config, SHARD_REPLICA_SCRIPT);
  });
}

/** Waits until all are members of one set whose shares add up (and, `known`, every one knows every status). */
async function settle(replicas: readonly ReplicaProcess[], providers: number, known: boolean): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const shares = replicas.map((r) => r.messages.findLast((m) => m.type === 'share'));
    const split =
      shares.every((share) => share?.members?.length === replicas.length) &&
      shares.reduce((sum, share) => sum + (share?.size ?? 0), 0) === providers;
    if (split && !known) return;
    if (split) {
      const counts = await Promise.all(replicas.map((r) => r.ask({ type: 'count' }, 'count', 30_000)));
      if (counts.every((count) => (count as { known?: number }).known === providers)) return;
    }
    if (Date.now() > deadline) throw new Error('sharded replicas did not settle within 300 s');
    await sleep(250);
  }
}

async function stopAll(replicas: readonly ReplicaProcess[]): Promise<void> {
  await Promise.all(replicas.map((r) => r.stop(30_000)));
}

/** CPU time used by each replica so far, ms. */
async function cpuTimes(replicas: readonly ReplicaProcess[]): Promise<number[]> {
  const counts = await Promise.all(replicas.map((r) => r.ask({ type: 'count' }, 'count', 30_000)));
  return counts.map((count) => (count as { cpuMs?: number }).cpuMs ?? NaN);
}

/** Median wall time of a full sweep (checkNow on the first replica) with `n` replicas, and the busiest replica's CPU time in it. */
async function sweepTime(url: string, n: number): Promise<{ wall: number; cpu: number; best: number }> {
  const replicas = spawnAll(url, `bench-sweep-${n}-${process.pid}`, n, SWEEP_POLL, SWEEP_TTL);
  try {
    await settle(replicas, SHARD_PROVIDERS, true);
    await sleep(1_000);
    const runs: { wall: number; cpu: number }[] = [];
    for (let i = 0; i < SWEEPS; i++) {
      const before = await cpuTimes(replicas);
      const reply = await replicas[0]!.ask({ type: 'checkNow' }, 'checked', 120_000);
      const after = await cpuTimes(replicas);
      runs.push({ wall: reply.ms ?? NaN, cpu: Math.max(...after.map((ms, j) => ms - (before[j] ?? 0))) });
    }
    runs.sort((a, b) => a.wall - b.wall);
    return { ...runs[Math.floor(runs.length / 2)]!, best: runs[0]!.wall };
  } finally {
    await stopAll(replicas);
  }
}

async function checksMade(replicas: readonly ReplicaProcess[]): Promise<number> {
  const counts = await Promise.all(replicas.map((r) => r.ask({ type: 'count' }, 'count', 30_000)));
  return counts.reduce((sum, count) => sum + (count.checks ?? 0), 0);
}

/** Redis commands per check in steady polling with `n` replicas. */
async function commandsPerCheck(
  url: string,
  redis: Redis,
  n: number,
  stats: (redis: Redis) => Promise<Map<string, number>>,
  insideScripts: ReadonlySet<string>,
): Promise<{ sent: number; all: number; checks: number; breakdown: string }> {
  const key = `bench-steady-${n}-${process.pid}`;
  const replicas = spawnAll(url, key, n, STEADY_POLL, STEADY_POLL, STEADY_PROVIDERS);
  try {
    await settle(replicas, STEADY_PROVIDERS, false);
    await sleep(STEADY_POLL);
    const before = await stats(redis);
    const checks0 = await checksMade(replicas);
    await sleep(STEADY_WINDOW);
    const checks = (await checksMade(replicas)) - checks0;
    const after = await stats(redis);
    let all = 0;
    let sent = 0;
    const parts: string[] = [];
    for (const [command, count] of after) {
      const delta = count - (before.get(command) ?? 0) - (command === 'info' ? 1 : 0);
      if (delta <= 0) continue;
      all += delta;
      if (!insideScripts.has(command)) sent += delta;
      parts.push(`${command} ${(delta / checks).toFixed(3)}`);
    }
    return { sent: sent / checks, all: all / checks, checks, breakdown: parts.sort().join(', ') };
  } finally {
    await stopAll(replicas);
  }
}

/** Runs the sharded section against the redis-server at `url`. */
export async function shardFigures(
  url: string,
  redis: Redis,
  stats: (redis: Redis) => Promise<Map<string, number>>,
  insideScripts: ReadonlySet<string>,
): Promise<ShardFigures> {
  const sweepMs = new Map<number, number>();
  const sweepCpuMs = new Map<number, number>();
  const bestMs = new Map<number, number>();
  for (const n of [1, 2]) {
    const { wall, cpu, best } = await sweepTime(url, n);
    sweepMs.set(n, wall);
    bestMs.set(n, best);
    sweepCpuMs.set(n, cpu);
    console.log(
      `  (sweep with ${n} replica(s): ${Math.round(wall)} ms, busiest replica ${Math.round(cpu)} ms of CPU)`,
    );
  }
  const perCheck = new Map<number, { sent: number; all: number; checks: number; breakdown: string }>();
  for (const n of [1, 2, 4]) perCheck.set(n, await commandsPerCheck(url, redis, n, stats, insideScripts));
  return { sweepMs, bestMs, sweepCpuMs, perCheck };
}

/** Prints the figures. */
export function printShards(figures: ShardFigures, load: string): void {
  const fmt = (n: number, digits = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: digits });
  const one = figures.sweepMs.get(1) ?? NaN;
  const two = figures.sweepMs.get(2) ?? NaN;
  console.log(
    `Sharded polling: ${fmt(SHARD_PROVIDERS, 0)} providers, each check burning ${BURN_MS} ms of CPU, replicas as processes (${load})`,
  );
  console.log(
    `  full sweep (checkNow, median of ${SWEEPS}): 1 replica ${fmt(one, 0)} ms, 2 replicas ${fmt(two, 0)} ms: ${fmt(one / two, 2)}x`,
  );
  const bestOne = figures.bestMs.get(1) ?? NaN;
  const bestTwo = figures.bestMs.get(2) ?? NaN;
  console.log(
    `  full sweep, best of ${SWEEPS}: 1 replica ${fmt(bestOne, 0)} ms, 2 replicas ${fmt(bestTwo, 0)} ms: ${fmt(bestOne / bestTwo, 2)}x`,
  );
  const cpuOne = figures.sweepCpuMs.get(1) ?? NaN;
  const cpuTwo = figures.sweepCpuMs.get(2) ?? NaN;
  console.log(
    `  CPU time of the busiest replica in that sweep: ${fmt(cpuOne, 0)} ms vs ${fmt(cpuTwo, 0)} ms: ${fmt(cpuOne / cpuTwo, 2)}x (the ratio an idle 2-core machine would approach)`,
  );
  console.log(
    `  Redis commands per check, steady polling (${fmt(STEADY_PROVIDERS, 0)} providers, pollInterval ${fmt(STEADY_POLL, 0)} ms, ${fmt(STEADY_WINDOW / 1000, 0)} s window):`,
  );
  for (const [n, row] of figures.perCheck) {
    console.log(
      `    ${n} replica(s): ${fmt(row.sent, 3)} sent, ${fmt(row.all, 3)} incl. inside scripts (${fmt(row.checks, 0)} checks)`,
    );
    console.log(`      by command: ${row.breakdown}`);
  }
  console.log('');
}
