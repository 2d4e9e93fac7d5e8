import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  HealthCache,
  ProviderRegistry,
  type CheckResult,
  type HealthCacheOptions,
  type Removal,
  type Transition,
} from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { controlledChecker, countingChecker } from './support/checkers.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

function setup(options: HealthCacheOptions = {}) {
  const clock = new ManualClock();
  const registry = new ProviderRegistry();
  const cache = new HealthCache(registry, { pollInterval: 1_000, checkTimeout: 100, clock, ...options });
  const stop = new AbortController();
  const start = () => cache.run(stop.signal);
  return { clock, registry, cache, stop, start };
}

describe('HealthCache.run', () => {
  it('sweeps at once, then pollInterval after the previous sweep ended', { timeout: 10_000 }, async () => {
    const { clock, registry, stop, start } = setup();
    const slow = controlledChecker();
    registry.register('slow', slow);
    const running = start();
    await clock.advance(0);
    assert.equal(slow.calls.length, 1, 'first sweep starts at once');
    await clock.advance(50);
    slow.calls[0]!.resolve();
    await clock.settle();
    // The sweep ended at t=50, so the next one is due at t=1050, not t=1000.
    await clock.advance(999);
    assert.equal(slow.calls.length, 1);
    await clock.advance(1);
    assert.equal(slow.calls.length, 2);
    stop.abort();
    await running;
  });

  it(
    'resolves after abort with in-flight checks aborted and no timer left',
    { timeout: 10_000 },
    async () => {
      const { clock, registry, cache, stop, start } = setup();
      const hung = controlledChecker();
      registry.register('hung', hung);
      const running = start();
      await clock.advance(10);
      assert.equal(hung.calls[0]!.signal.aborted, false);
      stop.abort();
      await running;
      assert.equal(hung.calls[0]!.signal.aborted, true, 'the check signal fires when the run stops');
      assert.equal(clock.pendingTimers, 0);
      assert.equal(cache.get('hung'), undefined, 'an aborted run records nothing against the provider');
      assert.equal(cache.running, false);
    },
  );

  it('returns at once for an already-aborted signal', { timeout: 10_000 }, async () => {
    const { registry, cache } = setup();
    const checker = countingChecker();
    registry.register('a', checker);
    await cache.run(AbortSignal.abort());
    assert.equal(checker.calls, 0);
  });

  it('rejects a second concurrent run with a clear error', { timeout: 10_000 }, async () => {
    const { cache, stop, start } = setup();
    const running = start();
    await assert.rejects(cache.run(new AbortController().signal), /already active/);
    stop.abort();
    await running;
    // After it stopped, a new run may start.
    const again = new AbortController();
    const second = cache.run(again.signal);
    again.abort();
    await second;
  });

  it(
    'keeps polling after a partial sweep (registration or checkProvider) queued behind a full one',
    { timeout: 10_000 },
    async () => {
      const { clock, registry, cache, stop, start } = setup();
      const slow = controlledChecker();
      const fast = countingChecker();
      registry.register('slow', slow);
      registry.register('fast', fast);
      const running = start();
      await clock.advance(0);
      // While the first full sweep waits on `slow`, a one-provider check and a registration queue up.
      const late = countingChecker();
      registry.register('late', late);
      const forced = cache.checkProvider('fast');
      await clock.advance(50);
      slow.calls[0]!.resolve();
      await forced;
      assert.equal(late.calls, 1);
      for (let sweep = 1; sweep <= 3; sweep++) {
        await clock.advance(1_000);
        slow.calls.at(-1)!.resolve();
        await clock.settle();
        assert.equal(slow.calls.length, 1 + sweep, `scheduled sweep ${sweep} ran`);
      }
      assert.equal(late.calls, 4);
      stop.abort();
      await running;
    },
  );

  it('applies jitter by shortening the wait', { timeout: 10_000 }, async () => {
    const { clock, registry, stop, start } = setup({ jitter: 0.5, random: () => 0.999_999 });
    const checker = countingChecker();
    registry.register('a', checker);
    const running = start();
    await clock.advance(0);
    await clock.advance(499);
    assert.equal(checker.calls, 1);
    await clock.advance(2);
    assert.equal(checker.calls, 2);
    stop.abort();
    await running;
  });
});

