/**
 * The logical value model of the RDB codec, and its error type.
 *
 * The codec never sees the keyspace's in-memory structures: the reader
 * produces, and the writer consumes, these plain values. In-memory
 * encodings can change (compact forms for small collections, a new stream
 * store) without touching the file format code; the adapters between the
 * store and this model are a few lines each. The model says what a value
 * *is* (a list of items, a hash of field-value pairs), never how Redis
 * encoded it on disk: a hash read from a zipmap, a ziplist, a listpack or a
 * hash table looks the same, and the writer picks the encoding Redis 7.0
 * would use for it.
 *
 * Strings are binary strings (one byte per UTF-16 code unit, see
 * protocol/binary.ts), the server's value representation. Stream IDs are
 * unsigned 64-bit pairs, so they are `bigint`s.
 *
 * @module
 */

/** A stream ID: milliseconds and sequence, both unsigned 64-bit. */
export interface StreamIdParts {
  ms: bigint;
  seq: bigint;
}

/** One stream entry: its ID and its fields and values, interleaved (f1, v1, f2, v2 ...). */
export interface RdbStreamEntry {
  id: StreamIdParts;
  fields: string[];
}

/** A pending (delivered, not acknowledged) entry of a consumer group. */
export interface RdbStreamPendingEntry {
  id: StreamIdParts;
  /** The consumer that owns it. */
  consumer: string;
  /** Unix time in ms of the last delivery. */
  deliveryTime: number;
  deliveryCount: number;
}

/** A consumer of a consumer group. */
export interface RdbStreamConsumer {
  name: string;
  /** Unix time in ms of the consumer's last interaction. */
  seenTime: number;
  /** Redis 7.2 only (STREAM_LISTPACKS_3): last successful interaction; undefined otherwise. */
  activeTime?: number;
}

/** A consumer group. */
export interface RdbStreamGroup {
  name: string;
  /** The last delivered ID. */
  lastId: StreamIdParts;
  /** The logical read counter; -1n when it is not known (SCG_INVALID_ENTRIES_READ). */
  entriesRead: bigint;
  /** Pending entries, in ID order. */
  pending: RdbStreamPendingEntry[];
  /** Consumers, in name order. */
  consumers: RdbStreamConsumer[];
}

/**
 * One node of a stream as Redis stores it: the radix tree key and the
 * listpack, deleted entries (tombstones) included. A store that keeps
 * Redis's node layout (so that `XTRIM ~` trims what Redis trims after a
 * reload) reads and writes these instead of entries.
 */
export interface RdbStreamNode {
  /** The node's master ID, 16 big-endian bytes as a binary string. */
  key: string;
  /** The node's listpack, byte for byte. */
  listpack: Uint8Array;
}

/** A stream with its Redis 7.0 metadata. */
export interface RdbStream {
  /**
   * The live entries, in ID order (deleted entries are not part of the
   * model). Empty when the stream comes as `nodes`.
   */
  entries: RdbStreamEntry[];
  /**
   * The nodes as stored, tombstones included: what the reader hands over
   * when its builder asks for them (`RdbValueBuilder.streamNodes`), and what
   * the writer saves as is, in place of `entries`, when given.
   */
  nodes?: RdbStreamNode[];
  /** The number of live entries; needed with `nodes` (else `entries.length`). */
  length?: number;
  /** The last ID ever generated (last-generated-id). */
  lastId: StreamIdParts;
  /** How many entries were ever added (entries-added). */
  entriesAdded: bigint;
  /** The greatest ID ever deleted (max-deleted-entry-id). */
  maxDeletedId: StreamIdParts;
  /** The first live entry's ID as Redis recorded it (recorded-first-entry-id). */
  firstId: StreamIdParts;
  groups: RdbStreamGroup[];
}

/**
 * A value, whatever its on-disk encoding. Collections are never empty
 * (Redis has no empty keys) except streams, which can be.
 */
export type RdbValue =
  | { type: "string"; value: string }
  | { type: "list"; items: string[] }
  | { type: "set"; members: string[] }
  /** Entries come in ascending (score, member) order when the file came from Redis. */
  | { type: "zset"; entries: [member: string, score: number][] }
  /** Entries in the file's order (insertion order for small hashes). */
  | { type: "hash"; entries: [field: string, value: string][] }
  | { type: "stream"; stream: RdbStream };

/**
 * What the writer takes besides `RdbValue`: collections as any iterable
 * with their size, so a store can hand its own structures over without
 * copying them into arrays first. Sorted set entries must come in
 * ascending (score, member) order. `compact` says whether the value is in
 * its compact (listpack) encoding in memory: Redis saves a value in the
 * encoding it holds it in, so a hash that outgrew its listpack and shrank
 * is saved as a hash table; without `compact` the writer picks by size.
 */
