import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { formatDuration } from '../../async.js';
import { numberOption } from '../../validate.js';
import type { Outcome } from './outcome.js';

/**
 * Certificate and credential expiry, shared by every TLS-speaking checker
 * (HTTP, Docker over TLS, Kubernetes, Nomad, gRPC): when the server
 * certificate, the client certificate or a JWT bearer token stops being
 * valid. Each is put in `details` as an ISO 8601 string, and one that expires
 * within `certExpiryWarning` makes a successful check `degraded`, saying what
 * expires when.
 * @internal
 */

/** Default `certExpiryWarning`: 14 days, in ms. */
export const DEFAULT_CERT_EXPIRY_WARNING = 14 * 86_400_000;

/** The largest `certExpiryWarning`: 366 days (it is compared, never used as a timer). */
export const MAX_CERT_EXPIRY_WARNING = 366 * 86_400_000;

/** The `details` keys, one per credential; metrics and the page read these. */
export const EXPIRY_DETAIL_KEYS = {
  server: 'serverCertificateNotAfter',
  client: 'clientCertificateNotAfter',
  token: 'tokenNotAfter',
} as const;

/** Which credential a date belongs to. */
export type CredentialKind = keyof typeof EXPIRY_DETAIL_KEYS;

const LABELS: Readonly<Record<CredentialKind, string>> = {
  server: 'server certificate',
  client: 'client certificate',
  token: 'token',
};

/** When each credential a check met stops being valid; gathered during the check. */
export type Expiries = { readonly [K in CredentialKind]?: Date | undefined };

/**
 * The `certExpiryWarning` option: ms before a certificate's `notAfter` from
 * which the check is `degraded`; `0` turns it off. Default 14 days.
 */
export function certExpiryWarningOption(scope: string, value: unknown): number {
  return numberOption('certExpiryWarning', value, DEFAULT_CERT_EXPIRY_WARNING, {
    scope,
    min: 0,
    max: MAX_CERT_EXPIRY_WARNING,
  });
}

function validDate(date: Date): Date | undefined {
  return Number.isFinite(date.getTime()) ? date : undefined;
}

/** The `notAfter` of the certificate the TLS peer presented, if `socket` is TLS and has one. */
export function peerNotAfter(socket: unknown): Date | undefined {
  const getPeer = (socket as Partial<TLSSocket> | null)?.getPeerCertificate;
  if (typeof getPeer !== 'function') return undefined;
  const validTo = getPeer.call(socket as TLSSocket, false)?.valid_to;
  return typeof validTo === 'string' && validTo !== '' ? validDate(new Date(validTo)) : undefined;
}

/** The `notAfter` of the first (leaf) certificate of PEM text, if it parses. */
export function pemNotAfter(pem: string | Buffer | undefined): Date | undefined {
  if (pem === undefined) return undefined;
  try {
    return validDate(new Date(new X509Certificate(pem).validTo));
  } catch {
    // Unusable material is reported by the TLS handshake itself.
    return undefined;
  }
}

/** The largest token decoded for its `exp` (kubeconfig tokens are about 1 KB). */
const MAX_TOKEN_LENGTH = 16 * 1024;

/** The `exp` claim of a JWT (`header.payload.signature`), without verifying it; else `undefined`. */
export function jwtExpiry(token: string | undefined): Date | undefined {
  if (token === undefined || token.length > MAX_TOKEN_LENGTH) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims?.exp === 'number' && Number.isFinite(claims.exp)
      ? validDate(new Date(claims.exp * 1000))
      : undefined;
  } catch {
    return undefined;
  }
}

/** The bearer token of an `Authorization` header, if any. */
export function bearerToken(headers: Readonly<Record<string, string>>): string | undefined {
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== 'authorization') continue;
    const match = /^Bearer\s+(\S+)$/i.exec(value.trim());
    return match?.[1];
  }
  return undefined;
}

/** Keeps the earlier of two dates (a redirect chain met several server certificates). */
export function earlier(a: Date | undefined, b: Date | undefined): Date | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a.getTime() <= b.getTime() ? a : b;
}

/** `server certificate expires in 3 d, on 2026-12-03`. */
function describeExpiry(kind: CredentialKind, notAfter: Date, now: number): string {
  const left = notAfter.getTime() - now;
  const day = notAfter.toISOString().slice(0, 10);
  return left <= 0
    ? `${LABELS[kind]} expired ${formatDuration(-left)} ago, on ${day}`
    : `${LABELS[kind]} expires in ${formatDuration(left)}, on ${day}`;
}

/**
 * Puts each date in the outcome's `details` and, for each that falls within
 * `warning` ms of `now` (`0`: off), a degraded reason saying what expires when.
 */
export function applyExpiries(outcome: Outcome, expiries: Expiries, warning: number, now: number): void {
  for (const kind of Object.keys(EXPIRY_DETAIL_KEYS) as CredentialKind[]) {
    const notAfter = expiries[kind];
    if (notAfter === undefined) continue;
    outcome.addDetails({ [EXPIRY_DETAIL_KEYS[kind]]: notAfter.toISOString() });
    if (warning > 0 && notAfter.getTime() - now <= warning)
      outcome.warn(describeExpiry(kind, notAfter, now), kind);
  }
}
