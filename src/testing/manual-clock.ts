import type { Clock, TimerHandle } from '../clock.js';

/**
 * The most timers one `advance` fires. A timer loop that never lets time move
 * (a zero-delay timer re-armed forever) throws instead of spinning, so the test
 * fails fast and clearly.
 */
const MAX_TIMERS_PER_ADVANCE = 10_000;

interface ManualTimer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/**
 * A {@link Clock} that moves only when told to, for tests: `advance(ms)` runs
 * every timer that falls due, in order, letting promises settle between them.
 *
 * ```ts
 * const clock = new ManualClock();
 * const cache = new HealthCache(registry, { clock });
 * await clock.advance(30_000); // the next sweep runs
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers: ManualTimer[] = [];

  /** @param start The initial time, ms since the epoch. Default 2026-01-01T00:00:00Z. */
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, delay: number): TimerHandle {
    const timer = { id: this.#nextId++, at: this.#now + Math.max(0, delay), callback };
    this.#timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((timer) => timer.id !== handle);
  }

  /** Timers scheduled and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing due timers in order and settling promises after each. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (let fired = 0; ; fired++) {
      if (fired === MAX_TIMERS_PER_ADVANCE) {
        throw new Error(
          `ManualClock.advance(${ms}) fired ${MAX_TIMERS_PER_ADVANCE} timers without reaching its target: a timer loop?`,
        );
      }
      const due = this.#timers
        .filter((timer) => timer.at <= target)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.#timers = this.#timers.filter((timer) => timer !== due);
      this.#now = Math.max(this.#now, due.at);
      due.callback();
      await settle();
    }
    this.#now = target;
    await settle();
  }

  /** Lets pending promise callbacks run without moving time. */
  async settle(): Promise<void> {
    await settle();
  }
}

/** Runs every queued microtask and one turn of I/O callbacks. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
