/**
 * The Lua table: a faithful port of Lua 5.1's `ltable.c` (array part plus a
 * chained scatter hash with Brent's variation), accelerated by a JS `Map`.
 *
 * Why a port instead of a plain `Map`: two things scripts (and clients reading
 * their replies) can see depend on the exact layout. `pairs`/`next` order,
 * which decides the key order of `cjson.encode` and of replies built by
 * iterating a table, is the order of Lua's node array; and `#t` on a table
 * with holes is the border 5.1's `luaH_getn` finds by binary search over the
 * array part's exact size, which in turn depends on when `rehash` ran. Both
 * come out as in Lua 5.1 (and Redis) only if sizes, main positions, collision
 * moves and `lastfree` behave exactly as there, so they do: the same string
 * hash (`luaS_newlstr`), number hash (`hashnum`), `computesizes`, `resize`.
 *
 * Lookups do not walk Lua's collision chains: a node part of up to
 * SMALL_NODES nodes is scanned (most tables are small, and creating a `Map`
 * per table would dominate building them), a larger one has `#index`
 * mapping every key present in the node part to its node. The chains
 * are still maintained, because insertion order decisions depend on them.
 * Keys that are objects (tables, functions, userdata) hash by a sequence
 * number standing in for their address; real Lua orders those by address,
 * which is not reproducible either.
 *
 * The array part is a plain JS array whose length is Lua's `sizearray`;
 * `nil` is `undefined`. Its fields are public because the runtime's hot paths
 * (`t[i]` in compiled code) read them directly.
 *
 * @module
 */

import type { LuaValue } from "./values.ts";

const MAXBITS = 26;
/** Node parts up to this size are searched by scanning instead of through a Map. */
const SMALL_NODES = 8;
const EMPTY_VALUES: LuaValue[] = [];
const EMPTY_LINKS: number[] = [];

/** A packed array of `size` copies of `value` (cheaper to create than a typed or holey array). */
function filled<T>(size: number, value: T): T[] {
  // Literals for the small sizes (cloned from a boilerplate, the cheapest allocation).
  switch (size) {
    case 1:
      return [value];
    case 2:
      return [value, value];
    case 4:
      return [value, value, value, value];
    case 8:
      return [value, value, value, value, value, value, value, value];
  }
  const array: T[] = [];
  for (let index = 0; index < size; index++) array.push(value);
  return array;
}
const COUNTS = new Array<number>(MAXBITS + 1).fill(0);

/** A node-part layout reproduced by {@link LuaTable.fromEntries}. */
interface Layout {
  keys: LuaValue[];
  next: number[];
  lastFree: number;
  logNodeSize: number;
  positions: number[];
}

const layouts = new Map<string, Layout>();
const MAXASIZE = 1 << MAXBITS;

const scratchFloat = new Float64Array(1);
const scratchWords = new Uint32Array(scratchFloat.buffer);

let nextObjectId = 1;
const objectIds = new WeakMap<object, number>();

/** A stable pseudo-address for an object: hashing and `tostring` use it. */
export function objectId(value: object): number {
  if (value instanceof LuaTable) return value.id;
  let id = objectIds.get(value);
  if (id === undefined) {
    id = nextObjectId++;
    objectIds.set(value, id);
  }
  return id;
}

/** Lua 5.1's string hash (`luaS_newlstr`), on a binary string. */
export function stringHash(text: string): number {
  const length = text.length;
  let hash = length >>> 0;
  const step = (length >> 5) + 1;
  for (let index = length; index >= step; index -= step) {
    hash = (hash ^ ((hash << 5) + (hash >>> 2) + text.charCodeAt(index - 1))) >>> 0;
  }
  return hash;
}

function ceilLog2(value: number): number {
  // Smallest l with 2^l >= value, for value >= 1.
  let log = 0;
  let power = 1;
  while (power < value) {
    power *= 2;
    log++;
  }
  return log;
}

/** The array index a key stands for (`arrayindex`), or -1. */
function arrayIndex(key: LuaValue): number {
  if (typeof key === "number" && (key | 0) === key) return key;
  return -1;
}

