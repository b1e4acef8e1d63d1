/**
 * Set commands over a real socket: what the differential corpus cannot pin
 * down because it is random (SPOP, SRANDMEMBER), because it lives in the AOF
 * (SPOP's deterministic logging), or because it needs many members.
 * Exact replies and error texts are covered by
 * tests/differential/corpus/sets.txt.
 *
 * @module
 */

import assert from "node:assert/strict";
import { recordingServer } from "../helpers/in_process.ts";
import { bytesToLatin1, decodeReply, RawClient, startOurServer } from "../helpers/servers.ts";

async function call(client: RawClient, ...args: string[]) {
  return decodeReply(await client.command(...args));
}

function sorted(value: unknown): string[] {
  assert.ok(Array.isArray(value), `expected an array, got ${JSON.stringify(value)}`);
  return (value as string[]).slice().sort();
}

const letters = "abcdefghij".split("");

Deno.test("sets: SPOP returns members it removes, each once, until the set is gone", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await call(client, "SADD", "s", ...letters);
  const popped: string[] = [];
  for (let i = 0; i < letters.length; i++) {
    const member = await call(client, "SPOP", "s");
    assert.equal(typeof member, "string");
    assert.equal(await call(client, "SISMEMBER", "s", member as string), 0);
    popped.push(member as string);
  }
  assert.deepEqual(popped.sort(), letters);
  assert.equal(await call(client, "EXISTS", "s"), 0);
  assert.equal(await call(client, "SPOP", "s"), null);
});

Deno.test("sets: SPOP with a count removes that many distinct members", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  const members = Array.from({ length: 1000 }, (_, i) => `m${i}`);
  await call(client, "SADD", "s", ...members);
  const first = sorted(await call(client, "SPOP", "s", "300"));
  assert.equal(new Set(first).size, 300);
  assert.equal(await call(client, "SCARD", "s"), 700);
  const second = sorted(await call(client, "SPOP", "s", "650"));
  assert.equal(new Set([...first, ...second]).size, 950);
  const rest = sorted(await call(client, "SMEMBERS", "s"));
  assert.deepEqual([...first, ...second, ...rest].sort(), members.slice().sort());
  assert.deepEqual(sorted(await call(client, "SPOP", "s", "50")), rest);
  assert.equal(await call(client, "EXISTS", "s"), 0);
});

Deno.test("sets: SPOP keeps drawing uniformly while SADD feeds the set", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  const counts = new Map<string, number>(letters.map((letter) => [letter, 0]));
  for (let round = 0; round < 2000; round++) {
    await call(client, "SADD", "s", ...letters);
    const member = await call(client, "SPOP", "s") as string;
    counts.set(member, counts.get(member)! + 1);
  }
  // 200 expected each; a fair draw lands within ±40% with overwhelming probability.
  for (const [member, count] of counts) {
    assert.ok(count > 120 && count < 280, `${member} drawn ${count} times of 2000`);
  }
});

Deno.test("sets: SRANDMEMBER counts: distinct when positive, repeated when negative", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await call(client, "SADD", "s", ...letters);
  for (const count of [1, 2, 3, 5, 9]) {
    const picked = sorted(await call(client, "SRANDMEMBER", "s", String(count)));
    assert.equal(picked.length, count);
    assert.equal(new Set(picked).size, count);
    for (const member of picked) assert.ok(letters.includes(member));
  }
  assert.deepEqual(sorted(await call(client, "SRANDMEMBER", "s", "10")), letters);
  assert.deepEqual(sorted(await call(client, "SRANDMEMBER", "s", "1000")), letters);
  const repeated = await call(client, "SRANDMEMBER", "s", "-20000") as string[];
  assert.equal(repeated.length, 20000);
  const counts = new Map<string, number>();
  for (const member of repeated) counts.set(member, (counts.get(member) ?? 0) + 1);
  assert.equal(counts.size, 10);
  for (const [member, count] of counts) {
    assert.ok(count > 1600 && count < 2400, `${member} drawn ${count} times of 20000`);
  }
  assert.equal(await call(client, "SCARD", "s"), 10, "SRANDMEMBER removes nothing");
});

Deno.test("sets: SRANDMEMBER refuses a negative count whose reply could not be built", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await call(client, "SADD", "s", "a");
  assert.deepEqual(await call(client, "SRANDMEMBER", "s", "-9223372036854775807"), {
    error: "ERR value is out of range, the reply would be too large",
  });
  assert.equal(await call(client, "PING"), "PONG");
});

