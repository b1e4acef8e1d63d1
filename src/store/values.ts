/**
 * The value types a key can hold, and how to tell them apart.
 *
 * Strings are plain binary strings (see protocol/binary.ts), hashes are
 * Hashes (Maps that know their encoding), sets are MemberSets (Sets with
 * O(1) random picks), lists are Deques and sorted sets are SortedSets. Using
 * the runtime's own collections keeps lookups O(1) and costs no wrapper
 * object per key for the commonest type, the string.
 *
 * @module
 */

import { Deque } from "./deque.ts";
import { Hash } from "./hash.ts";
import { MemberSet } from "./set.ts";
import type { SortedSet } from "./sorted_set.ts";

export type HashValue = Hash;
export type SetValue = MemberSet;
export type ListValue = Deque<string>;
export type SortedSetValue = SortedSet;
export type RedisValue = string | HashValue | ListValue | SetValue | SortedSetValue;

/** The names TYPE replies with. */
export type ValueType = "string" | "hash" | "list" | "set" | "zset";

export function typeOf(value: RedisValue): ValueType {
  if (typeof value === "string") return "string";
  if (value instanceof Hash) return "hash";
  if (value instanceof MemberSet) return "set";
  if (value instanceof Deque) return "list";
  return "zset";
}
