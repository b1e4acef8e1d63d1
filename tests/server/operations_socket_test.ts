/**
 * Operating the server over real sockets: MONITOR, CLIENT PAUSE, CLIENT
 * REPLY, CLIENT TRACKING and INFO's counters between several connections,
 * on an in-process server whose request path calls the operations hooks
 * (see operations_wiring.ts), and INFO's layout against a real
 * redis-server.
 */

import assert from "node:assert/strict";
import { bytesToLatin1, RawClient, sleep, startRedisServer } from "../helpers/servers.ts";
import { raw } from "../helpers/test_support.ts";
import { listeningServer } from "./operations_wiring.ts";

Deno.test("MONITOR over a socket sees another connection's commands in order", async () => {
  const server = await listeningServer();
  const monitor = await RawClient.connect(server.port);
  const client = await RawClient.connect(server.port);
  try {
    assert.equal(await raw(monitor, "MONITOR"), "+OK\r\n");
    await raw(client, "SET", "k", "v");
    await raw(client, "GET", "k");
    const first = bytesToLatin1(await monitor.readReply());
    const second = bytesToLatin1(await monitor.readReply());
    assert.match(first, /^\+\d{10}\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "k" "v"\r\n$/);
    assert.match(second, /^\+\d{10}\.\d{6} \[0 127\.0\.0\.1:\d+\] "GET" "k"\r\n$/);
  } finally {
    await Promise.all([monitor.close(), client.close()]);
    await server.stop();
  }
});

Deno.test("CLIENT PAUSE over sockets: pipelined writes wait, then run in order", async () => {
  const server = await listeningServer();
  const admin = await RawClient.connect(server.port);
  const writer = await RawClient.connect(server.port);
  try {
    assert.equal(await raw(admin, "CLIENT", "PAUSE", "200", "WRITE"), "+OK\r\n");
    const started = Date.now();
    await writer.send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n");
    assert.equal(await raw(admin, "GET", "k"), "$-1\r\n");
    assert.equal(bytesToLatin1(await writer.readReply()), "+OK\r\n");
    assert.equal(bytesToLatin1(await writer.readReply()), ":2\r\n");
    assert.ok(Date.now() - started >= 150, "the writes waited for the pause to end");
  } finally {
    await Promise.all([admin.close(), writer.close()]);
    await server.stop();
  }
});

Deno.test("CLIENT REPLY OFF over a socket: nothing comes back until ON", async () => {
  const server = await listeningServer();
  const client = await RawClient.connect(server.port);
  try {
    await client.send(
      "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n*1\r\n$4\r\nPING\r\n" +
        "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n",
    );
    assert.equal(bytesToLatin1(await client.readReply()), "+OK\r\n");
    assert.equal(await raw(client, "GET", "k"), "$1\r\nv\r\n");
  } finally {
    await client.close();
    await server.stop();
  }
});

Deno.test("CLIENT TRACKING over sockets: RESP3 invalidation pushes reach the reader", async () => {
  const server = await listeningServer();
  const reader = await RawClient.connect(server.port);
  const writer = await RawClient.connect(server.port);
  try {
    await raw(reader, "HELLO", "3");
    assert.equal(
      await raw(reader, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:"),
      "+OK\r\n",
    );
    await raw(writer, "SET", "user:1", "ada");
    await raw(writer, "SET", "other", "x");
    assert.equal(
      bytesToLatin1(await reader.readReply()),
      ">2\r\n$10\r\ninvalidate\r\n*1\r\n$6\r\nuser:1\r\n",
    );
    assert.equal(await raw(reader, "CLIENT", "TRACKING", "OFF"), "+OK\r\n");
    await raw(writer, "SET", "user:2", "bob");
    assert.equal(await raw(reader, "PING"), "+PONG\r\n");
  } finally {
    await Promise.all([reader.close(), writer.close()]);
    await server.stop();
  }
});

Deno.test("INFO counts over sockets: ops per second, net bytes, commandstats", async () => {
  const server = await listeningServer();
  const client = await RawClient.connect(server.port);
  try {
    for (let round = 0; round < 20; round++) {
      let batch = "";
      for (let i = 0; i < 50; i++) batch += "*1\r\n$4\r\nPING\r\n";
      await client.send(batch);
      for (let i = 0; i < 50; i++) await client.readReply();
      await sleep(20);
    }
    const info = await raw(client, "INFO", "all");
    const ops = Number(/instantaneous_ops_per_sec:(\d+)/.exec(info)![1]);
    assert.ok(ops > 100, `instantaneous_ops_per_sec ${ops}`);
    assert.match(info, /cmdstat_ping:calls=1000,/);
    assert.ok(Number(/total_net_input_bytes:(\d+)/.exec(info)![1]) >= 14000);
    assert.match(info, /used_cpu_user:\d+\.\d{6}\r\n/);
    assert.match(info, /latency_percentiles_usec_ping:p50=/);
  } finally {
    await client.close();
    await server.stop();
  }
});

/** Section names and field names of an INFO reply (raw RESP), in order. */
function layout(reply: string): string[] {
  const info = reply.slice(reply.indexOf("\r\n") + 2);
  return info.split("\r\n").filter((line) => line !== "").map((line) =>
    line.startsWith("#") ? line : line.slice(0, line.indexOf(":"))
  );
}

Deno.test("INFO everything has every section and field redis-server 7.0 prints, in its order", async () => {
  const redis = await startRedisServer();
  if (redis === undefined) {
    console.warn("redis-server not installed: SKIPPING the INFO layout comparison");
    return;
  }
  const server = await listeningServer();
  const ours = await RawClient.connect(server.port);
  const theirs = await RawClient.connect(redis.port);
  try {
    for (const client of [ours, theirs]) {
      await raw(client, "SET", "k", "v");
      await raw(client, "INCR", "k");
    }
    const expected = layout(await raw(theirs, "INFO", "everything"))
      .filter((field) => !field.startsWith("cmdstat_") && !field.startsWith("latency_percentiles"));
    const actual = layout(await raw(ours, "INFO", "everything"));
    // Every field of Redis's, in Redis's order (ours adds a few of its own to # Server).
    const missing = expected.filter((field) => !actual.includes(field));
    assert.deepEqual(missing, []);
    const ordered = actual.filter((field) => expected.includes(field));
    assert.deepEqual(ordered, expected);
    assert.deepEqual(
      layout(await raw(ours, "INFO")).filter((line) => line.startsWith("#")),
      layout(await raw(theirs, "INFO")).filter((line) => line.startsWith("#")),
    );
    assert.equal(await raw(ours, "INFO", "bogus"), await raw(theirs, "INFO", "bogus"));
  } finally {
    await Promise.all([ours.close(), theirs.close()]);
    await Promise.all([server.stop(), redis.stop()]);
  }
});
