/**
 * Reply writer: the one reply vocabulary handlers use, encoded per protocol.
 *
 * Each connection owns one writer. Handlers say what a reply is (a bulk
 * string, a map, a double, ...) and the writer encodes it as RESP2 or RESP3
 * according to the connection's negotiated protocol, exactly as Redis 7
 * does: a map is `%` in RESP3 and a flat array in RESP2, a null is `_` or
 * `$-1`/`*-1`, a double is `,` or a bulk string. Bytes go straight into one
 * growable buffer that the connection sends with a single write per batch,
 * so replying allocates nothing per request. A large bulk string (GET of a
 * 10 MB value) is encoded into a chunk of its own instead: the buffer never
 * doubles and copies its way up to the size of a big pipelined reply, so a
 * client's pending output costs what it holds and no more.
 *
 * @module
 */

import { type BinaryBuffer, binaryView } from "./binary.ts";
import { formatDouble } from "./doubles.ts";

/** Protocol version negotiated with HELLO. */
export type ProtocolVersion = 2 | 3;

const INITIAL_CAPACITY = 1024;
/** Bulk strings from this size on get a chunk of their own. */
const LARGE_BULK_BYTES = 64 * 1024;
const CR = 13;
const LF = 10;
const ASCII_ZERO = 48;

export class ReplyWriter {
  /** RESP version of the connection; HELLO changes it. */
  protocol: ProtocolVersion = 2;
  #bytes = new Uint8Array(INITIAL_CAPACITY);
  #view: BinaryBuffer = binaryView(this.#bytes);
  #length = 0;
  /** Completed output before what `#bytes` holds (large bulks and what preceded them). */
  #chunks: Uint8Array[] | undefined;
  #chunkedLength = 0;

  /** Bytes written and not yet taken. */
  get length(): number {
    return this.#chunkedLength + this.#length;
  }

  /** Whether a large bulk sits in a chunk of its own (then prefer `drain` to `take`). */
  get chunked(): boolean {
    return this.#chunks !== undefined;
  }

  /** The encoded replies so far (a copy the caller owns); the writer empties. */
  take(): Uint8Array {
    if (this.#chunks !== undefined) {
      const out = new Uint8Array(this.length);
      let at = 0;
      this.drain((chunk) => {
        out.set(chunk, at);
        at += chunk.byteLength;
      });
      return out;
    }
    const out = this.#bytes.slice(0, this.#length);
    this.#emptied();
    return out;
  }

  /** Hands the encoded replies to `write` in order, without joining them; the writer empties. */
  drain(write: (bytes: Uint8Array) => void): void {
    const chunks = this.#chunks;
    if (chunks !== undefined) {
      this.#chunks = undefined;
      this.#chunkedLength = 0;
      for (const chunk of chunks) write(chunk);
    }
    if (this.#length > 0) write(this.#bytes.slice(0, this.#length));
    this.#emptied();
  }

  #emptied(): void {
    this.#length = 0;
    if (this.#bytes.byteLength > INITIAL_CAPACITY * 16) {
      this.#bytes = new Uint8Array(INITIAL_CAPACITY);
      this.#view = binaryView(this.#bytes);
    }
  }

  /** Whether the bytes written so far begin with an error reply. */
  startsWithError(): boolean {
    const first = this.#chunks !== undefined ? this.#chunks[0]![0] : this.#bytes[0];
    return this.length > 0 && first === 45;
  }

  /** Drops everything written after `length` (used to undo a partial reply). */
  truncate(length: number): void {
    const chunks = this.#chunks;
    if (chunks === undefined || length >= this.#chunkedLength) {
      this.#length = Math.min(this.#length, length - this.#chunkedLength);
      return;
    }
    // The cut falls among the chunks: keep the ones before it, the current buffer goes.
    const kept: Uint8Array[] = [];
    let at = 0;
    for (const chunk of chunks) {
      if (at >= length) break;
      kept.push(at + chunk.byteLength <= length ? chunk : chunk.subarray(0, length - at));
      at += kept[kept.length - 1]!.byteLength;
    }
    this.#chunks = kept.length > 0 ? kept : undefined;
    this.#chunkedLength = at;
    this.#length = 0;
  }

