import { statSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import type { CertExpiryOptions, Checker, CheckerOptions, EnvironmentOptions } from './checker.js';
import type { HealthReport } from '../provider.js';
import { booleanOption, optionsObject, stringOption } from '../validate.js';
import { NEVER, abortError } from './internal/abort.js';
import { FOLLOW_UP_BUDGET, withinBudget } from './internal/budget.js';
import {
  applyExpiries,
  bearerToken,
  certExpiryWarningOption,
  jwtExpiry,
  pemNotAfter,
} from './internal/cert-expiry.js';
import {
  MAX_NODES_BYTES,
  NODES_PATH,
  extra,
  failingChecks,
  judgeLivez,
  judgeNodes,
} from './internal/kube-extra.js';
import { checkerClockOption, envOption, slowThresholdOption, timerClock } from './internal/options.js';
import { Outcome, type ExtraVerdict } from './internal/outcome.js';
import { SERVICE_ACCOUNT_DIR, findKubeconfig, type KubeconfigSource } from './internal/find-kubeconfig.js';
import {
  connect,
  describeServer,
  describeSource,
  guessServer,
  loadClient,
  loadFiles,
  loadInCluster,
  type Connection,
} from './internal/kubeconfig.js';
import { CheckFailure, request, type Answer } from './internal/request.js';

export { findKubeconfig, type KubeconfigSource } from './internal/find-kubeconfig.js';

const CHECKER = 'kubernetesChecker';

/** Options of {@link kubernetesChecker}. */
export interface KubernetesCheckerOptions extends CheckerOptions, EnvironmentOptions, CertExpiryOptions {
  /**
   * A kubeconfig file. Default: the files of `KUBECONFIG` (joined by `:`;
   * merged as kubectl does, the first to set a value wins), else
   * `~/.kube/config`, else the in-cluster service account.
   */
  kubeconfig?: string | undefined;
  /** The kubeconfig context to use. Default: its `current-context`. */
  context?: string | undefined;
  /** Where the in-cluster service account is mounted. Default `/var/run/secrets/kubernetes.io/serviceaccount`. */
  serviceAccountDir?: string | undefined;
  /**
   * Also read `GET /livez?verbose` (one request more): a failing liveness
   * check makes the check unhealthy, naming it. It has a budget of its own
   * (2 s): one that fails or does not answer in time makes the check
   * `degraded` (`livez: no answer within 2 s`). Default `false`.
   */
  livez?: boolean | undefined;
  /**
   * Also list the nodes, `GET /api/v1/nodes` (one request more; needs `list`
   * on `nodes`): NotReady nodes make the check `degraded`, naming them
   * (`details.nodes`). It has a budget of its own (2 s), as `livez` does
   * (`nodes: no answer within 2 s`). Default `false`.
   */
  nodes?: boolean | undefined;
}

/** A checker that asks a Kubernetes API server whether it is ready. */
export type KubernetesChecker = Checker;

/** The `gitVersion` of a `/version` body, if it has one. */
function parseVersion(body: string): string | undefined {
  try {
    const version = (JSON.parse(body) as { gitVersion?: unknown }).gitVersion;
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks a Kubernetes API server with `GET /readyz`: healthy on 200, with the
 * server's version from `/version`. On any other answer it fetches
 * `/readyz?verbose` once and names the failing checks (`[-]etcd failed`);
 * 401/403 are reported as an authentication/authorisation problem. Endpoint
 * and credentials come from a kubeconfig or the in-cluster service account
 * through `@kubernetes/client-node` (an optional peer dependency, loaded at
 * the first check), so client certificates, tokens, token files and exec
 * plugins work as they do for kubectl.
 *
 * ```ts
 * registry.register('k8s', kubernetesChecker({ context: 'prod' }));
 * ```
 *
 * @throws TypeError or RangeError naming a bad option.
 */
export function kubernetesChecker(options: KubernetesCheckerOptions = {}): KubernetesChecker {
  // Longer than ~60 lines as a whole: the factory validates its options once and returns a
  // checker closing over them; its inner functions are the units, each under ~60 lines.
  const scope = { scope: CHECKER };
  optionsObject(options, scope);
  const env = envOption(CHECKER, options.env);
  const kubeconfig = stringOption('kubeconfig', options.kubeconfig, undefined, scope);
  const context = stringOption('context', options.context, undefined, scope);
  const serviceAccountDir = stringOption(
    'serviceAccountDir',
    options.serviceAccountDir,
    SERVICE_ACCOUNT_DIR,
    scope,
  );
  const slowThreshold = slowThresholdOption(CHECKER, options.slowThreshold);
  const clock = checkerClockOption(CHECKER, options.clock);
  const certExpiryWarning = certExpiryWarningOption(CHECKER, options.certExpiryWarning);
  const livez = booleanOption('livez', options.livez, false, scope);
  const nodes = booleanOption('nodes', options.nodes, false, scope);

  const findSource = (): KubeconfigSource | undefined =>
    kubeconfig !== undefined
      ? { kind: 'files', files: [kubeconfig], from: 'option' }
      : findKubeconfig(env, serviceAccountDir);
  let source = findSource();
  let target =
    source?.kind === 'files'
      ? (guessServer(source.files, context) ?? describeSource(source))
      : describeSource(source);
  // Reused while the files are unchanged, so exec plugins' cached credentials are reused too.
  let loaded: { readonly kc: KubeConfig; readonly stamp: string } | undefined;

  const stampOf = (current: KubeconfigSource): string =>
    current.kind === 'files'
      ? current.files
          .map((file) => {
            try {
              return `${file}@${statSync(file).mtimeMs}`;
            } catch {
              return `${file}@missing`;
            }
          })
          .join('|')
      : `in-cluster ${current.server}`;

  async function load(): Promise<KubeConfig> {
    source = findSource();
    if (source === undefined) {
      throw new CheckFailure(
        'no kubeconfig found: set the kubeconfig option or KUBECONFIG, create ~/.kube/config, or run in a pod with a service account',
      );
    }
    const stamp = stampOf(source);
    if (loaded?.stamp === stamp) return loaded.kc;
    const module = await loadClient();
    const kc =
      source.kind === 'files' ? loadFiles(module, source.files, context) : loadInCluster(module, source);
    loaded = { kc, stamp };
    return kc;
  }

  async function get(
    connection: Connection,
    path: string,
    signal: AbortSignal,
    maxBodyBytes?: number,
  ): Promise<Answer> {
    const base = connection.server.href.endsWith('/') ? connection.server.href : `${connection.server.href}/`;
    return request({
      url: new URL(path, base),
      headers: connection.headers,
      tls: connection.tls,
      agent: connection.agent,
      maxBodyBytes,
      target,
      signal,
    });
  }

  /**
   * A follow-up request the verdict can do without (`/version`, `/readyz?verbose`): bounded by
   * {@link FOLLOW_UP_BUDGET} as well as by `signal`, so a hanging follow-up cannot turn a ready
   * server into a timeout. `undefined` when it fails or runs out of time; rejects only on `signal`.
   */
  async function getFollowUp(
    connection: Connection,
    path: string,
    signal: AbortSignal,
  ): Promise<Answer | undefined> {
    try {
      const run = (budget: AbortSignal) => get(connection, path, budget);
      return await withinBudget(timerClock(clock), signal, run, FOLLOW_UP_BUDGET);
    } catch (error) {
      if (signal.aborted) throw error;
      return undefined;
    }
  }

  /** The opt-in checks, one request each, in order, each with a budget of its own. */
  async function extras(connection: Connection, signal: AbortSignal): Promise<ExtraVerdict[]> {
    const verdicts: ExtraVerdict[] = [];
    const bounded = (path: string, maxBodyBytes?: number) => () =>
      withinBudget(timerClock(clock), signal, (budget) => get(connection, path, budget, maxBodyBytes));
    if (livez) verdicts.push(await extra('livez', bounded('livez?verbose'), judgeLivez));
    if (nodes) verdicts.push(await extra('nodes', bounded(NODES_PATH, MAX_NODES_BYTES), judgeNodes));
    return verdicts;
  }

  /** The report of a ready server: the opt-in checks, then the version. */
  async function judgeReady(
    connection: Connection,
    what: string,
    signal: AbortSignal,
    outcome: Outcome,
  ): Promise<HealthReport> {
    const verdicts = await extras(connection, signal);
    for (const verdict of verdicts) {
      outcome.addDetails(verdict.details);
      if (verdict.degraded !== undefined) outcome.warn(verdict.degraded);
    }
    const failed = verdicts.flatMap((verdict) => verdict.unhealthy ?? []);
    if (failed.length > 0) return outcome.unhealthy(`${what}: ${failed.join('; ')}`);
    const details: Record<string, unknown> = {};
    // The version is a nice-to-have: a server that hides it is still ready.
    const answer = await getFollowUp(connection, 'version', signal);
    const version = answer?.status === 200 ? parseVersion(answer.body) : undefined;
    if (typeof version === 'string') details.version = version;
    return outcome.healthy(`${what} is ready${typeof version === 'string' ? ` (${version})` : ''}`, details);
  }

  async function check(signal: AbortSignal): Promise<HealthReport> {
    if (signal.aborted) throw abortError(signal, target);
    let kc: KubeConfig;
    try {
      kc = await load();
    } catch (error) {
      if (error instanceof CheckFailure)
        return new Outcome(undefined, clock).unhealthy(`Kubernetes: ${error.message}`);
      throw error;
    }
    // Loading cannot be interrupted (an import, file reads), so look at the signal once it is done.
    if (signal.aborted) throw abortError(signal, target);
    // Started after loading: the first check imports the client library, which is not the server's latency.
    const outcome = new Outcome(slowThreshold, clock);
    const cluster = kc.getCurrentCluster();
    if (cluster !== null) target = describeServer(cluster.server);
    const what = cluster === null ? 'Kubernetes' : `Kubernetes API server at ${target}`;
    let connection: Connection;
    try {
      connection = await connect(kc, signal, target);
    } catch (error) {
      if (error instanceof CheckFailure) return outcome.unhealthy(`${what}: ${error.message}`);
      throw error;
    }
    let ready: Answer;
    try {
      ready = await get(connection, 'readyz', signal);
    } catch (error) {
      if (error instanceof CheckFailure) return outcome.unhealthy(`${what}: ${error.message}`);
      throw error;
    }
    outcome.stop();
    const expiries = {
      server: ready.serverCertificateNotAfter,
      client: connection.staticCert ? pemNotAfter(connection.tls.cert) : undefined,
      token: connection.staticToken ? jwtExpiry(bearerToken(connection.headers)) : undefined,
    };
    applyExpiries(outcome, expiries, certExpiryWarning, clock.now());
    if (ready.status === 200) return judgeReady(connection, what, signal, outcome);
    if (ready.status === 401) {
      return outcome.unhealthy(
        `${what}: authentication failed (401): the credentials of the kubeconfig were rejected`,
      );
    }
    if (ready.status === 403) {
      return outcome.unhealthy(`${what}: not authorised (403) to read /readyz: the user lacks permission`);
    }
    const verbose = await getFollowUp(connection, 'readyz?verbose', signal);
    const failing = verbose === undefined ? [] : failingChecks(verbose.body);
    const status = `${ready.status}${ready.statusText ? ` ${ready.statusText}` : ''}`;
    return failing.length > 0
      ? outcome.unhealthy(`${what} is not ready (${status}): ${failing.join('; ')}`, { failing })
      : outcome.unhealthy(`${what}: /readyz answered ${status}`);
  }

  return {
    get target(): string {
      return target;
    },
    healthCheck(signal: AbortSignal = NEVER): Promise<HealthReport> {
      return check(signal);
    },
  };
}
