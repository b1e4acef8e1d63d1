-- Runs a corpus file under the reference lua5.1 the way harness.ts runs it
-- under our engine: programs separated by "--- name" lines, each loaded as
-- a chunk named "=name" and called under pcall, errors printed.
local path = arg[1]
local file = assert(io.open(path, "rb"))
local source = file:read("*a")
file:close()
local programs = {}
local current = nil
for line in (source .. "\n"):gmatch("(.-)\n") do
  local name = line:match("^%-%-%- (.*)$")
  if name then
    current = { name = name, lines = {} }
    programs[#programs + 1] = current
  elseif current then
    current.lines[#current.lines + 1] = line
  end
end
for _, program in ipairs(programs) do
  print("=== " .. program.name)
  local fn, message = loadstring(table.concat(program.lines, "\n"), "=" .. program.name)
  if not fn then
    print("SYNTAX: " .. message)
  else
    local ok, err = pcall(fn)
    if not ok then print("ERROR: " .. tostring(err)) end
  end
end
