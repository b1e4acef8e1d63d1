/**
 * Server commands: INFO, CONFIG, COMMAND, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB,
 * TIME, SHUTDOWN.
 *
 * COMMAND's replies are generated from the command table (the same data the
 * dispatcher uses) and the recorded documentation; see introspection.ts.
 *
 * @module
 */

import { configGet as configGetParameters, configSet as configSetParameters } from "../config.ts";
import type { Client } from "./client.ts";
import { ArgumentCursor, parseInteger } from "./arguments.ts";
import {
  CommandError,
  DB_INDEX_OUT_OF_RANGE,
  INVALID_FIRST_DB_INDEX,
  INVALID_SECOND_DB_INDEX,
  NO_CONFIG_FILE,
  NO_SHUTDOWN_IN_PROGRESS,
  SHUTDOWN_FAILED,
  SYNTAX_ERROR,
} from "./errors.ts";
import { commandCommand } from "./introspection.ts";
import { command, type CommandDeclaration } from "./table.ts";

/** FLUSHDB/FLUSHALL accept ASYNC or SYNC; both complete before replying here. */
function parseFlushMode(args: string[]): void {
  const cursor = new ArgumentCursor(args);
  if (cursor.hasMore() && cursor.accept("ASYNC", "SYNC") === undefined) {
    throw new CommandError(SYNTAX_ERROR);
  }
  cursor.finish();
}

function flushDb(client: Client, args: string[]): void {
  parseFlushMode(args);
  client.db.clear();
  client.server.databaseChanged(client.db);
  client.reply.ok();
}

function flushAll(client: Client, args: string[]): void {
  parseFlushMode(args);
  const server = client.server;
  for (const db of server.keyspace.databases) {
    db.clear();
    server.databaseChanged(db);
  }
  client.reply.ok();
}

function swapDb(client: Client, args: string[]): void {
  const server = client.server;
  const first = parseInteger(args[1]!);
  const second = parseInteger(args[2]!);
  if (first === undefined) throw new CommandError(INVALID_FIRST_DB_INDEX);
  if (second === undefined) throw new CommandError(INVALID_SECOND_DB_INDEX);
  const a = server.keyspace.databases[first];
  const b = server.keyspace.databases[second];
  if (a === undefined || b === undefined) throw new CommandError(DB_INDEX_OUT_OF_RANGE);
  if (a !== b) {
    a.swapContent(b);
    server.databaseChanged(a);
    server.databaseChanged(b);
  } else {
    server.dirty++;
  }
  client.reply.ok();
}

function configGet(client: Client, args: string[]): void {
  const matches = configGetParameters(client.server.config, args.slice(2));
  client.reply.mapHeader(matches.length);
  for (const [name, value] of matches) {
    client.reply.bulk(name);
    client.reply.bulk(value);
  }
}

function configSet(client: Client, args: string[]): void {
  const server = client.server;
  const result = configSetParameters(server.config, args.slice(2), {
    apply: server.configListeners.apply,
    loading: server.loading,
  });
  if (!result.ok) throw new CommandError(result.error);
  client.reply.ok();
}

function shutdown(client: Client, args: string[]): void {
  const cursor = new ArgumentCursor(args);
  while (cursor.hasMore()) {
    const option = cursor.accept("NOSAVE", "SAVE", "NOW", "FORCE", "ABORT");
    if (option === undefined) throw new CommandError(SYNTAX_ERROR);
    if (option === "ABORT") throw new CommandError(NO_SHUTDOWN_IN_PROGRESS);
  }
  // Like Redis, a successful SHUTDOWN sends no reply: the connection just closes.
  if (!client.server.shutdown("User requested shutdown...")) {
    throw new CommandError(SHUTDOWN_FAILED);
  }
}

function time(client: Client): void {
  const micros = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
  client.reply.arrayHeader(2);
  client.reply.bulk(String(micros / 1000000n));
  client.reply.bulk(String(micros % 1000000n));
}

/** A CONFIG subcommand: admin, noscript, loading, stale. */
function configSubcommand(
  name: string,
  arity: number,
  handler: CommandDeclaration["handler"],
): CommandDeclaration {
  return {
    name: `config|${name}`,
    arity,
    flags: ["admin", "noscript", "loading", "stale"],
    handler,
  };
}

export const serverCommands = [
  command({
    name: "info",
    arity: -1,
    flags: ["loading", "stale"],
    aclCategories: ["dangerous"],
    handler: (client, args) => client.reply.verbatim(client.server.info(args.slice(1))),
  }),
  command({
    name: "dbsize",
    arity: 1,
    flags: ["readonly", "fast"],
    aclCategories: ["keyspace"],
    handler: (client) => client.reply.integer(client.db.size),
  }),
  command({
    name: "flushdb",
    arity: -1,
    flags: ["write"],
    aclCategories: ["keyspace", "dangerous"],
    handler: flushDb,
  }),
  command({
    name: "flushall",
    arity: -1,
    flags: ["write"],
    aclCategories: ["keyspace", "dangerous"],
    handler: flushAll,
  }),
  command({
    name: "swapdb",
    arity: 3,
    flags: ["write", "fast"],
    aclCategories: ["keyspace", "dangerous"],
    handler: swapDb,
  }),
  command({
    name: "time",
    arity: 1,
    flags: ["loading", "stale", "fast"],
    handler: time,
  }),
  command({
    name: "shutdown",
    arity: -1,
    flags: ["admin", "noscript", "loading", "stale", "no_multi", "allow_busy"],
    handler: shutdown,
  }),
  command({
    name: "config",
    arity: -2,
    flags: [],
    subcommands: [
      configSubcommand("get", -3, configGet),
      configSubcommand("set", -4, configSet),
      configSubcommand("resetstat", 2, (client) => {
        const stats = client.server.stats;
        stats.commandsProcessed = stats.connectionsReceived = stats.keyspaceHits = 0;
        stats.keyspaceMisses = stats.netInputBytes = stats.netOutputBytes = 0;
        client.reply.ok();
      }),
      configSubcommand("rewrite", 2, () => {
        throw new CommandError(NO_CONFIG_FILE);
      }),
    ],
  }),
  commandCommand,
];
