import assert from "node:assert/strict";
import { bytesToLatin1, decodeReply, RawClient, startOurServer } from "../helpers/servers.ts";

const text = (bytes: Uint8Array) => bytesToLatin1(bytes);

Deno.test("CLIENT SETINFO is accepted (as in Redis 7.2) and shows in CLIENT INFO", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  assert.equal(text(await client.command("CLIENT", "SETINFO", "lib-name", "ioredis")), "+OK\r\n");
  assert.equal(text(await client.command("CLIENT", "SETINFO", "LIB-VER", "6.0.0")), "+OK\r\n");
  assert.equal(
    text(await client.command("CLIENT", "SETINFO", "lib-name", "a b")),
    "-ERR lib-name cannot contain spaces, newlines or special characters.\r\n",
  );
  assert.equal(
    text(await client.command("CLIENT", "SETINFO", "other", "x")),
    "-ERR Unrecognized option 'other'\r\n",
  );
  const info = String(decodeReply(await client.command("CLIENT", "INFO")));
  assert.match(info, /lib-name=ioredis lib-ver=6\.0\.0/);
  assert.match(info, /^id=\d+ addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:\d+ /);
});

Deno.test("CLIENT SETNAME/GETNAME/ID and unknown subcommands", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  assert.equal(text(await client.command("CLIENT", "GETNAME")), "$-1\r\n");
  assert.equal(text(await client.command("CLIENT", "SETNAME", "worker-1")), "+OK\r\n");
  assert.equal(text(await client.command("CLIENT", "GETNAME")), "$8\r\nworker-1\r\n");
  assert.equal(
    text(await client.command("CLIENT", "SETNAME", "has space")),
    "-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
  );
  assert.match(text(await client.command("CLIENT", "ID")), /^:\d+\r\n$/);
  assert.equal(
    text(await client.command("CLIENT", "NOSUCH")),
    "-ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP.\r\n",
  );
  assert.equal(
    text(await client.command("CLIENT", "SETNAME")),
    "-ERR wrong number of arguments for 'client|setname' command\r\n",
  );
  // The connection survives every one of those errors.
  assert.equal(text(await client.command("PING")), "+PONG\r\n");
});

Deno.test("RESET returns the connection to its initial state", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await client.command("HELLO", "3", "SETNAME", "x");
  await client.command("SELECT", "3");
  assert.equal(text(await client.command("RESET")), "+RESET\r\n");
  assert.equal(text(await client.command("CLIENT", "GETNAME")), "$-1\r\n");
  assert.equal(text(await client.command("GET", "missing")), "$-1\r\n");
  assert.match(String(decodeReply(await client.command("CLIENT", "INFO"))), / db=0 .* resp=2/);
});

Deno.test("INFO sections, CONFIG GET patterns and COMMAND from the table", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await client.command("SET", "k", "v");
  const info = String(decodeReply(await client.command("INFO")));
  for (const section of ["Server", "Clients", "Memory", "Persistence", "Stats", "Keyspace"]) {
    assert.match(info, new RegExp(`# ${section}\r\n`));
  }
  assert.match(info, /\r\nloading:0\r\n/);
  assert.match(info, /\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n/);
  assert.match(info, new RegExp(`\r\ntcp_port:${server.port}\r\n`));
  const keyspaceOnly = String(decodeReply(await client.command("INFO", "keyspace")));
  assert.equal(keyspaceOnly, "# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n");

  assert.deepEqual(decodeReply(await client.command("CONFIG", "GET", "appendfsync")), [
    "appendfsync",
    "everysec",
  ]);
  const many = decodeReply(await client.command("CONFIG", "GET", "append*", "port")) as string[];
  assert.deepEqual(
    many.filter((_, i) => i % 2 === 0).sort(),
    ["appenddirname", "appendfilename", "appendfsync", "appendonly", "port"],
  );
  assert.equal(text(await client.command("CONFIG", "SET", "appendfsync", "always")), "+OK\r\n");
  assert.deepEqual(decodeReply(await client.command("CONFIG", "GET", "appendfsync")), [
    "appendfsync",
    "always",
  ]);

  const count = decodeReply(await client.command("COMMAND", "COUNT")) as number;
  assert.ok(count >= 40, `COMMAND COUNT ${count}`);
  const [get] = decodeReply(await client.command("COMMAND", "INFO", "get")) as unknown[][];
  assert.deepEqual(get!.slice(0, 6), ["get", 2, ["readonly", "fast"], 1, 1, 1]);
  const docs = decodeReply(await client.command("COMMAND", "DOCS", "set")) as unknown[];
  assert.equal(docs[0], "set");
  assert.deepEqual(
    decodeReply(await client.command("COMMAND", "GETKEYS", "SET", "a", "b")),
    ["a"],
  );
});
