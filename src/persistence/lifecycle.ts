/**
 * Persistence over a server's life: load the data at start-up (the AOF with
 * `appendonly yes`, else dump.rdb), then write the AOF, take RDB snapshots
 * (SAVE, BGSAVE, save points), rewrite the AOF when asked or when it has
 * grown, and save or close at shutdown.
 *
 * `Persistence` is the server's `persistence` part: the server builds it
 * with itself as the `PersistenceHost`, start-up calls `start` and shutdown
 * `stop`, and the commands (SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE, MIGRATE)
 * reach it through the interface of commands/persistence.ts, which it
 * implements. So everything about how files are loaded, written, repaired
 * and rewritten stays inside src/persistence/, which depends only on the
 * host interface below, not on the server.
 *
 * A 10 Hz cron, like Redis's serverCron, starts what is due while nothing
 * runs in the background: a scheduled BGSAVE or rewrite, a save point that
 * is reached (`save 3600 1 300 100`: a BGSAVE when at least that many
 * changes happened that many seconds after the last save, retried 5
 * seconds after a failure), and the automatic rewrite when the AOF is at
 * least `auto-aof-rewrite-min-size` and has grown by
 * `auto-aof-rewrite-percentage` (after three failed rewrites in a row those
 * back off, 1 minute doubling up to an hour: Redis's aofRewriteLimited).
 * As in Redis, a BGSAVE and an AOF rewrite never run at the same time: one
 * asked for while the other runs is scheduled.
 *
 * Writes are refused with MISCONF while the disk misbehaves, by Redis's
 * rule (writeCommandsDeniedByDiskError): first when the last background
 * save failed, save points are set and `stop-writes-on-bgsave-error` is
 * on; then when the AOF cannot be written. The cron re-evaluates it, and
 * the server re-evaluates it at once on CONFIG SET of either parameter.
 *
 * No lock guards the file swaps against shutdown: each swap is one
 * synchronous step and so is `stop`, so on one thread they cannot
 * interleave; work interrupted at one of its awaits finds itself cancelled
 * and only removes its temporary files.
 *
 * @module
 */

import { aofPath } from "../config.ts";
import { aofWriteDenied, RDB_WRITE_DENIED } from "../commands/errors.ts";
import type { KeyTracker } from "../commands/context.ts";
import type { Database } from "../store/keyspace.ts";
import { AppendOnlyFile } from "./aof.ts";
import { describeError } from "./file_system.ts";
import { loadAppendOnlyFile, type LoadProgress, type LoadTarget } from "./loader.ts";
import { loadRdbFile, type RdbLoadTarget, reloadRdbFile } from "./rdb_loader.ts";
import { AofRewrite, DEFAULT_REWRITE_OPTIONS, type RewriteResult } from "./rewrite.ts";
import { BackgroundSave, rdbPath, saveRdb, type SaveResult } from "./snapshot.ts";

const CRON_INTERVAL_MS = 100;
/** Consecutive failures after which automatic rewrites back off. */
const FAILURES_BEFORE_BACKOFF = 3;
const MAX_BACKOFF_MINUTES = 60;
/** CONFIG_BGSAVE_RETRY_DELAY: a failed BGSAVE is retried by save points after this long. */
const BGSAVE_RETRY_DELAY_SECONDS = 5;

/** Thrown by `beginRewrite` when a rewrite cannot start. */
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
  /** Set while writes must be refused (MISCONF): persistence keeps it up to date. */
  writeError: string | undefined;
  /** The AOF the server appends effects to and flushes before replying. */
  aof: AppendOnlyFile | undefined;
  /** The function libraries to save (their source). */
  functionLibraries(): readonly string[];
  /** Receives each function library loaded from a file; throws when it does not load. */
  loadFunction(code: string): void;
  /** A long script is between slices (see RewriteSource.unitHeld). */
  readonly unitHeld: boolean;
  /** Every key of `db` may have changed at once (DEBUG RELOAD emptied it). */
  databaseChanged(db: Database): void;
}

class Tracker implements KeyTracker {
  readonly #changed = new Set<string>();
  #everything = false;

  constructor(
    readonly db: Database,
    readonly keys: ReadonlySet<string>,
    readonly owner: Set<Tracker>,
  ) {}

  mark(key: string): void {
    if (this.keys.has(key)) this.#changed.add(key);
  }

  markAll(): void {
    this.#everything = true;
  }

  changed(key: string): boolean {
    return this.#everything || this.#changed.has(key);
  }

