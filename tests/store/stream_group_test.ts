/**
 * Tests for consumer groups: consumers, PELs and their moves, XPENDING's
 * queries, copies, and the entries-read and lag bookkeeping, which a seeded
 * random walk replays on a real redis-server and compares with XINFO GROUPS.
 */

import assert from "node:assert/strict";
import { Stream } from "../../src/store/stream.ts";
import { ConsumerGroup, INVALID_ENTRIES_READ } from "../../src/store/stream_group.ts";
import {
  formatStreamId,
  MAX_STREAM_ID,
  MIN_STREAM_ID,
  nextStreamId,
  type StreamId,
  streamId,
} from "../../src/store/stream_id.ts";
import {
  decodeReply,
  latin1Bytes,
  RawClient,
  type ReplyValue,
  startRedisServer,
} from "../helpers/servers.ts";
import { seededRandom } from "../helpers/test_support.ts";

function pendingIds(group: ConsumerGroup, consumerName?: string): string[] {
  const index = consumerName === undefined ? group.pending : group.consumer(consumerName)!.pending;
  return [...index.keys()].map(formatStreamId);
}

Deno.test("consumers are created once, found by name and listed in name order", () => {
  const group = new ConsumerGroup("g", MIN_STREAM_ID, 0);
  assert.equal(group.consumer("bob"), undefined);
  const bob = group.createConsumer("bob", 10)!;
  assert.equal(bob.seenTime, 10);
  assert.equal(group.createConsumer("bob", 20), undefined);
  group.createConsumer("alice", 30);
  group.createConsumer("\xff", 30);
  group.createConsumer("Zed", 30);
  assert.equal(group.consumer("bob"), bob);
  assert.equal(group.consumerCount, 4);
  assert.deepEqual(group.consumers().map((consumer) => consumer.name), [
    "Zed",
    "alice",
    "bob",
    "\xff",
  ]);
});

Deno.test("deliver adds an entry to both PELs, and redelivery moves it with count 1", () => {
  const group = new ConsumerGroup("g", MIN_STREAM_ID, 0);
  const alice = group.createConsumer("alice", 0)!;
  const bob = group.createConsumer("bob", 0)!;
  const entry = group.deliver(streamId(1, 0), alice, 100);
  assert.equal(entry.deliveryCount, 1);
  assert.equal(entry.deliveryTime, 100);
  assert.equal(entry.consumer, alice);
  entry.deliveryCount = 5;
  const again = group.deliver(streamId(1, 0), bob, 200);
  assert.equal(again, entry, "the same pending entry");
  assert.equal(again.deliveryCount, 1);
  assert.equal(again.deliveryTime, 200);
  assert.equal(again.consumer, bob);
  assert.deepEqual(pendingIds(group, "alice"), []);
  assert.deepEqual(pendingIds(group, "bob"), ["1-0"]);
  assert.deepEqual(pendingIds(group), ["1-0"]);
});

Deno.test("assign moves a pending entry between consumer PELs", () => {
  const group = new ConsumerGroup("g", MIN_STREAM_ID, 0);
  const alice = group.createConsumer("alice", 0)!;
  const bob = group.createConsumer("bob", 0)!;
  for (let i = 1; i <= 5; i++) group.deliver(streamId(i, 0), alice, i);
  group.assign(group.pending.get(streamId(3, 0))!, bob);
  group.assign(group.pending.get(streamId(3, 0))!, bob);
  assert.deepEqual(pendingIds(group, "alice"), ["1-0", "2-0", "4-0", "5-0"]);
  assert.deepEqual(pendingIds(group, "bob"), ["3-0"]);
  assert.equal(group.pending.get(streamId(3, 0))!.consumer, bob);
  assert.equal(group.pending.size, 5);
});

Deno.test("acknowledge removes from both PELs, once", () => {
  const group = new ConsumerGroup("g", MIN_STREAM_ID, 0);
  const alice = group.createConsumer("alice", 0)!;
  group.deliver(streamId(1, 0), alice, 0);
  group.deliver(streamId(2, 0), alice, 0);
  assert.equal(group.acknowledge(streamId(1, 0)), true);
  assert.equal(group.acknowledge(streamId(1, 0)), false);
  assert.equal(group.acknowledge(streamId(9, 0)), false);
  assert.deepEqual(pendingIds(group), ["2-0"]);
  assert.deepEqual(pendingIds(group, "alice"), ["2-0"]);
});

