/**
 * Seeded random walks over small hashes, sets, sorted sets and lists with
 * low encoding thresholds, sent to this server and to redis-server and
 * compared reply for reply, so values keep crossing between their compact
 * and big encodings (and CONFIG SET moves the thresholds mid-walk).
 * OBJECT ENCODING must agree at every step. Whole-collection reads are
 * compared exactly while the value is compact (listpack and intset order is
 * Redis's), and as sorted lists once it is a hash table, whose order in
 * Redis follows its per-process hash seed.
 */

import assert from "node:assert/strict";
import {
  RawClient,
  redisServerPath,
  type ReplyValue,
  startOurServer,
  startRedisServer,
} from "../helpers/servers.ts";
import { query, seededRandom } from "../helpers/test_support.ts";
import { SERVER_TEST } from "../persistence/helpers.ts";

const REDIS_AVAILABLE = redisServerPath() !== undefined;
if (!REDIS_AVAILABLE) {
  console.warn("redis-server not installed: SKIPPING the random encoding walks against Redis");
}

const THRESHOLDS = [
  ["hash-max-listpack-entries", "8"],
  ["hash-max-listpack-value", "12"],
  ["set-max-intset-entries", "10"],
  ["zset-max-listpack-entries", "8"],
  ["zset-max-listpack-value", "12"],
  ["list-max-listpack-size", "4"],
];

/** Replies as comparable text (bigints and error replies included). */
function text(reply: ReplyValue): string {
  return JSON.stringify(reply, (_, value) => typeof value === "bigint" ? `${value}n` : value);
}

/** A command of the walk, and whether its reply lists a whole collection. */
type Step = { args: string[]; whole?: boolean };

function walkStep(random: () => number, step: number): Step {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const field = () =>
    random() < 0.03 ? `long-field-${step}-xxxxxxxx` : `f${Math.floor(random() * 14)}`;
  const value = () => random() < 0.03 ? `long-value-${step}-yyyyyyyy` : `v${step % 7}`;
  const member = () => {
    const roll = random();
    if (roll < 0.85) return String(Math.floor(random() * 30) - 10);
    if (roll < 0.92) return pick(["70000", "-2147483649", "9223372036854775807", "4294967296"]);
    if (roll < 0.96) return pick(["007", "1.5", "-0", " 3"]);
    return `m${Math.floor(random() * 12)}`;
  };
  const score = () =>
    pick(["1", "2.5", "-3", "0", "inf", "-inf", String(Math.floor(random() * 9))]);
  const roll = random();
  // Deleting a key lets it start compact again: conversions never go back.
  if (roll < 0.03) return { args: ["DEL", pick(["h", "s", "s2", "z", "l"])] };
  if (roll < 0.06) {
    const [name] = pick(THRESHOLDS);
    return { args: ["CONFIG", "SET", name!, pick(["2", "5", "8", "16", "-1", "-2"])] };
  }
  if (roll < 0.28) {
    return pick<Step>([
      { args: ["HSET", "h", field(), value(), ...(random() < 0.3 ? [field(), value()] : [])] },
      { args: ["HDEL", "h", field()] },
      { args: ["HGET", "h", field()] },
      { args: ["HINCRBY", "h", "counter", "3"] },
      { args: ["HSETNX", "h", field(), value()] },
      { args: ["HSTRLEN", "h", field()] },
      { args: ["HGETALL", "h"], whole: true },
      { args: ["HKEYS", "h"], whole: true },
    ]);
  }
  if (roll < 0.52) {
    return pick<Step>([
      { args: ["SADD", "s", member(), ...(random() < 0.4 ? [member(), member()] : [])] },
      { args: ["SADD", "s2", member(), member(), member()] },
      { args: ["SREM", "s", member()] },
      { args: ["SISMEMBER", "s", member()] },
      { args: ["SMISMEMBER", "s", member(), member()] },
      { args: ["SCARD", "s"] },
      { args: ["SMEMBERS", "s"], whole: true },
      { args: ["SINTERSTORE", "si", "s", "s2"] },
      { args: ["SUNIONSTORE", "su", "s", "s2"] },
      { args: ["SDIFFSTORE", "sd", "s", "s2"] },
      { args: ["SMEMBERS", pick(["si", "su", "sd"])], whole: true },
    ]);
  }
  if (roll < 0.76) {
    return pick<Step>([
      { args: ["ZADD", "z", score(), field()] },
      { args: ["ZADD", "z", "GT", "CH", score(), field(), score(), field()] },
      { args: ["ZINCRBY", "z", "2", field()] },
      { args: ["ZREM", "z", field()] },
      { args: ["ZRANK", "z", field()] },
      { args: ["ZSCORE", "z", field()] },
      { args: ["ZRANGE", "z", "0", "-1", "WITHSCORES"] },
      { args: ["ZRANGE", "z", "(1", "+inf", "BYSCORE", "LIMIT", "1", "3"] },
      { args: ["ZRANGESTORE", "zs", "z", "0", "2"] },
      { args: ["ZPOPMIN", "z"] },
    ]);
  }
  return pick<Step>([
    {
      args: [pick(["LPUSH", "RPUSH"]), "l", value(), ...(random() < 0.3 ? [value(), value()] : [])],
    },
    { args: [pick(["LPOP", "RPOP"]), "l"] },
    { args: ["LINSERT", "l", pick(["BEFORE", "AFTER"]), value(), value()] },
    { args: ["LREM", "l", pick(["0", "1", "-2"]), value()] },
    { args: ["LSET", "l", String(Math.floor(random() * 6) - 3), value()] },
    { args: ["LINDEX", "l", String(Math.floor(random() * 10) - 5)] },
    { args: ["LTRIM", "l", "0", String(4 + Math.floor(random() * 12))] },
    { args: ["LPOS", "l", value(), "RANK", "-1"] },
    { args: ["LRANGE", "l", "0", "-1"] },
  ]);
}

