/**
 * Streams through the AOF, with real server processes:
 *
 * - what we log for stream commands is what redis-server 7.0 logs (the same
 *   commands, delivery times aside), plus the one XGROUP SETID we add so a
 *   group's entries-read survives;
 * - a restart replays it to the same entries, groups, consumers, pending
 *   entries, last-delivered IDs and counters;
 * - BGREWRITEAOF writes rewriteStreamObject's commands and loses nothing;
 * - redis-server loads our files, and we load its plain RESP ones;
 * - a kill -9 under `appendfsync always` loses no acknowledged entry and no
 *   pending one.
 *
 * The state compared is everything XRANGE, XINFO STREAM, XINFO STREAM FULL
 * and XINFO GROUPS report, except consumers' seen times (Redis does not
 * persist them either). Tests needing redis-server skip loudly without it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  RawClient,
  redisServerPath,
  type ReplyValue,
  type RunningServer,
  startOurServer,
  startRedisServer,
} from "../helpers/servers.ts";
import { readAof, startRedisOnOurAof } from "../helpers/test_support.ts";
import { infoField, send, SERVER_TEST, tempDir, waitFor } from "./helpers.ts";

function skip(what: string): void {
  console.warn(`SKIPPED: ${what} is not installed; stream persistence check skipped`);
}

/**
 * A workload touching everything a stream persists: entries, deletions,
 * exact and approximate trims, XSETID, groups at various positions with
 * ENTRIESREAD, consumers with and without pending entries, reads with and
 * without NOACK, acknowledgements, claims (with TIME, RETRYCOUNT, FORCE,
 * LASTID), XAUTOCLAIM over deleted entries, an empty stream with a group.
 * With `history`, consumers also re-read their pending entries, which
 * changes delivery counts Redis does not log.
 */
function workload(history: boolean): string[][] {
  const commands: string[][] = [];
  for (let i = 1; i <= 230; i++) commands.push(["XADD", "orders", `${i}-1`, "item", `i${i}`]);
  commands.push(
    ["XADD", "orders", "MAXLEN", "~", "150", "231-1", "item", "i231"],
    ["XTRIM", "orders", "MINID", "~", "120"],
    ["XDEL", "orders", "205-1", "230-1"],
    ["XGROUP", "CREATE", "orders", "workers", "0"],
    ["XGROUP", "CREATE", "orders", "audit", "$"],
    ["XGROUP", "CREATE", "orders", "late", "210-1", "ENTRIESREAD", "90"],
    ["XGROUP", "CREATECONSUMER", "orders", "workers", "idle-one"],
    ["XREADGROUP", "GROUP", "workers", "alice", "COUNT", "5", "STREAMS", "orders", ">"],
    ["XREADGROUP", "GROUP", "workers", "bob", "COUNT", "3", "STREAMS", "orders", ">"],
    ["XREADGROUP", "GROUP", "workers", "noack", "COUNT", "2", "NOACK", "STREAMS", "orders", ">"],
    ["XACK", "orders", "workers", "101-1", "102-1", "999-1"],
    ["XCLAIM", "orders", "workers", "carol", "0", "103-1", "TIME", "1600000000000"],
    ["XCLAIM", "orders", "workers", "carol", "0", "104-1", "RETRYCOUNT", "9", "JUSTID"],
    ["XCLAIM", "orders", "workers", "dave", "0", "231-1", "FORCE", "JUSTID", "LASTID", "300-0"],
    ["XREADGROUP", "GROUP", "late", "erin", "STREAMS", "orders", ">"],
    ["XDEL", "orders", "104-1"],
    ["XAUTOCLAIM", "orders", "workers", "frank", "0", "104-1", "COUNT", "3"],
    ["XGROUP", "CREATECONSUMER", "orders", "audit", "watcher"],
    ["XGROUP", "CREATE", "orders", "gone", "0"],
    ["XGROUP", "DESTROY", "orders", "gone"],
    ["XGROUP", "CREATECONSUMER", "orders", "late", "temp"],
    ["XGROUP", "DELCONSUMER", "orders", "late", "temp"],
    ["XADD", "orders", "400-1", "item", "last"],
    ["XDEL", "orders", "400-1"],
    ["XGROUP", "CREATE", "empty", "readers", "$", "MKSTREAM"],
    ["XGROUP", "CREATECONSUMER", "empty", "readers", "someone"],
    ["XADD", "cleared", "1-1", "a", "b"],
    ["XTRIM", "cleared", "MAXLEN", "0"],
    ["XSETID", "cleared", "50-0", "ENTRIESADDED", "7", "MAXDELETEDID", "40-0"],
    ["XADD", "binary", "1-1", "\x00\xff", "\r\n", "", "empty"],
  );
  if (history) {
    commands.push(
      ["XREADGROUP", "GROUP", "workers", "alice", "STREAMS", "orders", "0"],
      ["XREADGROUP", "GROUP", "workers", "bob", "COUNT", "1", "STREAMS", "orders", "0"],
    );
  }
  return commands;
}

