/**
 * Tests for the geo core (geohash.ts, geo.ts): recorded vectors from Redis
 * 7.0.15 that run everywhere, then a differential run against a real
 * redis-server over thousands of seeded random points (uniform, clustered,
 * duplicated and on the limits), comparing ZSCORE, GEOPOS, GEOHASH,
 * GEODIST in every unit and GEOSEARCH replies byte for byte with what the
 * module computes over our SortedSet holding the same points.
 */

import assert from "node:assert/strict";
import {
  ANY_WITHOUT_COUNT_ERROR,
  formatCoordinate,
  formatDistance,
  formatFixed,
  type GeoPoint,
  type GeoSearchOptions,
  type GeoShape,
  invalidCoordinatesError,
  NOT_FLOAT_ERROR,
  parseCoordinates,
  parseDistanceUnit,
  partialSort,
  scanSortedSet,
  scoreToHash,
  searchGeo,
} from "../../src/store/geo.ts";
import {
  boundingBox,
  cellScoreRange,
  decodeScore,
  distance,
  encodeScore,
  estimateStepsByRadius,
  GEO_LAT_MAX,
  GEO_LAT_MIN,
  geohashString,
  searchAreas,
} from "../../src/store/geohash.ts";
import { SortedSet } from "../../src/store/sorted_set.ts";
import { parseDouble } from "../../src/protocol/doubles.ts";
import {
  bytesToLatin1,
  encodeCommand,
  RawClient,
  redisServerPath,
  startRedisServer,
} from "../helpers/servers.ts";
import { seededRandom } from "../helpers/test_support.ts";

const REDIS_AVAILABLE = redisServerPath() !== undefined;
if (!REDIS_AVAILABLE) {
  console.warn("redis-server not installed: SKIPPING the geo comparisons with Redis");
}

// ---------------------------------------------------------------------------
// Reply building (RESP2), as the geo commands will reply

const bulk = (value: string) => `$${value.length}\r\n${value}\r\n`;
const NULL_BULK = "$-1\r\n";

function geoposReply(set: SortedSet, members: string[]): string {
  let reply = `*${members.length}\r\n`;
  for (const member of members) {
    const score = set.score(member);
    if (score === undefined) {
      reply += "*-1\r\n";
    } else {
      const [longitude, latitude] = decodeScore(score);
      reply += `*2\r\n${bulk(formatCoordinate(longitude))}${bulk(formatCoordinate(latitude))}`;
    }
  }
  return reply;
}

function geohashReply(set: SortedSet, members: string[]): string {
  let reply = `*${members.length}\r\n`;
  for (const member of members) {
    const score = set.score(member);
    reply += score === undefined ? NULL_BULK : bulk(geohashString(score));
  }
  return reply;
}

function geodistReply(set: SortedSet, first: string, second: string, unit: string): string {
  const a = set.score(first);
  const b = set.score(second);
  if (a === undefined || b === undefined) return NULL_BULK;
  const [x1, y1] = decodeScore(a);
  const [x2, y2] = decodeScore(b);
  return bulk(formatDistance(distance(x1, y1, x2, y2) / parseDistanceUnit(unit)!));
}

interface Flags {
  withDistance: boolean;
  withHash: boolean;
  withCoordinates: boolean;
}

function searchReply(points: GeoPoint[], flags: Flags): string {
  const options = Number(flags.withDistance) + Number(flags.withHash) +
    Number(flags.withCoordinates);
  let reply = `*${points.length}\r\n`;
  for (const point of points) {
    if (options > 0) reply += `*${options + 1}\r\n`;
    reply += bulk(point.member);
    if (flags.withDistance) reply += bulk(formatDistance(point.distance));
    if (flags.withHash) reply += `:${scoreToHash(point.score)}\r\n`;
    if (flags.withCoordinates) {
      reply += `*2\r\n${bulk(formatCoordinate(point.longitude))}${
        bulk(formatCoordinate(point.latitude))
      }`;
    }
  }
  return reply;
}

// ---------------------------------------------------------------------------
// Talking to redis-server

function latin1(value: string): Uint8Array {
  const bytes = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) bytes[i] = value.charCodeAt(i);
  return bytes;
}

