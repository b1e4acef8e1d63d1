/**
 * Geohash cells, scores and distances as Redis 7.0 computes them
 * (geohash.c and geohash_helper.c).
 *
 * A geo set is a sorted set whose scores are 52-bit interleaved geohashes:
 * longitude -180..180 and latitude -85.05112878..85.05112878 (the Web
 * Mercator limits) each cut into 2^26 slices, latitude in the even bits,
 * longitude in the odd ones. GEOPOS answers the centre of the member's cell,
 * GEOHASH re-encodes that centre over the standard -90..90 latitude range,
 * and a radius or box search scans the score ranges of at most nine cells
 * (`searchAreas`) and then measures each candidate. Which cells are chosen,
 * which are pruned and in what order they are scanned decides the order of
 * unsorted results and which members COUNT ANY returns, so all of it mirrors
 * geohashCalculateAreasByShapeWGS84 step for step.
 *
 * Representation: a cell is its two integer coordinates (latitude index,
 * longitude index) at a step, not the interleaved 64-bit word. Redis's
 * neighbour arithmetic (geohash_move_x/y: carry tricks on the odd or even
 * bits, masked to the step) is exactly "add or subtract one modulo 2^step on
 * one coordinate, leave the other alone", and two cells are equal exactly when
 * their coordinates are, so no 64-bit integer is needed until a cell becomes
 * a score range. Interleaving works on 32-bit halves; a double holds any
 * 52-bit score exactly. An index may equal 2^step: Redis's encoder gives that
 * for a coordinate exactly on the upper limit, and it is kept as Redis keeps
 * it (an extra bit above the cell's bits).
 *
 * Distances use Redis 7.0's haversine with its Earth radius. They go through
 * `Math.sin`/`cos`/`asin`, which may differ from glibc's in the last bit on
 * rare inputs; the printed "%.4f" distances and the in/out decisions only
 * change when a value lies within about 1e-9 m of a boundary.
 *
 * @module
 */

/** Bits per coordinate in a geo set's scores (GEO_STEP_MAX). */
export const GEO_STEP_MAX = 26;
export const GEO_LAT_MIN = -85.05112878;
export const GEO_LAT_MAX = 85.05112878;
export const GEO_LONG_MIN = -180;
export const GEO_LONG_MAX = 180;
/** The Earth's quadratic mean radius for WGS-84, as Redis uses it. */
export const EARTH_RADIUS_IN_METERS = 6372797.560856;

const MERCATOR_MAX = 20037726.37;
const DEGREES_TO_RADIANS = Math.PI / 180;
const TWO_POW_32 = 4294967296;
const TWO_POW_63 = 9223372036854775808;
const GEOHASH_ALPHABET = "0123456789bcdefghjkmnpqrstuvwxyz";

/** A coordinate interval (GeoHashRange). */
export interface CoordinateRange {
  readonly min: number;
  readonly max: number;
}

/** The ranges geo set scores are encoded over. */
export const WGS84_LONGITUDE_RANGE: CoordinateRange = { min: GEO_LONG_MIN, max: GEO_LONG_MAX };
export const WGS84_LATITUDE_RANGE: CoordinateRange = { min: GEO_LAT_MIN, max: GEO_LAT_MAX };
/** The ranges of the standard geohash alphabet strings (GEOHASH). */
const STANDARD_LATITUDE_RANGE: CoordinateRange = { min: -90, max: 90 };

/** A geohash cell: its latitude and longitude slice numbers at `step` bits each. */
export interface GeohashCell {
  readonly latitudeIndex: number;
  readonly longitudeIndex: number;
  readonly step: number;
}

/** A cell's extent in degrees (GeoHashArea). */
export interface GeohashArea {
  readonly longitudeMin: number;
  readonly longitudeMax: number;
  readonly latitudeMin: number;
  readonly latitudeMax: number;
}

// ---------------------------------------------------------------------------
// Bit interleaving on 32-bit halves

