/**
 * Sharded polling (`shards: true`) with replicas as separate processes
 * against a real redis-server, the checks counted by an HTTP server every
 * checker calls (the ground truth of how often a provider was hit). The
 * invariants: every provider is checked once per interval in total; a join
 * or a leave costs at most one extra check per moved provider; kill -9 of a
 * replica moves its share within the TTL plus one interval; a replica
 * paused past its TTL writes nothing under its old membership when it wakes.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { sharedKeys } from '../src/redis/keys.js';
import { systemClock } from '../src/clock.js';
import { encodeStatus } from '../src/redis/codec.js';
import { Membership } from '../src/redis/membership.js';
import { Rendezvous } from '../src/redis/rendezvous.js';
import { StatusStore, type RecordWrite } from '../src/redis/store.js';
import { NO_LABELS } from '../src/labels.js';
import type { Status } from '../src/status.js';
import type { ShardReplicaConfig } from './fixtures/shard-replica.js';
import {
  CheckCounter,
  eventually,
  ReplicaProcess,
  SHARD_REPLICA_SCRIPT,
  type CallRecord,
} from './support/redis-replicas.js';
import { RedisServer } from './support/redis-server.js';

const PROVIDERS = 60;
const POLL = 1_000;
const TTL = 1_500;
/** Room for a loaded machine (2 cores shared by several test runs) on every bound. */
const SLACK = 2_500;
/** A gap between two checks of one provider shorter than this is an extra check. */
const SHORT_GAP = POLL / 2;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await ReplicaProcess.killAll();
});
after(() => RedisServer.stopAll());

async function group() {
  const server = await RedisServer.start();
  const counter = await CheckCounter.start();
  cleanups.push(() => counter.close());
  const key = `shard-${Math.random().toString(36).slice(2)}`;
  const spawn = (replicaId: string): ReplicaProcess => {
    const config: ShardReplicaConfig = {
      redis: server.url,
      key,
      replicaId,
      providers: PROVIDERS,
      pollInterval: POLL,
      leaseTtl: TTL,
      checker: 'http',
      counterPort: counter.port,
      checkTimeout: 800,
    };
    return ReplicaProcess.spawn(config, SHARD_REPLICA_SCRIPT);
  };
  return { server, counter, key, spawn };
}

/** The last share message of a replica. */
function lastShare(replica: ReplicaProcess) {
  return replica.messages.findLast((message) => message.type === 'share');
}

/** Waits until every replica is a member, sees exactly these members, and the shares add up. */
async function settled(replicas: readonly ReplicaProcess[], timeout = 20_000): Promise<void> {
  const ids = replicas.map((replica) => replica.id).sort();
  await eventually(
    () => {
      const shares = replicas.map(lastShare);
      return (
        replicas.every((replica) => replica.role === 'member') &&
        shares.every((share) => share?.members?.join() === ids.join()) &&
        shares.reduce((sum, share) => sum + (share?.size ?? 0), 0) === PROVIDERS
      );
    },
    timeout,
    `members ${ids.join(', ')} with shares adding up to ${PROVIDERS}`,
  );
}

/** Each provider's checks in `log`, in order. */
function byProvider(log: readonly CallRecord[]): Map<string, CallRecord[]> {
  const map = new Map<string, CallRecord[]>();
  for (const record of log) map.set(record.name, [...(map.get(record.name) ?? []), record]);
  return map;
}

/** Gaps shorter than half an interval (extra checks), and changes of the replica checking, per provider. */
function extraChecks(calls: readonly CallRecord[]): { extra: number; moves: number; longest: number } {
  let extra = 0;
  let moves = 0;
  let longest = 0;
  for (let i = 1; i < calls.length; i++) {
    const gap = calls[i]!.at - calls[i - 1]!.at;
    if (gap < SHORT_GAP) extra++;
    longest = Math.max(longest, gap);
    if (calls[i]!.replica !== calls[i - 1]!.replica) moves++;
  }
  return { extra, moves, longest };
}

/** A healthy status of `name` (the fields a record needs). */
function healthy(name: string): Status {
  const now = new Date();
  return {
    name,
    state: 'healthy',
    healthy: true,
    stale: false,
    message: 'ok',
    latency: 1,
    checkedAt: now,
    lastSuccessAt: now,
    lastFailureAt: undefined,
    lastTransitionAt: now,
    consecutiveFailures: 0,
    consecutiveSuccesses: 1,
    history: {
      samples: 1,
      uptime: 1,
      latencyP50: 1,
      latencyP95: 1,
      uptimeExcludingSilenced: 1,
      silencedSamples: 0,
    },
    details: undefined,
    labels: NO_LABELS,
    dependsOn: [],
    blockedBy: [],
    silencedBy: [],
  };
}

