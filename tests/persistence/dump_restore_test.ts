/**
 * DUMP and RESTORE over real sockets, against redis-server: every type in
 * every encoding both ways, RESTORE's options and errors reply for reply,
 * how RESTORE is logged, and bad payloads that must never crash the server
 * or load a wrong value.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { RequestParser } from "../../src/protocol/parser.ts";
import { latin1Bytes, RawClient } from "../helpers/servers.ts";
import { send, SERVER_TEST, startInProcess, tempDir } from "./helpers.ts";
import { populate, random, replyBytes, valueOfRedis, withFooter } from "../rdb/helpers.ts";
import { call, must, startRedis, valueThroughRedis } from "./rdb_servers.ts";

Deno.test({
  name:
    "every key redis-server dumps restores here, and our DUMP of it restores there as the same value",
  ...SERVER_TEST,
  async fn() {
    const source = await startRedis();
    if (source === undefined) return;
    const scratch = await startRedis();
    const ours = await startInProcess(["--appendonly", "no"]);
    const client = await RawClient.connect(ours.port);
    try {
      await populate(source.client);
      let keys = 0;
      let identical = 0;
      let reorderedSets = 0;
      for (let database = 0; database < 16; database++) {
        await must(source.client, "SELECT", String(database));
        await must(client, "SELECT", String(database));
        for (const key of (await must(source.client, "KEYS", "*")) as string[]) {
          const payload = await must(source.client, "DUMP", key);
          assert.equal(await call(client, "RESTORE", key, "0", payload as string), "OK", key);
          assert.equal(
            await call(client, "TYPE", key),
            await call(source.client, "TYPE", key),
            `TYPE ${key}`,
          );
          const type = await call(client, "TYPE", key);
          if (type !== "string") {
            assert.equal(
              await call(client, "OBJECT", "ENCODING", key),
              await call(source.client, "OBJECT", "ENCODING", key),
              `OBJECT ENCODING ${key}`,
            );
          }
          const ourPayload = await must(client, "DUMP", key);
          if (ourPayload === payload) identical++;
          else if (key === "set-mixed") reorderedSets++;
          assert.deepEqual(
            await valueThroughRedis(client, scratch!.client, key),
            await valueOfRedis(source.client, key),
            `value of ${key.replace(/[^\x20-\x7e]/g, "?")}`,
          );
          keys++;
        }
      }
      assert.ok(keys > 50, `${keys} keys compared`);
      // Node layouts are kept (streams, lists as pushed), so DUMPs are Redis's byte for byte;
      // except that a hash-table set may list its members in another order (the same value,
      // compared above): Redis's own order follows its per-process hash seed, and set-mixed,
      // which RESTORE builds as an intset until its non-integer member (as Redis builds it),
      // lists the integers first, in ascending order.
      assert.equal(
        identical + reorderedSets,
        keys,
        `${identical} of ${keys} DUMPs are byte-identical to Redis's`,
      );
    } finally {
      await client.close();
      await ours.stop("test over");
      await scratch?.close();
      await source.close();
    }
  },
});

/** A raw reply, for byte-for-byte comparisons. */
async function raw(client: RawClient, ...args: (string | Uint8Array)[]): Promise<string> {
  const reply = await client.command(
    ...args.map((arg) => typeof arg === "string" ? latin1Bytes(arg) : arg),
  );
  return new TextDecoder("latin1").decode(reply);
}

