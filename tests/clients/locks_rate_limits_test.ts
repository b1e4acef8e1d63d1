/**
 * Locks and rate limits built on Lua scripts, unmodified, against our
 * server: redlock (acquire, contend, extend, release, expiry) and
 * rate-limiter-flexible's RateLimiterRedis (points per duration, blocking,
 * penalties and rewards), each as its README uses it, over ioredis.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import Redlock from "redlock";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { type RunningServer, sleep, startOurServer } from "../helpers/servers.ts";

const sanitizers = { sanitizeOps: false, sanitizeResources: false };

async function withRedis(test: (redis: Redis, server: RunningServer) => Promise<void>) {
  const server = await startOurServer();
  const redis = new Redis({ host: "127.0.0.1", port: server.port });
  try {
    await test(redis, server);
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

Deno.test({
  name: "redlock: one holder at a time, extend, release, and expiry frees the lock",
  ...sanitizers,
  async fn() {
    await withRedis(async (redis) => {
      const redlock = new Redlock([redis], { retryCount: 0, driftFactor: 0.01 });
      const lock = await redlock.lock("locks:resource", 1000);
      assert.equal(await redis.pttl("locks:resource") > 0, true);
      await assert.rejects(redlock.lock("locks:resource", 1000));

      const extended = await lock.extend(5000);
      assert.ok(await redis.pttl("locks:resource") > 1000);
      await extended.unlock();
      assert.equal(await redis.exists("locks:resource"), 0);

      // A waiting contender gets the lock once the holder releases it.
      const patient = new Redlock([redis], { retryCount: 50, retryDelay: 20 });
      const first = await patient.lock("locks:queue", 5000);
      const second = patient.lock("locks:queue", 5000);
      await sleep(100);
      await first.unlock();
      const acquired = await second;
      assert.notEqual(acquired.value, first.value);
      await acquired.unlock();

      // Another holder's value is never released: unlock of a stolen lock fails.
      const short = await redlock.lock("locks:short", 100);
      await sleep(200);
      const thief = await redlock.lock("locks:short", 5000);
      await assert.rejects(short.unlock());
      assert.equal(await redis.get("locks:short"), thief.value);
      await thief.unlock();
    });
  },
});

Deno.test({
  name: "rate-limiter-flexible: points per duration, blocking, penalty and reward",
  ...sanitizers,
  async fn() {
    await withRedis(async (redis) => {
      const limiter = new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: "rl",
        points: 5,
        duration: 2,
        useRedisPackage: false,
      });
      for (let i = 1; i <= 5; i++) {
        const result = await limiter.consume("user-1");
        assert.equal(result.remainingPoints, 5 - i);
      }
      const refused = await limiter.consume("user-1").then(
        () => undefined,
        (rejection: unknown) => rejection,
      );
      assert.ok(refused instanceof RateLimiterRes);
      assert.equal(refused.remainingPoints, 0);
      assert.ok(refused.msBeforeNext > 0 && refused.msBeforeNext <= 2000);
      assert.equal((await limiter.get("user-1"))!.consumedPoints, 6);

      // Another key has its own budget; penalties and rewards move it.
      await limiter.consume("user-2", 2);
      await limiter.penalty("user-2", 1);
      assert.equal((await limiter.get("user-2"))!.consumedPoints, 3);
      await limiter.reward("user-2", 2);
      assert.equal((await limiter.get("user-2"))!.consumedPoints, 1);

      // blockDuration keeps a key refused after it went over.
      const blocking = new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: "rlb",
        points: 1,
        duration: 1,
        blockDuration: 5,
      });
      await blocking.consume("ip");
      await assert.rejects(blocking.consume("ip"));
      assert.ok(await redis.pttl("rlb:ip") > 1000);
      await blocking.delete("ip");
      await blocking.consume("ip");
    });
  },
});
