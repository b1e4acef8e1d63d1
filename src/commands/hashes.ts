/**
 * Hash commands: HSET, HSETNX, HMSET, HGET, HMGET, HGETALL, HKEYS, HVALS,
 * HDEL, HEXISTS, HLEN, HSTRLEN, HINCRBY, HINCRBYFLOAT, HRANDFIELD, HSCAN.
 *
 * Hashes are `Hash` values (store/hash.ts): small ones packed as Redis's
 * listpack, big ones a Map. Fields are stored through `Hash.store` with the
 * live configuration's limits (`hash-max-listpack-entries`, `-value`), so a
 * hash converts when Redis's would.
 *
 * HINCRBYFLOAT computes in long double like Redis (protocol/long_double.ts)
 * and, as Redis does, is logged to the AOF as an HSET of its result, so
 * replaying the file cannot round differently.
 *
 * @module
 */

import {
  addLongDoubles,
  formatLongDouble,
  isFiniteLongDouble,
  type LongDouble,
  parseLongDouble,
} from "../protocol/long_double.ts";
import type { Client } from "./client.ts";
import { Hash } from "../store/hash.ts";
import { type HashValue, typeOf } from "../store/values.ts";
import { ArgumentCursor, fitsInt64, parseInt64 } from "./arguments.ts";
import { deleteIfEmpty, getHash } from "./access.ts";
import {
  CommandError,
  HASH_VALUE_NOT_FLOAT,
  HASH_VALUE_NOT_INTEGER,
  INCREMENT_NOT_FINITE,
  NOT_FLOAT,
  NOT_INTEGER,
  OVERFLOW,
  RANDOM_COUNT_RANGE,
  RESULT_NOT_FINITE,
  VALUE_OUT_OF_RANGE,
  WRONG_TYPE,
  wrongArity,
} from "./errors.ts";
import { scanCollection } from "./scan.ts";
import { command } from "./table.ts";

/** HRANDFIELD's count is a long: -2^63 itself is refused. */
const LONG_MIN = -(2n ** 63n);
/** With WITHVALUES, Redis refuses counts whose doubled reply length would overflow a long. */
const WITHVALUES_MIN_COUNT = LONG_MIN / 2n;
const WITHVALUES_MAX_COUNT = -WITHVALUES_MIN_COUNT - 1n;
/**
 * Most picks a negative HRANDFIELD count may ask for. Redis has no limit and
 * would build the reply until memory runs out; here the reply buffer would
 * fail first and take the server down, so larger counts are refused.
 */
const MAX_REPEATED_PICKS = 2 ** 24;

/** Stores a new, empty hash at `key` (which must not exist) and returns it. */
function createHash(client: Client, key: string): HashValue {
  const hash = new Hash();
  client.db.set(key, hash);
  return hash;
}

/**
 * The hash at `key` for a command about to modify it (WRONGTYPE otherwise).
 * Like Redis's lookupKeyWrite it expires the key lazily without counting a
 * keyspace hit or miss.
 */
function getHashForWrite(client: Client, key: string): HashValue | undefined {
  const value = client.db.lookup(key);
  if (value !== undefined && typeOf(value) !== "hash") throw new CommandError(WRONG_TYPE);
  return value as HashValue | undefined;
}

/** HSET and HMSET: set field/value pairs; `reply` says what each answers. */
function setFields(client: Client, args: string[], reply: (added: number) => void): void {
  if (args.length % 2 !== 0) throw new CommandError(wrongArity(args[0]!.toLowerCase()));
  const key = args[1]!;
  const hash = getHashForWrite(client, key) ?? createHash(client, key);
  const limits = client.server.config;
  let added = 0;
  for (let i = 2; i < args.length; i += 2) if (hash.store(args[i]!, args[i + 1]!, limits)) added++;
  client.changed(key, "hset", "h");
  reply(added);
}

function hsetnx(client: Client, args: string[]): void {
  const [, key, field, value] = args as [string, string, string, string];
  const hash = getHashForWrite(client, key);
  if (hash?.has(field)) {
    client.reply.integer(0);
    return;
  }
  (hash ?? createHash(client, key)).store(field, value, client.server.config);
  client.changed(key, "hset", "h");
  client.reply.integer(1);
}

function hget(client: Client, args: string[]): void {
  const value = getHash(client, args[1]!)?.get(args[2]!);
  if (value === undefined) client.reply.nullBulk();
  else client.reply.bulk(value);
}

function hmget(client: Client, args: string[]): void {
  const hash = getHash(client, args[1]!);
  const reply = client.reply;
  reply.arrayHeader(args.length - 2);
  for (let i = 2; i < args.length; i++) {
    const value = hash?.get(args[i]!);
    if (value === undefined) reply.nullBulk();
    else reply.bulk(value);
  }
}

