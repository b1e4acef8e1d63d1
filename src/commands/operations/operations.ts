/**
 * The operator's view of a running server: everything INFO, MONITOR,
 * SLOWLOG, LATENCY, CLIENT PAUSE / REPLY / TRACKING and CONFIG RESETSTAT
 * need to observe or hold back, as one part of the server with a handful
 * of hooks on the request path.
 *
 * Redis does this work in call() (statistics, slow log, latency monitor,
 * MONITOR, tracking of read keys), in processCommand (rejections, pauses)
 * and in its reply functions (error statistics, CLIENT REPLY). Here the
 * owners of those paths call:
 *
 * - `commandStarting(client)` before a handler runs and
 *   `commandFinished(client, cmd, args, started, error)` after it
 *   (executor.ts, for commands run through `Executor.call`: clients' and
 *   EXEC's and scripts', not the AOF loader's);
 * - `commandRejected(cmd, message)` when the dispatcher refuses a request,
 *   and `errorReplied(message)` for any other error reply written outside
 *   a handler;
 * - `postpones(client, cmd, args)` / `postpone(client, args)` in the dispatcher,
 *   just before it queues or runs a command (CLIENT PAUSE);
 * - `requestProcessed(client, replyStart)` after each request a connection
 *   dispatched (CLIENT REPLY);
 * - `cron(now)` from the server cron (instantaneous rates, memory peak).
 *
 * It is also a `KeyspaceEvents` part (tracking invalidations, forgetting
 * clients, telling the keyspace which collections changed so their memory
 * estimate is taken again), and it holds `eviction`, the maxmemory part
 * (eviction.ts), whose cron it runs. The default configuration costs, per
 * command, one clock read (commands run back to back share the reading
 * between them), one map lookup and a few additions and comparisons;
 * MONITOR, tracking, pauses and reply modes cost one check each until
 * someone uses them.
 *
 * @module
 */

import process from "node:process";
import type { Client } from "../client.ts";
import type { KeyspaceEvents, ServerContext } from "../context.ts";
import { dispatch } from "../dispatcher.ts";
import type { Command } from "../table.ts";
import type { Database } from "../../store/keyspace.ts";
import { Eviction } from "../eviction.ts";
import { ClientPause } from "./client_pause.ts";
import { ClientTracking } from "./client_tracking.ts";
import { CommandStats, HIDDEN_FROM_MONITOR, IS_FAST, SKIPS_SLOWLOG } from "./command_stats.ts";
import { InstantaneousMetrics } from "./instantaneous_metrics.ts";
import { LatencyMonitor } from "./latency_monitor.ts";
import { Monitors } from "./monitors.ts";
import { ReplyModes } from "./reply_modes.ts";
import { SlowLog } from "./slow_log.ts";

/** What MONITOR and SLOWLOG show instead of a password. */
export const REDACTED = "(redacted)";

/**
 * `args` with passwords replaced, as Redis's redactClientCommandArgument
 * leaves them for MONITOR and SLOWLOG: AUTH's arguments, HELLO's AUTH pair,
 * MIGRATE's AUTH and AUTH2 values. Handlers of other commands with secrets
 * (CONFIG SET requirepass) redact their own arguments in place.
 */
export function redactedArguments(cmd: Command, args: readonly string[]): readonly string[] {
  const name = cmd.name;
  if (name === "auth") return args.map((arg, i) => (i === 0 ? arg : REDACTED));
  if (name !== "hello" && name !== "migrate") return args;
  const redacted = [...args];
  for (let i = name === "hello" ? 2 : 6; i < args.length; i++) {
    const word = args[i]!.toLowerCase();
    if (word === "auth") {
      const count = name === "hello" ? 2 : 1;
      for (let j = 1; j <= count && i + j < args.length; j++) redacted[i + j] = REDACTED;
      i += count;
    } else if (word === "auth2" && name === "migrate") {
      for (let j = 1; j <= 2 && i + j < args.length; j++) redacted[i + j] = REDACTED;
      i += 2;
    }
  }
  return redacted;
}

/** Bytes of memory in use as this server reports it (V8 heap in use plus buffers). */
export function usedMemory(): number {
  const memory = Deno.memoryUsage();
  return memory.heapUsed + memory.external;
}

/** CPU time used by the process, in seconds (INFO used_cpu_*). */
export function cpuSeconds(): { user: number; system: number } {
  const usage = process.cpuUsage();
  return { user: usage.user / 1e6, system: usage.system / 1e6 };
}

