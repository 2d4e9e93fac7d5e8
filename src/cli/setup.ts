import { resolve } from 'node:path';
import { isDependencyError, ProviderRegistry, resolveOptions, type HealthCacheOptions } from '../index.js';
import type { MaintenanceWindow } from '../quiet/maintenance-window.js';
import { unknownDependency } from './config-organise.js';
import { ConfigError, loadConfig, type ConfigPath, type LoadedConfig } from './config.js';
import { discover, type Discovery } from './discovery.js';
import type { Io } from './io.js';
import { optionProblem } from './option-errors.js';
import { buildProvider, type BuiltProvider } from './providers.js';
import { registerAll } from './register.js';
import { DEFAULT_SERVER_LIMITS, type ServerLimits } from './server-limits.js';
import { redisConnection, type RedisConnection } from '../redis/config-section.js';

/** Environment variable holding the refresh token; overrides `server.token`. */
export const TOKEN_ENV = 'PROVIDER_HEALTH_TOKEN';
/** Environment variable holding the Redis URL; overrides `redis.url` and turns shared mode on by itself. */
export const REDIS_URL_ENV = 'PROVIDER_HEALTH_REDIS_URL';

/**
 * Where the options of the handler and the shared cache sit in the config
 * file; the cache's own options are top-level keys of the same name. Every
 * name is unique across the three, so an error's option name says where it is.
 */
const OPTION_PATHS: Readonly<Record<string, ConfigPath>> = {
  token: ['server', 'token'],
  minRefreshInterval: ['server', 'minRefreshInterval'],
  allowedHosts: ['server', 'allowedHosts'],
  maxEventStreams: ['server', 'maxEventStreams'],
  publishInterval: ['server', 'publishInterval'],
  redis: ['redis', 'url'],
  key: ['redis', 'key'],
  leaseTtl: ['redis', 'leaseTtl'],
  historyInterval: ['redis', 'historyInterval'],
};

/** Everything `serve` and `check` need, validated; nothing started yet. */
export interface Setup {
  /** The config file, when one was given. */
  readonly file: string | undefined;
  /** The file's validated contents; `undefined` without a file. A reload compares them. */
  readonly config: LoadedConfig['config'] | undefined;
  readonly registry: ProviderRegistry;
  /** The registered providers, sorted by name (registered dependencies first). */
  readonly providers: readonly BuiltProvider[];
  /** The file's `maintenance` windows, validated; empty without any. */
  readonly maintenance: readonly MaintenanceWindow[];
  /** The file's `state`; `undefined` when not configured. */
  readonly state:
    | {
        /** The state file, absolute (resolved against the working directory). */
        readonly file: string;
        /** A {@link ConfigError} about `state.file`, at its line. */
        errorAt(message: string): ConfigError;
        /** `state.saveInterval` in ms (how often the history is saved), when given. */
        readonly saveInterval: number | undefined;
      }
    | undefined;
  /** What discovery found and did not; `undefined` when it did not run. */
  readonly discovery: Discovery | undefined;
  readonly cacheOptions: HealthCacheOptions;
  readonly server: {
    readonly host: string | undefined;
    readonly port: number | undefined;
    /** A secret: never print or log it. */
    readonly token: string | undefined;
    readonly minRefreshInterval: number | undefined;
    readonly allowedHosts: readonly string[] | undefined;
    readonly maxEventStreams: number | undefined;
    /** How often JSON bodies are re-serialised at most while statuses change (the handler's option). */
    readonly publishInterval: number | undefined;
    /** Connection bounds and timeouts of the HTTP server, defaults applied. */
    readonly limits: ServerLimits;
  };
  /** Shared mode; `undefined` for a local cache. */
  readonly redis:
    | {
        /** May carry a password: log only through `redactSecrets`. */
        readonly url: string;
        /** The `redis` option: the URL, or the Sentinel or Cluster form. */
        readonly target: RedisConnection['redis'];
        readonly shards: boolean | undefined;
        readonly key: string | undefined;
        readonly leaseTtl: number | undefined;
        readonly historyInterval: number | undefined;
      }
    | undefined;
  /**
   * Turns an option error that a library constructor threw (its `option`
   * names the option) into a {@link ConfigError} naming the config field and
   * line, or the environment variable it came from; anything else is returned as is.
   */
  optionError(error: unknown): unknown;
}

/**
 * Loads the config file (or runs discovery without one), builds every
 * checker and validates the cache options, so that a bad config fails
 * before anything starts.
 * @throws ConfigError for any problem with the file or the environment.
 */
