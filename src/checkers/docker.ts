import { stat } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Checker, CheckerOptions, EnvironmentOptions } from './checker.js';
import type { HealthReport } from '../provider.js';
import {
  assertOptionsObject,
  booleanOption,
  describeValue,
  envOption,
  envValue,
  clockOption,
  slowThresholdOption,
  stringOption,
  type Env,
} from './internal/options.js';
import { NEVER } from './internal/abort.js';
import { Outcome } from './internal/outcome.js';
import { CheckFailure, request, type Answer, type LoadedTls } from './internal/request.js';
import { loadTls, tlsOption, type TlsOptions, type TlsSource } from './internal/tls.js';

export type { TlsOptions } from './internal/tls.js';

const CHECKER = 'dockerChecker';

/**
 * TLS settings for a `tcp://` Docker host: the common {@link TlsOptions}
 * (PEM **contents**, not paths; `DOCKER_CERT_PATH` is the way to name files)
 * plus `verify`, the docker CLI's `--tlsverify`.
 */
export interface DockerTlsOptions extends TlsOptions {
  /** Verify the daemon's certificate (like `--tlsverify`). Default `true`; the inverse of `skipVerify`. */
  verify?: boolean | undefined;
}

/** Options of {@link dockerChecker}. */
export interface DockerCheckerOptions extends CheckerOptions, EnvironmentOptions {
  /**
   * The daemon: `unix:///path/to.sock` or `tcp://host:port` (port default 2375,
   * or 2376 with TLS). Default: `DOCKER_HOST`, else the first socket that
   * exists of {@link dockerSocketCandidates} (looked up again at each check
   * until one exists).
   */
  host?: string | undefined;
  /**
   * TLS for `tcp://` hosts. Default: from the environment as the docker CLI
   * reads it: `DOCKER_TLS_VERIFY` (non-empty: TLS, verified) or `DOCKER_TLS`
   * (non-empty: TLS, not verified), with `ca.pem`, `cert.pem` and `key.pem`
   * from `DOCKER_CERT_PATH` (default `~/.docker`).
   */
  tls?: DockerTlsOptions | undefined;
}

/** A checker that pings a Docker Engine API (Docker or Podman). */
export type DockerChecker = Checker;

type Endpoint =
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

