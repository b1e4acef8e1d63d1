/**
 * The table library (`ltablib.c`): `concat foreach foreachi getn insert maxn
 * remove setn sort`.
 *
 * `sort` is `auxsort` step for step (same pivots, same swaps, same
 * comparator calls), so results with equal keys or inconsistent comparators
 * come out as in Lua. With a Lua comparator it must stay resumable (a long
 * sort is interruptible inside the comparator), so the algorithm is a JS
 * generator that yields each comparison: its object holds the whole sort
 * state, and a suspension in the comparator records a frame that feeds the
 * comparison's result back when the comparator's frames are rebuilt.
 * Without a comparator there is nothing to suspend in, and a plain loop runs.
 *
 * @module
 */

import {
  EMPTY,
  lt,
  LuaError,
  luaError,
  NativeFrame,
  resumeCall,
  Suspend,
  throughHost,
  vm,
} from "../runtime.ts";
import { LuaTable } from "../table.ts";
import { isTruthy, type LuaFunction, type LuaResult, type LuaValue, typeName } from "../values.ts";
import { numberToString } from "../number_format.ts";
import { callWithoutSuspend, first } from "../runtime.ts";
import { checkInteger, checkTable, optInteger, optString, typeError } from "./arguments.ts";

/** Where a suspended sort stands: the machine's variables and the pending comparison. */
interface SortState {
  low: number;
  high: number;
  i: number;
  j: number;
  pivot: LuaValue;
  phase: number;
  pending: number[];
  answer: boolean;
}

const INVALID_ORDER = "invalid order function for sorting";

/**
 * `auxsort` as a state machine: the same comparisons, swaps and pivots as
 * ltablib.c (its recursion on the smaller half becomes an explicit stack,
 * visited in the same order). Each comparison is a numbered phase, so a
 * comparator suspended by the budget can be resumed: the catch clause saves
 * the machine's variables and records a frame that comes back with the
 * comparison's answer. Until then everything lives in locals.
 */
function sortMachine(
  t: LuaTable,
  comparator: LuaFunction | null,
  state: SortState | null,
): LuaResult {
  let low = 1;
  let high = t.length();
  let i = 0;
  let j = 0;
  let pivot: LuaValue = undefined;
  let phase = 0;
  let pending: number[] = [];
  let resumed = false;
  let answer = false;
  if (state !== null) {
    ({ low, high, i, j, pivot, phase, pending, answer } = state);
    resumed = true;
  }
  const less = (a: LuaValue, b: LuaValue): boolean => {
    if (resumed) {
      resumed = false;
      return answer;
    }
    if (comparator === null) return lt(a, b, -1);
    const result = comparator(a, b);
    return isTruthy(Array.isArray(result) ? result[0] : result);
  };
  try {
    for (;;) {
      switch (phase) {
        case 0: // a range starts
          if (low >= high) {
            if (pending.length === 0) return EMPTY;
            high = pending.pop()!;
            low = pending.pop()!;
            continue;
          }
          phase = 1;
          continue;
        case 1: // a[u] < a[l]?
          if (less(t.getInteger(high), t.getInteger(low))) swap(t, low, high);
          if (high - low === 1) {
            phase = 0;
            low = high;
            continue;
          }
          i = Math.floor((low + high) / 2);
          phase = 2;
          continue;
        case 2: // a[i] < a[l]?
          if (less(t.getInteger(i), t.getInteger(low))) {
            swap(t, i, low);
            phase = 4;
          } else phase = 3;
          continue;
        case 3: // a[u] < a[i]?
          if (less(t.getInteger(high), t.getInteger(i))) swap(t, i, high);
          phase = 4;
          continue;
        case 4: // pivot set up
          if (high - low === 2) {
            phase = 0;
            low = high;
            continue;
          }
          pivot = t.getInteger(i);
          swap(t, i, high - 1);
          i = low;
          j = high - 1;
          phase = 5;
          continue;
        case 5: // repeat ++i until a[i] >= P
          i++;
          phase = 6;
          continue;
        case 6:
          if (less(t.getInteger(i), pivot)) {
            if (i > high) throw luaError(INVALID_ORDER);
            phase = 5;
            continue;
          }
          phase = 7;
          continue;
        case 7: // repeat --j until a[j] <= P
          j--;
          phase = 8;
          continue;
        case 8:
          if (less(pivot, t.getInteger(j))) {
            if (j < low) throw luaError(INVALID_ORDER);
            phase = 7;
            continue;
          }
          if (j < i) {
            swap(t, high - 1, i);
            // Sort the smaller half first, then the larger (as the C recursion does).
            if (i - low < high - i) {
              pending.push(i + 1, high);
              high = i - 1;
            } else {
              pending.push(low, i - 1);
              low = i + 1;
            }
            phase = 0;
            continue;
          }
          swap(t, i, j);
          phase = 5;
          continue;
      }
    }
  } catch (error) {
    if (error instanceof Suspend && error.kind === "budget") {
      const saved: SortState = { low, high, i, j, pivot, phase, pending, answer: false };
      error.frames.push(new NativeFrame(() => resumeSort(t, comparator, saved)));
    }
    throw error;
  }
}

