/**
 * HyperLogLog commands beyond the differential corpus (corpus/hyperloglog.txt
 * pins down replies and bytes): how an HLL lives in the keyspace (a
 * HyperLogLog instance that every string command reads as its HYLL bytes,
 * replaced by a plain string on a string write), what reaches the AOF and the
 * keyspace events, HLLs moved between Redis and us in both directions, and an
 * AOF that replays, here and in redis-server, to the same bytes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { HyperLogLog } from "../../src/store/hyperloglog.ts";
import { recordingServer } from "../helpers/in_process.ts";
import {
  bytesToLatin1,
  RawClient,
  redisServerPath,
  startOurServer,
  startRedisServer,
} from "../helpers/servers.ts";
import {
  assertAofReplays,
  query,
  raw,
  rawSnapshot,
  seededRandom,
} from "../helpers/test_support.ts";
import { SERVER_TEST, tempDir } from "../persistence/helpers.ts";

const REDIS_AVAILABLE = redisServerPath() !== undefined;
if (!REDIS_AVAILABLE) {
  console.warn("redis-server not installed: SKIPPING the HyperLogLog comparisons with Redis");
}

/** Our server in-process: raw replies, the effects it would log, its keyspace events. */
function inProcess() {
  const { server, logged, events, connect } = recordingServer((db, key, event, eventClass) =>
    `${db} ${eventClass}:${event}:${key}`
  );
  const send = connect();
  const run = (...args: string[]) => bytesToLatin1(send(...args));
  const valueOf = (key: string) => server.keyspace.databases[0]!.entries.get(key);
  return { server, logged, events, run, valueOf };
}

const bulk = (value: string) => `$${value.length}\r\n${value}\r\n`;

/** GET's value as a binary string (query() would decode it as UTF-8). */
async function getBinary(client: RawClient, key: string): Promise<string> {
  const reply = await raw(client, "GET", key);
  return reply.slice(reply.indexOf("\r\n") + 2, -2);
}

Deno.test("an HLL key reads as its exact HYLL bytes through the string commands", () => {
  const { run, valueOf } = inProcess();
  assert.equal(run("PFADD", "h", "a", "b", "c"), ":1\r\n");
  const hll = valueOf("h");
  assert.ok(hll instanceof HyperLogLog);
  const bytes = hll.toBinary();
  assert.ok(bytes.startsWith("HYLL\x01"));
  assert.equal(run("GET", "h"), bulk(bytes));
  assert.equal(run("STRLEN", "h"), `:${bytes.length}\r\n`);
  assert.equal(run("GETRANGE", "h", "0", "3"), bulk("HYLL"));
  assert.equal(run("MGET", "h", "missing"), `*2\r\n${bulk(bytes)}$-1\r\n`);
  let bits = 0;
  for (const char of bytes) {
    bits += [...char.charCodeAt(0).toString(2)].filter((b) => b === "1").length;
  }
  assert.equal(run("BITCOUNT", "h"), `:${bits}\r\n`);
  assert.equal(run("GETBIT", "h", "1"), ":1\r\n");
  assert.equal(run("TYPE", "h"), "+string\r\n");
  assert.equal(run("OBJECT", "ENCODING", "h"), bulk("raw"));
  assert.equal(run("LCS", "h", "h", "LEN"), `:${bytes.length}\r\n`);
  // Reads never turn the HLL into a string.
  assert.ok(valueOf("h") instanceof HyperLogLog);
});

