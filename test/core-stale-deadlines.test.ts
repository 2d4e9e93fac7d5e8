import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeadlineHeap } from '../src/deadline-heap.js';
import { HealthCache, ProviderRegistry, type HealthReport } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';

describe('stale deadlines', () => {
  it('DeadlineHeap pops in deadline order whatever the push order', () => {
    const heap = new DeadlineHeap<number>();
    let seed = 7;
    const random = (): number => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    const pushed: number[] = [];
    for (let i = 0; i < 2_000; i++) {
      const at = Math.floor(random() * 500);
      pushed.push(at);
      heap.push(at, i);
      if (i % 3 === 0) heap.pop(() => pushed.splice(pushed.indexOf(Math.min(...pushed)), 1));
    }
    const popped: number[] = [];
    while (heap.pop((at) => popped.push(at)));
    assert.deepEqual(
      popped,
      [...pushed].sort((a, b) => a - b),
    );
    assert.equal(heap.next, Infinity);
  });

  it('marks exactly the providers not checked again within staleAfter, in the order of their first results, each once', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const registry = new ProviderRegistry();
    const calls = new Map<string, number>();
    const names = ['c', 'a', 'b', 'd'];
    for (const name of names)
      registry.register(name, {
        healthCheck: (): HealthReport => {
          calls.set(name, (calls.get(name) ?? 0) + 1);
          return { healthy: true };
        },
      });
    const cache = new HealthCache(registry, { clock, pollInterval: 1_000, staleAfter: 3_000 });
    const transitions: string[] = [];
    cache.onTransition(({ name, to }) => transitions.push(`${name}:${to}`));
    await cache.checkNow();
    transitions.length = 0;
    // 'a' and 'd' are checked again every second; 'b' and 'c' never again.
    for (let second = 1; second <= 5; second++) {
      await clock.advance(1_000);
      await cache.checkProvider('a');
      await cache.checkProvider('d');
    }
    assert.deepEqual(transitions, ['b:stale', 'c:stale']);
    assert.equal(cache.get('a')?.stale, false);
    assert.equal(cache.get('d')?.stale, false);
    assert.equal(cache.get('b')?.stale, true);
    // A stale provider checked again is fresh, and turns stale 3 s later, once, with those checked at the same time.
    await cache.checkProvider('b');
    assert.equal(cache.get('b')?.stale, false);
    await clock.advance(2_999);
    assert.equal(cache.get('b')?.stale, false);
    await clock.advance(1);
    assert.equal(cache.get('b')?.stale, true);
    assert.deepEqual(transitions.slice(2), ['b:healthy', 'a:stale', 'b:stale', 'd:stale']);
    cache.dispose();
  });
});
