/**
 * COMMAND and its subcommands (COUNT, INFO, DOCS, LIST, GETKEYS,
 * GETKEYSANDFLAGS, HELP): the command table describing itself.
 *
 * Every reply is generated from the table the dispatcher runs (families'
 * declarations, with the facts table.ts derives) joined with the recorded
 * documentation (command_docs.ts), and written field by field as Redis
 * 7.0's addReplyCommandInfo / addReplyCommandDocs write them, so that
 * clients which learn commands from COMMAND (redis-cli's hints, cluster
 * clients' key routing) see exactly what redis-server would tell them about
 * the commands this server has. Lookups by name follow lookupCommandBySds
 * (`container|sub`, any case) and GETKEYS follows lookupCommand (the
 * request's own words).
 *
 * @module
 */

import type { ReplyWriter } from "../protocol/reply_writer.ts";
import { globMatch } from "../store/glob.ts";
import type { Client } from "./client.ts";
import { type ArgumentDocs, type CommandDocs, commandDocs } from "./command_docs.ts";
import {
  CommandError,
  INVALID_ARGUMENT_COUNT,
  INVALID_COMMAND_ARGUMENTS,
  INVALID_COMMAND_SPECIFIED,
  NO_KEY_ARGUMENTS,
  SYNTAX_ERROR,
} from "./errors.ts";
import type { CommandTable } from "./registry.ts";
import {
  arityMatches,
  type Command,
  command,
  type CommandDeclaration,
  type CommandFlag,
  hasKeys,
  type KeySpec,
  type KeySpecFlag,
  requestKeys,
} from "./table.ts";

/** COMMAND INFO's flag order (addReplyFlagsForCommand); the hidden ones are left out. */
const FLAG_ORDER: readonly (CommandFlag | "movablekeys")[] = [
  "write",
  "readonly",
  "denyoom",
  "admin",
  "pubsub",
  "noscript",
  "blocking",
  "loading",
  "stale",
  "skip_monitor",
  "skip_slowlog",
  "asking",
  "fast",
  "no_auth",
  "no_mandatory_keys",
  "no_async_loading",
  "no_multi",
  "movablekeys",
  "allow_busy",
];

/** Key spec flags in reply order, with the names replies give them (addReplyFlagsForKeyArgs). */
const KEY_FLAG_NAMES: readonly (readonly [KeySpecFlag, string])[] = [
  ["RO", "RO"],
  ["RW", "RW"],
  ["OW", "OW"],
  ["RM", "RM"],
  ["ACCESS", "access"],
  ["UPDATE", "update"],
  ["INSERT", "insert"],
  ["DELETE", "delete"],
  ["NOT_KEY", "not_key"],
  ["INCOMPLETE", "incomplete"],
  ["VARIABLE_FLAGS", "variable_flags"],
];

/** The flags COMMAND INFO shows for `cmd`, in Redis's order. */
export function replyFlags(cmd: Command): string[] {
  return FLAG_ORDER.filter((flag) =>
    flag === "movablekeys" ? cmd.movableKeys : cmd.flags.includes(flag)
  );
}

/** Key spec flags as replies spell them, in Redis's order. */
export function replyKeyFlags(flags: readonly KeySpecFlag[]): string[] {
  return KEY_FLAG_NAMES.filter(([flag]) => flags.includes(flag)).map(([, name]) => name);
}

function writeStatusSet(reply: ReplyWriter, values: readonly string[]): void {
  reply.setHeader(values.length);
  for (const value of values) reply.simple(value);
}

