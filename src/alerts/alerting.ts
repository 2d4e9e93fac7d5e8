import type { Clock } from '../clock.js';
import type { Disposable } from '../disposable.js';
import { Emitter, type HealthEvent } from '../events.js';
import type { HealthView } from '../health-view.js';
import { parseSelector } from '../selector.js';
import type { Status } from '../status.js';
import { clockOption, numberOption, optionRangeError, optionsObject } from '../validate.js';
import {
  DeliveryQueue,
  type DeliveryCounts,
  type DeliveryOptions,
  type DeliveryOutcome,
} from './delivery.js';
import { AlertEngine, type FiringAlert } from './engine.js';
import type { AlertLabels, Notification } from './notification.js';
import type { Notifier } from './notifier.js';
import { createNotifiers, type NotifierConfig } from './notifiers.js';
import { validateRules, type AlertRuleInit, type ProviderPredicate } from './rule.js';
import { sendTest } from './send-test.js';
import type { AlertStateStore } from './state.js';

/** A rule as the config file writes it: `selector` may be label-selector text (`env=prod,team!=db`). */
export type AlertRuleConfig = Omit<AlertRuleInit, 'selector'> & {
  readonly selector?: string | ProviderPredicate | undefined;
};

/** Options of {@link Alerting}. */
export interface AlertingOptions {
  /** Notifier config entries (or ready {@link Notifier}s). */
  readonly notifiers: readonly (NotifierConfig | Notifier)[];
  /** The rules (`alerts:` in the config file). */
  readonly alerts: readonly AlertRuleConfig[];
  /** Default: the system clock. */
  readonly clock?: Clock | undefined;
  /** See {@link AlertEngineOptions.isSuppressed}. */
  readonly isSuppressed?: ((name: string) => boolean) | undefined;
  readonly onSuppressionChange?: HealthEvent<unknown> | undefined;
  /** A provider's labels (for selectors and notifications). Default: the status's `labels`. */
  readonly labelsOf?: ((name: string, status: Status | undefined) => AlertLabels) | undefined;
  readonly store?: AlertStateStore | undefined;
  /** Queue bounds, timeouts and backoff, the same for every notifier. */
  readonly delivery?: Omit<DeliveryOptions, 'clock'> | undefined;
  /** How many recent delivery outcomes {@link Alerting.recentDeliveries} keeps. Default 100. */
  readonly recentDeliveries?: number | undefined;
}

const NO_LABELS: AlertLabels = Object.freeze({});
const statusLabels = (_name: string, status: Status | undefined): AlertLabels =>
  (status as { readonly labels?: AlertLabels } | undefined)?.labels ?? NO_LABELS;

/**
 * Alerting for one {@link HealthView}: an {@link AlertEngine} deciding what
 * to say and one {@link DeliveryQueue} per notifier saying it. The view's
 * listeners only enqueue, so polling and the HTTP surface never wait on a
 * receiver.
 */
export class Alerting implements Disposable {
  /** The engine (firing incidents, state). */
  readonly engine: AlertEngine;
  readonly #queues: ReadonlyMap<string, DeliveryQueue>;
  readonly #routes: ReadonlyMap<string, readonly DeliveryQueue[]>;
  readonly #outcomes = new Emitter<DeliveryOutcome>(() => {});
  readonly #recent: DeliveryOutcome[] = [];
  readonly #recentMax: number;
  readonly #clock: Clock;

  /** Every delivery outcome (one log line each); no secrets. */
  readonly onDelivery: HealthEvent<DeliveryOutcome> = this.#outcomes.event;

  /** @throws OptionTypeError / OptionRangeError naming the field (`alerts[0].notify[1]`, `notifiers[2].url`). */
  constructor(view: HealthView, options: AlertingOptions) {
    const init = optionsObject(options, { required: true, scope: 'Alerting' });
    this.#clock = clockOption(init.clock, { scope: 'Alerting' });
    this.#recentMax = numberOption('recentDeliveries', init.recentDeliveries, 100, {
      integer: true,
      min: 0,
      max: 10_000,
    });
    const notifiers = createNotifiers(init.notifiers);
    const labelsOf = init.labelsOf ?? statusLabels;
    const rules = validateRules(
      compileSelectors(init.alerts, labelsOf),
      new Set(notifiers.map((n) => n.name)),
    );
    const delivery: DeliveryOptions = { ...init.delivery, clock: this.#clock };
    const queues = new Map(notifiers.map((n) => [n.name, new DeliveryQueue(n, delivery)] as const));
    for (const queue of queues.values()) queue.onOutcome((outcome) => this.#record(outcome));
    this.#queues = queues;
    this.#routes = new Map(
      rules.map((rule) => [rule.name, rule.notify.map((name) => queues.get(name) as DeliveryQueue)]),
    );
    this.engine = new AlertEngine(view, {
      rules,
      clock: this.#clock,
      isSuppressed: init.isSuppressed,
      onSuppressionChange: init.onSuppressionChange,
      labelsOf,
      store: init.store,
    });
    this.engine.onNotification((notification) => this.#route(notification));
  }

  /** The incidents firing now. No side effects. */
  firing(): FiringAlert[] {
    return this.engine.firing();
  }

  /** The most recent delivery outcomes, newest last. No side effects. */
  recentDeliveries(): readonly DeliveryOutcome[] {
    return [...this.#recent];
  }

  /** Outcome counts per notifier (for metrics: `notifications_total{notifier,result}`). */
  counts(): Readonly<Record<string, DeliveryCounts>> {
    return Object.fromEntries([...this.#queues].map(([name, queue]) => [name, queue.counts()]));
  }

  /** The notifiers, by name. */
  notifiers(): readonly Notifier[] {
    return [...this.#queues.values()].map((queue) => queue.notifier);
  }

  /** Sends a test notification through the notifier named `name`, once. @throws NotifierTestError */
  async sendTest(name: string, signal?: AbortSignal): Promise<void> {
    const queue = this.#queues.get(name);
    if (queue === undefined)
      throw optionRangeError('notifier', `one of ${[...this.#queues.keys()].join(', ')}`, name);
    await sendTest(queue.notifier, signal, { clock: this.#clock });
  }

  /** Resolves when every queue is empty and idle. */
  async idle(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((queue) => queue.idle()));
  }

  /** Stops the engine and every queue. */
  dispose(): void {
    this.engine.dispose();
    for (const queue of this.#queues.values()) queue.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #route(notification: Notification): void {
    for (const queue of this.#routes.get(notification.rule) ?? []) queue.enqueue(notification);
  }

  #record(outcome: DeliveryOutcome): void {
    if (this.#recentMax > 0) {
      this.#recent.push(outcome);
      if (this.#recent.length > this.#recentMax) this.#recent.shift();
    }
    this.#outcomes.emit(outcome);
  }
}

/** Turns selector text into a predicate over the provider's labels; errors name the rule's field. */
function compileSelectors(
  rules: unknown,
  labelsOf: (name: string, status: Status | undefined) => AlertLabels,
): unknown {
  if (!Array.isArray(rules)) return rules;
  return rules.map((rule: unknown, i) => {
    const text = (rule as { selector?: unknown } | null)?.selector;
    if (typeof text !== 'string') return rule;
    try {
      const selector = parseSelector(text);
      const matches: ProviderPredicate = (name, status) => selector.matches(labelsOf(name, status));
      return { ...(rule as object), selector: selector.empty ? undefined : matches };
    } catch (error) {
      throw optionRangeError(`alerts[${i}].selector`, `a label selector (${(error as Error).message})`, text);
    }
  });
}
