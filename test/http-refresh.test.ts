import assert from 'node:assert/strict';
import http, { type RequestListener } from 'node:http';
import { describe, it } from 'node:test';
import { createHealthHandler, type HealthHandlerOptions, type ProviderJSON } from '../src/http/index.js';
import { isLoopback } from '../src/http/refresh-auth.js';
import { ManualClock } from '../src/testing/index.js';
import { controlledChecker } from './support/checkers.js';
import { demoCache, request, serve, switchable, waitUntil, type TestResponse } from './support/http.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

const TOKEN = 's3cr3t-Token_value.42';

/**
 * Starts a handler; `remote` makes requests look as if they came from a
 * non-loopback address (no other address is reachable here, so the socket's
 * reported peer is replaced before the handler sees it).
 */
async function start(options: HealthHandlerOptions = {}, remote = false) {
  const a = switchable();
  const b = switchable();
  const setup = await demoCache({ a, b });
  const clock = new ManualClock();
  const handler = createHealthHandler(setup.cache, { metrics: false, clock, ...options });
  const listener: RequestListener = (req, res) => {
    if (remote)
      Object.defineProperty(req.socket, 'remoteAddress', { value: '203.0.113.7', configurable: true });
    handler(req, res);
  };
  const server = await serve(listener);
  return {
    ...setup,
    a,
    b,
    clock,
    handler,
    server,
    post: (path: string, headers: Record<string, string> = {}) =>
      request(server.url + path, { method: 'POST', headers }),
    async [Symbol.asyncDispose]() {
      handler.close();
      await server.close();
    },
  };
}

function assertNoToken(responses: TestResponse[]): void {
  for (const res of responses) {
    assert.ok(!res.text.includes(TOKEN), 'token not in a body');
    assert.ok(!JSON.stringify(res.headers).includes(TOKEN), 'token not in a header');
  }
}

