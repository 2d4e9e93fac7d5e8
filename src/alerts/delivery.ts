import { formatDuration, raceAbort, sleep, timeoutSignal } from '../async.js';
import type { Clock } from '../clock.js';
import { Emitter, type HealthEvent } from '../events.js';
import { durationOption, numberOption, optionsObject } from '../validate.js';
import type { Notification } from './notification.js';
import { toDeliveryError, type DeliveryError, type Notifier } from './notifier.js';

/** How one delivery attempt (or the whole notification) ended. */
export type DeliveryResult = 'sent' | 'retrying' | 'failed' | 'expired' | 'dropped' | 'cancelled';

/** One delivery outcome: plain data, no secrets (notifier name and type, never its URL or key). */
export interface DeliveryOutcome {
  readonly notifier: string;
  readonly notifierType: string;
  /** The notification id (`webhook-id`). */
  readonly id: string;
  readonly incident: string;
  readonly rule: string;
  readonly type: Notification['type'];
  readonly test: boolean;
  /**
   * `sent`; `retrying` (another attempt follows); `failed` (a 4xx: not
   * retried); `expired` (still failing after `giveUpAfter`); `dropped` (pushed
   * out of a full queue); `cancelled` (the queue was disposed).
   */
  readonly result: DeliveryResult;
  /** 1 for the first attempt; 0 when no attempt was made. */
  readonly attempt: number;
  /** RFC 3339. */
  readonly at: string;
  /** HTTP status or SMTP reply code, when there was one. */
  readonly status?: number | undefined;
  /** Why it failed, scrubbed of secrets. */
  readonly error?: string | undefined;
  /** For `retrying`: ms until the next attempt. */
  readonly retryIn?: number | undefined;
}

/** Options of {@link DeliveryQueue}. Defaults are the stated bounds. */
export interface DeliveryOptions {
  readonly clock: Clock;
  /** Notifications waiting per notifier; when full, the oldest waiting one is dropped (counted). Default 100. */
  readonly maxQueue?: number | undefined;
  /** One attempt's timeout (a hanging receiver). Default 10 s. */
  readonly attemptTimeout?: number | undefined;
  /** First retry delay. Default 1 s; doubles per attempt. */
  readonly initialBackoff?: number | undefined;
  /** Longest retry delay. Default 5 min. */
  readonly maxBackoff?: number | undefined;
  /** A notification still failing this long after it was queued is dropped (counted as `expired`). Default 1 h. */
  readonly giveUpAfter?: number | undefined;
  /** Random source for jitter, [0, 1). Default `Math.random`. */
  readonly random?: (() => number) | undefined;
}

/** Counts per result since the queue started. */
export type DeliveryCounts = Readonly<Record<DeliveryResult, number>>;

/** The delay before retry `attempt` (1-based): exponential, capped, with "equal jitter" (half fixed, half random). */
export function backoffDelay(attempt: number, initial: number, max: number, random: () => number): number {
  const base = Math.min(max, initial * 2 ** (attempt - 1));
  return base / 2 + random() * (base / 2);
}

interface ResolvedDelivery {
  readonly maxQueue: number;
  readonly attemptTimeout: number;
  readonly initialBackoff: number;
  readonly maxBackoff: number;
  readonly giveUpAfter: number;
  readonly random: () => number;
}

interface Queued {
  readonly notification: Notification;
  readonly queuedAt: number;
}

/**
 * One notifier's queue: bounded, one delivery at a time (so a `resolved`
 * never overtakes its `firing`), retries on the injected clock. `enqueue`
 * returns at once; the work runs in the background until `dispose`.
 */
