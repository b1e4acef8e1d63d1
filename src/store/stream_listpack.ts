/**
 * Redis's listpack format, as far as streams need it: element sizes (to
 * split stream nodes where Redis splits them) and an encoder and decoder
 * (for the RDB writer, DUMP/RESTORE and tests that compare node layouts
 * with a real redis-server's DUMP).
 *
 * Why sizes matter: Redis starts a new stream node when the current one would
 * reach `stream-node-max-bytes` counted in listpack bytes, and `XTRIM ~` and
 * `XADD MAXLEN ~` remove whole nodes only. To remove exactly the entries
 * Redis would, our nodes must break where Redis's do, so every node keeps
 * the byte count its Redis listpack would have (see StreamNode), computed
 * with the functions here, while it stores its entries in its own, denser
 * encoding.
 *
 * A listpack is a 6-byte header (total bytes, element count; both little
 * endian), the elements, and an 0xFF terminator. An element is an encoding
 * byte (plus length or value bytes), the data, and a "backlen" of 1 to 5
 * bytes holding the size of the first two parts, for walking backwards.
 * Strings that are canonical int64 decimals (lpStringToInt64) are stored as
 * integers of 1, 2, 3, 4, 5 or 9 bytes; others as 6-bit, 12-bit or 32-bit
 * length strings. This mirrors listpack.c (lpEncodeGetType, lpEncodeBacklen).
 *
 * @module
 */

/** Header (4 bytes of total size, 2 of element count) plus the end byte. */
export const LISTPACK_EMPTY_BYTES = 7;
const LISTPACK_HEADER_BYTES = 6;
const LISTPACK_END = 0xff;
/** lpStringToInt64 rejects strings of this length or longer (LONG_STR_SIZE). */
const LONG_STRING_SIZE = 21;

/** Bytes of the backlen that follows an element of `size` bytes (lpEncodeBacklen). */
export function listpackBacklenSize(size: number): number {
  if (size <= 127) return 1;
  if (size < 16383) return 2;
  if (size < 2097151) return 3;
  if (size < 268435455) return 4;
  return 5;
}

/**
 * Bytes of an integer element holding `value`, which must be an integer of
 * magnitude below 2^53 (counts, flags, small deltas). Backlen included: an
 * integer's encoding is at most 9 bytes, so its backlen is 1 byte.
 */
export function listpackIntegerSize(value: number): number {
  if (value >= 0 && value <= 127) return 2;
  if (value >= -4096 && value <= 4095) return 3;
  if (value >= -32768 && value <= 32767) return 4;
  if (value >= -8388608 && value <= 8388607) return 5;
  if (value >= -2147483648 && value <= 2147483647) return 6;
  return 10;
}

/**
 * Bytes of an integer element holding the int64 whose two's complement is
 * `high * 2^32 + low` (how stream deltas are stored: the uint64 difference of
 * two IDs read back as int64).
 */
export function listpackInt64Size(high: number, low: number): number {
  if (high === 0 && low <= 0x7fffffff) return listpackIntegerSize(low);
  if (high === 0xffffffff && low >= 0x80000000) return listpackIntegerSize(low - 4294967296);
  return 10;
}

/** Bytes of the element Redis stores for the binary string `value`. */
export function listpackStringSize(value: string): number {
  const length = value.length;
  if (length > 0 && length < LONG_STRING_SIZE) {
    const size = canonicalIntegerSize(value);
    if (size !== 0) return size;
  }
  const encoded = length < 64 ? 1 + length : length < 4096 ? 2 + length : 5 + length;
  return encoded + listpackBacklenSize(encoded);
}

/**
 * The integer element size for `value` if lpStringToInt64 accepts it (an
 * optional `-`, no leading zero, within int64), else 0.
 */
function canonicalIntegerSize(value: string): number {
  const length = value.length;
  const negative = value.charCodeAt(0) === 45;
  const first = negative ? 1 : 0;
  const digits = length - first;
  if (digits === 0) return 0;
  const leading = value.charCodeAt(first);
  if (leading === 48) return digits === 1 && !negative ? 2 : 0; // "0" only
  for (let i = first; i < length; i++) {
    const code = value.charCodeAt(i);
    if (code < 48 || code > 57) return 0;
  }
  if (digits <= 15) return listpackIntegerSize(Number(value));
  if (digits < 19) return 10;
  if (digits > 19) return 0;
  const magnitude = negative ? value.slice(1) : value;
  return magnitude <= (negative ? "9223372036854775808" : "9223372036854775807") ? 10 : 0;
}

/**
 * Builds a listpack element by element, byte for byte as Redis would.
 *
 * @example
 * ```ts
 * const writer = new ListpackWriter();
 * writer.appendInteger(1);
 * writer.appendString("temp");
 * writer.finish(); // 7 + 2 + 6 bytes
 * ```
 */
