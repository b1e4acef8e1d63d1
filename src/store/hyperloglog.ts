/**
 * HyperLogLog: Redis 7.0's HYLL strings, byte for byte (hyperloglog.c).
 *
 * A HyperLogLog in Redis is not a type of its own but a string that PFADD,
 * PFCOUNT and PFMERGE read and write in place, so users GET it, copy it to
 * another server, DUMP it or append to it, and expect the bytes to be
 * Redis's. That fixes everything here: the 16-byte header ("HYLL", the
 * encoding byte, three unused bytes, the cached cardinality in 8
 * little-endian bytes whose top bit marks the cache stale), the two register
 * encodings (dense: 16384 6-bit registers packed LSB first; sparse: the
 * ZERO/XZERO/VAL run-length opcodes), the hash (MurmurHash64A, seed
 * 0xadc83b19, register index from the low 14 bits, run length from the
 * other 50), the in-place sparse edits of `hllSparseSet` including its
 * opcode merging and its promotion to dense (a value above 32, or growth
 * past `hll-sparse-max-bytes`), and 7.0's cardinality estimator (Ertl's
 * improved estimator: `hllCount` over the register histogram with
 * `hllSigma`/`hllTau`), rounded as `llroundl` rounds.
 *
 * Shape: `HyperLogLog` owns a mutable byte buffer with spare capacity, so
 * PFADD on a dense HLL updates 6 bits in place instead of rebuilding a 12 KB
 * string, and a growing sparse HLL shifts a few bytes. `toBinary()` gives the
 * string form (cached until the next change) for GET and friends;
 * `HyperLogLog.fromBinary` validates and copies a string once, as Redis's
 * `isHLLObjectOrReply` does before any PF command touches it. The register
 * maximum PFMERGE and multi-key PFCOUNT compute (Redis's internal HLL_RAW
 * encoding) is `HyperLogLogUnion`.
 *
 * The hash is computed with 32-bit halves (Math.imul and 16-bit limbs)
 * rather than BigInt: PFADD hashes every element, and BigInt arithmetic
 * allocates on each step.
 *
 * Errors: a string that is not an HLL makes `fromBinary` return undefined
 * (the command replies `NOT_A_HYPERLOGLOG_ERROR`); a corrupted one throws
 * `CorruptedHyperLogLogError` (whose message is Redis's INVALIDOBJ reply)
 * from the operation that trips over it, after whatever changes Redis would
 * also have made up to that point. What counts as corrupted follows the
 * redis-server 7.0.15 we compare with (Debian's, which carries the
 * CVE-2025-32023 fix): decoding a sparse HLL (PFCOUNT, PFMERGE, TODENSE)
 * requires its opcodes to cover exactly 16384 registers, while PFADD only
 * walks up to the register it changes. Hand-made strings are compared too:
 * even the byte Redis leaves just past the end of a sparse string (see
 * `#bytes`) is reproduced.
 *
 * @module
 */

import { bytesToBinary } from "../protocol/binary.ts";

/** Number of registers (2^14). */
export const HLL_REGISTERS = 16384;
/** Bytes of the header both encodings start with. */
export const HLL_HEADER_SIZE = 16;
/** Length of a dense HLL string: the header and 16384 6-bit registers. */
export const HLL_DENSE_SIZE = HLL_HEADER_SIZE + (HLL_REGISTERS * 6) / 8;
/** Redis's default `hll-sparse-max-bytes`. */
export const DEFAULT_SPARSE_MAX_BYTES = 3000;

/** PFADD/PFCOUNT/PFMERGE on a string that is not an HLL. */
export const NOT_A_HYPERLOGLOG_ERROR = "WRONGTYPE Key is not a valid HyperLogLog string value.";
/** An HLL whose registers cannot be decoded (Redis's `invalid_hll_err`). */
export const CORRUPTED_HYPERLOGLOG_ERROR = "INVALIDOBJ Corrupted HLL object detected";
/** PFDEBUG DECODE on a dense HLL. */
export const HLL_NOT_SPARSE_ERROR = "ERR HLL encoding is not sparse";
/** PFDEBUG on a missing key. */
export const PFDEBUG_NO_SUCH_KEY_ERROR = "ERR The specified key does not exist";

/**
 * PFDEBUG with an unknown subcommand, as the client spelled it. Redis looks
 * the key up first, so a missing key or a non-HLL gives those errors instead.
 */
export function unknownPfdebugSubcommand(subcommand: string): string {
  return `ERR Unknown PFDEBUG subcommand '${subcommand}'`;
}

/** Thrown when an HLL's registers cannot be decoded; the message is Redis's reply. */
export class CorruptedHyperLogLogError extends Error {
  constructor() {
    super(CORRUPTED_HYPERLOGLOG_ERROR);
    this.name = "CorruptedHyperLogLogError";
  }
}

const INDEX_BITS = 14;
const INDEX_MASK = HLL_REGISTERS - 1;
/** Bits of the hash left for the run length (HLL_Q). */
const RUN_BITS = 64 - INDEX_BITS;
const REGISTER_BITS = 6;
const REGISTER_MAX = (1 << REGISTER_BITS) - 1;
const DENSE = 0;
const SPARSE = 1;
const MAX_ENCODING = SPARSE;
const ENCODING_OFFSET = 4;
const CARDINALITY_OFFSET = 8;
/** Top bit of the cached cardinality's last byte: set when the cache is stale. */
const STALE_CACHE_BIT = 0x80;

