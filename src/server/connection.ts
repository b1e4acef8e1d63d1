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
import { describeClient } from "../commands/client_info.ts";
import { dispatch } from "../commands/dispatcher.ts";
import { ProtocolError, RequestParser } from "../protocol/parser.ts";
import type { Server } from "./server.ts";

/** Unsent output from which the output limit is checked after each command of a batch. */
const OUTPUT_CHECK_BYTES = 1024 * 1024;

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
    const config = this.server.config;
    // Once per read rather than per command: idle time has second resolution.
    client.lastInteractionAt = Date.now();
    parser.maxBulkLength = config.protoMaxBulkLen;
    while (client.blocked === undefined && !client.closeAfterReply && !client.closed) {
      parser.unauthenticated = !client.authenticated;
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
      const replyStart = client.reply.length;
      dispatch(client, request);
      // CLIENT REPLY OFF/SKIP drop what the command wrote.
      this.server.operations.requestProcessed(client, replyStart);
      // A pipeline of large replies must not pile up past the client's output limit.
      if (client.reply.length > OUTPUT_CHECK_BYTES && this.server.enforceOutputLimit(client)) {
        return;
      }
    }
    if (parser.buffered > config.clientQueryBufferLimit && !client.closed) {
      this.#queryBufferOverflow();
      return;
    }
    this.server.markPending(client);
    this.server.scheduleFlush();
  }

  /** Redis's check in processInputBuffer: a client whose unparsed input passed the limit is cut off. */
  #queryBufferOverflow(): void {
    const client = this.client;
    this.server.log.warning(
      `Closing client that reached max query buffer length: ${
        describeClient(client)
      } (qbuf initial bytes: ${JSON.stringify(this.parser.peek(64))})`,
    );
    this.server.disconnect(client);
    client.transport.abort();
  }

  /** The socket closed. */
  closed(): void {
    this.server.disconnect(this.client);
  }
}
