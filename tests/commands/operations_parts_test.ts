/**
 * The operations parts on their own: figures that must come out exactly as
 * redis-server 7.0.15 prints them (recorded from it, see each test), and
 * the bounds Redis puts on what it keeps.
 */

import assert from "node:assert/strict";
import {
  errorCode,
  LatencyHistogram,
  LatencyMonitor,
  redactedArguments,
  representArgument,
  SlowLog,
} from "../../src/commands/operations/mod.ts";
import { percentileName } from "../../src/server/info.ts";
import { allocationSize, memoryUsage, sdsSize } from "../../src/commands/memory_usage.ts";
import { Deque } from "../../src/store/deque.ts";
import { Hash } from "../../src/store/hash.ts";
import { MemberSet } from "../../src/store/set.ts";
import { SortedSet } from "../../src/store/sorted_set.ts";
import { command } from "../../src/commands/table.ts";

Deno.test("latency histogram reports Redis's bucket boundaries for percentiles", () => {
  // redis-server: one SET of 7 µs prints p50=7.007; INFO of 68 and 149 µs prints 68.095 / 149.503.
  const set = new LatencyHistogram();
  set.recordMicroseconds(7);
  assert.equal((set.valueAtPercentile(50) / 1000).toFixed(3), "7.007");
  const info = new LatencyHistogram();
  info.recordMicroseconds(68);
  info.recordMicroseconds(149);
  assert.equal((info.valueAtPercentile(50) / 1000).toFixed(3), "68.095");
  assert.equal((info.valueAtPercentile(99) / 1000).toFixed(3), "149.503");
  assert.equal((info.valueAtPercentile(99.9) / 1000).toFixed(3), "149.503");
});

Deno.test("latency histogram cumulative distribution matches LATENCY HISTOGRAM's levels", () => {
  // redis-server: DEBUG SLEEP of 3129 µs and 20185 µs gives {4227: 1, 33816: 2}; SET of 7 µs {8: 1}.
  const debug = new LatencyHistogram();
  debug.recordMicroseconds(3129);
  debug.recordMicroseconds(20185);
  assert.deepEqual(debug.cumulativeDistribution(), [[4227, 1], [33816, 2]]);
  const set = new LatencyHistogram();
  set.recordMicroseconds(7);
  assert.deepEqual(set.cumulativeDistribution(), [[8, 1]]);
  const zero = new LatencyHistogram();
  zero.recordMicroseconds(0);
  zero.recordMicroseconds(1);
  assert.deepEqual(zero.cumulativeDistribution(), [[1, 2]]);
  assert.equal(zero.totalCount, 2);
});

Deno.test("INFO latencystats names percentiles as Redis trims them", () => {
  assert.equal(percentileName(50), "50");
  assert.equal(percentileName(99.9), "99.9");
  assert.equal(percentileName(99.99), "99.99");
});

Deno.test("errorstats files errors under the code before the first space", () => {
  assert.equal(errorCode("ERR syntax error"), "ERR");
  assert.equal(errorCode("WRONGTYPE Operation against a key"), "WRONGTYPE");
  assert.equal(errorCode("ERR"), "ERR");
  assert.equal(errorCode(`${"X".repeat(40)} long code`), "ERR");
});

Deno.test("slow log entries keep 32 arguments and 128 bytes of each, as Redis", () => {
  const log = new SlowLog();
  const args = ["rpush", "l", ...Array.from({ length: 40 }, (_, i) => String(i))];
  log.push(args, 9, "127.0.0.1:1", "", 128);
  log.push(["set", "k", "x".repeat(200)], 6, "127.0.0.1:1", "name", 128);
  const [newest, oldest] = log.newest(-1);
  assert.deepEqual(newest!.args, ["set", "k", `${"x".repeat(128)}... (72 more bytes)`]);
  assert.equal(oldest!.args.length, 32);
  assert.equal(oldest!.args[31], "... (11 more arguments)");
  assert.equal(newest!.id, 1);
  assert.equal(newest!.clientName, "name");
});

Deno.test("slow log keeps slowlog-max-len entries and RESET does not restart ids", () => {
  const log = new SlowLog();
  for (let i = 0; i < 5; i++) log.push(["ping"], 1, "", "", 3);
  assert.equal(log.length, 3);
  assert.deepEqual(log.newest(10).map((entry) => entry.id), [4, 3, 2]);
  log.reset();
  assert.equal(log.length, 0);
  log.push(["ping"], 1, "", "", 3);
  assert.equal(log.newest(1)[0]!.id, 5);
});

