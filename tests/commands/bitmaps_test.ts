/**
 * Bitmap commands over a real socket: randomized comparisons with a real
 * redis-server (BITCOUNT/BITPOS ranges in both units, BITFIELD operations
 * with every type and overflow behaviour, BITOP), what is logged to the
 * AOF (nothing when no bit changed), and bitmaps of a few megabytes.
 *
 * @module
 */

import {
  assertSameReply,
  parseAof,
  query,
  seededRandom,
  withBothServers,
} from "../helpers/test_support.ts";
import assert from "node:assert/strict";
import { RawClient, startOurServer } from "../helpers/servers.ts";

function randomInteger(random: () => number, from: number, to: number): number {
  return from + Math.floor(random() * (to - from + 1));
}

/** Random bytes biased towards 0x00 and 0xff, where BITPOS has its edge cases. */
function randomBytes(random: () => number, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => {
    const pick = random();
    return pick < 0.3 ? 0 : pick < 0.6 ? 0xff : randomInteger(random, 0, 255);
  });
}

Deno.test("BITCOUNT and BITPOS match redis-server on random strings and ranges", async () => {
  await withBothServers(async (ours, redis) => {
    const random = seededRandom(42);
    for (let round = 0; round < 60; round++) {
      const length = randomInteger(random, 0, 10);
      await assertSameReply(ours, redis, "SET", "bits", randomBytes(random, length));
      await assertSameReply(ours, redis, "BITCOUNT", "bits");
      await assertSameReply(ours, redis, "BITPOS", "bits", "0");
      await assertSameReply(ours, redis, "BITPOS", "bits", "1");
      for (let i = 0; i < 8; i++) {
        const unit = random() < 0.5 ? "BIT" : "BYTE";
        const limit = unit === "BIT" ? 100 : 14;
        const start = String(randomInteger(random, -limit, limit));
        const end = String(randomInteger(random, -limit, limit));
        const bit = String(randomInteger(random, 0, 1));
        await assertSameReply(ours, redis, "BITCOUNT", "bits", start, end, unit);
        await assertSameReply(ours, redis, "BITCOUNT", "bits", start, end);
        await assertSameReply(ours, redis, "BITPOS", "bits", bit, start, end, unit);
        await assertSameReply(ours, redis, "BITPOS", "bits", bit, start, end);
        await assertSameReply(ours, redis, "BITPOS", "bits", bit, start);
      }
    }
  });
});

Deno.test("BITFIELD matches redis-server on random operations", async () => {
  await withBothServers(async (ours, redis) => {
    const random = seededRandom(1234);
    const overflows = ["WRAP", "SAT", "FAIL"];
    const values = [
      "0",
      "1",
      "-1",
      "127",
      "-128",
      "255",
      "9223372036854775807",
      "-9223372036854775808",
      "4611686018427387904",
      "-4611686018427387905",
    ];
    for (let round = 0; round < 300; round++) {
      const args = ["BITFIELD", `field${round % 5}`];
      const operations = randomInteger(random, 1, 5);
      for (let i = 0; i < operations; i++) {
        const signed = random() < 0.5;
        const bits = randomInteger(random, 1, signed ? 64 : 63);
        const type = `${signed ? "i" : "u"}${bits}`;
        const offset = random() < 0.2
          ? `#${randomInteger(random, 0, 6)}`
          : String(randomInteger(random, 0, 90));
        const pick = random();
        if (pick < 0.2) args.push("OVERFLOW", overflows[randomInteger(random, 0, 2)]!);
        const value = random() < 0.6
          ? values[randomInteger(random, 0, values.length - 1)]!
          : String(randomInteger(random, -300, 300));
        if (pick < 0.4) args.push("GET", type, offset);
        else if (pick < 0.7) args.push("SET", type, offset, value);
        else args.push("INCRBY", type, offset, value);
      }
      await assertSameReply(ours, redis, ...args);
      await assertSameReply(ours, redis, "GET", args[1]!);
    }
  });
});

