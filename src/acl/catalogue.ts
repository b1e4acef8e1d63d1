/**
 * What the ACL engine knows about commands: the catalogue interface the
 * server implements over its command table, and the compiled form the
 * engine checks permissions against.
 *
 * The engine never imports the command layer. The server describes each
 * command once as an `AclCommandSpec` (full name, arity, ACL categories,
 * whether it runs without authentication, how to find its keys and
 * channels); `AclCatalogue` compiles the specs into `AclCommand`s, each
 * with a small integer id, which is what a selector's command bitmap is
 * indexed by — Redis's `cmd->id` and `allowed_commands` bitmap, so a
 * restricted user's command check is one array read.
 *
 * Categories are Redis 7.0's 21, in its order (`ACLCommandCategories` in
 * acl.c): the order is visible in ACL CAT and decides ties when ACL LIST
 * approximates a user's commands with categories. Channels follow Redis
 * 7.0's `getChannelsFromCommand`: only PUBLISH, SPUBLISH (publish) and
 * SUBSCRIBE, SSUBSCRIBE, PSUBSCRIBE (subscribe; PSUBSCRIBE's are patterns)
 * are checked; `REDIS_CHANNEL_FINDERS` holds them by name for the server's
 * adapter.
 *
 * @module
 */

import { asciiLower } from "./text.ts";

/** Redis 7.0's ACL categories, in ACL CAT's order. */
export const ACL_CATEGORIES = [
  "keyspace",
  "read",
  "write",
  "set",
  "sortedset",
  "list",
  "hash",
  "string",
  "bitmap",
  "hyperloglog",
  "geo",
  "stream",
  "pubsub",
  "admin",
  "fast",
  "slow",
  "blocking",
  "dangerous",
  "connection",
  "transaction",
  "scripting",
] as const;

/** One of Redis's ACL category names. */
export type AclCategory = typeof ACL_CATEGORIES[number];

/**
 * A key a request names, and what the command does with it: `read` for
 * Redis's key-spec ACCESS flag, `write` for INSERT, DELETE or UPDATE. A key
 * with neither (EXISTS, TYPE) matches any key pattern, `%R~` and `%W~` too.
 */
export interface AclKeyReference {
  /** Index of the key in the request's arguments (0 is the command name). */
  readonly position: number;
  readonly read: boolean;
  readonly write: boolean;
}

/** A channel a request names; a pattern (PSUBSCRIBE) must be allowed literally. */
export interface AclChannelReference {
  readonly position: number;
  readonly pattern: boolean;
}

/** How the server describes one command (or subcommand) to the engine. */
export interface AclCommandSpec {
  /** Full lower-case name: `get`, or `config|get` for a subcommand. */
  readonly name: string;
  /** Redis's arity (N exact, -N at least N, counting the name); ACL DRYRUN checks it. */
  readonly arity: number;
  /** Every ACL category of the command, explicit and implied (`fast`/`slow`...). */
  readonly categories: readonly string[];
  /** Runs without authentication and is allowed to every user (Redis's CMD_NO_AUTH). */
  readonly noAuth?: boolean;
  /** The subcommands of a container (CONFIG, CLIENT, ACL...). */
  readonly subcommands?: readonly AclCommandSpec[];
  /** The keys of a request, with what the command does to them; none when omitted. */
  readonly keys?: (args: readonly string[]) => readonly AclKeyReference[];
  /** The channels a request publishes or subscribes to; none when omitted. */
  readonly channels?: (args: readonly string[]) => readonly AclChannelReference[];
}

/** A command compiled for permission checks. */
export class AclCommand {
  /** Subcommands by lower-case name (the part after `|`). */
  readonly subcommands = new Map<string, AclCommand>();

  constructor(
    /** Index into selectors' command bitmaps. */
    readonly id: number,
    readonly spec: AclCommandSpec,
    readonly parent: AclCommand | undefined,
    /** Bit `i` set when the command is in `ACL_CATEGORIES[i]`. */
    readonly categoryMask: number,
  ) {}

  /** Full lower-case name (`config|get`), as NOPERM replies and ACL LOG print it. */
  get fullName(): string {
    return this.spec.name;
  }

  get arity(): number {
    return this.spec.arity;
  }

  get noAuth(): boolean {
    return this.spec.noAuth === true;
  }
}

/** The bit of a category in `AclCommand.categoryMask`, 0 for an unknown name (any case). */
export function categoryBit(name: string): number {
  const index = (ACL_CATEGORIES as readonly string[]).indexOf(asciiLower(name));
  return index < 0 ? 0 : 1 << index;
}

