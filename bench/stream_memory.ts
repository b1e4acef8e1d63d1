/**
 * Stream benchmark: memory of a million-entry stream, ours against
 * `redis-server`, and the speed of the operations the stream commands need.
 *
 * The data is what a sensor feed sends: `{sensor: <1..50>, temp: <15.0..30.0>}`
 * under IDs like `XADD *` gives them (`--per-ms` entries per millisecond,
 * 10 by default: a producer at 10k entries/s), all derived from a seeded
 * generator so both sides store the same bytes.
 *
 * - Ours: the Stream structure built directly in a child Deno process
 *   (`--child`), which is what the brief measures: resident memory growth
 *   (`Deno.memoryUsage().rss`) across the build, after a forced full GC of
 *   the "last resort" kind, which also gives back the young generation that
 *   the build's garbage (one argument array and three strings per entry, as
 *   a command parser makes) had grown. Heap used and external (ArrayBuffer)
 *   bytes are shown to tell the structure from allocator slack. The child
 *   then times appends, ranges, lookups and trims.
 * - Redis: a fresh `redis-server` loaded with the same entries (explicit
 *   IDs) over one pipelined connection; growth of `used_memory_rss` (what
 *   the ratio is taken against) and `used_memory`, sampled after Redis's
 *   cron refreshed them, and its MEMORY USAGE beside our estimate.
 *
 * Usage:
 *
 * ```sh
 * deno run --allow-run --allow-net --allow-read --allow-env bench/stream_memory.ts \
 *   [--entries 1000000] [--per-ms 10] [--side ours|redis|both]
 * ```
 *
 * It takes about 15 s for a million entries.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { parseReply, type Reply, ReplyError } from "./resp.ts";
import { Stream } from "../src/store/stream.ts";
import {
  formatStreamId,
  MAX_STREAM_ID,
  MIN_STREAM_ID,
  type StreamId,
  streamIdFromWords,
} from "../src/store/stream_id.ts";

const HOST = "127.0.0.1";
const BASE_MS = 1_700_000_000_000;
const BATCH_COMMANDS = 2000;
/** Redis refreshes used_memory_rss from its cron; give it a few rounds. */
const REDIS_SETTLE_MS = 1500;
const RSS_TARGET = 1.5;

interface Options {
  entries: number;
  perMs: number;
}

/** The fields of entry `index` and its ID, a pure function of the position. */
class Feed {
  #state: number;

  constructor(readonly options: Options) {
    this.#state = 1;
  }

