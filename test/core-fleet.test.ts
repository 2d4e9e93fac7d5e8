// Fleet scale (issue 10): snapshots published at a bounded rate, sweeps that give the
// event loop turns, and forget(). Each test fails when the behaviour it names is broken.
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import {
  HealthCache,
  ProviderRegistry,
  resolveOptions,
  type HealthCacheOptions,
  type Removal,
  type StatusChange,
} from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { restoredStatus } from './fixtures/core-status.js';
import { controlledChecker, countingChecker } from './support/checkers.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

function setup(options: HealthCacheOptions = {}) {
  const clock = new ManualClock();
  const registry = new ProviderRegistry();
  const cache = new HealthCache(registry, { pollInterval: 1_000, checkTimeout: 500, clock, ...options });
  return { clock, registry, cache };
}

/** A checker that answers healthy `ms` after it is called, on the test's clock. */
function answersAfter(clock: ManualClock, ms: number) {
  return {
    healthCheck: () =>
      new Promise<{ healthy: true }>((resolve) => clock.setTimeout(() => resolve({ healthy: true }), ms)),
  };
}

const names = (statuses: readonly { name: string }[]): string[] => statuses.map((s) => s.name);

describe('snapshotInterval', () => {
  it('defaults to 100 ms, allows 0 and is bounded by 60,000 ms', () => {
    assert.equal(resolveOptions().snapshotInterval, 100);
    assert.equal(resolveOptions({ snapshotInterval: 0 }).snapshotInterval, 0);
    assert.equal(resolveOptions({ snapshotInterval: 60_000 }).snapshotInterval, 60_000);
    assert.throws(() => resolveOptions({ snapshotInterval: -1 }), /`snapshotInterval`.*-1/);
    assert.throws(() => resolveOptions({ snapshotInterval: 60_001 }), RangeError);
    assert.throws(() => resolveOptions({ snapshotInterval: '1s' as never }), TypeError);
  });

  it(
    'publishes the first result at once, later ones of a sweep within the interval, and the rest when the sweep ends',
    { timeout: 10_000 },
    async () => {
      const { clock, registry, cache } = setup({ snapshotInterval: 100, concurrency: 3 });
      registry.register('a', answersAfter(clock, 0));
      registry.register('b', answersAfter(clock, 30));
      registry.register('c', answersAfter(clock, 300));
      const sweep = cache.checkNow();
      await clock.advance(0);
      assert.deepEqual(names(cache.snapshot()), ['a'], 'the first change after a quiet interval: at once');
      const first = cache.snapshot();
      await clock.advance(30);
      assert.equal(cache.get('b')?.healthy, true, 'get() is exact');
      assert.equal(cache.snapshot(), first, 'b arrived within the interval: the same array');
      await clock.advance(69);
      assert.equal(cache.snapshot(), first, 'still within 100 ms of the window start');
      await clock.advance(1);
      assert.deepEqual(names(cache.snapshot()), ['a', 'b'], 'published when the interval ended');
      await clock.advance(200);
      const all = await sweep;
      assert.deepEqual(names(all), ['a', 'b', 'c'], 'checkNow resolves with everything its sweep found');
      assert.equal(cache.snapshot(), all);
      cache.dispose();
      assert.equal(clock.pendingTimers, 0, 'no publish timer left');
    },
  );

  it(
    'publishes the first result after a quiet interval at once, within a sweep',
    { timeout: 10_000 },
    async () => {
      const { clock, registry, cache } = setup({ snapshotInterval: 100, concurrency: 3 });
      registry.register('a', answersAfter(clock, 0));
      registry.register('b', answersAfter(clock, 200));
      registry.register('c', answersAfter(clock, 400));
      const sweep = cache.checkNow();
      await clock.advance(0);
      assert.deepEqual(names(cache.snapshot()), ['a']);
      await clock.advance(200);
      assert.deepEqual(
        names(cache.snapshot()),
        ['a', 'b'],
        'nothing changed for 200 ms: b is published at once',
      );
      await clock.advance(200);
      await sweep;
    },
  );

  it('publishes at once when a sweep ends, even inside a window', { timeout: 10_000 }, async () => {
    const { clock, registry, cache } = setup({
      snapshotInterval: 1_000,
      pollInterval: 5_000,
      concurrency: 2,
    });
    registry.register('a', answersAfter(clock, 0));
    registry.register('b', answersAfter(clock, 10));
    let atSweep: readonly string[] = [];
    cache.onSweep(() => (atSweep = names(cache.snapshot())));
    const sweep = cache.checkNow();
    await clock.advance(0);
    assert.deepEqual(names(cache.snapshot()), ['a']);
    await clock.advance(10);
    await sweep;
    assert.deepEqual(atSweep, ['a', 'b'], 'onSweep listeners see the whole sweep');
    assert.deepEqual(names(cache.snapshot()), ['a', 'b']);
  });

  it('with 0, publishes every change at once', { timeout: 10_000 }, async () => {
    const { clock, registry, cache } = setup({ snapshotInterval: 0, concurrency: 2 });
    registry.register('a', answersAfter(clock, 0));
    registry.register('b', answersAfter(clock, 10));
    const sweep = cache.checkNow();
    await clock.advance(0);
    assert.deepEqual(names(cache.snapshot()), ['a']);
    await clock.advance(10);
    assert.deepEqual(names(cache.snapshot()), ['a', 'b']);
    await sweep;
  });

  it('keeps snapshots in name order as providers come and go', { timeout: 10_000 }, async () => {
    const { registry, cache } = setup();
    registry.register('c', countingChecker());
    registry.register('a', countingChecker());
    await cache.checkNow();
    assert.deepEqual(names(cache.snapshot()), ['a', 'c']);
    registry.register('b', countingChecker());
    assert.deepEqual(names(await cache.checkNow()), ['a', 'b', 'c'], 'a name added between two others');
    registry.unregister('a');
    assert.deepEqual(names(cache.snapshot()), ['b', 'c']);
    registry.register('a', countingChecker());
    registry.register('d', countingChecker());
    assert.deepEqual(names(await cache.checkNow()), ['a', 'b', 'c', 'd']);
    for (const status of cache.snapshot()) assert.equal(cache.get(status.name), status);
  });

  it('publishes removals and restores at once', { timeout: 10_000 }, async () => {
    const { clock, registry, cache } = setup({ snapshotInterval: 60_000 });
    for (const name of ['a', 'b', 'c']) registry.register(name, countingChecker());
    await cache.checkNow();
    assert.equal(cache.snapshot().length, 3);
    assert.equal(cache.restore(restoredStatus('a', clock.now() + 1)), true);
    assert.equal(cache.snapshot()[0], cache.get('a'));
    assert.equal(cache.restore(restoredStatus('b', clock.now() + 1)), true);
    assert.equal(cache.snapshot()[1], cache.get('b'), 'a second restore right after the first');
    registry.unregister('c');
    assert.deepEqual(names(cache.snapshot()), ['a', 'b']);
  });
});

