/**
 * StreamNode: one node of a stream, a run of consecutive entries packed in
 * a byte buffer, the counterpart of one listpack in Redis's radix tree.
 *
 * Why bytes: entries as JS objects (an ID string, an array, a string per
 * field and value) cost well over 100 bytes each; Redis needs about 19 for
 * a small entry. Here an entry is:
 *
 *     flags     1 byte: bit 0 deleted, bit 1 same fields as the master entry
 *     ms delta  varint64, from the previous entry's ms (0 for the first)
 *     seq       varint64: seq minus the previous seq when the ms delta is 0,
 *               else the seq itself
 *     [count]   varint: number of field/value pairs, unless "same fields"
 *     strings   each a varint length and the raw bytes: the values only
 *               ("same fields"), else field, value, field, value...
 *
 * so `{sensor: 7, temp: 21.5}` added by `XADD *` takes about 10 bytes. Deltas
 * from the previous entry (Redis takes them from the master ID) stay one byte
 * each, at the price of decoding a node from its start, which is cheap for
 * at most `stream-node-max-entries` (100) entries and what a range does
 * anyway. Like Redis, deletion only sets the flag: the entry stays as a
 * tombstone until its node is trimmed away or has no live entry left, and
 * the master fields are the first entry's, fixed for the node's life.
 *
 * Each node also tracks the size Redis's listpack for the same entries
 * would have (`listpackBytes`), so the stream can split nodes exactly where
 * Redis does (see stream_listpack.ts), and it can rebuild that listpack
 * byte for byte (`toListpack`) for the RDB writer.
 *
 * The node being appended to grows in a buffer of its own; once a node is
 * closed its bytes move into a slab shared with its neighbours
 * (StreamNodeArena, below), because every ArrayBuffer costs V8 about 1 KB of
 * bookkeeping, as much as a full node's entries.
 *
 * IDs are handled as four unsigned 32-bit words (stream_id.ts); 64-bit sums
 * carry by hand, so no BigInt is needed even at 2^64-1.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { BinaryBuffer } from "../protocol/binary.ts";
import { type StreamId, streamIdFromWords, streamIdWord } from "./stream_id.ts";
import {
  LISTPACK_EMPTY_BYTES,
  listpackInt64Size,
  listpackIntegerSize,
  listpackStringSize,
  ListpackWriter,
} from "./stream_listpack.ts";

/** The entry was deleted (XDEL, or an exact trim inside the node). */
export const ENTRY_DELETED = 1;
/** The entry's fields are the node's master fields; only values are stored. */
export const ENTRY_SAME_FIELDS = 2;

const WORD = 4294967296;
const INITIAL_CAPACITY = 128;
/** Strings up to this length are copied by a loop; longer ones by the native codec. */
const SHORT_STRING = 12;

/**
 * A node of a stream: entries with IDs from `firstId` (the master ID, the
 * node's key, kept even after that entry is deleted) to `lastId`.
 *
 * Its bytes are `bytes[offset .. offset + used)`. The node being appended
 * to (the stream's last) owns a growable buffer at offset 0; once closed, a
 * node's bytes move into a slab of its stream's StreamNodeArena.
 */
export class StreamNode {
  bytes: BinaryBuffer;
  offset = 0;
  used = 0;
  /** The slab holding the bytes of a closed node; undefined while it grows. */
  slab: Slab | undefined;
  /** ID of the node's first entry ever (Redis's master ID and radix tree key). */
  readonly firstId: StreamId;
  /** ID of the node's last entry, deleted or not. */
  lastId: StreamId;
  /** Entries not deleted (the listpack's "count"). */
  live = 0;
  /** Tombstones (the listpack's "deleted"). */
  deleted = 0;
  /** The master entry's fields: those of the first entry added. */
  readonly masterFields: readonly string[];
  /**
   * Redis shrank this node's listpack to fit when it filled up by entry
   * count; other nodes keep their 4096-byte preallocation (MEMORY USAGE).
   */
  shrunkToFit = false;
  /** Redis listpack bytes, except the two counters (whose sizes vary). */
  #listpackFixedBytes: number;

