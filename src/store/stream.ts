/**
 * Stream: the stream type's storage (XADD, XRANGE, XREAD, XDEL, XTRIM,
 * XINFO, consumer groups).
 *
 * Entries live in StreamNodes (stream_node.ts), runs of up to
 * `stream-node-max-entries` entries packed into a byte buffer, kept in an
 * array sorted by first ID: Redis's radix tree of listpacks, with a binary
 * search in place of the tree. The array has a movable head, so trimming the
 * oldest nodes (the common case: MAXLEN and MINID trim from the front) costs
 * O(removed nodes), and appending is O(1) amortised. A node emptied in the
 * middle by XDEL is spliced out, O(nodes) but rare and a memmove.
 *
 * Semantics follow Redis 7.0's t_stream.c, named per method: nodes split
 * where streamAppendItem splits them (by the Redis listpack size each node
 * tracks, and by entry count, tombstones included), deletion marks entries
 * inside their node (streamIteratorRemoveEntry) and drops a node when its
 * last live entry goes, trims remove whole nodes and then, when exact, mark
 * entries of one more node (streamTrim), so `XTRIM ~` removes what Redis
 * removes. The metadata Redis 7.0 added for consumer group lag (entries
 * added, max deleted entry ID, recorded first entry ID) is kept the same way
 * and the lag arithmetic (streamEstimateDistanceFromFirstEverEntry,
 * streamRangeHasTombstones) is here, next to the data it reads.
 *
 * Reading never allocates per entry until asked: a StreamIterator is a
 * cursor (streamIterator) whose `next()` moves to the next live entry in
 * range and whose `idText()`/`fields()` build what a reply needs. Appending
 * takes the command's argument array and an offset, so XADD copies nothing
 * but the bytes.
 *
 * Closed nodes share the slabs of the stream's StreamNodeArena rather than
 * owning a buffer each: measured with a million `{sensor, temp}` entries,
 * that is 21 MB resident against redis-server's 19 MB, where a buffer per
 * node took 45 MB (bench/stream_memory.ts). For the RDB writer and DUMP,
 * `listpacks()` yields Redis's own listpacks byte for byte, and
 * `loadListpack` reads them back.
 *
 * IDs are StreamIds (stream_id.ts). Mutating a stream while iterating it is
 * not supported (no command needs it).
 *
 * @module
 */

import {
  formatStreamId,
  formatUint64,
  MAX_STREAM_ID,
  MIN_STREAM_ID,
  nextStreamId,
  type ParsedStreamId,
  type StreamId,
  streamIdFromWords,
  streamIdWord,
} from "./stream_id.ts";
import { ConsumerGroup, INVALID_ENTRIES_READ } from "./stream_group.ts";
import {
  ENTRY_DELETED,
  ENTRY_SAME_FIELDS,
  NodeReader,
  StreamNode,
  StreamNodeArena,
} from "./stream_node.ts";
import { ListpackFormatError, ListpackReader } from "./stream_listpack.ts";
import type { BinaryBuffer } from "../protocol/binary.ts";

/** The two configuration values that shape nodes, read at every append. */
export interface StreamNodeLimits {
  /** `stream-node-max-bytes`: 0 means no limit (up to 1 GB, as Redis caps it). */
  nodeMaxBytes: number;
  /** `stream-node-max-entries`: 0 means no limit. */
  nodeMaxEntries: number;
}

/** Redis's defaults: 4096 bytes, 100 entries. */
export const DEFAULT_STREAM_NODE_LIMITS: Readonly<StreamNodeLimits> = Object.freeze({
  nodeMaxBytes: 4096,
  nodeMaxEntries: 100,
});

/** STREAM_LISTPACK_MAX_SIZE: no listpack grows past 1 GB whatever the config says. */
export const STREAM_LISTPACK_MAX_SIZE = 2 ** 30;
/** STREAM_LISTPACK_MAX_PRE_ALLOCATE: a new Redis node starts with this many bytes. */
const LISTPACK_PREALLOCATION = 4096;

/**
 * The LIMIT an approximate trim gets when the command gives none: 100 times
 * `stream-node-max-entries`, or 10000 when that is 0 (as XADD and XTRIM
 * compute it).
 */
export function defaultTrimLimit(limits: StreamNodeLimits): number {
  const limit = 100 * limits.nodeMaxEntries;
  return limit > 0 ? limit : 10000;
}

/** An entry: its ID and its fields and values, alternating. */
export type StreamEntry = [id: StreamId, fields: string[]];

/** How a stream ID is chosen for XADD (see `Stream.resolveAddId`). */
export type AddIdRequest = ParsedStreamId | undefined;

/**
 * The storage of one stream.
 *
 * @example
 * ```ts
 * const stream = new Stream();
 * const id = stream.resolveAddId(undefined, Date.now())!; // XADD *
 * stream.append(id, ["sensor", "7", "temp", "21.5"]);
 * stream.range(MIN_STREAM_ID, MAX_STREAM_ID); // [[id, ["sensor", "7", "temp", "21.5"]]]
 * ```
 */
