/**
 * DUMP / RESTORE payloads against redis-server, both directions: its DUMP
 * decodes to what it holds, our payloads RESTORE into it (with
 * `sanitize-dump-payload yes`, so Redis checks them deeply) as the same
 * values, and the two error replies come out for the same payloads. The
 * same for FUNCTION DUMP / FUNCTION RESTORE.
 *
 * Each test skips, loudly, when redis-server is not installed.
 */

import assert from "node:assert/strict";
import {
  BAD_DATA_FORMAT_ERROR,
  decodeDumpPayload,
  decodeFunctionDump,
  DUMP_PAYLOAD_ERROR,
  encodeDumpPayload,
  encodeFunctionDump,
  RdbError,
  type RdbValue,
  restoreErrorReply,
  verifyDumpPayload,
} from "../../src/rdb/mod.ts";
import {
  ALL_BYTES,
  call,
  canonical,
  functionsOfRedis,
  must,
  populate,
  random,
  randomBinary,
  replyBytes,
  SERVER_TEST,
  valueOfRedis,
  withFooter,
  withRedis,
} from "./helpers.ts";

function restoreError(error: unknown): string {
  assert.ok(error instanceof RdbError, `expected an RdbError, got ${error}`);
  return restoreErrorReply(error);
}

Deno.test({
  name: "DUMP payloads of redis-server decode to the values it holds",
  ...SERVER_TEST,
  fn: () =>
    withRedis(async (client) => {
      await populate(client);
      for (const key of (await must(client, "KEYS", "*")) as string[]) {
        const value = decodeDumpPayload(replyBytes(await must(client, "DUMP", key)));
        assert.deepEqual(
          canonical(value),
          await valueOfRedis(client, key),
          `key ${key.slice(0, 40)}`,
        );
      }
    }),
});

Deno.test({
  name:
    "our payloads of redis-server's values RESTORE into it, deeply sanitised, as the same values",
  ...SERVER_TEST,
  fn: () =>
    withRedis(async (client) => {
      await populate(client);
      await must(client, "CONFIG", "SET", "sanitize-dump-payload", "yes");
      for (const key of (await must(client, "KEYS", "*")) as string[]) {
        const value = decodeDumpPayload(replyBytes(await must(client, "DUMP", key)));
        for (const compression of [true, false]) {
          const copy = `copy:${key}`;
          await must(
            client,
            "RESTORE",
            copy,
            "0",
            encodeDumpPayload(value, { compression }),
            "REPLACE",
          );
          assert.deepEqual(await valueOfRedis(client, copy), await valueOfRedis(client, key), key);
        }
      }
    }),
});

/** Values built on our side, in orders and sizes redis-server's own data would not have. */
function ourValues(): [string, RdbValue][] {
  const next = random(11);
  return [
    ["unsorted zset", {
      type: "zset",
      entries: [["b", 2], ["a", 2], ["c", -Infinity], ["d", Infinity], ["e", 0.30000000000000004]],
    }],
    ["big zset", {
      type: "zset",
      entries: Array.from(
        { length: 300 },
        (_, i): [string, number] => [`m${i}`, (i * 7919) % 301 / 3],
      ),
    }],
    ["tied scores", { type: "zset", entries: [["z", 1], ["y", 1], ["x", 1]] }],
    ["hash of 600", {
      type: "hash",
      entries: Array.from(
        { length: 600 },
        (_, i): [string, string] => [`f${i}`, randomBinary(next, 5)],
      ),
    }],
    ["hash with a long field", { type: "hash", entries: [["f".repeat(65), "v"], ["g", "1"]] }],
    ["int set of 513", { type: "set", members: Array.from({ length: 513 }, (_, i) => String(-i)) }],
    ["unsorted int set", {
      type: "set",
      members: ["5", "-9223372036854775808", "3", "9223372036854775807"],
    }],
    ["non-canonical numbers", { type: "set", members: ["01", "1", "-0", "+2"] }],
    ["list of big items", {
      type: "list",
      items: Array.from({ length: 40 }, (_, i) => randomBinary(next, 500 + i)),
    }],
    ["list of 10000", {
      type: "list",
      items: Array.from({ length: 10000 }, (_, i) => String(i % 300)),
    }],
    ["binary string", { type: "string", value: ALL_BYTES.repeat(3) }],
    ["stream", {
      type: "stream",
      stream: {
        entries: Array.from({ length: 230 }, (_, i) => ({
          id: { ms: 1_700_000_000_000n + BigInt(i >> 1), seq: BigInt(i & 1) },
          fields: i % 50 === 7
            ? ["different", String(i)]
            : ["a", String(i), "b", randomBinary(next, 8)],
        })),
        lastId: { ms: 1_700_000_000_500n, seq: 3n },
        entriesAdded: 240n,
        maxDeletedId: { ms: 1_700_000_000_400n, seq: 0n },
        firstId: { ms: 1_700_000_000_000n, seq: 0n },
        groups: [{
          name: "g",
          lastId: { ms: 1_700_000_000_001n, seq: 1n },
          entriesRead: -1n,
          pending: [
            {
              id: { ms: 1_700_000_000_001n, seq: 0n },
              consumer: "c2",
              deliveryTime: 1234,
              deliveryCount: 3,
            },
            {
              id: { ms: 1_700_000_000_000n, seq: 1n },
              consumer: "c1",
              deliveryTime: 99,
              deliveryCount: 1,
            },
          ],
          consumers: [{ name: "c2", seenTime: 5000 }, { name: "c1", seenTime: 6000 }, {
            name: "c0",
            seenTime: 7000,
          }],
        }],
      },
    }],
  ];
}

