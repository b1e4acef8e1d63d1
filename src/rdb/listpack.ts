/**
 * Listpacks (`listpack.c`): the compact encoding Redis 7.0 saves small
 * hashes and sorted sets in, each quicklist node of a list, and each node
 * of a stream.
 *
 * Layout: total bytes (uint32 LE), element count (uint16 LE, 65535 when
 * unknown), the elements, and an 0xFF terminator. Each element is an
 * encoding byte with its data — a 7/13/16/24/32/64-bit integer or a string
 * with a 6/12/32-bit length — followed by a "backlen", the element's own
 * size written right-to-left in 7-bit groups so the list can be walked
 * backwards.
 *
 * `ListpackReader` walks one element at a time without allocating and
 * checks everything `lpValidateIntegrity` checks in deep mode (header size
 * and count, every encoding, every backlen, nothing past the end), so
 * untrusted input is validated in the same pass that decodes it.
 * `ListpackBuilder` appends elements the way `lpAppend` does: strings that
 * are canonical integers are stored as integers, in the smallest encoding.
 *
 * @module
 */

import { type BinaryBuffer, binaryView } from "../protocol/binary.ts";
import { canonicalInteger, readInt64LE, writeInt64LE } from "./integers.ts";
import { RdbError } from "./model.ts";
import { SHORT_STRING_MAX, shortString, writeBinary } from "./short_strings.ts";

const HEADER_SIZE = 6;
const END = 0xff;
const UNKNOWN_COUNT = 0xffff;

/** How many bytes the backlen of an element of `size` bytes takes (`lpEncodeBacklen`). */
export function backlenSize(size: number): number {
  if (size <= 127) return 1;
  if (size < 16383) return 2;
  if (size < 2097151) return 3;
  if (size < 268435455) return 4;
  return 5;
}

const EMPTY = new Uint8Array(0);

/**
 * Reads the elements of a listpack one by one, validating as it goes. One
 * reader can be reused for many listpacks (`open`), so decoding a million
 * small hashes allocates no reader per hash.
 */
export class ListpackReader {
  #bytes: Uint8Array = EMPTY;
  #view: BinaryBuffer | undefined;
  #last = 0;
  #declaredCount = 0;
  #position = 0;
  #seen = 0;
  /** Names the structure in error messages ("Hash listpack", ...). */
  what = "Listpack";
  /** Whether the current element is an integer (else a string). */
  isInteger = false;
  /** The current integer element. */
  integer: number | bigint = 0;
  /** Where the current string element's bytes start. */
  stringStart = 0;
  /** The current string element's length. */
  stringLength = 0;

  /** A reader over the whole of `bytes`, when given. */
  constructor(bytes?: Uint8Array, what = "Listpack") {
    if (bytes !== undefined) this.open(bytes, 0, bytes.length, what);
  }

  /** Starts reading the listpack in `bytes[start, end)`; throws `RdbError` if its header is invalid. */
  open(bytes: Uint8Array, start: number, end: number, what = "Listpack"): void {
    this.what = what;
    if (bytes !== this.#bytes) {
      this.#bytes = bytes;
      this.#view = undefined;
    }
    const size = end - start;
    if (size < HEADER_SIZE + 1) throw invalid(what);
    const total = (bytes[start]! | (bytes[start + 1]! << 8) | (bytes[start + 2]! << 16) |
      (bytes[start + 3]! << 24)) >>> 0;
    if (total !== size || bytes[end - 1] !== END) throw invalid(what);
    this.#last = end - 1;
    this.#declaredCount = bytes[start + 4]! | (bytes[start + 5]! << 8);
    this.#position = start + HEADER_SIZE;
    this.#seen = 0;
  }

