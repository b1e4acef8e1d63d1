/**
 * SORT beyond the differential corpus (corpus/sort.txt pins down replies and
 * errors): STORE's logging as DEL + RPUSH and its keyspace events, WATCH
 * invalidation by a STORE whose empty result deletes the destination,
 * seeded random sorts with many equal weights (where the order of ties is
 * Redis's qsort or pqsort) compared with a real redis-server, and an AOF
 * that replays, here and in redis-server, to the same lists.
 *
 * @module
 */

import assert from "node:assert/strict";
import { recordingServer } from "../helpers/in_process.ts";
import {
  bytesToLatin1,
  RawClient,
  redisServerPath,
  startOurServer,
  startRedisServer,
} from "../helpers/servers.ts";
import {
  assertAofReplays,
  query,
  raw,
  rawSnapshot,
  seededRandom,
} from "../helpers/test_support.ts";
import { SERVER_TEST, tempDir } from "../persistence/helpers.ts";

const REDIS_AVAILABLE = redisServerPath() !== undefined;
if (!REDIS_AVAILABLE) {
  console.warn("redis-server not installed: SKIPPING the SORT comparisons with Redis");
}

/** Our server in-process: clients with raw replies, the effects it would log, its events. */
function inProcess() {
  const { logged, events, connect } = recordingServer((db, key, event, eventClass) =>
    `${db} ${eventClass}:${event}:${key}`
  );
  const client = () => {
    const send = connect();
    return (...args: string[]) => bytesToLatin1(send(...args));
  };
  return { logged, events, client };
}

