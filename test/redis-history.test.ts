/**
 * History kept in Redis (issue 13, "History that survives"): replicas as
 * separate processes (test/fixtures/history-replica.ts) on a real
 * redis-server. A replica that starts, or takes over after a `kill -9`,
 * shows the same samples and 24-hour uptime before any check of its own; a
 * leader paused past its lease writes no history; bad entries are skipped
 * and reported.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, afterEach, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { HealthCache, ProviderRegistry } from '../src/index.js';
import { isBadHistoryEntryError, SharedHealthCache } from '../src/redis/index.js';
import {
  decodeHistoryEntry,
  encodeHistoryEntry,
  maxEntryLength,
  type HistoryEntry,
} from '../src/redis/history-entry.js';
import { HistoryStore } from '../src/redis/history-store.js';
import { systemClock } from '../src/clock.js';
import { sharedKeys } from '../src/redis/keys.js';
import type { HistoryReplicaConfig, ProviderState } from './fixtures/history-replica.js';
import type { ReplicaConfig } from './fixtures/replica.js';
import { eventually, ReplicaProcess, type ReplicaMessage } from './support/redis-replicas.js';
import { RedisServer } from './support/redis-server.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/history-replica.ts', import.meta.url));
const LEASE_TTL = 1_500;
const INTERVAL = 1_000;
const MAX_LENGTH = maxEntryLength(60);

after(() => RedisServer.stopAll());
afterEach(() => ReplicaProcess.killAll());

let keyCount = 0;

function spawn(
  redis: RedisServer,
  key: string,
  replicaId: string,
  answer: boolean,
  historyInterval = INTERVAL,
) {
  const config: HistoryReplicaConfig = {
    redis: redis.url,
    key,
    replicaId,
    leaseTtl: LEASE_TTL,
    historyInterval,
    answer,
  };
  // The helper's config type is the plain replica's; this fixture reads its own shape from the same variable.
  return ReplicaProcess.spawn(config as unknown as ReplicaConfig, SCRIPT);
}

type Providers = Record<string, ProviderState>;

async function providers(replica: ReplicaProcess): Promise<Providers> {
  const reply = await replica.ask({ type: 'state' }, 'state');
  return (reply as unknown as { providers: Providers }).providers;
}

async function checkNow(replica: ReplicaProcess): Promise<Providers> {
  const reply = await replica.ask({ type: 'checkNow' }, 'checked', 20_000);
  return (reply as unknown as { providers: Providers }).providers;
}

async function entries(redis: Redis, key: string): Promise<Map<string, HistoryEntry>> {
  const raw = await redis.hgetall(sharedKeys(key).history);
  const decoded = new Map<string, HistoryEntry>();
  for (const [name, text] of Object.entries(raw)) {
    const entry = decodeHistoryEntry(text, MAX_LENGTH);
    if (typeof entry === 'string') throw new Error(`entry of ${name}: ${entry}`);
    decoded.set(name, entry);
  }
  return decoded;
}

/** The samples count and 24 h figures that must survive, per provider. */
function figures(state: Providers): Record<string, [number, number | undefined, number | undefined]> {
  return Object.fromEntries(
    Object.entries(state).map(([name, p]) => [name, [p.samples, p.uptime24h, p.samples24h]]),
  );
}

function noCrashes(...replicas: ReplicaProcess[]): void {
  for (const replica of replicas) assert.deepEqual(replica.crashes, [], `${replica.id} crashed`);
}

const leads = (m: ReplicaMessage): boolean => m.type === 'role' && m.role === 'leader';
const follows = (m: ReplicaMessage): boolean => m.type === 'role' && m.role === 'follower';

