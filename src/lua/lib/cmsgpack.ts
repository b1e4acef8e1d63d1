/**
 * `cmsgpack`: Redis's lua_cmsgpack.c (lua-cmsgpack 0.4.0). `pack(...)`
 * encodes each argument and concatenates; `unpack`, `unpack_one`,
 * `unpack_limit` decode. Encoding follows that code's choices: integral
 * doubles in int64 range as the smallest integer format, other numbers as
 * float32 when exact else float64, strings as fixstr/str8/16/32, tables
 * whose keys are exactly 1..n as arrays (read with `__index`-honouring
 * gets) and all others as maps, nesting cut at 16 levels (deeper tables
 * become nil), anything else nil.
 *
 * @module
 */

import { argumentError, index, LuaError, luaError, setIndex } from "../runtime.ts";
import { LuaTable } from "../table.ts";
import type { LuaFunction, LuaResult, LuaValue } from "../values.ts";
import { checkInteger, checkString, optInteger } from "./arguments.ts";

const MAX_NESTING = 16;
const scratch = new DataView(new ArrayBuffer(8));

function bytes(...values: number[]): string {
  return String.fromCharCode(...values);
}

function encodeInteger(value: number): string {
  if (value >= 0) {
    if (value <= 127) return bytes(value);
    if (value <= 0xff) return bytes(0xcc, value);
    if (value <= 0xffff) return bytes(0xcd, value >> 8, value & 0xff);
    if (value <= 0xffffffff) {
      return bytes(
        0xce,
        (value >>> 24) & 0xff,
        (value >>> 16) & 0xff,
        (value >>> 8) & 0xff,
        value & 0xff,
      );
    }
    scratch.setBigUint64(0, BigInt(value));
    return bytes(0xcf) + bytesOf(8);
  }
  if (value >= -32) return bytes(value & 0xff);
  if (value >= -128) return bytes(0xd0, value & 0xff);
  if (value >= -32768) return bytes(0xd1, (value >> 8) & 0xff, value & 0xff);
  if (value >= -2147483648) {
    return bytes(
      0xd2,
      (value >> 24) & 0xff,
      (value >> 16) & 0xff,
      (value >> 8) & 0xff,
      value & 0xff,
    );
  }
  scratch.setBigInt64(0, BigInt(value));
  return bytes(0xd3) + bytesOf(8);
}

function bytesOf(count: number): string {
  let out = "";
  for (let offset = 0; offset < count; offset++) {
    out += String.fromCharCode(scratch.getUint8(offset));
  }
  return out;
}

function encodeNumber(value: number): string {
  if (Number.isFinite(value) && Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 63) {
    return encodeInteger(value);
  }
  if (Math.fround(value) === value) {
    scratch.setFloat32(0, value);
    return bytes(0xca) + bytesOf(4);
  }
  scratch.setFloat64(0, value);
  return bytes(0xcb) + bytesOf(8);
}

function encodeString(text: string): string {
  const length = text.length;
  if (length < 32) return bytes(0xa0 | length) + text;
  if (length <= 0xff) return bytes(0xd9, length) + text;
  if (length <= 0xffff) return bytes(0xda, length >> 8, length & 0xff) + text;
  return bytes(
    0xdb,
    (length >>> 24) & 0xff,
    (length >>> 16) & 0xff,
    (length >>> 8) & 0xff,
    length & 0xff,
  ) + text;
}

function header(small: number, size16: number, size32: number, count: number): string {
  if (count <= 15) return bytes(small | count);
  if (count <= 65535) return bytes(size16, count >> 8, count & 0xff);
  return bytes(
    size32,
    (count >>> 24) & 0xff,
    (count >>> 16) & 0xff,
    (count >>> 8) & 0xff,
    count & 0xff,
  );
}

/** `table_is_an_array`: keys exactly 1..n. */
function isArray(table: LuaTable): boolean {
  let count = 0;
  let maximum = 0;
  let key = table.next(undefined);
  while (key !== undefined && key !== null) {
    if (typeof key !== "number" || key <= 0 || (key | 0) !== key) return false;
    if (key > maximum) maximum = key;
    count++;
    key = table.next(key);
  }
  return maximum === count;
}

