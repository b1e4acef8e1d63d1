/**
 * `struct`: Roberto Ierusalimschy's struct library as Redis bundles it
 * (`pack`, `unpack`, `size`), with an x86-64 host's native sizes (short 2,
 * int 4, long and size_t 8) and little-endian default, integers through the
 * C `long`/`unsigned long` conversions it uses.
 *
 * @module
 */

import { argumentError, luaError } from "../runtime.ts";
import { LuaTable } from "../table.ts";
import type { LuaFunction, LuaResult, LuaValue } from "../values.ts";
import { checkNumber, checkString, optInteger } from "./arguments.ts";

const MAX_INTEGER_SIZE = 32;
const MAX_ALIGN = 8;

interface Header {
  little: boolean;
  align: number;
}

class Format {
  readonly text: string;
  position = 0;
  constructor(text: string) {
    const nul = text.indexOf("\0");
    this.text = nul < 0 ? text : text.slice(0, nul);
  }
  get done(): boolean {
    return this.position >= this.text.length;
  }
  next(): string {
    return this.text[this.position++]!;
  }
  number(fallback: number): number {
    if (!/[0-9]/.test(this.text[this.position] ?? "")) return fallback;
    let value = 0;
    while (/[0-9]/.test(this.text[this.position] ?? "")) {
      const digit = this.text.charCodeAt(this.position++) - 48;
      if (value > 214748364 || value * 10 > 2147483647 - digit) {
        throw luaError("integral size overflow");
      }
      value = value * 10 + digit;
    }
    return value;
  }
}

function optionSize(option: string, format: Format): number {
  switch (option) {
    case "B":
    case "b":
      return 1;
    case "H":
    case "h":
      return 2;
    case "L":
    case "l":
    case "T":
      return 8;
    case "f":
      return 4;
    case "d":
      return 8;
    case "x":
      return 1;
    case "c":
      return format.number(1);
    case "i":
    case "I": {
      const size = format.number(4);
      if (size > MAX_INTEGER_SIZE) {
        throw luaError(`integral size ${size} is larger than limit of ${MAX_INTEGER_SIZE}`);
      }
      return size;
    }
    default:
      return 0;
  }
}

function alignment(length: number, header: Header, option: string, size: number): number {
  if (size === 0 || option === "c") return 0;
  let unit = size;
  if (unit > header.align) unit = header.align;
  return (unit - (length & (unit - 1))) & (unit - 1);
}

function control(option: string, format: Format, header: Header): void {
  switch (option) {
    case " ":
      return;
    case ">":
      header.little = false;
      return;
    case "<":
      header.little = true;
      return;
    case "!": {
      const align = format.number(MAX_ALIGN);
      if (!(align > 0 && (align & (align - 1)) === 0)) {
        throw luaError(`alignment ${align} is not a power of 2`);
      }
      header.align = align;
      return;
    }
    default:
      throw argumentError(1, `invalid format option '${option}'`);
  }
}

/** C's `(unsigned long)` of a double the way struct.c converts (negative via `long`). */
function toUnsigned(value: number): bigint {
  if (!Number.isFinite(value)) return 0x8000000000000000n;
  const truncated = Math.trunc(value);
  if (value < 0) {
    if (truncated < -(2 ** 63)) return 0x8000000000000000n;
    return BigInt.asUintN(64, BigInt(truncated));
  }
  if (truncated >= 2 ** 64) return 0n;
  return BigInt(truncated);
}

function integerBytes(value: number, size: number, little: boolean): string {
  let bits = toUnsigned(value);
  const out = new Array<string>(size);
  for (let index = 0; index < size; index++) {
    const byte = String.fromCharCode(Number(bits & 0xffn));
    out[little ? index : size - 1 - index] = byte;
    bits >>= 8n;
  }
  return out.join("");
}

function readInteger(
  data: string,
  at: number,
  size: number,
  little: boolean,
  signed: boolean,
): number {
  let bits = 0n;
  for (let index = 0; index < size; index++) {
    const offset = little ? size - 1 - index : index;
    bits = BigInt.asUintN(64, (bits << 8n) | BigInt(data.charCodeAt(at + offset)));
  }
  if (!signed) return Number(bits);
  const mask = BigInt.asUintN(64, ~0n << BigInt(size * 8 - 1));
  if (size * 8 - 1 < 64 && (bits & mask) !== 0n) bits |= mask;
  return Number(BigInt.asIntN(64, bits));
}

function floatBytes(value: number, size: 4 | 8, little: boolean): string {
  const view = new DataView(new ArrayBuffer(8));
  if (size === 4) view.setFloat32(0, value, little);
  else view.setFloat64(0, value, little);
  let out = "";
  for (let index = 0; index < size; index++) out += String.fromCharCode(view.getUint8(index));
  return out;
}

