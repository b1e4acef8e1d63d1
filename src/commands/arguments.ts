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

/** A cursor over a command's arguments, for commands with options. */
export class ArgumentCursor {
  #position: number;

  constructor(readonly args: readonly string[], start = 1) {
    this.#position = start;
  }

  get position(): number {
    return this.#position;
  }

  get remaining(): number {
    return this.args.length - this.#position;
  }

  hasMore(): boolean {
    return this.#position < this.args.length;
  }

  /** The next argument, or a syntax error if there is none. */
  next(): string {
    const value = this.args[this.#position];
    if (value === undefined) throw new CommandError(SYNTAX_ERROR);
    this.#position++;
    return value;
  }

  /** The next argument upper-cased, for matching option keywords. */
  nextKeyword(): string {
    return this.next().toUpperCase();
  }

  /** The next argument upper-cased without consuming it, or undefined. */
  peekKeyword(): string | undefined {
    return this.args[this.#position]?.toUpperCase();
  }

  nextInteger(error = NOT_INTEGER): number {
    return requireInteger(this.next(), error);
  }

  nextDouble(error = NOT_FLOAT): number {
    return requireDouble(this.next(), error);
  }

  /** Fails with a syntax error if arguments are left over. */
  finish(): void {
    if (this.hasMore()) throw new CommandError(SYNTAX_ERROR);
  }
}
