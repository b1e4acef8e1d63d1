/**
 * Geo commands: GEOADD, GEOPOS, GEODIST, GEOHASH, GEOSEARCH,
 * GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and their _RO forms
 * (geo.c's commands; cells, scores and the search live in store/geohash.ts
 * and store/geo.ts).
 *
 * A geo set is an ordinary sorted set whose scores are 52-bit geohashes, so
 * Redis and this server read each other's geo sets, and GEOADD is ZADD with
 * computed scores: as in Redis it runs the ZADD command itself (replies,
 * errors and notifications are ZADD's) and is logged as that ZADD.
 *
 * The five search commands are one function, `search`, as Redis's
 * georadiusGeneric: the request kind decides where the centre and shape
 * come from, then the options are read in Redis's loop (each option
 * accepted only where that command allows it, a value-taking option only
 * when its values are there), then the checks in Redis's order, so
 * conflicting options give the same error Redis gives. A missing key still
 * has its options checked; FROMMEMBER and GEORADIUSBYMEMBER's member are
 * then not looked up. The STORE forms write a sorted set (scores are
 * geohashes, or distances with STOREDIST) or delete the destination when
 * nothing matched; they are logged as sent, since the search is
 * deterministic.
 *
 * @module
 */

import type { Client } from "./client.ts";
import {
  formatCoordinate,
  formatDistance,
  type GeoShape,
  parseCoordinates,
  parseDistanceUnit,
  scanSortedSet,
  scoreToHash,
  searchGeo,
} from "../store/geo.ts";
import { decodeScore, distance, encodeScore, geohashString } from "../store/geohash.ts";
import { SortedSet } from "../store/sorted_set.ts";
import type { ProtocolVersion } from "../protocol/reply_writer.ts";
import type { ReplyWriter } from "../protocol/reply_writer.ts";
import { getSortedSet } from "./access.ts";
import { requireDouble, requireInteger } from "./arguments.ts";
import {
  ANY_WITHOUT_COUNT,
  CommandError,
  GEO_COUNT_NOT_POSITIVE,
  GEO_MEMBER_NOT_FOUND,
  geoSearchNeedsCentre,
  geoSearchNeedsShape,
  NEED_NUMERIC_HEIGHT,
  NEED_NUMERIC_RADIUS,
  NEED_NUMERIC_WIDTH,
  NEGATIVE_BOX,
  NEGATIVE_RADIUS,
  storeWithReplyOptions,
  SYNTAX_ERROR,
  UNSUPPORTED_UNIT,
} from "./errors.ts";
import { command, type KeyFinder, type KeyReference } from "./table.ts";

// ---------------------------------------------------------------------------
// Argument helpers

/** A longitude/latitude pair (extractLongLatOrReply). */
function coordinates(longitudeText: string, latitudeText: string): [number, number] {
  const parsed = parseCoordinates(longitudeText, latitudeText);
  if ("error" in parsed) throw new CommandError(parsed.error);
  return [parsed.longitude, parsed.latitude];
}

/** Meters per unit (extractUnitOrReply). */
function unit(text: string): number {
  const conversion = parseDistanceUnit(text);
  if (conversion === undefined) throw new CommandError(UNSUPPORTED_UNIT);
  return conversion;
}

/** `<radius> <unit>` (extractDistanceOrReply): the radius in its unit, and the unit. */
function radiusArguments(radiusText: string, unitText: string): [number, number] {
  const radius = requireDouble(radiusText, NEED_NUMERIC_RADIUS);
  if (radius < 0) throw new CommandError(NEGATIVE_RADIUS);
  return [radius, unit(unitText)];
}

/** `<width> <height> <unit>` (extractBoxOrReply). */
function boxArguments(
  widthText: string,
  heightText: string,
  unitText: string,
): [number, number, number] {
  const width = requireDouble(widthText, NEED_NUMERIC_WIDTH);
  const height = requireDouble(heightText, NEED_NUMERIC_HEIGHT);
  if (height < 0 || width < 0) throw new CommandError(NEGATIVE_BOX);
  return [width, height, unit(unitText)];
}

