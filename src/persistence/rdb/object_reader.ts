/**
 * Reads one value in RDB object encoding (`rdbLoadObject`): every type
 * Redis 7.0 loads, from the plain forms of Redis 1.x to the listpacks of
 * 7.0, into the logical model.
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

import { parseDouble } from "../../protocol/doubles.ts";
import { QUICKLIST_NODE, RDB_TYPE } from "./constants.ts";
import type { RdbCursor } from "./cursor.ts";
import { intsetStrings } from "./intset.ts";
import { ListpackReader } from "./listpack.ts";
import { RdbError, type RdbValue } from "./model.ts";
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
 * Reads a value of RDB type `type` at the cursor. Throws `NEED_MORE` when
 * the cursor's bytes end first, `RdbError` when they are invalid.
 */
export function readObject(cursor: RdbCursor, type: number): RdbValue | typeof EMPTY_KEY {
  switch (type) {
    case RDB_TYPE.STRING:
      return { type: "string", value: cursor.string() };
    case RDB_TYPE.LIST:
      return readPlainList(cursor);
    case RDB_TYPE.SET:
      return readPlainSet(cursor);
    case RDB_TYPE.ZSET:
    case RDB_TYPE.ZSET_2:
      return readPlainZset(cursor, type === RDB_TYPE.ZSET_2);
    case RDB_TYPE.HASH:
      return readPlainHash(cursor);
    case RDB_TYPE.LIST_QUICKLIST:
    case RDB_TYPE.LIST_QUICKLIST_2:
      return readQuicklist(cursor, type === RDB_TYPE.LIST_QUICKLIST_2);
    case RDB_TYPE.HASH_ZIPMAP:
      return { type: "hash", entries: zipmapEntries(cursor.blob()) };
    case RDB_TYPE.LIST_ZIPLIST: {
      const items = ziplistStrings(cursor.blob(), "List ziplist");
      return items.length === 0 ? EMPTY_KEY : { type: "list", items };
    }
    case RDB_TYPE.SET_INTSET:
      return { type: "set", members: intsetStrings(cursor.blob()) };
    case RDB_TYPE.SET_LISTPACK: {
      const members = listpackItems(cursor, "Set listpack");
      if (members.length === 0) return EMPTY_KEY;
      if (hasDuplicate(members)) throw cursor.corrupt("Set listpack integrity check failed.");
      return { type: "set", members };
    }
    case RDB_TYPE.ZSET_ZIPLIST:
      return zsetFromPairs(cursor, ziplistStrings(cursor.blob(), "Zset ziplist"), "Zset ziplist");
    case RDB_TYPE.ZSET_LISTPACK:
      return readZsetListpack(cursor);
    case RDB_TYPE.HASH_ZIPLIST:
      return hashFromPairs(cursor, ziplistStrings(cursor.blob(), "Hash ziplist"), "Hash ziplist");
    case RDB_TYPE.HASH_LISTPACK:
      return readHashListpack(cursor);
    case RDB_TYPE.STREAM_LISTPACKS:
    case RDB_TYPE.STREAM_LISTPACKS_2:
    case RDB_TYPE.STREAM_LISTPACKS_3:
      return { type: "stream", stream: readStream(cursor, type) };
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

function readPlainList(cursor: RdbCursor): RdbValue | typeof EMPTY_KEY {
  const count = cursor.length();
  if (count === 0) return EMPTY_KEY;
  const items: string[] = [];
  for (let i = 0; i < count; i++) items.push(cursor.string());
  return { type: "list", items };
}

function readPlainSet(cursor: RdbCursor): RdbValue | typeof EMPTY_KEY {
  const count = cursor.length();
  if (count === 0) return EMPTY_KEY;
  const members: string[] = [];
  for (let i = 0; i < count; i++) members.push(cursor.string());
  if (hasDuplicate(members)) throw cursor.corrupt("Duplicate set members detected");
  return { type: "set", members };
}

function readPlainZset(cursor: RdbCursor, binary: boolean): RdbValue | typeof EMPTY_KEY {
  const count = cursor.length();
  if (count === 0) return EMPTY_KEY;
  const entries: [string, number][] = [];
  for (let i = 0; i < count; i++) {
    const member = cursor.string();
    const score = binary ? cursor.binaryDouble() : cursor.textDouble();
    if (Number.isNaN(score)) throw cursor.corrupt("Zset with NAN score detected");
    entries.push([member, score]);
  }
  if (hasDuplicateKey(entries)) throw cursor.corrupt("Duplicate zset fields detected");
  // Redis saves the skiplist from the greatest element down.
  entries.reverse();
  return { type: "zset", entries };
}

function readPlainHash(cursor: RdbCursor): RdbValue | typeof EMPTY_KEY {
  const count = cursor.length();
  if (count === 0) return EMPTY_KEY;
  const entries: [string, string][] = [];
  for (let i = 0; i < count; i++) {
    const field = cursor.string();
    entries.push([field, cursor.string()]);
  }
  if (hasDuplicateKey(entries)) throw cursor.corrupt("Duplicate hash fields detected");
  return { type: "hash", entries };
}

function readQuicklist(cursor: RdbCursor, version2: boolean): RdbValue | typeof EMPTY_KEY {
  const nodeCount = cursor.length();
  if (nodeCount === 0) return EMPTY_KEY;
  let items: string[] | undefined;
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
      (items ??= []).push(item);
      continue;
    }
    if (version2) {
      cursor.blobRange();
      if (cursor.blobEnd === cursor.blobStart) {
        throw cursor.corrupt("Quicklist integrity check failed.");
      }
      items ??= [];
      const reader = SHARED_READER;
      reader.open(cursor.blobBytes, cursor.blobStart, cursor.blobEnd, "Listpack");
      while (reader.next()) items.push(reader.string());
      continue;
    }
    const blob = cursor.blob();
    if (blob.length === 0) throw cursor.corrupt("Quicklist integrity check failed.");
    const nodeItems = ziplistStrings(blob, "Ziplist");
    if (items === undefined) items = nodeItems;
    else for (const item of nodeItems) items.push(item);
  }
  if (items === undefined || items.length === 0) return EMPTY_KEY;
  return { type: "list", items };
}

