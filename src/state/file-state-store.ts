import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import { StateFileCorruptError, StateVersionError } from './state-errors.js';
import {
  assertRoomFor,
  assertStateKey,
  serialiseDocument,
  STATE_KEY,
  type JsonValue,
  type StateStore,
} from './state-store.js';

/** The `format` field of a state file. */
export const STATE_FORMAT = 'provider-health-state';
/** The format version this code writes and reads; a file with a higher one is refused. */
export const STATE_VERSION = 1;
/**
 * The largest state file read or written: 32 MiB. Room for the history of
 * `serve` (about 1.5 KB a provider: 10,000 providers take 15 MB, and up to
 * 24 MiB of it is kept) besides the silences (one 4 MiB document at most).
 */
export const MAX_STATE_FILE_BYTES = 32 * 1024 * 1024;

/** Options of {@link FileStateStore.open}. */
export interface FileStateStoreOptions {
  /** Names a corrupt file moved aside (`<file>.corrupt-<time>`). Default the system clock. */
  readonly clock?: Clock | undefined;
  /** Aborts the opening. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * A {@link StateStore} in one JSON file (`state.file`), owned by one process.
 * Every change rewrites the file atomically: a temp file in the same
 * directory, fsync, rename over the file, fsync of the directory; a crash
 * leaves the old file or the new one, never half of one. Changes are applied
 * one at a time in call order.
 *
 * {@link open} starts empty when the file is missing; when it is unreadable
 * or corrupt it is moved aside and reported in {@link recovered}; a file
 * written by a newer version is refused ({@link StateVersionError}) and left
 * as it is. Temp files left by a crash are removed.
 */
export class FileStateStore implements StateStore {
  /** The absolute path of the state file. */
  readonly file: string;
  /** Set when the file was unreadable or corrupt, moved aside, and the store started empty. */
  readonly recovered: StateFileCorruptError | undefined;
  #documents: ReadonlyMap<string, string>;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(
    file: string,
    documents: Map<string, string>,
    recovered: StateFileCorruptError | undefined,
  ) {
    this.file = file;
    this.#documents = documents;
    this.recovered = recovered;
  }

  /**
   * Opens the store on `file` (created on the first `put`).
   * @throws StateVersionError for a file of a newer format version (left untouched);
   *   StateFileCorruptError when a bad file cannot be moved aside; the signal's reason.
   */
  static async open(file: string, options: FileStateStoreOptions = {}): Promise<FileStateStore> {
    if (typeof file !== 'string' || file === '') throw new TypeError('state: file must be a non-empty path');
    const path = resolve(file);
    options.signal?.throwIfAborted();
    await removeStrayTemps(path);
    const { documents, recovered } = await load(path, options.clock ?? systemClock, options.signal);
    return new FileStateStore(path, documents, recovered);
  }

  get(key: string, signal?: AbortSignal): Promise<JsonValue | undefined> {
    return Promise.resolve().then(() => {
      signal?.throwIfAborted();
      assertStateKey(key);
      const text = this.#documents.get(key);
      return text === undefined ? undefined : (JSON.parse(text) as JsonValue);
    });
  }

  async put(key: string, value: JsonValue, signal?: AbortSignal): Promise<void> {
    // Validated before queueing, so a bad document fails without waiting behind other writes.
    assertStateKey(key);
    const text = serialiseDocument(key, value);
    await this.#change(signal, (documents) => {
      assertRoomFor(key, documents);
      documents.set(key, text);
      return true;
    });
  }

  /**
   * Puts and deletes several documents in one atomic write (`undefined`
   * deletes its key): the file holds all of the changes or none.
   * @throws as {@link put}, before anything is written.
   */
  async putMany(changes: ReadonlyMap<string, JsonValue | undefined>, signal?: AbortSignal): Promise<void> {
    const texts = new Map<string, string | undefined>();
    for (const [key, value] of changes) {
      assertStateKey(key);
      texts.set(key, value === undefined ? undefined : serialiseDocument(key, value));
    }
    await this.#change(signal, (documents) => {
      for (const [key, text] of texts) {
        if (text === undefined) documents.delete(key);
        else {
          assertRoomFor(key, documents);
          documents.set(key, text);
        }
      }
      return true;
    });
  }

  async delete(key: string, signal?: AbortSignal): Promise<boolean> {
    assertStateKey(key);
    return this.#change(signal, (documents) => documents.delete(key));
  }

  /** Applies `edit` to a copy, writes it, and keeps it only once written. Queued behind earlier changes. */
  #change(
    signal: AbortSignal | undefined,
    edit: (documents: Map<string, string>) => boolean,
  ): Promise<boolean> {
    const task = this.#queue.then(async () => {
      signal?.throwIfAborted();
      const next = new Map(this.#documents);
      if (!edit(next)) return false;
      await writeAtomically(this.file, render(next), signal);
      this.#documents = next;
      return true;
    });
    this.#queue = task.catch(() => {});
    return task;
  }
}

