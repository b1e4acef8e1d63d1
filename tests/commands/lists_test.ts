/**
 * List commands: the main behaviours and error cases over a real socket,
 * then, in-process, what a client cannot see directly: the keyspace events
 * each command reports (which decide WATCH, notifications and whether the
 * command reaches the AOF), what is logged in place of the request, and
 * that a million pushes and pops through the handlers take well under
 * seconds. Exact replies for every command and error are also pinned down
 * against Redis by tests/differential/corpus/lists.txt.
 *
 * @module
 */

import { raw } from "../helpers/test_support.ts";
import assert from "node:assert/strict";
import { recordingServer } from "../helpers/in_process.ts";
import { bytesToLatin1, decodeReply, RawClient, startOurServer } from "../helpers/servers.ts";

async function call(client: RawClient, ...args: string[]) {
  return decodeReply(await client.command(...args));
}

const WRONG_TYPE = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

Deno.test("lists: pushes keep order at both ends, and LRANGE, LINDEX and LLEN read it", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  assert.equal(await raw(client, "LPUSH", "l", "b", "a"), ":2\r\n");
  assert.equal(await raw(client, "RPUSH", "l", "c", "d"), ":4\r\n");
  assert.deepEqual(await call(client, "LRANGE", "l", "0", "-1"), ["a", "b", "c", "d"]);
  assert.deepEqual(await call(client, "LRANGE", "l", "-2", "100"), ["c", "d"]);
  assert.deepEqual(await call(client, "LRANGE", "l", "3", "1"), []);
  assert.equal(await raw(client, "LINDEX", "l", "-1"), "$1\r\nd\r\n");
  assert.equal(await raw(client, "LINDEX", "l", "4"), "$-1\r\n");
  assert.equal(await raw(client, "LLEN", "l"), ":4\r\n");
  assert.equal(await raw(client, "LLEN", "nosuch"), ":0\r\n");
  assert.equal(await raw(client, "LPUSHX", "nosuch", "x"), ":0\r\n");
  assert.equal(await raw(client, "EXISTS", "nosuch"), ":0\r\n");
  assert.equal(await raw(client, "RPUSHX", "l", "e"), ":5\r\n");
  assert.equal(await raw(client, "TYPE", "l"), "+list\r\n");
});

Deno.test("lists: binary elements come back byte for byte", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  const element = new Uint8Array([0, 255, 13, 10, 128]);
  await client.command("RPUSH", "l", element);
  const reply = await client.command("LPOP", "l");
  assert.deepEqual([...reply], [...new TextEncoder().encode("$5\r\n"), ...element, 13, 10]);
});

Deno.test("lists: LPOP and RPOP with a count answer arrays, and nulls differ by protocol", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await call(client, "RPUSH", "l", "a", "b", "c", "d", "e");
  assert.equal(await raw(client, "LPOP", "l"), "$1\r\na\r\n");
  assert.deepEqual(await call(client, "LPOP", "l", "2"), ["b", "c"]);
  assert.deepEqual(await call(client, "RPOP", "l", "1"), ["e"]);
  assert.equal(await raw(client, "LPOP", "l", "0"), "*0\r\n");
  assert.deepEqual(await call(client, "RPOP", "l", "100"), ["d"]);
  assert.equal(await raw(client, "EXISTS", "l"), ":0\r\n");
  assert.equal(await raw(client, "LPOP", "l"), "$-1\r\n");
  assert.equal(await raw(client, "LPOP", "l", "0"), "*-1\r\n");
  assert.equal(await raw(client, "RPOP", "l", "3"), "*-1\r\n");
  await call(client, "HELLO", "3");
  assert.equal(await raw(client, "LPOP", "l"), "_\r\n");
  assert.equal(await raw(client, "LPOP", "l", "0"), "_\r\n");
  await call(client, "RPUSH", "l", "a");
  assert.equal(await raw(client, "RPOP", "l", "0"), "*0\r\n");
  assert.equal(await raw(client, "LPOS", "l", "z"), "_\r\n");
  assert.equal(await raw(client, "LINDEX", "l", "9"), "_\r\n");
});

