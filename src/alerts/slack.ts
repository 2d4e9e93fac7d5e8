import { systemClock, type Clock } from '../clock.js';
import { clockOption, optionsObject, stringOption } from '../validate.js';
import { summaryLine, type Notification } from './notification.js';
import type { Notifier } from './notifier.js';
import { httpUrl, postJson } from './http-post.js';
import { missing } from './webhook.js';

/** Options of {@link slackNotifier}. */
export interface SlackNotifierOptions {
  readonly name: string;
  /** The incoming-webhook URL (a secret: it is the credential). */
  readonly url: string;
  /** Used for `Retry-After` dates. Default: the system clock. */
  readonly clock?: Clock | undefined;
}

/** Slack's limits: a message holds at most 50 blocks; a section's text at most 3000 characters, a header's 150. */
export const SLACK_LIMITS = Object.freeze({ blocks: 50, sectionText: 3000, headerText: 150, listed: 20 });

type Block =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji: true } }
  | { type: 'section'; text: { type: 'mrkdwn'; text: string } }
  | { type: 'context'; elements: { type: 'mrkdwn'; text: string }[] };

/** Slack's mrkdwn escaping: `&`, `<` and `>` only. */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cap(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The incoming-webhook message: `text` (the notification fallback) and
 * `blocks`: a header, one section listing up to 20 providers, a context line.
 */
export function slackMessage(notification: Notification): { text: string; blocks: Block[] } {
  const { type, rule, providers, test } = notification;
  const icon = test ? ':wave:' : type === 'firing' ? ':red_circle:' : ':large_green_circle:';
  const title = test
    ? 'provider-health test notification'
    : `${type === 'firing' ? 'Firing' : 'Resolved'}: ${rule}${notification.reminder > 0 ? ' (reminder)' : ''}`;
  const lines = providers
    .slice(0, SLACK_LIMITS.listed)
    .map(
      (p) =>
        `• *${escape(p.name)}* ${escape(p.state)} since ${p.since}${p.message ? ` — ${escape(p.message)}` : ''}`,
    );
  if (providers.length > SLACK_LIMITS.listed)
    lines.push(`…and ${providers.length - SLACK_LIMITS.listed} more`);
  const blocks: Block[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: cap(`${icon} ${title}`, SLACK_LIMITS.headerText), emoji: true },
    },
  ];
  if (lines.length > 0)
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: cap(lines.join('\n'), SLACK_LIMITS.sectionText) },
    });
  const context = test
    ? 'Sent by `provider-health notify test`.'
    : `Rule \`${escape(rule)}\` · started ${notification.startedAt} · ${notification.incident}`;
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: cap(context, SLACK_LIMITS.sectionText) }],
  });
  return { text: summaryLine(notification, SLACK_LIMITS.sectionText), blocks };
}

/** A notifier posting to a Slack incoming webhook. */
export function slackNotifier(options: SlackNotifierOptions, scope = 'slackNotifier'): Notifier {
  const init = optionsObject(options, { required: true, scope });
  const name = stringOption('name', init.name, undefined, { scope }) ?? missing('name', scope);
  const url = httpUrl(init.url, 'url', scope);
  const clock = clockOption(init.clock, { scope }) ?? systemClock;
  const secrets = [url.href];
  return Object.freeze({
    name,
    type: 'slack',
    async send(notification: Notification, signal: AbortSignal): Promise<void> {
      const body = JSON.stringify(slackMessage(notification));
      await postJson(url, body, {}, signal, secrets, () => clock.now());
    },
  });
}
