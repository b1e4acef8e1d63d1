/**
 * INFO: the server's state as Redis 7.0's `# Section` / `field:value` text,
 * every section and field redis-server 7.0.15 prints, in its order.
 *
 * Each section is a function from the server to its fields, so features own
 * their section (persistence/info.ts) and INFO only assembles them. Clients
 * and tools parse this text (ioredis's ready check waits for `loading:0`,
 * monitoring agents scrape `instantaneous_ops_per_sec`, `used_memory`,
 * `cmdstat_*`), so a field is present even where its subject does not exist
 * here (replication, forks, defragmentation): it then reads as an idle
 * Redis would show it. Figures that exist are true: command, error and
 * latency statistics come from the operations part (commands/operations/),
 * CPU time from getrusage (node:process). Memory is two things: `used_memory`
 * and the fields derived from it are the model maxmemory works on (Redis's
 * layout of the data, its startup cost and the clients; see
 * commands/eviction.ts), so they read as redis-server's would for the same
 * data; `used_memory_rss`, the `allocator_*` fields and the fragmentation
 * ratios come from the process (its RSS, V8's heap), so
 * `mem_fragmentation_ratio` says how much more the runtime takes than Redis
 * would.
 *
 * Section selection follows genRedisInfoString: no argument or `default`
 * is the default set, `all` adds commandstats and latencystats, `everything`
 * also the modules' sections (there are none), names are case-insensitive,
 * unknown names select nothing.
 *
 * @module
 */

import { CLONE_VERSION } from "../config.ts";
import type { Client } from "../commands/client.ts";
import { cpuSeconds } from "../commands/operations/mod.ts";
import { STARTUP_MEMORY } from "../commands/eviction.ts";
import { memoryOverhead } from "../commands/memory.ts";
import { type InfoFields, persistenceInfo } from "../persistence/info.ts";
import { replicationInfo, replicationStatsInfo } from "../replication/mod.ts";
import type { Server } from "./server.ts";