Deno.test({
  name: "random walks across encoding thresholds answer as redis-server does",
  ...SERVER_TEST,
  ignore: !REDIS_AVAILABLE,
  async fn() {
    const redisServer = (await startRedisServer())!;
    const ourServer = await startOurServer();
    const redis = await RawClient.connect(redisServer.port);
    const ours = await RawClient.connect(ourServer.port);
    const both = async (...args: string[]) => {
      const [expected, actual] = await Promise.all([query(redis, ...args), query(ours, ...args)]);
      return { expected, actual };
    };
    try {
      let crossings = 0;
      for (const seed of [1, 2, 3, 4, 5]) {
        await both("FLUSHALL");
        for (const [name, value] of THRESHOLDS) await both("CONFIG", "SET", name!, value!);
        const random = seededRandom(seed);
        const encodings = new Map<string, string>();
        for (let step = 0; step < 2000; step++) {
          const { args, whole } = walkStep(random, step);
          const where = `seed ${seed} step ${step}: ${args.join(" ")}`;
          const key = args[0] === "CONFIG" ? undefined : args[1]!;
          const encoding = key === undefined
            ? undefined
            : (await both("OBJECT", "ENCODING", key)).expected;
          const { expected, actual } = await both(...args);
          if (
            whole && (encoding === "hashtable") && Array.isArray(expected) && Array.isArray(actual)
          ) {
            assert.deepEqual(text([...actual].sort()), text([...expected].sort()), where);
          } else {
            assert.equal(text(actual), text(expected), where);
          }
          if (key !== undefined) {
            const after = await both("OBJECT", "ENCODING", key);
            assert.equal(text(after.actual), text(after.expected), `${where} (OBJECT ENCODING)`);
            const now = String(after.expected);
            if (encodings.has(key) && encodings.get(key) !== now) crossings++;
            encodings.set(key, now);
          }
        }
      }
      // The walks really cross between encodings, many times.
      assert.ok(crossings > 20, `${crossings} encoding changes`);
    } finally {
      await Promise.all([redis.close(), ours.close()]);
      await Promise.all([redisServer.stop(), ourServer.stop()]);
    }
  },
});
