/**
 * Changed list rows are built between turns of the event loop while lists
 * are read, so a request for a new version copies built rows instead of
 * building 10,000 of them in one go; nobody reading, nothing is built ahead.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COLD_ROWS, WARM_AFTER_READ } from '../src/http/api-bodies.js';
import { createHealthHandler, type ProviderJSON } from '../src/http/index.js';
import { RowWarmer } from '../src/http/row-warmer.js';
import { ManualClock } from '../src/testing/index.js';
import { countingView, demoCache, request, serve, switchable } from './support/http.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** Enough turns for a few rows however slow the machine (a slice may hold one row when the JIT is cold). */
const turns = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await turn();
};

describe('RowWarmer', () => {
  it('builds a slice of rows a turn, each pending name once, until disposed', async () => {
    const built: string[] = [];
    // A slice of 0 ms: one row a turn.
    const warmer = new RowWarmer((name) => built.push(name), 0);
    warmer.add('a');
    warmer.add('b');
    warmer.add('a');
    warmer.add('c');
    assert.equal(warmer.pending, 3, 'a name added twice before its turn waits once');
    await turn();
    assert.deepEqual(built, ['a']);
    await turn();
    assert.deepEqual(built, ['a', 'b']);
    warmer.delete('c');
    warmer.add('d');
    warmer.dispose();
    await turn();
    await turn();
    assert.deepEqual(built, ['a', 'b'], 'nothing after dispose');
    assert.equal(warmer.pending, 0);
  });

  it('says when no name waits any more: at once, after the last slice, or when disposed', async () => {
    const built: string[] = [];
    const warmer = new RowWarmer((name) => built.push(name), 0);
    let idle = false;
    await warmer.idle();
    warmer.add('a');
    warmer.add('b');
    void warmer.idle().then(() => (idle = true));
    await turn();
    assert.deepEqual([built, idle], [['a'], false], 'one name still waits');
    await turns();
    assert.deepEqual([built, idle], [['a', 'b'], true]);

    warmer.add('c');
    const disposed = warmer.idle();
    warmer.dispose();
    await disposed;
    assert.deepEqual(built, ['a', 'b'], 'disposed before its turn: never built, and nobody waits forever');
  });

  it('keeps going after a build that throws', async () => {
    const built: string[] = [];
    // A slice of a second: both in one turn however busy the machine.
    const warmer = new RowWarmer((name) => {
      if (name === 'bad') throw new Error('boom');
      built.push(name);
    }, 1_000);
    warmer.add('bad');
    warmer.add('good');
    await turn();
    assert.deepEqual(built, ['good']);
    warmer.dispose();
  });
});

describe('list rows built ahead', () => {
  it('while lists are read, a new version costs the request no row; after a quiet while, none is built ahead', async () => {
    const a = switchable({ healthy: true, message: 'v0' });
    const b = switchable({ healthy: true, message: 'v0' });
    const { cache } = await demoCache({ a, b });
    const clock = new ManualClock();
    const view = countingView(cache);
    const handler = createHealthHandler(view, { metrics: false, clock, publishInterval: 0 });
    const server = await serve(handler);
    const messages = async (): Promise<string[]> =>
      (await request(`${server.url}/api/providers`)).json<ProviderJSON[]>().map((row) => row.message);
    try {
      assert.deepEqual(await messages(), ['v0', 'v0']);
      a.report = { healthy: true, message: 'v1' };
      b.report = { healthy: true, message: 'v1' };
      // Counted from before the sweep: it gives the event loop turns, so a row may be built during it.
      const beforeChange = view.gets;
      await cache.checkNow();
      await turns();
      assert.equal(view.gets, beforeChange + 2, 'both changed rows built between turns');
      assert.deepEqual(await messages(), ['v1', 'v1']);
      assert.equal(view.gets, beforeChange + 2, 'the request built no row');

      await clock.advance(WARM_AFTER_READ);
      a.report = { healthy: true, message: 'v2' };
      const quiet = view.gets;
      await cache.checkProvider('a');
      await turns();
      assert.equal(view.gets, quiet, 'nobody read lists lately: nothing built ahead');
      assert.deepEqual(await messages(), ['v2', 'v1']);
      assert.equal(view.gets, quiet + 1, 'the request built the changed row');
    } finally {
      handler.close();
      await server.close();
      cache.dispose();
    }
  });
});

describe('a list read after a quiet spell', () => {
  it('builds its rows between turns of the event loop, then answers the same list', async () => {
    const count = 2 * COLD_ROWS;
    const providers = Object.fromEntries(
      Array.from({ length: count }, (_, i) => [
        `p${String(i).padStart(5, '0')}`,
        { healthCheck: () => ({ healthy: i % 3 !== 0 }) },
      ]),
    );
    const { cache } = await demoCache(providers);
    const view = countingView(cache);
    const handler = createHealthHandler(view, { metrics: false, clock: new ManualClock() });
    const server = await serve(handler);
    // What the event loop saw between its turns while the first read was answered.
    const seen = new Set<number>();
    let watching = true;
    const watch = (): void => {
      seen.add(view.gets);
      if (watching) setImmediate(watch);
    };
    try {
      setImmediate(watch);
      // Two reads at once: the second waits for the same build.
      const [cold, twin] = await Promise.all([
        request(`${server.url}/api/providers`),
        request(`${server.url}/api/providers`),
      ]);
      watching = false;
      assert.equal(twin.text, cold.text);
      assert.equal(view.gets, count, 'each row built once');
      const partly = [...seen].filter((gets) => gets > 0 && gets < count);
      assert.ok(
        partly.length > 0,
        `some turns came while the rows were built (seen ${[...seen].join(', ')})`,
      );
      const rows = cold.json<ProviderJSON[]>();
      assert.equal(rows.length, count);
      assert.deepEqual(
        rows.slice(0, 3).map((row) => [row.name, row.healthy]),
        [
          ['p00000', false],
          ['p00001', true],
          ['p00002', true],
        ],
      );
      const gets = view.gets;
      const warm = await request(`${server.url}/api/providers`);
      assert.equal(warm.text, cold.text, 'the next read answers the same bytes');
      assert.equal(view.gets, gets, 'from the rows built then');
    } finally {
      watching = false;
      handler.close();
      await server.close();
      cache.dispose();
    }
  });
});
