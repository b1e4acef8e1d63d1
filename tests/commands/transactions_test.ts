/**
 * MULTI, EXEC, DISCARD, WATCH and UNWATCH over real sockets: what the
 * differential corpus (one connection, no clock) cannot show — WATCH
 * invalidated by other connections, by expiry and by FLUSHDB/SWAPDB, RESET
 * and disconnects, blocking commands inside EXEC, a 10,000-command
 * pipelined transaction, and how a transaction reaches the AOF.
 *
 * @module
 */

import { parseAof, query, raw } from "../helpers/test_support.ts";
import assert from "node:assert/strict";
import {
  bytesToLatin1,
  decodeReply,
  encodeCommand,
  RawClient,
  type ReplyValue,
  type RunningServer,
  sleep,
  startOurServer,
} from "../helpers/servers.ts";

/** Runs `test` with two connections to a fresh server of ours. */
async function withTwoClients(
  test: (first: RawClient, second: RawClient, server: RunningServer) => Promise<void>,
  options: { args?: string[]; dir?: string } = {},
): Promise<void> {
  const server = await startOurServer(options);
  const first = await RawClient.connect(server.port);
  const second = await RawClient.connect(server.port);
  try {
    await test(first, second, server);
  } finally {
    await first.close();
    await second.close();
    await server.stop();
  }
}

/** MULTI, the queued commands, EXEC: returns EXEC's raw reply. */
async function transaction(client: RawClient, ...commands: string[][]): Promise<string> {
  assert.equal(await raw(client, "MULTI"), "+OK\r\n");
  for (const command of commands) assert.equal(await raw(client, ...command), "+QUEUED\r\n");
  return await raw(client, "EXEC");
}

const NULL_ARRAY = "*-1\r\n";
const PONG_ONLY = "*1\r\n+PONG\r\n";

Deno.test("MULTI queues, EXEC runs in order and keeps going after a runtime error", async () => {
  await withTwoClients(async (client) => {
    assert.equal(await raw(client, "SET", "text", "abc"), "+OK\r\n");
    assert.equal(
      await transaction(client, ["SET", "a", "1"], ["INCR", "text"], ["INCR", "a"], ["GET", "a"]),
      "*4\r\n+OK\r\n-ERR value is not an integer or out of range\r\n:2\r\n$1\r\n2\r\n",
    );
    assert.equal(await raw(client, "EXEC"), "-ERR EXEC without MULTI\r\n");
    assert.equal(await raw(client, "DISCARD"), "-ERR DISCARD without MULTI\r\n");
    assert.equal(await transaction(client), "*0\r\n");
  });
});

Deno.test("an error while queuing aborts EXEC; nested MULTI and WATCH inside MULTI do not", async () => {
  await withTwoClients(async (client) => {
    assert.equal(await raw(client, "MULTI"), "+OK\r\n");
    assert.equal(await raw(client, "MULTI"), "-ERR MULTI calls can not be nested\r\n");
    assert.equal(await raw(client, "WATCH", "x"), "-ERR WATCH inside MULTI is not allowed\r\n");
    assert.equal(await raw(client, "SET", "x", "1"), "+QUEUED\r\n");
    assert.equal(await raw(client, "EXEC"), "*1\r\n+OK\r\n");

    assert.equal(await raw(client, "MULTI"), "+OK\r\n");
    assert.equal(await raw(client, "SET", "y", "1"), "+QUEUED\r\n");
    assert.equal(
      await raw(client, "NOSUCH", "arg"),
      "-ERR unknown command 'NOSUCH', with args beginning with: 'arg' \r\n",
    );
    assert.equal(await raw(client, "GET"), "-ERR wrong number of arguments for 'get' command\r\n");
    assert.equal(
      await raw(client, "EXEC"),
      "-EXECABORT Transaction discarded because of previous errors.\r\n",
    );
    assert.equal(await raw(client, "EXISTS", "y"), ":0\r\n");
  });
});

Deno.test("DISCARD drops the queue and the watches", async () => {
  await withTwoClients(async (client, other) => {
    assert.equal(await raw(client, "WATCH", "k"), "+OK\r\n");
    assert.equal(await raw(client, "MULTI"), "+OK\r\n");
    assert.equal(await raw(client, "SET", "queued", "1"), "+QUEUED\r\n");
    assert.equal(await raw(client, "DISCARD"), "+OK\r\n");
    assert.equal(await raw(client, "EXISTS", "queued"), ":0\r\n");
    await raw(other, "SET", "k", "changed");
    assert.equal(await transaction(client, ["PING"]), PONG_ONLY);
  });
});

