/**
 * The ACL command family and AUTH, on top of the ACL engine (src/acl/).
 *
 * The engine owns users, rules, checks, the log and the ACL file; this
 * module is what a client sees of them: ACL SETUSER GETUSER DELUSER LIST
 * USERS WHOAMI CAT GENPASS LOG SAVE LOAD DRYRUN HELP and AUTH with Redis
 * 7.0's replies in RESP2 and RESP3, plus what the dispatcher, EXEC, HELLO
 * and scripts need: `authenticate` (AUTH's effects and errors, for HELLO's
 * AUTH option), `deniedReply` and `deniedAtExecReply` (check a request,
 * log a denial, give the NOPERM text), and `TableCatalogue`, which
 * describes the server's command table to the engine.
 *
 * It also carries out what the engine reports about clients, as acl.c
 * does: ACL DELUSER and ACL LOAD disconnect the clients of the users they
 * removed (the calling client after its reply), and ACL SETUSER
 * disconnects the subscribers of a user whose remaining channel
 * permissions no longer cover their subscriptions.
 *
 * Where the state lives: the engine is `server.acl` and each client's
 * authentication is `client.user` / `client.authenticated`.
 *
 * @module
 */

import {
  ACL_CATEGORIES,
  AclCatalogue,
  type AclCommand,
  type AclCommandSpec,
  AclError,
  type AclKeyReference,
  type AclLogContext,
  type AclUser,
  AUTH_WITHOUT_PASSWORD,
  categoryBit,
  type ChannelAllowance,
  generatePassword,
  GENPASS_RANGE,
  keyAccess,
  noPermission,
  noPermissionAtExec,
  REDIS_CHANNEL_FINDERS,
  subcommandSyntaxError,
  unknownCategory,
  WRONGPASS,
} from "../acl/mod.ts";
import { parseInteger } from "./arguments.ts";
import type { Client } from "./client.ts";
import { describeClient } from "./client_info.ts";
import { CommandError, NOT_INTEGER, SYNTAX_ERROR } from "./errors.ts";
import type { CommandTable } from "./registry.ts";
import { type Command, command, type CommandDeclaration, hasKeys, requestKeys } from "./table.ts";

/**
 * Whether `client` must authenticate before running commands other than
 * no-auth ones (authRequired): the default user needs a password or is off,
 * and the client has not authenticated.
 */
export function authenticationRequired(client: Client): boolean {
  const user = client.server.acl.defaultUser;
  return (!user.noPassword || !user.enabled) && !client.authenticated;
}

/**
 * The command table described to the ACL engine: every command and
 * subcommand with its categories, key finder and channels, and the way
 * back from a table `Command` to the engine's `AclCommand`.
 */
export class TableCatalogue {
  readonly catalogue: AclCatalogue;
  readonly #byCommand = new Map<Command, AclCommand>();

  constructor(table: CommandTable) {
    const specs = new Map<Command, AclCommandSpec>();
    const describe = (cmd: Command): AclCommandSpec => {
      const spec: AclCommandSpec = {
        name: cmd.name,
        arity: cmd.arity,
        categories: cmd.categories,
        noAuth: cmd.flags.includes("no_auth"),
        subcommands: [...cmd.subcommandTable?.values() ?? []].map(describe),
        keys: this.#keyFinder(cmd),
        channels: REDIS_CHANNEL_FINDERS.get(cmd.name),
      };
      specs.set(cmd, spec);
      return spec;
    };
    this.catalogue = new AclCatalogue(table.all().map(describe));
    for (const [cmd, spec] of specs) this.#byCommand.set(cmd, this.catalogue.of(spec)!);
  }

