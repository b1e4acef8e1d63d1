/**
 * Streams in RDB (STREAM_LISTPACKS 1, 2 and 3), both ways.
 *
 * Redis keeps a stream as a radix tree of listpack "nodes", each keyed by
 * its master ID (16 bytes, ms then seq, big-endian) and saved as is. A node
 * starts with a master entry — live count, deleted count, the field names
 * of the node's first entry, a 0 — and then holds entries as: flags
 * (1 = deleted, 2 = same fields as the master), the ID as ms and seq
 * differences from the master ID, either the values alone (same fields) or
 * a field count and field-value pairs, and an lp-count that lets Redis walk
 * backwards. After the nodes come the length, the last ID, (since 7.0) the
 * first ID, the greatest deleted ID and the entries-added counter, then the
 * consumer groups: name, last delivered ID, (since 7.0) entries-read, the
 * group's pending entries with delivery time and count, and each consumer
 * with its seen time, (7.2) active time, and the IDs it owns.
 *
 * Reading checks what `streamValidateListpackIntegrity` and `rdbLoadObject`
 * check (deep): node keys of 16 bytes, no empty or duplicate node, the
 * master entry and every entry's shape and lp-count, consumer PEL entries
 * present in the group's PEL, every pending entry owned by a consumer; and,
 * because the model has no room for a silently wrong value, IDs strictly
 * ascending (tombstones included) and a length equal to the number of
 * live entries. Decoded into entries, deleted ones (tombstones) are
 * dropped; a store that keeps Redis's node layout asks for the nodes
 * instead (`RdbStream.nodes`), validated the same way and handed over as
 * stored, so nothing about the stream changes through a save and a load.
 *
 * Writing saves given nodes as they are; from entries, it lays nodes out as
 * Redis's `streamAppendItem` would when the live entries are added in
 * order: a new node when the current one would reach
 * `stream-node-max-bytes` or holds `stream-node-max-entries` entries.
 *
 * @module
 */

import { RDB_TYPE, type RdbEncodingLimits } from "./constants.ts";
import type { RdbCursor } from "./cursor.ts";
import { ListpackBuilder, ListpackReader } from "./listpack.ts";
import {
  RdbError,
  type RdbStream,
  type RdbStreamConsumer,
  type RdbStreamEntry,
  type RdbStreamGroup,
  type RdbStreamNode,
  type RdbStreamPendingEntry,
  type StreamIdParts,
} from "./model.ts";
import type { RdbOutput } from "./output.ts";

const FLAG_DELETED = 1;
const FLAG_SAME_FIELDS = 2;
const UINT64_MASK = (1n << 64n) - 1n;
/** SCG_INVALID_ENTRIES_READ */
const INVALID_ENTRIES_READ = -1n;
/** STREAM_LISTPACK_MAX_SIZE */
const LISTPACK_MAX_SIZE = 1 << 30;

/** Compares two stream IDs. */
export function compareStreamIdParts(a: StreamIdParts, b: StreamIdParts): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

/** Decodes a 16-byte big-endian stream ID (`streamDecodeID`) from a binary string. */
export function decodeStreamId(raw: string): StreamIdParts {
  let ms = 0n;
  let seq = 0n;
  for (let i = 0; i < 8; i++) ms = (ms << 8n) | BigInt(raw.charCodeAt(i));
  for (let i = 8; i < 16; i++) seq = (seq << 8n) | BigInt(raw.charCodeAt(i));
  return { ms, seq };
}

/** Encodes a stream ID as 16 big-endian bytes (`streamEncodeID`). */
export function encodeStreamId(id: StreamIdParts, target: Uint8Array, offset = 0): void {
  let ms = BigInt.asUintN(64, id.ms);
  let seq = BigInt.asUintN(64, id.seq);
  for (let i = 7; i >= 0; i--) {
    target[offset + i] = Number(ms & 0xffn);
    ms >>= 8n;
    target[offset + 8 + i] = Number(seq & 0xffn);
    seq >>= 8n;
  }
}

