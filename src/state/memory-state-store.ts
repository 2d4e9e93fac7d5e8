import {
  assertRoomFor,
  assertStateKey,
  serialiseDocument,
  type JsonValue,
  type StateStore,
} from './state-store.js';

/**
 * A {@link StateStore} in memory: nothing outlives the process. For tests, and
 * for running without a `state.file`. Documents are kept serialised, so what
 * goes in and comes out are copies.
 */
export class MemoryStateStore implements StateStore {
  readonly #documents = new Map<string, string>();

  get(key: string, signal?: AbortSignal): Promise<JsonValue | undefined> {
    return run(signal, () => {
      assertStateKey(key);
      const text = this.#documents.get(key);
      return text === undefined ? undefined : (JSON.parse(text) as JsonValue);
    });
  }

  put(key: string, value: JsonValue, signal?: AbortSignal): Promise<void> {
    return run(signal, () => {
      assertStateKey(key);
      const text = serialiseDocument(key, value);
      assertRoomFor(key, this.#documents);
      this.#documents.set(key, text);
    });
  }

  delete(key: string, signal?: AbortSignal): Promise<boolean> {
    return run(signal, () => {
      assertStateKey(key);
      return this.#documents.delete(key);
    });
  }
}

/** Runs `fn` unless `signal` has aborted, as a promise (errors reject, never throw). */
async function run<T>(signal: AbortSignal | undefined, fn: () => T): Promise<T> {
  signal?.throwIfAborted();
  return fn();
}
