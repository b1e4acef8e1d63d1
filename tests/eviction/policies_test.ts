/**
 * maxmemory policies, in process on a manual clock: which keys each policy
 * keeps, what is refused with OOM, and what an eviction tells the rest of
 * the server (the AOF's DEL, the `evicted` event, evicted_keys, WATCH).
 *
 * Each test builds a shape of keys once to learn what it costs (the
 * used-memory model is deterministic), sets maxmemory to exactly that,
 * builds it again and then writes more. An eviction happens before the
 * command that finds memory over the limit, so the one after a write.
 * Sampling is random, as Redis's; `maxmemory-samples 64` makes every
 * populate see all of the few keys these tests hold, so which key goes is
 * certain. Keys are five or six bytes, so all cost the same.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { MaxmemoryPolicy } from "../../src/config.ts";
import { type CacheServer, cacheServer, text } from "./support.ts";

const OOM = { error: "OOM command not allowed when used memory > 'maxmemory'." };
const VALUE = text(100);

/** `count` keys `prefix00`.. of 100-byte values, the clock moving a second between each. */
function fill(cache: CacheServer, prefix: string, count: number): string[] {
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const key = `${prefix}${String(i).padStart(2, "0")}`;
    cache.send("SET", key, VALUE);
    keys.push(key);
    cache.clock.advance(1000);
    cache.cron();
  }
  return keys;
}

/**
 * A server under `policy` whose limit is what `shape` costs, with `shape`
 * built again (its result returned) and `clients` more connections.
 */
function fullServer<T>(
  policy: MaxmemoryPolicy,
  shape: (cache: CacheServer) => T,
  clients = 0,
): { cache: CacheServer; built: T; others: ReturnType<CacheServer["connect"]>[] } {
  const cache = cacheServer({ maxmemoryPolicy: policy, maxmemorySamples: 64 });
  const others = Array.from({ length: clients }, () => cache.connect());
  shape(cache);
  const limit = cache.server.operations.eviction.settledUsedMemory();
  cache.send("FLUSHALL");
  cache.send("CONFIG", "SET", "maxmemory", String(limit));
  return { cache, built: shape(cache), others };
}

function isOutOfMemory(reply: unknown): boolean {
  return typeof reply === "object" && reply !== null && "error" in reply &&
    String(reply.error).startsWith("OOM");
}

function keysOf(cache: CacheServer): string[] {
  return (cache.send("KEYS", "*") as string[]).sort();
}

Deno.test("allkeys-lru evicts the keys read least recently and keeps the ones just read", () => {
  const { cache, built: keys } = fullServer("allkeys-lru", (cache) => fill(cache, "key", 20));
  using _ = cache;
  cache.clock.advance(10_000);
  cache.cron();
  for (const key of keys.slice(0, 10)) assert.equal(cache.send("GET", key), VALUE);
  cache.clock.advance(10_000);
  cache.cron();
  fill(cache, "new", 5);
  const kept = keysOf(cache);
  assert.equal(kept.length, 20);
  for (const key of keys.slice(0, 10)) assert.ok(kept.includes(key), `${key} was read`);
  // The oldest of the unread ones went first.
  for (const key of keys.slice(10, 15)) assert.ok(!kept.includes(key), `${key} is the oldest`);
  assert.match(cache.send("INFO", "stats") as string, /^evicted_keys:5\r$/m);
});

Deno.test("allkeys-lfu keeps the keys read often over newer keys read once", () => {
  const { cache, built: keys } = fullServer("allkeys-lfu", (cache) => fill(cache, "key", 20));
  using _ = cache;
  for (const key of keys.slice(0, 10)) for (let i = 0; i < 30; i++) cache.send("GET", key);
  const frequency = cache.send("OBJECT", "FREQ", keys[0]!) as number;
  assert.ok(frequency > 5, `OBJECT FREQ ${frequency} after 30 reads`);
  assert.equal(cache.send("OBJECT", "FREQ", keys[10]!), 5, "a new key's counter");
  // Unread counters decay below a new key's 5 (lfu-decay-time 1: one per minute).
  cache.clock.advance(3 * 60_000);
  cache.cron();
  assert.equal(cache.send("OBJECT", "FREQ", keys[10]!), 2);
  fill(cache, "new", 10);
  const kept = keysOf(cache);
  for (const key of keys.slice(0, 10)) assert.ok(kept.includes(key), `${key} was read 30 times`);
  for (const key of keys.slice(10)) assert.ok(!kept.includes(key), `${key} was never read`);
});

