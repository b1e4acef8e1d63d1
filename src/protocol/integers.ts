/**
 * Redis's integer rules (`string2ll`): no blanks, no '+', no leading zeros,
 * the 64-bit signed range. One implementation for the whole server, so
 * commands, encodings (an integer string is Redis's "int" encoding) and the
 * intset rule agree.
 *
 * @module
 */

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/**
 * Parses a 64-bit signed integer like Redis's string2ll. Returns undefined
 * when invalid or out of range. Values beyond 2^53 are returned rounded;
 * callers that must be exact there (INCR) use `parseInt64`.
 */
export function parseInteger(text: string): number | undefined {
  const length = text.length;
  if (length === 0 || length > 20) return undefined;
  let i = 0;
  const negative = text.charCodeAt(0) === 45;
  if (negative) {
    if (length === 1) return undefined;
    i = 1;
  }
  const first = text.charCodeAt(i);
  if (first === 48) return length === 1 ? 0 : undefined;
  if (first < 49 || first > 57) return undefined;
  let value = 0;
  for (; i < length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  if (value > Number.MAX_SAFE_INTEGER) {
    const exact = BigInt(text);
    if (exact > INT64_MAX || exact < INT64_MIN) return undefined;
    // Digit-by-digit accumulation rounds more than once; Number() rounds once.
    return Number(text);
  }
  return negative ? -value : value;
}

/** Exact 64-bit parse, for arithmetic on stored counters. */
export function parseInt64(text: string): bigint | undefined {
  const approximate = parseInteger(text);
  if (approximate === undefined) return undefined;
  return Number.isSafeInteger(approximate) ? BigInt(approximate) : BigInt(text);
}

/** Whether a bigint fits Redis's long long. */
export function fitsInt64(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX;
}

/**
 * C's atoi, for the few places Redis reads a number that way (a command's
 * numkeys when finding keys, DEBUG arguments): leading blanks, a sign,
 * digits up to the first non-digit; 0 if there are none.
 */
export function atoi(text: string): number {
  const match = /^[ \t\n\v\f\r]*([+-]?[0-9]+)/.exec(text);
  return match === null ? 0 : Number.parseInt(match[1]!, 10);
}
