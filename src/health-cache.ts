import { CacheEvents } from './cache-events.js';
import type { Disposable } from './disposable.js';
import { AlreadyRunningError, DisposedError, UnknownProviderError } from './errors.js';
import type {
  CheckResult,
  CheckerFault,
  HealthEvent,
  Removal,
  StatusChange,
  SweepSummary,
  Transition,
} from './events.js';
import type { RunnableHealthView } from './health-view.js';
import type { HistorySample, RestoredSample } from './history.js';
import type { HistoryExport } from './history-keeper.js';
import { cleanMessage } from './messages.js';
import { resolveOptions, type HealthCacheOptions, type ResolvedHealthCacheOptions } from './options.js';
import type { Provider } from './provider.js';
import { assertProviderName, type ProviderRegistry } from './registry.js';
import type { RunningCheck } from './check-deadlines.js';
import { CheckRunner, type RawResult } from './run-check.js';
import { Scheduler } from './scheduler.js';
import { FrozenDate, type Status } from './status.js';
import { StatusStore } from './status-store.js';
import type { WindowSummary, WindowUptimes } from './uptime-windows.js';

// The event payloads once lived here; importing them from this module keeps working.
export type { CheckResult, CheckerFault, Removal, StatusChange, SweepSummary, Transition } from './events.js';

/**
 * Keeps the health of every provider in a {@link ProviderRegistry}, refreshed
 * by a background poller, so that reads are O(1) and never touch a control plane.
 * A façade over the scheduler (when checks run), the check runner (how one
 * check runs) and the status store (what the results mean). A little over
 * 300 lines because it is the public API: every method is a short, documented
 * delegation; the work lives in those modules.
 *
 * ```ts
 * const cache = new HealthCache(registry, { pollInterval: 30_000 });
 * void cache.run(stop.signal);
 * cache.get('docker'); // Status | undefined (not checked yet)
 * ```
 */
export class HealthCache implements RunnableHealthView, Disposable {
  readonly #registry: ProviderRegistry;
  readonly #options: ResolvedHealthCacheOptions;
  readonly #events = new CacheEvents();
  readonly #store: StatusStore;
  /** The store's statuses by name: `get` is this one Map lookup. */
  readonly #statuses: ReadonlyMap<string, Status>;
  readonly #runner: CheckRunner;
  readonly #scheduler: Scheduler;
  readonly #disposed = new AbortController();
  readonly #registrySubscription: Disposable;
  #faults = 0;

  /** Every check result, whether or not the state changed. */
  readonly onResult: HealthEvent<CheckResult> = this.#events.result.event;
  /** State changes, including the first one out of `unknown` and into `stale`. */
  readonly onTransition: HealthEvent<Transition> = this.#events.transition.event;
  /** Providers dropped because they were unregistered, or their status forgotten ({@link HealthCache.forget}). */
  readonly onRemove: HealthEvent<Removal> = this.#events.removal.event;
  /** Anything that changed what `get`/`snapshot` return: a result, staleness or a removal. */
  readonly onChange: HealthEvent<StatusChange> = this.#events.change.event;
  /** Each finished sweep. */
  readonly onSweep: HealthEvent<SweepSummary> = this.#events.sweep.event;
  /**
   * Checks that failed because this service ran out of file descriptors
   * (`EMFILE`/`ENFILE`): nothing is recorded against the provider.
   */
  readonly onCheckerFault: HealthEvent<CheckerFault> = this.#events.fault.event;
  /** Errors thrown by listeners of the other events; without a subscriber they become process warnings. */
  readonly onListenerError: HealthEvent<unknown> = this.#events.listenerError.event;

  /**
   * @param registry The providers to watch; the cache follows its changes.
   * @param options See {@link HealthCacheOptions}; validated here.
   * @throws OptionTypeError or OptionRangeError naming a bad option and its value.
   */
  constructor(registry: ProviderRegistry, options: HealthCacheOptions = {}) {
    if (typeof registry?.onChange !== 'function' || typeof registry.names !== 'function') {
      throw new TypeError('HealthCache needs a ProviderRegistry as its first argument');
    }
    this.#registry = registry;
    this.#options = resolveOptions(options);
    this.#store = new StatusStore(registry, this.#options, this.#events);
    this.#statuses = this.#store.statuses;
    this.#runner = new CheckRunner(this.#options.clock, this.#options.checkTimeout);
    this.#scheduler = new Scheduler(
      registry,
      this.#options,
      this.#events,
      this.#disposed.signal,
      (name, provider, checks, keepAlive) => this.#check(name, provider, checks, keepAlive),
      () => this.#store.sweepEnded(),
    );
    this.#registrySubscription = registry.onChange((change) => {
      if (change.type === 'unregistered') return this.#store.remove(change.name);
      // New labels or dependencies show at once; a new provider is also checked.
      if (change.type !== 'registered') this.#store.reannotate(change.name);
      // Prompt checks only while polling; a one-shot user calls checkNow itself.
      if (change.type !== 'relabelled' && this.#scheduler.running)
        this.#scheduler.enqueue(false, change.name, false);
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
    return this.#scheduler.running;
  }

