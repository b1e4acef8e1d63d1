/**
 * MIGRATE over loopback: from us to redis-server, from redis-server to us,
 * and between two of ours; single keys and KEYS, COPY, REPLACE, AUTH,
 * AUTH2, the target's errors, a target that is not there, and how the
 * deletions reach the AOF.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { RequestParser } from "../../src/protocol/parser.ts";
import { RawClient } from "../helpers/servers.ts";
import { SERVER_TEST, startInProcess, tempDir } from "./helpers.ts";
import { type Keyspace, populate, valueOfRedis } from "../rdb/helpers.ts";
import { assertSameKeyspace, call, keyspaceThroughRedis, must, startRedis } from "./rdb_servers.ts";

/**
 * `actual` with each expiry time that is within a second of `expected`'s
 * replaced by it: MIGRATE sends TTLs, so deadlines move by the transfer time.
 */
function withExpiriesOf(actual: Keyspace, expected: Keyspace): Keyspace {
  const adjusted: Keyspace = new Map();
  for (const [name, entry] of actual) {
    const want = expected.get(name);
    const close = want !== undefined && want.expireAt > 0 && entry.expireAt > 0 &&
      Math.abs(want.expireAt - entry.expireAt) < 1000;
    adjusted.set(name, close ? { ...entry, expireAt: want.expireAt } : entry);
  }
  return adjusted;
}

Deno.test({
  name: "MIGRATE moves every type from redis-server to us and from us to redis-server",
  ...SERVER_TEST,
  async fn() {
    const source = await startRedis();
    if (source === undefined) return;
    const target = await startRedis();
    const ours = await startInProcess(["--appendonly", "no"]);
    const client = await RawClient.connect(ours.port);
    try {
      await populate(source.client);
      const expected = await keyspaceThroughRedis(source.client, target!.client);
      // redis-server → us, database by database, all keys of a database at once.
      for (let database = 0; database < 16; database++) {
        await must(source.client, "SELECT", String(database));
        const keys = (await must(source.client, "KEYS", "*")) as string[];
        if (keys.length === 0) continue;
        assert.equal(
          await call(
            source.client,
            "MIGRATE",
            "127.0.0.1",
            String(ours.port),
            "",
            String(database),
            "5000",
            "KEYS",
            ...keys,
          ),
          "OK",
        );
        assert.equal(await call(source.client, "DBSIZE"), 0);
      }
      await must(source.client, "SELECT", "0");
      assertSameKeyspace(
        withExpiriesOf(await keyspaceThroughRedis(client, target!.client), expected),
        expected,
        "after MIGRATE to us",
      );
      // us → redis-server, one key at a time.
      for (let database = 0; database < 16; database++) {
        await must(client, "SELECT", String(database));
        for (const key of (await must(client, "KEYS", "*")) as string[]) {
          assert.equal(
            await call(
              client,
              "MIGRATE",
              "127.0.0.1",
              String(source.server.port),
              key,
              String(database),
              "5000",
            ),
            "OK",
          );
        }
        assert.equal(await call(client, "DBSIZE"), 0);
      }
      assertSameKeyspace(
        withExpiriesOf(await keyspaceThroughRedis(source.client, target!.client), expected),
        expected,
        "after MIGRATE back to redis-server",
      );
    } finally {
      await client.close();
      await ours.stop("test over");
      await target?.close();
      await source.close();
    }
  },
});

