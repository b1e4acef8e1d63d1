/**
 * AccessControl: the ACL engine of one server — its users, the ACL log,
 * and the operations behind ACL SETUSER, DELUSER, LOAD, SAVE, AUTH,
 * `requirepass` and start-up (Redis's acl.c, without the command layer).
 *
 * Users live in a map and are listed sorted by name, as Redis's radix tree
 * lists them. The `default` user object exists for as long as the engine:
 * clients start authenticated as it, so ACL LOAD copies the loaded
 * definition into it instead of replacing it (as Redis does). Every other
 * change that must reach clients is returned to the caller, which owns the
 * clients: the users ACL DELUSER and ACL LOAD removed (their clients are to
 * be disconnected; on ACL LOAD that is every user but `default`, changed
 * or not, as in 7.0), and for ACL SETUSER the channel permissions a user
 * lost (its subscribers whose subscriptions are no longer allowed are to
 * be disconnected, ACLKillPubsubClientsIfNeeded).
 *
 * Failures are `AclError`s whose message is the complete error reply
 * (`ERR ...`), so the command layer passes them through unchanged.
 *
 * @module
 */

import type { AclCatalogue, AclCommand } from "./catalogue.ts";
import {
  ACL_SAVE_FAILED,
  AclRuleError,
  DEFAULT_USER_NOT_REMOVABLE,
  dryRunDenial,
  dryRunUnknownCommand,
  dryRunUnknownUser,
  NO_ACL_FILE,
  setUserRuleError,
  unmatchedParenthesis,
  USERNAME_HAS_SPACES,
} from "./errors.ts";
import {
  type AclFileSystem,
  formatAclFile,
  parseAclFile,
  SYSTEM_FILES,
  systemErrorText,
} from "./file.ts";
import { AclLog, type AclLogContext } from "./log.ts";
import { mergeSelectorArguments } from "./rules.ts";
import { channelAllowed } from "./selector.ts";
import { hasSpaces } from "./text.ts";
import { type AclDenial, type AclSettings, AclUser } from "./user.ts";

/** Where the engine reports what it did (the server's Logger fits). */
export interface AclLogger {
  warning(message: string): void;
  notice(message: string): void;
}

/** An ACL operation that failed; `message` is the whole error reply (`ERR ...`). */
export class AclError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AclError";
  }
}

/** `acl-pubsub-default`. */
export type PubsubDefault = "allchannels" | "resetchannels";

/** What an engine is built with. */
export interface AccessControlOptions {
  readonly catalogue: AclCatalogue;
  /** `acl-pubsub-default`; Redis 7.0's default is `resetchannels`. */
  readonly pubsubDefault?: PubsubDefault;
  /** `acllog-max-len`, 128 by default. */
  readonly logMaxLength?: number;
  /** `aclfile`; empty when none is configured. */
  readonly aclfile?: string;
  /** Where the ACL log takes the time (ms). */
  readonly clock?: () => number;
  readonly logger?: AclLogger;
  readonly files?: AclFileSystem;
}

/** Which subscriptions a user may still hold after losing channel permissions. */
export interface ChannelAllowance {
  /** A SUBSCRIBE (or SSUBSCRIBE) channel: matched against the channel patterns. */
  channel(name: string): boolean;
  /** A PSUBSCRIBE pattern: allowed only if it is one of the channel patterns. */
  pattern(pattern: string): boolean;
}

/** What ACL SETUSER did. */
export interface SetUserOutcome {
  readonly user: AclUser;
  readonly created: boolean;
  /**
   * Set when the user may have lost channel permissions: its clients with
   * a subscription this no longer allows are to be disconnected.
   */
  readonly revokedChannels: ChannelAllowance | undefined;
}

const NO_LOGGER: AclLogger = { warning() {}, notice() {} };

const USERS_AND_FILE =
  "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.";

/** The ACL engine of one server; see the module doc. */
export class AccessControl {
  readonly catalogue: AclCatalogue;
  readonly settings: AclSettings;
  readonly log: AclLog;
  /** The user every connection starts as; the same object for the engine's lifetime. */
  readonly defaultUser: AclUser;
  /** `aclfile`; empty when none is configured. */
  aclfile: string;
  readonly #users = new Map<string, AclUser>();
  readonly #logger: AclLogger;
  readonly #files: AclFileSystem;
  readonly #clock: () => number;

