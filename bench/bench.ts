/**
 * Benchmark: our server against `redis-server` 7.0, row by row, with the
 * median of interleaved rounds and the CPU each server spent.
 *
 * How a row is measured, and why:
 *
 * - Interleaved rounds, medians. Every row runs `--rounds` times per side
 *   in the order ours, Redis, ours, Redis...; the table shows each side's
 *   median and the ratio of the medians, and every run is listed under it.
 *   The machine has two cores shared with other work, and two runs of the
 *   same server can differ by 1.5x: interleaving spreads whatever else the
 *   machine does over both sides, and the median is what a repeat run
 *   reproduces, where a best-of rewards whichever side got lucky.
 * - The load generator shares the machine. redis-benchmark (50 clients,
 *   random keys `-r 100000`) is single-threaded and takes one of the two
 *   cores, the server the other, so requests per second also measure how
 *   much of a core the server got, and on an idle machine both servers can
 *   be held to the same rate by the client however much CPU each needs.
 *   The CPU time the server spent (`utime + stime`, fields 14 and 15 of
 *   /proc/<pid>/stat, all threads, in clock ticks; see process_stats.ts),
 *   read before and after the same run and divided by its requests, does
 *   not depend on that, so it is each throughput row's second figure, with
 *   its own target. Rows where this process is the client (memory,
 *   connections, start-up loads, pub/sub) show the server's CPU seconds.
 * - redis-benchmark rows run against one long-lived server per side, test
 *   by test: all rounds of a test alternate between the two servers, and the
 *   one not being measured is paused with SIGSTOP so it cannot take a core
 *   (ours runs a full garbage collection a second after traffic stops).
 *   Before each run the measured server is resumed and left until its CPU
 *   is quiet, so the work the previous run left behind (closing 50
 *   connections, that collection) is not charged to this one.
 * - Memory rows are process RSS from /proc, sampled without sending a
 *   command (ours compacts only after an idle second, and a command is
 *   activity), each on a fresh server. Several run at once (2 in a full
 *   run, 12 with --quick): contention changes how long a load takes, not
 *   what it leaves resident. Timing rows always have the machine alone.
 * - Rows whose commands or features are not implemented yet (scripts,
 *   streams, HyperLogLog, geo, RDB, eviction) stay in the plan: when the
 *   server answers "ERR unknown command" (or SAVE writes no dump.rdb, or
 *   maxmemory never evicts) the row says "not implemented yet" instead of
 *   failing, Redis runs once beside it for reference, and the row lights
 *   up by itself when the feature lands. A new redis-benchmark row is one
 *   entry in `THROUGHPUT_TESTS` or `MORE_BENCHMARKS`; any other row is
 *   one `FreshWorkload` entry.
 *
 * Each row states its target, on the ratio (ours / Redis) or on our own
 * figure, and on the CPU ratio; the verdict is "met" when all of them are.
 * The machine (cores, model, load average at the start and the end) is
 * printed beside the table.
 *
 * Usage:
 *
 * ```sh
 * deno task bench                  # full run, 15-20 minutes
 * deno task bench --quick          # smaller sizes, 3 rounds, under two minutes
 * deno task bench --only SET       # rows whose name contains "SET" (any case)
 * deno task bench --only throughput --only aof   # whole groups (see --list)
 * deno task bench --rounds 5       # more rounds on a noisy machine
 * BENCH_OURS_CMD="deno run -A /tmp/before/src/main.ts" deno task bench --quick  # another checkout
 * BENCH_OURS_ARGS="--transport node" deno task bench     # extra flags for ours
 * BENCH_PORTS=7380-7399 deno task bench --quick          # servers only on these ports
 * ```
 *
 * See bench/servers.ts for how ours is started (`BENCH_OURS_CMD`,
 * `BENCH_OURS_MAIN`, `BENCH_OURS_ARGS`). The connection rows need up to
 * 16,000 sockets in this process and 10,000 in a server: if the soft
 * open-files limit is lower, the benchmark re-executes itself with a
 * higher one (up to the hard limit), which the servers then inherit.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { encodeCommand, isUnknownCommand, ReplyError, RespConnection } from "./resp.ts";
import { sampleProcessTree, waitUntilQuiet } from "./process_stats.ts";
import { type BenchmarkSpec, runRedisBenchmark } from "./redis_benchmark.ts";
import {
  describeOurs,
  errorMessage,
  killAllChildren,
  type ServerCommands,
  serverCommandsFromEnvironment,
  ServerProcess,
  type Side,
} from "./servers.ts";
import {
  formatCount,
  higher,
  lower,
  type Outcome,
  printReport,
  Row,
  type RowSpec,
} from "./report.ts";
import { measureAccept, measureBulk, measureIdleConnections } from "./connections.ts";
import { describeMeasurement, measureShape, planShapes, type Shape } from "./memory.ts";
import {
  CACHE_POLICIES,
  cacheFlags,
  type CacheSizes,
  FULL_SIZES as CACHE_FULL_SIZES,
  generateStreams,
  measureCache,
  QUICK_SIZES as CACHE_QUICK_SIZES,
  rssOverLimit,
  type Stream,
} from "./cache_bench.ts";
import {
  measureAofReplay,
  measurePubsub,
  measureRdbLoad,
  measureRdbSave,
  PERSISTENCE_OFF,
  writeReferenceDump,
  writeSetCommands,
} from "./workloads.ts";

const CLIENTS = 50;
const PIPELINE = 16;
const RANDOM_KEYS = 100_000;
const AOF_EVERYSEC = ["--appendonly", "yes", "--appendfsync", "everysec"];
/** Permissions `deno task bench` grants, for re-executing with a higher open-files limit. */
const BENCH_PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
];

