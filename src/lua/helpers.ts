/**
 * The names generated code uses, gathered in one object the compiler hands
 * to every chunk (`const add = H.add;` ...). Keeping them in one place keeps
 * compiler.ts and the runtime in agreement about what exists.
 *
 * @module
 */

import * as runtime from "./runtime.ts";
import { ipairsIterator, luaNext, nextKey } from "./core_functions.ts";
import { LuaTable } from "./table.ts";
import {
  isTruthy,
  type LuaFunction,
  type LuaResult,
  type LuaValue,
  stringToNumber,
} from "./values.ts";

function gt(a: LuaValue, b: LuaValue, site: number): boolean {
  return runtime.lt(b, a, site);
}

function ge(a: LuaValue, b: LuaValue, site: number): boolean {
  return runtime.le(b, a, site);
}

/** A non-function callee: its `__call` bound to it, or "attempt to call". */
function callable(value: LuaValue, site: number): LuaFunction {
  return (...args: LuaValue[]): LuaResult => runtime.callValue(value, site, args);
}

/** The numeric for's start, limit and step (strings convert, as FORPREP's tonumber does). */
function forNumber(value: LuaValue, what: string, site: number): number {
  if (typeof value === "number") return value;
  if (typeof value === "string") {
    const number = stringToNumber(value);
    if (number !== undefined) return number;
  }
  const error = new runtime.LuaError(`'for' ${what} must be a number`, 1);
  error.site = site;
  throw error;
}

/** A table from a constructor with positional items only. */
function arrayTable(values: LuaValue[], size: number): LuaTable {
  const table = new LuaTable();
  while (values.length < size) values.push(undefined);
  table.array = values;
  return table;
}

/** LUA_COMPAT_VARARG's `arg` table: the extra arguments, with `n`. */
function varargTable(values: LuaValue[]): LuaTable {
  const table = new LuaTable(values.length, 1);
  for (let index = 0; index < values.length; index++) table.setInteger(index + 1, values[index]);
  table.set("n", values.length);
  return table;
}

/** Everything generated code refers to, by the names it uses. */
export const helpers = {
  V: runtime.vm,
  enter: runtime.enter,
  tick: runtime.tick,
  unwind: runtime.unwind,
  Suspend: runtime.Suspend,
  resumeCall: runtime.resumeCall,
  EMPTY: runtime.EMPTY,
  list: runtime.list,
  add: runtime.add,
  sub: runtime.sub,
  mul: runtime.mul,
  div: runtime.div,
  mod: runtime.mod,
  pow: runtime.pow,
  unm: runtime.unm,
  concat: runtime.concat,
  len: runtime.len,
  eq: runtime.eq,
  lt: runtime.lt,
  le: runtime.le,
  gt,
  ge,
  index: runtime.index,
  indexString: runtime.indexString,
  setIndex: runtime.setIndex,
  tableSet: runtime.tableSet,
  setList: runtime.setList,
  isTruthy,
  callable,
  forNumber,
  arrayTable,
  varargTable,
  nextKey,
  NEXT: luaNext,
  INEXT: ipairsIterator,
  LuaTable,
};
