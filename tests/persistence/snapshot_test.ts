/**
 * SAVE, BGSAVE and save points over real sockets: the files they write
 * (checked by redis-check-rdb and loaded by redis-server), a BGSAVE under
 * concurrent writes that still saves one instant, Redis's replies for the
 * interplay of BGSAVE, SAVE and BGREWRITEAOF, save points, LASTSAVE and
 * the rdb_* INFO fields, MISCONF after a failed save, and the save at
 * shutdown.
 *
 * These run our server in-process so a test can make background work slow
 * (a step budget of zero: sixteen keys per event-loop turn) and be sure
 * clients write while it runs.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Logger } from "../../src/log.ts";
import { loadRdbFile } from "../../src/persistence/rdb_loader.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { RawClient } from "../helpers/servers.ts";
import {
  configFrom,
  infoField,
  type InProcessServer,
  SERVER_TEST,
  startInProcess,
  tempDir,
  waitFor,
} from "./helpers.ts";
import { checkRdb, populate } from "../rdb/helpers.ts";
import { assertSameKeyspace, call, keyspaceThroughRedis, must, startRedis } from "./rdb_servers.ts";

const SLOW = { stepBudgetMs: 0 };

async function waitForSaves(client: RawClient, count: number): Promise<void> {
  await waitFor(
    async () =>
      Number(await infoField(client, "rdb_saves")) >= count &&
      (await infoField(client, "rdb_bgsave_in_progress")) === "0",
    30_000,
    `${count} saves`,
  );
}

/** Fills our server with redis-server's every-encoding data set, through DUMP/RESTORE. */
async function fillFromRedis(source: RawClient, client: RawClient): Promise<void> {
  for (let database = 0; database < 16; database++) {
    await must(source, "SELECT", String(database));
    await must(client, "SELECT", String(database));
    for (const key of (await must(source, "KEYS", "*")) as string[]) {
      const ttl = (await must(source, "PTTL", key)) as number;
      const payload = await must(source, "DUMP", key);
      await must(client, "RESTORE", key, String(Math.max(ttl, 0)), payload as string);
    }
  }
  await must(source, "SELECT", "0");
  await must(client, "SELECT", "0");
}

