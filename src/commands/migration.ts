/**
 * Moving keys between servers: DUMP, RESTORE (and its cluster twin
 * RESTORE-ASKING), MIGRATE.
 *
 * DUMP is a value in Redis 7.0's RDB object encoding with the RDB version
 * and a CRC64 after it (rdb/dump.ts), so a payload from
 * redis-server restores here and ours restores there; the values come from
 * and go straight into the store's structures (rdb/values.ts).
 * RESTORE checks as Redis does, in Redis's order: options, BUSYKEY, the
 * TTL, then the payload's footer ("DUMP payload version or checksum are
 * wrong") and its content ("Bad data format"), always deeply
 * (`sanitize-dump-payload yes`), so a bad payload is an error reply, never
 * a crash or a wrong value. It is logged as Redis propagates it: a
 * relative TTL becomes absolute (`... ABSTTL`), and a key that would be
 * born expired is not created (a DEL if REPLACE removed one).
 *
 * MIGRATE serializes the keys when it runs, sends AUTH/AUTH2, SELECT and
 * one RESTORE per key to the target in one write, and reads one reply
 * line per command, as cluster.c does, with the same errors and the same
 * single retry of a connection that failed before any reply. Redis waits
 * for the target with the whole server blocked; here only the migrating
 * client waits (`suspendClient`), so other clients go on meanwhile. The
 * keys the target acknowledged are then deleted here (unless COPY) and
 * logged as one DEL — all but a key that another client changed while the
 * transfer ran, which keeps its newer value rather than lose it. The
 * connection is not kept for later MIGRATEs (Redis caches it for 10 s).
 *
 * @module
 */

import { binaryToBytes, bytesToBinary } from "../protocol/binary.ts";
import { ReplyWriter } from "../protocol/reply_writer.ts";
import { decodeDumpPayload, encodeDumpPayload, RdbError } from "../rdb/mod.ts";
import { encodingLimitsOf, rdbSourceOf, StoreValueBuilder } from "../rdb/values.ts";
import type { RedisValue } from "../store/values.ts";
import { lookupRead } from "./access.ts";
import { requireInteger } from "./arguments.ts";
import { blockingAllowed, suspendClient } from "./blocking.ts";
import type { Client } from "./client.ts";
import {
  BAD_DATA_FORMAT,
  BUSY_KEY,
  CommandError,
  DUMP_PAYLOAD_INVALID,
  INVALID_FREQ,
  INVALID_IDLETIME,
  INVALID_TTL,
  MIGRATE_CONNECT_FAILED,
  MIGRATE_KEYS_NEEDS_EMPTY_KEY,
  MIGRATE_NOT_IN_TRANSACTION,
  migrateIoError,
  migrateTargetError,
  SYNTAX_ERROR,
} from "./errors.ts";
import { command, type CommandDeclaration } from "./table.ts";

/** The DUMP payload of `value` with the server's `rdbcompression` and encoding limits. */
export function dumpPayload(client: Client, value: RedisValue): Uint8Array {
  const config = client.server.config;
  return encodeDumpPayload(rdbSourceOf(value), {
    compression: config.rdbcompression,
    limits: encodingLimitsOf(config),
  });
}

function dump(client: Client, args: string[]): void {
  const value = lookupRead(client, args[1]!);
  if (value === undefined) {
    client.reply.nullBulk();
    return;
  }
  client.reply.bulk(bytesToBinary(dumpPayload(client, value)));
}

function restore(client: Client, args: string[]): void {
  const key = args[1]!;
  let replace = false;
  let absoluteTtl = false;
  let idleTime = -1;
  let frequency = -1;
  for (let j = 4; j < args.length; j++) {
    const option = args[j]!.toLowerCase();
    const additional = args.length - j - 1;
    if (option === "replace") replace = true;
    else if (option === "absttl") absoluteTtl = true;
    else if (option === "idletime" && additional >= 1 && frequency === -1) {
      idleTime = requireInteger(args[++j]!);
      if (idleTime < 0) throw new CommandError(INVALID_IDLETIME);
    } else if (option === "freq" && additional >= 1 && idleTime === -1) {
      frequency = requireInteger(args[++j]!);
      if (frequency < 0 || frequency > 255) throw new CommandError(INVALID_FREQ);
    } else throw new CommandError(SYNTAX_ERROR);
  }
  const db = client.db;
  if (!replace && db.lookup(key) !== undefined) throw new CommandError(BUSY_KEY);
  const ttl = requireInteger(args[2]!);
  if (ttl < 0) throw new CommandError(INVALID_TTL);
  const config = client.server.config;
  let value: RedisValue;
  try {
    value = decodeDumpPayload(
      binaryToBytes(args[3]!),
      new StoreValueBuilder(config),
    );
  } catch (error) {
    if (error instanceof RdbError) {
      throw new CommandError(error.reason === "checksum" ? DUMP_PAYLOAD_INVALID : BAD_DATA_FORMAT);
    }
    throw error;
  }
  const deleted = replace && db.delete(key);
  const now = client.server.keyspace.clock.now();
  const deadline = ttl !== 0 && !absoluteTtl ? ttl + now : ttl;
  // checkAlreadyExpired: nothing is created (the AOF loader's clock stands at 0).
  if (ttl !== 0 && deadline <= now) {
    if (deleted) {
      client.changed(key, "del", "g");
      client.addEffect(["DEL", key]);
    }
    client.reply.ok();
    return;
  }
  db.set(key, value);
  if (ttl !== 0) db.setExpireAt(key, deadline);
  client.changed(key, "restore", "g");
  if (ttl !== 0 && !absoluteTtl) {
    const logged = [...args];
    logged[2] = String(deadline);
    logged.push("ABSTTL");
    client.addEffect(logged);
  } else {
    client.addEffect([...args]);
  }
  client.reply.ok();
}

