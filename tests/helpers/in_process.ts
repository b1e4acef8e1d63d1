/**
 * In-process servers for tests that look inside: a Server with no listener,
 * and clients whose transport goes nowhere, driven through the dispatcher.
 */

import { defaultConfig } from "../../src/config.ts";
import type { ClientTransport } from "../../src/server/client.ts";
import { Logger } from "../../src/server/log.ts";
import { Server } from "../../src/server/server.ts";

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
export function inProcessServer(): Server {
  return new Server({ ...defaultConfig(), appendonly: false }, new Logger("nothing"));
}
