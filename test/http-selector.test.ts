/**
 * ?selector= over real sockets: /api/providers (composed with state, fields,
 * limit, after), /api/health (a team's slice; blocked and silenced providers
 * counted apart), /api/events (per change and ?batch=1), 400s naming the
 * position, the length and requirement bounds, and the bounded variant cache.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHealthHandler, type HealthHandler, type ProviderJSON } from '../src/http/index.js';
import { MAX_VARIANTS } from '../src/http/body-cache.js';
import { HealthCache, ProviderRegistry, type HealthView, type Status } from '../src/index.js';
import { MAX_SELECTOR_LENGTH, MAX_SELECTOR_REQUIREMENTS } from '../src/selector.js';
import {
  countingView,
  openEvents,
  request,
  serve,
  switchable,
  waitUntil,
  type SwitchableProvider,
  type TestServer,
} from './support/http.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

interface HealthBody {
  healthy: boolean;
  providers: number;
  not_healthy: { name: string; state: string; message: string }[];
  degraded: { name: string }[];
  blocked: { name: string; blocked_by: string[] }[];
  silenced: { name: string; silenced_by: string[] }[];
}

/**
 * 24 providers: env prod/staging alternating, team a/b/c by thirds, every
 * fourth unhealthy; `late` registered but never checked (labelled env=prod).
 */
async function fleet(): Promise<{
  registry: ProviderRegistry;
  cache: HealthCache;
  providers: Map<string, SwitchableProvider>;
}> {
  const registry = new ProviderRegistry();
  const providers = new Map<string, SwitchableProvider>();
  for (let i = 0; i < 24; i++) {
    const name = `svc-${String(i).padStart(2, '0')}`;
    const provider = switchable(i % 4 === 0 ? new Error(`down ${i}`) : { healthy: true, message: `ok ${i}` });
    providers.set(name, provider);
    const labels: Record<string, string> = {
      env: i % 2 === 0 ? 'prod' : 'staging',
      team: ['a', 'b', 'c'][Math.floor(i / 8)]!,
    };
    if (i % 5 === 0) labels['example.com/canary'] = '';
    registry.register(name, provider, { labels });
  }
  const cache = new HealthCache(registry, { pollInterval: 60_000, checkTimeout: 2_000 });
  await cache.checkNow();
  registry.register('late', switchable(), { labels: { env: 'prod', team: 'a' } });
  return { registry, cache, providers };
}

