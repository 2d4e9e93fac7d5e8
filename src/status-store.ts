import { Annotator, isFailing } from './annotations.js';
import type { CacheEvents } from './cache-events.js';
import type { Clock } from './clock.js';
import { copyDetails } from './details.js';
import type { Disposable } from './disposable.js';
import type { CheckResult } from './events.js';
import type { HistorySample, RestoredSample } from './history.js';
import { ProviderHistory, type HistoryExport } from './history-keeper.js';
import { cleanMessage } from './messages.js';
import { SnapshotGate } from './snapshot-gate.js';
import { StatusOrder } from './status-order.js';
import type { ResolvedHealthCacheOptions } from './options.js';
import type { Provider } from './provider.js';
import type { ProviderRegistry } from './registry.js';
import type { RawResult } from './run-check.js';
import { StaleTimer } from './stale-timer.js';
import { DeadlineHeap } from './deadline-heap.js';
import { FrozenDate, type CheckState, type Status } from './status.js';
import { decide, nextStatus } from './transition.js';
import type { WindowSummary, WindowUptimes } from './uptime-windows.js';

interface Entry {
  status: Status;
  /** The state before any staleness. */
  held: CheckState;
  /** Start order of the check (or restore) that produced `status`: results of older starts are dropped. */
  seq: number;
  checkedAt: number;
  /** The last time the current provider reported itself, on its own clock. */
  reported: { readonly provider: Provider; readonly at: number } | undefined;
  /** Recent results and the 24h/7d/30d windows (replaced only by an import into an empty one). */
  history: ProviderHistory;
  /** The last raw message and its cleaned form: most checks repeat their message, so cleaning is skipped. */
  rawMessage: string;
  message: string;
  /** Its place in the snapshot order (see {@link StatusOrder}). */
  slot: number;
  /** The deadline of its live item in the stale heap; `Infinity` when it has none. */
  staleQueued: number;
  /** Creation order: providers turning stale together get their events in this order. */
  born: number;
}

/** What a commit changes in an entry. */
type Commit = Pick<Entry, 'status' | 'held' | 'seq' | 'checkedAt' | 'reported' | 'rawMessage' | 'message'>;

const EMPTY_SNAPSHOT: readonly Status[] = Object.freeze([]);

/**
 * The statuses of one cache: entries ordered by start sequence, their history,
 * the snapshot, and the one stale timer. Reads (`get`, `snapshot`, `history`)
 * have no side effects: staleness is marked by the timer alone, which runs
 * (unref'd) whenever a fresh status exists, whether or not the cache polls.
 * The snapshot is republished at a bounded rate while results stream in
 * (see {@link SnapshotGate}); `get` is always exact. Every status also
 * carries its annotations ({@link Annotator}): when a provider starts or stops
 * failing its dependents are re-annotated, and when the silences change every
 * status is; such a status differs only in them and fires `onChange` alone.
 * One concept (over 300 lines): the commit path, the annotations and
 * staleness share the entries and must be read together.
 * @internal
 */
export class StatusStore {
  readonly #registry: ProviderRegistry;
  readonly #options: ResolvedHealthCacheOptions;
  readonly #clock: Clock;
  readonly #events: CacheEvents;
  readonly #entries = new Map<string, Entry>();
  /** The current status of each entry, kept beside the entries so that a read is one Map lookup. */
  readonly #statuses = new Map<string, Status>();
  #snapshot: readonly Status[] = EMPTY_SNAPSHOT;
  /** The entries in the registry's order, for building snapshots. */
  readonly #order = new StatusOrder<Entry>();
  readonly #gate: SnapshotGate;
  /** Histories imported before the provider's first result or restore: its entry starts with them. */
  readonly #imported = new Map<string, ProviderHistory>();
  /** Names forgotten while registered → the last start sequence then: older checks are dropped. */
  readonly #forgotten = new Map<string, number>();
  #seq = 0;
  #born = 0;
  readonly #staleTimer: StaleTimer;
  /** Stale deadlines, at most one live item per entry (see {@link DeadlineHeap}). */
  readonly #deadlines = new DeadlineHeap<Entry>();
  readonly #annotator: Annotator;
  readonly #silences: Disposable | undefined;

  constructor(registry: ProviderRegistry, options: ResolvedHealthCacheOptions, events: CacheEvents) {
    this.#registry = registry;
    this.#options = options;
    this.#clock = options.clock;
    this.#events = events;
    this.#gate = new SnapshotGate(options.clock, options.snapshotInterval);
    this.#staleTimer = new StaleTimer(options.clock, () => this.#markStale());
    this.#annotator = new Annotator(registry, options.silences, (name) => this.#statuses.get(name));
    this.#silences = options.silences?.onChange(() => this.#resilence());
  }

