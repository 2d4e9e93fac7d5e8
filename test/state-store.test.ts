import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { FileStateStore } from '../src/state/file-state-store.js';
import { MemoryStateStore } from '../src/state/memory-state-store.js';
import {
  MAX_DOCUMENT_BYTES,
  MAX_STATE_KEYS,
  type JsonValue,
  type StateStore,
} from '../src/state/state-store.js';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ph-state-'));
  dirs.push(dir);
  return join(dir, 'state.json');
}

const stores: [string, () => Promise<StateStore>][] = [
  ['MemoryStateStore', () => Promise.resolve(new MemoryStateStore())],
  ['FileStateStore', async () => FileStateStore.open(await tempFile())],
];

/** The contract every StateStore keeps; the Redis store will run the same. */
for (const [name, create] of stores) {
  describe(`${name} (StateStore contract)`, () => {
    it('gets what was put, as a copy; deletes', async () => {
      const store = await create();
      assert.equal(await store.get('silences'), undefined);
      const value = { version: 1, silences: [{ id: 'a', tags: ['x'] }] };
      await store.put('silences', value);
      value.silences[0]!.id = 'changed';
      const got = (await store.get('silences')) as typeof value;
      assert.deepEqual(got, { version: 1, silences: [{ id: 'a', tags: ['x'] }] });
      got.version = 2;
      assert.deepEqual(await store.get('silences'), { version: 1, silences: [{ id: 'a', tags: ['x'] }] });
      await store.put('silences', null);
      assert.equal(await store.get('silences'), null);
      assert.equal(await store.delete('silences'), true);
      assert.equal(await store.delete('silences'), false);
      assert.equal(await store.get('silences'), undefined);
    });

    it('refuses bad keys and non-JSON values, storing nothing', async () => {
      const store = await create();
      for (const key of ['', '-x', 'a b', 'k'.repeat(129), '__proto__', 'a/b']) {
        await assert.rejects(store.put(key, 1), /state: a key must be/);
        await assert.rejects(store.get(key), TypeError);
      }
      await assert.rejects(
        store.put('x', undefined as unknown as JsonValue),
        /is not JSON \(got undefined\)/,
      );
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await assert.rejects(store.put('x', cyclic as JsonValue), /is not JSON/);
      await assert.rejects(store.put('x', 10n as unknown as JsonValue), /is not JSON/);
      assert.equal(await store.get('x'), undefined);
    });

    it(`bounds a document to ${MAX_DOCUMENT_BYTES} bytes and the store to ${MAX_STATE_KEYS} keys`, async () => {
      const store = await create();
      await assert.rejects(store.put('big', 'x'.repeat(MAX_DOCUMENT_BYTES)), RangeError);
      assert.equal(await store.get('big'), undefined);
      for (let i = 0; i < MAX_STATE_KEYS; i++) await store.put(`k${i}`, i);
      await assert.rejects(store.put('one-more', 1), /256 keys are already stored/);
      await store.put('k0', 'replacing is fine');
      assert.equal(await store.get('k0'), 'replacing is fine');
    });

    it('honours an aborted signal: nothing changes', async () => {
      const store = await create();
      const aborted = AbortSignal.abort(new Error('stop'));
      await assert.rejects(store.put('k', 1, aborted), /stop/);
      await assert.rejects(store.get('k', aborted), /stop/);
      await assert.rejects(store.delete('k', aborted), /stop/);
      assert.equal(await store.get('k'), undefined);
    });

    it('applies concurrent puts in call order', async () => {
      const store = await create();
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.put('counter', i)));
      assert.equal(await store.get('counter'), 19);
    });

    it('keeps any JSON document intact (property)', async () => {
      const store = await create();
      await fc.assert(
        fc.asyncProperty(fc.jsonValue(), async (value) => {
          await store.put('doc', value as JsonValue);
          // JSON itself turns -0 into 0: compare with what JSON keeps.
          assert.deepEqual(await store.get('doc'), JSON.parse(JSON.stringify(value)));
        }),
        { numRuns: name === 'FileStateStore' ? 50 : 200 },
      );
    });
  });
}
