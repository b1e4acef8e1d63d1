/**
 * RDB snapshots: SAVE writes dump.rdb synchronously, BGSAVE in the
 * background while clients keep working.
 *
 * Both write what Redis's rdbSaveRio writes — the header, the aux fields,
 * the function libraries, per non-empty database a SELECTDB and RESIZEDB
 * and its keys, the EOF opcode and the CRC64 — to a temporary file in
 * `dir`, fsync it, rename it over `dbfilename` and fsync the directory, so
 * a crash at any moment leaves either the old dump or the new one. Keys
 * past their deadline are left out.
 *
 * Redis's BGSAVE forks: the child writes the frozen copy of memory the
 * fork gave it, the snapshot of the moment BGSAVE started. One thread
 * cannot fork, and a snapshot of the start needs a pre-image of every key
 * before it is first changed, which nothing here provides (the server
 * hears of changes after they happen). So, like the AOF rewrite
 * (rewrite.ts), the background save aims at the moment it *finishes*:
 *
 * - Round 0 walks every database's keys, a few milliseconds at a time,
 *   and encodes each key's record (expiry, type, key, value) into a scratch
 *   file, remembering for each record its key and where it ends. A key
 *   changed meanwhile is recorded as dirty (through the server's key-change
 *   listeners) and its record, if already written, as superseded; a key
 *   that is dirty when the walk reaches it is left for the next round.
 * - Each later round encodes the current record of every key that became
 *   dirty (nothing, if it is gone) and appends it to the scratch file. A
 *   database that changed as a whole (FLUSHDB, SWAPDB) is walked again
 *   from scratch. Rounds repeat while they shrink, up to a limit.
 * - The final round runs synchronously: after it, the content of the dump
 *   is fixed — the latest record of every key, exactly the data at that
 *   instant — and nothing that happens later can change it. Writing that
 *   content (copying the live records from the scratch file into the dump,
 *   database by database, with the CRC) then proceeds in the background
 *   again, since it no longer depends on the keyspace.
 *
 * An RDB file cannot say "this key again" (Redis refuses a file with a
 * duplicated key), which is why superseded records stay in the scratch
 * file and are skipped when the dump is assembled, instead of being
 * followed by newer ones as in the AOF rewrite. The price, compared with
 * a fork: the scratch file (about the size of the dump) on disk next to
 * it, about 20 bytes of memory per key for the record index, and a final
 * pause that grows with the keys changed during the last round. Against
 * that, memory does not grow with the write rate during the save as a
 * fork's copy-on-write pages do.
 *
 * Replication uses the same save for a full resynchronisation. The moment
 * the content is fixed is also the moment whose replication offset the
 * replicas are told (`+FULLRESYNC <replid> <offset>`): `onContentFixed`
 * runs synchronously at that instant and returns the `repl-*` aux fields
 * the file then carries. Instead of a path, the target can be an
 * `RdbStreamTarget` (a diskless sync writes straight to the replicas'
 * sockets): no output file then, only the scratch file, and the target's
 * `write` may return a promise that holds the assembly back while the
 * sockets drain. `label` keeps the temporary files of saves running at
 * the same time apart.
 *
 * @module
 */

