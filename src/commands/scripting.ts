/**
 * EVAL scripts: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (LOAD, EXISTS,
 * FLUSH, KILL, DEBUG, HELP), as Redis 7.0's eval.c has them.
 *
 * The handlers only read arguments and reply; the scripting runtime
 * (scripting/runtime.ts, `server.scripts`) owns the cache, the Lua
 * environment and the run. EVAL and its relatives are declared with
 * `propagation: "transaction"`: what the script's commands change reaches
 * the AOF as those commands, wrapped in MULTI/EXEC when there are several,
 * and never as the script (Redis 7.0's effects replication), so replaying
 * does not depend on the script, its randomness or the time it ran at.
 *
 * EVALSHA with a SHA that is not cached answers
 * `-NOSCRIPT No matching script. Please use EVAL.` exactly, which is what
 * client libraries look for to fall back to EVAL.
 *
 * @module
 */

import { parseInteger } from "./arguments.ts";
import type { Client } from "./client.ts";
import {
  CommandError,
  NO_SCRIPT,
  NOT_INTEGER,
  NUMKEYS_NEGATIVE,
  NUMKEYS_TOO_LARGE,
  SCRIPT_DEBUG_OPTION,
  SCRIPT_FLUSH_OPTION,
} from "./errors.ts";
import { helpReply } from "./help.ts";
import { ScriptCompileError } from "./scripting/script_cache.ts";
import { command, type CommandDeclaration, numkeysKeyFinder } from "./table.ts";

/** The keys and arguments of `EVAL script numkeys key... arg...`, or a thrown error. */
export function splitKeys(
  args: string[],
  invalidCount: string,
): { keys: string[]; argv: string[] } {
  const numkeys = parseInteger(args[2]!);
  if (numkeys === undefined) throw new CommandError(invalidCount);
  if (numkeys > args.length - 3) throw new CommandError(NUMKEYS_TOO_LARGE);
  if (numkeys < 0) throw new CommandError(NUMKEYS_NEGATIVE);
  return { keys: args.slice(3, 3 + numkeys), argv: args.slice(3 + numkeys) };
}

function compileOrFail(client: Client, body: string) {
  try {
    return client.server.scripts.script(body);
  } catch (error) {
    if (error instanceof ScriptCompileError) throw new CommandError(`ERR ${error.message}`);
    throw error;
  }
}

/** EVAL and EVAL_RO (evalGenericCommand). */
function evalCommand(readOnly: boolean) {
  return (client: Client, args: string[]) => {
    // `skip_monitor`: MONITOR shows the script before the commands it runs.
    client.server.operations.feedMonitors(client, args);
    const { keys, argv } = splitKeys(args, NOT_INTEGER);
    const script = compileOrFail(client, args[1]!);
    client.server.scripts.evalScript(client, script, keys, argv, readOnly, args);
  };
}

/** EVALSHA and EVALSHA_RO. */
function evalShaCommand(readOnly: boolean) {
  return (client: Client, args: string[]) => {
    client.server.operations.feedMonitors(client, args);
    // A SHA of the wrong length cannot match: refused before anything else, as Redis does.
    if (args[1]!.length !== 40) throw new CommandError(NO_SCRIPT);
    const { keys, argv } = splitKeys(args, NOT_INTEGER);
    const scripts = client.server.scripts;
    const script = scripts.cache.get(args[1]!);
    if (script === undefined) throw new CommandError(NO_SCRIPT);
    scripts.evalScript(client, script, keys, argv, readOnly, args);
  };
}

function scriptLoad(client: Client, args: string[]): void {
  client.reply.bulk(compileOrFail(client, args[2]!).sha);
}

function scriptExists(client: Client, args: string[]): void {
  const cache = client.server.scripts.cache;
  client.reply.arrayHeader(args.length - 2);
  for (let i = 2; i < args.length; i++) {
    client.reply.integer(cache.get(args[i]!) === undefined ? 0 : 1);
  }
}

/** `[ASYNC|SYNC]` of SCRIPT FLUSH and FUNCTION FLUSH; both free at once here. */
export function checkFlushMode(args: string[], error: string): void {
  if (args.length > 3) throw new CommandError(error);
  if (args.length === 3) {
    const mode = args[2]!.toLowerCase();
    if (mode !== "sync" && mode !== "async") throw new CommandError(error);
  }
}

function scriptFlush(client: Client, args: string[]): void {
  checkFlushMode(args, SCRIPT_FLUSH_OPTION);
  client.server.scripts.flushScripts();
  client.reply.ok();
}