function readFloat(data: string, at: number, size: 4 | 8, little: boolean): number {
  const view = new DataView(new ArrayBuffer(8));
  for (let index = 0; index < size; index++) view.setUint8(index, data.charCodeAt(at + index));
  return size === 4 ? view.getFloat32(0, little) : view.getFloat64(0, little);
}

/** Builds the `struct` table. */
export function openStruct(globals: LuaTable): LuaTable {
  const library = new LuaTable();
  const define = (name: string, fn: LuaFunction) => library.set(name, fn);

  define("pack", function pack(...args: LuaValue[]): LuaResult {
    const count = args.length;
    const format = new Format(checkString(args[0], 1, count));
    const header: Header = { little: true, align: 1 };
    const parts: string[] = [];
    let argument = 2;
    let total = 0;
    while (!format.done) {
      const option = format.next();
      let size = optionSize(option, format);
      let pad = alignment(total, header, option, size);
      total += pad;
      while (pad-- > 0) parts.push("\0");
      switch (option) {
        case "b":
        case "B":
        case "h":
        case "H":
        case "l":
        case "L":
        case "T":
        case "i":
        case "I": {
          const value = checkNumber(args[argument - 1], argument, Math.max(count, argument));
          argument++;
          parts.push(integerBytes(value, size, header.little));
          break;
        }
        case "x":
          parts.push("\0");
          break;
        case "f":
        case "d": {
          const value = checkNumber(args[argument - 1], argument, Math.max(count, argument));
          argument++;
          parts.push(floatBytes(value, size as 4 | 8, header.little));
          break;
        }
        case "c":
        case "s": {
          const text = checkString(args[argument - 1], argument, Math.max(count, argument));
          argument++;
          if (size === 0) size = text.length;
          if (text.length < size) throw argumentError(argument, "string too short");
          parts.push(text.slice(0, size));
          if (option === "s") {
            parts.push("\0");
            size++;
          }
          break;
        }
        default:
          control(option, format, header);
      }
      total += size;
    }
    return parts.join("");
  });

  define(
    "unpack",
    function unpack(formatValue: LuaValue, dataValue: LuaValue, start: LuaValue): LuaResult {
      const count = arguments.length;
      const format = new Format(checkString(formatValue, 1, count));
      const data = checkString(dataValue, 2, count);
      let position = optInteger(start, 3, count, 1) - 1;
      if (position < 0) throw argumentError(3, "offset must be 1 or greater");
      const header: Header = { little: true, align: 1 };
      const results: LuaValue[] = [];
      while (!format.done) {
        const option = format.next();
        let size = optionSize(option, format);
        position += alignment(position, header, option, size);
        if (position + size > data.length) throw argumentError(2, "data string too short");
        switch (option) {
          case "b":
          case "B":
          case "h":
          case "H":
          case "l":
          case "L":
          case "T":
          case "i":
          case "I":
            results.push(
              readInteger(data, position, size, header.little, option === option.toLowerCase()),
            );
            break;
          case "x":
            break;
          case "f":
          case "d":
            results.push(readFloat(data, position, size as 4 | 8, header.little));
            break;
          case "c": {
            if (size === 0) {
              const previous = results[results.length - 1];
              if (results.length === 0 || typeof previous !== "number") {
                throw luaError(
                  "format 'c0' needs a previous size",
                );
              }
              size = previous;
              results.pop();
              if (!(size <= data.length && position <= data.length - size)) {
                throw argumentError(
                  2,
                  "data string too short",
                );
              }
            }
            results.push(data.slice(position, position + size));
            break;
          }
          case "s": {
            const end = data.indexOf("\0", position);
            if (end < 0) throw luaError("unfinished string in data");
            size = end - position + 1;
            results.push(data.slice(position, end));
            break;
          }
          default:
            control(option, format, header);
        }
        position += size;
      }
      results.push(position + 1);
      return results;
    },
  );

  define("size", function size(formatValue: LuaValue): LuaResult {
    const format = new Format(checkString(formatValue, 1, arguments.length));
    const header: Header = { little: true, align: 1 };
    let position = 0;
    while (!format.done) {
      const option = format.next();
      const itemSize = optionSize(option, format);
      position += alignment(position, header, option, itemSize);
      if (option === "s") throw argumentError(1, "option 's' has no fixed size");
      if (option === "c" && itemSize === 0) throw argumentError(1, "option 'c0' has no fixed size");
      // Only alignment and endianness matter here; other letters are ignored.
      if (option === "!" || option === ">" || option === "<") control(option, format, header);
      position += itemSize;
    }
    return position;
  });

  globals.set("struct", library);
  return library;
}