  /** `+OK`-style status reply; `text` must not contain CR or LF. */
  simple(text: string): void {
    this.#byte(43);
    this.#ascii(text);
    this.#crlf();
  }

  /** Error reply; `message` includes its code (`ERR ...`, `WRONGTYPE ...`). */
  error(message: string): void {
    this.#byte(45);
    // Like addReplyErrorLength, newlines would break the protocol: make them spaces.
    this.#ascii(/[\r\n]/.test(message) ? message.replace(/[\r\n]/g, " ") : message);
    this.#crlf();
  }

  ok(): void {
    this.raw(OK);
  }

  integer(value: number | bigint): void {
    this.#byte(58);
    this.#decimal(value);
    this.#crlf();
  }

  /** Bulk string holding a binary string (see binary.ts). */
  bulk(value: string): void {
    const length = value.length;
    if (length >= LARGE_BULK_BYTES) {
      this.#largeBulk(value);
      return;
    }
    this.#reserve(length + 16);
    this.#bytes[this.#length++] = 36;
    this.#decimal(length);
    this.#crlf();
    if (length < 32) {
      const bytes = this.#bytes;
      let at = this.#length;
      for (let i = 0; i < length; i++) bytes[at++] = value.charCodeAt(i);
      this.#length = at;
    } else {
      this.#length += this.#view.latin1Write(value, this.#length, length);
    }
    this.#crlf();
  }

  /**
   * Bulk string of `source`'s chars `start` to `end`: what `bulk(source.slice(start, end))`
   * writes, without making the substring for a short one (elements of packed values).
   */
  bulkSlice(source: string, start: number, end: number): void {
    const length = end - start;
    if (length >= 32) {
      this.bulk(source.slice(start, end));
      return;
    }
    this.#reserve(length + 16);
    const bytes = this.#bytes;
    bytes[this.#length++] = 36;
    this.#decimal(length);
    this.#crlf();
    let at = this.#length;
    for (let i = start; i < end; i++) bytes[at++] = source.charCodeAt(i);
    this.#length = at;
    this.#crlf();
  }

  /** Bulk string holding a decimal number (`GET` of a counter, `INCRBYFLOAT`). */
  bulkNumber(value: number | bigint): void {
    this.bulk(String(value));
  }

  /** Null bulk string: `$-1` in RESP2, `_` in RESP3. */
  nullBulk(): void {
    this.raw(this.protocol === 3 ? NULL3 : NULL_BULK2);
  }

  /** Null array: `*-1` in RESP2, `_` in RESP3. */
  nullArray(): void {
    this.raw(this.protocol === 3 ? NULL3 : NULL_ARRAY2);
  }

  arrayHeader(count: number): void {
    this.#header(42, count);
  }

  /** A map of `count` pairs: `%` in RESP3, a flat array of 2*count in RESP2. */
  mapHeader(count: number): void {
    if (this.protocol === 3) this.#header(37, count);
    else this.#header(42, count * 2);
  }

  /** A set: `~` in RESP3, an array in RESP2. */
  setHeader(count: number): void {
    this.#header(this.protocol === 3 ? 126 : 42, count);
  }

  /** Out-of-band push (Pub/Sub messages): `>` in RESP3, an array in RESP2. */
  pushHeader(count: number): void {
    this.#header(this.protocol === 3 ? 62 : 42, count);
  }

  /** Double: `,` in RESP3, a bulk string in RESP2, printed as Redis 7.0 prints it. */
  double(value: number): void {
    const text = formatDouble(value);
    if (this.protocol === 3) {
      this.#byte(44);
      this.#ascii(text);
      this.#crlf();
    } else {
      this.bulk(text);
    }
  }

  /** Boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2. */
  bool(value: boolean): void {
    if (this.protocol === 3) this.raw(value ? TRUE3 : FALSE3);
    else this.raw(value ? ONE : ZERO);
  }

  /** Verbatim text (INFO, CLIENT LIST): `=` with `txt:` in RESP3, bulk in RESP2. */
  verbatim(text: string): void {
    if (this.protocol === 3) {
      this.#header(61, text.length + 4);
      this.#ascii("txt:");
      this.#reserve(text.length + 2);
      this.#length += this.#view.latin1Write(text, this.#length, text.length);
      this.#crlf();
    } else {
      this.bulk(text);
    }
  }

  /** An array of bulk strings. */
  bulkArray(values: readonly string[]): void {
    this.arrayHeader(values.length);
    for (const value of values) this.bulk(value);
  }

  /** Pre-encoded bytes, for constant replies. */
  raw(bytes: Uint8Array): void {
    this.#reserve(bytes.byteLength);
    this.#bytes.set(bytes, this.#length);
    this.#length += bytes.byteLength;
  }

  /** A bulk string in a chunk of its own, after the output so far. */
  #largeBulk(value: string): void {
    const chunks = this.#chunks ??= [];
    if (this.#length > 0) {
      chunks.push(this.#bytes.slice(0, this.#length));
      this.#chunkedLength += this.#length;
      this.#length = 0;
    }
    const header = `$${value.length}\r\n`;
    const chunk = new Uint8Array(header.length + value.length + 2);
    const view = binaryView(chunk);
    view.latin1Write(header, 0, header.length);
    view.latin1Write(value, header.length, value.length);
    chunk[chunk.byteLength - 2] = CR;
    chunk[chunk.byteLength - 1] = LF;
    chunks.push(chunk);
    this.#chunkedLength += chunk.byteLength;
  }

  #header(marker: number, count: number): void {
    this.#reserve(16);
    this.#bytes[this.#length++] = marker;
    this.#decimal(count);
    this.#crlf();
  }