function corrupt(cursor: RdbCursor, message: string): RdbError {
  return cursor.corrupt(message);
}

/** What validating one node found: its live entries (when collected) and its entry ID range. */
interface NodeSummary {
  entries: RdbStreamEntry[];
  live: number;
  /** IDs of the node's first and last entries, deleted or not. */
  first: StreamIdParts;
  last: StreamIdParts;
}

/**
 * Reads a stream value of `type` (one of the STREAM_LISTPACKS types). With
 * `keepNodes` the nodes come back as they are stored (`RdbStream.nodes`,
 * tombstones included, each validated as deeply as when decoded) and
 * `entries` stays empty.
 */
export function readStream(cursor: RdbCursor, type: number, keepNodes = false): RdbStream {
  const nodeCount = cursor.length();
  const nodes: { master: StreamIdParts; summary: NodeSummary; stored?: RdbStreamNode }[] = [];
  let sorted = true;
  for (let i = 0; i < nodeCount; i++) {
    const key = cursor.blob();
    if (key.length !== 16) {
      throw corrupt(cursor, "Stream node key entry is not the size of a stream ID");
    }
    const rawKey = String.fromCharCode(...key);
    const master = decodeStreamId(rawKey);
    const listpack = cursor.blob();
    const summary = readNode(cursor, listpack, master, !keepNodes);
    const previous = nodes[nodes.length - 1];
    if (previous !== undefined) {
      const order = compareStreamIdParts(previous.master, master);
      if (order === 0) throw corrupt(cursor, "Listpack re-added with existing key");
      if (order > 0) sorted = false;
    }
    nodes.push({
      master,
      summary,
      stored: keepNodes ? { key: rawKey, listpack: listpack.slice() } : undefined,
    });
  }
  if (!sorted) {
    // The radix tree orders nodes by key whatever the file order.
    nodes.sort((a, b) => compareStreamIdParts(a.master, b.master));
    for (let i = 1; i < nodes.length; i++) {
      if (compareStreamIdParts(nodes[i - 1]!.master, nodes[i]!.master) === 0) {
        throw corrupt(cursor, "Listpack re-added with existing key");
      }
    }
  }
  let liveCount = 0;
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    liveCount += node.summary.live;
    const previous = nodes[i - 1];
    if (
      previous !== undefined &&
      compareStreamIdParts(previous.summary.last, node.summary.first) >= 0
    ) {
      throw corrupt(cursor, "Stream entry IDs are not in ascending order");
    }
  }
  const entries: RdbStreamEntry[] = nodes.length === 1 ? nodes[0]!.summary.entries : [];
  if (nodes.length > 1) {
    for (const node of nodes) for (const entry of node.summary.entries) entries.push(entry);
  }

  const length = cursor.length();
  if (length !== liveCount) {
    throw corrupt(cursor, "Stream length inconsistent with its entries");
  }
  const lastId = { ms: cursor.lengthBig(), seq: cursor.lengthBig() };
  let firstId: StreamIdParts;
  let maxDeletedId: StreamIdParts;
  let entriesAdded: bigint;
  if (type === RDB_TYPE.STREAM_LISTPACKS) {
    maxDeletedId = { ms: 0n, seq: 0n };
    entriesAdded = BigInt(length);
    firstId = firstLiveId(cursor, nodes, keepNodes) ?? { ms: 0n, seq: 0n };
  } else {
    firstId = { ms: cursor.lengthBig(), seq: cursor.lengthBig() };
    maxDeletedId = { ms: cursor.lengthBig(), seq: cursor.lengthBig() };
    entriesAdded = cursor.lengthBig();
  }
  const last = nodes[nodes.length - 1];
  if (last !== undefined && compareStreamIdParts(last.summary.last, lastId) > 0) {
    throw corrupt(cursor, "Stream entry ID is greater than the stream's last ID");
  }

  const stream: RdbStream = { entries, lastId, entriesAdded, maxDeletedId, firstId, groups: [] };
  if (keepNodes) {
    stream.nodes = nodes.map((node) => node.stored!);
    stream.length = length;
  }
  const groupCount = cursor.length();
  const groupNames = new Set<string>();
  for (let i = 0; i < groupCount; i++) {
    stream.groups.push(readGroup(cursor, type, stream, groupNames));
  }
  return stream;
}

