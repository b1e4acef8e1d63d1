/**
 * Replication: the server's `replication` part (replication.ts) and what
 * INFO shows of it (info.ts). See replication.ts for the design.
 *
 * @module
 */

export { NO_REPLICATION_ID, Replication, type ReplicationStatistics } from "./replication.ts";
export type { ReplicationHost } from "./host.ts";
export { replicationInfo, replicationStatsInfo } from "./info.ts";
