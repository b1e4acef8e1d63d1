/**
 * Listeners: accepting TCP and TLS connections and moving bytes for
 * `Connection`.
 *
 * The `bind` list says where to listen, as in Redis: `*` is every IPv4
 * address, `::*` every IPv6 one, a leading `-` marks an address that may
 * fail to bind (Redis's default `* -::*` takes IPv6 only where the host has
 * it). Deno cannot set IPV6_V6ONLY, so where the kernel is dual-stack one
 * socket on `::` serves both families and `0.0.0.0` is not bound again;
 * IPv4 peers then show as `::ffff:a.b.c.d` and are reported as `a.b.c.d`.
 * `port 0` turns plain TCP off; `tls-port` adds TLS listeners on the same
 * addresses.
 *
 * Two socket layers sit behind the same `ClientTransport` interface. The
 * design card's `Deno.listen` (the default) reads straight into the
 * parser's buffer and queues writes without awaiting them on the command
 * path; `node:net` (Deno's Node compatibility layer, `--transport node`)
 * delivers data events and writes synchronously when the socket allows.
 * Measured with redis-benchmark against redis-server (README, Performance):
 * both reach Redis's throughput without pipelining, and Deno.listen has the
 * shorter latency tail, so it is the default. TLS always uses `node:tls`:
 * unlike `Deno.listenTls` it can ask for and verify client certificates
 * (`tls-auth-clients`).
 *
 * Every accepted connection passes the server's admission check first
 * (`maxclients`, protected mode): a refused one gets Redis's error line and
 * is closed. Whatever goes wrong with one connection (a peer that reset
 * before it was accepted, a failed TLS handshake, running out of
 * descriptors) costs only that connection: only closing the listener ends
 * an accept loop.
 *
 * @module
 */

import * as net from "node:net";
import * as tls from "node:tls";
import type { ClientTransport } from "../commands/client.ts";
import { type Config, listenAddress, parseBind } from "../config.ts";
import { Connection } from "./connection.ts";
import type { Server } from "./server.ts";

/** The bound listening sockets. */
export interface Listener {
  /** The plain TCP port bound (0 when plain TCP is off). */
  readonly port: number;
  /** The TLS port bound (0 without TLS). */
  readonly tlsPort: number;
  /** Every bound socket, as `address:port` (IPv6 in brackets), TLS ones marked. */
  readonly addresses: readonly { address: string; tls: boolean }[];
  /** Stops accepting and closes every open connection. */
  close(): Promise<void>;
}

/** Thrown when an address cannot be bound or TLS cannot be set up. */
export class ListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ListenError";
  }
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

/** A socket layer's bound listener. */
interface BoundSocket {
  readonly port: number;
  close(): Promise<void>;
}

/** Binds every configured address for plain TCP and TLS and starts accepting. */
export async function listen(server: Server): Promise<Listener> {
  const config = server.config;
  // Certificates are read first: a bad one must stop start-up before anything listens.
  const tlsSettings = config.tlsPort === 0 ? undefined : tlsOptions(config);
  const addresses = bindAddresses(config.bind);
  const bound: BoundSocket[] = [];
  const described: { address: string; tls: boolean }[] = [];
  const bindAll = async (
    port: number,
    open: (hostname: string, port: number) => Promise<BoundSocket>,
    tls: boolean,
  ): Promise<number> => {
    let actualPort = port;
    let dualStackBound = false;
    for (const { hostname, optional } of addresses) {
      // The IPv4 fallback of a dual-stack bind is needed only if `::` failed.
      if (hostname === DUAL_STACK_FALLBACK && dualStackBound) continue;
      try {
        const socket = await open(hostname, actualPort);
        if (hostname === "::") dualStackBound = true;
        bound.push(socket);
        const host = hostname === DUAL_STACK_FALLBACK ? "0.0.0.0" : hostname;
        described.push({ address: formatAddress(host, socket.port), tls });
        // An ephemeral port (tls-port 0 is off, but a test may bind port 0 elsewhere) is shared.
        actualPort = socket.port;
      } catch (error) {
        if (optional && error instanceof ListenError) continue;
        throw error;
      }
    }
    return actualPort;
  };
  try {
    const port = config.port === 0 ? 0 : await bindAll(
      config.port,
      (hostname, port) =>
        config.transport === "deno"
          ? listenDeno(server, hostname, port)
          : listenNode(server, hostname, port),
      false,
    );
    let tlsPort = 0;
    if (tlsSettings !== undefined) {
      tlsPort = await bindAll(
        config.tlsPort,
        (hostname, port) => listenNodeTls(server, hostname, port, tlsSettings),
        true,
      );
    }
    if (bound.length === 0) throw new ListenError("Configured to not listen anywhere, exiting.");
    return {
      port,
      tlsPort,
      addresses: described,
      close: async () => {
        await Promise.all(bound.map((socket) => socket.close()));
      },
    };
  } catch (error) {
    await Promise.all(bound.map((socket) => socket.close()));
    throw error;
  }
}

