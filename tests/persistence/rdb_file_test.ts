/**
 * dump.rdb at start-up and from SAVE, both ways with redis-server: every
 * type, expiries, all databases and function libraries; the files Redis 6
 * wrote; and files that must not load — cut at every offset, any byte
 * changed, module data, a duplicated key, a version newer than 7.0's —
 * refused with a clear message, never loaded wrongly.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Logger } from "../../src/log.ts";
import { RDB_TYPE, writeRdbFile } from "../../src/rdb/mod.ts";
import { loadRdbFile, RdbLoadError } from "../../src/persistence/rdb_loader.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { freePort, ourServerCommand, RawClient } from "../helpers/servers.ts";
import { configFrom, SERVER_TEST, startInProcess, tempDir } from "./helpers.ts";
import {
  bytes,
  length64,
  moduleId,
  rdbFile,
  rdbString,
  ziplist,
} from "../rdb/fixtures/builders.ts";
import { checkRdb, functionsOfRedis, populate } from "../rdb/helpers.ts";
import { assertSameKeyspace, call, keyspaceThroughRedis, must, startRedis } from "./rdb_servers.ts";

const T = RDB_TYPE;

Deno.test({
  name:
    "a dump.rdb from redis-server loads at start-up, and our SAVE of it loads back into redis-server",
  ...SERVER_TEST,
  async fn() {
    const redisDir = await tempDir();
    const source = await startRedis(["--dir", redisDir]);
    if (source === undefined) return;
    const scratch = await startRedis();
    const dir = await tempDir();
    let ours: Awaited<ReturnType<typeof startInProcess>> | undefined;
    let client: RawClient | undefined;
    let loadedBack: Awaited<ReturnType<typeof startRedis>> | undefined;
    try {
      await populate(source.client);
      const expected = await keyspaceThroughRedis(source.client, scratch!.client);
      const functions = await functionsOfRedis(source.client);
      assert.equal(await call(source.client, "SAVE"), "OK");
      await Deno.copyFile(join(redisDir, "dump.rdb"), join(dir, "dump.rdb"));

      ours = await startInProcess(["--dir", dir, "--appendonly", "no"]);
      client = await RawClient.connect(ours.port);
      assert.match(ours.logText(), /Loading RDB produced by version 7\.0\.\d+/);
      assert.match(
        ours.logText(),
        new RegExp(`Done loading RDB, keys loaded: ${expected.size}, keys expired: 0\\.`),
      );
      assert.match(ours.logText(), /DB loaded from disk: [\d.]+ seconds/);
      assertSameKeyspace(
        await keyspaceThroughRedis(client, scratch!.client),
        expected,
        "redis-server's dump.rdb loaded here",
      );
      const info = (await call(client, "INFO", "persistence")) as string;
      assert.match(info, new RegExp(`rdb_last_load_keys_loaded:${expected.size}\\r`));

      await Deno.remove(join(dir, "dump.rdb"));
      assert.equal(await call(client, "SAVE"), "OK");
      const check = await checkRdb(join(dir, "dump.rdb"));
      assert.ok(check.ok, check.output);
      loadedBack = await startRedis(["--dir", dir]);
      assertSameKeyspace(
        await keyspaceThroughRedis(loadedBack!.client, scratch!.client),
        expected,
        "our dump.rdb loaded into redis-server",
      );
      // The function library came in with the file and went out with our SAVE.
      assert.deepEqual(await functionsOfRedis(loadedBack!.client), functions);
    } finally {
      await client?.close();
      await ours?.stop("test over");
      await loadedBack?.close();
      await scratch?.close();
      await source.close();
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(redisDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "keys that expired while the server was down are not loaded, and are counted",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    await Deno.writeFile(
      join(dir, "dump.rdb"),
      writeRdbFile({
        databases: [{
          index: 3,
          keys: [
            { key: "gone", value: { type: "string", value: "v" }, expireAt: Date.now() - 1000 },
            { key: "kept", value: { type: "list", items: ["a"] }, expireAt: Date.now() + 60_000 },
            { key: "plain", value: { type: "set", members: ["1", "2"] } },
          ],
        }],
      }),
    );
    const ours = await startInProcess(["--dir", dir, "--appendonly", "no"]);
    const client = await RawClient.connect(ours.port);
    try {
      assert.match(ours.logText(), /Done loading RDB, keys loaded: 2, keys expired: 1\./);
      await must(client, "SELECT", "3");
      assert.deepEqual(((await call(client, "KEYS", "*")) as string[]).sort(), ["kept", "plain"]);
      assert.match(
        (await call(client, "INFO", "persistence")) as string,
        /rdb_last_load_keys_expired:1\r/,
      );
    } finally {
      await client.close();
      await ours.stop("test over");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "a dump.rdb of Redis 6 (RDB 9: ziplists, quicklists of ziplists) loads as redis-server loads it",
  ...SERVER_TEST,
  async fn() {
    const file = rdbFile(
      9,
      [0xfa, ...rdbString("redis-ver"), ...rdbString("6.2.14")],
      [T.LIST_QUICKLIST, ...rdbString("list"), 2],
      rdbString(ziplist(["a", 1n, "b"])),
      rdbString(ziplist(["c", -70000n])),
      [T.HASH_ZIPLIST, ...rdbString("hash"), ...rdbString(ziplist(["f", "v", "n", 5n]))],
      [T.ZSET_ZIPLIST, ...rdbString("zset"), ...rdbString(ziplist(["a", "1.5", "b", 2n]))],
      [T.SET_INTSET, ...rdbString("set")],
      rdbString(bytes(2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 7, 0)),
      [0xfe, 2, T.STRING, ...rdbString("in-two"), ...rdbString("x")],
    );
    const dir = await tempDir();
    const redisDir = await tempDir();
    await Deno.writeFile(join(dir, "dump.rdb"), file);
    await Deno.writeFile(join(redisDir, "dump.rdb"), file);
    const redis = await startRedis(["--dir", redisDir]);
    if (redis === undefined) return;
    const ours = await startInProcess(["--dir", dir, "--appendonly", "no"]);
    const client = await RawClient.connect(ours.port);
    try {
      assert.match(ours.logText(), /Loading RDB produced by version 6\.2\.14/);
      assertSameKeyspace(
        await keyspaceThroughRedis(client, redis.client),
        await keyspaceThroughRedis(redis.client, redis.client),
        "an RDB 9 file",
      );
      // What we save of it is 7.0's format, which redis-server loads as the same.
      assert.equal(await call(client, "SAVE"), "OK");
      const saved = await Deno.readFile(join(dir, "dump.rdb"));
      assert.equal(new TextDecoder().decode(saved.subarray(0, 9)), "REDIS0010");
    } finally {
      await client.close();
      await ours.stop("test over");
      await redis.close();
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(redisDir, { recursive: true });
    }
  },
});

/** Loads `file` as start-up does, into a fresh keyspace: the error, or undefined. */
async function loadError(file: Uint8Array, dir: string): Promise<RdbLoadError | undefined> {
  const path = join(dir, "dump.rdb");
  await Deno.writeFile(path, file);
  const config = configFrom(["--dir", dir]);
  const target = {
    log: new Logger("warning", () => {}),
    config,
    keyspace: new Keyspace(16),
    loading: false,
    loadFunction() {},
  };
  try {
    await loadRdbFile(target, path);
    return undefined;
  } catch (error) {
    if (error instanceof RdbLoadError) return error;
    throw error;
  }
}

