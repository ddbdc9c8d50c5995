-- Global sliding-window rate limiter for Salesforce calls, shared by every replica.
--
-- The sorted set holds one member per granted call, scored by its time. A call is granted
-- if fewer than `limit` calls were granted in the last `window` milliseconds; otherwise the
-- caller learns how long to wait until the oldest call leaves the window. Atomic, so all
-- replicas together never exceed the limit in any window.
--
-- KEYS[1]  {prefix}:limiter:calls   (sorted set)
-- ARGV[1]  now, Unix milliseconds
-- ARGV[2]  window length, milliseconds
-- ARGV[3]  limit: calls allowed per window
-- ARGV[4]  a unique member for this call (replica id + counter)
-- Returns {1, 0} when granted, {0, wait_ms} when not.
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window * 2)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = tonumber(oldest[2]) + window - now
if wait < 1 then wait = 1 end
return {0, wait}
