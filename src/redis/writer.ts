import type { Clock, TimerHandle } from '../clock.js';
import type { HistorySample } from '../history.js';
import type { Status } from '../status.js';
import { encodeStatus } from './codec.js';
import type { Tenure } from './lease.js';
import type { RecordWrite, StatusStore } from './store.js';
import type { RedisTrouble } from './trouble.js';

/** Results are written in batches: those arriving within this window share one write. */
export const BATCH_WINDOW = 50;

/** Where and under which tenure the writer writes; checked at every write. @internal */
export interface WriteGrant {
  readonly store: StatusStore;
  /** The tenure to write under, while this replica may write (it leads and its lease bound has not passed). */
  current(): Tenure | undefined;
  /** The write script refused our lease value: someone else leads. */
  fenced(): void;
}

interface PendingWrite {
  readonly status: Status;
  readonly sample: HistorySample['state'];
}

/**
 * The leader's batched status writes, under its fencing token. Results
 * queued within {@link BATCH_WINDOW} share one write; one write at a time,
 * so they reach Redis in order; a failed batch is kept for the next write
 * unless a newer result came meanwhile. @internal
 */
export class StatusWriter {
  readonly #clock: Clock;
  readonly #trouble: RedisTrouble;
  #grant: WriteGrant | undefined;
  readonly #pending = new Map<string, PendingWrite>();
  readonly #fill = new Map<string, PendingWrite>();
  #timer: TimerHandle;
  #flushing: Promise<void> | undefined;

  constructor(clock: Clock, trouble: RedisTrouble) {
    this.#clock = clock;
    this.#trouble = trouble;
  }

  /** Starts writing under `grant` (on taking the lease). */
  start(grant: WriteGrant): void {
    this.#grant = grant;
  }

  /** Stops writing and drops what is pending (on losing or giving up the lease). */
  stop(): void {
    this.#grant = undefined;
    this.#pending.clear();
    this.#fill.clear();
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Queues this replica's own result. A stale status is this replica's opinion of age, not a result to share. */
  queue(status: Status, sample: HistorySample['state']): void {
    if (this.#grant === undefined || status.stale) return;
    this.#pending.set(status.name, { status, sample });
    this.flushSoon(BATCH_WINDOW);
  }

  /** Queues what this replica knew before leading, written only where Redis holds nothing (a Redis that restarted empty). */
  fill(status: Status, sample: HistorySample['state']): void {
    if (this.#grant === undefined || status.stale) return;
    this.#fill.set(status.name, { status, sample });
    this.flushSoon(0);
  }

  /** Writes what is pending after `delay` ms (0: at once, even when a batch is being gathered). */
  flushSoon(delay: number): void {
    if (this.#pending.size + this.#fill.size === 0) return;
    if (this.#timer !== undefined && delay > 0) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, delay);
  }

  /** Writes what is pending now; one write at a time. Never rejects. */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#pending.size + this.#fill.size === 0) return;
    this.#flushing = this.#write().finally(() => (this.#flushing = undefined));
    await this.#flushing;
  }

  async #write(): Promise<void> {
    const grant = this.#grant;
    const tenure = grant?.current();
    const fill = [...this.#fill.values()];
    const batch = [...this.#pending.values()];
    this.#fill.clear();
    this.#pending.clear();
    // Past our own bound on the lease a successor may lead: not ours to write.
    if (grant === undefined || tenure === undefined) return;
    const now = this.#clock.now();
    const records = (writes: readonly PendingWrite[]): RecordWrite[] =>
      writes.map(({ status, sample }) => [
        status.name,
        status.checkedAt.getTime(),
        encodeStatus(status, tenure.token, sample, now),
        Math.max(0, now - status.checkedAt.getTime()),
      ]);
    try {
      if (fill.length > 0 && (await grant.store.write(tenure, records(fill), 'fill')) === undefined)
        return grant.fenced();
      if (batch.length > 0 && (await grant.store.write(tenure, records(batch))) === undefined)
        return grant.fenced();
      this.#trouble.answered();
    } catch (error) {
      this.#trouble.failed(error);
      if (this.#grant !== grant) return;
      for (const write of batch)
        if (!this.#pending.has(write.status.name)) this.#pending.set(write.status.name, write);
    }
  }
}
