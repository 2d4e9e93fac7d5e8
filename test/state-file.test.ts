import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FileStateStore, MAX_STATE_FILE_BYTES, STATE_FORMAT } from '../src/state/file-state-store.js';
import {
  isStateFileCorruptError,
  isStateVersionError,
  type StateVersionError,
} from '../src/state/state-errors.js';
import { ManualClock } from '../src/testing/manual-clock.js';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ph-state-file-'));
  dirs.push(dir);
  return dir;
}

const clock = new ManualClock(Date.parse('2026-11-30T10:25:26.123Z'));
const STAMP = '2026-11-30T10-25-26-123Z';

describe('FileStateStore', () => {
  it('keeps documents across reopening, in an owner-only file of a documented format', async () => {
    const file = join(await tempDir(), 'nested', 'dir', 'state.json'); // directories are created
    const store = await FileStateStore.open(file);
    assert.equal(store.recovered, undefined);
    await assert.rejects(stat(file), { code: 'ENOENT' }); // nothing written until a put
    await store.put('silences', { version: 1, silences: [] });
    await store.put('alerts', { open: ['db'] });
    assert.equal(await store.delete('alerts'), true);
    const reopened = await FileStateStore.open(file);
    assert.deepEqual(await reopened.get('silences'), { version: 1, silences: [] });
    assert.equal(await reopened.get('alerts'), undefined);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), {
      format: STATE_FORMAT,
      version: 1,
      documents: { silences: { version: 1, silences: [] } },
    });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(join(file, '..')), ['state.json']); // no temp file left
  });

  it('moves a corrupt file aside, reports its path, and starts empty', async () => {
    const dir = await tempDir();
    const file = join(dir, 'state.json');
    await writeFile(file, '{"format": "provider-health-state", "version": 1, "documents": {');
    const store = await FileStateStore.open(file, { clock });
    const report = store.recovered;
    assert.ok(isStateFileCorruptError(report));
    assert.equal(report.path, file);
    assert.equal(report.movedTo, `${file}.corrupt-${STAMP}`);
    assert.match(
      report.message,
      new RegExp(
        `State file ${file} is unreadable or corrupt \\(.*JSON.*\\); moved aside to ${file}\\.corrupt-`,
      ),
    );
    assert.equal(
      await readFile(report.movedTo, 'utf8'),
      '{"format": "provider-health-state", "version": 1, "documents": {',
    );
    assert.equal(await store.get('silences'), undefined);
    await store.put('silences', []);
    assert.deepEqual(await (await FileStateStore.open(file)).get('silences'), []);
  });

  const badShapes: [string, string, RegExp][] = [
    ['an array', '[]', /not a JSON object/],
    ['another format', '{"format":"x","version":1,"documents":{}}', /"format" is not/],
    [
      'no version',
      '{"format":"provider-health-state","documents":{}}',
      /"version" is not a positive integer/,
    ],
    [
      'bad documents',
      '{"format":"provider-health-state","version":1,"documents":[]}',
      /"documents" is not an object/,
    ],
    [
      'a bad key',
      '{"format":"provider-health-state","version":1,"documents":{"a b":1}}',
      /the key "a b" is not valid/,
    ],
    ['an empty file', '', /JSON/],
  ];
  for (const [what, text, reason] of badShapes) {
    it(`treats ${what} as corrupt`, async () => {
      const file = join(await tempDir(), 'state.json');
      await writeFile(file, text);
      const store = await FileStateStore.open(file, { clock });
      assert.match(store.recovered?.reason ?? '', reason);
      assert.equal(await readFile(`${file}.corrupt-${STAMP}`, 'utf8'), text);
    });
  }

  it('moves an unreadable path (a directory) aside', async () => {
    const file = join(await tempDir(), 'state.json');
    await mkdir(file);
    const store = await FileStateStore.open(file, { clock });
    assert.match(store.recovered?.reason ?? '', /^unreadable: .*EISDIR/);
    assert.ok((await stat(`${file}.corrupt-${STAMP}`)).isDirectory());
    await store.put('k', 1);
    assert.equal(await (await FileStateStore.open(file)).get('k'), 1);
  });

  it(`moves a file over ${MAX_STATE_FILE_BYTES} bytes aside without reading it`, async () => {
    const file = join(await tempDir(), 'state.json');
    await writeFile(file, Buffer.alloc(MAX_STATE_FILE_BYTES + 1, 32));
    const store = await FileStateStore.open(file, { clock });
    assert.match(store.recovered?.reason ?? '', new RegExp(`larger than ${MAX_STATE_FILE_BYTES} bytes`));
  });

  it('refuses a file from a newer format version and leaves it untouched', async () => {
    const dir = await tempDir();
    const file = join(dir, 'state.json');
    const text = '{"format":"provider-health-state","version":2,"documents":{"x":{"new":"shape"}}}';
    await writeFile(file, text);
    await assert.rejects(FileStateStore.open(file, { clock }), (error: StateVersionError) => {
      assert.ok(isStateVersionError(error));
      assert.equal(error.path, file);
      assert.equal(error.version, 2);
      assert.equal(error.supported, 1);
      assert.match(
        error.message,
        /has format version 2, newer than this provider-health reads \(1\); it was left untouched/,
      );
      return true;
    });
    assert.equal(await readFile(file, 'utf8'), text);
    assert.deepEqual(await readdir(dir), ['state.json']);
  });

  it('a failed write changes nothing, and the next write works', async () => {
    const dir = await tempDir();
    const file = join(dir, 'sub', 'state.json');
    const store = await FileStateStore.open(file);
    await store.put('k', 'old');
    // Replace the directory by a file: the next write cannot create its temp file.
    await rm(join(dir, 'sub'), { recursive: true });
    await writeFile(join(dir, 'sub'), 'not a directory');
    await assert.rejects(store.put('k', 'new'), /ENOTDIR|EEXIST/);
    assert.equal(await store.get('k'), 'old');
    await rm(join(dir, 'sub'));
    await store.put('k2', 'next');
    assert.equal(await store.get('k'), 'old');
    assert.deepEqual(await (await FileStateStore.open(file)).get('k2'), 'next');
  });

  it('ignores and removes a stray temp file left by a crash', async () => {
    const dir = await tempDir();
    const file = join(dir, 'state.json');
    await (await FileStateStore.open(file)).put('k', 'committed');
    await writeFile(`${file}.tmp-12345-0b6f7a5e-2f4b-4c53-9d3a-1d2e3f4a5b6c`, '{"half":');
    await writeFile(join(dir, 'other.json.tmp-1-x'), 'not ours');
    const store = await FileStateStore.open(file);
    assert.equal(store.recovered, undefined);
    assert.equal(await store.get('k'), 'committed');
    assert.deepEqual((await readdir(dir)).sort(), ['other.json.tmp-1-x', 'state.json']);
  });

  it(
    'a process killed between writing the temp file and the rename leaves the old state whole',
    { timeout: 60_000 },
    async () => {
      const dir = await tempDir();
      const file = join(dir, 'state.json');
      await (await FileStateStore.open(file)).put('k', 'before the crash');
      const storeModule = fileURLToPath(new URL('../src/state/file-state-store.ts', import.meta.url));
      // The child writes, fsyncs, and is SIGKILLed where it would rename: a real crash at the worst moment.
      const child = `
      import fsp from 'node:fs/promises';
      import { syncBuiltinESMExports } from 'node:module';
      fsp.rename = async () => { process.kill(process.pid, 'SIGKILL'); await new Promise(() => {}); };
      syncBuiltinESMExports();
      const { FileStateStore } = await import(${JSON.stringify(storeModule)});
      const store = await FileStateStore.open(${JSON.stringify(file)});
      await store.put('k', 'after the crash');
    `;
      const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], {
        timeout: 50_000,
        encoding: 'utf8',
      });
      assert.equal(result.signal, 'SIGKILL', result.stderr);
      const left = (await readdir(dir)).filter((name) => name.startsWith('state.json.tmp-'));
      assert.equal(left.length, 1, 'the crash left its temp file');
      assert.match(await readFile(join(dir, left[0]!), 'utf8'), /after the crash/);
      const store = await FileStateStore.open(file);
      assert.equal(store.recovered, undefined);
      assert.equal(await store.get('k'), 'before the crash');
      assert.deepEqual(await readdir(dir), ['state.json']);
    },
  );
});
