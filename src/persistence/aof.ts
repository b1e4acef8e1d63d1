/**
 * Append-only file writer: executed writes, in RESP, with Redis's fsync
 * policies and Redis's handling of a disk that fails.
 *
 * Commands are encoded into an in-memory buffer as they execute (with a
 * SELECT whenever the database changes, as Redis writes it) and the buffer
 * goes to the file in one write at the end of each batch, before any reply
 * to those commands is sent (`Server.flush`). Under `always` the replies also
 * wait for an fdatasync; syncs run off the main thread and one sync covers
 * every batch written before it started (group commit: while one sync is in
 * flight, the batches of every other client pile up and share the next).
 * Under `everysec` a 10 Hz tick starts a background sync when a second has
 * passed since the last one, so the command path never waits for the disk;
 * under `no` the OS decides.
 *
 * The file gets one write per `Server.flush`; how much a flush covers (one
 * connection's batch, or every connection served in an event-loop turn) is
 * the server's choice — this class writes whatever has been appended.
 *
 * Failures follow Redis's flushAppendOnlyFile. A write that fails, or
 * writes only part of the buffer, leaves the file as it was: a partial
 * write is cut back with ftruncate, so the file never ends in half a command
 * that would break the next load. The unwritten bytes are kept and retried
 * on every batch and every tick; meanwhile the status listener is told the
 * reason, which makes the server refuse writes with `-MISCONF Errors writing
 * to the AOF file: <reason>` while reads go on. The first successful write
 * (or fsync, for an fsync error) clears it. Under `always` a failure cannot
 * be recovered from — replies of the failed batch, reads included, may
 * already reflect the write — so, as in Redis, the fatal handler is called
 * (the server exits) and no reply of that batch is ever sent.
 *
 * @module
 */

import type { FsyncPolicy } from "../config.ts";
import { ReplyWriter } from "../protocol/reply_writer.ts";
import type { Logger } from "../log.ts";
import { describeError, fileSystem, type PersistenceFile } from "./file_system.ts";

/** How often failed writes are retried and `everysec` looks for work (Redis's hz). */
const TICK_MS = 100;
/** Interval of `everysec` syncs. */
const EVERYSEC_MS = 1000;
/** At most one write-error log line per this interval (Redis's AOF_WRITE_LOG_ERROR_RATE). */
const ERROR_LOG_INTERVAL_MS = 30_000;

export class AppendOnlyFile {
  /** RESP encoder for commands not yet written; the AOF is RESP2 arrays of bulks. */
  readonly #encoder = new ReplyWriter();
  #file: PersistenceFile;
  #size: number;
  #selectedDb = -1;
  /** Bytes a failed write left over; they go out before anything newer. */
  #unwritten: Uint8Array | undefined;
  #writeError: string | undefined;
  #fsyncError: string | undefined;
  #unsyncedWrites = false;
  #syncInFlight: Promise<void> | undefined;
  #lastSyncStart = 0;
  /** Sends released when the sync in flight ends, and those for the next one. */
  #waitingForSync: (() => void)[] = [];
  #waitingForNextSync: (() => void)[] = [];
  /** Bumped when the file is replaced, so a late sync of the old one releases nothing. */
  #generation = 0;
  #lastErrorLog = -Infinity;
  #failedFatally = false;
  #tick: ReturnType<typeof setInterval> | undefined;
  /** Told when the write status changes: the reason, or undefined once healthy. */
  onStatusChange: ((error: string | undefined) => void) | undefined;
  /** Called for a failure under `always`; the server exits (see module doc). */
  onFatal: ((message: string) => void) | undefined;

  private constructor(
    readonly path: string,
    public policy: FsyncPolicy,
    readonly log: Logger,
    file: PersistenceFile,
    size: number,
  ) {
    this.#file = file;
    this.#size = size;
  }

  /** Opens (creating if needed) the file at `path` for appending. */
  static open(path: string, policy: FsyncPolicy, log: Logger): AppendOnlyFile {
    const files = fileSystem();
    const { file, size } = files.openAppend(path);
    // A file just created exists after a crash only once its directory entry is synced.
    try {
      files.syncDirectoryOf(path);
    } catch (error) {
      log.warning(`Could not fsync the directory of the AOF file ${path}: ${describeError(error)}`);
    }
    const aof = new AppendOnlyFile(path, policy, log, file, size);
    aof.#tick = setInterval(() => aof.#onTick(), TICK_MS);
    return aof;
  }

