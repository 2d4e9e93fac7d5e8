import { ByteReader, ByteWriter } from './history-bytes.js';
import type { CheckState } from './status.js';

/** Uptime and latency over one window. */
export interface WindowFigures {
  /** How many results the window holds. */
  readonly samples: number;
  /** The share of them that were healthy or degraded, 0 to 1 (0 with no samples). */
  readonly uptime: number;
  /** Median latency in ms, from the window's latency histogram (see {@link UptimeWindows}). */
  readonly latencyP50: number;
  /** 95th percentile latency in ms, likewise. */
  readonly latencyP95: number;
}

/** Uptime alone over the last 24 hours, 7 days and 30 days: 0 to 1, 0 with no samples. */
export interface WindowUptimes {
  readonly '24h': number;
  readonly '7d': number;
  readonly '30d': number;
}

/** Uptime and latency over the last 24 hours, 7 days and 30 days. */
export interface WindowSummary {
  readonly '24h': WindowFigures;
  readonly '7d': WindowFigures;
  readonly '30d': WindowFigures;
}

const HOUR = 3_600_000;
const HOURS = 24;
/** 30 days and the current one. */
const DAYS = 31;
/** Buckets in all: the hourly ones first, then the daily ones. */
const BUCKETS = HOURS + DAYS;
/** Latency bins: `< 1 ms`, then `[2^(i-1), 2^i)` ms, the last open-ended (≥ 2^14 ms ≈ 16 s). */
const BINS = 16;
const BIN_MAX = 0xffff;
const COUNT_MAX = 0xffffffff;
/** Bytes of one bucket: the histogram (Uint16 × 16) and two Uint32 counters. */
const BUCKET_BYTES = BINS * 2 + 8;
/** The byte form's version (see {@link UptimeWindows.toBytes}). */
const FORMAT = 2;
/** The latest hour a `Date` can hold. */
const MAX_HOUR = Math.floor(8.64e15 / HOUR);
/** Hour anchor (1 + 7 bytes), buckets of 1 (empty) to 1 + 5 + 5 + 3 + 16 × 3 bytes. */
const MAX_BYTES = 1 + 8 + BUCKETS * (14 + BINS * 3);

const EMPTY: WindowFigures = Object.freeze({ samples: 0, uptime: 0, latencyP50: 0, latencyP95: 0 });

/**
 * One provider's results over the last 30 days in compact buckets: 24 hourly
 * ones (the 24-hour window, to the hour) and 31 daily ones (the 7- and 30-day
 * windows, to the UTC day). Each bucket holds the result count, the healthy
 * or degraded count, and a 16-bin log₂ latency histogram whose counts are
 * halved together when one would overflow (percentiles need proportions
 * only). Percentiles are read off the summed histograms with log
 * interpolation inside a bin, so they are estimates within a factor of 2
 * (exact bins: < 1 ms, 1–2, 2–4 … ≥ 16 s).
 *
 * Memory: {@link UptimeWindows.BYTES} (2,200 bytes) of buckets per provider in
 * two typed arrays; nothing is allocated per result. Results older than the
 * newest by more than a bucket's span are dropped; results dated before the
 * newest bucket count in their own bucket if it is still kept; results dated
 * before 1970 (or not a time) are not counted. One concept (over 300 lines):
 * the writes, the reads and the byte form all work on the same two private
 * arrays. @internal
 */
export class UptimeWindows {
  /** The bytes of buckets one instance holds, whatever the number of results. */
  static readonly BYTES = BUCKETS * BUCKET_BYTES;
  /** The longest {@link UptimeWindows.toBytes} output (it is usually far shorter). */
  static readonly MAX_BYTES = MAX_BYTES;

  /** 16 latency bins per bucket: hourly buckets at slots 0..23, daily ones at 24..54. */
  readonly #bins = new Uint16Array(BUCKETS * BINS);
  /** Results and results up, per bucket (same slots). */
  readonly #counts = new Uint32Array(BUCKETS * 2);
  /** The newest hour (index since the epoch) with a bucket; -1 before the first result. */
  #hour = -1;
  /**
   * For {@link uptimes}: the counts of each window's buckets other than the
   * newest hour's and day's, as read in hour `#olderAt` (-1: none). Nearly
   * every result lands in those two buckets, so a read adds them to these
   * sums instead of reading all 55 (a list row reads them after every
   * result). A write anywhere else, or a new newest hour, drops them.
   */
  #olderAt = -1;
  #older24 = 0;
  #olderUp24 = 0;
  #older7 = 0;
  #olderUp7 = 0;
  #older30 = 0;
  #olderUp30 = 0;

