/**
 * AOF rewrite (compaction): the smallest command sequence that recreates the
 * data, written while clients keep working.
 *
 * Output is what Redis's rewriteAppendOnlyFileRio writes: per database a
 * SELECT, then per key one SET, or RPUSH/SADD/HSET/ZADD commands of at most
 * 64 elements each (AOF_REWRITE_ITEMS_PER_CMD), then PEXPIREAT if the key
 * has a deadline; keys already past their deadline are left out. It goes to
 * a temporary file next to the AOF, which is fsynced, renamed over the AOF
 * and followed by an fsync of the directory; the writer then continues in
 * the new file. Until the rename the old file is complete and untouched;
 * after it the new one is, so a crash at any moment leaves one complete file.
 *
 * Redis forks so the child sees a frozen copy of memory. One thread cannot,
 * and the designs that imitate a frozen copy all pay somewhere: copying every
 * collection up front stalls for O(data) and doubles memory; a rewrite
 * buffer of the commands run meanwhile double-applies any command on a key
 * the rewriter reaches after the command ran (the key is written with its
 * new value, then the buffered INCR or LPUSH runs again on top); copy-on-
 * write needs a hook before every modification, which the keyspace does not
 * have. So this rewrite does not aim at the moment it started but at the
 * moment it finishes, in rounds, like a live migration:
 * - Round 0 walks every database's live key map a few milliseconds at a time
 *   (yielding to the event loop between steps) and writes each key's value
 *   as it is when reached.
 * - Meanwhile every key a command changes (including expiry and deletion) is
 *   recorded through the server's key-change listeners, and a database that
 *   changes as a whole (FLUSHDB, FLUSHALL, SWAPDB) is recorded as such. A key
 *   changed while it is half written is abandoned there.
 * - Each later round writes, for every recorded key, `DEL key` followed by its
 *   current value (nothing if it is gone), and for every recorded database
 *   `FLUSHDB` followed by all its keys. The DEL makes the order of earlier
 *   writes irrelevant: the last write of a key in the file is its value at
 *   the time of that write. Rounds repeat while they shrink, then the file
 *   is fsynced in the background.
 * - The final round runs synchronously together with the fsync, rename and
 *   switch, so no command can run in between: the new file holds exactly the
 *   data at that instant, and every command run after it goes to the new
 *   file. Commands still buffered for the old file are already reflected in
 *   it and are dropped by AppendOnlyFile.replaceFile.
 * The price: keys written while the rewrite runs appear in the new file more
 * than once (compacted by the next rewrite), and the final pause grows with
 * the number and size of keys changed during the last round — small, since
 * rounds repeat until few keys are left. Memory is O(keys changed), with no
 * copy of any value. The longest step is logged.
 *
 * With `aof-use-rdb-preamble yes` round 0 writes an RDB file instead of
 * commands (Redis's preamble: the same data in a fraction of the size and
 * load time), and the later rounds append their commands after it; the
 * loader reads both parts (loader.ts). A key changed during round 0 is
 * left out of the preamble, to be written by round 1, so the preamble
 * never holds a key twice (a key deleted and re-added would otherwise come
 * round again in the walk), which an RDB cannot say.
 *
 * A synchronous run (one round and the finish) is what tools and tests use;
 * SAVE writes dump.rdb (snapshot.ts).
 *
 * @module
 */

import { dirname, join } from "node:path";
import type { Config } from "../config.ts";
import { formatDouble } from "../protocol/doubles.ts";
import { ReplyWriter } from "../protocol/reply_writer.ts";
import type { Logger } from "../log.ts";
import { Deque } from "../store/deque.ts";
import type { Database, Keyspace } from "../store/keyspace.ts";
import { SortedSet } from "../store/sorted_set.ts";
import { Stream } from "../store/stream.ts";
import { isStringValue, type RedisValue, stringContent } from "../store/values.ts";
import type { AppendOnlyFile } from "./aof.ts";
import { describeError, fileSystem, type PersistenceFile } from "./file_system.ts";
import { yieldToEventLoop } from "./event_loop.ts";
import { RdbFileWriter } from "../rdb/mod.ts";
import { streamRewriteCommands } from "./stream_rewrite.ts";
import { writeDatabase, writerOptions } from "./snapshot.ts";

