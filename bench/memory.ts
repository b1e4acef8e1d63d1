/**
 * Memory benchmark: bytes per element for every value type, ours against
 * `redis-server`; bench.ts runs the same shapes as its memory rows.
 *
 * Each shape (1M string keys; hashes, lists, sets, sets of integers and
 * sorted sets as many small collections and as one or a few big ones; a
 * stream of 1M entries) is loaded into a fresh server, then into a fresh
 * `redis-server`, one at a time: the machine has two cores, and a second
 * server holding gigabytes would only add noise. The figure is the growth
 * of the process's resident set (RSS, from /proc, the same instrument for
 * both sides) from before to after loading, and that growth divided by the
 * number of elements loaded (fields, list entries, members, stream entries;
 * for strings, keys), so key and collection overhead is spread over the
 * elements, as a capacity planner would count it.
 *
 * - "Before" is sampled once the fresh server has been quiet (no CPU) for a
 *   while, "after" once the load has been idle for `--settle` ms and the
 *   server is quiet again: ours compacts its heap a second after traffic
 *   stops, and that is the memory it keeps. No command may be sent during
 *   the wait (a command is activity and would postpone the compaction), so
 *   RSS comes from /proc before INFO is asked.
 * - INFO's used_memory is shown beside: for ours the V8 heap used plus
 *   external buffers, for Redis what its allocator handed out, which tells
 *   data from allocator and heap slack. Redis's used_memory_rss is its own
 *   view of the same RSS.
 *
 * Data goes over one raw RESP connection, pipelined in batches (at most
 * `BATCH_COMMANDS` commands or `BATCH_BYTES` bytes; the next batch is sent
 * while the replies of the previous one are read) so neither side pays a
 * round trip per command. Collections get up to `ELEMENTS_PER_COMMAND`
 * elements per HSET/RPUSH/SADD/ZADD; a stream gets one XADD per entry with
 * explicit IDs, 10 per millisecond, `{sensor, temp}` fields as
 * bench/stream_memory.ts builds them. Values are 16 pseudo-random bytes
 * covering all 256 byte values, so the run also checks the server is binary
 * safe and that such values do not cost more than ASCII: after loading,
 * DBSIZE, the element count of the last key and one stored element are
 * checked. Field names and members are unique across the whole shape (see
 * `encodeElements`). A shape whose commands get "ERR unknown command" shows
 * "not implemented yet"; one that fails a check shows `n/a (...)`.
 *
 * Usage:
 *
 * ```sh
 * deno run --allow-net --allow-read --allow-write --allow-env --allow-run --allow-sys \
 *   bench/memory.ts [--quick] [--only <shape-substring>] [--settle <ms>] [--server ours|redis]
 * BENCH_OURS_ARGS="--v8-flags=--max-semi-space-size=1" deno run ... bench/memory.ts
 * BENCH_OURS_MAIN=/tmp/experiment/src/main.ts deno run ... bench/memory.ts --only strings
 * ```
 *
 * Ours is started as bench/servers.ts describes (`BENCH_OURS_CMD`,
 * `BENCH_OURS_MAIN`, `BENCH_OURS_ARGS`). `--quick` loads a tenth of each
 * size; `--server` measures one side only. The full run takes about two
 * minutes on an idle machine.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { isUnknownCommand, type Reply, ReplyError, RespConnection } from "./resp.ts";
import { sampleProcessTree, waitUntilQuiet } from "./process_stats.ts";
import {
  errorMessage,
  killAllChildren,
  type ServerCommands,
  serverCommandsFromEnvironment,
  ServerProcess,
  type Side,
  sleep,
} from "./servers.ts";

/** A batch is flushed at whichever limit comes first. */
const BATCH_COMMANDS = 1000;
const BATCH_BYTES = 256 * 1024;
const ELEMENTS_PER_COMMAND = 100;
const VALUE_BYTES = 16;
/** Idle time before the "empty" sample, so start-up allocation is over. */
const WARM_UP_MS = 300;
/** The default `--settle`: ours compacts after one idle second. */
export const DEFAULT_SETTLE_MS = 2000;
/** A shape that takes longer than this on one server costs its row, not the run. */
const LOAD_TIMEOUT_MS = 300_000;
const RSS_TARGET = 1.5;
/** Stream entry IDs: `BASE_MS + i / 10` milliseconds, sequence `i % 10`. */
const STREAM_BASE_MS = 1_700_000_000_000;
const STREAM_ENTRIES_PER_MS = 10;

