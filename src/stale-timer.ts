import type { Clock, TimerHandle } from './clock.js';

/**
 * The store's one stale timer: armed for the earliest deadline asked for,
 * it calls `due` then (the store marks what is due and arms it again for the
 * next deadline). A background timer: staleness alone never keeps a program
 * alive. @internal
 */
export class StaleTimer {
  readonly #clock: Clock;
  readonly #due: () => void;
  #timer: TimerHandle;
  /** When the timer fires; `Infinity` when none is armed. */
  #at = Infinity;
  #disposed = false;

  constructor(clock: Clock, due: () => void) {
    this.#clock = clock;
    this.#due = due;
  }

  /** Makes sure `due` runs no later than `deadline`. */
  watch(deadline: number): void {
    if (this.#disposed || deadline >= this.#at) return;
    this.#clock.clearTimeout(this.#timer);
    this.#at = deadline;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), Math.max(0, deadline - this.#clock.now()));
  }

  /** Stops the timer for good. */
  dispose(): void {
    this.#disposed = true;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#at = Infinity;
  }

  /** Forgets the armed deadline (the store is about to mark what is due and arm it again). */
  reset(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#at = Infinity;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#at = Infinity;
    this.#due();
  }
}
