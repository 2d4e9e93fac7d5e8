import { optionTypeError } from '../validate.js';
import { DeliveryError, scrub } from './notifier.js';

/**
 * One HTTP POST of a JSON body for the HTTP notifiers, classifying the
 * answer: 2xx resolves; network errors, 5xx and 429 are retryable (with the
 * `Retry-After` in ms); other statuses, redirects included, are not.
 * @internal
 */

/** The longest part of a receiver's answer read (kept for the error reason). */
export const MAX_ANSWER_BYTES = 4096;
/** The longest `Retry-After` honoured: a day. */
export const MAX_RETRY_AFTER = 86_400_000;

/** What a POST returned. */
export interface PostAnswer {
  readonly status: number;
  /** At most {@link MAX_ANSWER_BYTES} of the body. */
  readonly text: string;
}

/** POSTs `body` to `url`; `secrets` are scrubbed from anything reported. */
export async function postJson(
  url: URL,
  body: string,
  headers: Readonly<Record<string, string>>,
  signal: AbortSignal,
  secrets: readonly string[],
  now: () => number,
): Promise<PostAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'provider-health', ...headers },
    body,
    signal,
    redirect: 'manual',
  });
  const text = await readCapped(response, signal);
  if (response.status >= 200 && response.status < 300) return { status: response.status, text };
  const reason = scrub(`HTTP ${response.status}${text.trim() === '' ? '' : `: ${text}`}`, secrets);
  const retryable = response.status >= 500 || response.status === 429 || response.status === 408;
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'), now());
  throw new DeliveryError(reason, { retryable, status: response.status, retryAfter });
}

/** Reads at most {@link MAX_ANSWER_BYTES} and cancels the rest. */
async function readCapped(response: Response, signal: AbortSignal): Promise<string> {
  const reader: ReadableStreamDefaultReader<Uint8Array> | undefined = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ANSWER_BYTES && !signal.aborted) {
      const chunk = await reader.read();
      if (chunk.done) break;
      const value = chunk.value;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8');
}

/** `Retry-After` as delay-seconds or an HTTP date, in ms from `now`; capped at {@link MAX_RETRY_AFTER}. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(0, ms), MAX_RETRY_AFTER);
}

/** Validates an http(s) URL option; errors never quote it (it may hold a secret). */
export function httpUrl(value: unknown, option: string, scope: string): URL {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw optionTypeError(option, 'an http:// or https:// URL', value, { scope, secret: true });
  return url;
}
