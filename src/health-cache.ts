import type { Clock, TimerHandle } from './clock.js';
import type { Disposable } from './disposable.js';
import { Emitter, type HealthEvent } from './events.js';
import type { HealthView } from './health-view.js';
import { HistoryRing, type HistorySample } from './history.js';
import { cleanMessage, describeFailure } from './messages.js';
import { resolveOptions, type HealthCacheOptions, type ResolvedHealthCacheOptions } from './options.js';
import { isHealthChecker, type HealthChecker, type Provider } from './provider.js';
import { assertProviderName, reportListenerError, type ProviderRegistry } from './registry.js';
import { parseReport } from './report.js';
import { FrozenDate, type HealthState, type Status } from './status.js';

/** Every result of a check, emitted by {@link HealthCache.onResult}. */
export interface CheckResult {
  readonly name: string;
  readonly status: Status;
  /** The status this result replaced; `undefined` for the first. */
  readonly previous: Status | undefined;
}

/** A change of state, emitted by {@link HealthCache.onTransition}; the first result counts (from `unknown`). */
export interface Transition {
  readonly name: string;
  readonly from: HealthState;
  readonly to: HealthState;
  readonly status: Status;
}

/** A provider dropped from the cache, emitted by {@link HealthCache.onRemove}. */
export interface Removal {
  readonly name: string;
  /** Its last status; `undefined` when it was never checked. */
  readonly status: Status | undefined;
}

/** Anything that changed what `get`/`snapshot` return, emitted by {@link HealthCache.onChange}. */
export interface StatusChange {
  readonly name: string;
  /** The new status; `undefined` when the provider was removed. */
  readonly status: Status | undefined;
}

/** One finished sweep, emitted by {@link HealthCache.onSweep}. */
export interface SweepSummary {
  readonly startedAt: Date;
  /** Milliseconds. */
  readonly duration: number;
  /** How many providers were checked. */
  readonly checked: number;
  /** `false` for a sweep of only some providers (new registrations, a one-provider refresh). */
  readonly full: boolean;
}

type RawState = 'healthy' | 'degraded' | 'unhealthy';

interface RawResult {
  readonly state: RawState;
  readonly message: string;
  readonly latency: number;
  readonly checkedAt: number;
  readonly details: Readonly<Record<string, unknown>> | undefined;
}

interface Entry {
  status: Status;
  /** The state before any staleness. */
  held: RawState;
  /** Start order of the check that produced `status`: older results are dropped. */
  seq: number;
  checkedAt: number;
  readonly history: HistoryRing;
  /** The last raw message and its cleaned form: most checks repeat their message, so cleaning is skipped. */
  rawMessage: string;
  message: string;
}

/** A call to `healthCheck` that has not settled yet. */
interface PendingCall {
  readonly provider: Provider;
  readonly since: number;
  abandoned: boolean;
}

/** Sweeps asked for while another runs; served together by one follow-up sweep. */
interface SweepRequest {
  all: boolean;
  readonly names: Set<string>;
  /** Callers awaiting it (checkNow/checkProvider); requests nobody awaits are dropped when `run` stops. */
  waiters: number;
  readonly done: Promise<void>;
  readonly resolve: () => void;
}

type Outcome = { kind: 'value'; value: unknown } | { kind: 'error'; error: unknown } | { kind: 'aborted' };

const EMPTY_SNAPSHOT: readonly Status[] = Object.freeze([]);

/**
 * Keeps the health of every provider in a {@link ProviderRegistry}, refreshed
 * by a background poller, so that reads are O(1) and never touch a control plane.
 *
 * ```ts
 * const cache = new HealthCache(registry, { pollInterval: 30_000 });
 * void cache.run(stop.signal);
 * cache.get('docker'); // Status | undefined (not checked yet)
 * ```
 */