describe('history in Redis', () => {
  test(
    'a replica started later, the follower taking over after kill -9, and a fresh one show the same history before any check',
    { timeout: 120_000 },
    async () => {
      const server = await RedisServer.start();
      const redis = new Redis(server.url);
      const key = `history-${++keyCount}`;
      try {
        const a = spawn(server, key, 'a', true);
        await a.waitFor(leads, 20_000, 'a leading');
        let last: Providers = {};
        for (let i = 0; i < 6; i++) last = await checkNow(a);
        assert.ok(last.b!.samples >= 6, `a has ${last.b!.samples} samples of b`);
        assert.ok(last.b!.uptime24h! < 1, 'b failed some checks');
        const expected = last;
        await eventually(
          async () => (await entries(redis, key)).get('b')?.history.samples.length === expected.b!.samples,
          10_000,
          "a's history of b in Redis",
        );

        // Started now: it saw none of those checks, so all but the last record's sample come from Redis.
        const b = spawn(server, key, 'b', false);
        await b.waitFor(follows, 20_000, 'b following');
        assert.deepEqual(figures(await providers(b)), figures(expected), 'b imported the history');

        // Two more checks, each mirrored by b (the leader writes results within 50 ms of each other as one); then the leader dies without a word.
        for (let i = 0; i < 2; i++) {
          last = await checkNow(a);
          const count = last.b!.samples;
          await eventually(
            async () => (await providers(b)).b!.samples === count,
            10_000,
            'b mirrored the check',
          );
        }
        const final = last;
        await a.kill();
        await b.waitFor(leads, 20_000, 'b leading after kill -9');
        // b's checks hang: what it shows is the history it had, not a check of its own.
        assert.deepEqual(
          figures(await providers(b)),
          figures(final),
          'the new leader shows the same history',
        );

        // b writes what it holds (the mirrored results are new to Redis), under its own token.
        const token = (await b.waitFor(leads, 1_000, 'b leading')).token;
        await eventually(
          async () => {
            const kept = await entries(redis, key);
            return (
              kept.get('b')?.writer === token && kept.get('b')?.history.samples.length === final.b!.samples
            );
          },
          10_000,
          "b's history in Redis",
        );
        const c = spawn(server, key, 'c', false);
        await c.waitFor(follows, 20_000, 'c following');
        assert.deepEqual(
          figures(await providers(c)),
          figures(final),
          'a fresh replica shows the same history',
        );
        noCrashes(b, c);
        assert.deepEqual(
          [...b.messages, ...c.messages].filter((m) => m.type === 'redis-error'),
          [],
          'no Redis errors',
        );
      } finally {
        redis.disconnect();
        await server.destroy();
      }
    },
  );

  test(
    'a leader paused past its lease writes no history when it wakes (fencing)',
    { timeout: 120_000 },
    async () => {
      const server = await RedisServer.start();
      const redis = new Redis(server.url);
      const key = `history-${++keyCount}`;
      try {
        // A long interval on the leader, so the checks made right before the pause are still unwritten.
        const a = spawn(server, key, 'a', true, 5_000);
        const aToken = (await a.waitFor(leads, 20_000, 'a leading')).token;
        const b = spawn(server, key, 'b', false);
        await b.waitFor(follows, 20_000, 'b following');
        await checkNow(a);
        await eventually(
          async () => (await entries(redis, key)).get('b')?.writer === aToken,
          20_000,
          "a's first history write",
        );
        const checked = await checkNow(a);
        a.pause();
        const written = (await entries(redis, key)).get('b')?.history.samples.length ?? 0;
        assert.ok(
          written < checked.b!.samples,
          `a still has unwritten results (${written} of ${checked.b!.samples} in Redis)`,
        );

        await b.waitFor(leads, 20_000, 'b leading while a is paused');
        // Whatever a wrote before the pause goes: from here on, only b may write.
        await redis.del(sharedKeys(key).history);
        const from = a.messages.length;
        a.resume();
        await a.waitFor(follows, 20_000, 'a noticing it lost the lease', from);
        // Several of a's write intervals.
        await new Promise((resolve) => setTimeout(resolve, 3 * 5_000));
        for (const [name, entry] of await entries(redis, key))
          assert.notEqual(entry.writer, aToken, `the stale leader wrote the history of ${name}`);
        noCrashes(a, b);
      } finally {
        redis.disconnect();
        await server.destroy();
      }
    },
  );

  test(
    'the history write script refuses a tenure that is not the lease holder',
    { timeout: 30_000 },
    async () => {
      const server = await RedisServer.start();
      const redis = new Redis(server.url);
      const keys = sharedKeys('fence');
      try {
        await redis.set(keys.lease, '8:successor', 'PX', 60_000);
        const limit = { clock: systemClock, timeout: 2_000 };
        const fenced = new HistoryStore(redis, keys, limit, 'lease');
        assert.equal(await fenced.save({ value: '7:stale', token: 7 }, [['a', 'h1 7 - - AA==']]), undefined);
        assert.equal(await redis.exists(keys.history), 0, 'nothing written under a stale lease');
        assert.equal(await fenced.save({ value: '8:successor', token: 8 }, [['a', 'h1 8 - - AA==']]), 1);
        // Sharded: a membership that expired is refused too.
        const members = new HistoryStore(redis, keys, limit, 'membership');
        await redis.zadd(keys.members, 1, '3:gone');
        assert.equal(await members.save({ value: '3:gone', token: 3 }, [['a', 'x']]), undefined);
        assert.equal(await redis.hget(keys.history, 'a'), 'h1 8 - - AA==');
      } finally {
        redis.disconnect();
        await server.destroy();
      }
    },
  );

  test(
    'bad entries are skipped and reported once each; good ones are imported',
    { timeout: 60_000 },
    async () => {
      const server = await RedisServer.start();
      const redis = new Redis(server.url);
      const key = `history-${++keyCount}`;
      const keys = sharedKeys(key);
      const stop = new AbortController();
      try {
        // A real history of 5 results, as a leader would have written it.
        const source = new ProviderRegistry();
        let n = 0;
        source.register('good', { healthCheck: async () => ({ healthy: ++n !== 2 }) });
        const local = new HealthCache(source, { pollInterval: 60_000 });
        for (let i = 0; i < 5; i++) await local.checkNow();
        const history = local.exportHistory('good')!;
        local.dispose();
        await redis.hset(keys.history, {
          good: encodeHistoryEntry({ writer: 1, record: undefined, history }),
          garbage: 'not an entry',
          base64: 'h1 1 - - !!!!',
          long: `h1 1 - - ${'A'.repeat(MAX_LENGTH)}`,
          truncated: encodeHistoryEntry({ writer: 1, record: undefined, history }).slice(0, -8),
        });

        const registry = new ProviderRegistry();
        const hang = (signal: AbortSignal): Promise<never> =>
          new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
        for (const name of ['good', 'garbage', 'base64', 'long', 'truncated'])
          registry.register(name, { healthCheck: hang });
        const cache = new SharedHealthCache(registry, {
          redis: server.url,
          key,
          pollInterval: 600_000,
          checkTimeout: 300_000,
          leaseTtl: LEASE_TTL,
        });
        const errors: Error[] = [];
        cache.onRedisError((error) => errors.push(error));
        const running = cache.run(stop.signal);
        await eventually(() => cache.role === 'leader', 20_000, 'leading');
        assert.equal(cache.history('good').length, 5);
        assert.equal(cache.windows('good')?.['24h'].samples, 5);
        assert.equal(cache.windows('good')?.['24h'].uptime, 0.8);
        const bad = errors.filter(isBadHistoryEntryError);
        assert.deepEqual(bad.map((error) => error.provider).sort(), [
          'base64',
          'garbage',
          'long',
          'truncated',
        ]);
        assert.deepEqual(
          errors.filter((error) => !isBadHistoryEntryError(error)),
          [],
        );
        for (const name of ['garbage', 'base64', 'long', 'truncated'])
          assert.equal(cache.history(name).length, 0);
        assert.match(bad.find((error) => error.provider === 'long')!.message, /over \d+/);
        stop.abort();
        await running;
        cache.dispose();
      } finally {
        stop.abort();
        redis.disconnect();
        await server.destroy();
      }
    },
  );
});
