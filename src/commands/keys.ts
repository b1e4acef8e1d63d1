/**
 * Generic key commands: DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN, RANDOMKEY,
 * TOUCH, RENAME, RENAMENX, COPY, MOVE and OBJECT.
 *
 * These work on keys whatever their type, so they see values only as
 * `RedisValue`s. Three things need more than that:
 *
 * - COPY must not let the copy share structure with the original (a later
 *   HSET on one must not show in the other), so it rebuilds each collection;
 *   strings are immutable JS strings and are shared safely.
 * - COPY and MOVE change a database other than the client's, so they report
 *   the change on that database through `server.keyChanged` (WATCH, the
 *   notifications `move_to`/`copy_to` and the AOF all key on it).
 * - OBJECT ENCODING answers what Redis 7.0 would, derived from the value:
 *   strings are "int" when they read as a 64-bit integer (of at most 20
 *   bytes), else "embstr" up to 44 bytes and "raw" beyond; hashes ask
 *   hashes.ts, which remembers conversions to "hashtable"; lists are always
 *   "quicklist" in 7.0; sets are "intset" while they hold at most 512
 *   integers, else "hashtable"; sorted sets know their own encoding. What
 *   the value alone cannot tell is how a string was built (Redis makes the
 *   result of APPEND or SETRANGE "raw" and of INCRBYFLOAT "embstr") or that
 *   a set which once outgrew the intset limits shrank back under them; there
 *   the answer is the one for a value freshly written by SET or SADD.
 *
 * Access times follow Redis's touch rules: EXISTS, TYPE, OBJECT and
 * RANDOMKEY look keys up without counting an access (LOOKUP_NOTOUCH, the
 * keyspace's `peek`), TOUCH and every other read or write count one. OBJECT
 * IDLETIME reads the key's LRU clock (an error under an LFU policy) and
 * OBJECT FREQ its LFU counter (an error under any other policy), from the
 * access words the keyspace keeps (store/access_words.ts). Those are kept
 * only while maxmemory or an eviction policy is set, so the first OBJECT
 * IDLETIME on a server with neither starts keeping them: it answers 0, and
 * idle times from then on. RANDOMKEY draws from the same words in O(1)
 * while they are kept.
 *
 * @module
 */

import type { Client } from "./client.ts";
import { globMatch } from "../store/glob.ts";
import type { Database } from "../store/keyspace.ts";
import { idleMilliseconds, lfuCounter } from "../store/access_words.ts";
import { copyValue, encodingOf, type RedisValue, typeOf } from "../store/values.ts";
import { ArgumentCursor, parseInteger, requireInteger } from "./arguments.ts";
import { lookupRead } from "./access.ts";
import {
  CommandError,
  DB_INDEX_NOT_INT,
  DB_INDEX_OUT_OF_RANGE,
  LFU_NOT_SELECTED,
  LFU_SELECTED,
  NO_SUCH_KEY,
  SAME_OBJECT,
  SYNTAX_ERROR,
} from "./errors.ts";
import { scanKeyspace } from "./scan.ts";
import { command, type CommandDeclaration } from "./table.ts";

/** Longest string Redis tries to store as an integer. */
const INT_MAX_LENGTH = 20;
/** Integers 0..9999 are one shared object in Redis, with this reference count. */
const SHARED_INTEGERS = 10000;
const SHARED_REFCOUNT = 2147483647;
const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

const OBJECT_HELP = [
  "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "ENCODING <key>",
  "    Return the kind of internal representation used in order to store the value",
  "    associated with a <key>.",
  "FREQ <key>",
  "    Return the access frequency index of the <key>. The returned integer is",
  "    proportional to the logarithm of the recent access frequency of the key.",
  "IDLETIME <key>",
  "    Return the idle time of the <key>, that is the approximated number of",
  "    seconds elapsed since the last access to the key.",
  "REFCOUNT <key>",
  "    Return the number of references of the value associated with the specified",
  "    <key>.",
  "HELP",
  "    Prints this help.",
];

function del(client: Client, args: string[]): void {
  let deleted = 0;
  const db = client.db;
  for (let i = 1; i < args.length; i++) {
    const key = args[i]!;
    // lookup first so an expired key counts as missing (and is logged as expired).
    if (db.lookup(key) !== undefined && db.delete(key)) {
      client.changed(key, "del", "g");
      deleted++;
    }
  }
  client.reply.integer(deleted);
}

