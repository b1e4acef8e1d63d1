/**
 * LuaBitOp (`bit`), the version Redis bundles: 32-bit operations on Lua
 * numbers. Arguments are normalised as LuaBitOp does, by adding 2^52 + 2^51
 * to the double and taking the low 32 bits of its representation (so
 * fractions round to nearest even and large numbers wrap modulo 2^32), and
 * results are signed 32-bit numbers.
 *
 * @module
 */

import { LuaTable } from "../table.ts";
import type { LuaFunction, LuaResult, LuaValue } from "../values.ts";
import { stringToNumber } from "../values.ts";
import { typeError } from "./arguments.ts";

const scratchFloat = new Float64Array(1);
const scratchWords = new Uint32Array(scratchFloat.buffer);

/** `barg`: a Lua value as LuaBitOp's unsigned 32-bit operand. */
function bitArgument(value: LuaValue, index: number, count: number): number {
  let number: number | undefined;
  if (typeof value === "number") number = value;
  else if (typeof value === "string") number = stringToNumber(value);
  scratchFloat[0] = (number ?? 0) + 6755399441055744.0;
  const bits = scratchWords[0]!;
  if (bits === 0 && number === undefined) throw typeError(index, "number", count, value);
  return bits;
}

/** Builds the `bit` library table. */
export function openBit(globals: LuaTable): LuaTable {
  const library = new LuaTable();
  const define = (name: string, fn: LuaFunction) => library.set(name, fn);
  define("tobit", function tobit(x: LuaValue): LuaResult {
    return bitArgument(x, 1, arguments.length) | 0;
  });
  define("bnot", function bnot(x: LuaValue): LuaResult {
    return ~bitArgument(x, 1, arguments.length);
  });
  const fold = (name: string, combine: (a: number, b: number) => number) =>
    define(name, function (...args: LuaValue[]): LuaResult {
      let bits = bitArgument(args[0], 1, args.length);
      for (let index = args.length; index > 1; index--) {
        bits = combine(bits, bitArgument(args[index - 1], index, args.length));
      }
      return bits | 0;
    });
  fold("band", (a, b) => a & b);
  fold("bor", (a, b) => a | b);
  fold("bxor", (a, b) => a ^ b);
  const shift = (name: string, apply: (bits: number, count: number) => number) =>
    define(name, function (x: LuaValue, n: LuaValue): LuaResult {
      const count = arguments.length;
      const bits = bitArgument(x, 1, count);
      return apply(bits, bitArgument(n, 2, count) & 31) | 0;
    });
  shift("lshift", (bits, n) => bits << n);
  shift("rshift", (bits, n) => bits >>> n);
  shift("arshift", (bits, n) => (bits | 0) >> n);
  shift("rol", (bits, n) => (bits << n) | (bits >>> (32 - n)));
  shift("ror", (bits, n) => (bits << (32 - n)) | (bits >>> n));
  define("bswap", function bswap(x: LuaValue): LuaResult {
    const b = bitArgument(x, 1, arguments.length);
    return ((b >>> 24) | ((b >>> 8) & 0xff00) | ((b & 0xff00) << 8) | (b << 24)) | 0;
  });
  define("tohex", function tohex(x: LuaValue, n: LuaValue): LuaResult {
    const count = arguments.length;
    let bits = bitArgument(x, 1, count);
    let digits = count < 2 ? 8 : bitArgument(n, 2, count) | 0;
    let alphabet = "0123456789abcdef";
    if (digits < 0) {
      digits = -digits;
      alphabet = "0123456789ABCDEF";
    }
    if (digits > 8) digits = 8;
    let text = "";
    for (let index = 0; index < digits; index++) {
      text = alphabet[bits & 15] + text;
      bits >>>= 4;
    }
    return text;
  });
  globals.set("bit", library);
  return library;
}
