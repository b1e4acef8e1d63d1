/**
 * Servers for the operations tests: an in-process server with connections
 * driven request by request as a socket connection drives them (the
 * dispatcher, then CLIENT REPLY's reply handling), and the same server
 * listening on a loopback port with its cron running.
 *
 * @module
 */

import type { Client } from "../../src/commands/client.ts";
import { dispatch } from "../../src/commands/dispatcher.ts";
import type { ServerOperations } from "../../src/commands/operations/mod.ts";
import { type Config, defaultConfig } from "../../src/config.ts";
import { Logger } from "../../src/log.ts";
import { listen } from "../../src/server/listener.ts";
import { Server } from "../../src/server/server.ts";
import { silentTransport } from "../helpers/in_process.ts";
import { freePort, LOOPBACK } from "../helpers/servers.ts";

/** A server and its operations part, with connections driven request by request. */
export interface HookedServer {
  server: Server;
  operations: ServerOperations;
  /** Runs one request as a connection would: dispatch, then the reply mode's handling. */
  request(client: Client, args: string[]): void;
  /**
   * A new client and functions that send it a request and return what it
   * received since (`send`), or just return that (`received`).
   */
  connect(): { client: Client; send: (...args: string[]) => string; received: () => string };
}

/** Builds a server with default configuration plus `overrides`. */
export function hookedServer(overrides: Partial<Config> = {}): HookedServer {
  const config = { ...defaultConfig(), appendonly: false, ...overrides };
  const server = new Server(config, new Logger("nothing"));
  const operations = server.operations;
  const request = (client: Client, args: string[]) => {
    const start = client.reply.length;
    dispatch(client, args);
    operations.requestProcessed(client, start);
  };
  const connect = () => {
    // What the server flushed to this client meanwhile (timers, other clients' commands).
    const sent: Uint8Array[] = [];
    const client = server.connect(silentTransport({ write: (bytes) => sent.push(bytes) }));
    const received = () => {
      const text = [...sent, client.reply.take()].map((bytes) =>
        new TextDecoder("latin1").decode(bytes)
      ).join("");
      sent.length = 0;
      return text;
    };
    const send = (...args: string[]) => {
      request(client, args);
      return received();
    };
    return { client, send, received };
  };
  return { server, operations, request, connect };
}

/** A server listening on a free loopback port. */
export interface ListeningServer extends HookedServer {
  port: number;
  stop(): Promise<void>;
}

/** Starts a server on 127.0.0.1 with Deno.listen, its cron running. */
export async function listeningServer(overrides: Partial<Config> = {}): Promise<ListeningServer> {
  const hooked = hookedServer({ bind: LOOPBACK, port: await freePort(), ...overrides });
  const { server } = hooked;
  const listener = await listen(server);
  server.port = listener.port;
  const stopCron = server.startCron();
  return {
    ...hooked,
    port: listener.port,
    stop: async () => {
      stopCron();
      hooked.operations.dispose();
      await listener.close();
    },
  };
}