/**
 * A read that is not an access (Redis's LOOKUP_NOTOUCH): expiry applies and
 * the keyspace hit or miss is counted, the key's access word is left alone.
 */
function lookupWithoutTouch(client: Client, key: string): RedisValue | undefined {
  const value = client.db.peek(key);
  if (value === undefined) client.server.stats.keyspaceMisses++;
  else client.server.stats.keyspaceHits++;
  return value;
}

/** EXISTS (no access) and TOUCH (an access): how many of the keys exist, repeats counted. */
function countExisting(client: Client, args: string[], touch: boolean): void {
  let count = 0;
  for (let i = 1; i < args.length; i++) {
    const key = args[i]!;
    if ((touch ? lookupRead(client, key) : lookupWithoutTouch(client, key)) !== undefined) count++;
  }
  client.reply.integer(count);
}

function keys(client: Client, args: string[]): void {
  const pattern = args[1]!;
  const all = pattern === "*";
  const matching: string[] = [];
  for (const key of client.db.liveKeys()) {
    if (all || globMatch(pattern, key)) matching.push(key);
  }
  client.reply.bulkArray(matching);
}

/** Draws on a replica before answering a key past its deadline (Redis's dbRandomKey). */
const REPLICA_RANDOM_TRIES = 100;

/**
 * A key chosen uniformly among the live ones, or null: O(1) from the access
 * words while they are kept, else a walk to a random position of the Map
 * (O(N), where Redis is O(1)). A chosen key found expired is removed and
 * another one is drawn; on a replica, where it stays, after a hundred
 * draws the expired key is the answer, as Redis gives up there too.
 */
function randomKey(client: Client): void {
  const db = client.db;
  let tries = REPLICA_RANDOM_TRIES;
  while (db.size > 0) {
    const key = db.randomKey() ?? keyAtRandomPosition(db);
    if (db.peek(key) !== undefined || (!db.keyspace.expireOnLookup && --tries === 0)) {
      client.reply.bulk(key);
      return;
    }
  }
  client.reply.nullBulk();
}

function keyAtRandomPosition(db: Database): string {
  let position = Math.floor(Math.random() * db.size);
  for (const key of db.entries.keys()) if (position-- === 0) return key;
  throw new Error("Database size changed while drawing a random key");
}

/**
 * RENAME and RENAMENX. The value moves with its deadline; an existing
 * destination is overwritten (RENAME) or left alone (RENAMENX answers 0).
 * Renaming a key onto itself changes nothing.
 */
function rename(client: Client, args: string[], onlyIfAbsent: boolean): void {
  const source = args[1]!;
  const destination = args[2]!;
  const db = client.db;
  const value = db.lookup(source);
  if (value === undefined) throw new CommandError(NO_SUCH_KEY);
  const reply = (renamed: boolean) => {
    if (onlyIfAbsent) client.reply.integer(renamed ? 1 : 0);
    else client.reply.ok();
  };
  if (source === destination) {
    reply(false);
    return;
  }
  if (db.has(destination)) {
    if (onlyIfAbsent) {
      reply(false);
      return;
    }
    db.delete(destination);
  }
  const deadline = db.expireAt(source);
  db.delete(source);
  db.set(destination, value);
  if (deadline !== undefined) db.setExpireAt(destination, deadline);
  client.changed(source, "rename_from", "g");
  client.changed(destination, "rename_to", "g");
  reply(true);
}

/** The database a DB argument names (COPY, MOVE), with Redis's errors. */
function databaseArgument(client: Client, text: string): Database {
  const index = requireInteger(text);
  if (index < INT_MIN || index > INT_MAX) throw new CommandError(DB_INDEX_NOT_INT);
  const db = client.server.keyspace.databases[index];
  if (db === undefined) throw new CommandError(DB_INDEX_OUT_OF_RANGE);
  return db;
}