/** HGETALL (a map of field to value), HKEYS and HVALS (arrays). */
function getAll(client: Client, key: string, fields: boolean, values: boolean): void {
  const hash = getHash(client, key);
  const reply = client.reply;
  const size = hash?.size ?? 0;
  if (fields && values) reply.mapHeader(size);
  else reply.arrayHeader(size);
  if (hash === undefined) return;
  for (const [field, value] of hash) {
    if (fields) reply.bulk(field);
    if (values) reply.bulk(value);
  }
}

function hdel(client: Client, args: string[]): void {
  const key = args[1]!;
  const hash = getHashForWrite(client, key);
  let deleted = 0;
  if (hash !== undefined) {
    for (let i = 2; i < args.length; i++) if (hash.delete(args[i]!)) deleted++;
    if (deleted > 0) {
      client.changed(key, "hdel", "h");
      deleteIfEmpty(client, key, hash.size);
    }
  }
  client.reply.integer(deleted);
}

function hincrby(client: Client, args: string[]): void {
  const [, key, field, incrementText] = args as [string, string, string, string];
  const increment = parseInt64(incrementText);
  if (increment === undefined) throw new CommandError(NOT_INTEGER);
  const hash = getHashForWrite(client, key);
  const current = hash?.get(field);
  let value = 0n;
  if (current !== undefined) {
    const parsed = parseInt64(current);
    if (parsed === undefined) throw new CommandError(HASH_VALUE_NOT_INTEGER);
    value = parsed;
  }
  const result = value + increment;
  if (!fitsInt64(result)) throw new CommandError(OVERFLOW);
  (hash ?? createHash(client, key)).store(field, String(result), client.server.config);
  client.changed(key, "hincrby", "h");
  client.reply.integer(result);
}

const LONG_DOUBLE_ZERO: LongDouble = parseLongDouble("0")!;

function hincrbyfloat(client: Client, args: string[]): void {
  const [, key, field, incrementText] = args as [string, string, string, string];
  const increment = parseLongDouble(incrementText);
  if (increment === undefined) throw new CommandError(NOT_FLOAT);
  if (!isFiniteLongDouble(increment)) throw new CommandError(INCREMENT_NOT_FINITE);
  const hash = getHashForWrite(client, key);
  const current = hash?.get(field);
  let value = LONG_DOUBLE_ZERO;
  if (current !== undefined) {
    const parsed = parseLongDouble(current);
    if (parsed === undefined) throw new CommandError(HASH_VALUE_NOT_FLOAT);
    value = parsed;
  }
  const sum = addLongDoubles(value, increment);
  if (!isFiniteLongDouble(sum)) throw new CommandError(RESULT_NOT_FINITE);
  const result = formatLongDouble(sum);
  (hash ?? createHash(client, key)).store(field, result, client.server.config);
  client.addEffect(["HSET", key, field, result]);
  client.changed(key, "hincrbyfloat", "h");
  client.reply.bulk(result);
}

/**
 * HRANDFIELD key [count [WITHVALUES]]. Without a count: one field or null.
 * A positive count returns distinct fields (the whole hash, in order, when
 * it has no more than that); a negative one returns that many independent
 * picks. With WITHVALUES, RESP2 flattens field/value pairs while RESP3
 * nests each pair in an array of two, as Redis 7.0 does.
 */
function hrandfield(client: Client, args: string[]): void {
  const reply = client.reply;
  const cursor = new ArgumentCursor(args);
  const key = cursor.key();
  if (!cursor.hasMore()) {
    const hash = getHash(client, key);
    if (hash === undefined) {
      reply.nullBulk();
      return;
    }
    reply.bulk(fieldAt(hash, Math.floor(Math.random() * hash.size)));
    return;
  }
  const exactCount = parseInt64(cursor.next());
  if (exactCount === undefined) throw new CommandError(NOT_INTEGER);
  if (exactCount === LONG_MIN) throw new CommandError(RANDOM_COUNT_RANGE);
  const withValues = cursor.accept("WITHVALUES") !== undefined;
  cursor.finish();
  if (
    withValues && (exactCount < WITHVALUES_MIN_COUNT || exactCount > WITHVALUES_MAX_COUNT)
  ) {
    throw new CommandError(VALUE_OUT_OF_RANGE);
  }
  const count = Number(exactCount);
  const hash = getHash(client, key);
  if (hash === undefined || count === 0) {
    reply.arrayHeader(0);
    return;
  }
  const picks = Math.abs(count);
  if (count < 0 || count === 1) {
    if (picks > MAX_REPEATED_PICKS) throw new CommandError(VALUE_OUT_OF_RANGE);
    const fields = Array.from(hash.keys());
    const chosen: string[] = [];
    for (let i = 0; i < picks; i++) {
      chosen.push(fields[Math.floor(Math.random() * fields.length)]!);
    }
    replyFields(client, hash, chosen, withValues);
    return;
  }
  replyFields(client, hash, sampleInOrder(hash, count), withValues);
}