/** How much work each row does. */
interface Sizes {
  /** Requests per redis-benchmark test without pipelining (scaled per test by `weight`). */
  requests: number;
  /** Requests per test with `-P 16`. */
  pipelinedRequests: number;
  /** Keys of the AOF replay and RDB rows. */
  keys: number;
  /** Scale of bench/memory.ts's shapes (1: 1M strings, 10k hashes x 100, ...). */
  memoryScale: number;
  /** Memory measurements at once (each on its own server). */
  memoryConcurrency: number;
  /** Idle time after loading a memory shape (ours compacts after one idle second). */
  memorySettleMs: number;
  subscribers: number;
  messages: number;
  /** Idle connections of the per-connection memory row. */
  idleConnections: number;
  /** Connections of the accept row. */
  acceptConnections: number;
  /** Size of the one huge bulk. */
  bulkBytes: number;
  /** Idle time before the "after" samples of the connection and bulk rows. */
  idleMs: number;
  cache: CacheSizes;
  rounds: number;
}

const MIB = 1024 * 1024;

const FULL_SIZES: Sizes = {
  requests: 100_000,
  pipelinedRequests: 1_000_000,
  keys: 1_000_000,
  memoryScale: 1,
  memoryConcurrency: 2,
  memorySettleMs: 2_000,
  subscribers: 1_000,
  messages: 1_000,
  idleConnections: 8_000,
  acceptConnections: 10_000,
  bulkBytes: 400 * MIB,
  idleMs: 4_000,
  cache: CACHE_FULL_SIZES,
  rounds: 3,
};

const QUICK_SIZES: Sizes = {
  requests: 10_000,
  pipelinedRequests: 100_000,
  keys: 100_000,
  memoryScale: 0.1,
  memoryConcurrency: 12,
  memorySettleMs: 1_500,
  subscribers: 1_000,
  messages: 100,
  idleConnections: 2_000,
  acceptConnections: 5_000,
  bulkBytes: 100 * MIB,
  idleMs: 1_500,
  cache: CACHE_QUICK_SIZES,
  rounds: 3,
};

// ---------------------------------------------------------------------------
// The redis-benchmark rows, as data.

/** Sets a server up for a test; may give the command to send (with a script's SHA, say). */
type Prepare = (server: ServerProcess) => Promise<
  { ok: true; command?: string[] } | { ok: false; reason: string; notImplemented: boolean }
>;

/** One redis-benchmark test, run without pipelining and (if `pipelined`) with -P 16. */
interface BenchmarkTest {
  name: string;
  /** A redis-benchmark `-t` name, or the command to send. */
  test: string | readonly string[];
  /** Share of the requests of a plain test (slow commands get fewer, runs stay ~1 s). */
  weight?: number;
  /** The same with -P 16, where it defaults to `weight`. */
  pipelinedWeight?: number;
  prepare?: Prepare;
  pipelined?: boolean;
  /** More redis-benchmark arguments (the ACL user of the permission-check row). */
  extraArgs?: readonly string[];
}

/** Sends `commands` pipelined; any error reply fails the preparation. */
function sendAll(commands: readonly (readonly string[])[]): Prepare {
  return async (server) => {
    const connection = await RespConnection.open(server.port);
    try {
      for (let first = 0; first < commands.length; first += 1000) {
        const batch = commands.slice(first, first + 1000);
        for (const command of batch) await connection.send(encodeCommand(command));
        for (const command of batch) {
          const reply = await connection.reply();
          if (reply instanceof ReplyError) {
            return {
              ok: false,
              reason: `${command[0]} replied -${reply.message}`,
              notImplemented: isUnknownCommand(reply),
            };
          }
        }
      }
      return { ok: true };
    } finally {
      connection.close();
    }
  };
}

const range = (count: number) => Array.from({ length: count }, (_, index) => index);

/** The throughput rows the issue lists: without pipelining and with -P 16. */
const THROUGHPUT_TESTS: BenchmarkTest[] = [
  { name: "SET", test: "set", pipelined: true },
  { name: "GET", test: "get", pipelined: true },
  { name: "INCR", test: "incr", pipelined: true },
  { name: "LPUSH", test: "lpush", pipelined: true },
  { name: "RPOP", test: "rpop", pipelined: true },
  { name: "SADD", test: "sadd", pipelined: true },
  { name: "HSET", test: "hset", pipelined: true },
  { name: "ZADD", test: "zadd", pipelinedWeight: 0.5, pipelined: true },
  {
    // redis-benchmark's own lrange_100 runs an LPUSH of as many requests
    // first, in the same invocation, which the CPU figure would include:
    // the list (600 three-byte values, as its LPUSH stores) is made here.
    name: "LRANGE_100",
    test: ["LRANGE", "bench:lrange", "0", "99"],
    weight: 0.25,
    prepare: sendAll([["DEL", "bench:lrange"], [
      "RPUSH",
      "bench:lrange",
      ...range(600).map(() => "xxx"),
    ]]),
    pipelined: true,
  },
  { name: "MSET", test: "mset", weight: 0.5, pipelinedWeight: 0.25, pipelined: true },
];

