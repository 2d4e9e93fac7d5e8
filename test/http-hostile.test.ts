/**
 * Defects found by attacking the handler as a hostile client or a hostile
 * web page would, each over a real socket.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { createHealthHandler, type HealthHandlerOptions, type ProviderJSON } from '../src/http/index.js';
import { demoCache, openEvents, request, serve, switchable, waitUntil } from './support/http.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

/** Opens a raw connection to `port`, writes `text` and resolves once connected and written. */
async function rawSocket(port: number, text: string): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(text);
  return socket;
}

const STREAM_REQUEST = 'GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

describe('pipelined event-stream requests', () => {
  it('release every stream on a connection when it closes', { timeout: 30_000 }, async () => {
    const { cache } = await demoCache({ a: switchable() });
    const handler = createHealthHandler(cache, { metrics: false });
    const server = await serve(handler);
    try {
      const socket = await rawSocket(server.port, STREAM_REQUEST.repeat(3));
      await waitUntil(() => handler.connections === 3, 5_000, 'three streams (two queued)');
      socket.destroy();
      await waitUntil(() => handler.connections === 0, 5_000, 'the queued streams to be released');
    } finally {
      handler.close();
      await server.close();
    }
  });

  it('cannot fill maxEventStreams with short pipelining connections', { timeout: 30_000 }, async () => {
    const { cache } = await demoCache({ a: switchable() });
    const handler = createHealthHandler(cache, { metrics: false, maxEventStreams: 4 });
    const server = await serve(handler);
    try {
      for (let i = 0; i < 10; i++) {
        const socket = await rawSocket(server.port, STREAM_REQUEST.repeat(2));
        await waitUntil(() => handler.connections >= 2, 5_000, 'two streams on one connection');
        socket.destroy();
        await waitUntil(() => handler.connections === 0, 5_000, 'the connection to release its streams');
      }
      const stream = await openEvents(`${server.url}/api/events`);
      try {
        assert.equal(stream.status, 200, 'a new client is still served');
      } finally {
        stream.close();
      }
    } finally {
      handler.close();
      await server.close();
    }
  });
});

describe('requests from other web origins and hosts', () => {
  async function start(options: HealthHandlerOptions = {}) {
    const a = switchable();
    const { cache } = await demoCache({ a });
    const handler = createHealthHandler(cache, { metrics: false, minRefreshInterval: 0, ...options });
    const server = await serve(handler);
    return {
      a,
      server,
      async [Symbol.asyncDispose]() {
        handler.close();
        await server.close();
      },
    };
  }

  it(
    'refuses a cross-origin POST (a "simple" request no preflight guards): 403, nothing checked',
    { timeout: 30_000 },
    async () => {
      await using t = await start();
      const forged = [
        { Origin: 'http://evil.example', 'Content-Type': 'text/plain' },
        { Origin: 'null', 'Content-Type': 'text/plain' },
        { 'Sec-Fetch-Site': 'cross-site', 'Content-Type': 'text/plain' },
        { 'Sec-Fetch-Site': 'same-site', Origin: `http://localhost:${t.server.port}` },
        { Origin: `http://127.0.0.1:${t.server.port + 1}` },
      ];
      for (const headers of forged) {
        for (const path of ['/api/refresh', '/api/providers/a/refresh']) {
          const res = await request(t.server.url + path, { method: 'POST', headers, body: 'x' });
          assert.equal(res.status, 403, `${path} ${JSON.stringify(headers)}`);
          assert.match(res.json<{ error: string }>().error, /[Cc]ross-origin/);
        }
      }
      assert.equal(t.a.calls, 1, 'no forged request checked anything');
    },
  );

  it(
    'still refreshes from the same origin and from clients that send no origin',
    { timeout: 30_000 },
    async () => {
      await using t = await start();
      const allowed = [
        {},
        { Origin: t.server.url },
        { 'Sec-Fetch-Site': 'same-origin', Origin: t.server.url },
        { 'Sec-Fetch-Site': 'none' },
      ];
      for (const headers of allowed) {
        const res = await request(`${t.server.url}/api/refresh`, { method: 'POST', headers });
        assert.equal(res.status, 200, JSON.stringify(headers));
      }
      assert.equal(t.a.calls, 1 + allowed.length);
    },
  );

  it('refuses a Host it does not serve (DNS rebinding), on every route', { timeout: 30_000 }, async () => {
    await using t = await start();
    for (const path of [
      '/api/providers',
      '/api/providers/a',
      '/api/health',
      '/api/events',
      '/',
      '/api/refresh',
    ]) {
      const method = path === '/api/refresh' ? 'POST' : 'GET';
      const res = await request(t.server.url + path, {
        method,
        headers: { Host: `attacker.example:${t.server.port}` },
        timeout: 5_000,
      });
      assert.equal(res.status, 403, path);
      assert.match(res.json<{ error: string }>().error, /allowedHosts/, path);
      assert.doesNotMatch(res.text, /"name"/, 'no provider data');
    }
    for (const host of [
      'localhost',
      `localhost:${t.server.port}`,
      'app.localhost',
      '127.0.0.1',
      '[::1]:80',
      '10.1.2.3',
    ]) {
      const res = await request(`${t.server.url}/api/providers`, { headers: { Host: host } });
      assert.equal(res.status, 200, host);
    }
    assert.equal(t.a.calls, 1);
  });

  it('serves the hosts a deployment allows', { timeout: 30_000 }, async () => {
    await using t = await start({ allowedHosts: ['health.example.com', '*.corp.example'] });
    const status = async (host: string) =>
      (await request(`${t.server.url}/api/providers`, { headers: { Host: host } })).status;
    assert.equal(await status('health.example.com'), 200);
    assert.equal(await status('HEALTH.example.com.:8443'), 200);
    assert.equal(await status('eu.corp.example'), 200);
    assert.equal(await status('corp.example'), 403);
    assert.equal(await status('health.example.com.evil.example'), 403);
    await using any = await start({ allowedHosts: ['*'] });
    assert.equal(
      (await request(`${any.server.url}/api/providers`, { headers: { Host: 'x.example' } })).status,
      200,
    );
  });

  it('validates allowedHosts', { timeout: 30_000 }, async () => {
    const { cache } = await demoCache({}, {}, false);
    const cases: [unknown, RegExp][] = [
      ['example.com', /`allowedHosts`.*array/],
      [[42], /`allowedHosts\[0\]`/],
      [['https://example.com'], /`allowedHosts\[0\]`.*without scheme or port/],
      [['example.com:8080'], /`allowedHosts\[0\]`/],
      [Array.from({ length: 1_001 }, (_, i) => `h${i}.example`), /`allowedHosts`.*at most 1000/],
    ];
    for (const [allowedHosts, message] of cases) {
      assert.throws(() => createHealthHandler(cache, { allowedHosts } as HealthHandlerOptions), message);
    }
  });
});

