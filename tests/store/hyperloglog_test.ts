/**
 * Tests for the HyperLogLog core: recorded vectors from Redis 7.0.15 that run
 * everywhere, then differential runs against a real redis-server comparing
 * the exact bytes GET returns after PFADD, PFCOUNT (which rewrites the
 * cached cardinality), PFMERGE and PFDEBUG, on seeded random element sets of
 * up to 200k elements and on corrupted strings.
 *
 * The comparisons drive the module through a small emulation of the PF
 * commands (`Emulator` below) written the way the real commands are meant to
 * use it, so it doubles as a worked example for them.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  CORRUPTED_HYPERLOGLOG_ERROR,
  CorruptedHyperLogLogError,
  HLL_DENSE_SIZE,
  HLL_NOT_SPARSE_ERROR,
  HLL_REGISTERS,
  HyperLogLog,
  hyperLogLogSelfTest,
  HyperLogLogUnion,
  murmurHash64A,
  NOT_A_HYPERLOGLOG_ERROR,
  PFDEBUG_NO_SUCH_KEY_ERROR,
  registerOf,
} from "../../src/store/hyperloglog.ts";
import {
  bytesToLatin1,
  encodeCommand,
  RawClient,
  redisServerPath,
  type RunningServer,
  startRedisServer,
} from "../helpers/servers.ts";
import { seededRandom } from "../helpers/test_support.ts";

const REDIS_AVAILABLE = redisServerPath() !== undefined;
if (!REDIS_AVAILABLE) {
  console.warn("redis-server not installed: SKIPPING the HyperLogLog comparisons with Redis");
}

// ---------------------------------------------------------------------------
// Reply encoding (RESP2, as raw strings) and a PF command emulation

const integer = (value: number | bigint) => `:${value}\r\n`;
const error = (message: string) => `-${message}\r\n`;
const bulk = (value: string) => `$${value.length}\r\n${value}\r\n`;
const status = (value: string) => `+${value}\r\n`;

/** A keyspace of strings and HLLs, with PFADD/PFCOUNT/PFMERGE/PFDEBUG as Redis 7.0 runs them. */
class Emulator {
  readonly keys = new Map<string, string | HyperLogLog>();
  sparseMaxBytes = 3000;

  get(key: string): string | undefined {
    const value = this.keys.get(key);
    return typeof value === "string" ? value : value?.toBinary();
  }

