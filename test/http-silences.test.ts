/**
 * /api/silences over real sockets: list (silences and open maintenance
 * windows), create (validated, errors naming the field; 409 conflict, 429
 * limit and write rate), expire (204 / 404), the refresh authorisation, and
 * hostile bodies (oversized, chunked, deeply nested, malformed, not UTF-8).
 */
import assert from 'node:assert/strict';
import http, { type RequestListener } from 'node:http';
import { describe, it } from 'node:test';
import { createHealthHandler, type HealthHandlerOptions } from '../src/http/index.js';
import { MAX_SILENCE_BODY, SILENCE_WRITE_BURST } from '../src/http/silences-route.js';
import {
  createSilenceSource,
  localSilenceControl,
  MaintenanceSchedule,
  parseMaintenanceWindow,
  SilenceSet,
  type SilenceControl,
  type SilenceJSON,
} from '../src/quiet/index.js';
import { ManualClock } from '../src/testing/index.js';
import { HealthCache, ProviderRegistry } from '../src/index.js';
import { demoCache, request, serve, switchable, type TestResponse } from './support/http.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

const TOKEN = 'silence-Token_value.77';
const JSON_HEADERS = { 'Content-Type': 'application/json' };

/** A handler with silences; `remote` makes requests look as if they came from 203.0.113.7. */
async function start(
  options: HealthHandlerOptions & { maxSilences?: number; control?: SilenceControl } = {},
  remote = false,
) {
  const setup = await demoCache({ a: switchable(), b: switchable() });
  const clock = new ManualClock(Date.parse('2026-03-01T10:00:00Z'));
  const set = new SilenceSet({ clock, maxSilences: options.maxSilences });
  // Open from 10:00 on Sundays… 2026-03-01 is a Sunday: the window is open now.
  const window = parseMaintenanceWindow({
    name: 'sunday-patching',
    cron: '0 10 * * 0',
    duration: 2 * 3_600_000,
    timeZone: 'UTC',
    selector: 'env=prod',
    comment: 'OS patching',
  });
  const schedule = new MaintenanceSchedule([window], { clock });
  const { maxSilences: _unused, control, ...handlerOptions } = options;
  const handler = createHealthHandler(setup.cache, {
    metrics: false,
    clock,
    silences: control ?? localSilenceControl(set, schedule),
    ...handlerOptions,
  });
  const listener: RequestListener = (req, res) => {
    if (remote)
      Object.defineProperty(req.socket, 'remoteAddress', { value: '203.0.113.7', configurable: true });
    handler(req, res);
  };
  const server = await serve(listener);
  const send = (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = JSON_HEADERS,
  ) =>
    request(server.url + path, {
      method,
      headers,
      ...(body === undefined ? {} : { body: encodeBody(body) }),
    });
  return {
    ...setup,
    clock,
    set,
    handler,
    server,
    send,
    post: (body: unknown, headers?: Record<string, string>) => send('POST', '/api/silences', body, headers),
    async [Symbol.asyncDispose]() {
      handler.close();
      await server.close();
      set.dispose();
      schedule.dispose();
      setup.cache.dispose();
    },
  };
}

/** A body as sent: strings and buffers as they are, anything else as JSON. */
function encodeBody(body: unknown): string | Buffer {
  return typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
}

const VALID = { matchers: 'env=prod,team=db', duration: 3_600_000, comment: 'DB upgrade', createdBy: 'ops' };

function field(res: TestResponse): string {
  return res.json<{ field: string }>().field;
}

