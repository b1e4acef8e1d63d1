/**
 * Bad input never crashes, hangs or silently loads: a file cut at any
 * offset is reported truncated, any single changed byte is an `RdbError`
 * (the CRC64 catches what the structure checks do not), random bytes in
 * every compact encoding are valid or an `RdbError`, chunk boundaries
 * anywhere give the same records, and — against redis-server with
 * `sanitize-dump-payload yes` — mutated DUMP payloads with a fixed-up
 * checksum are accepted only when Redis accepts them, as the same value.
 */

import assert from "node:assert/strict";
import { intsetStrings } from "../../src/rdb/intset.ts";
import { ListpackBuilder, listpackStrings } from "../../src/rdb/listpack.ts";
import {
  decodeDumpPayload,
  encodeDumpPayload,
  RdbError,
  RdbFileReader,
  type RdbRecord,
  readRdbFile,
  writeRdbFile,
} from "../../src/rdb/mod.ts";
import { zipmapEntries } from "../../src/rdb/zipmap.ts";
import { ziplistStrings } from "../../src/rdb/ziplist.ts";
import {
  ALL_BYTES,
  call,
  canonical,
  must,
  random,
  randomBinary,
  replyBytes,
  SERVER_TEST,
  valueOfRedis,
  withFooter,
  withRedis,
} from "./helpers.ts";

/** A small file with every type and encoding our writer produces. */
function sampleFile(): Uint8Array {
  return writeRdbFile({
    functions: ["#!lua name=lib\nredis.register_function('f', function() return 1 end)"],
    databases: [
      {
        index: 0,
        keys: [
          { key: "int", value: { type: "string", value: "-12345" } },
          { key: "text", value: { type: "string", value: "hello" }, expireAt: 1_900_000_000_000 },
          { key: "packed", value: { type: "string", value: "abcabcabcabcabcabcabcabcabcabc" } },
          {
            key: "list",
            value: { type: "list", items: ["a", "1", "-300", ALL_BYTES.slice(0, 80)] },
          },
          { key: "intset", value: { type: "set", members: ["3", "1", "70000"] } },
          { key: "set", value: { type: "set", members: ["x", "y"] } },
          { key: "zset", value: { type: "zset", entries: [["a", 1.5], ["b", -Infinity]] } },
          { key: "zset2", value: { type: "zset", entries: [["m".repeat(65), 2], ["n", 3]] } },
          { key: "hash", value: { type: "hash", entries: [["f", "v"], ["n", "7"]] } },
          { key: "hash2", value: { type: "hash", entries: [["f", "v".repeat(65)]] } },
          {
            key: "stream",
            value: {
              type: "stream",
              stream: {
                entries: [
                  { id: { ms: 5n, seq: 0n }, fields: ["a", "1"] },
                  { id: { ms: 5n, seq: 1n }, fields: ["a", "2"] },
                  { id: { ms: 6n, seq: 0n }, fields: ["b", "x"] },
                ],
                lastId: { ms: 6n, seq: 0n },
                entriesAdded: 4n,
                maxDeletedId: { ms: 5n, seq: 5n },
                firstId: { ms: 5n, seq: 0n },
                groups: [{
                  name: "g",
                  lastId: { ms: 5n, seq: 1n },
                  entriesRead: 2n,
                  pending: [{
                    id: { ms: 5n, seq: 1n },
                    consumer: "c",
                    deliveryTime: 10,
                    deliveryCount: 2,
                  }],
                  consumers: [{ name: "c", seenTime: 20 }],
                }],
              },
            },
          },
        ],
      },
      { index: 9, keys: [{ key: "other", value: { type: "string", value: "db" } }] },
    ],
  }, { createdAt: 1_800_000_000, usedMemory: 123456 });
}

function readInChunks(bytes: Uint8Array, size: number): RdbRecord[] {
  const reader = new RdbFileReader();
  const records: RdbRecord[] = [];
  const chunk = new Uint8Array(size); // reused: the reader must not keep it
  for (let offset = 0; offset < bytes.length; offset += size) {
    const piece = bytes.subarray(offset, offset + size);
    chunk.set(piece);
    records.push(...reader.push(chunk.subarray(0, piece.length)));
    chunk.fill(0xee);
  }
  records.push(...reader.end());
  return records;
}

