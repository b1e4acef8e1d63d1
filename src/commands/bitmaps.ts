/**
 * Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and
 * BITFIELD_RO.
 *
 * Bitmaps are plain strings (bit 0 is the most significant bit of the first
 * byte), so these commands read binary strings directly and rebuild a
 * string only when they write. Reads beyond the end see zero bits; writes
 * grow the string with zero bytes, up to proto-max-bulk-len.
 *
 * Argument checks happen in Redis's order, which differs per command and
 * shows in which error wins: BITCOUNT and BITPOS answer a missing key
 * before looking at their ranges, BITFIELD parses every operation before it
 * looks the key up. BITFIELD arithmetic is done on bigints, since fields go
 * up to 64 bits; overflow handling (WRAP, SAT, FAIL) compares the exact
 * result with the field's range, which is what Redis's checks amount to.
 *
 * Like Redis, SETBIT and BITFIELD report a change (dirtying the key for
 * WATCH, the AOF and notifications) only when a bit actually changed or
 * the string was created or grown.
 *
 * @module
 */

import type { Client } from "./client.ts";
import { binaryToBytes, bytesToBinary } from "../protocol/binary.ts";
import { MAX_BULK_LENGTH } from "../protocol/parser.ts";
import { ArgumentCursor, parseInt64, parseInteger, requireInteger } from "./arguments.ts";
import { getString, getStringForWrite } from "./access.ts";
import {
  BIT_ARGUMENT_INVALID,
  BIT_OFFSET_INVALID,
  BIT_VALUE_INVALID,
  BITFIELD_OVERFLOW_INVALID,
  BITFIELD_READ_ONLY,
  BITFIELD_TYPE_INVALID,
  BITOP_NOT_SINGLE_SOURCE,
  CommandError,
  NOT_INTEGER,
  SYNTAX_ERROR,
} from "./errors.ts";
import { ensureStringFits } from "./strings.ts";
import { command, type KeyFinder } from "./table.ts";

/** Bits set in each byte value. */
const POPCOUNT = Uint8Array.from({ length: 256 }, (_, byte) => {
  let count = 0;
  for (let rest = byte; rest !== 0; rest >>= 1) count += rest & 1;
  return count;
});

/**
 * A bit offset argument: an integer from 0 to 2^32 - 1 (the bits of a
 * proto-max-bulk-len string). With `fieldBits` (BITFIELD), `#N` means the
 * N-th field of that width; the multiplication wraps at 64 bits as in C.
 */
function parseBitOffset(text: string, fieldBits = 0): number {
  const byField = fieldBits > 0 && text.charCodeAt(0) === 35;
  const digits = byField ? text.slice(1) : text;
  let offset = parseInteger(digits);
  if (offset === undefined) throw new CommandError(BIT_OFFSET_INVALID);
  if (byField) {
    offset *= fieldBits;
    if (!Number.isSafeInteger(offset)) {
      offset = Number(BigInt.asIntN(64, parseInt64(digits)! * BigInt(fieldBits)));
    }
  }
  if (offset < 0 || Math.floor(offset / 8) >= MAX_BULK_LENGTH) {
    throw new CommandError(BIT_OFFSET_INVALID);
  }
  return offset;
}

/** The byte at `index`, zero beyond the end. */
function byteAt(value: string, index: number): number {
  return index < value.length ? value.charCodeAt(index) : 0;
}

/**
 * The string at `key` grown with zero bytes to hold bit `highestBit`
 * (created when missing), and whether that created or grew it.
 */
function stringForBitWrite(
  client: Client,
  key: string,
  highestBit: number,
): { value: string; grown: boolean } {
  const current = getStringForWrite(client, key);
  const length = Math.floor(highestBit / 8) + 1;
  const value = current ?? "";
  if (current !== undefined && value.length >= length) return { value, grown: false };
  ensureStringFits(length, BIT_OFFSET_INVALID);
  return { value: value + "\0".repeat(length - value.length), grown: true };
}

