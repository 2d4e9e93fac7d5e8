/**
 * Every endpoint, mounted the way the README shows, in node:http, Express,
 * Fastify and Hono (through @hono/node-server), over real sockets.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createAdaptorServer, type HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import express from 'express';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { Hono } from 'hono';
import { createHealthHandler, type HealthHandler, type ProviderJSON } from '../src/http/index.js';
import { demoCache, openEvents, request, switchable } from './support/http.js';
import { close, listen } from './support/listen.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

const BASE = '/health';
const ODD = 'a/b ü?#';

interface Mounted {
  readonly url: string;
  close(): Promise<void>;
}

/** How each framework mounts the handler, as documented in the README. */
const frameworks: Record<string, (handler: HealthHandler) => Promise<Mounted>> = {
  'node:http': async (handler) => {
    const server = http.createServer((req, res) => {
      if (req.url === '/app') return void res.end('app route');
      handler(req, res);
    });
    const port = await listen(server);
    return { url: `http://127.0.0.1:${port}`, close: () => close(server) };
  },
  express: async (handler) => {
    const app = express();
    app.get('/app', (_req, res) => void res.send('app route'));
    app.use(BASE, handler);
    const server = http.createServer(app);
    const port = await listen(server);
    return { url: `http://127.0.0.1:${port}`, close: () => close(server) };
  },
  fastify: async (handler) => {
    const app = Fastify();
    app.get('/app', async () => 'app route');
    const serveHealth = (req: FastifyRequest, reply: FastifyReply): void => {
      reply.hijack();
      handler(req.raw, reply.raw);
    };
    app.all(BASE, serveHealth);
    app.all(`${BASE}/*`, serveHealth);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address() as { port: number };
    return {
      url: `http://127.0.0.1:${address.port}`,
      close: async () => {
        app.server.closeAllConnections();
        await app.close();
      },
    };
  },
  hono: async (handler) => {
    const app = new Hono<{ Bindings: HttpBindings }>();
    app.get('/app', (c) => c.text('app route'));
    const serveHealth = (c: { env: HttpBindings }): Response => {
      handler(c.env.incoming, c.env.outgoing);
      return RESPONSE_ALREADY_SENT;
    };
    app.all(BASE, serveHealth);
    app.all(`${BASE}/*`, serveHealth);
    const server = createAdaptorServer({ fetch: app.fetch }) as http.Server;
    const port = await listen(server);
    return { url: `http://127.0.0.1:${port}`, close: () => close(server) };
  },
};

for (const [framework, mount] of Object.entries(frameworks)) {
  describe(`mounted in ${framework}`, () => {
    let handler: HealthHandler;
    let mounted: Mounted;
    let base: string;
    const up = switchable({ healthy: true, message: 'fine' });
    const down = switchable(new Error('refused'));

    before(async () => {
      const { registry, cache } = await demoCache({ up, down, [ODD]: switchable() });
      registry.register('fresh', switchable());
      handler = createHealthHandler(cache, { basePath: BASE, minRefreshInterval: 0 });
      mounted = await mount(handler);
      base = mounted.url + BASE;
    });
    after(async () => {
      handler.close();
      await mounted.close();
    });

    it('GET /api/providers and /api/providers/{name}, with ETag and 304', { timeout: 30_000 }, async () => {
      const res = await request(`${base}/api/providers`);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      assert.deepEqual(
        res.json<ProviderJSON[]>().map((p) => [p.name, p.state]),
        [
          [ODD, 'healthy'],
          ['down', 'unhealthy'],
          ['fresh', 'unknown'],
          ['up', 'healthy'],
        ],
      );
      const cached = await request(`${base}/api/providers`, {
        headers: { 'If-None-Match': String(res.headers.etag) },
      });
      assert.equal(cached.status, 304);
      const one = await request(`${base}/api/providers/${encodeURIComponent(ODD)}`);
      assert.equal(one.status, 200);
      assert.equal(one.json<ProviderJSON>().name, ODD);
      const missing = await request(`${base}/api/providers/ghost`);
      assert.equal(missing.status, 404);
      assert.equal(missing.json<{ name: string }>().name, 'ghost');
      assert.equal((await request(`${base}/api/providers/up/history`)).status, 200);
      assert.equal((await request(`${base}/api/history`)).status, 200);
    });

    it('GET /api/health', { timeout: 30_000 }, async () => {
      const all = await request(`${base}/api/health`);
      assert.equal(all.status, 503);
      assert.deepEqual(
        all.json<{ not_healthy: { name: string }[] }>().not_healthy.map((p) => p.name),
        ['down', 'fresh'],
      );
      const some = await request(`${base}/api/health?provider=up&provider=${encodeURIComponent(ODD)}`);
      assert.equal(some.status, 200);
      assert.equal(some.json<{ healthy: boolean }>().healthy, true);
    });

    it('GET /api/events', { timeout: 30_000 }, async () => {
      const stream = await openEvents(`${base}/api/events`);
      try {
        assert.equal(stream.status, 200);
        assert.equal(stream.headers['content-type'], 'text/event-stream; charset=utf-8');
        const snapshot = await stream.next((e) => e.event === 'snapshot');
        assert.equal((JSON.parse(snapshot.data) as ProviderJSON[]).length, 4);
        up.report = { healthy: true, message: `checked in ${framework}` };
        const refreshed = await request(`${base}/api/providers/up/refresh`, { method: 'POST' });
        assert.equal(refreshed.status, 200);
        assert.equal(refreshed.json<ProviderJSON>().message, `checked in ${framework}`);
        await stream.next((e) => e.event === 'change' && e.data.includes(`checked in ${framework}`));
      } finally {
        stream.close();
      }
    });

    it('POST /api/refresh', { timeout: 30_000 }, async () => {
      const calls = down.calls;
      const res = await request(`${base}/api/refresh`, { method: 'POST' });
      assert.equal(res.status, 200);
      assert.equal(res.json<ProviderJSON[]>().length, 4);
      assert.equal(down.calls, calls + 1);
      const wrong = await request(`${base}/api/refresh`);
      assert.equal(wrong.status, 405);
      assert.equal(wrong.headers.allow, 'POST');
    });

    it('GET /metrics', { timeout: 30_000 }, async () => {
      const res = await request(`${base}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.text, /^provider_health_up\{provider="up"\} 1$/m);
    });

    it('GET / (the status page) and its assets, with a strict CSP', { timeout: 30_000 }, async () => {
      const page = await request(`${base}/`);
      assert.equal(page.status, 200);
      assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
      assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
      const assets = [...page.text.matchAll(/(?:href|src)="(\/health\/assets\/[^"]+)"/g)].map((m) => m[1]!);
      assert.equal(assets.length, 2);
      for (const path of assets) {
        const asset = await request(mounted.url + path);
        assert.equal(asset.status, 200, path);
        assert.match(String(asset.headers['cache-control']), /immutable/);
      }
    });

    it(
      'leaves other routes to the framework and answers unknown health paths with 404',
      { timeout: 30_000 },
      async () => {
        const app = await request(`${mounted.url}/app`);
        assert.equal(app.status, 200);
        assert.equal(app.text, 'app route');
        assert.equal((await request(`${base}/nope`)).status, 404);
        assert.equal((await request(`${base}/api/providers`, { method: 'DELETE' })).status, 405);
      },
    );
  });
}
