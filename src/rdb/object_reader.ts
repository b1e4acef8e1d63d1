/**
 * Reads one value in RDB object encoding (`rdbLoadObject`): every type
 * Redis 7.0 loads, from the plain forms of Redis 1.x to the listpacks of
 * 7.0, into whatever an `RdbValueBuilder` makes of it — the logical model
 * (`defaultValueBuilder`) or a store's own structures.
 *
 * Elements go to the builder as they are decoded, with no array in
 * between: loading a million small hashes then allocates the hashes and
 * their strings, nothing else, which is what keeps the garbage collector
 * out of the way of a big load. The builder's structures also detect
 * duplicate members and fields as a side effect of adding them, so no
 * separate pass over the elements is needed for that.
 *
 * Checks are those of Redis with `sanitize-dump-payload yes`, always on:
 * the compact encodings are validated element by element as they are
 * decoded (which costs nothing extra, since every element is decoded
 * anyway), duplicates are refused wherever Redis refuses them, and NaN
 * scores too. Empty collections come back as `EMPTY_KEY`: Redis skips them
 * when loading a file and refuses them in RESTORE, and the callers do the
 * same. Module values are refused with the module's name, decoded from the
 * module ID as `moduleTypeNameByID` does.
 *
 * @module
 */

import { parseDouble } from "../protocol/doubles.ts";
import { QUICKLIST_NODE, RDB_TYPE } from "./constants.ts";
import type { RdbCursor } from "./cursor.ts";
import { intsetStrings } from "./intset.ts";
import { ListpackReader } from "./listpack.ts";
import { RdbError, type RdbStream, type RdbValue, type RdbValueBuilder } from "./model.ts";
import { readStream } from "./stream_codec.ts";
import { zipmapEntries } from "./zipmap.ts";
import { ziplistStrings } from "./ziplist.ts";

/** Returned instead of a value for an empty collection. */
export const EMPTY_KEY: unique symbol = Symbol("empty key");

/** Whether `type` is a value type the reader knows (`rdbIsObjectType`). */
export function isObjectType(type: number, allowNewer: boolean): boolean {
  return (type >= 0 && type <= 7) || (type >= 9 && type <= 19) ||
    (allowNewer && (type === RDB_TYPE.SET_LISTPACK || type === RDB_TYPE.STREAM_LISTPACKS_3));
}

const MODULE_NAME_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** The 9-character module type name packed in a module ID's top 54 bits. */
export function moduleTypeName(moduleId: bigint): string {
  let id = BigInt.asUintN(64, moduleId) >> 10n;
  let name = "";
  for (let i = 0; i < 9; i++) {
    name = MODULE_NAME_CHARACTERS[Number(id & 63n)]! + name;
    id >>= 6n;
  }
  return name;
}

/**
 * Makes the logical model's values. Members and fields are checked for
 * duplicates with one reused Set, so a value costs its arrays only.
 */
class ModelBuilder implements RdbValueBuilder<RdbValue> {
  readonly streamNodes = false;
  #items: string[] = [];
  #hashEntries: [string, string][] = [];
  #zsetEntries: [string, number][] = [];
  #descending = false;
  readonly #seen = new Set<string>();

  string(value: string): RdbValue {
    return { type: "string", value };
  }

  beginList(): void {
    this.#items = [];
  }

  pushItem(item: string): void {
    this.#items.push(item);
  }

