/**
 * Turns the errors of `node:net`, `node:tls` and `node:http` into a short
 * reason a person understands. Never quotes anything the caller sent
 * (headers, keys), only the error's code and the target's safe description.
 * @internal
 */

const UNKNOWN_CA = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such socket',
  ENOTSOCK: 'the path is not a socket',
  ECONNREFUSED: 'connection refused',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ECONNRESET: 'the connection was reset by the peer',
  EPIPE: 'the connection was closed by the peer',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
  ENOTFOUND: 'DNS lookup failed: no such host',
  EAI_AGAIN: 'DNS lookup failed (temporary failure)',
  EAI_FAIL: 'DNS lookup failed',
  EAI_NONAME: 'DNS lookup failed: no such host',
  CERT_HAS_EXPIRED: 'TLS failure: the server certificate has expired',
  CERT_NOT_YET_VALID: 'TLS failure: the server certificate is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS failure: the server certificate does not match the host name',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'TLS failure: the server requires a client certificate',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'TLS failure: the server rejected the client certificate',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA:
    'TLS failure: the server does not trust the client certificate (unknown CA)',
  ERR_SSL_WRONG_VERSION_NUMBER: 'TLS failure: the server does not speak TLS on this port',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'TLS failure: the server does not speak TLS on this port',
  ERR_OSSL_X509_KEY_VALUES_MISMATCH:
    'TLS setup failed: the client key does not belong to the client certificate',
  HPE_INVALID_CONSTANT: 'the server did not answer with HTTP',
  HPE_INVALID_VERSION: 'the server did not answer with HTTP',
};

/** The error's `code`, when it has one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A short reason for a connection or protocol error, e.g. `connection refused`. */
export function describeNetworkError(error: unknown): string {
  const code = errorCode(error);
  if (code !== undefined) {
    const known = REASONS[code];
    if (known !== undefined) return known;
    if (UNKNOWN_CA.has(code)) return 'TLS failure: the server certificate is signed by an unknown CA';
    if (code.startsWith('ERR_OSSL_'))
      return `TLS setup failed: a certificate or key could not be used (${code})`;
    if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
      return `TLS failure (${code})`;
    }
    if (/^[A-Z][A-Z0-9_]+$/.test(code)) return `connection failed (${code})`;
  }
  // Errors without a code are ours or Node's plain messages, which quote no request data.
  return error instanceof Error && error.message ? error.message : 'connection failed';
}
