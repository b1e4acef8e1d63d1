/**
 * The base library (`lbaselib.c`) as Redis 7.0 exposes it: `assert error
 * getmetatable ipairs load loadstring next pairs pcall rawequal rawget rawset
 * select setmetatable tonumber tostring type unpack xpcall gcinfo
 * collectgarbage`, `_G` and `_VERSION`, plus the `coroutine` table.
 * `print` exists only on request (Redis has none; test harnesses want it).
 *
 * Chunks loaded with `loadstring`/`load` get the environment the library
 * was installed into, as 5.1 gives them the thread's globals.
 *
 * @module
 */

import { compileChunk } from "../compiler.ts";
import { ipairsIterator, luaNext } from "../core_functions.ts";
import { LuaSyntaxError } from "../lexer.ts";
import {
  argumentError,
  call,
  callWithoutSuspend,
  EMPTY,
  first,
  getMetatable,
  LuaError,
  luaError,
  metamethod,
  protectedCall,
  protectedCallWithHandler,
  resumeCoroutine,
  then,
  vm,
  wrapError,
  yieldCoroutine,
} from "../runtime.ts";
import { LuaTable } from "../table.ts";
import {
  Coroutine,
  isTruthy,
  type LuaFunction,
  type LuaResult,
  type LuaValue,
  rawToString,
  stringToNumber,
  strtoul,
  typeName,
} from "../values.ts";
import {
  checkAny,
  checkInteger,
  checkOption,
  checkString,
  checkTable,
  optInteger,
  optString,
  typeError,
} from "./arguments.ts";

/** `tostring` with `__tostring`. */
export function toStringMeta(value: LuaValue): LuaValue {
  const handler = metamethod(value, "__tostring");
  if (handler !== undefined) return first(callWithoutSuspend(handler as LuaFunction, [value]));
  return rawToString(value);
}

/** Options of {@link openBase}. */
export interface BaseOptions {
  /** Where `print` writes a line; without it there is no `print`. */
  print?: (line: string) => void;
}

