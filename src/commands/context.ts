/**
 * What the command layer sees of the server: the `ServerContext` interface
 * and the small interfaces its parts implement.
 *
 * The network server (src/server/server.ts) implements `ServerContext`; the
 * command layer depends only on this interface, which keeps the folder
 * graph one way (protocol and store below commands, server and persistence
 * above). It is also the list of everything a handler may reach through
 * `client.server`, in one place.
 *
 * State that belongs to a feature lives in that feature's typed part, with
 * one owner you can name, as Redis's `redisDb.watched_keys` or
 * `server.pubsub_channels`: `watches` (transactions.ts), `pubsub`
 * (pubsub.ts), `blocking` (blocking.ts), `scanCursors` (scan.ts),
 * `persistence` (persistence/lifecycle.ts, seen here as
 * `PersistenceControl`). Parts that must hear about key changes,
 * whole-database changes, disconnects or RESET implement `KeyspaceEvents`,
 * and the server calls them in the order it built them.
 *
 * @module
 */

import type { AccessControl } from "../acl/mod.ts";
import type { Config, ConfigChangeListeners } from "../config.ts";
import type { Logger } from "../log.ts";
import type { Database, Keyspace } from "../store/keyspace.ts";
import type { TableCatalogue } from "./acl.ts";
import type { Blocking } from "./blocking.ts";
import type { ServerOperations } from "./operations/mod.ts";
import type { Client } from "./client.ts";
import type { Executor } from "./executor.ts";
import type { PubSub } from "./pubsub.ts";
import type { ReplicationControl } from "./replication.ts";
import type { CommandTable } from "./registry.ts";
import type { ScanCursors } from "./scan.ts";
import type { ScriptingRuntime } from "./scripting/runtime.ts";
import type { Watches } from "./transactions.ts";

/** What a part of the server may want to hear about; every member is optional. */
export interface KeyspaceEvents {
  /**
   * A command (or expiry) changed `key` in `db`. `signalled` is false for
   * the changes Redis makes without signalModifiedKey (a stream's consumer
   * groups, XSETID): WATCH and client tracking ignore those.
   */
  keyChanged?(
    db: Database,
    key: string,
    event: string,
    eventClass: string,
    signalled: boolean,
  ): void;
  /** Every key of `db` may have changed at once (FLUSHDB, FLUSHALL, SWAPDB). */
  databaseChanged?(db: Database): void;
  /** `client` disconnected. */
  clientClosed?(client: Client): void;
  /** RESET returned `client` to its state right after connecting. */
  clientReset?(client: Client): void;
}

/** Counters INFO reports. */
export interface ServerStats {
  connectionsReceived: number;
  commandsProcessed: number;
  rejectedConnections: number;
  keyspaceHits: number;
  keyspaceMisses: number;
  netInputBytes: number;
  netOutputBytes: number;
}

/** Says whether keys changed since it was made (MIGRATE, between its DUMP and its DEL). */
export interface KeyTracker {
  /** Whether `key` changed (or its database did) since tracking began. */
  changed(key: string): boolean;
  /** Stops tracking. */
  release(): void;
}

/** What SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE, FLUSHALL and MIGRATE need of persistence. */
export interface PersistenceControl {
  /** An AOF rewrite is running. */
  readonly rewriteInProgress: boolean;
  /** Start a rewrite as soon as nothing else runs in the background. */
  rewriteScheduled: boolean;
  /** Consecutive failed rewrites (a scheduled BGREWRITEAOF resets them, as in Redis). */
  consecutiveFailures: number;
  /** Starts a background rewrite; false (after logging why) if it cannot start. */
  startRewrite(): boolean;
  /** A BGSAVE is running. */
  readonly bgsaveInProgress: boolean;
  /** Start a BGSAVE as soon as nothing else runs in the background. */
  bgsaveScheduled: boolean;
  /** Starts a BGSAVE; false (after logging why) if it cannot start. */
  startBackgroundSave(): boolean;
  /** SAVE: writes dump.rdb synchronously; false if it failed. */
  saveNow(): boolean;
  /** Unix time in seconds of the last successful save (LASTSAVE). */
  readonly lastSaveTime: number;
  /** Tells whether keys of `db` change from now on (MIGRATE). */
  trackKeys(db: Database, keys: Iterable<string>): KeyTracker;
  /** FLUSHALL happened: stops a BGSAVE and, with save points, saves at once. */
  flushedAll(): void;
  /** DEBUG RELOAD: save, empty, load dump.rdb again; the error reply when it fails. */
  reloadNow(options: { save: boolean; flush: boolean; merge: boolean }): string | undefined;
}

/** The server as commands see it. */
export interface ServerContext {
  readonly config: Config;
  readonly log: Logger;
  readonly keyspace: Keyspace;
  readonly clients: ReadonlyMap<number, Client>;
  readonly stats: ServerStats;
  readonly version: string;
  /** Changes since start; a command that moves it changed data. */
  dirty: number;
  /** Set while the AOF cannot be written: writes are refused with it (MISCONF). */
  readonly writeError: string | undefined;
  /** True while the AOF is being replayed at start-up. */
  readonly loading: boolean;

  readonly commands: CommandTable;
  readonly executor: Executor;
  readonly watches: Watches;
  readonly pubsub: PubSub;
  readonly blocking: Blocking;
  readonly scanCursors: ScanCursors;
  readonly persistence: PersistenceControl;
  /** Users and their permissions (Redis's ACL). */
  readonly acl: AccessControl;
  /** The command table as the ACL engine sees it. */
  readonly aclCatalogue: TableCatalogue;
  /** Statistics, slow log, latency monitor, MONITOR, tracking, pauses, reply modes. */
  readonly operations: ServerOperations;
  /** EVAL scripts, function libraries and the running script (scripting/runtime.ts). */
  readonly scripts: ScriptingRuntime;
  /** What CONFIG SET runs to apply changes (pass its `apply` to `configSet`). */
  readonly configListeners: ConfigChangeListeners;
  /** Replication: master link, attached replicas, WAIT, FAILOVER (replication/replication.ts). */
  readonly replication: ReplicationControl;

  /** See Client.changed. */
  keyChanged(
    db: Database,
    key: string,
    event: string,
    eventClass: string,
    signalled?: boolean,
  ): void;
  /** Records that every key of `db` may have changed (FLUSHDB, SWAPDB). */
  databaseChanged(db: Database): void;
  /** Tells the parts that RESET returned `client` to its initial state. */
  clientReset(client: Client): void;
  /** Marks a client as having replies to send at the end of the batch. */
  markPending(client: Client): void;
  /** Ends a batch outside a command (a timer fired): writes the AOF, sends replies. */
  flush(): void;
  /** Forgets a client at once (it was cut off, e.g. over its output limit). */
  disconnect(client: Client): void;
  /** INFO's text for the given section names (none: the default sections). */
  info(sections: readonly string[]): string;
  /** Starts shutting down (SHUTDOWN); false if this server cannot (no handler). */
  shutdown(): boolean;
}