Deno.test({
  name: "RESTORE's options, errors and expiry answer exactly as redis-server's",
  ...SERVER_TEST,
  async fn() {
    const redis = await startRedis();
    if (redis === undefined) return;
    const ours = await startInProcess(["--appendonly", "no"]);
    const client = await RawClient.connect(ours.port);
    try {
      await must(redis.client, "RPUSH", "list", "a", "b", "1");
      const good = replyBytes(await must(redis.client, "DUMP", "list"));
      const badChecksum = good.slice();
      badChecksum[badChecksum.length - 1]! ^= 1;
      const newerVersion = withFooter(good.slice(0, good.length - 10), 11);
      const garbage = withFooter(new Uint8Array([18, 1, 2, 200, 1, 2, 3]));
      const emptyList = withFooter(new Uint8Array([18, 0]));
      const future = String(Date.now() + 100_000);
      const past = String(Date.now() - 100_000);
      const cases: (string | Uint8Array)[][] = [
        ["DUMP", "missing"],
        ["RESTORE", "k", "0", good],
        ["RESTORE", "k", "0", good],
        ["RESTORE", "k", "0", good, "REPLACE"],
        ["LRANGE", "k", "0", "-1"],
        ["RESTORE", "k2", "-1", good],
        ["RESTORE", "k2", "abc", good],
        ["RESTORE", "k2", "0", badChecksum],
        ["RESTORE", "k2", "0", newerVersion],
        ["RESTORE", "k2", "0", garbage],
        ["RESTORE", "k2", "0", emptyList],
        ["RESTORE", "k2", "0", ""],
        ["RESTORE", "k2", "0", good, "IDLETIME", "-1"],
        ["RESTORE", "k2", "0", good, "IDLETIME", "x"],
        ["RESTORE", "k2", "0", good, "FREQ", "256"],
        ["RESTORE", "k2", "0", good, "IDLETIME", "1", "FREQ", "1"],
        ["RESTORE", "k2", "0", good, "FREQ"],
        ["RESTORE", "k2", "0", good, "NOPE"],
        ["RESTORE", "k", "abc", good, "NOPE"],
        ["RESTORE", "k", "abc", good],
        ["RESTORE", "k2", "0", good, "IDLETIME", "10", "REPLACE"],
        ["RESTORE", "k3", "0", good, "FREQ", "100", "ABSTTL"],
        ["RESTORE", "k4", past, good, "ABSTTL"],
        ["EXISTS", "k4"],
        ["RESTORE", "k", past, good, "ABSTTL", "REPLACE"],
        ["EXISTS", "k"],
        ["RESTORE", "k5", future, good, "ABSTTL"],
        ["PEXPIRETIME", "k5"],
        ["RESTORE", "k6", "100000", good],
        ["TTL", "k6"],
        ["RESTORE", "k7", "1", good],
      ];
      for (const args of cases) {
        const what = args.map((arg) => typeof arg === "string" ? arg : `<${arg.length} bytes>`)
          .join(" ");
        assert.equal(await raw(client, ...args), await raw(redis.client, ...args), what);
      }
    } finally {
      await client.close();
      await ours.stop("test over");
      await redis.close();
    }
  },
});

/** Commands in an AOF, parsed. */
async function commandsIn(path: string): Promise<string[][]> {
  const parser = new RequestParser();
  parser.append(await Deno.readFile(path));
  const commands: string[][] = [];
  for (let request = parser.next(); request !== undefined; request = parser.next()) {
    commands.push(request);
  }
  return commands;
}

