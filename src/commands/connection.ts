/**
 * Connection commands: PING, ECHO, QUIT, SELECT, HELLO, RESET and CLIENT.
 *
 * These are what client libraries send when they connect (ioredis and
 * node-redis open with `HELLO 3`, then `CLIENT SETNAME`/`SETINFO`, `SELECT`)
 * so their replies follow Redis 7 to the byte, errors included: a library
 * that gets an unexpected reply during its handshake drops the connection.
 *
 * CLIENT's operator subcommands (LIST, KILL, PAUSE, UNBLOCK, REPLY,
 * TRACKING, CACHING, NO-EVICT...) follow Redis 7.0's clientCommand, option
 * order and error texts included; the state they change lives in the
 * operations part (operations/), which the request path consults.
 *
 * @module
 */

import { HELLO_NOAUTH } from "../acl/mod.ts";
import { authenticate } from "./acl.ts";
import { clientListLine, clientType, clientTypeByName } from "./client_list.ts";
import type { Client } from "./client.ts";
import { ArgumentCursor, parseInteger } from "./arguments.ts";
import {
  BCAST_SWITCH,
  CACHING_NO_WITHOUT_OPTOUT,
  CACHING_WITHOUT_TRACKING,
  CACHING_YES_WITHOUT_OPTIN,
  CLIENT_ID_NOT_POSITIVE,
  CLIENT_NAME_INVALID,
  clientInfoInvalid,
  CommandError,
  DB_INDEX_OUT_OF_RANGE,
  helloSyntaxError,
  INVALID_CLIENT_ID,
  NO_SUCH_CLIENT,
  noSuchUser,
  NOT_INTEGER,
  OPTIN_AND_OPTOUT,
  OPTIN_OPTOUT_SWITCH,
  OPTIN_OPTOUT_WITH_BCAST,
  PAUSE_MODE_INVALID,
  PREFIX_WITHOUT_BCAST,
  prefixOverlapsExisting,
  prefixOverlapsProvided,
  PROTOCOL_VERSION_NOT_INTEGER,
  REDIRECT_TARGET_MISSING,
  REDIRECT_TWICE,
  subcommandSyntaxError,
  SYNTAX_ERROR,
  UNBLOCK_REASON_INVALID,
  UNBLOCKED,
  unknownClientType,
  unrecognizedOption,
  UNSUPPORTED_PROTOCOL,
  wrongArity,
} from "./errors.ts";
import { helpReply } from "./help.ts";
import { type PauseMode, type TrackingOptions } from "./operations/mod.ts";
import { millisecondsTimeout } from "./server.ts";
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
  const server = client.server;
  let clients: Iterable<Client> = server.clients.values();
  if (args.length > 3 && args[2]!.toLowerCase() === "type") {
    const type = clientTypeByName(args[3]!);
    if (type === undefined) throw new CommandError(unknownClientType(args[3]!));
    clients = [...server.clients.values()].filter((other) => clientType(other) === type);
  } else if (args.length > 3 && args[2]!.toLowerCase() === "id") {
    const found: Client[] = [];
    for (const text of args.slice(3)) {
      const id = parseInteger(text);
      if (id === undefined) throw new CommandError(INVALID_CLIENT_ID);
      const other = server.clients.get(id);
      if (other !== undefined) found.push(other);
    }
    clients = found;
  } else if (args.length !== 2) {
    throw new CommandError(SYNTAX_ERROR);
  }
  const now = Date.now();
  let text = "";
  for (const other of clients) text += clientListLine(other, now) + "\n";
  client.reply.verbatim(text);
}

/** Closes `other` at once, dropping its unsent output, as Redis's freeClient. */
function killClient(other: Client): void {
  other.server.disconnect(other);
  other.transport.abort();
}

/**
 * CLIENT KILL addr:port (the old form: OK or No such client, and a client
 * may kill itself) or CLIENT KILL <filter> <value> ... (the number killed;
 * the caller is skipped unless SKIPME no), as Redis 7.0's clientKillCommand.
 * A client that kills itself is closed once its reply is sent.
 */
