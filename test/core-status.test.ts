import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HealthCache, ProviderRegistry, millisToNanos, redactSecrets, statusToJSON } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';

// RFC 3339 as Go's time.Time.UnmarshalJSON accepts it.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

describe('statusToJSON', () => {
  it('produces the Go wire form: integer nanoseconds and RFC 3339 times', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 12, 0, 0, 250));
    const registry = new ProviderRegistry();
    registry.register('docker', {
      healthCheck: async () => ({
        healthy: true,
        message: 'Docker 28.2 (API 1.50)',
        latency: 1.2345678,
        details: { engine: 'docker' },
      }),
    });
    const cache = new HealthCache(registry, { clock });
    await cache.checkNow();
    const json = statusToJSON(cache.get('docker')!);
    assert.equal(json.name, 'docker');
    assert.equal(json.healthy, true);
    assert.equal(json.message, 'Docker 28.2 (API 1.50)');
    assert.equal(json.latency, 1_234_568);
    assert.ok(Number.isInteger(json.latency));
    assert.equal(json.checked_at, '2026-11-25T12:00:00.250Z');
    assert.match(json.checked_at, RFC3339);
    assert.equal(json.state, 'healthy');
    assert.equal(json.stale, false);
    assert.equal(json.consecutive_successes, 1);
    assert.equal(json.last_success_at, '2026-11-25T12:00:00.250Z');
    assert.equal('last_failure_at' in json, false);
    assert.equal(json.uptime, 1);
    assert.equal(json.latency_p50, 1_234_568);
    assert.deepEqual(json.details, { engine: 'docker' });
    // What a Go client would decode: the original's five fields, unchanged in name and type.
    const decoded = JSON.parse(JSON.stringify(json)) as Record<string, unknown>;
    assert.deepEqual(
      ['name', 'healthy', 'message', 'latency', 'checked_at'].map((key) => typeof decoded[key]),
      ['string', 'boolean', 'string', 'number', 'string'],
    );
  });

  it('converts milliseconds to whole nanoseconds', () => {
    assert.equal(millisToNanos(0), 0);
    assert.equal(millisToNanos(5_000), 5_000_000_000);
    assert.equal(millisToNanos(0.0004), 400);
  });
});

describe('redactSecrets', () => {
  it('hides the whole userinfo of a URL, even a password holding "@"', () => {
    // WHATWG and legacy URL parsers both end the userinfo at the last "@" before the host,
    // so ioredis and fetch accept such URLs: none of the password may remain.
    assert.equal(redactSecrets('redis://:p@ss@redis:6379/0'), 'redis://***@redis:6379/0');
    assert.equal(redactSecrets('https://user:p@ss:w0rd@host/x'), 'https://***@host/x');
    assert.equal(
      redactSecrets('shared through redis://app:s3cr@t@10.0.0.5:6379 (polling)'),
      'shared through redis://***@10.0.0.5:6379 (polling)',
    );
  });

  it('leaves an "@" in the path or after the URL alone', () => {
    assert.equal(redactSecrets('http://c:d@e/f@g'), 'http://***@e/f@g');
    assert.equal(
      redactSecrets('see http://a@b and mail me@example.org'),
      'see http://***@b and mail me@example.org',
    );
    assert.equal(redactSecrets('GET http://host/path?q=a@b'), 'GET http://host/path?q=a@b');
  });
});
