/**
 * Cache benchmark: the server used as a cache under `maxmemory`, ours
 * against `redis-server`, with the same request stream on both.
 *
 * The workload is how a cache is used: keys drawn from a Zipf distribution
 * (skew 0.99 over 2M keys, so a few keys are hot and most are rarely
 * seen), 80% GETs and 20% SETs of 100-byte values, and every GET that
 * misses followed by a SET of that key, as an application fills its cache
 * on a miss. With `maxmemory 64mb` only a fraction of the keys fit, so
 * what each server keeps decides the hit ratio. Each policy row
 * (allkeys-lru, allkeys-lfu) reports:
 *
 * - the hit ratio (hits / GETs after the first quarter of the stream, when
 *   the cache is full), whose target is Redis's within 2 points;
 * - throughput (requests per second over the whole stream) and the CPU the
 *   server spent per request, from /proc (process_stats.ts);
 * - the peak RSS (`VmHWM`) above the empty server's RSS, as a multiple of
 *   maxmemory: the limit is on the model of Redis's used memory, and this
 *   says what the process really took for it (target 1.3).
 *
 * The stream is generated once, seeded, before any server starts (it is
 * the same for both sides and costs neither), and sent over `CONNECTIONS`
 * connections, each pipelining `BATCH` requests at a time: the misses of a
 * batch are SET at the start of that connection's next batch. Sides run
 * one after the other, ours first, `--rounds` times; the figures are
 * medians.
 *
 * Usage:
 *
 * ```sh
 * deno run --allow-net --allow-read --allow-write --allow-env --allow-run --allow-sys \
 *   bench/cache_bench.ts [--quick] [--policy allkeys-lru] [--rounds 3] [--server ours|redis]
 * ```
 *
 * bench.ts runs the same measurement as rows of its table through
 * `measureCache` and `cacheFlags`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { peakResidentBytes, sampleProcessTree, waitUntilQuiet } from "./process_stats.ts";
import {
  errorMessage,
  killAllChildren,
  type ServerCommands,
  serverCommandsFromEnvironment,
  ServerProcess,
  type Side,
} from "./servers.ts";
import { HOST } from "./resp.ts";

/** Sizes of one cache run. */
export interface CacheSizes {
  /** Distinct keys the stream draws from. */
  keyspace: number;
  /** Requests drawn (GETs and SETs; the SETs after misses come on top). */
  operations: number;
  /** `maxmemory` of both servers, in bytes. */
  maxmemory: number;
  valueBytes: number;
  /** Zipf exponent. */
  skew: number;
  /** Share of drawn requests that are GETs. */
  readShare: number;
}

/** The workload. */
export const FULL_SIZES: CacheSizes = {
  keyspace: 2_000_000,
  operations: 4_000_000,
  maxmemory: 64 * 1024 * 1024,
  valueBytes: 100,
  skew: 0.99,
  readShare: 0.8,
};

/** A quarter of the stream and of the limit (still well over what fits): under a minute. */
export const QUICK_SIZES: CacheSizes = {
  ...FULL_SIZES,
  operations: 1_000_000,
  maxmemory: 16 * 1024 * 1024,
};

/** The policies the rows compare. */
export const CACHE_POLICIES = ["allkeys-lru", "allkeys-lfu"] as const;

const CONNECTIONS = 4;
const BATCH = 500;
/** The first part of the stream fills the cache and is not counted in the hit ratio. */
const WARM_UP_SHARE = 0.25;

/** What one run measured. */
export interface CacheResult {
  hitRatio: number;
  requestsPerSecond: number;
  requests: number;
  cpuSeconds: number;
  /** RSS of the empty server before the run. */
  baselineRss: number;
  /** The server's peak RSS (VmHWM) at the end of the run. */
  peakRss: number;
  evictedKeys: number;
  keysKept: number;
  usedMemory: number;
}

/** Server flags of a cache run. */
export function cacheFlags(policy: string, sizes: CacheSizes): string[] {
  return [
    "--appendonly",
    "no",
    "--maxmemory",
    String(sizes.maxmemory),
    "--maxmemory-policy",
    policy,
  ];
}

