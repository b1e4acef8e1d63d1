/**
 * What a key and its value would cost in Redis's memory: the figure MEMORY
 * USAGE reports, and the one the keyspace sums into `used_memory` for
 * maxmemory eviction (see keyspace.ts).
 *
 * The figure models Redis 7.0's own layout rather than V8's, because that
 * is what users compare and size machines with, and what makes `maxmemory
 * 64mb` hold as many keys here as in Redis: objectComputeSize's sum per
 * encoding (robj header, sds headers by length class, listpack entry
 * encodings, dict tables and entries, skiplist nodes, quicklist nodes of
 * `list-max-listpack-size`) rounded to jemalloc's size classes, plus the
 * key's sds and its dict entry. Large collections are estimated from a
 * sample of `samples` elements (0: all), as Redis does, so the cost is
 * bounded. Streams already know their own figure (Stream.memoryUsage), and
 * a HyperLogLog its byte length. Against redis-server the estimate is
 * within a few percent for strings, hashes, sets, sorted sets and lists of
 * the usual sizes.
 *
 * It lives in the store, below the commands, because the keyspace keeps
 * the sum up to date on every write; commands/memory_usage.ts re-exports
 * it for MEMORY USAGE.
 *
 * @module
 */

import { formatDouble } from "../protocol/doubles.ts";
import { parseInteger } from "../protocol/integers.ts";
import { Deque } from "./deque.ts";
import { Hash } from "./hash.ts";
import { HyperLogLog } from "./hyperloglog.ts";
import { MemberSet } from "./set.ts";
import { SortedSet } from "./sorted_set.ts";
import { Stream } from "./stream.ts";
import type { RedisValue } from "./values.ts";

/** sizeof(robj), sizeof(dictEntry), sizeof(dict) in Redis 7.0 on 64-bit. */
const OBJECT_HEADER = 16;
export const DICT_ENTRY = 24;
const DICT = 56;
const POINTER = 8;
/** sizeof(quicklist), sizeof(quicklistNode). */
const QUICKLIST = 40;
const QUICKLIST_NODE = 40;
/** sizeof(zset) + sizeof(zskiplist), and the 32-level header node's allocation. */
const ZSET_HEADERS = 16 + 32;
const SKIPLIST_HEADER_NODE = 640;
/** Listpack header (total bytes, count) and end byte. */
const LISTPACK_OVERHEAD = 7;
/** Longest string Redis stores as an integer, and as an embstr (values.ts's encodingOf). */
const INT_MAX_LENGTH = 20;
const EMBSTR_MAX_LENGTH = 44;
/** Redis's OBJ_COMPUTE_SIZE_DEF_SAMPLES. */
export const DEFAULT_SAMPLES = 5;

/** jemalloc's size class for an allocation of `size` bytes. */
export function allocationSize(size: number): number {
  if (size <= 8) return 8;
  if (size <= 128) return (size + 15) & ~15;
  // Four classes per doubling: spacing is a quarter of the power of two below.
  if (size <= 0x40000000) {
    const spacing = 1 << (29 - Math.clz32(size - 1));
    return (size + spacing - 1) & -spacing;
  }
  const spacing = 2 ** (Math.floor(Math.log2(size - 1)) - 2);
  return Math.ceil(size / spacing) * spacing;
}

/** The allocation of an sds string of `length` bytes (header by length class, NUL). */
export function sdsSize(length: number): number {
  const header = length < 32 ? 1 : length < 256 ? 3 : length < 65536 ? 5 : 9;
  return allocationSize(header + length + 1);
}

/** Bytes of one listpack entry holding `text` (an integer-looking string is stored as one). */
function listpackEntrySize(text: string): number {
  if (text.length <= 20 && parseInteger(text) !== undefined) {
    const value = Number(text);
    const encoded = value >= 0 && value <= 127
      ? 1
      : value >= -4096 && value <= 4095
      ? 2
      : value >= -32768 && value <= 32767
      ? 3
      : value >= -8388608 && value <= 8388607
      ? 4
      : value >= -2147483648 && value <= 2147483647
      ? 5
      : 9;
    return encoded + 1;
  }
  const header = text.length < 64 ? 1 : text.length < 4096 ? 2 : 5;
  const entry = header + text.length;
  return entry + (entry < 128 ? 1 : entry < 16384 ? 2 : 3);
}

