/**
 * SortedSet: the sorted set type's storage (ZADD, ZRANK, ZRANGE, ZCOUNT, ...).
 *
 * Elements are ordered by (score, member) ascending, as in Redis. Members are
 * binary strings (one byte per char code), so JavaScript's `<` on them is
 * memcmp order, the tie-break Redis uses for equal scores.
 *
 * Commands need four things to be fast: the score of a member (ZSCORE), the
 * rank of a member (ZRANK), the member at a rank (ZRANGE) and the rank where a
 * score or lex bound falls (ZRANGEBYSCORE, ZCOUNT, ZLEXCOUNT). A Map from
 * member to score answers the first in O(1) and tells whether a member exists;
 * the order lives in one of two shapes, mirroring Redis's two encodings:
 *
 * - "listpack": while the set holds at most 128 members of at most 64 bytes,
 *   two parallel sorted arrays (members, scores). No object per element, and
 *   binary search finds positions; the O(n) splice on insert or delete is
 *   cheaper than pointer chasing at that size.
 * - "skiplist": beyond that, a skip list whose links also record their span
 *   (how many elements a link jumps over). Summing spans along a search path
 *   gives a rank, and descending by spans finds the element at a rank, both in
 *   O(log n) expected time, as Redis's zskiplist does. Insert, delete and
 *   score update are O(log n); a range is one descent plus a walk, O(log n + m).
 *
 * A set converts once and never goes back, like Redis: shrinking sets rarely
 * earn the copy, and `encoding` then agrees with OBJECT ENCODING.
 *
 * Range queries are all phrased as "how many leading elements lie below this
 * bound", one descent in either shape; callers turn the resulting ranks into
 * elements with `range`. Lex ranges assume, as Redis documents, that every
 * member has the same score; with mixed scores the answer is unspecified.
 *
 * @module
 */

import { parseDouble } from "../protocol/doubles.ts";

/** Redis's default `zset-max-listpack-entries`. */
const LISTPACK_MAX_ENTRIES = 128;
/** Redis's default `zset-max-listpack-value` (bytes per member). */
const LISTPACK_MAX_VALUE = 64;
/** Redis's ZSKIPLIST_MAXLEVEL: enough for 2^64 elements at p = 1/4. */
const SKIPLIST_MAX_LEVEL = 32;
/** Chance that a node also appears on the next level up (Redis's ZSKIPLIST_P). */
const SKIPLIST_P = 0.25;

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
 * Parses the `min max` arguments of the score-range commands like Redis's
 * zslParseRange: an optional `(` makes a bound exclusive, and the rest is a
 * double (`1.5`, `-2e3`, `inf`, `-inf`, `+inf`). Returns undefined for what
 * Redis answers with "ERR min or max is not a float": NaN, trailing garbage,
 * leading whitespace, and an empty number (`""` or a bare `(`; Redis 7.0's
 * strtod took those as 0, a bug later Redis versions reject too).
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
  const minValue = parseDouble(minExclusive ? min.slice(1) : min);
  const maxValue = parseDouble(maxExclusive ? max.slice(1) : max);
  if (minValue === undefined || maxValue === undefined) return undefined;
  return { min: minValue, max: maxValue, minExclusive, maxExclusive };
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
 * "Is this element still before the range?" for the shapes' `countWhile`. True
 * for a prefix of the order and false after it, so one descent finds the edge.
 */
type Before = (score: number, member: string) => boolean;

function belowScoreMin(range: ScoreRange): Before {
  const min = range.min;
  return range.minExclusive ? (score) => score <= min : (score) => score < min;
}

function withinScoreMax(range: ScoreRange): Before {
  const max = range.max;
  return range.maxExclusive ? (score) => score < max : (score) => score <= max;
}

function belowLexMin(range: LexRange): Before {
  if (range.minInfinite === "-") return () => false;
  if (range.minInfinite === "+") return () => true;
  const min = range.min;
  return range.minExclusive ? (_, member) => member <= min : (_, member) => member < min;
}