const KEYS = ["orders", "empty", "cleared", "binary"];

async function runAll(client: RawClient, commands: string[][]): Promise<void> {
  for (const args of commands) {
    const reply = await send(client, ...args);
    if (reply !== null && typeof reply === "object" && "error" in reply) {
      throw new Error(`${args.join(" ")}: ${reply.error}`);
    }
  }
}

/** Replaces the value after every `seen-time` key (RESP2 maps are flat arrays). */
function maskSeenTimes(value: ReplyValue): ReplyValue {
  if (!Array.isArray(value)) return value;
  return value.map((item, index) => value[index - 1] === "seen-time" ? 0 : maskSeenTimes(item));
}

/** Drops the node-layout fields, which a rewrite (re-adding only live entries) changes. */
function withoutLayout(value: ReplyValue): ReplyValue {
  if (!Array.isArray(value)) return value;
  return value.map((item, index) =>
    value[index - 1] === "radix-tree-keys" || value[index - 1] === "radix-tree-nodes" ? 0 : item
  );
}

/** What a server reports about the streams at `keys`. */
async function streamState(
  port: number,
  keys: readonly string[] = KEYS,
): Promise<Record<string, ReplyValue>> {
  const client = await RawClient.connect(port);
  try {
    const state: Record<string, ReplyValue> = {};
    for (const key of keys) {
      state[key] = {
        type: await send(client, "TYPE", key),
        entries: await send(client, "XRANGE", key, "-", "+"),
        info: await send(client, "XINFO", "STREAM", key),
        full: maskSeenTimes(await send(client, "XINFO", "STREAM", key, "FULL", "COUNT", "0")),
        groups: await send(client, "XINFO", "GROUPS", key),
      };
    }
    return state;
  } finally {
    await client.close();
  }
}

function sansLayout(state: Record<string, ReplyValue>): Record<string, ReplyValue> {
  const out: Record<string, ReplyValue> = {};
  for (const [key, value] of Object.entries(state)) {
    const record = value as Record<string, ReplyValue>;
    out[key] = { ...record, info: withoutLayout(record.info!), full: withoutLayout(record.full!) };
  }
  return out;
}

async function waitForRewrite(client: RawClient, count: string): Promise<void> {
  await waitFor(
    async () =>
      (await infoField(client, "aof_rewrites")) === count &&
      (await infoField(client, "aof_rewrite_in_progress")) === "0",
    20_000,
    "the AOF rewrite",
  );
}

/** The commands of an AOF as comparable lines: no SELECT/MULTI/EXEC, XCLAIM's TIME masked. */
function comparable(commands: string[][]): string[] {
  return commands
    .filter((args) => !["SELECT", "MULTI", "EXEC"].includes(args[0]!.toUpperCase()))
    .map((args) => {
      const copy = [...args];
      const time = copy.indexOf("TIME");
      if (copy[0] === "XCLAIM" && time > 0 && copy[time + 1] !== "1600000000000") {
        copy[time + 1] = "<now>";
      }
      return copy.join(" ");
    });
}