/** Slots of a Redis dict holding `count` entries (powers of two from 4, grown at full). */
function dictSlots(count: number): number {
  let slots = 4;
  while (slots < count) slots *= 2;
  return slots;
}

/** A dict of `count` entries whose sampled entries cost `sampledBytes` over `sampled`. */
function dictSize(count: number, sampled: number, sampledBytes: number): number {
  const entries = sampled === 0 ? 0 : sampledBytes / sampled * count;
  return DICT + POINTER * dictSlots(count) + entries;
}

/** The first `limit` items (all of them for 0, as Redis's samples). */
function* take<T>(items: Iterable<T>, limit: number): Iterable<T> {
  if (limit <= 0) {
    yield* items;
    return;
  }
  let taken = 0;
  for (const item of items) {
    yield item;
    if (++taken >= limit) return;
  }
}

/**
 * A string's object: encodingOf's rules inlined, because the keyspace asks
 * on every SET (only text that starts like a number is parsed).
 */
function stringSize(value: string): number {
  const length = value.length;
  if (length <= INT_MAX_LENGTH) {
    const first = value.charCodeAt(0);
    if (((first >= 48 && first <= 57) || first === 45) && parseInteger(value) !== undefined) {
      return OBJECT_HEADER;
    }
  }
  // An embstr is the object and its sds (type 8 header) in one allocation of at most 64 bytes.
  if (length <= EMBSTR_MAX_LENGTH) return (OBJECT_HEADER + 3 + length + 1 + 15) & ~15;
  return OBJECT_HEADER + sdsSize(length);
}

function hashSize(hash: Hash, samples: number): number {
  if (hash.encoding === "listpack") {
    let bytes = LISTPACK_OVERHEAD;
    for (const [field, value] of hash) bytes += listpackEntrySize(field) + listpackEntrySize(value);
    return OBJECT_HEADER + allocationSize(bytes);
  }
  let sampled = 0;
  let bytes = 0;
  for (const [field, value] of take(hash, samples)) {
    bytes += sdsSize(field.length) + sdsSize(value.length) + DICT_ENTRY;
    sampled++;
  }
  return OBJECT_HEADER + dictSize(hash.size, sampled, bytes);
}

function setSize(set: MemberSet, samples: number): number {
  // The intset's own width: no member is turned into a string to find it.
  const width = set.intsetWidth;
  if (width !== undefined) return OBJECT_HEADER + allocationSize(8 + width * set.size);
  let sampled = 0;
  let bytes = 0;
  for (const member of take(set, samples)) {
    bytes += sdsSize(member.length) + DICT_ENTRY;
    sampled++;
  }
  return OBJECT_HEADER + dictSize(set.size, sampled, bytes);
}

/** A skiplist node's allocation at the average level (p = 1/4: 4/3 levels). */
const SKIPLIST_NODE = allocationSize(24 + 16 * 4 / 3);

function sortedSetSize(zset: SortedSet, samples: number): number {
  if (zset.encoding === "listpack") {
    let bytes = LISTPACK_OVERHEAD;
    for (const [member, score] of zset) {
      bytes += listpackEntrySize(member) + listpackEntrySize(scoreText(score));
    }
    return OBJECT_HEADER + allocationSize(bytes);
  }
  let sampled = 0;
  let bytes = 0;
  for (const [member] of take(zset, samples)) {
    bytes += sdsSize(member.length) + DICT_ENTRY + SKIPLIST_NODE;
    sampled++;
  }
  return OBJECT_HEADER + ZSET_HEADERS + SKIPLIST_HEADER_NODE +
    dictSize(zset.size, sampled, bytes);
}

