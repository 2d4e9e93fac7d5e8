import type { Clock, TimerHandle } from '../clock.js';

/**
 * Runs `action` at the first {@link Throttle.poke} after a quiet `interval`,
 * and then at most once per `interval` while pokes keep coming (a trailing
 * run collects every poke made meanwhile). `0` runs on every poke. The interval may be a
 * function, asked at each poke (an adaptive rate). Its one
 * timer is a background timer: nobody awaits it, so it never keeps the
 * process alive. @internal
 */
export class Throttle {
  readonly #clock: Clock;
  readonly #interval: number | (() => number);
  readonly #action: () => void;
  #last = -Infinity;
  #timer: TimerHandle;
  #pending = false;

  constructor(clock: Clock, interval: number | (() => number), action: () => void) {
    this.#clock = clock;
    this.#interval = interval;
    this.#action = action;
  }

  /** Whether a trailing run is scheduled. */
  get pending(): boolean {
    return this.#pending;
  }

  /** Asks for a run: now after a quiet interval, otherwise when the interval ends. */
  poke(): void {
    if (this.#pending) return;
    const interval = typeof this.#interval === 'number' ? this.#interval : this.#interval();
    const wait = this.#last + interval - this.#clock.now();
    if (wait <= 0) return this.run();
    this.#pending = true;
    this.#timer = this.#clock.setTimeout(() => this.run(), wait);
  }

  /** Runs now, cancelling a scheduled run; the interval starts again. */
  run(): void {
    this.cancel();
    this.#last = this.#clock.now();
    this.#action();
  }

  /** Forgets a scheduled run and releases its timer. */
  cancel(): void {
    if (this.#pending) this.#clock.clearTimeout(this.#timer);
    this.#pending = false;
    this.#timer = undefined;
  }
}
