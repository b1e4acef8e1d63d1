/**
 * DUMP / RESTORE payloads and FUNCTION DUMP / FUNCTION RESTORE payloads.
 *
 * A DUMP payload is one value in RDB object encoding (type byte, value),
 * then the RDB version as 2 bytes little-endian, then the CRC64 of all of
 * that as 8 bytes little-endian (`createDumpPayload` in cluster.c). RESTORE
 * first verifies the footer (`verifyDumpPayload`: a version no newer than
 * ours and a matching checksum — a checksum of 0 is not special here) and
 * only then decodes, with Redis's two error replies: "DUMP payload version
 * or checksum are wrong" for the footer, "Bad data format" for anything
 * wrong inside. As in Redis, decoding reads from the start of the whole
 * payload and ignores bytes left before the footer.
 *
 * A FUNCTION DUMP payload is a sequence of FUNCTION2 opcodes each followed
 * by a library's source, with the same footer.
 *
 * @module
 */

import {
  DEFAULT_ENCODING_LIMITS,
  RDB_OPCODE,
  RDB_VERSION,
  type RdbEncodingLimits,
} from "./constants.ts";
import { Crc64 } from "./crc64.ts";
import { NEED_MORE, RdbCursor } from "./cursor.ts";
import { RdbError, type RdbValue, type RdbValueBuilder, type RdbValueSource } from "./model.ts";
import { defaultValueBuilder, EMPTY_KEY, isObjectType, readObject } from "./object_reader.ts";
import { ObjectEncoder } from "./object_writer.ts";
import { RdbOutput } from "./output.ts";

/** RESTORE's reply when the footer does not verify. */
export const DUMP_PAYLOAD_ERROR = "ERR DUMP payload version or checksum are wrong";
/** RESTORE's reply when the footer verifies but the value does not decode. */
export const BAD_DATA_FORMAT_ERROR = "ERR Bad data format";

const FOOTER_SIZE = 10;

/** Options of `encodeDumpPayload`. */
export interface DumpOptions {
  /** LZF-compress long strings, as DUMP does when `rdbcompression` is on (default yes). */
  compression?: boolean;
  /** Encoding thresholds; Redis's defaults otherwise. */
  limits?: Partial<RdbEncodingLimits>;
}

/**
 * The DUMP payload of `value`, as Redis 7.0 produces it.
 *
 * @example
 * ```ts
 * const payload = encodeDumpPayload({ type: "string", value: "hello" });
 * decodeDumpPayload(payload); // { type: "string", value: "hello" }
 * ```
 */
export function encodeDumpPayload(
  value: RdbValue | RdbValueSource,
  options: DumpOptions = {},
): Uint8Array {
  const output = new RdbOutput(options.compression ?? true, 256);
  new ObjectEncoder({ ...DEFAULT_ENCODING_LIMITS, ...options.limits }).write(
    output,
    undefined,
    value,
  );
  return withFooter(output);
}

function withFooter(output: RdbOutput): Uint8Array {
  output.byte(RDB_VERSION & 0xff);
  output.byte((RDB_VERSION >>> 8) & 0xff);
  const body = output.peek();
  const crc = new Crc64();
  crc.update(body);
  const payload = new Uint8Array(body.length + 8);
  payload.set(body);
  crc.writeTo(payload, body.length);
  return payload;
}

/** Whether the footer of `payload` verifies (`verifyDumpPayload`). */
export function verifyDumpPayload(payload: Uint8Array): boolean {
  if (payload.length < FOOTER_SIZE) return false;
  const footer = payload.length - FOOTER_SIZE;
  const version = payload[footer]! | (payload[footer + 1]! << 8);
  if (version > RDB_VERSION) return false;
  const crc = new Crc64();
  crc.update(payload, 0, payload.length - 8);
  return crc.matches(payload, payload.length - 8);
}

/**
 * Decodes a DUMP payload for RESTORE, into the logical model or, with
 * `builder`, into whatever it builds. Throws `RdbError`: reason "checksum"
 * when the footer does not verify (reply `DUMP_PAYLOAD_ERROR`), any other
 * reason when the value is bad (reply `BAD_DATA_FORMAT_ERROR`); see
 * `restoreErrorReply`.
 */
export function decodeDumpPayload<V>(payload: Uint8Array, builder: RdbValueBuilder<V>): V;
export function decodeDumpPayload(payload: Uint8Array): RdbValue;
export function decodeDumpPayload<V>(
  payload: Uint8Array,
  builder?: RdbValueBuilder<V>,
): V | RdbValue {
  if (!verifyDumpPayload(payload)) {
    throw new RdbError("checksum", "DUMP payload version or checksum are wrong");
  }
  const cursor = new RdbCursor();
  cursor.reset(payload, 0, payload.length);
  try {
    const type = cursor.byte();
    if (!isObjectType(type, false)) throw cursor.corrupt(`Unknown RDB encoding type ${type}`);
    const value = readObject<V | RdbValue>(cursor, type, builder ?? defaultValueBuilder());
    if (value === EMPTY_KEY) throw new RdbError("corrupt", "Empty keys are not allowed", 0);
    return value;
  } catch (error) {
    if (error === NEED_MORE) throw new RdbError("truncated", "Unexpected end of DUMP payload");
    if (error instanceof RangeError) throw new RdbError("unsupported", error.message);
    throw error;
  }
}

/** The error reply RESTORE sends for an error thrown by `decodeDumpPayload`. */
export function restoreErrorReply(error: RdbError): string {
  return error.reason === "checksum" ? DUMP_PAYLOAD_ERROR : BAD_DATA_FORMAT_ERROR;
}

/**
 * The FUNCTION DUMP payload of the given libraries (their sources).
 *
 * @example
 * ```ts
 * const payload = encodeFunctionDump(["#!lua name=lib\nredis.register_function('f', function() return 1 end)"]);
 * ```
 */
export function encodeFunctionDump(libraries: readonly string[]): Uint8Array {
  const output = new RdbOutput(true, 256);
  for (const code of libraries) {
    output.byte(RDB_OPCODE.FUNCTION2);
    output.string(code);
  }
  return withFooter(output);
}

/**
 * The library sources in a FUNCTION RESTORE payload. Throws `RdbError`
 * whose message is the reason FUNCTION RESTORE gives (after "ERR ").
 */
export function decodeFunctionDump(payload: Uint8Array): string[] {
  if (!verifyDumpPayload(payload)) {
    throw new RdbError("checksum", "DUMP payload version or checksum are wrong");
  }
  const cursor = new RdbCursor();
  const end = payload.length - FOOTER_SIZE;
  cursor.reset(payload, 0, payload.length);
  const libraries: string[] = [];
  try {
    while (cursor.position < end) {
      const type = cursor.byte();
      if (type === RDB_OPCODE.FUNCTION2) {
        libraries.push(cursor.string());
      } else if (type === RDB_OPCODE.FUNCTION) {
        const name = cursor.string();
        const engine = cursor.string();
        if (cursor.length() !== 0) cursor.string();
        libraries.push(`#!${engine} name=${name}\n${cursor.string()}`);
      } else {
        throw new RdbError("corrupt", "given type is not a function");
      }
    }
  } catch (error) {
    if (error === NEED_MORE) {
      throw new RdbError("truncated", "failed loading the given functions payload");
    }
    throw error;
  }
  return libraries;
}
