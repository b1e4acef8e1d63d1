/**
 * Sorted set commands: ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE, ZCOUNT,
 * ZLEXCOUNT, ZRANK, ZREVRANK, the ZRANGE family, the ZREMRANGEBY family,
 * the pops (ZPOPMIN, ZPOPMAX, ZMPOP and their blocking forms), ZRANDMEMBER,
 * the algebra (ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD) and
 * ZSCAN, with Redis 7.0's replies and errors.
 *
 * The storage is SortedSet (store/sorted_set.ts), a listpack while small
 * (members are added with the live configuration's `zset-max-listpack-*`,
 * so a set converts when Redis's would), which answers in ranks:
 * the rank of a member, the element at a rank, and where a score or lex
 * bound falls. Every command here is phrased the same way, as a window of
 * ascending ranks, so the commands come down to a few engines shaped like
 * the functions of Redis's t_zset.c they mirror, and related commands
 * cannot drift apart:
 *
 * - `addCommand` (zaddGenericCommand): ZADD with all its flags, and ZINCRBY
 *   as ZADD INCR with one pair, so even ZINCRBY's odd corners
 *   (`ZINCRBY key nx member` is a syntax error) come out the same.
 * - `rangeCommand` (zrangeGenericCommand): ZRANGE with BYSCORE, BYLEX, REV,
 *   LIMIT and WITHSCORES, and ZRANGESTORE, ZREVRANGE, ZRANGEBYSCORE,
 *   ZREVRANGEBYSCORE, ZRANGEBYLEX and ZREVRANGEBYLEX as the same parser
 *   with some choices fixed by the command's name. ZCOUNT, ZLEXCOUNT and the
 *   ZREMRANGEBY commands share its bounds and windows.
 * - `popCommand` (genericZpopCommand): the four reply shapes of ZPOPMIN,
 *   ZPOPMIN with a count in RESP3, BZPOPMIN and ZMPOP, for the immediate
 *   and the blocked case alike.
 * - `combineCommand` (zunionInterDiffGenericCommand): union, intersection
 *   and difference with WEIGHTS and AGGREGATE, replying, storing or counting.
 *   Plain sets are accepted as inputs, every member scoring 1. Inputs are
 *   taken smallest first, as Redis takes them, so floating-point sums add up
 *   in the same order and give the same last digit; `inf + -inf` is 0.
 *
 * Scores are doubles, replied with `reply.double` (Redis's `%.17g`). One
 * quirk of Redis's storage is visible to clients and reproduced: a small
 * sorted set (listpack) holds integral scores as integers, so -0 stored in
 * it reads back as 0, while a large one (skip list) keeps -0.
 *
 * Blocking pops use the shared machinery of blocking.ts and are logged to
 * the AOF as the ZPOPMIN/ZPOPMAX they performed, as ZMPOP is; everything
 * else is deterministic and logged as sent.
 *
 * @module
 */

import type { Client } from "./client.ts";
import {
  type LexRange,
  parseLexRange,
  parseScoreRange,
  type ScoreRange,
  SortedSet,
} from "../store/sorted_set.ts";
import type { SetValue } from "../store/values.ts";
import { deleteIfEmpty, getSortedSet, lookupRead } from "./access.ts";
import { ArgumentCursor, parseInt64, parseInteger, requireInteger } from "./arguments.ts";
import { blockClient, parseTimeout } from "./blocking.ts";
import {
  CommandError,
  COUNT_NOT_POSITIVE,
  GT_LT_AND_NX,
  INCR_SINGLE_PAIR,
  LEX_RANGE_INVALID,
  LIMIT_NEGATIVE,
  LIMIT_WITHOUT_BY,
  MIN_MAX_NOT_FLOAT,
  noInputKeys,
  NOT_POSITIVE,
  NUMKEYS_NOT_POSITIVE,
  RANDOM_COUNT_RANGE,
  RANDOM_REPLY_TOO_LARGE,
  SCORE_IS_NAN,
  SYNTAX_ERROR,
  VALUE_OUT_OF_RANGE,
  WEIGHT_NOT_FLOAT,
  WITHSCORES_WITH_BYLEX,
  WRONG_TYPE,
  XX_AND_NX,
} from "./errors.ts";
import { scanCollection } from "./scan.ts";
import { command, numkeysKeyFinder } from "./table.ts";

/** A member with its score, as replies and results carry them. */
type Entry = [member: string, score: number];

const INT64_MIN = -9223372036854775808n;
/** ZRANDMEMBER WITHSCORES takes counts within ±LONG_MAX/2 (the reply doubles). */
const RANDOM_WITHSCORES_LIMIT = 4611686018427387903n;
/** Largest reply ZRANDMEMBER with a negative count may build: proto-max-bulk-len. */
const MAX_RANDOM_REPLY_BYTES = 512 * 1024 * 1024;
/** Framing of one picked element: `$len\r\n...\r\n` and a score with its own. */
const RANDOM_PICK_OVERHEAD = 40;

// ---------------------------------------------------------------------------
// Shared pieces: storing scores, replying with elements, storing results

/**
 * After `set.add(member, score)`: Redis's listpack stores an integral score
 * as an integer, so a small sorted set holds -0 as 0. A skip list keeps the
 * double, sign included, and so does the set once converted.
 */
