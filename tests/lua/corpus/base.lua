--- type
print(type(nil), type(1), type("s"), type({}), type(print), type(true), type(coroutine.create(function() end)))
print(pcall(type))
--- tostring tonumber roundtrip
for _, v in ipairs({1, 1.5, -0.25, 1e20, 2^53}) do io_t = (io_t or "") .. tostring(tonumber(tostring(v)) == v) end
print(io_t)
--- select
print(select("#"), select("#", nil), select("#", 1, nil), select(1, "a", "b"), select(2, "a", "b"), select(-1, "a", "b"), select(-2, "a", "b"))
print(pcall(select, 0, "a"), pcall(select, -3, "a"), select(5, "a"), select("#", select(2, 1, 2, 3)))
print(select(2.7, "a", "b", "c"), select("2", "a", "b"))
--- ipairs stops at first nil
local t = {1, 2, nil, 4}
local n = 0 for _ in ipairs(t) do n = n + 1 end print(n)
local m = setmetatable({}, {__index = function(t, i) if i <= 3 then return i * 10 end end})
n = 0 for _, v in ipairs(m) do n = n + 1 end print(n)
--- pairs visits all
local keys = {}
for k, v in pairs({10, 20, x = 1, y = 2}) do keys[#keys + 1] = tostring(k) end
table.sort(keys)
print(table.concat(keys, ","))
--- next directly
local t = {a = 1}
print(next(t), next(t, "a"), next({}))
--- modifying during traversal
local t = {a = 1, b = 2, c = 3, d = 4}
for k in pairs(t) do t[k] = nil end
print(next(t))
local t2 = {1, 2, 3}
for k, v in pairs(t2) do t2[k] = v * 2 end
print(t2[1], t2[2], t2[3])
--- rawequal rawget rawset
print(rawequal(1, 1), rawequal("a", "a"), rawequal({}, {}), rawequal(nil, nil), rawequal(1, "1"))
print(pcall(rawequal, 1), pcall(rawget, {}, nil), rawset({}, 1, 2)[1])
--- getmetatable setmetatable
local mt = {}
local t = setmetatable({}, mt)
print(getmetatable(t) == mt, getmetatable({}), getmetatable("").__index == string)
--- unpack with explicit range
print(unpack({1, 2, 3}, -1, 1))
print(unpack({"a", "b"}, 1, 4))
--- loadstring and environments
local f = loadstring("return 1 + 1")
print(f())
local g = loadstring("x_from_chunk = 5 return ...")
print(g("arg1", "arg2"), x_from_chunk)
print(loadstring("syntax error here"))
print(loadstring("return 1", "=name")())
print(select("#", loadstring("")()))
local h = loadstring("local a, b = ... return b, a")
print(h(1, 2))
--- load with reader function
local parts = {"return ", "1 ", "+ 41"}
local i = 0
local f = load(function() i = i + 1 return parts[i] end)
print(f())
print(type(load(function() return nil end)))
print(pcall(load, "not a function"))
print((select(2, load(function() return {} end))):match("reader function must return a string$") ~= nil)
--- gcinfo and collectgarbage return numbers
print(type(gcinfo()), type(collectgarbage("count")), collectgarbage(), collectgarbage("collect"), type(collectgarbage("step")))
print(pcall(collectgarbage, "bogus"))
--- _G and _VERSION
print(_G._G == _G, _VERSION, _G.print == print)
_G.newglobal = 1
print(newglobal)
--- assert
print(assert(true, "unused"), assert(1), select("#", assert(1, 2, 3)))
print(pcall(assert, false), pcall(assert, nil, "msg"), pcall(assert, false, 12))
--- pcall returns all values
print(pcall(function() return 1, nil, 3 end))
print(select("#", pcall(function() end)))
print(pcall(pcall))
--- tostring of booleans nil and numbers
print(tostring(true) .. tostring(false) .. tostring(nil) .. tostring(0.1))
