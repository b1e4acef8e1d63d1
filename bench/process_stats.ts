/**
 * What a server process costs, read from Linux's /proc: CPU time (user plus
 * system, all threads) and resident memory, summed over the process and its
 * descendants, and the peak resident size.
 *
 * CPU comes from fields 14 and 15 of `/proc/<pid>/stat` (`utime`, `stime`,
 * in clock ticks of `getconf CLK_TCK`), which the kernel keeps for the whole
 * thread group: a Deno server's V8 GC helpers and I/O threads count, as do
 * Redis's background threads. Read before and after a load generator run,
 * the difference is what the server spent on that run however the two
 * shared cores were scheduled, which throughput alone cannot say on a
 * shared machine. Resident memory is field 24 (pages). The descendants are
 * included so a `BENCH_OURS_CMD` that wraps the server (a shell, a
 * supervisor) is still measured whole.
 *
 * Deno reads /proc only under `--allow-all`, and `deno task bench` grants
 * less, so one `sh` walks the process tree with shell built-ins and prints
 * every `stat` line: one spawn per sample, whatever the tree.
 *
 * @module
 */

/** The dash/bash script: prints the stat line of $1 and of every descendant. */
const WALK_SCRIPT = `
walk() {
  local line kids child file
  if read -r line < /proc/$1/stat; then printf '%s\\n' "$line"; fi
  for file in /proc/$1/task/*/children; do
    kids=""
    read -r kids < "$file" || true
    for child in $kids; do walk "$child"; done
  done
}
walk "$1" 2>/dev/null
`;

/** One process's figures from its stat line. */
export interface ProcessStat {
  pid: number;
  /** User plus system time, in clock ticks. */
  cpuTicks: number;
  /** Resident pages. */
  residentPages: number;
}

/** A sample of a process tree. */
export interface ProcessSample {
  /** User plus system CPU seconds since the processes started. */
  cpuSeconds: number;
  /** Resident set size in bytes. */
  residentBytes: number;
  /** Processes in the tree. */
  processes: number;
}

const decoder = new TextDecoder();

async function commandText(program: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(program, { args, stdout: "piped", stderr: "null" })
    .output();
  return decoder.decode(output.stdout).trim();
}

let constants: Promise<{ ticksPerSecond: number; pageBytes: number }> | undefined;

/** `getconf CLK_TCK` and `getconf PAGESIZE`, asked once. */
export function systemConstants(): Promise<{ ticksPerSecond: number; pageBytes: number }> {
  constants ??= (async () => {
    const ticksPerSecond = Number(await commandText("getconf", ["CLK_TCK"]));
    const pageBytes = Number(await commandText("getconf", ["PAGESIZE"]));
    if (!(ticksPerSecond > 0) || !(pageBytes > 0)) {
      throw new Error(`getconf gave CLK_TCK '${ticksPerSecond}', PAGESIZE '${pageBytes}'`);
    }
    return { ticksPerSecond, pageBytes };
  })();
  return constants;
}

/**
 * Parses one `/proc/<pid>/stat` line. The command name (field 2) is in
 * parentheses and may itself hold spaces and parentheses, so fields are
 * counted from the last `)`.
 *
 * @example
 * ```ts
 * parseStatLine("42 (deno) S 1 42 42 0 -1 0 0 0 0 0 7 3 0 0 20 0 9 0 1 1 250");
 * // { pid: 42, cpuTicks: 10, residentPages: 250 }
 * ```
 */
export function parseStatLine(line: string): ProcessStat {
  const close = line.lastIndexOf(")");
  const pid = Number(line.slice(0, line.indexOf(" ")));
  // After ") ", field 3 (state) is index 0, so field N is index N - 3.
  const fields = line.slice(close + 2).split(" ");
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  const residentPages = Number(fields[24 - 3]);
  if (
    close < 0 || !Number.isInteger(pid) || ![utime, stime, residentPages].every(Number.isFinite)
  ) {
    throw new Error(`Unreadable /proc stat line '${line.slice(0, 120)}'`);
  }
  return { pid, cpuTicks: utime + stime, residentPages };
}

async function treeStats(pid: number): Promise<ProcessStat[]> {
  const text = await commandText("sh", ["-c", WALK_SCRIPT, "sh", String(pid)]);
  const stats = text.split("\n").filter((line) => line.length > 0).map(parseStatLine);
  if (!stats.some((stat) => stat.pid === pid)) throw new Error(`Process ${pid} is not running`);
  return stats;
}

/** `pid` and the ids of all its descendants; throws if `pid` is gone. */
export async function processTreePids(pid: number): Promise<number[]> {
  return (await treeStats(pid)).map((stat) => stat.pid);
}

/** CPU and resident memory of `pid` and its descendants; throws if `pid` is gone. */
export async function sampleProcessTree(pid: number): Promise<ProcessSample> {
  const { ticksPerSecond, pageBytes } = await systemConstants();
  const stats = await treeStats(pid);
  let ticks = 0;
  let pages = 0;
  for (const stat of stats) {
    ticks += stat.cpuTicks;
    pages += stat.residentPages;
  }
  return {
    cpuSeconds: ticks / ticksPerSecond,
    residentBytes: pages * pageBytes,
    processes: stats.length,
  };
}

/** The peak resident size of `pid` itself (`VmHWM` in /proc/<pid>/status), in bytes. */
export async function peakResidentBytes(pid: number): Promise<number> {
  const status = await commandText("cat", [`/proc/${pid}/status`]);
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`No VmHWM for process ${pid}`);
  return Number(match[1]) * 1024;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How `waitUntilQuiet` went. */
export interface QuietResult {
  /** Whether a quiet window was seen before the deadline. */
  quiet: boolean;
  /** Milliseconds waited. */
  waitedMs: number;
  /** CPU seconds the process spent while waited for. */
  cpuSeconds: number;
}

/**
 * Waits until the process tree of `pid` spends at most `maxBusyFraction` of
 * one core over a window of `windowMs` (after at least `minimumMs`), or
 * until `maximumMs` have passed. This lets a server finish what it does by
 * itself (a garbage collection after idle time, closing the load
 * generator's connections) before the next measurement starts, so that work
 * is not charged to it.
 */
export async function waitUntilQuiet(
  pid: number,
  { windowMs = 100, minimumMs = 0, maximumMs = 3000, maxBusyFraction = 0.1 } = {},
): Promise<QuietResult> {
  const begin = performance.now();
  const first = await sampleProcessTree(pid);
  if (minimumMs > 0) await sleep(minimumMs);
  let previous = await sampleProcessTree(pid);
  for (;;) {
    await sleep(windowMs);
    const current = await sampleProcessTree(pid);
    const waitedMs = performance.now() - begin;
    const busy = current.cpuSeconds - previous.cpuSeconds;
    if (busy <= (windowMs / 1000) * maxBusyFraction || waitedMs >= maximumMs) {
      return {
        quiet: busy <= (windowMs / 1000) * maxBusyFraction,
        waitedMs,
        cpuSeconds: Math.max(0, current.cpuSeconds - first.cpuSeconds),
      };
    }
    previous = current;
  }
}
