import type { Clock, TimerHandle } from './clock.js';

/**
 * When the store's snapshot may be rebuilt. Rebuilding is O(n), so while
 * results stream in (a sweep of 100,000 providers changes 100,000 statuses)
 * a reader polling `snapshot()` must not rebuild after every result.
 *
 * A change opens the gate at once when no publish window is running (the
 * first change after a quiet interval is never delayed) and starts a window
 * of `interval` ms; further changes within it wait for its end. A read
 * rebuilds only when something changed and the gate is open, and closes it.
 * So a snapshot trails a change by at most `interval` (plus timer lateness).
 * `publishNow` opens it at once (a sweep's end, a removal, staleness).
 *
 * Reads ({@link SnapshotGate.take}) never read the clock nor set timers: the
 * window's timer is set by the change that started it. @internal
 */
export class SnapshotGate {
  readonly #clock: Clock;
  readonly #interval: number;
  /** Something changed since the last rebuild. */
  #dirty = false;
  /** A read may rebuild now. */
  #open = true;
  #window: TimerHandle;
  #windowRunning = false;
  #disposed = false;

  constructor(clock: Clock, interval: number) {
    this.#clock = clock;
    this.#interval = interval;
  }

  /** A status changed as results stream in (a check's result, a restore). */
  changed(): void {
    this.#dirty = true;
    if (this.#windowRunning) return;
    this.#open = true;
    // With no interval (or after dispose: no more timers) every change is published at once.
    if (this.#interval === 0 || this.#disposed) return;
    this.#windowRunning = true;
    // A background timer: a pending publication never keeps a program alive.
    this.#window = this.#clock.setTimeout(() => this.#windowEnded(), this.#interval);
  }

  /** A change readers must see at once: the end of a sweep, a removal, staleness. */
  publishNow(): void {
    this.#dirty = true;
    this.#open = true;
  }

  /**
   * The end of a sweep: whatever it changed is published now, and the window
   * ends, so the next sweep's first result is published at once too.
   */
  sweepEnded(): void {
    if (this.#dirty) this.#open = true;
    this.#endWindow();
  }

  /** For a read: whether to rebuild now (and, if so, the gate closes). No clock, no timers. */
  take(): boolean {
    if (!this.#dirty || !this.#open) return false;
    this.#dirty = false;
    this.#open = false;
    return true;
  }

  /** Stops the window's timer for good; from now on every change is published at once. */
  dispose(): void {
    this.#disposed = true;
    this.#endWindow();
    this.#open = true;
  }

  #windowEnded(): void {
    this.#window = undefined;
    this.#windowRunning = false;
    if (this.#dirty) this.#open = true;
  }

  #endWindow(): void {
    if (!this.#windowRunning) return;
    this.#clock.clearTimeout(this.#window);
    this.#window = undefined;
    this.#windowRunning = false;
  }
}
