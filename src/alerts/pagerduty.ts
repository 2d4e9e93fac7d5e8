import { systemClock, type Clock } from '../clock.js';
import { clockOption, optionRangeError, optionsObject, stringOption } from '../validate.js';
import { summaryLine, type Notification } from './notification.js';
import type { Notifier } from './notifier.js';
import { httpUrl, postJson } from './http-post.js';
import { missing } from './webhook.js';

/** PagerDuty's Events API v2 endpoint. */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';
/** The most providers listed in `custom_details` (the API takes at most 512 KB per event). */
export const PAGERDUTY_MAX_DETAILS = 100;

/** PagerDuty severities. */
export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

/** Options of {@link pagerDutyNotifier}. */
export interface PagerDutyNotifierOptions {
  readonly name: string;
  /** The integration's routing key (a secret). */
  readonly routingKey: string;
  /** Default {@link PAGERDUTY_EVENTS_URL}; override for a proxy or tests. */
  readonly url?: string | undefined;
  /** `payload.source`. Default `provider-health` (the same on every replica). */
  readonly source?: string | undefined;
  /** Severity of triggers. Default `critical`. */
  readonly severity?: PagerDutySeverity | undefined;
  readonly clock?: Clock | undefined;
}

/** An Events API v2 event. */
export interface PagerDutyEvent {
  routing_key: string;
  event_action: 'trigger' | 'resolve';
  dedup_key: string;
  payload?: {
    summary: string;
    source: string;
    severity: PagerDutySeverity;
    timestamp: string;
    group: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  client?: string;
}

/**
 * The event for a notification: `trigger` for `firing` (reminders re-trigger
 * the same `dedup_key`, which PagerDuty folds into the open alert), `resolve`
 * for `resolved`. `dedup_key` is the incident key.
 */
export function pagerDutyEvent(
  notification: Notification,
  routingKey: string,
  source = 'provider-health',
  severity: PagerDutySeverity = 'critical',
): PagerDutyEvent {
  const dedup = notification.incident;
  if (notification.type === 'resolved' && !notification.test)
    return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedup };
  const { providers } = notification;
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedup,
    payload: {
      summary: summaryLine(notification, 1024),
      source,
      severity: notification.test ? 'info' : severity,
      timestamp: notification.startedAt,
      group: notification.rule,
      class: [...new Set(providers.map((p) => p.state))].sort().join(',') || 'test',
      custom_details: {
        rule: notification.rule,
        notification_id: notification.id,
        providers: providers.slice(0, PAGERDUTY_MAX_DETAILS),
        omitted: Math.max(0, providers.length - PAGERDUTY_MAX_DETAILS),
      },
    },
    client: 'provider-health',
  };
}

/**
 * A notifier for PagerDuty's Events API v2. A test notification triggers an
 * `info` alert and resolves it at once.
 */
export function pagerDutyNotifier(options: PagerDutyNotifierOptions, scope = 'pagerDutyNotifier'): Notifier {
  const init = optionsObject(options, { required: true, scope });
  const name = stringOption('name', init.name, undefined, { scope }) ?? missing('name', scope);
  const routingKey =
    stringOption('routingKey', init.routingKey, undefined, { scope, secret: true }) ??
    missing('routingKey', scope);
  const url = httpUrl(init.url ?? PAGERDUTY_EVENTS_URL, 'url', scope);
  const source = stringOption('source', init.source, 'provider-health', { scope });
  const severity = init.severity ?? 'critical';
  if (!['critical', 'error', 'warning', 'info'].includes(severity))
    throw optionRangeError('severity', 'one of critical, error, warning, info', severity, { scope });
  const clock = clockOption(init.clock, { scope }) ?? systemClock;
  const secrets = [routingKey, url.href];
  const post = (event: PagerDutyEvent, signal: AbortSignal) =>
    postJson(url, JSON.stringify(event), {}, signal, secrets, () => clock.now());
  return Object.freeze({
    name,
    type: 'pagerduty',
    async send(notification: Notification, signal: AbortSignal): Promise<void> {
      await post(pagerDutyEvent(notification, routingKey, source, severity), signal);
      if (notification.test)
        await post(
          { routing_key: routingKey, event_action: 'resolve', dedup_key: notification.incident },
          signal,
        );
    },
  });
}
