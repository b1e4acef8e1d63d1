/**
 * DEBUG, behind `enable-debug-command` (Redis 7.0's default `no` refuses
 * it, `local` allows loopback clients), with the subcommands tools and
 * test suites use:
 *
 * - SLEEP seconds: stops the whole server, as Redis's debugDelay does (the
 *   thread waits; nothing else runs meanwhile).
 * - RELOAD [MERGE] [NOFLUSH] [NOSAVE]: saves dump.rdb (unless NOSAVE),
 *   empties the data (unless NOFLUSH) and loads the file back, as Redis
 *   does (persistence's reloadNow); MERGE replaces keys that exist.
 * - OBJECT key: Redis's "Value at:... refcount:... encoding:..." line.
 * - SET-ACTIVE-EXPIRE 0|1: the server cron's active expiry cycle stops or
 *   resumes (operations.activeExpireEnabled).
 * - DIGEST / DIGEST-VALUE: Redis's SHA-1 mixes of the dataset and of
 *   values (strings, lists, sets, hashes, sorted sets as Redis computes
 *   them, so two servers holding the same data print the same digest).
 * - PROTOCOL type, ERROR, LOG, POPULATE, CHANGE-REPL-ID, and the knobs this
 *   server has no use for (QUICKLIST-PACKED-THRESHOLD, PAUSE-CRON,
 *   SET-SKIP-CHECKSUM-VALIDATION, REPLYBUFFER), which answer OK.
 *
 * Crashing subcommands (SEGFAULT, PANIC, ...) are not offered.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { Client } from "./client.ts";
import { isLocalClient } from "./client_list.ts";
import {
  CommandError,
  DEBUG_NOT_ALLOWED,
  NO_SUCH_KEY,
  NOT_POSITIVE,
  RELOAD_OPTIONS,
  subcommandSyntaxError,
} from "./errors.ts";
import { helpReply } from "./help.ts";
import { randomReplicationId } from "./operations/mod.ts";
import { atoi, parseInteger } from "../protocol/integers.ts";
import { formatDouble } from "../protocol/doubles.ts";
import { Deque } from "../store/deque.ts";
import { Hash } from "../store/hash.ts";
import { HyperLogLog } from "../store/hyperloglog.ts";
import type { Database } from "../store/keyspace.ts";
import { MemberSet } from "../store/set.ts";
import { SortedSet } from "../store/sorted_set.ts";
import { Stream } from "../store/stream.ts";
import { encodingOf, type RedisValue, stringContent } from "../store/values.ts";
import { command } from "./table.ts";

/** C's strtod as DEBUG SLEEP reads its argument: junk reads as 0. */
function strtod(text: string): number {
  const value = Number.parseFloat(text);
  return Number.isFinite(value) ? value : 0;
}

/** Blocks the thread for `milliseconds` without spinning. */
function sleepThread(milliseconds: number): void {
  if (milliseconds <= 0) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, milliseconds);
}

// ---------------------------------------------------------------------------
// DIGEST, as Redis's debug.c mixes SHA-1 digests

function sha1(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha1").update(bytes).digest());
}

function latin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** xorDigest: digest ^= SHA1(data). */
function xorDigest(digest: Uint8Array, data: Uint8Array): void {
  const hash = sha1(data);
  for (let i = 0; i < 20; i++) digest[i]! ^= hash[i]!;
}

/** mixDigest: digest = SHA1(digest ^ SHA1(data)). */
function mixDigest(digest: Uint8Array, data: Uint8Array): void {
  xorDigest(digest, data);
  digest.set(sha1(digest));
}

/** A 32-bit integer in network order, as Redis mixes type codes and db ids. */
function networkInt(value: number): Uint8Array {
  return new Uint8Array([
    (value >>> 24) & 255,
    (value >>> 16) & 255,
    (value >>> 8) & 255,
    value & 255,
  ]);
}

/** Redis's OBJ_* type codes. */
function typeCode(value: RedisValue): number {
  if (typeof value === "string" || value instanceof HyperLogLog) return 0;
  if (value instanceof Deque) return 1;
  if (value instanceof MemberSet) return 2;
  if (value instanceof SortedSet) return 3;
  if (value instanceof Hash) return 4;
  return 6;
}