  /** Calls that timed out and still have not settled (hung checkers). Such a provider is not called again until its call settles. */
  get abandonedChecks(): number {
    return this.#runner.abandoned;
  }

  /** Calls given up on before they settled (at their timeout, or when `run` stopped) since the cache was made. */
  get abandonedChecksTotal(): number {
    return this.#runner.abandonedTotal;
  }

  /** Checks that failed because of this service (see {@link HealthCache.onCheckerFault}) since the cache was made. */
  get checkerFaultsTotal(): number {
    return this.#faults;
  }

  /**
   * Polls until `signal` aborts (or the cache is disposed): one sweep at
   * once, then the next `pollInterval` (less jitter) after the previous full
   * sweep ended. Resolves after the abort, once in-flight checks are aborted
   * and every timer is cleared. Start it in the background: `void cache.run(signal)`.
   * @throws AlreadyRunningError when another `run` is active; DisposedError after `dispose()`.
   */
  async run(signal?: AbortSignal): Promise<void> {
    if (this.#scheduler.running) throw new AlreadyRunningError('HealthCache');
    this.#assertNotDisposed('run');
    if (signal?.aborted) return;
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    signal?.addEventListener('abort', stop, { once: true });
    this.#disposed.signal.addEventListener('abort', stop, { once: true });
    try {
      await this.#scheduler.run(stopped, () => signal?.reason);
    } finally {
      signal?.removeEventListener('abort', stop);
      this.#disposed.signal.removeEventListener('abort', stop);
    }
  }

  /**
   * Checks every provider now. Single-flight: while a sweep runs, this waits
   * for a follow-up sweep that starts after it, shared by every caller that
   * asked meanwhile. Resolves with the snapshot after that sweep. While
   * somebody waits, the checks' timeouts keep the process alive.
   * `signal` stops this caller's wait, not the sweep others share.
   */
  async checkNow(signal?: AbortSignal): Promise<readonly Status[]> {
    this.#assertNotDisposed('checkNow');
    signal?.throwIfAborted();
    await this.#scheduler.wait(this.#scheduler.enqueue(true, undefined, true), signal);
    return this.snapshot();
  }

  /**
   * Checks one provider now, coalesced like {@link HealthCache.checkNow}.
   * Resolves with its status.
   * @throws UnknownProviderError when no provider has that name.
   */
  async checkProvider(name: string, signal?: AbortSignal): Promise<Status | undefined> {
    this.#assertNotDisposed('checkProvider');
    assertProviderName(name);
    if (!this.#registry.has(name)) throw new UnknownProviderError(name);
    signal?.throwIfAborted();
    await this.#scheduler.wait(this.#scheduler.enqueue(false, name, true), signal);
    return this.get(name);
  }

  /** The last status of `name`; `undefined` until it has been checked once ("unknown"). A Map lookup, no side effects. */
  get(name: string): Status | undefined {
    return this.#statuses.get(name);
  }

  /**
   * Every checked provider's status, sorted by name: the same frozen array
   * until it is republished after a change, so this is O(1) between changes.
   * While results stream in, it is republished at most once per
   * `snapshotInterval` (default 100 ms): it trails the newest results by at
   * most that long, never past the end of a sweep (`checkNow` resolves with
   * everything its sweep found). The first change after a quiet interval,
   * removals and {@link HealthCache.forget} are published at once. `get` is
   * always exact. No side effects (no clock read, no timer).
   */
  snapshot(): readonly Status[] {
    return this.#store.snapshot();
  }

  /** The last `historySize` results of `name`, oldest first; empty when unknown. */
  history(name: string): readonly HistorySample[] {
    return this.#store.history(name);
  }

  /**
   * Uptime and p50/p95 latency of `name` over the last 24 hours, 7 days and
   * 30 days, as of the clock's now (hourly buckets for 24 h, UTC days for 7
   * and 30 d); `undefined` when it has no history. No side effects.
   */
  windows(name: string): WindowSummary | undefined {
    return this.#store.windows(name);
  }

  /** The uptimes of {@link windows} alone, at a tenth of the cost (what list rows need). No side effects. */
  uptimes(name: string): WindowUptimes | undefined {
    return this.#store.uptimes(name);
  }

  /**
   * The history of `name` — recent samples and the 24h/7d/30d buckets as
   * bytes — for keeping elsewhere (a state file, Redis) and
   * {@link HealthCache.importHistory} later; `undefined` when it has none.
   */
  exportHistory(name: string): HistoryExport | undefined {
    return this.#store.exportHistory(name);
  }

  /**
   * Gives `name` a history kept from before (see {@link HealthCache.exportHistory}):
   * taken only while its history is empty, that is before its first result
   * or right after a `restore` without a sample (a saved status and its
   * history load as `importHistory` then `restore(status)`, in either order);
   * histories are never merged. Returns `false`, changing nothing, when the
   * provider is not registered or already has a history. Samples are kept in
   * the order given (the last `historySize`), and are not counted in the
   * windows again. No events fire: the next result or restore shows it.
   * An imported history goes with the provider (`unregister`, {@link HealthCache.forget}).
   * @throws TypeError naming the problem for malformed data (a sample that is
   *   not `{ checkedAt: Date, latency >= 0, state, silenced: boolean }`,
   *   windows bytes that do not read back), or an empty or non-string name.
   */
  importHistory(name: string, data: HistoryExport): boolean {
    assertProviderName(name);
    return this.#store.importHistory(name, data);
  }

  /**
   * Records a status produced elsewhere (another replica's check, a saved
   * copy) as this provider's current status, with the same events as a check.
   * Thresholds are not applied again: `status.state` is taken as decided.
   * Staleness is judged here, from `checkedAt`. Ignored (returns `false`) when
   * the provider is not registered or the cache holds a result at least as new.
   * A check that started before the restore never replaces it. `labels`,
   * `dependsOn`, `blockedBy` and `silencedBy` are recomputed from this cache's
   * registry and silences, whatever `status` carries.
   * @param sample The raw result behind `status`, added to {@link HealthCache.history}
   *   (silenced or not as this cache's silences say).
   */
  restore(status: Status, sample?: RestoredSample): boolean {
    return this.#store.restore(status, sample);
  }

  /**
   * Drops the status of `name` while it stays registered, as an
   * unregistration would (its history too): `get` answers `undefined` until
   * the next check or restore, `onRemove` and `onChange` (with `status:
   * undefined`) fire, and checks that started before are dropped when they
   * end. No check is started. Returns `false`, without events, when
   * `name` had no status (never checked, or not registered).
   * @throws TypeError for an empty or non-string name.
   */
  forget(name: string): boolean {
    assertProviderName(name);
    return this.#store.forget(name);
  }

  /** Stops polling, the stale timer and following the registry and the silences. The cache keeps answering reads. */
  dispose(): void {
    if (this.#disposed.signal.aborted) return;
    this.#disposed.abort(new Error('HealthCache disposed'));
    this.#registrySubscription.dispose();
    this.#store.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #assertNotDisposed(method: string): void {
    if (this.#disposed.signal.aborted) throw new DisposedError(`HealthCache.${method}`);
  }

  /** Runs one check of a sweep; resolves with what records what it found. Never rejects. */
  async #check(
    name: string,
    provider: Provider,
    checks: Set<RunningCheck>,
    keepAlive: boolean,
  ): Promise<(() => void) | undefined> {
    const seq = this.#store.nextSeq();
    const result = await this.#runner.check(name, provider, { checks, keepAlive });
    if (result === undefined) return undefined;
    return result.fault !== undefined
      ? () => this.#fault(name, provider, result)
      : () => this.#store.record(name, provider, seq, result);
  }

  /** This service ran out of file descriptors: the provider is not to blame, so its status stays. */
  #fault(name: string, provider: Provider, result: RawResult): void {
    if (this.#registry.get(name) !== provider) return;
    this.#faults++;
    this.#events.fault.emit(
      Object.freeze({
        name,
        kind: 'resource-exhausted',
        code: result.fault ?? 'EMFILE',
        message: cleanMessage(result.message, this.#options.maxMessageLength),
        at: new FrozenDate(result.checkedAt),
        status: this.#store.get(name),
      }),
    );
  }
}