function hashFromPairs(
  cursor: RdbCursor,
  items: string[],
  what: string,
): RdbValue | typeof EMPTY_KEY {
  if (items.length % 2 !== 0) throw cursor.corrupt(`${what} integrity check failed.`);
  if (items.length === 0) return EMPTY_KEY;
  const entries: [string, string][] = [];
  for (let i = 0; i < items.length; i += 2) entries.push([items[i]!, items[i + 1]!]);
  if (hasDuplicateKey(entries)) throw cursor.corrupt(`${what} integrity check failed.`);
  return { type: "hash", entries };
}

function zsetFromPairs(
  cursor: RdbCursor,
  items: string[],
  what: string,
): RdbValue | typeof EMPTY_KEY {
  if (items.length % 2 !== 0) throw cursor.corrupt(`${what} integrity check failed.`);
  if (items.length === 0) return EMPTY_KEY;
  const entries: [string, number][] = [];
  for (let i = 0; i < items.length; i += 2) {
    const score = parseDouble(items[i + 1]!);
    if (score === undefined) throw cursor.corrupt(`${what} has an invalid score`);
    addInOrder(cursor, entries, items[i]!, score, what);
  }
  if (hasDuplicateKey(entries)) throw cursor.corrupt(`${what} integrity check failed.`);
  return { type: "zset", entries };
}

/** One reader for every listpack a value is made of: decoding allocates no reader per value. */
const SHARED_READER = new ListpackReader();

function listpackItems(cursor: RdbCursor, what: string): string[] {
  cursor.blobRange();
  const reader = SHARED_READER;
  reader.open(cursor.blobBytes, cursor.blobStart, cursor.blobEnd, what);
  const items: string[] = [];
  while (reader.next()) items.push(reader.string());
  return items;
}

function readHashListpack(cursor: RdbCursor): RdbValue | typeof EMPTY_KEY {
  const what = "Hash listpack";
  cursor.blobRange();
  const reader = SHARED_READER;
  reader.open(cursor.blobBytes, cursor.blobStart, cursor.blobEnd, what);
  const entries: [string, string][] = [];
  while (reader.next()) {
    const field = reader.string();
    if (!reader.next()) throw cursor.corrupt(`${what} integrity check failed.`);
    entries.push([field, reader.string()]);
  }
  if (entries.length === 0) return EMPTY_KEY;
  if (hasDuplicateKey(entries)) throw cursor.corrupt(`${what} integrity check failed.`);
  return { type: "hash", entries };
}

function readZsetListpack(cursor: RdbCursor): RdbValue | typeof EMPTY_KEY {
  const what = "Zset listpack";
  cursor.blobRange();
  const reader = SHARED_READER;
  reader.open(cursor.blobBytes, cursor.blobStart, cursor.blobEnd, what);
  const entries: [string, number][] = [];
  while (reader.next()) {
    const member = reader.string();
    if (!reader.next()) throw cursor.corrupt(`${what} integrity check failed.`);
    const score = reader.isInteger ? Number(reader.integer) : parseDouble(reader.string());
    if (score === undefined) throw cursor.corrupt(`${what} has an invalid score`);
    addInOrder(cursor, entries, member, score, what);
  }
  if (entries.length === 0) return EMPTY_KEY;
  if (hasDuplicateKey(entries)) throw cursor.corrupt(`${what} integrity check failed.`);
  return { type: "zset", entries };
}

/**
 * Appends a sorted set entry, refusing one out of (score, member) order:
 * Redis keeps its compact sorted sets sorted and trusts the order, so an
 * unsorted one would be served unsorted.
 */
function addInOrder(
  cursor: RdbCursor,
  entries: [string, number][],
  member: string,
  score: number,
  what: string,
): void {
  const previous = entries[entries.length - 1];
  if (
    previous !== undefined &&
    (previous[1] > score || (previous[1] === score && previous[0] > member))
  ) {
    throw cursor.corrupt(`${what} entries are out of order`);
  }
  entries.push([member, score]);
}

/** Up to this many items, pairwise comparison beats building a Set. */
const SMALL = 8;

function hasDuplicate(values: readonly string[]): boolean {
  const count = values.length;
  if (count <= SMALL) {
    for (let i = 1; i < count; i++) {
      for (let j = 0; j < i; j++) if (values[i] === values[j]) return true;
    }
    return false;
  }
  return new Set(values).size !== count;
}

function hasDuplicateKey(entries: readonly (readonly [string, unknown])[]): boolean {
  const count = entries.length;
  if (count <= SMALL) {
    for (let i = 1; i < count; i++) {
      for (let j = 0; j < i; j++) if (entries[i]![0] === entries[j]![0]) return true;
    }
    return false;
  }
  const seen = new Set<string>();
  for (const entry of entries) seen.add(entry[0]);
  return seen.size !== count;
}
