/**
 * Test utilities shared by every test that talks to a server over a socket:
 * free ports, starting our server or a real `redis-server`, and a raw RESP
 * client that hands back the exact bytes of each reply.
 *
 * Why raw bytes: compatibility with Redis is a byte-level property (a reply
 * of `:1` and `$1 1` decode to the same value in most clients, but they are
 * different replies), so tests assert on what went over the wire. The client
 * only frames replies (knows where one ends) and leaves interpretation to the
 * test; `decodeReply` exists for assertions where the value is what matters.
 *
 * Which server is "ours": by default `deno run ... src/main.ts`. Setting the
 * environment variable `REDIS_CLONE_TEST_CMD` replaces that command line (it
 * is split with redis-cli quoting rules, and the usual `--port`, `--bind`,
 * `--appendonly` flags are appended). This lets the tests themselves be
 * tested against a real Redis, or run against a compiled binary:
 *
 * ```sh
 * REDIS_CLONE_TEST_CMD="redis-server --save '' --logfile /dev/stderr" deno task test
 * REDIS_CLONE_TEST_CMD="dist/redis-clone" deno task test
 * ```
 *
 * `REDIS_SERVER_PATH` overrides where the real `redis-server` is looked up
 * (otherwise `PATH`), and setting it to an empty string hides it, which
 * exercises the code paths for machines without Redis.
 *
 * Everything here is written for Deno's test sanitizers: every child process
 * is awaited, its pipes are drained to the end, every connection is closed
 * and every timer cleared before the promise that owns it settles. Callers
 * must `await server.stop()` (or `kill9()`) and `await client.close()`; both
 * classes of handle also implement `Symbol.asyncDispose` for `await using`.
 *
 * Only loopback addresses are used.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { splitInlineArguments } from "../../src/protocol/parser.ts";
import { C_LIBRARY_PATHS } from "../../src/server/native.ts";

/** Address every server in the tests binds to and every client connects to. */
export const LOOPBACK = "127.0.0.1";

/** How long `startOurServer`/`startRedisServer` wait for PING to answer. */
export const STARTUP_TIMEOUT_MS = 20_000;

/** How long `stop()` waits after its signal before it resorts to SIGKILL. */
export const STOP_TIMEOUT_MS = 15_000;

/** Default time `RawClient` waits for a reply before failing the test. */
export const DEFAULT_REPLY_TIMEOUT_MS = 10_000;

const ENCODER = new TextEncoder();
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN_MODULE = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const DENO_CONFIG = fileURLToPath(new URL("../../deno.json", import.meta.url));

/**
 * A port that was free a moment ago on the loopback interface.
 *
 * @example
 * ```ts
 * const port = await freePort();
 * ```
 */
