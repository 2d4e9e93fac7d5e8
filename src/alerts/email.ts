import { durationOption, optionsObject, optionTypeError, stringOption } from '../validate.js';
import { summaryLine, type Notification } from './notification.js';
import { DeliveryError, errorCode, scrub, type Notifier } from './notifier.js';
import { missing } from './webhook.js';

/** Options of {@link emailNotifier}. */
export interface EmailNotifierOptions {
  readonly name: string;
  /** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465` (TLS). A secret: never shown. */
  readonly smtp: string;
  readonly from: string;
  readonly to: readonly string[];
  /** Connection, greeting and socket timeout in ms. Default 10,000. */
  readonly timeout?: number | undefined;
}

/** The most providers listed in one email. */
export const EMAIL_MAX_LISTED = 200;

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Subject, plain text and HTML of a notification. */
export function emailContent(notification: Notification): { subject: string; text: string; html: string } {
  const listed = notification.providers.slice(0, EMAIL_MAX_LISTED);
  const more = notification.providers.length - listed.length;
  const subject = summaryLine(notification, 200);
  const lines = listed.map(
    (p) => `- ${p.name}: ${p.state} since ${p.since}${p.message ? ` (${p.message})` : ''}`,
  );
  if (more > 0) lines.push(`…and ${more} more`);
  const footer = notification.test
    ? 'Sent by provider-health notify test.'
    : `Rule ${notification.rule}, started ${notification.startedAt}, incident ${notification.incident}.`;
  const text = `${subject}\n\n${lines.join('\n')}\n\n${footer}\n`;
  const rows = listed
    .map(
      (p) =>
        `<tr><td>${escapeHtml(p.name)}</td><td>${escapeHtml(p.state)}</td><td>${escapeHtml(p.since)}</td><td>${escapeHtml(p.message)}</td></tr>`,
    )
    .join('');
  const html =
    `<h2>${escapeHtml(subject)}</h2>` +
    (rows === ''
      ? ''
      : `<table><tr><th>Provider</th><th>State</th><th>Since</th><th>Message</th></tr>${rows}</table>`) +
    (more > 0 ? `<p>…and ${more} more</p>` : '') +
    `<p>${escapeHtml(footer)}</p>`;
  return { subject, text, html };
}

interface SmtpTarget {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly auth: { user: string; pass: string } | undefined;
}

function smtpTarget(value: unknown, scope: string): SmtpTarget {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || url.hostname === '')
    throw optionTypeError('smtp', 'an smtp:// or smtps:// URL', value, { scope, secret: true });
  const secure = url.protocol === 'smtps:';
  const user = decodeURIComponent(url.username);
  const auth = user === '' ? undefined : { user, pass: decodeURIComponent(url.password) };
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || (secure ? 465 : 587)),
    secure,
    auth,
  };
}

/** The password as written in the URL (percent-encoded). */
function smtpPassword(value: unknown): string {
  try {
    return new URL(String(value)).password;
  } catch {
    return '';
  }
}

/** Loads the optional peer `nodemailer`, or says how to install it. */
async function loadNodemailer(): Promise<typeof import('nodemailer')> {
  try {
    return await import('nodemailer');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
      throw new DeliveryError(
        'the email notifier needs the optional peer dependency nodemailer: npm install nodemailer',
        { retryable: false },
      );
    throw error;
  }
}

/**
 * A notifier sending mail over SMTP with nodemailer (an optional peer,
 * loaded on first send). SMTP 4xx replies and connection errors are
 * retryable; 5xx replies and failed logins are not.
 */
export function emailNotifier(options: EmailNotifierOptions, scope = 'emailNotifier'): Notifier {
  const init = optionsObject(options, { required: true, scope });
  const name = stringOption('name', init.name, undefined, { scope }) ?? missing('name', scope);
  const target = smtpTarget(init.smtp, scope);
  const from = stringOption('from', init.from, undefined, { scope }) ?? missing('from', scope);
  if (
    !Array.isArray(init.to) ||
    init.to.length === 0 ||
    init.to.some((to) => typeof to !== 'string' || to.trim() === '')
  )
    throw optionTypeError('to', 'a non-empty array of addresses', init.to, { scope });
  const to: string[] = [...(init.to as readonly string[])];
  const timeout = durationOption('timeout', init.timeout, 10_000, { scope });
  // The password in every spelling, not the whole URL: scrub() also cuts the parts of a
  // secret, and the host and port are what a reason like "ECONNREFUSED 10.0.0.5:587" needs.
  const pass = target.auth?.pass ?? '';
  const secrets = [pass, encodeURIComponent(pass), smtpPassword(init.smtp)].filter((s) => s.length > 0);
  return Object.freeze({
    name,
    type: 'email',
    async send(notification: Notification, signal: AbortSignal): Promise<void> {
      signal.throwIfAborted();
      const nodemailer = await loadNodemailer();
      const transport = nodemailer.createTransport({
        ...target,
        connectionTimeout: timeout,
        greetingTimeout: timeout,
        socketTimeout: timeout,
      });
      // nodemailer takes no signal: closing the transport ends the connection.
      const onAbort = (): void => transport.close();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        await transport.sendMail({
          from,
          to,
          ...emailContent(notification),
          messageId: `<${notification.id}@provider-health>`,
        });
      } catch (error) {
        signal.throwIfAborted();
        throw smtpError(error, secrets);
      } finally {
        signal.removeEventListener('abort', onAbort);
        transport.close();
      }
    },
  });
}

/** Classifies a nodemailer error; keeps the SMTP reply (scrubbed), never the URL. */
function smtpError(error: unknown, secrets: readonly string[]): DeliveryError {
  const code = errorCode(error);
  const reply = (error as { responseCode?: unknown; response?: unknown }) ?? {};
  const status = typeof reply.responseCode === 'number' ? reply.responseCode : undefined;
  const detail = error instanceof Error ? `: ${error.message}` : '';
  const response = typeof reply.response === 'string' ? `: ${reply.response}` : detail;
  const retryable = code !== 'EAUTH' && code !== 'ENOAUTH' && (status === undefined || status < 500);
  const what = status === undefined ? `SMTP ${code}` : `SMTP ${status} (${code})`;
  return new DeliveryError(scrub(`${what}${response}`, secrets), { retryable, status });
}
