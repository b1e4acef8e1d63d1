/**
 * Tests for the stream storage: appends and ID choice, ranges in both
 * directions across node boundaries, deletion, trimming (exact, approximate,
 * LIMIT, MINID), metadata, copies, memory estimates, and the nodes' Redis
 * listpack layout.
 *
 * Two kinds of comparison back the unit tests: a seeded random walk against
 * a plain array of entries (the model), and a random walk replayed on a
 * real redis-server, whose DUMP must hold byte for byte the listpacks our
 * nodes produce, which is how we know nodes split and trims cut where
 * Redis's do.
 */

import assert from "node:assert/strict";
import {
  DEFAULT_STREAM_NODE_LIMITS,
  defaultTrimLimit,
  jemallocSize,
  Stream,
  type StreamNodeLimits,
} from "../../src/store/stream.ts";
import {
  formatStreamId,
  MAX_STREAM_ID,
  MIN_STREAM_ID,
  nextStreamId,
  parseAddStreamId,
  parseStreamId,
  type StreamId,
  streamId,
} from "../../src/store/stream_id.ts";
import {
  bytesToLatin1,
  decodeReply,
  latin1Bytes,
  RawClient,
  startRedisServer,
} from "../helpers/servers.ts";
import { seededRandom } from "../helpers/test_support.ts";

const MAX = 18446744073709551615n;

function id(text: string): StreamId {
  const parsed = parseStreamId(text);
  assert.ok(parsed !== undefined, `valid ID ${text}`);
  return parsed;
}

/** The stream's live entries as [text ID, fields]. */
function contents(stream: Stream, start = MIN_STREAM_ID, end = MAX_STREAM_ID, reverse = false) {
  return stream.range(start, end, Infinity, reverse).map(([entryId, fields]) => [
    formatStreamId(entryId),
    fields,
  ]);
}

function ids(stream: Stream, start = MIN_STREAM_ID, end = MAX_STREAM_ID, reverse = false) {
  return stream.range(start, end, Infinity, reverse).map(([entryId]) => formatStreamId(entryId));
}

/** A stream of entries `1-0` .. `n-0`, each `{ f: <i> }`. */
function numbered(count: number, limits?: StreamNodeLimits): Stream {
  const stream = new Stream(limits);
  for (let i = 1; i <= count; i++) stream.append(streamId(i, 0), ["f", String(i)]);
  return stream;
}

Deno.test("an empty stream has no entries, no ranges and nothing to trim or delete", () => {
  const stream = new Stream();
  assert.equal(stream.length, 0);
  assert.equal(stream.nodeCount, 0);
  assert.equal(stream.lastId, MIN_STREAM_ID);
  assert.equal(stream.firstId, MIN_STREAM_ID);
  assert.deepEqual(stream.range(), []);
  assert.deepEqual(stream.range(MIN_STREAM_ID, MAX_STREAM_ID, 10, true), []);
  assert.equal(stream.firstEntry(), undefined);
  assert.equal(stream.lastEntry(), undefined);
  assert.equal(stream.trimByLength(0), 0);
  assert.equal(stream.trimByLength(0, true), 0);
  assert.equal(stream.trimByMinId(MAX_STREAM_ID), 0);
  assert.equal(stream.trimByMinId(MAX_STREAM_ID, true, 10), 0);
  assert.equal(stream.delete(id("1-0")), false);
  assert.equal(stream.has(MIN_STREAM_ID), false);
  assert.equal(stream.get(id("1-0")), undefined);
  assert.equal(stream.iterator().next(), false);
  assert.deepEqual([...stream.entries()], []);
  assert.deepEqual([...stream.listpacks()], []);
});

Deno.test("append keeps entries in ID order with their fields and metadata", () => {
  const stream = new Stream();
  stream.append(id("5-1"), ["sensor", "7", "temp", "21.5"]);
  stream.append(id("5-2"), ["sensor", "8", "temp", "19"]);
  stream.append(id("9-0"), ["other", "x"]);
  assert.equal(stream.length, 3);
  assert.equal(formatStreamId(stream.lastId), "9-0");
  assert.equal(formatStreamId(stream.firstId), "5-1");
  assert.equal(stream.entriesAdded, 3);
  assert.deepEqual(contents(stream), [
    ["5-1", ["sensor", "7", "temp", "21.5"]],
    ["5-2", ["sensor", "8", "temp", "19"]],
    ["9-0", ["other", "x"]],
  ]);
  assert.deepEqual(stream.get(id("5-2")), ["sensor", "8", "temp", "19"]);
  assert.equal(stream.has(id("5-3")), false);
  assert.deepEqual(stream.firstEntry(), [id("5-1"), ["sensor", "7", "temp", "21.5"]]);
  assert.deepEqual(stream.lastEntry(), [id("9-0"), ["other", "x"]]);
});

