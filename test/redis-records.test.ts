/**
 * Shared mode against hostile or broken contents of Redis, on real
 * redis-server processes: records with absurd dates, deleted records,
 * replicas whose clocks disagree, and garbage in the lease keys.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { ProviderRegistry, statusToJSON, systemClock, type Clock } from '../src/index.js';
import { SharedHealthCache, type SharedHealthCacheOptions } from '../src/redis/index.js';
import { eventually } from './support/redis-replicas.js';
import { RedisServer } from './support/redis-server.js';

const POLL = 400;
const TTL = 1_200;
const NAMES = ['svc-0', 'svc-1', 'svc-2'];

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
after(() => RedisServer.stopAll());

function registry(): ProviderRegistry {
  const providers = new ProviderRegistry();
  for (const name of NAMES)
    providers.register(name, { healthCheck: async () => ({ healthy: true, message: `ok ${name}` }) });
  return providers;
}

interface Replica {
  cache: SharedHealthCache;
  errors: Error[];
  repairs: string[];
  stop: () => Promise<void>;
}

function replica(options: SharedHealthCacheOptions): Replica {
  const cache = new SharedHealthCache(registry(), options);
  const errors: Error[] = [];
  const repairs: string[] = [];
  cache.onRedisError((error) => errors.push(error));
  // Absent before the repairs existed: the test then fails on what the replicas do, not here.
  (cache as Partial<{ onLeaseRepair: SharedHealthCache['onLeaseRepair'] }>).onLeaseRepair?.(({ kind }) =>
    repairs.push(kind),
  );
  const controller = new AbortController();
  const done = cache.run(controller.signal);
  const stop = async (): Promise<void> => {
    controller.abort();
    await done;
  };
  cleanups.push(stop);
  return { cache, errors, repairs, stop };
}

async function group(): Promise<{ server: RedisServer; redis: Redis; shared: SharedHealthCacheOptions }> {
  const server = await RedisServer.start();
  const redis = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  await redis.connect();
  cleanups.push(() => void redis.disconnect());
  const shared = {
    redis: server.url,
    key: `r${Math.random().toString(36).slice(2)}`,
    pollInterval: POLL,
    leaseTtl: TTL,
  };
  return { server, redis, shared };
}

/** Every status as the HTTP API would serve it: throws where the API would answer 500. */
function served(cache: SharedHealthCache): unknown[] {
  return cache.snapshot().map((status) => statusToJSON(status));
}

/** A clock `offset` ms away from the real one. */
function skewed(offset: number): Clock {
  return {
    now: () => systemClock.now() + offset,
    setTimeout: (callback, delay, options) => systemClock.setTimeout(callback, delay, options),
    clearTimeout: (handle) => systemClock.clearTimeout(handle),
  };
}

async function leaderAndFollower(
  shared: SharedHealthCacheOptions,
): Promise<{ leader: Replica; follower: Replica }> {
  const leader = replica({ ...shared, replicaId: 'leader' });
  await eventually(() => leader.cache.role === 'leader', 10_000, 'a leader');
  const follower = replica({ ...shared, replicaId: 'follower' });
  await eventually(
    () => follower.cache.role === 'follower' && follower.cache.snapshot().length === NAMES.length,
    10_000,
    'a follower mirroring every status',
  );
  return { leader, follower };
}

