/**
 * Server commands: INFO, CONFIG, COMMAND, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB,
 * TIME, SHUTDOWN.
 *
 * COMMAND's replies are generated from the command table (the same data the
 * dispatcher uses), so COMMAND COUNT/INFO/DOCS/LIST can never disagree with
 * what the server actually accepts.
 *
 * @module
 */

import { PARAMETERS } from "../config.ts";
import type { Client } from "./client.ts";
import { globMatch } from "../store/glob.ts";
import { ArgumentCursor, parseInteger } from "./arguments.ts";
import {
  ArityError,
  CommandError,
  DB_INDEX_OUT_OF_RANGE,
  SYNTAX_ERROR,
  UnknownCommandError,
} from "./errors.ts";
import { type Command, command, commandKeys } from "./table.ts";

/** FLUSHDB/FLUSHALL accept ASYNC or SYNC; both complete before replying here. */
function parseFlushMode(args: string[]): void {
  if (args.length > 2) throw new CommandError(SYNTAX_ERROR);
  if (args.length === 2) {
    const mode = args[1]!.toUpperCase();
    if (mode !== "ASYNC" && mode !== "SYNC") throw new CommandError(SYNTAX_ERROR);
  }
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
  if (first === undefined) throw new CommandError("ERR invalid first DB index");
  if (second === undefined) throw new CommandError("ERR invalid second DB index");
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
  const config = client.server.config;
  const matches: [string, string][] = [];
  const seen = new Set<string>();
  for (const pattern of args.slice(2)) {
    for (const parameter of PARAMETERS.values()) {
      if (seen.has(parameter.name)) continue;
      if (globMatch(pattern, parameter.name, true)) {
        seen.add(parameter.name);
        matches.push([parameter.name, parameter.get(config)]);
      }
    }
  }
  client.reply.mapHeader(matches.length);
  for (const [name, value] of matches) {
    client.reply.bulk(name);
    client.reply.bulk(value);
  }
}

function configSet(client: Client, args: string[]): void {
  if (args.length % 2 !== 0) {
    throw new CommandError("ERR wrong number of arguments for 'config|set' command");
  }
  const server = client.server;
  const staged = structuredClone(server.config);
  for (let i = 2; i < args.length; i += 2) {
    const name = args[i]!.toLowerCase();
    const parameter = PARAMETERS.get(name);
    if (!parameter) {
      throw new CommandError(
        `ERR Unknown option or number of arguments for CONFIG SET - '${args[i]}'`,
      );
    }
    if (!parameter.mutable || !parameter.set) {
      throw new CommandError(
        `ERR CONFIG SET failed (possibly related to argument '${
          args[i]
        }') - can't set immutable config`,
      );
    }
    const problem = parameter.set(staged, args[i + 1]!);
    if (problem) {
      throw new CommandError(
        `ERR CONFIG SET failed (possibly related to argument '${args[i]}') - ${problem}`,
      );
    }
  }
  Object.assign(server.config, staged);
  server.configChanged();
  client.reply.ok();
}

/** ACL categories Redis derives for a command, from its group and flags. */
function aclCategories(cmd: Command): string[] {
  const categories: string[] = [];
  if (cmd.isWrite) categories.push("@write");
  if (cmd.flags.includes("readonly")) categories.push("@read");
  if (cmd.flags.includes("admin")) categories.push("@admin", "@dangerous");
  const group: Record<string, string> = {
    generic: "@keyspace",
    string: "@string",
    list: "@list",
    set: "@set",
    "sorted-set": "@sortedset",
    hash: "@hash",
    pubsub: "@pubsub",
    transactions: "@transaction",
    connection: "@connection",
    bitmap: "@bitmap",
  };
  if (group[cmd.group]) categories.push(group[cmd.group]!);
  categories.push(cmd.flags.includes("fast") ? "@fast" : "@slow");
  if (cmd.isBlocking) categories.push("@blocking");
  return categories;
}

