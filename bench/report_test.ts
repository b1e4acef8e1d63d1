/**
 * Tests of the benchmark table's arithmetic: medians, ratios of medians and
 * verdicts, which decide whether a row says "met".
 *
 * @module
 */

import assert from "node:assert/strict";
import { formatValue, higher, lower, median, Row } from "./report.ts";

/** Rows log every recorded outcome on stderr; the tests keep that quiet. */
function quietly(run: () => void): void {
  const original = console.error;
  console.error = () => {};
  try {
    run();
  } finally {
    console.error = original;
  }
}

Deno.test("median of an odd count is the middle value, of an even count the mean of the two", () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([]), undefined);
});

Deno.test("a row's ratio is the ratio of the medians, not of the best rounds", () => {
  const row = new Row({ name: "SET", unit: "rps", target: higher(0.95) });
  quietly(() => {
    for (const value of [100, 80, 90]) row.record("ours", { ok: true, value });
    for (const value of [200, 100, 95]) row.record("redis", { ok: true, value });
  });
  assert.equal(row.value("ours"), 90);
  assert.equal(row.value("redis"), 100);
  assert.equal(row.ratio(), 0.9);
  assert.equal(row.verdict(), "not met");
});

Deno.test("CPU per request is CPU seconds over requests, and its target can fail a row", () => {
  const row = new Row({ name: "GET", unit: "rps", target: higher(0.95), cpuTarget: 1.2 });
  quietly(() => {
    row.record("ours", { ok: true, value: 100, cpuSeconds: 1.5, operations: 100_000 });
    row.record("redis", { ok: true, value: 100, cpuSeconds: 1.0, operations: 100_000 });
  });
  assert.equal(row.cpu("ours"), 15e-6);
  assert.ok(Math.abs(row.cpuRatio()! - 1.5) < 1e-9);
  assert.equal(row.verdict(), "not met");
});

Deno.test("a target on our own figure ignores Redis's", () => {
  const row = new Row({
    name: "memory per idle connection",
    unit: "bytes",
    target: lower(16 * 1024, "ours"),
  });
  quietly(() => {
    row.record("ours", { ok: true, value: 9000 });
    row.record("redis", { ok: true, value: 1000 });
  });
  assert.equal(row.verdict(), "met");
});

Deno.test("an unknown command makes the row not implemented yet and settles that side", () => {
  const row = new Row({ name: "XADD", unit: "rps", target: higher(0.95) });
  quietly(() =>
    row.record("ours", { ok: false, reason: "ERR unknown command", notImplemented: true })
  );
  assert.equal(row.settled("ours"), true);
  assert.equal(row.settled("redis"), false);
  assert.equal(row.verdict(), "not implemented yet");
});

Deno.test("a failed round of ours fails the row even when other rounds met the target", () => {
  const row = new Row({ name: "SET", unit: "rps", target: higher(0.5) });
  quietly(() => {
    row.record("ours", { ok: true, value: 100 });
    row.record("ours", { ok: false, reason: "timed out" });
    row.record("redis", { ok: true, value: 100 });
  });
  assert.equal(row.verdict(), "failed");
});

Deno.test("a ratio of negative figures is not shown", () => {
  const row = new Row({ name: "RSS growth after idle", unit: "bytes" });
  quietly(() => {
    row.record("ours", { ok: true, value: -3_000_000 });
    row.record("redis", { ok: true, value: 120_000 });
  });
  assert.equal(row.ratio(), undefined);
  assert.equal(row.verdict(), "info");
});

Deno.test("figures are formatted with their unit", () => {
  assert.equal(formatValue("rps", 1234567.8), "1,234,568 rps");
  assert.equal(formatValue("bytes", 9.5 * 1024), "9.5 KiB");
  assert.equal(formatValue("bytes", 3 * 1024 * 1024), "3.0 MiB");
  assert.equal(formatValue("percent", 17.25), "+17.3%");
  assert.equal(formatValue("hit ratio", 0.659), "65.9% hits");
});