  /**
   * Moves to the next element; false at the end, after checking the count
   * in the header. Throws `RdbError` on any inconsistency.
   */
  next(): boolean {
    const bytes = this.#bytes;
    const at = this.#position;
    if (at > this.#last) throw invalid(this.what);
    const encoding = bytes[at]!;
    if (encoding === END) {
      if (at !== this.#last) throw invalid(this.what);
      if (this.#declaredCount !== UNKNOWN_COUNT && this.#declaredCount !== this.#seen) {
        throw new RdbError("corrupt", `${this.what} integrity check failed: wrong element count.`);
      }
      return false;
    }
    let size: number;
    const available = this.#last - at;
    if (encoding < 0x80) {
      this.isInteger = true;
      this.integer = encoding;
      size = 1;
    } else if (encoding < 0xc0) {
      this.isInteger = false;
      this.stringStart = at + 1;
      this.stringLength = encoding & 0x3f;
      size = 1 + this.stringLength;
    } else if (encoding < 0xe0) {
      if (available < 2) throw invalid(this.what);
      const value = ((encoding & 0x1f) << 8) | bytes[at + 1]!;
      this.isInteger = true;
      this.integer = value >= 4096 ? value - 8192 : value;
      size = 2;
    } else if (encoding < 0xf0) {
      if (available < 2) throw invalid(this.what);
      this.isInteger = false;
      this.stringStart = at + 2;
      this.stringLength = ((encoding & 0x0f) << 8) | bytes[at + 1]!;
      size = 2 + this.stringLength;
    } else {
      switch (encoding) {
        case 0xf0: {
          if (available < 5) throw invalid(this.what);
          this.isInteger = false;
          this.stringStart = at + 5;
          this.stringLength = (bytes[at + 1]! | (bytes[at + 2]! << 8) | (bytes[at + 3]! << 16) |
            (bytes[at + 4]! << 24)) >>> 0;
          size = 5 + this.stringLength;
          break;
        }
        case 0xf1: {
          if (available < 3) throw invalid(this.what);
          const value = bytes[at + 1]! | (bytes[at + 2]! << 8);
          this.isInteger = true;
          this.integer = value >= 32768 ? value - 65536 : value;
          size = 3;
          break;
        }
        case 0xf2: {
          if (available < 4) throw invalid(this.what);
          const value = bytes[at + 1]! | (bytes[at + 2]! << 8) | (bytes[at + 3]! << 16);
          this.isInteger = true;
          this.integer = value >= 8388608 ? value - 16777216 : value;
          size = 4;
          break;
        }
        case 0xf3: {
          if (available < 5) throw invalid(this.what);
          this.isInteger = true;
          this.integer = bytes[at + 1]! | (bytes[at + 2]! << 8) | (bytes[at + 3]! << 16) |
            (bytes[at + 4]! << 24);
          size = 5;
          break;
        }
        case 0xf4: {
          if (available < 9) throw invalid(this.what);
          this.isInteger = true;
          this.integer = readInt64LE(bytes, at + 1);
          size = 9;
          break;
        }
        default:
          throw invalid(this.what);
      }
    }
    const backlen = backlenSize(size);
    // The element and its backlen must end at or before the terminator.
    if (size + backlen > available) throw invalid(this.what);
    if (decodeBacklen(bytes, at + size, backlen) !== size) throw invalid(this.what);
    this.#position = at + size + backlen;
    this.#seen++;
    return true;
  }

  /** The current element as a binary string (integers in decimal). */
  string(): string {
    if (this.isInteger) return String(this.integer);
    const length = this.stringLength;
    if (length <= SHORT_STRING_MAX) return shortString(this.#bytes, this.stringStart, length);
    this.#view ??= binaryView(this.#bytes);
    return this.#view.latin1Slice(this.stringStart, this.stringStart + length);
  }

  /**
   * The current element as an integer, whether stored as one or as a
   * canonical decimal string (`lpGetIntegerIfValid`); undefined otherwise.
   */
  integerValue(): number | bigint | undefined {
    if (this.isInteger) return this.integer;
    if (this.stringLength > 20) return undefined;
    return canonicalInteger(this.string());
  }
}

/** Decodes the backlen of `count` bytes at `start`, written right to left. */
function decodeBacklen(bytes: Uint8Array, start: number, count: number): number {
  let value = 0;
  let shift = 0;
  for (let i = start + count - 1; i >= start; i--) {
    const byte = bytes[i]!;
    const more = (byte & 0x80) !== 0;
    // Every byte but the leftmost says "more to the left"; the leftmost does not.
    if (more !== (i > start)) return -1;
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  }
  return value;
}

function invalid(what: string): RdbError {
  return new RdbError("corrupt", `${what} integrity check failed.`);
}

/**
 * Every element of a listpack as a binary string.
 *
 * @example
 * ```ts
 * const builder = new ListpackBuilder();
 * builder.append("a");
 * builder.append("12");
 * listpackStrings(builder.finish()); // ["a", "12"]
 * ```
 */
export function listpackStrings(bytes: Uint8Array, what = "Listpack"): string[] {
  const reader = new ListpackReader(bytes, what);
  const items: string[] = [];
  while (reader.next()) items.push(reader.string());
  return items;
}

/** Appends elements to a listpack under construction (`lpAppend`, `lpAppendInteger`). */
export class ListpackBuilder {
  #bytes = new Uint8Array(256);
  #position = HEADER_SIZE;
  #count = 0;

  /** Starts a new, empty listpack (the buffer is reused). */
  reset(): void {
    this.#position = HEADER_SIZE;
    this.#count = 0;
  }

  /** Elements appended so far. */
  get count(): number {
    return this.#count;
  }

  /** Size in bytes the listpack would have if finished now (header and terminator included). */
  get byteLength(): number {
    return this.#position + 1;
  }

  #ensure(extra: number): void {
    const needed = this.#position + extra + 1;
    if (needed <= this.#bytes.length) return;
    let capacity = this.#bytes.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.#bytes.subarray(0, this.#position));
    this.#bytes = grown;
  }

  /** Appends a string element; canonical integers are stored as integers, as Redis does. */
  append(value: string): void {
    const length = value.length;
    if (length <= 20 && length > 0) {
      const first = value.charCodeAt(0);
      if (first === 45 || (first >= 48 && first <= 57)) {
        const integer = canonicalInteger(value);
        if (integer !== undefined) {
          this.appendInteger(integer);
          return;
        }
      }
    }
    const header = length < 64 ? 1 : length < 4096 ? 2 : 5;
    const size = header + length;
    const backlen = backlenSize(size);
    this.#ensure(size + backlen);
    const bytes = this.#bytes;
    let at = this.#position;
    if (header === 1) {
      bytes[at++] = 0x80 | length;
    } else if (header === 2) {
      bytes[at++] = 0xe0 | (length >>> 8);
      bytes[at++] = length & 0xff;
    } else {
      bytes[at++] = 0xf0;
      bytes[at++] = length & 0xff;
      bytes[at++] = (length >>> 8) & 0xff;
      bytes[at++] = (length >>> 16) & 0xff;
      bytes[at++] = length >>> 24;
    }
    writeBinary(bytes, at, value);
    at += length;
    this.#position = writeBacklen(bytes, at, size, backlen);
    this.#count++;
  }

  /** Appends an integer element in the smallest integer encoding. */
  appendInteger(value: number | bigint): void {
    if (typeof value === "bigint" && value >= -0x1fffffffffffffn && value <= 0x1fffffffffffffn) {
      value = Number(value);
    }
    this.#ensure(9 + 1);
    const bytes = this.#bytes;
    let at = this.#position;
    let size: number;
    const small = typeof value === "number" ? value : undefined;
    if (small !== undefined && small >= 0 && small <= 127) {
      bytes[at++] = small;
      size = 1;
    } else if (small !== undefined && small >= -4096 && small <= 4095) {
      const encoded = small < 0 ? (1 << 13) + small : small;
      bytes[at++] = 0xc0 | (encoded >>> 8);
      bytes[at++] = encoded & 0xff;
      size = 2;
    } else if (small !== undefined && small >= -32768 && small <= 32767) {
      const encoded = small < 0 ? (1 << 16) + small : small;
      bytes[at++] = 0xf1;
      bytes[at++] = encoded & 0xff;
      bytes[at++] = encoded >>> 8;
      size = 3;
    } else if (small !== undefined && small >= -8388608 && small <= 8388607) {
      const encoded = small < 0 ? (1 << 24) + small : small;
      bytes[at++] = 0xf2;
      bytes[at++] = encoded & 0xff;
      bytes[at++] = (encoded >>> 8) & 0xff;
      bytes[at++] = encoded >>> 16;
      size = 4;
    } else if (small !== undefined && small >= -2147483648 && small <= 2147483647) {
      bytes[at++] = 0xf3;
      bytes[at++] = small & 0xff;
      bytes[at++] = (small >>> 8) & 0xff;
      bytes[at++] = (small >>> 16) & 0xff;
      bytes[at++] = (small >>> 24) & 0xff;
      size = 5;
    } else {
      bytes[at++] = 0xf4;
      writeInt64LE(bytes, at, value);
      at += 8;
      size = 9;
    }
    this.#position = writeBacklen(bytes, at, size, 1);
    this.#count++;
  }

  /**
   * Finishes the listpack: writes the header and terminator and returns a
   * view of the bytes, valid until the next `reset` or append.
   */
  finish(): Uint8Array {
    const bytes = this.#bytes;
    const total = this.#position + 1;
    bytes[this.#position] = END;
    bytes[0] = total & 0xff;
    bytes[1] = (total >>> 8) & 0xff;
    bytes[2] = (total >>> 16) & 0xff;
    bytes[3] = total >>> 24;
    const count = this.#count < UNKNOWN_COUNT ? this.#count : UNKNOWN_COUNT;
    bytes[4] = count & 0xff;
    bytes[5] = count >>> 8;
    return bytes.subarray(0, total);
  }
}

/** Writes the backlen of an element of `size` bytes at `at`; returns the position after it. */
function writeBacklen(bytes: Uint8Array, at: number, size: number, knownBytes: number): number {
  const count = knownBytes === 1 && size <= 127 ? 1 : backlenSize(size);
  if (count === 1) {
    bytes[at] = size;
    return at + 1;
  }
  // Leftmost byte: the most significant group, without the continuation bit.
  let remaining = size;
  for (let i = count - 1; i >= 0; i--) {
    const group = remaining & 0x7f;
    bytes[at + i] = i === 0 ? group : group | 0x80;
    remaining = Math.floor(remaining / 128);
  }
  return at + count;
}
