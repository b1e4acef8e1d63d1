/**
 * Small helpers shared by the socket-level command tests: running a test
 * against our server (and, for comparisons, a real redis-server), sending
 * commands, reading an AOF back, waiting for clients to block, and
 * reproducible random inputs.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  bytesToLatin1,
  decodeReply,
  escapeBytes,
  latin1Bytes,
  RawClient,
  redisServerPath,
  type ReplyValue,
  type RunningServer,
  sleep,
  startOurServer,
  startRedisServer,
} from "./servers.ts";

/** Sends one command (arguments as binary strings) and decodes the reply. */
export async function query(client: RawClient, ...args: string[]): Promise<ReplyValue> {
  return decodeReply(await client.command(...args.map(latin1Bytes)));
}

/** Sends one command (arguments as binary strings) and returns the raw reply. */
export async function raw(client: RawClient, ...args: string[]): Promise<string> {
  return bytesToLatin1(await client.command(...args.map(latin1Bytes)));
}

/** Runs `test` with a fresh server of ours and one connection to it. */
export async function withOurServer(
  test: (client: RawClient, server: RunningServer) => Promise<void>,
  options: { args?: string[]; dir?: string } = {},
): Promise<void> {
  const server = await startOurServer(options);
  const client = await RawClient.connect(server.port);
  try {
    await test(client, server);
  } finally {
    await client.close();
    await server.stop();
  }
}

/** Runs `test` with a client of our server and one of a real redis-server; skips without Redis. */
export async function withBothServers(
  test: (ours: RawClient, redis: RawClient) => Promise<void>,
): Promise<void> {
  const redisServer = await startRedisServer();
  if (redisServer === undefined) {
    console.warn("redis-server not installed: SKIPPING the comparison with Redis");
    return;
  }
  const ourServer = await startOurServer();
  const ours = await RawClient.connect(ourServer.port);
  const redis = await RawClient.connect(redisServer.port);
  try {
    await test(ours, redis);
  } finally {
    await Promise.all([ours.close(), redis.close()]);
    await Promise.all([ourServer.stop(), redisServer.stop()]);
  }
}

/** Sends the same command to both servers and asserts identical reply bytes. */
export async function assertSameReply(
  ours: RawClient,
  redis: RawClient,
  ...args: (string | Uint8Array)[]
): Promise<void> {
  const [expected, actual] = await Promise.all([redis.command(...args), ours.command(...args)]);
  const shown = args.map((arg) => typeof arg === "string" ? arg : escapeBytes(arg)).join(" ");
  assert.equal(escapeBytes(actual), escapeBytes(expected), `reply to ${shown}`);
}

/** How `parseAof` and `readAof` report an AOF's commands. */
export interface AofOptions {
  /** Keep the SELECT commands that say which database follows (default true). */
  select?: boolean;
}

/**
 * The commands of an AOF (RESP arrays of bulk strings, as Redis writes it),
 * each as its arguments in binary strings (one character per byte). Fails
 * the test on anything else, a cut-off command included.
 *
 * @example
 * ```ts
 * parseAof(await Deno.readFile(`${dir}/database.aof`), { select: false });
 * // [["SET", "k", "v"], ["PEXPIREAT", "k", "1700000000000"]]
 * ```
 */
export function parseAof(bytes: Uint8Array, options: AofOptions = {}): string[][] {
  const text = bytesToLatin1(bytes);
  const commands: string[][] = [];
  let at = 0;
  const header = (type: string): number => {
    const end = text.indexOf("\r\n", at);
    assert.ok(end > at && text[at] === type, `AOF: expected '${type}' at byte ${at}`);
    const count = Number(text.slice(at + 1, end));
    assert.ok(Number.isInteger(count) && count >= 0, `AOF: bad count at byte ${at}`);
    at = end + 2;
    return count;
  };
  while (at < text.length) {
    const count = header("*");
    const args: string[] = [];
    for (let i = 0; i < count; i++) {
      const length = header("$");
      assert.ok(text.slice(at + length, at + length + 2) === "\r\n", "truncated AOF");
      args.push(text.slice(at, at + length));
      at += length + 2;
    }
    commands.push(args);
  }
  const keepSelect = options.select ?? true;
  return keepSelect ? commands : commands.filter((args) => args[0]?.toUpperCase() !== "SELECT");
}

/**
 * The commands of every AOF at `path`: a file, or a directory holding
 * `*.aof` files directly or in a subdirectory (Redis 7's appendonlydir/),
 * files in name order.
 */