/** A Lua table. `nil` values are `undefined`; keys are never nil or NaN. */
export class LuaTable {
  /** The array part: `array[i - 1]` holds key `i`; its length is `sizearray`. */
  array: LuaValue[];
  /** Node keys (`undefined` = free node, never used since the last resize). */
  nodeKeys: LuaValue[];
  /** Node values (`undefined` with a key = a dead key, kept for `next`). */
  nodeValues: LuaValue[];
  #nodeNext: number[];
  /** `log2` of the node part's size; the empty part counts as size 1, as Lua's dummy node. */
  #logNodeSize = 0;
  #empty = true;
  #lastFree = 0;
  /** Key → node index for every key in the node part. */
  #index: Map<LuaValue, number> | null = null;
  /** The metatable, or null. */
  metatable: LuaTable | null = null;
  /** Sequence number standing in for the table's address. */
  readonly id: number = nextObjectId++;

  #lastNextKey: LuaValue = undefined;
  #lastNextIndex = -1;

  /** A table presized like `lua_createtable(L, arraySize, hashSize)`. */
  constructor(arraySize = 0, hashSize = 0) {
    this.array = arraySize > 0 ? filled<LuaValue>(arraySize, undefined) : EMPTY_VALUES;
    this.nodeKeys = EMPTY_VALUES;
    this.nodeValues = EMPTY_VALUES;
    this.#nodeNext = EMPTY_LINKS;
    if (hashSize > 0) this.#setNodeVector(hashSize);
  }

  /**
   * The table that storing `values` at keys 1..n, in order, into an empty
   * table produces: each rehash doubles the array part, so it ends at the
   * next power of two with an empty node part. The values must not be nil.
   */
  static fromSequence(values: LuaValue[]): LuaTable {
    const table = new LuaTable();
    if (values.length === 0) return table;
    let size = 1;
    while (size < values.length) size *= 2;
    while (values.length < size) values.push(undefined);
    table.array = values;
    return table;
  }

  /**
   * The table that storing `values[i]` at string keys `keys[i]`, in order,
   * into an empty table produces (the keys distinct, the values not nil).
   * The node layout depends only on the key sequence, so it is computed
   * once per sequence (by doing the insertions) and copied afterwards:
   * decoded JSON repeats the same object shape many times.
   */
  static fromEntries(keys: string[], values: LuaValue[]): LuaTable {
    if (keys.length === 0 || keys.length > 64) {
      const table = new LuaTable();
      for (let index = 0; index < keys.length; index++) table.set(keys[index], values[index]);
      return table;
    }
    const signature = keys.join("\0");
    let layout = layouts.get(signature);
    if (layout === undefined) {
      const model = new LuaTable();
      for (const key of keys) model.set(key, true);
      layout = {
        keys: model.nodeKeys,
        next: model.#nodeNext,
        lastFree: model.#lastFree,
        logNodeSize: model.#logNodeSize,
        positions: keys.map((key) => model.#find(key)),
      };
      if (layouts.size >= 256) layouts.clear();
      layouts.set(signature, layout);
    }
    const table = new LuaTable();
    const nodes = layout.keys.length;
    table.nodeKeys = layout.keys.slice();
    table.#nodeNext = layout.next.slice();
    const nodeValues = filled<LuaValue>(nodes, undefined);
    for (let index = 0; index < keys.length; index++) {
      nodeValues[layout.positions[index]!] = values[index];
    }
    table.nodeValues = nodeValues;
    table.#lastFree = layout.lastFree;
    table.#logNodeSize = layout.logNodeSize;
    table.#empty = false;
    if (nodes > SMALL_NODES) {
      const index = new Map<LuaValue, number>();
      for (let position = 0; position < keys.length; position++) {
        index.set(keys[position], layout.positions[position]!);
      }
      table.#index = index;
    }
    return table;
  }

  /** Raw read (`rawget`). */
  get(key: LuaValue): LuaValue {
    if (typeof key === "number") {
      const slot = key - 1;
      if (slot >= 0 && slot < this.array.length && (slot | 0) === slot) return this.array[slot];
    }
    const node = this.#find(key);
    return node < 0 ? undefined : this.nodeValues[node];
  }

  /** Raw read of a string key. */
  getString(key: string): LuaValue {
    const node = this.#find(key);
    return node < 0 ? undefined : this.nodeValues[node];
  }

  /** Raw read of an integer key (`luaH_getnum`). */
  getInteger(key: number): LuaValue {
    const slot = key - 1;
    if (slot >= 0 && slot < this.array.length) return this.array[slot];
    const node = this.#find(key);
    return node < 0 ? undefined : this.nodeValues[node];
  }

  /**
   * Raw write (`rawset`). The caller has checked that the key is neither nil
   * nor NaN. Assigning nil to an absent key creates a dead node, as in Lua.
   */
  set(key: LuaValue, value: LuaValue): void {
    if (typeof key === "number") {
      const slot = key - 1;
      if (slot >= 0 && slot < this.array.length && (slot | 0) === slot) {
        this.array[slot] = value;
        return;
      }
    }
    const node = this.#find(key);
    if (node >= 0) {
      this.nodeValues[node] = value;
      return;
    }
    this.#storeNew(key, value);
  }

  /** Raw write of an integer key (`luaH_setnum`). */
  setInteger(key: number, value: LuaValue): void {
    const slot = key - 1;
    if (slot >= 0 && slot < this.array.length) {
      this.array[slot] = value;
      return;
    }
    this.set(key, value);
  }

  /** Whether a raw read of `key` finds a slot (even one holding nil). */
  hasSlot(key: LuaValue): boolean {
    if (typeof key === "number") {
      const slot = key - 1;
      if (slot >= 0 && slot < this.array.length && (slot | 0) === slot) return true;
    }
    return this.#find(key) >= 0;
  }

  /** The node holding `key`, or -1. */
  #find(key: LuaValue): number {
    const index = this.#index;
    if (index !== null) {
      const node = index.get(key);
      return node === undefined ? -1 : node;
    }
    const keys = this.nodeKeys;
    for (let node = 0; node < keys.length; node++) if (keys[node] === key) return node;
    return -1;
  }

