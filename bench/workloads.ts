/**
 * The rows measured with this process as the client rather than
 * redis-benchmark: AOF replay at start-up, PUBLISH fan-out, RDB SAVE and
 * load, and the hit ratio under maxmemory with a Zipf-distributed workload.
 *
 * Each function gets a running server (or starts its own, for start-up
 * times) and returns an `Outcome`: the figure, the CPU seconds the server
 * spent on it (from /proc, so a client that limits the figure does not
 * blur the server's cost), and a detail line. A server that answers "ERR
 * unknown command", or lacks a feature the row needs (SAVE that writes no
 * dump.rdb, maxmemory that never evicts), gives a "not implemented yet"
 * outcome, so the row lights up by itself when the feature lands.
 *
 * AOF replay and Redis 7: Redis 7 keeps its AOF as a directory of parts
 * (`appendonlydir/` with a manifest). Given `--appendonly yes --dir D
 * --appendfilename F` where `D/F` is a plain RESP file and `D/appendonlydir`
 * does not exist, Redis 7.0 logs "Successfully migrated an old-style AOF file
 * (F) into the AOF directory", moves `D/F` to `D/appendonlydir/F`, writes a
 * manifest naming it the base file and loads it. Because the file is moved,
 * every start gets its own copy. DBSIZE is checked after every load.
 *
 * @module
 */

import { join } from "node:path";
import {
  encodeCommand,
  HOST,
  isUnknownCommand,
  type Reply,
  ReplyError,
  RespConnection,
  withTimeout,
} from "./resp.ts";
import { sampleProcessTree, waitUntilQuiet } from "./process_stats.ts";
import { errorMessage, type ServerCommands, ServerProcess, type Side } from "./servers.ts";
import type { Outcome } from "./report.ts";

const encoder = new TextEncoder();

/** Flags for a server without persistence. */
export const PERSISTENCE_OFF = ["--appendonly", "no"];
/** The AOF file name of the replay row. */
export const REPLAY_FILE_NAME = "replay.aof";
const AOF_REPLAY = [
  "--appendonly",
  "yes",
  "--appendfsync",
  "everysec",
  "--appendfilename",
  REPLAY_FILE_NAME,
];