export function freePort(): Promise<number> {
  const listener = Deno.listen({ hostname: LOOPBACK, port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return Promise.resolve(port);
}

/** A server process started by these helpers. */
export interface RunningServer {
  /** The port it listens on (always on 127.0.0.1). */
  port: number;
  /** The child process; absent only for servers not started by us. */
  process?: Deno.ChildProcess;
  /** Whether the process has exited (by itself or stopped). */
  readonly exited: boolean;
  /**
   * Sends `signal` (SIGTERM by default), waits for the process to exit and
   * for its output to be drained. Escalates to SIGKILL after
   * `STOP_TIMEOUT_MS`. Calling it again returns the same result.
   */
  stop(signal?: Deno.Signal): Promise<{ code: number; stderr: string }>;
  /** Kills the process with SIGKILL (no shutdown work) and waits for it. */
  kill9(): Promise<void>;
  /** Everything the process has written to stderr so far. */
  stderr(): string;
  /** Everything the process has written to stdout so far. */
  stdout(): string;
  /** Same as `stop()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options for `startOurServer`. */
export interface StartOptions {
  /** Extra command-line flags, appended after `--port`/`--bind`. */
  args?: string[];
  /** Passed as `--dir`: where the server keeps its AOF. */
  dir?: string;
  /** Working directory of the server process. */
  cwd?: string;
  /** Extra environment variables for the server process. */
  env?: Record<string, string>;
  /** Runs the server under `prlimit --nofile=N:N` (descriptor exhaustion tests). */
  descriptorLimit?: number;
  /** A config file, given as the first argument (Redis's command-line form). */
  configFile?: string;
  /**
   * Whether to add `--port <free> --bind 127.0.0.1` (default true). Without
   * them the test's own flags say where the server listens, and `readyLine`
   * says when it is up.
   */
  portArgument?: boolean;
  /** Waits for this in the server's stderr instead of a PING (TLS-only servers). */
  readyLine?: RegExp;
}

/**
 * Starts our server on a free port and waits until it answers PING.
 *
 * `--appendonly no` is added unless `args` mention appendonly or an AOF
 * option, so tests that do not care about persistence never touch the disk.
 * Throws (with the captured output) if the server exits or does not answer
 * within `STARTUP_TIMEOUT_MS`.
 *
 * @example
 * ```ts
 * const server = await startOurServer();
 * try {
 *   // ... RawClient.connect(server.port) ...
 * } finally {
 *   await server.stop();
 * }
 * ```
 */
export async function startOurServer(options: StartOptions = {}): Promise<RunningServer> {
  const port = await freePort();
  const args = options.args ?? [];
  const serverArgs = options.configFile === undefined ? [] : [options.configFile];
  if (options.portArgument !== false) serverArgs.push("--port", String(port), "--bind", LOOPBACK);
  if (options.dir !== undefined) serverArgs.push("--dir", options.dir);
  if (!args.some((arg) => /appendonly|aof/i.test(arg))) serverArgs.push("--appendonly", "no");
  serverArgs.push(...args);
  let commandLine = [...ourServerCommand(), ...serverArgs];
  if (options.descriptorLimit !== undefined) {
    const limit = options.descriptorLimit;
    commandLine = ["prlimit", `--nofile=${limit}:${limit}`, "--", ...commandLine];
  }
  const [command, ...commandArgs] = commandLine;
  return await spawnServer({
    command: command!,
    args: commandArgs,
    port,
    cwd: options.cwd,
    env: options.env,
    what: "our server",
    readyLine: options.readyLine,
  });
}

/**
 * The command line that starts our server, without the per-test flags:
 * `REDIS_CLONE_TEST_CMD` when set, otherwise `deno run` on src/main.ts.
 */
export function ourServerCommand(): string[] {
  const override = Deno.env.get("REDIS_CLONE_TEST_CMD");
  if (override !== undefined && override.trim() !== "") {
    const parts = splitInlineArguments(override);
    if (parts === undefined || parts.length === 0) {
      throw new Error(`REDIS_CLONE_TEST_CMD has unbalanced quotes: ${override}`);
    }
    return parts;
  }
  return [
    Deno.execPath(),
    "run",
    "--config",
    DENO_CONFIG,
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    `--allow-ffi=${C_LIBRARY_PATHS.join(",")}`,
    MAIN_MODULE,
  ];
}

/** Whether "ours" has been replaced by another command via `REDIS_CLONE_TEST_CMD`. */
export function ourServerIsOverridden(): boolean {
  return (Deno.env.get("REDIS_CLONE_TEST_CMD") ?? "").trim() !== "";
}

/** The path of the real `redis-server`, or undefined when it is not installed. */
export function redisServerPath(): string | undefined {
  return findExecutable("redis-server", "REDIS_SERVER_PATH");
}

/** The path of `redis-cli`, or undefined when it is not installed. */
export function redisCliPath(): string | undefined {
  return findExecutable("redis-cli", "REDIS_CLI_PATH");
}

/**
 * Starts a real `redis-server` (no persistence, foreground) in a fresh
 * temporary directory, which `stop()`/`kill9()` remove. Resolves to
 * undefined when redis-server is not installed, so callers can skip.
 *
 * @example
 * ```ts
 * const redis = await startRedisServer();
 * if (redis === undefined) console.warn("redis-server not installed: skipping");
 * ```
 */
export async function startRedisServer(args: string[] = []): Promise<RunningServer | undefined> {
  const path = redisServerPath();
  if (path === undefined) return undefined;
  const port = await freePort();
  const dir = await Deno.makeTempDir({ prefix: "redis-clone-redis-" });
  try {
    return await spawnServer({
      command: path,
      args: [
        "--port",
        String(port),
        "--bind",
        LOOPBACK,
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        ...args,
      ],
      port,
      cwd: dir,
      what: "redis-server",
      cleanup: () => Deno.remove(dir, { recursive: true }),
    });
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
}

function findExecutable(name: string, overrideVariable: string): string | undefined {
  const override = Deno.env.get(overrideVariable);
  if (override !== undefined) return override === "" ? undefined : override;
  for (const directory of (Deno.env.get("PATH") ?? "").split(":")) {
    if (directory === "") continue;
    const candidate = `${directory}/${name}`;
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

interface SpawnOptions {
  command: string;
  args: string[];
  port: number;
  cwd?: string;
  env?: Record<string, string>;
  what: string;
  cleanup?: () => Promise<void>;
  readyLine?: RegExp;
}

/** Accumulates a child's output stream until it ends, so the child never blocks on a full pipe. */
class OutputCollector {
  #text = "";
  readonly done: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = this.#drain(stream);
  }

  get text(): string {
    return this.#text;
  }

  async #drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) this.#text += decoder.decode(chunk, { stream: true });
    } catch {
      // The stream errors only if the process vanished; what we have is all there is.
    }
    this.#text += decoder.decode();
  }
}

class SpawnedServer implements RunningServer {
  readonly port: number;
  readonly process: Deno.ChildProcess;
  readonly #stdout: OutputCollector;
  readonly #stderr: OutputCollector;
  readonly #what: string;
  readonly #cleanup: (() => Promise<void>) | undefined;
  #exited = false;
  readonly #finished: Promise<Deno.CommandStatus>;
  #stopping: Promise<{ code: number; stderr: string }> | undefined;

  constructor(options: SpawnOptions) {
    this.port = options.port;
    this.#what = options.what;
    this.#cleanup = options.cleanup;
    const process = new Deno.Command(options.command, {
      args: options.args,
      cwd: options.cwd,
      env: options.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = new OutputCollector(process.stdout);
    const stderr = new OutputCollector(process.stderr);
    this.process = process;
    this.#stdout = stdout;
    this.#stderr = stderr;
    this.#finished = (async () => {
      const status = await process.status;
      this.#exited = true;
      await Promise.all([stdout.done, stderr.done]);
      return status;
    })();
  }

  get exited(): boolean {
    return this.#exited;
  }

  get finished(): Promise<Deno.CommandStatus> {
    return this.#finished;
  }

  stderr(): string {
    return this.#stderr.text;
  }

  stdout(): string {
    return this.#stdout.text;
  }

  /** Both streams, labelled, for error messages. */
  output(): string {
    const parts = [];
    if (this.stderr() !== "") parts.push(`--- stderr ---\n${this.stderr()}`);
    if (this.stdout() !== "") parts.push(`--- stdout ---\n${this.stdout()}`);
    return parts.length === 0 ? "(no output)" : parts.join("\n");
  }

  stop(signal: Deno.Signal = "SIGTERM"): Promise<{ code: number; stderr: string }> {
    this.#stopping ??= this.#terminate(signal);
    return this.#stopping;
  }

  async kill9(): Promise<void> {
    await this.stop("SIGKILL");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #terminate(signal: Deno.Signal): Promise<{ code: number; stderr: string }> {
    if (!this.#exited) {
      try {
        this.process.kill(signal);
      } catch {
        // It exited between the check and the signal.
      }
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const escalate = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, STOP_TIMEOUT_MS);
    });
    try {
      const first = await Promise.race([this.#finished, escalate.then(() => undefined)]);
      if (first === undefined && !this.#exited) {
        try {
          this.process.kill("SIGKILL");
        } catch {
          // Already gone.
        }
      }
    } finally {
      clearTimeout(timer);
    }
    const status = await this.#finished;
    if (this.#cleanup !== undefined) await this.#cleanup().catch(() => {});
    return { code: status.code, stderr: this.stderr() };
  }
}

async function spawnServer(options: SpawnOptions): Promise<RunningServer> {
  const server = new SpawnedServer(options);
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let lastProblem = "no attempt yet";
  while (Date.now() < deadline) {
    if (server.exited) {
      const { code } = await server.stop();
      throw new Error(
        `${options.what} exited with code ${code} before answering PING ` +
          `(${commandLine(options)})\n${server.output()}`,
      );
    }
    const problem = options.readyLine === undefined
      ? await pingOnce(options.port, deadline)
      : options.readyLine.test(server.stderr())
      ? undefined
      : "the ready line has not appeared yet";
    if (problem === undefined) return server;
    lastProblem = problem;
    await sleep(50);
  }
  await server.stop("SIGKILL");
  throw new Error(
    `${options.what} did not answer PING on ${LOOPBACK}:${options.port} within ` +
      `${STARTUP_TIMEOUT_MS}ms (last attempt: ${lastProblem}; ` +
      `${commandLine(options)})\n${server.output()}`,
  );
}

/** The command line for messages, with empty or spaced arguments quoted. */
function commandLine(options: SpawnOptions): string {
  return [options.command, ...options.args]
    .map((arg) => (arg === "" || /\s/.test(arg) ? JSON.stringify(arg) : arg))
    .join(" ");
}

/** Undefined when PING got +PONG (or NOAUTH: a password is set), otherwise what went wrong. */
async function pingOnce(port: number, deadline: number): Promise<string | undefined> {
  let client: RawClient;
  try {
    client = await RawClient.connect(port);
  } catch (error) {
    return String(error);
  }
  try {
    client.replyTimeoutMs = Math.max(1, deadline - Date.now());
    const reply = await client.command("PING").catch((error) => error);
    if (reply instanceof Uint8Array) {
      const text = escapeBytes(reply);
      const ready = text === '"+PONG\\r\\n"' || text.startsWith('"-NOAUTH ');
      return ready ? undefined : `PING answered ${text}`;
    }
    return String(reply);
  } finally {
    await client.close();
  }
}

/** Resolves after `ms` milliseconds (the timer is always cleared by firing). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------
// RESP framing

/** Thrown when the bytes received cannot be the start of a RESP reply. */
export class ReplyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReplyFormatError";
  }
}

const CR = 13;
const LF = 10;

/** Index of the CR of the first CRLF at or after `from`, or -1. */
function findLineEnd(bytes: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end - 1; i++) {
    if (bytes[i] === CR && bytes[i + 1] === LF) return i;
  }
  return -1;
}

function asciiSlice(bytes: Uint8Array, start: number, end: number): string {
  let text = "";
  for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]!);
  return text;
}

