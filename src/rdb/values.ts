/**
 * The adapters between the keyspace's values and the RDB codec: what DUMP,
 * SAVE, BGSAVE and the AOF preamble hand the writer, and what the reader
 * builds when RESTORE or a load decodes a value.
 *
 * Writing hands the store's own structures over as `RdbValueSource`s (a
 * Hash is an iterable of pairs, a MemberSet of members), so saving copies
 * nothing into arrays first. Hashes and sorted sets say which encoding they
 * have, and the writer keeps it, as Redis keeps a hash that outgrew its
 * listpack in a hash table after it shrinks: a DUMP here is byte for byte
 * what Redis dumps for the same history.
 *
 * Reading goes the other way through `StoreValueBuilder`, which the reader
 * calls element by element: a hash is built straight into a Hash, a set
 * into a MemberSet, with no model arrays in between (see object_reader.ts
 * on why that matters for a big load), and the structures' own lookups
 * catch duplicates.
 *
 * Streams travel as Redis's listpack nodes, tombstones included, in both
 * directions (`Stream.listpacks` / `Stream.loadListpack`), so a stream's
 * node layout — and with it what `XTRIM ~` removes, and what XINFO says of
 * the radix tree — is Redis's after a reload or a RESTORE.
 *
 * @module
 */

import type { Config } from "../config.ts";
import { Deque } from "../store/deque.ts";
import type { EncodingLimits } from "../store/encoding_limits.ts";
import { Hash } from "../store/hash.ts";
import { MemberSet } from "../store/set.ts";
import { SortedSet } from "../store/sorted_set.ts";
import { Stream, type StreamNodeLimits } from "../store/stream.ts";
import { ListpackFormatError } from "../store/stream_listpack.ts";
import { type StreamId, streamId } from "../store/stream_id.ts";
import { isStringValue, type RedisValue, stringContent } from "../store/values.ts";
import {
  decodeStreamId,
  type RdbEncodingLimits,
  RdbError,
  type RdbStream,
  type RdbStreamGroup,
  type RdbValueBuilder,
  type RdbValueSource,
  type StreamIdParts,
} from "./mod.ts";

/** The encoding thresholds the writer uses, read from the live configuration. */
export function encodingLimitsOf(config: Config): RdbEncodingLimits {
  return {
    hashMaxListpackEntries: config.hashMaxListpackEntries,
    hashMaxListpackValue: config.hashMaxListpackValue,
    zsetMaxListpackEntries: config.zsetMaxListpackEntries,
    zsetMaxListpackValue: config.zsetMaxListpackValue,
    setMaxIntsetEntries: config.setMaxIntsetEntries,
    listMaxListpackSize: config.listMaxListpackSize,
    streamNodeMaxBytes: config.streamNodeMaxBytes,
    streamNodeMaxEntries: config.streamNodeMaxEntries,
  };
}

/**
 * A stream's node limits as a live view of the configuration, so a stream
 * restored or loaded here follows later CONFIG SETs like one made by XADD.
 */
export function streamLimitsOf(config: Config): StreamNodeLimits {
  return {
    get nodeMaxBytes() {
      return config.streamNodeMaxBytes;
    },
    get nodeMaxEntries() {
      return config.streamNodeMaxEntries;
    },
  };
}

/**
 * What the RDB writer is given for `value`: the store's structure itself,
 * behind the iterable the writer walks.
 */
export function rdbSourceOf(value: RedisValue): RdbValueSource {
  if (isStringValue(value)) return { type: "string", value: stringContent(value) };
  if (value instanceof Hash) {
    return {
      type: "hash",
      entries: value,
      size: value.size,
      compact: value.encoding === "listpack",
    };
  }
  if (value instanceof MemberSet) return { type: "set", members: value, size: value.size };
  if (value instanceof Deque) return { type: "list", items: value, length: value.length };
  if (value instanceof Stream) return { type: "stream", stream: rdbStreamOf(value) };
  return {
    type: "zset",
    entries: value,
    size: value.size,
    compact: value.encoding === "listpack",
  };
}

/** A stream ID as the codec's pair of 64-bit integers. */
function idParts(id: StreamId): StreamIdParts {
  return decodeStreamId(id);
}