describe('HealthCache.checkNow', () => {
  it(
    'is single-flight: callers during a sweep share one follow-up that includes new providers',
    { timeout: 10_000 },
    async () => {
      const { clock, registry, cache } = setup();
      const first = controlledChecker();
      registry.register('first', first);
      const sweep1 = cache.checkNow();
      await clock.settle();
      assert.equal(first.calls.length, 1);
      const late = countingChecker();
      registry.register('late', late);
      const followers = [cache.checkNow(), cache.checkNow(), cache.checkNow()];
      await clock.settle();
      assert.equal(first.calls.length, 1, 'no parallel sweep');
      assert.equal(late.calls, 0);
      first.calls[0]!.resolve();
      await sweep1;
      await clock.settle();
      assert.equal(first.calls.length, 2, 'one shared follow-up sweep');
      first.calls[1]!.resolve();
      const results = await Promise.all(followers);
      assert.equal(late.calls, 1, 'the provider registered before the call is included');
      assert.equal(first.calls.length, 2);
      assert.deepEqual(
        results[0]!.map((s) => s.name),
        ['first', 'late'],
      );
    },
  );

  it(
    'stops waiting when the caller aborts, without cancelling the shared sweep',
    { timeout: 10_000 },
    async () => {
      const { clock, registry, cache } = setup();
      const checker = controlledChecker();
      registry.register('a', checker);
      const controller = new AbortController();
      const waiting = cache.checkNow(controller.signal);
      const other = cache.checkNow();
      await clock.settle();
      controller.abort(new Error('caller gave up'));
      await assert.rejects(waiting, /caller gave up/);
      assert.equal(checker.calls[0]!.signal.aborted, false);
      checker.calls[0]!.resolve({ healthy: true, message: 'fine' });
      await other;
      assert.equal(cache.get('a')?.message, 'fine');
    },
  );

  it('runs at most `concurrency` checks at once', { timeout: 10_000 }, async () => {
    const { clock, registry, cache } = setup({ concurrency: 3 });
    const checkers = Array.from({ length: 10 }, () => controlledChecker());
    checkers.forEach((checker, i) => registry.register(`p${i}`, checker));
    const sweep = cache.checkNow();
    let maxOpen = 0;
    for (let round = 0; round < 20; round++) {
      await clock.settle();
      const open = checkers.reduce((sum, c) => sum + c.open, 0);
      maxOpen = Math.max(maxOpen, open);
      for (const checker of checkers) if (checker.open > 0) checker.calls.at(-1)!.resolve();
    }
    await sweep;
    assert.equal(maxOpen, 3);
    assert.equal(cache.snapshot().length, 10);
  });

  it('checkProvider checks one provider and rejects unknown names', { timeout: 10_000 }, async () => {
    const { registry, cache } = setup();
    const a = countingChecker();
    const b = countingChecker();
    registry.register('a', a);
    registry.register('b', b);
    const status = await cache.checkProvider('a');
    assert.equal(status?.name, 'a');
    assert.equal(a.calls, 1);
    assert.equal(b.calls, 0);
    await assert.rejects(cache.checkProvider('nope'), /No provider named "nope"/);
    await assert.rejects(cache.checkProvider(''), /non-empty string/);
  });
});

describe('timeouts and hung checkers', () => {
  it(
    'stops waiting at checkTimeout, aborts the signal, and does not call a hung provider again',
    { timeout: 10_000 },
    async () => {
      const { clock, registry, cache, stop, start } = setup();
      const hung = controlledChecker();
      registry.register('hung', hung);
      const running = start();
      await clock.advance(99);
      assert.equal(cache.get('hung'), undefined);
      await clock.advance(1);
      const timedOut = cache.get('hung');
      assert.equal(timedOut?.healthy, false);
      assert.equal(timedOut?.message, 'timed out after 100 ms');
      assert.equal(timedOut?.latency, 100);
      assert.equal(hung.calls[0]!.signal.aborted, true);
      assert.equal(cache.abandonedChecks, 1);
      assert.equal(cache.abandonedChecksTotal, 1);

      await clock.advance(1_000);
      assert.equal(hung.calls.length, 1, 'not called again while the previous call is pending');
      assert.match(
        cache.get('hung')!.message,
        /^previous check still running since 2026-01-01T00:00:00\.000Z/,
      );
      assert.equal(cache.get('hung')!.state, 'unhealthy');

      hung.calls[0]!.resolve({ healthy: true, message: 'late answer' });
      await clock.settle();
      assert.equal(cache.abandonedChecks, 0);
      assert.notEqual(cache.get('hung')!.message, 'late answer', 'an abandoned result is never applied');
      await clock.advance(1_000);
      assert.equal(hung.calls.length, 2, 'called again once the previous call settled');
      hung.calls[1]!.resolve({ healthy: true, message: 'back' });
      await clock.settle();
      assert.equal(cache.get('hung')!.message, 'back');
      stop.abort();
      await running;
    },
  );
});