const SPARSE_XZERO_BIT = 0x40;
const SPARSE_VAL_BIT = 0x80;
const SPARSE_VAL_MAX_VALUE = 32;
const SPARSE_VAL_MAX_LEN = 4;
const SPARSE_ZERO_MAX_LEN = 64;
const SPARSE_XZERO_MAX_LEN = 16384;

/** 0.5 / ln(2): the estimator's constant for m -> infinity (HLL_ALPHA_INF). */
const ALPHA_INF = 0.721347520444481703680;
const MURMUR_SEED = 0xadc83b19;
const TWO_POW_32 = 4294967296;
const TWO_POW_63 = 9223372036854775808;
/** What `(uint64_t)(double)llroundl(x)` yields when x is out of range: 2^63. */
const OUT_OF_RANGE_CARDINALITY = -9223372036854775808;

// ---------------------------------------------------------------------------
// MurmurHash64A in 32-bit halves

/** The multiplier m = 0xc6a4a7935bd1e995 in halves and 16-bit limbs of its low half. */
const M_HIGH = 0xc6a4a793;
const M_LOW = 0x5bd1e995;
const M_LOW_0 = M_LOW & 0xffff;
const M_LOW_1 = M_LOW >>> 16;

/** Scratch result of `multiplyByM`: avoids allocating a pair per step. */
let productHigh = 0;
let productLow = 0;

/** (high:low) * m mod 2^64, into productHigh/productLow. */
function multiplyByM(high: number, low: number): void {
  // The high half of low * M_LOW from 16-bit limbs; every partial sum stays below 2^32.
  const a0 = low & 0xffff;
  const a1 = low >>> 16;
  const bottom = a0 * M_LOW_0;
  const middle1 = a1 * M_LOW_0 + (bottom >>> 16);
  const middle2 = a0 * M_LOW_1 + (middle1 & 0xffff);
  const carry = a1 * M_LOW_1 + (middle1 >>> 16) + (middle2 >>> 16);
  productLow = Math.imul(low, M_LOW) >>> 0;
  productHigh = (carry + Math.imul(high, M_LOW) + Math.imul(low, M_HIGH)) >>> 0;
}

/**
 * MurmurHash64A of a binary string's bytes, as hyperloglog.c computes it
 * (little-endian 8-byte blocks), returned as `[high, low]` 32-bit halves.
 */
export function murmurHash64A(element: string, seed: number = MURMUR_SEED): [number, number] {
  hashInto(element, seed);
  return [hashHigh, hashLow];
}

let hashHigh = 0;
let hashLow = 0;

function hashInto(element: string, seed: number): void {
  const length = element.length;
  // h = seed ^ (len * m)
  multiplyByM(0, length);
  let high = productHigh;
  let low = (productLow ^ seed) >>> 0;
  const blocksEnd = length - (length & 7);
  let i = 0;
  for (; i < blocksEnd; i += 8) {
    const kLow = (element.charCodeAt(i) | (element.charCodeAt(i + 1) << 8) |
      (element.charCodeAt(i + 2) << 16) | (element.charCodeAt(i + 3) << 24)) >>> 0;
    const kHigh = (element.charCodeAt(i + 4) | (element.charCodeAt(i + 5) << 8) |
      (element.charCodeAt(i + 6) << 16) | (element.charCodeAt(i + 7) << 24)) >>> 0;
    multiplyByM(kHigh, kLow);
    // k ^= k >> 47
    multiplyByM(productHigh, (productLow ^ (productHigh >>> 15)) >>> 0);
    multiplyByM((high ^ productHigh) >>> 0, (low ^ productLow) >>> 0);
    high = productHigh;
    low = productLow;
  }
  const tail = length & 7;
  if (tail > 0) {
    if (tail >= 7) high ^= element.charCodeAt(i + 6) << 16;
    if (tail >= 6) high ^= element.charCodeAt(i + 5) << 8;
    if (tail >= 5) high ^= element.charCodeAt(i + 4);
    if (tail >= 4) low ^= element.charCodeAt(i + 3) << 24;
    if (tail >= 3) low ^= element.charCodeAt(i + 2) << 16;
    if (tail >= 2) low ^= element.charCodeAt(i + 1) << 8;
    low ^= element.charCodeAt(i);
    multiplyByM(high >>> 0, low >>> 0);
    high = productHigh;
    low = productLow;
  }
  multiplyByM(high, (low ^ (high >>> 15)) >>> 0);
  hashHigh = productHigh;
  hashLow = (productLow ^ (productHigh >>> 15)) >>> 0;
}

/**
 * The register an element lands in and the length of its "000...1" run
 * (hllPatLen), packed as `run * HLL_REGISTERS + index` to stay allocation
 * free. The run is 1 to 51.
 */
