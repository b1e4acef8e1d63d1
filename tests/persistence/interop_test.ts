/**
 * Interoperability with real Redis 7: redis-check-aof accepts every file we
 * write, redis-server loads our files to the same data (through its upgrade
 * path for a single `appendfilename` file), and we load what redis-server
 * writes with `aof-use-rdb-preamble no` (its base file plus incr file).
 *
 * Each test is skipped, loudly, when the program it needs is not installed.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  RawClient,
  redisServerPath,
  type RunningServer,
  startOurServer,
  startRedisServer,
} from "../helpers/servers.ts";
import { startRedisOnOurAof } from "../helpers/test_support.ts";
import {
  assertSameData,
  checkAof,
  infoField,
  programPath,
  send,
  SERVER_TEST,
  type Snapshot,
  snapshotOverSocket,
  tempDir,
  waitFor,
} from "./helpers.ts";

/** Writes a bit of everything: every type, expiries, databases, a transaction. */
async function writeSample(client: RawClient): Promise<void> {
  const future = String(Date.now() + 3_600_000);
  await send(client, "SET", "string", "hello world");
  await send(client, "SET", "binary-ish", "line1\r\nline2");
  await send(client, "SET", "with-ttl", "v", "EX", "1000");
  await send(client, "SET", "with-pxat", "v", "PXAT", future);
  await send(client, "INCR", "counter");
  await send(client, "INCRBYFLOAT", "float", "2.5");
  await send(
    client,
    "HSET",
    "hash",
    ...Array.from({ length: 80 }, (_, i) => [`f${i}`, `${i}`]).flat(),
  );
  await send(client, "HINCRBY", "hash", "f1", "10");
  await send(client, "RPUSH", "list", ...Array.from({ length: 70 }, (_, i) => `item${i}`));
  await send(client, "LPUSH", "list", "head");
  await send(client, "LPOP", "list");
  await send(client, "SADD", "set", ...Array.from({ length: 70 }, (_, i) => `member${i}`));
  await send(client, "SREM", "set", "member3");
  await send(client, "ZADD", "zset", "1", "one", "2.5", "two", "-inf", "low", "1e20", "big");
  await send(client, "ZINCRBY", "zset", "0.1", "one");
  await send(client, "EXPIRE", "hash", "5000");
  await send(client, "MULTI");
  await send(client, "INCR", "counter");
  await send(client, "SET", "from-transaction", "1");
  await send(client, "EXEC");
  await send(client, "SELECT", "7");
  await send(client, "SET", "in-seven", "7");
  await send(client, "SELECT", "0");
  await send(client, "DEL", "string");
  await send(client, "SET", "string", "again");
}

function skip(what: string): void {
  console.warn(`SKIPPED: ${what} is not installed; interoperability not checked`);
}

async function stopped(server: RunningServer | undefined): Promise<void> {
  await server?.stop();
}

