import type { JsonValue, StateStore } from '../state/state-store.js';
import type { AlertEngineState, AlertStateStore } from './state.js';
import { parseAlertState } from './state-codec.js';

/** The key alert state is kept under in a {@link StateStore} (the CLI's `state.file`). */
export const ALERT_STATE_KEY = 'alerts';

/** Options of {@link openAlertStateDocument}. */
export interface AlertStateDocumentOptions {
  /** Default {@link ALERT_STATE_KEY}. */
  readonly key?: string | undefined;
  /** A stored state that cannot be read (it is then ignored), or a save that failed. */
  readonly onError?: ((error: Error) => void) | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Alert state kept as one document of a {@link StateStore} (single mode's
 * state file), so a restarted process neither re-sends what it delivered nor
 * forgets what was firing. Reads the document once; a document that does not
 * parse is reported through `onError` and the engine starts empty. Saves are
 * written one at a time in order, the newest state last; each save's promise
 * settles when that state (or a newer one) is stored.
 */
export async function openAlertStateDocument(
  store: StateStore,
  options: AlertStateDocumentOptions = {},
): Promise<AlertStateStore> {
  const key = options.key ?? ALERT_STATE_KEY;
  const report = (error: unknown): void =>
    options.onError?.(error instanceof Error ? error : new Error(String(error)));
  let loaded: AlertEngineState | undefined;
  const stored = await store.get(key, options.signal);
  if (stored !== undefined) {
    try {
      loaded = parseAlertState(stored);
    } catch (error) {
      report(error);
    }
  }
  let pending: AlertEngineState | undefined;
  let writing: Promise<void> | undefined;
  const drain = async (): Promise<void> => {
    // One write at a time: a newer state queued meanwhile is written next, older ones are skipped.
    while (pending !== undefined) {
      const state = pending;
      pending = undefined;
      try {
        await store.put(key, state as unknown as JsonValue);
      } catch (error) {
        report(error);
      }
    }
    writing = undefined;
  };
  return {
    load: () => loaded,
    save(state: AlertEngineState): Promise<void> {
      pending = state;
      writing ??= drain();
      return writing;
    },
  };
}
