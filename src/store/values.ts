/**
 * The value types a key can hold, and how to tell them apart.
 *
 * Strings are plain binary strings (see protocol/binary.ts), hashes are
 * Hashes (Maps that know their encoding), sets are MemberSets (Sets with
 * O(1) random picks), lists are Deques, sorted sets are SortedSets and
 * streams are Streams. Using the runtime's own collections keeps lookups
 * O(1) and costs no wrapper object per key for the commonest type, the
 * string.
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
  if (value instanceof MemberSet) {
    return value.isIntsetSized((member) => parseInteger(member) !== undefined)
      ? "intset"
      : "hashtable";
  }
  if (value instanceof Stream) return "stream";
  return value.encoding;
}

/** A copy of `value` sharing no mutable structure with it (COPY). */
export function copyValue(value: RedisValue): RedisValue {
  if (typeof value === "string") return value;
  if (value instanceof HyperLogLog) return value.clone();
  if (value instanceof Hash) return value.copy();
  if (value instanceof MemberSet) return value.copy();
  if (value instanceof Deque) return new Deque(value);
  if (value instanceof Stream) return value.copy();
  const copy = new SortedSet();
  for (const [member, score] of value.range(0, value.size - 1)) copy.add(member, score);
  return copy;
}
