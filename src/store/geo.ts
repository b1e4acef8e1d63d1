/**
 * Geo commands' core (geo.c): searching a geo set, and printing coordinates
 * and distances exactly as Redis 7.0 replies them.
 *
 * A geo set is an ordinary sorted set, so the search does not know the
 * storage: it takes the sorted set's score-range scan as a callback
 * (`ScoreRangeScan`; `scanSortedSet` adapts our SortedSet). `searchGeo` is
 * georadiusGeneric's core: the cells of `searchAreas` in Redis's order,
 * skipping a cell equal to the one scanned just before (Redis's check, which
 * never compares against the centre cell), each cell's members in score
 * order, kept when inside the shape (`withinShape`), stopping early for
 * COUNT ANY; then the sort. The sort matters for ties: Redis sorts the whole
 * array with glibc's qsort (a stable merge sort) but, when COUNT keeps fewer
 * than it found, with its own partial quicksort (pqsort.c, not stable), so
 * `partialSort` ports pqsort step for step to pick and order equal distances
 * the same way.
 *
 * Replies print coordinates as `addReplyHumanLongDouble` does (`%.17Lf` with
 * trailing zeros trimmed; a double widened to long double prints its exact
 * binary value, rounded half-even at 17 decimals) and distances as `%.4f`.
 * Both are exact decimal conversions, done here with BigInt where the
 * shortcut (`toFixed`) could round a tie the other way.
 *
 * @module
 */

import { parseDouble } from "../protocol/doubles.ts";
import { formatLongDouble } from "../protocol/long_double.ts";
import type { SortedSet } from "./sorted_set.ts";
import {
  cellScoreRange,
  coordinatesInRange,
  decodeScore,
  decodeScoreInto,
  distanceCentre,
  distanceFromCentre,
  distanceIfInRadius,
  distanceIfInRectangle,
  EARTH_RADIUS_IN_METERS,
  type GeohashCell,
  type GeoShape,
  sameCell,
  searchAreas,
} from "./geohash.ts";

export type { GeoShape } from "./geohash.ts";

/** GEOADD/FROMLONLAT with a coordinate that is not a number. */
export const NOT_FLOAT_ERROR = "ERR value is not a valid float";
/** A distance unit other than m, km, ft, mi. */
export const UNSUPPORTED_UNIT_ERROR = "ERR unsupported unit provided. please use M, KM, FT, MI";
export const NEED_NUMERIC_RADIUS_ERROR = "ERR need numeric radius";
export const NEGATIVE_RADIUS_ERROR = "ERR radius cannot be negative";
export const NEED_NUMERIC_WIDTH_ERROR = "ERR need numeric width";
export const NEED_NUMERIC_HEIGHT_ERROR = "ERR need numeric height";
export const NEGATIVE_BOX_ERROR = "ERR height or width cannot be negative";
/** FROMMEMBER / GEORADIUSBYMEMBER with a member that is not in the set. */
export const MEMBER_NOT_FOUND_ERROR = "ERR could not decode requested zset member";
export const COUNT_NOT_POSITIVE_ERROR = "ERR COUNT must be > 0";
export const ANY_WITHOUT_COUNT_ERROR = "ERR the ANY argument requires COUNT argument";

/** The error for a point outside the limits, with Redis's `%f` rendering of both values. */
export function invalidCoordinatesError(longitude: number, latitude: number): string {
  return `ERR invalid longitude,latitude pair ${formatFixed(longitude, 6)},${
    formatFixed(latitude, 6)
  }`;
}

/**
 * A longitude/latitude argument pair as GEOADD and FROMLONLAT read it
 * (extractLongLatOrReply): both must be floats, then within the limits.
 */
export function parseCoordinates(
  longitudeText: string,
  latitudeText: string,
): { longitude: number; latitude: number } | { error: string } {
  const longitude = parseDouble(longitudeText);
  const latitude = parseDouble(latitudeText);
  if (longitude === undefined || latitude === undefined) return { error: NOT_FLOAT_ERROR };
  if (!coordinatesInRange(longitude, latitude)) {
    return { error: invalidCoordinatesError(longitude, latitude) };
  }
  return { longitude, latitude };
}

/**
 * Meters per unit for `m`, `km`, `ft`, `mi` (any case), or undefined for
 * anything else (reply `UNSUPPORTED_UNIT_ERROR`). Like Redis's strcasecmp,
 * only the bytes before a NUL count.
 */
