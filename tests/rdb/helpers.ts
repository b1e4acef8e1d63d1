/**
 * Shared tools for the RDB codec tests: a real redis-server to compare
 * against, a RESP decoder that keeps bulk strings binary, canonical
 * snapshots of a keyspace (read from redis-server with commands, or from
 * our reader's records) that compare equal exactly when the data is the
 * same, and a data set that makes redis-server use every encoding it has.
 *
 * @module
 */

import { parseDouble } from "../../src/protocol/doubles.ts";
import { crc64, type RdbKeyRecord, type RdbStream, type RdbValue } from "../../src/rdb/mod.ts";
import {
  findReplyEnd,
  latin1Bytes,
  RawClient,
  type RunningServer,
  startRedisServer,
} from "../helpers/servers.ts";

/** Deno.test options for tests that run servers. */
export const SERVER_TEST = { sanitizeOps: false, sanitizeResources: false } as const;

/** A decoded reply; bulk and simple strings are binary strings. */
export type Resp = string | number | null | Resp[] | { error: string };

/** Decodes one complete RESP2 reply, keeping strings binary. */
export function decodeBinaryReply(bytes: Uint8Array): Resp {
  const [value] = decodeAt(bytes, 0);
  return value;
}

function line(bytes: Uint8Array, start: number): [string, number] {
  let end = start;
  while (bytes[end] !== 13) end++;
  return [String.fromCharCode(...bytes.subarray(start, end)), end + 2];
}

function decodeAt(bytes: Uint8Array, start: number): [Resp, number] {
  const type = bytes[start];
  const [text, next] = line(bytes, start + 1);
  switch (type) {
    case 43: // +
      return [text, next];
    case 45: // -
      return [{ error: text }, next];
    case 58: // :
      return [Number(text), next];
    case 36: { // $
      const length = Number(text);
      if (length < 0) return [null, next];
      let value = "";
      for (let i = 0; i < length; i += 8192) {
        value += String.fromCharCode(
          ...bytes.subarray(next + i, next + Math.min(length, i + 8192)),
        );
      }
      return [value, next + length + 2];
    }
    default: { // *
      const count = Number(text);
      if (count < 0) return [null, next];
      const items: Resp[] = [];
      let position = next;
      for (let i = 0; i < count; i++) {
        const [item, after] = decodeAt(bytes, position);
        items.push(item);
        position = after;
      }
      return [items, position];
    }
  }
}

/** Sends a command whose arguments are binary strings (or bytes) and decodes the reply. */
export async function call(client: RawClient, ...args: (string | Uint8Array)[]): Promise<Resp> {
  const raw = await client.command(
    ...args.map((arg) => typeof arg === "string" ? latin1Bytes(arg) : arg),
  );
  if (findReplyEnd(raw, 0) !== raw.length) throw new Error("expected exactly one reply");
  return decodeBinaryReply(raw);
}

/** Like `call`, but throws on an error reply. */
export async function must(client: RawClient, ...args: (string | Uint8Array)[]): Promise<Resp> {
  const reply = await call(client, ...args);
  if (reply !== null && typeof reply === "object" && "error" in reply) {
    throw new Error(`${String(args[0])} failed: ${reply.error}`);
  }
  return reply;
}

/** Replaces the footer of `body` (the object) with RDB version `version` and a right CRC64. */
export function withFooter(body: Uint8Array, version = 10): Uint8Array {
  const payload = new Uint8Array(body.length + 10);
  payload.set(body);
  payload[body.length] = version & 0xff;
  payload[body.length + 1] = version >> 8;
  let crc = crc64(payload, 0, body.length + 2);
  for (let i = 0; i < 8; i++) {
    payload[body.length + 2 + i] = Number(crc & 0xffn);
    crc >>= 8n;
  }
  return payload;
}

/** A bulk reply as bytes (DUMP payloads). */
export function replyBytes(reply: Resp): Uint8Array {
  if (typeof reply !== "string") throw new Error(`expected a bulk string, got ${String(reply)}`);
  return latin1Bytes(reply);
}

/**
 * Runs `test` against a fresh redis-server with one connection; skips
 * (loudly) when redis-server is not installed.
 */
