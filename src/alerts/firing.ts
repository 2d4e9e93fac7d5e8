import type { AlertKind, AlertLabels, AlertedProvider } from './notification.js';
import type { RuleState } from './state.js';

/**
 * An incident firing now, as readers show it (`GET /api/alerts`, the page,
 * `provider_health_alerts_firing{rule}`). Plain data, no secrets.
 */
export interface FiringAlert {
  readonly rule: string;
  /** The incident key (PagerDuty's `dedup_key`). */
  readonly incident: string;
  /** RFC 3339: when the incident started (the earliest `since` of its providers). */
  readonly since: string;
  /** RFC 3339: when its first `firing` was decided. */
  readonly firedAt: string;
  /** The providers still down, sorted by name. */
  readonly providers: readonly AlertedProvider[];
  /** The names of providers of the incident already back, sorted. */
  readonly recovered: readonly string[];
  /** The last notification ids decided for it (at most 20). */
  readonly sent: readonly { readonly id: string; readonly type: AlertKind; readonly at: string }[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The firing incidents of one rule's state (announced, some member still
 * down), oldest first. Works on any copy
 * of the state (a follower reads the leader's from Redis). No side effects.
 */
export function firingAlerts(
  rule: string,
  state: RuleState,
  labels: (name: string) => AlertLabels,
): FiringAlert[] {
  const alerts: FiringAlert[] = [];
  for (const incident of state.incidents) {
    // Collecting (not announced yet) or resolving (every member back): not firing.
    if (incident.phase !== 'firing' || incident.down === 0) continue;
    const providers: AlertedProvider[] = [];
    const recovered: string[] = [];
    for (const name of Object.keys(incident.members).sort()) {
      const member = incident.members[name];
      if (member === undefined) continue;
      if (!member.down) recovered.push(name);
      else
        providers.push({
          name,
          state: member.state,
          message: member.message,
          labels: labels(name),
          since: iso(member.since),
        });
    }
    alerts.push({
      rule,
      incident: incident.key ?? '',
      since: iso(incident.startedAt),
      firedAt: iso(incident.firedAt ?? incident.openedAt),
      providers,
      recovered,
      sent: incident.sent.map(({ id, type, at }) => ({ id, type, at: iso(at) })),
    });
  }
  return alerts;
}