function writeKeySpec(reply: ReplyWriter, spec: KeySpec): void {
  reply.mapHeader(spec.notes === undefined ? 3 : 4);
  if (spec.notes !== undefined) {
    reply.bulk("notes");
    reply.bulk(spec.notes);
  }
  reply.bulk("flags");
  writeStatusSet(reply, replyKeyFlags(spec.flags));
  reply.bulk("begin_search");
  reply.mapHeader(2);
  reply.bulk("type");
  const begin = spec.begin;
  if (begin === "unknown") {
    reply.bulk("unknown");
    reply.bulk("spec");
    reply.mapHeader(0);
  } else if ("index" in begin) {
    reply.bulk("index");
    reply.bulk("spec");
    reply.mapHeader(1);
    reply.bulk("index");
    reply.integer(begin.index);
  } else {
    reply.bulk("keyword");
    reply.bulk("spec");
    reply.mapHeader(2);
    reply.bulk("keyword");
    reply.bulk(begin.keyword);
    reply.bulk("startfrom");
    reply.integer(begin.startFrom);
  }
  reply.bulk("find_keys");
  reply.mapHeader(2);
  reply.bulk("type");
  const find = spec.find;
  if (find === "unknown") {
    reply.bulk("unknown");
    reply.bulk("spec");
    reply.mapHeader(0);
  } else if ("lastKey" in find) {
    reply.bulk("range");
    reply.bulk("spec");
    reply.mapHeader(3);
    reply.bulk("lastkey");
    reply.integer(find.lastKey);
    reply.bulk("keystep");
    reply.integer(find.keyStep ?? 1);
    reply.bulk("limit");
    reply.integer(find.limit ?? 0);
  } else {
    reply.bulk("keynum");
    reply.bulk("spec");
    reply.mapHeader(3);
    reply.bulk("keynumidx");
    reply.integer(find.keyNumIndex);
    reply.bulk("firstkey");
    reply.integer(find.firstKey);
    reply.bulk("keystep");
    reply.integer(find.keyStep ?? 1);
  }
}

function subcommandsOf(cmd: Command): Command[] {
  return cmd.subcommandTable ? [...cmd.subcommandTable.values()] : [];
}

/** One COMMAND INFO entry (addReplyCommandInfo), or a null for an unknown name. */
export function writeCommandInfo(reply: ReplyWriter, cmd: Command | undefined): void {
  if (cmd === undefined) {
    reply.nullBulk();
    return;
  }
  reply.arrayHeader(10);
  reply.bulk(cmd.name);
  reply.integer(cmd.arity);
  writeStatusSet(reply, replyFlags(cmd));
  const range = cmd.legacyKeyRange;
  reply.integer(range.first);
  reply.integer(range.last);
  reply.integer(range.step);
  writeStatusSet(reply, cmd.categories.map((category) => `@${category}`));
  const tips = commandDocs(cmd.name)?.tips ?? [];
  reply.setHeader(tips.length);
  for (const tip of tips) reply.bulk(tip);
  reply.setHeader(cmd.keySpecs.length);
  for (const spec of cmd.keySpecs) writeKeySpec(reply, spec);
  const subcommands = subcommandsOf(cmd);
  if (cmd.subcommandTable === undefined) {
    reply.setHeader(0);
  } else {
    reply.arrayHeader(subcommands.length);
    for (const sub of subcommands) writeCommandInfo(reply, sub);
  }
}

function writeArguments(reply: ReplyWriter, list: readonly ArgumentDocs[]): void {
  reply.arrayHeader(list.length);
  for (const argument of list) {
    const fields: [string, string | number | readonly string[] | readonly ArgumentDocs[]][] = [
      ["name", argument.name],
      ["type", argument.type],
    ];
    if (argument.keySpecIndex !== undefined) fields.push(["key_spec_index", argument.keySpecIndex]);
    if (argument.token !== undefined) fields.push(["token", argument.token]);
    if (argument.summary !== undefined) fields.push(["summary", argument.summary]);
    if (argument.since !== undefined) fields.push(["since", argument.since]);
    if (argument.flags !== undefined) fields.push(["flags", argument.flags]);
    if (argument.deprecatedSince !== undefined) {
      fields.push(["deprecated_since", argument.deprecatedSince]);
    }
    if (argument.value !== undefined) fields.push(["value", argument.value]);
    if (argument.arguments !== undefined) fields.push(["arguments", argument.arguments]);
    reply.mapHeader(fields.length);
    for (const [field, value] of fields) {
      reply.bulk(field);
      if (typeof value === "string") reply.bulk(value);
      else if (typeof value === "number") reply.integer(value);
      else if (field === "flags") writeStatusSet(reply, value as readonly string[]);
      else writeArguments(reply, value as readonly ArgumentDocs[]);
    }
  }
}

