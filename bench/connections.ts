/**
 * The connection-resilience rows: what thousands of clients and one huge
 * request cost a server, and whether it gives the memory back.
 *
 * - Idle connections: open N connections (at most `CONNECT_CONCURRENCY`
 *   connecting at once), each sends PING and reads PONG, then they sit idle;
 *   the RSS growth divided by N is the memory one idle client costs. Then
 *   they all disconnect, and after a few seconds of idle the RSS is compared
 *   with where it was before they connected: a server that keeps a buffer
 *   per client it once had grows with every burst of clients.
 * - Accept: the time to open N connections, at most 100 connecting at once,
 *   each doing one PING round trip. The client side runs in this process,
 *   so it limits both servers alike; the CPU each server spent is shown
 *   beside, which the client does not blur.
 * - One huge bulk: a SET whose value (400 MB) is streamed in 1 MiB writes,
 *   then DEL and disconnect; the peak RSS growth (the kernel's `VmHWM`) and
 *   the growth left after a few idle seconds.
 *
 * RSS and CPU come from /proc (process_stats.ts) without sending the server
 * a command, since ours counts commands as activity and compacts only after
 * an idle second. The connections are raw sockets with a few bytes of
 * buffer each, so this process can hold 10,000 of them; each side needs
 * that many file descriptors, which the soft limit this process passes on
 * to its children must allow (bench.ts checks it).
 *
 * @module
 */

import { encodeCommand, HOST, isUnknownCommand, RespConnection } from "./resp.ts";
import { peakResidentBytes, sampleProcessTree, waitUntilQuiet } from "./process_stats.ts";
import { errorMessage, type ServerProcess, sleep } from "./servers.ts";
import type { Outcome } from "./report.ts";

/** At most this many connections are being opened at any moment. */
export const CONNECT_CONCURRENCY = 100;
const PING = encodeCommand(["PING"]);
const PONG = "+PONG\r\n";
const CHUNK_BYTES = 1024 * 1024;

/** Opens one connection and does one PING round trip on it. */
async function connectAndPing(port: number, scratch: Uint8Array): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: HOST, port });
  try {
    let written = 0;
    while (written < PING.length) written += await conn.write(PING.subarray(written));
    let reply = "";
    while (reply.length < PONG.length) {
      const count = await conn.read(scratch);
      if (count === null) throw new Error(`connection closed after '${reply}'`);
      reply += String.fromCharCode(...scratch.subarray(0, count));
      if (!PONG.startsWith(reply.slice(0, PONG.length))) {
        throw new Error(`PING replied ${JSON.stringify(reply.trim())}`);
      }
    }
    return conn;
  } catch (error) {
    conn.close();
    throw error;
  }
}

/**
 * Opens `count` connections to `port`, at most `concurrency` at a time, each
 * after one PING round trip; returns them open. On the first failure every
 * connection opened so far is closed and the error says which one failed.
 */
