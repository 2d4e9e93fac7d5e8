/**
 * Turning whatever a checker produced into a short, safe message.
 * @internal
 */

// Up to the last "@" of the authority, as URL parsers read it: a password may hold a raw "@".
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi;
const AUTH_SCHEME = /\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{4,}/gi;
const SECRET_PARAM = /\b((?:access_?)?token|password|passwd|secret|api[_-]?key|auth)=([^\s&;,]+)/gi;

/**
 * Removes credentials a message may quote: URL userinfo, `Bearer …`/`Basic …`
 * values and `token=…`-style parameters. A last line of defence; checkers
 * should not put secrets in messages in the first place.
 */
export function redactSecrets(text: string): string {
  return text.replace(URL_USERINFO, '$1***@').replace(AUTH_SCHEME, '$1$2***').replace(SECRET_PARAM, '$1=***');
}

/** Redacts, then caps `text` at `max` characters with an ellipsis. */
export function cleanMessage(text: string, max: number): string {
  // Control characters would garble logs and terminals.
  // eslint-disable-next-line no-control-regex
  const safe = redactSecrets(text).replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ');
  return safe.length <= max ? safe : `${safe.slice(0, max - 1)}…`;
}

/** A person-readable reason for a rejection or throw, whatever was thrown. */
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
