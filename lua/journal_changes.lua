-- Journals Salesforce change events into the outbound stream, and moves the channel's
-- replay position past them, in one step: a change is never acknowledged to the Pub/Sub
-- API (by storing the replay id after it) before it is durable in the stream, and a
-- replica that lost its lease cannot journal (its replacement owns the position now).
--
-- KEYS[1]      {prefix}:outbound:lease:<channel>   (string: the holder)
-- KEYS[2]      {prefix}:outbound:replay:<channel>  (hash: replay_id, commit_timestamp, updated_at)
-- KEYS[3]      {prefix}:outbound                   (stream)
-- KEYS[2+2i]   {prefix}:seen:<change id>           (string: dedupe marker of the i-th change)
-- KEYS[3+2i]   {prefix}:event:<change id>          (hash: lifecycle record of the i-th change)
-- ARGV[1]  the caller (WORKER_ID), who must hold the lease
-- ARGV[2]  the replay id to resume after (hex), or "" to leave the position
-- ARGV[3]  the newest commit time journaled, Unix ms, or "0" to leave it
-- ARGV[4]  dedupe window, seconds
-- ARGV[5]  lifecycle retention, seconds
-- ARGV[6]  now, Unix ms
-- then, per change: the number n of its fields, then n field/value pairs.
-- Returns the number of changes added (duplicates within the window add nothing), or -1
-- when the caller does not hold the lease.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return -1
end

local added = 0
local at = 7
for i = 1, (#KEYS - 3) / 2 do
  local n = tonumber(ARGV[at])
  local fields = {}
  for j = 1, 2 * n do
    fields[j] = ARGV[at + j]
  end
  at = at + 1 + 2 * n
  local seen = KEYS[2 + 2 * i]
  local lifecycle = KEYS[3 + 2 * i]
  if not redis.call('GET', seen) then
    local entry_id = redis.call('XADD', KEYS[3], '*', unpack(fields))
    redis.call('SET', seen, 'outbound|' .. entry_id, 'EX', ARGV[4])
    redis.call('HSET', lifecycle, 'state', 'enqueued', 'stream', 'outbound',
      'entry_id', entry_id, 'enqueued_at', ARGV[6])
    redis.call('EXPIRE', lifecycle, ARGV[5])
    added = added + 1
  end
end

if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[2], 'replay_id', ARGV[2], 'updated_at', ARGV[6])
end
if ARGV[3] ~= '0' then
  local previous = tonumber(redis.call('HGET', KEYS[2], 'commit_timestamp') or '0')
  if tonumber(ARGV[3]) > previous then
    redis.call('HSET', KEYS[2], 'commit_timestamp', ARGV[3])
  end
end
return added
