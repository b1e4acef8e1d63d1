/**
 * INFO: the server's state as Redis's `# Section` / `field:value` text.
 *
 * Each section is a function from the server to its fields, so features own
 * their section (persistence/info.ts) and INFO only assembles them. Clients
 * parse this text: ioredis's ready check waits for `loading:0`.
 *
 * @module
 */

import { CLONE_VERSION } from "../config.ts";
import { type InfoFields, persistenceInfo } from "../persistence/info.ts";
import type { Server } from "./server.ts";

function humanBytes(bytes: number): string {
  const units = ["B", "K", "M", "G", "T"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes}B` : `${value.toFixed(2)}${units[unit]}`;
}

function serverInfo(server: Server): InfoFields {
  const uptime = Math.floor((Date.now() - server.startedAt) / 1000);
  return [
    ["redis_version", server.version],
    ["redis_git_sha1", "00000000"],
    ["redis_git_dirty", 0],
    ["redis_build_id", "0"],
    ["redis_mode", "standalone"],
    ["os", `${Deno.build.os} ${Deno.build.arch}`],
    ["arch_bits", 64],
    ["monotonic_clock", "POSIX clock_gettime"],
    ["multiplexing_api", "epoll"],
    ["atomicvar_api", "c11-builtin"],
    ["gcc_version", "0.0.0"],
    ["process_id", Deno.pid],
    ["process_supervised", "no"],
    ["run_id", server.runId],
    ["tcp_port", server.port],
    ["server_time_usec", Date.now() * 1000],
    ["uptime_in_seconds", uptime],
    ["uptime_in_days", Math.floor(uptime / 86400)],
    ["hz", 10],
    ["configured_hz", 10],
    ["lru_clock", Math.floor(Date.now() / 1000) & 0xffffff],
    ["executable", Deno.execPath()],
    ["config_file", ""],
    ["io_threads_active", 0],
    ["clone_version", CLONE_VERSION],
    ["runtime", `deno ${Deno.version.deno}`],
  ];
}

function clientsInfo(server: Server): InfoFields {
  let blocked = 0;
  for (const client of server.clients.values()) if (client.blocked) blocked++;
  return [
    ["connected_clients", server.clients.size],
    ["cluster_connections", 0],
    ["maxclients", 10000],
    ["client_recent_max_input_buffer", 0],
    ["client_recent_max_output_buffer", 0],
    ["blocked_clients", blocked],
    ["tracking_clients", 0],
    ["clients_in_timeout_table", blocked],
  ];
}

function memoryInfo(): InfoFields {
  const memory = Deno.memoryUsage();
  const used = memory.heapUsed + memory.external;
  return [
    ["used_memory", used],
    ["used_memory_human", humanBytes(used)],
    ["used_memory_rss", memory.rss],
    ["used_memory_rss_human", humanBytes(memory.rss)],
    ["used_memory_peak", memory.heapTotal],
    ["used_memory_peak_human", humanBytes(memory.heapTotal)],
    ["used_memory_dataset", memory.heapUsed],
    ["maxmemory", 0],
    ["maxmemory_human", "0B"],
    ["maxmemory_policy", "noeviction"],
    ["mem_fragmentation_ratio", (memory.rss / Math.max(used, 1)).toFixed(2)],
    ["mem_allocator", "v8"],
  ];
}

function statsInfo(server: Server): InfoFields {
  const stats = server.stats;
  let channels = 0;
  let patterns = 0;
  for (const client of server.clients.values()) {
    channels += client.channels.size;
    patterns += client.patterns.size;
  }
  return [
    ["total_connections_received", stats.connectionsReceived],
    ["total_commands_processed", stats.commandsProcessed],
    ["instantaneous_ops_per_sec", 0],
    ["total_net_input_bytes", stats.netInputBytes],
    ["total_net_output_bytes", stats.netOutputBytes],
    ["rejected_connections", stats.rejectedConnections],
    ["expired_keys", server.keyspace.expiredKeys],
    ["evicted_keys", 0],
    ["keyspace_hits", stats.keyspaceHits],
    ["keyspace_misses", stats.keyspaceMisses],
    ["pubsub_channels", channels],
    ["pubsub_patterns", patterns],
    ["total_forks", 0],
    ["total_error_replies", 0],
  ];
}

function replicationInfo(server: Server): InfoFields {
  return [
    ["role", "master"],
    ["connected_slaves", 0],
    ["master_failover_state", "no-failover"],
    ["master_replid", server.runId],
    ["master_replid2", "0000000000000000000000000000000000000000"],
    ["master_repl_offset", 0],
    ["second_repl_offset", -1],
    ["repl_backlog_active", 0],
    ["repl_backlog_size", 1048576],
    ["repl_backlog_first_byte_offset", 0],
    ["repl_backlog_histlen", 0],
  ];
}

function cpuInfo(): InfoFields {
  return [
    ["used_cpu_sys", "0.000000"],
    ["used_cpu_user", "0.000000"],
    ["used_cpu_sys_children", "0.000000"],
    ["used_cpu_user_children", "0.000000"],
  ];
}

function keyspaceInfo(server: Server): InfoFields {
  const fields: InfoFields = [];
  for (const db of server.keyspace.databases) {
    if (db.size === 0) continue;
    fields.push([`db${db.index}`, `keys=${db.size},expires=${db.expires.size},avg_ttl=0`]);
  }
  return fields;
}

const SECTIONS: [string, (server: Server) => InfoFields][] = [
  ["server", serverInfo],
  ["clients", clientsInfo],
  ["memory", memoryInfo],
  ["persistence", (server) => persistenceInfo(server.persistence)],
  ["stats", statsInfo],
  ["replication", replicationInfo],
  ["cpu", cpuInfo],
  ["modules", () => []],
  ["errorstats", () => []],
  ["cluster", () => [["cluster_enabled", 0]]],
  ["keyspace", keyspaceInfo],
];

const DEFAULT_SECTIONS = new Set(SECTIONS.map(([name]) => name));

/** INFO's text for the requested section names (none: the default set). */
export function renderInfo(server: Server, requested: readonly string[]): string {
  const wanted = new Set(requested.map((name) => name.toLowerCase()));
  const everything = wanted.has("all") || wanted.has("everything");
  const useDefault = wanted.size === 0 || wanted.has("default");
  const parts: string[] = [];
  for (const [name, fields] of SECTIONS) {
    if (!everything && !(useDefault && DEFAULT_SECTIONS.has(name)) && !wanted.has(name)) {
      continue;
    }
    const title = name === "cpu" ? "CPU" : name[0]!.toUpperCase() + name.slice(1);
    const lines = fields(server).map(([field, value]) => `${field}:${value}`);
    parts.push(`# ${title}\r\n${lines.map((line) => line + "\r\n").join("")}`);
  }
  return parts.join("\r\n");
}
