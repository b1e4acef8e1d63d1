--- basic resume yield
local co = coroutine.create(function(a, b)
  local c = coroutine.yield(a + b)
  local d, e = coroutine.yield(c * 2)
  return d + e, "end"
end)
print(coroutine.status(co))
print(coroutine.resume(co, 1, 2))
print(coroutine.resume(co, 10))
print(coroutine.resume(co, 3, 4))
print(coroutine.status(co), coroutine.resume(co))
--- wrap
local gen = coroutine.wrap(function(n) for i = 1, n do coroutine.yield(i) end return "done" end)
print(gen(3), gen(), gen(), gen())
print(pcall(gen))
--- status values
local main_co
local co
co = coroutine.create(function()
  print("inside", coroutine.status(co))
  local inner = coroutine.create(function() print("outer seen from inner", coroutine.status(co)) end)
  coroutine.resume(inner)
end)
coroutine.resume(co)
print(coroutine.status(co))
print(coroutine.running())
--- errors in coroutines
local bad = coroutine.create(function() error("boom") end)
print(coroutine.resume(bad))
print(coroutine.status(bad), coroutine.resume(bad))
local bad2 = coroutine.create(function() local x = nil return x.y end)
print(coroutine.resume(bad2))
local bad3 = coroutine.create(function() error({code = 1}) end)
local ok, e = coroutine.resume(bad3)
print(ok, type(e), e.code)
local w = coroutine.wrap(function() error("wrapped") end)
print(pcall(w))
local w2 = coroutine.wrap(function() error("lvl0", 0) end)
print(pcall(w2))
--- yield across boundaries
print(pcall(coroutine.yield, 1))
local c1 = coroutine.create(function() return pcall(coroutine.yield, 1) end)
print(coroutine.resume(c1))
local c2 = coroutine.create(function() local t = setmetatable({}, {__index = function() return coroutine.yield("meta") end}) return t.x end)
print(coroutine.resume(c2))
local c3 = coroutine.create(function() table.sort({3, 2, 1}, function(a, b) coroutine.yield() return a < b end) end)
print(coroutine.resume(c3))
local c4 = coroutine.create(function() return ("abc"):gsub(".", function(c) coroutine.yield(c) end) end)
print(coroutine.resume(c4))
--- resume errors
print(coroutine.resume(coroutine.create(function() end)))
local dead = coroutine.create(function() end)
coroutine.resume(dead)
print(coroutine.resume(dead))
local selfres
selfres = coroutine.create(function() return coroutine.resume(selfres) end)
print(coroutine.resume(selfres))
print(pcall(coroutine.resume, "x"))
print(pcall(coroutine.create, "x"))
print(pcall(coroutine.create, print))
print(pcall(coroutine.wrap, math.floor))
--- yield from nested calls
local function level3() return coroutine.yield("from level3") end
local function level2() return "l2:" .. level3() end
local function level1() return "l1:" .. level2() end
local nested = coroutine.create(level1)
print(coroutine.resume(nested))
print(coroutine.resume(nested, "value"))
--- generators
local function range(n) return coroutine.wrap(function() for i = 1, n do coroutine.yield(i) end end) end
local sum = 0
for i in range(10) do sum = sum + i end
print(sum)
local function permgen(a, n)
  n = n or #a
  if n <= 1 then coroutine.yield(a) else
    for i = 1, n do a[n], a[i] = a[i], a[n] permgen(a, n - 1) a[n], a[i] = a[i], a[n] end
  end
end
local perms = {}
for p in coroutine.wrap(function() permgen({1, 2, 3}) end) do perms[#perms + 1] = table.concat(p) end
print(table.concat(perms, " "))
--- producer consumer
local producer = coroutine.create(function() for _, item in ipairs({"a", "b", "c"}) do coroutine.yield(item) end return nil end)
local got = {}
while true do local ok, item = coroutine.resume(producer) if not item then break end got[#got + 1] = item end
print(table.concat(got), coroutine.status(producer))
--- passing values both ways with varargs
local echo = coroutine.wrap(function(...) local args = {...} while true do args = {coroutine.yield(unpack(args))} end end)
print(echo(1, 2, 3))
print(echo())
print(echo(nil, "x"))
--- coroutine running and isyieldable-like checks
local inside
local c5 = coroutine.create(function() inside = coroutine.running() end)
coroutine.resume(c5)
print(inside == c5, type(inside))
--- many coroutines
local cos = {}
for i = 1, 50 do cos[i] = coroutine.create(function(x) local y = coroutine.yield(x * 2) return x + y end) end
local total = 0
for i = 1, 50 do local _, v = coroutine.resume(cos[i], i) total = total + v end
for i = 1, 50 do local _, v = coroutine.resume(cos[i], 1) total = total + v end
print(total)