describe('?selector= on the read API', () => {
  let server: TestServer;
  let handler: HealthHandler;
  let all: ProviderJSON[];
  let setup: Awaited<ReturnType<typeof fleet>>;
  let view: ReturnType<typeof countingView>;

  before(async () => {
    setup = await fleet();
    view = countingView(setup.cache);
    handler = createHealthHandler(view, { metrics: false, maxUrlLength: 65_536 });
    server = await serve(handler);
    all = (await request(`${server.url}/api/providers`)).json<ProviderJSON[]>();
  });
  after(async () => {
    handler.close();
    await server.close();
    setup.cache.dispose();
  });

  it('filters /api/providers by labels, unchecked providers included', { timeout: 30_000 }, async () => {
    const res = await request(
      `${server.url}/api/providers?selector=${encodeURIComponent('env=prod,team!=c')}`,
    );
    assert.equal(res.status, 200);
    const rows = res.json<ProviderJSON[]>();
    const expected = all.filter((p) => p.labels?.env === 'prod' && p.labels.team !== 'c');
    assert.ok(
      expected.some((p) => p.name === 'late'),
      'the never-checked provider carries its labels',
    );
    assert.deepEqual(rows, expected);
    assert.equal(rows.length, 9);
    // Set-based and existence requirements, with a prefixed key.
    const canaries = await request(
      `${server.url}/api/providers?selector=${encodeURIComponent('example.com/canary,team in (a, b)')}`,
    );
    assert.deepEqual(
      canaries.json<ProviderJSON[]>().map((p) => p.name),
      ['svc-00', 'svc-05', 'svc-10', 'svc-15'],
    );
    const none = await request(`${server.url}/api/providers?selector=env%3Dnowhere`);
    assert.equal(none.text, '[]');
    // An empty selector selects everything: the same bytes as no parameter.
    const empty = await request(`${server.url}/api/providers?selector=`);
    assert.equal(empty.headers.etag, (await request(`${server.url}/api/providers`)).headers.etag);
  });

  it(
    'composes with state, fields, limit and after, carrying the selector into the next link',
    { timeout: 30_000 },
    async () => {
      const selector = encodeURIComponent('env=prod');
      const first = await request(
        `${server.url}/api/providers?selector=${selector}&state=unhealthy,healthy&fields=state,labels&limit=4`,
      );
      assert.equal(first.status, 200);
      const rows = first.json<{ name: string; state: string; labels: Record<string, string> }[]>();
      assert.deepEqual(Object.keys(rows[0]!), ['name', 'state', 'labels']);
      assert.ok(rows.every((row) => row.labels.env === 'prod'));
      const link = String(first.headers.link);
      assert.match(
        link,
        /^<\/api\/providers\?selector=env%3Dprod&state=healthy,unhealthy&fields=name,state,labels&limit=4&after=svc-06>; rel="next"$/,
      );
      // Follow every page: together they are the filtered list.
      const seen: string[] = rows.map((row) => row.name);
      let next: string | undefined = /^<([^>]+)>/.exec(link)?.[1];
      while (next !== undefined) {
        const page = await request(`${server.url}${next}`);
        seen.push(...page.json<{ name: string }[]>().map((row) => row.name));
        next =
          page.headers.link === undefined ? undefined : /^<([^>]+)>/.exec(String(page.headers.link))?.[1];
      }
      const expected = all
        .filter((p) => p.labels?.env === 'prod' && (p.state === 'healthy' || p.state === 'unhealthy'))
        .map((p) => p.name);
      assert.deepEqual(seen, expected);
    },
  );

  it(
    'answers a bad selector with 400 naming the parameter and the position',
    { timeout: 30_000 },
    async () => {
      const cases: [string, number, RegExp][] = [
        ['env=prod,,team=a', 9, /expected a label key/],
        ['env in (a,b', 11, /expected "," or "\)"/],
        ['env=pr od', 7, /expected "," or the end/],
        ['-bad=1', 0, /invalid label key "-bad"/],
        ['env=' + 'x'.repeat(64), 4, /at most 63 characters/],
        ['env notin ()', 11, /expected a value/],
      ];
      for (const [selector, position, message] of cases) {
        for (const path of ['/api/providers', '/api/health', '/api/events']) {
          const res = await request(`${server.url}${path}?selector=${encodeURIComponent(selector)}`, {
            timeout: 10_000,
          });
          assert.equal(res.status, 400, `${path} ${selector}`);
          const body = res.json<{ error: string; parameter: string; position: number }>();
          assert.equal(body.parameter, 'selector');
          assert.equal(body.position, position, `${path} ${selector}: ${body.error}`);
          assert.match(body.error, message);
          assert.ok(body.error.length < 300, 'the message quotes a bounded part of the selector');
        }
      }
      const twice = await request(`${server.url}/api/providers?selector=a&selector=b`);
      assert.equal(twice.status, 400);
      assert.equal(twice.json<{ parameter: string }>().parameter, 'selector');
    },
  );

  it('takes a selector at the length bound and refuses one character more', { timeout: 30_000 }, async () => {
    // `env in (v0000,v0001,…)` padded with spaces to exactly MAX_SELECTOR_LENGTH characters.
    const values = Array.from({ length: 200 }, (_, i) => `v${String(i).padStart(4, '0')}`);
    const head = `env in (prod,${values.join(',')})`;
    const atBound = head.padEnd(MAX_SELECTOR_LENGTH, ' ');
    assert.equal(atBound.length, MAX_SELECTOR_LENGTH);
    const ok = await request(
      `${server.url}/api/providers?fields=name&selector=${encodeURIComponent(atBound)}`,
    );
    assert.equal(ok.status, 200, ok.text.slice(0, 200));
    assert.equal(ok.json<unknown[]>().length, 13);
    const over = await request(`${server.url}/api/providers?selector=${encodeURIComponent(`${atBound} `)}`);
    assert.equal(over.status, 400);
    assert.deepEqual(
      { ...over.json<{ parameter: string; position: number }>(), error: undefined },
      { parameter: 'selector', position: MAX_SELECTOR_LENGTH, error: undefined },
    );
    // Too many requirements: the 65th is refused where it starts.
    const many = Array.from({ length: MAX_SELECTOR_REQUIREMENTS + 1 }, (_, i) => `k${i}`);
    const tooMany = await request(`${server.url}/api/health?selector=${many.join(',')}`);
    assert.equal(tooMany.status, 400);
    const body = tooMany.json<{ error: string; position: number }>();
    assert.match(body.error, /more than 64 requirements/);
    assert.equal(body.position, many.slice(0, MAX_SELECTOR_REQUIREMENTS).join(',').length + 1);
    // The default maxUrlLength (4,096) refuses the long target before the selector is parsed.
    const plain = createHealthHandler(view, { metrics: false, page: false });
    const small = await serve(plain);
    try {
      const res = await request(`${small.url}/api/providers?selector=${encodeURIComponent(atBound)}`);
      assert.equal(res.status, 414);
    } finally {
      plain.close();
      await small.close();
    }
  });

  it(
    'serialises each selector once per version, keeping at most MAX_VARIANTS',
    { timeout: 60_000 },
    async () => {
      const url = `${server.url}/api/providers`;
      await request(`${url}?selector=${encodeURIComponent('team=b')}`);
      const gets = view.gets;
      // The same selector written differently shares the cached variant.
      const again = await request(`${url}?selector=${encodeURIComponent('team==b')}`);
      const spaced = await request(`${url}?selector=${encodeURIComponent(' team = b ')}`);
      assert.equal(view.gets, gets, 'no provider read again');
      assert.equal(again.headers.etag, spaced.headers.etag);
      // A flood of distinct selectors: answers stay right, the cache stays bounded.
      for (let i = 0; i < MAX_VARIANTS * 2; i++) {
        const res = await request(`${url}?selector=${encodeURIComponent(`team=b,env!=x${i}`)}`);
        assert.equal(res.json<unknown[]>().length, 8);
      }
      // The first selector was pushed out: serialising it again reads no provider (rows are shared).
      await request(`${url}?selector=${encodeURIComponent('team=b')}`);
      assert.equal(view.gets, gets, 'rows are kept per version; only the variant is rebuilt');
    },
  );
});

