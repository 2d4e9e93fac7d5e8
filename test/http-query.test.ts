/**
 * GET /api/providers with parameters: state filters, field subsets and cursor
 * pages (the next one named in a Link header), validated with 400s; each
 * distinct query serialised once per published version.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { createHealthHandler, type HealthHandler, type ProviderJSON } from '../src/http/index.js';
import { BodyCache, MAX_VARIANTS, toCachedBody } from '../src/http/body-cache.js';
import { ManualClock } from '../src/testing/index.js';
import { countingView, demoCache, request, serve, switchable, type TestServer } from './support/http.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

/** Names with the characters a cursor must survive. */
const ODD = ['a&b=c', 'eu/west ?#%+ ünï', 'z,comma'];

/** The target named by a `Link: <…>; rel="next"` header, or undefined. */
function nextTarget(link: string | string[] | undefined): string | undefined {
  if (link === undefined) return undefined;
  const match = /^<([^>]+)>; rel="next"$/.exec(String(link));
  assert.ok(match, `a Link header naming the next page, got ${String(link)}`);
  return match[1];
}

describe('GET /api/providers with parameters', () => {
  let server: TestServer;
  let handler: HealthHandler;
  let view: ReturnType<typeof countingView>;
  let full: ProviderJSON[];
  const base = '/health';

  before(async () => {
    const providers: Record<string, object> = {};
    for (let i = 0; i < 40; i++) {
      const state = i % 4;
      providers[`p-${String(i).padStart(2, '0')}`] = switchable(
        state === 0
          ? new Error(`down ${i}`)
          : { healthy: true, degraded: state === 1, message: `ok ${i}`, details: { i } },
      );
    }
    for (const name of ODD) providers[name] = switchable(new Error('refused'));
    const setup = await demoCache(providers);
    setup.registry.register('never-checked', switchable());
    view = countingView(setup.cache);
    handler = createHealthHandler(view, { metrics: false, basePath: base });
    server = await serve(handler);
    full = (await request(`${server.url}${base}/api/providers`)).json<ProviderJSON[]>();
  });
  after(async () => {
    handler.close();
    await server.close();
  });

  it('filters by state, keeping the Go-wire objects whole', { timeout: 30_000 }, async () => {
    const res = await request(`${server.url}${base}/api/providers?state=unhealthy,degraded`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.link, undefined, 'one page: no next link');
    const expected = full.filter((p) => p.state === 'unhealthy' || p.state === 'degraded');
    assert.equal(expected.length, 23);
    assert.deepEqual(res.json(), expected);
    const unknown = await request(`${server.url}${base}/api/providers?state=unknown`);
    assert.deepEqual(
      unknown.json<ProviderJSON[]>().map((p) => p.name),
      ['never-checked'],
    );
    const none = await request(`${server.url}${base}/api/providers?state=stale`);
    assert.equal(none.text, '[]');
  });

  it('sends only the asked fields, in wire order, name always included', { timeout: 30_000 }, async () => {
    const res = await request(`${server.url}${base}/api/providers?fields=message,state`);
    const rows = res.json<Record<string, unknown>[]>();
    assert.equal(rows.length, full.length);
    for (const [i, row] of rows.entries()) {
      assert.deepEqual(Object.keys(row), ['name', 'message', 'state']);
      assert.deepEqual(row, { name: full[i]!.name, message: full[i]!.message, state: full[i]!.state });
    }
    // Optional fields a provider lacks stay absent rather than becoming null.
    const details = await request(`${server.url}${base}/api/providers?fields=details&state=unknown`);
    assert.deepEqual(details.json(), [{ name: 'never-checked' }]);
  });

  it('pages with limit and after, naming the next page in a Link header', { timeout: 30_000 }, async () => {
    const seen: ProviderJSON[] = [];
    let target: string | undefined = `${base}/api/providers?limit=7`;
    let pages = 0;
    while (target !== undefined) {
      const res = await request(`${server.url}${target}`);
      assert.equal(res.status, 200, target);
      const page = res.json<ProviderJSON[]>();
      assert.ok(page.length >= 1 && page.length <= 7);
      seen.push(...page);
      target = nextTarget(res.headers.link);
      if (target !== undefined) assert.ok(target.startsWith(`${base}/api/providers?limit=7&after=`), target);
      pages++;
      assert.ok(pages <= 10, 'the pages end');
    }
    assert.equal(pages, Math.ceil(full.length / 7));
    assert.deepEqual(seen, full, 'every provider once, in order, odd names included');

    // Filters and fields carry over to the next page; an exact last page has no next link.
    const first = await request(`${server.url}${base}/api/providers?state=degraded&fields=state&limit=5`);
    assert.deepEqual(
      first.json(),
      full
        .filter((p) => p.state === 'degraded')
        .slice(0, 5)
        .map((p) => ({ name: p.name, state: p.state })),
    );
    const next = nextTarget(first.headers.link)!;
    assert.match(next, /^\/health\/api\/providers\?state=degraded&fields=name,state&limit=5&after=p-17$/);
    const second = await request(`${server.url}${next}`);
    assert.equal(second.json<unknown[]>().length, 5);
    assert.equal(second.headers.link, undefined, '10 degraded providers: two full pages, no third');
    // `after` need not be a registered name: rows start after where it would sort.
    const tail = await request(`${server.url}${base}/api/providers?after=p-38a`);
    assert.deepEqual(
      tail.json<ProviderJSON[]>().map((p) => p.name),
      ['p-39', 'z,comma'],
    );
  });

  it(
    'refuses bad parameters with a 400 naming the parameter and the value',
    { timeout: 30_000 },
    async () => {
      const cases: [string, string, RegExp][] = [
        ['foo=1', 'foo', /Unknown query parameter "foo"; \/api\/providers takes state, fields, limit, after/],
        ['state=healthy&state=degraded', 'state', /"state" is given more than once/],
        ['state=sick', 'state', /"state" has "sick", which is not one of healthy, degraded/],
        ['state=', 'state', /"state" has ""/],
        ['fields=name,passwords', 'fields', /"fields" has "passwords"/],
        [`fields=${Array(33).fill('name').join(',')}`, 'fields', /lists 33 entries; at most 32/],
        ['limit=0', 'limit', /"limit" must be an integer from 1 to 10000, got "0"/],
        ['limit=10001', 'limit', /got "10001"/],
        ['limit=1.5', 'limit', /got "1.5"/],
        ['limit=-3', 'limit', /got "-3"/],
        ['limit=', 'limit', /got ""/],
        ['after=', 'after', /"after" must name a provider/],
        [`x${'y'.repeat(3_000)}=1`, `x${'y'.repeat(99)}`, /Unknown query parameter "xy+…"/],
      ];
      for (const [query, parameter, message] of cases) {
        const res = await request(`${server.url}${base}/api/providers?${query}`);
        assert.equal(res.status, 400, query);
        const body = res.json<{ error: string; parameter: string }>();
        assert.match(body.error, message, query);
        assert.equal(body.parameter, parameter, query);
        assert.ok(body.error.length < 500, 'the message quotes a bounded part of the value');
      }
    },
  );

  it('serialises each distinct query once per version, with its own ETags', { timeout: 30_000 }, async () => {
    const url = `${server.url}${base}/api/providers`;
    await request(`${url}?state=unhealthy`);
    const gets = view.gets;
    const a = await request(`${url}?state=unhealthy`);
    // The same query written differently is the same variant.
    const b = await request(`${url}?state=unhealthy,unhealthy`);
    assert.equal(view.gets, gets, 'a variant is built once per version, not per request');
    const c = await request(`${url}?fields=state&limit=3`);
    assert.equal(view.gets, gets + 3, 'a ?fields= page builds the rows it sends, those fields only');
    assert.equal(a.headers.etag, b.headers.etag);
    assert.deepEqual(a.json(), b.json());
    const plain = await request(url);
    assert.notEqual(a.headers.etag, plain.headers.etag);
    assert.notEqual(c.headers.etag, a.headers.etag);
    const revalidated = await request(`${url}?state=unhealthy`, {
      headers: { 'If-None-Match': String(a.headers.etag) },
    });
    assert.equal(revalidated.status, 304);
    // A large variant is compressed, under its own ETag.
    const gz = await new Promise<{ etag: string; body: Buffer; coding: string }>((resolve, reject) => {
      import('node:http').then(({ default: http }) => {
        const req = http.get(`${url}?fields=name,state,message,details`, {
          agent: false,
          headers: { 'Accept-Encoding': 'gzip' },
        });
        req.once('error', reject);
        req.once('response', (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.once('end', () =>
            resolve({
              etag: String(res.headers.etag),
              body: Buffer.concat(chunks),
              coding: String(res.headers['content-encoding']),
            }),
          );
        });
      }, reject);
    });
    const identity = await request(`${url}?fields=name,state,message,details`);
    assert.equal(gz.coding, 'gzip');
    assert.equal(gunzipSync(gz.body).toString(), identity.text);
    assert.equal(gz.etag, `${String(identity.headers.etag).slice(0, -1)}-gzip"`);
  });
});

