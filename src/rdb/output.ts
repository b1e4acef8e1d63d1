/**
 * A growable output buffer with RDB's primitive encoders: lengths
 * (`rdbSaveLen`), strings (`rdbSaveRawString`: integer-encoded when short
 * and canonical, LZF-compressed when longer than 20 bytes and compression
 * saves at least 4, verbatim otherwise), binary doubles, millisecond times.
 *
 * The buffer is the writer's unit of streaming: values are encoded into it
 * and the owner takes the bytes out whenever it wants to write them, so a
 * file of any size is produced in bounded memory.
 *
 * @module
 */

import { RDB_STRING_ENCODING } from "./constants.ts";
import { canonicalInt32, writeInt64LE } from "./integers.ts";
import { lzfCompress } from "./lzf.ts";
import { writeBinary } from "./short_strings.ts";

const INITIAL_CAPACITY = 64 * 1024;
const FLOAT_BYTES = new Uint8Array(8);
const FLOAT64 = new Float64Array(FLOAT_BYTES.buffer);

/** Growable bytes plus the RDB primitive encoders. */
export class RdbOutput {
  #bytes: Uint8Array;
  #position = 0;
  /** Whether strings longer than 20 bytes are LZF-compressed (`rdbcompression`). */
  readonly compression: boolean;
  #scratch = new Uint8Array(1024);
  #packed = new Uint8Array(1024);

  constructor(compression = true, capacity = INITIAL_CAPACITY) {
    this.compression = compression;
    this.#bytes = new Uint8Array(capacity);
  }

  /** Bytes written and not yet taken. */
  get size(): number {
    return this.#position;
  }

  /** The bytes written so far, as a view valid until the next write or `take`. */
  peek(): Uint8Array {
    return this.#bytes.subarray(0, this.#position);
  }

