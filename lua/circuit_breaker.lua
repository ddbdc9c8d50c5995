-- The circuit breaker shared by every replica.
--
-- Closed: calls go through; consecutive call failures are counted. At `threshold` the
-- breaker opens for `cooldown` ms: nobody calls Salesforce. After the cool-down it is
-- half-open: exactly one caller (who wins the probe lock) may try; its success closes the
-- breaker, its failure opens it again. Events wait in their streams meanwhile; nothing is
-- dropped.
--
-- KEYS[1]  {prefix}:breaker   (hash: failures, open_until)
-- KEYS[2]  {prefix}:breaker:probe (string with TTL: the probing caller)
-- ARGV[1]  "admit", "success" or "failure"
-- ARGV[2]  now, Unix ms
-- ARGV[3]  threshold (consecutive failures)
-- ARGV[4]  cool-down, ms
-- ARGV[5]  caller id (for the probe lock)
-- admit   -> {"closed", 0} | {"probe", 0} | {"open", wait_ms}
-- success -> {"closed", 0}
-- failure -> {"closed", failures} | {"open", cooldown}
local now = tonumber(ARGV[2])
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')

if ARGV[1] == 'admit' then
  if open_until == 0 then
    return {'closed', 0}
  end
  if open_until > now then
    return {'open', open_until - now}
  end
  if redis.call('SET', KEYS[2], ARGV[5], 'NX', 'PX', ARGV[4]) then
    return {'probe', 0}
  end
  if redis.call('GET', KEYS[2]) == ARGV[5] then
    return {'probe', 0}
  end
  return {'open', 250}
end

if ARGV[1] == 'success' then
  if open_until > 0 or redis.call('HEXISTS', KEYS[1], 'failures') == 1 then
    redis.call('DEL', KEYS[1], KEYS[2])
  end
  return {'closed', 0}
end

-- failure
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
if open_until > 0 or failures >= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 'open_until', now + tonumber(ARGV[4]), 'failures', 0)
  redis.call('DEL', KEYS[2])
  return {'open', tonumber(ARGV[4])}
end
return {'closed', failures}
