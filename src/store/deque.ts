/**
 * Deque: the list type's storage, a quicklist of packed nodes as Redis's.
 *
 * A list is a sequence of nodes, each one binary string holding up to
 * `list-max-listpack-size` entries (by default 8 KB of them), every entry
 * written as its length, its bytes and its length again (store/packed.ts),
 * the way a quicklist node is a listpack whose entries carry back-lengths.
 * An element then costs its bytes plus 2, where a string of its own in an
 * array slot costs 24 more; Redis's own figure is its bytes plus 2 too.
 *
 * What that costs in time, and why it stays cheap:
 *
 * - Pushes and pops touch only the ends. A push goes into a small array of
 *   values pending at that end; once they are an eighth of the list or
 *   `MAX_PENDING`, before anything but a pop at that end reads the list,
 *   or at the end of a push command of several values (`settle`), they are
 *   packed into the end node (a copy of it), so packing a full 8 KB node
 *   is paid once per 128 pushes and a list never costs more than a quarter
 *   above its bytes. A pop takes a pending value if there is one, else
 *   reads the first or last entry of the end node (the back-length finds
 *   the last without a scan) and keeps the rest of the node as a slice of
 *   it, which V8 makes without copying. (Strings concatenated one push at a
 *   time would be ropes, whose pieces survive into the old generation and
 *   are slow to read; copying the node on every push would cost a
 *   microsecond per LPUSH: the array avoids both.)
 * - Index access (LINDEX, LSET, LRANGE's start) walks the nodes from the
 *   nearer end and then the node's entries from its nearer end, as Redis's
 *   quicklist does: O(nodes + node size). The position last found is kept,
 *   so reading element i and then i + 1 does not walk again: walking a list
 *   by index (DEBUG DIGEST, MEMORY USAGE) stays linear.
 * - Inserting or removing in the middle rebuilds one node (O(node size));
 *   an insert that overfills a node splits it in two.
 *
 * OBJECT ENCODING is always "quicklist" for lists in Redis 7.0; the node
 * sizes only decide how memory is spent, never what a client sees.
 *
 * The type parameter is kept so `Deque<string>` reads as the list of
 * strings it is; elements are binary strings.
 *
 * @module
 */

import { DEFAULT_ENCODING_LIMITS, type EncodingLimits } from "./encoding_limits.ts";
import {
  flatten,
  lengthAt,
  lengthBefore,
  lengthBytes,
  lengthPrefix,
  lengthSize,
  lengthSuffix,
} from "./packed.ts";

/**
 * Values that may be pending at one end: at most an eighth of the list (a
 * pending value costs its string and an array slot, about twice what it
 * costs packed, so at most a quarter more memory) and at most this many,
 * so a push into a full 8 KB node pays for a 128th of a copy of it.
 */
const MAX_PENDING = 128;

/** Node byte budgets of `list-max-listpack-size` -1 to -5 (Redis's optimization_level). */
const NODE_BYTES = [4096, 8192, 16384, 32768, 65536];
/** A node of a positive (count) fill still stays within this (SIZE_SAFETY_LIMIT). */
const SAFETY_BYTES = 8192;

/**
 * A list key's value.
 *
 * @example
 * ```ts
 * const list = new Deque<string>();
 * list.pushBack("b", client.server.config);
 * list.pushFront("a");
 * list.settle();
 * list.toArray(); // ["a", "b"]
 * ```
 */
export class Deque<T extends string = string> {
  /** The nodes, head first, each a packed string of entries. */
  #nodes: string[] = [];
  /** Entries in each node. */
  #counts: number[] = [];
  #length = 0;
  /** Values pushed at the head and not packed yet, the head last. */
  #headPending: string[] | undefined;
  /** Values pushed at the tail and not packed yet, the tail last. */
  #tailPending: string[] | undefined;
  /** `list-max-listpack-size` as the last push gave it, for packing. */
  #fill = DEFAULT_ENCODING_LIMITS.listMaxListpackSize;
  /** The node `at` found last and the list index of its first entry (-1: none). */
  #foundNode = -1;
  #foundFirst = 0;
  /** Within that node: the entry `at` returned last and its offset. */
  #foundEntry = 0;
  #foundOffset = 0;

