/**
 * SortedSet: the sorted set type's storage (ZADD, ZRANK, ZRANGE, ZCOUNT, ...).
 *
 * Elements are ordered by (score, member) ascending, as in Redis. Members are
 * binary strings (one byte per char code), so JavaScript's `<` on them is
 * memcmp order, the tie-break Redis uses for equal scores.
 *
 * Commands need four things to be fast: the score of a member (ZSCORE), the
 * rank of a member (ZRANK), the member at a rank (ZRANGE) and the rank where a
 * score or lex bound falls (ZRANGEBYSCORE, ZCOUNT, ZLEXCOUNT). The order lives
 * in one of two shapes, mirroring Redis's two encodings:
 *
 * - "listpack": while the set holds at most `zset-max-listpack-entries`
 *   members of at most `zset-max-listpack-value` bytes (128 and 64 by
 *   default), one binary string of (member, score) entries in order, as
 *   Redis's listpack: a hundred members cost about their bytes plus 9 each
 *   (a length and the score's 8 bytes), where a Map entry, a member string
 *   and an array slot cost over 80. Everything is a scan of that string, as
 *   in Redis; at these sizes a scan is about as fast as a hash lookup.
 * - "skiplist": beyond that, a Map from member to score (ZSCORE in O(1)) and
 *   a skip list whose links also record their span (how many elements a
 *   link jumps over). Summing spans along a search path gives a rank, and
 *   descending by spans finds the element at a rank, both in O(log n)
 *   expected time, as Redis's zskiplist does. Insert, delete and score
 *   update are O(log n); a range is one descent plus a walk, O(log n + m).
 *
 * A set converts once, when `add` is given a member the limits it is passed
 * (commands pass the live configuration) do not allow, and never goes back,
 * like Redis: shrinking sets rarely earn the copy, and `encoding` then agrees
 * with OBJECT ENCODING.
 *
 * Range queries are all phrased as "how many leading elements lie below this
 * bound", one descent in either shape; callers turn the resulting ranks into
 * elements with `range`. Lex ranges assume, as Redis documents, that every
 * member has the same score; with mixed scores the answer is unspecified.
 *
 * @module
 */

import { parseDouble } from "../protocol/doubles.ts";
import { DEFAULT_ENCODING_LIMITS, type EncodingLimits } from "./encoding_limits.ts";
import {
  bytesEqual,
  compareBytes,
  flatten,
  lengthAt,
  lengthPrefix,
  lengthSize,
  scoreAt,
  scoreChars,
} from "./packed.ts";
/** Redis's ZSKIPLIST_MAXLEVEL: plenty for 2^32 elements at p = 1/2. */
const SKIPLIST_MAX_LEVEL = 32;
/**
 * Chance that a node also appears on the next level up. Redis uses 1/4 to save
 * memory; 1/2 halves the nodes a search steps onto per level (1 instead of 3),
 * and each step onto a node is a cache miss once the list outgrows the cache,
 * which made ZADD and ZRANK on a million members 1.1 to 1.7 times faster.
 */
const SKIPLIST_P = 0.5;

/**
 * A score interval as ZRANGEBYSCORE, ZCOUNT and ZREMRANGEBYSCORE take it:
 * `min`/`max` are inclusive unless the matching `...Exclusive` flag is set
 * (the `(` prefix). Either end may be infinite.
 */
export interface ScoreRange {
  min: number;
  max: number;
  minExclusive: boolean;
  maxExclusive: boolean;
}

/**
 * A member interval as ZRANGEBYLEX, ZLEXCOUNT and ZREMRANGEBYLEX take it.
 *
 * Each end is either a string bound (`[x` is inclusive, `(x` is exclusive; the
 * bytes after the prefix go in `min`/`max`) or an infinity: `-` is below every
 * member and `+` is above every member, whichever end it is given for. When
 * `minInfinite`/`maxInfinite` is set, that end's string is ignored (by
 * convention "") and its exclusive flag is true, as Redis stores them. So
 * `ZLEXCOUNT key - (b` is `{ min: "", minInfinite: "-", minExclusive: true,
 * max: "b", maxExclusive: true }`, and `+` as the minimum makes the range
 * empty.
 */
export interface LexRange {
  min: string;
  max: string;
  minExclusive: boolean;
  maxExclusive: boolean;
  /** Set when the minimum was `-` or `+` instead of a `[`/`(` bound. */
  minInfinite?: "-" | "+";
  /** Set when the maximum was `-` or `+` instead of a `[`/`(` bound. */
  maxInfinite?: "-" | "+";
}

