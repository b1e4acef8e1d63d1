/**
 * The command table's vocabulary: what a command declaration says.
 *
 * Like Redis's `src/commands/*.json`, a command is data: its name, arity
 * (N exact, -N at least N, counting the name), flags, key positions, group
 * and summary, how it reaches the AOF, plus the handler that runs it. The
 * dispatcher checks existence and arity from this; COMMAND INFO/DOCS/COUNT
 * are generated from it; the executor reads `propagation`. Families declare
 * their commands with `command(...)` and export them as a list;
 * `families.ts` gathers the lists and `registry.ts` builds the table.
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
 * @module
 */

import type { Client } from "./client.ts";

/** Flags as COMMAND INFO spells them. */
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
  | "fast"
  | "no_auth"
  | "may_replicate"
  | "no_mandatory_keys"
  | "no_multi"
  | "movablekeys"
  | "allow_busy";

/** Command groups as COMMAND DOCS names them. */
export type CommandGroup =
  | "generic"
  | "string"
  | "list"
  | "set"
  | "sorted-set"
  | "hash"
  | "pubsub"
  | "transactions"
  | "connection"
  | "server"
  | "bitmap";

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
  group: CommandGroup;
  summary: string;
  since: string;
  complexity?: string;
  /** Position of the first key, 0 when the command has none. */
  firstKey?: number;
  /** Position of the last key; negative counts from the end (-1 = last argument). */
  lastKey?: number;
  /** Distance between keys (2 for MSET's key/value pairs). */
  keyStep?: number;
  /** For commands whose keys cannot be told from positions (ZUNION's numkeys). */
  keys?: (args: readonly string[]) => string[];
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

/** A declaration with the lookups the dispatcher needs precomputed. */
export interface Command extends CommandDeclaration {
  readonly propagation: Propagation;
  readonly isWrite: boolean;
  readonly isBlocking: boolean;
  readonly subcommandTable?: ReadonlyMap<string, Command>;
}

/** Declares a command; families call this once per command. */
export function command(declaration: CommandDeclaration): Command {
  return {
    ...declaration,
    propagation: declaration.propagation ?? "as-sent",
    isWrite: declaration.flags.includes("write"),
    isBlocking: declaration.flags.includes("blocking"),
    subcommandTable: declaration.subcommands
      ? new Map(
        declaration.subcommands.map((sub) => [sub.name.split("|")[1]!, command(sub)]),
      )
      : undefined,
  };
}

/** The keys a request names, from the command's key positions. */
export function commandKeys(cmd: CommandDeclaration, args: readonly string[]): string[] {
  if (cmd.keys) return cmd.keys(args);
  const first = cmd.firstKey ?? 0;
  if (first === 0) return [];
  const lastSpec = cmd.lastKey ?? first;
  const last = lastSpec < 0 ? args.length + lastSpec : lastSpec;
  const step = cmd.keyStep ?? 1;
  const keys: string[] = [];
  for (let i = first; i <= last && i < args.length; i += step) keys.push(args[i]!);
  return keys;
}

/** Whether a request has the arity its command declares. */
export function arityMatches(arity: number, argumentCount: number): boolean {
  return arity >= 0 ? argumentCount === arity : argumentCount >= -arity;
}
