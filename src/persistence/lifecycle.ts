/**
 * Persistence over a server's life: replay the AOF at start-up, then write
 * it, rewrite it when asked or when it has grown, and close it at shutdown.
 *
 * `Persistence` is the server's `persistence` part: the server builds it
 * with itself as the `PersistenceHost`, start-up calls `start` and shutdown
 * `stop`, and the commands (BGREWRITEAOF, SAVE, BGSAVE, LASTSAVE) reach it
 * through the command layer's `PersistenceControl` interface, which it
 * implements. So everything about how the AOF is loaded, written, repaired
 * and rewritten stays inside src/persistence/, which depends only on the
 * host interface below, not on the server or the commands.
 *
 * A 10 Hz cron, like Redis's serverCron, starts scheduled rewrites and the
 * automatic rewrite: when the file is at least `auto-aof-rewrite-min-size`
 * and has grown by `auto-aof-rewrite-percentage` over its size after the last
 * rewrite (or after loading). After three failed rewrites in a row automatic
 * ones back off, 1 minute doubling up to an hour (Redis's aofRewriteLimited).
 *
 * No lock guards the file swap against shutdown: the swap is one synchronous
 * step (see rewrite.ts) and so is `stopPersistence`, so on one thread they
 * cannot interleave; a rewrite interrupted at one of its awaits finds itself
 * cancelled and only removes its temporary file.
 *
 * @module
 */

import { aofPath } from "../config.ts";
import type { Database } from "../store/keyspace.ts";
import { AppendOnlyFile } from "./aof.ts";
import { describeError } from "./file_system.ts";
import { loadAppendOnlyFile, type LoadProgress, type LoadTarget } from "./loader.ts";
import { AofRewrite, DEFAULT_REWRITE_OPTIONS, type RewriteResult } from "./rewrite.ts";

const CRON_INTERVAL_MS = 100;
/** Consecutive failures after which automatic rewrites back off. */
const FAILURES_BEFORE_BACKOFF = 3;
const MAX_BACKOFF_MINUTES = 60;

/** Thrown by `startRewrite` when a rewrite cannot start. */
export class RewriteStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RewriteStartError";
  }
}

/** What persistence needs of the server it belongs to. */
export interface PersistenceHost<T> extends LoadTarget<T> {
  /** Changes since start (the server's dirty counter). */
  readonly dirty: number;
  /** Set while the AOF cannot be written: the server refuses writes with it. */
  writeError: string | undefined;
  /** The AOF the server appends effects to and flushes before replying. */
  aof: AppendOnlyFile | undefined;
}

/** A server's persistence part. */
export class Persistence<T = unknown> {
  /** Set while the AOF loads at start-up (INFO loading_*). */
  loadProgress: LoadProgress | undefined;
  /** The rewrite running now. */
  rewrite: AofRewrite | undefined;
  /** A rewrite was asked for while one ran (BGSAVE SCHEDULE): start it next. */
  rewriteScheduled = false;
  lastRewriteOk = true;
  lastRewriteSeconds = -1;
  rewrites = 0;
  consecutiveFailures = 0;
  /** AOF size after the last rewrite or load: the base of the growth percentage. */
  baseSize = 0;
  /** Unix time (s) of the last successful rewrite or save (LASTSAVE), or of start-up. */
  lastSaveTime = Math.floor(Date.now() / 1000);
  dirtyAtLastSave = 0;
  /** Step budget and such; tests make rewrites slower to catch them running. */
  rewriteOptions = DEFAULT_REWRITE_OPTIONS;
  #backoffMinutes = 0;
  #backoffUntil = 0;
  #cron: ReturnType<typeof setInterval> | undefined;

  constructor(readonly server: PersistenceHost<T>) {}

  get rewriteInProgress(): boolean {
    return this.rewrite !== undefined;
  }

  /** Forwards a key change to the running rewrite, which writes the key again. */
  keyChanged(db: Database, key: string): void {
    this.rewrite?.keyChanged(db, key);
  }

  databaseChanged(db: Database): void {
    this.rewrite?.databaseChanged(db);
  }

  /**
   * Loads the AOF (if enabled), opens it for appending and starts the cron.
   * Throws AofLoadError when the file cannot be loaded.
   */
  async start(): Promise<void> {
    const server = this.server;
    const { config, log } = server;
    if (config.appendonly) {
      const path = aofPath(config);
      this.loadProgress = { startedAt: Date.now(), totalBytes: 0, loadedBytes: 0 };
      try {
        await loadAppendOnlyFile(server, path, this.loadProgress);
      } finally {
        this.loadProgress = undefined;
      }
      const aof = AppendOnlyFile.open(path, config.appendfsync, log);
      aof.onStatusChange = (error) => {
        server.writeError = error === undefined
          ? undefined
          : `MISCONF Errors writing to the AOF file: ${error}`;
      };
      // Redis exits here too: see aof.ts on why `always` cannot carry on.
      aof.onFatal = () => Deno.exit(1);
      server.aof = aof;
      this.baseSize = aof.size;
    }
    this.dirtyAtLastSave = server.dirty;
    this.startCron();
  }