  /** The next start sequence: take one when a check starts. */
  nextSeq(): number {
    return ++this.#seq;
  }

  /** name → current status, for the façade's `get` (one Map lookup). Read-only for callers. */
  get statuses(): ReadonlyMap<string, Status> {
    return this.#statuses;
  }

  get(name: string): Status | undefined {
    return this.#statuses.get(name);
  }

  /** The published snapshot; rebuilt here only when the gate allows (no clock read, no timer). */
  snapshot(): readonly Status[] {
    if (this.#gate.take()) {
      this.#snapshot = this.#order.build(this.#registry.names(), (name) => this.#entries.get(name));
    }
    return this.#snapshot;
  }

  /** A sweep ended: what it changed is published now. */
  sweepEnded(): void {
    this.#gate.sweepEnded();
  }

  history(name: string): readonly HistorySample[] {
    return this.#historyOf(name)?.samples() ?? [];
  }

  /** See `HealthCache.uptimes`: as of the clock's now, no side effects. */
  uptimes(name: string): WindowUptimes | undefined {
    return this.#historyOf(name)?.uptimes(this.#clock.now());
  }

  /** See `HealthCache.windows`: as of the clock's now, no side effects. */
  windows(name: string): WindowSummary | undefined {
    return this.#historyOf(name)?.windows(this.#clock.now());
  }

  /** See `HealthCache.exportHistory`. */
  exportHistory(name: string): HistoryExport | undefined {
    return this.#historyOf(name)?.export();
  }

  /**
   * See `HealthCache.importHistory`: taken only while `name` is registered
   * and its history is empty (before its first result, or after a restore
   * without a sample); otherwise `false`, and nothing changes.
   * @throws TypeError for malformed data (before anything changes).
   */
  importHistory(name: string, data: HistoryExport): boolean {
    const history = ProviderHistory.from(
      data,
      this.#options.historySize,
      `importHistory(${JSON.stringify(name)})`,
    );
    if (!this.#registry.has(name) || this.#historyOf(name)?.empty === false) return false;
    const entry = this.#entries.get(name);
    if (entry === undefined) this.#imported.set(name, history);
    else entry.history = history;
    return true;
  }

  #historyOf(name: string): ProviderHistory | undefined {
    return this.#entries.get(name)?.history ?? this.#imported.get(name);
  }

  /** The history a new entry starts with: an imported one, else a new one. */
  #newHistory(name: string): ProviderHistory {
    const imported = this.#imported.get(name);
    if (imported === undefined) return new ProviderHistory(this.#options.historySize);
    this.#imported.delete(name);
    return imported;
  }

  /**
   * Records the result of a check started with `seq`. Dropped when the
   * provider was removed or replaced meanwhile, when a check (or restore)
   * started later already recorded, or when the checker's own clock dates it
   * before its previous report.
   */
  record(name: string, provider: Provider, seq: number, result: RawResult): void {
    if (this.#registry.get(name) !== provider) return;
    const entry = this.#entries.get(name);
    if (entry && seq < entry.seq) return;
    const floor = this.#forgotten.get(name);
    if (floor !== undefined && seq <= floor) return;
    const reported = entry?.reported?.provider === provider ? entry.reported.at : undefined;
    if (result.reportedTime && reported !== undefined && result.checkedAt < reported) return;

    const decision = decide(entry, result.state, this.#options);
    const raw = result.message + decision.note;
    const message =
      entry?.rawMessage === raw ? entry.message : cleanMessage(raw, this.#options.maxMessageLength);
    const annotations = this.#annotator.compute(name, decision.held, entry?.status);
    const silenced = annotations.silencedBy.length > 0;
    const sample = Object.freeze({
      checkedAt: new FrozenDate(result.checkedAt),
      latency: result.latency,
      state: result.state,
      silenced,
    });
    const history = entry?.history ?? this.#newHistory(name);
    history.push(result.checkedAt, result.latency, result.state, silenced);
    const status = nextStatus(entry?.status, decision, {
      name,
      state: result.state,
      message,
      latency: result.latency,
      checkedAt: result.checkedAt,
      history: history.summary(),
      details: result.details === undefined ? undefined : copyDetails(result.details),
      labels: annotations.labels,
      dependsOn: annotations.dependsOn,
      blockedBy: annotations.blockedBy,
      silencedBy: annotations.silencedBy,
    });
    this.#commit(name, history, sample, {
      status,
      held: decision.held,
      seq,
      checkedAt: result.checkedAt,
      reported: result.reportedTime ? { provider, at: result.checkedAt } : entry?.reported,
      rawMessage: raw,
      message,
    });
  }

