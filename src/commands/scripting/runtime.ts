/**
 * The scripting runtime: the server's part that owns the Lua environments,
 * the EVAL script cache, the function libraries and the script that is
 * running, and implements the `redis` API scripts call (script.c,
 * script_lua.c, eval.c, function_lua.c).
 *
 * ## A script run
 *
 * EVAL and FCALL prepare a run as scriptPrepareForRun does (refusing
 * scripts that may write under EVAL_RO/FCALL_RO or while the disk fails,
 * read-only mode for `no-writes` scripts), point the script client (Redis's
 * fake Lua client) at the caller's database and user in RESP2, and call the
 * script. Every `redis.call` goes through scriptCall's checks in order
 * (known command and arity, `noscript`, ACL, writes allowed) and then
 * through the executor, on the script client, inside the EVAL's execution
 * unit: so its writes reach the AOF as the commands themselves, wrapped in
 * MULTI/EXEC when there is more than one, WATCHes and keyspace
 * notifications see them, and SELECT inside a script changes only the
 * script client's database. The script client can never block (its
 * `transaction` is set, which `blockingAllowed` reads as "inside EXEC"),
 * so blocking commands behave as their non-blocking forms. The reply the
 * command wrote is built as a Lua value as it is written (reply_builder.ts).
 *
 * ## Long scripts
 *
 * Redis runs a script to the end while the whole server waits, answering
 * other clients only with BUSY once `busy-reply-threshold` has passed. Here
 * the script runs synchronously for up to the threshold; if it has not
 * finished, the run becomes busy: its execution unit is held open
 * (nothing of it is propagated yet), its client is suspended (its
 * pipelined requests wait), and the script goes on in short slices between
 * turns of the event loop. Meanwhile the dispatcher answers every command
 * that is not `allow_busy` with BUSY, the server skips active expiry and
 * the executor serves no blocked client, so nothing but the script changes
 * data. SCRIPT KILL and FUNCTION KILL stop a script that has not written:
 * its next slice raises Redis's "Script killed by user" error inside it
 * (positioned where it was running) and, should the script catch that, the
 * slice after ends it for good. SHUTDOWN NOSAVE works as usual.
 *
 * A script run inside MULTI/EXEC, or while the AOF loads, cannot leave its
 * unit open: it runs to completion. So does every script when the
 * threshold is 0, as in Redis.
 *
 * @module
 */

import { scriptWriteRefusal } from "../replication.ts";
import {
  compile,
  LuaError,
  type LuaFunction,
  LuaRun,
  LuaTable,
  type LuaValue,
  rawToString,
} from "../../lua/mod.ts";
import { Client, NO_TRANSPORT } from "../client.ts";
import { ReplyWriter } from "../../protocol/reply_writer.ts";
import { describeClient } from "../client_info.ts";
import type { ServerContext } from "../context.ts";
import type { ScriptStatistics } from "../operations/mod.ts";
import {
  ArityError,
  BUSY_FUNCTION,
  BUSY_SCRIPT,
  CommandError,
  NOT_BUSY,
  OUT_OF_MEMORY,
  SCRIPT_COMMAND_NOT_ALLOWED,
  SCRIPT_KILLED,
  SCRIPT_OUT_OF_MEMORY,
  SCRIPT_UNKNOWN_COMMAND,
  SCRIPT_WRITE_FLAG_WITH_RO_COMMAND,
  SCRIPT_WRITE_IN_READ_ONLY,
  SCRIPT_WRONG_ARITY,
  scriptAclDenied,
  UNKILLABLE,
  UnknownCommandError,
  writableScriptsBlocked,
} from "../errors.ts";
import type { HeldUnit } from "../executor.ts";
import type { Command } from "../table.ts";
import { commandArgument, commandErrorTable, errorTable, writeLuaReply } from "./conversions.ts";
import {
  createEvalEnvironment,
  createFunctionEnvironment,
  type EvalEnvironment,
  type RandomFunctions,
  type RedisApi,
  setEvalArguments,
} from "./environments.ts";
import { ALLOW_OOM, NO_WRITES } from "./flags.ts";
import { FunctionLibraries, type LibraryFunction } from "./libraries.ts";
import { LuaReplyWriter } from "./reply_builder.ts";
import { errorPosition, escapedMessage, type RaisedErrors } from "./sandbox.ts";
import { type CachedScript, parseShebang, ScriptCache, sha1hex } from "./script_cache.ts";

