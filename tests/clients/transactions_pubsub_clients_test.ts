/**
 * Transactions and Pub/Sub through the clients people use: ioredis 6 (its
 * default RESP3, and `protocol: 2`) and node-redis (its default RESP3, and
 * `RESP: 2`). Each library has its own idea of how MULTI/EXEC replies,
 * aborted WATCHes and subscription messages look, so these check that they
 * understand ours: `multi().exec()` results, the WATCH retry loop under
 * concurrent modification, `message`/`pmessage` events, and a 10,000-command
 * transaction.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient, WatchError } from "redis";
import { type RunningServer, startOurServer } from "../helpers/servers.ts";

const sanitizers = { sanitizeOps: false, sanitizeResources: false };

type Protocol = 2 | 3;

async function withServer(test: (server: RunningServer) => Promise<void>): Promise<void> {
  const server = await startOurServer();
  try {
    await test(server);
  } finally {
    await server.stop();
  }
}

function ioredis(server: RunningServer, protocol: Protocol): Redis {
  return new Redis({ port: server.port, host: "127.0.0.1", protocol, lazyConnect: true });
}

function nodeRedis(server: RunningServer, protocol: Protocol) {
  const client = createClient({ url: `redis://127.0.0.1:${server.port}`, RESP: protocol });
  client.on("error", () => {});
  return client;
}

/** Resolves with the first `count` values `listen` reports, or rejects after 5 s. */
function collect<T>(count: number, listen: (report: (value: T) => void) => void): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const values: T[] = [];
    const timer = setTimeout(() => reject(new Error(`got only ${JSON.stringify(values)}`)), 5000);
    listen((value) => {
      values.push(value);
      if (values.length === count) {
        clearTimeout(timer);
        resolve(values);
      }
    });
  });
}

