/**
 * In-process servers for tests that look inside: a Server with no listener,
 * and clients whose transport goes nowhere, driven through the dispatcher.
 */

import type { ClientTransport } from "../../src/commands/client.ts";
import type { KeyspaceEvents } from "../../src/commands/context.ts";
import { dispatch } from "../../src/commands/dispatcher.ts";
import { defaultConfig } from "../../src/config.ts";
import { Logger } from "../../src/log.ts";
import { Server, type ServerOptions } from "../../src/server/server.ts";

/** A transport that sends nothing; `overrides` replace any of its parts. */
export function silentTransport(overrides: Partial<ClientTransport> = {}): ClientTransport {
  return {
    write() {},
    close() {},
    abort() {},
    pendingBytes: 0,
    resume() {},
    remoteAddress: "127.0.0.1:1",
    localAddress: "127.0.0.1:2",
    ...overrides,
  };
}

/** A server with default configuration, no persistence and no log output. */
export function inProcessServer(options: ServerOptions = {}): Server {
  return new Server({ ...defaultConfig(), appendonly: false }, new Logger("nothing"), options);
}

/**
 * An in-process server that records every key change as `format` renders
 * it, and every effect it would log to the AOF as `db: ARGS`, with one
 * client's command function.
 */
export function recordingServer(
  format: (dbIndex: number, key: string, event: string, eventClass: string) => string,
) {
  const events: string[] = [];
  const logged: string[] = [];
  const recorder: KeyspaceEvents = {
    keyChanged: (db, key, event, eventClass) =>
      events.push(format(db.index, key, event, eventClass)),
  };
  const server = inProcessServer({ observers: [recorder] });
  server.executor.sinks.push({
    append: (dbIndex, args) => logged.push(`${dbIndex}: ${args.join(" ")}`),
  });
  const connect = () => {
    const client = server.connect(silentTransport());
    return (...args: string[]) => {
      dispatch(client, args);
      return client.reply.take();
    };
  };
  return { server, events, logged, connect };
}