/** How long a busy script runs between two turns of the event loop. */
const SLICE_MILLISECONDS = 20;
/** The engine's budget stays unlimited: KillableRun ends slices itself. */
const UNBUDGETED = {};

/** Thrown through a killed script that caught the first kill error: nothing catches it. */
class ScriptKilled {
  readonly name = "ScriptKilled";
}

/** Redis's fake Lua client: its replies become Lua values (reply_builder.ts). */
class ScriptClient extends Client {
  override readonly reply = new LuaReplyWriter();
}

/**
 * A LuaRun that can be killed from the inside (see the module doc), and
 * whose slices end at a wall-clock deadline read with Date.now(): the
 * engine's own time budget reads performance.now(), which costs a
 * runtime call, on every start.
 */
class KillableRun extends LuaRun {
  /** 0: running; 1: kill requested; 2: the kill error was raised. */
  #kill = 0;
  /** The kill error raised inside the script, once it was. */
  killError: LuaError | undefined;
  /** When the current slice ends (Date.now() ms); Infinity: run to the end. */
  deadline = Infinity;

  constructor(fn: LuaValue, args: LuaValue[], readonly errors: RaisedErrors) {
    super(fn, args);
  }

  kill(): void {
    if (this.#kill === 0) this.#kill = 1;
  }

  /** Called every few thousand ticks: true ends the slice. */
  override exhausted(): boolean {
    if (this.#kill === 1) {
      this.#kill = 2;
      this.killError = this.errors.error(errorTable(SCRIPT_KILLED));
      throw this.killError;
    }
    if (this.#kill === 2) throw new ScriptKilled();
    return this.deadline !== Infinity && Date.now() >= this.deadline;
  }
}

/** One invocation of a script or function (Redis's scriptRunCtx). */
export class ScriptRun {
  /** The script wrote: it can no longer be killed (SCRIPT_WRITE_DIRTY). */
  wroteData = false;
  killed = false;
  /** Went past busy-reply-threshold (SCRIPT_TIMEDOUT). */
  timedOut = false;
  readonly startedAt = Date.now();
  /** The script declared `allow-oom` (SCRIPT_ALLOW_OOM): its writes ignore maxmemory. */
  allowOom = false;
  lua: KillableRun | undefined;
  held: HeldUnit | undefined;

  constructor(
    readonly caller: Client,
    /** The script's SHA, or the function's name: error messages and FUNCTION STATS say it. */
    readonly name: string,
    readonly isEval: boolean,
    /** Write commands are refused (SCRIPT_READ_ONLY). */
    readonly readOnly: boolean,
    readonly errors: RaisedErrors,
    /** The caller's command (FUNCTION STATS). */
    readonly command: readonly string[],
  ) {}

  /** How long it has run, in whole ms. */
  get durationMs(): number {
    return Date.now() - this.startedAt;
  }
}

/** What a run executes. */
interface RunTarget {
  name: string;
  isEval: boolean;
  fn: LuaFunction;
  args: LuaValue[];
  flags: number;
  /** No shebang: EVAL's backwards-compatible mode. */
  compatible: boolean;
  errors: RaisedErrors;
}

/** Redis's REDIS_VERSION_NUM: 0x00MMmmpp. */
function versionNumber(version: string): number {
  const [major = 0, minor = 0, patch = 0] = version.split(".").map(Number);
  return (major << 16) | (minor << 8) | patch;
}

/** The scripting part of a server: `server.scripts`. */
export class ScriptingRuntime {
  readonly #server: ServerContext;
  /** Runs the commands scripts call (Redis's lua_client); never blocks. */
  readonly #client: ScriptClient;
  readonly #api: RedisApi;
  readonly #random: RandomFunctions;
  #eval: EvalEnvironment;
  readonly cache: ScriptCache;
  readonly libraries: FunctionLibraries;
  /** The run in progress (synchronous, or busy between slices). */
  #run: ScriptRun | undefined;
  #sliceTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #noscript = new WeakMap<Command, boolean>();

  constructor(server: ServerContext) {
    this.#server = server;
    const client = new ScriptClient(0, server, NO_TRANSPORT);
    // blockingAllowed() reads a set `transaction` as "inside EXEC": the script client never blocks.
    client.transaction = [];
    this.#client = client;
    this.#api = this.#redisApi();
    this.#eval = createEvalEnvironment(this.#api);
    this.#random = this.#eval.random;
    this.cache = new ScriptCache(this.#eval.globals);
    this.libraries = new FunctionLibraries(createFunctionEnvironment(this.#api, this.#random));
    // MONITOR shows the script client's commands as coming from `lua`; INFO asks for figures.
    server.operations.markScriptClient(client);
    server.operations.scripts = () => this.statistics();
    this.warmUp();
  }

  // ---------------------------------------------------------------------------
  // State the rest of the server asks about

  /** A script is past busy-reply-threshold: other clients get BUSY. */
  get busy(): boolean {
    return this.#run?.timedOut === true;
  }

  /** The run in progress, if any (FUNCTION STATS). */
  get running(): ScriptRun | undefined {
    return this.#run;
  }

  /**
   * The BUSY error for `cmd` while a script is busy, or undefined if it may
   * run: `allow_busy` commands, and SHUTDOWN only with NOSAVE.
   */
  busyError(cmd: Command, args: readonly string[]): string | undefined {
    const run = this.#run;
    if (run === undefined || !run.timedOut) return undefined;
    const error = run.isEval ? BUSY_SCRIPT : BUSY_FUNCTION;
    if (!cmd.flags.includes("allow_busy")) return error;
    if (cmd.name === "shutdown" && !args.some((arg) => arg.toLowerCase() === "nosave")) {
      return error;
    }
    return undefined;
  }

  /**
   * Whether a script command may write, for the dispatcher's MISCONF check
   * (evalGetCommandFlags / fcallGetCommandFlags): a script with a shebang
   * or a function writes unless it declares `no-writes`; a script without
   * shebang is checked command by command instead.
   */
  mayWrite(cmd: Command, args: readonly string[]): boolean {
    switch (cmd.name) {
      case "eval":
      case "eval_ro": {
        const shebang = parseShebang(args[1] ?? "");
        return shebang.ok && !shebang.compatible && (shebang.flags & NO_WRITES) === 0;
      }
      case "evalsha":
      case "evalsha_ro": {
        const script = this.cache.get(args[1] ?? "");
        return script !== undefined && !script.compatible && (script.flags & NO_WRITES) === 0;
      }
      case "fcall":
      case "fcall_ro": {
        const fn = this.libraries.function(args[1] ?? "");
        return fn !== undefined && (fn.flags & NO_WRITES) === 0;
      }
      default:
        return false;
    }
  }

  // ---------------------------------------------------------------------------
  // EVAL and FCALL

  /** Caches `body` (EVAL, SCRIPT LOAD); throws ScriptCompileError. */
  script(body: string): CachedScript {
    return this.cache.byBody(body) ?? this.cache.add(body);
  }

  /** Runs a cached EVAL script for `caller` with its keys and arguments (taken over). */
  evalScript(
    caller: Client,
    script: CachedScript,
    keys: string[],
    argv: string[],
    readOnly: boolean,
    command: readonly string[],
  ): void {
    const environment = this.#eval;
    setEvalArguments(environment, luaArray(keys), luaArray(argv));
    this.#start(
      caller,
      {
        name: script.sha,
        isEval: true,
        fn: script.main,
        args: [],
        flags: script.flags,
        compatible: script.compatible,
        errors: environment.errors,
      },
      readOnly,
      command,
    );
  }

  /** Runs a library function for `caller` (FCALL, FCALL_RO); keys and arguments are taken over. */
  callFunction(
    caller: Client,
    fn: LibraryFunction,
    keys: string[],
    argv: string[],
    readOnly: boolean,
    command: readonly string[],
  ): void {
    this.#start(
      caller,
      {
        name: fn.name,
        isEval: false,
        fn: fn.callback,
        args: [luaArray(keys), luaArray(argv)],
        flags: fn.flags,
        compatible: false,
        errors: this.libraries.environment.errors,
      },
      readOnly,
      command,
    );
  }

  /** scriptPrepareForRun, then the run itself. */
  #start(caller: Client, target: RunTarget, readOnly: boolean, command: readonly string[]): void {
    const server = this.#server;
    if (!target.compatible && (target.flags & NO_WRITES) === 0) {
      if (server.writeError !== undefined) {
        throw new CommandError(writableScriptsBlocked(server.writeError));
      }
      if (readOnly) throw new CommandError(SCRIPT_WRITE_FLAG_WITH_RO_COMMAND);
    }
    // Over maxmemory when the command started: only scripts that may not grow memory run.
    if (
      !target.compatible && (target.flags & (ALLOW_OOM | NO_WRITES)) === 0 &&
      server.config.maxmemory !== 0 && server.operations.eviction.preCommandOutOfMemory
    ) {
      throw new CommandError(SCRIPT_OUT_OF_MEMORY);
    }
    const run = new ScriptRun(
      caller,
      target.name,
      target.isEval,
      readOnly || (!target.compatible && (target.flags & NO_WRITES) !== 0),
      target.errors,
      command,
    );
    run.allowOom = !target.compatible && (target.flags & ALLOW_OOM) !== 0;
    const client = this.#client;
    client.db = caller.db;
    client.user = caller.user;
    client.protocol = 2;
    this.#run = run;
    const lua = new KillableRun(target.fn, target.args, target.errors);
    run.lua = lua;
    const threshold = server.config.busyReplyThreshold;
    // Only a top-level command can leave its unit open across event-loop turns.
    const canYield = threshold > 0 && server.executor.depth === 1 && !server.loading &&
      caller.transaction === undefined && caller.blocked === undefined;
    let finished: boolean;
    try {
      finished = this.#slice(run, canYield ? run.startedAt + threshold : Infinity, caller.reply);
    } catch (error) {
      this.#end(run);
      throw error;
    }
    if (finished) return;
    // Past the threshold: the script becomes busy (enterScriptTimedoutMode).
    run.timedOut = true;
    server.log.warning(
      `Slow script detected: still in execution after ${run.durationMs} milliseconds. ` +
        `You can try killing the script using the ${
          run.isEval ? "SCRIPT KILL" : "FUNCTION KILL"
        } command.`,
    );
    run.held = server.executor.holdUnit();
    caller.blocked = {
      deadline: 0,
      onTimeout() {},
      dispose() {},
    };
    this.#scheduleSlice(run);
  }

  /**
   * Runs the script until `deadline` (Date.now() ms; Infinity: to the end).
   * When it ends, writes its reply (or error) to `reply` and returns true.
   */
  #slice(run: ScriptRun, deadline: number, reply: Client["reply"]): boolean {
    const lua = run.lua!;
    lua.deadline = deadline;
    let value: LuaValue;
    try {
      const slice = lua.resume(UNBUDGETED);
      if (!slice.done) return false;
      value = slice.values[0];
    } catch (error) {
      if (error instanceof LuaError) {
        this.#writeError(reply, run, error.value);
      } else if (error instanceof ScriptKilled) {
        // The script caught the first kill error; this one nothing can catch.
        const position = errorPosition(lua.killError?.value);
        this.#writeEscaped(reply, run, "ERR " + SCRIPT_KILLED, position.source, position.line);
      } else {
        throw error;
      }
      this.#end(run);
      return true;
    }
    writeLuaReply(reply, value, this.#client.protocol);
    this.#end(run);
    return true;
  }

  /** Writes the error that ended a script, as luaCallFunction does. */
  #writeError(reply: Client["reply"], run: ScriptRun, value: LuaValue): void {
    const escaped = run.errors.escaped(value);
    this.#writeEscaped(reply, run, escapedMessage(escaped.value), escaped.source, escaped.line);
  }

  #writeEscaped(
    reply: Client["reply"],
    run: ScriptRun,
    message: string,
    source: string | undefined,
    line: number | undefined,
  ): void {
    if (line === undefined) reply.error(message);
    else reply.error(`${message} script: ${run.name}, on ${source}:${line}.`);
  }

