import type { CacheEvents } from './cache-events.js';
import type { Clock, TimerHandle } from './clock.js';
import { copyDetails } from './details.js';
import type { CheckResult } from './events.js';
import { HistoryRing, type HistorySample } from './history.js';
import { cleanMessage } from './messages.js';
import { SnapshotGate } from './snapshot-gate.js';
import { StatusOrder } from './status-order.js';
import type { ResolvedHealthCacheOptions } from './options.js';
import type { Provider } from './provider.js';
import type { ProviderRegistry } from './registry.js';
import type { RawResult } from './run-check.js';
import { FrozenDate, type CheckState, type Status } from './status.js';
import { decide, nextStatus } from './transition.js';

interface Entry {
  status: Status;
  /** The state before any staleness. */
  held: CheckState;
  /** Start order of the check (or restore) that produced `status`: results of older starts are dropped. */
  seq: number;
  checkedAt: number;
  /** The last time the current provider reported itself, on its own clock. */
  reported: { readonly provider: Provider; readonly at: number } | undefined;
  readonly history: HistoryRing;
  /** The last raw message and its cleaned form: most checks repeat their message, so cleaning is skipped. */
  rawMessage: string;
  message: string;
  /** Its place in the snapshot order (see {@link StatusOrder}). */
  slot: number;
}

/** What a commit changes in an entry. */
type Commit = Pick<Entry, 'status' | 'held' | 'seq' | 'checkedAt' | 'reported' | 'rawMessage' | 'message'>;

const EMPTY_SNAPSHOT: readonly Status[] = Object.freeze([]);
const NO_NAMES: readonly string[] = Object.freeze([]);