/** How a score is stored in a listpack: as Redis prints it (integers become integer entries). */
function scoreText(score: number): string {
  return formatDouble(score);
}

/**
 * A quicklist: nodes of `list-max-listpack-size` (negative: 4 KB × 2^(-n-1)
 * bytes per node; positive: entries per node), from the sampled average
 * entry size.
 */
function listSize(list: Deque<string>, samples: number, fill: number): number {
  const count = list.length;
  if (count === 0) return OBJECT_HEADER + QUICKLIST;
  // Redis samples nodes of about a hundred entries; sampling entries is the same bet.
  const sampleCount = samples === 0 ? count : Math.min(count, samples * 64);
  let bytes = 0;
  for (let i = 0; i < sampleCount; i++) bytes += listpackEntrySize(list.at(i)!);
  const entry = bytes / sampleCount;
  const perNode = fill > 0
    ? fill
    : Math.max(1, Math.floor((4096 * 2 ** (Math.min(-fill, 5) - 1) - LISTPACK_OVERHEAD) / entry));
  const fullNodes = Math.floor(count / perNode);
  const rest = count - fullNodes * perNode;
  let total = OBJECT_HEADER + QUICKLIST;
  total += fullNodes * (QUICKLIST_NODE + allocationSize(LISTPACK_OVERHEAD + perNode * entry));
  if (rest > 0) total += QUICKLIST_NODE + allocationSize(LISTPACK_OVERHEAD + rest * entry);
  return Math.round(total);
}

/** The estimate of the value alone (objectComputeSize). */
export function valueMemoryUsage(
  value: RedisValue,
  samples = DEFAULT_SAMPLES,
  listFill = -2,
): number {
  if (typeof value === "string") return stringSize(value);
  // The byte length without building the HYLL string (a dense one is 12 KB).
  if (value instanceof HyperLogLog) return OBJECT_HEADER + sdsSize(value.byteLength);
  if (value instanceof Hash) return Math.round(hashSize(value, samples));
  if (value instanceof MemberSet) return Math.round(setSize(value, samples));
  if (value instanceof Deque) return listSize(value, samples, listFill);
  if (value instanceof Stream) return value.memoryUsage(samples);
  return Math.round(sortedSetSize(value, samples));
}

/**
 * MEMORY USAGE's figure: the value, the key's sds and its dict entry.
 * `samples` is how many elements of a collection are looked at (0: all);
 * `listFill` is `list-max-listpack-size`.
 *
 * @example
 * ```ts
 * memoryUsage("session", "abc"); // 56, as redis-server 7.0 answers
 * ```
 */
export function memoryUsage(
  key: string,
  value: RedisValue,
  samples = DEFAULT_SAMPLES,
  listFill = -2,
): number {
  return valueMemoryUsage(value, samples, listFill) + sdsSize(key.length) + DICT_ENTRY;
}

/**
 * What the allocator really hands out for a dict entry: jemalloc has no
 * 24-byte class, so Redis's `used_memory` grows by 32 per key (MEMORY
 * USAGE counts sizeof(dictEntry), 24).
 */
export const DICT_ENTRY_ALLOCATION = 32;

/** What a string key adds to `used_memory`: its MEMORY USAGE figure, dict entry as allocated. */
export function stringEntryBytes(key: string, value: string): number {
  return stringSize(value) + sdsSize(key.length) + DICT_ENTRY_ALLOCATION;
}

/**
 * What any key adds to `used_memory` (see `stringEntryBytes`), with the
 * default sampling of MEMORY USAGE for collections.
 */
export function entryBytes(key: string, value: RedisValue, listFill = -2): number {
  if (typeof value === "string") return stringEntryBytes(key, value);
  return valueMemoryUsage(value, DEFAULT_SAMPLES, listFill) + sdsSize(key.length) +
    DICT_ENTRY_ALLOCATION;
}

/** A Redis dict's bucket array for `count` entries (none while empty). */
export function dictTableBytes(count: number): number {
  return count === 0 ? 0 : POINTER * dictSlots(count);
}