import { join } from "node:path";
import { binaryToText, type Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { Database, Keyspace } from "../store/keyspace.ts";
import { yieldToEventLoop } from "./event_loop.ts";
import { describeError, fileSystem, type PersistenceFile } from "./file_system.ts";
import {
  defaultAuxFields,
  type RdbAuxField,
  RdbFileWriter,
  RdbKeyEncoder,
  type RdbWriterOptions,
} from "../rdb/mod.ts";
import { encodingLimitsOf, rdbSourceOf } from "../rdb/values.ts";

/** What a snapshot reads. */
export interface SnapshotSource {
  readonly keyspace: Keyspace;
  readonly log: Logger;
  readonly config: Config;
  /** Changes since start (the server's dirty counter), read at the moment the content is fixed. */
  readonly dirty: number;
  /** The function libraries to save, as their source code. */
  functionLibraries(): readonly string[];
  /** A long script is between slices: its writes are applied but not logged (see rewrite.ts). */
  readonly unitHeld: boolean;
}

/** How a save went. */
export interface SaveResult {
  ok: boolean;
  /** Size of the file written. */
  size: number;
  seconds: number;
  /** The dirty counter at the instant the saved content was fixed. */
  dirtyAtSnapshot: number;
  /** Why it failed (or "cancelled"). */
  error?: string;
}

/** Options of a background save. */
export interface SnapshotOptions {
  /** Longest a step may hold the event loop before yielding, in ms. */
  stepBudgetMs: number;
  /** Names the temporary files (`temp-<label>-<pid>.rdb`); default `bg`. */
  label?: string;
  /**
   * Runs at the instant the content is fixed, before anything else can
   * change data; returns aux fields written before `aof-base`
   * (replication's `repl-stream-db`, `repl-id`, `repl-offset`).
   */
  onContentFixed?: () => readonly RdbAuxField[];
}

/**
 * Where a background save streams the RDB instead of a file. `write`
 * takes the next bytes; a promise it returns holds the save back until it
 * settles (a rejected one fails the save).
 */
export interface RdbStreamTarget {
  write(bytes: Uint8Array): void | Promise<void>;
}

export const DEFAULT_SNAPSHOT_OPTIONS: SnapshotOptions = { stepBudgetMs: 10 };

/** Encoded output goes to a file in pieces of about this size. */
const WRITE_SIZE = 1024 * 1024;
/** Rounds repeat until at most this many keys are left for the final one. */
const FINAL_ROUND_KEYS = 1000;
const MAX_ROUNDS = 10;

/** Path of the dump: `dbfilename` inside `dir`. */
export function rdbPath(config: Config): string {
  return join(binaryToText(config.dir), binaryToText(config.dbfilename));
}

/** The writer options a save of `source` uses: compression, checksum, limits, aux fields. */
export function writerOptions(config: Config, aofBase = false): RdbWriterOptions {
  return {
    compression: config.rdbcompression,
    checksum: config.rdbchecksum,
    limits: encodingLimitsOf(config),
    usedMemory: Deno.memoryUsage().rss,
    aofBase,
  };
}

/** Writes all of `bytes` to `file`. */
function writeAll(file: PersistenceFile, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.byteLength) offset += file.writeSync(bytes.subarray(offset));
}

/**
 * Writes every live key of `db` with `writer` (but those `skip` says to
 * leave out), taking its bytes to `emit` whenever a piece is ready; yields
 * after each key.
 */
export function* writeDatabase(
  writer: RdbFileWriter,
  db: Database,
  now: number,
  emit: (bytes: Uint8Array) => void,
  skip?: (key: string) => boolean,
): Generator<void> {
  if (db.size === 0) return;
  let expiring = 0;
  for (const deadline of db.expires.values()) if (deadline > now) expiring++;
  writer.selectDatabase(db.index, db.size, expiring);
  const expires = db.expires;
  for (const [key, value] of db.entries) {
    const deadline = expires.size === 0 ? undefined : expires.get(key);
    if (deadline !== undefined && deadline <= now) continue;
    if (skip?.(key)) continue;
    writer.writeKey(
      key,
      rdbSourceOf(value),
      deadline === undefined ? undefined : { expireAt: deadline },
    );
    if (writer.pendingBytes >= WRITE_SIZE) emit(writer.take());
    yield;
  }
}

/**
 * SAVE: writes the dump synchronously to `path` (via a temporary file).
 * Throws nothing: failures are in the result, with Redis's log lines.
 */
export function saveRdb(source: SnapshotSource, path: string): SaveResult {
  const started = performance.now();
  const files = fileSystem();
  const temporary = join(dirnameOf(path), `temp-${Deno.pid}.rdb`);
  const log = source.log;
  let file: PersistenceFile;
  try {
    file = files.create(temporary);
  } catch (error) {
    log.warning(
      `Failed opening the temp RDB file ${temporary} (in server root dir ${Deno.cwd()}) for saving: ${
        describeError(error)
      }`,
    );
    return failed(started, source, describeError(error));
  }
  let size = 0;
  try {
    const writer = new RdbFileWriter(writerOptions(source.config));
    const emit = (bytes: Uint8Array) => {
      writeAll(file, bytes);
      size += bytes.byteLength;
    };
    for (const code of source.functionLibraries()) writer.writeFunction(code);
    const now = source.keyspace.clock.now();
    for (const db of source.keyspace.databases) {
      for (const _ of writeDatabase(writer, db, now, emit));
    }
    emit(writer.finish());
    file.syncDataSync();
    file.close();
  } catch (error) {
    closeQuietly(file);
    removeQuietly(temporary, log);
    log.warning(`Write error saving DB on disk: ${describeError(error)}`);
    return failed(started, source, describeError(error));
  }
  try {
    files.rename(temporary, path);
  } catch (error) {
    log.warning(
      `Error moving temp DB file ${temporary} on the final destination ${path} (in server root dir ${Deno.cwd()}): ${
        describeError(error)
      }`,
    );
    removeQuietly(temporary, log);
    return failed(started, source, describeError(error));
  }
  syncDirectory(path, log);
  log.notice("DB saved on disk");
  return {
    ok: true,
    size,
    seconds: (performance.now() - started) / 1000,
    dirtyAtSnapshot: source.dirty,
  };
}

