/**
 * The value types a key can hold, and how to tell them apart.
 *
 * Strings are plain binary strings (see protocol/binary.ts), hashes are
 * Hashes (Maps), sets are MemberSets (Sets with O(1) random picks), lists
 * are Deques (quicklists of packed nodes), sorted sets are SortedSets and
 * streams are Streams. Small hashes, sets of integers and small sorted
 * sets are held packed into one string, in Redis's compact encodings
 * (store/packed.ts, encoding_limits.ts), and big ones in the runtime's own
 * collections, which keep lookups O(1); a string costs no wrapper object
 * per key, being the commonest type.
 *
 * A string may also be held as a HyperLogLog: PFADD works on its registers
 * in place instead of rebuilding a 12 KB string per call. It is a string in
 * every other respect (TYPE, GET, APPEND, DUMP see `stringContent`, which
 * is Redis's exact HYLL bytes, cached until the next change); commands that
 * write a string simply replace it with a plain one.
 *
 * What Redis reports about a value that depends on its type lives here too:
 * `encodingOf` (OBJECT ENCODING) and `copyValue` (COPY).
 *
 * @module
 */

import { parseInteger } from "../protocol/integers.ts";
import { Deque } from "./deque.ts";
import { Hash } from "./hash.ts";
import { HyperLogLog } from "./hyperloglog.ts";
import { MemberSet } from "./set.ts";
import { SortedSet } from "./sorted_set.ts";
import { Stream } from "./stream.ts";

export type HashValue = Hash;
export type SetValue = MemberSet;
export type ListValue = Deque<string>;
export type SortedSetValue = SortedSet;
export type StreamValue = Stream;
/** A string value: plain binary string, or a HyperLogLog (see the module doc). */
export type StringValue = string | HyperLogLog;
export type RedisValue =
  | StringValue
  | HashValue
  | ListValue
  | SetValue
  | SortedSetValue
  | StreamValue;

/** The names TYPE replies with. */
export type ValueType = "string" | "hash" | "list" | "set" | "zset" | "stream";

export function typeOf(value: RedisValue): ValueType {
  if (typeof value === "string" || value instanceof HyperLogLog) return "string";
  if (value instanceof Hash) return "hash";
  if (value instanceof MemberSet) return "set";
  if (value instanceof Deque) return "list";
  if (value instanceof Stream) return "stream";
  return "zset";
}

/** Whether `value` is a string (plain or held as a HyperLogLog). */
export function isStringValue(value: RedisValue): value is StringValue {
  return typeof value === "string" || value instanceof HyperLogLog;
}

/** The bytes of a string value, as a binary string. */
export function stringContent(value: StringValue): string {
  return typeof value === "string" ? value : value.toBinary();
}

/** Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT: longer strings are "raw". */
const EMBSTR_MAX_LENGTH = 44;
/** Longest string Redis tries to store as an integer. */
const INT_MAX_LENGTH = 20;

/** What OBJECT ENCODING answers for `value`. */
export function encodingOf(value: RedisValue): string {
  if (typeof value === "string") {
    if (value.length <= INT_MAX_LENGTH && parseInteger(value) !== undefined) return "int";
    return value.length <= EMBSTR_MAX_LENGTH ? "embstr" : "raw";
  }
  if (value instanceof HyperLogLog) return "raw";
  if (value instanceof Hash) return value.encoding;
  if (value instanceof Deque) return "quicklist";
  if (value instanceof MemberSet) return value.encoding;
  if (value instanceof Stream) return "stream";
  return value.encoding;
}

/**
 * A copy of `value` sharing no mutable structure with it (COPY), in the
 * same encoding, as Redis's dup*Object functions copy.
 */
export function copyValue(value: RedisValue): RedisValue {
  if (typeof value === "string") return value;
  if (value instanceof HyperLogLog) return value.clone();
  if (value instanceof Hash) return value.copy();
  if (value instanceof MemberSet) return value.copy();
  if (value instanceof Deque) return value.copy();
  if (value instanceof Stream) return value.copy();
  return value.copy();
}