describe('what checkers return', () => {
  const cases: [string, () => unknown, RegExp | string, boolean][] = [
    ['nothing', () => Promise.resolve(), 'healthy', true],
    ['a report', () => Promise.resolve({ healthy: true, message: 'v1.2' }), 'v1.2', true],
    [
      'a sync throw',
      () => {
        throw new Error('exploded');
      },
      'exploded',
      false,
    ],
    ['a rejection with undefined', () => Promise.reject(undefined), /rejected with undefined/, false],
    ['a rejection with a string', () => Promise.reject('plain string'), 'plain string', false],
    ['a rejection with an object', () => Promise.reject({ code: 7 }), /non-Error value: \{"code":7\}/, false],
    [
      'an Error without message',
      () => Promise.reject(new RangeError('')),
      /RangeError and no message/,
      false,
    ],
    ['a number', () => Promise.resolve(42), /returned a number instead of a health report/, false],
    ['null', () => Promise.resolve(null), /returned null instead of a health report/, false],
    ['an array', () => Promise.resolve([]), /returned an array/, false],
    [
      'a non-boolean healthy',
      () => Promise.resolve({ healthy: 'yes' }),
      /`healthy` must be a boolean, got string/,
      false,
    ],
    ['a negative latency', () => Promise.resolve({ healthy: true, latency: -5 }), /`latency`.*got -5/, false],
    [
      'an invalid date',
      () => Promise.resolve({ healthy: true, checkedAt: new Date(NaN) }),
      /`checkedAt`/,
      false,
    ],
    [
      'an unhealthy report without message',
      () => Promise.resolve({ healthy: false }),
      /without a message/,
      false,
    ],
    ['a synchronous report', () => ({ healthy: true, message: 'sync' }), 'sync', true],
    [
      'a report whose getter throws',
      () =>
        Promise.resolve({
          healthy: true,
          get details(): never {
            throw new Error('getter exploded');
          },
        }),
      /could not be read: getter exploded/,
      false,
    ],
  ];
  for (const [label, healthCheck, message, healthy] of cases) {
    it(`handles ${label}`, { timeout: 10_000 }, async () => {
      const { registry, cache } = setup();
      registry.register('p', { healthCheck });
      await cache.checkNow();
      const status = cache.get('p');
      assert.equal(status?.healthy, healthy);
      if (typeof message === 'string') assert.equal(status?.message, message);
      else assert.match(status.message, message);
    });
  }

  it(
    'records a provider whose healthCheck getter throws as unhealthy, and still checks the others',
    { timeout: 10_000 },
    async () => {
      const { registry, cache } = setup();
      const ok = countingChecker();
      registry.register('ok', ok);
      registry.register('trap', {
        get healthCheck(): never {
          throw new Error('getter exploded');
        },
      });
      await cache.checkNow();
      assert.equal(ok.calls, 1);
      assert.equal(cache.get('trap')?.state, 'unhealthy');
      assert.equal(cache.get('trap')?.message, 'getter exploded');
    },
  );

  it(
    'reports a provider without healthCheck as healthy, as the Go original did',
    { timeout: 10_000 },
    async () => {
      const { registry, cache } = setup();
      registry.register('plain', { name: 'not a checker' });
      await cache.checkNow();
      assert.equal(cache.get('plain')?.healthy, true);
      assert.equal(cache.get('plain')?.message, 'provider does not implement HealthChecker');
    },
  );

  it('keeps a checker-reported latency and check time, and details', { timeout: 10_000 }, async () => {
    const { registry, cache } = setup();
    const at = new Date('2025-12-31T23:59:59.000Z');
    registry.register('p', {
      healthCheck: async () => ({ healthy: true, latency: 12.5, checkedAt: at, details: { version: '1' } }),
    });
    await cache.checkNow();
    assert.equal(cache.get('p')?.latency, 12.5);
    assert.equal(cache.get('p')?.checkedAt.getTime(), at.getTime());
    assert.deepEqual(cache.get('p')?.details, { version: '1' });
  });

  it('caps long messages and redacts credentials', { timeout: 10_000 }, async () => {
    const { registry, cache } = setup({ maxMessageLength: 40 });
    registry.register('long', { healthCheck: async () => ({ healthy: false, message: 'x'.repeat(500) }) });
    registry.register('secret', {
      healthCheck: () => Promise.reject(new Error('GET https://admin:hunter2@h/ failed; Bearer abcdef123')),
    });
    await cache.checkNow();
    assert.equal(cache.get('long')!.message.length, 40);
    assert.ok(cache.get('long')!.message.endsWith('…'));
    assert.doesNotMatch(cache.get('secret')!.message, /hunter2|abcdef123/);
  });

  it('drops a result older than the stored one', { timeout: 10_000 }, async () => {
    const { clock, registry, cache } = setup();
    await clock.advance(60_000);
    let reportAt = new Date('2026-01-01T00:00:10.000Z');
    registry.register('p', {
      healthCheck: async () => ({ healthy: true, message: reportAt.toISOString(), checkedAt: reportAt }),
    });
    await cache.checkNow();
    reportAt = new Date('2026-01-01T00:00:05.000Z');
    await cache.checkNow();
    assert.equal(cache.get('p')?.message, '2026-01-01T00:00:10.000Z');
  });
});