  /** Counts one result taken at `at` (ms since the epoch) that took `latency` ms. Allocates nothing. */
  push(at: number, latency: number, state: CheckState): void {
    if (!(at >= 0 && at <= 8.64e15)) return;
    const hour = Math.floor(at / HOUR);
    const day = Math.floor(hour / HOURS);
    const newestDay = this.#hour < 0 ? -1 : Math.floor(this.#hour / HOURS);
    if (hour > this.#hour) {
      this.#clear(0, HOURS, this.#hour, hour);
      if (day > newestDay) this.#clear(HOURS, DAYS, newestDay, day);
      this.#hour = hour;
    }
    const up = state !== 'unhealthy';
    const bin = binOf(latency);
    const days = Math.floor(this.#hour / HOURS) - day;
    // Only the newest hour's and day's buckets are read live by `uptimes`.
    if (hour !== this.#hour || days !== 0) this.#olderAt = -1;
    if (this.#hour - hour < HOURS) this.#add(hour % HOURS, bin, up);
    if (days < DAYS) this.#add(HOURS + (day % DAYS), bin, up);
  }

  /** Whether no result was ever counted. */
  get empty(): boolean {
    return this.#hour < 0;
  }

  /** The three windows as of `now` (ms since the epoch). No side effects; O(buckets). */
  summary(now: number): WindowSummary {
    const hour = Math.floor(now / HOUR);
    const day = Math.floor(hour / HOURS);
    const newestDay = this.#hour < 0 ? -1 : Math.floor(this.#hour / HOURS);
    return Object.freeze({
      '24h': this.#figures(0, HOURS, this.#hour, hour, 24),
      '7d': this.#figures(HOURS, DAYS, newestDay, day, 7),
      '30d': this.#figures(HOURS, DAYS, newestDay, day, 30),
    });
  }

  /**
   * The three uptimes of {@link summary} without the latency histograms: the
   * counts of 55 buckets read, nothing summed per bin (what a list row needs,
   * about a tenth of the cost). No side effects.
   */
  uptimes(now: number): WindowUptimes {
    const hour = Math.floor(now / HOUR);
    const day = Math.floor(hour / HOURS);
    const newest = this.#hour;
    const newestDay = newest < 0 ? -1 : Math.floor(newest / HOURS);
    // Read before the newest result (another clock): the windows end inside the buckets.
    if (newest < 0 || hour < newest) {
      return {
        '24h': this.#uptime(0, HOURS, newest, hour, 24),
        '7d': this.#uptime(HOURS, DAYS, newestDay, day, 7),
        '30d': this.#uptime(HOURS, DAYS, newestDay, day, 30),
      };
    }
    const from24 = windowStart(HOURS, newest, hour, 24);
    const from7 = windowStart(DAYS, newestDay, day, 7);
    const from30 = windowStart(DAYS, newestDay, day, 30);
    if (this.#olderAt !== hour) {
      [this.#older24, this.#olderUp24] = this.#sum(0, HOURS, from24, newest - 1);
      [this.#older7, this.#olderUp7] = this.#sum(HOURS, DAYS, from7, newestDay - 1);
      [this.#older30, this.#olderUp30] = this.#sum(HOURS, DAYS, from30, newestDay - 1);
      this.#olderAt = hour;
    }
    const counts = this.#counts;
    const hourSlot = (newest % HOURS) * 2;
    const daySlot = (HOURS + (newestDay % DAYS)) * 2;
    // The newest buckets, when still inside each window.
    const lastHour = from24 <= newest ? 1 : 0;
    const lastWeek = from7 <= newestDay ? 1 : 0;
    const lastMonth = from30 <= newestDay ? 1 : 0;
    return {
      '24h': ratio(
        this.#older24 + lastHour * counts[hourSlot]!,
        this.#olderUp24 + lastHour * counts[hourSlot + 1]!,
      ),
      '7d': ratio(
        this.#older7 + lastWeek * counts[daySlot]!,
        this.#olderUp7 + lastWeek * counts[daySlot + 1]!,
      ),
      '30d': ratio(
        this.#older30 + lastMonth * counts[daySlot]!,
        this.#olderUp30 + lastMonth * counts[daySlot + 1]!,
      ),
    };
  }

  /** Results and results up in the buckets `from`..`to` of the `slots` at `first`. */
  #sum(first: number, slots: number, from: number, to: number): [number, number] {
    let samples = 0;
    let up = 0;
    for (let bucket = from; bucket <= to; bucket++) {
      const slot = first + (bucket % slots);
      samples += this.#counts[slot * 2] ?? 0;
      up += this.#counts[slot * 2 + 1] ?? 0;
    }
    return [samples, up];
  }

  /**
   * The buckets as compact bytes (state files, Redis): the format, the newest
   * hour, then each bucket newest first — an empty one is one byte, a full
   * one its counts and its non-zero bins as varints. About 30 bytes for an
   * hour of results in two latency bins; never more than
   * {@link UptimeWindows.MAX_BYTES}. {@link UptimeWindows.fromBytes} reads them back.
   */
  toBytes(): Uint8Array {
    const out = new ByteWriter(MAX_BYTES);
    out.byte(FORMAT);
    out.varint(this.#hour + 1);
    if (this.#hour < 0) return out.done();
    const day = Math.floor(this.#hour / HOURS);
    for (let age = 0; age < HOURS; age++) this.#writeBucket(out, (this.#hour - age) % HOURS);
    for (let age = 0; age < DAYS; age++) this.#writeBucket(out, HOURS + ((day - age) % DAYS));
    return out.done();
  }

  /**
   * Reads what {@link toBytes} wrote, checking every count: bins never above
   * 65,535, results up never above results, histograms never holding more
   * than their bucket's results, nothing left over.
   * @throws TypeError naming the problem for bytes it cannot read.
   */
  static fromBytes(bytes: Uint8Array): UptimeWindows {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('Uptime windows: expected a Uint8Array');
    if (bytes.byteLength > MAX_BYTES)
      throw new TypeError(`Uptime windows: ${bytes.byteLength} bytes, more than the ${MAX_BYTES} possible`);
    const input = new ByteReader(bytes, 'Uptime windows');
    const format = input.byte();
    if (format !== FORMAT)
      throw new TypeError(`Uptime windows: unknown format ${format} (this version reads ${FORMAT})`);
    const windows = new UptimeWindows();
    const hour = input.varint(MAX_HOUR + 1) - 1;
    windows.#hour = hour;
    if (hour >= 0) {
      const day = Math.floor(hour / HOURS);
      for (let age = 0; age < HOURS; age++) windows.#readBucket(input, (hour - age) % HOURS);
      for (let age = 0; age < DAYS; age++) windows.#readBucket(input, HOURS + ((day - age) % DAYS));
    }
    input.end();
    return windows;
  }

  #writeBucket(out: ByteWriter, slot: number): void {
    const count = this.#counts[slot * 2] ?? 0;
    out.varint(count);
    if (count === 0) return;
    out.varint(this.#counts[slot * 2 + 1] ?? 0);
    let mask = 0;
    for (let bin = 0; bin < BINS; bin++) if ((this.#bins[slot * BINS + bin] ?? 0) > 0) mask |= 1 << bin;
    out.varint(mask);
    for (let bin = 0; bin < BINS; bin++) {
      const value = this.#bins[slot * BINS + bin] ?? 0;
      if (value > 0) out.varint(value);
    }
  }

  #readBucket(input: ByteReader, slot: number): void {
    const count = input.varint(COUNT_MAX);
    if (count === 0) return;
    const up = input.varint(count);
    const mask = input.varint(0xffff);
    let binned = 0;
    for (let bin = 0; bin < BINS; bin++) {
      if ((mask & (1 << bin)) === 0) continue;
      const value = input.varint(BIN_MAX);
      if (value === 0) throw new TypeError('Uptime windows: a histogram bin marked present is 0');
      this.#bins[slot * BINS + bin] = value;
      binned += value;
    }
    if (binned === 0 || binned > count)
      throw new TypeError(`Uptime windows: a bucket of ${count} results has ${binned} in its histogram`);
    this.#counts[slot * 2] = count;
    this.#counts[slot * 2 + 1] = up;
  }

  /** Clears the slots of the buckets after `newest` up to `next` (those a gap skipped, and `next`'s own). */
  #clear(first: number, slots: number, newest: number, next: number): void {
    this.#olderAt = -1;
    const from = newest < 0 ? next - slots + 1 : Math.max(newest + 1, next - slots + 1);
    for (let bucket = Math.max(0, from); bucket <= next; bucket++) {
      const slot = first + (bucket % slots);
      this.#bins.fill(0, slot * BINS, slot * BINS + BINS);
      this.#counts[slot * 2] = 0;
      this.#counts[slot * 2 + 1] = 0;
    }
  }

  #add(slot: number, bin: number, up: boolean): void {
    const at = slot * BINS + bin;
    if ((this.#bins[at] ?? 0) === BIN_MAX) {
      // Halve the whole histogram: the proportions, all percentiles need, stay.
      for (let i = slot * BINS; i < slot * BINS + BINS; i++) this.#bins[i] = (this.#bins[i] ?? 0) >>> 1;
    }
    this.#bins[at] = (this.#bins[at] ?? 0) + 1;
    this.#counts[slot * 2] = Math.min((this.#counts[slot * 2] ?? 0) + 1, COUNT_MAX);
    if (up) this.#counts[slot * 2 + 1] = Math.min((this.#counts[slot * 2 + 1] ?? 0) + 1, COUNT_MAX);
  }

  /** The uptime over the same buckets as {@link #figures}, from the counts alone. */
  #uptime(first: number, slots: number, newest: number, now: number, span: number): number {
    const [samples, up] = this.#sum(
      first,
      slots,
      windowStart(slots, newest, now, span),
      Math.min(now, newest),
    );
    return ratio(samples, up);
  }

  /** Figures over the `span` buckets ending at bucket `now` (the current, partial one included). */
  #figures(first: number, slots: number, newest: number, now: number, span: number): WindowFigures {
    let samples = 0;
    let up = 0;
    const histogram = new Float64Array(BINS);
    const last = Math.min(now, newest);
    for (let bucket = windowStart(slots, newest, now, span); bucket <= last; bucket++) {
      const slot = first + (bucket % slots);
      samples += this.#counts[slot * 2] ?? 0;
      up += this.#counts[slot * 2 + 1] ?? 0;
      for (let bin = 0; bin < BINS; bin++)
        histogram[bin] = (histogram[bin] ?? 0) + (this.#bins[slot * BINS + bin] ?? 0);
    }
    if (samples === 0) return EMPTY;
    return Object.freeze({
      samples,
      uptime: up / samples,
      latencyP50: percentile(histogram, 0.5),
      latencyP95: percentile(histogram, 0.95),
    });
  }
}

/**
 * The first bucket of the `span` buckets ending at bucket `now`, of the
 * `slots` kept up to bucket `newest` (never before the epoch's).
 */
function windowStart(slots: number, newest: number, now: number, span: number): number {
  return Math.max(now - span + 1, newest - slots + 1, 0);
}

/** `up` of `samples` as a share, 0 with no samples. */
function ratio(samples: number, up: number): number {
  return samples === 0 ? 0 : up / samples;
}

/** The histogram bin of a latency in ms. */
function binOf(latency: number): number {
  if (!(latency >= 1)) return 0;
  return Math.min(BINS - 1, 1 + Math.floor(Math.log2(latency)));
}

/** The `p` quantile of a histogram, interpolated on a log scale inside its bin. */
function percentile(histogram: Float64Array, p: number): number {
  let total = 0;
  for (const count of histogram) total += count;
  if (total === 0) return 0;
  const rank = p * total;
  let seen = 0;
  for (let bin = 0; bin < BINS; bin++) {
    const count = histogram[bin] ?? 0;
    if (count === 0 || seen + count < rank) {
      seen += count;
      continue;
    }
    const within = (rank - seen) / count;
    if (bin === 0) return within; // [0, 1) ms: linear
    const low = 2 ** (bin - 1);
    return low * 2 ** within; // [low, 2·low)
  }
  return 2 ** (BINS - 1);
}