const SCRIPT = "return redis.call('INCR', KEYS[1])";

/** Rows of the other command families, without pipelining ("not implemented yet" in a build that lacks one). */
const MORE_BENCHMARKS: BenchmarkTest[] = [
  {
    name: "EVALSHA INCR script",
    test: ["EVALSHA", "<sha>", "1", "script:__rand_int__"],
    prepare: async (server) => {
      const reply = await server.command(["SCRIPT", "LOAD", SCRIPT]);
      if (typeof reply !== "string") {
        return {
          ok: false,
          reason: `SCRIPT LOAD replied ${reply instanceof ReplyError ? reply.message : reply}`,
          notImplemented: isUnknownCommand(reply),
        };
      }
      return { ok: true, command: ["EVALSHA", reply, "1", "script:__rand_int__"] };
    },
  },
  { name: "XADD", test: ["XADD", "bench:stream", "*", "sensor", "__rand_int__", "temp", "21.5"] },
  {
    name: "XRANGE 100",
    test: ["XRANGE", "bench:xrange", "-", "+", "COUNT", "100"],
    weight: 0.5,
    prepare: sendAll(range(1000).map((i) => ["XADD", "bench:xrange", "*", "sensor", String(i)])),
  },
  {
    // Reads the consumer's pending entries (ID 0), which a run cannot use up
    // the way `>` would: the group, the PEL and the reply are what it costs.
    name: "XREADGROUP COUNT 10",
    test: [
      "XREADGROUP",
      "GROUP",
      "bench",
      "reader",
      "COUNT",
      "10",
      "STREAMS",
      "bench:group",
      "0",
    ],
    prepare: sendAll([
      ...range(1000).map((i) => ["XADD", "bench:group", "*", "sensor", String(i)]),
      ["XGROUP", "CREATE", "bench:group", "bench", "0"],
      ["XREADGROUP", "GROUP", "bench", "reader", "COUNT", "1000", "STREAMS", "bench:group", ">"],
    ]),
  },
  {
    // What the ACL check costs a user who is not allowed everything (the
    // default user skips it): key patterns and command rules, on every GET.
    name: "GET as an ACL user limited to key:*",
    test: ["GET", "key:__rand_int__"],
    prepare: sendAll([[
      "ACL",
      "SETUSER",
      "bench",
      "on",
      ">bench",
      "resetkeys",
      "~key:*",
      "-@all",
      "+get",
      "+ping",
      "+config|get",
    ]]),
    extraArgs: ["--user", "bench", "-a", "bench"],
  },
  { name: "PFADD", test: ["PFADD", "bench:hll", "element:__rand_int__"] },
  {
    name: "PFCOUNT",
    test: ["PFCOUNT", "bench:hll"],
    prepare: sendAll([["PFADD", "bench:hll", ...range(1000).map((i) => `seed:${i}`)]]),
  },
  {
    name: "GEOSEARCH 5 km, 10 nearest",
    test: [
      "GEOSEARCH",
      "bench:geo",
      "FROMLONLAT",
      "13.4",
      "52.5",
      "BYRADIUS",
      "5",
      "km",
      "ASC",
      "COUNT",
      "10",
    ],
    // 10,000 points on a grid of about 40 x 40 km around the centre; about
    // 500 of them are within 5 km, which makes this a slow command.
    weight: 0.1,
    prepare: sendAll(
      range(100).map((row) => [
        "GEOADD",
        "bench:geo",
        ...range(100).flatMap((column) => [
          (13.1 + column * 0.006).toFixed(4),
          (52.3 + row * 0.004).toFixed(4),
          `point:${row}:${column}`,
        ]),
      ]),
    ),
  },
];

// ---------------------------------------------------------------------------
// Context.

interface Context {
  sides: Side[];
  sizes: Sizes;
  commands: ServerCommands;
  temporaryRoot: string;
  /** A fresh directory under the temporary root. */
  freshDirectory: (label: string) => Promise<string>;
  /** Lazily written file of `sizes.keys` SET commands. */
  setCommandsFile: () => Promise<string>;
  /** Lazily made dump.rdb of those keys, written by Redis. */
  referenceDump: () => Promise<string>;
}

const startedAt = performance.now();

/** A progress line on stderr, with the seconds since the start. */
function progress(text: string): void {
  console.error(`[${((performance.now() - startedAt) / 1000).toFixed(0).padStart(4)} s] ${text}`);
}

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => promise ??= make();
}

// ---------------------------------------------------------------------------
// redis-benchmark rows: one long-lived server per side, the idle one paused.

interface BenchmarkStep {
  label: string;
  spec: BenchmarkSpec;
  prepare?: Prepare;
  outputs: { row: Row; pick: "rps" | "p99" }[];
}