Deno.test({
  name: "redis-check-aof accepts our AOF as written and as rewritten",
  ...SERVER_TEST,
  async fn() {
    if (!programPath("redis-check-aof")) return skip("redis-check-aof");
    const dir = await tempDir();
    const server = await startOurServer({ dir, args: ["--appendonly", "yes"] });
    const client = await RawClient.connect(server.port);
    try {
      await writeSample(client);
      const path = join(dir, "database.aof");
      const written = await checkAof(path);
      assert.ok(written.ok, written.output);
      assert.match(written.output, /is valid/);
      await send(client, "BGREWRITEAOF");
      await waitFor(
        async () => (await infoField(client, "aof_rewrites")) === "1",
        10_000,
        "rewrite",
      );
      await send(client, "SET", "after-rewrite", "1");
      const rewritten = await checkAof(path);
      assert.ok(rewritten.ok, rewritten.output);
    } finally {
      await client.close();
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Our data in `dir` (database.aof), loaded by redis-server: the same snapshot? */
async function redisLoads(dir: string, expected: Snapshot): Promise<void> {
  const redisDir = await tempDir();
  let redis: RunningServer | undefined;
  try {
    redis = await startRedisOnOurAof(dir, redisDir);
    assert.ok(redis, "redis-server started");
    assertSameData(await snapshotOverSocket(redis.port), expected, "what redis-server loaded");
  } finally {
    await stopped(redis);
    await Deno.remove(redisDir, { recursive: true });
  }
}

Deno.test({
  name: "redis-server 7 loads our AOF (as written and as rewritten) to the same data",
  ...SERVER_TEST,
  async fn() {
    if (!redisServerPath()) return skip("redis-server");
    const dir = await tempDir();
    const server = await startOurServer({ dir, args: ["--appendonly", "yes"] });
    const client = await RawClient.connect(server.port);
    try {
      await writeSample(client);
      const expected = await snapshotOverSocket(server.port);
      await redisLoads(dir, expected);
      await send(client, "BGREWRITEAOF");
      await waitFor(
        async () => (await infoField(client, "aof_rewrites")) === "1",
        10_000,
        "rewrite",
      );
      await redisLoads(dir, expected);
    } finally {
      await client.close();
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "we load an AOF written by redis-server (RESP base file from its rewrite, plus incr file)",
  ...SERVER_TEST,
  async fn() {
    if (!redisServerPath()) return skip("redis-server");
    const redisDir = await tempDir();
    const ourDir = await tempDir();
    let redis: RunningServer | undefined;
    let ours: RunningServer | undefined;
    try {
      redis = await startRedisServer([
        "--dir",
        redisDir,
        "--appendonly",
        "yes",
        "--aof-use-rdb-preamble",
        "no",
      ]);
      const client = await RawClient.connect(redis!.port);
      await writeSample(client);
      await send(client, "BGREWRITEAOF");
      await waitFor(
        async () =>
          (await infoField(client, "aof_rewrites")) === "1" &&
          (await infoField(client, "aof_rewrite_in_progress")) === "0",
        10_000,
        "redis-server's rewrite",
      );
      // These land in the incr file that follows the base.
      await send(client, "INCR", "counter");
      await send(client, "RPUSH", "list", "tail");
      await send(client, "MULTI");
      await send(client, "INCR", "counter");
      await send(client, "SADD", "set", "added-in-transaction");
      await send(client, "EXEC");
      await send(client, "SET", "short-lived", "v", "PX", "100000");
      await send(client, "SELECT", "3");
      await send(client, "HSET", "in-three", "f", "v");
      await client.close();
      const expected = await snapshotOverSocket(redis!.port);

      const appendDir = join(redisDir, "appendonlydir");
      const manifest = await Deno.readTextFile(join(appendDir, "appendonly.aof.manifest"));
      const files = [...manifest.matchAll(/^file (\S+) seq \d+ type ([bi])$/gm)];
      const base = files.find((file) => file[2] === "b")![1]!;
      const incr = files.filter((file) => file[2] === "i").map((file) => file[1]!);
      const baseBytes = await Deno.readFile(join(appendDir, base));
      assert.notEqual(new TextDecoder().decode(baseBytes.subarray(0, 5)), "REDIS", "RESP base");
      const parts = [
        baseBytes,
        ...await Promise.all(incr.map((name) => Deno.readFile(join(appendDir, name)))),
      ];
      const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
      let offset = 0;
      for (const part of parts) {
        joined.set(part, offset);
        offset += part.byteLength;
      }
      await Deno.writeFile(join(ourDir, "database.aof"), joined);

      ours = await startOurServer({ dir: ourDir, args: ["--appendonly", "yes"] });
      assert.doesNotMatch(ours.stderr(), /short read/);
      assertSameData(await snapshotOverSocket(ours.port), expected, "what we loaded");
    } finally {
      await stopped(redis);
      await stopped(ours);
      await Deno.remove(redisDir, { recursive: true });
      await Deno.remove(ourDir, { recursive: true });
    }
  },
});
