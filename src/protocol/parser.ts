/**
 * Incremental request parser: RESP multibulk requests and inline commands.
 *
 * The connection appends whatever bytes arrive; `next()` takes one complete
 * request at a time and returns `undefined` when the rest has not arrived yet.
 * Requests may be pipelined or split at any byte. State survives between
 * calls, so a large request arriving in many reads is never re-scanned from
 * its start, and a declared length is only a promise: nothing is allocated
 * for it before the bytes are here.
 *
 * Errors mirror Redis's `processMultibulkBuffer`/`processInlineBuffer`
 * (networking.c): the same messages, the same limits, and the same leniency
 * (the byte after CR is not checked, a bare LF ends an inline command).
 *
 * @module
 */

import { type BinaryBuffer, binaryView, bytesToBinary } from "./binary.ts";

/** Thrown for malformed input; the connection answers with it and closes. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(`Protocol error: ${message}`);
    this.name = "ProtocolError";
  }
}

/** Longest inline command or length line Redis accepts (PROTO_INLINE_MAX_SIZE). */
export const INLINE_MAX_SIZE = 64 * 1024;
/** Largest bulk argument (proto-max-bulk-len default). */
export const MAX_BULK_LENGTH = 512 * 1024 * 1024;
const MAX_MULTIBULK_LENGTH = 2147483647;
/** What a client that has not authenticated may send (Redis 7.0's processMultibulkBuffer). */
const UNAUTHENTICATED_MULTIBULK_LENGTH = 10;
const UNAUTHENTICATED_BULK_LENGTH = 16384;
const INITIAL_CAPACITY = 2 * 1024;

const CR = 13;
const LF = 10;
const ASTERISK = 42;
const DOLLAR = 36;

/** One request: its arguments as binary strings (see binary.ts). */
export type Request = string[];

export class RequestParser {
  #bytes = new Uint8Array(INITIAL_CAPACITY);
  #view: BinaryBuffer = binaryView(this.#bytes);
  #start = 0;
  #end = 0;
  /** Arguments of a multibulk request whose elements are still arriving. */
  #args: string[] | undefined;
  #argsRemaining = 0;
  /** Length of the bulk argument being awaited, or -1 before its header. */
  #bulkLength = -1;
  /** Whether the pending request was sent inline (redis-cli -3, telnet, nc). */
  lastWasInline = false;
  /** Largest bulk argument accepted (`proto-max-bulk-len`). */
  maxBulkLength = MAX_BULK_LENGTH;
  /** Set while the client must still authenticate: Redis's stricter limits apply. */
  unauthenticated = false;

  /** Bytes received and not yet consumed. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Up to `count` of the bytes not yet consumed, as a binary string (for log messages). */
  peek(count: number): string {
    return this.#view.latin1Slice(this.#start, Math.min(this.#end, this.#start + count));
  }

  /** Copies `chunk` in after the unconsumed bytes. */
  append(chunk: Uint8Array): void {
    this.#shrinkIfIdle(chunk.byteLength);
    this.#reserve(chunk.byteLength);
    this.#bytes.set(chunk, this.#end);
    this.#end += chunk.byteLength;
  }

  /**
   * A region at least `size` bytes long to read into directly, saving a copy;
   * report how much was read with `commit`.
   */
  writableRegion(size: number): Uint8Array {
    this.#shrinkIfIdle(size);
    this.#reserve(size);
    return this.#bytes.subarray(this.#end);
  }

  /** Marks `count` bytes of the last `writableRegion` as received. */
  commit(count: number): void {
    this.#end += count;
  }

  /** The next complete request, or `undefined` if more bytes are needed. */
  next(): Request | undefined {
    while (this.#start < this.#end) {
      if (this.#args === undefined) {
        if (this.#bytes[this.#start] !== ASTERISK) {
          this.lastWasInline = true;
          const inline = this.#nextInline();
          if (inline === undefined) return undefined;
          if (inline.length > 0) return inline;
          continue;
        }
        this.lastWasInline = false;
        const count = this.#readLength("multibulk");
        if (count === undefined) return undefined;
        if (count <= 0) continue; // Redis ignores empty multibulk requests.
        this.#args = [];
        this.#argsRemaining = count;
      }
      const request = this.#nextMultibulkElements();
      if (request === undefined) return undefined;
      return request;
    }
    return undefined;
  }