describe('records in Redis are validated and bounded', { timeout: 60_000 }, () => {
  test('a record dated 1e20 or in 2100 is ignored and reported once, before and after a restart', async () => {
    const { redis, shared } = await group();
    const { leader, follower } = await leaderAndFollower(shared);
    await leader.stop();
    const hash = `${shared.key}:statuses`;
    const good = JSON.parse((await redis.hget(hash, 'svc-0')) ?? '{}') as Record<string, unknown>;
    const year2100 = Date.UTC(2100, 0, 1);
    await redis.hset(hash, 'svc-0', JSON.stringify({ ...good, checkedAt: 1e20 }));
    const { writtenAt: _ignored, ...unstamped } = good;
    await redis.hset(
      hash,
      'svc-1',
      JSON.stringify({ ...unstamped, checkedAt: year2100, lastTransitionAt: year2100 }),
    );
    await redis.hset(hash, 'svc-2', JSON.stringify({ ...good, writtenAt: year2100, checkedAt: year2100 }));
    // A follower that restarts reads them all at once; the running one on its next rounds.
    const restarted = replica({ ...shared, replicaId: 'restarted' });
    await eventually(
      () => restarted.cache.role === 'leader' || restarted.cache.role === 'follower',
      10_000,
      'joining',
    );
    await sleep(TTL * 2);
    for (const running of [follower, restarted]) {
      assert.doesNotThrow(() => served(running.cache), 'every status can be served');
      for (const status of running.cache.snapshot()) {
        assert.ok(
          status.checkedAt.getTime() <= Date.now() + 1_000,
          `${status.name} dated ${status.checkedAt.getTime()}`,
        );
      }
    }
    const reported = restarted.errors.filter((error) => /ignored a status record/.test(error.message));
    assert.deepEqual(
      reported.map((error) => (error as Error & { provider?: string }).provider).sort(),
      NAMES,
      `each bad record reported once: ${reported.map((error) => error.message).join(' | ')}`,
    );
    assert.match(reported.map((error) => error.message).join('\n'), /ahead|`checkedAt`/);
  });

  test('a new leader keeps its own results when Redis held records dated ahead', async () => {
    const { redis, shared } = await group();
    const { leader, follower } = await leaderAndFollower(shared);
    const hash = `${shared.key}:statuses`;
    const good = JSON.parse((await redis.hget(hash, 'svc-1')) ?? '{}') as Record<string, unknown>;
    const { writtenAt: _ignored, ...unstamped } = good;
    const future = Date.UTC(2100, 0, 1);
    // Published too, as a broken or hostile writer would, so the follower sees it at once.
    const record = JSON.stringify({ ...unstamped, checkedAt: future, lastTransitionAt: future });
    await redis.hset(hash, 'svc-1', record);
    await redis.publish(`${shared.key}:updates`, `[${record}]`);
    await sleep(200);
    await leader.stop();
    await eventually(() => follower.cache.role === 'leader', TTL * 3, 'the follower taking over');
    const since = Date.now();
    await eventually(
      () => (follower.cache.get('svc-1')?.checkedAt.getTime() ?? 0) >= since,
      POLL * 4 + 2_000,
      'the new leader recording its own results for svc-1',
    );
    const status = follower.cache.get('svc-1');
    assert.ok(status && status.checkedAt.getTime() <= Date.now());
    // And Redis holds the new leader's record again.
    await eventually(
      async () =>
        (JSON.parse((await redis.hget(hash, 'svc-1')) ?? '{}') as { checkedAt: number }).checkedAt < future,
      POLL * 4 + 2_000,
      'the record rewritten',
    );
  });

  test('a record deleted from Redis (HDEL, or DEL of the hash) is removed from the followers', async () => {
    const { redis, shared } = await group();
    // Long interval: the leader does not rewrite the records during the test.
    const slow = { ...shared, pollInterval: 60_000, checkTimeout: 1_000 };
    const { follower } = await leaderAndFollower(slow);
    const hash = `${shared.key}:statuses`;
    await redis.hdel(hash, 'svc-0');
    await eventually(
      () => follower.cache.get('svc-0') === undefined,
      TTL * 3,
      'svc-0 removed from the follower',
    );
    assert.ok(follower.cache.get('svc-1'), 'the others stay');
    await redis.del(hash);
    await eventually(() => follower.cache.snapshot().length === 0, TTL * 3, 'every status removed');
    assert.equal(follower.cache.role, 'follower');
  });
});

