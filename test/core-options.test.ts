import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HealthCache, ProviderRegistry, defaultConfig, resolveOptions } from '../src/index.js';

describe('options', () => {
  it('defaultConfig() gives the Go defaults', () => {
    assert.deepEqual(defaultConfig(), { pollInterval: 30_000, checkTimeout: 5_000 });
  });

  it('applies documented defaults', () => {
    const options = resolveOptions();
    assert.equal(options.pollInterval, 30_000);
    assert.equal(options.checkTimeout, 5_000);
    assert.equal(options.concurrency, 16);
    assert.equal(options.staleAfter, 90_000);
    assert.equal(options.failureThreshold, 1);
    assert.equal(options.successThreshold, 1);
    assert.equal(options.historySize, 60);
    assert.equal(options.jitter, 0);
    assert.ok(Object.isFrozen(options));
  });

  it('treats undefined as the default and derives checkTimeout for short intervals', () => {
    assert.equal(resolveOptions({ pollInterval: undefined }).pollInterval, 30_000);
    assert.equal(resolveOptions({ pollInterval: 1_000 }).checkTimeout, 500);
    assert.equal(resolveOptions({ pollInterval: 1_000 }).staleAfter, 3_000);
    assert.equal(resolveOptions({ concurrency: Infinity }).concurrency, Infinity);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['NaN poll interval', { pollInterval: NaN }, /`pollInterval`.*NaN/],
    ['negative poll interval', { pollInterval: -1 }, /`pollInterval`.*greater than 0.*-1/],
    ['zero poll interval', { pollInterval: 0 }, /`pollInterval`.*got 0/],
    ['string timeout', { checkTimeout: '5s' }, /`checkTimeout`.*"5s"/],
    ['infinite timeout', { checkTimeout: Infinity }, /`checkTimeout`.*finite/],
    [
      'timeout not below interval',
      { pollInterval: 1000, checkTimeout: 1000 },
      /`checkTimeout` \(1000\).*below.*`pollInterval` \(1000\)/,
    ],
    ['fractional concurrency', { concurrency: 1.5 }, /`concurrency`.*integer.*1\.5/],
    ['zero concurrency', { concurrency: 0 }, /`concurrency`.*at least 1/],
    ['zero failure threshold', { failureThreshold: 0 }, /`failureThreshold`/],
    ['fractional success threshold', { successThreshold: 2.5 }, /`successThreshold`.*integer/],
    ['negative history', { historySize: -1 }, /`historySize`/],
    ['jitter above 1', { jitter: 2 }, /`jitter`.*at most 1/],
    ['stale below interval', { pollInterval: 1000, staleAfter: 500 }, /`staleAfter`.*at least 1000/],
    ['tiny message cap', { maxMessageLength: 3 }, /`maxMessageLength`/],
    ['clock without now', { clock: { setTimeout() {}, clearTimeout() {} } }, /`clock.now`/],
    ['random not a function', { random: 4 }, /`random`/],
  ];
  for (const [label, options, message] of bad) {
    it(`rejects ${label}, naming the option and the value`, () => {
      assert.throws(
        () => new HealthCache(new ProviderRegistry(), options),
        (error: unknown) =>
          (error instanceof TypeError || error instanceof RangeError) && message.test(error.message),
      );
    });
  }

  it('rejects options that are not an object', () => {
    assert.throws(() => resolveOptions(42 as never), TypeError);
  });

  it('rejects a missing registry', () => {
    assert.throws(() => new HealthCache(undefined as never), /ProviderRegistry/);
  });
});
