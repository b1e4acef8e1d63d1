/**
 * Replication against redis-server 7.0, in one run: a master and one
 * replica of the same kind (ours with ours, Redis with Redis), side by
 * side, on loopback.
 *
 * Rows:
 * - SET throughput of the master with a replica attached (redis-benchmark,
 *   50 clients, random keys), ours / Redis, target >= 0.85;
 * - replication lag under that load: every 100 ms a probe key is written
 *   on the master and the time until the replica shows it is taken; the
 *   row reports the worst, target < 1 s (and the replica has every key at
 *   the end);
 * - full synchronisation of 1,000,000 keys: from REPLICAOF until the
 *   replica's link is up with all keys loaded, ours / Redis, target <= 2x.
 *
 * Rounds alternate ours and Redis and the medians are compared, as
 * bench/bench.ts does, because the two shared cores make single runs
 * noisy. Diskless sync (the default) without delay on both sides.
 *
 * ```sh
 * deno run -A bench/replication_bench.ts            # 3 rounds, 1M keys
 * deno run -A bench/replication_bench.ts --quick    # 1 round, 200k keys
 * deno run -A bench/replication_bench.ts --rounds 5 --requests 500000
 * ```
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { freePort, RawClient } from "../tests/helpers/servers.ts";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const DECODER = new TextDecoder();

function option(name: string, fallback: number): number {
  const index = Deno.args.indexOf(`--${name}`);
  return index < 0 ? fallback : Number(Deno.args[index + 1]);
}

const QUICK = Deno.args.includes("--quick");
const ROUNDS = option("rounds", QUICK ? 1 : 3);
const REQUESTS = option("requests", QUICK ? 100_000 : 300_000);
const KEYS = option("keys", QUICK ? 200_000 : 1_000_000);

type Kind = "ours" | "redis";

interface Process {
  port: number;
  child: Deno.ChildProcess;
  dir: string;
}

async function waitForPing(port: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const client = await RawClient.connect(port);
      await client.command("PING");
      await client.close();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function start(kind: Kind, args: string[]): Promise<Process> {
  const port = await freePort();
  const dir = await Deno.makeTempDir({ prefix: "repl-bench-" });
  const common = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    "no",
    "--repl-diskless-sync-delay",
    "0",
    "--enable-debug-command",
    "yes",
    ...args,
  ];
  const [program, programArgs] = kind === "redis"
    ? ["redis-server", common]
    : [Deno.execPath(), ["run", "-A", MAIN, ...common]];
  const child = new Deno.Command(program, {
    args: programArgs,
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitForPing(port);
  return { port, child, dir };
}

async function stop(process: Process): Promise<void> {
  try {
    process.child.kill("SIGKILL");
  } catch {
    // Gone already.
  }
  await process.child.status;
  await Deno.remove(process.dir, { recursive: true }).catch(() => {});
}

async function command(client: RawClient, ...args: string[]): Promise<string> {
  return DECODER.decode(await client.command(...args));
}

async function infoField(client: RawClient, field: string): Promise<string> {
  const text = await command(client, "INFO", "replication");
  return new RegExp(`${field}:([^\\r]*)`).exec(text)?.[1] ?? "";
}

async function pair(kind: Kind): Promise<[Process, Process, RawClient, RawClient]> {
  const master = await start(kind, []);
  const replica = await start(kind, []);
  const m = await RawClient.connect(master.port);
  const r = await RawClient.connect(replica.port);
  m.replyTimeoutMs = r.replyTimeoutMs = 120_000;
  return [master, replica, m, r];
}

async function waitForLinkUp(replica: RawClient): Promise<void> {
  while ((await infoField(replica, "master_link_status")) !== "up") await sleep(20);
}

/** A master and its replica of one kind, kept for every throughput round. */
interface Pair {
  kind: Kind;
  master: Process;
  replica: Process;
  m: RawClient;
  r: RawClient;
}

async function startPair(kind: Kind): Promise<Pair> {
  const [master, replica, m, r] = await pair(kind);
  await command(r, "REPLICAOF", "127.0.0.1", String(master.port));
  await waitForLinkUp(r);
  // Warm up (our JIT; Redis needs none), untimed.
  await runBenchmark(master.port, Math.min(REQUESTS, 100_000));
  await caughtUp(m, r);
  return { kind, master, replica, m, r };
}

async function stopPair(pair: Pair): Promise<void> {
  await pair.m.close();
  await pair.r.close();
  await stop(pair.replica);
  await stop(pair.master);
}

/** Pauses or resumes both processes of a pair (the side not measured must not take a core). */
function signalPair(pair: Pair, signal: "SIGSTOP" | "SIGCONT"): void {
  pair.master.child.kill(signal);
  pair.replica.child.kill(signal);
}

