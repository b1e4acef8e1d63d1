/**
 * The RDB codec: Redis 7.0's dump.rdb format and DUMP payloads, both ways,
 * over a logical value model that does not depend on how the keyspace
 * holds values in memory.
 *
 * - `RdbFileReader` / `readRdbStream` / `readRdbFile`: load a file, in
 *   chunks or whole, into records (aux fields, functions, keys); values
 *   are made by an `RdbValueBuilder` (the model's by default, or a store's
 *   own, as rdb/values.ts does) and keys can go to an `onKey`
 *   visitor instead of records.
 * - `RdbKeyEncoder`: key records on their own (a background save's
 *   scratch file), written into a file later with `RdbFileWriter.writeRaw`.
 * - `RdbFileWriter` / `writeRdbFile`: save, incrementally or whole.
 * - `encodeDumpPayload` / `decodeDumpPayload`: DUMP and RESTORE;
 *   `encodeFunctionDump` / `decodeFunctionDump`: FUNCTION DUMP / RESTORE.
 * - `crc64`, `lzfCompress`, `lzfDecompress`: the primitives.
 *
 * @module
 */

export * from "./model.ts";
export {
  DEFAULT_ENCODING_LIMITS,
  RDB_OPCODE,
  RDB_TYPE,
  RDB_VERSION,
  type RdbEncodingLimits,
  REDIS_VERSION,
} from "./constants.ts";
export { Crc64, crc64 } from "./crc64.ts";
export { lzfCompress, lzfDecompress } from "./lzf.ts";
export {
  type RdbFileContents,
  RdbFileReader,
  type RdbKeyVisitor,
  type RdbReaderOptions,
  type RdbReadSummary,
  readRdbFile,
  readRdbStream,
} from "./file_reader.ts";
export {
  defaultAuxFields,
  type RdbFileInput,
  RdbFileWriter,
  RdbKeyEncoder,
  type RdbKeyOptions,
  type RdbWriterOptions,
  writeRdbFile,
} from "./file_writer.ts";
export {
  BAD_DATA_FORMAT_ERROR,
  decodeDumpPayload,
  decodeFunctionDump,
  DUMP_PAYLOAD_ERROR,
  type DumpOptions,
  encodeDumpPayload,
  encodeFunctionDump,
  restoreErrorReply,
  verifyDumpPayload,
} from "./dump.ts";
export { compareStreamIdParts, decodeStreamId, encodeStreamId } from "./stream_codec.ts";
export { defaultValueBuilder } from "./object_reader.ts";
