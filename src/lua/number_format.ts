/**
 * C's printf conversions for doubles and integers, as glibc prints them:
 * `%.14g` for `tostring` (LUAI_NUMFFORMAT), and the `%d %i %u %c %x %X %o %e
 * %E %f %g %G` items `string.format` passes to `sprintf`.
 *
 * JS's `toExponential`/`toFixed` round the exact binary value correctly but
 * break ties upwards, where glibc rounds half to even; ties only happen for
 * doubles whose exact decimal expansion is short (0.125, 2.5, 1e15 + 5...),
 * so those take an exact path: the double's digits as a BigInt
 * (mantissa × 5^k), rounded by string arithmetic. Everything else uses the
 * native conversions.
 *
 * @module
 */

const scratchFloat = new Float64Array(1);
const scratchWords = new Uint32Array(scratchFloat.buffer);

/** `tostring` of a number: `%.14g`. */
export function numberToString(value: number): string {
  if (Number.isInteger(value) && value < 1e14 && value > -1e14) {
    if (value === 0 && 1 / value < 0) return "-0";
    return String(value);
  }
  // In [1e-4, 1e14) %.14g and toPrecision(14) both use fixed notation; they
  // differ only on ties, which need an expansion of at most 19 fraction
  // digits, that is a value with at most 19 fraction bits.
  const magnitude = value < 0 ? -value : value;
  if (magnitude >= 1e-4 && magnitude < 1e14) {
    if (!Number.isInteger(value * 524288)) return stripFraction(value.toPrecision(14));
    // A short dyadic fraction (x.5, x.25...): toFixed(19) is its exact expansion;
    // with at most 14 significant digits no rounding happens at all.
    const exact = stripFraction(value.toFixed(19));
    let significant = 0;
    let leading = true;
    for (let index = 0; index < exact.length; index++) {
      const code = exact.charCodeAt(index);
      if (code < 48 || code > 57) continue;
      if (leading && code === 48) continue;
      leading = false;
      significant++;
    }
    if (significant <= 14) return exact;
  }
  return formatFloat(value, "g", 14, false, false);
}

/** A fixed-notation number without trailing fraction zeros (and point). */
function stripFraction(text: string): string {
  if (text.indexOf(".") < 0) return text;
  let end = text.length;
  while (text.charCodeAt(end - 1) === 48) end--;
  if (text.charCodeAt(end - 1) === 46) end--;
  return end === text.length ? text : text.slice(0, end);
}

/** Spelling of infinities and NaNs as glibc prints them (NaN's sign comes from its bit). */
function nonFinite(value: number, upper: boolean): string {
  let text: string;
  if (Number.isNaN(value)) {
    scratchFloat[0] = value;
    text = scratchWords[1]! >>> 31 ? "-nan" : "nan";
  } else text = value < 0 ? "-inf" : "inf";
  return upper ? text.toUpperCase() : text;
}

/** The exact decimal digits of a finite positive double: value = digits × 10^scale. */
function exactDecimal(value: number): { digits: string; scale: number } {
  scratchFloat[0] = value;
  const high = scratchWords[1]!;
  const low = scratchWords[0]!;
  const biased = (high >>> 20) & 0x7ff;
  let mantissa = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  let exponent: number;
  if (biased === 0) exponent = -1074;
  else {
    mantissa |= 1n << 52n;
    exponent = biased - 1075;
  }
  while (mantissa > 0n && (mantissa & 1n) === 0n) {
    mantissa >>= 1n;
    exponent++;
  }
  if (exponent >= 0) return { digits: (mantissa << BigInt(exponent)).toString(), scale: 0 };
  return { digits: (mantissa * 5n ** BigInt(-exponent)).toString(), scale: exponent };
}

/** Number of binary fraction digits of a finite double (0 for integers). */
function fractionBits(value: number): number {
  if (Number.isInteger(value)) return 0;
  let bits = 0;
  let scaled = value;
  while (!Number.isInteger(scaled) && bits < 1100) {
    scaled *= 2;
    bits++;
  }
  return bits;
}

