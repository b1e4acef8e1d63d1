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
export const INVALID_COMMAND_SPECIFIED = "ERR Invalid command specified";
export const NO_KEY_ARGUMENTS = "ERR The command has no key arguments";
export const INVALID_ARGUMENT_COUNT = "ERR Invalid number of arguments specified for command";
export const INVALID_COMMAND_ARGUMENTS = "ERR Invalid arguments specified for command";
export const NO_SHUTDOWN_IN_PROGRESS = "ERR No shutdown in progress.";
export const SHUTDOWN_FAILED = "ERR Errors trying to SHUTDOWN. Check logs.";

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
/** A command without the `loading` flag while the data loads at start-up. */
export const LOADING = "LOADING Redis is loading the dataset in memory";

/** A RESP2 client in subscribed mode sent a command other than (un)subscribing, PING, QUIT, RESET. */
export function subscribedContextError(commandName: string): string {
  return `ERR Can't execute '${commandName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`;
}

/** A handler failed with something other than a CommandError (a bug): logged, and this reply. */
export function internalError(commandName: string): string {
  return `ERR internal error running '${commandName}'`;
}

// ---------------------------------------------------------------------------
// SORT and SORT_RO

export const SORT_SCORE_NOT_DOUBLE = "ERR One or more scores can't be converted into double";
export const SORT_BY_DENIED = "ERR BY option of SORT denied due to insufficient ACL permissions.";
export const SORT_GET_DENIED = "ERR GET option of SORT denied due to insufficient ACL permissions.";

// ---------------------------------------------------------------------------
// HyperLogLog: the texts live with the HLL format (store/hyperloglog.ts)

export {
  CORRUPTED_HYPERLOGLOG_ERROR as CORRUPTED_HYPERLOGLOG,
  HLL_NOT_SPARSE_ERROR as HLL_NOT_SPARSE,
  NOT_A_HYPERLOGLOG_ERROR as NOT_A_HYPERLOGLOG,
  PFDEBUG_NO_SUCH_KEY_ERROR as PFDEBUG_NO_SUCH_KEY,
  unknownPfdebugSubcommand,
} from "../store/hyperloglog.ts";

// ---------------------------------------------------------------------------
// Geo: argument errors live with the geo core (store/geo.ts)

export {
  ANY_WITHOUT_COUNT_ERROR as ANY_WITHOUT_COUNT,
  COUNT_NOT_POSITIVE_ERROR as GEO_COUNT_NOT_POSITIVE,
  MEMBER_NOT_FOUND_ERROR as GEO_MEMBER_NOT_FOUND,
  NEED_NUMERIC_HEIGHT_ERROR as NEED_NUMERIC_HEIGHT,
  NEED_NUMERIC_RADIUS_ERROR as NEED_NUMERIC_RADIUS,
  NEED_NUMERIC_WIDTH_ERROR as NEED_NUMERIC_WIDTH,
  NEGATIVE_BOX_ERROR as NEGATIVE_BOX,
  NEGATIVE_RADIUS_ERROR as NEGATIVE_RADIUS,
  UNSUPPORTED_UNIT_ERROR as UNSUPPORTED_UNIT,
} from "../store/geo.ts";

/** GEOSEARCHSTORE, or GEORADIUS with STORE, asked for WITHDIST, WITHHASH or WITHCOORD. */
export function storeWithReplyOptions(searchStore: boolean): string {
  return `ERR ${
    searchStore ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS"
  } is not compatible with WITHDIST, WITHHASH and WITHCOORD options`;
}

/** GEOSEARCH without a centre; `commandName` as the client spelled it. */
export function geoSearchNeedsCentre(commandName: string): string {
  return `ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${commandName}`;
}

/** GEOSEARCH without a shape; `commandName` as the client spelled it. */
export function geoSearchNeedsShape(commandName: string): string {
  return `ERR exactly one of BYRADIUS and BYBOX can be specified for ${commandName}`;
}

// ---------------------------------------------------------------------------
// RDB persistence and migration: BGSAVE, MISCONF, DUMP, RESTORE, MIGRATE

/** Writes refused after a failed save (stop-writes-on-bgsave-error). */
export const RDB_WRITE_DENIED =
  "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";
export const BGSAVE_BLOCKED_BY_REWRITE =
  "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.";
/** BGSAVE failing to start: Redis says nothing more. */
export const BGSAVE_FAILED = "ERR";
export const BUSY_KEY = "BUSYKEY Target key name already exists.";
export const INVALID_TTL = "ERR Invalid TTL value, must be >= 0";
export const INVALID_IDLETIME = "ERR Invalid IDLETIME value, must be >= 0";
export const INVALID_FREQ = "ERR Invalid FREQ value, must be >= 0 and <= 255";
export const DUMP_PAYLOAD_INVALID = "ERR DUMP payload version or checksum are wrong";
export const BAD_DATA_FORMAT = "ERR Bad data format";
export const MIGRATE_KEYS_NEEDS_EMPTY_KEY =
  "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string";