/** The file's text: the documents are already serialised, so they are joined, not re-encoded. */
function render(documents: ReadonlyMap<string, string>): string {
  const entries = [...documents].map(([key, text]) => `${JSON.stringify(key)}:${text}`);
  const text = `{"format":${JSON.stringify(STATE_FORMAT)},"version":${STATE_VERSION},"documents":{${entries.join(',')}}}\n`;
  if (Buffer.byteLength(text) > MAX_STATE_FILE_BYTES)
    throw new RangeError(`state: the state file would be larger than ${MAX_STATE_FILE_BYTES} bytes`);
  return text;
}

/** Temp files of this state file: `<name>.tmp-<pid>-<uuid>`. */
function tempPrefix(file: string): string {
  return `${basename(file)}.tmp-`;
}

/** Removes temp files a crash left between write and rename. A missing directory has none. */
async function removeStrayTemps(file: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dirname(file));
  } catch {
    return;
  }
  const prefix = tempPrefix(file);
  await Promise.all(
    names
      .filter((name) => name.startsWith(prefix))
      .map((name) => rm(join(dirname(file), name), { force: true })),
  );
}

async function writeAtomically(file: string, text: string, signal: AbortSignal | undefined): Promise<void> {
  const temp = join(dirname(file), `${tempPrefix(file)}${process.pid}-${randomUUID()}`);
  let renamed = false;
  await mkdir(dirname(file), { recursive: true });
  // Owner-only: silence comments and alert state are nobody else's business.
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(text, signal === undefined ? {} : { signal });
    await handle.sync();
    await handle.close();
    signal?.throwIfAborted();
    await rename(temp, file);
    renamed = true;
    await syncDirectory(dirname(file));
  } finally {
    await handle.close().catch(() => {}); // already closed on the good path
    if (!renamed) await rm(temp, { force: true });
  }
}

/** Makes the rename durable. Some platforms cannot open a directory: the rename itself is then all we have. */
async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Not fatal: the data is written, only its durability across a power loss is weaker.
  }
}

interface Loaded {
  readonly documents: Map<string, string>;
  readonly recovered: StateFileCorruptError | undefined;
}

/** Reads the file; a missing one is empty; a bad one is moved aside. */
async function load(file: string, clock: Clock, signal: AbortSignal | undefined): Promise<Loaded> {
  let text: string;
  try {
    const size = (await stat(file)).size;
    if (size > MAX_STATE_FILE_BYTES)
      throw new RangeError(`larger than ${MAX_STATE_FILE_BYTES} bytes (${size})`);
    text = await readFile(file, { encoding: 'utf8', signal });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { documents: new Map(), recovered: undefined };
    if (signal?.aborted) throw signal.reason;
    return moveAside(file, clock, `unreadable: ${(error as Error).message}`);
  }
  let documents: Map<string, string>;
  try {
    documents = parseStateFile(text, file);
  } catch (error) {
    if (error instanceof StateVersionError) throw error;
    return moveAside(file, clock, (error as Error).message);
  }
  return { documents, recovered: undefined };
}

/** The documents of a state file, each re-serialised. Throws a plain Error naming what is wrong. */
function parseStateFile(text: string, file: string): Map<string, string> {
  const data = JSON.parse(text) as unknown;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error('not a JSON object');
  const { format, version, documents } = data as Record<string, unknown>;
  if (format !== STATE_FORMAT) throw new Error(`"format" is not ${JSON.stringify(STATE_FORMAT)}`);
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1)
    throw new Error('"version" is not a positive integer');
  if (version > STATE_VERSION) throw new StateVersionError(file, version, STATE_VERSION);
  if (typeof documents !== 'object' || documents === null || Array.isArray(documents))
    throw new Error('"documents" is not an object');
  const result = new Map<string, string>();
  for (const [key, value] of Object.entries(documents)) {
    if (!STATE_KEY.test(key)) throw new Error(`the key ${JSON.stringify(key.slice(0, 60))} is not valid`);
    result.set(key, JSON.stringify(value));
  }
  return result;
}

/** Moves a bad file to `<file>.corrupt-<time>` and starts empty; if it cannot be moved, refuses to start over it. */
async function moveAside(file: string, clock: Clock, reason: string): Promise<Loaded> {
  const stamp = new Date(clock.now()).toISOString().replace(/[:.]/g, '-');
  const movedTo = `${file}.corrupt-${stamp}`;
  try {
    await rename(file, movedTo);
  } catch (error) {
    throw new StateFileCorruptError(
      file,
      `${reason}; moving it aside failed too (${(error as Error).message})`,
      undefined,
    );
  }
  return { documents: new Map(), recovered: new StateFileCorruptError(file, reason, movedTo) };
}