function setbit(client: Client, args: string[]): void {
  const key = args[1]!;
  const offset = parseBitOffset(args[2]!);
  const bit = parseInteger(args[3]!);
  if (bit !== 0 && bit !== 1) throw new CommandError(BIT_VALUE_INVALID);
  const { value, grown } = stringForBitWrite(client, key, offset);
  const index = Math.floor(offset / 8);
  const mask = 0x80 >> (offset % 8);
  const byte = value.charCodeAt(index);
  const previous = (byte & mask) === 0 ? 0 : 1;
  if (grown || previous !== bit) {
    const updated = bit === 1 ? byte | mask : byte & ~mask;
    client.db.set(
      key,
      value.slice(0, index) + String.fromCharCode(updated) + value.slice(index + 1),
      true,
    );
    client.changed(key, "setbit", "$");
  }
  client.reply.integer(previous);
}

function getbit(client: Client, args: string[]): void {
  const offset = parseBitOffset(args[2]!);
  const value = getString(client, args[1]!);
  const byte = value === undefined ? 0 : byteAt(value, Math.floor(offset / 8));
  client.reply.integer((byte >> (7 - (offset % 8))) & 1);
}

/**
 * A BITCOUNT/BITPOS range made absolute: negative indexes count from the
 * end, then both ends are clamped to the string. Returns inclusive bit
 * positions, or undefined when the range is empty.
 */
function bitRange(
  length: number,
  start: number,
  end: number,
  inBits: boolean,
): [number, number] | undefined {
  const total = inBits ? length * 8 : length;
  if (start < 0) start = Math.max(0, total + start);
  if (end < 0) end = Math.max(0, total + end);
  if (end >= total) end = total - 1;
  if (start > end) return undefined;
  return inBits ? [start, end] : [start * 8, end * 8 + 7];
}

/** Parses the optional last argument BYTE|BIT of BITCOUNT and BITPOS; true for BIT. */
function parseRangeUnit(cursor: ArgumentCursor): boolean {
  if (!cursor.hasMore()) return false;
  const unit = cursor.keyword();
  cursor.finish();
  if (unit === "BIT") return true;
  if (unit !== "BYTE") throw new CommandError(SYNTAX_ERROR);
  return false;
}

/** Set bits from bit `from` to bit `to`, inclusive. */
function countBits(value: string, from: number, to: number): number {
  const firstByte = Math.floor(from / 8);
  const lastByte = Math.floor(to / 8);
  let count = 0;
  for (let i = firstByte; i <= lastByte; i++) count += POPCOUNT[value.charCodeAt(i)]!;
  // Take back the bits of the edge bytes that lie outside the range.
  count -= POPCOUNT[value.charCodeAt(firstByte) & (0xff00 >> (from % 8)) & 0xff]!;
  count -= POPCOUNT[value.charCodeAt(lastByte) & ((1 << (7 - (to % 8))) - 1)]!;
  return count;
}

function bitcount(client: Client, args: string[]): void {
  const cursor = new ArgumentCursor(args);
  const value = getString(client, cursor.key());
  if (value === undefined) {
    client.reply.integer(0);
    return;
  }
  let range: [number, number] | undefined;
  if (!cursor.hasMore()) {
    range = bitRange(value.length, 0, -1, false);
  } else if (cursor.remaining === 2 || cursor.remaining === 3) {
    const start = cursor.integer();
    const end = cursor.integer();
    // Redis answers this case before looking at the unit.
    if (start < 0 && end < 0 && start > end) {
      client.reply.integer(0);
      return;
    }
    range = bitRange(value.length, start, end, parseRangeUnit(cursor));
  } else {
    throw new CommandError(SYNTAX_ERROR);
  }
  client.reply.integer(range === undefined ? 0 : countBits(value, range[0], range[1]));
}

/** Position of the first bit equal to `bit` from bit `from` to bit `to`, or -1. */
function findBit(value: string, bit: number, from: number, to: number): number {
  const uniform = bit === 1 ? 0x00 : 0xff;
  let position = from;
  while (position <= to) {
    const byte = value.charCodeAt(Math.floor(position / 8));
    const shift = 7 - (position % 8);
    // Whole bytes without the bit sought are skipped at once.
    if (shift === 7 && position + 7 <= to && byte === uniform) {
      position += 8;
      continue;
    }
    if (((byte >> shift) & 1) === bit) return position;
    position++;
  }
  return -1;
}