describe('registration changes', () => {
  it(
    'checks a newly registered provider promptly while running, coalesced with the sweep in flight',
    { timeout: 10_000 },
    async () => {
      const { clock, registry, cache, stop, start } = setup();
      const slow = controlledChecker();
      registry.register('slow', slow);
      const running = start();
      await clock.advance(0);
      const fresh = countingChecker();
      registry.register('fresh', fresh);
      await clock.settle();
      assert.equal(fresh.calls, 0, 'waits for the sweep in flight');
      slow.calls[0]!.resolve();
      await clock.settle();
      assert.equal(fresh.calls, 1, 'checked right after it, without waiting for the next tick');
      assert.equal(slow.calls.length, 1, 'the prompt sweep covers only the new provider');
      assert.equal(cache.get('fresh')?.healthy, true);
      stop.abort();
      await running;
    },
  );

  it(
    'checks a replaced provider promptly and drops the old provider’s late result',
    { timeout: 10_000 },
    async () => {
      const { clock, registry, cache, stop, start } = setup({ checkTimeout: 500 });
      const old = controlledChecker();
      registry.register('p', old);
      const running = start();
      await clock.advance(0);
      const replacement = countingChecker(() => ({ healthy: true, message: 'new' }));
      registry.register('p', replacement);
      old.calls[0]!.resolve({ healthy: false, message: 'old' });
      await clock.settle();
      assert.equal(replacement.calls, 1);
      assert.equal(cache.get('p')?.message, 'new');
      stop.abort();
      await running;
    },
  );

  it('does not check on registration when not running', { timeout: 10_000 }, async () => {
    const { clock, registry } = setup();
    const checker = countingChecker();
    registry.register('a', checker);
    await clock.advance(5_000);
    assert.equal(checker.calls, 0);
  });

  it(
    'removes an unregistered provider, emits a removal, and ignores its in-flight result',
    { timeout: 10_000 },
    async () => {
      const { clock, registry, cache } = setup();
      const checker = controlledChecker();
      registry.register('a', checker);
      registry.register('b', countingChecker());
      const removals: Removal[] = [];
      cache.onRemove((r) => removals.push(r));
      const first = cache.checkNow();
      await clock.settle();
      checker.calls[0]!.resolve();
      await first;
      const snapshot = cache.snapshot();
      const second = cache.checkNow();
      await clock.settle();
      registry.unregister('a');
      checker.calls[1]!.resolve();
      await second;
      assert.equal(cache.get('a'), undefined);
      assert.deepEqual(
        cache.snapshot().map((s) => s.name),
        ['b'],
      );
      assert.notEqual(cache.snapshot(), snapshot);
      assert.equal(removals.length, 1);
      assert.equal(removals[0]!.name, 'a');
      assert.equal(removals[0]!.status?.name, 'a');
    },
  );
});

