/**
 * Benchmark: our server against `redis-server`, workload by workload.
 *
 * Each workload starts a fresh server on a free loopback port, runs a load
 * generator against it, stops it, then does the same with `redis-server`
 * given the same flags. Servers never run side by side: the machine has two
 * cores and the load generator needs one of them, so a second server would
 * only add noise. Throughput and latency come from `redis-benchmark` (one
 * invocation per test, because it exits on the first error reply and a
 * command we have not implemented yet must fail one row, not the run);
 * memory, AOF replay and pub/sub are measured here with a minimal RESP
 * client, which keeps them independent of commands such as ECHO that
 * `redis-cli --pipe` relies on.
 *
 * The machine is shared, and two runs of the very same server can differ by
 * 2x, so every workload runs several rounds, alternating which server goes
 * first (ABBA), and the table keeps each side's best figure; all runs are
 * listed under the table so the noise is visible.
 *
 * Usage:
 *
 * ```sh
 * deno task bench                  # full run, about ten minutes
 * deno task bench --quick          # short sizes, under two minutes
 * deno task bench --only suite     # rows whose name contains "suite"
 * deno task bench --rounds 5       # more rounds on a noisy machine
 * BENCH_OURS_CMD="redis-server" deno task bench --quick   # stand-in for ours
 * BENCH_OURS_ARGS="--transport deno" deno task bench      # extra flags for ours
 * ```
 *
 * `BENCH_OURS_CMD` is a command prefix (simple shell quoting allowed) that
 * should exec the server itself rather than wrap it: stopping signals only
 * the spawned process (memory does count its whole process tree).
 *
 * AOF replay and Redis 7: Redis 7 keeps its AOF as a directory of parts
 * (`appendonlydir/` with a manifest). Given `--appendonly yes --dir D
 * --appendfilename F` where `D/F` is a plain RESP file and `D/appendonlydir`
 * does not exist, Redis 7.0 logs "Successfully migrated an old-style AOF file
 * (F) into the AOF directory", moves `D/F` to `D/appendonlydir/F`, writes a
 * manifest naming it the base file and loads it. Because the file is moved,
 * every start gets its own copy. DBSIZE is checked after every load.
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
const MIB = 1024 * 1024;
const CLIENTS = 50;
const PIPELINE = 16;
const REPLAY_FILE_NAME = "replay.aof";
const PUBSUB_CHANNEL = "bench:channel";
const PUBSUB_PAYLOAD = "0123456789abcdef";

/** How much work each workload does. */
interface Sizes {
  /** Rows 1, 4 and 5: requests per redis-benchmark test, no pipelining. */
  requests: number;
  /** Row 2: requests per test with `-P 16`. */
  pipelinedRequests: number;
  /** Row 3: requests per test of the default suite. */
  suiteRequests: number;
  /** Rows 6 and 7: keys loaded, and SET commands in the replayed AOF. */
  keys: number;
  /** Row 8. */
  subscribers: number;
  messages: number;
  /**
   * Times each workload runs per server, alternating which server goes
   * first; the best figure of each side is kept. The machine is shared, and
   * one run of an identical server can differ by 1.5x from the next.
   */
  rounds: number;
}

const FULL_SIZES: Sizes = {
  requests: 100_000,
  pipelinedRequests: 1_000_000,
  suiteRequests: 50_000,
  keys: 1_000_000,
  subscribers: 1_000,
  messages: 1_000,
  rounds: 3,
};

const QUICK_SIZES: Sizes = {
  requests: 20_000,
  pipelinedRequests: 100_000,
  suiteRequests: 20_000,
  keys: 100_000,
  subscribers: 1_000,
  messages: 100,
  rounds: 2,
};

/** redis-benchmark `-t` names of the default suite, in its own order. */
const SUITE_TESTS = [
  "ping_inline",
  "ping_mbulk",
  "set",
  "get",
  "incr",
  "lpush",
  "rpush",
  "lpop",
  "rpop",
  "sadd",
  "hset",
  "spop",
  "zadd",
  "zpopmin",
  "lrange_100",
  "lrange_300",
  "mset",
] as const;

type Side = "ours" | "redis";
type Unit = "rps" | "ms" | "bytes" | "seconds" | "deliveries";

/** Whether a bigger figure is better, which decides the best of several rounds. */
const BIGGER_IS_BETTER: Record<Unit, boolean> = {
  rps: true,
  ms: false,
  bytes: false,
  seconds: false,
  deliveries: true,
};

/** A measurement, or why there is none. */
type Outcome =
  | { ok: true; value: number; detail?: string }
  | { ok: false; reason: string; skipped?: boolean };

/** Pass when ours/redis is at least (`higher`) or at most (`lower`) `bound`. */
interface Target {
  better: "higher" | "lower";
  bound: number;
}

interface Row {
  name: string;
  unit: Unit;
  target?: Target;
  selected: boolean;
  /** Best figure so far per side; a failure in any round sticks. */
  results: Partial<Record<Side, Outcome>>;
  /** Every figure per side, in the order measured. */
  samples: Partial<Record<Side, number[]>>;
  /** Set for derived rows (the geometric mean) instead of ours/redis values. */
  ratio?: number;
  /** Fails the row whatever its ratio (the mean when some of its parts failed). */
  failure?: string;
  notes: string[];
}

// ---------------------------------------------------------------------------
// Process bookkeeping: everything spawned is tracked so Ctrl-C and errors can
// kill it, and the temporary root is removed on every exit path.

const liveChildren = new Set<Deno.ChildProcess>();
let temporaryRoot: string | undefined;

function track(child: Deno.ChildProcess): Deno.ChildProcess {
  liveChildren.add(child);
  child.status.finally(() => liveChildren.delete(child));
  return child;
}

