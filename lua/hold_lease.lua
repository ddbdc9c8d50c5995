-- Takes a lease that is free, or renews it for its holder: the one replica that subscribes
-- to a change event channel (workers outbound), or lists Stripe's events (workers catchup).
--
-- KEYS[1]  the lease key, e.g. {prefix}:outbound:lease:<channel>   (string: the holder, with a TTL)
-- ARGV[1]  the caller (its WORKER_ID)
-- ARGV[2]  lease time, milliseconds
-- Returns 1 when renewed or newly taken (the lease was free), 0 when another replica holds it.
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] or not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
