--- tostring of numbers
print(1, -1, 0, 1.5, -1.5, 100, 1e14, 1e15, 1e16, 123456789012, 12345678901234, 123456789012345)
print(0.1, 1/3, 2/3, 1e-4, 1e-5, 1e-10, 123.456, 1e100, 1e300 * 1e10, -1e300 * 1e10)
print(2^53, 2^53 + 1, 2^63, 2^64, -2^63, 1e21, 1e22)
print(3.0, -3.0, 1e0, 5e-324, 1.7976931348623157e308)
print(100 / 3, 10 / 4, 7 / 7, 1 / 7)
--- negative zero
print(-0)
print(0 * -1)
local z = 0
print(-z, z * -1, 1 / (-z))
--- constants share a slot with zero
local a = 0
local b = -0
print(a, b)
--- integer keys and float keys
local t = {}
t[1.0] = "one"
t[2] = "two"
t[2^53] = "big"
print(t[1], t[2.0], #t, t[2^53])
t[1.5] = "frac"
print(t[1.5], t[3 / 2])
--- arithmetic
print(7 + 3, 7 - 3, 7 * 3, 7 / 2, 7 % 3, 7 ^ 2)
print(-7 % 3, 7 % -3, -7 % -3, 5.5 % 2, -5.5 % 2, 5 % 0.3)
print(1 % 0, -1 % 0, 0 % 0 ~= 0 % 0)
print(2 ^ -1, (-8) ^ (1/3) ~= (-8) ^ (1/3), 0 ^ 0, 1 ^ 1e300)
print(1 / 0, -1 / 0, 1e308 * 10)
print(math.huge - math.huge ~= math.huge - math.huge)
--- large integer arithmetic like BullMQ
local now = 1700000000123
local every = 5000
print(math.floor(now / every) * every, now * 0x1000, (now * 0x1000) + 7, now % 4096)
print(string.format("%.0f", now * 0x1000 + 4095), tostring(now * 0x1000 + 4095))
local ts = 1700000000123 * 0x1000 + 15
print(math.floor(ts / 0x1000), ts % 0x1000)
print(9007199254740993, 2^53 + 2, 1e15 + 1, 1e16 + 1)
--- string to number coercion
print("10" + 1, "3.5" * 2, "0x10" + 0, " 5 " - 1, "1e2" / 1, "-3" ^ 2)
print(10 .. "", 1.5 .. "", -0 .. "", 1e100 .. "")
print(pcall(function() return "abc" + 1 end))
print(pcall(function() return {} + 1 end))
--- tonumber
print(tonumber("10"), tonumber("10.5"), tonumber("  10  "), tonumber("0x1A"), tonumber("1e3"), tonumber(".5"), tonumber("5."))
print(tonumber("abc"), tonumber(""), tonumber(" "), tonumber("1 2"), tonumber("0x"), tonumber("1e"), tonumber("--1"))
print(tonumber("inf"), tonumber("-inf"), tonumber("infinity"), tonumber("1e500"), tonumber("-0"))
print(tonumber("10", 2), tonumber("ff", 16), tonumber("FF", 16), tonumber("zz", 36), tonumber("777", 8), tonumber("12", 3))
print(tonumber("2", 2), tonumber("", 10), tonumber(" 11 ", 2), tonumber("0x10", 16), tonumber("-10", 10), tonumber("1.5", 10))
print(tonumber(42), tonumber(nil), tonumber(true), tonumber({}))
print(pcall(tonumber, "10", 1), pcall(tonumber, "10", 37))
print(tonumber("10\0"), tonumber("  0x10  "), tonumber("0X1f"), tonumber("1E+2"))
--- comparisons
print(1 < 2, 2 <= 2, 3 > 2, 2 >= 3, 1 == 1.0, "a" < "b", "abc" < "abd", "Z" < "a", "" < "a", "a" < "aa")
print(1 == "1", "10" < "9", 0 == -0, 1/0 > 1e308)
local nan = 0/0
print(nan == nan, nan ~= nan, nan < 1, nan > 1, 1 < nan)
--- number formatting through concatenation
local parts = {}
for _, v in ipairs({1, 0.5, 1e20, 2^31, -2^31, 1/4, 1e-300}) do parts[#parts + 1] = v .. "" end
print(table.concat(parts, " "))
--- float loop accumulation
local s = 0
for i = 1, 10 do s = s + 0.1 end
print(s, s == 1, string.format("%.17g", s))
--- integer division idioms
print(math.floor(7 / 2), math.floor(-7 / 2), math.ceil(7 / 2), 7 - 7 % 2)
--- constant folding keeps semantics
print(2^53 + 1 - 2^53, 0.1 + 0.2, 1e308 + 1e308, -(2^63))
