/**
 * Value conversions between Redis replies and Lua, both ways, as Redis 7.0's
 * script_lua.c does them.
 *
 * - The other way, a command's reply to the Lua value `redis.call` returns
 *   (redisProtocolToLuaType), is reply_builder.ts: the script client's
 *   reply writer builds the value as the command writes its reply.
 *   {@link errorTable} is the error table both directions share.
 * - {@link writeLuaReply} writes a script's return value to the caller
 *   (luaReplyToRedisReply): numbers truncate to integers, tables are arrays
 *   up to the first nil unless they carry `err`, `ok`, `double`,
 *   `big_number`, `verbatim_string`, `map` or `set`, booleans depend on the
 *   script's RESP version, anything else is a null.
 * - {@link commandArgument} formats one `redis.call` argument: strings as
 *   they are, numbers as `%.17g` (so 0.1 arrives as `0.10000000000000001`
 *   and 10/2 as `5`), anything else refused.
 *
 * Strings are binary strings on both sides (one char per byte), so nothing
 * is decoded or encoded in between.
 *
 * @module
 */

import { formatFloat } from "../../lua/number_format.ts";
import { LuaTable, type LuaValue } from "../../lua/mod.ts";
import type { ReplyWriter } from "../../protocol/reply_writer.ts";

/** The table Redis pushes for an error (luaPushErrorBuff): `{err = "CODE message"}`. */
export function errorTable(message: string): LuaTable {
  return LuaTable.fromEntries(ERR_KEY, [errorText(message)]);
}

/**
 * The error table of a command's error reply, marked as already counted in
 * the error statistics (redisProtocolToLuaType_Error).
 */
export function commandErrorTable(message: string): LuaTable {
  return LuaTable.fromEntries(COMMAND_ERROR_KEYS, [errorText(message), true]);
}

// fromEntries builds tables of a known key sequence from a cached layout.
const ERR_KEY = ["err"];
const COMMAND_ERROR_KEYS = ["err", "ignore_error_stats_update"];

/**
 * luaPushErrorBuff's normalisation of an error text: a leading `-` is
 * dropped, a text without a code (no space, or no leading `-`) gets `ERR`,
 * and CR/LF are trimmed from both ends of the message.
 */
export function errorText(message: string): string {
  let code = "ERR";
  let text = message;
  if (message.charCodeAt(0) === 45) {
    const space = message.indexOf(" ");
    if (space < 0) text = message.slice(1);
    else {
      code = message.slice(1, space);
      text = message.slice(space + 1);
    }
  }
  return `${code} ${trimNewlines(text)}`;
}

function trimNewlines(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isNewline(text.charCodeAt(start))) start++;
  while (end > start && isNewline(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

function isNewline(code: number): boolean {
  return code === 13 || code === 10;
}

/**
 * A `redis.call` argument as the command receives it (luaArgsToRedisArgv),
 * or undefined for a value that is neither a string nor a number.
 */
export function commandArgument(value: LuaValue): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number") {
    if (Number.isSafeInteger(value)) return Object.is(value, -0) ? "-0" : String(value);
    return formatFloat(value, "g", 17, false, false);
  }
  return undefined;
}

/** `(long long)` of a double as x86-64 converts it: out of range and NaN give LLONG_MIN. */
export function luaNumberToInteger(value: number): number | bigint {
  if (Number.isSafeInteger(value)) return value;
  if (Number.isNaN(value) || value >= 9223372036854775808 || value < -9223372036854775808) {
    return -9223372036854775808n;
  }
  const truncated = Math.trunc(value);
  return Number.isSafeInteger(truncated) ? truncated : BigInt(truncated);
}

/** Redis's sdsmapchars(text, "\r\n", "  "): status lines cannot hold CR or LF. */
function spacesForNewlines(text: string): string {
  return /[\r\n]/.test(text) ? text.replace(/[\r\n]/g, " ") : text;
}

const ascii = (text: string) => {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
};

/**
 * Redis converts a reply on the Lua stack, which holds LUAI_MAXCSTACK
 * (8000) slots: a table nested too deep is answered, in its place, with
 * "reached lua stack limit". Each level costs what it costs Redis (an
 * array element one slot, a map key four and a value three, a set member
 * three), so the cut falls where Redis's does. The walk uses a stack of
 * its own rather than recursion, as 8000 levels would exhaust JS's.
 */
