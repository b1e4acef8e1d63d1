--- counters share and separate upvalues
local function counter()
  local n = 0
  return function() n = n + 1 return n end, function() return n end
end
local inc, get = counter()
local inc2 = counter()
inc() inc() inc2()
print(get(), inc2())
--- fresh upvalue per loop iteration
local fns = {}
for i = 1, 3 do fns[i] = function() return i end end
print(fns[1](), fns[2](), fns[3]())
local fns2 = {}
for _, v in ipairs({"a", "b"}) do fns2[#fns2 + 1] = function() return v end end
print(fns2[1](), fns2[2]())
local fns3 = {}
local j = 1
while j <= 3 do local k = j fns3[j] = function() k = k + 10 return k end j = j + 1 end
print(fns3[1](), fns3[1](), fns3[2]())
local fns4 = {}
local r = 0
repeat local q = r fns4[#fns4 + 1] = function() return q end r = r + 1 until r == 3
print(fns4[1](), fns4[3]())
--- shared upvalue between closures of same scope
local function pair()
  local value = 0
  local function set(v) value = v end
  local function get() return value end
  return set, get
end
local set, get = pair()
set(42)
print(get())
--- upvalue of upvalue
local function a()
  local x = "x"
  return function()
    return function() x = x .. "!" return x end
  end
end
local deep = a()()
print(deep(), deep())
--- closure captures parameter
local function adder(n) return function(m) return n + m end end
local add5 = adder(5)
print(add5(1), adder(10)(2))
--- modifying captured local after closure creation
local v = 1
local function read() return v end
v = 2
print(read())
--- closures in table constructors
local t = {f = function() return "f" end, g = function(self) return self.h end, h = "H"}
print(t.f(), t:g())
--- recursive closures
local function make()
  local function even(n) if n == 0 then return true end return odd(n - 1) end
  function odd(n) if n == 0 then return false end return even(n - 1) end
  return even
end
print(make()(10), make()(7))
--- vararg closures
local function bind(f, ...)
  local args = {...}
  local n = select("#", ...)
  return function(...) local all = {unpack(args, 1, n)} for i = 1, select("#", ...) do all[n + i] = select(i, ...) end return f(unpack(all, 1, n + select("#", ...))) end
end
print(bind(function(...) return select("#", ...), ... end, 1, nil)(3, nil))
--- memoize
local function memo(f)
  local cache = {}
  return function(n) local c = cache[n] if c == nil then c = f(n) cache[n] = c end return c end
end
local calls = 0
local sq = memo(function(n) calls = calls + 1 return n * n end)
print(sq(4), sq(4), sq(5), calls)
--- many closures in loop with nested loops
local grid = {}
for x = 1, 3 do for y = 1, 3 do grid[#grid + 1] = function() return x * 10 + y end end end
print(grid[1](), grid[5](), grid[9]())
--- closure over loop control in while with break
local saved
local n = 0
while true do n = n + 1 local captured = n * 2 if n == 3 then saved = function() return captured end break end end
print(saved())
