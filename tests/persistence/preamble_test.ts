/**
 * AOFs that start with an RDB preamble (`aof-use-rdb-preamble yes`): ours
 * written by a rewrite and loaded at start-up, with writes during and
 * after the rewrite; redis-server's (its RDB base file plus its incr file)
 * loaded here; ours loaded by redis-server; and damage in a preamble.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Logger } from "../../src/log.ts";
import { AofLoadError, loadAppendOnlyFile } from "../../src/persistence/loader.ts";
import { writeRdbFile } from "../../src/rdb/mod.ts";
import { Server } from "../../src/server/server.ts";
import { encodeCommand, latin1Bytes, RawClient } from "../helpers/servers.ts";
import {
  assertSameData,
  checkAof,
  configFrom,
  infoField,
  keyspaceSnapshot,
  SERVER_TEST,
  startInProcess,
  tempDir,
  waitFor,
} from "./helpers.ts";
import { populate } from "../rdb/helpers.ts";
import { assertSameKeyspace, call, keyspaceThroughRedis, must, startRedis } from "./rdb_servers.ts";

const PREAMBLE = ["--appendonly", "yes", "--aof-use-rdb-preamble", "yes"];

async function waitForRewrites(client: RawClient, count: number): Promise<void> {
  await waitFor(
    async () =>
      Number(await infoField(client, "aof_rewrites")) >= count &&
      (await infoField(client, "aof_rewrite_in_progress")) === "0",
    30_000,
    `${count} rewrites`,
  );
}

/** Fills our server with redis-server's every-encoding data set, through DUMP/RESTORE. */
async function fillFromRedis(source: RawClient, client: RawClient): Promise<void> {
  for (let database = 0; database < 16; database++) {
    await must(source, "SELECT", String(database));
    await must(client, "SELECT", String(database));
    for (const key of (await must(source, "KEYS", "*")) as string[]) {
      const ttl = (await must(source, "PTTL", key)) as number;
      await must(
        client,
        "RESTORE",
        key,
        String(Math.max(ttl, 0)),
        (await must(source, "DUMP", key)) as string,
      );
    }
  }
  await must(source, "SELECT", "0");
  await must(client, "SELECT", "0");
}

function concatenate(parts: readonly Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}