/** A small file with every type, expiries and two databases. */
function smallFile(): Uint8Array {
  return writeRdbFile({
    functions: ["#!lua name=lib\nredis.register_function('f', function() return 1 end)"],
    databases: [
      {
        index: 0,
        keys: [
          { key: "s", value: { type: "string", value: "hello" } },
          { key: "n", value: { type: "string", value: "12345" }, expireAt: Date.now() + 60_000 },
          { key: "l", value: { type: "list", items: ["a", "b", "1"] } },
          { key: "h", value: { type: "hash", entries: [["f", "v"], ["g", "w"]] } },
          { key: "z", value: { type: "zset", entries: [["a", 1], ["b", 2.5]] } },
          { key: "i", value: { type: "set", members: ["1", "2", "3"] } },
        ],
      },
      { index: 5, keys: [{ key: "x", value: { type: "set", members: ["a", "b"] } }] },
    ],
  });
}

Deno.test("a dump.rdb cut at any offset stops start-up, never loads part of it as the data", async () => {
  const dir = await tempDir();
  try {
    const file = smallFile();
    assert.equal(await loadError(file, dir), undefined, "the whole file loads");
    for (let cut = 0; cut < file.length; cut++) {
      const error = await loadError(file.subarray(0, cut), dir);
      assert.ok(error !== undefined, `a file cut at ${cut} of ${file.length} was loaded`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a dump.rdb with any byte changed stops start-up", async () => {
  const dir = await tempDir();
  try {
    const file = smallFile();
    for (let at = 0; at < file.length; at++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const damaged = file.slice();
        damaged[at]! ^= flip;
        const error = await loadError(damaged, dir);
        assert.ok(error !== undefined, `byte ${at} ^ ${flip} was loaded`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a duplicated key, module data and RDB 11 are refused with the reason", async () => {
  const dir = await tempDir();
  try {
    const duplicated = rdbFile(
      10,
      [T.STRING, ...rdbString("k"), ...rdbString("1")],
      [T.STRING, ...rdbString("k"), ...rdbString("2")],
    );
    assert.match((await loadError(duplicated, dir))!.message, /Duplicated key found in RDB file/);
    const module = rdbFile(10, [
      T.MODULE_2,
      ...rdbString("k"),
      ...length64(moduleId("ReJSON-RL", 3)),
      0,
    ]);
    assert.match((await loadError(module, dir))!.message, /no matching module type 'ReJSON-RL'/);
    assert.match(
      (await loadError(rdbFile(11), dir))!.message,
      /Can't handle RDB format version 11/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "the server exits with status 1 and the reason when its dump.rdb is damaged",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    try {
      const file = smallFile();
      await Deno.writeFile(join(dir, "dump.rdb"), file.subarray(0, file.length - 20));
      const [program, ...args] = ourServerCommand();
      const port = String(await freePort());
      const result = await new Deno.Command(program!, {
        args: [...args, "--port", port, "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "no"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const output = new TextDecoder().decode(result.stderr) +
        new TextDecoder().decode(result.stdout);
      assert.equal(result.code, 1, output);
      assert.match(output, /Short read or OOM loading DB/);
      assert.match(output, new RegExp(`${join(dir, "dump.rdb").replaceAll("/", "\\/")}`));
      assert.equal(
        (await Deno.stat(join(dir, "dump.rdb"))).size,
        file.length - 20,
        "left as it was",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
