/**
 * Set commands: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SPOP,
 * SRANDMEMBER, SMOVE, SINTER, SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE,
 * SDIFF, SDIFFSTORE, SSCAN.
 *
 * Sets are MemberSets (store/set.ts): an intset of sorted integers while
 * Redis would keep one, otherwise a JavaScript Set of binary strings, so
 * membership is O(1) or a binary search. Members are added with the live
 * configuration's `set-max-intset-entries`, so a set converts when Redis's
 * would, and results of the algebra commands are built as Redis builds
 * them, so they get its encoding too. An intset lists its members in
 * ascending order, as Redis's does; a hash table lists them in insertion
 * order, where Redis's order is its hash table's, which no client may rely
 * on: Redis documents these replies as unordered.
 *
 * The three algebra commands share two functions, as in Redis: `intersect`
 * (SINTER, SINTERCARD, SINTERSTORE) and `combine` (SUNION, SDIFF and their
 * STORE forms). A STORE form replaces the destination with a new set, or
 * deletes it when the result is empty.
 *
 * SPOP and SRANDMEMBER need a uniformly random member in O(1); the set
 * value itself (store/set.ts's MemberSet) provides that, as long as every
 * change goes through its methods. SPOP is random, so it is logged to the
 * AOF as the SREM of what it removed (or DEL when it took the whole set), as
 * Redis does.
 *
 * @module
 */

import type { Client } from "./client.ts";
import { MemberSet } from "../store/set.ts";
import type { SetValue } from "../store/values.ts";
import { deleteIfEmpty, getOrCreate, getSet } from "./access.ts";
import { ArgumentCursor, parseInt64, requireInteger } from "./arguments.ts";
import {
  CommandError,
  LIMIT_NEGATIVE,
  NOT_POSITIVE,
  NUMKEYS_NOT_POSITIVE,
  NUMKEYS_TOO_LARGE,
  RANDOM_COUNT_RANGE,
  RANDOM_REPLY_TOO_LARGE,
  SYNTAX_ERROR,
} from "./errors.ts";
import { scanCollection } from "./scan.ts";
import { command, numkeysKeyFinder } from "./table.ts";

const INT64_MIN = -9223372036854775808n;
/** Largest reply SRANDMEMBER with a negative count may build: proto-max-bulk-len. */
const MAX_RANDOM_REPLY_BYTES = 512 * 1024 * 1024;
/** Members sampled to estimate that size. */
const SIZE_SAMPLES = 64;
/** Upper bound of a bulk string's framing: `$`, length, CRLF, CRLF. */
const BULK_FRAMING_BYTES = 16;
/** SPOP's effect is logged as SREMs of at most this many members each. */
const SREM_BATCH = 1024;

const newSet = (): SetValue => new MemberSet();

/** A uniformly random integer in [0, bound). */
function randomIndex(bound: number): number {
  return Math.floor(Math.random() * bound);
}

function replySet(client: Client, members: Iterable<string>, size: number): void {
  client.reply.setHeader(size);
  for (const member of members) client.reply.bulk(member);
}

function sadd(client: Client, args: string[]): void {
  const key = args[1]!;
  const set = getOrCreate(client, key, "set", newSet);
  const added = set.addMembers(args, 2, client.server.config);
  if (added > 0) client.changed(key, "sadd", "s");
  client.reply.integer(added);
}

function srem(client: Client, args: string[]): void {
  const key = args[1]!;
  const set = getSet(client, key);
  let removed = 0;
  if (set !== undefined) {
    for (let i = 2; i < args.length && set.size > 0; i++) {
      if (set.removeMember(args[i]!)) removed++;
    }
    if (removed > 0) {
      client.changed(key, "srem", "s");
      deleteIfEmpty(client, key, set.size);
    }
  }
  client.reply.integer(removed);
}

function smembers(client: Client, args: string[]): void {
  const set = getSet(client, args[1]!);
  if (set === undefined) replySet(client, [], 0);
  else replySet(client, set, set.size);
}

function sismember(client: Client, args: string[]): void {
  const set = getSet(client, args[1]!);
  client.reply.integer(set?.has(args[2]!) ? 1 : 0);
}

function smismember(client: Client, args: string[]): void {
  const set = getSet(client, args[1]!);
  client.reply.arrayHeader(args.length - 2);
  for (let i = 2; i < args.length; i++) client.reply.integer(set?.has(args[i]!) ? 1 : 0);
}

function scard(client: Client, args: string[]): void {
  client.reply.integer(getSet(client, args[1]!)?.size ?? 0);
}

