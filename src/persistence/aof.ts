/**
 * Append-only file writer: executed writes, in RESP, with Redis's fsync
 * policies.
 *
 * Commands are encoded into an in-memory buffer as they execute (with a
 * SELECT whenever the database changes, as Redis writes it) and the buffer
 * goes to the file in one write at the end of each batch, before any reply
 * to those commands is sent. Under `always` the replies also wait for an
 * fdatasync; syncs run off the main thread and one sync covers every batch
 * written before it started (group commit). Under `everysec` a timer syncs
 * in the background once a second; under `no` the OS decides.
 *
 * @module
 */

import type { FsyncPolicy } from "../config.ts";
import { ReplyWriter } from "../protocol/reply_writer.ts";

export class AppendOnlyFile {
  /** RESP encoder reused for every command; the AOF is RESP2 arrays of bulks. */
  readonly #encoder = new ReplyWriter();
  #file: Deno.FsFile;
  #selectedDb = -1;
  #size: number;
  #syncTimer: ReturnType<typeof setInterval> | undefined;
  #unsyncedWrites = false;
  #syncInFlight = false;
  /** Sends waiting for the sync in flight, and those for the next one. */
  #waitingForSync: (() => void)[] = [];
  #waitingForNextSync: (() => void)[] = [];
  /** Last write or fsync error, undefined while healthy. */
  lastError: Error | undefined;
  onError: ((error: Error) => void) | undefined;

  private constructor(
    readonly path: string,
    public policy: FsyncPolicy,
    file: Deno.FsFile,
    size: number,
  ) {
    this.#file = file;
    this.#size = size;
  }

  /** Opens (creating if needed) the file at `path` for appending. */
  static open(path: string, policy: FsyncPolicy): AppendOnlyFile {
    const file = Deno.openSync(path, { append: true, create: true, read: false });
    const size = file.statSync().size;
    const aof = new AppendOnlyFile(path, policy, file, size);
    aof.#syncTimer = setInterval(() => aof.#backgroundSync(), 1000);
    return aof;
  }

  /** Current file size in bytes, including buffered writes already flushed. */
  get size(): number {
    return this.#size;
  }

  /** Commands appended since the last flush. */
  get hasPendingWrites(): boolean {
    return this.#encoder.length > 0;
  }

  /** Whether replies must wait for a sync before they are sent. */
  get repliesWaitForSync(): boolean {
    return this.policy === "always" && (this.hasPendingWrites || this.#syncInFlight);
  }

  /** Encodes a command for database `dbIndex`. */
  append(dbIndex: number, args: readonly string[]): void {
    if (dbIndex !== this.#selectedDb) {
      this.#encoder.bulkArray(["SELECT", String(dbIndex)]);
      this.#selectedDb = dbIndex;
    }
    this.#encoder.bulkArray(args);
  }

  /**
   * Writes the buffered commands to the file, then runs `send` — at once,
   * or under `always` once an fsync covering them has completed. Sends run
   * in the order they were given.
   */
  flush(send: () => void): void {
    if (this.hasPendingWrites) this.#writeBuffered();
    if (this.policy !== "always" || (!this.#unsyncedWrites && !this.#syncInFlight)) {
      send();
      return;
    }
    this.#waitingForNextSync.push(send);
    if (!this.#syncInFlight) this.#startSync();
  }

  #writeBuffered(): void {
    const bytes = this.#encoder.take();
    try {
      let written = 0;
      while (written < bytes.byteLength) written += this.#file.writeSync(bytes.subarray(written));
      this.#size += bytes.byteLength;
      this.#unsyncedWrites = true;
    } catch (error) {
      this.#fail(error as Error);
    }
  }

  #startSync(): void {
    this.#syncInFlight = true;
    this.#unsyncedWrites = false;
    this.#waitingForSync = this.#waitingForNextSync;
    this.#waitingForNextSync = [];
    this.#file.syncData().then(
      () => this.#syncDone(),
      (error) => {
        this.#fail(error as Error);
        this.#syncDone();
      },
    );
  }

  #syncDone(): void {
    this.#syncInFlight = false;
    const ready = this.#waitingForSync;
    this.#waitingForSync = [];
    for (const send of ready) send();
    if (this.#waitingForNextSync.length > 0) this.#startSync();
  }

  #backgroundSync(): void {
    if (this.policy !== "everysec" || !this.#unsyncedWrites || this.#syncInFlight) return;
    this.#unsyncedWrites = false;
    this.#syncInFlight = true;
    this.#file.syncData().then(
      () => this.#syncDone(),
      (error) => {
        this.#fail(error as Error);
        this.#syncDone();
      },
    );
  }

  #fail(error: Error): void {
    this.lastError = error;
    this.onError?.(error);
  }

  /** Writes what is buffered, fsyncs and closes: nothing acknowledged is lost. */
  close(): void {
    if (this.#syncTimer !== undefined) clearInterval(this.#syncTimer);
    this.#syncTimer = undefined;
    if (this.hasPendingWrites) this.#writeBuffered();
    try {
      this.#file.syncDataSync();
    } catch (error) {
      this.#fail(error as Error);
    }
    this.#file.close();
  }
}
