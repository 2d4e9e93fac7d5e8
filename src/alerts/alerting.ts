import { raceAbort } from '../async.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { Disposable } from '../disposable.js';
import { Emitter, type HealthEvent } from '../events.js';
import type { HealthView } from '../health-view.js';
import type { Status } from '../status.js';
import { clockOption, durationOption, numberOption, optionRangeError, optionsObject } from '../validate.js';
import type { AlertCoordinator } from './coordinator.js';
import {
  DeliveryQueue,
  type DeliveryCounts,
  type DeliveryOptions,
  type DeliveryOutcome,
  type DeliveryResult,
} from './delivery.js';
import { AlertEngine, type DueNotification } from './engine.js';
import { firingAlerts, type FiringAlert } from './firing.js';
import type { AlertLabels } from './notification.js';
import type { Notifier } from './notifier.js';
import { createNotifiers, type NotifierConfig } from './notifiers.js';
import {
  compileSelectors,
  statusLabels,
  validateRules,
  type AlertRule,
  type AlertRuleInit,
  type ProviderPredicate,
} from './rule.js';
import { sendTest } from './send-test.js';
import { isAlertStateFencedError, type AlertEngineState, type AlertStateStore } from './state.js';

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
  /** See {@link AlertEngineOptions.isSuppressed}; default: the status's `silencedBy` / `blockedBy`. */
  readonly isSuppressed?: ((name: string) => boolean) | undefined;
  readonly onSuppressionChange?: HealthEvent<unknown> | undefined;
  /** A provider's labels (for selectors and notifications). Default: the status's `labels`. */
  readonly labelsOf?: ((name: string, status: Status | undefined) => AlertLabels) | undefined;
  /** Where state lives in single mode. Not with `coordinator`. */
  readonly store?: AlertStateStore | undefined;
  /** Shared mode: send only while this replica leads, with the state under the lease (see {@link AlertCoordinator}). */
  readonly coordinator?: AlertCoordinator | undefined;
  /** Queue bounds, timeouts and backoff, the same for every notifier. */
  readonly delivery?: Omit<DeliveryOptions, 'clock'> | undefined;
  /** How many recent delivery outcomes {@link Alerting.recentDeliveries} keeps. Default 100 (at most 10,000). */
  readonly recentDeliveries?: number | undefined;
  /** With a coordinator, how often a replica that does not lead re-reads the firing alerts. Default 5 s. */
  readonly peekInterval?: number | undefined;
}

/** A term of sending: one engine and one queue per notifier. */
interface Term {
  readonly engine: AlertEngine;
  readonly queues: ReadonlyMap<string, DeliveryQueue>;
}

const RESULTS: readonly DeliveryResult[] = ['sent', 'retrying', 'failed', 'expired', 'dropped', 'cancelled'];
/** Results after which a notifier is done with a notification (it leaves the outbox). */
const SETTLED: ReadonlySet<DeliveryResult> = new Set(['sent', 'failed', 'expired', 'dropped']);
/** A coordinator that failed to open a term is asked again after this. */
const REOPEN_DELAY = 1000;

/**
 * Alerting for one {@link HealthView}: an {@link AlertEngine} deciding what
 * to say and one {@link DeliveryQueue} per notifier saying it. The view's
 * listeners only enqueue, so polling and the HTTP surface never wait on a
 * receiver. With a `coordinator` (shared mode) it sends only while this
 * replica leads. Implements the HTTP handler's `alerts` option.
 * One concept (a little over 300 lines): a term's engine, its queues and the
 * coordinator's turns start and end together and read best in one place.
 */
export class Alerting implements Disposable {
  readonly #view: HealthView;
  readonly #clock: Clock;
  readonly #rules: readonly AlertRule[];
  readonly #notifiers: ReadonlyMap<string, Notifier>;
  readonly #engineOptions: Omit<AlertingOptions, 'notifiers' | 'alerts' | 'delivery' | 'coordinator'>;
  readonly #delivery: DeliveryOptions;
  readonly #coordinator: AlertCoordinator | undefined;
  readonly #counts = new Map<string, Record<DeliveryResult, number>>();
  readonly #outcomes = new Emitter<DeliveryOutcome>(() => {});
  readonly #errors = new Emitter<unknown>(() => {});
  readonly #recent: DeliveryOutcome[] = [];
  readonly #recentMax: number;
  readonly #peekInterval: number;
  readonly #subscriptions: Disposable[] = [];
  #term: Term | undefined;
  /** The term followed; `null` before the first look. */
  #token: number | undefined | null = null;
  #opening: AbortController | undefined;
  #timer: TimerHandle;
  #peeked: AlertEngineState | undefined;
  #disposed = false;

