--- arithmetic metamethods
local mt = {}
for _, e in ipairs({"add", "sub", "mul", "div", "mod", "pow", "concat"}) do
  mt["__" .. e] = function(a, b) return e .. "(" .. tostring(type(a) == "table" and "T" or a) .. "," .. tostring(type(b) == "table" and "T" or b) .. ")" end
end
mt.__unm = function(a) return "unm" end
local v = setmetatable({}, mt)
print(v + 1, 1 + v, v - 2, v * v, v / 3, v % 4, v ^ 5, v .. "s", "s" .. v, -v, 1 .. v)
--- metamethod from second operand and string operands
local n = setmetatable({}, {__add = function(a, b) return "second" end})
print(1 + n, "x" + n, n + "x")
print(pcall(function() return "x" + {} end))
--- comparison metamethods
local cmp = {__lt = function(a, b) return a.v < b.v end, __le = function(a, b) return a.v <= b.v end, __eq = function(a, b) return a.v == b.v end}
local a, b, c = setmetatable({v = 1}, cmp), setmetatable({v = 2}, cmp), setmetatable({v = 1}, cmp)
print(a < b, a > b, a <= c, a >= b, a == c, a ~= c, a == b, rawequal(a, c))
--- le falls back to not lt
local onlylt = {__lt = function(a, b) return a.v < b.v end}
local x, y = setmetatable({v = 1}, onlylt), setmetatable({v = 2}, onlylt)
print(x <= y, y <= x, x >= y)
--- eq only for same metamethod
local e1 = setmetatable({}, {__eq = function() return true end})
local e2 = setmetatable({}, {__eq = function() return true end})
local shared = {__eq = function() return true end}
local e3, e4 = setmetatable({}, shared), setmetatable({}, shared)
print(e1 == e2, e3 == e4, e3 == {}, e1 == 1)
--- lt with mixed types errors
print(pcall(function() return setmetatable({}, cmp) < 1 end))
print(pcall(function() return {} < {} end))
print(pcall(function() return setmetatable({}, {__lt = function() return true end}) < setmetatable({}, {__lt = function() return true end}) end))
--- index and newindex
local store = {}
local proxy = setmetatable({}, {
  __index = function(t, k) return "default_" .. tostring(k) end,
  __newindex = function(t, k, v) store[k] = v end,
})
proxy.a = 1
print(proxy.a, rawget(proxy, "a"), store.a, proxy[1])
local base = {greet = function(self) return "hi " .. self.name end}
local obj = setmetatable({name = "bob"}, {__index = base})
print(obj:greet(), obj.missing)
--- index chain through tables
local level3 = {deep = "found"}
local level2 = setmetatable({}, {__index = level3})
local level1 = setmetatable({}, {__index = level2})
print(level1.deep, level1.none)
--- newindex to a table
local target = {}
local redirect = setmetatable({}, {__newindex = target})
redirect.x = 5
print(rawget(redirect, "x"), target.x)
--- newindex not called for existing keys
local calls = 0
local t = setmetatable({existing = 1}, {__newindex = function(t, k, v) calls = calls + 1 rawset(t, k, v) end})
t.existing = 2
t.new = 3
t.new = 4
print(calls, t.existing, t.new)
--- call metamethod
local callable = setmetatable({}, {__call = function(self, a, b) return "called", a, b end})
print(callable(1, 2))
print(pcall(callable, "x"))
print(pcall(setmetatable({}, {__call = 1})))
--- tostring metamethod
local named = setmetatable({}, {__tostring = function() return "I am named" end})
print(tostring(named))
print(named)
local weird = setmetatable({}, {__tostring = function() return 42 end})
print(tostring(weird))
--- len metamethod is ignored for tables
local l = setmetatable({1, 2, 3}, {__len = function() return 99 end})
print(#l)
--- metatable protection
local p = setmetatable({}, {__metatable = "protected"})
print(getmetatable(p))
print(pcall(setmetatable, p, {}))
print(getmetatable("abc").__index == string, getmetatable(1), getmetatable(nil))
--- setmetatable returns table and clears with nil
local t = {}
print(setmetatable(t, nil) == t, getmetatable(t))
print(pcall(setmetatable, t, 5), pcall(setmetatable, 5, {}))
--- concat metamethod chains
local cat = setmetatable({}, {__concat = function(a, b)
  local av = type(a) == "table" and "[T]" or a
  local bv = type(b) == "table" and "[T]" or b
  return av .. bv
end})
print("a" .. cat .. "b", cat .. cat, 1 .. cat, "x" .. "y" .. cat .. "z")
--- index on strings via string metatable
local s = "hello"
print(s:upper(), s.upper == string.upper, ("x").len == string.len)
--- rawget bypasses index
local d = setmetatable({}, {__index = {a = 1}})
print(d.a, rawget(d, "a"))
--- metamethods receiving extra info
local rec = setmetatable({}, {__index = function(t, k) return k end, __newindex = function(t, k, v) rawset(t, k, v * 2) end})
rec[10] = 5
print(rec[10], rec.key, rec[true])
--- globals table with metatable
setmetatable(_G, {__index = function(t, k) return "global:" .. k end})
print(undefined_global_name)
setmetatable(_G, nil)
print(undefined_global_name)
--- inheritance pattern
local Animal = {}
Animal.__index = Animal
function Animal.new(name) return setmetatable({name = name}, Animal) end
function Animal:speak() return self.name .. " makes a sound" end
local Dog = setmetatable({}, {__index = Animal})
Dog.__index = Dog
function Dog.new(name) local d = Animal.new(name) return setmetatable(d, Dog) end
function Dog:speak() return self.name .. " barks" end
print(Animal.new("cat"):speak(), Dog.new("rex"):speak(), Dog.new("rex").new ~= nil)
--- loop in gettable
local loop = {}
setmetatable(loop, {__index = loop})
print(pcall(function() return loop.x end))