Deno.test("lists: errors come in Redis's order: arity, syntax, type, then values", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await call(client, "SET", "s", "x");
  await call(client, "RPUSH", "l", "a");
  const cases: [string[], string][] = [
    [["LPUSH", "l"], "-ERR wrong number of arguments for 'lpush' command\r\n"],
    [["LPOP", "l", "1", "2"], "-ERR wrong number of arguments for 'lpop' command\r\n"],
    [["LPUSH", "s", "a"], WRONG_TYPE],
    [["LPOP", "s", "0"], WRONG_TYPE],
    [["LPOP", "s", "-1"], "-ERR value is out of range, must be positive\r\n"],
    [["LRANGE", "s", "x", "0"], "-ERR value is not an integer or out of range\r\n"],
    [["LINDEX", "nosuch", "x"], "$-1\r\n"],
    [["LINDEX", "s", "x"], WRONG_TYPE],
    [["LSET", "nosuch", "0", "v"], "-ERR no such key\r\n"],
    [["LSET", "l", "1", "v"], "-ERR index out of range\r\n"],
    [["LINSERT", "s", "MIDDLE", "a", "b"], "-ERR syntax error\r\n"],
    [["LMOVE", "l", "s", "LEFT", "RIGHT"], WRONG_TYPE],
    [["LMOVE", "s", "l", "UP", "RIGHT"], "-ERR syntax error\r\n"],
    [
      ["LPOS", "l", "a", "RANK", "0"],
      "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n",
    ],
    [["LPOS", "l", "a", "COUNT", "-1"], "-ERR COUNT can't be negative\r\n"],
    [["LPOS", "l", "a", "MAXLEN", "x"], "-ERR MAXLEN can't be negative\r\n"],
    [["LMPOP", "0", "l", "LEFT"], "-ERR numkeys should be greater than 0\r\n"],
    [["LMPOP", "2", "l", "LEFT"], "-ERR syntax error\r\n"],
    [["LMPOP", "1", "l", "LEFT", "COUNT", "0"], "-ERR count should be greater than 0\r\n"],
    [["BLPOP", "l", "x"], "-ERR timeout is not a float or out of range\r\n"],
    [["BLPOP", "l", "-1"], "-ERR timeout is negative\r\n"],
  ];
  for (const [args, expected] of cases) {
    assert.equal(await raw(client, ...args), expected, args.join(" "));
  }
  // Nothing failed half-way.
  assert.deepEqual(await call(client, "LRANGE", "l", "0", "-1"), ["a"]);
});

Deno.test("lists: LSET, LINSERT, LREM and LTRIM edit in place and delete emptied lists", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await call(client, "RPUSH", "l", "a", "b", "a", "c", "a");
  assert.equal(await raw(client, "LSET", "l", "-1", "z"), "+OK\r\n");
  assert.equal(await raw(client, "LINSERT", "l", "BEFORE", "c", "x"), ":6\r\n");
  assert.equal(await raw(client, "LINSERT", "l", "after", "z", "y"), ":7\r\n");
  assert.equal(await raw(client, "LINSERT", "l", "AFTER", "nothing", "y"), ":-1\r\n");
  assert.deepEqual(await call(client, "LRANGE", "l", "0", "-1"), [
    "a",
    "b",
    "a",
    "x",
    "c",
    "z",
    "y",
  ]);
  assert.equal(await raw(client, "LREM", "l", "-1", "a"), ":1\r\n");
  assert.deepEqual(await call(client, "LRANGE", "l", "0", "-1"), ["a", "b", "x", "c", "z", "y"]);
  assert.equal(await raw(client, "LTRIM", "l", "1", "-2"), "+OK\r\n");
  assert.deepEqual(await call(client, "LRANGE", "l", "0", "-1"), ["b", "x", "c", "z"]);
  assert.equal(await raw(client, "LTRIM", "l", "9", "10"), "+OK\r\n");
  assert.equal(await raw(client, "EXISTS", "l"), ":0\r\n");
  await call(client, "RPUSH", "l", "a", "a");
  assert.equal(await raw(client, "LREM", "l", "0", "a"), ":2\r\n");
  assert.equal(await raw(client, "EXISTS", "l"), ":0\r\n");
});

Deno.test("lists: LPOS honours RANK, COUNT and MAXLEN from either end", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await call(client, "RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c");
  assert.equal(await call(client, "LPOS", "l", "c"), 2);
  assert.equal(await call(client, "LPOS", "l", "c", "RANK", "2"), 6);
  assert.equal(await call(client, "LPOS", "l", "c", "RANK", "-1"), 7);
  assert.deepEqual(await call(client, "LPOS", "l", "c", "COUNT", "0"), [2, 6, 7]);
  assert.deepEqual(await call(client, "LPOS", "l", "c", "COUNT", "2", "RANK", "-1"), [7, 6]);
  assert.equal(await call(client, "LPOS", "l", "c", "MAXLEN", "2"), null);
  assert.deepEqual(await call(client, "LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7"), [2, 6]);
  assert.deepEqual(await call(client, "LPOS", "nosuch", "c", "COUNT", "1"), []);
});

