/**
 * SharedHealthCache in one process against real redis-server processes
 * started here: options, the record codec, the lease and its fenced writes,
 * refresh forwarding, clean shutdown, credentials and a frozen Redis.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, afterEach, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { HealthCache, ProviderRegistry, type Status } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { NO_LABELS } from '../src/labels.js';
import { decodeStatus, encodeStatus } from '../src/redis/codec.js';
import { systemClock } from '../src/clock.js';
import { Lease, type Tenure } from '../src/redis/lease.js';
import { sharedKeys } from '../src/redis/keys.js';
import { StatusStore, type RecordWrite } from '../src/redis/store.js';
import { SharedHealthCache, type ReplicaRole, type SharedHealthCacheOptions } from '../src/redis/index.js';
import { CuttableProxy } from './support/redis-proxy.js';
import { eventually } from './support/redis-replicas.js';
import { RedisServer } from './support/redis-server.js';

const POLL = 400;
const TTL = 1_500;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
after(() => RedisServer.stopAll());

/** A registry of `count` providers whose calls are counted. */
function countingRegistry(count: number, calls: Map<string, number>): ProviderRegistry {
  const registry = new ProviderRegistry();
  for (let i = 0; i < count; i++) {
    const name = `svc-${i}`;
    registry.register(name, {
      healthCheck: async () => {
        calls.set(name, (calls.get(name) ?? 0) + 1);
        return { healthy: true, message: `ok ${name}`, details: { version: '1.2.3' } };
      },
    });
  }
  return registry;
}

interface Running {
  cache: SharedHealthCache;
  roles: ReplicaRole[];
  errors: Error[];
  done: Promise<void>;
  stop: () => Promise<void>;
}

/** Starts `cache.run` and records its roles and Redis errors; stopped after the test. */
function start(cache: SharedHealthCache): Running {
  const roles: ReplicaRole[] = [];
  const errors: Error[] = [];
  cache.onRoleChange((change) => roles.push(change.role));
  cache.onRedisError((error) => errors.push(error));
  const controller = new AbortController();
  const done = cache.run(controller.signal);
  const stop = async (): Promise<void> => {
    controller.abort();
    await done;
  };
  cleanups.push(stop);
  return { cache, roles, errors, done, stop };
}

function options(
  redis: string | Redis,
  extra: Partial<SharedHealthCacheOptions> = {},
): SharedHealthCacheOptions {
  return {
    redis,
    key: `t${Math.random().toString(36).slice(2)}`,
    pollInterval: POLL,
    leaseTtl: TTL,
    ...extra,
  };
}

async function connect(server: RedisServer): Promise<Redis> {
  const redis = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  await redis.connect();
  cleanups.push(() => void redis.disconnect());
  return redis;
}

async function connectedClients(redis: Redis): Promise<number> {
  const info = await redis.info('clients');
  return Number(/connected_clients:(\d+)/.exec(info)?.[1]);
}

