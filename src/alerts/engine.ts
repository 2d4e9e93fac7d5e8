import type { Clock } from '../clock.js';
import type { Disposable } from '../disposable.js';
import { Emitter, type HealthEvent } from '../events.js';
import type { HealthView } from '../health-view.js';
import type { Status } from '../status.js';
import { clockOption, functionOption, optionsObject } from '../validate.js';
import type { AlertLabels, Notification } from './notification.js';
import type { AlertRule } from './rule.js';
import { RuleTracker, type FiringAlert } from './rule-tracker.js';
import { emptyAlertState, MemoryAlertStore, type AlertEngineState, type AlertStateStore } from './state.js';

export type { FiringAlert } from './rule-tracker.js';

/** Options of {@link AlertEngine}. */
export interface AlertEngineOptions {
  /** Validated rules (see `validateRules`). */
  readonly rules: readonly AlertRule[];
  /** Source of time for `for`, `groupWait` and reminders. Default: the system clock. */
  readonly clock?: Clock | undefined;
  /**
   * Whether a provider must not page now (a silence, a failed dependency).
   * A suppressed provider waits; call {@link AlertEngine.reevaluate} when
   * the answer may have changed (a silence ended) and it fires then if still down.
   * Default: nothing is suppressed.
   */
  readonly isSuppressed?: ((name: string) => boolean) | undefined;
  /** Fires when suppression may have changed; the engine then re-evaluates. Optional. */
  readonly onSuppressionChange?: HealthEvent<unknown> | undefined;
  /** A provider's labels for notifications. Default: the status's `labels` field, if any. */
  readonly labelsOf?: ((name: string, status: Status | undefined) => AlertLabels) | undefined;
  /** Where alert state lives. Default: a {@link MemoryAlertStore}. */
  readonly store?: AlertStateStore | undefined;
  /** Called with whatever a notification listener throws. Default: ignored. */
  readonly onListenerError?: ((error: unknown) => void) | undefined;
}

const NO_LABELS: AlertLabels = Object.freeze({});

/** The labels a status carries, when the core provides them. */
function statusLabels(_name: string, status: Status | undefined): AlertLabels {
  const labels = (status as { readonly labels?: AlertLabels } | undefined)?.labels;
  return labels ?? NO_LABELS;
}

/**
 * Watches a {@link HealthView} and decides when to notify: per rule, it
 * tracks providers entering and leaving the rule's states, waits `for`,
 * groups providers failing within `groupWait` into one incident, reminds
 * every `repeatInterval`, and resolves an incident when all its providers are
 * back. It only emits {@link Notification}s; delivery is someone else's job,
 * so the view's listeners return at once.
 */
export class AlertEngine implements Disposable {
  readonly #view: HealthView;
  readonly #clock: Clock;
  readonly #store: AlertStateStore;
  readonly #state: AlertEngineState;
  readonly #trackers: readonly RuleTracker[];
  readonly #notifications: Emitter<Notification>;
  readonly #subscriptions: Disposable[] = [];
  #saveQueued = false;
  #disposed = false;

  /** Every notification decided, in order. Listeners must return quickly (enqueue, do not send). */
  readonly onNotification: HealthEvent<Notification>;

  constructor(view: HealthView, options: AlertEngineOptions) {
    const init = optionsObject(options, { required: true, scope: 'AlertEngine' });
    this.#view = view;
    this.#clock = clockOption(init.clock, { scope: 'AlertEngine' });
    this.#store = init.store ?? new MemoryAlertStore();
    const onError = functionOption<(error: unknown) => void, (error: unknown) => void>(
      'onListenerError',
      init.onListenerError,
      () => {},
    );
    this.#notifications = new Emitter<Notification>(onError);
    this.onNotification = this.#notifications.event;
    this.#state = this.#store.load() ?? emptyAlertState();
    const isSuppressed = functionOption<(name: string) => boolean, (name: string) => boolean>(
      'isSuppressed',
      init.isSuppressed,
      () => false,
    );
    const labelsOf = functionOption<typeof statusLabels, typeof statusLabels>(
      'labelsOf',
      init.labelsOf,
      statusLabels,
    );
    this.#trackers = init.rules.map((rule) => {
      const state = (this.#state.rules[rule.name] ??= { pending: {}, incidents: [] });
      return new RuleTracker(rule, state, {
        clock: this.#clock,
        staleAfter: () => view.options.staleAfter,
        isSuppressed,
        labels: (name) => labelsOf(name, view.get(name)),
        emit: (notification) => this.#notifications.emit(notification),
        changed: () => this.#changed(),
      });
    });
    this.#subscribe(init.onSuppressionChange);
    this.#reconcile();
  }

  /** Re-checks suppressed and waiting providers now (call when a silence or dependency changed). */
  reevaluate(): void {
    if (this.#disposed) return;
    for (const tracker of this.#trackers) tracker.tick();
  }

  /** The incidents firing now, oldest first. No side effects. */
  firing(): FiringAlert[] {
    return this.#trackers.flatMap((tracker) => tracker.firing());
  }

  /** A deep copy of the alert state (what a store persists). No side effects. */
  state(): AlertEngineState {
    return structuredClone(this.#state);
  }

  /** Unsubscribes from the view, clears every timer and saves the state once more. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const subscription of this.#subscriptions) subscription.dispose();
    for (const tracker of this.#trackers) tracker.dispose();
    this.#store.save(this.#state);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #subscribe(onSuppressionChange: HealthEvent<unknown> | undefined): void {
    const view = this.#view;
    this.#subscriptions.push(
      view.onTransition(({ name, status }) => this.#observe(name, status)),
      view.onRemove(({ name }) => this.#observe(name, undefined)),
    );
    if (onSuppressionChange !== undefined)
      this.#subscriptions.push(onSuppressionChange(() => this.reevaluate()));
  }

  #observe(name: string, status: Status | undefined): void {
    // One transition, one pass over the rules: O(rules), no allocation for unwatched providers.
    for (const tracker of this.#trackers) tracker.observe(name, status);
  }

  /** Brings loaded state in line with the view (a resumed leader) and picks up providers already down. */
  #reconcile(): void {
    for (const tracker of this.#trackers) {
      for (const name of tracker.trackedNames()) tracker.observe(name, this.#view.get(name));
    }
    for (const status of this.#view.snapshot()) this.#observe(status.name, status);
    for (const tracker of this.#trackers) tracker.tick();
    this.#changed();
  }

  /** Saves once per microtask turn, however many providers changed in it. */
  #changed(): void {
    if (this.#saveQueued || this.#disposed) return;
    this.#saveQueued = true;
    queueMicrotask(() => {
      this.#saveQueued = false;
      if (!this.#disposed) this.#store.save(this.#state);
    });
  }
}
