/**
 * Dispatcher: from a parsed request to a command handed to the executor.
 *
 * It follows Redis's `processCommand`, in its order: resolve the command
 * through the server's table (names are case insensitive, subcommands of
 * containers too, arity checked), require authentication (NOAUTH) unless
 * the command is `no_auth`, refuse `no_multi` commands inside MULTI, check
 * the client's ACL permissions (NOPERM, logged in ACL LOG), refuse writes
 * while the AOF cannot be written, enforce the RESP2 subscribed-context
 * rules, queue inside MULTI, and otherwise run it through the executor,
 * which logs its effects. Handlers never repeat any of these checks. The
 * permission check costs one flag test for a user allowed everything (the
 * default user out of the box).
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
import type { Client } from "./client.ts";
import { ArityError, CommandError, NOT_IN_TRANSACTION, subscribedContextError } from "./errors.ts";
import type { Command } from "./table.ts";

/** Commands a MULTI block runs immediately instead of queuing. */
const TRANSACTION_CONTROL = new Set([
  "exec",
  "discard",
  "multi",
  "watch",
  "quit",
  "reset",
]);
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
    reject(
      client,
      error instanceof ArityError ? error.command : undefined,
      error.message,
    );
    return;
  }
  client.lastCommandName = cmd.name;

  if (
    !client.authenticated && !cmd.flags.includes("no_auth") &&
    authenticationRequired(client)
  ) {
    reject(client, cmd, NOAUTH);
    return;
  }
  if (client.transaction !== undefined && cmd.flags.includes("no_multi")) {
    reject(client, cmd, NOT_IN_TRANSACTION);
    return;
  }
  if (!client.user.allowsEverything) {
    const denied = deniedReply(client, server.aclCatalogue.of(cmd), args);
    if (denied !== undefined) {
      reject(client, cmd, denied);
      return;
    }
  }
  // Like Redis, PING is refused too, so health checks see the failure.
  if ((cmd.isWrite || cmd.name === "ping") && server.writeError !== undefined) {
    reject(client, cmd, server.writeError);
    return;
  }
  if (client.protocol === 2 && client.subscriptionCount > 0) {
    const container = cmd.name.split("|")[0]!;
    if (!SUBSCRIBED_CONTEXT.has(container)) {
      reject(client, cmd, subscribedContextError(cmd.name));
      return;
    }
  }
  // CLIENT PAUSE holds the request until the pause ends.
  if (server.operations.postpones(client, cmd)) {
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
function reject(
  client: Client,
  cmd: Command | undefined,
  message: string,
): void {
  if (client.transaction !== undefined) client.transactionFailed = true;
  client.server.operations.commandRejected(cmd, message);
  if (cmd?.onRejected !== undefined) cmd.onRejected(client, message);
  else client.reply.error(message);
}