describe('replicas whose clocks disagree', { timeout: 60_000 }, () => {
  for (const [what, offset] of [
    ['ahead', 3_600_000],
    ['behind', -3_600_000],
  ] as const) {
    test(`a leader whose clock runs an hour ${what}: followers serve its results fresh, and a successor's win`, async () => {
      const { shared } = await group();
      const odd = replica({ ...shared, replicaId: 'odd', clock: skewed(offset) });
      await eventually(() => odd.cache.role === 'leader', 10_000, 'the odd replica leading');
      const follower = replica({ ...shared, replicaId: 'follower' });
      const watcher = replica({ ...shared, replicaId: 'watcher' });
      const fresh = (cache: SharedHealthCache, since: number): boolean =>
        NAMES.every((name) => {
          const status = cache.get(name);
          return (
            status !== undefined &&
            !status.stale &&
            status.checkedAt.getTime() >= since &&
            status.checkedAt.getTime() <= Date.now() + 50
          );
        });
      let since = Date.now();
      await eventually(
        () => fresh(follower.cache, since) && fresh(watcher.cache, since),
        POLL * 4 + 3_000,
        'fresh mirrored statuses',
      );
      assert.deepEqual(follower.errors, [], 'nothing reported: an odd clock is no bad record');

      // The odd leader goes; whoever leads next (right clock) must win with its own results.
      await odd.stop();
      await eventually(
        () => [follower.cache.role, watcher.cache.role].sort().join() === 'follower,leader',
        TTL * 3,
        'a successor',
      );
      since = Date.now();
      await eventually(
        () => fresh(follower.cache, since) && fresh(watcher.cache, since),
        POLL * 4 + 3_000,
        "the successor's results everywhere",
      );
    });
  }
});

describe('garbage in the lease keys', { timeout: 60_000 }, () => {
  test('a lease key without expiry is repaired: a replica leads and polls', async () => {
    const { redis, shared } = await group();
    await redis.set(`${shared.key}:lease`, '999:somebody');
    const a = replica({ ...shared, replicaId: 'a' });
    const b = replica({ ...shared, replicaId: 'b' });
    await eventually(
      () => [a.cache.role, b.cache.role].sort().join() === 'follower,leader',
      TTL * 4,
      'one leader, one follower',
    );
    assert.deepEqual(
      [...a.repairs, ...b.repairs],
      ['lease-without-expiry'],
      'reported once, by the replica that repaired it',
    );
    const leader = a.cache.role === 'leader' ? a : b;
    assert.ok((leader.cache.leaseToken ?? 0) > 0);
  });

  test('a fencing counter that is not a number is rebuilt above every token in use', async () => {
    const { redis, shared } = await group();
    const { leader, follower } = await leaderAndFollower(shared);
    const before = leader.cache.leaseToken ?? 0;
    await redis.set(`${shared.key}:token`, 'not-a-number');
    await leader.stop();
    await eventually(() => follower.cache.role === 'leader', TTL * 3, 'the follower taking over');
    assert.ok(
      (follower.cache.leaseToken ?? 0) > before,
      `token ${follower.cache.leaseToken} after ${before}`,
    );
    assert.deepEqual(follower.repairs, ['token-not-a-number']);
    assert.equal(follower.errors.length, 0, follower.errors.map((error) => error.message).join());
    const restarted = replica({ ...shared, replicaId: 'again' });
    await eventually(() => restarted.cache.role === 'follower', TTL * 3, 'a third replica following');
    assert.deepEqual(restarted.repairs, []);
  });

  test('a lease key of another type is repaired', async () => {
    const { redis, shared } = await group();
    await redis.hset(`${shared.key}:lease`, 'x', '1');
    await redis.lpush(`${shared.key}:token`, 'x');
    const a = replica({ ...shared, replicaId: 'a' });
    await eventually(() => a.cache.role === 'leader', TTL * 4, 'leading');
    assert.deepEqual(a.repairs.sort(), ['lease-not-a-string', 'token-not-a-number']);
    await eventually(() => a.cache.snapshot().length === NAMES.length, POLL * 4, 'polling');
  });
});
