import { randomUUID } from 'node:crypto';
import { bounded, type CommandLimit } from './command.js';
import type { SharedKeys } from './keys.js';
import { LuaScript } from './scripts.js';

/**
 * Adds a silence unless it conflicts or the set is full, in one step, so two
 * replicas adding at once can neither both pass the limit nor both add the
 * same silence. On the way it deletes records that have ended (so the hash
 * never holds more than the limit of live records plus those that ended
 * since the last add). Records it cannot read are left alone (the replicas
 * report them) and not counted.
 * KEYS: silences hash, version key.
 * ARGV: id, record, startsAt, endsAt, matchers key, limit, now (ms), new version.
 * Returns `{'ok'}`, `{'conflict', id}` or `{'limit'}`.
 */
const ADD = new LuaScript(
  `
local now = tonumber(ARGV[7])
local new_start = tonumber(ARGV[3])
local new_end = tonumber(ARGV[4])
local live = 0
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local ok, record = pcall(cjson.decode, fields[i + 1])
  if ok and type(record) == 'table' and type(record.startsAt) == 'number' and type(record.endsAt) == 'number' then
    if record.endsAt <= now then
      redis.call('HDEL', KEYS[1], fields[i])
    else
      live = live + 1
      local key = nil
      if type(record.matchers) == 'string' then
        key = 's:' .. record.matchers
      elseif type(record.matchers) == 'table' then
        local ok_names, joined = pcall(table.concat, record.matchers, '\\n')
        if ok_names then key = 'n:' .. joined end
      end
      if key == ARGV[5] and record.startsAt < new_end and new_start < record.endsAt then
        return {'conflict', fields[i]}
      end
    end
  end
end
if live >= tonumber(ARGV[6]) then
  return {'limit'}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[8])
return {'ok'}
`,
  2,
);

/**
 * Deletes one silence. KEYS: silences hash, version key. ARGV: id, new version.
 * Returns 1 when it was there.
 */
const EXPIRE = new LuaScript(
  `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('SET', KEYS[2], ARGV[2])
return 1
`,
  2,
);

/**
 * Reads the version and every record at one instant. A record longer than
 * the bound is replaced by its length, so it is never sent. A hash of more
 * than `max fields` entries is not read at all (its size is returned instead).
 * KEYS: silences hash, version key. ARGV: max fields, max record length.
 * Returns `{version or false, {field, value or length, ...}}` or `{version or false, size}`.
 */
const LOAD = new LuaScript(
  `
local version = redis.call('GET', KEYS[2])
local size = redis.call('HLEN', KEYS[1])
if size > tonumber(ARGV[1]) then
  return {version, size}
end
local max = tonumber(ARGV[2])
local fields = redis.call('HGETALL', KEYS[1])
for i = 2, #fields, 2 do
  if #fields[i] > max then fields[i] = #fields[i] end
end
return {version, fields}
`,
  2,
);

/** The command connection (whatever kind the scripts run on: one server, or a Cluster). @internal */
export type SilenceClient = Parameters<LuaScript['run']>[0];

/** What the add script answered. @internal */
export type AddOutcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'conflict'; readonly existing: string }
  | { readonly kind: 'limit' };

/** The silence to add, encoded. @internal */
export interface SilenceWrite {
  readonly id: string;
  readonly record: string;
  readonly startsAt: number;
  readonly endsAt: number;
  readonly matchersKey: string;
}

/** Everything the hash held: records by id (a number for one too long to read), with the version. @internal */
export type LoadedSilences =
  | {
      readonly kind: 'records';
      readonly version: string | null;
      readonly records: ReadonlyMap<string, string | number>;
    }
  | { readonly kind: 'too-many'; readonly version: string | null; readonly size: number };

/**
 * The shared silences in Redis: a hash with one field per silence id (so two
 * replicas changing different silences never overwrite each other) and a
 * version key set to a fresh random value at every change. Every call
 * bounded by the command limit. @internal
 */
export class RedisSilenceStore {
  readonly #client: SilenceClient;
  readonly #keys: readonly [string, string];
  readonly #limit: CommandLimit;

  constructor(
    client: SilenceClient,
    keys: Pick<SharedKeys, 'silences' | 'silencesVersion'>,
    limit: CommandLimit,
  ) {
    this.#client = client;
    this.#keys = [keys.silences, keys.silencesVersion];
    this.#limit = limit;
  }

  /** Whether the command connection is up (commands fail at once otherwise). */
  get ready(): boolean {
    return this.#client.status === 'ready';
  }

  /** Adds `silence` unless one with the same matchers overlaps it or `limit` are live at `now`. */
  async add(silence: SilenceWrite, limit: number, now: number): Promise<AddOutcome> {
    const args = [
      silence.id,
      silence.record,
      silence.startsAt,
      silence.endsAt,
      silence.matchersKey,
      limit,
      Math.floor(now),
      randomUUID(),
    ];
    const reply = await bounded(this.#limit, ADD.run(this.#client, this.#keys, args), { keepAlive: true });
    const [kind, existing] = Array.isArray(reply) ? (reply as unknown[]) : [];
    if (kind === 'ok' || kind === 'limit') return { kind };
    if (kind === 'conflict' && typeof existing === 'string') return { kind, existing };
    throw new Error('unexpected reply to the silence add script');
  }

  /** Deletes silence `id`; `false` when Redis did not hold it. */
  async expire(id: string): Promise<boolean> {
    const reply = await bounded(this.#limit, EXPIRE.run(this.#client, this.#keys, [id, randomUUID()]), {
      keepAlive: true,
    });
    return Number(reply) === 1;
  }

  /** The current version: changes with every change made through this store. */
  async version(): Promise<string | null> {
    return await bounded(this.#limit, this.#client.get(this.#keys[1]));
  }

  /** Every record, unless the hash holds more than `maxFields`; records over `maxLength` come as their length. */
  async load(maxFields: number, maxLength: number): Promise<LoadedSilences> {
    const reply = await bounded(this.#limit, LOAD.run(this.#client, this.#keys, [maxFields, maxLength]));
    if (!Array.isArray(reply) || reply.length !== 2)
      throw new Error('unexpected reply to the silence read script');
    const [rawVersion, body] = reply as [unknown, unknown];
    const version = typeof rawVersion === 'string' ? rawVersion : null;
    if (typeof body === 'number') return { kind: 'too-many', version, size: body };
    if (!Array.isArray(body)) throw new Error('unexpected reply to the silence read script');
    const records = new Map<string, string | number>();
    for (let i = 0; i + 1 < body.length; i += 2) {
      const field: unknown = body[i];
      const value: unknown = body[i + 1];
      if (typeof field === 'string' && (typeof value === 'string' || typeof value === 'number'))
        records.set(field, value);
    }
    return { kind: 'records', version, records };
  }
}
