import { createHmac } from 'node:crypto';
import { systemClock, type Clock } from '../clock.js';
import { clockOption, numberOption, optionsObject, optionTypeError, stringOption } from '../validate.js';
import type { Notification } from './notification.js';
import type { Notifier } from './notifier.js';
import { httpUrl, postJson } from './http-post.js';

/** Options of {@link webhookNotifier}. */
export interface WebhookNotifierOptions {
  readonly name: string;
  /** Where to POST. May itself be a secret (a token in the path): never shown. */
  readonly url: string;
  /** The Standard Webhooks signing secret: `whsec_` followed by base64 (at least 16 bytes). */
  readonly secret: string;
  /** The most providers listed in one body; the rest are counted in `omitted`. Default 1000. */
  readonly maxProviders?: number | undefined;
  /** Source of the `webhook-timestamp`. Default: the system clock. */
  readonly clock?: Clock | undefined;
}

/**
 * The body of a webhook: `type`, `rule` and `providers` as promised, plus the
 * ids a receiver deduplicates on.
 */
export interface WebhookBody {
  readonly type: 'firing' | 'resolved' | 'test';
  readonly rule: string;
  readonly id: string;
  readonly incident: string;
  readonly reminder: number;
  readonly startedAt: string;
  readonly providers: Notification['providers'];
  /** Providers left out past `maxProviders`. */
  readonly omitted: number;
}

/** Builds a webhook body. */
export function webhookBody(notification: Notification, maxProviders = 1000): WebhookBody {
  const { id, incident, type, rule, reminder, startedAt, providers, test } = notification;
  return {
    type: test ? 'test' : type,
    rule,
    id,
    incident,
    reminder,
    startedAt,
    providers: providers.slice(0, maxProviders),
    omitted: Math.max(0, providers.length - maxProviders),
  };
}

/**
 * The Standard Webhooks signature: `v1,` and the base64 HMAC-SHA256, keyed
 * with the secret's base64 part, of `id.timestamp.body`.
 */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/**
 * A notifier that POSTs signed JSON (Standard Webhooks): headers
 * `webhook-id` (the notification id: the same on every retry and replica),
 * `webhook-timestamp` (seconds, per attempt) and `webhook-signature`.
 */
export function webhookNotifier(options: WebhookNotifierOptions, scope = 'webhookNotifier'): Notifier {
  const init = optionsObject(options, { required: true, scope });
  const name = stringOption('name', init.name, undefined, { scope }) ?? missing('name', scope);
  const url = httpUrl(init.url, 'url', scope);
  const secret = signingSecret(init.secret, scope);
  const maxProviders = numberOption('maxProviders', init.maxProviders, 1000, {
    scope,
    integer: true,
    min: 1,
  });
  const clock = clockOption(init.clock, { scope }) ?? systemClock;
  const secrets = [url.href, secret, secret.slice('whsec_'.length)];
  return Object.freeze({
    name,
    type: 'webhook',
    async send(notification: Notification, signal: AbortSignal): Promise<void> {
      const body = JSON.stringify(webhookBody(notification, maxProviders));
      const timestamp = Math.floor(clock.now() / 1000);
      const headers = {
        'webhook-id': notification.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(secret, notification.id, timestamp, body),
      };
      await postJson(url, body, headers, signal, secrets, () => clock.now());
    },
  });
}

function signingSecret(value: unknown, scope: string): string {
  const ok =
    typeof value === 'string' &&
    value.startsWith('whsec_') &&
    /^[A-Za-z0-9+/]+={0,2}$/.test(value.slice(6)) &&
    Buffer.from(value.slice(6), 'base64').length >= 16;
  if (!ok)
    throw optionTypeError('secret', 'whsec_ followed by base64 of at least 16 bytes', value, {
      scope,
      secret: true,
    });
  return value;
}

/** Throws the error of a missing required option. @internal */
export function missing(option: string, scope: string): never {
  throw optionTypeError(option, 'a non-empty string', undefined, { scope });
}