  /** The length operator on the raw table (`luaH_getn`): a border. */
  length(): number {
    const array = this.array;
    let upper = array.length;
    if (upper > 0 && array[upper - 1] === undefined) {
      let lower = 0;
      while (upper - lower > 1) {
        const middle = (lower + upper) >>> 1;
        if (array[middle - 1] === undefined) upper = middle;
        else lower = middle;
      }
      return lower;
    }
    if (this.#empty) return upper;
    return this.#unboundSearch(upper);
  }

  #unboundSearch(start: number): number {
    let lower = start;
    let upper = start + 1;
    while (this.getInteger(upper) !== undefined) {
      lower = upper;
      upper *= 2;
      if (upper > 2147483647) {
        lower = 1;
        while (this.getInteger(lower) !== undefined) lower++;
        return lower - 1;
      }
    }
    while (upper - lower > 1) {
      const middle = Math.floor((lower + upper) / 2);
      if (this.getInteger(middle) === undefined) upper = middle;
      else lower = middle;
    }
    return lower;
  }

  /**
   * `luaH_next`: the entry after `key` (nil for the first), as a key, with
   * the value left in `nextValue`; undefined when the traversal is over.
   * Returns null when `key` is not in the table ("invalid key to 'next'").
   */
  next(key: LuaValue): LuaValue | null {
    let position: number;
    if (key === undefined) position = -1;
    else if (key === this.#lastNextKey && this.#lastNextIndex >= 0) position = this.#lastNextIndex;
    else {
      const index = arrayIndex(key);
      if (index > 0 && index <= this.array.length) position = index - 1;
      else {
        const node = this.#find(key);
        if (node < 0) return null;
        position = node + this.array.length;
      }
    }
    const array = this.array;
    for (position++; position < array.length; position++) {
      const value = array[position];
      if (value !== undefined) {
        this.nextValue = value;
        this.#lastNextKey = position + 1;
        this.#lastNextIndex = position;
        return position + 1;
      }
    }
    const values = this.nodeValues;
    const size = this.#empty ? 0 : values.length;
    for (let node = position - array.length; node < size; node++) {
      const value = values[node];
      if (value !== undefined) {
        const found = this.nodeKeys[node];
        this.nextValue = value;
        this.#lastNextKey = found;
        this.#lastNextIndex = node + array.length;
        return found;
      }
    }
    this.nextValue = undefined;
    return undefined;
  }

  /** The value of the entry `next` returned last. */
  nextValue: LuaValue = undefined;

  /** Resizes the array part (`luaH_resizearray`), as SETLIST does before a bulk store. */
  resizeArray(arraySize: number): void {
    const hashSize = this.#empty ? 0 : this.nodeKeys.length;
    this.#resize(arraySize, hashSize);
  }

  #mainPosition(key: LuaValue): number {
    if (this.#empty) return 0;
    const size = this.nodeKeys.length;
    switch (typeof key) {
      case "string":
        return stringHash(key) & (size - 1);
      case "number": {
        if (key === 0) return 0;
        scratchFloat[0] = key;
        const sum = (scratchWords[0]! + scratchWords[1]!) >>> 0;
        return sum % ((size - 1) | 1);
      }
      case "boolean":
        return (key ? 1 : 0) & (size - 1);
      default:
        return objectId(key as object) % ((size - 1) | 1);
    }
  }

  #setNodeVector(size: number): void {
    this.#lastNextIndex = -1;
    if (size === 0) {
      this.#empty = true;
      this.#logNodeSize = 0;
      this.nodeKeys = EMPTY_VALUES;
      this.nodeValues = EMPTY_VALUES;
      this.#nodeNext = EMPTY_LINKS;
      this.#lastFree = 0;
      this.#index = null;
      return;
    }
    const log = ceilLog2(size);
    if (log > MAXBITS) throw new RangeError("table overflow");
    const nodes = 1 << log;
    this.#empty = false;
    this.#logNodeSize = log;
    this.nodeKeys = filled<LuaValue>(nodes, undefined);
    this.nodeValues = filled<LuaValue>(nodes, undefined);
    this.#nodeNext = filled(nodes, -1);
    this.#lastFree = nodes;
    this.#index = nodes > SMALL_NODES ? new Map() : null;
  }