Deno.test("lists: LMOVE and RPOPLPUSH move between lists and rotate one list", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await call(client, "RPUSH", "src", "a", "b", "c");
  assert.equal(await raw(client, "LMOVE", "src", "dst", "LEFT", "RIGHT"), "$1\r\na\r\n");
  assert.equal(await raw(client, "RPOPLPUSH", "src", "dst"), "$1\r\nc\r\n");
  assert.deepEqual(await call(client, "LRANGE", "dst", "0", "-1"), ["c", "a"]);
  assert.equal(await raw(client, "LMOVE", "src", "src", "LEFT", "RIGHT"), "$1\r\nb\r\n");
  assert.deepEqual(await call(client, "LRANGE", "src", "0", "-1"), ["b"]);
  assert.equal(await raw(client, "LMOVE", "src", "dst", "RIGHT", "LEFT"), "$1\r\nb\r\n");
  assert.equal(await raw(client, "EXISTS", "src"), ":0\r\n");
  assert.equal(await raw(client, "LMOVE", "src", "dst", "RIGHT", "LEFT"), "$-1\r\n");
  assert.deepEqual(await call(client, "LMPOP", "2", "src", "dst", "RIGHT", "COUNT", "2"), [
    "dst",
    ["a", "c"],
  ]);
});

/** Our server in-process, with the AOF replaced by a list of what it would log. */
function inProcess() {
  const { server, logged, events, connect: connectRaw } = recordingServer((
    db,
    key,
    event,
    eventClass,
  ) => `${db} ${eventClass}:${event}:${key}`);
  const connect = () => {
    const send = connectRaw();
    return (...args: string[]) => bytesToLatin1(send(...args));
  };
  return { server, connect, logged, events };
}

Deno.test("lists: each change reports Redis's keyspace events, and no change reports none", () => {
  const { connect, events } = inProcess();
  const run = connect();
  const expectEvents = (args: string[], expected: string[]) => {
    events.length = 0;
    run(...args);
    assert.deepEqual(events, expected, args.join(" "));
  };
  expectEvents(["RPUSH", "l", "a", "b", "c"], ["0 l:rpush:l"]);
  expectEvents(["LPUSH", "l", "z"], ["0 l:lpush:l"]);
  expectEvents(["LSET", "l", "0", "y"], ["0 l:lset:l"]);
  expectEvents(["LINSERT", "l", "AFTER", "y", "x"], ["0 l:linsert:l"]);
  expectEvents(["LINSERT", "l", "AFTER", "nothing", "x"], []);
  expectEvents(["LREM", "l", "0", "x"], ["0 l:lrem:l"]);
  expectEvents(["LREM", "l", "0", "x"], []);
  expectEvents(["LTRIM", "l", "0", "-1"], []);
  expectEvents(["LTRIM", "l", "1", "-1"], ["0 l:ltrim:l"]);
  expectEvents(["LMOVE", "l", "m", "LEFT", "RIGHT"], ["0 l:rpush:m", "0 l:lpop:l"]);
  expectEvents(["RPOP", "l", "5"], ["0 l:rpop:l", "0 g:del:l"]);
  expectEvents(["LPOP", "l"], []);
  expectEvents(["LPUSHX", "l", "a"], []);
  expectEvents(["LMPOP", "1", "m", "LEFT"], ["0 l:lpop:m", "0 g:del:m"]);
});

Deno.test("lists: pops whose request is not deterministic are logged as plain pops", () => {
  const { connect, logged } = inProcess();
  const run = connect();
  run("RPUSH", "l", "a", "b", "c", "d");
  run("LMPOP", "2", "nosuch", "l", "RIGHT", "COUNT", "3");
  run("BLPOP", "nosuch", "l", "0");
  run("RPUSH", "l", "a", "b");
  run("BLMPOP", "0", "1", "l", "LEFT", "COUNT", "10");
  run("RPUSH", "l", "a");
  run("BLMOVE", "l", "m", "left", "right", "5");
  run("RPUSH", "l", "a");
  run("BRPOPLPUSH", "l", "m", "5");
  run("LMPOP", "1", "nosuch", "LEFT");
  run("LPOP", "nosuch");
  assert.deepEqual(logged, [
    "0: RPUSH l a b c d",
    "0: RPOP l 3",
    "0: LPOP l",
    "0: RPUSH l a b",
    "0: LPOP l 2",
    "0: RPUSH l a",
    "0: LMOVE l m LEFT RIGHT",
    "0: RPUSH l a",
    "0: RPOPLPUSH l m",
  ]);
});

Deno.test("lists: a million LPUSHes then a million LPOPs through the handlers take seconds at most", () => {
  const { connect } = inProcess();
  const run = connect();
  const started = performance.now();
  for (let i = 0; i < 1_000_000; i++) run("LPUSH", "l", "v");
  assert.equal(run("LLEN", "l"), ":1000000\r\n");
  assert.equal(run("LINDEX", "l", "500000"), "$1\r\nv\r\n");
  for (let i = 0; i < 1_000_000; i++) run("LPOP", "l");
  assert.equal(run("EXISTS", "l"), ":0\r\n");
  const seconds = (performance.now() - started) / 1000;
  assert.ok(seconds < 15, `took ${seconds.toFixed(2)}s`);
});