describe('sweeps give the event loop turns', () => {
  it(
    'a sweep of many synchronous checkers lets setImmediate callbacks and HTTP requests run, with the same result',
    { timeout: 60_000 },
    async () => {
      const registry = new ProviderRegistry();
      const count = 20_000;
      // Answers synchronously: the sweep runs on promise callbacks alone.
      for (let i = 0; i < count; i++) registry.register(`p${i}`, { healthCheck: () => ({ healthy: true }) });
      const cache = new HealthCache(registry, { concurrency: 100 });
      const server = createServer((_req, res) => res.end('ok'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        let turns = 0;
        let sweeping = true;
        const count_turns = (): void => {
          if (!sweeping) return;
          turns++;
          setImmediate(count_turns);
        };
        let answeredDuringSweep = false;
        const sweepStarted = cache.checkNow();
        setImmediate(count_turns);
        // Sent once the sweep runs; it can only be answered if the sweep yields.
        const answered = new Promise<void>((resolve, reject) => {
          request({ host: '127.0.0.1', port, path: '/' }, (res) => {
            res.resume();
            res.on('end', () => {
              answeredDuringSweep = sweeping;
              resolve();
            });
          })
            .on('error', reject)
            .end();
        });
        const statuses = await sweepStarted;
        sweeping = false;
        await answered;
        assert.ok(turns > 0, `the event loop had ${turns} turns during the sweep`);
        assert.equal(statuses.length, count);
        assert.ok(statuses.every((s) => s.healthy && s.message === 'healthy'));
        assert.ok(answeredDuringSweep, 'an HTTP request was answered while the sweep ran');
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  );
});

describe('results arriving together', () => {
  it(
    'are recorded a slice at a time, with the event loop turning in between',
    { timeout: 60_000 },
    async () => {
      const registry = new ProviderRegistry();
      const count = 5_000;
      let release = (): void => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      let started = 0;
      for (let i = 0; i < count; i++)
        registry.register(`p${i}`, {
          healthCheck: async () => {
            started++;
            await gate;
            return { healthy: true };
          },
        });
      // Every check in flight at once: their results all arrive in one callback, as I/O results can.
      const cache = new HealthCache(registry, { concurrency: count, checkTimeout: 20_000 });
      let recorded = 0;
      cache.onChange(() => recorded++);
      const sweep = cache.checkNow();
      while (started < count) await new Promise((resolve) => setImmediate(resolve));
      const atNextTurn = await new Promise<number>((resolve) =>
        setImmediate(() => {
          release();
          setImmediate(() => resolve(recorded));
        }),
      );
      const statuses = await sweep;
      assert.ok(atNextTurn < count, `${atNextTurn} of ${count} results recorded before the next turn`);
      assert.equal(recorded, count);
      assert.ok(statuses.every((s) => s.healthy));
      cache.dispose();
    },
  );
});

describe('forget', () => {
  it(
    'drops a registered provider’s status and history, with onRemove and onChange',
    { timeout: 10_000 },
    async () => {
      const { registry, cache } = setup();
      registry.register('a', countingChecker());
      registry.register('b', countingChecker());
      await cache.checkNow();
      const removals: Removal[] = [];
      const changes: StatusChange[] = [];
      cache.onRemove((r) => removals.push(r));
      cache.onChange((c) => changes.push(c));
      const before = cache.get('a');
      assert.equal(cache.forget('a'), true);
      assert.equal(cache.get('a'), undefined);
      assert.deepEqual(cache.history('a'), []);
      assert.deepEqual(names(cache.snapshot()), ['b'], 'published at once');
      assert.ok(registry.has('a'), 'still registered');
      assert.deepEqual(removals, [{ name: 'a', status: before }]);
      assert.deepEqual(changes, [{ name: 'a', status: undefined }]);
      assert.equal(cache.forget('a'), false, 'nothing left to forget: no events');
      assert.equal(cache.forget('nobody'), false);
      assert.equal(removals.length, 1);
      assert.throws(() => cache.forget(''), TypeError);
      await cache.checkNow();
      assert.equal(cache.get('a')?.healthy, true, 'the next check records again');
      assert.equal(cache.history('a').length, 1, 'a fresh history');
    },
  );

  it('drops a check that started before it; a restore after it is kept', { timeout: 10_000 }, async () => {
    const { clock, registry, cache } = setup();
    const checker = controlledChecker();
    registry.register('p', checker);
    const first = cache.checkNow();
    await clock.settle();
    checker.calls[0]!.resolve({ healthy: true });
    await first;
    const second = cache.checkNow();
    await clock.settle();
    assert.equal(cache.forget('p'), true);
    checker.calls[1]!.resolve({ healthy: false, message: 'from before the forget' });
    await second;
    assert.equal(cache.get('p'), undefined, 'the check started before forget() is dropped');
    assert.equal(cache.restore(restoredStatus('p', clock.now())), true);
    assert.equal(cache.get('p')?.message, 'restored');
  });

  it('does not start a check', { timeout: 10_000 }, async () => {
    const { clock, registry, cache } = setup();
    const checker = countingChecker();
    registry.register('p', checker);
    const stop = new AbortController();
    const running = cache.run(stop.signal);
    await clock.advance(0);
    assert.equal(checker.calls, 1);
    cache.forget('p');
    await clock.advance(500);
    assert.equal(checker.calls, 1, 'no prompt check: it waits for the next sweep');
    assert.equal(cache.get('p'), undefined);
    await clock.advance(500);
    assert.equal(checker.calls, 2);
    stop.abort();
    await running;
  });
});