  /**
   * Hands over the bytes written so far and starts a fresh buffer, so the
   * returned bytes stay valid (they are not copied).
   */
  take(): Uint8Array {
    const taken = this.#bytes.subarray(0, this.#position);
    const capacity = Math.max(INITIAL_CAPACITY, Math.min(this.#bytes.length, 1 << 22));
    this.#bytes = new Uint8Array(capacity);
    this.#position = 0;
    return taken;
  }

  /** Makes room for `extra` more bytes. */
  ensure(extra: number): void {
    const needed = this.#position + extra;
    if (needed <= this.#bytes.length) return;
    let capacity = this.#bytes.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.#bytes.subarray(0, this.#position));
    this.#bytes = grown;
  }

  /** One byte. */
  byte(value: number): void {
    if (this.#position >= this.#bytes.length) this.ensure(1);
    this.#bytes[this.#position++] = value;
  }

  /** Raw bytes. */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.#bytes.set(bytes, this.#position);
    this.#position += bytes.length;
  }

  /** A length (`rdbSaveLen`): 6, 14, 32 or 64 bits. */
  length(value: number): void {
    this.ensure(9);
    const bytes = this.#bytes;
    let at = this.#position;
    if (value < 64) {
      bytes[at++] = value;
    } else if (value < 16384) {
      bytes[at++] = 0x40 | (value >>> 8);
      bytes[at++] = value & 0xff;
    } else if (value <= 0xffffffff) {
      bytes[at++] = 0x80;
      bytes[at++] = value >>> 24;
      bytes[at++] = (value >>> 16) & 0xff;
      bytes[at++] = (value >>> 8) & 0xff;
      bytes[at++] = value & 0xff;
    } else {
      const high = Math.floor(value / 4294967296);
      const low = value >>> 0;
      bytes[at++] = 0x81;
      bytes[at++] = high >>> 24;
      bytes[at++] = (high >>> 16) & 0xff;
      bytes[at++] = (high >>> 8) & 0xff;
      bytes[at++] = high & 0xff;
      bytes[at++] = low >>> 24;
      bytes[at++] = (low >>> 16) & 0xff;
      bytes[at++] = (low >>> 8) & 0xff;
      bytes[at++] = low & 0xff;
    }
    this.#position = at;
  }

  /** A length given as an unsigned 64-bit bigint (stream IDs and counters). */
  lengthBig(value: bigint): void {
    const unsigned = BigInt.asUintN(64, value);
    if (unsigned <= 0xffffffffn) {
      this.length(Number(unsigned));
      return;
    }
    this.ensure(9);
    const bytes = this.#bytes;
    bytes[this.#position++] = 0x81;
    for (let shift = 56n; shift >= 0n; shift -= 8n) {
      bytes[this.#position++] = Number((unsigned >> shift) & 0xffn);
    }
  }

  /** A binary string as RDB saves strings (`rdbSaveRawString`). */
  string(value: string): void {
    const length = value.length;
    if (length <= 11 && length > 0) {
      const first = value.charCodeAt(0);
      if (first === 45 || (first >= 48 && first <= 57)) {
        const integer = canonicalInt32(value);
        if (integer !== undefined) {
          this.#encodedInteger(integer);
          return;
        }
      }
    }
    if (this.compression && length > 20) {
      if (this.#scratch.length < length) {
        this.#scratch = new Uint8Array(Math.max(length, this.#scratch.length * 2));
      }
      writeBinary(this.#scratch, 0, value);
      if (this.#compressed(this.#scratch, length)) return;
      this.length(length);
      this.ensure(length);
      this.#bytes.set(this.#scratch.subarray(0, length), this.#position);
      this.#position += length;
      return;
    }
    this.length(length);
    this.ensure(length);
    writeBinary(this.#bytes, this.#position, value);
    this.#position += length;
  }

  /** Bytes saved as an RDB string (an encoded blob: listpack, intset ...). */
  bytesString(value: Uint8Array): void {
    const length = value.length;
    if (this.compression && length > 20 && this.#compressed(value, length)) return;
    this.length(length);
    this.raw(value);
  }

  /** Writes `input[0, length)` LZF-compressed if that saves at least 4 bytes. */
  #compressed(input: Uint8Array, length: number): boolean {
    const limit = length - 4;
    if (this.#packed.length < limit) {
      this.#packed = new Uint8Array(Math.max(limit, this.#packed.length * 2));
    }
    const packedLength = lzfCompress(input, 0, length, this.#packed, 0, limit);
    if (packedLength === 0) return false;
    this.byte(0xc0 | RDB_STRING_ENCODING.LZF);
    this.length(packedLength);
    this.length(length);
    this.ensure(packedLength);
    this.#bytes.set(this.#packed.subarray(0, packedLength), this.#position);
    this.#position += packedLength;
    return true;
  }

  #encodedInteger(value: number): void {
    this.ensure(5);
    const bytes = this.#bytes;
    let at = this.#position;
    if (value >= -128 && value <= 127) {
      bytes[at++] = 0xc0 | RDB_STRING_ENCODING.INT8;
      bytes[at++] = value & 0xff;
    } else if (value >= -32768 && value <= 32767) {
      bytes[at++] = 0xc0 | RDB_STRING_ENCODING.INT16;
      bytes[at++] = value & 0xff;
      bytes[at++] = (value >>> 8) & 0xff;
    } else {
      bytes[at++] = 0xc0 | RDB_STRING_ENCODING.INT32;
      bytes[at++] = value & 0xff;
      bytes[at++] = (value >>> 8) & 0xff;
      bytes[at++] = (value >>> 16) & 0xff;
      bytes[at++] = (value >>> 24) & 0xff;
    }
    this.#position = at;
  }

  /** A binary double, little-endian (`rdbSaveBinaryDoubleValue`). */
  binaryDouble(value: number): void {
    FLOAT64[0] = value;
    this.ensure(8);
    this.#bytes.set(FLOAT_BYTES, this.#position);
    this.#position += 8;
  }

  /** A millisecond time, int64 little-endian (`rdbSaveMillisecondTime`). */
  millisecondTime(value: number): void {
    this.ensure(8);
    writeInt64LE(this.#bytes, this.#position, value);
    this.#position += 8;
  }
}
