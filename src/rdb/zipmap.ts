/**
 * Zipmaps (`zipmap.c`): how Redis 2.x saved small hashes. Redis 7.0 still
 * loads them (converting to a listpack), so the reader does too.
 *
 * Layout: a count byte (exact when below 254), then per pair a field
 * length, the field, a value length, a "free" byte, the value and that many
 * unused bytes; an 0xFF terminator. Lengths take 1 byte when below 254,
 * else 0xFE and 4 bytes little-endian. Decoding follows
 * `zipmapValidateIntegrity` (deep): everything inside the bytes, at least
 * one pair, the count byte right when it is exact; and, as `rdbLoadObject`
 * does, no duplicate field.
 *
 * @module
 */

import { binaryView } from "../protocol/binary.ts";
import { RdbError } from "./model.ts";

const BIG_LENGTH = 254;
const END = 0xff;

/** The field-value pairs of a zipmap; throws `RdbError` if invalid. */
export function zipmapEntries(bytes: Uint8Array): [string, string][] {
  const size = bytes.length;
  if (size < 2 || bytes[size - 1] !== END) throw invalid();
  const view = binaryView(bytes);
  const last = size - 1;
  const entries: [string, string][] = [];
  const seen = new Set<string>();
  let position = 1;
  // Reads the length at `position` and moves past it.
  const readLength = (): number => {
    const first = bytes[position]!;
    if (first < BIG_LENGTH) {
      position += 1;
      return first;
    }
    if (position + 5 > last) throw invalid();
    const length = (bytes[position + 1]! | (bytes[position + 2]! << 8) |
      (bytes[position + 3]! << 16) | (bytes[position + 4]! << 24)) >>> 0;
    position += 5;
    return length;
  };
  while (bytes[position] !== END) {
    const fieldLength = readLength();
    if (fieldLength > last - position) throw invalid();
    const field = view.latin1Slice(position, position + fieldLength);
    position += fieldLength;
    if (position >= last) throw invalid();
    const valueLength = readLength();
    if (position >= last) throw invalid();
    const free = bytes[position++]!;
    if (valueLength + free > last - position) throw invalid();
    const value = view.latin1Slice(position, position + valueLength);
    position += valueLength + free;
    if (seen.has(field)) {
      throw new RdbError(
        "corrupt",
        `Hash zipmap with dup elements, or big length (${fieldLength})`,
      );
    }
    seen.add(field);
    entries.push([field, value]);
  }
  if (position !== last || entries.length === 0) throw invalid();
  if (bytes[0] !== BIG_LENGTH && bytes[0] !== entries.length) throw invalid();
  return entries;
}

function invalid(): RdbError {
  return new RdbError("corrupt", "Zipmap integrity check failed.");
}