/**
 * BITPOS. Without an explicit end, the string counts as followed by zero
 * bits, so a search for 0 in all-ones bytes answers the first bit after
 * them; with an end given it answers -1, as Redis does.
 */
function bitpos(client: Client, args: string[]): void {
  const cursor = new ArgumentCursor(args);
  const key = cursor.key();
  const bit = cursor.integer();
  if (bit !== 0 && bit !== 1) throw new CommandError(BIT_ARGUMENT_INVALID);
  const value = getString(client, key);
  if (value === undefined) {
    client.reply.integer(bit === 1 ? -1 : 0);
    return;
  }
  if (cursor.remaining > 3) throw new CommandError(SYNTAX_ERROR);
  const start = cursor.hasMore() ? cursor.integer() : 0;
  const endText = cursor.hasMore() ? cursor.next() : undefined;
  // Redis checks the unit before the end.
  const inBits = parseRangeUnit(cursor);
  const endGiven = endText !== undefined;
  const end = endGiven ? requireInteger(endText) : -1;
  const range = bitRange(value.length, start, end, inBits);
  if (range === undefined) {
    client.reply.integer(-1);
    return;
  }
  const position = findBit(value, bit, range[0], range[1]);
  client.reply.integer(position === -1 && bit === 0 && !endGiven ? range[1] + 1 : position);
}

type BitOperator = "AND" | "OR" | "XOR" | "NOT";

function bitop(client: Client, args: string[]): void {
  const cursor = new ArgumentCursor(args);
  const operator = cursor.accept("AND", "OR", "XOR", "NOT");
  if (operator === undefined) throw new CommandError(SYNTAX_ERROR);
  if (operator === "NOT" && cursor.remaining !== 2) {
    throw new CommandError(BITOP_NOT_SINGLE_SOURCE);
  }
  const destination = cursor.key();
  const sources: string[] = [];
  let length = 0;
  while (cursor.hasMore()) {
    const source = getString(client, cursor.key()) ?? "";
    sources.push(source);
    if (source.length > length) length = source.length;
  }
  const db = client.db;
  if (length === 0) {
    if (db.lookup(destination) !== undefined && db.delete(destination)) {
      client.changed(destination, "del", "g");
    }
    client.reply.integer(0);
    return;
  }
  db.set(destination, bytesToBinary(combine(operator, sources, length)));
  client.changed(destination, "set", "$");
  client.reply.integer(length);
}

/** The bytes of `operator` applied to `sources`, shorter ones padded with zeros. */
function combine(operator: BitOperator, sources: readonly string[], length: number): Uint8Array {
  const result = new Uint8Array(length);
  const first = sources[0]!;
  for (let i = 0; i < length; i++) result[i] = byteAt(first, i);
  if (operator === "NOT") {
    for (let i = 0; i < length; i++) result[i] = ~result[i]! & 0xff;
    return result;
  }
  for (let s = 1; s < sources.length; s++) {
    const source = sources[s]!;
    for (let i = 0; i < length; i++) {
      const byte = byteAt(source, i);
      if (operator === "AND") result[i]! &= byte;
      else if (operator === "OR") result[i]! |= byte;
      else result[i]! ^= byte;
    }
  }
  return result;
}

type Overflow = "WRAP" | "SAT" | "FAIL";

/** One BITFIELD operation, parsed before any is run. */
interface BitfieldOperation {
  kind: "GET" | "SET" | "INCRBY";
  signed: boolean;
  bits: number;
  offset: number;
  /** SET's value or INCRBY's increment. */
  operand: bigint;
  overflow: Overflow;
}