Deno.test("sets: SPOP is logged as SREM, or DEL when it takes the whole set, and replays", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sets_aof_" });
  try {
    let members: string[];
    {
      await using server = await startOurServer({ dir, args: ["--appendonly", "yes"] });
      await using client = await RawClient.connect(server.port);
      await call(client, "SADD", "s", ...letters);
      await call(client, "SPOP", "s");
      await call(client, "SPOP", "s", "3");
      await call(client, "SPOP", "s", "0");
      await call(client, "SPOP", "missing", "2");
      members = sorted(await call(client, "SMEMBERS", "s"));
      assert.equal(members.length, 6);
      await call(client, "SADD", "gone", "x", "y");
      await call(client, "SPOP", "gone", "5");
    }
    const aof = await Deno.readTextFile(`${dir}/database.aof`);
    assert.ok(!/SPOP/i.test(aof), "SPOP itself is never logged");
    assert.equal(aof.match(/\$4\r\nSREM\r\n\$1\r\ns\r\n/g)?.length, 2);
    assert.ok(aof.includes("*2\r\n$3\r\nDEL\r\n$4\r\ngone\r\n"));
    {
      await using server = await startOurServer({ dir, args: ["--appendonly", "yes"] });
      await using client = await RawClient.connect(server.port);
      assert.deepEqual(sorted(await call(client, "SMEMBERS", "s")), members);
      assert.equal(await call(client, "EXISTS", "gone"), 0);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sets: SINTERCARD declares its keys from numkeys", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  assert.deepEqual(await call(client, "COMMAND", "GETKEYS", "SINTERCARD", "2", "a", "b"), [
    "a",
    "b",
  ]);
  assert.deepEqual(
    await call(client, "COMMAND", "GETKEYS", "SINTERCARD", "1", "a", "LIMIT", "5"),
    ["a"],
  );
});

Deno.test("sets: big intersections, unions and differences", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  const evens = Array.from({ length: 5000 }, (_, i) => String(i * 2));
  const threes = Array.from({ length: 4000 }, (_, i) => String(i * 3));
  await call(client, "SADD", "evens", ...evens);
  await call(client, "SADD", "threes", ...threes);
  const sixes = evens.filter((n) => Number(n) % 3 === 0);
  assert.deepEqual(sorted(await call(client, "SINTER", "evens", "threes")), sixes.sort());
  assert.equal(await call(client, "SINTERCARD", "2", "evens", "threes"), sixes.length);
  assert.equal(await call(client, "SINTERCARD", "2", "evens", "threes", "LIMIT", "7"), 7);
  assert.equal(
    await call(client, "SUNIONSTORE", "union", "evens", "threes"),
    new Set([...evens, ...threes]).size,
  );
  assert.equal(
    await call(client, "SDIFFSTORE", "diff", "evens", "threes"),
    evens.length - sixes.length,
  );
  assert.equal(await call(client, "SISMEMBER", "diff", "6"), 0);
  assert.equal(await call(client, "SISMEMBER", "diff", "4"), 1);
});

/** An in-process server whose key-change events are recorded. */
function recordingSets() {
  const { events, connect } = recordingServer((_db, key, event, eventClass) =>
    `${eventClass}:${event}:${key}`
  );
  const send = connect();
  const run = (...args: string[]) => {
    events.length = 0;
    return bytesToLatin1(send(...args));
  };
  return { run, events };
}

Deno.test("sets: each change fires Redis's keyspace events, and no-ops fire none", () => {
  const { run, events } = recordingSets();
  const expectEvents = (args: string[], expected: string[]) => {
    run(...args);
    assert.deepEqual(events, expected, args.join(" "));
  };
  expectEvents(["SADD", "s", "a", "b", "c"], ["s:sadd:s"]);
  expectEvents(["SADD", "s", "a"], []);
  expectEvents(["SREM", "s", "z"], []);
  expectEvents(["SREM", "s", "a"], ["s:srem:s"]);
  expectEvents(["SMOVE", "s", "t", "b"], ["s:srem:s", "s:sadd:t"]);
  expectEvents(["SMOVE", "s", "s", "c"], []);
  expectEvents(["SADD", "t", "c"], ["s:sadd:t"]);
  expectEvents(["SMOVE", "s", "t", "c"], ["s:srem:s", "g:del:s"]);
  expectEvents(["SPOP", "t", "0"], []);
  expectEvents(["SPOP", "t", "1"], ["s:spop:t"]);
  expectEvents(["SPOP", "t"], ["s:spop:t", "g:del:t"]);
  expectEvents(["SADD", "a", "1", "2"], ["s:sadd:a"]);
  expectEvents(["SINTERSTORE", "d", "a", "a"], ["s:sinterstore:d"]);
  expectEvents(["SUNIONSTORE", "d", "a"], ["s:sunionstore:d"]);
  expectEvents(["SDIFFSTORE", "d", "a"], ["s:sdiffstore:d"]);
  expectEvents(["SDIFFSTORE", "d", "a", "a"], ["g:del:d"]);
  expectEvents(["SDIFFSTORE", "d", "a", "a"], []);
  expectEvents(["SPOP", "a", "5"], ["s:spop:a", "g:del:a"]);
});
