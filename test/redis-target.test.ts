/**
 * The `redis` option's Sentinel and Cluster forms and the key prefix:
 * validation with typed errors naming the option (never quoting a
 * password), and one hash tag for every key of a replica set.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OptionRangeError, OptionTypeError, ProviderRegistry } from '../src/index.js';
import { groupKey, sharedKeys } from '../src/redis/keys.js';
import { SharedHealthCache, type SharedHealthCacheOptions } from '../src/redis/index.js';
import { resolveTarget } from '../src/redis/target.js';

function make(redis: unknown, extra: Partial<SharedHealthCacheOptions> = {}): SharedHealthCache {
  return new SharedHealthCache(new ProviderRegistry(), {
    redis: redis as SharedHealthCacheOptions['redis'],
    ...extra,
  });
}

describe('the redis option: Sentinel and Cluster', () => {
  test('Sentinel: host:port strings and objects, default port 26379, IPv6 in brackets', () => {
    const target = resolveTarget({
      sentinels: ['s1:26380', { host: 's2' }, '[::1]:26381', 's4'],
      name: 'mymaster',
      password: 'hunter2',
      sentinelPassword: 'sentinel-secret',
    });
    assert.equal(target.kind, 'sentinel');
    if (target.kind !== 'sentinel') return;
    assert.deepEqual(
      target.sentinels.map(({ host, port }) => `${host}/${port}`),
      ['s1/26380', 's2/26379', '::1/26381', 's4/26379'],
    );
    assert.equal(target.name, 'mymaster');
    assert.deepEqual([...target.secrets].sort(), ['hunter2', 'sentinel-secret']);
  });

  test('Cluster: seed nodes, default port 6379', () => {
    const target = resolveTarget({ cluster: ['n1:7000', 'n2'], username: 'app', password: 'pw' });
    assert.equal(target.kind, 'cluster');
    if (target.kind !== 'cluster') return;
    assert.deepEqual(
      target.nodes.map(({ host, port }) => `${host}/${port}`),
      ['n1/7000', 'n2/6379'],
    );
  });

  test('bad forms: typed errors naming the option, never the password', () => {
    const cases: [unknown, RegExp, string][] = [
      [{ sentinels: [], name: 'm' }, /redis\.sentinels.*1 to 64/, 'redis.sentinels'],
      [{ sentinels: ['h:1'] }, /redis\.name.*master name/, 'redis.name'],
      [{ sentinels: ['h:1'], name: 'has space' }, /redis\.name/, 'redis.name'],
      [
        { sentinels: ['h:1', 'bad host:1'], name: 'm' },
        /redis\.sentinels\[1\].*host:port/,
        'redis.sentinels[1]',
      ],
      [{ sentinels: ['h:99999'], name: 'm' }, /redis\.sentinels\[0\]/, 'redis.sentinels[0]'],
      [{ cluster: 'n1:7000' }, /redis\.cluster/, 'redis.cluster'],
      [{ cluster: Array.from({ length: 65 }, () => 'n:1') }, /redis\.cluster.*1 to 64/, 'redis.cluster'],
      [{ cluster: ['n:1'], sentinels: ['s:1'], name: 'm' }, /either `sentinels` or `cluster`/, 'redis'],
      [{ cluster: ['n:1'], password: 42 }, /redis\.password/, 'redis.password'],
      [{ cluster: ['n:1'], tls: 'yes' }, /redis\.tls/, 'redis.tls'],
      [{ sentinels: ['h:1'], name: 'm', db: 16 }, /redis\.db.*0 to 15/, 'redis.db'],
      [{ somethingElse: true }, /\{ sentinels, name \}.*\{ cluster \}/, 'redis'],
    ];
    for (const [redis, message, option] of cases) {
      assert.throws(
        () => make(redis),
        (error: unknown) => {
          assert.ok(error instanceof OptionTypeError || error instanceof OptionRangeError, String(error));
          assert.match(error.message, message);
          assert.equal(error.option, option);
          return true;
        },
        JSON.stringify(redis).slice(0, 80),
      );
    }
    assert.throws(
      () => make({ cluster: ['n:1'], password: 'x'.repeat(5_000) }),
      (error: Error) => !error.message.includes('xxxx'),
    );
  });

  test('the key prefix may not hold braces (they would change the hash tag)', () => {
    for (const key of ['{a}', 'a}b', 'x{']) {
      assert.throws(() => make('redis://127.0.0.1:1', { key }), /`key`.*without spaces or braces/);
    }
  });
});

describe('keys: one hash tag per replica set', () => {
  test('every key and channel starts with {prefix}, and groupKey builds more of them', () => {
    const keys = sharedKeys('provider-health');
    const all: string[] = Object.values(keys as unknown as Record<string, string>);
    for (const key of all) assert.ok(key.startsWith('{provider-health}'), key);
    assert.equal(keys.statuses, '{provider-health}:statuses');
    assert.equal(groupKey('prod', 'alerts:state'), '{prod}:alerts:state');
  });
});