Deno.test({
  name: "values built on our side RESTORE into redis-server, deeply sanitised, as the same data",
  ...SERVER_TEST,
  fn: () =>
    withRedis(async (client) => {
      await must(client, "CONFIG", "SET", "sanitize-dump-payload", "yes");
      for (const [name, value] of ourValues()) {
        await must(client, "RESTORE", name, "0", encodeDumpPayload(value));
        assert.deepEqual(await valueOfRedis(client, name), canonical(value), name);
        // And back: redis-server's DUMP of it decodes to the same value.
        const again = decodeDumpPayload(replyBytes(await must(client, "DUMP", name)));
        assert.deepEqual(canonical(again), canonical(value), name);
      }
    }),
});

Deno.test({
  name:
    "values encoded with non-default encoding limits RESTORE into redis-server as the same data",
  ...SERVER_TEST,
  fn: () =>
    withRedis(async (client) => {
      await must(client, "CONFIG", "SET", "sanitize-dump-payload", "yes");
      const limits = [
        { listMaxListpackSize: 5, streamNodeMaxEntries: 1000, streamNodeMaxBytes: 1 << 20 },
        { listMaxListpackSize: -1, hashMaxListpackEntries: 2, zsetMaxListpackEntries: 2 },
        { listMaxListpackSize: -5, setMaxIntsetEntries: 3, streamNodeMaxEntries: 0 },
        { hashMaxListpackValue: 1, zsetMaxListpackValue: 1, streamNodeMaxBytes: 0 },
      ];
      for (const limit of limits) {
        for (const [name, value] of ourValues()) {
          const payload = encodeDumpPayload(value, { limits: limit });
          assert.deepEqual(canonical(decodeDumpPayload(payload)), canonical(value), name);
          await must(client, "RESTORE", name, "0", payload, "REPLACE");
          assert.deepEqual(
            await valueOfRedis(client, name),
            canonical(value),
            `${name} ${JSON.stringify(limit)}`,
          );
        }
      }
    }),
});