describe('GET and POST /api/silences', () => {
  it('lists silences and open windows, creates one and lists it', { timeout: 30_000 }, async () => {
    await using t = await start();
    const empty = await t.send('GET', '/api/silences');
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.json(), {
      silences: [],
      windows: [
        {
          name: 'sunday-patching',
          selector: 'env=prod',
          comment: 'OS patching',
          startsAt: '2026-03-01T10:00:00.000Z',
          endsAt: '2026-03-01T12:00:00.000Z',
        },
      ],
    });
    const created = await t.post(VALID);
    assert.equal(created.status, 201, created.text);
    const { silence } = created.json<{ silence: SilenceJSON }>();
    assert.match(silence.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      { ...silence, id: '' },
      {
        id: '',
        matchers: 'env=prod,team=db',
        startsAt: '2026-03-01T10:00:00.000Z',
        endsAt: '2026-03-01T11:00:00.000Z',
        comment: 'DB upgrade',
        createdBy: 'ops',
        endsOnRecovery: false,
      },
    );
    assert.equal(created.headers.location, `/api/silences/${silence.id}`);
    assert.equal(created.headers['cache-control'], 'no-store');
    const listed = await t.send('GET', '/api/silences');
    assert.deepEqual(listed.json<{ silences: SilenceJSON[] }>().silences, [silence]);
    assert.equal((await t.send('HEAD', '/api/silences')).status, 200);
    // Names work as matchers too, sorted and deduplicated.
    const names = await t.post({ ...VALID, matchers: ['b', 'a', 'b'] });
    assert.deepEqual(names.json<{ silence: SilenceJSON }>().silence.matchers, ['a', 'b']);
  });

  it('refuses bad input with 400 naming the field, changing nothing', { timeout: 30_000 }, async () => {
    await using t = await start();
    const cases: [unknown, string, RegExp][] = [
      [{ ...VALID, comment: undefined }, 'comment', /comment/],
      [{ ...VALID, comment: '   ' }, 'comment', /non-empty/],
      [{ ...VALID, comment: 'x'.repeat(1025) }, 'comment', /at most 1024 characters/],
      [{ ...VALID, endAt: '2026-03-01T12:00:00Z' }, 'endAt', /unknown field "endAt"/],
      [{ ...VALID, duration: undefined }, 'endsAt', /exactly one/],
      [{ ...VALID, duration: -5 }, 'duration', /greater than 0/],
      [{ ...VALID, duration: 31 * 24 * 3_600_000 }, 'duration', /at most 30 days/],
      [{ ...VALID, duration: undefined, endsAt: '2026-03-01T09:00:00Z' }, 'endsAt', /in the future/],
      [{ ...VALID, duration: undefined, endsAt: '2026-03-01T12:00:00' }, 'endsAt', /RFC 3339/],
      [
        { ...VALID, startsAt: '2026-03-02T00:00:00Z', duration: undefined, endsAt: '2026-03-01T12:00:00Z' },
        'endsAt',
        /after startsAt/,
      ],
      [{ ...VALID, matchers: 'env=prod,,x' }, 'matchers', /position 9/],
      [{ ...VALID, matchers: '' }, 'matchers', /at least one requirement/],
      [{ ...VALID, matchers: ['a', 'b', 7] }, 'matchers[2]', /provider name/],
      [{ ...VALID, matchers: [] }, 'matchers', /1 to 1000/],
      [{ ...VALID, endsOnRecovery: 'yes' }, 'endsOnRecovery', /boolean/],
      [[VALID], 'body', /an object/],
      ['"a string"', 'body', /an object/],
      ['null', 'body', /an object/],
      ['{"matchers": "env=prod",', 'body', /not valid JSON/],
      ['', 'body', /empty/],
      [Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'body', /UTF-8/],
      [`{"${'k'.repeat(5_000)}": 1}`, 'k'.repeat(100), /unknown field/],
    ];
    for (const [body, name, message] of cases) {
      // Past the write rate limit (each attempt counts): one token a second.
      await t.clock.advance(1_000);
      const res = await t.post(body);
      assert.equal(res.status, 400, `${name}: ${res.text.slice(0, 200)}`);
      assert.equal(field(res), name);
      assert.match(res.json<{ error: string }>().error, message);
      assert.ok(res.text.length < 1_000, 'the answer quotes a bounded part of the input');
    }
    assert.deepEqual(t.set.list(), [], 'nothing was added');
  });

  it('survives hostile bodies: oversized, chunked, deeply nested', { timeout: 60_000 }, async () => {
    await using t = await start();
    // Declared too large: refused before reading.
    const declared = await t.post(JSON.stringify({ ...VALID, comment: 'x'.repeat(MAX_SILENCE_BODY) }));
    assert.equal(declared.status, 413);
    // Chunked (no Content-Length), 1 MiB: reading stops at the bound.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${t.server.url}/api/silences`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
        agent: false,
      });
      req.once('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.once('error', reject);
      const chunk = Buffer.alloc(64 * 1024, 'a');
      for (let i = 0; i < 16; i++) req.write(chunk);
      req.end();
    });
    assert.equal(chunked, 413);
    // Exactly at the bound is read (and refused for what it says, not for its size).
    const padded = JSON.stringify({ ...VALID, comment: 'x' });
    const atBound = padded.padEnd(MAX_SILENCE_BODY, ' ');
    assert.equal(Buffer.byteLength(atBound), MAX_SILENCE_BODY);
    assert.equal((await t.post(atBound)).status, 201);
    // 16 KiB of nesting: malformed and well-formed, neither throws past the handler.
    const open = '['.repeat(MAX_SILENCE_BODY - 10);
    assert.equal(field(await t.post(open)), 'body');
    const depth = (MAX_SILENCE_BODY - 100) >> 1;
    const nested = `{"matchers":${'['.repeat(depth)}${']'.repeat(depth)},"comment":"c","createdBy":"o","duration":1}`;
    const deep = await t.post(nested);
    assert.equal(deep.status, 400);
    assert.equal(field(deep), 'matchers[0]');
    // __proto__ as a key is an unknown field, not a prototype.
    const proto = await t.post(
      `{"__proto__":{"endsOnRecovery":true},"matchers":"a=b","comment":"c","createdBy":"o","duration":1}`,
    );
    assert.equal(field(proto), '__proto__');
    // Not JSON at all.
    const form = await t.post('matchers=a', { 'Content-Type': 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 415);
    assert.equal((await t.post(VALID, {})).status, 415, 'no Content-Type');
    assert.equal(t.set.list().length, 1);
    // The handler still serves.
    assert.equal((await t.send('GET', '/api/providers')).status, 200);
  });

  it("answers 409 for an overlapping silence and 429 at the set's limit", { timeout: 30_000 }, async () => {
    await using t = await start({ maxSilences: 3 });
    const first = (await t.post(VALID)).json<{ silence: SilenceJSON }>().silence;
    // The same matchers in another spelling, overlapping in time.
    const conflict = await t.post({ ...VALID, matchers: 'team=db, env==prod', duration: 60_000 });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.json<{ existing: string }>().existing, first.id);
    assert.equal((await t.post({ ...VALID, matchers: 'env=a' })).status, 201);
    assert.equal((await t.post({ ...VALID, matchers: 'env=b' })).status, 201);
    const full = await t.post({ ...VALID, matchers: 'env=c' });
    assert.equal(full.status, 429);
    assert.deepEqual({ ...full.json<object>(), error: undefined }, { error: undefined, limit: 3 });
    assert.equal(t.set.list().length, 3);
  });

  it('rate-limits a flood of writes, then lets them through again', { timeout: 60_000 }, async () => {
    await using t = await start({ maxSilences: 10_000 });
    const statuses: number[] = [];
    for (let i = 0; i < SILENCE_WRITE_BURST + 5; i++) {
      statuses.push((await t.post({ ...VALID, matchers: `flood=n${i}` })).status);
    }
    assert.deepEqual(statuses, [
      ...Array<number>(SILENCE_WRITE_BURST).fill(201),
      ...Array<number>(5).fill(429),
    ]);
    const limited = await t.post({ ...VALID, matchers: 'flood=late' });
    assert.equal(limited.headers['retry-after'], '1');
    assert.equal(t.set.list().length, SILENCE_WRITE_BURST);
    await t.clock.advance(1_000);
    assert.equal((await t.post({ ...VALID, matchers: 'flood=late' })).status, 201);
    assert.equal((await t.post({ ...VALID, matchers: 'flood=later' })).status, 429);
  });
});

