/**
 * The Lua environments scripts run in, as Redis 7.0 builds them: one for
 * EVAL scripts (scriptingInit plus luaRegisterRedisAPI) and one for
 * function libraries (luaEngineInitEngine), each a state of its own in
 * Redis and a globals table of its own here.
 *
 * Both start from the engine's Redis library set (`createGlobals`), get the
 * `redis` table in Redis's registration order (so `pairs(redis)` walks it
 * as Redis does), the error-aware base functions of sandbox.ts, and are
 * then made read-only. `math.random` is the same generator in both, never
 * reseeded, as Redis's process-wide redisLrand48 is: the environments built
 * later (SCRIPT FLUSH builds a new eval environment) reuse the first one's
 * generator.
 *
 * The function environment is Redis's two-level one: libraries and their
 * callbacks see an empty read-only globals table whose `__index` points at
 * the real globals while functions run, and at a table holding only
 * `redis.register_function`, `redis.log` and the version while a library's
 * top level runs (FUNCTION LOAD), so loading code cannot call commands.
 *
 * What the `redis` functions do is the runtime's business: it passes them
 * in as {@link RedisApi}.
 *
 * @module
 */

import { createGlobals, type LuaFunction, LuaTable, type LuaValue } from "../../lua/mod.ts";
import {
  guardMissingGlobals,
  installErrorAwareBuiltins,
  protect,
  RaisedErrors,
  rawWrite,
} from "./sandbox.ts";
import { vm } from "../../lua/runtime.ts";

/** The host functions behind the `redis` table (see redis_api.ts). */
export interface RedisApi {
  call: LuaFunction;
  pcall: LuaFunction;
  log: LuaFunction;
  setresp: LuaFunction;
  sha1hex: LuaFunction;
  error_reply: LuaFunction;
  status_reply: LuaFunction;
  set_repl: LuaFunction;
  acl_check_cmd: LuaFunction;
  breakpoint: LuaFunction;
  debug: LuaFunction;
  replicate_commands: LuaFunction;
  register_function: LuaFunction;
  version: string;
  versionNumber: number;
}

/** An environment's globals and the error registry its builtins report to. */
export interface ScriptEnvironment {
  /** What compiled code gets as its environment. */
  readonly globals: LuaTable;
  readonly errors: RaisedErrors;
}

/** The EVAL environment; KEYS and ARGV are set per run with {@link setEvalArguments}. */
export interface EvalEnvironment extends ScriptEnvironment {
  readonly random: RandomFunctions;
}

/** The function environment, with the switch between loading and running. */
export interface FunctionEnvironment extends ScriptEnvironment {
  /** Points the globals at the loading API (true) or the full API (false). */
  loading(on: boolean): void;
}

/** `math.random` and `math.randomseed`, shared by every environment. */
export interface RandomFunctions {
  random: LuaValue;
  randomseed: LuaValue;
}

function logLevels(redis: LuaTable): void {
  redis.set("LOG_DEBUG", 0);
  redis.set("LOG_VERBOSE", 1);
  redis.set("LOG_NOTICE", 2);
  redis.set("LOG_WARNING", 3);
}

function versionFields(redis: LuaTable, api: RedisApi): void {
  redis.set("REDIS_VERSION_NUM", api.versionNumber);
  redis.set("REDIS_VERSION", api.version);
}

/** The `redis` table both environments share the shape of (luaRegisterRedisAPI). */
function redisTable(api: RedisApi): LuaTable {
  const redis = new LuaTable();
  redis.set("call", api.call);
  redis.set("pcall", api.pcall);
  redis.set("log", api.log);
  logLevels(redis);
  versionFields(redis, api);
  redis.set("setresp", api.setresp);
  redis.set("sha1hex", api.sha1hex);
  redis.set("error_reply", api.error_reply);
  redis.set("status_reply", api.status_reply);
  redis.set("set_repl", api.set_repl);
  redis.set("REPL_NONE", 0);
  redis.set("REPL_AOF", 1);
  redis.set("REPL_SLAVE", 2);
  redis.set("REPL_REPLICA", 2);
  redis.set("REPL_ALL", 3);
  redis.set("acl_check_cmd", api.acl_check_cmd);
  return redis;
}

/** Globals with the libraries, the error-aware builtins and the shared generator. */
function baseGlobals(errors: RaisedErrors, random: RandomFunctions | undefined) {
  const created = createGlobals();
  const globals = created.globals;
  // `getmetatable("")` reaches the strings' metatable: read-only too, as in Redis.
  if (vm.stringMetatable !== null) protect(vm.stringMetatable);
  installErrorAwareBuiltins(globals, errors);
  const math = globals.get("math") as LuaTable;
  if (random !== undefined) {
    math.set("random", random.random);
    math.set("randomseed", random.randomseed);
  }
  return {
    globals,
    random: { random: math.get("random"), randomseed: math.get("randomseed") },
  };
}

/**
 * Builds the EVAL environment. Pass `random` from an earlier environment to
 * share its generator.
 */
export function createEvalEnvironment(api: RedisApi, random?: RandomFunctions): EvalEnvironment {
  const errors = new RaisedErrors();
  const base = baseGlobals(errors, random);
  const globals = base.globals;
  const redis = redisTable(api);
  redis.set("breakpoint", api.breakpoint);
  redis.set("debug", api.debug);
  redis.set("replicate_commands", api.replicate_commands);
  globals.set("redis", redis);
  globals.set("__redis__err__handler", errorHandler);
  guardMissingGlobals(globals);
  protect(globals);
  return { globals, errors, random: base.random };
}

/**
 * What `__redis__err__handler` does to an error value, minus the position
 * (which only a debugger hook could give it here).
 */
function errorHandler(value: LuaValue): LuaValue {
  if (value instanceof LuaTable) return value;
  const table = new LuaTable();
  table.set("err", "ERR " + (typeof value === "string" ? value : String(value)));
  return table;
}

/** Sets KEYS and ARGV for the next EVAL run (they are globals of the protected table). */
export function setEvalArguments(
  environment: EvalEnvironment,
  keys: LuaTable,
  argv: LuaTable,
): void {
  rawWrite(environment.globals, "KEYS", keys);
  rawWrite(environment.globals, "ARGV", argv);
}

/** Builds the function environment, sharing `random` with the EVAL one. */
export function createFunctionEnvironment(
  api: RedisApi,
  random: RandomFunctions,
): FunctionEnvironment {
  const errors = new RaisedErrors();
  const real = baseGlobals(errors, random).globals;
  real.set("redis", redisTable(api));
  guardMissingGlobals(real);
  protect(real);

  // What a library's top level sees: `redis` with only these (luaEngineInitEngine).
  const loadRedis = new LuaTable();
  loadRedis.set("register_function", api.register_function);
  loadRedis.set("log", api.log);
  logLevels(loadRedis);
  versionFields(loadRedis, api);
  guardMissingGlobals(loadRedis);
  const loadGlobals = new LuaTable();
  loadGlobals.set("redis", loadRedis);
  guardMissingGlobals(loadGlobals);
  protect(loadGlobals);

  const metatable = new LuaTable();
  metatable.set("__index", real);
  const globals = new LuaTable();
  globals.metatable = metatable;
  protect(globals);
  return {
    globals,
    errors,
    loading(on) {
      rawWrite(metatable, "__index", on ? loadGlobals : real);
    },
  };
}
