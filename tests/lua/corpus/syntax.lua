--- locals and assignment
local a, b, c = 1, 2
print(a, b, c)
local d
print(d)
a, b = b, a
print(a, b)
local x, y = (function() return 1, 2, 3 end)()
print(x, y)
local p, q, r = 1, (function() return 2, 3 end)()
print(p, q, r)
local s, t = ((function() return 4, 5 end)())
print(s, t)
--- globals
g1 = 10
g2, g3 = 20
print(g1, g2, g3)
g1 = nil
print(g1)
--- semicolons and empty statements
local a = 1; local b = 2;
;;; print(a + b);
--- do blocks and shadowing
local v = "outer"
do local v = "inner" print(v) end
print(v)
do local v = v .. "!" print(v) end
--- while loop
local i = 0
while i < 5 do i = i + 1 end
print(i)
while false do print("never") end
--- repeat until sees body locals
local n = 0
repeat local done = n >= 2 n = n + 1 until done
print(n)
--- numeric for variants
for i = 1, 3 do io_write_stub = i end
local acc = {}
for i = 1, 3 do acc[#acc + 1] = i end
for i = 3, 1, -1 do acc[#acc + 1] = i end
for i = 1, 2, 0.5 do acc[#acc + 1] = i end
for i = 1, 0 do acc[#acc + 1] = "never" end
for i = 0.1, 0.35, 0.1 do acc[#acc + 1] = i end
print(table.concat(acc, " "))
for i = 1, 3 do local i = i * 10 acc[i] = i end
print(acc[10], acc[20], acc[30])
--- numeric for with string bounds
local out = {}
for i = "1", "3" do out[#out + 1] = i end
print(table.concat(out, ","), type(out[1]))
--- loop variable copy
for i = 1, 3 do i = i * 2 io_stub = i end
print(io_stub)
--- generic for
local t = {10, 20, 30}
for i, v in ipairs(t) do print(i, v) end
for k in pairs({a = 1}) do print(k) end
local function iter(s, c) if c < s then return c + 1, c * c end end
for a, b in iter, 3, 0 do print(a, b) end
--- generic for with extra values
for a, b, c, d in function(s, c) if not c then return 1, 2, 3, 4 end end do print(a, b, c, d) end
--- break in loops
for i = 1, 10 do if i > 3 then break end print(i) end
local k = 0
while true do k = k + 1 if k == 4 then break end end
print(k)
repeat k = k + 1 if k > 6 then break end until false
print(k)
for _, v in ipairs({1, 2, 3}) do if v == 2 then break end print(v) end
--- if chains
local function classify(n)
  if n < 0 then return "neg" elseif n == 0 then return "zero" elseif n < 10 then return "small" else return "big" end
end
print(classify(-1), classify(0), classify(5), classify(50))
if nil then print("no") end
if false then elseif nil then else print("else") end
--- functions and methods
local obj = {name = "o"}
function obj.plain(x) return x end
function obj:method(x) return self.name .. x end
print(obj.plain(1), obj:method("!"), obj.method(obj, "?"))
local ns = {inner = {}}
function ns.inner.deep() return "deep" end
function ns.inner:m() return self == ns.inner end
print(ns.inner.deep(), ns.inner:m())
--- function call syntax sugar
local function f(x) return type(x) .. ":" .. (type(x) == "table" and #x or tostring(x)) end
print(f"str", f{1, 2, 3}, f[[long]], f{})
local o = {f = function(self, x) return x end}
print(o:f"a", type(o:f{1}))
--- varargs
local function va(...)
  local n = select("#", ...)
  local a, b = ...
  return n, a, b, ...
end
print(va())
print(va(1))
print(va(1, 2, 3))
print(va(nil, nil))
print((va(1, 2)))
--- vararg in table and in middle
local function pack(...) return {...}, select("#", ...) end
local t, n = pack(1, nil, 3)
print(n, t[1], t[2], t[3])
local function mid(...) return ..., "end" end
print(mid(1, 2, 3))
--- arg compatibility table
local function old(...) return arg and arg.n, arg and arg[2] end
print(old("a", "b", "c"))
local function new(...) local x = ... return arg end
print(new(1))
--- recursive local function
local function fact(n) if n <= 1 then return 1 end return n * fact(n - 1) end
print(fact(10), fact(20))
local fib
fib = function(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
print(fib(20))
--- long strings and comments
--[[ block
comment ]] print("after block comment")
--[==[ another ]] still comment ]==] print("after level comment")
print([[
first newline skipped]])
print([==[contains ]] and ]=] ]==])
print(#[[

]])
-- line comment at end
--- string escapes
print("a\tb", "c\\d", "e\"f", 'g\'h', "\65\066\0677", "x\
y")
print(#"\0\00\000", ("\255"):byte(), "\z")
--- numerals
print(0x10, 0XfF, 1e2, 1E-2, .5, 5., 3.14, 0x1p4, 1e+3, 007)
print(2^10, 2^0.5, 10 % 3)
--- operator precedence
print(2 + 3 * 4, (2 + 3) * 4, 2 ^ 3 ^ 2, -2 ^ 2, not nil == true, 1 .. 2 .. 3)
print(1 < 2 == true, "a" .. "b" == "ab", 2 * 3 % 4, -3 % 5, #"abc" + 1)
print(1 and 2, nil and 1, false or "x", nil or false, 1 or error("no"), nil and error("no"))
print(not 1, not not nil, #"abc" * 2, -(-3))
--- and or chains with calls
local function t() return true end
local function f() return false end
print(t() and "yes" or "no", f() and "yes" or "no", t() or f(), f() or t(), nil or f() or "last")
--- nested functions and upvalues
local function outer()
  local x = 1
  local function middle()
    local function inner() x = x + 1 return x end
    return inner
  end
  return middle()
end
local inc = outer()
print(inc(), inc(), inc())
--- multiple returns adjust
local function three() return 1, 2, 3 end
local t = {three(), three()}
print(#t, t[1], t[2], t[4])
local t2 = {three(), (three())}
print(#t2)
print(three(), "x")
print("x", three())
print((three()))
--- table constructors
local t = {1, 2, 3; 4, x = 5, ["y z"] = 6, [10] = 7,}
print(#t, t.x, t["y z"], t[10])
local nested = {{1, 2}, {3, {4, 5}}}
print(nested[2][2][2])
local keyed = {[1] = "a", [2] = "b", "c"}
print(keyed[1], keyed[2])
local e = {}
print(#e, next(e))
