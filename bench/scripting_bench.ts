/**
 * Scripting benchmarks against redis-server 7.0, one server at a time with
 * the same flags:
 *
 * - EVALSHA of `return redis.call('INCR', KEYS[1])` with redis-benchmark
 *   (50 clients): throughput, and CPU per call from /proc/<pid>/stat
 *   (utime + stime of the server, read around the run).
 * - BullMQ: the time to add 10,000 jobs and process them with one worker
 *   (concurrency 10), and the server's CPU meanwhile.
 *
 * Each round starts both servers fresh; the best round of each side counts
 * (the machine is shared, so the slowest runs say more about neighbours
 * than about the servers).
 *
 * ```sh
 * deno run -A bench/scripting_bench.ts                 # both, 3 rounds
 * deno run -A bench/scripting_bench.ts --only evalsha --requests 300000 --rounds 5
 * deno run -A bench/scripting_bench.ts --only bullmq --jobs 10000
 * ```
 *
 * @module
 */

import { Queue, Worker } from "bullmq";

type Side = "ours" | "redis";

interface Options {
  only: "evalsha" | "bullmq" | undefined;
  requests: number;
  rounds: number;
  jobs: number;
}

function parseOptions(args: string[]): Options {
  const options: Options = { only: undefined, requests: 200_000, rounds: 3, jobs: 10_000 };
  for (let i = 0; i < args.length; i++) {
    const value = args[i + 1];
    switch (args[i]) {
      case "--only":
        if (value !== "evalsha" && value !== "bullmq") throw new Error(`--only ${value}?`);
        options.only = value;
        i++;
        break;
      case "--requests":
        options.requests = Number(value);
        i++;
        break;
      case "--rounds":
        options.rounds = Number(value);
        i++;
        break;
      case "--jobs":
        options.jobs = Number(value);
        i++;
        break;
      default:
        throw new Error(`unknown option ${args[i]}`);
    }
  }
  return options;
}

const ROOT = new URL("../", import.meta.url).pathname;
const TICKS_PER_SECOND = 100;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A started server process and its port. */
class BenchServer {
  private constructor(
    readonly side: Side,
    readonly port: number,
    readonly child: Deno.ChildProcess,
  ) {}