/** `i1`..`i64` or `u1`..`u63` (lower-case only, as in Redis). */
function parseBitfieldType(text: string): { signed: boolean; bits: number } {
  const signed = text[0] === "i";
  if (!signed && text[0] !== "u") throw new CommandError(BITFIELD_TYPE_INVALID);
  // Redis reads the width with strlen: a NUL byte ends it.
  const nul = text.indexOf("\0");
  const bits = parseInteger(text.slice(1, nul < 0 ? undefined : nul));
  if (bits === undefined || bits < 1 || bits > (signed ? 64 : 63)) {
    throw new CommandError(BITFIELD_TYPE_INVALID);
  }
  return { signed, bits };
}

function parseBitfieldOperations(args: string[]): BitfieldOperation[] {
  const operations: BitfieldOperation[] = [];
  let overflow: Overflow = "WRAP";
  const cursor = new ArgumentCursor(args, 2);
  while (cursor.hasMore()) {
    const name = cursor.keyword();
    const remaining = cursor.remaining;
    if (name === "OVERFLOW" && remaining >= 1) {
      const behaviour = cursor.accept("WRAP", "SAT", "FAIL");
      if (behaviour === undefined) throw new CommandError(BITFIELD_OVERFLOW_INVALID);
      overflow = behaviour;
      continue;
    }
    let kind: BitfieldOperation["kind"];
    if (name === "GET" && remaining >= 2) kind = "GET";
    else if (name === "SET" && remaining >= 3) kind = "SET";
    else if (name === "INCRBY" && remaining >= 3) kind = "INCRBY";
    else throw new CommandError(SYNTAX_ERROR);
    const { signed, bits } = parseBitfieldType(cursor.next());
    const offset = parseBitOffset(cursor.next(), bits);
    let operand = 0n;
    if (kind !== "GET") {
      const parsed = parseInt64(cursor.next());
      if (parsed === undefined) throw new CommandError(NOT_INTEGER);
      operand = parsed;
    }
    operations.push({ kind, signed, bits, offset, operand, overflow });
  }
  return operations;
}

/** The field at `offset` of `bits` bits read through `byteOf`, as a signed or unsigned value. */
function readField(
  byteOf: (index: number) => number,
  offset: number,
  bits: number,
  signed: boolean,
): bigint {
  let field = 0n;
  for (let position = offset; position < offset + bits; position++) {
    const bit = (byteOf(Math.floor(position / 8)) >> (7 - (position % 8))) & 1;
    field = (field << 1n) | BigInt(bit);
  }
  return signed ? BigInt.asIntN(bits, field) : field;
}

function writeField(bytes: Uint8Array, offset: number, bits: number, field: bigint): void {
  for (let i = 0; i < bits; i++) {
    const position = offset + i;
    const index = Math.floor(position / 8);
    const mask = 0x80 >> (position % 8);
    if (((field >> BigInt(bits - 1 - i)) & 1n) === 1n) bytes[index]! |= mask;
    else bytes[index]! &= ~mask;
  }
}

/**
 * `result` brought into the field's range by the overflow behaviour, or
 * undefined when it does not fit and the behaviour is FAIL.
 */
function fitField(result: bigint, operation: BitfieldOperation): bigint | undefined {
  const { signed, bits, overflow } = operation;
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  if (result >= min && result <= max) return result;
  if (overflow === "FAIL") return undefined;
  if (overflow === "SAT") return result > max ? max : min;
  return signed ? BigInt.asIntN(bits, result) : BigInt.asUintN(bits, result);
}