type ValueKind = "string" | "hash" | "list" | "set" | "intset" | "zset" | "stream";

/** One row of the table: `keys` keys of `kind`, each holding `perKey` elements. */
export interface Shape {
  name: string;
  kind: ValueKind;
  keys: number;
  perKey: number;
}

const PLURAL: Record<ValueKind, string> = {
  string: "strings",
  hash: "hashes",
  list: "lists",
  set: "sets",
  intset: "integer sets",
  zset: "zsets",
  stream: "streams",
};

/**
 * The shapes at `scale` (1 for the full sizes, 0.1 for `--quick`).
 *
 * @example
 * ```ts
 * planShapes(1)[0]; // { name: "strings 1M x 16 B", kind: "string", keys: 1000000, perKey: 1 }
 * ```
 */
export function planShapes(scale: number): Shape[] {
  const million = 1_000_000 * scale;
  const many = 10_000 * scale;
  const shape = (kind: ValueKind, keys: number, perKey: number): Shape => ({
    name: kind === "string"
      ? `strings ${count(keys)} x ${VALUE_BYTES} B`
      : kind === "stream"
      ? `stream of ${count(perKey)} entries`
      : `${PLURAL[kind]} ${count(keys)} x ${count(perKey)}`,
    kind,
    keys,
    perKey,
  });
  return [
    shape("string", million, 1),
    shape("hash", many, 100),
    shape("hash", 10, 100_000 * scale),
    shape("list", many, 100),
    shape("list", 1, million),
    shape("set", many, 100),
    shape("set", 1, million),
    shape("intset", many, 100),
    shape("zset", many, 100),
    shape("zset", 1, million),
    shape("stream", 1, million),
  ];
}

/** `1000000` as `1M`, `10000` as `10k`. */
function count(value: number): string {
  if (value >= 1_000_000 && value % 1_000_000 === 0) return `${value / 1_000_000}M`;
  if (value >= 1000 && value % 1000 === 0) return `${value / 1000}k`;
  return String(value);
}

// ---------------------------------------------------------------------------
// Data. Every element is a pure function of its position, so any one can be
// regenerated to check what the server stored.

const KEY_PREFIX: Record<ValueKind, string> = {
  string: "key:",
  hash: "hash:",
  list: "list:",
  set: "set:",
  intset: "intset:",
  zset: "zset:",
  stream: "stream:",
};

/** `key:%09d` and friends. */
function keyName(shape: Shape, index: number): string {
  return KEY_PREFIX[shape.kind] + String(index).padStart(9, "0");
}

/** Hash fields: `field:%07d` (13 bytes). */
function fieldName(index: number): string {
  return `field:${String(index).padStart(7, "0")}`;
}

/** Set and sorted set members: `member:%09d` (16 bytes, not an integer). */
function memberName(index: number): string {
  return `member:${String(index).padStart(9, "0")}`;
}

/** Members of integer sets: the element number itself, so Redis keeps them as an intset. */
function integerMember(index: number): string {
  return String(index);
}

/** Stream entry IDs as `XADD *` gives them to a producer of 10k entries/s. */
function streamId(index: number): string {
  const ms = STREAM_BASE_MS + Math.floor(index / STREAM_ENTRIES_PER_MS);
  return `${ms}-${index % STREAM_ENTRIES_PER_MS}`;
}

/** The `{sensor, temp}` fields of stream entry `index` (sensor 1-50, temp 15.0-30.0). */
function streamFields(index: number): string[] {
  const sensor = String(1 + (mix(index) % 50));
  const temp = ((150 + (mix(index ^ 0x5bd1e995) % 151)) / 10).toFixed(1);
  return ["sensor", sensor, "temp", temp];
}

