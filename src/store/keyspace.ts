/**
 * The keyspace: numbered databases of typed values with per-key expiry.
 *
 * Each database is a Map from key to value plus a Map from key to absolute
 * expiry time in milliseconds. Expiry works like Redis: every lookup checks
 * the key's deadline and removes it when passed (lazy expiry), and an active
 * cycle on a timer walks the keys that have a deadline a bounded number at a
 * time, resuming where it stopped, so memory of keys nobody reads is freed
 * too without ever scanning everything in one go.
 *
 * The keyspace knows nothing of clients or files. Whoever needs to hear of
 * removals it makes on its own (the AOF logs a DEL, notifications fire)
 * registers a `KeyspaceObserver`. On a replica (`expireOnLookup` false)
 * nothing expires by itself: expired keys read as missing until the
 * master's DEL removes them.
 *
 * @module
 */

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

  constructor(readonly index: number, readonly keyspace: Keyspace) {}

  get size(): number {
    return this.entries.size;
  }

  /** The value at `key`, removing it first if its deadline has passed. */
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
    return value;
  }

  /** Whether `key` exists (expiring it first if due). */
  has(key: string): boolean {
    return this.lookup(key) !== undefined;
  }

  /**
   * Stores `value` at `key`. Like Redis's setKey, any deadline is removed
   * unless `keepTtl` is set.
   */
  set(key: string, value: RedisValue, keepTtl = false): void {
    this.entries.set(key, value);
    if (!keepTtl && this.expires.size !== 0) this.expires.delete(key);
  }

  /** Removes `key` and its deadline; true if it existed. */
  delete(key: string): boolean {
    if (!this.entries.delete(key)) return false;
    if (this.expires.size !== 0) this.expires.delete(key);
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
  }

  /** Removes an expired key and tells the observer (who logs the deletion). */
  expireNow(key: string): void {
    this.delete(key);
    this.keyspace.expiredKeys++;
    this.keyspace.observer?.expired(this, key);
  }

  /** Live keys, skipping (and removing) any whose deadline has passed. */
  *liveKeys(): IterableIterator<string> {
    const now = this.keyspace.clock.now();
    for (const key of this.entries.keys()) {
      const deadline = this.expireAt(key);
      if (deadline !== undefined && deadline <= now) {
        this.expireNow(key);
        continue;
      }
      yield key;
    }
  }

  /** Moves all content to/from `other` (SWAPDB). */
  swapContent(other: Database): void {
    swapMaps(this.entries, other.entries);
    swapMaps(this.expires, other.expires);
    this.expireCursor = other.expireCursor = undefined;
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
   * False on a replica: a key past its deadline reads as missing but stays
   * until the master's DEL arrives, and the active cycle removes nothing.
   */
  expireOnLookup = true;

  constructor(databaseCount: number, public clock: Clock = systemClock) {
    this.databases = Array.from({ length: databaseCount }, (_, i) => new Database(i, this));
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

  /**
   * One run of the active expiry cycle: samples keys with a deadline in each
   * database, resuming where the previous run stopped, and stops after
   * `budgetMs` or when few sampled keys were due. Returns keys removed.
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
