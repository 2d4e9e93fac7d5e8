// Shared polling through Redis: control-plane calls and Redis commands per
// poll interval for 1, 3 and 10 replicas, against the same replicas each
// polling on its own (no Redis) measured in the same run. Redis commands are
// counted from `INFO commandstats` deltas on a redis-server this bench starts
// on a free loopback port (and stops). Bounded to well under 90 s.
// Then a follower's reload per lease round at 1,000 and 10,000 providers (bench/redis-reload.ts),
// and sharded polling (bench/redis-shards.ts): the sweep wall time of 5,000 CPU-bound providers
// with 2 replica processes vs 1, and Redis commands per check at 1, 2 and 4 replicas.
// Run: node --import tsx bench/redis.bench.ts [--reload | --shards] (either: that section alone)
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { HealthCache, ProviderRegistry, type HealthView } from '../src/index.js';
import { SharedHealthCache } from '../src/redis/index.js';
import { RedisServer } from '../test/support/redis-server.js';
import { loadavg } from 'node:os';
import { reloadCost, type ReloadFigures } from './redis-reload.js';
import { printShards, shardFigures, type ShardFigures } from './redis-shards.js';

const PROVIDERS = 100;
const POLL = 500;
const INTERVALS = 12;
const REPLICAS = [1, 3, 10] as const;
/** Commands only the Lua scripts issue (and PUBLISH, which only the write script sends here). */
const INSIDE_SCRIPTS = new Set([
  'get',
  'set',
  'incr',
  'pttl',
  'pexpire',
  'zadd',
  'zrange',
  'zscore',
  'zrem',
  'zremrangebyscore',
  'hget',
  'hset',
  'hmget',
  'hvals',
  'type',
  'time',
  'del',
  'publish',
]);

const fmt = (n: number, digits = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: digits });

/** One replica's registry; every call of every checker lands in `calls`. */
function registry(calls: { count: number }): ProviderRegistry {
  const providers = new ProviderRegistry();
  for (let i = 0; i < PROVIDERS; i++) {
    providers.register(`provider-${i}`, {
      healthCheck: async () => {
        calls.count++;
        return { healthy: true };
      },
    });
  }
  return providers;
}

async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const stats = new Map<string, number>();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (match?.[1] && match[2]) stats.set(match[1], Number(match[2]));
  }
  return stats;
}

interface Measure {
  callsPerInterval: number;
  commandsPerInterval: number;
  sentPerInterval: number;
  breakdown: string;
}

/** Runs `caches` until settled, then counts over INTERVALS intervals. */
async function measure(
  caches: readonly HealthView[],
  run: (signal: AbortSignal) => Promise<void>[],
  calls: { count: number },
  redis: Redis | undefined,
  settled: () => boolean,
): Promise<Measure> {
  const stop = new AbortController();
  const running = run(stop.signal);
  const deadline = Date.now() + 20_000;
  while (!settled() || caches.some((cache) => cache.snapshot().length < PROVIDERS)) {
    if (Date.now() > deadline) throw new Error('replicas did not settle within 20 s');
    await sleep(25);
  }
  await sleep(2 * POLL);
  // An interval is one poll cycle: full sweeps of the busiest replica within the window.
  const sweeps = caches.map(() => 0);
  const subscriptions = caches.map((cache, i) =>
    cache.onSweep((sweep) => {
      if (sweep.full) sweeps[i] = (sweeps[i] ?? 0) + 1;
    }),
  );
  const before = redis ? await commandStats(redis) : new Map<string, number>();
  const calls0 = calls.count;
  sweeps.fill(0);
  await sleep(INTERVALS * POLL);
  const callsInWindow = calls.count - calls0;
  const after = redis ? await commandStats(redis) : new Map<string, number>();
  const intervals = Math.max(1, ...sweeps);
  for (const subscription of subscriptions) subscription.dispose();
  const callsPerInterval = callsInWindow / intervals;
  stop.abort();
  await Promise.all(running);
  let total = 0;
  let sent = 0;
  const parts: string[] = [];
  for (const [command, count] of after) {
    // Our own INFO between the two readings is not the replicas'.
    const delta = count - (before.get(command) ?? 0) - (command === 'info' ? 1 : 0);
    if (delta <= 0) continue;
    total += delta;
    if (!INSIDE_SCRIPTS.has(command)) sent += delta;
    parts.push(`${command} ${fmt(delta / intervals)}`);
  }
  return {
    callsPerInterval,
    commandsPerInterval: total / intervals,
    sentPerInterval: sent / intervals,
    breakdown: parts.sort().join(', '),
  };
}