export class DeliveryQueue {
  readonly #notifier: Notifier;
  readonly #clock: Clock;
  readonly #options: ResolvedDelivery;
  readonly #waiting: Queued[] = [];
  readonly #outcomes: Emitter<DeliveryOutcome>;
  readonly #stop = new AbortController();
  readonly #counts: Record<DeliveryResult, number> = {
    sent: 0,
    retrying: 0,
    failed: 0,
    expired: 0,
    dropped: 0,
    cancelled: 0,
  };
  #running: Promise<void> | undefined;

  /** Every outcome, in order. */
  readonly onOutcome: HealthEvent<DeliveryOutcome>;

  constructor(
    notifier: Notifier,
    options: DeliveryOptions,
    onListenerError: (error: unknown) => void = () => {},
  ) {
    const init = optionsObject(options, { required: true, scope: 'delivery' });
    this.#notifier = notifier;
    this.#clock = init.clock;
    const site = { scope: 'delivery' };
    this.#options = {
      maxQueue: numberOption('maxQueue', init.maxQueue, 100, {
        ...site,
        integer: true,
        min: 1,
        max: 100_000,
      }),
      attemptTimeout: durationOption('attemptTimeout', init.attemptTimeout, 10_000, site),
      initialBackoff: durationOption('initialBackoff', init.initialBackoff, 1000, site),
      maxBackoff: durationOption('maxBackoff', init.maxBackoff, 300_000, site),
      giveUpAfter: durationOption('giveUpAfter', init.giveUpAfter, 3_600_000, site),
      random: init.random ?? Math.random,
    };
    this.#outcomes = new Emitter<DeliveryOutcome>(onListenerError);
    this.onOutcome = this.#outcomes.event;
  }

  /** The notifier served. */
  get notifier(): Notifier {
    return this.#notifier;
  }

  /** Notifications waiting (not counting one in flight). */
  get size(): number {
    return this.#waiting.length;
  }

  /** Outcomes so far, per result. */
  counts(): DeliveryCounts {
    return { ...this.#counts };
  }

  /** Queues `notification` and returns at once. A full queue drops its oldest waiting notification. */
  enqueue(notification: Notification): void {
    if (this.#stop.signal.aborted) return this.#report(notification, 'cancelled', 0);
    this.#waiting.push({ notification, queuedAt: this.#clock.now() });
    if (this.#waiting.length > this.#options.maxQueue) {
      const oldest = this.#waiting.shift() as Queued;
      this.#report(oldest.notification, 'dropped', 0, { error: `queue full (${this.#options.maxQueue})` });
    }
    this.#running ??= this.#drain().finally(() => (this.#running = undefined));
  }

  /** Reports `notification` as `dropped` without an attempt (it was pushed out before reaching this queue). */
  drop(notification: Notification, reason: string): void {
    this.#report(notification, 'dropped', 0, { error: reason });
  }

  /** Resolves when nothing is waiting or in flight (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  /** Stops: the notification in flight is abandoned, the waiting ones reported `cancelled`. */
  dispose(): void {
    if (this.#stop.signal.aborted) return;
    this.#stop.abort(new Error('delivery queue disposed'));
    for (const { notification } of this.#waiting.splice(0)) this.#report(notification, 'cancelled', 0);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  async #drain(): Promise<void> {
    for (let next = this.#waiting.shift(); next !== undefined; next = this.#waiting.shift()) {
      if (this.#stop.signal.aborted) return this.#report(next.notification, 'cancelled', 0);
      await this.#deliver(next);
    }
  }

  /** Attempts until sent, refused (4xx), expired or cancelled. */
  async #deliver({ notification, queuedAt }: Queued): Promise<void> {
    const { giveUpAfter, initialBackoff, maxBackoff, random } = this.#options;
    for (let attempt = 1; ; attempt++) {
      const error = await this.#attempt(notification);
      if (error === undefined) return this.#report(notification, 'sent', attempt);
      const detail = { status: error.status, error: error.message };
      if (this.#stop.signal.aborted) return this.#report(notification, 'cancelled', attempt, detail);
      if (!error.retryable) return this.#report(notification, 'failed', attempt, detail);
      const delay = error.retryAfter ?? backoffDelay(attempt, initialBackoff, maxBackoff, random);
      if (this.#clock.now() + delay - queuedAt > giveUpAfter) {
        const expired = `${error.message}; gave up after ${formatDuration(giveUpAfter)}`;
        return this.#report(notification, 'expired', attempt, { ...detail, error: expired });
      }
      this.#report(notification, 'retrying', attempt, { ...detail, retryIn: delay });
      try {
        await sleep(this.#clock, delay, this.#stop.signal);
      } catch {
        return this.#report(notification, 'cancelled', attempt, detail);
      }
    }
  }

  /** One attempt, bounded by `attemptTimeout`; `undefined` when sent. */
  async #attempt(notification: Notification): Promise<DeliveryError | undefined> {
    const timeout = timeoutSignal(this.#clock, this.#options.attemptTimeout, [this.#stop.signal], {
      reason: new DOMException(
        `no answer within ${formatDuration(this.#options.attemptTimeout)}`,
        'TimeoutError',
      ),
    });
    try {
      // Raced against the signal: a notifier that ignores it cannot hold the queue.
      await raceAbort(this.#notifier.send(notification, timeout.signal), timeout.signal);
      return undefined;
    } catch (error) {
      return toDeliveryError(error, []);
    } finally {
      timeout.dispose();
    }
  }

  #report(
    notification: Notification,
    result: DeliveryResult,
    attempt: number,
    detail: Partial<DeliveryOutcome> = {},
  ): void {
    this.#counts[result] += 1;
    const { id, incident, rule, type, test } = notification;
    const { name, type: notifierType } = this.#notifier;
    const at = new Date(this.#clock.now()).toISOString();
    const outcome: DeliveryOutcome = {
      notifier: name,
      notifierType,
      id,
      incident,
      rule,
      type,
      test,
      result,
      attempt,
      at,
    };
    this.#outcomes.emit(Object.freeze({ ...outcome, ...detail, ...outcome }));
  }
}
