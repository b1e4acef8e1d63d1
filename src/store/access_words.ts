/**
 * Access words: the 24 bits Redis keeps in every object's `lru` field, and
 * the table that holds them here, one per key.
 *
 * Redis's eviction works from one small word per value. Under the LRU
 * policies (and every policy that is not LFU) it is the 24-bit LRU clock,
 * seconds modulo 2^24, at the last access (getLRUClock); OBJECT IDLETIME
 * and the LRU pool read the idle time from it, wrapping as
 * estimateObjectIdleTime does. Under the LFU policies it is 16 bits of
 * minutes at the last decrement and an 8-bit logarithmic counter: an
 * access decays the counter by one per `lfu-decay-time` minutes elapsed
 * (LFUDecrAndReturn), then increments it with probability
 * 1 / ((counter - 5) * lfu-log-factor + 1) (LFULogIncr); new keys start at
 * 5 (LFU_INIT_VAL) so they are not evicted before they had a chance.
 *
 * A JS string cannot carry a field, so the words live beside the data in
 * an `AccessTable`: the keys in a dense array with their words in a typed
 * array at the same index, and a Map from key to index. An access is one
 * Map lookup and one store into the typed array; a removal swaps the last
 * key into the hole. The dense array is what makes eviction sampling as
 * Redis's: `dictGetSomeKeys` picks keys at random, and a Map can only be
 * walked in insertion order, which (measured on the cache workload of
 * bench/cache_bench.ts, simulated) cost LFU three points of hit ratio when
 * the pool was fed from a rotating cursor instead, because new keys then
 * get a whole sweep of protection. Random slots cost 12 bytes per key
 * more than a Map of words alone and keep every pick O(1).
 *
 * The table exists only while something needs the words (maxmemory, an
 * eviction policy, OBJECT IDLETIME; see Keyspace.trackAccess), so the
 * default configuration pays neither its memory nor its upkeep.
 *
 * @module
 */

/** Redis's LRU_CLOCK_MAX: the LRU clock wraps at 2^24 seconds (194 days). */
export const LRU_CLOCK_MAX = (1 << 24) - 1;
/** Redis's LRU_CLOCK_RESOLUTION: the LRU clock counts seconds. */
export const LRU_CLOCK_RESOLUTION_MS = 1000;
/** Redis's LFU_INIT_VAL: a new key's counter under the LFU policies. */
export const LFU_INIT_VAL = 5;
/** The LFU counter saturates at 255. */
const LFU_COUNTER_MAX = 255;

/** What the words of a keyspace mean. */
export type AccessMode = "lru" | "lfu";

/** getLRUClock: the LRU clock at `milliseconds` since the epoch. */
export function lruClockAt(milliseconds: number): number {
  return Math.floor(milliseconds / LRU_CLOCK_RESOLUTION_MS) & LRU_CLOCK_MAX;
}

/** LFUGetTimeInMinutes: minutes since the epoch, modulo 2^16. */
export function lfuMinutesAt(milliseconds: number): number {
  return Math.floor(milliseconds / 60_000) & 0xffff;
}

/** estimateObjectIdleTime: milliseconds since the access recorded in an LRU `word`. */
export function idleMilliseconds(word: number, lruClock: number): number {
  const ticks = lruClock >= word ? lruClock - word : lruClock + (LRU_CLOCK_MAX - word);
  return ticks * LRU_CLOCK_RESOLUTION_MS;
}

/** An LFU word: minutes of the last decrement and the counter. */
export function lfuWord(minutes: number, counter: number): number {
  return (minutes << 8) | counter;
}

/**
 * LFUDecrAndReturn: the counter of an LFU `word` once decayed by one per
 * `decayTime` minutes elapsed since its last decrement (0: never decays).
 */
export function lfuCounter(word: number, minutes: number, decayTime: number): number {
  const counter = word & 0xff;
  if (decayTime === 0) return counter;
  const last = word >>> 8;
  const elapsed = minutes >= last ? minutes - last : 0xffff - last + minutes;
  const periods = Math.floor(elapsed / decayTime);
  if (periods === 0) return counter;
  return periods > counter ? 0 : counter - periods;
}

/** LFULogIncr: `counter` after one access, incremented with falling probability. */
export function lfuIncrement(counter: number, logFactor: number): number {
  if (counter === LFU_COUNTER_MAX) return counter;
  const base = counter - LFU_INIT_VAL;
  const probability = 1 / ((base < 0 ? 0 : base) * logFactor + 1);
  return Math.random() < probability ? counter + 1 : counter;
}

/**
 * The access words of one database: a dense array of keys, their words at
 * the same index, and each key's index.
 *
 * @example
 * ```ts
 * const table = new AccessTable();
 * table.add("user:1", lruClockAt(Date.now()));
 * table.randomKey(); // "user:1"
 * ```
 */
export class AccessTable {
  readonly #slotOf = new Map<string, number>();
  readonly #keys: string[] = [];
  #words = new Uint32Array(16);

  /** Keys in the table. */
  get size(): number {
    return this.#keys.length;
  }

  /** The slot of `key`, or undefined (slots move when keys are removed). */
  slotOf(key: string): number | undefined {
    return this.#slotOf.get(key);
  }

  /** The word in `slot`. */
  wordAt(slot: number): number {
    return this.#words[slot]!;
  }

  /** Stores the word of `slot`. */
  setWordAt(slot: number, word: number): void {
    this.#words[slot] = word;
  }

  /** The word of `key`, or undefined if it has none. */
  word(key: string): number | undefined {
    const slot = this.#slotOf.get(key);
    return slot === undefined ? undefined : this.#words[slot];
  }

  /** Adds `key` (not yet in the table) with `word`. */
  add(key: string, word: number): void {
    const keys = this.#keys;
    const slot = keys.length;
    if (slot === this.#words.length) {
      const grown = new Uint32Array(slot * 2);
      grown.set(this.#words);
      this.#words = grown;
    }
    this.#slotOf.set(key, slot);
    keys.push(key);
    this.#words[slot] = word;
  }

  /** Removes `key`; the last key moves into its slot. */
  remove(key: string): void {
    const slotOf = this.#slotOf;
    const slot = slotOf.get(key);
    if (slot === undefined) return;
    slotOf.delete(key);
    const keys = this.#keys;
    const last = keys.pop()!;
    if (last !== key) {
      keys[slot] = last;
      this.#words[slot] = this.#words[keys.length]!;
      slotOf.set(last, slot);
    }
    // Give memory back after a mass deletion, keeping room to grow again.
    const capacity = this.#words.length;
    if (capacity > 1024 && keys.length < capacity / 4) {
      this.#words = this.#words.slice(0, capacity / 2);
    }
  }

  /** A key picked uniformly at random, or undefined when empty. */
  randomKey(): string | undefined {
    const keys = this.#keys;
    return keys.length === 0 ? undefined : keys[Math.floor(Math.random() * keys.length)];
  }

  /** Removes every key. */
  clear(): void {
    this.#slotOf.clear();
    this.#keys.length = 0;
    this.#words = new Uint32Array(16);
  }
}
