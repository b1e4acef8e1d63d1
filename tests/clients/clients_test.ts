/**
 * End to end with the clients people actually use: ioredis (its defaults,
 * which open with HELLO 3, and `protocol: 2`), node-redis (its defaults),
 * and the real redis-cli (one-shot commands, `--pipe` mass insertion, and
 * HGETALL output as the seed's README shows it).
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { redisCliPath, startOurServer } from "../helpers/servers.ts";

const sanitizers = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "ioredis with its defaults: handshake, ready check, commands, binary values, pipeline",
  ...sanitizers,
  async fn() {
    const server = await startOurServer();
    const redis = new Redis({ port: server.port, host: "127.0.0.1", lazyConnect: true });
    try {
      await redis.connect();
      assert.equal(redis.status, "ready");
      // ioredis 6 negotiates RESP3 with HELLO 3 by default.
      assert.match(String(await redis.call("CLIENT", "INFO")), /resp=3/);
      assert.equal(await redis.ping(), "PONG");
      assert.equal(await redis.set("greeting", "hello"), "OK");
      assert.equal(await redis.get("greeting"), "hello");
      assert.equal(await redis.get("missing"), null);
      assert.equal(await redis.hset("user:1", "name", "Ada", "lang", "en"), 2);
      assert.deepEqual(await redis.hgetall("user:1"), { name: "Ada", lang: "en" });
      assert.equal(await redis.set("session", "x", "EX", 100), "OK");
      assert.equal(await redis.ttl("session"), 100);

      const binary = Buffer.from([0, 255, 13, 10, 128, 7]);
      await redis.set(Buffer.from([1, 2, 0xfe]), binary);
      assert.deepEqual(await redis.getBuffer(Buffer.from([1, 2, 0xfe])), binary);

      const pipeline = redis.pipeline();
      for (let i = 0; i < 1000; i++) pipeline.set(`key:${i}`, `value:${i}`);
      for (let i = 0; i < 1000; i++) pipeline.get(`key:${i}`);
      const results = await pipeline.exec();
      assert.equal(results!.length, 2000);
      assert.deepEqual(results![1999], [null, "value:999"]);
      assert.equal(await redis.dbsize(), 1004);
      await assert.rejects(redis.call("nosuchcommand"), /unknown command 'nosuchcommand'/);
      await assert.rejects(redis.hget("greeting", "f"), /WRONGTYPE/);
    } finally {
      redis.disconnect();
      await server.stop();
    }
  },
});

Deno.test({
  name: "ioredis with protocol 2: same commands over RESP2",
  ...sanitizers,
  async fn() {
    const server = await startOurServer();
    const redis = new Redis({
      port: server.port,
      host: "127.0.0.1",
      lazyConnect: true,
      protocol: 2,
    });
    try {
      await redis.connect();
      assert.match(String(await redis.call("CLIENT", "INFO")), /resp=2/);
      await redis.hset("h", "a", "1", "b", "2");
      assert.deepEqual(await redis.hgetall("h"), { a: "1", b: "2" });
      assert.equal(await redis.del("h", "nothing"), 1);
      assert.equal(await redis.exists("h"), 0);
      const info = await redis.info("persistence");
      assert.match(info, /loading:0/);
    } finally {
      redis.disconnect();
      await server.stop();
    }
  },
});

Deno.test({
  name: "node-redis with its defaults: connect, strings, hashes, expiry",
  ...sanitizers,
  async fn() {
    const server = await startOurServer();
    const client = createClient({ url: `redis://127.0.0.1:${server.port}` });
    client.on("error", () => {});
    try {
      await client.connect();
      assert.match(String(await client.sendCommand(["CLIENT", "INFO"])), /resp=3/);
      assert.equal(await client.ping(), "PONG");
      assert.equal(await client.set("a", "1"), "OK");
      assert.equal(await client.get("a"), "1");
      assert.equal(await client.hSet("h", { x: "1", y: "2" }), 2);
      assert.deepEqual({ ...(await client.hGetAll("h")) }, { x: "1", y: "2" });
      assert.equal(await client.pExpire("a", 50_000), 1);
      const ttl = await client.pTTL("a");
      assert.ok(ttl > 49_000 && ttl <= 50_000, `pttl ${ttl}`);
      assert.equal(await client.del(["a", "h"]), 2);
    } finally {
      await client.close?.().catch(() => {});
      await server.stop();
    }
  },
});

async function redisCli(port: number, args: string[], stdin?: string) {
  const command = new Deno.Command(redisCliPath()!, {
    args: ["-h", "127.0.0.1", "-p", String(port), ...args],
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const child = command.spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const output = await child.output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test({
  name: "redis-cli: one-shot commands, HGETALL output, errors, --pipe mass insertion",
  ...sanitizers,
  ignore: redisCliPath() === undefined,
  async fn() {
    const server = await startOurServer();
    try {
      assert.equal((await redisCli(server.port, ["PING"])).stdout, "PONG\n");
      assert.equal((await redisCli(server.port, ["SET", "name", "redis clone"])).stdout, "OK\n");
      assert.equal((await redisCli(server.port, ["GET", "name"])).stdout, "redis clone\n");
      await redisCli(server.port, ["HSET", "user:1", "name", "John", "age", "30"]);
      assert.equal(
        (await redisCli(server.port, ["--no-raw", "HGETALL", "user:1"])).stdout,
        '1) "name"\n2) "John"\n3) "age"\n4) "30"\n',
      );
      assert.equal(
        (await redisCli(server.port, ["HGETALL", "user:1"])).stdout,
        "name\nJohn\nage\n30\n",
      );
      assert.equal(
        (await redisCli(server.port, ["-3", "--no-raw", "HGETALL", "user:1"])).stdout,
        '1# "name" => "John"\n2# "age" => "30"\n',
      );
      assert.match((await redisCli(server.port, ["GET"])).stdout, /wrong number of arguments/);

      let commands = "";
      for (let i = 0; i < 100_000; i++) {
        commands += `*3\r\n$3\r\nSET\r\n$${String(i).length + 4}\r\nkey:${i}\r\n$1\r\nv\r\n`;
      }
      const piped = await redisCli(server.port, ["--pipe"], commands);
      assert.equal(piped.code, 0, piped.stderr);
      assert.match(piped.stdout, /errors: 0, replies: 100000/);
      assert.equal((await redisCli(server.port, ["DBSIZE"])).stdout, "100002\n");
    } finally {
      await server.stop();
    }
  },
});

if (redisCliPath() === undefined) {
  console.warn("redis-cli is not installed: the redis-cli end-to-end test is SKIPPED");
}