  /** A node that will grow in `buffer` (a spare one) or in a new buffer. */
  constructor(firstId: StreamId, masterFields: readonly string[], buffer?: BinaryBuffer) {
    this.firstId = firstId;
    this.lastId = firstId;
    this.masterFields = masterFields;
    this.bytes = buffer ?? allocate(INITIAL_CAPACITY);
    let fixed = LISTPACK_EMPTY_BYTES + listpackIntegerSize(masterFields.length) +
      listpackIntegerSize(0); // the master entry's terminating "0"
    for (const field of masterFields) fixed += listpackStringSize(field);
    this.#listpackFixedBytes = fixed;
  }

  /** Entries including tombstones: what `stream-node-max-entries` counts. */
  get entryCount(): number {
    return this.live + this.deleted;
  }

  /** lpBytes of the listpack Redis would hold for this node. */
  get listpackBytes(): number {
    return this.#listpackFixedBytes + listpackIntegerSize(this.live) +
      listpackIntegerSize(this.deleted);
  }

  /**
   * Whether `count` pairs from `args[start]` have exactly the master fields,
   * the test Redis makes to set STREAM_ITEM_FLAG_SAMEFIELDS.
   */
  hasMasterFields(args: readonly string[], start: number, count: number): boolean {
    const master = this.masterFields;
    if (master.length !== count) return false;
    for (let i = 0; i < count; i++) if (master[i] !== args[start + 2 * i]) return false;
    return true;
  }

  /**
   * Appends entry `id` (above `lastId`) with the `count` field/value pairs at
   * `args[start...]`. The node must be open (not in a slab) and the caller
   * has checked that it has room. `sameFields` overrides the master fields
   * test (for listpacks loaded as they were written).
   */
  append(
    id: StreamId,
    args: readonly string[],
    start: number,
    count: number,
    sameFields = this.hasMasterFields(args, start, count),
  ): void {
    // An upper bound of the encoded size, so one check covers every write.
    let needed = 1 + 10 + 10 + 5;
    let listpackEntry = listpackIntegerSize(sameFields ? ENTRY_SAME_FIELDS : 0) +
      listpackIntegerSize(sameFields ? count + 3 : 2 * count + 4); // flags, lp-count
    if (!sameFields) listpackEntry += listpackIntegerSize(count);
    const step = sameFields ? 2 : 1;
    for (let i = sameFields ? 1 : 0; i < 2 * count; i += step) {
      const value = args[start + i]!;
      needed += 5 + value.length;
      listpackEntry += listpackStringSize(value);
    }
    this.#reserve(needed);

    const msHigh = streamIdWord(id, 0);
    const msLow = streamIdWord(id, 1);
    const seqHigh = streamIdWord(id, 2);
    const seqLow = streamIdWord(id, 3);
    // Redis stores ms and seq as uint64 differences from the master ID.
    const first = this.firstId;
    subtract(msHigh, msLow, streamIdWord(first, 0), streamIdWord(first, 1));
    listpackEntry += listpackInt64Size(differenceHigh, differenceLow);
    subtract(seqHigh, seqLow, streamIdWord(first, 2), streamIdWord(first, 3));
    listpackEntry += listpackInt64Size(differenceHigh, differenceLow);
    this.#listpackFixedBytes += listpackEntry;

    const bytes = this.bytes;
    const last = this.lastId;
    let at = this.used;
    bytes[at++] = sameFields ? ENTRY_SAME_FIELDS : 0;
    const lastMsHigh = streamIdWord(last, 0);
    const lastMsLow = streamIdWord(last, 1);
    if (msHigh === lastMsHigh && msLow === lastMsLow) {
      bytes[at++] = 0;
      subtract(seqHigh, seqLow, streamIdWord(last, 2), streamIdWord(last, 3));
      at = writeVarint64(bytes, at, differenceHigh, differenceLow);
    } else {
      subtract(msHigh, msLow, lastMsHigh, lastMsLow);
      at = writeVarint64(bytes, at, differenceHigh, differenceLow);
      at = writeVarint64(bytes, at, seqHigh, seqLow);
    }
    if (sameFields) {
      for (let i = 1; i < 2 * count; i += 2) at = writeString(bytes, at, args[start + i]!);
    } else {
      at = writeVarint64(bytes, at, 0, count);
      for (let i = 0; i < 2 * count; i++) at = writeString(bytes, at, args[start + i]!);
    }
    this.used = at;
    this.lastId = id;
    this.live++;
  }

