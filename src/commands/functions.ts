/**
 * Functions: FUNCTION (LOAD, DELETE, FLUSH, LIST, DUMP, RESTORE, STATS,
 * KILL, HELP), FCALL and FCALL_RO, as Redis 7.0's functions.c has them.
 *
 * Libraries live in the scripting runtime (`server.scripts.libraries`,
 * see scripting/libraries.ts). FUNCTION LOAD, DELETE, FLUSH and RESTORE
 * are write commands that change no key: they count as a change
 * (`server.dirty`), so the executor logs them to the AOF as sent and a
 * replay rebuilds the libraries. FUNCTION DUMP and RESTORE use Redis's
 * payload (RDB FUNCTION2 records, RDB version, CRC64), so payloads move
 * between this server and Redis both ways. FCALL runs like EVAL: its
 * commands' effects are what reaches the AOF.
 *
 * @module
 */

import { decodeFunctionDump, encodeFunctionDump, RdbError } from "../rdb/mod.ts";
import { globMatch } from "../store/glob.ts";
import { parseInteger } from "./arguments.ts";
import type { Client } from "./client.ts";
import {
  BAD_NUMBER_OF_KEYS,
  BUSY_SCRIPT,
  CommandError,
  FUNCTION_CODE_MISSING,
  FUNCTION_FLUSH_OPTION,
  FUNCTION_NOT_FOUND,
  functionListArgument,
  functionLoadOption,
  LIBRARY_NAME_MISSING,
  LIBRARY_NOT_FOUND,
  NUMKEYS_NEGATIVE,
  NUMKEYS_TOO_LARGE,
  RESTORE_POLICY_INVALID,
  subcommandSyntaxError,
} from "./errors.ts";
import { helpReply } from "./help.ts";
import { checkFlushMode, scriptCallDeclaration } from "./scripting.ts";
import { scriptFlagNames } from "./scripting/flags.ts";
import { LibraryError, type RestorePolicy } from "./scripting/libraries.ts";
import { command, type CommandDeclaration } from "./table.ts";

/** FCALL and FCALL_RO (fcallCommandGeneric). */
function fcall(readOnly: boolean) {
  return (client: Client, args: string[]) => {
    // `skip_monitor`: MONITOR shows the call before the commands the function runs.
    client.server.operations.feedMonitors(client, args);
    const scripts = client.server.scripts;
    const fn = scripts.libraries.function(args[1]!);
    if (fn === undefined) throw new CommandError(FUNCTION_NOT_FOUND);
    const numkeys = parseInteger(args[2]!);
    if (numkeys === undefined) throw new CommandError(BAD_NUMBER_OF_KEYS);
    if (numkeys > args.length - 3) throw new CommandError(NUMKEYS_TOO_LARGE);
    if (numkeys < 0) throw new CommandError(NUMKEYS_NEGATIVE);
    const keys = args.slice(3, 3 + numkeys);
    const argv = args.slice(3 + numkeys);
    scripts.callFunction(client, fn, keys, argv, readOnly, args);
  };
}

/** Runs a library operation, turning its refusals into error replies. */
function libraries<T>(operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    if (error instanceof LibraryError) throw new CommandError(`ERR ${error.message}`);
    throw error;
  }
}

function functionLoad(client: Client, args: string[]): void {
  let replace = false;
  let at = 2;
  while (at < args.length - 1) {
    const option = args[at++]!;
    if (option.toLowerCase() === "replace") {
      replace = true;
      continue;
    }
    throw new CommandError(functionLoadOption(option));
  }
  if (at >= args.length) throw new CommandError(FUNCTION_CODE_MISSING);
  const server = client.server;
  // Replaying the AOF must not fail on a slow library: no time limit then (mustObeyClient).
  const name = libraries(() => server.scripts.libraries.load(args[at]!, replace, !server.loading));
  server.dirty++;
  client.reply.bulk(name);
}

function functionDelete(client: Client, args: string[]): void {
  if (!client.server.scripts.libraries.delete(args[2]!)) {
    throw new CommandError(LIBRARY_NOT_FOUND);
  }
  client.server.dirty++;
  client.reply.ok();
}

function functionFlush(client: Client, args: string[]): void {
  if (args.length > 3) throw new CommandError(subcommandSyntaxError(args[1]!, args[0]!));
  checkFlushMode(args, FUNCTION_FLUSH_OPTION);
  client.server.scripts.flushFunctions();
  client.server.dirty++;
  client.reply.ok();
}

function functionList(client: Client, args: string[]): void {
  let withCode = false;
  let pattern: string | undefined;
  for (let i = 2; i < args.length; i++) {
    const argument = args[i]!;
    const lower = argument.toLowerCase();
    if (!withCode && lower === "withcode") {
      withCode = true;
      continue;
    }
    if (pattern === undefined && lower === "libraryname") {
      if (i >= args.length - 1) throw new CommandError(LIBRARY_NAME_MISSING);
      pattern = args[++i]!;
      continue;
    }
    throw new CommandError(functionListArgument(argument));
  }
  const listed = [...client.server.scripts.libraries.libraries()].filter((library) =>
    pattern === undefined || globMatch(pattern, library.name, true)
  );
  const reply = client.reply;
  reply.arrayHeader(listed.length);
  for (const library of listed) {
    reply.mapHeader(withCode ? 4 : 3);
    reply.bulk("library_name");
    reply.bulk(library.name);
    reply.bulk("engine");
    reply.bulk(library.engine);
    reply.bulk("functions");
    reply.arrayHeader(library.functions.size);
    for (const fn of library.functions.values()) {
      reply.mapHeader(3);
      reply.bulk("name");
      reply.bulk(fn.name);
      reply.bulk("description");
      if (fn.description === undefined) reply.nullBulk();
      else reply.bulk(fn.description);
      reply.bulk("flags");
      const flags = scriptFlagNames(fn.flags);
      reply.setHeader(flags.length);
      for (const flag of flags) reply.simple(flag);
    }
    if (withCode) {
      reply.bulk("library_code");
      reply.bulk(library.code);
    }
  }
}

