/**
 * AOF rewrite: compact output, consistency under concurrent writes (INCR,
 * LPUSH, EXPIRE, whole-database changes on keys being rewritten), automatic
 * rewrite on growth, BGREWRITEAOF with appendonly no, failure and shutdown
 * in the middle. (SAVE and BGSAVE write dump.rdb: see snapshot_test.ts.)
 *
 * These run our server in-process so a test can make the rewrite slow (a
 * step budget of zero: sixteen keys per event-loop turn) and be sure
 * clients write while it runs.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { replaceFileSystem } from "../../src/persistence/file_system.ts";
import { ITEMS_PER_COMMAND } from "../../src/persistence/rewrite.ts";
import { RequestParser } from "../../src/protocol/parser.ts";
import { RawClient } from "../helpers/servers.ts";
import {
  assertSameData,
  checkAof,
  infoField,
  type InProcessServer,
  keyspaceSnapshot,
  programPath,
  send,
  SERVER_TEST,
  SimulatedDisk,
  startInProcess,
  tempDir,
  waitFor,
} from "./helpers.ts";

const SLOW = { stepBudgetMs: 0 };

/** Commands in an AOF, parsed. */
async function commandsIn(path: string): Promise<string[][]> {
  const parser = new RequestParser();
  parser.append(await Deno.readFile(path));
  const commands: string[][] = [];
  for (let request = parser.next(); request !== undefined; request = parser.next()) {
    commands.push(request);
  }
  assert.equal(parser.buffered, 0, "the file ends with a complete command");
  return commands;
}

async function waitForRewrites(client: RawClient, count: number): Promise<void> {
  await waitFor(
    async () =>
      Number(await infoField(client, "aof_rewrites")) >= count &&
      (await infoField(client, "aof_rewrite_in_progress")) === "0",
    30_000,
    `${count} finished rewrites`,
  );
}

/** Stops `server`, starts another on the same directory, returns it. */
async function restart(server: InProcessServer, args: string[]): Promise<InProcessServer> {
  await server.stop("restart");
  return await startInProcess(args);
}