/** The ID of the first live entry, for RDB 9 streams, which did not store it. */
function firstLiveId(
  cursor: RdbCursor,
  nodes: readonly { summary: NodeSummary; stored?: RdbStreamNode; master: StreamIdParts }[],
  keepNodes: boolean,
): StreamIdParts | undefined {
  for (const node of nodes) {
    if (node.summary.live === 0) continue;
    if (!keepNodes) return node.summary.entries[0]!.id;
    return readNode(cursor, node.stored!.listpack, node.master, true).entries[0]!.id;
  }
  return undefined;
}

function readGroup(
  cursor: RdbCursor,
  type: number,
  stream: RdbStream,
  names: Set<string>,
): RdbStreamGroup {
  const name = cursor.string();
  const lastId = { ms: cursor.lengthBig(), seq: cursor.lengthBig() };
  const entriesRead = type === RDB_TYPE.STREAM_LISTPACKS
    ? estimateEntriesRead(stream, lastId)
    : BigInt.asIntN(64, cursor.lengthBig());
  if (names.has(name)) throw corrupt(cursor, `Duplicated consumer group name ${name}`);
  names.add(name);

  const pendingCount = cursor.length();
  const pendingByKey = new Map<string, RdbStreamPendingEntry>();
  const pending: RdbStreamPendingEntry[] = [];
  let pendingSorted = true;
  let previousKey = "";
  for (let i = 0; i < pendingCount; i++) {
    const key = cursor.rawString(16);
    const deliveryTime = cursor.millisecondTime();
    const deliveryCount = cursor.length();
    if (pendingByKey.has(key)) {
      throw corrupt(cursor, "Duplicated global PEL entry loading stream consumer group");
    }
    if (key < previousKey) pendingSorted = false;
    previousKey = key;
    const entry = { id: decodeStreamId(key), consumer: "", deliveryTime, deliveryCount };
    pendingByKey.set(key, entry);
    pending.push(entry);
  }
  if (!pendingSorted) pending.sort((a, b) => compareStreamIdParts(a.id, b.id));

  const consumerCount = cursor.length();
  const consumers: RdbStreamConsumer[] = [];
  const consumerNames = new Set<string>();
  const owned = new Set<string>();
  for (let i = 0; i < consumerCount; i++) {
    const consumerName = cursor.string();
    if (consumerNames.has(consumerName)) {
      throw corrupt(cursor, "Duplicate stream consumer detected.");
    }
    consumerNames.add(consumerName);
    const seenTime = cursor.millisecondTime();
    const consumer: RdbStreamConsumer = { name: consumerName, seenTime };
    if (type === RDB_TYPE.STREAM_LISTPACKS_3) consumer.activeTime = cursor.millisecondTime();
    const ownedCount = cursor.length();
    for (let j = 0; j < ownedCount; j++) {
      const key = cursor.rawString(16);
      const entry = pendingByKey.get(key);
      if (entry === undefined) {
        throw corrupt(cursor, "Consumer entry not found in group global PEL");
      }
      if (owned.has(key)) {
        throw corrupt(cursor, "Duplicated consumer PEL entry  loading a stream consumer group");
      }
      owned.add(key);
      entry.consumer = consumerName;
    }
    consumers.push(consumer);
  }
  if (owned.size !== pending.length) throw corrupt(cursor, "Stream CG PEL entry without consumer");
  return { name, lastId, entriesRead, pending, consumers };
}

/**
 * `streamEstimateDistanceFromFirstEverEntry` as Redis 7.0 applies it to
 * groups loaded from a pre-7.0 stream, which saved no entries-read.
 */
