import assert from "node:assert/strict";
import { bytesToLatin1, RawClient, sleep, startOurServer } from "../helpers/servers.ts";

const text = (bytes: Uint8Array) => bytesToLatin1(bytes);

Deno.test("connection: inline commands with quoting, as typed over telnet", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await client.send("PING\r\nSET greeting \"hello world\"\r\nGET greeting\nECHO 'a b'\r\n");
  const received = text(await client.readAll(500));
  assert.equal(received, "+PONG\r\n+OK\r\n$11\r\nhello world\r\n$3\r\na b\r\n");
});

Deno.test("connection: a pipeline's replies come back in order", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  let pipeline = "";
  let expected = "";
  for (let i = 0; i < 500; i++) {
    pipeline += `*3\r\n$3\r\nSET\r\n$${String(i).length}\r\n${i}\r\n$1\r\nv\r\n`;
    pipeline += `*2\r\n$3\r\nGET\r\n$${String(i).length}\r\n${i}\r\n`;
    expected += "+OK\r\n$1\r\nv\r\n";
  }
  await client.send(pipeline);
  let received = "";
  while (received.length < expected.length) received += text(await client.readAll(300));
  assert.equal(received, expected);
});

Deno.test("connection: a request split at every byte over TCP still parses", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  const request = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n";
  for (const char of request) {
    await client.send(char);
    await sleep(1);
  }
  assert.equal(text(await client.readReply()), "+OK\r\n");
  assert.equal(text(await client.command("GET", "k")), "$4\r\na\r\nb\r\n");
});

Deno.test("connection: binary keys and values round-trip byte for byte", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  const key = new Uint8Array([0, 1, 255, 13, 10]);
  const value = new Uint8Array(Array.from({ length: 256 }, (_, i) => i));
  assert.equal(text(await client.command("SET", key, value)), "+OK\r\n");
  const reply = await client.command("GET", key);
  assert.deepEqual([...reply.subarray(6, 6 + 256)], [...value]);
  assert.equal(text(reply.subarray(0, 6)), "$256\r\n");
});

for (
  const [name, input, error] of [
    ["invalid multibulk length", "*x\r\n", "-ERR Protocol error: invalid multibulk length\r\n"],
    ["invalid bulk length", "*1\r\n$x\r\n", "-ERR Protocol error: invalid bulk length\r\n"],
    ["expected '$'", "*1\r\n+PING\r\n", "-ERR Protocol error: expected '$', got '+'\r\n"],
    ["unbalanced quotes", 'SET a "b\r\n', "-ERR Protocol error: unbalanced quotes in request\r\n"],
  ]
) {
  Deno.test(`connection: protocol error (${name}) is answered, then the connection closes`, async () => {
    await using server = await startOurServer();
    await using client = await RawClient.connect(server.port);
    await client.send("PING\r\n" + input + "PING\r\n");
    assert.equal(text(await client.readAll(500)), "+PONG\r\n" + error);
    assert.equal(await client.isClosed(2000), true);
    // The server itself is fine.
    await using other = await RawClient.connect(server.port);
    assert.equal(text(await other.command("PING")), "+PONG\r\n");
  });
}

Deno.test("connection: HELLO switches protocol; replies change shape", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await client.command("HSET", "h", "f", "v");
  assert.equal(text(await client.command("HGETALL", "h")), "*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
  assert.equal(text(await client.command("GET", "none")), "$-1\r\n");
  const hello = text(await client.command("HELLO", "3"));
  assert.match(
    hello,
    /^%7\r\n\$6\r\nserver\r\n\$5\r\nredis\r\n\$7\r\nversion\r\n\$6\r\n7\.0\.15\r\n\$5\r\nproto\r\n:3\r\n/,
  );
  assert.equal(text(await client.command("HGETALL", "h")), "%1\r\n$1\r\nf\r\n$1\r\nv\r\n");
  assert.equal(text(await client.command("GET", "none")), "_\r\n");
  assert.equal(
    text(await client.command("HELLO", "4")),
    "-NOPROTO unsupported protocol version\r\n",
  );
  assert.match(text(await client.command("HELLO", "2")), /^\*14\r\n/);
});

Deno.test("connection: QUIT replies OK and closes", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  assert.equal(text(await client.command("QUIT")), "+OK\r\n");
  assert.equal(await client.isClosed(2000), true);
});

Deno.test("connection: SELECT isolates databases", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await client.command("SET", "k", "db0");
  assert.equal(text(await client.command("SELECT", "5")), "+OK\r\n");
  assert.equal(text(await client.command("GET", "k")), "$-1\r\n");
  assert.equal(text(await client.command("SELECT", "16")), "-ERR DB index is out of range\r\n");
  await client.command("SELECT", "0");
  assert.equal(text(await client.command("GET", "k")), "$3\r\ndb0\r\n");
});
