/**
 * The server family over sockets: CONFIG REWRITE with ACL users, SHUTDOWN,
 * WAIT, DEBUG (enabled), MEMORY USAGE against redis-server's figures,
 * SWAPDB waking blocked clients. Deterministic replies are in the
 * differential corpus (corpus/operations.txt).
 */

import assert from "node:assert/strict";
import { bytesToLatin1, RawClient, startOurServer, startRedisServer } from "../helpers/servers.ts";
import { query, raw } from "../helpers/test_support.ts";
import { listeningServer } from "../server/operations_wiring.ts";

Deno.test("CONFIG REWRITE keeps the file's lines, appends changes and writes ACL users", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redis-clone-rewrite-" });
  const path = `${dir}/redis.conf`;
  await Deno.writeTextFile(path, "# my settings\nmaxmemory 1mb\n");
  const server = await listeningServer({ configFile: path });
  const client = await RawClient.connect(server.port);
  try {
    assert.equal(
      await raw(client, "CONFIG", "SET", "maxmemory", "2mb", "slowlog-max-len", "64"),
      "+OK\r\n",
    );
    assert.equal(
      await raw(client, "ACL", "SETUSER", "reader", "on", ">pw", "~cache:*", "+get"),
      "+OK\r\n",
    );
    assert.equal(await raw(client, "CONFIG", "REWRITE"), "+OK\r\n");
    const text = await Deno.readTextFile(path);
    assert.match(text, /^# my settings\nmaxmemory 2mb\n/);
    assert.match(text, /\nslowlog-max-len 64\n/);
    assert.match(text, /\nuser reader on #[0-9a-f]{64} ~cache:\* resetchannels -@all \+get\n/);
    assert.match(text, /\nuser default on nopass/);
  } finally {
    await client.close();
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CONFIG SET applies several parameters atomically, or none of them", async () => {
  const server = await listeningServer();
  const client = await RawClient.connect(server.port);
  try {
    assert.equal(
      await raw(client, "CONFIG", "SET", "maxmemory", "10mb", "maxmemory-policy", "nonsense"),
      "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction\r\n",
    );
    assert.deepEqual(await query(client, "CONFIG", "GET", "maxmemory"), ["maxmemory", "0"]);
    assert.equal(
      await raw(client, "CONFIG", "SET", "maxmemory", "10mb", "maxmemory-policy", "allkeys-lru"),
      "+OK\r\n",
    );
    assert.equal(server.server.config.maxmemory, 10 * 1024 * 1024);
    assert.equal(server.server.config.maxmemoryPolicy, "allkeys-lru");
  } finally {
    await client.close();
    await server.stop();
  }
});

Deno.test("SHUTDOWN NOSAVE closes the connection without a reply and stops the process", async () => {
  const server = await startOurServer();
  const client = await RawClient.connect(server.port);
  try {
    assert.equal(await raw(client, "SHUTDOWN", "ABORT"), "-ERR No shutdown in progress.\r\n");
    await client.send("*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n");
    assert.equal(await client.isClosed(5000), true);
    assert.equal(bytesToLatin1(await client.readAll(0)), "");
    const { code } = await server.stop();
    assert.equal(code, 0);
  } finally {
    await client.close();
    await server.stop();
  }
});

Deno.test("WAIT with no replicas answers 0 at once for 0 replicas, after the timeout otherwise", async () => {
  const server = await listeningServer();
  const client = await RawClient.connect(server.port);
  try {
    assert.equal(await raw(client, "WAIT", "0", "0"), ":0\r\n");
    const started = Date.now();
    assert.equal(await raw(client, "WAIT", "1", "100"), ":0\r\n");
    assert.ok(Date.now() - started >= 90, "WAIT waited for its timeout");
  } finally {
    await client.close();
    await server.stop();
  }
});

Deno.test("SWAPDB wakes a client blocked on a key the other database holds", async () => {
  const server = await listeningServer();
  const blocked = await RawClient.connect(server.port);
  const client = await RawClient.connect(server.port);
  try {
    await blocked.send("*3\r\n$5\r\nBLPOP\r\n$5\r\nqueue\r\n$1\r\n0\r\n");
    await raw(client, "SELECT", "1");
    await raw(client, "RPUSH", "queue", "job");
    assert.equal(await raw(client, "SWAPDB", "0", "1"), "+OK\r\n");
    assert.equal(
      bytesToLatin1(await blocked.readReply()),
      "*2\r\n$5\r\nqueue\r\n$3\r\njob\r\n",
    );
  } finally {
    await Promise.all([blocked.close(), client.close()]);
    await server.stop();
  }
});

Deno.test("CLIENT KILL over sockets closes the other connection at once", async () => {
  const server = await listeningServer();
  const admin = await RawClient.connect(server.port);
  const victim = await RawClient.connect(server.port);
  try {
    await raw(victim, "CLIENT", "SETNAME", "victim");
    const id = /id=(\d+) [^\n]* name=victim /.exec(await raw(admin, "CLIENT", "LIST"))![1]!;
    assert.equal(await raw(admin, "CLIENT", "KILL", "ID", id), ":1\r\n");
    assert.equal(await victim.isClosed(2000), true);
    assert.doesNotMatch(await raw(admin, "CLIENT", "LIST"), /name=victim/);
  } finally {
    await Promise.all([admin.close(), victim.close()]);
    await server.stop();
  }
});

Deno.test("DEBUG with enable-debug-command: SLEEP, OBJECT, SET-ACTIVE-EXPIRE, PROTOCOL, POPULATE", async () => {
  const server = await listeningServer({ enableDebugCommand: "yes" });
  const client = await RawClient.connect(server.port);
  try {
    const started = Date.now();
    assert.equal(await raw(client, "DEBUG", "SLEEP", "0.05"), "+OK\r\n");
    assert.ok(Date.now() - started >= 45);
    await raw(client, "RPUSH", "list", "a", "b");
    assert.match(
      await raw(client, "DEBUG", "OBJECT", "list"),
      /^\+Value at:0x[0-9a-f]+ refcount:1 encoding:quicklist serializedlength:\d+ lru:\d+ lru_seconds_idle:0 ql_nodes:1 /,
    );
    assert.equal(await raw(client, "DEBUG", "OBJECT", "nosuch"), "-ERR no such key\r\n");
    assert.equal(await raw(client, "DEBUG", "SET-ACTIVE-EXPIRE", "0"), "+OK\r\n");
    assert.equal(server.operations.activeExpireEnabled, false);
    assert.equal(
      await raw(client, "DEBUG", "PROTOCOL", "map"),
      "*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n",
    );
    assert.equal(await raw(client, "DEBUG", "POPULATE", "3", "p", "10"), "+OK\r\n");
    assert.equal(await raw(client, "GET", "p:2"), "$10\r\nvalue:2\x00\x00\x00\r\n");
    assert.equal(
      await raw(client, "DEBUG", "RELOAD", "BOGUS"),
      "-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.\r\n",
    );
  } finally {
    await client.close();
    await server.stop();
  }
});

Deno.test("DEBUG DIGEST and DIGEST-VALUE agree with redis-server for the same data", async () => {
  const redis = await startRedisServer(["--enable-debug-command", "yes"]);
  if (redis === undefined) {
    console.warn("redis-server not installed: SKIPPING the DEBUG DIGEST comparison");
    return;
  }
  const server = await listeningServer({ enableDebugCommand: "yes" });
  const ours = await RawClient.connect(server.port);
  const theirs = await RawClient.connect(redis.port);
  try {
    const setup = [
      ["SET", "s", "hello"],
      ["SET", "n", "12345"],
      ["RPUSH", "l", "a", "b", "c"],
      ["SADD", "set", "x", "y", "1"],
      ["HSET", "h", "f", "v", "g", "w"],
      ["ZADD", "z", "1", "a", "2.5", "b"],
      ["SET", "t", "v", "EX", "1000"],
      ["SELECT", "3"],
      ["SET", "other", "db"],
      ["SELECT", "0"],
    ];
    for (const client of [ours, theirs]) {
      assert.equal(
        await raw(client, "DEBUG", "DIGEST"),
        "+0000000000000000000000000000000000000000\r\n",
      );
      for (const command of setup) await raw(client, ...command);
    }
    assert.equal(await raw(ours, "DEBUG", "DIGEST"), await raw(theirs, "DEBUG", "DIGEST"));
    const keys = ["s", "n", "l", "set", "h", "z", "nosuch"];
    assert.equal(
      await raw(ours, "DEBUG", "DIGEST-VALUE", ...keys),
      await raw(theirs, "DEBUG", "DIGEST-VALUE", ...keys),
    );
  } finally {
    await Promise.all([ours.close(), theirs.close()]);
    await Promise.all([server.stop(), redis.stop()]);
  }
});

Deno.test("DEBUG RELOAD saves, empties and loads dump.rdb as redis-server does", async () => {
  const redis = await startRedisServer(["--enable-debug-command", "yes"]);
  if (redis === undefined) {
    console.warn("redis-server not installed: SKIPPING the DEBUG RELOAD comparison");
    return;
  }
  const dir = await Deno.makeTempDir();
  const server = await startOurServer({ dir, args: ["--enable-debug-command", "yes"] });
  const ours = await RawClient.connect(server.port);
  const theirs = await RawClient.connect(redis.port);
  try {
    const steps = [
      ["SET", "a", "1"],
      ["HSET", "h", "f", "v"],
      ["RPUSH", "l", "x", "y"],
      ["SET", "t", "v", "EX", "1000"],
      ["DEBUG", "RELOAD"],
      ["GET", "a"],
      ["HGETALL", "h"],
      ["LRANGE", "l", "0", "-1"],
      ["DBSIZE"],
      ["SET", "a", "2"],
      ["SET", "b", "new"],
      // Not saved: back to what the last save held.
      ["DEBUG", "RELOAD", "NOSAVE"],
      ["GET", "a"],
      ["EXISTS", "b"],
      ["SET", "b", "kept"],
      ["SET", "a", "3"],
      // Merged into what is there: the file's `a` replaces ours, `b` stays.
      ["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"],
      ["GET", "a"],
      ["GET", "b"],
      ["DBSIZE"],
    ];
    for (const step of steps) {
      assert.equal(await raw(ours, ...step), await raw(theirs, ...step), step.join(" "));
    }
    assert.match(await raw(ours, "TTL", "t"), /^:(99\d|1000)\r\n$/);
  } finally {
    await Promise.all([ours.close(), theirs.close()]);
    await Promise.all([server.stop(), redis.stop()]);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("MEMORY USAGE is within 2x of redis-server's figure for the same values", async () => {
  const redis = await startRedisServer();
  if (redis === undefined) {
    console.warn("redis-server not installed: SKIPPING the MEMORY USAGE comparison");
    return;
  }
  const server = await listeningServer();
  const ours = await RawClient.connect(server.port);
  const theirs = await RawClient.connect(redis.port);
  const range = (count: number, prefix: string) =>
    Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  try {
    const values: string[][] = [
      ["SET", "big", "x".repeat(5000)],
      ["RPUSH", "list", ...range(3000, "element")],
      ["HSET", "hash", ...range(2000, "f").flatMap((field, i) => [field, `value-${i}`])],
      ["SADD", "set", ...range(1500, "member")],
      ["SADD", "ints", ...range(400, "")],
      ["ZADD", "zset", ...range(1000, "m").flatMap((member, i) => [String(i / 3), member])],
      ["XADD", "stream", "*", "field", "value"],
    ];
    for (const client of [ours, theirs]) {
      for (const command of values) await raw(client, ...command);
    }
    for (const key of ["big", "list", "hash", "set", "ints", "zset", "stream"]) {
      for (const samples of ["5", "0"]) {
        const mine = Number(await query(ours, "MEMORY", "USAGE", key, "SAMPLES", samples));
        const redisFigure = Number(await query(theirs, "MEMORY", "USAGE", key, "SAMPLES", samples));
        assert.ok(
          mine <= redisFigure * 2 && mine * 2 >= redisFigure,
          `${key} (samples ${samples}): ours ${mine}, redis ${redisFigure}`,
        );
      }
    }
  } finally {
    await Promise.all([ours.close(), theirs.close()]);
    await Promise.all([server.stop(), redis.stop()]);
  }
});
