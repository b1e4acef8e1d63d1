/**
 * Selector: one set of command, key and channel permissions, as Redis 7.0's
 * `aclSelector`. Every user has a root selector (the rules written outside
 * parentheses) and may have more (`(...)` rules); a request is allowed when
 * any selector allows it.
 *
 * The shape follows acl.c because its observable behaviour depends on it:
 * - Commands are a bitmap indexed by `AclCommand.id` plus one extra bit,
 *   set only by `+@all`/`allcommands` and cleared only by `-@all`, which
 *   says whether commands added later would be allowed (Redis's reserved
 *   bit); ACL LIST starts from `+@all` or `-@all` according to it. Allowing
 *   or denying a command changes its subcommands too and forgets its
 *   allowed first arguments (`+select|0`); a category rule does that for
 *   each command of the category.
 * - Key patterns are kept in the order given, merged when repeated (`~x`
 *   then `%R~x` is one pattern with both permissions), and compiled: most
 *   patterns are a literal or a prefix, matched without the glob matcher.
 * - ACL LIST does not print the rules as written: `describeCommands`
 *   reproduces ACLDescribeSelectorCommandRules, which approximates the
 *   bitmap with categories greedily and then fixes single commands, so the
 *   same permissions always print the same way. Single commands come in
 *   catalogue order (Redis's order is that of a hash table with a random
 *   seed, different on every start).
 *
 * @module
 */

import { globMatch } from "../store/glob.ts";
import { splitInlineArguments } from "../protocol/parser.ts";
import {
  ACL_CATEGORIES,
  type AclCatalogue,
  type AclCommand,
  type AclKeyReference,
  categoryBit,
} from "./catalogue.ts";
import { AclRuleError } from "./errors.ts";
import { asciiLower, equalsIgnoringCase, hasSpaces } from "./text.ts";

/** Permission bits of a key pattern. */
const READ = 1;
const WRITE = 2;
const READ_WRITE = READ | WRITE;

/** A selector check allowed the request. */
export const ALLOWED = 0;
/** Denied for the command; the codes are ordered as Redis picks the error to report. */
export const DENIED_COMMAND = 1;
/** Denied for a key. */
export const DENIED_KEY = 2;
/** Denied for a channel. */
export const DENIED_CHANNEL = 4;
/** What one selector says about a request. */
export type CheckResult =
  | typeof ALLOWED
  | typeof DENIED_COMMAND
  | typeof DENIED_KEY
  | typeof DENIED_CHANNEL;

/** What one permission check shares between a user's selectors. */
export interface CheckState {
  /** The request's keys, found once for all selectors. */
  keys: readonly AclKeyReference[] | undefined;
  /** Argument index of the key or channel a selector refused. */
  position: number;
}

/** A key pattern with its permissions, compiled for matching. */
class KeyPattern {
  /** 0: glob, 1: literal, 2: prefix followed by `*`, 3: `*`. */
  #kind = 0;
  #literal = "";

