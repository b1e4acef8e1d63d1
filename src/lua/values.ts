/**
 * The value model: how each Lua 5.1 type is represented in JS, and the
 * conversions every part of the engine shares (`type`, `tostring` of
 * primitives, string → number as `luaO_str2d` does it).
 *
 * | Lua           | JS                                              |
 * | ------------- | ----------------------------------------------- |
 * | nil           | `undefined`                                     |
 * | boolean       | `boolean`                                       |
 * | number        | `number` (an IEEE double, like Lua 5.1's)       |
 * | string        | `string`, one char per byte (latin1, binary)    |
 * | table         | {@link LuaTable}                                |
 * | function      | a JS function (Lua closures and host functions) |
 * | thread        | {@link Coroutine}                               |
 * | userdata      | {@link Userdata} or {@link LightUserdata}       |
 *
 * Functions use one calling convention, Lua closures and host functions
 * alike: Lua values in, and out either one value, or an array of values for
 * zero or several results (no Lua value is a JS array, so the two cannot be
 * confused). Returning a single value is the common case and allocates
 * nothing.
 *
 * @module
 */

import { LuaTable, objectId } from "./table.ts";
import { numberToString } from "./number_format.ts";

/** Any Lua value. */
export type LuaValue =
  | undefined
  | boolean
  | number
  | string
  | LuaTable
  | LuaFunction
  | Coroutine
  | Userdata
  | LightUserdata;

/** What a function returns: one value, or an array of values (zero or several). */
export type LuaResult = LuaValue | LuaValue[];

/** A Lua function value: a compiled Lua closure or a host function. */
// deno-lint-ignore no-explicit-any
export type LuaFunction = (...args: any[]) => any;

/** A full userdata: an opaque host object with an optional metatable. */
export class Userdata {
  metatable: LuaTable | null = null;
  /** The host object it wraps. */
  readonly data: unknown;
  constructor(data: unknown) {
    this.data = data;
  }
}

/** A light userdata (a bare pointer in C; Redis's `cjson.null` is the NULL one). */
export class LightUserdata {
  /** The pointer value printed by `tostring` (0 prints as `(nil)`). */
  readonly address: number;
  constructor(address: number) {
    this.address = address;
  }
}

/** State of a coroutine, as `coroutine.status` names it. */
export type CoroutineStatus = "suspended" | "running" | "normal" | "dead";

/** A coroutine (Lua's `thread`). Its saved frames are managed by the runtime. */
export class Coroutine {
  status: CoroutineStatus = "suspended";
  /** The body; cleared once started. */
  body: LuaFunction | undefined;
  /** Frames captured at the last yield (innermost first), or null before the first resume. */
  frames: unknown[] | null = null;
  /** The C-call depth at which the coroutine was resumed, for the yield boundary check. */
  baseCallDepth = 0;
  constructor(body: LuaFunction) {
    this.body = body;
  }
}

/** `type(v)`. */
export function typeName(value: LuaValue): string {
  switch (typeof value) {
    case "undefined":
      return "nil";
    case "boolean":
      return "boolean";
    case "number":
      return "number";
    case "string":
      return "string";
    case "function":
      return "function";
    default:
      if (value instanceof LuaTable) return "table";
      if (value instanceof Coroutine) return "thread";
      return "userdata";
  }
}

/** The address part of `tostring` for reference values ("0x55..."-like). */
export function addressOf(value: object): string {
  if (value instanceof LightUserdata) {
    return value.address === 0 ? "(nil)" : "0x" + value.address.toString(16).padStart(8, "0");
  }
  return "0x" + (0x55550000 + objectId(value) * 32).toString(16).padStart(8, "0");
}

/** `tostring` without metamethods (`__tostring` is the base library's business). */
export function rawToString(value: LuaValue): string {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
      return numberToString(value);
    case "undefined":
      return "nil";
    case "boolean":
      return value ? "true" : "false";
    case "function":
      return "function: " + addressOf(value);
    default:
      return typeName(value) + ": " + addressOf(value as object);
  }
}

/** Truthiness: everything but nil and false. */
export function isTruthy(value: LuaValue): boolean {
  return value !== undefined && value !== false;
}

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 32;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/**
 * glibc's `strtod` on a binary string from `start`: the value and the index
 * after the longest valid prefix (`start` itself when nothing parses).
 * Decimal, hexadecimal (with optional binary exponent), `inf`/`infinity` and
 * `nan`/`nan(...)`, after optional white space and sign.
 */