  #byte(value: number): void {
    this.#reserve(1);
    this.#bytes[this.#length++] = value;
  }

  #crlf(): void {
    this.#reserve(2);
    this.#bytes[this.#length++] = CR;
    this.#bytes[this.#length++] = LF;
  }

  /** Writes ASCII text (status lines, error messages, numbers). */
  #ascii(text: string): void {
    this.#reserve(text.length);
    this.#length += this.#view.latin1Write(text, this.#length, text.length);
  }

  /** Writes an integer's digits without building a string for common sizes. */
  #decimal(value: number | bigint): void {
    if (typeof value === "bigint" || !Number.isSafeInteger(value)) {
      this.#ascii(String(value));
      return;
    }
    this.#reserve(20);
    const bytes = this.#bytes;
    if (value < 0) {
      bytes[this.#length++] = 45;
      value = -value;
    }
    if (value < 10) {
      bytes[this.#length++] = ASCII_ZERO + value;
      return;
    }
    let digits = 0;
    for (let rest = value; rest > 0; rest = Math.floor(rest / 10)) digits++;
    let at = this.#length + digits;
    this.#length = at;
    while (value > 0) {
      const next = Math.floor(value / 10);
      bytes[--at] = ASCII_ZERO + (value - next * 10);
      value = next;
    }
  }

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#bytes.byteLength) return;
    let capacity = this.#bytes.byteLength * 2;
    while (capacity < this.#length + extra) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
    this.#view = binaryView(grown);
  }
}

const ascii = (text: string) => new TextEncoder().encode(text);
const OK = ascii("+OK\r\n");
const NULL3 = ascii("_\r\n");
const NULL_BULK2 = ascii("$-1\r\n");
const NULL_ARRAY2 = ascii("*-1\r\n");
const TRUE3 = ascii("#t\r\n");
const FALSE3 = ascii("#f\r\n");
const ONE = ascii(":1\r\n");
const ZERO = ascii(":0\r\n");
