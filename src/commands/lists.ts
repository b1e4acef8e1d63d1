/**
 * List commands: pushes and pops at both ends (LPUSH, RPUSH, LPUSHX,
 * RPUSHX, LPOP, RPOP, LMPOP), access by index (LLEN, LINDEX, LSET, LRANGE,
 * LTRIM), search and edit in the middle (LPOS, LREM, LINSERT), moves between
 * lists (LMOVE, RPOPLPUSH), and the blocking forms (BLPOP, BRPOP, BLMPOP,
 * BLMOVE, BRPOPLPUSH).
 *
 * Lists are Deques (store/deque.ts), quicklists of packed nodes as Redis's:
 * both ends are O(1), an index is found by walking nodes from the nearer
 * end, as in Redis. Pushes pass the live `list-max-listpack-size`, which
 * sizes the nodes. Searches (LPOS, LREM, LINSERT) walk the list once with
 * its iterators rather than by index.
 *
 * The blocking commands are their non-blocking forms plus a wait. Each pop
 * is one function that pops, replies and returns the command that replays
 * its effect (BLPOP → `LPOP key`, BLMPOP → `LPOP key count`, BLMOVE →
 * `LMOVE ...`), which is recorded as the command's effect whether it runs at
 * once or for a blocked client later (see blocking.ts), so a served client
 * and an immediate one cannot behave differently.
 *
 * Checks happen in Redis's order (argument syntax, then key types, then
 * values), since the first failing check decides which error a client sees.
 *
 * @module
 */

import type { Client } from "./client.ts";
import { Deque } from "../store/deque.ts";
import type { ListValue } from "../store/values.ts";
import { ArgumentCursor, requireInteger } from "./arguments.ts";
import { deleteIfEmpty, getList } from "./access.ts";
import { blockClient, blockingAllowed, parseTimeout } from "./blocking.ts";
import {
  CommandError,
  COUNT_NEGATIVE,
  COUNT_NOT_POSITIVE,
  INDEX_OUT_OF_RANGE,
  MAXLEN_NEGATIVE,
  NO_SUCH_KEY,
  NOT_POSITIVE,
  NUMKEYS_NOT_POSITIVE,
  RANK_ZERO,
  SYNTAX_ERROR,
  wrongArity,
} from "./errors.ts";
import { command, numkeysKeyFinder } from "./table.ts";

/** LONG_MIN: as a RANK, Redis cannot negate it (see lpos). */
const INT64_MIN = -(2 ** 63);

/** An end of a list, spelled as LMOVE's arguments spell it. */
type End = "LEFT" | "RIGHT";

const newList = (): ListValue => new Deque();

/** LEFT or RIGHT in any case, else a syntax error. */
function parseEnd(text: string): End {
  const end = text.toUpperCase();
  if (end !== "LEFT" && end !== "RIGHT") throw new CommandError(SYNTAX_ERROR);
  return end;
}

function pushAt(client: Client, list: ListValue, end: End, value: string): void {
  if (end === "LEFT") list.pushFront(value, client.server.config);
  else list.pushBack(value, client.server.config);
}

function popAt(list: ListValue, end: End): string {
  return (end === "LEFT" ? list.popFront() : list.popBack())!;
}

const pushEvent = (end: End) => end === "LEFT" ? "lpush" : "rpush";
const popEvent = (end: End) => end === "LEFT" ? "lpop" : "rpop";
const popCommandName = (end: End) => end === "LEFT" ? "LPOP" : "RPOP";

/**
 * The non-empty list at `key` for a blocked client, or undefined: a missing
 * key or one of another type keeps it waiting rather than failing it.
 */
function nonEmptyList(client: Client, key: string): ListValue | undefined {
  const value = client.db.lookup(key);
  return value instanceof Deque && value.length > 0 ? value : undefined;
}

// ---------------------------------------------------------------------------
// Pushes and pops

/** LPUSH, RPUSH, and with `onlyIfExists` LPUSHX and RPUSHX. */
function push(client: Client, args: string[], end: End, onlyIfExists: boolean): void {
  const key = args[1]!;
  let list = getList(client, key);
  if (list === undefined) {
    if (onlyIfExists) {
      client.reply.integer(0);
      return;
    }
    list = newList();
    client.db.set(key, list);
  }
  const limits = client.server.config;
  if (end === "LEFT") { for (let i = 2; i < args.length; i++) list.pushFront(args[i]!, limits); }
  else for (let i = 2; i < args.length; i++) list.pushBack(args[i]!, limits);
  // A batch is packed now, in one copy of the end node; single pushes pile up first.
  if (args.length > 3) list.settle();
  client.changed(key, pushEvent(end), "l");
  client.reply.integer(list.length);
}

