import type { Disposable } from '../disposable.js';
import { toDisposable } from '../disposable.js';
import type { JsonValue, StateStore } from '../state/state-store.js';
import { parseStoredSilence, silenceToJSON, type Silence } from './silence.js';
import type { SilenceSet } from './silence-set.js';

/**
 * Keeps a {@link SilenceSet} in a {@link StateStore} (a state file in single
 * mode), so silences survive a restart. The document under
 * {@link SILENCES_KEY} is `{ version: 1, silences: SilenceJSON[] }`.
 */

/** The state store key of the silences document. */
export const SILENCES_KEY = 'silences';

/** A stored silence that failed validation and was skipped. */
export interface SkippedSilence {
  readonly index: number;
  readonly error: Error;
}

/** What {@link loadSilences} found. */
export interface LoadedSilences {
  readonly silences: readonly Silence[];
  /** Entries that did not validate (reported, not fatal: the others still load). */
  readonly skipped: readonly SkippedSilence[];
}

/** Reads the silences document; a missing one is empty. @throws TypeError for a document of another shape. */
export async function loadSilences(store: StateStore, signal?: AbortSignal): Promise<LoadedSilences> {
  const document = await store.get(SILENCES_KEY, signal);
  if (document === undefined) return { silences: [], skipped: [] };
  const fields =
    typeof document === 'object' && document !== null && !Array.isArray(document)
      ? (document as Record<string, unknown>)
      : {};
  const list = fields.silences;
  if (!Array.isArray(list) || fields.version !== 1)
    throw new TypeError(`state: the "${SILENCES_KEY}" document is not { version: 1, silences: [...] }`);
  const silences: Silence[] = [];
  const skipped: SkippedSilence[] = [];
  list.forEach((entry, index) => {
    try {
      silences.push(parseStoredSilence(entry));
    } catch (error) {
      skipped.push({ index, error: error as Error });
    }
  });
  return { silences, skipped };
}

/** Writes `silences` as the silences document. */
export async function saveSilences(
  store: StateStore,
  silences: readonly Silence[],
  signal?: AbortSignal,
): Promise<void> {
  const document = { version: 1, silences: silences.map(silenceToJSON) } as unknown as JsonValue;
  await store.put(SILENCES_KEY, document, signal);
}

/** Options of {@link persistSilences}. */
export interface PersistOptions {
  /** A write failed (the set keeps working in memory; the next change writes again). */
  readonly onError: (error: unknown) => void;
  /** Stops following the set. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Writes the set's silences to `store` after every change. Writes never
 * overlap: changes during a write are coalesced into one more write of the
 * latest list. Dispose (or abort) to stop; {@link PersistHandle.flushed} waits
 * for the write in progress.
 */
export function persistSilences(set: SilenceSet, store: StateStore, options: PersistOptions): PersistHandle {
  let writing: Promise<void> | undefined;
  let again = false;
  const write = (): void => {
    if (writing !== undefined) {
      again = true;
      return;
    }
    writing = saveSilences(store, set.list(), options.signal)
      .catch((error: unknown) => {
        if (options.signal?.aborted !== true) options.onError(error);
      })
      .finally(() => {
        writing = undefined;
        if (again && options.signal?.aborted !== true) {
          again = false;
          write();
        }
      });
  };
  const follow = options.signal === undefined ? {} : { signal: options.signal };
  const subscriptions = [set.onAdded(write, follow), set.onExpired(write, follow)];
  const handle = toDisposable(() => {
    for (const subscription of subscriptions) subscription.dispose();
  });
  return Object.assign(handle, {
    async flushed(): Promise<void> {
      while (writing !== undefined) await writing;
    },
  });
}

/** What {@link persistSilences} returns. */
export interface PersistHandle extends Disposable {
  /** Resolves when no write is in progress or queued. */
  flushed(): Promise<void>;
}
