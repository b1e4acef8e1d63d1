/**
 * Transaction commands: MULTI, EXEC, DISCARD, WATCH and UNWATCH.
 *
 * Queuing is the dispatcher's job: between MULTI and EXEC it appends each
 * command to `client.transaction` and answers `+QUEUED`, or marks
 * `client.transactionFailed` when it rejects one. EXEC then runs the queue
 * through the dispatcher's `call`, in one go, so nothing from another
 * client interleaves, and errors of single commands land in place in the
 * reply array without undoing the others, as in Redis. `client.transaction`
 * is cleared only after the queue has run, so a handler that finds it set
 * is running inside EXEC: blocking commands then answer at once instead of
 * blocking (Redis's CLIENT_DENY_BLOCKING).
 *
 * WATCH is optimistic locking. Watches are kept per database index, key →
 * the clients watching it, and a key change listener marks every watcher
 * of a changed key (`client.watchedKeyChanged`, Redis's CLIENT_DIRTY_CAS),
 * so the next EXEC answers a null array. The listener costs one array
 * lookup when nobody watches. Redis 7.0's finer points are kept: a key that
 * was already expired when it was watched may be removed by expiry without
 * failing EXEC, but one that expires while watched fails it even if nobody
 * noticed the expiry yet; FLUSHDB, FLUSHALL and SWAPDB fail only watchers
 * of keys that existed before or after them. Each watch remembers whether
 * its key existed, so those commands can be judged after the fact.
 *
 * For the AOF, everything EXEC's commands propagate is collected and
 * written as Redis 7.0 writes it: a single command as it is, several
 * wrapped in MULTI … EXEC, so a transaction is replayed whole or not at
 * all (the loader discards a block cut off at the end of the file).
 *
 * @module
 */

import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import type { Database } from "../store/keyspace.ts";
import { call } from "./dispatcher.ts";
import { CommandError } from "./errors.ts";
import { command, type CommandFlag } from "./table.ts";

const EXEC_WITHOUT_MULTI = "ERR EXEC without MULTI";
const DISCARD_WITHOUT_MULTI = "ERR DISCARD without MULTI";
const NESTED_MULTI = "ERR MULTI calls can not be nested";
const WATCH_INSIDE_MULTI = "ERR WATCH inside MULTI is not allowed";
const EXEC_ABORTED = "EXECABORT Transaction discarded because of previous errors.";

/** One client watching one key. */
interface Watch {
  readonly client: Client;
  /** The key was in the database (live or not yet removed after expiring). */
  existed: boolean;
  /** The key had already expired when WATCH ran: its removal changes nothing. */
  expired: boolean;
}

/** Every watch of a server: per database index, key → watcher → watch. */
class WatchRegistry {
  readonly databases: (Map<string, Map<Client, Watch>> | undefined)[] = [];
}

const registries = new WeakMap<Server, WatchRegistry>();

/**
 * Sets up WATCH for `server`: watchers hear of key changes, of FLUSHDB,
 * FLUSHALL and SWAPDB, and their watches end on disconnect and RESET.
 * Idempotent; WATCH calls it too, so a server that was not set up
 * explicitly still behaves.
 *
 * @example
 * ```ts
 * const server = new Server(config, log);
 * installTransactions(server);
 * ```
 */
export function installTransactions(server: Server): void {
  watchRegistry(server);
}

function watchRegistry(server: Server): WatchRegistry {
  let registry = registries.get(server);
  if (registry === undefined) {
    const created = new WatchRegistry();
    registries.set(server, created);
    server.keyChangeListeners.push((db, key) => keyChanged(created, db, key));
    server.databaseChangedListeners.push((db) => databaseChanged(created, db));
    const forget = (client: Client) => discardTransaction(client);
    server.clientClosedListeners.push(forget);
    server.clientResetListeners.push(forget);
    registry = created;
  }
  return registry;
}

/** Whether `key` is still in `db` but past its deadline (Redis's keyIsExpired). */
function isExpired(db: Database, key: string): boolean {
  const deadline = db.expireAt(key);
  return deadline !== undefined && deadline <= db.keyspace.clock.now() && db.entries.has(key);
}

/** Marks `client`'s next EXEC as failed; its watches have served their purpose. */
function invalidate(client: Client): void {
  client.watchedKeyChanged = true;
  unwatchAll(client);
}

