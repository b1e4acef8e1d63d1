/**
 * Memory benchmark: bytes per element for every value type, ours against
 * `redis-server`.
 *
 * Each shape (1M string keys; hashes, lists, sets and sorted sets as many
 * small collections and as one or a few big ones) is loaded into a fresh
 * server, then into a fresh `redis-server`, one at a time: the machine has two
 * cores, and a second server holding gigabytes would only add noise. The
 * figure is memory growth divided by the number of elements loaded (fields,
 * list entries, members; for strings, keys), so key and collection overhead
 * is spread over the elements, as a capacity planner would count it.
 *
 * - Ours: process RSS (from `ps`, since Deno reads /proc only with -A) before
 *   and after loading; the server has no GC command, so "after" is sampled
 *   once the load has been idle for `--settle` ms. INFO's used_memory (V8
 *   heap used plus external) is shown too, to tell heap from RSS overhead.
 * - Redis: the growth of `INFO memory` used_memory (what the allocator hands
 *   out) and used_memory_rss (resident pages, what the ratio is taken
 *   against), which Redis refreshes from its cron.
 *
 * Data goes over one raw RESP connection, pipelined in batches (at most
 * `BATCH_COMMANDS` commands or `BATCH_BYTES` bytes; the next batch is sent
 * while the replies of the previous one are read) so neither side pays a
 * round trip per command. Collections get up to `ELEMENTS_PER_COMMAND`
 * elements per HSET/RPUSH/SADD/ZADD. Values are 16 pseudo-random bytes
 * covering all 256 byte values, so the run also checks the server is binary
 * safe and that such values do not cost more than ASCII: after loading,
 * DBSIZE, the element count of the last key and one stored element are
 * checked. Field names and members are unique across the whole shape (see
 * `encodeElements`). A shape whose commands get an error reply (a command not
 * implemented yet) or fail a check shows `n/a (...)` instead of a figure.
 *
 * Usage:
 *
 * ```sh
 * deno run --allow-net --allow-read --allow-write --allow-env --allow-run --allow-sys \
 *   bench/memory.ts [--quick] [--only <shape-substring>] [--settle <ms>] [--server ours|redis]
 * BENCH_OURS_ARGS="--v8-flags=--max-semi-space-size=1 --transport deno" deno run ... bench/memory.ts
 * BENCH_OURS_MAIN=/tmp/experiment/src/main.ts deno run ... bench/memory.ts --only strings
 * ```
 *
 * `BENCH_OURS_ARGS` words starting with `--v8-flags` go to `deno run`, the rest
 * to the server. `BENCH_OURS_MAIN` runs another copy of the server (to measure
 * a change before making it). `--quick` loads a tenth of each size; `--server`
 * measures one side only. The full run takes about 80 s on an idle machine.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { parseReply, type Reply, ReplyError } from "./resp.ts";

const HOST = "127.0.0.1";
const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const MAIN_MODULE = join(REPO_ROOT, "src", "main.ts");
/** A batch is flushed at whichever limit comes first. */
const BATCH_COMMANDS = 1000;
const BATCH_BYTES = 256 * 1024;
const ELEMENTS_PER_COMMAND = 100;
const VALUE_BYTES = 16;
/** Idle time before the "empty" sample, so start-up allocation is over. */
const WARM_UP_MS = 1000;
const DEFAULT_SETTLE_MS = 2000;
/** A shape that takes longer than this on one server costs its row, not the run. */
const LOAD_TIMEOUT_MS = 300_000;
const START_TIMEOUT_MS = 30_000;
const REDIS_RSS_TARGET = 2.0;

type ValueKind = "string" | "hash" | "list" | "set" | "zset";
type Side = "ours" | "redis";

/** One row of the table: `keys` keys of `kind`, each holding `perKey` elements. */
interface Shape {
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
  zset: "zsets",
};