function throughputSteps(sizes: Sizes, planRow: PlanRow): BenchmarkStep[] {
  const steps: BenchmarkStep[] = [];
  const add = (test: BenchmarkTest, pipeline: number, more: boolean) => {
    const name = pipeline > 1 ? `${test.name} -P ${pipeline}` : test.name;
    const group = more ? "commands" : "throughput";
    const rps = planRow({
      name,
      unit: "rps",
      target: higher(pipeline > 1 ? 0.85 : 0.95),
      cpuTarget: 1.2,
      summary: more ? "more commands" : pipeline > 1 ? "-P 16" : "no pipelining",
    }, group);
    const outputs: BenchmarkStep["outputs"] = [{ row: rps, pick: "rps" }];
    if (test.name === "GET" && pipeline === 1) {
      outputs.push({
        row: planRow({ name: "GET p99 latency", unit: "ms", target: lower(1.3) }, group),
        pick: "p99",
      });
    }
    const base = pipeline > 1 ? sizes.pipelinedRequests : sizes.requests;
    steps.push({
      label: name,
      spec: {
        test: test.test,
        requests: Math.round(
          base * ((pipeline > 1 ? test.pipelinedWeight : undefined) ?? test.weight ?? 1),
        ),
        clients: CLIENTS,
        pipeline,
        randomKeys: RANDOM_KEYS,
        extraArgs: test.extraArgs,
      },
      prepare: test.prepare,
      outputs,
    });
  };
  // All plain tests first, then the pipelined ones: LPUSH then RPOP leaves
  // the list as it found it, so the pipelined RPOP pops real elements too.
  for (const test of THROUGHPUT_TESTS) add(test, 1, false);
  for (const test of THROUGHPUT_TESTS) if (test.pipelined) add(test, PIPELINE, false);
  for (const test of MORE_BENCHMARKS) add(test, 1, true);
  return steps;
}

type Preparation = Awaited<ReturnType<Prepare>>;

/** The two servers of a pair, started on demand and restarted (and prepared again) if one died. */
class ServerPair {
  #servers: Partial<Record<Side, ServerProcess>> = {};
  #prepared: Partial<Record<Side, Preparation>> = {};

  constructor(readonly context: Context, readonly flags: readonly string[]) {}

  /** The running, paused server of `side`, prepared for `step` if it had to be started. */
  async server(side: Side, step: BenchmarkStep, prepareFresh = true): Promise<ServerProcess> {
    const current = this.#servers[side];
    if (current?.running) return current;
    if (current) {
      console.error(`  [${side}] server exited; starting a fresh one`);
      await current.stop();
    }
    const server = await ServerProcess.start(side, this.context.commands, {
      dir: await this.context.freshDirectory(side),
      flags: this.flags,
    });
    this.#servers[side] = server;
    if (prepareFresh) await this.prepare(side, step, server);
    else await server.pause();
    return server;
  }

  /** Runs `step.prepare` on the server of `side` (resumed meanwhile). */
  async prepare(side: Side, step: BenchmarkStep, given?: ServerProcess): Promise<Preparation> {
    let preparation: Preparation;
    try {
      const server = given ?? await this.server(side, step, false);
      await server.resume();
      try {
        preparation = step.prepare ? await step.prepare(server) : { ok: true };
      } finally {
        await server.pause();
      }
    } catch (error) {
      preparation = { ok: false, reason: errorMessage(error), notImplemented: false };
    }
    this.#prepared[side] = preparation;
    return preparation;
  }

  /** What the last preparation of `side` gave. */
  preparation(side: Side): Preparation | undefined {
    return this.#prepared[side];
  }

