/**
 * Redis's error replies, word for word, in one place.
 *
 * Handlers throw a `CommandError` (or use these constants) and the
 * dispatcher turns it into an error reply; no handler spells an error text
 * of its own, so every family says the same thing in the same words.
 *
 * @module
 */

import type { Command } from "./table.ts";

/** An error reply; `message` starts with its code (`ERR`, `WRONGTYPE`, ...). */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CommandError";
  }
}

/** A request naming no command (or subcommand) in the table. */
export class UnknownCommandError extends CommandError {
  constructor(message: string) {
    super(message);
    this.name = "UnknownCommandError";
  }
}

/** A request with the wrong number of arguments for `command`. */
export class ArityError extends CommandError {
  constructor(readonly command: Command) {
    super(wrongArity(command.name));
    this.name = "ArityError";
  }
}

export const SYNTAX_ERROR = "ERR syntax error";
export const WRONG_TYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
export const NOT_INTEGER = "ERR value is not an integer or out of range";
export const NOT_FLOAT = "ERR value is not a valid float";
export const OVERFLOW = "ERR increment or decrement would overflow";
export const NO_SUCH_KEY = "ERR no such key";
export const INDEX_OUT_OF_RANGE = "ERR index out of range";
export const DB_INDEX_OUT_OF_RANGE = "ERR DB index is out of range";
export const MIN_MAX_NOT_FLOAT = "ERR min or max is not a float";
export const TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range";
export const TIMEOUT_NEGATIVE = "ERR timeout is negative";
export const STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
export const NOT_POSITIVE = "ERR value is out of range, must be positive";

export const NUMKEYS_NOT_POSITIVE = "ERR numkeys should be greater than 0";
export const NUMKEYS_TOO_LARGE = "ERR Number of keys can't be greater than number of args";
export const LIMIT_NEGATIVE = "ERR LIMIT can't be negative";
export const COUNT_NOT_POSITIVE = "ERR count should be greater than 0";
export const VALUE_OUT_OF_RANGE = "ERR value is out of range";
/** The count of SRANDMEMBER/HRANDFIELD/ZRANDMEMBER, read as a long in -LONG_MAX..LONG_MAX. */
export const RANDOM_COUNT_RANGE =
  "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
/**
 * Ours, not Redis's: a random-member command with a huge negative count would
 * build a reply larger than memory (Redis 7.0 dies of it); we refuse instead.
 */
export const RANDOM_REPLY_TOO_LARGE = "ERR value is out of range, the reply would be too large";

/** Redis prints at most this many bytes of a user-supplied name in errors. */
const NAME_LIMIT = 128;

export function wrongArity(commandName: string): string {
  return `ERR wrong number of arguments for '${commandName}' command`;
}

export function invalidExpireTime(commandName: string): string {
  return `ERR invalid expire time in '${commandName}' command`;
}

/** The reply to an unknown command, quoting up to 128 bytes of its arguments. */
export function unknownCommand(name: string, args: readonly string[]): string {
  let quoted = "";
  for (let i = 1; i < args.length && quoted.length < NAME_LIMIT; i++) {
    quoted += `'${args[i]!.slice(0, NAME_LIMIT - quoted.length)}' `;
  }
  return `ERR unknown command '${name.slice(0, NAME_LIMIT)}', with args beginning with: ${quoted}`;
}

/** The reply to an unknown subcommand of a container command (CLIENT, CONFIG, ...). */
export function unknownSubcommand(subcommand: string, container: string): string {
  return `ERR unknown subcommand '${
    subcommand.slice(0, NAME_LIMIT)
  }'. Try ${container.toUpperCase()} HELP.`;
}