async function main(): Promise<void> {
  const began = Date.now();
  const server = await RedisServer.start();
  const redis = new Redis(server.url, { lazyConnect: true });
  redis.on('error', () => {});
  await redis.connect();
  const rows: string[][] = [];
  const breakdowns: string[] = [];
  const reloads: ReloadFigures[] = [];
  const reloadOnly = process.argv.includes('--reload');
  const shardsOnly = process.argv.includes('--shards');
  let shards: ShardFigures | undefined;
  try {
    for (const n of reloadOnly || shardsOnly ? [] : REPLICAS) {
      // Baseline: n replicas, each polling on its own, no Redis.
      const localCalls = { count: 0 };
      const local = Array.from(
        { length: n },
        () => new HealthCache(registry(localCalls), { pollInterval: POLL }),
      );
      const alone = await measure(
        local,
        (signal) => local.map((cache) => cache.run(signal)),
        localCalls,
        undefined,
        () => true,
      );

      const sharedCalls = { count: 0 };
      const key = `bench-${n}`;
      const shared = Array.from(
        { length: n },
        (_, i) =>
          new SharedHealthCache(registry(sharedCalls), {
            redis: server.url,
            key,
            replicaId: `replica-${i}`,
            pollInterval: POLL,
          }),
      );
      const together = await measure(
        shared,
        (signal) => shared.map((cache) => cache.run(signal)),
        sharedCalls,
        redis,
        () =>
          shared.filter((cache) => cache.role === 'leader').length === 1 &&
          shared.every((cache) => cache.role === 'leader' || cache.role === 'follower'),
      );
      rows.push([
        String(n),
        fmt(alone.callsPerInterval),
        fmt(together.callsPerInterval),
        `${fmt(alone.callsPerInterval / together.callsPerInterval)}x`,
        fmt(together.sentPerInterval),
        fmt(together.commandsPerInterval),
      ]);
      breakdowns.push(`  ${n} replica(s): ${together.breakdown}`);
    }
    for (const [providers, rounds] of shardsOnly
      ? []
      : ([
          [1_000, 11],
          [10_000, 5],
        ] as const)) {
      reloads.push(await reloadCost(server.url, providers, rounds));
    }
    if (!reloadOnly) shards = await shardFigures(server.url, redis, commandStats, INSIDE_SCRIPTS);
  } finally {
    redis.disconnect();
    await RedisServer.stopAll();
  }
  if (!shardsOnly) printReloads(reloads);
  const load = `load average ${loadavg()
    .map((n) => n.toFixed(1))
    .join(' ')}`;
  if (shards) printShards(shards, load);
  if (reloadOnly || shardsOnly) return;

  console.log(
    `${PROVIDERS} providers, pollInterval ${POLL} ms, leaseTtl 2,000 ms (default for that interval), a ${INTERVALS * POLL} ms window per row;\nan interval is one poll cycle (a full sweep of the replica that sweeps most)\n`,
  );
  const header = [
    'replicas',
    'calls/interval, each alone',
    'calls/interval, shared',
    'ratio',
    'Redis commands sent/interval',
    'incl. inside scripts',
  ];
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join(' | ');
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('-|-'));
  for (const row of rows) console.log(line(row));
  console.log('\nRedis commands per interval, by command (INFO commandstats deltas):');
  for (const breakdown of breakdowns) console.log(breakdown);
  console.log(`\ndone in ${fmt((Date.now() - began) / 1000)} s`);
}

function printReloads(reloads: readonly ReloadFigures[]): void {
  console.log('A follower reload per lease round (median of the rounds after the first):');
  for (const r of reloads) {
    console.log(
      `  ${fmt(r.providers, 0)} providers: ${fmt(r.scriptCalls)} script call(s), ${fmt(r.hmgetCalls)} HMGET, ` +
        `${fmt(r.replyBytes / 1024, 0)} KiB of records; read ${fmt(r.loadMs)} ms + parse/compare ${fmt(r.applyMs)} ms ` +
        `(first round, restoring all: ${fmt(r.firstApplyMs)} ms)`,
    );
  }
  console.log('');
}

await main();