function dropZeroSign(set: SortedSet, member: string, score: number): void {
  if (Object.is(score, -0) && set.encoding === "listpack") {
    set.delete(member);
    // Its place is taken back at once: the limits cannot convert it.
    set.add(member, 0);
  }
}

/**
 * Replies with `length` elements: members only, or with WITHSCORES a flat
 * member, score, ... array in RESP2 and an array of [member, score] pairs
 * in RESP3 (not a map: clients must keep the order). `pairs` overrides the
 * RESP3 nesting for replies that stay flat (ZPOPMIN without a count).
 */
function replyEntries(
  client: Client,
  length: number,
  entries: Iterable<Entry>,
  withScores: boolean,
  pairs = withScores && client.protocol === 3,
): void {
  const reply = client.reply;
  reply.arrayHeader(withScores && !pairs ? length * 2 : length);
  for (const [member, score] of entries) {
    if (pairs) reply.arrayHeader(2);
    reply.bulk(member);
    if (withScores) reply.double(score);
  }
}

/**
 * The STORE forms: `entries` (distinct members, in order) replace
 * `destination` whatever it held, or an empty result deletes it. Replies
 * with the stored size.
 */
function storeResult(
  client: Client,
  destination: string,
  entries: readonly Entry[],
  event: string,
): void {
  if (entries.length > 0) {
    const result = new SortedSet();
    const limits = client.server.config;
    for (const [member, score] of entries) result.add(member, score, limits);
    // Redis builds the result as a skip list and converts it if it is small.
    for (const [member, score] of entries) dropZeroSign(result, member, score);
    client.db.set(destination, result);
    client.changed(destination, event, "z");
  } else if (client.db.lookup(destination) !== undefined) {
    deleteIfEmpty(client, destination, 0);
  }
  client.reply.integer(entries.length);
}

