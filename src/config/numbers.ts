/**
 * Number readers with Redis's exact acceptance rules, on bigint so 64-bit
 * limits (`maxmemory 18446744073709551615`) are checked and shown exactly.
 *
 * Redis uses three different C readers and they disagree on edge cases, so
 * each is reproduced rather than unified: `string2ll` (plain integers: no
 * sign but `-`, no leading zeros, no spaces), `memtoull` (sizes: digits and a
 * unit, where an empty number counts as 0 and an overflowing one saturates),
 * and `strtoll` with an end check (save points, buffer limits: leading
 * spaces and `+` allowed, an empty string is 0).
 *
 * @module
 */

/** C's LLONG_MIN. */
export const INT64_MIN = -(2n ** 63n);
/** C's LLONG_MAX (and LONG_MAX on 64-bit Linux). */
export const INT64_MAX = 2n ** 63n - 1n;
/** C's ULLONG_MAX. */
export const UINT64_MAX = 2n ** 64n - 1n;

/** `string2ll`: an integer with no sign but `-`, no leading zeros, no spaces. */
export function parseStrictInteger(text: string): bigint | undefined {
  if (!/^(0|-?[1-9][0-9]*)$/.test(text)) return undefined;
  const value = BigInt(text);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

const MEMORY_UNITS: Record<string, bigint> = {
  "": 1n,
  b: 1n,
  k: 1000n,
  kb: 1024n,
  m: 1000n ** 2n,
  mb: 1024n ** 2n,
  g: 1000n ** 3n,
  gb: 1024n ** 3n,
};

/**
 * `memtoull`: digits and an optional unit (`k` = 1000, `kb` = 1024, up to
 * `gb`), case-insensitive. Like Redis 7.0, `""` and `"kb"` read as 0, a
 * number too large for 64 bits saturates, and the unit's product wraps
 * around 2^64 (`18446744073709551616kb` is 18446744073709550592).
 */
export function parseMemoryBig(text: string): bigint | undefined {
  const match = /^([0-9]*)(.*)$/s.exec(text)!;
  const digits = match[1]!;
  const multiplier = MEMORY_UNITS[match[2]!.toLowerCase()];
  if (multiplier === undefined || digits.length >= 128) return undefined;
  let value = digits === "" ? 0n : BigInt(digits);
  if (value > UINT64_MAX) value = UINT64_MAX;
  return BigInt.asUintN(64, value * multiplier);
}

/**
 * Redis's memory units as a number of bytes (1k = 1000, 1kb = 1024, ...),
 * or undefined if `value` is not a memory value.
 *
 * @example
 * ```ts
 * parseMemory("64mb"); // 67108864
 * parseMemory("1k"); // 1000
 * ```
 */
export function parseMemory(value: string): number | undefined {
  const bytes = parseMemoryBig(value);
  return bytes === undefined ? undefined : Number(bytes);
}

/** `strtoll(text, &end, 10)` with `*end == '\0'`; out-of-range values saturate. */
export function parseLooseInteger(text: string): bigint | undefined {
  if (text === "") return 0n;
  const match = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(text);
  if (!match) return undefined;
  const value = BigInt(match[2]!) * (match[1] === "-" ? -1n : 1n);
  return value < INT64_MIN ? INT64_MIN : value > INT64_MAX ? INT64_MAX : value;
}

/** `strtoll(text, &end, 8)` with `*end == '\0'` and no overflow. */
export function parseOctal(text: string): bigint | undefined {
  if (text === "") return 0n;
  const match = /^[ \t\n\v\f\r]*([+-]?)([0-7]+)$/.exec(text);
  if (!match) return undefined;
  const value = BigInt(`0o${match[2]}`) * (match[1] === "-" ? -1n : 1n);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

/** `string2d`: a decimal floating-point number with nothing around it. */
export function parseDecimal(text: string): number | undefined {
  if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(text)) return undefined;
  return Number(text);
}

/** `%f` followed by Redis's trimDoubleString: `99.9`, `50`, `1.5`. */
export function formatDecimal(value: number): string {
  const fixed = value.toFixed(6);
  return fixed.includes(".") ? fixed.replace(/0+$/, "").replace(/\.$/, "") : fixed;
}

/** How CONFIG REWRITE writes a byte count: `2mb`, `1gb`, `3000`. */
export function formatMemoryForRewrite(bytes: bigint): string {
  const gb = 1024n ** 3n;
  const mb = 1024n ** 2n;
  const kb = 1024n;
  if (bytes !== 0n && bytes % gb === 0n) return `${bytes / gb}gb`;
  if (bytes !== 0n && bytes % mb === 0n) return `${bytes / mb}mb`;
  if (bytes !== 0n && bytes % kb === 0n) return `${bytes / kb}kb`;
  return String(bytes);
}
