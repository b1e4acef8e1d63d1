/**
 * Executor: runs resolved commands and is the one route by which their
 * effects reach the AOF (and, later, replicas).
 *
 * It follows Redis's `call()` and `propagatePendingCommands()`. Every
 * command runs inside an execution unit: the outermost `call` opens it,
 * nested calls (EXEC running its queue; later, scripts) run inside it, and
 * when the outermost call returns, the effects gathered during the unit go
 * to the sinks in one go. What a command contributes depends on its
 * declared `propagation` (see table.ts): `as-sent` write commands that
 * changed data add their request, `effects` commands add what their handler
 * recorded with `client.addEffect`, and a unit that gathered more than one
 * effect is wrapped in MULTI/EXEC, as Redis 7.0's propagatePendingCommands
 * wraps it, so a replay applies all of it or none. Deletions by expiry come
 * through `expired`: inside a unit they are part of it (a write to a key
 * that had expired is logged as MULTI, DEL, the write, EXEC, as Redis logs
 * it), outside one (the active expiry cycle) they form a unit of their own.
 *
 * Blocked clients are served through the executor as well (`serve`), with
 * the same error handling as commands and their own unit each, and served
 * after every outermost command, as Redis does after each processCommand.
 * A handler failure never escapes: a CommandError becomes its error reply,
 * anything else is logged and answered with an internal error, and a
 * partly written reply is undone first.
 *
 * A unit can outlive its command's handler: a script still running after
 * `busy-reply-threshold` is resumed in slices between turns of the event
 * loop, and its effects must still leave as one unit, when it ends. The
 * handler asks for that with `holdUnit`; when it returns, the unit's
 * effects are set aside instead of propagated, and each later slice runs
 * inside the unit again through `continueUnit`, the last one completing
 * it. While a unit is held no blocked client is served (serving writes
 * data), exactly as nothing else runs in Redis while a script is busy.
 *
 * @module
 */

import type { Client } from "./client.ts";
import type { ServerContext } from "./context.ts";
import { CommandError, internalError } from "./errors.ts";
import type { Command } from "./table.ts";

/**
 * An execution unit kept open across turns of the event loop (a long
 * script): its effects so far, and whether a `transaction` command opened it.
 */
export class HeldUnit {
  readonly effectDatabases: number[] = [];
  readonly effects: (readonly string[])[] = [];
  constructor(readonly transactional: boolean) {}
}

/** Where completed units' effects go (the AOF; replication later). */
export interface EffectSink {
  /** One command of a completed unit, to run in database `dbIndex`. */
  append(dbIndex: number, args: readonly string[]): void;
}

export class Executor {
  readonly sinks: EffectSink[] = [];
  #depth = 0;
  /** The open unit's effects: database index and arguments, in order. */
  readonly #effectDatabases: number[] = [];
  readonly #effects: (readonly string[])[] = [];
  /** The open unit was opened by a `transaction` command. */
  #transactional = false;
  /** Keys expired so far, which move `dirty` without the running command changing anything. */
  #expiries = 0;
  /** Set by `holdUnit` while the outermost handler runs. */
  #holding: HeldUnit | undefined;
  /** Units held open across event-loop turns. */
  #held = 0;

  constructor(readonly server: ServerContext) {}

  /** Whether a command is running (an execution unit is open). */
  get running(): boolean {
    return this.#depth > 0;
  }

  /** How many commands are running, the outermost included (1: a top-level command). */
  get depth(): number {
    return this.#depth;
  }

  /** Whether a unit is held open (a long script is between slices). */
  get holding(): boolean {
    return this.#held > 0;
  }