/** Spreads the low 16 bits of `value` over the even bits of a 32-bit word. */
function spread(value: number): number {
  value &= 0xffff;
  value = (value | (value << 8)) & 0x00ff00ff;
  value = (value | (value << 4)) & 0x0f0f0f0f;
  value = (value | (value << 2)) & 0x33333333;
  value = (value | (value << 1)) & 0x55555555;
  return value;
}

/** Gathers the even bits of a 32-bit word into 16 bits. */
function compact(value: number): number {
  value &= 0x55555555;
  value = (value | (value >>> 1)) & 0x33333333;
  value = (value | (value >>> 2)) & 0x0f0f0f0f;
  value = (value | (value >>> 4)) & 0x00ff00ff;
  value = (value | (value >>> 8)) & 0x0000ffff;
  return value;
}

/** interleave64: latitude bits even, longitude bits odd; the 64-bit result as [high, low]. */
function interleave(latitudeIndex: number, longitudeIndex: number): [number, number] {
  const low = (spread(latitudeIndex) | (spread(longitudeIndex) << 1)) >>> 0;
  const high = (spread(latitudeIndex >>> 16) | (spread(longitudeIndex >>> 16) << 1)) >>> 0;
  return [high, low];
}

/** A 64-bit [high, low] as the nearest double, as C's `(double)uint64_t` rounds it. */
function toDouble(high: number, low: number): number {
  return high * TWO_POW_32 + low;
}

/**
 * `(uint64_t)score` as x86-64 code compiled by GCC computes it: exact for
 * 0 <= score < 2^64, two's complement of the truncation for negative scores,
 * 2^63 below -2^63 (and for NaN), and 0 from 2^64 up. Geo scores written by
 * GEOADD are always in the exact range; the rest is what GEOPOS shows for a
 * sorted set filled by ZADD.
 */
function scoreToUint64(score: number): [number, number] {
  if (score >= 0 && score < TWO_POW_63 * 2) {
    const whole = Math.trunc(score);
    const high = Math.floor(whole / TWO_POW_32);
    return [high, whole - high * TWO_POW_32];
  }
  if (score >= TWO_POW_63 * 2) return [0, 0];
  if (score < 0 && score >= -TWO_POW_63) {
    const bits = BigInt.asUintN(64, BigInt(Math.trunc(score)));
    return [Number(bits >> 32n), Number(bits & 0xffffffffn)];
  }
  return [0x80000000, 0];
}

// ---------------------------------------------------------------------------
// Encoding and decoding

/**
 * geohashEncode: the cell holding a point at `step` bits per coordinate, or
 * undefined when the point is outside the WGS84 limits or the given ranges.
 */
export function encodeCell(
  longitude: number,
  latitude: number,
  step: number,
  longitudeRange: CoordinateRange = WGS84_LONGITUDE_RANGE,
  latitudeRange: CoordinateRange = WGS84_LATITUDE_RANGE,
): GeohashCell | undefined {
  if (
    !(latitude >= GEO_LAT_MIN && latitude <= GEO_LAT_MAX &&
      longitude >= GEO_LONG_MIN && longitude <= GEO_LONG_MAX)
  ) {
    return undefined;
  }
  if (
    latitude < latitudeRange.min || latitude > latitudeRange.max ||
    longitude < longitudeRange.min || longitude > longitudeRange.max
  ) {
    return undefined;
  }
  const scale = 2 ** step;
  const latitudeOffset = (latitude - latitudeRange.min) / (latitudeRange.max - latitudeRange.min);
  const longitudeOffset = (longitude - longitudeRange.min) /
    (longitudeRange.max - longitudeRange.min);
  return {
    latitudeIndex: Math.trunc(latitudeOffset * scale),
    longitudeIndex: Math.trunc(longitudeOffset * scale),
    step,
  };
}

/**
 * GEOADD's score for a point: the 52-bit geohash at step 26 as a double.
 * Undefined when the point is outside the limits (validate first with
 * `coordinatesInRange` to reply Redis's error).
 */
export function encodeScore(longitude: number, latitude: number): number | undefined {
  const cell = encodeCell(longitude, latitude, GEO_STEP_MAX);
  if (cell === undefined) return undefined;
  const [high, low] = interleave(cell.latitudeIndex, cell.longitudeIndex);
  return toDouble(high, low);
}

