/**
 * Argument checks for library functions, with the texts of `lauxlib.c`
 * (`luaL_checknumber`, `luaL_checkint`, `luaL_optstring`...). The called
 * function's name is filled in later by the caller's frame, so these only
 * say which argument and what was wrong.
 *
 * Functions receive Lua arguments as JS arguments; `count` is
 * `arguments.length`, which tells "got no value" from "got nil".
 *
 * @module
 */

import { argumentError } from "../runtime.ts";
import { LuaTable } from "../table.ts";
import { type LuaValue, stringToNumber, typeName } from "../values.ts";
import { numberToString } from "../number_format.ts";

/** "X expected, got Y" for argument `index`. */
export function typeError(index: number, expected: string, count: number, value: LuaValue) {
  return argumentError(
    index,
    `${expected} expected, got ${index > count ? "no value" : typeName(value)}`,
  );
}

/** `luaL_checkany`. */
export function checkAny(index: number, count: number): void {
  if (index > count) throw argumentError(index, "value expected");
}

/** `luaL_checktype(L, n, LUA_TTABLE)`. */
export function checkTable(value: LuaValue, index: number, count: number): LuaTable {
  if (value instanceof LuaTable) return value;
  throw typeError(index, "table", count, value);
}

/** `luaL_checknumber`: numbers, and strings that convert. */
export function checkNumber(value: LuaValue, index: number, count: number): number {
  if (typeof value === "number") return value;
  if (typeof value === "string") {
    const number = stringToNumber(value);
    if (number !== undefined) return number;
  }
  throw typeError(index, "number", count, value);
}

/** `luaL_optnumber`. */
export function optNumber(value: LuaValue, index: number, count: number, fallback: number): number {
  return value === undefined ? fallback : checkNumber(value, index, count);
}

/** C's `(int)(lua_Integer)d`: truncate toward zero, keep the low 32 bits. */
export function toInt(value: number): number {
  if (value >= -2147483648 && value <= 2147483647) {
    return value < 0 ? Math.ceil(value) | 0 : Math.floor(value) | 0;
  }
  if (!Number.isFinite(value) || Math.abs(value) >= 2 ** 63) return 0;
  return Number(BigInt.asIntN(32, BigInt(Math.trunc(value))));
}

/** `luaL_checkint`. */
export function checkInteger(value: LuaValue, index: number, count: number): number {
  return toInt(checkNumber(value, index, count));
}

/** `luaL_optint`. */
export function optInteger(
  value: LuaValue,
  index: number,
  count: number,
  fallback: number,
): number {
  return value === undefined ? fallback : checkInteger(value, index, count);
}

/** `luaL_checklstring`: strings, and numbers converted with `%.14g`. */
export function checkString(value: LuaValue, index: number, count: number): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return numberToString(value);
  throw typeError(index, "string", count, value);
}

/** `luaL_optlstring`. */
export function optString(value: LuaValue, index: number, count: number, fallback: string): string {
  return value === undefined ? fallback : checkString(value, index, count);
}

/** `luaL_checkoption`. */
export function checkOption(
  value: LuaValue,
  index: number,
  count: number,
  fallback: string | null,
  options: string[],
): string {
  const name = fallback !== null && value === undefined
    ? fallback
    : checkString(value, index, count);
  if (!options.includes(name)) throw argumentError(index, `invalid option '${name}'`);
  return name;
}