  constructor(options: AccessControlOptions) {
    this.catalogue = options.catalogue;
    this.settings = {
      catalogue: options.catalogue,
      allChannelsByDefault: options.pubsubDefault === "allchannels",
    };
    this.#clock = options.clock ?? Date.now;
    this.log = new AclLog(options.logMaxLength ?? 128, this.#clock);
    this.aclfile = options.aclfile ?? "";
    this.#logger = options.logger ?? NO_LOGGER;
    this.#files = options.files ?? SYSTEM_FILES;
    this.defaultUser = this.#createDefaultUser();
    this.#users.set("default", this.defaultUser);
  }

  /** `acl-pubsub-default`: what new users, new selectors and `reset` start with. */
  get pubsubDefault(): PubsubDefault {
    return this.settings.allChannelsByDefault ? "allchannels" : "resetchannels";
  }

  set pubsubDefault(value: PubsubDefault) {
    this.settings.allChannelsByDefault = value === "allchannels";
  }

  /** A user by exact name. */
  user(name: string): AclUser | undefined {
    return this.#users.get(name);
  }

  /** Every user, sorted by name (ACL LIST, ACL USERS, ACL SAVE). */
  users(): AclUser[] {
    return [...this.#users.values()].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  }

  /** A user with Redis's defaults (off, no password, no permissions), not registered. */
  createUser(name: string): AclUser {
    return new AclUser(name, this.settings);
  }

  #createDefaultUser(): AclUser {
    const user = this.createUser("default");
    for (const rule of ["+@all", "~*", "&*", "on", "nopass"]) user.apply(rule);
    return user;
  }

  /**
   * ACL SETUSER: applies `rules` to the user `name`, creating it if needed.
   * All rules apply or none: they are staged on a copy first.
   */
  setUser(name: string, rules: readonly string[]): SetUserOutcome {
    if (hasSpaces(name)) throw new AclError(USERNAME_HAS_SPACES);
    const existing = this.#users.get(name);
    const staged = existing?.clone() ?? this.createUser(name);
    const merged = mergeSelectorArguments(rules);
    if (!("rules" in merged)) throw new AclError(unmatchedParenthesis(rules[merged.unclosedAt]!));
    for (const rule of merged.rules) {
      try {
        staged.apply(rule);
      } catch (error) {
        if (error instanceof AclRuleError) throw new AclError(setUserRuleError(rule, error));
        throw error;
      }
    }
    if (existing === undefined) {
      this.#users.set(name, staged);
      return { user: staged, created: true, revokedChannels: undefined };
    }
    const revokedChannels = revokedChannelAllowance(staged, existing);
    existing.copyFrom(staged);
    return { user: existing, created: false, revokedChannels };
  }

  /**
   * ACL DELUSER: deletes the named users that exist and returns them
   * (marked `removed`; their clients are to be disconnected). Refuses
   * everything if `default` is among the names.
   */
  deleteUsers(names: readonly string[]): AclUser[] {
    if (names.includes("default")) throw new AclError(DEFAULT_USER_NOT_REMOVABLE);
    const removed: AclUser[] = [];
    for (const name of names) {
      const user = this.#users.get(name);
      if (user === undefined) continue;
      this.#users.delete(name);
      user.removed = true;
      removed.push(user);
    }
    return removed;
  }

  /**
   * The user `username` opens with `password`, or undefined when there is
   * no such user, it is off, or the password is wrong (ACLCheckUserCredentials).
   */
  authenticate(username: string, password: string): AclUser | undefined {
    const user = this.#users.get(username);
    if (user === undefined || !user.enabled) return undefined;
    return user.passwordMatches(password) ? user : undefined;
  }

  /** Whether `user` may run `command` with `args`; see AclUser.check. */
  check(user: AclUser, command: AclCommand, args: readonly string[]): AclDenial | undefined {
    return user.allowsEverything ? undefined : user.check(command, args);
  }

  /**
   * ACL DRYRUN: whether `username` could run the request `args`; undefined
   * when it could, otherwise why not, as DRYRUN answers. Unknown users and
   * commands and a wrong arity fail with Redis's errors.
   */
  dryRun(username: string, args: readonly string[]): string | undefined {
    const user = this.#users.get(username);
    if (user === undefined) throw new AclError(dryRunUnknownUser(username));
    const command = this.catalogue.resolve(args);
    if (command === undefined) throw new AclError(dryRunUnknownCommand(args[0]!));
    const arity = command.arity;
    if ((arity > 0 && arity !== args.length) || args.length < -arity) {
      throw new AclError(`ERR wrong number of arguments for '${command.fullName}' command`);
    }
    const denial = user.check(command, args);
    if (denial === undefined) return undefined;
    return dryRunDenial(denial.reason, command.fullName, args[denial.position]!);
  }

  /** Logs a denied request (processCommand, EXEC, scripts). */
  logDenial(
    user: AclUser,
    denial: AclDenial,
    command: AclCommand,
    args: readonly string[],
    context: AclLogContext,
    clientInfo: string,
  ): void {
    const object = denial.reason === "command" ? command.fullName : args[denial.position]!;
    this.log.add({ reason: denial.reason, context, object, username: user.name, clientInfo });
  }

  /** Logs a failed AUTH or HELLO AUTH; `commandName` is the command as the client sent it. */
  logAuthFailure(
    username: string,
    commandName: string,
    context: AclLogContext,
    clientInfo: string,
  ): void {
    this.log.add({ reason: "auth", context, object: commandName, username, clientInfo });
  }

  /**
   * `requirepass`: sets the default user's only password, or makes it
   * `nopass` when empty (config.c's updateRequirePass).
   */
  setRequirePass(password: string): void {
    this.defaultUser.apply("resetpass");
    this.defaultUser.apply(password === "" ? "nopass" : ">" + password);
  }

  /**
   * ACL LOAD: replaces every user with the ACL file's. Returns the users it
   * removed (every user but `default`, whose object takes the file's
   * definition, or Redis's defaults if the file has none). A file with any
   * error changes nothing and fails with every problem found.
   */
  load(): AclUser[] {
    if (this.aclfile === "") throw new AclError(NO_ACL_FILE);
    const loaded = this.#readFile();
    if (typeof loaded === "string") throw new AclError("ERR " + loaded);
    return this.#install(loaded);
  }

  /** Makes a loaded set of users current; returns the users it replaced. */
  #install(loaded: Map<string, AclUser>): AclUser[] {
    const fromFile = loaded.get("default") ?? this.#createDefaultUser();
    this.defaultUser.copyFrom(fromFile);
    loaded.set("default", this.defaultUser);
    const removed: AclUser[] = [];
    for (const user of this.#users.values()) {
      if (user === this.defaultUser) continue;
      user.removed = true;
      removed.push(user);
    }
    this.#users.clear();
    for (const [name, user] of loaded) this.#users.set(name, user);
    return removed;
  }

  /** The file's users, or the error text (without `ERR`). */
  #readFile(): Map<string, AclUser> | string {
    let content: string;
    try {
      content = this.#files.read(this.aclfile);
    } catch (error) {
      return `Error loading ACLs, opening file '${this.aclfile}': ${systemErrorText(error)}`;
    }
    const parsed = parseAclFile(content, this.aclfile, (name) => this.createUser(name));
    if (parsed.errors !== "") {
      return parsed.errors +
        "WARNING: ACL errors detected, no change to the previously active ACL rules was performed";
    }
    return parsed.users;
  }

