-- Renews a lease only for its holder.
--
-- Used by the catch-up role: one replica holds `{prefix}:catchup:lease` (taken with
-- SET NX PX) and extends it while it works; a replica whose lease expired and was taken by
-- another must learn so instead of extending the other's.
--
-- KEYS[1]  the lease key
-- ARGV[1]  the holder's id
-- ARGV[2]  the new time to live, milliseconds
-- Returns 1 if renewed, 0 if the key is held by someone else (or by no one).
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
