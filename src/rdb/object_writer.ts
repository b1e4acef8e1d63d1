/**
 * Writes one value in RDB object encoding, choosing the encoding Redis 7.0
 * itself would save the value in (`rdbSaveObjectType`, `rdbSaveObject`):
 *
 * - strings as strings (integer-encoded or LZF-compressed by the output);
 * - lists as QUICKLIST_2, split into listpack nodes the way a quicklist
 *   with `list-max-listpack-size` fills them when the items are pushed in
 *   order;
 * - sets as an intset while every member is an integer and there are at
 *   most `set-max-intset-entries`, else as a plain set;
 * - sorted sets as a listpack (member, score pairs in score order) while
 *   within `zset-max-listpack-*`, else as ZSET_2 from the greatest element
 *   down, as Redis walks its skiplist;
 * - hashes as a listpack while within `hash-max-listpack-*`, else plain;
 * - streams as STREAM_LISTPACKS_2.
 *
 * Redis saves a value in the encoding it holds it in, so a hash that
 * outgrew its listpack and shrank again is saved as a hash table: a store
 * that knows says so (`compact` on a hash or sorted set source) and the
 * writer follows; without that it picks by current size, which Redis loads
 * the same way. Collections may also come as any re-iterable with its size
 * (`RdbValueSource`), so a store saves without copying into arrays.
 *
 * @module
 */

import { formatDouble } from "../protocol/doubles.ts";
import { QUICKLIST_NODE, RDB_TYPE, type RdbEncodingLimits } from "./constants.ts";
import { encodeIntset, intsetCandidates } from "./intset.ts";
import { ListpackBuilder } from "./listpack.ts";
import type { RdbValue, RdbValueSource } from "./model.ts";
import type { RdbOutput } from "./output.ts";
import { writeStream } from "./stream_codec.ts";

/** `optimization_level` of quicklist.c: node byte limits for fill -1 ... -5. */
const NODE_SIZE_LIMITS = [4096, 8192, 16384, 32768, 65536];
/** SIZE_SAFETY_LIMIT */
const NODE_SAFETY_LIMIT = 8192;
/** SIZE_ESTIMATE_OVERHEAD */
const NODE_SIZE_ESTIMATE_OVERHEAD = 8;
/** packed_threshold: larger items get a node of their own (PLAIN). */
const LARGE_ELEMENT = 1 << 30;

/** Encodes values with one set of encoding limits, reusing its scratch listpack. */
export class ObjectEncoder {
  readonly #limits: RdbEncodingLimits;
  readonly #listpack = new ListpackBuilder();

  constructor(limits: RdbEncodingLimits) {
    this.#limits = limits;
  }

  /**
   * Writes the value's type byte, then `key` when given (a key-value pair
   * in a file; DUMP payloads have none), then the value. Throws RangeError
   * for values Redis cannot hold: empty collections, NaN scores, stream
   * entries out of order. The collections of an `RdbValueSource` are
   * iterated more than once, so they must be re-iterable (a Map, a Set, an
   * array).
   */
  write(output: RdbOutput, key: string | undefined, value: RdbValue | RdbValueSource): void {
    switch (value.type) {
      case "string":
        output.byte(RDB_TYPE.STRING);
        if (key !== undefined) output.string(key);
        output.string(value.value);
        return;
      case "list":
        this.#writeList(output, key, value.items, sizeOf(value.items, value));
        return;
      case "set":
        this.#writeSet(output, key, value.members, sizeOf(value.members, value));
        return;
      case "zset": {
        const entries = value.entries;
        const compact = "compact" in value ? value.compact : undefined;
        if (Array.isArray(entries)) this.#writeZset(output, key, sortedByScore(entries), compact);
        else this.#writeZset(output, key, Array.from(entries), compact);
        return;
      }
      case "hash": {
        const compact = "compact" in value ? value.compact : undefined;
        this.#writeHash(output, key, value.entries, sizeOf(value.entries, value), compact);
        return;
      }
      case "stream":
        output.byte(RDB_TYPE.STREAM_LISTPACKS_2);
        if (key !== undefined) output.string(key);
        writeStream(output, value.stream, this.#limits);
        return;
    }
  }

  #writeList(
    output: RdbOutput,
    key: string | undefined,
    items: Iterable<string>,
    count: number,
  ): void {
    if (count === 0) throw new RangeError("An empty list cannot be saved");
    output.byte(RDB_TYPE.LIST_QUICKLIST_2);
    if (key !== undefined) output.string(key);
    const fill = this.#limits.listMaxListpackSize;
    const builder = this.#listpack;
    // Node boundaries first: the node count comes before the nodes.
    const nodes: (Uint8Array | string)[] = [];
    let open = false;
    for (const item of items) {
      const size = item.length;
      if (size >= LARGE_ELEMENT) {
        if (open) nodes.push(builder.finish().slice());
        open = false;
        nodes.push(item);
        continue;
      }
      if (open && !nodeAllowsInsert(builder.byteLength, builder.count, size, fill)) {
        nodes.push(builder.finish().slice());
        open = false;
      }
      if (!open) {
        builder.reset();
        open = true;
      }
      builder.append(item);
    }
    if (open) nodes.push(builder.finish().slice());
    output.length(nodes.length);
    for (const node of nodes) {
      if (typeof node === "string") {
        output.length(QUICKLIST_NODE.PLAIN);
        output.string(node);
      } else {
        output.length(QUICKLIST_NODE.PACKED);
        output.bytesString(node);
      }
    }
  }

