/**
 * COPY and MOVE of every type in every encoding, streams with consumer
 * groups included, compared with redis-server through DUMP: the copy must
 * be the same value, byte for byte, with the same encoding and expiry.
 */

import assert from "node:assert/strict";
import { RawClient } from "../helpers/servers.ts";
import { SERVER_TEST, startInProcess } from "./helpers.ts";
import { populate, valueOfRedis } from "../rdb/helpers.ts";
import { call, must, startRedis, valueThroughRedis } from "./rdb_servers.ts";

Deno.test({
  name: "COPY and MOVE keep every type's value, encoding and expiry as redis-server does",
  ...SERVER_TEST,
  async fn() {
    const redis = await startRedis();
    if (redis === undefined) return;
    const ours = await startInProcess(["--appendonly", "no"]);
    const client = await RawClient.connect(ours.port);
    try {
      await populate(redis.client);
      const keys = (await must(redis.client, "KEYS", "*")) as string[];
      for (const key of keys) {
        const ttl = (await must(redis.client, "PTTL", key)) as number;
        const deadline = (await must(redis.client, "PEXPIRETIME", key)) as number;
        const payload = (await must(redis.client, "DUMP", key)) as string;
        const args = deadline > 0 ? [String(deadline), payload, "ABSTTL"] : ["0", payload];
        assert.ok(ttl !== -2);
        await must(client, "RESTORE", key, ...args);
      }
      let compared = 0;
      for (const key of keys) {
        const copy = `copy:${key}`;
        const steps: string[][] = [
          ["COPY", key, copy],
          ["COPY", key, copy],
          ["COPY", key, copy, "REPLACE"],
          ["COPY", key, copy, "DB", "9"],
          ["MOVE", copy, "9"],
          ["MOVE", key, "10"],
          ["MOVE", key, "10"],
        ];
        for (const step of steps) {
          assert.deepEqual(
            await call(client, ...step),
            await call(redis.client, ...step),
            step.join(" "),
          );
        }
        for (const [database, name] of [["0", copy], ["9", copy], ["10", key]] as const) {
          for (const server of [client, redis.client]) await must(server, "SELECT", database);
          const what = `${name.replace(/[^\x20-\x7e]/g, "?")} in db ${database}`;
          const encoding = await call(redis.client, "OBJECT", "ENCODING", name);
          assert.deepEqual(await call(client, "OBJECT", "ENCODING", name), encoding, what);
          assert.deepEqual(
            await call(client, "PEXPIRETIME", name),
            await call(redis.client, "PEXPIRETIME", name),
            what,
          );
          // A hash table's order is the order of its hash seed: the same content in any order.
          if (encoding === "hashtable") {
            assert.deepEqual(
              await valueThroughRedis(client, redis.client, name),
              await valueOfRedis(redis.client, name),
              what,
            );
          } else {
            assert.deepEqual(
              await call(client, "DUMP", name),
              await call(redis.client, "DUMP", name),
              what,
            );
          }
          for (const server of [client, redis.client]) await must(server, "SELECT", "0");
        }
        compared++;
      }
      assert.ok(compared > 40, `${compared} keys copied and moved`);
    } finally {
      await client.close();
      await ours.stop("test over");
      await redis.close();
    }
  },
});