describe('DELETE /api/silences/{id}', () => {
  it('expires a silence (204), then 404; unknown ids 404', { timeout: 30_000 }, async () => {
    await using t = await start();
    const { silence } = (await t.post(VALID)).json<{ silence: SilenceJSON }>();
    const gone = await t.send('DELETE', `/api/silences/${silence.id}`, undefined, {});
    assert.equal(gone.status, 204);
    assert.equal(gone.text, '');
    assert.deepEqual(t.set.list(), []);
    const again = await t.send('DELETE', `/api/silences/${silence.id}`, undefined, {});
    assert.equal(again.status, 404);
    assert.equal(again.json<{ id: string }>().id, silence.id);
    const odd = await t.send(
      'DELETE',
      `/api/silences/${encodeURIComponent('x'.repeat(2_000))}`,
      undefined,
      {},
    );
    assert.equal(odd.status, 404);
    assert.ok(odd.text.length < 500);
    assert.equal((await t.send('GET', `/api/silences/${silence.id}`)).status, 405);
  });
});

describe('who may change silences', () => {
  it('needs the bearer token when one is set; reads stay open', { timeout: 30_000 }, async () => {
    await using t = await start({ token: TOKEN }, true);
    const responses: TestResponse[] = [];
    const none = await t.post(VALID);
    responses.push(none);
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="provider-health"');
    assert.match(
      none.json<{ error: string }>().error,
      /Creating silences requires an Authorization: Bearer token/,
    );
    const wrong = await t.post(VALID, { ...JSON_HEADERS, Authorization: `Bearer ${TOKEN}x` });
    responses.push(wrong);
    assert.equal(wrong.status, 401);
    const ok = await t.post(VALID, { ...JSON_HEADERS, Authorization: `Bearer ${TOKEN}` });
    responses.push(ok);
    assert.equal(ok.status, 201);
    const id = ok.json<{ silence: SilenceJSON }>().silence.id;
    const noDelete = await t.send('DELETE', `/api/silences/${id}`, undefined, {});
    responses.push(noDelete);
    assert.equal(noDelete.status, 401);
    const read = await t.send('GET', '/api/silences');
    responses.push(read);
    assert.equal(read.status, 200);
    const deleted = await t.send('DELETE', `/api/silences/${id}`, undefined, {
      Authorization: `Bearer ${TOKEN}`,
    });
    assert.equal(deleted.status, 204);
    for (const res of responses) {
      assert.ok(!res.text.includes(TOKEN), 'token not in a body');
      assert.ok(!JSON.stringify(res.headers).includes(TOKEN), 'token not in a header');
    }
  });

  it(
    'allows loopback clients only without a token, and refuses cross-origin writes',
    { timeout: 30_000 },
    async () => {
      {
        await using remote = await start({}, true);
        const res = await remote.post(VALID);
        assert.equal(res.status, 403);
        assert.match(res.json<{ error: string }>().error, /only allowed from loopback clients/);
        assert.equal((await remote.send('DELETE', '/api/silences/x', undefined, {})).status, 403);
      }
      await using t = await start();
      const cross = await t.post(VALID, {
        ...JSON_HEADERS,
        Origin: 'http://evil.example',
        'Sec-Fetch-Site': 'cross-site',
      });
      assert.equal(cross.status, 403);
      const crossDelete = await t.send('DELETE', '/api/silences/x', undefined, {
        'Sec-Fetch-Site': 'cross-site',
      });
      assert.equal(crossDelete.status, 403);
      assert.deepEqual(t.set.list(), []);
    },
  );
});