async function pipeline(client: RawClient, commands: string[][]): Promise<string[]> {
  const replies: string[] = [];
  for (let start = 0; start < commands.length; start += 100) {
    const batch = commands.slice(start, start + 100);
    const parts = batch.map((command) => encodeCommand(command.map(latin1)));
    const request = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
    let offset = 0;
    for (const part of parts) {
      request.set(part, offset);
      offset += part.byteLength;
    }
    await client.send(request);
    for (let i = 0; i < batch.length; i++) replies.push(bytesToLatin1(await client.readReply()));
  }
  return replies;
}

async function withRedis(test: (client: RawClient) => Promise<void>): Promise<void> {
  const server = await startRedisServer();
  if (server === undefined) return;
  const client = await RawClient.connect(server.port);
  try {
    await test(client);
  } finally {
    await client.close();
    await server.stop();
  }
}

/** Compares replies one by one, reporting the command of the first difference. */
function assertReplies(commands: string[][], actual: string[], expected: string[]): void {
  commands.forEach((command, i) => {
    if (actual[i] !== expected[i]) {
      assert.equal(
        JSON.stringify(actual[i]!.slice(0, 2000)),
        JSON.stringify(expected[i]!.slice(0, 2000)),
        `reply to ${command.join(" ").slice(0, 300)}`,
      );
    }
  });
}

// ---------------------------------------------------------------------------
// Random points

interface Point {
  member: string;
  longitude: number;
  latitude: number;
}

/** Decimal text of a coordinate, as a client would send it. */
function coordinateText(value: number): string {
  return String(value);
}

function randomPoints(random: () => number, count: number): Point[] {
  const points: Point[] = [];
  const clusters = Array.from({ length: 12 }, () => ({
    longitude: random() * 360 - 180,
    latitude: (random() * 2 - 1) * 84,
  }));
  // A cluster on the antimeridian and one near the pole.
  clusters.push({ longitude: 179.9, latitude: 10 }, { longitude: 20, latitude: 84.5 });
  const edges = [-180, 180, 0];
  const latitudeEdges = [GEO_LAT_MIN, GEO_LAT_MAX, 0];
  for (let i = 0; i < count; i++) {
    const kind = random();
    let longitude: number;
    let latitude: number;
    if (kind < 0.5) {
      longitude = random() * 360 - 180;
      latitude = random() * (GEO_LAT_MAX - GEO_LAT_MIN) + GEO_LAT_MIN;
    } else if (kind < 0.85) {
      const cluster = clusters[Math.floor(random() * clusters.length)]!;
      longitude = Math.max(-180, Math.min(180, cluster.longitude + (random() - 0.5) * 0.8));
      latitude = Math.max(
        GEO_LAT_MIN,
        Math.min(GEO_LAT_MAX, cluster.latitude + (random() - 0.5) * 0.5),
      );
    } else if (kind < 0.95 && points.length > 0) {
      const twin = points[Math.floor(random() * points.length)]!;
      longitude = twin.longitude;
      latitude = twin.latitude;
    } else {
      longitude = edges[Math.floor(random() * edges.length)]!;
      latitude = latitudeEdges[Math.floor(random() * latitudeEdges.length)]!;
    }
    // Round trips through text, so both servers see the same doubles.
    points.push({
      member: `m:${i}`,
      longitude: Number(coordinateText(longitude)),
      latitude: Number(coordinateText(latitude)),
    });
  }
  return points;
}

const UNITS = ["m", "km", "mi", "ft", "KM", "Mi"];

