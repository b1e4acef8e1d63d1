/**
 * The server's replication part: replication ids and offsets, the backlog,
 * the replicas attached to us, the link with our master, WAIT and
 * FAILOVER (Redis's replication.c, in one owner).
 *
 * As a master, it is one of the executor's effect sinks: the effects of
 * every completed unit (the same ones the AOF gets: MULTI/EXEC around
 * transactions and scripts, expiry DELs, blocking pops as pops) are
 * encoded as RESP with a SELECT whenever the database changes, gathered
 * for the current turn of the event loop, and then appended to the backlog
 * and sent to every replica in one write each. Nothing is encoded while
 * no replica ever attached (no backlog), as Redis does. Every
 * `repl-ping-replica-period` seconds a PING goes down the stream too.
 *
 * As a replica (REPLICAOF host port), effects of its own are not passed on
 * (Redis 4+ does not either); instead the bytes of the master's stream,
 * once applied, are appended to our backlog and passed to our own
 * replicas unchanged, so a chain of replicas shares one replication id and
 * one offset, and any of them can continue any other after a failover.
 *
 * Ids follow Redis's PSYNC2: `replid` is the history we serve, `replid2`
 * the one we served before a promotion, valid up to `second_repl_offset`,
 * so a promoted replica lets its former siblings continue (+CONTINUE with
 * its new id) instead of resyncing. A replica adopts its master's id.
 *
 * A once-a-second cron does what replicationCron does: reconnect a lost
 * link, acknowledge the offset to our master, time out silent links and
 * replicas, send newlines to replicas waiting for their RDB, ping the
 * replicas, free a backlog unused for `repl-backlog-ttl`, and advance a
 * failover.
 *
 * @module
 */

import type { BlockedState, Client } from "../commands/client.ts";
import type { KeyspaceEvents } from "../commands/context.ts";
import { describeClient } from "../commands/client_info.ts";
import {
  CommandError,
  FAILOVER_FORCE_NEEDS_TARGET,
  FAILOVER_IN_PROGRESS,
  FAILOVER_NEEDS_REPLICAS,
  FAILOVER_ON_REPLICA,
  FAILOVER_REPLID_MISMATCH,
  FAILOVER_TARGET_NOT_ONLINE,
  FAILOVER_TARGET_NOT_REPLICA,
  NO_FAILOVER_IN_PROGRESS,
  NO_MASTER_LINK,
  REPLICAOF_WHILE_FAILING_OVER,
  SYNC_WHILE_FAILING_OVER,
  SYNC_WITH_PENDING_OUTPUT,
  UNBLOCKED_ROLE_CHANGE,
} from "../commands/errors.ts";
import type { EffectSink } from "../commands/executor.ts";
import { randomReplicationId } from "../commands/operations/mod.ts";
import type {
  FailoverRequest,
  ReplicaAddress,
  ReplicationControl,
  RoleInfo,
} from "../commands/replication.ts";
import type { Logger } from "../log.ts";
import { ReplyWriter } from "../protocol/reply_writer.ts";
import type { RdbAuxField } from "../rdb/mod.ts";
import { AttachedReplica, type ReplicaSettings } from "./attached_replica.ts";
import { ReplicationBacklog } from "./backlog.ts";
import { FullSync, type FullSyncOwner } from "./full_sync.ts";
import type { ReplicationHost } from "./host.ts";
import { MasterLink, type MasterLinkOwner, type SyncOutcome } from "./master_link.ts";
import { disklessSyncDelay, disklessSyncMaxReplicas } from "./settings.ts";

/** The id Redis shows when there is no second one. */
export const NO_REPLICATION_ID = "0000000000000000000000000000000000000000";

/** FAILOVER's state, as INFO `master_failover_state` names it. */
export type FailoverState = "no-failover" | "waiting-for-sync" | "failover-in-progress";

/** Counters INFO stats reports. */
export interface ReplicationStatistics {
  syncFull: number;
  syncPartialOk: number;
  syncPartialErr: number;
  /** Bytes read from our master, RDB included. */
  inputBytes: number;
  /** Stream and RDB bytes sent to replicas. */
  outputBytes: number;
}

const ENCODER = new TextEncoder();
/** How often the part looks at what is due (the diskless delay, the cron). */
const TICK_MS = 100;
/** Ticks per cron run: replicationCron runs once a second. */
const TICKS_PER_CRON = 1000 / TICK_MS;
const NEWLINE = ENCODER.encode("\n");
const PING: readonly string[] = ["PING"];
const GETACK: readonly string[] = ["REPLCONF", "GETACK", "*"];