Deno.test({
  name: "MIGRATE's options and errors answer as redis-server's: COPY, REPLACE, AUTH, AUTH2, NOKEY",
  ...SERVER_TEST,
  async fn() {
    const target = await startRedis(["--requirepass", "secret"]);
    if (target === undefined) return;
    const redis = await startRedis();
    const ours = await startInProcess(["--appendonly", "no"]);
    const client = await RawClient.connect(ours.port);
    const port = String(target.server.port);
    /** The same requests, from `source`, against the same target: the replies. */
    const run = async (source: RawClient) => {
      await must(target.client, "FLUSHALL");
      await must(source, "FLUSHALL");
      await must(source, "SET", "a", "1");
      await must(source, "SET", "b", "2", "PX", "100000");
      await must(source, "RPUSH", "c", "x", "y");
      const migrate = (...rest: string[]) => call(source, "MIGRATE", "127.0.0.1", port, ...rest);
      return [
        await migrate("a", "0", "1000"),
        await migrate("a", "0", "1000", "AUTH", "wrong"),
        await migrate("a", "0", "1000", "AUTH2", "default", "wrong"),
        await migrate("a", "0", "1000", "COPY", "AUTH", "secret"),
        await call(source, "EXISTS", "a"),
        await migrate("a", "0", "1000", "COPY", "AUTH", "secret"),
        await migrate("a", "0", "1000", "COPY", "REPLACE", "AUTH", "secret"),
        await migrate("", "0", "1000", "AUTH2", "default", "secret", "KEYS", "a", "b", "missing"),
        await call(source, "EXISTS", "a", "b"),
        await migrate("missing", "0", "1000", "AUTH", "secret"),
        await migrate("", "0", "1000", "AUTH", "secret", "KEYS", "missing"),
        await migrate("c", "99", "1000", "AUTH", "secret"),
        await migrate("c", "x", "1000"),
        await migrate("c", "0", "x"),
        await migrate("c", "0", "1000", "AUTH"),
        await migrate("c", "0", "1000", "AUTH2", "default"),
        await migrate("c", "0", "1000", "NOPE"),
        await migrate("c", "0", "1000", "KEYS", "c"),
        await migrate("c", "3", "0", "AUTH", "secret"),
        await call(target.client, "SELECT", "3"),
        await call(target.client, "LRANGE", "c", "0", "-1"),
        await call(target.client, "SELECT", "0"),
        (await call(target.client, "PTTL", "b") as number) > 90_000,
      ];
    };
    try {
      await must(target.client, "AUTH", "secret");
      const theirs = await run(redis!.client);
      assert.deepEqual(await run(client), theirs);
    } finally {
      await client.close();
      await ours.stop("test over");
      await redis?.close();
      await target.close();
    }
  },
});