Deno.test("deleteConsumer drops its pending entries and reports how many", () => {
  const group = new ConsumerGroup("g", MIN_STREAM_ID, 0);
  const alice = group.createConsumer("alice", 0)!;
  const bob = group.createConsumer("bob", 0)!;
  group.deliver(streamId(1, 0), alice, 0);
  group.deliver(streamId(2, 0), bob, 0);
  group.deliver(streamId(3, 0), alice, 0);
  assert.equal(group.deleteConsumer("alice"), 2);
  assert.equal(group.deleteConsumer("alice"), undefined);
  assert.equal(group.deleteConsumer("carol"), undefined);
  assert.deepEqual(pendingIds(group), ["2-0"]);
  assert.equal(group.consumerCount, 1);
  group.createConsumer("idle", 0);
  assert.equal(group.deleteConsumer("idle"), 0);
});

Deno.test("ensurePending creates a missing entry only (XCLAIM FORCE)", () => {
  const group = new ConsumerGroup("g", MIN_STREAM_ID, 0);
  const alice = group.createConsumer("alice", 0)!;
  const bob = group.createConsumer("bob", 0)!;
  const created = group.ensurePending(streamId(4, 0), alice, 50, 3);
  assert.equal(created.deliveryCount, 3);
  assert.equal(group.ensurePending(streamId(4, 0), bob, 60, 1), created);
  assert.equal(created.consumer, alice);
  assert.deepEqual(pendingIds(group, "alice"), ["4-0"]);
});

Deno.test("summary reports count, first, last and per-consumer counts in name order", () => {
  const group = new ConsumerGroup("g", MIN_STREAM_ID, 0);
  assert.deepEqual(group.summary(), { count: 0, first: undefined, last: undefined, consumers: [] });
  const zed = group.createConsumer("zed", 0)!;
  const amy = group.createConsumer("amy", 0)!;
  group.createConsumer("none", 0);
  group.deliver(streamId(5, 0), zed, 0);
  group.deliver(streamId(2, 0), amy, 0);
  group.deliver(streamId(9, 1), zed, 0);
  assert.deepEqual(group.summary(), {
    count: 3,
    first: streamId(2, 0),
    last: streamId(9, 1),
    consumers: [["amy", 1], ["zed", 2]],
  });
});

Deno.test("pendingRange filters by range, count, idle time and consumer", () => {
  const group = new ConsumerGroup("g", MIN_STREAM_ID, 0);
  const alice = group.createConsumer("alice", 0)!;
  const bob = group.createConsumer("bob", 0)!;
  for (let i = 1; i <= 200; i++) group.deliver(streamId(i, 0), i % 2 === 0 ? alice : bob, i * 10);
  const ids = (entries: { id: StreamId }[]) => entries.map((entry) => formatStreamId(entry.id));
  assert.deepEqual(
    ids(group.pendingRange({ start: streamId(10, 0), end: MAX_STREAM_ID, count: 3 })),
    ["10-0", "11-0", "12-0"],
  );
  assert.deepEqual(
    ids(group.pendingRange({ start: MIN_STREAM_ID, end: MAX_STREAM_ID, count: 3, consumer: bob })),
    ["1-0", "3-0", "5-0"],
  );
  // Idle at least 1500 ms at time 2000: delivered at or before 500.
  assert.deepEqual(
    ids(
      group.pendingRange({
        start: MIN_STREAM_ID,
        end: MAX_STREAM_ID,
        count: 100,
        minIdle: 1500,
        now: 2000,
      }),
    ),
    [
      "1-0",
      "2-0",
      "3-0",
      "4-0",
      "5-0",
      "6-0",
      "7-0",
      "8-0",
      "9-0",
      "10-0",
      "11-0",
      "12-0",
      "13-0",
      "14-0",
      "15-0",
      "16-0",
      "17-0",
      "18-0",
      "19-0",
      "20-0",
      "21-0",
      "22-0",
      "23-0",
      "24-0",
      "25-0",
      "26-0",
      "27-0",
      "28-0",
      "29-0",
      "30-0",
      "31-0",
      "32-0",
      "33-0",
      "34-0",
      "35-0",
      "36-0",
      "37-0",
      "38-0",
      "39-0",
      "40-0",
      "41-0",
      "42-0",
      "43-0",
      "44-0",
      "45-0",
      "46-0",
      "47-0",
      "48-0",
      "49-0",
      "50-0",
    ],
  );
  assert.deepEqual(
    ids(
      group.pendingRange({
        start: streamId(100, 0),
        end: streamId(104, 0),
        count: 10,
        consumer: alice,
      }),
    ),
    ["100-0", "102-0", "104-0"],
  );
  assert.deepEqual(
    group.pendingRange({ start: streamId(9, 0), end: streamId(3, 0), count: 10 }),
    [],
  );
  assert.deepEqual(group.pendingRange({ start: MIN_STREAM_ID, end: MAX_STREAM_ID, count: 0 }), []);
});

