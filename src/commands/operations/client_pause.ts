/**
 * CLIENT PAUSE: holding back clients' commands until a deadline or CLIENT
 * UNPAUSE.
 *
 * It follows Redis's processCommand: while a pause is on, a command it
 * covers (every command for ALL; for WRITE, commands that write or may
 * replicate, including EXEC of a transaction holding one) is not run but
 * postponed, and the client stops reading its pipeline, as a blocked
 * client does (`client.blocked` is set). The dispatcher asks `postpones`
 * just before it would queue or run the command, so a write sent inside
 * MULTI waits too. When the pause ends the postponed requests run again,
 * in the order they arrived, and their clients resume.
 *
 * A second CLIENT PAUSE extends the pause and can widen WRITE to ALL, never
 * the reverse. One timer per pause; none while nothing is paused.
 *
 * @module
 */

import type { BlockedState, Client } from "../client.ts";
import type { KeyspaceEvents, ServerContext } from "../context.ts";
import type { Command } from "../table.ts";

/** What a pause holds back. */
export type PauseMode = "write" | "all";

/** A client whose request waits for the pause to end. */
class Postponed implements BlockedState {
  readonly deadline = 0;

  constructor(
    readonly pause: ClientPause,
    readonly client: Client,
    readonly args: string[],
  ) {}

  onTimeout(): void {}

  dispose(): void {
    if (this.client.blocked === this) this.client.blocked = undefined;
    this.pause.forget(this);
  }
}

/** setTimeout's longest delay. */
const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * Whether a command writes or may replicate (Redis's is_may_replicate_command):
 * by its flags, a script that may write by its own, EXEC by what it queued.
 */
function mayReplicate(client: Client, cmd: Command, args: readonly string[]): boolean {
  if (cmd.isWrite || cmd.flags.includes("may_replicate")) return true;
  if (client.server.scripts.mayWrite(cmd, args)) return true;
  if (cmd.name !== "exec" || client.transaction === undefined) return false;
  return client.transaction.some((queued) => mayReplicate(client, queued.command, queued.args));
}

export class ClientPause implements KeyspaceEvents {
  #mode: PauseMode | undefined;
  /** Absolute end of the pause, in ms. */
  #end = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #postponed = new Set<Postponed>();

  /**
   * `rerun` runs a postponed request again once the pause is over (the
   * dispatcher's `dispatch`; injected to keep the folder graph one way).
   */
  constructor(
    readonly server: ServerContext,
    readonly rerun: (client: Client, args: string[]) => void,
  ) {}

  /** The pause in force, if any. */
  get mode(): PauseMode | undefined {
    return this.#mode;
  }

  /** CLIENT PAUSE: until `end` (absolute ms), widening WRITE to ALL when asked. */
  pause(mode: PauseMode, end: number): void {
    if (this.#mode !== "all") this.#mode = mode;
    if (end > this.#end) this.#end = end;
    this.#schedule();
  }

  /** Arms the end-of-pause timer; long pauses re-arm it, as timers cannot exceed 2^31-1 ms. */
  #schedule(): void {
    clearTimeout(this.#timer);
    const delay = Math.max(this.#end - Date.now(), 0);
    this.#timer = setTimeout(
      () => delay > MAX_TIMER_DELAY ? this.#schedule() : this.unpause(),
      Math.min(delay, MAX_TIMER_DELAY),
    );
  }

  /** Ends the pause (CLIENT UNPAUSE, or its deadline) and runs the postponed requests. */
  unpause(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#mode = undefined;
    this.#end = 0;
    if (this.#postponed.size === 0) return;
    const waiting = [...this.#postponed];
    this.#postponed.clear();
    const server = this.server;
    for (const postponed of waiting) {
      const client = postponed.client;
      if (client.blocked === postponed) client.blocked = undefined;
      if (client.closed) continue;
      this.rerun(client, postponed.args);
      server.markPending(client);
      if (client.blocked === undefined) {
        queueMicrotask(() => {
          if (!client.closed && client.blocked === undefined) client.transport.resume();
        });
      }
    }
    server.flush();
  }

  /**
   * Whether `cmd` from `client` must wait for the pause to end. The
   * dispatcher checks `mode !== undefined` first, so no pause costs one
   * comparison.
   */
  postpones(client: Client, cmd: Command, args: readonly string[]): boolean {
    if (this.#mode === undefined) return false;
    return this.#mode === "all" || mayReplicate(client, cmd, args);
  }

  /** Holds `args` back until the pause ends; the client stops reading meanwhile. */
  postpone(client: Client, args: string[]): void {
    const postponed = new Postponed(this, client, args);
    this.#postponed.add(postponed);
    client.blocked = postponed;
  }

  /** Whether the client is waiting for the pause (CLIENT UNBLOCK leaves such clients be). */
  isPostponed(client: Client): boolean {
    return client.blocked instanceof Postponed;
  }

  /** Removes a postponed request (its client went away). */
  forget(postponed: Postponed): void {
    this.#postponed.delete(postponed);
  }

  clientClosed(client: Client): void {
    if (client.blocked instanceof Postponed) client.blocked.dispose();
  }

  /** Clears the timer (server shutdown); postponed clients are dropped with their connections. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