/** Whether GEOADD and FROMLONLAT accept a point (extractLongLatOrReply's check). */
export function coordinatesInRange(longitude: number, latitude: number): boolean {
  return longitude >= GEO_LONG_MIN && longitude <= GEO_LONG_MAX &&
    latitude >= GEO_LAT_MIN && latitude <= GEO_LAT_MAX;
}

/** The cell a sorted-set score denotes (step 26), with Redis's integer conversion. */
export function cellOfScore(score: number): GeohashCell {
  const [high, low] = scoreToUint64(score);
  return {
    latitudeIndex: (compact(low) | (compact(high) << 16)) >>> 0,
    longitudeIndex: (compact(low >>> 1) | (compact(high >>> 1) << 16)) >>> 0,
    step: GEO_STEP_MAX,
  };
}

/** geohashDecode: a cell's extent in degrees over the given ranges. */
export function decodeCell(
  cell: GeohashCell,
  longitudeRange: CoordinateRange = WGS84_LONGITUDE_RANGE,
  latitudeRange: CoordinateRange = WGS84_LATITUDE_RANGE,
): GeohashArea {
  const scale = 2 ** cell.step;
  const latitudeScale = latitudeRange.max - latitudeRange.min;
  const longitudeScale = longitudeRange.max - longitudeRange.min;
  // Redis adds 1 to the index as a uint32_t, so the last index wraps to 0.
  const nextLatitude = (cell.latitudeIndex + 1) >>> 0;
  const nextLongitude = (cell.longitudeIndex + 1) >>> 0;
  return {
    latitudeMin: latitudeRange.min + (cell.latitudeIndex / scale) * latitudeScale,
    latitudeMax: latitudeRange.min + (nextLatitude / scale) * latitudeScale,
    longitudeMin: longitudeRange.min + (cell.longitudeIndex / scale) * longitudeScale,
    longitudeMax: longitudeRange.min + (nextLongitude / scale) * longitudeScale,
  };
}

/** geohashDecodeAreaToLongLat: the centre of an area, clamped to the WGS84 limits. */
function areaCentre(area: GeohashArea): [longitude: number, latitude: number] {
  let longitude = (area.longitudeMin + area.longitudeMax) / 2;
  if (longitude > GEO_LONG_MAX) longitude = GEO_LONG_MAX;
  if (longitude < GEO_LONG_MIN) longitude = GEO_LONG_MIN;
  let latitude = (area.latitudeMin + area.latitudeMax) / 2;
  if (latitude > GEO_LAT_MAX) latitude = GEO_LAT_MAX;
  if (latitude < GEO_LAT_MIN) latitude = GEO_LAT_MIN;
  return [longitude, latitude];
}

/**
 * `decodeScore` without allocating, for the search's inner loop: the
 * longitude and latitude go to `out[0]` and `out[1]`, computed exactly as
 * cellOfScore, decodeCell and areaCentre compute them.
 */
export function decodeScoreInto(score: number, out: Float64Array): void {
  let high: number;
  let low: number;
  if (score >= 0 && score < TWO_POW_63 * 2) {
    const whole = Math.trunc(score);
    high = Math.floor(whole / TWO_POW_32);
    low = whole - high * TWO_POW_32;
  } else {
    [high, low] = scoreToUint64(score);
  }
  const latitudeIndex = (compact(low) | (compact(high) << 16)) >>> 0;
  const longitudeIndex = (compact(low >>> 1) | (compact(high >>> 1) << 16)) >>> 0;
  const scale = 2 ** GEO_STEP_MAX;
  const latitudeScale = GEO_LAT_MAX - GEO_LAT_MIN;
  const longitudeScale = GEO_LONG_MAX - GEO_LONG_MIN;
  const latitudeMin = GEO_LAT_MIN + (latitudeIndex / scale) * latitudeScale;
  const latitudeMax = GEO_LAT_MIN + (((latitudeIndex + 1) >>> 0) / scale) * latitudeScale;
  const longitudeMin = GEO_LONG_MIN + (longitudeIndex / scale) * longitudeScale;
  const longitudeMax = GEO_LONG_MIN + (((longitudeIndex + 1) >>> 0) / scale) * longitudeScale;
  let longitude = (longitudeMin + longitudeMax) / 2;
  if (longitude > GEO_LONG_MAX) longitude = GEO_LONG_MAX;
  if (longitude < GEO_LONG_MIN) longitude = GEO_LONG_MIN;
  let latitude = (latitudeMin + latitudeMax) / 2;
  if (latitude > GEO_LAT_MAX) latitude = GEO_LAT_MAX;
  if (latitude < GEO_LAT_MIN) latitude = GEO_LAT_MIN;
  out[0] = longitude;
  out[1] = latitude;
}

