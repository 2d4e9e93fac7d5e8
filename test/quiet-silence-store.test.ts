import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { validateLabels } from '../src/labels.js';
import { SilenceSet } from '../src/quiet/silence-set.js';
import { loadSilences, persistSilences, saveSilences, SILENCES_KEY } from '../src/quiet/silence-store.js';
import { FileStateStore } from '../src/state/file-state-store.js';
import { MemoryStateStore } from '../src/state/memory-state-store.js';
import type { JsonValue, StateStore } from '../src/state/state-store.js';
import { ManualClock } from '../src/testing/manual-clock.js';

const START = Date.parse('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;
const prod = validateLabels({ env: 'prod' });
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

function input(matchers: string | string[], duration = HOUR) {
  return { matchers, duration, comment: 'upgrade', createdBy: 'alice' };
}

describe('silences in a state store', () => {
  it('survive a restart through a state file', { timeout: 30_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ph-silences-'));
    dirs.push(dir);
    const file = join(dir, 'state.json');
    const clock = new ManualClock(START);
    const errors: unknown[] = [];

    // First process: add two silences, expire one.
    const first = new SilenceSet({ clock });
    const handle = persistSilences(first, await FileStateStore.open(file), {
      onError: (e) => errors.push(e),
    });
    const kept = first.add(input('env=prod'));
    const gone = first.add(input(['web']));
    first.expire(gone.id);
    await handle.flushed();
    handle.dispose();
    first.dispose();

    // Second process: load, and the silence is in force again.
    const { silences, skipped } = await loadSilences(await FileStateStore.open(file));
    assert.deepEqual(skipped, []);
    assert.deepEqual(silences, [kept]);
    const second = new SilenceSet({ clock });
    second.replace(silences);
    assert.deepEqual(second.silencedBy('db', prod), [kept.id]);
    assert.deepEqual(errors, []);
    second.dispose();
  });

  it('coalesces changes during a write into one more write of the latest list', async () => {
    const clock = new ManualClock(START);
    const set = new SilenceSet({ clock });
    const memory = new MemoryStateStore();
    let writes = 0;
    const counting: StateStore = {
      get: (key, signal) => memory.get(key, signal),
      delete: (key, signal) => memory.delete(key, signal),
      put: async (key, value, signal) => {
        writes++;
        await new Promise((resolve) => setImmediate(resolve));
        await memory.put(key, value, signal);
      },
    };
    const handle = persistSilences(set, counting, { onError: (error) => assert.fail(String(error)) });
    for (let i = 0; i < 10; i++) set.add(input([`p${i}`]));
    await handle.flushed();
    assert.equal(writes, 2);
    assert.equal((await loadSilences(memory)).silences.length, 10);
    handle.dispose();
    set.add(input(['after']));
    await handle.flushed();
    assert.equal(writes, 2);
    set.dispose();
  });

  it('reports a failed write and keeps going', async () => {
    const set = new SilenceSet({ clock: new ManualClock(START) });
    const errors: unknown[] = [];
    let fail = true;
    const memory = new MemoryStateStore();
    const flaky: StateStore = {
      get: (key) => memory.get(key),
      delete: (key) => memory.delete(key),
      put: async (key, value) => {
        if (fail) throw new Error('disk full');
        await memory.put(key, value);
      },
    };
    const handle = persistSilences(set, flaky, { onError: (error) => errors.push(error) });
    set.add(input(['a']));
    await handle.flushed();
    assert.equal((errors[0] as Error).message, 'disk full');
    fail = false;
    set.add(input(['b']));
    await handle.flushed();
    assert.equal((await loadSilences(memory)).silences.length, 2);
    handle.dispose();
    set.dispose();
  });

  it('skips stored entries that do not validate, loading the rest; refuses another shape', async () => {
    const store = new MemoryStateStore();
    const set = new SilenceSet({ clock: new ManualClock(START) });
    const good = set.add(input(['a']));
    await saveSilences(store, [good]);
    const document = (await store.get(SILENCES_KEY)) as { version: number; silences: JsonValue[] };
    await store.put(SILENCES_KEY, { ...document, silences: [...document.silences, { id: 'bad' }] });
    const loaded = await loadSilences(store);
    assert.deepEqual(loaded.silences, [good]);
    assert.equal(loaded.skipped.length, 1);
    assert.equal(loaded.skipped[0]!.index, 1);
    await store.put(SILENCES_KEY, [1, 2]);
    await assert.rejects(loadSilences(store), /is not \{ version: 1, silences/);
    assert.deepEqual(await loadSilences(new MemoryStateStore()), { silences: [], skipped: [] });
    set.dispose();
  });

  it('a corrupt state file still lets silences start empty', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ph-silences-'));
    dirs.push(dir);
    const file = join(dir, 'state.json');
    await writeFile(file, 'garbage');
    const store = await FileStateStore.open(file);
    assert.ok(store.recovered);
    assert.deepEqual(await loadSilences(store), { silences: [], skipped: [] });
  });
});