const LUA_STACK_SLOTS = 8000;
/** The slots in use when the reply starts: the error handler and the value. */
const FIRST_VALUE_SLOTS = 2;

/** A value still to write, and the Lua stack slots in use when Redis would reach it. */
interface PendingValue {
  value: LuaValue;
  slots: number;
}

/**
 * Writes a script's return value to `reply` (luaReplyToRedisReply).
 * `scriptProtocol` is the RESP version the script chose with
 * `redis.setresp`: it decides how booleans are sent.
 */
export function writeLuaReply(reply: ReplyWriter, value: LuaValue, scriptProtocol: 2 | 3): void {
  if (!(value instanceof LuaTable)) {
    writeScalar(reply, value, scriptProtocol);
    return;
  }
  const pending: PendingValue[] = [{ value, slots: FIRST_VALUE_SLOTS }];
  while (pending.length > 0) {
    const { value: next, slots } = pending.pop()!;
    // Redis checks the stack for every value, a string as much as a table.
    if (slots + 4 > LUA_STACK_SLOTS) reply.error("ERR reached lua stack limit");
    else if (next instanceof LuaTable) writeTable(reply, next, slots, pending);
    else writeScalar(reply, next, scriptProtocol);
  }
}

function writeScalar(reply: ReplyWriter, value: LuaValue, scriptProtocol: 2 | 3): void {
  switch (typeof value) {
    case "string":
      reply.bulk(value);
      return;
    case "number":
      reply.integer(luaNumberToInteger(value));
      return;
    case "boolean":
      if (scriptProtocol === 2) {
        if (value) reply.integer(1);
        else reply.nullBulk();
      } else {
        reply.bool(value);
      }
      return;
    default:
      reply.nullBulk();
  }
}

/** Writes a table's reply, or its aggregate header with its elements queued on `pending`. */
function writeTable(
  reply: ReplyWriter,
  table: LuaTable,
  slots: number,
  pending: PendingValue[],
): void {
  const error = table.getString("err");
  if (typeof error === "string") {
    reply.error(error);
    return;
  }
  const status = table.getString("ok");
  if (typeof status === "string") {
    reply.simple(spacesForNewlines(status));
    return;
  }
  const double = table.getString("double");
  if (typeof double === "number") {
    reply.double(double);
    return;
  }
  const bigNumber = table.getString("big_number");
  if (typeof bigNumber === "string") {
    if (reply.protocol === 3) reply.raw(ascii(`(${spacesForNewlines(bigNumber)}\r\n`));
    else reply.bulk(spacesForNewlines(bigNumber));
    return;
  }
  const verbatim = table.getString("verbatim_string");
  if (verbatim instanceof LuaTable) {
    const format = verbatim.getString("format");
    const text = verbatim.getString("string");
    if (typeof format === "string" && typeof text === "string") {
      if (reply.protocol === 3) {
        const extension = (format + "\0\0\0").slice(0, 3);
        reply.raw(ascii(`=${text.length + 4}\r\n${extension}:`));
        reply.raw(ascii(text));
        reply.raw(CRLF);
      } else {
        reply.bulk(text);
      }
      return;
    }
  }
  const start = pending.length;
  const map = table.getString("map");
  if (map instanceof LuaTable) {
    let count = 0;
    for (let key = map.next(undefined); key !== undefined && key !== null; key = map.next(key)) {
      pending.push({ value: key, slots: slots + 4 }, { value: map.nextValue, slots: slots + 3 });
      count++;
    }
    reply.mapHeader(count);
    reverse(pending, start);
    return;
  }
  const set = table.getString("set");
  if (set instanceof LuaTable) {
    let count = 0;
    for (let key = set.next(undefined); key !== undefined && key !== null; key = set.next(key)) {
      pending.push({ value: key, slots: slots + 3 });
      count++;
    }
    reply.setHeader(count);
    reverse(pending, start);
    return;
  }
  let count = 0;
  for (
    let element = table.getInteger(1);
    element !== undefined;
    element = table.getInteger(count + 1)
  ) {
    pending.push({ value: element, slots: slots + 1 });
    count++;
  }
  reply.arrayHeader(count);
  reverse(pending, start);
}

/** Reverses `values` from `start` on, so the first queued element is written first. */
function reverse(values: PendingValue[], start: number): void {
  for (let low = start, high = values.length - 1; low < high; low++, high--) {
    const swap = values[low]!;
    values[low] = values[high]!;
    values[high] = swap;
  }
}

const CRLF = ascii("\r\n");