describe('POST /api/refresh', () => {
  it('runs a sweep for a loopback client and returns the new statuses', { timeout: 30_000 }, async () => {
    await using t = await start();
    t.a.report = { healthy: false, message: 'went down' };
    const res = await t.post('/api/refresh');
    assert.equal(res.status, 200);
    assert.equal(res.headers['cache-control'], 'no-store');
    const list = res.json<ProviderJSON[]>();
    assert.deepEqual(
      list.map((p) => [p.name, p.state]),
      [
        ['a', 'unhealthy'],
        ['b', 'healthy'],
      ],
    );
    assert.equal(t.a.calls, 2);
  });

  it('refuses non-loopback clients without a token (403)', { timeout: 30_000 }, async () => {
    await using t = await start({}, true);
    const res = await t.post('/api/refresh');
    assert.equal(res.status, 403);
    assert.match(res.json<{ error: string }>().error, /loopback/);
    assert.equal((await t.post('/api/providers/a/refresh')).status, 403);
    assert.equal(t.a.calls, 1, 'nothing was checked');
  });

  it('requires the bearer token when one is configured, from any client', { timeout: 30_000 }, async () => {
    await using t = await start({ token: TOKEN }, true);
    const responses = [
      await t.post('/api/refresh'),
      await t.post('/api/refresh', { Authorization: 'Bearer wrong' }),
      await t.post('/api/refresh', { Authorization: `Bearer ${TOKEN}x` }),
      await t.post('/api/refresh', { Authorization: `Basic ${TOKEN}` }),
      await t.post('/api/refresh', { Authorization: TOKEN }),
    ];
    for (const res of responses) {
      assert.equal(res.status, 401);
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="provider-health"');
    }
    assert.equal(t.a.calls, 1, 'nothing was checked');
    const ok = await t.post('/api/refresh', { Authorization: `bearer ${TOKEN}` });
    assert.equal(ok.status, 200);
    assert.equal(t.a.calls, 2);
    assertNoToken([...responses, ok]);
  });

  it(
    'allows one forced sweep per minRefreshInterval; beyond it 429 with Retry-After',
    { timeout: 30_000 },
    async () => {
      await using t = await start({ minRefreshInterval: 5_000 });
      assert.equal((await t.post('/api/refresh')).status, 200);
      const limited = await t.post('/api/refresh');
      assert.equal(limited.status, 429);
      assert.equal(limited.headers['retry-after'], '5');
      assert.equal(limited.json<{ retry_after: number }>().retry_after, 5);
      await t.clock.advance(3_500);
      assert.equal((await t.post('/api/refresh')).headers['retry-after'], '2');
      // A forced sweep checked every provider: single refreshes wait too.
      assert.equal((await t.post('/api/providers/a/refresh')).status, 429);
      await t.clock.advance(1_500);
      assert.equal((await t.post('/api/refresh')).status, 200);
      assert.equal(t.a.calls, 3, 'initial check plus two forced sweeps');
    },
  );

  it('limits each provider separately', { timeout: 30_000 }, async () => {
    await using t = await start({ minRefreshInterval: 1_000 });
    const a = await t.post('/api/providers/a/refresh');
    assert.equal(a.status, 200);
    assert.equal(a.json<ProviderJSON>().name, 'a');
    assert.equal((await t.post('/api/providers/a/refresh')).status, 429);
    assert.equal((await t.post('/api/providers/b/refresh')).status, 200);
    assert.equal(t.a.calls, 2);
    assert.equal(t.b.calls, 2);
  });

  it('coalesces concurrent refreshes into one sweep', { timeout: 30_000 }, async () => {
    const checker = controlledChecker();
    const { registry, cache } = await demoCache({}, {}, false);
    registry.register('slow', checker);
    const handler = createHealthHandler(cache, { metrics: false });
    // Counts requests whose (empty) body has been read: from then on they join the sweep.
    let arrived = 0;
    const server = await serve((req, res) => {
      req.once('end', () => arrived++);
      handler(req, res);
    });
    try {
      const requests = Array.from({ length: 5 }, () =>
        request(`${server.url}/api/refresh`, { method: 'POST' }),
      );
      await waitUntil(() => checker.calls.length === 1, 10_000, 'the sweep to start');
      // On a loaded machine the five connections arrive over tens of milliseconds.
      await waitUntil(() => arrived === 5, 10_000, 'all five requests to reach the handler');
      checker.calls[0]!.resolve({ healthy: true, message: 'done' });
      const responses = await Promise.all(requests);
      assert.deepEqual(
        responses.map((r) => r.status),
        [200, 200, 200, 200, 200],
      );
      assert.equal(checker.calls.length, 1, 'one call for five requests');
      assert.equal(responses[4]!.json<ProviderJSON[]>()[0]!.message, 'done');
    } finally {
      handler.close();
      await server.close();
    }
  });

  it(
    'answers 202 with the statuses so far when the sweep outlasts refreshTimeout',
    { timeout: 30_000 },
    async () => {
      const checker = controlledChecker();
      const { registry, cache } = await demoCache({}, { checkTimeout: 20_000, pollInterval: 60_000 }, false);
      registry.register('hung', checker);
      const handler = createHealthHandler(cache, { metrics: false, refreshTimeout: 200 });
      const server = await serve(handler);
      try {
        const res = await request(`${server.url}/api/refresh`, { method: 'POST' });
        assert.equal(res.status, 202);
        assert.equal(res.json<ProviderJSON[]>()[0]!.state, 'unknown');
        checker.calls[0]!.resolve();
        await waitUntil(() => cache.get('hung') !== undefined, 10_000, 'the check to finish');
      } finally {
        handler.close();
        await server.close();
      }
    },
  );

  it('answers 503 to a refresh still waiting when the handler closes', { timeout: 30_000 }, async () => {
    const checker = controlledChecker();
    const { registry, cache } = await demoCache({}, {}, false);
    registry.register('hung', checker);
    const handler = createHealthHandler(cache, { metrics: false });
    const server = await serve(handler);
    try {
      const pending = request(`${server.url}/api/refresh`, { method: 'POST' });
      await waitUntil(() => checker.calls.length === 1, 10_000, 'the sweep to start');
      handler.close();
      assert.equal((await pending).status, 503);
      checker.calls[0]!.resolve();
    } finally {
      await server.close();
    }
  });

  it('refreshes one provider by URL-decoded name; 404 for an unknown one', { timeout: 30_000 }, async () => {
    const named = switchable();
    const { cache } = await demoCache({ 'a/b c': named });
    const handler = createHealthHandler(cache, { metrics: false });
    const server = await serve(handler);
    try {
      const res = await request(`${server.url}/api/providers/${encodeURIComponent('a/b c')}/refresh`, {
        method: 'POST',
      });
      assert.equal(res.status, 200);
      assert.equal(named.calls, 2);
      const missing = await request(`${server.url}/api/providers/zzz/refresh`, { method: 'POST' });
      assert.equal(missing.status, 404);
    } finally {
      handler.close();
      await server.close();
    }
  });
});

describe('a provider unregistered while its refresh request is arriving', () => {
  it('answers 404 (not 503) once the body has arrived', { timeout: 20_000 }, async () => {
    const { registry, cache } = await demoCache({ gone: switchable(), stays: switchable() });
    const handler = createHealthHandler(cache, { metrics: false, minRefreshInterval: 0 });
    let reached!: () => void;
    const inHandler = new Promise<void>((resolve) => (reached = resolve));
    const server = await serve((req, res) => {
      handler(req, res);
      reached();
    });
    try {
      const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(`${server.url}/api/providers/gone/refresh`, {
          method: 'POST',
          agent: false,
          headers: { 'Content-Length': '10' },
          timeout: 10_000,
        });
        req.once('timeout', () => req.destroy(new Error('no answer within 10 s')));
        req.once('error', reject);
        req.once('response', (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.write('12345');
        void inHandler.then(() => {
          // The name was known when the request arrived; it goes before the body ends.
          registry.unregister('gone');
          req.end('67890');
        });
      });
      const { status, body } = await answer;
      assert.equal(status, 404, body);
      assert.deepEqual(JSON.parse(body), {
        error: 'No provider named "gone" is registered',
        name: 'gone',
      });
    } finally {
      handler.close();
      await server.close();
    }
  });
});

describe('isLoopback', () => {
  it('accepts 127.0.0.0/8, ::1 and IPv4-mapped loopback only', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) {
      assert.equal(isLoopback(address), true, address);
    }
    for (const address of [
      undefined,
      '',
      '10.0.0.1',
      '::ffff:10.0.0.1',
      '128.0.0.1',
      'fe80::1',
      '1127.0.0.1',
      '::2',
    ]) {
      assert.equal(isLoopback(address), false, String(address));
    }
  });
});
