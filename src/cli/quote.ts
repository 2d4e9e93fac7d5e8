/**
 * How config errors quote what the file holds: bounded, escaped, scrubbed, so
 * a message never echoes a huge key or value, a control character or a
 * credential in a URL.
 */
import { redactSecrets } from '../index.js';

/** Keys longer than this are cut in messages: no real key comes close. */
export const MAX_QUOTED_KEY = 40;

/**
 * A key as a message shows it: as is when short and plain, else its first
 * characters, JSON-escaped, with its length (`"kkkk…" (2000000 characters)`),
 * so an error never echoes a huge key nor writes control characters.
 */
export function quoteKey(key: string): string {
  if (key.length <= MAX_QUOTED_KEY && /^[\w$-]+$/.test(key)) return key;
  if (key.length <= MAX_QUOTED_KEY) return JSON.stringify(key);
  return `${redactSecrets(JSON.stringify(`${key.slice(0, 16)}…`))} (${key.length} characters)`;
}

/** Strings longer than this are not quoted in messages, only measured. */
export const MAX_QUOTED_STRING = 80;

/** A string value for a message: quoted and scrubbed when short, else only its length. */
export function quoteString(value: string): string {
  if (value.length > MAX_QUOTED_STRING) return `a string of ${value.length} characters`;
  return redactSecrets(JSON.stringify(value));
}
