/**
 * Listeners: accepting TCP connections and moving bytes for `Connection`.
 *
 * Two socket layers sit behind the same `ClientTransport` interface. The
 * design card's `Deno.listen` (the default) reads straight into the
 * parser's buffer and queues writes without awaiting them on the command
 * path; `node:net` (Deno's Node compatibility layer, `--transport node`)
 * delivers data events and writes synchronously when the socket allows.
 * Measured with redis-benchmark against redis-server (README, Performance):
 * both reach Redis's throughput without pipelining, and Deno.listen has the
 * shorter latency tail (GET p99 about 0.9-1.0 ms against 1.4-1.6 ms), so it
 * is the default. An earlier prototype that awaited each read and write in
 * turn reached only 0.45x; not awaiting writes is what closed the gap.
 *
 * @module
 */

import * as net from "node:net";
import type { TransportKind } from "../config.ts";
import type { ClientTransport } from "../commands/client.ts";
import { Connection } from "./connection.ts";
import type { Server } from "./server.ts";

/** A bound listening socket. */
export interface Listener {
  readonly port: number;
  /** Stops accepting and closes every open connection. */
  close(): Promise<void>;
}

/** Thrown when the address cannot be bound (in use, not permitted). */
export class ListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ListenError";
  }
}

export function listen(
  server: Server,
  kind: TransportKind,
  hostname: string,
  port: number,
): Promise<Listener> {
  return kind === "deno" ? listenDeno(server, hostname, port) : listenNode(server, hostname, port);
}

class NodeSocketTransport implements ClientTransport {
  connection: Connection | undefined;
  readonly remoteAddress: string;
  readonly localAddress: string;

  constructor(readonly socket: net.Socket) {
    this.remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
    this.localAddress = `${socket.localAddress}:${socket.localPort}`;
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.end();
  }

  abort(): void {
    this.socket.destroy();
  }

  get pendingBytes(): number {
    return this.socket.writableLength;
  }

  resume(): void {
    this.connection?.process();
  }
}

function listenNode(server: Server, hostname: string, port: number): Promise<Listener> {
  const sockets = new Set<net.Socket>();
  const netServer = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    const transport = new NodeSocketTransport(socket);
    const connection = new Connection(server, transport);
    transport.connection = connection;
    socket.on("data", (chunk: Uint8Array) => connection.received(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      sockets.delete(socket);
      connection.closed();
    });
  });
  return new Promise((resolve, reject) => {
    netServer.once("error", (error: NodeJS.ErrnoException) => {
      reject(new ListenError(describeListenError(error, hostname, port)));
    });
    netServer.listen({ host: hostname, port }, () => {
      const address = netServer.address() as net.AddressInfo;
      resolve({
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            netServer.close(() => done());
          }),
      });
    });
  });
}

function describeListenError(error: NodeJS.ErrnoException, hostname: string, port: number) {
  if (error.code === "EADDRINUSE") {
    return `Could not create server TCP listening socket ${hostname}:${port}: bind: Address already in use`;
  }
  return `Could not create server TCP listening socket ${hostname}:${port}: ${error.message}`;
}

/** First read size of a connection; reads that fill it double it up to the maximum. */
const INITIAL_READ_SIZE = 2 * 1024;
const MAX_READ_SIZE = 64 * 1024;
/** Pause before accepting again when the process is out of file descriptors. */
const DESCRIPTOR_BACKOFF_MS = 100;
/** Pause after any other accept failure, so a persistent one cannot spin. */
const ACCEPT_RETRY_MS = 1;

/** Errors of one connection that was gone before it could be served. */
const PEER_GONE = new Set(["ENOTCONN", "ECONNRESET", "ECONNABORTED", "EPIPE"]);

/**
 * One accept failed: log it as Redis does and carry on. Only closing the
 * listener ends the accept loop; a connection reset before it was accepted
 * (Deno reports ENOTCONN from the peer address lookup) or running out of
 * descriptors must never stop the server from accepting the next client.
 */
