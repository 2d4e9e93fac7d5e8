import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { redactSecrets } from '../index.js';
import { currentContext } from './kube-context.js';
import type { BuiltProvider, Env } from './providers.js';

/** Where Kubernetes mounts a pod's service account. */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Options of {@link discover}. */
export interface DiscoverOptions {
  /** Where the in-cluster service account is mounted. Default `/var/run/secrets/kubernetes.io/serviceaccount`. */
  readonly serviceAccountDir?: string | undefined;
}

/** What discovery concluded about one kind of control plane. */
export interface DiscoveryResult {
  readonly type: 'docker' | 'kubernetes' | 'nomad';
  /** The provider registered for it; `undefined` when none was found (or it could not be checked). */
  readonly provider: BuiltProvider | undefined;
  /** Where it was found (`DOCKER_HOST`, a socket path) or why not. */
  readonly detail: string;
  /** Every place looked at, in order. */
  readonly looked: readonly string[];
}

/** The outcome of {@link discover}. */
export interface Discovery {
  readonly results: readonly DiscoveryResult[];
  /**
   * The providers found, named `docker`, `kubernetes` and `nomad`, labelled
   * `kind=<the same>`, plus `context=<name>` for a kubeconfig's current context.
   */
  readonly found: readonly BuiltProvider[];
}

/**
 * Looks for the local control planes, as their own CLIs would:
 * - Docker: `DOCKER_HOST`, else the first socket that exists of
 *   `/var/run/docker.sock`, `$XDG_RUNTIME_DIR/docker.sock` (rootless),
 *   `/run/podman/podman.sock`, `$XDG_RUNTIME_DIR/podman/podman.sock`.
 * - Kubernetes: `KUBECONFIG`, else `~/.kube/config`, else in-cluster
 *   (`KUBERNETES_SERVICE_HOST`/`_PORT` and the service account token).
 * - Nomad: `NOMAD_ADDR` (with `NOMAD_TOKEN`, `NOMAD_CACERT`… as the nomad CLI reads them).
 * Nothing is contacted: a found provider that does not answer shows up as unhealthy.
 */
export async function discover(
  env: Env,
  signal?: AbortSignal,
  options: DiscoverOptions = {},
): Promise<Discovery> {
  const serviceAccountDir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const results = await Promise.all([
    guard('docker', discoverDocker(env, signal)),
    guard('kubernetes', discoverKubernetes(env, serviceAccountDir)),
    guard('nomad', discoverNomad(env)),
  ]);
  return {
    results,
    found: results.flatMap((result) => (result.provider ? [result.provider] : [])),
  };
}

/** One line per kind: `discovery: docker found at unix:///… (from DOCKER_HOST)` or what was looked at. */
export function describeDiscovery(discovery: Discovery): string[] {
  return discovery.results.map((result) =>
    result.provider
      ? `discovery: ${result.type} found: ${redactSecrets(result.detail)}`
      : `discovery: ${result.type} not found: ${result.detail}${
          result.looked.length > 0 ? ` (looked at ${result.looked.join(', ')})` : ''
        }`,
  );
}

async function discoverDocker(env: Env, signal: AbortSignal | undefined): Promise<DiscoveryResult> {
  const { dockerChecker, dockerSocketCandidates, findDockerHost } = await import('../checkers/docker.js');
  const fromEnv = value(env, 'DOCKER_HOST');
  const looked =
    fromEnv === undefined ? ['DOCKER_HOST (unset)', ...dockerSocketCandidates(env)] : ['DOCKER_HOST'];
  const host = await findDockerHost(env, signal);
  if (host === undefined) return { type: 'docker', provider: undefined, detail: 'no socket exists', looked };
  return build('docker', looked, fromEnv === undefined ? host : `${host} (from DOCKER_HOST)`, () => {
    const checker = dockerChecker({ host, env });
    return { name: 'docker', type: 'docker', target: checker.target, checker, labels: { kind: 'docker' } };
  });
}

async function discoverKubernetes(env: Env, serviceAccountDir: string): Promise<DiscoveryResult> {
  const { findKubeconfig, kubernetesChecker } = await import('../checkers/kubernetes.js');
  const list = value(env, 'KUBECONFIG');
  const home = value(env, 'HOME') ?? homedir();
  const inCluster = `in-cluster (${join(serviceAccountDir, 'token')})`;
  const looked =
    list === undefined
      ? ['KUBECONFIG (unset)', join(home, '.kube', 'config'), inCluster]
      : [`KUBECONFIG (${list})`];
  const source = findKubeconfig(env, serviceAccountDir);
  if (source === undefined) {
    let detail = 'no kubeconfig and not in a cluster (KUBERNETES_SERVICE_HOST unset)';
    if (list !== undefined) detail = 'no file that KUBECONFIG names exists';
    else if (value(env, 'KUBERNETES_SERVICE_HOST') !== undefined) {
      detail = `KUBERNETES_SERVICE_HOST is set but ${join(serviceAccountDir, 'token')} is missing (or KUBERNETES_SERVICE_PORT is unset)`;
    }
    return { type: 'kubernetes', provider: undefined, detail, looked };
  }
  const detail =
    source.kind === 'in-cluster'
      ? `in-cluster, ${source.server}`
      : `${source.files.join(delimiter)}${source.from === 'KUBECONFIG' ? ' (from KUBECONFIG)' : ''}`;
  const context = source.kind === 'files' ? currentContext(source.files) : undefined;
  const labels = context === undefined ? { kind: 'kubernetes' } : { kind: 'kubernetes', context };
  return build('kubernetes', looked, detail, () => {
    const checker = kubernetesChecker({ env, serviceAccountDir });
    return { name: 'kubernetes', type: 'kubernetes', target: checker.target, checker, labels };
  });
}

async function discoverNomad(env: Env): Promise<DiscoveryResult> {
  const { nomadChecker } = await import('../checkers/nomad.js');
  const address = value(env, 'NOMAD_ADDR');
  if (address === undefined) {
    return {
      type: 'nomad',
      provider: undefined,
      detail: 'NOMAD_ADDR is not set',
      looked: ['NOMAD_ADDR (unset)'],
    };
  }
  return build('nomad', ['NOMAD_ADDR'], `(from NOMAD_ADDR)`, () => {
    const checker = nomadChecker({ env });
    return { name: 'nomad', type: 'nomad', target: checker.target, checker, labels: { kind: 'nomad' } };
  });
}

/** A module that cannot load (a missing optional dependency) must not stop the others. */
async function guard(
  type: DiscoveryResult['type'],
  result: Promise<DiscoveryResult>,
): Promise<DiscoveryResult> {
  try {
    return await result;
  } catch (error) {
    signalAbort(error);
    return { type, provider: undefined, detail: `cannot look: ${(error as Error).message}`, looked: [] };
  }
}

/** Rethrows an abort, which is the caller's, not a discovery result. */
function signalAbort(error: unknown): void {
  if ((error as { name?: unknown } | null)?.name === 'AbortError') throw error;
}

/** A found result, or a not-found one saying why the checker could not be made (a bad variable). */
function build(
  type: DiscoveryResult['type'],
  looked: readonly string[],
  detail: string,
  make: () => BuiltProvider,
): DiscoveryResult {
  try {
    const provider = make();
    const where = detail.startsWith('(') ? `${provider.target} ${detail}` : detail;
    return { type, provider, detail: where, looked };
  } catch (error) {
    return { type, provider: undefined, detail: `cannot use it: ${(error as Error).message}`, looked };
  }
}

function value(env: Env, name: string): string | undefined {
  const text = env[name];
  return text === undefined || text === '' ? undefined : text;
}