Deno.test("BITOP matches redis-server on random strings", async () => {
  await withBothServers(async (ours, redis) => {
    const random = seededRandom(5);
    for (let round = 0; round < 40; round++) {
      for (const key of ["x", "y", "z"]) {
        await assertSameReply(
          ours,
          redis,
          "SET",
          key,
          randomBytes(random, randomInteger(random, 0, 9)),
        );
      }
      for (const operator of ["AND", "OR", "XOR"]) {
        await assertSameReply(ours, redis, "BITOP", operator, "out", "x", "y", "z", "missing");
        await assertSameReply(ours, redis, "GET", "out");
      }
      await assertSameReply(ours, redis, "BITOP", "NOT", "out", "y");
      await assertSameReply(ours, redis, "GET", "out");
    }
  });
});

/** The commands our server logs to its AOF for `commands`, SELECTs left out. */
async function loggedCommands(commands: string[][]): Promise<string[][]> {
  const dir = await Deno.makeTempDir({ prefix: "bitmaps-aof-" });
  try {
    const server = await startOurServer({
      args: ["--appendonly", "yes", "--appendfsync", "always"],
      dir,
    });
    const client = await RawClient.connect(server.port);
    try {
      for (const args of commands) await client.command(...args);
    } finally {
      await client.close();
      await server.stop();
    }
    return parseAof(await Deno.readFile(`${dir}/database.aof`), { select: false });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("bit writes that change nothing are not logged", async () => {
  const logged = await loggedCommands([
    ["SETBIT", "b", "7", "1"],
    ["SETBIT", "b", "7", "1"],
    ["SETBIT", "b", "6", "0"],
    ["SETBIT", "b", "20", "0"],
    ["BITFIELD", "b", "SET", "u8", "0", "1"],
    ["BITFIELD", "b", "INCRBY", "u8", "0", "0"],
    ["BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "255"],
    ["BITFIELD", "b", "GET", "u8", "0"],
    ["BITFIELD", "b", "SET", "u8", "0", "2"],
    ["BITFIELD", "fresh", "OVERFLOW", "FAIL", "INCRBY", "u2", "100", "10"],
    ["BITOP", "NOT", "d", "missing"],
    ["BITOP", "NOT", "d", "b"],
  ]);
  assert.deepEqual(logged, [
    ["SETBIT", "b", "7", "1"],
    ["SETBIT", "b", "20", "0"],
    ["BITFIELD", "b", "SET", "u8", "0", "2"],
    ["BITOP", "NOT", "d", "b"],
  ]);
});

Deno.test("BITFIELD with FAIL still grows the string, as in Redis", async () => {
  const server = await startOurServer();
  const client = await RawClient.connect(server.port);
  try {
    assert.deepEqual(
      await query(client, "BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "100", "10"),
      [
        null,
      ],
    );
    assert.equal(await query(client, "STRLEN", "k"), 13);
  } finally {
    await client.close();
    await server.stop();
  }
});

Deno.test("bitmaps of megabytes: SETBIT far out, then count and search", async () => {
  const server = await startOurServer();
  const client = await RawClient.connect(server.port);
  try {
    const far = 8 * 4 * 1024 * 1024 + 3;
    assert.equal(await query(client, "SETBIT", "big", String(far), "1"), 0);
    assert.equal(await query(client, "STRLEN", "big"), 4 * 1024 * 1024 + 1);
    assert.equal(await query(client, "SETBIT", "big", "5", "1"), 0);
    assert.equal(await query(client, "BITCOUNT", "big"), 2);
    assert.equal(await query(client, "BITPOS", "big", "1", "1"), far);
    assert.equal(await query(client, "BITPOS", "big", "1", "6", "-1", "BIT"), far);
    assert.equal(await query(client, "BITPOS", "big", "0", "0", "-1", "BIT"), 0);
    assert.equal(await query(client, "GETBIT", "big", String(far)), 1);
    assert.deepEqual(await query(client, "BITFIELD", "big", "GET", "u8", String(far - 3)), [16]);
    assert.equal(await query(client, "BITOP", "NOT", "inverse", "big"), 4 * 1024 * 1024 + 1);
    assert.equal(await query(client, "BITCOUNT", "inverse"), (4 * 1024 * 1024 + 1) * 8 - 2);
  } finally {
    await client.close();
    await server.stop();
  }
});
