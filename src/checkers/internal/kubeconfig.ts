/**
 * Loading kubeconfigs for the Kubernetes checker through the optional peer
 * dependency `@kubernetes/client-node`, and turning the result into what a
 * request needs.
 * @internal
 */
import { readFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import type https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { raceAbort } from '../../async.js';
import { redactSecrets } from '../../messages.js';
import { abortError } from './abort.js';
import type { KubeconfigSource } from './find-kubeconfig.js';
import { CheckFailure, type LoadedTls } from './request.js';

const PEER = '@kubernetes/client-node';

/** The peer dependency's module. */
export type ClientModule = typeof import('@kubernetes/client-node');
let client: Promise<ClientModule> | undefined;

/** Loads the optional peer dependency once, with a message saying how to get it when it is missing. */
export function loadClient(): Promise<ClientModule> {
  client ??= import('@kubernetes/client-node').catch((error: unknown) => {
    client = undefined;
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new CheckFailure(
        `kubernetesChecker needs the optional peer dependency ${PEER}: npm install ${PEER}@1`,
      );
    }
    throw new CheckFailure(`cannot load ${PEER}: ${firstLine(error)}`);
  });
  return client;
}

export function firstLine(error: unknown): string {
  // YAML errors quote the offending lines, which may hold a token: keep the first line only.
  const text = error instanceof Error ? error.message : String(error);
  return redactSecrets(text.split('\n')[0] ?? '')
    .trim()
    .replace(/:$/, '');
}

export function describeServer(server: string): string {
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
export function guessServer(files: readonly string[], context: string | undefined): string | undefined {
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

export function describeSource(source: KubeconfigSource | undefined): string {
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
export function loadFiles(
  module: ClientModule,
  files: readonly string[],
  context: string | undefined,
): KubeConfig {
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
export function loadInCluster(
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
export interface Connection {
  readonly server: URL;
  readonly headers: Record<string, string>;
  readonly tls: LoadedTls;
  /** Only for a kubeconfig `proxy-url`; otherwise each check opens its own connection. */
  readonly agent: https.Agent | undefined;
  /**
   * Whether the credentials are written in the kubeconfig (a `token`, a client
   * certificate), so their expiry is worth a warning. Token files and exec
   * plugins renew theirs, so a short expiry there is normal.
   */
  readonly staticToken: boolean;
  readonly staticCert: boolean;
}

export async function connect(kc: KubeConfig, signal: AbortSignal, target: string): Promise<Connection> {
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
  try {
    await raceAbort(kc.applyToHTTPSOptions(options), signal);
  } catch (error) {
    if (signal.aborted) throw abortError(signal, target);
    if (error instanceof CheckFailure) throw error;
    throw new CheckFailure(`cannot apply the kubeconfig credentials: ${firstLine(error)}`);
  }
  const user = kc.getCurrentUser();
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
    staticToken: typeof user?.token === 'string' && user.token !== '',
    staticCert: user?.certData !== undefined || user?.certFile !== undefined,
  };
}
