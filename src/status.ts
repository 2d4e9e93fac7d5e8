import type { Labels } from './labels.js';

/**
 * Where a provider stands. `unknown`: registered, never checked. `degraded`:
 * healthy but impaired (slow, or one of several roles failing). `stale`: the
 * last check is older than `staleAfter`, so the poller may be dead and the
 * last result can no longer be trusted.
 */
export type HealthState = 'unknown' | CheckState | 'stale';

/** What one check found, before thresholds and staleness: the three states a checker can report. */
export type CheckState = 'healthy' | 'degraded' | 'unhealthy';

/** Latency and availability over a provider's recent history. */
export interface HistorySummary {
  /** How many results the history holds (at most `historySize`). */
  readonly samples: number;
  /** The share of those results that were healthy or degraded, from 0 to 1 (0 with no samples). */
  readonly uptime: number;
  /** Median latency in ms over the history. */
  readonly latencyP50: number;
  /** 95th percentile latency in ms over the history. */
  readonly latencyP95: number;
  /**
   * Uptime over the results taken while the provider was not silenced (see
   * {@link Status.silencedBy}); equal to `uptime` when none was silenced, 0 when every one was.
   */
  readonly uptimeExcludingSilenced: number;
  /** How many of the results were taken while the provider was silenced. */
  readonly silencedSamples: number;
}

/**
 * The cached health of one provider. Frozen: a reader cannot change what
 * other readers see. The first five fields are the Go original's.
 */
export interface Status {
  /** The name the provider is registered under. */
  readonly name: string;
  /** `true` for `healthy` and `degraded`; `false` for `unhealthy` and `stale`. */
  readonly healthy: boolean;
  /** What the last check said, or why it failed. Capped in length; credentials redacted. */
  readonly message: string;
  /** How long the last check took, in milliseconds. */
  readonly latency: number;
  /** When the last check completed. */
  readonly checkedAt: Date;
  /** The state after failure/success thresholds; never `unknown` (an unknown provider has no status). */
  readonly state: Exclude<HealthState, 'unknown'>;
  /** `true` when the last check is older than `staleAfter`. */
  readonly stale: boolean;
  /** Failed checks in a row (0 after a success). */
  readonly consecutiveFailures: number;
  /** Successful (healthy or degraded) checks in a row (0 after a failure). */
  readonly consecutiveSuccesses: number;
  /** When a check last succeeded, if ever. */
  readonly lastSuccessAt: Date | undefined;
  /** When a check last failed, if ever. */
  readonly lastFailureAt: Date | undefined;
  /** When `state` last changed (the first check counts as a change out of `unknown`). */
  readonly lastTransitionAt: Date;
  /** Uptime and latency percentiles over the recent history. */
  readonly history: HistorySummary;
  /** Extra facts the checker reported (`HealthReport.details`), such as a version. */
  readonly details: Readonly<Record<string, unknown>> | undefined;
  /** The labels given at registration; an empty frozen object when none. */
  readonly labels: Labels;
  /** The providers this one depends on, as registered; empty when none. */
  readonly dependsOn: readonly string[];
  /**
   * The dependencies that are unhealthy or stale while this provider itself
   * is unhealthy or stale: its failure is probably theirs. Empty otherwise.
   * The state is still what the check found; this only marks it.
   */
  readonly blockedBy: readonly string[];
  /** The ids of the silences and maintenance windows in force for this provider; empty when none. */
  readonly silencedBy: readonly string[];
}

/**
 * The wire form of a {@link Status}: what Go's `encoding/json` produced for the
 * original (`latency` an integer of nanoseconds, `checked_at` RFC 3339), plus
 * this library's extra fields in the same snake_case style.
 */
export interface StatusJSON {
  name: string;
  healthy: boolean;
  message: string;
  /** Nanoseconds, an integer (Go's `time.Duration`). */
  latency: number;
  /** RFC 3339 with milliseconds, in UTC. */
  checked_at: string;
  state: HealthState;
  stale: boolean;
  consecutive_failures: number;
  consecutive_successes: number;
  last_success_at?: string;
  last_failure_at?: string;
  last_transition_at?: string;
  uptime: number;
  /** Nanoseconds, an integer. */
  latency_p50: number;
  /** Nanoseconds, an integer. */
  latency_p95: number;
  details?: Readonly<Record<string, unknown>>;
  /** Present when not empty (as Go's `omitempty`), like the fields below. */
  labels?: Labels;
  depends_on?: readonly string[];
  blocked_by?: readonly string[];
  silenced?: true;
  silenced_by?: readonly string[];
  /** Present when part of the history was silenced; otherwise it equals `uptime`. */
  uptime_excluding_silenced?: number;
}

const NANOS_PER_MILLI = 1_000_000;

/** Milliseconds (possibly fractional) to whole nanoseconds, as Go's `time.Duration` marshals. */
export function millisToNanos(ms: number): number {
  return Math.round(ms * NANOS_PER_MILLI);
}

/**
 * Converts a status to the JSON wire form that a Go client of the original
 * decodes unchanged. Pure; safe to call on any status.
 */
export function statusToJSON(status: Status): StatusJSON {
  const json: StatusJSON = {
    name: status.name,
    healthy: status.healthy,
    message: status.message,
    latency: millisToNanos(status.latency),
    checked_at: status.checkedAt.toISOString(),
    state: status.state,
    stale: status.stale,
    consecutive_failures: status.consecutiveFailures,
    consecutive_successes: status.consecutiveSuccesses,
    last_transition_at: status.lastTransitionAt.toISOString(),
    uptime: status.history.uptime,
    latency_p50: millisToNanos(status.history.latencyP50),
    latency_p95: millisToNanos(status.history.latencyP95),
  };
  if (status.lastSuccessAt) json.last_success_at = status.lastSuccessAt.toISOString();
  if (status.lastFailureAt) json.last_failure_at = status.lastFailureAt.toISOString();
  if (status.details) json.details = status.details;
  if (status.dependsOn.length > 0) json.depends_on = status.dependsOn;
  if (status.blockedBy.length > 0) json.blocked_by = status.blockedBy;
  if (status.silencedBy.length > 0) {
    json.silenced = true;
    json.silenced_by = status.silencedBy;
  }
  if (status.history.silencedSamples > 0) {
    json.uptime_excluding_silenced = status.history.uptimeExcludingSilenced;
  }
  for (const _ in status.labels) {
    json.labels = status.labels;
    break;
  }
  return json;
}

/**
 * A `Date` whose setters throw, so a status handed to many readers cannot be
 * altered by one of them. `instanceof Date`, `toISOString` and JSON work as usual.
 * @internal
 */
export class FrozenDate extends Date {
  /** Its `toISOString()`, made once: a status's dates go into every JSON row built from it. */
  #iso: string | undefined;

  constructor(ms: number) {
    super(ms);
    Object.freeze(this);
  }

  override toISOString(): string {
    // A private field is not a property: writing it is allowed on the frozen instance.
    return (this.#iso ??= super.toISOString());
  }
}
for (const key of Object.getOwnPropertyNames(Date.prototype)) {
  if (!key.startsWith('set')) continue;
  Object.defineProperty(FrozenDate.prototype, key, {
    value(): never {
      throw new TypeError(`Cannot call Date.prototype.${key} on a cached status timestamp: it is read-only`);
    },
  });
}
