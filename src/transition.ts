import type { Labels } from './labels.js';
import type { HistorySummary } from './status.js';
import { FrozenDate, type CheckState, type Status } from './status.js';

/** The thresholds a result passes through. */
export interface Thresholds {
  readonly failureThreshold: number;
  readonly successThreshold: number;
}

/** What a result does to a provider's state. */
export interface Decision {
  /** The state after thresholds (before staleness). */
  readonly held: CheckState;
  /** Appended to the message while a threshold holds the previous state back. */
  readonly note: string;
  readonly consecutiveFailures: number;
  readonly consecutiveSuccesses: number;
}

/**
 * The threshold state machine, pure: the previous status and its held state
 * (the state before any staleness), the raw result's state and the thresholds
 * give the next state. A healthy provider needs `failureThreshold` failures in
 * a row to turn unhealthy; an unhealthy one `successThreshold` successes to recover.
 */
export function decide(
  previous: { readonly status: Status; readonly held: CheckState } | undefined,
  state: CheckState,
  { failureThreshold, successThreshold }: Thresholds,
): Decision {
  const success = state !== 'unhealthy';
  const consecutiveSuccesses = success ? (previous?.status.consecutiveSuccesses ?? 0) + 1 : 0;
  const consecutiveFailures = success ? 0 : (previous?.status.consecutiveFailures ?? 0) + 1;
  let held = state;
  let note = '';
  if (previous && success && previous.held === 'unhealthy' && consecutiveSuccesses < successThreshold) {
    held = 'unhealthy';
    note = ` (recovering: ${consecutiveSuccesses} of ${successThreshold} successes needed)`;
  } else if (
    previous &&
    !success &&
    previous.held !== 'unhealthy' &&
    consecutiveFailures < failureThreshold
  ) {
    held = previous.held;
    note = ` (failure ${consecutiveFailures} of ${failureThreshold} before unhealthy)`;
  }
  return { held, note, consecutiveFailures, consecutiveSuccesses };
}

/** The parts of a new status that do not come from the decision. */
export interface StatusParts {
  readonly name: string;
  /** The raw result's own state: whether this check succeeded. */
  readonly state: CheckState;
  readonly message: string;
  readonly latency: number;
  readonly checkedAt: number;
  readonly history: HistorySummary;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly labels: Labels;
  readonly dependsOn: readonly string[];
  readonly blockedBy: readonly string[];
  readonly silencedBy: readonly string[];
}

/** The frozen status a decision produces, carrying over the times of `previous`. Pure. */
export function nextStatus(previous: Status | undefined, decision: Decision, parts: StatusParts): Status {
  const success = parts.state !== 'unhealthy';
  const checkedAt = new FrozenDate(parts.checkedAt);
  const changed = previous === undefined || previous.state !== decision.held;
  return Object.freeze({
    name: parts.name,
    healthy: decision.held !== 'unhealthy',
    message: parts.message,
    latency: parts.latency,
    checkedAt,
    state: decision.held,
    stale: false,
    consecutiveFailures: decision.consecutiveFailures,
    consecutiveSuccesses: decision.consecutiveSuccesses,
    lastSuccessAt: success ? checkedAt : previous?.lastSuccessAt,
    lastFailureAt: success ? previous?.lastFailureAt : checkedAt,
    lastTransitionAt: changed ? checkedAt : previous.lastTransitionAt,
    history: parts.history,
    details: parts.details,
    labels: parts.labels,
    dependsOn: parts.dependsOn,
    blockedBy: parts.blockedBy,
    silencedBy: parts.silencedBy,
  });
}