function isSocketSync(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

function envTls(env: Env): TlsSource | undefined {
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

function parseHost(host: string, from: string, tls: TlsSource | undefined): Endpoint {
  const scheme = /^([a-z]+):\/\//i.exec(host)?.[1]?.toLowerCase();
  if (scheme === 'unix') {
    const path = host.slice('unix://'.length);
    if (!path.startsWith('/'))
      throw new TypeError(`${CHECKER}: ${from} must be unix:///absolute/path, got ${describeValue(host)}`);
    return { kind: 'unix', path };
  }
  if (scheme === 'tcp' || scheme === 'http' || scheme === 'https') {
    let url: URL;
    try {
      url = new URL(`http://${host.slice(scheme.length + 3)}`);
    } catch {
      throw new TypeError(`${CHECKER}: ${from} is not a valid tcp://host:port address`);
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
  throw new TypeError(
    `${CHECKER}: ${from} must start with unix:// or tcp:// (ssh:// and npipe:// are not supported), got ${scheme === undefined ? 'no scheme' : `${scheme}://`}`,
  );
}

function describeEndpoint(endpoint: Endpoint): string {
  return endpoint.kind === 'unix'
    ? `unix://${endpoint.path}`
    : `tcp://${endpoint.hostname}:${endpoint.port}${endpoint.tls ? ' (TLS)' : ''}`;
}

function dockerTlsOption(value: unknown): TlsSource | undefined {
  if (value === undefined) return undefined;
  const source = tlsOption(CHECKER, 'tls', value);
  const verify = booleanOption(CHECKER, 'tls.verify', (value as { verify?: unknown }).verify);
  if (source === undefined || verify === undefined) return source;
  if ((value as { skipVerify?: unknown }).skipVerify === verify) {
    throw new TypeError(`${CHECKER}: tls.verify and tls.skipVerify contradict each other; set only one`);
  }
  return { ...source, rejectUnauthorized: verify };
}

/** Facts from the `/_ping` headers: the API version and whether Podman answered. */
function describeDaemon(answer: Answer): { name: string; details: Record<string, unknown> } {
  const header = (name: string): string | undefined => {
    const value = answer.headers[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const libpod = header('libpod-api-version');
  const engine = libpod !== undefined ? 'podman' : 'docker';
  // `Server: Docker/24.0.7 (linux)` or `Libpod/4.3.1 (linux)`.
  const version = libpod ?? /^(?:Docker|Libpod)\/(\S+)/.exec(header('server') ?? '')?.[1];
  const details: Record<string, unknown> = { engine };
  const apiVersion = header('api-version');
  if (apiVersion !== undefined) details.apiVersion = apiVersion;
  if (version !== undefined) details.version = version;
  const osType = header('ostype');
  if (osType !== undefined) details.osType = osType;
  const name = `${engine === 'podman' ? 'Podman' : 'Docker'}${version === undefined ? '' : ` ${version}`}`;
  return { name, details };
}

/**
 * Checks a Docker Engine API with `GET /_ping`: healthy on 200 `OK`, with the
 * API version and whether the daemon is Docker or Podman (Podman sends
 * `Libpod-Api-Version`). Unhealthy with the reason otherwise: no such socket,
 * connection refused, permission denied, TLS failure, unexpected status.
 *
 * ```ts
 * registry.register('docker', dockerChecker()); // DOCKER_HOST, else the usual sockets
 * registry.register('remote', dockerChecker({ host: 'tcp://build-host:2376', tls: { ca, cert, key } }));
 * ```
 *
 * @throws TypeError or RangeError naming a bad option (or a bad `DOCKER_HOST`).
 */
export function dockerChecker(options: DockerCheckerOptions = {}): DockerChecker {
  assertOptionsObject(CHECKER, options);
  const env = envOption(CHECKER, options.env);
  const slowThreshold = slowThresholdOption(CHECKER, options.slowThreshold);
  const clock = clockOption(CHECKER, options.clock);
  const tls = dockerTlsOption(options.tls) ?? envTls(env);
  const host = stringOption(CHECKER, 'host', options.host);
  const dockerHost = envValue(env, 'DOCKER_HOST');
  const fixed =
    host !== undefined
      ? parseHost(host, 'host', tls)
      : dockerHost !== undefined
        ? parseHost(dockerHost, 'DOCKER_HOST', tls)
        : undefined;

  // Without a configured host, look for a socket again at each check until one appears;
  // /var/run/docker.sock stands in (and its absence is the reason given) while none exists.
  const socketEndpoint = (found: string | undefined): Endpoint => ({
    kind: 'unix',
    path: (found ?? 'unix:///var/run/docker.sock').slice('unix://'.length),
  });
  let endpoint =
    fixed ??
    socketEndpoint(
      dockerSocketCandidates(env).find((candidate) => isSocketSync(candidate.slice('unix://'.length))),
    );

  async function check(signal: AbortSignal, outcome: Outcome): Promise<HealthReport> {
    if (fixed === undefined) endpoint = socketEndpoint(await findDockerHost(env, signal));
    const current = endpoint;
    const target = describeEndpoint(current);
    let answer: Answer;
    try {
      const loaded: LoadedTls | undefined =
        current.kind === 'tcp' && current.tls ? await loadTls(current.tls, signal) : undefined;
      answer = await request({
        url: new URL(
          `${loaded ? 'https' : 'http'}://${current.kind === 'tcp' ? `${current.hostname}:${current.port}` : 'localhost'}/_ping`,
        ),
        socketPath: current.kind === 'unix' ? current.path : undefined,
        tls: loaded,
        target,
        signal,
      });
    } catch (error) {
      if (!(error instanceof CheckFailure)) throw error;
      const hint =
        current.kind === 'unix' && /permission denied/.test(error.message)
          ? ' (is this user allowed to use the socket, e.g. in the docker group?)'
          : '';
      return outcome.unhealthy(`${target}: ${error.message}${hint}`);
    }
    const { name, details } = describeDaemon(answer);
    if (answer.status === 401 || answer.status === 403) {
      return outcome.unhealthy(
        `${target}: /_ping answered ${answer.status}: ${answer.status === 401 ? 'authentication' : 'authorisation'} failed`,
        details,
      );
    }
    if (answer.status !== 200) {
      return outcome.unhealthy(
        `${target}: /_ping answered ${answer.status} ${answer.statusText}`.trimEnd(),
        details,
      );
    }
    if (answer.body.trim() !== 'OK') {
      return outcome.unhealthy(
        `${target}: /_ping answered 200 but not "OK": not a Docker Engine API?`,
        details,
      );
    }
    const apiVersion = answer.headers['api-version'];
    const api = typeof apiVersion === 'string' && apiVersion !== '' ? ` (API ${apiVersion})` : '';
    return outcome.healthy(`${name} at ${target} answered /_ping${api}`, details);
  }

  return {
    get target(): string {
      return describeEndpoint(endpoint);
    },
    healthCheck(signal: AbortSignal = NEVER): Promise<HealthReport> {
      return check(signal, new Outcome(slowThreshold, clock));
    },
  };
}
