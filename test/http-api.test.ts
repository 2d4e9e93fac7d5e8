import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHealthHandler, type HealthHandler, type ProviderJSON } from '../src/http/index.js';
import { ManualClock } from '../src/testing/index.js';
import {
  countingView,
  demoCache,
  rawExchange,
  request,
  serve,
  switchable,
  type TestServer,
} from './support/http.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

const ODD_NAME = 'eu/west ?#%&+ ünï <b>';

describe('JSON API over node:http', () => {
  let server: TestServer;
  let handler: HealthHandler;
  let setup: Awaited<ReturnType<typeof demoCache>>;
  const up = switchable({ healthy: true, message: 'fine', details: { version: '27.3' } });
  const down = switchable(new Error('connection refused'));
  const slow = switchable({ healthy: true, degraded: true, message: 'slow' });

  before(async () => {
    setup = await demoCache({ up, down, slow, [ODD_NAME]: switchable() });
    setup.registry.register('fresh', switchable()); // registered, never checked
    handler = createHealthHandler(setup.cache, { metrics: false });
    server = await serve(handler);
  });
  after(async () => {
    handler.close();
    await server.close();
  });

  it(
    'lists every provider sorted by name, in the Go wire form, unknown ones included',
    { timeout: 30_000 },
    async () => {
      const res = await request(`${server.url}/api/providers`);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.match(String(res.headers.etag), /^"[\w-]+"$/);
      const list = res.json<ProviderJSON[]>();
      assert.deepEqual(
        list.map((p) => p.name),
        ['down', 'eu/west ?#%&+ ünï <b>', 'fresh', 'slow', 'up'],
      );
      const byName = new Map(list.map((p) => [p.name, p]));
      const upJSON = byName.get('up')!;
      assert.equal(upJSON.healthy, true);
      assert.equal(upJSON.state, 'healthy');
      assert.ok(Number.isInteger(upJSON.latency), 'latency is integer nanoseconds');
      assert.match(upJSON.checked_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.deepEqual(upJSON.details, { version: '27.3' });
      assert.equal(upJSON.samples, 1);
      assert.equal(upJSON.uptime, 1);
      assert.equal(byName.get('down')!.state, 'unhealthy');
      assert.equal(byName.get('down')!.message, 'connection refused');
      assert.equal(byName.get('slow')!.state, 'degraded');
      assert.equal(byName.get('slow')!.healthy, true);
      const fresh = byName.get('fresh')!;
      assert.equal(fresh.state, 'unknown');
      assert.equal(fresh.healthy, false);
      assert.equal(fresh.checked_at, '0001-01-01T00:00:00Z', "Go's zero time");
    },
  );

  it(
    'serves one provider by URL-decoded name, and 404 JSON for an unknown one',
    { timeout: 30_000 },
    async () => {
      const res = await request(`${server.url}/api/providers/${encodeURIComponent(ODD_NAME)}`);
      assert.equal(res.status, 200);
      assert.equal(res.json<ProviderJSON>().name, ODD_NAME);
      const fresh = await request(`${server.url}/api/providers/fresh`);
      assert.equal(fresh.json<ProviderJSON>().state, 'unknown');
      const missing = await request(`${server.url}/api/providers/${encodeURIComponent('no/such thing')}`);
      assert.equal(missing.status, 404);
      assert.equal(missing.headers['content-type'], 'application/json; charset=utf-8');
      assert.deepEqual(missing.json(), {
        error: 'No provider named "no/such thing" is registered',
        name: 'no/such thing',
      });
    },
  );

  it('serves the history of one provider and of all', { timeout: 30_000 }, async () => {
    const one = await request(`${server.url}/api/providers/up/history`);
    assert.equal(one.status, 200);
    const body = one.json<{
      name: string;
      samples: { checked_at: string; latency: number; state: string }[];
    }>();
    assert.equal(body.name, 'up');
    assert.equal(body.samples.length, 1);
    assert.equal(body.samples[0]!.state, 'healthy');
    assert.ok(Number.isInteger(body.samples[0]!.latency));
    const all = (await request(`${server.url}/api/history`)).json<Record<string, unknown[]>>();
    assert.deepEqual(Object.keys(all), ['down', ODD_NAME, 'fresh', 'slow', 'up']);
    assert.deepEqual(all.fresh, []);
    assert.equal((await request(`${server.url}/api/providers/nope/history`)).status, 404);
  });

  it(
    'aggregates health: 503 naming the providers that are not healthy, 200 for a healthy selection',
    { timeout: 30_000 },
    async () => {
      const all = await request(`${server.url}/api/health`);
      assert.equal(all.status, 503);
      const body = all.json<{
        healthy: boolean;
        providers: number;
        not_healthy: { name: string; state: string }[];
      }>();
      assert.equal(body.healthy, false);
      assert.equal(body.providers, 5);
      assert.deepEqual(
        body.not_healthy.map((p) => [p.name, p.state]),
        [
          ['down', 'unhealthy'],
          ['fresh', 'unknown'],
        ],
      );
      const some = await request(`${server.url}/api/health?provider=up&provider=slow&provider=up`);
      assert.equal(some.status, 200);
      const someBody = some.json<{ healthy: boolean; providers: number; degraded: { name: string }[] }>();
      assert.equal(someBody.healthy, true);
      assert.equal(someBody.providers, 2);
      assert.deepEqual(
        someBody.degraded.map((p) => p.name),
        ['slow'],
      );
      const odd = await request(`${server.url}/api/health?provider=${encodeURIComponent(ODD_NAME)}`);
      assert.equal(odd.status, 200);
      const unknown = await request(`${server.url}/api/health?provider=up&provider=ghost`);
      assert.equal(unknown.status, 404);
      assert.deepEqual(unknown.json<{ unknown: string[] }>().unknown, ['ghost']);
    },
  );

  it(
    'never mixes up the cached answers of selections whose names hold a newline',
    { timeout: 30_000 },
    async () => {
      // Names may hold any character: `?provider=a%0Ab` and `?provider=a&provider=b` are different questions.
      const { cache } = await demoCache({
        a: switchable(),
        b: switchable(),
        'a\nb': switchable(new Error('down')),
      });
      const own = await serve(createHealthHandler(cache, { metrics: false }));
      try {
        assert.equal((await request(`${own.url}/api/health?provider=a%0Ab`)).status, 503);
        const pair = await request(`${own.url}/api/health?provider=a&provider=b`);
        assert.equal(pair.status, 200, pair.text);
        assert.equal(pair.json<{ providers: number }>().providers, 2);
      } finally {
        await own.close();
      }
    },
  );

  it(
    'answers 304 to a matching If-None-Match and a new ETag after a change',
    { timeout: 30_000 },
    async () => {
      const first = await request(`${server.url}/api/providers`);
      const etag = String(first.headers.etag);
      const again = await request(`${server.url}/api/providers`, { headers: { 'If-None-Match': etag } });
      assert.equal(again.status, 304);
      assert.equal(again.text, '');
      assert.equal(again.headers.etag, etag);
      const listed = await request(`${server.url}/api/providers`, {
        headers: { 'If-None-Match': `"x", W/${etag}` },
      });
      assert.equal(listed.status, 304);
      up.report = { healthy: false, message: 'now broken' };
      await setup.cache.checkProvider('up');
      const changed = await request(`${server.url}/api/providers`, { headers: { 'If-None-Match': etag } });
      assert.equal(changed.status, 200);
      assert.notEqual(changed.headers.etag, etag);
      assert.equal(changed.json<ProviderJSON[]>().find((p) => p.name === 'up')!.message, 'now broken');
      up.report = { healthy: true, message: 'fine' };
      await setup.cache.checkProvider('up');
    },
  );

  it(
    'never turns a non-2xx answer into a 304: a matching If-None-Match on a 503 health stays 503',
    { timeout: 30_000 },
    async () => {
      // RFC 9110 §13.2.1: preconditions apply only when the answer would be 2xx;
      // a monitor revalidating a cached "healthy" must see the outage.
      const first = await request(`${server.url}/api/health`);
      assert.equal(first.status, 503);
      for (const tag of [String(first.headers.etag), '*']) {
        const again = await request(`${server.url}/api/health`, { headers: { 'If-None-Match': tag } });
        assert.equal(again.status, 503, tag);
        assert.equal(again.json<{ healthy: boolean }>().healthy, false, tag);
      }
    },
  );

  it('supports HEAD with the same headers and no body', { timeout: 30_000 }, async () => {
    const get = await request(`${server.url}/api/providers`);
    const head = await request(`${server.url}/api/providers`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.equal(head.headers['content-length'], get.headers['content-length']);
    assert.equal(head.headers.etag, get.headers.etag);
  });

  it(
    'answers wrong methods with 405 and Allow, OPTIONS with 204 and Allow',
    { timeout: 30_000 },
    async () => {
      const del = await request(`${server.url}/api/providers`, { method: 'DELETE' });
      assert.equal(del.status, 405);
      assert.equal(del.headers.allow, 'GET, HEAD');
      assert.match(del.json<{ error: string }>().error, /DELETE/);
      const getRefresh = await request(`${server.url}/api/refresh`);
      assert.equal(getRefresh.status, 405);
      assert.equal(getRefresh.headers.allow, 'POST');
      const options = await request(`${server.url}/api/events`, { method: 'OPTIONS' });
      assert.equal(options.status, 204);
      assert.equal(options.headers.allow, 'GET');
    },
  );

  it('answers unknown paths with 404 JSON', { timeout: 30_000 }, async () => {
    for (const path of [
      '/nope',
      '/api',
      '/api/providers/up/nope',
      '/api/providers/up/history/x',
      '/assets/x.js',
    ]) {
      const res = await request(server.url + path);
      assert.equal(res.status, 404, path);
      assert.deepEqual(res.json(), { error: 'Not found' }, path);
    }
  });

  it('rejects oversized and malformed requests: 414, 400, 413', { timeout: 30_000 }, async () => {
    const long = await request(`${server.url}/api/providers/${'x'.repeat(5000)}`);
    assert.equal(long.status, 414);
    const badEncoding = await request(`${server.url}/api/providers/%E0%A4%A`);
    assert.equal(badEncoding.status, 400);
    assert.match(badEncoding.json<{ error: string }>().error, /percent-encoding/);
    const badUtf8 = await request(`${server.url}/api/health?provider=%C0%AF`);
    assert.equal(badUtf8.status, 400);
    const big = await request(`${server.url}/api/refresh`, { method: 'POST', body: Buffer.alloc(4096) });
    assert.equal(big.status, 413);
  });

  it('accepts an absolute-form request target', { timeout: 30_000 }, async () => {
    const reply = await rawExchange(
      server.port,
      `GET ${server.url}/api/providers/up HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    );
    assert.match(reply, /^HTTP\/1\.1 200 /);
    assert.match(reply, /"name":"up"/);
  });

  it('serialises a body once per change, not once per request', { timeout: 30_000 }, async () => {
    const view = countingView(setup.cache);
    const counting = createHealthHandler(view, { metrics: false });
    const local = await serve(counting);
    try {
      await request(`${local.url}/api/providers`);
      const afterFirst = view.gets;
      assert.ok(afterFirst >= 5, 'the first request builds the body');
      for (let i = 0; i < 20; i++) await request(`${local.url}/api/providers`);
      assert.equal(view.gets, afterFirst, 'later requests reuse the bytes');
      await setup.cache.checkProvider('slow');
      await request(`${local.url}/api/providers`);
      assert.ok(view.gets > afterFirst, 'a change rebuilds the body');
    } finally {
      counting.close();
      await local.close();
    }
  });
});

describe('odd checker details', () => {
  it('are served as plain JSON, never a 500', { timeout: 30_000 }, async () => {
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    const details = {
      big: 12345678901234567890n,
      circular,
      list: [1, NaN, Infinity, () => 1, Symbol('s')],
      when: new Date(0),
      invalid: new Date(Number.NaN),
      fn: () => 'dropped',
      nested: {
        get boom(): string {
          throw new Error('getter failed');
        },
      },
      deep: { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } },
    };
    const { cache } = await demoCache({ odd: switchable({ healthy: true, details }) });
    const handler = createHealthHandler(cache, { metrics: false });
    const server = await serve(handler);
    try {
      const res = await request(`${server.url}/api/providers/odd`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.json<ProviderJSON>().details, {
        big: '12345678901234567890',
        circular: { name: 'loop', self: '[Circular]' },
        list: [1, null, null, null, null],
        when: '1970-01-01T00:00:00.000Z',
        invalid: null,
        nested: { boom: '[Unreadable]' },
        deep: { a: { b: { c: { d: { e: { f: { g: '[Too deep]' } } } } } } },
      });
      assert.equal((await request(`${server.url}/api/providers`)).status, 200);
      assert.equal((await request(`${server.url}/api/health`)).status, 200);
    } finally {
      handler.close();
      await server.close();
    }
  });
});

describe('handler mounting and lifecycle', () => {
  it('serves under a basePath and leaves other paths to next() or 404', { timeout: 30_000 }, async () => {
    const { cache } = await demoCache({ a: switchable() });
    const handler = createHealthHandler(cache, { basePath: '/ops/health/', metrics: false });
    assert.equal(handler.basePath, '/ops/health');
    const nexts: string[] = [];
    const server = await serve((req, res) =>
      handler(req, res, () => {
        nexts.push(req.url ?? '');
        res.writeHead(299).end('next');
      }),
    );
    try {
      assert.equal((await request(`${server.url}/ops/health/api/providers/a`)).status, 200);
      assert.equal((await request(`${server.url}/ops/health/`)).status, 200);
      assert.equal((await request(`${server.url}/ops/health`)).status, 200);
      assert.equal((await request(`${server.url}/api/providers`)).status, 299);
      assert.equal((await request(`${server.url}/ops/healthz`)).status, 299);
      assert.equal((await request(`${server.url}/ops/health/nope`)).status, 299);
      assert.deepEqual(nexts, ['/api/providers', '/ops/healthz', '/ops/health/nope']);
    } finally {
      handler.close();
      await server.close();
    }
  });

  it('answers 503 after close()', { timeout: 30_000 }, async () => {
    const { cache } = await demoCache({ a: switchable() });
    const handler = createHealthHandler(cache, { metrics: false });
    const server = await serve(handler);
    try {
      handler.close();
      handler.close();
      const res = await request(`${server.url}/api/providers`);
      assert.equal(res.status, 503);
      assert.equal(res.headers['retry-after'], '1');
    } finally {
      await server.close();
    }
  });

  it('is disposable with `using`', { timeout: 30_000 }, async () => {
    const { cache } = await demoCache({ a: switchable() });
    let escaped: HealthHandler | undefined;
    {
      using handler = createHealthHandler(cache, { metrics: false });
      escaped = handler;
    }
    const server = await serve(escaped);
    try {
      assert.equal(
        (await request(`${server.url}/api/providers`)).status,
        503,
        'closed at the end of the block',
      );
    } finally {
      await server.close();
    }
  });

  it('notices staleness on read (the cache is not running)', { timeout: 30_000 }, async () => {
    const clock = new ManualClock();
    const { cache } = await demoCache({ a: switchable() }, { clock, pollInterval: 1_000, checkTimeout: 100 });
    const handler = createHealthHandler(cache, { metrics: false });
    const server = await serve(handler);
    try {
      const before = await request(`${server.url}/api/providers/a`);
      assert.equal(before.json<ProviderJSON>().state, 'healthy');
      await clock.advance(3_001);
      const after = await request(`${server.url}/api/providers/a`, {
        headers: { 'If-None-Match': String(before.headers.etag) },
      });
      assert.equal(after.status, 200);
      assert.equal(after.json<ProviderJSON>().state, 'stale');
      assert.equal((await request(`${server.url}/api/health`)).status, 503);
    } finally {
      handler.close();
      await server.close();
    }
  });

  it('validates its options with errors naming the option and value', { timeout: 30_000 }, async () => {
    const { cache } = await demoCache({}, {}, false);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ minRefreshInterval: -1 }, /`minRefreshInterval`.*-1/],
      [{ minRefreshInterval: 'soon' }, /`minRefreshInterval`.*"soon"/],
      [{ heartbeatInterval: Number.NaN }, /`heartbeatInterval`.*NaN/],
      [{ basePath: 'health' }, /`basePath`.*"health"/],
      [{ basePath: '/a//b' }, /`basePath`/],
      [{ basePath: '/a?b' }, /`basePath`/],
      [{ token: '' }, /`token`/],
      [{ token: 42 }, /`token`.*number/],
      [{ title: '' }, /`title`/],
      [{ maxUrlLength: 10 }, /`maxUrlLength`.*at least 64.*10/],
      [{ maxEventStreams: 1.5 }, /`maxEventStreams`.*integer/],
      [{ metrics: 'yes' }, /`metrics`/],
      [{ clock: {} }, /`clock.now`/],
      [{ page: 1 }, /`page`/],
    ];
    for (const [options, message] of cases) {
      assert.throws(() => createHealthHandler(cache, options), message, JSON.stringify(options));
    }
    assert.throws(() => createHealthHandler({} as never), /HealthView/);
  });

  it('never echoes the token in an option error', { timeout: 30_000 }, async () => {
    const { cache } = await demoCache({}, {}, false);
    const secret = 'hunter2 with space';
    assert.throws(
      () => createHealthHandler(cache, { token: secret }),
      (error: Error) => !error.message.includes('hunter2'),
    );
  });
});
