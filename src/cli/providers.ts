import { resolve } from 'node:path';
import type { HealthChecker } from '../index.js';
import type { ProviderEntry, TlsEntry } from './config-schema.js';
import { readBounded, type ConfigPath, type LoadedConfig } from './config.js';
import { optionProblem } from './option-errors.js';
import { quoteString } from './quote.js';

/** A provider ready to register, with what people see of it. */
export interface BuiltProvider {
  readonly name: string;
  readonly type: ProviderEntry['type'];
  /** Where it is checked, without credentials (`unix:///run/docker.sock`, `https://api:6443`). */
  readonly target: string;
  readonly checker: HealthChecker;
  /** Its labels (`kind=docker` for what discovery finds); none when absent. */
  readonly labels?: Readonly<Record<string, string>> | undefined;
  /** The providers it depends on; registered before it. */
  readonly dependsOn?: readonly string[] | undefined;
}

/** Environment variables, as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Builds the checker that `providers[index]` of the config describes. Each
 * checker module is imported only when used, so an optional peer dependency
 * (such as `@kubernetes/client-node`) is needed only by configs that use it.
 * @throws ConfigError naming the entry's field and line for a file that cannot
 * be read or an option the checker rejects.
 */
export async function buildProvider(
  entry: ProviderEntry,
  index: number,
  loaded: LoadedConfig,
  env: Env,
  signal?: AbortSignal,
): Promise<BuiltProvider> {
  const at: ConfigPath = ['providers', index];
  const tls = 'tls' in entry ? await readTls(entry.tls, [...at, 'tls'], loaded, signal) : undefined;
  try {
    const checker = await checkerFor(entry, tls, env, loaded.cwd, (text) =>
      bodyPattern(text, [...at, 'bodyMatch'], loaded),
    );
    const { labels, dependsOn } = entry;
    return { name: entry.name, type: entry.type, target: checker.target, checker, labels, dependsOn };
  } catch (error) {
    const problem = optionProblem(error);
    if (problem === undefined) throw error;
    // `url` of httpChecker → the line of providers[i].url; an option the entry lacks → the entry's line.
    const [option, ...rest] = problem.option;
    const key = RENAMED[entry.type]?.[option] ?? option;
    const path = Object.hasOwn(entry, key) ? [...at, key, ...rest] : at;
    throw loaded.errorAt(path, problem.message);
  }
}

/** Checker options whose config key differs (the entry's `name` and `type` are its own). */
const RENAMED: Partial<Record<ProviderEntry['type'], Readonly<Record<string, string>>>> = {
  dns: { name: 'query', type: 'recordType' },
};

/**
 * The checker an entry describes, its module imported on first use. Over 60
 * lines: one short case per provider type, each only passing the entry's keys on.
 */
