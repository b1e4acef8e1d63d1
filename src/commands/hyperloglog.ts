/**
 * HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST
 * (hyperloglog.c's commands; the HLL itself is store/hyperloglog.ts).
 *
 * An HLL is a string key whose bytes are Redis's HYLL format. The first PF
 * command that meets a plain string holding one validates it once
 * (`HyperLogLog.fromBinary`, Redis's isHLLObjectOrReply) and stores the
 * parsed HyperLogLog in its place, keeping its TTL, so later PFADDs edit
 * registers in place. Every other command still sees a string: access.ts
 * hands them the exact bytes, and a string write replaces the HLL.
 *
 * Each command follows Redis's order of checks and side effects, which the
 * AOF and WATCH can observe:
 * - PFADD on a missing key creates it and counts that as an update (reply 1
 *   even without elements); a corruption found midway replies INVALIDOBJ
 *   and, like Redis, neither signals the key nor propagates the command.
 * - PFCOUNT of one key returns the cached cardinality or computes it and
 *   writes the cache: Redis signals the key (WATCH sees it, notifications
 *   do not) and propagates the PFCOUNT, so it is declared with `effects`
 *   and logs itself exactly when the cache changed; replaying it rewrites
 *   the same bytes. PFCOUNT of several keys changes nothing.
 * - PFMERGE folds every key, the destination included, then writes the
 *   maximum into the destination (created when missing).
 * - PFDEBUG GETREG and TODENSE convert a sparse HLL to dense: Redis bumps
 *   dirty without signalling the key, so the command is logged (as sent)
 *   but WATCH is not touched.
 *
 * @module
 */

import type { Client } from "./client.ts";
import {
  CorruptedHyperLogLogError,
  HyperLogLog,
  hyperLogLogSelfTest,
  HyperLogLogUnion,
} from "../store/hyperloglog.ts";
import type { RedisValue } from "../store/values.ts";
import { lookupRead } from "./access.ts";
import {
  CommandError,
  CORRUPTED_HYPERLOGLOG,
  HLL_NOT_SPARSE,
  NOT_A_HYPERLOGLOG,
  PFDEBUG_NO_SUCH_KEY,
  unknownPfdebugSubcommand,
  WRONG_TYPE,
} from "./errors.ts";
import { command } from "./table.ts";

/**
 * The HyperLogLog `value` (found at `key`) holds, for a PF command: the
 * stored instance, or a plain string validated and parsed once, then
 * stored in its place (TTL kept). WRONGTYPE for other types, Redis's
 * not-an-HLL error for strings that are not HYLL.
 */
function hyperLogLogOf(client: Client, key: string, value: RedisValue): HyperLogLog {
  if (value instanceof HyperLogLog) return value;
  if (typeof value !== "string") throw new CommandError(WRONG_TYPE);
  const parsed = HyperLogLog.fromBinary(value);
  if (parsed === undefined) throw new CommandError(NOT_A_HYPERLOGLOG);
  client.db.set(key, parsed, true);
  return parsed;
}

/** Runs `operation`, turning a corrupted HLL into Redis's INVALIDOBJ reply. */
function checked<T>(operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    if (error instanceof CorruptedHyperLogLogError) throw new CommandError(CORRUPTED_HYPERLOGLOG);
    throw error;
  }
}

function sparseMaxBytes(client: Client): number {
  return client.server.config.hllSparseMaxBytes;
}

/** PFADD key [element ...] */
function pfadd(client: Client, args: string[]): void {
  const key = args[1]!;
  const db = client.db;
  const existing = db.lookup(key);
  const maxBytes = sparseMaxBytes(client);
  let updated = false;
  let hll: HyperLogLog;
  if (existing === undefined) {
    hll = HyperLogLog.create();
    db.set(key, hll);
    updated = true;
  } else {
    hll = hyperLogLogOf(client, key, existing);
  }
  const target = hll;
  checked(() => {
    for (let i = 2; i < args.length; i++) {
      if (target.add(args[i]!, maxBytes)) updated = true;
    }
  });
  if (updated) {
    hll.invalidateCache();
    client.changed(key, "pfadd", "$");
  }
  client.reply.integer(updated ? 1 : 0);
}

