/**
 * Ziplists (`ziplist.c`), the compact encoding before listpacks: Redis 3.2
 * to 6.2 saved small hashes, sorted sets and lists (and each quicklist
 * node) as ziplists, and Redis 7.0 still loads them, converting on the way.
 * Only reading is needed: nothing writes ziplists any more.
 *
 * Layout: total bytes (uint32 LE), offset of the last entry (uint32 LE),
 * entry count (uint16 LE, 65535 when it must be counted), the entries, an
 * 0xFF terminator. Each entry starts with the previous entry's size (1
 * byte, or 0xFE and 4 bytes LE), then an encoding: strings with 6/14/32-bit
 * lengths (the 14 and 32-bit ones big-endian), integers of 8/16/24/32/64
 * bits little-endian, or an immediate 0-12 in the encoding byte itself.
 *
 * Decoding validates what `ziplistValidateIntegrity` checks in deep mode:
 * header, every entry inside the bytes, every prevlen equal to the previous
 * entry's size, the tail offset pointing at the last entry, the count.
 *
 * @module
 */

import { binaryView } from "../protocol/binary.ts";
import { RdbError } from "./model.ts";

const HEADER_SIZE = 10;
const END = 0xff;

/** Every entry of a ziplist as a binary string (integers in decimal); throws `RdbError` if invalid. */
export function ziplistStrings(bytes: Uint8Array, what = "Ziplist"): string[] {
  const size = bytes.length;
  if (size < HEADER_SIZE + 1) throw invalid(what);
  const total = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
  const tail = (bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24)) >>> 0;
  const declaredCount = bytes[8]! | (bytes[9]! << 8);
  if (total !== size || bytes[size - 1] !== END || tail > size - 1) throw invalid(what);
  const view = binaryView(bytes);
  const last = size - 1;
  const items: string[] = [];
  let position = HEADER_SIZE;
  let previousSize = 0;
  let previousStart = -1;
  while (bytes[position] !== END) {
    const start = position;
    let previousLength: number;
    if (bytes[position]! < 0xfe) {
      previousLength = bytes[position]!;
      position += 1;
    } else {
      if (position + 5 > last) throw invalid(what);
      previousLength = (bytes[position + 1]! | (bytes[position + 2]! << 8) |
        (bytes[position + 3]! << 16) | (bytes[position + 4]! << 24)) >>> 0;
      position += 5;
    }
    if (previousLength !== previousSize || position >= last) throw invalid(what);
    const encoding = bytes[position]!;
    let item: string;
    if (encoding < 0xc0) {
      let length: number;
      const kind = encoding >>> 6;
      if (kind === 0) {
        length = encoding & 0x3f;
        position += 1;
      } else if (kind === 1) {
        if (position + 2 > last) throw invalid(what);
        length = ((encoding & 0x3f) << 8) | bytes[position + 1]!;
        position += 2;
      } else {
        if (position + 5 > last) throw invalid(what);
        length = ((bytes[position + 1]! << 24) | (bytes[position + 2]! << 16) |
          (bytes[position + 3]! << 8) | bytes[position + 4]!) >>> 0;
        position += 5;
      }
      if (length > last - position) throw invalid(what);
      item = length === 0 ? "" : view.latin1Slice(position, position + length);
      position += length;
    } else {
      let value: number | bigint;
      let length: number;
      switch (encoding) {
        case 0xc0:
          length = 2;
          break;
        case 0xd0:
          length = 4;
          break;
        case 0xe0:
          length = 8;
          break;
        case 0xf0:
          length = 3;
          break;
        case 0xfe:
          length = 1;
          break;
        default:
          if (encoding >= 0xf1 && encoding <= 0xfd) {
            length = 0;
            break;
          }
          throw invalid(what);
      }
      position += 1;
      if (length > last - position) throw invalid(what);
      const at = position;
      if (length === 0) value = (encoding & 0x0f) - 1;
      else if (length === 1) value = bytes[at]! > 127 ? bytes[at]! - 256 : bytes[at]!;
      else if (length === 2) {
        const raw = bytes[at]! | (bytes[at + 1]! << 8);
        value = raw > 32767 ? raw - 65536 : raw;
      } else if (length === 3) {
        const raw = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16);
        value = raw > 8388607 ? raw - 16777216 : raw;
      } else if (length === 4) {
        value = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) |
          (bytes[at + 3]! << 24);
      } else {
        const low = (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) |
          (bytes[at + 3]! << 24)) >>> 0;
        const high = bytes[at + 4]! | (bytes[at + 5]! << 8) | (bytes[at + 6]! << 16) |
          (bytes[at + 7]! << 24);
        value = high >= -0x200000 && high < 0x200000
          ? high * 4294967296 + low
          : BigInt.asIntN(64, (BigInt(high >>> 0) << 32n) | BigInt(low));
      }
      position += length;
      item = String(value);
    }
    items.push(item);
    previousSize = position - start;
    previousStart = start;
  }
  if (position !== last) throw invalid(what);
  if (previousStart !== -1 && previousStart !== tail) throw invalid(what);
  if (declaredCount !== 0xffff && declaredCount !== items.length) throw invalid(what);
  return items;
}

function invalid(what: string): RdbError {
  return new RdbError("corrupt", `${what} integrity check failed.`);
}
