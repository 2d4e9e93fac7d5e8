import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { SharedSilencesOptions } from './silence-options.js';
import {
  resolveTarget,
  type ClusterRedis,
  type RedisClient,
  type RedisTarget,
  type SentinelRedis,
} from './target.js';
import type { HealthCacheOptions, ResolvedHealthCacheOptions } from '../options.js';
import {
  booleanOption,
  durationOption,
  MAX_DURATION,
  numberOption,
  optionRangeError,
  optionTypeError,
} from '../validate.js';

/** The default {@link SharedHealthCacheOptions.maxClockSkew}: 5 s. */
export const DEFAULT_MAX_CLOCK_SKEW = 5_000;

/**
 * Options of a {@link SharedHealthCache}: those of `HealthCache` (every
 * replica should use the same ones) plus where and how to share.
 */
export interface SharedHealthCacheOptions extends HealthCacheOptions {
  /**
   * The Redis to share through: a `redis://` or `rediss://` URL of one server,
   * `{ sentinels, name }` for Redis Sentinel, `{ cluster }` for Redis Cluster
   * (the cache opens and closes its connections for these), or an ioredis
   * `Redis` or `Cluster` client the caller owns (the cache leaves it open and
   * only adds a subscriber connection of its own).
   */
  redis: string | RedisClient | SentinelRedis | ClusterRedis;
  /** Prefix of every Redis key and channel; replicas with the same prefix share. Default `"provider-health"`. */
  key?: string | undefined;
  /**
   * How long the leader's lease lasts without renewal, in ms (renewed every
   * third of it). A stopped leader is replaced within about this long; a
   * leader that cannot reach Redis for this long stops writing. An integer
   * >= 300. Default: `pollInterval` clamped to 2,000..15,000.
   */
  leaseTtl?: number | undefined;
  /** This replica's name in the lease and in events. Default `<hostname>:<pid>:<random>`. */
  replicaId?: string | undefined;
  /** Limit on one Redis call, in ms; an integer >= 50 and below `leaseTtl`. Default a third of `leaseTtl`, at most 2,000. */
  commandTimeout?: number | undefined;
  /**
   * How far ahead a record read from Redis may be dated, in ms: of Redis's
   * clock (records dated by the write script), or of this replica's (records
   * without that stamp). A record dated further ahead is ignored and
   * reported. Replicas' clocks are never compared with each other. Default 5,000.
   */
  maxClockSkew?: number | undefined;
  /**
   * Split the providers across the live replicas (`true`), each polling its
   * share under its own fenced membership, or let one leader poll them all
   * (`false`). Every replica still serves every status. Default `false`: one
   * poller is simpler to reason about (one writer, one history), costs the
   * least Redis traffic, and is enough until one process cannot check every
   * provider within `pollInterval`; replicas that disagree on this option
   * do not share with each other, so switching is a deliberate step.
   */
  shards?: boolean | undefined;
  /** Silences shared by every replica through Redis (`true` for the defaults); see `SharedHealthCache.silences`. */
  sharedSilences?: boolean | SharedSilencesOptions | undefined;
  /** How often the polling replica writes each provider's history (with new results) to Redis, in ms; 1,000..3,600,000. Default 60,000. */
  historyInterval?: number | undefined;
}

export type { RedisTarget } from './target.js';

/** The Redis-specific options, resolved. @internal */
export interface ResolvedSharedOptions {
  readonly target: RedisTarget;
  readonly key: string;
  readonly leaseTtl: number;
  readonly replicaId: string;
  readonly commandTimeout: number;
  readonly maxClockSkew: number;
  readonly shards: boolean;
  readonly historyInterval: number;
}

/** The options that belong to `HealthCache`, without the Redis ones. @internal */
export function coreOptions(options: SharedHealthCacheOptions): HealthCacheOptions {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { redis, key, leaseTtl, replicaId, commandTimeout, maxClockSkew, sharedSilences, shards, ...rest } =
    options;
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { historyInterval, ...core } = rest;
  return core;
}

/**
 * Validates the Redis-specific options. Errors are typed option errors
 * naming the option; a URL is never quoted, since it may carry a password. @internal
 */
export function resolveSharedOptions(
  options: SharedHealthCacheOptions,
  core: ResolvedHealthCacheOptions,
): ResolvedSharedOptions {
  const target = resolveTarget(options.redis);
  const key = options.key ?? 'provider-health';
  if (typeof key !== 'string' || key.length === 0 || key.length > 200 || /[\s{}]/.test(key)) {
    // Braces would change the hash tag every key is built with (keys.ts).
    throw optionTypeError('key', 'a string of 1 to 200 characters without spaces or braces', key);
  }
  const leaseTtl = numberOption(
    'leaseTtl',
    options.leaseTtl,
    Math.round(Math.min(15_000, Math.max(2_000, core.pollInterval))),
    { min: 300, max: MAX_DURATION, integer: true },
  );
  const commandTimeout = numberOption(
    'commandTimeout',
    options.commandTimeout,
    Math.min(2_000, Math.floor(leaseTtl / 3)),
    { min: 50, max: MAX_DURATION, integer: true },
  );
  if (commandTimeout >= leaseTtl) {
    throw optionRangeError(
      'commandTimeout',
      `below \`leaseTtl\` (${leaseTtl}), so a renewal can finish before the lease expires`,
      commandTimeout,
    );
  }
  const replicaId = options.replicaId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  if (typeof replicaId !== 'string' || replicaId.length === 0 || replicaId.length > 200) {
    throw optionTypeError('replicaId', 'a non-empty string of at most 200 characters', replicaId);
  }
  const maxClockSkew = durationOption('maxClockSkew', options.maxClockSkew, DEFAULT_MAX_CLOCK_SKEW, {
    min: 0,
  });
  const shards = booleanOption('shards', options.shards, false);
  const historyInterval = durationOption('historyInterval', options.historyInterval, 60_000, {
    min: 1_000,
    max: 3_600_000,
  });
  return Object.freeze({
    target,
    key,
    leaseTtl,
    replicaId,
    commandTimeout,
    maxClockSkew,
    shards,
    historyInterval,
  });
}
