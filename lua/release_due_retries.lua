-- Puts retries whose time has come back on their stream, oldest first, at most `limit`.
-- Each is removed from the schedule in the same step, so a retry is in exactly one place.
--
-- KEYS[1]  {prefix}:retry   (sorted set: event id by due time)
-- KEYS[2]  {prefix}:high
-- KEYS[3]  {prefix}:low
-- KEYS[4]  {prefix}:outbound
-- ARGV[1]  now, Unix ms
-- ARGV[2]  limit
-- ARGV[3]  key prefix for the per-event hashes, "{prefix}:retry:"
-- Returns the number of entries put back.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local moved = 0
for _, event_id in ipairs(due) do
  local key = ARGV[3] .. event_id
  local entry = redis.call('HGETALL', key)
  redis.call('ZREM', KEYS[1], event_id)
  if #entry > 0 then
    local stream = KEYS[3]
    local fields = {}
    for i = 1, #entry, 2 do
      if entry[i] == 'stream' then
        if entry[i + 1] == 'high' then stream = KEYS[2]
        elseif entry[i + 1] == 'outbound' then stream = KEYS[4] end
      else
        fields[#fields + 1] = entry[i]
        fields[#fields + 1] = entry[i + 1]
      end
    end
    redis.call('XADD', stream, '*', unpack(fields))
    redis.call('DEL', key)
    moved = moved + 1
  end
end
return moved
