/**
 * Shared silences on real redis-server processes: replicas as separate
 * processes (add on one, in force on the other; kill -9, restart, expire),
 * and in one process for the atomic checks, bad records in Redis, recovery
 * and the options.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, afterEach, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { ProviderRegistry } from '../src/index.js';
import { isOptionError } from '../src/errors.js';
import {
  MaintenanceSchedule,
  parseMaintenanceWindow,
  parseSilenceInput,
  SilenceConflictError,
  SilenceLimitError,
} from '../src/quiet/index.js';
import {
  isBadSilenceRecordError,
  SharedHealthCache,
  SILENCE_POLL_INTERVAL,
  type SharedHealthCacheOptions,
} from '../src/redis/index.js';
import { sharedKeys } from '../src/redis/keys.js';
import { encodeSilence } from '../src/redis/silence-record.js';
import type { ReplicaState, SilenceReplicaConfig } from './fixtures/silence-replica.js';
import { eventually } from './support/redis-replicas.js';
import { RedisServer } from './support/redis-server.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/silence-replica.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const POLL = 500;
const TTL = 1_500;
/**
 * The promise is "in force on every replica within 1 s". A replica reads the
 * version every 250 ms and then the hash; the rest of this bound is for the
 * IPC round trips of the test on a busy machine, not for the replicas.
 */
const WITHIN = 1_000 + 1_000;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
after(() => RedisServer.stopAll());

interface Reply {
  readonly seq: number;
  readonly silence?: { id: string; endsAt: string };
  readonly removed?: boolean;
  readonly state?: ReplicaState;
  readonly error?: { name: string; message: string; option?: string };
}

/** A replica process (test/fixtures/silence-replica.ts) and what it reported. */
class ReplicaChild {
  readonly messages: Record<string, unknown>[] = [];
  readonly exited: Promise<void>;
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, (reply: Reply) => void>();
  #seq = 0;
  #stderr = '';

  constructor(config: SilenceReplicaConfig) {
    this.#child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
      cwd: ROOT,
      env: { ...process.env, SILENCE_REPLICA_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.#child.stderr?.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
    this.#child.on('message', (message: Record<string, unknown>) => {
      this.messages.push(message);
      if (message.type === 'reply') this.#waiting.get(message.seq as number)?.(message as unknown as Reply);
    });
    this.exited = new Promise((resolve) => this.#child.once('exit', () => resolve()));
    cleanups.push(() => this.kill());
  }

  get role(): string | undefined {
    return this.messages.findLast((message) => message.type === 'role')?.role as string | undefined;
  }

  get crashes(): Record<string, unknown>[] {
    return this.messages.filter((message) => message.type === 'crash');
  }

  async request(message: Record<string, unknown>, timeout = 10_000): Promise<Reply> {
    const seq = ++this.#seq;
    return await new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(seq);
        reject(new Error(`no reply to ${String(message.type)} within ${timeout} ms: ${this.#stderr}`));
      }, timeout);
      this.#waiting.set(seq, (reply) => {
        clearTimeout(timer);
        this.#waiting.delete(seq);
        resolve(reply);
      });
      this.#child.send({ ...message, seq });
    });
  }

  async state(): Promise<ReplicaState> {
    const { state } = await this.request({ type: 'state' });
    assert.ok(state);
    return state;
  }

  /** SIGKILL, no goodbye. */
  async kill(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    await this.exited;
  }
}

/** Whether every provider of `names` shows silence `id` and the others do not. */
function silencedExactly(state: ReplicaState, id: string, names: readonly string[]): boolean {
  return ['db', 'api', 'cache'].every((name) => {
    const ids = state.silencedBy[name];
    return ids !== undefined && ids.includes(id) === names.includes(name);
  });
}