  /** The next pseudo-random number in [0, 1) (mulberry32). */
  #random(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Field/value arguments of the next entry, as XADD would pass them. */
  nextFields(): string[] {
    const sensor = String(1 + Math.floor(this.#random() * 50));
    const temp = ((150 + Math.floor(this.#random() * 151)) / 10).toFixed(1);
    return ["sensor", sensor, "temp", temp];
  }

  id(index: number): StreamId {
    const ms = BASE_MS + Math.floor(index / this.options.perMs);
    return streamIdFromWords(
      Math.floor(ms / 4294967296),
      ms % 4294967296,
      0,
      index % this.options.perMs,
    );
  }
}

// ---------------------------------------------------------------------------
// Ours, in a child process

interface OursResult {
  rssGrowth: number;
  heapGrowth: number;
  externalGrowth: number;
  appendsPerSecond: number;
  nodes: number;
  memoryUsage: number;
  rangeForwardMicros: number;
  rangeReverseMicros: number;
  lookupMicros: number;
  trimMicrosPerNode: Array<[nodes: number, micros: number]>;
  exactTrimMicros: number;
  deleteMicros: number;
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: (options?: unknown) => void }).gc;
  if (gc === undefined) throw new Error("Run the child with --v8-flags=--expose-gc");
  // "last-resort" is V8's memory-reducing full GC: it also shrinks the young generation.
  gc({ type: "major", execution: "sync", flavor: "last-resort" });
  gc({ type: "major", execution: "sync", flavor: "last-resort" });
}

function runOurs(options: Options): OursResult {
  const feed = new Feed(options);
  collectGarbage();
  const before = Deno.memoryUsage();
  const stream = new Stream();
  const started = performance.now();
  for (let i = 0; i < options.entries; i++) stream.append(feed.id(i), feed.nextFields());
  const appendMs = performance.now() - started;
  collectGarbage();
  const after = Deno.memoryUsage();
  const nodes = stream.nodeCount;
  const memoryUsage = stream.memoryUsage();

  // Ranges of 100 entries from random points, as XRANGE/XREAD COUNT 100 read them.
  const starts: StreamId[] = [];
  let seed = 7;
  for (let i = 0; i < 20_000; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    starts.push(feed.id(seed % (options.entries - 200)));
  }
  let sink = 0;
  const timeRanges = (reverse: boolean) => {
    const begin = performance.now();
    for (const start of starts) {
      const iterator = reverse
        ? stream.iterator(MIN_STREAM_ID, start, true)
        : stream.iterator(start, MAX_STREAM_ID);
      for (let n = 0; n < 100 && iterator.next(); n++) {
        sink += iterator.idText().length + iterator.fields().length;
      }
    }
    return (performance.now() - begin) * 1000 / starts.length;
  };
  timeRanges(false); // warm up
  const rangeForwardMicros = timeRanges(false);
  const rangeReverseMicros = timeRanges(true);
  let begin = performance.now();
  for (const start of starts) sink += stream.get(start)?.length ?? 0;
  const lookupMicros = (performance.now() - begin) * 1000 / starts.length;

  // Approximate trims of 1, 10, 100 and 1000 nodes (100k entries each way):
  // the cost per node removed stays flat when a trim is O(removed nodes).
  for (let round = 0; round < 200; round++) stream.trimByLength(stream.length - 100, true); // warm up
  const trimMicrosPerNode: Array<[number, number]> = [];
  for (const trimmed of [1, 10, 100, 1000]) {
    const rounds = Math.floor(1000 / trimmed);
    begin = performance.now();
    for (let round = 0; round < rounds; round++) {
      stream.trimByLength(stream.length - trimmed * 100, true);
    }
    trimMicrosPerNode.push([trimmed, (performance.now() - begin) * 1000 / (rounds * trimmed)]);
  }
  for (let round = 0; round < 200; round++) stream.trimByLength(stream.length - 10); // warm up
  begin = performance.now();
  for (let round = 0; round < 2000; round++) stream.trimByLength(stream.length - 10);
  const exactTrimMicros = (performance.now() - begin) * 1000 / 2000;
  begin = performance.now();
  let deleted = 0;
  for (let i = options.entries - 1; i >= options.entries - 10_000; i -= 2) {
    if (stream.delete(feed.id(i))) deleted++;
  }
  const deleteMicros = (performance.now() - begin) * 1000 / Math.max(1, deleted);
  if (sink === 0) throw new Error("nothing was read");

  return {
    rssGrowth: after.rss - before.rss,
    heapGrowth: after.heapUsed - before.heapUsed,
    externalGrowth: after.external - before.external,
    appendsPerSecond: options.entries / (appendMs / 1000),
    nodes,
    memoryUsage,
    rangeForwardMicros,
    rangeReverseMicros,
    lookupMicros,
    trimMicrosPerNode,
    exactTrimMicros,
    deleteMicros,
  };
}

async function measureOurs(options: Options): Promise<OursResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--v8-flags=--expose-gc",
      fileURLToPath(import.meta.url),
      "--child",
      "--entries",
      String(options.entries),
      "--per-ms",
      String(options.perMs),
    ],
    stdout: "piped",
    stderr: "inherit",
  });
  const { code, stdout } = await child.output();
  if (code !== 0) throw new Error(`the measuring child exited with ${code}`);
  return JSON.parse(new TextDecoder().decode(stdout)) as OursResult;
}

