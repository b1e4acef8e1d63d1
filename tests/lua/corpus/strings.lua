--- len sub upper lower rep reverse
local s = "Hello, World"
print(#s, s:len(), string.len(""), s:upper(), s:lower(), ("abc"):rep(3), ("x"):rep(0), ("x"):rep(-1), s:reverse())
print(("é\200"):upper(), ("ÀB"):lower())
--- sub with all index forms
local s = "abcdef"
print(s:sub(2), s:sub(2, 4), s:sub(-2), s:sub(-3, -2), s:sub(0), s:sub(10), s:sub(3, 2), s:sub(-100, 2), s:sub(2, 100), s:sub(1.9, 3.9))
print(("abc"):sub(2.5), pcall(string.sub, "abc"), pcall(string.sub, "abc", "x"))
--- byte and char
print(("ABC"):byte(), ("ABC"):byte(2), ("ABC"):byte(1, 3), ("ABC"):byte(-1), ("ABC"):byte(10), ("ABC"):byte(3, 1))
print(string.char(), string.char(65, 66, 67), #string.char(0, 255), pcall(string.char, 256), pcall(string.char, -1), pcall(string.char, "x"))
--- concat of numbers and strings
print(1 .. 2, "a" .. 1.5, 2^53 .. "", "x" .. -0.0)
print(pcall(function() return "a" .. nil end))
print(pcall(function() return "a" .. true end))
print(pcall(function() return "a" .. {} end))
--- string comparison is bytewise
print("a" < "b", "B" < "a", "\0" < "\1", "a\0b" < "a\0c", "abc" < "ab", "\255" > "\127")
--- find plain and with init
local s = "hello world hello"
print(s:find("hello"), s:find("hello", 2), s:find("hello", -5), s:find("xyz"), s:find(""), s:find("", 100), s:find("", -100))
print(s:find("o w", 1, true), s:find(".", 1, true), ("a.b"):find(".", 1, true), ("a+b"):find("+", 1, true))
print(("abc"):find("b", 10), ("abc"):find("c", 3), ("abc"):find("c", 4), ("abc"):find("", 4), ("abc"):find("", 5))
--- string methods through metatable
local s = "x"
print(s:rep(2), ("%d"):format(5), #s, s.len == string.len, ("abc"):find("c"))
print(pcall(function() return s.nomethod() end))
--- gsub basics
print(("hello world"):gsub("o", "0"), ("hello"):gsub("l", "L", 1), ("hello"):gsub("", "-"), ("abc"):gsub(".", {a = 1, b = true}))
print(("abc"):gsub("%w", "%0%0"), ("hello world"):gsub("(%w+) (%w+)", "%2 %1"), ("abc"):gsub("b", "%%"), ("abc"):gsub("a", "%"))
print(("a b c"):gsub(" ", "", 0), ("aaa"):gsub("a", "b", 2.7), ("abc"):gsub("x", "y"))
--- gsub with function
print(("1 2 3"):gsub("%d", function(d) return d * 2 end))
print(("a-b-c"):gsub("%a", function(c) if c == "b" then return nil end return c:upper() end))
print(("abc"):gsub("%a", function() return false end))
print(pcall(string.gsub, "abc", "a", function() return {} end))
print(pcall(string.gsub, "abc", "a", true))
--- gmatch
local words = {}
for w in ("one two  three"):gmatch("%a+") do words[#words + 1] = w end
print(table.concat(words, "|"))
for k, v in ("a=1,b=2,c=3"):gmatch("(%w)=(%w)") do io_x = (io_x or "") .. k .. v end
print(io_x)
for pos in ("abc"):gmatch("()") do io_y = (io_y or "") .. pos end
print(io_y)
local count = 0 for _ in ("aaa"):gmatch("a*") do count = count + 1 end print(count)
for x in ("^a^b"):gmatch("^%a") do print(x) end
--- upper lower on binary
print(("\0aZ\255"):upper() == "\0AZ\255", ("\0aZ\255"):lower() == "\0az\255")
--- rep with separator argument ignored in 5.1
print(("ab"):rep(3, ","))
--- tostring of various
print(tostring("x"), tostring(1), tostring(nil), tostring(true), tostring(-0.0))
--- long string building
local parts = {}
for i = 1, 100 do parts[i] = string.char(65 + i % 26) end
local joined = table.concat(parts)
print(#joined, joined:sub(1, 10), joined:sub(-5))
local acc = ""
for i = 1, 50 do acc = acc .. i end
print(#acc, acc:sub(-10))