/**
 * The statuses of one cache: entries ordered by start sequence, their history,
 * the snapshot, and the one stale timer. Reads (`get`, `snapshot`, `history`)
 * have no side effects: staleness is marked by the timer alone, which runs
 * (unref'd) whenever a fresh status exists, whether or not the cache polls.
 * The snapshot is republished at a bounded rate while results stream in
 * (see {@link SnapshotGate}); `get` is always exact.
 * One concept (a little over 300 lines): the commit path and the stale timer
 * share the entries and must be read together.
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
  /** Names forgotten while registered → the last start sequence then: older checks are dropped. */
  readonly #forgotten = new Map<string, number>();
  #seq = 0;
  #staleTimer: TimerHandle;
  /** When the stale timer fires; `Infinity` when none is armed. */
  #staleAt = Infinity;
  #disposed = false;

  constructor(registry: ProviderRegistry, options: ResolvedHealthCacheOptions, events: CacheEvents) {
    this.#registry = registry;
    this.#options = options;
    this.#clock = options.clock;
    this.#events = events;
    this.#gate = new SnapshotGate(options.clock, options.snapshotInterval);
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
    return this.#entries.get(name)?.history.samples() ?? [];
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
    const sample = Object.freeze({
      checkedAt: new FrozenDate(result.checkedAt),
      latency: result.latency,
      state: result.state,
    });
    const history = entry?.history ?? new HistoryRing(this.#options.historySize);
    history.push(result.checkedAt, result.latency, result.state);
    const status = nextStatus(entry?.status, decision, {
      name,
      state: result.state,
      message,
      latency: result.latency,
      checkedAt: result.checkedAt,
      history: history.summary(),
      details: result.details === undefined ? undefined : copyDetails(result.details),
      labels: this.#registry.labels(name),
      dependsOn: this.#registry.dependsOn(name),
      blockedBy: NO_NAMES, // computed by the issue-11 core wiring
      silencedBy: NO_NAMES,
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

  /** See `HealthCache.restore`. */
  restore(status: Status, sample: HistorySample | undefined): boolean {
    const { name } = status;
    if (!this.#registry.has(name) || status.state === 'stale') return false;
    const checkedAt = status.checkedAt.getTime();
    const entry = this.#entries.get(name);
    if (entry && checkedAt <= entry.checkedAt) return false;
    const held: CheckState = status.state;
    // Details from elsewhere (a Redis record) are copied and scrubbed like a checker's.
    const details = status.details === undefined ? undefined : copyDetails(status.details);
    const restored: Status = Object.freeze({
      ...status,
      stale: false,
      healthy: held !== 'unhealthy',
      details,
    });
    const history = entry?.history ?? new HistoryRing(this.#options.historySize);
    if (sample) history.push(sample.checkedAt.getTime(), sample.latency, sample.state);
    this.#commit(
      name,
      history,
      sample ?? Object.freeze({ checkedAt: restored.checkedAt, latency: restored.latency, state: held }),
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
   * The one commit path of a check's result and of a restore. Results
   * stream in during sweeps and are published at the gate's pace; a restore
   * (records from another replica arrive in batches) is published at once.
   */
  #commit(name: string, history: HistoryRing, sample: HistorySample, commit: Commit, restored = false): void {
    const entry = this.#entries.get(name);
    const previous = entry?.status;
    if (entry) {
      Object.assign(entry, commit);
      this.#order.update(entry);
    } else {
      const created: Entry = { ...commit, history, slot: -1 };
      this.#entries.set(name, created);
      this.#order.place(name, created);
    }
    this.#statuses.set(name, commit.status);
    this.#forgotten.delete(name);
    // Before the events, so a listener reading snapshot() sees what the gate allows.
    if (restored) this.#gate.publishNow();
    else this.#gate.changed();
    const { status } = commit;
    const from = previous?.state ?? 'unknown';
    const result: CheckResult = { name, status, previous, sample };
    this.#events.result.emit(result);
    if (from !== commit.held) this.#events.transition.emit({ name, from, to: commit.held, status });
    this.#events.change.emit({ name, status });
    const deadline = commit.checkedAt + this.#options.staleAfter;
    // Already old (a restored status, a checker's clock far behind): stale at once, not on the next tick.
    if (deadline <= this.#clock.now()) this.#markStale();
    else this.#watch(deadline);
  }

  /** Drops `name` (unregistered), with its removal and change events. */
  remove(name: string): void {
    this.#forgotten.delete(name);
    const entry = this.#drop(name);
    this.#events.removal.emit({ name, status: entry?.status });
    this.#events.change.emit({ name, status: undefined });
  }

  /**
   * Drops the status of `name`, still registered, as an unregistration
   * would; checks started before are dropped when they end.
   * `false` (and no events) when it had no status.
   */
  forget(name: string): boolean {
    if (this.#registry.has(name)) this.#forgotten.set(name, this.#seq);
    const entry = this.#drop(name);
    if (entry === undefined) return false;
    this.#events.removal.emit({ name, status: entry.status });
    this.#events.change.emit({ name, status: undefined });
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

  /** Stops the stale timer for good; reads keep answering. */
  dispose(): void {
    this.#disposed = true;
    this.#gate.dispose();
    this.#clock.clearTimeout(this.#staleTimer);
    this.#staleTimer = undefined;
    this.#staleAt = Infinity;
  }

  /** Makes sure the stale timer fires no later than `deadline`. */
  #watch(deadline: number): void {
    if (this.#disposed || deadline >= this.#staleAt) return;
    this.#clock.clearTimeout(this.#staleTimer);
    this.#staleAt = deadline;
    // A background timer: staleness alone never keeps a program alive.
    this.#staleTimer = this.#clock.setTimeout(
      () => this.#markStale(),
      Math.max(0, deadline - this.#clock.now()),
    );
  }

  /** Marks every status whose deadline has come (`<=`: due at the deadline itself), then re-arms. */
  #markStale(): void {
    this.#staleTimer = undefined;
    this.#staleAt = Infinity;
    const now = this.#clock.now();
    const { staleAfter } = this.#options;
    let next = Infinity;
    const due: Entry[] = [];
    for (const entry of this.#entries.values()) {
      if (entry.status.stale) continue;
      const deadline = entry.checkedAt + staleAfter;
      if (deadline <= now) due.push(entry);
      else if (deadline < next) next = deadline;
    }
    if (due.length > 0) this.#gate.publishNow();
    for (const entry of due) {
      const previous = entry.status;
      entry.status = Object.freeze({ ...previous, state: 'stale', stale: true, healthy: false });
      this.#order.update(entry);
      this.#statuses.set(previous.name, entry.status);
      this.#events.transition.emit({
        name: previous.name,
        from: previous.state,
        to: 'stale',
        status: entry.status,
      });
      this.#events.change.emit({ name: previous.name, status: entry.status });
    }
    if (next !== Infinity) this.#watch(next);
  }
}