/** A reply, short enough for a table note. */
export function describeReply(reply: Reply): string {
  if (reply instanceof ReplyError) return `-${reply.message}`;
  const text = JSON.stringify(reply);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

async function writeAll(conn: Deno.Conn | Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

// ---------------------------------------------------------------------------
// N `SET key:<9 digits> value:<10 digits>` in RESP, which is both what we pipe
// into a server and a valid AOF.

/** Writes `count` SET commands (16-byte values) to `path`. */
export async function writeSetCommands(path: string, count: number): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  let parts: string[] = [];
  for (let i = 1; i <= count; i++) {
    const key = `key:${String(i).padStart(9, "0")}`;
    const value = `value:${String(i).padStart(10, "0")}`; // 16 bytes
    parts.push(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`);
    if (parts.length === 10_000 || i === count) {
      await writeAll(file, encoder.encode(parts.join("")));
      parts = [];
    }
  }
}

/**
 * Streams a file of commands to the server while counting replies, like
 * `redis-cli --pipe` but without its closing ECHO. Each reply to SET is one
 * line (+OK or -ERR ...), so replies are counted as newlines. Returns how
 * many were errors.
 */
export async function pipeCommands(port: number, path: string, expected: number): Promise<number> {
  const conn = await Deno.connect({ hostname: HOST, port });
  try {
    const reader = (async () => {
      const chunk = new Uint8Array(64 * 1024);
      let replies = 0;
      let errors = 0;
      let atLineStart = true;
      while (replies < expected) {
        const count = await conn.read(chunk);
        if (count === null) {
          throw new Error(`connection closed after ${replies} of ${expected} replies`);
        }
        for (let i = 0; i < count; i++) {
          const byte = chunk[i]!;
          if (atLineStart && byte === 45) errors++;
          atLineStart = byte === 10;
          if (byte === 10) replies++;
        }
      }
      return errors;
    })();
    const writer = (async () => {
      using file = await Deno.open(path);
      const buffer = new Uint8Array(1024 * 1024);
      for (;;) {
        const count = await file.read(buffer);
        if (count === null) break;
        await writeAll(conn, buffer.subarray(0, count));
      }
    })();
    const [errors] = await withTimeout(
      Promise.all([reader, writer]),
      60_000 + expected / 5,
      "loading keys",
      () => conn.close(),
    );
    return errors;
  } finally {
    try {
      conn.close();
    } catch {
      // Closed by the timeout.
    }
  }
}

/** Pipes `count` SETs from `path` into `server` and checks DBSIZE. */
export async function loadKeys(server: ServerProcess, path: string, count: number): Promise<void> {
  const errors = await pipeCommands(server.port, path, count);
  if (errors > 0) throw new Error(`${errors} of ${count} SETs replied an error`);
  const size = await server.command(["DBSIZE"]);
  if (size !== count) throw new Error(`DBSIZE is ${describeReply(size)} after ${count} SETs`);
}

// ---------------------------------------------------------------------------
// Start-up loads: AOF replay and RDB load.

/** A start of `side` in a fresh directory, with the CPU it took to answer PING. */
async function timedStart(
  side: Side,
  commands: ServerCommands,
  dir: string,
  flags: readonly string[],
): Promise<{ server: ServerProcess; cpuSeconds: number }> {
  const server = await ServerProcess.start(side, commands, { dir, flags, readyTimeoutMs: 600_000 });
  try {
    return { server, cpuSeconds: (await sampleProcessTree(server.pid)).cpuSeconds };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/**
 * Spawn-to-PONG of a server that finds `file` (copied in as `fileName`)
 * minus spawn-to-PONG of an empty start: the time the load itself took,
 * without the runtime's start-up (Deno's is longer than Redis's, and is
 * not what the row is about). The empty start goes first, which also warms
 * Deno's transpile cache for the timed one.
 */
async function measureStartupLoad(
  side: Side,
  commands: ServerCommands,
  makeDirectory: (label: string) => Promise<string>,
  file: string,
  fileName: string,
  flags: readonly string[],
  keys: number,
  what: string,
): Promise<Outcome> {
  const empty = await timedStart(side, commands, await makeDirectory(side), flags);
  await empty.server.stop();
  const dir = await makeDirectory(side);
  try {
    await Deno.copyFile(file, join(dir, fileName));
    const loaded = await timedStart(side, commands, dir, flags);
    try {
      const size = await loaded.server.command(["DBSIZE"]);
      if (size === 0 && what === "dump.rdb") {
        return {
          ok: false,
          reason: "dump.rdb was not loaded at start-up (DBSIZE 0)",
          notImplemented: true,
        };
      }
      if (size !== keys) {
        return { ok: false, reason: `DBSIZE is ${describeReply(size)} after loading ${keys} keys` };
      }
      return {
        ok: true,
        value: loaded.server.startSeconds - empty.server.startSeconds,
        cpuSeconds: loaded.cpuSeconds - empty.cpuSeconds,
        detail:
          `spawn to first PONG ${loaded.server.startSeconds.toFixed(2)} s with the ${what}, ` +
          `${empty.server.startSeconds.toFixed(2)} s without; DBSIZE ${size}`,
      };
    } finally {
      await loaded.server.stop();
    }
  } finally {
    // Copies of a 1M-key file add up over the rounds.
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Load time of an AOF of `keys` SETs (`file`), as the time it adds to start-up. */
export function measureAofReplay(
  side: Side,
  commands: ServerCommands,
  makeDirectory: (label: string) => Promise<string>,
  file: string,
  keys: number,
): Promise<Outcome> {
  return measureStartupLoad(
    side,
    commands,
    makeDirectory,
    file,
    REPLAY_FILE_NAME,
    AOF_REPLAY,
    keys,
    "AOF",
  );
}

/** Load time of `rdbFile` (Redis's own dump of `keys` keys), as the time it adds to start-up. */
export function measureRdbLoad(
  side: Side,
  commands: ServerCommands,
  makeDirectory: (label: string) => Promise<string>,
  rdbFile: string,
  keys: number,
): Promise<Outcome> {
  return measureStartupLoad(
    side,
    commands,
    makeDirectory,
    rdbFile,
    "dump.rdb",
    PERSISTENCE_OFF,
    keys,
    "dump.rdb",
  );
}

/** Whether `dir/dump.rdb` exists and is not empty. */
async function hasDump(dir: string): Promise<boolean> {
  try {
    return (await Deno.stat(join(dir, "dump.rdb"))).size > 0;
  } catch {
    return false;
  }
}

/** The time SAVE takes on a server holding the `keys` SETs of `file`. */
export async function measureRdbSave(
  server: ServerProcess,
  file: string,
  keys: number,
): Promise<Outcome> {
  await loadKeys(server, file, keys);
  await waitUntilQuiet(server.pid, { minimumMs: 200, maximumMs: 10_000 });
  const before = await sampleProcessTree(server.pid);
  const begin = performance.now();
  const reply = await server.command(["SAVE"], 600_000);
  const seconds = (performance.now() - begin) / 1000;
  const after = await sampleProcessTree(server.pid);
  if (isUnknownCommand(reply)) {
    return { ok: false, reason: describeReply(reply), notImplemented: true };
  }
  if (reply !== "OK") return { ok: false, reason: `SAVE replied ${describeReply(reply)}` };
  if (!await hasDump(server.dir)) {
    return { ok: false, reason: "SAVE replied OK but wrote no dump.rdb", notImplemented: true };
  }
  const size = (await Deno.stat(join(server.dir, "dump.rdb"))).size;
  return {
    ok: true,
    value: seconds,
    cpuSeconds: after.cpuSeconds - before.cpuSeconds,
    detail: `dump.rdb of ${(size / 1024 / 1024).toFixed(1)} MiB for ${keys} keys`,
  };
}

/** Makes Redis's dump.rdb of the `keys` SETs in `file` at `target`: what the RDB load row loads. */
export async function writeReferenceDump(
  commands: ServerCommands,
  dir: string,
  file: string,
  keys: number,
  target: string,
): Promise<void> {
  const server = await ServerProcess.start("redis", commands, { dir, flags: PERSISTENCE_OFF });
  try {
    await loadKeys(server, file, keys);
    const reply = await server.command(["SAVE"], 600_000);
    if (reply !== "OK") throw new Error(`redis-server SAVE replied ${describeReply(reply)}`);
  } finally {
    await server.stop();
  }
  await Deno.copyFile(join(dir, "dump.rdb"), target);
}

// ---------------------------------------------------------------------------
// PUBLISH fan-out.

const PUBSUB_CHANNEL = "bench:channel";
const PUBSUB_PAYLOAD = "0123456789abcdef";

/**
 * Subscribers count the bytes they receive (every delivery has the same,
 * known size) while one connection publishes in pipelined batches; the
 * figure is deliveries per second until the last subscriber has everything.
 * The subscribers run in this process, so the load generator limits the
 * figure for both servers alike; the server's CPU is shown beside.
 */
export async function measurePubsub(
  server: ServerProcess,
  subscriberCount: number,
  messages: number,
): Promise<Outcome> {
  const subscribers: RespConnection[] = [];
  let publisher: RespConnection | undefined;
  try {
    for (let first = 0; first < subscriberCount; first += 50) {
      const batch = await Promise.all(
        Array.from(
          { length: Math.min(50, subscriberCount - first) },
          () => RespConnection.open(server.port),
        ),
      );
      subscribers.push(...batch);
      const replies = await Promise.all(
        batch.map((client) => client.command(["SUBSCRIBE", PUBSUB_CHANNEL])),
      );
      for (const reply of replies) {
        if (!Array.isArray(reply) || reply[0] !== "subscribe") {
          return {
            ok: false,
            reason: `SUBSCRIBE replied ${describeReply(reply)}`,
            notImplemented: isUnknownCommand(reply),
          };
        }
      }
    }
    const delivery = `*3\r\n$7\r\nmessage\r\n$${PUBSUB_CHANNEL.length}\r\n${PUBSUB_CHANNEL}\r\n` +
      `$${PUBSUB_PAYLOAD.length}\r\n${PUBSUB_PAYLOAD}\r\n`;
    const expectedBytes = delivery.length * messages;
    publisher = await RespConnection.open(server.port);
    await waitUntilQuiet(server.pid, { minimumMs: 200 });
    const before = await sampleProcessTree(server.pid);
    const batchSize = 50;
    const begin = performance.now();
    const received = Promise.all(subscribers.map((client) => client.skipBytes(expectedBytes)));
    received.catch(() => {}); // Awaited below; avoid an unhandled rejection meanwhile.
    const command = encodeCommand(["PUBLISH", PUBSUB_CHANNEL, PUBSUB_PAYLOAD]);
    for (let sent = 0; sent < messages; sent += batchSize) {
      const count = Math.min(batchSize, messages - sent);
      const bytes = new Uint8Array(command.length * count);
      for (let i = 0; i < count; i++) bytes.set(command, i * command.length);
      await publisher.send(bytes);
      for (let i = 0; i < count; i++) {
        const reply = await withTimeout(publisher.reply(), 60_000, "PUBLISH");
        if (reply !== subscriberCount) {
          return {
            ok: false,
            reason: `PUBLISH replied ${describeReply(reply)}, expected ${subscriberCount}`,
          };
        }
      }
    }
    await withTimeout(received, 120_000, "waiting for deliveries");
    const seconds = (performance.now() - begin) / 1000;
    const after = await sampleProcessTree(server.pid);
    return {
      ok: true,
      value: (subscriberCount * messages) / seconds,
      cpuSeconds: after.cpuSeconds - before.cpuSeconds,
      detail: `${messages} messages to ${subscriberCount} subscribers in ${seconds.toFixed(2)} s`,
    };
  } catch (error) {
    return { ok: false, reason: errorMessage(error) };
  } finally {
    for (const client of subscribers) client.close();
    publisher?.close();
  }
}