/**
 * Reports elements popped from `end` of the list at `key` (the "lpop" or
 * "rpop" event), deleting the key if that emptied it.
 */
function reportPopped(client: Client, key: string, list: ListValue, end: End): void {
  client.changed(key, popEvent(end), "l");
  deleteIfEmpty(client, key, list.length);
}

/** Pops up to `count` elements from `end`, replying them as an array; returns how many. */
function popElements(client: Client, list: ListValue, end: End, count: number): number {
  const popped = Math.min(count, list.length);
  client.reply.arrayHeader(popped);
  for (let i = 0; i < popped; i++) client.reply.bulk(popAt(list, end));
  return popped;
}

/** LPOP/RPOP key [count]: one bulk string without count, an array with it. */
function pop(client: Client, args: string[], end: End): void {
  if (args.length > 3) throw new CommandError(wrongArity(args[0]!.toLowerCase()));
  const count = args.length === 3 ? requireInteger(args[2]!, NOT_POSITIVE) : undefined;
  if (count !== undefined && count < 0) throw new CommandError(NOT_POSITIVE);
  const key = args[1]!;
  const list = getList(client, key);
  if (list === undefined) {
    if (count === undefined) client.reply.nullBulk();
    else client.reply.nullArray();
    return;
  }
  if (count === undefined) client.reply.bulk(popAt(list, end));
  // A count of 0 changes nothing, so it reports nothing either.
  else if (popElements(client, list, end, count) === 0) return;
  reportPopped(client, key, list, end);
}

/**
 * Pops one element from `end` of the non-empty list at `key` and replies
 * `[key, element]` (BLPOP/BRPOP). Returns the command replaying it.
 */
function popWithKey(client: Client, key: string, list: ListValue, end: End): string[] {
  client.reply.arrayHeader(2);
  client.reply.bulk(key);
  client.reply.bulk(popAt(list, end));
  reportPopped(client, key, list, end);
  return [popCommandName(end), key];
}

/**
 * Pops up to `count` elements from `end` of the non-empty list at `key` and
 * replies `[key, [elements]]` (LMPOP/BLMPOP). Returns the command replaying it.
 */
function popRangeWithKey(
  client: Client,
  key: string,
  list: ListValue,
  end: End,
  count: number,
): string[] {
  client.reply.arrayHeader(2);
  client.reply.bulk(key);
  const popped = popElements(client, list, end, count);
  reportPopped(client, key, list, end);
  return [popCommandName(end), key, String(popped)];
}

/**
 * Pops from `from` of the non-empty list at `source`, pushes to `to` of the
 * list at `destination` (created if missing) and replies the element
 * (LMOVE, RPOPLPUSH and their blocking forms). The destination's type is
 * checked before anything changes.
 */
function moveElement(
  client: Client,
  source: string,
  list: ListValue,
  destination: string,
  from: End,
  to: End,
): void {
  // Looked up before the pop: a one-element list rotating onto itself stays.
  let target = getList(client, destination);
  const value = popAt(list, from);
  if (target === undefined) {
    target = newList();
    client.db.set(destination, target);
  }
  pushAt(client, target, to, value);
  client.changed(destination, pushEvent(to), "l");
  reportPopped(client, source, list, from);
  client.reply.bulk(value);
}

/** LMOVE source destination LEFT|RIGHT LEFT|RIGHT, and RPOPLPUSH. */
function move(client: Client, args: string[], from: End, to: End): void {
  const source = args[1]!;
  const list = getList(client, source);
  if (list === undefined) {
    client.reply.nullBulk();
    return;
  }
  moveElement(client, source, list, args[2]!, from, to);
}

/** LMPOP's and BLMPOP's arguments after the timeout. */
interface MultiPop {
  keys: string[];
  end: End;
  count: number;
}

