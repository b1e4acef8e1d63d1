/**
 * Hash commands over a real socket: what the differential corpus cannot pin
 * down. HINCRBYFLOAT's long double arithmetic is compared with a real
 * redis-server on many random inputs (when one is installed); HRANDFIELD's
 * random replies are checked for their shape and reach; HSCAN keeps its
 * guarantee while fields come and go; and the AOF gets HINCRBYFLOAT as an
 * HSET of its result and nothing for commands that changed nothing.
 *
 * @module
 */

import {
  assertSameReply,
  parseAof,
  query,
  randomDecimal,
  randomDigits,
  range,
  seededRandom,
  withBothServers,
  withOurServer,
} from "../helpers/test_support.ts";
import assert from "node:assert/strict";
import { recordingServer } from "../helpers/in_process.ts";
import { decodeReply, RawClient } from "../helpers/servers.ts";

/** Runs `commands` with the AOF on and returns what it logged, SELECTs left out. */
async function loggedCommands(commands: string[][]): Promise<string[][]> {
  const dir = await Deno.makeTempDir({ prefix: "hashes-aof-" });
  try {
    await withOurServer(async (client) => {
      for (const args of commands) await client.command(...args);
    }, { args: ["--appendonly", "yes", "--appendfsync", "always"], dir });
    return parseAof(await Deno.readFile(`${dir}/database.aof`), { select: false });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("HINCRBYFLOAT matches redis-server on random values and increments", async () => {
  await withBothServers(async (ours, redis) => {
    const random = seededRandom(97);
    for (let i = 0; i < 300; i++) {
      await assertSameReply(ours, redis, "HSET", "h", "f", randomDecimal(random));
      await assertSameReply(ours, redis, "HINCRBYFLOAT", "h", "f", randomDecimal(random));
    }
    for (let step = 0; step < 150; step++) {
      await assertSameReply(
        ours,
        redis,
        "HINCRBYFLOAT",
        "h",
        "chain",
        `0.${randomDigits(random, 2)}`,
      );
    }
    await assertSameReply(ours, redis, "HGETALL", "h");
  });
});

Deno.test("HINCRBY is exact up to the 64-bit limits", async () => {
  await withOurServer(async (client) => {
    await query(client, "HSET", "h", "n", "9223372036854775806");
    assert.equal(await query(client, "HINCRBY", "h", "n", "1"), 9223372036854775807n);
    assert.deepEqual(await query(client, "HINCRBY", "h", "n", "1"), {
      error: "ERR increment or decrement would overflow",
    });
    assert.equal(await query(client, "HGET", "h", "n"), "9223372036854775807");
    assert.equal(await query(client, "HINCRBY", "h", "n", "-9223372036854775807"), 0);
    assert.equal(
      await query(client, "HINCRBY", "h", "m", "-9223372036854775808"),
      -9223372036854775808n,
    );
    assert.equal(await query(client, "HINCRBY", "h", "big", "9007199254740993"), 9007199254740993n);
    assert.equal(await query(client, "HGET", "h", "big"), "9007199254740993");
  });
});

Deno.test("HRANDFIELD: distinct fields for a positive count, repeats for a negative one", async () => {
  await withOurServer(async (client) => {
    const fields = range("f", 20);
    await query(client, "HSET", "h", ...fields.flatMap((field) => [field, `v-${field}`]));
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const distinct = await query(client, "HRANDFIELD", "h", "5") as string[];
      assert.equal(distinct.length, 5);
      assert.equal(new Set(distinct).size, 5);
      for (const field of distinct) seen.add(field);
    }
    assert.deepEqual([...seen].sort(), [...fields].sort());

    const repeated = await query(client, "HRANDFIELD", "h", "-100") as string[];
    assert.equal(repeated.length, 100);
    assert.ok(new Set(repeated).size < 100, "a hundred picks of twenty fields must repeat");
    assert.ok(repeated.every((field) => fields.includes(field)));

    const pairs = await query(client, "HRANDFIELD", "h", "-7", "WITHVALUES") as string[];
    assert.equal(pairs.length, 14);
    for (let i = 0; i < pairs.length; i += 2) assert.equal(pairs[i + 1], `v-${pairs[i]}`);

    const single = await query(client, "HRANDFIELD", "h") as string;
    assert.ok(fields.includes(single));
  });
});

Deno.test("HRANDFIELD WITHVALUES nests pairs in RESP3 only", async () => {
  await withOurServer(async (client) => {
    await query(client, "HSET", "h", ...range("f", 10).flatMap((field) => [field, `v-${field}`]));
    await client.command("HELLO", "3");
    for (const count of ["3", "-3", "1", "50"]) {
      const pairs = await query(client, "HRANDFIELD", "h", count, "WITHVALUES") as string[][];
      assert.equal(pairs.length, Math.min(Math.abs(Number(count)), 10));
      for (const pair of pairs) {
        assert.equal(pair.length, 2);
        assert.equal(pair[1], `v-${pair[0]}`);
      }
    }
    await client.command("HELLO", "2");
    const flat = await query(client, "HRANDFIELD", "h", "3", "WITHVALUES") as string[];
    assert.equal(flat.length, 6);
    assert.ok(flat.every((item) => typeof item === "string"));
  });
});

Deno.test("HSCAN returns every field present throughout while others come and go", async () => {
  await withOurServer(async (client, server) => {
    const stable = range("stable:", 800);
    await query(client, "HSET", "h", ...stable.flatMap((field) => [field, "v"]));
    await query(client, "HSET", "h", ...range("churn:", 200).flatMap((field) => [field, "v"]));
    const writer = await RawClient.connect(server.port);
    try {
      const seen = new Set<string>();
      let cursor = "0";
      let calls = 0;
      do {
        const [next, batch] = await query(client, "HSCAN", "h", cursor, "COUNT", "25") as [
          string,
          string[],
        ];
        for (let i = 0; i < batch.length; i += 2) seen.add(batch[i]!);
        cursor = next;
        calls++;
        assert.ok(calls < 1000, "HSCAN did not finish");
        await query(writer, "HDEL", "h", `churn:${2 * calls}`, `churn:${2 * calls + 1}`);
        await query(writer, "HSET", "h", `added:${calls}`, "v");
      } while (cursor !== "0");
      const missing = stable.filter((field) => !seen.has(field));
      assert.deepEqual(missing, [], `${missing.length} stable fields never returned`);
    } finally {
      await writer.close();
    }
  });
});

Deno.test("HINCRBYFLOAT is logged as HSET of its result; no-op writes are not logged", async () => {
  const logged = await loggedCommands([
    ["HINCRBYFLOAT", "h", "f", "0.1"],
    ["HINCRBYFLOAT", "h", "f", "0.2"],
    ["HINCRBYFLOAT", "h", "f", "abc"],
    ["HSETNX", "h", "f", "x"],
    ["HSETNX", "h", "g", "x"],
    ["HDEL", "h", "nosuch"],
    ["HINCRBY", "h", "n", "5"],
    ["HRANDFIELD", "h", "-3"],
    ["HSCAN", "h", "0"],
    ["HDEL", "h", "f", "g", "n"],
  ]);
  assert.deepEqual(logged, [
    ["HSET", "h", "f", "0.1"],
    ["HSET", "h", "f", "0.3"],
    ["HSETNX", "h", "g", "x"],
    ["HINCRBY", "h", "n", "5"],
    ["HDEL", "h", "f", "g", "n"],
  ]);
});

Deno.test("hash commands report Redis's events, and del when the hash empties", () => {
  const { events, connect } = recordingServer((_db, key, event, eventClass) =>
    `${event}:${key}:${eventClass}`
  );
  const send = connect();
  const command = (...args: string[]) => decodeReply(send(...args));
  command("HSET", "h", "a", "1");
  command("HMSET", "h", "b", "2");
  command("HSETNX", "h", "a", "x");
  command("HSETNX", "h", "c", "3");
  command("HINCRBY", "h", "a", "1");
  command("HINCRBYFLOAT", "h", "a", "0.5");
  command("HINCRBYFLOAT", "h", "a", "abc");
  command("HDEL", "h", "nosuch");
  command("HDEL", "h", "a", "b");
  command("HDEL", "h", "c");
  assert.deepEqual(events, [
    "hset:h:h",
    "hset:h:h",
    "hset:h:h",
    "hincrby:h:h",
    "hincrbyfloat:h:h",
    "hdel:h:h",
    "hdel:h:h",
    "del:h:g",
  ]);
});
