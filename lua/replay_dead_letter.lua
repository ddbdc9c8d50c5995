-- Replays dead letters: puts each event back on the stream it died on, with `attempts`
-- reset to 0, records it as enqueued again in its lifecycle, and deletes the dead letter.
-- All in one script, so a crash never leaves an event in both places or in neither.
--
-- The entry is XADDed to the stream directly, not through enqueue_event.lua, so the
-- bridge's dedupe marker {prefix}:seen:<event id> cannot block it. The workers' own checks
-- still apply when it is claimed: if a newer event for the same Stripe object was applied
-- meanwhile, this one ends "stale" (newest wins), which is the intended outcome.
--
-- Bridge dead letters (source "bridge") are messages that were not Stripe events; they
-- have no stream to go back to and are refused.
--
-- KEYS[1]     {prefix}:dead              (stream)
-- KEYS[2]     {prefix}:high              (stream)
-- KEYS[3]     {prefix}:low               (stream)
-- KEYS[4]     {prefix}:outbound          (stream)
-- KEYS[4+i]   {prefix}:event:<event id>  (lifecycle hash of the i-th dead letter)
-- ARGV[1]     now, Unix ms
-- ARGV[2]     lifecycle retention, seconds
-- ARGV[1+2i]  the i-th dead-letter entry id
-- ARGV[2+2i]  the i-th event id, as the caller read it (checked again here)
--
-- Returns one reply per dead letter, in order:
--   {"replayed", "<stream name>", "<new entry id>"}
--   {"missing", "", ""}                  no such dead letter (already replayed or purged)
--   {"refused", "<why>", ""}             not replayable

local copied = {'event_id', 'type', 'object_id', 'created', 'received_at', 'payload'}
local results = {}

for i = 1, (#ARGV - 2) / 2 do
  local dead_id = ARGV[1 + 2 * i]
  local expected_event = ARGV[2 + 2 * i]
  local lifecycle = KEYS[4 + i]
  local found = redis.call('XRANGE', KEYS[1], dead_id, dead_id)
  if #found == 0 then
    results[#results + 1] = {'missing', '', ''}
  else
    local raw = found[1][2]
    local fields = {}
    for j = 1, #raw, 2 do
      fields[raw[j]] = raw[j + 1]
    end
    local target
    if fields['source'] == 'high' then
      target = KEYS[2]
    elseif fields['source'] == 'low' then
      target = KEYS[3]
    elseif fields['source'] == 'outbound' then
      target = KEYS[4]
    end
    if not target then
      results[#results + 1] = {'refused', 'source "' .. tostring(fields['source']) ..
        '" is not a stream (bridge dead letters are not Stripe events)', ''}
    elseif fields['event_id'] ~= expected_event then
      results[#results + 1] = {'refused', 'event id changed under the caller', ''}
    else
      local entry = {}
      local complete = true
      for _, name in ipairs(copied) do
        if fields[name] == nil then complete = false end
        entry[#entry + 1] = name
        entry[#entry + 1] = fields[name] or ''
        if name == 'created' then
          entry[#entry + 1] = 'attempts'
          entry[#entry + 1] = '0'
        end
      end
      if not complete then
        results[#results + 1] = {'refused', 'the dead letter lacks stream-entry fields', ''}
      else
        local entry_id = redis.call('XADD', target, '*', unpack(entry))
        redis.call('HDEL', lifecycle, 'dead_entry', 'next_attempt_at', 'processing_at',
          'finished_at', 'consumer')
        redis.call('HSET', lifecycle, 'state', 'enqueued', 'stream', fields['source'],
          'entry_id', entry_id, 'enqueued_at', ARGV[1], 'replayed_at', ARGV[1],
          'attempts', '0')
        redis.call('EXPIRE', lifecycle, ARGV[2])
        redis.call('XDEL', KEYS[1], dead_id)
        results[#results + 1] = {'replayed', fields['source'], entry_id}
      end
    end
  end
end
return results