/** xorObjectDigest: the value's contribution to its key's digest. */
function mixValue(digest: Uint8Array, value: RedisValue, expires: boolean): void {
  mixDigest(digest, networkInt(typeCode(value)));
  if (typeof value === "string" || value instanceof HyperLogLog) {
    mixDigest(digest, latin1(stringContent(value)));
  } else if (value instanceof Deque) {
    for (let i = 0; i < value.length; i++) mixDigest(digest, latin1(value.at(i)!));
  } else if (value instanceof MemberSet) {
    for (const member of value) xorDigest(digest, latin1(member));
  } else if (value instanceof SortedSet) {
    for (const [member, score] of value) {
      const element = new Uint8Array(20);
      mixDigest(element, latin1(member));
      mixDigest(element, latin1(formatDouble(score)));
      xorDigest(digest, element);
    }
  } else if (value instanceof Hash) {
    for (const [field, content] of value) {
      const element = new Uint8Array(20);
      mixDigest(element, latin1(field));
      mixDigest(element, latin1(content));
      xorDigest(digest, element);
    }
  } else if (value instanceof Stream) {
    // Streams are mixed by their type and entry count only here.
    mixDigest(digest, latin1(String(value.length)));
  }
  if (expires) xorDigest(digest, latin1("!!expire!!"));
}

function keyDigest(db: Database, key: string, value: RedisValue): Uint8Array {
  const digest = new Uint8Array(20);
  mixDigest(digest, latin1(key));
  mixValue(digest, value, db.expireAt(key) !== undefined);
  return digest;
}