  #hll(key: string): HyperLogLog | undefined {
    const value = this.keys.get(key);
    if (value === undefined || value instanceof HyperLogLog) return value;
    const hll = HyperLogLog.fromBinary(value);
    if (hll !== undefined) this.keys.set(key, hll);
    return hll;
  }

  run(command: string[]): string {
    try {
      return this.#run(command);
    } catch (caught) {
      if (caught instanceof CorruptedHyperLogLogError) return error(caught.message);
      throw caught;
    }
  }

  #run([name, ...args]: string[]): string {
    switch (name!.toUpperCase()) {
      case "SET":
        this.keys.set(args[0]!, args[1]!);
        return status("OK");
      case "GET": {
        const value = this.get(args[0]!);
        return value === undefined ? "$-1\r\n" : bulk(value);
      }
      case "DEL":
        return integer(args.filter((key) => this.keys.delete(key)).length);
      case "PFADD": {
        const [key, ...elements] = args;
        let hll: HyperLogLog | undefined;
        let created = false;
        if (!this.keys.has(key!)) {
          hll = HyperLogLog.create();
          this.keys.set(key!, hll);
          created = true;
        } else {
          hll = this.#hll(key!);
          if (hll === undefined) return error(NOT_A_HYPERLOGLOG_ERROR);
        }
        let updated = hll.addElements(elements, this.sparseMaxBytes);
        if (created) {
          hll.invalidateCache();
          updated = true;
        }
        return integer(updated ? 1 : 0);
      }
      case "PFCOUNT": {
        if (args.length === 1) {
          if (!this.keys.has(args[0]!)) return integer(0);
          const hll = this.#hll(args[0]!);
          if (hll === undefined) return error(NOT_A_HYPERLOGLOG_ERROR);
          return integer(hll.count().cardinality);
        }
        const union = new HyperLogLogUnion();
        for (const key of args) {
          if (!this.keys.has(key)) continue;
          const hll = this.#hll(key);
          if (hll === undefined) return error(NOT_A_HYPERLOGLOG_ERROR);
          union.add(hll);
        }
        return integer(union.count());
      }
      case "PFMERGE": {
        const union = new HyperLogLogUnion();
        for (const key of args) {
          if (!this.keys.has(key)) continue;
          const hll = this.#hll(key);
          if (hll === undefined) return error(NOT_A_HYPERLOGLOG_ERROR);
          union.add(hll);
        }
        let destination = this.#hll(args[0]!);
        if (destination === undefined) {
          destination = HyperLogLog.create();
          this.keys.set(args[0]!, destination);
        }
        union.storeInto(destination, this.sparseMaxBytes);
        return status("OK");
      }
      case "PFDEBUG": {
        const [subcommand, key] = args;
        if (!this.keys.has(key!)) return error(PFDEBUG_NO_SUCH_KEY_ERROR);
        const hll = this.#hll(key!);
        if (hll === undefined) return error(NOT_A_HYPERLOGLOG_ERROR);
        switch (subcommand!.toUpperCase()) {
          case "GETREG": {
            const { registers } = hll.debugRegisters();
            return `*${registers.length}\r\n` + Array.from(registers, integer).join("");
          }
          case "DECODE": {
            const decoded = hll.debugDecode();
            return decoded === undefined ? error(HLL_NOT_SPARSE_ERROR) : bulk(decoded);
          }
          case "ENCODING":
            return status(hll.encoding);
          case "TODENSE":
            return integer(hll.toDense() ? 1 : 0);
        }
        throw new Error(`unsupported PFDEBUG ${subcommand}`);
      }
    }
    throw new Error(`unsupported command ${name}`);
  }
}

// ---------------------------------------------------------------------------
// Talking to redis-server

/** Sends all commands at once and returns each raw reply (latin1). */
async function pipeline(client: RawClient, commands: string[][]): Promise<string[]> {
  const replies: string[] = [];
  for (let start = 0; start < commands.length; start += 200) {
    const batch = commands.slice(start, start + 200);
    const parts = batch.map((command) => encodeCommand(command.map(latin1)));
    const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
    const request = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      request.set(part, offset);
      offset += part.byteLength;
    }
    await client.send(request);
    for (let i = 0; i < batch.length; i++) replies.push(bytesToLatin1(await client.readReply()));
  }
  return replies;
}

function latin1(value: string): Uint8Array {
  const bytes = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) bytes[i] = value.charCodeAt(i);
  return bytes;
}

/** Runs `test` against a fresh redis-server, or returns at once when none is installed. */
async function withRedis(
  test: (client: RawClient, server: RunningServer) => Promise<void>,
): Promise<void> {
  const server = await startRedisServer();
  if (server === undefined) return;
  const client = await RawClient.connect(server.port);
  try {
    await test(client, server);
  } finally {
    await client.close();
    await server.stop();
  }
}

/** Runs each command on Redis and the emulator and asserts identical replies. */
async function assertSameReplies(
  client: RawClient,
  emulator: Emulator,
  commands: string[][],
  context: string,
): Promise<void> {
  const expected = await pipeline(client, commands);
  commands.forEach((command, i) => {
    const actual = emulator.run(command);
    if (actual !== expected[i]) {
      assert.equal(
        JSON.stringify(actual.slice(0, 300)),
        JSON.stringify(expected[i]!.slice(0, 300)),
        `${context}: reply to ${JSON.stringify(command).slice(0, 200)}`,
      );
    }
  });
}

/** Asserts that GET of every key returns the same bytes from Redis and the emulator. */
async function assertSameValues(
  client: RawClient,
  emulator: Emulator,
  keys: string[],
  context: string,
): Promise<void> {
  const replies = await pipeline(client, keys.map((key) => ["GET", key]));
  keys.forEach((key, i) => {
    const actual = emulator.run(["GET", key]);
    if (actual !== replies[i]) {
      assert.fail(`${context}: GET ${key} differs (${describeDifference(actual, replies[i]!)})`);
    }
  });
}

