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

/** Uptime and latency over the last 24 hours, 7 days and 30 days. */
export interface WindowSummary {
  readonly '24h': WindowFigures;
  readonly '7d': WindowFigures;
  readonly '30d': WindowFigures;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const HOURS = 24;
/** 30 days and the current one. */
const DAYS = 31;
/** Latency bins: `< 1 ms`, then `[2^(i-1), 2^i)` ms, the last open-ended (≥ 2^14 ms ≈ 16 s). */
const BINS = 16;
const COUNT_MAX = 0xffff;
/** Bytes of one bucket: the histogram (Uint16 × 16) and two Uint32 counters. */
const BUCKET_BYTES = BINS * 2 + 8;
const FORMAT = 1;

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
 * Memory: {@link UptimeWindows.BYTES} (2,200 bytes) per provider, allocated
 * on the first result; nothing is allocated per result. Results older than
 * the newest by more than a bucket's span are dropped; results dated before
 * the newest bucket count in their own bucket if it is still kept. @internal
 */
export class UptimeWindows {
  /** The bytes one instance holds, whatever the number of results. */
  static readonly BYTES = (HOURS + DAYS) * BUCKET_BYTES;

  readonly #hourBins = new Uint16Array(HOURS * BINS);
  readonly #hourCounts = new Uint32Array(HOURS * 2);
  readonly #dayBins = new Uint16Array(DAYS * BINS);
  readonly #dayCounts = new Uint32Array(DAYS * 2);
  /** The newest hour and day (index since the epoch) with a bucket; -1 before the first result. */
  #hour = -1;
  #day = -1;

  /** Counts one result taken at `at` (ms since the epoch) that took `latency` ms. */
  push(at: number, latency: number, state: CheckState): void {
    const hour = Math.floor(at / HOUR);
    const day = Math.floor(at / DAY);
    this.#hour = advance(this.#hourBins, this.#hourCounts, HOURS, this.#hour, hour);
    this.#day = advance(this.#dayBins, this.#dayCounts, DAYS, this.#day, day);
    const up = state !== 'unhealthy';
    const bin = binOf(latency);
    if (this.#hour - hour < HOURS) add(this.#hourBins, this.#hourCounts, hour % HOURS, bin, up);
    if (this.#day - day < DAYS) add(this.#dayBins, this.#dayCounts, day % DAYS, bin, up);
  }

  /** The three windows as of `now`. No side effects; O(buckets). */
  summary(now: number): WindowSummary {
    return Object.freeze({
      '24h': this.#figures(this.#hourBins, this.#hourCounts, HOURS, this.#hour, Math.floor(now / HOUR), 24),
      '7d': this.#figures(this.#dayBins, this.#dayCounts, DAYS, this.#day, Math.floor(now / DAY), 7),
      '30d': this.#figures(this.#dayBins, this.#dayCounts, DAYS, this.#day, Math.floor(now / DAY), 30),
    });
  }

  /** The buckets as bytes (a state file, Redis): {@link UptimeWindows.fromBytes} reads them back. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(1 + 16 + UptimeWindows.BYTES);
    const view = new DataView(out.buffer);
    view.setUint8(0, FORMAT);
    view.setFloat64(1, this.#hour, true);
    view.setFloat64(9, this.#day, true);
    let offset = 17;
    for (const array of [this.#hourBins, this.#hourCounts, this.#dayBins, this.#dayCounts]) {
      out.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), offset);
      offset += array.byteLength;
    }
    return out;
  }

  /**
   * Reads what {@link toBytes} wrote.
   * @throws TypeError naming the problem for bytes of another length or format.
   */
  static fromBytes(bytes: Uint8Array): UptimeWindows {
    const expected = 1 + 16 + UptimeWindows.BYTES;
    if (bytes.byteLength !== expected) {
      throw new TypeError(`Uptime windows: expected ${expected} bytes, got ${bytes.byteLength}`);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint8(0) !== FORMAT) {
      throw new TypeError(
        `Uptime windows: unknown format ${view.getUint8(0)} (this version reads ${FORMAT})`,
      );
    }
    const windows = new UptimeWindows();
    const hour = view.getFloat64(1, true);
    const day = view.getFloat64(9, true);
    if (!Number.isSafeInteger(hour) || !Number.isSafeInteger(day) || hour < -1 || day < -1) {
      throw new TypeError('Uptime windows: bad bucket anchors');
    }
    windows.#hour = hour;
    windows.#day = day;
    let offset = 17;
    for (const array of [windows.#hourBins, windows.#hourCounts, windows.#dayBins, windows.#dayCounts]) {
      new Uint8Array(array.buffer).set(bytes.subarray(offset, offset + array.byteLength));
      offset += array.byteLength;
    }
    return windows;
  }

  /** Figures over the `span` buckets ending at bucket `now` (the current, partial one included). */
  #figures(
    bins: Uint16Array,
    counts: Uint32Array,
    slots: number,
    newest: number,
    now: number,
    span: number,
  ): WindowFigures {
    let samples = 0;
    let up = 0;
    const histogram = new Float64Array(BINS);
    for (
      let bucket = Math.max(now - span + 1, newest - slots + 1);
      bucket <= Math.min(now, newest);
      bucket++
    ) {
      const slot = bucket % slots;
      samples += counts[slot * 2] ?? 0;
      up += counts[slot * 2 + 1] ?? 0;
      for (let bin = 0; bin < BINS; bin++) histogram[bin] += bins[slot * BINS + bin] ?? 0;
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

/** Moves the newest bucket to `next`, clearing the slots of the buckets skipped; returns the newest. */
function advance(
  bins: Uint16Array,
  counts: Uint32Array,
  slots: number,
  newest: number,
  next: number,
): number {
  if (next <= newest) return newest;
  const from = newest < 0 ? next - slots + 1 : Math.max(newest + 1, next - slots + 1);
  for (let bucket = from; bucket <= next; bucket++) {
    const slot = ((bucket % slots) + slots) % slots;
    bins.fill(0, slot * BINS, slot * BINS + BINS);
    counts[slot * 2] = 0;
    counts[slot * 2 + 1] = 0;
  }
  return next;
}

function add(bins: Uint16Array, counts: Uint32Array, slot: number, bin: number, up: boolean): void {
  const at = slot * BINS + bin;
  if ((bins[at] ?? 0) === COUNT_MAX) {
    // Halve the whole histogram: the proportions, all percentiles need, stay.
    for (let i = slot * BINS; i < slot * BINS + BINS; i++) bins[i] = (bins[i] ?? 0) >>> 1;
  }
  bins[at] = (bins[at] ?? 0) + 1;
  counts[slot * 2] = Math.min((counts[slot * 2] ?? 0) + 1, 0xffffffff);
  if (up) counts[slot * 2 + 1] = Math.min((counts[slot * 2 + 1] ?? 0) + 1, 0xffffffff);
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