  /**
   * See `HealthCache.restore`. Labels, dependencies, `blockedBy` and
   * `silencedBy` are this cache's (its registry, its silences), whatever the
   * status from elsewhere says; so is whether the sample was silenced.
   */
  restore(status: Status, sample: RestoredSample | undefined): boolean {
    const { name } = status;
    if (!this.#registry.has(name) || status.state === 'stale') return false;
    const checkedAt = status.checkedAt.getTime();
    const entry = this.#entries.get(name);
    if (entry && checkedAt <= entry.checkedAt) return false;
    const held: CheckState = status.state;
    // Details from elsewhere (a Redis record) are copied and scrubbed like a checker's.
    const details = status.details === undefined ? undefined : copyDetails(status.details);
    const annotations = this.#annotator.compute(name, held, entry?.status);
    const silenced = annotations.silencedBy.length > 0;
    const restored: Status = Object.freeze({
      ...status,
      stale: false,
      healthy: held !== 'unhealthy',
      details,
      labels: annotations.labels,
      dependsOn: annotations.dependsOn,
      blockedBy: annotations.blockedBy,
      silencedBy: annotations.silencedBy,
    });
    const history = entry?.history ?? this.#newHistory(name);
    if (sample) history.push(sample.checkedAt.getTime(), sample.latency, sample.state, silenced);
    this.#commit(
      name,
      history,
      Object.freeze(
        sample
          ? { checkedAt: sample.checkedAt, latency: sample.latency, state: sample.state, silenced }
          : { checkedAt: restored.checkedAt, latency: restored.latency, state: held, silenced },
      ),
      {
        status: restored,
        held,
        // Ordered after every check started so far: an older check still in flight cannot replace it.
        seq: this.nextSeq(),
        checkedAt,
        reported: undefined,
        rawMessage: restored.message,
        message: restored.message,
      },
      true,
    );
    return true;
  }

  /**
   * The commit of a check's result and of a restore. Results stream in
   * during sweeps and are published at the gate's pace; a restore (records
   * from another replica arrive in batches) is published at once. When the
   * provider starts or stops failing, its dependents are re-annotated after
   * its own events.
   */
  #commit(
    name: string,
    history: ProviderHistory,
    sample: HistorySample,
    commit: Commit,
    restored = false,
  ): void {
    let entry = this.#entries.get(name);
    const previous = entry?.status;
    if (entry) {
      Object.assign(entry, commit);
    } else {
      entry = { ...commit, history, slot: -1, staleQueued: Infinity, born: this.#born++ };
      this.#entries.set(name, entry);
      this.#order.place(name, entry);
    }
    this.#put(entry, commit.status, restored);
    this.#forgotten.delete(name);
    const { status } = commit;
    const from = previous?.state ?? 'unknown';
    const result: CheckResult = { name, status, previous, sample };
    this.#events.result.emit(result);
    if (from !== commit.held) this.#events.transition.emit({ name, from, to: commit.held, status });
    this.#events.change.emit({ name, status });
    if (isFailing(previous?.state) !== isFailing(status.state)) this.#reannotateDependents(name, restored);
    const deadline = commit.checkedAt + this.#options.staleAfter;
    if (deadline < entry.staleQueued) {
      // An item with a later deadline (a checker's clock went back) is left as an orphan: skipped when due.
      entry.staleQueued = deadline;
      this.#deadlines.push(deadline, entry);
    }
    // Already old (a restored status, a checker's clock far behind): stale at once, not on the next tick.
    if (deadline <= this.#clock.now()) {
      this.#staleTimer.reset();
      this.#markStale();
    } else this.#staleTimer.watch(deadline);
  }

  /**
   * The one path by which an entry's status changes: the entry, the map `get`
   * reads and the snapshot order, then the gate (before any event, so a
   * listener reading `snapshot()` sees what the gate allows).
   */
  #put(entry: Entry, status: Status, now: boolean): void {
    entry.status = status;
    this.#order.update(entry);
    this.#statuses.set(status.name, status);
    if (now) this.#gate.publishNow();
    else this.#gate.changed();
  }

