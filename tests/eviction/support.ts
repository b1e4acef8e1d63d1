/**
 * In-process servers for the eviction tests: a manual clock, the AOF
 * effects and key events recorded, and a `send` that runs a request as the
 * dispatcher does once maxmemory is wired into it.
 *
 * The dispatcher's maxmemory step (`operations.eviction.beforeCommand`)
 * lives in a file the eviction work does not own; until it is wired there,
 * `send` calls the hook itself, at the place the dispatcher will, so the
 * same tests hold before and after. `DISPATCHER_WIRED` says which it is,
 * found by asking a server; `SCRIPTS_WIRED` says the same of the scripting
 * runtime's two maxmemory checks, which only the runtime can make.
 *
 * @module
 */

import type { Client } from "../../src/commands/client.ts";
import type { KeyspaceEvents } from "../../src/commands/context.ts";
import { dispatch } from "../../src/commands/dispatcher.ts";
import { CommandError } from "../../src/commands/errors.ts";
import { type Config, defaultConfig } from "../../src/config.ts";
import { Logger } from "../../src/log.ts";
import { Server } from "../../src/server/server.ts";
import type { Clock } from "../../src/store/keyspace.ts";
import { silentTransport } from "../helpers/in_process.ts";
import { decodeReply, type ReplyValue } from "../helpers/servers.ts";

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  constructor(public time = Date.UTC(2024, 0, 1)) {}

  now(): number {
    return this.time;
  }

  advance(milliseconds: number): void {
    this.time += milliseconds;
  }
}

/** Runs one request from `client`, with the maxmemory step first if the dispatcher lacks it. */
export function run(client: Client, args: string[]): void {
  const server = client.server;
  if (!DISPATCHER_WIRED && server.config.maxmemory !== 0) {
    let refused: string | undefined;
    try {
      const cmd = server.commands.resolve(args);
      refused = server.operations.eviction.beforeCommand(client, cmd, args);
      if (refused !== undefined) {
        // As the dispatcher's reject(): the transaction is doomed, EXEC discards it.
        if (client.transaction !== undefined) client.transactionFailed = true;
        server.operations.commandRejected(cmd, refused);
        if (cmd.onRejected !== undefined) cmd.onRejected(client, refused);
        else client.reply.error(refused);
        return;
      }
    } catch (error) {
      if (!(error instanceof CommandError)) throw error;
    }
  }
  dispatch(client, args);
}

/** What `cacheServer` returns. */
export interface CacheServer extends Disposable {
  server: Server;
  clock: ManualClock;
  /** Key events as `db:key:event:class`. */
  events: string[];
  /** Effects the AOF would log, as `db ARGS...`. */
  logged: string[];
  /** Sends a request from the server's first client and decodes the reply. */
  send(...args: string[]): ReplyValue;
  /** Another client, with a `send` of its own. */
  connect(): (...args: string[]) => ReplyValue;
  /** Runs the server cron once (the access clock, client output, stray writes). */
  cron(): void;
}

/** An in-process server with `config` over the defaults (no persistence), on a manual clock. */
export function cacheServer(config: Partial<Config> = {}): CacheServer {
  const clock = new ManualClock();
  const events: string[] = [];
  const logged: string[] = [];
  const recorder: KeyspaceEvents = {
    keyChanged: (db, key, event, eventClass) =>
      events.push(`${db.index}:${key}:${event}:${eventClass}`),
  };
  const server = new Server(
    { ...defaultConfig(), appendonly: false, ...config },
    new Logger("nothing"),
    { clock, observers: [recorder] },
  );
  server.executor.sinks.push({
    append: (dbIndex, args) => logged.push(`${dbIndex} ${args.join(" ")}`),
  });
  const connect = () => {
    const client = server.connect(silentTransport());
    return (...args: string[]) => {
      run(client, args);
      return decodeReply(client.reply.take());
    };
  };
  const send = connect();
  return {
    server,
    clock,
    events,
    logged,
    send,
    connect,
    cron: () => server.cron(),
    [Symbol.dispose]: () => server.operations.dispose(),
  };
}

/** Whether the dispatcher runs the maxmemory step itself (see the module doc). */
export const DISPATCHER_WIRED: boolean = (() => {
  const server = new Server(
    { ...defaultConfig(), appendonly: false, maxmemory: 1 },
    new Logger("nothing"),
  );
  try {
    const client = server.connect(silentTransport());
    dispatch(client, ["SET", "probe", "value"]);
    return new TextDecoder().decode(client.reply.take()).startsWith("-OOM");
  } finally {
    server.operations.dispose();
  }
})();

/** Whether the scripting runtime refuses a script's first write over maxmemory. */
export const SCRIPTS_WIRED: boolean = (() => {
  const server = new Server(
    { ...defaultConfig(), appendonly: false, maxmemory: 1 },
    new Logger("nothing"),
  );
  try {
    const client = server.connect(silentTransport());
    run(client, ["EVAL", "return redis.call('set', 'probe', 'value')", "0"]);
    return new TextDecoder().decode(client.reply.take()).startsWith("-OOM");
  } finally {
    server.operations.dispose();
  }
})();

/** A value of `length` bytes. */
export function text(length: number, fill = "v"): string {
  return fill.repeat(length);
}