describe('states, thresholds and staleness', () => {
  it('reports degraded as healthy but impaired', { timeout: 10_000 }, async () => {
    const { registry, cache } = setup();
    registry.register('d', { healthCheck: async () => ({ healthy: true, degraded: true, message: 'slow' }) });
    await cache.checkNow();
    assert.equal(cache.get('d')?.state, 'degraded');
    assert.equal(cache.get('d')?.healthy, true);
  });

  it(
    'needs failureThreshold failures to turn unhealthy and successThreshold successes to recover',
    { timeout: 10_000 },
    async () => {
      const { registry, cache } = setup({ failureThreshold: 3, successThreshold: 2 });
      let healthy = true;
      registry.register('p', { healthCheck: async () => ({ healthy, message: healthy ? 'up' : 'down' }) });
      await cache.checkNow();
      assert.equal(cache.get('p')?.state, 'healthy');
      healthy = false;
      await cache.checkNow();
      assert.equal(cache.get('p')?.state, 'healthy');
      assert.equal(cache.get('p')?.message, 'down (failure 1 of 3 before unhealthy)');
      assert.equal(cache.get('p')?.consecutiveFailures, 1);
      await cache.checkNow();
      assert.equal(cache.get('p')?.state, 'healthy');
      await cache.checkNow();
      assert.equal(cache.get('p')?.state, 'unhealthy');
      assert.equal(cache.get('p')?.consecutiveFailures, 3);
      healthy = true;
      await cache.checkNow();
      assert.equal(cache.get('p')?.state, 'unhealthy');
      assert.match(cache.get('p')!.message, /recovering: 1 of 2/);
      await cache.checkNow();
      assert.equal(cache.get('p')?.state, 'healthy');
      assert.equal(cache.get('p')?.consecutiveSuccesses, 2);
    },
  );

  it('tracks last success, last failure and last transition times', { timeout: 10_000 }, async () => {
    const { clock, registry, cache } = setup();
    let healthy = true;
    registry.register('p', { healthCheck: async () => ({ healthy }) });
    await cache.checkNow();
    const t0 = clock.now();
    assert.equal(cache.get('p')?.lastSuccessAt?.getTime(), t0);
    assert.equal(cache.get('p')?.lastFailureAt, undefined);
    assert.equal(cache.get('p')?.lastTransitionAt.getTime(), t0);
    await clock.advance(10);
    await cache.checkNow();
    assert.equal(cache.get('p')?.lastTransitionAt.getTime(), t0, 'no transition, no change');
    await clock.advance(10);
    healthy = false;
    await cache.checkNow();
    const t2 = clock.now();
    assert.equal(cache.get('p')?.lastFailureAt?.getTime(), t2);
    assert.equal(cache.get('p')?.lastSuccessAt?.getTime(), t0 + 10);
    assert.equal(cache.get('p')?.lastTransitionAt.getTime(), t2);
  });

  it(
    'marks statuses stale once the poller stopped, and never shows them healthy',
    { timeout: 10_000 },
    async () => {
      const { clock, registry, cache, stop, start } = setup({ staleAfter: 3_000 });
      registry.register('p', countingChecker());
      const transitions: Transition[] = [];
      cache.onTransition((t) => transitions.push(t));
      const running = start();
      await clock.advance(0);
      assert.equal(cache.get('p')?.state, 'healthy');
      stop.abort();
      await running;
      await clock.advance(2_999);
      assert.equal(cache.get('p')?.state, 'healthy');
      await clock.advance(1);
      assert.equal(cache.get('p')?.state, 'stale');
      assert.equal(cache.get('p')?.stale, true);
      assert.equal(cache.get('p')?.healthy, false);
      assert.deepEqual([transitions.at(-1)?.from, transitions.at(-1)?.to], ['healthy', 'stale']);
    },
  );

  it(
    'marks stale through its own timer while running when results stop arriving',
    { timeout: 10_000 },
    async () => {
      const { clock, registry, cache, stop, start } = setup({ staleAfter: 2_000 });
      let calls = 0;
      registry.register('p', {
        healthCheck: async () => {
          calls++;
          // Reports a check time far in the past, as a lagging remote agent might.
          return { healthy: true, checkedAt: new Date(clock.now() - 1_500) };
        },
      });
      const running = start();
      await clock.advance(0);
      assert.equal(cache.get('p')?.state, 'healthy');
      const before = cache.snapshot();
      await clock.advance(501);
      assert.equal(cache.get('p')?.state, 'stale', 'the staleness timer fired while running');
      assert.notEqual(cache.snapshot(), before);
      await clock.advance(500);
      assert.equal(calls, 2);
      stop.abort();
      await running;
    },
  );

  it('keeps a bounded history with uptime and latency percentiles', { timeout: 10_000 }, async () => {
    const { registry, cache } = setup({ historySize: 4 });
    const latencies = [10, 20, 30, 40, 50, 60];
    let i = 0;
    registry.register('p', {
      healthCheck: async () => {
        const latency = latencies[i++]!;
        return { healthy: latency !== 50, latency };
      },
    });
    for (let n = 0; n < latencies.length; n++) await cache.checkNow();
    const history = cache.history('p');
    assert.deepEqual(
      history.map((h) => h.latency),
      [30, 40, 50, 60],
    );
    assert.deepEqual(
      history.map((h) => h.state),
      ['healthy', 'healthy', 'unhealthy', 'healthy'],
    );
    const summary = cache.get('p')!.history;
    assert.equal(summary.samples, 4);
    assert.equal(summary.uptime, 0.75);
    assert.equal(summary.latencyP50, 40);
    assert.equal(summary.latencyP95, 60);
    assert.deepEqual(cache.history('unknown'), []);
  });
});

