/**
 * Packed strings: the byte layout shared by the compact encodings (listpack
 * hashes and sorted sets, list nodes).
 *
 * A compact collection keeps all its elements in one binary string (one
 * byte per char code, see protocol/binary.ts), each element written as a
 * length and then its bytes, as Redis's listpack does. In V8 such a string
 * costs a 16-byte header plus one byte per byte of data, where a Map entry
 * with its own key and value strings costs over 80 bytes besides the data;
 * and it is found again by a short linear scan, as Redis scans its
 * listpacks.
 *
 * A length takes 1, 2 or 5 chars, as the first char says:
 *
 * - 0x00-0x7F: the length itself (0-127);
 * - 0x80-0xBF: the low 6 bits and the next char are a 14-bit length;
 * - 0xC0: the next 4 chars are a 32-bit length, big-endian.
 *
 * List nodes also write the length after the bytes, reversed (its first
 * char last), so a node can be walked from its end as a listpack's
 * back-lengths allow: RPOP reads only the last element.
 *
 * Strings built by concatenation are ropes in V8 (a tree of the pieces,
 * 32 bytes per piece besides the pieces themselves), and reading a char of
 * a rope walks the tree; `flatten` makes a packed string one flat copy
 * again. The collections flatten after each change (lists, whose pushes
 * would copy a whole node, let a few pushes pile up first), so a
 * collection nobody reads costs what its bytes cost, and a read finds a
 * flat string.
 *
 * @module
 */

const TWO_BYTES = 0x80;
const FIVE_BYTES = 0xc0;
const MAX_ONE_BYTE = 0x7f;
const MAX_TWO_BYTES = 0x3fff;

/** The chars that write `length` before an element. */
export function lengthPrefix(length: number): string {
  if (length <= MAX_ONE_BYTE) return String.fromCharCode(length);
  if (length <= MAX_TWO_BYTES) return String.fromCharCode(TWO_BYTES | (length >> 8), length & 0xff);
  return String.fromCharCode(
    FIVE_BYTES,
    length >>> 24,
    (length >>> 16) & 0xff,
    (length >>> 8) & 0xff,
    length & 0xff,
  );
}

/** The chars that write `length` after an element (the prefix reversed). */
export function lengthSuffix(length: number): string {
  if (length <= MAX_ONE_BYTE) return String.fromCharCode(length);
  if (length <= MAX_TWO_BYTES) return String.fromCharCode(length & 0xff, TWO_BYTES | (length >> 8));
  return String.fromCharCode(
    length & 0xff,
    (length >>> 8) & 0xff,
    (length >>> 16) & 0xff,
    length >>> 24,
    FIVE_BYTES,
  );
}

/** How many chars a length takes (1, 2 or 5), from its first char. */
export function lengthSize(tag: number): number {
  return tag < TWO_BYTES ? 1 : tag < FIVE_BYTES ? 2 : 5;
}

/** The length whose prefix starts at `at`. */
export function lengthAt(packed: string, at: number): number {
  const tag = packed.charCodeAt(at);
  if (tag < TWO_BYTES) return tag;
  if (tag < FIVE_BYTES) return ((tag & 0x3f) << 8) | packed.charCodeAt(at + 1);
  return ((packed.charCodeAt(at + 1) << 24) | (packed.charCodeAt(at + 2) << 16) |
    (packed.charCodeAt(at + 3) << 8) | packed.charCodeAt(at + 4)) >>> 0;
}

/** The length whose suffix ends just before `end`. */
export function lengthBefore(packed: string, end: number): number {
  const tag = packed.charCodeAt(end - 1);
  if (tag < TWO_BYTES) return tag;
  if (tag < FIVE_BYTES) return ((tag & 0x3f) << 8) | packed.charCodeAt(end - 2);
  return ((packed.charCodeAt(end - 2) << 24) | (packed.charCodeAt(end - 3) << 16) |
    (packed.charCodeAt(end - 4) << 8) | packed.charCodeAt(end - 5)) >>> 0;
}

/** Chars a length takes as prefix or suffix. */
export function lengthBytes(length: number): number {
  return length <= MAX_ONE_BYTE ? 1 : length <= MAX_TWO_BYTES ? 2 : 5;
}

/**
 * Whether `packed` holds exactly `text` from `at` (whose length the caller
 * has already matched). The last byte is compared first: keys of one
 * collection tend to share their beginning (`user:1000:`), not their end.
 */
export function bytesEqual(packed: string, at: number, text: string): boolean {
  const length = text.length;
  if (length === 0) return true;
  if (packed.charCodeAt(at + length - 1) !== text.charCodeAt(length - 1)) return false;
  return packed.startsWith(text, at);
}

/**
 * Compares the `length` bytes of `packed` at `start` with `text` as
 * memcmp-then-length does (the order of binary strings under `<`).
 */
export function compareBytes(packed: string, start: number, length: number, text: string): number {
  const common = length < text.length ? length : text.length;
  for (let i = 0; i < common; i++) {
    const difference = packed.charCodeAt(start + i) - text.charCodeAt(i);
    if (difference !== 0) return difference;
  }
  return length - text.length;
}

/** A char no binary string holds (they hold 0x00-0xFF only). */
const NOT_BINARY = "\u0100";

/**
 * `packed` as one flat string, so it holds no rope of the pieces it was
 * concatenated from. `indexOf` reads the whole string, so V8 flattens a
 * rope in place first; `charCodeAt` would not (optimised code walks the
 * rope to the char instead).
 */
export function flatten(packed: string): string {
  if (packed.indexOf(NOT_BINARY) !== -1) throw new RangeError("Binary strings hold bytes only");
  return packed;
}

// Scores: 8 bytes that sort as the doubles do. The IEEE 754 bits,
// big-endian, with the sign bit flipped for a positive number and every bit
// inverted for a negative one, so comparing the chars compares the scores
// (a scan for where a score goes reads a char or two per entry instead of
// decoding a double). The one exception is -0, which sorts just below 0
// though the two are equal scores (the sorted set checks for it).
const scoreBits = new Float64Array(1);
const scoreBytes = new Uint8Array(scoreBits.buffer);
/** Index of the most significant byte in `scoreBytes` on this machine. */
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 7 : 0;
const STEP = HIGH === 7 ? -1 : 1;

/** The 8 chars a packed sorted set stores for `score` (never NaN). */
export function scoreChars(score: number): string {
  scoreBits[0] = score;
  const bytes = scoreBytes;
  const mask = bytes[HIGH]! & 0x80 ? 0xff : 0;
  return String.fromCharCode(
    bytes[HIGH]! ^ (mask | 0x80),
    bytes[HIGH + STEP]! ^ mask,
    bytes[HIGH + 2 * STEP]! ^ mask,
    bytes[HIGH + 3 * STEP]! ^ mask,
    bytes[HIGH + 4 * STEP]! ^ mask,
    bytes[HIGH + 5 * STEP]! ^ mask,
    bytes[HIGH + 6 * STEP]! ^ mask,
    bytes[HIGH + 7 * STEP]! ^ mask,
  );
}

/** The score stored as 8 chars at `at`. */
export function scoreAt(packed: string, at: number): number {
  const bytes = scoreBytes;
  const first = packed.charCodeAt(at);
  const mask = first & 0x80 ? 0 : 0xff;
  bytes[HIGH] = first ^ (mask | 0x80);
  for (let i = 1; i < 8; i++) bytes[HIGH + i * STEP] = packed.charCodeAt(at + i) ^ mask;
  return scoreBits[0]!;
}
