// The Redis alert state store against a real redis-server: saves only under
// the lease's current fencing token (never an older token than the one
// stored), loads what the previous term saved, ignores (and reports) a damaged state.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Emitter } from '../src/events.js';
import { emptyAlertState, isAlertStateFencedError } from '../src/alerts/index.js';
import { redisAlertCoordinator, type AlertLeaseSource } from '../src/redis/index.js';
import { groupKey, sharedKeys } from '../src/redis/keys.js';
import type { RoleChange } from '../src/redis/events.js';
import { systemClock } from '../src/index.js';
import { RedisServer } from './support/redis-server.js';

const PREFIX = 'alert-store-test';

describe('redis alert store', { timeout: 60_000 }, () => {
  let server: RedisServer;
  let redis: Redis;
  before(async () => {
    server = await RedisServer.start();
    redis = new Redis(server.url);
  });
  after(async () => {
    redis.disconnect();
    await server.destroy();
  });

  const source = (token: number | undefined): AlertLeaseSource => ({
    role: token === undefined ? 'follower' : 'leader',
    leaseToken: token,
    onRoleChange: new Emitter<RoleChange>(() => {}).event,
    sharing: { key: PREFIX, commandTimeout: 1000 },
    options: { clock: systemClock },
  });
  const lease = (value: string) => redis.set(sharedKeys(PREFIX).lease, value, 'PX', 60_000);
  const stateKey = groupKey(PREFIX, 'alerts');

  it('saves under the current token only, and never over a later one', async () => {
    const errors: Error[] = [];
    const five = redisAlertCoordinator(source(5), { redis: server.url, onError: (e) => errors.push(e) });
    const six = redisAlertCoordinator(source(6), { redis: server.url });
    try {
      assert.equal(five.key, stateKey);
      assert.equal(five.term(), 5);
      await lease('5:replica-a');
      const store5 = await five.open(5, AbortSignal.timeout(5000));
      assert.equal(store5.load(), undefined, 'nothing saved yet');
      const state = emptyAlertState();
      state.rules['r'] = { pending: { a: { since: 1, state: 'unhealthy', message: 'down' } }, incidents: [] };
      await store5.save(state);
      assert.match((await redis.get(stateKey))!, /^5\n\{"version":1/);

      await lease('6:replica-b'); // a new leader
      await assert.rejects(
        Promise.resolve(store5.save(state)),
        isAlertStateFencedError,
        'the old term is fenced',
      );
      const store6 = await six.open(6, AbortSignal.timeout(5000));
      assert.deepEqual(store6.load(), state, 'the new term loads what the old one saved');
      await store6.save(emptyAlertState());
      assert.match((await redis.get(stateKey))!, /^6\n/);

      // Even a lease that (wrongly) names token 5 again cannot bring an older term back.
      await lease('5:replica-a');
      await assert.rejects(Promise.resolve(store5.save(state)), isAlertStateFencedError);
      assert.match((await redis.get(stateKey))!, /^6\n/);

      await redis.del(sharedKeys(PREFIX).lease); // no lease at all
      await assert.rejects(Promise.resolve(store6.save(state)), isAlertStateFencedError);
      assert.deepEqual(
        await six.peek?.(AbortSignal.timeout(5000)),
        emptyAlertState(),
        'peek reads the saved state',
      );
      assert.deepEqual(errors, []);
    } finally {
      await five.close();
      await six.close();
    }
  });

  it('ignores a damaged state, saying where it is wrong', async () => {
    const errors: Error[] = [];
    const coordinator = redisAlertCoordinator(source(7), {
      redis: server.url,
      onError: (e) => errors.push(e),
    });
    try {
      await lease('7:replica-c');
      await redis.set(
        stateKey,
        '6\n{"version":1,"rules":{"r":{"pending":{"a":{"since":"soon"}},"incidents":[]}}}',
      );
      const store = await coordinator.open(7, AbortSignal.timeout(5000));
      assert.equal(store.load(), undefined);
      assert.match(
        errors[0]?.message ?? '',
        /alert state in \{alert-store-test\}:alerts ignored: alert state: state\.rules\.r\.pending\.a\.since: expected a time in ms/,
      );
      await redis.set(stateKey, '6\nnot json');
      assert.equal((await coordinator.open(7, AbortSignal.timeout(5000))).load(), undefined);
      assert.equal(errors.length, 2);
      await redis.del(stateKey);
      await redis.hset(stateKey, 'a', 'b'); // another type
      assert.equal((await coordinator.open(7, AbortSignal.timeout(5000))).load(), undefined);
      await (await coordinator.open(7, AbortSignal.timeout(5000))).save(emptyAlertState());
      assert.match((await redis.get(stateKey))!, /^7\n/, 'a key of another type is replaced');
    } finally {
      await coordinator.close();
    }
  });
});