describe('events', () => {
  it(
    'emits every result, transitions (including out of unknown) and changes',
    { timeout: 10_000 },
    async () => {
      const { registry, cache } = setup();
      let healthy = true;
      registry.register('p', { healthCheck: async () => ({ healthy }) });
      const results: CheckResult[] = [];
      const transitions: Transition[] = [];
      let changes = 0;
      cache.onResult((r) => results.push(r));
      cache.onTransition((t) => transitions.push(t));
      cache.onChange(() => changes++);
      await cache.checkNow();
      await cache.checkNow();
      healthy = false;
      await cache.checkNow();
      assert.equal(results.length, 3);
      assert.equal(results[1]!.previous, results[0]!.status);
      assert.deepEqual(
        transitions.map((t) => [t.from, t.to]),
        [
          ['unknown', 'healthy'],
          ['healthy', 'unhealthy'],
        ],
      );
      assert.equal(changes, 3);
    },
  );

  it('keeps polling when a listener throws, reporting the error', { timeout: 10_000 }, async () => {
    const { registry, cache } = setup();
    const checker = countingChecker();
    registry.register('p', checker);
    const errors: unknown[] = [];
    cache.onListenerError((e) => errors.push(e));
    cache.onResult(() => {
      throw new Error('listener bug');
    });
    let after = 0;
    cache.onResult(() => after++);
    await cache.checkNow();
    await cache.checkNow();
    assert.equal(checker.calls, 2);
    assert.equal(after, 2);
    assert.equal(errors.length, 2);
    assert.equal(cache.get('p')?.healthy, true);
  });
});

describe('reads', () => {
  it(
    'returns the same frozen, name-sorted snapshot until something changes',
    { timeout: 10_000 },
    async () => {
      const { registry, cache } = setup();
      for (const name of ['delta', 'alpha', 'charlie', 'bravo']) registry.register(name, countingChecker());
      assert.deepEqual(cache.snapshot(), []);
      await cache.checkNow();
      const snapshot = cache.snapshot();
      assert.equal(cache.snapshot(), snapshot);
      assert.deepEqual(
        snapshot.map((s) => s.name),
        ['alpha', 'bravo', 'charlie', 'delta'],
      );
      assert.ok(Object.isFrozen(snapshot));
      assert.ok(Object.isFrozen(snapshot[0]));
      await cache.checkNow();
      assert.notEqual(cache.snapshot(), snapshot);
    },
  );

  it('cannot be corrupted through a status it handed out', { timeout: 10_000 }, async () => {
    const { registry, cache } = setup();
    registry.register('p', countingChecker());
    await cache.checkNow();
    const status = cache.get('p')!;
    const checkedAt = status.checkedAt.getTime();
    assert.throws(() => ((status as { healthy: boolean }).healthy = false), TypeError);
    assert.throws(() => status.checkedAt.setTime(0), /read-only/);
    assert.throws(() => (cache.snapshot() as unknown as unknown[]).push({}), TypeError);
    assert.equal(cache.get('p')!.healthy, true);
    assert.equal(cache.get('p')!.checkedAt.getTime(), checkedAt);
    assert.ok(status.checkedAt instanceof Date);
    assert.equal(JSON.stringify({ at: status.checkedAt }), `{"at":"${status.checkedAt.toISOString()}"}`);
  });

  it('get() is undefined until checked once', { timeout: 10_000 }, async () => {
    const { registry, cache } = setup();
    registry.register('p', countingChecker());
    assert.equal(cache.get('p'), undefined);
    await cache.checkNow();
    assert.notEqual(cache.get('p'), undefined);
  });
});