describe('odd checker details over the socket', () => {
  it(
    'never answer 500: a nested revoked Proxy, a Proxy whose key listing throws',
    { timeout: 30_000 },
    async () => {
      const revocable = Proxy.revocable({ a: 1 }, {});
      revocable.revoke();
      const keysThrow = new Proxy(
        { b: 2 },
        {
          ownKeys() {
            throw new Error('no keys for you');
          },
        },
      );
      const getThrows = new Proxy(
        { c: 3 },
        {
          get: () => {
            throw new Error('no value');
          },
        },
      );
      const details = {
        nested: { revoked: revocable.proxy },
        keysThrow,
        list: [revocable.proxy, getThrows],
        getThrows,
      };
      const { cache } = await demoCache({ odd: switchable({ healthy: true, message: 'ok', details }) });
      const handler = createHealthHandler(cache, { metrics: false });
      const server = await serve(handler);
      try {
        for (const path of ['/api/providers', '/api/providers/odd', '/api/health', '/api/history']) {
          const res = await request(server.url + path);
          assert.equal(res.status, 200, `${path}: ${res.text}`);
        }
        const odd = (await request(`${server.url}/api/providers/odd`)).json<ProviderJSON>();
        // Whoever copies them (the core at record time, the HTTP layer when serialising), the
        // unreadable parts are marked, and the readable ones kept.
        const unreadable = /^\[unreadable/i;
        const details = odd.details as {
          nested: { revoked: string };
          keysThrow: string;
          list: [string, { c: string }];
          getThrows: { c: string };
        };
        assert.match(details.nested.revoked, unreadable);
        assert.match(details.keysThrow, unreadable);
        assert.match(details.list[0], unreadable);
        assert.match(details.list[1].c, unreadable);
        assert.match(details.getThrows.c, unreadable);
        const stream = await openEvents(`${server.url}/api/events`);
        try {
          assert.equal(stream.status, 200);
          await stream.next((e) => e.event === 'snapshot');
        } finally {
          stream.close();
        }
      } finally {
        handler.close();
        await server.close();
      }
    },
  );

  it('never serve the secrets a checker put in its details', { timeout: 30_000 }, async () => {
    const secrets = ['hunter2pass', 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0', 'tok3n-value'];
    const details = {
      endpoint: 'https://admin:hunter2pass@nomad.internal:4646/v1',
      header: 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0',
      nested: { query: 'https://api.example/x?token=tok3n-value' },
    };
    const { cache } = await demoCache({ leaky: switchable({ healthy: true, message: 'ok', details }) });
    const handler = createHealthHandler(cache, { metrics: false });
    const server = await serve(handler);
    try {
      for (const path of ['/api/providers', '/api/providers/leaky']) {
        const res = await request(server.url + path);
        assert.equal(res.status, 200);
        assert.deepEqual(
          secrets.filter((s) => res.text.includes(s)),
          [],
          path,
        );
      }
    } finally {
      handler.close();
      await server.close();
    }
  });
});

describe('a provider named __proto__', () => {
  it('is listed in /api/history like any other', { timeout: 30_000 }, async () => {
    const { cache } = await demoCache({
      ['__proto__']: switchable(),
      constructor: switchable(),
      a: switchable(),
    });
    const handler = createHealthHandler(cache, { metrics: false });
    const server = await serve(handler);
    try {
      const res = await request(`${server.url}/api/history`);
      assert.equal(res.status, 200);
      // Parsed by hand: JSON.parse into a plain object would hide the key the same way.
      assert.match(res.text, /^\{"__proto__":\[\{"checked_at":/);
      assert.match(res.text, /"constructor":\[\{/);
      assert.equal((await request(`${server.url}/api/providers/__proto__/history`)).status, 200);
    } finally {
      handler.close();
      await server.close();
    }
  });
});