/** A view over `cache` whose statuses carry the blockedBy / silencedBy the test sets. */
function quietView(cache: HealthCache): HealthView & {
  blocked: Map<string, string[]>;
  silenced: Map<string, string[]>;
} {
  const blocked = new Map<string, string[]>();
  const silenced = new Map<string, string[]>();
  const get = (name: string): Status | undefined => {
    const status = cache.get(name);
    if (status === undefined) return undefined;
    return { ...status, blockedBy: blocked.get(name) ?? [], silencedBy: silenced.get(name) ?? [] };
  };
  return Object.assign(Object.create(countingView(cache)) as HealthView, { get, blocked, silenced });
}

describe('/api/health with a selector, blocked and silenced providers', () => {
  let server: TestServer;
  let handler: HealthHandler;
  let setup: Awaited<ReturnType<typeof fleet>>;
  let view: ReturnType<typeof quietView>;

  before(async () => {
    setup = await fleet();
    view = quietView(setup.cache);
    // svc-04 (prod, team a, down) is blocked by svc-00; svc-08 and svc-12 (prod, team b, down) are silenced.
    view.blocked.set('svc-04', ['svc-00']);
    view.silenced.set('svc-08', ['9b1c7f2e-0000-4000-8000-000000000001']);
    view.silenced.set('svc-12', ['9b1c7f2e-0000-4000-8000-000000000001']);
    view.silenced.set('svc-09', ['patch-tuesday']);
    handler = createHealthHandler(view, { metrics: false, publishInterval: 0 });
    server = await serve(handler);
  });
  after(async () => {
    handler.close();
    await server.close();
    setup.cache.dispose();
  });

  it("answers for a team's slice only", { timeout: 30_000 }, async () => {
    // Team c (svc-16 … svc-23): svc-16 and svc-20 are down.
    const c = await request(`${server.url}/api/health?selector=team%3Dc`);
    assert.equal(c.status, 503);
    const body = c.json<HealthBody>();
    assert.equal(body.providers, 8);
    assert.deepEqual(
      body.not_healthy.map((p) => p.name),
      ['svc-16', 'svc-20'],
    );
    // Staging is all healthy (odd numbers): 200, whatever the rest of the fleet does.
    const staging = await request(`${server.url}/api/health?selector=env%3Dstaging`);
    assert.equal(staging.status, 200);
    assert.equal(staging.json<HealthBody>().providers, 12);
    // Composes with provider=: both must hold.
    const both = await request(
      `${server.url}/api/health?selector=env%3Dstaging&provider=svc-00&provider=svc-01`,
    );
    assert.equal(both.status, 200);
    assert.equal(both.json<HealthBody>().providers, 1);
  });

  it(
    'lists blocked and silenced providers apart; they count only when asked',
    { timeout: 30_000 },
    async () => {
      // Team a: svc-00 (down, not excused), svc-04 (down, blocked), late (unknown, never checked).
      const a = await request(`${server.url}/api/health?selector=team%3Da,env%3Dprod`);
      const body = a.json<HealthBody>();
      assert.deepEqual(
        body.not_healthy.map((p) => p.name),
        ['late', 'svc-00'],
      );
      assert.deepEqual(body.blocked, [
        { name: 'svc-04', state: 'unhealthy', message: 'down 4', blocked_by: ['svc-00'] },
      ]);
      assert.deepEqual(body.silenced, []);
      const counted = await request(
        `${server.url}/api/health?selector=team%3Da,env%3Dprod&include_blocked=true`,
      );
      assert.deepEqual(
        counted.json<HealthBody>().not_healthy.map((p) => p.name),
        ['late', 'svc-00', 'svc-04'],
      );

      // Team b, prod: svc-08 and svc-12 are down but silenced, the rest healthy: 200.
      const b = await request(`${server.url}/api/health?selector=team%3Db,env%3Dprod`);
      assert.equal(b.status, 200, b.text);
      const bBody = b.json<HealthBody>();
      assert.deepEqual(bBody.not_healthy, []);
      assert.deepEqual(
        bBody.silenced.map((p) => [p.name, p.silenced_by]),
        [
          ['svc-08', ['9b1c7f2e-0000-4000-8000-000000000001']],
          ['svc-12', ['9b1c7f2e-0000-4000-8000-000000000001']],
        ],
      );
      const bCounted = await request(
        `${server.url}/api/health?selector=team%3Db,env%3Dprod&include_silenced=1`,
      );
      assert.equal(bCounted.status, 503);
      // A silenced healthy provider is listed as silenced, and is healthy either way.
      const nine = await request(`${server.url}/api/health?provider=svc-09&include_silenced=true`);
      assert.equal(nine.status, 200);
      assert.deepEqual(
        nine.json<HealthBody>().silenced.map((p) => p.name),
        ['svc-09'],
      );

      for (const bad of ['include_blocked=yes', 'include_silenced=', 'include_blocked=1&include_blocked=0']) {
        const res = await request(`${server.url}/api/health?${bad}`);
        assert.equal(res.status, 400, bad);
        assert.match(res.json<{ parameter: string }>().parameter, /^include_(blocked|silenced)$/);
      }
    },
  );
});

