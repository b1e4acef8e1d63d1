/**
 * AclUser: one ACL user as Redis 7.0 keeps it (acl.c's `user`): whether it
 * is on, its password hashes or `nopass`, the payload-sanitizing flag, and
 * its selectors, the first of which is the root selector.
 *
 * Rules are applied one at a time (`apply`, Redis's ACLSetUser); the user
 * rules are handled here and every other rule goes to the root selector.
 * A user object keeps its identity for as long as the user exists: ACL
 * SETUSER stages changes on a clone and copies them back (`copyFrom`), so
 * the clients authenticated as a user always see its current permissions
 * through the object they hold.
 *
 * `allowsEverything` is kept up to date on every change, so the hot path
 * for the default user (and any `+@all ~* &*` user) is one field read.
 *
 * @module
 */

import type { AclCatalogue, AclCommand } from "./catalogue.ts";
import { type AclDenialReason, AclRuleError } from "./errors.ts";
import { hashesEqual, hashPassword, isPasswordHash } from "./passwords.ts";
import {
  ALLOWED,
  type CheckState,
  DENIED_CHANNEL,
  DENIED_COMMAND,
  DENIED_KEY,
  parseSelector,
  Selector,
} from "./selector.ts";
import { asciiLower } from "./text.ts";

/** What every user of one engine shares: the catalogue and `acl-pubsub-default`. */
export interface AclSettings {
  readonly catalogue: AclCatalogue;
  /** `acl-pubsub-default allchannels`: new users and selectors start with `&*`. */
  allChannelsByDefault: boolean;
}

/** Why a request was denied, and which argument (key or channel) it was about. */
export interface AclDenial {
  readonly reason: AclDenialReason;
  /** Index of the refused key or channel in the arguments; 0 for a command denial. */
  readonly position: number;
}

/** `sanitize-payload` / `skip-sanitize-payload`, or neither (a new user). */
export type SanitizePayload = "" | "sanitize" | "skip";

/** An ACL user: its flags, password hashes and selectors. */
export class AclUser {
  /** `on`; a user is `off` (disabled) until told otherwise. */
  enabled = false;
  noPassword = false;
  sanitizePayload: SanitizePayload = "";
  /** SHA-256 hashes of the passwords, in the order they were added. */
  passwords: string[] = [];
  /** The root selector first, then the `(...)` selectors in order. */
  selectors: Selector[];
  /**
   * Set when the user is deleted (ACL DELUSER) or replaced (ACL LOAD):
   * clients still authenticated as it are to be disconnected.
   */
  removed = false;
  /** Some selector allows every command, key and channel: no check is needed. */
  allowsEverything = false;

  constructor(readonly name: string, readonly settings: AclSettings) {
    this.selectors = [new Selector(settings.catalogue, true, settings.allChannelsByDefault)];
  }

  /** The rules written outside parentheses. */
  get root(): Selector {
    return this.selectors[0]!;
  }

  /** The flags ACL GETUSER lists, in Redis's order. */
  get flags(): string[] {
    const flags = [this.enabled ? "on" : "off"];
    if (this.noPassword) flags.push("nopass");
    if (this.sanitizePayload === "skip") flags.push("skip-sanitize-payload");
    if (this.sanitizePayload === "sanitize") flags.push("sanitize-payload");
    return flags;
  }

  /**
   * Applies one rule (ACLSetUser); a selector rule goes to the root
   * selector. Throws AclRuleError with Redis's reason when the rule is not
   * valid; the user may then be partly changed, so callers stage on a
   * clone.
   */
  apply(rule: string): void {
    try {
      this.#apply(rule);
    } finally {
      this.#refresh();
    }
  }