Deno.test({
  name: "a rewrite writes the smallest commands: 64 items each, PEXPIREAT, SELECT per database",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    const args = ["--dir", dir, "--appendonly", "yes"];
    let server = await startInProcess(args);
    const client = await RawClient.connect(server.port);
    try {
      const deadline = String(Date.now() + 3_600_000);
      await send(client, "SET", "plain", "v");
      await send(client, "SET", "with-ttl", "v", "PXAT", deadline);
      await send(client, "SET", "gone", "v", "PX", "1");
      const fields = Array.from({ length: 100 }, (_, i) => [`f${i}`, `v${i}`]).flat();
      await send(client, "HSET", "hash", ...fields);
      await send(client, "SADD", "set", ...Array.from({ length: 130 }, (_, i) => `m${i}`));
      await send(client, "RPUSH", "list", ...Array.from({ length: 65 }, (_, i) => `e${i}`));
      await send(client, "ZADD", "zset", "1.5", "a", "-inf", "b", "2", "c");
      for (let i = 0; i < 50; i++) await send(client, "INCR", "counter");
      await send(client, "SELECT", "5");
      await send(client, "SET", "in-five", "v");
      await new Promise((resolve) => setTimeout(resolve, 5));
      const before = keyspaceSnapshot(server.server);

      assert.equal(
        await send(client, "BGREWRITEAOF"),
        "Background append only file rewriting started",
      );
      await waitForRewrites(client, 1);
      const commands = await commandsIn(join(dir, "database.aof"));
      const count = (name: string) => commands.filter((command) => command[0] === name).length;
      assert.deepEqual(commands[0], ["SELECT", "0"]);
      assert.deepEqual(commands.at(-2), ["SELECT", "5"]);
      assert.equal(count("HSET"), 2);
      assert.equal(count("SADD"), 3);
      assert.equal(count("RPUSH"), 2);
      assert.equal(count("ZADD"), 1);
      assert.equal(count("INCR"), 0);
      assert.deepEqual(commands.find((command) => command[0] === "PEXPIREAT"), [
        "PEXPIREAT",
        "with-ttl",
        deadline,
      ]);
      assert.ok(commands.every((command) => command.length <= 2 + 2 * ITEMS_PER_COMMAND));
      assert.ok(!commands.some((command) => command[1] === "gone"));
      assert.deepEqual(commands.find((command) => command[0] === "ZADD"), [
        "ZADD",
        "zset",
        "-inf",
        "b",
        "1.5",
        "a",
        "2",
        "c",
      ]);
      await client.close();
      server = await restart(server, args);
      assertSameData(keyspaceSnapshot(server.server), before);
    } finally {
      await client.close();
      await server.stop("test over");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** What the clients do while a rewrite runs: a mix on keys the rewriter has and has not reached. */
async function writeWhileRewriting(port: number, id: number, stop: () => boolean) {
  const client = await RawClient.connect(port);
  const random = (n: number) => Math.floor(Math.random() * n);
  let writes = 0;
  try {
    while (!stop()) {
      const n = random(2000);
      switch (random(9)) {
        case 0:
          await send(client, "INCR", `counter:${n}`);
          break;
        case 1:
          await send(client, "LPUSH", `list:${n % 200}`, `pushed-by-${id}`);
          break;
        case 2:
          await send(client, "EXPIRE", `string:${n}`, String(1000 + random(1000)));
          break;
        case 3:
          await send(client, "HINCRBY", `hash:${n % 300}`, `field${random(5)}`, "1");
          break;
        case 4:
          await send(client, "SADD", `set:${n % 300}`, `member${random(50)}`);
          break;
        case 5:
          await send(client, "DEL", `string:${n}`);
          break;
        case 6:
          await send(client, "SET", `new:${id}:${n}`, String(n), "EX", "5000");
          break;
        case 7:
          await send(client, "ZINCRBY", `zset:${n % 100}`, "1.25", `m${random(20)}`);
          break;
        default:
          await send(client, "APPEND", `string:${n}`, "+");
      }
      writes++;
    }
  } finally {
    await client.close();
  }
  return writes;
}

/** Fills the keyspace with a few thousand keys of every type. */
async function populate(port: number): Promise<void> {
  const client = await RawClient.connect(port);
  try {
    const requests: string[][] = [];
    for (let i = 0; i < 2000; i++) {
      requests.push(["SET", `string:${i}`, `value-${i}`]);
      requests.push(["SET", `counter:${i}`, String(i)]);
    }
    for (let i = 0; i < 300; i++) {
      requests.push(["HSET", `hash:${i}`, "field0", "0", "name", `h${i}`]);
      requests.push(["SADD", `set:${i}`, "a", "b", `c${i}`]);
    }
    for (let i = 0; i < 200; i++) requests.push(["RPUSH", `list:${i}`, "x", "y", String(i)]);
    for (let i = 0; i < 100; i++) requests.push(["ZADD", `zset:${i}`, "1", "m1", String(i), "m2"]);
    for (let i = 0; i < 500; i++) requests.push(["PEXPIRE", `string:${i}`, "3600000"]);
    const { encodeCommand } = await import("../helpers/servers.ts");
    for (let i = 0; i < requests.length; i += 500) {
      const batch = requests.slice(i, i + 500);
      await client.send(new Uint8Array(batch.flatMap((args) => [...encodeCommand(args)])));
      for (const _ of batch) await client.readReply();
    }
  } finally {
    await client.close();
  }
}

async function rewriteUnderLoad(policy: string, extra: (client: RawClient) => Promise<void>) {
  const dir = await tempDir();
  const args = ["--dir", dir, "--appendonly", "yes", "--appendfsync", policy];
  let server = await startInProcess(args);
  server.server.persistence.rewriteOptions = SLOW;
  const control = await RawClient.connect(server.port);
  try {
    await populate(server.port);
    let stopping = false;
    let writesDuringRewrite = 0;
    const writers = Array.from(
      { length: 8 },
      (_, id) => writeWhileRewriting(server.port, id, () => stopping),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const dirtyBefore = server.server.dirty;
    assert.equal(
      await send(control, "BGREWRITEAOF"),
      "Background append only file rewriting started",
    );
    assert.deepEqual(await send(control, "BGREWRITEAOF"), {
      error: "ERR Background append only file rewriting already in progress",
    });
    assert.equal(await infoField(control, "aof_rewrite_in_progress"), "1");
    await extra(control);
    const rewrite = server.server.persistence.rewrite!;
    await rewrite.done;
    writesDuringRewrite = server.server.dirty - dirtyBefore;
    // Keep writing a little after the swap: those go to the new file.
    await new Promise((resolve) => setTimeout(resolve, 100));
    stopping = true;
    await Promise.all(writers);
    assert.ok(rewrite.result?.ok, `rewrite failed: ${rewrite.result?.error}`);
    assert.ok(writesDuringRewrite > 200, `only ${writesDuringRewrite} writes during the rewrite`);
    assert.ok(rewrite.rounds >= 2, "changes made during the first round were written again");
    assert.equal(await infoField(control, "aof_last_bgrewrite_status"), "ok");

    const expected = keyspaceSnapshot(server.server);
    await control.close();
    if (programPath("redis-check-aof")) {
      const check = await checkAof(join(dir, "database.aof"));
      assert.ok(check.ok, check.output);
    }
    server = await restart(server, args);
    assertSameData(keyspaceSnapshot(server.server), expected);
  } finally {
    await control.close();
    await server.stop("test over");
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "a rewrite under concurrent INCR/LPUSH/EXPIRE/... restarts to exactly the data clients saw",
  ...SERVER_TEST,
  fn: () => rewriteUnderLoad("everysec", async () => {}),
});

Deno.test({
  name: "a rewrite under appendfsync always, with SWAPDB and FLUSHDB while it runs",
  ...SERVER_TEST,
  fn: () =>
    rewriteUnderLoad("always", async (client) => {
      await send(client, "SELECT", "3");
      await send(client, "SET", "db3-key", "v");
      await send(client, "SELECT", "0");
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await send(client, "SWAPDB", "0", "3"), "OK");
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await send(client, "SWAPDB", "0", "3"), "OK");
      await send(client, "SELECT", "4");
      await send(client, "SET", "doomed", "v");
      assert.equal(await send(client, "FLUSHDB"), "OK");
      await send(client, "SELECT", "0");
    }),
});

Deno.test({
  name: "the AOF is rewritten automatically once it has grown by the configured percentage",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    const args = [
      "--dir",
      dir,
      "--appendonly",
      "yes",
      "--auto-aof-rewrite-min-size",
      "20kb",
      "--auto-aof-rewrite-percentage",
      "100",
    ];
    let server = await startInProcess(args);
    const client = await RawClient.connect(server.port);
    try {
      for (let i = 0; i < 1000; i++) await send(client, "INCR", "counter");
      await waitForRewrites(client, 1);
      assert.match(server.logText(), /Starting automatic rewriting of AOF on \d+% growth/);
      const size = Number(await infoField(client, "aof_current_size"));
      assert.ok(size < 1000, `the rewritten file is small (${size} bytes)`);
      assert.equal(await infoField(client, "aof_base_size"), String(size));
      await client.close();
      server = await restart(server, args);
      const reader = await RawClient.connect(server.port);
      assert.equal(await send(reader, "GET", "counter"), "1000");
      await reader.close();
    } finally {
      await client.close();
      await server.stop("test over");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "BGREWRITEAOF with appendonly no writes the AOF a later appendonly start loads",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    const server = await startInProcess(["--dir", dir, "--appendonly", "no"]);
    const client = await RawClient.connect(server.port);
    try {
      for (let i = 0; i < 3000; i++) await send(client, "SET", `key:${i}`, "v");
      server.server.persistence.rewriteOptions = SLOW;
      assert.equal(
        await send(client, "BGREWRITEAOF"),
        "Background append only file rewriting started",
      );
      assert.equal(await infoField(client, "aof_rewrite_in_progress"), "1");
      assert.deepEqual(await send(client, "BGREWRITEAOF"), {
        error: "ERR Background append only file rewriting already in progress",
      });
      await waitForRewrites(client, 1);
      // A rewrite is not a save: LASTSAVE and the rdb_* fields do not move.
      assert.equal(await infoField(client, "rdb_saves"), "0");
      const commands = await commandsIn(join(dir, "database.aof"));
      assert.equal(commands.filter((command) => command[0] === "SET").length, 3000);
    } finally {
      await client.close();
      await server.stop("test over");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a rewrite that fails (disk full) keeps the old file and the server writing",
  ...SERVER_TEST,
  async fn() {
    const disk = new SimulatedDisk();
    const previous = replaceFileSystem(disk);
    const dir = await tempDir();
    const server = await startInProcess(["--dir", dir, "--appendonly", "yes"]);
    const client = await RawClient.connect(server.port);
    const path = join(dir, "database.aof");
    try {
      for (let i = 0; i < 200; i++) await send(client, "SET", `key:${i}`, "x".repeat(50));
      const before = disk.content(path);
      disk.capacity = disk.used() + 1000;
      assert.equal(
        await send(client, "BGREWRITEAOF"),
        "Background append only file rewriting started",
      );
      await waitFor(
        async () => (await infoField(client, "aof_last_bgrewrite_status")) === "err",
        5000,
        "the rewrite to fail",
      );
      assert.match(server.logText(), /Background AOF rewrite terminated with error: No space left/);
      assert.deepEqual([...disk.files.keys()], [path], "the temporary file was removed");
      assert.deepEqual(disk.content(path), before);
      disk.capacity = Infinity;
      assert.equal(await send(client, "SET", "after", "1"), "OK");
      assert.equal(await infoField(client, "aof_rewrites_consecutive_failures"), "1");
    } finally {
      await client.close();
      await server.stop("test over");
      replaceFileSystem(previous);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "shutdown during a rewrite removes its temporary file and keeps every write",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    const args = ["--dir", dir, "--appendonly", "yes"];
    let server = await startInProcess(args);
    server.server.persistence.rewriteOptions = SLOW;
    const client = await RawClient.connect(server.port);
    try {
      for (let i = 0; i < 3000; i++) await send(client, "SET", `key:${i}`, "v");
      await send(client, "BGREWRITEAOF");
      await send(client, "SET", "during", "rewrite");
      const rewrite = server.server.persistence.rewrite!;
      const expected = keyspaceSnapshot(server.server);
      await client.close();
      await server.stop("shutdown");
      const result = await rewrite.done;
      assert.equal(result.error, "cancelled");
      assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name), ["database.aof"]);
      server = await startInProcess(args);
      assertSameData(keyspaceSnapshot(server.server), expected);
    } finally {
      await client.close();
      await server.stop("test over");
      await Deno.remove(dir, { recursive: true });
    }
  },
});
