/**
 * The cursor machinery of SCAN, SSCAN, HSCAN and ZSCAN.
 *
 * Redis promises two things of a full iteration (from cursor 0 until the
 * server answers cursor 0 again): every element present for the whole
 * iteration is returned at least once, and each call does bounded work.
 * Elements added or removed meanwhile may or may not be returned, and an
 * element may be returned more than once. Redis gets this from the shape of
 * its hash tables (the cursor is a bucket index walked in reverse-binary
 * order); our collections are JavaScript Maps and Sets, which have no bucket
 * a client could name.
 *
 * What they have instead is an iterator that survives modification: a Map
 * or Set iterator visits entries in insertion order, skips entries deleted
 * before it reaches them and visits entries added behind it. An element
 * present throughout is therefore visited exactly once, which is the
 * guarantee. So a walk is a live iterator kept on the server, and the
 * cursor a client holds is the name of that walk:
 *
 * - Cursor 0 starts a walk. A call visits COUNT elements (filtering by MATCH
 *   and TYPE afterwards, as Redis does, so a call may return fewer), then
 *   takes one more as a look-ahead: if there is none the reply carries
 *   cursor 0 and nothing is kept; otherwise the walk is parked in the
 *   server's registry under a fresh random cursor id (1..2^53-1, so any
 *   client can parse it as a 64-bit integer) and the look-ahead element is
 *   the first one the next call considers (re-checking that it still exists).
 * - A cursor is used once: resuming removes it from the registry and the
 *   reply names a new one. A repeated cursor (a client retrying after a lost
 *   reply) therefore starts over rather than silently continuing past the
 *   batch that was lost. Any connection may continue a walk.
 * - The registry keeps at most `MAX_PARKED_WALKS` walks per server and drops
 *   walks idle for `WALK_IDLE_MS`; abandoned iterations (a client that stops
 *   after the first batch) cost nothing for long. A walk also remembers what
 *   it walks (the Set, Map or database), so a cursor sent for another key,
 *   another database, or a key deleted and recreated is not resumed.
 * - An unknown cursor (evicted, reused, from before a restart, or made up)
 *   starts the walk again from the beginning. That keeps the guarantee at
 *   the price of duplicates, which the SCAN contract allows; the other
 *   choice, resuming at a position encoded in the cursor, would be cheaper
 *   but could skip elements when earlier ones were deleted meanwhile, which
 *   the contract does not allow. (A walk restarted again and again, because
 *   more than `MAX_PARKED_WALKS` others are parked between two of its calls,
 *   would not end; Redis's own guarantee of termination has a similar
 *   proviso about the collection's size.)
 *
 * The cost is O(1) memory per parked walk (an iterator parked while its
 * collection was resized does keep the old table alive until it moves on or
 * is dropped). Sorted sets are the exception: their ordered structure does
 * not survive modification the way a Map iterator does, and SortedSet does
 * not expose its member Map, so a ZSCAN walk of a big sorted set starts from
 * a snapshot of the member names (O(n) once per iteration, one pointer per
 * member) and checks that each member still exists when it comes to it.
 *
 * Small collections answer in one call with cursor 0, ignoring COUNT, as
 * Redis does for its compact encodings (listpack hashes and sorted sets, as
 * their families track them, and intsets of at most 512 integers),
 * so replies for them match Redis's byte for byte when the orders agree.
 *
 * Commands use it as `scanKeyspace(client, args)` (SCAN) and
 * `scanCollection(client, args, getHash)` (SSCAN/HSCAN/ZSCAN with the
 * matching typed lookup from access.ts).
 *
 * @module
 */

import { formatDouble } from "../protocol/doubles.ts";
import type { Client } from "./client.ts";
import { globMatch } from "../store/glob.ts";
import { Hash } from "../store/hash.ts";
import { MemberSet } from "../store/set.ts";
import type { SortedSet } from "../store/sorted_set.ts";
import { type HashValue, type SetValue, typeOf } from "../store/values.ts";
import { ArgumentCursor } from "./arguments.ts";
import { CommandError, INVALID_CURSOR, SYNTAX_ERROR } from "./errors.ts";

/** Elements a call visits when COUNT is not given. */
const DEFAULT_COUNT = 10;
/** Parked walks kept per server; the least recently used go first. */
const MAX_PARKED_WALKS = 1024;
/** A walk nobody resumed for this long is dropped. */
const WALK_IDLE_MS = 10 * 60 * 1000;
/** Cursor ids are below this (2^53), so every client parses them exactly. */
const CURSOR_ID_LIMIT = Number.MAX_SAFE_INTEGER;
const UINT64_LIMIT = 1n << 64n;

