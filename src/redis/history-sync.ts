import type { Clock, TimerHandle } from '../clock.js';
import type { Disposable } from '../disposable.js';
import type { HealthCache } from '../health-cache.js';
import type { HistoryExport } from '../history-keeper.js';
import type { HistorySample } from '../history.js';
import type { Status } from '../status.js';
import {
  BadHistoryEntryError,
  decodeHistoryEntry,
  encodeHistoryEntry,
  maxEntryLength,
  type HistoryEntry,
  type RecordIdentity,
} from './history-entry.js';
import { HistoryStore, type HistoryKeys } from './history-store.js';
import type { Tenure } from './lease.js';
import type { MirrorTarget } from './mirror.js';
import type { WriteFence } from './store.js';
import type { SharedKeys } from './keys.js';
import type { ResolvedSharedOptions } from './options.js';
import type { RedisClient } from './target.js';

/** The default `historyInterval`: each provider's history is written at most once a minute. */
export const DEFAULT_HISTORY_INTERVAL = 60_000;
/** At most this many bad entries are remembered (and so reported) at once. */
const MAX_REMEMBERED = 64;

/** What {@link HistorySync} works with and reports to. @internal */
export interface HistorySyncParts {
  /** This replica's own cache (every result, own or mirrored, goes through it). */
  readonly cache: HealthCache;
  readonly keys: HistoryKeys;
  readonly clock: Clock;
  readonly commandTimeout: number;
  /** How often the histories with new results are written, in ms. */
  readonly interval: number;
  readonly fence: WriteFence;
  /** The tenure to write under while this replica may write (leader, or member within its bound). */
  readonly writable: () => Tenure | undefined;
  /** Whether this replica polls `name` (always, for a leader; its share, when sharded). */
  readonly mine: (name: string) => boolean;
  /** A failed Redis call (the replica reports each message once per outage). */
  readonly report: (error: unknown) => void;
  /** A skipped entry. */
  readonly badEntry: (error: BadHistoryEntryError) => void;
}

/** What a replica tells its {@link HistorySync}: when it may write, what it polls, where problems go. @internal */
export type ReplicaHistoryHooks = Pick<HistorySyncParts, 'writable' | 'mine' | 'report' | 'badEntry'>;

/** The {@link HistorySync} of a replica with these options. @internal */
export function replicaHistory(
  cache: HealthCache,
  keys: SharedKeys,
  shared: ResolvedSharedOptions,
  clock: Clock,
  hooks: ReplicaHistoryHooks,
): HistorySync {
  const { commandTimeout, historyInterval: interval, shards } = shared;
  return new HistorySync({
    ...hooks,
    cache,
    keys,
    clock,
    commandTimeout,
    interval,
    fence: shards ? 'membership' : 'lease',
  });
}

/** A history read from Redis, waiting for its provider's first mirrored status. */
interface Pending {
  readonly history: HistoryExport;
  readonly record: RecordIdentity | undefined;
}

/**
 * Each provider's history (ring and 24h/7d/30d windows) kept in the
 * `{prefix}:history` hash, so a replica that starts or takes over shows the
 * full sparklines and uptime at once.
 *
 * Writing: the replica that polls a provider writes its history every
 * `interval` when it had results since, and once more on the way out
 * (hand-over), fenced by its lease or membership (see `HistoryStore.save`).
 * A `kill -9` loses at most one interval of history; a follower that takes
 * over has it anyway, from the results it mirrored.
 *
 * Reading: once per `run`, before the mirror applies anything (restores are
 * held back until the read is done; the replica's first load applies them).
 * A history is imported right before its provider's first mirrored status,
 * without that status's sample when the history already holds it (same
 * record), so nothing is counted twice; providers without a record are
 * imported at once. @internal
 */
export class HistorySync implements Disposable {
  readonly #parts: HistorySyncParts;
  readonly #maxLength: number;
  #store: HistoryStore | undefined;
  /** `true` while the read of a run is under way: mirrored restores wait for it. */
  #loading = false;
  readonly #pending = new Map<string, Pending>();
  /** Names with results since their history was last written. */
  readonly #dirty = new Set<string>();
  /** The record behind each provider's last sample. */
  readonly #last = new Map<string, RecordIdentity | undefined>();
  /** The record of the restore under way, so its result is told from this replica's own. */
  #mirroring: { readonly name: string; readonly record: RecordIdentity | undefined } | undefined;
  readonly #bad = new Map<string, string>();
  #timer: TimerHandle;
  #timerSet = false;
  #writing: Promise<void> | undefined;
  readonly #subscriptions: Disposable[];

  constructor(parts: HistorySyncParts) {
    this.#parts = parts;
    this.#maxLength = maxEntryLength(parts.cache.options.historySize);
    const { cache } = parts;
    this.#subscriptions = [
      cache.onResult(({ status }) => this.#result(status)),
      cache.onRemove(({ name }) => {
        this.#dirty.delete(name);
        this.#last.delete(name);
        this.#pending.delete(name);
      }),
    ];
  }

  /** The mirror's target: `view` with each provider's history imported before its first mirrored status. */
  target(view: MirrorTarget): MirrorTarget {
    return {
      restore: (status, sample, record) => this.#restore(view, status, sample, record),
      forget: (name) => view.forget(name),
    };
  }

