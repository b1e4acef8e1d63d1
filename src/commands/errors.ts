/**
 * Redis's error replies, word for word, in one place.
 *
 * Handlers throw a `CommandError` carrying one of these texts and the
 * executor turns it into an error reply; no handler spells an error text of
 * its own, so every family says the same thing in the same words, and a
 * text Redis shares between commands (`ERR value is not an integer or out
 * of range`) is shared here too. Texts that quote a value are small
 * functions. The shared texts come first, then each family's, in the order
 * of the families.
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

/** Redis prints at most this many bytes of a user-supplied name in errors. */
const NAME_LIMIT = 128;

// ---------------------------------------------------------------------------
// Shared by several families

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
/** INCRBYFLOAT and HINCRBYFLOAT when the result is not finite. */
export const RESULT_NOT_FINITE = "ERR increment would produce NaN or Infinity";
/** The count of SRANDMEMBER/HRANDFIELD/ZRANDMEMBER, read as a long in -LONG_MAX..LONG_MAX. */
export const RANDOM_COUNT_RANGE =
  "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
/**
 * Ours, not Redis's: a random-member command with a huge negative count would
 * build a reply larger than memory (Redis 7.0 dies of it); we refuse instead.
 */
export const RANDOM_REPLY_TOO_LARGE = "ERR value is out of range, the reply would be too large";

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

/** Redis's addReplySubcommandSyntaxError: a known subcommand with the wrong arguments. */
export function subcommandSyntaxError(subcommand: string, container: string): string {
  return `ERR unknown subcommand or wrong number of arguments for '${
    subcommand.slice(0, NAME_LIMIT)
  }'. Try ${container.toUpperCase()} HELP.`;
}

// ---------------------------------------------------------------------------
// Connection: HELLO, CLIENT

export const CLIENT_NAME_INVALID =
  "ERR Client names cannot contain spaces, newlines or special characters.";
export const PROTOCOL_VERSION_NOT_INTEGER =
  "ERR Protocol version is not an integer or out of range";
export const UNSUPPORTED_PROTOCOL = "NOPROTO unsupported protocol version";
export const INVALID_CLIENT_ID = "ERR Invalid client ID";
export const NO_SUCH_CLIENT = "ERR No such client";
export const CLIENT_ID_NOT_POSITIVE = "ERR client-id should be greater than 0";

export function helloSyntaxError(option: string): string {
  return `ERR Syntax error in HELLO option '${option}'`;
}

export function unknownClientType(type: string): string {
  return `ERR Unknown client type '${type}'`;
}

/** CLIENT SETINFO with a value that is not printable ASCII without spaces. */
export function clientInfoInvalid(attribute: string): string {
  return `ERR ${attribute} cannot contain spaces, newlines or special characters.`;
}

export function unrecognizedOption(option: string): string {
  return `ERR Unrecognized option '${option}'`;
}

// ---------------------------------------------------------------------------
// Server: SWAPDB, CONFIG, COMMAND, SHUTDOWN

export const INVALID_FIRST_DB_INDEX = "ERR invalid first DB index";
export const INVALID_SECOND_DB_INDEX = "ERR invalid second DB index";
export const NO_CONFIG_FILE = "ERR The server is running without a config file";
export const INVALID_COMMAND_SPECIFIED = "ERR Invalid command specified";
export const NO_KEY_ARGUMENTS = "ERR The command has no key arguments";
export const INVALID_ARGUMENT_COUNT = "ERR Invalid number of arguments specified for command";
export const INVALID_COMMAND_ARGUMENTS = "ERR Invalid arguments specified for command";
export const NO_SHUTDOWN_IN_PROGRESS = "ERR No shutdown in progress.";
export const SHUTDOWN_FAILED = "ERR Errors trying to SHUTDOWN. Check logs.";

export function unknownConfigOption(name: string): string {
  return `ERR Unknown option or number of arguments for CONFIG SET - '${name}'`;
}

/** CONFIG SET refusing `name`: `problem` says why (`can't set immutable config`, ...). */
export function configSetFailed(name: string, problem: string): string {
  return `ERR CONFIG SET failed (possibly related to argument '${name}') - ${problem}`;
}

// ---------------------------------------------------------------------------
// Persistence: SAVE, BGSAVE, BGREWRITEAOF

export const REWRITE_IN_PROGRESS = "ERR Background append only file rewriting already in progress";
export const SAVE_IN_PROGRESS = "ERR Background save already in progress";
export const REWRITE_FAILED =
  "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.";
/** SAVE failing: Redis says nothing more. */
export const SAVE_FAILED = "ERR";

// ---------------------------------------------------------------------------
// Strings