/**
 * `distance` from a fixed first point given as `distanceCentre` made it
 * (its radians and the cosine of its latitude, computed once per search):
 * the same operations in the same order, so the same double.
 */
export function distanceFromCentre(
  centre: Float64Array,
  longitude2: number,
  latitude2: number,
): number {
  const latitude2Radians = degreesToRadians(latitude2);
  const longitude2Radians = degreesToRadians(longitude2);
  const u = Math.sin((latitude2Radians - centre[1]!) / 2);
  const v = Math.sin((longitude2Radians - centre[0]!) / 2);
  return 2.0 * EARTH_RADIUS_IN_METERS *
    Math.asin(Math.sqrt(u * u + centre[2]! * Math.cos(latitude2Radians) * v * v));
}

/** The first argument of `distanceFromCentre`. */
export function distanceCentre(longitude: number, latitude: number): Float64Array {
  const latitudeRadians = degreesToRadians(latitude);
  return Float64Array.of(degreesToRadians(longitude), latitudeRadians, Math.cos(latitudeRadians));
}

/**
 * The point a score stands for (decodeGeohash): its cell's centre, which is
 * what GEOPOS and WITHCOORD print and what searches measure from.
 */
export function decodeScore(score: number): [longitude: number, latitude: number] {
  return areaCentre(decodeCell(cellOfScore(score)));
}

/**
 * GEOHASH's 11-character string for a score: the decoded centre re-encoded
 * over the standard -90..90 latitude range, 5 bits per character, and a final
 * '0' (Redis has only 52 bits for 55).
 */
export function geohashString(score: number): string {
  const [longitude, latitude] = decodeScore(score);
  const cell = encodeCell(
    longitude,
    latitude,
    GEO_STEP_MAX,
    WGS84_LONGITUDE_RANGE,
    STANDARD_LATITUDE_RANGE,
  )!;
  const [high, low] = interleave(cell.latitudeIndex, cell.longitudeIndex);
  let text = "";
  for (let i = 0; i < 10; i++) {
    const shift = 52 - (i + 1) * 5;
    // shift runs from 47 down to 2, so a group never needs bits below 0.
    const index = shift >= 32
      ? (high >>> (shift - 32)) & 0x1f
      : ((low >>> shift) | (high << (32 - shift))) & 0x1f;
    text += GEOHASH_ALPHABET[index];
  }
  return text + "0";
}

/**
 * The score interval `[min, max)` a cell covers (scoresOfGeoHashBox): its
 * bits and the next cell's, shifted up to 52 bits.
 */
export function cellScoreRange(cell: GeohashCell): [min: number, max: number] {
  const [high, low] = interleave(cell.latitudeIndex, cell.longitudeIndex);
  const shift = 2 ** (52 - cell.step * 2);
  const nextLow = low === 0xffffffff ? 0 : low + 1;
  const nextHigh = low === 0xffffffff ? high + 1 : high;
  return [toDouble(high, low) * shift, toDouble(nextHigh, nextLow) * shift];
}

// ---------------------------------------------------------------------------
// Distances

function degreesToRadians(degrees: number): number {
  return degrees * DEGREES_TO_RADIANS;
}

function radiansToDegrees(radians: number): number {
  return radians / DEGREES_TO_RADIANS;
}

