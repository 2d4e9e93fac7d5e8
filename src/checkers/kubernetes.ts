import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import type https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { redactSecrets } from '../messages.js';
import type { Clock } from '../clock.js';
import type { HealthChecker, HealthReport } from '../provider.js';
import { NEVER, abortError } from './internal/abort.js';
import {
  assertOptionsObject,
  envOption,
  envValue,
  clockOption,
  slowThresholdOption,
  stringOption,
  type Env,
} from './internal/options.js';
import { Outcome } from './internal/outcome.js';
import { CheckFailure, request, type Answer, type LoadedTls } from './internal/request.js';

const CHECKER = 'kubernetesChecker';
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const PEER = '@kubernetes/client-node';

/** Options of {@link kubernetesChecker}. */
export interface KubernetesCheckerOptions {
  /**
   * A kubeconfig file. Default: the files of `KUBECONFIG` (joined by `:`;
   * merged as kubectl does, the first to set a value wins), else
   * `~/.kube/config`, else the in-cluster service account.
   */
  kubeconfig?: string | undefined;
  /** The kubeconfig context to use. Default: its `current-context`. */
  context?: string | undefined;
  /** Environment variables to read instead of `process.env` (`KUBECONFIG`, `HOME`, `KUBERNETES_SERVICE_HOST`/`_PORT`). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Where the in-cluster service account is mounted. Default `/var/run/secrets/kubernetes.io/serviceaccount`. */
  serviceAccountDir?: string | undefined;
  /** A success slower than this many ms is reported `degraded`. Default: none. */
  slowThreshold?: number | undefined;
  /** Source of time for the latency; default the system clock (tests inject `ManualClock`). */
  clock?: Pick<Clock, 'now'> | undefined;
}

/** A checker that asks a Kubernetes API server whether it is ready. */
export interface KubernetesChecker extends HealthChecker {
  /** The API server's URL without credentials (or the kubeconfig source until it is known). */
  readonly target: string;
  /** Checks once; without a signal the check runs until the endpoint answers or fails. */
  healthCheck(signal?: AbortSignal): Promise<HealthReport>;
}

/** Where the credentials come from: kubeconfig files, or the in-cluster service account. */
export type KubeconfigSource =
  | {
      readonly kind: 'files';
      /** The files, in merge order. */
      readonly files: readonly string[];
      /** Why these: the `kubeconfig` option, `KUBECONFIG`, or the default `~/.kube/config`. */
      readonly from: 'option' | 'KUBECONFIG' | 'default';
    }
  | {
      readonly kind: 'in-cluster';
      /** `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`. */
      readonly server: string;
      readonly serviceAccountDir: string;
    };

