import { createHash } from 'node:crypto';
import type { RedisClient } from './target.js';

/**
 * A Lua script run with EVALSHA, falling back to EVAL when the server does
 * not know it yet (first use, or after a restart flushed the script cache).
 * It never registers commands on the client, so a client the caller owns is
 * left as it was. @internal
 */
export class LuaScript {
  readonly #source: string;
  readonly #sha: string;
  readonly #keys: number;

  constructor(source: string, keys: number) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
    this.#keys = keys;
  }

  async run(
    client: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await client.evalsha(this.#sha, this.#keys, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await client.eval(this.#source, this.#keys, ...keys, ...args);
    }
  }
}

/** Redis's own clock in ms: the one clock every replica shares. @internal */
export const REDIS_NOW = `
local function redis_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * Takes the lease if nobody holds it. The value is `<token>:<replicaId>`,
 * where the token comes from a counter that only grows, so every tenure is
 * told apart even when the same replica leads twice.
 *
 * Repairs what no replica writes, so garbage cannot stop or split polling:
 * a lease key without expiry or of another type is deleted (ours always
 * expire); a fencing counter that is not a whole number (or of another type)
 * is rebuilt above every token still in use (the lease's and the records').
 * KEYS: lease, token counter, status hash. ARGV: replica id, ttl (ms).
 * Returns `{1, value, repairs}` when taken, else `{0, remaining ttl in ms, repairs, holder's value}`;
 * `repairs` lists what was repaired (`lease-without-expiry`, `lease-not-a-string`, `token-not-a-number`).
 */
export const ACQUIRE = new LuaScript(
  `
local repairs = {}
local lease_type = redis.call('TYPE', KEYS[1]).ok
if lease_type ~= 'none' and lease_type ~= 'string' then
  redis.call('DEL', KEYS[1])
  repairs[#repairs + 1] = 'lease-not-a-string'
elseif lease_type == 'string' and redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('DEL', KEYS[1])
  repairs[#repairs + 1] = 'lease-without-expiry'
end
local counter = nil
local counter_type = redis.call('TYPE', KEYS[2]).ok
if counter_type == 'none' then
  counter = 0
elseif counter_type == 'string' then
  local text = redis.call('GET', KEYS[2])
  if string.match(text, '^%d+$') and #text <= 15 then counter = tonumber(text) end
end
if counter == nil then
  counter = 0
  local held = redis.call('GET', KEYS[1])
  if type(held) == 'string' then counter = tonumber(string.match(held, '^(%d+):')) or 0 end
  if redis.call('TYPE', KEYS[3]).ok == 'hash' then
    local values = redis.call('HVALS', KEYS[3])
    for i = 1, #values do
      local ok, record = pcall(cjson.decode, values[i])
      if ok and type(record) == 'table' and type(record.token) == 'number' and record.token > counter
        and record.token < 1e15 then
        counter = math.floor(record.token)
      end
    end
  end
  redis.call('DEL', KEYS[2])
  redis.call('SET', KEYS[2], counter)
  repairs[#repairs + 1] = 'token-not-a-number'
end
local token = counter + 1
local value = token .. ':' .. ARGV[1]
if redis.call('SET', KEYS[1], value, 'NX', 'PX', ARGV[2]) then
  redis.call('SET', KEYS[2], token)
  return {1, value, repairs}
end
return {0, redis.call('PTTL', KEYS[1]), repairs, redis.call('GET', KEYS[1])}
`,
  3,
);

/**
 * Extends the lease, only if it is still ours.
 * KEYS: lease. ARGV: our lease value, ttl (ms). Returns 1 or 0.
 */
export const RENEW = new LuaScript(
  `
if redis.call('TYPE', KEYS[1]).ok == 'string' and redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`,
  1,
);

/**
 * Gives the lease up, only if it is still ours, so a follower can take it
 * at once instead of waiting for it to expire.
 * KEYS: lease. ARGV: our lease value. Returns 1 or 0.
 */
export const RELEASE = new LuaScript(
  `
if redis.call('TYPE', KEYS[1]).ok == 'string' and redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`,
  1,
);

/**
 * Writes a batch of status records and publishes the ones accepted, each
 * stamped with `writtenAt`, Redis's clock at the write (readers date a
 * record by it, so replicas' clocks never have to agree).
 * Fencing: nothing is written unless the lease still holds our value, so a
 * leader paused past its lease cannot overwrite what its successor wrote.
 * A record replaces one of another tenure (the lease holder is the
 * authority), but not a later check of the same tenure (same token, higher
 * checkedAt, measured on one clock), so results never go backwards.
 * In `fill` mode (a new leader sharing what it knew) only missing records are written.
 * KEYS: lease, status hash. ARGV: our lease value, channel, token, mode
 * (`fill` or `write`), then (name, checkedAt, record) triples; each record a
 * JSON object. Returns how many were written, or -1 when the lease is not ours.
 */
export const WRITE = new LuaScript(
  `${REDIS_NOW}
if redis.call('TYPE', KEYS[1]).ok ~= 'string' or redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return -1
end
local token = tonumber(ARGV[3])
local fill = ARGV[4] == 'fill'
local stamp = '{"writtenAt":' .. redis_now() .. ','
local accepted = {}
for i = 5, #ARGV, 3 do
  local name, checked, record = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
  local keep = true
  local stored = redis.call('HGET', KEYS[2], name)
  if stored and fill then
    keep = false
  elseif stored then
    local ok, old = pcall(cjson.decode, stored)
    if ok and type(old) == 'table' and old.token == token then
      keep = (tonumber(old.checkedAt) or 0) <= checked
    end
  end
  if keep then
    local stamped = stamp .. string.sub(record, 2)
    redis.call('HSET', KEYS[2], name, stamped)
    accepted[#accepted + 1] = stamped
  end
end
if #accepted > 0 then
  redis.call('PUBLISH', ARGV[2], '[' .. table.concat(accepted, ',') .. ']')
end
return #accepted
`,
  2,
);

/**
 * Reads the records of the given providers (only those: fields of other
 * names, however many, are never read), with Redis's clock at that moment,
 * so a reader can tell how long ago each was written.
 * KEYS: status hash. ARGV: provider names.
 * Returns `{now ms, {record or false, ...}}` in the order of the names; a key of another type reads as empty.
 */
export const LOAD = new LuaScript(
  `${REDIS_NOW}
local now = redis_now()
if #ARGV == 0 or redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return {now, {}} end
return {now, redis.call('HMGET', KEYS[1], unpack(ARGV))}
`,
  1,
);
