/**
 * Replication parameters the configuration keeps as text (they have no
 * typed field of their own in `Config`): read here, in one place, with
 * Redis's defaults.
 *
 * @module
 */

import type { Config } from "../config.ts";

function inert(config: Config, name: string): string | undefined {
  return config.inertParameters[name];
}

function integer(config: Config, name: string, fallback: number): number {
  const text = inert(config, name);
  const value = text === undefined ? NaN : Number(text);
  return Number.isFinite(value) ? value : fallback;
}

function flag(config: Config, name: string, fallback: boolean): boolean {
  const text = inert(config, name);
  return text === undefined ? fallback : text === "yes";
}

/** `repl-diskless-sync-delay`: seconds a diskless sync waits for more replicas (default 5). */
export function disklessSyncDelay(config: Config): number {
  return integer(config, "repl-diskless-sync-delay", 5);
}

/** `repl-diskless-sync-max-replicas`: start at once with this many waiting (0: no limit). */
export function disklessSyncMaxReplicas(config: Config): number {
  return integer(config, "repl-diskless-sync-max-replicas", 0);
}

/** `replica-announce-port` (0: the port we listen on). */
export function announcedPort(config: Config): number {
  return integer(config, "replica-announce-port", 0);
}

/** `replica-announce-ip` ("" for none). */
export function announcedIp(config: Config): string {
  return inert(config, "replica-announce-ip") ?? "";
}

/** `replica-priority` (INFO `slave_priority`, for Sentinel). */
export function replicaPriority(config: Config): number {
  return integer(config, "replica-priority", 100);
}

/** `replica-announced` (INFO `replica_announced`, for Sentinel). */
export function replicaAnnounced(config: Config): boolean {
  return flag(config, "replica-announced", true);
}