describe('options', () => {
  const registry = new ProviderRegistry();
  const bad: [string, Partial<SharedHealthCacheOptions> | undefined, RegExp][] = [
    ['no options', undefined, /`redis`/],
    ['no redis', {}, /`redis`/],
    ['a number for redis', { redis: 6379 as unknown as string }, /`redis`.*number/],
    ['an http URL', { redis: 'http://127.0.0.1:6379' }, /`redis`.*http:/],
    ['not a URL', { redis: 'localhost:6379' }, /`redis`/],
    ['an empty key', { redis: 'redis://127.0.0.1:1', key: '' }, /`key`/],
    ['a key with spaces', { redis: 'redis://127.0.0.1:1', key: 'a b' }, /`key`/],
    ['a fractional leaseTtl', { redis: 'redis://127.0.0.1:1', leaseTtl: 1000.5 }, /`leaseTtl`/],
    ['a tiny leaseTtl', { redis: 'redis://127.0.0.1:1', leaseTtl: 10 }, /`leaseTtl`.*at least 300/],
    ['a NaN leaseTtl', { redis: 'redis://127.0.0.1:1', leaseTtl: Number.NaN }, /`leaseTtl`/],
    [
      'commandTimeout not below leaseTtl',
      { redis: 'redis://127.0.0.1:1', leaseTtl: 1000, commandTimeout: 1000 },
      /`commandTimeout`.*`leaseTtl`/,
    ],
    ['an empty replicaId', { redis: 'redis://127.0.0.1:1', replicaId: '' }, /`replicaId`/],
    ['a bad core option', { redis: 'redis://127.0.0.1:1', pollInterval: -1 }, /`pollInterval`/],
  ];
  for (const [what, value, message] of bad) {
    test(`rejects ${what}, naming the option`, () => {
      assert.throws(() => new SharedHealthCache(registry, value as SharedHealthCacheOptions), message);
    });
  }

  test('never quotes the URL (it may carry a password) in an error', () => {
    for (const redis of ['http://user:hunter2secret@127.0.0.1', 'not a url hunter2secret']) {
      assert.throws(
        () => new SharedHealthCache(registry, { redis }),
        (error: Error) => !error.message.includes('hunter2secret'),
      );
    }
  });

  test('defaults: key, a lease TTL derived from the interval, a command timeout below it', () => {
    const cache = new SharedHealthCache(registry, { redis: 'redis://127.0.0.1:1' });
    assert.deepEqual(
      { ...cache.sharing, replicaId: typeof cache.sharing.replicaId },
      { key: 'provider-health', leaseTtl: 15_000, commandTimeout: 2_000, replicaId: 'string' },
    );
    assert.equal(
      new SharedHealthCache(registry, { redis: 'redis://h', pollInterval: 500 }).sharing.leaseTtl,
      2_000,
    );
    assert.equal(
      new SharedHealthCache(registry, { redis: 'redis://h', pollInterval: 5_000 }).sharing.leaseTtl,
      5_000,
    );
    assert.equal(cache.role, 'idle');
  });
});

/** The reason a record was refused, or a note that it was not. */
function refusal(result: ReturnType<typeof decodeStatus>): string {
  return typeof result === 'string' ? result : 'accepted';
}

/** A status with its dates as epoch ms, for comparison. */
function plain(status: Status): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(status).map(([key, value]) => [key, value instanceof Date ? value.getTime() : value]),
  );
}

test('without ioredis installed: importing and constructing work, run() says what to install', async () => {
  const script = new URL('./fixtures/redis-without-ioredis.ts', import.meta.url).pathname;
  const preload = new URL('./fixtures/without-packages.mjs', import.meta.url).href;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--import', preload, script],
    { timeout: 30_000, env: { ...process.env, WITHOUT_PACKAGES: 'ioredis' } },
  );
  const outcome = JSON.parse(stdout.trim()) as { rejected: boolean; message: string; role: string };
  assert.equal(outcome.rejected, true);
  assert.match(outcome.message, /optional peer dependency ioredis.*npm install ioredis/);
  assert.equal(outcome.role, 'idle');
  assert.ok(!stdout.includes('secret-pw'));
});

