import type { Clock, TimerHandle } from './clock.js';
import { toDisposable, type Disposable } from './disposable.js';

/**
 * The one set of abort and timeout helpers, every timer on an injected
 * {@link Clock}. Each releases its timer and its listeners in `finally`, so
 * nothing is left behind whichever way it ends.
 * @internal
 */

/** How a promise settled, or that its signal aborted first. */
export type Settlement<T> =
  | { readonly kind: 'value'; readonly value: T }
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'aborted' };

/** Resolves with how `promise` settled, or `aborted` as soon as `signal` fires. Never rejects. */
export function settleOrAbort<T>(promise: PromiseLike<T>, signal: AbortSignal): Promise<Settlement<T>> {
  return new Promise<Settlement<T>>((resolve) => {
    const onAbort = (): void => resolve({ kind: 'aborted' });
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve({ kind: 'value', value });
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        resolve({ kind: 'error', error });
      },
    );
  });
}

/** Waits for `promise`, rejecting with the signal's reason if `signal` aborts first. */
export async function raceAbort<T>(promise: PromiseLike<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  signal.throwIfAborted();
  const settled = await settleOrAbort(promise, signal);
  if (settled.kind === 'value') return settled.value;
  // Rethrown as they were: what the awaited promise or the signal carried.
  if (settled.kind === 'error') throw settled.error;
  throw signal.reason;
}

/** Options of {@link sleep} and {@link timeoutSignal}. */
export interface TimerOptions {
  /**
   * Keep the process alive until the timer fires. `true` for a timer a caller
   * awaits (a check's timeout inside `checkNow`); background timers leave it off.
   */
  readonly keepAlive?: boolean | undefined;
}

/** Resolves after `ms` on `clock`; rejects with the signal's reason if it aborts first. */
export function sleep(
  clock: Clock,
  ms: number,
  signal?: AbortSignal,
  options: TimerOptions = {},
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer: TimerHandle = clock.setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      ms,
      { keepAlive: options.keepAlive === true },
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** An error like `AbortSignal.timeout`'s: a `DOMException` named `TimeoutError`. */
export function timeoutError(message: string): DOMException {
  return new DOMException(message, 'TimeoutError');
}

/** A signal that aborts after `ms` on `clock` (with `reason`, default a `TimeoutError`), and the handle that clears it. */
export interface TimeoutSignal extends Disposable {
  readonly signal: AbortSignal;
  /** Whether the timeout fired (rather than a parent signal). */
  readonly timedOut: boolean;
}

/**
 * A signal that aborts after `ms` on `clock`, or as soon as any of `parents`
 * aborts (with the parent's reason). Dispose it when the work ends: that
 * clears the timer and the listeners on the parents.
 */
export function timeoutSignal(
  clock: Clock,
  ms: number,
  parents: readonly (AbortSignal | undefined)[] = [],
  options: TimerOptions & { readonly reason?: unknown } = {},
): TimeoutSignal {
  const controller = new AbortController();
  let timedOut = false;
  const timer = clock.setTimeout(
    () => {
      timedOut = true;
      controller.abort(options.reason ?? timeoutError(`timed out after ${ms} ms`));
    },
    ms,
    { keepAlive: options.keepAlive === true },
  );
  const links = parents
    .filter((parent): parent is AbortSignal => parent !== undefined)
    .map((parent) => linkAbort(parent, controller));
  const release = (): void => {
    clock.clearTimeout(timer);
    for (const link of links) link.dispose();
  };
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    dispose: release,
    [Symbol.dispose]: release,
  };
}

/** Aborts `controller` (with the parent's reason) when `parent` aborts; dispose to unlink. */
export function linkAbort(parent: AbortSignal, controller: AbortController): Disposable {
  if (parent.aborted) {
    controller.abort(parent.reason);
    return toDisposable(() => {});
  }
  const onAbort = (): void => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return toDisposable(() => parent.removeEventListener('abort', onAbort));
}

/** Human-readable duration, one style everywhere: `250 ms`, `12 s`, `5 min`, `3 h`, `2 d`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 172_800_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 86_400_000)} d`;
}