  constructor(readonly pattern: string, public flags: number) {
    if (pattern === "*") {
      this.#kind = 3;
      return;
    }
    const special = /[*?[\\]/.exec(pattern);
    if (special === null) {
      this.#kind = 1;
      this.#literal = pattern;
    } else if (special.index === pattern.length - 1 && pattern.endsWith("*")) {
      this.#kind = 2;
      this.#literal = pattern.slice(0, -1);
    }
  }

  matches(key: string): boolean {
    switch (this.#kind) {
      case 3:
        return true;
      case 1:
        return key === this.#literal;
      case 2:
        return key.startsWith(this.#literal);
      default:
        return globMatch(this.pattern, key);
    }
  }

  /** `~pattern`, `%R~pattern` or `%W~pattern` (sdsCatPatternString). */
  describe(): string {
    const prefix = this.flags === READ_WRITE ? "~" : this.flags === READ ? "%R~" : "%W~";
    return prefix + this.pattern;
  }
}

/** Whether `channel` is allowed by `patterns`; a pattern subscription must appear literally. */
export function channelAllowed(
  patterns: readonly string[],
  channel: string,
  isPattern: boolean,
): boolean {
  for (const pattern of patterns) {
    if (isPattern ? pattern === channel : globMatch(pattern, channel)) return true;
  }
  return false;
}

/** One selector: a command bitmap with first arguments, key patterns and channel patterns. */
export class Selector {
  /** Every command bit is set and no command was denied since `+@all`. */
  allCommands = false;
  allKeys = false;
  allChannels: boolean;
  /** One byte per command id, plus the future-commands bit at the end. */
  commands: Uint8Array;
  /** Allowed first arguments of otherwise denied commands, by command id. */
  firstArguments: Map<number, string[]> | undefined;
  patterns: KeyPattern[] = [];
  channels: string[] = [];

  constructor(readonly catalogue: AclCatalogue, readonly root: boolean, allChannels: boolean) {
    this.allChannels = allChannels;
    this.commands = new Uint8Array(catalogue.size + 1);
  }

  /** An independent copy (ACL SETUSER stages its changes on copies). */
  clone(): Selector {
    const copy = new Selector(this.catalogue, this.root, this.allChannels);
    copy.allCommands = this.allCommands;
    copy.allKeys = this.allKeys;
    copy.commands = this.commands.slice();
    if (this.firstArguments !== undefined) {
      copy.firstArguments = new Map(
        [...this.firstArguments].map(([id, args]) => [id, args.slice()]),
      );
    }
    copy.patterns = this.patterns.map((pattern) => new KeyPattern(pattern.pattern, pattern.flags));
    copy.channels = this.channels.slice();
    return copy;
  }

  /** Whether commands added later would be allowed (the reserved bit). */
  get allowsFutureCommands(): boolean {
    return this.commands[this.catalogue.size] === 1;
  }

  /**
   * Applies one selector rule (ACLSetSelector); throws AclRuleError with
   * Redis's reason when it is not valid. User rules (`on`, `>pass`,
   * `reset`...) are the user's business, see user.ts.
   */
  apply(rule: string): void {
    const lower = asciiLower(rule);
    if (lower === "allkeys" || rule === "~*") {
      this.allKeys = true;
      this.patterns = [];
    } else if (lower === "resetkeys") {
      this.allKeys = false;
      this.patterns = [];
    } else if (lower === "allchannels" || rule === "&*") {
      this.allChannels = true;
      this.channels = [];
    } else if (lower === "resetchannels") {
      this.allChannels = false;
      this.channels = [];
    } else if (lower === "allcommands" || lower === "+@all") {
      this.commands.fill(1);
      this.allCommands = true;
      this.firstArguments = undefined;
    } else if (lower === "nocommands" || lower === "-@all") {
      this.commands.fill(0);
      this.allCommands = false;
      this.firstArguments = undefined;
    } else if (rule[0] === "~" || rule[0] === "%") {
      this.#addKeyPattern(rule);
    } else if (rule[0] === "&") {
      this.#addChannel(rule);
    } else if (rule[0] === "+" && rule[1] !== "@") {
      this.#allowCommand(rule.slice(1));
    } else if (rule[0] === "-" && rule[1] !== "@") {
      const command = this.catalogue.lookup(rule.slice(1));
      if (command === undefined) throw new AclRuleError("unknown-name");
      this.changePermission(command, false);
    } else if ((rule[0] === "+" || rule[0] === "-") && rule[1] === "@") {
      const bit = categoryBit(rule.slice(2));
      if (bit === 0) throw new AclRuleError("unknown-name");
      this.#setCategory(bit, rule[0] === "+");
    } else {
      throw new AclRuleError("syntax");
    }
  }

  #addKeyPattern(rule: string): void {
    if (this.allKeys) throw new AclRuleError("key-after-all");
    let flags = 0;
    let offset = 1;
    if (rule[0] === "%") {
      for (; offset < rule.length; offset++) {
        const letter = rule[offset];
        if ((letter === "R" || letter === "r") && (flags & READ) === 0) {
          flags |= READ;
        } else if ((letter === "W" || letter === "w") && (flags & WRITE) === 0) {
          flags |= WRITE;
        } else if (rule[offset] === "~") {
          offset++;
          break;
        } else {
          throw new AclRuleError("syntax");
        }
      }
    } else {
      flags = READ_WRITE;
    }
    const pattern = rule.slice(offset);
    if (flags === 0 || hasSpaces(pattern)) throw new AclRuleError("syntax");
    const existing = this.patterns.find((candidate) => candidate.pattern === pattern);
    if (existing === undefined) this.patterns.push(new KeyPattern(pattern, flags));
    else existing.flags |= flags;
    this.allKeys = false;
  }

  #addChannel(rule: string): void {
    if (this.allChannels) throw new AclRuleError("channel-after-all");
    const pattern = rule.slice(1);
    if (hasSpaces(pattern)) throw new AclRuleError("syntax");
    if (!this.channels.includes(pattern)) this.channels.push(pattern);
    this.allChannels = false;
  }