describe('/api/events?selector=', () => {
  let server: TestServer;
  let handler: HealthHandler;
  let setup: Awaited<ReturnType<typeof fleet>>;

  before(async () => {
    setup = await fleet();
    handler = createHealthHandler(setup.cache, { metrics: false, publishInterval: 0 });
    server = await serve(handler);
  });
  after(async () => {
    handler.close();
    await server.close();
    setup.cache.dispose();
  });

  it('sends the selected snapshot and changes, per change and in batches', { timeout: 60_000 }, async () => {
    const each = await openEvents(`${server.url}/api/events?selector=team%3Db`);
    const batched = await openEvents(
      `${server.url}/api/events?batch=1&fields=state,labels&selector=team%3Db`,
    );
    const everything = await openEvents(`${server.url}/api/events?batch=1`);
    try {
      for (const stream of [each, batched]) {
        const snapshot = await stream.next((e) => e.event === 'snapshot');
        const names = (JSON.parse(snapshot.data) as { name: string }[]).map((p) => p.name);
        assert.deepEqual(names, [
          'svc-08',
          'svc-09',
          'svc-10',
          'svc-11',
          'svc-12',
          'svc-13',
          'svc-14',
          'svc-15',
        ]);
      }
      await everything.next((e) => e.event === 'snapshot');
      // svc-01 (team a) and svc-09 (team b) fail.
      setup.providers.get('svc-01')!.report = new Error('gone');
      setup.providers.get('svc-09')!.report = new Error('gone');
      await setup.cache.checkProvider('svc-01');
      await setup.cache.checkProvider('svc-09');
      await everything.next((e) => e.event === 'changes' && e.data.includes('svc-01'));
      const change = await each.next((e) => e.event === 'change' && e.data.includes('"svc-09"'));
      assert.equal((JSON.parse(change.data) as { state: string }).state, 'unhealthy');
      const batch = await batched.next((e) => e.event === 'changes');
      const body = JSON.parse(batch.data) as { changed: { name: string }[]; removed: string[] };
      assert.deepEqual(
        body.changed.map((p) => p.name),
        ['svc-09'],
      );
      assert.deepEqual(Object.keys(body.changed[0]!), ['name', 'state', 'labels']);
      assert.ok(!each.events.some((e) => e.data.includes('"svc-01"')), 'no event about team a');
      assert.ok(!batched.events.some((e) => e.data.includes('"svc-01"')), 'no batch about team a');

      // svc-10 moves to team c: both selected streams are told it is gone.
      setup.registry.register('svc-10', setup.providers.get('svc-10')!, {
        labels: { env: 'prod', team: 'c' },
      });
      const removed = await each.next((e) => e.event === 'remove' && e.data.includes('svc-10'));
      assert.deepEqual(JSON.parse(removed.data), { name: 'svc-10' });
      await batched.next(
        (e) =>
          e.event === 'changes' && (JSON.parse(e.data) as { removed: string[] }).removed.includes('svc-10'),
      );
      // And back into team b: it comes back as a change.
      setup.registry.register('svc-10', setup.providers.get('svc-10')!, {
        labels: { env: 'prod', team: 'b' },
      });
      await each.next((e) => e.event === 'change' && e.data.includes('"svc-10"'));
    } finally {
      each.close();
      batched.close();
      everything.close();
    }
    await waitUntil(() => handler.connections === 0, 10_000, 'streams released');
  });

  it('bounds the distinct selector groups of open streams', { timeout: 60_000 }, async () => {
    const streams = [];
    try {
      for (let i = 0; i < 64; i++) streams.push(await openEvents(`${server.url}/api/events?selector=k${i}`));
      const refused = await request(`${server.url}/api/events?selector=k64`, { timeout: 10_000 });
      assert.equal(refused.status, 503);
      assert.match(refused.json<{ error: string }>().error, /64 different selector/);
      const shared = await openEvents(`${server.url}/api/events?selector=k0`);
      streams.push(shared);
      assert.equal(shared.status, 200, 'a stream joining an open group is served');
    } finally {
      for (const stream of streams) stream.close();
    }
    await waitUntil(() => handler.connections === 0, 10_000, 'streams released');
  });
});