function writeCommandInfo(client: Client, cmd: Command): void {
  const reply = client.reply;
  reply.arrayHeader(10);
  reply.bulk(cmd.name);
  reply.integer(cmd.arity);
  const flags = cmd.keys && !cmd.flags.includes("movablekeys")
    ? [...cmd.flags, "movablekeys"]
    : cmd.flags;
  reply.setHeader(flags.length);
  for (const flag of flags) reply.simple(flag);
  const first = cmd.firstKey ?? 0;
  reply.integer(first);
  reply.integer(first === 0 ? 0 : cmd.lastKey ?? first);
  reply.integer(first === 0 ? 0 : cmd.keyStep ?? 1);
  const categories = aclCategories(cmd);
  reply.setHeader(categories.length);
  for (const category of categories) reply.simple(category);
  reply.setHeader(0);
  if (first === 0) {
    reply.arrayHeader(0);
  } else {
    const last = cmd.lastKey ?? first;
    reply.arrayHeader(1);
    reply.mapHeader(3);
    reply.bulk("flags");
    const keyFlags = cmd.isWrite ? ["RW", "ACCESS", "UPDATE"] : ["RO", "ACCESS"];
    reply.setHeader(keyFlags.length);
    for (const flag of keyFlags) reply.simple(flag);
    reply.bulk("begin_search");
    reply.mapHeader(2);
    reply.bulk("type");
    reply.bulk("index");
    reply.bulk("spec");
    reply.mapHeader(1);
    reply.bulk("index");
    reply.integer(first);
    reply.bulk("find_keys");
    reply.mapHeader(2);
    reply.bulk("type");
    reply.bulk("range");
    reply.bulk("spec");
    reply.mapHeader(3);
    reply.bulk("lastkey");
    reply.integer(last < 0 ? last : last - first);
    reply.bulk("keystep");
    reply.integer(cmd.keyStep ?? 1);
    reply.bulk("limit");
    reply.integer(0);
  }
  const subcommands = cmd.subcommandTable ? [...cmd.subcommandTable.values()] : [];
  reply.arrayHeader(subcommands.length);
  for (const sub of subcommands) writeCommandInfo(client, sub);
}

function writeCommandDocs(client: Client, cmd: Command): void {
  const reply = client.reply;
  const subcommands = cmd.subcommandTable ? [...cmd.subcommandTable.values()] : [];
  reply.mapHeader(3 + (cmd.complexity ? 1 : 0) + (subcommands.length > 0 ? 1 : 0));
  reply.bulk("summary");
  reply.bulk(cmd.summary);
  reply.bulk("since");
  reply.bulk(cmd.since);
  reply.bulk("group");
  reply.bulk(cmd.group);
  if (cmd.complexity) {
    reply.bulk("complexity");
    reply.bulk(cmd.complexity);
  }
  if (subcommands.length > 0) {
    reply.bulk("subcommands");
    reply.mapHeader(subcommands.length);
    for (const sub of subcommands) {
      reply.bulk(sub.name);
      writeCommandDocs(client, sub);
    }
  }
}

function commandRoot(client: Client): void {
  const commands = client.server.commands.all();
  client.reply.arrayHeader(commands.length);
  for (const cmd of commands) writeCommandInfo(client, cmd);
}

function commandInfo(client: Client, args: string[]): void {
  const names = args.slice(2);
  const table = client.server.commands;
  const commands = names.length === 0 ? table.all() : names.map((name) => table.lookup(name));
  client.reply.arrayHeader(commands.length);
  for (const cmd of commands) {
    if (cmd) writeCommandInfo(client, cmd);
    else client.reply.nullArray();
  }
}

function commandDocs(client: Client, args: string[]): void {
  const names = args.slice(2);
  const table = client.server.commands;
  const commands = names.length === 0
    ? table.all()
    : names.map((name) => table.lookup(name)).filter((cmd) => cmd !== undefined);
  client.reply.mapHeader(commands.length);
  for (const cmd of commands) {
    client.reply.bulk(cmd.name);
    writeCommandDocs(client, cmd);
  }
}

function commandList(client: Client, args: string[]): void {
  const table = client.server.commands;
  let names = table.all().flatMap((cmd) =>
    cmd.subcommandTable
      ? [cmd.name, ...[...cmd.subcommandTable.values()].map((sub) => sub.name)]
      : [cmd.name]
  );
  if (args.length > 2) {
    const cursor = new ArgumentCursor(args, 2);
    if (cursor.nextKeyword() !== "FILTERBY") throw new CommandError(SYNTAX_ERROR);
    const filter = cursor.nextKeyword();
    const value = cursor.next();
    cursor.finish();
    if (filter === "PATTERN") names = names.filter((name) => globMatch(value, name, true));
    else if (filter === "ACLCAT") {
      names = names.filter((name) => {
        const cmd = table.lookup(name.split("|")[0]!);
        return cmd !== undefined && aclCategories(cmd).includes(`@${value.toLowerCase()}`);
      });
    } else if (filter !== "MODULE") throw new CommandError(SYNTAX_ERROR);
    else names = [];
  }
  client.reply.bulkArray(names);
}

function commandGetKeys(client: Client, args: string[]): void {
  const request = args.slice(2);
  let cmd: Command;
  try {
    cmd = client.server.commands.resolve(request);
  } catch (error) {
    if (error instanceof ArityError) {
      throw new CommandError("ERR Invalid number of arguments specified for command");
    }
    if (error instanceof UnknownCommandError) {
      // An unknown subcommand of a known container counts as bad arguments, as in Redis.
      throw new CommandError(
        client.server.commands.lookup(request[0]!) === undefined
          ? "ERR Invalid command specified"
          : "ERR Invalid number of arguments specified for command",
      );
    }
    throw error;
  }
  const keys = commandKeys(cmd, request);
  if (keys.length === 0) throw new CommandError("ERR The command has no key arguments");
  client.reply.bulkArray(keys);
}

