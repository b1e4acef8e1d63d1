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
import { parseInteger } from "../protocol/integers.ts";
import { CommandError, NOT_FLOAT, NOT_INTEGER, SYNTAX_ERROR } from "./errors.ts";

export { fitsInt64, parseInt64, parseInteger } from "../protocol/integers.ts";

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
    // A loop rather than fromEntries and spread accepts: this runs on every ZADD.
    const seen = {} as Record<K, boolean>;
    for (let i = 0; i < names.length; i++) seen[names[i]!] = false;
    const args = this.args;
    while (this.#position < args.length) {
      const argument = args[this.#position]!;
      // Flags are words: a score or member starting with anything else ends them uncased.
      const first = argument.charCodeAt(0) | 0x20;
      if (first < 0x61 || first > 0x7a) break;
      const flag = argument.toUpperCase() as K;
      if (!names.includes(flag)) break;
      seen[flag] = true;
      this.#position++;
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
