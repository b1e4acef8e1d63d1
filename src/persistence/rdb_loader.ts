/**
 * Loads RDB data into the keyspace: dump.rdb at start-up (`rdbLoad`), and
 * the RDB preamble an AOF may start with.
 *
 * The file is read in large chunks and pushed through the codec's reader,
 * whose builder makes keyspace values directly (rdb/values.ts); each key
 * goes into its database as soon as it is complete, so nothing but the
 * keyspace itself grows during a load, however big the file. The rules are
 * rdbLoadRio's:
 * - As a master, a key whose deadline has already passed is not loaded
 *   (counted as expired) — except in an AOF preamble, where the commands
 *   after it may still refer to the key (the AOF loader drops expired keys
 *   once everything is replayed).
 * - A key that appears twice in a database stops the load ("Duplicated key
 *   found in RDB file"), as do a damaged file, a wrong checksum, an RDB
 *   version newer than 7.0's, and module data (named in the message):
 *   start-up stops with the reason, and the file is left as it is.
 * - `redis-ver`, `ctime` and `used-mem` are logged as Redis logs them;
 *   function libraries go to the host (see `RdbLoadTarget.loadFunction`).
 *
 * `loadRdbFile` hands the event loop back every 2 MB so clients connecting
 * during start-up get -LOADING; `reloadRdbFile` (DEBUG RELOAD) runs in one
 * go, as nothing else may run while a command does, and with `merge`
 * replaces keys that already exist instead of failing on them.
 *
 * @module
 */

import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { RedisValue } from "../store/values.ts";
import type { Keyspace } from "../store/keyspace.ts";
import { LOADING_YIELD_BYTES, yieldToEventLoop } from "./event_loop.ts";
import { RdbLoadError } from "./load_error.ts";
import type { LoadProgress } from "./loader.ts";
import { RdbError, RdbFileReader, type RdbRecord } from "../rdb/mod.ts";
import { StoreValueBuilder } from "../rdb/values.ts";

export { RdbLoadError };

/** What RDB data is loaded into. */
export interface RdbLoadTarget {
  readonly log: Logger;
  readonly config: Config;
  readonly keyspace: Keyspace;
  /** Set while loading (INFO loading:1). */
  loading: boolean;
  /** Receives each function library the file holds (its source code). */
  loadFunction(code: string): void;
}

/** What a load found. */
export interface RdbLoadResult {
  keysLoaded: number;
  /** Keys not loaded because their deadline had passed. */
  keysExpired: number;
  emptyKeysSkipped: number;
  /** Bytes of RDB data (the whole file for dump.rdb). */
  bytes: number;
  seconds: number;
  version: number;
}

const CHUNK_SIZE = 4 * 1024 * 1024;

/**
 * Turns the reader's records into keyspace changes, one at a time: the
 * shared part of a dump.rdb load and an AOF preamble load.
 */
export class RdbKeyLoader {
  readonly reader: RdbFileReader<RedisValue>;
  keysLoaded = 0;
  keysExpired = 0;
  /** Every aux field read, by name (the last value when one repeats). */
  readonly aux = new Map<string, string>();
  readonly #target: RdbLoadTarget;
  readonly #preamble: boolean;
  readonly #now: number;
  /** Takes the records that are not keys (keys go straight into the keyspace). */
  readonly visit: (record: RdbRecord<RedisValue>) => void;

  /**
   * `preamble`: the data starts an AOF, so expired keys are kept (see the
   * module doc). `merge`: a key already in the keyspace is replaced.
   */
  constructor(target: RdbLoadTarget, preamble: boolean, merge = false) {
    this.#target = target;
    this.#preamble = preamble;
    this.#now = Date.now();
    const databases = target.keyspace.databases;
    const onKey = (
      database: number,
      key: string,
      value: RedisValue,
      expireAt: number | undefined,
    ) => {
      if (expireAt !== undefined && !this.#preamble && expireAt < this.#now) {
        this.keysExpired++;
        return;
      }
      const db = databases[database]!;
      const entries = db.entries;
      const size = entries.size;
      if (merge) db.delete(key);
      entries.set(key, value);
      if (entries.size === size && !merge) {
        throw new RdbLoadError(
          `RDB has duplicated key '${
            printable(key)
          }' in DB ${database}: Duplicated key found in RDB file`,
        );
      }
      if (expireAt !== undefined) db.expires.set(key, expireAt);
      this.keysLoaded++;
    };
    this.reader = new RdbFileReader<RedisValue>({
      databases: target.config.databases,
      builder: new StoreValueBuilder(target.config),
      onKey,
    });
    this.visit = (record) => {
      if (record.kind !== "key") this.#other(record);
    };
  }