Deno.test("MONITOR quotes arguments as Redis's sdscatrepr", () => {
  assert.equal(
    representArgument('a b"\\\n\r\t\x07\x08\x01\xff'),
    '"a b\\"\\\\\\n\\r\\t\\a\\b\\x01\\xff"',
  );
});

Deno.test("passwords are redacted for MONITOR and SLOWLOG", () => {
  const auth = command({ name: "auth", arity: -2, flags: [] });
  const hello = command({ name: "hello", arity: -1, flags: [] });
  assert.deepEqual(redactedArguments(auth, ["auth", "user", "pass"]), [
    "auth",
    "(redacted)",
    "(redacted)",
  ]);
  assert.deepEqual(redactedArguments(hello, ["hello", "3", "auth", "u", "p", "setname", "n"]), [
    "hello",
    "3",
    "auth",
    "(redacted)",
    "(redacted)",
    "setname",
    "n",
  ]);
});

Deno.test("latency monitor keeps one sample per second and the all-time maximum", () => {
  const monitor = new LatencyMonitor();
  monitor.addSampleIfNeeded("command", 5, 0);
  assert.deepEqual(monitor.latest(), []);
  monitor.addSampleIfNeeded("command", 5, 1);
  monitor.addSampleIfNeeded("command", 12, 1);
  monitor.addSampleIfNeeded("command", 0, 1);
  const [latest] = monitor.latest();
  assert.equal(latest!.milliseconds, 12);
  assert.equal(latest!.max, 12);
  assert.equal(monitor.history("command").length, 1);
  // redis-server's graph for one 12 ms sample just now (the label is the age).
  assert.equal(
    monitor.graph("command"),
    "command - high 12 ms, low 12 ms (all time high 12 ms)\n" + "-".repeat(80) + "\n" +
      " \n \n \n_\n \n0\ns\n",
  );
  assert.equal(monitor.reset(["command", "other"]), 1);
  assert.equal(monitor.graph("command"), undefined);
});

Deno.test("MEMORY USAGE estimates match redis-server 7.0.15's figures", () => {
  // Recorded with MEMORY USAGE (SAMPLES 0 for collections) on redis-server 7.0.15.
  assert.equal(allocationSize(129), 160);
  assert.equal(sdsSize(2), 8);
  assert.equal(memoryUsage("s0", ""), 64);
  assert.equal(memoryUsage("s20", "x".repeat(20)), 80);
  assert.equal(memoryUsage("s45", "x".repeat(45)), 112);
  assert.equal(memoryUsage("s1000", "x".repeat(1000)), 1072);
  assert.equal(memoryUsage("s10000", "x".repeat(10000)), 10288);
  assert.equal(memoryUsage("i0", "0"), 48);
  assert.equal(memoryUsage("i123456789", "123456789"), 56);
  const within = (ours: number, redis: number) =>
    assert.ok(ours <= redis * 2 && ours >= redis / 2, `${ours} vs redis ${redis}`);
  const hash = new Hash();
  for (let i = 0; i < 10; i++) hash.store(`field${i}`, `value${i}`);
  within(memoryUsage("h10", hash, 0), 240);
  const big = new Hash();
  for (let i = 0; i < 10000; i++) big.store(`field${i}`, `value${i}`);
  within(memoryUsage("h10000", big, 0), 756552);
  const list = new Deque<string>(Array.from({ length: 1000 }, (_, i) => `element${i}`));
  within(memoryUsage("l1000", list, 0), 12456);
  const ints = new MemberSet(Array.from({ length: 512 }, (_, i) => String(i)));
  assert.equal(memoryUsage("si512", ints, 0), 1328);
  const members = new MemberSet(Array.from({ length: 1000 }, (_, i) => `member${i}`));
  within(memoryUsage("ss1000", members, 0), 48296);
  const small = new SortedSet();
  for (let i = 0; i < 10; i++) small.add(`member${i}`, i * 1.5);
  within(memoryUsage("z10", small, 0), 208);
  const zset = new SortedSet();
  for (let i = 0; i < 1000; i++) zset.add(`member${i}`, i * 1.5);
  within(memoryUsage("z1000", zset, 0), 102360);
});
