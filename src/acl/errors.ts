/**
 * The ACL engine's error texts, word for word as Redis 7.0 prints them, in
 * one place: why a rule was refused (acl.c's ACLSetUserStringError), why a
 * request was denied (NOPERM replies, ACL DRYRUN, EXEC), and the ACL and
 * AUTH command errors.
 *
 * A refused rule is an `AclRuleError` whose `kind` names Redis's errno
 * (ENOENT, EINVAL, ...) because callers treat kinds differently: loading an
 * ACL file reports every unknown command but only the first other error of
 * a line, and config-file `user` lines tolerate unknown commands until
 * start-up applies them.
 *
 * @module
 */

/** Why a rule was refused; each kind is one of Redis's errno values. */
export type AclRuleErrorKind =
  /** ENOENT: no such command, subcommand or category. */
  | "unknown-name"
  /** EINVAL */
  | "syntax"
  /** EEXIST: a key pattern after `~*`/`allkeys`. */
  | "key-after-all"
  /** EISDIR: a channel pattern after `&*`/`allchannels`. */
  | "channel-after-all"
  /** ENODEV: `<pass` or `!hash` naming no password of the user. */
  | "no-such-password"
  /** EBADMSG: `#hash` or `!hash` that is not 64 lower-case hex digits. */
  | "bad-hash"
  /** EALREADY: a config file defines the user twice. */
  | "duplicate-user"
  /** ECHILD: `+container|sub|arg`. */
  | "subcommand-first-arg";

const RULE_MESSAGES: Record<AclRuleErrorKind, string> = {
  "unknown-name": "Unknown command or category name in ACL",
  "syntax": "Syntax error",
  "key-after-all":
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
  "channel-after-all":
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
  "no-such-password": "The password you are trying to remove from the user does not exist",
  "bad-hash":
    "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
  "duplicate-user": "Duplicate user found. A user can only be defined once in config files",
  "subcommand-first-arg": "Allowing first-arg of a subcommand is not supported",
};

/** A rule that could not be applied; `message` is Redis's text for its kind. */
export class AclRuleError extends Error {
  constructor(readonly kind: AclRuleErrorKind) {
    super(RULE_MESSAGES[kind]);
    this.name = "AclRuleError";
  }
}

/** ACL SETUSER's reply to a refused rule. */
export function setUserRuleError(rule: string, error: AclRuleError): string {
  return `ERR Error in ACL SETUSER modifier '${rule}': ${error.message}`;
}

/** ACL SETUSER's reply to a selector whose `(` is never closed. */
export function unmatchedParenthesis(argument: string): string {
  return `ERR Unmatched parenthesis in acl selector starting at '${argument}'.`;
}

/** ACL SETUSER with a name holding blanks or NULs. */
export const USERNAME_HAS_SPACES = "ERR Usernames can't contain spaces or null characters";
/** ACL DELUSER naming `default`. */
export const DEFAULT_USER_NOT_REMOVABLE = "ERR The 'default' user cannot be removed";
/** ACL LOAD or SAVE without an `aclfile`. */
export const NO_ACL_FILE =
  "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";
/** ACL SAVE that could not write the file (the log says why). */
export const ACL_SAVE_FAILED =
  "ERR There was an error trying to save the ACLs. Please check the server logs for more information";
/** ACL GENPASS with a bit count outside 1..4096. */
export const GENPASS_RANGE =
  "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096";

/** ACL CAT with a name that is not a category. */
export function unknownCategory(name: string): string {
  return `ERR Unknown category '${name.slice(0, 128)}'`;
}

/** ACL DRYRUN for a user that does not exist. */
export function dryRunUnknownUser(name: string): string {
  return `ERR User '${name}' not found`;
}

/** ACL DRYRUN of a command (or subcommand) that does not exist. */
export function dryRunUnknownCommand(name: string): string {
  return `ERR Command '${name}' not found`;
}

/** Redis's reply to a subcommand given the wrong number of arguments inside its handler. */
export function subcommandSyntaxError(subcommand: string, container: string): string {
  return `ERR unknown subcommand or wrong number of arguments for '${
    subcommand.slice(0, 128)
  }'. Try ${container.toUpperCase()} HELP.`;
}

/** AUTH and HELLO AUTH that did not authenticate. */
export const WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled.";
/** `AUTH <password>` while the default user needs no password. */
export const AUTH_WITHOUT_PASSWORD =
  "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
/** processCommand's reply to an unauthenticated client (authRequired). */
export const NOAUTH = "NOAUTH Authentication required.";
/** HELLO from an unauthenticated client without an AUTH option. */
export const HELLO_NOAUTH =
  "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time";

/** Why a request was denied. */
export type AclDenialReason = "command" | "key" | "channel";

/** The NOPERM reply to a request refused before running (processCommand). */
export function noPermission(reason: AclDenialReason, commandName: string): string {
  switch (reason) {
    case "command":
      return `NOPERM this user has no permissions to run the '${commandName}' command`;
    case "key":
      return "NOPERM this user has no permissions to access one of the keys used as arguments";
    case "channel":
      return "NOPERM this user has no permissions to access one of the channels used as arguments";
  }
}

/** ACL DRYRUN's answer for a denied request; `object` is the key or channel. */
export function dryRunDenial(reason: AclDenialReason, commandName: string, object: string): string {
  switch (reason) {
    case "command":
      return `This user has no permissions to run the '${commandName}' command`;
    case "key":
      return `This user has no permissions to access the '${object}' key`;
    case "channel":
      return `This user has no permissions to access the '${object}' channel`;
  }
}

const EXEC_REASONS: Record<AclDenialReason, string> = {
  command: "no permission to execute the command or subcommand",
  key: "no permission to touch the specified keys",
  channel: "no permission to access one of the channels used as arguments",
};

/** EXEC's reply for a queued command the user may no longer run. */
export function noPermissionAtExec(reason: AclDenialReason): string {
  return `NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: ${
    EXEC_REASONS[reason]
  }`;
}