export class Stream {
  /** Nodes in ID order; slots before `#head` are free (already trimmed). */
  #nodes: (StreamNode | undefined)[] = [];
  #head = 0;
  #length = 0;
  #lastId: StreamId = MIN_STREAM_ID;
  #firstId: StreamId = MIN_STREAM_ID;
  #maxDeletedEntryId: StreamId = MIN_STREAM_ID;
  #entriesAdded = 0;
  #groups: Map<string, ConsumerGroup> | undefined;
  readonly #reader = new NodeReader();
  /** Storage of the closed nodes. */
  #arena = new StreamNodeArena();
  /** The growable buffer of the last closed node, for the next one. */
  #spare: BinaryBuffer | undefined;
  /** The node limits; usually the server's live configuration object. */
  readonly limits: StreamNodeLimits;

  constructor(limits: StreamNodeLimits = DEFAULT_STREAM_NODE_LIMITS) {
    this.limits = limits;
  }

  /** Number of live entries (XLEN). */
  get length(): number {
    return this.#length;
  }

  /** The last ID added or set with XSETID (`last-generated-id`); 0-0 for a new stream. */
  get lastId(): StreamId {
    return this.#lastId;
  }

  set lastId(id: StreamId) {
    this.#lastId = id;
  }

  /** ID of the first live entry, 0-0 when empty (`recorded-first-entry-id`). */
  get firstId(): StreamId {
    return this.#firstId;
  }

  /** Sets the recorded first entry ID, as an RDB file or DUMP payload states it. */
  set firstId(id: StreamId) {
    this.#firstId = id;
  }

  /** Entries ever added (`entries-added`, XSETID ENTRIESADDED). */
  get entriesAdded(): number {
    return this.#entriesAdded;
  }

  set entriesAdded(count: number) {
    this.#entriesAdded = count;
  }

  /** The largest ID XDEL removed (`max-deleted-entry-id`, XSETID MAXDELETEDID). */
  get maxDeletedEntryId(): StreamId {
    return this.#maxDeletedEntryId;
  }

  set maxDeletedEntryId(id: StreamId) {
    this.#maxDeletedEntryId = id;
  }

  /** Number of nodes (XINFO's `radix-tree-keys`). */
  get nodeCount(): number {
    return this.#nodes.length - this.#head;
  }

  /**
   * Nodes of the radix tree Redis would hold for this stream's node keys
   * (XINFO's `radix-tree-nodes`), computed in O(nodes): see radixTreeNodeCount.
   */
  get radixTreeNodes(): number {
    return radixTreeNodeCount(this.#nodes, this.#head);
  }

  /** Whether the last ID is the largest possible, so XADD must fail. */
  get isExhausted(): boolean {
    return this.#lastId === MAX_STREAM_ID;
  }

  /**
   * The ID XADD adds under, or undefined when it must fail with "The ID
   * specified in XADD is equal or smaller than the target stream top item"
   * (or, for `*`, when the stream is exhausted: check `isExhausted` first,
   * as Redis does, to give that error instead).
   *
   * `request` undefined is `*` (streamNextID: `now` if it is past the last
   * ms, else the last ID plus one); `<ms>-*` takes seq 0 or, when `ms` is the
   * last ID's, the last seq plus one; an explicit ID must exceed the last.
   * Rejecting an explicit 0-0 ("must be greater than 0-0") is for the
   * command, before it creates the key.
   */
  resolveAddId(request: AddIdRequest, now: number): StreamId | undefined {
    const last = this.#lastId;
    if (request === undefined) {
      const lastMs = streamIdWord(last, 0) * 4294967296 + streamIdWord(last, 1);
      if (now > lastMs) {
        return streamIdFromWords(Math.floor(now / 4294967296), now % 4294967296, 0, 0);
      }
      return nextStreamId(last);
    }
    let id = request.id;
    if (!request.sequenceGiven && id.slice(0, 8) === last.slice(0, 8)) {
      if (last.endsWith("\xff\xff\xff\xff\xff\xff\xff\xff")) return undefined;
      id = nextStreamId(last)!;
    }
    return id > last ? id : undefined;
  }

  /**
   * Adds entry `id` with the field/value pairs `args[start..]` (XADD's
   * streamAppendItem). `id` must be above `lastId` (see `resolveAddId`), and
   * there must be at least one pair.
   */
  append(id: StreamId, args: readonly string[], start = 0): void {
    const count = (args.length - start) >>> 1;
    const nodes = this.#nodes;
    let node = nodes.length > this.#head ? nodes[nodes.length - 1] : undefined;
    if (node !== undefined && !this.#fits(node, args, start)) {
      if (this.limits.nodeMaxEntries > 0 && node.entryCount >= this.limits.nodeMaxEntries) {
        node.shrunkToFit = true;
      }
      const fields = node.hasMasterFields(args, start, count)
        ? node.masterFields
        : fieldsOf(args, start, count);
      if (node.slab === undefined) {
        this.#spare = node.bytes;
        this.#arena.store(node, node.bytes, 0, node.used);
      }
      node = new StreamNode(id, fields, this.#takeSpare());
      nodes.push(node);
    } else if (node === undefined) {
      node = new StreamNode(id, fieldsOf(args, start, count), this.#takeSpare());
      nodes.push(node);
    } else if (node.slab !== undefined) {
      // The last node was emptied and removed: Redis appends to the one before.
      this.#arena.reopen(node, this.#takeSpare());
    }
    node.append(id, args, start, count);
    this.#length++;
    this.#entriesAdded++;
    this.#lastId = id;
    if (this.#length === 1) this.#firstId = id;
  }

  #takeSpare(): BinaryBuffer | undefined {
    const spare = this.#spare;
    this.#spare = undefined;
    return spare;
  }

  /** streamAppendItem's test for appending to the last node instead of starting one. */
  #fits(node: StreamNode, args: readonly string[], start: number): boolean {
    let maxBytes = this.limits.nodeMaxBytes;
    if (maxBytes <= 0 || maxBytes > STREAM_LISTPACK_MAX_SIZE) maxBytes = STREAM_LISTPACK_MAX_SIZE;
    let totalLength = 0;
    for (let i = start; i < args.length; i++) totalLength += args[i]!.length;
    if (node.listpackBytes + totalLength >= maxBytes) return false;
    const maxEntries = this.limits.nodeMaxEntries;
    return !(maxEntries > 0 && node.entryCount >= maxEntries);
  }

  /** Index of the last node whose first ID is <= `id`, or `#head - 1` if none. */
  #findNode(id: StreamId): number {
    const nodes = this.#nodes;
    let low = this.#head;
    let high = nodes.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (nodes[middle]!.firstId <= id) low = middle + 1;
      else high = middle;
    }
    return low - 1;
  }