Deno.test("string writes replace the HLL with a plain string of the edited bytes", () => {
  const { run, valueOf } = inProcess();
  run("PFADD", "a", "x");
  const before = (valueOf("a") as HyperLogLog).toBinary();
  assert.equal(run("APPEND", "a", "tail"), `:${before.length + 4}\r\n`);
  assert.equal(valueOf("a"), before + "tail");

  run("PFADD", "r", "x");
  const original = (valueOf("r") as HyperLogLog).toBinary();
  run("SETRANGE", "r", "0", "Hyll");
  assert.equal(valueOf("r"), "Hyll" + original.slice(4));
  assert.equal(
    run("PFADD", "r", "y"),
    "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n",
  );

  run("PFADD", "b", "x");
  const bitBytes = (valueOf("b") as HyperLogLog).toBinary();
  assert.equal(run("SETBIT", "b", "7", "1"), ":0\r\n");
  assert.equal(typeof valueOf("b"), "string");
  assert.equal(valueOf("b"), "I" + bitBytes.slice(1));

  // A write that changes nothing (SETBIT to the same value) keeps the HLL.
  run("PFADD", "same", "x");
  assert.equal(run("SETBIT", "same", "1", "1"), ":1\r\n");
  assert.ok(valueOf("same") instanceof HyperLogLog);

  run("PFADD", "s", "x");
  run("SET", "s", "plain");
  assert.equal(valueOf("s"), "plain");
});

Deno.test("a PF command parses an HLL held as a plain string once and keeps its TTL", () => {
  const { run, valueOf, server } = inProcess();
  run("PFADD", "h", "a", "b");
  const bytes = (valueOf("h") as HyperLogLog).toBinary();
  run("SET", "copy", bytes, "EX", "1000");
  assert.equal(typeof valueOf("copy"), "string");
  assert.equal(run("PFCOUNT", "copy"), ":2\r\n");
  assert.ok(valueOf("copy") instanceof HyperLogLog);
  assert.ok(server.keyspace.databases[0]!.expireAt("copy") !== undefined);
  assert.equal(run("PFADD", "copy", "c"), ":1\r\n");
  assert.equal(run("TTL", "copy"), ":1000\r\n");
  // A string that is not an HLL stays as it was.
  run("SET", "text", "hello");
  assert.equal(
    run("PFCOUNT", "text"),
    "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n",
  );
  assert.equal(valueOf("text"), "hello");
});

Deno.test("COPY clones an HLL and RENAME moves it: the copies change independently", () => {
  const { run, valueOf } = inProcess();
  run("PFADD", "h", "a");
  assert.equal(run("COPY", "h", "c"), ":1\r\n");
  assert.notEqual(valueOf("c"), valueOf("h"));
  assert.ok(valueOf("c") instanceof HyperLogLog);
  assert.equal(run("PFADD", "c", "b", "c", "d"), ":1\r\n");
  assert.equal(run("PFCOUNT", "h"), ":1\r\n");
  assert.equal(run("PFCOUNT", "c"), ":4\r\n");
  const moved = valueOf("c");
  assert.equal(run("RENAME", "c", "moved"), "+OK\r\n");
  assert.equal(valueOf("moved"), moved);
  assert.equal(run("PFCOUNT", "moved"), ":4\r\n");
  assert.equal(run("TYPE", "moved"), "+string\r\n");
});

Deno.test("PFCOUNT is logged only when it rewrote the cache; the others as Redis propagates", () => {
  const { run, logged } = inProcess();
  run("PFADD", "h", "a", "b");
  run("PFADD", "h", "a");
  assert.deepEqual(logged.splice(0), ["0: PFADD h a b"]);
  run("PFCOUNT", "h");
  run("PFCOUNT", "h");
  run("PFCOUNT", "h", "missing");
  run("PFCOUNT", "missing");
  assert.deepEqual(logged.splice(0), ["0: PFCOUNT h"]);
  run("PFMERGE", "m", "h");
  run("PFDEBUG", "TODENSE", "m");
  run("PFDEBUG", "TODENSE", "m");
  run("PFDEBUG", "ENCODING", "m");
  assert.deepEqual(logged.splice(0), ["0: PFMERGE m h", "0: PFDEBUG TODENSE m"]);
  // A corruption found midway replies INVALIDOBJ and, as in Redis, propagates nothing.
  run("SET", "bad", "HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f");
  logged.length = 0;
  assert.equal(run("PFADD", "bad", "a"), ":1\r\n");
  run("SET", "worse", "HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x40\x10\x40\x10");
  logged.length = 0;
  assert.equal(run("PFADD", "worse", "a"), "-INVALIDOBJ Corrupted HLL object detected\r\n");
  assert.deepEqual(logged, []);
});

