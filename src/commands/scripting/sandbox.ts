/**
 * The sandbox scripts run in: read-only globals and libraries, and error
 * values that remember where they were raised.
 *
 * ## Read-only tables
 *
 * Redis 7.0 runs a Lua with read-only tables and marks the globals, every
 * library table and their metatables read-only: any write fails with
 * `Attempt to modify a readonly table`, and reading a global that does not
 * exist fails with `Script attempted to access nonexistent global variable
 * 'x'`. The engine here has no read-only flag, so {@link protect} builds the
 * same behaviour from what Lua offers:
 *
 * - a protected table is locked: its `set` refuses every write (a backstop
 *   for code that reaches it without metamethods, such as chunks made by
 *   `loadstring`, or `table.insert`);
 * - it also gets a `__newindex` metamethod that raises the error, so a
 *   script assigning a new field or global (`x = 1`, the usual mistake) is
 *   told the exact line, since metamethod errors are positioned at the
 *   operation; overwriting an existing field only reaches the backstop,
 *   whose position is the last call's line;
 * - `rawset` and `setmetatable` refuse protected tables (without a
 *   position, as Redis's C functions raise it), and `getmetatable` hides
 *   the metatables this adds where Redis's tables have none.
 *
 * The tables stay the real ones, so `pairs(_G)`, `rawget(redis, 'call')`
 * and friends see what they see in Redis.
 *
 * ## Where an error was raised
 *
 * A script error reaches the client as `ERR ... script: <sha>, on
 * @user_script:<line>.`: Redis's error handler records the line of the
 * innermost Lua function when the error is raised, even for error tables
 * such as the ones `redis.call` raises, which carry no position. Lua
 * positions only string errors, so {@link RaisedErrors} raises any other
 * value as a string marker at level 1 (the calling Lua line gets
 * prefixed, as for `luaL_error`) and keeps the value aside: catchers
 * (`pcall`, `xpcall`'s handler, `coroutine.resume`) are given the value
 * back, and an error that escapes the script is reported with the value
 * and the line of its first prefix. `error(value)` for non-strings and
 * `error(message, 0)` go the same way, so their escapes carry the line too.
 *
 * @module
 */

import {
  LuaError,
  luaError,
  LuaTable,
  type LuaValue,
  rawToString,
  toStringMeta,
} from "../../lua/mod.ts";
import { call, then } from "../../lua/runtime.ts";

/** The error of any write into a protected table. */
export const READONLY_TABLE = "Attempt to modify a readonly table";

/** A table that refuses writes (see the module doc); `rawWrite` bypasses it. */
class LockedTable extends LuaTable {
  override set(key: LuaValue, value: LuaValue): void {
    // The slot Lua creates before consulting __newindex (luaH_set) is harmless.
    if (value === undefined && !this.hasSlot(key)) return;
    throw luaError(READONLY_TABLE);
  }

  override setInteger(key: number, value: LuaValue): void {
    this.set(key, value);
  }
}

/** Metatables added by `protect` to tables that had none: `getmetatable` does not show them. */
const hiddenMetatables = new WeakSet<LuaTable>();

/** Writes into a table even if it is protected (the server setting KEYS and ARGV). */
export function rawWrite(table: LuaTable, key: LuaValue, value: LuaValue): void {
  LuaTable.prototype.set.call(table, key, value);
}

/** Whether writes into `table` are refused. */
export function isProtected(table: LuaValue): boolean {
  return table instanceof LockedTable;
}

function refuseWrite(): never {
  throw luaError(READONLY_TABLE);
}

/**
 * The metatable `protect` gives tables that have none: it only refuses new
 * fields. Scripts never see it (`getmetatable` hides it), so it is shared.
 */
const READONLY_METATABLE = new LuaTable();
READONLY_METATABLE.set("__newindex", refuseWrite);
hiddenMetatables.add(READONLY_METATABLE);
Object.setPrototypeOf(READONLY_METATABLE, LockedTable.prototype);

/**
 * Makes `table`, the tables it holds and their metatables read-only
 * (luaSetTableProtectionRecursively).
 */
export function protect(table: LuaTable): void {
  if (table instanceof LockedTable) return;
  let metatable = table.metatable;
  if (metatable === null) {
    metatable = READONLY_METATABLE;
    table.metatable = metatable;
  } else if (metatable.getString("__newindex") === undefined) {
    metatable.set("__newindex", refuseWrite);
  }
  Object.setPrototypeOf(table, LockedTable.prototype);
  for (let key = table.next(undefined); key !== undefined && key !== null; key = table.next(key)) {
    const value = table.nextValue;
    if (value instanceof LuaTable) protect(value);
  }
  protect(metatable);
}

/** The `__index` of protected globals (luaProtectedTableError). */
export function nonexistentGlobal(_table: LuaValue, key: LuaValue): never {
  if (typeof key !== "string" && typeof key !== "number") {
    throw luaError("Second argument to luaProtectedTableError must be a string or number");
  }
  throw luaError(`Script attempted to access nonexistent global variable '${rawToString(key)}'`);
}

/** Gives `table` the metatable of protected globals: reading a missing name fails. */
export function guardMissingGlobals(table: LuaTable): void {
  const metatable = new LuaTable();
  metatable.set("__index", nonexistentGlobal);
  table.metatable = metatable;
}

/** Marks the start of a raised value's marker inside an error string. */
const MARK = "\u0000redis-clone raised error #";

/** An error that left the script: what was raised, and where. */
export interface EscapedError {
  value: LuaValue;
  /** The chunk as Redis names it (`@user_script`), when known. */
  source?: string;
  line?: number;
}