function planShapes(scale: number): Shape[] {
  const million = 1_000_000 * scale;
  const many = 10_000 * scale;
  const shape = (kind: ValueKind, keys: number, perKey: number): Shape => ({
    name: kind === "string"
      ? `strings ${count(keys)} x ${VALUE_BYTES} B`
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
    shape("zset", many, 100),
    shape("zset", 1, million),
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
  zset: "zset:",
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
  const perCommand = shape.kind === "string" ? 1 : ELEMENTS_PER_COMMAND;
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
// A minimal RESP2 connection: pipelined writes, replies parsed one at a time.

function describeReply(reply: Reply): string {
  if (reply instanceof ReplyError) return reply.message;
  const text = JSON.stringify(reply);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

class RespConnection {
  #conn: Deno.Conn;
  #buffer = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  static async open(port: number): Promise<RespConnection> {
    const conn = await Deno.connect({ hostname: HOST, port });
    conn.setNoDelay(true);
    return new RespConnection(conn);
  }

  async send(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
  }

  async command(...args: string[]): Promise<Reply> {
    const encoder = new BatchEncoder(256);
    encoder.command(args.length);
    for (const arg of args) encoder.argument(arg);
    await this.send(encoder.take());
    return await this.reply();
  }

  async reply(): Promise<Reply> {
    for (;;) {
      const parsed = parseReply(this.#buffer, this.#start, this.#end);
      if (parsed !== undefined) {
        this.#start = parsed[1];
        return parsed[0];
      }
      await this.#fill();
    }
  }

  async #fill(): Promise<void> {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end === this.#buffer.length) {
      const pending = this.#end - this.#start;
      const target = pending * 2 > this.#buffer.length
        ? new Uint8Array(this.#buffer.length * 2)
        : this.#buffer;
      target.set(this.#buffer.subarray(this.#start, this.#end));
      this.#buffer = target;
      this.#start = 0;
      this.#end = pending;
    }
    const read = await this.#conn.read(this.#buffer.subarray(this.#end));
    if (read === null) throw new Error("connection closed by the server");
    this.#end += read;
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }
}

// ---------------------------------------------------------------------------
// Servers, one at a time. Every spawned process is tracked so errors and
// Ctrl-C kill it.

const liveChildren = new Set<Deno.ChildProcess>();

function killAll(): void {
  for (const child of liveChildren) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function freePort(): number {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Splits a flag string on blanks, honouring 'single' and "double" quotes. */
function splitWords(text: string): string[] {
  return [...text.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

interface OursCommand {
  main: string;
  denoFlags: string[];
  serverFlags: string[];
}

class ServerProcess {
  #child: Deno.ChildProcess;
  #exited = false;
  #stderr = "";
  #stderrDone: Promise<void>;

  private constructor(readonly side: Side, readonly port: number, child: Deno.ChildProcess) {
    this.#child = child;
    liveChildren.add(child);
    child.status.finally(() => {
      this.#exited = true;
      liveChildren.delete(child);
    });
    this.#stderrDone = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of child.stderr) {
        this.#stderr = (this.#stderr + decoder.decode(chunk, { stream: true })).slice(-4000);
      }
    })().catch(() => {});
  }

  get pid(): number {
    return this.#child.pid;
  }

  get stderrTail(): string {
    return this.#stderr.trim().split("\n").slice(-5).join("\n");
  }

  static async start(side: Side, ours: OursCommand, dir: string): Promise<ServerProcess> {
    const port = freePort();
    const common = ["--port", String(port), "--bind", HOST, "--appendonly", "no"];
    const [program, args] = side === "ours"
      ? [Deno.execPath(), [
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-write",
        ...ours.denoFlags,
        ours.main,
        ...common,
        ...ours.serverFlags,
      ]]
      : ["redis-server", [...common, "--save", "", "--daemonize", "no", "--dir", dir]];
    const child = new Deno.Command(program, {
      args,
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const server = new ServerProcess(side, port, child);
    const deadline = performance.now() + START_TIMEOUT_MS;
    for (;;) {
      if (server.#exited) {
        await server.#stderrDone;
        throw new Error(`${side} server exited at start: ${server.stderrTail}`);
      }
      try {
        const connection = await RespConnection.open(port);
        try {
          if (await connection.command("PING") === "PONG") return server;
        } finally {
          connection.close();
        }
      } catch {
        // Not listening yet.
      }
      if (performance.now() > deadline) {
        await server.stop();
        throw new Error(`${side} server did not answer PING within ${START_TIMEOUT_MS} ms`);
      }
      await sleep(50);
    }
  }

  kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }

  /** SIGTERM, then SIGKILL after five seconds. */
  async stop(): Promise<void> {
    if (!this.#exited) {
      try {
        this.#child.kill("SIGTERM");
      } catch {
        // Exited meanwhile.
      }
      const timer = setTimeout(() => this.kill(), 5000);
      await this.#child.status;
      clearTimeout(timer);
    }
    await this.#stderrDone;
  }

  /** Resident set size in bytes, from `ps` (Deno reads /proc only with -A). */
  async rss(): Promise<number> {
    const output = await new Deno.Command("ps", {
      args: ["-o", "rss=", "-p", String(this.pid)],
      stdout: "piped",
      stderr: "null",
    }).output();
    const kilobytes = Number(new TextDecoder().decode(output.stdout).trim());
    if (!output.success || !Number.isFinite(kilobytes)) {
      throw new Error(`ps found no process ${this.pid}`);
    }
    return kilobytes * 1024;
  }
}

// ---------------------------------------------------------------------------
// Measuring one shape on one server.

/** Memory figures at one moment; `usedMemory`/`usedRss` come from INFO when it has them. */
interface Sample {
  rss: number;
  usedMemory: number | undefined;
  usedRss: number | undefined;
}

interface Measurement {
  ok: true;
  before: Sample;
  after: Sample;
  elements: number;
  loadSeconds: number;
  /** Longest round trip of one batch: a stall shows here rather than as a slow server. */
  slowestBatchMs: number;
}

type Outcome = Measurement | { ok: false; reason: string };

/** The outcome of a side left out with `--server`. */
const NOT_RUN: Outcome = { ok: false, reason: "not run" };

async function sample(server: ServerProcess, connection: RespConnection): Promise<Sample> {
  const info = await connection.command("INFO", "memory");
  const field = (name: string) => {
    const match = typeof info === "string" ? new RegExp(`^${name}:(\\d+)`, "m").exec(info) : null;
    return match ? Number(match[1]) : undefined;
  };
  return {
    rss: await server.rss(),
    usedMemory: field("used_memory"),
    usedRss: field("used_memory_rss"),
  };
}

class LoadFailure extends Error {}

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
      throw new LoadFailure(`${firstError.message} (in commands ${sent + 1}-${sent + commands})`);
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
    const reply = await connection.command(...args);
    if (JSON.stringify(reply) !== JSON.stringify(expected)) {
      throw new LoadFailure(
        `${args[0]} replied ${describeReply(reply)}, expected ${describeReply(expected)}`,
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
    case "zset":
      await expect(["ZCARD", lastKey], shape.perKey);
      await expect(["ZSCORE", firstKey, memberName(1)], scoreText(1));
      return;
  }
}

async function measure(
  side: Side,
  shape: Shape,
  ours: OursCommand,
  settleMs: number,
): Promise<Outcome> {
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
    server = await ServerProcess.start(side, ours, dir);
    connection = await RespConnection.open(server.port);
    await sleep(WARM_UP_MS);
    const before = await sample(server, connection);
    const begin = performance.now();
    const slowestBatchMs = await load(connection, shape);
    const loadSeconds = (performance.now() - begin) / 1000;
    await verify(connection, shape);
    await sleep(settleMs);
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
    if (timedOut) return { ok: false, reason: `timed out after ${LOAD_TIMEOUT_MS / 1000} s` };
    if (error instanceof LoadFailure) return { ok: false, reason: error.message };
    const tail = server?.stderrTail;
    return { ok: false, reason: errorMessage(error) + (tail ? ` (stderr: ${tail})` : "") };
  } finally {
    clearTimeout(timer);
    connection?.close();
    await server?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

// ---------------------------------------------------------------------------
// Report.

function perElement(
  outcome: Outcome,
  pick: (sample: Sample) => number | undefined,
): number | undefined {
  if (!outcome.ok) return undefined;
  const before = pick(outcome.before);
  const after = pick(outcome.after);
  return before === undefined || after === undefined
    ? undefined
    : (after - before) / outcome.elements;
}

/** A table cell; a failed side gives its reason in its first cell only (`withReason`). */
function figure(outcome: Outcome, value: number | undefined, withReason = false): string {
  if (outcome === NOT_RUN) return "-";
  if (!outcome.ok) {
    if (!withReason) return "n/a";
    return `n/a (${
      outcome.reason.length > 70 ? `${outcome.reason.slice(0, 67)}...` : outcome.reason
    })`;
  }
  return value === undefined ? "-" : value.toFixed(1);
}

interface Row {
  shape: Shape;
  ours: Outcome;
  redis: Outcome;
}

function printTable(rows: Row[]): void {
  const header = [
    "type/shape",
    "ours B/elem (RSS)",
    "ours B/elem (heap)",
    "redis B/elem (used_memory)",
    "redis B/elem (rss)",
    "ours/redis-rss",
  ];
  const lines = rows.map(({ shape, ours, redis }) => {
    const oursRss = perElement(ours, (s) => s.rss);
    const redisRss = perElement(redis, (s) => s.usedRss);
    const ratio = oursRss !== undefined && redisRss !== undefined && redisRss > 0
      ? `${(oursRss / redisRss).toFixed(2)}x`
      : "-";
    return [
      shape.name,
      figure(ours, oursRss, true),
      figure(ours, perElement(ours, (s) => s.usedMemory)),
      figure(redis, perElement(redis, (s) => s.usedMemory), true),
      figure(redis, redisRss),
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
    const detail = (side: Side, outcome: Outcome) => {
      if (outcome === NOT_RUN) return `${side}: not run`;
      if (!outcome.ok) return `${side}: n/a (${outcome.reason})`;
      const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
      const used = outcome.after.usedMemory === undefined
        ? ""
        : `, used_memory ${mib(outcome.before.usedMemory ?? 0)} -> ${
          mib(outcome.after.usedMemory)
        }`;
      return `${side}: RSS ${mib(outcome.before.rss)} -> ${mib(outcome.after.rss)}${used}, ` +
        `loaded in ${outcome.loadSeconds.toFixed(1)} s (slowest batch ${
          outcome.slowestBatchMs.toFixed(0)
        } ms)`;
    };
    console.log(`${shape.name}: ${detail("ours", ours)}; ${detail("redis", redis)}`);
  }
  const strings = rows.find((row) => row.shape.kind === "string");
  if (strings) {
    const ours = perElement(strings.ours, (s) => s.rss);
    const redis = perElement(strings.redis, (s) => s.usedRss);
    if (ours !== undefined && redis !== undefined) {
      const ratio = ours / redis;
      console.log(
        `\nGoal (${strings.shape.name}): ours RSS growth <= ${REDIS_RSS_TARGET}x redis used_memory_rss growth: ` +
          `${ratio.toFixed(2)}x, ${ratio <= REDIS_RSS_TARGET ? "met" : "NOT met"}`,
      );
    }
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
    console.log("Env: BENCH_OURS_ARGS (server flags; --v8-flags=... go to deno), BENCH_OURS_MAIN");
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
  const extra = splitWords(Deno.env.get("BENCH_OURS_ARGS") ?? "");
  const ours: OursCommand = {
    main: Deno.env.get("BENCH_OURS_MAIN") ?? MAIN_MODULE,
    denoFlags: extra.filter((word) => word.startsWith("--v8-flags")),
    serverFlags: extra.filter((word) => !word.startsWith("--v8-flags")),
  };
  const shapes = planShapes(values.quick ? 0.1 : 1)
    .filter((shape) => values.only === undefined || shape.name.includes(values.only));
  if (shapes.length === 0) {
    console.error(`No shape name contains '${values.only}'.`);
    return 2;
  }
  console.error(
    `Memory benchmark: ${shapes.length} shape(s), ours = ${ours.main} ${extra.join(" ")}, ` +
      `settle ${settleMs} ms; servers run one at a time.`,
  );
  const rows: Row[] = [];
  const begin = performance.now();
  for (const shape of shapes) {
    const row: Row = { shape, ours: NOT_RUN, redis: NOT_RUN };
    for (const side of sides) {
      const outcome = await measure(side, shape, ours, settleMs);
      row[side] = outcome;
      console.error(
        `  ${shape.name.padEnd(24)} ${side.padEnd(5)} ${
          outcome.ok
            ? `${
              ((outcome.after.rss - outcome.before.rss) / outcome.elements).toFixed(1)
            } B/elem RSS, ` +
              `loaded in ${outcome.loadSeconds.toFixed(1)} s`
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
    killAll();
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
    killAll();
  }
  Deno.exit(code);
}
