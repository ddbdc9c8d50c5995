-- Records that Salesforce accepted an event, then acknowledges and removes its entry.
--
-- In one step: the applied marker (idempotency), the newest version of the Stripe object
-- (last write wins, only moved forward), the lifecycle record with the Salesforce id, and
-- XACK + XDEL of the stream entry. The claim is released. Because it is one script, an
-- entry is never acknowledged without the marker, and never marked without being acknowledged.
--
-- KEYS[1]  {prefix}:applied:<event id>
-- KEYS[2]  {prefix}:object:<object id>
-- KEYS[3]  {prefix}:claim:<object id>
-- KEYS[4]  {prefix}:event:<event id>
-- KEYS[5]  the stream
-- ARGV[1]  the event's `created`
-- ARGV[2]  the event id
-- ARGV[3]  group name
-- ARGV[4]  stream entry id ("" when the event is not in the stream)
-- ARGV[5]  Salesforce record id ("" if unknown)
-- ARGV[6]  outcome: "applied", "superseded", "unhandled", "stale" or "duplicate"
-- ARGV[7]  now, Unix milliseconds
-- ARGV[8]  dedupe window, seconds (TTL of the applied marker and the object version)
-- ARGV[9]  lifecycle retention, seconds
-- Returns 1.
if ARGV[6] == 'applied' then
  redis.call('SET', KEYS[1], ARGV[5], 'EX', ARGV[8])
  local newest = redis.call('HMGET', KEYS[2], 'created', 'event_id')
  local created = tonumber(ARGV[1])
  if not newest[1] or created > tonumber(newest[1])
      or (created == tonumber(newest[1]) and ARGV[2] > newest[2]) then
    redis.call('HSET', KEYS[2], 'created', ARGV[1], 'event_id', ARGV[2])
  end
  redis.call('EXPIRE', KEYS[2], ARGV[8])
end
-- Only the event that holds its object's claim releases it: duplicate and stale events never
-- claimed it, and a superseded event shares its winner's claim, released with the winner.
if ARGV[6] == 'applied' or ARGV[6] == 'unhandled' then
  redis.call('DEL', KEYS[3])
end
-- A second delivery of an applied event changes nothing, not even its lifecycle record.
if ARGV[6] ~= 'duplicate' then
  redis.call('HSET', KEYS[4], 'state', ARGV[6], 'finished_at', ARGV[7])
  if ARGV[5] ~= '' then
    redis.call('HSET', KEYS[4], 'salesforce_id', ARGV[5])
  end
  redis.call('EXPIRE', KEYS[4], ARGV[9])
end
if ARGV[4] ~= '' then
  redis.call('XACK', KEYS[5], ARGV[3], ARGV[4])
  redis.call('XDEL', KEYS[5], ARGV[4])
end
return 1