/** What SSCAN, HSCAN and ZSCAN iterate. */
export type ScannableCollection = SetValue | HashValue | SortedSet;

/** Finds the collection at a key, throwing WRONGTYPE (getSet, getHash, getSortedSet). */
export type CollectionLookup = (
  client: Client,
  key: string,
) => ScannableCollection | undefined;

/**
 * Parses a cursor as Redis's parseScanCursorOrReply does (strtoul, base 10):
 * an optional sign, digits, nothing around them (no blanks), at most
 * 2^64-1; a negative cursor wraps around and the empty string is 0. Returns
 * the cursor as canonical decimal text ("0" starts an iteration).
 *
 * @example
 * ```ts
 * parseCursor("007"); // "7"
 * parseCursor("-1"); // "18446744073709551615"
 * parseCursor("1x"); // throws "ERR invalid cursor"
 * ```
 */
export function parseCursor(text: string): string {
  // strtoul stops at a NUL byte, so Redis ignores whatever follows one.
  const nul = text.indexOf("\0");
  const cut = nul < 0 ? text : text.slice(0, nul);
  const match = /^([+-]?)(\d*)$/.exec(cut);
  if (match === null || (match[1] !== "" && match[2] === "")) {
    throw new CommandError(INVALID_CURSOR);
  }
  const digits = match[2]!;
  if (digits.length <= 15) {
    const value = digits === "" ? 0 : Number(digits);
    if (match[1] !== "-" || value === 0) return String(value);
  }
  const value = BigInt(digits);
  if (value >= UINT64_LIMIT) throw new CommandError(INVALID_CURSOR);
  return String(match[1] === "-" && value !== 0n ? UINT64_LIMIT - value : value);
}

/** The options every SCAN-family command takes after the cursor. */
export interface ScanOptions {
  /** Elements to visit per call (COUNT), at least 1. */
  count: number;
  /** MATCH pattern, undefined when absent or `*`. */
  pattern: string | undefined;
  /** TYPE filter in lower case (SCAN only), undefined when absent. */
  type: string | undefined;
}

/**
 * Parses `[MATCH pattern] [COUNT count] [TYPE type]` from `args[start]` on,
 * in any order, later ones winning. TYPE is accepted only when `allowType`
 * (SCAN). Errors are Redis's: an unknown option or a missing value is a
 * syntax error, a non-integer COUNT is "not an integer", a COUNT below 1 is
 * a syntax error.
 */
