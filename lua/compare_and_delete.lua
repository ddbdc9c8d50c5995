-- Deletes a key only if it still holds the expected value.
--
-- Used to drop a shared Salesforce token that answered 401 INVALID_SESSION_ID without
-- deleting a newer token another replica stored meanwhile, and to release the refresh
-- lock only by its owner.
--
-- KEYS[1]  the key
-- ARGV[1]  the value the caller saw
-- Returns 1 if deleted, 0 if the key held something else (or nothing).
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
