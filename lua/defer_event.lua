-- Moves an event out of the stream after a failed attempt: either into the retry schedule
-- (due later, attempts + 1) or into the dead-letter stream (with its reason), then
-- acknowledges and removes the stream entry. One script, so the event is in exactly one
-- place at every moment.
--
-- KEYS[1]  {prefix}:retry            (sorted set: event id scored by due time, ms)
-- KEYS[2]  {prefix}:retry:<event id> (hash: the entry's fields, for putting it back)
-- KEYS[3]  {prefix}:dead             (stream)
-- KEYS[4]  {prefix}:event:<event id> (lifecycle)
-- KEYS[5]  the stream the entry came from
-- KEYS[6..] {prefix}:record-claim:<record> for each record the event claimed
-- ARGV[1]  "retry" or "dead"
-- ARGV[2]  due time, Unix ms (retry only)
-- ARGV[3]  group name
-- ARGV[4]  stream entry id ("" if none)
-- ARGV[5]  failure class
-- ARGV[6]  error code
-- ARGV[7]  error message
-- ARGV[8]  now, Unix ms
-- ARGV[9]  lifecycle retention, seconds
-- ARGV[10] stream name ("high" / "low"), to put retries back where they came from
-- ARGV[11] the batch that claimed the records; only its claims are released
-- ARGV[12..] field, value, ... of the entry, `attempts` already counting this attempt
-- Returns the dead-letter entry id, or "scheduled".
local fields = {}
local attempts = '0'
local event_id = ''
for i = 12, #ARGV, 2 do
  fields[#fields + 1] = ARGV[i]
  fields[#fields + 1] = ARGV[i + 1]
  if ARGV[i] == 'attempts' then attempts = ARGV[i + 1] end
  if ARGV[i] == 'event_id' then event_id = ARGV[i + 1] end
end

local result
if ARGV[1] == 'retry' then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[2], 'stream', ARGV[10], unpack(fields))
  redis.call('ZADD', KEYS[1], ARGV[2], event_id)
  redis.call('HSET', KEYS[4], 'state', 'retrying', 'attempts', attempts, 'next_attempt_at', ARGV[2],
    'last_error', ARGV[6] .. ': ' .. ARGV[7], 'failure_class', ARGV[5])
  result = 'scheduled'
else
  result = redis.call('XADD', KEYS[3], '*', 'source', ARGV[10], 'reason', ARGV[5],
    'error', ARGV[6] .. ': ' .. ARGV[7], 'dead_at', ARGV[8], unpack(fields))
  redis.call('HSET', KEYS[4], 'state', 'dead', 'attempts', attempts, 'dead_entry', result,
    'last_error', ARGV[6] .. ': ' .. ARGV[7], 'failure_class', ARGV[5])
end
redis.call('EXPIRE', KEYS[4], ARGV[9])
for i = 6, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[11] then
    redis.call('DEL', KEYS[i])
  end
end
if ARGV[4] ~= '' then
  redis.call('XACK', KEYS[5], ARGV[3], ARGV[4])
  redis.call('XDEL', KEYS[5], ARGV[4])
end
return result