export async function prepare(
  file: string | undefined,
  io: Pick<Io, 'env' | 'cwd'>,
  signal?: AbortSignal,
): Promise<Setup> {
  const env = io.env;
  const loaded = file === undefined ? undefined : await loadConfig(file, signal, io.cwd);
  const config = loaded?.config ?? {};

  const cacheOptions: HealthCacheOptions = {
    pollInterval: config.pollInterval,
    checkTimeout: config.checkTimeout,
    staleAfter: config.staleAfter,
    jitter: config.jitter,
    concurrency: config.concurrency,
    failureThreshold: config.failureThreshold,
    successThreshold: config.successThreshold,
    historySize: config.historySize,
    maxMessageLength: config.maxMessageLength,
  };

  const envToken = nonEmpty(env[TOKEN_ENV]);
  const envRedis = nonEmpty(env[REDIS_URL_ENV]);
  const connection = redisConnection(config.redis, envRedis);
  if (config.redis !== undefined && connection === undefined) {
    throw locate(loaded, ['redis'], `expected url (or the ${REDIS_URL_ENV} environment variable)`);
  }

  const optionError = (error: unknown): unknown => {
    const problem = optionProblem(error);
    if (problem === undefined) return error;
    const { option, message } = problem;
    const [first = ''] = option;
    if (first === 'token' && envToken !== undefined) return new ConfigError(`${TOKEN_ENV}: ${message}`);
    if (first === 'redis' && envRedis !== undefined) return new ConfigError(`${REDIS_URL_ENV}: ${message}`);
    if (first === 'redis' && option.length > 1) return locate(loaded, option, message); // redis.sentinels[1] …
    const base = OPTION_PATHS[first];
    return locate(loaded, base === undefined ? option : [...base, ...option.slice(1)], message);
  };

  try {
    resolveOptions(cacheOptions);
  } catch (error) {
    throw optionError(error);
  }

  const providers: BuiltProvider[] = [];
  if (loaded) {
    for (const [index, entry] of (config.providers ?? []).entries()) {
      providers.push(await buildProvider(entry, index, loaded, env, signal));
    }
  }
  let discovery: Discovery | undefined;
  if (loaded === undefined || config.discover === true) {
    discovery = await discover(env, signal);
    for (const found of discovery.found) {
      if (providers.some((provider) => provider.name === found.name)) continue;
      providers.push(found);
    }
  }
  providers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const registry = new ProviderRegistry();
  registerAll(registry, providers, (provider, error) =>
    registrationError(loaded, config.providers ?? [], provider.name, error),
  );
  const stateFile = config.state?.file;
  return {
    file,
    config: loaded?.config,
    registry,
    providers,
    maintenance: config.maintenance ?? [],
    state:
      stateFile === undefined
        ? undefined
        : {
            file: resolve(io.cwd ?? process.cwd(), stateFile),
            errorAt: (message) => locate(loaded, ['state', 'file'], message),
            saveInterval: config.state?.saveInterval,
          },
    discovery,
    cacheOptions,
    server: {
      host: config.server?.host,
      port: config.server?.port,
      token: envToken ?? config.server?.token,
      minRefreshInterval: config.server?.minRefreshInterval,
      allowedHosts: config.server?.allowedHosts,
      maxEventStreams: config.server?.maxEventStreams,
      publishInterval: config.server?.publishInterval,
      limits: serverLimits(config.server),
    },
    redis:
      connection === undefined
        ? undefined
        : {
            url: connection.display,
            target: connection.redis,
            key: config.redis?.key,
            leaseTtl: config.redis?.leaseTtl,
            historyInterval: config.redis?.historyInterval,
            shards: config.redis?.shards,
          },
    optionError,
  };
}

/**
 * A registration the file's checks let through (a dependency on a name that
 * discovery was to supply but did not find) as a ConfigError at its entry.
 */
function registrationError(
  loaded: LoadedConfig | undefined,
  entries: readonly { readonly name: string; readonly dependsOn?: readonly string[] | undefined }[],
  name: string,
  error: unknown,
): unknown {
  if (!isDependencyError(error) || error.kind !== 'unknown') return error;
  const index = entries.findIndex((entry) => entry.name === name);
  if (index === -1) return error;
  const at = entries[index]?.dependsOn?.indexOf(error.dependency ?? '') ?? -1;
  const path = at === -1 ? ['providers', index] : ['providers', index, 'dependsOn', at];
  return locate(loaded, path, `${unknownDependency(error.dependency ?? '')} (nor did discovery find it)`);
}

/** The server bounds of the file, each defaulted. */
function serverLimits(
  server: { readonly [K in keyof ServerLimits]?: number | undefined } = {},
): ServerLimits {
  const defaults = DEFAULT_SERVER_LIMITS;
  return Object.freeze({
    maxConnections: server.maxConnections ?? defaults.maxConnections,
    headersTimeout: server.headersTimeout ?? defaults.headersTimeout,
    requestTimeout: server.requestTimeout ?? defaults.requestTimeout,
    keepAliveTimeout: server.keepAliveTimeout ?? defaults.keepAliveTimeout,
    maxRequestsPerSocket: server.maxRequestsPerSocket ?? defaults.maxRequestsPerSocket,
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** A ConfigError at `path` of the file, or about the setting alone without a file. */
function locate(loaded: LoadedConfig | undefined, path: ConfigPath, message: string): ConfigError {
  if (loaded) return loaded.errorAt(path, message);
  return new ConfigError(`${path.map(String).join('.')}: ${message}`);
}