function hex(digest: Uint8Array): string {
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function datasetDigest(client: Client): string {
  const final = new Uint8Array(20);
  for (const db of client.server.keyspace.databases) {
    if (db.size === 0) continue;
    mixDigest(final, networkInt(db.index));
    for (const [key, value] of db.entries) xorDigest(final, keyDigest(db, key, value));
  }
  return hex(final);
}

// ---------------------------------------------------------------------------

/** rdbSavedObjectLen, roughly: what the value takes in an RDB file. */
function serializedLength(value: RedisValue): number {
  const lengthBytes = (length: number) => (length < 64 ? 1 : length < 16384 ? 2 : 5);
  if (typeof value === "string" && encodingOf(value) === "int") {
    const number = Number(value);
    return number >= -128 && number <= 127 ? 2 : number >= -32768 && number <= 32767 ? 3 : 5;
  }
  if (typeof value === "string" || value instanceof HyperLogLog) {
    const length = stringContent(value).length;
    return lengthBytes(length) + length;
  }
  let total = 0;
  let count = 0;
  const add = (text: string) => {
    total += lengthBytes(text.length) + text.length;
    count++;
  };
  if (value instanceof Deque) { for (let i = 0; i < value.length; i++) add(value.at(i)!); }
  else if (value instanceof MemberSet) { for (const member of value) add(member); }
  else if (value instanceof Hash) {
    for (const [field, content] of value) {
      add(field);
      add(content);
    }
  } else if (value instanceof SortedSet) {
    for (const [member] of value) {
      total += member.length + 9;
    }
  }
  return total + lengthBytes(count) + 11;
}

function objectLine(client: Client, key: string): string {
  const value = client.db.entries.get(key);
  if (value === undefined) throw new CommandError(NO_SUCH_KEY);
  const encoding = encodingOf(value);
  const integer = typeof value === "string" && encoding === "int" ? parseInteger(value) : undefined;
  const refcount = integer !== undefined && integer >= 0 && integer < 10000 ? 2147483647 : 1;
  const address = `0x7f${(0x100000000 + (hashOf(key) >>> 0)).toString(16).slice(1)}00`;
  const lru = Math.floor(Date.now() / 1000) & 0xffffff;
  let line = `Value at:${address} refcount:${refcount} encoding:${encoding} serializedlength:${
    serializedLength(value)
  } lru:${lru} lru_seconds_idle:0`;
  if (value instanceof Deque) {
    let bytes = 0;
    for (let i = 0; i < value.length; i++) bytes += value.at(i)!.length + 2;
    line += ` ql_nodes:${value.length === 0 ? 0 : 1} ql_avg_node:${
      value.length.toFixed(2)
    } ql_listpack_max:${client.server.config.listMaxListpackSize} ql_compressed:0 ql_uncompressed_size:${
      bytes + 7
    }`;
  }
  return line;
}

/** A stable number from a key, for DEBUG OBJECT's made-up address. */
function hashOf(text: string): number {
  let hash = 5381;
  for (let i = 0; i < text.length; i++) hash = (hash * 33 + text.charCodeAt(i)) | 0;
  return hash;
}

/** DEBUG PROTOCOL's test values, as Redis's debugCommand writes them. */
function protocol(client: Client, type: string): void {
  const reply = client.reply;
  switch (type.toLowerCase()) {
    case "string":
      reply.bulk("Hello World");
      return;
    case "integer":
      reply.integer(12345);
      return;
    case "double":
      reply.double(3.141);
      return;
    case "bignum":
      if (client.protocol === 3) reply.raw(latin1("(1234567999999999999999999999999999999\r\n"));
      else reply.bulk("1234567999999999999999999999999999999");
      return;
    case "null":
      reply.nullBulk();
      return;
    case "array":
    case "set":
      if (type.toLowerCase() === "set") reply.setHeader(3);
      else reply.arrayHeader(3);
      for (let j = 0; j < 3; j++) reply.integer(j);
      return;
    case "map":
      reply.mapHeader(3);
      for (let j = 0; j < 3; j++) {
        reply.integer(j);
        reply.bool(j === 1);
      }
      return;
    case "attrib":
      if (client.protocol === 3) {
        reply.raw(latin1("|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n"));
      }
      reply.bulk("Some real reply following the attribute");
      return;
    case "push":
      if (client.protocol !== 3) {
        throw new CommandError("ERR RESP2 is not supported by this command");
      }
      reply.pushHeader(2);
      reply.bulk("server-cpu-usage");
      reply.integer(42);
      reply.bulk("Some real reply following the push reply");
      return;
    case "verbatim":
      reply.verbatim("This is a verbatim\nstring");
      return;
    case "true":
      reply.bool(true);
      return;
    case "false":
      reply.bool(false);
      return;
    default:
      throw new CommandError(
        "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
      );
  }
}

/** DEBUG POPULATE count [prefix] [size]: `prefix:N` = `value:N` (zero-padded to size). */
function populate(client: Client, args: string[]): void {
  const count = parseInteger(args[2]!);
  if (count === undefined || count < 0) throw new CommandError(NOT_POSITIVE);
  const prefix = args[3] ?? "key";
  let size = 0;
  if (args[4] !== undefined) {
    const asked = parseInteger(args[4]);
    if (asked === undefined || asked < 0) throw new CommandError(NOT_POSITIVE);
    size = asked;
  }
  const db = client.db;
  for (let j = 0; j < count; j++) {
    const key = `${prefix}:${j}`;
    if (db.lookup(key) !== undefined) continue;
    let value = `value:${j}`;
    if (size !== 0) value = value.length >= size ? value.slice(0, size) : value.padEnd(size, "\0");
    db.set(key, value);
  }
  client.reply.ok();
}

function reload(client: Client, args: string[]): void {
  const options = { save: true, flush: true, merge: false };
  for (const option of args.slice(2)) {
    const upper = option.toUpperCase();
    if (upper === "NOSAVE") options.save = false;
    else if (upper === "NOFLUSH") options.flush = false;
    else if (upper === "MERGE") options.merge = true;
    else throw new CommandError(RELOAD_OPTIONS);
  }
  const server = client.server;
  const failure = server.persistence.reloadNow(options);
  if (failure !== undefined) throw new CommandError(failure);
  server.log.warning("DB reloaded by DEBUG RELOAD");
  client.reply.ok();
}

const DEBUG_HELP = [
  "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CHANGE-REPL-ID",
  "    Change the replication IDs of the instance.",
  "    Dangerous: should be used only for testing the replication subsystem.",
  "DIGEST",
  "    Output a hex signature representing the current DB content.",
  "DIGEST-VALUE <key> [<key> ...]",
  "    Output a hex signature of the values of all the specified keys.",
  "ERROR <string>",
  "    Return a Redis protocol error with <string> as message. Useful for clients",
  "    unit tests to simulate Redis errors.",
  "LOG <message>",
  "    Write <message> to the server log.",
  "OBJECT <key>",
  "    Show low level info about `key` and associated value.",
  "POPULATE <count> [<prefix>] [<size>]",
  "    Create <count> string keys named key:<num>. If <prefix> is specified then",
  "    it is used instead of the 'key' prefix.",
  "PROTOCOL <type>",
  "    Reply with a test value of the specified type. <type> can be: string,",
  "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
  "    true, false.",
  "RELOAD [option ...]",
  "    Save the data on disk and reload it back to memory. Valid <option> values:",
  "    * MERGE, NOFLUSH: accepted.",
  "    * NOSAVE: do not save first.",
  "SET-ACTIVE-EXPIRE <0|1>",
  "    Setting it to 0 disables expiring keys in background when they are not",
  "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
  "    default.",
  "SLEEP <seconds>",
  "    Stop the server for <seconds>. Decimals allowed.",
  "HELP",
  "    Prints this help.",
];

/** Subcommands that only tune Redis internals this server does not have. */
const ACCEPTED_KNOBS = new Set([
  "quicklist-packed-threshold",
  "pause-cron",
  "set-skip-checksum-validation",
  "replybuffer",
  "stringmatch-len",
]);

function debug(client: Client, args: string[]): void {
  const server = client.server;
  const setting = server.config.enableDebugCommand;
  if (setting === "no" || (setting === "local" && !isLocalClient(client))) {
    throw new CommandError(DEBUG_NOT_ALLOWED);
  }
  const sub = args[1]!.toLowerCase();
  const count = args.length;
  if (sub === "help" && count === 2) return helpReply(client, DEBUG_HELP);
  if (sub === "sleep" && count === 3) {
    sleepThread(strtod(args[2]!) * 1000);
    return client.reply.ok();
  }
  if (sub === "reload") return reload(client, args);
  if (sub === "object" && count === 3) return client.reply.simple(objectLine(client, args[2]!));
  if (sub === "set-active-expire" && count === 3) {
    server.operations.activeExpireEnabled = atoi(args[2]!) !== 0;
    return client.reply.ok();
  }
  if (sub === "change-repl-id" && count === 2) {
    server.operations.replicationId = randomReplicationId();
    server.log.warning("Changing replication IDs after receiving DEBUG change-repl-id");
    return client.reply.ok();
  }
  if (sub === "digest" && count === 2) return client.reply.simple(datasetDigest(client));
  if (sub === "digest-value" && count >= 2) {
    client.reply.arrayHeader(count - 2);
    for (const key of args.slice(2)) {
      const value = client.db.entries.get(key);
      const digest = new Uint8Array(20);
      if (value !== undefined) mixValue(digest, value, client.db.expireAt(key) !== undefined);
      client.reply.simple(hex(digest));
    }
    return;
  }
  if (sub === "protocol" && count === 3) return protocol(client, args[2]!);
  if (sub === "error" && count === 3) {
    const message = args[2]!;
    throw new CommandError(message.startsWith("-") ? message.slice(1) : `ERR ${message}`);
  }
  if (sub === "log" && count === 3) {
    server.log.warning(`DEBUG LOG: ${args[2]!}`);
    return client.reply.ok();
  }
  if (sub === "populate" && count >= 3 && count <= 5) return populate(client, args);
  if (ACCEPTED_KNOBS.has(sub) && count >= 3) return client.reply.ok();
  throw new CommandError(subcommandSyntaxError(args[1]!, args[0]!));
}

export const debugCommands = [
  command({
    name: "debug",
    arity: -2,
    flags: ["admin", "noscript", "loading", "stale"],
    handler: debug,
  }),
];