/** Installs the base library and `coroutine` into `globals`. */
export function openBase(globals: LuaTable, options: BaseOptions = {}): void {
  const define = (name: string, fn: LuaFunction) => globals.set(name, fn);
  globals.set("_G", globals);
  globals.set("_VERSION", "Lua 5.1");

  define("assert", function assert(...args: LuaValue[]): LuaResult {
    checkAny(1, args.length);
    if (!isTruthy(args[0])) throw luaError(optString(args[1], 2, args.length, "assertion failed!"));
    return args;
  });

  define("error", function error(value: LuaValue, level: LuaValue): LuaResult {
    const depth = optInteger(level, 2, arguments.length, 1);
    if ((typeof value === "string" || typeof value === "number") && depth > 0) {
      throw new LuaError(rawToString(value), depth);
    }
    throw new LuaError(value, 0);
  });

  define("getmetatable", function getmetatable(value: LuaValue): LuaResult {
    checkAny(1, arguments.length);
    const metatable = getMetatable(value);
    if (metatable === null) return undefined;
    const protectedValue = metatable.getString("__metatable");
    return protectedValue !== undefined ? protectedValue : metatable;
  });

  define("setmetatable", function setmetatable(table: LuaValue, metatable: LuaValue): LuaResult {
    const count = arguments.length;
    const target = checkTable(table, 1, count);
    if (metatable !== undefined && !(metatable instanceof LuaTable)) {
      throw argumentError(2, "nil or table expected");
    }
    if (target.metatable !== null && target.metatable.getString("__metatable") !== undefined) {
      throw luaError("cannot change a protected metatable");
    }
    target.metatable = metatable ?? null;
    return target;
  });

  define("rawequal", function rawequal(a: LuaValue, b: LuaValue): LuaResult {
    checkAny(1, arguments.length);
    checkAny(2, arguments.length);
    return a === b;
  });

  define("rawget", function rawget(table: LuaValue, key: LuaValue): LuaResult {
    const target = checkTable(table, 1, arguments.length);
    checkAny(2, arguments.length);
    return target.get(key);
  });

  define("rawset", function rawset(table: LuaValue, key: LuaValue, value: LuaValue): LuaResult {
    const count = arguments.length;
    const target = checkTable(table, 1, count);
    checkAny(2, count);
    checkAny(3, count);
    if (key === undefined) throw new LuaError("table index is nil", 0);
    if (typeof key === "number" && Number.isNaN(key)) throw new LuaError("table index is NaN", 0);
    target.set(key, value);
    return target;
  });

  define("next", luaNext);

  define("pairs", function pairs(table: LuaValue): LuaResult {
    checkTable(table, 1, arguments.length);
    return [luaNext, table, undefined];
  });

  define("ipairs", function ipairs(table: LuaValue): LuaResult {
    checkTable(table, 1, arguments.length);
    return [ipairsIterator, table, 0];
  });

  define("select", function select(selector: LuaValue, ...rest: LuaValue[]): LuaResult {
    const count = rest.length + 1;
    if (typeof selector === "string" && selector.charCodeAt(0) === 35) return rest.length;
    let index = checkInteger(selector, 1, arguments.length);
    if (index < 0) index = count + index;
    else if (index > count) index = count;
    if (index < 1) throw argumentError(1, "index out of range");
    return rest.slice(index - 1);
  });

  define("tonumber", function tonumber(value: LuaValue, base: LuaValue): LuaResult {
    const count = arguments.length;
    const radix = optInteger(base, 2, count, 10);
    if (radix === 10) {
      checkAny(1, count);
      if (typeof value === "number") return value;
      if (typeof value === "string") return stringToNumber(value);
      return undefined;
    }
    let text = checkString(value, 1, count);
    if (radix < 2 || radix > 36) throw argumentError(2, "base out of range");
    const nul = text.indexOf("\0");
    if (nul >= 0) text = text.slice(0, nul);
    const parsed = strtoul(text, 0, radix);
    if (parsed.end === 0) return undefined;
    let end = parsed.end;
    while (end < text.length && /\s/.test(text[end]!)) end++;
    return end === text.length ? parsed.value : undefined;
  });

  define("tostring", function tostring(value: LuaValue): LuaResult {
    checkAny(1, arguments.length);
    return toStringMeta(value);
  });

  define("type", function type(value: LuaValue): LuaResult {
    checkAny(1, arguments.length);
    return typeName(value);
  });

  define("unpack", function unpack(table: LuaValue, from: LuaValue, to: LuaValue): LuaResult {
    const count = arguments.length;
    const source = checkTable(table, 1, count);
    const start = optInteger(from, 2, count, 1);
    const end = to === undefined ? source.length() : checkInteger(to, 3, count);
    if (start > end) return EMPTY;
    const size = end - start + 1;
    // lua_checkstack refuses beyond LUAI_MAXCSTACK (8000) slots.
    if (size <= 0 || size + count > 8000) throw luaError("too many results to unpack");
    const values = new Array<LuaValue>(size);
    for (let index = 0; index < size; index++) values[index] = source.getInteger(start + index);
    return values;
  });

  define("pcall", function pcall(fn: LuaValue, ...args: LuaValue[]): LuaResult {
    checkAny(1, arguments.length);
    return protectedCall(() => call(fn, args));
  });

  define("xpcall", function xpcall(fn: LuaValue, handler: LuaValue): LuaResult {
    checkAny(2, arguments.length);
    return protectedCallWithHandler(() => call(fn, EMPTY), handler);
  });

  define("gcinfo", function gcinfo(): LuaResult {
    return gcKilobytes();
  });

  define(
    "collectgarbage",
    function collectgarbage(option: LuaValue, argument: LuaValue): LuaResult {
      const count = arguments.length;
      const name = checkOption(option, 1, count, "collect", [
        "stop",
        "restart",
        "collect",
        "count",
        "step",
        "setpause",
        "setstepmul",
      ]);
      const value = optInteger(argument, 2, count, 0);
      switch (name) {
        case "count":
          return gcKilobytes() + 0.5;
        case "step":
          return true;
        case "setpause":
        case "setstepmul": {
          const previous = name === "setpause" ? gcSettings.pause : gcSettings.stepMultiplier;
          if (name === "setpause") gcSettings.pause = value;
          else gcSettings.stepMultiplier = value;
          return previous;
        }
        default:
          return 0;
      }
    },
  );

  const loadText = (text: string, chunkName: string): LuaResult => {
    try {
      return compileChunk(text, chunkName).instantiate(globals);
    } catch (error) {
      if (error instanceof LuaSyntaxError) return [undefined, error.message];
      throw error;
    }
  };

  define("loadstring", function loadstring(source: LuaValue, name: LuaValue): LuaResult {
    const count = arguments.length;
    const text = checkString(source, 1, count);
    return loadText(text, optString(name, 2, count, text));
  });

  define("load", function load(reader: LuaValue, name: LuaValue): LuaResult {
    const count = arguments.length;
    if (typeof reader !== "function") throw typeError(1, "function", count, reader);
    const chunkName = optString(name, 2, count, "=(load)");
    const pieces: string[] = [];
    for (;;) {
      const piece = first(callWithoutSuspend(reader as LuaFunction, EMPTY));
      if (piece === undefined) break;
      if (typeof piece !== "string") return [undefined, "reader function must return a string"];
      if (piece.length === 0) break;
      pieces.push(piece);
    }
    return loadText(pieces.join(""), chunkName);
  });

  if (options.print !== undefined) {
    const write = options.print;
    define("print", function print(...args: LuaValue[]): LuaResult {
      const parts: string[] = [];
      const tostring = globals.get("tostring");
      for (const arg of args) {
        const text = first(call(tostring, [arg]));
        if (typeof text !== "string" && typeof text !== "number") {
          throw luaError("'tostring' must return a string to 'print'");
        }
        // lua.c's print writes with fputs: a string ends at its first NUL.
        const printed = rawToString(text);
        const nul = printed.indexOf("\0");
        parts.push(nul < 0 ? printed : printed.slice(0, nul));
      }
      write(parts.join("\t"));
      return EMPTY;
    });
  }

  globals.set("coroutine", coroutineLibrary());
}

