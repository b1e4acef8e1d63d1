/**
 * Access words: OBJECT IDLETIME and OBJECT FREQ mean what they mean in
 * Redis (the 24-bit LRU clock, the logarithmic LFU counter with decay),
 * Redis's touch rules (EXISTS, TYPE, OBJECT do not count as an access;
 * GET, TOUCH, writes do), and the words' arithmetic, wrapping included.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  AccessTable,
  idleMilliseconds,
  LFU_INIT_VAL,
  lfuCounter,
  lfuIncrement,
  lfuWord,
  LRU_CLOCK_MAX,
  lruClockAt,
} from "../../src/store/access_words.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { cacheServer, ManualClock } from "./support.ts";

const LFU_SELECTED = {
  error:
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
};
const LFU_NOT_SELECTED = {
  error:
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
};

Deno.test("OBJECT IDLETIME counts seconds since the last access, from the first time it is asked", () => {
  using cache = cacheServer();
  cache.send("SET", "a", "value");
  // No maxmemory, no policy: the first question starts the clocks.
  assert.equal(cache.server.keyspace.accessMode, undefined);
  assert.equal(cache.send("OBJECT", "IDLETIME", "a"), 0);
  assert.equal(cache.server.keyspace.accessMode, "lru");
  cache.clock.advance(5_000);
  cache.cron();
  assert.equal(cache.send("OBJECT", "IDLETIME", "a"), 5);
  assert.equal(cache.send("GET", "a"), "value");
  assert.equal(cache.send("OBJECT", "IDLETIME", "a"), 0);
  assert.equal(cache.send("OBJECT", "IDLETIME", "missing"), null);
});

Deno.test("EXISTS, TYPE and OBJECT do not count as an access; TOUCH, GET and writes do", () => {
  using cache = cacheServer({ maxmemoryPolicy: "allkeys-lru" });
  for (const key of ["exists", "type", "object", "touch", "get", "append", "expire"]) {
    cache.send("SET", key, "value");
  }
  cache.clock.advance(3_000);
  cache.cron();
  cache.send("EXISTS", "exists");
  cache.send("TYPE", "type");
  cache.send("OBJECT", "ENCODING", "object");
  cache.send("TOUCH", "touch");
  cache.send("GET", "get");
  cache.send("APPEND", "append", "x");
  cache.send("EXPIRE", "expire", "100");
  const idle = (key: string) => cache.send("OBJECT", "IDLETIME", key);
  assert.deepEqual(
    ["exists", "type", "object", "touch", "get", "append", "expire"].map(idle),
    [3, 3, 3, 0, 0, 0, 0],
  );
  // Not touching is not hiding: the lookups still count as keyspace hits.
  assert.match(cache.send("INFO", "stats") as string, /^keyspace_hits:\d+\r$/m);
});

Deno.test("OBJECT FREQ grows logarithmically with reads and decays with time", () => {
  using cache = cacheServer({ maxmemoryPolicy: "allkeys-lfu" });
  cache.send("SET", "hot", "value");
  cache.send("SET", "cold", "value");
  assert.equal(cache.send("OBJECT", "FREQ", "cold"), LFU_INIT_VAL);
  for (let i = 0; i < 1000; i++) cache.send("GET", "hot");
  const hot = cache.send("OBJECT", "FREQ", "hot") as number;
  // lfu-log-factor 10: about 18 after 1,000 hits in Redis's table (random).
  assert.ok(hot > 10 && hot < 30, `FREQ ${hot} after 1000 reads`);
  cache.clock.advance(4 * 60_000);
  cache.cron();
  assert.equal(cache.send("OBJECT", "FREQ", "hot"), hot - 4, "one per minute of lfu-decay-time 1");
  assert.equal(cache.send("OBJECT", "FREQ", "cold"), 1);
  cache.send("CONFIG", "SET", "lfu-decay-time", "0");
  cache.clock.advance(60 * 60_000);
  cache.cron();
  assert.equal(cache.send("OBJECT", "FREQ", "hot"), hot, "lfu-decay-time 0 never decays");
});

Deno.test("OBJECT FREQ and IDLETIME answer Redis's errors under the other kind of policy", () => {
  using cache = cacheServer();
  cache.send("SET", "a", "value");
  assert.deepEqual(cache.send("OBJECT", "FREQ", "a"), LFU_NOT_SELECTED);
  cache.send("CONFIG", "SET", "maxmemory-policy", "volatile-lfu");
  assert.deepEqual(cache.send("OBJECT", "IDLETIME", "a"), LFU_SELECTED);
  assert.equal(typeof cache.send("OBJECT", "FREQ", "a"), "number");
  // A missing key is a null before the policy is looked at, as in Redis.
  assert.equal(cache.send("OBJECT", "IDLETIME", "missing"), null);
});

Deno.test("OBJECT REFCOUNT of a small integer is 1 once maxmemory needs per-key words", () => {
  using cache = cacheServer();
  cache.send("SET", "n", "42");
  assert.equal(cache.send("OBJECT", "REFCOUNT", "n"), 2147483647);
  cache.send("CONFIG", "SET", "maxmemory", "100mb", "maxmemory-policy", "allkeys-lru");
  assert.equal(cache.send("OBJECT", "REFCOUNT", "n"), 1);
});

Deno.test("RANDOMKEY draws from the access table while words are kept, and skips expired keys", () => {
  using cache = cacheServer({ maxmemoryPolicy: "allkeys-random" });
  for (let i = 0; i < 10; i++) cache.send("SET", `k${i}`, "v");
  cache.send("PEXPIRE", "k0", "10");
  cache.clock.advance(20);
  const seen = new Set<unknown>();
  for (let i = 0; i < 300; i++) seen.add(cache.send("RANDOMKEY"));
  assert.equal(seen.size, 9);
  assert.ok(!seen.has("k0"));
});

Deno.test("the LRU clock wraps at 2^24 seconds and idle times wrap with it", () => {
  assert.equal(lruClockAt(0), 0);
  assert.equal(lruClockAt((LRU_CLOCK_MAX + 1) * 1000), 0);
  assert.equal(idleMilliseconds(10, 15), 5000);
  assert.equal(idleMilliseconds(LRU_CLOCK_MAX - 1, 2), 3000);
});

Deno.test("LFU counters: certain increments below 5, rarer above, decay by elapsed periods", () => {
  assert.equal(lfuIncrement(0, 10), 1);
  assert.equal(lfuIncrement(LFU_INIT_VAL, 10), LFU_INIT_VAL + 1);
  assert.equal(lfuIncrement(255, 10), 255);
  let increments = 0;
  for (let i = 0; i < 10_000; i++) if (lfuIncrement(15, 10) === 16) increments++;
  // p = 1 / ((15 - 5) * 10 + 1) = 1/101.
  assert.ok(increments > 50 && increments < 150, `${increments} of 10000`);
  const word = lfuWord(100, 20);
  assert.equal(lfuCounter(word, 100, 1), 20);
  assert.equal(lfuCounter(word, 107, 1), 13);
  assert.equal(lfuCounter(word, 107, 2), 17);
  assert.equal(lfuCounter(word, 200, 1), 0);
  // Minutes wrap at 2^16.
  assert.equal(lfuCounter(lfuWord(65530, 20), 4, 1), 11);
});

Deno.test("an access table removes by swapping the last key in and picks every key", () => {
  const table = new AccessTable();
  for (let i = 0; i < 100; i++) table.add(`k${i}`, i);
  table.remove("k10");
  table.remove("k99");
  assert.equal(table.size, 98);
  assert.equal(table.word("k10"), undefined);
  assert.equal(table.word("k98"), 98);
  assert.equal(table.word("k50"), 50);
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) seen.add(table.randomKey()!);
  assert.equal(seen.size, 98);
  for (let i = 0; i < 100; i++) table.remove(`k${i}`);
  assert.equal(table.randomKey(), undefined);
});

Deno.test("a SET right after a lookup of the same key counts as one LFU access", () => {
  const keyspace = new Keyspace(1, new ManualClock());
  keyspace.trackAccess("lfu");
  keyspace.lfuLogFactor = 0; // every access increments: counts are exact
  const db = keyspace.databases[0]!;
  db.set("k", "1");
  assert.equal(db.accessWord("k")! & 0xff, LFU_INIT_VAL);
  db.lookup("k"); // INCR: a lookup, then the SET of the result
  db.set("k", "2");
  assert.equal(db.accessWord("k")! & 0xff, LFU_INIT_VAL + 1);
  db.set("k", "3"); // a plain SET is an access of its own
  assert.equal(db.accessWord("k")! & 0xff, LFU_INIT_VAL + 2);
  db.peek("k");
  assert.equal(db.accessWord("k")! & 0xff, LFU_INIT_VAL + 2);
});

Deno.test("on a replica an expired key reads as missing but stays until the master's DEL", () => {
  const clock = new ManualClock();
  const keyspace = new Keyspace(1, clock);
  keyspace.expireOnLookup = false;
  const db = keyspace.databases[0]!;
  db.set("k", "v");
  db.setExpireAt("k", clock.now() + 10);
  clock.advance(20);
  assert.equal(db.lookup("k"), undefined);
  assert.equal(db.has("k"), false);
  assert.deepEqual([...db.liveKeys()], []);
  assert.equal(keyspace.activeExpireCycle(10), 0);
  assert.equal(db.size, 1);
  assert.equal(keyspace.expiredKeys, 0);
  assert.equal(db.delete("k"), true);
});