  /**
   * How the engine finds a command's keys. Most commands name their keys at
   * fixed positions (GET, SET's key, LMOVE's two): their references are
   * built once and shared by every request long enough to hold them, so
   * checking a restricted user allocates nothing for keys.
   */
  #keyFinder(cmd: Command): AclCommandSpec["keys"] {
    if (!hasKeys(cmd)) return undefined;
    const fixed = this.#fixedKeys(cmd);
    if (fixed === undefined) return (args) => this.#keys(cmd, args);
    const needed = Math.max(...fixed.map((key) => key.position)) + 1;
    return (args) => args.length >= needed ? fixed : this.#keys(cmd, args);
  }

  /** The keys of a command whose key specs are all fixed index ranges, in key-spec order. */
  #fixedKeys(cmd: Command): AclKeyReference[] | undefined {
    const references: AclKeyReference[] = [];
    for (const spec of cmd.keySpecs) {
      if (spec.flags.includes("NOT_KEY")) continue;
      if (spec.flags.includes("INCOMPLETE") || spec.flags.includes("VARIABLE_FLAGS")) {
        return undefined;
      }
      const { begin, find } = spec;
      if (typeof begin !== "object" || !("index" in begin)) return undefined;
      if (typeof find !== "object" || !("lastKey" in find) || find.lastKey < 0) return undefined;
      const { read, write } = keyAccess(spec.flags);
      const last = begin.index + find.lastKey;
      for (let position = begin.index; position <= last; position += find.keyStep ?? 1) {
        references.push({ position, read, write });
      }
    }
    return references.length === 0 ? undefined : references;
  }

  /**
   * A request's keys as the engine wants them. Key finders may build their
   * flag lists per request (SET's depend on GET), so nothing is cached by them.
   */
  #keys(cmd: Command, args: readonly string[]): AclKeyReference[] {
    const keys = requestKeys(cmd, args);
    const references: AclKeyReference[] = [];
    for (const key of keys) {
      const { read, write } = keyAccess(key.flags);
      references.push({ position: key.position, read, write });
    }
    return references;
  }

  /** The engine's form of a command of the table. */
  of(cmd: Command): AclCommand {
    return this.#byCommand.get(cmd)!;
  }
}

function logContext(client: Client): AclLogContext {
  return client.transaction !== undefined ? "multi" : "toplevel";
}

/**
 * The dispatcher's permission check (processCommand): undefined when the
 * client's user may run the request, otherwise the denial is logged and
 * the NOPERM reply text returned. `context` is `lua` for script calls.
 */
export function deniedReply(
  client: Client,
  cmd: AclCommand,
  args: readonly string[],
  context: AclLogContext = logContext(client),
): string | undefined {
  const user = client.user;
  if (user.allowsEverything) return undefined;
  const denial = user.check(cmd, args);
  if (denial === undefined) return undefined;
  client.server.acl.logDenial(user, denial, cmd, args, context, describeClient(client));
  return noPermission(denial.reason, cmd.fullName);
}

/** EXEC's re-check of a queued command: undefined, or the logged denial's NOPERM text. */
export function deniedAtExecReply(
  client: Client,
  cmd: AclCommand,
  args: readonly string[],
): string | undefined {
  const user = client.user;
  if (user.allowsEverything) return undefined;
  const denial = user.check(cmd, args);
  if (denial === undefined) return undefined;
  client.server.acl.logDenial(user, denial, cmd, args, "multi", describeClient(client));
  return noPermissionAtExec(denial.reason);
}

/**
 * Authenticates `client` as `username` (ACLAuthenticateUser), for AUTH and
 * HELLO's AUTH option: on success the client runs as that user; on failure
 * the attempt is logged (`commandName` is the command as the client sent
 * it, as ACL LOG shows it) and WRONGPASS thrown.
 */
export function authenticate(
  client: Client,
  username: string,
  password: string,
  commandName: string,
): void {
  const acl = client.server.acl;
  const user = acl.authenticate(username, password);
  if (user === undefined) {
    acl.logAuthFailure(username, commandName, logContext(client), describeClient(client));
    throw new CommandError(WRONGPASS);
  }
  client.user = user;
  client.authenticated = true;
}

function auth(client: Client, args: string[]): void {
  if (args.length > 3) throw new CommandError(SYNTAX_ERROR);
  if (args.length === 2) {
    if (client.server.acl.defaultUser.noPassword) {
      throw new CommandError(AUTH_WITHOUT_PASSWORD);
    }
    authenticate(client, "default", args[1]!, args[0]!);
  } else {
    authenticate(client, args[1]!, args[2]!, args[0]!);
  }
  client.reply.ok();
}

/** Runs an engine operation, turning its failures into error replies. */
function engine<T>(operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    if (error instanceof AclError) throw new CommandError(error.message);
    throw error;
  }
}

/**
 * Disconnects the clients authenticated as one of `users` (ACLFreeUserAndKillClients):
 * they fall back to the unauthenticated default user first, so nothing
 * more runs as a deleted user; the calling client is closed after its reply.
 */
