import type { CertExpiryOptions, Checker, CheckerOptions, EnvironmentOptions } from './checker.js';
import type { HealthReport } from '../provider.js';
import { booleanOption, optionsObject, stringOption } from '../validate.js';
import { NEVER } from './internal/abort.js';
import { withinBudget } from './internal/budget.js';
import { applyExpiries, certExpiryWarningOption, pemNotAfter } from './internal/cert-expiry.js';
import {
  describeEndpoint,
  dockerSocketCandidates,
  dockerTlsOption,
  envTls,
  findDockerHost,
  isSocketSync,
  parseHost,
  type Endpoint,
} from './internal/docker-endpoint.js';
import { MAX_INFO_BYTES, judgeInfo } from './internal/docker-info.js';
import {
  checkerClockOption,
  envOption,
  envValue,
  slowThresholdOption,
  timerClock,
} from './internal/options.js';
import { Outcome } from './internal/outcome.js';
import { CheckFailure, request, type Answer, type LoadedTls } from './internal/request.js';
import { loadTls, type TlsOptions } from './internal/tls.js';

export { dockerSocketCandidates, findDockerHost } from './internal/docker-endpoint.js';
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
export interface DockerCheckerOptions extends CheckerOptions, EnvironmentOptions, CertExpiryOptions {
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
  /**
   * Also read `GET /info` (one request more) and report the daemon's
   * `Warnings` as `degraded` (in `details.warnings`). `/info` has a budget of
   * its own (2 s): one that fails or does not answer in time makes the check
   * `degraded` (`/info failed: no answer within 2 s`), never unhealthy. Default `false`.
   */
  info?: boolean | undefined;
}

/** A checker that pings a Docker Engine API (Docker or Podman). */
export type DockerChecker = Checker;

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
  // Longer than ~60 lines as a whole: the factory validates its options once and returns a
  // checker closing over them; its inner functions are the units, each under ~60 lines.
  const scope = { scope: CHECKER };
  optionsObject(options, scope);
  const env = envOption(CHECKER, options.env);
  const slowThreshold = slowThresholdOption(CHECKER, options.slowThreshold);
  const clock = checkerClockOption(CHECKER, options.clock);
  const certExpiryWarning = certExpiryWarningOption(CHECKER, options.certExpiryWarning);
  const info = booleanOption('info', options.info, false, scope);
  const tls = dockerTlsOption(options.tls) ?? envTls(env);
  const host = stringOption('host', options.host, undefined, scope);
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

  function get(
    current: Endpoint,
    path: string,
    loaded: LoadedTls | undefined,
    signal: AbortSignal,
    maxBodyBytes?: number,
  ): Promise<Answer> {
    const authority = current.kind === 'tcp' ? `${current.hostname}:${current.port}` : 'localhost';
    return request({
      url: new URL(`${loaded ? 'https' : 'http'}://${authority}${path}`),
      socketPath: current.kind === 'unix' ? current.path : undefined,
      tls: loaded,
      maxBodyBytes,
      target: describeEndpoint(current),
      signal,
    });
  }

  async function check(signal: AbortSignal, outcome: Outcome): Promise<HealthReport> {
    if (fixed === undefined) endpoint = socketEndpoint(await findDockerHost(env, signal));
    const current = endpoint;
    const target = describeEndpoint(current);
    let answer: Answer;
    let loaded: LoadedTls | undefined;
    try {
      loaded = current.kind === 'tcp' && current.tls ? await loadTls(current.tls, signal) : undefined;
      answer = await get(current, '/_ping', loaded, signal);
    } catch (error) {
      if (!(error instanceof CheckFailure)) throw error;
      const hint =
        current.kind === 'unix' && /permission denied/.test(error.message)
          ? ' (is this user allowed to use the socket, e.g. in the docker group?)'
          : '';
      return outcome.unhealthy(`${target}: ${error.message}${hint}`);
    }
    applyExpiries(
      outcome,
      { server: answer.serverCertificateNotAfter, client: pemNotAfter(loaded?.cert) },
      certExpiryWarning,
      clock.now(),
    );
    const verdict = judgePing(answer, target);
    if (!verdict.healthy || !info) return verdict.report(outcome);
    outcome.stop();
    let degraded: string | undefined;
    try {
      // A budget of its own: a daemon that answered /_ping is up, whether or not /info answers.
      const answer = await withinBudget(timerClock(clock), signal, (budget) =>
        get(current, '/info', loaded, budget, MAX_INFO_BYTES),
      );
      const infoVerdict = judgeInfo(answer);
      outcome.addDetails(infoVerdict.details);
      degraded = infoVerdict.degraded;
    } catch (error) {
      if (!(error instanceof CheckFailure)) throw error;
      degraded = `/info failed: ${error.message}`;
    }
    return verdict.report(outcome, degraded);
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

/** The verdict on a `/_ping` answer, built into a report once the optional `/info` is read. */
function judgePing(
  answer: Answer,
  target: string,
): { healthy: boolean; report(outcome: Outcome, degraded?: string): HealthReport } {
  const { name, details } = describeDaemon(answer);
  const failed = (message: string) => ({
    healthy: false,
    report: (outcome: Outcome) => outcome.unhealthy(`${target}: ${message}`, details),
  });
  if (answer.status === 401 || answer.status === 403) {
    return failed(
      `/_ping answered ${answer.status}: ${answer.status === 401 ? 'authentication' : 'authorisation'} failed`,
    );
  }
  if (answer.status !== 200) {
    return failed(`/_ping answered ${answer.status} ${answer.statusText}`.trimEnd());
  }
  if (answer.body.trim() !== 'OK')
    return failed('/_ping answered 200 but not "OK": not a Docker Engine API?');
  const apiVersion = answer.headers['api-version'];
  const api = typeof apiVersion === 'string' && apiVersion !== '' ? ` (API ${apiVersion})` : '';
  return {
    healthy: true,
    report: (outcome, degraded) =>
      outcome.healthy(`${name} at ${target} answered /_ping${api}`, details, degraded),
  };
}
