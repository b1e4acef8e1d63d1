/**
 * Expiry over a real socket: the EXPIRE option matrix, deadlines in the
 * past deleting keys, how TTL and EXPIRETIME round, what reaches the AOF,
 * and the active expiry cycle removing keys that nobody reads.
 *
 * Times here are real (the server runs in its own process), so assertions
 * on remaining time allow for the milliseconds a round trip takes.
 *
 * @module
 */

import { parseAof, query, withOurServer } from "../helpers/test_support.ts";
import { sleep } from "../helpers/servers.ts";
import { recordingServer } from "../helpers/in_process.ts";
import assert from "node:assert/strict";

/** A key's state before an EXPIRE: missing, without deadline, or with 100 seconds left. */
type Start = "missing" | "persistent" | "100s";

/**
 * The EXPIRE option matrix: for each starting state and option, setting 50s
 * and 200s; `reply` and `ttl` are what Redis answers (TTL -1 = no deadline,
 * -2 = missing).
 */
const MATRIX: { start: Start; option: string[]; seconds: number; reply: number; ttl: number }[] = [
  { start: "missing", option: [], seconds: 50, reply: 0, ttl: -2 },
  { start: "missing", option: ["NX"], seconds: 50, reply: 0, ttl: -2 },
  { start: "missing", option: ["XX"], seconds: 50, reply: 0, ttl: -2 },
  { start: "missing", option: ["GT"], seconds: 50, reply: 0, ttl: -2 },
  { start: "missing", option: ["LT"], seconds: 50, reply: 0, ttl: -2 },
  { start: "persistent", option: [], seconds: 50, reply: 1, ttl: 50 },
  { start: "persistent", option: ["NX"], seconds: 50, reply: 1, ttl: 50 },
  { start: "persistent", option: ["XX"], seconds: 50, reply: 0, ttl: -1 },
  // No deadline counts as an infinite one: nothing is greater, everything is less.
  { start: "persistent", option: ["GT"], seconds: 50, reply: 0, ttl: -1 },
  { start: "persistent", option: ["LT"], seconds: 50, reply: 1, ttl: 50 },
  { start: "100s", option: [], seconds: 50, reply: 1, ttl: 50 },
  { start: "100s", option: ["NX"], seconds: 50, reply: 0, ttl: 100 },
  { start: "100s", option: ["XX"], seconds: 50, reply: 1, ttl: 50 },
  { start: "100s", option: ["GT"], seconds: 50, reply: 0, ttl: 100 },
  { start: "100s", option: ["GT"], seconds: 200, reply: 1, ttl: 200 },
  { start: "100s", option: ["LT"], seconds: 50, reply: 1, ttl: 50 },
  { start: "100s", option: ["LT"], seconds: 200, reply: 0, ttl: 100 },
  { start: "100s", option: ["XX", "GT"], seconds: 200, reply: 1, ttl: 200 },
  { start: "100s", option: ["XX", "LT"], seconds: 200, reply: 0, ttl: 100 },
  { start: "persistent", option: ["XX", "LT"], seconds: 50, reply: 0, ttl: -1 },
];

Deno.test("EXPIRE NX/XX/GT/LT: every option against every starting state", async () => {
  await withOurServer(async (client) => {
    for (const { start, option, seconds, reply, ttl } of MATRIX) {
      const what = `EXPIRE ${seconds} ${option.join(" ")} on a ${start} key`;
      await query(client, "DEL", "k");
      if (start !== "missing") await query(client, "SET", "k", "v");
      if (start === "100s") await query(client, "EXPIRE", "k", "100");
      assert.equal(await query(client, "EXPIRE", "k", String(seconds), ...option), reply, what);
      assert.equal(await query(client, "TTL", "k"), ttl, what);
    }
  });
});

Deno.test("EXPIRE rejects conflicting and unknown options before looking at the key", async () => {
  await withOurServer(async (client) => {
    const incompatible = "ERR NX and XX, GT or LT options at the same time are not compatible";
    for (const option of [["NX", "XX"], ["NX", "GT"], ["LT", "NX"]]) {
      assert.deepEqual(await query(client, "EXPIRE", "missing", "10", ...option), {
        error: incompatible,
      });
    }
    assert.deepEqual(await query(client, "PEXPIRE", "missing", "10", "GT", "LT"), {
      error: "ERR GT and LT options at the same time are not compatible",
    });
    assert.deepEqual(await query(client, "EXPIREAT", "missing", "abc", "FOO"), {
      error: "ERR Unsupported option FOO",
    });
  });
});

Deno.test("a deadline in the past deletes the key at once, whatever the command", async () => {
  await withOurServer(async (client) => {
    const cases = [
      ["EXPIRE", "k", "-1"],
      ["EXPIRE", "k", "0"],
      ["PEXPIRE", "k", "-100"],
      ["EXPIREAT", "k", "1"],
      ["PEXPIREAT", "k", "0"],
      ["PEXPIREAT", "k", String(Date.now() - 1000)],
      ["EXPIRE", "k", "-5", "LT"],
      ["EXPIRE", "k", "-5", "NX"],
    ];
    for (const command of cases) {
      await query(client, "SET", "k", "v");
      assert.equal(await query(client, ...command), 1, command.join(" "));
      assert.equal(await query(client, "EXISTS", "k"), 0, command.join(" "));
      assert.equal(await query(client, "DBSIZE"), 0, command.join(" "));
    }
    // GT against no deadline fails before the deadline is considered.
    await query(client, "SET", "k", "v");
    assert.equal(await query(client, "EXPIRE", "k", "-5", "GT"), 0);
    assert.equal(await query(client, "EXISTS", "k"), 1);
  });
});