function randomQuery(
  random: () => number,
  points: Point[],
): { command: string[]; shape: GeoShape | undefined; options: GeoSearchOptions; flags: Flags } {
  const command = ["GEOSEARCH", "geo"];
  let longitude: number;
  let latitude: number;
  let fromMember: string | undefined;
  const centre = random();
  if (centre < 0.3) {
    const point = points[Math.floor(random() * points.length)]!;
    fromMember = point.member;
    command.push("FROMMEMBER", fromMember);
    [longitude, latitude] = decodeScore(encodeScore(point.longitude, point.latitude)!);
  } else {
    if (centre < 0.7) {
      const point = points[Math.floor(random() * points.length)]!;
      longitude = Math.max(-180, Math.min(180, point.longitude + (random() - 0.5) * 0.2));
      latitude = Math.max(GEO_LAT_MIN, Math.min(GEO_LAT_MAX, point.latitude + (random() - 0.5)));
    } else {
      longitude = random() * 360 - 180;
      latitude = random() * 170 - 85;
    }
    longitude = Number(coordinateText(longitude));
    latitude = Number(coordinateText(latitude));
    command.push("FROMLONLAT", coordinateText(longitude), coordinateText(latitude));
  }
  const unitText = UNITS[Math.floor(random() * UNITS.length)]!;
  const conversion = parseDistanceUnit(unitText)!;
  // Sizes from a metre to most of the planet, log-uniform, in the chosen unit.
  const size = () => {
    if (random() < 0.03) return 0;
    const meters = 10 ** (random() * 7.4);
    return Number((meters / conversion).toPrecision(1 + Math.floor(random() * 6)));
  };
  let shape: GeoShape;
  if (random() < 0.6) {
    const radius = size();
    command.push("BYRADIUS", String(radius), unitText);
    shape = { type: "radius", longitude, latitude, radius, conversion };
  } else {
    const width = size();
    const height = random() < 0.3 ? width : size();
    command.push("BYBOX", String(width), String(height), unitText);
    shape = { type: "box", longitude, latitude, width, height, conversion };
  }
  const sortChoice = random();
  const sort = sortChoice < 0.35 ? "asc" : sortChoice < 0.7 ? "desc" : "none";
  if (sort !== "none") command.push(sort.toUpperCase());
  let count = 0;
  let any = false;
  if (random() < 0.5) {
    count = 1 + Math.floor(random() * (random() < 0.5 ? 5 : 60));
    command.push("COUNT", String(count));
    if (random() < 0.35) {
      any = true;
      command.push("ANY");
    }
  }
  const flags = {
    withDistance: random() < 0.5,
    withHash: random() < 0.3,
    withCoordinates: random() < 0.3,
  };
  if (flags.withDistance) command.push("WITHDIST");
  if (flags.withHash) command.push("WITHHASH");
  if (flags.withCoordinates) command.push("WITHCOORD");
  return { command, shape, options: { count, any, sort }, flags };
}

// ---------------------------------------------------------------------------
// Recorded vectors (from redis-server 7.0.15)

Deno.test("GEOADD scores, GEOPOS and GEOHASH of Palermo and Catania", () => {
  const palermo = encodeScore(13.361389, 38.115556)!;
  const catania = encodeScore(15.087269, 37.502669)!;
  assert.equal(palermo, 3479099956230698);
  assert.equal(catania, 3479447370796909);
  assert.deepEqual(decodeScore(palermo).map(formatCoordinate), [
    "13.36138933897018433",
    "38.11555639549629859",
  ]);
  assert.deepEqual(decodeScore(catania).map(formatCoordinate), [
    "15.08726745843887329",
    "37.50266842333162032",
  ]);
  assert.equal(geohashString(palermo), "sqc8b49rny0");
  const [x1, y1] = decodeScore(palermo);
  const [x2, y2] = decodeScore(catania);
  assert.equal(formatDistance(distance(x1, y1, x2, y2)), "166274.1516");
  assert.equal(formatDistance(distance(x1, y1, x2, y2) / 1000), "166.2742");
});

Deno.test("points on the limits encode and decode as Redis's do", () => {
  const corner = encodeScore(180, GEO_LAT_MAX)!;
  assert.equal(corner, 13510798882111488);
  assert.deepEqual(decodeScore(corner).map(formatCoordinate), ["180", "85.0511287799999991"]);
  assert.equal(geohashString(corner), "bp05b5048p0");
  const opposite = encodeScore(-180, GEO_LAT_MIN)!;
  assert.equal(opposite, 0);
  assert.deepEqual(decodeScore(opposite).map(formatCoordinate), [
    "-179.99999731779098511",
    "-85.05112751263942528",
  ]);
  assert.equal(geohashString(opposite), "00bh0hbj200");
  assert.equal(encodeScore(180.0000001, 0), undefined);
});

