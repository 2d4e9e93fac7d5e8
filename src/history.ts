import type { CheckState, HistorySummary } from './status.js';

/** One past result of a provider, oldest first in {@link HealthCache.history}. */
export interface HistorySample {
  readonly checkedAt: Date;
  /** Milliseconds. */
  readonly latency: number;
  /** The raw result of that check, before thresholds. */
  readonly state: CheckState;
  /** Whether the provider was silenced (a silence or maintenance window in force) when this result came in. */
  readonly silenced: boolean;
}

/** A sample handed to `HealthCache.restore`: whether it was silenced is decided by the cache restoring it. */
export type RestoredSample = Pick<HistorySample, 'checkedAt' | 'latency' | 'state'>;

const STATES: readonly CheckState[] = ['healthy', 'degraded', 'unhealthy'];
const EMPTY: HistorySummary = Object.freeze({
  samples: 0,
  uptime: 0,
  latencyP50: 0,
  latencyP95: 0,
  uptimeExcludingSilenced: 0,
  silencedSamples: 0,
});

/**
 * A fixed-size ring of the last N results in typed arrays: about 18 bytes a
 * sample (time, latency, state, silenced), no object per sample, nothing
 * allocated on push. @internal
 */
export class HistoryRing {
  readonly #times: Float64Array;
  readonly #latencies: Float64Array;
  readonly #states: Uint8Array;
  /** 1 where the provider was silenced when the result came in. */
  readonly #silenced: Uint8Array;
  /** The same latencies kept in ascending order, so percentiles are an index away. */
  readonly #sorted: Float64Array;
  #next = 0;
  #count = 0;
  #up = 0;
  /** Silenced results held, and how many of them were up: uptime excluding silenced is the rest. */
  #silencedCount = 0;
  #silencedUp = 0;

  constructor(capacity: number) {
    this.#times = new Float64Array(capacity);
    this.#latencies = new Float64Array(capacity);
    this.#states = new Uint8Array(capacity);
    this.#silenced = new Uint8Array(capacity);
    this.#sorted = new Float64Array(capacity);
  }

  push(checkedAt: number, latency: number, state: CheckState, silenced: boolean): void {
    const capacity = this.#times.length;
    if (capacity === 0) return;
    const code = STATES.indexOf(state);
    const at = this.#next;
    if (this.#count === capacity) {
      const wasUp = this.#states[at] !== 2;
      if (wasUp) this.#up--;
      if (this.#silenced[at] === 1) {
        this.#silencedCount--;
        if (wasUp) this.#silencedUp--;
      }
      this.#removeSorted(this.#latencies[at] ?? 0);
    }
    this.#insertSorted(latency);
    if (code !== 2) this.#up++;
    if (silenced) {
      this.#silencedCount++;
      if (code !== 2) this.#silencedUp++;
    }
    this.#times[at] = checkedAt;
    this.#latencies[at] = latency;
    this.#states[at] = code;
    this.#silenced[at] = silenced ? 1 : 0;
    this.#next = (at + 1) % capacity;
  }

  summary(): HistorySummary {
    const count = this.#count;
    if (count === 0) return EMPTY;
    return Object.freeze({
      samples: count,
      uptime: this.#up / count,
      latencyP50: this.#percentile(0.5),
      latencyP95: this.#percentile(0.95),
      uptimeExcludingSilenced: this.#uptimeExcludingSilenced(),
      silencedSamples: this.#silencedCount,
    });
  }

  /** Uptime over the unsilenced results: `uptime` when none was silenced, 0 when all were. */
  #uptimeExcludingSilenced(): number {
    const unsilenced = this.#count - this.#silencedCount;
    return unsilenced === 0 ? 0 : (this.#up - this.#silencedUp) / unsilenced;
  }

  /** Nearest-rank percentile. */
  #percentile(p: number): number {
    return this.#sorted[Math.max(0, Math.ceil(p * this.#count) - 1)] ?? 0;
  }

  // The shifts are plain loops: a ring holds tens of samples, where a
  // `copyWithin` call costs more than the moves themselves.
  #insertSorted(value: number): void {
    const sorted = this.#sorted;
    const at = this.#lowerBound(value, this.#count);
    for (let i = this.#count; i > at; i--) sorted[i] = sorted[i - 1]!;
    sorted[at] = value;
    this.#count++;
  }

  #removeSorted(value: number): void {
    const sorted = this.#sorted;
    const at = this.#lowerBound(value, this.#count);
    const last = this.#count - 1;
    for (let i = at; i < last; i++) sorted[i] = sorted[i + 1]!;
    this.#count--;
  }

  /** The first index in the sorted latencies whose value is not below `value`. */
  #lowerBound(value: number, end: number): number {
    let low = 0;
    let high = end;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.#sorted[mid] ?? 0) < value) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  samples(): HistorySample[] {
    const capacity = this.#times.length;
    const out: HistorySample[] = [];
    for (let i = 0; i < this.#count; i++) {
      const at = (this.#next - this.#count + i + capacity) % capacity;
      out.push(
        Object.freeze({
          checkedAt: new Date(this.#times[at] ?? 0),
          latency: this.#latencies[at] ?? 0,
          state: STATES[this.#states[at] ?? 2] ?? 'unhealthy',
          silenced: this.#silenced[at] === 1,
        }),
      );
    }
    return out;
  }
}
