/**
 * OrderedMap: a B+ tree from binary-string keys to values, in key order.
 *
 * Consumer groups keep their pending entries (PELs) ordered by ID, where Redis
 * uses a radix tree: XPENDING and XAUTOCLAIM scan ranges of IDs, XACK and
 * XCLAIM remove and insert single IDs, and a PEL can hold millions of entries
 * when consumers fall behind. Keys here are StreamIds (16-byte big-endian
 * strings), whose `<` is ID order, but nothing depends on that.
 *
 * A B+ tree keeps every operation O(log n) with few, cache-friendly nodes:
 * leaves hold up to 64 keys and values in two parallel arrays and are linked
 * both ways, so a range is one descent and then a walk along the leaves.
 * A node that falls below a quarter full merges with a sibling when the two
 * fit in one, so a tree that shrank does not keep a skeleton of near-empty
 * leaves, and a leaf is never empty (save the root of an empty tree).
 *
 * Mutating the map while a `range`/`entries` walk is running is not
 * supported; XAUTOCLAIM-style "remove as you go" loops use `ceilingKey`.
 *
 * @module
 */

const MAX_KEYS = 64;
const MIN_KEYS = 16;

class Leaf<V> {
  keys: string[] = [];
  values: V[] = [];
  previous: Leaf<V> | undefined;
  next: Leaf<V> | undefined;
}

/** Child i holds the keys k with separators[i-1] <= k < separators[i]. */
class Branch<V> {
  separators: string[] = [];
  children: Array<Leaf<V> | Branch<V>> = [];
}

type TreeNode<V> = Leaf<V> | Branch<V>;

/** Index of the first element of sorted `keys` that is >= `key` (> when `after`). */
function bound(keys: readonly string[], key: string, after: boolean): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const probe = keys[middle]!;
    if (probe < key || (after && probe === key)) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * An ordered map from strings to `V`.
 *
 * @example
 * ```ts
 * const map = new OrderedMap<number>();
 * map.set("b", 2);
 * map.set("a", 1);
 * [...map.entries()]; // [["a", 1], ["b", 2]]
 * map.ceilingKey("aa"); // "b"
 * ```
 */
export class OrderedMap<V> {
  #root: TreeNode<V> = new Leaf<V>();
  #size = 0;
  /** Branches and child indexes of the last descent, reused to spare allocations. */
  #pathNodes: Branch<V>[] = [];
  #pathIndexes: number[] = [];

  get size(): number {
    return this.#size;
  }