Deno.test("WATCH: a change by another connection makes EXEC return a null array", async () => {
  await withTwoClients(async (client, other) => {
    await raw(client, "SET", "balance", "10");
    assert.equal(await raw(client, "WATCH", "balance", "other", "balance"), "+OK\r\n");
    assert.equal(await raw(other, "INCRBY", "balance", "5"), ":15\r\n");
    assert.equal(await transaction(client, ["SET", "balance", "0"]), NULL_ARRAY);
    assert.equal(await raw(client, "GET", "balance"), "$2\r\n15\r\n");
    // EXEC ended the watch: the next transaction runs.
    await raw(other, "INCRBY", "balance", "5");
    assert.equal(await transaction(client, ["GET", "balance"]), "*1\r\n$2\r\n20\r\n");

    // RESP3 spells the aborted EXEC as a null.
    await query(client, "HELLO", "3");
    await raw(client, "WATCH", "balance");
    await raw(other, "SET", "balance", "1");
    assert.equal(await transaction(client, ["PING"]), "_\r\n");
  });
});

Deno.test("WATCH: commands that change nothing do not invalidate; own changes do", async () => {
  await withTwoClients(async (client, other) => {
    await raw(other, "SET", "present", "v");
    await raw(client, "WATCH", "absent", "present");
    assert.equal(await raw(other, "DEL", "absent"), ":0\r\n");
    assert.equal(await raw(other, "PERSIST", "present"), ":0\r\n");
    assert.equal(await raw(other, "GET", "present"), "$1\r\nv\r\n");
    assert.equal(await raw(other, "SET", "unrelated", "v"), "+OK\r\n");
    assert.equal(await transaction(client, ["PING"]), PONG_ONLY);

    await raw(client, "WATCH", "present");
    await raw(client, "SET", "present", "v");
    assert.equal(await transaction(client, ["PING"]), NULL_ARRAY, "same value still counts");
  });
});

Deno.test("WATCH: a key of another database, and UNWATCH", async () => {
  await withTwoClients(async (client, other) => {
    await raw(client, "SELECT", "2");
    await raw(client, "WATCH", "k");
    await raw(client, "SELECT", "0");
    await raw(other, "SET", "k", "db0");
    assert.equal(await transaction(client, ["PING"]), PONG_ONLY, "db 0's k is another key");

    await raw(client, "SELECT", "2");
    await raw(client, "WATCH", "k");
    await raw(client, "SELECT", "0");
    await raw(other, "SELECT", "2");
    await raw(other, "SET", "k", "db2");
    assert.equal(await transaction(client, ["PING"]), NULL_ARRAY);

    await raw(client, "WATCH", "k");
    await raw(other, "SELECT", "0");
    await raw(other, "SET", "k", "again");
    assert.equal(await raw(client, "UNWATCH"), "+OK\r\n");
    assert.equal(await transaction(client, ["PING"]), PONG_ONLY);
  });
});

Deno.test("WATCH: a key that expires while watched fails EXEC; one already expired does not", async () => {
  await withTwoClients(async (client, other) => {
    await raw(other, "SET", "short", "v", "PX", "100");
    await raw(client, "WATCH", "short");
    await sleep(250);
    assert.equal(await transaction(client, ["PING"]), NULL_ARRAY);

    await raw(other, "SET", "gone", "v", "PX", "1");
    await sleep(5);
    await raw(client, "WATCH", "gone");
    // Reading it removes it, which is no change for a watcher that saw it expired.
    assert.equal(await raw(other, "GET", "gone"), "$-1\r\n");
    assert.equal(await transaction(client, ["PING"]), PONG_ONLY);

    await raw(other, "SET", "gone", "v", "PX", "1");
    await sleep(5);
    await raw(client, "WATCH", "gone");
    await raw(other, "SET", "gone", "new");
    assert.equal(await transaction(client, ["PING"]), NULL_ARRAY);
  });
});

Deno.test("WATCH: FLUSHDB, FLUSHALL and SWAPDB fail only watchers of keys they change", async () => {
  await withTwoClients(async (client, other) => {
    await raw(client, "WATCH", "absent");
    await raw(other, "SET", "other", "v");
    await raw(other, "FLUSHDB");
    assert.equal(await transaction(client, ["PING"]), PONG_ONLY);

    await raw(other, "SET", "present", "v");
    await raw(client, "WATCH", "present");
    await raw(other, "FLUSHDB");
    assert.equal(await transaction(client, ["PING"]), NULL_ARRAY);

    await raw(other, "SET", "present", "v");
    await raw(client, "WATCH", "present");
    await raw(other, "FLUSHALL");
    assert.equal(await transaction(client, ["PING"]), NULL_ARRAY);

    await raw(client, "WATCH", "nowhere");
    await raw(other, "SWAPDB", "0", "1");
    assert.equal(await transaction(client, ["PING"]), PONG_ONLY);

    await raw(other, "SELECT", "1");
    await raw(other, "SET", "incoming", "v");
    await raw(client, "WATCH", "incoming");
    await raw(other, "SWAPDB", "0", "1");
    assert.equal(await transaction(client, ["PING"]), NULL_ARRAY, "swapped in from db 1");
  });
});

