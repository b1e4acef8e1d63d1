/**
 * Tests of the engine's public interface (src/lua/mod.ts): compiling,
 * host functions, errors, globals protection as Redis sets it up, and
 * resumable execution with budgets (including inside pcall, coroutines and
 * sort comparators), abandoning runs, and stack overflow.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  callFunction,
  CJSON_NULL,
  compile,
  createGlobals,
  LuaError,
  luaError,
  LuaSyntaxError,
  LuaTable,
  type LuaValue,
  numberToString,
  RedisRandom,
  startCall,
} from "../../src/lua/mod.ts";

function run(source: string, globals = createGlobals().globals): LuaValue[] {
  return callFunction(compile(source, "@user_script", { env: globals }));
}

/** Runs to completion in slices of `ticks`; returns the values and the number of slices. */
function runSliced(source: string, ticks: number): { values: LuaValue[]; slices: number } {
  const { globals } = createGlobals();
  const execution = startCall(compile(source, "@user_script", { env: globals }), []);
  for (let slices = 1;; slices++) {
    const slice = execution.resume({ ticks });
    if (slice.done) return { values: slice.values, slices };
  }
}

function errorValue(fn: () => unknown): LuaValue {
  try {
    fn();
  } catch (error) {
    if (error instanceof LuaError) return error.value;
    throw error;
  }
  throw new Error("expected a Lua error");
}

Deno.test("compile reports syntax errors as loadbuffer does for @user_script", () => {
  const { globals } = createGlobals();
  assert.throws(
    () => compile("local x = 1\nif x then\nx = end", "@user_script", { env: globals }),
    (error: unknown) =>
      error instanceof LuaSyntaxError &&
      error.message === "user_script:3: unexpected symbol near 'end'",
  );
  assert.throws(
    () => compile("x", "@user_script", { env: globals }),
    (error: unknown) =>
      error instanceof LuaSyntaxError &&
      error.message === "user_script:1: '=' expected near '<eof>'",
  );
});

Deno.test("results come back as an array of Lua values", () => {
  assert.deepEqual(run("return 1, 'two', nil, true"), [1, "two", undefined, true]);
  assert.deepEqual(run("return"), []);
  assert.deepEqual(run("return 10 / 2, 1e15 .. '', 2^53"), [5, "1e+15", 2 ** 53]);
  const [table] = run("return {1, 2, x = 'y'}");
  assert.ok(table instanceof LuaTable);
  assert.equal(table.length(), 2);
  assert.equal(table.get("x"), "y");
});

Deno.test("host functions take Lua values and return one value or an array", () => {
  const { globals } = createGlobals();
  globals.set("add", (a: number, b: number) => a + b);
  globals.set("pair", () => ["left", "right"]);
  globals.set("nothing", () => []);
  assert.deepEqual(run("return add(2, 3), pair()", globals), [5, "left", "right"]);
  assert.deepEqual(run("return select('#', nothing()), (pair())", globals), [0, "left"]);
});

Deno.test("a host function raises a table error that pcall returns as is", () => {
  const { globals } = createGlobals();
  globals.set("fail", () => {
    const error = new LuaTable();
    error.set("err", "WRONGTYPE Operation against a key holding the wrong kind of value");
    throw new LuaError(error);
  });
  assert.deepEqual(run("local ok, e = pcall(fail) return ok, type(e), e.err", globals), [
    false,
    "table",
    "WRONGTYPE Operation against a key holding the wrong kind of value",
  ]);
  const value = errorValue(() => run("fail()", globals));
  assert.ok(value instanceof LuaTable);
});

Deno.test("luaError from a host function gets the caller's position", () => {
  const { globals } = createGlobals();
  globals.set("check", () => {
    throw luaError("Please specify at least one argument for this redis lib call");
  });
  assert.equal(
    errorValue(() => run("local a = 1\ncheck()", globals)),
    "user_script:2: Please specify at least one argument for this redis lib call",
  );
});

Deno.test("a host function can call back into Lua synchronously", () => {
  const { globals } = createGlobals();
  globals.set(
    "twice",
    (fn: LuaValue) => callFunction(fn, [21]).map((value) => (value as number) * 2),
  );
  assert.deepEqual(run("return twice(function(x) return x, x + 1 end)", globals), [42, 44]);
});