/** Sorted set scores have a fraction, as most real scores do (Redis stores a double either way). */
function scoreText(index: number): string {
  return `${index}.5`;
}

/** A 32-bit integer hash (Chris Wellons' lowbias32), for reproducible pseudo-random bytes. */
function mix(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Writes the 16 value bytes of element `index` (all byte values occur) into `out`. */
function writeValue(index: number, out: Uint8Array, offset: number): void {
  for (let word = 0; word < VALUE_BYTES / 4; word++) {
    const bits = mix(index * 4 + word + 0x9e3779b9);
    out[offset + word * 4] = bits & 255;
    out[offset + word * 4 + 1] = (bits >>> 8) & 255;
    out[offset + word * 4 + 2] = (bits >>> 16) & 255;
    out[offset + word * 4 + 3] = bits >>> 24;
  }
}

/** The value of element `index` as a binary string (one char per byte). */
function valueBinary(index: number): string {
  const bytes = new Uint8Array(VALUE_BYTES);
  writeValue(index, bytes, 0);
  return String.fromCharCode(...bytes);
}

// ---------------------------------------------------------------------------
// RESP encoding straight into a byte buffer: no per-command strings, so the
// generator keeps up with the server.

class BatchEncoder {
  #bytes: Uint8Array;
  #length = 0;
  commands = 0;

  constructor(capacity = BATCH_BYTES * 2) {
    this.#bytes = new Uint8Array(capacity);
  }

  get length(): number {
    return this.#length;
  }

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#length + extra));
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
  }

  /** Appends a binary string, one byte per char. */
  #write(text: string): void {
    this.#reserve(text.length);
    for (let i = 0; i < text.length; i++) this.#bytes[this.#length++] = text.charCodeAt(i);
  }

  /** Starts a command of `argumentCount` arguments. */
  command(argumentCount: number): void {
    this.#write(`*${argumentCount}\r\n`);
    this.commands++;
  }

  /** An argument given as a binary string. */
  argument(value: string): void {
    this.#write(`$${value.length}\r\n`);
    this.#write(value);
    this.#write("\r\n");
  }

  /** The 16-byte value of element `index`, without building a string. */
  value(index: number): void {
    this.#write(`$${VALUE_BYTES}\r\n`);
    this.#reserve(VALUE_BYTES);
    writeValue(index, this.#bytes, this.#length);
    this.#length += VALUE_BYTES;
    this.#write("\r\n");
  }

  /** The encoded commands; the encoder is empty afterwards. */
  take(): Uint8Array {
    const bytes = this.#bytes.slice(0, this.#length);
    this.#length = 0;
    this.commands = 0;
    return bytes;
  }
}

/**
 * Encodes the commands for key `keyIndex`, elements `from` to `to` (exclusive).
 * Element numbers are global (`keyIndex * perKey + i`), so no two elements in
 * the run share a value, a field name or a member. That matters: V8 interns
 * strings used as Map/Set keys, so fields repeated across 10k hashes would be
 * stored once by us and 10k times by Redis's listpacks, flattering us.
 */