  /** A list of `items`, in nodes of `limits.listMaxListpackSize`. */
  constructor(items: Iterable<T> = [], limits: EncodingLimits = DEFAULT_ENCODING_LIMITS) {
    for (const item of items) this.pushBack(item, limits);
    this.settle();
  }

  get length(): number {
    return this.#length;
  }

  /** Element at `index` (0 is the head), undefined when out of range. */
  at(index: number): T | undefined {
    if (!(index >= 0 && index < this.#length)) return undefined;
    this.settle();
    const at = this.#offsetOf(Math.floor(index));
    const node = this.#nodes[this.#foundNode]!;
    const start = at + lengthSize(node.charCodeAt(at));
    return node.slice(start, start + lengthAt(node, at)) as T;
  }

  /** Replaces the element at `index`, which must be in range. */
  set(index: number, value: T): void {
    this.settle();
    const at = this.#offsetOf(index);
    const nodeIndex = this.#foundNode;
    const node = this.#nodes[nodeIndex]!;
    this.#nodes[nodeIndex] = flatten(
      node.slice(0, at) + entry(value) + node.slice(entryEnd(node, at)),
    );
    this.#forget();
  }

  /** Adds `value` before the head. */
  pushFront(value: T, limits: EncodingLimits = DEFAULT_ENCODING_LIMITS): void {
    this.#fill = limits.listMaxListpackSize;
    const pending = this.#headPending ??= [];
    pending.push(value);
    this.#length++;
    this.#forget();
    if (pending.length >= MAX_PENDING || pending.length * 8 > this.#length) this.#pack(true);
  }

  /** Adds `value` after the tail. */
  pushBack(value: T, limits: EncodingLimits = DEFAULT_ENCODING_LIMITS): void {
    this.#fill = limits.listMaxListpackSize;
    const pending = this.#tailPending ??= [];
    pending.push(value);
    this.#length++;
    this.#forget();
    if (pending.length >= MAX_PENDING || pending.length * 8 > this.#length) this.#pack(false);
  }

  /** Packs the pending values into the nodes, before anything reads them there. */
  settle(): void {
    if (this.#headPending !== undefined) this.#pack(true);
    if (this.#tailPending !== undefined) this.#pack(false);
  }

  popFront(): T | undefined {
    if (this.#length === 0) return undefined;
    this.#length--;
    this.#forget();
    const head = this.#headPending;
    if (head !== undefined) {
      const value = head.pop()!;
      if (head.length === 0) this.#headPending = undefined;
      return value as T;
    }
    if (this.#nodes.length === 0) {
      const tail = this.#tailPending!;
      const value = tail.shift()!;
      if (tail.length === 0) this.#tailPending = undefined;
      return value as T;
    }
    const node = this.#nodes[0]!;
    const length = lengthAt(node, 0);
    const start = lengthSize(node.charCodeAt(0));
    const value = node.slice(start, start + length);
    if (this.#counts[0] === 1) {
      this.#nodes.shift();
      this.#counts.shift();
    } else {
      // A slice shares the node's bytes: no copy per pop.
      this.#nodes[0] = node.slice(start + length + lengthBytes(length));
      this.#counts[0]!--;
    }
    return value as T;
  }

  popBack(): T | undefined {
    if (this.#length === 0) return undefined;
    this.#length--;
    this.#forget();
    const tail = this.#tailPending;
    if (tail !== undefined) {
      const value = tail.pop()!;
      if (tail.length === 0) this.#tailPending = undefined;
      return value as T;
    }
    const last = this.#nodes.length - 1;
    if (last < 0) {
      const head = this.#headPending!;
      const value = head.shift()!;
      if (head.length === 0) this.#headPending = undefined;
      return value as T;
    }
    const node = this.#nodes[last]!;
    const length = lengthBefore(node, node.length);
    const end = node.length - lengthBytes(length);
    const value = node.slice(end - length, end);
    if (this.#counts[last] === 1) {
      this.#nodes.pop();
      this.#counts.pop();
    } else {
      this.#nodes[last] = node.slice(0, end - length - lengthBytes(length));
      this.#counts[last]!--;
    }
    return value as T;
  }

  /** Elements from `start` to `stop` inclusive (already clamped to the range). */
  slice(start: number, stop: number): T[] {
    const out: T[] = [];
    this.visit(start, stop, (source, from, to) => {
      out.push(source.slice(from, to) as T);
    });
    return out;
  }

  /**
   * Hands elements `start` to `stop` inclusive (already clamped) to
   * `visitor` in order, as the packed string holding each and its bounds,
   * so a reply can copy the bytes without a string made per element.
   */
  visit(start: number, stop: number, visitor: (source: string, from: number, to: number) => void) {
    if (start > stop || start >= this.#length) return;
    this.settle();
    let at = this.#offsetOf(start);
    let nodeIndex = this.#foundNode;
    let left = this.#counts[nodeIndex]! - (start - this.#foundFirst);
    const nodes = this.#nodes;
    let node = nodes[nodeIndex]!;
    for (let i = start; i <= stop; i++) {
      if (left === 0) {
        node = nodes[++nodeIndex]!;
        left = this.#counts[nodeIndex]!;
        at = 0;
      }
      const tag = node.charCodeAt(at);
      const length = tag < 0x80 ? tag : lengthAt(node, at);
      const from = at + (tag < 0x80 ? 1 : lengthSize(tag));
      visitor(node, from, from + length);
      at = from + length + lengthBytes(length);
      left--;
    }
  }

  /**
   * Inserts `value` before position `index` (0..length). An insert that
   * overfills its node splits it, so nodes stay within their budget.
   */
  insert(index: number, value: T, limits: EncodingLimits = DEFAULT_ENCODING_LIMITS): void {
    if (index <= 0) return this.pushFront(value, limits);
    if (index >= this.#length) return this.pushBack(value, limits);
    this.settle();
    const at = this.#offsetOf(index);
    const nodeIndex = this.#foundNode;
    const node = this.#nodes[nodeIndex]!;
    const packed = entry(value);
    const count = this.#counts[nodeIndex]!;
    const grown = flatten(node.slice(0, at) + packed + node.slice(at));
    this.#length++;
    this.#forget();
    if (count < 2 || fits(node.length, count, packed.length, limits.listMaxListpackSize)) {
      this.#nodes[nodeIndex] = grown;
      this.#counts[nodeIndex] = count + 1;
      return;
    }
    // _quicklistSplitNode: two halves, each within the budget again.
    const half = (count + 1) >> 1;
    let middle = 0;
    for (let i = 0; i < half; i++) middle = entryEnd(grown, middle);
    this.#nodes.splice(nodeIndex, 1, grown.slice(0, middle), grown.slice(middle));
    this.#counts.splice(nodeIndex, 1, half, count + 1 - half);
  }

  /** Removes the element at `index`, which must be in range. */
  removeAt(index: number): void {
    this.settle();
    const at = this.#offsetOf(index);
    const nodeIndex = this.#foundNode;
    this.#forget();
    this.#length--;
    if (this.#counts[nodeIndex] === 1) {
      this.#nodes.splice(nodeIndex, 1);
      this.#counts.splice(nodeIndex, 1);
      return;
    }
    const node = this.#nodes[nodeIndex]!;
    this.#nodes[nodeIndex] = flatten(node.slice(0, at) + node.slice(entryEnd(node, at)));
    this.#counts[nodeIndex]!--;
  }

  /** Keeps only the elements for which `keep` returns true, in order. */
  retain(keep: (value: T, index: number) => boolean): void {
    this.settle();
    const nodes: string[] = [];
    const counts: number[] = [];
    let index = 0;
    for (const node of this.#nodes) {
      let kept = "";
      let count = 0;
      let removed = false;
      for (let at = 0; at < node.length;) {
        const end = entryEnd(node, at);
        const start = at + lengthSize(node.charCodeAt(at));
        if (keep(node.slice(start, start + lengthAt(node, at)) as T, index++)) {
          kept += node.slice(at, end);
          count++;
        } else {
          removed = true;
        }
        at = end;
      }
      if (count === 0) continue;
      nodes.push(removed ? flatten(kept) : node);
      counts.push(count);
    }
    this.#nodes = nodes;
    this.#counts = counts;
    this.#length = counts.reduce((sum, count) => sum + count, 0);
    this.#forget();
  }

  /** Keeps the elements from `start` to `stop` inclusive (LTRIM). */
  trim(start: number, stop: number): void {
    this.settle();
    if (start > stop || start >= this.#length) {
      this.#nodes = [];
      this.#counts = [];
      this.#length = 0;
      this.#headPending = this.#tailPending = undefined;
      this.#forget();
      return;
    }
    const removeBack = this.#length - 1 - Math.min(stop, this.#length - 1);
    let removeFront = Math.max(0, start);
    const nodes = this.#nodes;
    const counts = this.#counts;
    while (removeFront > 0 && removeFront >= counts[0]!) {
      removeFront -= counts[0]!;
      this.#length -= counts[0]!;
      nodes.shift();
      counts.shift();
    }
    if (removeFront > 0) {
      let at = 0;
      for (let i = 0; i < removeFront; i++) at = entryEnd(nodes[0]!, at);
      nodes[0] = nodes[0]!.slice(at);
      counts[0]! -= removeFront;
      this.#length -= removeFront;
    }
    let back = removeBack;
    while (back > 0 && back >= counts[counts.length - 1]!) {
      back -= counts[counts.length - 1]!;
      this.#length -= counts[counts.length - 1]!;
      nodes.pop();
      counts.pop();
    }
    if (back > 0) {
      const last = nodes.length - 1;
      const node = nodes[last]!;
      let end = node.length;
      for (let i = 0; i < back; i++) end = entryStartBefore(node, end);
      nodes[last] = node.slice(0, end);
      counts[last]! -= back;
      this.#length -= back;
    }
    this.#forget();
  }

  *[Symbol.iterator](): IterableIterator<T> {
    this.settle();
    for (const node of this.#nodes) {
      for (let at = 0; at < node.length;) {
        const start = at + lengthSize(node.charCodeAt(at));
        const end = start + lengthAt(node, at);
        at = end + lengthBytes(end - start);
        yield node.slice(start, end) as T;
      }
    }
  }

  /** The elements from the tail to the head. */
  *reversed(): IterableIterator<T> {
    this.settle();
    const nodes = this.#nodes;
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i]!;
      for (let end = node.length; end > 0;) {
        const length = lengthBefore(node, end);
        const valueEnd = end - lengthBytes(length);
        end = valueEnd - length - lengthBytes(length);
        yield node.slice(valueEnd - length, valueEnd) as T;
      }
    }
  }

  toArray(): T[] {
    return Array.from(this);
  }

  /** An independent copy (COPY); nodes are immutable strings, so it shares them. */
  copy(): Deque<T> {
    this.settle();
    const copy = new Deque<T>();
    copy.#nodes = this.#nodes.slice();
    copy.#counts = this.#counts.slice();
    copy.#length = this.#length;
    return copy;
  }

  /**
   * Packs the values pending at one end into that end's node, or into new
   * nodes beyond it once it is full, each node flattened in one copy.
   */
  #pack(atHead: boolean): void {
    const pending = (atHead ? this.#headPending : this.#tailPending)!;
    if (atHead) this.#headPending = undefined;
    else this.#tailPending = undefined;
    const fill = this.#fill;
    let replacing = this.#nodes.length > 0;
    const endNode = atHead ? 0 : this.#nodes.length - 1;
    let node = replacing ? this.#nodes[endNode]! : "";
    let count = replacing ? this.#counts[endNode]! : 0;
    let bytes = node.length;
    // The oldest pending values sit next to the end node: they go in first.
    let from = 0;
    for (let i = 0; i < pending.length; i++) {
      const size = entrySize(pending[i]!);
      if (count > 0 && !fits(bytes, count, size, fill)) {
        this.#storeEnd(atHead, node, pending, from, i, count, replacing);
        replacing = false;
        node = "";
        count = 0;
        bytes = 0;
        from = i;
      }
      bytes += size;
      count++;
    }
    this.#storeEnd(atHead, node, pending, from, pending.length, count, replacing);
  }

  /** Stores `node` joined with `pending[from..to]` as the node at one end. */
  #storeEnd(
    atHead: boolean,
    node: string,
    pending: readonly string[],
    from: number,
    to: number,
    count: number,
    replacing: boolean,
  ): void {
    if (atHead) this.#storeHead(joinBefore(pending, from, to, node), count, replacing);
    else this.#storeTail(joinAfter(node, pending, from, to), count, replacing);
  }

  /** Stores a packed head node: over the old head (`replacing`), or before it. */
  #storeHead(flat: string, count: number, replacing: boolean): void {
    if (replacing) {
      this.#nodes[0] = flat;
      this.#counts[0] = count;
    } else if (this.#nodes.length === 0) {
      // Most lists have one node: arrays of one slot, where a grown one holds 17.
      this.#nodes = [flat];
      this.#counts = [count];
    } else {
      this.#nodes.unshift(flat);
      this.#counts.unshift(count);
    }
  }

  /** Stores a packed tail node: over the old tail (`replacing`), or after it. */
  #storeTail(flat: string, count: number, replacing: boolean): void {
    if (replacing) {
      this.#nodes[this.#nodes.length - 1] = flat;
      this.#counts[this.#counts.length - 1] = count;
    } else if (this.#nodes.length === 0) {
      this.#nodes = [flat];
      this.#counts = [count];
    } else {
      this.#nodes.push(flat);
      this.#counts.push(count);
    }
  }

  /** Drops the remembered position: the nodes changed. */
  #forget(): void {
    this.#foundNode = -1;
  }

  /**
   * Offset of element `index` (in range) within its node, leaving the node
   * in `#foundNode` and its first element's index in `#foundFirst`.
   */
  #offsetOf(index: number): number {
    const counts = this.#counts;
    let nodeIndex = this.#foundNode;
    let first = this.#foundFirst;
    if (nodeIndex >= 0 && index >= first) {
      // Onwards from the node found last (sequential access).
      while (index >= first + counts[nodeIndex]!) first += counts[nodeIndex++]!;
    } else if (index < this.#length / 2) {
      nodeIndex = 0;
      first = 0;
      while (index >= first + counts[nodeIndex]!) first += counts[nodeIndex++]!;
    } else {
      nodeIndex = counts.length - 1;
      first = this.#length - counts[nodeIndex]!;
      while (index < first) first -= counts[--nodeIndex]!;
    }
    const node = this.#nodes[nodeIndex]!;
    const local = index - first;
    const count = counts[nodeIndex]!;
    let at: number;
    if (nodeIndex === this.#foundNode && local >= this.#foundEntry) {
      at = this.#foundOffset;
      for (let i = this.#foundEntry; i < local; i++) at = entryEnd(node, at);
    } else if (local < count / 2) {
      at = 0;
      for (let i = 0; i < local; i++) at = entryEnd(node, at);
    } else {
      at = node.length;
      for (let i = count; i > local; i--) at = entryStartBefore(node, at);
    }
    this.#foundNode = nodeIndex;
    this.#foundFirst = first;
    this.#foundEntry = local;
    this.#foundOffset = at;
    return at;
  }
}

/** An element as a node entry: length, bytes, length again. */
function entry(value: string): string {
  const length = value.length;
  return length <= 0x7f
    ? String.fromCharCode(length) + value + String.fromCharCode(length)
    : lengthPrefix(length) + value + lengthSuffix(length);
}

/** Offset just past the entry at `at`. */
function entryEnd(node: string, at: number): number {
  const length = lengthAt(node, at);
  return at + lengthSize(node.charCodeAt(at)) + length + lengthBytes(length);
}

/** Offset of the entry that ends at `end`. */
function entryStartBefore(node: string, end: number): number {
  const length = lengthBefore(node, end);
  return end - 2 * lengthBytes(length) - length;
}

/** Chars an element takes as a node entry. */
function entrySize(value: string): number {
  return value.length + 2 * lengthBytes(value.length);
}

/** `values[from..to)` as entries before `node`, the last value first (pushed at the head). */
function joinBefore(values: readonly string[], from: number, to: number, node: string): string {
  let added = "";
  for (let i = to - 1; i >= from; i--) added += entry(values[i]!);
  // One copy of the rope of entries and the node into a flat string.
  return flatten(added + node);
}

/** `values[from..to)` as entries after `node`, in order (pushed at the tail). */
function joinAfter(node: string, values: readonly string[], from: number, to: number): string {
  let added = node;
  for (let i = from; i < to; i++) added += entry(values[i]!);
  return flatten(added);
}

/**
 * _quicklistNodeAllowInsert: whether a node of `count` entries in `bytes`
 * chars takes one more entry of `size` chars under `fill`
 * (`list-max-listpack-size`).
 */
function fits(bytes: number, count: number, size: number, fill: number): boolean {
  const total = bytes + size;
  if (fill < 0) return total <= NODE_BYTES[Math.min(-fill, NODE_BYTES.length) - 1]!;
  return total <= SAFETY_BYTES && count < fill;
}