/** Runs `use` with a connection of its own to `server`. */
async function withRedis<T>(server: RedisServer, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

const PROD = {
  matchers: 'env=prod',
  duration: 600_000,
  comment: 'database migration',
  createdBy: 'ops',
};

describe('shared silences across replica processes (real redis-server)', { timeout: 120_000 }, () => {
  test('added on one: in force on the other; survives a kill -9 and a restart; expired on one: gone on both', async () => {
    const server = await RedisServer.start();
    const key = `s${Math.random().toString(36).slice(2)}`;
    const config = (replicaId: string): SilenceReplicaConfig => ({
      redis: server.url,
      key,
      replicaId,
      pollInterval: POLL,
      leaseTtl: TTL,
    });
    // A silence already in Redis (on `cache`): every replica shows it once it has read the set at start,
    // so the add below is seen through the version, not through a first read that happened to come late.
    const seed = parseSilenceInput({ ...PROD, matchers: ['cache'] }, Date.now());
    const keys = sharedKeys(key);
    await withRedis(server, async (redis) => {
      await redis.hset(keys.silences, seed.id, encodeSilence(seed));
      await redis.set(keys.silencesVersion, 'seeded');
    });
    const a = new ReplicaChild(config('a'));
    const b = new ReplicaChild(config('b'));
    await eventually(
      () => [a.role, b.role].sort().join() === 'follower,leader',
      15_000,
      'one leader and one follower',
    );
    await eventually(
      async () =>
        Object.keys((await a.state()).silencedBy).length === 3 &&
        Object.keys((await b.state()).silencedBy).length === 3,
      10_000,
      'every status on both',
    );
    await eventually(
      async () =>
        (await a.state()).silencedBy.cache?.includes(seed.id) &&
        (await b.state()).silencedBy.cache?.includes(seed.id),
      10_000,
      'the silence stored before the start, in force on both',
    );

    const added = await a.request({ type: 'add', input: PROD });
    assert.ok(added.silence, JSON.stringify(added.error));
    const { id } = added.silence;
    assert.ok(silencedExactly(await a.state(), id, ['db', 'api']), 'in force at once where it was added');
    // Bounded wait (see WITHIN), not a timing assertion.
    await eventually(
      async () => {
        const state = await b.state();
        return state.silences.includes(id) && silencedExactly(state, id, ['db', 'api']);
      },
      WITHIN,
      'the silence in force on the other replica',
      25,
    );

    // The same matchers over the same time, asked of the other replica: refused there (Redis decides).
    const twice = await b.request({ type: 'add', input: PROD });
    assert.equal(twice.error?.name, 'SilenceConflictError', JSON.stringify(twice));

    // kill -9 whichever leads: the survivor keeps the silence, and so does Redis.
    const [leader, survivor] = a.role === 'leader' ? [a, b] : [b, a];
    await leader.kill();
    await eventually(() => survivor.role === 'leader', TTL * 4, 'the survivor leading');
    const afterKill = await survivor.state();
    assert.deepEqual([...afterKill.silences].sort(), [id, seed.id].sort());
    assert.ok(silencedExactly(afterKill, id, ['db', 'api']), JSON.stringify(afterKill));

    // A restarted replica (new process, same key) loads it from Redis.
    const restarted = new ReplicaChild(config('restarted'));
    await eventually(() => restarted.role === 'follower', TTL * 4, 'the restarted replica following');
    await eventually(
      async () => {
        const state = await restarted.state();
        return state.silences.includes(id) && silencedExactly(state, id, ['db', 'api']);
      },
      WITHIN,
      'the silence in force on the restarted replica',
      25,
    );

    // Expired on the restarted one: gone on both.
    const expired = await restarted.request({ type: 'expire', id });
    assert.equal(expired.removed, true, JSON.stringify(expired));
    await eventually(
      async () => {
        const state = await survivor.state();
        return state.silences.join() === seed.id && onlySeed(state);
      },
      WITHIN,
      'the silence gone on the other replica',
      25,
    );
    assert.ok(onlySeed(await restarted.state()));
    assert.equal((await survivor.request({ type: 'expire', id })).removed, false, 'already gone');
    for (const replica of [a, b, restarted]) assert.deepEqual(replica.crashes, []);

    /** Only the seed silence, on `cache`, is in force. */
    function onlySeed(state: ReplicaState): boolean {
      const { db, api, cache } = state.silencedBy;
      return db?.length === 0 && api?.length === 0 && cache?.join() === seed.id;
    }
  });
});

/** Test-local replicas in this process. */
interface Local {
  readonly cache: SharedHealthCache;
  readonly errors: Error[];
  stop(): Promise<void>;
}

function labelledRegistry(health: Map<string, boolean> = new Map()): ProviderRegistry {
  const registry = new ProviderRegistry();
  const check = (name: string) => ({
    healthCheck: async () => ({
      healthy: health.get(name) ?? true,
      message: health.get(name) === false ? 'down' : 'ok',
    }),
  });
  registry.register('db', check('db'), { labels: { env: 'prod', tier: 'db' } });
  registry.register('api', check('api'), { labels: { env: 'prod', tier: 'web' } });
  registry.register('cache', check('cache'), { labels: { env: 'dev' } });
  return registry;
}

function local(options: SharedHealthCacheOptions, registry = labelledRegistry()): Local {
  const cache = new SharedHealthCache(registry, options);
  const errors: Error[] = [];
  cache.onRedisError((error) => errors.push(error));
  const controller = new AbortController();
  const done = cache.run(controller.signal);
  const stop = async (): Promise<void> => {
    controller.abort();
    await done;
  };
  cleanups.push(stop);
  return { cache, errors, stop };
}

async function group(extra: Partial<SharedHealthCacheOptions> = {}): Promise<{
  redis: Redis;
  shared: SharedHealthCacheOptions;
  keys: ReturnType<typeof sharedKeys>;
}> {
  const server = await RedisServer.start();
  const redis = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  await redis.connect();
  cleanups.push(() => void redis.disconnect());
  const key = `s${Math.random().toString(36).slice(2)}`;
  const shared = {
    redis: server.url,
    key,
    pollInterval: POLL,
    leaseTtl: TTL,
    sharedSilences: true,
    ...extra,
  };
  return { redis, shared, keys: sharedKeys(key) };
}

async function running(replica: Local): Promise<void> {
  await eventually(
    () => ['leader', 'follower'].includes(replica.cache.role) && replica.cache.snapshot().length === 3,
    10_000,
    'a replica leading or following with every status',
  );
}

describe('shared silences in Redis (real redis-server)', { timeout: 60_000 }, () => {
  test('adds racing on two replicas: one wins a conflict, and the limit holds across them', async () => {
    const { redis, shared, keys } = await group({ sharedSilences: { maxSilences: 3 } });
    const a = local({ ...shared, replicaId: 'a' });
    const b = local({ ...shared, replicaId: 'b' });
    await Promise.all([running(a), running(b)]);
    const control = (replica: Local) => replica.cache.silences!;
    const same = { matchers: ['db'], duration: 60_000, comment: 'race', createdBy: 't' };
    const raced = await Promise.allSettled([control(a).add(same), control(b).add(same)]);
    assert.equal(raced.filter((result) => result.status === 'fulfilled').length, 1, 'exactly one added');
    const lost = raced.find((result) => result.status === 'rejected');
    assert.ok(lost?.reason instanceof SilenceConflictError, String(lost?.reason));

    const others = ['api', 'cache', 'db,api'].map((names) => ({ ...same, matchers: names.split(',') }));
    const flood = await Promise.allSettled(others.map((input, i) => control(i % 2 ? a : b).add(input)));
    const refused = flood.filter((result) => result.status === 'rejected');
    assert.equal(refused.length, 1, 'three at most: the fourth refused');
    assert.ok((refused[0] as PromiseRejectedResult).reason instanceof SilenceLimitError);
    assert.equal(await redis.hlen(keys.silences), 3);
    await eventually(
      () => control(a).list().length === 3 && control(b).list().length === 3,
      2_000,
      'both see 3',
    );
  });

  test('bad input changes nothing; add and expire need a running cache', async () => {
    const { redis, shared, keys } = await group();
    const idle = new SharedHealthCache(labelledRegistry(), shared);
    await assert.rejects(idle.silences!.add({ ...PROD }), /not connected to Redis/);
    const a = local({ ...shared, replicaId: 'a' });
    await running(a);
    const control = a.cache.silences!;
    const bad: [unknown, string][] = [
      [{ ...PROD, matchers: 'env in (' }, 'matchers'],
      [{ ...PROD, matchers: '' }, 'matchers'],
      [{ ...PROD, duration: -1 }, 'duration'],
      [{ ...PROD, comment: '' }, 'comment'],
      [{ ...PROD, endAt: 'soon' }, 'endAt'],
      [
        { ...PROD, matchers: Array.from({ length: 200 }, (_, i) => `provider-${'x'.repeat(200)}-${i}`) },
        'matchers',
      ],
    ];
    for (const [input, field] of bad) {
      await assert.rejects(
        control.add(input),
        (error: unknown) => isOptionError(error) && error.option === field,
      );
    }
    assert.equal(await redis.hlen(keys.silences), 0);
    assert.equal(await control.expire('not-a-silence'), false);
    assert.equal(await control.expire('x'.repeat(10_000)), false);
  });

  test('a corrupt silence record is reported and skipped, not fatal; the others stay in force', async () => {
    const { redis, shared, keys } = await group();
    const a = local({ ...shared, replicaId: 'a' });
    await running(a);
    const good = await a.cache.silences!.add({ ...PROD });
    const id = '7d6c0e2a-1f3b-4c5d-8e9f-0a1b2c3d4e5f';
    const now = Date.now();
    const badSelector = {
      v: 1,
      id,
      matchers: 'env in (',
      startsAt: now,
      endsAt: now + 60_000,
      comment: 'x',
      createdBy: 'y',
      endsOnRecovery: false,
    };
    await redis.hset(keys.silences, {
      [id]: JSON.stringify(badSelector),
      'not-json': '{oops',
      elsewhere: JSON.stringify({ ...badSelector, id: good.id }),
      huge: 'x'.repeat(40_000),
    });
    await redis.set(keys.silencesVersion, 'changed by hand');
    // A replica starting now loads them all at once; the running one at its next read.
    const b = local({ ...shared, replicaId: 'b' });
    await running(b);
    for (const replica of [a, b]) {
      const reported = await eventually(
        () => {
          const bad = replica.errors.filter(isBadSilenceRecordError);
          return bad.length >= 4 && bad;
        },
        5_000,
        'the bad records reported',
      );
      assert.deepEqual(
        reported.map((error) => error.id).sort(),
        [id, 'elsewhere', 'huge', 'not-json'].sort(),
      );
      assert.match(reported.find((error) => error.id === id)?.message ?? '', /matchers/);
      assert.match(reported.find((error) => error.id === 'huge')?.message ?? '', /over 32768 characters/);
      assert.deepEqual(
        replica.cache.silences!.list().map((silence) => silence.id),
        [good.id],
      );
      assert.deepEqual(replica.cache.get('db')?.silencedBy, [good.id]);
    }
    // Reported once: later reads of the same records stay quiet.
    await new Promise((resolve) => setTimeout(resolve, SILENCE_POLL_INTERVAL * 3));
    await redis.set(keys.silencesVersion, 'again');
    await new Promise((resolve) => setTimeout(resolve, SILENCE_POLL_INTERVAL * 3));
    assert.equal(b.errors.filter(isBadSilenceRecordError).length, 4);
    // An add still works beside them (the add script skips what it cannot read).
    const more = await b.cache.silences!.add({ ...PROD, matchers: ['cache'] });
    await eventually(() => a.cache.get('cache')?.silencedBy.includes(more.id), 2_000, 'the new one on a');
  });

  test('a silences key of another type, or an oversized hash, is reported once; polling goes on', async () => {
    const { redis, shared, keys } = await group({ sharedSilences: { maxSilences: 2 } });
    const a = local({ ...shared, replicaId: 'a' });
    await running(a);
    const kept = await a.cache.silences!.add({ ...PROD });
    await redis.del(keys.silences);
    await redis.set(keys.silences, 'not a hash');
    await redis.set(keys.silencesVersion, 'v2');
    const wrongType = (): Error[] => a.errors.filter((error) => /WRONGTYPE/.test(error.message));
    await eventually(() => wrongType().length > 0, 5_000, 'the wrong type reported');
    await new Promise((resolve) => setTimeout(resolve, TTL * 2)); // lease rounds answer meanwhile
    assert.equal(wrongType().length, 1, 'reported once, not at every poll');
    assert.deepEqual(
      a.cache.silences!.list().map((silence) => silence.id),
      [kept.id],
      'kept as it was',
    );

    await redis.del(keys.silences);
    await redis.hset(
      keys.silences,
      Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((field) => [field, '{}'])),
    );
    await redis.set(keys.silencesVersion, 'v3');
    const tooMany = (): Error[] =>
      a.errors.filter((error) => /holds 5 entries, more than 4/.test(error.message));
    await eventually(() => tooMany().length > 0, 5_000, 'the oversized hash reported');
    assert.equal(a.errors.filter(isBadSilenceRecordError).length, 0, 'not read at all');
    assert.deepEqual(
      a.cache.silences!.list().map((silence) => silence.id),
      [kept.id],
    );

    await redis.del(keys.silences);
    await redis.set(keys.silencesVersion, 'v4');
    await eventually(() => a.cache.silences!.list().length === 0, 5_000, 'the emptied hash read');
    const again = await a.cache.silences!.add({ ...PROD, matchers: ['db'] });
    assert.deepEqual(a.cache.get('db')?.silencedBy, [again.id]);
  });

  test('a silence ending on recovery ends on every replica, and in Redis', async () => {
    const health = new Map([['db', false]]);
    const { redis, shared, keys } = await group();
    const a = local({ ...shared, replicaId: 'a' }, labelledRegistry(health));
    await running(a);
    const b = local({ ...shared, replicaId: 'b' }, labelledRegistry(health));
    await running(b);
    await eventually(
      () => a.cache.get('db')?.state === 'unhealthy' && b.cache.get('db')?.state === 'unhealthy',
      5_000,
      'db down',
    );
    const silence = await a.cache.silences!.add({
      matchers: ['db'],
      duration: 600_000,
      comment: 'fixing',
      createdBy: 't',
      endsOnRecovery: true,
    });
    await eventually(() => b.cache.get('db')?.silencedBy.includes(silence.id), 2_000, 'silenced on b');
    health.set('db', true);
    await eventually(
      async () => (await redis.hlen(keys.silences)) === 0,
      10_000,
      'the silence deleted from Redis',
    );
    await eventually(
      () =>
        [a, b].every(
          (replica) =>
            replica.cache.silences!.list().length === 0 && replica.cache.get('db')?.silencedBy.length === 0,
        ),
      2_000,
      'gone on both',
    );
  });

  test('maintenance windows come from each replica; list, windows and statuses use them', async () => {
    const { shared } = await group();
    const schedule = new MaintenanceSchedule([
      parseMaintenanceWindow({ name: 'always', cron: '* * * * *', duration: 120_000, selector: 'tier=db' }),
    ]);
    cleanups.push(() => schedule.dispose());
    const a = local({ ...shared, replicaId: 'a', sharedSilences: { schedule } });
    await running(a);
    assert.deepEqual(
      a.cache.silences!.openWindows().map(({ window }) => window.name),
      ['always'],
    );
    assert.deepEqual(a.cache.get('db')?.silencedBy, ['always']);
    assert.deepEqual(a.cache.get('api')?.silencedBy, []);
  });
});