/** mulberry32: a seeded generator, so both sides get the same stream. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One connection's share of the stream: a rank per request, negative for a SET. */
export type Stream = Int32Array;

/**
 * The request streams, one per connection: ranks drawn with probability
 * proportional to 1 / rank^skew, mapped through a seeded permutation so
 * that hot keys are spread over the key names.
 */
export function generateStreams(sizes: CacheSizes, connections = CONNECTIONS): Stream[] {
  const random = seededRandom(20_240_101);
  const n = sizes.keyspace;
  const cumulative = new Float64Array(n);
  let sum = 0;
  for (let rank = 0; rank < n; rank++) {
    sum += 1 / Math.pow(rank + 1, sizes.skew);
    cumulative[rank] = sum;
  }
  const permutation = new Int32Array(n);
  for (let i = 0; i < n; i++) permutation[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = permutation[i]!;
    permutation[i] = permutation[j]!;
    permutation[j] = swap;
  }
  const perConnection = Math.ceil(sizes.operations / connections);
  return Array.from({ length: connections }, () => {
    const stream = new Int32Array(perConnection);
    for (let i = 0; i < perConnection; i++) {
      const target = random() * sum;
      let low = 0;
      let high = n - 1;
      while (low < high) {
        const middle = (low + high) >> 1;
        if (cumulative[middle]! < target) low = middle + 1;
        else high = middle;
      }
      // Rank 0 cannot be negated: names are 1-based.
      const key = permutation[low]! + 1;
      stream[i] = random() < sizes.readShare ? key : -key;
    }
    return stream;
  });
}

const encoder = new TextEncoder();

/** Counts what one connection saw. */
interface Tally {
  gets: number;
  hits: number;
  requests: number;
}

/**
 * Runs one connection's stream: batches of GETs and SETs, the misses of a
 * batch SET at the start of the next; counts hits of GETs past `warmUp`.
 */
async function runStream(port: number, stream: Stream, valueBytes: number): Promise<Tally> {
  const connection = await Deno.connect({ hostname: HOST, port });
  const value = "v".repeat(valueBytes);
  const setTail = `\r\n$${valueBytes}\r\n${value}\r\n`;
  const warmUp = Math.floor(stream.length * WARM_UP_SHARE);
  const tally: Tally = { gets: 0, hits: 0, requests: 0 };
  const reader = new ReplyReader(connection);
  let misses: number[] = [];
  try {
    for (let start = 0; start < stream.length; start += BATCH) {
      const end = Math.min(stream.length, start + BATCH);
      let text = "";
      // What each reply answers: a rank for a GET (to SET on a miss), 0 for a SET.
      const expected: number[] = [];
      for (const key of misses) {
        const name = `k:${key}`;
        text += `*3\r\n$3\r\nSET\r\n$${name.length}\r\n${name}${setTail}`;
        expected.push(0);
      }
      for (let i = start; i < end; i++) {
        const entry = stream[i]!;
        const name = `k:${entry < 0 ? -entry : entry}`;
        if (entry > 0) {
          text += `*2\r\n$3\r\nGET\r\n$${name.length}\r\n${name}\r\n`;
          expected.push(i >= warmUp ? entry : -entry);
        } else {
          text += `*3\r\n$3\r\nSET\r\n$${name.length}\r\n${name}${setTail}`;
          expected.push(0);
        }
      }
      const bytes = encoder.encode(text);
      for (let written = 0; written < bytes.length;) {
        written += await connection.write(bytes.subarray(written));
      }
      misses = [];
      for (const entry of expected) {
        const reply = await reader.next();
        tally.requests++;
        if (reply === "error") throw new Error(`the server answered ${reader.lastError}`);
        if (entry === 0) continue;
        const counted = entry > 0;
        if (counted) tally.gets++;
        if (reply === "value") {
          if (counted) tally.hits++;
        } else {
          misses.push(counted ? entry : -entry);
        }
      }
    }
    return tally;
  } finally {
    connection.close();
  }
}