Deno.test("append takes the arguments after an offset, as XADD passes them", () => {
  const stream = new Stream();
  stream.append(id("1-0"), ["XADD", "key", "1-0", "a", "1", "b", "2"], 3);
  assert.deepEqual(contents(stream), [["1-0", ["a", "1", "b", "2"]]]);
});

Deno.test("values keep every byte, empty strings and long strings", () => {
  const stream = new Stream();
  let all = "";
  for (let byte = 0; byte < 256; byte++) all += String.fromCharCode(byte);
  const long = "x".repeat(5000);
  stream.append(id("1-0"), [all, "", "", all]);
  stream.append(id("2-0"), ["k", long, "\r\n", "\0"]);
  stream.append(id("3-0"), ["k", "v".repeat(200)]);
  assert.deepEqual(contents(stream), [
    ["1-0", [all, "", "", all]],
    ["2-0", ["k", long, "\r\n", "\0"]],
    ["3-0", ["k", "v".repeat(200)]],
  ]);
});

Deno.test("IDs at the 64-bit maximum and across the 2^32 and 2^53 boundaries round-trip", () => {
  const stream = new Stream();
  const entries: StreamId[] = [
    streamId(0, 1),
    streamId(0, 0xffffffff),
    streamId(0, 0x100000000),
    streamId(1, 0),
    streamId(0xffffffff, MAX),
    streamId(0x100000000, 0),
    streamId(2n ** 53n - 1n, 5),
    streamId(2n ** 53n + 1n, 0),
    streamId(MAX, 0),
    streamId(MAX, MAX - 1n),
    MAX_STREAM_ID,
  ];
  for (const entry of entries) stream.append(entry, ["f", formatStreamId(entry)]);
  assert.deepEqual(ids(stream), entries.map(formatStreamId));
  assert.deepEqual(
    ids(stream, MIN_STREAM_ID, MAX_STREAM_ID, true),
    entries.map(formatStreamId).reverse(),
  );
  for (const entry of entries) assert.deepEqual(stream.get(entry), ["f", formatStreamId(entry)]);
  assert.ok(stream.isExhausted);
  assert.equal(stream.resolveAddId(undefined, Date.now()), undefined);
  assert.equal(
    formatStreamId(stream.listpacks().next().value![0]),
    "0-1",
    "the first node is keyed by its first ID",
  );
});

Deno.test("resolveAddId follows streamAppendItem for *, <ms>-* and explicit IDs", () => {
  const stream = new Stream();
  assert.equal(formatStreamId(stream.resolveAddId(undefined, 1000)!), "1000-0");
  stream.append(id("1000-0"), ["f", "v"]);
  // The clock did not move (or went backwards): the sequence goes up.
  assert.equal(formatStreamId(stream.resolveAddId(undefined, 1000)!), "1000-1");
  assert.equal(formatStreamId(stream.resolveAddId(undefined, 10)!), "1000-1");
  assert.equal(formatStreamId(stream.resolveAddId(undefined, 1001)!), "1001-0");
  assert.equal(formatStreamId(stream.resolveAddId(parseAddStreamId("1000-*"), 0)!), "1000-1");
  assert.equal(formatStreamId(stream.resolveAddId(parseAddStreamId("2000-*"), 0)!), "2000-0");
  assert.equal(stream.resolveAddId(parseAddStreamId("999-*"), 0), undefined);
  assert.equal(stream.resolveAddId(parseAddStreamId("1000-0"), 0), undefined, "equal");
  assert.equal(stream.resolveAddId(parseAddStreamId("999-9"), 0), undefined, "smaller");
  assert.equal(formatStreamId(stream.resolveAddId(parseAddStreamId("1000-1"), 0)!), "1000-1");

  const full = new Stream();
  full.append(streamId(7, MAX), ["f", "v"]);
  assert.equal(full.resolveAddId(parseAddStreamId("7-*"), 0), undefined, "no sequence left");
  assert.equal(formatStreamId(full.resolveAddId(undefined, 5)!), "8-0", "* carries into ms");
  assert.equal(formatStreamId(full.resolveAddId(parseAddStreamId("8-*"), 0)!), "8-0");
});

