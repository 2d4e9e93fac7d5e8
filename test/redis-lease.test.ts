/**
 * The leader's own bound on its lease, on the injected clock against a real
 * redis-server behind a proxy that can hold Redis's replies back: the bound
 * is measured from before a renewal was sent, never from its reply.
 */
import assert from 'node:assert/strict';
import { after, afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProviderRegistry } from '../src/index.js';
import { SharedHealthCache, type ReplicaRole } from '../src/redis/index.js';
import { ManualClock } from '../src/testing/index.js';
import { sharedKeys } from '../src/redis/keys.js';
import { CuttableProxy } from './support/redis-proxy.js';
import { eventually } from './support/redis-replicas.js';
import { RedisServer } from './support/redis-server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
after(() => RedisServer.stopAll());

/** Moves the manual clock to `target` in small steps, letting real I/O (ioredis) run in between. */
async function advanceTo(clock: ManualClock, target: number, step: number): Promise<void> {
  while (clock.now() < target) {
    await clock.advance(Math.min(step, target - clock.now()));
    await sleep(5);
  }
}

test(
  'a renewal whose reply comes late: the lease bound runs from the send, so the leader stops leading on time',
  { timeout: 30_000 },
  async () => {
    // Redis expires the lease in real time: long enough that a loaded machine never lets it lapse here.
    const TTL = 9_000;
    const REPLY_DELAY = 4_000;
    // The manual clock moves in steps this long, so a send is noticed up to one step late.
    const STEP = 100;
    const server = await RedisServer.start();
    const proxy = await CuttableProxy.start(server.port);
    cleanups.push(() => proxy.close());
    const clock = new ManualClock();
    const registry = new ProviderRegistry();
    registry.register('db', { healthCheck: () => ({ healthy: true }) });
    const key = `lease-${Math.random().toString(36).slice(2)}`;
    const cache = new SharedHealthCache(registry, {
      redis: `redis://127.0.0.1:${proxy.port}`,
      key,
      clock,
      pollInterval: 60_000,
      leaseTtl: TTL,
      // Longer than the reply delay: the late renewal succeeds.
      commandTimeout: 6_000,
    });
    const roles: { role: ReplicaRole; at: number }[] = [];
    cache.onRoleChange(({ role }) => roles.push({ role, at: clock.now() }));
    const stop = new AbortController();
    const done = cache.run(stop.signal);
    cleanups.push(async () => {
      stop.abort();
      await done;
    });
    await eventually(() => cache.role === 'leader', 10_000, 'leading');
    // Whatever was already sent gets its reply (the manual clock stands still meanwhile).
    await sleep(200);

    // The next renewal (a script call with the lease as its only key) reaches Redis; its reply is held.
    let sentAt: number | undefined;
    const renewal = new RegExp(
      `\\*6\r\n\\$7\r\nevalsha\r\n\\$40\r\n[0-9a-f]{40}\r\n\\$1\r\n1\r\n\\$\\d+\r\n${sharedKeys(key).lease.replace(/[{}]/g, '\\$&')}\r\n`,
      'i',
    );
    cleanups.push(
      proxy.watchRequests((text) => {
        if (sentAt === undefined && renewal.test(text)) sentAt = clock.now();
      }),
    );
    proxy.holdReplies();
    await eventually(
      async () => {
        await clock.advance(STEP);
        await sleep(5);
        return sentAt !== undefined;
      },
      10_000,
      'a renewal sent',
    );
    assert.ok(sentAt !== undefined);
    await eventually(() => proxy.heldReplyBytes > 0, 5_000, 'the renewal answered by Redis');
    await advanceTo(clock, sentAt + REPLY_DELAY, STEP);
    proxy.releaseReplies();
    // Let the reply land, then cut Redis off: every later renewal fails.
    await sleep(100);
    await clock.settle();
    assert.equal(cache.role, 'leader');
    proxy.cut();

    // The lease Redis holds ends TTL after the renewal was received, so at most TTL after it was sent.
    await advanceTo(clock, sentAt + TTL + TTL / 6 + STEP, STEP);
    const local = roles.find((change) => change.role === 'local');
    assert.ok(
      local !== undefined,
      `still leading ${clock.now() - sentAt} ms after the renewal was sent (lease ${TTL} ms): roles ${JSON.stringify(roles)}`,
    );
    assert.ok(
      local.at >= sentAt + TTL - STEP,
      `stepped down before the lease could have expired (${local.at - sentAt} ms)`,
    );
    assert.ok(
      local.at <= sentAt + TTL + TTL / 6 + STEP,
      `stepped down ${local.at - sentAt} ms after the send`,
    );
  },
);