Deno.test("clone copies consumers and pending entries as new objects", () => {
  const group = new ConsumerGroup("g", streamId(7, 0), 7);
  const alice = group.createConsumer("alice", 5)!;
  group.deliver(streamId(1, 0), alice, 1);
  const copy = group.clone();
  assert.equal(copy.lastId, streamId(7, 0));
  assert.equal(copy.entriesRead, 7);
  const twin = copy.consumer("alice")!;
  assert.notEqual(twin, alice);
  assert.equal(twin.seenTime, 5);
  assert.equal(copy.pending.get(streamId(1, 0))!.consumer, twin);
  copy.acknowledge(streamId(1, 0));
  assert.equal(group.pending.size, 1);
  assert.equal(alice.pending.size, 1);
});

Deno.test("a stream creates, finds, lists and destroys groups", () => {
  const stream = new Stream();
  assert.equal(stream.groupCount, 0);
  assert.deepEqual(stream.groups(), []);
  assert.equal(stream.deleteGroup("g"), false);
  const group = stream.createGroup("beta", MIN_STREAM_ID)!;
  assert.equal(group.entriesRead, INVALID_ENTRIES_READ);
  assert.equal(stream.createGroup("beta", MIN_STREAM_ID), undefined);
  stream.createGroup("alpha", MIN_STREAM_ID, 0);
  assert.deepEqual(stream.groups().map((g) => g.name), ["alpha", "beta"]);
  assert.equal(stream.group("beta"), group);
  assert.ok(stream.deleteGroup("beta"));
  assert.equal(stream.group("beta"), undefined);
  assert.equal(stream.groupCount, 1);
});

Deno.test("lag is entries added minus entries read, unknown past a tombstone", () => {
  const stream = new Stream();
  const group = stream.createGroup("g", MIN_STREAM_ID, 0)!;
  assert.equal(stream.groupLag(group), 0, "nothing ever added");
  for (let i = 1; i <= 5; i++) stream.append(streamId(i, 0), ["f", "v"]);
  assert.equal(stream.groupLag(group), 5);
  stream.advanceGroup(group, streamId(1, 0));
  stream.advanceGroup(group, streamId(2, 0));
  assert.equal(group.entriesRead, 2);
  assert.equal(stream.groupLag(group), 3);
  stream.advanceGroup(group, streamId(2, 0));
  assert.equal(group.entriesRead, 2, "not past the last ID: no change");
  stream.delete(streamId(4, 0));
  assert.ok(stream.rangeHasTombstones(group.lastId));
  assert.equal(stream.groupLag(group), undefined, "a tombstone ahead of the group");
  stream.advanceGroup(group, streamId(3, 0));
  assert.equal(group.entriesRead, INVALID_ENTRIES_READ, "a tombstone after 3-0: unknown");
  assert.equal(stream.groupLag(group), undefined);
  stream.advanceGroup(group, streamId(5, 0));
  assert.equal(group.entriesRead, 5, "at the last ID the count is known again");
  assert.equal(stream.groupLag(group), 0);
  assert.equal(stream.estimateDistanceFromFirstEverEntry(streamId(9, 0)), INVALID_ENTRIES_READ);
});

// ---------------------------------------------------------------------------
// Against redis-server

/** XINFO GROUPS as [name, last-delivered-id, entries-read, lag, pending] rows. */
function groupRows(reply: ReplyValue): Array<[string, string, ReplyValue, ReplyValue, ReplyValue]> {
  assert.ok(Array.isArray(reply), `XINFO GROUPS reply ${JSON.stringify(reply)}`);
  return reply.map((row) => {
    const fields = row as ReplyValue[];
    const value = (name: string) => fields[fields.indexOf(name) + 1]!;
    return [
      value("name") as string,
      value("last-delivered-id") as string,
      value("entries-read"),
      value("lag"),
      value("pending"),
    ];
  });
}

function ourRows(stream: Stream): Array<[string, string, ReplyValue, ReplyValue, ReplyValue]> {
  return stream.groups().map((group) => [
    group.name,
    formatStreamId(group.lastId),
    group.entriesRead === INVALID_ENTRIES_READ ? null : group.entriesRead,
    stream.groupLag(group) ?? null,
    group.pending.size,
  ]);
}

