import type { Cluster } from 'ioredis';
import type { Clock } from '../clock.js';
import { redactSecrets } from '../messages.js';
import { RedisSetupError } from './events.js';
import type { ResolvedSharedOptions } from './options.js';
import { nodeText, type RedisClient, type RedisTarget, type ResolvedAuth } from './target.js';

/** The two connections a replica uses: commands, and a subscriber (pub/sub needs its own). @internal */
export interface Connections {
  readonly client: RedisClient;
  readonly subscriber: RedisClient;
  /** Closes what the cache opened; a client the caller passed stays open. */
  close(): Promise<void>;
}

type IoredisModule = typeof import('ioredis');

/** Loads the optional peer dependency, with an error that says what to install. @internal */
export async function loadIoredis(): Promise<IoredisModule['Redis']> {
  return (await loadModule()).Redis;
}

async function loadModule(): Promise<{ Redis: IoredisModule['Redis']; Cluster: IoredisModule['Cluster'] }> {
  let module: { Redis?: unknown; Cluster?: unknown; default?: unknown };
  try {
    module = await import('ioredis');
  } catch (error) {
    throw new Error(
      'provider-health/redis needs the optional peer dependency ioredis (>= 5): run `npm install ioredis`',
      { cause: error },
    );
  }
  // Through CommonJS interop the class is both a named and the default export.
  const Redis = module.Redis ?? module.default;
  const Cluster = module.Cluster ?? (module.default as { Cluster?: unknown } | undefined)?.Cluster;
  if (typeof Redis !== 'function' || typeof Cluster !== 'function')
    throw new Error('the installed ioredis has no Redis or Cluster export (expected ioredis >= 5)');
  return { Redis: Redis as IoredisModule['Redis'], Cluster: Cluster as IoredisModule['Cluster'] };
}

/**
 * Reconnect with exponential backoff from 50 ms to 2 s plus jitter, forever:
 * a replica outlives any Redis outage and rejoins when it ends.
 * @internal
 */
export function reconnectDelay(attempt: number): number {
  return Math.min(2_000, 50 * 2 ** Math.min(attempt, 6)) + Math.floor(Math.random() * 100);
}

/** The same without jitter: ioredis quotes it in its Sentinel messages, which are reported once each. */
function sentinelDelay(attempt: number): number {
  return Math.min(2_000, 50 * 2 ** Math.min(attempt, 6));
}

/**
 * Opens the connections. Errors are reported through `onError` (already
 * scrubbed of credentials), never thrown as unhandled `error` events.
 * @internal
 */
export async function openConnections(
  options: ResolvedSharedOptions,
  clock: Clock,
  onError: (error: Error) => void,
): Promise<Connections> {
  const { target } = options;
  const report = (error: unknown): void => onError(scrubError(error, target.secrets));
  const owned: RedisClient[] = [];
  const client = target.kind === 'client' ? target.client : await openClient(options);
  if (target.kind !== 'client') owned.push(client);
  const onClientError = (error: unknown): void => report(sentinelProblem(error, target));
  client.on('error', onClientError);
  const onSentinelError = (error: unknown): void => report(sentinelProblem(error, target));
  if (target.kind === 'sentinel') client.on('sentinelError', onSentinelError);
  // Subscriptions must queue until connected and come back after a reconnect.
  const subscriber = isCluster(client)
    ? client.duplicate(undefined, {
        enableOfflineQueue: true,
        redisOptions: withoutCommandTimeout(client.options.redisOptions),
      } as Parameters<Cluster['duplicate']>[1])
    : client.duplicate({
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
        commandTimeout: undefined,
        autoResubscribe: true,
        lazyConnect: false,
      });
  owned.push(subscriber);
  subscriber.on('error', onClientError);
  if (target.kind === 'sentinel') subscriber.on('sentinelError', onSentinelError);

  return {
    client,
    subscriber,
    async close(): Promise<void> {
      await Promise.all(
        owned.map(async (connection) => {
          // QUIT politely when connected; otherwise (or if Redis hangs) just drop the socket.
          if (connection.status === 'ready') {
            const timer = clock.setTimeout(() => connection.disconnect(), options.commandTimeout);
            await connection.quit().catch(() => {});
            clock.clearTimeout(timer);
          }
          connection.disconnect();
        }),
      );
      // A client the caller owns goes back as it came; ours keep the listener for any late error.
      if (target.kind === 'client') client.off('error', onClientError);
      client.off('sentinelError', onSentinelError);
    },
  };
}

/** A subscriber waits for messages indefinitely: no command timeout, resubscribed after a reconnect. */
function withoutCommandTimeout<T extends { commandTimeout?: number | undefined }>(
  options: T | undefined,
): T & { autoResubscribe: true } {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { commandTimeout, ...rest } = options ?? ({} as T);
  return { ...(rest as T), autoResubscribe: true };
}

