/**
 * Generic key commands over a real socket: what the differential corpus
 * cannot pin down because it depends on time, randomness, ordering or on
 * what reaches the AOF. RENAME and MOVE carry deadlines, COPY makes copies
 * that share nothing with the original, SCAN keeps its guarantee while keys
 * come and go, RANDOMKEY reaches every key, OBJECT ENCODING follows the
 * conversions Redis makes (and never undoes), and RANDOMKEY is never logged.
 *
 * @module
 */

import { parseAof, query, range, withOurServer } from "../helpers/test_support.ts";
import assert from "node:assert/strict";
import { recordingServer } from "../helpers/in_process.ts";
import { SortedSet } from "../../src/store/sorted_set.ts";
import { decodeReply, RawClient, startOurServer, startRedisServer } from "../helpers/servers.ts";

/** Runs `commands` with the AOF on and returns everything it logged. */
async function loggedCommands(commands: string[][]): Promise<string[][]> {
  const dir = await Deno.makeTempDir({ prefix: "keys-aof-" });
  try {
    await withOurServer(async (client) => {
      for (const args of commands) await client.command(...args);
    }, { args: ["--appendonly", "yes", "--appendfsync", "always"], dir });
    return parseAof(await Deno.readFile(`${dir}/database.aof`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `test` against our server and a real redis-server, with their ports; skips without Redis. */
async function withBothServers(
  test: (oursPort: number, redisPort: number) => Promise<void>,
): Promise<void> {
  const redis = await startRedisServer();
  if (redis === undefined) {
    console.warn("redis-server not installed: skipping the comparison");
    return;
  }
  const ours = await startOurServer();
  try {
    await test(ours.port, redis.port);
  } finally {
    await Promise.all([ours.stop(), redis.stop()]);
  }
}

/**
 * Every keyevent notification `commands` cause on the server at `port`, as
 * the raw bytes a PSUBSCRIBEd client receives.
 */
async function notificationsFor(port: number, commands: string[][]): Promise<string> {
  const subscriber = await RawClient.connect(port);
  const client = await RawClient.connect(port);
  try {
    await client.command("CONFIG", "SET", "notify-keyspace-events", "KEA");
    await subscriber.command("PSUBSCRIBE", "__keyevent@*__:*");
    for (const args of commands) await client.command(...args);
    await client.command("PING");
    return new TextDecoder().decode(await subscriber.readAll(300));
  } finally {
    await Promise.all([subscriber.close(), client.close()]);
  }
}

/** Every key a full SCAN iteration returns, running `between` after each call. */
async function scanAll(
  client: RawClient,
  options: string[],
  between: (call: number) => Promise<void> = () => Promise.resolve(),
): Promise<{ keys: string[]; calls: number }> {
  const keys: string[] = [];
  let cursor = "0";
  let calls = 0;
  do {
    const [next, batch] = await query(client, "SCAN", cursor, ...options) as [string, string[]];
    keys.push(...batch);
    cursor = next;
    calls++;
    assert.ok(calls < 10_000, "SCAN did not finish");
    await between(calls);
  } while (cursor !== "0");
  return { keys, calls };
}

Deno.test("RENAME carries the deadline to the new name and drops the destination's", async () => {
  await withOurServer(async (client) => {
    await query(client, "SET", "source", "v", "PX", "100000");
    await query(client, "SET", "destination", "old", "EX", "5000");
    assert.equal(await query(client, "RENAME", "source", "destination"), "OK");
    const remaining = await query(client, "PTTL", "destination") as number;
    assert.ok(remaining > 90_000 && remaining <= 100_000, `PTTL ${remaining}`);
    assert.equal(await query(client, "EXISTS", "source"), 0);

    await query(client, "SET", "persistent", "v");
    assert.equal(await query(client, "RENAME", "persistent", "destination"), "OK");
    assert.equal(await query(client, "TTL", "destination"), -1);
    assert.equal(await query(client, "GET", "destination"), "v");
  });
});

Deno.test("RENAME onto itself and RENAMENX onto a taken name change nothing", async () => {
  await withOurServer(async (client) => {
    await query(client, "SET", "k", "v", "PX", "100000");
    await query(client, "SET", "taken", "t");
    assert.equal(await query(client, "RENAME", "k", "k"), "OK");
    assert.equal(await query(client, "RENAMENX", "k", "k"), 0);
    assert.equal(await query(client, "RENAMENX", "k", "taken"), 0);
    assert.ok((await query(client, "PTTL", "k") as number) > 90_000);
    assert.equal(await query(client, "GET", "taken"), "t");
    assert.equal(await query(client, "RENAMENX", "k", "free"), 1);
    assert.ok((await query(client, "PTTL", "free") as number) > 90_000);
    assert.deepEqual(await query(client, "RENAME", "k", "x"), { error: "ERR no such key" });
  });
});

Deno.test("COPY of a hash and a set shares nothing with the original", async () => {
  await withOurServer(async (client) => {
    await query(client, "HSET", "hash", "a", "1", "b", "2");
    assert.equal(await query(client, "COPY", "hash", "hash-copy"), 1);
    await query(client, "HSET", "hash-copy", "c", "3");
    await query(client, "HINCRBY", "hash", "a", "10");
    await query(client, "HDEL", "hash", "b");
    assert.deepEqual(await query(client, "HGETALL", "hash"), ["a", "11"]);
    assert.deepEqual(await query(client, "HGETALL", "hash-copy"), ["a", "1", "b", "2", "c", "3"]);

    await query(client, "SADD", "set", "x", "y");
    assert.equal(await query(client, "COPY", "set", "set-copy", "DB", "3"), 1);
    await query(client, "SREM", "set", "x");
    await query(client, "SELECT", "3");
    await query(client, "SADD", "set-copy", "z");
    assert.deepEqual((await query(client, "SMEMBERS", "set-copy") as string[]).sort(), [
      "x",
      "y",
      "z",
    ]);
    await query(client, "SELECT", "0");
    assert.deepEqual(await query(client, "SMEMBERS", "set"), ["y"]);
  });
});

Deno.test("COPY of a list shares nothing with the original", async () => {
  await withOurServer(async (client) => {
    await query(client, "RPUSH", "list", "a", "b", "c");
    assert.equal(await query(client, "COPY", "list", "list-copy"), 1);
    await query(client, "LPOP", "list");
    await query(client, "RPUSH", "list-copy", "d");
    assert.deepEqual(await query(client, "LRANGE", "list", "0", "-1"), ["b", "c"]);
    assert.deepEqual(await query(client, "LRANGE", "list-copy", "0", "-1"), ["a", "b", "c", "d"]);
  });
});

Deno.test("COPY of a sorted set shares nothing with the original", async () => {
  await withOurServer(async (client) => {
    await query(client, "ZADD", "zset", "1", "a", "2", "b");
    assert.equal(await query(client, "COPY", "zset", "zset-copy"), 1);
    await query(client, "ZINCRBY", "zset", "10", "a");
    await query(client, "ZADD", "zset-copy", "3", "c");
    assert.deepEqual(await query(client, "ZRANGE", "zset", "0", "-1"), ["b", "a"]);
    assert.deepEqual(await query(client, "ZRANGE", "zset-copy", "0", "-1"), ["a", "b", "c"]);
    assert.equal(await query(client, "ZSCORE", "zset-copy", "a"), "1");
  });
});

Deno.test("COPY and MOVE to another database keep the deadline", async () => {
  await withOurServer(async (client) => {
    await query(client, "SET", "k", "v", "PX", "100000");
    assert.equal(await query(client, "COPY", "k", "k", "DB", "1"), 1);
    assert.equal(await query(client, "MOVE", "k", "2"), 1);
    assert.equal(await query(client, "EXISTS", "k"), 0);
    for (const db of ["1", "2"]) {
      await query(client, "SELECT", db);
      assert.equal(await query(client, "GET", "k"), "v");
      const remaining = await query(client, "PTTL", "k") as number;
      assert.ok(remaining > 90_000 && remaining <= 100_000, `db ${db}: PTTL ${remaining}`);
    }
    // MOVE never overwrites.
    assert.equal(await query(client, "MOVE", "k", "1"), 0);
    assert.equal(await query(client, "EXISTS", "k"), 1);
  });
});

Deno.test("MOVE and COPY to another database touch WATCHed keys there", async () => {
  await withOurServer(async (client, server) => {
    const other = await RawClient.connect(server.port);
    try {
      for (const change of [["MOVE", "k", "1"], ["COPY", "k", "k", "DB", "1"]]) {
        await query(client, "FLUSHALL");
        await query(client, "SET", "k", "v");
        await query(client, "SELECT", "1");
        await query(client, "WATCH", "k");
        await query(client, "MULTI");
        await query(client, "GET", "k");
        assert.equal(await query(other, ...change), 1, change.join(" "));
        assert.equal(await query(client, "EXEC"), null, change.join(" "));
        await query(client, "SELECT", "0");
      }
    } finally {
      await other.close();
    }
  });
});

Deno.test("key commands send the same keyspace notifications as redis-server", async () => {
  await withBothServers(async (oursPort, redisPort) => {
    const commands = [
      ["SET", "a", "1"],
      ["RENAME", "a", "b"],
      ["RENAME", "b", "b"],
      ["RENAMENX", "b", "c"],
      ["COPY", "c", "d"],
      ["COPY", "c", "d", "DB", "3"],
      ["COPY", "c", "d", "REPLACE"],
      ["MOVE", "d", "5"],
      ["EXPIRE", "c", "100"],
      ["RENAME", "c", "e"],
      ["RANDOMKEY"],
      ["TOUCH", "e"],
      ["OBJECT", "ENCODING", "e"],
      ["UNLINK", "e"],
    ];
    const [expected, actual] = await Promise.all([
      notificationsFor(redisPort, commands),
      notificationsFor(oursPort, commands),
    ]);
    assert.ok(expected.includes("move_to"), expected);
    assert.equal(actual, expected);
  });
});

Deno.test("SCAN returns every key present throughout while other keys come and go", async () => {
  await withOurServer(async (client, server) => {
    const stable = range("stable:", 1000);
    await query(client, "MSET", ...stable.flatMap((key) => [key, "v"]));
    await query(client, "MSET", ...range("churn:", 300).flatMap((key) => [key, "v"]));
    const writer = await RawClient.connect(server.port);
    try {
      let added = 0;
      const { keys, calls } = await scanAll(client, ["COUNT", "20"], async (call) => {
        // Delete three churning keys and add three new ones between calls.
        await query(
          writer,
          "DEL",
          `churn:${3 * call}`,
          `churn:${3 * call + 1}`,
          `churn:${3 * call + 2}`,
        );
        for (let i = 0; i < 3; i++) await query(writer, "SET", `added:${added++}`, "v");
      });
      const seen = new Set(keys);
      const missing = stable.filter((key) => !seen.has(key));
      assert.deepEqual(missing, [], `${missing.length} stable keys never returned`);
      assert.ok(calls < 200, `${calls} calls for about 1300 keys at COUNT 20`);
    } finally {
      await writer.close();
    }
  });
});

Deno.test("SCAN with MATCH and TYPE returns what KEYS and TYPE say", async () => {
  await withOurServer(async (client) => {
    await query(client, "MSET", ...range("str:", 200).flatMap((key) => [key, "v"]));
    for (const key of range("hash:", 50)) await query(client, "HSET", key, "f", "v");
    for (const key of range("set:", 50)) await query(client, "SADD", key, "m");
    const hashes = await scanAll(client, ["TYPE", "hash", "COUNT", "7"]);
    assert.deepEqual([...new Set(hashes.keys)].sort(), range("hash:", 50).sort());
    const matched = await scanAll(client, ["MATCH", "str:1*"]);
    const expected = (await query(client, "KEYS", "str:1*") as string[]).sort();
    assert.deepEqual([...new Set(matched.keys)].sort(), expected);
    const none = await scanAll(client, ["MATCH", "str:*", "TYPE", "set"]);
    assert.deepEqual(none.keys, []);
  });
});

Deno.test("SCAN and RANDOMKEY never return a key whose deadline passed", async () => {
  await withOurServer(async (client) => {
    await query(client, "MSET", ...range("dying:", 100).flatMap((key) => [key, "v"]));
    for (const key of range("dying:", 100)) await query(client, "PEXPIRE", key, "20");
    await query(client, "SET", "alive", "v");
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepEqual((await scanAll(client, ["COUNT", "1000"])).keys, ["alive"]);
    await query(client, "MSET", ...range("dying:", 100).flatMap((key) => [key, "v"]));
    for (const key of range("dying:", 100)) await query(client, "PEXPIRE", key, "20");
    await new Promise((resolve) => setTimeout(resolve, 60));
    for (let i = 0; i < 20; i++) assert.equal(await query(client, "RANDOMKEY"), "alive");
  });
});

Deno.test("RANDOMKEY reaches every key", async () => {
  await withOurServer(async (client) => {
    const keys = range("k", 5);
    await query(client, "MSET", ...keys.flatMap((key) => [key, "v"]));
    const seen = new Set<string>();
    for (let i = 0; i < 300 && seen.size < keys.length; i++) {
      seen.add(await query(client, "RANDOMKEY") as string);
    }
    assert.deepEqual([...seen].sort(), keys);
  });
});

Deno.test("OBJECT ENCODING follows Redis's conversions, which never go back", async () => {
  await withOurServer(async (client) => {
    const fields = range("f", 512).flatMap((field) => [field, "v"]);
    await query(client, "HSET", "hash", ...fields);
    assert.equal(await query(client, "OBJECT", "ENCODING", "hash"), "listpack");
    await query(client, "HSET", "hash", "one-more", "v");
    assert.equal(await query(client, "OBJECT", "ENCODING", "hash"), "hashtable");
    await query(client, "HDEL", "hash", ...range("f", 512));
    assert.equal(await query(client, "HLEN", "hash"), 1);
    assert.equal(await query(client, "OBJECT", "ENCODING", "hash"), "hashtable");
    await query(client, "COPY", "hash", "hash-copy");
    assert.equal(await query(client, "OBJECT", "ENCODING", "hash-copy"), "hashtable");
    await query(client, "RENAME", "hash-copy", "renamed");
    assert.equal(await query(client, "OBJECT", "ENCODING", "renamed"), "hashtable");

    await query(client, "HSET", "small", "f", "v");
    await query(client, "HINCRBYFLOAT", "small", "g", "1e70");
    assert.equal(await query(client, "OBJECT", "ENCODING", "small"), "hashtable");

    await query(client, "SET", "s", "x".repeat(44));
    assert.equal(await query(client, "OBJECT", "ENCODING", "s"), "embstr");
    await query(client, "SET", "s", "x".repeat(45));
    assert.equal(await query(client, "OBJECT", "ENCODING", "s"), "raw");
    await query(client, "SET", "s", "-9223372036854775808");
    assert.equal(await query(client, "OBJECT", "ENCODING", "s"), "int");
    assert.equal(await query(client, "OBJECT", "IDLETIME", "s"), 0);
  });
});

Deno.test("key commands reach the AOF as sent, RANDOMKEY and no-ops not at all", async () => {
  const logged = await loggedCommands([
    ["SET", "a", "1"],
    ["RANDOMKEY"],
    ["RENAME", "a", "b"],
    ["RENAME", "b", "b"],
    ["RENAMENX", "b", "b"],
    ["COPY", "b", "c", "DB", "1"],
    ["COPY", "nosuch", "c"],
    ["MOVE", "b", "2"],
    ["MOVE", "nosuch", "2"],
    ["TOUCH", "c"],
    ["OBJECT", "ENCODING", "c"],
    ["SCAN", "0"],
    ["SET", "d", "v"],
    ["UNLINK", "d", "nosuch"],
  ]);
  assert.deepEqual(logged, [
    ["SELECT", "0"],
    ["SET", "a", "1"],
    ["RENAME", "a", "b"],
    ["COPY", "b", "c", "DB", "1"],
    ["MOVE", "b", "2"],
    ["SET", "d", "v"],
    ["UNLINK", "d", "nosuch"],
  ]);
});

/**
 * An in-process server whose key changes are recorded as
 * `db:event:key:class`, the way keyspace notifications would report them.
 */
function recordingKeys() {
  const { server, events, connect } = recordingServer((db, key, event, eventClass) =>
    `${db}:${event}:${key}:${eventClass}`
  );
  const send = connect();
  const command = (...args: string[]) => decodeReply(send(...args));
  return { server, events, command };
}

Deno.test("key commands report Redis's events, on the database they changed", () => {
  const { events, command } = recordingKeys();
  command("SET", "a", "1");
  events.length = 0;
  command("RENAME", "a", "b");
  command("RENAME", "b", "b");
  command("RENAMENX", "b", "c");
  command("COPY", "c", "d");
  command("COPY", "c", "d", "DB", "3");
  command("COPY", "nosuch", "e");
  command("MOVE", "d", "5");
  command("MOVE", "nosuch", "5");
  command("RANDOMKEY");
  command("TOUCH", "c");
  command("DEL", "b", "c", "nosuch");
  command("UNLINK", "c");
  assert.deepEqual(events, [
    "0:rename_from:a:g",
    "0:rename_to:b:g",
    "0:rename_from:b:g",
    "0:rename_to:c:g",
    "0:copy_to:d:g",
    "3:copy_to:d:g",
    "0:move_from:d:g",
    "5:move_to:d:g",
    "0:del:c:g",
  ]);
  assert.deepEqual(command("DBSIZE"), 0);
});

Deno.test("COPY rebuilds a sorted set: the copy keeps members and scores, shares nothing", () => {
  const { server, command } = recordingKeys();
  const db = server.keyspace.databases[0]!;
  const original = new SortedSet();
  for (let i = 0; i < 200; i++) original.add(`m${i}`, i % 7);
  db.set("zset", original);
  assert.equal(command("COPY", "zset", "zset-copy"), 1);
  const copy = db.lookup("zset-copy") as SortedSet;
  assert.notEqual(copy, original);
  assert.deepEqual(copy.range(0, copy.size - 1), original.range(0, original.size - 1));
  assert.equal(copy.encoding, "skiplist");
  original.add("m0", 100);
  original.delete("m1");
  assert.equal(copy.score("m0"), 0);
  assert.equal(copy.score("m1"), 1);
  assert.equal(copy.size, 200);
  assert.equal(command("OBJECT", "ENCODING", "zset-copy"), "skiplist");
});
