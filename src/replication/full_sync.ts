/**
 * A full resynchronisation on the master's side: one RDB produced for one
 * or more replicas and sent to each of them.
 *
 * Redis forks and tells the replicas `+FULLRESYNC <replid> <offset>` with
 * the offset of the fork's instant. Here the RDB is a background save
 * (persistence/snapshot.ts), whose content is the data of the instant it
 * *finishes* its last round; so the replicas are told at that instant
 * (`onContentFixed`), with the offset of that instant, and every stream
 * byte after it is kept for them until their RDB has gone out. Until then
 * they wait like Redis replicas waiting for a BGSAVE, getting a newline
 * every second so their read timeout does not fire (see the part's cron);
 * and a replica that asks for a full sync before that instant simply joins
 * the save under way, where Redis would start another one.
 *
 * Two ways to send it, as `repl-diskless-sync` says (and a replica without
 * `capa eof` always gets the first):
 * - disk: the save writes a file of its own in `dir`, sent afterwards to
 *   each replica as `$<length>\r\n<bytes>`, read in pieces as the socket
 *   drains; the file is removed when every replica has it.
 * - diskless: the save streams into the replicas' sockets as
 *   `$EOF:<40 random characters>\r\n<bytes><the same 40 characters>`; the
 *   save waits while a socket has more than a few megabytes unsent.
 *
 * @module
 */

import { join } from "node:path";
import { binaryToText } from "../config.ts";
import type { Logger } from "../log.ts";
import type { RdbAuxField } from "../rdb/mod.ts";
import {
  BackgroundSave,
  DEFAULT_SNAPSHOT_OPTIONS,
  type SaveResult,
  type SnapshotSource,
} from "../persistence/snapshot.ts";
import type { AttachedReplica } from "./attached_replica.ts";

/** Unsent bytes per replica socket above which the transfer waits. */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** Size of the pieces a disk-based transfer reads. */
const READ_SIZE = 1024 * 1024;
const ENCODER = new TextEncoder();

/** What a full sync asks of the replication part. */
export interface FullSyncOwner {
  readonly log: Logger;
  /**
   * The content is fixed now: tell `replicas` the replid and offset of this
   * instant and keep the stream from here for them. Returns the `repl-*`
   * aux fields the RDB carries.
   */
  contentFixed(replicas: readonly AttachedReplica[]): readonly RdbAuxField[];
  /** `replica` has its whole RDB; `diskless` says it must ACK before the stream starts. */
  transferred(replica: AttachedReplica, diskless: boolean): void;
  /** The save or the transfer to `replica` failed: drop it. */
  failed(replica: AttachedReplica, reason: string): void;
  /** The sync is over (every replica served or gone). */
  finished(sync: FullSync): void;
}

export class FullSync {
  /** Replicas that joined before the content was fixed. */
  readonly #joined = new Set<AttachedReplica>();
  /** Replicas being sent the RDB. */
  readonly #receiving = new Set<AttachedReplica>();
  #contentFixed = false;
  readonly #save: BackgroundSave;
  readonly #owner: FullSyncOwner;
  readonly diskless: boolean;
  readonly #path: string;
  readonly #mark = randomMark();
  #headerSent = false;
  #ended = false;