const NO_DOCS: CommandDocs = { group: "module" };

/** One COMMAND DOCS entry's value (addReplyCommandDocs). */
export function writeCommandDocs(reply: ReplyWriter, cmd: Command): void {
  // A command without recorded documentation says only its group, as a module's would.
  const docs = commandDocs(cmd.name) ?? NO_DOCS;
  const subcommands = subcommandsOf(cmd);
  const present = [
    docs.summary,
    docs.since,
    docs.group,
    docs.complexity,
    docs.docFlags,
    docs.deprecatedSince,
    docs.replacedBy,
    docs.history,
    docs.arguments,
    cmd.subcommandTable,
  ].filter((value) => value !== undefined).length;
  reply.mapHeader(present);
  for (
    const [field, value] of [
      ["summary", docs.summary],
      ["since", docs.since],
      ["group", docs.group],
      ["complexity", docs.complexity],
    ] as const
  ) {
    if (value === undefined) continue;
    reply.bulk(field);
    reply.bulk(value);
  }
  if (docs.docFlags !== undefined) {
    reply.bulk("doc_flags");
    writeStatusSet(reply, docs.docFlags);
  }
  if (docs.deprecatedSince !== undefined) {
    reply.bulk("deprecated_since");
    reply.bulk(docs.deprecatedSince);
  }
  if (docs.replacedBy !== undefined) {
    reply.bulk("replaced_by");
    reply.bulk(docs.replacedBy);
  }
  if (docs.history !== undefined) {
    reply.bulk("history");
    reply.setHeader(docs.history.length);
    for (const [version, change] of docs.history) {
      reply.arrayHeader(2);
      reply.bulk(version);
      reply.bulk(change);
    }
  }
  if (docs.arguments !== undefined) {
    reply.bulk("arguments");
    writeArguments(reply, docs.arguments);
  }
  if (cmd.subcommandTable !== undefined) {
    reply.bulk("subcommands");
    reply.mapHeader(subcommands.length);
    for (const sub of subcommands) {
      reply.bulk(sub.name);
      writeCommandDocs(reply, sub);
    }
  }
}

/** The command `name` designates (lookupCommandBySds): `get`, `config|get`, any case. */
export function lookupCommandByName(table: CommandTable, name: string): Command | undefined {
  const parts = name.split("|");
  if (parts.length > 2) return undefined;
  const base = table.lookup(parts[0]!);
  if (parts.length === 1 || base === undefined) return base;
  return base.subcommandTable?.get(parts[1]!.toLowerCase());
}

/** The command a request runs (lookupCommand), without checking its arity. */
function lookupRequest(table: CommandTable, request: readonly string[]): Command | undefined {
  const base = table.lookup(request[0]!);
  if (base === undefined || request.length === 1 || base.subcommandTable === undefined) {
    return base;
  }
  return base.subcommandTable.get(request[1]!.toLowerCase());
}

/** Every command and subcommand, containers before their subcommands (COMMAND LIST). */
function everyCommand(table: CommandTable): Command[] {
  return table.all().flatMap((cmd) => [cmd, ...subcommandsOf(cmd)]);
}

function commandRoot(client: Client): void {
  const commands = client.server.commands.all();
  client.reply.arrayHeader(commands.length);
  for (const cmd of commands) writeCommandInfo(client.reply, cmd);
}

function commandInfo(client: Client, args: string[]): void {
  const table = client.server.commands;
  const commands = args.length === 2
    ? table.all()
    : args.slice(2).map((name) => lookupCommandByName(table, name));
  client.reply.arrayHeader(commands.length);
  for (const cmd of commands) writeCommandInfo(client.reply, cmd);
}

function commandDocsReply(client: Client, args: string[]): void {
  const table = client.server.commands;
  const commands = args.length === 2 ? table.all() : args.slice(2)
    .map((name) => lookupCommandByName(table, name))
    .filter((cmd) => cmd !== undefined);
  client.reply.mapHeader(commands.length);
  for (const cmd of commands) {
    client.reply.bulk(cmd.name);
    writeCommandDocs(client.reply, cmd);
  }
}