export async function readAof(path: string, options: AofOptions = {}): Promise<string[][]> {
  const info = await Deno.stat(path);
  if (info.isFile) return parseAof(await Deno.readFile(path), options);
  const files: string[] = [];
  for await (const entry of Deno.readDir(path)) {
    const child = `${path}/${entry.name}`;
    if (entry.isDirectory) {
      for await (const file of Deno.readDir(child)) files.push(`${child}/${file.name}`);
    } else files.push(child);
  }
  const commands: string[][] = [];
  for (const file of files.filter((name) => name.endsWith(".aof")).sort()) {
    commands.push(...parseAof(await Deno.readFile(file), options));
  }
  return commands;
}

/** Waits until the server reports `count` blocked clients (INFO clients), at most 5 s. */
export async function untilBlocked(observer: RawClient, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const info = await raw(observer, "INFO", "clients");
    if (info.includes(`blocked_clients:${count}\r\n`)) return;
    if (Date.now() > deadline) throw new Error(`never saw ${count} blocked clients:\n${info}`);
    await sleep(10);
  }
}

/** A deterministic pseudo-random generator (mulberry32), so failures reproduce. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomDigits(random: () => number, count: number): string {
  let digits = "";
  for (let i = 0; i < count; i++) digits += String(Math.floor(random() * 10));
  return digits;
}

/** A decimal number of varied size and precision, sometimes with an exponent. */
export function randomDecimal(random: () => number): string {
  const sign = random() < 0.35 ? "-" : "";
  let text = sign + randomDigits(random, 1 + Math.floor(random() * 12)).replace(/^0+(?=\d)/, "");
  if (random() < 0.8) text += "." + randomDigits(random, 1 + Math.floor(random() * 19));
  if (random() < 0.25) {
    text += `e${random() < 0.5 ? "-" : ""}${Math.floor(random() * 25)}`;
  }
  return text;
}

/** `prefix0`, `prefix1`, ... `prefix<count-1>`. */
export function range(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
}

/**
 * Every key of database 0 with its type, raw value reply and deadline (sets
 * read with SORT ALPHA, so any server's member order compares equal).
 */
export async function rawSnapshot(port: number): Promise<Record<string, string>> {
  const client = await RawClient.connect(port);
  try {
    const snapshot: Record<string, string> = {};
    for (const key of ((await query(client, "KEYS", "*")) as string[]).sort()) {
      const type = await query(client, "TYPE", key);
      const read = type === "list"
        ? ["LRANGE", key, "0", "-1"]
        : type === "set"
        ? ["SORT", key, "ALPHA"]
        : type === "zset"
        ? ["ZRANGE", key, "0", "-1", "WITHSCORES"]
        : type === "hash"
        ? ["HGETALL", key]
        : ["GET", key];
      snapshot[key] = `${type} ${await raw(client, ...read)} ${await raw(
        client,
        "PEXPIRETIME",
        key,
      )}`;
    }
    return snapshot;
  } finally {
    await client.close();
  }
}

/**
 * Replays `dir`'s database.aof in a fresh server of ours and, when
 * redis-server is installed, in redis-server; each must then hold
 * `expected` (a `rawSnapshot`).
 */
export async function assertAofReplays(
  dir: string,
  expected: Record<string, string>,
): Promise<void> {
  const ours = await startOurServer({ dir, args: ["--appendonly", "yes"] });
  try {
    assert.deepEqual(await rawSnapshot(ours.port), expected, "our replay");
  } finally {
    await ours.stop();
  }
  if (redisServerPath() === undefined) return;
  const redisDir = await Deno.makeTempDir({ prefix: "redis-clone-replay-" });
  try {
    const redis = (await startRedisOnOurAof(dir, redisDir))!;
    try {
      assert.deepEqual(await rawSnapshot(redis.port), expected, "redis-server's replay");
    } finally {
      await redis.stop();
    }
  } finally {
    await Deno.remove(redisDir, { recursive: true });
  }
}

/** redis-server in `redisDir`, started on a copy of our `dir/database.aof` as its one appendfilename. */
export async function startRedisOnOurAof(
  dir: string,
  redisDir: string,
): Promise<RunningServer | undefined> {
  await Deno.copyFile(join(dir, "database.aof"), join(redisDir, "appendonly.aof"));
  return await startRedisServer([
    "--dir",
    redisDir,
    "--appendonly",
    "yes",
    "--appendfilename",
    "appendonly.aof",
  ]);
}