  endList(): RdbValue {
    return { type: "list", items: this.#items };
  }

  beginSet(): void {
    this.#items = [];
    this.#seen.clear();
  }

  addMember(member: string): boolean {
    const seen = this.#seen;
    const size = seen.size;
    seen.add(member);
    if (seen.size === size) return false;
    this.#items.push(member);
    return true;
  }

  endSet(): RdbValue {
    this.#seen.clear();
    return { type: "set", members: this.#items };
  }

  beginZset(_size: number, descending: boolean): void {
    this.#zsetEntries = [];
    this.#descending = descending;
    this.#seen.clear();
  }

  addEntry(member: string, score: number): boolean {
    const seen = this.#seen;
    const size = seen.size;
    seen.add(member);
    if (seen.size === size) return false;
    this.#zsetEntries.push([member, score]);
    return true;
  }

  endZset(): RdbValue {
    this.#seen.clear();
    const entries = this.#zsetEntries;
    if (this.#descending) entries.reverse();
    return { type: "zset", entries };
  }

  beginHash(): void {
    this.#hashEntries = [];
    this.#seen.clear();
  }

  addField(field: string, value: string): boolean {
    const seen = this.#seen;
    const size = seen.size;
    seen.add(field);
    if (seen.size === size) return false;
    this.#hashEntries.push([field, value]);
    return true;
  }

  endHash(): RdbValue {
    this.#seen.clear();
    return { type: "hash", entries: this.#hashEntries };
  }

  stream(stream: RdbStream): RdbValue {
    return { type: "stream", stream };
  }
}

/** The builder of the logical model (`RdbValue`), which the reader uses unless given another. */
export function defaultValueBuilder(): RdbValueBuilder<RdbValue> {
  return new ModelBuilder();
}

/**
 * Reads a value of RDB type `type` at the cursor into `builder`. Throws
 * `NEED_MORE` when the cursor's bytes end first, `RdbError` when they are
 * invalid. After either, the builder's half-built value is abandoned: the
 * next `begin...` starts afresh.
 */
export function readObject<V>(
  cursor: RdbCursor,
  type: number,
  builder: RdbValueBuilder<V>,
): V | typeof EMPTY_KEY {
  switch (type) {
    case RDB_TYPE.STRING:
      return builder.string(cursor.string());
    case RDB_TYPE.LIST:
      return readPlainList(cursor, builder);
    case RDB_TYPE.SET:
      return readPlainSet(cursor, builder);
    case RDB_TYPE.ZSET:
    case RDB_TYPE.ZSET_2:
      return readPlainZset(cursor, type === RDB_TYPE.ZSET_2, builder);
    case RDB_TYPE.HASH:
      return readPlainHash(cursor, builder);
    case RDB_TYPE.LIST_QUICKLIST:
    case RDB_TYPE.LIST_QUICKLIST_2:
      return readQuicklist(cursor, type === RDB_TYPE.LIST_QUICKLIST_2, builder);
    case RDB_TYPE.HASH_ZIPMAP: {
      const entries = zipmapEntries(cursor.blob());
      builder.beginHash(entries.length);
      for (const [field, value] of entries) {
        if (!builder.addField(field, value)) throw cursor.corrupt("Zipmap integrity check failed.");
      }
      return builder.endHash();
    }
    case RDB_TYPE.LIST_ZIPLIST: {
      const items = ziplistStrings(cursor.blob(), "List ziplist");
      if (items.length === 0) return EMPTY_KEY;
      builder.beginList();
      for (const item of items) builder.pushItem(item);
      return builder.endList();
    }
    case RDB_TYPE.SET_INTSET: {
      const members = intsetStrings(cursor.blob());
      builder.beginSet(members.length);
      for (const member of members) {
        if (!builder.addMember(member)) throw cursor.corrupt("Intset integrity check failed.");
      }
      return builder.endSet();
    }
    case RDB_TYPE.SET_LISTPACK:
      return readSetListpack(cursor, builder);
    case RDB_TYPE.ZSET_ZIPLIST:
      return zsetFromPairs(cursor, ziplistStrings(cursor.blob(), "Zset ziplist"), builder);
    case RDB_TYPE.ZSET_LISTPACK:
      return readZsetListpack(cursor, builder);
    case RDB_TYPE.HASH_ZIPLIST:
      return hashFromPairs(cursor, ziplistStrings(cursor.blob(), "Hash ziplist"), builder);
    case RDB_TYPE.HASH_LISTPACK:
      return readHashListpack(cursor, builder);
    case RDB_TYPE.STREAM_LISTPACKS:
    case RDB_TYPE.STREAM_LISTPACKS_2:
    case RDB_TYPE.STREAM_LISTPACKS_3:
      return builder.stream(readStream(cursor, type, builder.streamNodes));
    case RDB_TYPE.MODULE:
    case RDB_TYPE.MODULE_2: {
      const name = moduleTypeName(cursor.lengthBig());
      throw new RdbError(
        "unsupported",
        `The RDB file contains module data I can't load: no matching module type '${name}'`,
        cursor.offset(),
      );
    }
    default:
      throw cursor.corrupt(`Unknown RDB encoding type ${type}`);
  }
}

function readPlainList<V>(cursor: RdbCursor, builder: RdbValueBuilder<V>): V | typeof EMPTY_KEY {
  const count = cursor.length();
  if (count === 0) return EMPTY_KEY;
  builder.beginList();
  for (let i = 0; i < count; i++) builder.pushItem(cursor.string());
  return builder.endList();
}

function readPlainSet<V>(cursor: RdbCursor, builder: RdbValueBuilder<V>): V | typeof EMPTY_KEY {
  const count = cursor.length();
  if (count === 0) return EMPTY_KEY;
  builder.beginSet(count);
  for (let i = 0; i < count; i++) {
    if (!builder.addMember(cursor.string())) {
      throw cursor.corrupt("Duplicate set members detected");
    }
  }
  return builder.endSet();
}

function readPlainZset<V>(
  cursor: RdbCursor,
  binary: boolean,
  builder: RdbValueBuilder<V>,
): V | typeof EMPTY_KEY {
  const count = cursor.length();
  if (count === 0) return EMPTY_KEY;
  // Redis saves the skiplist from the greatest element down.
  builder.beginZset(count, true);
  for (let i = 0; i < count; i++) {
    const member = cursor.string();
    const score = binary ? cursor.binaryDouble() : cursor.textDouble();
    if (Number.isNaN(score)) throw cursor.corrupt("Zset with NAN score detected");
    if (!builder.addEntry(member, score)) throw cursor.corrupt("Duplicate zset fields detected");
  }
  return builder.endZset();
}

function readPlainHash<V>(cursor: RdbCursor, builder: RdbValueBuilder<V>): V | typeof EMPTY_KEY {
  const count = cursor.length();
  if (count === 0) return EMPTY_KEY;
  builder.beginHash(count);
  for (let i = 0; i < count; i++) {
    const field = cursor.string();
    if (!builder.addField(field, cursor.string())) {
      throw cursor.corrupt("Duplicate hash fields detected");
    }
  }
  return builder.endHash();
}

function readQuicklist<V>(
  cursor: RdbCursor,
  version2: boolean,
  builder: RdbValueBuilder<V>,
): V | typeof EMPTY_KEY {
  const nodeCount = cursor.length();
  if (nodeCount === 0) return EMPTY_KEY;
  builder.beginList();
  let count = 0;
  for (let i = 0; i < nodeCount; i++) {
    let container: number = QUICKLIST_NODE.PACKED;
    if (version2) {
      container = cursor.length();
      if (container !== QUICKLIST_NODE.PACKED && container !== QUICKLIST_NODE.PLAIN) {
        throw cursor.corrupt("Quicklist integrity check failed.");
      }
    }
    if (container === QUICKLIST_NODE.PLAIN) {
      const item = cursor.string();
      if (item.length === 0) throw cursor.corrupt("Quicklist integrity check failed.");
      builder.pushItem(item);
      count++;
      continue;
    }
    if (version2) {
      cursor.blobRange();
      if (cursor.blobEnd === cursor.blobStart) {
        throw cursor.corrupt("Quicklist integrity check failed.");
      }
      const reader = SHARED_READER;
      reader.open(cursor.blobBytes, cursor.blobStart, cursor.blobEnd, "Listpack");
      while (reader.next()) {
        builder.pushItem(reader.string());
        count++;
      }
      continue;
    }
    const blob = cursor.blob();
    if (blob.length === 0) throw cursor.corrupt("Quicklist integrity check failed.");
    for (const item of ziplistStrings(blob, "Ziplist")) {
      builder.pushItem(item);
      count++;
    }
  }
  if (count === 0) return EMPTY_KEY;
  return builder.endList();
}

function hashFromPairs<V>(
  cursor: RdbCursor,
  items: string[],
  builder: RdbValueBuilder<V>,
): V | typeof EMPTY_KEY {
  const what = "Hash ziplist";
  if (items.length % 2 !== 0) throw cursor.corrupt(`${what} integrity check failed.`);
  if (items.length === 0) return EMPTY_KEY;
  builder.beginHash(items.length / 2);
  for (let i = 0; i < items.length; i += 2) {
    if (!builder.addField(items[i]!, items[i + 1]!)) {
      throw cursor.corrupt(`${what} integrity check failed.`);
    }
  }
  return builder.endHash();
}

function zsetFromPairs<V>(
  cursor: RdbCursor,
  items: string[],
  builder: RdbValueBuilder<V>,
): V | typeof EMPTY_KEY {
  const what = "Zset ziplist";
  if (items.length % 2 !== 0) throw cursor.corrupt(`${what} integrity check failed.`);
  if (items.length === 0) return EMPTY_KEY;
  builder.beginZset(items.length / 2, false);
  const order = new OrderCheck(cursor, what);
  for (let i = 0; i < items.length; i += 2) {
    const score = parseDouble(items[i + 1]!);
    if (score === undefined) throw cursor.corrupt(`${what} has an invalid score`);
    const member = items[i]!;
    order.next(member, score);
    if (!builder.addEntry(member, score)) throw cursor.corrupt(`${what} integrity check failed.`);
  }
  return builder.endZset();
}

/** One reader for every listpack a value is made of: decoding allocates no reader per value. */
const SHARED_READER = new ListpackReader();

function readSetListpack<V>(cursor: RdbCursor, builder: RdbValueBuilder<V>): V | typeof EMPTY_KEY {
  const what = "Set listpack";
  cursor.blobRange();
  const reader = SHARED_READER;
  reader.open(cursor.blobBytes, cursor.blobStart, cursor.blobEnd, what);
  let count = 0;
  builder.beginSet(0);
  while (reader.next()) {
    if (!builder.addMember(reader.string())) {
      throw cursor.corrupt(`${what} integrity check failed.`);
    }
    count++;
  }
  return count === 0 ? EMPTY_KEY : builder.endSet();
}

function readHashListpack<V>(
  cursor: RdbCursor,
  builder: RdbValueBuilder<V>,
): V | typeof EMPTY_KEY {
  const what = "Hash listpack";
  cursor.blobRange();
  const reader = SHARED_READER;
  reader.open(cursor.blobBytes, cursor.blobStart, cursor.blobEnd, what);
  let count = 0;
  builder.beginHash(0);
  while (reader.next()) {
    const field = reader.string();
    if (!reader.next()) throw cursor.corrupt(`${what} integrity check failed.`);
    if (!builder.addField(field, reader.string())) {
      throw cursor.corrupt(`${what} integrity check failed.`);
    }
    count++;
  }
  return count === 0 ? EMPTY_KEY : builder.endHash();
}

function readZsetListpack<V>(
  cursor: RdbCursor,
  builder: RdbValueBuilder<V>,
): V | typeof EMPTY_KEY {
  const what = "Zset listpack";
  cursor.blobRange();
  const reader = SHARED_READER;
  reader.open(cursor.blobBytes, cursor.blobStart, cursor.blobEnd, what);
  let count = 0;
  builder.beginZset(0, false);
  const order = new OrderCheck(cursor, what);
  while (reader.next()) {
    const member = reader.string();
    if (!reader.next()) throw cursor.corrupt(`${what} integrity check failed.`);
    const score = reader.isInteger ? Number(reader.integer) : parseDouble(reader.string());
    if (score === undefined) throw cursor.corrupt(`${what} has an invalid score`);
    order.next(member, score);
    if (!builder.addEntry(member, score)) throw cursor.corrupt(`${what} integrity check failed.`);
    count++;
  }
  return count === 0 ? EMPTY_KEY : builder.endZset();
}

/**
 * Refuses compact sorted set entries out of (score, member) order: Redis
 * keeps its compact sorted sets sorted and trusts the order, so an
 * unsorted one would be served unsorted.
 */
class OrderCheck {
  #member: string | undefined;
  #score = 0;

  constructor(readonly cursor: RdbCursor, readonly what: string) {}

  next(member: string, score: number): void {
    if (
      this.#member !== undefined &&
      (this.#score > score || (this.#score === score && this.#member > member))
    ) {
      throw this.cursor.corrupt(`${this.what} entries are out of order`);
    }
    this.#member = member;
    this.#score = score;
  }
}