function describeDifference(actual: string, expected: string): string {
  let at = 0;
  while (at < actual.length && actual[at] === expected[at]) at++;
  return `lengths ${actual.length} vs ${expected.length}, first difference at byte ${at}`;
}

/** Random binary elements: mostly short, some long, every byte value possible. */
function randomElements(random: () => number, count: number): string[] {
  const elements: string[] = [];
  for (let i = 0; i < count; i++) {
    const length = random() < 0.05 ? Math.floor(random() * 200) : Math.floor(random() * 24);
    let element = "";
    for (let j = 0; j < length; j++) element += String.fromCharCode(Math.floor(random() * 256));
    elements.push(element);
  }
  return elements;
}

function sha256(value: string): string {
  return createHash("sha256").update(latin1(value)).digest("hex");
}

// ---------------------------------------------------------------------------
// Recorded vectors (from redis-server 7.0.15)

const EMPTY_AFTER_PFADD = "HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f\xff";
const A_B_C_AFTER_PFCOUNT =
  "HYLL\x01\0\0\0\x03\0\0\0\0\0\0\0\x60\xf3\x80\x50\xb1\x84\x4b\xfb\x80\x42\x5a";

Deno.test("MurmurHash64A matches a BigInt reference on all tail lengths", () => {
  const M = 0xc6a4a7935bd1e995n;
  const MASK = (1n << 64n) - 1n;
  const reference = (text: string, seed: bigint) => {
    let h = (seed ^ (BigInt(text.length) * M)) & MASK;
    const blocks = text.length - (text.length & 7);
    for (let i = 0; i < blocks; i += 8) {
      let k = 0n;
      for (let j = 7; j >= 0; j--) k = (k << 8n) | BigInt(text.charCodeAt(i + j));
      k = (k * M) & MASK;
      k ^= k >> 47n;
      k = (k * M) & MASK;
      h = ((h ^ k) * M) & MASK;
    }
    const tail = text.length & 7;
    for (let j = tail - 1; j >= 0; j--) h ^= BigInt(text.charCodeAt(blocks + j)) << BigInt(8 * j);
    if (tail > 0) h = (h * M) & MASK;
    h ^= h >> 47n;
    h = (h * M) & MASK;
    return h ^ (h >> 47n);
  };
  const random = seededRandom(7);
  for (const element of randomElements(random, 500)) {
    const [high, low] = murmurHash64A(element);
    assert.equal((BigInt(high) << 32n) | BigInt(low), reference(element, 0xadc83b19n));
  }
});

Deno.test("PFADD on a missing key with no elements gives Redis's empty sparse HLL", () => {
  const emulator = new Emulator();
  assert.equal(emulator.run(["PFADD", "h"]), ":1\r\n");
  assert.equal(emulator.get("h"), EMPTY_AFTER_PFADD);
  assert.equal(emulator.run(["PFDEBUG", "DECODE", "h"]), bulk("Z:16384"));
  assert.equal(emulator.run(["PFCOUNT", "h"]), ":0\r\n");
});

Deno.test("PFADD a b c then PFCOUNT leaves the bytes Redis leaves", () => {
  const emulator = new Emulator();
  assert.equal(emulator.run(["PFADD", "h", "a", "b", "c"]), ":1\r\n");
  assert.equal(
    emulator.run(["PFDEBUG", "DECODE", "h"]),
    bulk("Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603"),
  );
  assert.equal(emulator.run(["PFADD", "h", "a"]), ":0\r\n");
  assert.equal(emulator.run(["PFCOUNT", "h"]), ":3\r\n");
  assert.equal(emulator.get("h"), A_B_C_AFTER_PFCOUNT);
  assert.equal(emulator.run(["PFDEBUG", "ENCODING", "h"]), "+sparse\r\n");
});