  release(): void {
    this.owner.delete(this);
  }
}

/** A server's persistence part. */
export class Persistence<T = unknown> {
  /** Set while the data loads at start-up (INFO loading_*). */
  loadProgress: LoadProgress | undefined;
  /** The rewrite running now. */
  rewrite: AofRewrite | undefined;
  /** A rewrite was asked for while something ran in the background: start it next. */
  rewriteScheduled = false;
  lastRewriteOk = true;
  lastRewriteSeconds = -1;
  rewrites = 0;
  consecutiveFailures = 0;
  /** AOF size after the last rewrite or load: the base of the growth percentage. */
  baseSize = 0;
  /** The BGSAVE running now. */
  bgsave: BackgroundSave | undefined;
  /** A BGSAVE was asked for while a rewrite ran (BGSAVE SCHEDULE): start it next. */
  bgsaveScheduled = false;
  /** Whether the last save succeeded (rdb_last_bgsave_status; MISCONF when not). */
  lastBgsaveOk = true;
  /** Duration of the last BGSAVE in whole seconds, -1 before the first. */
  lastBgsaveSeconds = -1;
  /** Unix time (s) the last BGSAVE was started. */
  lastBgsaveTry = 0;
  /** Saves attempted, SAVE and BGSAVE (rdb_saves). */
  rdbSaves = 0;
  /** Unix time (s) of the last successful save (LASTSAVE), or of start-up. */
  lastSaveTime = Math.floor(Date.now() / 1000);
  /** The dirty counter the last save's content corresponds to. */
  dirtyAtLastSave = 0;
  /** Keys loaded and skipped as expired by the last RDB load (INFO rdb_last_load_*). */
  lastLoadKeysLoaded = 0;
  lastLoadKeysExpired = 0;
  /** Step budget and such; tests make background work slower to catch it running. */
  rewriteOptions = DEFAULT_REWRITE_OPTIONS;
  #aofError: string | undefined;
  readonly #trackers = new Set<Tracker>();
  #backoffMinutes = 0;
  #backoffUntil = 0;
  #cron: ReturnType<typeof setInterval> | undefined;

  constructor(readonly server: PersistenceHost<T>) {}

  get rewriteInProgress(): boolean {
    return this.rewrite !== undefined;
  }

  get bgsaveInProgress(): boolean {
    return this.bgsave !== undefined;
  }

  /** Whether a rewrite or a BGSAVE runs (Redis's hasActiveChildProcess). */
  get backgroundWorkInProgress(): boolean {
    return this.rewrite !== undefined || this.bgsave !== undefined;
  }