/** Redis's bytesToHuman. */
export function humanBytes(bytes: number): string {
  const units = ["B", "K", "M", "G", "T", "P", "E"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes}B` : `${value.toFixed(2)}${units[unit]}`;
}

/** A value read once from /proc (the server may read files; it has no --allow-sys). */
function readProc(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

let osDescription: string | undefined;
let systemMemory: number | undefined;

/** `os`: what uname says, as Redis prints it (`Linux 6.1.0 x86_64`). */
function operatingSystem(): string {
  if (osDescription !== undefined) return osDescription;
  const name = Deno.build.os === "linux"
    ? "Linux"
    : Deno.build.os === "darwin"
    ? "Darwin"
    : Deno.build.os;
  const release = readProc("/proc/sys/kernel/osrelease")?.trim();
  osDescription = [name, release, Deno.build.arch].filter((part) => part).join(" ");
  return osDescription;
}

/** `total_system_memory`, from /proc/meminfo (0 where it cannot be read). */
function totalSystemMemory(): number {
  if (systemMemory !== undefined) return systemMemory;
  const match = /^MemTotal:\s+(\d+) kB/m.exec(readProc("/proc/meminfo") ?? "");
  systemMemory = match ? Number(match[1]) * 1024 : 0;
  return systemMemory;
}

function percent(part: number, whole: number): string {
  return `${(whole > 0 ? part / whole * 100 : 0).toFixed(2)}%`;
}

function ratio(part: number, whole: number): string {
  return (whole > 0 ? part / whole : 0).toFixed(2);
}

function serverInfo(server: Server): InfoFields {
  const now = Date.now();
  const uptime = Math.floor((now - server.startedAt) / 1000);
  const config = server.config;
  return [
    ["redis_version", server.version],
    ["redis_git_sha1", "00000000"],
    ["redis_git_dirty", 0],
    ["redis_build_id", "0"],
    ["redis_mode", "standalone"],
    ["os", operatingSystem()],
    ["arch_bits", 64],
    ["monotonic_clock", "POSIX clock_gettime"],
    ["multiplexing_api", "epoll"],
    ["atomicvar_api", "c11-builtin"],
    ["gcc_version", "0.0.0"],
    ["process_id", Deno.pid],
    ["process_supervised", "no"],
    ["run_id", server.runId],
    ["tcp_port", server.port],
    ["server_time_usec", Math.floor((performance.timeOrigin + performance.now()) * 1000)],
    ["uptime_in_seconds", uptime],
    ["uptime_in_days", Math.floor(uptime / 86400)],
    ["hz", config.hz],
    ["configured_hz", config.hz],
    ["lru_clock", Math.floor(now / 1000) & 0xffffff],
    ["executable", Deno.execPath()],
    ["config_file", config.configFile ?? ""],
    ["io_threads_active", 0],
    ["clone_version", CLONE_VERSION],
    ["runtime", `deno ${Deno.version.deno}`],
  ];
}

/** Unsent output of a client, as Redis's omem counts it. */
function outputBytes(client: Client): number {
  return client.reply.length + client.transport.pendingBytes;
}

function clientsInfo(server: Server): InfoFields {
  const operations = server.operations;
  let blocked = 0;
  let timed = 0;
  let maxOutput = 0;
  for (const client of server.clients.values()) {
    const state = client.blocked;
    if (state !== undefined && !operations.pause.isPostponed(client)) {
      blocked++;
      if (state.deadline !== 0) timed++;
    }
    const output = outputBytes(client);
    if (output > maxOutput) maxOutput = output;
  }
  return [
    ["connected_clients", server.clients.size],
    ["cluster_connections", 0],
    ["maxclients", server.maxClients],
    ["client_recent_max_input_buffer", 0],
    ["client_recent_max_output_buffer", maxOutput],
    ["blocked_clients", blocked],
    ["tracking_clients", operations.tracking.clientCount],
    ["clients_in_timeout_table", timed],
  ];
}

function memoryInfo(server: Server): InfoFields {
  const operations = server.operations;
  const eviction = operations.eviction;
  const memory = Deno.memoryUsage();
  const clientsMemory = eviction.sampleClients();
  const aofBuffer = server.aof?.bufferedBytes ?? 0;
  // Like Redis's used_memory, the AOF buffer counts here though not for eviction.
  const used = eviction.settledUsedMemory() + aofBuffer;
  if (used > eviction.peakMemory) eviction.peakMemory = used;
  const peak = eviction.peakMemory;
  const startup = STARTUP_MEMORY;
  const overhead = Math.min(used, startup + clientsMemory + aofBuffer + memoryOverhead(server));
  const dataset = used - overhead;
  const allocated = memory.heapUsed + memory.external;
  const active = memory.heapTotal + memory.external;
  const rss = memory.rss;
  const config = server.config;
  const scripts = operations.scriptStatistics();
  const vmTotal = scripts.evalMemory + scripts.functionsMemory;
  return [
    ["used_memory", used],
    ["used_memory_human", humanBytes(used)],
    ["used_memory_rss", rss],
    ["used_memory_rss_human", humanBytes(rss)],
    ["used_memory_peak", peak],
    ["used_memory_peak_human", humanBytes(peak)],
    ["used_memory_peak_perc", percent(used, peak)],
    ["used_memory_overhead", overhead],
    ["used_memory_startup", startup],
    ["used_memory_dataset", dataset],
    ["used_memory_dataset_perc", percent(dataset, used - startup)],
    ["allocator_allocated", allocated],
    ["allocator_active", active],
    ["allocator_resident", rss],
    ["total_system_memory", totalSystemMemory()],
    ["total_system_memory_human", humanBytes(totalSystemMemory())],
    ["used_memory_lua", scripts.evalMemory],
    ["used_memory_vm_eval", scripts.evalMemory],
    ["used_memory_lua_human", humanBytes(scripts.evalMemory)],
    ["used_memory_scripts_eval", scripts.scriptsMemory],
    ["number_of_cached_scripts", scripts.cachedScripts],
    ["number_of_functions", scripts.functions],
    ["number_of_libraries", scripts.libraries],
    ["used_memory_vm_functions", scripts.functionsMemory],
    ["used_memory_vm_total", vmTotal],
    ["used_memory_vm_total_human", humanBytes(vmTotal)],
    ["used_memory_functions", scripts.functionsOverhead],
    ["used_memory_scripts", scripts.scriptsMemory + scripts.functionsOverhead],
    ["used_memory_scripts_human", humanBytes(scripts.scriptsMemory + scripts.functionsOverhead)],
    ["maxmemory", config.maxmemory],
    ["maxmemory_human", humanBytes(config.maxmemory)],
    ["maxmemory_policy", config.maxmemoryPolicy],
    ["allocator_frag_ratio", ratio(active, allocated)],
    ["allocator_frag_bytes", active - allocated],
    ["allocator_rss_ratio", ratio(rss, active)],
    ["allocator_rss_bytes", rss - active],
    ["rss_overhead_ratio", ratio(rss, rss)],
    ["rss_overhead_bytes", 0],
    ["mem_fragmentation_ratio", ratio(rss, used)],
    ["mem_fragmentation_bytes", rss - used],
    ["mem_not_counted_for_evict", aofBuffer],
    ["mem_replication_backlog", replicationStatsInfo(server.replication).mem_replication_backlog],
    ["mem_total_replication_buffers", 0],
    ["mem_clients_slaves", replicationStatsInfo(server.replication).mem_clients_slaves],
    ["mem_clients_normal", clientsMemory],
    ["mem_cluster_links", 0],
    ["mem_aof_buffer", aofBuffer],
    ["mem_allocator", "v8"],
    ["active_defrag_running", 0],
    ["lazyfree_pending_objects", 0],
    ["lazyfreed_objects", 0],
  ];
}

function statsInfo(server: Server): InfoFields {
  const stats = server.stats;
  const replicationStats = replicationStatsInfo(server.replication);
  const operations = server.operations;
  const metrics = operations.metrics;
  const tracking = operations.tracking.totals;
  return [
    ["total_connections_received", stats.connectionsReceived],
    ["total_commands_processed", stats.commandsProcessed],
    ["instantaneous_ops_per_sec", metrics.opsPerSecond],
    ["total_net_input_bytes", stats.netInputBytes],
    ["total_net_output_bytes", stats.netOutputBytes],
    ["total_net_repl_input_bytes", replicationStats.total_net_repl_input_bytes],
    ["total_net_repl_output_bytes", replicationStats.total_net_repl_output_bytes],
    ["instantaneous_input_kbps", metrics.inputKbps],
    ["instantaneous_output_kbps", metrics.outputKbps],
    ["instantaneous_input_repl_kbps", "0.00"],
    ["instantaneous_output_repl_kbps", "0.00"],
    ["rejected_connections", stats.rejectedConnections],
    ["sync_full", replicationStats.sync_full],
    ["sync_partial_ok", replicationStats.sync_partial_ok],
    ["sync_partial_err", replicationStats.sync_partial_err],
    ["expired_keys", server.keyspace.expiredKeys],
    ["expired_stale_perc", "0.00"],
    ["expired_time_cap_reached_count", 0],
    ["expire_cycle_cpu_milliseconds", 0],
    ["evicted_keys", operations.eviction.evictedKeys],
    ["evicted_clients", 0],
    ["total_eviction_exceeded_time", operations.eviction.totalExceededMilliseconds],
    ["current_eviction_exceeded_time", operations.eviction.currentExceededMilliseconds],
    ["keyspace_hits", stats.keyspaceHits],
    ["keyspace_misses", stats.keyspaceMisses],
    ["pubsub_channels", server.pubsub.channels.size],
    ["pubsub_patterns", server.pubsub.patterns.size],
    ["pubsubshard_channels", server.pubsub.shardChannels.size],
    ["latest_fork_usec", 0],
    ["total_forks", 0],
    ["migrate_cached_sockets", 0],
    ["slave_expires_tracked_keys", 0],
    ["active_defrag_hits", 0],
    ["active_defrag_misses", 0],
    ["active_defrag_key_hits", 0],
    ["active_defrag_key_misses", 0],
    ["total_active_defrag_time", 0],
    ["current_active_defrag_time", 0],
    ["tracking_total_keys", tracking.keys],
    ["tracking_total_items", tracking.items],
    ["tracking_total_prefixes", tracking.prefixes],
    ["unexpected_error_replies", 0],
    ["total_error_replies", operations.commandStats.totalErrorReplies],
    ["dump_payload_sanitizations", 0],
    ["total_reads_processed", 0],
    ["total_writes_processed", 0],
    ["io_threaded_reads_processed", 0],
    ["io_threaded_writes_processed", 0],
    ["reply_buffer_shrinks", 0],
    ["reply_buffer_expands", 0],
  ];
}

/** Seconds with six decimals, as Redis prints rusage times. */
function cpuTime(seconds: number): string {
  return seconds.toFixed(6);
}

function cpuInfo(): InfoFields {
  // The server is one thread of JavaScript: the process's time is the main thread's.
  const { user, system } = cpuSeconds();
  return [
    ["used_cpu_sys", cpuTime(system)],
    ["used_cpu_user", cpuTime(user)],
    ["used_cpu_sys_children", "0.000000"],
    ["used_cpu_user_children", "0.000000"],
    ["used_cpu_sys_main_thread", cpuTime(system)],
    ["used_cpu_user_main_thread", cpuTime(user)],
  ];
}

function commandStatsInfo(server: Server): InfoFields {
  const fields: InfoFields = [];
  for (const [cmd, counters] of server.operations.commandStats.entries()) {
    const perCall = counters.calls === 0 ? 0 : counters.microseconds / counters.calls;
    fields.push([
      `cmdstat_${cmd.name}`,
      `calls=${counters.calls},usec=${counters.microseconds},usec_per_call=${
        perCall.toFixed(2)
      },rejected_calls=${counters.rejectedCalls},failed_calls=${counters.failedCalls}`,
    ]);
  }
  return fields;
}

function errorStatsInfo(server: Server): InfoFields {
  return server.operations.commandStats.errors().map((
    [code, count],
  ) => [`errorstat_${code}`, `count=${count}`]);
}

/** A percentile as INFO latencystats names it: `%f` with trailing zeros trimmed (`99.9`). */
export function percentileName(percentile: number): string {
  const text = percentile.toFixed(6);
  return text.replace(/\.?0+$/, "");
}

function latencyStatsInfo(server: Server): InfoFields {
  // Like Redis, the section is empty while latency-tracking is off.
  if (!server.config.latencyTracking) return [];
  const percentiles = server.config.latencyTrackingInfoPercentiles;
  const fields: InfoFields = [];
  for (const [cmd, histogram] of server.operations.commandStats.histograms()) {
    const values = percentiles.map((percentile) =>
      `p${percentileName(percentile)}=${
        (histogram.valueAtPercentile(percentile) / 1000).toFixed(3)
      }`
    );
    fields.push([`latency_percentiles_usec_${cmd.name}`, values.join(",")]);
  }
  return fields;
}

/** How many of the first keys with a deadline `avg_ttl` looks at (Redis estimates it too). */
const AVERAGE_TTL_SAMPLE = 1000;

function keyspaceInfo(server: Server): InfoFields {
  const fields: InfoFields = [];
  const now = server.keyspace.clock.now();
  for (const db of server.keyspace.databases) {
    if (db.size === 0) continue;
    let sum = 0;
    let sampled = 0;
    for (const deadline of db.expires.values()) {
      if (sampled === AVERAGE_TTL_SAMPLE) break;
      sum += Math.max(deadline - now, 0);
      sampled++;
    }
    const averageTtl = sampled === 0 ? 0 : Math.floor(sum / sampled);
    fields.push([
      `db${db.index}`,
      `keys=${db.size},expires=${db.expires.size},avg_ttl=${averageTtl}`,
    ]);
  }
  return fields;
}

type Section = readonly [name: string, title: string, fields: (server: Server) => InfoFields];

const SECTIONS: readonly Section[] = [
  ["server", "Server", serverInfo],
  ["clients", "Clients", clientsInfo],
  ["memory", "Memory", memoryInfo],
  ["persistence", "Persistence", (server) => persistenceInfo(server.persistence)],
  ["stats", "Stats", statsInfo],
  ["replication", "Replication", (server) => replicationInfo(server.replication)],
  ["cpu", "CPU", cpuInfo],
  ["modules", "Modules", () => []],
  ["commandstats", "Commandstats", commandStatsInfo],
  ["errorstats", "Errorstats", errorStatsInfo],
  ["latencystats", "Latencystats", latencyStatsInfo],
  ["cluster", "Cluster", () => [["cluster_enabled", 0]]],
  ["keyspace", "Keyspace", keyspaceInfo],
];

/** Sections `INFO` and `INFO default` print (not commandstats and latencystats). */
const DEFAULT_SECTIONS: ReadonlySet<string> = new Set(
  SECTIONS.map(([name]) => name).filter((name) =>
    name !== "commandstats" && name !== "latencystats"
  ),
);

/** INFO's text for the requested section names (none: the default set). */
export function renderInfo(server: Server, requested: readonly string[]): string {
  const wanted = new Set(requested.map((name) => name.toLowerCase()));
  const everything = wanted.has("all") || wanted.has("everything");
  const useDefault = wanted.size === 0 || wanted.has("default");
  let text = "";
  for (const [name, title, fields] of SECTIONS) {
    if (!everything && !(useDefault && DEFAULT_SECTIONS.has(name)) && !wanted.has(name)) {
      continue;
    }
    if (text !== "") text += "\r\n";
    text += `# ${title}\r\n`;
    for (const [field, value] of fields(server)) text += `${field}:${value}\r\n`;
  }
  return text;
}