async function runBenchmark(port: number, requests: number): Promise<number> {
  const output = await new Deno.Command("redis-benchmark", {
    args: [
      "-p",
      String(port),
      "-t",
      "set",
      "-n",
      String(requests),
      "-c",
      "50",
      "-r",
      "100000",
      "--csv",
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  const lines = DECODER.decode(output.stdout).trim().split("\n");
  return Number(lines[lines.length - 1]!.split(",")[1]!.replaceAll('"', ""));
}

/** Waits until the replica has applied the master's whole stream; returns how long that took. */
async function caughtUp(m: RawClient, r: RawClient): Promise<number> {
  const started = performance.now();
  const target = Number(await infoField(m, "master_repl_offset"));
  while (Number(await infoField(r, "master_repl_offset")) < target) await sleep(5);
  return performance.now() - started;
}

/** SET throughput with a replica attached, and the worst probe lag meanwhile. */
async function throughputRound(
  pair: Pair,
): Promise<{ rps: number; lagMs: number; catchUpMs: number; same: boolean }> {
  const { master, replica, m, r } = pair;
  let running = true;
  let worstLag = 0;
  const probeMaster = await RawClient.connect(master.port);
  const probeReplica = await RawClient.connect(replica.port);
  const probing = (async () => {
    for (let i = 0; running; i++) {
      const started = performance.now();
      await command(probeMaster, "SET", `probe:${i}`, "1");
      while ((await command(probeReplica, "EXISTS", `probe:${i}`)) !== ":1\r\n") {
        if (performance.now() - started > 10_000) break;
        await sleep(1);
      }
      worstLag = Math.max(worstLag, performance.now() - started);
      await sleep(100);
    }
  })();
  const rps = await runBenchmark(master.port, REQUESTS);
  running = false;
  await probing;
  await probeMaster.close();
  await probeReplica.close();
  const catchUpMs = await caughtUp(m, r);
  const same = (await command(m, "DBSIZE")) === (await command(r, "DBSIZE"));
  return { rps, lagMs: worstLag, catchUpMs, same };
}

/** Seconds from REPLICAOF to a replica with every key loaded and its link up. */
async function fullSyncRound(kind: Kind): Promise<number> {
  const [master, replica, m, r] = await pair(kind);
  try {
    await command(m, "DEBUG", "POPULATE", String(KEYS), "key", "16");
    const started = performance.now();
    await command(r, "REPLICAOF", "127.0.0.1", String(master.port));
    await waitForLinkUp(r);
    const seconds = (performance.now() - started) / 1000;
    const keys = await command(r, "DBSIZE");
    if (keys !== `:${KEYS}\r\n`) throw new Error(`${kind}: the replica has ${keys.trim()} keys`);
    return seconds;
  } finally {
    await m.close();
    await r.close();
    await stop(replica);
    await stop(master);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const throughput: Record<
    Kind,
    { rps: number[]; lag: number[]; catchUp: number[]; same: boolean }
  > = {
    ours: { rps: [], lag: [], catchUp: [], same: true },
    redis: { rps: [], lag: [], catchUp: [], same: true },
  };
  const pairs: Record<Kind, Pair> = {
    ours: await startPair("ours"),
    redis: await startPair("redis"),
  };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const order: Kind[] = round % 2 === 0 ? ["ours", "redis"] : ["redis", "ours"];
      for (const kind of order) {
        const other = pairs[kind === "ours" ? "redis" : "ours"];
        signalPair(other, "SIGSTOP");
        try {
          const result = await throughputRound(pairs[kind]);
          throughput[kind].rps.push(result.rps);
          throughput[kind].lag.push(result.lagMs);
          throughput[kind].catchUp.push(result.catchUpMs);
          throughput[kind].same &&= result.same;
        } finally {
          signalPair(other, "SIGCONT");
        }
      }
    }
  } finally {
    await stopPair(pairs.ours);
    await stopPair(pairs.redis);
  }
  const sync: Record<Kind, number[]> = { ours: [], redis: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order: Kind[] = round % 2 === 0 ? ["ours", "redis"] : ["redis", "ours"];
    for (const kind of order) sync[kind].push(await fullSyncRound(kind));
  }
  const ours = median(throughput.ours.rps);
  const redis = median(throughput.redis.rps);
  const oursLag = Math.max(...throughput.ours.lag);
  const redisLag = Math.max(...throughput.redis.lag);
  const oursSync = median(sync.ours);
  const redisSync = median(sync.redis);
  const rows = [
    [
      "SET with one replica attached",
      `${Math.round(ours)} rps`,
      `${Math.round(redis)} rps`,
      (ours / redis).toFixed(2),
      ">= 0.85",
      ours / redis >= 0.85,
    ],
    [
      "replication lag under that load (worst probe)",
      `${oursLag.toFixed(0)} ms`,
      `${redisLag.toFixed(0)} ms`,
      "",
      "< 1000 ms, replica complete",
      oursLag < 1000 && throughput.ours.same,
    ],
    [
      `full sync of ${KEYS.toLocaleString("en-US")} keys`,
      `${oursSync.toFixed(2)} s`,
      `${redisSync.toFixed(2)} s`,
      `${(oursSync / redisSync).toFixed(2)}x`,
      "<= 2x",
      oursSync / redisSync <= 2,
    ],
  ];
  console.log(`replication, ${ROUNDS} round(s), medians (${REQUESTS} SETs per run)`);
  console.log("| workload | ours | redis | ratio | target | met |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const row of rows) {
    console.log(`| ${row.slice(0, 5).join(" | ")} | ${row[5] ? "yes" : "NO"} |`);
  }
  console.log(
    `catch-up after the load: ours ${
      throughput.ours.catchUp.map((ms) => ms.toFixed(0)).join(", ")
    } ms, redis ${throughput.redis.catchUp.map((ms) => ms.toFixed(0)).join(", ")} ms`,
  );
  console.log(
    `runs: ours ${throughput.ours.rps.map(Math.round).join(", ")} rps; redis ${
      throughput.redis.rps.map(Math.round).join(", ")
    } rps; sync ours ${sync.ours.map((s) => s.toFixed(2)).join(", ")} s, redis ${
      sync.redis.map((s) => s.toFixed(2)).join(", ")
    } s`,
  );
}

if (import.meta.main) await main();
