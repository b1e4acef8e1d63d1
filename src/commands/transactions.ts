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
 * WATCH is optimistic locking. The server's `watches` part keeps, per
 * database index, key → the clients watching it (Redis's
 * `redisDb.watched_keys`), and on every key change marks each watcher of
 * the changed key (`client.watchedKeyChanged`, Redis's CLIENT_DIRTY_CAS),
 * so the next EXEC answers a null array. That costs one array lookup per
 * change when nobody watches. Redis 7.0's finer points are kept: a key that
 * was already expired when it was watched may be removed by expiry without
 * failing EXEC, but one that expires while watched fails it even if nobody
 * noticed the expiry yet; FLUSHDB, FLUSHALL and SWAPDB fail only watchers
 * of keys that existed before or after them. Each watch remembers whether
 * its key existed, so those commands can be judged after the fact.
 *
 * EXEC is declared with `propagation: "transaction"`: the executor gathers
 * what its commands propagate and writes it as Redis 7.0 does, a single
 * command as it is, several wrapped in MULTI … EXEC, so a transaction is
 * replayed whole or not at all (the loader discards a block cut off at the
 * end of the file).
 *
 * @module
 */

import { deniedAtExecReply } from "./acl.ts";
import type { Client } from "./client.ts";
import type { KeyspaceEvents } from "./context.ts";
import type { Database } from "../store/keyspace.ts";
import {
  CommandError,
  DISCARD_WITHOUT_MULTI,
  EXEC_ABORTED,
  EXEC_WITHOUT_MULTI,
  execAborted,
  NESTED_MULTI,
  WATCH_INSIDE_MULTI,
} from "./errors.ts";
import { command, type CommandFlag } from "./table.ts";

/** One client watching one key. */
interface Watch {
  readonly client: Client;
  /** The key was in the database (live or not yet removed after expiring). */
  existed: boolean;
  /** The key had already expired when WATCH ran: its removal changes nothing. */
  expired: boolean;
}

/** Whether `key` is still in `db` but past its deadline (Redis's keyIsExpired). */
function isExpired(db: Database, key: string): boolean {
  const deadline = db.expireAt(key);
  return deadline !== undefined && deadline <= db.keyspace.clock.now() && db.entries.has(key);
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

/** Every watch of a server: per database index, key → watcher → watch. */
export class Watches implements KeyspaceEvents {
  readonly #databases: (Map<string, Map<Client, Watch>> | undefined)[] = [];

  /** Starts watching `key` of the client's current database (WATCH). */
  watch(client: Client, key: string): void {
    const db = client.db;
    const id = watchedKeyId(db, key);
    const watched = client.watchedKeys ??= new Set();
    if (watched.has(id)) return;
    watched.add(id);
    const keys = this.#databases[db.index] ??= new Map();
    let watchers = keys.get(key);
    if (watchers === undefined) keys.set(key, watchers = new Map());
    watchers.set(client, { client, existed: db.entries.has(key), expired: isExpired(db, key) });
  }

  /** Ends all of `client`'s watches (the dirty flag is the caller's business). */
  unwatchAll(client: Client): void {
    if (client.watchedKeys === undefined) return;
    forEachWatchedKey(client, (databaseIndex, key) => {
      const keys = this.#databases[databaseIndex]!;
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
  watchedKeyExpired(client: Client): boolean {
    const databases = client.server.keyspace.databases;
    let expired = false;
    forEachWatchedKey(client, (databaseIndex, key) => {
      const watch = this.#databases[databaseIndex]!.get(key)!.get(client)!;
      if (!watch.expired && isExpired(databases[databaseIndex]!, key)) expired = true;
    });
    return expired;
  }

  /** A command changed `key` (touchWatchedKey, unless Redis does not signal the change). */
  keyChanged(
    db: Database,
    key: string,
    _event: string,
    _eventClass: string,
    signalled: boolean,
  ): void {
    if (!signalled) return;
    const watchers = this.#databases[db.index]?.get(key);
    if (watchers === undefined) return;
    for (const watch of watchers.values()) {
      if (watch.expired && !db.entries.has(key)) {
        // Expiry removed a key that was already logically gone: no change.
        watch.expired = watch.existed = false;
      } else {
        this.#invalidate(watch.client);
      }
    }
  }

  /**
   * FLUSHDB, FLUSHALL or SWAPDB replaced the content of `db`
   * (touchAllWatchedKeysInDb). It is called after the change: what was there
   * before is what each watch recorded, since any change to its key since
   * WATCH would already have invalidated it.
   */
  databaseChanged(db: Database): void {
    const keys = this.#databases[db.index];
    if (keys === undefined) return;
    for (const [key, watchers] of keys) {
      const present = db.entries.has(key);
      for (const watch of watchers.values()) {
        if (!watch.existed && !present) continue;
        if (
          watch.expired ? !present || isExpired(db, key) : !watch.existed && isExpired(db, key)
        ) {
          // An expired key went away or was replaced by an expired one: no change.
          watch.existed = present;
          watch.expired = present;
          continue;
        }
        this.#invalidate(watch.client);
      }
    }
  }

  clientClosed(client: Client): void {
    discardTransaction(client);
  }

  clientReset(client: Client): void {
    discardTransaction(client);
  }

  /** Marks `client`'s next EXEC as failed; its watches have served their purpose. */
  #invalidate(client: Client): void {
    client.watchedKeyChanged = true;
    this.unwatchAll(client);
  }
}

function watch(client: Client, args: string[]): void {
  if (client.transaction !== undefined) throw new CommandError(WATCH_INSIDE_MULTI);
  const watches = client.server.watches;
  for (let i = 1; i < args.length; i++) watches.watch(client, args[i]!);
  client.reply.ok();
}

/** Leaves MULTI state and ends all watches (discardTransaction). */
function discardTransaction(client: Client): void {
  client.transaction = undefined;
  client.transactionFailed = false;
  client.watchedKeyChanged = false;
  client.server.watches.unwatchAll(client);
}

/**
 * Answers an EXEC that cannot run (Redis's execCommandAbort): the
 * transaction is discarded and the error says why. For rejections before
 * EXEC's handler, such as a wrong number of arguments.
 */
function abortExec(client: Client, error: string): void {
  discardTransaction(client);
  client.reply.error(execAborted(error));
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
  if (server.watches.watchedKeyExpired(client)) client.watchedKeyChanged = true;
  if (client.transactionFailed || client.watchedKeyChanged) {
    const failed = client.transactionFailed;
    discardTransaction(client);
    if (failed) throw new CommandError(EXEC_ABORTED);
    client.reply.nullArray();
    return;
  }
  server.watches.unwatchAll(client);
  // `client.transaction` stays set until the queue has run: that is how
  // blocking commands know they are inside EXEC and must not block.
  client.reply.arrayHeader(queued.length);
  const executor = server.executor;
  for (const { command, args } of queued) {
    // Permissions may have changed since the command was queued (Redis re-checks them).
    const denied = client.user.allowsEverything
      ? undefined
      : deniedAtExecReply(client, server.aclCatalogue.of(command), args);
    if (denied === undefined) {
      executor.call(client, command, args);
    } else {
      client.reply.error(denied);
      server.operations.errorReplied(denied);
    }
  }
  discardTransaction(client);
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
  client.server.watches.unwatchAll(client);
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
    aclCategories: ["transaction"],
    handler: multi,
  }),
  command({
    name: "exec",
    arity: 1,
    flags: ["noscript", "loading", "stale", "skip_slowlog"],
    aclCategories: ["transaction"],
    propagation: "transaction",
    onRejected: abortExec,
    handler: exec,
  }),
  command({
    name: "discard",
    arity: 1,
    flags: CONTROL_FLAGS,
    aclCategories: ["transaction"],
    handler: discard,
  }),
  command({
    name: "watch",
    arity: -2,
    flags: CONTROL_FLAGS,
    aclCategories: ["transaction"],
    keySpecs: [{ flags: ["RO"], begin: { index: 1 }, find: { lastKey: -1 } }],
    handler: watch,
  }),
  command({
    name: "unwatch",
    arity: 1,
    flags: CONTROL_FLAGS,
    aclCategories: ["transaction"],
    handler: unwatch,
  }),
];
