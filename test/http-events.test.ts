import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { describe, it } from 'node:test';
import { createHealthHandler, type ProviderJSON } from '../src/http/index.js';
import { ManualClock } from '../src/testing/index.js';
import {
  countingView,
  demoCache,
  openEvents,
  request,
  serve,
  switchable,
  waitUntil,
} from './support/http.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

describe('GET /api/events', () => {
  it(
    'sends the full snapshot on connect, then each change, registration and removal',
    { timeout: 30_000 },
    async () => {
      const docker = switchable({ healthy: true, message: 'up' });
      const { registry, cache } = await demoCache({ docker });
      registry.register('never', switchable());
      const handler = createHealthHandler(cache, { metrics: false });
      const server = await serve(handler);
      const stream = await openEvents(`${server.url}/api/events`);
      try {
        assert.equal(stream.status, 200);
        assert.equal(stream.headers['content-type'], 'text/event-stream; charset=utf-8');
        assert.equal(stream.headers['cache-control'], 'no-cache, no-transform');
        const snapshot = await stream.next((e) => e.event === 'snapshot');
        const list = JSON.parse(snapshot.data) as ProviderJSON[];
        assert.deepEqual(
          list.map((p) => [p.name, p.state]),
          [
            ['docker', 'healthy'],
            ['never', 'unknown'],
          ],
        );
        assert.equal(handler.connections, 1);

        docker.report = { healthy: false, message: 'daemon gone' };
        await cache.checkProvider('docker');
        const change = await stream.next((e) => e.event === 'change' && e.data.includes('daemon gone'));
        const changed = JSON.parse(change.data) as ProviderJSON;
        assert.equal(changed.name, 'docker');
        assert.equal(changed.state, 'unhealthy');
        assert.ok(Number.isInteger(changed.latency));

        registry.register('late', switchable());
        const added = await stream.next((e) => e.event === 'change' && e.data.includes('"late"'));
        assert.equal((JSON.parse(added.data) as ProviderJSON).state, 'unknown');

        registry.unregister('never');
        const removed = await stream.next((e) => e.event === 'remove');
        assert.deepEqual(JSON.parse(removed.data), { name: 'never' });
        assert.equal(stream.events.filter((e) => e.event === 'remove').length, 1, 'one removal event');

        const ids = stream.events.map((e) => Number(e.id));
        assert.deepEqual(
          ids,
          [...ids].sort((x, y) => x - y),
          'event ids increase',
        );
      } finally {
        stream.close();
        handler.close();
        await server.close();
      }
    },
  );

  it(
    'sends heartbeats and, on them, stale transitions of a cache nobody polls',
    { timeout: 30_000 },
    async () => {
      const clock = new ManualClock();
      const { cache } = await demoCache(
        { a: switchable() },
        { clock, pollInterval: 1_000, checkTimeout: 100 },
      );
      const handler = createHealthHandler(cache, { metrics: false, heartbeatInterval: 1_000 });
      const server = await serve(handler);
      const stream = await openEvents(`${server.url}/api/events`);
      try {
        await stream.next((e) => e.event === 'snapshot');
        // The hub schedules its heartbeat as the stream opens (the cache may hold timers of its own).
        await waitUntil(() => handler.connections === 1, 10_000, 'the stream and its heartbeat timer');
        await clock.advance(1_000);
        await stream.comment(1);
        assert.deepEqual(stream.comments, ['ping']);
        await clock.advance(2_000);
        const stale = await stream.next((e) => e.event === 'change');
        assert.equal((JSON.parse(stale.data) as ProviderJSON).state, 'stale');
        await stream.comment(2);
      } finally {
        stream.close();
        handler.close();
        await server.close();
      }
      assert.equal(clock.pendingTimers, 0, 'no heartbeat timer left');
    },
  );

  it(
    'ends every stream on close() and refuses streams beyond maxEventStreams',
    { timeout: 30_000 },
    async () => {
      const { cache } = await demoCache({ a: switchable() });
      const handler = createHealthHandler(cache, { metrics: false, maxEventStreams: 2 });
      const server = await serve(handler);
      try {
        const streams = [
          await openEvents(`${server.url}/api/events`),
          await openEvents(`${server.url}/api/events`),
        ];
        await waitUntil(() => handler.connections === 2, 10_000, 'two streams');
        // Bounded: a stream let past the limit would stay open (heartbeats keep it alive).
        const third = await request(`${server.url}/api/events`, { timeout: 5_000 });
        assert.equal(third.status, 503);
        assert.ok(third.headers['retry-after']);
        handler.close();
        await Promise.all(streams.map((s) => s.ended));
        assert.equal(handler.connections, 0);
      } finally {
        handler.close();
        await server.close();
      }
    },
  );

  it('drops a client that stops reading once 1 MiB is queued for it', { timeout: 60_000 }, async () => {
    let round = 0;
    // The name carries the bulk of each event: details and messages are capped by the core.
    const big = `big-${'x'.repeat(100_000)}`;
    const { cache } = await demoCache({
      [big]: { healthCheck: async () => ({ healthy: true, message: `round ${round++}` }) },
    });
    const handler = createHealthHandler(cache, { metrics: false });
    const server = await serve(handler);
    const socket = net.connect({ host: '127.0.0.1', port: server.port });
    try {
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      socket.on('error', () => {});
      socket.write('GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      socket.pause(); // never reads: the kernel buffers fill, then the server's queue grows
      await waitUntil(() => handler.connections === 1, 10_000, 'the stream to open');
      const healthy = await openEvents(`${server.url}/api/events`);
      // Up to ~100 MB of events, far past socket buffers plus 1 MiB, until the stalled client is dropped.
      for (let i = 0; i < 1_000 && handler.connections > 1; i++) {
        await cache.checkProvider(big);
        // Let the reading client drain, so only the stalled one falls behind.
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(handler.connections, 1, 'one client was dropped');
      await cache.checkProvider(big);
      const last = `round ${round - 1}`;
      await healthy.next((e) => e.event === 'change' && e.data.includes(last));
      assert.equal(handler.connections, 1, 'the reading client is still served');
      healthy.close();
    } finally {
      socket.destroy();
      handler.close();
      await server.close();
    }
  });

  it('releases everything after 10,000 connects and disconnects', { timeout: 120_000 }, async () => {
    const { cache } = await demoCache({ a: switchable(), b: switchable() });
    const clock = new ManualClock();
    const view = countingView(cache);
    const handler = createHealthHandler(view, { metrics: false, clock });
    const subscriptions = view.subscriptions;
    const server = await serve(handler);
    const agent = new http.Agent({ keepAlive: false, maxSockets: 64 });
    try {
      const connectAndLeave = () =>
        new Promise<void>((resolve, reject) => {
          const req = http.get(`${server.url}/api/events`, { agent }, (res) => {
            // Leave as soon as the snapshot starts arriving.
            res.once('data', () => {
              req.destroy();
              resolve();
            });
          });
          req.once('error', (error: NodeJS.ErrnoException) => {
            if (error.code !== 'ECONNRESET') reject(error);
          });
        });
      const total = 10_000;
      let started = 0;
      const worker = async () => {
        while (started < total) {
          started++;
          await connectAndLeave();
        }
      };
      await Promise.all(Array.from({ length: 64 }, worker));
      await waitUntil(() => handler.connections === 0, 30_000, 'every stream to be released');
      assert.equal(view.subscriptions, subscriptions, 'no listener added per stream');
      assert.equal(clock.pendingTimers, 0, 'no heartbeat timer without streams');
      assert.equal(server.server.listenerCount('request'), 1);
      const openSockets = () =>
        new Promise<number>((resolve, reject) =>
          server.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
        );
      const deadline = Date.now() + 30_000;
      while ((await openSockets()) > 0) {
        assert.ok(Date.now() < deadline, 'every socket closes');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      agent.destroy();
      handler.close();
      await server.close();
    }
  });
});