export class ListpackWriter {
  #bytes = new Uint8Array(256);
  #length = LISTPACK_HEADER_BYTES;
  #count = 0;

  /** Appends `value`, as an integer when it is a canonical int64 decimal (lpAppend). */
  appendString(value: string): void {
    const length = value.length;
    if (length > 0 && length < LONG_STRING_SIZE && canonicalIntegerSize(value) !== 0) {
      const number = BigInt(value);
      this.appendInt64(Number((number >> 32n) & 0xffffffffn), Number(number & 0xffffffffn));
      return;
    }
    const header = length < 64 ? 1 : length < 4096 ? 2 : 5;
    const encoded = header + length;
    this.#reserve(encoded + 5);
    const bytes = this.#bytes;
    let at = this.#length;
    if (header === 1) bytes[at++] = 0x80 | length;
    else if (header === 2) {
      bytes[at++] = 0xe0 | (length >>> 8);
      bytes[at++] = length & 0xff;
    } else {
      bytes[at++] = 0xf0;
      at = writeLittleEndian(bytes, at, length, 4);
    }
    for (let i = 0; i < length; i++) bytes[at++] = value.charCodeAt(i);
    this.#length = writeBacklen(bytes, at, encoded);
    this.#count++;
  }

  /** Appends an integer of magnitude below 2^53. */
  appendInteger(value: number): void {
    if (value < 0) {
      const magnitude = -value;
      const low = (WORD - (magnitude % WORD)) % WORD;
      const high = (~Math.floor(magnitude / WORD) + (low === 0 ? 1 : 0)) >>> 0;
      this.appendInt64(high, low);
    } else {
      this.appendInt64(Math.floor(value / WORD), value % WORD);
    }
  }

  /** Appends the int64 with two's complement words `high`, `low`. */
  appendInt64(high: number, low: number): void {
    this.#reserve(10);
    const bytes = this.#bytes;
    let at = this.#length;
    const size = listpackInt64Size(high, low) - 1;
    // The value as a plain number when it fits 32 bits signed.
    const small = high === 0 ? low : low - WORD;
    if (size === 1) bytes[at++] = small;
    else if (size === 2) {
      const unsigned = small < 0 ? 8192 + small : small;
      bytes[at++] = 0xc0 | (unsigned >>> 8);
      bytes[at++] = unsigned & 0xff;
    } else if (size === 3) {
      bytes[at++] = 0xf1;
      at = writeLittleEndian(bytes, at, small < 0 ? 65536 + small : small, 2);
    } else if (size === 4) {
      bytes[at++] = 0xf2;
      at = writeLittleEndian(bytes, at, small < 0 ? 16777216 + small : small, 3);
    } else if (size === 5) {
      bytes[at++] = 0xf3;
      at = writeLittleEndian(bytes, at, low, 4);
    } else {
      bytes[at++] = 0xf4;
      at = writeLittleEndian(bytes, at, low, 4);
      at = writeLittleEndian(bytes, at, high, 4);
    }
    this.#length = writeBacklen(bytes, at, size);
    this.#count++;
  }

  /** Bytes written so far plus the end byte: lpBytes of the result. */
  get byteLength(): number {
    return this.#length + 1;
  }

  /** The finished listpack (header filled in, terminator appended). */
  finish(): Uint8Array {
    this.#reserve(1);
    const bytes = this.#bytes;
    bytes[this.#length] = LISTPACK_END;
    const total = this.#length + 1;
    writeLittleEndian(bytes, 0, total, 4);
    writeLittleEndian(bytes, 4, Math.min(this.#count, 65535), 2);
    return bytes.slice(0, total);
  }

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#bytes.length) return;
    let capacity = this.#bytes.length * 2;
    while (capacity < this.#length + extra) capacity *= 2;
    const bytes = new Uint8Array(capacity);
    bytes.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = bytes;
  }
}

const WORD = 4294967296;

function writeLittleEndian(bytes: Uint8Array, at: number, value: number, width: number): number {
  for (let i = 0; i < width; i++) {
    bytes[at++] = value & 0xff;
    value = Math.floor(value / 256);
  }
  return at;
}

function writeBacklen(bytes: Uint8Array, at: number, size: number): number {
  const width = listpackBacklenSize(size);
  // Most significant 7-bit group first; every byte but the first has bit 7 set.
  for (let i = width - 1; i >= 0; i--) {
    const group = Math.floor(size / 2 ** (7 * i)) & 127;
    bytes[at++] = i === width - 1 ? group : group | 128;
  }
  return at;
}

/** Why a byte array is not a listpack the reader understands. */
export class ListpackFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ListpackFormatError";
  }
}

/**
 * Reads a listpack's elements in order. Each `next()` returns false at the
 * end; otherwise the element is either an integer (`isInteger`, value in
 * `high`/`low` two's complement words) or a string (`string`).
 *
 * @example
 * ```ts
 * const reader = new ListpackReader(bytes);
 * while (reader.next()) console.log(reader.isInteger ? reader.integer() : reader.string);
 * ```
 */
export class ListpackReader {
  readonly #bytes: Uint8Array;
  #at = LISTPACK_HEADER_BYTES;
  #end: number;
  /** The current element is an integer (else a string). */
  isInteger = false;
  /** High and low words of the current integer element (two's complement). */
  high = 0;
  low = 0;
  /** The current string element. */
  string = "";

