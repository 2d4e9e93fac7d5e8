import { LuaScript, REDIS_NOW } from './scripts.js';

/**
 * The Lua scripts of sharded polling. Membership is one sorted set: each
 * member is `<token>:<replicaId>` scored by when it expires on Redis's clock,
 * so a replica's membership is also its fence (its writes need its entry
 * alive). Entries already expired, or dated further ahead than twice the TTL
 * (garbage: it would hold a share nobody polls), are removed by every call.
 */

/** Removes expired and out-of-range entries (a key of another type entirely); `now`, `ttl` in scope. */
const PRUNE = `
local kind = redis.call('TYPE', KEYS[1]).ok
if kind ~= 'zset' and kind ~= 'none' then redis.call('DEL', KEYS[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '(' .. (now + 2 * ttl), '+inf')
`;

/**
 * Joins: draws a new token from the shared counter (rebuilt above the
 * tokens in the set when it is not a number), drops an earlier entry of the
 * same replica id (a restart), adds ours and tells the others.
 * KEYS: members, token counter. ARGV: replica id, ttl (ms), membership channel.
 * Returns `{value, members}`.
 */
export const JOIN = new LuaScript(
  `${REDIS_NOW}
local now = redis_now()
local ttl = tonumber(ARGV[2])
${PRUNE}
local entries = redis.call('ZRANGE', KEYS[1], 0, -1)
local counter = nil
if redis.call('TYPE', KEYS[2]).ok == 'string' then
  local text = redis.call('GET', KEYS[2])
  if string.match(text, '^%d+$') and #text <= 15 then counter = tonumber(text) end
end
local rebuild = counter == nil
counter = counter or 0
for i = 1, #entries do
  local token, id = string.match(entries[i], '^(%d+):(.+)$')
  if id == ARGV[1] then redis.call('ZREM', KEYS[1], entries[i]) end
  if rebuild and token and #token <= 15 and tonumber(token) > counter then counter = tonumber(token) end
end
if rebuild then redis.call('DEL', KEYS[2]) end
local token = counter + 1
redis.call('SET', KEYS[2], token)
local value = token .. ':' .. ARGV[1]
redis.call('ZADD', KEYS[1], now + ttl, value)
redis.call('PUBLISH', ARGV[3], 'join')
return {value, redis.call('ZRANGE', KEYS[1], 0, -1)}
`,
  2,
);

/**
 * Extends our membership if it is still alive.
 * KEYS: members. ARGV: our value, ttl (ms).
 * Returns `{1 or 0, members}`: 0 when our entry expired (others took our share).
 */
export const HEARTBEAT = new LuaScript(
  `${REDIS_NOW}
local now = redis_now()
local ttl = tonumber(ARGV[2])
${PRUNE}
local alive = 0
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[1])
  alive = 1
end
return {alive, redis.call('ZRANGE', KEYS[1], 0, -1)}
`,
  1,
);

/**
 * Leaves at once (on the way out), so the others take our share without waiting for the TTL.
 * KEYS: members. ARGV: our value, membership channel. Returns 1 or 0.
 */
export const LEAVE = new LuaScript(
  `
if redis.call('TYPE', KEYS[1]).ok ~= 'zset' then return 0 end
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
if removed == 1 then redis.call('PUBLISH', ARGV[2], 'leave') end
return removed
`,
  1,
);

/**
 * A member's batch write, like the leader's (see `WRITE`), fenced by its
 * membership: nothing is written unless our entry is alive on Redis's clock.
 * Records of one member are ordered by `checkedAt` (one clock); across
 * members (a provider that moved) by when each check happened on Redis's
 * clock, `writtenAt − age`, so a late write of a former owner never replaces
 * a newer result and no two replicas' clocks are compared.
 * KEYS: members, status hash. ARGV: our value, channel, token, mode (`fill`
 * or `write`), then (name, checkedAt, age, record) quadruples.
 * Returns how many were written, or -1 when our membership is gone.
 */
export const WRITE_SHARD = new LuaScript(
  `${REDIS_NOW}
local now = redis_now()
if redis.call('TYPE', KEYS[1]).ok ~= 'zset' then return -1 end
local expires = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
if expires == nil or expires <= now then return -1 end
local token = tonumber(ARGV[3])
local fill = ARGV[4] == 'fill'
local stamp = '{"writtenAt":' .. now .. ','
local accepted = {}
for i = 5, #ARGV, 4 do
  local name, checked, age, record = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), ARGV[i + 3]
  local keep = true
  local stored = redis.call('HGET', KEYS[2], name)
  if stored and fill then
    keep = false
  elseif stored then
    local ok, old = pcall(cjson.decode, stored)
    if ok and type(old) == 'table' then
      if old.token == token then
        keep = (tonumber(old.checkedAt) or 0) <= checked
      elseif type(old.writtenAt) == 'number' then
        keep = (old.writtenAt - (tonumber(old.age) or 0)) <= (now - age)
      end
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
