/**
 * The command table's vocabulary: what a command declaration says, and the
 * facts Redis derives from it.
 *
 * Like Redis's `src/commands/*.json`, a command is data. A family declares
 * each command once with `command({...})`: its name, arity (N exact, -N at
 * least N, counting the name), flags, explicit ACL categories, key specs,
 * how it reaches the AOF, and the handler that runs it. Everything the
 * server enforces or derives behaviour from is here, in the family file:
 * the dispatcher checks arity and flags, the executor reads `propagation`,
 * ACL checks read the categories and the keys a request names. What only
 * documents a command (summary, history, argument trees, tips) is recorded
 * from redis-server in `command_docs.json` (see command_docs.ts) and joined
 * to the table by name when COMMAND DOCS/INFO are written.
 *
 * Derived facts are computed here once, as Redis computes them at start-up:
 * - ACL categories: the explicit ones plus those Redis's
 *   `setImplicitACLCategories` adds from the flags (write, read, admin and
 *   dangerous, pubsub, fast or else slow, blocking), in ACL CAT's order.
 * - COMMAND INFO's legacy first/last/step and the `movablekeys` flag, from
 *   the key specs as `populateCommandLegacyRangeSpec` does.
 * - The keys of a request with their flags (`requestKeys`), following
 *   `getKeysFromCommandWithSpecs`: key specs first, and the command's own
 *   key finder (Redis's getkeys_proc) when the specs cannot answer (a spec
 *   with VARIABLE_FLAGS or INCOMPLETE, or an invalid numkeys).
 *
 * Propagation follows Dragonfly's JOURNALED / NO_AUTOJOURNAL split:
 * - `as-sent` (the default): when the command changed data it is logged
 *   exactly as the client sent it.
 * - `effects`: the handler records what it did with `client.addEffect`
 *   (SPOP as SREM, SET ... EX as SET ... PXAT, BLPOP as LPOP), because
 *   replaying the request would not reproduce the same state.
 * - `transaction`: the handler runs other commands through the executor
 *   (EXEC, later scripts); their effects are logged, wrapped in MULTI/EXEC
 *   when there is more than one, so a replay applies all or none.
 *
 * @example A declaration
 * ```ts
 * command({
 *   name: "lmove",
 *   arity: 5,
 *   flags: ["write", "denyoom"],
 *   aclCategories: ["list"],
 *   keySpecs: [
 *     { flags: ["RW", "ACCESS", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } },
 *     { flags: ["RW", "INSERT"], begin: { index: 2 }, find: { lastKey: 0 } },
 *   ],
 *   handler: lmove,
 * });
 * ```
 *
 * @module
 */

import { atoi } from "../protocol/integers.ts";
import type { Client } from "./client.ts";

/** Command flags, as Redis's command JSON files name them (lower case). */
export type CommandFlag =
  | "write"
  | "readonly"
  | "denyoom"
  | "admin"
  | "pubsub"
  | "noscript"
  | "blocking"
  | "loading"
  | "stale"
  | "skip_monitor"
  | "skip_slowlog"
  | "asking"
  | "fast"
  | "no_auth"
  | "may_replicate"
  | "sentinel"
  | "only_sentinel"
  | "no_mandatory_keys"
  | "protected"
  | "no_async_loading"
  | "no_multi"
  | "allow_busy";

/**
 * Every ACL category, in Redis's order (ACL CAT lists them so, and COMMAND
 * INFO lists a command's categories in this order).
 */
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

/** An ACL category name, without the `@`. */
export type AclCategory = typeof ACL_CATEGORIES[number];

/** Key spec flags, as Redis's command JSON files spell them. */
export type KeySpecFlag =
  | "RO"
  | "RW"
  | "OW"
  | "RM"
  | "ACCESS"
  | "UPDATE"
  | "INSERT"
  | "DELETE"
  | "NOT_KEY"
  | "INCOMPLETE"
  | "VARIABLE_FLAGS";

/** Where a key spec's search starts: a fixed index, after a keyword, or unknown. */
export type BeginSearch =
  | { readonly index: number }
  /** Searched from `startFrom` (negative: from the end, backwards). */
  | { readonly keyword: string; readonly startFrom: number }
  | "unknown";