/** The position of `member` in `set` (longLatFromMember), or Redis's error. */
function memberPosition(set: SortedSet, member: string): [number, number] {
  const score = set.score(member);
  if (score === undefined) throw new CommandError(GEO_MEMBER_NOT_FOUND);
  return decodeScore(score);
}

const encoder = new TextEncoder();

/**
 * A coordinate as addReplyHumanLongDouble sends it: a bulk string in RESP2,
 * a RESP3 double carrying the same digits.
 */
function replyCoordinate(reply: ReplyWriter, protocol: ProtocolVersion, value: number): void {
  const text = formatCoordinate(value);
  if (protocol === 3) reply.raw(encoder.encode(`,${text}\r\n`));
  else reply.bulk(text);
}

// ---------------------------------------------------------------------------
// GEOADD, GEOPOS, GEODIST, GEOHASH

/** GEOADD key [NX|XX] [CH] longitude latitude member [...], run as ZADD. */
function geoadd(client: Client, args: string[]): void {
  let first = 2;
  let nx = false;
  let xx = false;
  for (; first < args.length; first++) {
    const option = args[first]!.toLowerCase();
    if (option === "nx") nx = true;
    else if (option === "xx") xx = true;
    else if (option !== "ch") break;
  }
  if ((args.length - first) % 3 !== 0 || (xx && nx)) throw new CommandError(SYNTAX_ERROR);
  const zaddArgs = ["ZADD", ...args.slice(1, first)];
  for (let i = first; i < args.length; i += 3) {
    const [longitude, latitude] = coordinates(args[i]!, args[i + 1]!);
    zaddArgs.push(String(encodeScore(longitude, latitude)!), args[i + 2]!);
  }
  const server = client.server;
  const dirtyBefore = server.dirty;
  server.commands.lookup("zadd")!.handler!(client, zaddArgs);
  if (server.dirty !== dirtyBefore) client.addEffect(zaddArgs);
}

/** GEOPOS key [member ...] */
function geopos(client: Client, args: string[]): void {
  const set = getSortedSet(client, args[1]!);
  const reply = client.reply;
  const protocol = client.protocol;
  reply.arrayHeader(args.length - 2);
  for (let i = 2; i < args.length; i++) {
    const score = set?.score(args[i]!);
    if (score === undefined) {
      reply.nullArray();
      continue;
    }
    const [longitude, latitude] = decodeScore(score);
    reply.arrayHeader(2);
    replyCoordinate(reply, protocol, longitude);
    replyCoordinate(reply, protocol, latitude);
  }
}

/** GEODIST key member1 member2 [M|KM|FT|MI] */
function geodist(client: Client, args: string[]): void {
  let conversion = 1;
  if (args.length === 5) conversion = unit(args[4]!);
  else if (args.length > 5) throw new CommandError(SYNTAX_ERROR);
  const set = getSortedSet(client, args[1]!);
  const first = set?.score(args[2]!);
  const second = set?.score(args[3]!);
  if (first === undefined || second === undefined) {
    client.reply.nullBulk();
    return;
  }
  const [longitude1, latitude1] = decodeScore(first);
  const [longitude2, latitude2] = decodeScore(second);
  client.reply.bulk(
    formatDistance(distance(longitude1, latitude1, longitude2, latitude2) / conversion),
  );
}

/** GEOHASH key [member ...] */
function geohash(client: Client, args: string[]): void {
  const set = getSortedSet(client, args[1]!);
  const reply = client.reply;
  reply.arrayHeader(args.length - 2);
  for (let i = 2; i < args.length; i++) {
    const score = set?.score(args[i]!);
    if (score === undefined) reply.nullBulk();
    else reply.bulk(geohashString(score));
  }
}

// ---------------------------------------------------------------------------
// The searches (georadiusGeneric)

/** What kind of search a command is (Redis's RADIUS_COORDS, RADIUS_MEMBER, ... flags). */
const RADIUS_COORDS = 1;
const RADIUS_MEMBER = 2;
const RADIUS_NOSTORE = 4;
const GEOSEARCH = 8;
const GEOSEARCHSTORE = 16;