Deno.test("scores GEOADD never writes decode with Redis's integer conversion", () => {
  const cases: Array<[number, string, string, string]> = [
    [-1, "180", "85.0511287799999991", "bp05b5048p0"],
    [1.5, "-179.99999731779098511", "-85.05112497791824921", "00bh0hbj210"],
    [Infinity, "-179.99999731779098511", "-85.05112751263942528", "00bh0hbj200"],
    [1e30, "-179.99999731779098511", "-85.05112751263942528", "00bh0hbj200"],
    [-Infinity, "180", "-85.05112751263942528", "00bh0hbj200"],
    [2 ** 62, "-179.99999731779098511", "85.0511287799999991", "bp05b5048p0"],
    [2 ** 63, "180", "-85.05112751263942528", "00bh0hbj200"],
    [2 ** 53, "180", "-85.05112751263942528", "00bh0hbj200"],
  ];
  for (const [score, longitude, latitude, hash] of cases) {
    assert.deepEqual(decodeScore(score).map(formatCoordinate), [longitude, latitude], `${score}`);
    assert.equal(geohashString(score), hash, `${score}`);
  }
});

Deno.test("coordinates and units are parsed and refused with Redis's texts", () => {
  assert.deepEqual(parseCoordinates("13.361389", "38.115556"), {
    longitude: 13.361389,
    latitude: 38.115556,
  });
  assert.deepEqual(parseCoordinates("1", "x"), { error: NOT_FLOAT_ERROR });
  assert.deepEqual(parseCoordinates("200", "100"), {
    error: "ERR invalid longitude,latitude pair 200.000000,100.000000",
  });
  assert.equal(
    invalidCoordinatesError(-180.0000001, 85.05112879),
    "ERR invalid longitude,latitude pair -180.000000,85.051129",
  );
  // %f rounds exact ties to even; toFixed would print 100.007813.
  assert.equal(
    invalidCoordinatesError(100.0078125, 100),
    "ERR invalid longitude,latitude pair 100.007812,100.000000",
  );
  assert.equal(
    invalidCoordinatesError(-0, 100),
    "ERR invalid longitude,latitude pair -0.000000,100.000000",
  );
  assert.equal(
    formatFixed(1e300, 6),
    "1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447864043704443832883878176942523235360430575644792184786706982848387200926575803737830233794788090059368953234970799945081119038967640880074652742780142494579258788820056842838115669472196386865459400540160.000000",
  );
  assert.equal(formatFixed(Infinity, 6), "inf");
  assert.equal(formatFixed(0.03125, 4), "0.0312");
  assert.equal(formatFixed(0.09375, 4), "0.0938");
  assert.deepEqual(["m", "KM", "Ft", "mi", "parsec", "km\0x"].map(parseDistanceUnit), [
    1,
    1000,
    0.3048,
    1609.34,
    undefined,
    1000,
  ]);
  assert.equal(ANY_WITHOUT_COUNT_ERROR, "ERR the ANY argument requires COUNT argument");
});

Deno.test("GEOSEARCH around Palermo and Catania as in Redis's documentation", () => {
  const set = new SortedSet();
  set.add("Palermo", encodeScore(13.361389, 38.115556)!);
  set.add("Catania", encodeScore(15.087269, 37.502669)!);
  set.add("edge1", encodeScore(12.758489, 38.788135)!);
  set.add("edge2", encodeScore(17.241510, 38.788135)!);
  const shape: GeoShape = {
    type: "radius",
    longitude: 15,
    latitude: 37,
    radius: 200,
    conversion: 1000,
  };
  const points = searchGeo(shape, scanSortedSet(set), { sort: "asc" });
  assert.deepEqual(points.map((point) => [point.member, formatDistance(point.distance)]), [
    ["Catania", "56.4413"],
    ["Palermo", "190.4424"],
  ]);
  const box: GeoShape = {
    type: "box",
    longitude: 15,
    latitude: 37,
    width: 400,
    height: 400,
    conversion: 1000,
  };
  assert.deepEqual(
    searchGeo(box, scanSortedSet(set), { sort: "asc" }).map((point) => [
      point.member,
      formatDistance(point.distance),
    ]),
    [["Catania", "56.4413"], ["Palermo", "190.4424"], ["edge2", "279.7403"], [
      "edge1",
      "279.7405",
    ]],
  );
  assert.equal(scoreToHash(points[0]!.score), 3479447370796909);
});

