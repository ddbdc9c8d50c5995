-- Takes a lease that is free, or renews it for its holder: the one replica that subscribes
-- to a change event channel (workers outbound), lists Stripe's events (workers catchup), or
-- reads the next realtime batch (the batch turn, workers/src/store/pacer.rs).
--
-- KEYS[1]  the lease key, e.g. {prefix}:outbound:lease:<channel>   (string: the holder, with a TTL)
-- ARGV[1]  the caller (its WORKER_ID)
-- ARGV[2]  lease time, milliseconds
-- Returns 0 when renewed or newly taken (the lease was free), or else the milliseconds
-- until the other holder's lease ends.
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] or not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 0
end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  -- Never without an expiry: a lease nobody renews must still pass on.
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  left = tonumber(ARGV[2])
end
return math.max(left, 1)