  /** Positions the shared reader on live entry `id`; false when there is none. */
  #seek(id: StreamId): StreamNode | undefined {
    const index = this.#findNode(id);
    if (index < this.#head) return undefined;
    const node = this.#nodes[index]!;
    if (node.lastId < id) return undefined;
    const reader = this.#reader;
    const msHigh = streamIdWord(id, 0);
    const msLow = streamIdWord(id, 1);
    const seqHigh = streamIdWord(id, 2);
    const seqLow = streamIdWord(id, 3);
    reader.start(node);
    while (reader.next()) {
      const order = reader.compare(msHigh, msLow, seqHigh, seqLow);
      if (order < 0) continue;
      return order === 0 && !reader.isDeleted ? node : undefined;
    }
    return undefined;
  }

  /** Whether live entry `id` exists (streamEntryExists). */
  has(id: StreamId): boolean {
    return this.#seek(id) !== undefined;
  }

  /** The fields and values of entry `id`, undefined if it does not exist (or was deleted). */
  get(id: StreamId): string[] | undefined {
    return this.#seek(id) === undefined ? undefined : this.#reader.fields();
  }

  /**
   * Deletes entry `id` (XDEL). Returns false when there is no such live
   * entry. Like xdelCommand, raises `maxDeletedEntryId` and moves `firstId`
   * on when the first entry goes.
   */
  delete(id: StreamId): boolean {
    const node = this.#seek(id);
    if (node === undefined) return false;
    if (node.live === 1) {
      this.#removeNode(this.#findNode(id));
    } else {
      node.markDeleted(this.#reader.entryStart);
    }
    this.#length--;
    if (id > this.#maxDeletedEntryId) this.#maxDeletedEntryId = id;
    if (this.#length === 0) this.#firstId = MIN_STREAM_ID;
    else if (id === this.#firstId) this.#firstId = this.#edgeId(true)!;
    return true;
  }

  #removeNode(index: number): void {
    const nodes = this.#nodes;
    const node = nodes[index]!;
    if (node.slab !== undefined) this.#arena.release(node);
    else this.#spare = node.bytes;
    if (index === this.#head) {
      nodes[index] = undefined;
      this.#head++;
      this.#compactHead();
    } else if (index === nodes.length - 1) {
      nodes.pop();
    } else {
      nodes.splice(index, 1);
    }
    if (this.#head === nodes.length) {
      nodes.length = 0;
      this.#head = 0;
    }
  }

  /** Drops the free slots before the head once they are most of the array. */
  #compactHead(): void {
    if (this.#head >= 1024 && this.#head * 2 >= this.#nodes.length) {
      this.#nodes.copyWithin(0, this.#head);
      this.#nodes.length -= this.#head;
      this.#head = 0;
    }
  }

  /**
   * Trims to at most `maxLength` entries (XTRIM/XADD MAXLEN). Exact trims
   * remove whole nodes, then mark the remaining excess inside the next node
   * deleted; approximate (`~`) ones stop at the first node that cannot go
   * whole. A non-zero `limit` (approximate only) stops before a node that
   * would take the count removed past it. Returns the number removed.
   */
  trimByLength(maxLength: number, approximate = false, limit = 0): number {
    return this.#trim(true, maxLength, MIN_STREAM_ID, approximate, limit);
  }

  /** Removes entries with IDs below `minId` (XTRIM/XADD MINID); as trimByLength. */
  trimByMinId(minId: StreamId, approximate = false, limit = 0): number {
    return this.#trim(false, 0, minId, approximate, limit);
  }

  /** streamTrim. */
  #trim(
    byLength: boolean,
    maxLength: number,
    minId: StreamId,
    approximate: boolean,
    limit: number,
  ): number {
    let removed = 0;
    const nodes = this.#nodes;
    while (this.#head < nodes.length) {
      if (byLength && this.#length <= maxLength) break;
      const node = nodes[this.#head]!;
      const entries = node.live;
      if (limit > 0 && removed + entries > limit) break;
      // A MINID trim compares with the node's last entry, tombstone or not.
      const wholeNode = byLength ? this.#length - entries >= maxLength : node.lastId < minId;
      if (wholeNode) {
        this.#removeNode(this.#head);
        this.#length -= entries;
        removed += entries;
        continue;
      }
      if (approximate) break;
      const reader = this.#reader;
      const msHigh = streamIdWord(minId, 0);
      const msLow = streamIdWord(minId, 1);
      const seqHigh = streamIdWord(minId, 2);
      const seqLow = streamIdWord(minId, 3);
      reader.start(node);
      while (reader.next()) {
        const stop = byLength
          ? this.#length <= maxLength
          : reader.compare(msHigh, msLow, seqHigh, seqLow) >= 0;
        if (stop) break;
        if (reader.isDeleted) continue;
        node.markDeleted(reader.entryStart);
        this.#length--;
        removed++;
      }
      // Like Redis, a node whose live entries all went stays (as tombstones)
      // when a MINID trim stopped at a tombstone at or past minId.
      break;
    }
    this.#firstId = this.#length === 0 ? MIN_STREAM_ID : this.#edgeId(true)!;
    return removed;
  }

  /** ID of the first (or last) live entry (streamGetEdgeID skipping tombstones). */
  #edgeId(first: boolean): StreamId | undefined {
    const iterator = this.iterator(MIN_STREAM_ID, MAX_STREAM_ID, !first);
    return iterator.next() ? iterator.id : undefined;
  }

  /** The first live entry (XINFO's `first-entry`), undefined when empty. */
  firstEntry(): StreamEntry | undefined {
    const iterator = this.iterator(MIN_STREAM_ID, MAX_STREAM_ID);
    return iterator.next() ? [iterator.id, iterator.fields()] : undefined;
  }

  /** The last live entry (XINFO's `last-entry`, XREVRANGE + - COUNT 1). */
  lastEntry(): StreamEntry | undefined {
    const iterator = this.iterator(MIN_STREAM_ID, MAX_STREAM_ID, true);
    return iterator.next() ? [iterator.id, iterator.fields()] : undefined;
  }

  /**
   * A cursor over the live entries with `start <= id <= end`, ascending or
   * (`reverse`) descending (streamIteratorStart). Exclusive bounds are
   * stepped by the caller (nextStreamId/previousStreamId).
   *
   * @example
   * ```ts
   * const iterator = stream.iterator(start, MAX_STREAM_ID);
   * for (let n = 0; n < count && iterator.next(); n++) {
   *   reply.push([iterator.idText(), iterator.fields()]);
   * }
   * ```
   */
  iterator(
    start: StreamId = MIN_STREAM_ID,
    end: StreamId = MAX_STREAM_ID,
    reverse = false,
  ): StreamIterator {
    const index = this.#findNode(reverse ? end : start);
    return new StreamIterator(
      this.#nodes,
      this.#head,
      reverse ? index : Math.max(index, this.#head),
      start,
      end,
      reverse,
    );
  }

  /** Up to `count` entries of [start, end] as arrays (XRANGE/XREVRANGE for small replies and tests). */
  range(
    start: StreamId = MIN_STREAM_ID,
    end: StreamId = MAX_STREAM_ID,
    count = Infinity,
    reverse = false,
  ): StreamEntry[] {
    const out: StreamEntry[] = [];
    if (count <= 0) return out;
    const iterator = this.iterator(start, end, reverse);
    while (out.length < count && iterator.next()) out.push([iterator.id, iterator.fields()]);
    return out;
  }

  /** Every live entry in order (the AOF rewrite's XADDs). */
  *entries(): IterableIterator<StreamEntry> {
    const iterator = this.iterator();
    while (iterator.next()) yield [iterator.id, iterator.fields()];
  }

  /**
   * Every node as Redis's RDB stores it: the 16-byte master ID (the radix
   * tree key) and the listpack, tombstones included, in order.
   */
  *listpacks(): IterableIterator<[masterId: StreamId, listpack: Uint8Array]> {
    for (let i = this.#head; i < this.#nodes.length; i++) {
      const node = this.#nodes[i]!;
      yield [node.firstId, node.toListpack()];
    }
  }

  /**
   * Adds a node read from an RDB file or a RESTORE payload: `masterId` (the
   * 16-byte radix tree key) and its Redis listpack, tombstones included,
   * which must come after every node added so far. Adds the node's live
   * entries to `length`; the caller then sets the metadata the file stores
   * (`lastId`, `firstId`, `maxDeletedEntryId`, `entriesAdded`). Throws a
   * ListpackFormatError when the listpack is not a well-formed stream node.
   */
  loadListpack(masterId: StreamId, listpack: Uint8Array): void {
    const reader = new ListpackReader(listpack);
    const integer = () => {
      if (!reader.next() || !reader.isInteger) {
        throw new ListpackFormatError("Stream node: integer expected");
      }
      return reader.integer();
    };
    const string = () => {
      if (!reader.next()) throw new ListpackFormatError("Stream node: element expected");
      return reader.text();
    };
    const live = integer();
    const deleted = integer();
    const masterFields: string[] = [];
    for (let i = integer(); i > 0; i--) masterFields.push(string());
    if (integer() !== 0) throw new ListpackFormatError("Stream node: master entry not terminated");
    const last = this.#nodes.length > this.#head ? this.#nodes[this.#nodes.length - 1] : undefined;
    if (last !== undefined && masterId <= last.lastId) {
      throw new ListpackFormatError("Stream node out of order");
    }
    const node = new StreamNode(masterId, masterFields, this.#takeSpare());
    const masterMsHigh = streamIdWord(masterId, 0);
    const masterMsLow = streamIdWord(masterId, 1);
    const masterSeqHigh = streamIdWord(masterId, 2);
    const masterSeqLow = streamIdWord(masterId, 3);
    let previous: StreamId | undefined;
    while (reader.next()) {
      if (!reader.isInteger) throw new ListpackFormatError("Stream node: entry flags expected");
      const flags = reader.integer();
      if (!reader.next() || !reader.isInteger) {
        throw new ListpackFormatError("Stream node: ms delta");
      }
      const [msHigh, msLow] = add64(masterMsHigh, masterMsLow, reader.high, reader.low);
      if (!reader.next() || !reader.isInteger) {
        throw new ListpackFormatError("Stream node: seq delta");
      }
      const [seqHigh, seqLow] = add64(masterSeqHigh, masterSeqLow, reader.high, reader.low);
      const entryId = streamIdFromWords(msHigh, msLow, seqHigh, seqLow);
      if (
        (previous === undefined && entryId !== masterId) ||
        (previous !== undefined && entryId <= previous)
      ) {
        throw new ListpackFormatError(`Stream node: entry ${formatStreamId(entryId)} out of order`);
      }
      previous = entryId;
      const sameFields = (flags & ENTRY_SAME_FIELDS) !== 0;
      const args: string[] = [];
      if (sameFields) {
        for (const field of masterFields) args.push(field, string());
      } else {
        for (let i = integer(); i > 0; i--) args.push(string(), string());
      }
      integer(); // lp-count, for walking backwards
      if ((flags & ENTRY_DELETED) !== 0) node.appendDeleted(entryId, args, sameFields);
      else node.append(entryId, args, 0, args.length >>> 1, sameFields);
    }
    if (previous === undefined || node.live !== live || node.deleted !== deleted) {
      throw new ListpackFormatError("Stream node: entry counts do not match the master entry");
    }
    node.shrunkToFit = true; // loaded listpacks are allocated to size
    this.#spare = node.bytes;
    this.#arena.store(node, node.bytes, 0, node.used);
    this.#nodes.push(node);
    this.#length += live;
  }

  // ---------------------------------------------------------------------------
  // Consumer groups

  /** Number of consumer groups. */
  get groupCount(): number {
    return this.#groups?.size ?? 0;
  }

  /** The group called `name`, undefined if there is none. */
  group(name: string): ConsumerGroup | undefined {
    return this.#groups?.get(name);
  }

  /**
   * Creates group `name` at `lastId` (XGROUP CREATE); undefined if it exists
   * ("BUSYGROUP"). `entriesRead` is INVALID_ENTRIES_READ unless ENTRIESREAD
   * was given.
   */
  createGroup(
    name: string,
    lastId: StreamId,
    entriesRead: number = INVALID_ENTRIES_READ,
  ): ConsumerGroup | undefined {
    this.#groups ??= new Map();
    if (this.#groups.has(name)) return undefined;
    const group = new ConsumerGroup(name, lastId, entriesRead);
    this.#groups.set(name, group);
    return group;
  }

  /** Removes group `name` (XGROUP DESTROY); false if there was none. */
  deleteGroup(name: string): boolean {
    return this.#groups?.delete(name) ?? false;
  }

  /** Groups in name order (XINFO GROUPS). */
  groups(): ConsumerGroup[] {
    if (this.#groups === undefined) return [];
    return [...this.#groups.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    );
  }

  /**
   * Whether [start, end] (open ends when undefined) may hold a tombstone
   * (streamRangeHasTombstones): only the largest deleted ID is known, so
   * this asks whether it lies in the range and after the first entry.
   */
  rangeHasTombstones(start?: StreamId, end?: StreamId): boolean {
    const maxDeleted = this.#maxDeletedEntryId;
    if (this.#length === 0 || maxDeleted === MIN_STREAM_ID) return false;
    if (this.#firstId > maxDeleted) return false;
    return (start ?? MIN_STREAM_ID) <= maxDeleted && maxDeleted <= (end ?? MAX_STREAM_ID);
  }

  /**
   * How many entries were added up to and including `id`, when that can be
   * known (streamEstimateDistanceFromFirstEverEntry): at the last ID it is
   * `entriesAdded`; at or before the first entry, with no tombstone after
   * it, it follows from the length. Else INVALID_ENTRIES_READ.
   */
  estimateDistanceFromFirstEverEntry(id: StreamId): number {
    if (this.#entriesAdded === 0) return 0;
    if (this.#length === 0 && id <= this.#lastId) return this.#entriesAdded;
    if (id === this.#lastId) return this.#entriesAdded;
    if (id > this.#lastId) return INVALID_ENTRIES_READ;
    const maxDeleted = this.#maxDeletedEntryId;
    if (maxDeleted === MIN_STREAM_ID || maxDeleted < this.#firstId) {
      if (id < this.#firstId) return this.#entriesAdded - this.#length;
      if (id === this.#firstId) return this.#entriesAdded - this.#length + 1;
    }
    return INVALID_ENTRIES_READ;
  }

  /**
   * The group's lag (XINFO GROUPS `lag`, streamReplyWithCGLag): entries not
   * yet read by the group, or undefined (nil) when tombstones make it
   * unknowable.
   */
  groupLag(group: ConsumerGroup): number | undefined {
    if (this.#entriesAdded === 0) return 0;
    if (group.entriesRead !== INVALID_ENTRIES_READ && !this.rangeHasTombstones(group.lastId)) {
      return this.#entriesAdded - group.entriesRead;
    }
    const entriesRead = this.estimateDistanceFromFirstEverEntry(group.lastId);
    return entriesRead === INVALID_ENTRIES_READ ? undefined : this.#entriesAdded - entriesRead;
  }

  /**
   * Moves the group past entry `id` as XREADGROUP delivers it, keeping
   * `entriesRead` counting when it can (streamReplyWithRange's update of the
   * group's last ID). IDs at or below the group's last ID change nothing.
   */
  advanceGroup(group: ConsumerGroup, id: StreamId): void {
    if (id <= group.lastId) return;
    if (group.entriesRead !== INVALID_ENTRIES_READ && !this.rangeHasTombstones(id)) {
      group.entriesRead++;
    } else if (this.#entriesAdded !== 0) {
      group.entriesRead = this.estimateDistanceFromFirstEverEntry(id);
    }
    group.lastId = id;
  }

  // ---------------------------------------------------------------------------
  // Whole-stream operations

  /** An independent deep copy (COPY, streamDup), sharing only the limits. */
  copy(): Stream {
    const copy = new Stream(this.limits);
    for (let i = this.#head; i < this.#nodes.length; i++) {
      copy.#nodes.push(this.#nodes[i]!.clone(copy.#arena));
    }
    copy.#length = this.#length;
    copy.#lastId = this.#lastId;
    copy.#firstId = this.#firstId;
    copy.#maxDeletedEntryId = this.#maxDeletedEntryId;
    copy.#entriesAdded = this.#entriesAdded;
    if (this.#groups !== undefined) {
      copy.#groups = new Map();
      for (const [name, group] of this.#groups) copy.#groups.set(name, group.clone());
    }
    return copy;
  }

  /**
   * Bytes Redis would report for this stream (MEMORY USAGE,
   * objectComputeSize): the object and radix tree overheads, the allocated
   * size of the listpacks (the average of the first `samples` nodes times
   * all but the last, plus the last; `samples` 0 means every node), and the
   * consumer groups' PELs. The nodes' radix tree is sized exactly; PEL radix
   * trees are estimated at two tree nodes per pending ID (counting them
   * would be O(PEL) where Redis is O(1)), so with large PELs the figure can
   * be off by the tree's overhead.
   */
  memoryUsage(samples = 5): number {
    const nodes = this.#nodes;
    const count = this.nodeCount;
    let size = OBJECT_AND_STREAM_BYTES + radixTreeBytes(count, this.radixTreeNodes);
    let sampled = 0;
    let sampledBytes = 0;
    for (let i = this.#head; i < nodes.length && (samples === 0 || sampled < samples); i++) {
      sampledBytes += this.#allocatedBytes(nodes[i]!);
      sampled++;
    }
    if (count <= sampled) size += sampledBytes;
    else {
      size += Math.floor(sampledBytes / sampled) * (count - 1);
      size += this.#allocatedBytes(nodes[nodes.length - 1]!);
    }
    for (const group of this.#groups?.values() ?? []) {
      const pending = group.pending.size;
      size += CONSUMER_GROUP_BYTES + radixTreeBytes(pending, estimatedTreeNodes(pending)) +
        PENDING_ENTRY_BYTES * pending;
      for (const consumer of group.consumers()) {
        const owned = consumer.pending.size;
        size += CONSUMER_BYTES + consumer.name.length +
          radixTreeBytes(owned, estimatedTreeNodes(owned));
      }
    }
    return size;
  }

  /** zmalloc_size of a node's listpack: preallocated, grown, or shrunk to fit. */
  #allocatedBytes(node: StreamNode): number {
    const bytes = jemallocSize(node.listpackBytes);
    if (node.shrunkToFit) return bytes;
    let preallocation = LISTPACK_PREALLOCATION;
    const maxBytes = this.limits.nodeMaxBytes;
    if (maxBytes > 0 && maxBytes < preallocation) preallocation = maxBytes;
    return Math.max(bytes, jemallocSize(preallocation));
  }
}

/** robj (16) and stream (80) plus allocator rounding, as MEMORY USAGE counts them. */
const OBJECT_AND_STREAM_BYTES = 128;
const CONSUMER_GROUP_BYTES = 40;
const CONSUMER_BYTES = 24;
const PENDING_ENTRY_BYTES = 24;

/** streamRadixTreeMemoryUsage: 16 bytes per key plus (4 + 30 * 8) per radix tree node. */
function radixTreeBytes(keys: number, treeNodes: number): number {
  return 16 * keys + 244 * treeNodes;
}

/** About two radix tree nodes per 16-byte ID key, one for an empty tree. */
function estimatedTreeNodes(keys: number): number {
  return keys === 0 ? 1 : 2 * keys;
}

/**
 * How many nodes Redis's radix tree (rax) has for the first IDs of
 * `nodes[head..]`, sorted 16-byte keys. A rax node starts at the empty
 * prefix (the root), at every branching prefix (shared by two keys that
 * differ right after it), after the first byte of every branch (rax keeps
 * that byte in the parent, and the rest of the run in a compressed child),
 * and at every key (an empty leaf marking the key's end). Branching
 * prefixes are exactly the longest common prefixes of neighbours in sorted
 * order, so a pass over neighbours finds them all; the count matches
 * XINFO's radix-tree-nodes.
 */
function radixTreeNodeCount(nodes: readonly (StreamNode | undefined)[], head: number): number {
  const prefixes = new Set<string>([""]);
  for (let i = head; i < nodes.length; i++) {
    const key = nodes[i]!.firstId;
    prefixes.add(key);
    if (i + 1 === nodes.length) break;
    const next = nodes[i + 1]!.firstId;
    let common = 0;
    while (common < 16 && key.charCodeAt(common) === next.charCodeAt(common)) common++;
    prefixes.add(key.slice(0, common));
    prefixes.add(key.slice(0, common + 1));
    prefixes.add(next.slice(0, common + 1));
  }
  return prefixes.size;
}

/** jemalloc's size class for an allocation of `size` bytes (4 classes per doubling). */
export function jemallocSize(size: number): number {
  if (size <= 8) return 8;
  if (size <= 128) return Math.ceil(size / 16) * 16;
  const power = 2 ** Math.floor(Math.log2(size - 1));
  const step = power / 4;
  return Math.ceil(size / step) * step;
}

/** `(high, low) + (otherHigh, otherLow)` on 64 bits, wrapping. */
function add64(high: number, low: number, otherHigh: number, otherLow: number): [number, number] {
  let sum = low + otherLow;
  let carry = 0;
  if (sum >= 4294967296) {
    sum -= 4294967296;
    carry = 1;
  }
  return [(high + otherHigh + carry) >>> 0, sum];
}

function fieldsOf(args: readonly string[], start: number, count: number): string[] {
  const fields = new Array<string>(count);
  for (let i = 0; i < count; i++) fields[i] = args[start + 2 * i]!;
  return fields;
}

/**
 * A cursor over a stream's live entries in an ID range (streamIterator),
 * made by `Stream.iterator`. Call `next()` until it returns false; after
 * each true, `id`, `idText()`, `fieldCount` and `fields()` describe the
 * current entry. Changing the stream ends the cursor's validity.
 */
export class StreamIterator {
  readonly #nodes: readonly (StreamNode | undefined)[];
  readonly #head: number;
  #index: number;
  readonly #reverse: boolean;
  readonly #reader = new NodeReader();
  #inNode = false;
  #done = false;
  readonly #start: StreamId;
  readonly #end: StreamId;
  #startWords: [number, number, number, number];
  #endWords: [number, number, number, number];
  /** Reverse only: per live entry of the node in range, its start and the previous ID. */
  #positions: number[] = [];
  #cursor = -1;

  constructor(
    nodes: readonly (StreamNode | undefined)[],
    head: number,
    index: number,
    start: StreamId,
    end: StreamId,
    reverse: boolean,
  ) {
    this.#nodes = nodes;
    this.#head = head;
    this.#index = index;
    this.#start = start;
    this.#end = end;
    this.#reverse = reverse;
    this.#startWords = words(start);
    this.#endWords = words(end);
    if (start > end) this.#done = true;
  }

  /** Moves to the next live entry in range; false when there is none. */
  next(): boolean {
    if (this.#done) return false;
    return this.#reverse ? this.#previousEntry() : this.#nextEntry();
  }

  #nextEntry(): boolean {
    const reader = this.#reader;
    const [startMsHigh, startMsLow, startSeqHigh, startSeqLow] = this.#startWords;
    const [endMsHigh, endMsLow, endSeqHigh, endSeqLow] = this.#endWords;
    for (;;) {
      if (!this.#inNode) {
        const node = this.#nodes[this.#index];
        if (node === undefined || this.#index < this.#head) {
          this.#done = true;
          return false;
        }
        if (node.lastId < this.#start) {
          this.#index++;
          continue;
        }
        reader.start(node);
        this.#inNode = true;
      }
      while (reader.next()) {
        if (reader.isDeleted) continue;
        if (reader.compare(startMsHigh, startMsLow, startSeqHigh, startSeqLow) < 0) continue;
        if (reader.compare(endMsHigh, endMsLow, endSeqHigh, endSeqLow) > 0) {
          this.#done = true;
          return false;
        }
        return true;
      }
      this.#inNode = false;
      this.#index++;
    }
  }

  #previousEntry(): boolean {
    const reader = this.#reader;
    const positions = this.#positions;
    for (;;) {
      if (!this.#inNode) {
        if (this.#index < this.#head) {
          this.#done = true;
          return false;
        }
        const node = this.#nodes[this.#index]!;
        const [endMsHigh, endMsLow, endSeqHigh, endSeqLow] = this.#endWords;
        positions.length = 0;
        reader.start(node);
        for (;;) {
          const position = reader.position;
          const msHigh = reader.msHigh;
          const msLow = reader.msLow;
          const seqHigh = reader.seqHigh;
          const seqLow = reader.seqLow;
          if (!reader.next()) break;
          if (reader.compare(endMsHigh, endMsLow, endSeqHigh, endSeqLow) > 0) break;
          if (reader.isDeleted) continue;
          positions.push(position, msHigh, msLow, seqHigh, seqLow);
        }
        this.#cursor = positions.length - 5;
        this.#inNode = true;
      }
      if (this.#cursor >= 0) {
        const at = this.#cursor;
        this.#cursor -= 5;
        reader.resume(
          positions[at]!,
          positions[at + 1]!,
          positions[at + 2]!,
          positions[at + 3]!,
          positions[at + 4]!,
        );
        reader.next();
        const [startMsHigh, startMsLow, startSeqHigh, startSeqLow] = this.#startWords;
        if (reader.compare(startMsHigh, startMsLow, startSeqHigh, startSeqLow) < 0) {
          this.#done = true;
          return false;
        }
        return true;
      }
      this.#inNode = false;
      this.#index--;
    }
  }

  /** The current entry's ID. */
  get id(): StreamId {
    return this.#reader.id;
  }

  /** The current entry's ID as text, `<ms>-<seq>`. */
  idText(): string {
    const reader = this.#reader;
    return formatUint64(reader.msHigh, reader.msLow) + "-" +
      formatUint64(reader.seqHigh, reader.seqLow);
  }

  /** Number of field/value pairs of the current entry. */
  get fieldCount(): number {
    return this.#reader.fieldCount;
  }

  /** The current entry's fields and values, alternating. */
  fields(): string[] {
    return this.#reader.fields();
  }
}

function words(id: StreamId): [number, number, number, number] {
  return [streamIdWord(id, 0), streamIdWord(id, 1), streamIdWord(id, 2), streamIdWord(id, 3)];
}
