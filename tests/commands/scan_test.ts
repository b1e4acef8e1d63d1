/**
 * The SCAN-family cursor machinery (src/commands/scan.ts).
 *
 * The property that matters is Redis's guarantee: an element present for
 * the whole of an iteration is returned at least once, however the
 * collection changes between calls. SSCAN checks it over a real socket; SCAN,
 * HSCAN and ZSCAN (wired into the command table by their own families) are
 * driven in-process through the same functions their handlers call, with a
 * manual clock for expiry.
 *
 * @module
 */

import { range } from "../helpers/test_support.ts";
import assert from "node:assert/strict";
import { CommandError, INVALID_CURSOR } from "../../src/commands/errors.ts";
import { getHash, getSortedSet } from "../../src/commands/access.ts";
import { dispatch } from "../../src/commands/dispatcher.ts";
import {
  parseCursor,
  parseScanOptions,
  scanCollection,
  scanKeyspace,
} from "../../src/commands/scan.ts";
import type { Client } from "../../src/commands/client.ts";
import { inProcessServer, silentTransport } from "../helpers/in_process.ts";
import { SortedSet } from "../../src/store/sorted_set.ts";
import { decodeReply, RawClient, type ReplyValue, startOurServer } from "../helpers/servers.ts";

type ScanReply = [cursor: string, elements: string[]];

function asScanReply(value: ReplyValue): ScanReply {
  assert.ok(Array.isArray(value) && value.length === 2, `not a scan reply: ${value}`);
  return value as ScanReply;
}

Deno.test("scan: cursors parse as strtoul does, else ERR invalid cursor", () => {
  const valid: [string, string][] = [
    ["0", "0"],
    ["", "0"],
    ["-0", "0"],
    ["+0", "0"],
    ["007", "7"],
    ["+12", "12"],
    ["-1", "18446744073709551615"],
    ["18446744073709551615", "18446744073709551615"],
    ["-18446744073709551615", "1"],
    ["9007199254740993", "9007199254740993"],
    ["5\0junk", "5"],
  ];
  for (const [text, cursor] of valid) assert.equal(parseCursor(text), cursor, JSON.stringify(text));
  for (const text of [" 0", "0 ", "1x", "1.5", "0x10", "-", "+", "18446744073709551616", "abc"]) {
    assert.throws(() => parseCursor(text), new CommandError(INVALID_CURSOR), JSON.stringify(text));
  }
});

Deno.test("scan: options parse in any order with Redis's errors", () => {
  const parse = (...args: string[]) => parseScanOptions(["SCAN", "0", ...args], 2, true);
  assert.deepEqual(parse(), { count: 10, pattern: undefined, type: undefined });
  assert.deepEqual(parse("match", "a*", "COUNT", "3", "Type", "HASH"), {
    count: 3,
    pattern: "a*",
    type: "hash",
  });
  assert.deepEqual(parse("MATCH", "*"), { count: 10, pattern: undefined, type: undefined });
  assert.deepEqual(parse("COUNT", "1", "COUNT", "5").count, 5);
  const syntax = new CommandError("ERR syntax error");
  assert.throws(() => parse("COUNT", "0"), syntax);
  assert.throws(() => parse("COUNT", "-3"), syntax);
  assert.throws(() => parse("COUNT"), syntax);
  assert.throws(() => parse("MATCH"), syntax);
  assert.throws(() => parse("BOGUS", "1"), syntax);
  assert.throws(
    () => parse("COUNT", "x"),
    new CommandError("ERR value is not an integer or out of range"),
  );
  assert.throws(() => parseScanOptions(["SSCAN", "k", "0", "TYPE", "set"], 3, false), syntax);
});

/** Runs a full SSCAN iteration, calling `between` after every call. */
async function sscanAll(
  client: RawClient,
  key: string,
  count: number,
  between: (call: number) => Promise<void> = async () => {},
): Promise<{ seen: string[]; calls: number }> {
  const seen: string[] = [];
  let cursor = "0";
  let calls = 0;
  do {
    const [next, members] = asScanReply(
      decodeReply(await client.command("SSCAN", key, cursor, "COUNT", String(count))),
    );
    seen.push(...members);
    cursor = next;
    calls++;
    assert.ok(calls < 10_000, "the iteration does not end");
    await between(calls);
  } while (cursor !== "0");
  return { seen, calls };
}

