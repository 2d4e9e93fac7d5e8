/**
 * One small store for what must outlive a process (silences, alert state,
 * history buckets): JSON documents by key. In single mode a file
 * ({@link FileStateStore}), in shared mode Redis; {@link MemoryStateStore} for
 * tests and for running without persistence.
 */

/** A JSON document. */
export type JsonValue =
  null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** The largest document, serialised: 4 MiB. */
export const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;
/** The most keys in one store. */
export const MAX_STATE_KEYS = 256;
/** Keys: 1 to 128 characters of letters, digits and `._:-`, starting with a letter or digit. */
export const STATE_KEY = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * JSON documents by key. Every method takes an optional `AbortSignal` and
 * rejects with its reason if it aborts before the operation takes effect; a
 * `put` either takes effect whole or not at all. Values are copied in and
 * out: changing one afterwards changes nothing stored.
 */
export interface StateStore {
  /** The document under `key`, or `undefined`. */
  get(key: string, signal?: AbortSignal): Promise<JsonValue | undefined>;
  /**
   * Stores `value` under `key`, replacing any document there.
   * @throws TypeError for a bad key or a value JSON cannot hold; RangeError past
   *   {@link MAX_DOCUMENT_BYTES} or {@link MAX_STATE_KEYS}.
   */
  put(key: string, value: JsonValue, signal?: AbortSignal): Promise<void>;
  /** Removes `key`; `false` when there was nothing under it. */
  delete(key: string, signal?: AbortSignal): Promise<boolean>;
}

/** Throws a TypeError naming the key unless it matches {@link STATE_KEY}. @internal */
export function assertStateKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || !STATE_KEY.test(key)) {
    const shown = typeof key === 'string' ? JSON.stringify(key.slice(0, 60)) : typeof key;
    throw new TypeError(
      `state: a key must be 1 to 128 characters of [A-Za-z0-9._:-] starting with a letter or digit, got ${shown}`,
    );
  }
}

/**
 * The serialised form of `value` for `key`, checked against the bounds.
 * @internal
 */
export function serialiseDocument(key: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(
      `state: the document for ${JSON.stringify(key)} is not JSON (${(error as Error).message})`,
      { cause: error },
    );
  }
  if (text === undefined)
    throw new TypeError(`state: the document for ${JSON.stringify(key)} is not JSON (got ${typeof value})`);
  if (Buffer.byteLength(text) > MAX_DOCUMENT_BYTES)
    throw new RangeError(
      `state: the document for ${JSON.stringify(key)} is larger than ${MAX_DOCUMENT_BYTES} bytes`,
    );
  return text;
}

/** Refuses a new key past {@link MAX_STATE_KEYS}. @internal */
export function assertRoomFor(key: string, keys: ReadonlyMap<string, unknown>): void {
  if (!keys.has(key) && keys.size >= MAX_STATE_KEYS)
    throw new RangeError(`state: ${MAX_STATE_KEYS} keys are already stored, the most allowed`);
}