function encodeValue(value: LuaValue, level: number, parts: string[]): void {
  if (value instanceof LuaTable && level === MAX_NESTING) value = undefined;
  switch (typeof value) {
    case "string":
      parts.push(encodeString(value));
      return;
    case "boolean":
      parts.push(bytes(value ? 0xc3 : 0xc2));
      return;
    case "number":
      parts.push(encodeNumber(value));
      return;
  }
  if (!(value instanceof LuaTable)) {
    parts.push(bytes(0xc0));
    return;
  }
  if (isArray(value)) {
    const length = value.length();
    parts.push(header(0x90, 0xdc, 0xdd, length));
    for (let position = 1; position <= length; position++) {
      encodeValue(index(value, position, -1), level + 1, parts);
    }
    return;
  }
  let count = 0;
  let key = value.next(undefined);
  while (key !== undefined && key !== null) {
    count++;
    key = value.next(key);
  }
  parts.push(header(0x80, 0xde, 0xdf, count));
  key = value.next(undefined);
  while (key !== undefined && key !== null) {
    const item = value.nextValue;
    encodeValue(key, level + 1, parts);
    encodeValue(item, level + 1, parts);
    key = value.next(key);
  }
}

class Cursor {
  position: number;
  error: "eof" | "format" | null = null;
  readonly data: string;
  constructor(data: string, position: number) {
    this.data = data;
    this.position = position;
  }
  get left(): number {
    return this.data.length - this.position;
  }
  need(count: number): boolean {
    if (this.left < count) {
      this.error = "eof";
      return false;
    }
    return true;
  }
  byte(offset: number): number {
    return this.data.charCodeAt(this.position + offset);
  }
  unsigned(offset: number, size: number): number {
    let value = 0;
    for (let at = 0; at < size; at++) value = value * 256 + this.byte(offset + at);
    return value;
  }
  view(offset: number, size: number): DataView {
    for (let at = 0; at < size; at++) scratch.setUint8(at, this.byte(offset + at));
    return scratch;
  }
}

const NO_VALUE = Symbol("no value");

function decodeValue(cursor: Cursor, depthCount: { values: number }): LuaValue | typeof NO_VALUE {
  if (!cursor.need(1)) return NO_VALUE;
  if (++depthCount.values > 7990) {
    throw luaError(
      "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)",
    );
  }
  const type = cursor.byte(0);
  const fixed = (size: number, read: () => LuaValue): LuaValue | typeof NO_VALUE => {
    if (!cursor.need(size)) return NO_VALUE;
    const value = read();
    cursor.position += size;
    return value;
  };
  const text = (sizeBytes: number): LuaValue | typeof NO_VALUE => {
    if (!cursor.need(1 + sizeBytes)) return NO_VALUE;
    const length = cursor.unsigned(1, sizeBytes);
    if (!cursor.need(1 + sizeBytes + length)) return NO_VALUE;
    const start = cursor.position + 1 + sizeBytes;
    cursor.position = start + length;
    return cursor.data.slice(start, start + length);
  };
  const container = (sizeBytes: number, map: boolean): LuaValue | typeof NO_VALUE => {
    if (!cursor.need(1 + sizeBytes)) return NO_VALUE;
    const count = cursor.unsigned(1, sizeBytes);
    cursor.position += 1 + sizeBytes;
    return map ? decodeMap(cursor, count, depthCount) : decodeArray(cursor, count, depthCount);
  };
  switch (type) {
    case 0xcc:
      return fixed(2, () => cursor.byte(1));
    case 0xd0:
      return fixed(2, () => (cursor.byte(1) << 24) >> 24);
    case 0xcd:
      return fixed(3, () => cursor.unsigned(1, 2));
    case 0xd1:
      return fixed(3, () => cursor.view(1, 2).getInt16(0));
    case 0xce:
      return fixed(5, () => cursor.unsigned(1, 4));
    case 0xd2:
      return fixed(5, () => cursor.view(1, 4).getInt32(0));
    case 0xcf:
      // 5.1 has no lua_pushunsigned: Redis pushes the uint64 through lua_Integer, as signed.
      return fixed(9, () => Number(cursor.view(1, 8).getBigInt64(0)));
    case 0xd3:
      return fixed(9, () => Number(cursor.view(1, 8).getBigInt64(0)));
    case 0xc0:
      cursor.position++;
      return undefined;
    case 0xc3:
      cursor.position++;
      return true;
    case 0xc2:
      cursor.position++;
      return false;
    case 0xca:
      return fixed(5, () => cursor.view(1, 4).getFloat32(0));
    case 0xcb:
      return fixed(9, () => cursor.view(1, 8).getFloat64(0));
    case 0xd9:
      return text(1);
    case 0xda:
      return text(2);
    case 0xdb:
      return text(4);
    case 0xdc:
      return container(2, false);
    case 0xdd:
      return container(4, false);
    case 0xde:
      return container(2, true);
    case 0xdf:
      return container(4, true);
  }
  if ((type & 0x80) === 0) {
    cursor.position++;
    return type;
  }
  if ((type & 0xe0) === 0xe0) {
    cursor.position++;
    return (type << 24) >> 24;
  }
  if ((type & 0xe0) === 0xa0) {
    const length = type & 0x1f;
    if (!cursor.need(1 + length)) return NO_VALUE;
    const start = cursor.position + 1;
    cursor.position = start + length;
    return cursor.data.slice(start, start + length);
  }
  if ((type & 0xf0) === 0x90) {
    cursor.position++;
    return decodeArray(cursor, type & 0xf, depthCount);
  }
  if ((type & 0xf0) === 0x80) {
    cursor.position++;
    return decodeMap(cursor, type & 0xf, depthCount);
  }
  cursor.error = "format";
  return NO_VALUE;
}