/** A stream as the codec sees it: its nodes as stored, its metadata, its groups. */
export function rdbStreamOf(stream: Stream): RdbStream {
  const nodes = [];
  for (const [key, listpack] of stream.listpacks()) nodes.push({ key, listpack });
  const groups: RdbStreamGroup[] = [];
  for (const group of stream.groups()) {
    const pending = [];
    for (const entry of group.pending.values()) {
      pending.push({
        id: idParts(entry.id),
        consumer: entry.consumer.name,
        deliveryTime: entry.deliveryTime,
        deliveryCount: entry.deliveryCount,
      });
    }
    groups.push({
      name: group.name,
      lastId: idParts(group.lastId),
      entriesRead: BigInt(group.entriesRead),
      pending,
      consumers: group.consumers().map((consumer) => ({
        name: consumer.name,
        seenTime: consumer.seenTime,
      })),
    });
  }
  return {
    entries: [],
    nodes,
    length: stream.length,
    lastId: idParts(stream.lastId),
    firstId: idParts(stream.firstId),
    maxDeletedId: idParts(stream.maxDeletedEntryId),
    entriesAdded: BigInt(stream.entriesAdded),
    groups,
  };
}

/** Builds a Stream from what the reader decoded. Throws RdbError when it cannot hold it. */
export function streamFromRdb(rdb: RdbStream, limits: StreamNodeLimits): Stream {
  const stream = new Stream(limits);
  try {
    if (rdb.nodes !== undefined) {
      for (const node of rdb.nodes) stream.loadListpack(node.key, node.listpack);
    } else {
      for (const entry of rdb.entries) {
        stream.append(streamId(entry.id.ms, entry.id.seq), entry.fields);
      }
    }
  } catch (error) {
    if (error instanceof ListpackFormatError || error instanceof RangeError) {
      throw new RdbError("corrupt", `Stream listpack integrity check failed: ${error.message}`);
    }
    throw error;
  }
  if (rdb.entriesAdded > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RdbError("unsupported", `Stream entries-added ${rdb.entriesAdded} is too large`);
  }
  stream.lastId = streamId(rdb.lastId.ms, rdb.lastId.seq);
  stream.firstId = streamId(rdb.firstId.ms, rdb.firstId.seq);
  stream.maxDeletedEntryId = streamId(rdb.maxDeletedId.ms, rdb.maxDeletedId.seq);
  stream.entriesAdded = Number(rdb.entriesAdded);
  for (const source of rdb.groups) {
    const entriesRead = source.entriesRead < 0n ? -1 : Number(source.entriesRead);
    const group = stream.createGroup(
      source.name,
      streamId(source.lastId.ms, source.lastId.seq),
      entriesRead,
    )!;
    for (const consumer of source.consumers) group.createConsumer(consumer.name, consumer.seenTime);
    for (const entry of source.pending) {
      group.ensurePending(
        streamId(entry.id.ms, entry.id.seq),
        group.consumer(entry.consumer)!,
        entry.deliveryTime,
        entry.deliveryCount,
      );
    }
  }
  return stream;
}

/**
 * Makes keyspace values as the reader decodes them (see the module doc).
 * One builder serves any number of values, one at a time.
 */
export class StoreValueBuilder implements RdbValueBuilder<RedisValue> {
  readonly streamNodes = true;
  readonly #streams: StreamNodeLimits;
  /** The live thresholds: a loaded value gets the encoding Redis's loader gives it. */
  readonly #encodings: EncodingLimits;
  #list = new Deque<string>();
  #set = new MemberSet();
  #zset = new SortedSet();
  #hash = new Hash();

  constructor(config: Config) {
    this.#streams = streamLimitsOf(config);
    this.#encodings = config;
  }

  string(value: string): RedisValue {
    return value;
  }

  beginList(): void {
    this.#list = new Deque();
  }

  pushItem(item: string): void {
    this.#list.pushBack(item, this.#encodings);
  }

  endList(): RedisValue {
    return this.#list;
  }

  beginSet(size: number): void {
    this.#set = MemberSet.expecting(size, this.#encodings);
  }

  addMember(member: string): boolean {
    return this.#set.addMember(member, this.#encodings);
  }

  endSet(): RedisValue {
    return this.#set;
  }

  beginZset(): void {
    this.#zset = new SortedSet();
  }

  addEntry(member: string, score: number): boolean {
    return this.#zset.add(member, score, this.#encodings);
  }

  endZset(): RedisValue {
    return this.#zset;
  }

  beginHash(): void {
    this.#hash = new Hash();
  }

  addField(field: string, value: string): boolean {
    return this.#hash.store(field, value, this.#encodings);
  }

  endHash(): RedisValue {
    return this.#hash;
  }

  stream(stream: RdbStream): RedisValue {
    return streamFromRdb(stream, this.#streams);
  }
}