Deno.test("volatile-lru evicts only keys with a deadline, then answers OOM", () => {
  const shape = (cache: CacheServer) => {
    const persistent = fill(cache, "kep", 10);
    const volatile = fill(cache, "ttl", 10);
    for (const key of volatile) cache.send("EXPIRE", key, "3600");
    return { persistent, volatile };
  };
  const { cache, built: { persistent, volatile } } = fullServer("volatile-lru", shape);
  using _ = cache;
  for (const key of persistent) cache.send("GET", key);
  fill(cache, "new", 8);
  const kept = keysOf(cache);
  for (const key of persistent) assert.ok(kept.includes(key), `${key} has no deadline`);
  // A key with a deadline frees its expires entry too: seven make room for eight.
  assert.equal(volatile.filter((key) => kept.includes(key)).length, 3);
  // Once no key with a deadline is left, writes that need memory are refused.
  let refused = false;
  for (let i = 0; i < 20 && !refused; i++) {
    refused = isOutOfMemory(cache.send("SET", `mo${i}`, VALUE));
  }
  assert.ok(refused);
  assert.ok(keysOf(cache).every((key) => !key.startsWith("ttl")));
  assert.deepEqual(cache.send("SET", "again", VALUE), OOM);
  assert.equal(cache.send("GET", persistent[0]!), VALUE);
});

Deno.test("volatile-ttl evicts the key whose deadline comes first", () => {
  const shape = (cache: CacheServer) => {
    const keys = fill(cache, "key", 20);
    // key00 expires last, key19 first.
    keys.forEach((key, i) => cache.send("EXPIRE", key, String(10_000 - i * 100)));
    return keys;
  };
  const { cache, built: keys } = fullServer("volatile-ttl", shape);
  using _ = cache;
  fill(cache, "new", 4);
  const kept = keysOf(cache);
  for (const key of keys.slice(16)) assert.ok(!kept.includes(key), `${key} expires soonest`);
  for (const key of keys.slice(0, 16)) assert.ok(kept.includes(key), `${key} expires later`);
});

Deno.test("allkeys-random and volatile-random evict until memory is under the limit", () => {
  for (const policy of ["allkeys-random", "volatile-random"] as const) {
    const shape = (cache: CacheServer) => {
      const keys = fill(cache, "key", 20);
      for (const key of keys) cache.send("EXPIRE", key, "3600");
      return keys;
    };
    const { cache } = fullServer(policy, shape);
    using _ = cache;
    const added = fill(cache, "new", 10);
    cache.send("PING");
    const eviction = cache.server.operations.eviction;
    assert.ok(eviction.settledUsedMemory() <= cache.server.config.maxmemory, policy);
    assert.ok(eviction.evictedKeys >= 7, `${policy}: ${eviction.evictedKeys} evicted`);
    if (policy === "volatile-random") {
      // The new keys have no deadline: only the old ones can go.
      const kept = keysOf(cache);
      for (const key of added) assert.ok(kept.includes(key), key);
    }
  }
});

Deno.test("noeviction answers OOM to writes that need memory and loses nothing", () => {
  const { cache, built: keys } = fullServer("noeviction", (cache) => fill(cache, "key", 20));
  using _ = cache;
  // At the limit a write still runs (memory is checked before it); over it, not.
  assert.equal(cache.send("SET", "more", VALUE), "OK");
  assert.deepEqual(cache.send("SET", "more2", VALUE), OOM);
  assert.deepEqual(cache.send("APPEND", keys[0]!, "x"), OOM);
  // Reads and commands that free memory still run.
  assert.equal(cache.send("GET", keys[0]!), VALUE);
  assert.equal(cache.send("DBSIZE"), 21);
  assert.equal(cache.send("DEL", keys[1]!), 1);
  assert.equal(cache.send("SET", "more2", VALUE), "OK");
  assert.equal(cache.server.operations.eviction.evictedKeys, 0);
  assert.match(cache.send("INFO", "stats") as string, /^evicted_keys:0\r$/m);
  assert.match(cache.send("INFO", "errorstats") as string, /^errorstat_OOM:count=2\r$/m);
});

Deno.test("over the limit, MULTI queues nothing and EXEC fails; DISCARD still works", () => {
  const { cache } = fullServer("noeviction", (cache) => fill(cache, "key", 5));
  using _ = cache;
  fill(cache, "new", 1);
  assert.equal(cache.send("MULTI"), "OK");
  assert.deepEqual(cache.send("GET", "key00"), OOM);
  assert.deepEqual(cache.send("EXEC"), {
    error: "EXECABORT Transaction discarded because of previous errors.",
  });
  assert.equal(cache.send("MULTI"), "OK");
  assert.equal(cache.send("DISCARD"), "OK");
  assert.equal(cache.send("GET", "key00"), VALUE);
});

Deno.test("an eviction is logged as DEL, announced as evicted and invalidates WATCH", () => {
  const { cache, others: [watcher] } = fullServer(
    "allkeys-lru",
    (cache) => fill(cache, "key", 3),
    1,
  );
  using _ = cache;
  assert.equal(watcher!("WATCH", "key00"), "OK");
  cache.logged.length = 0;
  cache.events.length = 0;
  cache.send("SET", "new", VALUE);
  cache.send("PING");
  assert.deepEqual(cache.logged, ["0 SET new " + VALUE, "0 DEL key00"]);
  assert.deepEqual(cache.events, ["0:new:set:$", "0:key00:evicted:e"]);
  assert.equal(watcher!("MULTI"), "OK");
  assert.equal(watcher!("SET", "watched", "x"), "QUEUED");
  assert.equal(watcher!("EXEC"), null);
});