Deno.test({
  name:
    "with aof-use-rdb-preamble yes a rewrite writes an RDB, and a restart loads it and the commands after it",
  ...SERVER_TEST,
  async fn() {
    const source = await startRedis();
    if (source === undefined) return;
    const dir = await tempDir();
    const args = ["--dir", dir, ...PREAMBLE];
    let ours = await startInProcess(args);
    let client = await RawClient.connect(ours.port);
    const redisDir = await tempDir();
    try {
      await populate(source.client);
      await fillFromRedis(source.client, client);
      assert.equal(
        await call(client, "BGREWRITEAOF"),
        "Background append only file rewriting started",
      );
      await waitForRewrites(client, 1);
      const path = join(dir, "database.aof");
      const rewritten = await Deno.readFile(path);
      assert.equal(new TextDecoder().decode(rewritten.subarray(0, 9)), "REDIS0010");
      // Commands after the preamble.
      await must(client, "SET", "after", "rewrite");
      await must(client, "DEL", "int8");
      await must(client, "RPUSH", "list-small", "more");
      const check = await checkAof(path);
      assert.ok(check.ok, check.output);
      const expected = await keyspaceThroughRedis(client, source.client);
      await client.close();
      await ours.stop("restart");
      ours = await startInProcess(args);
      client = await RawClient.connect(ours.port);
      assert.match(ours.logText(), /Reading RDB preamble from AOF file/);
      assertSameKeyspace(
        await keyspaceThroughRedis(client, source.client),
        expected,
        "after restart",
      );

      // redis-server loads it too, given as the old single-file AOF it migrates.
      await Deno.copyFile(path, join(redisDir, "appendonly.aof"));
      const loaded = await startRedis(["--dir", redisDir, "--appendonly", "yes"]);
      try {
        assertSameKeyspace(
          await keyspaceThroughRedis(loaded!.client, source.client),
          expected,
          "our preamble AOF in redis-server",
        );
      } finally {
        await loaded!.close();
      }
    } finally {
      await client.close();
      await ours.stop("test over");
      await source.close();
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(redisDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "writes during a preamble rewrite replay to exactly the data clients saw",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    const args = ["--dir", dir, ...PREAMBLE];
    let ours = await startInProcess(args);
    ours.server.persistence.rewriteOptions = { stepBudgetMs: 0 };
    let client = await RawClient.connect(ours.port);
    try {
      for (let i = 0; i < 1500; i++) await must(client, "SET", `key:${i}`, String(i));
      for (let i = 0; i < 200; i++) await must(client, "RPUSH", `list:${i}`, "a", "b");
      let stopping = false;
      const other = await RawClient.connect(ours.port);
      const writer = (async () => {
        for (let i = 0; !stopping; i++) {
          const n = i % 1500;
          await must(other, "INCR", `key:${n}`);
          await must(other, "DEL", `key:${(n * 7) % 1500}`);
          await must(other, "SET", `key:${(n * 7) % 1500}`, String(i));
          await must(other, "LPUSH", `list:${n % 200}`, String(i));
          if (i === 300) await must(other, "SWAPDB", "0", "1");
        }
      })();
      assert.equal(
        await call(client, "BGREWRITEAOF"),
        "Background append only file rewriting started",
      );
      try {
        await waitForRewrites(client, 1);
      } finally {
        stopping = true;
        await writer;
        await other.close();
      }
      const expected = keyspaceSnapshot(ours.server);
      await client.close();
      await ours.stop("restart");
      ours = await startInProcess(args);
      client = await RawClient.connect(ours.port);
      assertSameData(keyspaceSnapshot(ours.server), expected, "after restart");
    } finally {
      await client.close();
      await ours.stop("test over");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "an AOF redis-server wrote with its RDB preamble (base file plus incr file) loads here",
  ...SERVER_TEST,
  async fn() {
    const redisDir = await tempDir();
    const redis = await startRedis(["--dir", redisDir, ...PREAMBLE]);
    if (redis === undefined) return;
    const scratch = await startRedis();
    const dir = await tempDir();
    let ours: Awaited<ReturnType<typeof startInProcess>> | undefined;
    let client: RawClient | undefined;
    try {
      await populate(redis.client);
      await must(redis.client, "BGREWRITEAOF");
      await waitForRewrites(redis.client, 1);
      await must(redis.client, "SET", "after", "rewrite", "PX", "100000");
      await must(redis.client, "HSET", "hash-small", "added", "later");
      const expected = await keyspaceThroughRedis(redis.client, scratch!.client);
      const appendDir = join(redisDir, "appendonlydir");
      const manifest = await Deno.readTextFile(join(appendDir, "appendonly.aof.manifest"));
      const files = [...manifest.matchAll(/^file (\S+) seq \d+ type ([bi])$/gm)];
      const base = await Deno.readFile(join(appendDir, files.find((file) => file[2] === "b")![1]!));
      assert.equal(new TextDecoder().decode(base.subarray(0, 5)), "REDIS", "an RDB base file");
      const incr = await Promise.all(
        files.filter((file) => file[2] === "i").map((file) =>
          Deno.readFile(join(appendDir, file[1]!))
        ),
      );
      await Deno.writeFile(join(dir, "database.aof"), concatenate([base, ...incr]));
      ours = await startInProcess(["--dir", dir, "--appendonly", "yes"]);
      client = await RawClient.connect(ours.port);
      assertSameKeyspace(
        await keyspaceThroughRedis(client, scratch!.client),
        expected,
        "loaded here",
      );
    } finally {
      await client?.close();
      await ours?.stop("test over");
      await scratch?.close();
      await redis.close();
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(redisDir, { recursive: true });
    }
  },
});

function encode(commands: string[][]): Uint8Array {
  return concatenate(commands.map((args) => encodeCommand(args.map(latin1Bytes))));
}

async function loadFile(bytes: Uint8Array): Promise<{ server: Server; error?: Error }> {
  const dir = await tempDir();
  const path = join(dir, "test.aof");
  await Deno.writeFile(path, bytes);
  const server = new Server(configFrom([]), new Logger("warning", () => {}));
  try {
    await loadAppendOnlyFile(server, path);
    return { server };
  } catch (error) {
    return { server, error: error as Error };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a preamble's expired keys stay for the commands after it; expired ones go at the end", async () => {
  const past = Date.now() - 60_000;
  const preamble = writeRdbFile({
    databases: [{
      index: 0,
      keys: [
        { key: "revived", value: { type: "string", value: "1" }, expireAt: past },
        { key: "expired", value: { type: "string", value: "1" }, expireAt: past },
        { key: "plain", value: { type: "list", items: ["a"] } },
      ],
    }],
  }, { aofBase: true });
  const { server, error } = await loadFile(concatenate([
    preamble,
    encode([["SELECT", "0"], ["PERSIST", "revived"], ["INCR", "revived"], ["RPUSH", "plain", "b"]]),
  ]));
  assert.equal(error, undefined);
  const db = server.keyspace.databases[0]!;
  assert.equal(db.entries.get("revived"), "2");
  assert.equal(db.entries.has("expired"), false);
  assert.deepEqual([...db.entries.get("plain") as Iterable<string>], ["a", "b"]);
});

Deno.test("a damaged or cut preamble stops start-up whatever aof-load-truncated says", async () => {
  const preamble = writeRdbFile({
    databases: [{ index: 0, keys: [{ key: "k", value: { type: "string", value: "v" } }] }],
  });
  for (let cut = 5; cut < preamble.length; cut++) {
    const { error } = await loadFile(preamble.subarray(0, cut));
    assert.ok(error instanceof AofLoadError, `cut at ${cut}: ${error}`);
    assert.match(error.message, /RDB preamble of the AOF file .*AOF loading aborted/);
  }
  const damaged = preamble.slice();
  damaged[12]! ^= 0x40;
  const { error } = await loadFile(concatenate([damaged, encode([["SET", "a", "b"]])]));
  assert.ok(error instanceof AofLoadError, String(error));
});
