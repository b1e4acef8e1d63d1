/**
 * The latency monitor (LATENCY LATEST / HISTORY / RESET / GRAPH / DOCTOR):
 * per event class, the latest 160 per-second samples of operations that
 * took at least `latency-monitor-threshold` milliseconds.
 *
 * It follows Redis's latency.c: an event's time series is a ring of 160
 * samples, one per second (a second sample within the same second only
 * raises that second's figure), plus the all-time maximum; events appear at
 * their first sample. Commands feed the `command` event, FAST commands the
 * `fast-command` one; other parts of the server may add their own classes
 * (`expire-cycle`, `aof-fsync-always`, ...) through `addSampleIfNeeded`.
 * The graph is Redis's sparkline, and the doctor's report is built from
 * the same statistics and advice texts as Redis's createLatencyReport.
 *
 * @module
 */

/** Redis's LATENCY_TS_LEN: samples kept per event. */
const SAMPLES_PER_EVENT = 160;
/** LATENCY_GRAPH_COLS. */
const GRAPH_COLUMNS = 80;
const GRAPH_ROWS = 4;
const SPARKLINE_FILL = "_o#";
const LABEL_MARGIN_TOP = 1;

interface Sample {
  /** Unix time in seconds; 0 for a slot never used. */
  time: number;
  milliseconds: number;
}

/** One event's samples (Redis's latencyTimeSeries). */
class TimeSeries {
  next = 0;
  max = 0;
  readonly samples: Sample[] = Array.from(
    { length: SAMPLES_PER_EVENT },
    () => ({ time: 0, milliseconds: 0 }),
  );

  add(milliseconds: number, now: number): void {
    if (milliseconds > this.max) this.max = milliseconds;
    const previous = this.samples[(this.next + SAMPLES_PER_EVENT - 1) % SAMPLES_PER_EVENT]!;
    if (previous.time === now) {
      if (milliseconds > previous.milliseconds) previous.milliseconds = milliseconds;
      return;
    }
    const slot = this.samples[this.next]!;
    slot.time = now;
    slot.milliseconds = milliseconds;
    this.next = (this.next + 1) % SAMPLES_PER_EVENT;
  }

  /** Used samples, oldest first. */
  chronological(): Sample[] {
    const found: Sample[] = [];
    for (let j = 0; j < SAMPLES_PER_EVENT; j++) {
      const sample = this.samples[(this.next + j) % SAMPLES_PER_EVENT]!;
      if (sample.time !== 0) found.push(sample);
    }
    return found;
  }

  get latest(): Sample {
    return this.samples[(this.next + SAMPLES_PER_EVENT - 1) % SAMPLES_PER_EVENT]!;
  }
}

/** What LATENCY LATEST reports for one event. */
export interface LatestSample {
  event: string;
  time: number;
  milliseconds: number;
  max: number;
}

/** The configuration the doctor's advice depends on. */
export interface DoctorSettings {
  latencyMonitorThreshold: number;
  slowlogLogSlowerThan: number;
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

export class LatencyMonitor {
  readonly #events = new Map<string, TimeSeries>();

  /**
   * Redis's latencyAddSampleIfNeeded: records `milliseconds` for `event`
   * when monitoring is on (`threshold` > 0) and it reached the threshold.
   */
  addSampleIfNeeded(event: string, milliseconds: number, threshold: number): void {
    if (threshold === 0 || milliseconds < threshold) return;
    let series = this.#events.get(event);
    if (series === undefined) {
      series = new TimeSeries();
      this.#events.set(event, series);
    }
    series.add(milliseconds, now());
  }