/**
 * Rounds the exact digits half-to-even keeping `keep` leading digits
 * (keep may be 0 or negative: everything rounds into the next position).
 * Returns the rounded digit string (length keep, or keep + 1 on carry-out).
 */
function roundDigits(digits: string, keep: number): string {
  if (keep >= digits.length) return digits + "0".repeat(keep - digits.length);
  if (keep < 0) return "";
  let head = digits.slice(0, keep);
  const rest = digits.slice(keep);
  const first = rest.charCodeAt(0) - 48;
  let roundUp: boolean;
  if (first > 5) roundUp = true;
  else if (first < 5) roundUp = false;
  else if (/[1-9]/.test(rest.slice(1))) roundUp = true;
  else {
    const last = keep > 0 ? head.charCodeAt(keep - 1) - 48 : 0;
    roundUp = last % 2 === 1;
  }
  if (!roundUp) return keep === 0 ? "" : head;
  // Increment the head.
  const chars = head.split("");
  let index = chars.length - 1;
  while (index >= 0) {
    if (chars[index] === "9") {
      chars[index] = "0";
      index--;
    } else {
      chars[index] = String.fromCharCode(chars[index]!.charCodeAt(0) + 1);
      break;
    }
  }
  head = chars.join("");
  if (index < 0) head = "1" + head;
  return head;
}

/** Mantissa digits and decimal exponent of `value` rounded to `significant` digits. */
function toSignificant(value: number, significant: number): { digits: string; exponent: number } {
  const bits = fractionBits(value);
  // A tie needs an exact expansion of exactly significant + 1 digits; with
  // k fraction bits the expansion has at least 0.69 k digits.
  const mayTie = bits === 0 ? value >= 2 ** 53 || significant < 17 : bits * 0.69 < significant + 3;
  if (!mayTie && significant <= 100) {
    const text = value.toExponential(significant - 1);
    const mark = text.indexOf("e");
    return {
      digits: text.slice(0, mark).replace(".", ""),
      exponent: Number(text.slice(mark + 1)),
    };
  }
  const exact = exactDecimal(value);
  let rounded = roundDigits(exact.digits, significant);
  let exponent = exact.digits.length - 1 + exact.scale;
  if (rounded.length > significant) {
    rounded = rounded.slice(0, significant);
    exponent++;
  }
  return { digits: rounded, exponent };
}

/** Digits of `value` with `decimals` fraction digits, as integer-part and fraction strings. */
function toFixedParts(value: number, decimals: number): { whole: string; fraction: string } {
  const bits = fractionBits(value);
  if (value < 1e21 && bits !== decimals + 1 && decimals <= 100) {
    // A tie at this position needs exactly decimals + 1 fraction digits, which
    // (the expansion of a dyadic fraction has as many digits as bits) means bits === decimals + 1.
    const text = value.toFixed(decimals);
    const dot = text.indexOf(".");
    return dot < 0
      ? { whole: text, fraction: "" }
      : { whole: text.slice(0, dot), fraction: text.slice(dot + 1) };
  }
  const exact = exactDecimal(value);
  // value = digits × 10^scale; keep digits down to 10^-decimals.
  const integerDigits = exact.digits.length + exact.scale;
  const keep = integerDigits + decimals;
  if (keep <= 0) {
    // Everything is below the last kept position: the result is 0 or one unit.
    const up = keep === 0 && roundDigits(exact.digits, 0) === "1";
    const all = up ? "1".padStart(decimals + 1, "0") : "0".repeat(decimals + 1);
    return {
      whole: all.slice(0, all.length - decimals),
      fraction: all.slice(all.length - decimals),
    };
  }
  let rounded = roundDigits(exact.digits, keep);
  if (rounded.length < decimals + 1) rounded = rounded.padStart(decimals + 1, "0");
  return {
    whole: rounded.slice(0, rounded.length - decimals),
    fraction: rounded.slice(rounded.length - decimals),
  };
}