function functionDump(client: Client): void {
  const payload = encodeFunctionDump(client.server.scripts.libraries.sources());
  let text = "";
  for (let i = 0; i < payload.length; i += 8192) {
    text += String.fromCharCode(...payload.subarray(i, i + 8192));
  }
  client.reply.bulk(text);
}

function functionRestore(client: Client, args: string[]): void {
  if (args.length > 4) throw new CommandError(subcommandSyntaxError(args[1]!, args[0]!));
  let policy: RestorePolicy = "append";
  if (args.length === 4) {
    const given = args[3]!.toLowerCase();
    if (given !== "append" && given !== "replace" && given !== "flush") {
      throw new CommandError(RESTORE_POLICY_INVALID);
    }
    policy = given;
  }
  const text = args[2]!;
  const payload = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) payload[i] = text.charCodeAt(i);
  let sources: string[];
  try {
    sources = decodeFunctionDump(payload);
  } catch (error) {
    if (error instanceof RdbError) throw new CommandError(`ERR ${error.message}`);
    throw error;
  }
  libraries(() => client.server.scripts.libraries.restore(sources, policy));
  client.server.dirty++;
  client.reply.ok();
}

function functionStats(client: Client): void {
  const scripts = client.server.scripts;
  const running = scripts.running;
  if (running !== undefined && running.isEval) throw new CommandError(BUSY_SCRIPT);
  const reply = client.reply;
  reply.mapHeader(2);
  reply.bulk("running_script");
  if (running === undefined) {
    reply.nullBulk();
  } else {
    reply.mapHeader(3);
    reply.bulk("name");
    reply.bulk(running.name);
    reply.bulk("command");
    reply.bulkArray(running.command);
    reply.bulk("duration_ms");
    reply.integer(running.durationMs);
  }
  reply.bulk("engines");
  reply.mapHeader(1);
  reply.bulk("LUA");
  reply.mapHeader(2);
  reply.bulk("libraries_count");
  reply.integer(scripts.libraries.libraryCount);
  reply.bulk("functions_count");
  reply.integer(scripts.libraries.functionCount);
}

function functionKill(client: Client): void {
  const refusal = client.server.scripts.kill(false);
  if (refusal !== undefined) throw new CommandError(refusal);
  client.reply.ok();
}

const FUNCTION_HELP = [
  "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "LOAD [REPLACE] <FUNCTION CODE>",
  "    Create a new library with the given library name and code.",
  "DELETE <LIBRARY NAME>",
  "    Delete the given library.",
  "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
  "    Return general information on all the libraries:",
  "    * Library name",
  "    * The engine used to run the Library",
  "    * Library description",
  "    * Functions list",
  "    * Library code (if WITHCODE is given)",
  "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
  "STATS",
  "    Return information about the current function running:",
  "    * Function name",
  "    * Command used to run the function",
  "    * Duration in MS that the function is running",
  "    If no function is running, return nil",
  "    In addition, returns a list of available engines.",
  "KILL",
  "    Kill the current running function.",
  "FLUSH [ASYNC|SYNC]",
  "    Delete all the libraries.",
  "    When called without the optional mode argument, the behavior is determined by the",
  "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
  "    * ASYNC: Asynchronously flush the libraries.",
  "    * SYNC: Synchronously flush the libraries.",
  "DUMP",
  "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
  "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
  "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
  "    control how to handle existing libraries (default APPEND):",
  "    * FLUSH: delete all existing libraries.",
  "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
  "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
  "      libraries with the new libraries (notice that even on this option there is a chance of failure",
  "      in case of functions name collision with another library).",
  "HELP",
  "    Prints this help.",
];

function subcommand(
  name: string,
  arity: number,
  flags: CommandDeclaration["flags"],
  handler: CommandDeclaration["handler"],
): CommandDeclaration {
  return { name: `function|${name}`, arity, flags, aclCategories: ["scripting"], handler };
}

export const functionCommands = [
  command({
    name: "function",
    arity: -2,
    flags: [],
    subcommands: [
      subcommand("delete", 3, ["write", "noscript"], functionDelete),
      subcommand("dump", 2, ["noscript"], functionDump),
      subcommand("flush", -2, ["write", "noscript"], functionFlush),
      subcommand("help", 2, ["loading", "stale"], (client) => helpReply(client, FUNCTION_HELP)),
      subcommand("kill", 2, ["noscript", "allow_busy"], functionKill),
      subcommand("list", -2, ["noscript"], functionList),
      subcommand("load", -3, ["write", "denyoom", "noscript"], functionLoad),
      subcommand("restore", -3, ["write", "denyoom", "noscript"], functionRestore),
      subcommand("stats", 2, ["noscript", "allow_busy"], functionStats),
    ],
  }),
  command(scriptCallDeclaration("fcall", false, fcall(false))),
  command(scriptCallDeclaration("fcall_ro", true, fcall(true))),
];
