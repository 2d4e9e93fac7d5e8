/**
 * The cache `serve` runs: a local `HealthCache`, or the Redis-shared one when
 * shared mode is configured (loaded only then, so the CLI runs without the
 * optional ioredis).
 */
import { HealthCache, type HealthCacheOptions, type HealthEvent, type RunnableHealthView } from '../index.js';
import type { SharedSilencesOptions } from '../redis/silence-options.js';
import type { SilenceControl } from '../quiet/silence-control.js';
import type { LeaseRepair, ShareChange, RoleChange } from '../redis/events.js';
import { ConfigError } from './config.js';
import type { Setup } from './setup.js';

/**
 * What `serve` runs and logs: the core's runnable view (a local `HealthCache`
 * or a `SharedHealthCache`), plus the shared cache's Redis events when present.
 */
export interface ServedView extends RunnableHealthView {
  readonly onRoleChange?: HealthEvent<RoleChange>;
  readonly onRedisError?: HealthEvent<Error>;
  readonly onLeaseRepair?: HealthEvent<LeaseRepair>;
  /** With `redis.shards`: this replica's share changed (size, total, members). */
  readonly onShareChange?: HealthEvent<ShareChange>;
  /** The shared cache's silences (shared mode with `sharedSilences`). */
  readonly silences?: SilenceControl | undefined;
}

/** What the view gets of the silences `serve` set up (see `startSilences`). */
export interface ViewSilences {
  readonly source: HealthCacheOptions['silences'];
  readonly shared: SharedSilencesOptions | undefined;
}

/**
 * Builds the cache the setup describes, reading `silences` (the source of a
 * local cache, the windows of a shared one) when given.
 * @throws ConfigError for a bad option (at its config line) or a missing ioredis.
 */
export async function createView(setup: Setup, silences?: ViewSilences): Promise<ServedView> {
  if (setup.redis === undefined) {
    try {
      return new HealthCache(setup.registry, { ...setup.cacheOptions, silences: silences?.source });
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
      redis: setup.redis.target,
      shards: setup.redis.shards,
      key: setup.redis.key,
      leaseTtl: setup.redis.leaseTtl,
      historyInterval: setup.redis.historyInterval,
      sharedSilences: silences?.shared,
    });
  } catch (error) {
    throw setup.optionError(error);
  }
}
