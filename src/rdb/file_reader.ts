/**
 * Reads RDB files (`rdbLoadRio`) incrementally: push chunks in as they are
 * read from disk or a socket, and each record (aux field, function, key)
 * comes out as soon as it is complete.
 *
 * Input is chunked, not a whole-file buffer: the reader keeps only the
 * bytes of the item (aux field, function, key) it is in the middle of, so a
 * file far larger than memory streams through — memory holds the decoded
 * data and, at most, one encoded key. An item is parsed from its first
 * byte each time; when its bytes run out the reader waits until at least
 * twice as many bytes are buffered before trying again, so a key spanning
 * many chunks is re-parsed only a logarithmic number of times.
 *
 * The CRC64 is computed over the bytes as they are consumed and checked
 * against the footer (a stored 0 means "saved with rdbchecksum no"). Bytes
 * after the footer are kept as the `remainder` (an AOF with an RDB preamble
 * continues there). Every problem with the input is an `RdbError` with the
 * input offset of the item it was found in.
 *
 * Records are best taken one at a time (`push(chunk, visit)`): a caller
 * that turns each into a keyspace value at once leaves only short-lived
 * garbage, which V8 collects almost for free, where collecting a whole
 * chunk's records first makes every one of them survive a collection.
 *
 * @module
 */

import { RDB_NEWEST_READABLE_VERSION, RDB_OPCODE, RDB_VERSION } from "./constants.ts";
import { Crc64 } from "./crc64.ts";
import { NEED_MORE, RdbCursor } from "./cursor.ts";
import {
  type RdbChecksumStatus,
  RdbError,
  type RdbKeyRecord,
  type RdbRecord,
  type RdbValue,
  type RdbValueBuilder,
} from "./model.ts";
import {
  defaultValueBuilder,
  EMPTY_KEY,
  isObjectType,
  moduleTypeName,
  readObject,
} from "./object_reader.ts";

/** Options of `RdbFileReader`. */
export interface RdbReaderOptions<V = RdbValue> {
  /**
   * Newest RDB version accepted. 10 (the default) is Redis 7.0's rule; 11
   * also reads Redis 7.2 files (set listpacks, STREAM_LISTPACKS_3).
   */
  maxVersion?: number;
  /** How many databases the server has: a SELECTDB beyond them fails, as in Redis. Default 16. */
  databases?: number;
  /** Makes the values (default: the logical model, `RdbValue`). */
  builder?: RdbValueBuilder<V>;
  /**
   * Receives each key in place of a key record (other records still go to
   * `visit`): a big load then allocates no record object per key.
   */
  onKey?: RdbKeyVisitor<V>;
}

/** Takes one key of a file: its database, name, value and the attributes set before it. */
export type RdbKeyVisitor<V> = (
  database: number,
  key: string,
  value: V,
  expireAt: number | undefined,
  lruIdle: number | undefined,
  lfuFrequency: number | undefined,
) => void;

/** Returned by a parse step that completed a key for `onKey`. */
const KEY_READY = { kind: "key-ready" } as const;

/** What is known about a file once it has been read to the end. */
export interface RdbReadSummary {
  version: number;
  checksum: RdbChecksumStatus;
  /** Empty collections found and skipped, as Redis skips them. */
  emptyKeysSkipped: number;
  /** Bytes the RDB data took, footer included. */
  size: number;
}

const EMPTY = new Uint8Array(0);
const MAGIC = [82, 69, 68, 73, 83]; // "REDIS"

type State = "header" | "body" | "checksum" | "done";

/**
 * An incremental RDB file parser.
 *
 * @example
 * ```ts
 * const reader = new RdbFileReader();
 * for await (const chunk of file.readable) reader.push(chunk, (record) => load(record));
 * reader.end((record) => load(record));
 * ```
 */
export class RdbFileReader<V = RdbValue> {
  readonly #maxVersion: number;
  readonly #databases: number;
  readonly #builder: RdbValueBuilder<V>;
  readonly #onKey: RdbKeyVisitor<V> | undefined;
  /** The key a step completed for `#onKey`, and its value and attributes. */
  #readyKey = "";
  #readyValue: V | undefined;
  #readyExpireAt: number | undefined;
  #readyLruIdle: number | undefined;
  #readyLfuFrequency: number | undefined;
  readonly #cursor = new RdbCursor();
  readonly #crc = new Crc64();
  #buffer: Uint8Array = EMPTY;
  /** Whether `#buffer` is the caller's chunk (to be copied before `push` returns). */
  #borrowed = false;
  #start = 0;
  /** Where in `#buffer` the bytes not yet folded into the checksum start (they end at `#start`). */
  #crcFrom = 0;
  #end = 0;
  /** Input offset of `#buffer[0]`. */
  #base = 0;
  /** Input offset the buffered data must reach before parsing is retried. */
  #retryAt = 0;
  #state: State = "header";
  #version = 0;
  #database = 0;
  #expireAt: number | undefined;
  #lruIdle: number | undefined;
  #lfuFrequency: number | undefined;
  #checksum: RdbChecksumStatus = "absent";
  #emptyKeys = 0;
  #size = 0;
  #remainder: Uint8Array[] = [];

