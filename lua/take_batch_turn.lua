-- Takes the fleet's turn to read the next realtime batch, or renews it for its holder.
--
-- The replicas of the realtime group take turns so that, together, they start a batch at
-- most once per batch interval (workers/src/store/pacer.rs). The key holds the replica
-- whose turn it is (it waits for entries to arrive), or '-' for the pause after a batch was
-- read; either expires. When it is absent, the turn is free.
--
-- KEYS[1]  the turn key, {prefix}:turn:<group>   (string with a TTL)
-- ARGV[1]  the caller (its WORKER_ID)
-- ARGV[2]  how long the caller may hold the turn, milliseconds
-- Returns 0 when the caller has the turn (taken or renewed), or else the milliseconds
-- until the current holder's turn or the pause ends.
local holder = redis.call('GET', KEYS[1])
if not holder or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 0
end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  -- Never without an expiry: a turn nobody ends must still pass on.
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  left = tonumber(ARGV[2])
end
return math.max(left, 1)
