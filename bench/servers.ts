/**
 * The two servers a benchmark compares, as child processes: ours (Deno
 * running src/main.ts, or any command in `BENCH_OURS_CMD`) and
 * `redis-server`, started with the same flags on a loopback port, each in a
 * fresh directory of its own.
 *
 * Every child is tracked so an error or Ctrl-C kills what was started and
 * nothing survives the benchmark. A server can be paused (SIGSTOP) while the
 * other one is measured: the machine has two cores, the load generator needs
 * one, and an idle server is not idle to the scheduler (ours runs its idle
 * compaction, a full garbage collection, a second after traffic stops; a
 * stopped process cannot take a core from the one being measured).
 *
 * How ours is started:
 *
 * - `BENCH_OURS_CMD` (a command prefix, simple shell quoting) runs another
 *   build or checkout: `BENCH_OURS_CMD="deno run -A /tmp/before/src/main.ts"`.
 *   It should exec the server rather than wrap it, since pausing and
 *   stopping signal the whole process tree but shells may not forward.
 * - Otherwise the `start` task of deno.json says the permissions (so the
 *   benchmark runs the server as users start it), with `BENCH_OURS_MAIN`
 *   replacing src/main.ts if set.
 * - `BENCH_OURS_ARGS` adds flags: words starting with `--v8-flags` go to
 *   `deno run` (without `BENCH_OURS_CMD`), the rest to the server.
 *
 * Ports come from `BENCH_PORTS` (`7380-7399`) when set, round-robin so a
 * port's TIME_WAIT sockets from thousands of connections have time to go,
 * otherwise from the kernel's ephemeral range.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { HOST, type Reply, ReplyError, RespConnection } from "./resp.ts";
import { processTreePids } from "./process_stats.ts";

/** Which server. */
export type Side = "ours" | "redis";

/** Both sides, ours first. */
export const SIDES: readonly Side[] = ["ours", "redis"];

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const MAIN_MODULE = join(REPO_ROOT, "src", "main.ts");
/** Used when deno.json's start task cannot be read. */
const DEFAULT_PERMISSIONS = ["--allow-net", "--allow-read", "--allow-write"];

// ---------------------------------------------------------------------------
// Process bookkeeping.

const liveChildren = new Set<Deno.ChildProcess>();

/** Registers `child` so `killAllChildren` can reach it; returns it. */
export function track(child: Deno.ChildProcess): Deno.ChildProcess {
  liveChildren.add(child);
  child.status.finally(() => liveChildren.delete(child)).catch(() => {});
  return child;
}