function spop(client: Client, args: string[]): void {
  if (args.length > 3) throw new CommandError(SYNTAX_ERROR);
  const key = args[1]!;
  if (args.length === 3) {
    popMany(client, key, requireInteger(args[2]!, NOT_POSITIVE));
    return;
  }
  const set = getSet(client, key);
  if (set === undefined) {
    client.reply.nullBulk();
    return;
  }
  const member = set.popRandom();
  client.changed(key, "spop", "s");
  deleteIfEmpty(client, key, set.size);
  client.addEffect(["SREM", key, member]);
  client.reply.bulk(member);
}

/** SPOP with a count: replies with a set, logs SREMs, or DEL when it takes everything. */
function popMany(client: Client, key: string, count: number): void {
  if (count < 0) throw new CommandError(NOT_POSITIVE);
  const set = getSet(client, key);
  if (set === undefined || count === 0) {
    replySet(client, [], 0);
    return;
  }
  client.changed(key, "spop", "s");
  if (count >= set.size) {
    replySet(client, set, set.size);
    deleteIfEmpty(client, key, 0);
    client.addEffect(["DEL", key]);
    return;
  }
  const popped: string[] = [];
  for (let i = 0; i < count; i++) popped.push(set.popRandom());
  for (let start = 0; start < popped.length; start += SREM_BATCH) {
    client.addEffect(["SREM", key, ...popped.slice(start, start + SREM_BATCH)]);
  }
  replySet(client, popped, popped.length);
}

function srandmember(client: Client, args: string[]): void {
  if (args.length > 3) throw new CommandError(SYNTAX_ERROR);
  if (args.length === 3) {
    randomMembers(client, args[1]!, args[2]!);
    return;
  }
  const set = getSet(client, args[1]!);
  if (set === undefined) {
    client.reply.nullBulk();
    return;
  }
  client.reply.bulk(set.randomMember());
}

/**
 * SRANDMEMBER with a count: distinct members when positive, `-count` picks
 * with repetition when negative. The reply is an array in both protocols.
 */
function randomMembers(client: Client, key: string, countText: string): void {
  const count = requireInteger(countText);
  if (count < -Number.MAX_SAFE_INTEGER && parseInt64(countText) === INT64_MIN) {
    throw new CommandError(RANDOM_COUNT_RANGE);
  }
  const set = getSet(client, key);
  const reply = client.reply;
  if (set === undefined || count === 0) {
    reply.arrayHeader(0);
    return;
  }
  const members = set.sample();
  if (count < 0) {
    const picks = -count;
    if (picks * estimatedBulkSize(members) > MAX_RANDOM_REPLY_BYTES) {
      throw new CommandError(RANDOM_REPLY_TOO_LARGE);
    }
    reply.arrayHeader(picks);
    for (let i = 0; i < picks; i++) reply.bulk(members[randomIndex(members.length)]!);
    return;
  }
  if (count >= members.length) {
    reply.bulkArray(members);
    return;
  }
  reply.bulkArray(distinctSample(members, count));
}

/** Average encoded size of a random member (bulk framing included), from a sample. */
function estimatedBulkSize(members: readonly string[]): number {
  const samples = Math.min(members.length, SIZE_SAMPLES);
  let bytes = 0;
  for (let i = 0; i < samples; i++) bytes += members[randomIndex(members.length)]!.length;
  return bytes / samples + BULK_FRAMING_BYTES;
}

