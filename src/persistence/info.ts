/**
 * The `# Persistence` section of INFO, read from the server's AOF state.
 *
 * @module
 */

import type { Server } from "../server/server.ts";

export type InfoFields = [string, string | number][];

export function persistenceInfo(server: Server): InfoFields {
  const aof = server.aof;
  const fields: InfoFields = [
    ["loading", 0],
    ["async_loading", 0],
    ["current_cow_peak", 0],
    ["current_cow_size", 0],
    ["current_cow_size_age", 0],
    ["current_fork_perc", "0.00"],
    ["current_save_keys_processed", 0],
    ["current_save_keys_total", 0],
    ["rdb_changes_since_last_save", server.dirty],
    ["rdb_bgsave_in_progress", 0],
    ["rdb_last_save_time", Math.floor(server.startedAt / 1000)],
    ["rdb_last_bgsave_status", "ok"],
    ["rdb_last_bgsave_time_sec", -1],
    ["rdb_current_bgsave_time_sec", -1],
    ["rdb_saves", 0],
    ["rdb_last_cow_size", 0],
    ["rdb_last_load_keys_expired", 0],
    ["rdb_last_load_keys_loaded", 0],
    ["aof_enabled", aof ? 1 : 0],
    ["aof_rewrite_in_progress", 0],
    ["aof_rewrite_scheduled", 0],
    ["aof_last_rewrite_time_sec", -1],
    ["aof_current_rewrite_time_sec", -1],
    ["aof_last_bgrewrite_status", "ok"],
    ["aof_rewrites", 0],
    ["aof_rewrites_consecutive_failures", 0],
    ["aof_last_write_status", aof?.lastError ? "err" : "ok"],
    ["aof_last_cow_size", 0],
    ["module_fork_in_progress", 0],
    ["module_fork_last_cow_size", 0],
  ];
  if (aof) {
    fields.push(
      ["aof_current_size", aof.size],
      ["aof_base_size", 0],
      ["aof_pending_rewrite", 0],
      ["aof_buffer_length", 0],
      ["aof_pending_bio_fsync", 0],
      ["aof_delayed_fsync", 0],
    );
  }
  return fields;
}
