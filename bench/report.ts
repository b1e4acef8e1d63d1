/**
 * The benchmark's rows and the table they print: every measurement of
 * every round is kept, the table shows each side's median, the ratio of the
 * medians (ours / Redis) for the figure and for the CPU the server spent,
 * each against its target, and every run is listed under the table so the
 * noise of a shared machine stays visible.
 *
 * Medians rather than the best round: on a machine whose two cores are
 * shared with other work, the best round says how fast a server can be when
 * it is lucky, and the two sides are not equally lucky; the median of
 * interleaved rounds is what a repeat run reproduces. A target applies
 * either to the ratio (`of: "ratio"`) or to our own figure (`of: "ours"`,
 * such as "16 KB per idle connection"), and the verdict says "met" only if
 * every target of the row is.
 *
 * @module
 */

import type { Side } from "./servers.ts";

/** What a row's figure measures. */
export type Unit = "rps" | "ms" | "bytes" | "seconds" | "msg/s" | "percent" | "hit ratio";

/** A bound on a row's ratio or on our own figure. */
export interface Target {
  /** `ratio`: ours / Redis; `ours`: our figure alone. */
  of: "ratio" | "ours";
  better: "higher" | "lower";
  bound: number;
}

/** One measurement of one side. */
export interface Sample {
  value: number;
  /** CPU seconds the server spent on the measured work (all its threads). */
  cpuSeconds?: number;
  /** What the CPU is divided by (requests), to show microseconds per request. */
  operations?: number;
  /** What a reader needs to judge the figure (sizes before and after, timings). */
  detail?: string;
}

/** A measurement, or why there is none. */
export type Outcome =
  | ({ ok: true } & Sample)
  | { ok: false; reason: string; notImplemented?: boolean };

/** Everything one side produced for a row. */
export interface SideResults {
  samples: Sample[];
  failures: string[];
  /** Set when the server answered that a needed command or feature does not exist. */
  notImplemented?: string;
}

/** How a row is declared. */
export interface RowSpec {
  name: string;
  unit: Unit;
  target?: Target;
  /** A bound on the CPU ratio (ours / Redis, lower is better). */
  cpuTarget?: number;
  /** Rows with the same summary label get one line of geometric means under the table. */
  summary?: string;
}

/** "Higher than", "lower than", for target texts. */
export const higher = (bound: number, of: Target["of"] = "ratio"): Target => ({
  of,
  better: "higher",
  bound,
});

/** See `higher`. */
export const lower = (bound: number, of: Target["of"] = "ratio"): Target => ({
  of,
  better: "lower",
  bound,
});

/**
 * The median of `values` (the mean of the middle two for an even count).
 *
 * @example
 * ```ts
 * median([3, 1, 2]); // 2
 * median([4, 1, 3, 2]); // 2.5
 * ```
 */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** One row of the table. */
export class Row {
  readonly name: string;
  readonly unit: Unit;
  readonly target?: Target;
  readonly cpuTarget?: number;
  readonly summary?: string;
  /** Whether `--only` picked it. */
  selected = true;
  readonly results: Record<Side, SideResults> = {
    ours: { samples: [], failures: [] },
    redis: { samples: [], failures: [] },
  };
  /** Remarks about the row as a whole (interference, what a figure means). */
  readonly notes: string[] = [];

  constructor(spec: RowSpec) {
    this.name = spec.name;
    this.unit = spec.unit;
    this.target = spec.target;
    this.cpuTarget = spec.cpuTarget;
    this.summary = spec.summary;
  }

  /** Whether another round of `side` would be pointless (the server lacks the feature). */
  settled(side: Side): boolean {
    return this.results[side].notImplemented !== undefined;
  }

  /** Adds one round's outcome and logs it on stderr. */
  record(side: Side, outcome: Outcome): void {
    const results = this.results[side];
    if (outcome.ok) {
      const { ok: _ok, ...sample } = outcome;
      results.samples.push(sample);
      const cpu = cpuFigure(sample);
      console.error(
        `  [${side}] ${this.name}: ${formatValue(this.unit, sample.value)}${
          cpu === undefined ? "" : `, CPU ${formatCpu(cpu, sample.operations !== undefined)}`
        }`,
      );
    } else if (outcome.notImplemented) {
      results.notImplemented = outcome.reason;
      console.error(`  [${side}] ${this.name}: not implemented yet (${outcome.reason})`);
    } else {
      results.failures.push(outcome.reason);
      console.error(`  [${side}] ${this.name}: failed: ${outcome.reason}`);
    }
  }

  /** The median figure of `side`. */
  value(side: Side): number | undefined {
    return median(this.results[side].samples.map((sample) => sample.value));
  }

