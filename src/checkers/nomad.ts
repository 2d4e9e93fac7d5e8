import type { CertExpiryOptions, Checker, CheckerOptions, EnvironmentOptions } from './checker.js';
import type { HealthReport } from '../provider.js';
import { booleanOption, optionTypeError, optionsObject, stringOption } from '../validate.js';
import {
  checkerClockOption,
  envBoolean,
  envOption,
  envValue,
  optionFailure,
  slowThresholdOption,
  timerClock,
  type Env,
} from './internal/options.js';
import { NEVER } from './internal/abort.js';
import { withinBudget } from './internal/budget.js';
import { applyExpiries, certExpiryWarningOption, pemNotAfter } from './internal/cert-expiry.js';
import {
  AUTOPILOT_PATH,
  MAX_AUTOPILOT_BYTES,
  judgeAutopilot,
  type AutopilotVerdict,
} from './internal/nomad-autopilot.js';
import { Outcome } from './internal/outcome.js';
import { CheckFailure, request, type Answer, type LoadedTls } from './internal/request.js';
import {
  assertCertAndKey,
  loadTls,
  tlsOption,
  type PemSource,
  type TlsOptions,
  type TlsSource,
} from './internal/tls.js';

export type { TlsOptions } from './internal/tls.js';

const CHECKER = 'nomadChecker';
const DEFAULT_ADDRESS = 'http://127.0.0.1:4646';

/** Options of {@link nomadChecker}. Each falls back to the environment variable the nomad CLI reads. */
export interface NomadCheckerOptions extends CheckerOptions, EnvironmentOptions, CertExpiryOptions {
  /** The agent's HTTP API. Default `NOMAD_ADDR`, else `http://127.0.0.1:4646`. */
  address?: string | undefined;
  /** ACL token, sent as `X-Nomad-Token`. Default `NOMAD_TOKEN`. A secret: never shown. */
  token?: string | undefined;
  /** Region to query (`?region=`). Default `NOMAD_REGION`, else the agent's own. */
  region?: string | undefined;
  /**
   * TLS for `https:` addresses (PEM contents). Each field defaults to
   * `NOMAD_CACERT`, `NOMAD_CLIENT_CERT`, `NOMAD_CLIENT_KEY` (files, read at
   * each check), `NOMAD_TLS_SERVER_NAME` and `NOMAD_SKIP_VERIFY`.
   */
  tls?: TlsOptions | undefined;
  /**
   * Also read `GET /v1/operator/autopilot/health` (one request more; the token
   * needs `operator:read`): servers reported unhealthy make the check
   * unhealthy, a failure tolerance of 0 makes it `degraded` (in
   * `details.autopilot`). It has a budget of its own (2 s): one that fails or
   * does not answer in time makes the check `degraded`
   * (`autopilot: no answer within 2 s`). Default `false`.
   */
  autopilot?: boolean | undefined;
}

/** A checker that asks a Nomad agent for its health. */
export type NomadChecker = Checker;

interface RoleHealth {
  readonly ok: boolean;
  readonly message: string;
}

function addressOption(value: string, from: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // A URL may carry a password: then it is not quoted.
    throw optionTypeError(from, 'an http:// or https:// URL', value, {
      scope: CHECKER,
      secret: value.includes('@'),
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw optionFailure(
      CHECKER,
      from,
      `${from} must be an http:// or https:// URL, got ${url.protocol}//`,
      value,
      { secret: value.includes('@') },
    );
  }
  return url;
}

function envFile(env: Env, name: string): PemSource | undefined {
  const path = envValue(env, name);
  return path === undefined ? undefined : { path, from: name };
}

/** Options first, each field falling back to its environment variable. */
function resolveTls(options: TlsSource | undefined, env: Env): TlsSource {
  const skipVerify = envBoolean(CHECKER, env, 'NOMAD_SKIP_VERIFY');
  const source: TlsSource = {
    ca: options?.ca ?? envFile(env, 'NOMAD_CACERT'),
    cert: options?.cert ?? envFile(env, 'NOMAD_CLIENT_CERT'),
    key: options?.key ?? envFile(env, 'NOMAD_CLIENT_KEY'),
    serverName: options?.serverName ?? envValue(env, 'NOMAD_TLS_SERVER_NAME'),
    rejectUnauthorized: options?.rejectUnauthorized === false ? false : skipVerify !== true,
  };
  assertCertAndKey(CHECKER, 'tls (or NOMAD_CLIENT_CERT/NOMAD_CLIENT_KEY)', source);
  return source;
}

function parseRole(value: unknown): RoleHealth | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { ok, message } = value as { ok?: unknown; message?: unknown };
  if (typeof ok !== 'boolean') return undefined;
  return {
    ok,
    message: typeof message === 'string' && message.trim() !== '' ? message.trim() : ok ? 'ok' : 'not ok',
  };
}