/**
 * Parses the `min max` arguments of the score-range commands like Redis
 * 7.0's zslParseRange: an optional `(` makes a bound exclusive, and the rest
 * is read by a bare `strtod` that must consume it all (`1.5`, `-2e3`, `inf`,
 * `-inf`, `+inf`, `0x1p3`). Returns undefined for what Redis answers with
 * "ERR min or max is not a float": NaN, trailing garbage or blanks, a bound
 * of blanks only.
 *
 * That is laxer than score arguments (parseDouble) in the corners where
 * strtod is: leading blanks are skipped, overflow such as `1e400` reads as
 * an infinity, a bound stops at a NUL byte (C strings), and an empty number
 * (`""` or a bare `(`) reads as 0. Clients see these answers from Redis
 * 7.0, so they are kept, even though the last is an upstream bug.
 *
 * @example
 * ```ts
 * parseScoreRange("(1", "+inf");
 * // { min: 1, minExclusive: true, max: Infinity, maxExclusive: false }
 * ```
 */
export function parseScoreRange(min: string, max: string): ScoreRange | undefined {
  const minExclusive = min.charCodeAt(0) === OPEN_PAREN;
  const maxExclusive = max.charCodeAt(0) === OPEN_PAREN;
  const minValue = parseScoreBound(minExclusive ? min.slice(1) : min);
  const maxValue = parseScoreBound(maxExclusive ? max.slice(1) : max);
  if (minValue === undefined || maxValue === undefined) return undefined;
  return { min: minValue, max: maxValue, minExclusive, maxExclusive };
}

/** Decimal notation, which `Number` reads exactly as strtod does (overflow included). */
const DECIMAL_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** `strtod(text, &end)` with `*end == '\0'` required, NaN refused. */
function parseScoreBound(text: string): number | undefined {
  const nul = text.indexOf("\0");
  const bound = nul < 0 ? text : text.slice(0, nul);
  // Nothing to convert: strtod returns 0 and leaves the end pointer at the
  // start, which is the terminator only when the string is empty.
  if (bound === "") return 0;
  let start = 0;
  while (start < bound.length && isSpace(bound.charCodeAt(start))) start++;
  if (start === bound.length) return undefined;
  const number = bound.slice(start);
  if (DECIMAL_NUMBER.test(number)) return Number(number);
  return parseDouble(number); // infinities and hex floats; never NaN
}

/** C's isspace in the "C" locale. */
function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

/**
 * Parses the `min max` arguments of the lex-range commands like Redis's
 * zslParseLexRange: each must be exactly `-` or `+`, or start with `[`
 * (inclusive) or `(` (exclusive). Returns undefined for anything else, the
 * "ERR min or max not valid string range item" case.
 *
 * @example
 * ```ts
 * parseLexRange("[a", "+");
 * // { min: "a", minExclusive: false, max: "", maxExclusive: true, maxInfinite: "+" }
 * ```
 */
export function parseLexRange(min: string, max: string): LexRange | undefined {
  const lower = parseLexBound(min);
  const upper = parseLexBound(max);
  if (lower === undefined || upper === undefined) return undefined;
  const range: LexRange = {
    min: lower.value,
    max: upper.value,
    minExclusive: lower.exclusive,
    maxExclusive: upper.exclusive,
  };
  if (lower.infinite !== undefined) range.minInfinite = lower.infinite;
  if (upper.infinite !== undefined) range.maxInfinite = upper.infinite;
  return range;
}

const OPEN_PAREN = 40; // "("
const OPEN_BRACKET = 91; // "["

interface LexBound {
  value: string;
  exclusive: boolean;
  infinite: "-" | "+" | undefined;
}

function parseLexBound(text: string): LexBound | undefined {
  if (text === "-" || text === "+") return { value: "", exclusive: true, infinite: text };
  const first = text.charCodeAt(0);
  if (first === OPEN_PAREN) return { value: text.slice(1), exclusive: true, infinite: undefined };
  if (first === OPEN_BRACKET) {
    return { value: text.slice(1), exclusive: false, infinite: undefined };
  }
  return undefined;
}

/**
 * "Is this element still before the range?", asked by the shapes'
 * `countWhileScore`/`countWhileMember`. True for a prefix of the order and
 * false after it, so one descent finds the edge.
 */
type ScoreTest = (score: number) => boolean;
type MemberTest = (member: string) => boolean;

function belowScoreMin(range: ScoreRange): ScoreTest {
  const min = range.min;
  return range.minExclusive ? (score) => score <= min : (score) => score < min;
}

function withinScoreMax(range: ScoreRange): ScoreTest {
  const max = range.max;
  return range.maxExclusive ? (score) => score < max : (score) => score <= max;
}

function belowLexMin(range: LexRange): MemberTest {
  if (range.minInfinite === "-") return () => false;
  if (range.minInfinite === "+") return () => true;
  const min = range.min;
  return range.minExclusive ? (member) => member <= min : (member) => member < min;
}

function withinLexMax(range: LexRange): MemberTest {
  if (range.maxInfinite === "+") return () => true;
  if (range.maxInfinite === "-") return () => false;
  const max = range.max;
  return range.maxExclusive ? (member) => member < max : (member) => member <= max;
}