Deno.test("a file cut at any offset is reported as truncated, whole or in chunks", () => {
  const file = sampleFile();
  assert.equal(readRdbFile(file).keys.length, 12);
  for (let cut = 0; cut < file.length; cut++) {
    for (
      const read of [
        () => readRdbFile(file.subarray(0, cut)),
        () => readInChunks(file.subarray(0, cut), 7),
      ]
    ) {
      assert.throws(read, (error: unknown) => {
        assert.ok(error instanceof RdbError, `cut at ${cut}: ${error}`);
        assert.equal(error.reason, "truncated", `cut at ${cut}: ${error.message}`);
        return true;
      });
    }
  }
});

Deno.test("any single changed byte of a file is an RdbError, never a silent load", () => {
  const file = sampleFile();
  const reasons = new Map<string, number>();
  for (let offset = 0; offset < file.length; offset++) {
    for (const mask of [0x01, 0x80, 0xff]) {
      const changed = file.slice();
      changed[offset]! ^= mask;
      assert.throws(() => readRdbFile(changed), (error: unknown) => {
        assert.ok(error instanceof RdbError, `byte ${offset} ^ ${mask}: ${error}`);
        reasons.set(error.reason, (reasons.get(error.reason) ?? 0) + 1);
        return true;
      });
    }
  }
  // Both kinds of defence are exercised: structure checks and the checksum.
  assert.ok((reasons.get("corrupt") ?? 0) > 0 && (reasons.get("checksum") ?? 0) > 0);
});

Deno.test("chunk boundaries anywhere give the same records as the whole file", () => {
  const file = sampleFile();
  const whole = readInChunks(file, file.length);
  for (const size of [1, 2, 3, 5, 16, 100, 1000]) {
    assert.deepEqual(readInChunks(file, size), whole, `chunks of ${size}`);
  }
});

Deno.test("bytes after the footer are the remainder (an AOF tail after an RDB preamble)", () => {
  const file = sampleFile();
  const tail = new TextEncoder().encode("*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n");
  const joined = new Uint8Array(file.length + tail.length);
  joined.set(file);
  joined.set(tail, file.length);
  for (const size of [1, 13, joined.length]) {
    const reader = new RdbFileReader();
    for (let offset = 0; offset < joined.length; offset += size) {
      reader.push(joined.slice(offset, offset + size));
    }
    reader.end();
    assert.ok(reader.done);
    assert.equal(reader.summary().size, file.length);
    assert.deepEqual(reader.remainder(), tail);
  }
});

Deno.test("random bytes as a listpack, ziplist, intset or zipmap decode or fail with RdbError", () => {
  const next = random(3);
  const builder = new ListpackBuilder();
  for (const item of ["a", "12", "-4000", "70000", "x".repeat(100), "9223372036854775807"]) {
    builder.append(item);
  }
  const listpack = builder.finish().slice();
  const decoders: [string, (bytes: Uint8Array) => unknown, Uint8Array][] = [
    ["listpack", listpackStrings, listpack],
    ["ziplist", ziplistStrings, Uint8Array.of(14, 0, 0, 0, 10, 0, 0, 0, 1, 0, 0, 1, 97, 255)],
    ["intset", intsetStrings, Uint8Array.of(2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 2, 0)],
    ["zipmap", zipmapEntries, Uint8Array.of(1, 1, 97, 1, 0, 98, 255)],
  ];
  for (const [name, decode, valid] of decoders) {
    decode(valid);
    for (let round = 0; round < 3000; round++) {
      const bytes = valid.slice(0, Math.floor(next() * (valid.length + 4)));
      const mutations = 1 + Math.floor(next() * 3);
      for (let i = 0; i < mutations && bytes.length > 0; i++) {
        bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
      }
      try {
        decode(bytes);
      } catch (error) {
        assert.ok(error instanceof RdbError, `${name} ${Array.from(bytes)}: ${error}`);
      }
    }
  }
});

/**
 * What we refuse and Redis 7.0 loads anyway: a score that is not a number
 * (Redis reads what strtod makes of it), a sorted set listpack out of score
 * order (Redis would serve it unsorted), stream IDs out of order or past
 * the last ID, stream counts that disagree with its entries, a stream
 * listpack whose header miscounts its elements (Redis checks only the
 * header's size there), a length with an invalid encoding in stream
 * metadata (Redis takes the error value, UINT64_MAX, as the ID).
 */