  /** scriptResetRun. */
  #end(run: ScriptRun): void {
    run.errors.clear();
    if (this.#run === run) this.#run = undefined;
  }

  #scheduleSlice(run: ScriptRun): void {
    this.#sliceTimer = setTimeout(() => {
      this.#sliceTimer = undefined;
      this.#continue(run);
    }, 0);
  }

  /** One slice of a busy script, inside its held unit. */
  #continue(run: ScriptRun): void {
    const server = this.#server;
    const caller = run.caller;
    // The caller may have disconnected: the script still runs to the end, as Redis protects it.
    const reply = caller.closed ? new ReplyWriter() : caller.reply;
    let finished = false;
    try {
      server.executor.continueUnit(run.held!, () => {
        finished = this.#slice(run, Date.now() + SLICE_MILLISECONDS, reply);
        return finished;
      });
    } catch (error) {
      finished = true;
      this.#end(run);
      server.log.warning(`Error running a script: ${(error as Error).stack ?? error}`);
      if (!caller.closed) reply.error("ERR internal error running a script");
      // The unit is still held: complete it so its effects are not lost.
      server.executor.continueUnit(run.held!, () => true);
    }
    if (!finished) {
      this.#scheduleSlice(run);
      return;
    }
    caller.blocked = undefined;
    if (!caller.closed) server.markPending(caller);
    server.flush();
    queueMicrotask(() => {
      if (!caller.closed && caller.blocked === undefined) caller.transport.resume();
    });
  }

  /**
   * SCRIPT KILL (`isEval`) or FUNCTION KILL (scriptKill): the reply to the
   * killing client, an error text or undefined for OK.
   */
  kill(isEval: boolean): string | undefined {
    const run = this.#run;
    if (run === undefined || !run.timedOut) return NOT_BUSY;
    if (run.wroteData) return UNKILLABLE;
    if (isEval && !run.isEval) return BUSY_FUNCTION;
    if (!isEval && run.isEval) return BUSY_SCRIPT;
    run.killed = true;
    run.lua!.kill();
    return undefined;
  }

  /** Stops the slices of a busy script for good (the server is going away). */
  close(): void {
    clearTimeout(this.#sliceTimer);
    this.#sliceTimer = undefined;
    const run = this.#run;
    if (run !== undefined) {
      run.lua?.abandon();
      this.#end(run);
    }
  }

  // ---------------------------------------------------------------------------
  // Resets

  /** SCRIPT FLUSH: no scripts, and a fresh EVAL environment (scriptingReset). */
  flushScripts(): void {
    this.#eval = createEvalEnvironment(this.#api, this.#random);
    this.cache.clear(this.#eval.globals);
  }

  /** FUNCTION FLUSH: no libraries, and a fresh function environment. */
  flushFunctions(): void {
    this.libraries.flush(createFunctionEnvironment(this.#api, this.#random));
  }

  /**
   * Loads a library read from a file (an RDB, an AOF's RDB preamble):
   * replacing one of the same name, without FUNCTION LOAD's time limit.
   * Throws LibraryError with the reason.
   */
  loadLibrary(code: string): void {
    this.libraries.load(code, true, false);
  }

  /**
   * Compiles and runs a tiny script, once per process, so the first real
   * one does not wait for V8 to warm the compiler up (a few ms).
   */
  warmUp(): void {
    if (warmedUp) return;
    warmedUp = true;
    compile("return tostring(1) .. 'x'", "@user_script", { env: this.#eval.globals })();
  }

  // ---------------------------------------------------------------------------
  // INFO

  /**
   * INFO memory's script figures (operations' ScriptStatistics). The engine
   * keeps no byte count of its own, so the VM figures are Redis's idle ones
   * plus an estimate of the compiled code (about three times the source).
   */
  statistics(): ScriptStatistics {
    const scripts = this.cache.memory;
    const libraries = this.libraries.memory;
    return {
      evalMemory: IDLE_EVAL_VM_BYTES + scripts * COMPILED_PER_SOURCE_BYTE,
      scriptsMemory: scripts,
      cachedScripts: this.cache.size,
      functions: this.libraries.functionCount,
      libraries: this.libraries.libraryCount,
      functionsMemory: IDLE_FUNCTIONS_VM_BYTES + libraries * COMPILED_PER_SOURCE_BYTE,
      functionsOverhead: IDLE_FUNCTIONS_OVERHEAD_BYTES + libraries,
    };
  }

  // ---------------------------------------------------------------------------
  // The redis API

  #redisApi(): RedisApi {
    const server = this.#server;
    return {
      call: (...args: LuaValue[]) => this.#call(true, args),
      pcall: (...args: LuaValue[]) => this.#call(false, args),
      log: (...args: LuaValue[]) => this.#log(args),
      setresp: (...args: LuaValue[]) => {
        const run = this.#requireRun(
          "redis.setresp can only be called inside a script invocation",
        );
        if (args.length !== 1) this.#raise(run, "redis.setresp() requires one argument.");
        const version = Math.trunc(luaToNumber(args[0]));
        if (version !== 2 && version !== 3) this.#raise(run, "RESP version must be 2 or 3.");
        this.#client.protocol = version as 2 | 3;
        return [];
      },
      sha1hex: (...args: LuaValue[]) => {
        if (args.length !== 1) this.#raiseAnywhere("wrong number of arguments");
        const value = args[0];
        return sha1hex(
          typeof value === "string" || typeof value === "number" ? rawToString(value) : "",
        );
      },
      error_reply: (...args: LuaValue[]) => {
        if (args.length !== 1 || typeof args[0] !== "string") {
          return errorTable("wrong number or type of arguments");
        }
        const text = args[0];
        return errorTable(text.startsWith("-") ? text : "-" + text);
      },
      status_reply: (...args: LuaValue[]) => {
        if (args.length !== 1 || typeof args[0] !== "string") {
          return errorTable("wrong number or type of arguments");
        }
        const table = new LuaTable();
        table.set("ok", args[0]);
        return table;
      },
      set_repl: (...args: LuaValue[]) => {
        const run = this.#requireRun(
          "redis.set_repl can only be called inside a script invocation",
        );
        if (args.length !== 1) this.#raise(run, "redis.set_repl() requires two arguments.");
        const flags = Math.trunc(luaToNumber(args[0]));
        if ((flags & ~3) !== 0) {
          this.#raise(
            run,
            "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
          );
        }
        // Accepted; effects are always propagated, as the AOF must replay the script's writes.
        return [];
      },
      acl_check_cmd: (...args: LuaValue[]) => this.#aclCheck(args),
      breakpoint: () => false,
      debug: () => [],
      replicate_commands: () => true,
      register_function: (...args: LuaValue[]) => {
        this.libraries.register(args);
        return [];
      },
      version: server.version,
      versionNumber: versionNumber(server.version),
    };
  }

  #requireRun(message: string): ScriptRun {
    const run = this.#run;
    if (run === undefined) this.#raiseAnywhere(message);
    return run!;
  }

  /** Raises an error table from an API function (luaPushError + luaError). */
  #raise(run: ScriptRun, message: string): never {
    throw run.errors.error(errorTable(message));
  }

  /** As #raise, also outside a run (FUNCTION LOAD's top level). */
  #raiseAnywhere(message: string): never {
    const errors = this.#run?.errors ?? this.libraries.environment.errors;
    throw errors.error(errorTable(message));
  }

  /** redis.log(level, ...). */
  #log(args: LuaValue[]): LuaValue[] {
    if (args.length < 2) this.#raiseAnywhere("redis.log() requires two arguments or more.");
    const level = args[0];
    if (typeof level !== "number" && !(typeof level === "string" && !isNaN(Number(level)))) {
      this.#raiseAnywhere("First argument must be a number (log level).");
    }
    const number = Math.trunc(luaToNumber(level));
    if (number < 0 || number > 3) this.#raiseAnywhere("Invalid debug level.");
    let message = "";
    for (let i = 1; i < args.length; i++) {
      const value = args[i];
      if (typeof value !== "string" && typeof value !== "number") continue;
      if (i !== 1) message += " ";
      message += rawToString(value);
    }
    const log = this.#server.log;
    if (number === 0) log.debug(message);
    else if (number === 1) log.verbose(message);
    else if (number === 2) log.notice(message);
    else log.warning(message);
    return [];
  }

  /** The arguments of a redis.call, or the error table for a bad one. */
  #argv(args: LuaValue[]): string[] | LuaTable {
    if (args.length === 0) {
      return errorTable("Please specify at least one argument for this redis lib call");
    }
    const argv = new Array<string>(args.length);
    for (let i = 0; i < args.length; i++) {
      const argument = commandArgument(args[i]);
      if (argument === undefined) {
        return errorTable("Lua redis lib command arguments must be strings or integers");
      }
      argv[i] = argument;
    }
    return argv;
  }

  /** redis.call (raise) and redis.pcall (luaRedisGenericCommand). */
  #call(raise: boolean, args: LuaValue[]): LuaValue {
    const run = this.#run;
    if (run === undefined) {
      this.#raiseAnywhere("redis.call/pcall can only be called inside a script invocation");
    }
    const errors = run!.errors;
    const argv = this.#argv(args);
    if (argv instanceof LuaTable) {
      if (raise) errors.raise(argv);
      return argv;
    }
    const checked = this.#check(run!, argv);
    if (typeof checked === "string") {
      const table = commandErrorTable(checked);
      if (raise) errors.raise(table);
      return table;
    }
    const reply = this.#client.reply;
    this.#server.executor.call(this.#client, checked, argv);
    const failed = reply.isError;
    const value = reply.takeValue();
    if (raise && failed) errors.raise(value);
    return value;
  }

  /** scriptCall's checks: the command, or the error text (without code) refusing it. */
  #check(run: ScriptRun, argv: string[]): Command | string {
    const server = this.#server;
    let cmd: Command;
    try {
      cmd = server.commands.resolve(argv);
    } catch (error) {
      if (error instanceof ArityError) return SCRIPT_WRONG_ARITY;
      if (error instanceof UnknownCommandError) return SCRIPT_UNKNOWN_COMMAND;
      throw error;
    }
    let noscript = this.#noscript.get(cmd);
    if (noscript === undefined) {
      noscript = cmd.flags.includes("noscript");
      this.#noscript.set(cmd, noscript);
    }
    if (noscript) return SCRIPT_COMMAND_NOT_ALLOWED;
    const user = this.#client.user;
    if (!user.allowsEverything) {
      const aclCommand = server.aclCatalogue.of(cmd);
      const denial = user.check(aclCommand, argv);
      if (denial !== undefined) {
        server.acl.logDenial(user, denial, aclCommand, argv, "lua", describeClient(run.caller));
        return scriptAclDenied(denial.reason);
      }
    }
    if (cmd.isWrite) {
      if (run.readOnly) return SCRIPT_WRITE_IN_READ_ONLY;
      const replicationRefusal = scriptWriteRefusal(run.caller);
      if (replicationRefusal !== undefined) return "-" + replicationRefusal;
      if (server.writeError !== undefined) return "-" + server.writeError;
    }
    // scriptVerifyOOM: only the first write can be refused, a script cannot stop halfway.
    if (
      !run.allowOom && !run.wroteData && server.config.maxmemory !== 0 &&
      server.operations.eviction.preCommandOutOfMemory && cmd.flags.includes("denyoom")
    ) {
      return "-" + OUT_OF_MEMORY;
    }
    if (cmd.isWrite) run.wroteData = true;
    return cmd;
  }

  /** redis.acl_check_cmd(command, ...): whether the caller's user may run it. */
  #aclCheck(args: LuaValue[]): boolean {
    const run = this.#requireRun(
      "redis.acl_check_cmd can only be called inside a script invocation",
    );
    const argv = this.#argv(args);
    if (argv instanceof LuaTable) run.errors.raise(argv);
    const names = argv as string[];
    const server = this.#server;
    let cmd = server.commands.lookup(names[0]!);
    if (cmd?.subcommandTable !== undefined && names.length >= 2) {
      cmd = cmd.subcommandTable.get(names[1]!.toLowerCase());
    }
    if (cmd === undefined) this.#raise(run, "Invalid command passed to redis.acl_check_cmd()");
    const user = run.caller.user;
    if (user.allowsEverything) return true;
    return user.check(server.aclCatalogue.of(cmd!), names) === undefined;
  }
}

/** A Lua sequence of binary strings (luaCreateArray); takes `values` over (it is padded). */
function luaArray(values: string[]): LuaTable {
  return values.length === 0 ? new LuaTable() : LuaTable.fromSequence(values);
}

/** lua_tonumber: a number, a numeric string, or 0. */
function luaToNumber(value: LuaValue): number {
  if (typeof value === "number") return value;
  if (typeof value === "string") {
    const parsed = Number(value.trim());
    return Number.isNaN(parsed) ? 0 : parsed;
  }
  return 0;
}

/** Whether a tiny script was compiled in this process already (warmUp). */
let warmedUp = false;

/** What an idle Redis 7.0 reports for its two Lua states and the functions' bookkeeping. */
const IDLE_EVAL_VM_BYTES = 31744;
const IDLE_FUNCTIONS_VM_BYTES = 32768;
const IDLE_FUNCTIONS_OVERHEAD_BYTES = 184;
const COMPILED_PER_SOURCE_BYTE = 3;