  /**
   * Recomputes the annotations of `name` (its registration changed: new
   * labels or dependencies); `onChange` fires when they differ. Its own
   * failing-ness is unchanged, so its dependents need nothing.
   */
  reannotate(name: string): void {
    const entry = this.#entries.get(name);
    if (entry !== undefined) this.#reannotate(entry, true);
  }

  #reannotate(entry: Entry, now: boolean): void {
    const status = this.#annotator.reannotate(entry.status);
    if (status === entry.status) return;
    this.#put(entry, status, now);
    this.#events.change.emit({ name: status.name, status });
  }

  /** `name` started or stopped failing (or lost its status): its dependents' `blockedBy` may change. */
  #reannotateDependents(name: string, now: boolean): void {
    for (const dependent of this.#registry.dependents(name)) {
      const entry = this.#entries.get(dependent);
      if (entry !== undefined) this.#reannotate(entry, now);
    }
  }

  /** The silences changed: every status is asked again (O(n); silences change rarely), published at once. */
  #resilence(): void {
    for (const entry of this.#entries.values()) this.#reannotate(entry, true);
  }

  /** Drops `name` (unregistered), with its removal and change events. */
  remove(name: string): void {
    this.#forgotten.delete(name);
    this.#imported.delete(name);
    const entry = this.#drop(name);
    this.#events.removal.emit({ name, status: entry?.status });
    this.#events.change.emit({ name, status: undefined });
    if (isFailing(entry?.status.state)) this.#reannotateDependents(name, true);
  }

  /**
   * Drops the status of `name`, still registered, as an unregistration
   * would; checks started before are dropped when they end.
   * `false` (and no events) when it had no status.
   */
  forget(name: string): boolean {
    if (this.#registry.has(name)) this.#forgotten.set(name, this.#seq);
    this.#imported.delete(name);
    const entry = this.#drop(name);
    if (entry === undefined) return false;
    this.#events.removal.emit({ name, status: entry.status });
    this.#events.change.emit({ name, status: undefined });
    // No status is no failure: its dependents are no longer blocked by it.
    if (isFailing(entry.status.state)) this.#reannotateDependents(name, true);
    return true;
  }

  #drop(name: string): Entry | undefined {
    const entry = this.#entries.get(name);
    if (entry === undefined) return undefined;
    this.#entries.delete(name);
    this.#statuses.delete(name);
    this.#order.place(name, undefined);
    this.#gate.publishNow();
    return entry;
  }

  /** Stops the stale timer for good and stops following the silences; reads keep answering. */
  dispose(): void {
    this.#gate.dispose();
    this.#staleTimer.dispose();
    this.#silences?.dispose();
  }

  /**
   * Marks every status whose deadline has come (`<=`: due at the deadline
   * itself), then re-arms. All of them turn stale before any is annotated
   * and before any event, so `blockedBy` sees every dependency that turned
   * stale with it and listeners see a consistent cache.
   */
  #markStale(): void {
    const now = this.#clock.now();
    const { staleAfter } = this.#options;
    const due: { entry: Entry; previous: Status }[] = [];
    const take = (at: number, entry: Entry): void => {
      // An orphan (re-queued earlier), a dropped entry or one already stale: nothing to do.
      if (at !== entry.staleQueued) return;
      entry.staleQueued = Infinity;
      if (entry.status.stale || this.#entries.get(entry.status.name) !== entry) return;
      const deadline = entry.checkedAt + staleAfter;
      if (deadline <= now) due.push({ entry, previous: entry.status });
      else {
        // Checked again since it was queued: queued again for its new deadline.
        entry.staleQueued = deadline;
        this.#deadlines.push(deadline, entry);
      }
    };
    while (this.#deadlines.next <= now) this.#deadlines.pop(take);
    if (due.length > 1) due.sort((a, b) => a.entry.born - b.entry.born);
    for (const { entry, previous } of due) {
      this.#put(entry, Object.freeze({ ...previous, state: 'stale', stale: true, healthy: false }), true);
    }
    for (const { entry } of due) {
      const annotated = this.#annotator.reannotate(entry.status);
      if (annotated !== entry.status) this.#put(entry, annotated, true);
    }
    for (const { entry, previous } of due) {
      const { status } = entry;
      this.#events.transition.emit({ name: status.name, from: previous.state, to: 'stale', status });
      this.#events.change.emit({ name: status.name, status });
    }
    for (const { entry, previous } of due) {
      if (!isFailing(previous.state)) this.#reannotateDependents(entry.status.name, true);
    }
    if (this.#deadlines.next !== Infinity) this.#staleTimer.watch(this.#deadlines.next);
  }
}