  /** ACL SAVE: writes every user to the ACL file, through a temporary file. */
  save(): void {
    if (this.aclfile === "") throw new AclError(NO_ACL_FILE);
    const text = formatAclFile(this.users());
    const temporary = `${this.aclfile}.tmp-${Deno.pid}-${this.#clock()}`;
    try {
      this.#files.write(temporary, text);
    } catch (error) {
      this.#logger.warning(`Opening temp ACL file for ACL SAVE: ${systemErrorText(error)}`);
      throw new AclError(ACL_SAVE_FAILED);
    }
    try {
      this.#files.rename(temporary, this.aclfile);
    } catch (error) {
      this.#logger.warning(`Renaming ACL file for ACL SAVE: ${systemErrorText(error)}`);
      try {
        this.#files.remove(temporary);
      } catch {
        // Nothing more to do: the old file is intact.
      }
      throw new AclError(ACL_SAVE_FAILED);
    }
  }

  /**
   * Start-up (ACLLoadUsersAtStartup): applies the config file's `user`
   * directives (each `[name, ...rules]`), then loads the ACL file if one
   * is configured. Both at once is refused. Returns false after logging
   * why when the server must not start (Redis exits with status 1).
   * `requirepass` is applied before this, so users defined here win.
   */
  loadAtStartup(directives: readonly (readonly string[])[] = []): boolean {
    if (this.aclfile !== "" && directives.length > 0) {
      this.#logger.warning(USERS_AND_FILE);
      return false;
    }
    for (const directive of directives) {
      const [name, ...rules] = directive;
      if (name === undefined || !this.#applyDirective(name, rules)) {
        this.#logger.warning("Critical error while loading ACLs. Exiting.");
        return false;
      }
    }
    if (this.aclfile !== "") {
      const loaded = this.#readFile();
      if (typeof loaded === "string") {
        this.#logger.warning(`Aborting Redis startup because of ACL errors: ${loaded}`);
        return false;
      }
      this.#install(loaded);
    }
    return true;
  }

