/**
 * Alert state in Redis under the lease's fencing token: the coordinator that
 * makes `provider-health/alerts` send exactly once per event across the
 * replicas of a {@link SharedHealthCache}.
 *
 * Only the lease holder sends. Its engine records every decision in the
 * state's outbox and saves it (the SAVE script refuses a token that is not the
 * lease's) before delivering; a delivery done is settled (taken out of the
 * outbox) and saved again. A new leader loads the state and delivers what the
 * outbox still holds, with the same notification ids. The one window: a
 * leader that dies after a receiver accepted a notification and before the
 * settle reached Redis (about one round trip) leaves it in the outbox, and
 * the next leader delivers it again with the same `webhook-id` / `dedup_key`.
 */
import type { AlertCoordinator } from '../alerts/coordinator.js';
import { parseAlertState } from '../alerts/state-codec.js';
import { AlertStateFencedError, type AlertEngineState, type AlertStateStore } from '../alerts/state.js';
import type { Clock } from '../clock.js';
import type { HealthEvent } from '../events.js';
import { numberOption, optionsObject } from '../validate.js';
import { bounded, type CommandLimit } from './command.js';
import { loadIoredis, openClient as openSharedClient, reconnectDelay, scrubError } from './connection.js';
import { resolveTarget, type ClusterRedis, type RedisTarget, type SentinelRedis } from './target.js';
import type { RoleChange, ReplicaRole } from './events.js';
import { groupKey, sharedKeys } from './keys.js';
import { LuaScript } from './scripts.js';
import type { RedisClient } from './target.js';

/** The largest alert state kept: 32 MiB (about 100,000 providers firing at once). */
export const MAX_ALERT_STATE_BYTES = 32 * 1024 * 1024;

/**
 * Saves the state, only under the lease's current token.
 * KEYS: lease, alert state. ARGV: our token, the state (JSON).
 * Stored as `<token>\n<json>`. Returns 1 when saved, 0 when the lease is not
 * held under our token, -1 when a later token already saved.
 */
const SAVE = new LuaScript(
  `
if redis.call('TYPE', KEYS[1]).ok ~= 'string' then return 0 end
local held = tonumber(string.match(redis.call('GET', KEYS[1]), '^(%d+):'))
local token = tonumber(ARGV[1])
if held ~= token then return 0 end
if redis.call('TYPE', KEYS[2]).ok == 'string' then
  local stored = tonumber(string.match(redis.call('GETRANGE', KEYS[2], 0, 20), '^(%d+)\\n'))
  if stored ~= nil and stored > token then return -1 end
end
redis.call('DEL', KEYS[2])
redis.call('SET', KEYS[2], ARGV[1] .. '\\n' .. ARGV[2])
return 1
`,
  2,
);

/**
 * Reads the state when it is at most ARGV[1] bytes. KEYS: alert state.
 * Returns `{1, value}`, `{0}` when there is none (or another type), `{-1, size}` when too large.
 */
const LOAD = new LuaScript(
  `
if redis.call('TYPE', KEYS[1]).ok ~= 'string' then return {0} end
local size = redis.call('STRLEN', KEYS[1])
if size > tonumber(ARGV[1]) then return {-1, size} end
return {1, redis.call('GET', KEYS[1])}
`,
  1,
);

/** What the coordinator needs of the shared cache: its role, token and key prefix. */
export interface AlertLeaseSource {
  readonly role: ReplicaRole;
  readonly leaseToken: number | undefined;
  readonly onRoleChange: HealthEvent<RoleChange>;
  readonly sharing: { readonly key: string; readonly commandTimeout: number };
  readonly options: { readonly clock: Clock };
}

/** Options of {@link redisAlertCoordinator}. */
export interface RedisAlertCoordinatorOptions {
  /**
   * The Redis the cache shares, in any form `SharedHealthCache` takes: a
   * `redis://` URL, `{ sentinels, name }` or `{ cluster }` (a connection of
   * its own is opened, closed by `close()`), or an ioredis client the caller
   * owns. Never quoted in any message.
   */
  readonly redis: string | RedisClient | SentinelRedis | ClusterRedis;
  /** One Redis call's bound. Default: the cache's `commandTimeout`. */
  readonly commandTimeout?: number | undefined;
  /** Trouble worth a log line: a saved state that could not be read (alerting then starts afresh), connection errors. */
  readonly onError?: ((error: Error) => void) | undefined;
}

/** An {@link AlertCoordinator} that can also close the connection it opened. */
export interface RedisAlertCoordinator extends AlertCoordinator {
  /** The Redis key holding the state. */
  readonly key: string;
  close(): Promise<void>;
}

