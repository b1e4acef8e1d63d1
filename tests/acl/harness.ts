/**
 * An in-process server whose ACL engine runs on Redis 7.0.15's own command
 * catalogue instead of ours, for the ACL command tests: `run` plays the
 * dispatcher's ACL part (NOAUTH, then the permission check with its NOPERM
 * reply and log entry, queuing inside MULTI) before handing the command to
 * the executor. (The real dispatcher is tested over sockets elsewhere.)
 *
 * The engine runs on Redis 7.0.15's own command catalogue
 * (fixture_catalogue.ts), so rule strings, ACL CAT and permission checks
 * can be compared byte for byte with a live redis-server even for commands
 * this server does not implement yet.
 *
 * @module
 */

import { AccessControl, type AccessControlOptions, NOAUTH } from "../../src/acl/mod.ts";
import { authenticationRequired, deniedReply } from "../../src/commands/acl.ts";
import type { Client, ClientTransport } from "../../src/commands/client.ts";
import { CommandError } from "../../src/commands/errors.ts";
import { COMMAND_FAMILIES } from "../../src/commands/families.ts";
import { CommandTable } from "../../src/commands/registry.ts";
import type { Command } from "../../src/commands/table.ts";
import type { Server } from "../../src/server/server.ts";
import { inProcessServer, silentTransport } from "../helpers/in_process.ts";
import { bytesToLatin1 } from "../helpers/servers.ts";
import { redisCatalogue } from "./fixture_catalogue.ts";

const CONTROL = new Set(["exec", "discard", "multi", "watch", "quit", "reset"]);

/** One connection to the harness server. */
export interface HarnessClient {
  readonly client: Client;
  /** Whether the server closed (or will close after this reply) the connection. */
  readonly closed: () => boolean;
  /** Runs one request and returns its raw reply (binary string). */
  run(...args: string[]): string;
}

/** The in-process server, its ACL engine, and a way to open connections. */
export interface AclHarness {
  readonly server: Server;
  readonly acl: AccessControl;
  connect(): HarnessClient;
}

/** Builds the harness; `options` go to the engine (catalogue: Redis's). */
export function aclHarness(options: Partial<AccessControlOptions> = {}): AclHarness {
  const server = inProcessServer();
  const acl = new AccessControl({ catalogue: redisCatalogue(), ...options });
  (server as unknown as { acl: AccessControl }).acl = acl;
  const table = new CommandTable(COMMAND_FAMILIES);

  const connect = (): HarnessClient => {
    let transportClosed = false;
    const transport: ClientTransport = silentTransport({ close: () => transportClosed = true });
    const client = server.connect(transport);
    client.resetAuthentication();
    return {
      client,
      closed: () => transportClosed || client.closeAfterReply,
      run(...args: string[]): string {
        dispatchWithAcl(client, table, args);
        return bytesToLatin1(client.reply.take());
      },
    };
  };
  return { server, acl, connect };
}

function dispatchWithAcl(client: Client, table: CommandTable, args: string[]): void {
  let cmd: Command;
  try {
    cmd = table.resolve(args);
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    if (client.transaction !== undefined) client.transactionFailed = true;
    client.reply.error(error.message);
    return;
  }
  client.lastCommandName = cmd.name;
  // As the dispatcher's reject(): EXEC answers a refusal by aborting the transaction.
  const refuse = (message: string) => {
    if (client.transaction !== undefined) client.transactionFailed = true;
    if (cmd.onRejected !== undefined) cmd.onRejected(client, message);
    else client.reply.error(message);
  };
  if (!cmd.flags.includes("no_auth") && authenticationRequired(client)) {
    refuse(NOAUTH);
    return;
  }
  const aclCommand = (client.server as unknown as { acl: AccessControl }).acl.catalogue.lookup(
    cmd.name,
  );
  const denied = aclCommand && deniedReply(client, aclCommand, args);
  if (denied !== undefined) {
    refuse(denied);
    return;
  }
  if (client.transaction !== undefined && !CONTROL.has(cmd.name)) {
    client.transaction.push({ command: cmd, args });
    client.reply.simple("QUEUED");
    return;
  }
  client.server.executor.call(client, cmd, args);
}

/** The user a harness client runs as. */
export function userOf(connection: HarnessClient): string {
  return connection.client.user.name;
}