  /** Forwards a key change to the running rewrite and save, which write the key again. */
  keyChanged(db: Database, key: string): void {
    this.rewrite?.keyChanged(db, key);
    this.bgsave?.keyChanged(db, key);
    if (this.#trackers.size !== 0) {
      for (const tracker of this.#trackers) if (tracker.db === db) tracker.mark(key);
    }
  }

  databaseChanged(db: Database): void {
    this.rewrite?.databaseChanged(db);
    this.bgsave?.databaseChanged(db);
    for (const tracker of this.#trackers) if (tracker.db === db) tracker.markAll();
  }

  /** Starts telling whether any of `keys` in `db` changes. */
  trackKeys(db: Database, keys: Iterable<string>): KeyTracker {
    const tracker = new Tracker(db, new Set(keys), this.#trackers);
    this.#trackers.add(tracker);
    return tracker;
  }

  /** The function libraries a save writes. */
  functionLibraries(): readonly string[] {
    return this.server.functionLibraries();
  }

  /**
   * Loads the data (the AOF with appendonly yes, else dump.rdb), opens the
   * AOF for appending if enabled, and starts the cron. Throws AofLoadError
   * (or its RdbLoadError kind) when a file cannot be loaded.
   */
  async start(): Promise<void> {
    const server = this.server;
    const { config, log } = server;
    this.loadProgress = { startedAt: Date.now(), totalBytes: 0, loadedBytes: 0 };
    try {
      if (config.appendonly) {
        const path = aofPath(config);
        await loadAppendOnlyFile(server, path, this.loadProgress, {
          loadFunction: (code) => server.loadFunction(code),
        });
      } else {
        const result = await loadRdbFile(this.#rdbLoadTarget(), rdbPath(config), this.loadProgress);
        if (result !== undefined) {
          this.lastLoadKeysLoaded = result.keysLoaded;
          this.lastLoadKeysExpired = result.keysExpired;
        }
      }
    } finally {
      this.loadProgress = undefined;
    }
    if (config.appendonly) {
      const aof = AppendOnlyFile.open(aofPath(config), config.appendfsync, log);
      aof.onStatusChange = (error) => {
        this.#aofError = error;
        this.updateWriteError();
      };
      // Redis exits here too: see aof.ts on why `always` cannot carry on.
      aof.onFatal = () => Deno.exit(1);
      server.aof = aof;
      this.baseSize = aof.size;
    }
    this.dirtyAtLastSave = server.dirty;
    this.startCron();
  }

  /**
   * Shutdown: cancels the rewrite and the BGSAVE, saves dump.rdb when save
   * points are set (as Redis does unless SHUTDOWN NOSAVE; `save` forces
   * it), then writes what is buffered, fsyncs and closes the AOF.
   */
  stop(options: { save?: boolean } = {}): void {
    if (this.#cron !== undefined) clearInterval(this.#cron);
    this.#cron = undefined;
    this.rewrite?.cancel();
    const log = this.server.log;
    if (this.bgsave !== undefined) {
      log.warning("There is a child saving an .rdb. Killing it!");
      this.bgsave.cancel();
      this.bgsave = undefined;
    }
    // Half-loaded data is never saved, as in Redis.
    const save = !this.server.loading &&
      (options.save ?? this.server.config.savePoints.length > 0);
    if (save) {
      log.notice("Saving the final RDB snapshot before exiting.");
      if (!this.saveNow()) log.warning("Error trying to save the DB, can't exit.");
    }
    const aof = this.server.aof;
    if (aof === undefined) return;
    log.notice("Calling fsync() on the AOF file.");
    aof.close();
    this.server.aof = undefined;
  }

  /** Where rewrites write: the AOF path, even with appendonly no (like Redis). */
  get target(): string {
    return this.server.aof?.path ?? aofPath(this.server.config);
  }

  /** Where SAVE and BGSAVE write: `dbfilename` in `dir`. */
  get dumpPath(): string {
    return rdbPath(this.server.config);
  }

  // ---------------------------------------------------------------------------
  // RDB snapshots

  /** SAVE: writes dump.rdb now, synchronously; false if it failed. */
  saveNow(): boolean {
    this.rdbSaves++;
    const result = saveRdb(this.#snapshotSource(), this.dumpPath);
    if (result.ok) this.#recordSave(result);
    return result.ok;
  }

  /**
   * DEBUG RELOAD: saves dump.rdb (unless `save` is false), empties every
   * database (unless `flush` is false) and loads the file back, all
   * synchronously; with `merge`, loaded keys replace existing ones. Returns
   * the error reply when it fails, as Redis words it.
   */
  reloadNow(options: { save: boolean; flush: boolean; merge: boolean }): string | undefined {
    const server = this.server;
    if (options.save && !this.saveNow()) return "ERR Error trying to save the RDB file";
    if (options.flush) {
      for (const db of server.keyspace.databases) {
        db.clear();
        server.databaseChanged(db);
      }
    }
    try {
      reloadRdbFile(this.#rdbLoadTarget(), this.dumpPath, options.merge);
    } catch (error) {
      server.log.warning(`DEBUG RELOAD could not load the RDB file: ${describeError(error)}`);
      return "ERR Error trying to load the RDB dump, check server logs.";
    }
    return undefined;
  }

  #rdbLoadTarget(): RdbLoadTarget {
    const server = this.server;
    return {
      log: server.log,
      config: server.config,
      keyspace: server.keyspace,
      get loading() {
        return server.loading;
      },
      set loading(value: boolean) {
        server.loading = value;
      },
      loadFunction: (code) => server.loadFunction(code),
    };
  }

  /**
   * Starts a BGSAVE; false (after logging why) if it cannot start. The
   * caller checks that nothing runs in the background.
   */
  startBackgroundSave(): boolean {
    const log = this.server.log;
    this.rdbSaves++;
    this.lastBgsaveTry = Math.floor(Date.now() / 1000);
    let save: BackgroundSave;
    try {
      save = new BackgroundSave(this.#snapshotSource(), this.dumpPath, this.rewriteOptions);
    } catch (error) {
      log.warning(`Can't save in background: ${describeError(error)}`);
      this.lastBgsaveOk = false;
      this.updateWriteError();
      return false;
    }
    this.bgsave = save;
    log.notice("Background saving started");
    void save.done.then((result) => {
      if (this.bgsave === save) this.bgsave = undefined;
      this.#bgsaveDone(result, save);
    });
    return true;
  }

  /**
   * FLUSHALL: a running BGSAVE is stopped (its content is gone), and with
   * save points the empty data set is saved at once, as Redis does.
   */
  flushedAll(): void {
    if (this.bgsave !== undefined) {
      this.bgsave.cancel();
      this.bgsave = undefined;
    }
    if (this.server.config.savePoints.length > 0) this.saveNow();
  }

  #snapshotSource() {
    const server = this.server;
    return {
      keyspace: server.keyspace,
      log: server.log,
      config: server.config,
      get dirty() {
        return server.dirty;
      },
      get unitHeld() {
        return server.unitHeld;
      },
      functionLibraries: () => this.functionLibraries(),
    };
  }

  #recordSave(result: SaveResult): void {
    this.lastSaveTime = Math.floor(Date.now() / 1000);
    this.dirtyAtLastSave = result.dirtyAtSnapshot;
    this.lastBgsaveOk = true;
    this.updateWriteError();
  }

  #bgsaveDone(result: SaveResult, save: BackgroundSave): void {
    const log = this.server.log;
    // A cancelled save (shutdown, FLUSHALL) is like a child killed on purpose: no verdict.
    if (result.error === "cancelled") return;
    this.lastBgsaveSeconds = Math.floor(result.seconds);
    if (result.ok) {
      log.notice("DB saved on disk");
      log.notice(
        `Background saving terminated with success: ${result.size} bytes in ${
          result.seconds.toFixed(3)
        } seconds, ${save.rounds} rounds, longest step ${
          save.longestStepMs.toFixed(1)
        } ms, final step ${save.finalStepMs.toFixed(1)} ms`,
      );
      this.#recordSave(result);
    } else {
      log.warning("Background saving error");
      this.lastBgsaveOk = false;
      this.updateWriteError();
    }
  }

  /** Sets the host's write error by Redis's rule (see the module doc). */
  updateWriteError(): void {
    const config = this.server.config;
    let error: string | undefined;
    if (config.stopWritesOnBgsaveError && config.savePoints.length > 0 && !this.lastBgsaveOk) {
      error = RDB_WRITE_DENIED;
    } else if (this.#aofError !== undefined) {
      error = aofWriteDenied(this.#aofError);
    }
    if (this.server.writeError !== error) this.server.writeError = error;
  }

  // ---------------------------------------------------------------------------
  // AOF rewrites

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
      rewrite = new AofRewrite(this.#rewriteSource(), this.target, true, this.rewriteOptions);
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

  /** Rewrites the AOF synchronously (tests, tools); the caller checks no rewrite is running. */
  rewriteNow(): RewriteResult {
    let result: RewriteResult;
    try {
      const rewrite = new AofRewrite(
        this.#rewriteSource(),
        this.target,
        false,
        this.rewriteOptions,
      );
      result = rewrite.result!;
    } catch (error) {
      result = { ok: false, size: 0, seconds: 0, error: describeError(error) };
    }
    this.#record(result, undefined);
    return result;
  }

  #rewriteSource() {
    const server = this.server;
    return {
      keyspace: server.keyspace,
      log: server.log,
      config: server.config,
      get aof() {
        return server.aof;
      },
      get unitHeld() {
        return server.unitHeld;
      },
      functionLibraries: () => this.functionLibraries(),
    };
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

  // ---------------------------------------------------------------------------
  // The cron

  /** Whether a failed BGSAVE may be retried now (or the last one went well). */
  #mayRetrySave(now: number): boolean {
    return this.lastBgsaveOk || now - this.lastBgsaveTry > BGSAVE_RETRY_DELAY_SECONDS;
  }

  #onCron(): void {
    this.updateWriteError();
    if (this.backgroundWorkInProgress) return;
    const now = Math.floor(Date.now() / 1000);
    if (this.bgsaveScheduled && this.#mayRetrySave(now)) {
      if (this.startBackgroundSave()) this.bgsaveScheduled = false;
      return;
    }
    if (this.rewriteScheduled && !this.#backingOff()) {
      this.rewriteScheduled = false;
      this.startRewrite();
      return;
    }
    const changes = this.server.dirty - this.dirtyAtLastSave;
    for (const point of this.server.config.savePoints) {
      if (
        changes >= point.changes && now - this.lastSaveTime > point.seconds &&
        this.#mayRetrySave(now)
      ) {
        this.server.log.notice(`${point.changes} changes in ${point.seconds} seconds. Saving...`);
        this.startBackgroundSave();
        return;
      }
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