function assertNoCrash(replicas: readonly ReplicaProcess[]): void {
  for (const replica of replicas) assert.deepEqual(replica.crashes, [], `${replica.id}: ${replica.output}`);
}

describe('sharded polling across replica processes (real redis-server)', { timeout: 120_000 }, () => {
  test('the providers are split across 3 replicas: each checked once per interval in total, every status served everywhere', async () => {
    const { counter, spawn } = await group();
    const replicas = ['a', 'b', 'c'].map(spawn);
    await settled(replicas);
    await sleep(POLL * 2);
    counter.reset();
    await sleep(POLL * 6);
    const log = counter.log;
    // Each replica polls a part, none all.
    for (const replica of replicas) {
      const calls = counter.callsBy(replica.id);
      assert.ok(calls > 0 && calls < counter.total, `${replica.id} made ${calls} of ${counter.total} calls`);
    }
    // Every provider: checked by one replica only, at one interval's pace (no extra check, no gap).
    for (const [name, calls] of byProvider(log)) {
      assert.equal(new Set(calls.map((call) => call.replica)).size, 1, `${name} checked by one replica`);
      const { extra, longest } = extraChecks(calls);
      assert.equal(extra, 0, `${name}: ${calls.map((c) => c.at).join(', ')}`);
      assert.ok(longest <= POLL + SLACK, `${name} went ${longest} ms unchecked`);
    }
    assert.equal(byProvider(log).size, PROVIDERS, 'every provider checked');
    // Every replica serves every status, fresh.
    for (const replica of replicas) {
      const { statuses } = await replica.snapshot();
      assert.equal(statuses.length, PROVIDERS);
      assert.ok(
        statuses.every((status) => !status.stale && status.state === 'healthy'),
        replica.id,
      );
    }
    for (const replica of replicas) assert.equal(await replica.stop(), 0);
    assertNoCrash(replicas);
  });

  test('a replica joining, then one leaving: at most one extra check per moved provider, none for the others', async () => {
    const { counter, spawn } = await group();
    const first = ['j1', 'j2'].map(spawn);
    await settled(first);
    await sleep(POLL * 2);
    counter.reset();
    const joiner = spawn('j3');
    await settled([...first, joiner]);
    await sleep(POLL * 3);
    assert.equal(await first[0]!.stop(), 0);
    await settled([first[1]!, joiner]);
    await sleep(POLL * 3);
    let moved = 0;
    for (const [name, calls] of byProvider(counter.log)) {
      const { extra, moves, longest } = extraChecks(calls);
      moved += moves > 0 ? 1 : 0;
      assert.ok(extra <= moves, `${name}: ${extra} extra checks for ${moves} moves`);
      assert.ok(longest <= POLL + TTL + SLACK, `${name} went ${longest} ms unchecked`);
    }
    // Rendezvous hashing moves only what the joiner wins and what the leaver held (about 1/3 each), not everything.
    assert.ok(moved > 0 && moved < PROVIDERS * 0.9, `${moved} providers moved`);
    for (const replica of [first[1]!, joiner]) assert.equal(await replica.stop(), 0);
    assertNoCrash([...first, joiner]);
  });

  test('kill -9 of a replica: its share is checked by the others within the TTL plus one interval', async () => {
    const { counter, spawn } = await group();
    const replicas = ['k1', 'k2', 'k3'].map(spawn);
    await settled(replicas);
    await sleep(POLL * 2);
    const victim = replicas[1]!;
    const share = new Set(counter.log.filter((call) => call.replica === victim.id).map((call) => call.name));
    assert.ok(share.size > 0);
    // The counter's times run from its own start: the last call before the kill stands in for the kill (a stricter bound).
    const killedAt = counter.log.at(-1)?.at ?? 0;
    await victim.kill();
    const survivors = replicas.filter((replica) => replica !== victim);
    await settled(survivors, TTL + POLL + SLACK * 2);
    await sleep(POLL + SLACK);
    for (const name of share) {
      const next = counter.log.find(
        (call) => call.name === name && call.at > killedAt && call.replica !== victim.id,
      );
      assert.ok(next, `${name} never checked after the kill`);
      assert.ok(
        next.at - killedAt <= TTL + POLL + SLACK,
        `${name} first checked ${next.at - killedAt} ms after the kill`,
      );
    }
    for (const replica of survivors) assert.equal(await replica.stop(), 0);
    assertNoCrash(survivors);
  });

  test('SIGSTOP a replica past its TTL, then SIGCONT: nothing is written under its old membership', async () => {
    const { server, spawn, key } = await group();
    const watcher = new Redis(server.url, { maxRetriesPerRequest: 1 });
    watcher.on('error', () => {});
    cleanups.push(() => void watcher.disconnect());
    const published: { token: number; at: number }[] = [];
    await watcher.subscribe(sharedKeys(key).updates);
    watcher.on('message', (_channel: string, message: string) => {
      for (const record of JSON.parse(message) as { token: number }[])
        published.push({ token: record.token, at: Date.now() });
    });
    const replicas = ['s1', 's2', 's3'].map(spawn);
    await settled(replicas);
    await sleep(POLL * 2);
    const paused = replicas[0]!;
    const token = paused.messages.findLast((m) => m.type === 'role' && m.role === 'member')?.token;
    assert.ok(token !== undefined);
    assert.ok(
      published.some((record) => record.token === token),
      'it wrote before the pause',
    );
    paused.pause();
    const survivors = replicas.slice(1);
    await settled(survivors, TTL + POLL + SLACK * 2);
    await sleep(POLL);
    const resumedAt = Date.now();
    paused.resume();
    // It notices, rejoins with a new token, and the three share again.
    await paused.waitFor(
      (m) => m.type === 'role' && m.role === 'member' && (m.token ?? 0) > token,
      10_000,
      'a rejoin',
      0,
    );
    await settled(replicas);
    await sleep(POLL * 2);
    const late = published.filter((record) => record.token === token && record.at >= resumedAt);
    assert.deepEqual(late, [], 'records written under the old membership after waking');
    for (const replica of replicas) assert.equal(await replica.stop(), 0);
    assertNoCrash(replicas);
  });
});

