/**
 * maxmemory over real sockets: the AOF written while keys are evicted
 * replays to the same keyspace, `evicted` notifications reach subscribers,
 * and the replies clients see (OOM, OBJECT's errors, CONFIG's units) are
 * byte for byte redis-server's.
 *
 * These need the dispatcher's maxmemory step, which the lead wires; until
 * then they skip, loudly (see support.ts).
 *
 * @module
 */

import assert from "node:assert/strict";
import { parseAof, query, raw } from "../helpers/test_support.ts";
import { encodeCommand, RawClient, startOurServer, startRedisServer } from "../helpers/servers.ts";
import { DISPATCHER_WIRED } from "./support.ts";

if (!DISPATCHER_WIRED) {
  console.warn(
    "The dispatcher does not run the maxmemory step yet: SKIPPING the socket tests of " +
      "eviction (see the eviction report for the lines to add to dispatcher.ts)",
  );
}

/** SETs `count` keys of 100 bytes in one pipelined write and reads every reply. */
async function pipelineSets(client: RawClient, prefix: string, count: number): Promise<void> {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    parts.push(encodeCommand([`SET`, `${prefix}${i}`, "v".repeat(100)]));
  }
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  await client.send(bytes);
  for (let i = 0; i < count; i++) await client.readReply();
}

Deno.test({
  name: "the AOF written while keys are evicted replays to the same keyspace",
  ignore: !DISPATCHER_WIRED,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "eviction-aof-" });
    try {
      const args = [
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--maxmemory",
        "2mb",
        "--maxmemory-policy",
        "allkeys-lru",
      ];
      let before: string[];
      {
        await using server = await startOurServer({ args, dir });
        const client = await RawClient.connect(server.port);
        await pipelineSets(client, "key:", 10_000);
        const stats = await raw(client, "INFO", "stats");
        const evicted = Number(/^evicted_keys:(\d+)\r$/m.exec(stats)![1]);
        assert.ok(evicted > 1000, `${evicted} evicted`);
        before = (await query(client, "KEYS", "*") as string[]).sort();
        assert.equal(before.length, 10_000 - evicted);
        await client.close();
      }
      const logged = parseAof(await Deno.readFile(`${dir}/database.aof`), { select: false });
      assert.ok(logged.some((command) => command[0] === "DEL"));
      // Replayed without maxmemory: exactly the keys that were left.
      await using server = await startOurServer({ args: ["--appendonly", "yes"], dir });
      const client = await RawClient.connect(server.port);
      const after = (await query(client, "KEYS", "*") as string[]).sort();
      assert.deepEqual(after, before);
      await client.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "evicted keys are announced to subscribers of the evicted event",
  ignore: !DISPATCHER_WIRED,
  fn: async () => {
    await using server = await startOurServer({
      args: ["--maxmemory", "2mb", "--maxmemory-policy", "allkeys-random"],
    });
    const subscriber = await RawClient.connect(server.port);
    const client = await RawClient.connect(server.port);
    await client.command("CONFIG", "SET", "notify-keyspace-events", "Ee");
    await subscriber.command("SUBSCRIBE", "__keyevent@0__:evicted");
    await pipelineSets(client, "key:", 10_000);
    await client.command("PING");
    const received = new TextDecoder().decode(await subscriber.readAll(300));
    const stats = await raw(client, "INFO", "stats");
    const evicted = Number(/^evicted_keys:(\d+)\r$/m.exec(stats)![1]);
    assert.equal(received.split("__keyevent@0__:evicted").length - 1, evicted);
    await Promise.all([subscriber.close(), client.close()]);
  },
});

Deno.test({
  name: "OOM, OBJECT and CONFIG replies are byte for byte redis-server's",
  ignore: !DISPATCHER_WIRED,
  fn: async () => {
    await using redis = await startRedisServer();
    if (redis === undefined) {
      console.warn("redis-server not installed: SKIPPING the comparison with Redis");
      return;
    }
    await using ours = await startOurServer();
    const clients = await Promise.all(
      [ours.port, redis.port].map((port) => RawClient.connect(port)),
    );
    const both = async (...args: string[]) => {
      const [mine, theirs] = await Promise.all(clients.map((client) => raw(client, ...args)));
      assert.equal(mine, theirs, args.join(" "));
    };
    await both("SET", "k", "v");
    await both("OBJECT", "FREQ", "k");
    await both("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu");
    await both("OBJECT", "IDLETIME", "k");
    await both("OBJECT", "FREQ", "missing");
    await both("CONFIG", "SET", "maxmemory", "64mb");
    await both("CONFIG", "GET", "maxmemory");
    await both("CONFIG", "SET", "maxmemory", "1", "maxmemory-policy", "noeviction");
    await both("SET", "k2", "v");
    await both("GET", "k");
    await both("EVAL", "#!lua\nreturn 1", "0");
    await both("EVAL", "#!lua flags=no-writes\nreturn 1", "0");
    await both("MULTI");
    await both("GET", "k");
    await both("EXEC");
    await both("CONFIG", "SET", "maxmemory", "0");
    await both("SET", "k2", "v");
    await Promise.all(clients.map((client) => client.close()));
  },
});
