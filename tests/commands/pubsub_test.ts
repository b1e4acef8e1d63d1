/**
 * Pub/Sub over real sockets: what needs more than one connection (the
 * differential corpus has one) — delivery of `message`, `pmessage` and
 * `smessage` to other clients in RESP2 and RESP3, subscriptions ending on
 * RESET and disconnect, a subscriber that stops reading, and a thousand
 * subscribers on one channel.
 *
 * @module
 */

import { query, raw } from "../helpers/test_support.ts";
import assert from "node:assert/strict";
import {
  bytesToLatin1,
  decodeReply,
  encodeCommand,
  LOOPBACK,
  ourServerIsOverridden,
  RawClient,
  type RunningServer,
  sleep,
  startOurServer,
} from "../helpers/servers.ts";

async function next(client: RawClient): Promise<string> {
  return bytesToLatin1(await client.readReply());
}

/** Runs `test` with a fresh server of ours and `count` connections to it. */
async function withClients(
  count: number,
  test: (clients: RawClient[], server: RunningServer) => Promise<void>,
): Promise<void> {
  const server = await startOurServer();
  const clients: RawClient[] = [];
  try {
    for (let i = 0; i < count; i++) clients.push(await RawClient.connect(server.port));
    await test(clients, server);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await server.stop();
  }
}

/** RESP2 encoding of a three-element push or subscription reply. */
function frame(marker: string, ...parts: (string | number | null)[]): string {
  let text = `${marker}${parts.length}\r\n`;
  for (const part of parts) {
    if (part === null) text += marker === ">" ? "_\r\n" : "$-1\r\n";
    else if (typeof part === "number") text += `:${part}\r\n`;
    else text += `$${part.length}\r\n${part}\r\n`;
  }
  return text;
}

const array = (...parts: (string | number | null)[]) => frame("*", ...parts);
const push = (...parts: (string | number | null)[]) => frame(">", ...parts);

