import type { Clock, TimerHandle } from '../clock.js';
import type { Disposable } from '../disposable.js';
import type { MaintenanceSchedule, WindowChange } from '../quiet/maintenance-schedule.js';
import { parseSilenceInput, type Silence } from '../quiet/silence.js';
import type { SilenceControl } from '../quiet/silence-control.js';
import { SilenceConflictError, SilenceLimitError, type SilenceSet } from '../quiet/silence-set.js';
import type { SharedKeys } from './keys.js';
import {
  BadSilenceRecordError,
  decodeSilence,
  encodeSilence,
  matchersKey,
  MAX_SILENCE_RECORD_LENGTH,
} from './silence-record.js';
import { RedisSilenceStore, type LoadedSilences, type SilenceClient } from './silence-store.js';

/**
 * How often each replica reads the version key: a change made on any replica
 * is in force on all within this plus one read of the hash, well inside 1 s.
 */
export const SILENCE_POLL_INTERVAL = 250;
/** Every replica reads the whole hash at least this often, version or not (catches edits made by hand). */
export const SILENCE_FULL_RELOAD_INTERVAL = 30_000;
/** At most this many bad records are remembered (and so reported) at once. */
const MAX_REMEMBERED = 64;
/** The longest id looked up in Redis: a silence id is a 36-character UUID. */
const MAX_ID_LENGTH = 64;

/** What {@link SharedSilences} works with and reports to. @internal */
export interface SharedSilencesParts {
  /** This replica's copy of the shared set, which its cache's silence source reads. */
  readonly set: SilenceSet;
  readonly schedule: MaintenanceSchedule | undefined;
  readonly keys: Pick<SharedKeys, 'silences' | 'silencesVersion'>;
  readonly clock: Clock;
  readonly commandTimeout: number;
  readonly maxSilences: number;
  /** A failed Redis call (reported once per outage by the replica). */
  readonly report: (error: unknown) => void;
  /** A skipped record. */
  readonly badRecord: (error: BadSilenceRecordError) => void;
  /** The error to throw to a caller, scrubbed of credentials. */
  readonly scrub: (error: unknown) => Error;
}

/**
 * The silences of a replica set, in Redis: a {@link SilenceControl} whose
 * writes go through Redis atomically (conflict and limit checked in one
 * script), and a follower that keeps this replica's {@link SilenceSet} equal
 * to what Redis holds. Changes are announced by a version key that every
 * replica reads every {@link SILENCE_POLL_INTERVAL} ms rather than by
 * pub/sub: a lost message (a subscriber reconnecting, a failover) would
 * leave a replica wrong until something else changed, while a missed poll
 * only delays the next one. @internal
 */
export class SharedSilences implements SilenceControl, Disposable {
  readonly #parts: SharedSilencesParts;
  #store: RedisSilenceStore | undefined;
  /** The version of the last load applied; `undefined` forces a load. */
  #version: string | null | undefined;
  #lastFullLoad = -Infinity;
  /** Bumped by every write of ours, so a load that started before one is not applied over it. */
  #writes = 0;
  #timer: TimerHandle;
  #timerSet = false;
  #polling: Promise<void> | undefined;
  /** A poll was asked for while one ran: run another at once. */
  #again = false;
  /** Silences ended here by recovery, still to delete from Redis (retried at every poll until done). */
  readonly #recovered = new Set<string>();
  readonly #bad = new Map<string, string>();
  /** The message of the last failed poll reported, until a poll succeeds. */
  #reported: string | undefined;
  readonly #subscription: Disposable;