describe('without silences, and when the control fails', () => {
  it('answers 404 when not configured', { timeout: 30_000 }, async () => {
    const setup = await demoCache({ a: switchable() });
    const handler = createHealthHandler(setup.cache, { metrics: false });
    const server = await serve(handler);
    try {
      assert.equal((await request(`${server.url}/api/silences`)).status, 404);
      assert.equal((await request(`${server.url}/api/silences/x`, { method: 'DELETE' })).status, 404);
    } finally {
      handler.close();
      await server.close();
      setup.cache.dispose();
    }
    assert.throws(
      () => createHealthHandler(setup.cache, { silences: {} as SilenceControl }),
      /silences.*SilenceControl/,
    );
  });

  it("answers 503 without the store's message when the control throws", { timeout: 30_000 }, async () => {
    const secret = 'redis://:hunter2@10.0.0.5:6379';
    const failing: SilenceControl = {
      list: () => [],
      openWindows: () => [],
      add: () => Promise.reject(new Error(`connection to ${secret} refused`)),
      expire: () => Promise.reject(new Error(`connection to ${secret} refused`)),
    };
    await using t = await start({ control: failing });
    const add = await t.post(VALID);
    assert.equal(add.status, 503);
    assert.ok(!add.text.includes('hunter2') && !add.text.includes('10.0.0.5'), add.text);
    const expire = await t.send('DELETE', '/api/silences/x', undefined, {});
    assert.equal(expire.status, 503);
    assert.ok(!expire.text.includes('hunter2'));
  });
});

