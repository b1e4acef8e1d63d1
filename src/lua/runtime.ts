/**
 * The runtime compiled Lua code calls into: operators with Lua 5.1's
 * coercions and metamethods, calls, error values with Lua's positions, and
 * the machinery that makes execution suspendable and resumable.
 *
 * How suspension works. Compiled functions are plain synchronous JS (see
 * compiler.ts). They count down `vm.budget` at loop back-edges and function
 * entries; when it runs out, `tick()` may throw a {@link Suspend}. Every Lua
 * frame the exception passes through catches it, records its resume point
 * and all its variables in a {@link LuaFrame}, and rethrows; host functions
 * that call Lua and must stay resumable (pcall, coroutine.resume, sort's
 * comparator driver) record a {@link NativeFrame} with a continuation. To
 * resume, the outermost frame's function is called again in "restore mode":
 * it reloads its variables, jumps to its resume point, and there asks
 * `resumeCall()` for the result of the call it was making, which rebuilds the
 * next frame the same way, down to the point where the budget ran out. The
 * common path pays only for the counter and the `try`; the cost of a
 * suspension is proportional to the stack depth, once per slice.
 * Coroutines use the same mechanism: `yield` is a Suspend caught by `resume`.
 *
 * Metamethods and other host code that calls Lua without recording a
 * continuation run with `vm.noSuspend` raised: a budget that runs out there
 * is deferred to the next check outside (as 5.1 forbids yields across such
 * "C-call boundaries", which `vm.callDepth` tracks for coroutines).
 *
 * Errors. A Lua error is a {@link LuaError} carrying any Lua value. Errors
 * raised "at level n" (`error(msg, n)`, `luaL_error`, runtime errors) travel
 * as pending and get their "chunk:line:" prefix from the frame n levels up,
 * which is where the line is known: each compiled frame knows the line of the
 * call or operation it was executing. "bad argument" errors also learn the
 * called function's name from the caller's call site, as Lua's
 * `getfuncname` does.
 *
 * @module
 */

import { LuaTable } from "./table.ts";
import {
  Coroutine,
  isTruthy,
  LightUserdata,
  type LuaFunction,
  type LuaResult,
  type LuaValue,
  rawToString,
  stringToNumber,
  typeName,
  Userdata,
} from "./values.ts";
import { numberToString } from "./number_format.ts";

/** How many ticks run between two looks at the clock. */
const CHECK_INTERVAL = 10000;
/** LUAI_MAXCCALLS: nesting of host-to-Lua calls. */
const MAX_CALL_DEPTH = 200;
/** MAXTAGLOOP: length of __index/__newindex chains. */
const MAX_TAG_LOOP = 100;

/** The shared empty result (zero values). Never mutate returned arrays. */
export const EMPTY: LuaValue[] = Object.freeze([]) as unknown as LuaValue[];

/** Static facts about one compiled function, for error messages. */
export interface FunctionInfo {
  /** The chunk name as messages show it ("user_script"). */
  chunk: string;
  /** Line of each resume point (calls and checks), by resume point number. */
  lines: number[];
  /** The called function's name at each call resume point, for "bad argument" messages. */
  callNames: ({ name: string; method: boolean } | null)[];
  /** Operation sites of the chunk: line and operand names. */
  sites: Site[];
  /** True for library code written in Lua: its errors carry no position, as C's. */
  hidden: boolean;
}

/** An operation that can fail: its line and the names of its operands ("local 'x'"). */
export interface Site {
  line: number;
  names: (string | null)[];
}

/** A recorded Lua frame: the function, where it stopped, and its variables. */
export class LuaFrame {
  constructor(
    readonly fn: LuaFunction,
    readonly resumePoint: number,
    readonly slots: LuaValue[],
  ) {}
}

/** A recorded host frame: how to continue once the frames inside it are rebuilt. */
export class NativeFrame {
  constructor(readonly resume: () => LuaResult) {}
}

/** Thrown to unwind the stack for a suspension (budget) or a coroutine yield. */
export class Suspend {
  /** Recorded frames, innermost first. */
  readonly frames: (LuaFrame | NativeFrame)[] = [];
  constructor(
    readonly kind: "budget" | "yield",
    readonly values: LuaValue[] = EMPTY,
    readonly coroutine: Coroutine | null = null,
  ) {}
}

