/**
 * A deterministic protocol fuzzer against a real server process.
 *
 * Workers open many short connections and send random and mutated requests:
 * well-formed RESP for every command the server lists (with random
 * arguments: numbers at the 32- and 64-bit limits, option keywords, binary
 * junk), the same with flipped bytes, truncations, huge and negative
 * lengths, inline garbage and unbalanced quotes. Connections end with a FIN,
 * a TCP reset, or by simply walking away mid-request. Meanwhile a healthy
 * client keeps doing PING/SET/GET. The test asserts what a server owes every
 * client whatever others send it: the process never exits, the healthy
 * client never waits more than a second, everything the server sends is
 * valid RESP, and memory after the run is within 2x of before.
 *
 * The seed is fixed, so a failure can be replayed. It runs about 30 s in
 * `deno task test`; FUZZ_SECONDS=600 runs it longer, FUZZ_SEED picks another
 * sequence.
 */

import assert from "node:assert/strict";
import * as net from "node:net";
import {
  decodeReply,
  findReplyEnd,
  LOOPBACK,
  RawClient,
  ReplyFormatError,
  sleep,
  startOurServer,
} from "../helpers/servers.ts";
import { seededRandom } from "../helpers/test_support.ts";

const SECONDS = Number(Deno.env.get("FUZZ_SECONDS") ?? "30");
const SEED = Number(Deno.env.get("FUZZ_SEED") ?? "20261201");
const WORKERS = 4;
const HEALTHY_LIMIT_MS = 1000;

/**
 * Commands that would end the run, reach outside the test or legitimately
 * take unbounded time: they are never sent.
 */
const NEVER = new Set([
  "shutdown",
  "debug",
  "monitor",
  "sync",
  "psync",
  "replicaof",
  "slaveof",
  "migrate",
  "failover",
  "client", // CLIENT KILL/PAUSE would cut the healthy client off.
  "config", // CONFIG SET dir/port/appendonly would change the server under test.
  "save",
  "bgsave",
  "bgrewriteaof",
  "acl", // ACL SETUSER default off would lock the healthy client out.
  "pfselftest", // Takes most of a second by design (Redis's takes seconds too).
]);

/** Allocation-driving arguments (offsets, counts) stay small for these. */
const SMALL_NUMBERS_ONLY = new Set(["setrange", "setbit", "bitfield", "lpos", "srandmember"]);

const KEYWORDS = [
  "NX",
  "XX",
  "GT",
  "LT",
  "CH",
  "INCR",
  "EX",
  "PX",
  "EXAT",
  "PXAT",
  "KEEPTTL",
  "GET",
  "COUNT",
  "MATCH",
  "TYPE",
  "LIMIT",
  "WITHSCORES",
  "BYSCORE",
  "BYLEX",
  "REV",
  "LEFT",
  "RIGHT",
  "BEFORE",
  "AFTER",
  "RANK",
  "MAXLEN",
  "IDX",
  "LEN",
  "MINMATCHLEN",
  "WITHMATCHLEN",
  "AGGREGATE",
  "SUM",
  "MIN",
  "MAX",
  "WEIGHTS",
  "STORE",
  "ASYNC",
  "SYNC",
  "AND",
  "OR",
  "XOR",
  "NOT",
  "OVERFLOW",
  "WRAP",
  "SAT",
  "FAIL",
  "SET",
  "INCRBY",
  "BIT",
  "BYTE",
  "WITHVALUES",
  "NOVALUE",
  "ENCODING",
  "FREQ",
  "IDLETIME",
  "HELP",
  "SCHEDULE",
  "RESET",
  "DB",
  "REPLACE",
  "ABSTTL",
];

const NUMBERS = [
  "0",
  "1",
  "-1",
  "2",
  "10",
  "100",
  "-100",
  "3.5",
  "-0",
  "1e3",
  "inf",
  "-inf",
  "+inf",
  "nan",
  "2147483647",
  "2147483648",
  "-2147483649",
  "4294967296",
  "9223372036854775807",
  "9223372036854775808",
  "-9223372036854775808",
  "-9223372036854775809",
  "18446744073709551615",
  "0x10",
  " 1",
  "1 ",
  "",
  "00",
  "1.7976931348623157e308",
  "(1",
  "[a",
  "-",
  "+",
];

const SMALL_NUMBERS = ["0", "1", "-1", "2", "7", "10", "-10", "63", "100", "1.5", "abc", ""];

