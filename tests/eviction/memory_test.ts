/**
 * The used-memory model: every write keeps it exact (strings at once,
 * collections by the next settle), it is what MEMORY USAGE reports per key
 * plus the dict entry's allocation class, and INFO and MEMORY STATS read
 * it with Redis's fields.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CLIENT_MEMORY, STARTUP_MEMORY } from "../../src/commands/eviction.ts";
import { dictTableBytes, memoryUsage } from "../../src/store/memory_estimate.ts";
import { Hash } from "../../src/store/hash.ts";
import { cacheServer } from "./support.ts";

/** MEMORY USAGE plus what jemalloc adds to the 24-byte dict entry. */
function keyCost(key: string, value: Parameters<typeof memoryUsage>[1]): number {
  return memoryUsage(key, value) + 8;
}

Deno.test("used memory is startup, clients and every key's MEMORY USAGE with its dict entry", () => {
  using cache = cacheServer();
  const eviction = cache.server.operations.eviction;
  const empty = STARTUP_MEMORY + CLIENT_MEMORY;
  assert.equal(eviction.settledUsedMemory(), empty);
  cache.send("SET", "name", "redis clone");
  cache.send("SET", "counter", "12345");
  cache.send("SET", "text", "x".repeat(500));
  const expected = keyCost("name", "redis clone") + keyCost("counter", "12345") +
    keyCost("text", "x".repeat(500)) + dictTableBytes(3);
  assert.equal(eviction.settledUsedMemory(), empty + expected);
  assert.equal(cache.send("MEMORY", "USAGE", "name"), memoryUsage("name", "redis clone"));
  // Overwrites and deletions take the old value out.
  cache.send("SET", "text", "short");
  cache.send("APPEND", "name", "!");
  cache.send("DEL", "counter");
  assert.equal(
    eviction.settledUsedMemory(),
    empty + keyCost("text", "short") + keyCost("name", "redis clone!") + dictTableBytes(2),
  );
  cache.send("FLUSHALL");
  assert.equal(eviction.settledUsedMemory(), empty);
});

Deno.test("a deadline costs the expires dict's entry and bucket", () => {
  using cache = cacheServer();
  const eviction = cache.server.operations.eviction;
  cache.send("SET", "k", "v");
  const before = eviction.settledUsedMemory();
  cache.send("EXPIRE", "k", "100");
  assert.equal(eviction.settledUsedMemory(), before + 32 + dictTableBytes(1));
  cache.send("PERSIST", "k");
  assert.equal(eviction.settledUsedMemory(), before);
});

Deno.test("a collection changed in place is estimated again: at the batch's end with maxmemory", async () => {
  using cache = cacheServer({ maxmemory: 1 << 30 });
  const eviction = cache.server.operations.eviction;
  const empty = eviction.settledUsedMemory();
  for (let i = 0; i < 50; i++) cache.send("HSET", "h", `field${i}`, `value${i}`);
  // Settled by the microtask that ends the batch, not by every HSET.
  await Promise.resolve();
  const hash = cache.server.keyspace.databases[0]!.entries.get("h") as Hash;
  const expected = empty + keyCost("h", hash) + dictTableBytes(1);
  assert.equal(eviction.usedMemory(), expected);
  assert.equal(cache.send("MEMORY", "USAGE", "h"), expected - empty - dictTableBytes(1) - 8);
  cache.send("HDEL", "h", "field0", "field1");
  cache.send("DEL", "h");
  assert.equal(eviction.settledUsedMemory(), empty);
});

Deno.test("without maxmemory, collections are estimated when someone asks", () => {
  using cache = cacheServer();
  const eviction = cache.server.operations.eviction;
  const empty = eviction.settledUsedMemory();
  cache.send("RPUSH", "list", ..."abcdefghij".split(""));
  cache.send("SADD", "set", "1", "2", "3");
  cache.send("ZADD", "zset", "1", "a", "2", "b");
  const info = cache.send("INFO", "memory") as string;
  const used = Number(/^used_memory:(\d+)\r$/m.exec(info)![1]);
  const db = cache.server.keyspace.databases[0]!;
  let expected = empty + dictTableBytes(3);
  for (const [key, value] of db.entries) expected += keyCost(key, value);
  assert.equal(used, expected);
});

Deno.test("keys written behind the keyspace's back are counted by the next cron", () => {
  using cache = cacheServer({ maxmemoryPolicy: "allkeys-lru" });
  const eviction = cache.server.operations.eviction;
  const empty = eviction.settledUsedMemory();
  const db = cache.server.keyspace.databases[0]!;
  // As the RDB loader fills a database.
  db.entries.set("loaded", "value");
  cache.cron();
  assert.equal(eviction.usedMemory(), empty + keyCost("loaded", "value") + dictTableBytes(1));
  assert.equal(typeof db.accessWord("loaded"), "number");
});

Deno.test("SWAPDB moves the memory figures and access words with the data", () => {
  using cache = cacheServer({ maxmemoryPolicy: "allkeys-lru" });
  const eviction = cache.server.operations.eviction;
  cache.send("SET", "k", "x".repeat(100));
  const used = eviction.settledUsedMemory();
  cache.send("SWAPDB", "0", "1");
  assert.equal(eviction.settledUsedMemory(), used);
  const [db0, db1] = cache.server.keyspace.databases;
  assert.equal(db0!.memoryBytes, 0);
  assert.equal(db0!.randomKey(), undefined);
  assert.equal(db1!.randomKey(), "k");
  cache.send("SELECT", "1");
  cache.send("DEL", "k");
  assert.equal(eviction.settledUsedMemory(), STARTUP_MEMORY + CLIENT_MEMORY);
});

Deno.test("INFO memory and MEMORY STATS give Redis's fields from the model and the process", () => {
  using cache = cacheServer({ maxmemory: 64 * 1024 * 1024, maxmemoryPolicy: "allkeys-lfu" });
  for (let i = 0; i < 100; i++) cache.send("SET", `key:${i}`, "x".repeat(100));
  const info = cache.send("INFO", "memory") as string;
  const fields = new Map(
    info.split("\r\n").filter((line) => line.includes(":")).map((line) => {
      const colon = line.indexOf(":");
      return [line.slice(0, colon), line.slice(colon + 1)];
    }),
  );
  const field = (name: string) => fields.get(name)!;
  const used = Number(field("used_memory"));
  assert.equal(used, cache.server.operations.eviction.settledUsedMemory());
  assert.equal(field("used_memory_startup"), String(STARTUP_MEMORY));
  assert.equal(field("maxmemory"), String(64 * 1024 * 1024));
  assert.equal(field("maxmemory_human"), "64.00M");
  assert.equal(field("maxmemory_policy"), "allkeys-lfu");
  assert.ok(Number(field("used_memory_peak")) >= used);
  assert.ok(Number(field("used_memory_dataset")) >= 100 * 128, "the values at least");
  assert.equal(
    field("used_memory_overhead"),
    String(used - Number(field("used_memory_dataset"))),
  );
  // The ratio of the process's RSS to the model: what the runtime costs beyond Redis's layout.
  const rss = Number(field("used_memory_rss"));
  assert.equal(field("mem_fragmentation_ratio"), (rss / used).toFixed(2));
  const stats = cache.send("MEMORY", "STATS") as unknown[];
  const total = stats[stats.indexOf("total.allocated") + 1];
  assert.equal(total, used);
  assert.equal(stats[stats.indexOf("keys.count") + 1], 100);
});