Deno.test({
  name:
    "RESTORE errors: a bad footer is 'DUMP payload version or checksum are wrong', bad content 'Bad data format'",
  ...SERVER_TEST,
  fn: () =>
    withRedis(async (client) => {
      await must(client, "CONFIG", "SET", "sanitize-dump-payload", "yes");
      const good = encodeDumpPayload({ type: "hash", entries: [["a", "1"], ["b", "2"]] });
      const body = good.subarray(0, good.length - 10);
      const badCrc = good.slice();
      badCrc[badCrc.length - 1]! ^= 1;
      const zeroCrc = good.slice();
      zeroCrc.fill(0, zeroCrc.length - 8);
      const listpack = body.subarray(2); // after the type byte and the 1-byte string length
      const badCount = body.slice();
      badCount[2 + 4] = 5; // the listpack says 5 elements, holds 4
      const cases: [string, Uint8Array, string][] = [
        ["a flipped checksum bit", badCrc, DUMP_PAYLOAD_ERROR],
        ["a zero checksum", zeroCrc, DUMP_PAYLOAD_ERROR],
        ["version 11", withFooter(body, 11), DUMP_PAYLOAD_ERROR],
        ["a too short payload", good.subarray(0, 9), DUMP_PAYLOAD_ERROR],
        ["version 9", withFooter(body, 9), "OK"],
        [
          "an unknown type",
          withFooter(Uint8Array.of(8, ...body.subarray(1))),
          BAD_DATA_FORMAT_ERROR,
        ],
        [
          "a module type",
          withFooter(Uint8Array.of(7, 0x81, 1, 2, 3, 4, 5, 6, 7, 8)),
          BAD_DATA_FORMAT_ERROR,
        ],
        ["a wrong listpack count", withFooter(badCount), BAD_DATA_FORMAT_ERROR],
        [
          "a truncated listpack",
          withFooter(body.subarray(0, body.length - 3)),
          BAD_DATA_FORMAT_ERROR,
        ],
        ["an empty list", withFooter(Uint8Array.of(1, 0)), BAD_DATA_FORMAT_ERROR],
        ["an empty quicklist", withFooter(Uint8Array.of(18, 0)), BAD_DATA_FORMAT_ERROR],
        [
          "an empty intset",
          withFooter(Uint8Array.of(11, 8, 2, 0, 0, 0, 0, 0, 0, 0)),
          BAD_DATA_FORMAT_ERROR,
        ],
        [
          "duplicate set members",
          withFooter(Uint8Array.of(2, 2, 1, 97, 1, 97)),
          BAD_DATA_FORMAT_ERROR,
        ],
        ["a NaN score", withFooter(Uint8Array.of(3, 1, 1, 97, 253)), BAD_DATA_FORMAT_ERROR],
        ["trailing bytes before the footer", withFooter(Uint8Array.of(...body, 1, 2, 3)), "OK"],
      ];
      assert.equal(listpack.length, body.length - 2);
      for (const [what, payload, expected] of cases) {
        const reply = await call(client, "RESTORE", "k", "0", payload, "REPLACE");
        const redisText = typeof reply === "string"
          ? reply
          : `ERR ${(reply as { error: string }).error.replace(/^ERR /, "")}`;
        assert.equal(redisText, expected, `redis-server, ${what}`);
        let ours: string;
        try {
          decodeDumpPayload(payload);
          ours = "OK";
        } catch (error) {
          ours = restoreError(error);
        }
        assert.equal(ours, expected, `ours, ${what}`);
        assert.equal(verifyDumpPayload(payload), expected !== DUMP_PAYLOAD_ERROR, what);
      }
    }),
});

Deno.test({
  name: "FUNCTION DUMP payloads go both ways between redis-server and us",
  ...SERVER_TEST,
  fn: () =>
    withRedis(async (client) => {
      const libraries = [
        "#!lua name=first\nredis.register_function('one', function() return 1 end)",
        "#!lua name=second\nredis.register_function('two', function() return '" + "x".repeat(100) +
        "' end)",
      ];
      for (const code of libraries) await must(client, "FUNCTION", "LOAD", code);
      const dumped = replyBytes(await must(client, "FUNCTION", "DUMP"));
      assert.deepEqual(decodeFunctionDump(dumped).sort(), [...libraries].sort());
      await must(client, "FUNCTION", "FLUSH");
      await must(client, "FUNCTION", "RESTORE", encodeFunctionDump(libraries));
      assert.deepEqual(await functionsOfRedis(client), [...libraries].sort());

      const bad = encodeFunctionDump(libraries);
      bad[bad.length - 1]! ^= 0xff;
      const reply = await call(client, "FUNCTION", "RESTORE", bad, "REPLACE");
      assert.throws(() => decodeFunctionDump(bad), (error: Error) => {
        assert.deepEqual(reply, { error: `ERR ${error.message}` });
        return true;
      });
      const notFunction = withFooter(Uint8Array.of(0, 1, 97));
      const notReply = await call(client, "FUNCTION", "RESTORE", notFunction, "REPLACE");
      assert.throws(() => decodeFunctionDump(notFunction), (error: Error) => {
        assert.deepEqual(notReply, { error: `ERR ${error.message}` });
        return true;
      });
    }),
});
