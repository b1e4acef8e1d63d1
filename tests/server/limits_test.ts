/**
 * Client limits with Redis's names, defaults, errors and INFO fields:
 * maxclients, timeout, client-output-buffer-limit, client-query-buffer-limit,
 * proto-max-bulk-len, the stricter limits before authentication, and that
 * each answers CONFIG GET/SET as redis-server does.
 */

import assert from "node:assert/strict";
import {
  decodeReply,
  encodeCommand,
  LOOPBACK,
  RawClient,
  sleep,
  startOurServer,
  startRedisServer,
} from "../helpers/servers.ts";
import { query } from "../helpers/test_support.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Reads whatever arrives on `conn` within `ms`, and whether the server closed it. */
async function readFor(conn: Deno.TcpConn, ms: number): Promise<{ data: string; closed: boolean }> {
  const chunks: string[] = [];
  const deadline = Date.now() + ms;
  let closed = false;
  while (Date.now() < deadline) {
    const buffer = new Uint8Array(64 * 1024);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"quiet">((resolve) =>
      timer = setTimeout(() => resolve("quiet"), Math.max(1, deadline - Date.now()))
    );
    const read = conn.read(buffer).catch(() => null);
    const result = await Promise.race([read, timeout]);
    clearTimeout(timer);
    if (result === "quiet") {
      conn.close();
      await read;
      return { data: chunks.join(""), closed };
    }
    if (result === null) {
      closed = true;
      break;
    }
    chunks.push(new TextDecoder("latin1").decode(buffer.subarray(0, result)));
  }
  conn.close();
  return { data: chunks.join(""), closed };
}

Deno.test("maxclients: the client over the limit gets Redis's error and is counted", async () => {
  await using server = await startOurServer({ args: ["--maxclients", "2"] });
  await using first = await RawClient.connect(server.port);
  await using second = await RawClient.connect(server.port);
  assert.equal(text(await first.command("PING")), "+PONG\r\n");
  assert.equal(text(await second.command("PING")), "+PONG\r\n");
  const third = await Deno.connect({ hostname: LOOPBACK, port: server.port });
  const { data, closed } = await readFor(third, 1000);
  assert.equal(data, "-ERR max number of clients reached\r\n");
  assert.equal(closed, true);
  const info = String(await query(first, "INFO", "stats"));
  assert.match(info, /rejected_connections:1\r\n/);
  assert.deepEqual(await query(first, "CONFIG", "GET", "maxclients"), ["maxclients", "2"]);
});

Deno.test("timeout: idle clients are closed, subscribers and blocked clients are not", async () => {
  await using server = await startOurServer({ args: ["--timeout", "1"] });
  await using subscriber = await RawClient.connect(server.port);
  await subscriber.command("SUBSCRIBE", "news");
  await using blocked = await RawClient.connect(server.port);
  await blocked.send(encodeCommand(["BLPOP", "nothing", "0"]));
  const idle = await Deno.connect({ hostname: LOOPBACK, port: server.port });
  await idle.write(encodeCommand(["PING"]));
  const { data, closed } = await readFor(idle, 4000);
  assert.equal(data, "+PONG\r\n");
  assert.equal(closed, true, "the idle client was not closed");
  // The other two are still there.
  await using observer = await RawClient.connect(server.port);
  assert.equal(await query(observer, "PUBLISH", "news", "still here"), 1);
  assert.equal(await query(observer, "RPUSH", "nothing", "x"), 1);
  assert.deepEqual(decodeReply(await blocked.readReply()), ["nothing", "x"]);
});

Deno.test("client-output-buffer-limit: a normal client that never reads is cut off at its limit", async () => {
  await using server = await startOurServer();
  await using control = await RawClient.connect(server.port);
  assert.equal(
    await query(control, "CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 0 0"),
    "OK",
  );
  await query(control, "SET", "big", "x".repeat(100_000));
  const reader = await Deno.connect({ hostname: LOOPBACK, port: server.port });
  let pipeline = "";
  for (let i = 0; i < 200; i++) pipeline += "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n";
  await reader.write(new TextEncoder().encode(pipeline));
  await sleep(500);
  const { closed } = await readFor(reader, 3000);
  assert.equal(closed, true, "the client was never disconnected");
  assert.match(
    server.stderr(),
    /scheduled to be closed ASAP for overcoming of output buffer limits/,
  );
  assert.deepEqual(await query(control, "CONFIG", "GET", "client-output-buffer-limit"), [
    "client-output-buffer-limit",
    "normal 1048576 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
  ]);
});