/** Every command the engine knows, compiled once from the server's specs. */
export class AclCatalogue {
  /** Top-level commands in the order given. */
  readonly commands: readonly AclCommand[];
  /** Every command and subcommand, indexed by id. */
  readonly byId: readonly AclCommand[];
  readonly #byName = new Map<string, AclCommand>();
  readonly #bySpec = new Map<AclCommandSpec, AclCommand>();

  constructor(specs: readonly AclCommandSpec[]) {
    const byId: AclCommand[] = [];
    const compile = (spec: AclCommandSpec, parent: AclCommand | undefined): AclCommand => {
      let mask = 0;
      for (const category of spec.categories) mask |= categoryBit(category);
      const command = new AclCommand(byId.length, spec, parent, mask);
      byId.push(command);
      this.#bySpec.set(spec, command);
      for (const sub of spec.subcommands ?? []) {
        const compiled = compile(sub, command);
        command.subcommands.set(sub.name.slice(sub.name.indexOf("|") + 1), compiled);
      }
      return command;
    };
    const commands: AclCommand[] = [];
    for (const spec of specs) {
      if (this.#byName.has(spec.name)) throw new Error(`Command described twice: ${spec.name}`);
      const command = compile(spec, undefined);
      this.#byName.set(spec.name, command);
      commands.push(command);
    }
    this.commands = commands;
    this.byId = byId;
  }

  /** How many commands and subcommands there are (the bitmaps' size). */
  get size(): number {
    return this.byId.length;
  }

  /** The compiled form of one of the specs this catalogue was built from. */
  of(spec: AclCommandSpec): AclCommand | undefined {
    return this.#bySpec.get(spec);
  }

  /**
   * A command by name in any case, `name` or `container|sub` (Redis's
   * lookupCommandBySds): undefined for unknown names, for a subcommand of a
   * command that has none, and for more than one `|`.
   */
  lookup(name: string): AclCommand | undefined {
    const parts = asciiLower(name).split("|");
    if (parts.length > 2) return undefined;
    const base = this.#byName.get(parts[0]!);
    if (base === undefined || parts.length === 1) return base;
    return base.subcommands.get(parts[1]!);
  }

  /**
   * The command a request runs (Redis's lookupCommand): the subcommand of a
   * container when there is a second argument, undefined when unknown.
   */
  resolve(args: readonly string[]): AclCommand | undefined {
    const base = this.#byName.get(asciiLower(args[0]!));
    if (base === undefined || base.subcommands.size === 0 || args.length < 2) return base;
    return base.subcommands.get(asciiLower(args[1]!));
  }

  /** Every command and subcommand in a category (by its bit), in catalogue order. */
  inCategory(bit: number): AclCommand[] {
    return this.byId.filter((command) => (command.categoryMask & bit) !== 0);
  }
}

function allArguments(pattern: boolean) {
  return (args: readonly string[]): AclChannelReference[] => {
    const channels: AclChannelReference[] = [];
    for (let position = 1; position < args.length; position++) {
      channels.push({ position, pattern });
    }
    return channels;
  };
}

const FIRST_ARGUMENT = (): AclChannelReference[] => [{ position: 1, pattern: false }];

/** The channel finders of the commands Redis 7.0 checks channels for, by name. */
export const REDIS_CHANNEL_FINDERS: ReadonlyMap<
  string,
  (args: readonly string[]) => readonly AclChannelReference[]
> = new Map([
  ["publish", FIRST_ARGUMENT],
  ["spublish", FIRST_ARGUMENT],
  ["subscribe", allArguments(false)],
  ["ssubscribe", allArguments(false)],
  ["psubscribe", allArguments(true)],
]);

/**
 * What ACL key checks need from Redis's key-spec flags: ACCESS reads,
 * INSERT, DELETE and UPDATE write (ACLSelectorCheckKey). Flags are spelled
 * as in Redis's JSON files (upper case) or as COMMAND INFO prints them.
 */
export function keyAccess(flags: readonly string[]): { read: boolean; write: boolean } {
  let read = false;
  let write = false;
  for (const flag of flags) {
    switch (flag) {
      case "ACCESS":
      case "access":
        read = true;
        break;
      case "INSERT":
      case "insert":
      case "DELETE":
      case "delete":
      case "UPDATE":
      case "update":
        write = true;
    }
  }
  return { read, write };
}