  constructor(options: RdbReaderOptions<V> = {}) {
    this.#maxVersion = options.maxVersion ?? RDB_VERSION;
    this.#databases = options.databases ?? 16;
    this.#builder = options.builder ??
      (defaultValueBuilder() as unknown as RdbValueBuilder<V>);
    this.#onKey = options.onKey;
  }

  /** Whether the footer has been read: the RDB data is complete. */
  get done(): boolean {
    return this.#state === "done";
  }

  /** The file's RDB version, once the header has been read (else 0). */
  get version(): number {
    return this.#version;
  }

  /**
   * Feeds the next chunk of input and returns the records it completed.
   * With `visit`, the records are handed to it one by one as they are
   * parsed instead, and the array returned is empty: nothing accumulates,
   * which keeps garbage collection cheap when loading big files. The chunk
   * is not retained after the call returns, so the caller may reuse its
   * memory.
   */
  push(chunk: Uint8Array, visit?: (record: RdbRecord<V>) => void): RdbRecord<V>[] {
    const records: RdbRecord<V>[] = [];
    if (chunk.length === 0) return records;
    if (this.#state === "done") {
      this.#remainder.push(chunk.slice());
      return records;
    }
    this.#append(chunk);
    if (this.#base + this.#end >= this.#retryAt) {
      this.#parse(visit ?? records.push.bind(records), false);
    }
    if (this.#borrowed) {
      // Keep only the unparsed tail, in memory of our own.
      this.#foldChecksum();
      this.#crcFrom = 0;
      this.#base += this.#start;
      this.#buffer = this.#buffer.slice(this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
      this.#borrowed = false;
    }
    return records;
  }

  /**
   * Signals the end of the input: returns (or, with `visit`, hands over)
   * the last records, and throws `RdbError` ("truncated") if the file ended
   * before its footer.
   */
  end(visit?: (record: RdbRecord<V>) => void): RdbRecord<V>[] {
    const records: RdbRecord<V>[] = [];
    if (this.#state !== "done") this.#parse(visit ?? records.push.bind(records), true);
    return records;
  }

  /** How the file went: available once `done`. */
  summary(): RdbReadSummary {
    return {
      version: this.#version,
      checksum: this.#checksum,
      emptyKeysSkipped: this.#emptyKeys,
      size: this.#size,
    };
  }

  /** Input that came after the RDB footer (an AOF tail, for a preamble file). */
  remainder(): Uint8Array {
    const parts = this.#remainder;
    if (parts.length === 1) return parts[0]!;
    let length = 0;
    for (const part of parts) length += part.length;
    const joined = new Uint8Array(length);
    let offset = 0;
    for (const part of parts) {
      joined.set(part, offset);
      offset += part.length;
    }
    return joined;
  }

  #append(chunk: Uint8Array): void {
    this.#foldChecksum();
    if (this.#start === this.#end) {
      this.#base += this.#end;
      this.#buffer = chunk;
      this.#start = this.#crcFrom = 0;
      this.#end = chunk.length;
      this.#borrowed = true;
      return;
    }
    const pending = this.#end - this.#start;
    if (!this.#borrowed && this.#end + chunk.length <= this.#buffer.length) {
      this.#buffer.set(chunk, this.#end);
      this.#end += chunk.length;
      return;
    }
    const capacity = Math.max(pending + chunk.length, pending * 2, 64 * 1024);
    const grown = new Uint8Array(capacity);
    grown.set(this.#buffer.subarray(this.#start, this.#end));
    grown.set(chunk, pending);
    this.#base += this.#start;
    this.#buffer = grown;
    this.#start = this.#crcFrom = 0;
    this.#end = pending + chunk.length;
    this.#borrowed = false;
  }

  #parse(emit: (record: RdbRecord<V>) => void, final: boolean): void {
    const cursor = this.#cursor;
    while (this.#state !== "done") {
      cursor.reset(this.#buffer, this.#start, this.#end, this.#base);
      let record: RdbRecord<V> | typeof KEY_READY | undefined;
      try {
        record = this.#step(cursor);
      } catch (error) {
        const offset = this.#base + this.#start;
        if (error === NEED_MORE) {
          if (final) {
            throw new RdbError("truncated", "Unexpected EOF reading RDB file", offset);
          }
          const buffered = this.#end - this.#start;
          this.#retryAt = offset + Math.max(buffered * 2, buffered + 1);
          return;
        }
        if (error instanceof RdbError) {
          throw error.offset === undefined
            ? new RdbError(error.reason, error.message, offset)
            : error;
        }
        if (error instanceof RangeError) {
          throw new RdbError("unsupported", `Value too large: ${error.message}`, offset);
        }
        throw error;
      }
      // Outside the try: whatever the visitor throws is its own error, and
      // the record's bytes are already consumed.
      if (record === KEY_READY) {
        const value = this.#readyValue!;
        this.#readyValue = undefined;
        this.#onKey!(
          this.#database,
          this.#readyKey,
          value,
          this.#readyExpireAt,
          this.#readyLruIdle,
          this.#readyLfuFrequency,
        );
      } else if (record !== undefined) emit(record as RdbRecord<V>);
    }
    if (this.#start < this.#end) {
      this.#remainder.push(this.#buffer.slice(this.#start, this.#end));
    }
    this.#crcFrom = 0;
    this.#buffer = EMPTY;
    this.#base += this.#end;
    this.#start = this.#end = 0;
    this.#borrowed = false;
    cursor.reset(EMPTY, 0, 0);
  }