Deno.test("client-query-buffer-limit: a request bigger than the limit closes the client", async () => {
  await using server = await startOurServer();
  await using control = await RawClient.connect(server.port);
  assert.equal(await query(control, "CONFIG", "SET", "client-query-buffer-limit", "1mb"), "OK");
  assert.equal(await query(control, "CONFIG", "SET", "proto-max-bulk-len", "4mb"), "OK");
  const sender = await Deno.connect({ hostname: LOOPBACK, port: server.port });
  const header = new TextEncoder().encode("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n");
  await sender.write(header);
  try {
    const chunk = new Uint8Array(256 * 1024).fill(120);
    for (let i = 0; i < 8; i++) await sender.write(chunk);
  } catch {
    // The server may close before everything is written.
  }
  const { closed } = await readFor(sender, 3000);
  assert.equal(closed, true);
  assert.match(server.stderr(), /Closing client that reached max query buffer length/);
  assert.equal(await query(control, "EXISTS", "k"), 0);
});

Deno.test("proto-max-bulk-len: a longer bulk is a protocol error", async () => {
  await using server = await startOurServer({ args: ["--proto-max-bulk-len", "1mb"] });
  const conn = await Deno.connect({ hostname: LOOPBACK, port: server.port });
  await conn.write(new TextEncoder().encode("*2\r\n$3\r\nGET\r\n$1048577\r\n"));
  const { data, closed } = await readFor(conn, 2000);
  assert.equal(data, "-ERR Protocol error: invalid bulk length\r\n");
  assert.equal(closed, true);
});

Deno.test("before authentication Redis's stricter protocol limits apply", async () => {
  await using server = await startOurServer({ args: ["--requirepass", "secret"] });
  const cases: [string, string][] = [
    ["*11\r\n", "-ERR Protocol error: unauthenticated multibulk length\r\n"],
    ["*2\r\n$4\r\nAUTH\r\n$16385\r\n", "-ERR Protocol error: unauthenticated bulk length\r\n"],
  ];
  for (const [request, reply] of cases) {
    const conn = await Deno.connect({ hostname: LOOPBACK, port: server.port });
    await conn.write(new TextEncoder().encode(request));
    assert.equal((await readFor(conn, 2000)).data, reply);
  }
  // Once authenticated, the ordinary limits.
  await using client = await RawClient.connect(server.port);
  assert.equal(await query(client, "AUTH", "secret"), "OK");
  const args = Array.from({ length: 20 }, (_, i) => `m${i}`);
  assert.equal(await query(client, "SADD", "s", ...args), 20);
});

Deno.test({
  name: "the limit parameters answer CONFIG GET and CONFIG SET as redis-server does",
  async fn() {
    const redis = await startRedisServer();
    if (redis === undefined) {
      console.warn("redis-server not installed: SKIPPING the comparison with Redis");
      return;
    }
    await using ours = await startOurServer();
    try {
      await using ourClient = await RawClient.connect(ours.port);
      await using redisClient = await RawClient.connect(redis.port);
      const requests = [
        ["CONFIG", "GET", "maxclients"],
        ["CONFIG", "GET", "timeout"],
        ["CONFIG", "GET", "tcp-keepalive"],
        ["CONFIG", "GET", "client-output-buffer-limit"],
        ["CONFIG", "GET", "client-query-buffer-limit"],
        ["CONFIG", "GET", "proto-max-bulk-len"],
        ["CONFIG", "SET", "timeout", "30"],
        ["CONFIG", "SET", "timeout", "-1"],
        ["CONFIG", "SET", "tcp-keepalive", "60"],
        ["CONFIG", "SET", "client-output-buffer-limit", "pubsub 64mb 16mb 90"],
        ["CONFIG", "SET", "client-output-buffer-limit", "bogus 1 2 3"],
        ["CONFIG", "SET", "client-output-buffer-limit", "normal 1 2"],
        ["CONFIG", "SET", "client-query-buffer-limit", "2mb"],
        ["CONFIG", "SET", "client-query-buffer-limit", "100"],
        ["CONFIG", "SET", "proto-max-bulk-len", "100mb"],
        ["CONFIG", "SET", "proto-max-bulk-len", "1"],
        ["CONFIG", "SET", "maxclients", "500"],
        ["CONFIG", "SET", "maxclients", "0"],
        ["CONFIG", "GET", "*limit*"],
        ["CONFIG", "GET", "maxclients"],
        ["CONFIG", "GET", "timeout"],
      ];
      for (const request of requests) {
        const ourReply = decodeReply(await ourClient.command(...request));
        const redisReply = decodeReply(await redisClient.command(...request));
        // A glob pattern lists parameters in Redis's hash order: compare the pairs.
        const pairs = (reply: unknown) =>
          Array.isArray(reply)
            ? reply.flatMap((_, i) => i % 2 === 0 ? [`${reply[i]}=${reply[i + 1]}`] : []).sort()
            : reply;
        assert.deepEqual(pairs(ourReply), pairs(redisReply), request.join(" "));
      }
    } finally {
      await redis.stop();
    }
  },
});
