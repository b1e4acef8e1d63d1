/**
 * Stream IDs: parsing, formatting, ordering and stepping, shared by every
 * stream command and by the stream storage.
 *
 * An ID is two unsigned 64-bit numbers, `<ms>-<seq>`. In memory it is a
 * `StreamId`: a 16-character binary string holding ms then seq, each as 8
 * big-endian bytes, the same bytes as Redis's streamEncodeID (the radix tree
 * keys, and the RDB's). Big-endian makes byte order numeric order, so plain
 * `<` and `===` compare IDs, an ID can be a Map key or a PEL's B+ tree key,
 * and no BigInt or object is needed on the hot path; V8 keeps such a string
 * as a one-byte string of 32 bytes. Measured against two doubles per ID (the
 * alternative, with a BigInt slow path above 2^53): building the string
 * costs about 0.12 µs per XADD, comparing two is ~10 ns instead of ~3, while
 * ranges pay nothing, since the stream formats each entry's ID straight from
 * its decoded words (~30 ns, as from doubles). That buys exactness over the
 * whole 64-bit range with one code path instead of two, the second of which
 * would only run, and only be tested, for IDs above 2^53.
 *
 * Arithmetic on IDs (successor, predecessor, deltas inside a stream node)
 * works on four unsigned 32-bit words, ms high/low and seq high/low, which
 * JavaScript numbers hold exactly. Only decimal conversion of numbers at or
 * above 2^53 goes through BigInt.
 *
 * Parsing follows Redis 7.0's streamGenericParseIDOrReply: each part is read
 * by string2ull, which takes a canonical int64 as is (refusing negatives) and
 * hands anything else to C's strtoull, so ` 5`, `+5`, `007` and even
 * `5--01` (strtoull negates it: seq 2^64-1) are valid IDs, while `5 `, `-5`,
 * `5--1` and `1e3` are not. Text stops at a NUL byte, as the C string does.
 *
 * @module
 */

/** A stream ID: 8 big-endian bytes of ms then 8 of seq, as a binary string. */
export type StreamId = string;

/** `0-0`, the smallest ID (what `-` means in a range). */
export const MIN_STREAM_ID: StreamId = "\0".repeat(16);
/** `18446744073709551615-18446744073709551615`, the largest ID (`+`). */
export const MAX_STREAM_ID: StreamId = "\xff".repeat(16);

/** 2^32, the weight of a high word. */
const WORD = 4294967296;
/** Numbers below this convert to decimal exactly (2^53 / 2^32). */
const SAFE_HIGH_WORD = 0x200000;
/** Redis copies the argument into a 128-byte buffer first; longer is invalid. */
const MAX_ID_TEXT = 127;

/** The ID with the given four 32-bit words (each 0 to 2^32-1). */
export function streamIdFromWords(
  msHigh: number,
  msLow: number,
  seqHigh: number,
  seqLow: number,
): StreamId {
  return String.fromCharCode(
    msHigh >>> 24,
    (msHigh >>> 16) & 0xff,
    (msHigh >>> 8) & 0xff,
    msHigh & 0xff,
    msLow >>> 24,
    (msLow >>> 16) & 0xff,
    (msLow >>> 8) & 0xff,
    msLow & 0xff,
    seqHigh >>> 24,
    (seqHigh >>> 16) & 0xff,
    (seqHigh >>> 8) & 0xff,
    seqHigh & 0xff,
    seqLow >>> 24,
    (seqLow >>> 16) & 0xff,
    (seqLow >>> 8) & 0xff,
    seqLow & 0xff,
  );
}

/**
 * One 32-bit word of an ID: 0 = ms high, 1 = ms low, 2 = seq high, 3 = seq low.
 */
export function streamIdWord(id: StreamId, word: 0 | 1 | 2 | 3): number {
  const at = word * 4;
  return ((id.charCodeAt(at) << 24) | (id.charCodeAt(at + 1) << 16) |
    (id.charCodeAt(at + 2) << 8) | id.charCodeAt(at + 3)) >>> 0;
}