describe('HealthCache.restore (the core hook replicas use)', () => {
  const at = (clock: ManualClock, name: string, state: 'healthy' | 'unhealthy', ago = 0): Status =>
    Object.freeze({
      name,
      healthy: state === 'healthy',
      message: state,
      latency: 5,
      checkedAt: new Date(clock.now() - ago),
      state,
      stale: false,
      consecutiveFailures: state === 'healthy' ? 0 : 1,
      consecutiveSuccesses: state === 'healthy' ? 1 : 0,
      lastSuccessAt: undefined,
      lastFailureAt: undefined,
      lastTransitionAt: new Date(clock.now() - ago),
      history: Object.freeze({
        samples: 1,
        uptime: 1,
        latencyP50: 5,
        latencyP95: 5,
        uptimeExcludingSilenced: 1,
        silencedSamples: 0,
      }),
      details: undefined,
      labels: {},
      dependsOn: [],
      blockedBy: [],
      silencedBy: [],
    });

  test('applies newer statuses with events, ignores older ones and unknown providers', () => {
    const clock = new ManualClock();
    const registry = new ProviderRegistry();
    registry.register('db', {});
    const cache = new HealthCache(registry, { clock, pollInterval: 1_000 });
    const events: string[] = [];
    cache.onTransition(({ from, to }) => events.push(`${from}->${to}`));
    cache.onResult(({ name }) => events.push(`result ${name}`));
    const first = at(clock, 'db', 'healthy');
    const sample = { checkedAt: first.checkedAt, latency: 5, state: 'healthy' as const };
    assert.equal(cache.restore(first, sample), true);
    assert.equal(cache.get('db')?.message, 'healthy');
    assert.deepEqual(
      cache.history('db').map((s) => s.state),
      ['healthy'],
    );
    assert.equal(cache.restore(at(clock, 'db', 'unhealthy', 10)), false, 'older than held');
    assert.equal(cache.restore(at(clock, 'ghost', 'healthy')), false, 'not registered');
    assert.equal(cache.get('ghost'), undefined);
    assert.equal(
      cache.restore({ ...first, state: 'stale', stale: true }),
      false,
      'a stale status is no result',
    );
    assert.deepEqual(events, ['result db', 'unknown->healthy']);
    assert.deepEqual(
      cache.snapshot().map((s) => s.name),
      ['db'],
    );
  });

  test('an old status comes back stale, and a running cache marks a restored one stale on time', async () => {
    const clock = new ManualClock();
    const registry = new ProviderRegistry();
    registry.register('db', {});
    const idle = new HealthCache(registry, { clock, pollInterval: 1_000 });
    idle.restore(at(clock, 'db', 'healthy', 5_000));
    assert.equal(idle.get('db')?.state, 'stale');

    // A sweep in progress (its check pending) has set no stale timer yet: only restore() can.
    const pending = new ProviderRegistry();
    pending.register('api', { healthCheck: () => new Promise<void>(() => {}) });
    const running = new HealthCache(pending, {
      clock,
      pollInterval: 20_000,
      checkTimeout: 15_000,
      staleAfter: 60_000,
    });
    const stop = new AbortController();
    const done = running.run(stop.signal);
    await clock.advance(100);
    assert.equal(running.restore(at(clock, 'api', 'healthy', 59_000)), true);
    assert.equal(running.get('api')?.stale, false);
    const changes: string[] = [];
    running.onTransition(({ to }) => changes.push(to));
    await clock.advance(1_100);
    assert.deepEqual(changes, ['stale'], 'the stale timer fired for the restored status');
    stop.abort();
    await done;
  });
});

describe('status records', () => {
  const status: Status = Object.freeze({
    name: 'docker',
    healthy: true,
    message: 'up',
    latency: 12.5,
    checkedAt: new Date(1_764_000_000_123.25),
    state: 'degraded',
    stale: false,
    consecutiveFailures: 0,
    consecutiveSuccesses: 3,
    lastSuccessAt: new Date(1_764_000_000_123),
    lastFailureAt: undefined,
    lastTransitionAt: new Date(1_763_999_000_000),
    history: Object.freeze({
      samples: 3,
      uptime: 1,
      latencyP50: 10,
      latencyP95: 12.5,
      uptimeExcludingSilenced: 1,
      silencedSamples: 0,
    }),
    details: Object.freeze({ version: '27.0' }),
    labels: NO_LABELS,
    dependsOn: [],
    blockedBy: [],
    silencedBy: [],
  });

  test('round-trip every field, frozen, with the raw sample and the token', () => {
    const decoded = decodeStatus(JSON.parse(encodeStatus(status, 7, 'degraded')));
    assert.ok(typeof decoded !== 'string', typeof decoded === 'string' ? decoded : '');
    assert.deepEqual(plain(decoded.status), plain(status));
    assert.ok(decoded.status.checkedAt instanceof Date);
    assert.equal(decoded.token, 7);
    assert.equal(decoded.sample.state, 'degraded');
    assert.ok(Object.isFrozen(decoded.status) && Object.isFrozen(decoded.status.history));
    assert.throws(() => decoded.status.checkedAt.setTime(0), /read-only/);
  });

  test('details JSON cannot carry are dropped, not fatal', () => {
    const odd = { ...status, details: { big: 1n } };
    const decoded = decodeStatus(JSON.parse(encodeStatus(odd, 1, 'healthy')));
    assert.ok(typeof decoded !== 'string');
    assert.equal(decoded.status.details, undefined);
  });

  test('bad records are refused with the field named', () => {
    const good = JSON.parse(encodeStatus(status, 1, 'healthy')) as Record<string, unknown>;
    assert.match(refusal(decodeStatus({ ...good, checkedAt: 'yesterday' })), /`checkedAt`/);
    assert.match(refusal(decodeStatus({ ...good, state: 'stale' })), /`state`/);
    assert.match(refusal(decodeStatus({ ...good, v: 2 })), /version/);
    assert.match(refusal(decodeStatus(null)), /not an object/);
    assert.throws(() => encodeStatus({ ...status, state: 'stale', stale: true }, 1, 'healthy'), /stale/);
  });
});

