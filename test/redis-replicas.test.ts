/**
 * Replicas as separate processes sharing one poller through a real
 * redis-server started here on a free port. Checkers hit an HTTP counter in
 * this process, so every control-plane call is counted whoever makes it.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import {
  CheckCounter,
  ReplicaProcess,
  eventually,
  type CallRecord,
  type ReplicaMessage,
} from './support/redis-replicas.js';
import { sharedKeys } from '../src/redis/keys.js';
import { RedisServer } from './support/redis-server.js';

const POLL = 500;
const TTL = 2_000;
const PROVIDERS = 100;
const NAMES = Array.from({ length: PROVIDERS }, (_, i) => `p${String(i).padStart(3, '0')}`);
/** Room for a loaded 2-core machine: conditions are awaited, never timed tightly. */
const SLACK = 3_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await ReplicaProcess.killAll();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
after(async () => {
  await ReplicaProcess.killAll();
  await RedisServer.stopAll();
});

interface Group {
  server: RedisServer;
  counter: CheckCounter;
  key: string;
  spawn: (id: string) => ReplicaProcess;
}

let groups = 0;
async function group({
  staleAfter,
  ...options
}: { password?: string; staleAfter?: number } = {}): Promise<Group> {
  const server = await RedisServer.start(options);
  const counter = await CheckCounter.start();
  cleanups.push(
    () => counter.close(),
    () => server.destroy(),
  );
  const key = `test-${++groups}`;
  return {
    server,
    counter,
    key,
    spawn: (id) =>
      ReplicaProcess.spawn({
        redis: server.url,
        key,
        replicaId: id,
        providers: PROVIDERS,
        counterPort: counter.port,
        pollInterval: POLL,
        leaseTtl: TTL,
        // Generous for a loaded machine (the default would be half the interval).
        checkTimeout: 450,
        ...(staleAfter === undefined ? {} : { staleAfter }),
      }),
  };
}

/** Waits until every replica leads or follows and exactly one leads; returns the leader. */
async function settled(replicas: readonly ReplicaProcess[], timeout = 20_000): Promise<ReplicaProcess> {
  return await eventually(
    () => {
      const live = replicas.filter((replica) => replica.alive);
      if (!live.every((replica) => replica.role === 'leader' || replica.role === 'follower'))
        return undefined;
      const leaders = live.filter((replica) => replica.role === 'leader');
      return leaders.length === 1 ? leaders[0] : undefined;
    },
    timeout,
    'one leader and the rest following',
  );
}

function assertNoCrash(replicas: readonly ReplicaProcess[]): void {
  for (const replica of replicas) {
    assert.deepEqual(replica.crashes, [], `${replica.id} crashed: ${JSON.stringify(replica.crashes)}`);
    assert.doesNotMatch(
      replica.stderr,
      /Unhandled|unhandled|\[ioredis\]/,
      `${replica.id} stderr: ${replica.stderr}`,
    );
  }
}

/** The calls of the given `name#sweep` keys, for a failure message. */
function explainCalls(calls: readonly CallRecord[], keys: readonly string[]): string {
  return keys
    .slice(0, 10)
    .map((key) => {
      const [name, sweep] = key.split('#');
      const at = calls.filter((call) => call.name === name && String(call.sweep) === sweep);
      return `  ${key}: ${at.map((call) => `${call.replica}@${call.at}`).join(' ')}`;
    })
    .join('\n');
}

/** Reads the shared hash: per provider, the writer's token and checkedAt. */
async function readHash(
  redis: Redis,
  key: string,
): Promise<Map<string, { token: number; checkedAt: number }>> {
  const records = await redis.hgetall(sharedKeys(key).statuses);
  const out = new Map<string, { token: number; checkedAt: number }>();
  for (const [name, text] of Object.entries(records)) {
    const record = JSON.parse(text) as { token: number; checkedAt: number };
    out.set(name, { token: record.token, checkedAt: record.checkedAt });
  }
  return out;
}