/** Elements per RPUSH/SADD/HSET/ZADD command, as Redis's AOF_REWRITE_ITEMS_PER_CMD. */
export const ITEMS_PER_COMMAND = 64;
/** Encoded output is written to the temporary file in pieces of about this size. */
const WRITE_SIZE = 1024 * 1024;
/** Rounds repeat until at most this many keys are left for the final one. */
const FINAL_ROUND_KEYS = 1000;
const MAX_ROUNDS = 10;

export interface RewriteOptions {
  /** Longest a step may hold the event loop before yielding, in ms. */
  stepBudgetMs: number;
}

export const DEFAULT_REWRITE_OPTIONS: RewriteOptions = { stepBudgetMs: 10 };

export interface RewriteResult {
  ok: boolean;
  /** Size of the new file. */
  size: number;
  seconds: number;
  /** Why it failed (or "cancelled"). */
  error?: string;
}

/** Keys and databases to write in a round. */
interface Work {
  /** Databases written whole (after FLUSHDB, except in round 0). */
  databases: Set<number>;
  /** Keys written as DEL + current value, per database. */
  keys: Map<number, Set<string>>;
}

class Cancelled extends Error {}

/** The temporary file and its encoder. */
class Output {
  readonly #encoder = new ReplyWriter();
  #selectedDb = -1;
  written = 0;

  constructor(readonly file: PersistenceFile) {}