function parseCount(bytes: Uint8Array, start: number, lineEnd: number, offset: number): number {
  const text = asciiSlice(bytes, start, lineEnd);
  if (!/^-?\d+$/.test(text)) {
    throw new ReplyFormatError(`invalid length ${JSON.stringify(text)} at byte ${offset}`);
  }
  return Number(text);
}

/**
 * Where the RESP2/RESP3 reply starting at `start` ends (exclusive), or
 * undefined when the bytes up to `end` hold only part of it. Handles every
 * RESP3 type, nulls (`$-1`, `*-1`, `_`), nested aggregates and attributes
 * (an attribute `|` is part of the reply that follows it).
 *
 * @example
 * ```ts
 * findReplyEnd(new TextEncoder().encode("*1\r\n:1\r\n+OK"), 0); // 8
 * ```
 */
export function findReplyEnd(
  bytes: Uint8Array,
  start = 0,
  end = bytes.byteLength,
): number | undefined {
  if (start >= end) return undefined;
  const type = String.fromCharCode(bytes[start]!);
  const lineEnd = findLineEnd(bytes, start + 1, end);
  if (lineEnd < 0) return undefined;
  const afterLine = lineEnd + 2;
  switch (type) {
    case "+":
    case "-":
    case ":":
    case "_":
    case ",":
    case "#":
    case "(":
      return afterLine;
    case "$":
    case "!":
    case "=": {
      const length = parseCount(bytes, start + 1, lineEnd, start);
      if (length < 0) return afterLine;
      const frameEnd = afterLine + length + 2;
      if (frameEnd > end) return undefined;
      if (bytes[frameEnd - 2] !== CR || bytes[frameEnd - 1] !== LF) {
        throw new ReplyFormatError(
          `${type}${length} at byte ${start} is not followed by CRLF after ${length} bytes: ` +
            escapeBytes(bytes.subarray(start, Math.min(end, frameEnd + 16))),
        );
      }
      return frameEnd;
    }
    case "*":
    case "~":
    case ">":
    case "%":
    case "|": {
      const count = parseCount(bytes, start + 1, lineEnd, start);
      if (count < 0) return afterLine;
      const elements = type === "%" || type === "|" ? count * 2 : count;
      let position: number | undefined = afterLine;
      for (let i = 0; i < elements && position !== undefined; i++) {
        position = findReplyEnd(bytes, position, end);
      }
      // An attribute decorates the reply that follows it; both form one reply.
      if (type === "|" && position !== undefined) return findReplyEnd(bytes, position, end);
      return position;
    }
    default:
      throw new ReplyFormatError(
        `unexpected reply type byte ${JSON.stringify(type)} at byte ${start}: ` +
          escapeBytes(bytes.subarray(start, Math.min(end, start + 64))),
      );
  }
}

