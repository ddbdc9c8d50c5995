-- Decides atomically whether a worker may apply one event, record by record.
--
-- Idempotency: an event already applied is skipped (and acknowledged by the caller).
-- Newest wins per Salesforce record: for each record the event writes, the newest event
-- applied to that record is kept (`created`, then the order within a second: ARGV[7]). A record that already
-- holds a newer event is "stale" for this event, and only that write is dropped; the event's
-- other writes proceed. The caller gets the claim on every record it will write, all or
-- nothing, so two replicas never write two versions of one record at once (the second sees
-- "busy" and tries again later). Claims expire, so a crashed worker's claims do not block
-- the replica that reclaims its entries.
--
-- KEYS[1]      {prefix}:applied:<event id>   (string: set once applied)
-- KEYS[2]      {prefix}:event:<event id>     (hash: lifecycle record)
-- KEYS[2i+1]   {prefix}:record:<record>      (hash: created, order, event_id of the newest applied event)
-- KEYS[2i+2]   {prefix}:record-claim:<record> (string: the claiming batch, with a TTL)
--              for each record i = 1..n the event writes
-- ARGV[1]  the event's `created` (Unix seconds)
-- ARGV[2]  the event id
-- ARGV[3]  the claiming batch ("<consumer>/<batch>")
-- ARGV[4]  claim TTL, milliseconds
-- ARGV[5]  now, Unix milliseconds
-- ARGV[6]  lifecycle retention, seconds
-- ARGV[7]  the event's order among events of the same second (StreamEntry::order_in_second:
--          a rank, 0 creates and 2 deletes, then the event id; compared as text). A version
--          written before orders were kept has none: it counts as rank 1 and its event id.
-- Returns "applied", "busy:<owner>", or "claimed:<verdicts>": one character per record,
-- "w" (write it, claimed) or "s" (stale: a newer event was applied to it).
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 'applied'
end

local created = tonumber(ARGV[1])
local verdicts = {}
for i = 3, #KEYS, 2 do
  local newest = redis.call('HMGET', KEYS[i], 'created', 'order', 'event_id')
  local stale = false
  if newest[1] then
    local newest_created = tonumber(newest[1])
    local newest_order = newest[2] or ('1' .. (newest[3] or ''))
    stale = created < newest_created or (created == newest_created and ARGV[7] < newest_order)
  end
  if stale then
    verdicts[#verdicts + 1] = 's'
  else
    local owner = redis.call('GET', KEYS[i + 1])
    if owner and owner ~= ARGV[3] then
      return 'busy:' .. owner
    end
    verdicts[#verdicts + 1] = 'w'
  end
end

for i, verdict in ipairs(verdicts) do
  if verdict == 'w' then
    redis.call('SET', KEYS[2 * i + 2], ARGV[3], 'PX', ARGV[4])
  end
end
redis.call('HSET', KEYS[2], 'state', 'processing', 'consumer', ARGV[3], 'processing_at', ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[6])
return 'claimed:' .. table.concat(verdicts)
