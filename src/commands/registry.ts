/**
 * The command table: every family's declarations gathered into one lookup,
 * built once by the server from the families it is given (families.ts).
 *
 * Names are stored lower-case and upper-case, so the common spellings are
 * found without allocating a lower-cased copy per request. Resolution
 * follows Redis's processCommand: the command by name, then a container's
 * subcommand, then the arity check; failures are typed errors carrying
 * Redis's exact text, so callers (the dispatcher, the AOF loader, COMMAND
 * GETKEYS) tell them apart by class, not by message.
 *
 * @module
 */

import { ArityError, unknownCommand, UnknownCommandError, unknownSubcommand } from "./errors.ts";
import { arityMatches, type Command } from "./table.ts";

export class CommandTable {
  readonly #byName = new Map<string, Command>();
  readonly #all: readonly Command[];

  constructor(families: readonly (readonly Command[])[]) {
    const all: Command[] = [];
    for (const family of families) {
      for (const cmd of family) {
        if (this.#byName.has(cmd.name)) throw new Error(`Command declared twice: ${cmd.name}`);
        this.#byName.set(cmd.name, cmd);
        all.push(cmd);
      }
    }
    for (const cmd of all) this.#byName.set(cmd.name.toUpperCase(), cmd);
    this.#all = all;
  }

  /**
   * Applies a `rename-command` directive: the command is found by `to`
   * from now on, and no longer by its own name; an empty `to` removes it
   * from the table's lookups (Redis's way of disabling a command).
   */
  rename(from: string, to: string): void {
    const cmd = this.lookup(from);
    if (cmd === undefined) return;
    this.#byName.delete(from.toLowerCase());
    this.#byName.delete(from.toUpperCase());
    if (to === "") return;
    this.#byName.set(to.toLowerCase(), cmd);
    this.#byName.set(to.toUpperCase(), cmd);
  }

  /** The top-level command called `name` (any case), or undefined. */
  lookup(name: string): Command | undefined {
    return this.#byName.get(name) ?? this.#byName.get(name.toLowerCase());
  }

  /** Every top-level command, in declaration order. */
  all(): readonly Command[] {
    return this.#all;
  }

  /**
   * The command (or subcommand) a request runs. Throws UnknownCommandError
   * for an unknown name or subcommand and ArityError for a wrong argument
   * count, with Redis's texts.
   */
  resolve(args: readonly string[]): Command {
    const name = args[0]!;
    let cmd = this.lookup(name);
    if (cmd === undefined) throw new UnknownCommandError(unknownCommand(name, args));
    if (cmd.subcommandTable !== undefined && args.length >= 2) {
      const sub = cmd.subcommandTable.get(args[1]!.toLowerCase());
      if (sub === undefined) {
        throw new UnknownCommandError(unknownSubcommand(args[1]!, cmd.name));
      }
      cmd = sub;
    }
    if (!arityMatches(cmd.arity, args.length)) throw new ArityError(cmd);
    return cmd;
  }
}
