/**
 * Blocking list commands over real sockets: timeouts (fractional, in both
 * protocols), wake-ups by pushes from other clients in first-come order,
 * BLMOVE chains where one serve wakes the next client, clients that
 * disconnect while blocked, pipelined requests held back until the client
 * is served, and what the AOF records for a served client. In-process
 * tests then check, under Deno's sanitizers, that no timer outlives the
 * wait it was armed for.
 *
 * @module
 */

import { parseAof, raw, untilBlocked } from "../helpers/test_support.ts";
import assert from "node:assert/strict";
import { blockClient, parseTimeout } from "../../src/commands/blocking.ts";
import { dispatch } from "../../src/commands/dispatcher.ts";
import type { Client } from "../../src/commands/client.ts";
import { inProcessServer, silentTransport } from "../helpers/in_process.ts";
import {
  bytesToLatin1,
  encodeCommand,
  RawClient,
  sleep,
  startOurServer,
} from "../helpers/servers.ts";

/** Sends a command without waiting for its reply (it blocks). */
function send(client: RawClient, ...args: string[]): Promise<void> {
  return client.send(encodeCommand(args));
}

async function nextReply(client: RawClient, timeoutMs?: number): Promise<string> {
  return bytesToLatin1(await client.readReply(timeoutMs));
}

/** A tuple of `N` clients. */
type Clients<N extends number, T extends RawClient[] = []> = T["length"] extends N ? T
  : Clients<N, [...T, RawClient]>;

/** Connects `count` clients; `await using` closes them all. */
async function clients<N extends number>(
  port: number,
  count: N,
): Promise<Clients<N> & AsyncDisposable> {
  const list = await Promise.all(Array.from({ length: count }, () => RawClient.connect(port)));
  return Object.assign(list as Clients<N>, {
    async [Symbol.asyncDispose]() {
      await Promise.all(list.map((client) => client.close()));
    },
  });
}

Deno.test("blocking: fractional timeouts answer a null array, *-1 in RESP2 and _ in RESP3", async () => {
  await using server = await startOurServer();
  await using connections = await clients(server.port, 2);
  const [resp2, resp3] = connections;
  await raw(resp3, "HELLO", "3");
  const cases: [string[], string, string][] = [
    [["BLPOP", "nosuch", "0.2"], "*-1\r\n", "_\r\n"],
    [["BRPOP", "a", "b", "0.15"], "*-1\r\n", "_\r\n"],
    [["BLMOVE", "nosuch", "dst", "LEFT", "RIGHT", "0.1"], "*-1\r\n", "_\r\n"],
    [["BRPOPLPUSH", "nosuch", "dst", "0.1"], "*-1\r\n", "_\r\n"],
    [["BLMPOP", "0.1", "1", "nosuch", "LEFT"], "*-1\r\n", "_\r\n"],
  ];
  for (const [args, reply2, reply3] of cases) {
    const timeout = Number(args.find((arg) => arg.startsWith("0."))) * 1000;
    const started = Date.now();
    const [got2, got3] = await Promise.all([raw(resp2, ...args), raw(resp3, ...args)]);
    const elapsed = Date.now() - started;
    assert.equal(got2, reply2, args.join(" "));
    assert.equal(got3, reply3, args.join(" "));
    assert.ok(elapsed >= timeout - 5, `${args.join(" ")} answered after ${elapsed}ms`);
    assert.ok(elapsed < timeout + 2000, `${args.join(" ")} answered after ${elapsed}ms`);
  }
  assert.equal(await raw(resp2, "EXISTS", "dst"), ":0\r\n");
});

Deno.test("blocking: clients time out in deadline order, not blocking order", async () => {
  await using server = await startOurServer();
  await using connections = await clients(server.port, 2);
  const [slow, fast] = connections;
  const order: string[] = [];
  await Promise.all([
    raw(slow, "BLPOP", "k", "0.4").then((reply) => order.push(`slow ${reply}`)),
    raw(fast, "BLPOP", "k", "0.1").then((reply) => order.push(`fast ${reply}`)),
  ]);
  assert.deepEqual(order, ["fast *-1\r\n", "slow *-1\r\n"]);
});

