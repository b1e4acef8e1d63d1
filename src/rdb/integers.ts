/**
 * Integer helpers shared by the encoders: Redis's notion of "this string is
 * an integer" and 64-bit values in JavaScript.
 *
 * Redis stores a string as an integer (RDB int encodings, listpack and
 * ziplist integers, intsets) only when `string2ll` accepts it: canonical
 * decimal, no sign but `-`, no leading zeros, no `-0`, within int64. Only
 * then does converting back give the same bytes, which is what makes the
 * integer forms lossless. Values beyond 2^53 come back as `bigint`.
 *
 * @module
 */

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const TWO_POW_32 = 4294967296;

/**
 * The int64 that `text` spells in canonical decimal (`string2ll`), as a
 * number when it is a safe integer and a bigint otherwise; undefined when
 * `text` is not such an integer.
 *
 * @example
 * ```ts
 * canonicalInteger("-12"); // -12
 * canonicalInteger("012"); // undefined
 * canonicalInteger("9223372036854775807"); // 9223372036854775807n
 * ```
 */
export function canonicalInteger(text: string): number | bigint | undefined {
  const length = text.length;
  if (length === 0 || length > 20) return undefined;
  const first = text.charCodeAt(0);
  let index = 0;
  if (first === 45) {
    if (length === 1) return undefined;
    index = 1;
  }
  const lead = text.charCodeAt(index);
  if (lead < 49 || lead > 57) return length === 1 && lead === 48 ? 0 : undefined;
  let value = lead - 48;
  for (let i = index + 1; i < length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  if (value <= Number.MAX_SAFE_INTEGER) return first === 45 ? -value : value;
  const big = BigInt(text);
  return big < INT64_MIN || big > INT64_MAX ? undefined : big;
}

/** Whether `text` is a canonical integer in the int32 range (RDB's integer string encodings). */
export function canonicalInt32(text: string): number | undefined {
  if (text.length > 11) return undefined;
  const value = canonicalInteger(text);
  return typeof value === "number" && value >= -2147483648 && value <= 2147483647
    ? value
    : undefined;
}

/** A signed 64-bit little-endian integer at `offset`, as a number when safe, else a bigint. */
export function readInt64LE(bytes: Uint8Array, offset: number): number | bigint {
  const low = (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) |
    (bytes[offset + 3]! << 24)) >>> 0;
  const high = bytes[offset + 4]! | (bytes[offset + 5]! << 8) | (bytes[offset + 6]! << 16) |
    (bytes[offset + 7]! << 24);
  if (high >= -0x200000 && high < 0x200000) return high * TWO_POW_32 + low;
  return BigInt.asIntN(64, (BigInt(high >>> 0) << 32n) | BigInt(low));
}

/** Writes a signed 64-bit integer little-endian at `offset`. */
export function writeInt64LE(target: Uint8Array, offset: number, value: number | bigint): void {
  let low: number;
  let high: number;
  if (typeof value === "number") {
    low = value >>> 0;
    high = Math.floor(value / TWO_POW_32) | 0;
  } else {
    const unsigned = BigInt.asUintN(64, value);
    low = Number(unsigned & 0xffffffffn);
    high = Number(unsigned >> 32n) | 0;
  }
  target[offset] = low & 0xff;
  target[offset + 1] = (low >>> 8) & 0xff;
  target[offset + 2] = (low >>> 16) & 0xff;
  target[offset + 3] = low >>> 24;
  target[offset + 4] = high & 0xff;
  target[offset + 5] = (high >>> 8) & 0xff;
  target[offset + 6] = (high >>> 16) & 0xff;
  target[offset + 7] = (high >>> 24) & 0xff;
}

/** A number or bigint as the int64 it is (for mixed comparisons and sorting). */
export function toBigInt(value: number | bigint): bigint {
  return typeof value === "bigint" ? value : BigInt(value);
}