/**
 * Splits one aggregate reply into its header line and the raw bytes of each
 * element (for a map: keys and values alternate). Undefined for a reply that
 * is not an aggregate or is a null aggregate.
 */
export function splitAggregate(
  reply: Uint8Array,
): { header: string; elements: Uint8Array[] } | undefined {
  const type = String.fromCharCode(reply[0] ?? 0);
  if (!"*~>%".includes(type) || reply.byteLength === 0) return undefined;
  const lineEnd = findLineEnd(reply, 1, reply.byteLength);
  if (lineEnd < 0) return undefined;
  const count = parseCount(reply, 1, lineEnd, 0);
  if (count < 0) return undefined;
  const total = type === "%" ? count * 2 : count;
  const elements: Uint8Array[] = [];
  let position = lineEnd + 2;
  for (let i = 0; i < total; i++) {
    const next = findReplyEnd(reply, position);
    if (next === undefined) throw new ReplyFormatError("truncated aggregate reply");
    elements.push(reply.subarray(position, next));
    position = next;
  }
  return { header: asciiSlice(reply, 0, lineEnd), elements };
}

/** A reply decoded for assertions; see `decodeReply`. */
export type ReplyValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | ReplyError
  | ReplyValue[]
  | { [key: string]: ReplyValue };

