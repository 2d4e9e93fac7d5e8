import { formatDuration, raceAbort, timeoutSignal } from '../async.js';
import { systemClock, type Clock } from '../clock.js';
import { notificationId } from './state.js';
import type { Notification } from './notification.js';
import { toDeliveryError, type Notifier } from './notifier.js';

/** A failed test notification: names the notifier and the reason (never a secret). */
export class NotifierTestError extends Error {
  readonly notifier: string;
  readonly reason: string;
  /** HTTP status or SMTP reply code, when there was one. */
  readonly status: number | undefined;

  constructor(notifier: string, reason: string, status: number | undefined) {
    super(`notifier ${JSON.stringify(notifier)} failed: ${reason}`);
    this.name = 'NotifierTestError';
    this.notifier = notifier;
    this.reason = reason;
    this.status = status;
  }
}

/** Whether `error` is a {@link NotifierTestError}. */
export function isNotifierTestError(error: unknown): error is NotifierTestError {
  return error instanceof NotifierTestError;
}

/** A test notification: `test: true`, no providers, a fresh id each time. */
export function testNotification(now: number): Notification {
  const incident = `test_${Math.round(now)}_${Math.random().toString(36).slice(2, 10)}`;
  return Object.freeze({
    id: notificationId(incident, 'firing', 0),
    incident,
    type: 'firing',
    rule: 'test',
    reminder: 0,
    test: true,
    startedAt: new Date(now).toISOString(),
    providers: Object.freeze([]),
  });
}

/**
 * Sends one test notification through `notifier`, once, without retries
 * (for `provider-health notify test`). Rejects with a
 * {@link NotifierTestError} naming the reason: an unreachable server, an
 * HTTP 4xx, a refused login, a timeout.
 */
export async function sendTest(
  notifier: Notifier,
  signal?: AbortSignal,
  options: { readonly clock?: Clock; readonly timeout?: number } = {},
): Promise<void> {
  const clock = options.clock ?? systemClock;
  const ms = options.timeout ?? 10_000;
  // A caller awaits this: the timer keeps the process alive.
  const timeout = timeoutSignal(clock, ms, [signal], {
    keepAlive: true,
    reason: new DOMException(`no answer within ${formatDuration(ms)}`, 'TimeoutError'),
  });
  try {
    await raceAbort(notifier.send(testNotification(clock.now()), timeout.signal), timeout.signal);
  } catch (error) {
    if (signal?.aborted === true) throw signal.reason;
    const failure = toDeliveryError(error, []);
    throw new NotifierTestError(notifier.name, failure.message, failure.status);
  } finally {
    timeout.dispose();
  }
}
