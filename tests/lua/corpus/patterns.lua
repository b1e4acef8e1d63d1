--- character classes
local s = "Ab1 _.%\t\n\0xZ9"
for _, c in ipairs({"%a", "%d", "%l", "%s", "%u", "%w", "%x", "%p", "%c", "%z", "%A", "%D", "%S", "%W", "."}) do
  print(c, (s:gsub(c, "#")))
end
--- sets
print(("hello123"):gsub("[aeiou]", "*"), ("hello123"):gsub("[^aeiou]", "*"), ("a-b]c"):gsub("[%]%-]", "!"), ("abcxyz"):gsub("[a-c]", "1"))
print(("a]b"):gsub("[]]", "!"), ("a^b"):gsub("[%^]", "!"), ("a^b"):gsub("[b^]", "!"), ("a-z"):gsub("[a-]", "!"), ("abc"):gsub("[c-a]", "!"))
print(("Hello World 42"):gsub("[%a%d]", "."), ("tab\there"):gsub("[%s]", "_"), ("x1y2"):gsub("[^%d]", ""))
--- quantifiers
print(("aaab"):match("a*"), ("aaab"):match("a+"), ("aaab"):match("a-b"), ("aaab"):match("a?"), ("b"):match("a*b"), ("b"):match("a+b"))
print(("<a><b>"):match("<.->"), ("<a><b>"):match("<.*>"), ("abc"):match(".-$"), ("abc"):match("^(.-)c"), ("xyz"):match("x?y?z?w?"))
--- anchors
print(("hello"):match("^h"), ("hello"):match("^e"), ("hello"):match("o$"), ("hello"):match("l$"), ("a$b"):match("a$b"), ("^a"):match("^^a"))
print(("hello"):find("^"), ("hello"):find("$"), ("hello"):gsub("^", ">"), ("hello"):gsub("$", "<"), ("aaa"):gsub("^a", "b"))
--- captures
print(("key = value"):match("(%w+)%s*=%s*(%w+)"))
print(("2024-01-15"):match("(%d+)-(%d+)-(%d+)"))
print(("hello"):match("(h)(e)(l)(l)(o)"))
print(("hello"):match("()ll()"))
print(("hello"):find("(l)(l)"))
print(("abc"):match("((a)(b))"))
print(("x"):match("()"), (""):match("()"), ("abc"):find("()", 4))
--- back references
print(("hello"):match("(l)%1"), ("abcabc"):match("(abc)%1"), ("aXbXc"):gsub("(X)", "%1%1"), ("say 'hi' and \"yo\""):match("([\"'])(.-)%1"))
print(pcall(string.match, "aa", "%1"), pcall(string.match, "aa", "(a)%2"))
--- balanced and frontier
print(("f(a(b)c)d"):match("%b()"), ("[[x]]"):match("%b[]"), ("no parens"):match("%b()"), ("(unclosed"):match("%b()"))
print(("THE (quick) fox"):find("%f[%a]%a+"), ("hello world"):gsub("%f[%w]%w+", "W"), ("aAbB"):gsub("%f[%u]", "|"))
print(("foo bar"):gsub("%f[%a]", "<"), ("foo bar"):gsub("%f[%A]", ">"), ("x"):find("%f[%z]"))
--- gsub replacement forms
print(("hello world"):gsub("o", "%0%0"), ("hello"):gsub("(l)", "[%1]"), ("abc"):gsub("", "%0"), ("abc"):gsub("b", "%%b"))
print(("a,b,,c"):gsub(",", ";"), ("abc"):gsub(".", {a = "A", c = 3}), ("key=val"):gsub("(%w+)=(%w+)", "%2=%1"))
--- empty matches
print(("abc"):gsub("x*", "-"), ("abc"):gsub("%w*", "-"), ("a b"):gsub("%s*", "_"), (""):gsub("", "x"), (""):gsub(".", "x"))
local t = {} for m in ("abc"):gmatch("x*") do t[#t + 1] = "[" .. m .. "]" end print(table.concat(t))
--- special chars escaped
print(("a.b*c"):gsub("%.", "!"), ("a.b*c"):gsub("%*", "!"), ("100%"):gsub("%%", " percent"), ("(x)"):gsub("[%(%)]", ""))
print(("a+b"):find("+", 1, true), ("a+b"):find("%+"), ("f(x)"):match("%((.-)%)"), ("$100"):match("%$(%d+)"))
--- pattern errors
print(pcall(string.find, "a", "[a"))
print(pcall(string.find, "a", "[a%"))
print(pcall(string.find, "a", "%"))
print(pcall(string.find, "a", "(a"))
print(pcall(string.match, "a", "(a"))
print(pcall(string.find, "a", "a)"))
print(pcall(string.find, "a", "%b"))
print(pcall(string.find, "a", "%ba"))
print(pcall(string.find, "a", "%f"))
print(pcall(string.find, "a", "%fa"))
print(pcall(string.gsub, "a", "(a", "%1"))
print(pcall(string.gsub, "a", "a", "%2"))
print(pcall(string.find, "a", "(()"))
--- patterns with embedded zeros
print(("a\0b"):find("\0"), ("a\0b"):find("%z"), ("a\0b"):match(".%z."), ("a\0b"):gsub("%z", "0"))
--- many captures
local p = string.rep("(.)", 32)
print(select("#", string.rep("x", 32):match(p)))
print(pcall(string.match, string.rep("x", 33), string.rep("(.)", 33)))
--- greedy backtracking
print(("aaaa"):match("(a*)(a)"), ("abcabc"):match("(.*)b"), ("abcabc"):match("(.-)b"), ("xaaay"):match("a+y"))
print(("one; two; three"):match("^(.-);"), ("one; two; three"):match("^(.*);"), ("  trim  "):match("^%s*(.-)%s*$"))
--- typical redis script patterns
local key = "bull:queue:123"
print(key:match("^(.+):(%d+)$"), key:gsub(":", "_"), key:find(":", 1, true), ("a:b:c"):match("([^:]+)$"))
local fields = {}
for f in ("a,b,,c"):gmatch("([^,]*)") do fields[#fields + 1] = "<" .. f .. ">" end
print(table.concat(fields))
print(("prefix:id:suffix"):gsub("^prefix:", ""), ("1,2,3"):gsub(",", " "), ("  x  "):gsub("^%s+", ""))
