/**
 * The store ↔ RDB adapters (rdb/values.ts) on their own: values
 * built straight from the reader, encodings kept, and streams that keep
 * Redis's node layout through a DUMP/RESTORE — tombstones, node boundaries
 * and all — so trims after a reload remove what they removed before.
 */

import assert from "node:assert/strict";
import { defaultConfig } from "../../src/config.ts";
import { decodeDumpPayload, encodeDumpPayload, RDB_TYPE } from "../../src/rdb/mod.ts";
import { rdbSourceOf, StoreValueBuilder, streamLimitsOf } from "../../src/rdb/values.ts";
import { Hash } from "../../src/store/hash.ts";
import { MemberSet } from "../../src/store/set.ts";
import { SortedSet } from "../../src/store/sorted_set.ts";
import { Stream } from "../../src/store/stream.ts";
import { streamId } from "../../src/store/stream_id.ts";
import type { RedisValue } from "../../src/store/values.ts";

const config = defaultConfig();

function roundTrip(value: RedisValue): RedisValue {
  return decodeDumpPayload(
    encodeDumpPayload(rdbSourceOf(value)),
    new StoreValueBuilder(config),
  );
}

function nodesOf(stream: Stream): [string, number[]][] {
  return [...stream.listpacks()].map(([key, listpack]) => [key, Array.from(listpack)]);
}

Deno.test("a stream keeps its nodes, tombstones and metadata through DUMP and RESTORE", () => {
  const stream = new Stream(streamLimitsOf(config));
  for (let i = 1; i <= 350; i++) {
    stream.append(
      streamId(1000 + i, i % 3),
      i % 50 === 0 ? ["other", "x"] : ["a", String(i), "b", "y"],
    );
  }
  for (const i of [1, 2, 150, 151, 152, 349]) stream.delete(streamId(1000 + i, i % 3));
  stream.trimByLength(300, true);
  const group = stream.createGroup("g", streamId(1100, 1), 5)!;
  const alice = group.createConsumer("alice", 12345)!;
  group.createConsumer("idle", 777);
  group.deliver(streamId(1200, 0), alice, 999);
  const copy = roundTrip(stream) as Stream;
  assert.ok(copy instanceof Stream);
  assert.deepEqual(nodesOf(copy), nodesOf(stream), "the same listpacks, byte for byte");
  assert.equal(copy.length, stream.length);
  assert.equal(copy.nodeCount, stream.nodeCount);
  assert.equal(copy.lastId, stream.lastId);
  assert.equal(copy.firstId, stream.firstId);
  assert.equal(copy.maxDeletedEntryId, stream.maxDeletedEntryId);
  assert.equal(copy.entriesAdded, stream.entriesAdded);
  assert.deepEqual(copy.range(), stream.range());
  const copiedGroup = copy.group("g")!;
  assert.equal(copiedGroup.entriesRead, 5);
  assert.deepEqual(
    copiedGroup.consumers().map((
      consumer,
    ) => [consumer.name, consumer.seenTime, consumer.pending.size]),
    [["alice", 12345, 1], ["idle", 777, 0]],
  );
  assert.equal(copiedGroup.pending.get(streamId(1200, 0))!.deliveryTime, 999);
  // An approximate trim removes whole nodes, so it depends on the layout: the same here as there.
  assert.equal(copy.trimByLength(120, true), stream.trimByLength(120, true));
  assert.deepEqual(nodesOf(copy), nodesOf(stream));
});

Deno.test("hashes and sorted sets are saved in the encoding they have, even after shrinking", () => {
  const hash = new Hash();
  for (let i = 0; i < 600; i++) hash.store(`f${i}`, "v");
  for (let i = 1; i < 600; i++) hash.delete(`f${i}`);
  assert.equal(hash.encoding, "hashtable");
  assert.equal(encodeDumpPayload(rdbSourceOf(hash))[0], RDB_TYPE.HASH, "saved as a hash table");
  const copy = roundTrip(hash) as Hash;
  // As in Redis, a small plain hash is loaded into a listpack.
  assert.equal(copy.encoding, "listpack");
  assert.deepEqual([...copy], [["f0", "v"]]);

  const small = new Hash();
  small.store("a", "1");
  assert.equal((roundTrip(small) as Hash).encoding, "listpack");

  const zset = new SortedSet();
  for (let i = 0; i < 200; i++) zset.add(`m${i}`, i);
  for (let i = 1; i < 200; i++) zset.delete(`m${i}`);
  assert.equal(zset.encoding, "skiplist");
  assert.equal(encodeDumpPayload(rdbSourceOf(zset))[0], RDB_TYPE.ZSET_2, "saved as a skiplist");
  const zcopy = roundTrip(zset) as SortedSet;
  assert.equal(zcopy.encoding, "listpack");
  assert.deepEqual([...zcopy], [["m0", 0]]);
});

Deno.test("sets, lists and strings come back as the store's own types", () => {
  const set = new MemberSet(["1", "2", "x"]);
  const setCopy = roundTrip(set);
  assert.ok(setCopy instanceof MemberSet);
  assert.deepEqual([...setCopy].sort(), ["1", "2", "x"]);
  assert.equal(roundTrip("a string"), "a string");
});