  /** Appends a tombstone: how a loaded listpack's deleted entries are kept. */
  appendDeleted(id: StreamId, args: readonly string[], sameFields: boolean): void {
    const at = this.used;
    this.append(id, args, 0, args.length >>> 1, sameFields);
    this.markDeleted(at);
  }

  /** Sets the deleted flag of the entry whose flags byte is at `entryStart`. */
  markDeleted(entryStart: number): void {
    this.bytes[entryStart]! |= ENTRY_DELETED;
    this.live--;
    this.deleted++;
  }

  /** A closed copy of this node in `arena` (COPY). */
  clone(arena: StreamNodeArena): StreamNode {
    const copy = new StreamNode(this.firstId, this.masterFields, EMPTY_BUFFER);
    copy.lastId = this.lastId;
    copy.live = this.live;
    copy.deleted = this.deleted;
    copy.shrunkToFit = this.shrunkToFit;
    copy.#listpackFixedBytes = this.#listpackFixedBytes;
    arena.store(copy, this.bytes, this.offset, this.used);
    return copy;
  }

  /**
   * The listpack Redis would store for this node, byte for byte: the master
   * entry (count, deleted, field count, fields, 0), then per entry flags, ms
   * and seq differences from the master ID, [field count, fields,] values and
   * lp-count (streamAppendItem's layout). The RDB writer stores it under the
   * 16-byte key `firstId`.
   */
  toListpack(): Uint8Array {
    const writer = new ListpackWriter();
    writer.appendInteger(this.live);
    writer.appendInteger(this.deleted);
    writer.appendInteger(this.masterFields.length);
    for (const field of this.masterFields) writer.appendString(field);
    writer.appendInteger(0);
    const reader = new NodeReader();
    reader.start(this);
    const first = this.firstId;
    while (reader.next()) {
      writer.appendInteger(reader.flags);
      subtract(reader.msHigh, reader.msLow, streamIdWord(first, 0), streamIdWord(first, 1));
      writer.appendInt64(differenceHigh, differenceLow);
      subtract(reader.seqHigh, reader.seqLow, streamIdWord(first, 2), streamIdWord(first, 3));
      writer.appendInt64(differenceHigh, differenceLow);
      const fields = reader.fields();
      const pairs = fields.length / 2;
      const sameFields = (reader.flags & ENTRY_SAME_FIELDS) !== 0;
      if (!sameFields) writer.appendInteger(pairs);
      for (let i = 0; i < fields.length; i++) {
        if (!sameFields || i % 2 === 1) writer.appendString(fields[i]!);
      }
      writer.appendInteger(sameFields ? pairs + 3 : 2 * pairs + 4);
    }
    return writer.finish();
  }

  #reserve(extra: number): void {
    const needed = this.used + extra;
    if (needed <= this.bytes.length) return;
    let capacity = Math.max(this.bytes.length * 2, INITIAL_CAPACITY);
    while (capacity < needed) capacity *= 2;
    const bytes = allocate(capacity);
    bytes.set(this.bytes.subarray(0, this.used));
    this.bytes = bytes;
  }
}

function allocate(size: number): BinaryBuffer {
  return Buffer.allocUnsafeSlow(size) as BinaryBuffer;
}

const EMPTY_BUFFER = allocate(0);

/** Slabs start this small (streams are often short) and double up to the maximum. */
const FIRST_SLAB_BYTES = 4096;
const MAX_SLAB_BYTES = 65536;
/** A node bigger than this gets a slab of its own. */
const OWN_SLAB_BYTES = MAX_SLAB_BYTES / 4;

/** A buffer shared by closed nodes, filled front to back. */
export class Slab {
  readonly bytes: BinaryBuffer;
  used = 0;
  /** Bytes of the nodes still stored here. */
  liveBytes = 0;
  /** Nodes ever stored here (those whose `slab` is still this one are live). */
  readonly nodes: StreamNode[] = [];
  /** Index in `nodes` before which every node has been released. */
  drained = 0;