/** COPY source destination [DB index] [REPLACE]: the copy keeps the deadline. */
function copy(client: Client, args: string[]): void {
  const cursor = new ArgumentCursor(args);
  const source = cursor.key();
  const destination = cursor.key();
  let target = client.db;
  let replace = false;
  while (cursor.hasMore()) {
    const option = cursor.keyword();
    if (option === "REPLACE") replace = true;
    else if (option === "DB" && cursor.hasMore()) {
      target = databaseArgument(client, cursor.next());
    } else throw new CommandError(SYNTAX_ERROR);
  }
  if (target === client.db && source === destination) throw new CommandError(SAME_OBJECT);
  const value = lookupRead(client, source);
  if (value === undefined) {
    client.reply.integer(0);
    return;
  }
  const deadline = client.db.expireAt(source);
  if (target.has(destination)) {
    if (!replace) {
      client.reply.integer(0);
      return;
    }
    target.delete(destination);
  }
  target.set(destination, copyValue(value));
  if (deadline !== undefined) target.setExpireAt(destination, deadline);
  client.server.keyChanged(target, destination, "copy_to", "g");
  client.reply.integer(1);
}

/** MOVE key db: answers 0 when the key is missing or already exists there. */
function move(client: Client, args: string[]): void {
  const key = args[1]!;
  const source = client.db;
  const target = databaseArgument(client, args[2]!);
  if (target === source) throw new CommandError(SAME_OBJECT);
  const value = source.lookup(key);
  if (value === undefined || target.has(key)) {
    client.reply.integer(0);
    return;
  }
  const deadline = source.expireAt(key);
  source.delete(key);
  target.set(key, value);
  if (deadline !== undefined) target.setExpireAt(key, deadline);
  const server = client.server;
  server.keyChanged(source, key, "move_from", "g");
  server.keyChanged(target, key, "move_to", "g");
  client.reply.integer(1);
}

/**
 * Small integers are shared objects in Redis, with a reference count that
 * never moves, unless maxmemory is set with an LRU or LFU policy: each key
 * then needs its own access word (MAXMEMORY_FLAG_NO_SHARED_INTEGERS).
 */
function refcountOf(client: Client, value: RedisValue): number {
  if (typeof value !== "string" || value.length > INT_MAX_LENGTH) return 1;
  const config = client.server.config;
  if (config.maxmemory !== 0 && /lru|lfu/.test(config.maxmemoryPolicy)) return 1;
  const integer = parseInteger(value);
  return integer !== undefined && integer >= 0 && integer < SHARED_INTEGERS ? SHARED_REFCOUNT : 1;
}

/**
 * An OBJECT subcommand that inspects the value at `args[2]`, without
 * counting an access: a null reply for a missing key, else what `inspect`
 * answers.
 */
function objectSubcommand(
  name: string,
  inspect: (client: Client, value: RedisValue, key: string) => void,
): CommandDeclaration {
  return {
    name: `object|${name}`,
    arity: 3,
    flags: ["readonly"],
    aclCategories: ["keyspace"],
    keySpecs: [{ flags: ["RO"], begin: { index: 2 }, find: { lastKey: 0 } }],
    handler: (client: Client, args: string[]) => {
      const key = args[2]!;
      const value = lookupWithoutTouch(client, key);
      if (value === undefined) client.reply.nullBulk();
      else inspect(client, value, key);
    },
  };
}

/**
 * OBJECT IDLETIME: seconds since the key's last access, from its LRU word
 * and the clock accesses record (refreshed by the cron, as Redis's cached
 * LRU clock), so a key just written answers 0.
 */
function idleTime(client: Client, key: string): void {
  const server = client.server;
  if (server.config.maxmemoryPolicy.endsWith("lfu")) throw new CommandError(LFU_SELECTED);
  const keyspace = server.keyspace;
  // The first question starts the clocks (see the module doc).
  if (keyspace.accessMode === undefined) keyspace.trackAccess("lru");
  const word = client.db.accessWord(key);
  const idle = word === undefined ? 0 : idleMilliseconds(word, keyspace.lruClock);
  client.reply.integer(Math.floor(idle / 1000));
}

/** OBJECT FREQ: the key's LFU counter, decayed to the minutes accesses record. */
function frequency(client: Client, key: string): void {
  const server = client.server;
  if (!server.config.maxmemoryPolicy.endsWith("lfu")) throw new CommandError(LFU_NOT_SELECTED);
  const keyspace = server.keyspace;
  const word = client.db.accessWord(key) ?? 0;
  client.reply.integer(lfuCounter(word, keyspace.lfuMinutes, keyspace.lfuDecayTime));
}