  /** Bytes in the file (written, not necessarily synced). */
  get size(): number {
    return this.#size;
  }

  /** Bytes encoded or left over by a failed write, not in the file yet. */
  get bufferedBytes(): number {
    return this.#encoder.length + (this.#unwritten?.byteLength ?? 0);
  }

  /** Whether there is anything to write. */
  get hasPendingWrites(): boolean {
    return this.#encoder.length > 0 || this.#unwritten !== undefined;
  }

  /** Whether a background fsync is running (INFO aof_pending_bio_fsync). */
  get syncInFlight(): boolean {
    return this.#syncInFlight !== undefined;
  }

  /** Why the file cannot be written or synced, or undefined while healthy. */
  get error(): string | undefined {
    return this.#writeError ?? this.#fsyncError;
  }

  /** Whether replies must wait for a sync before they are sent. */
  get repliesWaitForSync(): boolean {
    return this.policy === "always" && (this.hasPendingWrites || this.syncInFlight);
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
    if (this.hasPendingWrites) this.#write();
    // A failure under `always` is fatal: these replies must never go out.
    if (this.#failedFatally) return;
    if (this.policy !== "always") {
      send();
      return;
    }
    if (this.#unsyncedWrites) {
      this.#waitingForNextSync.push(send);
      if (!this.syncInFlight) this.#startSync();
    } else if (this.syncInFlight) {
      // Nothing new to sync, but earlier replies are still waiting: keep the order.
      this.#waitingForSync.push(send);
    } else {
      send();
    }
  }

  /** Writes everything pending; false (and the status set) if it failed. */
  #write(): boolean {
    const encoded = this.#encoder.length > 0 ? this.#encoder.take() : undefined;
    const bytes = joinBytes(this.#unwritten, encoded);
    let written = 0;
    try {
      while (written < bytes.byteLength) {
        written += this.#file.writeSync(bytes.subarray(written));
      }
    } catch (error) {
      this.#writeFailed(bytes, written, error);
      return false;
    }
    this.#size += written;
    this.#unwritten = undefined;
    this.#unsyncedWrites = true;
    if (this.#writeError !== undefined) {
      this.#writeError = undefined;
      this.log.warning("AOF write error looks solved, Redis can write again.");
      this.#statusChanged();
    }
    return true;
  }

  #writeFailed(bytes: Uint8Array, written: number, error: unknown): void {
    const reason = describeError(error);
    const logNow = this.#mayLogError();
    if (written > 0 && logNow) {
      this.log.warning(
        `Short write while writing to the AOF file: (nwritten=${written}, expected=${bytes.byteLength})`,
      );
    }
    if (logNow) this.log.warning(`Error writing to the AOF file: ${reason}`);
    if (written > 0) {
      try {
        this.#file.truncateSync(this.#size);
        written = 0;
      } catch (truncateError) {
        // Keep what was written and drop it from the buffer, as Redis does.
        if (logNow) {
          this.log.warning(
            `Could not remove short write from the append-only file. Redis may refuse to load the AOF the next time it starts. ftruncate: ${
              describeError(truncateError)
            }`,
          );
        }
        this.#size += written;
        this.#unsyncedWrites = true;
      }
    }
    this.#unwritten = bytes.slice(written);
    if (this.policy === "always") {
      this.#fatal(
        "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...",
      );
      return;
    }
    if (this.#writeError !== reason) {
      this.#writeError = reason;
      this.#statusChanged();
    }
  }

  #startSync(): void {
    this.#unsyncedWrites = false;
    this.#lastSyncStart = performance.now();
    this.#waitingForSync.push(...this.#waitingForNextSync);
    this.#waitingForNextSync = [];
    const generation = this.#generation;
    this.#syncInFlight = this.#file.syncData().then(
      () => this.#syncDone(generation, undefined),
      (error) => this.#syncDone(generation, error),
    );
  }

  #syncDone(generation: number, error: unknown): void {
    // The file was replaced meanwhile: replaceFile already released the waiters.
    if (generation !== this.#generation) return;
    this.#syncInFlight = undefined;
    if (error !== undefined) {
      const reason = describeError(error);
      this.#unsyncedWrites = true;
      if (this.policy === "always") {
        this.#fatal(
          `Can't persist AOF for fsync error when the AOF fsync policy is 'always': ${reason}. Exiting...`,
        );
        return;
      }
      if (this.#mayLogError()) this.log.warning(`Error fsyncing the AOF file: ${reason}`);
      if (this.#fsyncError !== reason) {
        this.#fsyncError = reason;
        this.#statusChanged();
      }
    } else if (this.#fsyncError !== undefined) {
      this.#fsyncError = undefined;
      this.log.warning("AOF fsync error looks solved, Redis can write again.");
      this.#statusChanged();
    }
    const ready = this.#waitingForSync;
    this.#waitingForSync = [];
    for (const send of ready) send();
    if (this.#waitingForNextSync.length > 0) this.#startSync();
  }

  #onTick(): void {
    if (this.#failedFatally) return;
    // Like Redis's serverCron: keep trying a write that failed.
    if (this.#unwritten !== undefined) this.#write();
    if (
      this.policy === "everysec" && this.#unsyncedWrites && !this.syncInFlight &&
      performance.now() - this.#lastSyncStart >= EVERYSEC_MS
    ) {
      this.#startSync();
    }
  }

  #mayLogError(): boolean {
    const now = performance.now();
    if (now - this.#lastErrorLog < ERROR_LOG_INTERVAL_MS) return false;
    this.#lastErrorLog = now;
    return true;
  }

  #statusChanged(): void {
    this.onStatusChange?.(this.error);
  }

  #fatal(message: string): void {
    this.#failedFatally = true;
    this.log.warning(message);
    this.onFatal?.(message);
  }

  /**
   * Continues in `file` (of `size` bytes), which a rewrite has filled with
   * the effect of every command executed so far and fsynced. What was still
   * buffered or unwritten is already part of it and is dropped; replies
   * waiting for a sync are released, since the new file is durable; an
   * error state ends, since the new file was written without one.
   */
  replaceFile(file: PersistenceFile, size: number): void {
    const old = this.#file;
    const oldSync = this.#syncInFlight;
    this.#generation++;
    this.#file = file;
    this.#size = size;
    this.#selectedDb = -1;
    this.#encoder.take();
    this.#unwritten = undefined;
    this.#unsyncedWrites = false;
    this.#syncInFlight = undefined;
    const ready = [...this.#waitingForSync, ...this.#waitingForNextSync];
    this.#waitingForSync = [];
    this.#waitingForNextSync = [];
    if (oldSync === undefined) closeQuietly(old);
    else void oldSync.finally(() => closeQuietly(old));
    if (this.#writeError !== undefined || this.#fsyncError !== undefined) {
      this.#writeError = this.#fsyncError = undefined;
      this.log.warning("AOF write error looks solved, Redis can write again.");
      this.#statusChanged();
    }
    for (const send of ready) send();
  }

  /** Writes what is buffered, fsyncs and closes: nothing acknowledged is lost. */
  close(): void {
    if (this.#tick !== undefined) clearInterval(this.#tick);
    this.#tick = undefined;
    if (this.hasPendingWrites && !this.#write()) {
      this.log.warning(
        `Could not write ${this.bufferedBytes} bytes of buffered commands to the AOF file at shutdown: ${this.#writeError}`,
      );
    }
    try {
      this.#file.syncDataSync();
    } catch (error) {
      this.log.warning(`Error fsyncing the AOF file at shutdown: ${describeError(error)}`);
    }
    closeQuietly(this.#file);
  }
}

function joinBytes(first: Uint8Array | undefined, second: Uint8Array | undefined): Uint8Array {
  if (first === undefined) return second ?? new Uint8Array(0);
  if (second === undefined) return first;
  const joined = new Uint8Array(first.byteLength + second.byteLength);
  joined.set(first);
  joined.set(second, first.byteLength);
  return joined;
}

function closeQuietly(file: PersistenceFile): void {
  try {
    file.close();
  } catch {
    // Already closed.
  }
}