/** The options of a search, as georadiusGeneric's loop leaves them. */
interface SearchOptions {
  withDistance: boolean;
  withHash: boolean;
  withCoordinates: boolean;
  any: boolean;
  sort: "asc" | "desc" | "none";
  count: number;
  storeKey: string | undefined;
  storeDistance: boolean;
}

/** The search's centre and shape, filled in as the arguments are read. */
interface ShapeParts {
  longitude: number;
  latitude: number;
  type: "radius" | "box" | undefined;
  radius: number;
  width: number;
  height: number;
  conversion: number;
}

function shapeOf(parts: ShapeParts): GeoShape {
  const { longitude, latitude, conversion } = parts;
  return parts.type === "box"
    ? { type: "box", longitude, latitude, width: parts.width, height: parts.height, conversion }
    : { type: "radius", longitude, latitude, radius: parts.radius, conversion };
}

/**
 * GEORADIUS[_RO], GEORADIUSBYMEMBER[_RO], GEOSEARCH and GEOSEARCHSTORE;
 * `kind` is a combination of the flags above.
 */
function search(client: Client, args: string[], kind: number): void {
  const set = getSortedSet(client, args[kind & GEOSEARCHSTORE ? 2 : 1]!);
  const parts: ShapeParts = {
    longitude: 0,
    latitude: 0,
    type: undefined,
    radius: 0,
    width: 0,
    height: 0,
    conversion: 1,
  };
  const options: SearchOptions = {
    withDistance: false,
    withHash: false,
    withCoordinates: false,
    any: false,
    sort: "none",
    count: 0,
    storeKey: undefined,
    storeDistance: false,
  };
  let base: number;
  if (kind & RADIUS_COORDS) {
    base = 6;
    [parts.longitude, parts.latitude] = coordinates(args[2]!, args[3]!);
    [parts.radius, parts.conversion] = radiusArguments(args[4]!, args[5]!);
    parts.type = "radius";
  } else if (kind & RADIUS_MEMBER) {
    base = 5;
    // Without the key, the options are still checked before the empty reply.
    if (set !== undefined) {
      [parts.longitude, parts.latitude] = memberPosition(set, args[2]!);
      [parts.radius, parts.conversion] = radiusArguments(args[3]!, args[4]!);
      parts.type = "radius";
    }
  } else {
    base = 2;
    if (kind & GEOSEARCHSTORE) {
      base = 3;
      options.storeKey = args[1]!;
    }
  }
  const { fromMember, fromLonLat, byRadius, byBox } = readSearchOptions(
    args,
    base,
    kind,
    set,
    parts,
    options,
  );

  const storeKey = options.storeKey;
  if (
    storeKey !== undefined && (options.withDistance || options.withHash || options.withCoordinates)
  ) {
    throw new CommandError(storeWithReplyOptions((kind & GEOSEARCHSTORE) !== 0));
  }
  if ((kind & GEOSEARCH) && !(fromMember || fromLonLat)) {
    throw new CommandError(geoSearchNeedsCentre(args[0]!));
  }
  if ((kind & GEOSEARCH) && !(byRadius || byBox)) {
    throw new CommandError(geoSearchNeedsShape(args[0]!));
  }
  if (options.any && options.count === 0) throw new CommandError(ANY_WITHOUT_COUNT);

  if (set === undefined) {
    if (storeKey !== undefined) {
      deleteDestination(client, storeKey);
      client.reply.integer(0);
    } else {
      client.reply.arrayHeader(0);
    }
    return;
  }

  const points = searchGeo(shapeOf(parts), scanSortedSet(set), {
    count: options.count,
    any: options.any,
    sort: options.sort,
  });

  if (storeKey === undefined) {
    replyPoints(client, points, options);
    return;
  }
  if (points.length > 0) {
    const result = new SortedSet();
    for (const point of points) {
      result.add(point.member, options.storeDistance ? point.distance : point.score);
    }
    client.db.set(storeKey, result);
    client.changed(storeKey, kind & GEOSEARCH ? "geosearchstore" : "georadiusstore", "z");
  } else {
    deleteDestination(client, storeKey);
  }
  client.reply.integer(points.length);
}

