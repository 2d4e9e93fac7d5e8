import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HealthCache, ProviderRegistry, type HealthReport } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';

/** A checker that answers when `answer()` is called, or rejects with its signal's reason. */
function deferred(): {
  provider: { healthCheck(signal: AbortSignal): Promise<HealthReport> };
  answer: () => void;
  signals: AbortSignal[];
} {
  const signals: AbortSignal[] = [];
  let answer = (): void => {};
  return {
    signals,
    answer: () => answer(),
    provider: {
      healthCheck: (signal) => {
        signals.push(signal);
        return new Promise<HealthReport>((resolve, reject) => {
          answer = () => resolve({ healthy: true, message: 'answered' });
          signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
        });
      },
    },
  };
}

describe('check deadlines (one signal and timer per millisecond of starts)', () => {
  it('times out only the checks still running at their deadline, and leaves no timer once all settle', async () => {
    const clock = new ManualClock();
    const registry = new ProviderRegistry();
    const hung = deferred();
    const quick: AbortSignal[] = [];
    // The hung check starts first (names in order), so the quick ones join its group even when
    // the sweep gives the event loop a turn between starts.
    registry.register('a-hung', hung.provider);
    for (const name of ['b', 'c'])
      registry.register(name, {
        healthCheck: (signal: AbortSignal) => {
          quick.push(signal);
          return { healthy: true };
        },
      });
    const cache = new HealthCache(registry, { clock, pollInterval: 1_000, checkTimeout: 50 });
    const sweep = cache.checkNow();
    await clock.advance(49);
    assert.equal(hung.signals[0]?.aborted, false, 'not before the deadline');
    await clock.advance(1);
    await sweep;
    assert.equal(cache.get('a-hung')?.state, 'unhealthy');
    assert.equal(cache.get('a-hung')?.message, 'timed out after 50 ms');
    assert.equal((hung.signals[0]?.reason as DOMException).name, 'TimeoutError');
    assert.equal(cache.get('b')?.state, 'healthy');
    assert.equal(cache.get('c')?.state, 'healthy');
    // Started in the same millisecond, the quick checks shared the signal: it aborted after they
    // settled (documented), and their results stand.
    assert.equal(quick[0], hung.signals[0]);
    assert.equal(quick[0]?.aborted, true);
    cache.dispose(); // clears the stale timer: any timer left is a check's
    assert.equal(clock.pendingTimers, 0);
  });

  it('a sweep whose checks all answer leaves no timer and aborts no signal', async () => {
    const clock = new ManualClock();
    const registry = new ProviderRegistry();
    const seen: AbortSignal[] = [];
    for (let i = 0; i < 100; i++)
      registry.register(`p${i}`, {
        healthCheck: async (signal: AbortSignal) => {
          seen.push(signal);
          await Promise.resolve();
          return { healthy: true };
        },
      });
    const cache = new HealthCache(registry, { clock, pollInterval: 1_000, checkTimeout: 50 });
    await cache.checkNow();
    assert.equal(seen.length, 100);
    cache.dispose(); // clears the stale timer: any timer left is a check's
    assert.equal(clock.pendingTimers, 0);
    await clock.advance(1_000);
    assert.ok(seen.every((signal) => !signal.aborted));
  });

  it('a check started in a later millisecond has its own deadline, counted from its own start', async () => {
    const clock = new ManualClock();
    const registry = new ProviderRegistry();
    const first = deferred();
    const hung = deferred();
    const later = deferred();
    registry.register('a-first', first.provider);
    registry.register('b-hung', hung.provider);
    registry.register('c-later', later.provider);
    // Two checks at a time: 'c-later' starts when 'a-first' answers, 30 ms in, while 'b-hung' still runs.
    const cache = new HealthCache(registry, {
      clock,
      pollInterval: 1_000,
      checkTimeout: 50,
      concurrency: 2,
    });
    const sweep = cache.checkNow();
    await clock.advance(30);
    first.answer();
    await clock.settle();
    assert.equal(later.signals.length, 1);
    assert.notEqual(later.signals[0], hung.signals[0]);
    await clock.advance(25); // 55 ms after the first starts: past their deadline, not the later one's
    assert.equal(hung.signals[0]?.aborted, true);
    assert.equal(later.signals[0]?.aborted, false);
    await clock.advance(25); // 80 ms: the later check's deadline
    await sweep;
    assert.equal(later.signals[0]?.aborted, true);
    assert.equal(cache.get('a-first')?.message, 'answered');
    assert.equal(cache.get('b-hung')?.message, 'timed out after 50 ms');
    assert.equal(cache.get('c-later')?.message, 'timed out after 50 ms');
    cache.dispose(); // clears the stale timer: any timer left is a check's
    assert.equal(clock.pendingTimers, 0);
  });

  it('stopping run aborts the signal of every running check, and records nothing for them', async () => {
    const clock = new ManualClock();
    const registry = new ProviderRegistry();
    const hung = deferred();
    registry.register('hung', hung.provider);
    const cache = new HealthCache(registry, { clock, pollInterval: 1_000, checkTimeout: 500 });
    const stop = new AbortController();
    const running = cache.run(stop.signal);
    await clock.settle();
    assert.equal(hung.signals.length, 1);
    stop.abort(new Error('shutting down'));
    await running;
    assert.equal(hung.signals[0]?.aborted, true);
    assert.equal((hung.signals[0]?.reason as Error).message, 'shutting down');
    assert.equal(cache.get('hung'), undefined);
    cache.dispose(); // clears the stale timer: any timer left is a check's
    assert.equal(clock.pendingTimers, 0);
  });
});
