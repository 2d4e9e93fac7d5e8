import { raceAbort } from './async.js';
import type { CacheEvents } from './cache-events.js';
import type { Clock, TimerHandle } from './clock.js';
import type { ResolvedHealthCacheOptions } from './options.js';
import type { Provider } from './provider.js';
import type { ProviderRegistry } from './registry.js';
import type { RunningCheck } from './check-deadlines.js';
import { FrozenDate } from './status.js';
import { TurnTaker } from './turns.js';

/** Sweeps asked for while another runs; served together by one follow-up sweep. */
interface SweepRequest {
  all: boolean;
  readonly names: Set<string>;
  /** Callers awaiting it (checkNow/checkProvider); requests nobody awaits are dropped when `run` stops. */
  waiters: number;
  readonly done: Promise<void>;
  readonly resolve: () => void;
}

/**
 * One check of a sweep, run by the façade. Resolves with what records its
 * result (`undefined` when there is nothing to record), so that the
 * scheduler decides when that work runs. Never rejects.
 */
export type CheckTask = (
  name: string,
  provider: Provider,
  checks: Set<RunningCheck>,
  keepAlive: boolean,
) => Promise<(() => void) | undefined>;

interface RunState {
  readonly controller: AbortController;
  tick: TimerHandle;
}

/**
 * When checks run: merging sweep requests and their waiters, the jittered
 * poll tick, and the worker pool that runs a sweep `concurrency` checks at a
 * time. Single-flight: one sweep at a time. @internal
 */
export class Scheduler {
  readonly #registry: ProviderRegistry;
  readonly #options: ResolvedHealthCacheOptions;
  readonly #clock: Clock;
  readonly #events: CacheEvents;
  readonly #check: CheckTask;
  /** Called when a sweep ends, before `onSweep`: publishes what it changed. */
  readonly #sweepEnded: () => void;
  /** Aborts checks of a sweep started outside `run` (a `checkNow`) when the cache is disposed. */
  readonly #disposed: AbortSignal;
  #inFlight: Promise<void> | undefined;
  #queued: SweepRequest | undefined;
  #drainScheduled = false;
  #run: RunState | undefined;

  constructor(
    registry: ProviderRegistry,
    options: ResolvedHealthCacheOptions,
    events: CacheEvents,
    disposed: AbortSignal,
    check: CheckTask,
    sweepEnded: () => void,
  ) {
    this.#registry = registry;
    this.#options = options;
    this.#clock = options.clock;
    this.#events = events;
    this.#disposed = disposed;
    this.#check = check;
    this.#sweepEnded = sweepEnded;
  }

  get running(): boolean {
    return this.#run !== undefined;
  }

  /** Polls until `stop` resolves; see `HealthCache.run`. */
  async run(stopped: Promise<void>, reason: () => unknown): Promise<void> {
    const run: RunState = { controller: new AbortController(), tick: undefined };
    this.#run = run;
    try {
      this.enqueue(true, undefined, false);
      await stopped;
    } finally {
      run.controller.abort(reason());
      this.#clock.clearTimeout(run.tick);
      this.#run = undefined;
      if (this.#queued?.waiters === 0) {
        this.#queued.resolve();
        this.#queued = undefined;
      }
      await this.#inFlight;
    }
  }

  /** Asks for a sweep of every provider (`all`) or of `name`, merged with any request waiting. */
  enqueue(all: boolean, name: string | undefined, waiter: boolean): SweepRequest {
    let request = this.#queued;
    if (request === undefined) {
      let resolve!: () => void;
      const done = new Promise<void>((r) => (resolve = r));
      request = { all: false, names: new Set(), waiters: 0, done, resolve };
      this.#queued = request;
    }
    if (all) request.all = true;
    else if (name !== undefined) request.names.add(name);
    if (waiter) request.waiters++;
    this.#scheduleDrain();
    return request;
  }

  /** Waits for `request` on behalf of a caller; a caller that gives up no longer counts as waiting. */
  async wait(request: SweepRequest, signal: AbortSignal | undefined): Promise<void> {
    try {
      await raceAbort(request.done, signal);
    } catch (error) {
      request.waiters--;
      throw error;
    }
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    // A microtask, so that registrations made in one synchronous loop share one sweep.
    queueMicrotask(() => {
      this.#drainScheduled = false;
      this.#drain();
    });
  }

  #drain(): void {
    const request = this.#queued;
    if (this.#inFlight !== undefined || request === undefined) return;
    this.#queued = undefined;
    const names = request.all ? undefined : [...request.names];
    this.#inFlight = this.#sweep(names, request.waiters > 0).finally(() => {
      this.#inFlight = undefined;
      request.resolve();
      if (this.#queued) this.#drain();
      // After a full sweep, or after partial ones that ran in its place while the tick was owed.
      else if (names === undefined || this.#run?.tick === undefined) this.#scheduleTick();
    });
  }

  #scheduleTick(): void {
    const run = this.#run;
    if (run === undefined) return;
    const { pollInterval, jitter, random } = this.#options;
    this.#clock.clearTimeout(run.tick);
    // A background timer (not keepAlive): a poller alone never keeps a program running.
    run.tick = this.#clock.setTimeout(
      () => {
        run.tick = undefined;
        this.enqueue(true, undefined, false);
      },
      pollInterval * (1 - jitter * random()),
    );
  }

  /** One sweep: `concurrency` workers take names in order. `keepAlive`: somebody awaits it. */
  async #sweep(names: readonly string[] | undefined, keepAlive: boolean): Promise<void> {
    const signal = this.#run?.controller.signal ?? this.#disposed;
    // One listener per sweep, not per check: thousands of listeners on one signal are slow to remove.
    const checks = new Set<RunningCheck>();
    const abortChecks = (): void => checks.forEach((check) => check.abort(signal.reason));
    signal.addEventListener('abort', abortChecks, { once: true });
    const startedAt = this.#clock.now();
    const list = names ?? this.#registry.names();
    let next = 0;
    let checked = 0;
    // Checkers answering synchronously would otherwise hold the event loop for the whole sweep.
    const turns = new TurnTaker();
    const worker = async (): Promise<void> => {
      for (;;) {
        if (turns.due) await turns.take();
        if (next >= list.length || signal.aborted) break;
        const name = list[next++] as string;
        const provider = this.#registry.get(name);
        if (provider === undefined) continue;
        checked++;
        const record = await this.#check(name, provider, checks, keepAlive);
        if (record === undefined) continue;
        // Results of many checks can arrive in one turn of the event loop (500 at
        // concurrency 500); recording them is most of a check's cost, so it waits
        // for the next turn once the slice is used up.
        while (turns.due) await turns.take();
        record();
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(this.#options.concurrency, list.length) }, worker));
    } finally {
      signal.removeEventListener('abort', abortChecks);
      this.#sweepEnded();
    }
    this.#events.sweep.emit(
      Object.freeze({
        startedAt: new FrozenDate(startedAt),
        duration: this.#clock.now() - startedAt,
        checked,
        full: names === undefined,
      }),
    );
  }
}
