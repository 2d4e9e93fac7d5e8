/**
 * Redis as users deploy it: Sentinel (a master, a replica, three
 * `redis-sentinel`s) and a 3-master Cluster (`redis-cli --cluster create`),
 * each started here for real. Two SharedHealthCache replicas share polling
 * through them; the Redis master fails over and polling and the lease carry
 * on. Bad setups (a Cluster node given as one server, a Sentinel master name
 * nobody knows) get a clear RedisSetupError and the replica polls alone.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { Cluster } from 'ioredis';
import { ProviderRegistry } from '../src/index.js';
import { sharedKeys } from '../src/redis/keys.js';
import { isRedisSetupError, SharedHealthCache, type SharedHealthCacheOptions } from '../src/redis/index.js';
import { RedisClusterSetup } from './support/redis-cluster.js';
import { until } from './support/redis-process.js';
import { RedisSentinelSetup } from './support/redis-sentinel.js';

const POLL = 400;
const TTL = 1_500;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Providers (two unless `count`) whose calls are counted (`calls` is shared by every replica of a test). */
function registry(calls: Map<string, number>, count = 2): ProviderRegistry {
  const providers = new ProviderRegistry();
  const names = count === 2 ? ['svc-a', 'svc-b'] : Array.from({ length: count }, (_, i) => `svc-${i}`);
  for (const name of names) {
    providers.register(name, {
      healthCheck: async () => {
        calls.set(name, (calls.get(name) ?? 0) + 1);
        return { healthy: true };
      },
    });
  }
  return providers;
}

interface Running {
  readonly cache: SharedHealthCache;
  readonly errors: Error[];
}

function start(
  redis: SharedHealthCacheOptions['redis'],
  key: string,
  calls: Map<string, number>,
  shards?: { providers: number },
): Running {
  const cache = new SharedHealthCache(registry(calls, shards?.providers), {
    redis,
    key,
    pollInterval: POLL,
    leaseTtl: TTL,
    shards: shards !== undefined,
  });
  const errors: Error[] = [];
  cache.onRedisError((error) => errors.push(error));
  const controller = new AbortController();
  const done = cache.run(controller.signal);
  cleanups.push(async () => {
    controller.abort();
    await done;
  });
  return { cache, errors };
}

/** Waits until one of `replicas` leads and the other follows; returns the leader. */
async function settled(replicas: readonly Running[]): Promise<Running> {
  await until(
    () =>
      replicas.filter((r) => r.cache.role === 'leader').length === 1 &&
      replicas.filter((r) => r.cache.role === 'follower').length === replicas.length - 1,
    20_000,
    'one leader and the rest following',
  );
  return replicas.find((r) => r.cache.role === 'leader')!;
}

/** Waits until every replica holds a result of svc-a checked after `since` (on this process's clock). */
async function freshEverywhere(replicas: readonly Running[], since: number, what: string): Promise<void> {
  await until(
    () => replicas.every((r) => (r.cache.get('svc-a')?.checkedAt.getTime() ?? 0) > since),
    20_000,
    what,
  );
}

/** Polling goes on through a failover: fresh results on every replica, one leader, the provider called about once per interval. */
async function carriesOn(
  replicas: readonly Running[],
  calls: Map<string, number>,
  failover: () => Promise<unknown>,
) {
  await settled(replicas);
  await freshEverywhere(replicas, Date.now(), 'results mirrored before the failover');
  await failover();
  const after = Date.now();
  await freshEverywhere(replicas, after + POLL, 'fresh results on every replica after the failover');
  await settled(replicas);
  // Still shared, not everyone polling alone: over 6 intervals the calls stay near 6, far from 12.
  calls.clear();
  const window = Date.now();
  await new Promise((resolve) => setTimeout(resolve, POLL * 6));
  const perInterval = (calls.get('svc-a') ?? 0) / ((Date.now() - window) / POLL);
  assert.ok(
    perInterval <= 1.5,
    `svc-a called ${perInterval.toFixed(2)} times per interval after the failover`,
  );
}