function estimateEntriesRead(stream: RdbStream, id: StreamIdParts): bigint {
  if (stream.entriesAdded === 0n) return 0n;
  const length = BigInt(stream.length ?? stream.entries.length);
  if (length === 0n && compareStreamIdParts(id, stream.lastId) < 1) return stream.entriesAdded;
  const toLast = compareStreamIdParts(id, stream.lastId);
  if (toLast === 0) return stream.entriesAdded;
  if (toLast > 0) return INVALID_ENTRIES_READ;
  const toFirst = compareStreamIdParts(id, stream.firstId);
  const noTombstones = (stream.maxDeletedId.ms === 0n && stream.maxDeletedId.seq === 0n) ||
    compareStreamIdParts(stream.maxDeletedId, stream.firstId) < 0;
  if (noTombstones) {
    if (toFirst < 0) return stream.entriesAdded - length;
    if (toFirst === 0) return stream.entriesAdded - length + 1n;
  }
  return INVALID_ENTRIES_READ;
}

/** The current listpack element as a non-negative count, or a corruption error. */
function count(cursor: RdbCursor, reader: ListpackReader): number {
  const value = reader.integerValue();
  if (typeof value !== "number" || value < 0) {
    throw corrupt(cursor, "Stream listpack integrity check failed.");
  }
  return value;
}

function integer(cursor: RdbCursor, reader: ListpackReader): number | bigint {
  const value = reader.integerValue();
  if (value === undefined) throw corrupt(cursor, "Stream listpack integrity check failed.");
  return value;
}

function step(cursor: RdbCursor, reader: ListpackReader): void {
  if (!reader.next()) throw corrupt(cursor, "Stream listpack integrity check failed.");
}

/** Validates one node; collects its live entries when `collect`. */
function readNode(
  cursor: RdbCursor,
  listpack: Uint8Array,
  master: StreamIdParts,
  collect: boolean,
): NodeSummary {
  const reader = new ListpackReader(listpack, "Stream listpack");
  if (!reader.next()) throw corrupt(cursor, "Empty listpack inside stream");
  const live = count(cursor, reader);
  step(cursor, reader);
  const deleted = count(cursor, reader);
  step(cursor, reader);
  const masterFieldCount = count(cursor, reader);
  const masterFields: string[] = [];
  for (let i = 0; i < masterFieldCount; i++) {
    step(cursor, reader);
    masterFields.push(reader.string());
  }
  step(cursor, reader);
  if (integer(cursor, reader) !== 0) {
    throw corrupt(cursor, "Stream listpack integrity check failed.");
  }

  const entries: RdbStreamEntry[] = [];
  let liveSeen = 0;
  let first: StreamIdParts | undefined;
  let previous: StreamIdParts | undefined;
  const total = live + deleted;
  for (let i = 0; i < total; i++) {
    step(cursor, reader);
    const flags = integer(cursor, reader);
    step(cursor, reader);
    const msDelta = integer(cursor, reader);
    step(cursor, reader);
    const seqDelta = integer(cursor, reader);
    const sameFields = (Number(flags) & FLAG_SAME_FIELDS) !== 0;
    const deletedEntry = (Number(flags) & FLAG_DELETED) !== 0;
    const keep = collect && !deletedEntry;
    let fieldCount = masterFieldCount;
    let extra = 3;
    const fields: string[] = [];
    if (sameFields) {
      for (let j = 0; j < fieldCount; j++) {
        step(cursor, reader);
        if (keep) fields.push(masterFields[j]!, reader.string());
      }
    } else {
      step(cursor, reader);
      fieldCount = count(cursor, reader);
      for (let j = 0; j < fieldCount; j++) {
        step(cursor, reader);
        const field = keep ? reader.string() : "";
        step(cursor, reader);
        if (keep) fields.push(field, reader.string());
      }
      extra += fieldCount + 1;
    }
    step(cursor, reader);
    if (integer(cursor, reader) !== fieldCount + extra) {
      throw corrupt(cursor, "Stream listpack integrity check failed.");
    }
    const id = {
      ms: (master.ms + BigInt(msDelta)) & UINT64_MASK,
      seq: (master.seq + BigInt(seqDelta)) & UINT64_MASK,
    };
    if (previous !== undefined && compareStreamIdParts(previous, id) >= 0) {
      throw corrupt(cursor, "Stream entry IDs are not in ascending order");
    }
    first ??= id;
    previous = id;
    if (deletedEntry) continue;
    liveSeen++;
    if (collect) entries.push({ id, fields });
  }
  if (reader.next()) throw corrupt(cursor, "Stream listpack integrity check failed.");
  if (liveSeen !== live) {
    throw corrupt(cursor, "Stream node live count inconsistent with its entries");
  }
  if (first === undefined || previous === undefined) {
    throw corrupt(cursor, "Empty listpack inside stream");
  }
  return { entries, live, first, last: previous };
}

