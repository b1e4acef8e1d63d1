/**
 * Argument parsing shared by every command: Redis's number rules and a cursor
 * over a command's options.
 *
 * Redis parses integers with `string2ll` (no blanks, no '+', no leading
 * zeros, 64-bit range) and doubles with `strtod` plus its own checks; using
 * one implementation everywhere keeps the error replies identical across
 * commands. Option parsing goes through `ArgumentCursor` (after mini-redis's
 * `Parse`) rather than hand-indexing `args[i]` in every handler.
 *
 * @module
 */

import { parseDouble } from "../protocol/doubles.ts";
import { CommandError, NOT_FLOAT, NOT_INTEGER, SYNTAX_ERROR } from "./errors.ts";

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/**
 * Parses a 64-bit signed integer like Redis's string2ll. Returns undefined
 * when invalid or out of range. Values beyond 2^53 are returned rounded;
 * callers that must be exact there (INCR) use `parseInt64`.
 */
export function parseInteger(text: string): number | undefined {
  const length = text.length;
  if (length === 0 || length > 20) return undefined;
  let i = 0;
  const negative = text.charCodeAt(0) === 45;
  if (negative) {
    if (length === 1) return undefined;
    i = 1;
  }
  const first = text.charCodeAt(i);
  if (first === 48) return length === 1 ? 0 : undefined;
  if (first < 49 || first > 57) return undefined;
  let value = 0;
  for (; i < length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  if (value > Number.MAX_SAFE_INTEGER) {
    const exact = BigInt(text);
    if (exact > INT64_MAX || exact < INT64_MIN) return undefined;
    // Digit-by-digit accumulation rounds more than once; Number() rounds once.
    return Number(text);
  }
  return negative ? -value : value;
}

/** Exact 64-bit parse, for arithmetic on stored counters. */
export function parseInt64(text: string): bigint | undefined {
  const approximate = parseInteger(text);
  if (approximate === undefined) return undefined;
  return Number.isSafeInteger(approximate) ? BigInt(approximate) : BigInt(text);
}

/** Whether a bigint fits Redis's long long. */
export function fitsInt64(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX;
}

/** parseInteger, throwing `error` (default: not an integer) when invalid. */
export function requireInteger(text: string, error = NOT_INTEGER): number {
  const value = parseInteger(text);
  if (value === undefined) throw new CommandError(error);
  return value;
}

/** parseDouble, throwing `error` (default: not a valid float) when invalid. */
export function requireDouble(text: string, error = NOT_FLOAT): number {
  const value = parseDouble(text);
  if (value === undefined) throw new CommandError(error);
  return value;
}

/**
 * A cursor over a command's arguments, for every handler that parses more
 * than fixed positions: keys, numbers and option keywords are taken in
 * order, each with Redis's error when it is missing or malformed, and
 * `finish()` refuses anything left over. Fixed positions of a command
 * whose arity the dispatcher checked (`GET key`) may still be read as
 * `args[1]!`; the cursor is the one way options are parsed.
 *
 * @example ZADD's options, then its score/member pairs
 * ```ts
 * const cursor = new ArgumentCursor(args);
 * const key = cursor.key();
 * const options = cursor.flags(["NX", "XX", "GT", "LT", "CH", "INCR"]);
 * while (cursor.hasMore()) pairs.push([cursor.double(), cursor.next()]);
 * ```
 */
export class ArgumentCursor {
  #position: number;

  /** Starts at `args[start]` (default 1, the first argument after the name). */
  constructor(readonly args: readonly string[], start = 1) {
    this.#position = start;
  }

  /** Index of the next argument in `args`. */
  get position(): number {
    return this.#position;
  }

  /** How many arguments are left. */
  get remaining(): number {
    return this.args.length - this.#position;
  }

  hasMore(): boolean {
    return this.#position < this.args.length;
  }

  /** The next argument, or a syntax error (or `error`) if there is none. */
  next(error = SYNTAX_ERROR): string {
    const value = this.args[this.#position];
    if (value === undefined) throw new CommandError(error);
    this.#position++;
    return value;
  }

  /** The next argument, a key name (same as `next`, named for the reader). */
  key(): string {
    return this.next();
  }

  /** The next argument upper-cased, for matching option keywords. */
  keyword(): string {
    return this.next().toUpperCase();
  }

  /** The next argument upper-cased without consuming it, or undefined at the end. */
  peekKeyword(): string | undefined {
    return this.args[this.#position]?.toUpperCase();
  }

  /** Consumes the next argument if it is one of `keywords` (any case) and returns it upper-cased. */
  accept<const K extends string>(...keywords: readonly K[]): K | undefined {
    const next = this.peekKeyword();
    if (next === undefined || !(keywords as readonly string[]).includes(next)) return undefined;
    this.#position++;
    return next as K;
  }

  /** The next argument as a 64-bit integer, failing with `error` (default: not an integer). */
  integer(error = NOT_INTEGER): number {
    return requireInteger(this.next(), error);
  }

  /** The next argument as a double, failing with `error` (default: not a valid float). */
  double(error = NOT_FLOAT): number {
    return requireDouble(this.next(), error);
  }

  /**
   * Consumes the option flags at the cursor, in any order and any case, up
   * to the first argument that is none of `names`, and says which were
   * seen (repeats allowed, as Redis's ZADD and EXPIRE parsers allow them).
   */
  flags<const K extends string>(names: readonly K[]): Record<K, boolean> {
    const seen = Object.fromEntries(names.map((name) => [name, false])) as Record<K, boolean>;
    for (let flag = this.accept(...names); flag !== undefined; flag = this.accept(...names)) {
      seen[flag] = true;
    }
    return seen;
  }

  /** Every argument left (consumed). */
  rest(): string[] {
    const rest = this.args.slice(this.#position);
    this.#position = this.args.length;
    return rest;
  }

  /** Fails with a syntax error (or `error`) if arguments are left over. */
  finish(error = SYNTAX_ERROR): void {
    if (this.hasMore()) throw new CommandError(error);
  }
}