/** SIGKILLs every tracked child still running (they may be stopped: SIGKILL works anyway). */
export function killAllChildren(): void {
  for (const child of liveChildren) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

// ---------------------------------------------------------------------------
// Small helpers.

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An error's message, or the value as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Splits a command line with simple shell quoting ('single', "double", backslash).
 *
 * @example
 * ```ts
 * splitCommandLine(`deno run -A "/tmp/my dir/main.ts"`); // ["deno", "run", "-A", "/tmp/my dir/main.ts"]
 * ```
 */
export function splitCommandLine(text: string): string[] {
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

/** A word as a shell would need it quoted, for printing commands. */
export function quoteWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

// ---------------------------------------------------------------------------
// Ports.

let portRange: { first: number; last: number; next: number } | undefined | null = null;
const portsInUse = new Set<number>();

function configuredRange(): { first: number; last: number; next: number } | undefined {
  if (portRange !== null) return portRange;
  const text = Deno.env.get("BENCH_PORTS");
  const match = text ? /^(\d+)-(\d+)$/.exec(text.trim()) : null;
  if (text && !match) throw new Error(`BENCH_PORTS must look like 7380-7399, got '${text}'`);
  portRange = match
    ? { first: Number(match[1]), last: Number(match[2]), next: Number(match[1]) }
    : undefined;
  return portRange;
}

function canListen(port: number): boolean {
  try {
    Deno.listen({ hostname: HOST, port }).close();
    return true;
  } catch {
    return false;
  }
}

/** A port nothing listens on; give it back with `releasePort`. */
export function reservePort(): number {
  const range = configuredRange();
  if (!range) {
    const listener = Deno.listen({ hostname: HOST, port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    portsInUse.add(port);
    return port;
  }
  const size = range.last - range.first + 1;
  for (let tried = 0; tried < size; tried++) {
    const port = range.next;
    range.next = port === range.last ? range.first : port + 1;
    if (!portsInUse.has(port) && canListen(port)) {
      portsInUse.add(port);
      return port;
    }
  }
  throw new Error(`No free port in BENCH_PORTS ${range.first}-${range.last}`);
}

/** Makes `port` available to `reservePort` again. */
export function releasePort(port: number): void {
  portsInUse.delete(port);
}

// ---------------------------------------------------------------------------
// How to start each side.

/** The command prefixes of both sides; each server's own flags are appended. */
export interface ServerCommands {
  /** argv prefix for ours. */
  ours: string[];
  /** Flags appended after ours's flags (the server part of BENCH_OURS_ARGS). */
  oursExtra: string[];
  /** argv prefix for Redis. */
  redis: string[];
}

/** deno.json's `start` task flags (`--allow-*` and friends), or undefined if unreadable. */
function startTaskFlags(): string[] | undefined {
  try {
    const config = JSON.parse(Deno.readTextFileSync(join(REPO_ROOT, "deno.json")));
    const start = config?.tasks?.start;
    const text = typeof start === "string" ? start : start?.command;
    if (typeof text !== "string") return undefined;
    const words = splitCommandLine(text);
    const mainIndex = words.findIndex((word) => word.endsWith("main.ts"));
    if (words[0] !== "deno" || words[1] !== "run" || mainIndex < 0) return undefined;
    const flags = words.slice(2, mainIndex);
    return flags.every((flag) => flag.startsWith("-")) ? flags : undefined;
  } catch {
    return undefined;
  }
}

/** The commands from `BENCH_OURS_CMD`, `BENCH_OURS_MAIN`, `BENCH_OURS_ARGS` and deno.json. */
export function serverCommandsFromEnvironment(): ServerCommands {
  const extra = splitCommandLine(Deno.env.get("BENCH_OURS_ARGS") ?? "");
  const override = splitCommandLine(Deno.env.get("BENCH_OURS_CMD") ?? "");
  if (override.length > 0) return { ours: override, oursExtra: extra, redis: ["redis-server"] };
  const v8Flags = extra.filter((word) => word.startsWith("--v8-flags"));
  return {
    ours: [
      Deno.execPath(),
      "run",
      ...(startTaskFlags() ?? DEFAULT_PERMISSIONS),
      ...v8Flags,
      Deno.env.get("BENCH_OURS_MAIN") ?? MAIN_MODULE,
    ],
    oursExtra: extra.filter((word) => !word.startsWith("--v8-flags")),
    redis: ["redis-server"],
  };
}

/** How ours is started, for the report header. */
export function describeOurs(commands: ServerCommands): string {
  return [...commands.ours, "--port", "<P>", "...", ...commands.oursExtra].map(quoteWord).join(
    " ",
  );
}

// ---------------------------------------------------------------------------
// A running server.

/** Polls PING until it answers +PONG (not -LOADING), the deadline passes, or `gone()` says the process died. */
export async function waitForPong(
  port: number,
  timeoutMs: number,
  gone: () => boolean,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = "no connection";
  while (performance.now() < deadline) {
    if (gone()) throw new Error("exited before answering PING");
    let connection: RespConnection;
    try {
      connection = await RespConnection.open(port);
    } catch (error) {
      last = errorMessage(error);
      await sleep(10);
      continue;
    }
    try {
      while (performance.now() < deadline && !gone()) {
        const reply = await connection.command(
          ["PING"],
          Math.max(1, deadline - performance.now()),
        );
        if (reply === "PONG") return;
        last = reply instanceof ReplyError ? reply.message : JSON.stringify(reply);
        await sleep(10);
      }
    } catch (error) {
      last = errorMessage(error);
    } finally {
      connection.close();
    }
    await sleep(10);
  }
  throw new Error(`no PONG within ${(timeoutMs / 1000).toFixed(0)} s (last: ${last})`);
}

/** Options of `ServerProcess.start`. */
export interface StartOptions {
  /** Directory the server runs in (`--dir` and its working directory); logs go there too. */
  dir: string;
  /** Flags after the common ones (`--port --bind --dir --save ""`). */
  flags: readonly string[];
  /** How long to wait for the first PONG (AOF replay can be long). */
  readyTimeoutMs?: number;
}

/** A server child process, started and answering PING. */
export class ServerProcess {
  /** Which server this is. */
  readonly side: Side;
  /** Its loopback port. */
  readonly port: number;
  /** Its directory. */
  readonly dir: string;
  /** The full command line. */
  readonly argv: readonly string[];
  /** Seconds from spawn to the first PONG. */
  startSeconds = 0;
  #child: Deno.ChildProcess;
  #logs: Promise<unknown>[];
  #exitCode: number | undefined;
  #paused = false;

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

  /** Whether the process has not exited. */
  get running(): boolean {
    return this.#exitCode === undefined;
  }

  /** The process id (of the root, for a wrapped server). */
  get pid(): number {
    return this.#child.pid;
  }

  /**
   * Spawns a server and waits until it answers PING; the error says why it
   * did not, with its log's last lines.
   */
  static async start(
    side: Side,
    commands: ServerCommands,
    options: StartOptions,
  ): Promise<ServerProcess> {
    const port = reservePort();
    const common = ["--port", String(port), "--bind", HOST, "--dir", options.dir, "--save", ""];
    const argv = side === "ours"
      ? [...commands.ours, ...common, ...options.flags, ...commands.oursExtra]
      : [...commands.redis, ...common, "--daemonize", "no", ...options.flags];
    const begin = performance.now();
    let child: Deno.ChildProcess;
    try {
      child = track(
        new Deno.Command(argv[0]!, {
          args: argv.slice(1),
          cwd: options.dir,
          env: { NO_COLOR: "1" },
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn(),
      );
    } catch (error) {
      releasePort(port);
      throw new Error(`${side} server did not start: ${argv[0]}: ${errorMessage(error)}`);
    }
    const server = new ServerProcess(side, port, options.dir, argv, child);
    try {
      await waitForPong(port, options.readyTimeoutMs ?? 30_000, () => !server.running);
    } catch (error) {
      const exited = server.running ? "" : ` (exit code ${server.#exitCode})`;
      await server.stop();
      throw new Error(
        `${side} server did not start: ${errorMessage(error)}${exited}\n${await server.logTail()}`,
      );
    }
    server.startSeconds = (performance.now() - begin) / 1000;
    return server;
  }

  async #signalTree(signal: Deno.Signal): Promise<void> {
    const pids = await processTreePids(this.pid).catch(() => [this.pid]);
    for (const pid of pids) {
      try {
        Deno.kill(pid, signal);
      } catch {
        // Exited meanwhile.
      }
    }
  }

  /** Stops the server's processes (SIGSTOP) so they cannot run at all. */
  async pause(): Promise<void> {
    if (this.#paused || !this.running) return;
    await this.#signalTree("SIGSTOP");
    this.#paused = true;
  }

  /** Lets a paused server run again. */
  async resume(): Promise<void> {
    if (!this.#paused) return;
    this.#paused = false;
    await this.#signalTree("SIGCONT");
  }

  /** SIGKILL, for a server that must not hold up the run (a timed-out load). */
  kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within ten seconds. */
  async stop(): Promise<void> {
    if (this.running) {
      await this.resume();
      try {
        this.#child.kill("SIGTERM");
      } catch {
        // Exited meanwhile.
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          try {
            this.#child.kill("SIGKILL");
          } catch {
            // Exited meanwhile.
          }
          resolve();
        }, 10_000);
      });
      await Promise.race([this.#child.status, killed]);
      clearTimeout(timer);
    }
    await this.#child.status;
    await Promise.allSettled(this.#logs);
    releasePort(this.port);
  }

  /** Its command line and the last lines of its logs, for error messages. */
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

  /** Sends one command on a fresh connection and returns the reply. */
  async command(args: readonly string[], timeoutMs = 60_000): Promise<Reply> {
    const connection = await RespConnection.open(this.port);
    try {
      return await connection.command(args, timeoutMs);
    } finally {
      connection.close();
    }
  }
}
