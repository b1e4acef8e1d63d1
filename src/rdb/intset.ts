/**
 * Intsets (`intset.c`): how Redis saves a set whose members are all
 * integers, while it has at most `set-max-intset-entries` (512) of them.
 *
 * Layout: the element width in bytes (uint32 LE: 2, 4 or 8), the count
 * (uint32 LE), then the members as signed little-endian integers of that
 * width in strictly ascending order. Decoding checks what
 * `intsetValidateIntegrity` checks in deep mode: a known width, a size that
 * matches the count exactly, at least one member, strictly ascending (which
 * also rules out duplicates).
 *
 * @module
 */

import { canonicalInteger, readInt64LE, toBigInt, writeInt64LE } from "./integers.ts";
import { RdbError } from "./model.ts";

const HEADER_SIZE = 8;

/** The members of an intset, as decimal binary strings; throws `RdbError` if invalid. */
export function intsetStrings(bytes: Uint8Array): string[] {
  const size = bytes.length;
  if (size < HEADER_SIZE) throw invalid();
  const width = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
  const count = (bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24)) >>> 0;
  if (width !== 2 && width !== 4 && width !== 8) throw invalid();
  if (HEADER_SIZE + count * width !== size || count === 0) throw invalid();
  const members: string[] = [];
  let previous: number | bigint | undefined;
  for (let i = 0; i < count; i++) {
    const at = HEADER_SIZE + i * width;
    let value: number | bigint;
    if (width === 2) {
      const raw = bytes[at]! | (bytes[at + 1]! << 8);
      value = raw > 32767 ? raw - 65536 : raw;
    } else if (width === 4) {
      value = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
    } else {
      value = readInt64LE(bytes, at);
    }
    if (previous !== undefined && !(previous < value)) throw invalid();
    previous = value;
    members.push(String(value));
  }
  return members;
}

/**
 * The integers of `members` if they can form an intset of at most
 * `maxEntries` members (every member a canonical int64), sorted ascending;
 * undefined otherwise.
 */
export function intsetCandidates(
  members: Iterable<string>,
  maxEntries: number,
): (number | bigint)[] | undefined {
  const values: (number | bigint)[] = [];
  let hasBig = false;
  for (const member of members) {
    const value = canonicalInteger(member);
    if (value === undefined) return undefined;
    if (typeof value === "bigint") hasBig = true;
    values.push(value);
    if (values.length > maxEntries) return undefined;
  }
  if (values.length === 0) return undefined;
  if (hasBig) {
    values.sort((a, b) => {
      const left = toBigInt(a);
      const right = toBigInt(b);
      return left < right ? -1 : left > right ? 1 : 0;
    });
  } else {
    (values as number[]).sort((a, b) => a - b);
  }
  return values;
}

/** Encodes sorted integers as an intset, in the narrowest width that holds them all. */
export function encodeIntset(sorted: readonly (number | bigint)[]): Uint8Array {
  const lowest = sorted[0]!;
  const highest = sorted[sorted.length - 1]!;
  let width = 8;
  if (typeof lowest === "number" && typeof highest === "number") {
    if (lowest >= -32768 && highest <= 32767) width = 2;
    else if (lowest >= -2147483648 && highest <= 2147483647) width = 4;
  }
  const bytes = new Uint8Array(HEADER_SIZE + sorted.length * width);
  bytes[0] = width;
  const count = sorted.length;
  bytes[4] = count & 0xff;
  bytes[5] = (count >>> 8) & 0xff;
  bytes[6] = (count >>> 16) & 0xff;
  bytes[7] = count >>> 24;
  for (let i = 0; i < count; i++) {
    const at = HEADER_SIZE + i * width;
    const value = sorted[i]!;
    if (width === 8) {
      writeInt64LE(bytes, at, value);
    } else {
      const small = value as number;
      bytes[at] = small & 0xff;
      bytes[at + 1] = (small >>> 8) & 0xff;
      if (width === 4) {
        bytes[at + 2] = (small >>> 16) & 0xff;
        bytes[at + 3] = (small >>> 24) & 0xff;
      }
    }
  }
  return bytes;
}

function invalid(): RdbError {
  return new RdbError("corrupt", "Intset integrity check failed.");
}