/** An error reply (`-` or `!`), decoded. */
export interface ReplyError {
  error: string;
}

const DECODER = new TextDecoder();

/**
 * Decodes one complete raw reply into a JS value, for assertions where the
 * wire format does not matter: simple and bulk strings become strings
 * (decoded as UTF-8; verbatim strings lose their `txt:` prefix), integers
 * and doubles numbers (big numbers and integers beyond 2^53 bigints),
 * booleans booleans, every null `null`, arrays/sets/pushes arrays, maps
 * plain objects, and errors `{ error: "ERR ..." }`. Attributes are skipped.
 *
 * @example
 * ```ts
 * decodeReply(new TextEncoder().encode("*2\r\n$1\r\na\r\n:1\r\n")); // ["a", 1]
 * ```
 */
export function decodeReply(bytes: Uint8Array): ReplyValue {
  const [value, next] = decodeAt(bytes, 0);
  if (next !== bytes.byteLength) {
    throw new ReplyFormatError(
      `decodeReply expects exactly one reply, ${bytes.byteLength - next} bytes left over`,
    );
  }
  return value;
}

function decodeAt(bytes: Uint8Array, start: number): [ReplyValue, number] {
  const end = findReplyEnd(bytes, start);
  if (end === undefined) throw new ReplyFormatError("incomplete reply: " + escapeBytes(bytes));
  const type = String.fromCharCode(bytes[start]!);
  const lineEnd = findLineEnd(bytes, start + 1, bytes.byteLength);
  const line = asciiSlice(bytes, start + 1, lineEnd);
  switch (type) {
    case "+":
      return [DECODER.decode(bytes.subarray(start + 1, lineEnd)), end];
    case "-":
      return [{ error: DECODER.decode(bytes.subarray(start + 1, lineEnd)) }, end];
    case ":": {
      const value = BigInt(line);
      const safe = value <= BigInt(Number.MAX_SAFE_INTEGER) &&
        value >= BigInt(Number.MIN_SAFE_INTEGER);
      return [safe ? Number(value) : value, end];
    }
    case "_":
      return [null, end];
    case ",":
      return [line === "inf" ? Infinity : line === "-inf" ? -Infinity : Number(line), end];
    case "#":
      return [line === "t", end];
    case "(":
      return [BigInt(line), end];
    case "$":
    case "!":
    case "=": {
      if (Number(line) < 0) return [null, end];
      let body = bytes.subarray(lineEnd + 2, end - 2);
      if (type === "=") body = body.subarray(4);
      const text = DECODER.decode(body);
      return [type === "!" ? { error: text } : text, end];
    }
    case "|": {
      let position = lineEnd + 2;
      for (let i = 0; i < Number(line) * 2; i++) position = decodeAt(bytes, position)[1];
      return decodeAt(bytes, position);
    }
    case "%": {
      const count = Number(line);
      if (count < 0) return [null, end];
      const map: { [key: string]: ReplyValue } = {};
      let position = lineEnd + 2;
      for (let i = 0; i < count; i++) {
        const [key, afterKey] = decodeAt(bytes, position);
        const [value, afterValue] = decodeAt(bytes, afterKey);
        map[typeof key === "string" ? key : JSON.stringify(key)] = value;
        position = afterValue;
      }
      return [map, end];
    }
    default: { // * ~ >
      const count = Number(line);
      if (count < 0) return [null, end];
      const items: ReplyValue[] = [];
      let position = lineEnd + 2;
      for (let i = 0; i < count; i++) {
        const [item, next] = decodeAt(bytes, position);
        items.push(item);
        position = next;
      }
      return [items, end];
    }
  }
}