function failed(started: number, source: SnapshotSource, error: string): SaveResult {
  return {
    ok: false,
    size: 0,
    seconds: (performance.now() - started) / 1000,
    dirtyAtSnapshot: source.dirty,
    error,
  };
}

function dirnameOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
}

function closeQuietly(file: PersistenceFile | Deno.FsFile): void {
  try {
    file.close();
  } catch {
    // Already closed.
  }
}

function removeQuietly(path: string, log: Logger): void {
  try {
    fileSystem().remove(path);
  } catch (error) {
    log.warning(`Could not remove the temporary file ${path}: ${describeError(error)}`);
  }
}

function syncDirectory(path: string, log: Logger): void {
  try {
    fileSystem().syncDirectoryOf(path);
  } catch (error) {
    log.warning(`Error fsyncing the directory of ${path}: ${describeError(error)}`);
  }
}

class Cancelled extends Error {}

/** A growable array of float64 (record end offsets). */
class Offsets {
  values = new Float64Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }
}

/** A growable array of bytes (one flag per record). */
class Flags {
  values = new Uint8Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Uint8Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }
}

/** A record appended in a later round. */
interface ExtraRecord {
  key: string;
  start: number;
  end: number;
  expiring: boolean;
}

/**
 * Where one database's records are in the scratch file. A walk record is
 * superseded once its key has a later record (or is known to be gone).
 */
class DatabaseRecords {
  /** Where the database's walk starts in the scratch file; its records follow back to back. */
  walkStart = 0;
  readonly walkKeys: string[] = [];
  readonly walkEnds = new Offsets();
  readonly walkExpiring = new Flags();
  readonly extras: ExtraRecord[] = [];
  /** The latest extra record of a key (its index in `extras`), or -1 when the key is gone. */
  readonly latest = new Map<string, number>();
}

/** Keys and databases to write in a round. */
interface Work {
  /** Databases walked whole (their previous records all superseded). */
  databases: Set<number>;
  /** Keys whose current record is appended, per database. */
  keys: Map<number, Set<string>>;
}

/**
 * One BGSAVE, from the first key to the rename. While it runs, its owner
 * forwards key and database changes to `keyChanged` and `databaseChanged`.
 */
export class BackgroundSave {
  readonly startedAt = performance.now();
  /** Resolves when the save has finished, failed or been cancelled. */
  readonly done: Promise<SaveResult>;
  /** Longest time one step held the event loop, in ms. */
  longestStepMs = 0;
  /** How long the synchronous final round took, in ms. */
  finalStepMs = 0;
  rounds = 0;
  /** Keys encoded so far, and keys there were at the start (INFO current_save_keys_*). */
  keysProcessed = 0;
  readonly keysTotal: number;
  readonly #source: SnapshotSource;
  readonly #target: string | RdbStreamTarget;
  readonly #temporary: string;
  readonly #scratchPath: string;
  readonly #options: SnapshotOptions;
  readonly #encoder: RdbKeyEncoder;
  #scratch: Deno.FsFile | undefined;
  /** Bytes written to the scratch file so far. */
  #flushed = 0;
  readonly #records: (DatabaseRecords | undefined)[] = [];
  #next: Work = { databases: new Set(), keys: new Map() };
  /** The database being walked whole, and whether a change reset it meanwhile. */
  #walking: { index: number; reset: boolean } | undefined;
  #listening = true;
  #cancelled = false;
  #finished = false;
  #dirtyAtSnapshot = 0;

