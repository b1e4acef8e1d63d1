/**
 * Binary strings to and from bytes, fast for the short strings most keys,
 * fields and members are.
 *
 * Reading: the native latin1 decoder's fixed cost (a call into the runtime,
 * ~50 ns) dominates for a few bytes, and `String.fromCharCode` with the
 * bytes as arguments builds the same one-byte string in a fraction of
 * that; longer strings go through the native decoder, which copies in bulk.
 * Writing: Deno's `latin1Write` is a JavaScript loop that first copies the
 * string into an array, so we write with `TextEncoder.encodeInto` (native;
 * for ASCII, UTF-8 and latin1 are the same bytes) and fall back to a loop
 * for strings with bytes above 0x7f.
 *
 * @module
 */

/** The longest string `shortString` builds itself. */
export const SHORT_STRING_MAX = 16;

const fromCharCode = String.fromCharCode;

/** `bytes[at, at + length)` as a binary string; `length` at most `SHORT_STRING_MAX`. */
export function shortString(bytes: Uint8Array, at: number, length: number): string {
  switch (length) {
    case 0:
      return "";
    case 1:
      return fromCharCode(bytes[at]!);
    case 2:
      return fromCharCode(bytes[at]!, bytes[at + 1]!);
    case 3:
      return fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!);
    case 4:
      return fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
    case 5:
      return fromCharCode(
        bytes[at]!,
        bytes[at + 1]!,
        bytes[at + 2]!,
        bytes[at + 3]!,
        bytes[at + 4]!,
      );
    case 6:
      return fromCharCode(
        bytes[at]!,
        bytes[at + 1]!,
        bytes[at + 2]!,
        bytes[at + 3]!,
        bytes[at + 4]!,
        bytes[at + 5]!,
      );
    case 7:
      return fromCharCode(
        bytes[at]!,
        bytes[at + 1]!,
        bytes[at + 2]!,
        bytes[at + 3]!,
        bytes[at + 4]!,
        bytes[at + 5]!,
        bytes[at + 6]!,
      );
    case 8:
      return fromCharCode(
        bytes[at]!,
        bytes[at + 1]!,
        bytes[at + 2]!,
        bytes[at + 3]!,
        bytes[at + 4]!,
        bytes[at + 5]!,
        bytes[at + 6]!,
        bytes[at + 7]!,
      );
    case 9:
      return fromCharCode(
        bytes[at]!,
        bytes[at + 1]!,
        bytes[at + 2]!,
        bytes[at + 3]!,
        bytes[at + 4]!,
        bytes[at + 5]!,
        bytes[at + 6]!,
        bytes[at + 7]!,
        bytes[at + 8]!,
      );
    case 10:
      return fromCharCode(
        bytes[at]!,
        bytes[at + 1]!,
        bytes[at + 2]!,
        bytes[at + 3]!,
        bytes[at + 4]!,
        bytes[at + 5]!,
        bytes[at + 6]!,
        bytes[at + 7]!,
        bytes[at + 8]!,
        bytes[at + 9]!,
      );
    case 11:
      return fromCharCode(
        bytes[at]!,
        bytes[at + 1]!,
        bytes[at + 2]!,
        bytes[at + 3]!,
        bytes[at + 4]!,
        bytes[at + 5]!,
        bytes[at + 6]!,
        bytes[at + 7]!,
        bytes[at + 8]!,
        bytes[at + 9]!,
        bytes[at + 10]!,
      );
    case 12:
      return fromCharCode(
        bytes[at]!,
        bytes[at + 1]!,
        bytes[at + 2]!,
        bytes[at + 3]!,
        bytes[at + 4]!,
        bytes[at + 5]!,
        bytes[at + 6]!,
        bytes[at + 7]!,
        bytes[at + 8]!,
        bytes[at + 9]!,
        bytes[at + 10]!,
        bytes[at + 11]!,
      );
    case 13:
      return fromCharCode(
        bytes[at]!,
        bytes[at + 1]!,
        bytes[at + 2]!,
        bytes[at + 3]!,
        bytes[at + 4]!,
        bytes[at + 5]!,
        bytes[at + 6]!,
        bytes[at + 7]!,
        bytes[at + 8]!,
        bytes[at + 9]!,
        bytes[at + 10]!,
        bytes[at + 11]!,
        bytes[at + 12]!,
      );
    case 14:
      return fromCharCode(
        bytes[at]!,
        bytes[at + 1]!,
        bytes[at + 2]!,
        bytes[at + 3]!,
        bytes[at + 4]!,
        bytes[at + 5]!,
        bytes[at + 6]!,
        bytes[at + 7]!,
        bytes[at + 8]!,
        bytes[at + 9]!,
        bytes[at + 10]!,
        bytes[at + 11]!,
        bytes[at + 12]!,
        bytes[at + 13]!,
      );
    case 15:
      return fromCharCode(
        bytes[at]!,
        bytes[at + 1]!,
        bytes[at + 2]!,
        bytes[at + 3]!,
        bytes[at + 4]!,
        bytes[at + 5]!,
        bytes[at + 6]!,
        bytes[at + 7]!,
        bytes[at + 8]!,
        bytes[at + 9]!,
        bytes[at + 10]!,
        bytes[at + 11]!,
        bytes[at + 12]!,
        bytes[at + 13]!,
        bytes[at + 14]!,
      );
    case 16:
      return fromCharCode(
        bytes[at]!,
        bytes[at + 1]!,
        bytes[at + 2]!,
        bytes[at + 3]!,
        bytes[at + 4]!,
        bytes[at + 5]!,
        bytes[at + 6]!,
        bytes[at + 7]!,
        bytes[at + 8]!,
        bytes[at + 9]!,
        bytes[at + 10]!,
        bytes[at + 11]!,
        bytes[at + 12]!,
        bytes[at + 13]!,
        bytes[at + 14]!,
        bytes[at + 15]!,
      );
    default:
      throw new RangeError(`shortString handles up to ${SHORT_STRING_MAX} bytes, not ${length}`);
  }
}

const encoder = new TextEncoder();

/**
 * Writes the binary string `value` into `bytes` at `at` (the caller makes
 * room for `value.length` bytes). ASCII strings take one native pass
 * (`encodeInto`, where UTF-8 and latin1 agree); any other byte makes that
 * pass stop short, and a plain loop writes the string instead.
 */
export function writeBinary(bytes: Uint8Array, at: number, value: string): void {
  const length = value.length;
  if (length >= 64) {
    const { read } = encoder.encodeInto(value, bytes.subarray(at, at + length));
    if (read === length) return;
  }
  for (let i = 0; i < length; i++) bytes[at + i] = value.charCodeAt(i);
}
