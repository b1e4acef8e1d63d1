/**
 * Writes RDB files as Redis 7.0 does (`rdbSaveRio`): the REDIS0010 header,
 * the aux fields Redis writes (`redis-ver`, `redis-bits`, `ctime`,
 * `used-mem`, `aof-base`), the function libraries, then per non-empty
 * database a SELECTDB and a RESIZEDB followed by its keys (each with its
 * expiry, and LRU/LFU data when given), the EOF opcode and the CRC64.
 *
 * The writer is incremental so that a BGSAVE never stalls clients: the
 * caller writes a few keys, takes the bytes produced so far and writes them
 * to the file, and yields to the event loop between slices. Memory holds
 * one slice, never the file. The checksum is computed as bytes are taken.
 *
 * @module
 */

import {
  DEFAULT_ENCODING_LIMITS,
  RDB_OPCODE,
  RDB_VERSION,
  type RdbEncodingLimits,
  REDIS_VERSION,
} from "./constants.ts";
import { Crc64 } from "./crc64.ts";
import type { RdbAuxField, RdbValue, RdbValueSource } from "./model.ts";
import { ObjectEncoder } from "./object_writer.ts";
import { RdbOutput } from "./output.ts";

/** Options of `RdbFileWriter`. */
export interface RdbWriterOptions {
  /** LZF-compress strings longer than 20 bytes (`rdbcompression`, default yes). */
  compression?: boolean;
  /** Write a real CRC64 (`rdbchecksum`, default yes); otherwise a 0 footer. */
  checksum?: boolean;
  /** The aux fields to write; by default the ones Redis 7.0 writes, from the options below. */
  aux?: RdbAuxField[];
  /** `ctime`: Unix time in seconds (default: now). */
  createdAt?: number;
  /** `used-mem`: the server's memory use in bytes (default 0). */
  usedMemory?: number;
  /** `aof-base`: whether this RDB is the base of a multi-part AOF (default false). */
  aofBase?: boolean;
  /** Encoding thresholds (the `*-max-listpack-*` settings); Redis's defaults otherwise. */
  limits?: Partial<RdbEncodingLimits>;
}

/** Per-key attributes written before a key. */
export interface RdbKeyOptions {
  /** Absolute Unix time in ms when the key expires. */
  expireAt?: number;
  /** LRU idle time in seconds (written when the server evicts by LRU). */
  lruIdle?: number;
  /** LFU counter 0-255 (written when the server evicts by LFU). */
  lfuFrequency?: number;
}

/** The aux fields Redis 7.0 writes, in its order. */
export function defaultAuxFields(options: RdbWriterOptions = {}): RdbAuxField[] {
  return [
    { name: "redis-ver", value: REDIS_VERSION },
    { name: "redis-bits", value: "64" },
    { name: "ctime", value: String(options.createdAt ?? Math.floor(Date.now() / 1000)) },
    { name: "used-mem", value: String(options.usedMemory ?? 0) },
    { name: "aof-base", value: options.aofBase ? "1" : "0" },
  ];
}

/**
 * An incremental RDB file writer.
 *
 * @example
 * ```ts
 * const writer = new RdbFileWriter({ usedMemory: 1_000_000 });
 * writer.selectDatabase(0, 2, 1);
 * writer.writeKey("greeting", { type: "string", value: "hello" });
 * writer.writeKey("session", { type: "string", value: "abc" }, { expireAt: Date.now() + 60_000 });
 * await file.write(writer.take()); // as often as convenient
 * await file.write(writer.finish());
 * ```
 */
export class RdbFileWriter {
  readonly #output: RdbOutput;
  readonly #encoder: ObjectEncoder;
  readonly #crc = new Crc64();
  readonly #checksum: boolean;
  #finished = false;

  /** Starts the file: writes the header and aux fields. */
  constructor(options: RdbWriterOptions = {}) {
    this.#output = new RdbOutput(options.compression ?? true);
    this.#encoder = new ObjectEncoder({ ...DEFAULT_ENCODING_LIMITS, ...options.limits });
    this.#checksum = options.checksum ?? true;
    const output = this.#output;
    output.raw(new TextEncoder().encode(`REDIS${String(RDB_VERSION).padStart(4, "0")}`));
    for (const field of options.aux ?? defaultAuxFields(options)) {
      output.byte(RDB_OPCODE.AUX);
      output.string(field.name);
      output.string(field.value);
    }
  }

  /** Writes a function library (its source, `#!lua name=...`), before any database. */
  writeFunction(code: string): void {
    this.#assertOpen();
    this.#output.byte(RDB_OPCODE.FUNCTION2);
    this.#output.string(code);
  }

  /**
   * Starts database `index`, which holds `keys` keys of which `expires`
   * have a TTL (the RESIZEDB hint). Redis writes nothing for an empty database.
   */
  selectDatabase(index: number, keys: number, expires: number): void {
    this.#assertOpen();
    const output = this.#output;
    output.byte(RDB_OPCODE.SELECTDB);
    output.length(index);
    output.byte(RDB_OPCODE.RESIZEDB);
    output.length(keys);
    output.length(expires);
  }

