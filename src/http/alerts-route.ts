import type { HealthView } from '../health-view.js';
import { sendJSON } from './responses.js';
import { READ, type Route } from './route-table.js';

/**
 * What `GET /api/alerts` reads: the `Alerting` class of
 * `provider-health/alerts` satisfies it. Declared here structurally, so the
 * HTTP surface does not load the alerting modules.
 */
export interface AlertsSource {
  /** The incidents firing now. No side effects. */
  firing(): readonly FiringAlertLike[];
  /** The most recent delivery outcomes, newest last. No side effects. */
  recentDeliveries(): readonly DeliveryOutcomeLike[];
}

/** The parts of an alerting `FiringAlert` the API shows. */
export interface FiringAlertLike {
  readonly rule: string;
  readonly incident: string;
  /** RFC 3339: the incident's start. */
  readonly since?: string | undefined;
  /** The same as `since`, as older alerting versions name it. */
  readonly startedAt?: string | undefined;
  /** RFC 3339: when its first `firing` went out. */
  readonly firedAt?: string | undefined;
  /** The members still down: as the alert state saw them, or only their names (then read from the view). */
  readonly providers: readonly (string | AlertedProviderLike)[];
  /** Names of the members back already. */
  readonly recovered?: readonly string[] | undefined;
}

/** A provider of a firing incident, as the alert state holds it. */
export interface AlertedProviderLike {
  readonly name: string;
  readonly state: string;
  readonly message: string;
  readonly labels: Readonly<Record<string, string>>;
  /** RFC 3339: when it entered the state that fired. */
  readonly since: string;
}

/** The parts of an alerting `DeliveryOutcome` the API shows (none of them a secret). */
export interface DeliveryOutcomeLike {
  readonly notifier: string;
  readonly notifierType?: string | undefined;
  readonly id: string;
  readonly incident?: string | undefined;
  readonly rule: string;
  readonly type: string;
  readonly test?: boolean | undefined;
  readonly result: string;
  readonly attempt: number;
  readonly at: string;
  readonly status?: number | undefined;
  readonly error?: string | undefined;
}

/** Providers listed per firing incident; the rest are counted in `count`. */
export const MAX_LISTED_PROVIDERS = 1_000;
/** Delivery outcomes listed, newest kept. */
export const MAX_LISTED_DELIVERIES = 1_000;
/** An outcome's `error` is cut to this many characters. */
const MAX_ERROR_LENGTH = 500;

/**
 * `GET /api/alerts`: `{ firing: [...], deliveries: [...] }`, built at each
 * request (it is small: incidents, not providers, and a bounded list of
 * outcomes). No secret reaches it: notifiers are named, never their URLs,
 * keys or signing secrets, and URLs left in an error are cut out. @internal
 */
export function alertsRoute(view: HealthView, source: AlertsSource): Route {
  return {
    path: ['api', 'alerts'],
    methods: READ,
    serve: (req, res) => {
      const firing = source.firing().map((alert) => firingToJSON(view, alert));
      const deliveries = source.recentDeliveries().slice(-MAX_LISTED_DELIVERIES).map(deliveryToJSON);
      sendJSON(req, res, 200, { firing, deliveries });
    },
  };
}

function firingToJSON(view: HealthView, alert: FiringAlertLike): Record<string, unknown> {
  const listed = alert.providers.slice(0, MAX_LISTED_PROVIDERS);
  return {
    rule: alert.rule,
    incident: alert.incident,
    since: alert.since ?? alert.startedAt,
    ...(alert.firedAt === undefined ? {} : { firedAt: alert.firedAt }),
    count: alert.providers.length,
    providers: listed.map((provider) =>
      typeof provider === 'string' ? fromView(view, provider) : brief(provider),
    ),
    recovered: (alert.recovered ?? []).slice(0, MAX_LISTED_PROVIDERS),
  };
}

/** Only the listed fields: whatever else a provider object carries stays out of the answer. */
function brief({ name, state, message, labels, since }: AlertedProviderLike): AlertedProviderLike {
  return { name, state, message, labels, since };
}

/** A member known by name only, described from the view. */
function fromView(view: HealthView, name: string): Record<string, unknown> {
  const status = view.get(name);
  return {
    name,
    state: status?.state ?? 'unknown',
    message: status?.message ?? 'not checked yet',
    labels: status?.labels ?? view.registry.labels(name),
    since: status?.lastTransitionAt.toISOString() ?? null,
  };
}

function deliveryToJSON(outcome: DeliveryOutcomeLike): Record<string, unknown> {
  const json: Record<string, unknown> = {
    notifier: outcome.notifier,
    notifierType: outcome.notifierType,
    type: outcome.type,
    rule: outcome.rule,
    incident: outcome.incident,
    id: outcome.id,
    test: outcome.test === true,
    result: outcome.result,
    attempt: outcome.attempt,
    at: outcome.at,
  };
  if (outcome.status !== undefined) json.status = outcome.status;
  if (outcome.error !== undefined) json.error = scrub(outcome.error);
  return json;
}

/**
 * Removes URLs (which may carry a webhook token in their path, or a
 * password) from an error already scrubbed by the notifier: a second guard,
 * since an answer is read by anyone who can reach the API.
 */
function scrub(error: string): string {
  const cut = error.length > MAX_ERROR_LENGTH ? `${error.slice(0, MAX_ERROR_LENGTH)}…` : error;
  return cut.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '[url]');
}
