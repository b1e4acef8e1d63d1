/**
 * Formats Redis 7.0 loads but seldom or never writes — plain encodings of
 * RDB 6, zipmaps, ziplists, text-double sorted sets, quicklist 1, stream
 * listpacks 1 with their estimated group counters, the 7.0-rc function
 * opcode, quicklist plain nodes, LRU and LFU opcodes — from hand-built
 * fixtures (fixtures/builders.ts), each loaded both by our reader and by
 * redis-server 7.0, which must agree. Files Redis refuses (a newer version,
 * module data, too many databases, NaN scores, a wrong checksum) are
 * refused by both for the same reason.
 *
 * The redis-server comparisons skip, loudly, when it is not installed.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  RDB_OPCODE,
  RDB_TYPE,
  RdbError,
  type RdbFileContents,
  readRdbFile,
  writeRdbFile,
} from "../../src/rdb/mod.ts";
import { freePort, RawClient, redisServerPath, startRedisServer } from "../helpers/servers.ts";
import {
  bytes,
  latin1,
  length,
  length64,
  listpack,
  millisecondTime,
  moduleId,
  rdbFile,
  rdbString,
  streamId,
  textDouble,
  ziplist,
  zipmap,
} from "./fixtures/builders.ts";
import {
  functionsOfRedis,
  keyspaceOfRecords,
  keyspaceOfRedis,
  must,
  SERVER_TEST,
  sorted,
} from "./helpers.ts";

const T = RDB_TYPE;
const O = RDB_OPCODE;
const FAR_SECONDS = Math.floor(Date.now() / 1000) + 10 * 24 * 3600;

function int32le(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
}

function binaryDouble(value: number): number[] {
  return Array.from(new Uint8Array(new Float64Array([value]).buffer));
}

/** Loads `file` into a fresh redis-server and compares what it holds with what we read. */
async function assertRedisAgrees(file: Uint8Array, ours: RdbFileContents): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "redis-clone-rdb-fixture-" });
  try {
    await Deno.writeFile(join(dir, "fixture.rdb"), file);
    const server = await startRedisServer(["--dir", dir, "--dbfilename", "fixture.rdb"]);
    if (server === undefined) {
      console.warn("redis-server not installed: SKIPPING the comparison with Redis");
      return;
    }
    const client = await RawClient.connect(server.port);
    try {
      assert.deepEqual(sorted(keyspaceOfRecords(ours.keys)), await keyspaceOfRedis(client));
      assert.deepEqual([...ours.functions].sort(), await functionsOfRedis(client));
    } finally {
      await client.close();
      await server.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** What redis-server logs when it refuses to load `file`; undefined when not installed. */
async function redisRefusal(file: Uint8Array): Promise<string | undefined> {
  const program = redisServerPath();
  if (program === undefined) {
    console.warn("redis-server not installed: SKIPPING the comparison with Redis");
    return undefined;
  }
  const dir = await Deno.makeTempDir({ prefix: "redis-clone-rdb-fixture-" });
  try {
    await Deno.writeFile(join(dir, "fixture.rdb"), file);
    const child = new Deno.Command(program, {
      args: [
        ...["--port", String(await freePort()), "--bind", "127.0.0.1", "--save", ""],
        ...["--appendonly", "no", "--dir", dir, "--dbfilename", "fixture.rdb"],
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const result = await child.output();
    clearTimeout(timer);
    // Refusing, it exits (with status 0 after a passing redis-check-rdb, as for module data).
    const decoder = new TextDecoder();
    return decoder.decode(result.stdout) + decoder.decode(result.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "RDB 6 plain encodings and expiries in seconds load as redis-server loads them",
  ...SERVER_TEST,
  fn: async () => {
    const file = rdbFile(
      6,
      [O.SELECTDB, ...length(0)],
      [
        O.EXPIRETIME,
        ...int32le(FAR_SECONDS),
        T.STRING,
        ...rdbString("in-seconds"),
        ...rdbString("v"),
      ],
      [T.STRING, ...rdbString("int-encoded"), 0xc1, 0x39, 0x30],
      [
        T.LIST,
        ...rdbString("plain-list"),
        ...length(3),
        ...rdbString("a"),
        0xc0,
        5,
        ...rdbString("c"),
      ],
      [
        T.SET,
        ...rdbString("plain-set"),
        ...length(3),
        ...rdbString("x"),
        ...rdbString("y"),
        0xc0,
        7,
      ],
      [T.ZSET, ...rdbString("text-zset"), ...length(4)],
      [...rdbString("a"), ...textDouble(1.5), ...rdbString("b"), ...textDouble(Infinity)],
      [...rdbString("c"), ...textDouble(-Infinity), ...rdbString("d"), 3, ...latin1("1e3")],
      [T.HASH, ...rdbString("plain-hash"), ...length(2), ...rdbString("f"), ...rdbString("v")],
      [...rdbString("n"), 0xc0, 9],
      [O.SELECTDB, ...length(2), T.STRING, ...rdbString("in-db-2"), ...rdbString("two")],
    );
    const ours = readRdbFile(file);
    assert.equal(ours.version, 6);
    assert.equal(ours.keys.find((key) => key.key === "in-seconds")!.expireAt, FAR_SECONDS * 1000);
    assert.deepEqual(ours.keys.find((key) => key.key === "text-zset")!.value, {
      type: "zset",
      entries: [["d", 1000], ["c", -Infinity], ["b", Infinity], ["a", 1.5]],
    });
    await assertRedisAgrees(file, ours);
  },
});

Deno.test({
  name: "zipmaps, ziplists and intsets of Redis 2 to 6 load as redis-server loads them",
  ...SERVER_TEST,
  fn: async () => {
    const integers = [0n, 12n, 13n, -1n, 200n, -30000n, 8_000_000n, -2_000_000_000n, 2n ** 40n];
    const wideIntset = bytes(
      8,
      0,
      0,
      0,
      3,
      0,
      0,
      0,
      [-5, 0, 7].flatMap((value) => {
        const out: number[] = [];
        let unsigned = BigInt.asUintN(64, BigInt(value));
        for (let i = 0; i < 8; i++) {
          out.push(Number(unsigned & 0xffn));
          unsigned >>= 8n;
        }
        return out;
      }),
    );
    const file = rdbFile(
      6,
      [T.HASH_ZIPMAP, ...rdbString("zipmap")],
      rdbString(zipmap([["f", "v"], ["n", "123"], ["long", "x".repeat(300)]], 2)),
      [T.LIST_ZIPLIST, ...rdbString("ziplist-list")],
      rdbString(
        ziplist(["a", ...integers, "y".repeat(300), "after-a-big-prevlen", "z".repeat(70)]),
      ),
      [T.LIST_ZIPLIST, ...rdbString("ziplist-5-byte-prevlens")],
      rdbString(ziplist(["a", "b", 7n], true)),
      [T.SET_INTSET, ...rdbString("intset-wider-than-needed"), ...rdbString(wideIntset)],
      [T.ZSET_ZIPLIST, ...rdbString("ziplist-zset")],
      rdbString(ziplist(["a", "1.5", "b", 2n, "c", "inf"])),
      [T.HASH_ZIPLIST, ...rdbString("ziplist-hash"), ...rdbString(ziplist(["f", "v", "n", 5n]))],
    );
    const ours = readRdbFile(file);
    assert.deepEqual(ours.keys.find((key) => key.key === "ziplist-list")!.value, {
      type: "list",
      items: ["a", ...integers.map(String), "y".repeat(300), "after-a-big-prevlen", "z".repeat(70)],
    });
    await assertRedisAgrees(file, ours);
  },
});

Deno.test({
  name:
    "quicklist 1 lists (with an empty node) and binary-double sorted sets load as redis-server loads them",
  ...SERVER_TEST,
  fn: async () => {
    const file = rdbFile(
      8,
      [O.AUX, ...rdbString("redis-ver"), ...rdbString("4.0.14")],
      [O.SELECTDB, 0, O.RESIZEDB, 2, 0],
      [T.LIST_QUICKLIST, ...rdbString("quicklist"), ...length(3)],
      [
        ...rdbString(ziplist(["a", "b"])),
        ...rdbString(ziplist([])),
        ...rdbString(ziplist([1n, "c"])),
      ],
      [T.ZSET_2, ...rdbString("zset2"), ...length(2)],
      [...rdbString("high"), ...binaryDouble(2.5), ...rdbString("low"), ...binaryDouble(-0.125)],
    );
    const ours = readRdbFile(file);
    assert.deepEqual(ours.keys[0]!.value, { type: "list", items: ["a", "b", "1", "c"] });
    await assertRedisAgrees(file, ours);
  },
});

Deno.test({
  name: "stream listpacks 1 (RDB 9) get Redis 7.0's first ID, counters and estimated entries-read",
  ...SERVER_TEST,
  fn: async () => {
    const node = listpack([2, 0, 2, "a", "b", 0, 2, 0, 0, "1", "2", 5, 0, 1, 0, 1, "c", "3", 6]);
    const group = (name: string, ms: number, seq: number) => [
      ...rdbString(name),
      ...length(ms),
      ...length(seq),
    ];
    const file = rdbFile(
      9,
      [O.SELECTDB, 0],
      [O.IDLE, ...length(1000), T.STRING, ...rdbString("lru"), ...rdbString("v")],
      [O.FREQ, 7, T.STRING, ...rdbString("lfu"), ...rdbString("v")],
      [T.STREAM_LISTPACKS, ...rdbString("stream"), ...length(1)],
      [...rdbString(Uint8Array.from(streamId(1n, 0n))), ...rdbString(node)],
      [...length(2), ...length(2), ...length(0)], // length 2, last ID 2-0
      length(4),
      [...group("reader", 1, 0), ...length(1), ...streamId(1n, 0n), ...millisecondTime(1234), 2],
      [...length(1), ...rdbString("alice"), ...millisecondTime(5678), 1, ...streamId(1n, 0n)],
      [...group("before-first", 0, 0), 0, 0],
      [...group("at-last", 2, 0), 0, 0],
      [...group("in-between", 1, 5), 0, 0],
    );
    const ours = readRdbFile(file);
    const [lru, lfu, stream] = ours.keys;
    assert.equal(lru!.lruIdle, 1000);
    assert.equal(lfu!.lfuFrequency, 7);
    assert.ok(stream!.value.type === "stream");
    const groups = Object.fromEntries(
      stream!.value.stream.groups.map((group) => [group.name, group.entriesRead]),
    );
    assert.deepEqual(groups, {
      "reader": 1n,
      "before-first": 0n,
      "at-last": 2n,
      "in-between": -1n,
    });
    await assertRedisAgrees(file, ours);
  },
});

Deno.test({
  name: "the 7.0 release candidates' FUNCTION opcode loads as the library redis-server makes of it",
  ...SERVER_TEST,
  fn: async () => {
    const code = "redis.register_function('old', function() return 2 end)";
    const file = rdbFile(
      10,
      [O.FUNCTION, ...rdbString("oldlib"), ...rdbString("LUA"), 1, ...rdbString("described")],
      rdbString(code),
      [
        O.FUNCTION2,
        ...rdbString("#!lua name=newlib\nredis.register_function('new', function() return 3 end)"),
      ],
    );
    const ours = readRdbFile(file);
    assert.equal(ours.functions[0], `#!LUA name=oldlib\n${code}`);
    await assertRedisAgrees(file, ours);
  },
});

Deno.test({
  name: "empty collections are skipped, as redis-server skips them",
  ...SERVER_TEST,
  fn: async () => {
    const file = rdbFile(
      10,
      [T.LIST, ...rdbString("empty-plain"), 0],
      [T.LIST_ZIPLIST, ...rdbString("empty-ziplist"), ...rdbString(ziplist([]))],
      [T.LIST_QUICKLIST_2, ...rdbString("empty-node"), 1, 2, ...rdbString(listpack([]))],
      [T.HASH_LISTPACK, ...rdbString("empty-hash"), ...rdbString(listpack([]))],
      [T.STRING, ...rdbString("kept"), ...rdbString("v")],
    );
    const ours = readRdbFile(file);
    assert.equal(ours.emptyKeysSkipped, 4);
    assert.deepEqual(ours.keys.map((key) => key.key), ["kept"]);
    await assertRedisAgrees(file, ours);
  },
});

Deno.test({
  name:
    "quicklist 2 plain nodes (how Redis saves items of 1 GB and more) load as redis-server loads them",
  ...SERVER_TEST,
  fn: async () => {
    const file = rdbFile(
      10,
      [T.LIST_QUICKLIST_2, ...rdbString("list"), 3],
      [2, ...rdbString(listpack(["a", 1]))],
      [1, ...rdbString("a plain node holds one item")],
      [2, ...rdbString(listpack(["z"]))],
    );
    const ours = readRdbFile(file);
    assert.deepEqual(ours.keys[0]!.value, {
      type: "list",
      items: ["a", "1", "a plain node holds one item", "z"],
    });
    await assertRedisAgrees(file, ours);
  },
});

Deno.test({
  name: "LRU idle times and LFU counters we write are what redis-server loads",
  ...SERVER_TEST,
  fn: async () => {
    const value = { type: "string" as const, value: "v" };
    const file = writeRdbFile({
      databases: [{
        index: 0,
        keys: [{ key: "idle", value, lruIdle: 5000 }, { key: "frequent", value, lfuFrequency: 42 }],
      }],
    });
    const ours = readRdbFile(file);
    assert.equal(ours.keys[0]!.lruIdle, 5000);
    assert.equal(ours.keys[1]!.lfuFrequency, 42);
    const dir = await Deno.makeTempDir({ prefix: "redis-clone-rdb-fixture-" });
    try {
      await Deno.writeFile(join(dir, "fixture.rdb"), file);
      for (
        const [policy, command, key, check] of [
          ["allkeys-lru", "IDLETIME", "idle", (n: number) => n >= 5000 && n < 5100],
          ["allkeys-lfu", "FREQ", "frequent", (n: number) => n === 42],
        ] as const
      ) {
        const server = await startRedisServer([
          ...["--dir", dir, "--dbfilename", "fixture.rdb", "--maxmemory-policy", policy],
        ]);
        if (server === undefined) {
          console.warn("redis-server not installed: SKIPPING the comparison with Redis");
          return;
        }
        const client = await RawClient.connect(server.port);
        try {
          const reply = (await must(client, "OBJECT", command, key)) as number;
          assert.ok(check(reply), `OBJECT ${command} ${key} = ${reply}`);
        } finally {
          await client.close();
          await server.stop();
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

function refusal(file: Uint8Array, options = {}): RdbError {
  try {
    readRdbFile(file, options);
  } catch (error) {
    assert.ok(error instanceof RdbError);
    return error;
  }
  assert.fail("the file was expected to be refused");
}

const refused: [string, Uint8Array, string, RdbError["reason"]][] = [
  [
    "a newer RDB version",
    rdbFile(11, [T.STRING, ...rdbString("k"), ...rdbString("v")]),
    "Can't handle RDB format version 11",
    "version",
  ],
  [
    "module data",
    rdbFile(10, [T.MODULE_2, ...rdbString("k"), ...length64(moduleId("ReJSON-RL", 3)), 0]),
    "no matching module type 'ReJSON-RL'",
    "unsupported",
  ],
  [
    "module aux data",
    rdbFile(10, [O.MODULE_AUX, ...length64(moduleId("graphdata", 1)), 2, 1, 0]),
    "no matching module 'graphdata'",
    "unsupported",
  ],
  [
    "a database beyond the 16 configured",
    rdbFile(10, [O.SELECTDB, 16, T.STRING, ...rdbString("k"), ...rdbString("v")]),
    "configured to handle more than 16 databases",
    "unsupported",
  ],
  [
    "a NaN score",
    rdbFile(6, [T.ZSET, ...rdbString("z"), 1, ...rdbString("m"), ...textDouble(NaN)]),
    "Zset with NAN score detected",
    "corrupt",
  ],
];

for (const [what, file, message, reason] of refused) {
  Deno.test({
    name: `a file with ${what} is refused, as redis-server refuses it`,
    ...SERVER_TEST,
    fn: async () => {
      const error = refusal(file);
      assert.equal(error.reason, reason);
      assert.ok(error.message.includes(message), error.message);
      const log = await redisRefusal(file);
      if (log !== undefined) assert.ok(log.includes(message), log);
    },
  });
}

Deno.test({
  name: "a wrong checksum is refused, as redis-server refuses it",
  ...SERVER_TEST,
  fn: async () => {
    const file = rdbFile(10, [T.STRING, ...rdbString("k"), ...rdbString("v")]);
    file[file.length - 1]! ^= 0x40;
    const error = refusal(file);
    assert.equal(error.reason, "checksum");
    assert.match(error.message, /Wrong RDB checksum expected: \([0-9a-f]+\) but got \([0-9a-f]+\)/);
    const log = await redisRefusal(file);
    if (log !== undefined) {
      assert.ok(log.includes(error.message.replace(/ \(at offset \d+\)$/, "")), log);
    }
  },
});

Deno.test("a Redis 7.2 file (RDB 11) is read when allowed: set listpacks and stream listpacks 3", () => {
  const node = listpack([1, 0, 1, "f", 0, 2, 0, 0, "v", 4]);
  const file = rdbFile(
    11,
    [T.SET_LISTPACK, ...rdbString("set"), ...rdbString(listpack(["a", "b", 1]))],
    [T.STREAM_LISTPACKS_3, ...rdbString("stream"), 1],
    [...rdbString(Uint8Array.from(streamId(3n, 0n))), ...rdbString(node)],
    [1, 3, 0, 3, 0, 0, 0, 1], // length, last ID, first ID, max deleted ID, entries added
    [1, ...rdbString("g"), 3, 0, 1, 0, 1, ...rdbString("c"), ...millisecondTime(10)],
    [...millisecondTime(20), 0],
  );
  assert.equal(refusal(file).reason, "version");
  const ours = readRdbFile(file, { maxVersion: 11 });
  assert.deepEqual(ours.keys[0]!.value, { type: "set", members: ["a", "b", "1"] });
  const stream = ours.keys[1]!.value;
  assert.ok(stream.type === "stream");
  assert.deepEqual(stream.stream.groups[0]!.consumers, [{
    name: "c",
    seenTime: 10,
    activeTime: 20,
  }]);
  assert.deepEqual(stream.stream.entries, [{ id: { ms: 3n, seq: 0n }, fields: ["f", "v"] }]);
});