  #apply(rule: string): void {
    if (rule === "") return;
    const lower = asciiLower(rule);
    if (lower === "on") {
      this.enabled = true;
    } else if (lower === "off") {
      this.enabled = false;
    } else if (lower === "skip-sanitize-payload") {
      this.sanitizePayload = "skip";
    } else if (lower === "sanitize-payload") {
      this.sanitizePayload = "sanitize";
    } else if (lower === "nopass") {
      this.noPassword = true;
      this.passwords = [];
    } else if (lower === "resetpass") {
      this.noPassword = false;
      this.passwords = [];
    } else if (rule[0] === ">" || rule[0] === "#") {
      const hash = rule[0] === ">" ? hashPassword(rule.slice(1)) : rule.slice(1);
      if (rule[0] === "#" && !isPasswordHash(hash)) throw new AclRuleError("bad-hash");
      if (!this.passwords.includes(hash)) this.passwords.push(hash);
      this.noPassword = false;
    } else if (rule[0] === "<" || rule[0] === "!") {
      const hash = rule[0] === "<" ? hashPassword(rule.slice(1)) : rule.slice(1);
      if (rule[0] === "!" && !isPasswordHash(hash)) throw new AclRuleError("bad-hash");
      const index = this.passwords.indexOf(hash);
      if (index < 0) throw new AclRuleError("no-such-password");
      this.passwords.splice(index, 1);
    } else if (rule[0] === "(" && rule[rule.length - 1] === ")") {
      const { catalogue, allChannelsByDefault } = this.settings;
      this.selectors.push(parseSelector(catalogue, rule, allChannelsByDefault));
    } else if (lower === "clearselectors") {
      this.selectors.length = 1;
    } else if (lower === "reset") {
      this.noPassword = false;
      this.passwords = [];
      const root = this.root;
      root.apply("resetkeys");
      root.apply(this.settings.allChannelsByDefault ? "allchannels" : "resetchannels");
      this.enabled = false;
      this.sanitizePayload = "sanitize";
      this.selectors.length = 1;
      root.apply("-@all");
    } else {
      this.root.apply(rule);
    }
  }

  #refresh(): void {
    this.allowsEverything = this.selectors.some((selector) =>
      selector.allCommands && selector.allKeys && selector.allChannels
    );
  }

  /** An independent copy under another name (or the same). */
  clone(name = this.name): AclUser {
    const copy = new AclUser(name, this.settings);
    copy.copyFrom(this);
    return copy;
  }

  /** Takes every permission of `other`, keeping this object and name (ACLCopyUser). */
  copyFrom(other: AclUser): void {
    this.enabled = other.enabled;
    this.noPassword = other.noPassword;
    this.sanitizePayload = other.sanitizePayload;
    this.passwords = other.passwords.slice();
    this.selectors = other.selectors.map((selector) => selector.clone());
    this.#refresh();
  }

  /** Whether `password` opens this user (not counting `on`/`off`). */
  passwordMatches(password: string): boolean {
    if (this.noPassword) return true;
    const hash = hashPassword(password);
    let matched = false;
    // Every hash is compared, so the time does not tell which one matched.
    for (const known of this.passwords) if (hashesEqual(hash, known)) matched = true;
    return matched;
  }

  /**
   * Whether the user may run `command` with `args` (ACLCheckAllUserCommandPerm):
   * undefined when some selector allows it, otherwise the denial Redis
   * reports: a channel before a key before the command, and among equals
   * the last argument position.
   */
  check(command: AclCommand, args: readonly string[]): AclDenial | undefined {
    if (this.allowsEverything) return undefined;
    const state: CheckState = { keys: undefined, position: 0 };
    let relevant: number = DENIED_COMMAND;
    let position = 0;
    for (const selector of this.selectors) {
      const result = selector.check(command, args, state);
      if (result === ALLOWED) return undefined;
      if (result > relevant || (result === relevant && state.position > position)) {
        relevant = result;
        position = state.position;
      }
    }
    const reason = relevant === DENIED_KEY
      ? "key"
      : relevant === DENIED_CHANNEL
      ? "channel"
      : "command";
    return { reason, position };
  }

  /** The user as ACL LIST and ACL SAVE print it, after `user <name> ` (ACLDescribeUser). */
  describe(): string {
    let text = "";
    for (const flag of this.flags) text += flag + " ";
    for (const hash of this.passwords) text += "#" + hash + " ";
    text += this.root.describe();
    for (let i = 1; i < this.selectors.length; i++) {
      text += " (" + this.selectors[i]!.describe() + ")";
    }
    return text;
  }
}