  /** LATENCY LATEST: each event's latest sample and all-time maximum. */
  latest(): LatestSample[] {
    return [...this.#events].map(([event, series]) => ({
      event,
      time: series.latest.time,
      milliseconds: series.latest.milliseconds,
      max: series.max,
    }));
  }

  /** LATENCY HISTORY: [time, milliseconds] pairs, oldest first (none for an unknown event). */
  history(event: string): [number, number][] {
    const series = this.#events.get(event);
    if (series === undefined) return [];
    return series.chronological().map((sample) => [sample.time, sample.milliseconds]);
  }

  /** LATENCY RESET: forgets the named events (all when none are named); how many were known. */
  reset(events: readonly string[]): number {
    if (events.length === 0) {
      const count = this.#events.size;
      this.#events.clear();
      return count;
    }
    let count = 0;
    for (const event of events) if (this.#events.delete(event)) count++;
    return count;
  }

  /** LATENCY GRAPH's text, or undefined for an event without samples. */
  graph(event: string): string | undefined {
    const series = this.#events.get(event);
    if (series === undefined) return undefined;
    const samples = series.chronological();
    let min = 0;
    let max = 0;
    const values: number[] = [];
    const labels: string[] = [];
    const current = now();
    for (const sample of samples) {
      if (values.length === 0) min = max = sample.milliseconds;
      else {
        if (sample.milliseconds > max) max = sample.milliseconds;
        if (sample.milliseconds < min) min = sample.milliseconds;
      }
      values.push(sample.milliseconds);
      labels.push(elapsedLabel(current - sample.time));
    }
    let graph = `${event} - high ${max} ms, low ${min} ms (all time high ${series.max} ms)\n`;
    graph += "-".repeat(GRAPH_COLUMNS) + "\n";
    return graph + renderSparkline(values, labels);
  }

  /** LATENCY DOCTOR's report. */
  doctor(settings: DoctorSettings): string {
    if (this.#events.size === 0 && settings.latencyMonitorThreshold === 0) return DOCTOR_DISABLED;
    if (this.#events.size === 0) return DOCTOR_NOTHING;
    let report =
      "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n";
    const advice = new Set<Advice>();
    let number = 1;
    for (const [event, series] of this.#events) {
      const stats = analyze(series);
      report +=
        `${number++}. ${event}: ${stats.samples} latency spikes (average ${stats.average}ms, ` +
        `mean deviation ${stats.meanDeviation}ms, period ${
          (stats.period / stats.samples).toFixed(2)
        } sec). Worst all time event ${series.max}ms.`;
      if (event === "command") {
        if (settings.slowlogLogSlowerThan === 0) advice.add("slowlog-enabled");
        else if (
          Math.trunc(settings.slowlogLogSlowerThan / 1000) > settings.latencyMonitorThreshold
        ) {
          advice.add("slowlog-tuning");
        }
        advice.add("slowlog-inspect").add("large-objects");
      } else if (event === "fast-command") {
        advice.add("scheduler");
      }
      report += "\n";
    }
    if (advice.size === 0) {
      return report +
        "\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n";
    }
    report += "\nI have a few advices for you:\n\n";
    const threshold = settings.latencyMonitorThreshold * 1000;
    for (const [kind, text] of ADVICE) {
      if (advice.has(kind)) report += text.replaceAll("%THRESHOLD%", String(threshold));
    }
    return report;
  }
}

type Advice =
  | "slowlog-enabled"
  | "slowlog-tuning"
  | "slowlog-inspect"
  | "scheduler"
  | "large-objects";

/** Redis's advice texts, in the order its report prints them. */
const ADVICE: readonly [Advice, string][] = [
  [
    "slowlog-enabled",
    "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than %THRESHOLD%'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n",
  ],
  [
    "slowlog-tuning",
    "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than %THRESHOLD%'.\n",
  ],
  [
    "slowlog-inspect",
    "- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n",
  ],
  [
    "scheduler",
    "- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n",
  ],
  [
    "large-objects",
    "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n",
  ],
];

const DOCTOR_DISABLED =
  "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";
const DOCTOR_NOTHING =
  "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n";

/** Redis's analyzeLatencyForEvent: sample count, average, mean deviation, period. */
function analyze(series: TimeSeries) {
  const samples = series.samples.filter((sample) => sample.time !== 0);
  let sum = 0;
  let oldest = 0;
  for (const sample of samples) {
    sum += sample.milliseconds;
    if (oldest === 0 || sample.time < oldest) oldest = sample.time;
  }
  const average = samples.length > 0 ? Math.floor(sum / samples.length) : 0;
  let period = samples.length > 0 ? now() - oldest : 0;
  if (samples.length > 0 && period === 0) period = 1;
  let deviation = 0;
  for (const sample of samples) deviation += Math.abs(average - sample.milliseconds);
  const meanDeviation = samples.length > 0 ? Math.floor(deviation / samples.length) : 0;
  return { samples: samples.length, average, meanDeviation, period };
}

/** How long ago, as LATENCY GRAPH labels it: 5s, 3m, 2h, 1d. */
function elapsedLabel(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

/** Redis's sparklineRender with SPARKLINE_FILL: 80 columns a block, 4 rows, labels below. */
function renderSparkline(values: readonly number[], labels: readonly string[]): string {
  let min = 0;
  let max = 0;
  values.forEach((value, index) => {
    if (index === 0) min = max = value;
    else if (value < min) min = value;
    else if (value > max) max = value;
  });
  let output = "";
  for (let offset = 0; offset < values.length; offset += GRAPH_COLUMNS) {
    const length = Math.min(values.length - offset, GRAPH_COLUMNS);
    if (offset !== 0) output += "\n";
    output += renderRange(values, labels, min, max, offset, length);
  }
  return output;
}

function renderRange(
  values: readonly number[],
  labels: readonly string[],
  min: number,
  max: number,
  offset: number,
  length: number,
): string {
  const charsetLength = SPARKLINE_FILL.length;
  const steps = charsetLength * GRAPH_ROWS;
  const relativeMax = max - min === 0 ? 1 : max - min;
  let output = "";
  for (let row = 0;; row++) {
    let more = false;
    const chars = new Array<string>(length).fill(" ");
    for (let j = 0; j < length; j++) {
      const value = values[j + offset]!;
      let step = Math.trunc(Math.trunc((value - min) * steps) / relativeMax);
      if (step < 0) step = 0;
      if (step >= steps) step = steps - 1;
      if (row < GRAPH_ROWS) {
        const index = step - (GRAPH_ROWS - row - 1) * charsetLength;
        more = true;
        if (index >= 0 && index < charsetLength) chars[j] = SPARKLINE_FILL[index]!;
        else if (index >= charsetLength) chars[j] = "|";
      } else {
        // A blank row between the graph and the labels, then one character of each label per row.
        if (row - GRAPH_ROWS < LABEL_MARGIN_TOP) {
          more = true;
          break;
        }
        const label = labels[j + offset]!;
        const position = row - GRAPH_ROWS - LABEL_MARGIN_TOP;
        if (label.length > position) {
          more = true;
          chars[j] = label[position]!;
        }
      }
    }
    if (!more) break;
    output += chars.join("") + "\n";
  }
  return output;
}