export const MIGRATE_CONNECT_FAILED = "IOERR error or timeout connecting to the client";
/**
 * Ours: MIGRATE waits for the network, which a command inside MULTI/EXEC
 * (or a script) cannot do here without stopping every other client.
 */
export const MIGRATE_NOT_IN_TRANSACTION =
  "ERR MIGRATE is not supported inside MULTI/EXEC or scripts by this server";

/** Writes refused while the AOF cannot be written. */
export function aofWriteDenied(reason: string): string {
  return `MISCONF Errors writing to the AOF file: ${reason}`;
}

/** MIGRATE: the target answered one of its commands with an error. */
export function migrateTargetError(error: string): string {
  return `ERR Target instance replied with error: ${error}`;
}

/** MIGRATE: the connection failed or timed out while `what` ("writing" or "reading"). */
export function migrateIoError(what: "writing" | "reading"): string {
  return `IOERR error or timeout ${what} to target instance`;
}

// ---------------------------------------------------------------------------
// Streams

export const STREAM_ID_INVALID = "ERR Invalid stream ID specified as stream command argument";
export const XADD_ID_ZERO = "ERR The ID specified in XADD must be greater than 0-0";
export const XADD_ID_TOO_SMALL =
  "ERR The ID specified in XADD is equal or smaller than the target stream top item";
export const STREAM_EXHAUSTED =
  "ERR The stream has exhausted the last possible ID, unable to add more items";
export const MAXLEN_AND_MINID =
  "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
export const STREAM_MAXLEN_NEGATIVE = "ERR The MAXLEN argument must be >= 0.";
export const STREAM_LIMIT_NEGATIVE = "ERR The LIMIT argument must be >= 0.";
export const LIMIT_WITHOUT_STRATEGY =
  "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy";
export const XTRIM_WITHOUT_STRATEGY =
  "ERR syntax error, XTRIM must be called with a trimming strategy";
export const LIMIT_WITHOUT_APPROXIMATION =
  "ERR syntax error, LIMIT cannot be used without the special ~ option";
export const INVALID_START_ID = "ERR invalid start ID for the interval";
export const INVALID_END_ID = "ERR invalid end ID for the interval";
export const STREAM_TIMEOUT_NOT_INTEGER = "ERR timeout is not an integer or out of range";
export const XREAD_UNBALANCED =
  "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.";
export const GROUP_ONLY_IN_XREADGROUP =
  "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.";
export const NOACK_ONLY_IN_XREADGROUP =
  "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.";
export const XREADGROUP_WITHOUT_GROUP = "ERR Missing GROUP option for XREADGROUP";
export const DOLLAR_IN_XREADGROUP =
  "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.";
export const GREATER_THAN_OUTSIDE_GROUP =
  "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.";
/** A client blocked in XREADGROUP whose group was destroyed meanwhile. */
export const BLOCKED_GROUP_DESTROYED =
  "NOGROUP the consumer group this client was blocked on no longer exists";
/** A client blocked in XREADGROUP whose stream was deleted (or replaced by another type). */
export const BLOCKED_STREAM_DELETED = "UNBLOCKED the stream key no longer exists";
export const XGROUP_KEY_MISSING =
  "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";
export const BUSY_GROUP = "BUSYGROUP Consumer Group name already exists";
export const ENTRIES_READ_INVALID = "ERR value for ENTRIESREAD must be positive or -1";
export const ENTRIES_ADDED_NEGATIVE = "ERR entries_added must be positive";
export const XSETID_BELOW_GIVEN_MAX_DELETED =
  "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id";
export const XSETID_BELOW_TOP_ITEM =
  "ERR The ID specified in XSETID is smaller than the target stream top item";
export const XSETID_ENTRIES_ADDED_TOO_SMALL =
  "ERR The entries_added specified in XSETID is smaller than the target stream length";
export const XAUTOCLAIM_COUNT_INVALID = "ERR COUNT must be > 0";
/** XAUTOCLAIM whose COUNT sized a buffer malloc refused. */
export const XAUTOCLAIM_COUNT_TOO_HIGH =
  "ERR Insufficient memory, failed allocating transient memory, COUNT too high.";

/** XCLAIM/XAUTOCLAIM's min-idle-time, XCLAIM's IDLE/TIME/RETRYCOUNT values. */
export function invalidStreamArgument(what: string, commandName: string): string {
  return `ERR Invalid ${what} argument for ${commandName}`;
}

export function unrecognizedXclaimOption(option: string): string {
  return `ERR Unrecognized XCLAIM option '${option}'`;
}

