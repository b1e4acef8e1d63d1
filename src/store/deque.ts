/**
 * Deque: the list type's storage, a growable ring buffer.
 *
 * Push and pop at either end are O(1) amortised and index access is O(1),
 * which LINDEX/LSET/LRANGE on long lists need (an Array's `shift` is O(n)).
 * Removal in the middle (LREM, LINSERT) is O(n), as it is in Redis.
 *
 * @module
 */

const MIN_CAPACITY = 4;

export class Deque<T> {
  #items: (T | undefined)[];
  #head = 0;
  #size = 0;

  constructor(items: Iterable<T> = []) {
    this.#items = new Array(MIN_CAPACITY);
    for (const item of items) this.pushBack(item);
  }

  get length(): number {
    return this.#size;
  }

  /** Element at `index` (0 is the head), undefined when out of range. */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.#size) return undefined;
    return this.#items[(this.#head + index) & (this.#items.length - 1)];
  }

  /** Replaces the element at `index`, which must be in range. */
  set(index: number, value: T): void {
    this.#items[(this.#head + index) & (this.#items.length - 1)] = value;
  }

  pushFront(value: T): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#head = (this.#head - 1) & (this.#items.length - 1);
    this.#items[this.#head] = value;
    this.#size++;
  }

  pushBack(value: T): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#size) & (this.#items.length - 1)] = value;
    this.#size++;
  }

  popFront(): T | undefined {
    if (this.#size === 0) return undefined;
    const value = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#size--;
    this.#shrinkIfSparse();
    return value;
  }

  popBack(): T | undefined {
    if (this.#size === 0) return undefined;
    const at = (this.#head + this.#size - 1) & (this.#items.length - 1);
    const value = this.#items[at];
    this.#items[at] = undefined;
    this.#size--;
    this.#shrinkIfSparse();
    return value;
  }

  /** Elements from `start` to `stop` inclusive (already clamped to the range). */
  slice(start: number, stop: number): T[] {
    const out: T[] = [];
    const mask = this.#items.length - 1;
    for (let i = start; i <= stop; i++) out.push(this.#items[(this.#head + i) & mask] as T);
    return out;
  }

  /**
   * Inserts `value` before position `index` (0..length), moving the
   * elements on the shorter side, so inserting near either end is cheap.
   */
  insert(index: number, value: T): void {
    if (index < this.#size / 2) {
      this.pushFront(value);
      for (let i = 0; i < index; i++) this.set(i, this.at(i + 1) as T);
    } else {
      this.pushBack(value);
      for (let i = this.#size - 1; i > index; i--) this.set(i, this.at(i - 1) as T);
    }
    this.set(index, value);
  }

  /** Removes the element at `index`, which must be in range. */
  removeAt(index: number): void {
    if (index < this.#size / 2) {
      for (let i = index; i > 0; i--) this.set(i, this.at(i - 1) as T);
      this.popFront();
    } else {
      for (let i = index; i < this.#size - 1; i++) this.set(i, this.at(i + 1) as T);
      this.popBack();
    }
  }

  /** Keeps only the elements for which `keep` returns true, in order. */
  retain(keep: (value: T, index: number) => boolean): void {
    const kept: T[] = [];
    for (let i = 0; i < this.#size; i++) {
      const value = this.at(i) as T;
      if (keep(value, i)) kept.push(value);
    }
    this.#replace(kept);
  }

  /** Keeps the elements from `start` to `stop` inclusive (LTRIM). */
  trim(start: number, stop: number): void {
    if (start > stop || start >= this.#size) {
      this.#replace([]);
      return;
    }
    const removeBack = this.#size - 1 - stop;
    for (let i = 0; i < start; i++) this.popFront();
    for (let i = 0; i < removeBack; i++) this.popBack();
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.#size; i++) yield this.at(i) as T;
  }

  toArray(): T[] {
    return this.slice(0, this.#size - 1);
  }

  #replace(values: T[]): void {
    let capacity = MIN_CAPACITY;
    while (capacity < values.length) capacity *= 2;
    this.#items = new Array(capacity);
    for (let i = 0; i < values.length; i++) this.#items[i] = values[i];
    this.#head = 0;
    this.#size = values.length;
  }

  #grow(): void {
    this.#resize(this.#items.length * 2);
  }

  #shrinkIfSparse(): void {
    if (this.#items.length > 64 && this.#size < this.#items.length / 4) {
      this.#resize(this.#items.length / 2);
    }
  }

  #resize(capacity: number): void {
    const items: (T | undefined)[] = new Array(capacity);
    for (let i = 0; i < this.#size; i++) items[i] = this.at(i);
    this.#items = items;
    this.#head = 0;
  }
}