function exponentText(exponent: number): string {
  const sign = exponent < 0 ? "-" : "+";
  const magnitude = Math.abs(exponent);
  return sign + (magnitude < 10 ? "0" + magnitude : String(magnitude));
}

/**
 * One floating conversion (`e`, `f` or `g`; upper case via `upper`) with a
 * precision, without width or sign flags: the magnitude's text, and whether
 * the value is negative. `alternate` is C's `#` flag.
 */
export function formatFloat(
  value: number,
  conversion: "e" | "f" | "g",
  precision: number,
  alternate: boolean,
  upper: boolean,
): string {
  if (!Number.isFinite(value)) return nonFinite(value, upper);
  const negative = value < 0 || (value === 0 && 1 / value < 0);
  const body = formatMagnitude(Math.abs(value), conversion, precision, alternate);
  const text = negative ? "-" + body : body;
  return upper ? text.toUpperCase() : text;
}

function formatMagnitude(
  value: number,
  conversion: "e" | "f" | "g",
  precision: number,
  alternate: boolean,
): string {
  if (conversion === "f") {
    const parts = toFixedParts(value, precision);
    return parts.fraction.length > 0 || alternate
      ? `${parts.whole}.${parts.fraction}`
      : parts.whole;
  }
  if (conversion === "e") {
    if (value === 0) {
      const zeros = precision > 0 ? "." + "0".repeat(precision) : alternate ? "." : "";
      return `0${zeros}e+00`;
    }
    const { digits, exponent } = toSignificant(value, precision + 1);
    const fraction = digits.slice(1);
    const mantissa = fraction.length > 0 || alternate ? `${digits[0]}.${fraction}` : digits[0];
    return mantissa + "e" + exponentText(exponent);
  }
  // %g
  const significant = precision === 0 ? 1 : precision;
  let exponent = 0;
  if (value !== 0) exponent = toSignificant(value, significant).exponent;
  let text: string;
  if (exponent < -4 || exponent >= significant) {
    text = formatMagnitude(value, "e", significant - 1, alternate);
    if (!alternate) {
      const mark = text.indexOf("e");
      text = stripZeros(text.slice(0, mark)) + text.slice(mark);
    }
  } else {
    text = formatMagnitude(value, "f", significant - 1 - exponent, alternate);
    if (!alternate) text = stripZeros(text);
  }
  return text;
}

function stripZeros(text: string): string {
  if (text.indexOf(".") < 0) return text;
  let end = text.length;
  while (text.charCodeAt(end - 1) === 48) end--;
  if (text.charCodeAt(end - 1) === 46) end--;
  return text.slice(0, end);
}

/** A parsed printf item: flags, width, precision (or -1) and conversion letter. */
export interface FormatSpec {
  leftAlign: boolean;
  plus: boolean;
  space: boolean;
  alternate: boolean;
  zeroPad: boolean;
  width: number;
  precision: number;
  conversion: string;
}

/** Applies width, sign and padding flags to a converted number body (sign included). */
function pad(spec: FormatSpec, body: string, numeric: boolean): string {
  let sign = "";
  let digits = body;
  if (numeric) {
    if (digits.startsWith("-")) {
      sign = "-";
      digits = digits.slice(1);
    } else if (spec.plus) sign = "+";
    else if (spec.space) sign = " ";
  }
  const length = sign.length + digits.length;
  if (length >= spec.width) return sign + digits;
  const fill = spec.width - length;
  if (spec.leftAlign) return sign + digits + " ".repeat(fill);
  if (spec.zeroPad && numeric && /^[0-9a-fA-F.xX]/.test(digits)) {
    // Zeros go after the sign and any 0x prefix.
    if (digits.startsWith("0x") || digits.startsWith("0X")) {
      return sign + digits.slice(0, 2) + "0".repeat(fill) + digits.slice(2);
    }
    return sign + "0".repeat(fill) + digits;
  }
  return " ".repeat(fill) + sign + digits;
}