Deno.test("a dense HLL of 5000 elements has Redis's bytes, count and cache", () => {
  const emulator = new Emulator();
  const elements = Array.from({ length: 5000 }, (_, i) => `element:${i}`);
  for (let i = 0; i < elements.length; i += 100) {
    emulator.run(["PFADD", "h", ...elements.slice(i, i + 100)]);
  }
  assert.equal(emulator.run(["PFDEBUG", "ENCODING", "h"]), "+dense\r\n");
  assert.equal(emulator.get("h")!.length, HLL_DENSE_SIZE);
  assert.equal(emulator.run(["PFCOUNT", "h"]), ":5005\r\n");
  assert.equal(sha256(emulator.get("h")!), DENSE_5000_AFTER_PFCOUNT_SHA256);
});

const DENSE_5000_AFTER_PFCOUNT_SHA256 =
  "fd7f6641d1fbf1c039a7318353c1b408600dabdfb353ef486fdeffd630100c06";

Deno.test("hash placement: register index and run of known elements", () => {
  assert.deepEqual(registerOf("a"), { index: 12711, run: 2 });
  assert.deepEqual(registerOf("b"), { index: 15780, run: 1 });
  assert.deepEqual(registerOf("c"), { index: 8436, run: 1 });
});

Deno.test("strings that are not HLLs are refused, corrupted ones raise INVALIDOBJ", () => {
  assert.equal(HyperLogLog.fromBinary("hello"), undefined);
  assert.equal(HyperLogLog.fromBinary("HYLL\x02" + "\0".repeat(11)), undefined);
  assert.equal(HyperLogLog.fromBinary("HYLL\x00" + "\0".repeat(11)), undefined);
  assert.equal(HyperLogLog.fromBinary("HYLX\x01" + "\0".repeat(11) + "\x7f\xff"), undefined);
  const truncated = HyperLogLog.fromBinary(EMPTY_AFTER_PFADD.slice(0, -1))!;
  assert.ok(truncated);
  assert.throws(() => truncated.count(), CorruptedHyperLogLogError);
  assert.throws(() => truncated.add("x"), { message: CORRUPTED_HYPERLOGLOG_ERROR });
  const emulator = new Emulator();
  emulator.run(["SET", "s", "not an hll at all"]);
  assert.equal(emulator.run(["PFADD", "s", "x"]), error(NOT_A_HYPERLOGLOG_ERROR));
  assert.equal(emulator.run(["PFCOUNT", "s", "t"]), error(NOT_A_HYPERLOGLOG_ERROR));
});

Deno.test("sparse opcodes must cover exactly 16384 registers, as patched 7.0.15 checks", () => {
  const header = "HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80";
  const xzero = (length: number) =>
    String.fromCharCode(0x40 | ((length - 1) >> 8), (length - 1) & 0xff);
  const val = (value: number, length: number) =>
    String.fromCharCode(0x80 | ((value - 1) << 2) | (length - 1));
  const corrupted = [
    xzero(16384) + val(1, 1),
    xzero(16000) + xzero(1000),
    val(1, 1) + xzero(16384),
    xzero(16384) + "\x00",
    xzero(16383) + val(1, 2),
    xzero(16384) + xzero(16384) + val(1, 1),
  ];
  for (const body of corrupted) {
    for (
      const command of [["PFCOUNT", "k"], ["PFCOUNT", "k", "none"], ["PFDEBUG", "TODENSE", "k"]]
    ) {
      const emulator = new Emulator();
      emulator.run(["SET", "k", header + body]);
      assert.equal(emulator.run(command), error(CORRUPTED_HYPERLOGLOG_ERROR), command.join(" "));
    }
    // PFADD only walks to the register it changes, so it succeeds.
    const emulator = new Emulator();
    emulator.run(["SET", "k", header + body]);
    assert.equal(emulator.run(["PFADD", "k", "zz"]), ":1\r\n");
  }
  const exact = new Emulator();
  exact.run(["SET", "k", header + xzero(16383) + val(3, 1)]);
  assert.equal(exact.run(["PFCOUNT", "k"]), ":1\r\n");
});

