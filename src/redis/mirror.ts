import type { Clock } from '../clock.js';
import type { HistorySample } from '../history.js';
import { FrozenDate, type Status } from '../status.js';
import { decodeStatus, parseRecord, type DecodedStatus, type RecordBounds } from './codec.js';
import type { RecordIdentity } from './history-entry.js';
import type { LoadedRecords } from './store.js';
import type { RedisTrouble } from './trouble.js';

/** The longest updates message parsed, in characters (a batch of records). */
export const MAX_UPDATE_LENGTH = 16 * 1024 * 1024;

/** What the mirror changes: the local view. @internal */
export interface MirrorTarget {
  /** Records a status decided elsewhere; `false` when not newer than the one held (or not registered). `record`: its token and `checkedAt` as written. */
  restore(status: Status, sample?: HistorySample, record?: RecordIdentity): boolean;
  /** Drops the status of `name` (its record was deleted from Redis). */
  forget(name: string): void;
}

/** Limits on what the mirror accepts. @internal */
export interface MirrorOptions extends RecordBounds {
  /** How far ahead of the reference clock a record's time may be, in ms. */
  readonly maxClockSkew: number;
}

/**
 * Applies what Redis holds to the local view: records published by the
 * leader, records loaded from the hash, and deletions. Every record is
 * validated and bounded (bad ones are ignored and reported) and dated on
 * this replica's clock: its age comes from Redis's clock (`writtenAt`) and
 * the writer's own (`age`), so no two replicas' clocks are ever compared.
 * @internal
 */
export class Mirror {
  readonly #target: MirrorTarget;
  readonly #clock: Clock;
  readonly #options: MirrorOptions;
  readonly #trouble: RedisTrouble;
  /** Names whose status came from Redis, with the identity of the record applied. */
  readonly #applied = new Map<string, string>();

  constructor(target: MirrorTarget, clock: Clock, options: MirrorOptions, trouble: RedisTrouble) {
    this.#target = target;
    this.#clock = clock;
    this.#options = options;
    this.#trouble = trouble;
  }

  /**
   * Applies a batch published on the updates channel (just written: no time
   * since the write). `skip`: names this replica checks itself (its share, when sharded).
   */
  applyUpdate(message: string, skip?: (name: string) => boolean): void {
    if (message.length > MAX_UPDATE_LENGTH) {
      this.#trouble.badRecord(undefined, `update of ${message.length} characters is too large`, 'update');
      return;
    }
    let batch: unknown;
    try {
      batch = JSON.parse(message);
    } catch {
      this.#trouble.badRecord(undefined, 'update is not JSON', 'update');
      return;
    }
    if (!Array.isArray(batch)) return;
    for (const record of batch) {
      const name = (record as { name?: unknown } | null)?.name;
      if (skip !== undefined && typeof name === 'string' && skip(name)) continue;
      this.#apply(decodeStatus(record, this.#options), 0, undefined, 'update');
    }
  }

  /** Applies loaded records; a record that is gone removes the status mirrored from it. */
  applyLoad(loaded: LoadedRecords): void {
    for (const [name, text] of loaded.records) {
      if (text === undefined) {
        this.#deleted(name);
        continue;
      }
      const decoded = decodeStatus(parseRecord(text), this.#options);
      this.#apply(decoded, loaded.redisNow, name, 'load');
    }
  }

  /** Forgets which records were applied (after a reconnect Redis may hold anything, even nothing). */
  reset(): void {
    this.#applied.clear();
  }

  #deleted(name: string): void {
    this.#trouble.recordGood(name);
    if (!this.#applied.delete(name)) return;
    this.#target.forget(name);
  }

  /**
   * @param redisNow Redis's clock when the record was read; 0 when just published.
   * @param expected The hash field it was read from (a record must be about its own field).
   */
  #apply(
    decoded: DecodedStatus | string,
    redisNow: number,
    expected: string | undefined,
    source: 'load' | 'update',
  ): void {
    if (typeof decoded === 'string') return this.#trouble.badRecord(expected, decoded, source);
    const { name } = decoded.status;
    if (expected !== undefined && name !== expected)
      return this.#trouble.badRecord(expected, `record names another provider`, source);
    const identity = `${decoded.token}|${decoded.writtenAt ?? ''}|${decoded.status.checkedAt.getTime()}`;
    if (this.#applied.get(name) === identity) return;
    const local = this.#rebase(decoded, redisNow);
    if (typeof local === 'string') return this.#trouble.badRecord(name, local, source);
    this.#trouble.recordGood(name);
    // Remembered only once shown: a record refused as older is no status of ours to remove later.
    const record = { token: decoded.token, checkedAt: decoded.status.checkedAt.getTime() };
    if (this.#target.restore(local.status, local.sample, record)) this.#applied.set(name, identity);
  }

  /** Moves a record's times onto this replica's clock, or says why it cannot be trusted. */
  #rebase(decoded: DecodedStatus, redisNow: number): { status: Status; sample: HistorySample } | string {
    const { maxClockSkew } = this.#options;
    const now = this.#clock.now();
    const raw = decoded.status.checkedAt.getTime();
    let checkedAt: number;
    if (decoded.writtenAt !== undefined) {
      const sinceWrite = redisNow === 0 ? 0 : redisNow - decoded.writtenAt;
      if (sinceWrite < -maxClockSkew)
        return `written ${Math.round(-sinceWrite)} ms ahead of Redis's clock (more than maxClockSkew, ${maxClockSkew} ms)`;
      checkedAt = now - Math.max(0, sinceWrite) - decoded.age;
    } else {
      // Not stamped by the write script (written by hand or by an older version): its own time, bounded.
      if (raw > now + maxClockSkew)
        return `checked ${Math.round(raw - now)} ms ahead of this replica's clock (more than maxClockSkew, ${maxClockSkew} ms)`;
      checkedAt = Math.min(raw, now);
    }
    if (checkedAt < 0) return 'checked before 1970';
    const shift = (date: Date): FrozenDate => new FrozenDate(Math.max(0, date.getTime() + checkedAt - raw));
    const at = new FrozenDate(checkedAt);
    const { status, sample } = decoded;
    return {
      status: Object.freeze({
        ...status,
        checkedAt: at,
        lastSuccessAt: status.lastSuccessAt && shift(status.lastSuccessAt),
        lastFailureAt: status.lastFailureAt && shift(status.lastFailureAt),
        lastTransitionAt: shift(status.lastTransitionAt),
      }),
      sample: Object.freeze({ ...sample, checkedAt: at }),
    };
  }
}
