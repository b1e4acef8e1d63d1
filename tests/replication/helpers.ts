/**
 * Tools for the replication tests: servers of ours in this process (fast
 * to start, and their internals can be looked at) or as processes (to be
 * killed with SIGKILL), real redis-servers, waiting for a condition, INFO
 * fields, and a deterministic workload that writes every type.
 *
 * Every server gets a temporary directory of its own (a full sync writes
 * its scratch files there) and `repl-diskless-sync-delay 0`, so no test
 * waits the default five seconds for more replicas.
 *
 * @module
 */

import { parseCommandLine } from "../../src/config.ts";
import { Logger } from "../../src/log.ts";
import { type RunningServer as InProcess, startServer } from "../../src/main.ts";
import type { Server } from "../../src/server/server.ts";
import {
  decodeReply,
  freePort,
  LOOPBACK,
  RawClient,
  type ReplyValue,
  type RunningServer,
  sleep,
  startOurServer,
  startRedisServer,
} from "../helpers/servers.ts";

export { RawClient, sleep };

/** A server of ours running in this process. */
export interface OurServer {
  readonly port: number;
  readonly server: Server;
  readonly dir: string;
  /** Everything it logged so far. */
  log(): string;
  stop(): Promise<void>;
}

/** Arguments every test server gets unless it says otherwise. */
const COMMON_ARGS = [
  "--repl-diskless-sync-delay",
  "0",
  "--save",
  "",
  "--enable-debug-command",
  "yes",
];

/**
 * Starts our server in this process with `args` (after `--port`, `--bind`,
 * `--dir`); `port` to reuse one (a master started again where it was).
 */
export async function startOurs(args: string[] = [], port?: number): Promise<OurServer> {
  port ??= await freePort();
  const dir = await Deno.makeTempDir({ prefix: "redis-clone-repl-" });
  const lines: string[] = [];
  const parsed = parseCommandLine([
    "--port",
    String(port),
    "--bind",
    LOOPBACK,
    "--dir",
    dir,
    "--appendonly",
    "no",
    ...COMMON_ARGS,
    ...args,
  ]);
  if (parsed.action !== "serve") throw new Error("not a serve command line");
  const log = new Logger("notice", (line) => lines.push(line));
  let running: InProcess;
  try {
    running = await startServer(parsed.config, log);
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    port: running.listener.port,
    server: running.server,
    dir,
    log: () => lines.join(""),
    stop: () =>
      stopped ??= (async () => {
        await running.stop(undefined, { save: false });
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      })(),
  };
}

/** Our server as a process (for SIGKILL), in a temporary directory it keeps for its life. */
export async function startOursProcess(
  args: string[] = [],
): Promise<RunningServer & { dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "redis-clone-repl-" });
  const server = await startOurServer({ dir, args: [...COMMON_ARGS, ...args] });
  return Object.assign(server, { dir });
}

/** A redis-server, or undefined (after a loud warning) when it is not installed. */
export async function startRedis(args: string[] = []): Promise<RunningServer | undefined> {
  const server = await startRedisServer([...COMMON_ARGS, ...args]);
  if (server === undefined) {
    console.warn("redis-server not installed: SKIPPING this replication test with Redis");
  }
  return server;
}

/** Sends a command (arguments as text) and decodes the reply. */
export async function call(client: RawClient, ...args: string[]): Promise<ReplyValue> {
  return decodeReply(await client.command(...args));
}

/** Sends a command and fails unless the reply is not an error. */
export async function must(client: RawClient, ...args: string[]): Promise<ReplyValue> {
  const reply = await call(client, ...args);
  if (typeof reply === "object" && reply !== null && "error" in reply) {
    throw new Error(`${args.join(" ")} failed: ${(reply as { error: string }).error}`);
  }
  return reply;
}

/** One INFO field of `section`, as text (undefined when absent). */
export async function info(
  client: RawClient,
  field: string,
  section = "replication",
): Promise<string | undefined> {
  const text = String(await call(client, "INFO", section));
  const match = new RegExp(`^${field}:(.*)$`, "m").exec(text.replaceAll("\r", ""));
  return match?.[1];
}