function clientKill(client: Client, args: string[]): void {
  const server = client.server;
  const filters: ((other: Client) => boolean)[] = [];
  let skipMe = true;
  if (args.length === 3) {
    const address = args[2]!;
    filters.push((other) => other.transport.remoteAddress === address);
    skipMe = false;
  } else if (args.length % 2 === 0) {
    for (let i = 2; i < args.length; i += 2) {
      const filter = args[i]!.toLowerCase();
      const value = args[i + 1]!;
      if (filter === "id") {
        const id = parseInteger(value);
        if (id === undefined || id <= 0) throw new CommandError(CLIENT_ID_NOT_POSITIVE);
        filters.push((other) => other.id === id);
      } else if (filter === "type") {
        const type = clientTypeByName(value);
        if (type === undefined) throw new CommandError(unknownClientType(value));
        filters.push((other) => clientType(other) === type);
      } else if (filter === "addr") {
        filters.push((other) => other.transport.remoteAddress === value);
      } else if (filter === "laddr") {
        filters.push((other) => other.transport.localAddress === value);
      } else if (filter === "user") {
        const user = server.acl.user(value);
        if (user === undefined) throw new CommandError(noSuchUser(value));
        filters.push((other) => other.user === user);
      } else if (filter === "skipme") {
        const answer = value.toLowerCase();
        if (answer !== "yes" && answer !== "no") throw new CommandError(SYNTAX_ERROR);
        skipMe = answer === "yes";
      } else {
        throw new CommandError(SYNTAX_ERROR);
      }
    }
  } else {
    throw new CommandError(SYNTAX_ERROR);
  }
  let killed = 0;
  for (const other of [...server.clients.values()]) {
    if (!filters.every((matches) => matches(other))) continue;
    if (other === client) {
      if (skipMe) continue;
      client.closeAfterReply = true;
    } else {
      killClient(other);
    }
    killed++;
  }
  if (args.length !== 3) client.reply.integer(killed);
  else if (killed === 0) throw new CommandError(NO_SUCH_CLIENT);
  else client.reply.ok();
}

/**
 * CLIENT UNBLOCK id [TIMEOUT|ERROR]: a client blocked in a blocking
 * command (or WAIT) gets its timeout reply, or the UNBLOCKED error, now.
 * Clients held back by CLIENT PAUSE are not blocked in that sense.
 */
function clientUnblock(client: Client, args: string[]): void {
  if (args.length > 4) throw new CommandError(subcommandSyntaxError(args[1]!, args[0]!));
  let asError = false;
  if (args.length === 4) {
    const reason = args[3]!.toLowerCase();
    if (reason === "error") asError = true;
    else if (reason !== "timeout") throw new CommandError(UNBLOCK_REASON_INVALID);
  }
  const id = parseInteger(args[2]!);
  if (id === undefined) throw new CommandError(NOT_INTEGER);
  const server = client.server;
  const operations = server.operations;
  const target = server.clients.get(id);
  const state = target?.blocked;
  if (target === undefined || state === undefined || operations.pause.isPostponed(target)) {
    client.reply.integer(0);
    return;
  }
  if (asError) {
    state.dispose();
    target.reply.error(UNBLOCKED);
    operations.errorReplied(UNBLOCKED);
    server.markPending(target);
    queueMicrotask(() => {
      if (!target.closed && target.blocked === undefined) target.transport.resume();
    });
  } else {
    state.onTimeout();
  }
  client.reply.integer(1);
}

/** CLIENT REPLY ON|OFF|SKIP: only ON is answered (see operations/reply_modes.ts). */
function clientReply(client: Client, args: string[]): void {
  const modes = client.server.operations.replyModes;
  const mode = args[2]!.toLowerCase();
  if (mode === "on") {
    modes.on(client);
    client.reply.ok();
  } else if (mode === "off") {
    modes.off(client);
  } else if (mode === "skip") {
    modes.skip(client);
  } else {
    throw new CommandError(SYNTAX_ERROR);
  }
}

/** CLIENT PAUSE timeout [WRITE|ALL]: the mode is checked before the timeout, as in Redis. */
function clientPause(client: Client, args: string[]): void {
  if (args.length > 4) throw new CommandError(subcommandSyntaxError(args[1]!, args[0]!));
  let mode: PauseMode = "all";
  if (args.length === 4) {
    const asked = args[3]!.toLowerCase();
    if (asked === "write") mode = "write";
    else if (asked !== "all") throw new CommandError(PAUSE_MODE_INVALID);
  }
  const end = millisecondsTimeout(args[2]!);
  client.server.operations.pause.pause(mode, end);
  client.reply.ok();
}