  #getFreePosition(): number {
    while (this.#lastFree > 0) {
      this.#lastFree--;
      // A free node has never held a key since the last resize; dead keys stay.
      if (this.nodeKeys[this.#lastFree] === undefined) return this.#lastFree;
    }
    return -1;
  }

  /**
   * `newkey`: places a key that is not present and returns its node, or -1
   * when a rehash made it an array key (its slot is then `#pendingArraySlot`).
   */
  #newKey(key: LuaValue): number {
    let main = this.#mainPosition(key);
    if (this.#empty || this.nodeValues[main] !== undefined) {
      const free = this.#empty ? -1 : this.#getFreePosition();
      if (free < 0) {
        this.#rehash(key);
        // Re-insert into the grown table (`luaH_set` again).
        if (typeof key === "number") {
          const slot = key - 1;
          if (slot >= 0 && slot < this.array.length && (slot | 0) === slot) {
            this.#pendingArraySlot = slot;
            return -1;
          }
        }
        const existing = this.#find(key);
        if (existing >= 0) return existing;
        return this.#newKey(key);
      }
      const next = this.#nodeNext;
      const keys = this.nodeKeys;
      const values = this.nodeValues;
      const other = this.#mainPosition(keys[main]);
      if (other !== main) {
        // The colliding node is out of its main position: move it to the free node.
        let previous = other;
        while (next[previous] !== main) previous = next[previous]!;
        next[previous] = free;
        keys[free] = keys[main];
        values[free] = values[main];
        next[free] = next[main]!;
        this.#index?.set(keys[free], free);
        next[main] = -1;
        values[main] = undefined;
      } else {
        // The colliding node is in its own main position: the new key goes free.
        next[free] = next[main]!;
        next[main] = free;
        main = free;
      }
    }
    const old = this.nodeKeys[main];
    const index = this.#index;
    if (index !== null) {
      if (old !== undefined && index.get(old) === main) index.delete(old);
      index.set(key, main);
    }
    this.nodeKeys[main] = key;
    return main;
  }

