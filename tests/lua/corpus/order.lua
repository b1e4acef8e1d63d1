--- iteration order of string keys
local t = {}
for _, k in ipairs({"a", "b", "c", "d", "e", "f", "g", "h", "name", "id", "data", "opts", "timestamp", "delay", "priority"}) do t[k] = true end
local seen = {}
for k in pairs(t) do seen[#seen + 1] = k end
print(table.concat(seen, " "))
--- constructor order
local c = {name = "x", id = 1, data = "d", opts = "o", attemptsMade = 0, delay = 0, priority = 1, timestamp = 5}
local seen = {}
for k in pairs(c) do seen[#seen + 1] = k end
print(table.concat(seen, " "))
--- numeric and mixed keys
local m = {}
m[10] = 1 m[20] = 2 m[1] = 3 m[2] = 4 m[3.5] = 5 m[-1] = 6 m[0] = 7 m.x = 8 m[100] = 9 m[true] = 10
local seen = {}
for k in pairs(m) do seen[#seen + 1] = tostring(k) end
print(table.concat(seen, " "))
--- order after deletions and reinsertions
local d = {}
for i = 1, 20 do d["k" .. i] = i end
for i = 1, 20, 2 do d["k" .. i] = nil end
d.extra = 1 d.k1 = 1
local seen = {}
for k in pairs(d) do seen[#seen + 1] = k end
print(table.concat(seen, " "))
--- growing table order
local g = {}
local seen = {}
for i = 1, 40 do g["field" .. i] = i end
for k, v in pairs(g) do seen[#seen + 1] = v end
print(table.concat(seen, ","))
--- array part and hash part
local a = {1, 2, 3, x = 1, y = 2}
a[4] = 4 a[6] = 6 a[5] = 5
local seen = {}
for k in pairs(a) do seen[#seen + 1] = tostring(k) end
print(table.concat(seen, " "))
--- length border cases driven by layout
local b = {}
b[1] = 1 b[2] = 2 b[3] = 3 b[5] = 5 b[6] = 6
print(#b)
local b2 = {1, 2, 3, nil, 5, 6}
print(#b2)
local b3 = {nil, nil, nil, 4}
print(#b3)
local b4 = {}
for i = 1, 8 do b4[i] = i end
b4[4] = nil
print(#b4)
b4[8] = nil
print(#b4)
local b5 = {}
b5[4] = 4 b5[3] = 3 b5[2] = 2 b5[1] = 1
print(#b5)
local b6 = {n = 1}
for i = 1, 100 do b6[i] = i end
for i = 50, 100 do b6[i] = nil end
b6[75] = 75
print(#b6)
--- numbers as keys like hash fields
local h = {}
for _, k in ipairs({"1", "2", "10", "foo", "bar", "baz", "qux", "quux"}) do h[k] = #k end
local seen = {}
for k, v in pairs(h) do seen[#seen + 1] = k .. "=" .. v end
print(table.concat(seen, " "))
--- nil assignment to absent key then insert
local z = {}
z.a = nil z.b = 1 z.c = nil z.d = 2 z.e = 3
local seen = {}
for k in pairs(z) do seen[#seen + 1] = k end
print(table.concat(seen, " "))