Deno.test("the planner picks steps and cells as geohashCalculateAreasByShapeWGS84 does", () => {
  assert.equal(estimateStepsByRadius(0, 0), 26);
  assert.equal(estimateStepsByRadius(200_000, 37), 6);
  assert.equal(estimateStepsByRadius(200_000, 70), 5);
  assert.equal(estimateStepsByRadius(200_000, -85), 4);
  assert.equal(estimateStepsByRadius(1e9, 0), 1);
  const shape: GeoShape = {
    type: "radius",
    longitude: 15,
    latitude: 37,
    radius: 200,
    conversion: 1000,
  };
  const [minLongitude, minLatitude, maxLongitude, maxLatitude] = boundingBox(shape);
  assert.ok(minLongitude < 15 && maxLongitude > 15 && minLatitude < 37 && maxLatitude > 37);
  const areas = searchAreas(shape);
  assert.equal(areas.cells.length, 9);
  for (const cell of areas.cells) {
    if (cell === undefined) continue;
    const [min, max] = cellScoreRange(cell);
    assert.ok(min < max && max <= 2 ** 52);
  }
});

Deno.test("partialSort puts the smallest ranks in order, like a full sort", () => {
  const random = seededRandom(3);
  for (let round = 0; round < 300; round++) {
    const length = 1 + Math.floor(random() * 120);
    const values = Array.from({ length }, () => Math.floor(random() * 1000) + random());
    const sorted = [...values].sort((a, b) => a - b);
    const keep = 1 + Math.floor(random() * length);
    const partial = [...values];
    partialSort(partial, (a, b) => (a > b ? 1 : a === b ? 0 : -1), 0, keep - 1);
    assert.deepEqual(partial.slice(0, keep), sorted.slice(0, keep));
  }
});

// ---------------------------------------------------------------------------
// Against redis-server

Deno.test({
  name: "thousands of random points: scores, GEOPOS, GEOHASH, GEODIST and GEOSEARCH match Redis",
  ignore: !REDIS_AVAILABLE,
  fn: () =>
    withRedis(async (client) => {
      const random = seededRandom(20240607);
      const points = randomPoints(random, 4000);
      const set = new SortedSet();
      const geoadd: string[][] = [];
      for (let i = 0; i < points.length; i += 200) {
        const command = ["GEOADD", "geo"];
        for (const point of points.slice(i, i + 200)) {
          command.push(
            coordinateText(point.longitude),
            coordinateText(point.latitude),
            point.member,
          );
          set.add(point.member, encodeScore(point.longitude, point.latitude)!);
        }
        geoadd.push(command);
      }
      await pipeline(client, geoadd);

      // Scores: Redis prints them with %.17g, which parses back to the same double.
      const [withScores] = await pipeline(client, [["ZRANGE", "geo", "0", "-1", "WITHSCORES"]]);
      const lines = withScores!.split("\r\n").filter((_, i) => i > 0 && i % 2 === 0);
      assert.equal(lines.length, points.length * 2);
      for (let i = 0; i < lines.length; i += 2) {
        assert.equal(Number(lines[i + 1]), set.score(lines[i]!), `score of ${lines[i]}`);
      }

      const members = points.map((point) => point.member);
      const commands: string[][] = [];
      const expected: string[] = [];
      for (let i = 0; i < members.length; i += 500) {
        const chunk = [...members.slice(i, i + 500), "missing"];
        commands.push(["GEOPOS", "geo", ...chunk]);
        expected.push(geoposReply(set, chunk));
        commands.push(["GEOHASH", "geo", ...chunk]);
        expected.push(geohashReply(set, chunk));
      }
      for (let i = 0; i < 1500; i++) {
        const first = members[Math.floor(random() * members.length)]!;
        const second = random() < 0.05
          ? "missing"
          : members[Math.floor(random() * members.length)]!;
        const unit = UNITS[Math.floor(random() * UNITS.length)]!;
        commands.push(["GEODIST", "geo", first, second, unit]);
        expected.push(geodistReply(set, first, second, unit));
      }
      assertReplies(commands, await pipeline(client, commands), expected);

      const searches: string[][] = [];
      const searchExpected: string[] = [];
      for (let i = 0; i < 1500; i++) {
        const { command, shape, options, flags } = randomQuery(random, points);
        searches.push(command);
        searchExpected.push(searchReply(searchGeo(shape!, scanSortedSet(set), options), flags));
      }
      assertReplies(searches, await pipeline(client, searches), searchExpected);
    }),
});