  /** Cancels a running rewrite, then writes what is buffered, fsyncs and closes the AOF. */
  stop(): void {
    if (this.#cron !== undefined) clearInterval(this.#cron);
    this.#cron = undefined;
    this.rewrite?.cancel();
    const aof = this.server.aof;
    if (aof === undefined) return;
    this.server.log.notice("Calling fsync() on the AOF file.");
    aof.close();
    this.server.aof = undefined;
  }

  /** Where rewrites write: the AOF path, even with appendonly no (like Redis). */
  get target(): string {
    return this.server.aof?.path ?? aofPath(this.server.config);
  }

  /** Starts a background rewrite; false (after logging why) if it cannot start. */
  startRewrite(): boolean {
    try {
      this.beginRewrite();
      return true;
    } catch (error) {
      if (error instanceof RewriteStartError) return false;
      throw error;
    }
  }

  /** Starts a background rewrite; throws RewriteStartError if it cannot. */
  beginRewrite(): AofRewrite {
    if (this.rewrite !== undefined) {
      throw new RewriteStartError("Background append only file rewriting already in progress");
    }
    let rewrite: AofRewrite;
    try {
      rewrite = new AofRewrite(this.server, this.target, true, this.rewriteOptions);
    } catch (error) {
      this.server.log.warning(`Can't start the AOF rewrite: ${describeError(error)}`);
      this.#recordFailure();
      throw new RewriteStartError(describeError(error));
    }
    this.rewrite = rewrite;
    this.server.log.notice("Background append only file rewriting started");
    void rewrite.done.then((result) => {
      if (this.rewrite === rewrite) this.rewrite = undefined;
      this.#record(result, rewrite);
    });
    return rewrite;
  }

  /** Rewrites synchronously (SAVE); false if it failed. */
  saveNow(): boolean {
    return this.save().ok;
  }

  /** Rewrites synchronously; the caller checks no rewrite is running. */
  save(): RewriteResult {
    let result: RewriteResult;
    try {
      const rewrite = new AofRewrite(this.server, this.target, false, this.rewriteOptions);
      result = rewrite.result!;
    } catch (error) {
      result = { ok: false, size: 0, seconds: 0, error: describeError(error) };
    }
    if (result.ok) {
      this.server.log.notice(`DB saved on disk (${this.target}, ${result.size} bytes)`);
    }
    this.#record(result, undefined);
    return result;
  }

  #record(result: RewriteResult, rewrite: AofRewrite | undefined): void {
    const log = this.server.log;
    if (result.error === "cancelled") return;
    this.lastRewriteSeconds = Math.floor(result.seconds);
    if (!result.ok) {
      log.warning(`Background AOF rewrite terminated with error: ${result.error}`);
      this.#recordFailure();
      return;
    }
    this.lastRewriteOk = true;
    this.rewrites++;
    this.consecutiveFailures = 0;
    this.baseSize = this.server.aof?.size ?? result.size;
    this.lastSaveTime = Math.floor(Date.now() / 1000);
    this.dirtyAtLastSave = this.server.dirty;
    if (rewrite !== undefined) {
      log.notice(
        `Background AOF rewrite finished successfully: ${result.size} bytes in ${
          result.seconds.toFixed(3)
        } seconds, ${rewrite.rounds} rounds, longest step ${
          rewrite.longestStepMs.toFixed(1)
        } ms, final step ${rewrite.finalStepMs.toFixed(1)} ms`,
      );
    }
  }

  #recordFailure(): void {
    this.lastRewriteOk = false;
    this.consecutiveFailures++;
  }

  /** Redis's aofRewriteLimited: whether automatic rewrites are backing off. */
  #backingOff(): boolean {
    if (this.consecutiveFailures < FAILURES_BEFORE_BACKOFF) {
      this.#backoffMinutes = 0;
      this.#backoffUntil = 0;
      return false;
    }
    if (this.#backoffUntil !== 0) {
      if (Date.now() < this.#backoffUntil) return true;
      this.#backoffUntil = 0;
      return false;
    }
    this.#backoffMinutes = Math.min(MAX_BACKOFF_MINUTES, Math.max(1, this.#backoffMinutes * 2));
    this.#backoffUntil = Date.now() + this.#backoffMinutes * 60_000;
    this.server.log.warning(
      `Background AOF rewrite has repeatedly failed and triggered the limit, will retry in ${this.#backoffMinutes} minutes`,
    );
    return true;
  }

  #onCron(): void {
    if (this.rewrite !== undefined) return;
    if (this.rewriteScheduled) {
      this.rewriteScheduled = false;
      this.startRewrite();
      return;
    }
    const aof = this.server.aof;
    const { autoAofRewritePercentage, autoAofRewriteMinSize } = this.server.config;
    if (
      aof === undefined || autoAofRewritePercentage === 0 || aof.size <= autoAofRewriteMinSize
    ) {
      return;
    }
    const growth = Math.floor(aof.size * 100 / (this.baseSize || 1)) - 100;
    if (growth < autoAofRewritePercentage || this.#backingOff()) return;
    this.server.log.notice(`Starting automatic rewriting of AOF on ${growth}% growth`);
    this.startRewrite();
  }

  startCron(): void {
    this.#cron ??= setInterval(() => this.#onCron(), CRON_INTERVAL_MS);
  }
}