Deno.test("estimates of saturated registers overflow to -2^63 as Redis's do", () => {
  const header = "HYLL\x00\0\0\0\0\0\0\0\0\0\0\x80";
  const packed = (value: number, groups: number) =>
    String.fromCharCode(
      (value | (value << 6)) & 255,
      ((value >> 2) | (value << 4)) & 255,
      ((value >> 4) | (value << 2)) & 255,
    ).repeat(groups);
  const emulator = new Emulator();
  emulator.run(["SET", "all63", header + "\xff".repeat(12288)]);
  assert.equal(emulator.run(["PFCOUNT", "all63"]), ":-9223372036854775808\r\n");
  // The overflow value's top bit marks the cache stale, so it is recomputed.
  assert.equal(emulator.get("all63")!.slice(0, 16), header);
  emulator.run(["SET", "all51", header + packed(51, 4096)]);
  assert.equal(emulator.run(["PFCOUNT", "all51"]), ":-9223372036854775808\r\n");
  assert.equal(emulator.run(["PFCOUNT", "all51", "none"]), ":-9223372036854775808\r\n");
  emulator.run(["SET", "half50", header + packed(50, 2048) + "\0".repeat(6144)]);
  assert.equal(emulator.run(["PFCOUNT", "half50"]), ":13268\r\n");
  emulator.run([
    "SET",
    "cached",
    "HYLL\x00\0\0\0" + "\xff".repeat(7) + "\x7f" + "\0".repeat(12288),
  ]);
  assert.equal(emulator.run(["PFCOUNT", "cached"]), ":9223372036854775807\r\n");
});

Deno.test("a truncated trailing XZERO keeps the byte Redis leaves past the end", () => {
  const emulator = new Emulator();
  emulator.run(["SET", "k", "HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f"]);
  assert.equal(emulator.run(["PFADD", "k", "t:1", "t:2", "t:3", "t:4", "t:5", "t:6"]), ":1\r\n");
  assert.equal(
    emulator.get("k"),
    "HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x46\x86\x88\x43\xaf\x8c\x5b\x9b\x80\x44\x5b\x88\x41\xc1" +
      "\x80\x4a\x28\x80\x48",
  );
  assert.equal(
    emulator.run(["PFDEBUG", "DECODE", "k"]),
    bulk("Z:1671 v:3,1 Z:944 v:4,1 Z:7068 v:1,1 Z:1116 v:3,1 Z:450 v:1,1 Z:2601 v:1,1 Z:2049"),
  );
});

Deno.test("a sparse HLL turns dense when a register exceeds 32 or it outgrows the limit", () => {
  const hll = HyperLogLog.create();
  hll.setRegister(5, 33);
  assert.equal(hll.encoding, "dense");
  const small = HyperLogLog.create();
  const elements = Array.from({ length: 40 }, (_, i) => `x${i}`);
  small.addElements(elements, 40);
  assert.equal(small.encoding, "dense");
  const large = HyperLogLog.create();
  large.addElements(elements, 3000);
  assert.equal(large.encoding, "sparse");
  assert.equal(large.estimate(), small.estimate());
});

Deno.test("the self test passes at small scale", () => {
  assert.equal(
    hyperLogLogSelfTest({ registerCycles: 3, maxCardinality: 20_000, random: seededRandom(1) }),
    undefined,
  );
});

Deno.test("toBinary is cached until the HLL changes", () => {
  const hll = HyperLogLog.create();
  const before = hll.toBinary();
  assert.equal(hll.toBinary(), before);
  hll.add("a");
  assert.notEqual(hll.toBinary(), before);
  assert.equal(hll.toBinary().length, hll.byteLength);
  assert.deepEqual(HyperLogLog.fromBytes(hll.toBytes())!.toBinary(), hll.toBinary());
  assert.equal(hll.clone().toBinary(), hll.toBinary());
  assert.equal(HLL_REGISTERS, 16384);
});

// ---------------------------------------------------------------------------
// Against redis-server