Deno.test({
  name: "searches over many members at one spot order and cut ties as Redis does",
  ignore: !REDIS_AVAILABLE,
  fn: () =>
    withRedis(async (client) => {
      const random = seededRandom(77);
      const set = new SortedSet();
      const command = ["GEOADD", "geo"];
      // Groups of members sharing a position: equal distances, equal scores.
      for (let group = 0; group < 30; group++) {
        const longitude = coordinateText(2 + random() * 0.05);
        const latitude = coordinateText(48 + random() * 0.05);
        const size = 1 + Math.floor(random() * 12);
        for (let i = 0; i < size; i++) {
          const member = `g${group}:${i}:${Math.floor(random() * 1000)}`;
          command.push(longitude, latitude, member);
          set.add(member, encodeScore(Number(longitude), Number(latitude))!);
        }
      }
      await pipeline(client, [command]);
      const searches: string[][] = [];
      const expected: string[] = [];
      for (let i = 0; i < 400; i++) {
        const longitude = 2 + random() * 0.05;
        const latitude = 48 + random() * 0.05;
        const radius = 1 + Math.floor(random() * 8);
        const count = 1 + Math.floor(random() * 150);
        const sort = random() < 0.5 ? "asc" : "desc";
        const any = random() < 0.2;
        const shape: GeoShape = { type: "radius", longitude, latitude, radius, conversion: 1000 };
        searches.push([
          "GEOSEARCH",
          "geo",
          "FROMLONLAT",
          String(longitude),
          String(latitude),
          "BYRADIUS",
          String(radius),
          "km",
          sort.toUpperCase(),
          "COUNT",
          String(count),
          ...(any ? ["ANY"] : []),
          "WITHDIST",
        ]);
        expected.push(
          searchReply(searchGeo(shape, scanSortedSet(set), { count, any, sort }), {
            withDistance: true,
            withHash: false,
            withCoordinates: false,
          }),
        );
      }
      assertReplies(searches, await pipeline(client, searches), expected);
    }),
});

Deno.test({
  name: "GEOPOS and GEOHASH of scores set by ZADD match Redis",
  ignore: !REDIS_AVAILABLE,
  fn: () =>
    withRedis(async (client) => {
      const random = seededRandom(8);
      const set = new SortedSet();
      const command = ["ZADD", "odd"];
      const specials = ["-1", "1.5", "inf", "-inf", "1e30", "4611686018427387904"];
      specials.push("9223372036854775808", "18446744073709549568", "9007199254740993");
      for (let i = 0; i < 300; i++) {
        specials.push(String(Math.floor(random() * 2 ** 54) * (random() < 0.1 ? -1 : 1)));
        specials.push(String(random() * 2 ** 64));
      }
      specials.forEach((score, i) => {
        command.push(score, `s${i}`);
        set.add(`s${i}`, parseDouble(score)!);
      });
      await pipeline(client, [command]);
      const members = specials.map((_, i) => `s${i}`);
      const commands = [["GEOPOS", "odd", ...members], ["GEOHASH", "odd", ...members]];
      assertReplies(commands, await pipeline(client, commands), [
        geoposReply(set, members),
        geohashReply(set, members),
      ]);
    }),
});

Deno.test({
  name: "out-of-range GEOADD coordinates are refused with Redis's %f texts",
  ignore: !REDIS_AVAILABLE,
  fn: () =>
    withRedis(async (client) => {
      const random = seededRandom(9);
      const commands: string[][] = [];
      const expected: string[] = [];
      for (let i = 0; i < 300; i++) {
        const longitude = random() < 0.5
          ? String((random() - 0.5) * 10 ** Math.floor(random() * 30))
          : String(random() * 400 - 200);
        const latitude = random() < 0.5
          ? String((random() - 0.5) * 10 ** Math.floor(random() * 30))
          : String(random() * 200 - 100);
        commands.push(["GEOADD", "errors", longitude, latitude, "x"]);
        const parsed = parseCoordinates(longitude, latitude);
        expected.push("error" in parsed ? `-${parsed.error}\r\n` : ":1\r\n");
        commands.push(["DEL", "errors"]);
        expected.push("error" in parsed ? ":0\r\n" : ":1\r\n");
      }
      assertReplies(commands, await pipeline(client, commands), expected);
    }),
});
