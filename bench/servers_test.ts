/**
 * Tests of how the benchmark starts, pauses and names its servers, against
 * a real `redis-server` (skipped when it is not installed).
 *
 * @module
 */

import assert from "node:assert/strict";
import { RespConnection, withTimeout } from "./resp.ts";
import { ServerProcess, splitCommandLine } from "./servers.ts";
import { sampleProcessTree } from "./process_stats.ts";
import { parseBenchmarkCsv } from "./redis_benchmark.ts";

const redisInstalled = await new Deno.Command("redis-server", { args: ["--version"] }).output()
  .then((output) => output.success, () => false);
if (!redisInstalled) console.warn("redis-server is not installed: the server tests are skipped");

Deno.test("a command line splits on blanks and honours quotes and backslashes", () => {
  assert.deepEqual(splitCommandLine(`deno run -A "/tmp/my dir/main.ts" --x 'a b' c\\ d`), [
    "deno",
    "run",
    "-A",
    "/tmp/my dir/main.ts",
    "--x",
    "a b",
    "c d",
  ]);
  assert.throws(() => splitCommandLine(`deno "run`), /Unterminated/);
});

Deno.test("redis-benchmark's CSV gives requests per second and the p99 column", () => {
  const csv = [
    '"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",' +
    '"p99_latency_ms","max_latency_ms"',
    '"SET","90000.00","0.300","0.100","0.300","0.500","0.650","1.200"',
  ].join("\n");
  assert.deepEqual(parseBenchmarkCsv(csv), { rps: 90000, p99Ms: 0.65 });
  assert.equal(parseBenchmarkCsv("Error from server: ERR unknown command"), undefined);
});

Deno.test({
  name: "a paused server neither answers nor spends CPU until it is resumed",
  ignore: !redisInstalled,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "bench-servers-test-" });
    const server = await ServerProcess.start(
      "redis",
      { ours: [], oursExtra: [], redis: ["redis-server"] },
      { dir, flags: ["--appendonly", "no"] },
    );
    const connection = await RespConnection.open(server.port);
    try {
      await server.pause();
      const before = await sampleProcessTree(server.pid);
      const reply = connection.command(["PING"]);
      const answered = await withTimeout(reply, 300, "PING").then(() => true, () => false);
      assert.equal(answered, false, "a stopped server answered PING");
      const after = await sampleProcessTree(server.pid);
      assert.equal(after.cpuSeconds, before.cpuSeconds);
      await server.resume();
      const fresh = await RespConnection.open(server.port);
      try {
        assert.equal(await fresh.command(["PING"]), "PONG");
      } finally {
        fresh.close();
      }
    } finally {
      connection.close();
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
    assert.equal(server.running, false);
  },
});