  /**
   * Starts saving `source` into `target` (a path, or a stream whose scratch
   * file goes in `dir`); a failure shows in `done`.
   */
  constructor(
    source: SnapshotSource,
    target: string | RdbStreamTarget,
    options: SnapshotOptions = DEFAULT_SNAPSHOT_OPTIONS,
  ) {
    this.#source = source;
    this.#target = target;
    this.#options = options;
    const directory = typeof target === "string"
      ? dirnameOf(target)
      : binaryToText(source.config.dir);
    const label = options.label ?? "bg";
    this.#temporary = join(directory, `temp-${label}-${Deno.pid}.rdb`);
    this.#scratchPath = join(directory, `temp-${label}-${Deno.pid}.rdb.records`);
    const config = source.config;
    this.#encoder = new RdbKeyEncoder({
      compression: config.rdbcompression,
      limits: encodingLimitsOf(config),
    });
    this.keysTotal = source.keyspace.keyCount;
    const everything: Work = {
      databases: new Set(source.keyspace.databases.map((db) => db.index)),
      keys: new Map(),
    };
    this.done = this.#run(everything);
  }

  /** `key` changed: its record so far is superseded and it is encoded again. */
  keyChanged(db: Database, key: string): void {
    if (!this.#listening) return;
    if (this.#next.databases.has(db.index)) return;
    let keys = this.#next.keys.get(db.index);
    if (keys === undefined) this.#next.keys.set(db.index, keys = new Set());
    keys.add(key);
  }

  /** Every key of `db` may have changed: the database is walked again from scratch. */
  databaseChanged(db: Database): void {
    if (!this.#listening) return;
    this.#records[db.index] = undefined;
    if (this.#walking?.index === db.index) this.#walking.reset = true;
    this.#next.databases.add(db.index);
    this.#next.keys.delete(db.index);
  }

  /** Stops the save and removes its temporary files (shutdown, FLUSHALL). */
  cancel(): void {
    if (this.#finished) return;
    this.#cancelled = true;
    this.#listening = false;
    this.#cleanUp();
  }

  async #run(everything: Work): Promise<SaveResult> {
    let writer: RdbFileWriter;
    let output: PersistenceFile | undefined;
    try {
      // Let the command that started the save reply first. As with Redis's
      // child, a file that cannot be created fails the save, not the BGSAVE.
      await yieldToEventLoop();
      this.#check();
      this.#scratch = Deno.openSync(this.#scratchPath, {
        read: true,
        write: true,
        create: true,
        truncate: true,
      });
      let work = everything;
      for (;;) {
        await this.#runInSteps(this.#round(work));
        this.rounds++;
        work = this.#takeNext();
        if (workSize(this.#source, work) <= FINAL_ROUND_KEYS || this.rounds >= MAX_ROUNDS) break;
      }
      // A script half done is no instant to save: wait for its end.
      while (this.#source.unitHeld) {
        await yieldToEventLoop();
        this.#check();
      }
      // The final round: synchronous, so the content is that of this instant.
      const finalStart = performance.now();
      for (const _ of this.#round(this.#mergedWith(work)));
      this.#listening = false;
      this.#dirtyAtSnapshot = this.#source.dirty;
      const extraAux = this.#options.onContentFixed?.() ?? [];
      this.#flushScratch();
      writer = new RdbFileWriter(withAux(writerOptions(this.#source.config), extraAux));
      for (const code of this.#source.functionLibraries()) writer.writeFunction(code);
      this.finalStepMs = performance.now() - finalStart;
      this.longestStepMs = Math.max(this.longestStepMs, this.finalStepMs);

      const target = this.#target;
      let size = 0;
      if (typeof target !== "string") {
        const send = async (bytes: Uint8Array) => {
          size += bytes.byteLength;
          await target.write(bytes);
          this.#check();
        };
        await this.#assemble(writer, send);
        await send(writer.finish());
        this.#finished = true;
        this.#removeScratch();
        return { ok: true, size, seconds: this.#seconds(), dirtyAtSnapshot: this.#dirtyAtSnapshot };
      }
      output = fileSystem().create(this.#temporary);
      const emit = (bytes: Uint8Array) => {
        writeAll(output!, bytes);
        size += bytes.byteLength;
      };
      await this.#assemble(writer, emit);
      emit(writer.finish());
      await output.syncData();
      this.#check();
      output.close();
      fileSystem().rename(this.#temporary, target);
      this.#finished = true;
      this.#removeScratch();
      syncDirectory(target, this.#source.log);
      return {
        ok: true,
        size,
        seconds: this.#seconds(),
        dirtyAtSnapshot: this.#dirtyAtSnapshot,
      };
    } catch (error) {
      if (output !== undefined) closeQuietly(output);
      if (!this.#finished) this.#cleanUp();
      const reason = this.#cancelled ? "cancelled" : describeError(error);
      if (!this.#cancelled) this.#source.log.warning(`Write error saving DB on disk: ${reason}`);
      return {
        ok: false,
        size: 0,
        seconds: this.#seconds(),
        dirtyAtSnapshot: this.#dirtyAtSnapshot,
        error: reason,
      };
    }
  }

  #check(): void {
    if (this.#cancelled) throw new Cancelled();
  }

  /** Runs `steps` a time budget at a time, yielding to the event loop in between. */
  async #runInSteps(steps: Generator<void>): Promise<void> {
    const budget = this.#options.stepBudgetMs;
    for (;;) {
      const stepStart = performance.now();
      let done = false;
      for (let count = 1;; count++) {
        if (steps.next().done) {
          done = true;
          break;
        }
        if ((count & 15) === 0 && performance.now() - stepStart >= budget) break;
      }
      this.#flushScratchIfLarge();
      this.longestStepMs = Math.max(this.longestStepMs, performance.now() - stepStart);
      if (done) return;
      await yieldToEventLoop();
      this.#check();
    }
  }

  /** Encodes a round's work into the scratch file; yields after each key. */
  *#round(work: Work): Generator<void> {
    const databases = this.#source.keyspace.databases;
    for (const index of [...work.databases].sort((a, b) => a - b)) {
      yield* this.#walk(databases[index]!);
    }
    for (const [index, keys] of work.keys) {
      if (work.databases.has(index)) continue;
      const records = this.#records[index];
      // A database never walked (or reset) is walked whole in a later round.
      if (records === undefined) continue;
      for (const key of keys) {
        this.#encodeLatest(databases[index]!, records, key);
        yield;
      }
    }
  }

  /** Where the next record starts in the scratch file. */
  get #position(): number {
    return this.#flushed + this.#encoder.pendingBytes;
  }

  /** Walks `db` whole: its records so far are dropped and every live key is encoded. */
  *#walk(db: Database): Generator<void> {
    const records = new DatabaseRecords();
    records.walkStart = this.#position;
    this.#records[db.index] = records;
    const walking = { index: db.index, reset: false };
    this.#walking = walking;
    const expires = db.expires;
    const clock = this.#source.keyspace.clock;
    const encoder = this.#encoder;
    for (const [key, value] of db.entries) {
      if (walking.reset) break;
      // Changed since the round began: encoded in the next round instead.
      if (this.#next.keys.get(db.index)?.has(key)) continue;
      const deadline = expires.size === 0 ? undefined : expires.get(key);
      if (deadline !== undefined && deadline <= clock.now()) continue;
      encoder.writeKey(
        key,
        rdbSourceOf(value),
        deadline === undefined ? undefined : { expireAt: deadline },
      );
      records.walkKeys.push(key);
      records.walkEnds.push(this.#position);
      records.walkExpiring.push(deadline === undefined ? 0 : 1);
      this.keysProcessed++;
      yield;
    }
    this.#walking = undefined;
  }

  /** Appends the current record of `key` (or notes that it is gone). */
  #encodeLatest(db: Database, records: DatabaseRecords, key: string): void {
    const value = db.entries.get(key);
    const deadline = db.expires.size === 0 ? undefined : db.expires.get(key);
    if (
      value === undefined ||
      (deadline !== undefined && deadline <= this.#source.keyspace.clock.now())
    ) {
      records.latest.set(key, -1);
      return;
    }
    const start = this.#position;
    this.#encoder.writeKey(
      key,
      rdbSourceOf(value),
      deadline === undefined ? undefined : { expireAt: deadline },
    );
    records.latest.set(key, records.extras.length);
    records.extras.push({ key, start, end: this.#position, expiring: deadline !== undefined });
    this.keysProcessed++;
  }

  #flushScratchIfLarge(): void {
    if (this.#encoder.pendingBytes >= WRITE_SIZE) this.#flushScratch();
  }

  #flushScratch(): void {
    const bytes = this.#encoder.take();
    if (bytes.byteLength === 0) return;
    const scratch = this.#scratch!;
    let offset = 0;
    while (offset < bytes.byteLength) offset += scratch.writeSync(bytes.subarray(offset));
    this.#flushed += bytes.byteLength;
  }

  /**
   * Writes the fixed content: per database with live records, SELECTDB and
   * RESIZEDB, then its live records copied from the scratch file.
   */
  async #assemble(
    writer: RdbFileWriter,
    emit: (bytes: Uint8Array) => void | Promise<void>,
  ): Promise<void> {
    const scratch = this.#scratch!;
    const buffer = new Uint8Array(WRITE_SIZE);
    const copy = async (start: number, end: number) => {
      let position = start;
      while (position < end) {
        scratch.seekSync(position, Deno.SeekMode.Start);
        const count = await scratch.read(
          buffer.subarray(0, Math.min(buffer.length, end - position)),
        );
        if (count === null || count === 0) throw new Error("Short read of the scratch file");
        writer.writeRaw(buffer.subarray(0, count));
        if (writer.pendingBytes >= WRITE_SIZE) await emit(writer.take());
        position += count;
      }
      this.#check();
    };
    for (let index = 0; index < this.#records.length; index++) {
      const records = this.#records[index];
      if (records === undefined) continue;
      const { walkKeys, walkEnds, walkExpiring, extras, latest } = records;
      let live = 0;
      let expiring = 0;
      for (let i = 0; i < walkKeys.length; i++) {
        if (latest.has(walkKeys[i]!)) continue;
        live++;
        expiring += walkExpiring.values[i]!;
      }
      for (let i = 0; i < extras.length; i++) {
        if (latest.get(extras[i]!.key) !== i) continue;
        live++;
        if (extras[i]!.expiring) expiring++;
      }
      if (live === 0) continue;
      writer.selectDatabase(index, live, expiring);
      // Runs of consecutive live records are copied in one go.
      let runStart = -1;
      let previousEnd = records.walkStart;
      for (let i = 0; i < walkKeys.length; i++) {
        const end = walkEnds.values[i]!;
        const keep = !latest.has(walkKeys[i]!);
        if (keep && runStart < 0) runStart = previousEnd;
        if (!keep && runStart >= 0) {
          await copy(runStart, previousEnd);
          runStart = -1;
        }
        previousEnd = end;
      }
      if (runStart >= 0) await copy(runStart, previousEnd);
      for (let i = 0; i < extras.length; i++) {
        const extra = extras[i]!;
        if (latest.get(extra.key) === i) await copy(extra.start, extra.end);
      }
    }
  }

  #takeNext(): Work {
    const work = this.#next;
    this.#next = { databases: new Set(), keys: new Map() };
    return work;
  }

  /** `work` plus whatever changed since it was taken: the final round's work. */
  #mergedWith(work: Work): Work {
    const next = this.#takeNext();
    for (const index of next.databases) {
      work.databases.add(index);
      work.keys.delete(index);
    }
    for (const [index, keys] of next.keys) {
      if (work.databases.has(index)) continue;
      let merged = work.keys.get(index);
      if (merged === undefined) work.keys.set(index, merged = new Set());
      for (const key of keys) merged.add(key);
    }
    return work;
  }

  #seconds(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  #removeScratch(): void {
    if (this.#scratch !== undefined) closeQuietly(this.#scratch);
    this.#scratch = undefined;
    try {
      Deno.removeSync(this.#scratchPath);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        this.#source.log.warning(
          `Could not remove the scratch file ${this.#scratchPath}: ${describeError(error)}`,
        );
      }
    }
  }

  #cleanUp(): void {
    this.#listening = false;
    this.#finished = true;
    this.#removeScratch();
    if (typeof this.#target === "string") removeQuietly(this.#temporary, this.#source.log);
  }
}

/** `options` with `extra` aux fields written before `aof-base`, as Redis orders them. */
function withAux(options: RdbWriterOptions, extra: readonly RdbAuxField[]): RdbWriterOptions {
  if (extra.length === 0) return options;
  const aux = defaultAuxFields(options);
  const aofBase = aux.findIndex((field) => field.name === "aof-base");
  aux.splice(aofBase < 0 ? aux.length : aofBase, 0, ...extra);
  return { ...options, aux };
}

/** Keys a round of `work` would encode. */
function workSize(source: SnapshotSource, work: Work): number {
  let size = 0;
  for (const index of work.databases) size += source.keyspace.databases[index]!.size;
  for (const [index, keys] of work.keys) if (!work.databases.has(index)) size += keys.size;
  return size;
}