/**
 * Bytes as a double-quoted string with C-style escapes (like redis-cli's
 * raw output and Redis's sdscatrepr), so CR, LF and binary bytes are
 * visible in failure messages.
 *
 * @example
 * ```ts
 * escapeBytes(new TextEncoder().encode("+OK\r\n")); // "\"+OK\\r\\n\""
 * ```
 */
export function escapeBytes(bytes: Uint8Array | string): string {
  const data = typeof bytes === "string" ? latin1Bytes(bytes) : bytes;
  let text = '"';
  for (const byte of data) {
    switch (byte) {
      case 0x5c:
        text += "\\\\";
        break;
      case 0x22:
        text += '\\"';
        break;
      case 0x0a:
        text += "\\n";
        break;
      case 0x0d:
        text += "\\r";
        break;
      case 0x09:
        text += "\\t";
        break;
      default:
        text += byte >= 0x20 && byte < 0x7f
          ? String.fromCharCode(byte)
          : `\\x${byte.toString(16).padStart(2, "0")}`;
    }
  }
  return text + '"';
}

/** The bytes of a binary string (one byte per code unit, as the server stores values). */
export function latin1Bytes(value: string): Uint8Array {
  const bytes = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) bytes[i] = value.charCodeAt(i) & 0xff;
  return bytes;
}

/** A binary string holding `bytes` (one code unit per byte). */
export function bytesToLatin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.byteLength; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return text;
}

/**
 * A RESP multibulk request. Strings are encoded as UTF-8; pass a
 * Uint8Array (e.g. `latin1Bytes(arg)`) for exact bytes.
 */