  select(index: number): void {
    if (index === this.#selectedDb) return;
    this.#selectedDb = index;
    this.#encoder.bulkArray(["SELECT", String(index)]);
  }

  command(args: readonly string[]): void {
    this.#encoder.bulkArray(args);
    if (this.#encoder.length >= WRITE_SIZE) this.flush();
  }

  /** Writes bytes that are not commands (the RDB preamble), after what is encoded. */
  raw(bytes: Uint8Array): void {
    this.flush();
    let offset = 0;
    while (offset < bytes.byteLength) offset += this.file.writeSync(bytes.subarray(offset));
    this.written += bytes.byteLength;
  }

  /** Writes what is encoded; throws on a write error. */
  flush(): void {
    if (this.#encoder.length === 0) return;
    const bytes = this.#encoder.take();
    let offset = 0;
    while (offset < bytes.byteLength) offset += this.file.writeSync(bytes.subarray(offset));
    this.written += bytes.byteLength;
  }
}

/** The commands recreating a collection, ITEMS_PER_COMMAND elements each. */
function* collectionCommands(key: string, value: RedisValue): Generator<string[]> {
  if (value instanceof Map) {
    let args = ["HSET", key];
    for (const [field, fieldValue] of value) {
      args.push(field, fieldValue);
      if (args.length === 2 + 2 * ITEMS_PER_COMMAND) {
        yield args;
        args = ["HSET", key];
      }
    }
    if (args.length > 2) yield args;
  } else if (value instanceof Set) {
    let args = ["SADD", key];
    for (const member of value) {
      args.push(member);
      if (args.length === 2 + ITEMS_PER_COMMAND) {
        yield args;
        args = ["SADD", key];
      }
    }
    if (args.length > 2) yield args;
  } else if (value instanceof Deque) {
    for (let start = 0; start < value.length; start += ITEMS_PER_COMMAND) {
      yield [
        "RPUSH",
        key,
        ...value.slice(start, Math.min(value.length, start + ITEMS_PER_COMMAND) - 1),
      ];
    }
  } else if (value instanceof SortedSet) {
    for (let start = 0; start < value.size; start += ITEMS_PER_COMMAND) {
      const args = ["ZADD", key];
      for (const [member, score] of value.range(start, start + ITEMS_PER_COMMAND - 1)) {
        args.push(formatDouble(score), member);
      }
      yield args;
    }
  } else if (value instanceof Stream) {
    yield* streamRewriteCommands(key, value);
  }
}

/** What a rewrite reads and where it hands the new file over. */
export interface RewriteSource {
  readonly keyspace: Keyspace;
  readonly log: Logger;
  /** `aof-use-rdb-preamble` and the RDB settings a preamble is written with. */
  readonly config: Config;
  /** The AOF being appended to, which switches to the new file at the end. */
  readonly aof: AppendOnlyFile | undefined;
  /** The function libraries to write (their source). */
  functionLibraries(): readonly string[];
  /**
   * A long script is between slices: its writes are in the keyspace but its
   * effects are not yet logged, so the rewrite must not fix its content now.
   */
  readonly unitHeld: boolean;
}

/**
 * One rewrite, from the temporary file to the swap. While it runs, its
 * owner (persistence's part of the server) forwards key and database
 * changes to `keyChanged` and `databaseChanged`, so what changed meanwhile is
 * written again.
 */
export class AofRewrite {
  readonly startedAt = performance.now();
  /** Resolves when the rewrite has finished, failed or been cancelled. */
  readonly done: Promise<RewriteResult>;
  /** The outcome once known (at once for a synchronous rewrite). */
  result: RewriteResult | undefined;
  /** Longest time one step held the event loop, in ms. */
  longestStepMs = 0;
  /** How long the synchronous finish (final round, fsync, rename, switch) took, in ms. */
  finalStepMs = 0;
  rounds = 0;
  /** Keys written by round 0 so far, and keys there were at the start (INFO current_save_keys_*). */
  keysProcessed = 0;
  readonly keysTotal: number;
  readonly #server: RewriteSource;
  readonly #target: string;
  readonly #temporary: string;
  readonly #options: RewriteOptions;
  readonly #output: Output;
  #next: Work = { databases: new Set(), keys: new Map() };
  /** The collection being written, if a step ended inside it. */
  #current: { db: Database; key: string } | undefined;
  /** The libraries the RDB preamble held, when round 0 wrote one. */
  #preambleLibraries: readonly string[] | undefined;
  #cancelled = false;
  #finished = false;
  /** Still interested in changes: until the final switch or the cleanup. */
  #listening = true;

  /**
   * Starts rewriting the data of `server` into `target` (the AOF path);
   * `background` false runs it to completion before returning (SAVE).
   * Throws if the temporary file cannot be created.
   */
  constructor(
    server: RewriteSource,
    target: string,
    background: boolean,
    options = DEFAULT_REWRITE_OPTIONS,
  ) {
    this.#server = server;
    this.#target = target;
    this.#options = options;
    this.#temporary = join(
      dirname(target),
      `temp-rewriteaof-${background ? "bg-" : ""}${Deno.pid}.aof`,
    );
    this.#output = new Output(fileSystem().create(this.#temporary));
    this.keysTotal = server.keyspace.keyCount;
    const everything: Work = {
      databases: new Set(server.keyspace.databases.map((db) => db.index)),
      keys: new Map(),
    };
    if (background) {
      this.done = this.#runInBackground(everything).then((result) => this.result = result);
    } else {
      this.result = this.#settle(() => {
        for (const _ of this.#round(everything, false));
        this.#finish();
      });
      this.done = Promise.resolve(this.result);
    }
  }

  /** `key` changed: it is written again in the next round. */
  keyChanged(db: Database, key: string): void {
    if (!this.#listening) return;
    if (this.#current?.db === db && this.#current.key === key) this.#current = undefined;
    if (this.#next.databases.has(db.index)) return;
    let keys = this.#next.keys.get(db.index);
    if (keys === undefined) this.#next.keys.set(db.index, keys = new Set());
    keys.add(key);
  }

  /** Every key of `db` may have changed: the whole database is written again. */
  databaseChanged(db: Database): void {
    if (!this.#listening) return;
    if (this.#current?.db === db) this.#current = undefined;
    this.#next.databases.add(db.index);
    this.#next.keys.delete(db.index);
  }

  /** Stops the rewrite and removes its temporary file (shutdown). */
  cancel(): void {
    if (this.#finished) return;
    this.#cancelled = true;
    this.#cleanUp();
  }

  async #runInBackground(everything: Work): Promise<RewriteResult> {
    try {
      // Let the command that started the rewrite reply first.
      await yieldToEventLoop();
      if (this.#cancelled) throw new Cancelled();
      let work = everything;
      for (;;) {
        await this.#runInSteps(this.#round(work, this.rounds > 0));
        this.rounds++;
        work = this.#takeNext();
        if (workSize(this.#server, work) <= FINAL_ROUND_KEYS || this.rounds >= MAX_ROUNDS) break;
      }
      // Put back what the last round left, and sync the bulk of the file off the main thread.
      this.#mergeNext(work);
      this.#output.flush();
      await this.#output.file.syncData();
      if (this.#cancelled) throw new Cancelled();
      while (this.#server.unitHeld) {
        await yieldToEventLoop();
        if (this.#cancelled) throw new Cancelled();
      }
    } catch (error) {
      return this.#failed(error);
    }
    return this.#settle(() => this.#finish());
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
      this.longestStepMs = Math.max(this.longestStepMs, performance.now() - stepStart);
      if (done) return;
      await yieldToEventLoop();
      if (this.#cancelled) throw new Cancelled();
    }
  }

  /** Writes a round's work; yields after each key or collection command. */
  *#round(work: Work, replace: boolean): Generator<void> {
    if (!replace && this.#server.config.aofUseRdbPreamble) {
      yield* this.#preamble(work);
      return;
    }
    const databases = this.#server.keyspace.databases;
    for (const index of [...work.databases].sort((a, b) => a - b)) {
      const db = databases[index]!;
      if (replace) {
        this.#output.select(index);
        this.#output.command(["FLUSHDB"]);
      }
      for (const key of db.entries.keys()) {
        yield* this.#writeKey(db, key, false);
        this.keysProcessed++;
      }
    }
    for (const [index, keys] of work.keys) {
      if (work.databases.has(index)) continue;
      for (const key of keys) yield* this.#writeKey(databases[index]!, key, true);
    }
  }

  /** Round 0 as an RDB preamble: every database walked, keys changed meanwhile left out. */
  *#preamble(work: Work): Generator<void> {
    const server = this.#server;
    const writer = new RdbFileWriter(writerOptions(server.config, true));
    const output = this.#output;
    const emit = (bytes: Uint8Array) => output.raw(bytes);
    this.#preambleLibraries = server.functionLibraries();
    for (const code of this.#preambleLibraries) writer.writeFunction(code);
    const now = server.keyspace.clock.now();
    for (const index of [...work.databases].sort((a, b) => a - b)) {
      const skip = (key: string) =>
        this.#next.databases.has(index) || this.#next.keys.get(index)?.has(key) === true;
      for (const _ of writeDatabase(writer, server.keyspace.databases[index]!, now, emit, skip)) {
        this.keysProcessed++;
        yield;
      }
    }
    emit(writer.finish());
  }

  *#writeKey(db: Database, key: string, replace: boolean): Generator<void> {
    const output = this.#output;
    const value = db.entries.get(key);
    if (replace) {
      output.select(db.index);
      output.command(["DEL", key]);
    }
    if (value === undefined) return;
    const deadline = db.expires.get(key);
    if (deadline !== undefined && deadline <= this.#server.keyspace.clock.now()) return;
    output.select(db.index);
    if (isStringValue(value)) {
      output.command(["SET", key, stringContent(value)]);
    } else {
      const current = { db, key };
      this.#current = current;
      for (const command of collectionCommands(key, value)) {
        output.command(command);
        yield;
        // Changed meanwhile: it is recorded for the next round, which rewrites it whole.
        if (this.#current !== current) return;
      }
      this.#current = undefined;
    }
    if (deadline !== undefined) output.command(["PEXPIREAT", key, String(deadline)]);
    yield;
  }

  /**
   * The function libraries of the moment of the switch, as FUNCTION LOAD
   * commands (Redis writes them first; they depend on no key, so last is
   * as good and sees libraries loaded during the rewrite). After a
   * preamble, only when they changed since it was written.
   */
  #writeLibraries(): void {
    const libraries = this.#server.functionLibraries();
    const preamble = this.#preambleLibraries;
    if (preamble !== undefined) {
      const same = preamble.length === libraries.length &&
        preamble.every((code, i) => code === libraries[i]);
      if (same) return;
      this.#output.command(["FUNCTION", "FLUSH"]);
    }
    for (const code of libraries) this.#output.command(["FUNCTION", "LOAD", code]);
  }

  #takeNext(): Work {
    const work = this.#next;
    this.#next = { databases: new Set(), keys: new Map() };
    return work;
  }

  /** Adds `work` back into what the next round will write. */
  #mergeNext(work: Work): void {
    for (const index of work.databases) {
      this.databaseChanged(this.#server.keyspace.databases[index]!);
    }
    for (const [index, keys] of work.keys) {
      const db = this.#server.keyspace.databases[index]!;
      for (const key of keys) this.keyChanged(db, key);
    }
  }

  /**
   * The final round, fsync, rename and switch, all synchronous so no command
   * runs between the last key written and the writer moving to the new file.
   */
  #finish(): void {
    const started = performance.now();
    for (const _ of this.#round(this.#takeNext(), true));
    this.#writeLibraries();
    const output = this.#output;
    output.flush();
    output.file.syncDataSync();
    this.#detach();
    const files = fileSystem();
    files.rename(this.#temporary, this.#target);
    this.#finished = true;
    try {
      files.syncDirectoryOf(this.#target);
    } catch (error) {
      this.#server.log.warning(
        `Error fsyncing the directory of ${this.#target} after the AOF rewrite: ${
          describeError(error)
        }`,
      );
    }
    const aof = this.#server.aof;
    if (aof !== undefined && aof.path === this.#target) {
      aof.replaceFile(output.file, output.written);
    } else {
      output.file.close();
    }
    this.finalStepMs = performance.now() - started;
  }

  /** Runs `body` (which finishes the rewrite) and describes the outcome. */
  #settle(body: () => void): RewriteResult {
    try {
      body();
    } catch (error) {
      return this.#failed(error);
    }
    return { ok: true, size: this.#output.written, seconds: this.#seconds() };
  }

  #failed(error: unknown): RewriteResult {
    if (!this.#finished) this.#cleanUp();
    // Once cancelled, a failure is only the closed file showing through.
    const reason = this.#cancelled ? "cancelled" : describeError(error);
    return { ok: false, size: 0, seconds: this.#seconds(), error: reason };
  }

  #seconds(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  #detach(): void {
    this.#listening = false;
  }

  #cleanUp(): void {
    this.#detach();
    this.#finished = true;
    try {
      this.#output.file.close();
    } catch {
      // Already closed.
    }
    try {
      fileSystem().remove(this.#temporary);
    } catch (error) {
      this.#server.log.warning(
        `Could not remove the temporary AOF rewrite file ${this.#temporary}: ${
          describeError(error)
        }`,
      );
    }
  }
}

/** Keys a round of `work` would write. */
function workSize(server: RewriteSource, work: Work): number {
  let size = 0;
  for (const index of work.databases) size += server.keyspace.databases[index]!.size;
  for (const [index, keys] of work.keys) if (!work.databases.has(index)) size += keys.size;
  return size;
}
