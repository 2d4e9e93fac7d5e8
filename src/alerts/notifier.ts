import { redactSecrets } from '../messages.js';
import type { Notification } from './notification.js';

/**
 * A destination for notifications. Implementations keep their secrets
 * (URLs, keys, passwords) in private fields and never put them in what they
 * return or throw.
 */
export interface Notifier {
  /** The name rules refer to (`notify: [ops]`). */
  readonly name: string;
  /** `webhook`, `slack`, `pagerduty`, `email`, or a custom kind. */
  readonly type: string;
  /**
   * Delivers one notification. Resolves when the receiver accepted it;
   * rejects with a {@link DeliveryError} saying whether a retry may help.
   * Must stop when `signal` aborts.
   */
  send(notification: Notification, signal: AbortSignal): Promise<void>;
}

/** Why a delivery attempt failed. Its message never holds a secret. */
export class DeliveryError extends Error {
  /** A retry may succeed (network error, timeout, 5xx, 429, SMTP 4xx). */
  readonly retryable: boolean;
  /** The HTTP status (or SMTP reply code), when there was one. */
  readonly status: number | undefined;
  /** How long the receiver asked us to wait (`Retry-After`), in ms. */
  readonly retryAfter: number | undefined;

  constructor(
    message: string,
    init: { retryable: boolean; status?: number | undefined; retryAfter?: number | undefined },
  ) {
    super(message);
    this.name = 'DeliveryError';
    this.retryable = init.retryable;
    this.status = init.status;
    this.retryAfter = init.retryAfter;
  }
}

/** Whether `error` is a {@link DeliveryError}. */
export function isDeliveryError(error: unknown): error is DeliveryError {
  return error instanceof DeliveryError;
}

/** The longest reason kept from a receiver's answer or an error. */
export const MAX_REASON_LENGTH = 300;

/**
 * Makes text safe to show: removes each of `secrets` (and any part of them
 * longer than 7 characters, such as a URL's path), redacts URL credentials
 * and tokens, drops control characters, and caps the length.
 */
export function scrub(text: string, secrets: readonly string[]): string {
  let safe = text;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    safe = safe.split(secret).join('***');
    // A client may quote a URL in another form (decoded, or only its path).
    for (const part of secret.split(/[/?&=:@#]/)) if (part.length > 7) safe = safe.split(part).join('***');
  }
  safe = redactSecrets(safe)
    // eslint-disable-next-line no-control-regex -- control characters would garble logs
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim();
  return safe.length <= MAX_REASON_LENGTH ? safe : `${safe.slice(0, MAX_REASON_LENGTH - 1)}…`;
}

/**
 * Turns anything thrown during an attempt into a {@link DeliveryError} with a
 * safe message. Unknown errors count as network errors (retryable), keeping
 * only their code or name, never their message (it may quote a URL).
 */
export function toDeliveryError(error: unknown, secrets: readonly string[]): DeliveryError {
  if (error instanceof DeliveryError) {
    const message = scrub(error.message, secrets);
    return message === error.message
      ? error
      : new DeliveryError(message, {
          retryable: error.retryable,
          status: error.status,
          retryAfter: error.retryAfter,
        });
  }
  if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new DeliveryError(scrub(error.message, secrets) || error.name, { retryable: true });
  }
  return new DeliveryError(`network error (${errorCode(error)})`, { retryable: true });
}

/** The most specific code an error carries: `ECONNREFUSED`, `UND_ERR_SOCKET`, or its name. */
export function errorCode(error: unknown): string {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code)) return code;
    current = current.cause;
  }
  return error instanceof Error ? error.name : typeof error;
}