export function parseDistanceUnit(text: string): number | undefined {
  const nul = text.indexOf("\0");
  switch ((nul < 0 ? text : text.slice(0, nul)).toLowerCase()) {
    case "m":
      return 1;
    case "km":
      return 1000;
    case "ft":
      return 0.3048;
    case "mi":
      return 1609.34;
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------
// Formatting

/**
 * `printf("%.<decimals>f", value)` as glibc prints it: the exact decimal
 * value of the double rounded half-even, `inf`/`-inf`/`nan`, and `-0.000...`
 * for negative zero.
 */
export function formatFixed(value: number, decimals: number): string {
  if (Number.isNaN(value)) return value < 0 ? "-nan" : "nan";
  if (value === Infinity) return "inf";
  if (value === -Infinity) return "-inf";
  const negative = value < 0 || Object.is(value, -0);
  const magnitude = Math.abs(value);
  // toFixed is exact but rounds ties up; a tie needs a value with at most
  // decimals + 1 binary fraction digits, so only those take the slow path.
  if (magnitude < 1e21 && !Number.isInteger(magnitude * 2 ** (decimals + 1))) {
    const text = magnitude.toFixed(decimals);
    return negative ? `-${text}` : text;
  }
  const [significand, exponent] = decompose(magnitude);
  const scale = 10n ** BigInt(decimals);
  let units: bigint;
  if (exponent >= 0) {
    units = (significand << BigInt(exponent)) * scale;
  } else {
    const dropped = BigInt(-exponent);
    const scaled = significand * scale;
    units = scaled >> dropped;
    const remainder = scaled - (units << dropped);
    const half = 1n << (dropped - 1n);
    if (remainder > half || (remainder === half && (units & 1n) === 1n)) units++;
  }
  const digits = units.toString().padStart(decimals + 1, "0");
  const text = decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
  return negative ? `-${text}` : text;
}

/** A finite non-negative double as `significand * 2^exponent`. */
function decompose(value: number): [bigint, number] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const biased = (high >>> 20) & 0x7ff;
  let significand = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  if (biased === 0) return [significand, -1074];
  significand |= 1n << 52n;
  return [significand, biased - 1075];
}

/**
 * A coordinate as GEOPOS and WITHCOORD print it (addReplyHumanLongDouble:
 * `%.17Lf`, trailing zeros trimmed), e.g. `13.36138933897018433`. RESP2 sends
 * it as a bulk string, RESP3 as a double with the same text.
 */
export function formatCoordinate(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? "inf" : value < 0 ? "-inf" : "nan";
  // %.17Lf of a double is its exact value rounded at 17 decimals, which
  // formatFixed computes without BigInt (toFixed, ties aside); then the
  // trailing zeros go, as in ld2string, and "-0" becomes "0".
  if (Math.abs(value) < 1e21) {
    const text = formatFixed(value, 17);
    let end = text.length;
    while (text.charCodeAt(end - 1) === 48) end--;
    if (text.charCodeAt(end - 1) === 46) end--;
    return end === 2 && text.startsWith("-0") ? "0" : text.slice(0, end);
  }
  const [significand, exponent] = decompose(Math.abs(value));
  return formatLongDouble({ negative: value < 0, significand, exponent });
}

/** A distance as GEODIST and WITHDIST print it (`%.4f`), e.g. `166274.1516`. */
export function formatDistance(value: number): string {
  return formatFixed(value, 4);
}

/**
 * WITHHASH's integer: the score converted to a long long (exact for the
 * integer scores geo sets hold).
 */
export function scoreToHash(score: number): number {
  return Math.trunc(score);
}

// ---------------------------------------------------------------------------
// Searching

/**
 * Visits, in ascending (score, member) order, the members whose score `s`
 * satisfies `min <= s < max`, until `visit` returns false.
 */
export type ScoreRangeScan = (
  min: number,
  max: number,
  visit: (member: string, score: number) => boolean,
) => void;

/** Elements fetched per slice when scanning a SortedSet; a search rarely needs more. */
const SCAN_CHUNK = 64;

/**
 * The `ScoreRangeScan` of one of our sorted sets.
 *
 * @example
 * ```ts
 * const points = searchGeo(shape, scanSortedSet(zset), { sort: "asc" });
 * ```
 */
export function scanSortedSet(set: SortedSet): ScoreRangeScan {
  return (min, max, visit) => {
    const range = { min, max, minExclusive: false, maxExclusive: true };
    let rank = set.firstRankInScoreRange(range);
    const last = set.lastRankInScoreRange(range);
    while (rank <= last) {
      const stop = Math.min(last, rank + SCAN_CHUNK - 1);
      for (const [member, score] of set.range(rank, stop)) {
        if (!visit(member, score)) return;
      }
      rank = stop + 1;
    }
  };
}

/** A member found by a search. */
export interface GeoPoint {
  readonly member: string;
  /** The member's score (WITHHASH prints `scoreToHash(score)`). */
  readonly score: number;
  /** The centre of the member's cell (WITHCOORD). */
  readonly longitude: number;
  readonly latitude: number;
  /**
   * Distance from the shape's centre in the shape's unit (WITHDIST, and
   * the score STOREDIST stores).
   */
  distance: number;
}

/** How a search orders and limits its results (GEOSEARCH's ASC/DESC, COUNT, ANY). */
export interface GeoSearchOptions {
  /** COUNT: at most this many results; 0 or absent means no limit. */
  readonly count?: number;
  /** ANY: stop scanning once `count` matches are found. */
  readonly any?: boolean;
  /** ASC/DESC by distance; "none" keeps scan order. */
  readonly sort?: "asc" | "desc" | "none";
}

/**
 * geoWithinShape for one member: its decoded position and its distance in
 * meters from the shape's centre, or undefined when outside the shape.
 */
export function withinShape(
  shape: GeoShape,
  score: number,
): { longitude: number; latitude: number; meters: number } | undefined {
  const [longitude, latitude] = decodeScore(score);
  const meters = shape.type === "radius"
    ? distanceIfInRadius(
      shape.longitude,
      shape.latitude,
      longitude,
      latitude,
      shape.radius * shape.conversion,
    )
    : distanceIfInRectangle(
      shape.width * shape.conversion,
      shape.height * shape.conversion,
      shape.longitude,
      shape.latitude,
      longitude,
      latitude,
    );
  return meters === undefined ? undefined : { longitude, latitude, meters };
}

/**
 * GEOSEARCH/GEORADIUS's results, in reply order: the matching members of the
 * scanned cells, sorted (COUNT without ANY implies ASC, as in Redis) and cut
 * to COUNT. Distances are converted to the shape's unit after sorting.
 *
 * @example
 * ```ts
 * const shape = { type: "radius", longitude: 15, latitude: 37, radius: 200, conversion: 1000 } as const;
 * for (const point of searchGeo(shape, scanSortedSet(zset), { sort: "asc", count: 10 })) {
 *   // point.member, formatDistance(point.distance), formatCoordinate(point.longitude), ...
 * }
 * ```
 */
export function searchGeo(
  shape: GeoShape,
  scan: ScoreRangeScan,
  options: GeoSearchOptions = {},
): GeoPoint[] {
  const count = options.count ?? 0;
  const any = options.any ?? false;
  let sort = options.sort ?? "none";
  if (count !== 0 && sort === "none" && !any) sort = "asc";

  const found = collectMatches(shape, scan, any ? count : 0);
  const returned = count === 0 || found.length < count ? found.length : count;
  if (sort !== "none") {
    const compare = sort === "asc" ? ascending : descending;
    if (returned === found.length) found.sort(compare);
    else partialSort(found, compare, 0, returned - 1);
  }
  const results = found.length === returned ? found : found.slice(0, returned);
  for (const point of results) point.distance /= shape.conversion;
  return results;
}

/** membersOfAllNeighbors: scan the cells, appending matches, up to `limit` (0: all). */
function collectMatches(shape: GeoShape, scan: ScoreRangeScan, limit: number): GeoPoint[] {
  const { cells } = searchAreas(shape);
  const found: GeoPoint[] = [];
  // One visitor for every cell, allocating nothing but the matches.
  const decoded = new Float64Array(2);
  const centre = distanceCentre(shape.longitude, shape.latitude);
  const isRadius = shape.type === "radius";
  const radiusMeters = shape.type === "radius" ? shape.radius * shape.conversion : 0;
  const widthMeters = shape.type === "box" ? shape.width * shape.conversion : 0;
  const heightMeters = shape.type === "box" ? shape.height * shape.conversion : 0;
  // The distance is at least the north-south one (the radius times the
  // latitude difference), so a point that far in latitude alone is outside
  // and skips the trigonometry. The margin is far above rounding error: no
  // point the full formula accepts is skipped.
  const latitudeReach = (radiusMeters / EARTH_RADIUS_IN_METERS) * (180 / Math.PI) * (1 + 1e-9);
  const visit = (member: string, score: number) => {
    decodeScoreInto(score, decoded);
    const longitude = decoded[0]!;
    const latitude = decoded[1]!;
    let meters: number | undefined;
    if (isRadius) {
      if (Math.abs(latitude - shape.latitude) > latitudeReach) return true;
      meters = distanceFromCentre(centre, longitude, latitude);
      if (meters > radiusMeters) return true;
    } else {
      meters = distanceIfInRectangle(
        widthMeters,
        heightMeters,
        shape.longitude,
        shape.latitude,
        longitude,
        latitude,
      );
      if (meters === undefined) return true;
    }
    found.push({ member, score, longitude, latitude, distance: meters });
    return !(limit !== 0 && found.length >= limit);
  };
  let lastProcessed = 0;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (cell === undefined) continue;
    // Redis skips a repeat of the previous cell, but its "previous" starts
    // as index 0 and is only compared once it moved on from there.
    const previous: GeohashCell | undefined = cells[lastProcessed];
    if (lastProcessed !== 0 && previous !== undefined && sameCell(cell, previous)) continue;
    if (limit !== 0 && found.length >= limit) break;
    const [min, max] = cellScoreRange(cell);
    scan(min, max, visit);
    lastProcessed = i;
  }
  return found;
}