async function checkerFor(
  entry: ProviderEntry,
  tls: TlsOptions | undefined,
  env: Env,
  cwd: string,
  pattern: (text: string) => string | RegExp,
): Promise<HealthChecker & { readonly target: string }> {
  const { slowThreshold } = entry;
  switch (entry.type) {
    case 'docker': {
      const { dockerChecker } = await import('../checkers/docker.js');
      const { host, certExpiryWarning, info } = entry;
      return dockerChecker({ host, tls, env, slowThreshold, certExpiryWarning, info });
    }
    case 'kubernetes': {
      const { kubernetesChecker } = await import('../checkers/kubernetes.js');
      const { context, certExpiryWarning, livez, nodes } = entry;
      // Relative to the directory the file's other paths are (the checker would take the process's).
      const kubeconfig = entry.kubeconfig === undefined ? undefined : resolve(cwd, entry.kubeconfig);
      return kubernetesChecker({ kubeconfig, context, env, slowThreshold, certExpiryWarning, livez, nodes });
    }
    case 'nomad': {
      const { nomadChecker } = await import('../checkers/nomad.js');
      const { address, token, region, certExpiryWarning, autopilot } = entry;
      return nomadChecker({ address, token, region, tls, env, slowThreshold, certExpiryWarning, autopilot });
    }
    case 'http': {
      const { httpChecker } = await import('../checkers/http.js');
      return httpChecker({
        url: entry.url,
        method: entry.method,
        expectedStatus: entry.expectedStatus,
        bodyMatch: entry.bodyMatch === undefined ? undefined : pattern(entry.bodyMatch),
        headers: entry.headers,
        tls,
        followRedirects: entry.followRedirects,
        slowThreshold,
        certExpiryWarning: entry.certExpiryWarning,
      });
    }
    case 'tcp': {
      const { tcpChecker } = await import('../checkers/tcp.js');
      return tcpChecker({ host: entry.host, port: entry.port, slowThreshold });
    }
    case 'grpc': {
      const { grpcChecker } = await import('../checkers/grpc.js');
      const { address, service, plaintext, timeout, certExpiryWarning } = entry;
      return grpcChecker({ address, service, plaintext, tls, timeout, slowThreshold, certExpiryWarning });
    }
    case 'dns': {
      const { dnsChecker } = await import('../checkers/dns.js');
      const { query, recordType, servers, expect } = entry;
      return dnsChecker({ name: query, type: recordType, servers, expect, slowThreshold });
    }
  }
}

/** `/pattern/flags` is a regular expression; anything else is text the body must contain. */
function bodyPattern(text: string, at: ConfigPath, loaded: LoadedConfig): string | RegExp {
  const match = /^\/(.+)\/([a-z]*)$/s.exec(text);
  if (match === null) return text;
  try {
    return new RegExp(match[1]!, match[2]);
  } catch (error) {
    // V8's message repeats the whole pattern: keep the reason only.
    const reason = (error as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    throw loaded.errorAt(
      at,
      `expected a valid regular expression: ${reason.length > 100 ? `${reason.slice(0, 100)}…` : reason}`,
    );
  }
}

interface TlsOptions {
  ca?: string;
  cert?: string;
  key?: string;
  serverName?: string;
  skipVerify?: boolean;
}

/** The largest PEM file read (a CA bundle of every public root is about 220 KB). */
const MAX_PEM_BYTES = 1_048_576;

/** Reads the PEM files a `tls` entry names (inline PEM is used as is). */
async function readTls(
  tls: TlsEntry | undefined,
  at: ConfigPath,
  loaded: LoadedConfig,
  signal: AbortSignal | undefined,
): Promise<TlsOptions | undefined> {
  if (tls === undefined) return undefined;
  const pem = async (field: 'ca' | 'cert' | 'key'): Promise<string | undefined> => {
    const value = tls[field];
    if (value === undefined || value.includes('-----BEGIN ')) return value;
    // A key's value is never echoed: it may be the key itself, pasted without its PEM armour.
    const what = field === 'key' ? 'the file it names' : quoteString(value);
    let text: string | undefined;
    try {
      text = await readBounded(resolve(loaded.cwd, value), MAX_PEM_BYTES, signal);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const reason =
        code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code);
      throw loaded.errorAt([...at, field], `cannot read ${what}: ${reason}`);
    }
    if (text === undefined) {
      throw loaded.errorAt([...at, field], `${what} is larger than ${MAX_PEM_BYTES} bytes (1 MiB): not PEM`);
    }
    // Said here, not by the checker: its hint is about the library's PEM-text option.
    if (!text.includes('-----BEGIN ')) {
      throw loaded.errorAt([...at, field], `${what} holds no PEM block (no "-----BEGIN" line)`);
    }
    return text;
  };
  const [ca, cert, key] = await Promise.all([pem('ca'), pem('cert'), pem('key')]);
  const options: TlsOptions = {};
  if (ca !== undefined) options.ca = ca;
  if (cert !== undefined) options.cert = cert;
  if (key !== undefined) options.key = key;
  if (tls.serverName !== undefined) options.serverName = tls.serverName;
  if (tls.skipVerify !== undefined) options.skipVerify = tls.skipVerify;
  return options;
}
