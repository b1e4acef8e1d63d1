/**
 * Benchmarks of the Lua engine beside the reference `lua5.1` (with
 * lua-cjson for the JSON case, when installed): an arithmetic loop, string
 * building, `table.sort`, `string.gsub` over 1 MB, cjson on a 100 KB
 * document, and compiling a 200-line script.
 *
 * Each benchmark is one Lua program that times its own work with `clock()`
 * (os.clock under lua5.1, performance.now here) and is run for several
 * rounds; the table shows the median (and our first, cold, round). Run:
 * `deno run -A bench/lua_bench.ts [--rounds N] [--only name]`.
 *
 * @module
 */

import { callFunction, compile, compileChunk, createGlobals } from "../src/lua/mod.ts";

interface Benchmark {
  name: string;
  /** Setup code (not timed), then the timed body; `result` is printed for a sanity check. */
  setup: string;
  body: string;
  needsCjson?: boolean;
}

const BENCHMARKS: Benchmark[] = [
  {
    name: "arithmetic loop (10M iterations)",
    setup: "",
    body: "local s = 0 for i = 1, 10000000 do s = s + i % 7 * 2 end result = s",
  },
  {
    name: "string building with .. (20k appends)",
    setup: "",
    body: "local s = '' for i = 1, 20000 do s = s .. i .. ',' end result = #s",
  },
  {
    name: "table.concat of 1M pieces",
    setup: "",
    body:
      "local t = {} for i = 1, 1000000 do t[#t + 1] = 'item' end result = #table.concat(t, ',')",
  },
  {
    name: "table.sort of 100k numbers",
    setup:
      "local seed = 12345 nums = {} for i = 1, 100000 do seed = (seed * 1103515245 + 12345) % 2147483648 nums[i] = seed end",
    body:
      "local t = {} for i = 1, #nums do t[i] = nums[i] end table.sort(t) result = t[1] + t[100000]",
  },
  {
    name: "table.sort of 100k numbers with a comparator",
    setup:
      "local seed = 12345 nums = {} for i = 1, 100000 do seed = (seed * 1103515245 + 12345) % 2147483648 nums[i] = seed end",
    body:
      "local t = {} for i = 1, #nums do t[i] = nums[i] end table.sort(t, function(a, b) return a > b end) result = t[1] + t[100000]",
  },
  {
    name: "string.gsub over 1 MB (literal)",
    setup: "text = string.rep('hello world foo bar ', 52429)",
    body: "local r, n = string.gsub(text, 'o', '0') result = n",
  },
  {
    name: "string.gsub over 1 MB (%w+ with captures)",
    setup: "text = string.rep('hello world foo bar ', 52429)",
    body: "local r, n = string.gsub(text, '(%w+)', '<%1>') result = #r + n",
  },
  {
    name: "cjson encode+decode of a 100 KB document (x10)",
    setup: `doc = {}
      for i = 1, 1000 do doc[i] = {id = i, name = "item" .. i, tags = {"alpha", "beta"}, score = i * 1.5, active = i % 2 == 0} end
      encoded = cjson.encode(doc)`,
    body:
      "local total = 0 for r = 1, 10 do local s = cjson.encode(doc) local back = cjson.decode(s) total = total + #s + #back end result = total",
    needsCjson: true,
  },
  {
    name: "function calls (fib 27)",
    setup: "function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end",
    body: "result = fib(27)",
  },
];

function program(benchmark: Benchmark, rounds: number): string {
  return `${benchmark.setup}
for round = 1, ${rounds} do
  local t0 = clock()
  ${benchmark.body}
  print(string.format("%.6f", clock() - t0), result)
end`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function lua51(source: string, cjson: boolean): Promise<string[] | null> {
  const prefix = `clock = os.clock ${cjson ? 'cjson = require("cjson")' : ""}\n`;
  try {
    const output = await new Deno.Command("lua5.1", {
      args: ["-e", prefix + source],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    if (!output.success) return null;
    return new TextDecoder().decode(output.stdout).trim().split("\n");
  } catch {
    return null;
  }
}

function ours(source: string): string[] {
  const lines: string[] = [];
  const { globals } = createGlobals({ print: (line) => lines.push(line) });
  globals.set("clock", () => performance.now() / 1000);
  callFunction(compile(source, "=bench", { env: globals }));
  return lines;
}

function times(lines: string[]): { times: number[]; result: string } {
  const parsed = lines.map((line) => line.split("\t"));
  return { times: parsed.map((fields) => Number(fields[0]) * 1000), result: parsed[0]?.[1] ?? "" };
}

/** A 200-line script in the style of Redis queue scripts. */
function twoHundredLines(): string {
  const lines = ["local key, now, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])"];
  for (let index = 0; lines.length < 199; index++) {
    lines.push(`local function step${index}(job, opts)`);
    lines.push(
      `  if opts.delay and opts.delay > 0 then return now + opts.delay * 0x1000 + ${index} end`,
    );
    lines.push(
      `  local parts = {} for i = 1, #job do parts[#parts + 1] = string.format("%s:%d", job[i], i) end`,
    );
    lines.push(`  return table.concat(parts, ","), cjson.encode({id = job.id, n = ${index}})`);
    lines.push("end");
  }
  lines.push("return limit");
  return lines.join("\n");
}

const args = Deno.args;
const rounds = Number(args[args.indexOf("--rounds") + 1] || 5) || 5;
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;

console.log(`Lua engine vs lua5.1, median of ${rounds} rounds (ms; lower is better)\n`);
console.log("| benchmark | lua5.1 | ours (median) | ours (first round) | ratio |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const benchmark of BENCHMARKS) {
  if (only !== undefined && !benchmark.name.includes(only)) continue;
  const source = program(benchmark, rounds);
  const mine = times(ours(source));
  const theirsLines = await lua51(source, benchmark.needsCjson ?? false);
  const theirs = theirsLines === null ? null : times(theirsLines);
  if (theirs !== null && theirs.result !== mine.result) {
    console.log(
      `| ${benchmark.name} | results differ: lua5.1 ${theirs.result}, ours ${mine.result} | | | |`,
    );
    continue;
  }
  const reference = theirs === null ? "n/a" : median(theirs.times).toFixed(1);
  const ratio = theirs === null
    ? ""
    : `${(median(theirs.times) / median(mine.times)).toFixed(1)}x faster`;
  console.log(
    `| ${benchmark.name} | ${reference} | ${median(mine.times).toFixed(1)} | ${
      mine.times[0]!.toFixed(1)
    } | ${ratio} |`,
  );
}

const script = twoHundredLines();
const compileTimes: number[] = [];
for (let round = 0; round < Math.max(rounds, 20); round++) {
  const start = performance.now();
  compileChunk(script + `\n-- ${round}`, "@user_script");
  compileTimes.push(performance.now() - start);
}
const luaCompile = await lua51(
  `local src = ${
    JSON.stringify(script)
  } local t = {} for r = 1, 20 do local t0 = clock() assert(loadstring(src)) t[r] = clock() - t0 end table.sort(t) print(string.format("%.6f", t[10]), 0)`,
  false,
);
console.log(
  `| compile a 200-line script | ${
    luaCompile === null ? "n/a" : (Number(luaCompile[0]!.split("\t")[0]) * 1000).toFixed(2)
  } | ${median(compileTimes).toFixed(2)} | ${compileTimes[0]!.toFixed(2)} | |`,
);
