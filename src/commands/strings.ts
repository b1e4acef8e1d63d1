/**
 * String commands: GET, SET and the rest of Redis's string family (SETNX,
 * SETEX, PSETEX, GETSET, GETDEL, GETEX, MGET, MSET, MSETNX, APPEND, STRLEN,
 * the INCR/DECR counters, INCRBYFLOAT, GETRANGE/SUBSTR, SETRANGE, LCS).
 *
 * GET and SET are the hottest paths of the server: GET is one Map lookup
 * plus a bulk reply, and SET without options is one Map write; option
 * parsing only runs when options are present. Likewise INCR on counters
 * that fit a double exactly never touches BigInt; only values near the
 * 64-bit limits take the exact path.
 *
 * Related commands share one implementation, as they do in Redis: SET,
 * SETNX, SETEX and PSETEX store through `storeString`; SET and GETEX parse
 * their options with one parser and one expiry-time check, so conflicts
 * and error texts agree; MSET/MSETNX, INCR/DECR/INCRBY/DECRBY and
 * GETRANGE/SUBSTR are one function each.
 *
 * What goes to the AOF is always deterministic: relative expiry times are
 * logged as absolute ones (`SET k v PXAT ms`, `PEXPIREAT`), and
 * INCRBYFLOAT as the `SET ... KEEPTTL` of its result, computed with the
 * same long double arithmetic Redis uses (see protocol/long_double.ts).
 *
 * @module
 */

import type { Client } from "./client.ts";
import { bytesToBinary } from "../protocol/binary.ts";
import {
  addLongDoubles,
  formatLongDouble,
  isFiniteLongDouble,
  parseLongDouble,
} from "../protocol/long_double.ts";
import { MAX_BULK_LENGTH } from "../protocol/parser.ts";
import {
  ArgumentCursor,
  fitsInt64,
  parseInt64,
  parseInteger,
  requireInteger,
} from "./arguments.ts";
import { getString, getStringForWrite, lookupRead } from "./access.ts";
import {
  CommandError,
  DECREMENT_OVERFLOW,
  invalidExpireTime,
  LCS_LEN_AND_IDX,
  LCS_TOO_MUCH_MEMORY,
  LCS_WRONG_TYPE,
  NOT_FLOAT,
  NOT_INTEGER,
  OFFSET_OUT_OF_RANGE,
  OVERFLOW,
  RESULT_NOT_FINITE,
  STRING_TOO_LONG,
  SYNTAX_ERROR,
  wrongArity,
} from "./errors.ts";
import { alreadyExpired } from "./expire.ts";
import { isStringValue, stringContent } from "../store/values.ts";
import { command, type KeyFinder } from "./table.ts";

const INT64_MAX = 9223372036854775807;
const INT64_MIN_BIG = -9223372036854775808n;
/**
 * The longest string V8 can hold (String::kMaxLength), 24 bytes short of
 * proto-max-bulk-len: strings between the two are refused, unlike in Redis.
 */
const MAX_STRING_LENGTH = 2 ** 29 - 24;
const LONG_DOUBLE_ZERO = parseLongDouble("0")!;

/** Fails with Redis's error when a command would build a string of `length` bytes. */
export function ensureStringFits(length: number, error = STRING_TOO_LONG): void {
  if (length > MAX_BULK_LENGTH || length > MAX_STRING_LENGTH) throw new CommandError(error);
}

function replyStringOrNull(client: Client, value: string | undefined): void {
  if (value === undefined) client.reply.nullBulk();
  else client.reply.bulk(value);
}

function get(client: Client, args: string[]): void {
  const value = getString(client, args[1]!);
  if (value === undefined) client.reply.nullBulk();
  else client.reply.bulk(value);
}

type ExpireUnit = "EX" | "PX" | "EXAT" | "PXAT";