/** BITFIELD and BITFIELD_RO (`readOnly`), which refuses SET and INCRBY. */
function bitfield(client: Client, args: string[], readOnly: boolean): void {
  const key = args[1]!;
  const operations = parseBitfieldOperations(args);
  let highestBit = -1;
  for (const operation of operations) {
    if (operation.kind !== "GET") {
      highestBit = Math.max(highestBit, operation.offset + operation.bits - 1);
    }
  }
  const reply = client.reply;
  if (highestBit < 0) {
    const value = getString(client, key) ?? "";
    reply.arrayHeader(operations.length);
    for (const { offset, bits, signed } of operations) {
      reply.integer(readField((index) => byteAt(value, index), offset, bits, signed));
    }
    return;
  }
  if (readOnly) throw new CommandError(BITFIELD_READ_ONLY);

  const { value, grown } = stringForBitWrite(client, key, highestBit);
  const bytes = binaryToBytes(value);
  const byteOf = (index: number) => bytes[index] ?? 0;
  let changes = 0;
  reply.arrayHeader(operations.length);
  for (const operation of operations) {
    const { kind, offset, bits, signed, operand } = operation;
    const previous = readField(byteOf, offset, bits, signed);
    if (kind === "GET") {
      reply.integer(previous);
      continue;
    }
    // An unsigned SET takes its operand as C's uint64_t would: -1 is 2^64 - 1.
    const wanted = kind === "INCRBY"
      ? previous + operand
      : signed
      ? operand
      : BigInt.asUintN(64, operand);
    const field = fitField(wanted, operation);
    if (field === undefined) {
      reply.nullBulk();
      continue;
    }
    writeField(bytes, offset, bits, field);
    if (grown || field !== previous) changes++;
    reply.integer(kind === "INCRBY" ? field : previous);
  }
  // Growing is kept even when no write counted as a change, as Redis does.
  if (grown || changes > 0) client.db.set(key, bytesToBinary(bytes), true);
  if (changes > 0) client.changed(key, "setbit", "$");
}

/**
 * BITFIELD's key with the flags of what the request does (Redis's
 * bitfieldGetKeys): read-only when every operation is a GET, as far as the
 * operations parse.
 */
const bitfieldKeys: KeyFinder = (args) => {
  let readOnly = true;
  for (let i = 2; i < args.length; i++) {
    const remaining = args.length - i - 1;
    const operation = args[i]!.toUpperCase();
    if (operation === "GET" && remaining >= 2) i += 2;
    else if ((operation === "SET" || operation === "INCRBY") && remaining >= 3) {
      readOnly = false;
      break;
    } else if (operation === "OVERFLOW" && remaining >= 1) i += 1;
    else {
      // A syntax error: safer to assume a write.
      readOnly = false;
      break;
    }
  }
  return [{ position: 1, flags: readOnly ? ["RO", "ACCESS"] : ["RW", "ACCESS", "UPDATE"] }];
};

export const bitmapCommands = [
  command({
    name: "setbit",
    arity: 4,
    flags: ["write", "denyoom"],
    aclCategories: ["bitmap"],
    keySpecs: [{ flags: ["RW", "ACCESS", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: setbit,
  }),
  command({
    name: "getbit",
    arity: 3,
    flags: ["readonly", "fast"],
    aclCategories: ["bitmap"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: getbit,
  }),
  command({
    name: "bitcount",
    arity: -2,
    flags: ["readonly"],
    aclCategories: ["bitmap"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: bitcount,
  }),
  command({
    name: "bitpos",
    arity: -3,
    flags: ["readonly"],
    aclCategories: ["bitmap"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: bitpos,
  }),
  command({
    name: "bitop",
    arity: -4,
    flags: ["write", "denyoom"],
    aclCategories: ["bitmap"],
    keySpecs: [
      { flags: ["OW", "UPDATE"], begin: { index: 2 }, find: { lastKey: 0 } },
      { flags: ["RO", "ACCESS"], begin: { index: 3 }, find: { lastKey: -1 } },
    ],
    handler: bitop,
  }),
  command({
    name: "bitfield",
    arity: -2,
    flags: ["write", "denyoom"],
    aclCategories: ["bitmap"],
    keySpecs: [
      {
        flags: ["RW", "ACCESS", "UPDATE", "VARIABLE_FLAGS"],
        begin: { index: 1 },
        find: { lastKey: 0 },
        notes: "This command allows both access and modification of the key",
      },
    ],
    keyFinder: bitfieldKeys,
    handler: (client, args) => bitfield(client, args, false),
  }),
  command({
    name: "bitfield_ro",
    arity: -2,
    flags: ["readonly", "fast"],
    aclCategories: ["bitmap"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => bitfield(client, args, true),
  }),
];