Deno.test("PFADD and PFMERGE send the pfadd event; PFCOUNT's cache update sends none", () => {
  const { run, events } = inProcess();
  run("PFADD", "h", "a");
  run("PFADD", "h", "a");
  run("PFCOUNT", "h");
  run("PFMERGE", "m", "h");
  // The middle change is PFCOUNT's: signalled (WATCH sees it) with no notification class.
  assert.deepEqual(events, ["0 $:pfadd:h", "0 ::h", "0 $:pfadd:m"]);
});

Deno.test({
  name: "HLLs move between Redis and us in both directions and count the same",
  ...SERVER_TEST,
  ignore: !REDIS_AVAILABLE,
  async fn() {
    const redisServer = (await startRedisServer())!;
    const ourServer = await startOurServer();
    const redis = await RawClient.connect(redisServer.port);
    const ours = await RawClient.connect(ourServer.port);
    try {
      const random = seededRandom(16);
      for (const size of [3, 200, 2500, 20000]) {
        const elements = Array.from({ length: size }, () => String(Math.floor(random() * 1e9)));
        const key = `h${size}`;
        for (let i = 0; i < elements.length; i += 500) {
          await query(redis, "PFADD", key, ...elements.slice(i, i + 500));
        }
        // Redis's bytes, read and counted here.
        const fromRedis = await getBinary(redis, key);
        await query(ours, "SET", key, fromRedis);
        assert.equal(await query(ours, "PFCOUNT", key), await query(redis, "PFCOUNT", key));
        assert.equal(await raw(ours, "GET", key), await raw(redis, "GET", key), key);
        // Our bytes after more elements, read and counted by Redis.
        const more = elements.map((element) => element + "x").slice(0, 300);
        await query(ours, "PFADD", key, ...more);
        await query(redis, "PFADD", key, ...more);
        const fromUs = await getBinary(ours, key);
        await query(redis, "SET", `${key}:ours`, fromUs);
        assert.equal(
          await query(redis, "PFCOUNT", `${key}:ours`),
          await query(ours, "PFCOUNT", key),
        );
        assert.equal(await raw(redis, "GET", `${key}:ours`), await raw(ours, "GET", key), key);
      }
    } finally {
      await Promise.all([redis.close(), ours.close()]);
      await Promise.all([redisServer.stop(), ourServer.stop()]);
    }
  },
});

Deno.test({
  name: "an AOF of PF commands replays to the same bytes here and in redis-server",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    try {
      const first = await startOurServer({ dir, args: ["--appendonly", "yes"] });
      const client = await RawClient.connect(first.port);
      const random = seededRandom(5);
      for (let i = 0; i < 30; i++) {
        const elements = Array.from({ length: 100 }, () => String(Math.floor(random() * 1e6)));
        await query(client, "PFADD", `h${i % 4}`, ...elements);
        if (i % 3 === 0) await query(client, "PFCOUNT", `h${i % 4}`);
      }
      await query(client, "PFMERGE", "merged", "h0", "h1", "h2");
      await query(client, "PFCOUNT", "merged");
      await query(client, "PFADD", "sparse", "a", "b");
      await query(client, "PFDEBUG", "TODENSE", "sparse");
      await query(client, "PFADD", "ttl", "a");
      await query(client, "EXPIRE", "ttl", "1000");
      await query(client, "PFADD", "ttl", "b");
      await query(client, "PFADD", "appended", "a");
      await query(client, "APPEND", "appended", "!");
      await query(client, "SET", "handmade", "HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f\xff");
      await query(client, "PFCOUNT", "handmade");
      const expected = await rawSnapshot(first.port);
      assert.equal(Object.keys(expected).length, 9);
      await client.close();
      await first.stop();

      await assertAofReplays(dir, expected);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