Deno.test("nodes hold 100 entries by default, and tombstones count toward the limit", () => {
  const stream = numbered(250);
  assert.equal(stream.nodeCount, 3);
  const keys = [...stream.listpacks()].map(([key]) => formatStreamId(key));
  assert.deepEqual(keys, ["1-0", "101-0", "201-0"]);
  const deleting = numbered(100);
  for (let i = 1; i <= 50; i++) deleting.delete(streamId(i, 0));
  deleting.append(streamId(101, 0), ["f", "101"]);
  assert.equal(deleting.nodeCount, 2, "a node with 50 live entries and 50 tombstones is full");
});

Deno.test("nodes split by Redis listpack bytes when entries are large", () => {
  const stream = new Stream();
  for (let i = 1; i <= 20; i++) stream.append(streamId(i, 0), ["f", "x".repeat(1000)]);
  // 4096-byte nodes hold three 1000-byte values: the fourth would reach the limit.
  assert.deepEqual(
    [...stream.listpacks()].map(([key]) => formatStreamId(key)),
    ["1-0", "5-0", "9-0", "13-0", "17-0"],
  );
  for (const [, listpack] of stream.listpacks()) assert.ok(listpack.length < 4096);
});

Deno.test("node limits are read at every append, 0 meaning no limit", () => {
  const limits: StreamNodeLimits = { nodeMaxBytes: 0, nodeMaxEntries: 0 };
  const stream = numbered(3000, limits);
  assert.equal(stream.nodeCount, 1);
  limits.nodeMaxEntries = 10;
  for (let i = 3001; i <= 3030; i++) stream.append(streamId(i, 0), ["f", String(i)]);
  assert.equal(stream.nodeCount, 4, "the big node closes, then nodes of 10");
  assert.equal(stream.length, 3030);
  assert.deepEqual(ids(stream, id("2998"), id("3003")), [
    "2998-0",
    "2999-0",
    "3000-0",
    "3001-0",
    "3002-0",
    "3003-0",
  ]);
  assert.equal(defaultTrimLimit(limits), 1000);
  assert.equal(defaultTrimLimit({ nodeMaxBytes: 4096, nodeMaxEntries: 0 }), 10000);
  assert.equal(defaultTrimLimit(DEFAULT_STREAM_NODE_LIMITS), 10000);
});

Deno.test("ranges are inclusive, cross node boundaries and run in both directions", () => {
  const stream = numbered(350);
  const forward = ids(stream, id("95"), id("205"));
  assert.equal(forward.length, 111);
  assert.equal(forward[0], "95-0");
  assert.equal(forward[110], "205-0");
  assert.deepEqual(ids(stream, id("95"), id("205"), true), [...forward].reverse());
  assert.deepEqual(ids(stream, id("100"), id("101")), ["100-0", "101-0"]);
  assert.deepEqual(ids(stream, id("100"), id("101"), true), ["101-0", "100-0"]);
  assert.deepEqual(ids(stream, id("5-1"), id("6-0")), ["6-0"]);
  assert.deepEqual(ids(stream, id("6-0"), id("5-1")), [], "start after end");
  assert.deepEqual(ids(stream, id("351"), MAX_STREAM_ID), []);
  assert.deepEqual(ids(stream, MIN_STREAM_ID, id("0-5"), true), []);
  assert.deepEqual(
    stream.range(id("200"), MAX_STREAM_ID, 3).map(([entry]) => formatStreamId(entry)),
    [
      "200-0",
      "201-0",
      "202-0",
    ],
  );
  assert.deepEqual(
    stream.range(MIN_STREAM_ID, id("200"), 2, true).map(([entry]) => formatStreamId(entry)),
    ["200-0", "199-0"],
  );
  assert.deepEqual(stream.range(MIN_STREAM_ID, MAX_STREAM_ID, 0), []);
});

Deno.test("the iterator reports IDs as text, field counts and fields lazily", () => {
  const stream = new Stream();
  stream.append(streamId(MAX, 3), ["a", "1", "b", "2"]);
  const iterator = stream.iterator();
  assert.ok(iterator.next());
  assert.equal(iterator.idText(), "18446744073709551615-3");
  assert.equal(iterator.id, streamId(MAX, 3));
  assert.equal(iterator.fieldCount, 2);
  assert.deepEqual(iterator.fields(), ["a", "1", "b", "2"]);
  assert.equal(iterator.next(), false);
  assert.equal(iterator.next(), false);
  const other = new Stream();
  other.append(id("1-0"), ["a", "1"]);
  other.append(id("2-0"), ["x", "1", "y", "2", "z", "3"]);
  const reverse = other.iterator(MIN_STREAM_ID, MAX_STREAM_ID, true);
  assert.ok(reverse.next());
  assert.equal(reverse.fieldCount, 3, "fields differing from the master entry");
  assert.ok(reverse.next());
  assert.equal(reverse.fieldCount, 1);
});