/**
 * The coordinator for `new Alerting(cache, { coordinator })` in shared mode:
 * a term while this replica holds the lease, the state saved under its
 * fencing token. See the module comment for the exactly-once guarantee.
 * @throws OptionTypeError naming `redis` (never quoting it).
 */
export function redisAlertCoordinator(
  cache: AlertLeaseSource,
  options: RedisAlertCoordinatorOptions,
): RedisAlertCoordinator {
  const init = optionsObject(options, { required: true, scope: 'redisAlertCoordinator' });
  const target = resolveTarget(init.redis);
  const secrets = target.secrets;
  const prefix = cache.sharing.key;
  const keys = { lease: sharedKeys(prefix).lease, alerts: groupKey(prefix, 'alerts') };
  const limit: CommandLimit = {
    clock: cache.options.clock,
    timeout: numberOption('commandTimeout', init.commandTimeout, cache.sharing.commandTimeout, { min: 1 }),
  };
  const report = (error: unknown): void => init.onError?.(scrubError(error, secrets));
  let client: Promise<RedisClient> | undefined;
  const connect = (): Promise<RedisClient> =>
    (client ??=
      target.kind === 'client'
        ? Promise.resolve(target.client)
        : target.kind === 'url'
          ? openClient(target.url, limit.timeout, report)
          : openTargetClient(target, limit.timeout, report));

  const load = async (): Promise<AlertEngineState | undefined> => {
    const reply = await bounded(limit, LOAD.run(await connect(), [keys.alerts], [MAX_ALERT_STATE_BYTES]), {
      keepAlive: true,
    });
    const [found, value] = Array.isArray(reply) ? (reply as [unknown, unknown]) : [0, undefined];
    if (found === -1) {
      report(
        new Error(`alert state in ${keys.alerts} is larger than ${MAX_ALERT_STATE_BYTES} bytes: ignored`),
      );
      return undefined;
    }
    if (found !== 1 || typeof value !== 'string') return undefined;
    try {
      return parseAlertState(JSON.parse(value.slice(value.indexOf('\n') + 1)));
    } catch (error) {
      report(new Error(`alert state in ${keys.alerts} ignored: ${(error as Error).message.slice(0, 300)}`));
      return undefined;
    }
  };

  return {
    key: keys.alerts,
    onChange: cache.onRoleChange,
    term: () => (cache.role === 'leader' ? cache.leaseToken : undefined),
    async open(token: number): Promise<AlertStateStore> {
      const state = await load();
      return {
        load: () => state,
        async save(next: AlertEngineState): Promise<void> {
          // Serialised now: the engine goes on changing the object.
          const json = JSON.stringify(next);
          if (json.length > MAX_ALERT_STATE_BYTES)
            throw new Error(
              `alert state of ${json.length} bytes is over ${MAX_ALERT_STATE_BYTES}: not saved`,
            );
          const saved = await bounded(
            limit,
            SAVE.run(await connect(), [keys.lease, keys.alerts], [token, json]),
          );
          if (saved !== 1) throw new AlertStateFencedError();
        },
      };
    },
    peek: () => load(),
    async close(): Promise<void> {
      const opened = client;
      client = undefined;
      if (opened === undefined || target.kind === 'client') return; // a caller's client stays open
      const connection = await opened.catch(() => undefined);
      connection?.disconnect();
    },
  };
}

/** A Sentinel or Cluster connection of our own, opened as the cache opens its own; errors reported once each. */
async function openTargetClient(
  target: RedisTarget,
  timeout: number,
  report: (error: unknown) => void,
): Promise<RedisClient> {
  const connection = await openSharedClient({ target, commandTimeout: timeout });
  onceEach(connection, report);
  return connection;
}

/** Reports each distinct problem once per outage: a Redis that is away for an hour is one line, not thousands. */
function onceEach(connection: RedisClient, report: (error: unknown) => void): void {
  let last: string | undefined;
  connection.on('error', (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    if (message !== last) report(error);
    last = message;
  });
  connection.on('ready', () => (last = undefined));
}

/** A command connection of our own, failing fast while Redis is away (saves are retried by the engine). */
async function openClient(
  url: string,
  timeout: number,
  report: (error: unknown) => void,
): Promise<RedisClient> {
  const Redis = await loadIoredis();
  const connection = new Redis(url, {
    connectionName: 'provider-health-alerts',
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    commandTimeout: timeout,
    connectTimeout: Math.max(1_000, timeout),
    retryStrategy: reconnectDelay,
    disableClientInfo: true,
  });
  onceEach(connection, report);
  return connection;
}