Deno.test("entries-read and lag match redis-server's XINFO GROUPS through random operations", async () => {
  const server = await startRedisServer();
  if (server === undefined) {
    console.warn("redis-server not installed: SKIPPING the comparison with Redis");
    return;
  }
  const client = await RawClient.connect(server.port);
  const send = async (...args: string[]) =>
    decodeReply(await client.command(...args.map(latin1Bytes)));
  try {
    for (const seed of [5, 6, 7, 8]) {
      const random = seededRandom(seed);
      const pick = (limit: number) => Math.floor(random() * limit);
      await send("DEL", "s");
      const stream = new Stream();
      const live: StreamId[] = [];
      let ms = 1;
      const trail: string[] = [];
      for (let step = 0; step < 400; step++) {
        const roll = random();
        const groups = ["g1", "g2", "g3"];
        const groupName = groups[pick(groups.length)]!;
        let command: string[];
        if (roll < 0.4 || live.length === 0) {
          ms += 1 + pick(2);
          const entryId = streamId(ms, 0);
          stream.append(entryId, ["f", String(step)]);
          live.push(entryId);
          command = ["XADD", "s", formatStreamId(entryId), "f", String(step)];
        } else if (roll < 0.5) {
          const target = live[pick(live.length)]!;
          stream.delete(target);
          live.splice(live.indexOf(target), 1);
          command = ["XDEL", "s", formatStreamId(target)];
        } else if (roll < 0.55) {
          const maxLength = Math.max(0, live.length - pick(5));
          live.splice(0, stream.trimByLength(maxLength));
          command = ["XTRIM", "s", "MAXLEN", String(maxLength)];
        } else if (roll < 0.65) {
          if (stream.group(groupName) !== undefined) continue;
          const choice = pick(4);
          let start: StreamId;
          let entriesRead = INVALID_ENTRIES_READ;
          command = ["XGROUP", "CREATE", "s", groupName];
          if (choice === 0) {
            start = stream.lastId;
            command.push("$");
          } else if (choice === 1) {
            start = MIN_STREAM_ID;
            command.push("0");
          } else {
            start = live.length > 0 ? live[pick(live.length)]! : MIN_STREAM_ID;
            command.push(formatStreamId(start));
            if (choice === 3) {
              entriesRead = pick(stream.entriesAdded + 1);
              command.push("ENTRIESREAD", String(entriesRead));
            }
          }
          stream.createGroup(groupName, start, entriesRead);
        } else if (roll < 0.7) {
          const group = stream.group(groupName);
          if (group === undefined) continue;
          group.lastId = live.length > 0 && random() < 0.7
            ? live[pick(live.length)]!
            : MIN_STREAM_ID;
          command = ["XGROUP", "SETID", "s", groupName, formatStreamId(group.lastId)];
          if (random() < 0.5) {
            group.entriesRead = pick(stream.entriesAdded + 1);
            command.push("ENTRIESREAD", String(group.entriesRead));
          } else {
            group.entriesRead = INVALID_ENTRIES_READ;
          }
        } else if (roll < 0.72) {
          if (!stream.deleteGroup(groupName)) continue;
          command = ["XGROUP", "DESTROY", "s", groupName];
        } else {
          // XREADGROUP GROUP g alice COUNT n STREAMS s >, as the command will do it.
          const group = stream.group(groupName);
          if (group === undefined) continue;
          const count = 1 + pick(4);
          const consumer = group.consumer("alice") ?? group.createConsumer("alice", 0)!;
          const iterator = stream.iterator(nextStreamId(group.lastId) ?? MAX_STREAM_ID);
          for (let n = 0; n < count && iterator.next(); n++) {
            const entryId = iterator.id;
            stream.advanceGroup(group, entryId);
            group.deliver(entryId, consumer, 0);
          }
          command = [
            "XREADGROUP",
            "GROUP",
            groupName,
            "alice",
            "COUNT",
            String(count),
            "STREAMS",
            "s",
            ">",
          ];
        }
        trail.push(command.join(" "));
        const reply = await send(...command);
        assert.ok(
          !(typeof reply === "object" && reply !== null && "error" in reply),
          `${command.join(" ")}: ${JSON.stringify(reply)}`,
        );
        const theirs = groupRows(await send("XINFO", "GROUPS", "s"));
        assert.deepEqual(
          ourRows(stream),
          theirs,
          `seed ${seed}, after:\n${trail.slice(-8).join("\n")}`,
        );
      }
    }
  } finally {
    await client.close();
    await server.stop();
  }
});
