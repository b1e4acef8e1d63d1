/**
 * Generic key commands: DEL, UNLINK, EXISTS, TYPE, KEYS.
 *
 * @module
 */

import type { Client } from "../server/client.ts";
import { globMatch } from "../store/glob.ts";
import { typeOf } from "../store/values.ts";
import { command } from "./table.ts";

function del(client: Client, args: string[]): void {
  let deleted = 0;
  const db = client.db;
  for (let i = 1; i < args.length; i++) {
    const key = args[i]!;
    // lookup first so an expired key counts as missing (and is logged as expired).
    if (db.lookup(key) !== undefined && db.delete(key)) {
      client.changed(key, "del", "g");
      deleted++;
    }
  }
  client.reply.integer(deleted);
}

function exists(client: Client, args: string[]): void {
  let count = 0;
  for (let i = 1; i < args.length; i++) if (client.db.has(args[i]!)) count++;
  client.reply.integer(count);
}

function keys(client: Client, args: string[]): void {
  const pattern = args[1]!;
  const all = pattern === "*";
  const matching: string[] = [];
  for (const key of client.db.liveKeys()) {
    if (all || globMatch(pattern, key)) matching.push(key);
  }
  client.reply.bulkArray(matching);
}

export const keyCommands = [
  command({
    name: "del",
    arity: -2,
    flags: ["write"],
    group: "generic",
    summary: "Delete a key",
    since: "1.0.0",
    complexity: "O(N) where N is the number of keys that will be removed.",
    firstKey: 1,
    lastKey: -1,
    handler: del,
  }),
  command({
    name: "unlink",
    arity: -2,
    flags: ["write", "fast"],
    group: "generic",
    summary:
      "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
    since: "4.0.0",
    firstKey: 1,
    lastKey: -1,
    handler: del,
  }),
  command({
    name: "exists",
    arity: -2,
    flags: ["readonly", "fast"],
    group: "generic",
    summary: "Determine if a key exists",
    since: "1.0.0",
    firstKey: 1,
    lastKey: -1,
    handler: exists,
  }),
  command({
    name: "type",
    arity: 2,
    flags: ["readonly", "fast"],
    group: "generic",
    summary: "Determine the type stored at key",
    since: "1.0.0",
    firstKey: 1,
    handler: (client, args) => {
      const value = client.db.lookup(args[1]!);
      client.reply.simple(value === undefined ? "none" : typeOf(value));
    },
  }),
  command({
    name: "keys",
    arity: 2,
    flags: ["readonly"],
    group: "generic",
    summary: "Find all keys matching the given pattern",
    since: "1.0.0",
    complexity: "O(N) with N being the number of keys in the database",
    handler: keys,
  }),
];