Deno.test({
  name: "PFADD of seeded random sets of 0 to 200k elements leaves Redis's exact bytes",
  ignore: !REDIS_AVAILABLE,
  fn: () =>
    withRedis(async (client) => {
      const random = seededRandom(2024);
      const sizes = [0, 1, 2, 10, 100, 300, 700, 1200, 2000, 3000, 10_000, 50_000, 200_000];
      for (const size of sizes) {
        const emulator = new Emulator();
        const key = `hll:${size}`;
        const elements = randomElements(random, size);
        const commands: string[][] = [["PFADD", key]];
        let start = 0;
        while (start < elements.length) {
          const batch = 1 + Math.floor(random() * (size < 1000 ? 20 : 500));
          commands.push(["PFADD", key, ...elements.slice(start, start + batch)]);
          start += batch;
        }
        // Small sets are compared after every PFADD, large ones at a few checkpoints.
        const step = size <= 3000 ? 1 : Math.ceil(commands.length / 8);
        for (let i = 0; i < commands.length; i += step) {
          const slice = commands.slice(i, i + step);
          await assertSameReplies(client, emulator, slice, `size ${size}`);
          await assertSameValues(client, emulator, [key], `size ${size} after ${i + step} PFADDs`);
        }
        await assertSameReplies(client, emulator, [["PFCOUNT", key]], `size ${size}`);
        await assertSameValues(client, emulator, [key], `size ${size} after PFCOUNT`);
        await assertSameReplies(
          client,
          emulator,
          [["PFDEBUG", "ENCODING", key], ["PFDEBUG", "DECODE", key], ["PFCOUNT", key]],
          `size ${size}`,
        );
      }
    }),
});

Deno.test({
  name: "PFADD with other hll-sparse-max-bytes settings promotes where Redis does",
  ignore: !REDIS_AVAILABLE,
  fn: () =>
    withRedis(async (client) => {
      const random = seededRandom(99);
      for (const limit of [0, 20, 200, 1000, 12000, 50000]) {
        await pipeline(client, [["CONFIG", "SET", "hll-sparse-max-bytes", String(limit)]]);
        const emulator = new Emulator();
        emulator.sparseMaxBytes = limit;
        const key = `limit:${limit}`;
        const commands: string[][] = [];
        for (let i = 0; i < 60; i++) {
          commands.push(["PFADD", key, ...randomElements(random, 1 + Math.floor(random() * 150))]);
        }
        for (const command of commands) {
          await assertSameReplies(client, emulator, [command], `limit ${limit}`);
          await assertSameValues(client, emulator, [key], `limit ${limit}`);
        }
      }
    }),
});

Deno.test({
  name: "PFCOUNT over several keys and PFMERGE into missing, sparse and dense keys match Redis",
  ignore: !REDIS_AVAILABLE,
  fn: () =>
    withRedis(async (client) => {
      const random = seededRandom(5);
      const emulator = new Emulator();
      const sizes = [0, 3, 40, 400, 900, 2500, 8000, 30000];
      const keys = sizes.map((size) => `src:${size}`);
      const setup: string[][] = [];
      sizes.forEach((size, i) => {
        setup.push(["PFADD", keys[i]!]);
        const elements = randomElements(random, size);
        for (let j = 0; j < elements.length; j += 500) {
          setup.push(["PFADD", keys[i]!, ...elements.slice(j, j + 500)]);
        }
      });
      await assertSameReplies(client, emulator, setup, "setup");
      const commands: string[][] = [];
      for (let round = 0; round < 60; round++) {
        const picked = keys.filter(() => random() < 0.4);
        if (random() < 0.3) picked.push("missing");
        if (picked.length === 0) picked.push(keys[0]!);
        const kind = random();
        if (kind < 0.4) {
          commands.push(["PFCOUNT", ...picked]);
        } else {
          const destination = random() < 0.5 ? `dest:${round % 7}` : keys[round % keys.length]!;
          commands.push(["PFMERGE", destination, ...picked]);
          commands.push(["PFCOUNT", destination]);
          commands.push(["PFDEBUG", "ENCODING", destination]);
        }
      }
      for (const command of commands) {
        await assertSameReplies(client, emulator, [command], "merge/count");
        if (command[0] === "PFMERGE") {
          await assertSameValues(client, emulator, [command[1]!], "after PFMERGE");
        }
      }
      await assertSameValues(client, emulator, keys, "sources at the end");
    }),
});

