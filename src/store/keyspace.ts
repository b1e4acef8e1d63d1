/**
 * The keyspace: numbered databases of typed values with per-key expiry,
 * what they cost in memory, and when each key was last used.
 *
 * Each database is a Map from key to value plus a Map from key to absolute
 * expiry time in milliseconds. Expiry works like Redis: every lookup checks
 * the key's deadline and removes it when passed (lazy expiry), and an active
 * cycle on a timer walks the keys that have a deadline a bounded number at a
 * time, resuming where it stopped, so memory of keys nobody reads is freed
 * too without ever scanning everything in one go. On a replica
 * (`expireOnLookup = false`) a key past its deadline reads as missing but
 * stays until the master's DEL, and the active cycle does nothing, as
 * Redis's expireIfNeeded behaves there.
 *
 * Memory: every database keeps the sum of what its keys would cost in
 * Redis's layout (store/memory_estimate.ts, MEMORY USAGE's figure), which
 * `used_memory` and maxmemory eviction read. Strings are accounted at once
 * in `set` and `delete`, from the old and new values, so the commonest
 * write costs one more Map lookup and a little arithmetic. Collections
 * change in place, so the keyspace only hears that they changed
 * (`noteChanged`, from the server's keyChanged) and marks them stale; their
 * estimate (O(samples), O(entries) for a small listpack) is taken again at
 * most once per batch when maxmemory is set (`settleEagerly`), else when
 * someone asks (INFO, MEMORY STATS, the cron). A pipeline of HSETs to one
 * small hash thus costs one estimate, not one per command. Writes that
 * bypass `set` (the RDB loader fills `entries` directly) are caught by
 * `reconcile`, which recounts a database whose key count disagrees.
 *
 * Access words (store/access_words.ts): while `trackAccess` is on, every
 * lookup but `peek` (Redis's LOOKUP_NOTOUCH) stamps the key's LRU clock or
 * bumps its LFU counter, and new keys get a fresh word. Off (the default,
 * until maxmemory, an eviction policy or OBJECT IDLETIME needs it) a
 * lookup pays one comparison. A SET right after a lookup of the same key
 * (INCR, APPEND, SET ... NX) counts as one access, as Redis's setKey does.
 *
 * The keyspace knows nothing of clients or files. Whoever needs to hear of
 * removals it makes on its own (the AOF logs a DEL, notifications fire)
 * registers a `KeyspaceObserver`.
 *
 * @module
 */

import {
  type AccessMode,
  AccessTable,
  LFU_INIT_VAL,
  lfuCounter,
  lfuIncrement,
  lfuMinutesAt,
  lfuWord,
  lruClockAt,
} from "./access_words.ts";
import {
  DICT_ENTRY_ALLOCATION,
  dictTableBytes,
  entryBytes,
  stringEntryBytes,
} from "./memory_estimate.ts";
import type { RedisValue } from "./values.ts";

/** Where the keyspace gets the time; tests substitute a manual clock. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Hears of changes the keyspace makes by itself. */
export interface KeyspaceObserver {
  /** `key` in database `db` passed its deadline and was removed. */
  expired(db: Database, key: string): void;
}

export class Database {
  readonly entries = new Map<string, RedisValue>();
  /** Absolute expiry time (ms since the epoch) of keys that have one. */
  readonly expires = new Map<string, number>();
  /** Where the active expiry cycle resumes. */
  expireCursor: Iterator<[string, number]> | undefined;
  /** Where eviction's sampling of keys with a deadline resumes. */
  #volatileCursor: Iterator<string> | undefined;
  /** What the accounted keys cost in Redis's layout (see memory_estimate.ts). */
  #bytes = 0;
  /** Keys in `#bytes`: differs from entries.size only after a write that bypassed `set`. */
  #accounted = 0;
  /** The estimate last taken of each key holding a collection (or a HyperLogLog). */
  #collectionBytes = new Map<string, number>();
  /** Keys whose collection changed since its estimate. */
  #stale = new Set<string>();
  /** Access words, while the keyspace tracks them. */
  #access: AccessTable | undefined;
  /** The key the last lookup stamped (a following `set` of it is the same access). */
  #touched: string | undefined;
  /** The key `set` last stored a string at, accounted already (its keyChanged needs nothing). */
  #accountedKey: string | undefined;

