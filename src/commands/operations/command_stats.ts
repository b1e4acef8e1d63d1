/**
 * What INFO counts per command and per error: `cmdstat_*` (calls, time,
 * rejected and failed calls), `errorstat_*`, `total_error_replies`, and
 * the per-command latency histograms of `latencystats` and LATENCY
 * HISTOGRAM.
 *
 * Redis keeps these counters on its command structs; here the command
 * objects are shared by every server in a process (they are module
 * constants of the family files), so each server keeps its own map from
 * command to counters, created on a command's first call. The hot path is
 * one map lookup and a few additions; histograms are only touched while
 * `latency-tracking` is on.
 *
 * Errors are counted as Redis's afterErrorReply does: by the error code,
 * the text before the first space when that comes within Redis's 32-byte
 * window, `ERR` otherwise.
 *
 * @module
 */

import type { Command } from "../table.ts";
import { LatencyHistogram } from "./latency_histogram.ts";

/** One command's counters (Redis's `redisCommand` statistics fields). */
export interface CommandCounters {
  calls: number;
  microseconds: number;
  rejectedCalls: number;
  failedCalls: number;
  histogram: LatencyHistogram | undefined;
  /** The command's flags the request path tests, read once (COMMAND_* bits). */
  readonly traits: number;
}

/** `skip_slowlog`: not in the slow log nor the latency monitor (EXEC). */
export const SKIPS_SLOWLOG = 1;
/** `fast`: the latency monitor files it under `fast-command`. */
export const IS_FAST = 2;
/** `admin` or `skip_monitor`: never shown to MONITOR. */
export const HIDDEN_FROM_MONITOR = 4;

function traitsOf(cmd: Command): number {
  const flags = cmd.flags;
  return (flags.includes("skip_slowlog") ? SKIPS_SLOWLOG : 0) |
    (flags.includes("fast") ? IS_FAST : 0) |
    (flags.includes("admin") || flags.includes("skip_monitor") ? HIDDEN_FROM_MONITOR : 0);
}

/** Redis looks for the error code's end within the first 32 bytes of "-CODE ...". */
const ERROR_CODE_WINDOW = 32;

/** The code INFO errorstats files `message` under (`ERR`, `WRONGTYPE`, ...). */
export function errorCode(message: string): string {
  const space = message.indexOf(" ");
  // Redis searches "-" + message, so the space must be within 31 bytes of the message.
  if (space <= 0 || space >= ERROR_CODE_WINDOW - 1) return "ERR";
  return message.slice(0, space);
}

export class CommandStats {
  readonly #counters = new Map<Command, CommandCounters>();
  readonly #errors = new Map<string, number>();
  /** `total_error_replies`. */
  totalErrorReplies = 0;

  /** The counters of `cmd`, created at its first use. */
  counters(cmd: Command): CommandCounters {
    let counters = this.#counters.get(cmd);
    if (counters === undefined) {
      counters = {
        calls: 0,
        microseconds: 0,
        rejectedCalls: 0,
        failedCalls: 0,
        histogram: undefined,
        traits: traitsOf(cmd),
      };
      this.#counters.set(cmd, counters);
    }
    return counters;
  }

  /**
   * Counts one completed call; `tracking` records it in the command's
   * histogram too. Returns the command's counters (their `traits` save the
   * caller testing flags).
   */
  called(cmd: Command, microseconds: number, failed: boolean, tracking: boolean): CommandCounters {
    const counters = this.counters(cmd);
    counters.calls++;
    counters.microseconds += microseconds;
    if (failed) counters.failedCalls++;
    if (tracking) (counters.histogram ??= new LatencyHistogram()).recordMicroseconds(microseconds);
    return counters;
  }

  /** Counts a call the dispatcher refused before running it (Redis's rejected_calls). */
  rejected(cmd: Command): void {
    this.counters(cmd).rejectedCalls++;
  }

  /** Counts one error reply sent to a client. */
  errorReplied(message: string): void {
    this.totalErrorReplies++;
    const code = errorCode(message);
    this.#errors.set(code, (this.#errors.get(code) ?? 0) + 1);
  }

  /** Commands with anything to report, in first-use order. */
  *entries(): IterableIterator<[Command, CommandCounters]> {
    for (const entry of this.#counters) {
      const counters = entry[1];
      if (counters.calls > 0 || counters.rejectedCalls > 0 || counters.failedCalls > 0) {
        yield entry;
      }
    }
  }

  /** Commands with a latency histogram, in first-use order. */
  *histograms(): IterableIterator<[Command, LatencyHistogram]> {
    for (const [cmd, counters] of this.#counters) {
      if (counters.histogram !== undefined) yield [cmd, counters.histogram];
    }
  }

  /** The histogram of `cmd`, if it has one. */
  histogram(cmd: Command): LatencyHistogram | undefined {
    return this.#counters.get(cmd)?.histogram;
  }

  /** Error codes and counts, sorted by code as Redis's rax lists them. */
  errors(): [string, number][] {
    return [...this.#errors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** CONFIG RESETSTAT: every counter and histogram back to zero. */
  reset(): void {
    for (const counters of this.#counters.values()) {
      counters.calls =
        counters.microseconds =
        counters.rejectedCalls =
        counters.failedCalls =
          0;
      counters.histogram = undefined;
    }
    this.#errors.clear();
    this.totalErrorReplies = 0;
  }
}
