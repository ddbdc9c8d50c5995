-- Idempotent enqueue of one Stripe event into its priority stream.
--
-- Atomically: if the event id was seen within the dedupe window, add nothing and return
-- where it went the first time; otherwise XADD the entry, remember the event id for the
-- window, and record the event's lifecycle as "enqueued". A Stripe redelivery (same event
-- id, new signature) and an SQS redelivery (same message again) both end here as duplicates.
--
-- KEYS[1]  dedupe marker   {prefix}:seen:<event id>     (string, TTL = dedupe window)
-- KEYS[2]  priority stream {prefix}:high | {prefix}:low
-- KEYS[3]  lifecycle hash  {prefix}:event:<event id>    (hash, TTL = lifecycle retention)
-- ARGV[1]  dedupe window in seconds
-- ARGV[2]  lifecycle retention in seconds
-- ARGV[3]  now, Unix milliseconds (passed in so the script stays deterministic)
-- ARGV[4]  stream name as recorded for operators ("high" / "low")
-- ARGV[5..] field, value, field, value, ... of the stream entry
--
-- Returns {1, entry id} when added, {0, "<stream>|<entry id>"} for a duplicate.

local seen = redis.call('GET', KEYS[1])
if seen then
  return {0, seen}
end

local fields = {}
for i = 5, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
local entry_id = redis.call('XADD', KEYS[2], '*', unpack(fields))

redis.call('SET', KEYS[1], ARGV[4] .. '|' .. entry_id, 'EX', ARGV[1])
redis.call('HSET', KEYS[3],
  'state', 'enqueued',
  'stream', ARGV[4],
  'entry_id', entry_id,
  'enqueued_at', ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[2])
return {1, entry_id}