function resumeSort(t: LuaTable, comparator: LuaFunction | null, state: SortState): LuaResult {
  vm.callDepth++;
  try {
    let result: LuaResult;
    try {
      result = resumeCall();
    } catch (error) {
      if (error instanceof Suspend && error.kind === "budget") {
        error.frames.push(new NativeFrame(() => resumeSort(t, comparator, state)));
        throw error;
      }
      throw sortError(error);
    }
    state.answer = isTruthy(Array.isArray(result) ? result[0] : result);
    try {
      return sortMachine(t, comparator, state);
    } catch (error) {
      throw sortError(error);
    }
  } finally {
    vm.callDepth--;
  }
}

/** Errors out of a sort: its own "invalid order" keeps the caller's position, others are C-level. */
function sortError(error: unknown): unknown {
  if (error instanceof Suspend) return error;
  if (error instanceof LuaError && error.level === 1 && error.message === INVALID_ORDER) {
    return error;
  }
  return throughHost(error) ?? error;
}

/** `auxsort` with `lua_lessthan`, for sorts without a comparator. */
function sortDirect(t: LuaTable, low: number, high: number): void {
  let l = low;
  let u = high;
  while (l < u) {
    if (lt(t.getInteger(u), t.getInteger(l), -1)) swap(t, l, u);
    if (u - l === 1) break;
    let i = Math.floor((l + u) / 2);
    if (lt(t.getInteger(i), t.getInteger(l), -1)) swap(t, i, l);
    else if (lt(t.getInteger(u), t.getInteger(i), -1)) swap(t, i, u);
    if (u - l === 2) break;
    const pivot = t.getInteger(i);
    swap(t, i, u - 1);
    i = l;
    let j = u - 1;
    for (;;) {
      while (lt(t.getInteger(++i), pivot, -1)) {
        if (i > u) throw luaError(INVALID_ORDER);
      }
      while (lt(pivot, t.getInteger(--j), -1)) {
        if (j < l) throw luaError(INVALID_ORDER);
      }
      if (j < i) break;
      swap(t, i, j);
    }
    swap(t, u - 1, i);
    if (i - l < u - i) {
      j = l;
      i = i - 1;
      l = i + 2;
    } else {
      j = i + 1;
      i = u;
      u = j - 2;
    }
    sortDirect(t, j, i);
  }
}

function swap(t: LuaTable, a: number, b: number): void {
  const value = t.getInteger(a);
  t.setInteger(a, t.getInteger(b));
  t.setInteger(b, value);
}

function tableLength(value: LuaValue, count: number): { table: LuaTable; length: number } {
  const table = checkTable(value, 1, count);
  return { table, length: table.length() };
}