function disconnectUsers(client: Client, users: readonly AclUser[]): void {
  if (users.length === 0) return;
  const removed = new Set(users);
  const acl = client.server.acl;
  for (const other of [...client.server.clients.values()]) {
    if (!removed.has(other.user)) continue;
    other.user = acl.defaultUser;
    other.authenticated = false;
    disconnect(client, other);
  }
}

function disconnect(client: Client, other: Client): void {
  if (other === client) client.closeAfterReply = true;
  else other.transport.close();
}

/** Disconnects `user`'s subscribers that hold a subscription `allowance` refuses. */
function disconnectRevokedSubscribers(
  client: Client,
  user: AclUser,
  allowance: ChannelAllowance,
): void {
  for (const other of [...client.server.clients.values()]) {
    if (other.user !== user || other.subscriptionCount === 0) continue;
    const refused = [...other.patterns].some((pattern) => !allowance.pattern(pattern)) ||
      [...other.channels].some((channel) => !allowance.channel(channel)) ||
      [...other.shardChannels].some((channel) => !allowance.channel(channel));
    if (refused) disconnect(client, other);
  }
}

function setUser(client: Client, args: string[]): void {
  const outcome = engine(() => client.server.acl.setUser(args[2]!, args.slice(3)));
  if (outcome.revokedChannels !== undefined) {
    disconnectRevokedSubscribers(client, outcome.user, outcome.revokedChannels);
  }
  client.reply.ok();
}

function getUser(client: Client, args: string[]): void {
  const user = client.server.acl.user(args[2]!);
  const reply = client.reply;
  if (user === undefined) {
    reply.nullBulk();
    return;
  }
  reply.mapHeader(6);
  reply.bulk("flags");
  const flags = user.flags;
  reply.setHeader(flags.length);
  for (const flag of flags) reply.bulk(flag);
  reply.bulk("passwords");
  reply.bulkArray(user.passwords);
  const [root, ...selectors] = user.selectors;
  reply.bulk("commands");
  reply.bulk(root!.describeCommands());
  reply.bulk("keys");
  reply.bulk(root!.describeKeys());
  reply.bulk("channels");
  reply.bulk(root!.describeChannels());
  reply.bulk("selectors");
  reply.arrayHeader(selectors.length);
  for (const selector of selectors) {
    reply.mapHeader(3);
    reply.bulk("commands");
    reply.bulk(selector.describeCommands());
    reply.bulk("keys");
    reply.bulk(selector.describeKeys());
    reply.bulk("channels");
    reply.bulk(selector.describeChannels());
  }
}

function deleteUsers(client: Client, args: string[]): void {
  const removed = engine(() => client.server.acl.deleteUsers(args.slice(2)));
  disconnectUsers(client, removed);
  client.reply.integer(removed.length);
}

function listUsers(client: Client): void {
  const users = client.server.acl.users();
  client.reply.bulkArray(users.map((user) => `user ${user.name} ${user.describe()}`));
}

function categories(client: Client, args: string[]): void {
  if (args.length > 3) throw new CommandError(subcommandSyntaxError(args[1]!, args[0]!));
  if (args.length === 2) {
    client.reply.bulkArray(ACL_CATEGORIES);
    return;
  }
  const bit = categoryBit(args[2]!);
  if (bit === 0) throw new CommandError(unknownCategory(args[2]!));
  const commands = client.server.acl.catalogue.inCategory(bit);
  client.reply.bulkArray(commands.map((cmd) => cmd.fullName));
}

function generatePasswordCommand(client: Client, args: string[]): void {
  if (args.length > 3) throw new CommandError(subcommandSyntaxError(args[1]!, args[0]!));
  let bits = 256;
  if (args.length === 3) {
    const requested = parseInteger(args[2]!);
    if (requested === undefined) throw new CommandError(NOT_INTEGER);
    if (requested <= 0 || requested > 4096) throw new CommandError(GENPASS_RANGE);
    bits = requested;
  }
  client.reply.bulk(generatePassword(bits));
}

