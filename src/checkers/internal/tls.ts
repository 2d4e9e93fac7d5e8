import { readFile } from 'node:fs/promises';
import { booleanOption, optionTypeError, stringOption } from '../../validate.js';
import { optionFailure } from './options.js';
import { CheckFailure, type LoadedTls } from './request.js';

/**
 * TLS settings of a checker. Certificates and keys are PEM **contents**, not
 * paths: to use files, pass `readFileSync(path, 'utf8')`. (Environment
 * variables such as `NOMAD_CACERT` name files; those are read at each check,
 * so rotated certificates are picked up.)
 */
export interface TlsOptions {
  /** Trusted CA certificate(s), PEM. Default: Node's bundled root CAs. */
  ca?: string | Buffer | undefined;
  /** Client certificate, PEM (with `key`). */
  cert?: string | Buffer | undefined;
  /** Client private key, PEM (with `cert`). A secret: never shown. */
  key?: string | Buffer | undefined;
  /** The name the server certificate must carry, when it differs from the URL's host. */
  serverName?: string | undefined;
  /** Accept any server certificate. Default `false`; for tests only. */
  skipVerify?: boolean | undefined;
}

/**
 * PEM given inline, or a file to read at each check (`from` names where the
 * path came from; an `optional` file that does not exist is skipped). @internal
 */
export type PemSource =
  | { readonly pem: string | Buffer }
  | { readonly path: string; readonly from: string; readonly optional?: boolean };

/** Validated TLS settings whose files are read at check time. @internal */
export interface TlsSource {
  readonly ca?: PemSource | undefined;
  readonly cert?: PemSource | undefined;
  readonly key?: PemSource | undefined;
  readonly serverName?: string | undefined;
  readonly rejectUnauthorized: boolean;
}

function pemOption(checker: string, name: string, value: unknown): PemSource | undefined {
  if (value === undefined) return undefined;
  if (Buffer.isBuffer(value)) return { pem: value };
  // Never echo the value: it may be a key.
  if (typeof value !== 'string')
    throw optionTypeError(name, 'PEM text (a string or Buffer)', value, { scope: checker, secret: true });
  if (!value.includes('-----BEGIN ')) {
    throw optionFailure(
      checker,
      name,
      `${name} must be PEM text starting with "-----BEGIN"; to use a file, pass readFileSync(path, 'utf8')`,
      value,
      { secret: true },
    );
  }
  return { pem: value };
}

/** Validates a {@link TlsOptions} object; `name` is the option's name for messages (`tls`). @internal */
export function tlsOption(checker: string, name: string, value: unknown): TlsSource | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Buffer.isBuffer(value)) {
    throw optionTypeError(name, 'an object ({ ca?, cert?, key?, ... })', value, { scope: checker });
  }
  const tls = value as Record<string, unknown>;
  const source: TlsSource = {
    ca: pemOption(checker, `${name}.ca`, tls.ca),
    cert: pemOption(checker, `${name}.cert`, tls.cert),
    key: pemOption(checker, `${name}.key`, tls.key),
    serverName: stringOption(`${name}.serverName`, tls.serverName, undefined, { scope: checker }),
    rejectUnauthorized: !booleanOption(`${name}.skipVerify`, tls.skipVerify, false, { scope: checker }),
  };
  assertCertAndKey(checker, name, source);
  return source;
}

/** Throws unless a client certificate and key come together. @internal */
export function assertCertAndKey(checker: string, name: string, source: TlsSource): void {
  if ((source.cert === undefined) !== (source.key === undefined)) {
    throw optionFailure(
      checker,
      `${name}.key`,
      `${name}.cert and ${name}.key must be given together (a client certificate needs its key)`,
      undefined,
      { secret: true },
    );
  }
}

async function loadPem(
  source: PemSource | undefined,
  signal: AbortSignal,
): Promise<string | Buffer | undefined> {
  if (source === undefined) return undefined;
  if ('pem' in source) return source.pem;
  try {
    return await readFile(source.path, { signal });
  } catch (error) {
    if (signal.aborted) throw error;
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT' && source.optional === true) return undefined;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code ?? error);
    throw new CheckFailure(`cannot read ${source.from} (${source.path}): ${reason}`);
  }
}

/** Reads the files of `source`, if any. @internal */
export async function loadTls(source: TlsSource, signal: AbortSignal): Promise<LoadedTls> {
  const [ca, cert, key] = await Promise.all([
    loadPem(source.ca, signal),
    loadPem(source.cert, signal),
    loadPem(source.key, signal),
  ]);
  return { ca, cert, key, servername: source.serverName, rejectUnauthorized: source.rejectUnauthorized };
}