/** A command changed `key` (touchWatchedKey). */
function keyChanged(registry: WatchRegistry, db: Database, key: string): void {
  const watchers = registry.databases[db.index]?.get(key);
  if (watchers === undefined) return;
  for (const watch of watchers.values()) {
    if (watch.expired && !db.entries.has(key)) {
      // Expiry removed a key that was already logically gone: no change.
      watch.expired = watch.existed = false;
    } else {
      invalidate(watch.client);
    }
  }
}

/**
 * FLUSHDB, FLUSHALL or SWAPDB replaced the content of `db`
 * (touchAllWatchedKeysInDb). It is called after the change: what was there
 * before is what each watch recorded, since any change to its key since
 * WATCH would already have invalidated it.
 */
function databaseChanged(registry: WatchRegistry, db: Database): void {
  const keys = registry.databases[db.index];
  if (keys === undefined) return;
  for (const [key, watchers] of keys) {
    const present = db.entries.has(key);
    for (const watch of watchers.values()) {
      if (!watch.existed && !present) continue;
      if (watch.expired ? !present || isExpired(db, key) : !watch.existed && isExpired(db, key)) {
        // An expired key went away or was replaced by an expired one: no change.
        watch.existed = present;
        watch.expired = present;
        continue;
      }
      invalidate(watch.client);
    }
  }
}

/** `key` in the client's current database, as stored in `client.watchedKeys`. */
function watchedKeyId(db: Database, key: string): string {
  return `${db.index}\n${key}`;
}

/** Calls `visit` with the database and key of each of `client`'s watches. */
function forEachWatchedKey(
  client: Client,
  visit: (databaseIndex: number, key: string) => void,
): void {
  for (const id of client.watchedKeys ?? []) {
    const separator = id.indexOf("\n");
    visit(Number(id.slice(0, separator)), id.slice(separator + 1));
  }
}

function watch(client: Client, args: string[]): void {
  if (client.transaction !== undefined) throw new CommandError(WATCH_INSIDE_MULTI);
  const registry = watchRegistry(client.server);
  const db = client.db;
  const keys = registry.databases[db.index] ??= new Map();
  const watched = client.watchedKeys ??= new Set();
  for (let i = 1; i < args.length; i++) {
    const key = args[i]!;
    const id = watchedKeyId(db, key);
    if (watched.has(id)) continue;
    watched.add(id);
    let watchers = keys.get(key);
    if (watchers === undefined) keys.set(key, watchers = new Map());
    watchers.set(client, { client, existed: db.entries.has(key), expired: isExpired(db, key) });
  }
  client.reply.ok();
}

/** Ends all of `client`'s watches (the dirty flag is the caller's business). */
function unwatchAll(client: Client): void {
  const watched = client.watchedKeys;
  if (watched === undefined) return;
  const registry = registries.get(client.server)!;
  forEachWatchedKey(client, (databaseIndex, key) => {
    const keys = registry.databases[databaseIndex]!;
    const watchers = keys.get(key)!;
    watchers.delete(client);
    if (watchers.size === 0) keys.delete(key);
  });
  client.watchedKeys = undefined;
}

/**
 * Redis 7.0 fails EXEC when a watched key expired after WATCH even if its
 * removal has not happened yet (isWatchedKeyExpired).
 */
function watchedKeyExpired(client: Client): boolean {
  const registry = registries.get(client.server);
  if (registry === undefined) return false;
  const databases = client.server.keyspace.databases;
  let expired = false;
  forEachWatchedKey(client, (databaseIndex, key) => {
    const watch = registry.databases[databaseIndex]!.get(key)!.get(client)!;
    if (!watch.expired && isExpired(databases[databaseIndex]!, key)) expired = true;
  });
  return expired;
}

/** Leaves MULTI state and ends all watches (discardTransaction). */
function discardTransaction(client: Client): void {
  client.transaction = undefined;
  client.transactionFailed = false;
  client.watchedKeyChanged = false;
  unwatchAll(client);
}

/**
 * Answers an EXEC that cannot run (Redis's execCommandAbort): the
 * transaction is discarded and the error says why. For rejections before
 * EXEC's handler, such as a wrong number of arguments.
 */