  async stop(): Promise<void> {
    await Promise.all(Object.values(this.#servers).map((server) => server.stop()));
  }
}

/**
 * Whether `side` can skip `round` of `rows`: a side that lacks the feature
 * gains nothing from another round, and Redis beside a row of ours that is
 * not implemented yet needs one run for reference, not a median.
 */
function skipRound(rows: readonly Row[], side: Side, round: number): boolean {
  if (rows.every((row) => row.settled(side))) return true;
  return side === "redis" && round > 0 && rows.every((row) => row.settled("ours"));
}

/** Feeds one run's outcome to the step's rows: rps and CPU, or p99. */
function recordStep(step: BenchmarkStep, side: Side, outcome: Outcome, p99?: Outcome): void {
  for (const { row, pick } of step.outputs) {
    row.record(side, pick === "p99" && p99 ? p99 : outcome);
  }
}

/** Runs `steps` on a pair of servers started with `flags`, alternating sides round by round. */
async function runBenchmarkPair(
  context: Context,
  label: string,
  flags: readonly string[],
  allSteps: readonly BenchmarkStep[],
): Promise<void> {
  const steps = allSteps.filter((step) => step.outputs.some((output) => output.row.selected));
  if (steps.length === 0) return;
  const pair = new ServerPair(context, flags);
  try {
    for (const step of steps) {
      progress(`${label}: ${step.label}`);
      for (const side of context.sides) await pair.prepare(side, step);
      for (let round = 0; round < context.sizes.rounds; round++) {
        for (const side of context.sides) {
          const preparation = pair.preparation(side);
          if (preparation && !preparation.ok) {
            if (round === 0) recordStep(step, side, preparation);
            continue;
          }
          if (skipRound(step.outputs.map(({ row }) => row), side, round)) continue;
          await measureStep(pair, step, side, round);
        }
      }
    }
  } finally {
    await pair.stop();
  }
}

/** One redis-benchmark run on `side`: resume, wait for quiet, CPU before, run, CPU after, pause. */
async function measureStep(
  pair: ServerPair,
  step: BenchmarkStep,
  side: Side,
  round: number,
): Promise<void> {
  let server: ServerProcess | undefined;
  try {
    server = await pair.server(side, step);
    const preparation = pair.preparation(side);
    if (preparation && !preparation.ok) {
      recordStep(step, side, preparation);
      return;
    }
    await server.resume();
    const quiet = await waitUntilQuiet(server.pid, { minimumMs: 50, maximumMs: 3000 });
    if (!quiet.quiet) {
      step.outputs[0]!.row.notes.push(
        `${side} was still busy after ${quiet.waitedMs.toFixed(0)} ms before round ${round + 1}`,
      );
    }
    const spec = { ...step.spec, test: preparation?.command ?? step.spec.test };
    const before = await sampleProcessTree(server.pid);
    const result = await runRedisBenchmark(server.port, spec);
    if (!result.ok) {
      const died = server.running ? "" : `; the server exited\n${await server.logTail()}`;
      recordStep(step, side, {
        ok: false,
        reason: result.reason + died,
        notImplemented: result.notImplemented,
      });
      return;
    }
    const after = await sampleProcessTree(server.pid);
    recordStep(step, side, {
      ok: true,
      value: result.rps,
      cpuSeconds: after.cpuSeconds - before.cpuSeconds,
      operations: spec.requests,
    }, { ok: true, value: result.p99Ms });
  } catch (error) {
    recordStep(step, side, { ok: false, reason: errorMessage(error) });
  } finally {
    await server?.pause().catch(() => {});
  }
}

// ---------------------------------------------------------------------------
// Rows measured by this process on fresh servers, as data.

/** A workload that starts its own servers; `measure` gives one outcome per row. */
interface FreshWorkload {
  label: string;
  rows: RowSpec[];
  /**
   * How many measurements may run at once (default 1). Only for rows whose
   * figure is memory: contention changes how long a load takes, not what
   * it leaves resident. Capped where this process's sockets or the
   * machine's memory would not allow more.
   */
  concurrency?: number;
  /** Consecutive workloads of one pool share its `concurrency` (the memory shapes). */
  pool?: string;
  /** What `--only` may name to pick all of its rows. */
  group: string;
  measure: (context: Context, side: Side) => Promise<Outcome[]>;
}

/** Starts a fresh server of `side` with `flags`, runs `use`, stops it and removes its directory. */
async function withServer<T>(
  context: Context,
  side: Side,
  flags: readonly string[],
  use: (server: ServerProcess) => Promise<T>,
): Promise<T> {
  const dir = await context.freshDirectory(side);
  const server = await ServerProcess.start(side, context.commands, { dir, flags });
  try {
    return await use(server);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function shapeWorkload(shape: Shape, sizes: Sizes): FreshWorkload {
  return {
    label: `Memory: ${shape.name}`,
    group: "memory",
    rows: [{ name: `memory: ${shape.name}`, unit: "bytes", target: lower(1.5) }],
    concurrency: sizes.memoryConcurrency,
    pool: "memory",
    measure: async (context, side) => {
      const outcome = await measureShape(side, shape, context.commands, sizes.memorySettleMs);
      if (!outcome.ok) {
        return [{ ok: false, reason: outcome.reason, notImplemented: outcome.notImplemented }];
      }
      return [{
        ok: true,
        value: outcome.after.rss - outcome.before.rss,
        cpuSeconds: outcome.after.cpuSeconds - outcome.before.cpuSeconds,
        detail: describeMeasurement(outcome),
      }];
    },
  };
}

/** Sockets this process may hold for idle clients at once, well inside its open-files limit. */
const IDLE_SOCKET_BUDGET = 16_000;

/** Idle-connection measurements at once: as many as the socket budget holds, at most 6. */
function idleConnectionConcurrency(sizes: Sizes): number {
  return Math.max(1, Math.min(6, Math.floor(IDLE_SOCKET_BUDGET / sizes.idleConnections)));
}

function freshWorkloads(sizes: Sizes): FreshWorkload[] {
  const keys = formatCount(sizes.keys);
  const mib = `${Math.round(sizes.bulkBytes / MIB)} MB`;
  return [
    {
      label: "AOF replay at start-up",
      group: "aof",
      rows: [{ name: `AOF replay at start-up, ${keys} SETs`, unit: "seconds", target: lower(1.0) }],
      measure: async (context, side) => [
        await measureAofReplay(
          side,
          context.commands,
          context.freshDirectory,
          await context.setCommandsFile(),
          sizes.keys,
        ),
      ],
    },
    {
      label: "PUBLISH fan-out",
      group: "pubsub",
      rows: [{ name: `PUBLISH to ${formatCount(sizes.subscribers)} subscribers`, unit: "msg/s" }],
      measure: (context, side) =>
        withServer(context, side, PERSISTENCE_OFF, async (server) => [
          await measurePubsub(server, sizes.subscribers, sizes.messages),
        ]),
    },
    ...planShapes(sizes.memoryScale).map((shape) => shapeWorkload(shape, sizes)),
    {
      label: "Idle connections",
      group: "connections",
      rows: [
        {
          name: `memory per idle connection (${formatCount(sizes.idleConnections)} clients)`,
          unit: "bytes",
          target: lower(16 * 1024, "ours"),
        },
        {
          name: `RSS after ${formatCount(sizes.idleConnections)} clients left, vs before`,
          unit: "percent",
          target: lower(20, "ours"),
        },
      ],
      concurrency: idleConnectionConcurrency(sizes),
      measure: (context, side) =>
        withServer(context, side, PERSISTENCE_OFF, async (server) => {
          const outcomes = await measureIdleConnections(
            server,
            sizes.idleConnections,
            sizes.idleMs,
          );
          return [outcomes.perConnection, outcomes.afterDisconnect];
        }),
    },
    {
      label: `One ${mib} bulk`,
      group: "connections",
      rows: [
        { name: `${mib} SET: peak RSS growth`, unit: "bytes" },
        { name: `${mib} SET, DEL, disconnect: RSS growth after idle`, unit: "bytes" },
      ],
      // Ours peaks at about three times the value.
      concurrency: sizes.bulkBytes <= 100 * MIB ? 6 : 2,
      measure: (context, side) =>
        withServer(context, side, PERSISTENCE_OFF, async (server) => {
          const outcomes = await measureBulk(server, sizes.bulkBytes, sizes.idleMs);
          return [outcomes.peak, outcomes.afterIdle];
        }),
    },
    {
      label: "Accepting connections",
      group: "connections",
      rows: [{
        name: `accept ${formatCount(sizes.acceptConnections)} connections, 100 at a time`,
        unit: "seconds",
        target: lower(2.0),
      }],
      measure: (context, side) =>
        withServer(context, side, PERSISTENCE_OFF, async (server) => [
          await measureAccept(server, sizes.acceptConnections),
        ]),
    },
    {
      label: "RDB SAVE",
      group: "rdb",
      rows: [{ name: `RDB SAVE, ${keys} keys`, unit: "seconds", target: lower(1.0) }],
      measure: async (context, side) => {
        const file = await context.setCommandsFile();
        return await withServer(context, side, PERSISTENCE_OFF, async (server) => [
          await measureRdbSave(server, file, sizes.keys),
        ]);
      },
    },
    {
      label: "RDB load",
      group: "rdb",
      rows: [{ name: `RDB load at start-up, ${keys} keys`, unit: "seconds", target: lower(1.0) }],
      measure: async (context, side) => [
        await measureRdbLoad(
          side,
          context.commands,
          context.freshDirectory,
          await context.referenceDump(),
          sizes.keys,
        ),
      ],
    },
    // The request streams (16 MB, a second to draw) are made once and shared by every run.
    ...CACHE_POLICIES.map((policy): FreshWorkload => ({
      label: `Cache ${policy}`,
      group: "cache",
      rows: [
        // "Within 2 points of Redis" at Redis's ~0.82: a ratio of 0.975.
        { name: `cache ${policy}: Zipf 0.99 hit ratio`, unit: "hit ratio", target: higher(0.975) },
        { name: `cache ${policy}: throughput`, unit: "rps", target: higher(0.8), cpuTarget: 1.2 },
        {
          name: `cache ${policy}: peak RSS over empty, % of maxmemory`,
          unit: "percent",
          target: lower(130, "ours"),
        },
      ],
      measure: (context, side) =>
        withServer(context, side, cacheFlags(policy, sizes.cache), async (server) => {
          cacheStreams ??= generateStreams(sizes.cache);
          const result = await measureCache(server, cacheStreams, sizes.cache);
          const detail = `${result.keysKept} keys kept, ${result.evictedKeys} evicted`;
          return [
            { ok: true, value: result.hitRatio, detail },
            {
              ok: true,
              value: result.requestsPerSecond,
              cpuSeconds: result.cpuSeconds,
              operations: result.requests,
            },
            { ok: true, value: rssOverLimit(result, sizes.cache) * 100 },
          ];
        }),
    })),
  ];
}

/** The cache rows' request streams, drawn on first use. */
let cacheStreams: Stream[] | undefined;

/** A workload and the rows it feeds. */
interface FreshEntry {
  workload: FreshWorkload;
  rows: Row[];
}

/**
 * Runs workloads `rounds` times per side in the order ours, Redis, ours,
 * Redis..., at most `concurrency` measurements at a time (memory rows only:
 * a timing row must have the machine to itself). Every workload's first
 * round goes before any later round, so a side found lacking the feature
 * is not measured again.
 */
async function runFreshGroup(
  context: Context,
  entries: readonly FreshEntry[],
  concurrency: number,
): Promise<void> {
  const selected = entries.filter(({ rows }) => rows.some((row) => row.selected));
  const { rounds } = context.sizes;
  const firstRounds = new Map<
    FreshEntry,
    { pending: number; done: Promise<void>; finish: () => void }
  >();
  for (const entry of selected) {
    let finish = () => {};
    const done = new Promise<void>((resolve) => finish = resolve);
    firstRounds.set(entry, { pending: context.sides.length, done, finish });
  }
  type Task = { entry: FreshEntry; side: Side; round: number };
  const tasks: Task[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const entry of selected) {
      for (const side of context.sides) tasks.push({ entry, side, round });
    }
  }
  const run = async ({ entry, side, round }: Task) => {
    const first = firstRounds.get(entry)!;
    if (round > 0) await first.done;
    try {
      if (skipRound(entry.rows, side, round)) return;
      progress(
        `${entry.workload.label}: ${side}${rounds > 1 ? ` (round ${round + 1} of ${rounds})` : ""}`,
      );
      let outcomes: Outcome[];
      try {
        outcomes = await entry.workload.measure(context, side);
      } catch (error) {
        outcomes = entry.rows.map(() => ({ ok: false, reason: errorMessage(error) }));
      }
      entry.rows.forEach((row, index) => row.record(side, outcomes[index]!));
    } finally {
      if (round === 0 && --first.pending === 0) first.finish();
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await run(tasks[next++]!);
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, tasks.length)) }, worker),
  );
}