  /**
   * Consumes the bytes the cursor has read: they count towards the
   * checksum, which folds them in later in one long run (see
   * `#foldChecksum`), not one small update per key.
   */
  #commit(cursor: RdbCursor): void {
    this.#start = cursor.position;
  }

  /** Folds the consumed bytes not yet in the checksum into it. */
  #foldChecksum(): void {
    if (this.#start > this.#crcFrom) this.#crc.update(this.#buffer, this.#crcFrom, this.#start);
    this.#crcFrom = this.#start;
  }

  /**
   * Parses one item — the header, one opcode with its operands, a key, or
   * the footer — consumes its bytes and returns the record it makes, if any.
   */
  #step(cursor: RdbCursor): RdbRecord<V> | typeof KEY_READY | undefined {
    if (this.#state === "header") {
      this.#header(cursor);
      return undefined;
    }
    if (this.#state === "checksum") {
      const offset = cursor.offset();
      const stored = cursor.raw(8);
      if (stored.every((byte) => byte === 0)) this.#checksum = "disabled";
      else if (this.#crc.matches(stored, 0)) this.#checksum = "verified";
      else {
        const got = new DataView(stored.buffer, stored.byteOffset, 8).getBigUint64(0, true);
        throw new RdbError(
          "checksum",
          `Wrong RDB checksum expected: (${this.#crc.value().toString(16)}) but got (${
            got.toString(16)
          }). Aborting now.`,
          offset,
        );
      }
      this.#start = cursor.position;
      this.#finish();
      return undefined;
    }
    const type = cursor.byte();
    let record: RdbRecord<V> | undefined;
    switch (type) {
      case RDB_OPCODE.EXPIRETIME:
        this.#expireAt = cursor.int32LE() * 1000;
        break;
      case RDB_OPCODE.EXPIRETIME_MS:
        this.#expireAt = cursor.millisecondTime();
        break;
      case RDB_OPCODE.FREQ:
        this.#lfuFrequency = cursor.byte();
        break;
      case RDB_OPCODE.IDLE:
        this.#lruIdle = Number(cursor.lengthBig());
        break;
      case RDB_OPCODE.EOF:
        this.#commit(cursor);
        this.#foldChecksum();
        if (this.#version >= 5) this.#state = "checksum";
        else this.#finish();
        return undefined;
      case RDB_OPCODE.SELECTDB: {
        const database = cursor.length();
        if (database >= this.#databases) {
          throw new RdbError(
            "unsupported",
            `FATAL: Data file was created with a Redis server configured to handle more than ${this.#databases} databases. Exiting`,
            cursor.offset(),
          );
        }
        this.#database = database;
        record = { kind: "select", database };
        break;
      }
      case RDB_OPCODE.RESIZEDB: {
        const keys = cursor.length();
        const expires = cursor.length();
        record = { kind: "resize", database: this.#database, keys, expires };
        break;
      }
      case RDB_OPCODE.AUX: {
        const name = cursor.string();
        const value = cursor.string();
        record = { kind: "aux", name, value };
        break;
      }
      case RDB_OPCODE.MODULE_AUX: {
        const name = moduleTypeName(cursor.lengthBig());
        throw new RdbError(
          "unsupported",
          `The RDB file contains AUX module data I can't load: no matching module '${name}'`,
          cursor.offset(),
        );
      }
      case RDB_OPCODE.FUNCTION: {
        // Redis 7.0 release candidates: name, engine, optional description, code.
        const name = cursor.string();
        const engine = cursor.string();
        if (cursor.length() !== 0) cursor.string();
        const code = cursor.string();
        record = { kind: "function", code: `#!${engine} name=${name}\n${code}` };
        break;
      }
      case RDB_OPCODE.FUNCTION2:
        record = { kind: "function", code: cursor.string() };
        break;
      default:
        return this.#key(cursor, type);
    }
    this.#commit(cursor);
    return record;
  }

  #header(cursor: RdbCursor): void {
    const magic = cursor.raw(9);
    for (let i = 0; i < MAGIC.length; i++) {
      if (magic[i] !== MAGIC[i]) {
        throw new RdbError("version", "Wrong signature trying to load DB from file", 0);
      }
    }
    // Redis reads the version with atoi; we also insist on four digits, so a
    // damaged header cannot pass for an old version without a checksum.
    let version = 0;
    for (let i = 5; i < 9; i++) {
      const digit = magic[i]! - 48;
      if (digit < 0 || digit > 9) {
        throw new RdbError("version", "Can't handle RDB format version (not a number)", 0);
      }
      version = version * 10 + digit;
    }
    const newest = Math.min(this.#maxVersion, RDB_NEWEST_READABLE_VERSION);
    if (version < 1 || version > newest) {
      throw new RdbError("version", `Can't handle RDB format version ${version}`, 0);
    }
    this.#version = version;
    this.#commit(cursor);
    this.#state = "body";
  }

  #key(cursor: RdbCursor, type: number): RdbKeyRecord<V> | typeof KEY_READY | undefined {
    if (!isObjectType(type, this.#version > RDB_VERSION)) {
      throw cursor.corrupt(`Unknown RDB encoding type ${type}`);
    }
    const key = cursor.string();
    const value = readObject(cursor, type, this.#builder);
    let record: RdbKeyRecord<V> | typeof KEY_READY | undefined;
    if (value === EMPTY_KEY) {
      this.#emptyKeys++;
    } else if (this.#onKey !== undefined) {
      this.#readyKey = key;
      this.#readyValue = value;
      this.#readyExpireAt = this.#expireAt;
      this.#readyLruIdle = this.#lruIdle;
      this.#readyLfuFrequency = this.#lfuFrequency;
      record = KEY_READY;
    } else {
      record = {
        kind: "key",
        database: this.#database,
        key,
        value,
        expireAt: this.#expireAt,
        lruIdle: this.#lruIdle,
        lfuFrequency: this.#lfuFrequency,
      };
    }
    this.#expireAt = this.#lruIdle = this.#lfuFrequency = undefined;
    this.#commit(cursor);
    return record;
  }

  #finish(): void {
    this.#state = "done";
    this.#size = this.#base + this.#start;
  }
}

/** A whole RDB file, read into memory. */
export interface RdbFileContents extends RdbReadSummary {
  aux: { name: string; value: string }[];
  functions: string[];
  keys: RdbKeyRecord[];
}

/**
 * Reads a complete RDB file held in memory (tests, small files; large
 * files should stream through `RdbFileReader`).
 *
 * @example
 * ```ts
 * const contents = readRdbFile(await Deno.readFile("dump.rdb"));
 * for (const key of contents.keys) console.log(key.database, key.key, key.value.type);
 * ```
 */
export function readRdbFile(
  bytes: Uint8Array,
  options: Omit<RdbReaderOptions, "builder"> = {},
): RdbFileContents {
  const reader = new RdbFileReader(options);
  const contents: RdbFileContents = {
    aux: [],
    functions: [],
    keys: [],
    version: 0,
    checksum: "absent",
    emptyKeysSkipped: 0,
    size: 0,
  };
  const collect = (record: RdbRecord): void => {
    if (record.kind === "key") contents.keys.push(record);
    else if (record.kind === "aux") contents.aux.push({ name: record.name, value: record.value });
    else if (record.kind === "function") contents.functions.push(record.code);
  };
  reader.push(bytes, collect);
  reader.end(collect);
  return Object.assign(contents, reader.summary());
}

/**
 * Streams RDB data from `chunks` (e.g. a file's `readable`), handing each
 * record to `visit` as soon as it is parsed.
 *
 * @example
 * ```ts
 * using file = await Deno.open("dump.rdb");
 * const summary = await readRdbStream(file.readable, (record) => load(record));
 * ```
 */
export async function readRdbStream<V = RdbValue>(
  chunks: AsyncIterable<Uint8Array>,
  visit: (record: RdbRecord<V>) => void,
  options: RdbReaderOptions<V> = {},
): Promise<RdbReadSummary & { remainder: Uint8Array }> {
  const reader = new RdbFileReader<V>(options);
  for await (const chunk of chunks) reader.push(chunk, visit);
  reader.end(visit);
  return { ...reader.summary(), remainder: reader.remainder() };
}
