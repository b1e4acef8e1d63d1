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
 * recorded with `client.addEffect`, and a unit opened by a `transaction`
 * command (EXEC) is wrapped in MULTI/EXEC when it gathered more than one
 * effect, so a replay applies all of it or none. Deletions by expiry come
 * through `addEffect` too: inside a unit they are part of it, outside one
 * (the active expiry cycle) they form a unit of their own.
 *
 * Blocked clients are served through the executor as well (`serve`), with
 * the same error handling as commands and their own unit each, and served
 * after every outermost command, as Redis does after each processCommand.
 * A handler failure never escapes: a CommandError becomes its error reply,
 * anything else is logged and answered with an internal error, and a
 * partly written reply is undone first.
 *
 * @module
 */

import type { Client } from "./client.ts";
import type { ServerContext } from "./context.ts";
import { CommandError, internalError } from "./errors.ts";
import type { Command } from "./table.ts";

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

  constructor(readonly server: ServerContext) {}

  /** Whether a command is running (an execution unit is open). */
  get running(): boolean {
    return this.#depth > 0;
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
  #invoke(
    client: Client,
    cmd: Command,
    args: string[],
    counted: boolean,
  ): void {
    const server = this.server;
    const operations = server.operations;
    const started = counted ? operations.commandStarting(client) : 0;
    const outermost = this.#depth === 0;
    if (outermost) this.#transactional = cmd.propagation === "transaction";
    this.#depth++;
    const dirtyBefore = server.dirty;
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
    // Expiry moves `dirty` too, so a read that expired a key is not logged itself.
    if (
      cmd.propagation === "as-sent" && cmd.isWrite &&
      server.dirty !== dirtyBefore
    ) {
      this.addEffect(client.db.index, args);
    }
    this.#depth--;
    if (outermost) {
      this.#completeUnit();
      server.blocking.serveReady();
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
   * Adds an effect to the open unit, or propagates it at once when no
   * command is running (the active expiry cycle).
   */
  addEffect(dbIndex: number, args: readonly string[]): void {
    this.#effectDatabases.push(dbIndex);
    this.#effects.push(args);
    if (this.#depth === 0) this.#completeUnit();
  }

  /** Replies with the failure of a handler; returns the error text. */
  #failed(
    client: Client,
    replyStart: number,
    error: unknown,
    name: string,
  ): string {
    client.reply.truncate(replyStart);
    if (error instanceof CommandError) {
      client.reply.error(error.message);
      return error.message;
    }
    this.server.log.warning(
      `Error running '${name}': ${(error as Error).stack ?? error}`,
    );
    const message = internalError(name);
    client.reply.error(message);
    return message;
  }

  /** Sends the unit's effects to the sinks, wrapped in MULTI/EXEC for a transaction. */
  #completeUnit(): void {
    const effects = this.#effects;
    const count = effects.length;
    if (count === 0) return;
    const databases = this.#effectDatabases;
    const sinks = this.sinks;
    const wrap = this.#transactional && count > 1;
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
