import type { Clock } from '../clock.js';
import { optionRangeError, optionTypeError } from '../validate.js';
import { emailNotifier, type EmailNotifierOptions } from './email.js';
import type { Notifier } from './notifier.js';
import { pagerDutyNotifier, type PagerDutyNotifierOptions } from './pagerduty.js';
import { slackNotifier, type SlackNotifierOptions } from './slack.js';
import { webhookNotifier, type WebhookNotifierOptions } from './webhook.js';

/** A notifier as the config file writes it: `type` picks the kind, the rest are its options. */
export type NotifierConfig =
  | ({ readonly type: 'webhook' } & WebhookNotifierOptions)
  | ({ readonly type: 'slack' } & SlackNotifierOptions)
  | ({ readonly type: 'pagerduty' } & PagerDutyNotifierOptions)
  | ({ readonly type: 'email' } & EmailNotifierOptions);

/** The most notifiers one config may declare. */
export const MAX_NOTIFIERS = 50;

/**
 * Builds notifiers from config entries; errors name the entry
 * (`notifiers[1] (slack "chat"): url must be …`), never a secret value.
 */
export function createNotifiers(input: unknown, clock?: Clock): readonly Notifier[] {
  if (!Array.isArray(input)) throw optionTypeError('notifiers', 'an array', input);
  if (input.length > MAX_NOTIFIERS)
    throw optionRangeError('notifiers', `at most ${MAX_NOTIFIERS} entries`, input.length);
  const names = new Set<string>();
  return Object.freeze(
    input.map((entry: unknown, i) => {
      const notifier = createNotifier(entry, `notifiers[${i}]`, clock);
      if (names.has(notifier.name))
        throw optionRangeError(`notifiers[${i}].name`, 'unique among notifiers', notifier.name);
      names.add(notifier.name);
      return notifier;
    }),
  );
}

/** Builds one notifier from a config entry (or passes a ready {@link Notifier} through). */
export function createNotifier(entry: unknown, path = 'notifier', clock?: Clock): Notifier {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    throw optionTypeError(path, 'an object', entry);
  if (typeof (entry as Partial<Notifier>).send === 'function') return entry as Notifier;
  const config = entry as NotifierConfig;
  const label = typeof config.name === 'string' ? ` "${config.name}"` : '';
  const scope = `${path} (${String(config.type)}${label})`;
  const withClock = clock === undefined ? config : { ...config, clock };
  switch (config.type) {
    case 'webhook':
      return webhookNotifier(withClock as WebhookNotifierOptions, scope);
    case 'slack':
      return slackNotifier(withClock as SlackNotifierOptions, scope);
    case 'pagerduty':
      return pagerDutyNotifier(withClock as PagerDutyNotifierOptions, scope);
    case 'email':
      return emailNotifier(config, scope);
    default:
      throw optionRangeError(
        `${path}.type`,
        'one of webhook, slack, pagerduty, email',
        (config as { type?: unknown }).type,
      );
  }
}
