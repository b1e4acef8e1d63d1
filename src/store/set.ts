/**
 * MemberSet: the value of a set key, in one of Redis 7.0's two encodings.
 *
 * - "intset": while every member is an integer (Redis's string2ll: no
 *   blanks, no `+`, no leading zeros, 64-bit) and there are at most
 *   `set-max-intset-entries` of them, the members are one binary string of
 *   fixed-width integers in ascending order, as Redis's intset: 2, 4 or 8
 *   bytes each, the narrowest that holds every member (a wider member
 *   widens them all, and they never narrow again). Each integer is written
 *   big-endian with its sign bit flipped, so comparing chars compares
 *   numbers and a binary search finds a member. A hundred small integers
 *   cost about 4 bytes each instead of a Set entry and a string apiece.
 * - "hashtable": otherwise, the Set this class extends holds the members.
 *
 * A set converts when a non-integer member or one member too many is added,
 * and never converts back, as in Redis, so OBJECT ENCODING, SSCAN's
 * one-call reply and COPY agree with Redis. An intset iterates in ascending
 * numeric order, as Redis's does (SMEMBERS, SSCAN, SORT without BY).
 *
 * SPOP and SRANDMEMBER need random members: an intset reads one at a random
 * index. A Set cannot give one without walking it, so for a hash table the
 * first random access builds an array of the members, kept for as long as
 * it stays exact: `addMembers` appends to it, `popRandom` removes from it
 * by swapping with the last entry, and any other removal drops it to be
 * rebuilt on the next random access. A work queue fed by SADD and drained
 * by SPOP is thus O(1) per command. Every change to a set goes through
 * these methods, so the array never goes stale unnoticed (the size check in
 * `sample` is a safety net).
 *
 * @module
 */

import { parseInteger } from "../protocol/integers.ts";
import { DEFAULT_ENCODING_LIMITS, type EncodingLimits } from "./encoding_limits.ts";
import { flatten } from "./packed.ts";

/** Redis's default `set-max-intset-entries`. */
export const SET_MAX_INTSET_ENTRIES = DEFAULT_ENCODING_LIMITS.setMaxIntsetEntries;

/** Bytes per member of an intset. */
export type Width = 2 | 4 | 8;

const TWO_POW_32 = 4294967296;

/**
 * A set key's value.
 *
 * @example
 * ```ts
 * const set = new MemberSet();
 * set.addMembers(["3", "1", "2"], 0, client.server.config);
 * [...set]; // ["1", "2", "3"]
 * set.encoding; // "intset"
 * ```
 */
export class MemberSet extends Set<string> {
  /** The intset: members as `#width`-byte integers, ascending; undefined once a hash table. */
  #intset: string | undefined = "";
  #width: Width = 2;
  /** The members as an array for random picks, while it is in step with the set. */
  #sample: string[] | undefined;

  /** A set of `members` (Redis's default limits). */
  constructor(members: Iterable<string> = []) {
    // Set's own constructor would call `add` before the fields exist.
    super();
    for (const member of members) this.add(member);
  }

  /**
   * An empty set about to receive `expected` members: a hash table from the
   * start when that is more than an intset may hold, as Redis's RDB loader
   * creates it (rdbLoadObject), so the members keep the order they come in
   * rather than being sorted into an intset first.
   */
  static expecting(expected: number, limits: EncodingLimits = DEFAULT_ENCODING_LIMITS): MemberSet {
    const set = new MemberSet();
    if (expected > limits.setMaxIntsetEntries) set.#intset = undefined;
    return set;
  }

  /**
   * Bytes per member of the intset (2, 4 or 8: the widest member it has
   * held, as Redis's intset never narrows), or undefined for a hash table.
   */
  get intsetWidth(): Width | undefined {
    return this.#intset === undefined ? undefined : this.#width;
  }

  /** OBJECT ENCODING: "intset" while small and all integers, then "hashtable". */
  get encoding(): "intset" | "hashtable" {
    return this.#intset === undefined ? "hashtable" : "intset";
  }

  override get size(): number {
    const intset = this.#intset;
    return intset === undefined ? super.size : intset.length / this.#width;
  }

  override has(member: string): boolean {
    const intset = this.#intset;
    if (intset === undefined) return super.has(member);
    return this.#indexOf(intset, member) >= 0;
  }