  constructor(size: number) {
    this.bytes = allocate(size);
  }
}

/**
 * Where a stream keeps its closed nodes: a few large buffers instead of one
 * per node. Each ArrayBuffer costs about 1 KB of bookkeeping in V8, as much
 * as a full node's entries, and freeing the growth steps of thousands of
 * small buffers fragments the allocator; a million-entry stream in one
 * buffer per node took twice the resident memory of the same stream here.
 *
 * Closing a node copies its bytes into the current slab (bump allocation).
 * Removing a node (trim, XDEL of its last entry) only lowers its slab's live
 * count: trims remove the oldest nodes, which sit in the oldest slabs, so
 * slabs empty in order and are garbage collected with their last node. When
 * a removal out of that order leaves a slab (not the current one) below a
 * quarter live, its nodes move to the current slab, so deletions in the
 * middle cannot pin much dead memory.
 */
export class StreamNodeArena {
  #current: Slab | undefined;
  #nextSlabBytes = FIRST_SLAB_BYTES;

  /** Copies `length` bytes of `source` from `start` into a slab as `node`'s storage. */
  store(node: StreamNode, source: Uint8Array, start: number, length: number): void {
    let slab: Slab;
    if (length > OWN_SLAB_BYTES) {
      slab = new Slab(length);
    } else {
      slab = this.#current ?? this.#newSlab(length);
      if (slab.used + length > slab.bytes.length) slab = this.#newSlab(length);
    }
    const offset = slab.used;
    slab.bytes.set(source.subarray(start, start + length), offset);
    slab.used += length;
    slab.liveBytes += length;
    slab.nodes.push(node);
    node.bytes = slab.bytes;
    node.offset = offset;
    node.used = length;
    node.slab = slab;
  }

  #newSlab(length: number): Slab {
    const slab = new Slab(Math.max(this.#nextSlabBytes, length));
    this.#nextSlabBytes = Math.min(this.#nextSlabBytes * 2, MAX_SLAB_BYTES);
    this.#current = slab;
    return slab;
  }

  /** Forgets the slab storage of `node`, which left the stream or reopened. */
  release(node: StreamNode): void {
    const slab = node.slab;
    if (slab === undefined) return;
    node.slab = undefined;
    slab.liveBytes -= node.used;
    const nodes = slab.nodes;
    if (nodes[slab.drained] === node) {
      // Released oldest first, as trims do: the rest will follow, no need to move them.
      while (slab.drained < nodes.length && nodes[slab.drained]!.slab !== slab) slab.drained++;
      return;
    }
    if (slab !== this.#current && slab.liveBytes > 0 && slab.liveBytes * 4 < slab.used) {
      for (const survivor of slab.nodes) {
        if (survivor.slab === slab) {
          this.store(survivor, slab.bytes, survivor.offset, survivor.used);
        }
      }
    }
  }

  /**
   * Makes closed `node` growable again (the stream's last node was removed
   * and Redis appends to the one before it): its bytes move to `buffer`.
   */
  reopen(node: StreamNode, buffer?: BinaryBuffer): void {
    const bytes = buffer !== undefined && buffer.length >= node.used
      ? buffer
      : allocate(Math.max(node.used * 2, INITIAL_CAPACITY));
    bytes.set(node.bytes.subarray(node.offset, node.offset + node.used));
    this.release(node);
    node.bytes = bytes;
    node.offset = 0;
  }
}

/** Output of `subtract`, in module state to spare a tuple per call. */
let differenceHigh = 0;
let differenceLow = 0;

/** `(high, low) - (otherHigh, otherLow)` on 64 bits, wrapping, into differenceHigh/Low. */
function subtract(high: number, low: number, otherHigh: number, otherLow: number): void {
  let resultLow = low - otherLow;
  let borrow = 0;
  if (resultLow < 0) {
    resultLow += WORD;
    borrow = 1;
  }
  differenceHigh = (high - otherHigh - borrow) >>> 0;
  differenceLow = resultLow;
}

function writeVarint64(bytes: Uint8Array, at: number, high: number, low: number): number {
  while (high !== 0 || low > 0x7f) {
    bytes[at++] = (low & 0x7f) | 0x80;
    low = ((low >>> 7) | ((high & 0x7f) << 25)) >>> 0;
    high >>>= 7;
  }
  bytes[at++] = low;
  return at;
}

function writeString(bytes: BinaryBuffer, at: number, value: string): number {
  const length = value.length;
  if (length < 0x80) bytes[at++] = length;
  else at = writeVarint64(bytes, at, 0, length);
  if (length <= SHORT_STRING) {
    for (let i = 0; i < length; i++) bytes[at + i] = value.charCodeAt(i);
  } else {
    bytes.latin1Write(value, at, length);
  }
  return at + length;
}

/**
 * A cursor over the entries of one node, tombstones included, in order:
 * `start(node)`, then `next()` until it returns false. After each `next()`
 * the fields describe the current entry. One reader serves any number of
 * nodes, so walking a stream allocates nothing per entry until `fields()`
 * builds the strings.
 */
export class NodeReader {
  #node: StreamNode | undefined;
  #bytes: BinaryBuffer = EMPTY_BUFFER;
  #at = 0;
  #end = 0;
  /** Offset of the current entry's flags byte (for markDeleted). */
  entryStart = 0;
  /** Offset where the current entry's field count or strings begin. */
  #bodyStart = 0;
  /** Flags of the current entry (ENTRY_DELETED, ENTRY_SAME_FIELDS). */
  flags = 0;
  /** The current entry's ID as words. */
  msHigh = 0;
  msLow = 0;
  seqHigh = 0;
  seqLow = 0;