function encodeElements(
  encoder: BatchEncoder,
  shape: Shape,
  keyIndex: number,
  from: number,
  to: number,
): void {
  const key = keyName(shape, keyIndex);
  const base = keyIndex * shape.perKey;
  switch (shape.kind) {
    case "string":
      encoder.command(3);
      encoder.argument("SET");
      encoder.argument(key);
      encoder.value(keyIndex);
      return;
    case "hash":
      encoder.command(2 + 2 * (to - from));
      encoder.argument("HSET");
      encoder.argument(key);
      for (let i = from; i < to; i++) {
        encoder.argument(fieldName(base + i));
        encoder.value(base + i);
      }
      return;
    case "list":
      encoder.command(2 + (to - from));
      encoder.argument("RPUSH");
      encoder.argument(key);
      for (let i = from; i < to; i++) encoder.value(base + i);
      return;
    case "set":
      encoder.command(2 + (to - from));
      encoder.argument("SADD");
      encoder.argument(key);
      for (let i = from; i < to; i++) encoder.argument(memberName(base + i));
      return;
    case "intset":
      encoder.command(2 + (to - from));
      encoder.argument("SADD");
      encoder.argument(key);
      for (let i = from; i < to; i++) encoder.argument(integerMember(base + i));
      return;
    case "stream":
      for (let i = from; i < to; i++) {
        const fields = streamFields(i);
        encoder.command(3 + fields.length);
        encoder.argument("XADD");
        encoder.argument(key);
        encoder.argument(streamId(i));
        for (const field of fields) encoder.argument(field);
      }
      return;
    case "zset":
      encoder.command(2 + 2 * (to - from));
      encoder.argument("ZADD");
      encoder.argument(key);
      for (let i = from; i < to; i++) {
        encoder.argument(scoreText(i));
        encoder.argument(memberName(base + i));
      }
      return;
  }
}

/** Every batch of commands that loads `shape`. */
function* batches(shape: Shape): Generator<{ bytes: Uint8Array; commands: number }> {
  const encoder = new BatchEncoder();
  const perCommand = shape.kind === "string" || shape.kind === "stream" ? 1 : ELEMENTS_PER_COMMAND;
  for (let key = 0; key < shape.keys; key++) {
    for (let from = 0; from < shape.perKey; from += perCommand) {
      encodeElements(encoder, shape, key, from, Math.min(from + perCommand, shape.perKey));
      if (encoder.commands >= BATCH_COMMANDS || encoder.length >= BATCH_BYTES) {
        const commands = encoder.commands;
        yield { bytes: encoder.take(), commands };
      }
    }
  }
  if (encoder.commands > 0) {
    const commands = encoder.commands;
    yield { bytes: encoder.take(), commands };
  }
}

// ---------------------------------------------------------------------------
// Measuring one shape on one server.