  /** Set by `#newKey` when a rehash moved the new key's slot into the array part. */
  #pendingArraySlot = -1;

  #rehash(extraKey: LuaValue): void {
    const counts = COUNTS.fill(0);
    let arrayKeys = this.#countArray(counts);
    let total = arrayKeys;
    // numusehash
    const keys = this.nodeKeys;
    const values = this.nodeValues;
    if (!this.#empty) {
      for (let node = keys.length - 1; node >= 0; node--) {
        if (values[node] !== undefined) {
          arrayKeys += countInteger(keys[node], counts);
          total++;
        }
      }
    }
    arrayKeys += countInteger(extraKey, counts);
    total++;
    const sizes = computeSizes(counts, arrayKeys);
    this.#resize(sizes.arraySize, total - sizes.inArray);
  }

  #countArray(counts: number[]): number {
    let used = 0;
    let index = 1;
    const array = this.array;
    for (let log = 0, power = 1; log <= MAXBITS; log++, power *= 2) {
      let inSlice = 0;
      let limit = power;
      if (limit > array.length) {
        limit = array.length;
        if (index > limit) break;
      }
      for (; index <= limit; index++) {
        if (array[index - 1] !== undefined) inSlice++;
      }
      counts[log]! += inSlice;
      used += inSlice;
    }
    return used;
  }

  #resize(arraySize: number, hashSize: number): void {
    const oldArray = this.array;
    const oldKeys = this.nodeKeys;
    const oldValues = this.nodeValues;
    const oldEmpty = this.#empty;
    if (arraySize > oldArray.length) {
      const grown = oldArray.slice();
      for (let slot = oldArray.length; slot < arraySize; slot++) grown.push(undefined);
      this.array = grown;
    }
    this.#setNodeVector(hashSize);
    if (arraySize < oldArray.length) {
      this.array = oldArray.slice(0, arraySize);
      for (let slot = arraySize; slot < oldArray.length; slot++) {
        const value = oldArray[slot];
        if (value !== undefined) this.#rawInsert(slot + 1, value);
      }
    }
    if (!oldEmpty) {
      for (let node = oldKeys.length - 1; node >= 0; node--) {
        const value = oldValues[node];
        if (value !== undefined) this.#rawInsert(oldKeys[node], value);
      }
    }
  }

  /** `luaH_set` + store, used while resizing (the key is known to be absent or in the array). */
  #rawInsert(key: LuaValue, value: LuaValue): void {
    if (typeof key === "number") {
      const slot = key - 1;
      if (slot >= 0 && slot < this.array.length && (slot | 0) === slot) {
        this.array[slot] = value;
        return;
      }
    }
    const existing = this.#find(key);
    if (existing >= 0) {
      this.nodeValues[existing] = value;
      return;
    }
    this.#storeNew(key, value);
  }

  #storeNew(key: LuaValue, value: LuaValue): void {
    this.#pendingArraySlot = -1;
    const node = this.#newKey(key);
    if (node < 0) {
      this.array[this.#pendingArraySlot] = value;
      this.#pendingArraySlot = -1;
    } else this.nodeValues[node] = value;
  }

  /** Number of node slots (for tests and diagnostics). */
  get nodeSize(): number {
    return this.#empty ? 0 : 1 << this.#logNodeSize;
  }
}

function countInteger(key: LuaValue, counts: number[]): number {
  const index = arrayIndex(key);
  if (index > 0 && index <= MAXASIZE) {
    counts[ceilLog2(index)]!++;
    return 1;
  }
  return 0;
}

function computeSizes(counts: number[], arrayKeys: number): { arraySize: number; inArray: number } {
  let below = 0;
  let inArray = 0;
  let optimal = 0;
  for (let log = 0, power = 1; power / 2 < arrayKeys; log++, power *= 2) {
    const count = counts[log]!;
    if (count > 0) {
      below += count;
      if (below > power / 2) {
        optimal = power;
        inArray = below;
      }
    }
    if (below === arrayKeys) break;
  }
  return { arraySize: optimal, inArray };
}