  /** Positions the reader before the first entry of `node`. */
  start(node: StreamNode): void {
    this.#node = node;
    this.#bytes = node.bytes;
    this.#at = node.offset;
    this.#end = node.offset + node.used;
    const first = node.firstId;
    this.msHigh = streamIdWord(first, 0);
    this.msLow = streamIdWord(first, 1);
    this.seqHigh = streamIdWord(first, 2);
    this.seqLow = streamIdWord(first, 3);
  }

  /** Whether the current entry is a tombstone. */
  get isDeleted(): boolean {
    return (this.flags & ENTRY_DELETED) !== 0;
  }

  /** Where the next entry starts; with the current ID, enough to `resume` there. */
  get position(): number {
    return this.#at;
  }

  /**
   * Continues from `position`, as if the entry before it had ID
   * (msHigh, msLow, seqHigh, seqLow): how reverse iteration revisits the
   * entries of a node it decoded forwards once.
   */
  resume(position: number, msHigh: number, msLow: number, seqHigh: number, seqLow: number): void {
    this.#at = position;
    this.msHigh = msHigh;
    this.msLow = msLow;
    this.seqHigh = seqHigh;
    this.seqLow = seqLow;
  }

  /** Moves to the next entry; false at the end of the node. */
  next(): boolean {
    if (this.#at >= this.#end) return false;
    const bytes = this.#bytes;
    let at = this.#at;
    this.entryStart = at;
    const flags = bytes[at++]!;
    this.flags = flags;
    const first = bytes[at]!;
    if (first === 0) {
      at++;
      const delta = bytes[at]!;
      if (delta < 0x80) {
        at++;
        const low = this.seqLow + delta;
        if (low < WORD) this.seqLow = low;
        else {
          this.seqLow = low - WORD;
          this.seqHigh++;
        }
      } else {
        at = this.#readVarint64(at);
        let low = this.seqLow + varintLow;
        let carry = 0;
        if (low >= WORD) {
          low -= WORD;
          carry = 1;
        }
        this.seqLow = low;
        this.seqHigh = this.seqHigh + varintHigh + carry;
      }
    } else {
      at = this.#readVarint64(at);
      let low = this.msLow + varintLow;
      let carry = 0;
      if (low >= WORD) {
        low -= WORD;
        carry = 1;
      }
      this.msLow = low;
      this.msHigh = this.msHigh + varintHigh + carry;
      at = this.#readVarint64(at);
      this.seqHigh = varintHigh;
      this.seqLow = varintLow;
    }
    this.#bodyStart = at;
    let strings: number;
    if ((flags & ENTRY_SAME_FIELDS) !== 0) strings = this.#node!.masterFields.length;
    else {
      at = this.#readVarint64(at);
      strings = 2 * varintLow;
    }
    for (let i = 0; i < strings; i++) {
      const length = bytes[at]!;
      if (length < 0x80) at += 1 + length;
      else {
        at = this.#readVarint64(at);
        at += varintLow;
      }
    }
    this.#at = at;
    return true;
  }

  /** The current entry's ID. */
  get id(): StreamId {
    return streamIdFromWords(this.msHigh, this.msLow, this.seqHigh, this.seqLow);
  }

  /** -1, 0 or 1 as the current ID is below, equal to or above the given words. */
  compare(msHigh: number, msLow: number, seqHigh: number, seqLow: number): number {
    if (this.msHigh !== msHigh) return this.msHigh < msHigh ? -1 : 1;
    if (this.msLow !== msLow) return this.msLow < msLow ? -1 : 1;
    if (this.seqHigh !== seqHigh) return this.seqHigh < seqHigh ? -1 : 1;
    if (this.seqLow !== seqLow) return this.seqLow < seqLow ? -1 : 1;
    return 0;
  }

  /** Number of field/value pairs of the current entry. */
  get fieldCount(): number {
    if ((this.flags & ENTRY_SAME_FIELDS) !== 0) return this.#node!.masterFields.length;
    this.#readVarint64(this.#bodyStart);
    return varintLow;
  }

  /** The current entry's fields and values, alternating, as Redis replies them. */
  fields(): string[] {
    const bytes = this.#bytes;
    let at = this.#bodyStart;
    if ((this.flags & ENTRY_SAME_FIELDS) !== 0) {
      const master = this.#node!.masterFields;
      const out = new Array<string>(2 * master.length);
      for (let i = 0; i < master.length; i++) {
        out[2 * i] = master[i]!;
        at = this.#readString(bytes, at);
        out[2 * i + 1] = stringRead;
      }
      return out;
    }
    at = this.#readVarint64(at);
    const out = new Array<string>(2 * varintLow);
    for (let i = 0; i < out.length; i++) {
      at = this.#readString(bytes, at);
      out[i] = stringRead;
    }
    return out;
  }

  #readString(bytes: BinaryBuffer, at: number): number {
    let length = bytes[at]!;
    if (length < 0x80) at++;
    else {
      at = this.#readVarint64(at);
      length = varintLow;
    }
    stringRead = readBinary(bytes, at, length);
    return at + length;
  }