function describeReply(reply: Reply): string {
  if (reply instanceof ReplyError) return reply.message;
  const text = JSON.stringify(reply);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Memory figures at one moment; `usedMemory`/`usedRss` come from INFO when it has them. */
export interface MemorySample {
  /** Process tree RSS from /proc. */
  rss: number;
  /** Process tree CPU seconds so far. */
  cpuSeconds: number;
  usedMemory: number | undefined;
  usedRss: number | undefined;
}

/** A shape loaded and measured. */
export interface ShapeMeasurement {
  ok: true;
  before: MemorySample;
  after: MemorySample;
  elements: number;
  loadSeconds: number;
  /** Longest round trip of one batch: a stall shows here rather than as a slow server. */
  slowestBatchMs: number;
}

/** A measurement, or why there is none (`notImplemented`: the server lacks a command). */
export type ShapeOutcome = ShapeMeasurement | {
  ok: false;
  reason: string;
  notImplemented: boolean;
};

/** The outcome of a side left out with `--server`. */
const NOT_RUN: ShapeOutcome = { ok: false, reason: "not run", notImplemented: false };

/** RSS and CPU first (no command), then INFO memory. */
async function sample(server: ServerProcess, connection: RespConnection): Promise<MemorySample> {
  const process = await sampleProcessTree(server.pid);
  const info = await connection.command(["INFO", "memory"]);
  const field = (name: string) => {
    const match = typeof info === "string" ? new RegExp(`^${name}:(\\d+)`, "m").exec(info) : null;
    return match ? Number(match[1]) : undefined;
  };
  return {
    rss: process.residentBytes,
    cpuSeconds: process.cpuSeconds,
    usedMemory: field("used_memory"),
    usedRss: field("used_memory_rss"),
  };
}

class LoadFailure extends Error {
  constructor(message: string, readonly notImplemented = false) {
    super(message);
    this.name = "LoadFailure";
  }
}

/**
 * Sends every batch and reads its replies, with the next batch already on its
 * way while the replies of one are read (two batches in flight), so a
 * delayed ACK cannot stall every round trip. The first error reply ends the
 * load. Returns the slowest batch's round trip in ms.
 */
async function load(connection: RespConnection, shape: Shape): Promise<number> {
  let sent = 0;
  let slowestMs = 0;
  const readReplies = async (commands: number, sentAt: number) => {
    let firstError: ReplyError | undefined;
    for (let i = 0; i < commands; i++) {
      const reply = await connection.reply();
      if (reply instanceof ReplyError) firstError ??= reply;
    }
    if (firstError) {
      throw new LoadFailure(
        `${firstError.message} (in commands ${sent + 1}-${sent + commands})`,
        isUnknownCommand(firstError),
      );
    }
    sent += commands;
    slowestMs = Math.max(slowestMs, performance.now() - sentAt);
  };
  let inFlight: Promise<void> | undefined;
  for (const batch of batches(shape)) {
    const sentAt = performance.now();
    const sending = connection.send(batch.bytes);
    // Both awaited before either can reject unobserved.
    const [sendResult, readResult] = await Promise.allSettled([sending, inFlight]);
    if (readResult.status === "rejected") throw readResult.reason;
    if (sendResult.status === "rejected") throw sendResult.reason;
    inFlight = readReplies(batch.commands, sentAt);
  }
  await inFlight;
  return slowestMs;
}

/** DBSIZE, the size of the last key and one stored element, as the data says they must be. */
async function verify(connection: RespConnection, shape: Shape): Promise<void> {
  const expect = async (args: string[], expected: Reply) => {
    const reply = await connection.command(args);
    if (JSON.stringify(reply) !== JSON.stringify(expected)) {
      throw new LoadFailure(
        `${args[0]} replied ${describeReply(reply)}, expected ${describeReply(expected)}`,
        isUnknownCommand(reply),
      );
    }
  };
  await expect(["DBSIZE"], shape.keys);
  const lastKey = keyName(shape, shape.keys - 1);
  const firstKey = keyName(shape, 0);
  switch (shape.kind) {
    case "string":
      await expect(["STRLEN", lastKey], VALUE_BYTES);
      await expect(["GET", firstKey], valueBinary(0));
      return;
    case "hash":
      await expect(["HLEN", lastKey], shape.perKey);
      await expect(["HGET", firstKey, fieldName(1)], valueBinary(1));
      return;
    case "list":
      await expect(["LLEN", lastKey], shape.perKey);
      await expect(["LINDEX", firstKey, "1"], valueBinary(1));
      return;
    case "set":
      await expect(["SCARD", lastKey], shape.perKey);
      await expect(["SISMEMBER", firstKey, memberName(1)], 1);
      return;
    case "intset":
      await expect(["SCARD", lastKey], shape.perKey);
      await expect(["SISMEMBER", firstKey, integerMember(1)], 1);
      return;
    case "zset":
      await expect(["ZCARD", lastKey], shape.perKey);
      await expect(["ZSCORE", firstKey, memberName(1)], scoreText(1));
      return;
    case "stream":
      await expect(["XLEN", lastKey], shape.perKey);
      await expect(["XRANGE", firstKey, streamId(1), streamId(1)], [[
        streamId(1),
        streamFields(1),
      ]]);
      return;
  }
}

/**
 * Loads `shape` into a fresh server of `side` in a temporary directory and
 * samples memory before and after; the server is stopped and the directory
 * removed whatever happens.
 */
export async function measureShape(
  side: Side,
  shape: Shape,
  commands: ServerCommands,
  settleMs = DEFAULT_SETTLE_MS,
): Promise<ShapeOutcome> {
  const dir = await Deno.makeTempDir({ prefix: "redis-clone-memory-" });
  let server: ServerProcess | undefined;
  let connection: RespConnection | undefined;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    connection?.close();
    server?.kill();
  }, LOAD_TIMEOUT_MS);
  try {
    server = await ServerProcess.start(side, commands, { dir, flags: ["--appendonly", "no"] });
    connection = await RespConnection.open(server.port);
    await waitUntilQuiet(server.pid, { minimumMs: WARM_UP_MS, windowMs: 200 });
    const before = await sample(server, connection);
    const begin = performance.now();
    const slowestBatchMs = await load(connection, shape);
    const loadSeconds = (performance.now() - begin) / 1000;
    await verify(connection, shape);
    await sleep(settleMs);
    // A compaction of a big heap can outlast the settle time.
    await waitUntilQuiet(server.pid, { windowMs: 200, maximumMs: 10_000 });
    const after = await sample(server, connection);
    return {
      ok: true,
      before,
      after,
      elements: shape.keys * shape.perKey,
      loadSeconds,
      slowestBatchMs,
    };
  } catch (error) {
    if (timedOut) {
      return {
        ok: false,
        reason: `timed out after ${LOAD_TIMEOUT_MS / 1000} s`,
        notImplemented: false,
      };
    }
    if (error instanceof LoadFailure) {
      return { ok: false, reason: error.message, notImplemented: error.notImplemented };
    }
    const tail = server ? await server.logTail(5) : "";
    return {
      ok: false,
      reason: errorMessage(error) + (tail ? `\n${tail}` : ""),
      notImplemented: false,
    };
  } finally {
    clearTimeout(timer);
    connection?.close();
    await server?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Growth of one figure per element loaded, or undefined where a side lacks it. */
export function perElement(
  outcome: ShapeOutcome,
  pick: (sample: MemorySample) => number | undefined,
): number | undefined {
  if (!outcome.ok) return undefined;
  const before = pick(outcome.before);
  const after = pick(outcome.after);
  return before === undefined || after === undefined
    ? undefined
    : (after - before) / outcome.elements;
}

/** Sizes before and after and how the load went, for notes. */
export function describeMeasurement(outcome: ShapeMeasurement): string {
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  const used = outcome.after.usedMemory === undefined
    ? ""
    : `, used_memory ${mib(outcome.before.usedMemory ?? 0)} -> ${mib(outcome.after.usedMemory)}`;
  const perRss = (outcome.after.rss - outcome.before.rss) / outcome.elements;
  return `RSS ${mib(outcome.before.rss)} -> ${mib(outcome.after.rss)} (${
    perRss.toFixed(1)
  } B/element)${used}, loaded in ${outcome.loadSeconds.toFixed(1)} s (slowest batch ${
    outcome.slowestBatchMs.toFixed(0)
  } ms)`;
}

// ---------------------------------------------------------------------------
// Report.

/** A table cell; a failed side gives its reason in its first cell only (`withReason`). */
function figure(outcome: ShapeOutcome, value: number | undefined, withReason = false): string {
  if (outcome === NOT_RUN) return "-";
  if (!outcome.ok) {
    if (outcome.notImplemented) return "not implemented yet";
    if (!withReason) return "n/a";
    return `n/a (${
      outcome.reason.length > 70 ? `${outcome.reason.slice(0, 67)}...` : outcome.reason
    })`;
  }
  return value === undefined ? "-" : value.toFixed(1);
}

interface TableRow {
  shape: Shape;
  ours: ShapeOutcome;
  redis: ShapeOutcome;
}

function printTable(rows: TableRow[]): void {
  const header = [
    "type/shape",
    "ours B/elem (RSS)",
    "ours B/elem (used_memory)",
    "redis B/elem (RSS)",
    "redis B/elem (used_memory)",
    "ours/redis RSS",
  ];
  const lines = rows.map(({ shape, ours, redis }) => {
    const oursRss = perElement(ours, (s) => s.rss);
    const redisRss = perElement(redis, (s) => s.rss);
    const ratio = oursRss !== undefined && redisRss !== undefined && redisRss > 0
      ? `${(oursRss / redisRss).toFixed(2)}x`
      : "-";
    return [
      shape.name,
      figure(ours, oursRss, true),
      figure(ours, perElement(ours, (s) => s.usedMemory)),
      figure(redis, redisRss, true),
      figure(redis, perElement(redis, (s) => s.usedMemory)),
      ratio,
    ];
  });
  const widths = header.map((title, i) =>
    Math.max(title.length, ...lines.map((line) => line[i]!.length))
  );
  const format = (cells: string[]) =>
    `| ${
      cells.map((cell, i) => i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)).join(
        " | ",
      )
    } |`;
  console.log(format(header));
  console.log(
    `|${
      widths.map((width, i) => i === 0 ? `:${"-".repeat(width + 1)}` : `${"-".repeat(width + 1)}:`)
        .join("|")
    }|`,
  );
  for (const line of lines) console.log(format(line));
  console.log("");
  for (const { shape, ours, redis } of rows) {
    const detail = (side: Side, outcome: ShapeOutcome) => {
      if (outcome === NOT_RUN) return `${side}: not run`;
      if (!outcome.ok) return `${side}: n/a (${outcome.reason})`;
      return `${side}: ${describeMeasurement(outcome)}`;
    };
    console.log(`${shape.name}: ${detail("ours", ours)}; ${detail("redis", redis)}`);
  }
  const met = rows.flatMap(({ shape, ours, redis }) => {
    const oursRss = perElement(ours, (s) => s.rss);
    const redisRss = perElement(redis, (s) => s.rss);
    if (oursRss === undefined || redisRss === undefined || redisRss <= 0) return [];
    return [`${shape.name} ${oursRss / redisRss <= RSS_TARGET ? "met" : "NOT met"}`];
  });
  if (met.length > 0) {
    console.log(`\nTarget: ours RSS growth <= ${RSS_TARGET}x Redis's: ${met.join(", ")}`);
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      settle: { type: "string" },
      server: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      "Usage: bench/memory.ts [--quick] [--only <shape-substring>] [--settle <ms>] " +
        "[--server ours|redis]",
    );
    console.log(
      "Env: BENCH_OURS_CMD, BENCH_OURS_MAIN, BENCH_OURS_ARGS (--v8-flags=... go to deno)",
    );
    return 0;
  }
  const settleMs = values.settle === undefined ? DEFAULT_SETTLE_MS : Number(values.settle);
  if (!Number.isInteger(settleMs) || settleMs < 0) {
    console.error(`--settle must be a number of milliseconds, got '${values.settle}'`);
    return 2;
  }
  if (values.server !== undefined && values.server !== "ours" && values.server !== "redis") {
    console.error(`--server must be ours or redis, got '${values.server}'`);
    return 2;
  }
  const sides: Side[] = values.server === undefined ? ["ours", "redis"] : [values.server];
  const commands = serverCommandsFromEnvironment();
  const shapes = planShapes(values.quick ? 0.1 : 1)
    .filter((shape) => values.only === undefined || shape.name.includes(values.only));
  if (shapes.length === 0) {
    console.error(`No shape name contains '${values.only}'.`);
    return 2;
  }
  console.error(
    `Memory benchmark: ${shapes.length} shape(s), ours = ${commands.ours.join(" ")} ${
      commands.oursExtra.join(" ")
    }, settle ${settleMs} ms; servers run one at a time.`,
  );
  const rows: TableRow[] = [];
  const begin = performance.now();
  for (const shape of shapes) {
    const row: TableRow = { shape, ours: NOT_RUN, redis: NOT_RUN };
    for (const side of sides) {
      const outcome = await measureShape(side, shape, commands, settleMs);
      row[side] = outcome;
      console.error(
        `  ${shape.name.padEnd(24)} ${side.padEnd(5)} ${
          outcome.ok
            ? describeMeasurement(outcome)
            : outcome.notImplemented
            ? `not implemented yet (${outcome.reason})`
            : `n/a (${outcome.reason})`
        }`,
      );
    }
    rows.push(row);
  }
  console.error(`Finished in ${((performance.now() - begin) / 1000).toFixed(0)} s\n`);
  printTable(rows);
  return 0;
}

if (import.meta.main) {
  const onSignal = () => {
    killAllChildren();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let code = 1;
  try {
    code = await main();
  } catch (error) {
    console.error(`memory bench: ${errorMessage(error)}`);
  } finally {
    killAllChildren();
  }
  Deno.exit(code);
}