Deno.test({
  name: "PFDEBUG GETREG, DECODE, ENCODING and TODENSE answer as Redis does",
  ignore: !REDIS_AVAILABLE,
  fn: () =>
    withRedis(async (client) => {
      const random = seededRandom(11);
      const emulator = new Emulator();
      const commands: string[][] = [
        ["PFDEBUG", "GETREG", "nothing"],
        ["SET", "plain", "just a string"],
        ["PFDEBUG", "ENCODING", "plain"],
        ["PFADD", "sparse", ...randomElements(random, 300)],
        ["PFDEBUG", "DECODE", "sparse"],
        ["PFDEBUG", "ENCODING", "sparse"],
        ["PFDEBUG", "GETREG", "sparse"],
        ["PFDEBUG", "ENCODING", "sparse"],
        ["PFDEBUG", "DECODE", "sparse"],
        ["PFADD", "other", ...randomElements(random, 50)],
        ["PFDEBUG", "TODENSE", "other"],
        ["PFDEBUG", "TODENSE", "other"],
        ["PFCOUNT", "other"],
      ];
      await assertSameReplies(client, emulator, commands, "pfdebug");
      await assertSameValues(client, emulator, ["sparse", "other"], "pfdebug");
    }),
});

Deno.test({
  name: "corrupted HLL strings (flipped, truncated, extended) give Redis's replies and bytes",
  ignore: !REDIS_AVAILABLE,
  fn: () =>
    withRedis(async (client) => {
      const random = seededRandom(31337);
      const base = new Emulator();
      const originals: string[] = [];
      for (const size of [0, 5, 60, 500, 1500, 4000]) {
        base.run(["PFADD", "seed"]);
        base.run(["PFADD", "seed", ...randomElements(random, size)]);
        if (random() < 0.5) base.run(["PFCOUNT", "seed"]);
        originals.push(base.get("seed")!);
        base.run(["DEL", "seed"]);
      }
      const emulator = new Emulator();
      for (let round = 0; round < 400; round++) {
        const original = originals[round % originals.length]!;
        let corrupted = original;
        const damage = random();
        if (damage < 0.45) {
          const flips = 1 + Math.floor(random() * 3);
          const bytes = latin1(corrupted);
          for (let i = 0; i < flips; i++) {
            const at = random() < 0.3
              ? Math.floor(random() * 16)
              : Math.floor(random() * bytes.length);
            bytes[at] = bytes[at]! ^ (1 << Math.floor(random() * 8));
          }
          corrupted = bytesToLatin1(bytes);
        } else if (damage < 0.75) {
          corrupted = corrupted.slice(0, Math.floor(random() * corrupted.length));
        } else {
          const extra = 1 + Math.floor(random() * 4);
          for (let i = 0; i < extra; i++) {
            corrupted += String.fromCharCode(Math.floor(random() * 256));
          }
        }
        const key = `bad:${round % 5}`;
        const commands: string[][] = [["SET", key, corrupted]];
        const operation = Math.floor(random() * 6);
        if (operation === 0) commands.push(["PFADD", key, ...randomElements(random, 30)]);
        if (operation === 1) commands.push(["PFCOUNT", key]);
        if (operation === 2) commands.push(["PFCOUNT", key, "bad:other"]);
        if (operation === 3) commands.push(["PFMERGE", "merged", key]);
        if (operation === 4) commands.push(["PFDEBUG", "TODENSE", key]);
        if (operation === 5) commands.push(["PFDEBUG", "DECODE", key]);
        commands.push(["PFCOUNT", key]);
        await assertSameReplies(client, emulator, commands, `round ${round}`);
        await assertSameValues(client, emulator, [key, "merged"], `round ${round}`);
      }
    }),
});