  /**
   * Reads the end of the data (throws RdbError when it is cut short) and
   * recounts the keyspace's memory figures, which the keys went in behind.
   */
  end(): void {
    this.reader.end(this.visit);
    this.#target.keyspace.recountMemory();
  }

  #other(record: RdbRecord<RedisValue>): void {
    const log = this.#target.log;
    if (record.kind === "function") {
      this.#target.loadFunction(record.code);
    } else if (record.kind === "aux") {
      this.aux.set(record.name, record.value);
      if (record.name === "redis-ver") {
        log.notice(`Loading RDB produced by version ${printable(record.value)}`);
      } else if (record.name === "ctime") {
        const age = Math.floor(Date.now() / 1000) - Number(record.value);
        log.notice(`RDB age ${Number.isFinite(age) ? Math.max(age, 0) : 0} seconds`);
      } else if (record.name === "used-mem") {
        log.notice(
          `RDB memory usage when created ${(Number(record.value) / (1024 * 1024)).toFixed(2)} Mb`,
        );
      }
    }
  }
}

/** A key or value for a log line: printable, and short. */
function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 100 ? `${clean.slice(0, 100)}...` : clean;
}

/** The start-up message for an RdbError met while loading `what`. */
export function describeRdbError(error: RdbError, what: string): string {
  switch (error.reason) {
    case "truncated":
      return `Short read or OOM loading DB. Unrecoverable error, aborting now. (${what}: ${error.message})`;
    case "checksum":
      return `${error.message} (${what}; RDB CRC error)`;
    default:
      return `Error loading ${what}: ${error.message}`;
  }
}

/**
 * Loads the RDB file at `path` into `target`. Resolves to undefined when
 * there is no file (an empty data set, as Redis starts without one);
 * throws RdbLoadError when start-up must stop.
 */
export async function loadRdbFile(
  target: RdbLoadTarget,
  path: string,
  progress?: LoadProgress,
): Promise<RdbLoadResult | undefined> {
  const file = openRdbFile(path);
  if (file === undefined) return undefined;
  const started = performance.now();
  const loader = new RdbKeyLoader(target, false);
  target.loading = true;
  try {
    const size = file.statSync().size;
    if (progress) progress.totalBytes = size;
    let yieldedAt = 0;
    for (const loaded of readChunks(file, loader, path)) {
      if (progress) progress.loadedBytes = loaded;
      if (loaded - yieldedAt >= LOADING_YIELD_BYTES) {
        yieldedAt = loaded;
        await yieldToEventLoop();
      }
    }
  } finally {
    file.close();
    target.loading = false;
  }
  return finishLoad(target, loader, started);
}

/**
 * DEBUG RELOAD's load: the whole file at once, keys already there replaced
 * when `merge` is set. Undefined when there is no file; throws RdbLoadError.
 */
export function reloadRdbFile(
  target: RdbLoadTarget,
  path: string,
  merge: boolean,
): RdbLoadResult | undefined {
  const file = openRdbFile(path);
  if (file === undefined) return undefined;
  const started = performance.now();
  const loader = new RdbKeyLoader(target, false, merge);
  try {
    for (const _ of readChunks(file, loader, path));
  } finally {
    file.close();
  }
  return finishLoad(target, loader, started);
}

