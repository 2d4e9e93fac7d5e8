/**
 * /api/events at fleet scale: `?batch=1` streams get one `changes` event per
 * publishInterval; other streams still get every `change`, written in groups.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { createHealthHandler, type ProviderJSON } from '../src/http/index.js';
import { ManualClock } from '../src/testing/index.js';
import { demoCache, openEvents, request, serve, switchable, waitUntil } from './support/http.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

interface Batch {
  changed: ProviderJSON[];
  removed: string[];
}

describe('GET /api/events?batch=1', () => {
  it(
    'sends one changes event per publishInterval, each provider once as it is then',
    { timeout: 30_000 },
    async () => {
      const a = switchable({ healthy: true, message: 'a0' });
      const b = switchable({ healthy: true, message: 'b0' });
      const { registry, cache } = await demoCache({ a, b, c: switchable() });
      const clock = new ManualClock();
      const handler = createHealthHandler(cache, { metrics: false, clock, publishInterval: 1_000 });
      const server = await serve(handler);
      const batched = await openEvents(`${server.url}/api/events?batch=1`);
      const each = await openEvents(`${server.url}/api/events`);
      try {
        const snapshot = await batched.next((e) => e.event === 'snapshot');
        assert.equal((JSON.parse(snapshot.data) as ProviderJSON[]).length, 3);
        a.report = { healthy: false, message: 'a1' };
        await cache.checkProvider('a');
        // The first change after a quiet interval goes out at once.
        const first = await batched.next((e) => e.event === 'changes');
        assert.deepEqual(JSON.parse(first.data), {
          changed: [JSON.parse((await each.next((e) => e.event === 'change')).data)],
          removed: [],
        });
        assert.equal((JSON.parse(first.data) as Batch).changed[0]!.message, 'a1');

        for (const message of ['a2', 'a3']) {
          a.report = { healthy: true, message };
          await cache.checkProvider('a');
        }
        b.report = { healthy: true, message: 'b1' };
        await cache.checkProvider('b');
        registry.unregister('c');
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.equal(batched.events.filter((e) => e.event === 'changes').length, 1, 'the rest waits');
        assert.equal(each.events.filter((e) => e.event === 'change').length, 1, 'queued for the others too');
        await clock.advance(1_000);
        await waitUntil(() => batched.events.length === 3, 10_000, 'the second batch');
        const second = JSON.parse(batched.events[2]!.data) as Batch;
        assert.equal(batched.events[2]!.event, 'changes');
        assert.deepEqual(
          second.changed.map((p) => [p.name, p.message]),
          [
            ['a', 'a3'],
            ['b', 'b1'],
          ],
        );
        assert.deepEqual(second.removed, ['c']);
        // Streams without batches still get every change, in order, then the removal.
        await each.next((e) => e.event === 'remove');
        assert.deepEqual(
          each.events
            .slice(1)
            .map((e) => (e.event === 'remove' ? 'remove c' : (JSON.parse(e.data) as ProviderJSON).message)),
          ['a1', 'a2', 'a3', 'b1', 'remove c'],
        );
        const ids = [...batched.events, ...each.events].map((e) => Number(e.id));
        assert.equal(new Set(ids).size, ids.length, 'ids are unique across both kinds of stream');
      } finally {
        batched.close();
        each.close();
        handler.close();
        await server.close();
      }
      assert.equal(clock.pendingTimers, 0, 'no batch timer left');
    },
  );

  it('sends a sweep of 2,000 changes as a bounded number of events', { timeout: 60_000 }, async () => {
    const providers: Record<string, ReturnType<typeof switchable>> = {};
    for (let i = 0; i < 2_000; i++) providers[`p${String(i).padStart(4, '0')}`] = switchable();
    const { cache } = await demoCache(providers);
    const handler = createHealthHandler(cache, { metrics: false, publishInterval: 200 });
    const server = await serve(handler);
    const batched = await openEvents(`${server.url}/api/events?batch=1`);
    const each = await openEvents(`${server.url}/api/events`);
    try {
      await batched.next((e) => e.event === 'snapshot');
      for (const provider of Object.values(providers)) provider.report = { healthy: false, message: 'down' };
      const started = Date.now();
      await cache.checkNow();
      await waitUntil(
        () =>
          batched.events
            .filter((e) => e.event === 'changes')
            .reduce((n, e) => n + (JSON.parse(e.data) as Batch).changed.length, 0) >= 2_000,
        20_000,
        'every change in batches',
      );
      const elapsed = Date.now() - started;
      const batches = batched.events.filter((e) => e.event === 'changes');
      assert.ok(batches.length <= elapsed / 200 + 2, `${batches.length} batches in ${elapsed} ms`);
      const names = batches.flatMap((e) => (JSON.parse(e.data) as Batch).changed.map((p) => p.name));
      assert.equal(new Set(names).size, 2_000, 'each provider in a batch');
      await waitUntil(
        () => each.events.filter((e) => e.event === 'change').length >= 2_000,
        20_000,
        'every change on the stream without batches',
      );
    } finally {
      batched.close();
      each.close();
      handler.close();
      await server.close();
    }
  });

  it('writes a sweep to a stream without batches in few writes', { timeout: 60_000 }, async () => {
    const providers: Record<string, ReturnType<typeof switchable>> = {};
    for (let i = 0; i < 2_000; i++) providers[`p${String(i).padStart(4, '0')}`] = switchable();
    const { cache } = await demoCache(providers);
    const handler = createHealthHandler(cache, { metrics: false, publishInterval: 200 });
    const server = await serve(handler);
    // A raw socket, so each write the server makes is one chunk of the chunked encoding.
    const socket = net.connect({ host: '127.0.0.1', port: server.port });
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => {});
    try {
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      socket.write('GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await waitUntil(() => received.includes('event: snapshot'), 10_000, 'the snapshot');
      const before = received.length;
      for (const provider of Object.values(providers)) provider.report = { healthy: false, message: 'down' };
      await cache.checkNow();
      await waitUntil(
        () => (received.slice(before).match(/event: change\n/g) ?? []).length === 2_000,
        20_000,
        'every change',
      );
      // Each chunk of the chunked encoding starts with its size in hex on a line of its own.
      const chunks = received.slice(before).match(/(^|\r\n)[0-9a-f]+\r\n(?=id: )/g) ?? [];
      assert.ok(chunks.length >= 1);
      assert.ok(chunks.length <= 100, `${chunks.length} writes for 2,000 changes`);
    } finally {
      socket.destroy();
      handler.close();
      await server.close();
    }
  });

  it('keeps a client that is still reading a snapshot of many megabytes', { timeout: 60_000 }, async () => {
    // 100 providers with 80 kB names: an 8 MB snapshot, far past socket buffers plus 1 MiB.
    const providers: Record<string, ReturnType<typeof switchable>> = {};
    for (let i = 0; i < 100; i++)
      providers[`${String(i).padStart(3, '0')}-${'n'.repeat(80_000)}`] = switchable();
    const { cache } = await demoCache(providers);
    const handler = createHealthHandler(cache, { metrics: false });
    const server = await serve(handler);
    const socket = net.connect({ host: '127.0.0.1', port: server.port });
    let received = '';
    try {
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      socket.on('error', () => {});
      socket.setEncoding('latin1');
      socket.pause(); // not reading yet: the snapshot waits in the server's queue
      socket.write('GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await waitUntil(() => handler.connections === 1, 10_000, 'the stream to open');
      const first = Object.keys(providers)[0]!;
      providers[first]!.report = { healthy: false, message: 'changed while the snapshot was queued' };
      await cache.checkProvider(first);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(handler.connections, 1, 'the client reading its snapshot was not dropped');
      socket.on('data', (chunk: string) => (received += chunk));
      socket.resume();
      await waitUntil(() => received.includes('changed while the snapshot was queued'), 20_000, 'the change');
      assert.ok(received.indexOf('event: snapshot') < received.indexOf('event: change'));
    } finally {
      socket.destroy();
      handler.close();
      await server.close();
    }
  });

  it(
    'cuts batch rows to the asked fields; bounds the distinct fields sets',
    { timeout: 30_000 },
    async () => {
      const a = switchable({ healthy: true, message: 'a0' });
      const { cache } = await demoCache({ a, b: switchable() });
      const handler = createHealthHandler(cache, { metrics: false, maxEventStreams: 100 });
      const server = await serve(handler);
      const light = await openEvents(`${server.url}/api/events?batch=1&fields=state,message`);
      const streams = [light];
      try {
        const snapshot = await light.next((e) => e.event === 'snapshot');
        assert.deepEqual(JSON.parse(snapshot.data), [
          { name: 'a', message: 'a0', state: 'healthy' },
          { name: 'b', message: 'ok', state: 'healthy' },
        ]);
        a.report = new Error('a1');
        await cache.checkProvider('a');
        const batch = await light.next((e) => e.event === 'changes');
        assert.deepEqual(JSON.parse(batch.data), {
          changed: [{ name: 'a', message: 'a1', state: 'unhealthy' }],
          removed: [],
        });
        const without = await request(`${server.url}/api/events?fields=state`, { timeout: 5_000 });
        assert.equal(without.status, 400);
        assert.match(without.json<{ error: string }>().error, /"fields" needs batch=1/);
        // 15 more distinct sets (16 in all) are served; a 17th is refused, an existing one still served.
        const others = [
          'healthy',
          'latency',
          'checked_at',
          'stale',
          'consecutive_failures',
          'consecutive_successes',
        ];
        others.push('last_success_at', 'last_failure_at', 'last_transition_at', 'uptime', 'latency_p50');
        others.push('latency_p95', 'details', 'samples', 'state');
        for (const field of others)
          streams.push(await openEvents(`${server.url}/api/events?batch=1&fields=${field}`));
        await waitUntil(() => handler.connections === 16, 10_000, '16 streams');
        const refused = await request(`${server.url}/api/events?batch=1&fields=message`, { timeout: 5_000 });
        assert.equal(refused.status, 503);
        assert.match(refused.json<{ error: string }>().error, /16 different fields sets/);
        streams.push(await openEvents(`${server.url}/api/events?batch=1&fields=message,state`));
        await waitUntil(() => handler.connections === 17, 10_000, 'a stream sharing a fields set');
      } finally {
        for (const stream of streams) stream.close();
        handler.close();
        await server.close();
      }
    },
  );

  it('refuses unknown, repeated and bad parameters with a 400', { timeout: 30_000 }, async () => {
    const { cache } = await demoCache({ a: switchable() });
    const handler = createHealthHandler(cache, { metrics: false });
    const server = await serve(handler);
    try {
      const cases: [string, string, RegExp][] = [
        ['batch=2', 'batch', /"batch" must be 1, true, 0 or false, got "2"/],
        ['batch=1&batch=1', 'batch', /given more than once/],
        ['since=5', 'since', /Unknown query parameter "since"; \/api\/events takes batch, fields/],
        ['batch=1&fields=password', 'fields', /"fields" has "password"/],
      ];
      for (const [query, parameter, message] of cases) {
        const res = await request(`${server.url}/api/events?${query}`, { timeout: 5_000 });
        assert.equal(res.status, 400, query);
        assert.match(res.json<{ error: string }>().error, message);
        assert.equal(res.json<{ parameter: string }>().parameter, parameter);
      }
      assert.equal(handler.connections, 0);
    } finally {
      handler.close();
      await server.close();
    }
  });
});
