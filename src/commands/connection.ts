/**
 * Connection commands: PING, ECHO, QUIT, SELECT, HELLO, RESET and CLIENT.
 *
 * These are what client libraries send when they connect (ioredis and
 * node-redis open with `HELLO 3`, then `CLIENT SETNAME`/`SETINFO`, `SELECT`)
 * so their replies follow Redis 7 to the byte, errors included: a library
 * that gets an unexpected reply during its handshake drops the connection.
 *
 * @module
 */

import { HELLO_NOAUTH } from "../acl/mod.ts";
import { authenticate } from "./acl.ts";
import { describeClient } from "./client_info.ts";
import type { Client } from "./client.ts";
import { ArgumentCursor, parseInteger } from "./arguments.ts";
import {
  CLIENT_ID_NOT_POSITIVE,
  CLIENT_NAME_INVALID,
  clientInfoInvalid,
  CommandError,
  DB_INDEX_OUT_OF_RANGE,
  helloSyntaxError,
  INVALID_CLIENT_ID,
  NO_SUCH_CLIENT,
  NOT_INTEGER,
  PROTOCOL_VERSION_NOT_INTEGER,
  SYNTAX_ERROR,
  unknownClientType,
  unrecognizedOption,
  UNSUPPORTED_PROTOCOL,
  wrongArity,
} from "./errors.ts";
import { command, type CommandDeclaration, type CommandFlag } from "./table.ts";

const PONG = new TextEncoder().encode("+PONG\r\n");

function ping(client: Client, args: string[]): void {
  if (args.length > 2) throw new CommandError(wrongArity("ping"));
  // A RESP2 subscriber gets PING as a message-shaped array (Redis pingCommand).
  if (client.protocol === 2 && client.subscriptionCount > 0) {
    client.reply.arrayHeader(2);
    client.reply.bulk("pong");
    client.reply.bulk(args[1] ?? "");
  } else if (args.length === 1) {
    client.reply.raw(PONG);
  } else {
    client.reply.bulk(args[1]!);
  }
}

/** Switches `client` to database `index`, validating it like SELECT. */
export function selectDatabase(client: Client, indexText: string): void {
  const index = parseInteger(indexText);
  if (index === undefined) throw new CommandError(NOT_INTEGER);
  const db = client.server.keyspace.databases[index];
  if (db === undefined) throw new CommandError(DB_INDEX_OUT_OF_RANGE);
  client.db = db;
}

/** Whether a client name is acceptable: printable ASCII without spaces. */
function validateClientName(name: string): void {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 33 || code > 126) throw new CommandError(CLIENT_NAME_INVALID);
  }
}

function hello(client: Client, args: string[]): void {
  let protocol = client.protocol;
  const cursor = new ArgumentCursor(args);
  if (cursor.hasMore()) {
    const version = cursor.integer(PROTOCOL_VERSION_NOT_INTEGER);
    if (version < 2 || version > 3) throw new CommandError(UNSUPPORTED_PROTOCOL);
    protocol = version as 2 | 3;
  }
  let name: string | undefined;
  let credentials: [string, string] | undefined;
  while (cursor.hasMore()) {
    const option = cursor.next();
    const upper = option.toUpperCase();
    if (upper === "AUTH" && cursor.remaining >= 2) {
      credentials = [cursor.next(), cursor.next()];
    } else if (upper === "SETNAME" && cursor.remaining >= 1) {
      name = cursor.next();
    } else {
      throw new CommandError(helloSyntaxError(option));
    }
  }
  // Redis's order: authenticate, then insist on it, then the name.
  if (credentials !== undefined) authenticate(client, credentials[0], credentials[1], args[0]!);
  if (!client.authenticated) throw new CommandError(HELLO_NOAUTH);
  if (name !== undefined) {
    validateClientName(name);
    client.name = name;
  }
  client.protocol = protocol;
  const server = client.server;
  const reply = client.reply;
  reply.mapHeader(7);
  reply.bulk("server");
  reply.bulk("redis");
  reply.bulk("version");
  reply.bulk(server.version);
  reply.bulk("proto");
  reply.integer(protocol);
  reply.bulk("id");
  reply.integer(client.id);
  reply.bulk("mode");
  reply.bulk("standalone");
  reply.bulk("role");
  reply.bulk("master");
  reply.bulk("modules");
  reply.arrayHeader(0);
}

/** Returns a connection to its state right after connecting (RESET). */
function reset(client: Client): void {
  client.server.clientReset(client);
  client.transaction = undefined;
  client.transactionFailed = false;
  client.name = "";
  client.protocol = 2;
  client.db = client.server.keyspace.databases[0]!;
  client.resetAuthentication();
  client.reply.simple("RESET");
}