export async function openConnections(
  port: number,
  count: number,
  concurrency = CONNECT_CONCURRENCY,
): Promise<Deno.TcpConn[]> {
  const connections: Deno.TcpConn[] = [];
  let next = 0;
  let failure: Error | undefined;
  const worker = async () => {
    const scratch = new Uint8Array(64);
    while (next < count && failure === undefined) {
      const index = next++;
      try {
        connections.push(await connectAndPing(port, scratch));
      } catch (error) {
        failure ??= new Error(`connection ${index + 1} of ${count}: ${errorMessage(error)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  if (failure) {
    closeConnections(connections);
    throw failure;
  }
  return connections;
}

/** Closes every connection (from this side, so TIME_WAIT stays here). */
export function closeConnections(connections: Deno.TcpConn[]): void {
  for (const conn of connections) {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
  connections.length = 0;
}

const MIB = 1024 * 1024;
const mib = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;

/** Waits `ms`, then until the server is quiet, and samples it. */
async function idleSample(server: ServerProcess, ms: number) {
  await sleep(ms);
  await waitUntilQuiet(server.pid, { windowMs: 200, maximumMs: 10_000 });
  return await sampleProcessTree(server.pid);
}

/** The two idle-connection figures: bytes per connection, and RSS after they left vs before. */
export interface IdleConnectionOutcomes {
  perConnection: Outcome;
  afterDisconnect: Outcome;
}

/**
 * Opens `count` connections (each PINGs once), lets them idle for
 * `idleMs`, samples RSS, closes them, idles `idleMs` again and samples once
 * more.
 */
export async function measureIdleConnections(
  server: ServerProcess,
  count: number,
  idleMs: number,
): Promise<IdleConnectionOutcomes> {
  await waitUntilQuiet(server.pid, { minimumMs: 500, windowMs: 200 });
  const before = await sampleProcessTree(server.pid);
  let connections: Deno.TcpConn[] = [];
  try {
    const begin = performance.now();
    connections = await openConnections(server.port, count);
    const openSeconds = (performance.now() - begin) / 1000;
    const connected = await idleSample(server, idleMs);
    closeConnections(connections);
    const after = await idleSample(server, idleMs);
    const growth = connected.residentBytes - before.residentBytes;
    const left = after.residentBytes - before.residentBytes;
    return {
      perConnection: {
        ok: true,
        value: growth / count,
        cpuSeconds: connected.cpuSeconds - before.cpuSeconds,
        detail:
          `RSS ${mib(before.residentBytes)} -> ${mib(connected.residentBytes)} with ${count} ` +
          `idle clients (opened in ${openSeconds.toFixed(2)} s)`,
      },
      afterDisconnect: {
        ok: true,
        value: (left / before.residentBytes) * 100,
        cpuSeconds: after.cpuSeconds - connected.cpuSeconds,
        detail: `RSS ${mib(before.residentBytes)} before, ${mib(connected.residentBytes)} ` +
          `connected, ${mib(after.residentBytes)} after ${idleMs / 1000} s idle`,
      },
    };
  } catch (error) {
    const failure: Outcome = { ok: false, reason: errorMessage(error) };
    return { perConnection: failure, afterDisconnect: failure };
  } finally {
    closeConnections(connections);
  }
}

/** Times opening `count` connections, at most 100 at once, each with one PING round trip. */
export async function measureAccept(server: ServerProcess, count: number): Promise<Outcome> {
  await waitUntilQuiet(server.pid, { minimumMs: 300 });
  const before = await sampleProcessTree(server.pid);
  let connections: Deno.TcpConn[] = [];
  try {
    const begin = performance.now();
    connections = await openConnections(server.port, count);
    const seconds = (performance.now() - begin) / 1000;
    const after = await sampleProcessTree(server.pid);
    return {
      ok: true,
      value: seconds,
      cpuSeconds: after.cpuSeconds - before.cpuSeconds,
      detail: `${count} connections, ${CONNECT_CONCURRENCY} at a time, ${
        Math.round(count / seconds)
      } per second`,
    };
  } catch (error) {
    return { ok: false, reason: errorMessage(error) };
  } finally {
    closeConnections(connections);
  }
}

/** The two bulk figures: peak RSS growth, and the growth left after DEL and idle time. */
export interface BulkOutcomes {
  peak: Outcome;
  afterIdle: Outcome;
}

/**
 * Streams `SET bench:bulk <bytes>` in 1 MiB writes, reads +OK, checks
 * STRLEN, DELs the key and disconnects; then idles `idleMs`.
 */
export async function measureBulk(
  server: ServerProcess,
  bytes: number,
  idleMs: number,
): Promise<BulkOutcomes> {
  await waitUntilQuiet(server.pid, { minimumMs: 500, windowMs: 200 });
  const before = await sampleProcessTree(server.pid);
  const connection = await RespConnection.open(server.port);
  try {
    const key = "bench:bulk";
    const header = `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${bytes}\r\n`;
    await connection.send(new TextEncoder().encode(header));
    const chunk = new Uint8Array(CHUNK_BYTES);
    for (let i = 0; i < chunk.length; i++) chunk[i] = 97 + (i % 26);
    const begin = performance.now();
    for (let sent = 0; sent < bytes; sent += chunk.length) {
      await connection.send(chunk.subarray(0, Math.min(chunk.length, bytes - sent)));
    }
    await connection.send(new TextEncoder().encode("\r\n"));
    const reply = await connection.reply();
    const seconds = (performance.now() - begin) / 1000;
    if (reply !== "OK") {
      const outcome: Outcome = {
        ok: false,
        reason: `SET of ${bytes} bytes replied ${JSON.stringify(reply)}`,
        notImplemented: isUnknownCommand(reply),
      };
      return { peak: outcome, afterIdle: outcome };
    }
    const stored = await connection.command(["STRLEN", key]);
    const loaded = await sampleProcessTree(server.pid);
    const peak = await peakResidentBytes(server.pid);
    const deleted = await connection.command(["DEL", key]);
    connection.close();
    if (stored !== bytes || deleted !== 1) {
      const outcome: Outcome = {
        ok: false,
        reason: `STRLEN replied ${JSON.stringify(stored)}, DEL ${JSON.stringify(deleted)}`,
      };
      return { peak: outcome, afterIdle: outcome };
    }
    const after = await idleSample(server, idleMs);
    return {
      peak: {
        ok: true,
        value: peak - before.residentBytes,
        cpuSeconds: loaded.cpuSeconds - before.cpuSeconds,
        detail: `RSS ${mib(before.residentBytes)} before, peak ${mib(peak)}, ${
          mib(loaded.residentBytes)
        } holding the value; sent in ${seconds.toFixed(2)} s`,
      },
      afterIdle: {
        ok: true,
        value: after.residentBytes - before.residentBytes,
        cpuSeconds: after.cpuSeconds - before.cpuSeconds,
        detail: `RSS ${mib(after.residentBytes)} after DEL, disconnect and ${idleMs / 1000} s idle`,
      },
    };
  } catch (error) {
    const outcome: Outcome = { ok: false, reason: errorMessage(error) };
    return { peak: outcome, afterIdle: outcome };
  } finally {
    connection.close();
  }
}