Deno.test("runtime errors name variables as Lua 5.1 does", () => {
  assert.equal(
    errorValue(() => run("local t = {}\nreturn t.x.y")),
    "user_script:2: attempt to index field 'x' (a nil value)",
  );
  assert.equal(
    errorValue(() => run("return nosuch()")),
    "user_script:1: attempt to call global 'nosuch' (a nil value)",
  );
  assert.equal(
    errorValue(() => run("local x\nreturn x + 1")),
    "user_script:2: attempt to perform arithmetic on local 'x' (a nil value)",
  );
  assert.equal(
    errorValue(() => run("table.insert(nil, 1)")),
    "user_script:1: bad argument #1 to 'insert' (table expected, got nil)",
  );
});

Deno.test("globals protected like Redis's sandbox raise errors at the script's line", () => {
  const { globals } = createGlobals();
  run(
    `setmetatable(_G, {
      __index = function(t, name) error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2) end,
      __newindex = function(t, name) error("Attempt to modify a readonly table", 2) end,
    })`,
    globals,
  );
  assert.equal(
    errorValue(() => run("local a = 1\nreturn b", globals)),
    "user_script:2: Script attempted to access nonexistent global variable 'b'",
  );
  assert.equal(
    errorValue(() => run("x = 5", globals)),
    "user_script:1: Attempt to modify a readonly table",
  );
  assert.deepEqual(run("local ok, e = pcall(function() return y end) return ok, e", globals), [
    false,
    "user_script:1: Script attempted to access nonexistent global variable 'y'",
  ]);
});

Deno.test("loadstring refuses bytecode the way Redis does and compiles text", () => {
  assert.deepEqual(run("local f, e = loadstring(string.char(27) .. 'Lua') return f, e"), [
    undefined,
    "[string \"\x1bLua\"]:1: unexpected symbol near 'char(27)'",
  ]);
  assert.deepEqual(run("return loadstring('return 1 + 1')()"), [2]);
});

Deno.test("the same chunk can be bound to two globals tables", () => {
  const first = createGlobals().globals;
  const second = createGlobals().globals;
  first.set("name", "first");
  second.set("name", "second");
  assert.deepEqual(run("return name", first), ["first"]);
  assert.deepEqual(run("return name", second), ["second"]);
});

Deno.test("cjson.null is a light userdata distinct from nil", () => {
  const [value, kind] = run("local v = cjson.decode('[null]')[1] return v, type(v)");
  assert.equal(value, CJSON_NULL);
  assert.equal(kind, "userdata");
});

Deno.test("math.random follows Redis's generator, which is not reseeded between scripts", () => {
  const random = new RedisRandom();
  assert.equal(numberToString(random.fraction()), "0.39646477363839");
  assert.equal(numberToString(random.fraction()), "0.84048536971234");
  random.seed(0);
  assert.equal(numberToString(random.fraction()), "0.17082803611217");
  const { globals } = createGlobals();
  assert.deepEqual(run("return tostring(math.random())", globals), ["0.39646477363839"]);
  assert.deepEqual(run("return tostring(math.random())", globals), ["0.84048536971234"]);
});

Deno.test("a long loop runs in slices and gives the same result as unsliced", () => {
  const source = "local s = 0 for i = 1, 200000 do s = s + i % 7 end return s";
  const whole = run(source);
  const sliced = runSliced(source, 20000);
  assert.deepEqual(sliced.values, whole);
  assert.ok(sliced.slices > 5, `expected several slices, got ${sliced.slices}`);
});

const MIXED_PROGRAM = `
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
local out = {}
out[#out + 1] = fib(16)
local t = {}
for i = 1, 60 do t[i] = (i * 7919) % 61 end
table.sort(t, function(a, b) local z = 0 for k = 1, 3 do z = z + k end return a > b end)
out[#out + 1] = table.concat(t, ",")
out[#out + 1] = select(2, pcall(function() local x = 0 for i = 1, 300 do x = x + i end error("after " .. x, 0) end))
out[#out + 1] = select(2, xpcall(function() for i = 1, 50 do end error("x", 0) end, function(m) local n = 0 for i = 1, 20 do n = n + 1 end return m .. n end))
local gen = coroutine.wrap(function() for i = 1, 5 do local z = 0 for j = 1, 30 do z = z + j end coroutine.yield(i + z) end end)
out[#out + 1] = gen() + gen() + gen()
local co = coroutine.create(function(a) local s = a for i = 1, 20 do s = s + coroutine.yield(s) end return s end)
local last
for i = 1, 21 do local _, v = coroutine.resume(co, i) last = v end
out[#out + 1] = last
local closures = {}
for i = 1, 5 do closures[i] = function() local q = 0 while q < 25 do q = q + 1 end return i * q end end
out[#out + 1] = closures[2]() + closures[5]()
out[#out + 1] = (("abc"):gsub("%w", function(c) local n = 0 for i = 1, 10 do n = n + 1 end return c:upper() end))
return table.concat(out, " | ")
`;