Deno.test("lazyfree-lazy-eviction logs evictions as UNLINK", () => {
  const { cache } = fullServer("allkeys-lru", (cache) => fill(cache, "key", 3));
  using _ = cache;
  cache.send("CONFIG", "SET", "lazyfree-lazy-eviction", "yes");
  fill(cache, "new", 1);
  cache.send("PING");
  assert.ok(cache.logged.includes("0 UNLINK key00"), cache.logged.join(", "));
});

Deno.test("CONFIG SET maxmemory below the usage evicts at once, in the same command", () => {
  using cache = cacheServer({ maxmemoryPolicy: "allkeys-lru", maxmemorySamples: 64 });
  fill(cache, "key", 30);
  const used = cache.server.operations.eviction.settledUsedMemory();
  const perKey = used - (fill(cache, "new", 1), cache.server.operations.eviction.usedMemory());
  cache.send("DEL", "new00");
  cache.logged.length = 0;
  assert.equal(cache.send("CONFIG", "SET", "maxmemory", String(used + perKey * 10)), "OK");
  assert.equal(cache.send("DBSIZE"), 20);
  assert.equal(cache.logged.filter((line) => line.includes(" DEL ")).length, 10);
  assert.ok(!keysOf(cache).includes("key09") && keysOf(cache).includes("key10"));
});

Deno.test("nothing is evicted while the data loads", () => {
  const { cache } = fullServer("allkeys-lru", (cache) => fill(cache, "key", 5));
  using _ = cache;
  const db = cache.server.keyspace.databases[0]!;
  const eviction = cache.server.operations.eviction;
  cache.server.loading = true;
  for (let i = 0; i < 5; i++) db.set(`load${i}`, VALUE);
  assert.equal(eviction.performEvictions(), "ok");
  assert.equal(db.size, 10);
  cache.server.loading = false;
  assert.equal(eviction.performEvictions(), "ok");
  assert.equal(db.size, 5);
});

Deno.test("a replica that ignores maxmemory does not evict; replica-ignore-maxmemory no does", () => {
  const { cache } = fullServer("allkeys-lru", (cache) => fill(cache, "key", 5));
  using _ = cache;
  cache.server.operations.eviction.replica = true;
  fill(cache, "new", 3);
  assert.equal(cache.send("DBSIZE"), 8);
  cache.send("CONFIG", "SET", "replica-ignore-maxmemory", "no");
  cache.send("PING");
  assert.equal(cache.send("DBSIZE"), 5);
});

Deno.test("an eviction that runs out of time continues from a timer until under the limit", async () => {
  using cache = cacheServer({ maxmemoryPolicy: "allkeys-random", maxmemoryEvictionTenacity: 0 });
  const keys = fill(cache, "key", 60);
  const eviction = cache.server.operations.eviction;
  const used = eviction.settledUsedMemory();
  cache.send("DEL", keys[0]!);
  const perKey = used - eviction.usedMemory();
  // Tenacity 0: the time limit is 0, so each run stops after 16 keys.
  cache.send("CONFIG", "SET", "maxmemory", String(used - 40 * perKey));
  assert.equal(eviction.evictedKeys, 16);
  assert.ok(eviction.running);
  assert.equal(cache.send("SET", "during", "x"), "OK", "a running eviction refuses nothing");
  for (let i = 0; i < 100 && eviction.running; i++) {
    await new Promise((wake) => setTimeout(wake, 5));
  }
  assert.ok(!eviction.running);
  assert.ok(eviction.settledUsedMemory() <= cache.server.config.maxmemory);
  // The dict's bucket array shrinks on the way: a few keys fewer than 40 are enough.
  assert.ok(eviction.evictedKeys >= 35, `${eviction.evictedKeys} evicted`);
});

Deno.test("INFO reports the eviction counters and the time spent over the limit", () => {
  const { cache } = fullServer("noeviction", (cache) => fill(cache, "key", 3));
  using _ = cache;
  fill(cache, "new", 1);
  assert.deepEqual(cache.send("SET", "refuse", VALUE), OOM);
  const eviction = cache.server.operations.eviction;
  assert.ok(eviction.currentExceededMilliseconds >= 0);
  const stats = cache.send("INFO", "stats") as string;
  assert.match(stats, /^total_eviction_exceeded_time:\d+\r$/m);
  assert.match(stats, /^current_eviction_exceeded_time:\d+\r$/m);
  cache.send("FLUSHALL");
  cache.send("PING");
  assert.equal(eviction.currentExceededMilliseconds, 0, "under the limit again");
  const memory = cache.send("INFO", "memory") as string;
  assert.match(memory, new RegExp(`^maxmemory:${cache.server.config.maxmemory}\\r$`, "m"));
  assert.match(memory, /^maxmemory_human:\d+\.\d\d[KM]\r$/m);
  assert.match(memory, /^maxmemory_policy:noeviction\r$/m);
});
