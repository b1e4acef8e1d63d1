/**
 * String commands over a real socket: behaviours the differential corpus
 * cannot show (what goes to the AOF, expiry over time, exactness near
 * 2^53 and 2^63), and randomized comparisons with a real redis-server for
 * INCRBYFLOAT's long double arithmetic and LCS.
 *
 * @module
 */

import {
  assertSameReply,
  parseAof,
  query,
  randomDecimal,
  randomDigits,
  seededRandom,
  withBothServers,
  withOurServer,
} from "../helpers/test_support.ts";
import assert from "node:assert/strict";
import { decodeReply, escapeBytes } from "../helpers/servers.ts";

const ENCODER = new TextEncoder();

/**
 * Runs `commands` on a server with the AOF on and returns what it logged
 * (SELECTs left out), with the test's start and end times for absolute
 * deadlines.
 */
async function loggedCommands(
  commands: string[][],
): Promise<{ logged: string[][]; before: number; after: number }> {
  const dir = await Deno.makeTempDir({ prefix: "strings-aof-" });
  try {
    const before = Date.now();
    await withOurServer(async (client) => {
      for (const args of commands) await client.command(...args);
    }, { args: ["--appendonly", "yes", "--appendfsync", "always"], dir });
    const after = Date.now();
    const logged = parseAof(await Deno.readFile(`${dir}/database.aof`), { select: false });
    return { logged, before, after };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function assertDeadline(text: string | undefined, from: number, to: number): void {
  const deadline = Number(text);
  assert.ok(deadline >= from && deadline <= to, `deadline ${text} not in [${from}, ${to}]`);
}

Deno.test("INCRBYFLOAT matches redis-server on random decimal pairs", async () => {
  await withBothServers(async (ours, redis) => {
    const random = seededRandom(20240611);
    for (let i = 0; i < 400; i++) {
      await assertSameReply(ours, redis, "SET", "pair", randomDecimal(random));
      await assertSameReply(ours, redis, "INCRBYFLOAT", "pair", randomDecimal(random));
    }
  });
});

Deno.test("INCRBYFLOAT matches redis-server along chains of increments", async () => {
  await withBothServers(async (ours, redis) => {
    const random = seededRandom(7);
    for (let chain = 0; chain < 4; chain++) {
      const key = `chain${chain}`;
      for (let step = 0; step < 75; step++) {
        // Small steps accumulate rounding in the stored text; big ones mix magnitudes.
        const increment = chain % 2 === 0 ? `0.${randomDigits(random, 2)}` : randomDecimal(random);
        await assertSameReply(ours, redis, "INCRBYFLOAT", key, increment);
      }
    }
  });
});

Deno.test("INCRBYFLOAT prints with long double precision", async () => {
  await withOurServer(async (client) => {
    await client.command("SET", "price", "10.5");
    assert.equal(await query(client, "INCRBYFLOAT", "price", "0.1"), "10.6");
    assert.equal(await query(client, "INCRBYFLOAT", "price", "5.0e3"), "5010.60000000000000009");
    assert.equal(await query(client, "INCRBYFLOAT", "sum", "0.1"), "0.1");
    assert.equal(await query(client, "INCRBYFLOAT", "sum", "0.2"), "0.3");
    assert.deepEqual(await query(client, "INCRBYFLOAT", "sum", "inf"), {
      error: "ERR increment would produce NaN or Infinity",
    });
    assert.deepEqual(await query(client, "INCRBYFLOAT", "sum", "1.0.0"), {
      error: "ERR value is not a valid float",
    });
  });
});

Deno.test("INCR and INCRBY are exact across 2^53 and stop at 2^63 - 1", async () => {
  await withOurServer(async (client) => {
    await client.command("SET", "counter", "9007199254740990");
    assert.equal(await query(client, "INCR", "counter"), 9007199254740991);
    assert.equal(await query(client, "INCR", "counter"), 9007199254740992n);
    assert.equal(await query(client, "INCR", "counter"), 9007199254740993n);
    assert.equal(await query(client, "GET", "counter"), "9007199254740993");
    assert.equal(await query(client, "DECRBY", "counter", "2"), 9007199254740991);
    assert.deepEqual(await query(client, "INCRBY", "counter", "9223372036854775807"), {
      error: "ERR increment or decrement would overflow",
    });
    await client.command("SET", "counter", "9223372036854775806");
    assert.equal(await query(client, "INCR", "counter"), 9223372036854775807n);
    assert.deepEqual(await query(client, "INCR", "counter"), {
      error: "ERR increment or decrement would overflow",
    });
    assert.equal(await query(client, "GET", "counter"), "9223372036854775807");
    assert.deepEqual(await query(client, "DECRBY", "counter", "-9223372036854775808"), {
      error: "ERR decrement would overflow",
    });
  });
});

Deno.test("INCR keeps the key's time to live, GETSET removes it", async () => {
  await withOurServer(async (client) => {
    await client.command("SETEX", "counter", "100", "1");
    assert.equal(await query(client, "INCR", "counter"), 2);
    assert.equal(await query(client, "TTL", "counter"), 100);
    assert.equal(await query(client, "GETSET", "counter", "5"), "2");
    assert.equal(await query(client, "TTL", "counter"), -1);
  });
});

Deno.test("PSETEX and GETEX PX deadlines pass", async () => {
  await withOurServer(async (client) => {
    assert.equal(await query(client, "PSETEX", "short", "50", "v"), "OK");
    await client.command("SET", "other", "w");
    assert.equal(await query(client, "GETEX", "other", "PX", "50"), "w");
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.equal(await query(client, "GET", "short"), null);
    assert.equal(await query(client, "GET", "other"), null);
  });
});

Deno.test("string writes are logged with absolute times and deterministic values", async () => {
  const { logged, before, after } = await loggedCommands([
    ["SETEX", "a", "100", "v"],
    ["PSETEX", "b", "5000", "v"],
    ["SET", "c", "v", "EX", "100", "GET"],
    ["SET", "d", "v", "GET"],
    ["GETEX", "a", "EX", "200"],
    ["GETEX", "a"],
    ["GETEX", "a", "PERSIST"],
    ["GETEX", "a", "PERSIST"],
    ["GETEX", "b", "PXAT", "1"],
    ["GETDEL", "c"],
    ["GETDEL", "c"],
    ["GETSET", "d", "w"],
    ["INCRBYFLOAT", "e", "0.1"],
    ["INCRBYFLOAT", "e", "0.2"],
    ["SETNX", "e", "x"],
    ["MSETNX", "e", "x", "f", "y"],
    ["INCR", "g"],
    ["APPEND", "g", "0"],
    ["SETRANGE", "g", "0", ""],
    ["SETRANGE", "g", "0", "2"],
  ]);
  assert.equal(logged.length, 14, JSON.stringify(logged));
  const [setex, psetex, setGet, plainGet, getexEx, persist, pastDeadline, ...rest] = logged;
  assert.deepEqual(setex!.slice(0, 4), ["SET", "a", "v", "PXAT"]);
  assertDeadline(setex![4], before + 100_000, after + 100_000);
  assert.deepEqual(psetex!.slice(0, 4), ["SET", "b", "v", "PXAT"]);
  assertDeadline(psetex![4], before + 5000, after + 5000);
  assert.deepEqual(setGet!.slice(0, 4), ["SET", "c", "v", "PXAT"]);
  assert.deepEqual(plainGet, ["SET", "d", "v"]);
  assert.deepEqual(getexEx!.slice(0, 2), ["PEXPIREAT", "a"]);
  assertDeadline(getexEx![2], before + 200_000, after + 200_000);
  assert.deepEqual(persist, ["PERSIST", "a"]);
  assert.deepEqual(pastDeadline, ["DEL", "b"]);
  assert.deepEqual(rest, [
    ["DEL", "c"],
    ["SET", "d", "w"],
    ["SET", "e", "0.1", "KEEPTTL"],
    ["SET", "e", "0.3", "KEEPTTL"],
    ["INCR", "g"],
    ["APPEND", "g", "0"],
    ["SETRANGE", "g", "0", "2"],
  ]);
});

Deno.test("MSET and MSETNX declare every other argument as a key", async () => {
  await withOurServer(async (client) => {
    assert.deepEqual(await query(client, "COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"), [
      "a",
      "b",
    ]);
    assert.deepEqual(await query(client, "COMMAND", "GETKEYS", "MSETNX", "a", "1", "b", "2"), [
      "a",
      "b",
    ]);
  });
});

Deno.test("SETRANGE and APPEND keep binary data intact", async () => {
  await withOurServer(async (client) => {
    const binary = "\x00\xff\r\n\x80";
    assert.equal(await query(client, "SETRANGE", "bin", "2", "\x00"), 3);
    const bytes = await client.command("GET", "bin");
    assert.equal(escapeBytes(bytes), escapeBytes("$3\r\n\x00\x00\x00\r\n"));
    const latin1 = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    assert.equal(decodeReply(await client.command("APPEND", "bin", latin1)), 8);
    const reply = await client.command("GETRANGE", "bin", "3", "-1");
    assert.deepEqual([...reply], [...ENCODER.encode("$5\r\n"), ...latin1, 13, 10]);
  });
});

Deno.test("LCS matches redis-server on random strings", async () => {
  await withBothServers(async (ours, redis) => {
    const random = seededRandom(99);
    const randomText = (length: number, alphabet: string) =>
      Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
    for (let i = 0; i < 30; i++) {
      const alphabet = i % 3 === 0 ? "ab" : i % 3 === 1 ? "ACGT" : "abcdefghij";
      await assertSameReply(
        ours,
        redis,
        "SET",
        "x",
        randomText(Math.floor(random() * 300), alphabet),
      );
      await assertSameReply(
        ours,
        redis,
        "SET",
        "y",
        randomText(Math.floor(random() * 300), alphabet),
      );
      await assertSameReply(ours, redis, "LCS", "x", "y");
      await assertSameReply(ours, redis, "LCS", "x", "y", "LEN");
      await assertSameReply(ours, redis, "LCS", "x", "y", "IDX", "WITHMATCHLEN");
      await assertSameReply(ours, redis, "LCS", "y", "x", "IDX", "MINMATCHLEN", "3");
    }
  });
});

Deno.test("LCS refuses a table larger than proto-max-bulk-len", async () => {
  await withOurServer(async (client) => {
    await client.command("SET", "long", "a".repeat(20_000));
    await client.command("SET", "other", "b".repeat(7_000));
    assert.deepEqual(await query(client, "LCS", "long", "other", "LEN"), {
      error: "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
    });
    await client.command("SET", "other", "ab".repeat(500));
    assert.equal(await query(client, "LCS", "long", "other", "LEN"), 500);
  });
});