  /** Writes one key of the current database. */
  writeKey(key: string, value: RdbValue | RdbValueSource, options?: RdbKeyOptions): void {
    this.#assertOpen();
    writeKeyRecord(this.#output, this.#encoder, key, value, options);
  }

  /**
   * Writes bytes that are already RDB: key records an `RdbKeyEncoder` made
   * earlier with the same settings. They count towards the checksum like
   * everything else.
   */
  writeRaw(bytes: Uint8Array): void {
    this.#assertOpen();
    this.#output.raw(bytes);
  }

  /** Bytes produced and not yet taken. */
  get pendingBytes(): number {
    return this.#output.size;
  }

  /** Takes the bytes produced so far, to be written to the file in order. */
  take(): Uint8Array {
    const bytes = this.#output.take();
    if (this.#checksum) this.#crc.update(bytes);
    return bytes;
  }

  /** Ends the file (EOF and checksum) and returns its last bytes. */
  finish(): Uint8Array {
    this.#assertOpen();
    this.#output.byte(RDB_OPCODE.EOF);
    const bytes = this.take();
    this.#finished = true;
    const footer = new Uint8Array(bytes.length + 8);
    footer.set(bytes);
    if (this.#checksum) this.#crc.writeTo(footer, bytes.length);
    return footer;
  }

  #assertOpen(): void {
    if (this.#finished) throw new Error("The RDB file is already finished");
  }
}

function writeKeyRecord(
  output: RdbOutput,
  encoder: ObjectEncoder,
  key: string,
  value: RdbValue | RdbValueSource,
  options: RdbKeyOptions | undefined,
): void {
  if (options !== undefined) {
    if (options.expireAt !== undefined) {
      output.byte(RDB_OPCODE.EXPIRETIME_MS);
      output.millisecondTime(options.expireAt);
    }
    if (options.lruIdle !== undefined) {
      output.byte(RDB_OPCODE.IDLE);
      output.length(options.lruIdle);
    }
    if (options.lfuFrequency !== undefined) {
      output.byte(RDB_OPCODE.FREQ);
      output.byte(options.lfuFrequency);
    }
  }
  encoder.write(output, key, value);
}

/**
 * Encodes key records (expiry and LRU/LFU opcodes, type, key, value) on
 * their own, outside any file: what a background save encodes ahead of
 * knowing which of them the file will keep (see persistence/snapshot.ts),
 * then hands to `RdbFileWriter.writeRaw`.
 *
 * @example
 * ```ts
 * const encoder = new RdbKeyEncoder();
 * encoder.writeKey("k", { type: "string", value: "v" });
 * const record = encoder.take();
 * ```
 */
export class RdbKeyEncoder {
  readonly #output: RdbOutput;
  readonly #encoder: ObjectEncoder;

  constructor(options: Pick<RdbWriterOptions, "compression" | "limits"> = {}) {
    this.#output = new RdbOutput(options.compression ?? true);
    this.#encoder = new ObjectEncoder({ ...DEFAULT_ENCODING_LIMITS, ...options.limits });
  }

  /** Appends one key's record. Throws RangeError for a value Redis cannot hold. */
  writeKey(key: string, value: RdbValue | RdbValueSource, options?: RdbKeyOptions): void {
    writeKeyRecord(this.#output, this.#encoder, key, value, options);
  }

  /** Bytes encoded and not yet taken. */
  get pendingBytes(): number {
    return this.#output.size;
  }

  /** Takes the bytes encoded so far. */
  take(): Uint8Array {
    return this.#output.take();
  }
}

/** What `writeRdbFile` writes: databases of keys, and function libraries. */
export interface RdbFileInput {
  functions?: string[];
  databases: {
    index: number;
    keys: {
      key: string;
      value: RdbValue;
      expireAt?: number;
      lruIdle?: number;
      lfuFrequency?: number;
    }[];
  }[];
}

/**
 * A complete RDB file in memory (tests, small data sets; large ones should
 * stream through `RdbFileWriter`). Databases without keys are left out.
 *
 * @example
 * ```ts
 * const bytes = writeRdbFile({
 *   databases: [{ index: 0, keys: [{ key: "k", value: { type: "string", value: "v" } }] }],
 * });
 * ```
 */
export function writeRdbFile(input: RdbFileInput, options: RdbWriterOptions = {}): Uint8Array {
  const writer = new RdbFileWriter(options);
  for (const code of input.functions ?? []) writer.writeFunction(code);
  const parts: Uint8Array[] = [];
  for (const database of input.databases) {
    if (database.keys.length === 0) continue;
    let expires = 0;
    for (const entry of database.keys) if (entry.expireAt !== undefined) expires++;
    writer.selectDatabase(database.index, database.keys.length, expires);
    for (const entry of database.keys) {
      writer.writeKey(entry.key, entry.value, entry);
      if (writer.pendingBytes > 1 << 20) parts.push(writer.take());
    }
  }
  parts.push(writer.finish());
  return concatenate(parts);
}

function concatenate(parts: readonly Uint8Array[]): Uint8Array {
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