function openRdbFile(path: string): Deno.FsFile | undefined {
  try {
    return Deno.openSync(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new RdbLoadError(`Error opening the RDB file ${path}: ${(error as Error).message}`);
  }
}

/** Pushes the file through the loader's reader; yields the bytes read so far after each chunk. */
function* readChunks(file: Deno.FsFile, loader: RdbKeyLoader, path: string): Generator<number> {
  const reader = loader.reader;
  try {
    const chunk = new Uint8Array(CHUNK_SIZE);
    let loaded = 0;
    for (;;) {
      // Read synchronously: a blocking read saves a hand-off to the I/O
      // thread per chunk, which a busy machine turns into waiting.
      const count = file.readSync(chunk);
      if (count === null) break;
      reader.push(chunk.subarray(0, count), loader.visit);
      loaded += count;
      yield loaded;
    }
    loader.end();
  } catch (error) {
    if (error instanceof RdbError) {
      throw new RdbLoadError(describeRdbError(error, `the RDB file ${path}`));
    }
    throw error;
  }
}

/** Logs what a completed load found, as Redis does, and returns it. */
function finishLoad(target: RdbLoadTarget, loader: RdbKeyLoader, started: number): RdbLoadResult {
  const reader = loader.reader;
  const summary = reader.summary();
  const seconds = (performance.now() - started) / 1000;
  const log = target.log;
  if (summary.checksum === "disabled") {
    log.warning("RDB file was saved with checksum disabled: no check performed.");
  }
  if (summary.emptyKeysSkipped > 0) {
    log.warning(
      `Done loading RDB, keys loaded: ${loader.keysLoaded}, keys expired: ${loader.keysExpired}, empty keys skipped: ${summary.emptyKeysSkipped}.`,
    );
  } else {
    log.notice(
      `Done loading RDB, keys loaded: ${loader.keysLoaded}, keys expired: ${loader.keysExpired}.`,
    );
  }
  if (reader.remainder().byteLength > 0) {
    log.warning(
      `${reader.remainder().byteLength} bytes after the end of the RDB file were ignored`,
    );
  }
  log.notice(`DB loaded from disk: ${seconds.toFixed(3)} seconds`);
  return {
    keysLoaded: loader.keysLoaded,
    keysExpired: loader.keysExpired,
    emptyKeysSkipped: summary.emptyKeysSkipped,
    bytes: summary.size,
    seconds,
    version: summary.version,
  };
}

/**
 * Loads RDB data that arrives in pieces (a replica's full sync): `push`
 * each chunk as it comes; once `done`, the data is in the keyspace and
 * `remainder` holds what followed the RDB's footer. Keys already past their
 * deadline are kept, as a replica keeps them (its master deletes them).
 * Throws RdbLoadError on damaged data, naming `what`.
 *
 * @example
 * ```ts
 * const load = new RdbStreamLoader(target, "the RDB from the master");
 * for await (const chunk of socket.readable) {
 *   load.push(chunk);
 *   if (load.done) break;
 * }
 * const result = load.finish();
 * ```
 */
export class RdbStreamLoader {
  readonly #loader: RdbKeyLoader;
  readonly #what: string;
  readonly #started = performance.now();

  constructor(target: RdbLoadTarget, what: string) {
    this.#loader = new RdbKeyLoader(target, true);
    this.#what = what;
  }

  /** Whether the RDB's footer has been read. */
  get done(): boolean {
    return this.#loader.reader.done;
  }

  /** Keys loaded so far. */
  get keysLoaded(): number {
    return this.#loader.keysLoaded;
  }

  /** The aux fields read so far. */
  get aux(): ReadonlyMap<string, string> {
    return this.#loader.aux;
  }

  /** Feeds the next chunk (not retained after the call). */
  push(chunk: Uint8Array): void {
    try {
      this.#loader.reader.push(chunk, this.#loader.visit);
    } catch (error) {
      throw this.#failure(error);
    }
  }

  /** Bytes received after the RDB's footer. */
  remainder(): Uint8Array {
    return this.#loader.reader.remainder();
  }

  /** Ends the load (throws RdbLoadError if the data stopped before its footer) and logs it. */
  finish(): RdbLoadResult {
    const loader = this.#loader;
    try {
      loader.end();
    } catch (error) {
      throw this.#failure(error);
    }
    const summary = loader.reader.summary();
    const seconds = (performance.now() - this.#started) / 1000;
    return {
      keysLoaded: loader.keysLoaded,
      keysExpired: loader.keysExpired,
      emptyKeysSkipped: summary.emptyKeysSkipped,
      bytes: summary.size,
      seconds,
      version: summary.version,
    };
  }

  #failure(error: unknown): unknown {
    return error instanceof RdbError
      ? new RdbLoadError(describeRdbError(error, this.#what))
      : error;
  }
}
