/**
 * What the replication part needs of the server it belongs to.
 *
 * The part depends on this interface, not on src/server/, as persistence
 * depends on its `PersistenceHost`: the server implements it (it is a
 * `ServerContext` plus a few things only a composition root has: the
 * listening port, a way to register a client of its own, the AOF). The
 * optional members are hooks whose absence has a safe default, so the part
 * also runs in a bare in-process server.
 *
 * @module
 */

import type { Client, ClientTransport } from "../commands/client.ts";
import type { ServerContext } from "../commands/context.ts";

export interface ReplicationHost extends ServerContext {
  /** The port clients connect to (what REPLCONF listening-port announces). */
  readonly port: number;
  /** Set while a full synchronisation loads its RDB (clients get -LOADING). */
  loading: boolean;
  /** Registers a client for a connection the server did not accept (the master link). */
  connect(transport: ClientTransport): Client;
  /** The function libraries a full synchronisation sends (their source). */
  functionLibraries?(): readonly string[];
  /** Loads a function library received in a full synchronisation. */
  loadFunction?(code: string): void;
  /** Drops every function library (a full synchronisation replaces them). */
  flushFunctions?(): void;
  /**
   * Runs `send` once everything executed so far is in the AOF as its fsync
   * policy promises (after the fsync under `always`), at once without an
   * AOF. Acknowledgements to our master go through it, as Redis sends them
   * after beforeSleep's AOF flush.
   */
  afterAofFlush?(send: () => void): void;
  /**
   * Tells the server whether it follows a master: a replica's keys do not
   * expire by themselves (reads of a key past its deadline answer "no such
   * key" without deleting it, and the active cycle stops), its master sends
   * the DELs.
   */
  replicaExpiry?(replica: boolean): void;
  /**
   * A full synchronisation replaced the data set: the AOF (if on) must be
   * started again from the new data, as Redis's restartAOFAfterSYNC does.
   * Without it, the part starts an AOF rewrite itself.
   */
  dataReplaced?(): void;
}
