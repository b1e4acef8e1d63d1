/**
 * Geo commands beyond the differential corpus (corpus/geo.txt pins down
 * replies and errors): what reaches the AOF (GEOADD as the ZADD it runs,
 * the STORE searches as sent) and the keyspace events, seeded random
 * searches compared with a real redis-server reply for reply, and an AOF
 * that replays, here and in redis-server, to the same sorted sets.
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
  console.warn("redis-server not installed: SKIPPING the Geo comparisons with Redis");
}

/** Our server in-process: raw replies, the effects it would log, its keyspace events. */
function inProcess() {
  const { logged, events, connect } = recordingServer((db, key, event, eventClass) =>
    `${db} ${eventClass}:${event}:${key}`
  );
  const send = connect();
  const run = (...args: string[]) => bytesToLatin1(send(...args));
  return { logged, events, run };
}

Deno.test("GEOADD is logged as the ZADD it ran, with its options and computed scores", () => {
  const { run, logged, events } = inProcess();
  assert.equal(
    run("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"),
    ":2\r\n",
  );
  assert.equal(run("GEOADD", "g", "CH", "13.361389", "38.115556", "Palermo"), ":0\r\n");
  assert.equal(run("GEOADD", "g", "xx", "ch", "15", "37", "Catania"), ":1\r\n");
  assert.equal(run("GEOADD", "g", "NX", "1", "1", "Catania"), ":0\r\n");
  assert.equal(
    run("GEOADD", "g", "200", "1", "bad"),
    "-ERR invalid longitude,latitude pair 200.000000,1.000000\r\n",
  );
  assert.deepEqual(logged, [
    "0: ZADD g 3479099956230698 Palermo 3479447370796909 Catania",
    "0: ZADD g xx ch 3476504601741708 Catania",
  ]);
  assert.deepEqual(events, ["0 z:zadd:g", "0 z:zadd:g"]);
  assert.equal(
    run("ZRANGE", "g", "0", "-1", "WITHSCORES"),
    "*4\r\n$7\r\nCatania\r\n$16\r\n3476504601741708\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n",
  );
});