/** Where to listen: `bind` resolved to socket addresses, dual-stack aware. */
function bindAddresses(bind: string): { hostname: string; optional: boolean }[] {
  const entries = parseBind(bind).map(({ address, optional }) => ({
    hostname: listenAddress(address),
    optional,
  }));
  const wantsAnyIpv6 = entries.some((entry) => entry.hostname === "::");
  const wantsAnyIpv4 = entries.some((entry) => entry.hostname === "0.0.0.0");
  if (!(wantsAnyIpv6 && wantsAnyIpv4) || v6OnlyByDefault()) return entries;
  // `::` will take IPv4 too: bind it first and keep 0.0.0.0 as the fallback
  // for hosts where IPv6 is missing (it is skipped if `::` succeeded).
  const ipv4 = entries.find((entry) => entry.hostname === "0.0.0.0")!;
  const others = entries.filter((entry) => entry.hostname !== "0.0.0.0" && entry.hostname !== "::");
  return [
    { hostname: "::", optional: true },
    { hostname: DUAL_STACK_FALLBACK, optional: ipv4.optional },
    ...others,
  ];
}

/** Stands for 0.0.0.0 bound only if `::` was not (see bindAddresses). */
const DUAL_STACK_FALLBACK = "0.0.0.0 (unless ::)";

function v6OnlyByDefault(): boolean {
  try {
    return Deno.readTextFileSync("/proc/sys/net/ipv6/bindv6only").trim() === "1";
  } catch {
    return false;
  }
}

/**
 * The peer's address as Redis reports it: IPv4-mapped IPv6 addresses as
 * plain IPv4, IPv6 in brackets (`[::1]:6379`).
 */