function ascending(a: GeoPoint, b: GeoPoint): number {
  return a.distance > b.distance ? 1 : a.distance === b.distance ? 0 : -1;
}

function descending(a: GeoPoint, b: GeoPoint): number {
  return -ascending(a, b);
}

/**
 * Redis's pqsort (NetBSD's Bentley-McIlroy quicksort that only recurses
 * into partitions overlapping ranks `left`..`right`), on element indexes.
 * Ported operation for operation so equal keys end up where Redis puts them.
 * The NetBSD source falls back to insertion sort after a partition pass
 * without swaps; redis-server 7.0.15 orders ties as if it did not (checked
 * over every COUNT of a 140-result search), so neither does this port.
 */
export function partialSort<T>(
  items: T[],
  compare: (a: T, b: T) => number,
  left: number,
  right: number,
): void {
  const swap = (i: number, j: number) => {
    const held = items[i]!;
    items[i] = items[j]!;
    items[j] = held;
  };
  const swapRun = (i: number, j: number, length: number) => {
    for (let k = 0; k < length; k++) swap(i + k, j + k);
  };
  const median = (a: number, b: number, c: number) =>
    compare(items[a]!, items[b]!) < 0
      ? (compare(items[b]!, items[c]!) < 0 ? b : compare(items[a]!, items[c]!) < 0 ? c : a)
      : (compare(items[b]!, items[c]!) > 0 ? b : compare(items[a]!, items[c]!) < 0 ? a : c);
  const insertionSort = (start: number, length: number) => {
    for (let m = start + 1; m < start + length; m++) {
      for (let l = m; l > start && compare(items[l - 1]!, items[l]!) > 0; l--) swap(l, l - 1);
    }
  };
  const overlaps = (start: number, length: number) => {
    const end = start + length - 1;
    return !((left < start && right < start) || (left > end && right > end));
  };

  const sort = (start: number, length: number): void => {
    for (;;) {
      if (length < 7) {
        insertionSort(start, length);
        return;
      }
      let middle = start + Math.floor(length / 2);
      if (length > 7) {
        let low = start;
        let high = start + length - 1;
        if (length > 40) {
          const d = Math.floor(length / 8);
          low = median(low, low + d, low + 2 * d);
          middle = median(middle - d, middle, middle + d);
          high = median(high - 2 * d, high - d, high);
        }
        middle = median(low, middle, high);
      }
      swap(start, middle);
      let a = start + 1;
      let b = a;
      let c = start + length - 1;
      let d = c;
      for (;;) {
        let result: number;
        while (b <= c && (result = compare(items[b]!, items[start]!)) <= 0) {
          if (result === 0) {
            swap(a, b);
            a++;
          }
          b++;
        }
        while (b <= c && (result = compare(items[c]!, items[start]!)) >= 0) {
          if (result === 0) {
            swap(c, d);
            d--;
          }
          c--;
        }
        if (b > c) break;
        swap(b, c);
        b++;
        c--;
      }
      const end = start + length;
      let run = Math.min(a - start, b - a);
      swapRun(start, b - run, run);
      run = Math.min(d - c, end - d - 1);
      swapRun(b, end - run, run);
      run = b - a;
      if (run > 1 && overlaps(start, run)) sort(start, run);
      run = d - c;
      if (run <= 1) return;
      start = end - run;
      length = run;
      if (!overlaps(start, length)) return;
    }
  };
  sort(0, items.length);
}