const STRICTER_THAN_REDIS = new RegExp(
  [
    "invalid score",
    "out of order",
    "greater than the stream's last ID",
    "not in ascending order",
    "inconsistent with its entries",
    "wrong element count",
    "Unknown length encoding",
  ].join("|"),
);

Deno.test({
  name: "mutated DUMP payloads are accepted only when redis-server accepts them, as the same value",
  ...SERVER_TEST,
  fn: () =>
    withRedis(async (client) => {
      await must(client, "CONFIG", "SET", "sanitize-dump-payload", "yes");
      const seeds: Uint8Array[] = [];
      const setups: string[][] = [
        ["HSET", "k", "f1", "v1", "n", "100", "neg", "-70000"],
        ["ZADD", "k", "1", "a", "2.5", "b", "-3", "c"],
        ["SADD", "k", "1", "300", "-70000"],
        ["SADD", "k", "a", "b"],
        ["RPUSH", "k", "a", "1", "b", "20000"],
        ["ZADD", "k", "1", "z".repeat(70), "2", "b"],
        ["HSET", "k", "f", "v".repeat(70)],
        ["SET", "k", "compressible ".repeat(10)],
        ["XADD", "k", "1-1", "a", "1", "b", "2"],
      ];
      for (const setup of setups) {
        await must(client, "DEL", "k");
        await must(client, ...setup);
        if (setup[0] === "XADD") {
          await must(client, "XADD", "k", "2-0", "a", "3", "b", "4");
          await must(client, "XGROUP", "CREATE", "k", "g", "0");
          await must(client, "XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "k", ">");
        }
        seeds.push(replyBytes(await must(client, "DUMP", "k")));
      }
      const next = random(5);
      let agreedAccept = 0;
      let agreedReject = 0;
      let stricter = 0;
      for (let round = 0; round < 600; round++) {
        const seed = seeds[round % seeds.length]!;
        const body = seed.slice(0, seed.length - 10);
        const mutations = 1 + Math.floor(next() * 2);
        for (let i = 0; i < mutations; i++) {
          body[1 + Math.floor(next() * (body.length - 1))] = Math.floor(next() * 256);
        }
        const payload = withFooter(body);
        const reply = await call(client, "RESTORE", "fuzz", "0", payload, "REPLACE");
        const redisAccepted = reply === "OK";
        let ours: ReturnType<typeof decodeDumpPayload> | undefined;
        try {
          ours = decodeDumpPayload(payload);
        } catch (error) {
          assert.ok(error instanceof RdbError, String(error));
          // Where Redis accepts and we refuse, it is a value Redis would hold wrongly.
          if (redisAccepted) {
            assert.match(error.message, STRICTER_THAN_REDIS, `${Array.from(payload)}`);
          }
        }
        if (ours === undefined) {
          if (redisAccepted) {
            stricter++;
          } else agreedReject++;
          continue;
        }
        assert.ok(redisAccepted, `we accepted what redis-server refused: ${Array.from(payload)}`);
        assert.deepEqual(
          canonical(ours),
          await valueOfRedis(client, "fuzz"),
          `${Array.from(payload)}`,
        );
        agreedAccept++;
      }
      assert.ok(
        agreedAccept > 20 && agreedReject > 100,
        `${agreedAccept} ${agreedReject} ${stricter}`,
      );
    }),
});

Deno.test("our own encodings decode back to the values they encode", () => {
  const next = random(9);
  for (let round = 0; round < 200; round++) {
    const items = Array.from({ length: 1 + Math.floor(next() * 40) }, () => {
      const kind = next();
      if (kind < 0.3) return String(Math.floor((next() - 0.5) * 2 ** (next() * 64)));
      if (kind < 0.4) return String(BigInt.asIntN(64, BigInt(Math.floor(next() * 2 ** 53)) << 11n));
      return randomBinary(next, Math.floor(next() ** 3 * 5000));
    });
    for (const compression of [true, false]) {
      const value = { type: "list" as const, items };
      assert.deepEqual(decodeDumpPayload(encodeDumpPayload(value, { compression })), value);
    }
  }
});