/** Parses `numkeys key [key ...] LEFT|RIGHT [COUNT count]` at `cursor`. */
function parseMultiPop(cursor: ArgumentCursor): MultiPop {
  const numkeys = cursor.integer(NUMKEYS_NOT_POSITIVE);
  if (numkeys < 1) throw new CommandError(NUMKEYS_NOT_POSITIVE);
  if (numkeys >= cursor.remaining) throw new CommandError(SYNTAX_ERROR);
  const keys: string[] = [];
  for (let i = 0; i < numkeys; i++) keys.push(cursor.key());
  const end = parseEnd(cursor.next());
  let count: number | undefined;
  while (cursor.hasMore()) {
    if (count !== undefined || cursor.keyword() !== "COUNT" || !cursor.hasMore()) {
      throw new CommandError(SYNTAX_ERROR);
    }
    count = cursor.integer(COUNT_NOT_POSITIVE);
    if (count < 1) throw new CommandError(COUNT_NOT_POSITIVE);
  }
  return { keys, end, count: count ?? 1 };
}

/**
 * The first of `keys` holding a non-empty list, checking types in order
 * (a WRONGTYPE key before it fails the command), or undefined.
 */
function firstNonEmpty(client: Client, keys: readonly string[]): [string, ListValue] | undefined {
  for (const key of keys) {
    const list = getList(client, key);
    if (list !== undefined && list.length > 0) return [key, list];
  }
  return undefined;
}

/** LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]. */
function lmpop(client: Client, args: string[]): void {
  const { keys, end, count } = parseMultiPop(new ArgumentCursor(args));
  const found = firstNonEmpty(client, keys);
  if (found === undefined) {
    client.reply.nullArray();
    return;
  }
  client.addEffect(popRangeWithKey(client, found[0], found[1], end, count));
}

// ---------------------------------------------------------------------------
// Blocking forms

/**
 * The blocking pops: pop from the first non-empty list now, or wait for one.
 * `serve` pops from a non-empty list, replies, and returns the command that
 * replays its effect, whether the client waited or not.
 */
function popOrBlock(
  client: Client,
  keys: readonly string[],
  deadline: number,
  serve: (client: Client, key: string, list: ListValue) => string[],
): void {
  const found = firstNonEmpty(client, keys);
  if (found !== undefined) {
    client.addEffect(serve(client, found[0], found[1]));
    return;
  }
  blockClient(client, keys, deadline, (waiter, key) => {
    const list = nonEmptyList(waiter, key);
    if (list === undefined) return false;
    waiter.addEffect(serve(waiter, key, list));
    return true;
  });
}

/** BLPOP/BRPOP key [key ...] timeout. */
function blockingPop(client: Client, args: string[], end: End): void {
  const deadline = parseTimeout(client, args[args.length - 1]!);
  popOrBlock(
    client,
    args.slice(1, -1),
    deadline,
    (target, key, list) => popWithKey(target, key, list, end),
  );
}

/** BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]. */
function blmpop(client: Client, args: string[]): void {
  const cursor = new ArgumentCursor(args);
  const timeout = cursor.next();
  const { keys, end, count } = parseMultiPop(cursor);
  const deadline = parseTimeout(client, timeout);
  popOrBlock(
    client,
    keys,
    deadline,
    (target, key, list) => popRangeWithKey(target, key, list, end, count),
  );
}

/**
 * BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout and BRPOPLPUSH
 * source destination timeout; `replay` is the non-blocking command logged.
 */
function blockingMove(
  client: Client,
  args: string[],
  from: End,
  to: End,
  replay: string[],
): void {
  const deadline = parseTimeout(client, args[args.length - 1]!);
  const [, source, destination] = args as [string, string, string];
  const list = getList(client, source);
  if (list !== undefined) {
    moveElement(client, source, list, destination, from, to);
    client.addEffect(replay);
    return;
  }
  // Unable to wait, BLMOVE answers as LMOVE would, not as a timeout.
  if (!blockingAllowed(client)) {
    client.reply.nullBulk();
    return;
  }
  blockClient(client, [source], deadline, (waiter, key) => {
    const ready = nonEmptyList(waiter, key);
    if (ready === undefined) return false;
    moveElement(waiter, source, ready, destination, from, to);
    waiter.addEffect(replay);
    return true;
  });
}

// ---------------------------------------------------------------------------
// Access by index

function llen(client: Client, args: string[]): void {
  client.reply.integer(getList(client, args[1]!)?.length ?? 0);
}

