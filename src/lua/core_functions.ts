/**
 * The two host functions compiled code recognizes by identity: `next` (what
 * `pairs` returns) and the `ipairs` iterator. A generic `for` whose
 * generator is one of them iterates inline, without calls or result arrays;
 * these are the same functions called the ordinary way.
 *
 * @module
 */

import { argumentError, EMPTY, LuaError } from "./runtime.ts";
import { LuaTable } from "./table.ts";
import { type LuaResult, type LuaValue, stringToNumber, typeName } from "./values.ts";

/** "bad argument" for a wrong type: "table expected, got nil" ("no value" past the end). */
export function typeArgumentError(
  index: number,
  expected: string,
  count: number,
  value: LuaValue,
): LuaError {
  const got = index > count ? "no value" : typeName(value);
  return argumentError(index, `${expected} expected, got ${got}`);
}

/** The table's next key after `key` for the inline loop (value in `nextValue`). */
export function nextKey(table: LuaTable, key: LuaValue): LuaValue {
  const found = table.next(key);
  if (found === null) throw new LuaError("invalid key to 'next'", 0);
  return found;
}

/** `next(table [, key])`. */
export function luaNext(table: LuaValue, key: LuaValue): LuaResult {
  if (!(table instanceof LuaTable)) throw typeArgumentError(1, "table", arguments.length, table);
  const found = table.next(key);
  if (found === null) throw new LuaError("invalid key to 'next'", 0);
  if (found === undefined) return undefined;
  return [found, table.nextValue];
}

/** The iterator `ipairs` returns. */
export function ipairsIterator(table: LuaValue, index: LuaValue): LuaResult {
  let position = typeof index === "number"
    ? index
    : typeof index === "string"
    ? stringToNumber(index)
    : undefined;
  if (position === undefined) {
    throw typeArgumentError(2, "number", arguments.length, index);
  }
  if (!(table instanceof LuaTable)) throw typeArgumentError(1, "table", arguments.length, table);
  position = (position | 0) + 1;
  const value = table.getInteger(position);
  return value === undefined ? EMPTY : [position, value];
}