  /** `+name`, `+container|sub` or `+command|first-argument`. */
  #allowCommand(name: string): void {
    const bar = name.lastIndexOf("|");
    if (bar < 0) {
      const command = this.catalogue.lookup(name);
      if (command === undefined) throw new AclRuleError("unknown-name");
      this.changePermission(command, true);
      return;
    }
    const command = this.catalogue.lookup(name.slice(0, bar));
    if (command === undefined) throw new AclRuleError("unknown-name");
    if (command.parent !== undefined) throw new AclRuleError("subcommand-first-arg");
    const argument = name.slice(bar + 1);
    if (argument === "") throw new AclRuleError("syntax");
    if (command.subcommands.size > 0) {
      const sub = this.catalogue.lookup(name);
      if (sub === undefined) throw new AclRuleError("unknown-name");
      this.changePermission(sub, true);
      return;
    }
    // Redis logs a deprecation warning for these; the rule still applies.
    this.firstArguments ??= new Map();
    const allowed = this.firstArguments.get(command.id);
    if (allowed === undefined) this.firstArguments.set(command.id, [argument]);
    else if (!allowed.some((known) => equalsIgnoringCase(known, argument))) allowed.push(argument);
  }

  /** Allows or denies a command and its subcommands (ACLChangeSelectorPerm). */
  changePermission(command: AclCommand, allow: boolean): void {
    const bit = allow ? 1 : 0;
    this.commands[command.id] = bit;
    this.firstArguments?.delete(command.id);
    for (const sub of command.subcommands.values()) this.commands[sub.id] = bit;
    if (!allow) this.allCommands = false;
  }

  #setCategory(bit: number, allow: boolean): void {
    for (const command of this.catalogue.byId) {
      if ((command.categoryMask & bit) !== 0) this.changePermission(command, allow);
    }
  }

  /**
   * Checks one request against this selector (ACLSelectorCheckCmd): the
   * command (or its allowed first argument), then its keys, then its
   * channels. On a key or channel denial `state.position` says which.
   */
  check(command: AclCommand, args: readonly string[], state: CheckState): CheckResult {
    if (!this.allCommands && !command.noAuth && this.commands[command.id] === 0) {
      const allowed = args.length >= 2 ? this.firstArguments?.get(command.id) : undefined;
      if (allowed === undefined) return DENIED_COMMAND;
      const argument = args[command.parent === undefined ? 1 : 2] ?? "";
      if (!allowed.some((known) => equalsIgnoringCase(known, argument))) return DENIED_COMMAND;
    }
    const findKeys = command.spec.keys;
    if (!this.allKeys && findKeys !== undefined) {
      const keys = state.keys ??= findKeys(args);
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        if (!this.#keyAllowed(args[key.position]!, key)) {
          state.position = key.position;
          return DENIED_KEY;
        }
      }
    }
    const findChannels = command.spec.channels;
    if (!this.allChannels && findChannels !== undefined) {
      for (const channel of findChannels(args)) {
        if (!channelAllowed(this.channels, args[channel.position]!, channel.pattern)) {
          state.position = channel.position;
          return DENIED_CHANNEL;
        }
      }
    }
    return ALLOWED;
  }

  #keyAllowed(key: string, reference: AclKeyReference): boolean {
    const needed = (reference.read ? READ : 0) | (reference.write ? WRITE : 0);
    for (const pattern of this.patterns) {
      if ((pattern.flags & needed) === needed && pattern.matches(key)) return true;
    }
    return false;
  }

  /** The selector as ACL LIST prints it: keys, channels, commands (ACLDescribeSelector). */
  describe(): string {
    let text = "";
    if (this.allKeys) text += "~* ";
    else for (const pattern of this.patterns) text += pattern.describe() + " ";
    if (this.allChannels) {
      text += "&* ";
    } else {
      text += "resetchannels ";
      for (const channel of this.channels) text += "&" + channel + " ";
    }
    return text + this.describeCommands();
  }

  /** ACL GETUSER's `keys`: `~*`, or the patterns separated by spaces. */
  describeKeys(): string {
    if (this.allKeys) return "~*";
    return this.patterns.map((pattern) => pattern.describe()).join(" ");
  }

  /** ACL GETUSER's `channels`: `&*`, or the patterns separated by spaces. */
  describeChannels(): string {
    if (this.allChannels) return "&*";
    return this.channels.map((channel) => "&" + channel).join(" ");
  }

  /**
   * The command rules as Redis prints them (ACLDescribeSelectorCommandRules):
   * start from `+@all` or `-@all`, add (or remove) the category that best
   * fits the commands still to account for while one fits better than not,
   * then fix each command that differs, its subcommands, and its first
   * arguments. Applying the result to a fresh selector gives this bitmap.
   */
  describeCommands(): string {
    const catalogue = this.catalogue;
    const additive = !this.allowsFutureCommands;
    const rules: string[] = [additive ? "-@all" : "+@all"];
    // What the rules emitted so far give, and what they still leave unexplained.
    const emitted = new Selector(catalogue, false, false);
    emitted.apply(rules[0]!);
    const pending = new Selector(catalogue, false, false);
    pending.commands.set(this.commands);
    const members = ACL_CATEGORIES.map((_, index) => catalogue.inCategory(1 << index));
    for (;;) {
      let best = -1;
      let fewestDifferent = Infinity;
      let mostSame = 0;
      for (let index = 0; index < members.length; index++) {
        let on = 0;
        let off = 0;
        for (const command of members[index]!) {
          if (pending.commands[command.id] === 1) on++;
          else off++;
        }
        const different = additive ? off : on;
        const same = additive ? on : off;
        if (
          same > different &&
          (different < fewestDifferent || (different === fewestDifferent && same > mostSame))
        ) {
          best = index;
          fewestDifferent = different;
          mostSame = same;
        }
      }
      if (best < 0) break;
      const bit = 1 << best;
      emitted.#setCategory(bit, additive);
      pending.#setCategory(bit, !additive);
      rules.push((additive ? "+@" : "-@") + ACL_CATEGORIES[best]);
    }
    for (const command of catalogue.commands) this.#describeSingle(command, emitted, rules);
    if (!sameBits(emitted.commands, this.commands)) {
      throw new Error(`ACL rules do not reproduce the command bitmap: '${rules.join(" ")}'`);
    }
    return rules.join(" ");
  }

  #describeSingle(command: AclCommand, emitted: Selector, rules: string[]): void {
    const allowed = this.commands[command.id] === 1;
    if (allowed !== (emitted.commands[command.id] === 1)) {
      rules.push((allowed ? "+" : "-") + command.fullName);
      emitted.changePermission(command, allowed);
    }
    for (const sub of command.subcommands.values()) this.#describeSingle(sub, emitted, rules);
    const firstArguments = allowed ? undefined : this.firstArguments?.get(command.id);
    for (const argument of firstArguments ?? []) rules.push(`+${command.fullName}|${argument}`);
  }
}

function sameBits(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A selector from its parenthesised form `(rule rule ...)`; the rules
 * inside are split with Redis's quoting rules (sdssplitargs), and
 * unbalanced quotes give an empty selector, as in Redis.
 */
export function parseSelector(
  catalogue: AclCatalogue,
  text: string,
  allChannels: boolean,
): Selector {
  const selector = new Selector(catalogue, false, allChannels);
  const rules = splitInlineArguments(text.slice(1, -1)) ?? [];
  for (const rule of rules) selector.apply(rule);
  return selector;
}