/**
 * The storage for one sorted set.
 *
 * Scores are doubles, possibly infinite, never NaN (callers reject NaN, as
 * ZADD and ZINCRBY do). Mutating the set while iterating it is not supported.
 *
 * @example
 * ```ts
 * const set = new SortedSet();
 * set.add("b", 2);
 * set.add("a", 2);
 * set.rank("b"); // 1: equal scores order by member bytes
 * set.range(0, 1); // [["a", 2], ["b", 2]]
 * ```
 */
export class SortedSet {
  /** Member to score, beside the skip list (a listpack finds its members itself). */
  #scores: Map<string, number> | undefined;
  #order: Listpack | SkipList = new Listpack();

  /** Number of members (ZCARD). */
  get size(): number {
    return this.#order.length;
  }

  /** The encoding OBJECT ENCODING reports: "listpack" while small, then "skiplist". */
  get encoding(): "listpack" | "skiplist" {
    return this.#scores === undefined ? "listpack" : "skiplist";
  }

  /** Score of `member`, undefined when it is not in the set. */
  score(member: string): number | undefined {
    const scores = this.#scores;
    return scores === undefined ? (this.#order as Listpack).score(member) : scores.get(member);
  }

  /**
   * Inserts `member` or moves it to `score`. Returns true when the member is
   * new. Re-adding with an equal score (0 and -0 count as equal, as in Redis)
   * changes nothing. A new member makes a listpack a skip list first when
   * Redis's would be: one member more than `zset-max-listpack-entries`, or
   * a member longer than `zset-max-listpack-value` (zsetAdd).
   */
  add(member: string, score: number, limits: EncodingLimits = DEFAULT_ENCODING_LIMITS): boolean {
    let scores = this.#scores;
    if (scores === undefined) {
      const listpack = this.#order as Listpack;
      const at = listpack.find(member, score);
      if (at >= 0) {
        if (listpack.scoreAt(at) !== score) listpack.move(at, member, score);
        return false;
      }
      if (
        listpack.length < limits.zsetMaxListpackEntries &&
        member.length <= limits.zsetMaxListpackValue
      ) {
        listpack.insertFound(member, score);
        return true;
      }
      scores = this.#convert();
    }
    const old = scores.get(member);
    if (old === undefined) {
      scores.set(member, score);
      (this.#order as SkipList).insert(member, score);
      return true;
    }
    if (old !== score) {
      scores.set(member, score);
      (this.#order as SkipList).move(member, old, score);
    }
    return false;
  }

  /** Removes `member`; returns false when it was not in the set. */
  delete(member: string): boolean {
    const scores = this.#scores;
    if (scores === undefined) return (this.#order as Listpack).remove(member);
    const score = scores.get(member);
    if (score === undefined) return false;
    scores.delete(member);
    (this.#order as SkipList).remove(member, score);
    return true;
  }

  /** 0-based ascending rank of `member` (ZRANK), undefined when absent. */
  rank(member: string): number | undefined {
    const scores = this.#scores;
    if (scores === undefined) return (this.#order as Listpack).rankOf(member);
    const score = scores.get(member);
    if (score === undefined) return undefined;
    return (this.#order as SkipList).rankOf(member, score);
  }

  /** The element at 0-based ascending `rank`, undefined when out of range. */
  at(rank: number): [member: string, score: number] | undefined {
    if (!(rank >= 0 && rank < this.size)) return undefined;
    return this.#order.entryAt(Math.floor(rank));
  }

  /**
   * Elements of ascending ranks `start` to `stop` inclusive, in order. The
   * caller clamps (0 <= start <= stop < size); anything outside yields less.
   */
  range(start: number, stop: number): Array<[string, number]> {
    const first = Math.max(0, start);
    const last = Math.min(this.size - 1, stop);
    return first > last ? [] : this.#order.slice(first, last);
  }

  /** Number of elements whose score lies in `range` (ZCOUNT). */
  countInScoreRange(range: ScoreRange): number {
    return Math.max(0, this.lastRankInScoreRange(range) - this.firstRankInScoreRange(range) + 1);
  }

  /**
   * Rank of the first element at or above the range's minimum (strictly above
   * when exclusive), or `size` when there is none. Ignores the maximum.
   */
  firstRankInScoreRange(range: ScoreRange): number {
    return this.#order.countWhileScore(belowScoreMin(range));
  }

  /**
   * Rank of the last element at or below the range's maximum (strictly below
   * when exclusive), or -1 when there is none. Ignores the minimum.
   */
  lastRankInScoreRange(range: ScoreRange): number {
    return this.#order.countWhileScore(withinScoreMax(range)) - 1;
  }

  /** Number of members that lie in `range` (ZLEXCOUNT). */
  countInLexRange(range: LexRange): number {
    return Math.max(0, this.lastRankInLexRange(range) - this.firstRankInLexRange(range) + 1);
  }

  /** Rank of the first member not below the range's minimum, or `size`. */
  firstRankInLexRange(range: LexRange): number {
    return this.#order.countWhileMember(belowLexMin(range));
  }

  /** Rank of the last member not above the range's maximum, or -1. */
  lastRankInLexRange(range: LexRange): number {
    return this.#order.countWhileMember(withinLexMax(range)) - 1;
  }

  /** Removes and returns the lowest element (ZPOPMIN), undefined when empty. */
  popMin(): [string, number] | undefined {
    const entry = this.at(0);
    if (entry !== undefined) this.delete(entry[0]);
    return entry;
  }

  /** Removes and returns the highest element (ZPOPMAX), undefined when empty. */
  popMax(): [string, number] | undefined {
    const entry = this.at(this.size - 1);
    if (entry !== undefined) this.delete(entry[0]);
    return entry;
  }

  /** `[member, score]` pairs in ascending order. */
  [Symbol.iterator](): IterableIterator<[string, number]> {
    return this.#order.entries();
  }

  /** Members in ascending order. */
  *members(): IterableIterator<string> {
    for (const [member] of this.#order.entries()) yield member;
  }

  /**
   * An independent copy in the same encoding (COPY): a skip list stays one
   * even when it has shrunk below the listpack limits, as Redis's
   * dupZsetObject copies it.
   */
  copy(): SortedSet {
    const copy = new SortedSet();
    if (this.#scores === undefined) {
      copy.#order = (this.#order as Listpack).copy();
      return copy;
    }
    const scores = copy.#convert();
    const order = copy.#order as SkipList;
    for (const [member, score] of this.#order.entries()) {
      scores.set(member, score);
      order.insert(member, score);
    }
    return copy;
  }

  /** zsetConvert to a skip list, for good; returns the new member Map. */
  #convert(): Map<string, number> {
    const entries = Array.from(this.#order.entries());
    const scores = new Map<string, number>(entries);
    this.#scores = scores;
    this.#order = SkipList.from(entries);
    return scores;
  }
}

/**
 * The small shape, Redis's listpack: one binary string of entries ordered
 * by (score, member), each the member's length, the member, and the score
 * as 8 bytes (store/packed.ts), so a hundred members cost little more than
 * their bytes. Every operation is a scan, as on Redis's listpack; the
 * methods mirror SkipList's where the two meet.
 */
class Listpack {
  #packed = "";
  #length = 0;
  /** Where `insertFound` puts the member the last `find` did not find. */
  #insertAt = 0;

  get length(): number {
    return this.#length;
  }

  /**
   * Offset of the entry holding `member`, or -1. Given the `score` the
   * member would have, the same scan also notes where it would go, for
   * `insertFound`.
   */
  find(member: string, score?: number): number {
    const packed = this.#packed;
    const length = member.length;
    if (score !== undefined) return this.#findPlace(member, scoreChars(score));
    const last = length === 0 ? -1 : member.charCodeAt(length - 1);
    for (let at = 0; at < packed.length;) {
      const tag = packed.charCodeAt(at);
      if (tag >= 0x80) return this.#findPlace(member, undefined);
      // The length, then the last byte, before any other byte.
      if (
        tag === length &&
        (length === 0 ||
          (packed.charCodeAt(at + length) === last && packed.startsWith(member, at + 1)))
      ) {
        return at;
      }
      at += 1 + tag + SCORE_BYTES;
    }
    return -1;
  }

  /**
   * `find` for members of any length, noting where (`key`, `member`)
   * would go when `key` (a score's 8 chars) is given.
   */
  #findPlace(member: string, key: string | undefined): number {
    const packed = this.#packed;
    const length = member.length;
    let insertAt = key === undefined ? 0 : -1;
    for (let at = 0; at < packed.length;) {
      const tag = packed.charCodeAt(at);
      const memberLength = tag < 0x80 ? tag : lengthAt(packed, at);
      const start = at + (tag < 0x80 ? 1 : lengthSize(tag));
      if (insertAt < 0 && isAfter(packed, start, memberLength, key!, member)) insertAt = at;
      if (memberLength === length && bytesEqual(packed, start, member)) return at;
      at = start + memberLength + SCORE_BYTES;
    }
    this.#insertAt = insertAt < 0 ? packed.length : insertAt;
    return -1;
  }

  /** The score of the entry at offset `at`. */
  scoreAt(at: number): number {
    const packed = this.#packed;
    return scoreAt(packed, at + lengthSize(packed.charCodeAt(at)) + lengthAt(packed, at));
  }

  score(member: string): number | undefined {
    const at = this.find(member);
    return at < 0 ? undefined : this.scoreAt(at);
  }

  /** Inserts the member the last `find` (given this score) did not find. */
  insertFound(member: string, score: number): void {
    const packed = this.#packed;
    const at = this.#insertAt;
    const added = lengthPrefix(member.length) + member + scoreChars(score);
    this.#packed = flatten(
      at === packed.length
        ? packed + added
        : at === 0
        ? added + packed
        : packed.slice(0, at) + added + packed.slice(at),
    );
    this.#length++;
  }

  /** Removes `member`; false when it was not there. */
  remove(member: string): boolean {
    const at = this.find(member);
    if (at < 0) return false;
    this.#packed = flatten(this.#without(at));
    this.#length--;
    return true;
  }

  /** Moves the entry at offset `at` (holding `member`) to `score`. */
  move(at: number, member: string, score: number): void {
    this.#packed = this.#without(at);
    this.#length--;
    this.find(member, score);
    this.insertFound(member, score);
  }

  /** Rank of `member`, undefined when absent. */
  rankOf(member: string): number | undefined {
    const packed = this.#packed;
    const length = member.length;
    let rank = 0;
    for (let at = 0; at < packed.length; rank++) {
      const memberLength = lengthAt(packed, at);
      const start = at + lengthSize(packed.charCodeAt(at));
      if (memberLength === length && bytesEqual(packed, start, member)) return rank;
      at = start + memberLength + SCORE_BYTES;
    }
    return undefined;
  }

  entryAt(rank: number): [string, number] {
    const packed = this.#packed;
    let at = 0;
    for (let i = 0; i < rank; i++) at = entryEnd(packed, at);
    return entry(packed, at);
  }

  slice(start: number, stop: number): Array<[string, number]> {
    const packed = this.#packed;
    const out: Array<[string, number]> = [];
    let at = 0;
    for (let i = 0; i < start; i++) at = entryEnd(packed, at);
    for (let i = start; i <= stop && at < packed.length; i++) {
      out.push(entry(packed, at));
      at = entryEnd(packed, at);
    }
    return out;
  }

  countWhileScore(before: ScoreTest): number {
    const packed = this.#packed;
    let count = 0;
    for (let at = 0; at < packed.length; count++) {
      const scoreStart = at + lengthSize(packed.charCodeAt(at)) + lengthAt(packed, at);
      if (!before(scoreAt(packed, scoreStart))) break;
      at = scoreStart + SCORE_BYTES;
    }
    return count;
  }

  countWhileMember(before: MemberTest): number {
    const packed = this.#packed;
    let count = 0;
    for (let at = 0; at < packed.length; count++) {
      const start = at + lengthSize(packed.charCodeAt(at));
      const end = start + lengthAt(packed, at);
      if (!before(packed.slice(start, end))) break;
      at = end + SCORE_BYTES;
    }
    return count;
  }

  *entries(): IterableIterator<[string, number]> {
    const packed = this.#packed;
    for (let at = 0; at < packed.length; at = entryEnd(packed, at)) yield entry(packed, at);
  }

  /** A copy sharing the (immutable) packed string. */
  copy(): Listpack {
    const copy = new Listpack();
    copy.#packed = this.#packed;
    copy.#length = this.#length;
    return copy;
  }

  /** The packed string without the entry at offset `at`. */
  #without(at: number): string {
    const packed = this.#packed;
    const end = entryEnd(packed, at);
    if (at === 0) return packed.slice(end);
    return packed.slice(0, at) + packed.slice(end);
  }
}

/** Bytes of a score in a packed entry. */
const SCORE_BYTES = 8;

/**
 * Whether the entry whose member is the `length` bytes at `start` (its
 * score right after) comes after (`key`, `member`), `key` being a score's
 * 8 chars: the order of (score, member) that zzlInsert keeps.
 */
function isAfter(packed: string, start: number, length: number, key: string, member: string) {
  const scoreStart = start + length;
  for (let i = 0; i < SCORE_BYTES; i++) {
    const difference = packed.charCodeAt(scoreStart + i) - key.charCodeAt(i);
    if (difference === 0) continue;
    // 0 and -0 are one score, whose chars differ first by 1 (0x80 and 0x7f): members decide.
    if (
      i !== 0 || (difference !== 1 && difference !== -1) ||
      scoreAt(packed, scoreStart) !== 0 || scoreAt(key, 0) !== 0
    ) {
      return difference > 0;
    }
    break;
  }
  return compareBytes(packed, start, length, member) > 0;
}

/** Offset just past the listpack entry at `at`. */
function entryEnd(packed: string, at: number): number {
  return at + lengthSize(packed.charCodeAt(at)) + lengthAt(packed, at) + SCORE_BYTES;
}

/** The listpack entry at `at` as a pair. */
function entry(packed: string, at: number): [string, number] {
  const start = at + lengthSize(packed.charCodeAt(at));
  const end = start + lengthAt(packed, at);
  return [packed.slice(start, end), scoreAt(packed, end)];
}

/*
 * The skip list keeps its nodes in one ArrayBuffer instead of one object per
 * node. A search is bound by memory latency: with objects, every step chased
 * a node, its `next` array, that array's backing store and a `span` array,
 * scattered over the heap. Here a node is one contiguous chunk of 32-bit
 * words, and each link also caches the score of the node it points to, so
 * deciding whether to step forward reads only the current chunk: a search
 * touches just the nodes it steps onto, about one cache miss each. A node
 * averages 48 bytes (4 header words plus 4 per level, 2 levels on average)
 * besides its member string, against well over 100 for an object per node.
 *
 * Chunk layout, in words from the node's offset (always even, so every score
 * is one aligned Float64Array element at word offset / 2):
 *
 *   [score: 2] [member slot] [previous] then per level i: [next] [span] [next's score: 2]
 *
 * `next` is the offset of the following node on that level and `span` how
 * many elements the link jumps over (both 0 when there is no following node).
 * Offset 0 is the head, a sentinel holding every level, so 0 also serves as
 * the null link: nothing links forward to the head, and `previous` is 0 for
 * the first element. Members live in a string array indexed by member slot.
 */

/** Offset of the head chunk, which doubles as "no node". */
const HEAD = 0;
const MEMBER_SLOT = 2;
const PREVIOUS = 3;
/** Word offset of level 0's link; level i's is at TOWER + LINK_WORDS * i. */
const TOWER = 4;
/** A link: next, span, then the next node's score (two words). */
const LINK_WORDS = 4;
const SPAN = 1;
const NEXT_SCORE = 2;
const INITIAL_WORDS = 2048;

/**
 * The large shape: a skip list with spans, as Redis's zskiplist. Elements are
 * at ranks 1..length internally (the head is rank 0) and 0..length-1 outside.
 */
class SkipList {
  #words = new Int32Array(0);
  #scores = new Float64Array(0);
  /** First word past the last allocated chunk. */
  #end = 0;
  /** Words in chunks that are in use (head included); drives compaction. */
  #usedWords = 0;
  /** Freed chunks by level, reused before growing. */
  #freeChunks: number[][] = [];
  #members: string[] = [];
  #freeSlots: number[] = [];
  #level = 1;
  #length = 0;
  #tail = HEAD;
  /** Scratch for insert/remove: the last node before the target per level. */
  #update = new Int32Array(SKIPLIST_MAX_LEVEL);
  /** Scratch for insert: the internal rank of `#update[i]`. */
  #updateRank = new Int32Array(SKIPLIST_MAX_LEVEL);

  constructor() {
    this.#reset(INITIAL_WORDS);
  }

  get length(): number {
    return this.#length;
  }

  static from(entries: Iterable<[string, number]>): SkipList {
    const list = new SkipList();
    for (const [member, score] of entries) list.insert(member, score);
    return list;
  }

  #reset(capacity: number): void {
    const buffer = new ArrayBuffer(capacity * 4);
    this.#words = new Int32Array(buffer);
    this.#scores = new Float64Array(buffer);
    this.#end = TOWER + LINK_WORDS * SKIPLIST_MAX_LEVEL;
    this.#usedWords = this.#end;
    this.#scores[HEAD] = -Infinity;
    this.#freeChunks = [];
    for (let i = 0; i <= SKIPLIST_MAX_LEVEL; i++) this.#freeChunks.push([]);
    this.#members = [];
    this.#freeSlots = [];
    this.#level = 1;
    this.#length = 0;
    this.#tail = HEAD;
  }

  /** A chunk for a node of `level` levels; may replace `#words`/`#scores`. */
  #allocate(level: number, member: string, score: number): number {
    const size = TOWER + LINK_WORDS * level;
    let node = this.#freeChunks[level]!.pop();
    if (node === undefined) {
      node = this.#end;
      if (node + size > this.#words.length) {
        let capacity = this.#words.length * 2;
        while (node + size > capacity) capacity *= 2;
        const words = new Int32Array(new ArrayBuffer(capacity * 4));
        words.set(this.#words.subarray(0, this.#end));
        this.#words = words;
        this.#scores = new Float64Array(words.buffer);
      }
      this.#end += size;
    }
    this.#usedWords += size;
    let slot = this.#freeSlots.pop();
    if (slot === undefined) {
      slot = this.#members.length;
      this.#members.push(member);
    } else {
      this.#members[slot] = member;
    }
    this.#words[node + MEMBER_SLOT] = slot;
    this.#scores[node >> 1] = score;
    return node;
  }

  #release(node: number, level: number): void {
    const slot = this.#words[node + MEMBER_SLOT]!;
    this.#members[slot] = ""; // drop the reference so the string can be collected
    this.#freeSlots.push(slot);
    this.#freeChunks[level]!.push(node);
    this.#usedWords -= TOWER + LINK_WORDS * level;
  }

  insert(member: string, score: number): void {
    const update = this.#update;
    const updateRank = this.#updateRank;
    let words = this.#words;
    let scores = this.#scores;
    const members = this.#members;
    let node = HEAD;
    let rank = 0;
    for (let i = this.#level - 1; i >= 0; i--) {
      let link = node + TOWER + LINK_WORDS * i;
      let next = words[link]!;
      while (next !== HEAD) {
        const nextScore = scores[(link + NEXT_SCORE) >> 1]!;
        if (
          nextScore < score ||
          (nextScore === score && members[words[next + MEMBER_SLOT]!]! < member)
        ) {
          rank += words[link + SPAN]!;
          node = next;
          link = node + TOWER + LINK_WORDS * i;
          next = words[link]!;
        } else {
          break;
        }
      }
      update[i] = node;
      updateRank[i] = rank;
    }

    const level = randomLevel();
    for (let i = this.#level; i < level; i++) {
      update[i] = HEAD; // the head's link on a new level is 0 with span 0 already
      updateRank[i] = 0;
    }
    if (level > this.#level) this.#level = level;

    const inserted = this.#allocate(level, member, score);
    words = this.#words;
    scores = this.#scores;
    const insertedRank = updateRank[0]! + 1;
    for (let i = 0; i < level; i++) {
      const before = update[i]! + TOWER + LINK_WORDS * i;
      const own = inserted + TOWER + LINK_WORDS * i;
      const after = words[before]!;
      const distance = insertedRank - updateRank[i]!;
      words[own] = after;
      // The old link covered span elements; one more now sits inside it.
      words[own + SPAN] = after === HEAD ? 0 : words[before + SPAN]! + 1 - distance;
      scores[(own + NEXT_SCORE) >> 1] = scores[(before + NEXT_SCORE) >> 1]!;
      words[before] = inserted;
      words[before + SPAN] = distance;
      scores[(before + NEXT_SCORE) >> 1] = score;
    }
    for (let i = level; i < this.#level; i++) {
      const before = update[i]! + TOWER + LINK_WORDS * i;
      if (words[before] !== HEAD) words[before + SPAN]!++;
    }

    words[inserted + PREVIOUS] = update[0]!;
    const following = words[inserted + TOWER]!;
    if (following === HEAD) this.#tail = inserted;
    else words[following + PREVIOUS] = inserted;
    this.#length++;
  }

  remove(member: string, score: number): void {
    this.#unlink(this.#find(member, score));
    this.#compactIfSparse();
  }

  move(member: string, oldScore: number, newScore: number): void {
    const node = this.#find(member, oldScore);
    const words = this.#words;
    const scores = this.#scores;
    const members = this.#members;
    // When the new score keeps the node between its neighbours (often the
    // case for ZINCRBY by small steps), update it in place.
    const previous = words[node + PREVIOUS]!;
    const following = words[node + TOWER]!;
    if (previous !== HEAD) {
      const previousScore = scores[previous >> 1]!;
      const stays = previousScore < newScore ||
        (previousScore === newScore && members[words[previous + MEMBER_SLOT]!]! < member);
      if (!stays) return this.#reinsert(node, member, newScore);
    }
    if (following !== HEAD) {
      const followingScore = scores[following >> 1]!;
      const stays = followingScore > newScore ||
        (followingScore === newScore && members[words[following + MEMBER_SLOT]!]! > member);
      if (!stays) return this.#reinsert(node, member, newScore);
    }
    scores[node >> 1] = newScore;
    // The links into the node cache its score: refresh them on each of its levels.
    const update = this.#update;
    for (let i = 0; i < this.#level; i++) {
      const before = update[i]! + TOWER + LINK_WORDS * i;
      if (words[before] !== node) break;
      scores[(before + NEXT_SCORE) >> 1] = newScore;
    }
  }

  #reinsert(node: number, member: string, score: number): void {
    this.#unlink(node);
    this.insert(member, score);
  }

  /** Finds the node for (member, score), which must exist, filling `#update`. */
  #find(member: string, score: number): number {
    const update = this.#update;
    const words = this.#words;
    const scores = this.#scores;
    const members = this.#members;
    let node = HEAD;
    for (let i = this.#level - 1; i >= 0; i--) {
      let link = node + TOWER + LINK_WORDS * i;
      let next = words[link]!;
      while (next !== HEAD) {
        const nextScore = scores[(link + NEXT_SCORE) >> 1]!;
        if (
          nextScore < score ||
          (nextScore === score && members[words[next + MEMBER_SLOT]!]! < member)
        ) {
          node = next;
          link = node + TOWER + LINK_WORDS * i;
          next = words[link]!;
        } else {
          break;
        }
      }
      update[i] = node;
    }
    const found = words[node + TOWER]!;
    if (
      found === HEAD || scores[found >> 1] !== score ||
      members[words[found + MEMBER_SLOT]!] !== member
    ) {
      throw new Error(`Sorted set invariant broken: ${member} not found at score ${score}`);
    }
    return found;
  }

  /** Unlinks and frees `node`, using the predecessors `#find` left in `#update`. */
  #unlink(node: number): void {
    const words = this.#words;
    const scores = this.#scores;
    const update = this.#update;
    let nodeLevel = 0;
    for (let i = 0; i < this.#level; i++) {
      const before = update[i]! + TOWER + LINK_WORDS * i;
      if (words[before] === node) {
        // The node is on level i exactly when its predecessor there links to it.
        const own = node + TOWER + LINK_WORDS * i;
        const after = words[own]!;
        words[before] = after;
        words[before + SPAN] = after === HEAD ? 0 : words[before + SPAN]! + words[own + SPAN]! - 1;
        scores[(before + NEXT_SCORE) >> 1] = scores[(own + NEXT_SCORE) >> 1]!;
        nodeLevel = i + 1;
      } else if (words[before] !== HEAD) {
        words[before + SPAN]!--;
      }
    }
    const previous = words[node + PREVIOUS]!;
    const following = words[node + TOWER]!;
    if (following === HEAD) this.#tail = previous;
    else words[following + PREVIOUS] = previous;
    while (this.#level > 1 && words[HEAD + TOWER + LINK_WORDS * (this.#level - 1)] === HEAD) {
      this.#level--;
    }
    this.#release(node, nodeLevel);
    this.#length--;
  }

  /**
   * After many deletions, copies the survivors into a right-sized buffer so a
   * set that shrank gives its memory back (and its nodes sit close together).
   */
  #compactIfSparse(): void {
    if (this.#words.length <= INITIAL_WORDS || this.#usedWords * 4 > this.#words.length) return;
    const entries = [...this.entries()];
    let capacity = INITIAL_WORDS;
    while (capacity < this.#usedWords * 2) capacity *= 2;
    this.#reset(capacity);
    for (const [member, score] of entries) this.insert(member, score);
  }

  rankOf(member: string, score: number): number {
    const words = this.#words;
    const scores = this.#scores;
    const members = this.#members;
    let node = HEAD;
    let rank = 0;
    for (let i = this.#level - 1; i >= 0; i--) {
      let link = node + TOWER + LINK_WORDS * i;
      let next = words[link]!;
      while (next !== HEAD) {
        const nextScore = scores[(link + NEXT_SCORE) >> 1]!;
        if (
          nextScore < score ||
          (nextScore === score && members[words[next + MEMBER_SLOT]!]! <= member)
        ) {
          rank += words[link + SPAN]!;
          node = next;
          link = node + TOWER + LINK_WORDS * i;
          next = words[link]!;
        } else {
          break;
        }
      }
    }
    // The descent passed every element up to (score, member) and the member is
    // in the list, so it ended on the member. Redis stops as soon as it lands
    // on the member, but confirming that costs a member read (a cache miss)
    // per level, while going on down reads only the chunk we are on.
    if (node === HEAD || scores[node >> 1] !== score) {
      throw new Error(`Sorted set invariant broken: ${member} not found at score ${score}`);
    }
    return rank - 1;
  }

  /** The node at internal rank `rank` (1..length). */
  #nodeAt(rank: number): number {
    const words = this.#words;
    let node = HEAD;
    let traversed = 0;
    for (let i = this.#level - 1; i >= 0; i--) {
      let link = node + TOWER + LINK_WORDS * i;
      while (words[link] !== HEAD && traversed + words[link + SPAN]! <= rank) {
        traversed += words[link + SPAN]!;
        node = words[link]!;
        link = node + TOWER + LINK_WORDS * i;
      }
      if (traversed === rank) return node;
    }
    throw new Error(`Sorted set invariant broken: no element at rank ${rank}`);
  }

  #entry(node: number): [string, number] {
    return [this.#members[this.#words[node + MEMBER_SLOT]!]!, this.#scores[node >> 1]!];
  }

  entryAt(rank: number): [string, number] {
    return this.#entry(rank === this.#length - 1 ? this.#tail : this.#nodeAt(rank + 1));
  }

  slice(start: number, stop: number): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    let node = this.#nodeAt(start + 1);
    for (let i = start; i <= stop && node !== HEAD; i++) {
      out.push(this.#entry(node));
      node = this.#words[node + TOWER]!;
    }
    return out;
  }

  countWhileScore(before: ScoreTest): number {
    const words = this.#words;
    const scores = this.#scores;
    let node = HEAD;
    let count = 0;
    for (let i = this.#level - 1; i >= 0; i--) {
      let link = node + TOWER + LINK_WORDS * i;
      while (words[link] !== HEAD && before(scores[(link + NEXT_SCORE) >> 1]!)) {
        count += words[link + SPAN]!;
        node = words[link]!;
        link = node + TOWER + LINK_WORDS * i;
      }
    }
    return count;
  }

  countWhileMember(before: MemberTest): number {
    const words = this.#words;
    const members = this.#members;
    let node = HEAD;
    let count = 0;
    for (let i = this.#level - 1; i >= 0; i--) {
      let link = node + TOWER + LINK_WORDS * i;
      while (words[link] !== HEAD && before(members[words[words[link]! + MEMBER_SLOT]!]!)) {
        count += words[link + SPAN]!;
        node = words[link]!;
        link = node + TOWER + LINK_WORDS * i;
      }
    }
    return count;
  }

  *entries(): IterableIterator<[string, number]> {
    for (let node = this.#words[TOWER]!; node !== HEAD; node = this.#words[node + TOWER]!) {
      yield this.#entry(node);
    }
  }
}

function randomLevel(): number {
  let level = 1;
  while (level < SKIPLIST_MAX_LEVEL && Math.random() < SKIPLIST_P) level++;
  return level;
}
