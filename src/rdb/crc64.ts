/**
 * Redis's CRC64: the checksum at the end of every RDB file and DUMP payload.
 *
 * The Jones polynomial (0xad93d23594c935a9), reflected input and output, an
 * initial value of 0 and no final xor, as `crc64.c` computes it; the check
 * value of "123456789" is 0xe9c6d914c4b8d9ca. Redis stores the result
 * little-endian.
 *
 * JavaScript has no fast 64-bit integers (BigInt allocates), so the CRC is
 * kept as two 32-bit halves and computed slicing-by-8: eight tables of 256
 * entries let each step fold eight input bytes with sixteen lookups, the
 * same technique as Redis's `crcspeed.c`. Files are checksummed as they
 * stream past, so `Crc64` is incremental.
 *
 * @module
 */

/** The reflected form of the Jones polynomial, as two 32-bit halves. */
const POLY_LOW = 0xac4bc9b5;
const POLY_HIGH = 0x95ac9329;

const TABLE_LOW = new Uint32Array(8 * 256);
const TABLE_HIGH = new Uint32Array(8 * 256);

function buildTables(): void {
  for (let byte = 0; byte < 256; byte++) {
    let low = byte;
    let high = 0;
    for (let bit = 0; bit < 8; bit++) {
      const carry = low & 1;
      low = ((low >>> 1) | (high << 31)) >>> 0;
      high = high >>> 1;
      if (carry) {
        low = (low ^ POLY_LOW) >>> 0;
        high = (high ^ POLY_HIGH) >>> 0;
      }
    }
    TABLE_LOW[byte] = low;
    TABLE_HIGH[byte] = high;
  }
  for (let slice = 1; slice < 8; slice++) {
    for (let byte = 0; byte < 256; byte++) {
      const previous = (slice - 1) * 256 + byte;
      const low = TABLE_LOW[previous]!;
      const high = TABLE_HIGH[previous]!;
      const index = low & 0xff;
      TABLE_LOW[slice * 256 + byte] = (((low >>> 8) | (high << 24)) ^ TABLE_LOW[index]!) >>> 0;
      TABLE_HIGH[slice * 256 + byte] = ((high >>> 8) ^ TABLE_HIGH[index]!) >>> 0;
    }
  }
}
buildTables();

/**
 * An incremental CRC64.
 *
 * @example
 * ```ts
 * const crc = new Crc64();
 * crc.update(new TextEncoder().encode("123456789"));
 * crc.value(); // 0xe9c6d914c4b8d9can
 * ```
 */
export class Crc64 {
  #low = 0;
  #high = 0;

  /** Folds `bytes[start, end)` into the checksum. */
  update(bytes: Uint8Array, start = 0, end = bytes.length): void {
    let low = this.#low;
    let high = this.#high;
    let index = start;
    const tableLow = TABLE_LOW;
    const tableHigh = TABLE_HIGH;
    const fastEnd = end - 8;
    while (index <= fastEnd) {
      const a = (low ^ (bytes[index]! | (bytes[index + 1]! << 8) | (bytes[index + 2]! << 16) |
        (bytes[index + 3]! << 24))) >>> 0;
      const b = (high ^ (bytes[index + 4]! | (bytes[index + 5]! << 8) |
        (bytes[index + 6]! << 16) | (bytes[index + 7]! << 24))) >>> 0;
      const i7 = 7 * 256 + (a & 0xff);
      const i6 = 6 * 256 + ((a >>> 8) & 0xff);
      const i5 = 5 * 256 + ((a >>> 16) & 0xff);
      const i4 = 4 * 256 + (a >>> 24);
      const i3 = 3 * 256 + (b & 0xff);
      const i2 = 2 * 256 + ((b >>> 8) & 0xff);
      const i1 = 256 + ((b >>> 16) & 0xff);
      const i0 = b >>> 24;
      low = tableLow[i7]! ^ tableLow[i6]! ^ tableLow[i5]! ^ tableLow[i4]! ^ tableLow[i3]! ^
        tableLow[i2]! ^ tableLow[i1]! ^ tableLow[i0]!;
      high = tableHigh[i7]! ^ tableHigh[i6]! ^ tableHigh[i5]! ^ tableHigh[i4]! ^
        tableHigh[i3]! ^ tableHigh[i2]! ^ tableHigh[i1]! ^ tableHigh[i0]!;
      index += 8;
    }
    while (index < end) {
      const tableIndex = (low ^ bytes[index]!) & 0xff;
      low = ((low >>> 8) | (high << 24)) ^ tableLow[tableIndex]!;
      high = (high >>> 8) ^ tableHigh[tableIndex]!;
      index++;
    }
    this.#low = low >>> 0;
    this.#high = high >>> 0;
  }

  /** The checksum so far. */
  value(): bigint {
    return (BigInt(this.#high) << 32n) | BigInt(this.#low);
  }

  /** Writes the checksum so far as Redis stores it (8 bytes, little-endian) at `offset`. */
  writeTo(target: Uint8Array, offset: number): void {
    const low = this.#low;
    const high = this.#high;
    target[offset] = low & 0xff;
    target[offset + 1] = (low >>> 8) & 0xff;
    target[offset + 2] = (low >>> 16) & 0xff;
    target[offset + 3] = low >>> 24;
    target[offset + 4] = high & 0xff;
    target[offset + 5] = (high >>> 8) & 0xff;
    target[offset + 6] = (high >>> 16) & 0xff;
    target[offset + 7] = high >>> 24;
  }

  /** Whether the 8 little-endian bytes at `offset` are this checksum. */
  matches(bytes: Uint8Array, offset: number): boolean {
    const low = (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) |
      (bytes[offset + 3]! << 24)) >>> 0;
    const high = (bytes[offset + 4]! | (bytes[offset + 5]! << 8) | (bytes[offset + 6]! << 16) |
      (bytes[offset + 7]! << 24)) >>> 0;
    return low === this.#low && high === this.#high;
  }
}

/**
 * The CRC64 of `bytes[start, end)`.
 *
 * @example
 * ```ts
 * crc64(new TextEncoder().encode("123456789")); // 0xe9c6d914c4b8d9can
 * ```
 */
export function crc64(bytes: Uint8Array, start = 0, end = bytes.length): bigint {
  const crc = new Crc64();
  crc.update(bytes, start, end);
  return crc.value();
}