  constructor(bytes: Uint8Array) {
    if (bytes.length < LISTPACK_EMPTY_BYTES) {
      throw new ListpackFormatError(`Listpack of ${bytes.length} bytes is too short`);
    }
    const total = bytes[0]! + bytes[1]! * 256 + bytes[2]! * 65536 + bytes[3]! * 16777216;
    if (total !== bytes.length || bytes[total - 1] !== LISTPACK_END) {
      throw new ListpackFormatError(`Listpack header says ${total} bytes, got ${bytes.length}`);
    }
    this.#bytes = bytes;
    this.#end = total - 1;
  }

  /** The current integer as a number; throws if it is beyond 2^53. */
  integer(): number {
    if (this.high === 0 && this.low < 0x80000000) return this.low;
    const signed = BigInt.asIntN(64, BigInt(this.high) << 32n | BigInt(this.low));
    if (signed > BigInt(Number.MAX_SAFE_INTEGER) || signed < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new ListpackFormatError(`Listpack integer ${signed} is beyond 2^53`);
    }
    return Number(signed);
  }

  /** The current element as a string (integers in decimal, as lpGet gives them). */
  text(): string {
    if (!this.isInteger) return this.string;
    return BigInt.asIntN(64, BigInt(this.high) << 32n | BigInt(this.low)).toString();
  }

  next(): boolean {
    const bytes = this.#bytes;
    let at = this.#at;
    if (at >= this.#end) return false;
    const start = at;
    const first = bytes[at++]!;
    if (first < 0x80) this.#setInteger(0, first);
    else if (first < 0xc0) at = this.#readString(at, first & 0x3f);
    else if (first < 0xe0) {
      const unsigned = ((first & 0x1f) << 8) | bytes[at++]!;
      this.#setSigned(unsigned >= 4096 ? unsigned - 8192 : unsigned);
    } else if (first < 0xf0) {
      at = this.#readString(at + 1, ((first & 0x0f) << 8) | bytes[at]!);
    } else if (first === 0xf0) {
      at = this.#readString(at + 4, readLittleEndian(bytes, at, 4));
    } else if (first === 0xf1) {
      const unsigned = readLittleEndian(bytes, at, 2);
      at += 2;
      this.#setSigned(unsigned >= 32768 ? unsigned - 65536 : unsigned);
    } else if (first === 0xf2) {
      const unsigned = readLittleEndian(bytes, at, 3);
      at += 3;
      this.#setSigned(unsigned >= 8388608 ? unsigned - 16777216 : unsigned);
    } else if (first === 0xf3) {
      const unsigned = readLittleEndian(bytes, at, 4);
      at += 4;
      this.#setSigned(unsigned >= 0x80000000 ? unsigned - WORD : unsigned);
    } else if (first === 0xf4) {
      this.#setInteger(readLittleEndian(bytes, at + 4, 4), readLittleEndian(bytes, at, 4));
      at += 8;
    } else {
      throw new ListpackFormatError(`Bad listpack encoding byte ${first} at ${start}`);
    }
    at += listpackBacklenSize(at - start);
    if (at > this.#end) throw new ListpackFormatError(`Listpack element at ${start} overruns`);
    this.#at = at;
    return true;
  }

  #setInteger(high: number, low: number): void {
    this.isInteger = true;
    this.high = high;
    this.low = low;
  }

  #setSigned(value: number): void {
    if (value >= 0) this.#setInteger(0, value);
    else this.#setInteger(0xffffffff, value + WORD);
  }

  #readString(at: number, length: number): number {
    const end = at + length;
    if (end > this.#end) throw new ListpackFormatError(`Listpack string at ${at} overruns`);
    let text = "";
    for (let i = at; i < end; i++) text += String.fromCharCode(this.#bytes[i]!);
    this.isInteger = false;
    this.string = text;
    return end;
  }
}

function readLittleEndian(bytes: Uint8Array, at: number, width: number): number {
  let value = 0;
  for (let i = width - 1; i >= 0; i--) value = value * 256 + bytes[at + i]!;
  return value;
}