/**
 * A Lua error carrying any Lua value (`error({err = "x"})` carries a table).
 * Host functions throw it to raise Lua errors. While `level > 0` the error
 * is pending: a position is still to be prefixed to its message.
 *
 * Deliberately not a subclass of `Error`: constructing an `Error` costs
 * microseconds (stack capture), twenty times a plain object, and scripts
 * raise and catch errors in loops. `message` and `toString` make it print
 * usefully anyway.
 */
export class LuaError {
  /** The error value (for a pending error: the message without position). */
  value: LuaValue;
  /** Levels up the stack where the position comes from; 0 once resolved. */
  level: number;
  /** Set by metamethod calls: the operation site whose line the position uses. */
  site = -1;
  /** For "bad argument" errors: the argument number and the detail text. */
  argument: { index: number; detail: string } | null = null;
  readonly name = "LuaError";

  constructor(value: LuaValue, level = 0) {
    this.value = value;
    this.level = level;
  }

  /** The error value as text (what `tostring` gives without metamethods). */
  get message(): string {
    return typeof this.value === "string" ? this.value : rawToString(this.value);
  }

  toString(): string {
    return `LuaError: ${this.message}`;
  }
}

/** A Lua error raised at level 1 (`luaL_error`): the caller's position is prefixed. */
export function luaError(message: string): LuaError {
  return new LuaError(message, 1);
}

/** `luaL_argerror`: "bad argument #n to 'f' (detail)", named by the caller. */
export function argumentError(index: number, detail: string): LuaError {
  const error = new LuaError(detail, 1);
  error.argument = { index, detail };
  return error;
}

/** The engine's mutable execution state, shared by all compiled code. */
export const vm = {
  /** Ticks left before `tick()` runs; forced negative while restoring. */
  budget: CHECK_INTERVAL,
  /** Budget to install when the restore completes. */
  pendingBudget: CHECK_INTERVAL,
  restoring: false,
  /** Frames still to rebuild, innermost first (popped from the end). */
  restore: [] as (LuaFrame | NativeFrame)[],
  /** Values the restored `coroutine.yield` returns. */
  resumeValues: EMPTY as LuaValue[],
  /** Nesting of host code that called Lua (5.1's nCcalls). */
  callDepth: 0,
  /** Nesting of host code that called Lua without a continuation. */
  noSuspend: 0,
  suspendPending: false,
  /** The running coroutine, or null on the main "thread". */
  current: null as Coroutine | null,
  /** The budgeted run in progress, if any. */
  run: null as BudgetOwner | null,
  /** Metatable shared by all strings (`string` library as `__index`). */
  stringMetatable: null as LuaTable | null,
};

/** What `tick()` asks when the counter runs out. */
export interface BudgetOwner {
  /** Called every CHECK_INTERVAL ticks: true to suspend now. */
  exhausted(): boolean;
}

/** Called by compiled code when `vm.budget` went negative. */
export function tick(): void {
  if (vm.restoring) {
    finishRestore();
    return;
  }
  vm.budget = CHECK_INTERVAL;
  if (vm.noSuspend > 0) {
    vm.suspendPending = true;
    return;
  }
  const owner = vm.run;
  if (owner !== null && owner.exhausted()) throw new Suspend("budget");
}

/**
 * Gives up a restore that an error interrupted (the JS stack ran out while
 * rebuilding a very deep stack): the frames not yet rebuilt are dropped, and
 * the error propagates through the rebuilt ones like any error raised there.
 */
function abortRestore(): void {
  vm.restoring = false;
  vm.restore = [];
  vm.budget = vm.pendingBudget;
}

/** Ends restore mode: the innermost frame is rebuilt, execution goes on. */
export function finishRestore(): void {
  vm.restoring = false;
  vm.budget = vm.pendingBudget;
}

/**
 * Function entry when the budget ran out: in restore mode, the frame this
 * function must rebuild (its resume point 0 means "from the start");
 * otherwise null after an ordinary tick.
 */
