/**
 * Double formatting and parsing with Redis 7.0's exact text.
 *
 * Redis 7.0 replies with doubles printed by `%.17g` (addReplyDouble) and
 * spells infinities `inf`/`-inf`; JavaScript's shortest round-trip form would
 * differ in the last digits (`1.1` vs `1.1000000000000001`), so clients
 * comparing replies byte for byte would notice.
 *
 * @module
 */

/** `printf("%.17g", value)` as glibc prints it, with Redis's inf spelling. */
export function formatDouble(value: number): string {
  if (value === Infinity) return "inf";
  if (value === -Infinity) return "-inf";
  if (Number.isNaN(value)) return "nan";
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  const exponential = value.toExponential(16);
  const e = exponential.indexOf("e");
  const exponent = Number(exponential.slice(e + 1));
  if (exponent < -4 || exponent >= 17) {
    const mantissa = stripFractionZeros(exponential.slice(0, e));
    const sign = exponent < 0 ? "-" : "+";
    const digits = String(Math.abs(exponent)).padStart(2, "0");
    return `${mantissa}e${sign}${digits}`;
  }
  return stripFractionZeros(value.toFixed(16 - exponent));
}

function stripFractionZeros(text: string): string {
  if (text.indexOf(".") < 0) return text;
  let end = text.length;
  while (text.charCodeAt(end - 1) === 48) end--;
  if (text.charCodeAt(end - 1) === 46) end--;
  return text.slice(0, end);
}

/**
 * Parses a double argument as Redis's `string2d`/`strtod` do: decimal or
 * exponent notation, `inf`/`-inf`/`+inf`/`infinity` in any case, no leading or
 * trailing blanks, and never NaN. Returns undefined when invalid.
 */
export function parseDouble(text: string): number | undefined {
  if (text.length === 0 || text.length > 5000) return undefined;
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  if (first === 32 || (first >= 9 && first <= 13) || last === 32 || (last >= 9 && last <= 13)) {
    return undefined;
  }
  const lower = text.toLowerCase();
  const unsigned = lower[0] === "+" || lower[0] === "-" ? lower.slice(1) : lower;
  if (unsigned === "inf" || unsigned === "infinity") {
    return lower[0] === "-" ? -Infinity : Infinity;
  }
  if (!DECIMAL_PATTERN.test(lower)) {
    const hex = parseHexDouble(lower);
    return hex;
  }
  const value = Number(lower);
  // strtod's ERANGE: overflow to infinity or underflow to zero is an error in Redis.
  if (!Number.isFinite(value)) return undefined;
  if (value === 0 && /[1-9]/.test(lower.split("e")[0]!)) return undefined;
  return value;
}

const DECIMAL_PATTERN = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/;

/** strtod also reads C99 hex floats (`0x1p3`); Redis inherits that. */
function parseHexDouble(lower: string): number | undefined {
  const match = /^([+-]?)0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?$/.exec(lower);
  if (!match) return undefined;
  const [, sign, whole = "", fraction = "", exponent = "0"] = match;
  if (whole.length === 0 && fraction.length === 0) return undefined;
  let value = whole.length > 0 ? parseInt(whole, 16) : 0;
  for (let i = 0; i < fraction.length; i++) {
    value += parseInt(fraction[i]!, 16) / 16 ** (i + 1);
  }
  value *= 2 ** Number(exponent);
  return sign === "-" ? -value : value;
}