/** The field at position `index` of the hash's iteration order. */
function fieldAt(hash: HashValue, index: number): string {
  for (const field of hash.keys()) if (index-- === 0) return field;
  throw new RangeError(`No field at ${index} in a hash of ${hash.size}`);
}

/**
 * Up to `count` distinct fields chosen uniformly, in the hash's order
 * (selection sampling: each field is taken with probability
 * still-needed / still-left).
 */
function sampleInOrder(hash: HashValue, count: number): string[] {
  if (count >= hash.size) return Array.from(hash.keys());
  const chosen: string[] = [];
  let left = hash.size;
  for (const field of hash.keys()) {
    if (Math.random() * left < count - chosen.length) chosen.push(field);
    left--;
    if (chosen.length === count) break;
  }
  return chosen;
}

function replyFields(
  client: Client,
  hash: HashValue,
  fields: readonly string[],
  withValues: boolean,
): void {
  const reply = client.reply;
  const nested = withValues && client.protocol === 3;
  reply.arrayHeader(withValues && !nested ? fields.length * 2 : fields.length);
  for (const field of fields) {
    if (nested) reply.arrayHeader(2);
    reply.bulk(field);
    if (withValues) reply.bulk(hash.get(field)!);
  }
}

export const hashCommands = [
  command({
    name: "hset",
    arity: -4,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["hash"],
    keySpecs: [{ flags: ["RW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => setFields(client, args, (added) => client.reply.integer(added)),
  }),
  command({
    name: "hsetnx",
    arity: 4,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["hash"],
    keySpecs: [{ flags: ["RW", "INSERT"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: hsetnx,
  }),
  command({
    name: "hmset",
    arity: -4,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["hash"],
    keySpecs: [{ flags: ["RW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => setFields(client, args, () => client.reply.ok()),
  }),
  command({
    name: "hget",
    arity: 3,
    flags: ["readonly", "fast"],
    aclCategories: ["hash"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: hget,
  }),
  command({
    name: "hmget",
    arity: -3,
    flags: ["readonly", "fast"],
    aclCategories: ["hash"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: hmget,
  }),
  command({
    name: "hgetall",
    arity: 2,
    flags: ["readonly"],
    aclCategories: ["hash"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => getAll(client, args[1]!, true, true),
  }),
  command({
    name: "hkeys",
    arity: 2,
    flags: ["readonly"],
    aclCategories: ["hash"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => getAll(client, args[1]!, true, false),
  }),
  command({
    name: "hvals",
    arity: 2,
    flags: ["readonly"],
    aclCategories: ["hash"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => getAll(client, args[1]!, false, true),
  }),
  command({
    name: "hdel",
    arity: -3,
    flags: ["write", "fast"],
    aclCategories: ["hash"],
    keySpecs: [{ flags: ["RW", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: hdel,
  }),
  command({
    name: "hexists",
    arity: 3,
    flags: ["readonly", "fast"],
    aclCategories: ["hash"],
    keySpecs: [{ flags: ["RO"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => {
      client.reply.integer(getHash(client, args[1]!)?.has(args[2]!) ? 1 : 0);
    },
  }),
  command({
    name: "hlen",
    arity: 2,
    flags: ["readonly", "fast"],
    aclCategories: ["hash"],
    keySpecs: [{ flags: ["RO"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => client.reply.integer(getHash(client, args[1]!)?.size ?? 0),
  }),
  command({
    name: "hstrlen",
    arity: 3,
    flags: ["readonly", "fast"],
    aclCategories: ["hash"],
    keySpecs: [{ flags: ["RO"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => {
      client.reply.integer(getHash(client, args[1]!)?.get(args[2]!)?.length ?? 0);
    },
  }),
  command({
    name: "hincrby",
    arity: 4,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["hash"],
    keySpecs: [{ flags: ["RW", "ACCESS", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: hincrby,
  }),
  command({
    name: "hincrbyfloat",
    arity: 4,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["hash"],
    keySpecs: [{ flags: ["RW", "ACCESS", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    propagation: "effects",
    handler: hincrbyfloat,
  }),
  command({
    name: "hrandfield",
    arity: -2,
    flags: ["readonly"],
    aclCategories: ["hash"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: hrandfield,
  }),
  command({
    name: "hscan",
    arity: -3,
    flags: ["readonly"],
    aclCategories: ["hash"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => scanCollection(client, args, getHash),
  }),
];