function scriptKill(client: Client): void {
  const refusal = client.server.scripts.kill(true);
  if (refusal !== undefined) throw new CommandError(refusal);
  client.reply.ok();
}

function scriptDebug(client: Client, args: string[]): void {
  if (client.transaction !== undefined) {
    throw new CommandError("ERR SCRIPT DEBUG must be called outside a pipeline");
  }
  const mode = args[2]!.toLowerCase();
  if (mode === "no") {
    client.reply.ok();
    return;
  }
  if (mode === "yes" || mode === "sync") {
    // The Lua debugger (LDB) is not implemented.
    throw new CommandError("ERR SCRIPT DEBUG is not supported by this server");
  }
  throw new CommandError(SCRIPT_DEBUG_OPTION);
}

const SCRIPT_HELP = [
  "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "DEBUG (YES|SYNC|NO)",
  "    Set the debug mode for subsequent scripts executed.",
  "EXISTS <sha1> [<sha1> ...]",
  "    Return information about the existence of the scripts in the script cache.",
  "FLUSH [ASYNC|SYNC]",
  "    Flush the Lua scripts cache. Very dangerous on replicas.",
  "    When called without the optional mode argument, the behavior is determined by the",
  "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
  "    * ASYNC: Asynchronously flush the scripts cache.",
  "    * SYNC: Synchronously flush the scripts cache.",
  "KILL",
  "    Kill the currently executing Lua script.",
  "LOAD <script>",
  "    Load a script into the scripts cache without executing it.",
  "HELP",
  "    Prints this help.",
];

/** Key specs of EVAL-like commands: `numkeys key...` after the script or function. */
const WRITE_KEYS = [{
  flags: ["RW", "ACCESS", "UPDATE"],
  begin: { index: 2 },
  find: { keyNumIndex: 0, firstKey: 1 },
  notes: "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE",
}] as const;
const READ_KEYS = [{
  flags: ["RO", "ACCESS"],
  begin: { index: 2 },
  find: { keyNumIndex: 0, firstKey: 1 },
  notes: "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS",
}] as const;

/** An EVAL-like declaration (also FCALL and FCALL_RO, see functions.ts). */
export function scriptCallDeclaration(
  name: string,
  readOnly: boolean,
  handler: CommandDeclaration["handler"],
  notes = true,
): CommandDeclaration {
  const specs = readOnly ? READ_KEYS : WRITE_KEYS;
  return {
    name,
    arity: -3,
    flags: readOnly
      ? ["readonly", "noscript", "stale", "skip_monitor", "no_mandatory_keys"]
      : ["noscript", "stale", "skip_monitor", "no_mandatory_keys"],
    aclCategories: ["scripting"],
    keySpecs: notes ? specs : specs.map(({ notes: _, ...spec }) => spec),
    // evalGetKeys / functionGetKeys: numkeys at 2, keys from 3.
    keyFinder: numkeysKeyFinder(0, 2, 3),
    propagation: "transaction",
    handler,
  };
}

export const scriptingCommands = [
  command(scriptCallDeclaration("eval", false, evalCommand(false))),
  command(scriptCallDeclaration("evalsha", false, evalShaCommand(false), false)),
  command(scriptCallDeclaration("eval_ro", true, evalCommand(true))),
  command(scriptCallDeclaration("evalsha_ro", true, evalShaCommand(true), false)),
  command({
    name: "script",
    arity: -2,
    flags: [],
    subcommands: [
      {
        name: "script|debug",
        arity: 3,
        flags: ["noscript"],
        aclCategories: ["scripting"],
        handler: scriptDebug,
      },
      {
        name: "script|exists",
        arity: -3,
        flags: ["noscript"],
        aclCategories: ["scripting"],
        handler: scriptExists,
      },
      {
        name: "script|flush",
        arity: -2,
        flags: ["noscript"],
        aclCategories: ["scripting"],
        handler: scriptFlush,
      },
      {
        name: "script|help",
        arity: 2,
        flags: ["loading", "stale"],
        aclCategories: ["scripting"],
        handler: (client) => helpReply(client, SCRIPT_HELP),
      },
      {
        name: "script|kill",
        arity: 2,
        flags: ["noscript", "allow_busy"],
        aclCategories: ["scripting"],
        handler: scriptKill,
      },
      {
        name: "script|load",
        arity: 3,
        flags: ["noscript", "stale"],
        aclCategories: ["scripting"],
        handler: scriptLoad,
      },
    ],
  }),
];