Deno.test({
  name: "RESTORE is logged as Redis propagates it: absolute TTLs, DEL for a key born expired",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    const args = ["--dir", dir, "--appendonly", "yes"];
    let ours = await startInProcess(args);
    let client = await RawClient.connect(ours.port);
    try {
      await send(client, "SET", "source", "value");
      const payload = replyBytes(await must(client, "DUMP", "source"));
      const before = Date.now();
      assert.equal(await call(client, "RESTORE", "relative", "100000", payload), "OK");
      assert.equal(
        await call(client, "RESTORE", "absolute", String(before + 200_000), payload, "ABSTTL"),
        "OK",
      );
      assert.equal(await call(client, "RESTORE", "plain", "0", payload, "REPLACE"), "OK");
      assert.equal(await call(client, "RESTORE", "plain", "1", payload, "ABSTTL", "REPLACE"), "OK");
      assert.equal(await call(client, "RESTORE", "never", "1", payload, "ABSTTL"), "OK");
      const commands = (await commandsIn(join(dir, "database.aof")))
        .filter((command) => command[0] !== "SELECT");
      const [relative, absolute, plain, deleted, ...rest] = commands.slice(1);
      assert.equal(relative![0], "RESTORE");
      assert.equal(relative![1], "relative");
      const deadline = Number(relative![2]);
      assert.ok(deadline >= before + 100_000 && deadline <= Date.now() + 100_000, String(deadline));
      assert.equal(relative![4], "ABSTTL");
      assert.deepEqual(absolute!.slice(0, 3), ["RESTORE", "absolute", String(before + 200_000)]);
      assert.equal(absolute!.length, 5);
      assert.deepEqual([plain![0], plain![1], plain![2], plain![4]], [
        "RESTORE",
        "plain",
        "0",
        "REPLACE",
      ]);
      assert.deepEqual(deleted, ["DEL", "plain"]);
      assert.deepEqual(rest, [], "a key born expired without a key to replace is not logged");
      await client.close();
      await ours.stop("restart");
      ours = await startInProcess(args);
      client = await RawClient.connect(ours.port);
      assert.equal(await call(client, "GET", "relative"), "value");
      assert.equal(await call(client, "PEXPIRETIME", "relative"), deadline);
      assert.equal(await call(client, "EXISTS", "plain"), 0);
    } finally {
      await client.close();
      await ours.stop("test over");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "damaged payloads get RESTORE's two errors, never a crash, and what is accepted is what redis-server accepts",
  ...SERVER_TEST,
  async fn() {
    // Redis checks payloads deeply only when asked to; we always do.
    const redis = await startRedis(["--sanitize-dump-payload", "yes"]);
    if (redis === undefined) return;
    const ours = await startInProcess(["--appendonly", "no"]);
    const client = await RawClient.connect(ours.port);
    try {
      const setups = [
        ["HSET", "k", "a", "1", "b", "2"],
        ["ZADD", "k", "1", "a", "2.5", "b"],
        ["SADD", "k", "1", "2", "300"],
        ["SADD", "k", "a", "b"],
        ["RPUSH", "k", "a", "1", "b", "20000"],
        ["SET", "k", "compressible ".repeat(10)],
        ["XADD", "k", "1-1", "a", "1", "b", "2"],
      ];
      const seeds: Uint8Array[] = [];
      for (const setup of setups) {
        await must(redis.client, "DEL", "k");
        await must(redis.client, ...setup);
        seeds.push(replyBytes(await must(redis.client, "DUMP", "k")));
      }
      const errors = new Set([
        "ERR DUMP payload version or checksum are wrong",
        "ERR Bad data format",
      ]);
      // Every cut of every payload: the footer no longer verifies.
      for (const seed of seeds) {
        for (let cut = 0; cut < seed.length; cut++) {
          const reply = await call(client, "RESTORE", "cut", "0", seed.subarray(0, cut), "REPLACE");
          assert.deepEqual(reply, { error: "ERR DUMP payload version or checksum are wrong" });
        }
      }
      // Changed bytes with a footer that verifies: either side may refuse, we never accept more.
      const next = random(11);
      let accepted = 0;
      for (let round = 0; round < 400; round++) {
        const seed = seeds[round % seeds.length]!;
        const body = seed.slice(0, seed.length - 10);
        body[1 + Math.floor(next() * (body.length - 1))] = Math.floor(next() * 256);
        const payload = withFooter(body);
        const theirs = await call(redis.client, "RESTORE", "fuzz", "0", payload, "REPLACE");
        const mine = await call(client, "RESTORE", "fuzz", "0", payload, "REPLACE");
        if (mine === "OK") {
          assert.equal(
            theirs,
            "OK",
            `we accepted what redis-server refused: ${Array.from(payload)}`,
          );
          assert.deepEqual(
            await valueThroughRedis(client, redis.client, "fuzz"),
            await valueOfRedis(redis.client, "fuzz"),
          );
          accepted++;
        } else {
          assert.ok(
            typeof mine === "object" && mine !== null && "error" in mine && errors.has(mine.error),
            JSON.stringify(mine),
          );
        }
      }
      assert.ok(accepted > 0, "some mutations are harmless (a changed value byte)");
      assert.equal(await call(client, "PING"), "PONG");
    } finally {
      await client.close();
      await ours.stop("test over");
      await redis.close();
    }
  },
});

Deno.test({
  name: "compressed strings DUMP byte for byte as redis-server's (LZF as liblzf compresses)",
  ...SERVER_TEST,
  async fn() {
    const redis = await startRedis();
    if (redis === undefined) return;
    const ours = await startInProcess(["--appendonly", "no"]);
    const client = await RawClient.connect(ours.port);
    try {
      const next = random(3);
      for (let i = 0; i < 300; i++) {
        const alphabet = 1 + Math.floor(next() * 6);
        const length = 21 + Math.floor(next() * (i % 10 === 0 ? 5000 : 200));
        let value = "";
        for (let j = 0; j < length; j++) {
          value += String.fromCharCode(97 + Math.floor(next() * alphabet));
        }
        await must(redis.client, "SET", "s", value);
        await must(client, "SET", "s", value);
        assert.equal(
          await call(client, "DUMP", "s"),
          await call(redis.client, "DUMP", "s"),
          `${length} bytes`,
        );
      }
    } finally {
      await client.close();
      await ours.stop("test over");
      await redis.close();
    }
  },
});
