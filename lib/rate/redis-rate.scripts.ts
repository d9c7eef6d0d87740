/**
 * Lua scripts of `RedisRateGovernor`. Each runs atomically in Redis and reads Redis's clock, so
 * every process judges the window by the same time.
 */

/**
 * Grants one call or says how long to wait.
 * KEYS: 1 window (sorted set of grant times), 2 bucket block, 3 daily counter, 4 daily block, 5 calls made.
 * ARGV: 1 limit, 2 window ms, 3 daily limit (0 = none), 4 unique member, 5 ms until the day ends.
 * Returns {0, 0} granted, {waitMs, 0} wait, {-1, retryAfterMs} daily quota spent.
 */
export const ACQUIRE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local dailyBlock = redis.call('PTTL', KEYS[4])
if dailyBlock > 0 then return {-1, dailyBlock} end
local dailyLimit = tonumber(ARGV[3])
if dailyLimit > 0 then
  local used = tonumber(redis.call('GET', KEYS[3]) or '0')
  if used >= dailyLimit then return {-1, tonumber(ARGV[5])} end
end
local block = redis.call('PTTL', KEYS[2])
if block > 0 then return {block, 0} end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
  local freeing = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
  return {math.max(1, tonumber(freeing[2]) + window - now), 0}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window + 1000)
if dailyLimit > 0 then
  if redis.call('INCR', KEYS[3]) == 1 then redis.call('PEXPIRE', KEYS[3], ARGV[5]) end
end
redis.call('INCR', KEYS[5])
-- Idle budgets (e.g. per test queue) expire instead of piling up.
redis.call('PEXPIRE', KEYS[5], 86400000)
return {0, 0}
`;

/**
 * Feeds what the CRM said back into the shared budget.
 * KEYS: 1 window, 2 bucket block, 3 daily block, 4 daily remaining.
 * ARGV: 1 calls the CRM counts in its window (-1 = unknown), 2 block ms for the bucket (0 = none),
 * 3 block ms for the day (0 = none), 4 window ms, 5 member prefix, 6 daily remaining (-1 = unknown).
 */
export const OBSERVE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local block = tonumber(ARGV[2])
if block > 0 and redis.call('PTTL', KEYS[2]) < block then
  redis.call('SET', KEYS[2], '1', 'PX', block)
end
local dailyBlock = tonumber(ARGV[3])
if dailyBlock > 0 then redis.call('SET', KEYS[3], '1', 'PX', dailyBlock) end
local dailyRemaining = tonumber(ARGV[6])
if dailyRemaining >= 0 then redis.call('SET', KEYS[4], ARGV[6], 'PX', 86400000) end
local crmUsed = tonumber(ARGV[1])
if crmUsed >= 0 then
  local window = tonumber(ARGV[4])
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[1])
  for i = count + 1, crmUsed do
    redis.call('ZADD', KEYS[1], now, ARGV[5] .. ':' .. i)
  end
  redis.call('PEXPIRE', KEYS[1], window + 1000)
end
return 0
`;