/** An index counted from the end when negative, as LINDEX and LSET take it. */
function absoluteIndex(list: ListValue, text: string): number {
  const index = requireInteger(text);
  return index < 0 ? list.length + index : index;
}

function lindex(client: Client, args: string[]): void {
  const list = getList(client, args[1]!);
  const value = list === undefined ? undefined : list.at(absoluteIndex(list, args[2]!));
  if (value === undefined) client.reply.nullBulk();
  else client.reply.bulk(value);
}

function lset(client: Client, args: string[]): void {
  const key = args[1]!;
  const list = getList(client, key);
  if (list === undefined) throw new CommandError(NO_SUCH_KEY);
  const index = absoluteIndex(list, args[2]!);
  if (index < 0 || index >= list.length) throw new CommandError(INDEX_OUT_OF_RANGE);
  list.set(index, args[3]!);
  client.changed(key, "lset", "l");
  client.reply.ok();
}

/**
 * Redis's range rule for LRANGE and LTRIM: negative indexes count from the
 * end, then the range is clamped; undefined when it selects nothing.
 */
function clampRange(length: number, start: number, stop: number): [number, number] | undefined {
  if (start < 0) start += length;
  if (stop < 0) stop += length;
  if (start < 0) start = 0;
  if (start > stop || start >= length) return undefined;
  return [start, Math.min(stop, length - 1)];
}

function lrange(client: Client, args: string[]): void {
  const start = requireInteger(args[2]!);
  const stop = requireInteger(args[3]!);
  const list = getList(client, args[1]!);
  const range = list === undefined ? undefined : clampRange(list.length, start, stop);
  const reply = client.reply;
  if (range === undefined) {
    reply.arrayHeader(0);
    return;
  }
  reply.arrayHeader(range[1] - range[0] + 1);
  list!.visit(range[0], range[1], (source, from, to) => reply.bulkSlice(source, from, to));
}

function ltrim(client: Client, args: string[]): void {
  const start = requireInteger(args[2]!);
  const stop = requireInteger(args[3]!);
  const key = args[1]!;
  const list = getList(client, key);
  if (list !== undefined) {
    const length = list.length;
    const range = clampRange(length, start, stop) ?? [length, length - 1];
    list.trim(range[0], range[1]);
    if (list.length !== length) {
      client.changed(key, "ltrim", "l");
      deleteIfEmpty(client, key, list.length);
    }
  }
  client.reply.ok();
}

// ---------------------------------------------------------------------------
// Search and edit in the middle

function linsert(client: Client, args: string[]): void {
  const where = args[2]!.toUpperCase();
  if (where !== "BEFORE" && where !== "AFTER") throw new CommandError(SYNTAX_ERROR);
  const key = args[1]!;
  const list = getList(client, key);
  if (list === undefined) {
    client.reply.integer(0);
    return;
  }
  const pivot = args[3]!;
  let index = 0;
  for (const value of list) {
    if (value === pivot) break;
    index++;
  }
  if (index === list.length) {
    client.reply.integer(-1);
    return;
  }
  list.insert(where === "BEFORE" ? index : index + 1, args[4]!, client.server.config);
  client.changed(key, "linsert", "l");
  client.reply.integer(list.length);
}

/**
 * LREM key count element: removes the first `count` occurrences (from the
 * tail when negative, all when 0) in one pass over the list.
 */
function lrem(client: Client, args: string[]): void {
  const count = requireInteger(args[2]!);
  const key = args[1]!;
  const list = getList(client, key);
  if (list === undefined) {
    client.reply.integer(0);
    return;
  }
  const element = args[3]!;
  // Matches between `first` and `last` (inclusive) are the ones removed.
  let first = 0;
  let last = list.length - 1;
  if (count !== 0) {
    const step = count > 0 ? 1 : -1;
    let found = 0;
    let index = count > 0 ? 0 : list.length - 1;
    for (const value of count > 0 ? list : list.reversed()) {
      if (value === element && ++found === Math.abs(count)) break;
      index += step;
    }
    if (count > 0) last = index;
    else first = index;
  }
  const length = list.length;
  list.retain((value, index) => value !== element || index < first || index > last);
  const removedCount = length - list.length;
  if (removedCount > 0) {
    client.changed(key, "lrem", "l");
    deleteIfEmpty(client, key, list.length);
  }
  client.reply.integer(removedCount);
}

/** LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]. */
function lpos(client: Client, args: string[]): void {
  let rank = 1;
  let count: number | undefined;
  let maxlen = 0;
  const cursor = new ArgumentCursor(args);
  const key = cursor.key();
  const element = cursor.next();
  while (cursor.hasMore()) {
    const option = cursor.keyword();
    if (!cursor.hasMore()) throw new CommandError(SYNTAX_ERROR);
    if (option === "RANK") {
      rank = cursor.integer();
      if (rank === 0) throw new CommandError(RANK_ZERO);
    } else if (option === "COUNT") {
      count = cursor.integer(COUNT_NEGATIVE);
      if (count < 0) throw new CommandError(COUNT_NEGATIVE);
    } else if (option === "MAXLEN") {
      maxlen = cursor.integer(MAXLEN_NEGATIVE);
      if (maxlen < 0) throw new CommandError(MAXLEN_NEGATIVE);
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  const list = getList(client, key);
  const reply = client.reply;
  if (list === undefined) {
    if (count === undefined) reply.nullBulk();
    else reply.arrayHeader(0);
    return;
  }
  const fromTail = rank < 0;
  // Redis negates a negative rank; LONG_MIN stays negative, so every match
  // qualifies and COUNT's stop test overflows and never ends the scan.
  const overflowed = rank === INT64_MIN;
  const skip = overflowed ? 0 : Math.abs(rank) - 1;
  const limit = maxlen === 0 ? list.length : Math.min(maxlen, list.length);
  const positions: number[] = [];
  let matches = 0;
  let scanned = 0;
  for (const value of fromTail ? list.reversed() : list) {
    if (scanned === limit) break;
    const index = fromTail ? list.length - 1 - scanned : scanned;
    scanned++;
    if (value !== element || ++matches <= skip) continue;
    positions.push(index);
    if (count === undefined || (count !== 0 && !overflowed && positions.length === count)) break;
  }
  if (count !== undefined) {
    reply.arrayHeader(positions.length);
    for (const position of positions) reply.integer(position);
  } else if (positions.length === 0) {
    reply.nullBulk();
  } else {
    reply.integer(positions[0]!);
  }
}

// ---------------------------------------------------------------------------
// The table

export const listCommands = [
  command({
    name: "lpush",
    arity: -3,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["list"],
    keySpecs: [{ flags: ["RW", "INSERT"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => push(client, args, "LEFT", false),
  }),
  command({
    name: "rpush",
    arity: -3,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["list"],
    keySpecs: [{ flags: ["RW", "INSERT"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => push(client, args, "RIGHT", false),
  }),
  command({
    name: "lpushx",
    arity: -3,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["list"],
    keySpecs: [{ flags: ["RW", "INSERT"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => push(client, args, "LEFT", true),
  }),
  command({
    name: "rpushx",
    arity: -3,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["list"],
    keySpecs: [{ flags: ["RW", "INSERT"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => push(client, args, "RIGHT", true),
  }),
  command({
    name: "lpop",
    arity: -2,
    flags: ["write", "fast"],
    aclCategories: ["list"],
    keySpecs: [{ flags: ["RW", "ACCESS", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => pop(client, args, "LEFT"),
  }),
  command({
    name: "rpop",
    arity: -2,
    flags: ["write", "fast"],
    aclCategories: ["list"],
    keySpecs: [{ flags: ["RW", "ACCESS", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => pop(client, args, "RIGHT"),
  }),
  command({
    name: "lmpop",
    arity: -4,
    flags: ["write"],
    aclCategories: ["list"],
    keySpecs: [
      {
        flags: ["RW", "ACCESS", "DELETE"],
        begin: { index: 1 },
        find: { keyNumIndex: 0, firstKey: 1 },
      },
    ],
    propagation: "effects",
    keyFinder: numkeysKeyFinder(0, 1, 2),
    handler: lmpop,
  }),
  command({
    name: "llen",
    arity: 2,
    flags: ["readonly", "fast"],
    aclCategories: ["list"],
    keySpecs: [{ flags: ["RO"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: llen,
  }),
  command({
    name: "lrange",
    arity: 4,
    flags: ["readonly"],
    aclCategories: ["list"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: lrange,
  }),
  command({
    name: "lindex",
    arity: 3,
    flags: ["readonly"],
    aclCategories: ["list"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: lindex,
  }),
  command({
    name: "lset",
    arity: 4,
    flags: ["write", "denyoom"],
    aclCategories: ["list"],
    keySpecs: [{ flags: ["RW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: lset,
  }),
  command({
    name: "lrem",
    arity: 4,
    flags: ["write"],
    aclCategories: ["list"],
    keySpecs: [{ flags: ["RW", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: lrem,
  }),
  command({
    name: "ltrim",
    arity: 4,
    flags: ["write"],
    aclCategories: ["list"],
    keySpecs: [{ flags: ["RW", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: ltrim,
  }),
  command({
    name: "linsert",
    arity: 5,
    flags: ["write", "denyoom"],
    aclCategories: ["list"],
    keySpecs: [{ flags: ["RW", "INSERT"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: linsert,
  }),
  command({
    name: "lpos",
    arity: -3,
    flags: ["readonly"],
    aclCategories: ["list"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: lpos,
  }),
  command({
    name: "lmove",
    arity: 5,
    flags: ["write", "denyoom"],
    aclCategories: ["list"],
    keySpecs: [
      { flags: ["RW", "ACCESS", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } },
      { flags: ["RW", "INSERT"], begin: { index: 2 }, find: { lastKey: 0 } },
    ],
    handler: (client, args) => move(client, args, parseEnd(args[3]!), parseEnd(args[4]!)),
  }),
  command({
    name: "rpoplpush",
    arity: 3,
    flags: ["write", "denyoom"],
    aclCategories: ["list"],
    keySpecs: [
      { flags: ["RW", "ACCESS", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } },
      { flags: ["RW", "INSERT"], begin: { index: 2 }, find: { lastKey: 0 } },
    ],
    handler: (client, args) => move(client, args, "RIGHT", "LEFT"),
  }),
  command({
    name: "blpop",
    arity: -3,
    flags: ["write", "noscript", "blocking"],
    aclCategories: ["list"],
    keySpecs: [{ flags: ["RW", "ACCESS", "DELETE"], begin: { index: 1 }, find: { lastKey: -2 } }],
    propagation: "effects",
    handler: (client, args) => blockingPop(client, args, "LEFT"),
  }),
  command({
    name: "brpop",
    arity: -3,
    flags: ["write", "noscript", "blocking"],
    aclCategories: ["list"],
    keySpecs: [{ flags: ["RW", "ACCESS", "DELETE"], begin: { index: 1 }, find: { lastKey: -2 } }],
    propagation: "effects",
    handler: (client, args) => blockingPop(client, args, "RIGHT"),
  }),
  command({
    name: "blmpop",
    arity: -5,
    flags: ["write", "blocking"],
    aclCategories: ["list"],
    keySpecs: [
      {
        flags: ["RW", "ACCESS", "DELETE"],
        begin: { index: 2 },
        find: { keyNumIndex: 0, firstKey: 1 },
      },
    ],
    propagation: "effects",
    keyFinder: numkeysKeyFinder(0, 2, 3),
    handler: blmpop,
  }),
  command({
    name: "blmove",
    arity: 6,
    flags: ["write", "denyoom", "noscript", "blocking"],
    aclCategories: ["list"],
    keySpecs: [
      { flags: ["RW", "ACCESS", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } },
      { flags: ["RW", "INSERT"], begin: { index: 2 }, find: { lastKey: 0 } },
    ],
    propagation: "effects",
    handler: (client, args) => {
      const from = parseEnd(args[3]!);
      const to = parseEnd(args[4]!);
      blockingMove(client, args, from, to, ["LMOVE", args[1]!, args[2]!, from, to]);
    },
  }),
  command({
    name: "brpoplpush",
    arity: 4,
    flags: ["write", "denyoom", "noscript", "blocking"],
    aclCategories: ["list"],
    keySpecs: [
      { flags: ["RW", "ACCESS", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } },
      { flags: ["RW", "INSERT"], begin: { index: 2 }, find: { lastKey: 0 } },
    ],
    propagation: "effects",
    handler: (client, args) =>
      blockingMove(client, args, "RIGHT", "LEFT", ["RPOPLPUSH", args[1]!, args[2]!]),
  }),
];
