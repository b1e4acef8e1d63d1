/**
 * Redis's script libraries (`cjson`, `cmsgpack`, `bit`, `struct`), its
 * `math.random` and the set of globals scripts see, compared with
 * redis-server 7.0 over hundreds of cases (redis_cases.ts): always with the
 * replies recorded in expected/redis_libraries.json, and live with a fresh
 * redis-server when one is installed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { redisServerPath, startRedisServer } from "../helpers/servers.ts";
import { REDIS_CASES } from "./redis_cases.ts";
import { EXPECTED_PATH, runOnOurs, runOnRedis } from "./redis_oracle.ts";

function mismatches(cases: string[], expected: string[], actual: string[]): string[] {
  const problems: string[] = [];
  cases.forEach((body, index) => {
    if (expected[index] !== actual[index]) {
      problems.push(
        `case ${body}\n  expected ${JSON.stringify(expected[index])}\n  actual   ${
          JSON.stringify(actual[index])
        }`,
      );
    }
  });
  return problems;
}

Deno.test("Redis library cases give the replies recorded from redis-server 7.0", () => {
  const recorded = JSON.parse(Deno.readTextFileSync(EXPECTED_PATH)) as Record<string, string>;
  const missing = REDIS_CASES.filter((body) => !(body in recorded));
  assert.deepEqual(missing, [], "cases without a recorded reply: run tests/lua/record.ts");
  const problems = mismatches(REDIS_CASES, REDIS_CASES.map((body) => recorded[body]!), runOnOurs());
  assert.equal(problems.length, 0, problems.slice(0, 20).join("\n"));
});

const redisInstalled = redisServerPath() !== undefined;
if (!redisInstalled) {
  console.warn("redis-server is not installed: skipping the live library comparison");
}

Deno.test({
  name: "Redis library cases give the same replies as a live redis-server",
  ignore: !redisInstalled,
  async fn() {
    const redis = await startRedisServer();
    assert.ok(redis !== undefined);
    try {
      const live = await runOnRedis(redis.port);
      const problems = mismatches(REDIS_CASES, live, runOnOurs());
      assert.equal(problems.length, 0, problems.slice(0, 20).join("\n"));
    } finally {
      await redis.stop();
    }
  },
});