  #writeSet(
    output: RdbOutput,
    key: string | undefined,
    members: Iterable<string>,
    count: number,
  ): void {
    if (count === 0) throw new RangeError("An empty set cannot be saved");
    const integers = count <= this.#limits.setMaxIntsetEntries
      ? intsetCandidates(members, this.#limits.setMaxIntsetEntries)
      : undefined;
    if (integers !== undefined) {
      output.byte(RDB_TYPE.SET_INTSET);
      if (key !== undefined) output.string(key);
      output.bytesString(encodeIntset(integers));
      return;
    }
    output.byte(RDB_TYPE.SET);
    if (key !== undefined) output.string(key);
    output.length(count);
    for (const member of members) output.string(member);
  }

  /** `sorted` comes in ascending (score, member) order. */
  #writeZset(
    output: RdbOutput,
    key: string | undefined,
    sorted: readonly (readonly [string, number])[],
    compact: boolean | undefined,
  ): void {
    if (sorted.length === 0) throw new RangeError("An empty sorted set cannot be saved");
    const limits = this.#limits;
    let small = compact ?? sorted.length <= limits.zsetMaxListpackEntries;
    for (let i = 0; compact === undefined && small && i < sorted.length; i++) {
      if (sorted[i]![0].length > limits.zsetMaxListpackValue) small = false;
    }
    if (small) {
      const builder = this.#listpack;
      builder.reset();
      for (const [member, score] of sorted) {
        builder.append(member);
        builder.append(scoreText(score));
      }
      output.byte(RDB_TYPE.ZSET_LISTPACK);
      if (key !== undefined) output.string(key);
      output.bytesString(builder.finish());
      return;
    }
    output.byte(RDB_TYPE.ZSET_2);
    if (key !== undefined) output.string(key);
    output.length(sorted.length);
    for (let i = sorted.length - 1; i >= 0; i--) {
      const [member, score] = sorted[i]!;
      output.string(member);
      output.binaryDouble(score);
    }
  }

  #writeHash(
    output: RdbOutput,
    key: string | undefined,
    entries: Iterable<readonly [string, string]>,
    count: number,
    compact: boolean | undefined,
  ): void {
    if (count === 0) throw new RangeError("An empty hash cannot be saved");
    const limits = this.#limits;
    let small = compact ?? count <= limits.hashMaxListpackEntries;
    if (small && compact === undefined) {
      const maxLength = limits.hashMaxListpackValue;
      for (const [field, value] of entries) {
        if (field.length > maxLength || value.length > maxLength) {
          small = false;
          break;
        }
      }
    }
    if (small) {
      const builder = this.#listpack;
      builder.reset();
      for (const [field, value] of entries) {
        builder.append(field);
        builder.append(value);
      }
      output.byte(RDB_TYPE.HASH_LISTPACK);
      if (key !== undefined) output.string(key);
      output.bytesString(builder.finish());
      return;
    }
    output.byte(RDB_TYPE.HASH);
    if (key !== undefined) output.string(key);
    output.length(count);
    for (const [field, value] of entries) {
      output.string(field);
      output.string(value);
    }
  }
}

/** The element count of a collection: a source's declared size, an array's length. */
function sizeOf(collection: Iterable<unknown>, value: object): number {
  if (Array.isArray(collection)) return collection.length;
  const declared = value as { length?: number; size?: number };
  return declared.length ?? declared.size ?? 0;
}

/**
 * `_quicklistNodeAllowInsert` for a listpack node of `nodeBytes` bytes and
 * `nodeCount` items: Redis estimates an item's cost as its length plus 8.
 */
function nodeAllowsInsert(
  nodeBytes: number,
  nodeCount: number,
  size: number,
  fill: number,
): boolean {
  const newSize = nodeBytes + size + NODE_SIZE_ESTIMATE_OVERHEAD;
  if (fill < 0) {
    const level = Math.min(-fill - 1, NODE_SIZE_LIMITS.length - 1);
    return newSize <= NODE_SIZE_LIMITS[level]!;
  }
  return newSize <= NODE_SAFETY_LIMIT && nodeCount + 1 <= fill;
}

/** Entries in ascending (score, member) order, the input itself when already sorted. */
function sortedByScore(
  entries: readonly (readonly [string, number])[],
): readonly (readonly [string, number])[] {
  let ordered = true;
  for (let i = 0; i < entries.length; i++) {
    const [member, score] = entries[i]!;
    if (Number.isNaN(score)) throw new RangeError(`Sorted set member has a NaN score`);
    if (ordered && i > 0) {
      const [previousMember, previousScore] = entries[i - 1]!;
      if (previousScore > score || (previousScore === score && previousMember >= member)) {
        ordered = false;
      }
    }
  }
  if (ordered) return entries;
  return [...entries].sort((a, b) =>
    a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0
  );
}

/** A score as a sorted set listpack stores it (`d2string`). */
export function scoreText(score: number): string {
  if (score === 0) return "0";
  if (Number.isInteger(score) && score > -4503599627370495 && score < 4503599627370496) {
    return String(score);
  }
  return formatDouble(score);
}
