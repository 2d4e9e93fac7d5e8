import { HistoryRing, type HistorySample } from './history.js';
import type { CheckState, HistorySummary } from './status.js';
import { UptimeWindows, type WindowSummary, type WindowUptimes } from './uptime-windows.js';

/**
 * One provider's history as {@link HealthCache.exportHistory} hands it out and
 * {@link HealthCache.importHistory} takes it back: what a restarted process
 * (or another replica) needs to show the same sparkline and uptime figures.
 */
export interface HistoryExport {
  /** The recent results, oldest first (at most `historySize`). */
  readonly samples: readonly HistorySample[];
  /** The 24-hour, 7-day and 30-day buckets in their compact byte form (a few hundred bytes). */
  readonly windows: Uint8Array;
}

const STATES: readonly string[] = ['healthy', 'degraded', 'unhealthy'];
/** The latest valid `Date`, in ms. */
const MAX_TIME = 8.64e15;

/**
 * What the status store keeps of one provider's past: the ring of recent
 * results and the 24h/7d/30d buckets, fed together. Allocated on the
 * provider's first result (or import); {@link push} allocates nothing. @internal
 */
export class ProviderHistory {
  readonly #ring: HistoryRing;
  readonly #windows: UptimeWindows;
  /** Whether anything was pushed or imported: an import is taken only before. */
  #empty = true;

  constructor(capacity: number, windows = new UptimeWindows()) {
    this.#ring = new HistoryRing(capacity);
    this.#windows = windows;
  }

  /** Counts one result in the ring and the windows. */
  push(checkedAt: number, latency: number, state: CheckState, silenced: boolean): void {
    this.#empty = false;
    this.#ring.push(checkedAt, latency, state, silenced);
    this.#windows.push(checkedAt, latency, state);
  }

  /** Nothing pushed or imported yet. */
  get empty(): boolean {
    return this.#empty;
  }

  /** The ring's summary (a status's `history`). */
  summary(): HistorySummary {
    return this.#ring.summary();
  }

  samples(): HistorySample[] {
    return this.#ring.samples();
  }

  /** The windows as of `now`. No side effects. */
  windows(now: number): WindowSummary {
    return this.#windows.summary(now);
  }

  /** The window uptimes as of `now` (no histograms). No side effects. */
  uptimes(now: number): WindowUptimes {
    return this.#windows.uptimes(now);
  }

  export(): HistoryExport {
    return Object.freeze({ samples: Object.freeze(this.#ring.samples()), windows: this.#windows.toBytes() });
  }

  /**
   * A history holding `data`: its samples pushed in the order given (the
   * last `capacity` of them), its windows read from their bytes. The samples
   * do not count in the windows again: the windows already hold them.
   * @throws TypeError naming the first problem (`what` starts the message).
   */
  static from(data: unknown, capacity: number, what: string): ProviderHistory {
    if (typeof data !== 'object' || data === null)
      throw new TypeError(
        `${what}: expected { samples, windows }, got ${data === null ? 'null' : typeof data}`,
      );
    const { samples, windows } = data as Partial<Record<keyof HistoryExport, unknown>>;
    if (!Array.isArray(samples)) throw new TypeError(`${what}: samples must be an array`);
    if (!(windows instanceof Uint8Array)) throw new TypeError(`${what}: windows must be a Uint8Array`);
    let buckets: UptimeWindows;
    try {
      buckets = UptimeWindows.fromBytes(windows);
    } catch (error) {
      throw new TypeError(`${what}: windows: ${(error as Error).message}`, { cause: error });
    }
    const history = new ProviderHistory(capacity, buckets);
    history.#empty = samples.length === 0 && buckets.empty;
    const first = Math.max(0, samples.length - capacity);
    samples.forEach((sample, index) => {
      const valid = validSample(sample, `${what}: samples[${index}]`);
      if (index >= first) history.#ring.push(valid.at, valid.latency, valid.state, valid.silenced);
    });
    return history;
  }
}

/** The fields of a sample, checked. */
function validSample(
  sample: unknown,
  where: string,
): { at: number; latency: number; state: CheckState; silenced: boolean } {
  if (typeof sample !== 'object' || sample === null) throw new TypeError(`${where} is not an object`);
  const { checkedAt, latency, state, silenced } = sample as Partial<Record<keyof HistorySample, unknown>>;
  const at = checkedAt instanceof Date ? checkedAt.getTime() : NaN;
  if (!(at >= 0 && at <= MAX_TIME))
    throw new TypeError(`${where}.checkedAt is not a valid Date from 1970 on`);
  if (typeof latency !== 'number' || !(latency >= 0 && latency < Infinity))
    throw new TypeError(`${where}.latency is not a finite number of ms, 0 or more`);
  if (typeof state !== 'string' || !STATES.includes(state))
    throw new TypeError(`${where}.state is not healthy, degraded or unhealthy`);
  if (typeof silenced !== 'boolean') throw new TypeError(`${where}.silenced is not a boolean`);
  return { at, latency, state: state as CheckState, silenced };
}
