/**
 * Typed access to the keyspace for handlers.
 *
 * Every read of a key goes through here: it applies lazy expiry (via the
 * database lookup), counts keyspace hits and misses for INFO, and checks
 * the value's type, throwing Redis's WRONGTYPE error so no handler repeats
 * that check.
 *
 * A string key may hold a HyperLogLog (see store/values.ts). The string
 * lookups hide that: they return its exact HYLL bytes, so every string
 * command reads what Redis would, and a string command that writes stores a
 * plain string in its place (the HyperLogLog is rebuilt from the bytes by
 * the next PF command, as Redis re-validates them).
 *
 * @module
 */

import type { Client } from "./client.ts";
import type { SortedSet } from "../store/sorted_set.ts";
import { HyperLogLog } from "../store/hyperloglog.ts";
import {
  type HashValue,
  type ListValue,
  type RedisValue,
  type SetValue,
  typeOf,
  type ValueType,
} from "../store/values.ts";
import { CommandError, WRONG_TYPE } from "./errors.ts";

/** The value at `key` (counting a hit or miss), or undefined. */
export function lookupRead(client: Client, key: string): RedisValue | undefined {
  const value = client.db.lookup(key);
  if (value === undefined) client.server.stats.keyspaceMisses++;
  else client.server.stats.keyspaceHits++;
  return value;
}

/** The value at `key` if it has type `type`; WRONGTYPE if it has another. */
function lookupTyped(client: Client, key: string, type: ValueType): RedisValue | undefined {
  const value = lookupRead(client, key);
  if (value !== undefined && typeOf(value) !== type) throw new CommandError(WRONG_TYPE);
  return value;
}

/** The string at `key` (a HyperLogLog's bytes), or undefined; WRONGTYPE for other types. */
export function getString(client: Client, key: string): string | undefined {
  const value = lookupRead(client, key);
  if (value === undefined || typeof value === "string") return value;
  if (value instanceof HyperLogLog) return value.toBinary();
  throw new CommandError(WRONG_TYPE);
}

/**
 * The string at `key` for a command about to modify it, or undefined;
 * WRONGTYPE if the key holds another type. Like Redis's lookupKeyWrite, it
 * applies lazy expiry but does not count a keyspace hit or miss.
 */
export function getStringForWrite(client: Client, key: string): string | undefined {
  const value = client.db.lookup(key);
  if (value === undefined || typeof value === "string") return value;
  if (value instanceof HyperLogLog) return value.toBinary();
  throw new CommandError(WRONG_TYPE);
}

export function getHash(client: Client, key: string): HashValue | undefined {
  return lookupTyped(client, key, "hash") as HashValue | undefined;
}

export function getList(client: Client, key: string): ListValue | undefined {
  return lookupTyped(client, key, "list") as ListValue | undefined;
}

export function getSet(client: Client, key: string): SetValue | undefined {
  return lookupTyped(client, key, "set") as SetValue | undefined;
}

export function getSortedSet(client: Client, key: string): SortedSet | undefined {
  return lookupTyped(client, key, "zset") as SortedSet | undefined;
}

/**
 * The collection at `key`, created empty by `create` (and stored) when the
 * key does not exist; WRONGTYPE if the key holds another type.
 */
export function getOrCreate<T extends RedisValue>(
  client: Client,
  key: string,
  type: ValueType,
  create: () => T,
): T {
  const existing = lookupTyped(client, key, type);
  if (existing !== undefined) return existing as T;
  const created = create();
  client.db.set(key, created);
  return created;
}

/** Removes `key` if its collection became empty, as Redis never keeps empty ones. */
export function deleteIfEmpty(client: Client, key: string, size: number): boolean {
  if (size !== 0) return false;
  client.db.delete(key);
  client.changed(key, "del", "g");
  return true;
}
