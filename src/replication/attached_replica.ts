/**
 * One replica attached to this server (after its SYNC or PSYNC): where it
 * is in its synchronisation, what it acknowledged, and its share of the
 * replication stream.
 *
 * Stream bytes reach a replica's socket only once it can take them: while
 * its RDB is being produced or sent they are kept here, in order, and
 * written after the RDB (Redis keeps them in the replica's output buffer).
 * After a diskless transfer they wait for the replica's first REPLCONF ACK
 * as well: a Redis replica finds the end of an `$EOF:` transfer by looking
 * for the mark at the end of what it read, so nothing may follow the mark
 * until it has seen it (Redis's repl_start_cmd_stream_on_ack).
 *
 * @module
 */

import type { Client } from "../commands/client.ts";
import type { FullSync } from "./full_sync.ts";

/** What a replica said about itself with REPLCONF before syncing. */
export interface ReplicaSettings {
  listeningPort: number;
  /** REPLCONF ip-address, or "" to use the connection's address. */
  announcedIp: string;
  /** It can read a diskless (`$EOF:`) transfer. */
  capaEof: boolean;
  /** It understands `+CONTINUE <new replid>`. */
  capaPsync2: boolean;
}

/** States as INFO names them. */
export type ReplicaState = "wait_bgsave" | "send_bulk" | "online";

export class AttachedReplica {
  state: ReplicaState = "wait_bgsave";
  /** The offset it last acknowledged (REPLCONF ACK). */
  ackOffset = 0;
  /** When it last acknowledged, or was attached (ms). */
  ackTime = Date.now();
  /** Attached with SYNC: no +FULLRESYNC, and no ACKs to expect. */
  readonly preSync: boolean;
  /** The full sync producing its RDB, until it has it. */
  fullSync: FullSync | undefined;
  /** Told +FULLRESYNC, waiting for the RDB's first line (it gets keep-alive newlines). */
  awaitingRdb = false;
  /** Stream bytes go straight to the socket (else to `#buffer`). */
  #streaming = false;
  /** Streaming starts with the next ACK (after a diskless transfer). */
  #startOnAck = false;
  #buffer: Uint8Array[] = [];
  #bufferedBytes = 0;

  constructor(
    readonly client: Client,
    readonly settings: ReplicaSettings,
    preSync: boolean,
  ) {
    this.preSync = preSync;
  }

  /** The address INFO and ROLE show: the announced one, or the connection's. */
  get ip(): string {
    if (this.settings.announcedIp !== "") return this.settings.announcedIp;
    const address = this.client.transport.remoteAddress;
    if (address.startsWith("[")) return address.slice(1, address.indexOf("]"));
    const colon = address.lastIndexOf(":");
    return colon < 0 ? address : address.slice(0, colon);
  }

  /** Stream bytes waiting for the replica to be able to take them. */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /** Bytes queued for the socket and not yet sent, plus those held here. */
  get pendingBytes(): number {
    return this.client.transport.pendingBytes + this.#bufferedBytes;
  }

  /** Writes bytes that are not part of the stream (sync replies, the RDB). */
  writeDirect(bytes: Uint8Array): void {
    if (!this.client.closed) this.client.transport.write(bytes);
  }

  /** Sends stream bytes, or keeps them until the replica can take them. */
  send(bytes: Uint8Array): void {
    if (this.#streaming) {
      this.writeDirect(bytes);
      return;
    }
    this.#buffer.push(bytes);
    this.#bufferedBytes += bytes.byteLength;
  }

  /** Its RDB is complete: it is online, and the stream flows now or at its first ACK. */
  transferred(waitForAck: boolean): void {
    this.state = "online";
    this.ackTime = Date.now();
    if (waitForAck) this.#startOnAck = true;
    else this.startStreaming();
  }

  /** Partial resynchronisation: online at once, streaming from the start. */
  continued(): void {
    this.state = "online";
    this.startStreaming();
  }

  /** REPLCONF ACK. */
  acknowledged(offset: number): void {
    this.ackOffset = offset;
    this.ackTime = Date.now();
    if (this.#startOnAck) {
      this.#startOnAck = false;
      this.startStreaming();
    }
  }

  /** Sends what was kept and streams from now on. */
  startStreaming(): void {
    this.#streaming = true;
    const buffered = this.#buffer;
    this.#buffer = [];
    this.#bufferedBytes = 0;
    for (const bytes of buffered) this.writeDirect(bytes);
  }

  /** Forgets what was kept (the replica left). */
  discard(): void {
    this.#buffer = [];
    this.#bufferedBytes = 0;
  }
}
