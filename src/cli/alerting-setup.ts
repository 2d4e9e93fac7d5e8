/**
 * `serve`'s alerting (issue 12): an `Alerting` on the view when the config
 * has `alerts:`, one log line per delivery outcome, and in shared mode a
 * Redis coordinator so that only the lease holder sends, with the alert
 * state under its fencing token. Nothing here logs a URL, key or password:
 * notifiers are named, and reasons come scrubbed from the notifiers.
 */
import {
  Alerting,
  openAlertStateDocument,
  type AlertStateStore,
  type DeliveryOutcome,
} from '../alerts/index.js';
import type { StateStore } from '../state/state-store.js';
import type { Disposable } from '../disposable.js';
import { alertingConfig } from './alerts-config.js';
import type { Logger } from './logger.js';
import type { Setup } from './setup.js';
import type { ServedView } from './view.js';

/** What `serve` holds: the `Alerting` (for the handler's `alerts` option), or nothing when no rule is configured. */
export interface ServeAlerting extends Disposable {
  readonly alerts: Alerting | undefined;
  /** Stops sending and waits for the last save of the alert state (call before the lease is released). */
  close(): Promise<void>;
}

const NONE: ServeAlerting = Object.freeze({
  alerts: undefined,
  dispose: () => {},
  close: () => Promise.resolve(),
  [Symbol.dispose]: () => {},
});

/**
 * Starts alerting on `view` as the config says. Nothing is sent before the
 * view runs; in shared mode nothing before this replica leads. In single
 * mode with `state.file`, the alert state is kept there (`stateStore`), so a
 * restart neither pages again for an incident already announced nor forgets one.
 * @throws ConfigError for an option the library refuses (at its config line).
 */
export async function startAlerting(
  setup: Setup,
  view: ServedView,
  log: Logger,
  stateStore?: StateStore,
): Promise<ServeAlerting> {
  const config = alertingConfig(setup.config ?? {});
  if (config === undefined) return NONE;
  const shared = setup.redis !== undefined && view.onRoleChange !== undefined;
  const warn = (error: Error): void => log.warn(`alerts: ${error.message}`, { alerts: 'error' });
  let coordinator: import('../redis/alert-store.js').RedisAlertCoordinator | undefined;
  let alerting: Alerting;
  try {
    if (shared && setup.redis !== undefined) {
      const { redisAlertCoordinator } = await import('../redis/alert-store.js');
      const cache = view as unknown as import('../redis/index.js').SharedHealthCache;
      // The same Redis the cache shares, in the same form (a URL, Sentinel or Cluster).
      coordinator = redisAlertCoordinator(cache, { redis: setup.redis.target, onError: warn });
    }
    let store: AlertStateStore | undefined;
    if (coordinator === undefined && stateStore !== undefined) {
      store = await openAlertStateDocument(stateStore, {
        onError: (error) => log.warn(`alerts: state file: ${error.message}`, { alerts: 'state' }),
      });
    }
    alerting = new Alerting(view, { ...config, coordinator, store });
  } catch (error) {
    await coordinator?.close();
    throw setup.optionError(error);
  }
  const subscriptions = [
    alerting.onDelivery((outcome) => logOutcome(log, outcome)),
    alerting.onError((error) => warn(error instanceof Error ? error : new Error(String(error)))),
  ];
  const notifiers = alerting.notifiers().map((n) => `${n.name} (${n.type})`);
  const rules = alerting.ruleNames();
  log.info(
    `alerts: ${rules.length} rule${rules.length === 1 ? '' : 's'} (${rules.join(', ')}) to ${notifiers.join(', ')}` +
      (shared ? '; sent only by the replica holding the lease, state kept in Redis' : ''),
    { alerts: 'start', rules: rules.length, notifiers: notifiers.length },
  );
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      for (const subscription of subscriptions) subscription.dispose();
      await alerting.close();
      await coordinator?.close();
    })());
  return {
    alerts: alerting,
    close,
    dispose: () => void close(),
    [Symbol.dispose]: () => void close(),
  };
}

/** One line per delivery outcome: `alerts: ops (webhook) firing prod-down msg_… sent (attempt 1)`. */
export function logOutcome(log: Logger, outcome: DeliveryOutcome): void {
  const { notifier, notifierType, type, rule, id, result, attempt, status, error, retryIn } = outcome;
  const what = outcome.test ? 'test' : type;
  const tries = attempt > 0 ? ` (attempt ${attempt})` : '';
  const why = error === undefined ? '' : `: ${error}`;
  const next = retryIn === undefined ? '' : `; next attempt in ${Math.round(retryIn)} ms`;
  const line = `alerts: ${notifier} (${notifierType}) ${what} ${rule} ${id} ${result}${tries}${why}${next}`;
  const fields = { notifier, notifierType, type: what, rule, id, result, attempt, status, error, retryIn };
  if (result === 'sent' || result === 'cancelled') log.info(line, fields);
  else if (result === 'retrying') log.warn(line, fields);
  else log.error(line, fields);
}
