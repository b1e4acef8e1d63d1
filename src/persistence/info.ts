/**
 * The `# Persistence` section of INFO, with Redis 7.0's fields in Redis's
 * order: `rdb_*` for dump.rdb (SAVE, BGSAVE, the last load), `aof_*` for
 * the append-only file and its rewrites, `current_save_keys_*` for the
 * background work running now. Nothing forks here (see snapshot.ts), so
 * the copy-on-write and fork fields are always zero.
 *
 * @module
 */

import type { Persistence } from "./lifecycle.ts";

export type InfoFields = [string, string | number][];

export function persistenceInfo<T>(persistence: Persistence<T>): InfoFields {
  const server = persistence.server;
  const aof = server.aof;
  const rewrite = persistence.rewrite;
  const rewriteSeconds = rewrite ? Math.floor((performance.now() - rewrite.startedAt) / 1000) : -1;
  const lastRewriteStatus = persistence.lastRewriteOk ? "ok" : "err";
  const bgsave = persistence.bgsave;
  const bgsaveSeconds = bgsave ? Math.floor((performance.now() - bgsave.startedAt) / 1000) : -1;
  const fields: InfoFields = [
    ["loading", server.loading ? 1 : 0],
    ["async_loading", 0],
    ["current_cow_peak", 0],
    ["current_cow_size", 0],
    ["current_cow_size_age", 0],
    ["current_fork_perc", "0.00"],
    ["current_save_keys_processed", bgsave?.keysProcessed ?? rewrite?.keysProcessed ?? 0],
    ["current_save_keys_total", bgsave?.keysTotal ?? rewrite?.keysTotal ?? 0],
    ["rdb_changes_since_last_save", server.dirty - persistence.dirtyAtLastSave],
    ["rdb_bgsave_in_progress", bgsave ? 1 : 0],
    ["rdb_last_save_time", persistence.lastSaveTime],
    ["rdb_last_bgsave_status", persistence.lastBgsaveOk ? "ok" : "err"],
    ["rdb_last_bgsave_time_sec", persistence.lastBgsaveSeconds],
    ["rdb_current_bgsave_time_sec", bgsaveSeconds],
    ["rdb_saves", persistence.rdbSaves],
    ["rdb_last_cow_size", 0],
    ["rdb_last_load_keys_expired", persistence.lastLoadKeysExpired],
    ["rdb_last_load_keys_loaded", persistence.lastLoadKeysLoaded],
    ["aof_enabled", aof ? 1 : 0],
    ["aof_rewrite_in_progress", rewrite ? 1 : 0],
    ["aof_rewrite_scheduled", persistence.rewriteScheduled ? 1 : 0],
    ["aof_last_rewrite_time_sec", persistence.lastRewriteSeconds],
    ["aof_current_rewrite_time_sec", rewriteSeconds],
    ["aof_last_bgrewrite_status", lastRewriteStatus],
    ["aof_rewrites", persistence.rewrites],
    ["aof_rewrites_consecutive_failures", persistence.consecutiveFailures],
    ["aof_last_write_status", aof?.error === undefined ? "ok" : "err"],
    ["aof_last_cow_size", 0],
    ["module_fork_in_progress", 0],
    ["module_fork_last_cow_size", 0],
  ];
  if (aof) {
    fields.push(
      ["aof_current_size", aof.size],
      ["aof_base_size", persistence.baseSize],
      ["aof_pending_rewrite", persistence.rewriteScheduled ? 1 : 0],
      ["aof_buffer_length", aof.bufferedBytes],
      ["aof_pending_bio_fsync", aof.syncInFlight ? 1 : 0],
      ["aof_delayed_fsync", 0],
    );
  }
  const loading = persistence.loadProgress;
  if (server.loading && loading) {
    const elapsed = (Date.now() - loading.startedAt) / 1000;
    const fraction = loading.totalBytes > 0 ? loading.loadedBytes / loading.totalBytes : 0;
    const rate = elapsed > 0 ? loading.loadedBytes / elapsed : 0;
    fields.push(
      ["loading_start_time", Math.floor(loading.startedAt / 1000)],
      ["loading_total_bytes", loading.totalBytes],
      ["loading_rdb_used_mem", 0],
      ["loading_loaded_bytes", loading.loadedBytes],
      ["loading_loaded_perc", (fraction * 100).toFixed(2)],
      [
        "loading_eta_seconds",
        rate > 0 ? Math.round((loading.totalBytes - loading.loadedBytes) / rate) : 1,
      ],
    );
  }
  return fields;
}