type Random = () => number;

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function randomBytes(random: Random, length: number): string {
  let text = "";
  for (let i = 0; i < length; i++) text += String.fromCharCode(Math.floor(random() * 256));
  return text;
}

function randomArgument(random: Random, small: boolean): string {
  const roll = random();
  if (roll < 0.35) return pick(random, small ? SMALL_NUMBERS : NUMBERS);
  if (roll < 0.55) return pick(random, KEYWORDS);
  if (roll < 0.8) return `k${Math.floor(random() * 8)}`;
  if (roll < 0.95) return randomBytes(random, Math.floor(random() * 12));
  return randomBytes(random, 200 + Math.floor(random() * 3000));
}

function encode(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${arg.length}\r\n${arg}\r\n`;
  return out;
}

/** One request: well-formed, mutated or garbage. */
function randomRequest(random: Random, commands: readonly string[]): string {
  const name = pick(random, commands);
  const small = SMALL_NUMBERS_ONLY.has(name);
  const args = [random() < 0.1 ? name.toUpperCase() : name];
  const count = Math.floor(random() * 7);
  for (let i = 0; i < count; i++) args.push(randomArgument(random, small));
  if (random() < 0.1 && name.includes("|")) args.splice(0, 1, ...name.split("|"));
  const wellFormed = encode(args);
  const roll = random();
  if (roll < 0.55) return wellFormed;
  if (roll < 0.65) {
    // Flip a few bytes.
    const bytes = wellFormed.split("");
    for (let i = 0; i < 1 + Math.floor(random() * 3); i++) {
      const at = Math.floor(random() * bytes.length);
      bytes[at] = String.fromCharCode(Math.floor(random() * 256));
    }
    return bytes.join("");
  }
  if (roll < 0.72) return wellFormed.slice(0, Math.floor(random() * wellFormed.length));
  if (roll < 0.78) {
    return `*${pick(random, ["-1", "0", "99999999999", "-5", "1x", "2147483648"])}\r\n`;
  }
  if (roll < 0.84) {
    return `*2\r\n$3\r\nGET\r\n$${
      pick(random, ["-1", "536870913", "99999999999999", "1x", "-0"])
    }\r\n`;
  }
  if (roll < 0.9) return `${args.join(" ")}${random() < 0.5 ? "\r\n" : "\n"}`;
  if (roll < 0.94) return `SET "unbalanced ${randomBytes(random, 5)}\r\n`;
  if (roll < 0.97) return randomBytes(random, Math.floor(random() * 100));
  return `*1\r\n$${1 + Math.floor(random() * 70000)}\r\n${"x".repeat(Math.floor(random() * 2000))}`;
}

/** Checks that `bytes` is a sequence of complete RESP replies, perhaps cut short at the end. */
function assertValidResp(bytes: Uint8Array, sent: string): void {
  let position = 0;
  while (position < bytes.byteLength) {
    let end: number | undefined;
    try {
      end = findReplyEnd(bytes, position);
    } catch (error) {
      if (error instanceof ReplyFormatError) {
        throw new Error(
          `invalid RESP from the server (${error.message}) after sending ${
            JSON.stringify(sent.slice(0, 300))
          }`,
        );
      }
      throw error;
    }
    if (end === undefined) return;
    position = end;
  }
}

/** Reads what arrives on `conn` until it is quiet for `quietMs` or closes. */
async function readUntilQuiet(conn: Deno.TcpConn, quietMs: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const buffer = new Uint8Array(64 * 1024);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"quiet">((resolve) =>
      timer = setTimeout(() => resolve("quiet"), quietMs)
    );
    const read = conn.read(buffer).catch(() => null);
    const result = await Promise.race([read, timeout]);
    clearTimeout(timer);
    if (result === "quiet") {
      // Close to settle the pending read before returning.
      closeQuietly(conn);
      await read;
      break;
    }
    if (result === null) {
      closeQuietly(conn);
      break;
    }
    chunks.push(buffer.subarray(0, result));
    total += result;
    if (total > 16 * 1024 * 1024) {
      closeQuietly(conn);
      break;
    }
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return all;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/** Sends a batch on a node:net socket and resets the connection (RST). */
function sendAndReset(port: number, data: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, LOOPBACK, () => {
      socket.write(data, () => {
        socket.resetAndDestroy();
      });
    });
    socket.on("error", () => {});
    socket.on("close", () => resolve());
  });
}

