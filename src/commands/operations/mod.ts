/**
 * The operations part of the server (see operations.ts): statistics, slow
 * log, latency monitor, MONITOR, client tracking, pauses and reply modes.
 *
 * @module
 */

export {
  cpuSeconds,
  randomReplicationId,
  REDACTED,
  redactedArguments,
  type ScriptStatistics,
  ServerOperations,
  usedMemory,
} from "./operations.ts";
export { type CommandCounters, CommandStats, errorCode } from "./command_stats.ts";
export { LatencyHistogram } from "./latency_histogram.ts";
export { type DoctorSettings, LatencyMonitor, type LatestSample } from "./latency_monitor.ts";
export { SlowLog, type SlowLogEntry } from "./slow_log.ts";
export { Monitors, representArgument } from "./monitors.ts";
export { ClientTracking, INVALIDATION_CHANNEL, type TrackingOptions } from "./client_tracking.ts";
export { ClientPause, type PauseMode } from "./client_pause.ts";
export { ReplyModes } from "./reply_modes.ts";
export { InstantaneousMetrics } from "./instantaneous_metrics.ts";
