/**
 * The Lua scripts of the Redis store: each a read-check-write that Redis runs atomically, so a
 * lease check and the effect it guards cannot be split by another node's write. They do what
 * memory-store.ts does (the reference the unit tests pin down); times are the server's `TIME`.
 *
 * Tokens are formatted with %.0f: Lua 5.1's tostring would print 1.7e+15 for a microsecond clock.
 * A lease's value is `node:token`; a node id may contain ':', so the token is after the LAST one.
 */

/** Server time in microseconds, and the helpers every script shares. */
const PRELUDE = `
local t = redis.call('TIME')
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function fmt(n) return string.format('%.0f', n) end
`;

/**
 * KEYS[1] nodes zset, KEYS[2..1+h] the held slots' leases, KEYS[2+h..] every slot's lease.
 * ARGV[1] node, ARGV[2] ttl ms, ARGV[3] h, ARGV[4..3+h] the held slots' tokens.
 * Returns { seconds, microseconds, renewed flags, live nodes, holder values ('' = free) }.
 */
export const ROUND = `${PRELUDE}
local node, ttl, h = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], fmt(nowUs + ttl * 1000), node)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', fmt(nowUs))
redis.call('PEXPIRE', KEYS[1], ttl * 4)
local renewed = {}
for i = 1, h do
  if redis.call('GET', KEYS[1 + i]) == node .. ':' .. ARGV[3 + i] then
    redis.call('PEXPIRE', KEYS[1 + i], ttl)
    renewed[i] = 1
  else
    renewed[i] = 0
  end
end
local holders = {}
for i = 2 + h, #KEYS do holders[#holders + 1] = redis.call('GET', KEYS[i]) or '' end
return { t[1], t[2], renewed, redis.call('ZRANGE', KEYS[1], 0, -1), holders }
`;

/** KEYS[1] lease, KEYS[2] fence. ARGV[1] node, ARGV[2] ttl ms. Returns { 1, token, s, us } or { 0, holder value, s, us }. */
export const ACQUIRE = `${PRELUDE}
local held = redis.call('GET', KEYS[1])
if held then return { 0, held, t[1], t[2] } end
local token = fmt(math.max(tonumber(redis.call('GET', KEYS[2]) or '0') + 1, nowUs))
redis.call('SET', KEYS[2], token)
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token, 'PX', ARGV[2])
return { 1, token, t[1], t[2] }
`;

/** KEYS[1] lease. ARGV[1] node, ARGV[2] token. Returns 1 when released. */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] .. ':' .. ARGV[2] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * KEYS[1] lease, KEYS[2] the limit's bookings (zset of server microseconds).
 * ARGV[1] node, ARGV[2] token, ARGV[3] count, ARGV[4] span us (W + 2 guard), ARGV[5] not-before us,
 * ARGV[6..] candidates (ascending). Returns { -1 } when stale, else the admitted candidates.
 * The rule of sliding-log.ts: any count + 1 consecutive bookings span at least `span`.
 */
export const BOOK = `${PRELUDE}
if redis.call('GET', KEYS[1]) ~= ARGV[1] .. ':' .. ARGV[2] then return { -1 } end
local count, span, notBefore = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', fmt(nowUs - span))
local admitted = {}
for i = 6, #ARGV do
  local c = tonumber(ARGV[i])
  if c >= nowUs and c >= notBefore then
    local before = redis.call('ZREVRANGEBYSCORE', KEYS[2], '(' .. fmt(c), '-inf', 'WITHSCORES', 'LIMIT', 0, count)
    local after = redis.call('ZRANGEBYSCORE', KEYS[2], fmt(c), '+inf', 'WITHSCORES', 'LIMIT', 0, count)
    local around = {}
    for j = #before, 2, -2 do around[#around + 1] = tonumber(before[j]) end
    local self = #around + 1
    around[self] = c
    for j = 2, #after, 2 do around[#around + 1] = tonumber(after[j]) end
    local ok = true
    for first = math.max(1, self - count), self do
      local last = first + count
      if last > #around then break end
      if around[last] - around[first] < span then ok = false break end
    end
    if ok then
      redis.call('ZADD', KEYS[2], fmt(c), ARGV[1] .. ':' .. ARGV[2] .. ':' .. fmt(c) .. ':' .. i)
      admitted[#admitted + 1] = fmt(c)
    end
  end
end
redis.call('PEXPIRE', KEYS[2], math.ceil(span / 1000) * 2 + 60000)
return admitted
`;

/** KEYS[1] lease, KEYS[2] stream. ARGV[1] node, ARGV[2] token, ARGV[3] group, ARGV[4] count. Returns -1 when stale, else XREADGROUP's entries. */
export const TAKE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] .. ':' .. ARGV[2] then return -1 end
local r = redis.call('XREADGROUP', 'GROUP', ARGV[3], ARGV[1], 'COUNT', ARGV[4], 'STREAMS', KEYS[2], '>')
if not r then return {} end
return r[1][2]
`;

/** KEYS[1] lease, KEYS[2] stream. ARGV[1] node, ARGV[2] token, ARGV[3] group, ARGV[4] idle ms, ARGV[5] count. -1 when stale, else the claimed entries. */
export const RECLAIM = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] .. ':' .. ARGV[2] then return -1 end
local r = redis.call('XAUTOCLAIM', KEYS[2], ARGV[3], ARGV[1], ARGV[4], '0-0', 'COUNT', ARGV[5])
return r[2]
`;

/** KEYS[1] epoch. Sets it to the server's time in microseconds unless set; returns { epoch, s, us }. */
export const EPOCH = `${PRELUDE}
redis.call('SET', KEYS[1], fmt(nowUs), 'NX')
return { redis.call('GET', KEYS[1]), t[1], t[2] }
`;
