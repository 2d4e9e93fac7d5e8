import type { CheckState, HistorySummary } from './status.js';

/** One past result of a provider, oldest first in {@link HealthCache.history}. */
export interface HistorySample {
  readonly checkedAt: Date;
  /** Milliseconds. */
  readonly latency: number;
  /** The raw result of that check, before thresholds. */
  readonly state: CheckState;
}

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
 * A fixed-size ring of the last N results in typed arrays: about 17 bytes a
 * sample, no object per sample, nothing allocated on push. @internal
 */
export class HistoryRing {
  readonly #times: Float64Array;
  readonly #latencies: Float64Array;
  readonly #states: Uint8Array;
  /** The same latencies kept in ascending order, so percentiles are an index away. */
  readonly #sorted: Float64Array;
  #next = 0;
  #count = 0;
  #up = 0;

  constructor(capacity: number) {
    this.#times = new Float64Array(capacity);
    this.#latencies = new Float64Array(capacity);
    this.#states = new Uint8Array(capacity);
    this.#sorted = new Float64Array(capacity);
  }

  push(checkedAt: number, latency: number, state: CheckState): void {
    const capacity = this.#times.length;
    if (capacity === 0) return;
    const code = STATES.indexOf(state);
    if (this.#count === capacity) {
      if (this.#states[this.#next] !== 2) this.#up--;
      this.#removeSorted(this.#latencies[this.#next] ?? 0);
    }
    this.#insertSorted(latency);
    if (code !== 2) this.#up++;
    this.#times[this.#next] = checkedAt;
    this.#latencies[this.#next] = latency;
    this.#states[this.#next] = code;
    this.#next = (this.#next + 1) % capacity;
  }

  summary(): HistorySummary {
    const count = this.#count;
    if (count === 0) return EMPTY;
    return Object.freeze({
      samples: count,
      uptime: this.#up / count,
      latencyP50: this.#percentile(0.5),
      latencyP95: this.#percentile(0.95),
      // Placeholder until samples record silencing (issue 11 core wiring).
      uptimeExcludingSilenced: this.#up / count,
      silencedSamples: 0,
    });
  }

  /** Nearest-rank percentile. */
  #percentile(p: number): number {
    return this.#sorted[Math.max(0, Math.ceil(p * this.#count) - 1)] ?? 0;
  }

  #insertSorted(value: number): void {
    const at = this.#lowerBound(value, this.#count);
    this.#sorted.copyWithin(at + 1, at, this.#count);
    this.#sorted[at] = value;
    this.#count++;
  }

  #removeSorted(value: number): void {
    const at = this.#lowerBound(value, this.#count);
    this.#sorted.copyWithin(at, at + 1, this.#count);
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
        }),
      );
    }
    return out;
  }
}
