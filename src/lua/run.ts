/**
 * Budgeted, resumable execution: {@link startCall} prepares a call of a Lua
 * function, {@link LuaRun.resume} runs it until it returns, fails, or uses
 * up the slice it was given, and can be called again to go on. A run that is
 * no longer wanted (SCRIPT KILL) is simply dropped with `abandon()`: its
 * saved frames are never resumed, so nothing inside the script can catch it.
 *
 * Budgets are counted in ticks (a tick is a loop back-edge or a function
 * entry) and/or milliseconds; the clock is read every few thousand ticks,
 * not at every tick.
 *
 * @module
 */

import {
  type BudgetOwner,
  call,
  EMPTY,
  LuaError,
  type LuaFrame,
  type NativeFrame,
  resumeCall,
  Suspend,
  throughHost,
  vm,
} from "./runtime.ts";
import type { LuaFunction, LuaValue } from "./values.ts";

/** A slice's limits; without either, the slice runs to completion. */
export interface SliceBudget {
  /** Ticks (loop iterations and calls) the slice may use. */
  ticks?: number;
  /** Wall-clock time the slice may use. */
  milliseconds?: number;
}

/** The outcome of a slice. */
export type SliceResult = { done: true; values: LuaValue[] } | { done: false };

const CHECK_INTERVAL = 10000;

/** A call of a Lua function that can run in slices. */
export class LuaRun implements BudgetOwner {
  readonly #fn: LuaValue;
  readonly #args: LuaValue[];
  #started = false;
  #finished = false;
  #frames: (LuaFrame | NativeFrame)[] | null = null;
  #ticksLeft = Infinity;
  #deadline = Infinity;
  #sliceTicks = 0;

  constructor(fn: LuaValue, args: LuaValue[]) {
    this.#fn = fn;
    this.#args = args;
  }

  /** Whether the run has finished (returned, failed or was abandoned). */
  get finished(): boolean {
    return this.#finished;
  }

  /** Called by the runtime every CHECK_INTERVAL ticks. */
  exhausted(): boolean {
    this.#sliceTicks += CHECK_INTERVAL;
    if (this.#sliceTicks >= this.#ticksLeft) return true;
    return this.#deadline !== Infinity && performance.now() >= this.#deadline;
  }

  /**
   * Runs the next slice. Returns `{ done: true, values }` when the function
   * returned, `{ done: false }` when the budget ran out (call again to go
   * on); throws {@link LuaError} when the function raised an error.
   */
  resume(budget: SliceBudget = {}): SliceResult {
    if (this.#finished) throw new Error("Lua run already finished");
    const saved = { ...vm, restore: vm.restore };
    this.#ticksLeft = budget.ticks ?? Infinity;
    this.#deadline = budget.milliseconds === undefined
      ? Infinity
      : performance.now() + budget.milliseconds;
    this.#sliceTicks = 0;
    vm.run = this;
    vm.callDepth = 0;
    vm.noSuspend = 0;
    vm.suspendPending = false;
    vm.current = null;
    const firstChunk = Math.min(this.#ticksLeft, CHECK_INTERVAL);
    try {
      let result;
      if (!this.#started) {
        this.#started = true;
        vm.restoring = false;
        vm.budget = firstChunk;
        this.#sliceTicks = CHECK_INTERVAL - firstChunk;
        result = call(this.#fn, this.#args);
      } else {
        vm.restore = this.#frames!;
        this.#frames = null;
        vm.pendingBudget = firstChunk;
        this.#sliceTicks = CHECK_INTERVAL - firstChunk;
        vm.budget = -1e15;
        vm.restoring = true;
        result = resumeCall();
      }
      this.#finished = true;
      return { done: true, values: Array.isArray(result) ? result : [result] };
    } catch (error) {
      if (error instanceof Suspend && error.kind === "budget") {
        this.#frames = error.frames;
        return { done: false };
      }
      this.#finished = true;
      const luaError = throughHost(error);
      if (luaError === null) throw error;
      throw luaError;
    } finally {
      Object.assign(vm, saved);
    }
  }

  /** Drops the run (SCRIPT KILL): it will not run again and nothing in it sees this. */
  abandon(): void {
    this.#finished = true;
    this.#frames = null;
  }
}

/** Prepares a resumable call of `fn` with `args`; nothing runs until `resume`. */
export function startCall(fn: LuaValue, args: LuaValue[] = EMPTY): LuaRun {
  return new LuaRun(fn, args);
}

/**
 * Calls a Lua function synchronously to completion (host code calling back
 * into Lua): returns its results, throws {@link LuaError}.
 */
export function callFunction(fn: LuaValue, args: LuaValue[] = EMPTY): LuaValue[] {
  const run = new LuaRun(fn, args);
  const result = run.resume();
  if (!result.done) throw new Error("unreachable: an unbudgeted run suspended");
  return result.values;
}

export { LuaError };
export type { LuaFunction };