export function enter(fn: LuaFunction): LuaFrame | null {
  if (vm.restoring) {
    const frame = vm.restore.pop();
    if (!(frame instanceof LuaFrame) || frame.fn !== fn) {
      throw new Error("Lua restore: frame does not match the function being rebuilt");
    }
    if (frame.resumePoint === 0) finishRestore();
    return frame;
  }
  tick();
  return null;
}

/** At a call site in restore mode: the result of the call being rebuilt. */
export function resumeCall(): LuaResult {
  const frame = vm.restore[vm.restore.length - 1];
  if (frame instanceof NativeFrame) {
    vm.restore.pop();
    return frame.resume();
  }
  if (frame === undefined) throw new Error("Lua restore: no frame left to rebuild");
  return frame.fn();
}

/** Runs host code that calls Lua without a continuation (metamethods, callbacks). */
export function callWithoutSuspend(fn: LuaFunction, args: LuaValue[]): LuaResult {
  if (vm.callDepth >= MAX_CALL_DEPTH) throw stackOverflow("C stack overflow");
  vm.callDepth++;
  vm.noSuspend++;
  try {
    return call(fn, args);
  } finally {
    vm.callDepth--;
    if (--vm.noSuspend === 0 && vm.suspendPending) {
      vm.suspendPending = false;
      vm.budget = 0;
    }
  }
}

function stackOverflow(message: string): LuaError {
  return new LuaError(message, 1);
}

// ---- values ---------------------------------------------------------

/** The first value of a result. */
export function first(result: LuaResult): LuaValue {
  return Array.isArray(result) ? result[0] : result;
}

/** A result as an array of values (do not mutate it). */
export function list(result: LuaResult): LuaValue[] {
  return Array.isArray(result) ? result : [result];
}

/** The metatable of any value (strings share one). */
export function getMetatable(value: LuaValue): LuaTable | null {
  if (value instanceof LuaTable) return value.metatable;
  if (typeof value === "string") return vm.stringMetatable;
  if (value instanceof Userdata) return value.metatable;
  return null;
}

/** A metamethod of a value, or undefined (`luaT_gettmbyobj`). */
export function metamethod(value: LuaValue, event: string): LuaValue {
  const metatable = getMetatable(value);
  return metatable === null ? undefined : metatable.getString(event);
}

// ---- errors raised by operations -------------------------------------

/** A runtime error of an operation: positioned at the operation's site. */
function operationError(message: string, site: number): LuaError {
  const error = new LuaError(message, 1);
  error.site = site;
  return error;
}

/** "attempt to <verb> <name> (a <type> value)": `luaG_typeerror`. */
function typeError(value: LuaValue, verb: string, site: number, operand: number): LuaError {
  const error = new LuaError(`attempt to ${verb} a ${typeName(value)} value`, 1);
  error.site = site;
  pendingTypeErrors.set(error, { verb, type: typeName(value), operand });
  return error;
}

const pendingTypeErrors = new WeakMap<LuaError, { verb: string; type: string; operand: number }>();

/** `luaG_ordererror`. */
function orderError(left: LuaValue, right: LuaValue, site: number): LuaError {
  const leftType = typeName(left);
  const rightType = typeName(right);
  // Lua compares the third letter of the type names (so string and thread count as equal).
  if (leftType[2] === rightType[2]) {
    return operationError(`attempt to compare two ${leftType} values`, site);
  }
  return operationError(`attempt to compare ${leftType} with ${rightType}`, site);
}

// ---- arithmetic --------------------------------------------------------

type ArithmeticEvent = "__add" | "__sub" | "__mul" | "__div" | "__mod" | "__pow" | "__unm";

function arithmeticSlow(a: LuaValue, b: LuaValue, event: ArithmeticEvent, site: number): LuaValue {
  const x = typeof a === "number" ? a : typeof a === "string" ? stringToNumber(a) : undefined;
  const y = typeof b === "number" ? b : typeof b === "string" ? stringToNumber(b) : undefined;
  if (x !== undefined && y !== undefined) return arithmetic(x, y, event);
  let handler = metamethod(a, event);
  if (handler === undefined) handler = metamethod(b, event);
  if (handler !== undefined) return first(callMetamethod(handler, [a, b], site));
  if (x === undefined) throw typeError(a, "perform arithmetic on", site, 0);
  throw typeError(b, "perform arithmetic on", site, event === "__unm" ? 0 : 1);
}

