/**
 * Turning whatever a checker produced into a short, safe message.
 * @internal
 */

// Both patterns start at a fixed word and never nest quantifiers, so each runs
// in time linear in the text (the URL userinfo is found by a scanner, below).
const AUTH_SCHEME = /\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{4,}/gi;
const SECRET_PARAM = /\b((?:access_?)?token|password|passwd|secret|api[_-]?key|auth)=([^\s&;,]+)/gi;
/** Characters that end a URL's authority. */
const AUTHORITY_END = /[\s/?#]/;
const SCHEME_CHAR = /[A-Za-z0-9+.-]/;

/**
 * How far past the shown length a message is read before it is cut, so that a
 * secret starting inside the shown part is seen whole by the scrubbing (a
 * longer one is dropped whole, see {@link cleanMessage}).
 */
export const REDACTION_WINDOW = 4_096;

/**
 * Removes credentials a message may quote: URL userinfo, `Bearer …`/`Basic …`
 * values and `token=…`-style parameters. A last line of defence; checkers
 * should not put secrets in messages in the first place. Linear in the text.
 */
export function redactSecrets(text: string): string {
  return redactUserinfo(text).replace(AUTH_SCHEME, '$1$2***').replace(SECRET_PARAM, '$1=***');
}

/**
 * Replaces the userinfo of every `scheme://user:pass@host` with `***`: up to
 * the last `@` of the authority, as URL parsers read it (a password may hold a
 * raw `@`). Each character is visited a bounded number of times: the scan of
 * one authority stops at the `/` of the next `://`.
 */
function redactUserinfo(text: string): string {
  let out = '';
  let copied = 0;
  let from = 0;
  for (;;) {
    const sep = text.indexOf('://', from);
    if (sep === -1) break;
    from = sep + 3;
    // A scheme must end right before "://".
    if (sep === 0 || !SCHEME_CHAR.test(text[sep - 1] as string)) continue;
    let end = from;
    let at = -1;
    while (end < text.length && !AUTHORITY_END.test(text[end] as string)) {
      if (text[end] === '@') at = end;
      end++;
    }
    if (at === -1) continue;
    out += `${text.slice(copied, from)}***`;
    copied = at;
    from = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Whether a cut-off last word could be (part of) a secret: a URL, a `key=value`, `user:pass@`. */
const SECRET_MARK = /[:=@]/;
const AUTH_WORD = /\b(?:bearer|basic|token)\s+$/i;

/**
 * Reads at most `max` + {@link REDACTION_WINDOW} characters, redacts, removes
 * control characters, then caps at `max` characters with an ellipsis. Work is
 * bounded whatever the input's length. When the read cuts through a word that
 * could hold a secret (it has `:`, `=` or `@`, or follows `Bearer`/`Basic`/
 * `token`), that whole word becomes `***`, so no part of it can show.
 */
export function cleanMessage(text: string, max: number): string {
  let bounded = text;
  const limit = max + REDACTION_WINDOW;
  if (text.length > limit) {
    bounded = text.slice(0, limit);
    // Cut inside a word: drop the word if it may hold a secret whose end we no longer see.
    if (!/\s/.test(text[limit] as string)) {
      let wordStart = bounded.length;
      while (wordStart > 0 && !/\s/.test(bounded[wordStart - 1] as string)) wordStart--;
      const word = bounded.slice(wordStart);
      if (SECRET_MARK.test(word) || AUTH_WORD.test(bounded.slice(Math.max(0, wordStart - 16), wordStart))) {
        bounded = `${bounded.slice(0, wordStart)}***`;
      }
    }
  }
  // Control characters would garble logs and terminals.
  // eslint-disable-next-line no-control-regex
  const safe = redactSecrets(bounded).replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ');
  return safe.length <= max && bounded === text ? safe : `${safe.slice(0, max - 1)}…`;
}
export function describeFailure(reason: unknown): string {
  if (reason instanceof Error) {
    const message = reason.message.trim();
    return message.length > 0 ? message : `checker failed with ${reason.name} and no message`;
  }
  if (reason === undefined) return 'checker failed without a reason (rejected with undefined)';
  if (reason === null) return 'checker failed without a reason (rejected with null)';
  if (typeof reason === 'string') {
    return reason.trim().length > 0 ? reason : 'checker failed with an empty string';
  }
  if (typeof reason === 'object') {
    const message = (reason as { message?: unknown }).message;
    if (typeof message === 'string' && message.trim().length > 0) return message;
    return `checker failed with a non-Error value: ${safeJSON(reason)}`;
  }
  if (typeof reason === 'function') return 'checker failed with a function instead of an Error';
  const primitive = reason as number | boolean | bigint | symbol;
  return `checker failed with a non-Error value: ${String(primitive)}`;
}

function safeJSON(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? Object.prototype.toString.call(value) : text.slice(0, 200);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