describe('silences seen through a HealthCache', () => {
  it(
    'a silence created over HTTP makes /api/health healthy; expiring it undoes that',
    { timeout: 60_000 },
    async () => {
      const clock = new ManualClock(Date.parse('2026-03-01T10:00:00Z'));
      const set = new SilenceSet({ clock });
      const source = createSilenceSource({ silences: set, clock });
      const registry = new ProviderRegistry();
      registry.register('cluster', switchable(new Error('api server down')), { labels: { env: 'prod' } });
      registry.register('api', switchable(new Error('no backend')), {
        labels: { env: 'prod' },
        dependsOn: ['cluster'],
      });
      registry.register('web', switchable(), { labels: { env: 'prod' } });
      const cache = new HealthCache(registry, {
        pollInterval: 60_000,
        checkTimeout: 2_000,
        clock,
        silences: source,
      });
      await cache.checkNow();
      const handler = createHealthHandler(cache, {
        metrics: false,
        clock,
        silences: localSilenceControl(set),
      });
      const server = await serve(handler);
      const health = async () => {
        const res = await request(`${server.url}/api/health`);
        return {
          status: res.status,
          body: res.json<{
            not_healthy: { name: string }[];
            blocked: { name: string; blocked_by: string[] }[];
            silenced: { name: string; silenced_by: string[] }[];
          }>(),
        };
      };
      try {
        const before = await health();
        assert.equal(before.status, 503);
        assert.deepEqual(
          before.body.not_healthy.map((p) => p.name),
          ['cluster'],
          'api is blocked, not counted',
        );
        assert.deepEqual(before.body.blocked, [
          { name: 'api', state: 'unhealthy', message: 'no backend', blocked_by: ['cluster'] },
        ]);

        const created = await request(`${server.url}/api/silences`, {
          method: 'POST',
          headers: JSON_HEADERS,
          body: JSON.stringify({
            matchers: ['cluster'],
            duration: 3_600_000,
            comment: 'upgrade',
            createdBy: 'ops',
          }),
        });
        assert.equal(created.status, 201);
        const id = created.json<{ silence: SilenceJSON }>().silence.id;
        // The cache re-annotates on the source's onChange; bodies are republished at once after a quiet interval.
        await clock.advance(1_000);
        const during = await health();
        assert.equal(during.status, 200, JSON.stringify(during.body));
        assert.deepEqual(
          during.body.silenced.map((p) => [p.name, p.silenced_by]),
          [['cluster', [id]]],
        );
        const rows = await request(
          `${server.url}/api/providers?fields=silenced,silenced_by&selector=env%3Dprod`,
        );
        assert.deepEqual(rows.json(), [
          { name: 'api' },
          { name: 'cluster', silenced: true, silenced_by: [id] },
          { name: 'web' },
        ]);

        assert.equal((await request(`${server.url}/api/silences/${id}`, { method: 'DELETE' })).status, 204);
        await clock.advance(1_000);
        assert.equal((await health()).status, 503);
      } finally {
        handler.close();
        await server.close();
        cache.dispose();
        source.dispose();
        set.dispose();
      }
    },
  );
});