function inCluster(env: Env, serviceAccountDir: string): KubeconfigSource | undefined {
  const host = envValue(env, 'KUBERNETES_SERVICE_HOST');
  const port = envValue(env, 'KUBERNETES_SERVICE_PORT');
  if (host === undefined || port === undefined || !existsSync(join(serviceAccountDir, 'token')))
    return undefined;
  // As client-go: plain HTTP only on the ports of `kubectl proxy` and friends.
  const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https';
  return {
    kind: 'in-cluster',
    server: `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    serviceAccountDir,
  };
}

/**
 * Which credentials the checker would use without a `kubeconfig` option, as
 * kubectl looks for them: the existing files of `KUBECONFIG`, else
 * `~/.kube/config` if it exists, else the in-cluster service account (when
 * `KUBERNETES_SERVICE_HOST`/`_PORT` are set and its token exists), else `undefined`.
 */
export function findKubeconfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
  serviceAccountDir: string = SERVICE_ACCOUNT_DIR,
): KubeconfigSource | undefined {
  const list = envValue(env, 'KUBECONFIG');
  if (list !== undefined) {
    // kubectl skips listed files that do not exist.
    const files = list.split(delimiter).filter((file) => file !== '' && existsSync(file));
    return files.length > 0 ? { kind: 'files', files, from: 'KUBECONFIG' } : undefined;
  }
  const home = envValue(env, 'HOME') ?? homedir();
  const file = join(home, '.kube', 'config');
  if (existsSync(file)) return { kind: 'files', files: [file], from: 'default' };
  return inCluster(env, serviceAccountDir);
}

type ClientModule = typeof import('@kubernetes/client-node');
let client: Promise<ClientModule> | undefined;

/** Loads the optional peer dependency once, with a message saying how to get it when it is missing. */
function loadClient(): Promise<ClientModule> {
  client ??= import('@kubernetes/client-node').catch((error: unknown) => {
    client = undefined;
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new CheckFailure(`${CHECKER} needs the optional peer dependency ${PEER}: npm install ${PEER}@1`);
    }
    throw new CheckFailure(`cannot load ${PEER}: ${firstLine(error)}`);
  });
  return client;
}

function firstLine(error: unknown): string {
  // YAML errors quote the offending lines, which may hold a token: keep the first line only.
  const text = error instanceof Error ? error.message : String(error);
  return redactSecrets(text.split('\n')[0] ?? '')
    .trim()
    .replace(/:$/, '');
}

function describeServer(server: string): string {
  try {
    const url = new URL(server);
    return `${url.origin}${url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')}`;
  } catch {
    return 'an invalid server URL';
  }
}

interface RawKubeconfig {
  'current-context'?: unknown;
  contexts?: { name?: unknown; context?: { cluster?: unknown } }[];
  clusters?: { name?: unknown; cluster?: { server?: unknown } }[];
}

/** Best effort, without the peer dependency: the server URL the files point at, for `target`. */
function guessServer(files: readonly string[], context: string | undefined): string | undefined {
  try {
    const docs = files.map((file) => (parseYaml(readFileSync(file, 'utf8')) ?? {}) as RawKubeconfig);
    const current =
      context ?? docs.map((doc) => doc['current-context']).find((name) => typeof name === 'string');
    const contextEntry = docs.flatMap((doc) => doc.contexts ?? []).find((entry) => entry.name === current);
    const cluster = docs
      .flatMap((doc) => doc.clusters ?? [])
      .find((entry) => entry.name === contextEntry?.context?.cluster);
    return typeof cluster?.cluster?.server === 'string' ? describeServer(cluster.cluster.server) : undefined;
  } catch {
    return undefined;
  }
}

function describeSource(source: KubeconfigSource | undefined): string {
  if (source === undefined) return 'no kubeconfig';
  return source.kind === 'in-cluster' ? source.server : `kubeconfig ${source.files.join(delimiter)}`;
}

/**
 * kubectl's `tokenFile` user field (which `@kubernetes/client-node` does not
 * read) becomes the library's token-file auth provider, which re-reads the
 * file as it rotates.
 */
function withTokenFiles(text: string, dir: string): string {
  const doc = parseYaml(text) as { users?: { user?: Record<string, unknown> }[] } | null;
  let changed = false;
  for (const entry of doc?.users ?? []) {
    const user = entry?.user;
    const tokenFile = user?.tokenFile ?? user?.['token-file'];
    if (user === undefined || typeof tokenFile !== 'string' || user.token !== undefined) continue;
    user['auth-provider'] = { name: 'tokenFile', config: { tokenFile: resolve(dir, tokenFile) } };
    delete user.tokenFile;
    delete user['token-file'];
    changed = true;
  }
  return changed ? stringifyYaml(doc) : text;
}

/** Merges kubeconfig files as kubectl does: the first file to set a name or the current context wins. */
function loadFiles(module: ClientModule, files: readonly string[], context: string | undefined): KubeConfig {
  const merged = { clusters: new Map(), users: new Map(), contexts: new Map(), currentContext: '' };
  for (const file of files) {
    const kc = new module.KubeConfig();
    try {
      kc.loadFromString(withTokenFiles(readFileSync(file, 'utf8'), dirname(file)));
      kc.makePathsAbsolute(dirname(file));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const reason =
        code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : firstLine(error);
      throw new CheckFailure(`cannot load kubeconfig ${file}: ${reason}`);
    }
    for (const cluster of kc.getClusters())
      if (!merged.clusters.has(cluster.name)) merged.clusters.set(cluster.name, cluster);
    for (const user of kc.getUsers()) if (!merged.users.has(user.name)) merged.users.set(user.name, user);
    for (const entry of kc.getContexts())
      if (!merged.contexts.has(entry.name)) merged.contexts.set(entry.name, entry);
    if (merged.currentContext === '' && kc.getCurrentContext())
      merged.currentContext = kc.getCurrentContext();
  }
  const kc = new module.KubeConfig();
  kc.loadFromOptions({
    clusters: [...merged.clusters.values()],
    users: [...merged.users.values()],
    contexts: [...merged.contexts.values()],
    currentContext: context ?? merged.currentContext,
  });
  return kc;
}

/** The service account mounted in a pod, as client-go reads it (its token file is re-read as it rotates). */
function loadInCluster(
  module: ClientModule,
  source: Extract<KubeconfigSource, { kind: 'in-cluster' }>,
): KubeConfig {
  const kc = new module.KubeConfig();
  kc.loadFromClusterAndUser(
    {
      name: 'in-cluster',
      server: source.server,
      caFile: join(source.serviceAccountDir, 'ca.crt'),
      skipTLSVerify: false,
    },
    {
      name: 'in-cluster',
      authProvider: { name: 'tokenFile', config: { tokenFile: join(source.serviceAccountDir, 'token') } },
    },
  );
  return kc;
}

/** What a request to the API server needs, derived from the kubeconfig by `@kubernetes/client-node`. */
interface Connection {
  readonly server: URL;
  readonly headers: Record<string, string>;
  readonly tls: LoadedTls;
  /** Only for a kubeconfig `proxy-url`; otherwise each check opens its own connection. */
  readonly agent: https.Agent | undefined;
}

async function connect(kc: KubeConfig, signal: AbortSignal, target: string): Promise<Connection> {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) {
    const context = kc.getCurrentContext();
    const names = kc.getContexts().map((entry) => entry.name);
    throw new CheckFailure(
      context && kc.getContextObject(context) === null
        ? `context ${JSON.stringify(context)} is not in the kubeconfig (it has ${names.length > 0 ? names.map((name) => JSON.stringify(name)).join(', ') : 'none'})`
        : 'the kubeconfig has no current context with a cluster (set current-context or the context option)',
    );
  }
  let server: URL;
  try {
    server = new URL(cluster.server);
  } catch {
    throw new CheckFailure(`cluster ${JSON.stringify(cluster.name)} has an invalid server URL`);
  }
  const options: https.RequestOptions = {};
  // Exec plugins and token files run here; an exec plugin cannot be cancelled, but the check stops waiting.
  let onAbort: (() => void) | undefined;
  try {
    await Promise.race([
      kc.applyToHTTPSOptions(options),
      new Promise<never>((_, reject) => {
        onAbort = () => reject(abortError(signal, target));
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } catch (error) {
    if (signal.aborted || error instanceof CheckFailure) throw error;
    throw new CheckFailure(`cannot apply the kubeconfig credentials: ${firstLine(error)}`);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    // Token files usually end with a newline, which is not allowed in a header.
    if (value !== undefined) headers[name] = String(value).trim();
  }
  if (typeof options.auth === 'string')
    headers.Authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
  const agent = cluster.proxyUrl !== undefined ? (options.agent as https.Agent | undefined) : undefined;
  if (agent === undefined) (options.agent as https.Agent | undefined)?.destroy();
  return {
    server,
    headers,
    tls: {
      ca: options.ca as string | Buffer | undefined,
      cert: options.cert as string | Buffer | undefined,
      key: options.key as string | Buffer | undefined,
      servername: options.servername,
      rejectUnauthorized: options.rejectUnauthorized !== false,
    },
    agent,
  };
}

/** `[-]etcd failed: reason withheld` lines of a verbose `/readyz`, at most five. */
function failingChecks(body: string): string[] {
  const lines = body
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('[-]'))
    .map((line) => (line.length > 120 ? `${line.slice(0, 119)}…` : line));
  return lines.length > 5 ? [...lines.slice(0, 5), `and ${lines.length - 5} more`] : lines;
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
  assertOptionsObject(CHECKER, options);
  const env = envOption(CHECKER, options.env);
  const kubeconfig = stringOption(CHECKER, 'kubeconfig', options.kubeconfig);
  const context = stringOption(CHECKER, 'context', options.context);
  const serviceAccountDir =
    stringOption(CHECKER, 'serviceAccountDir', options.serviceAccountDir) ?? SERVICE_ACCOUNT_DIR;
  const slowThreshold = slowThresholdOption(CHECKER, options.slowThreshold);
  const clock = clockOption(CHECKER, options.clock);

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

  async function get(connection: Connection, path: string, signal: AbortSignal): Promise<Answer> {
    const base = connection.server.href.endsWith('/') ? connection.server.href : `${connection.server.href}/`;
    return request({
      url: new URL(path, base),
      headers: connection.headers,
      tls: connection.tls,
      agent: connection.agent,
      target,
      signal,
    });
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
    if (ready.status === 200) {
      const details: Record<string, unknown> = {};
      // The version is a nice-to-have: a server that hides it is still ready.
      const version = await get(connection, 'version', signal)
        .then((answer) =>
          answer.status === 200
            ? (JSON.parse(answer.body) as { gitVersion?: unknown }).gitVersion
            : undefined,
        )
        .catch((error: unknown) => {
          if (signal.aborted) throw error;
          return undefined;
        });
      if (typeof version === 'string') details.version = version;
      return outcome.healthy(
        `${what} is ready${typeof version === 'string' ? ` (${version})` : ''}`,
        details,
      );
    }
    if (ready.status === 401) {
      return outcome.unhealthy(
        `${what}: authentication failed (401): the credentials of the kubeconfig were rejected`,
      );
    }
    if (ready.status === 403) {
      return outcome.unhealthy(`${what}: not authorised (403) to read /readyz: the user lacks permission`);
    }
    const verbose = await get(connection, 'readyz?verbose', signal).catch((error: unknown) => {
      if (signal.aborted) throw error;
      return undefined;
    });
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