export function abortExec(client: Client, error: string): void {
  discardTransaction(client);
  client.reply.error(`EXECABORT Transaction discarded because of: ${error.replace(/^ERR /, "")}`);
}

function exec(client: Client): void {
  const queued = client.transaction;
  if (queued === undefined) throw new CommandError(EXEC_WITHOUT_MULTI);
  const server = client.server;
  // A write queued before the AOF started failing must not run now (MISCONF).
  if (server.writeError !== undefined && queued.some((entry) => entry.command.isWrite)) {
    abortExec(client, server.writeError);
    return;
  }
  if (watchedKeyExpired(client)) client.watchedKeyChanged = true;
  if (client.transactionFailed || client.watchedKeyChanged) {
    const failed = client.transactionFailed;
    discardTransaction(client);
    if (failed) throw new CommandError(EXEC_ABORTED);
    client.reply.nullArray();
    return;
  }
  unwatchAll(client);
  // `client.transaction` stays set until the queue has run: that is how
  // blocking commands know they are inside EXEC and must not block.
  const propagated = collectPropagation(server, () => {
    client.reply.arrayHeader(queued.length);
    for (const { command, args } of queued) call(client, command, args);
  });
  discardTransaction(client);
  // The last command's effects are logged below, not again for EXEC itself.
  client.propagation = undefined;
  if (propagated.length === 1) {
    server.propagate(...propagated[0]!);
  } else if (propagated.length > 1) {
    server.propagate(propagated[0]![0], ["MULTI"]);
    for (const [databaseIndex, args] of propagated) server.propagate(databaseIndex, args);
    server.propagate(propagated[propagated.length - 1]![0], ["EXEC"]);
  }
}

/**
 * Runs `body` with what it propagates collected instead of appended to the
 * AOF (Redis's also_propagate), so EXEC can decide how to wrap it.
 */
function collectPropagation(server: Server, body: () => void): [number, readonly string[]][] {
  const collected: [number, readonly string[]][] = [];
  server.propagationBuffer = collected;
  try {
    body();
  } finally {
    server.propagationBuffer = undefined;
  }
  return collected;
}

function multi(client: Client): void {
  if (client.transaction !== undefined) throw new CommandError(NESTED_MULTI);
  client.transaction = [];
  client.reply.ok();
}

function discard(client: Client): void {
  if (client.transaction === undefined) throw new CommandError(DISCARD_WITHOUT_MULTI);
  discardTransaction(client);
  client.reply.ok();
}

function unwatch(client: Client): void {
  unwatchAll(client);
  client.watchedKeyChanged = false;
  client.reply.ok();
}

const CONTROL_FLAGS: readonly CommandFlag[] = [
  "noscript",
  "loading",
  "stale",
  "fast",
  "allow_busy",
];

export const transactionCommands = [
  command({
    name: "multi",
    arity: 1,
    flags: CONTROL_FLAGS,
    group: "transactions",
    summary: "Mark the start of a transaction block",
    since: "1.2.0",
    complexity: "O(1)",
    handler: multi,
  }),
  command({
    name: "exec",
    arity: 1,
    flags: ["noscript", "loading", "stale", "skip_slowlog"],
    group: "transactions",
    summary: "Execute all commands issued after MULTI",
    since: "1.2.0",
    complexity: "Depends on commands in the transaction",
    handler: exec,
  }),
  command({
    name: "discard",
    arity: 1,
    flags: CONTROL_FLAGS,
    group: "transactions",
    summary: "Discard all commands issued after MULTI",
    since: "2.0.0",
    complexity: "O(N), when N is the number of queued commands",
    handler: discard,
  }),
  command({
    name: "watch",
    arity: -2,
    flags: CONTROL_FLAGS,
    group: "transactions",
    summary: "Watch the given keys to determine execution of the MULTI/EXEC block",
    since: "2.2.0",
    complexity: "O(1) for every key.",
    firstKey: 1,
    lastKey: -1,
    keyStep: 1,
    handler: watch,
  }),
  command({
    name: "unwatch",
    arity: 1,
    flags: CONTROL_FLAGS,
    group: "transactions",
    summary: "Forget about all watched keys",
    since: "2.2.0",
    complexity: "O(1)",
    handler: unwatch,
  }),
];