export class HealthCache implements HealthView, Disposable {
  readonly #registry: ProviderRegistry;
  readonly #options: ResolvedHealthCacheOptions;
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Map<string, PendingCall>();
  #snapshot: readonly Status[] | undefined = EMPTY_SNAPSHOT;
  /** No entry turns stale before this time (a lower bound, made exact after each full sweep). */
  #nextStaleAt = Infinity;
  #seq = 0;
  #inFlight: Promise<void> | undefined;
  #queued: SweepRequest | undefined;
  #drainScheduled = false;
  #run: { readonly controller: AbortController; tick: TimerHandle; staleWatch: TimerHandle } | undefined;
  readonly #disposed = new AbortController();
  readonly #registrySubscription: Disposable;
  #abandoned = 0;
  #abandonedTotal = 0;

  readonly #onListenerError = new Emitter<unknown>((error) => reportListenerError('onListenerError', error));
  readonly #results = new Emitter<CheckResult>((error) => this.#listenerFailed(error));
  readonly #transitions = new Emitter<Transition>((error) => this.#listenerFailed(error));
  readonly #removals = new Emitter<Removal>((error) => this.#listenerFailed(error));
  readonly #changes = new Emitter<StatusChange>((error) => this.#listenerFailed(error));
  readonly #sweeps = new Emitter<SweepSummary>((error) => this.#listenerFailed(error));

  /** Every check result, whether or not the state changed. */
  readonly onResult: HealthEvent<CheckResult> = this.#results.event;
  /** State changes, including the first one out of `unknown` and into `stale`. */
  readonly onTransition: HealthEvent<Transition> = this.#transitions.event;
  /** Providers dropped because they were unregistered. */
  readonly onRemove: HealthEvent<Removal> = this.#removals.event;
  /** Anything that changed what `get`/`snapshot` return: a result, staleness or a removal. */
  readonly onChange: HealthEvent<StatusChange> = this.#changes.event;
  /** Each finished sweep. */
  readonly onSweep: HealthEvent<SweepSummary> = this.#sweeps.event;
  /** Errors thrown by listeners of the other events; without a subscriber they become process warnings. */
  readonly onListenerError: HealthEvent<unknown> = this.#onListenerError.event;