Deno.test("delete marks the entry, skips it in ranges and updates the metadata", () => {
  const stream = numbered(10);
  assert.ok(stream.delete(id("5")));
  assert.equal(stream.delete(id("5")), false, "already deleted");
  assert.equal(stream.delete(id("11")), false);
  assert.equal(stream.delete(id("5-1")), false);
  assert.equal(stream.length, 9);
  assert.equal(stream.has(id("5")), false);
  assert.equal(stream.get(id("5")), undefined);
  assert.deepEqual(ids(stream, id("4"), id("6")), ["4-0", "6-0"]);
  assert.deepEqual(ids(stream, id("4"), id("6"), true), ["6-0", "4-0"]);
  assert.equal(formatStreamId(stream.maxDeletedEntryId), "5-0");
  assert.ok(stream.delete(id("2")));
  assert.equal(formatStreamId(stream.maxDeletedEntryId), "5-0", "only rises");
  assert.equal(formatStreamId(stream.firstId), "1-0");
  assert.ok(stream.delete(id("1")));
  assert.equal(formatStreamId(stream.firstId), "3-0", "the first entry moved on");
  assert.equal(stream.entriesAdded, 10);
  const listpack = [...stream.listpacks()][0]![1];
  // After the 6-byte header: the count and the deleted count, 7-bit integers.
  assert.equal(listpack[6], 7, "count of live entries in the master entry");
  assert.equal(listpack[8], 3, "count of tombstones");
});

Deno.test("deleting the last live entry of a node removes the node", () => {
  const stream = numbered(300);
  for (let i = 101; i <= 200; i++) assert.ok(stream.delete(streamId(i, 0)));
  assert.equal(stream.nodeCount, 2);
  assert.deepEqual(ids(stream, id("99"), id("202")), ["99-0", "100-0", "201-0", "202-0"]);
  assert.deepEqual(ids(stream, id("99"), id("202"), true), ["202-0", "201-0", "100-0", "99-0"]);
  for (let i = 1; i <= 100; i++) stream.delete(streamId(i, 0));
  assert.equal(stream.nodeCount, 1);
  assert.equal(formatStreamId(stream.firstId), "201-0");
  for (let i = 201; i <= 300; i++) stream.delete(streamId(i, 0));
  assert.equal(stream.nodeCount, 0);
  assert.equal(stream.length, 0);
  assert.equal(stream.firstId, MIN_STREAM_ID);
  assert.equal(formatStreamId(stream.lastId), "300-0", "the last ID stays");
  stream.append(id("301"), ["f", "301"]);
  assert.equal(formatStreamId(stream.firstId), "301-0");
});

Deno.test("after the last node empties, appends go to the node before it, as in Redis", () => {
  // The first node closes on bytes with room for a small entry; the second
  // node holds one big entry; deleting it makes Redis append to the first.
  const stream = new Stream();
  stream.append(id("1"), ["f", "x".repeat(3000)]);
  stream.append(id("2"), ["f", "y".repeat(2000)]);
  assert.equal(stream.nodeCount, 2);
  stream.delete(id("2"));
  assert.equal(stream.nodeCount, 1);
  stream.append(id("3"), ["f", "z"]);
  assert.equal(stream.nodeCount, 1);
  assert.deepEqual(contents(stream), [["1-0", ["f", "x".repeat(3000)]], ["3-0", ["f", "z"]]]);
  const [key, listpack] = [...stream.listpacks()][0]!;
  assert.equal(formatStreamId(key), "1-0");
  assert.equal(listpack[6], 2, "two live entries in the reopened node");
});

Deno.test("exact MAXLEN trims remove whole nodes, then mark entries in the next", () => {
  const stream = numbered(250);
  assert.equal(stream.trimByLength(120), 130);
  assert.equal(stream.length, 120);
  assert.equal(stream.nodeCount, 2);
  assert.equal(formatStreamId(stream.firstId), "131-0");
  assert.equal(ids(stream)[0], "131-0");
  assert.equal(stream.trimByLength(120), 0);
  assert.equal(stream.trimByLength(500), 0);
  assert.equal(stream.trimByLength(0), 120);
  assert.equal(stream.length, 0);
  assert.equal(stream.nodeCount, 0);
  assert.equal(stream.firstId, MIN_STREAM_ID);
  assert.equal(stream.maxDeletedEntryId, MIN_STREAM_ID, "trims are not deletions");
});