/** Orders entries by score, then member bytes, as a sorted set does (-0 equals 0). */
function compareEntries(a: Entry, b: Entry): number {
  // inf - inf is NaN, which is falsy: equal infinities fall through to the members.
  return a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

function randomIndex(bound: number): number {
  return Math.floor(Math.random() * bound);
}

// ---------------------------------------------------------------------------
// ZADD and ZINCRBY

/**
 * ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...], and
 * ZINCRBY key increment member as ZADD with INCR (`increment`). Options are
 * read until the first argument that is not one; then come the pairs. All
 * scores are parsed before the key is looked up, as in Redis, so a bad
 * score wins over WRONGTYPE.
 */
function addCommand(client: Client, args: string[], increment: boolean): void {
  const cursor = new ArgumentCursor(args);
  const key = cursor.key();
  const options = cursor.flags(["NX", "XX", "GT", "LT", "CH", "INCR"]);
  const { NX: nx, XX: xx, GT: gt, LT: lt, CH: ch } = options;
  const incr = increment || options.INCR;
  const remaining = cursor.remaining;
  if (remaining === 0 || remaining % 2 !== 0) throw new CommandError(SYNTAX_ERROR);
  if (nx && xx) throw new CommandError(XX_AND_NX);
  if ((gt && nx) || (lt && nx) || (gt && lt)) throw new CommandError(GT_LT_AND_NX);
  if (incr && remaining > 2) throw new CommandError(INCR_SINGLE_PAIR);
  const scores: number[] = [];
  const members: string[] = [];
  while (cursor.hasMore()) {
    scores.push(cursor.double());
    members.push(cursor.next());
  }

  let set = getSortedSet(client, key);
  let added = 0;
  let updated = 0;
  let processed = 0;
  let lastScore = 0;
  if (set === undefined && !xx) {
    set = new SortedSet();
    client.db.set(key, set);
  }
  const limits = client.server.config;
  for (let j = 0; set !== undefined && j < scores.length; j++) {
    const member = members[j]!;
    let score = scores[j]!;
    const current = set.score(member);
    if (current === undefined) {
      if (xx) continue;
      set.add(member, score, limits);
      added++;
    } else {
      if (nx) continue;
      if (incr) {
        score += current;
        if (Number.isNaN(score)) throw new CommandError(SCORE_IS_NAN);
      }
      if ((lt && score >= current) || (gt && score <= current)) continue;
      // -0 and 0 are equal: re-adding either changes nothing.
      if (score !== current) {
        set.add(member, score, limits);
        updated++;
      }
    }
    dropZeroSign(set, member, score);
    processed++;
    lastScore = score;
  }
  if (added + updated > 0) client.changed(key, incr ? "zincr" : "zadd", "z");
  if (!incr) client.reply.integer(ch ? added + updated : added);
  // The reply is the computed score, even when the set stores -0 as 0.
  else if (processed > 0) client.reply.double(lastScore);
  else client.reply.nullBulk();
}

// ---------------------------------------------------------------------------
// Single-member reads, ZREM

function zrem(client: Client, args: string[]): void {
  const key = args[1]!;
  const set = getSortedSet(client, key);
  let removed = 0;
  if (set !== undefined) {
    for (let i = 2; i < args.length && set.size > 0; i++) if (set.delete(args[i]!)) removed++;
    if (removed > 0) {
      client.changed(key, "zrem", "z");
      deleteIfEmpty(client, key, set.size);
    }
  }
  client.reply.integer(removed);
}

function zscore(client: Client, args: string[]): void {
  const score = getSortedSet(client, args[1]!)?.score(args[2]!);
  if (score === undefined) client.reply.nullBulk();
  else client.reply.double(score);
}

function zmscore(client: Client, args: string[]): void {
  const set = getSortedSet(client, args[1]!);
  client.reply.arrayHeader(args.length - 2);
  for (let i = 2; i < args.length; i++) {
    const score = set?.score(args[i]!);
    if (score === undefined) client.reply.nullBulk();
    else client.reply.double(score);
  }
}

/** ZRANK and ZREVRANK (`reverse`: counted from the highest score). */
function rankCommand(client: Client, args: string[], reverse: boolean): void {
  const set = getSortedSet(client, args[1]!);
  const rank = set?.rank(args[2]!);
  if (set === undefined || rank === undefined) client.reply.nullBulk();
  else client.reply.integer(reverse ? set.size - 1 - rank : rank);
}

// ---------------------------------------------------------------------------
// Ranges: bounds, windows of ranks, and the commands built on them

type RangeKind = "rank" | "score" | "lex";

/** A parsed range: start/stop indexes as given, or a score or lex interval. */
type Bounds =
  | { kind: "rank"; start: number; stop: number }
  | { kind: "score"; range: ScoreRange }
  | { kind: "lex"; range: LexRange };

/** Parses a range's two arguments, throwing the error Redis gives for its kind. */
function parseBounds(kind: RangeKind, min: string, max: string): Bounds {
  if (kind === "rank") return { kind, start: requireInteger(min), stop: requireInteger(max) };
  if (kind === "score") {
    const range = parseScoreRange(min, max);
    if (range === undefined) throw new CommandError(MIN_MAX_NOT_FLOAT);
    return { kind, range };
  }
  const range = parseLexRange(min, max);
  if (range === undefined) throw new CommandError(LEX_RANGE_INVALID);
  return { kind, range };
}

/**
 * The ascending ranks [first, last] of the elements within `bounds`, empty
 * when first > last. Indexes count from the end when negative and, with
 * `reverse` (ZREVRANGE), from the highest score.
 */
function rankWindow(set: SortedSet, bounds: Bounds, reverse = false): [number, number] {
  switch (bounds.kind) {
    case "score":
      return [set.firstRankInScoreRange(bounds.range), set.lastRankInScoreRange(bounds.range)];
    case "lex":
      return [set.firstRankInLexRange(bounds.range), set.lastRankInLexRange(bounds.range)];
    case "rank": {
      const size = set.size;
      let start = bounds.start < 0 ? bounds.start + size : bounds.start;
      let stop = bounds.stop < 0 ? bounds.stop + size : bounds.stop;
      if (start < 0) start = 0;
      if (start > stop || start >= size) return [0, -1];
      if (stop >= size) stop = size - 1;
      return reverse ? [size - 1 - stop, size - 1 - start] : [start, stop];
    }
  }
}

/**
 * The elements of a ZRANGE, in reply order: the window of `bounds`, then
 * for score and lex ranges LIMIT's offset and count, taken from the end
 * the reply starts at. A negative offset selects nothing and a negative
 * count everything after the offset, as in Redis.
 */
function selectRange(
  set: SortedSet,
  bounds: Bounds,
  reverse: boolean,
  offset: number,
  limit: number,
): Entry[] {
  let [first, last] = rankWindow(set, bounds, reverse);
  if (bounds.kind !== "rank") {
    if (offset < 0) return [];
    if (reverse) {
      last -= offset;
      if (limit >= 0) first = Math.max(first, last - limit + 1);
    } else {
      first += offset;
      if (limit >= 0) last = Math.min(last, first + limit - 1);
    }
  }
  if (first > last) return [];
  const entries = set.range(first, last);
  return reverse ? entries.reverse() : entries;
}

/** How a ZRANGE-family command reads its arguments. */
interface RangeForm {
  /** Index of the source key; min and max follow it, then the options. */
  keyIndex: number;
  /** ZRANGESTORE: the destination is args[1]; WITHSCORES is not accepted. */
  store: boolean;
  /** Fixed by the name (ZRANGEBYSCORE); undefined lets BYSCORE/BYLEX choose. */
  kind?: RangeKind;
  /** Fixed by the name (ZREVRANGE); undefined lets REV choose. */
  reverse?: boolean;
}

/**
 * Every ZRANGE-family command, as Redis's zrangeGenericCommand: options
 * first (an option the name already fixed is a syntax error, so is a
 * repeated REV/BYSCORE/BYLEX), then the conflicts, then the range, where
 * BYSCORE/BYLEX in reverse take max before min. Only then is the key read.
 */
function rangeCommand(client: Client, args: string[], form: RangeForm): void {
  let kind = form.kind;
  let reverse = form.reverse;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  const cursor = new ArgumentCursor(args, form.keyIndex);
  const key = cursor.key();
  const first = cursor.next();
  const second = cursor.next();
  while (cursor.hasMore()) {
    const option = cursor.keyword();
    if (!form.store && option === "WITHSCORES") {
      withScores = true;
    } else if (option === "LIMIT" && cursor.remaining >= 2) {
      offset = cursor.integer();
      limit = cursor.integer();
    } else if (reverse === undefined && option === "REV") {
      reverse = true;
    } else if (kind === undefined && option === "BYSCORE") {
      kind = "score";
    } else if (kind === undefined && option === "BYLEX") {
      kind = "lex";
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  kind ??= "rank";
  reverse ??= false;
  // Redis tests the count against its default, so `LIMIT 5 -1` passes here.
  if (limit !== -1 && kind === "rank") throw new CommandError(LIMIT_WITHOUT_BY);
  if (withScores && kind === "lex") throw new CommandError(WITHSCORES_WITH_BYLEX);
  const bounds = reverse && kind !== "rank"
    ? parseBounds(kind, second, first)
    : parseBounds(kind, first, second);
  const set = getSortedSet(client, key);
  const entries = set === undefined ? [] : selectRange(set, bounds, reverse, offset, limit);
  if (form.store) storeResult(client, args[1]!, entries, "zrangestore");
  else replyEntries(client, entries.length, entries, withScores);
}

/** ZCOUNT and ZLEXCOUNT: the size of a score or lex window. */
function countCommand(client: Client, args: string[], kind: RangeKind): void {
  const bounds = parseBounds(kind, args[2]!, args[3]!);
  const set = getSortedSet(client, args[1]!);
  const [first, last] = set === undefined ? [0, -1] : rankWindow(set, bounds);
  client.reply.integer(Math.max(0, last - first + 1));
}

/** ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX: delete a window. */
function removeRangeCommand(client: Client, args: string[], kind: RangeKind): void {
  const bounds = parseBounds(kind, args[2]!, args[3]!);
  const key = args[1]!;
  const set = getSortedSet(client, key);
  let removed = 0;
  if (set !== undefined) {
    const [first, last] = rankWindow(set, bounds);
    if (first <= last) {
      for (const [member] of set.range(first, last)) set.delete(member);
      removed = last - first + 1;
      client.changed(key, `zremrangeby${kind}`, "z");
      deleteIfEmpty(client, key, set.size);
    }
  }
  client.reply.integer(removed);
}

// ---------------------------------------------------------------------------
// Pops: ZPOPMIN, ZPOPMAX, ZMPOP, BZPOPMIN, BZPOPMAX, BZMPOP

type PopEnd = "min" | "max";

/** The reply shapes of Redis's genericZpopCommand. */
interface PopShape {
  /** BZPOPMIN, ZMPOP: the key comes first. */
  withKey: boolean;
  /** Elements as [member, score] pairs (ZMPOP; ZPOPMIN with a count in RESP3). */
  nested: boolean;
}

/** BZPOPMIN and BZPOPMAX: [key, member, score] in both protocols. */
const BLOCKING_POP_SHAPE: PopShape = { withKey: true, nested: false };
/** ZMPOP and BZMPOP: [key, [[member, score], ...]] in both protocols. */
const MULTI_POP_SHAPE: PopShape = { withKey: true, nested: true };

/**
 * The first of `keys` that exists, with its sorted set; WRONGTYPE when the
 * first that exists holds another type (later keys are not looked at).
 */
function firstSortedSet(client: Client, keys: readonly string[]): [string, SortedSet] | undefined {
  for (const key of keys) {
    const set = getSortedSet(client, key);
    if (set !== undefined) return [key, set];
  }
  return undefined;
}

/**
 * Pops up to `count` elements from the `end` of `set` (at `key`), replies
 * in `shape`, and records the change (one event, plus `del` when emptied).
 * Returns how many it popped.
 */
function popCommand(
  client: Client,
  key: string,
  set: SortedSet,
  end: PopEnd,
  count: number,
  shape: PopShape,
): number {
  const popped = Math.min(count, set.size);
  const entries: Entry[] = [];
  for (let i = 0; i < popped; i++) entries.push(end === "min" ? set.popMin()! : set.popMax()!);
  client.changed(key, end === "min" ? "zpopmin" : "zpopmax", "z");
  deleteIfEmpty(client, key, set.size);
  const reply = client.reply;
  if (shape.withKey) {
    reply.arrayHeader(shape.nested ? 2 : popped * 2 + 1);
    reply.bulk(key);
  }
  if (shape.withKey && !shape.nested) {
    for (const [member, score] of entries) {
      reply.bulk(member);
      reply.double(score);
    }
  } else {
    replyEntries(client, popped, entries, true, shape.nested);
  }
  return popped;
}

/**
 * What a ZMPOP or blocking pop is logged as: ZPOPMIN/ZPOPMAX key, with the
 * number of elements it took when it was given a count (Redis 7.0 logs
 * `ZMPOP 1 z MIN COUNT 10` on a set of 3 as `ZPOPMIN z 3`).
 */
function popEffect(end: PopEnd, key: string, popped: number | undefined): string[] {
  const name = end === "min" ? "ZPOPMIN" : "ZPOPMAX";
  return popped === undefined ? [name, key] : [name, key, String(popped)];
}

/** ZPOPMIN and ZPOPMAX key [count]; a count (even 1) nests pairs in RESP3. */
function zpop(client: Client, args: string[], end: PopEnd): void {
  if (args.length > 3) throw new CommandError(SYNTAX_ERROR);
  let count: number | undefined;
  if (args.length === 3) {
    count = parseInteger(args[2]!);
    if (count === undefined || count < 0) throw new CommandError(NOT_POSITIVE);
  }
  const found = firstSortedSet(client, [args[1]!]);
  if (found === undefined || count === 0) {
    client.reply.arrayHeader(0);
    return;
  }
  const shape = { withKey: false, nested: count !== undefined && client.protocol === 3 };
  popCommand(client, found[0], found[1], end, count ?? 1, shape);
}

/** ZMPOP/BZMPOP's `numkeys key... MIN|MAX [COUNT count]` from `numkeysIndex`. */
interface MultiPop {
  keys: string[];
  end: PopEnd;
  count: number;
}

function parseMultiPop(cursor: ArgumentCursor): MultiPop {
  const numkeys = cursor.integer(NUMKEYS_NOT_POSITIVE);
  if (numkeys < 1) throw new CommandError(NUMKEYS_NOT_POSITIVE);
  if (numkeys >= cursor.remaining) throw new CommandError(SYNTAX_ERROR);
  const keys: string[] = [];
  for (let i = 0; i < numkeys; i++) keys.push(cursor.key());
  const where = cursor.accept("MIN", "MAX");
  if (where === undefined) throw new CommandError(SYNTAX_ERROR);
  let count: number | undefined;
  while (cursor.hasMore()) {
    if (count !== undefined || cursor.keyword() !== "COUNT" || !cursor.hasMore()) {
      throw new CommandError(SYNTAX_ERROR);
    }
    count = cursor.integer(COUNT_NOT_POSITIVE);
    if (count < 1) throw new CommandError(COUNT_NOT_POSITIVE);
  }
  return { keys, end: where === "MIN" ? "min" : "max", count: count ?? 1 };
}

function zmpop(client: Client, args: string[]): void {
  const { keys, end, count } = parseMultiPop(new ArgumentCursor(args));
  const found = firstSortedSet(client, keys);
  if (found === undefined) {
    client.reply.nullArray();
    return;
  }
  const popped = popCommand(client, found[0], found[1], end, count, MULTI_POP_SHAPE);
  client.addEffect(popEffect(end, found[0], popped));
}

/**
 * BZPOPMIN/BZPOPMAX (`count` undefined) and BZMPOP: pop now if a key has
 * elements, otherwise wait for one (a null array on timeout). Served or
 * not, the effect is logged as the ZPOPMIN/ZPOPMAX it performed.
 */
function blockingPop(
  client: Client,
  keys: readonly string[],
  end: PopEnd,
  count: number | undefined,
  deadline: number,
  shape: PopShape,
): void {
  const found = firstSortedSet(client, keys);
  if (found !== undefined) {
    const popped = popCommand(client, found[0], found[1], end, count ?? 1, shape);
    client.addEffect(popEffect(end, found[0], count === undefined ? undefined : popped));
    return;
  }
  blockClient(client, keys, deadline, (waiter, key) => {
    const set = waiter.db.lookup(key);
    if (!(set instanceof SortedSet)) return false;
    const popped = popCommand(waiter, key, set, end, count ?? 1, shape);
    waiter.addEffect(popEffect(end, key, count === undefined ? undefined : popped));
    return true;
  });
}

function bzpop(client: Client, args: string[], end: PopEnd): void {
  const deadline = parseTimeout(client, args[args.length - 1]!);
  blockingPop(client, args.slice(1, -1), end, undefined, deadline, BLOCKING_POP_SHAPE);
}

function bzmpop(client: Client, args: string[]): void {
  const cursor = new ArgumentCursor(args);
  const timeout = cursor.next();
  const { keys, end, count } = parseMultiPop(cursor);
  const deadline = parseTimeout(client, timeout);
  blockingPop(client, keys, end, count, deadline, MULTI_POP_SHAPE);
}

// ---------------------------------------------------------------------------
// ZRANDMEMBER

/**
 * ZRANDMEMBER key [count [WITHSCORES]]. Without a count: one member or a
 * null. A positive count returns distinct members (the whole set, highest
 * score first, when it has no more than that); a negative one returns that
 * many independent picks.
 */
function zrandmember(client: Client, args: string[]): void {
  const cursor = new ArgumentCursor(args);
  const key = cursor.key();
  if (!cursor.hasMore()) {
    const set = getSortedSet(client, key);
    if (set === undefined) client.reply.nullBulk();
    else client.reply.bulk(set.at(randomIndex(set.size))![0]);
    return;
  }
  const countText = cursor.next();
  const count = requireInteger(countText);
  const exactCount = Number.isSafeInteger(count) ? BigInt(count) : parseInt64(countText)!;
  if (exactCount === INT64_MIN) throw new CommandError(RANDOM_COUNT_RANGE);
  const withScores = cursor.accept("WITHSCORES") !== undefined;
  cursor.finish();
  if (
    withScores && (exactCount < -RANDOM_WITHSCORES_LIMIT || exactCount > RANDOM_WITHSCORES_LIMIT)
  ) {
    throw new CommandError(VALUE_OUT_OF_RANGE);
  }
  const set = getSortedSet(client, key);
  if (set === undefined || count === 0) {
    client.reply.arrayHeader(0);
    return;
  }
  if (count < 0 || count === 1) {
    const picks = Math.abs(count);
    // A reply no larger than the set itself needs no check; beyond that the
    // reply costs more than this scan of the members.
    if (picks > set.size) {
      let bytes = 0;
      for (const member of set.members()) bytes += member.length;
      if (picks * (bytes / set.size + RANDOM_PICK_OVERHEAD) > MAX_RANDOM_REPLY_BYTES) {
        throw new CommandError(RANDOM_REPLY_TOO_LARGE);
      }
    }
    replyEntries(client, picks, randomPicks(set, picks), withScores);
    return;
  }
  // The whole set comes from the top down, as Redis's iterator walks it.
  const entries = count >= set.size
    ? [...set].reverse()
    : distinctRanks(set.size, count).map((rank) => set.at(rank)!);
  replyEntries(client, entries.length, entries, withScores);
}

/** `picks` elements chosen independently (with repetition). */
function* randomPicks(set: SortedSet, picks: number): IterableIterator<Entry> {
  for (let i = 0; i < picks; i++) yield set.at(randomIndex(set.size))!;
}

/** `count` distinct ranks below `size` (count < size), uniformly, in random order. */
function distinctRanks(size: number, count: number): number[] {
  if (count * 3 > size) {
    // Close to the whole set: a partial Fisher-Yates shuffle of every rank.
    const ranks = Array.from({ length: size }, (_, rank) => rank);
    for (let i = 0; i < count; i++) {
      const j = i + randomIndex(size - i);
      [ranks[i], ranks[j]] = [ranks[j]!, ranks[i]!];
    }
    ranks.length = count;
    return ranks;
  }
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(randomIndex(size));
  return [...chosen];
}

// ---------------------------------------------------------------------------
// Union, intersection, difference

type SetOperation = "union" | "inter" | "diff";
type Aggregate = "sum" | "min" | "max";
/** What an algebra command does with its result. */
type CombineOutput = "reply" | "store" | "cardinality";

/** One input: a sorted set, a set (every member scoring 1), or a missing key. */
interface Source {
  readonly value: SortedSet | SetValue | undefined;
  weight: number;
}

function sourceSize(source: Source): number {
  return source.value?.size ?? 0;
}

function* sourceEntries(value: SortedSet | SetValue): IterableIterator<Entry> {
  if (value instanceof SortedSet) yield* value;
  else for (const member of value) yield [member, 1];
}

function sourceScore(value: SortedSet | SetValue, member: string): number | undefined {
  if (value instanceof SortedSet) return value.score(member);
  return value.has(member) ? 1 : undefined;
}

/** `score` weighted, a NaN product (0 * inf) counting as 0. */
function weighted(score: number, weight: number): number {
  const product = score * weight;
  return Number.isNaN(product) ? 0 : product;
}

/**
 * Folds `value` into `total`. A sum of opposite infinities is 0; MIN and
 * MAX keep `total` when `value` is NaN, as Redis's comparisons do.
 */
function aggregateScores(total: number, value: number, aggregate: Aggregate): number {
  if (aggregate === "sum") {
    const sum = total + value;
    return Number.isNaN(sum) ? 0 : sum;
  }
  if (aggregate === "min") return value < total ? value : total;
  return value > total ? value : total;
}

/**
 * Members in every source (sorted smallest first), at most `limit` (0: no
 * limit). Walks the smallest source and probes the others.
 */
function intersect(sources: readonly Source[], aggregate: Aggregate, limit: number): Entry[] {
  const first = sources[0]!;
  if (first.value === undefined || first.value.size === 0) return [];
  const result: Entry[] = [];
  for (const [member, score] of sourceEntries(first.value)) {
    let total = weighted(score, first.weight);
    let everywhere = true;
    for (let i = 1; i < sources.length && everywhere; i++) {
      const other = sources[i]!;
      // The same key twice: its score is known (Redis avoids probing the set it walks).
      const value = other.value === first.value ? score : sourceScore(other.value!, member);
      if (value === undefined) everywhere = false;
      else total = aggregateScores(total, value * other.weight, aggregate);
    }
    if (!everywhere) continue;
    result.push([member, total]);
    if (result.length === limit) break;
  }
  return result;
}

/** Members of any source, with their weighted scores folded in source order. */
function unite(sources: readonly Source[], aggregate: Aggregate): Entry[] {
  const totals = new Map<string, number>();
  for (const source of sources) {
    if (source.value === undefined) continue;
    for (const [member, score] of sourceEntries(source.value)) {
      const value = weighted(score, source.weight);
      const total = totals.get(member);
      totals.set(member, total === undefined ? value : aggregateScores(total, value, aggregate));
    }
  }
  return [...totals];
}

/** Members of the first source in no other, with their scores (no weights). */
function subtract(sources: readonly Source[]): Entry[] {
  const first = sources[0]!.value;
  if (first === undefined) return [];
  const others = sources.slice(1).map((source) => source.value).filter((value) =>
    value !== undefined && value.size > 0
  ) as (SortedSet | SetValue)[];
  const result: Entry[] = [];
  for (const entry of sourceEntries(first)) {
    if (!others.some((other) => sourceScore(other, entry[0]) !== undefined)) result.push(entry);
  }
  return result;
}

/**
 * ZUNION/ZINTER/ZDIFF numkeys key... [WEIGHTS w...] [AGGREGATE SUM|MIN|MAX]
 * [WITHSCORES], their STORE forms (destination first, no WITHSCORES) and
 * ZINTERCARD numkeys key... [LIMIT limit], as Redis's
 * zunionInterDiffGenericCommand: numkeys, then every key's type (so
 * WRONGTYPE wins over a bad option), then the options.
 */
function combineCommand(
  client: Client,
  args: string[],
  operation: SetOperation,
  output: CombineOutput,
): void {
  const cursor = new ArgumentCursor(args, output === "store" ? 2 : 1);
  const numkeys = cursor.integer();
  if (numkeys < 1) throw new CommandError(noInputKeys(args[0]!.toLowerCase()));
  if (numkeys > cursor.remaining) throw new CommandError(SYNTAX_ERROR);
  const sources: Source[] = [];
  for (let i = 0; i < numkeys; i++) {
    const value = lookupRead(client, cursor.key());
    if (value !== undefined && !(value instanceof SortedSet) && !(value instanceof Set)) {
      throw new CommandError(WRONG_TYPE);
    }
    sources.push({ value, weight: 1 });
  }

  let aggregate: Aggregate = "sum";
  let withScores = false;
  let limit = 0;
  const scored = operation !== "diff" && output !== "cardinality";
  while (cursor.hasMore()) {
    const option = cursor.keyword();
    // Counting the option itself, as Redis does.
    const remaining = cursor.remaining + 1;
    if (scored && option === "WEIGHTS" && remaining > numkeys) {
      for (const source of sources) source.weight = cursor.double(WEIGHT_NOT_FLOAT);
    } else if (scored && option === "AGGREGATE" && remaining >= 2) {
      const name = cursor.next().toLowerCase();
      if (name !== "sum" && name !== "min" && name !== "max") throw new CommandError(SYNTAX_ERROR);
      aggregate = name;
    } else if (output === "reply" && option === "WITHSCORES") {
      withScores = true;
    } else if (output === "cardinality" && option === "LIMIT" && remaining >= 2) {
      limit = cursor.integer(LIMIT_NEGATIVE);
      if (limit < 0) throw new CommandError(LIMIT_NEGATIVE);
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }

  // Smallest first, as Redis orders them (stable, like glibc's qsort here);
  // the difference keeps its first key first.
  if (operation !== "diff") sources.sort((a, b) => sourceSize(a) - sourceSize(b));
  if (output === "cardinality") {
    client.reply.integer(intersect(sources, aggregate, limit).length);
    return;
  }
  const entries = operation === "union"
    ? unite(sources, aggregate)
    : operation === "inter"
    ? intersect(sources, aggregate, 0)
    : subtract(sources);
  entries.sort(compareEntries);
  if (output === "store") storeResult(client, args[1]!, entries, `z${operation}store`);
  else replyEntries(client, entries.length, entries, withScores);
}

// ---------------------------------------------------------------------------
// The table

export const sortedSetCommands = [
  command({
    name: "zadd",
    arity: -4,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => addCommand(client, args, false),
  }),
  command({
    name: "zincrby",
    arity: 4,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RW", "ACCESS", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => addCommand(client, args, true),
  }),
  command({
    name: "zrem",
    arity: -3,
    flags: ["write", "fast"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RW", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: zrem,
  }),
  command({
    name: "zcard",
    arity: 2,
    flags: ["readonly", "fast"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RO"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => client.reply.integer(getSortedSet(client, args[1]!)?.size ?? 0),
  }),
  command({
    name: "zscore",
    arity: 3,
    flags: ["readonly", "fast"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: zscore,
  }),
  command({
    name: "zmscore",
    arity: -3,
    flags: ["readonly", "fast"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: zmscore,
  }),
  command({
    name: "zcount",
    arity: 4,
    flags: ["readonly", "fast"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => countCommand(client, args, "score"),
  }),
  command({
    name: "zlexcount",
    arity: 4,
    flags: ["readonly", "fast"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => countCommand(client, args, "lex"),
  }),
  command({
    name: "zrank",
    arity: 3,
    flags: ["readonly", "fast"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => rankCommand(client, args, false),
  }),
  command({
    name: "zrevrank",
    arity: 3,
    flags: ["readonly", "fast"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => rankCommand(client, args, true),
  }),
  command({
    name: "zrange",
    arity: -4,
    flags: ["readonly"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => rangeCommand(client, args, { keyIndex: 1, store: false }),
  }),
  command({
    name: "zrangestore",
    arity: -5,
    flags: ["write", "denyoom"],
    aclCategories: ["sortedset"],
    keySpecs: [
      { flags: ["OW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } },
      { flags: ["RO", "ACCESS"], begin: { index: 2 }, find: { lastKey: 0 } },
    ],
    handler: (client, args) => rangeCommand(client, args, { keyIndex: 2, store: true }),
  }),
  command({
    name: "zrevrange",
    arity: -4,
    flags: ["readonly"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) =>
      rangeCommand(client, args, { keyIndex: 1, store: false, kind: "rank", reverse: true }),
  }),
  command({
    name: "zrangebyscore",
    arity: -4,
    flags: ["readonly"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) =>
      rangeCommand(client, args, { keyIndex: 1, store: false, kind: "score", reverse: false }),
  }),
  command({
    name: "zrevrangebyscore",
    arity: -4,
    flags: ["readonly"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) =>
      rangeCommand(client, args, { keyIndex: 1, store: false, kind: "score", reverse: true }),
  }),
  command({
    name: "zrangebylex",
    arity: -4,
    flags: ["readonly"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) =>
      rangeCommand(client, args, { keyIndex: 1, store: false, kind: "lex", reverse: false }),
  }),
  command({
    name: "zrevrangebylex",
    arity: -4,
    flags: ["readonly"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) =>
      rangeCommand(client, args, { keyIndex: 1, store: false, kind: "lex", reverse: true }),
  }),
  command({
    name: "zremrangebyrank",
    arity: 4,
    flags: ["write"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RW", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => removeRangeCommand(client, args, "rank"),
  }),
  command({
    name: "zremrangebyscore",
    arity: 4,
    flags: ["write"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RW", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => removeRangeCommand(client, args, "score"),
  }),
  command({
    name: "zremrangebylex",
    arity: 4,
    flags: ["write"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RW", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => removeRangeCommand(client, args, "lex"),
  }),
  command({
    name: "zpopmin",
    arity: -2,
    flags: ["write", "fast"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RW", "ACCESS", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => zpop(client, args, "min"),
  }),
  command({
    name: "zpopmax",
    arity: -2,
    flags: ["write", "fast"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RW", "ACCESS", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => zpop(client, args, "max"),
  }),
  command({
    name: "bzpopmin",
    arity: -3,
    flags: ["write", "noscript", "blocking", "fast"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RW", "ACCESS", "DELETE"], begin: { index: 1 }, find: { lastKey: -2 } }],
    propagation: "effects",
    handler: (client, args) => bzpop(client, args, "min"),
  }),
  command({
    name: "bzpopmax",
    arity: -3,
    flags: ["write", "noscript", "blocking", "fast"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RW", "ACCESS", "DELETE"], begin: { index: 1 }, find: { lastKey: -2 } }],
    propagation: "effects",
    handler: (client, args) => bzpop(client, args, "max"),
  }),
  command({
    name: "zmpop",
    arity: -4,
    flags: ["write"],
    aclCategories: ["sortedset"],
    keySpecs: [
      {
        flags: ["RW", "ACCESS", "DELETE"],
        begin: { index: 1 },
        find: { keyNumIndex: 0, firstKey: 1 },
      },
    ],
    propagation: "effects",
    keyFinder: numkeysKeyFinder(0, 1, 2),
    handler: zmpop,
  }),
  command({
    name: "bzmpop",
    arity: -5,
    flags: ["write", "blocking"],
    aclCategories: ["sortedset"],
    keySpecs: [
      {
        flags: ["RW", "ACCESS", "DELETE"],
        begin: { index: 2 },
        find: { keyNumIndex: 0, firstKey: 1 },
      },
    ],
    propagation: "effects",
    keyFinder: numkeysKeyFinder(0, 2, 3),
    handler: bzmpop,
  }),
  command({
    name: "zrandmember",
    arity: -2,
    flags: ["readonly"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: zrandmember,
  }),
  command({
    name: "zunion",
    arity: -3,
    flags: ["readonly"],
    aclCategories: ["sortedset"],
    keySpecs: [
      { flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { keyNumIndex: 0, firstKey: 1 } },
    ],
    keyFinder: numkeysKeyFinder(0, 1, 2),
    handler: (client, args) => combineCommand(client, args, "union", "reply"),
  }),
  command({
    name: "zinter",
    arity: -3,
    flags: ["readonly"],
    aclCategories: ["sortedset"],
    keySpecs: [
      { flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { keyNumIndex: 0, firstKey: 1 } },
    ],
    keyFinder: numkeysKeyFinder(0, 1, 2),
    handler: (client, args) => combineCommand(client, args, "inter", "reply"),
  }),
  command({
    name: "zdiff",
    arity: -3,
    flags: ["readonly"],
    aclCategories: ["sortedset"],
    keySpecs: [
      { flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { keyNumIndex: 0, firstKey: 1 } },
    ],
    keyFinder: numkeysKeyFinder(0, 1, 2),
    handler: (client, args) => combineCommand(client, args, "diff", "reply"),
  }),
  command({
    name: "zunionstore",
    arity: -4,
    flags: ["write", "denyoom"],
    aclCategories: ["sortedset"],
    keySpecs: [
      { flags: ["OW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } },
      { flags: ["RO", "ACCESS"], begin: { index: 2 }, find: { keyNumIndex: 0, firstKey: 1 } },
    ],
    keyFinder: numkeysKeyFinder(1, 2, 3),
    handler: (client, args) => combineCommand(client, args, "union", "store"),
  }),
  command({
    name: "zinterstore",
    arity: -4,
    flags: ["write", "denyoom"],
    aclCategories: ["sortedset"],
    keySpecs: [
      { flags: ["OW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } },
      { flags: ["RO", "ACCESS"], begin: { index: 2 }, find: { keyNumIndex: 0, firstKey: 1 } },
    ],
    keyFinder: numkeysKeyFinder(1, 2, 3),
    handler: (client, args) => combineCommand(client, args, "inter", "store"),
  }),
  command({
    name: "zdiffstore",
    arity: -4,
    flags: ["write", "denyoom"],
    aclCategories: ["sortedset"],
    keySpecs: [
      { flags: ["OW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } },
      { flags: ["RO", "ACCESS"], begin: { index: 2 }, find: { keyNumIndex: 0, firstKey: 1 } },
    ],
    keyFinder: numkeysKeyFinder(1, 2, 3),
    handler: (client, args) => combineCommand(client, args, "diff", "store"),
  }),
  command({
    name: "zintercard",
    arity: -3,
    flags: ["readonly"],
    aclCategories: ["sortedset"],
    keySpecs: [
      { flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { keyNumIndex: 0, firstKey: 1 } },
    ],
    keyFinder: numkeysKeyFinder(0, 1, 2),
    handler: (client, args) => combineCommand(client, args, "inter", "cardinality"),
  }),
  command({
    name: "zscan",
    arity: -3,
    flags: ["readonly"],
    aclCategories: ["sortedset"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => scanCollection(client, args, getSortedSet),
  }),
];
