/**
 * x87 80-bit `long double` arithmetic, for INCRBYFLOAT's exact replies.
 *
 * Redis 7.0 computes INCRBYFLOAT in `long double` (on x86-64: a 64-bit
 * significand, 15-bit exponent) and prints the sum with `%.17Lf`, trimming
 * trailing zeros. The extra 11 bits of precision are what make `0.1 + 0.2`
 * print as `0.3` there, where a JavaScript double would give
 * `0.30000000000000004`; and because the stored result is re-parsed by the
 * next increment, any difference would accumulate. Approximating with
 * decimal arithmetic gets most cases right but not the ones where the
 * binary rounding shows (`5010.60000000000000009` for `10.6 + 5.0e3`).
 *
 * So this module emulates the format exactly, with BigInt: a value is
 * `significand * 2^exponent`, and each of the three steps Redis takes is
 * done on exact integers and then rounded as the hardware and glibc do:
 *
 * - `parseLongDouble`: strtold (decimal, hexadecimal, infinities),
 *   correctly rounded to nearest-even, with Redis's string2ld checks
 *   (no surrounding blanks, overflow or underflow to zero is invalid);
 * - `addLongDoubles`: the exact sum, rounded to 64 significant bits
 *   (gradual underflow below 2^-16382, infinity at 2^16384);
 * - `formatLongDouble`: the exact decimal expansion rounded half-even at
 *   17 decimals, as glibc's printf does, then Redis's trimming.
 *
 * @module
 */

/**
 * A long double: `(-1)^negative * significand * 2^exponent`, with the
 * significand below 2^64. Infinities have `exponent` Infinity, NaN has NaN.
 */
export interface LongDouble {
  readonly negative: boolean;
  readonly significand: bigint;
  readonly exponent: number;
}

/** Bits of the significand, the integer bit included. */
const SIGNIFICAND_BITS = 64;
/** Exponent of the lowest significand bit of subnormals (and of the smallest normals). */
const MIN_EXPONENT = -16445;
/** Values from 2^16384 up round to infinity. */
const OVERFLOW_BITS = 16384;
/** Decimal magnitudes beyond these overflow or round to zero whatever the digits. */
const MAX_DECIMAL_MAGNITUDE = 4934;
const MIN_DECIMAL_MAGNITUDE = -4952;
/** Redis's MAX_LONG_DOUBLE_CHARS: longer texts are not numbers. */
const MAX_TEXT_LENGTH = 5 * 1024;
const PRINTED_DECIMALS = 17;
const DECIMAL_SCALE = 10n ** BigInt(PRINTED_DECIMALS);

const DECIMAL = /^([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?$/;
const HEXADECIMAL =
  /^([+-]?)0[xX](?:([0-9a-fA-F]+)(?:\.([0-9a-fA-F]*))?|\.([0-9a-fA-F]+))(?:[pP]([+-]?\d+))?$/;
const INFINITY = /^([+-]?)(?:inf|infinity)$/i;

function zero(negative: boolean): LongDouble {
  return { negative, significand: 0n, exponent: 0 };
}

function infinity(negative: boolean): LongDouble {
  return { negative, significand: 0n, exponent: Infinity };
}

const NOT_A_NUMBER: LongDouble = { negative: false, significand: 0n, exponent: NaN };

/** Whether a value is neither infinite nor NaN. */
export function isFiniteLongDouble(value: LongDouble): boolean {
  return Number.isFinite(value.exponent);
}

function bitLength(value: bigint): number {
  if (value === 0n) return 0;
  const hex = value.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0]!, 16)));
}

/**
 * The long double nearest to `numerator / denominator * 2^scale` (ties to
 * even), for positive numerator and denominator.
 */
function round(negative: boolean, numerator: bigint, denominator: bigint, scale: number) {
  if (numerator === 0n) return zero(negative);
  // A quotient with 66 or 67 bits: the significand, a rounding bit, and at least one more.
  const shift = SIGNIFICAND_BITS + 2 - (bitLength(numerator) - bitLength(denominator));
  let quotient: bigint;
  let sticky: boolean;
  if (shift >= 0) {
    const scaled = numerator << BigInt(shift);
    quotient = scaled / denominator;
    sticky = quotient * denominator !== scaled;
  } else {
    const scaled = denominator << BigInt(-shift);
    quotient = numerator / scaled;
    sticky = quotient * scaled !== numerator;
  }
  const quotientExponent = scale - shift;
  const quotientBits = bitLength(quotient);
  let exponent = Math.max(quotientExponent + quotientBits - SIGNIFICAND_BITS, MIN_EXPONENT);
  const dropped = exponent - quotientExponent;
  // Below half the smallest subnormal: rounds to zero.
  if (dropped > quotientBits + 1) return zero(negative);
  const droppedBits = BigInt(dropped);
  let significand = quotient >> droppedBits;
  const remainder = quotient - (significand << droppedBits);
  const half = 1n << (droppedBits - 1n);
  if (remainder > half || (remainder === half && (sticky || (significand & 1n) === 1n))) {
    significand++;
    if (significand === 1n << BigInt(SIGNIFICAND_BITS)) {
      significand >>= 1n;
      exponent++;
    }
  }
  if (significand === 0n) return zero(negative);
  if (bitLength(significand) + exponent > OVERFLOW_BITS) return infinity(negative);
  return { negative, significand, exponent };
}

