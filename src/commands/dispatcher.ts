/**
 * Dispatcher: from a parsed request to a command handed to the executor.
 *
 * It follows Redis's `processCommand`, in its order: resolve the command
 * through the server's table (names are case insensitive, subcommands of
 * containers too, arity checked), require authentication (NOAUTH) unless
 * the command is `no_auth`, refuse `no_multi` commands inside MULTI, check
 * the client's ACL permissions (NOPERM, logged in ACL LOG), refuse writes
 * while the AOF cannot be written, refuse writes on a read-only replica or
 * on a master short of good replicas (READONLY, NOREPLICAS: replication.ts,
 * which also lets its master's link through), enforce the RESP2 subscribed-context
 * rules, answer MASTERDOWN on a replica whose link is down (with
 * `replica-serve-stale-data no`), answer LOADING to commands without the `loading` flag while the
 * data loads at start-up, refuse everything but `allow_busy` commands while a script is
 * busy (BUSY, and SHUTDOWN only with NOSAVE), queue inside MULTI, and
 * otherwise run it through the executor, which logs its effects. A script
 * command (EVAL, FCALL...) counts as a write when its script may write, as
 * Redis's evalGetCommandFlags decides from its flags. Handlers never
 * repeat any of these checks. The permission check costs one flag test
 * for a user allowed everything (the default user out of the box).
 *
 * A refused request is answered by its command's `onRejected` when it has
 * one (EXEC discards the transaction) and otherwise with the error; inside
 * MULTI a refusal also dooms the transaction (EXECABORT), as Redis's
 * flagTransaction does.
 *
 * @module
 */

import { NOAUTH } from "../acl/mod.ts";
import { authenticationRequired, deniedReply } from "./acl.ts";
import { staleRefusal, writeRefusal } from "./replication.ts";
import type { Client } from "./client.ts";
import {
  ArityError,
  CommandError,
  LOADING,
  NOT_IN_TRANSACTION,
  subscribedContextError,
} from "./errors.ts";
import type { Command } from "./table.ts";

/** Commands a MULTI block runs immediately instead of queuing. */
const TRANSACTION_CONTROL = new Set(["exec", "discard", "multi", "watch", "quit", "reset"]);
/** What a RESP2 connection in subscribed mode may still send. */
const SUBSCRIBED_CONTEXT = new Set([
  "subscribe",
  "ssubscribe",
  "unsubscribe",
  "sunsubscribe",
  "psubscribe",
  "punsubscribe",
  "ping",
  "quit",
  "reset",
]);

/** Runs one request from `client`, writing its reply. */
export function dispatch(client: Client, args: string[]): void {
  const server = client.server;
  let cmd: Command;
  try {
    cmd = server.commands.resolve(args);
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    reject(client, error instanceof ArityError ? error.command : undefined, error.message);
    return;
  }
  client.lastCommandName = cmd.name;

  if (!client.authenticated && !cmd.flags.includes("no_auth") && authenticationRequired(client)) {
    reject(client, cmd, NOAUTH);
    return;
  }
  if (client.transaction !== undefined && cmd.flags.includes("no_multi")) {
    reject(client, cmd, NOT_IN_TRANSACTION);
    return;
  }
  // Our master's link runs as Redis's master client: no ACL, no MISCONF.
  if (!client.user.allowsEverything && client.kind !== "master") {
    const denied = deniedReply(client, server.aclCatalogue.of(cmd), args);
    if (denied !== undefined) {
      reject(client, cmd, denied);
      return;
    }
  }
  // maxmemory: evict as needed, refuse what may grow memory when that failed.
  if (server.config.maxmemory !== 0) {
    const outOfMemory = server.operations.eviction.beforeCommand(client, cmd, args);
    if (outOfMemory !== undefined) {
      reject(client, cmd, outOfMemory);
      return;
    }
  }
  // Like Redis, PING is refused too, so health checks see the failure.
  if (
    server.writeError !== undefined && client.kind !== "master" &&
    (cmd.isWrite || cmd.name === "ping" || server.scripts.mayWrite(cmd, args))
  ) {
    reject(client, cmd, server.writeError);
    return;
  }
  const replicationWrite = writeRefusal(client, cmd, args);
  if (replicationWrite !== undefined) {
    reject(client, cmd, replicationWrite);
    return;
  }
  if (client.protocol === 2 && client.subscriptionCount > 0) {
    const container = cmd.name.split("|")[0]!;
    if (!SUBSCRIBED_CONTEXT.has(container)) {
      reject(client, cmd, subscribedContextError(cmd.name));
      return;
    }
  }
  const replicationStale = staleRefusal(client, cmd);
  if (replicationStale !== undefined) {
    reject(client, cmd, replicationStale);
    return;
  }
  if (server.loading && !cmd.flags.includes("loading")) {
    reject(client, cmd, LOADING);
    return;
  }
  const scripts = server.scripts;
  if (scripts.busy) {
    const busy = scripts.busyError(cmd, args);
    if (busy !== undefined) {
      reject(client, cmd, busy);
      return;
    }
  }
  // CLIENT PAUSE holds the request until the pause ends.
  if (server.operations.postpones(client, cmd, args)) {
    server.operations.postpone(client, args);
    return;
  }
  if (client.transaction !== undefined && !TRANSACTION_CONTROL.has(cmd.name)) {
    client.transaction.push({ command: cmd, args });
    client.reply.simple("QUEUED");
    return;
  }
  server.executor.call(client, cmd, args);
}

/** Refuses a request (Redis's rejectCommand). */
function reject(client: Client, cmd: Command | undefined, message: string): void {
  if (client.transaction !== undefined) client.transactionFailed = true;
  client.server.operations.commandRejected(cmd, message);
  if (cmd?.onRejected !== undefined) cmd.onRejected(client, message);
  else client.reply.error(message);
}
