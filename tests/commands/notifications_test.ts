/**
 * Keyspace notifications: the `notify-keyspace-events` flag letters, and
 * the `__keyspace@<db>__` / `__keyevent@<db>__` messages a subscriber gets
 * for commands and for expiry, over real sockets.
 *
 * @module
 */

import { query } from "../helpers/test_support.ts";
import assert from "node:assert/strict";
import {
  formatNotifyFlags,
  INVALID_NOTIFY_FLAGS,
  parseNotifyFlags,
} from "../../src/notify_flags.ts";
import { decodeReply, RawClient, type RunningServer, startOurServer } from "../helpers/servers.ts";

/** Runs `test` with a subscriber to every notification and a client making changes. */
async function withSubscriber(
  args: string[],
  test: (changer: RawClient, subscriber: RawClient, server: RunningServer) => Promise<void>,
): Promise<void> {
  const server = await startOurServer({ args });
  const changer = await RawClient.connect(server.port);
  const subscriber = await RawClient.connect(server.port);
  try {
    await query(subscriber, "PSUBSCRIBE", "__key*__:*");
    await test(changer, subscriber, server);
  } finally {
    await changer.close();
    await subscriber.close();
    await server.stop();
  }
}

/** The [channel, message] of every notification that arrives within `timeoutMs`. */
async function received(subscriber: RawClient, timeoutMs = 150): Promise<[string, string][]> {
  const messages: [string, string][] = [];
  for (;;) {
    let reply;
    try {
      reply = decodeReply(await subscriber.readReply(timeoutMs)) as string[];
    } catch {
      return messages;
    }
    assert.equal(reply[0], "pmessage");
    messages.push([reply[2]!, reply[3]!]);
  }
}

Deno.test("notify-keyspace-events letters parse and print as Redis does", () => {
  const canonical = (text: string) => formatNotifyFlags(parseNotifyFlags(text)!);
  assert.equal(canonical(""), "");
  assert.equal(canonical("KEA"), "AKE");
  assert.equal(canonical("Ksg"), "gsK");
  assert.equal(canonical("AKE$lshzxetmd"), "AKEm");
  assert.equal(canonical("KEn"), "nKE");
  assert.equal(canonical("Kgn"), "gnK");
  assert.equal(canonical("Eg$lshzxetd"), "AE", "every class spelled out is A");
  assert.equal(canonical("E$lshzxetd"), "$lshzxetdE");
  assert.equal(parseNotifyFlags("xyz"), undefined);
  assert.equal(parseNotifyFlags("KE "), undefined);
  assert.equal(INVALID_NOTIFY_FLAGS, "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
});

Deno.test("KEA: keyspace and keyevent messages for commands, in every database", async () => {
  await withSubscriber(["--notify-keyspace-events", "KEA"], async (changer, subscriber) => {
    await query(changer, "SET", "k", "v");
    await query(changer, "EXPIRE", "k", "100");
    await query(changer, "DEL", "k", "missing");
    await query(changer, "SELECT", "3");
    await query(changer, "HSET", "h", "f", "v");
    assert.deepEqual(await received(subscriber), [
      ["__keyspace@0__:k", "set"],
      ["__keyevent@0__:set", "k"],
      ["__keyspace@0__:k", "expire"],
      ["__keyevent@0__:expire", "k"],
      ["__keyspace@0__:k", "del"],
      ["__keyevent@0__:del", "k"],
      ["__keyspace@3__:h", "hset"],
      ["__keyevent@3__:hset", "h"],
    ]);
  });
});

Deno.test("expiry is notified as `expired`, in class x", async () => {
  await withSubscriber(["--notify-keyspace-events", "Ex"], async (changer, subscriber) => {
    await query(changer, "SET", "short", "v", "PX", "20");
    // The active expiry cycle removes it without anyone reading it.
    assert.deepEqual(await received(subscriber, 500), [["__keyevent@0__:expired", "short"]]);
  });
});

Deno.test("the flags select classes and channel kinds; CONFIG SET changes them at run time", async () => {
  await withSubscriber([], async (changer, subscriber) => {
    await query(changer, "SET", "quiet", "v");
    assert.deepEqual(await received(subscriber), [], "off by default");

    assert.equal(await query(changer, "CONFIG", "SET", "notify-keyspace-events", "Kg"), "OK");
    await query(changer, "SET", "k", "v");
    await query(changer, "DEL", "k");
    assert.deepEqual(await received(subscriber), [["__keyspace@0__:k", "del"]]);

    assert.equal(await query(changer, "CONFIG", "SET", "notify-keyspace-events", "E$"), "OK");
    await query(changer, "SET", "k", "v");
    await query(changer, "DEL", "k");
    assert.deepEqual(await received(subscriber), [["__keyevent@0__:set", "k"]]);

    assert.equal(await query(changer, "CONFIG", "SET", "notify-keyspace-events", "K"), "OK");
    await query(changer, "SET", "k", "v");
    assert.deepEqual(await received(subscriber), [], "K without a class selects nothing");
  });
});

Deno.test("CONFIG SET notify-keyspace-events rejects unknown letters and reads back canonically", async () => {
  await withSubscriber([], async (changer) => {
    assert.deepEqual(await query(changer, "CONFIG", "SET", "notify-keyspace-events", "xyz"), {
      error:
        "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
    });
    assert.equal(await query(changer, "CONFIG", "SET", "notify-keyspace-events", "KEA"), "OK");
    assert.deepEqual(await query(changer, "CONFIG", "GET", "notify-keyspace-events"), [
      "notify-keyspace-events",
      "AKE",
    ]);
  });
});
