import type { Clock, TimerHandle } from '../clock.js';
import type { Disposable } from '../disposable.js';
import { Emitter, type HealthEvent } from '../events.js';
import type { HealthView } from '../health-view.js';
import type { Status } from '../status.js';
import { clockOption, functionOption, optionsObject } from '../validate.js';
import type { FiringAlert } from './firing.js';
import type { AlertLabels, Notification } from './notification.js';
import { statusLabels, type AlertRule } from './rule.js';
import { RuleTracker } from './rule-tracker.js';
import {
  emptyAlertState,
  isAlertStateFencedError,
  MAX_OUTBOX,
  MemoryAlertStore,
  type AlertEngineState,
  type AlertStateStore,
  type OutboxEntry,
} from './state.js';

export type { FiringAlert } from './firing.js';

/** Options of {@link AlertEngine}. */
export interface AlertEngineOptions {
  /** Validated rules (see `validateRules`). */
  readonly rules: readonly AlertRule[];
  /** Source of time for `for`, `groupWait` and reminders. Default: the system clock. */
  readonly clock?: Clock | undefined;
  /**
   * Whether a provider must not page now. Default: its status says so
   * (`silencedBy` or `blockedBy` not empty: a silence, a maintenance window,
   * a failed dependency). A suppressed provider waits; when its status
   * changes to unsuppressed while it is still down, it fires then.
   */
  readonly isSuppressed?: ((name: string) => boolean) | undefined;
  /** Fires when suppression may have changed outside the view's events; the engine then re-evaluates. Optional. */
  readonly onSuppressionChange?: HealthEvent<unknown> | undefined;
  /** A provider's labels for notifications. Default: the status's `labels`. */
  readonly labelsOf?: ((name: string, status: Status | undefined) => AlertLabels) | undefined;
  /** Where alert state lives. Default: a {@link MemoryAlertStore}. */
  readonly store?: AlertStateStore | undefined;
  /** Called with whatever a listener throws. Default: ignored. */
  readonly onListenerError?: ((error: unknown) => void) | undefined;
}

/** A notification recorded in the state and ready to deliver to `notifiers`. */
export interface DueNotification {
  readonly notification: Notification;
  readonly notifiers: readonly string[];
}

/** Saving again after a failed save waits this long, doubling up to {@link MAX_SAVE_RETRY}. */
const SAVE_RETRY = 500;
const MAX_SAVE_RETRY = 30_000;

/**
 * Watches a {@link HealthView} and decides when to notify: per rule, it
 * tracks providers entering and leaving the rule's states, waits `for`,
 * groups providers failing within `groupWait` into one incident, reminds
 * every `repeatInterval`, and resolves an incident when all its providers are
 * back. Each decision is written to the state's outbox and saved; only once
 * the save succeeded is it handed out ({@link onDue}) for delivery, and
 * {@link settle} takes it out of the outbox. So a replica taking over from
 * the state delivers what was left and nothing twice, except a delivery
 * whose settle was not saved yet. The view's listeners return at once.
 * One concept (just over 300 lines): deciding and the outbox's save-then-hand-out
 * order must be read together.
 */
export class AlertEngine implements Disposable {
  readonly #view: HealthView;
  readonly #clock: Clock;
  readonly #store: AlertStateStore;
  readonly #state: AlertEngineState;
  readonly #trackers: readonly RuleTracker[];
  readonly #notifications: Emitter<Notification>;
  readonly #due: Emitter<DueNotification>;
  readonly #dropped: Emitter<DueNotification>;
  readonly #storeErrors: Emitter<unknown>;
  readonly #subscriptions: Disposable[] = [];
  /** Outbox entries decided but not yet saved. */
  readonly #unsaved: OutboxEntry[] = [];
  #dirty = false;
  #scheduled = false;
  #saving: Promise<void> | undefined;
  #retryDelay = SAVE_RETRY;
  #retryTimer: TimerHandle;
  /** Fenced: another replica leads; nothing more is saved or handed out. */
  #fenced = false;
  #disposed = false;

