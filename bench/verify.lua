-- OTP.VERIFY written as a script, for `make bench` to compare with. The client passes the
-- HMAC of the code it was given. KEYS[1]: the identity's hash. ARGV: mac, max-failures, lockout.
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', key, 'mac', 'exp', 'att', 'fail', 'lock')
local lock = tonumber(s[5]) or 0
if lock > now then return 'BLOCKED' end
local exp = tonumber(s[2]) or 0
if not s[1] or exp <= now then return 'EXPIRED' end
local att = tonumber(s[3]) or 0
if att <= 0 then return 'BLOCKED' end
if s[1] == ARGV[1] then
  redis.call('HDEL', key, 'mac', 'exp', 'att')
  redis.call('HSET', key, 'fail', 0)
  return 'VALID'
end
local fail = (tonumber(s[4]) or 0) + 1
att = att - 1
if fail >= tonumber(ARGV[2]) then
  local until_ms = now + tonumber(ARGV[3]) * 1000
  redis.call('HSET', key, 'fail', fail, 'lock', until_ms)
  redis.call('HDEL', key, 'mac', 'exp', 'att')
  if redis.call('PEXPIRETIME', key) < until_ms then redis.call('PEXPIREAT', key, until_ms) end
  return 'BLOCKED'
end
redis.call('HSET', key, 'fail', fail, 'att', att)
if att == 0 then return 'BLOCKED' end
return 'INVALID'