function arithmetic(x: number, y: number, event: ArithmeticEvent): number {
  switch (event) {
    case "__add":
      return x + y;
    case "__sub":
      return x - y;
    case "__mul":
      return x * y;
    case "__div":
      return x / y;
    case "__mod":
      return x - Math.floor(x / y) * y;
    case "__pow":
      return Math.pow(x, y);
    case "__unm":
      return -x;
  }
}

/** `a + b`. */
export function add(a: LuaValue, b: LuaValue, site: number): LuaValue {
  return typeof a === "number" && typeof b === "number"
    ? a + b
    : arithmeticSlow(a, b, "__add", site);
}

/** `a - b`. */
export function sub(a: LuaValue, b: LuaValue, site: number): LuaValue {
  return typeof a === "number" && typeof b === "number"
    ? a - b
    : arithmeticSlow(a, b, "__sub", site);
}

/** `a * b`. */
export function mul(a: LuaValue, b: LuaValue, site: number): LuaValue {
  return typeof a === "number" && typeof b === "number"
    ? a * b
    : arithmeticSlow(a, b, "__mul", site);
}

/** `a / b`. */
export function div(a: LuaValue, b: LuaValue, site: number): LuaValue {
  return typeof a === "number" && typeof b === "number"
    ? a / b
    : arithmeticSlow(a, b, "__div", site);
}

/** `a % b` (`a - floor(a/b)*b`). */
export function mod(a: LuaValue, b: LuaValue, site: number): LuaValue {
  return typeof a === "number" && typeof b === "number"
    ? a - Math.floor(a / b) * b
    : arithmeticSlow(a, b, "__mod", site);
}

/** `a ^ b`. */
export function pow(a: LuaValue, b: LuaValue, site: number): LuaValue {
  return typeof a === "number" && typeof b === "number"
    ? Math.pow(a, b)
    : arithmeticSlow(a, b, "__pow", site);
}

/** `-a`. */
export function unm(a: LuaValue, site: number): LuaValue {
  return typeof a === "number" ? -a : arithmeticSlow(a, a, "__unm", site);
}

// ---- comparison ------------------------------------------------------

/** `a == b` (raw equality, then `__eq` for two tables or two userdata). */
export function eq(a: LuaValue, b: LuaValue): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object") return false;
  return equalSlow(a, b);
}

function equalSlow(a: LuaValue, b: LuaValue): boolean {
  let leftMeta: LuaTable | null;
  let rightMeta: LuaTable | null;
  if (a instanceof LuaTable && b instanceof LuaTable) {
    leftMeta = a.metatable;
    rightMeta = b.metatable;
  } else if (a instanceof Userdata && b instanceof Userdata) {
    leftMeta = a.metatable;
    rightMeta = b.metatable;
  } else return false;
  if (leftMeta === null) return false;
  const left = leftMeta.getString("__eq");
  if (left === undefined) return false;
  if (leftMeta !== rightMeta) {
    if (rightMeta === null) return false;
    const right = rightMeta.getString("__eq");
    if (right !== left) return false;
  }
  return isTruthy(first(callMetamethod(left, [a, b], -1)));
}

/** `a < b`. */
export function lt(a: LuaValue, b: LuaValue, site: number): boolean {
  if (typeof a === "number" && typeof b === "number") return a < b;
  if (typeof a === "string" && typeof b === "string") return a < b;
  return orderSlow(a, b, "__lt", site);
}

/** `a <= b` (falls back to `not (b < a)` with `__lt`, as 5.1 does). */
export function le(a: LuaValue, b: LuaValue, site: number): boolean {
  if (typeof a === "number" && typeof b === "number") return a <= b;
  if (typeof a === "string" && typeof b === "string") return a <= b;
  return orderSlow(a, b, "__le", site);
}

function orderSlow(a: LuaValue, b: LuaValue, event: "__lt" | "__le", site: number): boolean {
  if (typeName(a) !== typeName(b)) throw orderError(a, b, site);
  const handler = metamethod(a, event);
  if (handler !== undefined && handler === metamethod(b, event)) {
    return isTruthy(first(callMetamethod(handler, [a, b], site)));
  }
  if (event === "__le") {
    const lessThan = metamethod(b, "__lt");
    if (lessThan !== undefined && lessThan === metamethod(a, "__lt")) {
      return !isTruthy(first(callMetamethod(lessThan, [b, a], site)));
    }
  }
  throw orderError(a, b, site);
}