describe('dispose', () => {
  it('stops a run, detaches from the registry and refuses new work', { timeout: 10_000 }, async () => {
    const { clock, registry, cache, start } = setup();
    registry.register('p', countingChecker());
    const running = start();
    await clock.advance(0);
    cache.dispose();
    await running;
    assert.equal(clock.pendingTimers, 0);
    registry.unregister('p');
    assert.notEqual(cache.get('p'), undefined, 'no longer follows the registry');
    await assert.rejects(cache.checkNow(), /after dispose/);
    cache[Symbol.dispose]();
  });
});

describe('restore', () => {
  it(
    'loads a status decided elsewhere, keeps it frozen, and never goes backwards',
    { timeout: 10_000 },
    async () => {
      const source = setup();
      source.registry.register('p', { healthCheck: async () => ({ healthy: false, message: 'down' }) });
      await source.cache.checkNow();
      const status = source.cache.get('p')!;

      const { clock, registry, cache } = setup();
      const transitions: Transition[] = [];
      cache.onTransition((t) => transitions.push(t));
      assert.equal(cache.restore(status), false, 'not registered here: ignored');
      registry.register('p', {});
      assert.equal(
        cache.restore(status, { checkedAt: status.checkedAt, latency: 3, state: 'unhealthy' }),
        true,
      );
      assert.equal(cache.get('p')?.message, 'down');
      assert.equal(cache.get('p')?.healthy, false);
      assert.ok(Object.isFrozen(cache.get('p')));
      assert.deepEqual(
        cache.history('p').map((h) => h.latency),
        [3],
      );
      assert.deepEqual(
        transitions.map((t) => [t.from, t.to]),
        [['unknown', 'unhealthy']],
      );
      assert.equal(cache.restore(status), false, 'not newer than what it holds: ignored');
      // A restored status that is already old turns stale at once.
      await clock.advance(10_000);
      assert.equal(cache.get('p')?.state, 'stale');
    },
  );
});

describe('callers and clocks', () => {
  it(
    'drops a queued sweep when every caller waiting for it gave up and the run stopped',
    { timeout: 10_000 },
    async () => {
      const { clock, registry, cache, stop, start } = setup();
      const slow = controlledChecker();
      const counter = countingChecker();
      registry.register('slow', slow);
      registry.register('counter', counter);
      const running = start();
      await clock.advance(0);
      assert.equal(counter.calls, 1);
      const caller = new AbortController();
      const waiting = cache.checkNow(caller.signal);
      caller.abort(new Error('gave up'));
      await assert.rejects(waiting, /gave up/);
      stop.abort();
      await running;
      await clock.advance(1_000);
      assert.equal(counter.calls, 1, 'no sweep ran for a caller that left');
    },
  );

  it('does not let a checker clock running ahead block later results', { timeout: 10_000 }, async () => {
    const { clock, registry, cache } = setup();
    let ahead = true;
    registry.register('p', {
      healthCheck: async () => ({
        healthy: true,
        message: ahead ? 'from the future' : 'now',
        checkedAt: new Date(clock.now() + (ahead ? 3_600_000 : 0)),
      }),
    });
    await cache.checkNow();
    assert.equal(cache.get('p')?.checkedAt.getTime(), clock.now(), 'clamped to the time it completed');
    ahead = false;
    await clock.advance(10);
    await cache.checkNow();
    assert.equal(cache.get('p')?.message, 'now');
  });
});
