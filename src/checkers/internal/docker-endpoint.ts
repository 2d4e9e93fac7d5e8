import { stat } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { booleanOption, optionTypeError } from '../../validate.js';
import { envValue, optionFailure, type Env } from './options.js';
import { tlsOption, type TlsSource } from './tls.js';

/**
 * Where the Docker checker connects: `DOCKER_HOST`-style addresses, the
 * sockets it looks for, and TLS from the docker CLI's environment.
 * @internal
 */

const CHECKER = 'dockerChecker';

/** A parsed Docker host. */
export type Endpoint =
  | { readonly kind: 'unix'; readonly path: string }
  | {
      readonly kind: 'tcp';
      readonly hostname: string;
      readonly port: number;
      readonly tls: TlsSource | undefined;
    };

/**
 * Where a Docker Engine API may listen, in the order the checker tries them:
 * `DOCKER_HOST` (when set), `/var/run/docker.sock`, the rootless socket
 * `$XDG_RUNTIME_DIR/docker.sock`, then the Podman sockets
 * `/run/podman/podman.sock` and `$XDG_RUNTIME_DIR/podman/podman.sock`.
 */
export function dockerSocketCandidates(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string[] {
  const candidates: string[] = [];
  const dockerHost = envValue(env, 'DOCKER_HOST');
  if (dockerHost !== undefined) candidates.push(dockerHost);
  candidates.push('unix:///var/run/docker.sock');
  const runtimeDir = envValue(env, 'XDG_RUNTIME_DIR');
  if (runtimeDir !== undefined) candidates.push(`unix://${join(runtimeDir, 'docker.sock')}`);
  candidates.push('unix:///run/podman/podman.sock');
  if (runtimeDir !== undefined) candidates.push(`unix://${join(runtimeDir, 'podman', 'podman.sock')}`);
  return [...new Set(candidates)];
}

/**
 * The Docker host the checker would use: `DOCKER_HOST` when set (not probed),
 * else the first candidate socket that exists, else `undefined`.
 */
export async function findDockerHost(
  env: Readonly<Record<string, string | undefined>> = process.env,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const dockerHost = envValue(env, 'DOCKER_HOST');
  if (dockerHost !== undefined) return dockerHost;
  for (const candidate of dockerSocketCandidates(env)) {
    signal?.throwIfAborted();
    if (await isSocket(candidate.slice('unix://'.length))) return candidate;
  }
  return undefined;
}

async function isSocket(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isSocket();
  } catch {
    return false;
  }
}

/** Whether `path` is a socket (synchronous, for the target before the first check). */
export function isSocketSync(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

/** TLS as the docker CLI reads it from `DOCKER_TLS_VERIFY`, `DOCKER_TLS` and `DOCKER_CERT_PATH`. */
export function envTls(env: Env): TlsSource | undefined {
  const verify = envValue(env, 'DOCKER_TLS_VERIFY') !== undefined;
  if (!verify && envValue(env, 'DOCKER_TLS') === undefined) return undefined;
  const certPath = envValue(env, 'DOCKER_CERT_PATH') ?? join(envValue(env, 'HOME') ?? homedir(), '.docker');
  const file = (name: string, optional: boolean) => ({
    path: join(certPath, name),
    from: `DOCKER_CERT_PATH/${name}`,
    optional,
  });
  return {
    ca: file('ca.pem', !verify),
    cert: file('cert.pem', true),
    key: file('key.pem', true),
    rejectUnauthorized: verify,
  };
}

/** Parses `unix:///path` or `tcp://host:port`; `from` names the option or variable for errors. */
export function parseHost(host: string, from: string, tls: TlsSource | undefined): Endpoint {
  const scheme = /^([a-z]+):\/\//i.exec(host)?.[1]?.toLowerCase();
  if (scheme === 'unix') {
    const path = host.slice('unix://'.length);
    if (!path.startsWith('/')) throw optionTypeError(from, 'unix:///absolute/path', host, { scope: CHECKER });
    return { kind: 'unix', path };
  }
  if (scheme === 'tcp' || scheme === 'http' || scheme === 'https') {
    let url: URL;
    try {
      url = new URL(`http://${host.slice(scheme.length + 3)}`);
    } catch {
      throw optionFailure(CHECKER, from, `${from} is not a valid tcp://host:port address`, host);
    }
    const secure = tls !== undefined || scheme === 'https';
    const effectiveTls = tls ?? (scheme === 'https' ? { rejectUnauthorized: true } : undefined);
    return {
      kind: 'tcp',
      hostname: url.hostname,
      port: url.port === '' ? (secure ? 2376 : 2375) : Number(url.port),
      tls: effectiveTls,
    };
  }
  throw optionFailure(
    CHECKER,
    from,
    `${from} must start with unix:// or tcp:// (ssh:// and npipe:// are not supported), got ${scheme === undefined ? 'no scheme' : `${scheme}://`}`,
    host,
  );
}

/** The endpoint for people: `unix:///path` or `tcp://host:port (TLS)`. */
export function describeEndpoint(endpoint: Endpoint): string {
  return endpoint.kind === 'unix'
    ? `unix://${endpoint.path}`
    : `tcp://${endpoint.hostname}:${endpoint.port}${endpoint.tls ? ' (TLS)' : ''}`;
}

/** The `tls` option, with `verify` (the docker CLI's `--tlsverify`). */
export function dockerTlsOption(value: unknown): TlsSource | undefined {
  if (value === undefined) return undefined;
  const source = tlsOption(CHECKER, 'tls', value);
  const verify = booleanOption('tls.verify', (value as { verify?: unknown }).verify, undefined, {
    scope: CHECKER,
  });
  if (source === undefined || verify === undefined) return source;
  if ((value as { skipVerify?: unknown }).skipVerify === verify) {
    throw optionFailure(
      CHECKER,
      'tls.verify',
      'tls.verify and tls.skipVerify contradict each other; set only one',
      verify,
    );
  }
  return { ...source, rejectUnauthorized: verify };
}