/** `%e %E %f %g %G` with flags, width and precision. */
export function formatFloatItem(spec: FormatSpec, value: number): string {
  const conversion = spec.conversion.toLowerCase() as "e" | "f" | "g";
  const upper = spec.conversion !== conversion;
  const precision = spec.precision < 0 ? 6 : spec.precision;
  const body = formatFloat(value, conversion, precision, spec.alternate, upper);
  if (!Number.isFinite(value)) {
    return pad({ ...spec, zeroPad: false }, body, true);
  }
  return pad(spec, body, true);
}

/** C's `(long)d` on x86-64: truncation, INT64_MIN when out of range. */
function toInt64(value: number): bigint {
  if (!Number.isFinite(value) || value >= 2 ** 63 || value < -(2 ** 63)) {
    return -(2n ** 63n);
  }
  return BigInt(Math.trunc(value));
}

/** C's `(unsigned long)d` as gcc does it on x86-64. */
function toUint64(value: number): bigint {
  if (Number.isNaN(value)) return 2n ** 63n;
  if (value >= 2 ** 63 && value < 2 ** 64) return BigInt(Math.trunc(value));
  return BigInt.asUintN(64, toInt64(value));
}

/** `%d %i %u %o %x %X` (Lua passes a long; `%u` etc. an unsigned long). */
export function formatIntegerItem(spec: FormatSpec, value: number): string {
  const conversion = spec.conversion;
  let digits: string;
  let negative = false;
  if (conversion === "d" || conversion === "i") {
    const integer = toInt64(value);
    negative = integer < 0n;
    digits = (negative ? -integer : integer).toString();
  } else {
    const integer = toUint64(value);
    const radix = conversion === "o" ? 8 : conversion === "u" ? 10 : 16;
    digits = integer.toString(radix);
    if (conversion === "X") digits = digits.toUpperCase();
  }
  if (spec.precision >= 0) {
    if (spec.precision === 0 && digits === "0") digits = "";
    if (digits.length < spec.precision) {
      digits = "0".repeat(spec.precision - digits.length) + digits;
    }
  }
  if (spec.alternate) {
    if (conversion === "o" && !digits.startsWith("0")) digits = "0" + digits;
    else if (
      (conversion === "x" || conversion === "X") && digits !== "" &&
      digits !== "0".repeat(digits.length)
    ) {
      digits = (conversion === "x" ? "0x" : "0X") + digits;
    }
  }
  const signed = conversion === "d" || conversion === "i";
  let sign = "";
  if (negative) sign = "-";
  else if (signed && spec.plus) sign = "+";
  else if (signed && spec.space) sign = " ";
  const usesZeros = spec.zeroPad && !spec.leftAlign && spec.precision < 0;
  const length = sign.length + digits.length;
  if (length >= spec.width) return sign + digits;
  const fill = spec.width - length;
  if (spec.leftAlign) return sign + digits + " ".repeat(fill);
  if (usesZeros) {
    if (digits.startsWith("0x") || digits.startsWith("0X")) {
      return sign + digits.slice(0, 2) + "0".repeat(fill) + digits.slice(2);
    }
    return sign + "0".repeat(fill) + digits;
  }
  return " ".repeat(fill) + sign + digits;
}

/** `%s` and `%c`: text padded to the width (precision truncates `%s`). */
export function formatTextItem(spec: FormatSpec, text: string): string {
  let body = text;
  if (spec.conversion === "s" && spec.precision >= 0) body = body.slice(0, spec.precision);
  if (body.length >= spec.width) return body;
  const fill = " ".repeat(spec.width - body.length);
  return spec.leftAlign ? body + fill : fill + body;
}
