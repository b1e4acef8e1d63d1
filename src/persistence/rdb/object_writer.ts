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
 * A value whose in-memory form outgrew the limits and then shrank would be
 * kept in the big encoding by Redis; we always pick by current size, which
 * Redis loads the same way.
 *
 * @module
 */

import { formatDouble } from "../../protocol/doubles.ts";
import { QUICKLIST_NODE, RDB_TYPE, type RdbEncodingLimits } from "./constants.ts";
import { encodeIntset, intsetCandidates } from "./intset.ts";
import { ListpackBuilder } from "./listpack.ts";
import type { RdbValue } from "./model.ts";
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
   * entries out of order.
   */
  write(output: RdbOutput, key: string | undefined, value: RdbValue): void {
    switch (value.type) {
      case "string":
        output.byte(RDB_TYPE.STRING);
        if (key !== undefined) output.string(key);
        output.string(value.value);
        return;
      case "list":
        this.#writeList(output, key, value.items);
        return;
      case "set":
        this.#writeSet(output, key, value.members);
        return;
      case "zset":
        this.#writeZset(output, key, value.entries);
        return;
      case "hash":
        this.#writeHash(output, key, value.entries);
        return;
      case "stream":
        output.byte(RDB_TYPE.STREAM_LISTPACKS_2);
        if (key !== undefined) output.string(key);
        writeStream(output, value.stream, this.#limits);
        return;
    }
  }

  #writeList(output: RdbOutput, key: string | undefined, items: readonly string[]): void {
    if (items.length === 0) throw new RangeError("An empty list cannot be saved");
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

  #writeSet(output: RdbOutput, key: string | undefined, members: readonly string[]): void {
    if (members.length === 0) throw new RangeError("An empty set cannot be saved");
    const integers = intsetCandidates(members, this.#limits.setMaxIntsetEntries);
    if (integers !== undefined) {
      output.byte(RDB_TYPE.SET_INTSET);
      if (key !== undefined) output.string(key);
      output.bytesString(encodeIntset(integers));
      return;
    }
    output.byte(RDB_TYPE.SET);
    if (key !== undefined) output.string(key);
    output.length(members.length);
    for (const member of members) output.string(member);
  }

  #writeZset(
    output: RdbOutput,
    key: string | undefined,
    entries: readonly (readonly [string, number])[],
  ): void {
    if (entries.length === 0) throw new RangeError("An empty sorted set cannot be saved");
    const sorted = sortedByScore(entries);
    const limits = this.#limits;
    let small = sorted.length <= limits.zsetMaxListpackEntries;
    for (let i = 0; small && i < sorted.length; i++) {
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
    entries: readonly (readonly [string, string])[],
  ): void {
    if (entries.length === 0) throw new RangeError("An empty hash cannot be saved");
    const limits = this.#limits;
    let small = entries.length <= limits.hashMaxListpackEntries;
    for (let i = 0; small && i < entries.length; i++) {
      const [field, value] = entries[i]!;
      if (
        field.length > limits.hashMaxListpackValue || value.length > limits.hashMaxListpackValue
      ) {
        small = false;
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
    output.length(entries.length);
    for (const [field, value] of entries) {
      output.string(field);
      output.string(value);
    }
  }
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