  #nextMultibulkElements(): Request | undefined {
    const args = this.#args!;
    while (this.#argsRemaining > 0) {
      if (this.#bulkLength < 0) {
        if (this.#start >= this.#end) return undefined;
        const marker = this.#bytes[this.#start]!;
        if (marker !== DOLLAR) {
          throw new ProtocolError(`expected '$', got '${String.fromCharCode(marker)}'`);
        }
        const length = this.#readLength("bulk");
        if (length === undefined) return undefined;
        this.#bulkLength = length;
      }
      const length = this.#bulkLength;
      // The buffer grows as the bytes arrive, not on the declared length.
      if (this.#end - this.#start < length + 2) return undefined;
      args.push(this.#view.latin1Slice(this.#start, this.#start + length));
      this.#start += length + 2;
      this.#bulkLength = -1;
      this.#argsRemaining--;
    }
    this.#args = undefined;
    return args;
  }

  /**
   * Reads a `*<n>\r\n` or `$<n>\r\n` header. Returns undefined while the line
   * is incomplete.
   */
  #readLength(kind: "multibulk" | "bulk"): number | undefined {
    const bytes = this.#bytes;
    const lineStart = this.#start + 1;
    let cr = lineStart;
    while (cr < this.#end && bytes[cr] !== CR) cr++;
    if (cr >= this.#end - 1) {
      // No complete line yet (Redis also wants the byte after CR).
      if (this.#end - this.#start > INLINE_MAX_SIZE) {
        throw new ProtocolError(`too big ${kind === "multibulk" ? "mbulk" : "bulk"} count string`);
      }
      return undefined;
    }
    const value = parseLength(bytes, lineStart, cr);
    if (kind === "multibulk") {
      if (this.unauthenticated && value > UNAUTHENTICATED_MULTIBULK_LENGTH) {
        throw new ProtocolError("unauthenticated multibulk length");
      }
      if (Number.isNaN(value) || value > MAX_MULTIBULK_LENGTH) {
        throw new ProtocolError("invalid multibulk length");
      }
    } else {
      if (this.unauthenticated && value > UNAUTHENTICATED_BULK_LENGTH) {
        throw new ProtocolError("unauthenticated bulk length");
      }
      if (Number.isNaN(value) || value < 0 || value > this.maxBulkLength) {
        throw new ProtocolError("invalid bulk length");
      }
    }
    this.#start = cr + 2;
    return value;
  }

  /** An inline command split with Redis's quoting rules, [] for an empty line. */
  #nextInline(): Request | undefined {
    const bytes = this.#bytes;
    let lf = this.#start;
    while (lf < this.#end && bytes[lf] !== LF) lf++;
    if (lf === this.#end) {
      if (this.#end - this.#start > INLINE_MAX_SIZE) {
        throw new ProtocolError("too big inline request");
      }
      return undefined;
    }
    let lineEnd = lf;
    if (lineEnd > this.#start && bytes[lineEnd - 1] === CR) lineEnd--;
    const line = this.#view.latin1Slice(this.#start, lineEnd);
    this.#start = lf + 1;
    const args = splitInlineArguments(line);
    if (args === undefined) throw new ProtocolError("unbalanced quotes in request");
    return args;
  }

  /** Makes room for `extra` more bytes after the unconsumed ones. */
  #reserve(extra: number): void {
    const pending = this.#end - this.#start;
    if (this.#end + extra <= this.#bytes.byteLength) return;
    if (pending + extra <= this.#bytes.byteLength && this.#start > 0) {
      this.#bytes.copyWithin(0, this.#start, this.#end);
    } else {
      let capacity = this.#bytes.byteLength * 2;
      while (capacity < pending + extra) capacity *= 2;
      const grown = new Uint8Array(capacity);
      grown.set(this.#bytes.subarray(this.#start, this.#end));
      this.#bytes = grown;
      this.#view = binaryView(grown);
    }
    this.#start = 0;
    this.#end = pending;
  }

  /**
   * Releases a large buffer once it is drained, so idle clients stay small.
   * Only done when more bytes are about to be asked for: a region handed out
   * by `writableRegion` must stay valid, and where it is, until its read
   * completes (a blocked client resumed meanwhile consumes requests).
   */
  #shrinkIfIdle(wanted: number): void {
    if (this.#start !== this.#end) return;
    // Everything was consumed: start over at the beginning of the buffer.
    this.#start = this.#end = 0;
    const capacity = Math.max(INITIAL_CAPACITY, wanted);
    if (this.#bytes.byteLength > capacity * 4) {
      this.#bytes = new Uint8Array(capacity);
      this.#view = binaryView(this.#bytes);
    }
  }
}

/** Redis's string2ll on a length line: optional '-', no leading zeros, no '+'. */
function parseLength(bytes: Uint8Array, start: number, end: number): number {
  if (start === end) return NaN;
  let i = start;
  let negative = false;
  if (bytes[i] === 45) {
    negative = true;
    i++;
    if (i === end) return NaN;
  }
  if (bytes[i] === 48) return i + 1 === end && !negative ? 0 : NaN;
  let value = 0;
  for (; i < end; i++) {
    const digit = bytes[i]! - 48;
    if (digit < 0 || digit > 9) return NaN;
    value = value * 10 + digit;
    if (value > Number.MAX_SAFE_INTEGER) return NaN;
  }
  return negative ? -value : value;
}

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

function isHexDigit(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 97 && code <= 102) || (code >= 65 && code <= 70);
}

const ESCAPES: Record<string, number> = { n: 10, r: 13, t: 9, b: 8, a: 7 };

/**
 * Splits a line like Redis's sdssplitargs: blanks separate arguments, double
 * quotes allow C escapes (`\n`, `\x41`, ...), single quotes allow only `\'`,
 * and a closing quote must be followed by a blank. Returns undefined for
 * unbalanced quotes. A NUL byte ends the line, as it does for the C string.
 * Each argument's bytes are collected and copied out once, so stored values
 * are flat strings rather than chains of one-character pieces.
 */
export function splitInlineArguments(line: string): string[] | undefined {
  const nul = line.indexOf("\0");
  if (nul >= 0) line = line.slice(0, nul);
  const args: string[] = [];
  const length = line.length;
  const current: number[] = [];
  let p = 0;
  for (;;) {
    while (p < length && isSpace(line.charCodeAt(p))) p++;
    if (p >= length) return args;
    current.length = 0;
    let inDoubleQuotes = false;
    let inSingleQuotes = false;
    let done = false;
    while (!done) {
      const atEnd = p >= length;
      const c = atEnd ? -1 : line.charCodeAt(p);
      if (inDoubleQuotes) {
        if (
          c === 92 && line.charCodeAt(p + 1) === 120 && p + 3 < length &&
          isHexDigit(line.charCodeAt(p + 2)) && isHexDigit(line.charCodeAt(p + 3))
        ) {
          current.push(parseInt(line.slice(p + 2, p + 4), 16));
          p += 3;
        } else if (c === 92 && p + 1 < length) {
          p++;
          current.push(ESCAPES[line[p]!] ?? line.charCodeAt(p));
        } else if (c === 34) {
          if (p + 1 < length && !isSpace(line.charCodeAt(p + 1))) return undefined;
          done = true;
        } else if (atEnd) {
          return undefined;
        } else {
          current.push(c);
        }
      } else if (inSingleQuotes) {
        if (c === 92 && line.charCodeAt(p + 1) === 39) {
          p++;
          current.push(39);
        } else if (c === 39) {
          if (p + 1 < length && !isSpace(line.charCodeAt(p + 1))) return undefined;
          done = true;
        } else if (atEnd) {
          return undefined;
        } else {
          current.push(c);
        }
      } else if (atEnd || c === 32 || c === 10 || c === 13 || c === 9) {
        done = true;
      } else if (c === 34) {
        inDoubleQuotes = true;
      } else if (c === 39) {
        inSingleQuotes = true;
      } else {
        current.push(c);
      }
      if (p < length) p++;
    }
    args.push(bytesToBinary(Uint8Array.from(current)));
  }
}