Deno.test("approximate MAXLEN trims remove only whole nodes", () => {
  const stream = numbered(250);
  assert.equal(stream.trimByLength(120, true), 100, "the second node would go below 120");
  assert.equal(stream.length, 150);
  assert.equal(stream.trimByLength(10, true), 100);
  assert.equal(stream.trimByLength(10, true), 0, "never the last partial node");
  assert.equal(stream.length, 50);
  const marked = numbered(250);
  marked.trimByLength(120);
  assert.equal(marked.trimByLength(10, true), 70, "a node counts its live entries");
  assert.equal(marked.length, 50);
});

Deno.test("approximate trims stop before the node that would pass LIMIT", () => {
  const stream = numbered(1000);
  assert.equal(stream.trimByLength(0, true, 250), 200);
  assert.equal(stream.trimByLength(0, true, 99), 0);
  assert.equal(stream.trimByLength(0, true, 0), 800, "LIMIT 0 means no limit");
  const big = numbered(25000);
  assert.equal(big.trimByLength(0, true, defaultTrimLimit(DEFAULT_STREAM_NODE_LIMITS)), 10000);
});

Deno.test("MINID trims remove entries below the ID, exactly or by whole nodes", () => {
  const exact = numbered(250);
  assert.equal(exact.trimByMinId(id("131")), 130);
  assert.deepEqual(ids(exact).slice(0, 2), ["131-0", "132-0"]);
  assert.equal(exact.trimByMinId(id("131")), 0);
  assert.equal(exact.trimByMinId(MIN_STREAM_ID), 0);
  const approximate = numbered(250);
  assert.equal(approximate.trimByMinId(id("131"), true), 100);
  assert.equal(approximate.trimByMinId(id("201"), true), 100, "a node whose last ID is below");
  assert.equal(approximate.trimByMinId(MAX_STREAM_ID, true, 40), 0, "LIMIT below the node");
  assert.equal(approximate.trimByMinId(MAX_STREAM_ID), 50);
});

Deno.test("a MINID trim stopping at a tombstone leaves a node with no live entries", () => {
  const stream = numbered(250);
  stream.delete(id("200"));
  assert.equal(stream.trimByMinId(id("200")), 199);
  assert.equal(stream.length, 50);
  assert.equal(stream.nodeCount, 2, "the emptied node stays, as in Redis");
  assert.equal(formatStreamId(stream.firstId), "201-0");
  assert.deepEqual(ids(stream, MIN_STREAM_ID, id("202")), ["201-0", "202-0"]);
  assert.deepEqual(ids(stream, MIN_STREAM_ID, id("202"), true), ["202-0", "201-0"]);
  assert.equal(stream.trimByLength(50, true), 0);
  assert.equal(stream.trimByLength(10, true), 0, "an empty node removes no entries but goes");
  assert.equal(stream.nodeCount, 1);
});

Deno.test("copy is deep: changing either stream leaves the other alone", () => {
  const stream = numbered(150);
  stream.delete(id("3"));
  const group = stream.createGroup("g", id("10"), 10)!;
  const consumer = group.createConsumer("alice", 1)!;
  group.deliver(id("11"), consumer, 5);
  const copy = stream.copy();
  assert.deepEqual(contents(copy), contents(stream));
  assert.equal(copy.entriesAdded, 150);
  assert.equal(copy.maxDeletedEntryId, stream.maxDeletedEntryId);
  copy.append(id("151"), ["f", "151"]);
  copy.delete(id("1"));
  copy.group("g")!.acknowledge(id("11"));
  stream.delete(id("150"));
  assert.equal(stream.length, 148);
  assert.equal(copy.length, 149);
  assert.ok(stream.has(id("1")));
  assert.ok(copy.has(id("150")));
  assert.equal(stream.group("g")!.pending.size, 1);
  assert.equal(copy.group("g")!.pending.size, 0);
  assert.deepEqual([...copy.listpacks()].length, 2);
});

Deno.test("entries() walks every live entry and listpacks() every node", () => {
  const stream = numbered(205);
  stream.delete(id("7"));
  const all = [...stream.entries()];
  assert.equal(all.length, 204);
  assert.deepEqual(all[6], [id("8"), ["f", "8"]]);
  assert.deepEqual([...stream.listpacks()].map(([key]) => formatStreamId(key)), [
    "1-0",
    "101-0",
    "201-0",
  ]);
});