/** A client waiting in WAIT. */
class WaitState implements BlockedState {
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly part: Replication,
    readonly client: Client,
    readonly wanted: number,
    readonly offset: number,
    readonly deadline: number,
  ) {
    if (deadline !== 0) {
      const delay = Math.max(0, deadline - Date.now());
      this.#timer = setTimeout(() => this.onTimeout(), Math.min(delay, 2 ** 31 - 1));
    }
  }

  /** Enough replicas acknowledged: reply and stop waiting. */
  satisfied(): boolean {
    return this.part.acknowledged(this.offset) >= this.wanted;
  }

  onTimeout(): void {
    this.reply();
    this.client.server.flush();
  }

  reply(): void {
    const client = this.client;
    if (client.blocked !== this) return;
    client.reply.integer(this.part.acknowledged(this.offset));
    this.dispose();
    client.server.markPending(client);
    queueMicrotask(() => {
      if (!client.closed && client.blocked === undefined) client.transport.resume();
    });
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.part.forgetWaiter(this);
    if (this.client.blocked === this) this.client.blocked = undefined;
  }
}

export class Replication
  implements ReplicationControl, EffectSink, KeyspaceEvents, FullSyncOwner, MasterLinkOwner {
  readonly host: ReplicationHost;
  readonly stats: ReplicationStatistics = {
    syncFull: 0,
    syncPartialOk: 0,
    syncPartialErr: 0,
    inputBytes: 0,
    outputBytes: 0,
  };
  /** The id we served before a promotion, and the last offset it is valid for. */
  replid2 = NO_REPLICATION_ID;
  secondReplidOffset = -1;
  backlog: ReplicationBacklog | undefined;
  /** FAILOVER's state and target. */
  failoverState: FailoverState = "no-failover";
  #failoverTarget: ReplicaAddress | undefined;
  #failoverEnd = 0;
  #failoverForce = false;

  /** Attached replicas in the order they attached (INFO's slave0, slave1...). */
  readonly #replicas = new Map<Client, AttachedReplica>();
  /** What clients said with REPLCONF before SYNC/PSYNC. */
  readonly #settings = new WeakMap<Client, ReplicaSettings>();
  readonly #fullSyncs = new Set<FullSync>();
  #fullSyncId = 0;
  /** Replicas waiting for a diskless sync to start (repl-diskless-sync-delay). */
  #waitingForDiskless: AttachedReplica[] = [];
  #waitingSince = 0;
  #noReplicasSince = Date.now();
  #offset = 0;
  /** The stream of this turn of the event loop, not yet in the backlog. */
  readonly #stream = new ReplyWriter();
  #selectedDb = -1;
  #flushScheduled = false;
  #getAckWanted = false;
  readonly #waiters = new Set<WaitState>();

  /** The master we follow (REPLICAOF), undefined as a master. */
  master: ReplicaAddress | undefined;
  link: MasterLink | undefined;
  /** What PSYNC continues from (Redis's cached master). */
  #continueFrom: { replid: string; offset: number } | undefined;
  /** When the link went down (ms), 0 if it never was up since REPLICAOF. */
  linkDownSince = 0;
  /** The RDB a full sync is loading: the id and offset the master told. */
  #incoming: { replid: string; offset: number } | undefined;
  #nextAttempt = 0;
  #database = 0;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #ticks = 0;
  #pingCountdown = 0;

  constructor(host: ReplicationHost) {
    this.host = host;
  }

  get log(): Logger {
    return this.host.log;
  }

  /** `master_replid`, kept where DEBUG CHANGE-REPL-ID renews it. */
  get replid(): string {
    return this.host.operations.replicationId;
  }

  set replid(value: string) {
    this.host.operations.replicationId = value;
  }

  /** `master_repl_offset`, counting the stream of this turn not yet flushed. */
  get offset(): number {
    return this.#offset + this.#stream.length;
  }

  get isReplica(): boolean {
    return this.master !== undefined;
  }

  get linkUp(): boolean {
    return this.link?.state === "connected";
  }

  get failingOver(): boolean {
    return this.failoverState === "failover-in-progress";
  }

  get restrictsCommands(): boolean {
    const config = this.host.config;
    return this.master !== undefined || this.#replicas.size > 0 ||
      (config.minReplicasToWrite > 0 && config.minReplicasMaxLag > 0);
  }

  /** Attached replicas, in order. */
  get replicas(): IterableIterator<AttachedReplica> {
    return this.#replicas.values();
  }

  get replicaCount(): number {
    return this.#replicas.size;
  }

  isMasterClient(client: Client): boolean {
    return this.link !== undefined && this.link.client === client;
  }

  isReplicaClient(client: Client): boolean {
    return this.#replicas.has(client);
  }

  // ---------------------------------------------------------------------------
  // Life cycle

  /** Starts the cron and, with `replicaof` in the configuration, the link. */
  start(): void {
    this.#ticker ??= setInterval(() => this.#tick(), TICK_MS);
    const target = this.host.config.replicaof;
    if (target !== undefined && this.master === undefined) this.#setMaster(target, false);
  }

  /** Stops everything (shutdown). */
  stop(): void {
    clearInterval(this.#ticker);
    this.#ticker = undefined;
    const link = this.link;
    this.link = undefined;
    link?.close();
    for (const sync of [...this.#fullSyncs]) sync.cancel();
    for (const waiter of [...this.#waiters]) waiter.dispose();
  }

  // ---------------------------------------------------------------------------
  // The stream (master side)

  /** EffectSink: one command of a completed unit. */
  append(dbIndex: number, args: readonly string[]): void {
    if (this.master !== undefined || this.backlog === undefined) return;
    const stream = this.#stream;
    if (dbIndex !== this.#selectedDb) {
      stream.bulkArray(["SELECT", String(dbIndex)]);
      this.#selectedDb = dbIndex;
    }
    stream.bulkArray(args);
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flushStream();
    });
  }

  /** Moves the turn's stream into the backlog and to the replicas. */
  #flushStream(): void {
    if (this.#getAckWanted) {
      this.#getAckWanted = false;
      if (this.backlog !== undefined && this.master === undefined) this.#stream.bulkArray(GETACK);
    }
    if (this.#stream.length === 0) return;
    this.#propagate(this.#stream.take());
  }

  /** Stream bytes into the backlog and to every replica past its wait for an RDB. */
  #propagate(bytes: Uint8Array): void {
    this.backlog?.append(bytes);
    this.#offset += bytes.byteLength;
    for (const replica of this.#replicas.values()) {
      if (replica.state === "wait_bgsave" || replica.client.closed) continue;
      replica.send(bytes);
      this.stats.outputBytes += bytes.byteLength;
    }
  }

  #createBacklog(): void {
    this.backlog = new ReplicationBacklog(this.host.config.replBacklogSize, this.#offset);
  }

  // ---------------------------------------------------------------------------
  // Replicas (master side)

  configureReplica(
    client: Client,
    option: "listening-port" | "ip-address" | "capa",
    value: string,
  ): void {
    let settings = this.#settings.get(client);
    if (settings === undefined) {
      settings = { listeningPort: 0, announcedIp: "", capaEof: false, capaPsync2: false };
      this.#settings.set(client, settings);
    }
    if (option === "listening-port") settings.listeningPort = Number(value);
    else if (option === "ip-address") settings.announcedIp = value;
    else if (value.toLowerCase() === "eof") settings.capaEof = true;
    else if (value.toLowerCase() === "psync2") settings.capaPsync2 = true;
  }

  sync(
    client: Client,
    psync: { replid: string; offset: number; failover: boolean } | undefined,
  ): void {
    if (this.#replicas.has(client)) return;
    if (psync?.failover) {
      if (psync.replid.toLowerCase() !== this.replid) {
        throw new CommandError(FAILOVER_REPLID_MISMATCH);
      }
      this.#unsetMaster();
      this.log.notice(`MASTER MODE enabled (failover request from '${describeClient(client)}')`);
    }
    if (this.failoverState !== "no-failover") throw new CommandError(SYNC_WHILE_FAILING_OVER);
    if (this.master !== undefined && !this.linkUp) throw new CommandError(NO_MASTER_LINK);
    if (client.reply.length > 0 || client.transport.pendingBytes > 0) {
      throw new CommandError(SYNC_WITH_PENDING_OUTPUT);
    }
    const settings = this.#settings.get(client) ??
      { listeningPort: 0, announcedIp: "", capaEof: false, capaPsync2: false };
    const name = replicaName(client, settings);
    this.log.notice(`Replica ${name} asks for synchronization`);
    if (psync !== undefined) {
      if (this.#continue(client, settings, psync.replid, psync.offset)) {
        this.stats.syncPartialOk++;
        return;
      }
      if (!psync.replid.startsWith("?")) this.stats.syncPartialErr++;
    }
    this.stats.syncFull++;
    const replica = new AttachedReplica(client, settings, psync === undefined);
    this.#attach(replica);
    if (this.#replicas.size === 1 && this.backlog === undefined) {
      // A backlog made from scratch has no past: a new id, and no second one.
      this.replid = randomReplicationId();
      this.#clearReplid2();
      this.#createBacklog();
      this.log.notice(
        `Replication backlog created, my new replication IDs are '${this.replid}' and '${this.replid2}'`,
      );
    }
    this.#scheduleFullSync(replica);
  }

  #attach(replica: AttachedReplica): void {
    const client = replica.client;
    client.kind = "replica";
    this.#replicas.set(client, replica);
  }

  /** masterTryPartialResynchronization: true if `+CONTINUE` was sent. */
  #continue(client: Client, settings: ReplicaSettings, replid: string, offset: number): boolean {
    const log = this.log;
    const id = replid.toLowerCase();
    const name = replicaName(client, settings);
    if (id !== this.replid && (id !== this.replid2 || offset > this.secondReplidOffset)) {
      if (replid.startsWith("?")) {
        log.notice(`Full resync requested by replica ${name}`);
      } else if (id !== this.replid && id !== this.replid2) {
        log.notice(
          `Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '${replid}', my replication IDs are '${this.replid}' and '${this.replid2}')`,
        );
      } else {
        log.notice(
          `Partial resynchronization not accepted: Requested offset for second ID was ${offset}, but I can reply up to ${this.secondReplidOffset}`,
        );
      }
      return false;
    }
    this.#flushStream();
    const backlog = this.backlog;
    if (backlog === undefined || !backlog.covers(offset)) {
      log.notice(
        `Unable to partial resync with replica ${name} for lack of backlog (Replica request was: ${offset}).`,
      );
      if (offset > this.offset) {
        log.warning(
          `Warning: replica ${name} tried to PSYNC with an offset that is greater than the master replication offset.`,
        );
      }
      return false;
    }
    const replica = new AttachedReplica(client, settings, false);
    this.#attach(replica);
    const reply = settings.capaPsync2 ? `+CONTINUE ${this.replid}\r\n` : "+CONTINUE\r\n";
    replica.writeDirect(ENCODER.encode(reply));
    const missing = backlog.readFrom(offset);
    if (missing.byteLength > 0) replica.writeDirect(missing);
    this.stats.outputBytes += missing.byteLength;
    replica.continued();
    log.notice(
      `Partial resynchronization request from ${name} accepted. Sending ${missing.byteLength} bytes of backlog starting from offset ${offset}.`,
    );
    return true;
  }

  #scheduleFullSync(replica: AttachedReplica): void {
    const config = this.host.config;
    const diskless = config.replDisklessSync && replica.settings.capaEof && !replica.preSync;
    for (const sync of this.#fullSyncs) {
      if (sync.joinable && sync.diskless === diskless) {
        sync.join(replica);
        replica.fullSync = sync;
        this.log.notice("Waiting for end of BGSAVE for SYNC");
        return;
      }
    }
    if (diskless && disklessSyncDelay(config) > 0) {
      if (this.#waitingForDiskless.length === 0) this.#waitingSince = Date.now();
      this.#waitingForDiskless.push(replica);
      this.log.notice("Delay next BGSAVE for diskless SYNC");
      return;
    }
    this.#startFullSync([replica], diskless);
  }

  #startFullSync(replicas: readonly AttachedReplica[], diskless: boolean): void {
    const host = this.host;
    const source = {
      keyspace: host.keyspace,
      log: host.log,
      config: host.config,
      get dirty() {
        return host.dirty;
      },
      functionLibraries: () => host.functionLibraries?.() ?? [],
      get unitHeld() {
        return host.executor.holding;
      },
    };
    const sync = new FullSync(this, source, diskless, ++this.#fullSyncId);
    this.#fullSyncs.add(sync);
    for (const replica of replicas) sync.join(replica);
    for (const replica of replicas) replica.fullSync = sync;
  }

  /** FullSyncOwner: the RDB's content is fixed at this instant. */
  contentFixed(replicas: readonly AttachedReplica[]): readonly RdbAuxField[] {
    this.#flushStream();
    const offset = this.offset;
    // The stream after an RDB starts with a SELECT, whatever was selected before.
    this.#selectedDb = -1;
    for (const replica of replicas) {
      replica.state = "send_bulk";
      replica.awaitingRdb = true;
      if (!replica.preSync) {
        replica.writeDirect(ENCODER.encode(`+FULLRESYNC ${this.replid} ${offset}\r\n`));
      }
    }
    const streamDb = this.master === undefined ? 0 : (this.link?.client?.db.index ?? 0);
    return [
      { name: "repl-stream-db", value: String(streamDb) },
      { name: "repl-id", value: this.replid },
      { name: "repl-offset", value: String(offset) },
    ];
  }

  /** FullSyncOwner: `replica` has its RDB. */
  transferred(replica: AttachedReplica, diskless: boolean): void {
    if (replica.client.closed) return;
    replica.fullSync = undefined;
    replica.transferred(diskless && !replica.preSync);
    this.log.notice(
      `Synchronization with replica ${replicaName(replica.client, replica.settings)} succeeded`,
    );
  }

  /** FullSyncOwner: the sync failed for `replica`. */
  failed(replica: AttachedReplica, reason: string): void {
    this.log.warning(
      `Synchronization with replica ${
        replicaName(replica.client, replica.settings)
      } failed: ${reason}`,
    );
    this.#dropReplica(replica);
  }

  /** FullSyncOwner: a sync ended. */
  finished(sync: FullSync): void {
    this.#fullSyncs.delete(sync);
  }

  #dropReplica(replica: AttachedReplica): void {
    const client = replica.client;
    if (!client.closed) {
      this.host.disconnect(client);
      client.transport.abort();
    }
    this.#forgetReplica(client);
  }

  #forgetReplica(client: Client): void {
    const replica = this.#replicas.get(client);
    if (replica === undefined) return;
    this.#replicas.delete(client);
    replica.discard();
    replica.fullSync?.leave(replica);
    this.#waitingForDiskless = this.#waitingForDiskless.filter((waiting) => waiting !== replica);
    this.log.notice(`Connection with replica ${replicaName(client, replica.settings)} lost.`);
    if (this.#replicas.size === 0) this.#noReplicasSince = Date.now();
  }

  /** Closes every replica's connection (our history changed: they must sync again). */
  #disconnectReplicas(): void {
    for (const replica of [...this.#replicas.values()]) this.#dropReplica(replica);
  }

  acknowledge(client: Client, offset: number): void {
    const replica = this.#replicas.get(client);
    if (replica === undefined) return;
    replica.acknowledged(offset);
    this.#acknowledgementsChanged();
  }

  #acknowledgementsChanged(): void {
    for (const waiter of [...this.#waiters]) if (waiter.satisfied()) waiter.reply();
    if (this.failoverState === "waiting-for-sync") this.#updateFailover();
  }

  /** Replicas whose acknowledged offset reached `offset`. */
  acknowledged(offset: number): number {
    let count = 0;
    for (const replica of this.#replicas.values()) {
      if (replica.state === "online" && replica.ackOffset >= offset) count++;
    }
    return count;
  }

  waitForReplicas(client: Client, replicas: number, offset: number, deadline: number): void {
    const waiter = new WaitState(this, client, replicas, offset, deadline);
    client.blocked = waiter;
    this.#waiters.add(waiter);
    // Ask for acknowledgements at the end of this turn, after the writes being waited for.
    this.#getAckWanted = true;
    this.#scheduleFlush();
  }

  /** Stops tracking a WAIT (it was answered, unblocked, or its client left). */
  forgetWaiter(waiter: WaitState): void {
    this.#waiters.delete(waiter);
  }

  lacksGoodReplicas(): boolean {
    const config = this.host.config;
    if (config.minReplicasToWrite <= 0 || config.minReplicasMaxLag <= 0) return false;
    return this.goodReplicas() < config.minReplicasToWrite;
  }

  /** Online replicas that acknowledged within `min-replicas-max-lag` seconds. */
  goodReplicas(): number {
    const maxLag = this.host.config.minReplicasMaxLag;
    const now = Math.floor(Date.now() / 1000);
    let good = 0;
    for (const replica of this.#replicas.values()) {
      if (replica.state !== "online") continue;
      if (now - Math.floor(replica.ackTime / 1000) <= maxLag) good++;
    }
    return good;
  }

  // ---------------------------------------------------------------------------
  // Following a master (replica side)

  follow(target: ReplicaAddress, by: Client): boolean {
    if (this.failoverState !== "no-failover") throw new CommandError(REPLICAOF_WHILE_FAILING_OVER);
    const master = this.master;
    if (
      master !== undefined && master.host.toLowerCase() === target.host.toLowerCase() &&
      master.port === target.port
    ) {
      this.log.notice(
        "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.",
      );
      return false;
    }
    this.#setMaster(target, true);
    this.log.notice(
      `REPLICAOF ${target.host}:${target.port} enabled (user request from '${describeClient(by)}')`,
    );
    return true;
  }

  stopFollowing(by: Client): void {
    if (this.failoverState !== "no-failover") throw new CommandError(REPLICAOF_WHILE_FAILING_OVER);
    if (this.master === undefined) return;
    this.#unsetMaster();
    this.log.notice(`MASTER MODE enabled (user request from '${describeClient(by)}')`);
  }

  /** replicationSetMaster; `cacheMyself`: continue from our own history (not at start-up). */
  #setMaster(target: ReplicaAddress, cacheMyself: boolean): void {
    const wasMaster = this.master === undefined;
    this.#flushStream();
    this.master = { host: target.host, port: target.port };
    // CONFIG GET and CONFIG REWRITE show the live state, as Redis's do.
    this.host.config.replicaof = { host: target.host, port: target.port };
    this.#dropLink();
    this.#disconnectBlockedClients();
    this.#disconnectReplicas();
    if (wasMaster) {
      this.#continueFrom = cacheMyself ? { replid: this.replid, offset: this.offset } : undefined;
      if (cacheMyself) {
        this.log.notice(
          "Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.",
        );
      }
    }
    this.host.replicaExpiry?.(true);
    this.linkDownSince = 0;
    this.#connect();
  }

  /** replicationUnsetMaster: a master again, with a new history id. */
  #unsetMaster(): void {
    this.master = undefined;
    this.host.config.replicaof = undefined;
    this.#dropLink();
    this.#continueFrom = undefined;
    this.#shiftReplicationId();
    // Our replicas must hear of the new id: they reconnect and continue.
    this.#disconnectReplicas();
    this.#selectedDb = -1;
    this.linkDownSince = 0;
    this.#noReplicasSince = Date.now();
    this.host.replicaExpiry?.(false);
  }

  #shiftReplicationId(): void {
    this.replid2 = this.replid;
    this.secondReplidOffset = this.offset + 1;
    this.replid = randomReplicationId();
    this.log.notice(
      `Setting secondary replication ID to ${this.replid2}, valid up to offset: ${this.secondReplidOffset}. New replication ID is ${this.replid}`,
    );
  }

  #clearReplid2(): void {
    this.replid2 = NO_REPLICATION_ID;
    this.secondReplidOffset = -1;
  }

  /** Blocked clients (keys, WAIT) are told the instance changed role, and closed. */
  #disconnectBlockedClients(): void {
    const host = this.host;
    for (const client of host.clients.values()) {
      const state = client.blocked;
      if (state === undefined || host.operations.pause.isPostponed(client)) continue;
      state.dispose();
      client.reply.error(UNBLOCKED_ROLE_CHANGE);
      client.closeAfterReply = true;
      host.markPending(client);
    }
  }

  /** Closes the link; one whose stream flowed leaves what to continue from. */
  #dropLink(): void {
    const link = this.link;
    if (link === undefined) return;
    link.close();
  }

  #connect(): void {
    const master = this.master;
    if (master === undefined || this.link !== undefined) return;
    const link = new MasterLink(this, master.host, master.port, this.#database);
    this.link = link;
    void link.run();
  }

  psyncFrom(): { replid: string; offset: number } | undefined {
    return this.#continueFrom;
  }

  synchronising(outcome: SyncOutcome): void {
    if (outcome.kind === "full") {
      this.#continueFrom = undefined;
      this.#incoming = { replid: outcome.replid, offset: outcome.offset };
    } else {
      const replid = outcome.replid;
      if (replid !== undefined && replid !== this.replid) {
        this.log.notice(`Master replication ID changed to ${replid}`);
        this.replid2 = this.replid;
        this.secondReplidOffset = this.offset + 1;
        this.replid = replid;
        // Our replicas continue through the second id.
        this.#disconnectReplicas();
      }
      if (this.backlog === undefined) this.#createBacklog();
    }
    if (this.failoverState === "failover-in-progress") this.#clearFailover();
  }

  loadStarting(): void {
    const host = this.host;
    host.loading = true;
    // Our replicas' data is about to be replaced: they must sync again.
    this.#disconnectReplicas();
    this.#emptyData();
  }

  #emptyData(): void {
    const host = this.host;
    host.keyspace.flushAll();
    for (const db of host.keyspace.databases) host.databaseChanged(db);
    host.flushFunctions?.();
  }

  loadFinished(ok: boolean, aux: ReadonlyMap<string, string>): void {
    const host = this.host;
    host.loading = false;
    const incoming = this.#incoming;
    this.#incoming = undefined;
    if (!ok || incoming === undefined) {
      // Half a data set is worse than none: Redis empties it too.
      this.#emptyData();
      return;
    }
    this.replid = incoming.replid;
    this.#clearReplid2();
    this.#offset = incoming.offset;
    this.#createBacklog();
    const streamDb = Number(aux.get("repl-stream-db") ?? "0");
    this.#database = Number.isInteger(streamDb) ? streamDb : 0;
    this.link?.useDatabase(this.#database);
    if (host.dataReplaced !== undefined) {
      host.dataReplaced();
    } else if (host.config.appendonly) {
      const persistence = host.persistence;
      if (persistence.rewriteInProgress) persistence.rewriteScheduled = true;
      else persistence.startRewrite();
    }
  }

  connected(_link: MasterLink): void {
    this.linkDownSince = 0;
  }

  applied(bytes: Uint8Array): void {
    if (this.backlog === undefined) this.#createBacklog();
    this.#propagate(bytes);
  }

  ended(link: MasterLink, wasConnected: boolean): void {
    this.stats.inputBytes += link.bytesRead;
    if (this.link !== link) return;
    this.#database = link.database;
    this.link = undefined;
    if (wasConnected) {
      this.#continueFrom = { replid: this.replid, offset: this.offset };
      this.linkDownSince = Date.now();
    }
    if (this.failoverState === "failover-in-progress") {
      this.#abortFailover("Failover target rejected psync request");
      return;
    }
    this.#nextAttempt = Date.now() + 1000;
  }

  /** REPLCONF GETACK from our master: acknowledges what ran before it. */
  sendAck(): void {
    const link = this.link;
    if (link === undefined) return;
    link.commit();
    link.sendAck(this.offset);
  }

  // ---------------------------------------------------------------------------
  // FAILOVER

  failover(request: FailoverRequest): void {
    if (this.failoverState !== "no-failover") throw new CommandError(FAILOVER_IN_PROGRESS);
    if (this.master !== undefined) throw new CommandError(FAILOVER_ON_REPLICA);
    if (this.#replicas.size === 0) throw new CommandError(FAILOVER_NEEDS_REPLICAS);
    if (request.force && (request.timeoutMs === 0 || request.target === undefined)) {
      throw new CommandError(FAILOVER_FORCE_NEEDS_TARGET);
    }
    const target = request.target;
    if (target !== undefined) {
      const replica = this.#findReplica(target);
      if (replica === undefined) throw new CommandError(FAILOVER_TARGET_NOT_REPLICA);
      if (replica.state !== "online") throw new CommandError(FAILOVER_TARGET_NOT_ONLINE);
      this.log.notice(`FAILOVER requested to ${target.host}:${target.port}.`);
    } else {
      this.log.notice("FAILOVER requested to any replica.");
    }
    this.#failoverTarget = target;
    this.#failoverEnd = request.timeoutMs === 0 ? 0 : Date.now() + request.timeoutMs;
    this.#failoverForce = request.force;
    this.failoverState = "waiting-for-sync";
    this.host.operations.pause.pause("write", Number.MAX_SAFE_INTEGER);
  }

  abortFailover(): void {
    if (this.failoverState === "no-failover") throw new CommandError(NO_FAILOVER_IN_PROGRESS);
    this.#abortFailover("Failover manually aborted");
  }

  #findReplica(target: ReplicaAddress): AttachedReplica | undefined {
    for (const replica of this.#replicas.values()) {
      if (replica.ip === target.host && replica.settings.listeningPort === target.port) {
        return replica;
      }
    }
    return undefined;
  }

  #abortFailover(reason: string): void {
    if (this.failoverState === "no-failover") return;
    const target = this.#failoverTarget;
    this.log.notice(
      target !== undefined
        ? `FAILOVER to ${target.host}:${target.port} aborted: ${reason}`
        : `FAILOVER to any replica aborted: ${reason}`,
    );
    const following = this.failoverState === "failover-in-progress";
    // Cleared first: dropping the link below must not abort it again.
    this.#clearFailover();
    if (following) this.#unsetMaster();
  }

  #clearFailover(): void {
    this.failoverState = "no-failover";
    this.#failoverTarget = undefined;
    this.#failoverEnd = 0;
    this.#failoverForce = false;
    this.host.operations.pause.unpause();
  }

  /** updateFailoverStatus: has the target caught up, or has time run out? */
  #updateFailover(): void {
    if (this.failoverState !== "waiting-for-sync") return;
    if (this.#failoverEnd !== 0 && Date.now() >= this.#failoverEnd) {
      const target = this.#failoverTarget;
      if (this.#failoverForce && target !== undefined) {
        this.log.notice(
          `FAILOVER to ${target.host}:${target.port} time out exceeded, failing over.`,
        );
        this.#failOverTo(target);
      } else {
        this.#abortFailover("Replica never caught up before timeout");
      }
      return;
    }
    const offset = this.offset;
    let target = this.#failoverTarget;
    if (target === undefined) {
      for (const replica of this.#replicas.values()) {
        if (replica.state === "online" && replica.ackOffset === offset) {
          target = { host: replica.ip, port: replica.settings.listeningPort };
          break;
        }
      }
      if (target === undefined) return;
      this.#failoverTarget = target;
    }
    const replica = this.#findReplica(target);
    if (replica === undefined || replica.ackOffset !== offset) return;
    this.log.notice(`Failover target ${target.host}:${target.port} is synced, failing over.`);
    this.#failOverTo(target);
  }

  #failOverTo(target: ReplicaAddress): void {
    this.failoverState = "failover-in-progress";
    this.#setMaster(target, true);
  }

  // ---------------------------------------------------------------------------
  // ROLE, and what INFO shows

  roleInfo(): RoleInfo {
    const master = this.master;
    if (master === undefined) {
      const replicas = [];
      for (const replica of this.#replicas.values()) {
        if (replica.state !== "online") continue;
        replicas.push({
          ip: replica.ip,
          port: replica.settings.listeningPort,
          offset: replica.ackOffset,
        });
      }
      return { role: "master", offset: this.offset, replicas };
    }
    const link = this.link;
    return {
      role: "slave",
      host: master.host,
      port: master.port,
      state: link === undefined ? "connect" : link.state,
      offset: link?.client !== undefined ? this.offset : -1,
    };
  }

  /** The offset a replica has applied (`slave_repl_offset`), as Redis shows it. */
  get replicaOffset(): number {
    if (this.link?.client !== undefined || this.#continueFrom !== undefined) return this.offset;
    return 1;
  }

  /** Stream bytes read from the master (`slave_read_repl_offset`). */
  get replicaReadOffset(): number {
    const link = this.link;
    if (link?.client !== undefined) return link.readOffset;
    return this.replicaOffset;
  }

  // ---------------------------------------------------------------------------
  // KeyspaceEvents

  clientClosed(client: Client): void {
    if (this.#replicas.has(client)) this.#forgetReplica(client);
    const link = this.link;
    if (link !== undefined && link.client === client) link.close("killed");
  }

  // ---------------------------------------------------------------------------
  // The cron

  #tick(): void {
    const config = this.host.config;
    if (this.#waitingForDiskless.length > 0) {
      const delayMs = disklessSyncDelay(config) * 1000;
      const max = disklessSyncMaxReplicas(config);
      if (
        Date.now() - this.#waitingSince >= delayMs ||
        (max > 0 && this.#waitingForDiskless.length >= max)
      ) {
        const waiting = this.#waitingForDiskless.filter((replica) => !replica.client.closed);
        this.#waitingForDiskless = [];
        if (waiting.length > 0) this.#startFullSync(waiting, true);
      }
    }
    if (this.master !== undefined && this.link === undefined && Date.now() >= this.#nextAttempt) {
      this.#connect();
    }
    if (this.failoverState === "waiting-for-sync") this.#updateFailover();
    if (++this.#ticks % TICKS_PER_CRON === 0) this.#cron();
  }

  /** replicationCron, once a second. */
  #cron(): void {
    const host = this.host;
    const config = host.config;
    const now = Date.now();
    const timeoutMs = config.replTimeout * 1000;
    const link = this.link;
    if (link !== undefined) {
      const silentFor = now - link.lastIo;
      if (link.state !== "connected" && silentFor > timeoutMs) {
        this.log.warning(
          link.state === "sync"
            ? "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value."
            : "Timeout connecting to the MASTER...",
        );
        link.close();
      } else if (link.state === "connected" && silentFor > timeoutMs) {
        this.log.warning("MASTER timeout: no data nor PING received...");
        link.close("timeout");
      } else if (link.state === "connected") {
        link.sendAck(this.offset);
      } else if (link.state === "sync") {
        link.sendNewline();
      }
    }
    for (const replica of [...this.#replicas.values()]) {
      if (replica.client.closed) continue;
      if (replica.awaitingRdb || replica.state === "wait_bgsave") {
        replica.writeDirect(NEWLINE);
      } else if (
        replica.state === "online" && !replica.preSync &&
        now - Math.max(replica.ackTime, replica.client.lastInteractionAt) > timeoutMs
      ) {
        this.log.warning(
          `Disconnecting timedout replica (streaming sync): ${
            replicaName(replica.client, replica.settings)
          }`,
        );
        this.#dropReplica(replica);
      }
    }
    if (this.master === undefined && this.backlog !== undefined) {
      if (this.#replicas.size > 0 && this.failoverState === "no-failover") {
        if (--this.#pingCountdown <= 0) {
          this.#pingCountdown = config.replPingReplicaPeriod;
          this.#stream.bulkArray(PING);
          this.#flushStream();
        }
      }
      const ttl = config.replBacklogTtl;
      if (this.#replicas.size === 0 && ttl > 0 && now - this.#noReplicasSince > ttl * 1000) {
        this.replid = randomReplicationId();
        this.#clearReplid2();
        this.backlog = undefined;
        this.log.notice(
          `Replication backlog freed after ${ttl} seconds without connected replicas.`,
        );
      }
    }
    if (
      this.backlog !== undefined && this.backlog.size !== Math.max(config.replBacklogSize, 16384)
    ) {
      this.backlog.resize(config.replBacklogSize);
    }
  }
}

/** How Redis names a replica in its log: `ip:port`. */
function replicaName(client: Client, settings: ReplicaSettings): string {
  const address = client.transport.remoteAddress;
  const host = settings.announcedIp !== ""
    ? settings.announcedIp
    : address.startsWith("[")
    ? address.slice(1, address.indexOf("]"))
    : address.slice(0, address.lastIndexOf(":"));
  return settings.listeningPort > 0 ? `${host}:${settings.listeningPort}` : address;
}
