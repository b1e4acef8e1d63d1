/**
 * The math library (`lmathlib.c`) with Redis 7.0's `random`/`randomseed`:
 * Redis replaces the C library's generator with its own `lrand48` clone
 * (`redisLrand48` in rand.c) and reseeds it before every script, so every
 * script sees the same sequence. {@link RedisRandom} is that generator; the
 * scripting layer keeps the instance and calls `seed(0)` before each run.
 *
 * @module
 */

import { argumentError, EMPTY, luaError } from "../runtime.ts";
import { LuaTable } from "../table.ts";
import type { LuaFunction, LuaResult, LuaValue } from "../values.ts";
import { checkInteger, checkNumber } from "./arguments.ts";

const MULTIPLIER_HIGH = 0x5de; // 0x5DEECE66D split at bit 24
const MULTIPLIER_LOW = 0xece66d;
const INCREMENT = 0xb;
const TWO_24 = 16777216;
const TWO_48 = 281474976710656;
const LRAND48_MAX = 2147483647;

/** Redis's `redisLrand48`/`redisSrand48`: the 48-bit linear congruential generator of lrand48. */
export class RedisRandom {
  #state = 0x1234abcd330e;

  /** `redisSrand48(seed)`: the state becomes (seed << 16) | 0x330E. */
  seed(value: number): void {
    this.#state = (value >>> 0) * 65536 + 0x330e;
  }

