/**
 * Client: the state of one connection, and the context every handler gets.
 *
 * A handler receives the client that sent the command: through it, it
 * reaches the selected database (`db`), the reply writer (`reply`), the
 * server (`server`, seen through the `ServerContext` interface so the
 * command layer never depends on the network layer) and the per-connection
 * state that commands such as SELECT, HELLO, CLIENT, MULTI and SUBSCRIBE
 * change. The socket underneath is hidden behind `ClientTransport`; the AOF
 * loader and, later, scripts run commands on clients whose transport goes
 * nowhere.
 *
 * @module
 */

import type { AclUser } from "../acl/mod.ts";
import { type ProtocolVersion, ReplyWriter } from "../protocol/reply_writer.ts";
import type { Database } from "../store/keyspace.ts";
import type { ServerContext } from "./context.ts";
import type { Command } from "./table.ts";

/** What the client needs from its socket. */
export interface ClientTransport {
  /** Queues bytes for sending; never blocks. */
  write(bytes: Uint8Array): void;
  /** Closes the connection once queued bytes are sent. */
  close(): void;
  /** Closes the connection at once, dropping unsent bytes (slow subscribers). */
  abort(): void;
  /** Bytes accepted by `write` and not yet handed to the kernel. */
  readonly pendingBytes: number;
  /** Continues with requests buffered while the client was blocked. */
  resume(): void;
  readonly remoteAddress: string;
  readonly localAddress: string;
}

/** A transport that sends nothing, for clients without a connection (AOF loading). */
export const NO_TRANSPORT: ClientTransport = {
  write() {},
  close() {},
  abort() {},
  pendingBytes: 0,
  resume() {},
  remoteAddress: "",
  localAddress: "",
};

/** A command queued by MULTI. */
export interface QueuedCommand {
  command: Command;
  args: string[];
}

/** Where a blocked client waits (set by blocking commands, see commands/blocking.ts). */
export interface BlockedState {
  /** Absolute deadline in ms, or 0 to wait forever. */
  deadline: number;
  /** Replies to the timeout and clears the state. */
  onTimeout(): void;
  /** Undoes registrations when the client goes away or is unblocked. */
  dispose(): void;
}

export class Client {
  readonly reply = new ReplyWriter();
  readonly createdAt = Date.now();
  db: Database;
  name = "";
  libraryName = "";
  libraryVersion = "";
  lastInteractionAt = Date.now();
  lastCommandName = "NULL";
  /** Set by QUIT or a protocol error: close once the replies are sent. */
  closeAfterReply = false;
  closed = false;
  /** Commands queued since MULTI, undefined outside a transaction. */
  transaction: QueuedCommand[] | undefined;
  /** A command was rejected while queuing: EXEC must fail with EXECABORT. */
  transactionFailed = false;
  /** Keys WATCHed, as `${db}\n${key}`; undefined when none. */
  watchedKeys: Set<string> | undefined;
  /** A watched key changed: the next EXEC returns a null array. */
  watchedKeyChanged = false;
  /** Channels, patterns and shard channels subscribed to. */
  readonly channels = new Set<string>();
  readonly patterns = new Set<string>();
  readonly shardChannels = new Set<string>();
  /** Set while a blocking command waits. */
  blocked: BlockedState | undefined;
  /** When unsent output went over the soft output-buffer limit (ms), 0 while under it. */
  outputSoftLimitSince = 0;
  /** The user the client runs as: the default user until AUTH or HELLO AUTH. */
  user: AclUser;
  /** AUTH succeeded, or the client started as a default user that needs no password. */
  authenticated = false;
  /** A replica attached to us (after SYNC/PSYNC), our master's link, or neither. */
  kind: "normal" | "replica" | "master" = "normal";

  constructor(
    readonly id: number,
    readonly server: ServerContext,
    readonly transport: ClientTransport,
  ) {
    this.db = server.keyspace.databases[0]!;
    this.user = server.acl.defaultUser;
    this.resetAuthentication();
  }

  /**
   * Starts over as the default user, authenticated when it is on and needs
   * no password (Redis's clientSetDefaultAuth): at connect time and RESET.
   */
  resetAuthentication(): void {
    const user = this.server.acl.defaultUser;
    this.user = user;
    this.authenticated = user.noPassword && user.enabled;
  }

  get protocol(): ProtocolVersion {
    return this.reply.protocol;
  }

  set protocol(version: ProtocolVersion) {
    this.reply.protocol = version;
  }

  /** Subscribed to at least one channel or pattern. */
  get subscriptionCount(): number {
    return this.channels.size + this.patterns.size + this.shardChannels.size;
  }

  /**
   * Records that the current command changed `key`: marks the data dirty,
   * invalidates WATCHes, wakes blocked clients and sends keyspace
   * notifications. `eventClass` is the notify-keyspace-events letter (`$`,
   * `g`, `h`, ...).
   */
  changed(key: string, event: string, eventClass: string): void {
    this.server.keyChanged(this.db, key, event, eventClass);
  }

  /**
   * `changed` for what Redis changes without signalModifiedKey (a stream's
   * consumer groups and their reads, XSETID): WATCH and client tracking do
   * not see it; everything else does.
   */
  changedUnsignalled(key: string, event: string, eventClass: string): void {
    this.server.keyChanged(this.db, key, event, eventClass, false);
  }

  /**
   * Records one effect of the running command, in this client's current
   * database, for the AOF. Only commands the table declares with
   * `propagation: "effects"` call this; the others are logged as sent.
   */
  addEffect(args: string[]): void {
    this.server.executor.addEffect(this.db.index, args);
  }
}