function patternOf(element: string): number {
  hashInto(element, MURMUR_SEED);
  const index = hashLow & INDEX_MASK;
  // hash >>= 14, then bit 50 set so the run ends by then.
  const low = ((hashLow >>> INDEX_BITS) | (hashHigh << (32 - INDEX_BITS))) >>> 0;
  const high = (hashHigh >>> INDEX_BITS) | (1 << (RUN_BITS - 32));
  const run = low !== 0 ? countTrailingZeros(low) + 1 : countTrailingZeros(high) + 33;
  return run * HLL_REGISTERS + index;
}

function countTrailingZeros(value: number): number {
  return 31 - Math.clz32(value & -value);
}

/** The register index and run length PFADD derives from `element` (for tests and debugging). */
export function registerOf(element: string): { index: number; run: number } {
  const packed = patternOf(element);
  return { index: packed & INDEX_MASK, run: Math.floor(packed / HLL_REGISTERS) };
}

// ---------------------------------------------------------------------------
// Dense registers (offsets include the header)

function denseGet(bytes: Uint8Array, index: number): number {
  const bit = index * REGISTER_BITS;
  const byte = HLL_HEADER_SIZE + (bit >>> 3);
  const shift = bit & 7;
  return ((bytes[byte]! >>> shift) | (bytes[byte + 1]! << (8 - shift))) & REGISTER_MAX;
}

function denseSet(bytes: Uint8Array, index: number, value: number): void {
  const bit = index * REGISTER_BITS;
  const byte = HLL_HEADER_SIZE + (bit >>> 3);
  const shift = bit & 7;
  bytes[byte] = (bytes[byte]! & ~(REGISTER_MAX << shift)) | (value << shift);
  bytes[byte + 1] = (bytes[byte + 1]! & ~(REGISTER_MAX >>> (8 - shift))) | (value >>> (8 - shift));
}

/** hllDenseRegHisto: how many registers hold each value. */
function denseHistogram(bytes: Uint8Array, histogram: Int32Array): void {
  for (let r = HLL_HEADER_SIZE, end = HLL_DENSE_SIZE; r < end; r += 3) {
    const b0 = bytes[r]!;
    const b1 = bytes[r + 1]!;
    const b2 = bytes[r + 2]!;
    histogram[b0 & 63]!++;
    histogram[((b0 >>> 6) | (b1 << 2)) & 63]!++;
    histogram[((b1 >>> 4) | (b2 << 4)) & 63]!++;
    histogram[b2 >>> 2]!++;
  }
}

// ---------------------------------------------------------------------------
// Sparse opcodes

function isZero(byte: number): boolean {
  return (byte & 0xc0) === 0;
}

function isXZero(byte: number): boolean {
  return (byte & 0xc0) === SPARSE_XZERO_BIT;
}

function zeroLength(byte: number): number {
  return (byte & 0x3f) + 1;
}

function xzeroLength(byte: number, next: number): number {
  return (((byte & 0x3f) << 8) | next) + 1;
}

function valValue(byte: number): number {
  return ((byte >>> 2) & 0x1f) + 1;
}

function valLength(byte: number): number {
  return (byte & 0x3) + 1;
}

function valOpcode(value: number, length: number): number {
  return (((value - 1) << 2) | (length - 1)) | SPARSE_VAL_BIT;
}

// ---------------------------------------------------------------------------
// The estimator

/** hllSigma: the series for the zero-register correction. */
function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let previous: number;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (previous !== z);
  return z;
}

/** hllTau: the series for the saturated-register correction. */
function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let previous: number;
  do {
    x = Math.sqrt(x);
    previous = z;
    y *= 0.5;
    const gap = 1 - x;
    z -= gap * gap * y;
  } while (previous !== z);
  return z / 3;
}

/**
 * hllCount's estimate from a register histogram (Ertl, "New cardinality
 * estimation algorithms for HyperLogLog sketches"), as the integer Redis
 * gets from `(uint64_t)(double)llroundl(...)`: exact for any finite
 * estimate below 2^63, and 2^63 (reported as -2^63, as PFCOUNT prints it)
 * when the estimate is infinite or too large.
 */
function estimate(histogram: Int32Array): number {
  const m = HLL_REGISTERS;
  let z = m * tau((m - histogram[RUN_BITS + 1]!) / m);
  for (let j = RUN_BITS; j >= 1; j--) {
    z += histogram[j]!;
    z *= 0.5;
  }
  z += m * sigma(histogram[0]! / m);
  const raw = ALPHA_INF * m * m / z;
  if (!(raw < TWO_POW_63)) return OUT_OF_RANGE_CARDINALITY;
  // llroundl: halves round away from zero (raw is positive).
  return roundHalfAway(raw);
}

/** An estimate as PFCOUNT prints it: a bigint when a double cannot hold it exactly. */
function asReplyInteger(cardinality: number): number | bigint {
  if (cardinality === OUT_OF_RANGE_CARDINALITY) return -(2n ** 63n);
  return Number.isSafeInteger(cardinality) ? cardinality : BigInt(cardinality);
}

/** Nearest integer, halves up; exact for every double (value - floor loses nothing). */
function roundHalfAway(value: number): number {
  const floor = Math.floor(value);
  return value - floor >= 0.5 ? floor + 1 : floor;
}

