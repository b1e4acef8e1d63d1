/**
 * Connection: the bytes-to-replies loop of one client, independent of the
 * socket layer.
 *
 * A transport hands it received bytes; it parses every complete request,
 * dispatches each in order and then asks the server to flush, so the replies
 * produced by one read leave in one write. It stops early when the client
 * blocks (BLPOP) and carries on with the buffered requests when the client
 * is resumed. A protocol error gets Redis's error reply and closes the
 * connection after it is sent.
 *
 * @module
 */

import type { Client, ClientTransport } from "../commands/client.ts";
import { dispatch } from "../commands/dispatcher.ts";
import { ProtocolError, RequestParser } from "../protocol/parser.ts";
import type { Server } from "./server.ts";

export class Connection {
  readonly parser = new RequestParser();
  readonly client: Client;

  constructor(readonly server: Server, transport: ClientTransport) {
    this.client = server.connect(transport);
  }

  /** Bytes arrived from the socket. */
  received(chunk: Uint8Array): void {
    this.server.stats.netInputBytes += chunk.byteLength;
    this.parser.append(chunk);
    this.process();
  }

  /** Bytes were read straight into `parser.writableRegion`. */
  committed(count: number): void {
    this.server.stats.netInputBytes += count;
    this.parser.commit(count);
    this.process();
  }

  /** Runs every complete buffered request, then flushes the replies. */
  process(): void {
    const client = this.client;
    const parser = this.parser;
    // Once per read rather than per command: idle time has second resolution.
    client.lastInteractionAt = Date.now();
    while (client.blocked === undefined && !client.closeAfterReply && !client.closed) {
      let request;
      try {
        request = parser.next();
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        client.reply.error(`ERR ${error.message}`);
        client.closeAfterReply = true;
        this.server.log.verbose(`Protocol error from client id=${client.id}: ${error.message}`);
        break;
      }
      if (request === undefined) break;
      dispatch(client, request);
    }
    this.server.markPending(client);
    this.server.scheduleFlush();
  }

  /** The socket closed. */
  closed(): void {
    this.server.disconnect(this.client);
  }
}