  /** `redisLrand48()`: the next 31-bit value. */
  next(): number {
    const state = this.#state;
    const high = Math.floor(state / TWO_24);
    const low = state % TWO_24;
    const cross = (MULTIPLIER_HIGH * low + MULTIPLIER_LOW * high) % TWO_24;
    this.#state = (cross * TWO_24 + MULTIPLIER_LOW * low + INCREMENT) % TWO_48;
    return Math.floor(this.#state / 131072);
  }

  /** `math.random()`'s value in [0, 1). */
  fraction(): number {
    return (this.next() % LRAND48_MAX) / LRAND48_MAX;
  }
}

/** C's `pow`, where JS's `Math.pow` differs (1^NaN, (-1)^±inf). */
export function cPow(base: number, exponent: number): number {
  if (base === 1) return 1;
  if (base === -1 && (exponent === Infinity || exponent === -Infinity)) return 1;
  return Math.pow(base, exponent);
}

const scratchFloat = new Float64Array(1);
const scratchWords = new Uint32Array(scratchFloat.buffer);

/** C's `frexp`: [m, e] with x = m * 2^e, 0.5 <= |m| < 1. */
function frexp(value: number): [number, number] {
  if (value === 0 || !Number.isFinite(value)) return [value, 0];
  let x = value;
  let exponent = 0;
  scratchFloat[0] = x;
  if (((scratchWords[1]! >>> 20) & 0x7ff) === 0) {
    x *= 2 ** 64;
    exponent = -64;
    scratchFloat[0] = x;
  }
  const biased = (scratchWords[1]! >>> 20) & 0x7ff;
  exponent += biased - 1022;
  scratchWords[1] = (scratchWords[1]! & 0x800fffff) | (1022 << 20);
  return [scratchFloat[0]!, exponent];
}

/** C's `ldexp` (musl's `scalbn`): no intermediate overflow, one rounding. */
function ldexp(mantissa: number, exponent: number): number {
  let y = mantissa;
  let n = exponent;
  if (n > 1023) {
    y *= 2 ** 1023;
    n -= 1023;
    if (n > 1023) {
      y *= 2 ** 1023;
      n -= 1023;
      if (n > 1023) n = 1023;
    }
  } else if (n < -1022) {
    y *= 2 ** -1022 * 2 ** 53;
    n += 1022 - 53;
    if (n < -1022) {
      y *= 2 ** -1022 * 2 ** 53;
      n += 1022 - 53;
      if (n < -1022) n = -1022;
    }
  }
  return y * 2 ** n;
}

/** Builds the `math` library table using `random` for `math.random`. */
export function openMath(globals: LuaTable, random: RedisRandom): LuaTable {
  const library = new LuaTable();
  const define = (name: string, fn: LuaFunction) => library.set(name, fn);
  const unary = (name: string, fn: (x: number) => number) =>
    define(name, function (x: LuaValue): LuaResult {
      return fn(checkNumber(x, 1, arguments.length));
    });
  unary("abs", Math.abs);
  unary("acos", Math.acos);
  unary("asin", Math.asin);
  unary("atan", Math.atan);
  unary("ceil", Math.ceil);
  unary("cos", Math.cos);
  unary("cosh", Math.cosh);
  unary("deg", (x) => x / (Math.PI / 180));
  unary("exp", Math.exp);
  unary("floor", Math.floor);
  unary("log", Math.log);
  unary("log10", Math.log10);
  unary("rad", (x) => x * (Math.PI / 180));
  unary("sin", Math.sin);
  unary("sinh", Math.sinh);
  unary("sqrt", Math.sqrt);
  unary("tan", Math.tan);
  unary("tanh", Math.tanh);
  define("atan2", function atan2(y: LuaValue, x: LuaValue): LuaResult {
    const count = arguments.length;
    return Math.atan2(checkNumber(y, 1, count), checkNumber(x, 2, count));
  });
  const fmod = function fmod(a: LuaValue, b: LuaValue): LuaResult {
    const count = arguments.length;
    return checkNumber(a, 1, count) % checkNumber(b, 2, count);
  };
  define("fmod", fmod);
  define("mod", fmod);
  define("pow", function pow(a: LuaValue, b: LuaValue): LuaResult {
    const count = arguments.length;
    return cPow(checkNumber(a, 1, count), checkNumber(b, 2, count));
  });
  define("modf", function modf(x: LuaValue): LuaResult {
    const value = checkNumber(x, 1, arguments.length);
    if (value === Infinity || value === -Infinity) return [value, value > 0 ? 0 : -0];
    const whole = Math.trunc(value);
    const fraction = value - whole;
    return [whole, fraction === 0 && value < 0 ? -0 : fraction];
  });
  define("frexp", function frexpFn(x: LuaValue): LuaResult {
    return frexp(checkNumber(x, 1, arguments.length));
  });
  define("ldexp", function ldexpFn(m: LuaValue, e: LuaValue): LuaResult {
    const count = arguments.length;
    return ldexp(checkNumber(m, 1, count), checkInteger(e, 2, count));
  });
  define("max", function max(...values: LuaValue[]): LuaResult {
    let best = checkNumber(values[0], 1, values.length);
    for (let index = 1; index < values.length; index++) {
      const value = checkNumber(values[index], index + 1, values.length);
      if (value > best) best = value;
    }
    return best;
  });
  define("min", function min(...values: LuaValue[]): LuaResult {
    let best = checkNumber(values[0], 1, values.length);
    for (let index = 1; index < values.length; index++) {
      const value = checkNumber(values[index], index + 1, values.length);
      if (value < best) best = value;
    }
    return best;
  });
  define("random", function randomFn(low: LuaValue, high: LuaValue): LuaResult {
    const count = arguments.length;
    const fraction = random.fraction();
    switch (count) {
      case 0:
        return fraction;
      case 1: {
        const upper = checkInteger(low, 1, count);
        if (upper < 1) throw argumentError(1, "interval is empty");
        return Math.floor(fraction * upper) + 1;
      }
      case 2: {
        const lower = checkInteger(low, 1, count);
        const upper = checkInteger(high, 2, count);
        if (lower > upper) throw argumentError(2, "interval is empty");
        return Math.floor(fraction * (upper - lower + 1)) + lower;
      }
      default:
        throw luaError("wrong number of arguments");
    }
  });
  define("randomseed", function randomseed(seed: LuaValue): LuaResult {
    random.seed(checkInteger(seed, 1, arguments.length));
    return EMPTY;
  });
  library.set("pi", Math.PI);
  library.set("huge", Infinity);
  globals.set("math", library);
  return library;
}
