/**
 * The numbers of Redis's RDB format: opcodes, value types, string and length
 * encodings, and the encoding thresholds Redis 7.0 saves with by default.
 *
 * They mirror `rdb.h` (RDB_OPCODE_*, RDB_TYPE_*, RDB_ENC_*) and the
 * `*-max-listpack-*` defaults of `config.c`, so the reader and writer can
 * be checked against Redis's sources name by name.
 *
 * @module
 */

/** The RDB version Redis 7.0 writes, and the newest it loads. */
export const RDB_VERSION = 10;

/** The newest version this reader understands at all (Redis 7.2 writes 11). */
export const RDB_NEWEST_READABLE_VERSION = 11;

/** Opcodes: the byte before a key's type, or instead of one. */
export const RDB_OPCODE = {
  /** Redis 7.0: a function library, as its source code. */
  FUNCTION2: 245,
  /** Redis 7.0 release candidates: a library as name, engine, description, code. */
  FUNCTION: 246,
  MODULE_AUX: 247,
  IDLE: 248,
  FREQ: 249,
  AUX: 250,
  RESIZEDB: 251,
  EXPIRETIME_MS: 252,
  EXPIRETIME: 253,
  SELECTDB: 254,
  EOF: 255,
} as const;

/** Value types: the byte that starts a key-value pair and says how the value is encoded. */
export const RDB_TYPE = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  MODULE: 6,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
  /** Redis 7.2 (RDB 11). */
  SET_LISTPACK: 20,
  /** Redis 7.2 (RDB 11): consumers also carry an active time. */
  STREAM_LISTPACKS_3: 21,
} as const;

/** Special string encodings, in the low 6 bits of an RDB_ENCVAL length byte. */
export const RDB_STRING_ENCODING = {
  INT8: 0,
  INT16: 1,
  INT32: 2,
  LZF: 3,
} as const;

/** Quicklist 2 node containers. */
export const QUICKLIST_NODE = { PLAIN: 1, PACKED: 2 } as const;

/**
 * How Redis 7.0 chooses compact encodings: its default `*-max-*` settings.
 * The writer saves small values the way a Redis with these settings holds
 * them, so a file from us looks like a file from Redis.
 */
export interface RdbEncodingLimits {
  /** hash-max-listpack-entries */
  hashMaxListpackEntries: number;
  /** hash-max-listpack-value */
  hashMaxListpackValue: number;
  /** zset-max-listpack-entries */
  zsetMaxListpackEntries: number;
  /** zset-max-listpack-value */
  zsetMaxListpackValue: number;
  /** set-max-intset-entries */
  setMaxIntsetEntries: number;
  /** list-max-listpack-size: negative is a byte limit (-1 = 4 KB ... -5 = 64 KB), positive a count. */
  listMaxListpackSize: number;
  /** stream-node-max-bytes */
  streamNodeMaxBytes: number;
  /** stream-node-max-entries */
  streamNodeMaxEntries: number;
}

/** Redis 7.0's defaults. */
export const DEFAULT_ENCODING_LIMITS: Readonly<RdbEncodingLimits> = Object.freeze({
  hashMaxListpackEntries: 512,
  hashMaxListpackValue: 64,
  zsetMaxListpackEntries: 128,
  zsetMaxListpackValue: 64,
  setMaxIntsetEntries: 512,
  listMaxListpackSize: -2,
  streamNodeMaxBytes: 4096,
  streamNodeMaxEntries: 100,
});

/** The `redis-ver` aux field we write: the Redis whose format we produce. */
export const REDIS_VERSION = "7.0.15";
