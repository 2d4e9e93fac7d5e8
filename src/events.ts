import { toDisposable, type Disposable } from './disposable.js';
import type { HistorySample } from './history.js';
import type { HealthState, Status } from './status.js';

/**
 * A typed event: call it with a listener to subscribe; the returned
 * {@link Disposable} unsubscribes. Passing `{ signal }` unsubscribes when the
 * signal aborts.
 */
export type HealthEvent<T> = (listener: (value: T) => void, options?: { signal?: AbortSignal }) => Disposable;

/**
 * Owns the listeners of one {@link HealthEvent}. A listener that throws is
 * reported to `onListenerError` and never disturbs the emitter or the other
 * listeners. @internal
 */
export class Emitter<T> {
  // Copy-on-write, so a listener that unsubscribes during emit does not skip its neighbour.
  #listeners: readonly ((value: T) => void)[] = [];
  readonly #onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void) {
    this.#onListenerError = onListenerError;
  }

  /** The number of current listeners. */
  get size(): number {
    return this.#listeners.length;
  }

  /** The subscription function handed to users. */
  readonly event: HealthEvent<T> = (listener, options) => {
    const signal = options?.signal;
    if (signal?.aborted) return toDisposable(() => {});
    // Wrap so the same function subscribed twice gets two independent subscriptions.
    const entry = (value: T): void => listener(value);
    this.#listeners = [...this.#listeners, entry];
    const onAbort = (): void => subscription.dispose();
    const subscription = toDisposable(() => {
      this.#listeners = this.#listeners.filter((l) => l !== entry);
      signal?.removeEventListener('abort', onAbort);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    return subscription;
  };

  /** Calls every listener with `value`. */
  emit(value: T): void {
    for (const listener of this.#listeners) {
      try {
        listener(value);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }
}

// ---- payloads of the cache's events ------------------------------------------

/** Every result of a check, emitted by `onResult`. */
export interface CheckResult {
  readonly name: string;
  readonly status: Status;
  /** The status this result replaced; `undefined` for the first. */
  readonly previous: Status | undefined;
  /**
   * The raw result behind `status`, before thresholds (what the history keeps):
   * replicas share it instead of rebuilding it from the history.
   */
  readonly sample: HistorySample;
}

/** A change of state, emitted by `onTransition`; the first result counts (from `unknown`). */
export interface Transition {
  readonly name: string;
  readonly from: HealthState;
  readonly to: HealthState;
  readonly status: Status;
}

/** A provider dropped from the cache, emitted by `onRemove`. */
export interface Removal {
  readonly name: string;
  /** Its last status; `undefined` when it was never checked. */
  readonly status: Status | undefined;
}

/** Anything that changed what `get`/`snapshot` return, emitted by `onChange`. */
export interface StatusChange {
  readonly name: string;
  /** The new status; `undefined` when the provider was removed. */
  readonly status: Status | undefined;
}

/** One finished sweep, emitted by `onSweep`. */
export interface SweepSummary {
  readonly startedAt: Date;
  /** Milliseconds. */
  readonly duration: number;
  /** How many providers were checked. */
  readonly checked: number;
  /** `false` for a sweep of only some providers (new registrations, a one-provider refresh). */
  readonly full: boolean;
}

/**
 * A check that failed because of this service, not the provider, emitted by
 * `onCheckerFault`. Nothing is recorded against the provider: its previous
 * status stays (and turns stale if the fault lasts longer than `staleAfter`).
 */
export interface CheckerFault {
  readonly name: string;
  /** `resource-exhausted`: this process ran out of file descriptors (`EMFILE`, `ENFILE`). */
  readonly kind: 'resource-exhausted';
  /** The system error code, such as `EMFILE`. */
  readonly code: string;
  /** What the check said, cleaned like a status message. */
  readonly message: string;
  readonly at: Date;
  /** The status kept; `undefined` when the provider was never checked. */
  readonly status: Status | undefined;
}