describe('Redis Sentinel (real redis-sentinel processes)', { timeout: 120_000 }, () => {
  let setup: RedisSentinelSetup;
  before(async () => (setup = await RedisSentinelSetup.start()));
  after(async () => await setup?.stop());

  test('two replicas share polling through Sentinel, and carry on through SENTINEL FAILOVER', async () => {
    const calls = new Map<string, number>();
    const redis = { sentinels: setup.addresses, name: setup.name };
    const replicas = [start(redis, 'sentinel-a', calls), start(redis, 'sentinel-a', calls)];
    await carriesOn(replicas, calls, () => setup.failover());
  });

  test('… and through the master being killed', async () => {
    const calls = new Map<string, number>();
    const redis = { sentinels: setup.addresses, name: setup.name };
    const replicas = [start(redis, 'sentinel-b', calls), start(redis, 'sentinel-b', calls)];
    await carriesOn(replicas, calls, () => setup.killMaster());
  });

  test('a master name no sentinel knows: a RedisSetupError naming it, and the replica polls alone', async () => {
    const calls = new Map<string, number>();
    const replica = start({ sentinels: setup.addresses, name: 'no-such-master' }, 'sentinel-c', calls);
    await until(() => replica.errors.some(isRedisSetupError), 10_000, 'a RedisSetupError');
    const error = replica.errors.find(isRedisSetupError)!;
    assert.equal(error.kind, 'unknown-sentinel-master');
    assert.match(
      error.message,
      /knows no master named "no-such-master" \(redis\.name; asked 127\.0\.0\.1:\d+/,
    );
    await until(() => replica.cache.role === 'local', 10_000, 'polling alone');
    await until(() => replica.cache.get('svc-a') !== undefined, 10_000, 'a result of its own');
  });
});

describe('Redis Cluster (3 masters with a replica each)', { timeout: 150_000 }, () => {
  let cluster: RedisClusterSetup;
  before(async () => (cluster = await RedisClusterSetup.start()));
  after(async () => await cluster?.stop());

  test('every key of a replica set is on one slot (the {prefix} hash tag)', async () => {
    const client = cluster.connect(cluster.nodes[0]!.port);
    cleanups.push(() => client.disconnect());
    const keys: string[] = Object.values(sharedKeys('cluster-slots') as unknown as Record<string, string>);
    const slots = new Set<number>();
    for (const key of keys) slots.add((await client.call('CLUSTER', 'KEYSLOT', key)) as number);
    assert.equal(slots.size, 1, `keys on slots ${[...slots].join(', ')}`);
  });

  test('two replicas share polling through the Cluster, and carry on through CLUSTER FAILOVER', async () => {
    const calls = new Map<string, number>();
    const redis = { cluster: cluster.seeds };
    const replicas = [start(redis, 'cluster-a', calls), start(redis, 'cluster-a', calls)];
    await carriesOn(replicas, calls, () => cluster.failover(sharedKeys('cluster-a').lease));
    assert.deepEqual(
      replicas.flatMap((r) => r.errors.filter(isRedisSetupError)),
      [],
    );
  });

  test('… and through the master of the slot being killed, with an ioredis Cluster the caller owns', async () => {
    const calls = new Map<string, number>();
    const owned = new Cluster(
      cluster.seeds.map((seed) => ({ host: '127.0.0.1', port: Number(seed.split(':')[1]) })),
    );
    owned.on('error', () => {});
    cleanups.push(() => owned.disconnect());
    const replicas = [
      start(owned, 'cluster-b', calls),
      start({ cluster: cluster.seeds }, 'cluster-b', calls),
    ];
    await carriesOn(replicas, calls, () => cluster.killMasterOf(sharedKeys('cluster-b').lease));
  });

  test('sharded replicas through the Cluster: the providers are split, and polling carries on through CLUSTER FAILOVER', async () => {
    const calls = new Map<string, number>();
    const redis = { cluster: cluster.seeds };
    // A prefix whose slot's master still has a replica (an earlier test may have killed one).
    let key = 'cluster-shards';
    for (let i = 0; (await cluster.ownersOf(sharedKeys(key).members)).replica === undefined; i++)
      key = `cluster-shards-${i}`;
    const replicas = [0, 1].map(() => start(redis, key, calls, { providers: 12 }));
    const split = (): boolean =>
      replicas.every((r) => r.cache.replica.role === 'member' && r.cache.replica.members?.length === 2) &&
      replicas.reduce((sum, r) => sum + (r.cache.replica.share?.size ?? 0), 0) === 12;
    await until(split, 20_000, 'two members splitting 12 providers');
    await cluster.failover(sharedKeys(key).members);
    const after = Date.now();
    await until(
      () =>
        replicas.every((r) =>
          Array.from({ length: 12 }, (_, i) => r.cache.get(`svc-${i}`)).every(
            (status) => (status?.checkedAt.getTime() ?? 0) > after + POLL,
          ),
        ),
      20_000,
      'fresh results of all 12 on both replicas after the failover',
    );
    await until(split, 20_000, 'still two members after the failover');
  });

  test('a Cluster node given as a single server: a RedisSetupError saying to use redis.cluster, and the replica polls alone', async () => {
    const calls = new Map<string, number>();
    const node = cluster.nodes.find((n) => n.alive)!;
    const replica = start(`redis://127.0.0.1:${node.port}`, 'cluster-c', calls);
    await until(() => replica.cache.role === 'local', 10_000, 'polling alone');
    const error = replica.errors.find(isRedisSetupError);
    assert.equal(error?.kind, 'cluster-as-single');
    // Found by INFO at connect (cluster_enabled:1), or earlier by a MOVED reply to a first command.
    assert.match(
      error.message,
      /Cluster node, not a single server: .*(cluster_enabled:1|MOVED).*`redis\.cluster`/,
    );
    await until(() => replica.cache.get('svc-a') !== undefined, 10_000, 'a result of its own');
  });
});