function decodeArray(
  cursor: Cursor,
  count: number,
  depthCount: { values: number },
): LuaValue | typeof NO_VALUE {
  const table = new LuaTable();
  for (let position = 1; position <= count; position++) {
    const value = decodeValue(cursor, { values: 0 });
    if (cursor.error !== null) return table;
    setIndex(table, position, value as LuaValue, -1);
  }
  void depthCount;
  return table;
}

function decodeMap(
  cursor: Cursor,
  count: number,
  depthCount: { values: number },
): LuaValue | typeof NO_VALUE {
  const table = new LuaTable();
  for (let entry = 0; entry < count; entry++) {
    const key = decodeValue(cursor, { values: 0 });
    if (cursor.error !== null) return table;
    const value = decodeValue(cursor, { values: 0 });
    if (cursor.error !== null) return table;
    if (key === undefined) throw new LuaError("table index is nil", 0);
    if (typeof key === "number" && Number.isNaN(key)) throw new LuaError("table index is NaN", 0);
    setIndex(table, key as LuaValue, value as LuaValue, -1);
  }
  void depthCount;
  return table;
}

/** `mp_unpack_full`. */
function unpackFull(data: string, limit: number, offset: number): LuaValue[] {
  const decodeAll = limit === 0 && offset === 0;
  if (offset < 0 || limit < 0) {
    throw luaError(
      `Invalid request to unpack with offset of ${offset} and limit of ${data.length}.`,
    );
  }
  if (offset > data.length) {
    throw luaError(`Start offset ${offset} greater than input length ${data.length}.`);
  }
  const maximum = decodeAll ? 2147483647 : limit;
  const cursor = new Cursor(data, offset);
  const values: LuaValue[] = [];
  const counter = { values: 0 };
  for (let count = 0; cursor.left > 0 && count < maximum; count++) {
    const value = decodeValue(cursor, counter);
    if (cursor.error === "eof") throw luaError("Missing bytes in input.");
    if (cursor.error === "format") throw luaError("Bad data format in input.");
    values.push(value as LuaValue);
  }
  if (!decodeAll) values.unshift(cursor.left === 0 ? -1 : data.length - cursor.left);
  return values;
}

/** Builds the `cmsgpack` table. */
export function openCmsgpack(globals: LuaTable): LuaTable {
  const library = new LuaTable();
  const define = (name: string, fn: LuaFunction) => library.set(name, fn);
  define("pack", function pack(...values: LuaValue[]): LuaResult {
    if (values.length === 0) throw argumentError(0, "MessagePack pack needs input.");
    // lua_checkstack(L, nargs) with nargs already on the stack: LUAI_MAXCSTACK is 8000.
    if (values.length * 2 > 8000) {
      throw argumentError(0, "Too many arguments for MessagePack pack.");
    }
    const parts: string[] = [];
    for (const value of values) encodeValue(value, 0, parts);
    return parts.join("");
  });
  define("unpack", function unpack(data: LuaValue): LuaResult {
    return unpackFull(checkString(data, 1, arguments.length), 0, 0);
  });
  define("unpack_one", function unpackOne(data: LuaValue, offset: LuaValue): LuaResult {
    const count = arguments.length;
    const start = optInteger(offset, 2, count, 0);
    return unpackFull(checkString(data, 1, count), 1, start);
  });
  define(
    "unpack_limit",
    function unpackLimit(data: LuaValue, limit: LuaValue, offset: LuaValue): LuaResult {
      const count = arguments.length;
      const maximum = checkInteger(limit, 2, count);
      const start = optInteger(offset, 3, count, 0);
      return unpackFull(checkString(data, 1, count), maximum, start);
    },
  );
  library.set("_NAME", "cmsgpack");
  library.set("_VERSION", "lua-cmsgpack 0.4.0");
  library.set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo");
  library.set("_DESCRIPTION", "MessagePack C implementation for Lua");
  globals.set("cmsgpack", library);
  return library;
}