function formatAddress(hostname: string, port: number): string {
  const host = hostname.startsWith("::ffff:") && hostname.includes(".")
    ? hostname.slice(7)
    : hostname;
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The host part of an address formatted by `formatAddress`. */
function hostOf(address: string): string {
  return address.startsWith("[")
    ? address.slice(1, address.indexOf("]"))
    : address.slice(0, address.lastIndexOf(":"));
}

/**
 * Admits a new connection or refuses it with Redis's error line: too many
 * clients (`maxclients`), or protected mode for a non-loopback peer.
 * Returns whether the connection may be served.
 */
function admit(server: Server, transport: ClientTransport): boolean {
  const refusal = server.admissionError(hostOf(transport.remoteAddress));
  if (refusal === undefined) return true;
  server.stats.rejectedConnections++;
  transport.write(new TextEncoder().encode(`${refusal}\r\n`));
  transport.close();
  return false;
}

/**
 * One accept failed: log it as Redis does and carry on. Deno reports a peer
 * that reset before it was accepted as ENOTCONN (from the peer address
 * lookup); running out of descriptors gets a short pause.
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

function describeListenError(error: unknown, hostname: string, port: number): string {
  const code = (error as { code?: string }).code;
  const inUse = error instanceof Deno.errors.AddrInUse || code === "EADDRINUSE";
  const reason = inUse ? "bind: Address already in use" : (error as Error).message;
  return `Could not create server TCP listening socket ${hostname}:${port}: ${reason}`;
}

// ---------------------------------------------------------------------------
// node:net and node:tls

class NodeSocketTransport implements ClientTransport {
  connection: Connection | undefined;
  readonly remoteAddress: string;
  readonly localAddress: string;

  constructor(readonly socket: net.Socket) {
    this.remoteAddress = formatAddress(socket.remoteAddress ?? "", socket.remotePort ?? 0);
    this.localAddress = formatAddress(socket.localAddress ?? "", socket.localPort ?? 0);
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

/** Serves one node:net or node:tls socket. */
function serveNodeSocket(server: Server, socket: net.Socket, sockets: Set<net.Socket>): void {
  sockets.add(socket);
  socket.on("error", () => {});
  socket.on("close", () => sockets.delete(socket));
  try {
    socket.setNoDelay(true);
    const keepalive = server.config.tcpKeepalive;
    if (keepalive > 0) socket.setKeepAlive(true, keepalive * 1000);
    const transport = new NodeSocketTransport(socket);
    if (!admit(server, transport)) return;
    const connection = new Connection(server, transport);
    transport.connection = connection;
    socket.on("data", (chunk: Uint8Array) => connection.received(chunk));
    socket.on("close", () => connection.closed());
  } catch (error) {
    server.log.verbose(`Accepting client connection: ${(error as Error).message}`);
    socket.destroy();
  }
}

function bindNodeServer(
  server: Server,
  netServer: net.Server,
  sockets: Set<net.Socket>,
  hostname: string,
  port: number,
): Promise<BoundSocket> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error) =>
      reject(new ListenError(describeListenError(error, hostname, port)));
    netServer.once("error", failed);
    netServer.listen({ host: hostname, port, backlog: 511 }, () => {
      netServer.off("error", failed);
      // After listening, errors are about accepting one connection: log and go on.
      netServer.on("error", (error) => void acceptFailed(server, error));
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

function listenNode(server: Server, hostname: string, port: number): Promise<BoundSocket> {
  if (hostname === DUAL_STACK_FALLBACK) hostname = "0.0.0.0";
  const sockets = new Set<net.Socket>();
  const netServer = net.createServer({ noDelay: true }, (socket) => {
    serveNodeSocket(server, socket, sockets);
  });
  return bindNodeServer(server, netServer, sockets, hostname, port);
}

/** The TLS settings of `config`, with certificates read; ListenError if they cannot be. */
function tlsOptions(config: Config): tls.TlsOptions {
  const read = (what: string, path: string) => {
    if (path === "") throw new ListenError(`Failed to configure TLS: no ${what} configured`);
    try {
      return Deno.readTextFileSync(path);
    } catch (error) {
      throw new ListenError(
        `Failed to configure TLS: cannot read ${what} '${path}': ${(error as Error).message}`,
      );
    }
  };
  const cert = read("tls-cert-file", config.tlsCertFile);
  const key = read("tls-key-file", config.tlsKeyFile);
  const authClients = config.tlsAuthClients;
  const ca = config.tlsCaCertFile === ""
    ? undefined
    : read("tls-ca-cert-file", config.tlsCaCertFile);
  if (authClients !== "no" && ca === undefined) {
    throw new ListenError(
      "Failed to configure TLS: tls-auth-clients needs tls-ca-cert-file to verify clients",
    );
  }
  const protocols = config.tlsProtocols.split(/\s+/).filter((word) => word !== "");
  const versions = protocols.length > 0 ? protocols : ["TLSv1.2", "TLSv1.3"];
  for (const version of versions) {
    if (version !== "TLSv1.2" && version !== "TLSv1.3") {
      throw new ListenError(`Failed to configure TLS: unsupported tls-protocols '${version}'`);
    }
  }
  return {
    cert,
    key,
    ca,
    requestCert: authClients !== "no",
    // `optional` accepts a client without a certificate, but not one with a bad one.
    rejectUnauthorized: authClients === "yes",
    minVersion: versions.includes("TLSv1.2") ? "TLSv1.2" : "TLSv1.3",
    maxVersion: versions.includes("TLSv1.3") ? "TLSv1.3" : "TLSv1.2",
  };
}

function listenNodeTls(
  server: Server,
  hostname: string,
  port: number,
  options: tls.TlsOptions,
): Promise<BoundSocket> {
  if (hostname === DUAL_STACK_FALLBACK) hostname = "0.0.0.0";
  const sockets = new Set<net.Socket>();
  let tlsServer: tls.Server;
  try {
    tlsServer = tls.createServer(options, (socket) => {
      // tls-auth-clients optional: no certificate is fine, a bad one is not.
      const presentedOne = Object.keys(socket.getPeerCertificate() ?? {}).length > 0;
      if (options.requestCert && !socket.authorized && presentedOne) {
        server.log.verbose(
          `Error accepting a client connection: ${socket.authorizationError}`,
        );
        socket.destroy();
        return;
      }
      serveNodeSocket(server, socket, sockets);
    });
  } catch (error) {
    return Promise.reject(new ListenError(`Failed to configure TLS: ${(error as Error).message}`));
  }
  tlsServer.on("tlsClientError", (error) => {
    server.log.verbose(`Error accepting a client connection: ${error.message}`);
  });
  return bindNodeServer(server, tlsServer, sockets, hostname, port);
}

// ---------------------------------------------------------------------------
// Deno.listen

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
    this.remoteAddress = formatAddress(remote.hostname, remote.port);
    this.localAddress = formatAddress(local.hostname, local.port);
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
    closeQuietly(this.conn);
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

/** Whether `error` is the socket going away (peer reset, closed by us), not a bug. */
function isConnectionError(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted || error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.NotConnected || error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.UnexpectedEof;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

async function listenDeno(server: Server, hostname: string, port: number): Promise<BoundSocket> {
  if (hostname === DUAL_STACK_FALLBACK) hostname = "0.0.0.0";
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname, port, transport: "tcp" });
  } catch (error) {
    throw new ListenError(describeListenError(error, hostname, port));
  }
  const transports = new Set<DenoConnTransport>();
  let closing = false;
  const serve = async (conn: Deno.TcpConn) => {
    let transport: DenoConnTransport | undefined;
    let connection: Connection | undefined;
    try {
      // A peer that reset at once makes even these fail: it costs only this connection.
      conn.setNoDelay(true);
      if (server.config.tcpKeepalive > 0) conn.setKeepAlive(true);
      transport = new DenoConnTransport(conn);
      transports.add(transport);
      if (!admit(server, transport)) return;
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
    } catch (error) {
      // Reset by peer or closed by us: either way the client is gone. Anything
      // else is a bug, which must cost only this connection, and be heard of.
      if (!isConnectionError(error)) {
        server.log.warning(`Error serving a client: ${(error as Error).stack ?? error}`);
      }
    } finally {
      if (transport !== undefined) {
        transports.delete(transport);
        // A refused connection closes once its error line is written.
        if (connection !== undefined) transport.shutdown();
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