// ---------------------------------------------------------------------------
// Redis

interface RedisResult {
  rssGrowth: number;
  usedGrowth: number;
  memoryUsage: number;
  nodes: number;
}

/** One pipelined RESP connection. */
class Connection {
  #buffer = new Uint8Array(1 << 20);
  #start = 0;
  #end = 0;

  private constructor(readonly conn: Deno.TcpConn) {}

  static async open(port: number): Promise<Connection> {
    for (let attempt = 0;; attempt++) {
      try {
        return new Connection(await Deno.connect({ hostname: HOST, port }));
      } catch (error) {
        if (attempt > 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  async write(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) offset += await this.conn.write(bytes.subarray(offset));
  }

  async read(): Promise<Reply> {
    for (;;) {
      const parsed = parseReply(this.#buffer, this.#start, this.#end);
      if (parsed !== undefined) {
        this.#start = parsed[1];
        return parsed[0];
      }
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
      const count = await this.conn.read(this.#buffer.subarray(this.#end));
      if (count === null) throw new Error("redis-server closed the connection");
      this.#end += count;
    }
  }

  async command(...args: string[]): Promise<Reply> {
    await this.write(encode([args]));
    return await this.read();
  }

  close(): void {
    this.conn.close();
  }
}

function encode(commands: string[][]): Uint8Array {
  let text = "";
  for (const args of commands) {
    text += `*${args.length}\r\n`;
    for (const arg of args) text += `$${arg.length}\r\n${arg}\r\n`;
  }
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

async function infoField(connection: Connection, name: string): Promise<number> {
  const info = await connection.command("INFO", "memory");
  if (typeof info !== "string") throw new Error(`INFO replied ${String(info)}`);
  const line = info.split("\r\n").find((row) => row.startsWith(`${name}:`));
  if (line === undefined) throw new Error(`INFO has no ${name}`);
  return Number(line.slice(name.length + 1));
}

async function measureRedis(options: Options): Promise<RedisResult | string> {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  let server: Deno.ChildProcess;
  try {
    server = new Deno.Command("redis-server", {
      args: ["--port", String(port), "--bind", HOST, "--save", "", "--appendonly", "no"],
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch {
    return "n/a (redis-server not installed)";
  }
  try {
    const connection = await Connection.open(port);
    try {
      await new Promise((resolve) => setTimeout(resolve, REDIS_SETTLE_MS));
      const rssBefore = await infoField(connection, "used_memory_rss");
      const usedBefore = await infoField(connection, "used_memory");
      const feed = new Feed(options);
      // Send a batch while the replies of the previous one are read.
      let pendingReplies = 0;
      for (let start = 0; start < options.entries; start += BATCH_COMMANDS) {
        const commands: string[][] = [];
        for (let i = start; i < Math.min(options.entries, start + BATCH_COMMANDS); i++) {
          commands.push(["XADD", "s", formatStreamId(feed.id(i)), ...feed.nextFields()]);
        }
        await connection.write(encode(commands));
        for (; pendingReplies > 0; pendingReplies--) {
          const reply = await connection.read();
          if (reply instanceof ReplyError) throw reply;
        }
        pendingReplies = commands.length;
      }
      for (; pendingReplies > 0; pendingReplies--) {
        const reply = await connection.read();
        if (reply instanceof ReplyError) throw reply;
      }
      await new Promise((resolve) => setTimeout(resolve, REDIS_SETTLE_MS));
      const length = await connection.command("XLEN", "s");
      if (length !== options.entries) throw new Error(`XLEN is ${String(length)}`);
      const info = await connection.command("XINFO", "STREAM", "s");
      const fields = info as Reply[];
      return {
        rssGrowth: await infoField(connection, "used_memory_rss") - rssBefore,
        usedGrowth: await infoField(connection, "used_memory") - usedBefore,
        memoryUsage: await connection.command("MEMORY", "USAGE", "s") as number,
        nodes: fields[fields.indexOf("radix-tree-keys") + 1] as number,
      };
    } finally {
      connection.close();
    }
  } finally {
    server.kill("SIGTERM");
    await server.status;
  }
}

// ---------------------------------------------------------------------------

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function perEntry(bytes: number, entries: number): string {
  return `${(bytes / entries).toFixed(1)} B/entry`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      entries: { type: "string", default: "1000000" },
      "per-ms": { type: "string", default: "10" },
      side: { type: "string", default: "both" },
      child: { type: "boolean", default: false },
    },
  });
  const options: Options = { entries: Number(values.entries), perMs: Number(values["per-ms"]) };
  if (!(options.entries >= 10_000) || !(options.perMs >= 1)) {
    console.error("--entries must be at least 10000 and --per-ms at least 1");
    return 1;
  }
  if (values.child) {
    console.log(JSON.stringify(runOurs(options)));
    return 0;
  }
  const side = values.side;
  const ours = side === "redis" ? undefined : await measureOurs(options);
  const redis = side === "ours" ? undefined : await measureRedis(options);
  const entries = options.entries;
  console.log(
    `Stream of ${entries} entries {sensor, temp}, ${options.perMs} per ms (IDs as XADD * gives them)\n`,
  );
  console.log("memory                       ours                         redis-server");
  const redisFigures = typeof redis === "object" ? redis : undefined;
  const show = (label: string, mine: string, theirs: string) =>
    console.log(`${label.padEnd(28)} ${mine.padEnd(28)} ${theirs}`);
  const missing = typeof redis === "string" ? redis : "-";
  show(
    "RSS growth",
    ours ? `${megabytes(ours.rssGrowth)} (${perEntry(ours.rssGrowth, entries)})` : "-",
    redisFigures
      ? `${megabytes(redisFigures.rssGrowth)} (${perEntry(redisFigures.rssGrowth, entries)})`
      : missing,
  );
  show(
    "heap+external / used_memory",
    ours ? `${megabytes(ours.heapGrowth)} + ${megabytes(ours.externalGrowth)}` : "-",
    redisFigures ? megabytes(redisFigures.usedGrowth) : missing,
  );
  show(
    "MEMORY USAGE",
    ours ? `${ours.memoryUsage} (estimate)` : "-",
    redisFigures ? String(redisFigures.memoryUsage) : missing,
  );
  show(
    "nodes",
    ours ? String(ours.nodes) : "-",
    redisFigures ? String(redisFigures.nodes) : missing,
  );
  let verdict = 0;
  if (ours && redisFigures) {
    const ratio = ours.rssGrowth / redisFigures.rssGrowth;
    const ok = ratio <= RSS_TARGET;
    console.log(
      `\nRSS ratio ours/redis: ${ratio.toFixed(2)} (target <= ${RSS_TARGET}) ${
        ok ? "ok" : "MISSED"
      }`,
    );
    if (!ok) verdict = 1;
  }
  if (ours) {
    console.log("\nspeed (ours, in process)");
    console.log(
      `append (XADD)                ${
        Math.round(ours.appendsPerSecond).toLocaleString("en")
      } entries/s`,
    );
    console.log(
      `range 100 from the middle    ${ours.rangeForwardMicros.toFixed(1)} µs forward, ${
        ours.rangeReverseMicros.toFixed(1)
      } µs reverse`,
    );
    console.log(`lookup by ID (XCLAIM)        ${ours.lookupMicros.toFixed(2)} µs`);
    console.log(`delete by ID (XDEL)          ${ours.deleteMicros.toFixed(2)} µs`);
    console.log(`exact trim of 10 entries     ${ours.exactTrimMicros.toFixed(2)} µs`);
    const perNode = ours.trimMicrosPerNode.map(([nodes, micros]) =>
      `${nodes}: ${micros.toFixed(2)}`
    );
    console.log(`~ trim, µs per node removed  ${perNode.join(", ")} (nodes per trim: µs)`);
  }
  return verdict;
}

if (import.meta.main) Deno.exit(await main());