/** Reads the replies of GET and SET off a connection: a value, a null, OK or an error. */
class ReplyReader {
  #buffer = new Uint8Array(1 << 20);
  #start = 0;
  #end = 0;
  lastError = "";

  constructor(readonly connection: Deno.Conn) {}

  async next(): Promise<"value" | "null" | "ok" | "error"> {
    for (;;) {
      const reply = this.#parse();
      if (reply !== undefined) return reply;
      if (this.#start > 0) {
        this.#buffer.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      }
      if (this.#end === this.#buffer.length) {
        const grown = new Uint8Array(this.#buffer.length * 2);
        grown.set(this.#buffer);
        this.#buffer = grown;
      }
      const read = await this.connection.read(this.#buffer.subarray(this.#end));
      if (read === null) throw new Error("the server closed the connection");
      this.#end += read;
    }
  }

  #parse(): "value" | "null" | "ok" | "error" | undefined {
    const buffer = this.#buffer;
    const lineEnd = buffer.subarray(this.#start, this.#end).indexOf(10);
    if (lineEnd < 0) return undefined;
    const line = this.#start + lineEnd + 1;
    const kind = buffer[this.#start];
    if (kind === 43) { // '+'
      this.#start = line;
      return "ok";
    }
    if (kind === 45) { // '-'
      this.lastError = new TextDecoder().decode(buffer.subarray(this.#start, line - 2));
      this.#start = line;
      return "error";
    }
    // '$': a length, then that many bytes and CRLF.
    let length = 0;
    let negative = false;
    for (let i = this.#start + 1; i < line - 2; i++) {
      if (buffer[i] === 45) negative = true;
      else length = length * 10 + buffer[i]! - 48;
    }
    if (negative) {
      this.#start = line;
      return "null";
    }
    if (this.#end - line < length + 2) return undefined;
    this.#start = line + length + 2;
    return "value";
  }
}

/** The integer after `prefix` in an INFO section (`evicted_keys:`, `db0:keys=`), or 0. */
async function infoNumber(port: number, section: string, prefix: string): Promise<number> {
  const output = await new Deno.Command("redis-cli", {
    args: ["-h", HOST, "-p", String(port), "INFO", section],
    stdout: "piped",
    stderr: "null",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  const match = new RegExp(`^${prefix}(\\d+)`, "m").exec(text);
  return match ? Number(match[1]) : 0;
}

/** Runs the streams against `server` and measures what the issue asks. */
export async function measureCache(
  server: ServerProcess,
  streams: readonly Stream[],
  sizes: CacheSizes,
): Promise<CacheResult> {
  await waitUntilQuiet(server.pid, { minimumMs: 300 });
  const before = await sampleProcessTree(server.pid);
  const begin = performance.now();
  const tallies = await Promise.all(
    streams.map((stream) => runStream(server.port, stream, sizes.valueBytes)),
  );
  const seconds = (performance.now() - begin) / 1000;
  const after = await sampleProcessTree(server.pid);
  const peakRss = await peakResidentBytes(server.pid);
  const total = tallies.reduce(
    (sum, tally) => ({
      gets: sum.gets + tally.gets,
      hits: sum.hits + tally.hits,
      requests: sum.requests + tally.requests,
    }),
    { gets: 0, hits: 0, requests: 0 },
  );
  return {
    hitRatio: total.hits / total.gets,
    requestsPerSecond: total.requests / seconds,
    requests: total.requests,
    cpuSeconds: after.cpuSeconds - before.cpuSeconds,
    baselineRss: before.residentBytes,
    peakRss,
    evictedKeys: await infoNumber(server.port, "stats", "evicted_keys:"),
    keysKept: await infoNumber(server.port, "keyspace", "db0:keys="),
    usedMemory: await infoNumber(server.port, "memory", "used_memory:"),
  };
}

/** Peak RSS above the empty server's, as a multiple of maxmemory. */
export function rssOverLimit(result: CacheResult, sizes: CacheSizes): number {
  return (result.peakRss - result.baselineRss) / sizes.maxmemory;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function runSide(
  side: Side,
  policy: string,
  sizes: CacheSizes,
  streams: readonly Stream[],
  commands: ServerCommands,
): Promise<CacheResult> {
  const dir = await Deno.makeTempDir({ prefix: `cache-bench-${side}-` });
  const server = await ServerProcess.start(side, commands, {
    dir,
    flags: cacheFlags(policy, sizes),
  });
  try {
    return await measureCache(server, streams, sizes);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function describe(result: CacheResult, sizes: CacheSizes): string {
  const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
  return `hit ${(result.hitRatio * 100).toFixed(2)}%, ${
    Math.round(result.requestsPerSecond).toLocaleString("en-US")
  } req/s, ${(result.cpuSeconds / result.requests * 1e6).toFixed(2)} us CPU/req, RSS ${
    mib(result.baselineRss)
  } -> peak ${mib(result.peakRss)} (${rssOverLimit(result, sizes).toFixed(2)}x maxmemory), ${
    result.keysKept.toLocaleString("en-US")
  } keys kept, ${result.evictedKeys.toLocaleString("en-US")} evicted, used_memory ${
    mib(result.usedMemory)
  }`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      policy: { type: "string", multiple: true },
      rounds: { type: "string", default: "1" },
      server: { type: "string" },
    },
  });
  const sizes = values.quick ? QUICK_SIZES : FULL_SIZES;
  const policies = values.policy?.length ? values.policy : [...CACHE_POLICIES];
  const sides: Side[] = values.server === "ours"
    ? ["ours"]
    : values.server === "redis"
    ? ["redis"]
    : ["ours", "redis"];
  const rounds = Number(values.rounds);
  const commands = serverCommandsFromEnvironment();
  console.log(
    `Cache: Zipf ${sizes.skew} over ${
      sizes.keyspace.toLocaleString("en-US")
    } keys of ${sizes.valueBytes} B, ` +
      `${sizes.readShare * 100}% GET, ${
        sizes.operations.toLocaleString("en-US")
      } requests drawn, ` +
      `maxmemory ${sizes.maxmemory / 1048576} MiB, ${CONNECTIONS} connections x ${BATCH} pipelined`,
  );
  const streams = generateStreams(sizes);
  for (const policy of policies) {
    const results = new Map<Side, CacheResult[]>();
    for (let round = 0; round < rounds; round++) {
      for (const side of sides) {
        try {
          const result = await runSide(side, policy, sizes, streams, commands);
          console.log(
            `  ${policy} ${side.padEnd(5)} round ${round + 1}: ${describe(result, sizes)}`,
          );
          results.set(side, [...results.get(side) ?? [], result]);
        } catch (error) {
          console.log(`  ${policy} ${side} round ${round + 1}: failed: ${errorMessage(error)}`);
        }
      }
    }
    const ours = results.get("ours") ?? [];
    const redis = results.get("redis") ?? [];
    if (ours.length === 0 || redis.length === 0) continue;
    const pick = (list: CacheResult[], figure: (result: CacheResult) => number) =>
      median(list.map(figure));
    const points = (pick(ours, (r) => r.hitRatio) - pick(redis, (r) => r.hitRatio)) * 100;
    const throughput = pick(ours, (r) => r.requestsPerSecond) /
      pick(redis, (r) => r.requestsPerSecond);
    const cpu = pick(ours, (r) => r.cpuSeconds / r.requests) /
      pick(redis, (r) => r.cpuSeconds / r.requests);
    const rss = pick(ours, (r) => rssOverLimit(r, sizes));
    const verdict = (met: boolean) => (met ? "met" : "NOT MET");
    console.log(
      `${policy}: hit ratio ${points >= 0 ? "+" : ""}${points.toFixed(2)} points vs Redis ` +
        `(target within 2: ${verdict(points >= -2)}); throughput ${throughput.toFixed(2)}x ` +
        `(target >= 0.8: ${verdict(throughput >= 0.8)}); CPU per request ${cpu.toFixed(2)}x; ` +
        `peak RSS over baseline ${rss.toFixed(2)}x maxmemory (target <= 1.3: ${
          verdict(rss <= 1.3)
        })`,
    );
  }
}

if (import.meta.main) {
  try {
    await main();
  } finally {
    killAllChildren();
  }
}