/** Values raised as positioned markers (see the module doc), for one Lua environment. */
export class RaisedErrors {
  readonly #values = new Map<number, LuaValue>();
  #next = 0;

  /** Raises `value` as an error positioned at the calling Lua line. */
  raise(value: LuaValue): never {
    throw this.error(value);
  }

  /** The error `raise` throws, for code that throws it itself. */
  error(value: LuaValue): LuaError {
    const id = this.#next++;
    this.#values.set(id, value);
    return new LuaError(MARK + id, 1);
  }

  /** The value a catcher gets for the error value `value` (the raised one for a marker). */
  caught(value: LuaValue): LuaValue {
    if (typeof value !== "string") return value;
    const at = value.indexOf(MARK);
    if (at < 0) return value;
    const id = Number(value.slice(at + MARK.length));
    const raised = this.#values.get(id);
    this.#values.delete(id);
    return raised;
  }

  /** What an error that escaped the script was, and the line it was raised at. */
  escaped(value: LuaValue): EscapedError {
    return { ...errorPosition(value), value: this.caught(value) };
  }

  /** Forgets every raised value (a run ended). */
  clear(): void {
    this.#values.clear();
  }
}

/** The "chunk:line: " prefix Lua puts on positioned errors. */
const POSITION = /^(user_script|user_function):(\d+): /;

/** The chunk (as Redis names it, `@user_script`) and line an error value was raised at. */
export function errorPosition(value: LuaValue): { source?: string; line?: number } {
  if (typeof value !== "string") return {};
  const position = POSITION.exec(value);
  if (position === null) return {};
  return { source: "@" + position[1], line: Number(position[2]) };
}

/**
 * The message of an error that escaped a script, as Redis's error handler
 * and luaExtractErrorInformation build it: a table's `err` field, or `ERR `
 * and the value as `tostring` prints it.
 */
export function escapedMessage(value: LuaValue): string {
  if (value instanceof LuaTable) {
    const error = value.getString("err");
    if (typeof error === "string") return error;
    if (typeof error === "number") return rawToString(error);
    // Redis 7.0 crashes on an error table without a message; say so instead.
    return "ERR unknown error";
  }
  let text: string;
  try {
    const converted = toStringMeta(value);
    text = typeof converted === "string" ? converted : rawToString(converted);
  } catch {
    text = rawToString(value);
  }
  return "ERR " + text;
}

/**
 * Replaces the base functions that catch or raise errors, or write tables,
 * in `globals` with versions that know about raised values and protected
 * tables: `pcall` (which, as Redis's, returns an error table's `err` text),
 * `xpcall`, `error`, `coroutine.resume`, `rawset`, `setmetatable`,
 * `getmetatable`.
 */
export function installErrorAwareBuiltins(globals: LuaTable, errors: RaisedErrors): void {
  const basePcall = globals.get("pcall") as (...args: LuaValue[]) => LuaValue[];
  const baseXpcall = globals.get("xpcall") as (...args: LuaValue[]) => LuaValue[];
  const baseError = globals.get("error") as (...args: LuaValue[]) => never;
  const baseRawset = globals.get("rawset") as (...args: LuaValue[]) => LuaValue;
  const baseSetmetatable = globals.get("setmetatable") as (...args: LuaValue[]) => LuaValue;
  const baseGetmetatable = globals.get("getmetatable") as (...args: LuaValue[]) => LuaValue;
  const coroutine = globals.get("coroutine") as LuaTable;
  const baseResume = coroutine.get("resume") as (...args: LuaValue[]) => LuaValue[];

  globals.set("pcall", function pcall(...args: LuaValue[]) {
    return then(() => basePcall(...args), (result) => {
      if (result[0] !== false) return result;
      let value = errors.caught(result[1]);
      // luaRedisPcall: an error table gives its message.
      if (value instanceof LuaTable) {
        const message = value.getString("err");
        if (typeof message === "string" || typeof message === "number") value = message;
      }
      return [false, value];
    });
  });

  globals.set("xpcall", function xpcall(...args: LuaValue[]) {
    const handler = args[1];
    if (typeof handler !== "function") return baseXpcall(...args);
    const wrapped = (value: LuaValue) => call(handler, [errors.caught(value)]);
    return baseXpcall(args[0], wrapped);
  });

  globals.set("error", function error(...args: LuaValue[]): never {
    const [value, level] = args;
    const message = typeof value === "string" || typeof value === "number";
    if (message && !(level === 0 || level === "0")) return baseError(...args);
    errors.raise(message ? rawToString(value) : value);
  });

  coroutine.set("resume", function resume(...args: LuaValue[]) {
    return then(() => baseResume(...args), (result) => {
      if (result[0] !== false) return result;
      return [false, errors.caught(result[1])];
    });
  });

  globals.set("rawset", function rawset(...args: LuaValue[]) {
    // Raised by a C function in Redis: no position in the message, but the handler's line.
    if (isProtected(args[0])) errors.raise(READONLY_TABLE);
    return baseRawset(...args);
  });

  globals.set("setmetatable", function setmetatable(...args: LuaValue[]) {
    if (isProtected(args[0])) errors.raise(READONLY_TABLE);
    return baseSetmetatable(...args);
  });

  globals.set("getmetatable", function getmetatable(...args: LuaValue[]) {
    const metatable = baseGetmetatable(...args);
    return metatable instanceof LuaTable && hiddenMetatables.has(metatable) ? undefined : metatable;
  });
}