const gcSettings = { pause: 200, stepMultiplier: 200 };

function gcKilobytes(): number {
  return 32;
}

function checkCoroutine(value: LuaValue, index: number): Coroutine {
  if (value instanceof Coroutine) return value;
  throw argumentError(index, "coroutine expected");
}

function coroutineLibrary(): LuaTable {
  const library = new LuaTable();
  library.set("create", function create(fn: LuaValue): LuaResult {
    if (typeof fn !== "function" || nativeFunctions.has(fn)) {
      throw argumentError(1, "Lua function expected");
    }
    return new Coroutine(fn as LuaFunction);
  });
  library.set("resume", function resume(co: LuaValue, ...args: LuaValue[]): LuaResult {
    return resumeCoroutine(checkCoroutine(co, 1), args);
  });
  library.set("yield", function yield_(...values: LuaValue[]): LuaResult {
    return yieldCoroutine(values);
  });
  library.set("status", function status(co: LuaValue): LuaResult {
    return checkCoroutine(co, 1).status;
  });
  library.set("running", function running(): LuaResult {
    return vm.current ?? undefined;
  });
  library.set("wrap", function wrap(fn: LuaValue): LuaResult {
    if (typeof fn !== "function" || nativeFunctions.has(fn)) {
      throw argumentError(1, "Lua function expected");
    }
    const co = new Coroutine(fn as LuaFunction);
    return function wrapped(...args: LuaValue[]): LuaResult {
      return then(() => resumeCoroutine(co, args), (result) => {
        const values = result as LuaValue[];
        if (values[0] === true) return values.slice(1);
        throw wrapError(values[1]);
      });
    };
  });
  return library;
}

/** Host functions that must not be wrapped as coroutine bodies ("Lua function expected"). */
export const nativeFunctions = new WeakSet<object>();

/** Marks every function of a library table as native (for `coroutine.create`'s check). */
export function markNative(table: LuaTable): void {
  let key = table.next(undefined);
  while (key !== undefined && key !== null) {
    const value = table.nextValue;
    if (typeof value === "function") nativeFunctions.add(value);
    key = table.next(key);
  }
}