/** geohashGetDistance (Redis 7.0): haversine distance in meters. */
export function distance(
  longitude1: number,
  latitude1: number,
  longitude2: number,
  latitude2: number,
): number {
  const latitude1Radians = degreesToRadians(latitude1);
  const longitude1Radians = degreesToRadians(longitude1);
  const latitude2Radians = degreesToRadians(latitude2);
  const longitude2Radians = degreesToRadians(longitude2);
  const u = Math.sin((latitude2Radians - latitude1Radians) / 2);
  const v = Math.sin((longitude2Radians - longitude1Radians) / 2);
  return 2.0 * EARTH_RADIUS_IN_METERS *
    Math.asin(Math.sqrt(u * u + Math.cos(latitude1Radians) * Math.cos(latitude2Radians) * v * v));
}

/**
 * geohashGetDistanceIfInRadiusWGS84: the distance from the centre
 * (`longitude1`, `latitude1`) when it is at most `radiusMeters`, else undefined.
 */
export function distanceIfInRadius(
  longitude1: number,
  latitude1: number,
  longitude2: number,
  latitude2: number,
  radiusMeters: number,
): number | undefined {
  const meters = distance(longitude1, latitude1, longitude2, latitude2);
  return meters > radiusMeters ? undefined : meters;
}

/**
 * geohashGetDistanceIfInRectangle (Redis 7.0): whether the point (x2, y2) is
 * within half the width east-west (measured along its own latitude) and half
 * the height north-south (along its own longitude) of the box centre (x1, y1);
 * then the distance from the centre, else undefined.
 */
export function distanceIfInRectangle(
  widthMeters: number,
  heightMeters: number,
  x1: number,
  y1: number,
  x2: number,
  y2: number,
): number | undefined {
  const longitudeDistance = distance(x2, y2, x1, y2);
  const latitudeDistance = distance(x2, y2, x2, y1);
  if (longitudeDistance > widthMeters / 2 || latitudeDistance > heightMeters / 2) return undefined;
  return distance(x1, y1, x2, y2);
}

// ---------------------------------------------------------------------------
// The search planner

/** A search area: a circle or an axis-aligned box around a point (GeoShape). */
export type GeoShape =
  | {
    readonly type: "radius";
    readonly longitude: number;
    readonly latitude: number;
    /** In the unit below. */
    readonly radius: number;
    /** Meters per unit (1, 1000, 0.3048, 1609.34). */
    readonly conversion: number;
  }
  | {
    readonly type: "box";
    readonly longitude: number;
    readonly latitude: number;
    readonly width: number;
    readonly height: number;
    readonly conversion: number;
  };

/**
 * geohashEstimateStepsByRadius: the coarsest step whose cells still make a
 * 3x3 block covering `rangeMeters` around a point at `latitude`.
 */
