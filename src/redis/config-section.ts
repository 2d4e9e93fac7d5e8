import type { ClusterRedis, SentinelRedis } from './target.js';

/** The connection keys of the CLI config's `redis:` section (validated by the CLI schema, then by the cache). */
export interface RedisSection {
  readonly url?: string | undefined;
  readonly sentinels?: readonly string[] | undefined;
  readonly name?: string | undefined;
  readonly cluster?: readonly string[] | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly sentinelPassword?: string | undefined;
  readonly tls?: boolean | undefined;
}

/** The `redis` option a config section describes, and a line for the log (a URL still needs `redactSecrets`). */
export interface RedisConnection {
  readonly redis: string | SentinelRedis | ClusterRedis;
  readonly display: string;
}

/**
 * The `redis` option of `SharedHealthCache` from the config: the URL from
 * the environment or `url` (one server), else `sentinels` (+ `name`) for
 * Redis Sentinel, else `cluster` for Redis Cluster; `undefined` when none
 * is given. Bad values are left for the cache's validation, which names
 * the option (`redis.sentinels[1]` …).
 */
export function redisConnection(
  section: RedisSection | undefined,
  envUrl: string | undefined,
): RedisConnection | undefined {
  const url = envUrl ?? section?.url;
  if (url !== undefined) return { redis: url, display: url };
  if (section === undefined) return undefined;
  const { username, password, tls } = section;
  const auth = {
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(tls === undefined ? {} : { tls }),
  };
  if (section.sentinels !== undefined) {
    const { sentinels, name = '', sentinelPassword } = section;
    return {
      redis: { sentinels, name, ...auth, ...(sentinelPassword === undefined ? {} : { sentinelPassword }) },
      display: `Redis Sentinel master ${JSON.stringify(name)} via ${sentinels.join(', ')}`,
    };
  }
  if (section.cluster !== undefined) {
    return {
      redis: { cluster: section.cluster, ...auth },
      display: `Redis Cluster via ${section.cluster.join(', ')}`,
    };
  }
  return undefined;
}
