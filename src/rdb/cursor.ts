/**
 * A read cursor over RDB bytes: the primitive decoders every value is made
 * of (`rdbLoadLen`, `rdbGenericLoadStringObject`, the double and time
 * formats), each checking that its bytes are there before reading them.
 *
 * Running out of bytes is not an error at this level: the cursor throws
 * the `NEED_MORE` sentinel (a plain object, so throwing it captures no
 * stack), and its owner decides what that means — wait for the next chunk
 * of a file being streamed in, or report truncation when the input is
 * complete. Everything else wrong with the bytes is an `RdbError`.
 *
 * Strings are sliced out with the runtime's native latin1 decoder, which
 * makes each one a one-byte V8 string: the server's binary string
 * representation, at one native copy per string.
 *
 * @module
 */

import { type BinaryBuffer, binaryView } from "../protocol/binary.ts";
import { RDB_STRING_ENCODING } from "./constants.ts";
import { readInt64LE } from "./integers.ts";
import { lzfDecompress, lzfMaxExpansion } from "./lzf.ts";
import { RdbError } from "./model.ts";
import { SHORT_STRING_MAX, shortString } from "./short_strings.ts";

/** Thrown (not an Error) when a read needs bytes past the end of the cursor's window. */
export const NEED_MORE: { readonly needMore: true } = Object.freeze({ needMore: true });

/** V8's limit on string length: longer RDB strings cannot become JS strings. */
export const MAX_STRING_LENGTH = 536_870_888;

const EMPTY_BYTES = new Uint8Array(0);
const EMPTY_VIEW = binaryView(EMPTY_BYTES);
const FLOAT_BYTES = new Uint8Array(8);
const FLOAT64 = new Float64Array(FLOAT_BYTES.buffer);
const TEXT_DOUBLE =
  /^[\t\n\v\f\r ]*([+-]?(?:inf(?:inity)?|nan|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?))/i;

/** A position in a window of bytes, with RDB's primitive decoders. */
export class RdbCursor {
  /** The bytes being read. */
  bytes: Uint8Array = EMPTY_BYTES;
  /** `bytes` with the latin1 codec, for slicing strings. */
  view: BinaryBuffer = EMPTY_VIEW;
  /** Index in `bytes` of the next byte to read. */
  position = 0;
  /** Index in `bytes` just past the readable window. */
  end = 0;
  /** Offset of `bytes[0]` in the whole input, for error messages. */
  base = 0;

  /** Points the cursor at `bytes[start, end)`; `base` is the input offset of `bytes[0]`. */
  reset(bytes: Uint8Array, start: number, end: number, base = 0): void {
    if (bytes !== this.bytes) {
      this.bytes = bytes;
      this.view = binaryView(bytes);
    }
    this.position = start;
    this.end = end;
    this.base = base;
  }

  /** The input offset of the next byte. */
  offset(): number {
    return this.base + this.position;
  }

  /** An `RdbError` of kind "corrupt" at the current offset. */
  corrupt(message: string): RdbError {
    return new RdbError("corrupt", message, this.offset());
  }

  /** Throws `NEED_MORE` unless `count` more bytes are readable. */
  need(count: number): void {
    if (count > this.end - this.position) throw NEED_MORE;
  }

  /** One unsigned byte. */
  byte(): number {
    if (this.position >= this.end) throw NEED_MORE;
    return this.bytes[this.position++]!;
  }

  /** `count` raw bytes, as a view into the input (valid until the cursor is reset). */
  raw(count: number): Uint8Array {
    this.need(count);
    const start = this.position;
    this.position += count;
    return this.bytes.subarray(start, this.position);
  }

  /** `count` raw bytes as a binary string. */
  rawString(count: number): string {
    this.need(count);
    const start = this.position;
    this.position += count;
    if (count <= SHORT_STRING_MAX) return shortString(this.bytes, start, count);
    return this.view.latin1Slice(start, this.position);
  }