/**
 * CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN]
 * [OPTOUT] [NOLOOP]: options are parsed (and REDIRECT's target looked up)
 * for OFF too; ON then checks them against each other and the client's
 * current mode, in Redis's order.
 */
function clientTracking(client: Client, args: string[]): void {
  const server = client.server;
  const options: TrackingOptions = {
    redirect: 0,
    bcast: false,
    optin: false,
    optout: false,
    noloop: false,
    prefixes: [],
  };
  for (let i = 3; i < args.length; i++) {
    const option = args[i]!.toLowerCase();
    const more = i < args.length - 1;
    if (option === "redirect" && more) {
      i++;
      if (options.redirect !== 0) throw new CommandError(REDIRECT_TWICE);
      const id = parseInteger(args[i]!);
      if (id === undefined) throw new CommandError(NOT_INTEGER);
      if (!server.clients.has(id)) throw new CommandError(REDIRECT_TARGET_MISSING);
      options.redirect = id;
    } else if (option === "bcast") {
      options.bcast = true;
    } else if (option === "optin") {
      options.optin = true;
    } else if (option === "optout") {
      options.optout = true;
    } else if (option === "noloop") {
      options.noloop = true;
    } else if (option === "prefix" && more) {
      options.prefixes.push(args[++i]!);
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  const tracking = server.operations.tracking;
  const mode = args[2]!.toLowerCase();
  if (mode === "off") {
    tracking.disable(client);
    client.reply.ok();
    return;
  }
  if (mode !== "on") throw new CommandError(SYNTAX_ERROR);
  if (!options.bcast && options.prefixes.length > 0) throw new CommandError(PREFIX_WITHOUT_BCAST);
  const current = tracking.optionsOf(client);
  if (current !== undefined && current.bcast !== options.bcast) {
    throw new CommandError(BCAST_SWITCH);
  }
  if (options.bcast && (options.optin || options.optout)) {
    throw new CommandError(OPTIN_OPTOUT_WITH_BCAST);
  }
  if (options.optin && options.optout) throw new CommandError(OPTIN_AND_OPTOUT);
  if (
    current !== undefined &&
    ((options.optin && current.optout) || (options.optout && current.optin))
  ) {
    throw new CommandError(OPTIN_OPTOUT_SWITCH);
  }
  if (options.bcast) checkPrefixCollisions(options.prefixes, current?.prefixes ?? []);
  tracking.enable(client, options);
  client.reply.ok();
}

/** Redis's checkPrefixCollisionsOrReply: no prefix may be a prefix of another. */
function checkPrefixCollisions(added: readonly string[], existing: readonly string[]): void {
  const overlap = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);
  for (let i = 0; i < added.length; i++) {
    const prefix = added[i]!;
    const clash = existing.find((other) => overlap(prefix, other));
    if (clash !== undefined) throw new CommandError(prefixOverlapsExisting(prefix, clash));
    for (let j = i + 1; j < added.length; j++) {
      if (overlap(prefix, added[j]!)) {
        throw new CommandError(prefixOverlapsProvided(prefix, added[j]!));
      }
    }
  }
}

function clientCaching(client: Client, args: string[]): void {
  const tracking = client.server.operations.tracking;
  const options = tracking.optionsOf(client);
  if (options === undefined) throw new CommandError(CACHING_WITHOUT_TRACKING);
  const answer = args[2]!.toLowerCase();
  if (answer === "yes") {
    if (!options.optin) throw new CommandError(CACHING_YES_WITHOUT_OPTIN);
  } else if (answer === "no") {
    if (!options.optout) throw new CommandError(CACHING_NO_WITHOUT_OPTOUT);
  } else {
    throw new CommandError(SYNTAX_ERROR);
  }
  tracking.setCaching(client);
  client.reply.ok();
}

function clientTrackingInfo(client: Client): void {
  const options = client.server.operations.tracking.optionsOf(client);
  const flags: string[] = [];
  if (options === undefined) flags.push("off");
  else {
    flags.push("on");
    if (options.bcast) flags.push("bcast");
    if (options.optin) {
      flags.push("optin");
      if (options.caching) flags.push("caching-yes");
    }
    if (options.optout) {
      flags.push("optout");
      if (options.caching) flags.push("caching-no");
    }
    if (options.noloop) flags.push("noloop");
    if (options.brokenRedirect) flags.push("broken_redirect");
  }
  const reply = client.reply;
  reply.mapHeader(3);
  reply.bulk("flags");
  reply.setHeader(flags.length);
  for (const flag of flags) reply.bulk(flag);
  reply.bulk("redirect");
  reply.integer(options === undefined ? -1 : options.redirect);
  reply.bulk("prefixes");
  reply.bulkArray(options?.prefixes ?? []);
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

/** Redis 7.0's CLIENT HELP (SETINFO, accepted as in 7.2, is not listed there). */
const CLIENT_HELP = [
  "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CACHING (YES|NO)",
  "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
  "GETREDIR",
  "    Return the client ID we are redirecting to when tracking is enabled.",
  "GETNAME",
  "    Return the name of the current connection.",
  "ID",
  "    Return the ID of the current connection.",
  "INFO",
  "    Return information about the current client connection.",
  "KILL <ip:port>",
  "    Kill connection made from <ip:port>.",
  "KILL <option> <value> [<option> <value> [...]]",
  "    Kill connections. Options are:",
  "    * ADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made from the specified address",
  "    * LADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made to specified local address",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Kill connections by type.",
  "    * USER <username>",
  "      Kill connections authenticated by <username>.",
  "    * SKIPME (YES|NO)",
  "      Skip killing current connection (default: yes).",
  "LIST [options ...]",
  "    Return information about client connections. Options:",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Return clients of specified type.",
  "UNPAUSE",
  "    Stop the current client pause, resuming traffic.",
  "PAUSE <timeout> [WRITE|ALL]",
  "    Suspend all, or just write, clients for <timeout> milliseconds.",
  "REPLY (ON|OFF|SKIP)",
  "    Control the replies sent to the current connection.",
  "SETNAME <name>",
  "    Assign the name <name> to the current connection.",
  "UNBLOCK <clientid> [TIMEOUT|ERROR]",
  "    Unblock the specified blocked client.",
  "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
  "         [OPTIN] [OPTOUT] [NOLOOP]",
  "    Control server assisted client side caching.",
  "TRACKINGINFO",
  "    Report tracking status for the current connection.",
  "NO-EVICT (ON|OFF)",
  "    Protect current client connection from eviction.",
  "HELP",
  "    Prints this help.",
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
        (client) => client.reply.verbatim(clientListLine(client) + "\n"),
      ),
      clientSubcommand("list", -2, clientList, ["admin"]),
      clientSubcommand("kill", -3, clientKill, ["admin"]),
      clientSubcommand("no-evict", 3, (client, args) => {
        const mode = args[2]!.toLowerCase();
        const noEvict = client.server.operations.noEvict;
        if (mode === "on") noEvict.add(client);
        else if (mode === "off") noEvict.delete(client);
        else throw new CommandError(SYNTAX_ERROR);
        client.reply.ok();
      }, ["admin"]),
      clientSubcommand("unblock", -3, clientUnblock, ["admin"]),
      clientSubcommand("reply", 3, clientReply),
      clientSubcommand("pause", -3, clientPause, ["admin"]),
      clientSubcommand("unpause", 2, (client) => {
        client.server.operations.pause.unpause();
        client.reply.ok();
      }, ["admin"]),
      clientSubcommand("tracking", -3, clientTracking),
      clientSubcommand("caching", 3, clientCaching),
      clientSubcommand("getredir", 2, (client) => {
        const options = client.server.operations.tracking.optionsOf(client);
        client.reply.integer(options === undefined ? -1 : options.redirect);
      }),
      clientSubcommand("trackinginfo", 2, clientTrackingInfo),
      {
        name: "client|help",
        arity: 2,
        flags: ["loading", "stale"],
        aclCategories: ["connection"],
        handler: (client) => helpReply(client, CLIENT_HELP),
      },
    ],
  }),
];