Deno.test("scan: SSCAN returns every member once when nothing changes", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  const members = range("member:", 1000);
  await client.command("SADD", "s", ...members);
  const { seen, calls } = await sscanAll(client, "s", 7);
  assert.deepEqual(seen.slice().sort(), members.slice().sort());
  assert.equal(calls, Math.ceil(1000 / 7));
});

Deno.test("scan: SSCAN returns every member present throughout while others churn", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  const kept = range("keep:", 600);
  await client.command("SADD", "s", ...kept, ...range("churn:", 400));
  const everAdded = new Set([...kept, ...range("churn:", 400)]);
  const { seen } = await sscanAll(client, "s", 25, async (call) => {
    // Remove old churn members, add new ones, and delete-then-re-add one.
    const removed = range(`churn:`, 400).slice(call * 5, call * 5 + 5);
    const added = range(`new${call}:`, 8);
    for (const member of added) everAdded.add(member);
    await client.command("SREM", "s", ...removed);
    await client.command("SADD", "s", ...added);
    await client.command("SREM", "s", `keep:${call}`);
    await client.command("SADD", "s", `keep:${call}`);
  });
  const returned = new Set(seen);
  for (const member of kept) {
    // keep:N for small N was removed and re-added, so it was not present throughout.
    if (Number(member.slice(5)) > 200) assert.ok(returned.has(member), `${member} missed`);
  }
  for (const member of returned) assert.ok(everAdded.has(member), `${member} was never added`);
});

Deno.test("scan: small intsets come back whole with cursor 0, bigger sets page", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  const numbers = Array.from({ length: 512 }, (_, i) => String(i));
  await client.command("SADD", "ints", ...numbers);
  let [cursor, members] = asScanReply(decodeReply(await client.command("SSCAN", "ints", "0")));
  assert.equal(cursor, "0");
  assert.deepEqual(members, numbers);
  await client.command("SADD", "ints", "512");
  [cursor, members] = asScanReply(decodeReply(await client.command("SSCAN", "ints", "0")));
  assert.notEqual(cursor, "0");
  assert.equal(members.length, 10);
  await client.command("SADD", "mixed", "1", "2", "x");
  [cursor, members] = asScanReply(
    decodeReply(await client.command("SSCAN", "mixed", "0", "COUNT", "1")),
  );
  assert.notEqual(cursor, "0", "a set with a string member is not an intset");
  assert.deepEqual(members, ["1"]);
});

Deno.test("scan: a cursor is used once, and an unknown one starts over", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await client.command("SADD", "s", ...range("m", 30));
  await client.command("SADD", "other", ...range("o", 5));
  const step = async (key: string, cursor: string, count = 10) =>
    asScanReply(decodeReply(await client.command("SSCAN", key, cursor, "COUNT", String(count))));
  const [cursor, first] = await step("s", "0");
  assert.deepEqual(first, range("m", 10));
  const [, second] = await step("s", cursor);
  assert.deepEqual(second, range("m", 30).slice(10, 20));
  // Sent again (a retry), the same cursor no longer names a walk: start over.
  assert.deepEqual((await step("s", cursor))[1], first);
  assert.deepEqual((await step("s", "123456789", 100))[1], range("m", 30));
  assert.deepEqual((await step("s", "-1", 100))[1], range("m", 30));
  // A cursor belongs to the set it walks: another key starts from its beginning.
  const [otherCursor] = await step("s", "0");
  assert.deepEqual(await step("other", otherCursor, 100), ["0", range("o", 5)]);
  // So does a key deleted and created again.
  const [stale] = await step("s", "0");
  await client.command("DEL", "s");
  await client.command("SADD", "s", "fresh");
  assert.deepEqual(await step("s", stale), ["0", ["fresh"]]);
});