/** How a transfer to the target went: the reply lines read, and why it stopped early. */
interface TransferOutcome {
  lines: string[];
  failure: "connecting" | "writing" | "reading" | undefined;
  timedOut: boolean;
}

const TIMED_OUT: unique symbol = Symbol("timed out");

/** `promise`, or TIMED_OUT after `ms`; the timer never outlives the race. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Connects to the target, writes `request` and reads `replies` lines, each
 * step within `timeoutMs` (syncWrite / syncReadLine).
 */
async function transfer(
  host: string,
  port: number,
  request: Uint8Array,
  replies: number,
  timeoutMs: number,
): Promise<TransferOutcome> {
  const outcome: TransferOutcome = { lines: [], failure: undefined, timedOut: false };
  let conn: Deno.TcpConn | undefined;
  const connecting = Deno.connect({ hostname: host, port });
  try {
    const connected = await withTimeout(connecting, timeoutMs);
    if (connected === TIMED_OUT) {
      // Close the connection if it ever comes.
      connecting.then((late) => late.close(), () => {});
      return { ...outcome, failure: "connecting", timedOut: true };
    }
    conn = connected;
  } catch (error) {
    // Redis connects without blocking and finds a refused connection when it writes.
    return {
      ...outcome,
      failure: error instanceof Deno.errors.ConnectionRefused ? "writing" : "connecting",
    };
  }
  try {
    let written = 0;
    while (written < request.byteLength) {
      const count = await withTimeout(conn.write(request.subarray(written)), timeoutMs);
      if (count === TIMED_OUT) return { ...outcome, failure: "writing", timedOut: true };
      written += count;
    }
  } catch {
    conn.close();
    return { ...outcome, failure: "writing" };
  }
  const buffer = new Uint8Array(16 * 1024);
  let pending = "";
  try {
    while (outcome.lines.length < replies) {
      const newline = pending.indexOf("\r\n");
      if (newline >= 0) {
        outcome.lines.push(pending.slice(0, newline));
        pending = pending.slice(newline + 2);
        continue;
      }
      const count = await withTimeout(conn.read(buffer), timeoutMs);
      if (count === TIMED_OUT) return { ...outcome, failure: "reading", timedOut: true };
      if (count === null) return { ...outcome, failure: "reading" };
      pending += bytesToBinary(buffer.subarray(0, count));
    }
    return outcome;
  } catch {
    return { ...outcome, failure: "reading" };
  } finally {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
}

/** Redis's single retry: a failure before any reply that was not a timeout. */
async function transferWithRetry(
  host: string,
  port: number,
  request: Uint8Array,
  replies: number,
  timeoutMs: number,
): Promise<TransferOutcome> {
  const first = await transfer(host, port, request, replies, timeoutMs);
  if (first.failure === undefined || first.timedOut || first.lines.length > 0) return first;
  return await transfer(host, port, request, replies, timeoutMs);
}

function migrate(client: Client, args: string[]): void {
  const host = args[1]!;
  const port = Number.parseInt(args[2]!, 10);
  let copy = false;
  let replace = false;
  let username: string | undefined;
  let password: string | undefined;
  let keys = [args[3]!];
  for (let j = 6; j < args.length; j++) {
    const moreArgs = args.length - 1 - j;
    const option = args[j]!.toLowerCase();
    if (option === "copy") copy = true;
    else if (option === "replace") replace = true;
    else if (option === "auth") {
      if (moreArgs < 1) throw new CommandError(SYNTAX_ERROR);
      password = args[++j]!;
    } else if (option === "auth2") {
      if (moreArgs < 2) throw new CommandError(SYNTAX_ERROR);
      username = args[++j]!;
      password = args[++j]!;
    } else if (option === "keys") {
      if (args[3]!.length !== 0) throw new CommandError(MIGRATE_KEYS_NEEDS_EMPTY_KEY);
      keys = args.slice(j + 1);
      break;
    } else throw new CommandError(SYNTAX_ERROR);
  }
  let timeout = requireInteger(args[5]!);
  const database = requireInteger(args[4]!);
  if (timeout <= 0) timeout = 1000;

  const found: [string, RedisValue][] = [];
  for (const key of keys) {
    const value = lookupRead(client, key);
    if (value !== undefined) found.push([key, value]);
  }
  if (found.length === 0) {
    client.reply.simple("NOKEY");
    return;
  }
  if (!blockingAllowed(client)) throw new CommandError(MIGRATE_NOT_IN_TRANSACTION);

  // Serialize now: the target gets the values as they are at this moment.
  const request = new ReplyWriter();
  let replies = 0;
  if (password !== undefined) {
    request.bulkArray(username === undefined ? ["AUTH", password] : ["AUTH", username, password]);
    replies++;
  }
  request.bulkArray(["SELECT", String(database)]);
  replies++;
  const now = client.server.keyspace.clock.now();
  const sent: string[] = [];
  for (const [key, value] of found) {
    const deadline = client.db.expireAt(key);
    let ttl = 0;
    if (deadline !== undefined) {
      ttl = deadline - now;
      if (ttl < 0) continue;
      if (ttl < 1) ttl = 1;
    }
    const restoreArgs = ["RESTORE", key, String(ttl), bytesToBinary(dumpPayload(client, value))];
    if (replace) restoreArgs.push("REPLACE");
    request.bulkArray(restoreArgs);
    sent.push(key);
  }
  const db = client.db;
  const tracker = client.server.persistence.trackKeys(db, sent);
  const work = transferWithRetry(host, port, request.take(), replies + sent.length, timeout);
  suspendClient(client, work, (waiter, settled) => {
    tracker.release();
    if (settled.status === "rejected") throw settled.reason;
    const outcome = settled.value;
    if (outcome.failure === "connecting") throw new CommandError(MIGRATE_CONNECT_FAILED);
    const lines = outcome.lines;
    const authReply = password !== undefined ? lines.shift() : undefined;
    const selectReply = lines.shift();
    if (outcome.failure !== undefined && lines.length === 0 && authReply === undefined) {
      throw new CommandError(migrateIoError(outcome.failure === "writing" ? "writing" : "reading"));
    }
    let targetError: string | undefined;
    const deleted: string[] = [];
    for (let j = 0; j < lines.length; j++) {
      const line = lines[j]!;
      const failed = authReply?.startsWith("-")
        ? authReply
        : selectReply?.startsWith("-")
        ? selectReply
        : line.startsWith("-")
        ? line
        : undefined;
      if (failed !== undefined) {
        targetError ??= failed.slice(1);
        continue;
      }
      const key = sent[j]!;
      if (copy || tracker.changed(key)) continue;
      if (db.delete(key)) {
        waiter.server.keyChanged(db, key, "del", "g");
        deleted.push(key);
      }
    }
    if (deleted.length > 0) waiter.server.executor.addEffect(db.index, ["DEL", ...deleted]);
    if (targetError !== undefined) throw new CommandError(migrateTargetError(targetError));
    if (outcome.failure !== undefined) throw new CommandError(migrateIoError("reading"));
    waiter.reply.ok();
  });
}

const RESTORE_DECLARATION = {
  arity: -4,
  flags: ["write", "denyoom"],
  aclCategories: ["keyspace", "dangerous"],
  keySpecs: [{ flags: ["OW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
  propagation: "effects",
  handler: restore,
} as const satisfies Omit<CommandDeclaration, "name">;

export const migrationCommands = [
  command({
    name: "dump",
    arity: 2,
    flags: ["readonly"],
    aclCategories: ["keyspace"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: dump,
  }),
  command({ name: "restore", ...RESTORE_DECLARATION }),
  command({
    name: "restore-asking",
    ...RESTORE_DECLARATION,
    flags: ["write", "denyoom", "asking"],
  }),
  command({
    name: "migrate",
    arity: -6,
    flags: ["write"],
    aclCategories: ["keyspace", "dangerous"],
    keySpecs: [
      { flags: ["RW", "ACCESS", "DELETE"], begin: { index: 3 }, find: { lastKey: 0 } },
      {
        flags: ["RW", "ACCESS", "DELETE", "INCOMPLETE"],
        begin: { keyword: "KEYS", startFrom: -2 },
        find: { lastKey: -1 },
      },
    ],
    propagation: "effects",
    handler: migrate,
  }),
];