/** How a key spec finds its keys once the search began. */
export type FindKeys =
  /**
   * A range: `lastKey` relative to the first key (negative: from the end),
   * every `keyStep`-th argument (default 1); `limit` (default 0) divides
   * what is left when lastKey is -1 (XREAD's keys and IDs).
   */
  | { readonly lastKey: number; readonly keyStep?: number; readonly limit?: number }
  /** A count at `keyNumIndex` (relative), then keys from `firstKey` (relative to the count). */
  | { readonly keyNumIndex: number; readonly firstKey: number; readonly keyStep?: number }
  | "unknown";

/** One of Redis's key specs: which arguments are keys and how they are used. */
export interface KeySpec {
  readonly flags: readonly KeySpecFlag[];
  readonly begin: BeginSearch;
  readonly find: FindKeys;
  /** Redis's explanatory note, shown by COMMAND INFO. */
  readonly notes?: string;
}

/** A key in a request: its argument position and how the command uses it. */
export interface KeyReference {
  readonly position: number;
  readonly flags: readonly KeySpecFlag[];
}

/**
 * A command's own key finder (Redis's getkeys_proc), for requests its key
 * specs cannot describe. Returns no keys for a request that will fail.
 */
export type KeyFinder = (args: readonly string[]) => KeyReference[];

/** How an executed command reaches the AOF; see the module doc. */
export type Propagation = "as-sent" | "effects" | "transaction";

/**
 * Runs a command whose arity has been checked. Replies go to `client.reply`;
 * failures are thrown as CommandError before anything is written.
 */
export type CommandHandler = (client: Client, args: string[]) => void;

/** What a family writes for each command. */
export interface CommandDeclaration {
  /** Lower-case name; `container|sub` for subcommands. */
  name: string;
  arity: number;
  flags: readonly CommandFlag[];
  /** ACL categories beyond those the flags imply (Redis's `acl_categories`). */
  aclCategories?: readonly AclCategory[];
  /** Which arguments are keys, in Redis's order (argument trees refer to them by index). */
  keySpecs?: readonly KeySpec[];
  /** Redis's getkeys_proc, for commands whose specs cannot always answer. */
  keyFinder?: KeyFinder;
  /** How the command is logged; `as-sent` when omitted. */
  propagation?: Propagation;
  /**
   * Answers a request of this command that the dispatcher refused before
   * running it (wrong arity, MISCONF...); by default an error reply. EXEC
   * uses it to discard the transaction, as Redis's rejectCommand does.
   */
  onRejected?: (client: Client, message: string) => void;
  /** Runs the command; containers (CLIENT, CONFIG) have subcommands instead. */
  handler?: CommandHandler;
  subcommands?: readonly CommandDeclaration[];
}

/** COMMAND INFO's legacy key positions (0, 0, 0 when they say nothing). */
export interface LegacyKeyRange {
  readonly first: number;
  readonly last: number;
  readonly step: number;
}

/** A declaration with the lookups the dispatcher needs and Redis's derived facts. */
export interface Command extends CommandDeclaration {
  readonly propagation: Propagation;
  readonly keySpecs: readonly KeySpec[];
  readonly isWrite: boolean;
  readonly isBlocking: boolean;
  /** Explicit plus implied ACL categories, in ACL_CATEGORIES order. */
  readonly categories: readonly AclCategory[];
  /** `categories` as bits, 1 << (index in ACL_CATEGORIES), for quick ACL checks. */
  readonly categoryMask: number;
  /** The keys cannot be told from fixed positions (COMMAND INFO's `movablekeys`). */
  readonly movableKeys: boolean;
  readonly legacyKeyRange: LegacyKeyRange;
  /** The container's subcommands by lower-case name (`get` for `config|get`). */
  readonly subcommandTable?: ReadonlyMap<string, Command>;
  /** For a subcommand, the container's name (`config`). */
  readonly containerName?: string;
}

/** Declares a command; families call this once per command. */
export function command(declaration: CommandDeclaration): Command {
  const keySpecs = declaration.keySpecs ?? [];
  const categories = aclCategoriesOf(declaration);
  const { range, movable } = legacyRange(keySpecs);
  const separator = declaration.name.indexOf("|");
  return {
    ...declaration,
    keySpecs,
    propagation: declaration.propagation ?? "as-sent",
    isWrite: declaration.flags.includes("write"),
    isBlocking: declaration.flags.includes("blocking"),
    categories,
    categoryMask: categories.reduce((mask, category) => mask | categoryBit(category), 0),
    movableKeys: movable,
    legacyKeyRange: range,
    containerName: separator < 0 ? undefined : declaration.name.slice(0, separator),
    subcommandTable: declaration.subcommands
      ? new Map(
        declaration.subcommands.map((sub) => [sub.name.split("|")[1]!, command(sub)]),
      )
      : undefined,
  };
}

