/**
 * Dispatcher: from a parsed request to an executed command.
 *
 * It follows Redis's `processCommand`: look the command up (names are case
 * insensitive, subcommands of containers too), check arity, refuse writes
 * while the AOF cannot be written, enforce the RESP2 subscribed-context
 * rules, queue inside MULTI, and otherwise call the handler. `call` then
 * logs the command to the AOF if it changed data — by its own arguments or
 * by what the handler said its effect was — and lets blocked clients whose
 * keys became ready be served. Handlers never repeat any of these checks.
 *
 * @module
 */

import type { Client } from "../server/client.ts";
import { CommandError, unknownCommand, unknownSubcommand, wrongArity } from "./errors.ts";
import { commandTable } from "./registry.ts";
import { abortExec } from "./transactions.ts";
import { arityMatches, type Command } from "./table.ts";

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

/** Finds the command for a request's name, or undefined. */
export function lookupCommand(name: string): Command | undefined {
  return commandTable().get(name) ?? commandTable().get(name.toLowerCase());
}

/**
 * Resolves a request to the command (or subcommand) that will run, or
 * throws the error Redis gives for an unknown name or wrong arity.
 */
export function resolveCommand(args: string[]): Command {
  const name = args[0]!;
  let cmd = lookupCommand(name);
  if (cmd === undefined) throw new CommandError(unknownCommand(name, args));
  if (cmd.subcommandTable !== undefined && args.length >= 2) {
    const sub = cmd.subcommandTable.get(args[1]!.toLowerCase());
    if (sub === undefined) throw new CommandError(unknownSubcommand(args[1]!, cmd.name));
    cmd = sub;
  }
  if (!arityMatches(cmd.arity, args.length)) throw new CommandError(wrongArity(cmd.name));
  return cmd;
}

/** Runs one request from `client`, writing its reply. */
export function dispatch(client: Client, args: string[]): void {
  const server = client.server;
  let cmd: Command;
  try {
    cmd = resolveCommand(args);
  } catch (error) {
    const message = (error as CommandError).message;
    if (client.transaction !== undefined) client.transactionFailed = true;
    // A malformed EXEC discards the transaction, as Redis's rejectCommand does.
    if (lookupCommand(args[0]!)?.name === "exec") abortExec(client, message);
    else client.reply.error(message);
    return;
  }
  client.lastCommandName = cmd.name;

  // Like Redis, PING is refused too, so health checks see the failure.
  if ((cmd.isWrite || cmd.name === "ping") && server.writeError !== undefined) {
    if (client.transaction !== undefined) client.transactionFailed = true;
    client.reply.error(server.writeError);
    return;
  }
  if (client.protocol === 2 && client.subscriptionCount > 0) {
    const container = cmd.name.split("|")[0]!;
    if (!SUBSCRIBED_CONTEXT.has(container)) {
      client.reply.error(
        `ERR Can't execute '${cmd.name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
      );
      return;
    }
  }
  if (client.transaction !== undefined && !TRANSACTION_CONTROL.has(cmd.name)) {
    if (cmd.flags.includes("no_multi")) {
      client.transactionFailed = true;
      client.reply.error("ERR Command not allowed inside a transaction");
      return;
    }
    client.transaction.push({ command: cmd, args });
    client.reply.simple("QUEUED");
    return;
  }
  call(client, cmd, args);
  server.serveReadyClients();
}

/**
 * Executes a resolved command: the handler, then AOF propagation of its
 * effect. EXEC uses this for each queued command.
 */
export function call(client: Client, cmd: Command, args: string[]): void {
  const server = client.server;
  const dirtyBefore = server.dirty;
  client.propagation = undefined;
  server.stats.commandsProcessed++;
  const replyStart = client.reply.length;
  try {
    cmd.handler!(client, args);
  } catch (error) {
    client.reply.truncate(replyStart);
    if (error instanceof CommandError) {
      client.reply.error(error.message);
    } else {
      server.log.warning(`Error running '${cmd.name}': ${(error as Error).stack ?? error}`);
      client.reply.error(`ERR internal error running '${cmd.name}'`);
    }
  }
  if (server.dirty !== dirtyBefore) {
    // The handler may have set this; the compiler cannot see that.
    const effects = client.propagation as string[][] | undefined;
    if (effects !== undefined) {
      for (const effect of effects) server.propagate(client.db.index, effect);
    } else if (cmd.isWrite) {
      server.propagate(client.db.index, args);
    }
  }
}
