/**
 * A latency histogram with the buckets of the HdrHistogram Redis 7 keeps per
 * command (`latency-tracking`): INFO latencystats' percentiles and LATENCY
 * HISTOGRAM's cumulative distribution come out of it.
 *
 * Redis records every call's duration in nanoseconds (whole microseconds
 * times 1000) into an `hdr_histogram` tracking 1 ns to 1 s with 2
 * significant figures, and reports `hdr_value_at_percentile` and a
 * logarithmic iteration (first bucket 1024 ns, base 2). The figures it
 * prints are bucket boundaries, not the recorded values (7 µs prints as
 * `7.007`, and its LATENCY HISTOGRAM bucket is `8`), so matching Redis means
 * reproducing the bucket layout exactly, which is what this does: 2
 * significant figures give sub-buckets of 256 (the lower half shared with the
 * previous bucket), 23 buckets reach 1 s, 3072 counters in all. Recording is
 * a bit-length, a shift and an increment.
 *
 * @module
 */

/** Redis's LATENCY_HISTOGRAM_MIN_VALUE and _MAX_VALUE, in nanoseconds. */
const LOWEST_VALUE = 1;
const HIGHEST_VALUE = 1_000_000_000;
/** 2 significant figures: 2 * 10^2 = 200 values need 256 sub-buckets. */
const SUB_BUCKET_COUNT_MAGNITUDE = 8;
const SUB_BUCKET_HALF_COUNT_MAGNITUDE = SUB_BUCKET_COUNT_MAGNITUDE - 1;
const SUB_BUCKET_COUNT = 1 << SUB_BUCKET_COUNT_MAGNITUDE;
const SUB_BUCKET_HALF_COUNT = SUB_BUCKET_COUNT >> 1;
const SUB_BUCKET_MASK = SUB_BUCKET_COUNT - 1;
/** Buckets until one holds HIGHEST_VALUE: 256 << 22 > 10^9. */
const BUCKET_COUNT = 23;
const COUNTS_LENGTH = (BUCKET_COUNT + 1) * SUB_BUCKET_HALF_COUNT;
/** LATENCY HISTOGRAM's logarithmic iteration: first level and growth. */
const FIRST_REPORTING_LEVEL = 1024;

/** Number of bits needed for `value` (at least 1 for 0). */
function bitLength(value: number): number {
  return value < 2 ** 31 ? 32 - Math.clz32(value) : 32 + bitLength(Math.floor(value / 2 ** 32));
}

function bucketIndex(value: number): number {
  return bitLength(value | SUB_BUCKET_MASK) - (SUB_BUCKET_HALF_COUNT_MAGNITUDE + 1);
}

function subBucketIndex(value: number, bucket: number): number {
  return Math.floor(value / 2 ** bucket);
}

function countsIndex(bucket: number, subBucket: number): number {
  return ((bucket + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + subBucket - SUB_BUCKET_HALF_COUNT;
}

/** hdr_value_at_index: the lowest value counted at `index`. */
function valueAtIndex(index: number): number {
  let bucket = (index >> SUB_BUCKET_HALF_COUNT_MAGNITUDE) - 1;
  let subBucket = (index & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
  if (bucket < 0) {
    subBucket -= SUB_BUCKET_HALF_COUNT;
    bucket = 0;
  }
  return subBucket * 2 ** bucket;
}

/** lowest_equivalent_value: the first value of the counter `value` falls in. */
function lowestEquivalentValue(value: number): number {
  const bucket = bucketIndex(value);
  return subBucketIndex(value, bucket) * 2 ** bucket;
}

/** highest_equivalent_value: the last value of the counter `value` falls in. */
function highestEquivalentValue(value: number): number {
  const bucket = bucketIndex(value);
  const subBucket = subBucketIndex(value, bucket);
  const range = 2 ** (subBucket >= SUB_BUCKET_COUNT ? bucket + 1 : bucket);
  return lowestEquivalentValue(value) + range - 1;
}

/** A per-command latency histogram (Redis's `latency_histogram`). */
export class LatencyHistogram {
  readonly #counts = new Float64Array(COUNTS_LENGTH);
  #total = 0;

  /** Calls recorded. */
  get totalCount(): number {
    return this.#total;
  }

  /** Records one call that took `microseconds` (Redis records µs × 1000 ns, clamped to 1 ns..1 s). */
  recordMicroseconds(microseconds: number): void {
    let value = microseconds * 1000;
    if (value < LOWEST_VALUE) value = LOWEST_VALUE;
    else if (value > HIGHEST_VALUE) value = HIGHEST_VALUE;
    const bucket = bucketIndex(value);
    this.#counts[countsIndex(bucket, subBucketIndex(value, bucket))]!++;
    this.#total++;
  }

  /** hdr_value_at_percentile, in nanoseconds (INFO latencystats divides by 1000). */
  valueAtPercentile(percentile: number): number {
    const requested = percentile < 100 ? percentile : 100;
    let countAtPercentile = Math.floor(requested / 100 * this.#total + 0.5);
    if (countAtPercentile < 1) countAtPercentile = 1;
    let value = 0;
    let cumulative = 0;
    const counts = this.#counts;
    for (let index = 0; index < COUNTS_LENGTH; index++) {
      cumulative += counts[index]!;
      if (cumulative >= countAtPercentile) {
        value = valueAtIndex(index);
        break;
      }
    }
    return percentile === 0 ? lowestEquivalentValue(value) : highestEquivalentValue(value);
  }

  /**
   * LATENCY HISTOGRAM's `histogram_usec`: [microseconds, cumulative calls]
   * pairs, as Redis's fillCommandCDF walks hdr's logarithmic iterator
   * (levels 1024 ns, 2048 ns, ...) and keeps the levels where the
   * cumulative count grew. Each level is reported by the highest value of
   * the counter the iterator stopped at, in whole microseconds.
   */
  cumulativeDistribution(): [number, number][] {
    const counts = this.#counts;
    const pairs: [number, number][] = [];
    let index = -1;
    let value = 0;
    let cumulative = 0;
    let previous = 0;
    let level = FIRST_REPORTING_LEVEL;
    let levelLowest = lowestEquivalentValue(level);
    for (;;) {
      const hasNext = cumulative < this.#total;
      const beyondLevel = index + 1 < COUNTS_LENGTH && valueAtIndex(index + 1) > levelLowest;
      if (!hasNext && !beyondLevel) break;
      let reported = false;
      while (index < COUNTS_LENGTH) {
        if (index >= 0 && value >= levelLowest) {
          const micros = Math.floor(highestEquivalentValue(value) / 1000);
          if (cumulative > previous) pairs.push([micros, cumulative]);
          previous = cumulative;
          level *= 2;
          levelLowest = lowestEquivalentValue(level);
          reported = true;
          break;
        }
        index++;
        if (index >= COUNTS_LENGTH) break;
        cumulative += counts[index]!;
        value = valueAtIndex(index);
      }
      if (!reported) break;
    }
    return pairs;
  }
}