describe('lease and fenced writes (real redis-server)', () => {
  test('a tenure that lost the lease cannot write; an older check cannot replace a newer one', async () => {
    const server = await RedisServer.start();
    const redis = await connect(server);
    const keys = sharedKeys('fence');
    // One replica's lease and its fenced writes (the status store).
    const replica = (id: string) => {
      const limit = { clock: systemClock, timeout: 2_000 };
      const lease = new Lease(redis, keys, id, 60_000, limit);
      const store = new StatusStore(redis, keys, limit);
      return {
        acquire: () => lease.acquire(),
        renew: (tenure: Tenure) => lease.renew(tenure),
        release: (tenure: Tenure) => lease.release(tenure),
        write: (tenure: Tenure, records: RecordWrite[]) => store.write(tenure, records),
      };
    };
    const a = replica('replica-a');
    const b = replica('replica-b');
    const first = await a.acquire();
    assert.ok(first.acquired);
    const taken = await b.acquire();
    assert.ok(!taken.acquired && taken.remaining > 50_000, 'the lease is held, with its remaining time');
    assert.equal(
      await b.renew({ value: '1:replica-b', token: 1 }),
      false,
      'renewing a lease that is not ours fails',
    );

    const record = (token: number, checkedAt: number): [string, number, string] => [
      'docker',
      checkedAt,
      JSON.stringify({ token, checkedAt, tag: `${token}@${checkedAt}` }),
    ];
    assert.equal(await a.write(first.tenure, [record(first.tenure.token, 1_000)]), 1);

    // A is frozen past its lease; B takes over with a higher token and writes.
    await redis.pexpire(keys.lease, 1);
    await eventually(async () => (await redis.exists(keys.lease)) === 0, 2_000, 'the lease expiring');
    const second = await b.acquire();
    assert.ok(second.acquired);
    assert.ok(second.tenure.token > first.tenure.token);
    assert.equal(await b.write(second.tenure, [record(second.tenure.token, 2_000)]), 1);

    // A wakes up: its renewals and writes are refused, even of a result newer by the clock.
    assert.equal(await a.renew(first.tenure), false);
    assert.equal(await a.write(first.tenure, [record(first.tenure.token, 1_500)]), undefined);
    assert.equal(await a.write(first.tenure, [record(first.tenure.token, 9_000)]), undefined);
    assert.equal(await a.release(first.tenure), false, 'nor can it release what is not its own');
    // B itself cannot go backwards either.
    assert.equal(await b.write(second.tenure, [record(second.tenure.token, 1_999)]), 0);
    const stored = JSON.parse((await redis.hget(keys.statuses, 'docker')) ?? '{}') as { tag: string };
    assert.equal(stored.tag, `${second.tenure.token}@2000`);

    assert.equal(await b.release(second.tenure), true);
    assert.equal(await redis.exists(keys.lease), 0);
  });
});