describe('the membership fence (real redis-server)', () => {
  test('a member whose entry expired cannot write; a late write of a former owner never replaces a newer check', async () => {
    const server = await RedisServer.start();
    const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    cleanups.push(() => void redis.disconnect());
    const keys = sharedKeys(`fence-${Math.random().toString(36).slice(2)}`);
    const limit = { clock: systemClock, timeout: 2_000 };
    const store = new StatusStore(redis, keys, limit, 'membership');
    const record = (name: string, token: number, checkedAt: number, message: string): RecordWrite => {
      const status = { ...healthy(name), checkedAt: new Date(checkedAt), message };
      return [name, checkedAt, encodeStatus(status, token, 'healthy', Date.now()), Date.now() - checkedAt];
    };
    const short = new Membership(redis, keys, 'short-lived', 300, limit);
    const { tenure: a } = await short.join();
    assert.equal(await store.write(a, [record('p1', a.token, Date.now(), 'from a')]), 1);
    await sleep(450);
    assert.equal(await store.write(a, [record('p1', a.token, Date.now(), 'late a')]), undefined, 'fenced');
    assert.match(String(await redis.hget(keys.statuses, 'p1')), /"from a"/);
    // Two live members: the newer check wins whatever order the writes arrive in.
    const { tenure: b } = await new Membership(redis, keys, 'b', 60_000, limit).join();
    const { tenure: c } = await new Membership(redis, keys, 'c', 60_000, limit).join();
    assert.equal(await store.write(b, [record('p2', b.token, Date.now(), 'new b')]), 1);
    assert.equal(await store.write(c, [record('p2', c.token, Date.now() - 5_000, 'old c')]), 0);
    assert.match(String(await redis.hget(keys.statuses, 'p2')), /"new b"/);
    assert.deepEqual((await new Membership(redis, keys, 'b', 60_000, limit).heartbeat(b)).members, [
      'b',
      'c',
    ]);
  });
});

describe('rendezvous hashing', () => {
  test('shares are even, and a join moves only what the newcomer wins', () => {
    const names = Array.from({ length: 3_000 }, (_, i) => `provider-${i}`);
    const rendezvous = new Rendezvous();
    const three = rendezvous.assign(names, ['a', 'b', 'c']);
    for (const member of ['a', 'b', 'c']) {
      const size = [...three.values()].filter((owner) => owner === member).length;
      assert.ok(size > 900 && size < 1_100, `${member} got ${size} of 3,000`);
    }
    const four = rendezvous.assign(names, ['d', 'c', 'b', 'a']);
    let moved = 0;
    for (const name of names) {
      if (three.get(name) === four.get(name)) continue;
      moved++;
      assert.equal(four.get(name), 'd', `${name} moved between old members`);
    }
    assert.ok(moved > 600 && moved < 900, `${moved} moved`);
    // Leaving gives back exactly the leaver's providers.
    const back = rendezvous.assign(names, ['a', 'b', 'c']);
    assert.deepEqual([...back], [...three]);
  });
});
