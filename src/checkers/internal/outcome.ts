import type { Clock } from '../../clock.js';
import type { HealthReport } from '../../provider.js';

/**
 * A latency stopwatch and the reports built from it, so that every checker
 * measures and applies `slowThreshold` the same way.
 * @internal
 */
export class Outcome {
  readonly #clock: Pick<Clock, 'now'>;
  readonly #started: number;
  #stopped: number | undefined;
  readonly #slowThreshold: number | undefined;

  constructor(slowThreshold: number | undefined, clock: Pick<Clock, 'now'>) {
    this.#slowThreshold = slowThreshold;
    this.#clock = clock;
    this.#started = clock.now();
  }

  /** Milliseconds since construction, or until {@link Outcome.stop}. */
  elapsed(): number {
    return (this.#stopped ?? this.#clock.now()) - this.#started;
  }

  /** Freezes the latency: what follows (fetching extra details) is not the endpoint's answer time. */
  stop(): void {
    this.#stopped ??= this.#clock.now();
  }

  /**
   * A successful report; `degraded` when slower than `slowThreshold`, or when
   * `degradedReason` is given (one of several roles failing).
   */
  healthy(message: string, details?: Record<string, unknown>, degradedReason?: string): HealthReport {
    const latency = this.elapsed();
    const slow = this.#slowThreshold !== undefined && latency > this.#slowThreshold;
    const notes = [
      degradedReason,
      slow
        ? `slow: answered in ${Math.round(latency)} ms, above the ${this.#slowThreshold} ms threshold`
        : undefined,
    ].filter((note) => note !== undefined);
    const report: HealthReport = {
      healthy: true,
      message: notes.length > 0 ? `${message} (${notes.join('; ')})` : message,
      latency,
    };
    if (notes.length > 0) report.degraded = true;
    if (details !== undefined) report.details = details;
    return report;
  }

  /** A failed report. */
  unhealthy(message: string, details?: Record<string, unknown>): HealthReport {
    const report: HealthReport = { healthy: false, message, latency: this.elapsed() };
    if (details !== undefined) report.details = details;
    return report;
  }
}
