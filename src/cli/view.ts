/**
 * The cache `serve` runs: a local `HealthCache`, or the Redis-shared one when
 * shared mode is configured (loaded only then, so the CLI runs without the
 * optional ioredis).
 */
import { HealthCache, type HealthEvent, type HealthView } from '../index.js';
import { ConfigError } from './config.js';
import type { Setup } from './setup.js';

/** A check that failed because of this service (out of file descriptors), not the provider. */
export interface ServiceFault {
  readonly name: string;
  /** The system error code, such as `EMFILE`. */
  readonly code: string;
  readonly message: string;
}

/** A role change of a shared cache. */
export interface RoleChangeEvent {
  readonly role: string;
  readonly previous: string;
  readonly reason: string;
}

/** A lease key the shared cache repaired. */
export interface LeaseRepairEvent {
  readonly kind: string;
  readonly key: string;
}

/**
 * What `serve` needs of a cache: a view it can run and dispose, and the events
 * it logs where the cache has them (the core's runnable view and the shared
 * cache add them; each is optional so that either side may land first).
 */
export interface ServedView extends HealthView {
  run(signal: AbortSignal): Promise<void>;
  dispose(): void | Promise<void>;
  readonly onListenerError?: HealthEvent<unknown>;
  readonly onCheckerFault?: HealthEvent<ServiceFault>;
  readonly onRoleChange?: HealthEvent<RoleChangeEvent>;
  readonly onRedisError?: HealthEvent<Error>;
  readonly onLeaseRepair?: HealthEvent<LeaseRepairEvent>;
}

/**
 * Builds the cache the setup describes.
 * @throws ConfigError for a bad option (at its config line) or a missing ioredis.
 */
export async function createView(setup: Setup): Promise<ServedView> {
  if (setup.redis === undefined) {
    try {
      return new HealthCache(setup.registry, setup.cacheOptions);
    } catch (error) {
      throw setup.optionError(error);
    }
  }
  // A failure to load our own module is a bug, not a config problem: let it through.
  const module = await import('../redis/index.js');
  try {
    // The module loads without ioredis (only run() needs it): find out now, before
    // listening, rather than serve a dashboard whose poller never starts.
    await (await import('../redis/connection.js')).loadIoredis();
  } catch (error) {
    throw new ConfigError(
      `redis: shared mode needs the optional dependency ioredis (>= 5): run \`npm install ioredis\``,
      { cause: error },
    );
  }
  try {
    return new module.SharedHealthCache(setup.registry, {
      ...setup.cacheOptions,
      redis: setup.redis.url,
      key: setup.redis.key,
      leaseTtl: setup.redis.leaseTtl,
    });
  } catch (error) {
    throw setup.optionError(error);
  }
}