function withinLexMax(range: LexRange): Before {
  if (range.maxInfinite === "+") return () => true;
  if (range.maxInfinite === "-") return () => false;
  const max = range.max;
  return range.maxExclusive ? (_, member) => member < max : (_, member) => member <= max;
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
  #scores = new Map<string, number>();
  #order: Listpack | SkipList = new Listpack();

  /** Number of members (ZCARD). */
  get size(): number {
    return this.#scores.size;
  }

  /** The encoding OBJECT ENCODING reports: "listpack" while small, then "skiplist". */
  get encoding(): "listpack" | "skiplist" {
    return this.#order instanceof Listpack ? "listpack" : "skiplist";
  }

  /** Score of `member`, undefined when it is not in the set. */
  score(member: string): number | undefined {
    return this.#scores.get(member);
  }

  /**
   * Inserts `member` or moves it to `score`. Returns true when the member is
   * new. Re-adding with an equal score (0 and -0 count as equal, as in Redis)
   * changes nothing.
   */
  add(member: string, score: number): boolean {
    const old = this.#scores.get(member);
    if (old === undefined) {
      this.#scores.set(member, score);
      this.#order.insert(member, score);
      if (
        this.#order instanceof Listpack &&
        (this.#scores.size > LISTPACK_MAX_ENTRIES || member.length > LISTPACK_MAX_VALUE)
      ) {
        this.#order = SkipList.from(this.#order);
      }
      return true;
    }
    if (old !== score) {
      this.#scores.set(member, score);
      this.#order.move(member, old, score);
    }
    return false;
  }

  /** Removes `member`; returns false when it was not in the set. */
  delete(member: string): boolean {
    const score = this.#scores.get(member);
    if (score === undefined) return false;
    this.#scores.delete(member);
    this.#order.remove(member, score);
    return true;
  }

  /** 0-based ascending rank of `member` (ZRANK), undefined when absent. */
  rank(member: string): number | undefined {
    const score = this.#scores.get(member);
    if (score === undefined) return undefined;
    return this.#order.rankOf(member, score);
  }

  /** The element at 0-based ascending `rank`, undefined when out of range. */
  at(rank: number): [member: string, score: number] | undefined {
    if (!(rank >= 0 && rank < this.#scores.size)) return undefined;
    return this.#order.entryAt(Math.floor(rank));
  }

  /**
   * Elements of ascending ranks `start` to `stop` inclusive, in order. The
   * caller clamps: 0 <= start <= stop < size.
   */
  range(start: number, stop: number): Array<[string, number]> {
    return this.#order.slice(start, stop);
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
    return this.#order.countWhile(belowScoreMin(range));
  }

  /**
   * Rank of the last element at or below the range's maximum (strictly below
   * when exclusive), or -1 when there is none. Ignores the minimum.
   */
  lastRankInScoreRange(range: ScoreRange): number {
    return this.#order.countWhile(withinScoreMax(range)) - 1;
  }

  /** Number of members that lie in `range` (ZLEXCOUNT). */
  countInLexRange(range: LexRange): number {
    return Math.max(0, this.lastRankInLexRange(range) - this.firstRankInLexRange(range) + 1);
  }

  /** Rank of the first member not below the range's minimum, or `size`. */
  firstRankInLexRange(range: LexRange): number {
    return this.#order.countWhile(belowLexMin(range));
  }

  /** Rank of the last member not above the range's maximum, or -1. */
  lastRankInLexRange(range: LexRange): number {
    return this.#order.countWhile(withinLexMax(range)) - 1;
  }

  /** Removes and returns the lowest element (ZPOPMIN), undefined when empty. */
  popMin(): [string, number] | undefined {
    const entry = this.at(0);
    if (entry !== undefined) this.delete(entry[0]);
    return entry;
  }

  /** Removes and returns the highest element (ZPOPMAX), undefined when empty. */
  popMax(): [string, number] | undefined {
    const entry = this.at(this.#scores.size - 1);
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
}

/**
 * The small shape: members and scores in two parallel arrays, sorted.
 *
 * Every method mirrors one of SkipList's, so SortedSet can hold either.
 */
class Listpack {
  #members: string[] = [];
  #scores: number[] = [];

  get length(): number {
    return this.#scores.length;
  }

  /** Index of the first element not below (score, member). */
  #lowerBound(member: string, score: number): number {
    const members = this.#members;
    const scores = this.#scores;
    let low = 0;
    let high = scores.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const midScore = scores[mid]!;
      if (midScore < score || (midScore === score && members[mid]! < member)) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  insert(member: string, score: number): void {
    const index = this.#lowerBound(member, score);
    this.#members.splice(index, 0, member);
    this.#scores.splice(index, 0, score);
  }

  remove(member: string, score: number): void {
    const index = this.#lowerBound(member, score);
    this.#members.splice(index, 1);
    this.#scores.splice(index, 1);
  }

  move(member: string, oldScore: number, newScore: number): void {
    this.remove(member, oldScore);
    this.insert(member, newScore);
  }

  rankOf(member: string, score: number): number {
    return this.#lowerBound(member, score);
  }

  entryAt(rank: number): [string, number] {
    return [this.#members[rank]!, this.#scores[rank]!];
  }

  slice(start: number, stop: number): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    for (let i = start; i <= stop; i++) out.push([this.#members[i]!, this.#scores[i]!]);
    return out;
  }

  countWhile(before: Before): number {
    let low = 0;
    let high = this.#scores.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (before(this.#scores[mid]!, this.#members[mid]!)) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  *entries(): IterableIterator<[string, number]> {
    for (let i = 0; i < this.#scores.length; i++) yield [this.#members[i]!, this.#scores[i]!];
  }
}

/**
 * A skip list node. `next[i]` is the following node on level i and `span[i]`
 * how many level-0 steps that link covers (meaningless when `next[i]` is null).
 * Both arrays have the node's level as length; the head's grow with the list.
 */
class SkipNode {
  member: string;
  score: number;
  previous: SkipNode | null = null;
  next: (SkipNode | null)[] = [];
  span: number[] = [];

  constructor(member: string, score: number, level: number) {
    this.member = member;
    this.score = score;
    for (let i = 0; i < level; i++) {
      this.next.push(null);
      this.span.push(0);
    }
  }
}

/**
 * The large shape: a skip list with spans. The head is a sentinel at rank 0;
 * elements are at ranks 1..length internally and 0..length-1 outside.
 */
class SkipList {
  #head = new SkipNode("", -Infinity, 1);
  #tail: SkipNode | null = null;
  #length = 0;
  /** Scratch for insert/remove: the last node before the target per level. */
  #update: SkipNode[] = [];
  /** Scratch for insert: the internal rank of `#update[i]`. */
  #updateRank: number[] = [];

  static from(listpack: Listpack): SkipList {
    const list = new SkipList();
    for (const [member, score] of listpack.entries()) list.insert(member, score);
    return list;
  }

  insert(member: string, score: number): void {
    const head = this.#head;
    const update = this.#update;
    const updateRank = this.#updateRank;
    let level = head.next.length;
    let node = head;
    let rank = 0;
    for (let i = level - 1; i >= 0; i--) {
      let next = node.next[i] as SkipNode | null;
      while (
        next !== null &&
        (next.score < score || (next.score === score && next.member < member))
      ) {
        rank += node.span[i]!;
        node = next;
        next = node.next[i] as SkipNode | null;
      }
      update[i] = node;
      updateRank[i] = rank;
    }

    const nodeLevel = randomLevel();
    while (level < nodeLevel) {
      head.next.push(null);
      head.span.push(0);
      update[level] = head;
      updateRank[level] = 0;
      level++;
    }

    const inserted = new SkipNode(member, score, nodeLevel);
    const insertedRank = updateRank[0]! + 1;
    for (let i = 0; i < nodeLevel; i++) {
      const before = update[i]!;
      const after = before.next[i] as SkipNode | null;
      const distance = insertedRank - updateRank[i]!;
      inserted.next[i] = after;
      // The old link covered span[i] elements; one more now sits inside it.
      inserted.span[i] = after === null ? 0 : before.span[i]! + 1 - distance;
      before.next[i] = inserted;
      before.span[i] = distance;
    }
    for (let i = nodeLevel; i < level; i++) {
      const before = update[i]!;
      if (before.next[i] !== null) before.span[i]!++;
    }

    const previous = update[0]!;
    inserted.previous = previous === head ? null : previous;
    const following = inserted.next[0] as SkipNode | null;
    if (following === null) this.#tail = inserted;
    else following.previous = inserted;
    this.#length++;
  }

  remove(member: string, score: number): void {
    this.#unlink(this.#find(member, score));
  }

  move(member: string, oldScore: number, newScore: number): void {
    const node = this.#find(member, oldScore);
    // When the new score keeps the node between its neighbours (often the
    // case for ZINCRBY by small steps), update it in place.
    const previous = node.previous;
    const following = node.next[0] as SkipNode | null;
    if (
      (previous === null || previous.score < newScore ||
        (previous.score === newScore && previous.member < member)) &&
      (following === null || following.score > newScore ||
        (following.score === newScore && following.member > member))
    ) {
      node.score = newScore;
      return;
    }
    this.#unlink(node);
    this.insert(member, newScore);
  }

  /** Finds the node for (member, score), which must exist, filling `#update`. */
  #find(member: string, score: number): SkipNode {
    const update = this.#update;
    let node = this.#head;
    for (let i = node.next.length - 1; i >= 0; i--) {
      let next = node.next[i] as SkipNode | null;
      while (
        next !== null &&
        (next.score < score || (next.score === score && next.member < member))
      ) {
        node = next;
        next = node.next[i] as SkipNode | null;
      }
      update[i] = node;
    }
    const found = node.next[0] as SkipNode | null;
    if (found === null || found.member !== member || found.score !== score) {
      throw new Error(`Sorted set invariant broken: ${member} not at score ${score}`);
    }
    return found;
  }

  /** Unlinks `node` using the predecessors `#find` left in `#update`. */
  #unlink(node: SkipNode): void {
    const head = this.#head;
    const update = this.#update;
    const level = head.next.length;
    for (let i = 0; i < level; i++) {
      const before = update[i]!;
      if (before.next[i] === node) {
        const after = node.next[i] as SkipNode | null;
        before.next[i] = after;
        before.span[i] = after === null ? 0 : before.span[i]! + node.span[i]! - 1;
      } else if (before.next[i] !== null) {
        before.span[i]!--;
      }
    }
    const following = node.next[0] as SkipNode | null;
    if (following === null) this.#tail = node.previous;
    else following.previous = node.previous;
    while (head.next.length > 1 && head.next[head.next.length - 1] === null) {
      head.next.pop();
      head.span.pop();
    }
    this.#length--;
  }

  rankOf(member: string, score: number): number {
    let node = this.#head;
    let rank = 0;
    for (let i = node.next.length - 1; i >= 0; i--) {
      let next = node.next[i] as SkipNode | null;
      while (
        next !== null &&
        (next.score < score || (next.score === score && next.member <= member))
      ) {
        rank += node.span[i]!;
        node = next;
        next = node.next[i] as SkipNode | null;
      }
      if (node.member === member && node !== this.#head) return rank - 1;
    }
    throw new Error(`Sorted set invariant broken: ${member} not at score ${score}`);
  }

  /** The node at internal rank `rank` (1..length). */
  #nodeAt(rank: number): SkipNode {
    let node = this.#head;
    let traversed = 0;
    for (let i = node.next.length - 1; i >= 0; i--) {
      let next = node.next[i] as SkipNode | null;
      while (next !== null && traversed + node.span[i]! <= rank) {
        traversed += node.span[i]!;
        node = next;
        next = node.next[i] as SkipNode | null;
      }
      if (traversed === rank) return node;
    }
    throw new Error(`Sorted set invariant broken: no element at rank ${rank}`);
  }

  entryAt(rank: number): [string, number] {
    const node = rank === this.#length - 1 && this.#tail !== null
      ? this.#tail
      : this.#nodeAt(rank + 1);
    return [node.member, node.score];
  }

  slice(start: number, stop: number): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    let node: SkipNode | null = this.#nodeAt(start + 1);
    for (let i = start; i <= stop && node !== null; i++) {
      out.push([node.member, node.score]);
      node = node.next[0] as SkipNode | null;
    }
    return out;
  }

  countWhile(before: Before): number {
    let node = this.#head;
    let count = 0;
    for (let i = node.next.length - 1; i >= 0; i--) {
      let next = node.next[i] as SkipNode | null;
      while (next !== null && before(next.score, next.member)) {
        count += node.span[i]!;
        node = next;
        next = node.next[i] as SkipNode | null;
      }
    }
    return count;
  }

  *entries(): IterableIterator<[string, number]> {
    for (
      let node = this.#head.next[0] as SkipNode | null;
      node !== null;
      node = node.next[0] as SkipNode | null
    ) {
      yield [node.member, node.score];
    }
  }
}

function randomLevel(): number {
  let level = 1;
  while (level < SKIPLIST_MAX_LEVEL && Math.random() < SKIPLIST_P) level++;
  return level;
}