  /** One config `user` line (ACLLoadConfiguredUsers). */
  #applyDirective(name: string, rules: readonly string[]): boolean {
    if (hasSpaces(name)) {
      this.#logger.warning("Spaces not allowed in ACL usernames");
      return false;
    }
    let user = this.#users.get(name);
    if (user === undefined) {
      user = this.createUser(name);
      this.#users.set(name, user);
    } else {
      user.apply("reset");
    }
    const merged = mergeSelectorArguments(rules);
    for (const rule of "rules" in merged ? merged.rules : rules) {
      try {
        user.apply(rule);
      } catch (error) {
        if (!(error instanceof AclRuleError)) throw error;
        this.#logger.warning(
          `Error loading ACL rule '${rule}' for the user named '${name}': ${error.message}`,
        );
        return false;
      }
    }
    if (!user.enabled) {
      this.#logger.notice(
        `The user '${name}' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.`,
      );
    }
    return true;
  }
}

/**
 * The channels `updated` still allows, when it may allow fewer than
 * `original` did (ACLKillPubsubClientsIfNeeded): undefined when a selector
 * of `updated` allows every channel or its patterns include every pattern
 * of `original`.
 */
function revokedChannelAllowance(
  updated: AclUser,
  original: AclUser,
): ChannelAllowance | undefined {
  if (updated.selectors.some((selector) => selector.allChannels)) return undefined;
  const upcoming = updated.selectors.flatMap((selector) => selector.channels);
  const kept = original.selectors.every((selector) =>
    !selector.allChannels && selector.channels.every((channel) => upcoming.includes(channel))
  );
  if (kept) return undefined;
  return {
    channel: (name) => channelAllowed(upcoming, name, false),
    pattern: (pattern) => channelAllowed(upcoming, pattern, true),
  };
}

/**
 * The error of a config-file `user` directive, checked when the config is
 * read (ACLAppendUserForLoading): `args` is the whole directive (`user`,
 * the name, the rules) and `earlier` the names of the directives before
 * it. Unknown commands are accepted here (start-up reports them), as in
 * Redis. Like Redis, the message quotes `args` at the index of the failing
 * rule among the merged rules (a quirk: it is often not the rule).
 */
export function userDirectiveError(
  catalogue: AclCatalogue,
  args: readonly string[],
  earlier: readonly string[],
): string | undefined {
  const fail = (index: number, message: string) =>
    `Error in user declaration '${args[index] ?? ""}': ${message}`;
  if (args.length < 2) return fail(0, "Syntax error");
  if (earlier.includes(args[1]!)) return fail(1, new AclRuleError("duplicate-user").message);
  const merged = mergeSelectorArguments(args.slice(2));
  if (!("rules" in merged)) {
    return fail(merged.unclosedAt, new AclRuleError("unknown-name").message);
  }
  const user = new AclUser(args[1]!, { catalogue, allChannelsByDefault: false });
  for (let index = 0; index < merged.rules.length; index++) {
    try {
      user.apply(merged.rules[index]!);
    } catch (error) {
      if (!(error instanceof AclRuleError)) throw error;
      if (error.kind !== "unknown-name") return fail(index, error.message);
    }
  }
  return undefined;
}
