/**
 * Bodies are serialised once per published version: at the first change
 * after a quiet publishInterval, then at most once per interval while
 * statuses keep changing; event-stream snapshots are never behind.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHealthHandler, type ProviderJSON } from '../src/http/index.js';
import { ManualClock } from '../src/testing/index.js';
import { countingView, demoCache, openEvents, request, serve, switchable } from './support/http.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

describe('publishInterval', () => {
  it(
    'rebuilds bodies at most once per interval while statuses keep changing',
    { timeout: 30_000 },
    async () => {
      const a = switchable({ healthy: true, message: 'v0' });
      const { cache } = await demoCache({ a });
      const clock = new ManualClock();
      const view = countingView(cache);
      const handler = createHealthHandler(view, { metrics: false, clock, publishInterval: 1_000 });
      const server = await serve(handler);
      const message = async (): Promise<string> =>
        (await request(`${server.url}/api/providers`)).json<ProviderJSON[]>()[0]!.message;
      try {
        assert.equal(await message(), 'v0');
        a.report = { healthy: true, message: 'v1' };
        await cache.checkProvider('a');
        assert.equal(await message(), 'v1', 'the first change after a quiet interval is published at once');
        a.report = { healthy: true, message: 'v2' };
        await cache.checkProvider('a');
        assert.equal(await message(), 'v1', 'a change within the interval waits');
        // The changed row was built ahead once (lists are being read); requests build nothing.
        const gets = view.gets;
        assert.equal(await message(), 'v1');
        assert.equal(view.gets, gets, 'nothing rebuilt per request meanwhile');
        const stream = await openEvents(`${server.url}/api/events`);
        try {
          const snapshot = await stream.next((e) => e.event === 'snapshot');
          assert.equal(
            (JSON.parse(snapshot.data) as ProviderJSON[])[0]!.message,
            'v2',
            'a stream starts fresh',
          );
        } finally {
          stream.close();
        }
        assert.equal(await message(), 'v2');
        a.report = { healthy: true, message: 'v3' };
        await cache.checkProvider('a');
        assert.equal(await message(), 'v2');
        await clock.advance(1_000);
        assert.equal(await message(), 'v3', 'published when the interval ends');
        assert.equal(clock.pendingTimers, 0);
      } finally {
        handler.close();
        await server.close();
      }
    },
  );

  it('0 rebuilds after every change; bad values name the option', { timeout: 30_000 }, async () => {
    const a = switchable({ healthy: true, message: 'v0' });
    const { cache } = await demoCache({ a });
    const handler = createHealthHandler(cache, { metrics: false, publishInterval: 0 });
    const server = await serve(handler);
    try {
      for (const version of ['v1', 'v2', 'v3']) {
        a.report = { healthy: true, message: version };
        await cache.checkProvider('a');
        const res = await request(`${server.url}/api/providers/a`);
        assert.equal(res.json<ProviderJSON>().message, version);
      }
    } finally {
      handler.close();
      await server.close();
    }
    assert.throws(() => createHealthHandler(cache, { publishInterval: -1 }), /`publishInterval`.*-1/);
    assert.throws(
      () => createHealthHandler(cache, { publishInterval: 60_001 }),
      /`publishInterval`.*at most 60000/,
    );
  });
});
