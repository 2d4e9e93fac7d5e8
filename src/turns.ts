/**
 * Longest stretch of synchronous sweep work before the event loop gets a
 * turn (ms). Short, because a request that arrives during a slice waits for
 * its end: with 5 ms, 10 dashboard clients at 10,000 providers spent a
 * quarter of each sweep waiting; at 1 ms the sweep mostly runs while the
 * clients read their answers. A turn costs a few µs, about 1% at this slice.
 */
export const TURN_SLICE = 1;

/**
 * Gives the event loop a turn after every `slice` ms of work, for loops
 * that run on promise callbacks alone (a sweep of checkers that answer
 * synchronously never reaches the event loop: 10,000 of them held it for a
 * whole second, so the HTTP surface could not answer during the sweep).
 *
 * Why `setImmediate`: it runs right after the event loop has polled for I/O,
 * so waiting requests are served and the work resumes with no minimum delay
 * (a 0 ms timer waits at least 1 ms); a microtask would not let I/O in at
 * all. Not through the injected clock on purpose: a turn is not time
 * passing, so a sweep under a `ManualClock` goes on without `advance`, and
 * the slice is measured on the real monotonic clock because it bounds real
 * CPU time on this thread. Workers running in parallel share one turn. @internal
 */
export class TurnTaker {
  readonly #slice: number;
  #sliceEnd: number;
  #turn: Promise<void> | undefined;

  constructor(slice = TURN_SLICE) {
    this.#slice = slice;
    this.#sliceEnd = performance.now() + slice;
  }

  /** Whether the current slice is used up. */
  get due(): boolean {
    return this.#turn !== undefined || performance.now() >= this.#sliceEnd;
  }

  /** Resolves after the event loop had its turn; every caller meanwhile shares it. */
  take(): Promise<void> {
    this.#turn ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        this.#turn = undefined;
        this.#sliceEnd = performance.now() + this.#slice;
        resolve();
      }),
    );
    return this.#turn;
  }
}
