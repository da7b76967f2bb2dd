-- OTP.GENERATE written as a script, for `make bench` to compare with: one hash per identity,
-- the client draws the code and passes its HMAC (the strongest thing one can do without a module).
-- KEYS[1]: the identity's hash. ARGV: mac, ttl, attempts, cooldown, max-sends, send-window,
-- max-failures, lockout (seconds).
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function retry(code, until_ms)
  return redis.error_reply(code .. ' retry in ' .. math.max(1, math.ceil((until_ms - now) / 1000)) .. ' s')
end
local s = redis.call('HMGET', key, 'lock', 'resend', 'wend', 'sends', 'fail')
local lock = tonumber(s[1]) or 0
if lock > now then return retry('LOCKED', lock) end
local fail = tonumber(s[5]) or 0
if lock > 0 then fail = 0; lock = 0 end
local resend = tonumber(s[2]) or 0
if resend > now then return retry('COOLDOWN', resend) end
local wend = tonumber(s[3]) or 0
local sends = tonumber(s[4]) or 0
if wend > now then
  if sends >= tonumber(ARGV[5]) then return retry('RATELIMIT', wend) end
  sends = sends + 1
else
  wend = now + tonumber(ARGV[6]) * 1000
  sends = 1
end
local exp = now + tonumber(ARGV[2]) * 1000
resend = now + tonumber(ARGV[4]) * 1000
redis.call('HSET', key, 'mac', ARGV[1], 'exp', exp, 'att', ARGV[3], 'sends', sends,
  'wend', wend, 'resend', resend, 'fail', fail, 'lock', lock)
redis.call('PEXPIREAT', key, math.max(exp, resend, wend))
return 'OK'