export type RdbValueSource =
  | { type: "string"; value: string }
  | { type: "list"; items: Iterable<string>; length: number }
  | { type: "set"; members: Iterable<string>; size: number }
  | {
    type: "zset";
    entries: Iterable<readonly [string, number]>;
    size: number;
    compact?: boolean;
  }
  | {
    type: "hash";
    entries: Iterable<readonly [string, string]>;
    size: number;
    compact?: boolean;
  }
  | { type: "stream"; stream: RdbStream };

/**
 * Builds values as the reader decodes them, so a store can make its own
 * structures directly from the bytes instead of from the model's arrays
 * (`defaultValueBuilder` makes `RdbValue`s). The reader decodes one value
 * at a time: a collection is a `begin...` call, its elements, and the
 * `end...` call that returns the value. The `add...` methods return false
 * for a member or field already there, which the reader reports as the
 * corruption it is; empty collections are never ended (they are skipped).
 */
export interface RdbValueBuilder<V> {
  /** Whether streams are wanted as `nodes` rather than `entries` (see RdbStream). */
  readonly streamNodes: boolean;
  string(value: string): V;
  beginList(): void;
  pushItem(item: string): void;
  endList(): V;
  /** A set of (about) `size` members. */
  beginSet(size: number): void;
  addMember(member: string): boolean;
  endSet(): V;
  /** A sorted set of `size` entries, coming in descending order when `descending`. */
  beginZset(size: number, descending: boolean): void;
  addEntry(member: string, score: number): boolean;
  endZset(): V;
  /** A hash of `size` fields. */
  beginHash(size: number): void;
  addField(field: string, value: string): boolean;
  endHash(): V;
  stream(stream: RdbStream): V;
}

/** An aux field (`redis-ver`, `ctime`, ...): name and value as binary strings. */
export interface RdbAuxField {
  name: string;
  value: string;
}

/** A key with its value and the attributes the opcodes before it set. */
export interface RdbKeyRecord<V = RdbValue> {
  kind: "key";
  database: number;
  key: string;
  value: V;
  /** Absolute Unix time in ms, or undefined for a key without a TTL. */
  expireAt: number | undefined;
  /** LRU idle time in seconds (RDB_OPCODE_IDLE), if saved. */
  lruIdle: number | undefined;
  /** LFU logarithmic counter 0-255 (RDB_OPCODE_FREQ), if saved. */
  lfuFrequency: number | undefined;
}

/** What an RDB file says, in file order, one record at a time. */
export type RdbRecord<V = RdbValue> =
  | { kind: "aux"; name: string; value: string }
  /** A function library (FUNCTION2, or the 7.0-rc FUNCTION opcode translated), as its source. */
  | { kind: "function"; code: string }
  | { kind: "select"; database: number }
  /** RESIZEDB: sizes hinted for the current database. */
  | { kind: "resize"; database: number; keys: number; expires: number }
  | RdbKeyRecord<V>;

/** How the checksum at the end of a file came out. */
export type RdbChecksumStatus =
  /** The file's CRC64 matched. */
  | "verified"
  /** The file was saved with `rdbchecksum no` (a stored checksum of 0): nothing to check. */
  | "disabled"
  /** RDB versions before 5 have no checksum. */
  | "absent";

/** Why reading failed. */
export type RdbErrorReason =
  /** The input ended in the middle of something. */
  | "truncated"
  /** The bytes are not valid RDB (bad encoding, failed integrity check, duplicates). */
  | "corrupt"
  /** The CRC64 at the end of a file does not match its contents. */
  | "checksum"
  /** Not an RDB file, or an RDB version this reader refuses. */
  | "version"
  /** Valid RDB that this server cannot load (module data, a value too large for a JS string). */
  | "unsupported";

/**
 * A failure to read (or, for `unsupported`, to represent) RDB data. Every
 * problem with the input surfaces as this error, never as another
 * exception, a hang or a silently wrong value.
 */
export class RdbError extends Error {
  /** What kind of problem it is. */
  readonly reason: RdbErrorReason;
  /** Byte offset in the input where the failing item starts, when known. */
  readonly offset: number | undefined;

  constructor(reason: RdbErrorReason, message: string, offset?: number) {
    super(offset === undefined ? message : `${message} (at offset ${offset})`);
    this.name = "RdbError";
    this.reason = reason;
    this.offset = offset;
  }
}
