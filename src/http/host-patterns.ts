import { isIP } from 'node:net';
import { optionRangeError, optionTypeError } from '../validate.js';

/** One `allowedHosts` entry: a name, every subdomain of a suffix, or any host. @internal */
export type HostPattern =
  | { readonly kind: 'any' }
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'suffix'; readonly suffix: string };

/** At most this many `allowedHosts` entries (each matched per request). */
const MAX_HOSTS = 1_000;
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$/;

/** Validates `allowedHosts`: an array of host names, `*.suffix` or `*`. @internal */
export function hostsOption(value: unknown): readonly HostPattern[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw optionTypeError('allowedHosts', 'an array of host names', value);
  if (value.length > MAX_HOSTS) {
    throw optionRangeError('allowedHosts', `at most ${MAX_HOSTS} entries`, value);
  }
  return Object.freeze(
    value.map((entry: unknown, i): HostPattern => {
      const option = `allowedHosts[${i}]`;
      if (typeof entry !== 'string') throw optionTypeError(option, 'a host name', entry);
      const host = normalise(entry);
      if (host === '*') return { kind: 'any' };
      if (host.startsWith('*.') && HOST_NAME.test(host.slice(2)))
        return { kind: 'suffix', suffix: host.slice(1) };
      const literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
      if (HOST_NAME.test(host) || isIP(literal) !== 0) return { kind: 'name', name: literal };
      throw optionRangeError(
        option,
        'a host name without scheme or port (such as "health.example.com"), "*.example.com" or "*"',
        entry,
      );
    }),
  );
}

function normalise(host: string): string {
  const lower = host.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * The host name of a `Host` header value (`name`, `name:port`, `[v6]:port`),
 * lower case, without a trailing dot; `undefined` when malformed. @internal
 */
export function hostOf(header: string): string | undefined {
  let host = header.trim();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end === -1) return undefined;
    const rest = host.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    return host.slice(1, end).toLowerCase();
  }
  const colon = host.lastIndexOf(':');
  if (colon !== -1) {
    if (!/^\d{1,5}$/.test(host.slice(colon + 1))) return undefined;
    host = host.slice(0, colon);
  }
  return host === '' ? undefined : normalise(host);
}

/**
 * Whether a request whose `Host` header is `header` may be answered: no
 * header (not a browser: HTTP/1.0 clients), `localhost` and its subdomains,
 * any IP literal (a DNS-rebinding page needs a name it controls, and an IP
 * literal cannot be rebound; the address the server is reached on differs
 * from its socket's behind NAT, so any literal is accepted), and `patterns`.
 * @internal
 */
export function hostAllowed(header: string | undefined, patterns: readonly HostPattern[]): boolean {
  if (header === undefined) return true;
  const host = hostOf(header);
  if (host === undefined) return false;
  if (host === 'localhost' || host.endsWith('.localhost') || isIP(host) !== 0) return true;
  for (const pattern of patterns) {
    if (pattern.kind === 'any') return true;
    if (pattern.kind === 'name' && pattern.name === host) return true;
    if (pattern.kind === 'suffix' && host.endsWith(pattern.suffix)) return true;
  }
  return false;
}