Deno.test("jemallocSize rounds to jemalloc's size classes", () => {
  assert.deepEqual([1, 8, 9, 17, 128, 129, 161, 1629, 2048, 2049, 4096].map(jemallocSize), [
    8,
    8,
    16,
    32,
    128,
    160,
    192,
    1792,
    2048,
    2560,
    4096,
  ]);
});

Deno.test("a heavily deleted stream keeps giving right answers after slab compaction", () => {
  const stream = numbered(5000);
  // Delete whole nodes out of order so slabs empty in the middle.
  for (let node = 48; node >= 1; node -= 2) {
    for (let i = node * 100 + 1; i <= node * 100 + 100; i++) stream.delete(streamId(i, 0));
  }
  const expected: string[] = [];
  for (let i = 1; i <= 5000; i++) {
    const node = Math.floor((i - 1) / 100);
    if (node >= 1 && node <= 48 && node % 2 === 0) continue;
    expected.push(`${i}-0`);
  }
  assert.deepEqual(ids(stream), expected);
  assert.deepEqual(ids(stream, MIN_STREAM_ID, MAX_STREAM_ID, true), [...expected].reverse());
  const copy = stream.copy();
  assert.deepEqual(ids(copy), expected);
});

// ---------------------------------------------------------------------------
// Against a model

interface ModelEntry {
  id: StreamId;
  fields: string[];
}

/** One random operation on both; returns a description for failure messages. */
function randomStep(
  stream: Stream,
  model: ModelEntry[],
  random: () => number,
  nextMs: { value: number },
): string {
  const pick = (limit: number) => Math.floor(random() * limit);
  const roll = random();
  const randomId = () => {
    if (model.length > 0 && random() < 0.8) return model[pick(model.length)]!.id;
    return streamId(pick(nextMs.value + 2), pick(4));
  };
  if (roll < 0.55) {
    const count = 1 + pick(8);
    for (let n = 0; n < count; n++) {
      nextMs.value += pick(3);
      const entryId = stream.resolveAddId(parseAddStreamId(`${nextMs.value}-*`), 0)!;
      const fields = random() < 0.7
        ? ["sensor", String(pick(100)), "temp", (pick(400) / 10).toFixed(1)]
        : ["k" + pick(3), "v".repeat(pick(random() < 0.05 ? 3000 : 20))];
      stream.append(entryId, fields);
      model.push({ id: entryId, fields });
    }
    return `append ${count}`;
  }
  if (roll < 0.75) {
    const target = randomId();
    const index = model.findIndex((entry) => entry.id === target);
    assert.equal(stream.delete(target), index >= 0, `delete ${formatStreamId(target)}`);
    if (index >= 0) model.splice(index, 1);
    return `delete ${formatStreamId(target)}`;
  }
  if (roll < 0.8) {
    const maxLength = pick(model.length + 5);
    const expected = Math.max(0, model.length - maxLength);
    assert.equal(stream.trimByLength(maxLength), expected);
    model.splice(0, expected);
    return `trim maxlen ${maxLength}`;
  }
  if (roll < 0.85) {
    const maxLength = pick(model.length + 5);
    const removed = stream.trimByLength(maxLength, true, random() < 0.5 ? 0 : pick(300));
    assert.ok(removed <= Math.max(0, model.length - maxLength), "approximate never overshoots");
    model.splice(0, removed);
    return `trim maxlen ~ ${maxLength}`;
  }
  if (roll < 0.9) {
    const minId = randomId();
    const approximate = random() < 0.5;
    const below = model.filter((entry) => entry.id < minId).length;
    const removed = stream.trimByMinId(minId, approximate);
    if (approximate) assert.ok(removed <= below);
    else assert.equal(removed, below);
    model.splice(0, removed);
    return `trim minid ${approximate ? "~ " : ""}${formatStreamId(minId)}`;
  }
  const start = randomId();
  const end = random() < 0.3 ? MAX_STREAM_ID : randomId();
  const count = random() < 0.5 ? Infinity : pick(50);
  const reverse = random() < 0.5;
  const expected = model.filter((entry) => entry.id >= start && entry.id <= end);
  if (reverse) expected.reverse();
  assert.deepEqual(
    stream.range(start, end, count, reverse),
    expected.slice(0, count).map((entry) => [entry.id, entry.fields]),
    `range ${formatStreamId(start)} ${formatStreamId(end)} ${count} ${reverse}`,
  );
  return "range";
}