Deno.test("STORE searches are logged as sent, signal their destination, delete it on no match", () => {
  const { run, logged, events } = inProcess();
  run("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania");
  logged.length = 0;
  events.length = 0;
  assert.equal(
    run("GEOSEARCHSTORE", "d1", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"),
    ":2\r\n",
  );
  assert.equal(run("GEORADIUS", "g", "15", "37", "200", "km", "STOREDIST", "d2"), ":2\r\n");
  assert.equal(run("GEORADIUSBYMEMBER", "g", "Palermo", "10", "km", "STORE", "d3"), ":1\r\n");
  // Without STORE nothing changes, so nothing is logged.
  assert.equal(
    run("GEORADIUS", "g", "15", "37", "200", "km"),
    "*2\r\n$7\r\nPalermo\r\n$7\r\nCatania\r\n",
  );
  assert.equal(
    run("GEOSEARCHSTORE", "d1", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"),
    ":0\r\n",
  );
  assert.equal(
    run("GEOSEARCHSTORE", "d1", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"),
    ":0\r\n",
  );
  assert.equal(run("GEORADIUS", "missing", "15", "37", "200", "km", "STORE", "d2"), ":0\r\n");
  assert.deepEqual(events, [
    "0 z:geosearchstore:d1",
    "0 z:georadiusstore:d2",
    "0 z:georadiusstore:d3",
    "0 g:del:d1",
    "0 g:del:d2",
  ]);
  assert.deepEqual(logged, [
    "0: GEOSEARCHSTORE d1 g FROMLONLAT 15 37 BYRADIUS 200 km",
    "0: GEORADIUS g 15 37 200 km STOREDIST d2",
    "0: GEORADIUSBYMEMBER g Palermo 10 km STORE d3",
    "0: GEOSEARCHSTORE d1 g FROMLONLAT 0 0 BYRADIUS 1 km",
    "0: GEORADIUS missing 15 37 200 km STORE d2",
  ]);
});

/** A random decimal in [low, high) with up to six decimals. */
function between(random: () => number, low: number, high: number): string {
  return (low + random() * (high - low)).toFixed(Math.floor(random() * 7));
}

Deno.test({
  name: "seeded random geo sets and searches answer as redis-server does",
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
      const random = seededRandom(2024);
      // Clusters around the globe, some near the poles and the antimeridian.
      const centres = [[0, 0], [179, 10], [-179.5, -20], [12, 84], [-70, -84], [100, 45]];
      for (const [longitude, latitude] of centres) {
        const triples: string[] = [];
        for (let i = 0; i < 60; i++) {
          const lon = Math.max(-180, Math.min(180, longitude! + (random() - 0.5) * 6));
          const lat = Math.max(-85, Math.min(85, latitude! + (random() - 0.5) * 3));
          triples.push(lon.toFixed(6), lat.toFixed(6), `m${triples.length / 3}`);
        }
        await both("GEOADD", "pts", ...triples);
      }
      const units = ["m", "km", "mi", "ft"];
      for (let i = 0; i < 150; i++) {
        const [longitude, latitude] = centres[Math.floor(random() * centres.length)]!;
        const lon = between(random, Math.max(-180, longitude! - 3), Math.min(180, longitude! + 3));
        const lat = between(random, Math.max(-85, latitude! - 1.5), Math.min(85, latitude! + 1.5));
        const unit = units[Math.floor(random() * units.length)]!;
        const scale = unit === "m" ? 1000 : unit === "ft" ? 3000 : 1;
        const radius = (random() * 400 * scale).toFixed(2);
        const extras: string[] = ["WITHDIST", "WITHHASH", "WITHCOORD"].filter(() => random() < 0.4);
        const order = random() < 0.3 ? [] : [random() < 0.5 ? "ASC" : "DESC"];
        const count = random() < 0.5 ? [] : ["COUNT", String(1 + Math.floor(random() * 20))];
        if (count.length > 0 && random() < 0.3) count.push("ANY");
        const shape = random() < 0.5
          ? ["BYRADIUS", radius, unit]
          : ["BYBOX", radius, (random() * 400 * scale).toFixed(1), unit];
        await both(
          "GEOSEARCH",
          "pts",
          "FROMLONLAT",
          lon,
          lat,
          ...shape,
          ...order,
          ...count,
          ...extras,
        );
        const member = `m${Math.floor(random() * 60)}`;
        await both("GEORADIUSBYMEMBER", "pts", member, radius, unit, ...order, ...count, ...extras);
        await both("GEODIST", "pts", member, `m${Math.floor(random() * 60)}`, unit);
      }
      await both("GEOPOS", "pts", ...Array.from({ length: 60 }, (_, i) => `m${i}`));
      await both("GEOHASH", "pts", ...Array.from({ length: 60 }, (_, i) => `m${i}`));
    } finally {
      await Promise.all([redis.close(), ours.close()]);
      await Promise.all([redisServer.stop(), ourServer.stop()]);
    }
  },
});

Deno.test({
  name: "an AOF of Geo commands replays to the same sorted sets here and in redis-server",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    try {
      const first = await startOurServer({ dir, args: ["--appendonly", "yes"] });
      const client = await RawClient.connect(first.port);
      const random = seededRandom(9);
      const triples: string[] = [];
      for (let i = 0; i < 200; i++) {
        triples.push(between(random, -10, 10), between(random, 40, 50), `p${i}`);
      }
      await query(client, "GEOADD", "points", ...triples);
      await query(client, "GEOADD", "points", "XX", "CH", "0", "45", "p1", "1", "1", "new");
      await query(client, "GEOADD", "points", "NX", "0", "45", "p2", "1", "1", "new2");
      await query(
        client,
        "GEOSEARCHSTORE",
        "near",
        "points",
        "FROMLONLAT",
        "0",
        "45",
        "BYRADIUS",
        "300",
        "km",
      );
      await query(
        client,
        "GEOSEARCHSTORE",
        "dists",
        "points",
        "FROMLONLAT",
        "3",
        "44",
        "BYBOX",
        "500",
        "400",
        "km",
        "STOREDIST",
      );
      await query(
        client,
        "GEORADIUS",
        "points",
        "-5",
        "42",
        "250",
        "mi",
        "STOREDIST",
        "radius",
        "COUNT",
        "12",
      );
      await query(client, "GEORADIUSBYMEMBER", "points", "p7", "150", "km", "STORE", "bymember");
      await query(client, "SET", "gone", "x");
      await query(
        client,
        "GEOSEARCHSTORE",
        "gone",
        "points",
        "FROMLONLAT",
        "100",
        "0",
        "BYRADIUS",
        "1",
        "km",
      );
      const expected = await rawSnapshot(first.port);
      assert.equal(Object.keys(expected).length, 5);
      await client.close();
      await first.stop();

      await assertAofReplays(dir, expected);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