export const DECREMENT_OVERFLOW = "ERR decrement would overflow";
export const OFFSET_OUT_OF_RANGE = "ERR offset is out of range";
export const LCS_WRONG_TYPE = "ERR The specified keys must contain string values";
export const LCS_LEN_AND_IDX = "ERR If you want both the length and indexes, please just use IDX.";
export const LCS_TOO_MUCH_MEMORY =
  "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";

// ---------------------------------------------------------------------------
// Bitmaps

export const BIT_OFFSET_INVALID = "ERR bit offset is not an integer or out of range";
export const BIT_VALUE_INVALID = "ERR bit is not an integer or out of range";
export const BIT_ARGUMENT_INVALID = "ERR The bit argument must be 1 or 0.";
export const BITOP_NOT_SINGLE_SOURCE = "ERR BITOP NOT must be called with a single source key.";
export const BITFIELD_TYPE_INVALID =
  "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
export const BITFIELD_OVERFLOW_INVALID = "ERR Invalid OVERFLOW type specified";
export const BITFIELD_READ_ONLY = "ERR BITFIELD_RO only supports the GET subcommand";

// ---------------------------------------------------------------------------
// Keys: COPY, MOVE, OBJECT

/** Redis reads database indexes as C ints: a valid long outside that range gets this. */
export const DB_INDEX_NOT_INT =
  "ERR value is out of range, value must between -2147483648 and 2147483647";
export const SAME_OBJECT = "ERR source and destination objects are the same";
export const LFU_NOT_SELECTED =
  "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

// ---------------------------------------------------------------------------
// Expiry: EXPIRE and friends

export const NX_WITH_XX_GT_LT =
  "ERR NX and XX, GT or LT options at the same time are not compatible";
export const GT_WITH_LT = "ERR GT and LT options at the same time are not compatible";

export function unsupportedOption(option: string): string {
  return `ERR Unsupported option ${option}`;
}

// ---------------------------------------------------------------------------
// Hashes

export const HASH_VALUE_NOT_INTEGER = "ERR hash value is not an integer";
export const HASH_VALUE_NOT_FLOAT = "ERR hash value is not a float";
export const INCREMENT_NOT_FINITE = "ERR value is NaN or Infinity";

// ---------------------------------------------------------------------------
// Lists

export const COUNT_NEGATIVE = "ERR COUNT can't be negative";
export const MAXLEN_NEGATIVE = "ERR MAXLEN can't be negative";
export const RANK_ZERO =
  "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";

// ---------------------------------------------------------------------------
// Sorted sets

export const XX_AND_NX = "ERR XX and NX options at the same time are not compatible";
export const GT_LT_AND_NX = "ERR GT, LT, and/or NX options at the same time are not compatible";
export const INCR_SINGLE_PAIR = "ERR INCR option supports a single increment-element pair";
export const SCORE_IS_NAN = "ERR resulting score is not a number (NaN)";
export const LEX_RANGE_INVALID = "ERR min or max not valid string range item";
export const LIMIT_WITHOUT_BY =
  "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
export const WITHSCORES_WITH_BYLEX =
  "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
export const WEIGHT_NOT_FLOAT = "ERR weight value is not a float";

/** ZUNION, ZINTER, ZDIFF (and STORE forms), ZINTERCARD with numkeys below 1. */
export function noInputKeys(commandName: string): string {
  return `ERR at least 1 input key is needed for '${commandName}' command`;
}

// ---------------------------------------------------------------------------
// SCAN and the collection scans

export const INVALID_CURSOR = "ERR invalid cursor";

// ---------------------------------------------------------------------------
// Transactions

export const EXEC_WITHOUT_MULTI = "ERR EXEC without MULTI";
export const DISCARD_WITHOUT_MULTI = "ERR DISCARD without MULTI";
export const NESTED_MULTI = "ERR MULTI calls can not be nested";
export const WATCH_INSIDE_MULTI = "ERR WATCH inside MULTI is not allowed";
export const EXEC_ABORTED = "EXECABORT Transaction discarded because of previous errors.";

/** EXEC refused before it ran (execCommandAbort): `error` without its `ERR ` code. */
export function execAborted(error: string): string {
  return `EXECABORT Transaction discarded because of: ${error.replace(/^ERR /, "")}`;
}

// ---------------------------------------------------------------------------
// Dispatcher and executor

export const NOT_IN_TRANSACTION = "ERR Command not allowed inside a transaction";

/** A RESP2 client in subscribed mode sent a command other than (un)subscribing, PING, QUIT, RESET. */
export function subscribedContextError(commandName: string): string {
  return `ERR Can't execute '${commandName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`;
}

/** A handler failed with something other than a CommandError (a bug): logged, and this reply. */
export function internalError(commandName: string): string {
  return `ERR internal error running '${commandName}'`;
}