function clientList(client: Client, args: string[]): void {
  const cursor = new ArgumentCursor(args, 2);
  let ids: Set<number> | undefined;
  while (cursor.hasMore()) {
    const option = cursor.keyword();
    if (option === "TYPE") {
      const type = cursor.next().toLowerCase();
      if (!["normal", "master", "replica", "pubsub"].includes(type)) {
        throw new CommandError(unknownClientType(type));
      }
    } else if (option === "ID") {
      ids = new Set();
      while (cursor.hasMore()) {
        const id = parseInteger(cursor.next());
        if (id === undefined || id <= 0) throw new CommandError(INVALID_CLIENT_ID);
        ids.add(id);
      }
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  let text = "";
  for (const other of client.server.clients.values()) {
    if (ids && !ids.has(other.id)) continue;
    text += describeClient(other) + "\n";
  }
  client.reply.verbatim(text);
}

function clientKill(client: Client, args: string[]): void {
  const server = client.server;
  if (args.length === 3) {
    // Old form: CLIENT KILL addr:port.
    for (const other of server.clients.values()) {
      if (other.transport.remoteAddress === args[2]) {
        other.transport.close();
        client.reply.ok();
        return;
      }
    }
    throw new CommandError(NO_SUCH_CLIENT);
  }
  const cursor = new ArgumentCursor(args, 2);
  const filters: ((other: Client) => boolean)[] = [];
  let skipMe = true;
  while (cursor.hasMore()) {
    const filter = cursor.keyword();
    const value = cursor.next();
    if (filter === "ID") {
      const id = parseInteger(value);
      if (id === undefined || id <= 0) {
        throw new CommandError(CLIENT_ID_NOT_POSITIVE);
      }
      filters.push((other) => other.id === id);
    } else if (filter === "ADDR") {
      filters.push((other) => other.transport.remoteAddress === value);
    } else if (filter === "LADDR") {
      filters.push((other) => other.transport.localAddress === value);
    } else if (filter === "SKIPME") {
      const yes = value.toLowerCase();
      if (yes !== "yes" && yes !== "no") throw new CommandError(SYNTAX_ERROR);
      skipMe = yes === "yes";
    } else if (filter === "TYPE" || filter === "USER" || filter === "MAXAGE") {
      filters.push(() => true);
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  let killed = 0;
  for (const other of [...server.clients.values()]) {
    if (skipMe && other === client) continue;
    if (!filters.every((matches) => matches(other))) continue;
    if (other === client) client.closeAfterReply = true;
    else other.transport.close();
    killed++;
  }
  client.reply.integer(killed);
}

function clientSetInfo(client: Client, args: string[]): void {
  const attribute = args[2]!.toLowerCase();
  const value = args[3]!;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 33 || code > 126) {
      throw new CommandError(clientInfoInvalid(attribute));
    }
  }
  if (attribute === "lib-name") client.libraryName = value;
  else if (attribute === "lib-ver") client.libraryVersion = value;
  else throw new CommandError(unrecognizedOption(args[2]!));
  client.reply.ok();
}

const CLIENT_HELP = [
  "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "GETNAME",
  "    Return the name of the current connection.",
  "ID",
  "    Return the ID of the current connection.",
  "INFO",
  "    Return information about the current client connection.",
  "KILL <ip:port>",
  "    Kill connection made from <ip:port>.",
  "KILL <option> <value> [<option> <value> [...]]",
  "    Kill connections. Options are: ID, ADDR, LADDR, SKIPME.",
  "LIST [options ...]",
  "    Return information about client connections.",
  "NO-EVICT (ON|OFF)",
  "    Protect current client connection from eviction.",
  "SETNAME <name>",
  "    Assign the name <name> to the current connection.",
  "SETINFO <option> <value>",
  "    Set client meta attr. Options are LIB-NAME and LIB-VER.",
  "HELP",
  "    Print this help.",
];

/** A CLIENT subcommand: noscript, loading and stale, in @connection, plus `flags`. */
function clientSubcommand(
  name: string,
  arity: number,
  handler: (client: Client, args: string[]) => void,
  flags: readonly CommandFlag[] = [],
): CommandDeclaration {
  return {
    name: `client|${name}`,
    arity,
    flags: [...flags, "noscript", "loading", "stale"],
    aclCategories: ["connection"],
    handler,
  };
}

export const connectionCommands = [
  command({
    name: "ping",
    arity: -1,
    flags: ["fast"],
    aclCategories: ["connection"],
    handler: ping,
  }),
  command({
    name: "echo",
    arity: 2,
    flags: ["loading", "stale", "fast"],
    aclCategories: ["connection"],
    handler: (client, args) => client.reply.bulk(args[1]!),
  }),
  command({
    name: "quit",
    arity: -1,
    flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
    aclCategories: ["connection"],
    handler: (client) => {
      client.reply.ok();
      client.closeAfterReply = true;
    },
  }),
  command({
    name: "select",
    arity: 2,
    flags: ["loading", "stale", "fast"],
    aclCategories: ["connection"],
    handler: (client, args) => {
      selectDatabase(client, args[1]!);
      client.reply.ok();
    },
  }),
  command({
    name: "hello",
    arity: -1,
    flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
    aclCategories: ["connection"],
    handler: hello,
  }),
  command({
    name: "reset",
    arity: 1,
    flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
    aclCategories: ["connection"],
    handler: reset,
  }),
  command({
    name: "client",
    arity: -2,
    flags: [],
    subcommands: [
      clientSubcommand("id", 2, (client) => client.reply.integer(client.id)),
      clientSubcommand("getname", 2, (client) => {
        if (client.name === "") client.reply.nullBulk();
        else client.reply.bulk(client.name);
      }),
      clientSubcommand("setname", 3, (client, args) => {
        validateClientName(args[2]!);
        client.name = args[2]!;
        client.reply.ok();
      }),
      clientSubcommand("setinfo", 4, clientSetInfo),
      clientSubcommand(
        "info",
        2,
        (client) => client.reply.verbatim(describeClient(client) + "\n"),
      ),
      clientSubcommand("list", -2, clientList, ["admin"]),
      clientSubcommand("kill", -3, clientKill, ["admin"]),
      clientSubcommand("no-evict", 3, (client, args) => {
        const mode = args[2]!.toLowerCase();
        if (mode !== "on" && mode !== "off") throw new CommandError(SYNTAX_ERROR);
        client.reply.ok();
      }, ["admin"]),
      {
        name: "client|help",
        arity: 2,
        flags: ["loading", "stale"],
        aclCategories: ["connection"],
        handler: (client) => {
          client.reply.arrayHeader(CLIENT_HELP.length);
          for (const line of CLIENT_HELP) client.reply.simple(line);
        },
      },
    ],
  }),
];
