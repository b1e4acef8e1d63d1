--- length border
local t = {1, 2, 3}
print(#t)
t[5] = 5
print(#t)
t[4] = 4
print(#t)
t[#t + 1] = 6
print(#t)
t[6] = nil
print(#t)
--- length of tables with holes
print(#{1, nil, 3}, #{nil, nil, 3}, #{1, 2, nil}, #{nil}, #{n = 1}, #{[1] = 1, [2] = 2, [4] = 4})
local h = {}
h[1] = 1 h[2] = 2 h[4] = 4
print(#h)
local g = {}
for i = 1, 10 do g[i] = i end
g[5] = nil
print(#g)
g[10] = nil
print(#g)
local k = {}
k[2] = 2 k[3] = 3
print(#k)
k[1] = 1
print(#k)
--- length after removals
local r = {}
for i = 1, 20 do r[i] = i end
for i = 20, 11, -1 do r[i] = nil end
print(#r)
r[15] = 15
print(#r)
--- table.insert and remove
local t = {}
table.insert(t, "a")
table.insert(t, "b")
table.insert(t, 1, "c")
table.insert(t, 2, "d")
print(table.concat(t, ","), #t)
print(table.remove(t), table.remove(t, 1), table.concat(t, ","))
print(table.remove({}), table.remove({}, 1), #t)
table.insert(t, 10, "far")
print(t[10], #t)
print(pcall(table.insert, t), pcall(table.insert, t, 1, 2, 3), pcall(table.insert, nil, 1))
print(table.remove(t, 10), table.remove(t, 7))
--- concat
print(table.concat({1, 2, 3}), table.concat({1, 2, 3}, ", "), table.concat({}, ","), table.concat({1}, ","))
print(table.concat({"a", "b", "c"}, "", 2), table.concat({"a", "b", "c"}, "-", 1, 2), table.concat({"a"}, "-", 3, 2))
print(table.concat({1.5, 2^53, -0.0}, " "))
print(pcall(table.concat, {1, {}, 3}))
print(pcall(table.concat, {1, nil, 3}, ",", 1, 3))
--- getn maxn setn
print(table.getn({1, 2, 3}), table.maxn({}), table.maxn({1, 2, [10] = 3, [5.5] = 4, x = 1}), table.maxn({[-1] = 1}))
print(pcall(table.setn, {}, 1))
--- foreach foreachi
table.foreach({a = 1}, function(k, v) print("fe", k, v) end)
table.foreachi({"x", "y"}, function(i, v) print("fei", i, v) end)
print(table.foreachi({"x", "y"}, function(i, v) if i == 2 then return "stop" .. v end end))
--- sort
local t = {5, 3, 8, 1, 9, 2, 7, 4, 6, 0}
table.sort(t)
print(table.concat(t, " "))
table.sort(t, function(a, b) return a > b end)
print(table.concat(t, " "))
local words = {"banana", "apple", "Cherry", "date", "apple"}
table.sort(words)
print(table.concat(words, " "))
local recs = {{n = 3, s = "c"}, {n = 1, s = "a"}, {n = 2, s = "b"}, {n = 1, s = "z"}}
table.sort(recs, function(x, y) return x.n < y.n end)
for _, r in ipairs(recs) do io_w = (io_w or "") .. r.n .. r.s .. " " end
print(io_w)
local big = {}
for i = 1, 500 do big[i] = (i * 7919) % 503 end
table.sort(big)
local ok = true
for i = 2, #big do if big[i - 1] > big[i] then ok = false end end
print(ok, big[1], big[250], big[500])
--- sort stability and order of equal elements
local eq = {}
for i = 1, 30 do eq[i] = {k = i % 3, id = i} end
table.sort(eq, function(a, b) return a.k < b.k end)
local ids = {}
for i, v in ipairs(eq) do ids[i] = v.id end
print(table.concat(ids, ","))
--- sort errors
print(pcall(table.sort, {3, 1, "x"}))
print(pcall(table.sort, {1, 2, 3}, 5))
print(pcall(table.sort, {{}, {}}))
print(pcall(table.sort, {3, 2, 1}, function(a, b) return true end))
print(pcall(table.sort, {3, 2, 1}, function(a, b) error("in cmp") end))
--- sort small and empty
local e = {} table.sort(e) print(#e)
local one = {1} table.sort(one) print(one[1])
local two = {2, 1} table.sort(two) print(two[1], two[2])
--- unpack
print(unpack({1, 2, 3}))
print(unpack({1, 2, 3}, 2))
print(unpack({1, 2, 3}, 2, 3))
print(unpack({1, nil, 3}))
print(unpack({}, 1, 3))
print(select("#", unpack({}, 1, 0)), select("#", unpack({1, 2}, 3)))
print(pcall(unpack, {}, 1, 1e8))
--- next and rawlen
local t = {10}
local k, v = next(t)
print(k, v, next(t, k))
print(pcall(next, t, "nokey"))
print(next({}, nil))
--- table with many types of keys
local t = {}
t[1] = "int" t[1.5] = "float" t["1"] = "str" t[true] = "bool" t[false] = "f"
print(t[1], t[1.5], t["1"], t[true], t[false])
print(pcall(function() t[nil] = 1 end))
print(pcall(function() t[0/0] = 1 end))
print(t[nil], t[0/0])
--- rawget rawset rawequal
local t = setmetatable({}, {__index = function() return "meta" end, __newindex = function() error("no") end})
rawset(t, "x", 1)
print(rawget(t, "x"), rawget(t, "y"), t.y, rawequal(t, t), rawequal(t, {}), rawequal(1, 1.0), rawequal("a", "a"))
print(pcall(rawset, t, nil, 1))
