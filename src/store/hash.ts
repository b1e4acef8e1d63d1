/**
 * Hash: the value of a hash key, in one of Redis's two encodings.
 *
 * - "listpack": while the hash is small (at most `hash-max-listpack-entries`
 *   fields, none of them nor their values longer than
 *   `hash-max-listpack-value` bytes), every field and value is packed into
 *   one binary string in insertion order (store/packed.ts), as Redis packs
 *   them into a listpack. A 100-field hash then costs its bytes plus a few
 *   per field, where a Map costs over 80 bytes per field on top of the data;
 *   lookups scan the string, as Redis scans its listpack, which at these
 *   sizes costs about what hashing the field would.
 * - "hashtable": beyond that, the Map this class extends holds the fields,
 *   so a big hash is a plain Map with no indirection, and every Map
 *   method works on it unchanged.
 *
 * A hash converts once, when a change makes it outgrow the limits passed to
 * `store` (commands pass the live configuration), and never converts back,
 * as in Redis, so OBJECT ENCODING, HSCAN's one-call reply, DUMP and COPY
 * agree with Redis for the same history. Both encodings iterate in
 * insertion order (Redis's listpack order), so HGETALL, HKEYS and
 * HRANDFIELD of a small hash answer as Redis does.
 *
 * The class is still a Map to its users: `get`, `has`, `set`, `delete`,
 * `size` and iteration answer for either encoding, so the RDB and AOF code
 * and the tests read a Hash as they read a Map. Iterating a listpack hash
 * walks the string it had when the iteration began.
 *
 * @module
 */

import { DEFAULT_ENCODING_LIMITS, type EncodingLimits } from "./encoding_limits.ts";
import { bytesEqual, flatten, lengthAt, lengthPrefix, lengthSize } from "./packed.ts";

/** Redis 7.0's default `hash-max-listpack-entries`. */
export const HASH_MAX_LISTPACK_ENTRIES = DEFAULT_ENCODING_LIMITS.hashMaxListpackEntries;
/** Redis's default `hash-max-listpack-value`: longest field or value of a listpack. */
export const HASH_MAX_LISTPACK_VALUE = DEFAULT_ENCODING_LIMITS.hashMaxListpackValue;

/**
 * A hash key's value.
 *
 * @example
 * ```ts
 * const hash = new Hash();
 * hash.store("name", "John", client.server.config);
 * hash.get("name"); // "John"
 * hash.encoding; // "listpack"
 * ```
 */
export class Hash extends Map<string, string> {
  /** The listpack: field and value, length-prefixed, per entry; undefined once a hash table. */
  #packed: string | undefined = "";
  /** Fields in `#packed`. */
  #count = 0;

  /** OBJECT ENCODING: "listpack" while small, "hashtable" once it outgrew that. */
  get encoding(): "listpack" | "hashtable" {
    return this.#packed === undefined ? "hashtable" : "listpack";
  }

  override get size(): number {
    return this.#packed === undefined ? super.size : this.#count;
  }

  override get(field: string): string | undefined {
    const packed = this.#packed;
    if (packed === undefined) return super.get(field);
    const at = findField(packed, field);
    if (at < 0) return undefined;
    const valueAt = at + lengthSize(packed.charCodeAt(at)) + field.length;
    const start = valueAt + lengthSize(packed.charCodeAt(valueAt));
    return packed.slice(start, start + lengthAt(packed, valueAt));
  }

  override has(field: string): boolean {
    const packed = this.#packed;
    if (packed === undefined) return super.has(field);
    return findField(packed, field) >= 0;
  }