/** XREADGROUP naming a key or group that does not exist. */
export function noGroupForRead(key: string, group: string): string {
  return `NOGROUP No such key '${key}' or consumer group '${group}' in XREADGROUP with GROUP option`;
}

/** XPENDING, XCLAIM and XAUTOCLAIM naming a key or group that does not exist. */
export function noSuchKeyOrGroup(key: string, group: string): string {
  return `NOGROUP No such key '${key}' or consumer group '${group}'`;
}

/** XGROUP and XINFO CONSUMERS naming a group the stream does not have. */
export function noSuchGroup(group: string, key: string): string {
  return `NOGROUP No such consumer group '${group}' for key name '${key}'`;
}

// ---------------------------------------------------------------------------
// Scripting and functions: EVAL, SCRIPT, FUNCTION, FCALL, and redis.call

export const NO_SCRIPT = "NOSCRIPT No matching script. Please use EVAL.";
export const NUMKEYS_NEGATIVE = "ERR Number of keys can't be negative";
export const BAD_NUMBER_OF_KEYS = "ERR Bad number of keys provided";
export const FUNCTION_NOT_FOUND = "ERR Function not found";
export const SCRIPT_WRITE_FLAG_WITH_RO_COMMAND =
  "ERR Can not execute a script with write flag using *_ro command.";
export const BUSY_SCRIPT =
  "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
export const BUSY_FUNCTION =
  "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
export const NOT_BUSY = "NOTBUSY No scripts in execution right now.";
export const UNKILLABLE =
  "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
export const SCRIPT_FLUSH_OPTION = "ERR SCRIPT FLUSH only support SYNC|ASYNC option";
export const SCRIPT_DEBUG_OPTION = "ERR Use SCRIPT DEBUG YES/SYNC/NO";
export const FUNCTION_FLUSH_OPTION = "ERR FUNCTION FLUSH only supports SYNC|ASYNC option";
export const FUNCTION_CODE_MISSING = "ERR Function code is missing";
export const LIBRARY_NAME_MISSING = "ERR library name argument was not given";
export const LIBRARY_NOT_FOUND = "ERR Library not found";
export const RESTORE_POLICY_INVALID =
  "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.";

/** Inside a script: the texts of the error tables redis.call raises (ERR is added). */
export const SCRIPT_UNKNOWN_COMMAND = "Unknown Redis command called from script";
export const SCRIPT_WRONG_ARITY = "Wrong number of args calling Redis command from script";
export const SCRIPT_COMMAND_NOT_ALLOWED = "This Redis command is not allowed from script";
export const SCRIPT_WRITE_IN_READ_ONLY = "Write commands are not allowed from read-only scripts.";
export const SCRIPT_KILLED = "Script killed by user with SCRIPT KILL...";

/** A script's command refused by ACL (scriptVerifyACL); ERR is added. */
export function scriptAclDenied(reason: "command" | "key" | "channel"): string {
  switch (reason) {
    case "command":
      return "The user executing the script can't run this command or subcommand";
    case "key":
      return "The user executing the script can't access at least one of the keys mentioned in the command arguments";
    case "channel":
      return "The user executing the script can't publish to the channel mentioned in the command";
  }
}

/** A script that may write, started while the disk fails (scriptPrepareForRun). */
export function writableScriptsBlocked(writeError: string): string {
  const aof = "MISCONF Errors writing to the AOF file: ";
  if (!writeError.startsWith(aof)) {
    return "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts.";
  }
  return `MISCONF Redis is configured to persist data to AOF, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts. AOF error: ${
    writeError.slice(aof.length)
  }`;
}

export function functionLoadOption(option: string): string {
  return `ERR Unknown option given: ${option}`;
}

export function functionListArgument(argument: string): string {
  return `ERR Unknown argument ${argument}`;
}

// ---------------------------------------------------------------------------
// Operating the server: CLIENT (PAUSE, UNBLOCK, TRACKING, CACHING, KILL),
// MONITOR, WAIT, SLOWLOG, LATENCY, MEMORY, DEBUG

export const TIMEOUT_NOT_INTEGER = "ERR timeout is not an integer or out of range";
export const TIMEOUT_OUT_OF_RANGE = "ERR timeout is out of range";
export const PAUSE_MODE_INVALID = "ERR CLIENT PAUSE mode must be WRITE or ALL";
export const UNBLOCK_REASON_INVALID = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR";
/** What a client blocked in BLPOP and friends gets from CLIENT UNBLOCK ... ERROR. */
export const UNBLOCKED = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
export const CACHING_WITHOUT_TRACKING =
  "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled";
export const CACHING_YES_WITHOUT_OPTIN =
  "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.";
export const CACHING_NO_WITHOUT_OPTOUT =
  "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.";