/** Options of SET and GETEX, which Redis parses with one function. */
interface StringOptions {
  nx: boolean;
  xx: boolean;
  get: boolean;
  keepTtl: boolean;
  persist: boolean;
  expireUnit: ExpireUnit | undefined;
  /** The argument after the expire unit, validated by `expireDeadline`. */
  expireText: string;
}

/** How SETNX, SETEX and PSETEX store: what SET does without options. */
const PLAIN_STORE = { nx: false, xx: false, keepTtl: false } as const;
const STORE_IF_ABSENT = { nx: true, xx: false, keepTtl: false } as const;

function isExpireUnit(option: string): option is ExpireUnit {
  return option === "EX" || option === "PX" || option === "EXAT" || option === "PXAT";
}

/**
 * Parses the options left at `cursor` with Redis's rules: NX, XX, GET and
 * KEEPTTL only for SET, PERSIST only for GETEX; one expiry unit, which may
 * repeat (the last value wins) but not mix with another unit, KEEPTTL or
 * PERSIST.
 */
function parseStringOptions(cursor: ArgumentCursor, forSet: boolean): StringOptions {
  const options: StringOptions = {
    nx: false,
    xx: false,
    get: false,
    keepTtl: false,
    persist: false,
    expireUnit: undefined,
    expireText: "",
  };
  while (cursor.hasMore()) {
    const option = cursor.keyword();
    const unit = options.expireUnit;
    if (forSet && option === "NX" && !options.xx) options.nx = true;
    else if (forSet && option === "XX" && !options.nx) options.xx = true;
    else if (forSet && option === "GET") options.get = true;
    else if (forSet && option === "KEEPTTL" && unit === undefined) options.keepTtl = true;
    else if (!forSet && option === "PERSIST" && unit === undefined) options.persist = true;
    else if (
      isExpireUnit(option) && (unit === undefined || unit === option) && !options.keepTtl &&
      !options.persist && cursor.hasMore()
    ) {
      options.expireUnit = option;
      options.expireText = cursor.next();
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  return options;
}

/**
 * The absolute deadline in ms that an expiry option asks for, with Redis's
 * checks: positive, and no overflow once converted and made absolute.
 */
function expireDeadline(
  client: Client,
  unit: ExpireUnit,
  text: string,
  commandName: string,
): number {
  let milliseconds = requireInteger(text);
  const inSeconds = unit === "EX" || unit === "EXAT";
  if (milliseconds <= 0 || (inSeconds && milliseconds > INT64_MAX / 1000)) {
    throw new CommandError(invalidExpireTime(commandName));
  }
  if (inSeconds) milliseconds *= 1000;
  if (unit === "EX" || unit === "PX") milliseconds += client.server.keyspace.clock.now();
  if (milliseconds > INT64_MAX) throw new CommandError(invalidExpireTime(commandName));
  return milliseconds;
}

/**
 * Stores `value` at `key` as SET does, honouring NX/XX and KEEPTTL, and
 * sets `deadline` (logged as `SET key value PXAT deadline`). Returns false
 * when NX or XX prevented the write.
 */
function storeString(
  client: Client,
  key: string,
  value: string,
  options: { readonly nx: boolean; readonly xx: boolean; readonly keepTtl: boolean },
  deadline: number | undefined,
): boolean {
  const db = client.db;
  const found = db.has(key);
  if ((options.nx && found) || (options.xx && !found)) return false;
  db.set(key, value, options.keepTtl);
  client.changed(key, "set", "$");
  if (deadline !== undefined) {
    // A deadline already past (EXAT in the past) expires on the next access, as in Redis.
    db.setExpireAt(key, deadline);
    client.addEffect(["SET", key, value, "PXAT", String(deadline)]);
    client.changed(key, "expire", "g");
  }
  return true;
}

function set(client: Client, args: string[]): void {
  const key = args[1]!;
  const value = args[2]!;
  const db = client.db;
  if (args.length === 3) {
    db.set(key, value);
    client.changed(key, "set", "$");
    client.addEffect(args);
    client.reply.ok();
    return;
  }
  const options = parseStringOptions(new ArgumentCursor(args, 3), true);
  const deadline = options.expireUnit === undefined
    ? undefined
    : expireDeadline(client, options.expireUnit, options.expireText, "set");
  let previous: string | undefined;
  if (options.get) previous = getString(client, key);
  const stored = storeString(client, key, value, options, deadline);
  if (stored && deadline === undefined) {
    // GET changes nothing, so a replay does not need it.
    client.addEffect(
      options.get ? args.filter((arg, i) => i < 3 || arg.toUpperCase() !== "GET") : args,
    );
  }
  if (options.get) {
    replyStringOrNull(client, previous);
  } else if (stored) {
    client.reply.ok();
  } else {
    client.reply.nullBulk();
  }
}

function setnx(client: Client, args: string[]): void {
  const stored = storeString(client, args[1]!, args[2]!, STORE_IF_ABSENT, undefined);
  client.reply.integer(stored ? 1 : 0);
}

/** SETEX and PSETEX: SET with a relative expiry in `unit`. */
function setWithExpiry(client: Client, args: string[], unit: "EX" | "PX"): void {
  const deadline = expireDeadline(client, unit, args[2]!, unit === "EX" ? "setex" : "psetex");
  storeString(client, args[1]!, args[3]!, PLAIN_STORE, deadline);
  client.reply.ok();
}

function getset(client: Client, args: string[]): void {
  const key = args[1]!;
  const value = args[2]!;
  const previous = getString(client, key);
  client.db.set(key, value);
  client.changed(key, "set", "$");
  client.addEffect(["SET", key, value]);
  replyStringOrNull(client, previous);
}

function getdel(client: Client, args: string[]): void {
  const key = args[1]!;
  const value = getString(client, key);
  if (value !== undefined) {
    client.db.delete(key);
    client.addEffect(["DEL", key]);
    client.changed(key, "del", "g");
  }
  replyStringOrNull(client, value);
}

/**
 * GETEX: the value, then the expiry change, logged as PEXPIREAT (or DEL
 * for an absolute time already past, or PERSIST). A missing key answers
 * null before the expiry value is even checked, as in Redis.
 */
function getex(client: Client, args: string[]): void {
  const cursor = new ArgumentCursor(args);
  const key = cursor.key();
  const options = parseStringOptions(cursor, false);
  const value = getString(client, key);
  if (value === undefined) {
    client.reply.nullBulk();
    return;
  }
  const unit = options.expireUnit;
  const deadline = unit === undefined
    ? undefined
    : expireDeadline(client, unit, options.expireText, "getex");
  client.reply.bulk(value);
  const db = client.db;
  if (deadline !== undefined) {
    if ((unit === "EXAT" || unit === "PXAT") && alreadyExpired(client, deadline)) {
      db.delete(key);
      client.addEffect(["DEL", key]);
      client.changed(key, "del", "g");
    } else {
      db.setExpireAt(key, deadline);
      client.addEffect(["PEXPIREAT", key, String(deadline)]);
      client.changed(key, "expire", "g");
    }
  } else if (options.persist && db.persist(key)) {
    client.addEffect(["PERSIST", key]);
    client.changed(key, "persist", "g");
  }
}

function mget(client: Client, args: string[]): void {
  client.reply.arrayHeader(args.length - 1);
  for (let i = 1; i < args.length; i++) {
    const value = lookupRead(client, args[i]!);
    if (typeof value === "string") client.reply.bulk(value);
    else if (value !== undefined && isStringValue(value)) client.reply.bulk(stringContent(value));
    else client.reply.nullBulk();
  }
}

/** MSET and MSETNX (which sets nothing, and answers 0, if any key exists). */
function msetGeneric(client: Client, args: string[], onlyIfNoneExists: boolean): void {
  if (args.length % 2 === 0) {
    throw new CommandError(wrongArity(onlyIfNoneExists ? "msetnx" : "mset"));
  }
  const db = client.db;
  if (onlyIfNoneExists) {
    for (let i = 1; i < args.length; i += 2) {
      if (db.has(args[i]!)) {
        client.reply.integer(0);
        return;
      }
    }
  }
  for (let i = 1; i < args.length; i += 2) {
    db.set(args[i]!, args[i + 1]!);
    client.changed(args[i]!, "set", "$");
  }
  if (onlyIfNoneExists) client.reply.integer(1);
  else client.reply.ok();
}

function append(client: Client, args: string[]): void {
  const key = args[1]!;
  const suffix = args[2]!;
  const current = getStringForWrite(client, key);
  let updated = suffix;
  if (current !== undefined) {
    ensureStringFits(current.length + suffix.length);
    updated = current + suffix;
  }
  client.db.set(key, updated, true);
  client.changed(key, "append", "$");
  client.reply.integer(updated.length);
}

function strlen(client: Client, args: string[]): void {
  client.reply.integer(getString(client, args[1]!)?.length ?? 0);
}

/** An INCRBY/DECRBY amount: a number when exact as one, else a bigint. */
function parseIncrement(text: string): number | bigint {
  const increment = parseInteger(text);
  if (increment === undefined) throw new CommandError(NOT_INTEGER);
  return Number.isSafeInteger(increment) ? increment : parseInt64(text)!;
}

/**
 * INCR, DECR, INCRBY, DECRBY: adds `increment` to the 64-bit counter at
 * `key` (0 when missing), keeping its TTL. Doubles are exact up to 2^53,
 * so only sums beyond that (or operands that are) go through BigInt.
 */
function incrementCounter(client: Client, key: string, increment: number | bigint): void {
  const current = getStringForWrite(client, key);
  let result = increment;
  if (current !== undefined) {
    const value = parseInteger(current);
    if (value === undefined) throw new CommandError(NOT_INTEGER);
    const sum = typeof increment === "number" ? value + increment : NaN;
    if (Number.isSafeInteger(value) && Number.isSafeInteger(sum)) {
      result = sum;
    } else {
      const exact = BigInt(current) + BigInt(increment);
      if (!fitsInt64(exact)) throw new CommandError(OVERFLOW);
      result = exact;
    }
  }
  client.db.set(key, String(result), true);
  client.changed(key, "incrby", "$");
  client.reply.integer(result);
}

function decrby(client: Client, args: string[]): void {
  const decrement = parseIncrement(args[2]!);
  if (decrement === INT64_MIN_BIG) throw new CommandError(DECREMENT_OVERFLOW);
  incrementCounter(client, args[1]!, -decrement);
}

/**
 * INCRBYFLOAT in long double precision, printed as Redis 7.0 prints it;
 * logged as `SET key result KEEPTTL` so replaying never recomputes it.
 */
function incrbyfloat(client: Client, args: string[]): void {
  const key = args[1]!;
  const current = getStringForWrite(client, key);
  const value = current === undefined ? LONG_DOUBLE_ZERO : parseLongDouble(current);
  const increment = parseLongDouble(args[2]!);
  if (value === undefined || increment === undefined) throw new CommandError(NOT_FLOAT);
  const sum = addLongDoubles(value, increment);
  if (!isFiniteLongDouble(sum)) throw new CommandError(RESULT_NOT_FINITE);
  const text = formatLongDouble(sum);
  client.db.set(key, text, true);
  client.changed(key, "incrbyfloat", "$");
  client.addEffect(["SET", key, text, "KEEPTTL"]);
  client.reply.bulk(text);
}

/** GETRANGE and SUBSTR: inclusive byte range, negative indexes from the end. */
function getrange(client: Client, args: string[]): void {
  let start = requireInteger(args[2]!);
  let end = requireInteger(args[3]!);
  const value = getString(client, args[1]!);
  if (value === undefined || (start < 0 && end < 0 && start > end)) {
    client.reply.bulk("");
    return;
  }
  const length = value.length;
  if (start < 0) start = Math.max(0, length + start);
  if (end < 0) end = Math.max(0, length + end);
  if (end >= length) end = length - 1;
  client.reply.bulk(start > end ? "" : value.slice(start, end + 1));
}

function setrange(client: Client, args: string[]): void {
  const key = args[1]!;
  const patch = args[3]!;
  const offset = requireInteger(args[2]!);
  if (offset < 0) throw new CommandError(OFFSET_OUT_OF_RANGE);
  const current = getStringForWrite(client, key);
  if (patch.length === 0) {
    client.reply.integer(current?.length ?? 0);
    return;
  }
  ensureStringFits(offset + patch.length);
  let base = current ?? "";
  if (base.length < offset) base += "\0".repeat(offset - base.length);
  const updated = base.slice(0, offset) + patch + base.slice(offset + patch.length);
  client.db.set(key, updated, true);
  client.changed(key, "setrange", "$");
  client.reply.integer(updated.length);
}

/** A run of the LCS found in both strings: inclusive ranges and length. */
interface LcsMatch {
  firstStart: number;
  firstEnd: number;
  secondStart: number;
  secondEnd: number;
  length: number;
}

/**
 * Redis's dynamic programming table: entry `i * (second.length + 1) + j`
 * is the LCS length of `first[0, i)` and `second[0, j)`.
 */
function lcsTable(first: string, second: string): Uint32Array {
  const width = second.length + 1;
  const table = new Uint32Array((first.length + 1) * width);
  for (let i = 1; i <= first.length; i++) {
    const byte = first.charCodeAt(i - 1);
    const row = i * width;
    const previousRow = row - width;
    for (let j = 1; j <= second.length; j++) {
      if (byte === second.charCodeAt(j - 1)) {
        table[row + j] = table[previousRow + j - 1]! + 1;
      } else {
        const above = table[previousRow + j]!;
        const left = table[row + j - 1]!;
        table[row + j] = above > left ? above : left;
      }
    }
  }
  return table;
}

/**
 * Walks the table back from the end exactly as Redis does (on a tie it
 * moves along `second`), so that among equally long answers the same one is
 * chosen and the matches come out in the same order: last first.
 */
function lcsWalk(
  first: string,
  second: string,
  table: Uint32Array,
  minMatchLength: number,
): { common: string; matches: LcsMatch[] } {
  const width = second.length + 1;
  let i = first.length;
  let j = second.length;
  let index = table[i * width + j]!;
  const common = new Uint8Array(index);
  const matches: LcsMatch[] = [];
  let current: LcsMatch | undefined;
  while (i > 0 && j > 0) {
    let emit: boolean;
    const byte = first.charCodeAt(i - 1);
    if (byte === second.charCodeAt(j - 1)) {
      common[--index] = byte;
      if (current === undefined) {
        current = {
          firstStart: i - 1,
          firstEnd: i - 1,
          secondStart: j - 1,
          secondEnd: j - 1,
          length: 1,
        };
      } else {
        // Walking back diagonally: the match extends one byte to the left.
        current.firstStart--;
        current.secondStart--;
        current.length++;
      }
      emit = current.firstStart === 0 || current.secondStart === 0;
      i--;
      j--;
    } else {
      if (table[(i - 1) * width + j]! > table[i * width + j - 1]!) i--;
      else j--;
      emit = current !== undefined;
    }
    if (emit && current !== undefined) {
      if (minMatchLength === 0 || current.length >= minMatchLength) matches.push(current);
      current = undefined;
    }
  }
  return { common: bytesToBinary(common), matches };
}

/** LCS: the common subsequence, its length (LEN), or its matching ranges (IDX). */
function lcs(client: Client, args: string[]): void {
  const firstValue = lookupRead(client, args[1]!);
  const secondValue = lookupRead(client, args[2]!);
  if (
    (firstValue !== undefined && !isStringValue(firstValue)) ||
    (secondValue !== undefined && !isStringValue(secondValue))
  ) {
    throw new CommandError(LCS_WRONG_TYPE);
  }
  const first = firstValue === undefined ? "" : stringContent(firstValue);
  const second = secondValue === undefined ? "" : stringContent(secondValue);
  let wantIndexes = false;
  let wantLength = false;
  let withMatchLength = false;
  let minMatchLength = 0;
  const cursor = new ArgumentCursor(args, 3);
  while (cursor.hasMore()) {
    const option = cursor.keyword();
    if (option === "IDX") wantIndexes = true;
    else if (option === "LEN") wantLength = true;
    else if (option === "WITHMATCHLEN") withMatchLength = true;
    else if (option === "MINMATCHLEN" && cursor.hasMore()) {
      minMatchLength = Math.max(0, cursor.integer());
    } else throw new CommandError(SYNTAX_ERROR);
  }
  if (wantIndexes && wantLength) throw new CommandError(LCS_LEN_AND_IDX);
  const cells = (first.length + 1) * (second.length + 1);
  if (cells * Uint32Array.BYTES_PER_ELEMENT > MAX_BULK_LENGTH) {
    throw new CommandError(LCS_TOO_MUCH_MEMORY);
  }

  const table = lcsTable(first, second);
  const total = table[cells - 1]!;
  const reply = client.reply;
  if (wantLength) {
    reply.integer(total);
    return;
  }
  const { common, matches } = lcsWalk(first, second, table, minMatchLength);
  if (!wantIndexes) {
    reply.bulk(common);
    return;
  }
  reply.mapHeader(2);
  reply.bulk("matches");
  reply.arrayHeader(matches.length);
  for (const match of matches) {
    reply.arrayHeader(withMatchLength ? 3 : 2);
    reply.arrayHeader(2);
    reply.integer(match.firstStart);
    reply.integer(match.firstEnd);
    reply.arrayHeader(2);
    reply.integer(match.secondStart);
    reply.integer(match.secondEnd);
    if (withMatchLength) reply.integer(match.length);
  }
  reply.bulk("len");
  reply.integer(total);
}

/**
 * SET's key, read-write when GET asks for the old value and overwritten
 * otherwise (Redis's setGetKeys).
 */
const setKeys: KeyFinder = (args) => {
  for (let i = 3; i < args.length; i++) {
    if (args[i]!.toUpperCase() === "GET") {
      return [{ position: 1, flags: ["RW", "ACCESS", "UPDATE"] }];
    }
  }
  return [{ position: 1, flags: ["OW", "UPDATE"] }];
};

export const stringCommands = [
  command({
    name: "get",
    arity: 2,
    flags: ["readonly", "fast"],
    aclCategories: ["string"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: get,
  }),
  command({
    name: "set",
    arity: -3,
    flags: ["write", "denyoom"],
    aclCategories: ["string"],
    keySpecs: [
      {
        flags: ["RW", "ACCESS", "UPDATE", "VARIABLE_FLAGS"],
        begin: { index: 1 },
        find: { lastKey: 0 },
        notes: "RW and ACCESS due to the optional `GET` argument",
      },
    ],
    propagation: "effects",
    keyFinder: setKeys,
    handler: set,
  }),
  command({
    name: "setnx",
    arity: 3,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["string"],
    keySpecs: [{ flags: ["OW", "INSERT"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: setnx,
  }),
  command({
    name: "setex",
    arity: 4,
    flags: ["write", "denyoom"],
    aclCategories: ["string"],
    keySpecs: [{ flags: ["OW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    propagation: "effects",
    handler: (client, args) => setWithExpiry(client, args, "EX"),
  }),
  command({
    name: "psetex",
    arity: 4,
    flags: ["write", "denyoom"],
    aclCategories: ["string"],
    keySpecs: [{ flags: ["OW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    propagation: "effects",
    handler: (client, args) => setWithExpiry(client, args, "PX"),
  }),
  command({
    name: "getset",
    arity: 3,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["string"],
    keySpecs: [{ flags: ["RW", "ACCESS", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    propagation: "effects",
    handler: getset,
  }),
  command({
    name: "getdel",
    arity: 2,
    flags: ["write", "fast"],
    aclCategories: ["string"],
    keySpecs: [{ flags: ["RW", "ACCESS", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    propagation: "effects",
    handler: getdel,
  }),
  command({
    name: "getex",
    arity: -2,
    flags: ["write", "fast"],
    aclCategories: ["string"],
    keySpecs: [
      {
        flags: ["RW", "ACCESS", "UPDATE"],
        begin: { index: 1 },
        find: { lastKey: 0 },
        notes: "RW and UPDATE because it changes the TTL",
      },
    ],
    propagation: "effects",
    handler: getex,
  }),
  command({
    name: "mget",
    arity: -2,
    flags: ["readonly", "fast"],
    aclCategories: ["string"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: -1 } }],
    handler: mget,
  }),
  command({
    name: "mset",
    arity: -3,
    flags: ["write", "denyoom"],
    aclCategories: ["string"],
    keySpecs: [{ flags: ["OW", "UPDATE"], begin: { index: 1 }, find: { lastKey: -1, keyStep: 2 } }],
    handler: (client, args) => msetGeneric(client, args, false),
  }),
  command({
    name: "msetnx",
    arity: -3,
    flags: ["write", "denyoom"],
    aclCategories: ["string"],
    keySpecs: [{ flags: ["OW", "INSERT"], begin: { index: 1 }, find: { lastKey: -1, keyStep: 2 } }],
    handler: (client, args) => msetGeneric(client, args, true),
  }),
  command({
    name: "append",
    arity: 3,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["string"],
    keySpecs: [{ flags: ["RW", "INSERT"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: append,
  }),
  command({
    name: "strlen",
    arity: 2,
    flags: ["readonly", "fast"],
    aclCategories: ["string"],
    keySpecs: [{ flags: ["RO"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: strlen,
  }),
  command({
    name: "incr",
    arity: 2,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["string"],
    keySpecs: [{ flags: ["RW", "ACCESS", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => incrementCounter(client, args[1]!, 1),
  }),
  command({
    name: "decr",
    arity: 2,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["string"],
    keySpecs: [{ flags: ["RW", "ACCESS", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => incrementCounter(client, args[1]!, -1),
  }),
  command({
    name: "incrby",
    arity: 3,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["string"],
    keySpecs: [{ flags: ["RW", "ACCESS", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => incrementCounter(client, args[1]!, parseIncrement(args[2]!)),
  }),
  command({
    name: "decrby",
    arity: 3,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["string"],
    keySpecs: [{ flags: ["RW", "ACCESS", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: decrby,
  }),
  command({
    name: "incrbyfloat",
    arity: 3,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["string"],
    keySpecs: [{ flags: ["RW", "ACCESS", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    propagation: "effects",
    handler: incrbyfloat,
  }),
  command({
    name: "getrange",
    arity: 4,
    flags: ["readonly"],
    aclCategories: ["string"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: getrange,
  }),
  command({
    name: "substr",
    arity: 4,
    flags: ["readonly"],
    aclCategories: ["string"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: getrange,
  }),
  command({
    name: "setrange",
    arity: 4,
    flags: ["write", "denyoom"],
    aclCategories: ["string"],
    keySpecs: [{ flags: ["RW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: setrange,
  }),
  command({
    name: "lcs",
    arity: -3,
    flags: ["readonly"],
    aclCategories: ["string"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 1 } }],
    handler: lcs,
  }),
];
