/**
 * SharedHealthCache's own events: listener errors go to onListenerError
 * (not to the emitter, not to the other listeners), and it is a runnable
 * view like HealthCache. No Redis needed: the first role change comes before connecting.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProviderRegistry, type RunnableHealthView } from '../src/index.js';
import { SharedHealthCache, type ReplicaRole } from '../src/redis/index.js';
import { freePort } from './support/redis-server.js';

test(
  'a throwing listener is reported to onListenerError; the other listeners still run',
  { timeout: 10_000 },
  async () => {
    const registry = new ProviderRegistry();
    registry.register('db', {});
    // A port nobody listens on: the replica only gets as far as `connecting`.
    const cache = new SharedHealthCache(registry, {
      redis: `redis://127.0.0.1:${await freePort()}`,
      leaseTtl: 2_000,
    });
    const view: RunnableHealthView = cache;
    const caught: unknown[] = [];
    const roles: ReplicaRole[] = [];
    cache.onListenerError((error) => caught.push(error));
    cache.onRoleChange(() => {
      throw new Error('listener broke');
    });
    cache.onRoleChange(({ role }) => roles.push(role));
    const stop = new AbortController();
    const done = view.run(stop.signal);
    assert.equal(view.running, true);
    await assert.rejects(view.run(), { name: 'AlreadyRunningError' });
    stop.abort();
    await done;
    assert.deepEqual(roles, ['connecting', 'idle']);
    assert.deepEqual(
      caught.map((error) => (error as Error).message),
      ['listener broke', 'listener broke'],
    );
    await view.dispose();
    await assert.rejects(view.run(), { name: 'DisposedError' });
  },
);
