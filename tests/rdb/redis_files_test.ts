/**
 * The codec against real Redis 7.0 files: redis-server saves a data set in
 * every encoding it writes and our reader must see exactly what
 * redis-server holds; our writer's files must load into redis-server as the
 * same data and pass redis-check-rdb; and value by value, our encoder must
 * produce the very bytes redis-server's DUMP produces.
 *
 * Each test skips, loudly, when redis-server is not installed.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  decodeDumpPayload,
  encodeDumpPayload,
  type RdbFileContents,
  readRdbFile,
  writeRdbFile,
} from "../../src/rdb/mod.ts";
import { RawClient, startRedisServer } from "../helpers/servers.ts";
import {
  checkRdb,
  functionsOfRedis,
  keyspaceOfRecords,
  keyspaceOfRedis,
  must,
  populate,
  programPath,
  replyBytes,
  SERVER_TEST,
  sorted,
  withRedis,
} from "./helpers.ts";

async function saveAndRead(
  client: RawClient,
): Promise<{ contents: RdbFileContents; path: string }> {
  await must(client, "SAVE");
  const [, dir] = (await must(client, "CONFIG", "GET", "dir")) as [string, string];
  const path = join(dir, "dump.rdb");
  return { contents: readRdbFile(await Deno.readFile(path)), path };
}

function inputOf(contents: RdbFileContents) {
  const databases = new Map<number, RdbFileContents["keys"]>();
  for (const record of contents.keys) {
    const keys = databases.get(record.database) ?? [];
    keys.push(record);
    databases.set(record.database, keys);
  }
  return {
    functions: contents.functions,
    databases: [...databases].map(([index, keys]) => ({ index, keys })),
  };
}

Deno.test({
  name: "every type in every encoding redis-server saves reads back as redis-server holds it",
  ...SERVER_TEST,
  fn: () =>
    withRedis(async (client) => {
      await populate(client);
      const { contents } = await saveAndRead(client);
      assert.equal(contents.version, 10);
      assert.equal(contents.checksum, "verified");
      assert.equal(contents.emptyKeysSkipped, 0);
      assert.deepEqual(contents.aux.map((field) => field.name), [
        "redis-ver",
        "redis-bits",
        "ctime",
        "used-mem",
        "aof-base",
      ]);
      assert.equal(contents.aux[0]!.value.startsWith("7."), true);
      assert.deepEqual(sorted(keyspaceOfRecords(contents.keys)), await keyspaceOfRedis(client));
      assert.deepEqual(contents.functions, await functionsOfRedis(client));
    }),
});

Deno.test({
  name: "a file saved with rdbcompression no and rdbchecksum no reads the same, checksum disabled",
  ...SERVER_TEST,
  fn: () =>
    withRedis(async (client) => {
      await populate(client);
      const { contents } = await saveAndRead(client);
      assert.equal(contents.checksum, "disabled");
      assert.deepEqual(sorted(keyspaceOfRecords(contents.keys)), await keyspaceOfRedis(client));
    }, ["--rdbcompression", "no", "--rdbchecksum", "no"]),
});

for (const compression of [true, false]) {
  Deno.test({
    name: `our file (compression ${
      compression ? "on" : "off"
    }) loads into redis-server as the same data and passes redis-check-rdb`,
    ...SERVER_TEST,
    fn: () =>
      withRedis(async (client) => {
        await populate(client);
        const expected = await keyspaceOfRedis(client);
        const expectedFunctions = await functionsOfRedis(client);
        const { contents } = await saveAndRead(client);
        const dir = await Deno.makeTempDir({ prefix: "redis-clone-rdb-" });
        try {
          const path = join(dir, "ours.rdb");
          await Deno.writeFile(path, writeRdbFile(inputOf(contents), { compression }));
          if (programPath("redis-check-rdb") !== undefined) {
            const check = await checkRdb(path);
            assert.ok(check.ok, check.output);
          } else {
            console.warn("redis-check-rdb not installed: SKIPPING the file check");
          }
          const server = await startRedisServer(["--dir", dir, "--dbfilename", "ours.rdb"]);
          assert.ok(server !== undefined);
          const loaded = await RawClient.connect(server.port);
          try {
            assert.deepEqual(await keyspaceOfRedis(loaded), expected);
            assert.deepEqual(await functionsOfRedis(loaded), expectedFunctions);
          } finally {
            await loaded.close();
            await server.stop();
          }
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      }),
  });
}

/**
 * Streams with deleted entries: Redis keeps them as tombstones inside its
 * nodes, the model has live entries only, so the node layout differs.
 */
const HAS_TOMBSTONES = new Set(["stream", "stream-trimmed"]);

Deno.test({
  name: "our encoding of every value is byte for byte redis-server's DUMP (compression off)",
  ...SERVER_TEST,
  fn: () =>
    withRedis(async (client) => {
      await populate(client);
      await must(client, "CONFIG", "SET", "rdbcompression", "no");
      const keys = (await must(client, "KEYS", "*")) as string[];
      let compared = 0;
      for (const key of keys) {
        const payload = replyBytes(await must(client, "DUMP", key));
        const ours = encodeDumpPayload(decodeDumpPayload(payload), { compression: false });
        if (HAS_TOMBSTONES.has(key)) continue;
        assert.deepEqual(ours, payload, `DUMP ${JSON.stringify(key.slice(0, 40))}`);
        compared++;
      }
      assert.ok(compared > 40);
    }),
});

Deno.test({
  name:
    "the RDB base file of redis-server's multi-part AOF reads as what it holds, with aof-base 1",
  ...SERVER_TEST,
  fn: () =>
    withRedis(async (client) => {
      await populate(client);
      await must(client, "BGREWRITEAOF");
      for (let attempt = 0; attempt < 200; attempt++) {
        const info = (await must(client, "INFO", "persistence")) as string;
        if (
          info.includes("aof_rewrite_in_progress:0") && !info.includes("aof_rewrite_scheduled:1")
        ) {
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const [, dir] = (await must(client, "CONFIG", "GET", "dir")) as [string, string];
      const aofDir = join(dir, "appendonlydir");
      const base = [...Deno.readDirSync(aofDir)].map((entry) => entry.name)
        .filter((name) => name.endsWith(".base.rdb")).sort().pop();
      assert.ok(base !== undefined, "no base RDB file");
      const contents = readRdbFile(await Deno.readFile(join(aofDir, base)));
      assert.equal(contents.aux.find((field) => field.name === "aof-base")?.value, "1");
      assert.deepEqual(sorted(keyspaceOfRecords(contents.keys)), await keyspaceOfRedis(client));
    }, ["--appendonly", "yes", "--aof-use-rdb-preamble", "yes"]),
});