describe('replicas sharing one poller through Redis (separate processes)', { timeout: 120_000 }, () => {
  test('3 replicas x 100 providers over 10 intervals call each checker 10 times, not 30', async () => {
    // Fresh below means mirrored within 5 s: under load a sweep whose checks time out lasts longer
    // than the default staleAfter (3 intervals), so even the leader's own statuses were stale at times.
    const { counter, spawn } = await group({ staleAfter: 10 * POLL });
    const replicas = ['r1', 'r2', 'r3'].map(spawn);
    const started = Date.now();
    await settled(replicas);
    // The window is the leader's first ten sweeps, each check tagged with its sweep, not the first ten
    // calls to arrive: on a loaded machine a check can time out and abort its request before it is
    // sent, and waiting for that checker's 10th arrival then took in part of an 11th sweep.
    const tenth = await eventually(
      () => {
        for (const replica of replicas) {
          const index = replica.messages.findIndex((m) => m.type === 'sweep' && m.sweeps === 10);
          if (index >= 0) return { replica, index, message: replica.messages[index] as ReplicaMessage };
        }
        return undefined;
      },
      10 * POLL + 20_000,
      'ten full sweeps',
    );
    const calls = counter.log;
    const elapsed = (tenth.message.at ?? 0) - started;
    const leaders = new Set(
      replicas.flatMap((r) => r.messages.filter((m) => m.role === 'leader').map(() => r.id)),
    );
    assert.equal(leaders.size, 1, `the lease never changed hands (leaders: ${[...leaders].join(', ')})`);
    const leader = tenth.replica;
    assert.ok(leaders.has(leader.id), 'the leader swept');
    // At the source: the leader invoked every checker exactly once per sweep; nobody else swept.
    assert.equal(tenth.message.invokedMin, 10, 'every checker was called exactly 10 times');
    assert.equal(tenth.message.invokedMax, 10, 'every checker was called exactly 10 times');
    for (const replica of replicas) {
      if (replica !== leader)
        assert.equal(
          replica.messages.filter((m) => m.type === 'sweep').length,
          0,
          `${replica.id} never swept`,
        );
    }
    // Over the network (what a control plane sees): in those sweeps, one call per checker per sweep at
    // most, all from the leader, and every call but those of checks that failed (timed out) arrived.
    const window = calls.filter((call) => call.sweep >= 1 && call.sweep <= 10);
    const perSweep = new Map<string, number>();
    for (const call of window)
      perSweep.set(`${call.name}#${call.sweep}`, (perSweep.get(`${call.name}#${call.sweep}`) ?? 0) + 1);
    const doubled = [...perSweep].filter(([, n]) => n > 1).map(([key]) => key);
    assert.deepEqual(doubled, [], `checked twice in one sweep:\n${explainCalls(calls, doubled)}`);
    assert.ok(
      window.every((call) => NAMES.includes(call.name)),
      'and nothing else was called',
    );
    for (const replica of replicas) {
      assert.equal(
        counter.callsBy(replica.id),
        replica === leader ? counter.total : 0,
        `calls by ${replica.id}`,
      );
    }
    const failed = leader.messages.slice(0, tenth.index).filter((m) => m.type === 'check-failed').length;
    assert.ok(
      window.length >= 10 * PROVIDERS - failed && window.length <= 10 * PROVIDERS,
      `${window.length} calls arrived of 1,000 checks, ${failed} of them failed`,
    );
    assert.ok(elapsed >= 9 * POLL, `ten sweeps need nine intervals at least (${elapsed} ms)`);
    // Every follower mirrors all 100 statuses, fresh, and from after the leader's first sweep.
    const firstSweep = leader.messages.find((m) => m.type === 'sweep' && m.sweeps === 1)?.at ?? Infinity;
    for (const replica of replicas) {
      const { statuses } = await replica.snapshot();
      assert.equal(statuses.length, PROVIDERS, `${replica.id} knows every provider`);
      assert.ok(
        statuses.every((s) => !s.stale),
        `${replica.id} has fresh statuses`,
      );
      assert.ok(
        statuses.every((s) => s.checkedAt > firstSweep),
        `${replica.id} keeps mirroring after the first sweep`,
      );
    }
    for (const replica of replicas) assert.equal(await replica.stop(), 0);
    assertNoCrash(replicas);
  });

  test('kill -9 the leader: another replica leads within the lease TTL plus one interval', async () => {
    const { counter, spawn } = await group();
    const replicas = ['k1', 'k2', 'k3'].map(spawn);
    const leader = await settled(replicas);
    await eventually(() => counter.range(NAMES).min >= 2, 20_000, 'two sweeps');
    const killedAt = Date.now();
    await leader.kill();
    const survivors = replicas.filter((replica) => replica !== leader);
    const successor = await eventually(
      () => survivors.find((replica) => replica.role === 'leader'),
      TTL + POLL + SLACK,
      'a new leader',
    );
    const took = (successor.messages.findLast((m) => m.role === 'leader')?.at ?? Date.now()) - killedAt;
    assert.ok(took <= TTL + POLL + SLACK, `took over after ${took} ms`);
    // And it polls: its checkers are called within one more interval.
    const before = counter.callsBy(successor.id);
    await eventually(
      () => counter.callsBy(successor.id) >= before + PROVIDERS,
      POLL + SLACK,
      'the new leader sweeping',
    );
    const follower = survivors.find((replica) => replica !== successor);
    assert.ok(follower);
    assert.equal(follower.role, 'follower');
    assert.equal(counter.callsBy(follower.id), 0, 'the remaining follower never polled');
    // The follower mirrors the successor's results.
    await eventually(
      async () => {
        const { statuses } = await follower.snapshot();
        return statuses.length === PROVIDERS && statuses.every((s) => !s.stale && s.checkedAt > killedAt);
      },
      POLL * 2 + SLACK,
      'the follower mirroring the new leader',
    );
    for (const replica of survivors) assert.equal(await replica.stop(), 0);
    assertNoCrash(survivors);
  });

  test('SIGSTOP the leader past its TTL, then SIGCONT: no older result overwrites a newer one', async () => {
    const { server, counter, key, spawn } = await group();
    const redis = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
    cleanups.push(async () => void redis.disconnect());
    await redis.connect();
    const replicas = ['s1', 's2', 's3'].map(spawn);
    const paused = await settled(replicas);
    const pausedToken = paused.token;
    assert.ok(pausedToken !== undefined);
    await eventually(() => counter.range(NAMES).min >= 2, 20_000, 'two sweeps');

    // Watch every record published from now on, and every version of the hash.
    const watcher = redis.duplicate();
    watcher.on('error', () => {});
    cleanups.push(async () => void watcher.disconnect());
    const published: { token: number; checkedAt: number; name: string }[] = [];
    watcher.on('message', (_channel: string, message: string) => {
      for (const record of JSON.parse(message) as { token: number; checkedAt: number; name: string }[]) {
        published.push({ token: record.token, checkedAt: record.checkedAt, name: record.name });
      }
    });
    await watcher.subscribe(sharedKeys(key).updates);

    paused.pause();
    const others = replicas.filter((replica) => replica !== paused);
    const successor = await eventually(
      () => others.find((replica) => replica.role === 'leader'),
      TTL + POLL + SLACK,
      'a new leader while the old one is frozen',
    );
    const successorToken = successor.token;
    assert.ok(
      successorToken !== undefined && successorToken > pausedToken,
      'the new tenure has a higher token',
    );
    // Let the successor write newer results than anything the frozen leader holds.
    await eventually(
      async () => [...(await readHash(redis, key)).values()].every((r) => r.token === successorToken),
      POLL * 2 + SLACK,
      'the successor rewriting every status',
    );

    let latest = await readHash(redis, key);
    const resumedAt = published.length;
    paused.resume();
    // The old leader wakes with overdue timers and sweep results; it must step down without writing.
    await paused.waitFor(
      (m) => m.type === 'role' && m.role === 'follower',
      TTL + SLACK,
      'the old leader stepping down',
    );
    const until = Date.now() + 3 * POLL;
    while (Date.now() < until) {
      const now = await readHash(redis, key);
      for (const [name, record] of now) {
        const before = latest.get(name);
        assert.ok(!before || record.checkedAt >= before.checkedAt, `${name} went backwards`);
        assert.notEqual(record.token, pausedToken, `${name} was written by the paused leader`);
      }
      latest = now;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const record of published.slice(resumedAt)) {
      assert.notEqual(record.token, pausedToken, `the paused leader published ${record.name}`);
    }
    const lastSeen = new Map<string, number>();
    for (const record of published) {
      assert.ok(
        record.checkedAt >= (lastSeen.get(record.name) ?? 0),
        `${record.name} was published out of order`,
      );
      lastSeen.set(record.name, record.checkedAt);
    }
    assert.ok(published.length > 0);
    // One leader again, and it is the successor.
    assert.equal(await settled(replicas), successor);
    for (const replica of replicas) assert.equal(await replica.stop(), 0);
    assertNoCrash(replicas);
  });

  test('Redis stops: replicas poll locally; it starts again: shared mode resumes; no password leaks', async () => {
    const password = 'S3cret-pa55word!';
    const { server, counter, spawn } = await group({ password });
    const replicas = ['d1', 'd2', 'd3'].map(spawn);
    await settled(replicas);
    await eventually(() => counter.range(NAMES).min >= 1, 20_000, 'one sweep');

    await server.stop();
    await eventually(
      () => replicas.every((replica) => replica.role === 'local'),
      TTL * 2 + SLACK,
      'every replica polling locally',
    );
    // Each replica now calls every checker itself.
    const base = replicas.map((replica) => counter.callsBy(replica.id));
    await eventually(
      () => replicas.every((replica, i) => counter.callsBy(replica.id) >= (base[i] ?? 0) + PROVIDERS),
      POLL * 2 + SLACK,
      'all three polling',
    );
    for (const replica of replicas) {
      // Counted calls may still be in flight: wait for their results to land.
      await eventually(
        async () => {
          const { statuses } = await replica.snapshot();
          return statuses.length === PROVIDERS && statuses.every((s) => !s.stale);
        },
        POLL * 2 + SLACK,
        `${replica.id} serving fresh local results`,
      );
      assert.ok(
        replica.messages.some((m) => m.type === 'redis-error'),
        `${replica.id} reported the outage`,
      );
    }

    await server.restart();
    const leader = await settled(replicas, TTL * 3 + SLACK);
    // Back to one poller: over two more intervals only the leader calls checkers.
    await eventually(() => counter.callsBy(leader.id) > 0, POLL + SLACK, 'the leader polling');
    const followers = replicas.filter((replica) => replica !== leader);
    // Calls sent just before a replica stopped polling locally may still be arriving.
    await new Promise((resolve) => setTimeout(resolve, POLL));
    const frozen = followers.map((replica) => counter.callsBy(replica.id));
    const leaderBefore = counter.callsBy(leader.id);
    await new Promise((resolve) => setTimeout(resolve, 3 * POLL));
    assert.deepEqual(
      followers.map((replica) => counter.callsBy(replica.id)),
      frozen,
      'followers stopped polling',
    );
    assert.ok(counter.callsBy(leader.id) >= leaderBefore + PROVIDERS, 'the leader polls for everyone');
    // The restarted Redis was empty; the leader refilled it.
    for (const follower of followers) {
      await eventually(
        async () => (await follower.snapshot()).statuses.every((s) => !s.stale),
        POLL * 2 + SLACK,
        `${follower.id} mirroring fresh statuses`,
      );
    }
    for (const replica of replicas) assert.equal(await replica.stop(), 0);
    assertNoCrash(replicas);
    for (const replica of replicas) {
      assert.ok(!replica.output.includes(password), `${replica.id} printed the password`);
      assert.ok(
        !replica.output.includes(encodeURIComponent(password)),
        `${replica.id} printed the encoded password`,
      );
      assert.ok(!JSON.stringify(replica.messages).includes(password), `${replica.id} reported the password`);
    }
  });

  test('a new replica warm-starts from Redis: get answers at once, before any check', async () => {
    const { counter, spawn } = await group();
    const first = [spawn('w1'), spawn('w2')];
    await settled(first);
    await eventually(() => counter.range(NAMES).min >= 2, 20_000, 'two sweeps');

    // Joining a running group: everything known at once, with no call of its own.
    const joiner = spawn('w3');
    const joined = await joiner.waitFor(
      (m) => m.type === 'role' && m.previous === 'connecting',
      20_000,
      'joining',
    );
    assert.equal(joined.role, 'follower');
    assert.equal(joined.known, PROVIDERS, 'every status loaded from Redis before the first lease round');
    assert.equal(counter.callsBy('w3'), 0);

    // A cold restart of the whole group: the statuses survive in Redis, stale when old.
    for (const replica of [...first, joiner]) assert.equal(await replica.stop(), 0);
    await new Promise((resolve) => setTimeout(resolve, 3 * POLL + 500));
    const restarted = spawn('w4');
    const cold = await restarted.waitFor(
      (m) => m.type === 'role' && m.previous === 'connecting',
      20_000,
      'starting',
    );
    assert.equal(cold.known, PROVIDERS, 'last known statuses served instead of unknown');
    assert.equal(cold.stale, PROVIDERS, 'older than staleAfter, so marked stale');
    assert.equal(cold.role, 'leader');
    // As the only replica it leads and refreshes them.
    await eventually(
      async () => (await restarted.snapshot()).statuses.every((s) => !s.stale),
      POLL + SLACK,
      'fresh statuses',
    );
    assert.equal(await restarted.stop(), 0);
    assertNoCrash([...first, joiner, restarted]);
  });
});
