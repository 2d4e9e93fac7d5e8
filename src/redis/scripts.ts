import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

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

  async run(client: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.#sha, this.#keys, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await client.eval(this.#source, this.#keys, ...keys, ...args);
    }
  }
}

/**
 * Takes the lease if nobody holds it. The value is `<token>:<replicaId>`,
 * where the token comes from a counter that only grows, so every tenure is
 * told apart even when the same replica leads twice.
 * KEYS: lease, token counter. ARGV: replica id, ttl (ms).
 * Returns `{1, value}` when taken, else `{0, remaining ttl in ms}`.
 */
export const ACQUIRE = new LuaScript(
  `
local token = tonumber(redis.call('GET', KEYS[2]) or '0') + 1
local value = token .. ':' .. ARGV[1]
if redis.call('SET', KEYS[1], value, 'NX', 'PX', ARGV[2]) then
  redis.call('INCR', KEYS[2])
  return {1, value}
end
return {0, redis.call('PTTL', KEYS[1])}
`,
  2,
);

/**
 * Extends the lease, only if it is still ours.
 * KEYS: lease. ARGV: our lease value, ttl (ms). Returns 1 or 0.
 */
export const RENEW = new LuaScript(
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then
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
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`,
  1,
);

/**
 * Writes a batch of status records and publishes the ones accepted.
 * Fencing: nothing is written unless the lease still holds our value (our
 * token), so a leader that was paused past its lease cannot overwrite what
 * its successor wrote; and a record is skipped when the stored one comes
 * from a later check (higher checkedAt), so results never go backwards.
 * (Comparing stored tokens too would lock every leader out for good if the
 * counter were ever reset while the hash survived.)
 * KEYS: lease, status hash. ARGV: our lease value, channel, then
 * (name, checkedAt, record) triples. Returns how many were written, or -1
 * when the lease is no longer ours.
 */
export const WRITE = new LuaScript(
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return -1
end
local accepted = {}
for i = 3, #ARGV, 3 do
  local name, checked, record = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
  local keep = true
  local stored = redis.call('HGET', KEYS[2], name)
  if stored then
    local ok, old = pcall(cjson.decode, stored)
    if ok and type(old) == 'table' then
      keep = (tonumber(old.checkedAt) or 0) <= checked
    end
  end
  if keep then
    redis.call('HSET', KEYS[2], name, record)
    accepted[#accepted + 1] = record
  end
end
if #accepted > 0 then
  redis.call('PUBLISH', ARGV[2], '[' .. table.concat(accepted, ',') .. ']')
end
return #accepted
`,
  2,
);
