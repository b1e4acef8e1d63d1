/**
 * A Lua 5.1 engine for Redis scripting: Lua compiled to JavaScript, with the
 * standard libraries Redis loads and Redis's own `cjson`, `cmsgpack`, `bit`
 * and `struct`, and execution that can be suspended and resumed so a long
 * script does not block the server.
 *
 * ## Values
 *
 * nil is `undefined`, booleans and numbers are JS booleans and numbers
 * (doubles, as in Lua 5.1), strings are binary JS strings (one char per
 * byte), tables are {@link LuaTable}, functions are JS functions, coroutines
 * {@link Coroutine}, userdata {@link Userdata} / {@link LightUserdata}
 * (`cjson.null` is a light userdata, as in Redis). See values.ts.
 *
 * ## Functions and host functions
 *
 * Every function, compiled or host, is a JS function taking Lua values and
 * returning either one value or an array of values (for zero or several
 * results). A host function raises a Lua error by throwing
 * `new LuaError(value)` (any value: Redis raises `{err = "..."}` tables), or
 * `luaError(message)` for a message that gets the caller's "chunk:line:"
 * prefix. It may call back into Lua synchronously with {@link callFunction}.
 *
 * ```ts
 * const { globals, random } = createGlobals();
 * globals.set("add", (a: number, b: number) => a + b);
 * const main = compile("return add(1, 2) .. '!'", "@user_script", { env: globals });
 * callFunction(main); // ["3!"]
 * ```
 *
 * ## Compiling
 *
 * {@link compile} turns source into the main chunk function bound to a
 * globals table, throwing {@link LuaSyntaxError} with the message Lua's
 * `loadbuffer` gives (`user_script:1: '=' expected near 'end'` for chunk
 * name "@user_script"). {@link compileChunk} keeps the compiled code
 * reusable with several globals tables. Metatables on the globals table work
 * (Redis protects globals with `__index`/`__newindex`).
 *
 * ## Running in slices
 *
 * ```ts
 * const run = startCall(main, []);
 * let slice = run.resume({ milliseconds: 5000 });
 * while (!slice.done) slice = run.resume({ milliseconds: 100 }); // serve clients in between
 * slice.values; // the results
 * run.abandon(); // instead, for SCRIPT KILL: pcall cannot catch it
 * ```
 *
 * `resume` throws {@link LuaError} (its `value` is the Lua error value) when
 * the script fails. Suspension points are loop back-edges and function
 * entries, also inside `pcall`, coroutines and `table.sort` comparators;
 * Lua code running inside a metamethod, a `gsub` callback or `__tostring`
 * suspends once it returns.
 *
 * ## The Redis sandbox
 *
 * {@link createGlobals} installs exactly the libraries Redis 7.0 gives
 * scripts (base without `print`/`getfenv`/`setfenv`/`dofile`/`loadfile`/
 * `require`/`module`/`newproxy`, then `string table math coroutine cjson
 * cmsgpack bit struct`); the scripting layer adds `redis`, `KEYS`, `ARGV`
 * and its globals protection on top. `math.random` uses Redis's generator:
 * the returned `random` must be reseeded (`random.seed(0)`) before each
 * script, as Redis does.
 *
 * @module
 */

import { LuaTable } from "./table.ts";
import { openBase } from "./lib/base.ts";
import { markNative } from "./lib/base.ts";
import { openString } from "./lib/string.ts";
import { openTable } from "./lib/table.ts";
import { openMath, RedisRandom } from "./lib/math.ts";
import { openCjson } from "./lib/cjson.ts";
import { openCmsgpack } from "./lib/cmsgpack.ts";
import { openBit } from "./lib/bit.ts";
import { openStruct } from "./lib/struct.ts";

export { compile, compileChunk, type CompiledChunk, type CompileOptions } from "./compiler.ts";
export { LuaSyntaxError } from "./lexer.ts";
export { argumentError, LuaError, luaError } from "./runtime.ts";
export { callFunction, LuaRun, type SliceBudget, type SliceResult, startCall } from "./run.ts";
export { LuaTable } from "./table.ts";
export {
  Coroutine,
  isTruthy,
  LightUserdata,
  type LuaFunction,
  type LuaResult,
  type LuaValue,
  rawToString,
  typeName,
  Userdata,
} from "./values.ts";
export { toStringMeta } from "./lib/base.ts";
export { RedisRandom } from "./lib/math.ts";
export { CJSON_NULL } from "./lib/cjson.ts";
export { numberToString } from "./number_format.ts";

/** Options of {@link createGlobals}. */
export interface GlobalsOptions {
  /** Adds a `print` writing to this sink (Redis has none; for tests and tools). */
  print?: (line: string) => void;
}

/** A globals table with Redis's libraries, and the generator behind `math.random`. */
export interface Globals {
  globals: LuaTable;
  random: RedisRandom;
}

/** Creates a globals table with the libraries Redis 7.0 loads for scripts. */
export function createGlobals(options: GlobalsOptions = {}): Globals {
  const globals = new LuaTable();
  const random = new RedisRandom();
  openBase(globals, { print: options.print });
  const libraries = [
    openString(globals),
    openTable(globals),
    openMath(globals, random),
    openCjson(globals),
    openCmsgpack(globals),
    openBit(globals),
    openStruct(globals),
  ];
  markNative(globals);
  for (const library of libraries) markNative(library);
  markNative(globals.get("coroutine") as LuaTable);
  return { globals, random };
}