export function encodeCommand(args: readonly (string | Uint8Array)[]): Uint8Array {
  const parts: Uint8Array[] = [ENCODER.encode(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === "string" ? ENCODER.encode(arg) : arg;
    parts.push(ENCODER.encode(`$${bytes.byteLength}\r\n`), bytes, ENCODER.encode("\r\n"));
  }
  return concatBytes(parts);
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Raw client

/**
 * A minimal RESP client for tests: sends bytes, returns raw reply bytes.
 *
 * A background loop reads everything the server sends into a buffer, so
 * pushes, replies and the server closing the connection are all observed
 * without an outstanding read being abandoned by a timeout (which would leak
 * an op). `close()` closes the socket and waits for that loop to finish.
 *
 * @example
 * ```ts
 * const client = await RawClient.connect(server.port);
 * try {
 *   assertEquals(new TextDecoder().decode(await client.command("PING")), "+PONG\r\n");
 * } finally {
 *   await client.close();
 * }
 * ```
 */
export class RawClient {
  readonly #conn: Deno.TcpConn;
  #buffer = new Uint8Array(16 * 1024);
  #start = 0;
  #end = 0;
  #eof = false;
  #closing = false;
  #readError: unknown;
  #waiters: (() => void)[] = [];
  readonly #loop: Promise<void>;
  /** How long `command`/`readReply` wait before throwing. */
  replyTimeoutMs = DEFAULT_REPLY_TIMEOUT_MS;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.#loop = this.#readLoop();
  }

  /** Connects to `port` on 127.0.0.1. */
  static async connect(port: number): Promise<RawClient> {
    const conn = await Deno.connect({ hostname: LOOPBACK, port });
    return new RawClient(conn);
  }

  /** Writes bytes (strings as UTF-8) exactly as given. */
  async send(data: Uint8Array | string): Promise<void> {
    let bytes = typeof data === "string" ? ENCODER.encode(data) : data;
    while (bytes.byteLength > 0) {
      const written = await this.#conn.write(bytes);
      bytes = bytes.subarray(written);
    }
  }

  /** Sends one request and returns the raw bytes of exactly one reply. */
  async command(...args: (string | Uint8Array)[]): Promise<Uint8Array> {
    await this.send(encodeCommand(args));
    return await this.readReply();
  }

  /**
   * The raw bytes of the next complete reply (a reply, a push, ...). Throws
   * if the connection closes first or nothing complete arrives within
   * `timeoutMs`; what did arrive stays buffered.
   */
  async readReply(timeoutMs = this.replyTimeoutMs): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = findReplyEnd(this.#buffer, this.#start, this.#end);
      if (end !== undefined) {
        const reply = this.#buffer.slice(this.#start, end);
        this.#start = end;
        return reply;
      }
      const pending = escapeBytes(this.#buffer.subarray(this.#start, this.#end));
      if (this.#eof) {
        throw new Error(
          `connection closed before a complete reply arrived (received ${pending}` +
            (this.#readError === undefined ? ")" : `; ${this.#readError})`),
        );
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0 || !(await this.#waitForData(remaining))) {
        throw new Error(`no complete reply within ${timeoutMs}ms (received ${pending})`);
      }
    }
  }

  /**
   * Everything received until the server stays silent for `timeoutMs` (or
   * closes the connection), including anything already buffered.
   */
  async readAll(timeoutMs: number): Promise<Uint8Array> {
    while (!this.#eof && (await this.#waitForData(timeoutMs)));
    const data = this.#buffer.slice(this.#start, this.#end);
    this.#start = this.#end = 0;
    return data;
  }

  /**
   * Whether the server closes the connection within `timeoutMs`. Bytes that
   * arrive meanwhile stay buffered for `readReply`/`readAll`.
   */
  async isClosed(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#eof) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      await this.#waitForData(remaining);
    }
    return true;
  }

  /** Closes the connection and waits until its reads have stopped. */
  async close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      try {
        this.#conn.close();
      } catch {
        // Already closed.
      }
    }
    await this.#loop;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #readLoop(): Promise<void> {
    const chunk = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const count = await this.#conn.read(chunk);
        if (count === null) break;
        this.#append(chunk.subarray(0, count));
        this.#notify();
      }
    } catch (error) {
      // A reset by the server counts as closing; our own close() interrupts the read.
      if (!this.#closing) this.#readError = error;
    }
    this.#eof = true;
    this.#notify();
  }

  #append(bytes: Uint8Array): void {
    if (this.#end + bytes.byteLength > this.#buffer.byteLength) {
      const pending = this.#end - this.#start;
      if (pending + bytes.byteLength <= this.#buffer.byteLength) {
        this.#buffer.copyWithin(0, this.#start, this.#end);
      } else {
        let capacity = this.#buffer.byteLength * 2;
        while (capacity < pending + bytes.byteLength) capacity *= 2;
        const grown = new Uint8Array(capacity);
        grown.set(this.#buffer.subarray(this.#start, this.#end));
        this.#buffer = grown;
      }
      this.#start = 0;
      this.#end = pending;
    }
    this.#buffer.set(bytes, this.#end);
    this.#end += bytes.byteLength;
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** True when data arrived or the connection ended, false on timeout. */
  #waitForData(timeoutMs: number): Promise<boolean> {
    if (this.#eof) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((waiter) => waiter !== wake);
        resolve(false);
      }, timeoutMs);
      this.#waiters.push(wake);
    });
  }
}

/** The repository root (with a trailing slash), for tests that need paths. */
export function repoRoot(): string {
  return REPO_ROOT;
}