Deno.test("SUBSCRIBE and UNSUBSCRIBE confirm every name with the running count", async () => {
  await withClients(1, async ([client]) => {
    await client!.send(encodeCommand(["SUBSCRIBE", "a", "b", "a"]));
    assert.equal(await next(client!), array("subscribe", "a", 1));
    assert.equal(await next(client!), array("subscribe", "b", 2));
    assert.equal(await next(client!), array("subscribe", "a", 2));
    assert.equal(await raw(client!, "PSUBSCRIBE", "a*"), array("psubscribe", "a*", 3));
    await client!.send(encodeCommand(["UNSUBSCRIBE", "b", "never"]));
    assert.equal(await next(client!), array("unsubscribe", "b", 2));
    assert.equal(await next(client!), array("unsubscribe", "never", 2));
    assert.equal(await raw(client!, "UNSUBSCRIBE"), array("unsubscribe", "a", 1));
    assert.equal(await raw(client!, "PUNSUBSCRIBE"), array("punsubscribe", "a*", 0));
    // Nothing left: one confirmation with a null name, for each kind.
    assert.equal(await raw(client!, "UNSUBSCRIBE"), "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
    assert.equal(await raw(client!, "PUNSUBSCRIBE"), array("punsubscribe", null, 0));
    assert.equal(await raw(client!, "SUNSUBSCRIBE"), array("sunsubscribe", null, 0));
    await query(client!, "HELLO", "3");
    assert.equal(await raw(client!, "UNSUBSCRIBE"), push("unsubscribe", null, 0));
  });
});

Deno.test("PUBLISH delivers message and pmessage to other clients and counts deliveries", async () => {
  await withClients(3, async ([first, second, publisher]) => {
    await raw(first!, "SUBSCRIBE", "news.tech");
    await raw(first!, "PSUBSCRIBE", "news.*");
    await second!.send(encodeCommand(["PSUBSCRIBE", "news.[st]*", "*"]));
    assert.equal(await next(second!), array("psubscribe", "news.[st]*", 1));
    assert.equal(await next(second!), array("psubscribe", "*", 2));
    assert.equal(await raw(publisher!, "PUBLISH", "news.tech", "hello"), ":4\r\n");
    assert.equal(await next(first!), array("message", "news.tech", "hello"));
    assert.equal(
      await next(first!),
      "*4\r\n$8\r\npmessage\r\n$6\r\nnews.*\r\n$9\r\nnews.tech\r\n$5\r\nhello\r\n",
    );
    const received = [
      decodeReply(await second!.readReply()),
      decodeReply(await second!.readReply()),
    ];
    assert.deepEqual(received.sort(), [
      ["pmessage", "*", "news.tech", "hello"],
      ["pmessage", "news.[st]*", "news.tech", "hello"],
    ]);
    assert.equal(await raw(publisher!, "PUBLISH", "weather", "rain"), ":1\r\n");
    assert.deepEqual(decodeReply(await second!.readReply()), ["pmessage", "*", "weather", "rain"]);
    assert.equal(await raw(publisher!, "PUBLISH", "nobody", "x"), ":1\r\n");
    await second!.readReply();
    // Binary channel names and messages arrive intact.
    const binary = "\x00\xff\r\n";
    await raw(first!, "SUBSCRIBE", binary);
    assert.equal(await raw(publisher!, "PUBLISH", binary, binary), ":2\r\n");
    assert.equal(await next(first!), array("message", binary, binary));
  });
});

Deno.test("a RESP2 subscriber may only (un)subscribe, PING, QUIT and RESET", async () => {
  await withClients(1, async ([client]) => {
    await raw(client!, "SUBSCRIBE", "c");
    assert.equal(
      await raw(client!, "GET", "k"),
      "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
    );
    assert.equal(await raw(client!, "PING"), array("pong", ""));
    assert.equal(await raw(client!, "PING", "hi"), array("pong", "hi"));
    await raw(client!, "UNSUBSCRIBE");
    assert.equal(await raw(client!, "GET", "k"), "$-1\r\n");
    assert.equal(await raw(client!, "PING"), "+PONG\r\n");
  });
});

Deno.test("RESP3: messages are push frames and every command works while subscribed", async () => {
  await withClients(2, async ([client, publisher]) => {
    await query(client!, "HELLO", "3");
    assert.equal(await raw(client!, "SUBSCRIBE", "c"), push("subscribe", "c", 1));
    assert.equal(await raw(client!, "SET", "k", "v"), "+OK\r\n");
    assert.equal(await raw(client!, "PING"), "+PONG\r\n");
    assert.equal(await raw(publisher!, "PUBLISH", "c", "from outside"), ":1\r\n");
    assert.equal(await next(client!), push("message", "c", "from outside"));
    // Publishing to itself: the push comes before the reply.
    await client!.send(encodeCommand(["PUBLISH", "c", "to myself"]));
    assert.equal(await next(client!), push("message", "c", "to myself"));
    assert.equal(await next(client!), ":1\r\n");
  });
});

Deno.test("PUBSUB CHANNELS, NUMSUB, NUMPAT, SHARDCHANNELS, SHARDNUMSUB and HELP", async () => {
  await withClients(4, async ([first, second, observer, shardSubscriber]) => {
    await raw(first!, "SUBSCRIBE", "alpha", "beta");
    await first!.readReply();
    await raw(second!, "SUBSCRIBE", "alpha");
    await raw(first!, "PSUBSCRIBE", "a*");
    await raw(second!, "PSUBSCRIBE", "a*");
    await second!.send(encodeCommand(["PSUBSCRIBE", "b*", "c*"]));
    await second!.readReply();
    await second!.readReply();
    assert.deepEqual(
      ((await query(observer!, "PUBSUB", "CHANNELS")) as string[]).sort(),
      ["alpha", "beta"],
    );
    assert.deepEqual(await query(observer!, "PUBSUB", "CHANNELS", "b*"), ["beta"]);
    assert.equal(
      await raw(observer!, "PUBSUB", "NUMSUB", "alpha", "beta", "gamma"),
      "*6\r\n$5\r\nalpha\r\n:2\r\n$4\r\nbeta\r\n:1\r\n$5\r\ngamma\r\n:0\r\n",
    );
    assert.equal(await raw(observer!, "PUBSUB", "NUMSUB"), "*0\r\n");
    assert.equal(await raw(observer!, "PUBSUB", "NUMPAT"), ":3\r\n", "distinct patterns");
    assert.equal(
      await raw(observer!, "PUBSUB", "CHANNELS", "a", "b"),
      "-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.\r\n",
    );
    assert.equal(
      await raw(observer!, "PUBSUB", "NUMPAT", "x"),
      "-ERR wrong number of arguments for 'pubsub|numpat' command\r\n",
    );
    assert.equal(
      await raw(observer!, "PUBSUB", "nope"),
      "-ERR unknown subcommand 'nope'. Try PUBSUB HELP.\r\n",
    );
    const help = (await query(observer!, "PUBSUB", "HELP")) as string[];
    assert.equal(help.length, 14);
    assert.equal(help[0], "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");

    await raw(shardSubscriber!, "SSUBSCRIBE", "shard");
    assert.deepEqual(await query(observer!, "PUBSUB", "SHARDCHANNELS"), ["shard"]);
    assert.deepEqual(await query(observer!, "PUBSUB", "SHARDCHANNELS", "x*"), []);
    assert.deepEqual(await query(observer!, "PUBSUB", "SHARDNUMSUB", "shard", "x"), [
      "shard",
      1,
      "x",
      0,
    ]);
  });
});

Deno.test("SSUBSCRIBE, SPUBLISH and SUNSUBSCRIBE keep their own count", async () => {
  await withClients(2, async ([client, publisher]) => {
    await raw(client!, "SUBSCRIBE", "plain");
    assert.equal(await raw(client!, "SSUBSCRIBE", "s1"), array("ssubscribe", "s1", 1));
    assert.equal(await raw(publisher!, "SPUBLISH", "s1", "hi"), ":1\r\n");
    assert.equal(await next(client!), array("smessage", "s1", "hi"));
    assert.equal(await raw(publisher!, "PUBLISH", "s1", "not shard"), ":0\r\n");
    assert.equal(await raw(publisher!, "SPUBLISH", "plain", "not plain"), ":0\r\n");
    await client!.send(encodeCommand(["SUNSUBSCRIBE", "s1", "s2"]));
    assert.equal(await next(client!), array("sunsubscribe", "s1", 0));
    assert.equal(await next(client!), array("sunsubscribe", "s2", 0));
    assert.equal(await raw(client!, "UNSUBSCRIBE"), array("unsubscribe", "plain", 0));
  });
});

Deno.test("RESET and disconnecting end every subscription", async () => {
  await withClients(2, async ([client, observer], server) => {
    await raw(client!, "SUBSCRIBE", "c");
    await raw(client!, "PSUBSCRIBE", "p*");
    await raw(client!, "SSUBSCRIBE", "s");
    assert.equal(await raw(client!, "RESET"), "+RESET\r\n");
    assert.equal(await raw(client!, "GET", "k"), "$-1\r\n", "no longer in subscribed mode");
    assert.deepEqual(await query(observer!, "PUBSUB", "NUMSUB", "c"), ["c", 0]);
    assert.equal(await raw(observer!, "PUBSUB", "NUMPAT"), ":0\r\n");
    assert.deepEqual(await query(observer!, "PUBSUB", "SHARDCHANNELS"), []);

    const leaving = await RawClient.connect(server.port);
    await raw(leaving, "SUBSCRIBE", "c");
    await raw(leaving, "PSUBSCRIBE", "p*");
    assert.equal(await raw(observer!, "PUBLISH", "c", "x"), ":1\r\n");
    await leaving.close();
    await sleep(100);
    assert.equal(await raw(observer!, "PUBLISH", "c", "x"), ":0\r\n");
    assert.equal(await raw(observer!, "PUBSUB", "NUMPAT"), ":0\r\n");
  });
});

Deno.test("1,000 subscribers on one channel all receive a PUBLISH", async () => {
  await withClients(1_001, async ([publisher, ...subscribers]) => {
    await Promise.all(subscribers.map((subscriber) => raw(subscriber, "SUBSCRIBE", "crowd")));
    assert.equal(await raw(publisher!, "PUBLISH", "crowd", "hello all"), ":1000\r\n");
    const received = await Promise.all(subscribers.map((subscriber) => next(subscriber)));
    for (const message of received) assert.equal(message, array("message", "crowd", "hello all"));
  });
});

Deno.test("a subscriber that stops reading is disconnected; the publisher never waits", async () => {
  await withClients(1, async ([publisher], server) => {
    // A raw socket that subscribes and then never reads.
    const stalled = await Deno.connect({ hostname: LOOPBACK, port: server.port });
    try {
      await stalled.write(encodeCommand(["SUBSCRIBE", "flood"]));
      await sleep(100);
      assert.deepEqual(await query(publisher!, "PUBSUB", "NUMSUB", "flood"), ["flood", 1]);
      const rssBefore = Number(
        /used_memory_rss:(\d+)/.exec(String(await query(publisher!, "INFO")))![1],
      );

      const message = "x".repeat(1024 * 1024);
      let published = 0;
      let dropped = false;
      while (!dropped) {
        const receivers = await query(publisher!, "PUBLISH", "flood", message);
        published++;
        dropped = receivers === 0;
        // 32 MB of output plus what the kernel buffers on loopback: far less than this.
        assert.ok(published < 200, "the stalled subscriber was never disconnected");
      }
      assert.ok(published > 8, `disconnected after only ${published} MB`);
      // Publishing goes on, to nobody, without the server growing.
      for (let i = 0; i < 50; i++) {
        assert.equal(await query(publisher!, "PUBLISH", "flood", message), 0);
      }
      const rssAfter = Number(
        /used_memory_rss:(\d+)/.exec(String(await query(publisher!, "INFO")))![1],
      );
      assert.ok(
        rssAfter - rssBefore < 256 * 1024 * 1024,
        `server memory grew by ${rssAfter - rssBefore} bytes`,
      );
      assert.equal(String(await query(publisher!, "CLIENT", "LIST")).trim().split("\n").length, 1);
      if (!ourServerIsOverridden()) {
        assert.match(
          server.stderr(),
          /scheduled to be closed ASAP for overcoming of output buffer limits/,
        );
      }

      // What was already queued still arrives, then the connection ends.
      const buffer = new Uint8Array(1024 * 1024);
      let total = 0;
      for (;;) {
        const count = await stalled.read(buffer);
        if (count === null) break;
        total += count;
      }
      assert.ok(total < 64 * 1024 * 1024, `received ${total} bytes after the limit`);
    } finally {
      stalled.close();
    }
  });
});