/** The roles of a `/v1/agent/health` body, or undefined when it is not one. */
function parseHealth(body: string): { client?: RoleHealth; server?: RoleHealth } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const { client, server } = json as { client?: unknown; server?: unknown };
  const roles: { client?: RoleHealth; server?: RoleHealth } = {};
  const clientHealth = parseRole(client);
  const serverHealth = parseRole(server);
  if (clientHealth) roles.client = clientHealth;
  if (serverHealth) roles.server = serverHealth;
  return roles;
}

/**
 * Checks a Nomad agent with `GET /v1/agent/health`, sending the ACL token as
 * `X-Nomad-Token`. Healthy when every role the agent reports (client, server)
 * is ok; `degraded` when one is ok and the other is not; unhealthy when none
 * is. Nomad answers 500 with the same body when a role fails, so the roles
 * decide for 200 and 500 answers; any other status (3xx included) is
 * unhealthy. The message names the failing role and its reason
 * (`server: No cluster leader`).
 *
 * ```ts
 * registry.register('nomad', nomadChecker()); // NOMAD_ADDR, NOMAD_TOKEN, NOMAD_CACERT...
 * ```
 *
 * @throws TypeError or RangeError naming a bad option or environment variable.
 */
export function nomadChecker(options: NomadCheckerOptions = {}): NomadChecker {
  // Longer than ~60 lines as a whole: the factory validates its options once and returns a
  // checker closing over them; its inner functions are the units, each under ~60 lines.
  const scope = { scope: CHECKER };
  optionsObject(options, scope);
  const env = envOption(CHECKER, options.env);
  const addressText = stringOption('address', options.address, undefined, { ...scope, secret: true });
  const fromEnv = addressText === undefined && envValue(env, 'NOMAD_ADDR') !== undefined;
  const address = addressOption(
    addressText ?? envValue(env, 'NOMAD_ADDR') ?? DEFAULT_ADDRESS,
    fromEnv ? 'NOMAD_ADDR' : 'address',
  );
  const token =
    stringOption('token', options.token, undefined, { ...scope, secret: true }) ??
    envValue(env, 'NOMAD_TOKEN');
  if (token !== undefined && /[\r\n\0]/.test(token)) {
    throw optionFailure(CHECKER, 'token', 'token (or NOMAD_TOKEN) must not contain line breaks', token, {
      secret: true,
    });
  }
  const region = stringOption('region', options.region, undefined, scope) ?? envValue(env, 'NOMAD_REGION');
  const tlsSource = resolveTls(tlsOption(CHECKER, 'tls', options.tls), env);
  const slowThreshold = slowThresholdOption(CHECKER, options.slowThreshold);
  const clock = checkerClockOption(CHECKER, options.clock);
  const certExpiryWarning = certExpiryWarningOption(CHECKER, options.certExpiryWarning);
  const autopilot = booleanOption('autopilot', options.autopilot, false, scope);

  const endpoint = (path: string): URL => {
    const url = new URL(path, address.href.endsWith('/') ? address : `${address.href}/`);
    url.username = '';
    url.password = '';
    if (region !== undefined) url.searchParams.set('region', region);
    return url;
  };
  const url = endpoint('v1/agent/health');
  const autopilotUrl = endpoint(AUTOPILOT_PATH);
  // The origin alone: no userinfo, no path or query that might carry a secret.
  const target = address.origin;
  const headers: Record<string, string> = {};
  if (token !== undefined) headers['X-Nomad-Token'] = token;

  async function readAutopilot(tls: LoadedTls | undefined, signal: AbortSignal): Promise<AutopilotVerdict> {
    try {
      // A budget of its own: the agent already answered, so a hang here is degraded, not a timeout.
      const answer = await withinBudget(timerClock(clock), signal, (budget) =>
        request({
          url: autopilotUrl,
          headers,
          tls,
          target,
          signal: budget,
          maxBodyBytes: MAX_AUTOPILOT_BYTES,
        }),
      );
      return judgeAutopilot(answer);
    } catch (error) {
      if (error instanceof CheckFailure) return { details: {}, degraded: `autopilot: ${error.message}` };
      throw error;
    }
  }

  async function check(signal: AbortSignal, outcome: Outcome): Promise<HealthReport> {
    const tls = url.protocol === 'https:' ? await loadTls(tlsSource, signal) : undefined;
    const answer = await request({ url, headers, tls, target, signal });
    outcome.stop();
    const expiries = { server: answer.serverCertificateNotAfter, client: pemNotAfter(tls?.cert) };
    applyExpiries(outcome, expiries, certExpiryWarning, clock.now());
    const pilot = autopilot && answer.status === 200 ? await readAutopilot(tls, signal) : undefined;
    if (pilot !== undefined) {
      outcome.addDetails(pilot.details);
      if (pilot.degraded !== undefined) outcome.warn(pilot.degraded);
    }
    const report = judge(answer, outcome, target);
    return pilot?.unhealthy !== undefined && report.healthy
      ? outcome.unhealthy(`Nomad agent at ${target}: ${pilot.unhealthy}`, report.details)
      : report;
  }

  return {
    target,
    async healthCheck(signal: AbortSignal = NEVER): Promise<HealthReport> {
      const outcome = new Outcome(slowThreshold, clock);
      try {
        return await check(signal, outcome);
      } catch (error) {
        if (error instanceof CheckFailure)
          return outcome.unhealthy(`Nomad agent at ${target}: ${error.message}`);
        throw error;
      }
    },
  };
}