/** An in-process server and client, for the commands other families wire up. */
function inProcess() {
  const server = inProcessServer();
  let now = 1_000_000;
  server.keyspace.clock = { now: () => now };
  const transport = silentTransport();
  const client = server.connect(transport);
  const run = (handler: (client: Client, args: string[]) => void, ...args: string[]) => {
    handler(client, args);
    return decodeReply(client.reply.take());
  };
  const command = (...args: string[]) => {
    dispatch(client, args);
    return decodeReply(client.reply.take());
  };
  const advance = (ms: number) => void (now += ms);
  return { server, client, run, command, advance };
}

Deno.test("scan: SCAN filters by MATCH and TYPE and skips expired keys", () => {
  const { client, run, command, advance } = inProcess();
  command("SET", "str:1", "v");
  command("SET", "str:2", "v");
  command("HSET", "hash:1", "f", "v");
  command("SADD", "set:1", "m");
  command("SET", "dying", "v", "PX", "100");
  const scan = (...args: string[]) => asScanReply(run(scanKeyspace, "SCAN", ...args));
  assert.deepEqual(scan("0"), ["0", ["str:1", "str:2", "hash:1", "set:1", "dying"]]);
  assert.deepEqual(scan("0", "TYPE", "string"), ["0", ["str:1", "str:2", "dying"]]);
  assert.deepEqual(scan("0", "TYPE", "HASH"), ["0", ["hash:1"]]);
  assert.deepEqual(scan("0", "TYPE", "stream"), ["0", []]);
  assert.deepEqual(scan("0", "MATCH", "*:1", "TYPE", "set"), ["0", ["set:1"]]);
  advance(100);
  assert.deepEqual(scan("0", "MATCH", "d*"), ["0", []]);
  assert.equal(client.db.entries.has("dying"), false, "the expired key was removed");
  assert.throws(() => scan("x"), new CommandError(INVALID_CURSOR));
  assert.throws(() => scan("0", "COUNT", "0"), new CommandError("ERR syntax error"));
});

Deno.test("scan: SCAN counts visited keys, so MATCH can return fewer than COUNT", () => {
  const { run, command } = inProcess();
  for (const key of range("k", 20)) command("SET", key, "v");
  const [cursor, keys] = asScanReply(run(scanKeyspace, "SCAN", "0", "COUNT", "10", "MATCH", "k1*"));
  assert.notEqual(cursor, "0");
  assert.deepEqual(keys, ["k1"]);
  assert.deepEqual(asScanReply(run(scanKeyspace, "SCAN", cursor, "COUNT", "10", "MATCH", "k1*")), [
    "0",
    range("k", 20).slice(10),
  ]);
});

Deno.test("scan: SCAN keeps its guarantee while keys come and go, and in other databases", () => {
  const { client, run, command } = inProcess();
  for (const key of range("keep", 500)) command("SET", key, "v");
  for (const key of range("churn", 500)) command("SET", key, "v");
  const seen = new Set<string>();
  let cursor = "0";
  let calls = 0;
  do {
    const [next, keys] = asScanReply(run(scanKeyspace, "SCAN", cursor, "COUNT", "13"));
    for (const key of keys) seen.add(key);
    cursor = next;
    calls++;
    command("DEL", `churn${calls}`, `churn${calls + 250}`);
    command("SET", `added${calls}`, "v");
    command("SELECT", "1");
    command("SET", `elsewhere${calls}`, "v");
    command("SELECT", "0");
  } while (cursor !== "0" && calls < 1000);
  assert.equal(cursor, "0");
  for (const key of range("keep", 500)) assert.ok(seen.has(key), `${key} missed`);
  assert.ok(![...seen].some((key) => key.startsWith("elsewhere")));
  // A cursor from database 0 does not resume in database 1: that walk starts over.
  const [fromZero] = asScanReply(run(scanKeyspace, "SCAN", "0", "COUNT", "1"));
  command("SELECT", "1");
  assert.deepEqual(asScanReply(run(scanKeyspace, "SCAN", fromZero, "COUNT", "1"))[1], [
    "elsewhere1",
  ]);
  assert.equal(client.db.index, 1);
});