Deno.test({
  name:
    "SAVE and BGSAVE write a dump.rdb that redis-check-rdb accepts and redis-server loads as the same data",
  ...SERVER_TEST,
  async fn() {
    const source = await startRedis();
    if (source === undefined) return;
    const dir = await tempDir();
    const ours = await startInProcess(["--dir", dir, "--appendonly", "no"]);
    const client = await RawClient.connect(ours.port);
    try {
      await populate(source.client);
      await fillFromRedis(source.client, client);
      const expected = await keyspaceThroughRedis(client, source.client);
      for (const command of ["SAVE", "BGSAVE"]) {
        await Deno.remove(join(dir, "dump.rdb")).catch(() => {});
        const before = Number(await infoField(client, "rdb_saves"));
        assert.equal(
          await call(client, command),
          command === "SAVE" ? "OK" : "Background saving started",
        );
        await waitForSaves(client, before + 1);
        assert.equal(await infoField(client, "rdb_last_bgsave_status"), "ok");
        assert.equal(await infoField(client, "rdb_changes_since_last_save"), "0");
        const check = await checkRdb(join(dir, "dump.rdb"));
        assert.ok(check.ok, check.output);
        const loaded = await startRedis(["--dir", dir]);
        try {
          assertSameKeyspace(
            await keyspaceThroughRedis(loaded!.client, source.client),
            expected,
            `${command}'s file in redis-server`,
          );
        } finally {
          await loaded!.close();
        }
      }
      assert.deepEqual(
        [...Deno.readDirSync(dir)].map((entry) => entry.name),
        ["dump.rdb"],
        "no temporary file is left",
      );
      assert.match(ours.logText(), /Background saving terminated with success/);
    } finally {
      await client.close();
      await ours.stop("test over");
      await source.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Loads a dump into a fresh keyspace, as start-up would (duplicates and damage throw). */
async function loadDump(path: string): Promise<Keyspace> {
  const keyspace = new Keyspace(16);
  await loadRdbFile({
    log: new Logger("warning", () => {}),
    config: configFrom([]),
    keyspace,
    loading: false,
    loadFunction() {},
  }, path);
  return keyspace;
}

/** One client moving amounts between accounts in transactions: the total never changes. */
async function transfer(port: number, stop: () => boolean, accounts: number): Promise<number> {
  const client = await RawClient.connect(port);
  let transfers = 0;
  try {
    while (!stop()) {
      const from = Math.floor(Math.random() * accounts);
      const to = Math.floor(Math.random() * accounts);
      const amount = String(1 + Math.floor(Math.random() * 5));
      await must(client, "MULTI");
      await must(client, "DECRBY", `account:${from}`, amount);
      await must(client, "INCRBY", `account:${to}`, amount);
      await must(client, "EXEC");
      transfers++;
    }
  } finally {
    await client.close();
  }
  return transfers;
}

/** One client incrementing counters in a fixed round: in any instant they differ by at most 1, in order. */
async function roundRobin(port: number, stop: () => boolean, counters: number): Promise<void> {
  const client = await RawClient.connect(port);
  try {
    for (let i = 0; !stop(); i++) await must(client, "INCR", `counter:${i % counters}`);
  } finally {
    await client.close();
  }
}

/** Keys deleted, re-created, expiring, and whole databases swapped: what a fuzzy save gets wrong. */
async function churn(port: number, stop: () => boolean): Promise<void> {
  const client = await RawClient.connect(port);
  try {
    await must(client, "SELECT", "1");
    for (let i = 0; !stop(); i++) {
      const key = `churn:${i % 300}`;
      await must(client, "DEL", key);
      await must(client, "RPUSH", key, "a", String(i));
      if (i % 7 === 0) await must(client, "PEXPIRE", key, "1");
      if (i % 500 === 499) await must(client, "SWAPDB", "1", "2");
    }
  } finally {
    await client.close();
  }
}

Deno.test({
  name: "a BGSAVE under concurrent writes saves the data of one instant",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    const ours = await startInProcess(["--dir", dir, "--appendonly", "no"]);
    ours.server.persistence.rewriteOptions = SLOW;
    const client = await RawClient.connect(ours.port);
    const accounts = 2000;
    const counters = 50;
    try {
      for (let i = 0; i < accounts; i++) await must(client, "SET", `account:${i}`, "100");
      for (let i = 0; i < 3000; i++) await must(client, "SET", `filler:${i}`, "x".repeat(30));
      let stopping = false;
      const stop = () => stopping;
      const workers = [
        transfer(ours.port, stop, accounts),
        transfer(ours.port, stop, accounts),
        roundRobin(ours.port, stop, counters),
        churn(ours.port, stop),
      ];
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(await call(client, "BGSAVE"), "Background saving started");
      assert.equal(await infoField(client, "rdb_bgsave_in_progress"), "1");
      assert.equal(await call(client, "PING"), "PONG", "clients are served during the save");
      await waitForSaves(client, 1);
      stopping = true;
      const [transfers] = await Promise.all(workers);
      assert.ok((transfers as number) > 10, `${transfers} transfers ran`);
      assert.equal(await infoField(client, "rdb_last_bgsave_status"), "ok");
      const save = /Background saving terminated with success: .* (\d+) rounds/.exec(
        ours.logText(),
      );
      assert.ok(save !== null, ours.logText());

      const check = await checkRdb(join(dir, "dump.rdb"));
      assert.ok(check.ok, check.output);
      const saved = await loadDump(join(dir, "dump.rdb"));
      const db = saved.databases[0]!;
      let total = 0;
      for (let i = 0; i < accounts; i++) total += Number(db.entries.get(`account:${i}`));
      assert.equal(total, accounts * 100, "no transfer is half in the file");
      const values = Array.from(
        { length: counters },
        (_, i) => Number(db.entries.get(`counter:${i}`) ?? 0),
      );
      for (let i = 1; i < counters; i++) {
        assert.ok(
          values[i]! <= values[i - 1]! && values[i]! >= values[0]! - 1,
          `counters of one instant: ${values.join(",")}`,
        );
      }
    } finally {
      await client.close();
      await ours.stop("test over");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "BGSAVE, SAVE, BGREWRITEAOF and LASTSAVE reply as Redis's do when they meet",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    const ours = await startInProcess(["--dir", dir, "--appendonly", "yes"]);
    const client = await RawClient.connect(ours.port);
    try {
      const started = (await call(client, "LASTSAVE")) as number;
      assert.ok(Math.abs(started - Date.now() / 1000) < 5);
      assert.equal(await infoField(client, "rdb_last_bgsave_time_sec"), "-1");
      for (let i = 0; i < 3000; i++) await must(client, "SET", `key:${i}`, "v");
      ours.server.persistence.rewriteOptions = SLOW;

      assert.equal(await call(client, "BGSAVE"), "Background saving started");
      assert.deepEqual(await call(client, "BGSAVE"), {
        error: "ERR Background save already in progress",
      });
      assert.deepEqual(await call(client, "SAVE"), {
        error: "ERR Background save already in progress",
      });
      assert.equal(
        await call(client, "BGREWRITEAOF"),
        "Background append only file rewriting scheduled",
      );
      assert.equal(await infoField(client, "aof_rewrite_scheduled"), "1");
      assert.deepEqual(await call(client, "BGSAVE", "NOW"), { error: "ERR syntax error" });
      // The scheduled rewrite starts when the save ends.
      await waitFor(
        async () => (await infoField(client, "aof_rewrite_in_progress")) === "1",
        30_000,
        "the scheduled rewrite",
      );
      assert.equal(await infoField(client, "rdb_bgsave_in_progress"), "0");
      assert.deepEqual(await call(client, "BGSAVE"), {
        error:
          "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
      });
      assert.equal(await call(client, "BGSAVE", "SCHEDULE"), "Background saving scheduled");
      assert.deepEqual(await call(client, "BGREWRITEAOF"), {
        error: "ERR Background append only file rewriting already in progress",
      });
      // SAVE needs no child: it works while a rewrite runs.
      assert.equal(await call(client, "SAVE"), "OK");
      await waitForSaves(client, 3);
      assert.equal(await infoField(client, "aof_rewrites"), "1");
      assert.equal(await infoField(client, "rdb_saves"), "3");
      // Inside MULTI/EXEC both are only scheduled, as in Redis; SAVE is refused at once.
      ours.server.persistence.rewriteOptions = { stepBudgetMs: 10 };
      await must(client, "MULTI");
      assert.deepEqual(await call(client, "SAVE"), {
        error: "ERR Command not allowed inside a transaction",
      });
      await must(client, "DISCARD");
      await must(client, "MULTI");
      await must(client, "BGSAVE");
      await must(client, "BGREWRITEAOF");
      assert.deepEqual(await call(client, "EXEC"), [
        "Background saving scheduled",
        "Background append only file rewriting scheduled",
      ]);
      await waitFor(
        async () =>
          Number(await infoField(client, "rdb_saves")) === 4 &&
          Number(await infoField(client, "aof_rewrites")) === 2,
        30_000,
        "the scheduled save and rewrite",
      );
      assert.ok(((await call(client, "LASTSAVE")) as number) >= started);
      assert.notEqual(await infoField(client, "rdb_last_bgsave_time_sec"), "-1");
    } finally {
      await client.close();
      await ours.stop("test over");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "save points start a BGSAVE once enough changes are old enough, and not without changes",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    const ours = await startInProcess(["--dir", dir, "--appendonly", "no", "--save", "1", "2"]);
    const client = await RawClient.connect(ours.port);
    try {
      await new Promise((resolve) => setTimeout(resolve, 2200));
      assert.equal(await infoField(client, "rdb_saves"), "0", "no changes, no save");
      await must(client, "SET", "a", "1");
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(await infoField(client, "rdb_saves"), "0", "one change is not enough");
      await must(client, "SET", "b", "2");
      await waitForSaves(client, 1);
      assert.match(ours.logText(), /2 changes in 1 seconds\. Saving\.\.\./);
      assert.equal(await infoField(client, "rdb_changes_since_last_save"), "0");
      const saved = await loadDump(join(dir, "dump.rdb"));
      assert.equal(saved.databases[0]!.entries.get("b"), "2");
      await must(client, "CONFIG", "SET", "save", "");
      await must(client, "SET", "c", "3");
      await must(client, "SET", "d", "4");
      await new Promise((resolve) => setTimeout(resolve, 2200));
      assert.equal(await infoField(client, "rdb_saves"), "1", 'save "" turns them off');
    } finally {
      await client.close();
      await ours.stop("test over");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** What a write gets after the last save failed, with save points and stop-writes-on-bgsave-error. */
const MISCONF =
  "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/** Makes every save to `dir` fail: dump.rdb is a directory that cannot be replaced. */
async function blockDump(dir: string): Promise<void> {
  await Deno.mkdir(join(dir, "dump.rdb"));
  await Deno.writeTextFile(join(dir, "dump.rdb", "in-the-way"), "x");
}

async function unblockDump(dir: string): Promise<void> {
  await Deno.remove(join(dir, "dump.rdb"), { recursive: true });
}

/** The MISCONF scenario against a server: replies, in order. */
async function misconfScenario(client: RawClient, dir: string): Promise<unknown[]> {
  const replies: unknown[] = [];
  await must(client, "SET", "before", "1");
  await blockDump(dir);
  replies.push(await call(client, "SAVE"));
  replies.push(await call(client, "SET", "after-save", "1"));
  replies.push(await call(client, "BGSAVE"));
  await waitFor(
    async () => (await infoField(client, "rdb_last_bgsave_status")) === "err",
    10_000,
    "the save to fail",
  );
  replies.push(await call(client, "SET", "k", "v"));
  replies.push(await call(client, "PING"));
  replies.push(await call(client, "GET", "before"));
  await must(client, "CONFIG", "SET", "stop-writes-on-bgsave-error", "no");
  await new Promise((resolve) => setTimeout(resolve, 300));
  replies.push(await call(client, "SET", "k", "v"));
  await must(client, "CONFIG", "SET", "stop-writes-on-bgsave-error", "yes");
  await new Promise((resolve) => setTimeout(resolve, 300));
  replies.push(await call(client, "SET", "k", "v"));
  await unblockDump(dir);
  replies.push(await call(client, "BGSAVE"));
  await waitFor(
    async () => (await infoField(client, "rdb_last_bgsave_status")) === "ok",
    10_000,
    "the save to succeed",
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  replies.push(await call(client, "SET", "k", "v"));
  return replies;
}

Deno.test({
  name: "after a failed save writes get Redis's MISCONF, reads go on, and a good save ends it",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    const ours = await startInProcess([
      "--dir",
      dir,
      "--appendonly",
      "no",
      "--save",
      "3600",
      "1000",
    ]);
    const client = await RawClient.connect(ours.port);
    const redisDir = await tempDir();
    const redis = await startRedis(["--dir", redisDir, "--save", "3600", "1000"]);
    try {
      const replies = await misconfScenario(client, dir);
      assert.deepEqual(replies, [
        { error: "ERR" },
        "OK",
        "Background saving started",
        { error: MISCONF },
        { error: MISCONF },
        "1",
        "OK",
        { error: MISCONF },
        "Background saving started",
        "OK",
      ]);
      if (redis !== undefined) {
        assert.deepEqual(await misconfScenario(redis.client, redisDir), replies);
      }
      assert.match(ours.logText(), /Background saving error/);
    } finally {
      await client.close();
      await ours.stop("test over");
      await redis?.close();
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(redisDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "with save points the server saves at shutdown; without them it does not",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    let ours: InProcessServer | undefined = await startInProcess([
      "--dir",
      dir,
      "--appendonly",
      "no",
      "--save",
      "3600",
      "1",
    ]);
    try {
      const client = await RawClient.connect(ours.port);
      await must(client, "SET", "kept", "yes");
      await client.close();
      await ours.stop("shutdown");
      assert.match(ours.logText(), /Saving the final RDB snapshot before exiting\./);
      ours = await startInProcess(["--dir", dir, "--appendonly", "no"]);
      const again = await RawClient.connect(ours.port);
      assert.equal(await call(again, "GET", "kept"), "yes");
      await must(again, "SET", "lost", "yes");
      await again.close();
      await ours.stop("shutdown");
      ours = await startInProcess(["--dir", dir, "--appendonly", "no"]);
      const last = await RawClient.connect(ours.port);
      assert.equal(await call(last, "GET", "lost"), null, 'save "": nothing saved at shutdown');
      await last.close();
    } finally {
      await ours?.stop("test over");
      await Deno.remove(dir, { recursive: true });
    }
  },
});
