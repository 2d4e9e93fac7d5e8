import { timeoutError, type Settlement } from './async.js';
import type { Clock, TimerHandle } from './clock.js';

/** A check that has not settled: the sweep aborts it when `run` stops. @internal */
export interface RunningCheck {
  /** Aborts the checker's signal with `reason` and stops waiting for it (nothing is recorded). */
  abort(reason: unknown): void;
}

/** How a check with a deadline ended: how its call settled, or `aborted`, and whether its timeout did that. @internal */
export interface DeadlineOutcome {
  readonly settled: Settlement<unknown>;
  readonly timedOut: boolean;
}

const ABORTED: Settlement<never> = Object.freeze({ kind: 'aborted' });

/** A running check as its deadline group sees it. */
interface TimedCheck {
  /** Called once when the check's timeout passes while it still runs, before its signal aborts. */
  timedOut(): void;
}

/** A check's place in a deadline group: its signal, and how it leaves when it settles. */
interface Deadline {
  /** The signal handed to the checker: aborts at the timeout, or when the sweep stops. */
  readonly signal: AbortSignal;
  /** The check settled: it no longer times out. */
  leave(): void;
  /** Aborts the signal now with `reason` (the sweep stopped). */
  abort(reason: unknown): void;
}

interface Group {
  /** The whole millisecond the group's first check started in. */
  readonly started: number;
  readonly keepAlive: boolean;
  readonly controller: AbortController;
  readonly members: Set<TimedCheck>;
  timer: TimerHandle;
}

/**
 * The timeouts and abort signals of checks, shared by the checks that start
 * in the same millisecond. Creating an `AbortSignal` costs a few µs in Node
 * 20, more than the rest of a quick check, so a sweep of 10,000 providers
 * makes about one per turn of the event loop instead of 10,000, with one
 * timer each. A group's deadline is its first check's start plus the
 * timeout, so a check joining later in that millisecond gets up to 1 ms
 * less. When it passes, the checks of the group still running time out and
 * the shared signal aborts; a check of the group that already settled may
 * see its signal abort then too (nothing waits for it any more). When every
 * check of a group has settled, its timer is cleared. @internal
 */
export class CheckDeadlines {
  readonly #clock: Clock;
  readonly #timeout: number;
  /** The group checks starting now join, while its millisecond lasts. */
  #open: Group | undefined;

  constructor(clock: Clock, timeout: number) {
    this.#clock = clock;
    this.#timeout = timeout;
  }

  /**
   * Calls `start` with its group's signal and waits for what it returns,
   * until the deadline passes or the sweep aborts it through `checks`.
   * The deadline and the sweep end the wait themselves rather than through
   * a listener on the signal: adding and removing one costs more than the
   * rest of a quick check. `keepAlive`: somebody awaits the check (its timer
   * keeps the process alive).
   */
  async race(
    start: (signal: AbortSignal) => Promise<unknown>,
    checks: Set<RunningCheck>,
    keepAlive: boolean,
  ): Promise<DeadlineOutcome> {
    let timedOut = false;
    let finish!: (settlement: Settlement<unknown>) => void;
    const settlement = new Promise<Settlement<unknown>>((resolve) => (finish = resolve));
    const deadline = this.#join(
      {
        timedOut() {
          timedOut = true;
          finish(ABORTED);
        },
      },
      keepAlive,
    );
    const running: RunningCheck = {
      abort(reason) {
        finish(ABORTED);
        deadline.abort(reason);
      },
    };
    checks.add(running);
    try {
      start(deadline.signal).then(
        (value) => finish({ kind: 'value', value }),
        (error: unknown) => finish({ kind: 'error', error }),
      );
      const settled = await settlement;
      return { settled, timedOut };
    } finally {
      deadline.leave();
      checks.delete(running);
    }
  }

  /** Puts `check`, starting now, in a group. */
  #join(check: TimedCheck, keepAlive: boolean): Deadline {
    const started = Math.floor(this.#clock.now());
    let group = this.#open;
    if (group === undefined || group.started !== started || group.keepAlive !== keepAlive) {
      group = this.#openGroup(started, keepAlive);
    }
    group.members.add(check);
    const joined = group;
    return {
      signal: joined.controller.signal,
      leave: () => this.#leave(joined, check),
      abort: (reason) => joined.controller.abort(reason),
    };
  }

  #openGroup(started: number, keepAlive: boolean): Group {
    const group: Group = {
      started,
      keepAlive,
      controller: new AbortController(),
      members: new Set(),
      timer: undefined,
    };
    group.timer = this.#clock.setTimeout(() => this.#expire(group), this.#timeout, { keepAlive });
    this.#open = group;
    return group;
  }

  #leave(group: Group, check: TimedCheck): void {
    if (!group.members.delete(check) || group.members.size > 0) return;
    // Nothing left to time out: no timer outlives the checks it was for.
    this.#clock.clearTimeout(group.timer);
    if (this.#open === group) this.#open = undefined;
  }

  #expire(group: Group): void {
    if (this.#open === group) this.#open = undefined;
    const late = [...group.members];
    group.members.clear();
    for (const check of late) check.timedOut();
    group.controller.abort(timeoutError(`check timed out after ${this.#timeout} ms`));
  }
}