export async function withRedis(
  test: (client: RawClient, server: RunningServer) => Promise<void>,
  args: string[] = [],
): Promise<void> {
  const server = await startRedisServer(args);
  if (server === undefined) {
    console.warn("redis-server not installed: SKIPPING the comparison with Redis");
    return;
  }
  const client = await RawClient.connect(server.port);
  try {
    await test(client, server);
  } finally {
    await client.close();
    await server.stop();
  }
}

/** Path of a program on PATH, or undefined. */
export function programPath(name: string): string | undefined {
  for (const directory of (Deno.env.get("PATH") ?? "").split(":")) {
    if (directory === "") continue;
    try {
      if (Deno.statSync(`${directory}/${name}`).isFile) return `${directory}/${name}`;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** Runs redis-check-rdb on a file: whether it passed, and its output. */
export async function checkRdb(path: string): Promise<{ ok: boolean; output: string }> {
  const program = programPath("redis-check-rdb");
  if (program === undefined) throw new Error("redis-check-rdb is not installed");
  const result = await new Deno.Command(program, { args: [path], stdout: "piped", stderr: "piped" })
    .output();
  const decoder = new TextDecoder();
  const output = decoder.decode(result.stdout) + decoder.decode(result.stderr);
  return { ok: result.success && output.includes("RDB looks OK"), output };
}

// ---------------------------------------------------------------------------
// Canonical values

/** A value in a canonical form: equal data gives deep-equal forms. */
export type Canonical =
  | { type: "string"; value: string }
  | { type: "list"; items: string[] }
  | { type: "set"; members: string[] }
  | { type: "zset"; entries: [string, number][] }
  | { type: "hash"; entries: [string, string][] }
  | { type: "stream"; stream: CanonicalStream };

/** A stream with IDs as `ms-seq` text and everything in a fixed order. */
export interface CanonicalStream {
  entries: [string, string[]][];
  lastId: string;
  entriesAdded: string;
  maxDeletedId: string;
  firstId: string;
  groups: {
    name: string;
    lastId: string;
    /** null when unknown. */
    entriesRead: string | null;
    pending: [string, string, number, number][];
    consumers: [string, number, string[]][];
  }[];
}

/** A keyspace: "db/key" to canonical value and expiry (-1 for none). */
export type Keyspace = Map<string, { value: Canonical; expireAt: number }>;

const byText = (a: string, b: string) => a < b ? -1 : a > b ? 1 : 0;

function zero(score: number): number {
  return score === 0 ? 0 : score;
}

function idText(id: { ms: bigint; seq: bigint }): string {
  return `${id.ms}-${id.seq}`;
}

/** The canonical form of one of our model's values. */
export function canonical(value: RdbValue): Canonical {
  switch (value.type) {
    case "string":
      return value;
    case "list":
      return { type: "list", items: [...value.items] };
    case "set":
      return { type: "set", members: [...value.members].sort(byText) };
    case "zset":
      return {
        type: "zset",
        entries: value.entries.map(([member, score]): [string, number] => [member, zero(score)])
          .sort((a, b) => a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : byText(a[0], b[0])),
      };
    case "hash":
      return {
        type: "hash",
        entries: value.entries.map(([f, v]): [string, string] => [f, v]).sort((a, b) =>
          byText(a[0], b[0])
        ),
      };
    case "stream":
      return { type: "stream", stream: canonicalStream(value.stream) };
  }
}

function canonicalStream(stream: RdbStream): CanonicalStream {
  return {
    entries: stream.entries.map((entry): [string, string[]] => [idText(entry.id), entry.fields]),
    lastId: idText(stream.lastId),
    entriesAdded: String(stream.entriesAdded),
    maxDeletedId: idText(stream.maxDeletedId),
    firstId: idText(stream.firstId),
    groups: stream.groups.map((group) => ({
      name: group.name,
      lastId: idText(group.lastId),
      entriesRead: group.entriesRead < 0n ? null : String(group.entriesRead),
      pending: group.pending.map((
        entry,
      ): [string, string, number, number] => [
        idText(entry.id),
        entry.consumer,
        entry.deliveryTime,
        entry.deliveryCount,
      ]).sort((a, b) => compareIdText(a[0], b[0])),
      consumers: group.consumers.map((consumer): [string, number, string[]] => [
        consumer.name,
        consumer.seenTime,
        group.pending.filter((entry) => entry.consumer === consumer.name).map((entry) =>
          idText(entry.id)
        ).sort(compareIdText),
      ]).sort((a, b) => byText(a[0], b[0])),
    })).sort((a, b) => byText(a.name, b.name)),
  };
}

function compareIdText(a: string, b: string): number {
  const [aMs, aSeq] = a.split("-").map(BigInt) as [bigint, bigint];
  const [bMs, bSeq] = b.split("-").map(BigInt) as [bigint, bigint];
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  return aSeq < bSeq ? -1 : aSeq > bSeq ? 1 : 0;
}

/** The keyspace our reader produced. */
export function keyspaceOfRecords(keys: readonly RdbKeyRecord[]): Keyspace {
  const keyspace: Keyspace = new Map();
  for (const record of keys) {
    keyspace.set(`${record.database}/${record.key}`, {
      value: canonical(record.value),
      expireAt: record.expireAt ?? -1,
    });
  }
  return keyspace;
}

/** The keyspace a running redis-server holds (databases 0-15). */
export async function keyspaceOfRedis(client: RawClient): Promise<Keyspace> {
  const keyspace: Keyspace = new Map();
  for (let database = 0; database < 16; database++) {
    await must(client, "SELECT", String(database));
    const keys = (await must(client, "KEYS", "*")) as string[];
    for (const key of keys.sort(byText)) {
      const value = await valueOfRedis(client, key);
      const expireAt = (await must(client, "PEXPIRETIME", key)) as number;
      keyspace.set(`${database}/${key}`, { value, expireAt });
    }
  }
  await must(client, "SELECT", "0");
  return sorted(keyspace);
}

/** Sorts a keyspace by key, so deep equality does not depend on insertion order. */
export function sorted(keyspace: Keyspace): Keyspace {
  return new Map([...keyspace].sort((a, b) => byText(a[0], b[0])));
}

function score(text: string): number {
  const value = parseDouble(text);
  if (value === undefined) throw new Error(`bad score ${text}`);
  return zero(value);
}

/** One key of the current database of a redis-server, canonical. */
export async function valueOfRedis(client: RawClient, key: string): Promise<Canonical> {
  const type = (await must(client, "TYPE", key)) as string;
  switch (type) {
    case "string":
      return { type, value: (await must(client, "GET", key)) as string };
    case "list":
      return { type, items: (await must(client, "LRANGE", key, "0", "-1")) as string[] };
    case "set":
      return { type, members: ((await must(client, "SMEMBERS", key)) as string[]).sort(byText) };
    case "zset": {
      const flat = (await must(client, "ZRANGE", key, "0", "-1", "WITHSCORES")) as string[];
      const entries: [string, number][] = [];
      for (let i = 0; i < flat.length; i += 2) entries.push([flat[i]!, score(flat[i + 1]!)]);
      return { type, entries };
    }
    case "hash": {
      const flat = (await must(client, "HGETALL", key)) as string[];
      const entries: [string, string][] = [];
      for (let i = 0; i < flat.length; i += 2) entries.push([flat[i]!, flat[i + 1]!]);
      return { type, entries: entries.sort((a, b) => byText(a[0], b[0])) };
    }
    case "stream":
      return { type, stream: await streamOfRedis(client, key) };
    default:
      throw new Error(`unexpected type ${type} of ${key}`);
  }
}

function fields(reply: Resp): Map<string, Resp> {
  const items = reply as Resp[];
  const map = new Map<string, Resp>();
  for (let i = 0; i < items.length; i += 2) map.set(items[i] as string, items[i + 1]!);
  return map;
}

async function streamOfRedis(client: RawClient, key: string): Promise<CanonicalStream> {
  const info = fields(await must(client, "XINFO", "STREAM", key, "FULL", "COUNT", "0"));
  const entries = (info.get("entries") as Resp[]).map((entry): [string, string[]] => {
    const [id, values] = entry as [string, string[]];
    return [id, values];
  });
  const groups = (info.get("groups") as Resp[]).map((raw) => {
    const group = fields(raw);
    const entriesRead = group.get("entries-read");
    return {
      name: group.get("name") as string,
      lastId: group.get("last-delivered-id") as string,
      entriesRead: entriesRead === null ? null : String(entriesRead),
      pending: (group.get("pending") as Resp[]).map((entry): [string, string, number, number] => {
        const [id, consumer, time, count] = entry as [string, string, number, number];
        return [id, consumer, time, count];
      }).sort((a, b) => compareIdText(a[0], b[0])),
      consumers: (group.get("consumers") as Resp[]).map(
        (rawConsumer): [string, number, string[]] => {
          const consumer = fields(rawConsumer);
          return [
            consumer.get("name") as string,
            consumer.get("seen-time") as number,
            (consumer.get("pending") as Resp[]).map((entry) => (entry as Resp[])[0] as string)
              .sort(compareIdText),
          ];
        },
      ).sort((a, b) => byText(a[0], b[0])),
    };
  }).sort((a, b) => byText(a.name, b.name));
  return {
    entries,
    lastId: info.get("last-generated-id") as string,
    entriesAdded: String(info.get("entries-added")),
    maxDeletedId: info.get("max-deleted-entry-id") as string,
    firstId: info.get("recorded-first-entry-id") as string,
    groups,
  };
}

// ---------------------------------------------------------------------------
// A data set in every encoding

/** Every byte value once, and other awkward strings. */
export const ALL_BYTES = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));

/** A reproducible pseudo-random generator (mulberry32). */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `length` pseudo-random bytes as a binary string. */
export function randomBinary(next: () => number, length: number): string {
  let text = "";
  for (let i = 0; i < length; i++) text += String.fromCharCode(Math.floor(next() * 256));
  return text;
}

const range = <T>(count: number, make: (i: number) => T): T[] =>
  Array.from({ length: count }, (_, i) => make(i));

/**
 * Fills a redis-server with keys in every encoding Redis 7.0 writes, plus
 * expiries, several databases, streams with groups, pending and deleted
 * entries, and a function library.
 */
export async function populate(client: RawClient): Promise<void> {
  const next = random(7);
  const far = String(Date.now() + 10 * 24 * 3600 * 1000);
  // Strings: integers at every width, non-canonical numbers, binary, long ones.
  for (
    const [key, value] of [
      ["int8", "-128"],
      ["int8-top", "127"],
      ["int16", "-32768"],
      ["int16-top", "32767"],
      ["int32", "-2147483648"],
      ["int32-top", "2147483647"],
      ["int32-over", "2147483648"],
      ["int64", "-9223372036854775808"],
      ["leading-zero", "007"],
      ["minus-zero", "-0"],
      ["plus", "+5"],
      ["float", "3.14"],
      ["empty", ""],
      ["twenty", "a".repeat(20)],
      ["twenty-one", "a".repeat(21)],
      ["compressible", "abc".repeat(400)],
      ["incompressible", randomBinary(next, 300)],
      ["all-bytes", ALL_BYTES],
      ["crlf", "line1\r\nline2\x00end"],
      [ALL_BYTES, "binary key"],
      ["big", "x".repeat(70_000) + randomBinary(next, 20_000)],
    ]
  ) await must(client, "SET", key!, value!);
  await must(client, "INCR", "counter");
  await must(client, "SET", "ttl", "v", "PXAT", far);
  await must(client, "SET", "ttl-seconds", "v", "EX", "100000");

  // Lists: one listpack node, several nodes, long items, integers.
  await must(client, "RPUSH", "list-small", "a", "1", "-1", "300", "70000", ALL_BYTES);
  await must(client, "RPUSH", "list-ints", ...range(3000, (i) => String(i * 7919 - 10_000_000)));
  await must(
    client,
    "RPUSH",
    "list-long-items",
    ...range(300, (i) => `item-${i}-` + "y".repeat(90)),
  );
  await must(client, "LPUSH", "list-pushed-left", ...range(50, (i) => `left${i}`));
  await must(client, "RPUSH", "list-one", "only");
  await must(client, "RPUSH", "list-with-ttl", "a", "b");
  await must(client, "PEXPIREAT", "list-with-ttl", far);

  // Sets: intsets of each width, big integer sets, string sets.
  await must(client, "SADD", "intset16", "1", "2", "-3", "32767");
  await must(client, "SADD", "intset32", "1", "70000", "-70000");
  await must(client, "SADD", "intset64", "1", "9223372036854775807", "-9223372036854775808");
  await must(client, "SADD", "intset-max", ...range(512, (i) => String(i * 3)));
  await must(client, "SADD", "ints-too-many", ...range(513, (i) => String(i)));
  await must(client, "SADD", "set-strings", "a", "b", "c", ALL_BYTES);
  await must(client, "SADD", "set-big", ...range(1000, (i) => `member:${i}`));
  await must(client, "SADD", "set-mixed", "1", "2", "x");

  // Sorted sets: listpack (scores of every kind), skiplist by size and by member length.
  await must(
    client,
    "ZADD",
    "zset-small",
    ...["1", "one", "2.5", "two", "-inf", "low", "+inf", "high", "0.1", "tenth"],
    ...["1e20", "huge", "-7", "neg", "4503599627370496", "pow52", "1.5e-300", "tiny"],
  );
  await must(client, "ZADD", "zset-big", ...range(200, (i) => [`${i / 7}`, `m${i}`]).flat());
  await must(client, "ZADD", "zset-long-member", "1", "z".repeat(65), "2", "short");
  await must(client, "ZADD", "zset-ties", "5", "b", "5", "a", "5", "c");

  // Hashes: listpack, hash table by count and by length.
  await must(
    client,
    "HSET",
    "hash-small",
    "f1",
    "v1",
    "n",
    "12",
    "neg",
    "-5",
    "bin",
    ALL_BYTES.slice(0, 64),
  );
  await must(client, "HSET", "hash-big", ...range(600, (i) => [`field:${i}`, `value:${i}`]).flat());
  for (let i = 0; i < 20; i++) await must(client, "HSET", "hash-grown", `f${i}`, String(i * 1000));
  await must(client, "HSET", "hash-long-value", "f", "v".repeat(65), "g", "1");
  await must(
    client,
    "HSET",
    "hash-listpack-by-one-call",
    ...range(200, (i) => [`f${i}`, `${i}`]).flat(),
  );

  // Streams: several nodes, same and different fields, deletions, groups, PELs.
  for (let i = 1; i <= 250; i++) {
    await must(
      client,
      "XADD",
      "stream",
      `${1000 + i}-${i % 3}`,
      "sensor",
      String(i % 7),
      "temp",
      `${20 + i / 10}`,
    );
  }
  await must(client, "XADD", "stream", "2000-0", "other", "fields", "here", "too");
  await must(client, "XDEL", "stream", "1005-2", "1100-1");
  await must(client, "XGROUP", "CREATE", "stream", "readers", "0");
  await must(
    client,
    "XREADGROUP",
    "GROUP",
    "readers",
    "alice",
    "COUNT",
    "5",
    "STREAMS",
    "stream",
    ">",
  );
  await must(
    client,
    "XREADGROUP",
    "GROUP",
    "readers",
    "bob",
    "COUNT",
    "3",
    "STREAMS",
    "stream",
    ">",
  );
  await must(client, "XACK", "stream", "readers", "1002-2");
  await must(client, "XGROUP", "CREATECONSUMER", "stream", "readers", "idle");
  await must(client, "XGROUP", "CREATE", "stream", "late", "$");
  await must(client, "XGROUP", "CREATE", "stream", "middle", "1050-0");
  await must(client, "XADD", "stream-emptied", "5-1", "a", "1");
  await must(client, "XDEL", "stream-emptied", "5-1");
  await must(
    client,
    "XADD",
    "stream-big-ids",
    "18446744073709551614-18446744073709551615",
    "k",
    "v",
  );
  await must(client, "XADD", "stream-trimmed", "MAXLEN", "3", "*", "a", "1");
  for (let i = 0; i < 10; i++) {
    await must(client, "XADD", "stream-trimmed", "MAXLEN", "3", "*", "a", String(i));
  }

  // Other databases.
  await must(client, "SELECT", "1");
  await must(client, "SET", "db1-key", "one");
  await must(client, "HSET", "db1-hash", "a", "b");
  await must(client, "SELECT", "15");
  await must(client, "SET", "db15-key", "fifteen", "PXAT", far);
  await must(client, "SELECT", "0");

  await must(
    client,
    "FUNCTION",
    "LOAD",
    "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return args[1] end)",
  );
}

/** The function libraries a redis-server has, as their source code. */
export async function functionsOfRedis(client: RawClient): Promise<string[]> {
  const libraries = (await must(client, "FUNCTION", "LIST", "WITHCODE")) as Resp[];
  return libraries.map((library) => fields(library).get("library_code") as string).sort(byText);
}