// ---- concatenation and length --------------------------------------------

/** `a .. b`. */
export function concat(a: LuaValue, b: LuaValue, site: number): LuaValue {
  if (typeof a === "string") {
    if (typeof b === "string") return a + b;
    if (typeof b === "number") return a + numberToString(b);
  } else if (typeof a === "number") {
    if (typeof b === "string") return numberToString(a) + b;
    if (typeof b === "number") return numberToString(a) + numberToString(b);
  }
  let handler = metamethod(a, "__concat");
  if (handler === undefined) handler = metamethod(b, "__concat");
  if (handler !== undefined) return first(callMetamethod(handler, [a, b], site));
  const culprit = typeof a === "string" || typeof a === "number" ? 1 : 0;
  throw typeError(culprit === 0 ? a : b, "concatenate", site, culprit);
}

/** `#a`. */
export function len(a: LuaValue, site: number): LuaValue {
  if (typeof a === "string") return a.length;
  if (a instanceof LuaTable) return a.length();
  const handler = metamethod(a, "__len");
  if (handler !== undefined) return first(callMetamethod(handler, [a, undefined], site));
  throw typeError(a, "get length of", site, 0);
}

// ---- indexing ------------------------------------------------------------

/** `o[k]`. */
export function index(o: LuaValue, k: LuaValue, site: number): LuaValue {
  if (o instanceof LuaTable) {
    const value = o.get(k);
    if (value !== undefined || o.metatable === null) return value;
  }
  return indexSlow(o, k, site);
}

/** `o.name` with a constant string key. */
export function indexString(o: LuaValue, k: string, site: number): LuaValue {
  if (o instanceof LuaTable) {
    const value = o.getString(k);
    if (value !== undefined || o.metatable === null) return value;
  }
  return indexSlow(o, k, site);
}

function indexSlow(o: LuaValue, k: LuaValue, site: number): LuaValue {
  let target = o;
  for (let loop = 0; loop < MAX_TAG_LOOP; loop++) {
    let handler: LuaValue;
    if (target instanceof LuaTable) {
      const value = target.get(k);
      if (value !== undefined) return value;
      const metatable = target.metatable;
      if (metatable === null) return undefined;
      handler = metatable.getString("__index");
      if (handler === undefined) return undefined;
    } else {
      handler = metamethod(target, "__index");
      if (handler === undefined) {
        // Only the original operand has a name (a chained metatable value is not in a register).
        throw target === o
          ? typeError(target, "index", site, 0)
          : typeError(target, "index", -1, 0);
      }
    }
    if (typeof handler === "function") return first(callMetamethod(handler, [target, k], site));
    target = handler;
  }
  throw operationError("loop in gettable", site);
}

/** `o[k] = v`. */
export function setIndex(o: LuaValue, k: LuaValue, v: LuaValue, site: number): void {
  if (o instanceof LuaTable && o.metatable === null) {
    if (typeof k === "string") {
      o.set(k, v);
      return;
    }
    if (k === undefined) throw operationError("table index is nil", site);
    if (typeof k === "number" && Number.isNaN(k)) throw operationError("table index is NaN", site);
    o.set(k, v);
    return;
  }
  setIndexSlow(o, k, v, site);
}

function setIndexSlow(o: LuaValue, k: LuaValue, v: LuaValue, site: number): void {
  let target = o;
  for (let loop = 0; loop < MAX_TAG_LOOP; loop++) {
    let handler: LuaValue;
    if (target instanceof LuaTable) {
      if (k === undefined) throw operationError("table index is nil", site);
      if (typeof k === "number" && Number.isNaN(k)) {
        throw operationError("table index is NaN", site);
      }
      const old = target.get(k);
      const metatable = target.metatable;
      if (
        old !== undefined || metatable === null ||
        (handler = metatable.getString("__newindex")) === undefined
      ) {
        target.set(k, v);
        return;
      }
      // luaH_set created the slot before the metamethod is consulted.
      if (!target.hasSlot(k)) target.set(k, undefined);
    } else {
      handler = metamethod(target, "__newindex");
      if (handler === undefined) {
        throw target === o
          ? typeError(target, "index", site, 0)
          : typeError(target, "index", -1, 0);
      }
    }
    if (typeof handler === "function") {
      callMetamethod(handler, [target, k, v], site);
      return;
    }
    target = handler;
  }
  throw operationError("loop in settable", site);
}

