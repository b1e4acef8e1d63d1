/**
 * Small helpers shared by the socket-level command tests: running a test
 * against our server (and, for comparisons, a real redis-server), sending
 * commands, reading an AOF back, and reproducible random inputs.
 */

import assert from "node:assert/strict";
import {
  bytesToLatin1,
  decodeReply,
  escapeBytes,
  findReplyEnd,
  latin1Bytes,
  RawClient,
  type ReplyValue,
  type RunningServer,
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

/** The commands of an AOF file, each as its arguments. */
export function parseAof(bytes: Uint8Array): string[][] {
  const commands: string[][] = [];
  let position = 0;
  while (position < bytes.byteLength) {
    const end = findReplyEnd(bytes, position);
    assert.ok(end !== undefined, "truncated AOF");
    commands.push(decodeReply(bytes.subarray(position, end)) as string[]);
    position = end;
  }
  return commands;
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