function latin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** The resident set size of process `pid` (Deno lets only `-A` read /proc directly). */
async function rssOf(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] })
    .output();
  return Number(new TextDecoder().decode(stdout).trim()) * 1024;
}

async function fuzzWorker(
  port: number,
  random: Random,
  commands: readonly string[],
  deadline: number,
): Promise<number> {
  let connections = 0;
  while (performance.now() < deadline) {
    connections++;
    let batch = "";
    const requests = 1 + Math.floor(random() * 12);
    for (let i = 0; i < requests; i++) batch += randomRequest(random, commands);
    const ending = random();
    if (ending < 0.2) {
      await sendAndReset(port, latin1(batch));
      continue;
    }
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname: LOOPBACK, port });
    } catch {
      await sleep(10);
      continue;
    }
    try {
      await conn.write(latin1(batch));
    } catch {
      // The server may close on a protocol error before everything is written.
    }
    if (ending < 0.3) {
      closeQuietly(conn);
      continue;
    }
    const received = await readUntilQuiet(conn, 30);
    closeQuietly(conn);
    assertValidResp(received, batch);
  }
  return connections;
}

Deno.test({
  name: "fuzz: random and mutated requests never crash, stall or corrupt the server",
  sanitizeResources: true,
  sanitizeOps: true,
  fn: async () => {
    await using server = await startOurServer();
    const pid = server.process!.pid;
    await using healthy = await RawClient.connect(server.port);
    const list = decodeReply(await healthy.command("COMMAND", "LIST")) as string[];
    const commands = list.filter((name) => !NEVER.has(name.split("|")[0]!));
    assert.ok(commands.length > 100, `only ${commands.length} commands listed`);
    // Some data of each type, so commands find something to work on.
    await healthy.command("RPUSH", "k1", "a", "b", "c");
    await healthy.command("SADD", "k2", "1", "2", "x");
    await healthy.command("ZADD", "k3", "1", "a", "2", "b");
    await healthy.command("HSET", "k4", "f", "v", "n", "5");
    await healthy.command("SET", "k5", "10");
    await sleep(200);
    const rssBefore = await rssOf(pid);

    const deadline = performance.now() + SECONDS * 1000;
    let slowest = 0;
    let healthyRounds = 0;
    // FLUSHALL, FLUSHDB or SWAPDB from a fuzz connection may empty the key meanwhile.
    const healthyLoop = (async () => {
      while (performance.now() < deadline) {
        const started = performance.now();
        assert.equal(new TextDecoder().decode(await healthy.command("PING")), "+PONG\r\n");
        await healthy.command("SET", "healthy", String(healthyRounds));
        const value = decodeReply(await healthy.command("GET", "healthy"));
        assert.ok(value === String(healthyRounds) || value === null, `GET healthy: ${value}`);
        slowest = Math.max(slowest, performance.now() - started);
        healthyRounds++;
        await sleep(5);
      }
    })();
    // Awaited below; a failure must not surface as an unhandled rejection meanwhile.
    healthyLoop.catch(() => {});
    const workers = Array.from(
      { length: WORKERS },
      (_, i) => fuzzWorker(server.port, seededRandom(SEED + i), commands, deadline),
    );
    const connections = (await Promise.all(workers)).reduce((sum, count) => sum + count, 0);
    await healthyLoop;

    assert.equal(server.exited, false, `the server exited:\n${server.stderr()}`);
    assert.ok(
      slowest < HEALTHY_LIMIT_MS,
      `the healthy client waited ${slowest.toFixed(0)} ms for a PING/SET/GET round`,
    );
    assert.ok(healthyRounds > 0);
    // Let idle compaction run, then compare memory.
    await healthy.command("FLUSHALL");
    await sleep(2500);
    const rssAfter = await rssOf(pid);
    assert.ok(
      rssAfter <= rssBefore * 2,
      `RSS grew from ${rssBefore >> 20} MB to ${rssAfter >> 20} MB over ${connections} connections`,
    );
    // A handler that throws anything but a CommandError is a bug ("Error running ...").
    assert.doesNotMatch(server.stderr(), /Error running|Uncaught|panicked/);
    console.log(
      `fuzz: ${connections} connections, ${healthyRounds} healthy rounds, slowest ${
        slowest.toFixed(1)
      } ms, RSS ${rssBefore >> 20} -> ${rssAfter >> 20} MB`,
    );
  },
});