/** Waits until every stored status record carries `token`: the new leader rewrote them all. */
async function everyRecordUnder(
  redis: Redis,
  shared: SharedHealthCacheOptions,
  token: number | undefined,
): Promise<void> {
  await eventually(
    async () =>
      Object.values(await redis.hgetall(sharedKeys(shared.key ?? '').statuses)).every(
        (text) => (JSON.parse(text) as { token: number }).token === token,
      ),
    POLL * 3 + 3_000,
    'every record rewritten under the new leader',
  );
}

/** Replica `a` leading through a proxy the test can cut or hold, replica `b` following directly. */
async function leaderBehindProxy() {
  const server = await RedisServer.start();
  const redis = await connect(server);
  const proxy = await CuttableProxy.start(server.port);
  cleanups.push(() => proxy.close());
  const shared = options(server.url, { commandTimeout: 300 });
  const viaProxy = `redis://127.0.0.1:${proxy.port}`;
  const a = start(
    new SharedHealthCache(countingRegistry(3, new Map()), { ...shared, redis: viaProxy, replicaId: 'a' }),
  );
  await eventually(() => a.cache.role === 'leader', 10_000, 'a leading');
  const b = start(new SharedHealthCache(countingRegistry(3, new Map()), { ...shared, replicaId: 'b' }));
  await eventually(
    () => b.cache.role === 'follower' && b.cache.snapshot().length === 3,
    10_000,
    'b following',
  );
  const aToken = a.cache.leaseToken;
  return { redis, proxy, shared, a, b, aToken };
}