/** The bit of `category` in `Command.categoryMask`. */
export function categoryBit(category: AclCategory): number {
  return 1 << ACL_CATEGORIES.indexOf(category);
}

/**
 * A command's full ACL category list: the declared ones plus those its flags
 * imply (Redis's setImplicitACLCategories), in ACL_CATEGORIES order.
 */
export function aclCategoriesOf(
  declaration: Pick<CommandDeclaration, "flags" | "aclCategories">,
): AclCategory[] {
  const flags = declaration.flags;
  const found = new Set<AclCategory>(declaration.aclCategories ?? []);
  if (flags.includes("write")) found.add("write");
  // Scripting commands are left out of @read on purpose, as in Redis.
  if (flags.includes("readonly") && !found.has("scripting")) found.add("read");
  if (flags.includes("admin")) found.add("admin").add("dangerous");
  if (flags.includes("pubsub")) found.add("pubsub");
  if (flags.includes("fast")) found.add("fast");
  if (flags.includes("blocking")) found.add("blocking");
  if (!found.has("fast")) found.add("slow");
  return ACL_CATEGORIES.filter((category) => found.has(category));
}

const NO_RANGE: LegacyKeyRange = { first: 0, last: 0, step: 0 };

function isPlainRange(spec: KeySpec): spec is KeySpec & {
  begin: { index: number };
  find: { lastKey: number; keyStep?: number; limit?: number };
} {
  return typeof spec.begin === "object" && "index" in spec.begin &&
    typeof spec.find === "object" && "lastKey" in spec.find;
}

/**
 * COMMAND INFO's first/last/step and whether keys are movable, from the key
 * specs, as Redis's populateCommandLegacyRangeSpec: the consecutive plain
 * ranges at the front merge into one; any other spec makes keys movable.
 */
function legacyRange(specs: readonly KeySpec[]): { range: LegacyKeyRange; movable: boolean } {
  if (specs.length === 0) return { range: NO_RANGE, movable: false };
  const only = specs[0]!;
  if (specs.length === 1 && isPlainRange(only)) {
    const lastKey = only.find.lastKey;
    return {
      range: {
        first: only.begin.index,
        last: lastKey >= 0 ? only.begin.index + lastKey : lastKey,
        step: only.find.keyStep ?? 1,
      },
      movable: only.flags.includes("INCOMPLETE"),
    };
  }
  let movable = false;
  let first = 0;
  let last = 0;
  let previousLast = 0;
  for (const spec of specs) {
    if (!isPlainRange(spec)) {
      movable = true;
      continue;
    }
    const index = spec.begin.index;
    if ((spec.find.keyStep ?? 1) !== 1 || (previousLast !== 0 && previousLast !== index - 1)) {
      movable = true;
      continue;
    }
    if (spec.flags.includes("INCOMPLETE")) movable = true;
    if (first === 0) first = index;
    const lastKey = spec.find.lastKey;
    last = lastKey >= 0 ? index + lastKey : lastKey;
    previousLast = last;
  }
  return { range: first === 0 ? NO_RANGE : { first, last, step: 1 }, movable };
}

/** The union of the specs' flags, of their complements when `inverted` (getAllKeySpecsFlags). */
function anySpec(cmd: Command, flag: KeySpecFlag, inverted: boolean): boolean {
  return cmd.keySpecs.some((spec) => spec.flags.includes(flag) !== inverted);
}

/**
 * Whether a command names keys at all (Redis's doesCommandHaveKeys): a key
 * finder, or a key spec for something other than a channel.
 */
export function hasKeys(cmd: Command): boolean {
  return cmd.keyFinder !== undefined || anySpec(cmd, "NOT_KEY", true);
}

