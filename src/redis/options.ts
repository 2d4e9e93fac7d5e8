import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { HealthCacheOptions, ResolvedHealthCacheOptions } from '../options.js';

/**
 * Options of a {@link SharedHealthCache}: those of `HealthCache` (every
 * replica should use the same ones) plus where and how to share.
 */
export interface SharedHealthCacheOptions extends HealthCacheOptions {
  /**
   * The Redis to share through: a `redis://` or `rediss://` URL (the cache
   * opens and closes its connections), or an ioredis client the caller owns
   * (the cache leaves it open and only adds a subscriber connection of its own).
   */
  redis: string | Redis;
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
}

/** Where a {@link SharedHealthCache} connects, with the URL's credentials kept apart. @internal */
export type RedisTarget =
  | { readonly kind: 'url'; readonly url: string; readonly secrets: readonly string[] }
  | { readonly kind: 'client'; readonly client: Redis; readonly secrets: readonly string[] };

/** The Redis-specific options, resolved. @internal */
export interface ResolvedSharedOptions {
  readonly target: RedisTarget;
  readonly key: string;
  readonly leaseTtl: number;
  readonly replicaId: string;
  readonly commandTimeout: number;
}

/** The options that belong to `HealthCache`, without the Redis ones. @internal */
export function coreOptions(options: SharedHealthCacheOptions): HealthCacheOptions {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { redis, key, leaseTtl, replicaId, commandTimeout, ...core } = options;
  return core;
}

/**
 * Validates the Redis-specific options. Errors name the option; a URL is
 * never quoted, since it may carry a password. @internal
 */
export function resolveSharedOptions(
  options: SharedHealthCacheOptions,
  core: ResolvedHealthCacheOptions,
): ResolvedSharedOptions {
  const target = resolveTarget(options.redis);
  const key = options.key ?? 'provider-health';
  if (typeof key !== 'string' || key.length === 0 || /\s/.test(key)) {
    throw new TypeError(`Expected \`key\` to be a non-empty string without spaces, got ${describe(key)}`);
  }
  const leaseTtl = integerOption(
    'leaseTtl',
    options.leaseTtl,
    Math.round(Math.min(15_000, Math.max(2_000, core.pollInterval))),
    300,
  );
  const commandTimeout = integerOption(
    'commandTimeout',
    options.commandTimeout,
    Math.min(2_000, Math.floor(leaseTtl / 3)),
    50,
  );
  if (commandTimeout >= leaseTtl) {
    throw new RangeError(
      `Expected \`commandTimeout\` (${commandTimeout}) to be below \`leaseTtl\` (${leaseTtl}), so a renewal can finish before the lease expires`,
    );
  }
  const replicaId = options.replicaId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  if (typeof replicaId !== 'string' || replicaId.length === 0 || replicaId.length > 200) {
    throw new TypeError(
      `Expected \`replicaId\` to be a non-empty string of at most 200 characters, got ${describe(replicaId)}`,
    );
  }
  return Object.freeze({ target, key, leaseTtl, replicaId, commandTimeout });
}

function resolveTarget(redis: unknown): RedisTarget {
  if (typeof redis === 'string') {
    let url: URL;
    try {
      url = new URL(redis);
    } catch {
      throw new TypeError(
        'Expected `redis` to be a redis:// or rediss:// URL, got a string that is not a URL',
      );
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new TypeError(`Expected \`redis\` to be a redis:// or rediss:// URL, got a ${url.protocol} URL`);
    }
    return Object.freeze({ kind: 'url', url: redis, secrets: secretsOf(url.username, url.password) });
  }
  const client = redis as Partial<Redis> | null | undefined;
  if (
    typeof client === 'object' &&
    client !== null &&
    typeof client.evalsha === 'function' &&
    typeof client.duplicate === 'function' &&
    typeof client.on === 'function'
  ) {
    const { username, password } = client.options ?? {};
    return Object.freeze({ kind: 'client', client: client as Redis, secrets: secretsOf(username, password) });
  }
  throw new TypeError(
    `Expected \`redis\` to be a redis:// URL or an ioredis client, got ${redis === null ? 'null' : typeof redis}`,
  );
}

/** The credential strings to scrub from anything reported; URL-encoded and decoded forms both. */
function secretsOf(...values: (string | undefined)[]): readonly string[] {
  const secrets = new Set<string>();
  for (const value of values) {
    // Redis's built-in user name is no secret, and scrubbing it would garble its own error messages.
    if (!value || value === 'default') continue;
    secrets.add(value);
    try {
      secrets.add(decodeURIComponent(value));
    } catch {
      // A malformed escape: the raw form is all there is.
    }
  }
  return Object.freeze([...secrets]);
}

function integerOption(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`Expected \`${name}\` to be an integer number of ms, got ${describe(value)}`);
  }
  if (value < min) throw new RangeError(`Expected \`${name}\` to be at least ${min}, got ${value}`);
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return typeof value;
}