Deno.test("scan: HSCAN answers small hashes at once and pages big ones with current values", () => {
  const { client, run, command } = inProcess();
  command("HSET", "small", "f1", "v1", "f2", "v2");
  const hscan = (...args: string[]) =>
    asScanReply(run((c, a) => scanCollection(c, a, getHash), "HSCAN", ...args));
  assert.deepEqual(hscan("small", "0", "COUNT", "1"), ["0", ["f1", "v1", "f2", "v2"]]);
  assert.deepEqual(hscan("small", "0", "MATCH", "*2"), ["0", ["f2", "v2"]]);
  assert.deepEqual(hscan("nosuch", "0", "BOGUS"), ["0", []]);
  command("HSET", "long", "f", "x".repeat(65), "g", "y");
  assert.notEqual(hscan("long", "0", "COUNT", "1")[0], "0", "a 65-byte value is not a listpack");
  // Redis 7.0's hash-max-listpack-entries is 512: 600 fields make a real hash table.
  for (let i = 0; i < 600; i++) command("HSET", "big", `f${i}`, `v${i}`);
  const [cursor, first] = hscan("big", "0", "COUNT", "100");
  assert.equal(first.length, 200);
  command("HSET", "big", "f150", "changed");
  command("HDEL", "big", "f151");
  const rest: string[] = [];
  let next = cursor;
  while (next !== "0") {
    const [after, elements] = hscan("big", next, "COUNT", "100");
    rest.push(...elements);
    next = after;
  }
  const pairs = new Map<string, string>();
  for (let i = 0; i < rest.length; i += 2) pairs.set(rest[i]!, rest[i + 1]!);
  assert.equal(pairs.get("f150"), "changed");
  assert.equal(pairs.has("f151"), false);
  assert.equal(pairs.size + first.length / 2, 599);
  command("SET", "str", "v");
  assert.throws(() => hscan("str", "0"), /WRONGTYPE/);
  assert.throws(() => hscan("str", "x"), new CommandError(INVALID_CURSOR));
  assert.equal(client.db.index, 0);
});

Deno.test("scan: ZSCAN replies member and score text, and walks big sorted sets safely", () => {
  const { client, run } = inProcess();
  const zscan = (...args: string[]) =>
    asScanReply(run((c, a) => scanCollection(c, a, getSortedSet), "ZSCAN", ...args));
  const small = new SortedSet();
  small.add("b", 0.1);
  small.add("a", 1.5);
  small.add("c", Infinity);
  small.add("z", -0);
  client.db.set("small", small);
  assert.deepEqual(zscan("small", "0"), [
    "0",
    ["z", "0", "b", "0.10000000000000001", "a", "1.5", "c", "inf"],
  ]);
  const big = new SortedSet();
  for (let i = 0; i < 400; i++) big.add(`m${i}`, i);
  client.db.set("big", big);
  const seen = new Map<string, string>();
  let cursor = "0";
  let calls = 0;
  do {
    const [next, elements] = zscan("big", cursor, "COUNT", "30");
    for (let i = 0; i < elements.length; i += 2) seen.set(elements[i]!, elements[i + 1]!);
    cursor = next;
    calls++;
    big.delete(`m${399 - calls}`);
    big.add(`m${calls * 3}`, -calls);
    big.add(`added${calls}`, 1000 + calls);
  } while (cursor !== "0");
  for (let i = 0; i < 400 - calls - 1; i++) assert.ok(seen.has(`m${i}`), `m${i} missed`);
  assert.equal(seen.get("m300"), "300");
  assert.equal(seen.has("m398"), false, "a member removed before its turn is skipped");
});

Deno.test("scan: parked walks are bounded in number and dropped when idle", () => {
  const { run, command, advance } = inProcess();
  command("SADD", "s", ...range("m", 50));
  const sscan = (cursor: string) =>
    asScanReply(run((c, a) => dispatch(c, a), "SSCAN", "s", cursor, "COUNT", "1"));
  const oldest = sscan("0")[0];
  for (let i = 0; i < 1024; i++) sscan("0");
  assert.deepEqual(sscan(oldest)[1], ["m0"], "evicted: starts over");
  const idle = sscan("0")[0];
  advance(10 * 60 * 1000);
  sscan("0"); // Parking a walk drops the idle ones.
  assert.deepEqual(sscan(idle)[1], ["m0"], "idle too long: starts over");
  const fresh = sscan("0")[0];
  advance(60 * 1000);
  assert.deepEqual(sscan(fresh)[1], ["m1"]);
});