  /** Reads a varint64 at `at` into varintHigh/varintLow; returns the next offset. */
  #readVarint64(at: number): number {
    const bytes = this.#bytes;
    let byte = bytes[at++]!;
    let low = byte & 0x7f;
    let high = 0;
    let shift = 7;
    while (byte >= 0x80) {
      byte = bytes[at++]!;
      const bits = byte & 0x7f;
      if (shift < 28) low |= bits << shift;
      else if (shift === 28) {
        low |= (bits & 0x0f) << 28;
        high = bits >>> 4;
      } else high |= bits << (shift - 32);
      shift += 7;
    }
    varintLow = low >>> 0;
    varintHigh = high >>> 0;
    return at;
  }
}

/** Results of NodeReader's private readers, in module state to spare tuples. */
let varintLow = 0;
let varintHigh = 0;
let stringRead = "";

/** The binary string of `length` bytes at `at`. */
function readBinary(bytes: BinaryBuffer, at: number, length: number): string {
  switch (length) {
    case 0:
      return "";
    case 1:
      return String.fromCharCode(bytes[at]!);
    case 2:
      return String.fromCharCode(bytes[at]!, bytes[at + 1]!);
    case 3:
      return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!);
    case 4:
      return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
    case 5:
      return String.fromCharCode(
        bytes[at]!,
        bytes[at + 1]!,
        bytes[at + 2]!,
        bytes[at + 3]!,
        bytes[at + 4]!,
      );
    default:
      return bytes.latin1Slice(at, at + length);
  }
}