  /** The leaf that holds or would hold `key`, recording the path to it. */
  #descend(key: string): Leaf<V> {
    let node = this.#root;
    let depth = 0;
    while (node instanceof Branch) {
      const index = bound(node.separators, key, true);
      this.#pathNodes[depth] = node;
      this.#pathIndexes[depth] = index;
      depth++;
      node = node.children[index]!;
    }
    this.#pathNodes.length = depth;
    this.#pathIndexes.length = depth;
    return node;
  }

  get(key: string): V | undefined {
    const leaf = this.#descend(key);
    const index = bound(leaf.keys, key, false);
    return leaf.keys[index] === key ? leaf.values[index] : undefined;
  }

  has(key: string): boolean {
    const leaf = this.#descend(key);
    return leaf.keys[bound(leaf.keys, key, false)] === key;
  }

  /** Inserts or replaces; returns true when `key` is new. */
  set(key: string, value: V): boolean {
    // Stream IDs and pending entries mostly arrive in order: append to the
    // last leaf without a search while it has room.
    const tail = this.#lastLeaf();
    const tailCount = tail.keys.length;
    if (tailCount !== 0 && tailCount < MAX_KEYS && key > tail.keys[tailCount - 1]!) {
      tail.keys.push(key);
      tail.values.push(value);
      this.#size++;
      return true;
    }
    const leaf = this.#descend(key);
    const index = bound(leaf.keys, key, false);
    if (leaf.keys[index] === key) {
      leaf.values[index] = value;
      return false;
    }
    leaf.keys.splice(index, 0, key);
    leaf.values.splice(index, 0, value);
    this.#size++;
    if (leaf.keys.length > MAX_KEYS) {
      this.#split(leaf, leaf.next === undefined && index === MAX_KEYS);
    }
    return true;
  }

  /** Splits an overfull leaf; an append to the last leaf leaves it full, as sequential inserts would otherwise leave every leaf half empty. */
  #split(leaf: Leaf<V>, appended: boolean): void {
    const right = new Leaf<V>();
    const half = appended ? MAX_KEYS : leaf.keys.length >>> 1;
    right.keys = leaf.keys.splice(half);
    right.values = leaf.values.splice(half);
    right.next = leaf.next;
    right.previous = leaf;
    if (leaf.next !== undefined) leaf.next.previous = right;
    leaf.next = right;
    let separator = right.keys[0]!;
    let newChild: TreeNode<V> = right;
    for (let depth = this.#pathNodes.length - 1; depth >= 0; depth--) {
      const parent = this.#pathNodes[depth]!;
      const index = this.#pathIndexes[depth]!;
      parent.separators.splice(index, 0, separator);
      parent.children.splice(index + 1, 0, newChild);
      if (parent.children.length <= MAX_KEYS) return;
      const sibling = new Branch<V>();
      const middle = parent.children.length >>> 1;
      sibling.children = parent.children.splice(middle);
      separator = parent.separators[middle - 1]!;
      sibling.separators = parent.separators.splice(middle);
      parent.separators.length = middle - 1;
      newChild = sibling;
    }
    const root = new Branch<V>();
    root.children = [this.#root, newChild];
    root.separators = [separator];
    this.#root = root;
  }

  /** Removes `key`; returns false when it was absent. */
  delete(key: string): boolean {
    const leaf = this.#descend(key);
    const index = bound(leaf.keys, key, false);
    if (leaf.keys[index] !== key) return false;
    leaf.keys.splice(index, 1);
    leaf.values.splice(index, 1);
    this.#size--;
    if (leaf.keys.length < MIN_KEYS && this.#pathNodes.length > 0) this.#rebalance(leaf);
    return true;
  }

  /** Merges an underfull node into a sibling, up the recorded path, when they fit in one. */
  #rebalance(leaf: Leaf<V>): void {
    let node: TreeNode<V> = leaf;
    for (let depth = this.#pathNodes.length - 1; depth >= 0; depth--) {
      const parent = this.#pathNodes[depth]!;
      const index = this.#pathIndexes[depth]!;
      if (sizeOf(node) >= MIN_KEYS) return;
      // Merge the right one of a pair into the left one.
      let leftIndex: number;
      if (index > 0 && sizeOf(parent.children[index - 1]!) + sizeOf(node) <= MAX_KEYS) {
        leftIndex = index - 1;
      } else if (
        index + 1 < parent.children.length &&
        sizeOf(parent.children[index + 1]!) + sizeOf(node) <= MAX_KEYS
      ) {
        leftIndex = index;
      } else return;
      const left = parent.children[leftIndex]!;
      const right = parent.children[leftIndex + 1]!;
      if (left instanceof Leaf) {
        const rightLeaf = right as Leaf<V>;
        left.keys.push(...rightLeaf.keys);
        left.values.push(...rightLeaf.values);
        left.next = rightLeaf.next;
        if (rightLeaf.next !== undefined) rightLeaf.next.previous = left;
      } else {
        const rightBranch = right as Branch<V>;
        left.separators.push(parent.separators[leftIndex]!, ...rightBranch.separators);
        left.children.push(...rightBranch.children);
      }
      parent.separators.splice(leftIndex, 1);
      parent.children.splice(leftIndex + 1, 1);
      node = parent;
    }
    const root = this.#root;
    if (root instanceof Branch && root.children.length === 1) this.#root = root.children[0]!;
  }

  /** Removes everything. */
  clear(): void {
    this.#root = new Leaf<V>();
    this.#size = 0;
  }

  #firstLeaf(): Leaf<V> {
    let node = this.#root;
    while (node instanceof Branch) node = node.children[0]!;
    return node;
  }

  #lastLeaf(): Leaf<V> {
    let node = this.#root;
    while (node instanceof Branch) node = node.children[node.children.length - 1]!;
    return node;
  }

  /** The smallest key, undefined when empty. */
  firstKey(): string | undefined {
    return this.#firstLeaf().keys[0];
  }

  /** The largest key, undefined when empty. */
  lastKey(): string | undefined {
    const leaf = this.#lastLeaf();
    return leaf.keys[leaf.keys.length - 1];
  }

  /** The smallest key >= `key` (> when `exclusive`), undefined when there is none. */
  ceilingKey(key: string, exclusive = false): string | undefined {
    const leaf = this.#descend(key);
    const index = bound(leaf.keys, key, exclusive);
    if (index < leaf.keys.length) return leaf.keys[index];
    return leaf.next?.keys[0];
  }

  /** The largest key <= `key` (< when `exclusive`), undefined when there is none. */
  floorKey(key: string, exclusive = false): string | undefined {
    const leaf = this.#descend(key);
    const index = bound(leaf.keys, key, !exclusive) - 1;
    if (index >= 0) return leaf.keys[index];
    const previous = leaf.previous;
    return previous === undefined ? undefined : previous.keys[previous.keys.length - 1];
  }

  /**
   * Calls `visit` for the entries with `start <= key <= end` in order
   * (descending when `reverse`), until it returns false. Omitted bounds are
   * open.
   */
  range(
    start: string | undefined,
    end: string | undefined,
    visit: (key: string, value: V) => boolean | void,
    reverse = false,
  ): void {
    if (!reverse) {
      let leaf: Leaf<V> | undefined = start === undefined
        ? this.#firstLeaf()
        : this.#descend(start);
      let index = start === undefined ? 0 : bound(leaf.keys, start, false);
      while (leaf !== undefined) {
        const keys = leaf.keys;
        for (; index < keys.length; index++) {
          const key = keys[index]!;
          if (end !== undefined && key > end) return;
          if (visit(key, leaf.values[index]!) === false) return;
        }
        leaf = leaf.next;
        index = 0;
      }
      return;
    }
    let leaf: Leaf<V> | undefined = end === undefined ? this.#lastLeaf() : this.#descend(end);
    let index = end === undefined ? leaf.keys.length - 1 : bound(leaf.keys, end, true) - 1;
    while (leaf !== undefined) {
      const keys = leaf.keys;
      for (; index >= 0; index--) {
        const key = keys[index]!;
        if (start !== undefined && key < start) return;
        if (visit(key, leaf.values[index]!) === false) return;
      }
      leaf = leaf.previous;
      index = leaf === undefined ? -1 : leaf.keys.length - 1;
    }
  }

  /** `[key, value]` pairs in key order. */
  *entries(): IterableIterator<[string, V]> {
    for (let leaf: Leaf<V> | undefined = this.#firstLeaf(); leaf; leaf = leaf.next) {
      for (let i = 0; i < leaf.keys.length; i++) yield [leaf.keys[i]!, leaf.values[i]!];
    }
  }

  /** Keys in order. */
  *keys(): IterableIterator<string> {
    for (let leaf: Leaf<V> | undefined = this.#firstLeaf(); leaf; leaf = leaf.next) {
      yield* leaf.keys;
    }
  }

  /** Values in key order. */
  *values(): IterableIterator<V> {
    for (let leaf: Leaf<V> | undefined = this.#firstLeaf(); leaf; leaf = leaf.next) {
      yield* leaf.values;
    }
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }

  /** Tree height (1 for a single leaf), for tests of the balancing. */
  get height(): number {
    let height = 1;
    for (let node = this.#root; node instanceof Branch; node = node.children[0]!) height++;
    return height;
  }
}

function sizeOf<V>(node: TreeNode<V>): number {
  return node instanceof Leaf ? node.keys.length : node.children.length;
}