Deno.test("RESET and disconnecting end watches and transactions", async () => {
  await withTwoClients(async (client, other, server) => {
    await raw(client, "WATCH", "k");
    await raw(client, "MULTI");
    await raw(client, "SET", "k", "queued");
    assert.equal(await raw(client, "RESET"), "+RESET\r\n");
    await raw(other, "SET", "k", "changed");
    assert.equal(await raw(client, "EXEC"), "-ERR EXEC without MULTI\r\n");
    assert.equal(await transaction(client, ["GET", "k"]), "*1\r\n$7\r\nchanged\r\n");

    const leaving = await RawClient.connect(server.port);
    await raw(leaving, "WATCH", "k", "j");
    await raw(leaving, "MULTI");
    await leaving.close();
    await sleep(100);
    // The server forgot the watcher: changes to its keys still work.
    assert.equal(await raw(other, "SET", "k", "after"), "+OK\r\n");
    assert.equal(String(await query(other, "CLIENT", "LIST")).trim().split("\n").length, 2);
  });
});

Deno.test("a pipelined transaction of 10,000 commands runs whole", async () => {
  await withTwoClients(async (client) => {
    const count = 10_000;
    const requests = [encodeCommand(["MULTI"])];
    for (let i = 0; i < count; i++) requests.push(encodeCommand(["INCR", "counter"]));
    requests.push(encodeCommand(["EXEC"]), encodeCommand(["GET", "counter"]));
    const size = requests.reduce((total, request) => total + request.byteLength, 0);
    const pipeline = new Uint8Array(size);
    let offset = 0;
    for (const request of requests) {
      pipeline.set(request, offset);
      offset += request.byteLength;
    }
    await client.send(pipeline);
    assert.equal(bytesToLatin1(await client.readReply()), "+OK\r\n");
    for (let i = 0; i < count; i++) {
      assert.equal(bytesToLatin1(await client.readReply()), "+QUEUED\r\n");
    }
    const exec = decodeReply(await client.readReply()) as ReplyValue[];
    assert.equal(exec.length, count);
    assert.equal(exec[0], 1);
    assert.equal(exec[count - 1], count);
    assert.equal(decodeReply(await client.readReply()), String(count));
  });
});

Deno.test("the AOF gets a transaction as one MULTI/EXEC block, as Redis 7.0 writes it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "transactions_aof_" });
  try {
    await withTwoClients(async (client) => {
      await transaction(client, ["SET", "a", "1"], ["GET", "a"], ["SET", "b", "2"]);
      await transaction(client, ["GET", "a"], ["DEL", "nothing"]);
      await transaction(client, ["SET", "single", "1"], ["DEL", "nothing"]);
      await transaction(client, ["SELECT", "3"], ["SET", "c", "3"], ["INCR", "c"]);
    }, { dir, args: ["--appendonly", "yes", "--appendfsync", "always"] });
    const commands = parseAof(await Deno.readFile(`${dir}/database.aof`))
      .map((args) => args.join(" "));
    assert.deepEqual(commands, [
      "SELECT 0",
      "MULTI",
      "SET a 1",
      "SET b 2",
      "EXEC",
      "SET single 1",
      "SELECT 3",
      "MULTI",
      "SET c 3",
      "INCR c",
      "EXEC",
    ]);

    // The file loads back.
    const server = await startOurServer({ dir, args: ["--appendonly", "yes"] });
    const client = await RawClient.connect(server.port);
    try {
      assert.deepEqual(await query(client, "MGET", "a", "b", "single"), ["1", "2", "1"]);
      await raw(client, "SELECT", "3");
      assert.equal(await raw(client, "GET", "c"), "$1\r\n4\r\n");
    } finally {
      await client.close();
      await server.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("blocking commands inside EXEC do not block; a push in EXEC wakes a blocked client", async () => {
  await withTwoClients(async (client, other) => {
    assert.equal(
      await transaction(client, ["BLPOP", "empty", "0"], ["SET", "after", "1"]),
      "*2\r\n*-1\r\n+OK\r\n",
    );

    await other.send(encodeCommand(["BLPOP", "queue", "0"]));
    await sleep(50);
    assert.equal(
      await transaction(client, ["RPUSH", "queue", "a", "b"], ["LLEN", "queue"]),
      "*2\r\n:2\r\n:2\r\n",
      "the blocked client is served only after EXEC",
    );
    assert.deepEqual(decodeReply(await other.readReply()), ["queue", "a"]);
    assert.equal(await raw(client, "LRANGE", "queue", "0", "-1"), "*1\r\n$1\r\nb\r\n");
  });
});