Deno.test("suspension inside pcall, xpcall, coroutines and sort comparators resumes exactly", () => {
  const [expected] = run(MIXED_PROGRAM);
  for (const ticks of [1, 3, 17, 1000]) {
    const sliced = runSliced(MIXED_PROGRAM, ticks);
    assert.equal(sliced.values[0], expected, `with slices of ${ticks} ticks`);
  }
  assert.ok(runSliced(MIXED_PROGRAM, 1).slices > 100);
});

Deno.test("a table.sort comparator can be suspended mid-sort", () => {
  const source = `
    local t = {}
    for i = 1, 300 do t[i] = (i * 104729) % 997 end
    table.sort(t, function(a, b) return a < b end)
    for i = 2, #t do assert(t[i - 1] <= t[i]) end
    return t[1], t[300]
  `;
  const whole = run(source);
  const sliced = runSliced(source, 2);
  assert.deepEqual(sliced.values, whole);
  assert.ok(sliced.slices > 100);
});

Deno.test("an error raised after a resume surfaces from resume as a LuaError", () => {
  const { globals } = createGlobals();
  const execution = startCall(
    compile("for i = 1, 100000 do end\nerror('late failure')", "@user_script", { env: globals }),
  );
  let message: LuaValue;
  for (;;) {
    try {
      if (execution.resume({ ticks: 10000 }).done) break;
    } catch (error) {
      assert.ok(error instanceof LuaError);
      message = error.value;
      break;
    }
  }
  assert.equal(message!, "user_script:2: late failure");
  assert.equal(execution.finished, true);
});

Deno.test("an abandoned run cannot be resumed and its pcall never sees the kill", () => {
  const { globals } = createGlobals();
  let handlerCalls = 0;
  globals.set("note", () => {
    handlerCalls++;
    return [];
  });
  const execution = startCall(
    compile("local ok = pcall(function() while true do end end) note() return ok", "@user_script", {
      env: globals,
    }),
  );
  assert.deepEqual(execution.resume({ ticks: 50000 }), { done: false });
  execution.abandon();
  assert.throws(() => execution.resume(), /already finished/);
  assert.equal(handlerCalls, 0);
});

Deno.test("a time budget suspends an endless loop", () => {
  const { globals } = createGlobals();
  const execution = startCall(compile("while true do end", "@user_script", { env: globals }));
  assert.deepEqual(execution.resume({ milliseconds: 20 }), { done: false });
  assert.deepEqual(execution.resume({ milliseconds: 5 }), { done: false });
  execution.abandon();
});

Deno.test("runaway recursion ends in Lua's stack overflow error, catchable by pcall", () => {
  const [ok, message] = run("local function f(n) return 1 + f(n + 1) end return pcall(f, 1)");
  assert.equal(ok, false);
  assert.match(String(message), /^user_script:1: stack overflow$/);
  assert.match(
    String(errorValue(() => run("local function f() return 1 + f() end\nf()"))),
    /stack overflow/,
  );
  assert.deepEqual(run("return 1 + 1"), [2]);
});

Deno.test("coroutine.yield across pcall fails as in 5.1", () => {
  assert.deepEqual(
    run(
      "return coroutine.resume(coroutine.create(function() return pcall(coroutine.yield, 1) end))",
    ),
    [
      true,
      false,
      "attempt to yield across metamethod/C-call boundary",
    ],
  );
});

Deno.test("LuaTable exposes get, set, length and next with Lua's semantics", () => {
  const table = new LuaTable();
  table.set(1, "a");
  table.set(2, "b");
  table.set(4, "d");
  table.set("key", true);
  assert.equal(table.get(1.0), "a");
  assert.equal(table.length(), 4);
  const keys: LuaValue[] = [];
  for (let key = table.next(undefined); key !== undefined && key !== null; key = table.next(key)) {
    keys.push(key);
  }
  assert.deepEqual(keys.sort(), [1, 2, 4, "key"].sort());
});