  /** Set's `add`, with Redis's default limits (prefer `addMembers` with the live ones). */
  override add(member: string): this {
    this.#add(member, DEFAULT_ENCODING_LIMITS);
    return this;
  }

  /**
   * Adds `member`; true if it was new. An intset becomes a hash table when
   * Redis's would (setTypeAdd): for a member that is not an integer, or one
   * more than `limits.setMaxIntsetEntries`.
   */
  addMember(member: string, limits: EncodingLimits = DEFAULT_ENCODING_LIMITS): boolean {
    return this.#add(member, limits);
  }

  /** Adds `members[from..]`; returns how many were new. */
  addMembers(
    members: readonly string[],
    from = 0,
    limits: EncodingLimits = DEFAULT_ENCODING_LIMITS,
  ): number {
    if (this.#intset !== undefined && members.length - from > 1) {
      const added = this.#mergeIntegers(members, from, limits);
      if (added !== undefined) return added;
    }
    let added = 0;
    for (let i = from; i < members.length; i++) if (this.#add(members[i]!, limits)) added++;
    return added;
  }

  /** Removes `member`; true if it was there. */
  removeMember(member: string): boolean {
    return this.delete(member);
  }

  override delete(member: string): boolean {
    const intset = this.#intset;
    if (intset === undefined) {
      if (!super.delete(member)) return false;
      this.#sample = undefined;
      return true;
    }
    const index = this.#indexOf(intset, member);
    if (index < 0) return false;
    this.#removeAt(intset, index);
    return true;
  }

  override clear(): void {
    if (this.#intset === undefined) super.clear();
    else this.#intset = "";
    this.#sample = undefined;
  }

  /** A uniformly random member of a non-empty set. */
  randomMember(): string {
    const intset = this.#intset;
    if (intset !== undefined) {
      return memberAt(intset, Math.floor(Math.random() * this.size), this.#width);
    }
    const members = this.sample();
    return members[Math.floor(Math.random() * members.length)]!;
  }

  /** Removes a random member of a non-empty set and returns it. */
  popRandom(): string {
    const intset = this.#intset;
    if (intset !== undefined) {
      const index = Math.floor(Math.random() * this.size);
      const member = memberAt(intset, index, this.#width);
      this.#removeAt(intset, index);
      return member;
    }
    this.sample();
    const members = this.#sample!;
    const index = Math.floor(Math.random() * members.length);
    const member = members[index]!;
    members[index] = members[members.length - 1]!;
    members.pop();
    super.delete(member);
    return member;
  }

  /**
   * The members as an array (do not modify it): kept in step with a hash
   * table for further random picks, made afresh for an intset.
   */
  sample(): readonly string[] {
    if (this.#intset !== undefined) return Array.from(this.values());
    let members = this.#sample;
    if (members === undefined || members.length !== super.size) {
      members = this.#sample = Array.from(super.values());
    }
    return members;
  }

  override *values(): SetIterator<string> {
    const intset = this.#intset;
    if (intset === undefined) {
      yield* super.values();
      return;
    }
    const width = this.#width;
    for (let at = 0; at < intset.length; at += width) yield memberAt(intset, at / width, width);
  }

  override keys(): SetIterator<string> {
    return this.values();
  }

  override *entries(): SetIterator<[string, string]> {
    for (const member of this.values()) yield [member, member];
  }

  override [Symbol.iterator](): SetIterator<string> {
    return this.values();
  }

  override forEach(
    callback: (value: string, key: string, set: Set<string>) => void,
    thisArg?: unknown,
  ): void {
    for (const member of this.values()) callback.call(thisArg, member, member, this);
  }

  /** An independent copy with the same encoding (COPY). */
  copy(): MemberSet {
    const copy = new MemberSet();
    if (this.#intset !== undefined) {
      // Strings are immutable: the copy shares the intset until either changes.
      copy.#intset = this.#intset;
      copy.#width = this.#width;
    } else {
      copy.#intset = undefined;
      for (const member of super.values()) copy.#addToTable(member);
    }
    return copy;
  }

  /** setTypeAdd: adds `member`, converting first or afterwards as Redis does. */
  #add(member: string, limits: EncodingLimits): boolean {
    const intset = this.#intset;
    if (intset !== undefined) {
      const value = parseInteger(member);
      if (value !== undefined) {
        const exact = Number.isSafeInteger(value) ? undefined : BigInt(member);
        const width = exact === undefined ? widthOf(value) : 8;
        let added = true;
        if (width > this.#width) {
          this.#widen(intset, width, value, exact);
        } else {
          const found = search(intset, this.#width, value, exact);
          if (found >= 0) added = false;
          else {
            const at = -(found + 1) * this.#width;
            const chars = encode(value, exact, this.#width);
            this.#intset = flatten(intset.slice(0, at) + chars + intset.slice(at));
          }
        }
        if (added && this.size > limits.setMaxIntsetEntries) this.#convert();
        return added;
      }
      this.#convert();
    }
    const size = super.size;
    super.add(member);
    if (super.size === size) return false;
    this.#sample?.push(member);
    return true;
  }

  /**
   * Adds `members[from..]` to the intset with one re-encoding instead of one
   * per member, which for a 100-member SADD is a hundred fewer strings to
   * collect. Only when the outcome is the one adding them in turn would
   * have: all are safe integers and the set stays an intset; otherwise
   * nothing is done and the result is undefined.
   */
  #mergeIntegers(
    members: readonly string[],
    from: number,
    limits: EncodingLimits,
  ): number | undefined {
    const intset = this.#intset!;
    const oldWidth = this.#width;
    const size = intset.length / oldWidth;
    const values: number[] = [];
    let width = oldWidth;
    for (let i = from; i < members.length; i++) {
      const value = parseInteger(members[i]!);
      if (value === undefined || !Number.isSafeInteger(value)) return undefined;
      const needed = widthOf(value);
      if (needed > width) width = needed;
      values.push(value);
    }
    for (let index = 0; index < size; index++) {
      const value = numberAt(intset, index, oldWidth);
      if (!Number.isSafeInteger(value)) return undefined;
      values.push(value);
    }
    values.sort((a, b) => a - b);
    const parts: string[] = [];
    for (let i = 0; i < values.length; i++) {
      if (i === 0 || values[i] !== values[i - 1]) parts.push(encode(values[i]!, undefined, width));
    }
    if (parts.length > limits.setMaxIntsetEntries) return undefined;
    this.#width = width;
    this.#intset = flatten(parts.join(""));
    return parts.length - size;
  }

  #addToTable(member: string): void {
    super.add(member);
  }

  /**
   * Re-encodes every member at `width` and adds `value`, which is out of
   * the old width's range, so it goes first or last (intsetUpgradeAndAdd).
   */
  #widen(intset: string, width: Width, value: number, exact: bigint | undefined): void {
    const old = this.#width;
    const parts: string[] = [];
    // Members of a narrower intset are within 32 bits, so safe integers.
    for (let index = 0; index < intset.length / old; index++) {
      parts.push(encode(decode(intset, index, old), undefined, width));
    }
    const chars = encode(value, exact, width);
    if (value < 0) parts.unshift(chars);
    else parts.push(chars);
    this.#width = width;
    this.#intset = flatten(parts.join(""));
  }

  #removeAt(intset: string, index: number): void {
    const at = index * this.#width;
    this.#intset = flatten(intset.slice(0, at) + intset.slice(at + this.#width));
  }

  /** Index of `member` in the intset, or -1 (also for a non-integer or a too wide one). */
  #indexOf(intset: string, member: string): number {
    const value = parseInteger(member);
    if (value === undefined) return -1;
    const exact = Number.isSafeInteger(value) ? undefined : BigInt(member);
    if ((exact === undefined ? widthOf(value) : 8) > this.#width) return -1;
    const found = search(intset, this.#width, value, exact);
    return found < 0 ? -1 : found;
  }

  /** setTypeConvert: moves the members into the Set, for good. */
  #convert(): void {
    const members = Array.from(this.values());
    this.#intset = undefined;
    for (const member of members) super.add(member);
  }
}

/** The narrowest width that holds the safe integer `value`. */
function widthOf(value: number): Width {
  if (value >= -32768 && value <= 32767) return 2;
  return value >= -2147483648 && value <= 2147483647 ? 4 : 8;
}

/**
 * `value` as `width` chars: big-endian two's complement with the sign bit
 * flipped. `exact` is the value when it is beyond 2^53 (then width is 8).
 */
function encode(value: number, exact: bigint | undefined, width: Width): string {
  if (width === 2) {
    const biased = value + 0x8000;
    return String.fromCharCode(biased >> 8, biased & 0xff);
  }
  if (width === 4) return quad((value ^ 0x80000000) >>> 0);
  let high: number;
  let low: number;
  if (exact === undefined) {
    high = Math.floor(value / TWO_POW_32);
    low = value - high * TWO_POW_32;
  } else {
    const bits = BigInt.asUintN(64, exact);
    high = Number(bits >> 32n) | 0;
    low = Number(bits & 0xffffffffn);
  }
  return quad((high ^ 0x80000000) >>> 0) + quad(low);
}

/** 4 chars, big-endian, of an unsigned 32-bit value. */
function quad(value: number): string {
  return String.fromCharCode(
    value >>> 24,
    (value >>> 16) & 0xff,
    (value >>> 8) & 0xff,
    value & 0xff,
  );
}

/** The member at `index` of an intset of width 2 or 4. */
function decode(intset: string, index: number, width: Width): number {
  const at = index * width;
  const first = intset.charCodeAt(at) ^ 0x80;
  if (width === 2) return ((first << 24) >> 16) | intset.charCodeAt(at + 1);
  return (first << 24) | (intset.charCodeAt(at + 1) << 16) | (intset.charCodeAt(at + 2) << 8) |
    intset.charCodeAt(at + 3);
}

/** The unsigned low 32 bits of the 8-char member at `index`. */
function decodeLow(intset: string, index: number): number {
  const at = index * 8 + 4;
  return ((intset.charCodeAt(at) << 24) | (intset.charCodeAt(at + 1) << 16) |
    (intset.charCodeAt(at + 2) << 8) | intset.charCodeAt(at + 3)) >>> 0;
}

/**
 * Binary search of an intset of `width` for `value` (`exact` when beyond
 * 2^53; the value must fit the width): its index, or -(insertion point) - 1.
 */
function search(intset: string, width: Width, value: number, exact: bigint | undefined): number {
  let low = 0;
  let high = intset.length / width - 1;
  if (width !== 8) {
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const member = decode(intset, mid, width);
      if (member < value) low = mid + 1;
      else if (member > value) high = mid - 1;
      else return mid;
    }
    return -(low + 1);
  }
  // 64-bit members compare by their signed high half, then the unsigned low one.
  let valueHigh: number;
  let valueLow: number;
  if (exact === undefined) {
    valueHigh = Math.floor(value / TWO_POW_32);
    valueLow = value - valueHigh * TWO_POW_32;
  } else {
    valueHigh = Number(BigInt.asIntN(64, exact) >> 32n);
    valueLow = Number(exact & 0xffffffffn);
  }
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const memberHigh = decode8High(intset, mid);
    let order = memberHigh - valueHigh;
    if (order === 0) order = decodeLow(intset, mid) - valueLow;
    if (order < 0) low = mid + 1;
    else if (order > 0) high = mid - 1;
    else return mid;
  }
  return -(low + 1);
}

/** The member at `index` of an intset of `width`, as decimal text. */
function memberAt(intset: string, index: number, width: Width): string {
  const value = numberAt(intset, index, width);
  if (Number.isSafeInteger(value)) return String(value);
  return String((BigInt(decode8High(intset, index)) << 32n) | BigInt(decodeLow(intset, index)));
}

/** The member at `index` as a number: exact unless beyond 2^53 (width 8 only). */
function numberAt(intset: string, index: number, width: Width): number {
  if (width !== 8) return decode(intset, index, width);
  return decode8High(intset, index) * TWO_POW_32 + decodeLow(intset, index);
}

/** The signed high 32 bits of the 8-char member at `index`. */
function decode8High(intset: string, index: number): number {
  const at = index * 8;
  return ((intset.charCodeAt(at) ^ 0x80) << 24) | (intset.charCodeAt(at + 1) << 16) |
    (intset.charCodeAt(at + 2) << 8) | intset.charCodeAt(at + 3);
}
