import { toDisposable, type Disposable } from './disposable.js';

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