/** Writes `stream` in the STREAM_LISTPACKS_2 layout Redis 7.0 saves. */
export function writeStream(
  output: RdbOutput,
  stream: RdbStream,
  limits: RdbEncodingLimits,
): void {
  if (stream.nodes !== undefined) {
    output.length(stream.nodes.length);
    for (const node of stream.nodes) {
      if (node.key.length !== 16) throw new RangeError("A stream node key is 16 bytes");
      output.string(node.key);
      output.bytesString(node.listpack);
    }
    output.length(stream.length ?? 0);
  } else {
    const nodes = buildNodes(stream.entries, limits);
    output.length(nodes.length);
    for (const node of nodes) {
      output.bytesString(node.key);
      output.bytesString(node.listpack);
    }
    output.length(stream.entries.length);
  }
  output.lengthBig(stream.lastId.ms);
  output.lengthBig(stream.lastId.seq);
  output.lengthBig(stream.firstId.ms);
  output.lengthBig(stream.firstId.seq);
  output.lengthBig(stream.maxDeletedId.ms);
  output.lengthBig(stream.maxDeletedId.seq);
  output.lengthBig(stream.entriesAdded);

  const groups = [...stream.groups].sort((a, b) => compareBinary(a.name, b.name));
  output.length(groups.length);
  const rawId = new Uint8Array(16);
  for (const group of groups) {
    output.string(group.name);
    output.lengthBig(group.lastId.ms);
    output.lengthBig(group.lastId.seq);
    output.lengthBig(group.entriesRead);
    const pending = [...group.pending].sort((a, b) => compareStreamIdParts(a.id, b.id));
    output.length(pending.length);
    const owned = new Map<string, StreamIdParts[]>();
    for (const consumer of group.consumers) owned.set(consumer.name, []);
    for (const entry of pending) {
      encodeStreamId(entry.id, rawId);
      output.raw(rawId);
      output.millisecondTime(entry.deliveryTime);
      output.length(entry.deliveryCount);
      const ids = owned.get(entry.consumer);
      if (ids === undefined) {
        throw new RangeError(
          `Pending entry of group ${group.name} belongs to unknown consumer ${entry.consumer}`,
        );
      }
      ids.push(entry.id);
    }
    const consumers = [...group.consumers].sort((a, b) => compareBinary(a.name, b.name));
    output.length(consumers.length);
    for (const consumer of consumers) {
      output.string(consumer.name);
      output.millisecondTime(consumer.seenTime);
      const ids = owned.get(consumer.name)!;
      output.length(ids.length);
      for (const id of ids) {
        encodeStreamId(id, rawId);
        output.raw(rawId);
      }
    }
  }
}