/** COMMAND LIST's filter: which commands `FILTERBY <type> <value>` keeps. */
function listFilter(type: string, value: string): (cmd: Command) => boolean {
  switch (type.toUpperCase()) {
    case "MODULE":
      // No modules are loaded: no command belongs to one.
      return () => false;
    case "ACLCAT": {
      const category = value.toLowerCase();
      return (cmd) => (cmd.categories as readonly string[]).includes(category);
    }
    case "PATTERN":
      return (cmd) => globMatch(value, cmd.name, true);
    default:
      throw new CommandError(SYNTAX_ERROR);
  }
}

function commandList(client: Client, args: string[]): void {
  let keep: (cmd: Command) => boolean = () => true;
  if (args.length !== 2) {
    // Like Redis, FILTERBY must be followed by exactly a type and a value.
    if (args.length !== 5 || args[2]!.toUpperCase() !== "FILTERBY") {
      throw new CommandError(SYNTAX_ERROR);
    }
    keep = listFilter(args[3]!, args[4]!);
  }
  const names = everyCommand(client.server.commands).filter(keep).map((cmd) => cmd.name);
  client.reply.bulkArray(names);
}

/** GETKEYS and GETKEYSANDFLAGS (getKeysSubcommandImpl). */
function getKeys(client: Client, args: string[], withFlags: boolean): void {
  const request = args.slice(2);
  const cmd = lookupRequest(client.server.commands, request);
  if (cmd === undefined) throw new CommandError(INVALID_COMMAND_SPECIFIED);
  if (!hasKeys(cmd)) throw new CommandError(NO_KEY_ARGUMENTS);
  if (!arityMatches(cmd.arity, request.length)) throw new CommandError(INVALID_ARGUMENT_COUNT);
  const keys = requestKeys(cmd, request);
  if (keys.length === 0 && !cmd.flags.includes("no_mandatory_keys")) {
    throw new CommandError(INVALID_COMMAND_ARGUMENTS);
  }
  const reply = client.reply;
  reply.arrayHeader(keys.length);
  for (const key of keys) {
    if (!withFlags) {
      reply.bulk(request[key.position]!);
      continue;
    }
    reply.arrayHeader(2);
    reply.bulk(request[key.position]!);
    writeStatusSet(reply, replyKeyFlags(key.flags));
  }
}

const COMMAND_HELP = [
  "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "(no subcommand)",
  "    Return details about all Redis commands.",
  "COUNT",
  "    Return the total number of commands in this Redis server.",
  "LIST",
  "    Return a list of all commands in this Redis server.",
  "INFO [<command-name> ...]",
  "    Return details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "DOCS [<command-name> ...]",
  "    Return documentation details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "GETKEYS <full-command>",
  "    Return the keys from a full Redis command.",
  "GETKEYSANDFLAGS <full-command>",
  "    Return the keys and the access flags from a full Redis command.",
  "HELP",
  "    Prints this help.",
];

function subcommand(
  name: string,
  arity: number,
  handler: CommandDeclaration["handler"],
): CommandDeclaration {
  return {
    name: `command|${name}`,
    arity,
    flags: ["loading", "stale"],
    aclCategories: ["connection"],
    handler,
  };
}

/** The COMMAND container, declared with the server family. */
export const commandCommand: Command = command({
  name: "command",
  arity: -1,
  flags: ["loading", "stale"],
  aclCategories: ["connection"],
  handler: commandRoot,
  subcommands: [
    subcommand("count", 2, (client) => client.reply.integer(client.server.commands.all().length)),
    subcommand("docs", -2, commandDocsReply),
    subcommand("getkeys", -4, (client, args) => getKeys(client, args, false)),
    subcommand("getkeysandflags", -4, (client, args) => getKeys(client, args, true)),
    subcommand("help", 2, (client) => {
      client.reply.arrayHeader(COMMAND_HELP.length);
      for (const line of COMMAND_HELP) client.reply.simple(line);
    }),
    subcommand("info", -2, commandInfo),
    subcommand("list", -2, commandList),
  ],
});
