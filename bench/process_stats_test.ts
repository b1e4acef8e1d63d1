/**
 * Tests of the /proc readings the benchmark's CPU and memory figures come
 * from: parsing a stat line, and sampling a real process tree.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parseStatLine, processTreePids, sampleProcessTree } from "./process_stats.ts";

const onLinux = Deno.build.os === "linux";
if (!onLinux) console.warn("process_stats tests need Linux's /proc: skipped");

Deno.test("a stat line is read from the fields after the command name's last parenthesis", () => {
  // Fields 14 and 15 (utime 7, stime 3) and 24 (rss 250) of a command named "a) b".
  const fields = ["S", "1", "42", "42", "0", "-1", "0", "0", "0", "0", "0", "7", "3"];
  fields.push("0", "0", "20", "0", "9", "0", "1", "1", "250");
  const stat = parseStatLine(`42 (a) b) ${fields.join(" ")}`);
  assert.deepEqual(stat, { pid: 42, cpuTicks: 10, residentPages: 250 });
});

Deno.test("an unreadable stat line is an error, not zero CPU", () => {
  assert.throws(() => parseStatLine("garbage"), /Unreadable/);
});

Deno.test({
  name: "a busy child's CPU seconds grow and the tree includes its own child",
  ignore: !onLinux,
  async fn() {
    const child = new Deno.Command("sh", {
      args: ["-c", "sleep 5 & while :; do :; done"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const first = await sampleProcessTree(child.pid);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const second = await sampleProcessTree(child.pid);
      assert.ok(
        second.cpuSeconds > first.cpuSeconds,
        `${first.cpuSeconds} -> ${second.cpuSeconds}`,
      );
      assert.ok(first.residentBytes > 0);
      const pids = await processTreePids(child.pid);
      assert.equal(pids[0], child.pid);
      assert.ok(pids.length >= 2, `tree ${pids.join(",")} lacks the sleep`);
    } finally {
      for (const pid of await processTreePids(child.pid).catch(() => [child.pid])) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch {
          // Gone.
        }
      }
      await child.status;
    }
  },
});

Deno.test({
  name: "sampling a process that is gone is an error",
  ignore: !onLinux,
  async fn() {
    const child = new Deno.Command("true").spawn();
    await child.status;
    await assert.rejects(() => sampleProcessTree(child.pid), /not running/);
  },
});