function cleanupSync(): void {
  for (const child of liveChildren) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
  if (temporaryRoot) {
    try {
      Deno.removeSync(temporaryRoot, { recursive: true });
    } catch {
      // Nothing left to remove.
    }
    temporaryRoot = undefined;
  }
}

function onSignal(): void {
  console.error("\nInterrupted: stopping servers and removing temporary files.");
  cleanupSync();
  Deno.exit(130);
}

let directoryCounter = 0;

async function freshDirectory(label: string): Promise<string> {
  const path = join(temporaryRoot!, `${label}-${++directoryCounter}`);
  await Deno.mkdir(path);
  return path;
}

// ---------------------------------------------------------------------------
// Small helpers.

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Races `promise` against a timer that runs `onTimeout` and rejects; the timer never outlives it. */
async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  onTimeout: () => void = () => {},
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`${what} timed out after ${(ms / 1000).toFixed(0)} s`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves true if `promise` settles within `ms`, false otherwise. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  try {
    await withTimeout(promise.then(() => {}, () => {}), ms, "wait");
    return true;
  } catch {
    return false;
  }
}

async function writeAll(
  writer: { write(bytes: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await writer.write(bytes.subarray(written));
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Splits a command line with simple shell quoting ('single', "double", backslash). */
function splitCommandLine(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === "\\" && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (char === "\\" && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (quote) throw new Error(`Unterminated ${quote} quote in '${text}'`);
  if (inWord) words.push(word);
  return words;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Resident set size of `pid` and all its descendants. Deno refuses to read
 * /proc without --allow-all, so this asks `ps`.
 */
async function processTreeRss(pid: number): Promise<number> {
  const output = await new Deno.Command("ps", {
    args: ["-e", "-o", "pid=,ppid=,rss="],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const line of decoder.decode(output.stdout).split("\n")) {
    const [process, parent, kilobytes] = line.trim().split(/\s+/).map(Number);
    if (process === undefined || parent === undefined || kilobytes === undefined) continue;
    rss.set(process, kilobytes * 1024);
    children.set(parent, [...(children.get(parent) ?? []), process]);
  }
  if (!rss.has(pid)) throw new Error(`process ${pid} is not running`);
  let total = 0;
  const pending = [pid];
  while (pending.length > 0) {
    const current = pending.pop()!;
    total += rss.get(current) ?? 0;
    pending.push(...(children.get(current) ?? []));
  }
  return total;
}

/** Reads a /proc file through `cat`, for the same reason. */
async function readProcFile(path: string): Promise<string> {
  const output = await new Deno.Command("cat", { args: [path], stdout: "piped", stderr: "null" })
    .output();
  return decoder.decode(output.stdout);
}

// ---------------------------------------------------------------------------
// A minimal RESP2 client: enough for PING, DBSIZE, INFO, SUBSCRIBE, PUBLISH.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encodeCommand(args: readonly string[]): Uint8Array {
  let text = `*${args.length}\r\n`;
  for (const arg of args) text += `$${encoder.encode(arg).length}\r\n${arg}\r\n`;
  return encoder.encode(text);
}

class RespClient {
  #conn: Deno.Conn;
  #buffer = new Uint8Array(0);
  #chunk = new Uint8Array(64 * 1024);
  #closed = false;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  static async connect(port: number): Promise<RespClient> {
    return new RespClient(await Deno.connect({ hostname: HOST, port }));
  }

  async write(bytes: Uint8Array): Promise<void> {
    await writeAll(this.#conn, bytes);
  }

  async #fill(): Promise<number> {
    const count = await this.#conn.read(this.#chunk);
    if (count === null) throw new Error("Connection closed by the server");
    const joined = new Uint8Array(this.#buffer.length + count);
    joined.set(this.#buffer);
    joined.set(this.#chunk.subarray(0, count), this.#buffer.length);
    this.#buffer = joined;
    return count;
  }

  async readReply(): Promise<Reply> {
    for (;;) {
      const parsed = this.#buffer.length > 0 ? parseReply(this.#buffer, 0) : undefined;
      if (parsed) {
        this.#buffer = this.#buffer.subarray(parsed[1]);
        return parsed[0];
      }
      await this.#fill();
    }
  }

  /** Reads and discards exactly `count` bytes (pub/sub deliveries of known size). */
  async skipBytes(count: number): Promise<void> {
    let remaining = count;
    const buffered = Math.min(remaining, this.#buffer.length);
    this.#buffer = this.#buffer.subarray(buffered);
    remaining -= buffered;
    while (remaining > 0) {
      const read = await this.#conn.read(this.#chunk);
      if (read === null) throw new Error(`Connection closed with ${remaining} bytes missing`);
      remaining -= read;
    }
  }

  async command(args: readonly string[], timeoutMs = 30_000): Promise<Reply> {
    await this.write(encodeCommand(args));
    return await withTimeout(this.readReply(), timeoutMs, args[0]!, () => this.close());
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }
}

/** Polls PING until it answers +PONG (not -LOADING), the deadline passes, or `gone()` says the process died. */
async function waitForPong(port: number, timeoutMs: number, gone: () => boolean): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = "no connection";
  while (performance.now() < deadline) {
    if (gone()) throw new Error("exited before answering PING");
    let client: RespClient;
    try {
      client = await RespClient.connect(port);
    } catch (error) {
      last = errorMessage(error);
      await sleep(10);
      continue;
    }
    try {
      while (performance.now() < deadline && !gone()) {
        const reply = await client.command(["PING"], Math.max(1, deadline - performance.now()));
        if (reply === "PONG") return;
        last = reply instanceof ReplyError ? reply.message : JSON.stringify(reply);
        await sleep(10);
      }
    } catch (error) {
      last = errorMessage(error);
    } finally {
      client.close();
    }
    await sleep(10);
  }
  throw new Error(`no PONG within ${(timeoutMs / 1000).toFixed(0)} s (last: ${last})`);
}

// ---------------------------------------------------------------------------
// Servers.

interface Commands {
  /** Command prefix for ours; our flags are appended. */
  ours: string[];
  /** Extra flags for ours only (BENCH_OURS_ARGS). */
  oursExtra: string[];
}

class ServerProcess {
  readonly side: Side;
  readonly port: number;
  readonly dir: string;
  readonly argv: string[];
  #child: Deno.ChildProcess;
  #logs: Promise<unknown>[];
  #exitCode: number | undefined;

  private constructor(
    side: Side,
    port: number,
    dir: string,
    argv: string[],
    child: Deno.ChildProcess,
  ) {
    this.side = side;
    this.port = port;
    this.dir = dir;
    this.argv = argv;
    this.#child = child;
    child.status.then((status) => this.#exitCode = status.code, () => this.#exitCode = -1);
    this.#logs = [
      child.stdout.pipeTo(
        Deno.openSync(join(dir, "stdout.log"), { write: true, create: true }).writable,
      ),
      child.stderr.pipeTo(
        Deno.openSync(join(dir, "stderr.log"), { write: true, create: true }).writable,
      ),
    ];
  }

  get running(): boolean {
    return this.#exitCode === undefined;
  }

  get pid(): number {
    return this.#child.pid;
  }

  /**
   * Spawns a server with `flags` in `dir` and waits until it answers PING.
   * Returns it with the seconds from spawn to the first PONG.
   */
  static async start(
    side: Side,
    commands: Commands,
    dir: string,
    flags: readonly string[],
    readyTimeoutMs = 30_000,
  ): Promise<{ server: ServerProcess; startSeconds: number }> {
    const port = freePort();
    const common = ["--port", String(port), "--bind", HOST, "--dir", dir, "--save", ""];
    const argv = side === "ours"
      ? [...commands.ours, ...common, ...flags, ...commands.oursExtra]
      : ["redis-server", ...common, "--daemonize", "no", ...flags];
    const command = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      cwd: side === "ours" ? REPO_ROOT : dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
    const begin = performance.now();
    const child = track(command.spawn());
    const server = new ServerProcess(side, port, dir, argv, child);
    try {
      await waitForPong(port, readyTimeoutMs, () => !server.running);
    } catch (error) {
      const exited = server.running ? "" : ` (exit code ${server.#exitCode})`;
      await server.stop();
      throw new Error(
        `${side} server did not start: ${errorMessage(error)}${exited}\n${await server.logTail()}`,
      );
    }
    return { server, startSeconds: (performance.now() - begin) / 1000 };
  }

  /** SIGTERM, then SIGKILL if it has not exited within ten seconds. */
  async stop(): Promise<void> {
    if (this.running) {
      try {
        this.#child.kill("SIGTERM");
      } catch {
        // Exited meanwhile.
      }
      if (!await settlesWithin(this.#child.status, 10_000)) {
        try {
          this.#child.kill("SIGKILL");
        } catch {
          // Exited meanwhile.
        }
      }
    }
    await this.#child.status;
    await Promise.allSettled(this.#logs);
  }

  async logTail(lines = 12): Promise<string> {
    const parts: string[] = [`  command: ${this.argv.map(quoteWord).join(" ")}`];
    for (const name of ["stderr.log", "stdout.log"]) {
      try {
        const text = (await Deno.readTextFile(join(this.dir, name))).trimEnd();
        if (text) {
          parts.push(`  ${name}:`, ...text.split("\n").slice(-lines).map((line) => `    ${line}`));
        }
      } catch {
        // No log.
      }
    }
    return parts.join("\n");
  }
}

function quoteWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

// ---------------------------------------------------------------------------
// redis-benchmark.

interface BenchmarkResult {
  rps: number;
  p99: number;
}

/** Parses `--csv` output into test name (first word, upper case) → columns. */
function parseBenchmarkCsv(text: string): Map<string, string[]> {
  const tests = new Map<string, string[]>();
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith('"') || line.startsWith('"test"')) continue;
    const fields = line.slice(1, line.endsWith('"') ? -1 : undefined).split('","');
    const name = fields[0]!.split(" ")[0]!.toUpperCase();
    tests.set(name, fields);
  }
  return tests;
}

/** The line that explains a failed redis-benchmark run, ignoring its warnings. */
function benchmarkFailure(stderr: string, stdout: string): string {
  const lines = `${stderr}\n${stdout}`.split(/\r?\n/).map((line) => line.trim())
    .filter((line) => line && !line.startsWith("WARNING") && !line.startsWith('"'));
  const error = lines.find((line) => /error/i.test(line));
  return error ?? lines.at(-1) ?? "no result line";
}

async function runBenchmark(
  port: number,
  test: string,
  requests: number,
  extraArgs: readonly string[] = [],
): Promise<{ ok: true; result: BenchmarkResult } | { ok: false; reason: string }> {
  const args = [
    "-h",
    HOST,
    "-p",
    String(port),
    "-c",
    String(CLIENTS),
    "-n",
    String(requests),
    "-t",
    test,
    ...extraArgs,
    "-q",
    "--csv",
  ];
  // A hung server must cost one row, not the run: allow at least 5k requests/s.
  const timeoutMs = 20_000 + requests / 5;
  const child = track(
    new Deno.Command("redis-benchmark", { args, stdin: "null", stdout: "piped", stderr: "piped" })
      .spawn(),
  );
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // Finished meanwhile.
    }
  }, timeoutMs);
  const output = await child.output().finally(() => clearTimeout(timer));
  const stdout = decoder.decode(output.stdout);
  const stderr = decoder.decode(output.stderr);
  if (timedOut) return { ok: false, reason: `timed out after ${timeoutMs / 1000} s` };
  const fields = parseBenchmarkCsv(stdout).get(test.toUpperCase());
  const rps = Number(fields?.[1]);
  if (!fields || !(rps > 0)) {
    return { ok: false, reason: benchmarkFailure(stderr, stdout) };
  }
  return { ok: true, result: { rps, p99: Number(fields[6]) } };
}

// ---------------------------------------------------------------------------
// Data for the memory and replay rows: N `SET key:<9 digits> value:<10 digits>`
// in RESP, which is both what we pipe into a server and a valid AOF.

async function writeSetCommands(path: string, count: number): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  let parts: string[] = [];
  for (let i = 1; i <= count; i++) {
    const key = `key:${String(i).padStart(9, "0")}`;
    const value = `value:${String(i).padStart(10, "0")}`; // 16 bytes
    parts.push(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`);
    if (parts.length === 10_000 || i === count) {
      await writeAll(file, encoder.encode(parts.join("")));
      parts = [];
    }
  }
}

/**
 * Streams a file of commands to the server while counting replies, like
 * `redis-cli --pipe` but without its closing ECHO. Each reply to SET is one
 * line (+OK or -ERR ...), so replies are counted as newlines.
 */
async function pipeCommands(port: number, path: string, expected: number): Promise<number> {
  const conn = await Deno.connect({ hostname: HOST, port });
  try {
    const reader = (async () => {
      const chunk = new Uint8Array(64 * 1024);
      let replies = 0;
      let errors = 0;
      let atLineStart = true;
      while (replies < expected) {
        const count = await conn.read(chunk);
        if (count === null) {
          throw new Error(`connection closed after ${replies} of ${expected} replies`);
        }
        for (let i = 0; i < count; i++) {
          const byte = chunk[i]!;
          if (atLineStart && byte === 45) errors++;
          atLineStart = byte === 10;
          if (byte === 10) replies++;
        }
      }
      return errors;
    })();
    const writer = (async () => {
      using file = await Deno.open(path);
      const buffer = new Uint8Array(1024 * 1024);
      for (;;) {
        const count = await file.read(buffer);
        if (count === null) break;
        await writeAll(conn, buffer.subarray(0, count));
      }
    })();
    const [errors] = await withTimeout(
      Promise.all([reader, writer]),
      60_000 + expected / 5,
      "loading keys",
      () => conn.close(),
    );
    return errors;
  } finally {
    try {
      conn.close();
    } catch {
      // Closed by the timeout.
    }
  }
}

async function dbsize(port: number): Promise<number> {
  const client = await RespClient.connect(port);
  try {
    const reply = await client.command(["DBSIZE"]);
    if (typeof reply !== "number") throw new Error(`DBSIZE replied ${describeReply(reply)}`);
    return reply;
  } finally {
    client.close();
  }
}

async function infoField(port: number, section: string, field: string): Promise<number> {
  const client = await RespClient.connect(port);
  try {
    const reply = await client.command(["INFO", section]);
    const match = typeof reply === "string"
      ? new RegExp(`^${field}:(\\d+)`, "m").exec(reply)
      : null;
    if (!match) throw new Error(`INFO ${section} has no ${field} (${describeReply(reply)})`);
    return Number(match[1]);
  } finally {
    client.close();
  }
}

function describeReply(reply: Reply): string {
  if (reply instanceof ReplyError) return `-${reply.message}`;
  const text = JSON.stringify(reply);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

// ---------------------------------------------------------------------------
// Formatting.

const INTEGER = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

function formatValue(unit: Unit, value: number): string {
  switch (unit) {
    case "rps":
      return `${INTEGER.format(value)} rps`;
    case "ms":
      return `${value.toFixed(3)} ms`;
    case "bytes":
      return `${(value / MIB).toFixed(1)} MiB`;
    case "seconds":
      return `${value.toFixed(2)} s`;
    case "deliveries":
      return `${INTEGER.format(value)} msg/s`;
  }
}

function formatCount(count: number): string {
  if (count >= 1_000_000 && count % 1_000_000 === 0) return `${count / 1_000_000}M`;
  if (count >= 1_000 && count % 1_000 === 0) return `${count / 1_000}k`;
  return String(count);
}

function formatTarget(target: Target | undefined): string {
  if (!target) return "(none)";
  return target.better === "higher"
    ? `>= ${target.bound.toFixed(2)}`
    : `<= ${target.bound.toFixed(2)} (lower is better)`;
}

function rowRatio(row: Row): number | undefined {
  if (row.ratio !== undefined) return row.ratio;
  const ours = row.results.ours;
  const redis = row.results.redis;
  if (ours?.ok && redis?.ok && redis.value > 0) return ours.value / redis.value;
  return undefined;
}

function rowVerdict(row: Row, redisPresent: boolean): string {
  if (!row.target) return "info";
  if (row.failure || (row.results.ours && !row.results.ours.ok)) return "FAIL";
  if (!redisPresent) return "-";
  const ratio = rowRatio(row);
  if (ratio === undefined) return "-";
  const pass = row.target.better === "higher"
    ? ratio >= row.target.bound
    : ratio <= row.target.bound;
  return pass ? "PASS" : "FAIL";
}

function cell(row: Row, side: Side): string {
  const outcome = row.results[side];
  if (!outcome) return "-";
  if (!outcome.ok) return outcome.skipped ? "skipped" : "failed";
  return formatValue(row.unit, outcome.value);
}

function printTable(rows: readonly Row[], redisPresent: boolean): void {
  const shown = rows.filter((row) => row.selected);
  const table: string[][] = redisPresent
    ? [["workload", "ours", "redis", "ratio", "target", "result"]]
    : [["workload", "ours"]];
  for (const row of shown) {
    if (!redisPresent) {
      table.push([row.name, cell(row, "ours")]);
      continue;
    }
    const ratio = rowRatio(row);
    table.push([
      row.name,
      cell(row, "ours"),
      cell(row, "redis"),
      ratio === undefined ? "-" : ratio.toFixed(2),
      formatTarget(row.target),
      rowVerdict(row, redisPresent),
    ]);
  }
  const widths = table[0]!.map((_, column) =>
    Math.max(...table.map((line) => line[column]!.length))
  );
  const format = (line: string[]) =>
    `| ${line.map((text, column) => text.padEnd(widths[column]!)).join(" | ")} |`;
  console.log(format(table[0]!));
  console.log(`|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`);
  for (const line of table.slice(1)) console.log(format(line));

  const notes: string[] = [];
  for (const row of shown) {
    for (const side of ["ours", "redis"] as const) {
      const outcome = row.results[side];
      if (outcome && !outcome.ok) {
        notes.push(
          `- ${row.name} (${side}) ${outcome.skipped ? "skipped" : "failed"}: ${outcome.reason}`,
        );
      } else if (outcome?.ok && outcome.detail) {
        notes.push(`- ${row.name} (${side}): ${outcome.detail}`);
      }
    }
    if (row.failure) notes.push(`- ${row.name}: ${row.failure}`);
    for (const note of row.notes) notes.push(`- ${row.name}: ${note}`);
  }
  if (notes.length > 0) console.log(`\nNotes:\n${notes.join("\n")}`);

  // Every run, so a reader can see how noisy the machine was.
  const runs: string[] = [];
  for (const row of shown) {
    const sides = (["ours", "redis"] as const)
      .filter((side) => (row.samples[side]?.length ?? 0) > 1)
      .map((side) =>
        `${side} ${row.samples[side]!.map((value) => formatValue(row.unit, value)).join(", ")}`
      );
    if (sides.length > 0) runs.push(`- ${row.name}: ${sides.join("; ")}`);
  }
  if (runs.length > 0) {
    console.log(`\nAll runs (the table shows each side's best):\n${runs.join("\n")}`);
  }
  if (redisPresent) {
    const verdicts = shown.map((row) => rowVerdict(row, true));
    const passed = verdicts.filter((verdict) => verdict === "PASS").length;
    const failed = verdicts.filter((verdict) => verdict === "FAIL").length;
    console.log(`\n${passed} PASS, ${failed} FAIL (ratio = ours / redis)`);
  }
}

// ---------------------------------------------------------------------------
// Workloads.

interface Context {
  sides: Side[];
  sizes: Sizes;
  commands: Commands;
  /** Lazily written file of `sizes.keys` SET commands. */
  setCommandsFile: () => Promise<string>;
}

const PERSISTENCE_OFF = ["--appendonly", "no"];
const AOF_EVERYSEC = ["--appendonly", "yes", "--appendfsync", "everysec"];
const AOF_REPLAY = [
  "--appendonly",
  "yes",
  "--appendfsync",
  "everysec",
  "--appendfilename",
  REPLAY_FILE_NAME,
];

/** Keeps the best figure per side across rounds; a failure in any round sticks. */
function record(row: Row, side: Side, outcome: Outcome): void {
  const text = outcome.ok ? formatValue(row.unit, outcome.value) : `failed: ${outcome.reason}`;
  console.error(`  [${side}] ${row.name}: ${text}`);
  if (outcome.ok) (row.samples[side] ??= []).push(outcome.value);
  const previous = row.results[side];
  if (previous && !previous.ok) return;
  if (!outcome.ok || !previous) {
    row.results[side] = outcome;
    return;
  }
  const better = BIGGER_IS_BETTER[row.unit]
    ? outcome.value > previous.value
    : outcome.value < previous.value;
  if (better) row.results[side] = outcome;
}

/** Calls `run` once per side per round, alternating which side goes first. */
async function forEachRound(
  context: Context,
  label: string,
  rounds: number,
  run: (side: Side) => Promise<void>,
): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? context.sides : [...context.sides].reverse();
    for (const side of order) {
      console.error(`${label}: ${side}${rounds > 1 ? ` (round ${round + 1} of ${rounds})` : ""}`);
      await run(side);
    }
  }
}

/** One redis-benchmark invocation feeding one or more rows. */
interface BenchmarkStep {
  test: string;
  requests: number;
  extraArgs: string[];
  outputs: { row: Row; pick: (result: BenchmarkResult) => number }[];
}

/** Runs `steps` against one server per side, restarting it if a test crashed it. */
async function runBenchmarkSteps(
  context: Context,
  label: string,
  flags: readonly string[],
  allSteps: readonly BenchmarkStep[],
): Promise<void> {
  const steps = allSteps.filter((step) => step.outputs.some((output) => output.row.selected));
  if (steps.length === 0) return;
  await forEachRound(context, label, context.sizes.rounds, async (side) => {
    let server: ServerProcess | undefined;
    try {
      for (const step of steps) {
        // A failure sticks, so a later round need not repeat it (or its timeout).
        if (step.outputs.every(({ row }) => row.results[side]?.ok === false)) continue;
        let outcome: { ok: true; result: BenchmarkResult } | { ok: false; reason: string };
        try {
          if (!server?.running) {
            if (server) {
              console.error(`  [${side}] server exited; restarting it`);
              await server.stop();
            }
            server =
              (await ServerProcess.start(side, context.commands, await freshDirectory(side), flags))
                .server;
          }
          outcome = await runBenchmark(server.port, step.test, step.requests, step.extraArgs);
          if (!outcome.ok && !server.running) {
            outcome = {
              ok: false,
              reason: `${outcome.reason}; the server exited\n${await server.logTail()}`,
            };
          }
        } catch (error) {
          outcome = { ok: false, reason: errorMessage(error) };
        }
        for (const { row, pick } of step.outputs) {
          const result: Outcome = outcome.ok
            ? { ok: true, value: pick(outcome.result) }
            : { ok: false, reason: outcome.reason };
          record(row, side, result);
        }
      }
    } finally {
      await server?.stop();
    }
  });
}

async function runThroughput(context: Context, rows: Rows): Promise<void> {
  const { sizes } = context;
  const rps = (result: BenchmarkResult) => result.rps;
  const steps: BenchmarkStep[] = [
    {
      test: "set",
      requests: sizes.requests,
      extraArgs: [],
      outputs: [{ row: rows.set, pick: rps }],
    },
    {
      test: "get",
      requests: sizes.requests,
      extraArgs: [],
      outputs: [{ row: rows.get, pick: rps }, { row: rows.p99, pick: (result) => result.p99 }],
    },
    {
      test: "set",
      requests: sizes.pipelinedRequests,
      extraArgs: ["-P", String(PIPELINE)],
      outputs: [{ row: rows.setPipelined, pick: rps }],
    },
    {
      test: "get",
      requests: sizes.pipelinedRequests,
      extraArgs: ["-P", String(PIPELINE)],
      outputs: [{ row: rows.getPipelined, pick: rps }],
    },
    ...SUITE_TESTS.map((test, index) => ({
      test,
      requests: sizes.suiteRequests,
      extraArgs: [],
      outputs: [{ row: rows.suite[index]!, pick: rps }],
    })),
  ];
  await runBenchmarkSteps(
    context,
    "Throughput and latency, persistence off",
    PERSISTENCE_OFF,
    steps,
  );

  // Geometric mean over the suite tests that produced a ratio.
  const ratios = rows.suite.map(rowRatio).filter((ratio): ratio is number => ratio !== undefined);
  if (ratios.length > 0) {
    rows.geomean.ratio = Math.exp(
      ratios.reduce((sum, ratio) => sum + Math.log(ratio), 0) / ratios.length,
    );
  }
  const ran = rows.suite.filter((row) => row.selected).length;
  const failed = rows.suite.filter((row) => row.results.ours && !row.results.ours.ok).length;
  if (rows.geomean.selected) {
    rows.geomean.notes.push(`over ${ratios.length} of ${ran} tests`);
    if (failed > 0) rows.geomean.failure = `${failed} suite test(s) failed on ours`;
  }
}

async function runAof(context: Context, rows: Rows): Promise<void> {
  await runBenchmarkSteps(context, "SET with AOF everysec", AOF_EVERYSEC, [{
    test: "set",
    requests: context.sizes.requests,
    extraArgs: [],
    outputs: [{ row: rows.aofSet, pick: (result) => result.rps }],
  }]);
}

async function measureMemory(server: ServerProcess, context: Context): Promise<Outcome> {
  const keys = context.sizes.keys;
  const file = await context.setCommandsFile();
  await sleep(500);
  const rssBefore = await processTreeRss(server.pid);
  const usedRssBefore = server.side === "redis"
    ? await infoField(server.port, "memory", "used_memory_rss")
    : 0;
  const begin = performance.now();
  const errors = await pipeCommands(server.port, file, keys);
  const loadSeconds = (performance.now() - begin) / 1000;
  if (errors > 0) return { ok: false, reason: `${errors} of ${keys} SETs replied an error` };
  const size = await dbsize(server.port);
  if (size !== keys) return { ok: false, reason: `DBSIZE is ${size} after loading ${keys} keys` };
  // Let allocators settle; Redis also refreshes used_memory_rss from its cron.
  await sleep(1500);
  const rssAfter = await processTreeRss(server.pid);
  const rssGrowth = rssAfter - rssBefore;
  const loaded = `loaded in ${loadSeconds.toFixed(2)} s`;
  if (server.side === "ours") {
    return {
      ok: true,
      value: rssGrowth,
      detail: `process RSS ${formatValue("bytes", rssBefore)} -> ${
        formatValue("bytes", rssAfter)
      }, ${loaded}`,
    };
  }
  const usedRssAfter = await infoField(server.port, "memory", "used_memory_rss");
  const usedMemory = await infoField(server.port, "memory", "used_memory");
  return {
    ok: true,
    value: usedRssAfter - usedRssBefore,
    detail: `used_memory_rss growth; process RSS growth ${formatValue("bytes", rssGrowth)}, ` +
      `used_memory ${formatValue("bytes", usedMemory)}, ${loaded}`,
  };
}

async function measureReplay(side: Side, context: Context): Promise<Outcome> {
  const keys = context.sizes.keys;
  const file = await context.setCommandsFile();
  // An empty start first: the baseline cost of starting at all (and, for
  // ours, it warms Deno's transpile cache so the timed start does not pay it).
  const empty = await ServerProcess.start(
    side,
    context.commands,
    await freshDirectory(side),
    AOF_REPLAY,
  );
  await empty.server.stop();
  // Each start gets its own copy: Redis 7 moves the file into appendonlydir/.
  const dir = await freshDirectory(side);
  try {
    await Deno.copyFile(file, join(dir, REPLAY_FILE_NAME));
    const { server, startSeconds } = await ServerProcess.start(
      side,
      context.commands,
      dir,
      AOF_REPLAY,
      600_000,
    );
    try {
      const size = await dbsize(server.port);
      if (size !== keys) {
        return { ok: false, reason: `DBSIZE is ${size} after replaying ${keys} SETs` };
      }
      return {
        ok: true,
        value: startSeconds,
        detail: `spawn to first PONG; empty start took ${empty.startSeconds.toFixed(2)} s; ` +
          `DBSIZE ${size}`,
      };
    } finally {
      await server.stop();
    }
  } finally {
    // Copies of a 1M-command AOF add up over the rounds.
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Subscribers count the bytes they receive (every delivery has the same,
 * known size) while one connection publishes in pipelined batches; the
 * figure is deliveries per second until the last subscriber has everything.
 * The subscribers run in this process, so the load generator limits the
 * figure for both servers alike.
 */
async function measurePubsub(server: ServerProcess, context: Context): Promise<Outcome> {
  const { subscribers: subscriberCount, messages } = context.sizes;
  const subscribers: RespClient[] = [];
  let publisher: RespClient | undefined;
  try {
    for (let first = 0; first < subscriberCount; first += 50) {
      const batch = await Promise.all(
        Array.from(
          { length: Math.min(50, subscriberCount - first) },
          () => RespClient.connect(server.port),
        ),
      );
      subscribers.push(...batch);
      const replies = await Promise.all(
        batch.map((client) => client.command(["SUBSCRIBE", PUBSUB_CHANNEL])),
      );
      for (const reply of replies) {
        if (!Array.isArray(reply) || reply[0] !== "subscribe") {
          return {
            ok: false,
            skipped: true,
            reason: `SUBSCRIBE replied ${describeReply(reply)}`,
          };
        }
      }
    }
    const delivery = `*3\r\n$7\r\nmessage\r\n$${PUBSUB_CHANNEL.length}\r\n${PUBSUB_CHANNEL}\r\n` +
      `$${PUBSUB_PAYLOAD.length}\r\n${PUBSUB_PAYLOAD}\r\n`;
    const expectedBytes = delivery.length * messages;
    publisher = await RespClient.connect(server.port);
    const batchSize = 50;
    const begin = performance.now();
    const received = Promise.all(subscribers.map((client) => client.skipBytes(expectedBytes)));
    received.catch(() => {}); // Awaited below; avoid an unhandled rejection meanwhile.
    for (let sent = 0; sent < messages; sent += batchSize) {
      const count = Math.min(batchSize, messages - sent);
      const command = encodeCommand(["PUBLISH", PUBSUB_CHANNEL, PUBSUB_PAYLOAD]);
      const bytes = new Uint8Array(command.length * count);
      for (let i = 0; i < count; i++) bytes.set(command, i * command.length);
      await publisher.write(bytes);
      for (let i = 0; i < count; i++) {
        const reply = await withTimeout(publisher.readReply(), 60_000, "PUBLISH");
        if (reply !== subscriberCount) {
          return {
            ok: false,
            reason: `PUBLISH replied ${describeReply(reply)}, expected ${subscriberCount}`,
          };
        }
      }
    }
    await withTimeout(received, 120_000, "waiting for deliveries");
    const seconds = (performance.now() - begin) / 1000;
    return {
      ok: true,
      value: (subscriberCount * messages) / seconds,
      detail: `${messages} messages to ${subscriberCount} subscribers in ${seconds.toFixed(2)} s`,
    };
  } finally {
    for (const client of subscribers) client.close();
    publisher?.close();
  }
}

/** Runs a custom measurement on a fresh server per side and round. */
async function runPerServer(
  context: Context,
  row: Row,
  label: string,
  flags: readonly string[],
  rounds: number,
  measure: (server: ServerProcess) => Promise<Outcome>,
): Promise<void> {
  if (!row.selected) return;
  await forEachRound(context, label, rounds, async (side) => {
    if (row.results[side]?.ok === false) return;
    let outcome: Outcome;
    let server: ServerProcess | undefined;
    try {
      server =
        (await ServerProcess.start(side, context.commands, await freshDirectory(side), flags))
          .server;
      outcome = await measure(server);
    } catch (error) {
      outcome = { ok: false, reason: errorMessage(error) };
    } finally {
      await server?.stop();
    }
    record(row, side, outcome);
  });
}

async function runReplay(context: Context, row: Row): Promise<void> {
  if (!row.selected) return;
  await forEachRound(context, "AOF replay at start-up", context.sizes.rounds, async (side) => {
    if (row.results[side]?.ok === false) return;
    let outcome: Outcome;
    try {
      outcome = await measureReplay(side, context);
    } catch (error) {
      outcome = { ok: false, reason: errorMessage(error) };
    }
    record(row, side, outcome);
  });
}

// ---------------------------------------------------------------------------
// Plan and entry point.

interface Rows {
  all: Row[];
  set: Row;
  get: Row;
  setPipelined: Row;
  getPipelined: Row;
  suite: Row[];
  geomean: Row;
  aofSet: Row;
  p99: Row;
  memory: Row;
  replay: Row;
  pubsub: Row;
}

function planRows(sizes: Sizes, only: string | undefined): Rows {
  const all: Row[] = [];
  const matches = (name: string) => !only || name.toLowerCase().includes(only.toLowerCase());
  const row = (name: string, unit: Unit, target?: Target): Row => {
    const created: Row = {
      name,
      unit,
      target,
      selected: matches(name),
      results: {},
      samples: {},
      notes: [],
    };
    all.push(created);
    return created;
  };
  const higher = (bound: number): Target => ({ better: "higher", bound });
  const lower = (bound: number): Target => ({ better: "lower", bound });
  const rows: Rows = {
    all,
    set: row(`SET, ${CLIENTS} clients`, "rps", higher(0.9)),
    get: row(`GET, ${CLIENTS} clients`, "rps", higher(0.9)),
    setPipelined: row(`SET, ${CLIENTS} clients, -P ${PIPELINE}`, "rps", higher(0.6)),
    getPipelined: row(`GET, ${CLIENTS} clients, -P ${PIPELINE}`, "rps", higher(0.6)),
    suite: SUITE_TESTS.map((test) => row(`suite ${test.toUpperCase()}`, "rps", higher(0.7))),
    geomean: row("suite geometric mean", "rps", higher(0.85)),
    aofSet: row(`SET, ${CLIENTS} clients, AOF everysec`, "rps", higher(0.9)),
    p99: row(`GET p99 latency, ${CLIENTS} clients`, "ms", lower(1.5)),
    memory: row(`memory, ${formatCount(sizes.keys)} keys x 16 B values`, "bytes", lower(2.0)),
    replay: row(`AOF replay at start-up, ${formatCount(sizes.keys)} SETs`, "seconds", lower(1.5)),
    pubsub: row(`PUBLISH to ${formatCount(sizes.subscribers)} subscribers`, "deliveries"),
  };
  // The mean needs its parts, and the parts are meaningless without the mean.
  if (rows.geomean.selected || rows.suite.some((suiteRow) => suiteRow.selected)) {
    rows.geomean.selected = true;
  }
  if (rows.geomean.selected && !rows.suite.some((suiteRow) => suiteRow.selected)) {
    for (const suiteRow of rows.suite) suiteRow.selected = true;
  }
  return rows;
}

async function commandOutput(command: string, args: string[]): Promise<string | undefined> {
  try {
    const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
      .output();
    return decoder.decode(output.stdout).trim();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

async function describeMachine(
  redisVersion: string | undefined,
  commands: Commands,
  sizes: Sizes,
  quick: boolean,
) {
  const cpuinfo = await readProcFile("/proc/cpuinfo");
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? "unknown CPU";
  const load = Deno.loadavg().map((value) => value.toFixed(2));
  const ours = [...commands.ours, "--port", "<P>", "...", ...commands.oursExtra].map(quoteWord)
    .join(" ");
  console.log("# redis-clone benchmark\n");
  console.log(`- CPU: ${model}, ${navigator.hardwareConcurrency} cores available`);
  console.log(`- load average: ${load.join(" ") || "unknown"}`);
  console.log(
    `- deno ${Deno.version.deno} (V8 ${Deno.version.v8}, TypeScript ${Deno.version.typescript})`,
  );
  console.log(`- redis-server: ${redisVersion ?? "not found on PATH (ours only)"}`);
  console.log(`- ours: ${ours}`);
  console.log(
    `- mode: ${quick ? "quick" : "full"}; ${formatCount(sizes.requests)} requests per test ` +
      `(${formatCount(sizes.pipelinedRequests)} with -P ${PIPELINE}, ${
        formatCount(sizes.suiteRequests)
      } ` +
      `in the suite), ${formatCount(sizes.keys)} keys, ${CLIENTS} clients; ` +
      `best of ${sizes.rounds} round(s), servers run one at a time`,
  );
  console.log("");
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      rounds: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log("Usage: deno task bench [--quick] [--only <row-name-substring>] [--rounds <n>]");
    console.log("Env: BENCH_OURS_CMD (command prefix for ours), BENCH_OURS_ARGS (extra flags)");
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
  const oursOverride = splitCommandLine(Deno.env.get("BENCH_OURS_CMD") ?? "");
  const commands: Commands = {
    ours: oursOverride.length > 0 ? oursOverride : [
      Deno.execPath(),
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      MAIN_MODULE,
    ],
    oursExtra: splitCommandLine(Deno.env.get("BENCH_OURS_ARGS") ?? ""),
  };

  if (await commandOutput("redis-benchmark", ["--version"]) === undefined) {
    console.error("redis-benchmark is not on PATH; it is needed for the throughput rows.");
    return 1;
  }
  const rows = planRows(sizes, values.only);
  if (!rows.all.some((row) => row.selected)) {
    console.error(
      `No row name contains '${values.only}'. Rows:\n  ${
        rows.all.map((row) => row.name).join("\n  ")
      }`,
    );
    return 2;
  }
  const redisVersion = await commandOutput("redis-server", ["--version"]);
  const redisPresent = redisVersion !== undefined;
  await describeMachine(redisVersion, commands, sizes, values.quick);

  temporaryRoot = await Deno.makeTempDir({ prefix: "redis-clone-bench-" });
  let setCommandsPath: Promise<string> | undefined;
  const context: Context = {
    sides: redisPresent ? ["ours", "redis"] : ["ours"],
    sizes,
    commands,
    setCommandsFile: () => {
      setCommandsPath ??= (async () => {
        const path = join(temporaryRoot!, "set-commands.resp");
        const begin = performance.now();
        await writeSetCommands(path, sizes.keys);
        console.error(
          `  wrote ${formatCount(sizes.keys)} SET commands in ${
            ((performance.now() - begin) / 1000).toFixed(1)
          } s`,
        );
        return path;
      })();
      return setCommandsPath;
    },
  };

  const begin = performance.now();
  await runThroughput(context, rows);
  await runAof(context, rows);
  await runPerServer(
    context,
    rows.memory,
    "Memory after loading keys",
    PERSISTENCE_OFF,
    1, // Memory use is deterministic enough; loading is the slow part.
    (server) => measureMemory(server, context),
  );
  await runReplay(context, rows.replay);
  await runPerServer(
    context,
    rows.pubsub,
    "PUBLISH fan-out",
    PERSISTENCE_OFF,
    sizes.rounds,
    (server) => measurePubsub(server, context),
  );
  console.error(`Finished in ${((performance.now() - begin) / 1000).toFixed(0)} s\n`);

  if (!redisPresent) console.log("redis-server is not on PATH: showing our figures only.\n");
  printTable(rows.all, redisPresent);
  return 0;
}

if (import.meta.main) {
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let code = 1;
  try {
    code = await main();
  } catch (error) {
    console.error(`bench: ${errorMessage(error)}`);
  } finally {
    cleanupSync();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  Deno.exit(code);
}