Deno.test({
  name: "MIGRATE to a closed port or a target that never answers fails with Redis's IOERR",
  ...SERVER_TEST,
  async fn() {
    const ours = await startInProcess(["--appendonly", "no"]);
    const client = await RawClient.connect(ours.port);
    // A listener that accepts and never replies.
    const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const accepted: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const conn of silent) accepted.push(conn);
    })();
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const closedPort = String((closed.addr as Deno.NetAddr).port);
    closed.close();
    try {
      await must(client, "SET", "k", "v");
      assert.deepEqual(
        await call(client, "MIGRATE", "127.0.0.1", closedPort, "k", "0", "1000"),
        { error: "IOERR error or timeout writing to target instance" },
      );
      const silentPort = String((silent.addr as Deno.NetAddr).port);
      assert.deepEqual(
        await call(client, "MIGRATE", "127.0.0.1", silentPort, "k", "0", "200"),
        { error: "IOERR error or timeout reading to target instance" },
      );
      assert.equal(await call(client, "GET", "k"), "v", "nothing acknowledged: the key stays");
      // Other clients are served while one waits for its target.
      const other = await RawClient.connect(ours.port);
      const waiting = call(client, "MIGRATE", "127.0.0.1", silentPort, "k", "0", "500");
      assert.equal(await call(other, "PING"), "PONG");
      assert.equal(await call(other, "SET", "during", "1"), "OK");
      await waiting;
      await other.close();
    } finally {
      silent.close();
      for (const conn of accepted) conn.close();
      await accepting.catch(() => {});
      await client.close();
      await ours.stop("test over");
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
  name: "MIGRATE between two of ours: the moved keys are logged as one DEL, COPY logs nothing",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    const targetDir = await tempDir();
    const source = await startInProcess(["--dir", dir, "--appendonly", "yes"]);
    const target = await startInProcess(["--dir", targetDir, "--appendonly", "yes"]);
    const client = await RawClient.connect(source.port);
    const targetClient = await RawClient.connect(target.port);
    const port = String(target.port);
    try {
      await must(client, "SELECT", "2");
      await must(client, "SET", "a", "1");
      await must(client, "HSET", "h", "f", "v");
      await must(client, "SET", "ttl", "v", "PX", "100000");
      assert.equal(
        await call(client, "MIGRATE", "127.0.0.1", port, "a", "4", "1000", "COPY"),
        "OK",
      );
      assert.equal(
        await call(
          client,
          "MIGRATE",
          "127.0.0.1",
          port,
          "",
          "4",
          "1000",
          "REPLACE",
          "KEYS",
          "a",
          "h",
          "ttl",
        ),
        "OK",
      );
      assert.equal(await call(client, "DBSIZE"), 0);
      await must(targetClient, "SELECT", "4");
      assert.equal(await call(targetClient, "GET", "a"), "1");
      assert.deepEqual(await call(targetClient, "HGETALL", "h"), ["f", "v"]);
      const pttl = (await call(targetClient, "PTTL", "ttl")) as number;
      assert.ok(pttl > 90_000 && pttl <= 100_000, String(pttl));
      const logged = (await commandsIn(join(dir, "database.aof")))
        .filter((command) => command[0] !== "SELECT");
      assert.deepEqual(logged.slice(3), [["DEL", "a", "h", "ttl"]]);
      // The target logs the RESTOREs it ran, with absolute TTLs.
      const restored = (await commandsIn(join(targetDir, "database.aof")))
        .filter((command) => command[0] === "RESTORE");
      assert.equal(restored.length, 4);
      assert.equal(restored.at(-1)!.at(-1), "ABSTTL");
    } finally {
      await client.close();
      await targetClient.close();
      await source.stop("test over");
      await target.stop("test over");
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(targetDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a key changed while MIGRATE waits for its target keeps the newer value here",
  ...SERVER_TEST,
  async fn() {
    const redis = await startRedis();
    if (redis === undefined) return;
    const ours = await startInProcess(["--appendonly", "no"]);
    const client = await RawClient.connect(ours.port);
    const other = await RawClient.connect(ours.port);
    // A proxy that holds the target's replies back until we let them through.
    const proxy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => release = resolve);
    const relaying = (async () => {
      const inbound = await proxy.accept();
      const outbound = await Deno.connect({ hostname: "127.0.0.1", port: redis.server.port });
      const toTarget = inbound.readable.pipeTo(outbound.writable).catch(() => {});
      await released;
      await outbound.readable.pipeTo(inbound.writable).catch(() => {});
      await toTarget;
    })();
    try {
      await must(client, "SET", "changed", "old");
      await must(client, "SET", "unchanged", "v");
      const migrating = call(
        client,
        "MIGRATE",
        "127.0.0.1",
        String((proxy.addr as Deno.NetAddr).port),
        "",
        "0",
        "5000",
        "KEYS",
        "changed",
        "unchanged",
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(await call(other, "SET", "changed", "new"), "OK");
      release();
      assert.equal(await migrating, "OK");
      assert.equal(await call(client, "GET", "changed"), "new");
      assert.equal(await call(client, "EXISTS", "unchanged"), 0);
      assert.deepEqual(await valueOfRedis(redis.client, "changed"), {
        type: "string",
        value: "old",
      });
      assert.deepEqual(await valueOfRedis(redis.client, "unchanged"), {
        type: "string",
        value: "v",
      });
    } finally {
      release();
      proxy.close();
      await client.close();
      await other.close();
      await ours.stop("test over");
      await relaying.catch(() => {});
      await redis.close();
    }
  },
});
