import type { Clock } from '../../clock.js';
import type { HealthReport } from '../../provider.js';

/**
 * What an opt-in extra request (Kubernetes nodes, Nomad autopilot) adds to a
 * check: details, and a reason to be `degraded` or unhealthy, if any.
 * @internal
 */
export interface ExtraVerdict {
  readonly details: Record<string, unknown>;
  readonly degraded?: string | undefined;
  readonly unhealthy?: string | undefined;
}

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
  readonly #extraDetails: Record<string, unknown> = {};
  readonly #warnings = new Map<string, string>();

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

  /** Details added to every report built afterwards (certificate dates). */
  addDetails(details: Record<string, unknown>): void {
    Object.assign(this.#extraDetails, details);
  }

  /**
   * A reason that makes a successful report `degraded` (a certificate about to
   * expire); a later reason under the same `key` replaces an earlier one.
   */
  warn(reason: string, key: string = reason): void {
    this.#warnings.set(key, reason);
  }

  #details(details: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
    if (Object.keys(this.#extraDetails).length === 0) return details;
    return { ...details, ...this.#extraDetails };
  }

  /**
   * A successful report; `degraded` when slower than `slowThreshold`, or when
   * `degradedReason` is given (one of several roles failing), or after {@link Outcome.warn}.
   */
  healthy(message: string, details?: Record<string, unknown>, degradedReason?: string): HealthReport {
    const latency = this.elapsed();
    const slow = this.#slowThreshold !== undefined && latency > this.#slowThreshold;
    const notes = [
      degradedReason,
      ...this.#warnings.values(),
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
    const all = this.#details(details);
    if (all !== undefined) report.details = all;
    return report;
  }

  /** A failed report. */
  unhealthy(message: string, details?: Record<string, unknown>): HealthReport {
    const report: HealthReport = { healthy: false, message, latency: this.elapsed() };
    const all = this.#details(details);
    if (all !== undefined) report.details = all;
    return report;
  }
}