/** Builds the `table` library table. */
export function openTable(globals: LuaTable): LuaTable {
  const library = new LuaTable();
  const define = (name: string, fn: LuaFunction) => library.set(name, fn);

  define(
    "concat",
    function concat(
      tableValue: LuaValue,
      separator: LuaValue,
      from: LuaValue,
      to: LuaValue,
    ): LuaResult {
      const count = arguments.length;
      const table = checkTable(tableValue, 1, count);
      const glue = optString(separator, 2, count, "");
      const start = optInteger(from, 3, count, 1);
      const end = to === undefined ? table.length() : checkInteger(to, 4, count);
      const parts: string[] = [];
      for (let position = start; position <= end; position++) {
        const value = table.getInteger(position);
        if (typeof value === "string") parts.push(value);
        else if (typeof value === "number") parts.push(numberToString(value));
        else {throw luaError(
            `invalid value (${typeName(value)}) at index ${position} in table for 'concat'`,
          );}
      }
      return parts.join(glue);
    },
  );

  define(
    "insert",
    function insert(tableValue: LuaValue, second: LuaValue, third: LuaValue): LuaResult {
      const count = arguments.length;
      const { table, length } = tableLength(tableValue, count);
      let end = length + 1;
      let position: number;
      let value: LuaValue;
      if (count === 2) {
        position = end;
        value = second;
      } else if (count === 3) {
        position = checkInteger(second, 2, count);
        if (position > end) end = position;
        for (let index = end; index > position; index--) {
          table.setInteger(
            index,
            table.getInteger(index - 1),
          );
        }
        value = third;
      } else throw luaError("wrong number of arguments to 'insert'");
      table.setInteger(position, value);
      return EMPTY;
    },
  );

  define("remove", function remove(tableValue: LuaValue, at: LuaValue): LuaResult {
    const count = arguments.length;
    const { table, length } = tableLength(tableValue, count);
    let position = optInteger(at, 2, count, length);
    if (!(1 <= position && position <= length)) return EMPTY;
    const removed = table.getInteger(position);
    for (; position < length; position++) {
      table.setInteger(position, table.getInteger(position + 1));
    }
    table.setInteger(length, undefined);
    return removed;
  });

  define("getn", function getn(tableValue: LuaValue): LuaResult {
    return tableLength(tableValue, arguments.length).length;
  });

  define("setn", function setn(tableValue: LuaValue): LuaResult {
    checkTable(tableValue, 1, arguments.length);
    throw luaError("'setn' is obsolete");
  });

  define("maxn", function maxn(tableValue: LuaValue): LuaResult {
    const table = checkTable(tableValue, 1, arguments.length);
    let maximum = 0;
    let key = table.next(undefined);
    while (key !== undefined && key !== null) {
      if (typeof key === "number" && key > maximum) maximum = key;
      key = table.next(key);
    }
    return maximum;
  });

  define("foreach", function foreach(tableValue: LuaValue, fn: LuaValue): LuaResult {
    const count = arguments.length;
    const table = checkTable(tableValue, 1, count);
    if (typeof fn !== "function") throw typeError(2, "function", count, fn);
    let key = table.next(undefined);
    while (key !== undefined && key !== null) {
      const result = first(callWithoutSuspend(fn as LuaFunction, [key, table.nextValue]));
      if (result !== undefined) return result;
      key = table.next(key);
      if (key === null) throw new LuaError("invalid key to 'next'", 0);
    }
    return EMPTY;
  });

  define("foreachi", function foreachi(tableValue: LuaValue, fn: LuaValue): LuaResult {
    const count = arguments.length;
    const { table, length } = tableLength(tableValue, count);
    if (typeof fn !== "function") throw typeError(2, "function", count, fn);
    for (let position = 1; position <= length; position++) {
      const result = first(
        callWithoutSuspend(fn as LuaFunction, [position, table.getInteger(position)]),
      );
      if (result !== undefined) return result;
    }
    return EMPTY;
  });

  define("sort", function sort(tableValue: LuaValue, comparator: LuaValue): LuaResult {
    const count = arguments.length;
    const { table } = tableLength(tableValue, count);
    if (comparator !== undefined && typeof comparator !== "function") {
      throw typeError(2, "function", count, comparator);
    }
    vm.callDepth++;
    try {
      if (comparator === undefined) {
        // Nothing to suspend in: the same algorithm as a plain recursive loop.
        sortDirect(table, 1, table.length());
        return EMPTY;
      }
      return sortMachine(table, comparator as LuaFunction, null);
    } catch (error) {
      throw sortError(error);
    } finally {
      vm.callDepth--;
    }
  });

  globals.set("table", library);
  return library;
}