  static async start(side: Side): Promise<BenchServer> {
    const port = freePort();
    const command = side === "ours"
      ? new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          `${ROOT}src/main.ts`,
          "--port",
          String(port),
          "--appendonly",
          "no",
        ],
        stdout: "null",
        stderr: "null",
      })
      : new Deno.Command("redis-server", {
        args: ["--port", String(port), "--save", "", "--appendonly", "no"],
        stdout: "null",
        stderr: "null",
      });
    const server = new BenchServer(side, port, command.spawn());
    const deadline = Date.now() + 20_000;
    while ((await cli(port, "PING")) !== "PONG") {
      if (Date.now() > deadline) throw new Error(`${side} server did not start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return server;
  }

  /** utime + stime of the process, in seconds. */
  async cpuSeconds(): Promise<number> {
    const stat = await Deno.readTextFile(`/proc/${this.child.pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  }

  async stop(): Promise<void> {
    try {
      this.child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await this.child.status;
  }
}

async function run(program: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(program, { args, stdout: "piped", stderr: "piped" })
    .output();
  return new TextDecoder().decode(output.stdout).trim();
}

function cli(port: number, ...args: string[]): Promise<string> {
  return run("redis-cli", ["-p", String(port), ...args]).catch(() => "");
}

interface EvalShaResult {
  rps: number;
  cpuMicrosecondsPerCall: number;
}

/** One side's EVALSHA run, or its plain INCR run (`plain`): the base cost of a request. */
async function evalShaRound(side: Side, requests: number, plain = false): Promise<EvalShaResult> {
  const server = await BenchServer.start(side);
  try {
    const sha = await cli(server.port, "SCRIPT", "LOAD", "return redis.call('INCR', KEYS[1])");
    const command = plain ? ["INCR", "counter"] : ["EVALSHA", sha, "1", "counter"];
    const benchmark = (count: number) =>
      run("redis-benchmark", [
        "-p",
        String(server.port),
        "-c",
        "50",
        "-n",
        String(count),
        "--csv",
        ...command,
      ]);
    await benchmark(Math.min(requests, 50_000)); // warm-up: JIT, buffers
    const before = await server.cpuSeconds();
    const csv = await benchmark(requests);
    const cpu = (await server.cpuSeconds()) - before;
    const lines = csv.split("\n");
    const rps = Number(JSON.parse(`[${lines[lines.length - 1]}]`)[1]);
    return { rps, cpuMicrosecondsPerCall: cpu * 1e6 / requests };
  } finally {
    await server.stop();
  }
}

interface BullResult {
  seconds: number;
  serverCpuSeconds: number;
}

async function bullRound(side: Side, jobs: number): Promise<BullResult> {
  const server = await BenchServer.start(side);
  const connection = { host: "127.0.0.1", port: server.port, maxRetriesPerRequest: null };
  const queue = new Queue("bench", { connection });
  let worker: Worker | undefined;
  try {
    await queue.waitUntilReady();
    const before = await server.cpuSeconds();
    const started = performance.now();
    let completed = 0;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => finish = resolve);
    worker = new Worker("bench", (job) => Promise.resolve(job.data.index), {
      connection,
      concurrency: 10,
    });
    worker.on("completed", () => {
      if (++completed === jobs) finish();
    });
    for (let index = 0; index < jobs; index += 1000) {
      const batch = Array.from(
        { length: Math.min(1000, jobs - index) },
        (_, offset) => ({ name: "job", data: { index: index + offset } }),
      );
      await queue.addBulk(batch);
    }
    await finished;
    const seconds = (performance.now() - started) / 1000;
    const serverCpuSeconds = (await server.cpuSeconds()) - before;
    return { seconds, serverCpuSeconds };
  } finally {
    await worker?.close();
    await queue.close();
    await server.stop();
  }
}

function best<T>(results: T[], key: (result: T) => number, highest: boolean): T {
  return results.reduce((a, b) => (highest ? key(b) > key(a) : key(b) < key(a)) ? b : a);
}

async function main(): Promise<void> {
  const options = parseOptions(Deno.args);
  const sides: Side[] = ["ours", "redis"];
  if (options.only !== "bullmq") {
    const results: Record<Side, EvalShaResult[]> = { ours: [], redis: [] };
    const plain: Record<Side, EvalShaResult[]> = { ours: [], redis: [] };
    for (let round = 0; round < options.rounds; round++) {
      for (const side of sides) {
        results[side].push(await evalShaRound(side, options.requests));
        plain[side].push(await evalShaRound(side, options.requests, true));
      }
    }
    const ours = best(results.ours, (r) => r.rps, true);
    const redis = best(results.redis, (r) => r.rps, true);
    const oursCpu = Math.min(...results.ours.map((r) => r.cpuMicrosecondsPerCall));
    const redisCpu = Math.min(...results.redis.map((r) => r.cpuMicrosecondsPerCall));
    console.log(
      `EVALSHA INCR, 50 clients: ours ${Math.round(ours.rps)} rps, redis ${
        Math.round(redis.rps)
      } rps, ratio ${(ours.rps / redis.rps).toFixed(2)} (target >= 0.9)`,
    );
    console.log(
      `  CPU per call: ours ${oursCpu.toFixed(2)} us, redis ${redisCpu.toFixed(2)} us, ratio ${
        (oursCpu / redisCpu).toFixed(2)
      }x (target <= 1.3x)`,
    );
    const oursIncr = Math.min(...plain.ours.map((r) => r.cpuMicrosecondsPerCall));
    const redisIncr = Math.min(...plain.redis.map((r) => r.cpuMicrosecondsPerCall));
    console.log(
      `  for reference, plain INCR: ours ${oursIncr.toFixed(2)} us, redis ${
        redisIncr.toFixed(2)
      } us per call (${(oursIncr / redisIncr).toFixed(2)}x); the script's own cost: ours ${
        (oursCpu - oursIncr).toFixed(2)
      } us, redis ${(redisCpu - redisIncr).toFixed(2)} us`,
    );
  }
  if (options.only !== "evalsha") {
    const results: Record<Side, BullResult[]> = { ours: [], redis: [] };
    for (let round = 0; round < options.rounds; round++) {
      for (const side of sides) results[side].push(await bullRound(side, options.jobs));
    }
    const ours = best(results.ours, (r) => r.seconds, false);
    const redis = best(results.redis, (r) => r.seconds, false);
    console.log(
      `BullMQ ${options.jobs} jobs, one worker (concurrency 10): ours ${
        ours.seconds.toFixed(2)
      } s, redis ${redis.seconds.toFixed(2)} s, ratio ${
        (ours.seconds / redis.seconds).toFixed(2)
      }x (target <= 1.2x)`,
    );
    console.log(
      `  server CPU: ours ${ours.serverCpuSeconds.toFixed(2)} s, redis ${
        redis.serverCpuSeconds.toFixed(2)
      } s`,
    );
  }
  Deno.exit(0);
}

await main();