  /**
   * @param registry The providers to watch; the cache follows its changes.
   * @param options See {@link HealthCacheOptions}; validated here.
   * @throws TypeError or RangeError naming a bad option and its value.
   */
  constructor(registry: ProviderRegistry, options: HealthCacheOptions = {}) {
    if (typeof registry?.onChange !== 'function' || typeof registry.names !== 'function') {
      throw new TypeError('HealthCache needs a ProviderRegistry as its first argument');
    }
    this.#registry = registry;
    this.#options = resolveOptions(options);
    this.#clock = this.#options.clock;
    this.#registrySubscription = registry.onChange((change) => {
      if (change.type === 'unregistered') this.#remove(change.name);
      // Prompt checks only while polling; a one-shot user calls checkNow itself.
      else if (this.#run) this.#enqueue(false, change.name, false);
    });
  }

  /** The registry this cache follows. */
  get registry(): ProviderRegistry {
    return this.#registry;
  }

  /** The options in force, with defaults applied. */
  get options(): ResolvedHealthCacheOptions {
    return this.#options;
  }

  /** Whether `run` is active. */
  get running(): boolean {
    return this.#run !== undefined;
  }

  /** Calls that timed out and still have not settled (hung checkers). Such a provider is not called again until its call settles. */
  get abandonedChecks(): number {
    return this.#abandoned;
  }

  /** Calls given up on before they settled (at their timeout, or when `run` stopped) since the cache was made. */
  get abandonedChecksTotal(): number {
    return this.#abandonedTotal;
  }

  /**
   * Polls until `signal` aborts (or the cache is disposed): one sweep at
   * once, then the next `pollInterval` (less jitter) after the previous full
   * sweep ended. Resolves after the abort, once in-flight checks are aborted
   * and every timer is cleared. Start it in the background: `void cache.run(signal)`.
   * @throws Error when another `run` is active.
   */
  async run(signal?: AbortSignal): Promise<void> {
    if (this.#run)
      throw new Error('HealthCache.run() is already active: abort its signal before starting another');
    this.#assertNotDisposed('run');
    if (signal?.aborted) return;
    const run = {
      controller: new AbortController(),
      tick: undefined as TimerHandle,
      staleWatch: undefined as TimerHandle,
    };
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    signal?.addEventListener('abort', stop, { once: true });
    this.#disposed.signal.addEventListener('abort', stop, { once: true });
    this.#run = run;
    try {
      this.#enqueue(true, undefined, false);
      await stopped;
    } finally {
      signal?.removeEventListener('abort', stop);
      this.#disposed.signal.removeEventListener('abort', stop);
      run.controller.abort(signal?.reason);
      this.#clock.clearTimeout(run.tick);
      this.#clock.clearTimeout(run.staleWatch);
      this.#run = undefined;
      if (this.#queued?.waiters === 0) {
        this.#queued.resolve();
        this.#queued = undefined;
      }
      await this.#inFlight;
    }
  }

  /**
   * Checks every provider now. Single-flight: while a sweep runs, this waits
   * for a follow-up sweep that starts after it, shared by every caller that
   * asked meanwhile. Resolves with the snapshot after that sweep.
   * `signal` stops this caller's wait, not the sweep others share.
   */
  async checkNow(signal?: AbortSignal): Promise<readonly Status[]> {
    this.#assertNotDisposed('checkNow');
    signal?.throwIfAborted();
    await this.#await(this.#enqueue(true, undefined, true), signal);
    return this.snapshot();
  }

  /**
   * Checks one provider now, coalesced like {@link HealthCache.checkNow}.
   * Resolves with its status.
   * @throws Error when no provider has that name.
   */
  async checkProvider(name: string, signal?: AbortSignal): Promise<Status | undefined> {
    this.#assertNotDisposed('checkProvider');
    assertProviderName(name);
    if (!this.#registry.has(name)) throw new Error(`No provider named ${JSON.stringify(name)} is registered`);
    signal?.throwIfAborted();
    await this.#await(this.#enqueue(false, name, true), signal);
    return this.get(name);
  }

  /** The last status of `name`; `undefined` until it has been checked once ("unknown"). A Map lookup. */
  get(name: string): Status | undefined {
    // While polling, a timer marks statuses stale; otherwise reads look at the clock.
    if (this.#run === undefined) this.#markStale();
    return this.#entries.get(name)?.status;
  }

  /**
   * Every checked provider's status, sorted by name. The same frozen array is
   * returned until something changes, so this is O(1) between changes.
   */
  snapshot(): readonly Status[] {
    if (this.#run === undefined) this.#markStale();
    if (this.#snapshot === undefined) {
      const statuses: Status[] = [];
      for (const name of this.#registry.names()) {
        const entry = this.#entries.get(name);
        if (entry) statuses.push(entry.status);
      }
      this.#snapshot = Object.freeze(statuses);
    }
    return this.#snapshot;
  }

  /** The last `historySize` results of `name`, oldest first; empty when unknown. */
  history(name: string): readonly HistorySample[] {
    return this.#entries.get(name)?.history.samples() ?? [];
  }

  /**
   * Records a status produced elsewhere (another replica's check, a saved
   * copy) as this provider's current status, with the same events as a check.
   * Thresholds are not applied again: `status.state` is taken as decided.
   * Staleness is judged here, from `checkedAt`. Ignored (returns `false`) when
   * the provider is not registered or the cache holds a result at least as new.
   * @param sample The raw result behind `status`, added to {@link HealthCache.history}.
   */
  restore(status: Status, sample?: HistorySample): boolean {
    const { name } = status;
    if (!this.#registry.has(name) || status.state === 'stale') return false;
    const checkedAt = status.checkedAt.getTime();
    const entry = this.#entries.get(name);
    if (entry && checkedAt <= entry.checkedAt) return false;
    const previous = entry?.status;
    const held: RawState = status.state;
    const restored: Status = Object.freeze({ ...status, stale: false, healthy: held !== 'unhealthy' });
    const history = entry?.history ?? new HistoryRing(this.#options.historySize);
    if (sample) history.push(sample.checkedAt.getTime(), sample.latency, sample.state);
    // Ordered after every check started so far: an older check still in flight cannot replace it.
    const seq = ++this.#seq;
    if (entry) {
      entry.status = restored;
      entry.held = held;
      entry.seq = seq;
      entry.checkedAt = checkedAt;
    } else {
      this.#entries.set(name, {
        status: restored,
        held,
        seq,
        checkedAt,
        history,
        rawMessage: restored.message,
        message: restored.message,
      });
    }
    this.#nextStaleAt = Math.min(this.#nextStaleAt, checkedAt + this.#options.staleAfter);
    this.#snapshot = undefined;
    const from: HealthState = previous?.state ?? 'unknown';
    this.#results.emit({ name, status: restored, previous });
    if (from !== held) this.#transitions.emit({ name, from, to: held, status: restored });
    this.#changes.emit({ name, status: restored });
    // A restored status may already be old: mark it stale now and keep the stale timer exact.
    this.#watchStaleness(false);
    return true;
  }

  /** Stops polling and unsubscribes from the registry. The cache keeps answering reads. */
  dispose(): void {
    if (this.#disposed.signal.aborted) return;
    this.#disposed.abort(new Error('HealthCache disposed'));
    this.#registrySubscription.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #assertNotDisposed(method: string): void {
    if (this.#disposed.signal.aborted) throw new Error(`HealthCache.${method}() called after dispose()`);
  }

  #listenerFailed(error: unknown): void {
    if (this.#onListenerError.size > 0) this.#onListenerError.emit(error);
    else reportListenerError('HealthCache', error);
  }

  // ---- sweep scheduling -------------------------------------------------

  #enqueue(all: boolean, name: string | undefined, waiter: boolean): SweepRequest {
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
  async #await(request: SweepRequest, signal: AbortSignal | undefined): Promise<void> {
    try {
      await waitUnlessAborted(request.done, signal);
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
    this.#inFlight = this.#sweep(names).finally(() => {
      this.#inFlight = undefined;
      request.resolve();
      this.#watchStaleness(names === undefined);
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
    run.tick = this.#clock.setTimeout(
      () => {
        run.tick = undefined;
        this.#enqueue(true, undefined, false);
      },
      pollInterval * (1 - jitter * random()),
    );
  }

  async #sweep(names: readonly string[] | undefined): Promise<void> {
    const signal = this.#run?.controller.signal ?? this.#disposed.signal;
    // One listener per sweep, not per check: thousands of listeners on one signal are slow to remove.
    const checks = new Set<AbortController>();
    const abortChecks = (): void => checks.forEach((check) => check.abort(signal.reason));
    signal.addEventListener('abort', abortChecks, { once: true });
    const startedAt = this.#clock.now();
    const list = names ?? this.#registry.names();
    let next = 0;
    let checked = 0;
    const worker = async (): Promise<void> => {
      while (next < list.length && !signal.aborted) {
        const name = list[next++] as string;
        const provider = this.#registry.get(name);
        if (provider === undefined) continue;
        checked++;
        await this.#check(name, provider, checks);
      }
    };
    const workers = Math.min(this.#options.concurrency, list.length);
    try {
      await Promise.all(Array.from({ length: workers }, worker));
    } finally {
      signal.removeEventListener('abort', abortChecks);
    }
    this.#sweeps.emit(
      Object.freeze({
        startedAt: new FrozenDate(startedAt),
        duration: this.#clock.now() - startedAt,
        checked,
        full: names === undefined,
      }),
    );
  }

  // ---- one check ----------------------------------------------------------

  /** Checks one provider and records the result; `checks` holds the controllers the sweep aborts on stop. Never rejects. */
  async #check(name: string, provider: Provider, checks: Set<AbortController>): Promise<void> {
    const seq = ++this.#seq;
    const clock = this.#clock;
    const previousCall = this.#pending.get(name);
    if (previousCall?.provider === provider) {
      const now = clock.now();
      const since = new Date(previousCall.since).toISOString();
      this.#record(name, provider, seq, {
        state: 'unhealthy',
        message: `previous check still running since ${since} (${formatDuration(now - previousCall.since)}); not called again until it settles`,
        latency: 0,
        checkedAt: now,
        details: undefined,
      });
      return;
    }
    let checker: HealthChecker | undefined;
    try {
      checker = isHealthChecker(provider) ? provider : undefined;
    } catch (error) {
      // A `healthCheck` getter (or a proxy) that throws is a broken checker, not a broken sweep.
      this.#record(name, provider, seq, {
        state: 'unhealthy',
        message: describeFailure(error),
        latency: 0,
        checkedAt: clock.now(),
        details: undefined,
      });
      return;
    }
    if (checker === undefined) {
      this.#record(name, provider, seq, {
        state: 'healthy',
        message: 'provider does not implement HealthChecker',
        latency: 0,
        checkedAt: clock.now(),
        details: undefined,
      });
      return;
    }

    const { checkTimeout } = this.#options;
    const controller = new AbortController();
    let timedOut = false;
    const timer = clock.setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException(`check timed out after ${checkTimeout} ms`, 'TimeoutError'));
    }, checkTimeout);
    checks.add(controller);
    const started = clock.now();
    const call: PendingCall = { provider, since: started, abandoned: false };
    let outcome: Outcome;
    try {
      let promise: Promise<unknown>;
      try {
        promise = Promise.resolve(checker.healthCheck(controller.signal));
      } catch (error) {
        // Whatever was thrown is kept as is; describeFailure() handles non-Errors.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        promise = Promise.reject(error);
      }
      this.#pending.set(name, call);
      const settled = (): void => {
        if (this.#pending.get(name) === call) this.#pending.delete(name);
        if (call.abandoned) {
          call.abandoned = false;
          this.#abandoned--;
        }
      };
      promise.then(settled, settled);
      outcome = await settleOrAbort(promise, controller.signal);
    } finally {
      clock.clearTimeout(timer);
      checks.delete(controller);
    }

    const ended = clock.now();
    if (outcome.kind === 'aborted') {
      if (this.#pending.get(name) === call) {
        call.abandoned = true;
        this.#abandoned++;
        this.#abandonedTotal++;
      }
      // Stopped by run()'s signal: not the provider's fault, so nothing is recorded.
      if (!timedOut) return;
      this.#record(name, provider, seq, {
        state: 'unhealthy',
        message: `timed out after ${checkTimeout} ms`,
        latency: ended - started,
        checkedAt: ended,
        details: undefined,
      });
      return;
    }
    if (outcome.kind === 'error') {
      this.#record(name, provider, seq, {
        state: 'unhealthy',
        message: describeFailure(outcome.error),
        latency: ended - started,
        checkedAt: ended,
        details: undefined,
      });
      return;
    }
    const report = readReport(outcome.value);
    if (typeof report === 'string') {
      this.#record(name, provider, seq, {
        state: 'unhealthy',
        message: report,
        latency: ended - started,
        checkedAt: ended,
        details: undefined,
      });
      return;
    }
    this.#record(name, provider, seq, {
      state: report.state,
      message:
        report.message ??
        (report.state === 'unhealthy' ? 'checker reported unhealthy without a message' : report.state),
      latency: report.latency ?? ended - started,
      // A checker's clock may run ahead of ours; a time in the future would block every later result.
      checkedAt: Math.min(report.checkedAt ?? ended, ended),
      details: report.details,
    });
  }

  // ---- state ------------------------------------------------------------

  #record(name: string, provider: Provider, seq: number, result: RawResult): void {
    // Removed or replaced while its check ran: the result is about something no longer watched.
    if (this.#registry.get(name) !== provider) return;
    const entry = this.#entries.get(name);
    // Results never go backwards.
    if (entry && (seq < entry.seq || result.checkedAt < entry.checkedAt)) return;

    const { failureThreshold, successThreshold, historySize, maxMessageLength } = this.#options;
    const previous = entry?.status;
    const success = result.state !== 'unhealthy';
    const successes = success ? (previous?.consecutiveSuccesses ?? 0) + 1 : 0;
    const failures = success ? 0 : (previous?.consecutiveFailures ?? 0) + 1;
    let held: RawState = result.state;
    let note = '';
    if (entry && success && entry.held === 'unhealthy' && successes < successThreshold) {
      held = 'unhealthy';
      note = ` (recovering: ${successes} of ${successThreshold} successes needed)`;
    } else if (entry && !success && entry.held !== 'unhealthy' && failures < failureThreshold) {
      held = entry.held;
      note = ` (failure ${failures} of ${failureThreshold} before unhealthy)`;
    }

    const raw = result.message + note;
    const message = entry?.rawMessage === raw ? entry.message : cleanMessage(raw, maxMessageLength);
    const history = entry?.history ?? new HistoryRing(historySize);
    history.push(result.checkedAt, result.latency, result.state);
    const checkedAt = new FrozenDate(result.checkedAt);
    const from: HealthState = previous?.state ?? 'unknown';
    const status: Status = Object.freeze({
      name,
      healthy: held !== 'unhealthy',
      message,
      latency: result.latency,
      checkedAt,
      state: held,
      stale: false,
      consecutiveFailures: failures,
      consecutiveSuccesses: successes,
      lastSuccessAt: success ? checkedAt : previous?.lastSuccessAt,
      lastFailureAt: success ? previous?.lastFailureAt : checkedAt,
      lastTransitionAt: from === held && previous ? previous.lastTransitionAt : checkedAt,
      history: history.summary(),
      details: result.details,
    });
    if (entry) {
      entry.status = status;
      entry.held = held;
      entry.seq = seq;
      entry.checkedAt = result.checkedAt;
      entry.rawMessage = raw;
      entry.message = message;
    } else {
      this.#entries.set(name, {
        status,
        held,
        seq,
        checkedAt: result.checkedAt,
        history,
        rawMessage: raw,
        message,
      });
    }
    this.#nextStaleAt = Math.min(this.#nextStaleAt, result.checkedAt + this.#options.staleAfter);
    this.#snapshot = undefined;

    this.#results.emit({ name, status, previous });
    if (from !== held) this.#transitions.emit({ name, from, to: held, status });
    this.#changes.emit({ name, status });
  }

  #remove(name: string): void {
    const entry = this.#entries.get(name);
    if (entry) {
      this.#entries.delete(name);
      this.#snapshot = undefined;
    }
    this.#removals.emit({ name, status: entry?.status });
    this.#changes.emit({ name, status: undefined });
  }

  /** Marks statuses older than `staleAfter` as stale; cheap unless one is due. */
  #markStale(exact = false): void {
    const now = this.#clock.now();
    if (!exact && now < this.#nextStaleAt) return;
    const { staleAfter } = this.#options;
    let next = Infinity;
    const changed: Entry[] = [];
    for (const entry of this.#entries.values()) {
      if (entry.status.stale) continue;
      const deadline = entry.checkedAt + staleAfter;
      if (deadline <= now) changed.push(entry);
      else if (deadline < next) next = deadline;
    }
    this.#nextStaleAt = next;
    if (changed.length === 0) return;
    this.#snapshot = undefined;
    for (const entry of changed) {
      const previous = entry.status;
      entry.status = Object.freeze({ ...previous, state: 'stale', stale: true, healthy: false });
      this.#transitions.emit({
        name: previous.name,
        from: previous.state,
        to: 'stale',
        status: entry.status,
      });
      this.#changes.emit({ name: previous.name, status: entry.status });
    }
  }

  /** While polling, keeps one timer at the next staleness deadline. */
  #watchStaleness(exact: boolean): void {
    this.#markStale(exact);
    const run = this.#run;
    if (run === undefined) return;
    this.#clock.clearTimeout(run.staleWatch);
    run.staleWatch = undefined;
    if (this.#nextStaleAt === Infinity) return;
    run.staleWatch = this.#clock.setTimeout(
      () => this.#watchStaleness(false),
      Math.max(0, this.#nextStaleAt - this.#clock.now()),
    );
  }
}

/** Resolves with how `promise` settled, or `aborted` as soon as `signal` fires. */
function settleOrAbort(promise: Promise<unknown>, signal: AbortSignal): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
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

/** Waits for `promise`, rejecting with the signal's reason if it aborts first. */
async function waitUnlessAborted(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return promise;
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason as Error);
  });
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** {@link parseReport}, also when a report's getters throw: the problem becomes the message. */
function readReport(value: unknown): ReturnType<typeof parseReport> {
  try {
    return parseReport(value);
  } catch (error) {
    return `checker returned a health report that could not be read: ${describeFailure(error)}`;
  }
}