/** Redis's string2ll acceptance, for numkeys arguments. */
function parseKeyCount(text: string): number | undefined {
  if (!/^(0|-?[1-9][0-9]{0,18})$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/**
 * The keys of `args` found through key specs (Redis's getKeysUsingKeySpecs),
 * or undefined when a spec cannot answer (an invalid count, a range out of
 * bounds, an unknown or incomplete spec).
 */
function keysFromSpecs(cmd: Command, args: readonly string[]): KeyReference[] | undefined {
  const count = args.length;
  const keys: KeyReference[] = [];
  for (const spec of cmd.keySpecs) {
    if (spec.flags.includes("NOT_KEY")) continue;
    let first = 0;
    const begin = spec.begin;
    if (begin === "unknown") return undefined;
    if ("index" in begin) {
      first = begin.index;
    } else {
      const forward = begin.startFrom > 0;
      const start = forward ? begin.startFrom : count + begin.startFrom;
      const end = forward ? count - 1 : 1;
      const keyword = begin.keyword.toLowerCase();
      for (let i = start; i !== end; i = start <= end ? i + 1 : i - 1) {
        if (i >= count || i < 1) break;
        if (args[i]!.toLowerCase() === keyword) {
          first = i + 1;
          break;
        }
      }
      if (first === 0) continue;
    }
    const find = spec.find;
    if (find === "unknown") return undefined;
    let last: number;
    let step: number;
    if ("lastKey" in find) {
      step = find.keyStep ?? 1;
      const limit = find.limit ?? 0;
      if (find.lastKey >= 0) last = first + find.lastKey;
      else if (limit === 0) last = count + find.lastKey;
      else last = first + (Math.trunc((count - first) / limit) + find.lastKey);
    } else {
      step = find.keyStep ?? 1;
      if (find.keyNumIndex >= count) return undefined;
      const numkeys = parseKeyCount(args[first + find.keyNumIndex] ?? "");
      if (numkeys === undefined || numkeys < 0) return undefined;
      first += find.firstKey;
      last = first + numkeys - 1;
    }
    if (last >= count || last < first || first >= count) return undefined;
    for (let i = first; i <= last; i += step) keys.push({ position: i, flags: spec.flags });
    if (spec.flags.includes("INCOMPLETE")) return undefined;
  }
  return keys;
}

/**
 * The keys a request names, with how the command uses each (Redis's
 * getKeysFromCommandWithSpecs): from the key specs when they are reliable,
 * else from the command's key finder, else none. For ACL key permissions
 * and COMMAND GETKEYS/GETKEYSANDFLAGS. `args` is the whole request (the
 * command name first), already resolved to `cmd`.
 *
 * @example
 * ```ts
 * requestKeys(lmove, ["LMOVE", "a", "b", "LEFT", "RIGHT"]);
 * // [{ position: 1, flags: ["RW", "ACCESS", "DELETE"] }, { position: 2, flags: ["RW", "INSERT"] }]
 * ```
 */
export function requestKeys(cmd: Command, args: readonly string[]): KeyReference[] {
  if (anySpec(cmd, "NOT_KEY", true) && !anySpec(cmd, "VARIABLE_FLAGS", false)) {
    const keys = keysFromSpecs(cmd, args);
    if (keys !== undefined) return keys;
  }
  return cmd.keyFinder?.(args) ?? [];
}

/** The key names a request names, in `requestKeys` order. */
export function commandKeys(cmd: Command, args: readonly string[]): string[] {
  return requestKeys(cmd, args).map((key) => args[key.position]!);
}

/** Whether a request has the arity its command declares. */
export function arityMatches(arity: number, argumentCount: number): boolean {
  return arity >= 0 ? argumentCount === arity : argumentCount >= -arity;
}

/**
 * A key finder for `[destination] numkeys key [key ...] ...` commands
 * (Redis's genericGetKeys): `numkeysIndex` holds the count, keys start at
 * `firstKeyIndex`, and the destination (when `storeIndex` is not 0) comes
 * last. Like Redis it reads the count with atoi and reports no flags.
 */
export function numkeysKeyFinder(
  storeIndex: number,
  numkeysIndex: number,
  firstKeyIndex: number,
): KeyFinder {
  return (args) => {
    const numkeys = atoi(args[numkeysIndex] ?? "");
    if (numkeys < 1 || numkeys > args.length - firstKeyIndex) return [];
    const keys: KeyReference[] = [];
    for (let i = 0; i < numkeys; i++) keys.push({ position: firstKeyIndex + i, flags: [] });
    if (storeIndex !== 0) keys.push({ position: storeIndex, flags: [] });
    return keys;
  };
}