Deno.test({
  name: "stream commands are logged as redis-server logs them (plus the entries-read SETID)",
  ...SERVER_TEST,
  async fn() {
    if (!redisServerPath()) return skip("redis-server");
    const redisDir = await tempDir();
    const ourDir = await tempDir();
    let redis: RunningServer | undefined;
    let ours: RunningServer | undefined;
    try {
      redis = await startRedisServer([
        "--dir",
        redisDir,
        "--appendonly",
        "yes",
        "--aof-use-rdb-preamble",
        "no",
      ]);
      ours = await startOurServer({ dir: ourDir, args: ["--appendonly", "yes"] });
      for (const server of [redis!, ours]) {
        const client = await RawClient.connect(server.port);
        try {
          await runAll(client, workload(true));
        } finally {
          await client.close();
        }
      }
      const expected = comparable(await readAof(join(redisDir, "appendonlydir")));
      const logged = comparable(await readAof(join(ourDir, "database.aof")));
      // Ours adds an XGROUP SETID after the XCLAIMs of a read that moved the group.
      const added = logged.filter((line, index) =>
        line.startsWith("XGROUP SETID") && logged[index - 1]?.startsWith("XCLAIM") === true
      );
      assert.ok(added.length > 0);
      assert.deepEqual(logged.filter((line) => !added.includes(line)), expected);
    } finally {
      await Promise.all([redis?.stop(), ours?.stop()]);
      await Deno.remove(redisDir, { recursive: true });
      await Deno.remove(ourDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a restart replays the AOF to the same streams, groups, consumers and pending entries",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    let server = await startOurServer({ dir, args: ["--appendonly", "yes"] });
    try {
      const client = await RawClient.connect(server.port);
      await runAll(client, workload(false));
      await client.close();
      const before = await streamState(server.port);
      await server.stop();
      server = await startOurServer({ dir, args: ["--appendonly", "yes"] });
      assert.deepEqual(await streamState(server.port), before);
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "BGREWRITEAOF writes rewriteStreamObject's commands and a restart loses nothing",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    let server = await startOurServer({ dir, args: ["--appendonly", "yes"] });
    try {
      const client = await RawClient.connect(server.port);
      await runAll(client, workload(true));
      const before = await streamState(server.port);
      await send(client, "BGREWRITEAOF");
      await waitForRewrite(client, "1");
      await client.close();
      const lines = comparable(await readAof(join(dir, "database.aof")));
      assert.ok(lines.includes("XADD empty MAXLEN 0 0-1 x y"), "an empty stream is XADD MAXLEN 0");
      assert.ok(lines.includes("XSETID cleared 50-0 ENTRIESADDED 7 MAXDELETEDID 40-0"));
      assert.ok(lines.includes("XGROUP CREATECONSUMER orders audit watcher"));
      assert.ok(
        lines.some((line) => /^XGROUP CREATE orders late 231-1 ENTRIESREAD \d+$/.test(line)),
      );
      assert.ok(
        lines.includes(
          "XCLAIM orders workers carol 0 103-1 TIME 1600000000000 RETRYCOUNT 2 JUSTID FORCE",
        ),
        "pending entries are XCLAIM ... JUSTID FORCE with their delivery",
      );
      const length = ((before.orders as Record<string, ReplyValue>).entries as unknown[]).length;
      assert.equal(lines.filter((line) => line.startsWith("XADD orders ")).length, length);
      server = await restart(server, dir);
      assert.deepEqual(sansLayout(await streamState(server.port)), sansLayout(before));
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

async function restart(server: RunningServer, dir: string): Promise<RunningServer> {
  await server.stop();
  return await startOurServer({ dir, args: ["--appendonly", "yes"] });
}

/** redis-server started on a copy of our `database.aof`, as its single appendfilename. */
async function redisOnOurFile(dir: string): Promise<{ redis: RunningServer; redisDir: string }> {
  const redisDir = await tempDir();
  const redis = await startRedisOnOurAof(dir, redisDir);
  return { redis: redis!, redisDir };
}

Deno.test({
  name: "redis-server loads our AOF with streams, as written and as rewritten",
  ...SERVER_TEST,
  async fn() {
    if (!redisServerPath()) return skip("redis-server");
    const dir = await tempDir();
    const server = await startOurServer({ dir, args: ["--appendonly", "yes"] });
    try {
      const client = await RawClient.connect(server.port);
      await runAll(client, workload(false));
      const expected = await streamState(server.port);
      for (const round of ["as written", "as rewritten"]) {
        if (round === "as rewritten") {
          await send(client, "BGREWRITEAOF");
          await waitForRewrite(client, "1");
        }
        const { redis, redisDir } = await redisOnOurFile(dir);
        try {
          const loaded = await streamState(redis.port);
          if (round === "as written") assert.deepEqual(loaded, expected, round);
          else assert.deepEqual(sansLayout(loaded), sansLayout(expected), round);
        } finally {
          await redis.stop();
          await Deno.remove(redisDir, { recursive: true });
        }
      }
      await client.close();
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "we load redis-server's plain RESP AOF with streams (rewritten base plus incr file)",
  ...SERVER_TEST,
  async fn() {
    if (!redisServerPath()) return skip("redis-server");
    const redisDir = await tempDir();
    const ourDir = await tempDir();
    const redisArgs = ["--dir", redisDir, "--appendonly", "yes", "--aof-use-rdb-preamble", "no"];
    let redis: RunningServer | undefined;
    let ours: RunningServer | undefined;
    try {
      redis = await startRedisServer(redisArgs);
      const client = await RawClient.connect(redis!.port);
      const commands = workload(false);
      await runAll(client, commands.slice(0, 240));
      await send(client, "BGREWRITEAOF");
      await waitForRewrite(client, "1");
      await runAll(client, commands.slice(240));
      await client.close();
      await redis!.stop();
      // Redis's own replay is the reference (it does not keep entries-read across one).
      redis = await startRedisServer(redisArgs);
      const expected = await streamState(redis!.port);

      const appendDir = join(redisDir, "appendonlydir");
      const manifest = await Deno.readTextFile(join(appendDir, "appendonly.aof.manifest"));
      const files = [...manifest.matchAll(/^file (\S+) seq \d+ type ([bi])$/gm)];
      const ordered = [
        ...files.filter((file) => file[2] === "b"),
        ...files.filter((file) => file[2] === "i"),
      ];
      const parts = await Promise.all(
        ordered.map((file) => Deno.readFile(join(appendDir, file[1]!))),
      );
      assert.notEqual(new TextDecoder().decode(parts[0]!.subarray(0, 5)), "REDIS", "RESP base");
      const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
      let offset = 0;
      for (const part of parts) {
        joined.set(part, offset);
        offset += part.byteLength;
      }
      await Deno.writeFile(join(ourDir, "database.aof"), joined);
      ours = await startOurServer({ dir: ourDir, args: ["--appendonly", "yes"] });
      assert.deepEqual(await streamState(ours.port), expected);
    } finally {
      await Promise.all([redis?.stop(), ours?.stop()]);
      await Deno.remove(redisDir, { recursive: true });
      await Deno.remove(ourDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "kill -9 under appendfsync always keeps every acknowledged entry and every pending entry",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    const args = ["--appendonly", "yes", "--appendfsync", "always"];
    let server = await startOurServer({ dir, args });
    const producers = await Promise.all([0, 1, 2].map(() => RawClient.connect(server.port)));
    const consumer = await RawClient.connect(server.port);
    const added: string[] = [];
    const pending = new Map<string, string>();
    try {
      await send(consumer, "XGROUP", "CREATE", "jobs", "workers", "$", "MKSTREAM");
      let stop = false;
      const produce = async (client: RawClient, index: number) => {
        for (let i = 0; !stop && i < 400; i++) {
          added.push(
            (await send(
              client,
              "XADD",
              "jobs",
              "*",
              "producer",
              `${index}`,
              "n",
              `${i}`,
            )) as string,
          );
        }
      };
      const consume = async () => {
        for (let round = 0; round < 150; round++) {
          const name = `worker${round % 3}`;
          const reply = (await send(
            consumer,
            "XREADGROUP",
            "GROUP",
            "workers",
            name,
            "COUNT",
            "5",
            "STREAMS",
            "jobs",
            ">",
          )) as [string, [string, string[]][]][] | null;
          const ids = reply?.[0]?.[1].map(([id]) => id) ?? [];
          for (const id of ids) pending.set(id, name);
          // Acknowledge every other delivery; the rest stays pending.
          const acked = ids.filter((_, i) => i % 2 === 0);
          if (acked.length > 0) {
            assert.equal(await send(consumer, "XACK", "jobs", "workers", ...acked), acked.length);
            for (const id of acked) pending.delete(id);
          }
        }
        stop = true;
      };
      await Promise.all([...producers.map(produce), consume()]);
      await server.kill9();
      await Promise.all([...producers, consumer].map((client) => client.close()));
      server = await startOurServer({ dir, args });
      const client = await RawClient.connect(server.port);
      try {
        const entries = (await send(client, "XRANGE", "jobs", "-", "+")) as [string, string[]][];
        const present = new Set(entries.map(([id]) => id));
        assert.deepEqual(added.filter((id) => !present.has(id)), [], "acknowledged XADDs lost");
        const listed = (await send(client, "XPENDING", "jobs", "workers", "-", "+", "100000")) as [
          string,
          string,
          number,
          number,
        ][];
        const recovered = new Map(listed.map(([id, owner]) => [id, owner]));
        assert.ok(pending.size > 0);
        for (const [id, owner] of pending) {
          assert.equal(recovered.get(id), owner, `pending entry ${id} of ${owner}`);
        }
      } finally {
        await client.close();
      }
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