  /** The median CPU figure of `side`: seconds, or seconds per operation. */
  cpu(side: Side): number | undefined {
    return median(
      this.results[side].samples.map(cpuFigure).filter((cpu): cpu is number => cpu !== undefined),
    );
  }

  /** Whether the CPU figures are per operation. */
  get cpuPerOperation(): boolean {
    return [...this.results.ours.samples, ...this.results.redis.samples].some((sample) =>
      sample.operations !== undefined
    );
  }

  /** Median of ours / median of Redis. */
  ratio(): number | undefined {
    return safeRatio(this.value("ours"), this.value("redis"));
  }

  /** CPU median of ours / CPU median of Redis. */
  cpuRatio(): number | undefined {
    return safeRatio(this.cpu("ours"), this.cpu("redis"));
  }

  /** "met", "not met", "not implemented yet", "failed", "info" or "-" (no Redis figure). */
  verdict(): string {
    const ours = this.results.ours;
    if (ours.notImplemented !== undefined) return "not implemented yet";
    if (ours.failures.length > 0) return "failed";
    if (!this.target && this.cpuTarget === undefined) return "info";
    const checks: (boolean | undefined)[] = [];
    if (this.target) {
      const figure = this.target.of === "ratio" ? this.ratio() : this.value("ours");
      checks.push(figure === undefined ? undefined : meets(this.target, figure));
    }
    if (this.cpuTarget !== undefined) {
      const ratio = this.cpuRatio();
      checks.push(ratio === undefined ? undefined : ratio <= this.cpuTarget);
    }
    if (checks.includes(false)) return "not met";
    if (checks.includes(undefined)) return "-";
    return "met";
  }
}

function cpuFigure(sample: Sample): number | undefined {
  if (sample.cpuSeconds === undefined) return undefined;
  return sample.operations === undefined ? sample.cpuSeconds : sample.cpuSeconds /
    sample.operations;
}

/** ours / redis, or undefined where that means nothing (a missing, zero or negative figure). */
function safeRatio(ours: number | undefined, redis: number | undefined): number | undefined {
  return ours === undefined || redis === undefined || redis <= 0 || ours < 0
    ? undefined
    : ours / redis;
}

function meets(target: Target, figure: number): boolean {
  return target.better === "higher" ? figure >= target.bound : figure <= target.bound;
}

// ---------------------------------------------------------------------------
// Formatting.

const INTEGER = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const KIB = 1024;
const MIB = 1024 * 1024;

/** A figure with its unit. */
export function formatValue(unit: Unit, value: number): string {
  switch (unit) {
    case "rps":
      return `${INTEGER.format(value)} rps`;
    case "ms":
      return `${value.toFixed(3)} ms`;
    case "bytes":
      return Math.abs(value) < MIB
        ? `${(value / KIB).toFixed(1)} KiB`
        : `${(value / MIB).toFixed(1)} MiB`;
    case "seconds":
      return `${value.toFixed(3)} s`;
    case "msg/s":
      return `${INTEGER.format(value)} msg/s`;
    case "percent":
      return `${value >= 0 ? "+" : ""}${value.toFixed(1)}%`;
    case "hit ratio":
      return `${(value * 100).toFixed(1)}% hits`;
  }
}

/** CPU seconds, or microseconds per operation. */
export function formatCpu(value: number, perOperation: boolean): string {
  return perOperation ? `${(value * 1e6).toFixed(2)} µs/req` : `${value.toFixed(2)} s`;
}

/** `1000000` as `1M`, `10000` as `10k`. */
export function formatCount(count: number): string {
  if (count >= 1_000_000 && count % 1_000_000 === 0) return `${count / 1_000_000}M`;
  if (count >= 1_000 && count % 1_000 === 0) return `${count / 1_000}k`;
  return String(count);
}

function formatTarget(target: Target | undefined, unit: Unit): string {
  if (!target) return "";
  const sign = target.better === "higher" ? ">=" : "<=";
  return target.of === "ratio"
    ? `${sign} ${target.bound.toFixed(2)}x`
    : `ours ${sign} ${formatValue(unit, target.bound)}`;
}

function cell(row: Row, side: Side): string {
  const results = row.results[side];
  const value = row.value(side);
  if (value !== undefined) return formatValue(row.unit, value);
  if (results.notImplemented !== undefined) return "n/i";
  return results.failures.length > 0 ? "failed" : "-";
}

function cpuCell(row: Row, side: Side): string {
  const cpu = row.cpu(side);
  return cpu === undefined ? "-" : formatCpu(cpu, row.cpuPerOperation);
}

function ratioText(ratio: number | undefined): string {
  return ratio === undefined ? "-" : `${ratio.toFixed(2)}x`;
}