  /** Every delivery outcome (one log line each); no secrets. */
  readonly onDelivery: HealthEvent<DeliveryOutcome> = this.#outcomes.event;
  /** Trouble saving or loading alert state (scrubbed); a fenced save (another replica leads) is not reported. */
  readonly onError: HealthEvent<unknown> = this.#errors.event;

  /** @throws OptionTypeError / OptionRangeError naming the field (`alerts[0].notify[1]`, `notifiers[2].url`). */
  constructor(view: HealthView, options: AlertingOptions) {
    const init = optionsObject(options, { required: true, scope: 'Alerting' });
    this.#view = view;
    this.#clock = clockOption(init.clock, { scope: 'Alerting' });
    this.#recentMax = numberOption('recentDeliveries', init.recentDeliveries, 100, {
      integer: true,
      min: 0,
      max: 10_000,
    });
    this.#peekInterval = durationOption('peekInterval', init.peekInterval, 5000, { min: 100 });
    const notifiers = createNotifiers(init.notifiers);
    const labelsOf = init.labelsOf ?? statusLabels;
    this.#rules = validateRules(
      compileSelectors(init.alerts, labelsOf),
      new Set(notifiers.map((n) => n.name)),
    );
    this.#notifiers = new Map(notifiers.map((n) => [n.name, n]));
    for (const name of this.#notifiers.keys())
      this.#counts.set(
        name,
        Object.fromEntries(RESULTS.map((r) => [r, 0])) as Record<DeliveryResult, number>,
      );
    this.#delivery = { ...init.delivery, clock: this.#clock };
    // Validated once here, so a bad option fails the constructor, not a later term.
    new DeliveryQueue(notifiers[0] ?? dummyNotifier, this.#delivery).dispose();
    const { isSuppressed, onSuppressionChange, store } = init;
    this.#engineOptions = { isSuppressed, onSuppressionChange, labelsOf, store };
    this.#coordinator = init.coordinator;
    if (this.#coordinator === undefined) this.#begin(store);
    else {
      if (store !== undefined) throw optionRangeError('store', 'not given with coordinator', 'a store');
      this.#subscriptions.push(this.#coordinator.onChange(() => this.#sync()));
      this.#sync();
    }
  }

  /** The engine of the current term; `undefined` while this replica does not send. */
  get engine(): AlertEngine | undefined {
    return this.#term?.engine;
  }

  /** Whether this replica sends now (always, without a coordinator). */
  get sending(): boolean {
    return this.#term !== undefined;
  }

  /** The incidents firing now (on a replica that does not lead: as last read from the shared state). */
  firing(): FiringAlert[] {
    if (this.#term !== undefined) return this.#term.engine.firing();
    const state = this.#peeked;
    if (state === undefined) return [];
    const labels = (name: string): AlertLabels => statusLabels(name, this.#view.get(name));
    return this.#rules.flatMap((rule) => {
      const ruleState = state.rules[rule.name];
      return ruleState === undefined ? [] : firingAlerts(rule.name, ruleState, labels);
    });
  }

  /** The most recent delivery outcomes, newest last. No side effects. */
  recentDeliveries(): readonly DeliveryOutcome[] {
    return [...this.#recent];
  }

  /** Outcome counts per notifier since start (for `provider_health_notifications_total{notifier,result}`). */
  counts(): Readonly<Record<string, DeliveryCounts>> {
    return Object.fromEntries([...this.#counts].map(([name, counts]) => [name, { ...counts }]));
  }

  /** Every rule's name, in config order (so `provider_health_alerts_firing{rule}` shows 0 for a quiet rule). */
  ruleNames(): readonly string[] {
    return this.#rules.map((rule) => rule.name);
  }

  /** The notifiers, in config order. */
  notifiers(): readonly Notifier[] {
    return [...this.#notifiers.values()];
  }

  /** Sends a test notification through the notifier named `name`, once. @throws NotifierTestError */
  async sendTest(name: string, signal?: AbortSignal): Promise<void> {
    const notifier = this.#notifiers.get(name);
    if (notifier === undefined)
      throw optionRangeError('notifier', `one of ${[...this.#notifiers.keys()].join(', ')}`, name);
    await sendTest(notifier, signal, { clock: this.#clock });
  }

  /**
   * Resolves when every queue of the current term is empty and idle.
   * @throws the signal's reason if `signal` aborts first (the queues go on).
   */
  async idle(signal?: AbortSignal): Promise<void> {
    const queues = [...(this.#term?.queues.values() ?? [])];
    await raceAbort(Promise.all(queues.map((queue) => queue.idle())), signal);
  }

  /** Stops the engine and every queue (what is undelivered stays in the saved outbox). */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const subscription of this.#subscriptions) subscription.dispose();
    this.#clock.clearTimeout(this.#timer);
    this.#end();
  }

  /**
   * Disposes and waits for the engine's last save.
   * @throws the signal's reason if `signal` aborts before the save ends (disposed all the same).
   */
  async close(signal?: AbortSignal): Promise<void> {
    const engine = this.#term?.engine;
    this.dispose();
    await raceAbort(engine?.close() ?? Promise.resolve(), signal);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Starts a term: an engine on `store` and a queue per notifier. */
  #begin(store: AlertStateStore | undefined): void {
    const queues = new Map(
      [...this.#notifiers.values()].map((n) => [n.name, new DeliveryQueue(n, this.#delivery)] as const),
    );
    const engine = new AlertEngine(this.#view, {
      ...this.#engineOptions,
      store,
      rules: this.#rules,
      clock: this.#clock,
    });
    for (const queue of queues.values())
      queue.onOutcome((outcome) => {
        this.#record(outcome);
        if (SETTLED.has(outcome.result) && !outcome.test) engine.settle(outcome.id, outcome.notifier);
      });
    engine.onDue((due) => this.#deliver(due, queues, engine));
    engine.onDropped(({ notification, notifiers }) => {
      for (const notifier of notifiers) {
        const queue = queues.get(notifier);
        queue?.drop(notification, 'outbox full');
      }
    });
    engine.onStoreError((error) => {
      if (!isAlertStateFencedError(error)) this.#errors.emit(error);
    });
    this.#term = { engine, queues };
  }

  #deliver(due: DueNotification, queues: ReadonlyMap<string, DeliveryQueue>, engine: AlertEngine): void {
    for (const notifier of due.notifiers) {
      const queue = queues.get(notifier);
      // A notifier no longer configured (the state was saved by an older config): nothing to do.
      if (queue === undefined) engine.settle(due.notification.id, notifier);
      else queue.enqueue(due.notification);
    }
  }

  /** Ends the term, if any: in-flight and waiting deliveries are abandoned (reported `cancelled`). */
  #end(): void {
    this.#opening?.abort();
    this.#opening = undefined;
    const term = this.#term;
    this.#term = undefined;
    if (term === undefined) return;
    term.engine.dispose();
    for (const queue of term.queues.values()) queue.dispose();
  }

  /** Follows the coordinator: a term while it names one, else reads the shared state now and then. */
  #sync(): void {
    const coordinator = this.#coordinator;
    if (coordinator === undefined || this.#disposed) return;
    const token = coordinator.term();
    if (token === this.#token && (token === undefined || this.#term !== undefined || this.#opening)) return;
    this.#end();
    this.#clock.clearTimeout(this.#timer);
    this.#token = token;
    const opening = new AbortController();
    this.#opening = opening;
    if (token === undefined) return void this.#peek(coordinator, opening.signal);
    this.#peeked = undefined;
    coordinator.open(token, opening.signal).then(
      (store) => {
        if (opening.signal.aborted || this.#disposed) return;
        this.#opening = undefined;
        this.#begin(store);
      },
      (error: unknown) => {
        if (opening.signal.aborted || this.#disposed) return;
        this.#opening = undefined;
        this.#errors.emit(error);
        this.#later(() => this.#sync(), REOPEN_DELAY);
      },
    );
  }

  /** A replica that does not lead: re-reads the shared state every `peekInterval`, for `firing()`. */
  async #peek(coordinator: AlertCoordinator, signal: AbortSignal): Promise<void> {
    if (coordinator.peek === undefined) return;
    try {
      const state = await coordinator.peek(signal);
      if (!signal.aborted) this.#peeked = state;
    } catch (error) {
      if (!signal.aborted) this.#errors.emit(error);
    }
    if (!signal.aborted && !this.#disposed)
      this.#later(() => void this.#peek(coordinator, signal), this.#peekInterval);
  }

  #later(run: () => void, delay: number): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      run();
    }, delay);
  }

  #record(outcome: DeliveryOutcome): void {
    const counts = this.#counts.get(outcome.notifier);
    if (counts !== undefined) counts[outcome.result] += 1;
    if (this.#recentMax > 0) {
      this.#recent.push(outcome);
      if (this.#recent.length > this.#recentMax) this.#recent.shift();
    }
    this.#outcomes.emit(outcome);
  }
}

const dummyNotifier: Notifier = { name: 'none', type: 'none', send: () => Promise.resolve() };