/** A raw table store from a constructor (`[k] = v`): only nil and NaN keys fail. */
export function tableSet(t: LuaTable, k: LuaValue, v: LuaValue, site: number): void {
  if (k === undefined) throw operationError("table index is nil", site);
  if (typeof k === "number" && Number.isNaN(k)) throw operationError("table index is NaN", site);
  t.set(k, v);
}

/** A constructor's trailing multiple values (`{a, f()}`): stored from `start` on. */
export function setList(t: LuaTable, start: number, values: LuaValue[]): void {
  const last = start + values.length - 1;
  if (last > t.array.length) t.resizeArray(last);
  for (let offset = 0; offset < values.length; offset++) {
    t.setInteger(start + offset, values[offset]);
  }
}

/** `luaO_fb2int(luaO_int2fb(x))`: how NEWTABLE rounds its size hints. */
export function roundTableSize(size: number): number {
  let x = size;
  let exponent = 0;
  while (x >= 16) {
    x = (x + 1) >> 1;
    exponent++;
  }
  if (x < 8) return exponent === 0 ? x : x << exponent;
  const encoded = ((exponent + 1) << 3) | (x - 8);
  const e = (encoded >> 3) & 31;
  return e === 0 ? encoded : ((encoded & 7) + 8) << (e - 1);
}

// ---- calls -----------------------------------------------------------

/** Calls any value with an argument array (`__call` for non-functions). */
export function call(fn: LuaValue, args: LuaValue[]): LuaResult {
  if (typeof fn === "function") return fn(...args);
  return callValue(fn, -1, args);
}

/** A call of a non-function from compiled code: `__call`, or the "attempt to call" error. */
export function callValue(fn: LuaValue, site: number, args: LuaValue[]): LuaResult {
  const handler = metamethod(fn, "__call");
  if (typeof handler !== "function") throw typeError(fn, "call", site, 0);
  return handler(fn, ...args);
}

/** Calls a metamethod from an operation: a C-call boundary, positioned at the site. */
function callMetamethod(handler: LuaValue, args: LuaValue[], site: number): LuaResult {
  try {
    if (typeof handler !== "function") {
      // A non-function metamethod value is called through its own __call.
      return callWithoutSuspend((...inner: LuaValue[]) => callValue(handler, site, inner), args);
    }
    return callWithoutSuspend(handler, args);
  } catch (error) {
    if (error instanceof LuaError && error.level === 1 && error.site < 0) {
      error.site = site;
      if (error.argument !== null) anonymousCallers.add(error);
    }
    throw error;
  }
}

/** "bad argument" errors raised by functions called from metamethods: the callee is "?". */
const anonymousCallers = new WeakSet<LuaError>();

// ---- error resolution ------------------------------------------------------

/** The message of a resolved "bad argument" error. */
function argumentMessage(
  error: LuaError,
  callee: { name: string; method: boolean } | null,
): string {
  const argument = error.argument!;
  let index = argument.index;
  if (callee !== null && callee.method) {
    index--;
    if (index === 0) return `calling '${callee.name}' on bad self (${argument.detail})`;
  }
  return `bad argument #${index} to '${callee === null ? "?" : callee.name}' (${argument.detail})`;
}

/** Completes a pending error at the frame it belongs to, with that frame's position (or none). */
function resolve(
  error: LuaError,
  where: string,
  callee: { name: string; method: boolean } | null,
): void {
  let message: string;
  if (error.argument !== null) {
    message = argumentMessage(error, anonymousCallers.has(error) ? null : callee);
  } else message = typeof error.value === "string" ? error.value : rawToString(error.value);
  error.value = where + message;
  error.level = 0;
  error.argument = null;
}