function shutdown(client: Client, args: string[]): void {
  const cursor = new ArgumentCursor(args);
  while (cursor.hasMore()) {
    const option = cursor.nextKeyword();
    if (!["NOSAVE", "SAVE", "NOW", "FORCE", "ABORT"].includes(option)) {
      throw new CommandError(SYNTAX_ERROR);
    }
    if (option === "ABORT") throw new CommandError("ERR No shutdown in progress.");
  }
  // Like Redis, a successful SHUTDOWN sends no reply: the connection just closes.
  if (!client.server.shutdown("User requested shutdown...")) {
    throw new CommandError("ERR Errors trying to SHUTDOWN. Check logs.");
  }
}

function time(client: Client): void {
  const micros = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
  client.reply.arrayHeader(2);
  client.reply.bulk(String(micros / 1000000n));
  client.reply.bulk(String(micros % 1000000n));
}

function subcommand(
  container: string,
  name: string,
  arity: number,
  summary: string,
  handler: (client: Client, args: string[]) => void,
  flags: Command["flags"] = ["loading", "stale"],
) {
  return {
    name: `${container}|${name}`,
    arity,
    flags,
    group: "server" as const,
    summary,
    since: "2.0.0",
    handler,
  };
}

export const serverCommands = [
  command({
    name: "info",
    arity: -1,
    flags: ["loading", "stale"],
    group: "server",
    summary: "Get information and statistics about the server",
    since: "1.0.0",
    handler: (client, args) => client.reply.verbatim(client.server.info(args.slice(1))),
  }),
  command({
    name: "dbsize",
    arity: 1,
    flags: ["readonly", "fast"],
    group: "server",
    summary: "Return the number of keys in the selected database",
    since: "1.0.0",
    handler: (client) => client.reply.integer(client.db.size),
  }),
  command({
    name: "flushdb",
    arity: -1,
    flags: ["write"],
    group: "server",
    summary: "Remove all keys from the current database",
    since: "1.0.0",
    handler: flushDb,
  }),
  command({
    name: "flushall",
    arity: -1,
    flags: ["write"],
    group: "server",
    summary: "Remove all keys from all databases",
    since: "1.0.0",
    handler: flushAll,
  }),
  command({
    name: "swapdb",
    arity: 3,
    flags: ["write", "fast"],
    group: "server",
    summary: "Swaps two Redis databases",
    since: "4.0.0",
    handler: swapDb,
  }),
  command({
    name: "time",
    arity: 1,
    flags: ["loading", "stale", "fast"],
    group: "server",
    summary: "Return the current server time",
    since: "2.6.0",
    handler: time,
  }),
  command({
    name: "shutdown",
    arity: -1,
    flags: ["admin", "noscript", "loading", "stale", "no_multi", "allow_busy"],
    group: "server",
    summary: "Synchronously save the dataset to disk and then shut down the server",
    since: "1.0.0",
    handler: shutdown,
  }),
  command({
    name: "config",
    arity: -2,
    flags: [],
    group: "server",
    summary: "A container for server configuration commands",
    since: "2.0.0",
    subcommands: [
      subcommand("config", "get", -3, "Get the values of configuration parameters", configGet, [
        "admin",
        "noscript",
        "loading",
        "stale",
      ]),
      subcommand(
        "config",
        "set",
        -4,
        "Set configuration parameters to the given values",
        configSet,
        [
          "admin",
          "noscript",
          "loading",
          "stale",
        ],
      ),
      subcommand("config", "resetstat", 2, "Reset the stats returned by INFO", (client) => {
        const stats = client.server.stats;
        stats.commandsProcessed = stats.connectionsReceived = stats.keyspaceHits = 0;
        stats.keyspaceMisses = stats.netInputBytes = stats.netOutputBytes = 0;
        client.reply.ok();
      }),
      subcommand("config", "rewrite", 2, "Rewrite the configuration file", () => {
        throw new CommandError("ERR The server is running without a config file");
      }),
    ],
  }),
  command({
    name: "command",
    arity: -1,
    flags: ["loading", "stale"],
    group: "server",
    summary: "Get array of Redis command details",
    since: "2.8.13",
    handler: commandRoot,
    subcommands: [
      subcommand("command", "count", 2, "Get total number of Redis commands", (client) => {
        client.reply.integer(client.server.commands.all().length);
      }),
      subcommand("command", "info", -2, "Get array of specific Redis command details", commandInfo),
      subcommand(
        "command",
        "docs",
        -2,
        "Get array of specific Redis command documentation",
        commandDocs,
      ),
      subcommand("command", "list", -2, "Get an array of Redis command names", commandList),
      subcommand(
        "command",
        "getkeys",
        -3,
        "Extract keys given a full Redis command",
        commandGetKeys,
      ),
    ],
  }),
];
