import type { HealthState } from '../status.js';

/**
 * What an alert engine hands to notifiers: one message about one incident of
 * one rule. Plain, frozen data (no secrets, no functions), so it can be
 * queued, logged and serialised as it is.
 */

/** `firing` when an incident opens (and for reminders), `resolved` when every provider of it is back. */
export type AlertKind = 'firing' | 'resolved';

/** A provider's labels (key/value pairs). */
export type AlertLabels = Readonly<Record<string, string>>;

/** One provider named in a notification. */
export interface AlertedProvider {
  readonly name: string;
  /** Its state when the notification was built (`healthy` again in a `resolved` one). */
  readonly state: HealthState;
  /** What its last check said (already redacted and capped by the cache). */
  readonly message: string;
  readonly labels: AlertLabels;
  /** RFC 3339: when it entered the state that fired (for `resolved`: when it came back). */
  readonly since: string;
}

/** One notification about one incident. */
export interface Notification {
  /**
   * Unique per event and stable across retries and replicas (the
   * `webhook-id`): derived from the incident, the kind and the reminder number.
   */
  readonly id: string;
  /**
   * The incident key: derived from the rule, the provider set and the
   * incident's start, the same for its `firing`, reminders and `resolved`
   * (PagerDuty's `dedup_key`).
   */
  readonly incident: string;
  readonly type: AlertKind;
  /** The rule's name. */
  readonly rule: string;
  /** 0 for the first `firing`, n for the n-th reminder; 0 for `resolved`. */
  readonly reminder: number;
  /** A test notification (`sendTest`), not an incident. */
  readonly test: boolean;
  /** RFC 3339: the incident's start (the earliest `since` of its providers). */
  readonly startedAt: string;
  /** The providers, sorted by name. */
  readonly providers: readonly AlertedProvider[];
}

/** A short one-line summary: `[FIRING] prod-down: 3 providers unhealthy or stale (a, b, c)`. */
export function summaryLine(notification: Notification, max = 1024): string {
  const { type, rule, providers, test } = notification;
  const head = test ? '[TEST] provider-health test notification' : `[${type.toUpperCase()}] ${rule}`;
  if (test) return head;
  const states = [...new Set(providers.map((p) => p.state))].sort().join(' or ');
  const count = providers.length === 1 ? '1 provider' : `${providers.length} providers`;
  const verb = type === 'resolved' ? 'back' : states;
  let names = '';
  for (const provider of providers) {
    const next = names === '' ? provider.name : `${names}, ${provider.name}`;
    // Leave room for the suffix: the line must fit `max` (PagerDuty allows 1024).
    if (head.length + count.length + verb.length + next.length + 24 > max) {
      names += ', …';
      break;
    }
    names = next;
  }
  const line = `${head}: ${count} ${verb} (${names})`;
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}
