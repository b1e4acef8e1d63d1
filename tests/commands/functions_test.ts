/**
 * FUNCTION and FCALL over real sockets, for what the differential corpus
 * cannot show: libraries surviving a restart through the AOF (FUNCTION
 * LOAD, DELETE, FLUSH and RESTORE are logged, FCALL as its effects), FUNCTION
 * DUMP payloads moving between this server and redis-server both ways, and
 * FUNCTION RESTORE's FLUSH, APPEND and REPLACE policies with collisions.
 *
 * @module
 */

import assert from "node:assert/strict";
import { raw, readAof } from "../helpers/test_support.ts";
import {
  RawClient,
  type RunningServer,
  startOurServer,
  startRedisServer,
} from "../helpers/servers.ts";

function library(name: string, ...functions: string[]): string {
  return `#!lua name=${name}\n` +
    functions.map((fn) =>
      `redis.register_function('${fn}', function(keys, args) return '${name}.${fn}' end)`
    ).join("\n");
}

async function withServer(
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

/** The bulk string payload of a FUNCTION DUMP reply. */
async function dump(client: RawClient): Promise<string> {
  const reply = await raw(client, "FUNCTION", "DUMP");
  const header = reply.indexOf("\r\n");
  assert.equal(reply[0], "$");
  return reply.slice(header + 2, -2);
}

Deno.test("libraries survive a restart through the AOF; FCALL is logged as its effects", async () => {
  const dir = await Deno.makeTempDir();
  const args = ["--appendonly", "yes"];
  try {
    await withServer(async (client) => {
      assert.equal(await raw(client, "FUNCTION", "LOAD", library("kept", "k1")), "$4\r\nkept\r\n");
      assert.equal(await raw(client, "FUNCTION", "LOAD", library("gone", "g1")), "$4\r\ngone\r\n");
      assert.equal(await raw(client, "FUNCTION", "DELETE", "gone"), "+OK\r\n");
      assert.equal(
        await raw(
          client,
          "FUNCTION",
          "LOAD",
          "#!lua name=writer\nredis.register_function('incr', function(keys) return redis.call('INCR', keys[1]) end)",
        ),
        "$6\r\nwriter\r\n",
      );
      assert.equal(await raw(client, "FCALL", "incr", "1", "n"), ":1\r\n");
      // A refused load changes nothing and logs nothing.
      assert.match(await raw(client, "FUNCTION", "LOAD", library("kept", "k2")), /^-ERR Library/);
    }, { dir, args });
    const logged = await readAof(dir, { select: false });
    assert.deepEqual(logged.map((command) => command.slice(0, 2).join(" ")), [
      "FUNCTION LOAD",
      "FUNCTION LOAD",
      "FUNCTION DELETE",
      "FUNCTION LOAD",
      "INCR n",
    ]);

    await withServer(async (client) => {
      assert.equal(await raw(client, "FCALL", "k1", "0"), "$7\r\nkept.k1\r\n");
      assert.equal(await raw(client, "FCALL", "g1", "0"), "-ERR Function not found\r\n");
      assert.equal(await raw(client, "GET", "n"), "$1\r\n1\r\n");
      assert.equal(await raw(client, "FUNCTION", "FLUSH"), "+OK\r\n");
    }, { dir, args });
    await withServer(async (client) => {
      assert.equal(await raw(client, "FUNCTION", "LIST"), "*0\r\n");
    }, { dir, args });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const preamble of ["no", "yes"]) {
  Deno.test(`libraries survive BGREWRITEAOF (aof-use-rdb-preamble ${preamble}) and SAVE`, async () => {
    const dir = await Deno.makeTempDir();
    const args = ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble];
    try {
      await withServer(async (client) => {
        assert.equal(
          await raw(client, "FUNCTION", "LOAD", library("kept", "k1")),
          "$4\r\nkept\r\n",
        );
        assert.equal(
          await raw(client, "FUNCTION", "LOAD", library("gone", "g1")),
          "$4\r\ngone\r\n",
        );
        assert.equal(await raw(client, "SET", "plain", "value"), "+OK\r\n");
        assert.equal(await raw(client, "SAVE"), "+OK\r\n");
        assert.equal(await raw(client, "FUNCTION", "DELETE", "gone"), "+OK\r\n");
        assert.match(await raw(client, "BGREWRITEAOF"), /^\+Background append only file rewriting/);
        for (let attempt = 0; attempt < 200; attempt++) {
          if ((await raw(client, "INFO", "persistence")).includes("aof_rewrite_in_progress:0")) {
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }, { dir, args });
      if (preamble === "no") {
        // The rewritten file holds no history, just the library that exists.
        const logged = await readAof(dir, { select: false });
        const functions = logged.filter((command) => command[0] === "FUNCTION");
        assert.deepEqual(functions, [["FUNCTION", "LOAD", library("kept", "k1")]]);
      }
      await withServer(async (client) => {
        assert.equal(await raw(client, "FCALL", "k1", "0"), "$7\r\nkept.k1\r\n");
        assert.equal(await raw(client, "FCALL", "g1", "0"), "-ERR Function not found\r\n");
        assert.equal(await raw(client, "GET", "plain"), "$5\r\nvalue\r\n");
      }, { dir, args });
      // dump.rdb (saved while both libraries existed) holds them too.
      await withServer(async (client) => {
        assert.equal(await raw(client, "FCALL", "g1", "0"), "$7\r\ngone.g1\r\n");
      }, { dir, args: ["--appendonly", "no"] });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("FUNCTION DUMP payloads restore between this server and redis-server both ways", async () => {
  const redisServer = await startRedisServer();
  if (redisServer === undefined) {
    console.warn("redis-server not installed: SKIPPING the DUMP/RESTORE exchange with Redis");
    return;
  }
  const ourServer = await startOurServer();
  const ours = await RawClient.connect(ourServer.port);
  const redis = await RawClient.connect(redisServer.port);
  try {
    const code = library("exchanged", "ex1", "ex2") +
      "\n-- a comment long enough for the dump to compress " + "x".repeat(200);
    assert.equal(await raw(ours, "FUNCTION", "LOAD", code), "$9\r\nexchanged\r\n");
    const fromOurs = await dump(ours);
    assert.equal(await raw(redis, "FUNCTION", "RESTORE", fromOurs), "+OK\r\n");
    assert.equal(await raw(redis, "FCALL", "ex2", "0"), "$13\r\nexchanged.ex2\r\n");

    assert.equal(
      await raw(redis, "FUNCTION", "LOAD", library("native", "n1")),
      "$6\r\nnative\r\n",
    );
    const fromRedis = await dump(redis);
    assert.equal(await raw(ours, "FUNCTION", "RESTORE", fromRedis, "REPLACE"), "+OK\r\n");
    assert.equal(await raw(ours, "FCALL", "n1", "0"), "$9\r\nnative.n1\r\n");
    assert.equal(await raw(ours, "FCALL", "ex1", "0"), "$13\r\nexchanged.ex1\r\n");
    // A payload whose checksum does not match is refused by both, with the same text.
    const last = fromRedis.charCodeAt(fromRedis.length - 1);
    const corrupted = fromRedis.slice(0, -1) + String.fromCharCode(last ^ 1);
    assert.equal(
      await raw(ours, "FUNCTION", "RESTORE", corrupted),
      "-ERR DUMP payload version or checksum are wrong\r\n",
    );
    assert.equal(
      await raw(redis, "FUNCTION", "RESTORE", corrupted),
      "-ERR DUMP payload version or checksum are wrong\r\n",
    );
  } finally {
    await ours.close();
    await redis.close();
    await ourServer.stop();
    await redisServer.stop();
  }
});

Deno.test("FUNCTION RESTORE applies FLUSH, APPEND and REPLACE, all or nothing", async () => {
  await withServer(async (client) => {
    assert.equal(await raw(client, "FUNCTION", "LOAD", library("a", "a1")), "$1\r\na\r\n");
    assert.equal(await raw(client, "FUNCTION", "LOAD", library("b", "b1")), "$1\r\nb\r\n");
    const both = await dump(client);
    assert.equal(await raw(client, "FUNCTION", "DELETE", "b"), "+OK\r\n");

    // APPEND (the default) refuses a library that exists, and restores nothing.
    assert.equal(
      await raw(client, "FUNCTION", "RESTORE", both),
      "-ERR Library a already exists\r\n",
    );
    assert.equal(await raw(client, "FCALL", "b1", "0"), "-ERR Function not found\r\n");

    // REPLACE swaps same-named libraries but still refuses a function taken by another one.
    assert.equal(await raw(client, "FUNCTION", "DELETE", "a"), "+OK\r\n");
    assert.equal(await raw(client, "FUNCTION", "LOAD", library("c", "a1")), "$1\r\nc\r\n");
    assert.equal(
      await raw(client, "FUNCTION", "RESTORE", both, "REPLACE"),
      "-ERR Function a1 already exists\r\n",
    );
    assert.equal(await raw(client, "FCALL", "a1", "0"), "$4\r\nc.a1\r\n");
    assert.equal(await raw(client, "FUNCTION", "DELETE", "c"), "+OK\r\n");
    assert.equal(await raw(client, "FUNCTION", "LOAD", library("a", "old")), "$1\r\na\r\n");
    assert.equal(await raw(client, "FUNCTION", "RESTORE", both, "REPLACE"), "+OK\r\n");
    assert.equal(await raw(client, "FCALL", "old", "0"), "-ERR Function not found\r\n");
    assert.equal(await raw(client, "FCALL", "b1", "0"), "$4\r\nb.b1\r\n");

    // FLUSH replaces everything.
    assert.equal(await raw(client, "FUNCTION", "FLUSH"), "+OK\r\n");
    assert.equal(await raw(client, "FUNCTION", "LOAD", library("z", "z1")), "$1\r\nz\r\n");
    assert.equal(await raw(client, "FUNCTION", "RESTORE", both, "FLUSH"), "+OK\r\n");
    assert.equal(await raw(client, "FCALL", "z1", "0"), "-ERR Function not found\r\n");
    assert.equal(await raw(client, "FCALL", "a1", "0"), "$4\r\na.a1\r\n");
    assert.match(
      await raw(client, "FUNCTION", "STATS"),
      /\$15\r\nlibraries_count\r\n:2\r\n\$15\r\nfunctions_count\r\n:2\r\n$/,
    );
  });
});

Deno.test("FUNCTION LOAD stops a library whose top level runs for more than 500 ms", async () => {
  await withServer(async (client) => {
    assert.equal(
      await raw(client, "FUNCTION", "LOAD", "#!lua name=slow\nwhile true do end"),
      "-ERR Error registering functions: ERR FUNCTION LOAD timeout\r\n",
    );
    assert.equal(await raw(client, "FUNCTION", "LIST"), "*0\r\n");
  });
});