/** Waits until `condition` holds, checking every 20 ms; fails after `timeoutMs` with `what`. */
export async function waitFor(
  what: string,
  condition: () => Promise<boolean> | boolean,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Waits until the replica behind `client` has its link up. */
export async function waitForLink(client: RawClient, timeoutMs = 15_000): Promise<void> {
  await waitFor(
    "the master link to be up",
    async () => (await info(client, "master_link_status")) === "up",
    timeoutMs,
  );
}

/** Waits until `replica` has applied everything `master` has written so far. */
export async function waitForOffset(
  master: RawClient,
  replica: RawClient,
  timeoutMs = 15_000,
): Promise<void> {
  const target = Number(await info(master, "master_repl_offset"));
  await waitFor(`the replica to reach offset ${target}`, async () => {
    if ((await info(replica, "master_link_status")) !== "up") return false;
    return Number(await info(replica, "master_repl_offset")) >= target;
  }, timeoutMs);
}

/**
 * The whole data set in a form two servers agree on for the same data:
 * per database and key, DEBUG DIGEST-VALUE (the same on Redis and here)
 * with the key's deadline, and for streams, whose DEBUG digest differs
 * here, XINFO STREAM FULL.
 */
export async function digest(client: RawClient): Promise<string> {
  const parts: string[] = [];
  for (let database = 0; database < 16; database++) {
    await must(client, "SELECT", String(database));
    const keys = (await must(client, "KEYS", "*") as string[]).sort();
    if (keys.length === 0) continue;
    const types = await pipeline(client, keys.map((key) => ["TYPE", key]));
    const values = await pipeline(
      client,
      keys.map((key, i) =>
        types[i] === "stream" ? ["XINFO", "STREAM", key, "FULL"] : ["DEBUG", "DIGEST-VALUE", key]
      ),
    );
    const deadlines = await pipeline(client, keys.map((key) => ["PEXPIRETIME", key]));
    keys.forEach((key, i) => {
      parts.push(`${database}/${key}/${JSON.stringify(values[i])}/${deadlines[i]}`);
    });
  }
  await must(client, "SELECT", "0");
  return parts.join("\n");
}

/** Sends `commands` in one go and decodes their replies. */
export async function pipeline(client: RawClient, commands: string[][]): Promise<ReplyValue[]> {
  const replies: ReplyValue[] = [];
  const batch = 1000;
  for (let start = 0; start < commands.length; start += batch) {
    const slice = commands.slice(start, start + batch);
    await client.send(slice.map(encode).join(""));
    for (let i = 0; i < slice.length; i++) replies.push(decodeReply(await client.readReply()));
  }
  return replies;
}

/** A small deterministic random source. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * The `index`-th command of a mixed workload over every type: strings
 * (with and without expiry), counters, lists, hashes, sets, sorted sets,
 * streams, HyperLogLogs, bitmaps, deletions, renames, expiries, several
 * databases. Keys come from small pools, so commands keep hitting the
 * same keys with different operations.
 */
export function workloadCommand(random: () => number, index: number): string[] {
  const pick = (count: number) => Math.floor(random() * count);
  const key = (prefix: string) => `${prefix}:${pick(200)}`;
  const value = () => `v${pick(100000)}-${index}`;
  switch (pick(24)) {
    case 0:
      return ["SET", key("s"), value()];
    case 1:
      return ["SET", key("s"), value(), "PX", String(60_000 + pick(100_000))];
    case 2:
      return ["INCRBY", key("n"), String(pick(100) - 50)];
    case 3:
      return ["APPEND", key("s"), value()];
    case 4:
      return ["RPUSH", key("l"), value(), value()];
    case 5:
      return ["LPOP", key("l")];
    case 6:
      return ["LPUSH", key("l"), value()];
    case 7:
      return ["HSET", key("h"), `f${pick(20)}`, value()];
    case 8:
      return ["HINCRBY", key("h"), `c${pick(5)}`, String(pick(10))];
    case 9:
      return ["HDEL", key("h"), `f${pick(20)}`];
    case 10:
      return ["SADD", key("t"), `m${pick(50)}`, `m${pick(50)}`];
    case 11:
      return ["SREM", key("t"), `m${pick(50)}`];
    case 12:
      return ["ZADD", key("z"), String(pick(1000) / 10), `m${pick(50)}`];
    case 13:
      return ["ZINCRBY", key("z"), "1.5", `m${pick(50)}`];
    case 14:
      return ["ZREM", key("z"), `m${pick(50)}`];
    case 15:
      return ["XADD", key("x"), "MAXLEN", "~", "50", "*", "f", value()];
    case 16:
      return ["PFADD", key("p"), value(), value()];
    case 17:
      return ["SETBIT", key("b"), String(pick(4096)), String(pick(2))];
    case 18:
      return ["DEL", key(["s", "l", "h", "t", "z"][pick(5)]!)];
    case 19:
      return ["EXPIRE", key(["s", "l", "h"][pick(3)]!), String(100 + pick(1000))];
    case 20:
      return ["RENAME", key("s"), key("s")];
    case 21:
      return ["LMOVE", key("l"), key("l"), "LEFT", "RIGHT"];
    case 22:
      return ["SPOP", key("t")];
    default:
      return ["SINTERSTORE", key("t"), key("t"), key("t")];
  }
}

/**
 * Sends `count` workload commands to `client`, pipelined in batches, in
 * database `database`. Errors (WRONGTYPE, a RENAME of a missing key) are
 * part of the workload and ignored.
 */
export async function runWorkload(
  client: RawClient,
  count: number,
  seed: number,
  database = 0,
): Promise<void> {
  const random = seeded(seed);
  await must(client, "SELECT", String(database));
  const batch = 500;
  for (let done = 0; done < count; done += batch) {
    const size = Math.min(batch, count - done);
    let payload = "";
    for (let i = 0; i < size; i++) payload += encode(workloadCommand(random, done + i));
    await client.send(payload);
    for (let i = 0; i < size; i++) await client.readReply();
  }
  await must(client, "SELECT", "0");
}

function encode(args: readonly string[]): string {
  let text = `*${args.length}\r\n`;
  for (const arg of args) text += `$${new TextEncoder().encode(arg).byteLength}\r\n${arg}\r\n`;
  return text;
}

/** Connects and returns a client; the caller closes it. */
export function connect(port: number): Promise<RawClient> {
  return RawClient.connect(port);
}