/**
 * Parses `text` as Redis's string2ld does (strtold on the whole text):
 * decimal or C99 hexadecimal notation, `inf`/`infinity` in any case, no
 * leading or trailing blanks; NaN, and values that overflow or underflow to
 * zero, are invalid. Returns undefined when invalid.
 *
 * @example
 * ```ts
 * formatLongDouble(parseLongDouble("0x1p3")!); // "8"
 * ```
 */
export function parseLongDouble(text: string): LongDouble | undefined {
  if (text.length === 0 || text.length >= MAX_TEXT_LENGTH) return undefined;
  let match = DECIMAL.exec(text);
  if (match !== null) {
    const [, sign, whole = "", fraction = "", onlyFraction = "", exponentText = "0"] = match;
    const fractionDigits = fraction + onlyFraction;
    const digits = (whole + fractionDigits).replace(/^0+/, "");
    const negative = sign === "-";
    if (digits === "") return zero(negative);
    const exponent = Number(exponentText) - fractionDigits.length;
    const magnitude = digits.length + exponent;
    if (magnitude > MAX_DECIMAL_MAGNITUDE || magnitude < MIN_DECIMAL_MAGNITUDE) return undefined;
    const mantissa = BigInt(digits);
    const value = exponent >= 0
      ? round(negative, mantissa * 10n ** BigInt(exponent), 1n, 0)
      : round(negative, mantissa, 10n ** BigInt(-exponent), 0);
    return rangeChecked(value);
  }
  match = HEXADECIMAL.exec(text);
  if (match !== null) {
    const [, sign, whole = "", fraction = "", onlyFraction = "", exponentText = "0"] = match;
    const fractionDigits = fraction + onlyFraction;
    const mantissa = BigInt(`0x${whole}${fractionDigits}`);
    const negative = sign === "-";
    if (mantissa === 0n) return zero(negative);
    const exponent = Number(exponentText) - 4 * fractionDigits.length;
    const magnitude = bitLength(mantissa) + exponent;
    if (magnitude > OVERFLOW_BITS + 1 || magnitude < MIN_EXPONENT - 2) return undefined;
    return rangeChecked(round(negative, mantissa, 1n, exponent));
  }
  match = INFINITY.exec(text);
  if (match !== null) return infinity(match[1] === "-");
  return undefined;
}

/** strtold's ERANGE: a nonzero text that became zero or infinity is invalid for Redis. */
function rangeChecked(value: LongDouble): LongDouble | undefined {
  return value.significand === 0n || !isFiniteLongDouble(value) ? undefined : value;
}

/** `a + b`, rounded to the nearest long double; may be infinite or NaN. */
export function addLongDoubles(a: LongDouble, b: LongDouble): LongDouble {
  if (!isFiniteLongDouble(a) || !isFiniteLongDouble(b)) {
    if (Number.isNaN(a.exponent) || Number.isNaN(b.exponent)) return NOT_A_NUMBER;
    if (isFiniteLongDouble(a)) return b;
    if (isFiniteLongDouble(b) || a.negative === b.negative) return a;
    return NOT_A_NUMBER;
  }
  const exponent = Math.min(a.exponent, b.exponent);
  const aligned = (value: LongDouble) => {
    const magnitude = value.significand << BigInt(value.exponent - exponent);
    return value.negative ? -magnitude : magnitude;
  };
  const sum = aligned(a) + aligned(b);
  if (sum === 0n) return zero(a.negative && b.negative);
  return sum < 0n ? round(true, -sum, 1n, exponent) : round(false, sum, 1n, exponent);
}

/**
 * A finite value as Redis 7.0 prints INCRBYFLOAT results: `%.17Lf` with
 * trailing zeros (and a trailing point) removed, and `-0` as `0`.
 *
 * @example
 * ```ts
 * formatLongDouble(addLongDoubles(parseLongDouble("0.1")!, parseLongDouble("0.2")!)); // "0.3"
 * ```
 */
export function formatLongDouble(value: LongDouble): string {
  const scaled = value.significand * DECIMAL_SCALE;
  let units: bigint;
  if (value.exponent >= 0) {
    units = scaled << BigInt(value.exponent);
  } else {
    const dropped = BigInt(-value.exponent);
    units = scaled >> dropped;
    const remainder = scaled - (units << dropped);
    const half = 1n << (dropped - 1n);
    if (remainder > half || (remainder === half && (units & 1n) === 1n)) units++;
  }
  const digits = units.toString().padStart(PRINTED_DECIMALS + 1, "0");
  const whole = digits.slice(0, -PRINTED_DECIMALS);
  const fraction = digits.slice(-PRINTED_DECIMALS).replace(/0+$/, "");
  const text = fraction === "" ? whole : `${whole}.${fraction}`;
  return value.negative && text !== "0" ? `-${text}` : text;
}