export const REDIRECT_TARGET_MISSING = "ERR The client ID you want redirect to does not exist";
export const REDIRECT_TWICE = "ERR A client can only redirect to a single other client";
export const PREFIX_WITHOUT_BCAST = "ERR PREFIX option requires BCAST mode to be enabled";
export const BCAST_SWITCH =
  "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.";
export const OPTIN_OPTOUT_WITH_BCAST = "ERR OPTIN and OPTOUT are not compatible with BCAST";
export const OPTIN_AND_OPTOUT = "ERR You can't specify both OPTIN mode and OPTOUT mode";
export const OPTIN_OPTOUT_SWITCH =
  "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.";
export const MONITOR_DENIED = "ERR MONITOR isn't allowed for DENY BLOCKING client";
export const SLOWLOG_COUNT_RANGE = "ERR count should be greater than or equal to -1";
/** DEBUG RELOAD with an option it does not know. */
export const RELOAD_OPTIONS =
  "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.";
export const DEBUG_NOT_ALLOWED =
  'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.';

/** CLIENT TRACKING ... BCAST PREFIX overlapping one the client already has. */
export function prefixOverlapsExisting(prefix: string, existing: string): string {
  return `ERR Prefix '${prefix}' overlaps with an existing prefix '${existing}'. Prefixes for a single client must not overlap.`;
}

/** CLIENT TRACKING ... BCAST with two overlapping PREFIX arguments. */
export function prefixOverlapsProvided(prefix: string, other: string): string {
  return `ERR Prefix '${prefix}' overlaps with another provided prefix '${other}'. Prefixes for a single client must not overlap.`;
}

/** CLIENT KILL USER naming no user. */
export function noSuchUser(name: string): string {
  return `ERR No such user '${name}'`;
}

/** LATENCY GRAPH of an event without samples. */
export function noLatencySamples(event: string): string {
  return `ERR No samples available for event '${event}'`;
}

// ---------------------------------------------------------------------------
// maxmemory and eviction

/** A `denyoom` command (or anything inside MULTI) while memory stays over maxmemory. */
export const OUT_OF_MEMORY = "OOM command not allowed when used memory > 'maxmemory'.";
/** A script with flags but without `allow-oom` (or `no-writes`) started over maxmemory. */
export const SCRIPT_OUT_OF_MEMORY =
  "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'";
/** OBJECT IDLETIME under an LFU policy. */
export const LFU_SELECTED =
  "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

// ---------------------------------------------------------------------------
// Replication: REPLICAOF, SYNC/PSYNC, REPLCONF, FAILOVER, WAIT, and the
// dispatcher's checks for replicas and masters (see replication.ts)

export const READONLY_REPLICA = "READONLY You can't write against a read only replica.";
export const NO_GOOD_REPLICAS = "NOREPLICAS Not enough good replicas to write.";
export const MASTER_DOWN =
  "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
export const REPLICA_KEYSPACE = "ERR Replica can't interact with the keyspace";
export const NO_MASTER_LINK = "NOMASTERLINK Can't SYNC while not connected with my master";
export const SYNC_WHILE_FAILING_OVER = "NOMASTERLINK Can't SYNC while failing over";
export const SYNC_WITH_PENDING_OUTPUT = "ERR SYNC and PSYNC are invalid with pending output";
export const FAILOVER_REPLID_MISMATCH = "ERR PSYNC FAILOVER replid must match my replid.";
export const INVALID_MASTER_PORT = "ERR Invalid master port";
export const REPLICAOF_WHILE_FAILING_OVER = "ERR REPLICAOF not allowed while failing over.";
export const WAIT_ON_REPLICA =
  "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.";
export const FAILOVER_IN_PROGRESS = "ERR FAILOVER already in progress.";
export const FAILOVER_ON_REPLICA = "ERR FAILOVER is not valid when server is a replica.";
export const FAILOVER_NEEDS_REPLICAS = "ERR FAILOVER requires connected replicas.";
export const FAILOVER_FORCE_NEEDS_TARGET =
  "ERR FAILOVER with force option requires both a timeout and target HOST and IP.";
export const FAILOVER_TARGET_NOT_REPLICA = "ERR FAILOVER target HOST and PORT is not a replica.";
export const FAILOVER_TARGET_NOT_ONLINE = "ERR FAILOVER target replica is not online.";
export const FAILOVER_TIMEOUT_NOT_POSITIVE = "ERR FAILOVER timeout must be greater than 0";
export const NO_FAILOVER_IN_PROGRESS = "ERR No failover in progress.";
/** What clients blocked on keys get when the server turns into a replica. */
export const UNBLOCKED_ROLE_CHANGE =
  "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)";

/** REPLCONF with an option it does not know. */
export function unrecognizedReplconfOption(option: string): string {
  return `ERR Unrecognized REPLCONF option: ${option}`;
}