export function estimateStepsByRadius(rangeMeters: number, latitude: number): number {
  if (rangeMeters === 0) return 26;
  let step = 1;
  while (rangeMeters < MERCATOR_MAX) {
    rangeMeters *= 2;
    step++;
  }
  step -= 2;
  if (latitude > 66 || latitude < -66) {
    step--;
    if (latitude > 80 || latitude < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return step;
}

/**
 * geohashBoundingBox: `[minLongitude, minLatitude, maxLongitude, maxLatitude]`
 * of a shape, widening in longitude on the poleward edge.
 */
export function boundingBox(shape: GeoShape): [number, number, number, number] {
  const { longitude, latitude, conversion } = shape;
  const height = conversion * (shape.type === "radius" ? shape.radius : shape.height / 2);
  const width = conversion * (shape.type === "radius" ? shape.radius : shape.width / 2);
  const latitudeDelta = radiansToDegrees(height / EARTH_RADIUS_IN_METERS);
  const longitudeDeltaTop = radiansToDegrees(
    width / EARTH_RADIUS_IN_METERS / Math.cos(degreesToRadians(latitude + latitudeDelta)),
  );
  const longitudeDeltaBottom = radiansToDegrees(
    width / EARTH_RADIUS_IN_METERS / Math.cos(degreesToRadians(latitude - latitudeDelta)),
  );
  const southern = latitude < 0;
  return [
    southern ? longitude - longitudeDeltaBottom : longitude - longitudeDeltaTop,
    latitude - latitudeDelta,
    southern ? longitude + longitudeDeltaBottom : longitude + longitudeDeltaTop,
    latitude + latitudeDelta,
  ];
}

/** A cell moved by `dx` east and `dy` north, wrapping at the step (geohash_move_x/y). */
function moved(cell: GeohashCell, dx: number, dy: number): GeohashCell {
  const size = 2 ** cell.step;
  return {
    latitudeIndex: dy === 0 ? cell.latitudeIndex : (cell.latitudeIndex + dy + size) % size,
    longitudeIndex: dx === 0 ? cell.longitudeIndex : (cell.longitudeIndex + dx + size) % size,
    step: cell.step,
  };
}

/**
 * The cells a search scans, in Redis's order, and the area of the centre cell.
 * `cells` has nine entries: centre, north, south, east, west, north-east,
 * north-west, south-east, south-west; a pruned neighbour is undefined.
 */
export interface SearchAreas {
  readonly cells: ReadonlyArray<GeohashCell | undefined>;
  readonly area: GeohashArea;
  readonly step: number;
}

/**
 * geohashCalculateAreasByShapeWGS84: estimates the step from the shape's
 * radius (a box's half diagonal), takes the centre's cell and its eight
 * neighbours, goes one step coarser when a side neighbour does not reach the
 * bounding box, and drops the neighbours lying wholly outside it.
 */
export function searchAreas(shape: GeoShape): SearchAreas {
  const [minLongitude, minLatitude, maxLongitude, maxLatitude] = boundingBox(shape);
  const { longitude, latitude } = shape;
  let radiusMeters = shape.type === "radius"
    ? shape.radius
    : Math.sqrt((shape.width / 2) * (shape.width / 2) + (shape.height / 2) * (shape.height / 2));
  radiusMeters *= shape.conversion;

  let step = estimateStepsByRadius(radiusMeters, latitude);
  let centre = encodeCell(longitude, latitude, step)!;
  let area = decodeCell(centre);

  const north = decodeCell(moved(centre, 0, 1));
  const south = decodeCell(moved(centre, 0, -1));
  const east = decodeCell(moved(centre, 1, 0));
  const west = decodeCell(moved(centre, -1, 0));
  const decreaseStep = north.latitudeMax < maxLatitude || south.latitudeMin > minLatitude ||
    east.longitudeMax < maxLongitude || west.longitudeMin > minLongitude;
  if (step > 1 && decreaseStep) {
    step--;
    centre = encodeCell(longitude, latitude, step)!;
    area = decodeCell(centre);
  }

  let keepSouth = true;
  let keepNorth = true;
  let keepWest = true;
  let keepEast = true;
  if (step >= 2) {
    if (area.latitudeMin < minLatitude) keepSouth = false;
    if (area.latitudeMax > maxLatitude) keepNorth = false;
    if (area.longitudeMin < minLongitude) keepWest = false;
    if (area.longitudeMax > maxLongitude) keepEast = false;
  }
  const neighbour = (dx: number, dy: number, keep: boolean) =>
    keep ? moved(centre, dx, dy) : undefined;
  return {
    cells: [
      centre,
      neighbour(0, 1, keepNorth),
      neighbour(0, -1, keepSouth),
      neighbour(1, 0, keepEast),
      neighbour(-1, 0, keepWest),
      neighbour(1, 1, keepNorth && keepEast),
      neighbour(-1, 1, keepNorth && keepWest),
      neighbour(1, -1, keepSouth && keepEast),
      neighbour(-1, -1, keepSouth && keepWest),
    ],
    area,
    step,
  };
}

/** Whether two cells are the same (same bits and step). */
export function sameCell(a: GeohashCell, b: GeohashCell): boolean {
  return a.step === b.step && a.latitudeIndex === b.latitudeIndex &&
    a.longitudeIndex === b.longitudeIndex;
}