/**
 * The ID `ms-seq`. Numbers must be integers from 0 to 2^53-1; bigints cover
 * the whole 64-bit range.
 *
 * @example
 * ```ts
 * formatStreamId(streamId(1700000000000, 3)); // "1700000000000-3"
 * ```
 */
export function streamId(ms: number | bigint, seq: number | bigint): StreamId {
  const [msHigh, msLow] = toWords(ms);
  const [seqHigh, seqLow] = toWords(seq);
  return streamIdFromWords(msHigh, msLow, seqHigh, seqLow);
}

function toWords(value: number | bigint): [number, number] {
  if (typeof value === "bigint") {
    if (value < 0n || value > 0xffffffffffffffffn) {
      throw new RangeError(`Stream ID part out of range: ${value}`);
    }
    return [Number(value >> 32n), Number(value & 0xffffffffn)];
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Stream ID part is not a safe unsigned integer: ${value}`);
  }
  return [Math.floor(value / WORD), value % WORD];
}

/** The ms part of an ID, as a number when exact (below 2^53), else as a bigint. */
export function streamIdMs(id: StreamId): number | bigint {
  return wordsToNumber(streamIdWord(id, 0), streamIdWord(id, 1));
}

/** The seq part of an ID, as a number when exact (below 2^53), else as a bigint. */
export function streamIdSeq(id: StreamId): number | bigint {
  return wordsToNumber(streamIdWord(id, 2), streamIdWord(id, 3));
}

function wordsToNumber(high: number, low: number): number | bigint {
  if (high < SAFE_HIGH_WORD) return high * WORD + low;
  return (BigInt(high) << 32n) | BigInt(low);
}

/** Decimal text of the unsigned 64-bit number `high * 2^32 + low`. */
export function formatUint64(high: number, low: number): string {
  if (high < SAFE_HIGH_WORD) return String(high * WORD + low);
  return ((BigInt(high) << 32n) | BigInt(low)).toString();
}

/**
 * The ID as Redis prints it, `<ms>-<seq>`.
 *
 * @example
 * ```ts
 * formatStreamId(MAX_STREAM_ID); // "18446744073709551615-18446744073709551615"
 * ```
 */
export function formatStreamId(id: StreamId): string {
  return formatUint64(streamIdWord(id, 0), streamIdWord(id, 1)) + "-" +
    formatUint64(streamIdWord(id, 2), streamIdWord(id, 3));
}

/** Whether `value` is a well-formed StreamId (16 chars, all bytes). */
export function isStreamId(value: string): boolean {
  if (value.length !== 16) return false;
  for (let i = 0; i < 16; i++) if (value.charCodeAt(i) > 0xff) return false;
  return true;
}

/** -1, 0 or 1 as `a` is below, equal to or above `b` (streamCompareID). */
export function compareStreamIds(a: StreamId, b: StreamId): -1 | 0 | 1 {
  return a < b ? -1 : a === b ? 0 : 1;
}

/**
 * The ID right after `id` (streamIncrID): seq + 1, or the next ms with seq 0.
 * Undefined after the largest ID, where XRANGE with an exclusive start replies
 * "invalid start ID for the interval".
 */
export function nextStreamId(id: StreamId): StreamId | undefined {
  let msHigh = streamIdWord(id, 0);
  let msLow = streamIdWord(id, 1);
  let seqHigh = streamIdWord(id, 2);
  let seqLow = streamIdWord(id, 3);
  if (seqLow !== 0xffffffff) seqLow++;
  else if (seqHigh !== 0xffffffff) {
    seqHigh++;
    seqLow = 0;
  } else {
    if (msLow !== 0xffffffff) msLow++;
    else if (msHigh !== 0xffffffff) {
      msHigh++;
      msLow = 0;
    } else return undefined;
    seqHigh = 0;
    seqLow = 0;
  }
  return streamIdFromWords(msHigh, msLow, seqHigh, seqLow);
}

/**
 * The ID right before `id` (streamDecrID). Undefined before 0-0, where an
 * exclusive end replies "invalid end ID for the interval".
 */
export function previousStreamId(id: StreamId): StreamId | undefined {
  let msHigh = streamIdWord(id, 0);
  let msLow = streamIdWord(id, 1);
  let seqHigh = streamIdWord(id, 2);
  let seqLow = streamIdWord(id, 3);
  if (seqLow !== 0) seqLow--;
  else if (seqHigh !== 0) {
    seqHigh--;
    seqLow = 0xffffffff;
  } else {
    if (msLow !== 0) msLow--;
    else if (msHigh !== 0) {
      msHigh--;
      msLow = 0xffffffff;
    } else return undefined;
    seqHigh = 0xffffffff;
    seqLow = 0xffffffff;
  }
  return streamIdFromWords(msHigh, msLow, seqHigh, seqLow);
}

/**
 * What an ID with the sequence left out gets: `5` is `5-0` where a range
 * starts (and in XADD, XGROUP, XSETID...) and `5-18446744073709551615` where
 * a range ends.
 */
export type MissingSequence = "zero" | "max";

/** A parsed ID, plus whether its sequence was `*` (only XADD allows that). */
export interface ParsedStreamId {
  id: StreamId;
  /** False for `<ms>-*`: XADD picks the sequence (the id then holds seq 0). */
  sequenceGiven: boolean;
}

/**
 * Parses an ID argument like streamParseIDOrReply: `-`, `+`, `<ms>` or
 * `<ms>-<seq>`. Undefined for what Redis answers with "ERR Invalid stream ID
 * specified as stream command argument".
 *
 * @example
 * ```ts
 * parseStreamId("5", "max"); // the ID 5-18446744073709551615
 * parseStreamId("5-x"); // undefined
 * ```
 */
export function parseStreamId(
  text: string,
  missingSequence: MissingSequence = "zero",
): StreamId | undefined {
  return parseGeneric(text, missingSequence, false, false)?.id;
}

/**
 * Parses like streamParseStrictIDOrReply: as parseStreamId, but `-` and `+`
 * are invalid. XGROUP CREATE/SETID, XSETID, XCLAIM, XACK, XDEL and the
 * exclusive (`(`) bounds use this form.
 */
export function parseStrictStreamId(
  text: string,
  missingSequence: MissingSequence = "zero",
): StreamId | undefined {
  return parseGeneric(text, missingSequence, true, false)?.id;
}

/**
 * Parses XADD's explicit ID: strict, and `<ms>-*` means "this ms, the next
 * free sequence" (`sequenceGiven` false). A bare `*` is for the command to
 * recognise before calling this.
 */
export function parseAddStreamId(text: string): ParsedStreamId | undefined {
  return parseGeneric(text, "zero", true, true);
}

/** A range bound of XRANGE/XREVRANGE/XPENDING/XAUTOCLAIM. */
export interface StreamRangeBound {
  id: StreamId;
  /** The bound had a `(` prefix: the caller steps past `id`. */
  exclusive: boolean;
}

/**
 * Parses a range bound like streamParseIntervalIDOrReply: `(` makes it
 * exclusive (and the rest strict, so `(-` is invalid); a lone `(` is parsed
 * as an ID and so is invalid. The caller steps an exclusive bound with
 * nextStreamId (start) or previousStreamId (end) and reports overflow.
 *
 * @example
 * ```ts
 * parseStreamRangeBound("(5", "zero"); // { id: 5-0, exclusive: true }
 * ```
 */
export function parseStreamRangeBound(
  text: string,
  missingSequence: MissingSequence,
): StreamRangeBound | undefined {
  if (text.length > 1 && text.charCodeAt(0) === OPEN_PAREN) {
    const id = parseGeneric(text.slice(1), missingSequence, true, false)?.id;
    return id === undefined ? undefined : { id, exclusive: true };
  }
  const id = parseGeneric(text, missingSequence, false, false)?.id;
  return id === undefined ? undefined : { id, exclusive: false };
}

const OPEN_PAREN = 40; // "("
const DASH = 45; // "-"
const PLUS = 43; // "+"
const STAR = 42; // "*"

function parseGeneric(
  argument: string,
  missingSequence: MissingSequence,
  strict: boolean,
  allowSequenceWildcard: boolean,
): ParsedStreamId | undefined {
  if (argument.length > MAX_ID_TEXT) return undefined;
  // C string semantics: everything after a NUL byte is invisible.
  const nul = argument.indexOf("\0");
  const text = nul < 0 ? argument : argument.slice(0, nul);
  if (text.length === 1) {
    const only = text.charCodeAt(0);
    if (only === DASH || only === PLUS) {
      if (strict) return undefined;
      return { id: only === DASH ? MIN_STREAM_ID : MAX_STREAM_ID, sequenceGiven: true };
    }
  }
  const dash = text.indexOf("-");
  const msText = dash < 0 ? text : text.slice(0, dash);
  if (!parseUint64(msText)) return undefined;
  const msHigh = parsedHigh;
  const msLow = parsedLow;
  let sequenceGiven = true;
  if (dash < 0) {
    if (missingSequence === "zero") parsedHigh = parsedLow = 0;
    else parsedHigh = parsedLow = 0xffffffff;
  } else {
    const seqText = text.slice(dash + 1);
    if (allowSequenceWildcard && seqText.length === 1 && seqText.charCodeAt(0) === STAR) {
      parsedHigh = parsedLow = 0;
      sequenceGiven = false;
    } else if (!parseUint64(seqText)) return undefined;
  }
  return { id: streamIdFromWords(msHigh, msLow, parsedHigh, parsedLow), sequenceGiven };
}

/** Output of parseUint64, kept in module state to spare a tuple per call. */
let parsedHigh = 0;
let parsedLow = 0;

/**
 * Redis's string2ull: a canonical int64 (string2ll) is taken as is, refusing
 * negatives; anything else goes to strtoull(s, &end, 10), which must consume
 * the whole text and not overflow. strtoull skips leading blanks, takes a
 * sign, allows leading zeros, and negates a `-` value modulo 2^64.
 */
function parseUint64(text: string): boolean {
  const length = text.length;
  let position = 0;
  while (position < length && isSpace(text.charCodeAt(position))) position++;
  let negative = false;
  if (position < length) {
    const sign = text.charCodeAt(position);
    if (sign === PLUS || sign === DASH) {
      negative = sign === DASH;
      position++;
    }
  }
  const digitsStart = position;
  while (position < length && isDigit(text.charCodeAt(position))) position++;
  if (position === digitsStart || position !== length) return false;
  if (negative && isCanonicalInteger(text)) return false; // string2ll read a negative
  const digits = text.slice(digitsStart);
  let high: number;
  let low: number;
  if (digits.length <= 15) {
    const value = Number(digits);
    high = Math.floor(value / WORD);
    low = value % WORD;
  } else {
    const value = BigInt(digits);
    if (value > 0xffffffffffffffffn) return false; // ERANGE
    high = Number(value >> 32n);
    low = Number(value & 0xffffffffn);
  }
  if (negative && (high !== 0 || low !== 0)) {
    // Two's complement of the 64-bit value, what strtoull returns for "-n".
    high = ~high >>> 0;
    low = (~low >>> 0) + 1;
    if (low === WORD) {
      low = 0;
      high = (high + 1) >>> 0;
    }
  }
  parsedHigh = high;
  parsedLow = low;
  return true;
}

/** string2ll's acceptance: optional `-`, no leading zero, within int64. */
function isCanonicalInteger(text: string): boolean {
  const negative = text.charCodeAt(0) === DASH;
  const digits = negative ? text.slice(1) : text;
  if (digits.length === 0 || digits.length > 19) return false;
  for (let i = 0; i < digits.length; i++) if (!isDigit(digits.charCodeAt(i))) return false;
  if (digits.length > 1 && digits.charCodeAt(0) === 48) return false;
  if (digits === "0") return !negative;
  if (digits.length < 19) return true;
  return digits <= (negative ? "9223372036854775808" : "9223372036854775807");
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** C's isspace in the "C" locale. */
function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}