Deno.test("Stream matches an array of entries through seeded random operations", () => {
  for (const seed of [1, 2, 3, 7, 2024]) {
    const random = seededRandom(seed);
    const stream = new Stream();
    const model: ModelEntry[] = [];
    const nextMs = { value: 1 };
    for (let step = 0; step < 3000; step++) {
      const operation = randomStep(stream, model, random, nextMs);
      const where = `seed ${seed}, step ${step}: ${operation}`;
      assert.equal(stream.length, model.length, where);
      assert.equal(stream.firstId, model[0]?.id ?? MIN_STREAM_ID, where);
      if (step % 100 === 0) {
        assert.deepEqual(
          stream.range().map(([entryId]) => entryId),
          model.map((entry) => entry.id),
          where,
        );
      }
    }
  }
});

// ---------------------------------------------------------------------------
// Against redis-server

/** Reads an RDB length (rdbLoadLen) from `body` at `cursor.at`. */
function readLength(body: string, cursor: { at: number }): number {
  const first = body.charCodeAt(cursor.at);
  const type = first >> 6;
  if (type === 0) {
    cursor.at++;
    return first & 63;
  }
  if (type === 1) {
    const value = ((first & 63) << 8) | body.charCodeAt(cursor.at + 1);
    cursor.at += 2;
    return value;
  }
  const width = first === 0x80 ? 4 : first === 0x81 ? 8 : 0;
  assert.ok(width > 0, `unexpected RDB length encoding ${first}`);
  let value = 0;
  for (let i = 1; i <= width; i++) value = value * 256 + body.charCodeAt(cursor.at + i);
  cursor.at += 1 + width;
  return value;
}

function readString(body: string, cursor: { at: number }): string {
  const length = readLength(body, cursor);
  const value = body.slice(cursor.at, cursor.at + length);
  cursor.at += length;
  return value;
}

/** The nodes of a stream DUMPed by Redis 7.0 (RDB_TYPE_STREAM_LISTPACKS_2, uncompressed). */
function dumpedNodes(dump: string): { nodes: Array<[string, string]>; length: number } {
  assert.equal(dump.charCodeAt(0), 19, "RDB_TYPE_STREAM_LISTPACKS_2");
  const cursor = { at: 1 };
  const count = readLength(dump, cursor);
  const nodes: Array<[string, string]> = [];
  for (let i = 0; i < count; i++) nodes.push([readString(dump, cursor), readString(dump, cursor)]);
  return { nodes, length: readLength(dump, cursor) };
}

Deno.test("nodes, tombstones and trims match redis-server's DUMP byte for byte", async () => {
  const server = await startRedisServer(["--rdbcompression", "no"]);
  if (server === undefined) {
    console.warn("redis-server not installed: SKIPPING the comparison with Redis");
    return;
  }
  const client = await RawClient.connect(server.port);
  const send = async (...args: string[]) =>
    decodeReply(await client.command(...args.map(latin1Bytes)));
  try {
    for (const seed of [11, 12, 13]) {
      const random = seededRandom(seed);
      const pick = (limit: number) => Math.floor(random() * limit);
      const stream = new Stream();
      const live: StreamId[] = [];
      await send("DEL", "s");
      let ms = 1;
      for (let step = 0; step < 1500; step++) {
        const roll = random();
        if (roll < 0.7 || live.length === 0) {
          ms += pick(3);
          const seq = pick(2) === 0 ? 0 : pick(1000);
          const entryId = streamId(ms, seq);
          if (entryId <= stream.lastId) continue;
          const shape = pick(10);
          const fields = shape < 6
            ? ["sensor", String(pick(200) - 50), "temp", (pick(400) / 10).toFixed(1)]
            : shape < 8
            ? ["other", "v".repeat(pick(100)), "n", String(pick(100000))]
            : ["big", "x".repeat(300 + pick(1500))];
          stream.append(entryId, fields);
          live.push(entryId);
          await send("XADD", "s", formatStreamId(entryId), ...fields);
        } else if (roll < 0.85) {
          const target = live[pick(live.length)]!;
          assert.equal(stream.delete(target), true);
          live.splice(live.indexOf(target), 1);
          assert.equal(await send("XDEL", "s", formatStreamId(target)), 1);
        } else if (roll < 0.95) {
          const maxLength = Math.max(0, live.length - pick(150));
          const approximate = random() < 0.6;
          const limit = approximate && random() < 0.3 ? 1 + pick(300) : 0;
          const removed = stream.trimByLength(maxLength, approximate, limit);
          const args = ["XTRIM", "s", "MAXLEN", ...(approximate ? ["~"] : []), String(maxLength)];
          if (limit > 0) args.push("LIMIT", String(limit));
          assert.equal(await send(...args), removed, args.join(" "));
          live.splice(0, removed);
        } else {
          const minId = live[pick(live.length)]!;
          const approximate = random() < 0.5;
          const removed = stream.trimByMinId(minId, approximate);
          const args = [
            "XTRIM",
            "s",
            "MINID",
            ...(approximate ? ["~"] : []),
            formatStreamId(minId),
          ];
          assert.equal(await send(...args), removed, args.join(" "));
          live.splice(0, removed);
        }
      }
      const reply = bytesToLatin1(await client.command("DUMP", "s"));
      const dump = reply.slice(reply.indexOf("\r\n") + 2, -2); // the bulk string's bytes
      const { nodes, length } = dumpedNodes(dump);
      assert.equal(length, stream.length);
      const ours = [...stream.listpacks()].map(([key, listpack]) => [key, bytesToLatin1(listpack)]);
      assert.equal(ours.length, nodes.length, `seed ${seed}: node count`);
      for (let i = 0; i < nodes.length; i++) {
        assert.equal(
          formatStreamId(ours[i]![0]!),
          formatStreamId(nodes[i]![0]),
          `seed ${seed}: key ${i}`,
        );
        assert.ok(ours[i]![1] === nodes[i]![1], `seed ${seed}: listpack ${i} differs`);
      }
      const info = await send("XINFO", "STREAM", "s");
      const fieldsOfInfo = info as string[];
      const infoValue = (name: string) => fieldsOfInfo[fieldsOfInfo.indexOf(name) + 1];
      assert.equal(infoValue("recorded-first-entry-id"), formatStreamId(stream.firstId));
      assert.equal(infoValue("max-deleted-entry-id"), formatStreamId(stream.maxDeletedEntryId));
      assert.equal(infoValue("entries-added"), stream.entriesAdded);
      assert.equal(infoValue("radix-tree-keys"), stream.nodeCount);
      assert.equal(infoValue("radix-tree-nodes"), stream.radixTreeNodes);
      const usage = await send("MEMORY", "USAGE", "s") as number;
      const estimate = stream.memoryUsage();
      assert.ok(
        estimate > usage * 0.98 && estimate < usage * 1.02,
        `MEMORY USAGE ${usage}, estimated ${estimate}`,
      );
    }
  } finally {
    await client.close();
    await server.stop();
  }
});