// ---------------------------------------------------------------------------
// Plan and entry point.

/** Creates a row of `group` (what `--only` may name besides a row's name). */
type PlanRow = (spec: RowSpec, group: string) => Row;

async function commandOutput(command: string, args: string[]): Promise<string | undefined> {
  try {
    const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
      .output();
    return new TextDecoder().decode(output.stdout).trim();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** The machine, the servers and the sizes, printed beside the table. */
async function describeMachine(
  redisVersion: string | undefined,
  commands: ServerCommands,
  sizes: Sizes,
  quick: boolean,
  loadAtStart: number[],
  seconds: number,
): Promise<void> {
  const cpuinfo = await commandOutput("cat", ["/proc/cpuinfo"]) ?? "";
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? "unknown CPU";
  const cores = await commandOutput("nproc", []) ?? String(navigator.hardwareConcurrency);
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(" ");
  console.log("# redis-clone benchmark\n");
  console.log(`- machine: ${cores} cores, ${model}`);
  console.log(
    `- load average (1, 5, 15 min): ${load(loadAtStart)} at the start, ${
      load(Deno.loadavg())
    } at the end; the run took ${Math.round(seconds)} s`,
  );
  console.log(
    `- deno ${Deno.version.deno} (V8 ${Deno.version.v8}); redis-server ${
      redisVersion ?? "not found on PATH (ours only)"
    }`,
  );
  console.log(`- ours: ${describeOurs(commands)}`);
  console.log(
    `- ${quick ? "quick" : "full"} run: median of ${sizes.rounds} interleaved round(s); ` +
      `redis-benchmark -c ${CLIENTS} -r ${formatCount(RANDOM_KEYS)}, ${
        formatCount(sizes.requests)
      } requests per test (${formatCount(sizes.pipelinedRequests)} with -P ${PIPELINE}); ` +
      `the server not being measured is paused; CPU from /proc/<pid>/stat`,
  );
  console.log("");
}

/** The soft and hard open-files limits this process has (and passes on). */
async function openFilesLimits(): Promise<{ soft: number; hard: number }> {
  const text = await commandOutput("sh", ["-c", "ulimit -Sn; ulimit -Hn"]) ?? "";
  const [soft, hard] = text.split("\n").map((line) =>
    line === "unlimited" ? Infinity : Number(line)
  );
  return { soft: soft ?? 0, hard: hard ?? 0 };
}

/**
 * Re-executes this script with the soft limit raised to `needed` (or the
 * hard limit) when it is lower; returns the child's exit code, or undefined
 * to carry on in this process.
 */
async function ensureOpenFiles(needed: number): Promise<number | undefined> {
  const { soft, hard } = await openFilesLimits();
  if (soft >= needed) return undefined;
  if (Deno.env.get("BENCH_REEXECUTED") || hard <= soft) {
    console.error(
      `warning: open-files limit ${soft} (hard ${hard}) is below the ${needed} the connection ` +
        "rows need; they may fail with 'Too many open files'",
    );
    return undefined;
  }
  const limit = Math.min(hard, Math.max(needed, 20_000));
  console.error(`Raising the open-files limit from ${soft} to ${limit} (re-executing).`);
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      'ulimit -Sn "$1" && shift && exec "$@"',
      "sh",
      String(limit),
      Deno.execPath(),
      "run",
      ...BENCH_PERMISSIONS,
      new URL(import.meta.url).pathname,
      ...Deno.args,
    ],
    env: { BENCH_REEXECUTED: "1" },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  return (await child.status).code;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string", multiple: true },
      rounds: { type: "string" },
      list: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(
      "Usage: deno task bench [--quick] [--only <row-name-substring or group>]... " +
        "[--rounds <n>] [--list]",
    );
    console.log(
      "Env: BENCH_OURS_CMD (command prefix for ours), BENCH_OURS_ARGS (extra flags), " +
        "BENCH_OURS_MAIN, BENCH_PORTS (e.g. 7380-7399)",
    );
    return 0;
  }
  const sizes = { ...(values.quick ? QUICK_SIZES : FULL_SIZES) };
  if (values.rounds !== undefined) {
    sizes.rounds = Number(values.rounds);
    if (!Number.isInteger(sizes.rounds) || sizes.rounds < 1) {
      console.error(`--rounds must be a positive integer, got '${values.rounds}'`);
      return 2;
    }
  }

  // The plan: every row, selected or not, so --list and --only see them all.
  const allRows: Row[] = [];
  const groups = new Map<Row, string>();
  const only = (values.only ?? []).map((term) => term.toLowerCase());
  const planRow: PlanRow = (spec, group) => {
    const row = new Row(spec);
    row.selected = only.length === 0 ||
      only.some((term) => term === group || spec.name.toLowerCase().includes(term));
    allRows.push(row);
    groups.set(row, group);
    return row;
  };
  const throughput = throughputSteps(sizes, planRow);
  const aofStep: BenchmarkStep = {
    label: "SET, AOF everysec",
    spec: {
      test: "set",
      requests: sizes.requests,
      clients: CLIENTS,
      pipeline: 1,
      randomKeys: RANDOM_KEYS,
    },
    outputs: [{
      row: planRow({
        name: "SET, AOF everysec",
        unit: "rps",
        target: higher(0.95),
        cpuTarget: 1.2,
      }, "aof"),
      pick: "rps",
    }],
  };
  const fresh = freshWorkloads(sizes).map((workload) => ({
    workload,
    rows: workload.rows.map((spec) => planRow(spec, workload.group)),
  }));
  if (values.list) {
    for (const row of allRows) console.log(`${groups.get(row)!.padEnd(12)} ${row.name}`);
    return 0;
  }
  if (!allRows.some((row) => row.selected)) {
    console.error(
      `No row name contains '${only.join("' or '")}' and no group is named so. Rows:\n  ${
        allRows.map((row) => row.name).join("\n  ")
      }`,
    );
    return 2;
  }

  if (await commandOutput("redis-benchmark", ["--version"]) === undefined) {
    console.error("redis-benchmark is not on PATH; it is needed for the throughput rows.");
    return 1;
  }
  const needsSockets = allRows.some((row) => row.selected && /connection|clients/.test(row.name));
  if (needsSockets) {
    const code = await ensureOpenFiles(
      Math.max(sizes.acceptConnections, IDLE_SOCKET_BUDGET) + 1000,
    );
    if (code !== undefined) return code;
  }
  const redisVersion = await commandOutput("redis-server", ["--version"]);
  const commands = serverCommandsFromEnvironment();
  const loadAtStart = Deno.loadavg();
  console.error(
    `Benchmark (${values.quick ? "quick" : "full"}): ours = ${describeOurs(commands)}; ` +
      `load average ${loadAtStart.map((value) => value.toFixed(2)).join(" ")}`,
  );

  const temporaryRoot = await Deno.makeTempDir({ prefix: "redis-clone-bench-" });
  let directoryCounter = 0;
  const freshDirectory = async (label: string) => {
    const path = join(temporaryRoot, `${label}-${++directoryCounter}`);
    await Deno.mkdir(path);
    return path;
  };
  const context: Context = {
    sides: redisVersion !== undefined ? ["ours", "redis"] : ["ours"],
    sizes,
    commands,
    temporaryRoot,
    freshDirectory,
    setCommandsFile: once(async () => {
      const path = join(temporaryRoot, "set-commands.resp");
      await writeSetCommands(path, sizes.keys);
      return path;
    }),
    referenceDump: once(async () => {
      const path = join(temporaryRoot, "reference.rdb");
      await writeReferenceDump(
        commands,
        await freshDirectory("reference"),
        await context.setCommandsFile(),
        sizes.keys,
        path,
      );
      return path;
    }),
  };

  const onSignal = () => {
    console.error("\nInterrupted: stopping servers and removing temporary files.");
    killAllChildren();
    try {
      Deno.removeSync(temporaryRoot, { recursive: true });
    } catch {
      // Nothing left.
    }
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const begin = performance.now();
  try {
    await runBenchmarkPair(context, "Throughput, persistence off", PERSISTENCE_OFF, throughput);
    await runBenchmarkPair(context, "AOF everysec", AOF_EVERYSEC, [aofStep]);
    for (let first = 0; first < fresh.length;) {
      const pool = fresh[first]!.workload.pool;
      let end = first + 1;
      while (pool !== undefined && end < fresh.length && fresh[end]!.workload.pool === pool) end++;
      const group = fresh.slice(first, end);
      await runFreshGroup(context, group, group[0]!.workload.concurrency ?? 1);
      first = end;
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    killAllChildren();
    await Deno.remove(temporaryRoot, { recursive: true }).catch(() => {});
  }
  const seconds = (performance.now() - begin) / 1000;
  console.error(`Finished in ${seconds.toFixed(0)} s\n`);
  await describeMachine(redisVersion, commands, sizes, values.quick, loadAtStart, seconds);
  if (redisVersion === undefined) console.log("redis-server is not on PATH: ours only.\n");
  printReport(allRows, redisVersion !== undefined);
  return 0;
}

if (import.meta.main) {
  let code = 1;
  try {
    code = await main();
  } catch (error) {
    console.error(`bench: ${errorMessage(error)}`);
  } finally {
    killAllChildren();
  }
  Deno.exit(code);
}
