-- Decides atomically whether a worker may apply one event to Salesforce.
--
-- Idempotency: an event already applied is skipped (and acknowledged by the caller).
-- Last write wins: an event older than the newest applied event for the same Stripe object
-- (by `created`, ties broken by event id) is skipped. Otherwise the caller gets the claim
-- on the *object*, so two replicas never apply two versions of one record at once (the
-- second sees "busy" and retries later, when it finds the first one's event applied). The
-- claim expires, so a crashed worker's claim does not block the replica that reclaims it.
--
-- KEYS[1]  {prefix}:applied:<event id>    (string: set once applied)
-- KEYS[2]  {prefix}:object:<object id>    (hash: created, event_id of the newest applied event)
-- KEYS[3]  {prefix}:claim:<object id>     (string: the claiming consumer, with a TTL)
-- KEYS[4]  {prefix}:event:<event id>      (hash: lifecycle record)
-- ARGV[1]  the event's `created` (Unix seconds)
-- ARGV[2]  the event id
-- ARGV[3]  the claiming consumer's name
-- ARGV[4]  claim TTL, milliseconds
-- ARGV[5]  now, Unix milliseconds
-- ARGV[6]  lifecycle retention, seconds
-- Returns "applied", "stale", "claimed" or "busy:<owner>".
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 'applied'
end

local newest = redis.call('HMGET', KEYS[2], 'created', 'event_id')
if newest[1] then
  local created = tonumber(ARGV[1])
  local newest_created = tonumber(newest[1])
  if created < newest_created or (created == newest_created and ARGV[2] < newest[2]) then
    return 'stale'
  end
end

local owner = redis.call('GET', KEYS[3])
if owner and owner ~= ARGV[3] then
  return 'busy:' .. owner
end
redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4])
redis.call('HSET', KEYS[4], 'state', 'processing', 'consumer', ARGV[3], 'processing_at', ARGV[5])
redis.call('EXPIRE', KEYS[4], ARGV[6])
return 'claimed'
