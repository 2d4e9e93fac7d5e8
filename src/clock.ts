/** An opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/** Options of {@link Clock.setTimeout}. */
export interface ClockTimerOptions {
  /** Keep the process alive until the timer fires or is cleared. Default `false`. */
  readonly keepAlive?: boolean | undefined;
}

/**
 * The source of time for the cache. Inject one (for example `ManualClock` from
 * `provider-health/testing`) so tests advance time instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch; may carry a fraction. */
  now(): number;
  /**
   * Calls `callback` once after `delay` ms. Must not keep the process alive
   * unless `options.keepAlive` is set (a timer somebody awaits, such as a
   * check's timeout inside `checkNow`).
   */
  setTimeout(callback: () => void, delay: number, options?: ClockTimerOptions): TimerHandle;
  /** Cancels a timer; a handle that already fired or was cleared is ignored. */
  clearTimeout(handle: TimerHandle): void;
}

const origin = performance.timeOrigin;

/**
 * The real clock. `now()` is `performance.timeOrigin + performance.now()`:
 * wall time with sub-millisecond resolution that never steps backwards, so
 * latencies measured from it are never negative. Its timers are `unref()`ed
 * unless `keepAlive` is asked for: a background poller alone never keeps a
 * program running, while a caller awaiting a check is not left hanging.
 */
export const systemClock: Clock = Object.freeze({
  now: () => origin + performance.now(),
  setTimeout(callback: () => void, delay: number, options?: ClockTimerOptions): TimerHandle {
    const timer = setTimeout(callback, delay);
    if (options?.keepAlive !== true) timer.unref();
    return timer;
  },
  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as NodeJS.Timeout);
  },
});
