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
import { ArgumentCursor, parseInt64 } from "./arguments.ts";
import {
  CommandError,
  GT_WITH_LT,
  invalidExpireTime,
  NOT_INTEGER,
  NX_WITH_XX_GT_LT,
  unsupportedOption,
} from "./errors.ts";
import { command } from "./table.ts";

/** C's LLONG_MAX and LLONG_MIN: Redis checks the deadline arithmetic against them exactly. */
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** Whether a key with this deadline should be removed now instead of expiring later. */
export function alreadyExpired(client: Client, deadline: number): boolean {
  return deadline <= client.server.keyspace.clock.now() && !client.server.loading;
}

/**
 * The absolute deadline in ms of an EXPIRE-family argument, computed in
 * 64-bit integers as Redis's expireGenericCommand does: seconds beyond
 * LLONG_MAX/1000 either way, or a sum past LLONG_MAX, are `invalid expire
 * time` (doubles cannot tell 9223372036854775 from ...776).
 */
function absoluteDeadline(name: string, text: string, baseTime: number, unitMs: number): bigint {
  let when = parseInt64(text);
  if (when === undefined) throw new CommandError(NOT_INTEGER);
  if (unitMs === 1000) {
    // BigInt division truncates toward zero, as C's does.
    if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) {
      throw new CommandError(invalidExpireTime(name));
    }
    when *= 1000n;
  }
  const base = BigInt(Math.floor(baseTime));
  if (when > INT64_MAX - base) throw new CommandError(invalidExpireTime(name));
  return when + base;
}

function expireGeneric(client: Client, args: string[], baseTime: number, unitMs: number): void {
  const key = args[1]!;
  const cursor = new ArgumentCursor(args, 3);
  const { NX: nx, XX: xx, GT: gt, LT: lt } = cursor.flags(["NX", "XX", "GT", "LT"]);
  if (cursor.hasMore()) throw new CommandError(unsupportedOption(cursor.next()));
  if (nx && (xx || gt || lt)) throw new CommandError(NX_WITH_XX_GT_LT);
  if (gt && lt) throw new CommandError(GT_WITH_LT);
  const deadline = absoluteDeadline(args[0]!.toLowerCase(), args[2]!, baseTime, unitMs);
  const when = Number(deadline);

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
    client.addEffect(["PEXPIREAT", key, String(deadline), ...args.slice(3)]);
    client.changed(key, "expire", "g");
  }
  client.reply.integer(1);
}

/** TTL family: -2 for a missing key, -1 without deadline, else the remaining time. */
function ttlGeneric(client: Client, key: string, inMs: boolean, absolute: boolean): void {
  const db = client.db;
  // Not an access (Redis looks the key up with LOOKUP_NOTOUCH).
  if (db.peek(key) === undefined) {
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