Deno.test("blocking: a push wakes blocked clients first come, first served", async () => {
  await using server = await startOurServer();
  await using connections = await clients(server.port, 4);
  const [first, second, third, pusher] = connections;
  for (const [index, client] of [first, second, third].entries()) {
    await send(client, "BLPOP", "k", "0");
    await untilBlocked(pusher, index + 1);
  }
  assert.equal(await raw(pusher, "RPUSH", "k", "a"), ":1\r\n");
  assert.equal(await nextReply(first), "*2\r\n$1\r\nk\r\n$1\r\na\r\n");
  await untilBlocked(pusher, 2);
  assert.equal(await raw(pusher, "RPUSH", "k", "b", "c", "d"), ":3\r\n");
  assert.equal(await nextReply(second), "*2\r\n$1\r\nk\r\n$1\r\nb\r\n");
  assert.equal(await nextReply(third), "*2\r\n$1\r\nk\r\n$1\r\nc\r\n");
  assert.deepEqual(await raw(pusher, "LRANGE", "k", "0", "-1"), "*1\r\n$1\r\nd\r\n");
  await untilBlocked(pusher, 0);
});

Deno.test("blocking: a client blocked on several keys is served by the first to get data", async () => {
  await using server = await startOurServer();
  await using connections = await clients(server.port, 3);
  const [left, right, pusher] = connections;
  await send(left, "BLPOP", "k1", "k2", "0");
  await send(right, "BRPOP", "k2", "k3", "0.5");
  await untilBlocked(pusher, 2);
  await raw(pusher, "RPUSH", "k2", "x", "y");
  assert.equal(await nextReply(left), "*2\r\n$2\r\nk2\r\n$1\r\nx\r\n");
  assert.equal(await nextReply(right), "*2\r\n$2\r\nk2\r\n$1\r\ny\r\n");
  assert.equal(await raw(pusher, "EXISTS", "k2"), ":0\r\n");
  await send(left, "BLMPOP", "0", "2", "k1", "k3", "RIGHT", "COUNT", "5");
  await untilBlocked(pusher, 1);
  await raw(pusher, "RPUSH", "k3", "a", "b", "c");
  assert.equal(
    await nextReply(left),
    "*2\r\n$2\r\nk3\r\n*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n",
  );
  // The served client's timer went with its wait: nothing arrives when it would have fired.
  assert.equal((await right.readAll(800)).byteLength, 0);
});

Deno.test("blocking: a BLMOVE chain passes one element along, waking each client in turn", async () => {
  await using server = await startOurServer();
  await using connections = await clients(server.port, 4);
  const [first, second, last, pusher] = connections;
  await send(first, "BLMOVE", "a", "b", "LEFT", "RIGHT", "0");
  await send(second, "BRPOPLPUSH", "b", "c", "0");
  await send(last, "BLPOP", "c", "0");
  await untilBlocked(pusher, 3);
  assert.equal(await raw(pusher, "LPUSH", "a", "x"), ":1\r\n");
  assert.equal(await nextReply(first), "$1\r\nx\r\n");
  assert.equal(await nextReply(second), "$1\r\nx\r\n");
  assert.equal(await nextReply(last), "*2\r\n$1\r\nc\r\n$1\r\nx\r\n");
  assert.equal(await raw(pusher, "EXISTS", "a", "b", "c"), ":0\r\n");
});

Deno.test("blocking: BLMOVE served onto a key of another type gets WRONGTYPE, the element stays", async () => {
  await using server = await startOurServer();
  await using connections = await clients(server.port, 3);
  const [mover, next, pusher] = connections;
  await send(mover, "BLMOVE", "src", "dst", "LEFT", "RIGHT", "0");
  await send(next, "BLPOP", "src", "0");
  await untilBlocked(pusher, 2);
  await raw(pusher, "SET", "dst", "string");
  await raw(pusher, "RPUSH", "src", "v");
  assert.equal(
    await nextReply(mover),
    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
  );
  assert.equal(await nextReply(next), "*2\r\n$3\r\nsrc\r\n$1\r\nv\r\n");
});