/**
 * The catch clause of every compiled function: records the frame of a
 * suspension, positions pending errors, turns JS stack exhaustion into Lua's
 * "stack overflow". Returns what to rethrow.
 */
export function unwind(
  error: unknown,
  info: FunctionInfo,
  resumePoint: number,
  fn: LuaFunction,
  slots: LuaValue[] | null,
): unknown {
  if (error instanceof Suspend) {
    error.frames.push(new LuaFrame(fn, resumePoint, slots!));
    return error;
  }
  if (vm.restoring) abortRestore();
  let luaError: LuaError;
  if (error instanceof LuaError) luaError = error;
  else {
    const converted = fromHostError(error);
    if (converted === null) return error;
    luaError = converted;
  }
  if (luaError.level === 0) return luaError;
  if (luaError.level > 1) {
    luaError.level--;
    return luaError;
  }
  if (info.hidden) {
    resolve(luaError, "", null);
    return luaError;
  }
  let line: number;
  let callee: { name: string; method: boolean } | null = null;
  if (luaError.site >= 0) {
    const site = info.sites[luaError.site]!;
    line = site.line;
    const typeErrorInfo = pendingTypeErrors.get(luaError);
    if (typeErrorInfo !== undefined) {
      const name = site.names[typeErrorInfo.operand] ?? null;
      if (name !== null) {
        luaError.value = `attempt to ${typeErrorInfo.verb} ${name} (a ${typeErrorInfo.type} value)`;
      }
    }
  } else {
    line = info.lines[resumePoint] ?? 0;
    callee = info.callNames[resumePoint] ?? null;
  }
  resolve(luaError, `${info.chunk}:${line}: `, callee);
  return luaError;
}

/**
 * Resolution by a host function that called Lua (pcall, sort, resume...):
 * it is a level of its own without a position. Returns the error to rethrow
 * or report, or null for a non-Lua exception that must propagate.
 */
export function throughHost(error: unknown): LuaError | null {
  if (vm.restoring) abortRestore();
  let luaError: LuaError;
  if (error instanceof LuaError) luaError = error;
  else {
    const converted = fromHostError(error);
    if (converted === null) return null;
    luaError = converted;
  }
  if (luaError.level === 1) resolve(luaError, "", null);
  else if (luaError.level > 1) luaError.level--;
  return luaError;
}

/** JS stack exhaustion and allocation failures as Lua errors; anything else stays a host error. */
function fromHostError(error: unknown): LuaError | null {
  // Plain string tests only: this runs when the JS stack is nearly exhausted.
  if (error instanceof RangeError) {
    const message = error.message;
    if (message === "Maximum call stack size exceeded") return new LuaError("stack overflow", 1);
    if (message.startsWith("Invalid") || message.startsWith("Array buffer")) {
      return new LuaError("not enough memory", 0);
    }
  }
  return null;
}

/** Whether a value is a Lua error value container from this engine. */
export function isLuaError(error: unknown): error is LuaError {
  return error instanceof LuaError;
}

// ---- protected calls and coroutines ----------------------------------------

/** `pcall`'s core: runs `start`, returning [true, ...results] or [false, error value]. */
export function protectedCall(start: () => LuaResult): LuaValue[] {
  if (vm.callDepth >= MAX_CALL_DEPTH) return [false, "C stack overflow"];
  vm.callDepth++;
  try {
    const result = start();
    return Array.isArray(result) ? [true, ...result] : [true, result];
  } catch (error) {
    if (error instanceof Suspend) {
      if (error.kind === "budget") {
        error.frames.push(new NativeFrame(() => protectedCall(resumeCall)));
      }
      throw error;
    }
    const luaError = throughHost(error);
    if (luaError === null) throw error;
    if (luaError.level > 0) resolve(luaError, "", null);
    return [false, luaError.value];
  } finally {
    vm.callDepth--;
  }
}

/**
 * Runs `body` (a call into resumable code) and applies `after` to its
 * result; if a budget suspension passes, records a frame that applies
 * `after` once the inner frames are rebuilt. For host functions that
 * post-process what a resumable helper returns.
 */
export function then<T extends LuaResult>(
  body: () => T,
  after: (result: T) => LuaResult,
): LuaResult {
  let result: T;
  try {
    result = body();
  } catch (error) {
    if (error instanceof Suspend && error.kind === "budget") {
      error.frames.push(new NativeFrame(() => then(resumeCall as () => T, after)));
    }
    throw error;
  }
  return after(result);
}