function log(client: Client, args: string[]): void {
  if (args.length > 3) throw new CommandError(subcommandSyntaxError(args[1]!, args[0]!));
  const aclLog = client.server.acl.log;
  let count = 10;
  if (args.length === 3) {
    if (args[2]!.toLowerCase() === "reset") {
      aclLog.reset();
      client.reply.ok();
      return;
    }
    const requested = parseInteger(args[2]!);
    if (requested === undefined) throw new CommandError(NOT_INTEGER);
    count = Math.max(requested, 0);
  }
  const entries = aclLog.recent(count);
  const now = aclLog.clock();
  const reply = client.reply;
  reply.arrayHeader(entries.length);
  for (const entry of entries) {
    reply.mapHeader(7);
    reply.bulk("count");
    reply.integer(entry.count);
    reply.bulk("reason");
    reply.bulk(entry.reason);
    reply.bulk("context");
    reply.bulk(entry.context);
    reply.bulk("object");
    reply.bulk(entry.object);
    reply.bulk("username");
    reply.bulk(entry.username);
    reply.bulk("age-seconds");
    reply.double((now - entry.time) / 1000);
    reply.bulk("client-info");
    reply.bulk(entry.clientInfo);
  }
}

function dryRun(client: Client, args: string[]): void {
  const denial = engine(() => client.server.acl.dryRun(args[2]!, args.slice(3)));
  if (denial === undefined) client.reply.ok();
  else client.reply.bulk(denial);
}

function load(client: Client): void {
  const removed = engine(() => client.server.acl.load());
  disconnectUsers(client, removed);
  client.reply.ok();
}

const ACL_HELP = [
  "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CAT [<category>]",
  "    List all commands that belong to <category>, or all command categories",
  "    when no category is specified.",
  "DELUSER <username> [<username> ...]",
  "    Delete a list of users.",
  "DRYRUN <username> <command> [<arg> ...]",
  "    Returns whether the user can execute the given command without executing the command.",
  "GETUSER <username>",
  "    Get the user's details.",
  "GENPASS [<bits>]",
  "    Generate a secure 256-bit user password. The optional `bits` argument can",
  "    be used to specify a different size.",
  "LIST",
  "    Show users details in config file format.",
  "LOAD",
  "    Reload users from the ACL file.",
  "LOG [<count> | RESET]",
  "    Show the ACL log entries.",
  "SAVE",
  "    Save the current config to the ACL file.",
  "SETUSER <username> <attribute> [<attribute> ...]",
  "    Create or modify a user with the specified attributes.",
  "USERS",
  "    List all the registered usernames.",
  "WHOAMI",
  "    Return the current connection username.",
  "HELP",
  "    Prints this help.",
];

const ADMIN = ["admin", "noscript", "loading", "stale"] as const;
const OPEN = ["noscript", "loading", "stale"] as const;

function aclSubcommand(
  name: string,
  arity: number,
  flags: CommandDeclaration["flags"],
  handler: (client: Client, args: string[]) => void,
): CommandDeclaration {
  return { name: `acl|${name}`, arity, flags, handler };
}

/** The ACL container with its subcommands, and AUTH. */
export const aclCommands = [
  command({
    name: "auth",
    arity: -2,
    flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
    aclCategories: ["connection"],
    handler: auth,
  }),
  command({
    name: "acl",
    arity: -2,
    flags: [],
    subcommands: [
      aclSubcommand("cat", -2, OPEN, categories),
      aclSubcommand("deluser", -3, ADMIN, deleteUsers),
      aclSubcommand("dryrun", -4, ADMIN, dryRun),
      aclSubcommand("genpass", -2, OPEN, generatePasswordCommand),
      aclSubcommand("getuser", 3, ADMIN, getUser),
      aclSubcommand("help", 2, ["loading", "stale"], (client) => {
        client.reply.arrayHeader(ACL_HELP.length);
        for (const line of ACL_HELP) client.reply.simple(line);
      }),
      aclSubcommand("list", 2, ADMIN, listUsers),
      aclSubcommand("load", 2, ADMIN, load),
      aclSubcommand("log", -2, ADMIN, log),
      aclSubcommand("save", 2, ADMIN, (client) => {
        engine(() => client.server.acl.save());
        client.reply.ok();
      }),
      aclSubcommand("setuser", -3, ADMIN, setUser),
      aclSubcommand("users", 2, ADMIN, (client) => {
        client.reply.bulkArray(client.server.acl.users().map((user) => user.name));
      }),
      aclSubcommand("whoami", 2, OPEN, (client) => client.reply.bulk(client.user.name)),
    ],
  }),
];