export function strtod(text: string, start: number): { value: number; end: number } {
  let index = start;
  while (index < text.length && isSpace(text.charCodeAt(index))) index++;
  let negative = false;
  const signCode = text.charCodeAt(index);
  if (signCode === 43 || signCode === 45) {
    negative = signCode === 45;
    index++;
  }
  const apply = (value: number, end: number) => ({ value: negative ? -value : value, end });
  const rest = text.slice(index, index + 8).toLowerCase();
  if (rest.startsWith("inf")) {
    return apply(Infinity, index + (rest.startsWith("infinity") ? 8 : 3));
  }
  if (rest.startsWith("nan")) {
    let end = index + 3;
    if (text.charCodeAt(end) === 40) {
      let scan = end + 1;
      while (scan < text.length && /[0-9A-Za-z_]/.test(text[scan]!)) scan++;
      if (text.charCodeAt(scan) === 41) end = scan + 1;
    }
    return apply(NaN, end);
  }
  if (
    text.charCodeAt(index) === 48 && (text.charCodeAt(index + 1) | 32) === 120 &&
    (hexDigit(text.charCodeAt(index + 2)) >= 0 ||
      (text.charCodeAt(index + 2) === 46 && hexDigit(text.charCodeAt(index + 3)) >= 0))
  ) {
    return hexStrtod(text, index + 2, apply);
  }
  const digitsStart = index;
  let sawDigit = false;
  while (index < text.length && text.charCodeAt(index) >= 48 && text.charCodeAt(index) <= 57) {
    index++;
    sawDigit = true;
  }
  if (text.charCodeAt(index) === 46) {
    index++;
    while (index < text.length && text.charCodeAt(index) >= 48 && text.charCodeAt(index) <= 57) {
      index++;
      sawDigit = true;
    }
  }
  if (!sawDigit) return { value: 0, end: start };
  let mantissaEnd = index;
  if ((text.charCodeAt(index) | 32) === 101) {
    let scan = index + 1;
    const exponentSign = text.charCodeAt(scan);
    if (exponentSign === 43 || exponentSign === 45) scan++;
    if (text.charCodeAt(scan) >= 48 && text.charCodeAt(scan) <= 57) {
      while (scan < text.length && text.charCodeAt(scan) >= 48 && text.charCodeAt(scan) <= 57) {
        scan++;
      }
      mantissaEnd = scan;
    }
  }
  return apply(Number(text.slice(digitsStart, mantissaEnd)), mantissaEnd);
}

function hexStrtod(
  text: string,
  start: number,
  apply: (value: number, end: number) => { value: number; end: number },
): { value: number; end: number } {
  let index = start;
  let mantissa = 0;
  let exponent = 0;
  let digit: number;
  while ((digit = hexDigit(text.charCodeAt(index))) >= 0) {
    mantissa = mantissa * 16 + digit;
    index++;
  }
  if (text.charCodeAt(index) === 46) {
    index++;
    while ((digit = hexDigit(text.charCodeAt(index))) >= 0) {
      mantissa = mantissa * 16 + digit;
      exponent -= 4;
      index++;
    }
  }
  if ((text.charCodeAt(index) | 32) === 112) {
    let scan = index + 1;
    let exponentNegative = false;
    const sign = text.charCodeAt(scan);
    if (sign === 43 || sign === 45) {
      exponentNegative = sign === 45;
      scan++;
    }
    if (text.charCodeAt(scan) >= 48 && text.charCodeAt(scan) <= 57) {
      let value = 0;
      while (text.charCodeAt(scan) >= 48 && text.charCodeAt(scan) <= 57) {
        value = value * 10 + text.charCodeAt(scan) - 48;
        scan++;
      }
      exponent += exponentNegative ? -value : value;
      index = scan;
    }
  }
  return apply(mantissa * 2 ** exponent, index);
}

/**
 * glibc's `strtoul` with a base from 2 to 36 (0 is not used by Lua): the
 * value as a double (wrapped to 64 bits as C does, saturated on overflow) and
 * the end index.
 */
export function strtoul(text: string, start: number, base: number): { value: number; end: number } {
  let index = start;
  while (index < text.length && isSpace(text.charCodeAt(index))) index++;
  let negative = false;
  const sign = text.charCodeAt(index);
  if (sign === 43 || sign === 45) {
    negative = sign === 45;
    index++;
  }
  if (
    base === 16 && text.charCodeAt(index) === 48 && (text.charCodeAt(index + 1) | 32) === 120 &&
    digitValue(text.charCodeAt(index + 2)) < 16
  ) {
    index += 2;
  }
  const digitsStart = index;
  let value = 0n;
  let overflow = false;
  const bigBase = BigInt(base);
  while (index < text.length) {
    const digit = digitValue(text.charCodeAt(index));
    if (digit >= base) break;
    value = value * bigBase + BigInt(digit);
    if (value > 0xffffffffffffffffn) overflow = true;
    index++;
  }
  if (index === digitsStart) return { value: 0, end: start };
  if (overflow) return { value: 18446744073709551615, end: index };
  if (negative) value = BigInt.asUintN(64, -value);
  return { value: Number(value), end: index };
}

function digitValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 32;
  if (lower >= 97 && lower <= 122) return lower - 87;
  return 99;
}

/**
 * `luaO_str2d`: the number a whole string spells (surrounding white space
 * allowed), or undefined. Used by `tonumber` and by arithmetic coercion.
 */
export function stringToNumber(text: string): number | undefined {
  // Fast path: plain decimal integers.
  const length = text.length;
  if (length > 0 && length < 16) {
    let value = 0;
    let index = 0;
    for (; index < length; index++) {
      const code = text.charCodeAt(index);
      if (code < 48 || code > 57) break;
      value = value * 10 + code - 48;
    }
    if (index === length) return value;
  }
  // C sees the string up to its first NUL.
  const nul = text.indexOf("\0");
  if (nul >= 0) return stringToNumber(text.slice(0, nul));
  const parsed = strtod(text, 0);
  if (parsed.end === 0) return undefined;
  let end = parsed.end;
  let value = parsed.value;
  const after = text.charCodeAt(end) | 32;
  if (after === 120) {
    // strtod stopped at an 'x' (e.g. "0x" alone): Lua retries with strtoul.
    const hex = strtoul(text, 0, 16);
    value = hex.value;
    end = hex.end;
  }
  while (end < length && isSpace(text.charCodeAt(end))) end++;
  if (end !== length) return undefined;
  return value;
}

/** Number coercion for arithmetic (`tonumber` on strings, numbers as they are). */
export function toNumber(value: LuaValue): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string") return stringToNumber(value);
  return undefined;
}