/** What INFO memory reports about scripts; the scripting part supplies it (see `scripts`). */
export interface ScriptStatistics {
  /** Bytes used by the EVAL engine (`used_memory_lua`, `used_memory_vm_eval`). */
  evalMemory: number;
  /** Bytes of cached EVAL scripts (`used_memory_scripts_eval`). */
  scriptsMemory: number;
  cachedScripts: number;
  functions: number;
  libraries: number;
  /** Bytes used by the functions engine (`used_memory_vm_functions`). */
  functionsMemory: number;
  /** Bytes of function libraries (`used_memory_functions`). */
  functionsOverhead: number;
}

/** What an idle Redis 7.0 reports before any script was loaded. */
const IDLE_SCRIPTS: ScriptStatistics = {
  evalMemory: 31744,
  scriptsMemory: 0,
  cachedScripts: 0,
  functions: 0,
  libraries: 0,
  functionsMemory: 32768,
  functionsOverhead: 184,
};

/** A random 40-hex-digit id, as Redis's replication ids. */
export function randomReplicationId(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(20)),
    (byte) => byte.toString(16).padStart(2, "0"),
  ).join("");
}

export class ServerOperations implements KeyspaceEvents {
  readonly commandStats = new CommandStats();
  readonly slowLog = new SlowLog();
  readonly latency = new LatencyMonitor();
  readonly monitors: Monitors;
  readonly tracking: ClientTracking;
  readonly pause: ClientPause;
  readonly replyModes = new ReplyModes();
  readonly metrics = new InstantaneousMetrics();
  /** maxmemory: the memory model, eviction and its counters (eviction.ts). */
  readonly eviction: Eviction;
  /** Clients that run scripts' commands (MONITOR shows them as `lua`). */
  readonly #scriptClients = new Set<Client>();
  /** Clients with CLIENT NO-EVICT on (CLIENT LIST flag `e`). */
  readonly noEvict = new Set<Client>();
  /** Memory in use when the server was built (INFO used_memory_startup). */
  readonly startupMemory = usedMemory();
  /** Highest memory use seen (INFO used_memory_peak). */
  peakMemory = this.startupMemory;
  /** When the peak was last reset (CONFIG RESETSTAT resets it too). */
  statsResetAt = Date.now();
  /** DEBUG SET-ACTIVE-EXPIRE: the server cron runs the active expiry cycle only while true. */
  activeExpireEnabled = true;
  /** `master_replid` (DEBUG CHANGE-REPL-ID makes a new one). */
  replicationId = randomReplicationId();
  /** Set by the scripting part to report its memory and scripts in INFO. */
  scripts: (() => ScriptStatistics) | undefined;
  /** Nesting of running commands: tracking's current client is the outermost one's. */
  #depth = 0;
  /** When the last command finished, in this turn of the event loop (NaN: none yet). */
  #clock = NaN;
  #clockResetScheduled = false;
  readonly #resetClock = () => {
    this.#clock = NaN;
    this.#clockResetScheduled = false;
  };

  constructor(readonly server: ServerContext) {
    this.monitors = new Monitors(server);
    this.tracking = new ClientTracking(server);
    this.pause = new ClientPause(server, (client, args) => this.#rerun(client, args));
    this.eviction = new Eviction(server);
  }

  // -------------------------------------------------------------------------
  // Hooks on the request path

  /**
   * Before a handler runs (executor); returns the start time for
   * `commandFinished`. Commands that follow each other in one turn of the
   * event loop (a pipeline, EXEC's queue) start when the previous one
   * finished, so most commands cost one clock read, not two.
   */
  commandStarting(client: Client): number {
    if (this.#depth++ === 0) this.tracking.currentClient = client;
    const chained = this.#clock;
    return chained === chained ? chained : performance.now();
  }

  /**
   * After a handler ran (executor): counts the call (and `error`, the error
   * reply it was answered with, if it failed), then the slow log, the
   * latency monitor, MONITOR and tracking, each only when enabled.
   */
  commandFinished(
    client: Client,
    cmd: Command,
    args: readonly string[],
    started: number,
    error: string | undefined,
  ): void {
    const now = performance.now();
    this.#clock = now;
    if (!this.#clockResetScheduled) {
      this.#clockResetScheduled = true;
      queueMicrotask(this.#resetClock);
    }
    const microseconds = Math.floor((now - started) * 1000);
    const config = this.server.config;
    const stats = this.commandStats;
    const traits = stats.called(cmd, microseconds, error !== undefined, config.latencyTracking)
      .traits;
    if (error !== undefined) stats.errorReplied(error);
    const slowerThan = config.slowlogLogSlowerThan;
    if (microseconds >= slowerThan && slowerThan >= 0 && (traits & SKIPS_SLOWLOG) === 0) {
      this.slowLog.push(
        redactedArguments(cmd, args),
        microseconds,
        this.#origin(client),
        client.name,
        config.slowlogMaxLen,
      );
    }
    const threshold = config.latencyMonitorThreshold;
    if (threshold !== 0 && (traits & SKIPS_SLOWLOG) === 0) {
      const event = (traits & IS_FAST) !== 0 ? "fast-command" : "command";
      this.latency.addSampleIfNeeded(event, Math.floor(microseconds / 1000), threshold);
    }
    if (this.monitors.active && (traits & HIDDEN_FROM_MONITOR) === 0 && !this.server.loading) {
      this.monitors.feed(client.db.index, this.#origin(client), redactedArguments(cmd, args));
    }
    if (this.tracking.clientCount !== 0) this.tracking.commandExecuted(client, cmd, args);
    if (this.replyModes.active) this.replyModes.commandRan(client, cmd.name);
    if (--this.#depth === 0) this.tracking.commandCompleted();
  }

  /** The dispatcher refused a request of `cmd` (undefined: unknown command) with `message`. */
  commandRejected(cmd: Command | undefined, message: string): void {
    if (cmd !== undefined) this.commandStats.rejected(cmd);
    this.commandStats.errorReplied(message);
  }

  /** An error reply written outside a handler (counted in errorstats and total_error_replies). */
  errorReplied(message: string): void {
    this.commandStats.errorReplied(message);
  }

  /** Whether the dispatcher must postpone `cmd` (CLIENT PAUSE); one check when nothing is paused. */
  postpones(client: Client, cmd: Command, args: readonly string[]): boolean {
    return this.pause.mode !== undefined && this.pause.postpones(client, cmd, args);
  }

  /** Holds the request back until the pause ends. */
  postpone(client: Client, args: string[]): void {
    this.pause.postpone(client, args);
  }

  /** After each request a connection dispatched; `replyStart` is where its reply began. */
  requestProcessed(client: Client, replyStart: number): void {
    if (this.replyModes.active) this.replyModes.requestProcessed(client, replyStart);
  }

  /** From the server cron. */
  cron(now: number): void {
    const stats = this.server.stats;
    this.metrics.sample(now, stats.commandsProcessed, stats.netInputBytes, stats.netOutputBytes);
    const used = usedMemory();
    if (used > this.peakMemory) this.peakMemory = used;
    this.eviction.cron();
  }

  // -------------------------------------------------------------------------
  // For scripts

  /** Marks the client scripts run their commands on: MONITOR shows it as `lua`. */
  markScriptClient(client: Client): void {
    this.#scriptClients.add(client);
  }

  /**
   * Feeds MONITOR a command that is shown before it runs: EVAL, EVALSHA
   * and FCALL are `skip_monitor` so that the script appears before the
   * commands it runs, as Redis's scripting feeds it at the start.
   */
  feedMonitors(client: Client, args: readonly string[]): void {
    if (!this.monitors.active || this.server.loading) return;
    this.monitors.feed(client.db.index, this.#origin(client), args);
  }

  #origin(client: Client): string {
    return this.#scriptClients.has(client) ? "lua" : client.transport.remoteAddress;
  }

  /** INFO memory's script figures. */
  scriptStatistics(): ScriptStatistics {
    return this.scripts?.() ?? IDLE_SCRIPTS;
  }

  // -------------------------------------------------------------------------
  // Keyspace events

  keyChanged(
    db: Database,
    key: string,
    _event: string,
    _eventClass: string,
    signalled: boolean,
  ): void {
    if (signalled) this.tracking.keyChanged(db, key);
    this.eviction.keyChanged(db, key);
  }

  databaseChanged(): void {
    this.tracking.databaseChanged();
  }

  clientClosed(client: Client): void {
    this.tracking.clientClosed(client);
    this.monitors.clientClosed(client);
    this.pause.clientClosed(client);
    this.replyModes.clientClosed(client);
    this.noEvict.delete(client);
    this.#scriptClients.delete(client);
  }

  clientReset(client: Client): void {
    this.tracking.clientReset(client);
    this.monitors.clientReset(client);
    this.replyModes.clientReset(client);
    this.noEvict.delete(client);
  }

  // -------------------------------------------------------------------------

  /** CONFIG RESETSTAT's share: command and error statistics, rates, the memory peak. */
  resetStats(): void {
    this.commandStats.reset();
    this.metrics.reset();
    this.peakMemory = usedMemory();
    this.statsResetAt = Date.now();
    this.eviction.resetStats();
  }

  /** Stops timers (the server is shutting down). */
  dispose(): void {
    this.pause.dispose();
    this.eviction.dispose();
  }

  /** Runs a request the pause held back, as its connection would have. */
  #rerun(client: Client, args: string[]): void {
    const replyStart = client.reply.length;
    dispatch(client, args);
    this.requestProcessed(client, replyStart);
  }
}

/** A server that may already have its operations part (once server.ts builds one). */