Deno.test("TTL rounds to the nearest second, PTTL is exact, EXPIRETIME rounds too", async () => {
  await withOurServer(async (client) => {
    await query(client, "SET", "k", "v");
    await query(client, "PEXPIRE", "k", "2700");
    assert.equal(await query(client, "TTL", "k"), 3);
    await query(client, "PEXPIRE", "k", "2300");
    assert.equal(await query(client, "TTL", "k"), 2);
    const remaining = await query(client, "PTTL", "k") as number;
    assert.ok(remaining > 2200 && remaining <= 2300, `PTTL ${remaining}`);

    await query(client, "PEXPIREAT", "k", "4102444800600");
    assert.equal(await query(client, "EXPIRETIME", "k"), 4102444801);
    assert.equal(await query(client, "PEXPIRETIME", "k"), 4102444800600);
    await query(client, "PEXPIREAT", "k", "4102444800499");
    assert.equal(await query(client, "EXPIRETIME", "k"), 4102444800);

    await query(client, "PERSIST", "k");
    assert.equal(await query(client, "TTL", "k"), -1);
    assert.equal(await query(client, "EXPIRETIME", "k"), -1);
    assert.equal(await query(client, "PTTL", "missing"), -2);
  });
});

Deno.test("a key read after its deadline is gone, and is logged as DEL", async () => {
  const dir = await Deno.makeTempDir({ prefix: "expire-aof-" });
  try {
    const before = Date.now();
    await withOurServer(async (client) => {
      await query(client, "SET", "k", "v");
      await query(client, "PEXPIRE", "k", "30");
      await query(client, "SET", "gone", "v");
      await query(client, "EXPIRE", "gone", "-1");
      await sleep(60);
      assert.equal(await query(client, "GET", "k"), null);
      assert.equal(await query(client, "TTL", "k"), -2);
    }, { args: ["--appendonly", "yes", "--appendfsync", "always"], dir });
    const logged = parseAof(await Deno.readFile(`${dir}/database.aof`), { select: false });
    assert.equal(logged.length, 5, JSON.stringify(logged));
    const [setK, pexpireat, setGone, delGone, delK] = logged;
    assert.deepEqual(setK, ["SET", "k", "v"]);
    assert.equal(pexpireat![0], "PEXPIREAT");
    const deadline = Number(pexpireat![2]);
    assert.ok(deadline >= before + 30 && deadline <= Date.now(), `deadline ${deadline}`);
    assert.deepEqual(setGone, ["SET", "gone", "v"]);
    assert.deepEqual(delGone, ["DEL", "gone"]);
    assert.deepEqual(delK, ["DEL", "k"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("active expiry removes keys nobody reads", async () => {
  await withOurServer(async (client) => {
    for (let i = 0; i < 1000; i++) await query(client, "SET", `k${i}`, "v", "PX", "50");
    await query(client, "SET", "keeper", "v");
    // DBSIZE counts keys without looking at them, so only the active cycle can bring it down.
    const deadline = Date.now() + 2000;
    let size = await query(client, "DBSIZE") as number;
    while (size > 1 && Date.now() < deadline) {
      await sleep(50);
      size = await query(client, "DBSIZE") as number;
    }
    assert.equal(size, 1, "expired keys left after 2 seconds");
    assert.equal(await query(client, "GET", "keeper"), "v");
  });
});

Deno.test("a key a command finds expired is logged as DEL with the command's effects, in one MULTI", async () => {
  // What redis-server 7.0.15 writes for the same commands.
  const { logged, connect } = recordingServer(() => "");
  const run = connect();
  for (const key of ["plain", "scripted", "queued", "deleted"]) run("SET", key, "5", "PX", "1");
  await sleep(5);
  logged.length = 0;
  run("INCR", "plain");
  run("EVAL", "redis.call('INCR', KEYS[1]); return redis.call('INCR', 'n')", "1", "scripted");
  run("MULTI");
  run("INCR", "queued");
  run("INCR", "n");
  run("EXEC");
  // DEL of a key that had only expired changes nothing itself: only the expiry is logged.
  run("DEL", "deleted");
  assert.deepEqual(logged, [
    "0: MULTI",
    "0: DEL plain",
    "0: INCR plain",
    "0: EXEC",
    "0: MULTI",
    "0: DEL scripted",
    "0: INCR scripted",
    "0: INCR n",
    "0: EXEC",
    "0: MULTI",
    "0: DEL queued",
    "0: INCR queued",
    "0: INCR n",
    "0: EXEC",
    "0: DEL deleted",
  ]);
});
