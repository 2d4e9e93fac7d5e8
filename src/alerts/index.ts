/**
 * `provider-health/alerts`: notifications when providers fail and recover.
 * Subscribes to any `HealthView`; the core knows nothing of it.
 */
export { Alerting, type AlertingOptions, type AlertRuleConfig } from './alerting.js';
export { AlertEngine, suppressedByStatus, type AlertEngineOptions, type DueNotification } from './engine.js';
export type { AlertCoordinator } from './coordinator.js';
export { firingAlerts, type FiringAlert } from './firing.js';
export {
  DeliveryQueue,
  backoffDelay,
  type DeliveryCounts,
  type DeliveryOptions,
  type DeliveryOutcome,
  type DeliveryResult,
} from './delivery.js';
export {
  summaryLine,
  type AlertKind,
  type AlertLabels,
  type AlertedProvider,
  type Notification,
} from './notification.js';
export { DeliveryError, isDeliveryError, type Notifier } from './notifier.js';
export { createNotifier, createNotifiers, MAX_NOTIFIERS, type NotifierConfig } from './notifiers.js';
export {
  DEFAULT_ALERT_STATES,
  MAX_ALERT_RULES,
  validateRule,
  validateRules,
  type AlertRule,
  type AlertRuleInit,
  type AlertState,
  type ProviderPredicate,
} from './rule.js';
export { AlertStateError, MAX_STATE_NAMES, MAX_STATE_TEXT, parseAlertState } from './state-codec.js';
export { isNotifierTestError, NotifierTestError, sendTest } from './send-test.js';
export {
  AlertStateFencedError,
  emptyAlertState,
  isAlertStateFencedError,
  MAX_OUTBOX,
  type OutboxEntry,
  incidentKey,
  MemoryAlertStore,
  notificationId,
  type AlertEngineState,
  type AlertStateStore,
  type Incident,
  type IncidentMember,
  type PendingProvider,
  type RuleState,
  type SentRecord,
} from './state.js';
export {
  signWebhook,
  webhookBody,
  webhookNotifier,
  type WebhookBody,
  type WebhookNotifierOptions,
} from './webhook.js';
export { slackMessage, slackNotifier, SLACK_LIMITS, type SlackNotifierOptions } from './slack.js';
export {
  PAGERDUTY_EVENTS_URL,
  pagerDutyEvent,
  pagerDutyNotifier,
  type PagerDutyEvent,
  type PagerDutyNotifierOptions,
  type PagerDutySeverity,
} from './pagerduty.js';
export { EMAIL_MAX_LISTED, emailContent, emailNotifier, type EmailNotifierOptions } from './email.js';
export { ALERT_STATE_KEY, openAlertStateDocument, type AlertStateDocumentOptions } from './state-document.js';