Deno.test("blocking: a client that disconnects while blocked leaves the others served", async () => {
  await using server = await startOurServer();
  await using connections = await clients(server.port, 3);
  const [leaving, staying, pusher] = connections;
  await send(leaving, "BLPOP", "k", "0");
  await send(staying, "BLPOP", "k", "0");
  await untilBlocked(pusher, 2);
  await leaving.close();
  await untilBlocked(pusher, 1);
  await raw(pusher, "RPUSH", "k", "v");
  assert.equal(await nextReply(staying), "*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
  // With nobody left waiting, a push stays in the list.
  await send(staying, "BRPOP", "k2", "10");
  await untilBlocked(pusher, 1);
  await staying.close();
  await untilBlocked(pusher, 0);
  await raw(pusher, "RPUSH", "k2", "kept");
  assert.equal(await raw(pusher, "LRANGE", "k2", "0", "-1"), "*1\r\n$4\r\nkept\r\n");
});

Deno.test("blocking: pipelined requests behind a blocked command run after it is served", async () => {
  await using server = await startOurServer();
  await using connections = await clients(server.port, 2);
  const [blocked, pusher] = connections;
  await blocked.send(
    new Uint8Array([
      ...encodeCommand(["BLPOP", "k", "0"]),
      ...encodeCommand(["PING"]),
      ...encodeCommand(["LLEN", "k"]),
    ]),
  );
  await untilBlocked(pusher, 1);
  assert.equal((await blocked.readAll(100)).byteLength, 0);
  await raw(pusher, "RPUSH", "k", "v", "w");
  assert.equal(await nextReply(blocked), "*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
  assert.equal(await nextReply(blocked), "+PONG\r\n");
  assert.equal(await nextReply(blocked), ":1\r\n");
});

Deno.test("blocking: clients wait in their own database", async () => {
  await using server = await startOurServer();
  await using connections = await clients(server.port, 2);
  const [blocked, pusher] = connections;
  await raw(blocked, "SELECT", "2");
  await send(blocked, "BLPOP", "k", "0");
  await untilBlocked(pusher, 1);
  await raw(pusher, "RPUSH", "k", "db0");
  await raw(pusher, "SELECT", "2");
  await raw(pusher, "RPUSH", "k", "db2");
  assert.equal(await nextReply(blocked), "*2\r\n$1\r\nk\r\n$3\r\ndb2\r\n");
  await raw(pusher, "SELECT", "0");
  assert.equal(await raw(pusher, "LLEN", "k"), ":1\r\n");
});

Deno.test("blocking: a push inside MULTI serves waiters after EXEC, with what is left", async () => {
  await using server = await startOurServer();
  await using connections = await clients(server.port, 2);
  const [blocked, pusher] = connections;
  await send(blocked, "BLPOP", "k", "0");
  await untilBlocked(pusher, 1);
  await raw(pusher, "MULTI");
  await raw(pusher, "RPUSH", "k", "a", "b");
  await raw(pusher, "LPOP", "k");
  assert.equal(await raw(pusher, "EXEC"), "*2\r\n:2\r\n$1\r\na\r\n");
  assert.equal(await nextReply(blocked), "*2\r\n$1\r\nk\r\n$1\r\nb\r\n");
});

Deno.test("blocking: served clients are logged as the non-blocking pop, in their database", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redis-clone-blocking-" });
  try {
    await using server = await startOurServer({ dir, args: ["--appendonly", "yes"] });
    await using connections = await clients(server.port, 4);
    const [popper, mover, multi, pusher] = connections;
    await raw(popper, "SELECT", "1");
    await send(popper, "BRPOP", "k", "0");
    await send(mover, "BLMOVE", "src", "dst", "right", "left", "0");
    await send(multi, "BLMPOP", "0", "2", "m1", "m2", "LEFT", "COUNT", "5");
    await untilBlocked(pusher, 3);
    await raw(pusher, "RPUSH", "src", "s");
    assert.equal(await nextReply(mover), "$1\r\ns\r\n");
    await raw(pusher, "RPUSH", "m2", "a", "b");
    await nextReply(multi);
    await raw(pusher, "SELECT", "1");
    await raw(pusher, "RPUSH", "k", "x", "y");
    assert.equal(await nextReply(popper), "*2\r\n$1\r\nk\r\n$1\r\ny\r\n");
    const logged = parseAof(await Deno.readFile(`${dir}/database.aof`)).map((args) =>
      args.join(" ")
    );
    assert.deepEqual(logged, [
      "SELECT 0",
      "RPUSH src s",
      "LMOVE src dst RIGHT LEFT",
      "RPUSH m2 a b",
      "LPOP m2 2",
      "SELECT 1",
      "RPUSH k x y",
      "RPOP k",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------
// In-process: timers end with the wait, whatever ends it (the sanitizers
// fail these tests if a timer is left behind).

function blockingHarness() {
  const server = inProcessServer();
  let resumed = 0;
  const transport = silentTransport({
    resume() {
      resumed++;
    },
  });
  const connect = () => server.connect(transport);
  const run = (client: Client, ...args: string[]) => {
    dispatch(client, args);
    return bytesToLatin1(client.reply.take());
  };
  return { server, connect, run, resumed: () => resumed };
}

Deno.test("blocking: disconnecting a blocked client clears its timer and its place", () => {
  const { server, connect, run } = blockingHarness();
  const leaving = connect();
  const pusher = connect();
  assert.equal(run(leaving, "BLPOP", "k", "100"), "");
  assert.ok(leaving.blocked !== undefined);
  server.disconnect(leaving);
  assert.equal(leaving.blocked, undefined);
  assert.equal(run(pusher, "RPUSH", "k", "v"), ":1\r\n");
  assert.equal(run(pusher, "LLEN", "k"), ":1\r\n");
});

Deno.test("blocking: serving a client clears its timer and resumes it after the command", async () => {
  const { connect, run, resumed } = blockingHarness();
  const waiting = connect();
  const pusher = connect();
  assert.equal(run(waiting, "BLMOVE", "k", "d", "LEFT", "LEFT", "100"), "");
  assert.equal(run(pusher, "RPUSH", "k", "v"), ":1\r\n");
  assert.equal(waiting.blocked, undefined);
  assert.equal(bytesToLatin1(waiting.reply.take()), "$1\r\nv\r\n");
  assert.equal(resumed(), 0, "resumed inside the pusher's command");
  await Promise.resolve();
  assert.equal(resumed(), 1);
});

Deno.test("blocking: a timeout replies, unblocks and resumes the client", async () => {
  const { connect, run, resumed } = blockingHarness();
  const waiting = connect();
  run(waiting, "BLPOP", "k", "0.01");
  await sleep(50);
  assert.equal(waiting.blocked, undefined);
  assert.equal(resumed(), 1);
});

Deno.test("blocking: blockClient inside EXEC answers with the timeout reply at once", () => {
  const { connect } = blockingHarness();
  const client = connect();
  client.transaction = [];
  blockClient(client, ["k"], 0, () => true, (target) => target.reply.simple("TIMED OUT"));
  assert.equal(client.blocked, undefined);
  assert.equal(bytesToLatin1(client.reply.take()), "+TIMED OUT\r\n");
});

Deno.test("blocking: timeouts are ceil(seconds * 1000) ms computed in long double, as in Redis", () => {
  const { server, connect } = blockingHarness();
  server.keyspace.clock = { now: () => 1_000_000 };
  const client = connect();
  const deadline = (text: string) => {
    try {
      return parseTimeout(client, text);
    } catch (error) {
      return (error as Error).message;
    }
  };
  assert.equal(deadline("0"), 0);
  assert.equal(deadline("-0"), 0);
  assert.equal(deadline("1.5"), 1_001_500);
  assert.equal(deadline("0.0001"), 1_000_001);
  assert.equal(deadline("1e-400"), 1_000_001);
  assert.equal(deadline("0x1p-20"), 1_000_001);
  // -0.001 is just above -1 ms in long double: ceil gives 0, forever.
  assert.equal(deadline("-0.001"), 0);
  assert.equal(deadline("-0.0009"), 0);
  assert.equal(deadline("-0.002"), "ERR timeout is negative");
  assert.equal(deadline("-1"), "ERR timeout is negative");
  // At 2^63 ms and beyond, C's conversion gives LLONG_MIN.
  assert.equal(deadline("9.2e15"), 1_000_000 + 9.2e18);
  assert.equal(deadline("9.3e15"), "ERR timeout is negative");
  assert.equal(deadline("inf"), "ERR timeout is negative");
  assert.equal(deadline("1e400"), "ERR timeout is negative");
  assert.equal(deadline("1e99999"), "ERR timeout is not a float or out of range");
  assert.equal(deadline("nan"), "ERR timeout is not a float or out of range");
  assert.equal(deadline(" 1"), "ERR timeout is not a float or out of range");
  assert.equal(deadline(""), "ERR timeout is not a float or out of range");
});
