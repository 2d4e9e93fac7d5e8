import type { Cluster, Redis } from 'ioredis';
import { OptionTypeError } from '../errors.js';
import { optionRangeError, optionTypeError } from '../validate.js';

/** A command connection of either kind: one server (possibly found through Sentinel) or a Cluster. @internal */
export type RedisClient = Redis | Cluster;

/** A node address: `"host:port"` (IPv6 in brackets: `"[::1]:6379"`) or `{ host, port }`. */
export type RedisNode = string | { readonly host: string; readonly port?: number | undefined };

/** Credentials and TLS shared by the Sentinel and Cluster forms. */
export interface RedisAuth {
  /** ACL user of the Redis servers (not of the sentinels). */
  readonly username?: string | undefined;
  /** Password of the Redis servers. Never quoted in any message. */
  readonly password?: string | undefined;
  /** Connect with TLS. Default false. */
  readonly tls?: boolean | undefined;
}

/**
 * Redis behind Sentinel: the cache asks the sentinels for the master named
 * `name` and follows it through failovers.
 */
export interface SentinelRedis extends RedisAuth {
  /** The sentinels to ask (1 to 64): `"host:port"` or `{ host, port }`; port default 26379. */
  readonly sentinels: readonly RedisNode[];
  /** The master's name in the sentinels' configuration (`sentinel monitor <name> …`). */
  readonly name: string;
  /** Password of the sentinels, when they have one. */
  readonly sentinelPassword?: string | undefined;
  /** Logical database. Default 0. */
  readonly db?: number | undefined;
}

/** A Redis Cluster: the seed nodes (1 to 64) from which ioredis learns the rest; port default 6379. */
export interface ClusterRedis extends RedisAuth {
  readonly cluster: readonly RedisNode[];
}

/** A node, resolved. @internal */
export interface NodeAddress {
  readonly host: string;
  readonly port: number;
}

/** Where a {@link SharedHealthCache} connects, with the credentials kept apart. @internal */
export type RedisTarget = { readonly secrets: readonly string[] } & (
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'client'; readonly client: RedisClient }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly NodeAddress[];
      readonly name: string;
      readonly auth: ResolvedAuth;
      readonly sentinelPassword: string | undefined;
      readonly db: number;
    }
  | { readonly kind: 'cluster'; readonly nodes: readonly NodeAddress[]; readonly auth: ResolvedAuth }
);

/** Credentials, resolved. @internal */
export interface ResolvedAuth {
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: boolean;
}

/** The most sentinels or seed nodes accepted. */
export const MAX_NODES = 64;

/**
 * Validates the `redis` option: a URL, an ioredis client (`Redis` or
 * `Cluster`), `{ sentinels, name }` or `{ cluster }`. Errors name the option
 * (`redis.sentinels[1]` …) and never quote a URL or password. @internal
 */
export function resolveTarget(redis: unknown): RedisTarget {
  if (typeof redis === 'string') return urlTarget(redis);
  if (typeof redis !== 'object' || redis === null)
    throw optionTypeError('redis', EXPECTED, redis, { secret: true });
  const client = redis as Partial<Redis>;
  if (
    typeof client.evalsha === 'function' &&
    typeof client.duplicate === 'function' &&
    typeof client.on === 'function'
  ) {
    const options = (client as { options?: { username?: string; password?: string; redisOptions?: object } })
      .options;
    const { username, password } = { ...options?.redisOptions, ...options } as {
      username?: string;
      password?: string;
    };
    return Object.freeze({
      kind: 'client',
      client: redis as RedisClient,
      secrets: secretsOf(username, password),
    });
  }
  const form = redis as Partial<SentinelRedis & ClusterRedis>;
  if ('sentinels' in form && 'cluster' in form)
    throw optionTypeError('redis', 'either `sentinels` or `cluster`, not both', redis, { secret: true });
  if ('sentinels' in form) return sentinelTarget(form);
  if ('cluster' in form) return clusterTarget(form);
  throw optionTypeError('redis', EXPECTED, redis, { secret: true });
}