export const keyCommands = [
  command({
    name: "del",
    arity: -2,
    flags: ["write"],
    aclCategories: ["keyspace"],
    keySpecs: [{ flags: ["RM", "DELETE"], begin: { index: 1 }, find: { lastKey: -1 } }],
    handler: del,
  }),
  command({
    name: "unlink",
    arity: -2,
    flags: ["write", "fast"],
    aclCategories: ["keyspace"],
    keySpecs: [{ flags: ["RM", "DELETE"], begin: { index: 1 }, find: { lastKey: -1 } }],
    handler: del,
  }),
  command({
    name: "exists",
    arity: -2,
    flags: ["readonly", "fast"],
    aclCategories: ["keyspace"],
    keySpecs: [{ flags: ["RO"], begin: { index: 1 }, find: { lastKey: -1 } }],
    handler: (client, args) => countExisting(client, args, false),
  }),
  command({
    name: "touch",
    arity: -2,
    flags: ["readonly", "fast"],
    aclCategories: ["keyspace"],
    keySpecs: [{ flags: ["RO"], begin: { index: 1 }, find: { lastKey: -1 } }],
    handler: (client, args) => countExisting(client, args, true),
  }),
  command({
    name: "type",
    arity: 2,
    flags: ["readonly", "fast"],
    aclCategories: ["keyspace"],
    keySpecs: [{ flags: ["RO"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => {
      const value = lookupWithoutTouch(client, args[1]!);
      client.reply.simple(value === undefined ? "none" : typeOf(value));
    },
  }),
  command({
    name: "keys",
    arity: 2,
    flags: ["readonly"],
    aclCategories: ["keyspace", "dangerous"],
    handler: keys,
  }),
  command({
    name: "scan",
    arity: -2,
    flags: ["readonly"],
    aclCategories: ["keyspace"],
    handler: scanKeyspace,
  }),
  command({
    name: "randomkey",
    arity: 1,
    flags: ["readonly"],
    aclCategories: ["keyspace"],
    handler: randomKey,
  }),
  command({
    name: "rename",
    arity: 3,
    flags: ["write"],
    aclCategories: ["keyspace"],
    keySpecs: [
      { flags: ["RW", "ACCESS", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } },
      { flags: ["OW", "UPDATE"], begin: { index: 2 }, find: { lastKey: 0 } },
    ],
    handler: (client, args) => rename(client, args, false),
  }),
  command({
    name: "renamenx",
    arity: 3,
    flags: ["write", "fast"],
    aclCategories: ["keyspace"],
    keySpecs: [
      { flags: ["RW", "ACCESS", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } },
      { flags: ["OW", "INSERT"], begin: { index: 2 }, find: { lastKey: 0 } },
    ],
    handler: (client, args) => rename(client, args, true),
  }),
  command({
    name: "copy",
    arity: -3,
    flags: ["write", "denyoom"],
    aclCategories: ["keyspace"],
    keySpecs: [
      { flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } },
      { flags: ["OW", "UPDATE"], begin: { index: 2 }, find: { lastKey: 0 } },
    ],
    handler: copy,
  }),
  command({
    name: "move",
    arity: 3,
    flags: ["write", "fast"],
    aclCategories: ["keyspace"],
    keySpecs: [{ flags: ["RW", "ACCESS", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: move,
  }),
  command({
    name: "object",
    arity: -2,
    flags: [],
    subcommands: [
      objectSubcommand("encoding", (client, value) => client.reply.bulk(encodingOf(value))),
      objectSubcommand("freq", (client, _value, key) => frequency(client, key)),
      objectSubcommand("idletime", (client, _value, key) => idleTime(client, key)),
      objectSubcommand(
        "refcount",
        (client, value) => client.reply.integer(refcountOf(client, value)),
      ),
      {
        name: "object|help",
        arity: 2,
        flags: ["loading", "stale"],
        aclCategories: ["keyspace"],
        handler: (client) => {
          client.reply.arrayHeader(OBJECT_HELP.length);
          for (const line of OBJECT_HELP) client.reply.simple(line);
        },
      },
    ],
  }),
];