  constructor(parts: SharedSilencesParts) {
    this.#parts = parts;
    // A silence ended by recovery (`followRecovery`) here ends everywhere; otherwise the next load brings it back.
    this.#subscription = parts.set.onExpired(({ silence, reason }) => {
      if (reason !== 'recovered') return;
      this.#recovered.add(silence.id);
      this.#schedule(0);
    });
  }

  /** Starts following Redis through `client`; the function returned stops it. */
  attach(client: SilenceClient): () => Promise<void> {
    const { keys, clock, commandTimeout } = this.#parts;
    const store = new RedisSilenceStore(client, keys, { clock, timeout: commandTimeout });
    this.#store = store;
    this.#version = undefined;
    this.#again = false;
    this.#schedule(0);
    return async () => {
      if (this.#store === store) this.#store = undefined;
      this.#clearTimer();
      await this.#polling;
    };
  }

  list(): readonly Silence[] {
    return this.#parts.set.list();
  }

  openWindows(): readonly WindowChange[] {
    return this.#parts.schedule?.active() ?? [];
  }

  async add(input: unknown, signal?: AbortSignal): Promise<Silence> {
    signal?.throwIfAborted();
    const { clock, maxSilences, set } = this.#parts;
    const now = clock.now();
    const silence = parseSilenceInput(input, now);
    const record = encodeSilence(silence);
    const store = this.#connected();
    const write = {
      id: silence.id,
      record,
      startsAt: silence.startsAt.getTime(),
      endsAt: silence.endsAt.getTime(),
      matchersKey: matchersKey(silence),
    };
    // Not abandoned once sent: the add takes effect in Redis or not at all, whatever the caller does.
    const outcome = await this.#call(() => store.add(write, maxSilences, now));
    if (outcome.kind === 'conflict') throw new SilenceConflictError(outcome.existing);
    if (outcome.kind === 'limit') throw new SilenceLimitError(maxSilences);
    this.#writes++;
    // In force here at once; the others follow at their next read of the version.
    set.replace([...set.list().filter((held) => held.id !== silence.id), silence]);
    return silence;
  }

  async expire(id: string, signal?: AbortSignal): Promise<boolean> {
    signal?.throwIfAborted();
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) return false;
    const store = this.#connected();
    const removed = await this.#call(() => store.expire(id));
    this.#writes++;
    if (removed) {
      this.#parts.set.expire(id);
      return true;
    }
    // Held here but not in Redis: this copy is behind; read it again.
    if (this.#parts.set.get(id) !== undefined) this.#version = undefined;
    return false;
  }

  dispose(): void {
    this.#subscription.dispose();
    this.#store = undefined;
    this.#clearTimer();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #connected(): RedisSilenceStore {
    const store = this.#store;
    if (store === undefined)
      throw new Error('shared silences: not connected to Redis (the SharedHealthCache is not running)');
    return store;
  }

  async #call<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw this.#parts.scrub(error);
    }
  }

  /** Deletes from Redis the silences ended here by recovery. Throws on a failed call (the rest wait for the next poll). */
  async #expireRecovered(store: RedisSilenceStore): Promise<void> {
    for (const id of [...this.#recovered]) {
      await store.expire(id);
      this.#writes++;
      this.#recovered.delete(id);
    }
  }

  /** The next poll in `delay` ms (while attached); one poll at a time. */
  #schedule(delay: number): void {
    this.#clearTimer();
    if (this.#store === undefined) return;
    this.#timerSet = true;
    this.#timer = this.#parts.clock.setTimeout(() => {
      this.#timerSet = false;
      if (this.#polling !== undefined) {
        this.#again = true;
        return;
      }
      this.#polling = this.#poll().finally(() => {
        this.#polling = undefined;
        const again = this.#again;
        this.#again = false;
        this.#schedule(again ? 0 : SILENCE_POLL_INTERVAL);
      });
    }, delay);
  }

  #clearTimer(): void {
    if (this.#timerSet) this.#parts.clock.clearTimeout(this.#timer);
    this.#timerSet = false;
  }

  /** Reads the version, and the whole hash when it changed (or a full reload is due). Never rejects. */
  async #poll(): Promise<void> {
    const store = this.#store;
    // While Redis is away every call would fail at once: the replica reports the outage already.
    if (store === undefined || !store.ready) return;
    try {
      if (this.#recovered.size > 0) await this.#expireRecovered(store);
      const due = this.#parts.clock.now() - this.#lastFullLoad >= SILENCE_FULL_RELOAD_INTERVAL;
      if (!due && this.#version !== undefined && (await store.version()) === this.#version) {
        this.#reported = undefined;
        return;
      }
      const writes = this.#writes;
      const loaded = await store.load(2 * this.#parts.maxSilences, MAX_SILENCE_RECORD_LENGTH);
      // A write of ours since the read began: the read may miss it. Read again next time.
      if (writes !== this.#writes || this.#store !== store) return;
      if (this.#apply(loaded)) this.#reported = undefined;
    } catch (error) {
      this.#problem(error);
    }
  }

  /**
   * Reports a failed poll unless it is the one reported last: Redis answers
   * the replica's other calls meanwhile (which ends its outage and so its own
   * de-duplication), and a poll runs every 250 ms.
   */
  #problem(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (message === this.#reported) return;
    this.#reported = message;
    this.#parts.report(error);
  }

  /** Applies a read of the hash; `false` when it was too large to read. */
  #apply(loaded: LoadedSilences): boolean {
    if (loaded.kind === 'too-many') {
      const limit = 2 * this.#parts.maxSilences;
      this.#problem(
        new Error(
          `the shared silences hash holds ${loaded.size} entries, more than ${limit} (twice maxSilences): not read, silences stay as they were`,
        ),
      );
      return false;
    }
    const silences: Silence[] = [];
    for (const [id, text] of loaded.records) {
      const decoded =
        typeof text === 'number'
          ? `record is over ${MAX_SILENCE_RECORD_LENGTH} characters (${text})`
          : decodeSilence(id, text);
      if (typeof decoded === 'string') {
        this.#badRecord(id, decoded);
        continue;
      }
      this.#bad.delete(id);
      // Ended here by recovery, its deletion not yet through: it stays ended.
      if (!this.#recovered.has(id)) silences.push(decoded);
    }
    for (const id of this.#bad.keys()) if (!loaded.records.has(id)) this.#bad.delete(id);
    this.#parts.set.replace(silences);
    this.#version = loaded.version;
    this.#lastFullLoad = this.#parts.clock.now();
    return true;
  }

  #badRecord(id: string, reason: string): void {
    if (this.#bad.get(id) === reason || this.#bad.size >= MAX_REMEMBERED) return;
    this.#bad.set(id, reason);
    this.#parts.badRecord(new BadSilenceRecordError(id, reason));
  }
}
