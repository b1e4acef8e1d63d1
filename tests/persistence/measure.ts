/**
 * Persistence measurements (not a test: run it by hand, it takes a minute
 * or two and wants a quiet machine):
 *
 * ```sh
 * deno run -A tests/persistence/measure.ts
 * ```
 *
 * 1. SET round trip under `appendfsync always` vs `everysec` (p50/p99, with
 *    redis-benchmark, 1 and 50 clients): the cost of waiting for fdatasync,
 *    and how group commit spreads it over many clients.
 * 2. BGREWRITEAOF of 1M keys while a client PINGs and another writes: the
 *    longest event-loop stall seen by the pinger, and the rewrite's time.
 * 3. Replay of a 1M-command AOF: MB/s and commands/s, next to redis-server
 *    loading the same file.
 *
 * @module
 */

import { join } from "node:path";
import { RawClient, startOurServer, startRedisServer } from "../helpers/servers.ts";
import { infoField, programPath, send, tempDir } from "./helpers.ts";

const encoder = new TextEncoder();

async function benchmark(port: number, clients: number): Promise<string> {
  const program = programPath("redis-benchmark");
  if (program === undefined) return "redis-benchmark not installed";
  const result = await new Deno.Command(program, {
    args: [
      "-p",
      String(port),
      "-t",
      "set",
      "-n",
      String(clients === 1 ? 5000 : 50000),
      "-c",
      String(clients),
      "--csv",
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  const lines = new TextDecoder().decode(result.stdout).trim().split("\n");
  const values = lines.at(-1)!.split(",").map((value) => value.replaceAll('"', ""));
  // "SET",rps,avg,min,p50,p95,p99,max
  return `${values[1]} req/s, p50 ${values[4]} ms, p99 ${values[6]} ms, max ${values[7]} ms`;
}

async function fsyncLatency(): Promise<void> {
  console.log("## SET round trip by fsync policy (redis-benchmark -t set)");
  for (const policy of ["always", "everysec", "no"]) {
    const dir = await tempDir();
    const server = await startOurServer({
      dir,
      args: ["--appendonly", "yes", "--appendfsync", policy],
    });
    try {
      for (const clients of [1, 50]) {
        console.log(
          `${policy.padEnd(8)} ${String(clients).padStart(2)} clients: ${await benchmark(
            server.port,
            clients,
          )}`,
        );
      }
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  }
}

async function populate(port: number, keys: number): Promise<void> {
  const client = await RawClient.connect(port);
  try {
    const batch = 10_000;
    for (let start = 0; start < keys; start += batch) {
      let text = "";
      for (let i = start; i < start + batch; i++) {
        text += `*3\r\n$3\r\nSET\r\n$${String(i).length + 4}\r\nkey:${i}\r\n$10\r\nvalue12345\r\n`;
      }
      await client.send(encoder.encode(text));
      for (let i = 0; i < batch; i++) await client.readReply();
    }
  } finally {
    await client.close();
  }
}

async function rewritePause(): Promise<void> {
  console.log("\n## BGREWRITEAOF of 1M keys under a PING loop and a writer");
  const dir = await tempDir();
  const server = await startOurServer({
    dir,
    args: ["--appendonly", "yes", "--auto-aof-rewrite-percentage", "0"],
  });
  try {
    await populate(server.port, 1_000_000);
    const pinger = await RawClient.connect(server.port);
    const writer = await RawClient.connect(server.port);
    const control = await RawClient.connect(server.port);
    let running = true;
    const latencies: number[] = [];
    const ping = (async () => {
      while (running) {
        const started = performance.now();
        await pinger.command("PING");
        latencies.push(performance.now() - started);
      }
    })();
    let writes = 0;
    const write = (async () => {
      while (running) {
        await writer.command("INCR", `key:${Math.floor(Math.random() * 1_000_000)}:counter`);
        writes++;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 500));
    latencies.length = 0;
    writes = 0;
    const started = performance.now();
    await send(control, "BGREWRITEAOF");
    while ((await infoField(control, "aof_rewrite_in_progress")) !== "0") {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const seconds = (performance.now() - started) / 1000;
    running = false;
    await Promise.all([ping, write]);
    latencies.sort((a, b) => a - b);
    const at = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(2);
    console.log(`rewrite took ${seconds.toFixed(2)} s; ${writes} writes ran meanwhile`);
    console.log(
      `PING during the rewrite (${latencies.length} samples): p50 ${at(0.5)} ms, p99 ${
        at(0.99)
      } ms, max ${at(1)} ms`,
    );
    console.log(`server log: ${/Background AOF rewrite finished.*/.exec(server.stderr())?.[0]}`);
    console.log(`file: ${(await Deno.stat(join(dir, "database.aof"))).size} bytes`);
    await Promise.all([pinger.close(), writer.close(), control.close()]);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

async function replaySpeed(): Promise<void> {
  console.log("\n## Replay of a 1M-command AOF (SET key:N value)");
  const dir = await tempDir();
  try {
    const path = join(dir, "database.aof");
    const file = await Deno.open(path, { write: true, create: true });
    for (let start = 0; start < 1_000_000; start += 10_000) {
      let text = "";
      for (let i = start; i < start + 10_000; i++) {
        const key = `key:${i}`;
        text += `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$16\r\nvalue-${
          String(i).padStart(10, "0")
        }\r\n`;
      }
      await file.write(encoder.encode(text));
    }
    file.close();
    const server = await startOurServer({ dir, args: ["--appendonly", "yes"] });
    console.log(`ours: ${/DB loaded from append only file.*/.exec(server.stderr())?.[0]}`);
    await server.stop();
    const redisDir = await tempDir();
    await Deno.copyFile(path, join(redisDir, "appendonly.aof"));
    const started = performance.now();
    const redis = await startRedisServer(["--dir", redisDir, "--appendonly", "yes"]);
    if (redis) {
      console.log(
        `redis-server 7.0: started and loaded in ${
          ((performance.now() - started) / 1000).toFixed(3)
        } s (including process start)`,
      );
      await redis.stop();
    }
    await Deno.remove(redisDir, { recursive: true });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  await fsyncLatency();
  await rewritePause();
  await replaySpeed();
}
