import { bounded, type CommandLimit } from './command.js';
import type { Tenure } from './lease.js';
import { LuaScript, REDIS_NOW } from './scripts.js';
import type { WriteFence } from './store.js';
import type { RedisClient } from './target.js';

/**
 * Writes history entries, fenced like the status records: with the `lease`
 * fence only while the lease key holds our value; with the `membership`
 * fence (sharded) only while our entry in the members set is alive on
 * Redis's clock. A replica paused past its tenure writes nothing.
 * KEYS: lease or members, history hash. ARGV: fence (`lease` or
 * `membership`), our value, then (name, entry) pairs.
 * Returns how many were written, or -1 when the tenure is not ours.
 */
const SAVE = new LuaScript(
  `${REDIS_NOW}
if ARGV[1] == 'membership' then
  if redis.call('TYPE', KEYS[1]).ok ~= 'zset' then return -1 end
  local expires = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[2]))
  if expires == nil or expires <= redis_now() then return -1 end
elseif redis.call('TYPE', KEYS[1]).ok ~= 'string' or redis.call('GET', KEYS[1]) ~= ARGV[2] then
  return -1
end
if redis.call('TYPE', KEYS[2]).ok ~= 'hash' then redis.call('DEL', KEYS[2]) end
local written = 0
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  written = written + 1
end
return written
`,
  2,
);

/**
 * Reads the entries of the given providers (only those) and whether each
 * has a status record. An entry longer than ARGV[1] comes back as its
 * length; a key of another type reads as empty.
 * KEYS: history hash, status hash. ARGV: longest entry, then provider names.
 * Returns `{entries, records}`: per name, the entry (or its length, or false), and 1/0.
 */
const LOAD = new LuaScript(
  `
local limit = tonumber(ARGV[1])
local entries, records = {}, {}
local history = redis.call('TYPE', KEYS[1]).ok == 'hash'
local statuses = redis.call('TYPE', KEYS[2]).ok == 'hash'
for i = 2, #ARGV do
  local entry = false
  if history then
    local size = redis.call('HSTRLEN', KEYS[1], ARGV[i])
    if size > limit then entry = size elseif size > 0 then entry = redis.call('HGET', KEYS[1], ARGV[i]) end
  end
  entries[#entries + 1] = entry
  records[#records + 1] = (statuses and redis.call('HEXISTS', KEYS[2], ARGV[i])) or 0
end
return {entries, records}
`,
  2,
);

/** Names per load call, and entries per save call (Lua's stack bounds one call's arguments). */
const CHUNK = 500;

/** One provider's entry as read: its text, or its length when too long; `undefined` when there is none. @internal */
export interface LoadedEntry {
  readonly entry: string | number | undefined;
  /** Whether Redis holds a status record of the provider (the mirror will restore it). */
  readonly hasRecord: boolean;
}

/** The keys the history store works on. @internal */
export interface HistoryKeys {
  readonly history: string;
  readonly statuses: string;
  readonly lease: string;
  readonly members: string;
}

/** The `{prefix}:history` hash: fenced writes of entries, reads of given providers' entries. @internal */
export class HistoryStore {
  readonly #client: RedisClient;
  readonly #keys: HistoryKeys;
  readonly #limit: CommandLimit;
  readonly #fence: WriteFence;

  constructor(client: RedisClient, keys: HistoryKeys, limit: CommandLimit, fence: WriteFence) {
    this.#client = client;
    this.#keys = keys;
    this.#limit = limit;
    this.#fence = fence;
  }

  /** Whether the connection is up (calls would fail at once otherwise). */
  get ready(): boolean {
    return this.#client.status === 'ready';
  }

  /**
   * Writes `entries` under `tenure`, in chunks. Returns how many were written,
   * or `undefined` as soon as the fence refuses (nothing more is sent).
   */
  async save(tenure: Tenure, entries: readonly (readonly [string, string])[]): Promise<number | undefined> {
    const fenceKey = this.#fence === 'membership' ? this.#keys.members : this.#keys.lease;
    let written = 0;
    for (let start = 0; start < entries.length; start += CHUNK) {
      const args: string[] = [this.#fence, tenure.value];
      for (const [name, entry] of entries.slice(start, start + CHUNK)) args.push(name, entry);
      const reply = await bounded(this.#limit, SAVE.run(this.#client, [fenceKey, this.#keys.history], args));
      if (reply === -1) return undefined;
      written += Number(reply);
    }
    return written;
  }

  /** The entries of `names` (entries over `maxLength` characters as their length). */
  async load(names: readonly string[], maxLength: number): Promise<Map<string, LoadedEntry>> {
    const loaded = new Map<string, LoadedEntry>();
    const { history, statuses } = this.#keys;
    for (let start = 0; start < names.length; start += CHUNK) {
      const chunk = names.slice(start, start + CHUNK);
      const reply = await bounded(
        this.#limit,
        LOAD.run(this.#client, [history, statuses], [maxLength, ...chunk]),
      );
      if (!Array.isArray(reply) || reply.length !== 2)
        throw new Error('unexpected reply to the history read');
      const [entries, records] = reply as [unknown, unknown];
      chunk.forEach((name, i) => {
        const entry: unknown = Array.isArray(entries) ? entries[i] : undefined;
        loaded.set(name, {
          entry: typeof entry === 'string' || typeof entry === 'number' ? entry : undefined,
          hasRecord: Array.isArray(records) && records[i] === 1,
        });
      });
    }
    return loaded;
  }
}