describe('sharedSilences options', () => {
  const base = { redis: 'redis://127.0.0.1:1', pollInterval: 1_000 };
  test('bad values throw naming the option; without it there is no control', () => {
    const registry = labelledRegistry();
    assert.equal(new SharedHealthCache(registry, base).silences, undefined);
    assert.equal(new SharedHealthCache(registry, { ...base, sharedSilences: false }).silences, undefined);
    const throwsOn = (options: Partial<SharedHealthCacheOptions>, option: string): void => {
      assert.throws(
        () => new SharedHealthCache(registry, { ...base, ...options }),
        (error: unknown) => isOptionError(error) && error.option === option,
      );
    };
    throwsOn({ sharedSilences: 'yes' as unknown as boolean }, 'sharedSilences');
    throwsOn({ sharedSilences: { maxSilences: 0 } }, 'sharedSilences.maxSilences');
    throwsOn({ sharedSilences: { maxSilences: 10_001 } }, 'sharedSilences.maxSilences');
    throwsOn({ sharedSilences: { schedule: {} as MaintenanceSchedule } }, 'sharedSilences.schedule');
    throwsOn(
      {
        sharedSilences: true,
        silences: { silencedBy: () => [], onChange: () => ({ dispose() {}, [Symbol.dispose]() {} }) },
      },
      'silences',
    );
  });
});