/** `xpcall`'s core: like pcall, with the handler applied to the error value. */
export function protectedCallWithHandler(start: () => LuaResult, handler: LuaValue): LuaResult {
  return then(() => protectedCall(start), (result) => applyHandler(result, handler));
}

function applyHandler(result: LuaValue[], handler: LuaValue): LuaValue[] {
  if (result[0] === true) return result;
  let value = result[1];
  for (let attempt = 0; attempt < MAX_CALL_DEPTH; attempt++) {
    if (typeof handler !== "function" && metamethod(handler, "__call") === undefined) break;
    const handled = protectedCall(() => callWithoutSuspend(handler as LuaFunction, [value]));
    if (handled[0] === true) return [false, handled[1]];
    value = handled[1];
  }
  return [false, "error in error handling"];
}

/**
 * `coroutine.resume`'s core: [true, ...yielded or returned values] or
 * [false, error value]; records itself when a budget suspension passes.
 */
export function resumeCoroutine(co: Coroutine, args: LuaValue[]): LuaValue[] {
  if (co.status !== "suspended") {
    return [
      false,
      `cannot resume ${
        co.status === "dead" ? "dead" : co.status === "running" ? "running" : "normal"
      } coroutine`,
    ];
  }
  if (vm.callDepth >= MAX_CALL_DEPTH) return [false, "C stack overflow"];
  return runCoroutine(co, () => {
    if (co.frames === null) {
      const body = co.body!;
      co.body = undefined;
      return body(...args);
    }
    const frames = co.frames as (LuaFrame | NativeFrame)[];
    co.frames = null;
    vm.restore = frames;
    vm.resumeValues = args;
    vm.pendingBudget = vm.budget;
    vm.budget = -1e15;
    vm.restoring = true;
    return resumeCall();
  });
}

function runCoroutine(co: Coroutine, start: () => LuaResult): LuaValue[] {
  const previous = vm.current;
  if (previous !== null) previous.status = "normal";
  co.status = "running";
  vm.current = co;
  vm.callDepth++;
  co.baseCallDepth = vm.callDepth;
  const savedNoSuspend = vm.noSuspend;
  try {
    const result = start();
    co.status = "dead";
    return Array.isArray(result) ? [true, ...result] : [true, result];
  } catch (error) {
    if (error instanceof Suspend) {
      if (error.kind === "yield" && error.coroutine === co) {
        co.frames = error.frames;
        co.status = "suspended";
        return [true, ...error.values];
      }
      if (error.kind === "budget") {
        error.frames.push(new NativeFrame(() => runCoroutine(co, resumeCall)));
      }
      throw error;
    }
    const luaError = throughHost(error);
    if (luaError === null) throw error;
    co.status = "dead";
    if (luaError.level > 0) resolve(luaError, "", null);
    return [false, luaError.value];
  } finally {
    vm.noSuspend = savedNoSuspend;
    vm.callDepth--;
    vm.current = previous;
    if (previous !== null) previous.status = "running";
  }
}

/** `coroutine.yield`. */
export function yieldCoroutine(values: LuaValue[]): never {
  const co = vm.current;
  // The main chunk always runs under a protected call (Redis's and lua.c's lua_pcall), so a
  // yield outside any coroutine fails the boundary check first, as in 5.1.
  if (co === null || vm.callDepth !== co.baseCallDepth) {
    throw new LuaError("attempt to yield across metamethod/C-call boundary", 0);
  }
  const suspension = new Suspend("yield", values, co);
  suspension.frames.push(
    new NativeFrame(() => {
      finishRestore();
      return vm.resumeValues;
    }),
  );
  throw suspension;
}

/** Rewraps a coroutine error for `coroutine.wrap`: the caller's position is prefixed again. */
export function wrapError(value: LuaValue): LuaError {
  if (typeof value === "string" || typeof value === "number") {
    return new LuaError(typeof value === "number" ? numberToString(value) : value, 1);
  }
  return new LuaError(value, 0);
}

export { Coroutine, LightUserdata, LuaTable, Userdata };
