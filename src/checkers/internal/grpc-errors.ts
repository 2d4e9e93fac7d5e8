/**
 * Turns the errors of a gRPC health check call into a short reason a person
 * understands, naming the gRPC status code (`UNAVAILABLE: connection
 * refused`). `@grpc/grpc-js` reports connection and TLS failures as text
 * inside the status details, so those are matched by their wording; anything
 * else is quoted from the details, cut to one bounded line with secrets
 * redacted.
 * @internal
 */
import { formatDuration } from '../../async.js';
import { redactSecrets } from '../../messages.js';

/** gRPC status codes by number (the protocol fixes them). */
const CODE_NAMES: readonly string[] = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** The longest piece of a server's error details quoted in a message. */
export const MAX_DETAILS_CHARS = 200;

/** Connection and TLS failures, recognised by the wording of Node.js, OpenSSL and grpc-js. */
const TRANSPORT_REASONS: readonly (readonly [RegExp, string])[] = [
  [/ECONNREFUSED/, 'connection refused'],
  [/ECONNRESET/, 'the connection was reset by the peer'],
  [/ETIMEDOUT/, 'the connection timed out'],
  [/EHOSTUNREACH/, 'host unreachable'],
  [/ENETUNREACH/, 'network unreachable'],
  [/Name resolution failed|ENOTFOUND|EAI_NONAME/, 'DNS lookup failed: no such host'],
  [/EAI_AGAIN/, 'DNS lookup failed (temporary failure)'],
  [/certificate has expired/, 'TLS failure: the server certificate has expired'],
  [/certificate is not yet valid/, 'TLS failure: the server certificate is not valid yet'],
  [
    /ERR_TLS_CERT_ALTNAME_INVALID|does not match certificate's altnames/,
    'TLS failure: the server certificate does not match the host name',
  ],
  [
    /unable to verify the first certificate|self[- ]signed certificate|unable to get (local )?issuer certificate|certificate signature failure/,
    'TLS failure: the server certificate is signed by an unknown CA',
  ],
  [/alert certificate required/, 'TLS failure: the server requires a client certificate'],
  [/alert unknown ca/, 'TLS failure: the server does not trust the client certificate (unknown CA)'],
  [/alert bad certificate/, 'TLS failure: the server rejected the client certificate'],
  [
    /wrong version number|packet length too long|http request/,
    'TLS failure: the server does not speak TLS on this port',
  ],
];

/** Explanations of status codes a health check can meet, where the code alone says little. */
const CODE_REASONS: Readonly<Record<string, string>> = {
  UNIMPLEMENTED: 'the server does not implement the health service',
  UNAUTHENTICATED: 'the server requires credentials this check does not send',
  PERMISSION_DENIED: 'the server refused the health check',
  DEADLINE_EXCEEDED: 'the server did not answer in time',
  RESOURCE_EXHAUSTED: 'the server is out of resources or the answer is too large',
};

/** The name of a gRPC status code, such as `UNAVAILABLE`. */
export function grpcCodeName(code: unknown): string {
  return typeof code === 'number' ? (CODE_NAMES[code] ?? `code ${code}`) : 'UNKNOWN';
}

/** One line of the server's details, without grpc-js's decorations, bounded and redacted. */
export function quoteDetails(details: string): string {
  const line = (details.split('\n')[0] ?? '')
    .replace(/^No connection established\. Last error: (Error: )?/, '')
    .replace(/ \(\d{4}-\d\d-\d\dT[\d:.]+Z\)/, '')
    .replace(/\.? ?Resolution note: .*$/, '')
    .trim();
  const safe = redactSecrets(line);
  return safe.length > MAX_DETAILS_CHARS ? `${safe.slice(0, MAX_DETAILS_CHARS - 1)}…` : safe;
}

/** What a failed call says. */
export interface CallFailure {
  readonly code?: unknown;
  readonly details?: unknown;
}

/** How the call was made, for the hints. */
export interface CallContext {
  /** The channel used TLS. */
  readonly secure: boolean;
  /** A client certificate was presented. */
  readonly clientCertificate: boolean;
  readonly service: string;
  /** The call's deadline, in ms after it started, when one was set (the `timeout` option). */
  readonly timeout?: number | undefined;
}

function connectionFailed(context: CallContext): string {
  // A TLS 1.3 server refuses a client certificate after the handshake, by closing the connection;
  // a TLS server meets a plaintext client the same way.
  if (context.clientCertificate) return 'the connection failed (was the client certificate rejected?)';
  return context.secure
    ? 'the connection failed'
    : 'the connection failed (does the server expect TLS? plaintext is set)';
}

/**
 * The reason for a failed call: `UNAVAILABLE: connection refused`,
 * `UNIMPLEMENTED: the server does not implement the health service`, …
 * `context` shapes the hints (TLS/plaintext mismatch, a refused client certificate).
 */
export function describeCallFailure(error: CallFailure, context: CallContext): string {
  const name = grpcCodeName(error.code);
  const details = typeof error.details === 'string' ? error.details : '';
  if (name === 'NOT_FOUND') {
    // The reference health servers answer NOT_FOUND for a service they do not know.
    return `NOT_FOUND: the server does not know the service ${JSON.stringify(context.service)}`;
  }
  if (name === 'DEADLINE_EXCEEDED' && context.timeout !== undefined) {
    return `${name}: the server did not answer within the ${formatDuration(context.timeout)} deadline`;
  }
  const known = CODE_REASONS[name];
  if (known !== undefined) return `${name}: ${known}`;
  if (name === 'UNAVAILABLE') {
    const match = TRANSPORT_REASONS.find(([pattern]) => pattern.test(details));
    if (match) return `${name}: ${match[1]}`;
    // A plaintext client talking to a TLS port gets its connection closed without a word.
    if (/Failed to connect|Connection dropped|Protocol error/i.test(details))
      return `${name}: ${connectionFailed(context)}`;
  }
  const quoted = quoteDetails(details);
  return quoted === '' ? name : `${name}: ${quoted}`;
}
