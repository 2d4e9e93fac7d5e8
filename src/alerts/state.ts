import { createHash } from 'node:crypto';
import type { HealthState } from '../status.js';
import type { AlertKind, Notification } from './notification.js';

/**
 * The alert engine's memory: plain JSON-serialisable data (numbers are ms
 * since the epoch), so shared mode can keep it in Redis under the lease's
 * fencing token and a new leader resumes from it. Nothing here holds a
 * secret, a timer or a function.
 */

/** A provider in one of a rule's states, not yet part of an incident (waiting for `for`, or suppressed). */
export interface PendingProvider {
  since: number;
  state: HealthState;
  message: string;
}

/** A provider of an incident. */
export interface IncidentMember {
  /** When it entered the rule's states (or, once back, when it came back). */
  since: number;
  state: HealthState;
  message: string;
  /** Still in one of the rule's states. */
  down: boolean;
}

/** One notification handed to the notifiers. */
export interface SentRecord {
  id: string;
  type: AlertKind;
  reminder: number;
  at: number;
}

/** An incident: `collecting` during `groupWait`, then `firing` until every member is back. */
export interface Incident {
  phase: 'collecting' | 'firing';
  /** When the first member joined: `groupWait` counts from here. */
  openedAt: number;
  /** The incident key, fixed when it fires. */
  key: string | undefined;
  /** The earliest `since` of its members. */
  startedAt: number;
  members: Record<string, IncidentMember>;
  /** How many members are down (kept so a recovery costs O(1), not O(members)). */
  down: number;
  firedAt: number | undefined;
  /** How many reminders went out. */
  reminders: number;
  /** The last notifications handed out (at most {@link MAX_SENT_RECORDS}). */
  sent: SentRecord[];
  /** When its last member came back: `resolved` goes out `groupWait` later unless one fails again. */
  resolvingAt?: number | undefined;
}

/** One rule's state. */
export interface RuleState {
  pending: Record<string, PendingProvider>;
  /** Open incidents, oldest first; at most one is `collecting`. */
  incidents: Incident[];
}

/**
 * A notification decided and recorded but not yet delivered to every
 * notifier of its rule (the outbox): a new leader delivers what is left,
 * with the same id, so nothing due is dropped by a failover.
 */
export interface OutboxEntry {
  notification: Notification;
  /** The notifiers still to deliver to. */
  notifiers: string[];
  /** When it was decided. */
  at: number;
}

/** Everything the engine remembers. */
export interface AlertEngineState {
  version: 1;
  rules: Record<string, RuleState>;
  /** Decided, not yet delivered everywhere; oldest first, at most {@link MAX_OUTBOX} entries. */
  outbox: OutboxEntry[];
}

/** How many sent records an incident keeps. */
export const MAX_SENT_RECORDS = 20;

/**
 * The most notifications awaiting delivery the state keeps; beyond it the
 * oldest is dropped (and counted). Each notifier's queue holds at most
 * `maxQueue` (100) anyway, so this only matters while a term is starting.
 */
export const MAX_OUTBOX = 1000;

/**
 * Where the engine keeps its state. The engine mutates the object it loaded
 * and calls `save` once per batch of changes (coalesced to one call per
 * microtask turn, and never two at once); a store that persists elsewhere
 * (Redis, a file) copies or serialises it there before it returns or
 * resolves. Notifications decided in a batch are handed to the notifiers
 * only once its `save` has succeeded (returned, or resolved): a rejection
 * keeps them back (a fenced store rejects for good: another replica leads).
 * `load` runs once, at construction.
 */
export interface AlertStateStore {
  load(): AlertEngineState | undefined;
  save(state: AlertEngineState): void | Promise<void>;
}

/**
 * Thrown (or rejected with) by a store that refuses a save because another
 * replica holds the lease now: the engine stops saving and handing out
 * notifications; the new leader carries on from the last saved state.
 */
export class AlertStateFencedError extends Error {
  constructor(message = 'alert state not saved: another replica leads now') {
    super(message);
    this.name = 'AlertStateFencedError';
  }
}

/** Whether `error` is an {@link AlertStateFencedError}. */
export function isAlertStateFencedError(error: unknown): error is AlertStateFencedError {
  return error instanceof AlertStateFencedError;
}

/** A store in memory: `snapshot()` gives a deep copy of the last saved state. */
export class MemoryAlertStore implements AlertStateStore {
  #state: AlertEngineState | undefined;

  /** @param initial A state to resume from (for example one read back from JSON). */
  constructor(initial?: AlertEngineState) {
    this.#state = initial === undefined ? undefined : structuredClone(initial);
  }

  load(): AlertEngineState | undefined {
    return this.#state;
  }

  save(state: AlertEngineState): void {
    this.#state = state;
  }

  /** A deep copy of the last saved state. */
  snapshot(): AlertEngineState | undefined {
    return this.#state === undefined ? undefined : structuredClone(this.#state);
  }
}

/** An empty state. */
export function emptyAlertState(): AlertEngineState {
  return { version: 1, rules: {}, outbox: [] };
}

/**
 * The incident key: a hash of the rule, the incident's start and the sorted
 * provider names. Every replica computing it from the same shared statuses
 * gets the same key.
 */
export function incidentKey(rule: string, startedAt: number, providers: readonly string[]): string {
  const hash = createHash('sha256').update(`${rule}\n${Math.round(startedAt)}\n`);
  for (const name of [...providers].sort()) hash.update(`${name}\n`);
  return `inc_${hash.digest('hex').slice(0, 40)}`;
}

/** The id of one notification of an incident: the same across retries and replicas, different per event. */
export function notificationId(incident: string, type: AlertKind, reminder: number): string {
  const digest = createHash('sha256').update(`${incident}\n${type}\n${reminder}`).digest('base64url');
  return `msg_${digest.slice(0, 32)}`;
}