describe('SharedHealthCache in one process (real redis-server)', () => {
  test('leader and follower: reads mirror, a follower refresh is forwarded, stop releases everything', async () => {
    const server = await RedisServer.start();
    const redis = await connect(server);
    const baseline = await connectedClients(redis);
    const leaderCalls = new Map<string, number>();
    const followerCalls = new Map<string, number>();
    const shared = options(server.url);
    const leader = start(
      new SharedHealthCache(countingRegistry(5, leaderCalls), { ...shared, replicaId: 'one' }),
    );
    await eventually(() => leader.cache.role === 'leader', 10_000, 'the first replica leading');
    const follower = start(
      new SharedHealthCache(countingRegistry(5, followerCalls), { ...shared, replicaId: 'two' }),
    );
    await eventually(() => follower.cache.role === 'follower', 10_000, 'the second following');

    // Warm start: the follower knows everything before the leader's next sweep.
    const mirrored = follower.cache.get('svc-0');
    assert.ok(mirrored);
    assert.equal(mirrored.message, 'ok svc-0');
    assert.deepEqual(mirrored.details, { version: '1.2.3' });
    assert.equal(follower.cache.snapshot().length, 5);

    // A refresh on the follower is run by the leader: fresh results, and the follower calls nothing.
    const requested = Date.now();
    const snapshot = await follower.cache.checkNow();
    assert.equal(snapshot.length, 5);
    assert.ok(snapshot.every((status) => status.checkedAt.getTime() >= requested));
    const single = await follower.cache.checkProvider('svc-3');
    assert.ok(single && single.checkedAt.getTime() >= requested);
    assert.equal(
      followerCalls.size,
      0,
      `the follower never called a checker: ${JSON.stringify([...followerCalls])}`,
    );
    assert.equal(follower.cache.role, 'follower');
    await assert.rejects(follower.cache.checkProvider('nope'), /No provider named "nope"/);

    // Stopping the leader hands over at once (released lease), well before the TTL.
    const stoppedAt = Date.now();
    await leader.stop();
    assert.equal(leader.cache.role, 'idle');
    await eventually(() => follower.cache.role === 'leader', TTL, 'the follower taking over after a release');
    assert.ok(Date.now() - stoppedAt < TTL);
    await follower.stop();
    assert.deepEqual(leader.errors, []);
    assert.deepEqual(follower.errors, []);
    await eventually(
      async () => (await connectedClients(redis)) === baseline,
      5_000,
      'every connection closed',
    );
    assert.equal(await redis.exists(sharedKeys(shared.key ?? '').lease), 0, 'the lease released');
    // Reads keep working after stop.
    assert.equal(follower.cache.snapshot().length, 5);
  });

  test('a client the caller owns is used and left open; only the subscriber is ours', async () => {
    const server = await RedisServer.start();
    const redis = await connect(server);
    const owned = await connect(server);
    const errorListeners = owned.listenerCount('error');
    const running = start(new SharedHealthCache(countingRegistry(2, new Map()), options(owned)));
    await eventually(() => running.cache.role === 'leader', 10_000, 'leading');
    await eventually(() => running.cache.get('svc-1') !== undefined, 5_000, 'a result');
    const key = running.cache.sharing.key;
    await eventually(
      async () => (await redis.hlen(sharedKeys(key).statuses)) === 2,
      5_000,
      'results written',
    );
    await running.stop();
    assert.equal(owned.status, 'ready');
    assert.equal(await owned.ping(), 'PONG');
    assert.equal(owned.listenerCount('error'), errorListeners);
  });

  test('credentials never appear in errors or statuses; a good password works', async () => {
    const password = 'pa55-Wörd/with?chars';
    const server = await RedisServer.start({ password });
    const good = start(new SharedHealthCache(countingRegistry(1, new Map()), options(server.url)));
    await eventually(() => good.cache.role === 'leader', 10_000, 'leading with the password');
    const wrongUrl = server.url.replace(
      encodeURIComponent(password),
      encodeURIComponent(`${password}-wrong`),
    );
    const wrong = start(new SharedHealthCache(countingRegistry(1, new Map()), options(wrongUrl)));
    await eventually(() => wrong.errors.length > 0, 10_000, 'an authentication error');
    await eventually(() => wrong.cache.role === 'local', TTL * 3, 'polling locally when Redis refuses it');
    await wrong.stop();
    await good.stop();
    const everything = JSON.stringify([
      wrong.errors.map((error) => [error.name, error.message]),
      good.errors.map((error) => error.message),
      wrong.cache.snapshot(),
      good.cache.snapshot(),
      wrong.roles,
    ]);
    assert.match(everything, /WRONGPASS|NOAUTH|invalid|auth/i, 'the error says what went wrong');
    assert.ok(!everything.includes(password) && !everything.includes(encodeURIComponent(password)));
    assert.ok(!everything.includes(`${password}-wrong`));
  });

  test('a leader cut off from Redis is replaced within the TTL, writes nothing after, and rejoins as follower', async () => {
    const { redis, proxy, shared, a, b, aToken } = await leaderBehindProxy();
    assert.ok(aToken !== undefined);

    const cutAt = Date.now();
    proxy.cut();
    await eventually(() => b.cache.role === 'leader', TTL + POLL + 3_000, 'b taking over');
    assert.ok(Date.now() - cutAt <= TTL + POLL + 3_000);
    const bToken = b.cache.leaseToken;
    assert.ok(bToken !== undefined && bToken > aToken);
    // Cut off, a stops writing and polls on its own once its lease could have expired.
    await eventually(() => a.cache.role === 'local', TTL * 3, 'a polling locally');
    await everyRecordUnder(redis, shared, bToken);

    proxy.heal();
    await eventually(() => a.cache.role === 'follower', TTL * 4, 'a rejoining as follower');
    assert.equal(b.cache.role, 'leader');
    for (const text of Object.values(await redis.hgetall(sharedKeys(shared.key ?? '').statuses))) {
      assert.equal(
        (JSON.parse(text) as { token: number }).token,
        bToken,
        'nothing written by a after the cut',
      );
    }
    assert.ok(a.errors.length > 0, 'a reported losing Redis');
    await a.stop();
    await b.stop();
  });

  test('a write delayed in the network past the lease reaches Redis late and is refused by the fence', async () => {
    const { redis, proxy, shared, a, b, aToken } = await leaderBehindProxy();

    // a keeps leading and writing while its lease lasts, but nothing it sends arrives.
    proxy.hold();
    await eventually(() => b.cache.role === 'leader', TTL * 3, 'b taking over');
    const bToken = b.cache.leaseToken;
    await everyRecordUnder(redis, shared, bToken);
    const watcher = redis.duplicate();
    watcher.on('error', () => {});
    cleanups.push(() => void watcher.disconnect());
    const published: string[] = [];
    watcher.on('message', (_channel: string, message: string) => published.push(message));
    await watcher.subscribe(sharedKeys(shared.key ?? '').updates);
    const before = await redis.hgetall(sharedKeys(shared.key ?? '').statuses);

    // The late bytes include a's fenced write (it names the updates channel) with a's lease value.
    const delivered = proxy.release();
    assert.ok(delivered.includes(sharedKeys(shared.key ?? '').updates), 'a write of a was held back');
    assert.ok(delivered.includes(`${aToken}:a`), 'sent under its old lease');
    await redis.ping(); // after the delivered commands, on the server's single thread
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = await redis.hgetall(sharedKeys(shared.key ?? '').statuses);
    for (const [name, text] of Object.entries(after)) {
      const record = JSON.parse(text) as { token: number; checkedAt: number };
      const previous = JSON.parse(before[name] ?? '{}') as { checkedAt?: number };
      assert.equal(record.token, bToken, `${name} overwritten by the late write`);
      assert.ok(record.checkedAt >= (previous.checkedAt ?? 0), `${name} went backwards`);
    }
    for (const message of published)
      assert.ok(!message.includes(`"token":${aToken},`), 'a late write was published');
    await a.stop();
    await b.stop();
  });

  test('started while Redis is down: polls locally after the TTL without crashing, joins when Redis comes up', async () => {
    const server = await RedisServer.start();
    await server.stop();
    const calls = new Map<string, number>();
    const running = start(new SharedHealthCache(countingRegistry(2, calls), options(server.url)));
    await eventually(() => running.cache.role === 'local', TTL * 3, 'polling locally');
    await eventually(() => running.cache.snapshot().length === 2, POLL * 3, 'its own results');
    assert.ok(
      running.errors.length > 0 && running.errors.length < 10,
      'the outage reported, without a flood',
    );
    await server.restart();
    await eventually(() => running.cache.role === 'leader', TTL * 3, 'leading once Redis is up');
    const redis = await connect(server);
    await eventually(
      async () => (await redis.hlen(sharedKeys(running.cache.sharing.key).statuses)) === 2,
      POLL * 3,
      'its statuses written to the new Redis',
    );
    await running.stop();
  });

  test('a frozen Redis (SIGSTOP): replicas keep serving, poll locally after the TTL, and rejoin', async () => {
    const server = await RedisServer.start();
    const calls = new Map<string, number>();
    const shared = options(server.url, { commandTimeout: 300 });
    const a = start(new SharedHealthCache(countingRegistry(3, calls), { ...shared, replicaId: 'a' }));
    await eventually(() => a.cache.role === 'leader', 10_000, 'a leading');
    const b = start(new SharedHealthCache(countingRegistry(3, calls), { ...shared, replicaId: 'b' }));
    await eventually(() => b.cache.role === 'follower' && b.cache.get('svc-0'), 10_000, 'b following');

    server.pause();
    cleanups.push(() => server.resume());
    await eventually(
      () => a.cache.role === 'local' && b.cache.role === 'local',
      TTL * 3,
      'both polling locally',
    );
    const bSince = b.cache.get('svc-0')?.checkedAt.getTime() ?? 0;
    await eventually(
      () => (b.cache.get('svc-0')?.checkedAt.getTime() ?? 0) > bSince,
      POLL * 3,
      'b checking itself',
    );
    assert.ok(b.errors.some((error) => /did not answer|timed out|timeout/i.test(error.message)));

    server.resume();
    await eventually(
      () => [a.cache.role, b.cache.role].sort().join() === 'follower,leader',
      TTL * 4,
      'one leader again',
    );
    await a.stop();
    await b.stop();
  });
});