/** Whether a client is an ioredis `Cluster`. @internal */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: unknown }).isCluster === true;
}

/** Opens the command connection of a URL, Sentinel or Cluster target. */
/**
 * A command client for `options.target` (a URL, Sentinel or Cluster; not a
 * caller's client), failing fast while Redis is away. Also used by the
 * alert coordinator, so both open Redis the same way. @internal
 */
export async function openClient(
  options: Pick<ResolvedSharedOptions, 'target' | 'commandTimeout'>,
): Promise<RedisClient> {
  const { target } = options;
  const { Redis, Cluster } = await loadModule();
  // Fail fast while disconnected: the lease logic needs to know Redis is gone, not wait for it.
  const common = {
    connectionName: 'provider-health',
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeout,
    connectTimeout: Math.max(1_000, options.commandTimeout),
    disableClientInfo: true,
    // A master demoted by a failover refuses writes: reconnect, and so find the new master.
    reconnectOnError: (error: Error) => error.message.startsWith('READONLY'),
  };
  switch (target.kind) {
    case 'url':
      return new Redis(target.url, { ...common, enableOfflineQueue: false, retryStrategy: reconnectDelay });
    case 'sentinel':
      return new Redis({
        ...common,
        ...auth(target.auth),
        enableOfflineQueue: false,
        retryStrategy: reconnectDelay,
        sentinels: target.sentinels.map(({ host, port }) => ({ host, port })),
        name: target.name,
        sentinelPassword: target.sentinelPassword,
        db: target.db,
        sentinelRetryStrategy: sentinelDelay,
        sentinelCommandTimeout: options.commandTimeout,
        enableTLSForSentinelMode: target.auth.tls,
        failoverDetector: true,
      });
    case 'cluster':
      return new Cluster(
        target.nodes.map(({ host, port }) => ({ host, port })),
        {
          enableOfflineQueue: false,
          clusterRetryStrategy: reconnectDelay,
          slotsRefreshTimeout: options.commandTimeout,
          redisOptions: { ...common, ...auth(target.auth) },
        },
      );
    default:
      throw new Error('unreachable: a client target is not opened');
  }
}

function auth(resolved: ResolvedAuth): { username?: string; password?: string; tls?: object } {
  return {
    ...(resolved.username === undefined ? {} : { username: resolved.username }),
    ...(resolved.password === undefined ? {} : { password: resolved.password }),
    ...(resolved.tls ? { tls: {} } : {}),
  };
}

/**
 * A sentinel that knows no master of our name answers `ERR No such master
 * with that name` (Redis 7) or nil (older): ioredis then retries forever
 * with messages that differ only in their delay. All become one setup error.
 */
function sentinelProblem(error: unknown, target: RedisTarget): unknown {
  const message = error instanceof Error ? error.message : String(error);
  if (target.kind !== 'sentinel') return error;
  if (!/No such master with that name|got an invalid reply: null/.test(message)) return error;
  const asked = target.sentinels.map(nodeText).join(', ');
  return new RedisSetupError(
    'unknown-sentinel-master',
    `Redis Sentinel knows no master named ${JSON.stringify(target.name)} (redis.name; asked ${asked}): ` +
      "check the name in the sentinels' `sentinel monitor` line",
  );
}

/**
 * Copies an error's message with the URL's credentials and any URL userinfo
 * removed; a Cluster redirection becomes a {@link RedisSetupError} saying what to configure. @internal
 */
export function scrubError(error: unknown, secrets: readonly string[]): Error {
  let message = error instanceof Error ? error.message : String(error);
  for (const secret of secrets) message = message.split(secret).join('***');
  message = redactSecrets(message);
  if (error instanceof RedisSetupError) return new RedisSetupError(error.kind, message);
  const setup = setupProblem(message);
  if (setup) return setup;
  const scrubbed = new Error(message);
  if (error instanceof Error) scrubbed.name = error.name;
  return scrubbed;
}

/** A reply only a Cluster gives, read as the setup problem it reveals. @internal */
export function setupProblem(message: string): RedisSetupError | undefined {
  const moved = /^(?:MOVED|ASK) \d+ (\S+)/.exec(message);
  if (moved) return clusterAsSingle(`it redirected a command to ${moved[1]} (${message.split(' ')[0]})`);
  if (message.startsWith('CROSSSLOT'))
    return new RedisSetupError(
      'cross-slot',
      `Redis Cluster refused a script whose keys are on several slots (${message.slice(0, 120)}): ` +
        "every key must be built with the replica set's hash tag",
    );
  return undefined;
}

/** The error for a Cluster node given as a single server. @internal */
export function clusterAsSingle(evidence: string): RedisSetupError {
  return new RedisSetupError(
    'cluster-as-single',
    `Redis is a Cluster node, not a single server: ${evidence}. ` +
      "Give the cluster's nodes as `redis.cluster` (seed nodes) instead of one URL",
  );
}
