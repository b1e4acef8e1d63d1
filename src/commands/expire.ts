/**
 * Expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX, XX, GT,
 * LT), TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST.
 *
 * As in Redis, every way of setting a deadline is logged to the AOF as
 * PEXPIREAT with an absolute time, so replaying the file later gives the
 * same deadline; a deadline already in the past deletes the key and is
 * logged as DEL.
 *
 * @module
 */

import type { Client } from "./client.ts";
import { ArgumentCursor, requireInteger } from "./arguments.ts";
import {
  CommandError,
  GT_WITH_LT,
  invalidExpireTime,
  NX_WITH_XX_GT_LT,
  unsupportedOption,
} from "./errors.ts";
import { command } from "./table.ts";

const INT64_MAX = 9223372036854775807;

/** Whether a key with this deadline should be removed now instead of expiring later. */
export function alreadyExpired(client: Client, deadline: number): boolean {
  return deadline <= client.server.keyspace.clock.now() && !client.server.loading;
}

function expireGeneric(client: Client, args: string[], baseTime: number, unitMs: number): void {
  const key = args[1]!;
  const cursor = new ArgumentCursor(args, 3);
  const { NX: nx, XX: xx, GT: gt, LT: lt } = cursor.flags(["NX", "XX", "GT", "LT"]);
  if (cursor.hasMore()) throw new CommandError(unsupportedOption(cursor.next()));
  if (nx && (xx || gt || lt)) throw new CommandError(NX_WITH_XX_GT_LT);
  if (gt && lt) throw new CommandError(GT_WITH_LT);
  let when = requireInteger(args[2]!);
  const name = args[0]!.toLowerCase();
  if (unitMs === 1000) {
    if (Math.abs(when) > INT64_MAX / 1000) throw new CommandError(invalidExpireTime(name));
    when *= 1000;
  }
  if (when > INT64_MAX - baseTime) throw new CommandError(invalidExpireTime(name));
  when += baseTime;

  const db = client.db;
  if (!db.has(key)) {
    client.reply.integer(0);
    return;
  }
  const current = db.expireAt(key);
  if (
    (nx && current !== undefined) || (xx && current === undefined) ||
    (gt && (current === undefined || when <= current)) ||
    (lt && current !== undefined && when >= current)
  ) {
    client.reply.integer(0);
    return;
  }
  if (alreadyExpired(client, when)) {
    db.delete(key);
    client.addEffect(["DEL", key]);
    client.changed(key, "del", "g");
  } else {
    db.setExpireAt(key, when);
    client.addEffect(["PEXPIREAT", key, String(when), ...args.slice(3)]);
    client.changed(key, "expire", "g");
  }
  client.reply.integer(1);
}

/** TTL family: -2 for a missing key, -1 without deadline, else the remaining time. */
function ttlGeneric(client: Client, key: string, inMs: boolean, absolute: boolean): void {
  const db = client.db;
  if (!db.has(key)) {
    client.reply.integer(-2);
    return;
  }
  const deadline = db.expireAt(key);
  if (deadline === undefined) {
    client.reply.integer(-1);
    return;
  }
  if (absolute) {
    // Redis rounds to the nearest second here.
    client.reply.integer(inMs ? deadline : Math.floor((deadline + 500) / 1000));
    return;
  }
  const remaining = Math.max(0, deadline - client.server.keyspace.clock.now());
  client.reply.integer(inMs ? remaining : Math.floor((remaining + 500) / 1000));
}

const now = (client: Client) => client.server.keyspace.clock.now();

function expireCommand(name: string, relative: boolean, unitMs: number) {
  return command({
    name,
    arity: -3,
    flags: ["write", "fast"],
    aclCategories: ["keyspace"],
    keySpecs: [{ flags: ["RW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    propagation: "effects",
    handler: (client, args) => expireGeneric(client, args, relative ? now(client) : 0, unitMs),
  });
}

function ttlCommand(name: string, inMs: boolean, absolute: boolean) {
  return command({
    name,
    arity: 2,
    flags: ["readonly", "fast"],
    aclCategories: ["keyspace"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => ttlGeneric(client, args[1]!, inMs, absolute),
  });
}

export const expireCommands = [
  expireCommand("expire", true, 1000),
  expireCommand("pexpire", true, 1),
  expireCommand("expireat", false, 1000),
  expireCommand("pexpireat", false, 1),
  ttlCommand("ttl", false, false),
  ttlCommand("pttl", true, false),
  ttlCommand("expiretime", false, true),
  ttlCommand("pexpiretime", true, true),
  command({
    name: "persist",
    arity: 2,
    flags: ["write", "fast"],
    aclCategories: ["keyspace"],
    keySpecs: [{ flags: ["RW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: (client, args) => {
      const key = args[1]!;
      if (client.db.has(key) && client.db.persist(key)) {
        client.changed(key, "persist", "g");
        client.reply.integer(1);
      } else {
        client.reply.integer(0);
      }
    },
  }),
];