  /**
   * A length (`rdbLoadLen` without `isencoded`): as in Redis, a special
   * encoding byte reads as its 6-bit value. Lengths beyond 2^53 are refused.
   */
  length(): number {
    const first = this.byte();
    const kind = first >>> 6;
    if (kind === 0 || kind === 3) return first & 0x3f;
    if (kind === 1) return ((first & 0x3f) << 8) | this.byte();
    return this.#wideLength(first);
  }

  /** A length as the full unsigned 64-bit value (stream IDs and counters). */
  lengthBig(): bigint {
    if (this.position < this.end && this.bytes[this.position] === 0x81) {
      this.position++;
      const bytes = this.raw(8);
      let value = 0n;
      for (let i = 0; i < 8; i++) value = (value << 8n) | BigInt(bytes[i]!);
      return value;
    }
    return BigInt(this.length());
  }

  #wideLength(first: number): number {
    if (first === 0x80) {
      this.need(4);
      const bytes = this.bytes;
      const at = this.position;
      this.position += 4;
      return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) |
        bytes[at + 3]!) >>> 0;
    }
    if (first === 0x81) {
      this.need(8);
      const bytes = this.bytes;
      const at = this.position;
      this.position += 8;
      const high = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) |
        bytes[at + 3]!) >>> 0;
      const low = ((bytes[at + 4]! << 24) | (bytes[at + 5]! << 16) | (bytes[at + 6]! << 8) |
        bytes[at + 7]!) >>> 0;
      if (high >= 0x200000) {
        throw new RdbError(
          "unsupported",
          `Length ${high * 4294967296 + low} is too large`,
          this.offset(),
        );
      }
      return high * 4294967296 + low;
    }
    throw this.corrupt(`Unknown length encoding ${first >>> 6} in rdbLoadLen()`);
  }

  /** A string value (`rdbGenericLoadStringObject`): plain, integer-encoded or LZF. */
  string(): string {
    const first = this.byte();
    const kind = first >>> 6;
    let length: number;
    if (kind === 0) length = first & 0x3f;
    else if (kind === 1) length = ((first & 0x3f) << 8) | this.byte();
    else if (kind === 3) return this.#encodedString(first & 0x3f);
    else length = this.#wideLength(first);
    if (length > this.end - this.position) throw NEED_MORE;
    const start = this.position;
    this.position += length;
    if (length <= SHORT_STRING_MAX) return shortString(this.bytes, start, length);
    if (length > MAX_STRING_LENGTH) throw this.#tooLong(length);
    return this.view.latin1Slice(start, this.position);
  }

  /** Where the last `blobRange` blob is: its bytes (maybe the input itself) and range. */
  blobBytes: Uint8Array = EMPTY_BYTES;
  /** Start of the last `blobRange` blob in `blobBytes`. */
  blobStart = 0;
  /** End of the last `blobRange` blob in `blobBytes`. */
  blobEnd = 0;

  /**
   * Like `blob`, without allocating for a plainly stored blob: sets
   * `blobBytes`, `blobStart` and `blobEnd` (valid until the cursor is reset).
   */
  blobRange(): void {
    const first = this.byte();
    const kind = first >>> 6;
    if (kind === 3) {
      this.position--;
      const blob = this.blob();
      this.blobBytes = blob;
      this.blobStart = 0;
      this.blobEnd = blob.length;
      return;
    }
    const length = kind === 0
      ? first & 0x3f
      : kind === 1
      ? ((first & 0x3f) << 8) | this.byte()
      : this.#wideLength(first);
    this.need(length);
    this.blobBytes = this.bytes;
    this.blobStart = this.position;
    this.position += length;
    this.blobEnd = this.position;
  }

  /**
   * A string value as bytes, for encoded blobs (listpacks, ziplists,
   * intsets). A view into the input when stored plainly: valid until the
   * cursor is reset, and not to be kept.
   */
  blob(): Uint8Array {
    const first = this.byte();
    const kind = first >>> 6;
    let length: number;
    if (kind === 0) length = first & 0x3f;
    else if (kind === 1) length = ((first & 0x3f) << 8) | this.byte();
    else if (kind === 3) {
      const encoding = first & 0x3f;
      if (encoding === RDB_STRING_ENCODING.LZF) return this.#lzf();
      const text = this.#encodedString(encoding);
      const bytes = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
      return bytes;
    } else length = this.#wideLength(first);
    return this.raw(length);
  }

  #encodedString(encoding: number): string {
    const bytes = this.bytes;
    if (encoding === RDB_STRING_ENCODING.INT8) {
      const value = this.byte();
      return String(value > 127 ? value - 256 : value);
    }
    if (encoding === RDB_STRING_ENCODING.INT16) {
      this.need(2);
      const at = this.position;
      this.position += 2;
      const value = bytes[at]! | (bytes[at + 1]! << 8);
      return String(value > 32767 ? value - 65536 : value);
    }
    if (encoding === RDB_STRING_ENCODING.INT32) {
      this.need(4);
      const at = this.position;
      this.position += 4;
      return String(
        bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24),
      );
    }
    if (encoding === RDB_STRING_ENCODING.LZF) {
      const decompressed = this.#lzf();
      if (decompressed.length > MAX_STRING_LENGTH) throw this.#tooLong(decompressed.length);
      return binaryView(decompressed).latin1Slice(0, decompressed.length);
    }
    throw this.corrupt(`Unknown RDB string encoding type ${encoding}`);
  }

  #lzf(): Uint8Array {
    const compressedLength = this.length();
    const length = this.length();
    this.need(compressedLength);
    const start = this.position;
    this.position += compressedLength;
    if (length > lzfMaxExpansion(compressedLength)) {
      throw this.corrupt("Invalid LZF compressed string");
    }
    if (length > 0x7fff_ffff) throw this.#tooLong(length);
    const output = lzfDecompress(this.bytes, start, this.position, length);
    if (output === undefined) throw this.corrupt("Invalid LZF compressed string");
    return output;
  }

  #tooLong(length: number): RdbError {
    return new RdbError(
      "unsupported",
      `String of ${length} bytes is longer than the longest string this server can hold`,
      this.offset(),
    );
  }

  /** A little-endian signed 32-bit integer (the old EXPIRETIME seconds). */
  int32LE(): number {
    this.need(4);
    const bytes = this.bytes;
    const at = this.position;
    this.position += 4;
    return bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
  }

  /** A millisecond time (`rdbLoadMillisecondTime`): int64 little-endian, as a number. */
  millisecondTime(): number {
    this.need(8);
    const value = readInt64LE(this.bytes, this.position);
    this.position += 8;
    return typeof value === "number" ? value : Number(value);
  }

  /** A binary double (`rdbLoadBinaryDoubleValue`): IEEE 754, little-endian. */
  binaryDouble(): number {
    this.need(8);
    const bytes = this.bytes;
    const at = this.position;
    for (let i = 0; i < 8; i++) FLOAT_BYTES[i] = bytes[at + i]!;
    this.position += 8;
    return FLOAT64[0]!;
  }

  /** A text double (`rdbLoadDoubleValue`, sorted sets before RDB 8). */
  textDouble(): number {
    const length = this.byte();
    if (length === 253) return NaN;
    if (length === 254) return Infinity;
    if (length === 255) return -Infinity;
    const match = TEXT_DOUBLE.exec(this.rawString(length));
    if (match === null) throw this.corrupt("Invalid double value");
    const text = match[1]!.toLowerCase();
    const unsigned = text.replace(/^[+-]/, "");
    if (unsigned.startsWith("inf")) return text.startsWith("-") ? -Infinity : Infinity;
    if (unsigned === "nan") return NaN;
    return Number(text);
  }
}