describe('query variants after a change', () => {
  it('are rebuilt from the newly published version', { timeout: 30_000 }, async () => {
    const a = switchable({ healthy: true, message: 'v0' });
    const { cache } = await demoCache({ a, b: switchable() });
    const clock = new ManualClock();
    const handler = createHealthHandler(cache, { metrics: false, clock, publishInterval: 1_000 });
    const server = await serve(handler);
    try {
      const url = `${server.url}/api/providers?state=unhealthy&fields=message`;
      assert.equal((await request(url)).text, '[]');
      a.report = new Error('gone');
      await cache.checkProvider('a');
      assert.deepEqual((await request(url)).json(), [{ name: 'a', message: 'gone' }]);
    } finally {
      handler.close();
      await server.close();
    }
  });
});

describe('BodyCache.variant', () => {
  it(`keeps at most ${MAX_VARIANTS} variants, dropping the least recently used`, () => {
    const cache = new BodyCache();
    let builds = 0;
    const get = (key: string) =>
      cache.variant(key, () => {
        builds++;
        return toCachedBody(200, key);
      });
    for (let i = 0; i < MAX_VARIANTS; i++) get(`q${i}`);
    assert.equal(builds, MAX_VARIANTS);
    get('q0'); // used again: now the most recent
    assert.equal(builds, MAX_VARIANTS, 'a hit builds nothing');
    get('new'); // evicts q1, the least recently used
    get('q0');
    assert.equal(builds, MAX_VARIANTS + 1, 'q0 was kept');
    get('q1');
    assert.equal(builds, MAX_VARIANTS + 2, 'q1 was dropped and is built again');
    cache.invalidate();
    get('q0');
    assert.equal(builds, MAX_VARIANTS + 3, 'a new version builds again');
  });
});
