-- Records how an event ended, then acknowledges and removes its stream entry.
--
-- In one step: the applied marker (idempotency), the newest event of every record it wrote
-- (newest wins per record, only moved forward), the lifecycle record with the Salesforce id
-- and the writes that were superseded, the release of the event's record claims, and
-- XACK + XDEL. Because it is one script, an entry is never acknowledged without its marker,
-- and never marked without being acknowledged.
--
-- KEYS[1]      {prefix}:applied:<event id>
-- KEYS[2]      {prefix}:event:<event id>      (lifecycle)
-- KEYS[3]      the stream
-- KEYS[2i+2]   {prefix}:record:<record>
-- KEYS[2i+3]   {prefix}:record-claim:<record>  for each record i = 1..n the event claimed
-- ARGV[1]  the event's `created`
-- ARGV[2]  the event id
-- ARGV[3]  group name
-- ARGV[4]  stream entry id ("" when the event is not in the stream)
-- ARGV[5]  Salesforce record id ("" if unknown)
-- ARGV[6]  outcome: "applied", "superseded", "unhandled", "stale" or "duplicate"
-- ARGV[7]  now, Unix milliseconds
-- ARGV[8]  dedupe window, seconds (TTL of the applied marker and the record versions)
-- ARGV[9]  lifecycle retention, seconds
-- ARGV[10] the batch that claimed the records; only its claims are released
-- ARGV[11] one character per record: "a" written (its version moves forward, its claim is
--          released), "r" rejected by the fence in Salesforce (its claim is released), "s"
--          superseded by a newer event that holds its claim (nothing changes), "-" not written
--          (its claim is released)
-- ARGV[12] the superseded writes, as operators read them ("" if none)
-- ARGV[13] the event's order among events of the same second (see claim_event.lua)
-- Returns 1.
local created = tonumber(ARGV[1])
if ARGV[6] == 'applied' then
  redis.call('SET', KEYS[1], ARGV[5], 'EX', ARGV[8])
end
for i = 1, #ARGV[11] do
  local version, claim = KEYS[2 * i + 2], KEYS[2 * i + 3]
  local outcome = string.sub(ARGV[11], i, i)
  if outcome == 'a' then
    local newest = redis.call('HMGET', version, 'created', 'order', 'event_id')
    local newest_order = newest[2] or ('1' .. (newest[3] or ''))
    if not newest[1] or created > tonumber(newest[1])
        or (created == tonumber(newest[1]) and ARGV[13] > newest_order) then
      redis.call('HSET', version, 'created', ARGV[1], 'order', ARGV[13], 'event_id', ARGV[2])
    end
    redis.call('EXPIRE', version, ARGV[8])
  end
  if outcome ~= 's' and redis.call('GET', claim) == ARGV[10] then
    redis.call('DEL', claim)
  end
end
-- A second delivery of an applied event changes nothing, not even its lifecycle record.
if ARGV[6] ~= 'duplicate' then
  redis.call('HSET', KEYS[2], 'state', ARGV[6], 'finished_at', ARGV[7])
  if ARGV[5] ~= '' then
    redis.call('HSET', KEYS[2], 'salesforce_id', ARGV[5])
  end
  if ARGV[12] ~= '' then
    redis.call('HSET', KEYS[2], 'superseded_writes', ARGV[12])
  end
  redis.call('EXPIRE', KEYS[2], ARGV[9])
end
if ARGV[4] ~= '' then
  redis.call('XACK', KEYS[3], ARGV[3], ARGV[4])
  redis.call('XDEL', KEYS[3], ARGV[4])
end
return 1