/** PFCOUNT key [key ...] */
function pfcount(client: Client, args: string[]): void {
  if (args.length > 2) {
    const union = new HyperLogLogUnion();
    for (let i = 1; i < args.length; i++) {
      const key = args[i]!;
      const value = lookupRead(client, key);
      if (value === undefined) continue;
      const hll = hyperLogLogOf(client, key, value);
      checked(() => union.add(hll));
    }
    client.reply.integer(union.count());
    return;
  }
  const key = args[1]!;
  const value = lookupRead(client, key);
  if (value === undefined) {
    client.reply.integer(0);
    return;
  }
  const hll = hyperLogLogOf(client, key, value);
  const { cardinality, cacheUpdated } = checked(() => hll.count());
  if (cacheUpdated) {
    // Redis signals the key (WATCH) but sends no keyspace notification.
    client.changed(key, "", "");
    client.addEffect(["PFCOUNT", key]);
  }
  client.reply.integer(cardinality);
}

/** PFMERGE destkey [sourcekey ...] */
function pfmerge(client: Client, args: string[]): void {
  const union = new HyperLogLogUnion();
  for (let i = 1; i < args.length; i++) {
    const key = args[i]!;
    const value = lookupRead(client, key);
    if (value === undefined) continue;
    const hll = hyperLogLogOf(client, key, value);
    checked(() => union.add(hll));
  }
  const key = args[1]!;
  // The destination, if it exists, was validated and parsed as the first source.
  let destination = client.db.lookup(key) as HyperLogLog | undefined;
  if (destination === undefined) {
    destination = HyperLogLog.create();
    client.db.set(key, destination);
  }
  const target = destination;
  checked(() => union.storeInto(target, sparseMaxBytes(client)));
  client.changed(key, "pfadd", "$");
  client.reply.ok();
}

/** PFDEBUG GETREG|DECODE|ENCODING|TODENSE key */
function pfdebug(client: Client, args: string[]): void {
  const subcommand = args[1]!;
  const key = args[2]!;
  const value = client.db.lookup(key);
  if (value === undefined) throw new CommandError(PFDEBUG_NO_SUCH_KEY);
  const hll = hyperLogLogOf(client, key, value);
  switch (subcommand.toLowerCase()) {
    case "getreg": {
      const { registers, converted } = checked(() => hll.debugRegisters());
      // An encoding change is propagated, but Redis does not signal the key.
      if (converted) client.server.dirty++;
      const reply = client.reply;
      reply.arrayHeader(registers.length);
      for (let i = 0; i < registers.length; i++) reply.integer(registers[i]!);
      return;
    }
    case "decode": {
      const decoded = hll.debugDecode();
      if (decoded === undefined) throw new CommandError(HLL_NOT_SPARSE);
      client.reply.bulk(decoded);
      return;
    }
    case "encoding":
      client.reply.simple(hll.encoding);
      return;
    case "todense": {
      const converted = checked(() => hll.toDense());
      if (converted) client.server.dirty++;
      client.reply.integer(converted ? 1 : 0);
      return;
    }
    default:
      throw new CommandError(unknownPfdebugSubcommand(subcommand));
  }
}

/** PFSELFTEST: the register and estimator checks of store/hyperloglog.ts. */
function pfselftest(client: Client): void {
  const failure = hyperLogLogSelfTest();
  if (failure !== undefined) throw new CommandError(failure);
  client.reply.ok();
}

export const hyperLogLogCommands = [
  command({
    name: "pfadd",
    arity: -2,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["hyperloglog"],
    keySpecs: [{ flags: ["RW", "INSERT"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: pfadd,
  }),
  command({
    name: "pfcount",
    arity: -2,
    flags: ["readonly"],
    aclCategories: ["hyperloglog"],
    keySpecs: [
      {
        flags: ["RW", "ACCESS"],
        begin: { index: 1 },
        find: { lastKey: -1 },
        notes:
          "RW because it may change the internal representation of the key, and propagate to replicas",
      },
    ],
    propagation: "effects",
    handler: pfcount,
  }),
  command({
    name: "pfmerge",
    arity: -2,
    flags: ["write", "denyoom"],
    aclCategories: ["hyperloglog"],
    keySpecs: [
      { flags: ["RW", "ACCESS", "INSERT"], begin: { index: 1 }, find: { lastKey: 0 } },
      { flags: ["RO", "ACCESS"], begin: { index: 2 }, find: { lastKey: -1 } },
    ],
    handler: pfmerge,
  }),
  command({
    name: "pfdebug",
    arity: 3,
    flags: ["write", "denyoom", "admin"],
    aclCategories: ["hyperloglog"],
    keySpecs: [{ flags: ["RW", "ACCESS"], begin: { index: 2 }, find: { lastKey: 0 } }],
    handler: pfdebug,
  }),
  command({
    name: "pfselftest",
    arity: 1,
    flags: ["admin"],
    aclCategories: ["hyperloglog"],
    handler: pfselftest,
  }),
];