  /**
   * Keeps the running outermost command's unit open after its handler
   * returns: its effects are not propagated and blocked clients are not
   * served until `continueUnit` completes it.
   */
  holdUnit(): HeldUnit {
    if (this.#depth !== 1) throw new Error("Only a top-level command can hold its unit open");
    return this.#holding ??= new HeldUnit(this.#transactional);
  }

  /**
   * Runs `work` inside a held unit, as the outermost command. When `work`
   * returns true the unit completes (its effects propagate, blocked
   * clients whose keys became ready are served); false keeps it held for
   * another call. A failure in `work` propagates after the unit is held
   * again.
   */
  continueUnit(unit: HeldUnit, work: () => boolean): void {
    if (this.#depth !== 0) throw new Error("A held unit continues only at top level");
    this.#depth = 1;
    this.#transactional = unit.transactional;
    this.#restore(unit);
    let done = false;
    try {
      done = work();
    } finally {
      this.#depth = 0;
      if (done) {
        this.#held--;
        this.#completeUnit();
      } else {
        this.#store(unit);
      }
    }
    if (done && this.#held === 0) this.server.blocking.serveReady();
  }

  #store(unit: HeldUnit): void {
    unit.effectDatabases.push(...this.#effectDatabases);
    unit.effects.push(...this.#effects);
    this.#effectDatabases.length = 0;
    this.#effects.length = 0;
  }

  #restore(unit: HeldUnit): void {
    this.#effectDatabases.push(...unit.effectDatabases);
    this.#effects.push(...unit.effects);
    unit.effectDatabases.length = 0;
    unit.effects.length = 0;
  }

  /**
   * Runs `cmd` for `client` and writes its reply; inside a unit if one is
   * open, otherwise as a unit of its own, after which the effects are
   * propagated and blocked clients whose keys became ready are served.
   */
  call(client: Client, cmd: Command, args: string[]): void {
    this.#invoke(client, cmd, args, true);
  }

  /**
   * Runs a command read from the AOF on `client` like any other, except that
   * it is not counted in the statistics (Redis runs them on a fake client
   * outside call()); returns the error reply's text if it failed.
   */
  replay(client: Client, cmd: Command, args: string[]): string | undefined {
    this.#invoke(client, cmd, args, false);
    const reply = client.reply;
    if (!reply.startsWithError()) {
      reply.truncate(0);
      return undefined;
    }
    return new TextDecoder().decode(reply.take().subarray(1, -2));
  }

  /** Runs the handler; `counted` commands are timed and counted (INFO, SLOWLOG, MONITOR...). */
  #invoke(client: Client, cmd: Command, args: string[], counted: boolean): void {
    const server = this.server;
    const operations = server.operations;
    const started = counted ? operations.commandStarting(client) : 0;
    const outermost = this.#depth === 0;
    if (outermost) this.#transactional = cmd.propagation === "transaction";
    this.#depth++;
    const dirtyBefore = server.dirty - this.#expiries;
    const replyStart = client.reply.length;
    let failure: string | undefined;
    try {
      cmd.handler!(client, args);
    } catch (error) {
      failure = this.#failed(client, replyStart, error, cmd.name);
    }
    if (counted) {
      // Counted after the handler, as Redis does: INFO does not count itself.
      server.stats.commandsProcessed++;
      operations.commandFinished(client, cmd, args, started, failure);
    }
    // Expiry moves `dirty` too: a command that only expired a key is not logged itself.
    if (
      cmd.propagation === "as-sent" && cmd.isWrite && server.dirty - this.#expiries !== dirtyBefore
    ) {
      this.addEffect(client.db.index, args);
    }
    this.#depth--;
    if (outermost) {
      const holding = this.#holding;
      if (holding !== undefined) {
        this.#holding = undefined;
        this.#held++;
        this.#store(holding);
        return;
      }
      this.#completeUnit();
      if (this.#held === 0) server.blocking.serveReady();
    }
  }

  /**
   * Serves a blocked client now that one of its keys is ready: `tryServe`
   * does what the command's non-blocking form would and returns whether the
   * client got its reply. A failure becomes the client's error reply and
   * also ends the wait.
   */
  serve(client: Client, tryServe: () => boolean): boolean {
    const outermost = this.#depth === 0;
    if (outermost) this.#transactional = false;
    this.#depth++;
    const replyStart = client.reply.length;
    let served: boolean;
    try {
      served = tryServe();
    } catch (error) {
      this.#failed(client, replyStart, error, client.lastCommandName);
      served = true;
    }
    this.#depth--;
    if (outermost) this.#completeUnit();
    return served;
  }

  /**
   * Records the DEL of `key`, which expired, as an effect; the change it
   * announces next moves `dirty` without the running command changing
   * anything.
   */
  expired(dbIndex: number, key: string): void {
    this.#expiries++;
    this.addEffect(dbIndex, ["DEL", key]);
  }

  /**
   * Adds an effect to the open unit, or propagates it at once when no
   * command is running (the active expiry cycle).
   */
  addEffect(dbIndex: number, args: readonly string[]): void {
    this.#effectDatabases.push(dbIndex);
    this.#effects.push(args);
    if (this.#depth === 0) this.#completeUnit();
  }

  /** Replies with the failure of a handler; returns the error text. */
  #failed(client: Client, replyStart: number, error: unknown, name: string): string {
    client.reply.truncate(replyStart);
    if (error instanceof CommandError) {
      client.reply.error(error.message);
      return error.message;
    }
    this.server.log.warning(`Error running '${name}': ${(error as Error).stack ?? error}`);
    const message = internalError(name);
    client.reply.error(message);
    return message;
  }

  /** Sends the unit's effects to the sinks, wrapped in MULTI/EXEC when there are several. */
  #completeUnit(): void {
    const effects = this.#effects;
    const count = effects.length;
    if (count === 0) return;
    const databases = this.#effectDatabases;
    const sinks = this.sinks;
    const wrap = count > 1;
    for (let s = 0; s < sinks.length; s++) {
      const sink = sinks[s]!;
      if (wrap) sink.append(databases[0]!, MULTI);
      for (let i = 0; i < count; i++) sink.append(databases[i]!, effects[i]!);
      if (wrap) sink.append(databases[count - 1]!, EXEC);
    }
    effects.length = 0;
    databases.length = 0;
  }
}

const MULTI: readonly string[] = ["MULTI"];
const EXEC: readonly string[] = ["EXEC"];