const EXPECTED =
  'a redis:// URL, an ioredis client, { sentinels, name } (Redis Sentinel) or { cluster } (Redis Cluster)';

function urlTarget(redis: string): RedisTarget {
  let url: URL;
  try {
    url = new URL(redis);
  } catch {
    throw urlError('a string that is not a URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw urlError(`a ${url.protocol} URL`);
  return Object.freeze({ kind: 'url', url: redis, secrets: secretsOf(url.username, url.password) });
}

function urlError(got: string): OptionTypeError {
  return new OptionTypeError(`Expected \`redis\` to be a redis:// or rediss:// URL, got ${got}`, {
    option: 'redis',
    value: undefined,
    secret: true,
  });
}

function sentinelTarget(form: Partial<SentinelRedis>): RedisTarget {
  const sentinels = nodesOption('redis.sentinels', form.sentinels, 26379);
  const { name } = form;
  if (typeof name !== 'string' || name.length === 0 || name.length > 200 || /\s/.test(name))
    throw optionTypeError('redis.name', 'the master name (1 to 200 characters, no spaces)', name);
  const auth = authOption(form);
  const sentinelPassword = secretOption('redis.sentinelPassword', form.sentinelPassword);
  const db = form.db ?? 0;
  if (typeof db !== 'number' || !Number.isInteger(db) || db < 0 || db > 15)
    throw optionRangeError('redis.db', 'an integer from 0 to 15', db);
  return Object.freeze({
    kind: 'sentinel',
    sentinels,
    name,
    auth,
    sentinelPassword,
    db,
    secrets: secretsOf(auth.username, auth.password, sentinelPassword),
  });
}

function clusterTarget(form: Partial<ClusterRedis>): RedisTarget {
  const nodes = nodesOption('redis.cluster', form.cluster, 6379);
  const auth = authOption(form);
  return Object.freeze({ kind: 'cluster', nodes, auth, secrets: secretsOf(auth.username, auth.password) });
}

function authOption(form: RedisAuth): ResolvedAuth {
  const tls = form.tls ?? false;
  if (typeof tls !== 'boolean') throw optionTypeError('redis.tls', 'a boolean', tls);
  return Object.freeze({
    username: secretOption('redis.username', form.username),
    password: secretOption('redis.password', form.password),
    tls,
  });
}

function secretOption(option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 4096)
    throw optionTypeError(option, 'a non-empty string of at most 4,096 characters', value, { secret: true });
  return value;
}

function nodesOption(option: string, value: unknown, defaultPort: number): readonly NodeAddress[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_NODES)
    throw optionTypeError(option, `a list of 1 to ${MAX_NODES} "host:port" addresses`, value);
  return Object.freeze(
    value.map((node: unknown, index) => nodeAddress(`${option}[${index}]`, node, defaultPort)),
  );
}

/** `"host:port"`, `"[v6]:port"`, `"host"` or `{ host, port }`. */
function nodeAddress(option: string, node: unknown, defaultPort: number): NodeAddress {
  let host: unknown;
  let port: unknown = defaultPort;
  if (typeof node === 'string') {
    const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(node);
    if (match === null) throw optionTypeError(option, 'a "host:port" address', node);
    host = match[1] ?? match[2];
    if (match[3] !== undefined) port = Number(match[3]);
  } else if (typeof node === 'object' && node !== null) {
    ({ host } = node as { host?: unknown });
    port = (node as { port?: unknown }).port ?? defaultPort;
  }
  if (typeof host !== 'string' || host.length === 0 || host.length > 253 || /[\s/@]/.test(host))
    throw optionTypeError(option, 'a "host:port" address', node);
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535)
    throw optionRangeError(`${option}`, 'an address with a port from 1 to 65535', node);
  return Object.freeze({ host, port });
}

/** The credential strings to scrub from anything reported; URL-encoded and decoded forms both. @internal */
export function secretsOf(...values: (string | undefined)[]): readonly string[] {
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

/** `host:port` of a node, for messages (IPv6 in brackets). @internal */
export function nodeText(node: NodeAddress): string {
  return node.host.includes(':') ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`;
}
