/**
 * Client: the state of one connection, and the context every handler gets.
 *
 * A handler receives the client that sent the command: through it, it
 * reaches the selected database (`db`), the reply writer (`reply`), the
 * server (`server`) and the per-connection state that commands such as
 * SELECT, HELLO, CLIENT, MULTI and SUBSCRIBE change. The transport
 * underneath (socket) is hidden behind `ClientTransport`.
 *
 * @module
 */

import type { Command } from "../commands/table.ts";
import { type ProtocolVersion, ReplyWriter } from "../protocol/reply_writer.ts";
import type { Database } from "../store/keyspace.ts";
import type { Server } from "./server.ts";

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
  /**
   * What the current command writes to the AOF instead of its own
   * arguments (set by handlers whose effect differs from their request).
   */
  propagation: string[][] | undefined;
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

  constructor(
    readonly id: number,
    readonly server: Server,
    readonly transport: ClientTransport,
  ) {
    this.db = server.keyspace.databases[0]!;
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
   * Records that the current command changed `key`: marks the data dirty
   * (so it is logged), invalidates WATCHes and sends keyspace notifications.
   * `eventClass` is the notify-keyspace-events letter (`$`, `g`, `h`, ...).
   */
  changed(key: string, event: string, eventClass: string): void {
    this.server.keyChanged(this.db, key, event, eventClass);
  }

  /** Logs these commands to the AOF instead of the request itself. */
  propagateAs(...commands: string[][]): void {
    this.propagation = commands;
  }
}