/**
 * Reads the options from `args[base]` on with georadiusGeneric's loop,
 * filling `parts` (FROMMEMBER, FROMLONLAT, BYRADIUS, BYBOX) and `options`.
 */
function readSearchOptions(
  args: readonly string[],
  base: number,
  kind: number,
  set: SortedSet | undefined,
  parts: ShapeParts,
  options: SearchOptions,
): { fromMember: boolean; fromLonLat: boolean; byRadius: boolean; byBox: boolean } {
  let fromMember = false;
  let fromLonLat = false;
  let byRadius = false;
  let byBox = false;
  const isSearch = (kind & GEOSEARCH) !== 0;
  const mayStore = (kind & RADIUS_NOSTORE) === 0 && !isSearch;
  const remaining = args.length - base;
  for (let i = 0; i < remaining; i++) {
    const at = base + i;
    const option = args[at]!.toLowerCase();
    if (option === "withdist") {
      options.withDistance = true;
    } else if (option === "withhash") {
      options.withHash = true;
    } else if (option === "withcoord") {
      options.withCoordinates = true;
    } else if (option === "any") {
      options.any = true;
    } else if (option === "asc") {
      options.sort = "asc";
    } else if (option === "desc") {
      options.sort = "desc";
    } else if (option === "count" && i + 1 < remaining) {
      const count = requireInteger(args[at + 1]!);
      if (count <= 0) throw new CommandError(GEO_COUNT_NOT_POSITIVE);
      options.count = count;
      i++;
    } else if ((option === "store" || option === "storedist") && i + 1 < remaining && mayStore) {
      options.storeKey = args[at + 1]!;
      options.storeDistance = option === "storedist";
      i++;
    } else if (option === "storedist" && isSearch && (kind & GEOSEARCHSTORE) !== 0) {
      options.storeDistance = true;
    } else if (option === "frommember" && i + 1 < remaining && isSearch && !fromLonLat) {
      if (set !== undefined) {
        [parts.longitude, parts.latitude] = memberPosition(set, args[at + 1]!);
      }
      fromMember = true;
      i++;
    } else if (option === "fromlonlat" && i + 2 < remaining && isSearch && !fromMember) {
      [parts.longitude, parts.latitude] = coordinates(args[at + 1]!, args[at + 2]!);
      fromLonLat = true;
      i += 2;
    } else if (option === "byradius" && i + 2 < remaining && isSearch && !byBox) {
      [parts.radius, parts.conversion] = radiusArguments(args[at + 1]!, args[at + 2]!);
      parts.type = "radius";
      byRadius = true;
      i += 2;
    } else if (option === "bybox" && i + 3 < remaining && isSearch && !byRadius) {
      [parts.width, parts.height, parts.conversion] = boxArguments(
        args[at + 1]!,
        args[at + 2]!,
        args[at + 3]!,
      );
      parts.type = "box";
      byBox = true;
      i += 3;
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  return { fromMember, fromLonLat, byRadius, byBox };
}

/** A search's reply: members, or per member an array with the requested extras. */
function replyPoints(
  client: Client,
  points: ReturnType<typeof searchGeo>,
  options: SearchOptions,
): void {
  const { withDistance, withHash, withCoordinates } = options;
  const extras = (withDistance ? 1 : 0) + (withHash ? 1 : 0) + (withCoordinates ? 1 : 0);
  const reply = client.reply;
  const protocol = client.protocol;
  reply.arrayHeader(points.length);
  for (const point of points) {
    if (extras === 0) {
      reply.bulk(point.member);
      continue;
    }
    reply.arrayHeader(extras + 1);
    reply.bulk(point.member);
    if (withDistance) reply.bulk(formatDistance(point.distance));
    if (withHash) reply.integer(scoreToHash(point.score));
    if (withCoordinates) {
      reply.arrayHeader(2);
      replyCoordinate(reply, protocol, point.longitude);
      replyCoordinate(reply, protocol, point.latitude);
    }
  }
}

/** A STORE search found nothing: the destination is deleted (and signalled) if it exists. */
function deleteDestination(client: Client, key: string): void {
  if (client.db.lookup(key) === undefined) return;
  client.db.delete(key);
  client.changed(key, "del", "g");
}

/**
 * georadiusGetKeys: the source key and the last STORE/STOREDIST key, for
 * requests the key specs cannot answer (a STORE without its key).
 */
const georadiusKeys: KeyFinder = (args) => {
  let storeKey = -1;
  for (let i = 5; i < args.length; i++) {
    const option = args[i]!.toLowerCase();
    if ((option === "store" || option === "storedist") && i + 1 < args.length) {
      storeKey = i + 1;
      i++;
    }
  }
  const keys: KeyReference[] = [{ position: 1, flags: ["RO", "ACCESS"] }];
  if (storeKey !== -1) keys.push({ position: storeKey, flags: ["OW", "UPDATE"] });
  return keys;
};

const SOURCE_KEY = { flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } } as const;

export const geoCommands = [
  command({
    name: "geoadd",
    arity: -5,
    flags: ["write", "denyoom"],
    aclCategories: ["geo"],
    keySpecs: [{ flags: ["RW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } }],
    propagation: "effects",
    handler: geoadd,
  }),
  command({
    name: "geodist",
    arity: -4,
    flags: ["readonly"],
    aclCategories: ["geo"],
    keySpecs: [SOURCE_KEY],
    handler: geodist,
  }),
  command({
    name: "geohash",
    arity: -2,
    flags: ["readonly"],
    aclCategories: ["geo"],
    keySpecs: [SOURCE_KEY],
    handler: geohash,
  }),
  command({
    name: "geopos",
    arity: -2,
    flags: ["readonly"],
    aclCategories: ["geo"],
    keySpecs: [SOURCE_KEY],
    handler: geopos,
  }),
  command({
    name: "georadius",
    arity: -6,
    flags: ["write", "denyoom"],
    aclCategories: ["geo"],
    keySpecs: [
      SOURCE_KEY,
      { flags: ["OW", "UPDATE"], begin: { keyword: "STORE", startFrom: 6 }, find: { lastKey: 0 } },
      {
        flags: ["OW", "UPDATE"],
        begin: { keyword: "STOREDIST", startFrom: 6 },
        find: { lastKey: 0 },
      },
    ],
    keyFinder: georadiusKeys,
    handler: (client, args) => search(client, args, RADIUS_COORDS),
  }),
  command({
    name: "georadius_ro",
    arity: -6,
    flags: ["readonly"],
    aclCategories: ["geo"],
    keySpecs: [SOURCE_KEY],
    handler: (client, args) => search(client, args, RADIUS_COORDS | RADIUS_NOSTORE),
  }),
  command({
    name: "georadiusbymember",
    arity: -5,
    flags: ["write", "denyoom"],
    aclCategories: ["geo"],
    keySpecs: [
      SOURCE_KEY,
      { flags: ["OW", "UPDATE"], begin: { keyword: "STORE", startFrom: 5 }, find: { lastKey: 0 } },
      {
        flags: ["OW", "UPDATE"],
        begin: { keyword: "STOREDIST", startFrom: 5 },
        find: { lastKey: 0 },
      },
    ],
    keyFinder: georadiusKeys,
    handler: (client, args) => search(client, args, RADIUS_MEMBER),
  }),
  command({
    name: "georadiusbymember_ro",
    arity: -5,
    flags: ["readonly"],
    aclCategories: ["geo"],
    keySpecs: [SOURCE_KEY],
    handler: (client, args) => search(client, args, RADIUS_MEMBER | RADIUS_NOSTORE),
  }),
  command({
    name: "geosearch",
    arity: -7,
    flags: ["readonly"],
    aclCategories: ["geo"],
    keySpecs: [SOURCE_KEY],
    handler: (client, args) => search(client, args, GEOSEARCH),
  }),
  command({
    name: "geosearchstore",
    arity: -8,
    flags: ["write", "denyoom"],
    aclCategories: ["geo"],
    keySpecs: [
      { flags: ["OW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } },
      { flags: ["RO", "ACCESS"], begin: { index: 2 }, find: { lastKey: 0 } },
    ],
    handler: (client, args) => search(client, args, GEOSEARCH | GEOSEARCHSTORE),
  }),
];