  /**
   * Stores `field` = `value` and returns whether the field is new, first
   * converting the hash to a hash table if Redis would: a field or value
   * longer than `hash-max-listpack-value`, or one field more than
   * `hash-max-listpack-entries`.
   */
  store(field: string, value: string, limits: EncodingLimits = DEFAULT_ENCODING_LIMITS): boolean {
    const packed = this.#packed;
    if (packed !== undefined) {
      const longest = limits.hashMaxListpackValue;
      if (field.length <= longest && value.length <= longest) {
        const at = findField(packed, field);
        if (at >= 0) {
          const valueAt = at + lengthSize(packed.charCodeAt(at)) + field.length;
          const end = valueAt + lengthSize(packed.charCodeAt(valueAt)) + lengthAt(packed, valueAt);
          this.#packed = flatten(
            packed.slice(0, valueAt) + lengthPrefix(value.length) + value + packed.slice(end),
          );
          return false;
        }
        if (this.#count < limits.hashMaxListpackEntries) {
          this.#packed = flatten(
            packed + lengthPrefix(field.length) + field + lengthPrefix(value.length) + value,
          );
          this.#count++;
          return true;
        }
      }
      this.#convert();
    }
    const size = super.size;
    super.set(field, value);
    return super.size !== size;
  }

  /** Map's `set`, with Redis's default limits (prefer `store` with the live ones). */
  override set(field: string, value: string): this {
    this.store(field, value);
    return this;
  }

  override delete(field: string): boolean {
    const packed = this.#packed;
    if (packed === undefined) return super.delete(field);
    const at = findField(packed, field);
    if (at < 0) return false;
    const valueAt = at + lengthSize(packed.charCodeAt(at)) + field.length;
    const end = valueAt + lengthSize(packed.charCodeAt(valueAt)) + lengthAt(packed, valueAt);
    this.#packed = flatten(packed.slice(0, at) + packed.slice(end));
    this.#count--;
    return true;
  }

  /** Removes every field; the encoding stays what it was. */
  override clear(): void {
    if (this.#packed === undefined) super.clear();
    else {
      this.#packed = "";
      this.#count = 0;
    }
  }

  override *entries(): MapIterator<[string, string]> {
    const packed = this.#packed;
    if (packed === undefined) {
      yield* super.entries();
      return;
    }
    for (let at = 0; at < packed.length;) {
      const fieldStart = at + lengthSize(packed.charCodeAt(at));
      const fieldEnd = fieldStart + lengthAt(packed, at);
      const valueStart = fieldEnd + lengthSize(packed.charCodeAt(fieldEnd));
      at = valueStart + lengthAt(packed, fieldEnd);
      yield [packed.slice(fieldStart, fieldEnd), packed.slice(valueStart, at)];
    }
  }

  override *keys(): MapIterator<string> {
    const packed = this.#packed;
    if (packed === undefined) {
      yield* super.keys();
      return;
    }
    for (let at = 0; at < packed.length;) {
      const fieldStart = at + lengthSize(packed.charCodeAt(at));
      const fieldEnd = fieldStart + lengthAt(packed, at);
      at = fieldEnd + lengthSize(packed.charCodeAt(fieldEnd)) + lengthAt(packed, fieldEnd);
      yield packed.slice(fieldStart, fieldEnd);
    }
  }

  override *values(): MapIterator<string> {
    if (this.#packed === undefined) {
      yield* super.values();
      return;
    }
    for (const [, value] of this.entries()) yield value;
  }

  override [Symbol.iterator](): MapIterator<[string, string]> {
    return this.entries();
  }

  override forEach(
    callback: (value: string, field: string, map: Map<string, string>) => void,
    thisArg?: unknown,
  ): void {
    for (const [field, value] of this.entries()) callback.call(thisArg, value, field, this);
  }

  /** An independent copy with the same encoding (COPY). */
  copy(): Hash {
    const copy = new Hash();
    if (this.#packed !== undefined) {
      // Strings are immutable: the copy shares the packed bytes until either changes.
      copy.#packed = this.#packed;
      copy.#count = this.#count;
    } else {
      copy.#convert();
      for (const [field, value] of super.entries()) copy.#setInTable(field, value);
    }
    return copy;
  }

  /** Moves the listpack's entries into the Map (hashTypeConvertListpack). */
  #convert(): void {
    const entries = Array.from(this.entries());
    this.#packed = undefined;
    this.#count = 0;
    for (const [field, value] of entries) super.set(field, value);
  }

  #setInTable(field: string, value: string): void {
    super.set(field, value);
  }
}

/** Offset of the entry whose field is `field` in a listpack string, or -1. */
function findField(packed: string, field: string): number {
  const length = field.length;
  const end = packed.length;
  // Most entries have one-char lengths (under 128 bytes): a tight loop for
  // those, comparing the length, then the last byte, before any other byte.
  const last = length === 0 ? -1 : field.charCodeAt(length - 1);
  let at = 0;
  while (at < end) {
    const tag = packed.charCodeAt(at);
    if (tag >= 0x80) return findFieldFrom(packed, field, at);
    if (
      tag === length &&
      (length === 0 ||
        (packed.charCodeAt(at + length) === last && packed.startsWith(field, at + 1)))
    ) {
      return at;
    }
    const valueAt = at + 1 + tag;
    const valueTag = packed.charCodeAt(valueAt);
    if (valueTag >= 0x80) return findFieldFrom(packed, field, at);
    at = valueAt + 1 + valueTag;
  }
  return -1;
}

/** `findField` from the entry at `at` on, for entries with lengths of any size. */
function findFieldFrom(packed: string, field: string, at: number): number {
  const length = field.length;
  while (at < packed.length) {
    const fieldStart = at + lengthSize(packed.charCodeAt(at));
    const fieldLength = lengthAt(packed, at);
    if (fieldLength === length && bytesEqual(packed, fieldStart, field)) return at;
    const valueAt = fieldStart + fieldLength;
    at = valueAt + lengthSize(packed.charCodeAt(valueAt)) + lengthAt(packed, valueAt);
  }
  return -1;
}
