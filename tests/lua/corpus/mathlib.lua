--- basic functions
print(math.abs(-3), math.abs(3.5), math.abs(-0.0), math.ceil(1.2), math.ceil(-1.2), math.floor(1.8), math.floor(-1.8), math.floor(-0.0))
print(math.max(1, 3, 2), math.max(-1), math.min(3, 1, 2), math.min(1.5, -2), math.max(1, "5"), pcall(math.max))
print(math.sqrt(2), math.sqrt(-1) ~= math.sqrt(-1), math.exp(1), math.log(math.exp(2)), math.log10(100), math.log(0))
print(math.pow(2, 10), math.pow(2, 0.5), math.pow(-2, 3), math.pow(0, 0), math.pow(1, 0/0))
print(math.fmod(7, 3), math.fmod(-7, 3), math.fmod(7, -3), math.fmod(5.5, 2), math.mod(7, 3))
print(math.modf(3.7), math.modf(-3.7), math.modf(5), math.modf(1/0), math.modf(-1/0))
print(math.frexp(8), math.frexp(0.5), math.frexp(-3), math.frexp(0), math.frexp(1e-310))
print(math.ldexp(0.5, 4), math.ldexp(1, -1), math.ldexp(3, 0), math.ldexp(1, 1024), math.ldexp(1, -1080))
--- trigonometry
print(math.sin(0), math.cos(0), math.tan(0), math.asin(1), math.acos(1), math.atan(1), math.atan2(1, 1), math.atan2(-1, -1))
print(math.sinh(0), math.cosh(0), math.tanh(0), math.deg(math.pi), math.rad(180), math.pi, math.huge)
print(string.format("%.10f %.10f %.10f", math.sin(1), math.cos(1), math.tan(1)))
--- argument coercion and errors
print(math.floor("3.7"), math.abs("-2"), pcall(math.floor, "x"), pcall(math.floor))
print(pcall(math.ldexp, 1), pcall(math.fmod, 1))
--- random ranges
math.randomseed(1)
local ok = true
for i = 1, 100 do local r = math.random(5) if r < 1 or r > 5 or r ~= math.floor(r) then ok = false end end
for i = 1, 100 do local r = math.random(3, 4) if r < 3 or r > 4 then ok = false end end
for i = 1, 100 do local r = math.random() if r < 0 or r >= 1 then ok = false end end
print(ok, pcall(math.random, 0), pcall(math.random, 2, 1), pcall(math.random, 1, 2, 3))
