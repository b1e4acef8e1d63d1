--- a fake redis for the programs below
store = {}
redis = {}
function redis.call(cmd, key, ...)
  cmd = string.upper(cmd)
  local args = {...}
  if cmd == "GET" then return store[key] or false
  elseif cmd == "SET" then store[key] = tostring(args[1]) return {ok = "OK"}
  elseif cmd == "INCR" then store[key] = tostring((tonumber(store[key]) or 0) + 1) return tonumber(store[key])
  elseif cmd == "HSET" then store[key] = store[key] or {} for i = 1, #args, 2 do store[key][args[i]] = tostring(args[i + 1]) end return #args / 2
  elseif cmd == "HGET" then return store[key] and store[key][args[1]] or false
  elseif cmd == "HMGET" then local r = {} for i, f in ipairs(args) do r[i] = store[key] and store[key][f] or false end return r
  elseif cmd == "RPUSH" then store[key] = store[key] or {} for _, v in ipairs(args) do table.insert(store[key], tostring(v)) end return #store[key]
  elseif cmd == "LRANGE" then local l = store[key] or {} local r = {} for i = 1, #l do r[i] = l[i] end return r
  elseif cmd == "DEL" then local had = store[key] ~= nil store[key] = nil return had and 1 or 0
  elseif cmd == "EXISTS" then return store[key] ~= nil and 1 or 0
  end
  error({err = "ERR unknown command '" .. cmd .. "'"})
end
function redis.pcall(...) local ok, r = pcall(redis.call, ...) if ok then return r end return r end
print(redis.call("SET", "a", 1).ok, redis.call("GET", "a"), redis.call("INCR", "a"), redis.call("GET", "missing"))
--- job id generation like BullMQ
local KEYS = {"bull:q:id", "bull:q:wait"}
local ARGV = {"", "job-data", "1700000000123"}
local jobId = ARGV[1]
if jobId == "" then jobId = redis.call("INCR", KEYS[1]) .. "" end
local jobKey = "bull:q:" .. jobId
redis.call("HSET", jobKey, "name", "test", "data", ARGV[2], "timestamp", ARGV[3])
redis.call("RPUSH", KEYS[2], jobId)
print(jobId, jobKey, redis.call("HGET", jobKey, "data"), #redis.call("LRANGE", KEYS[2]))
--- delayed timestamps with 0x1000 packing
local delay = 5000
local timestamp = tonumber("1700000000123")
local delayedTimestamp = timestamp + delay
local score = delayedTimestamp * 0x1000 + (tonumber(jobId or 1) or 1) % 0x1000
print(score, math.floor(score / 0x1000), score % 0x1000, string.format("%.0f", score))
--- rate limiting arithmetic
local limit, duration = 10, 1000
local now = 1700000000123
local window = math.floor(now / duration) * duration
print(window, now - window, (now - window) / duration, tostring(now / 1000))
--- parsing options passed as JSON-ish strings
local opts = "attempts=3;backoff=exponential;delay=250"
local parsed = {}
for k, v in opts:gmatch("(%w+)=(%w+)") do parsed[k] = tonumber(v) or v end
print(parsed.attempts + 1, parsed.backoff, parsed.delay * 2)
--- unpack of command arguments
local fields = {"name", "data", "timestamp"}
local values = redis.call("HMGET", "bull:q:1", unpack(fields))
print(#values, values[1], values[2], values[3])
--- error tables like redis.error_reply
local ok, err = pcall(redis.call, "NOSUCH", "k")
print(ok, type(err), err.err)
local r = redis.pcall("NOSUCH", "k")
print(type(r), r.err)
--- string building of keys
local prefix = "bull"
local queue = "emails"
local function key(...) return prefix .. ":" .. queue .. ":" .. table.concat({...}, ":") end
print(key("id"), key("wait"), key("job", 42, "lock"))
--- tonumber on redis replies
local reply = redis.call("GET", "nonexistent")
print(reply, tonumber(reply), tonumber(redis.call("INCR", "counter")), tonumber("0x10"), tonumber("12abc"))
--- loops over result lists with early exit
redis.call("RPUSH", "list", "a", "b", "c", "d")
local found
for i, v in ipairs(redis.call("LRANGE", "list")) do if v == "c" then found = i break end end
print(found)
--- numbers formatting for replies
print(tostring(1 / 3), tostring(100), tostring(2^31), tostring(-2^31), tostring(1e16), 12 .. "", 0.5 .. "")
--- while loops with counters like cleanup scripts
local removed, cursor = 0, 0
repeat
  cursor = cursor + 1
  if cursor % 3 == 0 then removed = removed + 1 end
until cursor >= 100
print(removed, cursor)
--- varargs forwarding
local function forward(...) return select("#", ...), ... end
local function wrapper(...) return forward(...) end
print(wrapper(1, nil, 3, nil))
