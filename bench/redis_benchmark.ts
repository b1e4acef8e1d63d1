/**
 * One `redis-benchmark` invocation and what it printed: requests per second
 * and the p99 latency of a single test.
 *
 * One test per invocation, because redis-benchmark exits on the first error
 * reply: a command we have not implemented yet must cost one row, not the
 * run, and its "ERR unknown command" is reported as such so the row can say
 * "not implemented yet". A test is either one of redis-benchmark's own
 * (`-t set`) or an arbitrary command (`EVALSHA <sha> 1 key:__rand_int__`),
 * where `__rand_int__` becomes a random number below `randomKeys`.
 *
 * @module
 */

import { HOST } from "./resp.ts";
import { track } from "./servers.ts";

/** What to run. */
export interface BenchmarkSpec {
  /** A redis-benchmark test name (`-t`), or the command to send. */
  test: string | readonly string[];
  requests: number;
  clients: number;
  /** 1 means no pipelining. */
  pipeline: number;
  /** `-r`: the range of `__rand_int__`. */
  randomKeys: number;
  /** More redis-benchmark arguments (e.g. `--user`, `-a`). */
  extraArgs?: readonly string[];
}

/** What it measured, or why not. */
export type BenchmarkOutcome =
  | { ok: true; rps: number; p99Ms: number }
  | { ok: false; reason: string; notImplemented: boolean };

const decoder = new TextDecoder();

/**
 * The first result line of `--csv` output: `"test","rps","avg_latency_ms",
 * "min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"`.
 *
 * @example
 * ```ts
 * parseBenchmarkCsv('"test","rps"\n"SET","90000.00","0.3","0.1","0.3","0.5","0.6","1.2"');
 * // { rps: 90000, p99Ms: 0.6 }
 * ```
 */
export function parseBenchmarkCsv(text: string): { rps: number; p99Ms: number } | undefined {
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith('"') || line.startsWith('"test"')) continue;
    const fields = line.slice(1, line.endsWith('"') ? -1 : undefined).split('","');
    const rps = Number(fields[1]);
    if (!(rps > 0)) return undefined;
    return { rps, p99Ms: Number(fields[6]) };
  }
  return undefined;
}

/** The line that explains a failed run, ignoring redis-benchmark's warnings. */
function failureLine(stderr: string, stdout: string): string {
  const lines = `${stderr}\n${stdout}`.split(/\r?\n/).map((line) => line.trim())
    .filter((line) => line && !line.startsWith("WARNING") && !line.startsWith('"'));
  return lines.find((line) => /error/i.test(line)) ?? lines.at(-1) ?? "no result line";
}

/** Runs one test against `port`; a hung server costs a timeout, not the run. */
export async function runRedisBenchmark(
  port: number,
  spec: BenchmarkSpec,
): Promise<BenchmarkOutcome> {
  const args = [
    "-h",
    HOST,
    "-p",
    String(port),
    "-c",
    String(spec.clients),
    "-n",
    String(spec.requests),
    "-r",
    String(spec.randomKeys),
    ...(spec.pipeline > 1 ? ["-P", String(spec.pipeline)] : []),
    ...(spec.extraArgs ?? []),
    "-q",
    "--csv",
    ...(typeof spec.test === "string" ? ["-t", spec.test] : spec.test),
  ];
  // Allow at least 5k requests/s before giving up on the server.
  const timeoutMs = 20_000 + spec.requests / 5;
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
  if (timedOut) {
    return { ok: false, reason: `timed out after ${timeoutMs / 1000} s`, notImplemented: false };
  }
  const result = parseBenchmarkCsv(stdout);
  if (!result) {
    const reason = failureLine(stderr, stdout);
    return { ok: false, reason, notImplemented: /unknown command/i.test(reason) };
  }
  return { ok: true, ...result };
}