function geometricMean(values: readonly number[]): number {
  return Math.exp(values.reduce((sum, value) => sum + Math.log(value), 0) / values.length);
}

/** Per summary label, the geometric means of the ratios and CPU ratios of its rows. */
function geometricMeans(rows: readonly Row[]): string[] {
  const byGroup = new Map<string, Row[]>();
  for (const row of rows) {
    if (row.summary === undefined || row.ratio() === undefined) continue;
    byGroup.set(row.summary, [...(byGroup.get(row.summary) ?? []), row]);
  }
  return [...byGroup].map(([group, members]) => {
    const ratios = members.map((row) => row.ratio()!);
    const cpu = members.map((row) => row.cpuRatio()).filter((ratio) => ratio !== undefined);
    return `- ${group} (${members.length} rows): throughput ${
      ratioText(geometricMean(ratios))
    }, CPU ${cpu.length > 0 ? ratioText(geometricMean(cpu)) : "-"}`;
  });
}

function printAligned(table: string[][]): void {
  const widths = table[0]!.map((_, column) =>
    Math.max(...table.map((line) => line[column]!.length))
  );
  const format = (line: string[]) =>
    `| ${line.map((text, column) => text.padEnd(widths[column]!)).join(" | ")} |`;
  console.log(format(table[0]!));
  console.log(`|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`);
  for (const line of table.slice(1)) console.log(format(line));
}

/** Prints the table, the notes, every run and the verdict counts. */
export function printReport(rows: readonly Row[], redisPresent: boolean): void {
  const shown = rows.filter((row) => row.selected);
  const table: string[][] = [[
    "workload",
    "ours",
    "redis",
    "ratio",
    "target",
    "CPU ours",
    "CPU redis",
    "CPU ratio",
    "CPU target",
    "verdict",
  ]];
  for (const row of shown) {
    table.push([
      row.name,
      cell(row, "ours"),
      redisPresent ? cell(row, "redis") : "-",
      ratioText(row.ratio()),
      formatTarget(row.target, row.unit),
      cpuCell(row, "ours"),
      redisPresent ? cpuCell(row, "redis") : "-",
      ratioText(row.cpuRatio()),
      row.cpuTarget === undefined ? "" : `<= ${row.cpuTarget.toFixed(2)}x`,
      row.verdict(),
    ]);
  }
  printAligned(table);

  const notes: string[] = [];
  for (const row of shown) {
    for (const side of ["ours", "redis"] as const) {
      const results = row.results[side];
      if (results.notImplemented !== undefined) {
        notes.push(`- ${row.name} (${side}): not implemented yet: ${results.notImplemented}`);
      }
      for (const failure of new Set(results.failures)) {
        notes.push(`- ${row.name} (${side}) failed: ${failure}`);
      }
      // The detail of the median round, which is the one the table shows.
      const value = row.value(side);
      const middle = results.samples.find((sample) => sample.value === value) ??
        results.samples[0];
      if (middle?.detail) notes.push(`- ${row.name} (${side}): ${middle.detail}`);
    }
    for (const note of row.notes) notes.push(`- ${row.name}: ${note}`);
  }
  if (notes.length > 0) console.log(`\nNotes:\n${notes.join("\n")}`);

  const runs: string[] = [];
  for (const row of shown) {
    const sides = (["ours", "redis"] as const)
      .filter((side) => row.results[side].samples.length > 0)
      .map((side) => {
        const samples = row.results[side].samples;
        const values = samples.map((sample) => formatValue(row.unit, sample.value)).join(", ");
        const cpus = samples.map(cpuFigure).filter((cpu): cpu is number => cpu !== undefined);
        const cpuText = cpus.length === 0
          ? ""
          : ` (CPU ${cpus.map((cpu) => formatCpu(cpu, row.cpuPerOperation)).join(", ")})`;
        return `${side} ${values}${cpuText}`;
      });
    if (sides.length > 0) runs.push(`- ${row.name}: ${sides.join("; ")}`);
  }
  if (runs.length > 0) {
    console.log(`\nAll runs, in the order measured (the table shows medians):\n${runs.join("\n")}`);
  }
  const means = geometricMeans(shown);
  if (means.length > 0) {
    console.log(
      `\nGeometric means of the ratios (ours / redis):\n${means.join("\n")}`,
    );
  }
  const verdicts = shown.map((row) => row.verdict());
  const count = (verdict: string) => verdicts.filter((each) => each === verdict).length;
  console.log(
    `\n${count("met")} met, ${count("not met")} not met, ${count("failed")} failed, ` +
      `${count("not implemented yet")} not implemented yet, ${count("info")} info ` +
      "(ratio = ours / redis)",
  );
}
