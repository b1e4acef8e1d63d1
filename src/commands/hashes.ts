/**
 * Hash commands. Hashes are Maps from field to value (binary strings);
 * Redis keeps small hashes in insertion order, as a Map does.
 *
 * @module
 */

import type { Client } from "../server/client.ts";
import type { HashValue } from "../store/values.ts";
import { deleteIfEmpty, getHash, getOrCreate } from "./access.ts";
import { CommandError, wrongArity } from "./errors.ts";
import { command } from "./table.ts";

const newHash = (): HashValue => new Map();

/** HSET and HMSET: set field/value pairs; `reply` says what each answers. */
function setFields(client: Client, args: string[], reply: (added: number) => void): void {
  if (args.length % 2 !== 0) throw new CommandError(wrongArity(args[0]!.toLowerCase()));
  const key = args[1]!;
  const hash = getOrCreate(client, key, "hash", newHash);
  let added = 0;
  for (let i = 2; i < args.length; i += 2) {
    if (!hash.has(args[i]!)) added++;
    hash.set(args[i]!, args[i + 1]!);
  }
  client.changed(key, "hset", "h");
  reply(added);
}

function hget(client: Client, args: string[]): void {
  const value = getHash(client, args[1]!)?.get(args[2]!);
  if (value === undefined) client.reply.nullBulk();
  else client.reply.bulk(value);
}

function hgetall(client: Client, args: string[]): void {
  const hash = getHash(client, args[1]!);
  const reply = client.reply;
  if (hash === undefined) {
    reply.mapHeader(0);
    return;
  }
  reply.mapHeader(hash.size);
  for (const [field, value] of hash) {
    reply.bulk(field);
    reply.bulk(value);
  }
}

function hdel(client: Client, args: string[]): void {
  const key = args[1]!;
  const hash = getHash(client, key);
  let deleted = 0;
  if (hash !== undefined) {
    for (let i = 2; i < args.length; i++) if (hash.delete(args[i]!)) deleted++;
    if (deleted > 0) {
      client.changed(key, "hdel", "h");
      deleteIfEmpty(client, key, hash.size);
    }
  }
  client.reply.integer(deleted);
}

export const hashCommands = [
  command({
    name: "hset",
    arity: -4,
    flags: ["write", "denyoom", "fast"],
    group: "hash",
    summary: "Set the string value of a hash field",
    since: "2.0.0",
    firstKey: 1,
    handler: (client, args) => setFields(client, args, (added) => client.reply.integer(added)),
  }),
  command({
    name: "hmset",
    arity: -4,
    flags: ["write", "denyoom", "fast"],
    group: "hash",
    summary: "Set multiple hash fields to multiple values",
    since: "2.0.0",
    firstKey: 1,
    handler: (client, args) => setFields(client, args, () => client.reply.ok()),
  }),
  command({
    name: "hget",
    arity: 3,
    flags: ["readonly", "fast"],
    group: "hash",
    summary: "Get the value of a hash field",
    since: "2.0.0",
    firstKey: 1,
    handler: hget,
  }),
  command({
    name: "hgetall",
    arity: 2,
    flags: ["readonly"],
    group: "hash",
    summary: "Get all the fields and values in a hash",
    since: "2.0.0",
    firstKey: 1,
    handler: hgetall,
  }),
  command({
    name: "hdel",
    arity: -3,
    flags: ["write", "fast"],
    group: "hash",
    summary: "Delete one or more hash fields",
    since: "2.0.0",
    firstKey: 1,
    handler: hdel,
  }),
];
