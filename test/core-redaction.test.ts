// Secret scrubbing of messages: linear work (the timing figures are in
// bench/core.bench.ts), bounded input, and cuts that never expose part of a secret.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HealthCache, ProviderRegistry, redactSecrets } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';

async function shown(message: string, maxMessageLength = 64): Promise<string> {
  const registry = new ProviderRegistry();
  registry.register('p', { healthCheck: () => Promise.reject(new Error(message)) });
  const cache = new HealthCache(registry, { clock: new ManualClock(), maxMessageLength });
  await cache.checkNow();
  return cache.get('p')!.message;
}

describe('scrubbing long messages', () => {
  for (const size of [10_000, 20_000, 40_000, 80_000]) {
    it(
      `handles ${size.toLocaleString('en-US')} characters of "a.a.a…" and caps the result`,
      { timeout: 10_000 },
      async () => {
        const message = 'a.'.repeat(size / 2);
        assert.equal(redactSecrets(message), message);
        const text = await shown(message, 1_024);
        assert.equal(text.length, 1_024);
        assert.ok(text.endsWith('…'));
        assert.equal(text.slice(0, 1_023), message.slice(0, 1_023));
      },
    );
  }

  it('redacts every URL userinfo in a long message', () => {
    const message = Array.from({ length: 2_000 }, (_, i) => `redis://u${i}:pw${i}@h${i}:6379`).join(' ');
    assert.doesNotMatch(redactSecrets(message), /pw\d/);
  });
});

describe('a cut through a secret shows no part of it', () => {
  const long = 6_000;
  const cases: [string, string, RegExp][] = [
    ['URL userinfo', `connect to redis://user:${'p'.repeat(long)}@redis:6379 failed`, /user|pp/],
    ['a Bearer token', `auth failed: Authorization: Bearer ${'A'.repeat(long)} rejected`, /AA/],
    ['a token parameter', `GET /status?access_token=${'t'.repeat(long)} failed`, /tt/],
    ['a Basic credential', `proxy: Basic ${'B'.repeat(long)}`, /BB/],
  ];
  for (const [label, message, part] of cases) {
    it(`for ${label}`, { timeout: 10_000 }, async () => {
      for (const max of [16, 64, 1_024]) {
        const text = await shown(message, max);
        assert.doesNotMatch(text, part, `max ${max}: ${text}`);
        assert.ok(text.length <= max);
      }
    });
  }

  it('keeps a long message without secrets readable up to the cap', { timeout: 10_000 }, async () => {
    const text = await shown(`${'word '.repeat(2_000)}end`, 64);
    assert.equal(text, `${'word '.repeat(12)}wor…`);
  });
});