  constructor(owner: FullSyncOwner, source: SnapshotSource, diskless: boolean, id: number) {
    this.#owner = owner;
    this.diskless = diskless;
    this.#path = join(binaryToText(source.config.dir), `temp-repl-${Deno.pid}-${id}.rdb`);
    const options = {
      ...DEFAULT_SNAPSHOT_OPTIONS,
      label: `repl${id}`,
      onContentFixed: () => this.#fixed(),
    };
    this.#save = diskless
      ? new BackgroundSave(source, { write: (bytes) => this.#stream(bytes) }, options)
      : new BackgroundSave(source, this.#path, options);
    owner.log.notice(
      `Starting BGSAVE for SYNC with target: ${diskless ? "replicas sockets" : "disk"}`,
    );
    void this.#save.done.then((result) => this.#saved(result));
  }

  /** Whether `replica` can still join (the content is not fixed yet). */
  get joinable(): boolean {
    return !this.#contentFixed && !this.#ended;
  }

  /** Adds a replica before the content is fixed. */
  join(replica: AttachedReplica): void {
    this.#joined.add(replica);
  }

  /** A replica went away. */
  leave(replica: AttachedReplica): void {
    this.#joined.delete(replica);
    this.#receiving.delete(replica);
    if (this.#joined.size === 0 && this.#receiving.size === 0) this.cancel();
  }

  /** Stops the save and the transfers (shutdown, nobody left to send to). */
  cancel(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#save.cancel();
    this.#removeFile();
    this.#owner.finished(this);
  }

  #fixed(): readonly RdbAuxField[] {
    this.#contentFixed = true;
    const replicas = [...this.#joined].filter((replica) => !replica.client.closed);
    this.#joined.clear();
    for (const replica of replicas) this.#receiving.add(replica);
    return this.#owner.contentFixed(replicas);
  }

  /** Diskless: the next bytes of the RDB for every receiving replica. */
  async #stream(bytes: Uint8Array): Promise<void> {
    this.#dropClosed();
    if (this.#receiving.size === 0) throw new Error("no replica left to send the RDB to");
    if (!this.#headerSent) {
      this.#headerSent = true;
      const header = ENCODER.encode(`$EOF:${this.#mark}\r\n`);
      for (const replica of this.#receiving) {
        replica.awaitingRdb = false;
        replica.writeDirect(header);
      }
    }
    for (const replica of this.#receiving) replica.writeDirect(bytes);
    await this.#drained();
  }

  #dropClosed(): void {
    for (const replica of this.#receiving) {
      if (replica.client.closed) this.#receiving.delete(replica);
    }
  }

  /** Waits until no receiving socket has more than the high-water mark unsent. */
  async #drained(): Promise<void> {
    for (;;) {
      let full = false;
      for (const replica of this.#receiving) {
        if (!replica.client.closed && replica.client.transport.pendingBytes > HIGH_WATER_BYTES) {
          full = true;
        }
      }
      if (!full || this.#ended) return;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  async #saved(result: SaveResult): Promise<void> {
    if (this.#ended) return;
    const log = this.#owner.log;
    if (!result.ok) {
      log.warning(
        `SYNC failed. BGSAVE child returned an error${result.error ? `: ${result.error}` : ""}`,
      );
      for (const replica of [...this.#joined, ...this.#receiving]) {
        this.#owner.failed(replica, "BGSAVE failed");
      }
      this.#end();
      return;
    }
    log.notice(
      `Background RDB transfer terminated with success (${result.size} bytes in ${
        result.seconds.toFixed(3)
      } seconds)`,
    );
    if (this.diskless) {
      const mark = ENCODER.encode(this.#mark);
      this.#dropClosed();
      for (const replica of this.#receiving) {
        replica.writeDirect(mark);
        this.#owner.transferred(replica, true);
      }
      this.#end();
      return;
    }
    await this.#sendFile(result.size);
    this.#end();
  }

  /** Disk: sends the file to every receiving replica, reading it once. */
  async #sendFile(size: number): Promise<void> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(this.#path, { read: true });
    } catch (error) {
      for (const replica of this.#receiving) {
        this.#owner.failed(replica, `cannot open the RDB: ${(error as Error).message}`);
      }
      return;
    }
    try {
      const header = ENCODER.encode(`$${size}\r\n`);
      for (const replica of this.#receiving) {
        replica.awaitingRdb = false;
        replica.writeDirect(header);
      }
      let sent = 0;
      while (sent < size && !this.#ended) {
        const buffer = new Uint8Array(Math.min(READ_SIZE, size - sent));
        const count = await file.read(buffer);
        if (count === null || count === 0) throw new Error("the RDB file ended early");
        this.#dropClosed();
        if (this.#receiving.size === 0) return;
        const piece = count === buffer.byteLength ? buffer : buffer.subarray(0, count);
        for (const replica of this.#receiving) replica.writeDirect(piece);
        sent += count;
        await this.#drained();
      }
      if (this.#ended) return;
      this.#dropClosed();
      for (const replica of this.#receiving) this.#owner.transferred(replica, false);
    } catch (error) {
      for (const replica of this.#receiving) {
        this.#owner.failed(replica, `error sending the RDB: ${(error as Error).message}`);
      }
    } finally {
      file.close();
    }
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#removeFile();
    this.#owner.finished(this);
  }

  #removeFile(): void {
    if (this.diskless) return;
    try {
      Deno.removeSync(this.#path);
    } catch {
      // Not written (yet), or already gone.
    }
  }
}

/** The 40 characters that end a diskless transfer (Redis uses random hex). */
function randomMark(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(20)),
    (byte) => byte.toString(16).padStart(2, "0"),
  ).join("");
}