function compareBinary(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface StreamNode {
  key: Uint8Array;
  listpack: Uint8Array;
}

/** Lays entries out in nodes as `streamAppendItem` does. */
function buildNodes(entries: readonly RdbStreamEntry[], limits: RdbEncodingLimits): StreamNode[] {
  const nodes: StreamNode[] = [];
  let maxBytes = limits.streamNodeMaxBytes;
  if (maxBytes === 0 || maxBytes > LISTPACK_MAX_SIZE) maxBytes = LISTPACK_MAX_SIZE;
  const maxEntries = limits.streamNodeMaxEntries;
  const builder = new ListpackBuilder();
  let open = false;
  let master: StreamIdParts = { ms: 0n, seq: 0n };
  let masterFields: string[] = [];
  let nodeEntries: RdbStreamEntry[] = [];
  let previous: StreamIdParts | undefined;

  const close = (): void => {
    nodes.push({
      key: nodeKey(master),
      listpack: finishNode(builder, nodeEntries, masterFields, master),
    });
    open = false;
  };

  for (const entry of entries) {
    if (entry.fields.length % 2 !== 0) {
      throw new RangeError("A stream entry's fields and values must come in pairs");
    }
    if (previous !== undefined && compareStreamIdParts(previous, entry.id) >= 0) {
      throw new RangeError("Stream entries must be in ascending ID order");
    }
    previous = entry.id;
    let totalLength = 0;
    for (const part of entry.fields) totalLength += part.length;
    if (open) {
      if (builder.byteLength + totalLength >= maxBytes) close();
      else if (maxEntries !== 0 && nodeEntries.length >= maxEntries) close();
    }
    if (!open) {
      open = true;
      master = entry.id;
      masterFields = [];
      for (let i = 0; i < entry.fields.length; i += 2) masterFields.push(entry.fields[i]!);
      nodeEntries = [];
      builder.reset();
      appendMaster(builder, 1, masterFields);
    }
    nodeEntries.push(entry);
    appendEntry(builder, entry, master, masterFields);
  }
  if (open) close();
  return nodes;
}

function nodeKey(master: StreamIdParts): Uint8Array {
  const key = new Uint8Array(16);
  encodeStreamId(master, key);
  return key;
}

function appendMaster(builder: ListpackBuilder, live: number, fields: readonly string[]): void {
  builder.appendInteger(live);
  builder.appendInteger(0);
  builder.appendInteger(fields.length);
  for (const field of fields) builder.append(field);
  builder.appendInteger(0);
}

function appendEntry(
  builder: ListpackBuilder,
  entry: RdbStreamEntry,
  master: StreamIdParts,
  masterFields: readonly string[],
): void {
  const fieldCount = entry.fields.length / 2;
  let sameFields = fieldCount === masterFields.length;
  for (let i = 0; sameFields && i < fieldCount; i++) {
    if (entry.fields[i * 2] !== masterFields[i]) sameFields = false;
  }
  builder.appendInteger(sameFields ? FLAG_SAME_FIELDS : 0);
  builder.appendInteger(BigInt.asIntN(64, entry.id.ms - master.ms));
  builder.appendInteger(BigInt.asIntN(64, entry.id.seq - master.seq));
  if (!sameFields) builder.appendInteger(fieldCount);
  for (let i = 0; i < fieldCount; i++) {
    if (!sameFields) builder.append(entry.fields[i * 2]!);
    builder.append(entry.fields[i * 2 + 1]!);
  }
  builder.appendInteger(sameFields ? fieldCount + 3 : fieldCount * 2 + 4);
}

/** Finishes a node: its listpack with the right live count, copied out of the builder. */
function finishNode(
  builder: ListpackBuilder,
  entries: readonly RdbStreamEntry[],
  masterFields: readonly string[],
  master: StreamIdParts,
): Uint8Array {
  if (entries.length > 127) {
    // The count no longer fits the 1-byte form written while the node grew: rebuild.
    builder.reset();
    appendMaster(builder, entries.length, masterFields);
    for (const entry of entries) appendEntry(builder, entry, master, masterFields);
    return builder.finish().slice();
  }
  const listpack = builder.finish().slice();
  listpack[6] = entries.length; // the live count, a 7-bit integer right after the header
  return listpack;
}