  constructor(readonly index: number, readonly keyspace: Keyspace) {}

  get size(): number {
    return this.entries.size;
  }

  /** The value at `key`, removing it first if its deadline has passed; an access. */
  lookup(key: string): RedisValue | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    if (this.expires.size !== 0) {
      const deadline = this.expires.get(key);
      if (deadline !== undefined && deadline <= this.keyspace.clock.now()) {
        if (this.keyspace.expireOnLookup) this.expireNow(key);
        return undefined;
      }
    }
    if (this.#access !== undefined) this.#touch(key);
    return value;
  }

  /**
   * `lookup` that does not count as an access (Redis's LOOKUP_NOTOUCH, for
   * EXISTS, TYPE, TTL, OBJECT): expiry still applies.
   */
  peek(key: string): RedisValue | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    if (this.expires.size !== 0) {
      const deadline = this.expires.get(key);
      if (deadline !== undefined && deadline <= this.keyspace.clock.now()) {
        if (this.keyspace.expireOnLookup) this.expireNow(key);
        return undefined;
      }
    }
    return value;
  }

  /** Whether `key` exists (expiring it first if due); an access, as Redis's lookupKeyWrite. */
  has(key: string): boolean {
    return this.lookup(key) !== undefined;
  }

  /**
   * Stores `value` at `key`. Like Redis's setKey, any deadline is removed
   * unless `keepTtl` is set.
   */
  set(key: string, value: RedisValue, keepTtl = false): void {
    const entries = this.entries;
    const previous = entries.get(key);
    entries.set(key, value);
    if (!keepTtl && this.expires.size !== 0) this.expires.delete(key);
    if (previous === undefined) this.#accounted++;
    else this.#forget(key, previous);
    if (typeof value === "string") {
      this.#bytes += stringEntryBytes(key, value);
      this.#accountedKey = key;
    } else {
      this.#markStale(key);
      this.#accountedKey = undefined;
    }
    if (this.#access !== undefined) this.#stamp(key, previous === undefined);
  }

  /** Removes `key` and its deadline; true if it existed. */
  delete(key: string): boolean {
    const entries = this.entries;
    const previous = entries.get(key);
    if (previous === undefined) return false;
    entries.delete(key);
    if (this.expires.size !== 0) this.expires.delete(key);
    this.#accounted--;
    this.#forget(key, previous);
    this.#access?.remove(key);
    return true;
  }

  /** Absolute deadline of `key` in ms, or undefined if it has none. */
  expireAt(key: string): number | undefined {
    return this.expires.size === 0 ? undefined : this.expires.get(key);
  }

  /** Sets the absolute deadline of an existing key. */
  setExpireAt(key: string, deadline: number): void {
    this.expires.set(key, deadline);
  }

  /** Removes the deadline of `key`; true if it had one. */
  persist(key: string): boolean {
    return this.expires.delete(key);
  }

  /** Removes every key. */
  clear(): void {
    this.entries.clear();
    this.expires.clear();
    this.expireCursor = undefined;
    this.#volatileCursor = undefined;
    this.#bytes = 0;
    this.#accounted = 0;
    this.#collectionBytes.clear();
    this.#stale.clear();
    this.#access?.clear();
    this.#touched = undefined;
    this.#accountedKey = undefined;
  }

  /** Removes an expired key and tells the observer (who logs the deletion). */
  expireNow(key: string): void {
    this.delete(key);
    this.keyspace.expiredKeys++;
    this.keyspace.observer?.expired(this, key);
  }

  /** Live keys, skipping (and removing, unless on a replica) any whose deadline has passed. */
  *liveKeys(): IterableIterator<string> {
    const now = this.keyspace.clock.now();
    const expireOnLookup = this.keyspace.expireOnLookup;
    for (const key of this.entries.keys()) {
      const deadline = this.expireAt(key);
      if (deadline !== undefined && deadline <= now) {
        if (expireOnLookup) this.expireNow(key);
        continue;
      }
      yield key;
    }
  }

  /** Moves all content to/from `other` (SWAPDB), its memory figures and access words too. */
  swapContent(other: Database): void {
    swapMaps(this.entries, other.entries);
    swapMaps(this.expires, other.expires);
    this.expireCursor = other.expireCursor = undefined;
    this.#volatileCursor = other.#volatileCursor = undefined;
    [this.#bytes, other.#bytes] = [other.#bytes, this.#bytes];
    [this.#accounted, other.#accounted] = [other.#accounted, this.#accounted];
    [this.#collectionBytes, other.#collectionBytes] = [
      other.#collectionBytes,
      this.#collectionBytes,
    ];
    [this.#stale, other.#stale] = [other.#stale, this.#stale];
    [this.#access, other.#access] = [other.#access, this.#access];
    this.#touched = other.#touched = undefined;
    this.#accountedKey = other.#accountedKey = undefined;
  }

  // ---------------------------------------------------------------------------
  // Memory

  /**
   * What this database costs in Redis's layout: its keys as accounted (see
   * the module doc; `settle` first for an exact figure) plus the bucket
   * arrays of its dicts and the expires dict's entries.
   */
  get memoryBytes(): number {
    const expiring = this.expires.size;
    let bytes = this.#bytes + dictTableBytes(this.entries.size);
    if (expiring !== 0) bytes += expiring * DICT_ENTRY_ALLOCATION + dictTableBytes(expiring);
    return bytes;
  }

  /** Keys whose collections changed since their last estimate. */
  get staleCount(): number {
    return this.#stale.size;
  }

  /**
   * Hears that `key` changed (the server's keyChanged): a collection that
   * changed in place is estimated again at the next settle. Strings and
   * deletions were accounted already.
   */
  noteChanged(key: string): void {
    // SET and friends: the string was accounted in `set`, spare the lookup.
    if (key === this.#accountedKey) return;
    const value = this.entries.get(key);
    if (value !== undefined && typeof value === "object") this.#markStale(key);
  }

  /**
   * Takes the estimate of stale collections again: all of them, or until
   * `deadline` (performance.now()) passes; true when none is left.
   */
  settle(deadline = Infinity): boolean {
    const stale = this.#stale;
    if (stale.size === 0) return true;
    const entries = this.entries;
    const estimates = this.#collectionBytes;
    const listFill = this.keyspace.listFill;
    let done = 0;
    for (const key of stale) {
      stale.delete(key);
      const value = entries.get(key);
      if (value !== undefined && typeof value !== "string") {
        const bytes = entryBytes(key, value, listFill);
        this.#bytes += bytes - (estimates.get(key) ?? 0);
        estimates.set(key, bytes);
      }
      if (++done % 32 === 0 && performance.now() > deadline) break;
    }
    return stale.size === 0;
  }

  /**
   * Recomputes every figure from `entries` (after writes that bypassed
   * `set`, such as the RDB loader's), and gives keys that have no access
   * word one.
   */
  recount(): void {
    const estimates = this.#collectionBytes;
    const listFill = this.keyspace.listFill;
    estimates.clear();
    this.#stale.clear();
    let bytes = 0;
    for (const [key, value] of this.entries) {
      if (typeof value === "string") {
        bytes += stringEntryBytes(key, value);
      } else {
        const estimate = entryBytes(key, value, listFill);
        estimates.set(key, estimate);
        bytes += estimate;
      }
    }
    this.#bytes = bytes;
    this.#accounted = this.entries.size;
    if (this.#access !== undefined) this.#rebuildAccess();
  }

  /** Recounts when a write bypassed `set` (the key counts disagree); true if it did. */
  reconcile(): boolean {
    const size = this.entries.size;
    if (this.#accounted === size && (this.#access?.size ?? size) === size) return false;
    this.recount();
    return true;
  }

  // ---------------------------------------------------------------------------
  // Access words and sampling (eviction, OBJECT IDLETIME / FREQ, RANDOMKEY)

  /** The access word of `key`, or undefined while words are not tracked. */
  accessWord(key: string): number | undefined {
    return this.#access?.word(key);
  }

  /** A key picked uniformly at random in O(1) while words are tracked; else undefined. */
  randomKey(): string | undefined {
    return this.#access?.randomKey();
  }

  /**
   * The next key with a deadline in a walk of `expires` that resumes where
   * the previous call stopped and starts over at the end (eviction's
   * sampling of volatile keys); undefined when none has one.
   */
  nextExpiringKey(): string | undefined {
    if (this.expires.size === 0) return undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      this.#volatileCursor ??= this.expires.keys();
      const next = this.#volatileCursor.next();
      if (!next.done) return next.value;
      this.#volatileCursor = undefined;
    }
    return undefined;
  }

  /** Starts keeping access words (every key gets a fresh one); see Keyspace.trackAccess. */
  startTracking(): void {
    if (this.#access !== undefined) return;
    this.#access = new AccessTable();
    this.#rebuildAccess();
  }

  #rebuildAccess(): void {
    const previous = this.#access!;
    const table = new AccessTable();
    const word = this.keyspace.newAccessWord();
    for (const key of this.entries.keys()) table.add(key, previous.word(key) ?? word);
    this.#access = table;
  }

  /** An access to `key` (lookup): the LRU clock, or one LFU increment. */
  #touch(key: string): void {
    const table = this.#access!;
    const slot = table.slotOf(key);
    if (slot === undefined) return;
    const keyspace = this.keyspace;
    table.setWordAt(
      slot,
      keyspace.lfu ? keyspace.lfuTouched(table.wordAt(slot)) : keyspace.lruClock,
    );
    this.#touched = key;
  }

  /** `set` of `key`: a new key's first word, or an access unless a lookup just counted it. */
  #stamp(key: string, created: boolean): void {
    const table = this.#access!;
    const keyspace = this.keyspace;
    if (created) {
      table.add(key, keyspace.newAccessWord());
    } else {
      const slot = table.slotOf(key);
      if (slot === undefined) table.add(key, keyspace.newAccessWord());
      else if (!keyspace.lfu) table.setWordAt(slot, keyspace.lruClock);
      else if (this.#touched !== key) {
        table.setWordAt(slot, keyspace.lfuTouched(table.wordAt(slot)));
      }
    }
    this.#touched = undefined;
  }

  /** Takes the previous value of `key` out of the figures. */
  #forget(key: string, previous: RedisValue): void {
    if (typeof previous === "string") {
      this.#bytes -= stringEntryBytes(key, previous);
      return;
    }
    const estimates = this.#collectionBytes;
    const estimate = estimates.get(key);
    if (estimate !== undefined) {
      this.#bytes -= estimate;
      estimates.delete(key);
    }
    this.#stale.delete(key);
  }

  #markStale(key: string): void {
    const stale = this.#stale;
    if (stale.has(key)) return;
    stale.add(key);
    this.keyspace.staleAdded();
  }
}

function swapMaps<K, V>(a: Map<K, V>, b: Map<K, V>): void {
  const copy = new Map(a);
  a.clear();
  for (const [key, value] of b) a.set(key, value);
  b.clear();
  for (const [key, value] of copy) b.set(key, value);
}

/** Keys examined per database per round of the active expiry cycle. */
const EXPIRE_SAMPLE = 20;
/** Another round runs while more than this share of a sample had expired. */
const EXPIRE_REPEAT_RATIO = 0.25;

export class Keyspace {
  readonly databases: Database[];
  observer: KeyspaceObserver | undefined;
  /** Keys removed by expiry since start (INFO expired_keys). */
  expiredKeys = 0;
  /**
   * False on a replica: a key past its deadline reads as missing but is not
   * removed, and the active expiry cycle does nothing (the master's DEL
   * removes it), as Redis's expireIfNeeded with a master.
   */
  expireOnLookup = true;
  /** What the access words mean, or undefined while they are not tracked. */
  #accessMode: AccessMode | undefined;
  /** The words are LFU words (`accessMode === "lfu"`, read on every access). */
  lfu = false;
  /** The LRU clock and LFU minutes accesses record (Redis's cached server.lruclock). */
  lruClock = 0;
  lfuMinutes = 0;
  /** `lfu-log-factor` and `lfu-decay-time`. */
  lfuLogFactor = 10;
  lfuDecayTime = 1;
  /** `list-max-listpack-size`, for the estimate of lists. */
  listFill = -2;
  /** Settle changed collections' estimates at the end of each batch (maxmemory is set). */
  settleEagerly = false;
  #settleScheduled = false;
  readonly #settleNow = () => {
    this.#settleScheduled = false;
    this.settleMemory();
  };

  constructor(databaseCount: number, public clock: Clock = systemClock) {
    this.databases = Array.from({ length: databaseCount }, (_, i) => new Database(i, this));
    this.updateAccessClock();
  }

  /** Total keys in all databases. */
  get keyCount(): number {
    let total = 0;
    for (const db of this.databases) total += db.size;
    return total;
  }

  /** Removes every key of every database. */
  flushAll(): void {
    for (const db of this.databases) db.clear();
  }

  // ---------------------------------------------------------------------------
  // Memory

  /** What the data costs in Redis's layout, every database's `memoryBytes`. */
  get memoryBytes(): number {
    let total = 0;
    for (const db of this.databases) if (db.size !== 0) total += db.memoryBytes;
    return total;
  }

  /**
   * Takes the estimates of changed collections again, in every database:
   * all of them, or as many as `budgetMs` allows (the cron's share).
   */
  settleMemory(budgetMs = Infinity): void {
    const deadline = performance.now() + budgetMs;
    for (const db of this.databases) {
      if (db.staleCount !== 0 && !db.settle(deadline)) return;
    }
  }

  /** Recomputes every database's figures from its entries. */
  recountMemory(): void {
    for (const db of this.databases) db.recount();
  }

  /** Recounts databases written behind `set`'s back (see Database.reconcile). */
  reconcile(): void {
    for (const db of this.databases) db.reconcile();
  }

  /** A database has a newly stale collection. */
  staleAdded(): void {
    if (!this.settleEagerly || this.#settleScheduled) return;
    this.#settleScheduled = true;
    queueMicrotask(this.#settleNow);
  }

  // ---------------------------------------------------------------------------
  // Access words

  /** What access words mean, or undefined while they are not tracked. */
  get accessMode(): AccessMode | undefined {
    return this.#accessMode;
  }

  /**
   * Tracks access words as `mode` from now on: every key gets a fresh word
   * when tracking starts. Switching between LRU and LFU keeps the words
   * as they are, to be read the other way, as Redis does (its OBJECT error
   * texts warn that "LRU and LFU data will take some time to adjust").
   */
  trackAccess(mode: AccessMode): void {
    if (this.#accessMode === mode) return;
    const starting = this.#accessMode === undefined;
    this.#accessMode = mode;
    this.lfu = mode === "lfu";
    this.updateAccessClock();
    if (starting) { for (const db of this.databases) db.startTracking(); }
  }

  /** Refreshes the clock accesses record (the cron does, `hz` times a second). */
  updateAccessClock(): void {
    const now = this.clock.now();
    this.lruClock = lruClockAt(now);
    this.lfuMinutes = lfuMinutesAt(now);
  }

  /** A new key's word: the LRU clock, or the LFU minutes with counter 5. */
  newAccessWord(): number {
    return this.lfu ? lfuWord(this.lfuMinutes, LFU_INIT_VAL) : this.lruClock;
  }

  /** The LFU `word` after one access (updateLFU), without the random draw while it is certain. */
  lfuTouched(word: number): number {
    const minutes = this.lfuMinutes;
    let counter = (word >>> 8) === minutes
      ? word & 0xff
      : lfuCounter(word, minutes, this.lfuDecayTime);
    if (counter - LFU_INIT_VAL <= 0) counter++;
    else counter = lfuIncrement(counter, this.lfuLogFactor);
    return lfuWord(minutes, counter);
  }

  // ---------------------------------------------------------------------------

  /**
   * One run of the active expiry cycle: samples keys with a deadline in each
   * database, resuming where the previous run stopped, and stops after
   * `budgetMs` or when few sampled keys were due. Returns keys removed.
   * Does nothing on a replica (`expireOnLookup` false).
   */
  activeExpireCycle(budgetMs: number): number {
    if (!this.expireOnLookup) return 0;
    const started = performance.now();
    let removed = 0;
    for (const db of this.databases) {
      if (db.expires.size === 0) continue;
      for (;;) {
        const now = this.clock.now();
        let sampled = 0;
        let expired = 0;
        while (sampled < EXPIRE_SAMPLE) {
          db.expireCursor ??= db.expires.entries();
          const next = db.expireCursor.next();
          if (next.done) {
            db.expireCursor = undefined;
            break;
          }
          sampled++;
          const [key, deadline] = next.value;
          if (deadline <= now) {
            db.expireNow(key);
            expired++;
          }
        }
        removed += expired;
        if (sampled < EXPIRE_SAMPLE || expired <= sampled * EXPIRE_REPEAT_RATIO) break;
        if (performance.now() - started > budgetMs) return removed;
      }
    }
    return removed;
  }
}