for (const protocol of [3, 2] as const) {
  Deno.test({
    name: `ioredis RESP${protocol}: multi().exec() results, runtime errors in place, EXECABORT`,
    ...sanitizers,
    async fn() {
      await withServer(async (server) => {
        const redis = ioredis(server, protocol);
        try {
          await redis.connect();
          assert.deepEqual(await redis.multi().set("a", "1").incr("a").get("a").exec(), [
            [null, "OK"],
            [null, 2],
            [null, "2"],
          ]);
          const [set, incr, get] = (await redis.multi().set("s", "x").incr("s").get("s").exec())!;
          assert.deepEqual(set, [null, "OK"]);
          assert.match(String(incr![0]), /value is not an integer/);
          assert.deepEqual(get, [null, "x"]);
          await assert.rejects(redis.multi().set("y", "1").call("NOSUCH").exec(), /EXECABORT/);
          assert.equal(await redis.exists("y"), 0);

          const large = redis.multi();
          for (let i = 0; i < 10_000; i++) large.incr("counter");
          const results = (await large.exec())!;
          assert.equal(results.length, 10_000);
          assert.deepEqual(results[9_999], [null, 10_000]);
        } finally {
          redis.disconnect();
        }
      });
    },
  });

  Deno.test({
    name: `ioredis RESP${protocol}: WATCH retry loop under concurrent modification`,
    ...sanitizers,
    async fn() {
      await withServer(async (server) => {
        const other = ioredis(server, protocol);
        const workers = Array.from({ length: 5 }, () => ioredis(server, protocol));
        try {
          await other.connect();
          await Promise.all(workers.map((worker) => worker.connect()));

          /** Increments `key` with WATCH/MULTI; returns how many attempts it took. */
          const increment = async (redis: Redis, key: string, interfere?: () => Promise<void>) => {
            for (let attempt = 1;; attempt++) {
              await redis.watch(key);
              const value = Number(await redis.get(key) ?? "0");
              if (attempt === 1) await interfere?.();
              const result = await redis.multi().set(key, String(value + 1)).exec();
              if (result !== null) return attempt;
            }
          };

          const attempts = await increment(workers[0]!, "balance", async () => {
            await other.set("balance", "100");
          });
          assert.equal(attempts, 2, "the first EXEC was aborted by the concurrent SET");
          assert.equal(await other.get("balance"), "101");

          await Promise.all(workers.map(async (worker) => {
            for (let i = 0; i < 20; i++) await increment(worker, "shared");
          }));
          assert.equal(await other.get("shared"), "100");
        } finally {
          other.disconnect();
          for (const worker of workers) worker.disconnect();
        }
      });
    },
  });

  Deno.test({
    name: `ioredis RESP${protocol}: a subscriber gets message and pmessage events`,
    ...sanitizers,
    async fn() {
      await withServer(async (server) => {
        const subscriber = ioredis(server, protocol);
        const publisher = ioredis(server, protocol);
        try {
          await subscriber.connect();
          await publisher.connect();
          assert.equal(await subscriber.subscribe("news", "alerts"), 2);
          assert.equal(await subscriber.psubscribe("n*"), 3);
          const events = collect<string>(3, (report) => {
            subscriber.on("message", (channel, message) => report(`message ${channel} ${message}`));
            subscriber.on(
              "pmessage",
              (pattern, channel, message) => report(`pmessage ${pattern} ${channel} ${message}`),
            );
          });
          assert.equal(await publisher.publish("news", "hello"), 2);
          assert.equal(await publisher.publish("alerts", "fire"), 1);
          assert.deepEqual((await events).sort(), [
            "message alerts fire",
            "message news hello",
            "pmessage n* news hello",
          ]);
          assert.deepEqual(await publisher.pubsub("NUMSUB", "news"), ["news", 1]);
          // Names given: ioredis 6 over RESP3 never resolves an UNSUBSCRIBE
          // without arguments (against Redis 7.0 too).
          assert.equal(await subscriber.unsubscribe("news", "alerts"), 1);
          assert.equal(await subscriber.punsubscribe("n*"), 0);
          assert.equal(await publisher.publish("news", "nobody"), 0);
        } finally {
          subscriber.disconnect();
          publisher.disconnect();
        }
      });
    },
  });

  Deno.test({
    name: `node-redis RESP${protocol}: multi, WATCH with WatchError retry, subscribe`,
    ...sanitizers,
    async fn() {
      await withServer(async (server) => {
        const client = nodeRedis(server, protocol);
        const other = nodeRedis(server, protocol);
        const subscriber = nodeRedis(server, protocol);
        try {
          await Promise.all([client.connect(), other.connect(), subscriber.connect()]);
          assert.deepEqual(await client.multi().set("a", "1").incr("a").get("a").exec(), [
            "OK",
            2,
            "2",
          ]);

          let attempts = 0;
          for (;;) {
            attempts++;
            await client.watch("counter");
            const value = Number(await client.get("counter") ?? "0");
            if (attempts === 1) await other.set("counter", "10");
            try {
              await client.multi().set("counter", String(value + 1)).exec();
              break;
            } catch (error) {
              assert.ok(error instanceof WatchError, `unexpected ${error}`);
            }
          }
          assert.equal(attempts, 2);
          assert.equal(await client.get("counter"), "11");

          const messages = collect<string>(2, (report) => {
            void subscriber.subscribe(
              "news",
              (message, channel) => report(`${channel} ${message}`),
            );
            void subscriber.pSubscribe(
              "n*",
              (message, channel) => report(`p ${channel} ${message}`),
            );
          });
          // Wait until both subscriptions are in place before publishing.
          for (let tries = 0; (await other.pubSubNumPat()) < 1 && tries < 100; tries++) {
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          assert.equal(await other.publish("news", "hello"), 2);
          assert.deepEqual((await messages).sort(), ["news hello", "p news hello"]);
          if (protocol === 3) {
            // RESP3 lets a subscribed connection run any command.
            assert.equal(await subscriber.get("a"), "2");
          }
        } finally {
          await Promise.allSettled([client.close(), other.close(), subscriber.close()]);
        }
      });
    },
  });
}