Deno.test("the next ID after the last entry starts an empty range", () => {
  const stream = numbered(3);
  assert.deepEqual(ids(stream, nextStreamId(stream.lastId)!), []);
});

Deno.test("loadListpack rebuilds a stream from its listpacks, tombstones included", () => {
  const random = seededRandom(31);
  const original = new Stream();
  for (let i = 1; i <= 700; i++) {
    const fields = i % 9 === 0
      ? ["x", "y".repeat(i % 300)]
      : ["sensor", String(i % 40), "temp", "2" + (i % 10)];
    original.append(streamId(1000 + i, i % 3), fields);
  }
  for (let i = 0; i < 150; i++) original.delete(streamId(1000 + 1 + Math.floor(random() * 700), 0));
  original.trimByLength(600);
  const loaded = new Stream();
  for (const [key, listpack] of original.listpacks()) loaded.loadListpack(key, listpack);
  loaded.lastId = original.lastId;
  loaded.firstId = original.firstId;
  loaded.maxDeletedEntryId = original.maxDeletedEntryId;
  loaded.entriesAdded = original.entriesAdded;
  assert.equal(loaded.length, original.length);
  assert.deepEqual(contents(loaded), contents(original));
  assert.deepEqual([...loaded.listpacks()], [...original.listpacks()]);
  for (let i = 701; i <= 760; i++) {
    for (const stream of [original, loaded]) {
      stream.append(streamId(1000 + i, 0), ["sensor", "1", "temp", "9"]);
    }
  }
  assert.deepEqual([...loaded.listpacks()], [...original.listpacks()]);
  assert.ok(loaded.memoryUsage() > 0);
});

Deno.test("loadListpack refuses malformed and out-of-order nodes", () => {
  const stream = numbered(150);
  const [[firstKey, first], [secondKey, second]] = [...stream.listpacks()] as [
    [StreamId, Uint8Array],
    [StreamId, Uint8Array],
  ];
  const target = new Stream();
  assert.throws(() => target.loadListpack(firstKey, first.subarray(0, 20)));
  const wrongCount = first.slice();
  wrongCount[6] = 99; // the master entry's live count
  assert.throws(() => target.loadListpack(firstKey, wrongCount));
  target.loadListpack(secondKey, second);
  assert.throws(() => target.loadListpack(firstKey, first), "nodes must come in order");
});
