import type { HistorySummary } from './status.js';

/** One past result of a provider, oldest first in {@link HealthCache.history}. */
export interface HistorySample {
  readonly checkedAt: Date;
  /** Milliseconds. */
  readonly latency: number;
  /** The raw result of that check, before thresholds. */
  readonly state: 'healthy' | 'degraded' | 'unhealthy';
}

const STATES = ['healthy', 'degraded', 'unhealthy'] as const;
const EMPTY: HistorySummary = Object.freeze({ samples: 0, uptime: 0, latencyP50: 0, latencyP95: 0 });

/**
 * A fixed-size ring of the last N results in typed arrays: about 17 bytes a
 * sample, no object per sample, nothing allocated on push. @internal
 */
export class HistoryRing {
  readonly #times: Float64Array;
  readonly #latencies: Float64Array;
  readonly #states: Uint8Array;
  #next = 0;
  #count = 0;
  #up = 0;

  constructor(capacity: number) {
    this.#times = new Float64Array(capacity);
    this.#latencies = new Float64Array(capacity);
    this.#states = new Uint8Array(capacity);
  }

  push(checkedAt: number, latency: number, state: HistorySample['state']): void {
    const capacity = this.#times.length;
    if (capacity === 0) return;
    const code = STATES.indexOf(state);
    if (this.#count === capacity) {
      if (this.#states[this.#next] !== 2) this.#up--;
    } else {
      this.#count++;
    }
    if (code !== 2) this.#up++;
    this.#times[this.#next] = checkedAt;
    this.#latencies[this.#next] = latency;
    this.#states[this.#next] = code;
    this.#next = (this.#next + 1) % capacity;
  }

  summary(): HistorySummary {
    const count = this.#count;
    if (count === 0) return EMPTY;
    const sorted = this.#latencies.slice(0, count).sort();
    return Object.freeze({
      samples: count,
      uptime: this.#up / count,
      latencyP50: percentile(sorted, 0.5),
      latencyP95: percentile(sorted, 0.95),
    });
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

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: Float64Array, p: number): number {
  const rank = Math.max(0, Math.ceil(p * sorted.length) - 1);
  return sorted[rank] ?? 0;
}
