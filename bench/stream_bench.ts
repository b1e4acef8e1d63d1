/**
 * Stream throughput against redis-server: redis-benchmark's XADD (50
 * clients), XRANGE of 100 entries and XREADGROUP COUNT 10, run on both
 * servers in interleaved rounds, reporting the median requests per second
 * and the server CPU per request. A SET row comes first as the reference:
 * what a request costs each server before any stream work.
 *
 * ```sh
 * deno run -A bench/stream_bench.ts                 # 3 rounds
 * deno run -A bench/stream_bench.ts --rounds 5 --requests 200000
 * ```
 *
 * On a shared machine throughput swings with the neighbours' load, so each
 * round runs redis-server and ours back to back (alternating which goes
 * first) and the medians are compared. CPU per request (utime + stime from
 * /proc/<pid>/stat, before and after each run) does not depend on how the
 * cores were shared, which makes it the steadier figure. Both servers run
 * without persistence; XREADGROUP reads a stream filled beforehand with ten
 * entries per request, so every call delivers ten new entries.
 *
 * @module
 */

import { freePort, RawClient } from "../tests/helpers/servers.ts";

interface Server {
  name: string;
  port: number;
  pid: number;
  process: Deno.ChildProcess;
}

const CLOCK_TICKS_PER_SECOND = 100;
const decoder = new TextDecoder();

function option(name: string, fallback: number): number {
  const index = Deno.args.indexOf(`--${name}`);
  return index < 0 ? fallback : Number(Deno.args[index + 1]);
}

async function waitForPing(port: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const client = await RawClient.connect(port);
      await client.command("PING");
      await client.close();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function start(name: string, program: string, args: string[], port: number) {
  const process = new Deno.Command(program, { args, stdout: "null", stderr: "null" }).spawn();
  await waitForPing(port);
  return { name, port, pid: process.pid, process };
}

/** CPU seconds (user + system) the process has used so far. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

async function benchmark(port: number, args: string[]): Promise<number> {
  const output = await new Deno.Command("redis-benchmark", {
    args: ["-p", String(port), "--csv", ...args],
    stdout: "piped",
    stderr: "null",
  }).output();
  const lines = decoder.decode(output.stdout).trim().split("\n");
  const row = lines[lines.length - 1]!.split(",").map((cell) => cell.replaceAll('"', ""));
  return Number(row[1]);
}

async function command(port: number, ...args: string[]): Promise<void> {
  const client = await RawClient.connect(port);
  try {
    await client.command(...args);
  } finally {
    await client.close();
  }
}

interface Workload {
  name: string;
  /** Prepares the server for a run of `requests`. */
  setup(port: number, requests: number): Promise<void>;
  args: string[];
}

const WORKLOADS: Workload[] = [
  {
    // Not a stream command: what any request costs each server, for reference.
    name: "SET k v (reference)",
    setup: () => Promise.resolve(),
    args: ["SET", "k", "v"],
  },
  {
    name: "XADD s * f v",
    setup: (port) => command(port, "DEL", "s"),
    args: ["XADD", "s", "*", "f", "v"],
  },
  {
    name: "XRANGE (100 entries)",
    async setup(port) {
      await command(port, "DEL", "r");
      await benchmark(port, ["-c", "1", "-n", "1000", "XADD", "r", "*", "field", "value"]);
    },
    args: ["XRANGE", "r", "-", "+", "COUNT", "100"],
  },
  {
    name: "XREADGROUP COUNT 10",
    async setup(port, requests) {
      await command(port, "DEL", "g");
      await benchmark(port, [
        "-c",
        "10",
        "-P",
        "100",
        "-n",
        String(requests * 10),
        "XADD",
        "g",
        "*",
        "f",
        "v",
      ]);
      await command(port, "XGROUP", "CREATE", "g", "workers", "0");
    },
    args: ["XREADGROUP", "GROUP", "workers", "consumer", "COUNT", "10", "STREAMS", "g", ">"],
  },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const rounds = option("rounds", 3);
const requests = option("requests", 100_000);
const redisPort = await freePort();
const ourPort = await freePort();
const root = new URL("..", import.meta.url).pathname;
const servers: Server[] = [
  await start(
    "redis",
    "redis-server",
    ["--port", String(redisPort), "--save", "", "--appendonly", "no"],
    redisPort,
  ),
  await start(
    "ours",
    Deno.execPath(),
    ["run", "-A", `${root}src/main.ts`, "--port", String(ourPort), "--appendonly", "no"],
    ourPort,
  ),
];

try {
  console.log(`${rounds} rounds, ${requests} requests each, 50 clients\n`);
  console.log("workload               redis rps   ours rps  ratio   redis µs/req  ours µs/req");
  for (const workload of WORKLOADS) {
    const results = new Map<string, { rps: number[]; cpu: number[] }>();
    for (const server of servers) results.set(server.name, { rps: [], cpu: [] });
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      for (const server of order) {
        await workload.setup(server.port, requests);
        const before = await cpuSeconds(server.pid);
        const rps = await benchmark(server.port, [
          "-c",
          "50",
          "-n",
          String(requests),
          ...workload.args,
        ]);
        const spent = await cpuSeconds(server.pid) - before;
        results.get(server.name)!.rps.push(rps);
        results.get(server.name)!.cpu.push(spent * 1e6 / requests);
      }
    }
    const redis = results.get("redis")!;
    const ours = results.get("ours")!;
    const ratio = median(ours.rps) / median(redis.rps);
    console.log(
      `${workload.name.padEnd(22)} ${median(redis.rps).toFixed(0).padStart(9)} ${
        median(ours.rps).toFixed(0).padStart(10)
      } ${ratio.toFixed(2).padStart(6)} ${median(redis.cpu).toFixed(1).padStart(14)} ${
        median(ours.cpu).toFixed(1).padStart(12)
      }   (rps runs: redis ${redis.rps.map((value) => value.toFixed(0)).join(" ")}; ours ${
        ours.rps.map((value) => value.toFixed(0)).join(" ")
      })`,
    );
  }
} finally {
  for (const server of servers) {
    server.process.kill("SIGKILL");
    await server.process.status;
  }
}
