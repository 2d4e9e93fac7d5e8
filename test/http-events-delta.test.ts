/**
 * /api/events?batch=1&delta=1: batches carry `name` and the fields that
 * changed since the row the group last sent; applied in order over the
 * snapshot, they give the full rows a plain `?batch=1` stream gets.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHealthHandler } from '../src/http/index.js';
import { ManualClock } from '../src/testing/index.js';
import { demoCache, openEvents, request, serve, switchable, waitUntil } from './support/http.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

type Row = Record<string, unknown>;
interface Batch {
  changed: Row[];
  removed: string[];
}

/** `rows` with each delta applied (a `null` field is gone); removed names dropped. */
function apply(rows: Map<string, Row>, batch: Batch): void {
  for (const delta of batch.changed) {
    const row = { ...(rows.get(delta['name'] as string) ?? {}) };
    for (const [key, value] of Object.entries(delta)) {
      if (value === null) delete row[key];
      else row[key] = value;
    }
    rows.set(delta['name'] as string, row);
  }
  for (const name of batch.removed) rows.delete(name);
}

describe('GET /api/events?batch=1&delta=1', () => {
  it(
    'sends only the changed fields (gone ones as null); applied over the snapshot they give the full rows',
    { timeout: 30_000 },
    async () => {
      const a = switchable({ healthy: true, message: 'a0', details: { version: 1 } });
      const { registry, cache } = await demoCache({ a, b: switchable(), c: switchable() });
      const clock = new ManualClock();
      const handler = createHealthHandler(cache, { metrics: false, clock, publishInterval: 1_000 });
      const server = await serve(handler);
      const full = await openEvents(`${server.url}/api/events?batch=1`);
      const delta = await openEvents(`${server.url}/api/events?batch=1&delta=1`);
      const rowsOf = (data: string): Map<string, Row> =>
        new Map((JSON.parse(data) as Row[]).map((row) => [row['name'] as string, row]));
      let late: Awaited<ReturnType<typeof openEvents>> | undefined;
      try {
        const seen = rowsOf((await delta.next((e) => e.event === 'snapshot')).data);
        const truth = rowsOf((await full.next((e) => e.event === 'snapshot')).data);
        let consumed = 0;
        const changes = (reader: typeof full): Batch[] =>
          reader.events.filter((e) => e.event === 'changes').map((e) => JSON.parse(e.data) as Batch);
        /** After the publish interval: the delta rows and removals of the new batches, each stream's rows updated. */
        const step = async (): Promise<{ rows: Row[]; removed: string[] }> => {
          await clock.advance(1_000);
          await new Promise((resolve) => setTimeout(resolve, 50));
          await waitUntil(() => changes(full).length === changes(delta).length, 10_000, 'both streams');
          const fresh = changes(delta).slice(consumed);
          for (const batch of changes(full).slice(consumed)) {
            for (const row of batch.changed) truth.set(row['name'] as string, row);
            for (const name of batch.removed) truth.delete(name);
          }
          for (const batch of fresh) apply(seen, batch);
          consumed = changes(full).length;
          assert.deepEqual(seen, truth, 'the deltas give the full rows');
          return { rows: fresh.flatMap((b) => b.changed), removed: fresh.flatMap((b) => b.removed) };
        };
        const last = (rows: Row[], name: string): Row | undefined =>
          rows.filter((row) => row['name'] === name).at(-1);

        // 1. The first change of a provider after the group opened: the whole row.
        a.report = { healthy: true, message: 'a1', details: { version: 1 } };
        await cache.checkProvider('a');
        let got = await step();
        assert.deepEqual(last(got.rows, 'a'), truth.get('a'));

        // 2. Then only what changed: the message, not the fields that stayed.
        a.report = { healthy: true, message: 'a2', details: { version: 1 } };
        await cache.checkProvider('a');
        got = await step();
        const changed = last(got.rows, 'a')!;
        assert.equal(changed['message'], 'a2');
        for (const same of ['healthy', 'state', 'stale', 'details', 'uptime'])
          assert.equal(same in changed, false, `${same} did not change`);

        // 3. A field gone is sent as null; a stream joining now shares the group's base.
        a.report = { healthy: false, message: 'a3' };
        await cache.checkProvider('a');
        got = await step();
        assert.equal(last(got.rows, 'a')!['details'], null);
        late = await openEvents(`${server.url}/api/events?batch=1&delta=1`);
        const lateSeen = rowsOf((await late.next((e) => e.event === 'snapshot')).data);
        a.report = { healthy: false, message: 'a4' };
        await cache.checkProvider('a');
        await step();
        await waitUntil(() => changes(late!).length === 1, 10_000, "the late stream's batch");
        apply(lateSeen, changes(late)[0]!);
        assert.deepEqual(lateSeen, truth, 'the late stream too');
        assert.deepEqual(changes(late)[0], changes(delta).at(-1), 'one serialisation for the group');

        // 4. A provider sent once, removed, registered again: its next row is whole.
        const c = switchable({ healthy: true, message: 'c1' });
        registry.unregister('c');
        registry.register('c', c);
        await cache.checkProvider('c');
        await step();
        registry.unregister('c');
        got = await step();
        assert.deepEqual(got.removed, ['c']);
        registry.register('c', c);
        await cache.checkProvider('c');
        got = await step();
        assert.equal(last(got.rows, 'c')?.['state'], 'healthy', 'a whole row, not a difference');
      } finally {
        late?.close();
        full.close();
        delta.close();
        handler.close();
        await server.close();
      }
    },
  );

  it('needs batch=1 and takes 1, true, 0 or false', { timeout: 30_000 }, async () => {
    const { cache } = await demoCache({ a: switchable() });
    const handler = createHealthHandler(cache, { metrics: false });
    const server = await serve(handler);
    try {
      for (const [query, error] of [
        ['delta=1', /needs batch=1/],
        ['batch=1&delta=yes', /"delta" must be 1, true, 0 or false/],
      ] as const) {
        const res = await request(`${server.url}/api/events?${query}`);
        assert.equal(res.status, 400, query);
        const body = res.json<{ error: string; parameter: string }>();
        assert.match(body.error, error);
        assert.equal(body.parameter, 'delta');
      }
    } finally {
      handler.close();
      await server.close();
    }
  });
});