// ---------------------------------------------------------------------------
// HyperLogLog

/**
 * One HLL string, mutable in place.
 *
 * @example
 * ```ts
 * const hll = HyperLogLog.create();
 * hll.addElements(["a", "b", "c"]); // true
 * hll.count().cardinality; // 3
 * hll.toBinary(); // "HYLL\x01..." exactly as Redis's GET returns it
 * ```
 */
export class HyperLogLog {
  /**
   * The string's bytes and at least one byte more: the byte at `#length` is
   * what Redis's sds buffer holds there (normally the zero terminator, but an
   * edit of a truncated trailing XZERO leaves a byte there, and Redis reads
   * it back as that opcode's second byte), so it is kept exactly.
   */
  #bytes: Uint8Array;
  #length: number;
  #binary: string | undefined;

  private constructor(bytes: Uint8Array, length: number) {
    this.#bytes = bytes;
    this.#length = length;
  }

  /**
   * An empty HLL as PFADD/PFMERGE create it for a missing key
   * (createHLLObject): sparse, one XZERO:16384, cached cardinality 0.
   *
   * PFADD on a missing key counts the creation as an update: it replies 1
   * and leaves the cache stale even with no elements, so call
   * `invalidateCache()` after `addElements` there.
   */
  static create(): HyperLogLog {
    const bytes = new Uint8Array(64);
    bytes.set([0x48, 0x59, 0x4c, 0x4c, SPARSE]);
    const length = HLL_HEADER_SIZE + 2;
    const run = SPARSE_XZERO_MAX_LEN - 1;
    bytes[HLL_HEADER_SIZE] = (run >>> 8) | SPARSE_XZERO_BIT;
    bytes[HLL_HEADER_SIZE + 1] = run & 0xff;
    return new HyperLogLog(bytes, length);
  }

  /**
   * The HLL a string value holds, or undefined when it is not one (too
   * short, no "HYLL" magic, an unknown encoding, or a dense one of the wrong
   * length): the caller replies `NOT_A_HYPERLOGLOG_ERROR`. Copies the bytes.
   */
  static fromBinary(value: string): HyperLogLog | undefined {
    if (!HyperLogLog.isHyperLogLog(value)) return undefined;
    const length = value.length;
    const bytes = new Uint8Array(capacityFor(length));
    // A plain loop: measured faster here than Buffer's latin1Write for 12 KB.
    for (let i = 0; i < length; i++) bytes[i] = value.charCodeAt(i);
    const hll = new HyperLogLog(bytes, length);
    hll.#binary = value;
    return hll;
  }

  /** Like `fromBinary`, from bytes (copied). */
  static fromBytes(value: Uint8Array): HyperLogLog | undefined {
    if (!isHyperLogLogHeader(value.byteLength, (i) => value[i]!)) return undefined;
    const bytes = new Uint8Array(capacityFor(value.byteLength));
    bytes.set(value);
    return new HyperLogLog(bytes, value.byteLength);
  }

  /** Whether a string passes Redis's isHLLObjectOrReply checks. */
  static isHyperLogLog(value: string): boolean {
    return isHyperLogLogHeader(value.length, (i) => value.charCodeAt(i));
  }

  /** "dense" or "sparse", as PFDEBUG ENCODING says. */
  get encoding(): "dense" | "sparse" {
    return this.#bytes[ENCODING_OFFSET] === DENSE ? "dense" : "sparse";
  }

  /** Length of the string form. */
  get byteLength(): number {
    return this.#length;
  }

  /** The string form (what GET returns); cached until the next change. */
  toBinary(): string {
    this.#binary ??= bytesToBinary(this.#bytes.subarray(0, this.#length));
    return this.#binary;
  }

  /** A copy of the string form's bytes. */
  toBytes(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }

  /** A deep copy (for COPY, or a value shared by two keys). */
  clone(): HyperLogLog {
    const copy = new HyperLogLog(this.#bytes.slice(), this.#length);
    copy.#binary = this.#binary;
    return copy;
  }

  /**
   * The cached cardinality, or undefined when stale. A bigint only for
   * hand-made strings whose cache exceeds 2^53.
   */
  get cachedCardinality(): number | bigint | undefined {
    const bytes = this.#bytes;
    if ((bytes[CARDINALITY_OFFSET + 7]! & STALE_CACHE_BIT) !== 0) return undefined;
    let low = 0;
    let high = 0;
    for (let i = 3; i >= 0; i--) {
      low = low * 256 + bytes[CARDINALITY_OFFSET + i]!;
      high = high * 256 + bytes[CARDINALITY_OFFSET + 4 + i]!;
    }
    const value = high * TWO_POW_32 + low;
    return Number.isSafeInteger(value) ? value : (BigInt(high) << 32n) | BigInt(low);
  }

  /** Marks the cached cardinality stale (HLL_INVALIDATE_CACHE). */
  invalidateCache(): void {
    this.#bytes[CARDINALITY_OFFSET + 7]! |= STALE_CACHE_BIT;
    this.#binary = undefined;
  }

  /**
   * hllAdd: folds one element in. Returns whether a register grew. May
   * promote a sparse HLL to dense. Throws `CorruptedHyperLogLogError` on a
   * corrupted sparse HLL. Does not touch the cache on a dense HLL (PFADD
   * invalidates it once at the end, see `addElements`).
   */
  add(element: string, sparseMaxBytes: number = DEFAULT_SPARSE_MAX_BYTES): boolean {
    const packed = patternOf(element);
    const index = packed & INDEX_MASK;
    const run = Math.floor(packed / HLL_REGISTERS);
    if (this.#bytes[ENCODING_OFFSET] === DENSE) return this.#denseSet(index, run);
    return this.#sparseSet(index, run, sparseMaxBytes);
  }

  /**
   * PFADD's loop over its elements: returns whether any register changed
   * (the reply 1), and then invalidates the cache. A corruption throws
   * midway, leaving the changes already made, as Redis does.
   */
  addElements(elements: Iterable<string>, sparseMaxBytes = DEFAULT_SPARSE_MAX_BYTES): boolean {
    let updated = false;
    for (const element of elements) {
      if (this.add(element, sparseMaxBytes)) updated = true;
    }
    if (updated) this.invalidateCache();
    return updated;
  }

  /**
   * PFCOUNT on this key alone: the cached cardinality when valid, otherwise
   * the estimate, which is then written to the cache. `cacheUpdated` says
   * the string changed (Redis then signals the key and propagates PFCOUNT).
   * Throws `CorruptedHyperLogLogError` on a corrupted sparse HLL.
   */
  count(): { cardinality: number | bigint; cacheUpdated: boolean } {
    const cached = this.cachedCardinality;
    if (cached !== undefined) return { cardinality: cached, cacheUpdated: false };
    const histogram = new Int32Array(64);
    this.#histogram(histogram);
    const cardinality = estimate(histogram);
    this.#writeCache(cardinality);
    return { cardinality: asReplyInteger(cardinality), cacheUpdated: true };
  }

  /**
   * hllCount: the estimate, ignoring and not touching the cache. A bigint
   * only beyond 2^53 (saturated registers give -2^63, as in Redis).
   */
  estimate(): number | bigint {
    const histogram = new Int32Array(64);
    this.#histogram(histogram);
    return asReplyInteger(estimate(histogram));
  }

  #histogram(histogram: Int32Array): void {
    if (this.#bytes[ENCODING_OFFSET] === DENSE) {
      denseHistogram(this.#bytes, histogram);
    } else if (!this.#sparseHistogram(histogram)) {
      throw new CorruptedHyperLogLogError();
    }
  }

  /**
   * hllSparseToDense (PFDEBUG TODENSE): converts in place; returns whether
   * it was sparse. Throws `CorruptedHyperLogLogError` when the opcodes do not
   * cover exactly 16384 registers (the HLL is then left as it was).
   */
  toDense(): boolean {
    const source = this.#bytes;
    if (source[ENCODING_OFFSET] === DENSE) return false;
    const dense = new Uint8Array(HLL_DENSE_SIZE + 1);
    // The whole header, cached cardinality and unused bytes included.
    dense.set(source.subarray(0, HLL_HEADER_SIZE));
    dense[ENCODING_OFFSET] = DENSE;
    const end = this.#length;
    let index = 0;
    let p = HLL_HEADER_SIZE;
    while (p < end) {
      const byte = source[p]!;
      if (isZero(byte)) {
        index += zeroLength(byte);
        p++;
      } else if (isXZero(byte)) {
        index += xzeroLength(byte, source[p + 1]!);
        p += 2;
      } else {
        let run = valLength(byte);
        const value = valValue(byte);
        if (run + index > HLL_REGISTERS) throw new CorruptedHyperLogLogError();
        while (run-- > 0) denseSet(dense, index++, value);
        p++;
      }
    }
    if (index !== HLL_REGISTERS) throw new CorruptedHyperLogLogError();
    this.#bytes = dense;
    this.#length = HLL_DENSE_SIZE;
    this.#binary = undefined;
    return true;
  }

  /**
   * PFDEBUG GETREG: the 16384 register values. Converts a sparse HLL to
   * dense first, as Redis does (`converted` then says the key changed).
   */
  debugRegisters(): { registers: Uint8Array; converted: boolean } {
    const converted = this.toDense();
    const registers = new Uint8Array(HLL_REGISTERS);
    for (let i = 0; i < HLL_REGISTERS; i++) registers[i] = denseGet(this.#bytes, i);
    return { registers, converted };
  }

  /**
   * PFDEBUG DECODE: the sparse opcodes as text (`Z:8436 v:1,1 z:3 ...`), or
   * undefined for a dense HLL (the reply is then `HLL_NOT_SPARSE_ERROR`).
   */
  debugDecode(): string | undefined {
    const bytes = this.#bytes;
    if (bytes[ENCODING_OFFSET] !== SPARSE) return undefined;
    const parts: string[] = [];
    const end = this.#length;
    let p = HLL_HEADER_SIZE;
    while (p < end) {
      const byte = bytes[p]!;
      if (isZero(byte)) {
        parts.push(`z:${zeroLength(byte)}`);
        p++;
      } else if (isXZero(byte)) {
        parts.push(`Z:${xzeroLength(byte, bytes[p + 1]!)}`);
        p += 2;
      } else {
        parts.push(`v:${valValue(byte)},${valLength(byte)}`);
        p++;
      }
    }
    return parts.join(" ");
  }

  /** hllMerge into a register maximum; throws on a corrupted sparse HLL. */
  mergeInto(maximum: Uint8Array): void {
    const bytes = this.#bytes;
    if (bytes[ENCODING_OFFSET] === DENSE) {
      // Four 6-bit registers per three bytes, as denseHistogram reads them.
      for (let r = HLL_HEADER_SIZE, i = 0; r < HLL_DENSE_SIZE; r += 3, i += 4) {
        const b0 = bytes[r]!;
        const b1 = bytes[r + 1]!;
        const b2 = bytes[r + 2]!;
        const v0 = b0 & 63;
        const v1 = ((b0 >>> 6) | (b1 << 2)) & 63;
        const v2 = ((b1 >>> 4) | (b2 << 4)) & 63;
        const v3 = b2 >>> 2;
        if (v0 > maximum[i]!) maximum[i] = v0;
        if (v1 > maximum[i + 1]!) maximum[i + 1] = v1;
        if (v2 > maximum[i + 2]!) maximum[i + 2] = v2;
        if (v3 > maximum[i + 3]!) maximum[i + 3] = v3;
      }
      return;
    }
    const end = this.#length;
    let index = 0;
    let p = HLL_HEADER_SIZE;
    while (p < end) {
      const byte = bytes[p]!;
      if (isZero(byte)) {
        index += zeroLength(byte);
        p++;
      } else if (isXZero(byte)) {
        index += xzeroLength(byte, bytes[p + 1]!);
        p += 2;
      } else {
        let run = valLength(byte);
        const value = valValue(byte);
        if (run + index > HLL_REGISTERS) throw new CorruptedHyperLogLogError();
        while (run-- > 0) {
          if (value > maximum[index]!) maximum[index] = value;
          index++;
        }
        p++;
      }
    }
    if (index !== HLL_REGISTERS) throw new CorruptedHyperLogLogError();
  }

  /**
   * Raises register `index` to at least `value` in whichever encoding the
   * HLL has at that moment (PFMERGE's write loop). Returns whether it grew.
   */
  setRegister(index: number, value: number, sparseMaxBytes = DEFAULT_SPARSE_MAX_BYTES): boolean {
    if (this.#bytes[ENCODING_OFFSET] === DENSE) return this.#denseSet(index, value);
    return this.#sparseSet(index, value, sparseMaxBytes);
  }

  #writeCache(cardinality: number): void {
    const bytes = this.#bytes;
    if (cardinality === OUT_OF_RANGE_CARDINALITY) {
      bytes.fill(0, CARDINALITY_OFFSET, CARDINALITY_OFFSET + 7);
      bytes[CARDINALITY_OFFSET + 7] = 0x80;
    } else {
      let low = cardinality % TWO_POW_32;
      let high = Math.floor(cardinality / TWO_POW_32);
      for (let i = 0; i < 4; i++) {
        bytes[CARDINALITY_OFFSET + i] = low & 0xff;
        bytes[CARDINALITY_OFFSET + 4 + i] = high & 0xff;
        low = Math.floor(low / 256);
        high = Math.floor(high / 256);
      }
    }
    this.#binary = undefined;
  }

  #denseSet(index: number, value: number): boolean {
    if (value <= denseGet(this.#bytes, index)) return false;
    denseSet(this.#bytes, index, value);
    this.#binary = undefined;
    return true;
  }

  /** hllSparseRegHisto; false when the opcodes do not cover exactly 16384 registers. */
  #sparseHistogram(histogram: Int32Array): boolean {
    const bytes = this.#bytes;
    const end = this.#length;
    let index = 0;
    let p = HLL_HEADER_SIZE;
    while (p < end) {
      const byte = bytes[p]!;
      if (isZero(byte)) {
        const run = zeroLength(byte);
        index += run;
        histogram[0]! += run;
        p++;
      } else if (isXZero(byte)) {
        const run = xzeroLength(byte, bytes[p + 1]!);
        index += run;
        histogram[0]! += run;
        p += 2;
      } else {
        const run = valLength(byte);
        index += run;
        histogram[valValue(byte)]! += run;
        p++;
      }
    }
    return index === HLL_REGISTERS;
  }

  /** Makes room for `extra` more bytes (plus the zero terminator). */
  #reserve(extra: number): void {
    const needed = this.#length + extra + 1;
    if (needed <= this.#bytes.byteLength) return;
    const grown = new Uint8Array(capacityFor(needed));
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
  }

  /**
   * hllSparseSet: raises register `index` to `count` by editing the opcodes
   * in place, exactly as Redis does (so the resulting bytes agree), or
   * promotes to dense when the value does not fit a VAL opcode or the string
   * would outgrow `sparseMaxBytes`.
   */
  #sparseSet(index: number, count: number, sparseMaxBytes: number): boolean {
    if (count > SPARSE_VAL_MAX_VALUE) return this.#promote(index, count);
    this.#reserve(3);
    const bytes = this.#bytes;
    const sparse = HLL_HEADER_SIZE;
    let end = this.#length;

    // Step 1: find the opcode covering `index`.
    let p = sparse;
    let first = 0;
    let previous = -1;
    let span = 0;
    while (p < end) {
      const byte = bytes[p]!;
      let opcodeLength = 1;
      if (isZero(byte)) {
        span = zeroLength(byte);
      } else if ((byte & SPARSE_VAL_BIT) !== 0) {
        span = valLength(byte);
      } else {
        span = xzeroLength(byte, bytes[p + 1]!);
        opcodeLength = 2;
      }
      if (index <= first + span - 1) break;
      previous = p;
      p += opcodeLength;
      first += span;
    }
    if (span === 0 || p >= end) throw new CorruptedHyperLogLogError();

    const opcode = bytes[p]!;
    let next = isXZero(opcode) ? p + 2 : p + 1;
    if (next >= end) next = -1;
    const zero = isZero(opcode);
    const xzero = isXZero(opcode);
    const runLength = zero
      ? zeroLength(opcode)
      : xzero
      ? xzeroLength(opcode, bytes[p + 1]!)
      : valLength(opcode);

    // Step 2: the cases that need no split.
    let simple = false;
    if (!zero && !xzero) {
      const oldCount = valValue(opcode);
      if (oldCount >= count) return false;
      if (runLength === 1) {
        bytes[p] = valOpcode(count, 1);
        simple = true;
      }
    }
    if (!simple && zero && runLength === 1) {
      bytes[p] = valOpcode(count, 1);
      simple = true;
    }

    if (!simple) {
      // The general case: split the opcode into up to three.
      const sequence: number[] = [];
      const last = first + span - 1;
      if (zero || xzero) {
        if (index !== first) pushZeros(sequence, index - first);
        sequence.push(valOpcode(count, 1));
        if (index !== last) pushZeros(sequence, last - index);
      } else {
        const current = valValue(opcode);
        if (index !== first) sequence.push(valOpcode(current, index - first));
        sequence.push(valOpcode(count, 1));
        if (index !== last) sequence.push(valOpcode(current, last - index));
      }

      // Step 3: substitute the new sequence for the old opcode.
      const oldLength = xzero ? 2 : 1;
      const delta = sequence.length - oldLength;
      if (delta > 0 && this.#length + delta > sparseMaxBytes) return this.#promote(index, count);
      if (delta !== 0 && next >= 0) bytes.copyWithin(next + delta, next, end);
      // In Redis's order: the new length (and its terminator) first, then the
      // sequence, which overwrites the terminator when the opcode was an XZERO
      // cut short at the very end; that byte is then read as its second half.
      this.#length += delta;
      end += delta;
      bytes[end] = 0;
      for (let i = 0; i < sequence.length; i++) bytes[p + i] = sequence[i]!;
    }

    // Step 4: merge adjacent VAL opcodes with equal values, scanning up to
    // five opcodes from the one before the change.
    p = previous >= 0 ? previous : sparse;
    let scan = 5;
    while (p < end && scan-- > 0) {
      const byte = bytes[p]!;
      if (isXZero(byte)) {
        p += 2;
        continue;
      } else if (isZero(byte)) {
        p++;
        continue;
      }
      if (p + 1 < end && (bytes[p + 1]! & SPARSE_VAL_BIT) !== 0) {
        const value = valValue(byte);
        const following = bytes[p + 1]!;
        if (value === valValue(following)) {
          const length = valLength(byte) + valLength(following);
          if (length <= SPARSE_VAL_MAX_LEN) {
            bytes[p + 1] = valOpcode(value, length);
            bytes.copyWithin(p, p + 1, end + 1);
            end--;
            this.#length--;
            bytes[end] = 0;
            continue;
          }
        }
      }
      p++;
    }
    this.invalidateCache();
    return true;
  }

  #promote(index: number, count: number): boolean {
    this.toDense();
    // A promotion only happens when the register must grow.
    this.#denseSet(index, count);
    return true;
  }
}

/** Appends a ZERO or XZERO opcode for `length` zero registers. */
function pushZeros(sequence: number[], length: number): void {
  if (length > SPARSE_ZERO_MAX_LEN) {
    const run = length - 1;
    sequence.push((run >>> 8) | SPARSE_XZERO_BIT, run & 0xff);
  } else {
    sequence.push(length - 1);
  }
}

function capacityFor(length: number): number {
  return length >= HLL_DENSE_SIZE
    ? length + 1
    : Math.max(64, 2 ** Math.ceil(Math.log2(length + 4)));
}

function isHyperLogLogHeader(length: number, byteAt: (index: number) => number): boolean {
  if (length < HLL_HEADER_SIZE) return false;
  if (byteAt(0) !== 0x48 || byteAt(1) !== 0x59 || byteAt(2) !== 0x4c || byteAt(3) !== 0x4c) {
    return false;
  }
  const encoding = byteAt(ENCODING_OFFSET);
  if (encoding > MAX_ENCODING) return false;
  return encoding !== DENSE || length === HLL_DENSE_SIZE;
}

/**
 * The register-wise maximum of several HLLs (Redis's HLL_RAW), for PFCOUNT
 * over several keys and for PFMERGE.
 *
 * @example
 * ```ts
 * const union = new HyperLogLogUnion();
 * for (const hll of [first, second]) union.add(hll); // may throw CorruptedHyperLogLogError
 * union.count(); // PFCOUNT first second
 * ```
 */
export class HyperLogLogUnion {
  readonly #maximum = new Uint8Array(HLL_REGISTERS);
  #sawDense = false;

  /** Folds in one HLL (hllMerge). Throws `CorruptedHyperLogLogError`. */
  add(hll: HyperLogLog): void {
    if (hll.encoding === "dense") this.#sawDense = true;
    hll.mergeInto(this.#maximum);
  }

  /** Whether any HLL added was dense (PFMERGE then writes a dense result). */
  get sawDense(): boolean {
    return this.#sawDense;
  }

  /** The register maxima so far. */
  get registers(): Uint8Array {
    return this.#maximum;
  }

  /** hllCount of the union (multi-key PFCOUNT; no cache involved). */
  count(): number | bigint {
    const histogram = new Int32Array(64);
    const maximum = this.#maximum;
    for (let i = 0; i < HLL_REGISTERS; i++) histogram[maximum[i]!]!++;
    return asReplyInteger(estimate(histogram));
  }

  /**
   * PFMERGE's write into `destination` (which, when it existed, must have
   * been `add`ed first, as Redis includes it among the sources): converts it
   * to dense if any source was dense, raises its registers to the maxima in
   * index order (a sparse destination may be promoted on the way), and
   * invalidates its cache. Throws `CorruptedHyperLogLogError`.
   */
  storeInto(destination: HyperLogLog, sparseMaxBytes = DEFAULT_SPARSE_MAX_BYTES): void {
    if (this.#sawDense) destination.toDense();
    const maximum = this.#maximum;
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const value = maximum[i]!;
      if (value !== 0) destination.setRegister(i, value, sparseMaxBytes);
    }
    destination.invalidateCache();
  }
}

/**
 * PFSELFTEST, scaled: checks that every register keeps its value without
 * disturbing its neighbours (`registerCycles` rounds of random values), then
 * that sparse and dense HLLs agree and stay within 6 standard errors at
 * cardinalities 1, 10, 100, ... up to `maxCardinality`. Redis runs 1000
 * cycles and 10 million elements (0.3 s there); the default here stops at 1
 * million, which takes about as long, since PFSELFTEST blocks the server.
 * Returns undefined on success, or Redis's TESTFAILED error text.
 */
export function hyperLogLogSelfTest(
  options: { registerCycles?: number; maxCardinality?: number; random?: () => number } = {},
): string | undefined {
  const { registerCycles = 1000, maxCardinality = 1_000_000, random = Math.random } = options;
  const dense = new Uint8Array(HLL_DENSE_SIZE + 1);
  const expected = new Uint8Array(HLL_REGISTERS);
  for (let cycle = 0; cycle < registerCycles; cycle++) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const value = Math.floor(random() * 64);
      expected[i] = value;
      denseSet(dense, i, value);
    }
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const value = denseGet(dense, i);
      if (value !== expected[i]) {
        return `ERR TESTFAILED Register ${i} should be ${expected[i]} but is ${value}`;
      }
    }
  }

  const denseHll = HyperLogLog.create();
  denseHll.toDense();
  const sparseHll = HyperLogLog.create();
  const relativeError = 1.04 / Math.sqrt(HLL_REGISTERS);
  const seedLow = Math.floor(random() * TWO_POW_32);
  const seedHigh = Math.floor(random() * TWO_POW_32);
  let checkpoint = 1;
  for (let j = 1; j <= maxCardinality; j++) {
    const element = uint64Bytes((j % TWO_POW_32) ^ seedLow, Math.floor(j / TWO_POW_32) ^ seedHigh);
    denseHll.add(element);
    sparseHll.add(element);
    if (j !== checkpoint) continue;
    if (j < DEFAULT_SPARSE_MAX_BYTES / 2 && sparseHll.encoding !== "sparse") {
      return "ERR TESTFAILED sparse encoding not used";
    }
    const denseCount = Number(denseHll.estimate());
    if (denseCount !== Number(sparseHll.estimate())) return "ERR TESTFAILED dense/sparse disagree";
    let maxError = Math.ceil(relativeError * 6 * checkpoint);
    if (j === 10) maxError = 1;
    const error = Math.abs(checkpoint - denseCount);
    if (error > maxError) {
      return `ERR TESTFAILED Too big error. card:${checkpoint} abserr:${error}`;
    }
    checkpoint *= 10;
  }
  return undefined;
}

/** Eight little-endian bytes as a binary string. */
function uint64Bytes(low: number, high: number): string {
  let text = "";
  for (let i = 0; i < 4; i++) text += String.fromCharCode((low >>> (8 * i)) & 0xff);
  for (let i = 0; i < 4; i++) text += String.fromCharCode((high >>> (8 * i)) & 0xff);
  return text;
}