Deno.test("SORT STORE is logged as DEL and RPUSH of its result in MULTI, and sends sortstore", () => {
  const { logged, events, client } = inProcess();
  const run = client();
  run("RPUSH", "l", "3", "1", "2");
  run("MSET", "w_1", "9", "w_2", "8", "w_3", "7");
  run("SET", "name_1", "one");
  logged.length = 0;
  events.length = 0;
  assert.equal(run("SORT", "l", "STORE", "d"), ":3\r\n");
  assert.equal(run("SORT", "l", "BY", "w_*", "GET", "#", "GET", "name_*", "STORE", "d"), ":6\r\n");
  assert.equal(
    run("LRANGE", "d", "0", "-1"),
    "*6\r\n$1\r\n3\r\n$0\r\n\r\n$1\r\n2\r\n$0\r\n\r\n$1\r\n1\r\n$3\r\none\r\n",
  );
  assert.equal(run("SORT", "l", "LIMIT", "0", "0", "STORE", "d"), ":0\r\n");
  assert.equal(run("SORT", "l", "LIMIT", "0", "0", "STORE", "d"), ":0\r\n");
  assert.equal(run("SORT", "l"), "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
  assert.deepEqual(logged, [
    "0: MULTI",
    "0: DEL d",
    "0: RPUSH d 1 2 3",
    "0: EXEC",
    "0: MULTI",
    "0: DEL d",
    "0: RPUSH d 3  2  1 one",
    "0: EXEC",
    "0: DEL d",
  ]);
  assert.deepEqual(events, ["0 l:sortstore:d", "0 l:sortstore:d", "0 g:del:d"]);
});

Deno.test("a SORT STORE with an empty result invalidates WATCH only when it deletes", () => {
  const { client } = inProcess();
  const watcher = client();
  const other = client();
  other("SET", "dest", "x");
  watcher("WATCH", "dest");
  assert.equal(other("SORT", "missing", "STORE", "dest"), ":0\r\n");
  assert.equal(other("EXISTS", "dest"), ":0\r\n");
  watcher("MULTI");
  watcher("PING");
  assert.equal(watcher("EXEC"), "*-1\r\n");
  watcher("WATCH", "dest");
  assert.equal(other("SORT", "missing", "STORE", "dest"), ":0\r\n");
  watcher("MULTI");
  watcher("PING");
  assert.equal(watcher("EXEC"), "*1\r\n+PONG\r\n");
});

Deno.test({
  name: "seeded random SORTs with many equal weights answer as redis-server does",
  ...SERVER_TEST,
  ignore: !REDIS_AVAILABLE,
  async fn() {
    const redisServer = (await startRedisServer())!;
    const ourServer = await startOurServer();
    const redis = await RawClient.connect(redisServer.port);
    const ours = await RawClient.connect(ourServer.port);
    const both = async (...args: string[]) => {
      const [expected, actual] = await Promise.all([raw(redis, ...args), raw(ours, ...args)]);
      assert.equal(actual, expected, args.join(" "));
    };
    try {
      const random = seededRandom(77);
      const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
      for (let round = 0; round < 12; round++) {
        await both("FLUSHALL");
        const size = pick([5, 30, 120, 400]);
        const ids = Array.from({ length: size }, (_, i) => String(i * 3 - 7));
        for (let i = ids.length - 1; i > 0; i--) {
          const j = Math.floor(random() * (i + 1));
          [ids[i], ids[j]] = [ids[j]!, ids[i]!];
        }
        await both("RPUSH", "list", ...ids);
        // An all-integer set of at most 512 members is an intset: Redis reads it in order.
        await both("SADD", "iset", ...ids.slice(0, Math.min(ids.length, 300)));
        const distinct = pick([1, 2, 3, 10]);
        for (const id of ids) {
          if (random() < 0.2) continue;
          const weight = String(Math.floor(random() * distinct));
          await both("SET", `w_${id}`, random() < 0.5 ? weight : `${weight}.5`);
          await both("HSET", `h_${id}`, "f", pick(["a", "b", "c"]), "n", weight);
        }
        for (let i = 0; i < 25; i++) {
          const key = random() < 0.75 ? "list" : "iset";
          const args = ["SORT", key];
          const by = pick(["", "w_*", "h_*->f", "h_*->n", "nosuch_*", "nosort"]);
          if (by !== "") args.push("BY", by);
          if (random() < 0.5 || by === "h_*->f") args.push("ALPHA");
          if (random() < 0.4) args.push("DESC");
          if (random() < 0.7) {
            args.push("LIMIT", String(Math.floor(random() * size) - 2));
            args.push(String(Math.floor(random() * size) - 1));
          }
          if (random() < 0.3) args.push("GET", "#", "GET", pick(["w_*", "h_*->f"]));
          await both(...args);
          if (random() < 0.3) {
            await both(...args, "STORE", "dest");
            await both("LRANGE", "dest", "0", "-1");
          }
        }
      }
    } finally {
      await Promise.all([redis.close(), ours.close()]);
      await Promise.all([redisServer.stop(), ourServer.stop()]);
    }
  },
});

Deno.test({
  name: "an AOF of SORT STORE replays to the same lists here and in redis-server",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    try {
      const first = await startOurServer({ dir, args: ["--appendonly", "yes"] });
      const client = await RawClient.connect(first.port);
      const random = seededRandom(3);
      const ids = Array.from({ length: 100 }, (_, i) => String(i));
      await query(client, "RPUSH", "list", ...ids.slice().sort(() => random() - 0.5));
      await query(client, "SADD", "set", ...ids.map((id) => `member:${id}`));
      for (const id of ids) await query(client, "SET", `w_${id}`, String(Math.floor(random() * 5)));
      await query(client, "SORT", "list", "STORE", "sorted");
      await query(
        client,
        "SORT",
        "list",
        "BY",
        "w_*",
        "ALPHA",
        "LIMIT",
        "10",
        "30",
        "STORE",
        "ties",
      );
      await query(client, "SORT", "list", "BY", "w_*", "GET", "#", "GET", "w_*", "STORE", "pairs");
      await query(client, "SORT", "set", "BY", "nosort", "STORE", "fromset");
      await query(client, "SORT", "list", "DESC", "STORE", "list");
      await query(client, "SET", "emptied", "x");
      await query(client, "SORT", "missing", "STORE", "emptied");
      // The weights change after the sorts: the log must not depend on them.
      for (const id of ids) await query(client, "DEL", `w_${id}`);
      const expected = await rawSnapshot(first.port);
      assert.equal(Object.keys(expected).length, 6);
      await client.close();
      await first.stop();

      await assertAofReplays(dir, expected);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