async function acceptFailed(server: Server, error: unknown): Promise<void> {
  const code = (error as { code?: string }).code ?? "";
  const message = `Accepting client connection: ${(error as Error).message ?? error}`;
  if (PEER_GONE.has(code)) {
    server.log.verbose(message);
    return;
  }
  server.log.warning(message);
  const outOfDescriptors = code === "EMFILE" || code === "ENFILE";
  await new Promise((resolve) =>
    setTimeout(resolve, outOfDescriptors ? DESCRIPTOR_BACKOFF_MS : ACCEPT_RETRY_MS)
  );
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

class DenoConnTransport implements ClientTransport {
  connection: Connection | undefined;
  readonly remoteAddress: string;
  readonly localAddress: string;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #writing = false;
  #closeRequested = false;
  #closed = false;

  constructor(readonly conn: Deno.TcpConn) {
    const remote = conn.remoteAddr;
    const local = conn.localAddr;
    this.remoteAddress = `${remote.hostname}:${remote.port}`;
    this.localAddress = `${local.hostname}:${local.port}`;
  }

  get pendingBytes(): number {
    return this.#queuedBytes;
  }

  write(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.byteLength;
    if (!this.#writing) void this.#drain();
  }

  close(): void {
    this.#closeRequested = true;
    if (!this.#writing) this.shutdown();
  }

  resume(): void {
    this.connection?.process();
  }

  abort(): void {
    this.#queue = [];
    this.#queuedBytes = 0;
    this.shutdown();
  }

  shutdown(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // Already closed by the peer.
    }
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const bytes = this.#queue.shift()!;
        let offset = 0;
        while (offset < bytes.byteLength) offset += await this.conn.write(bytes.subarray(offset));
        this.#queuedBytes -= bytes.byteLength;
      }
    } catch {
      this.shutdown();
    }
    this.#writing = false;
    if (this.#closeRequested) this.shutdown();
  }
}

async function listenDeno(server: Server, hostname: string, port: number): Promise<Listener> {
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname, port, transport: "tcp" });
  } catch (error) {
    const message = error instanceof Deno.errors.AddrInUse
      ? "bind: Address already in use"
      : (error as Error).message;
    throw new ListenError(
      `Could not create server TCP listening socket ${hostname}:${port}: ${message}`,
    );
  }
  const transports = new Set<DenoConnTransport>();
  let closing = false;
  const serve = async (conn: Deno.TcpConn) => {
    let transport: DenoConnTransport | undefined;
    let connection: Connection | undefined;
    try {
      // A peer that reset at once makes even these fail: it costs only this connection.
      conn.setNoDelay(true);
      transport = new DenoConnTransport(conn);
      transports.add(transport);
      connection = new Connection(server, transport);
      transport.connection = connection;
      let readSize = INITIAL_READ_SIZE;
      for (;;) {
        const region = connection.parser.writableRegion(readSize);
        const count = await conn.read(region);
        if (count === null) break;
        // Reads that fill the region ask for a bigger one; idle clients keep a small buffer.
        if (count === region.byteLength && readSize < MAX_READ_SIZE) readSize *= 2;
        else if (count < readSize >> 2 && readSize > INITIAL_READ_SIZE) readSize >>= 1;
        connection.committed(count);
      }
    } catch {
      // Reset by peer or closed by us: either way the client is gone.
    } finally {
      if (transport !== undefined) {
        transports.delete(transport);
        transport.shutdown();
      } else {
        closeQuietly(conn);
      }
      connection?.closed();
    }
  };
  const accepting = (async () => {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing || error instanceof Deno.errors.BadResource) return;
        await acceptFailed(server, error);
        continue;
      }
      void serve(conn);
    }
  })();
  await Promise.resolve();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close: async () => {
      closing = true;
      listener.close();
      for (const transport of transports) transport.shutdown();
      await accepting;
    },
  };
}