  /**
   * Reads the histories of the registered providers through `client` and
   * starts writing every `interval` (while this replica may). Failures are
   * reported; the replica then starts with the histories it sees from now on.
   */
  async load(client: RedisClient): Promise<void> {
    const { keys, clock, commandTimeout, fence, cache } = this.#parts;
    const store = new HistoryStore(client, keys, { clock, timeout: commandTimeout }, fence);
    this.#store = store;
    this.#schedule();
    this.#loading = true;
    try {
      const loaded = await store.load(cache.registry.names(), this.#maxLength);
      for (const [name, { entry, hasRecord }] of loaded) {
        if (entry === undefined) continue;
        const decoded =
          typeof entry === 'number'
            ? `entry of ${entry} characters is over ${this.#maxLength}`
            : decodeHistoryEntry(entry, this.#maxLength);
        if (typeof decoded === 'string') {
          this.#badEntry(name, decoded);
          continue;
        }
        this.#bad.delete(name);
        if (hasRecord) this.#pending.set(name, decoded);
        else this.#import(name, decoded);
      }
    } catch (error) {
      this.#parts.report(error);
    } finally {
      this.#loading = false;
    }
  }

  /** Writes the histories with new results now, if this replica may; one write at a time. Never rejects. */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
    this.#writing = this.#write().finally(() => (this.#writing = undefined));
    await this.#writing;
  }

  /** Stops writing (the run ended); what was read and not yet imported is dropped. */
  async detach(): Promise<void> {
    this.#store = undefined;
    this.#clearTimer();
    this.#pending.clear();
    await this.#writing;
  }

  dispose(): void {
    for (const subscription of this.#subscriptions) subscription.dispose();
    this.#store = undefined;
    this.#clearTimer();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #restore(
    view: MirrorTarget,
    status: Status,
    sample: HistorySample | undefined,
    record: RecordIdentity | undefined,
  ): boolean {
    // Not applied (and so not marked applied): the replica's first load, right after the read, applies it.
    if (this.#loading) return false;
    const { name } = status;
    const pending = this.#pending.get(name);
    let kept = sample;
    if (pending !== undefined) {
      this.#pending.delete(name);
      if (this.#import(name, pending) && holds(pending.record, record)) kept = undefined;
    }
    this.#mirroring = { name, record };
    try {
      return view.restore(status, kept, record);
    } finally {
      this.#mirroring = undefined;
    }
  }

  #import(name: string, entry: Pending | HistoryEntry): boolean {
    try {
      if (!this.#parts.cache.importHistory(name, entry.history)) return false;
      this.#last.set(name, entry.record);
      return true;
    } catch (error) {
      this.#badEntry(name, error instanceof Error ? error.message : String(error));
      return false;
    }
  }

  /** Every result, own or mirrored: remembers which record it is and that the history changed. */
  #result(status: Status): void {
    const { name } = status;
    const mirroring = this.#mirroring;
    if (mirroring?.name === name) this.#last.set(name, mirroring.record);
    else {
      // This replica's own check: its record is written under the current tenure, with this checkedAt.
      const tenure = this.#parts.writable();
      this.#last.set(name, tenure && { token: tenure.token, checkedAt: status.checkedAt.getTime() });
    }
    this.#dirty.add(name);
  }

  async #write(): Promise<void> {
    const store = this.#store;
    const tenure = this.#parts.writable();
    // Past our own bound on the tenure a successor may poll: not ours to write (the script checks again).
    if (store === undefined || tenure === undefined || !store.ready) return;
    const { cache, mine } = this.#parts;
    const names = [...this.#dirty].filter(mine);
    const entries: [string, string][] = [];
    for (const name of names) {
      this.#dirty.delete(name);
      const history = cache.exportHistory(name);
      if (history === undefined || history.samples.length === 0) continue;
      try {
        entries.push([
          name,
          encodeHistoryEntry({ writer: tenure.token, record: this.#last.get(name), history }),
        ]);
      } catch (error) {
        this.#parts.report(error);
      }
    }
    if (entries.length === 0) return;
    try {
      await store.save(tenure, entries);
    } catch (error) {
      this.#parts.report(error);
      if (this.#store === store) for (const [name] of entries) this.#dirty.add(name);
    }
  }

  #schedule(): void {
    this.#clearTimer();
    if (this.#store === undefined) return;
    this.#timerSet = true;
    this.#timer = this.#parts.clock.setTimeout(() => {
      this.#timerSet = false;
      void this.flush().finally(() => this.#schedule());
    }, this.#parts.interval);
  }

  #clearTimer(): void {
    if (this.#timerSet) this.#parts.clock.clearTimeout(this.#timer);
    this.#timerSet = false;
  }

  #badEntry(name: string, reason: string): void {
    if (this.#bad.get(name) === reason || this.#bad.size >= MAX_REMEMBERED) return;
    this.#bad.set(name, reason);
    this.#parts.badEntry(new BadHistoryEntryError(name, reason));
  }
}

/**
 * Whether a history whose last sample came from record `last` already holds
 * the sample of `record`: the same record, or an older one of the same
 * tenure (one clock), or one of an earlier tenure (tokens only grow; with
 * shards a provider that moved to an older member may lose that one sample).
 */
function holds(last: RecordIdentity | undefined, record: RecordIdentity | undefined): boolean {
  if (last === undefined || record === undefined) return false;
  if (record.token === last.token) return record.checkedAt <= last.checkedAt;
  return record.token < last.token;
}