/** The verdict on a `/v1/agent/health` answer: each role the agent reports decides. */
function judge(answer: Answer, outcome: Outcome, target: string): HealthReport {
  const roles = answer.status === 200 || answer.status === 500 ? parseHealth(answer.body) : undefined;
  if (roles === undefined) {
    let reason = `/v1/agent/health answered ${answer.status}${answer.statusText ? ` ${answer.statusText}` : ''}`;
    if (answer.status === 401 || answer.status === 403)
      reason += ': the ACL token was rejected (check NOMAD_TOKEN)';
    else if (answer.status >= 300 && answer.status < 400) reason += ': a redirect, not a health answer';
    else if (answer.status === 200) reason += ', but its body is not a Nomad health report';
    return outcome.unhealthy(`Nomad agent at ${target}: ${reason}`, { status: answer.status });
  }
  const present = (['client', 'server'] as const).flatMap((name) => {
    const role = roles[name];
    return role === undefined ? [] : [{ name, ...role }];
  });
  const details: Record<string, unknown> = { status: answer.status };
  for (const role of present) details[role.name] = { ok: role.ok, message: role.message };
  const failing = present.filter((role) => !role.ok);
  const passing = present.filter((role) => role.ok);
  const failures = failing.map((role) => `${role.name}: ${role.message}`).join('; ');
  if (present.length === 0) {
    return answer.status === 200
      ? outcome.healthy(`Nomad agent at ${target} is up (it reports no client or server role)`, details)
      : outcome.unhealthy(
          `Nomad agent at ${target}: /v1/agent/health answered 500 without a reason`,
          details,
        );
  }
  if (failing.length === 0) {
    return outcome.healthy(
      `Nomad agent at ${target}: ${passing.map((role) => `${role.name} ok`).join(', ')}`,
      details,
    );
  }
  if (passing.length > 0) {
    return outcome.healthy(
      `Nomad agent at ${target}: ${passing.map((role) => `${role.name} ok`).join(', ')}`,
      details,
      failures,
    );
  }
  return outcome.unhealthy(`Nomad agent at ${target}: ${failures}`, details);
}
