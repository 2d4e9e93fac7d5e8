/**
 * Shared mode against hostile or broken contents of Redis, on real
 * redis-server processes: records with absurd dates, deleted records,
 * replicas whose clocks disagree, and garbage in the lease keys.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { ProviderRegistry, statusToJSON, systemClock, type Clock, type Status } from '../src/index.js';
import { decodeStatus, encodeStatus } from '../src/redis/codec.js';
import { isBadRecordError } from '../src/redis/index.js';
import { SharedHealthCache, type SharedHealthCacheOptions } from '../src/redis/index.js';
import { sharedKeys } from '../src/redis/keys.js';
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

/** The keys of a replica set (through the keys module: they carry its hash tag). */
function keysOf(options: SharedHealthCacheOptions): ReturnType<typeof sharedKeys> {
  return sharedKeys(options.key ?? 'provider-health');
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
    const hash = keysOf(shared).statuses;
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
    const hash = keysOf(shared).statuses;
    const good = JSON.parse((await redis.hget(hash, 'svc-1')) ?? '{}') as Record<string, unknown>;
    const { writtenAt: _ignored, ...unstamped } = good;
    const future = Date.UTC(2100, 0, 1);
    // Published too, as a broken or hostile writer would, so the follower sees it at once.
    const record = JSON.stringify({ ...unstamped, checkedAt: future, lastTransitionAt: future });
    await redis.hset(hash, 'svc-1', record);
    await redis.publish(keysOf(shared).updates, `[${record}]`);
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
    const hash = keysOf(shared).statuses;
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

/** A status carrying every issue-11 field. */
function labelled(overrides: Partial<Status> = {}): Status {
  const labels = Object.freeze(
    Object.assign(Object.create(null) as Record<string, string>, { env: 'prod', 'example.com/team': 'db' }),
  );
  return Object.freeze({
    name: 'api-eu',
    healthy: false,
    message: 'down',
    latency: 3,
    checkedAt: new Date(1_764_000_000_000),
    state: 'unhealthy',
    stale: false,
    consecutiveFailures: 2,
    consecutiveSuccesses: 0,
    lastSuccessAt: new Date(1_763_999_000_000),
    lastFailureAt: new Date(1_764_000_000_000),
    lastTransitionAt: new Date(1_763_999_500_000),
    history: Object.freeze({
      samples: 10,
      uptime: 0.8,
      latencyP50: 3,
      latencyP95: 4,
      uptimeExcludingSilenced: 0.75,
      silencedSamples: 2,
    }),
    details: undefined,
    labels,
    dependsOn: Object.freeze(['cluster-eu', 'dns']),
    blockedBy: Object.freeze(['cluster-eu']),
    silencedBy: Object.freeze(['0b6f2a4e-8d1c-4c7e-9a55-2f4b1e3c9d10', 'patch-tuesday']),
    ...overrides,
  });
}

/** The refusal reason of a record, or 'accepted'. */
function refused(record: unknown): string {
  const decoded = decodeStatus(record);
  return typeof decoded === 'string' ? decoded : 'accepted';
}

describe('status records carry labels, dependencies and silences', () => {
  test('every new field round-trips, frozen; the sample is marked silenced', () => {
    const decoded = decodeStatus(JSON.parse(encodeStatus(labelled(), 3, 'unhealthy')));
    assert.ok(typeof decoded !== 'string', typeof decoded === 'string' ? decoded : '');
    const { status, sample } = decoded;
    assert.deepEqual({ ...status.labels }, { env: 'prod', 'example.com/team': 'db' });
    assert.equal(Object.getPrototypeOf(status.labels), null, 'labels have no prototype, as at registration');
    assert.deepEqual(status.dependsOn, ['cluster-eu', 'dns']);
    assert.deepEqual(status.blockedBy, ['cluster-eu']);
    assert.deepEqual(status.silencedBy, ['0b6f2a4e-8d1c-4c7e-9a55-2f4b1e3c9d10', 'patch-tuesday']);
    assert.equal(status.history.uptimeExcludingSilenced, 0.75);
    assert.equal(status.history.silencedSamples, 2);
    for (const part of [status.labels, status.dependsOn, status.blockedBy, status.silencedBy])
      assert.ok(Object.isFrozen(part));
    assert.equal(sample.silenced, true);
    const quiet = decodeStatus(JSON.parse(encodeStatus(labelled({ silencedBy: [] }), 3, 'unhealthy')));
    assert.ok(typeof quiet !== 'string' && quiet.sample.silenced === false);
  });

  test('a record of the previous version (none of the new fields) still decodes, with empty ones', () => {
    const record = JSON.parse(encodeStatus(labelled(), 3, 'unhealthy')) as Record<string, unknown>;
    const { labels: _l, dependsOn: _d, blockedBy: _b, silencedBy: _s, ...old } = record;
    const {
      uptimeExcludingSilenced: _u,
      silencedSamples: _n,
      ...oldHistory
    } = record.history as Record<string, unknown>;
    const decoded = decodeStatus({ ...old, history: oldHistory });
    assert.ok(typeof decoded !== 'string', typeof decoded === 'string' ? decoded : '');
    assert.deepEqual({ ...decoded.status.labels }, {});
    assert.deepEqual(
      [decoded.status.dependsOn, decoded.status.blockedBy, decoded.status.silencedBy],
      [[], [], []],
    );
    assert.equal(
      decoded.status.history.uptimeExcludingSilenced,
      0.8,
      'equal to uptime: nothing was silenced',
    );
    assert.equal(decoded.status.history.silencedSamples, 0);
  });

  test('out-of-bounds or inconsistent fields are refused, the field named', () => {
    const good = JSON.parse(encodeStatus(labelled(), 3, 'unhealthy')) as Record<string, unknown>;
    const history = good.history as Record<string, unknown>;
    const many = (count: number, make: (i: number) => string): string[] =>
      Array.from({ length: count }, (_, i) => make(i));
    const cases: [string, Record<string, unknown>][] = [
      ['labels', { labels: 'env=prod' }],
      ['labels', { labels: { env: 7 } }],
      ['labels', { labels: { 'bad key!': 'x' } }],
      ['labels', { labels: { env: 'x'.repeat(64) } }],
      ['labels', { labels: Object.fromEntries(many(65, (i) => `k${i}`).map((k) => [k, 'v'])) }],
      ['labels', { labels: JSON.parse('{"__proto__":"x"}') as unknown }],
      ['dependsOn', { dependsOn: 'cluster-eu' }],
      ['dependsOn', { dependsOn: many(65, (i) => `dep-${i}`) }],
      ['dependsOn', { dependsOn: ['x'.repeat(1025)] }],
      ['dependsOn', { dependsOn: ['a', 'a'] }],
      ['dependsOn', { dependsOn: [''] }],
      ['dependsOn', { dependsOn: ['api-eu'] }],
      ['blockedBy', { blockedBy: ['not-a-dependency'] }],
      ['blockedBy', { blockedBy: [1] }],
      ['silencedBy', { silencedBy: many(257, (i) => `w-${i}`) }],
      ['silencedBy', { silencedBy: ['x'.repeat(257)] }],
      ['silencedBy', { silencedBy: null }],
      ['history', { history: { ...history, silencedSamples: 11 } }],
      ['history', { history: { ...history, silencedSamples: -1 } }],
      ['history', { history: { ...history, uptimeExcludingSilenced: 1.5 } }],
      ['history', { history: { ...history, uptimeExcludingSilenced: undefined } }],
    ];
    for (const [field, change] of cases) {
      assert.match(
        refused({ ...good, ...change }),
        new RegExp(`\`${field}\``),
        JSON.stringify(change).slice(0, 80),
      );
    }
    assert.equal(refused(good), 'accepted');
  });

  test('a status under more than 256 silences is written with the first 256 ids', () => {
    const ids = Array.from({ length: 300 }, (_, i) => `window-${String(i).padStart(3, '0')}`);
    const decoded = decodeStatus(JSON.parse(encodeStatus(labelled({ silencedBy: ids }), 3, 'unhealthy')));
    assert.ok(typeof decoded !== 'string', typeof decoded === 'string' ? decoded : '');
    assert.deepEqual(decoded.status.silencedBy, ids.slice(0, 256));
  });
});

describe('records with labels in Redis (real redis-server)', { timeout: 60_000 }, () => {
  test('the leader writes labels and dependencies; a record with bad labels is reported and skipped', async () => {
    const { redis, shared } = await group();
    const labelledRegistry = (): ProviderRegistry => {
      const providers = new ProviderRegistry();
      providers.register('db', { healthCheck: async () => ({ healthy: true }) }, { labels: { env: 'prod' } });
      providers.register(
        'api',
        { healthCheck: async () => ({ healthy: true }) },
        { labels: { env: 'prod', tier: 'web' }, dependsOn: ['db'] },
      );
      return providers;
    };
    // A long interval: the leader writes its first sweep, then nothing while the follower reads.
    const slow = { ...shared, pollInterval: 60_000, checkTimeout: 1_000 };
    const start = (replicaId: string): { cache: SharedHealthCache; errors: Error[] } => {
      const cache = new SharedHealthCache(labelledRegistry(), { ...slow, replicaId });
      const errors: Error[] = [];
      cache.onRedisError((error) => errors.push(error));
      const controller = new AbortController();
      const done = cache.run(controller.signal);
      cleanups.push(async () => {
        controller.abort();
        await done;
      });
      return { cache, errors };
    };
    const leader = start('leader');
    await eventually(() => leader.cache.role === 'leader', 10_000, 'a leader');
    const hash = keysOf(shared).statuses;
    const raw = await eventually(
      async () => (await redis.hlen(hash)) === 2 && ((await redis.hget(hash, 'api')) ?? undefined),
      5_000,
      'both records written',
    );
    const record = JSON.parse(raw) as Record<string, unknown>;
    assert.deepEqual(record.labels, { env: 'prod', tier: 'web' });
    assert.deepEqual(record.dependsOn, ['db']);
    assert.deepEqual(record.blockedBy, []);
    assert.deepEqual(record.silencedBy, []);
    assert.equal((record.history as Record<string, unknown>).silencedSamples, 0);

    const bad = JSON.parse((await redis.hget(hash, 'db')) ?? '{}') as Record<string, unknown>;
    await redis.hset(hash, 'db', JSON.stringify({ ...bad, labels: { 'no spaces allowed': 'x' } }));
    const follower = start('follower');
    await eventually(
      () => follower.cache.role === 'follower' && follower.cache.get('api') !== undefined,
      10_000,
      'a follower',
    );
    const reported = await eventually(
      () => follower.errors.find((error) => isBadRecordError(error) && error.provider === 'db'),
      5_000,
      'the bad record reported',
    );
    assert.match(reported.message, /`labels`/);
    assert.equal(follower.cache.get('db'), undefined, 'the bad record is not shown');
    assert.deepEqual({ ...follower.cache.get('api')?.labels }, { env: 'prod', tier: 'web' });
    assert.equal(follower.errors.filter((error) => isBadRecordError(error)).length, 1, 'reported once');
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
    await redis.set(keysOf(shared).lease, '999:somebody');
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
    await redis.set(keysOf(shared).token, 'not-a-number');
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
    await redis.hset(keysOf(shared).lease, 'x', '1');
    await redis.lpush(keysOf(shared).token, 'x');
    const a = replica({ ...shared, replicaId: 'a' });
    await eventually(() => a.cache.role === 'leader', TTL * 4, 'leading');
    assert.deepEqual(a.repairs.sort(), ['lease-not-a-string', 'token-not-a-number']);
    await eventually(() => a.cache.snapshot().length === NAMES.length, POLL * 4, 'polling');
  });
});
