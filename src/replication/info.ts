/**
 * INFO's Replication section, field for field and in the order Redis 7.0
 * prints it for a master and for a replica (the transfer fields only
 * during a sync, `master_link_down_since_seconds` only while the link is
 * down), plus the replication figures of the Stats and Memory sections.
 *
 * Sentinel reads this text to learn a master's replicas (the `slaveN`
 * lines), a replica's link (`master_link_status`,
 * `master_link_down_since_seconds`), priority and offset, so the formats
 * are Redis's exactly.
 *
 * @module
 */

import type { InfoFields } from "../persistence/info.ts";
import type { Replication } from "./replication.ts";
import { replicaAnnounced, replicaPriority } from "./settings.ts";

/** Whole seconds between two times in ms, as Redis subtracts unix times. */
function secondsBetween(earlier: number, later: number): number {
  return Math.floor(later / 1000) - Math.floor(earlier / 1000);
}

/** `%.2f` of a percentage, with C's `-0.00` for a negative zero. */
function percentage(part: number, whole: number): string {
  const value = part / whole * 100;
  if (Object.is(value, -0)) return "-0.00";
  return value.toFixed(2);
}

/** INFO replication. */
export function replicationInfo(replication: Replication): InfoFields {
  const config = replication.host.config;
  const now = Date.now();
  const fields: InfoFields = [];
  const master = replication.master;
  if (master === undefined) {
    fields.push(["role", "master"]);
  } else {
    const link = replication.link;
    const up = replication.linkUp;
    const syncing = link?.state === "sync";
    fields.push(
      ["role", "slave"],
      ["master_host", master.host],
      ["master_port", master.port],
      ["master_link_status", up ? "up" : "down"],
      [
        "master_last_io_seconds_ago",
        link?.client !== undefined ? secondsBetween(link.lastIo, now) : -1,
      ],
      ["master_sync_in_progress", syncing ? 1 : 0],
      ["slave_read_repl_offset", replication.replicaReadOffset],
      ["slave_repl_offset", replication.replicaOffset],
    );
    if (syncing && link !== undefined) {
      fields.push(
        ["master_sync_total_bytes", link.transferSize],
        ["master_sync_read_bytes", link.transferRead],
        ["master_sync_left_bytes", link.transferSize - link.transferRead],
        ["master_sync_perc", percentage(link.transferRead, link.transferSize)],
        ["master_sync_last_io_seconds_ago", secondsBetween(link.transferLastIo, now)],
      );
    }
    if (!up) {
      const since = replication.linkDownSince;
      fields.push([
        "master_link_down_since_seconds",
        since === 0 ? -1 : secondsBetween(since, now),
      ]);
    }
    fields.push(
      ["slave_priority", replicaPriority(config)],
      ["slave_read_only", config.replicaReadOnly ? 1 : 0],
      ["replica_announced", replicaAnnounced(config) ? 1 : 0],
    );
  }
  fields.push(["connected_slaves", replication.replicaCount]);
  let index = 0;
  for (const replica of replication.replicas) {
    fields.push([
      `slave${index++}`,
      `ip=${replica.ip},port=${replica.settings.listeningPort},state=${replica.state},offset=${replica.ackOffset},lag=${
        secondsBetween(replica.ackTime, now)
      }`,
    ]);
  }
  const backlog = replication.backlog;
  fields.push(
    ["master_failover_state", replication.failoverState],
    ["master_replid", replication.replid],
    ["master_replid2", replication.replid2],
    ["master_repl_offset", replication.offset],
    ["second_repl_offset", replication.secondReplidOffset],
    ["repl_backlog_active", backlog === undefined ? 0 : 1],
    ["repl_backlog_size", config.replBacklogSize],
    ["repl_backlog_first_byte_offset", backlog === undefined ? 0 : backlog.firstByteOffset],
    ["repl_backlog_histlen", backlog === undefined ? 0 : backlog.histlen],
  );
  return fields;
}

/** Replication's figures in the Stats and Memory sections, by INFO field name. */
export interface ReplicationStatsFields {
  sync_full: number;
  sync_partial_ok: number;
  sync_partial_err: number;
  total_net_repl_input_bytes: number;
  total_net_repl_output_bytes: number;
  mem_replication_backlog: number;
  mem_clients_slaves: number;
}

/** The replication figures of INFO's Stats and Memory sections. */
export function replicationStatsInfo(replication: Replication): ReplicationStatsFields {
  const stats = replication.stats;
  let replicaOutput = 0;
  for (const replica of replication.replicas) replicaOutput += replica.pendingBytes;
  return {
    sync_full: stats.syncFull,
    sync_partial_ok: stats.syncPartialOk,
    sync_partial_err: stats.syncPartialErr,
    total_net_repl_input_bytes: stats.inputBytes + (replication.link?.bytesRead ?? 0),
    total_net_repl_output_bytes: stats.outputBytes,
    mem_replication_backlog: replication.backlog?.size ?? 0,
    mem_clients_slaves: replicaOutput,
  };
}