  /** Every notification decided, in order, before it is saved. Listeners must return quickly. */
  readonly onNotification: HealthEvent<Notification>;
  /** Each notification once saved, with the notifiers still to tell: deliver it, then {@link settle}. */
  readonly onDue: HealthEvent<DueNotification>;
  /** Notifications pushed out of a full outbox ({@link MAX_OUTBOX}) before delivery. */
  readonly onDropped: HealthEvent<DueNotification>;
  /** A failed save (retried with backoff; a fenced store is not retried). */
  readonly onStoreError: HealthEvent<unknown>;

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
    this.#due = new Emitter<DueNotification>(onError);
    this.#dropped = new Emitter<DueNotification>(onError);
    this.#storeErrors = new Emitter<unknown>(onError);
    this.onNotification = this.#notifications.event;
    this.onDue = this.#due.event;
    this.onDropped = this.#dropped.event;
    this.onStoreError = this.#storeErrors.event;
    this.#state = this.#store.load() ?? emptyAlertState();
    this.#state.outbox ??= [];
    const isSuppressed = functionOption<(name: string) => boolean, (name: string) => boolean>(
      'isSuppressed',
      init.isSuppressed,
      (name) => suppressedByStatus(view.get(name)),
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
        emit: (notification) => this.#decided(notification, rule.notify),
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

  /**
   * `notifier` is done with notification `id` (delivered, refused, expired
   * or dropped): it leaves the outbox, so no replica delivers it again.
   */
  settle(id: string, notifier: string): void {
    const outbox = this.#state.outbox;
    const index = outbox.findIndex((entry) => entry.notification.id === id);
    const entry = outbox[index];
    if (entry === undefined || !entry.notifiers.includes(notifier)) return;
    entry.notifiers = entry.notifiers.filter((name) => name !== notifier);
    if (entry.notifiers.length === 0) outbox.splice(index, 1);
    this.#changed();
  }

  /** Unsubscribes from the view, clears every timer and saves the state once more (unless fenced). */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const subscription of this.#subscriptions) subscription.dispose();
    for (const tracker of this.#trackers) tracker.dispose();
    this.#clock.clearTimeout(this.#retryTimer);
    if (this.#fenced) return;
    // After the save in flight, so the last word is the newest state.
    const last = (this.#saving ?? Promise.resolve()).then(() => this.#store.save(this.#state));
    this.#saving = last.then(
      () => {},
      (error: unknown) => this.#storeErrors.emit(error),
    );
  }

  /** Disposes and waits for the last save to settle. */
  async close(): Promise<void> {
    this.dispose();
    await this.#saving;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #subscribe(onSuppressionChange: HealthEvent<unknown> | undefined): void {
    // onChange carries every new status: results, transitions, removals and
    // re-annotations (a silence starting or ending, a dependency failing).
    this.#subscriptions.push(this.#view.onChange(({ name, status }) => this.#observe(name, status)));
    if (onSuppressionChange !== undefined)
      this.#subscriptions.push(onSuppressionChange(() => this.reevaluate()));
  }

  #observe(name: string, status: Status | undefined): void {
    // One change, one pass over the rules: O(rules), no allocation for unwatched providers.
    for (const tracker of this.#trackers) tracker.observe(name, status);
  }

  /**
   * Brings loaded state in line with the view (a resumed leader), picks up
   * providers already down and hands out what the loaded outbox still holds.
   * A provider still registered but without a status yet (a leader that
   * just started) is left as it was until its first result.
   */
  #reconcile(): void {
    const known = new Set(this.#trackers.map((tracker) => tracker.rule));
    for (const name of Object.keys(this.#state.rules)) if (!known.has(name)) delete this.#state.rules[name];
    for (const tracker of this.#trackers) {
      for (const name of tracker.trackedNames()) {
        const status = this.#view.get(name);
        if (status === undefined && this.#view.registry.has(name)) continue;
        tracker.observe(name, status);
      }
    }
    for (const status of this.#view.snapshot()) this.#observe(status.name, status);
    this.#unsaved.push(...this.#state.outbox);
    for (const tracker of this.#trackers) tracker.tick();
    this.#changed();
  }

  /** A tracker decided `notification`: into the outbox, handed out once saved. */
  #decided(notification: Notification, notifiers: readonly string[]): void {
    const entry: OutboxEntry = { notification, notifiers: [...notifiers], at: this.#clock.now() };
    const outbox = this.#state.outbox;
    outbox.push(entry);
    this.#unsaved.push(entry);
    if (outbox.length > MAX_OUTBOX) {
      const oldest = outbox.shift() as OutboxEntry;
      const waiting = this.#unsaved.indexOf(oldest);
      if (waiting >= 0) this.#unsaved.splice(waiting, 1);
      this.#dropped.emit(Object.freeze({ notification: oldest.notification, notifiers: oldest.notifiers }));
    }
    this.#notifications.emit(notification);
    this.#changed();
  }

  /** Saves once per microtask turn, however many providers changed in it; one save at a time. */
  #changed(): void {
    this.#dirty = true;
    if (this.#scheduled || this.#saving !== undefined || this.#disposed || this.#fenced) return;
    // After a failed save, the retry timer saves (with everything changed meanwhile).
    if (this.#retryTimer !== undefined) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#saving ??= this.#save().finally(() => {
        this.#saving = undefined;
        if (this.#dirty) this.#changed();
      });
    });
  }

  async #save(): Promise<void> {
    while (this.#dirty && !this.#disposed && !this.#fenced) {
      this.#dirty = false;
      const batch = this.#unsaved.splice(0);
      try {
        const saving = this.#store.save(this.#state);
        if (saving !== undefined) await saving;
        this.#retryDelay = SAVE_RETRY;
      } catch (error) {
        this.#unsaved.unshift(...batch);
        this.#storeErrors.emit(error);
        if (isAlertStateFencedError(error)) this.#fenced = true;
        else this.#retryLater();
        return;
      }
      for (const entry of batch) {
        // Still owed by somebody (not settled or dropped meanwhile)?
        if (entry.notifiers.length === 0 || !this.#state.outbox.includes(entry)) continue;
        this.#due.emit(Object.freeze({ notification: entry.notification, notifiers: [...entry.notifiers] }));
      }
    }
  }

  #retryLater(): void {
    this.#clock.clearTimeout(this.#retryTimer);
    const delay = this.#retryDelay;
    this.#retryDelay = Math.min(MAX_SAVE_RETRY, delay * 2);
    this.#retryTimer = this.#clock.setTimeout(() => {
      this.#retryTimer = undefined;
      this.#changed();
    }, delay);
  }
}

/** Whether a status says the provider must not page: silenced or blocked by a failed dependency. */
export function suppressedByStatus(status: Status | undefined): boolean {
  return status !== undefined && (status.silencedBy.length > 0 || status.blockedBy.length > 0);
}