/** `count` distinct entries of `members` (count < members.length), uniformly. */
function distinctSample(members: readonly string[], count: number): string[] {
  if (count * 3 > members.length) {
    // Close to the whole set: a partial Fisher-Yates shuffle of a copy.
    const copy = members.slice();
    for (let i = 0; i < count; i++) {
      const j = i + randomIndex(copy.length - i);
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    copy.length = count;
    return copy;
  }
  // Much smaller than the set: draw indexes until enough distinct ones.
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(randomIndex(members.length));
  return Array.from(chosen, (index) => members[index]!);
}

function smove(client: Client, args: string[]): void {
  const [, sourceKey, destinationKey, member] = args as [string, string, string, string];
  const source = getSet(client, sourceKey);
  if (source === undefined) {
    client.reply.integer(0);
    return;
  }
  let destination = getSet(client, destinationKey);
  if (source === destination) {
    client.reply.integer(source.has(member) ? 1 : 0);
    return;
  }
  if (!source.removeMember(member)) {
    client.reply.integer(0);
    return;
  }
  client.changed(sourceKey, "srem", "s");
  deleteIfEmpty(client, sourceKey, source.size);
  if (destination === undefined) {
    destination = newSet();
    client.db.set(destinationKey, destination);
  }
  if (destination.addMember(member, client.server.config)) {
    client.changed(destinationKey, "sadd", "s");
  }
  client.reply.integer(1);
}

/**
 * The sets at `keys`, undefined standing for a missing key. Every key is
 * checked, so a WRONGTYPE anywhere fails the command.
 */
function lookupSets(client: Client, keys: readonly string[]): (SetValue | undefined)[] {
  return keys.map((key) => getSet(client, key));
}

/**
 * Members common to every set at `keys`, at most `limit` of them (0: all).
 * A missing key is an empty set, so it empties the result.
 */
function intersect(client: Client, keys: readonly string[], limit = 0): string[] {
  const sets = lookupSets(client, keys);
  if (sets.some((set) => set === undefined)) return [];
  // Walk the smallest set, probing the others.
  const ordered = (sets as SetValue[]).sort((a, b) => a.size - b.size);
  const smallest = ordered[0]!;
  const others = ordered.filter((set) => set !== smallest);
  const result: string[] = [];
  for (const member of smallest) {
    if (others.every((set) => set.has(member))) {
      result.push(member);
      if (result.length === limit) break;
    }
  }
  return result;
}

/**
 * SUNION or SDIFF of the sets at `keys`; missing keys are empty sets. The
 * result is built as Redis's sunionDiffGenericCommand builds it, an intset
 * to begin with, so it ends in the encoding Redis's ends in: a difference
 * taken by removing from a copy of the first set (Redis's second algorithm,
 * which it picks when the other sets are small) has converted if that copy
 * had to.
 */
function combine(client: Client, keys: readonly string[], operation: "union" | "diff"): SetValue {
  const sets = lookupSets(client, keys);
  const limits = client.server.config;
  const result = new MemberSet();
  if (operation === "union") {
    for (const set of sets) {
      if (set !== undefined) { for (const member of set) result.addMember(member, limits); }
    }
    return result;
  }
  const first = sets[0];
  if (first === undefined || sets.some((set, i) => i > 0 && set === first)) return result;
  const others = sets.slice(1).filter((set) => set !== undefined) as SetValue[];
  let firstWork = 0;
  let allWork = 0;
  for (const set of sets) {
    if (set === undefined) continue;
    firstWork += first.size;
    allWork += set.size;
  }
  if (Math.floor(firstWork / 2) <= allWork) {
    // Algorithm 1: each member of the first set that no other set has.
    for (const member of first) {
      if (!others.some((set) => set.has(member))) result.addMember(member, limits);
    }
    return result;
  }
  // Algorithm 2: the first set, less every member of the others.
  for (const member of first) result.addMember(member, limits);
  for (let i = 0; i < others.length && result.size > 0; i++) {
    for (const member of others[i]!) result.removeMember(member);
  }
  return result;
}

/**
 * The STORE forms: `members` replaces `destination` (event `event`), or an
 * empty result deletes it. Replies with the stored size.
 */
function store(client: Client, destination: string, members: SetValue, event: string): void {
  if (members.size > 0) {
    client.db.set(destination, members);
    client.changed(destination, event, "s");
  } else if (client.db.lookup(destination) !== undefined) {
    deleteIfEmpty(client, destination, 0);
  }
  client.reply.integer(members.size);
}

/** Parses SINTERCARD's `numkeys key... [LIMIT limit]`. */
function parseIntersectCardinality(args: readonly string[]): { keys: string[]; limit: number } {
  const cursor = new ArgumentCursor(args);
  const numkeys = cursor.integer(NUMKEYS_NOT_POSITIVE);
  if (numkeys < 1) throw new CommandError(NUMKEYS_NOT_POSITIVE);
  if (numkeys > cursor.remaining) throw new CommandError(NUMKEYS_TOO_LARGE);
  const keys: string[] = [];
  for (let i = 0; i < numkeys; i++) keys.push(cursor.key());
  let limit = 0;
  while (cursor.hasMore()) {
    if (cursor.keyword() !== "LIMIT" || !cursor.hasMore()) throw new CommandError(SYNTAX_ERROR);
    limit = cursor.integer(LIMIT_NEGATIVE);
    if (limit < 0) throw new CommandError(LIMIT_NEGATIVE);
  }
  return { keys, limit };
}

export const setCommands = [
  command({
    name: "sadd",
    arity: -3,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["set"],
    keySpecs: [{ flags: ["RW", "INSERT"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: sadd,
  }),
  command({
    name: "srem",
    arity: -3,
    flags: ["write", "fast"],
    aclCategories: ["set"],
    keySpecs: [{ flags: ["RW", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: srem,
  }),
  command({
    name: "smembers",
    arity: 2,
    flags: ["readonly"],
    aclCategories: ["set"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: smembers,
  }),
  command({
    name: "sismember",
    arity: 3,
    flags: ["readonly", "fast"],
    aclCategories: ["set"],
    keySpecs: [{ flags: ["RO"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: sismember,
  }),
  command({
    name: "smismember",
    arity: -3,
    flags: ["readonly", "fast"],
    aclCategories: ["set"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: smismember,
  }),
  command({
    name: "scard",
    arity: 2,
    flags: ["readonly", "fast"],
    aclCategories: ["set"],
    keySpecs: [{ flags: ["RO"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: scard,
  }),
  command({
    name: "spop",
    arity: -2,
    flags: ["write", "fast"],
    aclCategories: ["set"],
    keySpecs: [{ flags: ["RW", "ACCESS", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    propagation: "effects",
    handler: spop,
  }),
  command({
    name: "srandmember",
    arity: -2,
    flags: ["readonly"],
    aclCategories: ["set"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: srandmember,
  }),
  command({
    name: "smove",
    arity: 4,
    flags: ["write", "fast"],
    aclCategories: ["set"],
    keySpecs: [
      { flags: ["RW", "ACCESS", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } },
      { flags: ["RW", "INSERT"], begin: { index: 2 }, find: { lastKey: 0 } },
    ],
    handler: smove,
  }),
  command({
    name: "sinter",
    arity: -2,
    flags: ["readonly"],
    aclCategories: ["set"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: -1 } }],
    handler: (client, args) => {
      const members = intersect(client, args.slice(1));
      replySet(client, members, members.length);
    },
  }),
  command({
    name: "sintercard",
    arity: -3,
    flags: ["readonly"],
    aclCategories: ["set"],
    keySpecs: [
      { flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { keyNumIndex: 0, firstKey: 1 } },
    ],
    keyFinder: numkeysKeyFinder(0, 1, 2),
    handler: (client, args) => {
      const { keys, limit } = parseIntersectCardinality(args);
      client.reply.integer(intersect(client, keys, limit).length);
    },
  }),
  command({
    name: "sinterstore",
    arity: -3,
    flags: ["write", "denyoom"],
    aclCategories: ["set"],
    keySpecs: [
      { flags: ["RW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } },
      { flags: ["RO", "ACCESS"], begin: { index: 2 }, find: { lastKey: -1 } },
    ],
    handler: (client, args) => {
      const result = new MemberSet();
      result.addMembers(intersect(client, args.slice(2)), 0, client.server.config);
      store(client, args[1]!, result, "sinterstore");
    },
  }),
  command({
    name: "sunion",
    arity: -2,
    flags: ["readonly"],
    aclCategories: ["set"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: -1 } }],
    handler: (client, args) => {
      const members = combine(client, args.slice(1), "union");
      replySet(client, members, members.size);
    },
  }),
  command({
    name: "sunionstore",
    arity: -3,
    flags: ["write", "denyoom"],
    aclCategories: ["set"],
    keySpecs: [
      { flags: ["OW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } },
      { flags: ["RO", "ACCESS"], begin: { index: 2 }, find: { lastKey: -1 } },
    ],
    handler: (client, args) =>
      store(client, args[1]!, combine(client, args.slice(2), "union"), "sunionstore"),
  }),
  command({
    name: "sdiff",
    arity: -2,
    flags: ["readonly"],
    aclCategories: ["set"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: -1 } }],
    handler: (client, args) => {
      const members = combine(client, args.slice(1), "diff");
      replySet(client, members, members.size);
    },
  }),
  command({
    name: "sdiffstore",
    arity: -3,
    flags: ["write", "denyoom"],
    aclCategories: ["set"],
    keySpecs: [
      { flags: ["OW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } },
      { flags: ["RO", "ACCESS"], begin: { index: 2 }, find: { lastKey: -1 } },
    ],
    handler: (client, args) =>
      store(client, args[1]!, combine(client, args.slice(2), "diff"), "sdiffstore"),
  }),
  command({
    name: "sscan",
    arity: -3,
    flags: ["readonly"],
    aclCategories: ["set"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => scanCollection(client, args, getSet),
  }),
];
