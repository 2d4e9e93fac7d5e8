import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import { redactSecrets } from '../messages.js';
import type { ResolvedSharedOptions } from './options.js';

/** The two connections a replica uses: commands, and a subscriber (pub/sub needs its own). @internal */
export interface Connections {
  readonly client: Redis;
  readonly subscriber: Redis;
  /** Closes what the cache opened; a client the caller passed stays open. */
  close(): Promise<void>;
}

type RedisConstructor = typeof import('ioredis').Redis;

/** Loads the optional peer dependency, with an error that says what to install. @internal */
export async function loadIoredis(): Promise<RedisConstructor> {
  let module: { Redis?: RedisConstructor; default?: unknown };
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
  if (typeof Redis !== 'function')
    throw new Error('the installed ioredis has no Redis export (expected ioredis >= 5)');
  return Redis as RedisConstructor;
}

/**
 * Reconnect with exponential backoff from 50 ms to 2 s plus jitter, forever:
 * a replica outlives any Redis outage and rejoins when it ends.
 * @internal
 */
export function reconnectDelay(attempt: number): number {
  return Math.min(2_000, 50 * 2 ** Math.min(attempt, 6)) + Math.floor(Math.random() * 100);
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
  const owned: Redis[] = [];
  let client: Redis;
  if (target.kind === 'url') {
    const Redis = await loadIoredis();
    client = new Redis(target.url, {
      connectionName: 'provider-health',
      // Fail fast while disconnected: the lease logic needs to know Redis is gone, not wait for it.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeout,
      connectTimeout: Math.max(1_000, options.commandTimeout),
      retryStrategy: reconnectDelay,
      disableClientInfo: true,
    });
    owned.push(client);
  } else {
    client = target.client;
  }
  client.on('error', report);
  // Subscriptions must queue until connected and come back after a reconnect.
  const subscriber = client.duplicate({
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    commandTimeout: undefined,
    autoResubscribe: true,
    lazyConnect: false,
  });
  owned.push(subscriber);
  subscriber.on('error', report);

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
      if (target.kind === 'client') client.off('error', report);
    },
  };
}

/** Copies an error's message with the URL's credentials and any URL userinfo removed. @internal */
export function scrubError(error: unknown, secrets: readonly string[]): Error {
  let message = error instanceof Error ? error.message : String(error);
  for (const secret of secrets) message = message.split(secret).join('***');
  const scrubbed = new Error(redactSecrets(message));
  if (error instanceof Error) scrubbed.name = error.name;
  return scrubbed;
}