export function parseScanOptions(
  args: readonly string[],
  start: number,
  allowType: boolean,
): ScanOptions {
  const options: ScanOptions = { count: DEFAULT_COUNT, pattern: undefined, type: undefined };
  const cursor = new ArgumentCursor(args, start);
  while (cursor.hasMore()) {
    const keyword = cursor.keyword();
    if (keyword === "COUNT") {
      options.count = cursor.integer();
      if (options.count < 1) throw new CommandError(SYNTAX_ERROR);
    } else if (keyword === "MATCH") {
      const pattern = cursor.next();
      options.pattern = pattern === "*" ? undefined : pattern;
    } else if (keyword === "TYPE" && allowType) {
      options.type = cursor.next().toLowerCase();
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  return options;
}

/**
 * SCAN over the client's database: `args` is `[SCAN, cursor, ...options]`.
 * Expired keys are removed as they are met and never returned.
 */
export function scanKeyspace(client: Client, args: string[]): void {
  const cursor = parseCursor(args[1]!);
  const { count, pattern, type } = parseScanOptions(args, 2, true);
  const db = client.db;
  const found: string[] = [];
  const next = walk(client, db.entries, () => db.entries.keys(), cursor, count, (key) => {
    if (pattern !== undefined && !globMatch(pattern, key)) return;
    const value = db.peek(key);
    if (value === undefined) return;
    if (type !== undefined && typeOf(value) !== type) return;
    found.push(key);
  });
  replyScan(client, next, found);
}

/**
 * SSCAN, HSCAN and ZSCAN: `args` is `[name, key, cursor, ...options]` and
 * `lookup` the typed lookup for the command's type. As in Redis, the cursor
 * is checked first, then the key (WRONGTYPE; a missing key answers an empty
 * scan without looking at the options), then the options. Hashes reply
 * field, value, ...; sorted sets member, score, ... with scores as bulk
 * strings in both protocols.
 */
export function scanCollection(client: Client, args: string[], lookup: CollectionLookup): void {
  const cursor = parseCursor(args[2]!);
  const collection = lookup(client, args[1]!);
  if (collection === undefined) {
    replyScan(client, "0", []);
    return;
  }
  const { count, pattern } = parseScanOptions(args, 3, false);
  const found: string[] = [];
  const matches = (name: string) => pattern === undefined || globMatch(pattern, name);
  let next: string;
  if (collection instanceof MemberSet) {
    const visit = (member: string) => {
      if (matches(member) && collection.has(member)) found.push(member);
    };
    next = collection.encoding === "intset"
      ? walkAll(collection.values(), visit)
      : walk(client, collection, () => collection.values(), cursor, count, visit);
  } else if (collection instanceof Hash) {
    const visit = (field: string) => {
      const value = collection.get(field);
      if (value !== undefined && matches(field)) found.push(field, value);
    };
    next = collection.encoding === "listpack"
      ? walkAll(collection.keys(), visit)
      : walk(client, collection, () => collection.keys(), cursor, count, visit);
  } else {
    const compact = collection.encoding === "listpack";
    const visit = (member: string) => {
      const score = collection.score(member);
      if (score !== undefined && matches(member)) found.push(member, scoreText(score, compact));
    };
    next = compact ? walkAll(collection.members(), visit) : walk(
      client,
      collection,
      () => Array.from(collection.members()).values(),
      cursor,
      count,
      visit,
    );
  }
  replyScan(client, next, found);
}

/**
 * A sorted-set score as ZSCAN prints it: %.17g, except that a listpack keeps
 * -0 as "0" (Redis stores listpack scores as text).
 */
function scoreText(score: number, compact: boolean): string {
  return compact && score === 0 ? "0" : formatDouble(score);
}

function replyScan(client: Client, cursor: string, found: readonly string[]): void {
  client.reply.arrayHeader(2);
  client.reply.bulk(cursor);
  client.reply.bulkArray(found);
}

/** Visits every name at once: the reply's cursor is "0". */
function walkAll(names: Iterator<string>, visit: (name: string) => void): string {
  for (let next = names.next(); !next.done; next = names.next()) visit(next.value);
  return "0";
}

/**
 * One call of an iteration over `over`: resumes the walk `cursor` names (or
 * starts one with `begin` for cursor 0 or an unknown cursor), passes up to
 * `count` names to `visit`, and returns the cursor of the rest ("0" when
 * nothing is left). `visit` must check that the name still exists: the
 * look-ahead name was taken during an earlier call.
 */
function walk(
  client: Client,
  over: object,
  begin: () => Iterator<string>,
  cursor: string,
  count: number,
  visit: (name: string) => void,
): string {
  const registry = client.server.scanCursors;
  const resumed = cursor === "0" ? undefined : registry.resume(cursor, over);
  const names = resumed?.names ?? begin();
  let visited = 0;
  if (resumed !== undefined) {
    visit(resumed.lookahead);
    visited++;
  }
  for (; visited < count; visited++) {
    const next = names.next();
    if (next.done) return "0";
    visit(next.value);
  }
  const lookahead = names.next();
  if (lookahead.done) return "0";
  return registry.park(
    { over, names, lookahead: lookahead.value, lastUsedAt: 0 },
    client.server.keyspace.clock.now(),
  );
}

/** An iteration between two calls. */
interface ParkedWalk {
  /** The collection (or database entry Map) being walked. */
  readonly over: object;
  readonly names: Iterator<string>;
  /** Taken from `names` to learn whether the walk was over; not yet visited. */
  readonly lookahead: string;
  lastUsedAt: number;
}

/** The walks of one server, by cursor id, least recently parked first. */
export class ScanCursors {
  readonly #walks = new Map<string, ParkedWalk>();

  /** Removes and returns the walk `cursor` names, if it walks `over`. */
  resume(cursor: string, over: object): ParkedWalk | undefined {
    const parked = this.#walks.get(cursor);
    if (parked === undefined) return undefined;
    this.#walks.delete(cursor);
    return parked.over === over ? parked : undefined;
  }

  /** Keeps `parked` under a new cursor id, which it returns. */
  park(parked: ParkedWalk, now: number): string {
    for (const [cursor, oldest] of this.#walks) {
      if (this.#walks.size < MAX_PARKED_WALKS && now - oldest.lastUsedAt < WALK_IDLE_MS) break;
      this.#walks.delete(cursor);
    }
    let cursor: string;
    do {
      cursor = String(1 + Math.floor(Math.random() * (CURSOR_ID_LIMIT - 1)));
    } while (this.#walks.has(cursor));
    parked.lastUsedAt = now;
    this.#walks.set(cursor, parked);
    return cursor;
  }
}
