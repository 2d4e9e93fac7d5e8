// Gaps that deliberate code mutations slipped through (issue 15): each test here
// fails when the behaviour it names is broken by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HealthCache, ProviderRegistry, type HealthCacheOptions } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { restoredStatus } from './fixtures/core-status.js';
import { controlledChecker } from './support/checkers.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

function setup(options: HealthCacheOptions = {}) {
  const clock = new ManualClock();
  const registry = new ProviderRegistry();
  const cache = new HealthCache(registry, { pollInterval: 1_000, checkTimeout: 100, clock, ...options });
  return { clock, registry, cache };
}

describe('result ordering against a restore', () => {
  it('a check started before a restore cannot replace the restored status', { timeout: 10_000 }, async () => {
    const { clock, registry, cache } = setup({ checkTimeout: 500 });
    const checker = controlledChecker();
    registry.register('p', checker);
    const sweep = cache.checkNow();
    await clock.advance(10);
    assert.equal(checker.calls.length, 1, 'the check is in flight');
    // Restored with the time of the restore (t=10): older than the check's completion (t=20),
    // so only the start order can keep the old check out.
    assert.equal(cache.restore(restoredStatus('p', clock.now())), true);
    await clock.advance(10);
    checker.calls[0]!.resolve({ healthy: false, message: 'old check' });
    await sweep;
    assert.equal(cache.get('p')?.message, 'restored');
    assert.equal(cache.get('p')?.healthy, true);
    // A check started after the restore is applied as usual.
    const next = cache.checkNow();
    await clock.settle();
    checker.calls[1]!.resolve({ healthy: true, message: 'new check' });
    await next;
    assert.equal(cache.get('p')?.message, 'new check');
  });
});

describe('uptime', () => {
  it('counts degraded results as up', { timeout: 10_000 }, async () => {
    const { registry, cache } = setup({ historySize: 4 });
    const results = [
      { healthy: true, degraded: true },
      { healthy: false, message: 'down' },
      { healthy: true, degraded: true },
      { healthy: true },
    ];
    let i = 0;
    registry.register('p', { healthCheck: async () => results[i++] });
    for (let n = 0; n < results.length; n++) await cache.checkNow();
    assert.deepEqual(
      cache.history('p').map((h) => h.state),
      ['degraded', 'unhealthy', 'degraded', 'healthy'],
    );
    assert.equal(cache.get('p')!.history.uptime, 0.75);
  });
});

describe('redaction under the default message cap', () => {
  const secrets: [string, string][] = [
    ['a Bearer token', 'request failed: Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig'],
    ['a Basic credential', 'proxy answered 407 for Basic dXNlcjpodW50ZXIy'],
    ['a token scheme', 'rejected: token ghp_abcdefghijklmnopqrstuvwxyz012345'],
    ['a token parameter', 'GET /v1/status?access_token=ghp_abcdefghijklmnop&x=1 failed'],
    ['URL userinfo', 'dial redis://admin:hunter2hunter2@10.0.0.5:6379 refused'],
  ];
  const secretPart = /eyJhbGciOiJIUzI1NiJ9|dXNlcjpodW50ZXIy|ghp_abcdef|hunter2/;
  for (const [label, message] of secrets) {
    it(`hides ${label} in a message that is not cut`, { timeout: 10_000 }, async () => {
      const { registry, cache } = setup();
      assert.ok(message.length < cache.options.maxMessageLength, 'no cap hides the secret');
      registry.register('p', { healthCheck: () => Promise.reject(new Error(message)) });
      await cache.checkNow();
      const shown = cache.get('p')!.message;
      assert.doesNotMatch(shown, secretPart);
      assert.match(shown, /\*\*\*/);
    });
  }
});
