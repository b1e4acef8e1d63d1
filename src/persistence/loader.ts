/**
 * AOF loader: replays the append-only file into the keyspace at start-up.
 *
 * The file is read in large chunks and parsed by a reader stricter than the
 * network parser: an AOF holds only `*`-multibulk commands (and Redis 7's
 * `#` annotation lines), every bulk must end in CRLF, and every failure
 * knows its byte offset. Each command is handed to the target's `replay`
 * (the server runs it through its executor on a client with no socket), so
 * replay executes exactly the code that served the original request; this
 * module knows nothing of commands beyond the file's MULTI/EXEC framing.
 *
 * What counts as damage and what as a crash follows Redis's
 * loadSingleAppendOnlyFile, with one deliberate difference:
 * - A command cut off at the end of the file (a crash mid-write) is a short
 *   read. With `aof-load-truncated yes` everything before it is loaded, the
 *   file is truncated there and start-up continues with a warning naming the
 *   offset; with `no` start-up stops. Because every length in RESP is
 *   explicit and every line ends in CRLF, a proper prefix of a command can
 *   never parse as a different complete command, so a truncated file never
 *   loads wrong data.
 * - A MULTI block without its EXEC at the end of the file is a short read
 *   too: it is dropped as a whole, never half applied. Commands after MULTI
 *   are held here and run only when EXEC is read; MULTI and EXEC themselves
 *   are not dispatched.
 * - Anything else — bytes that are not RESP, an unknown command, a wrong
 *   argument count, or (unlike Redis, which ignores replies while loading) a
 *   command whose replay replies with an error, such as INCR on a hash —
 *   stops start-up with the file name, offset and command, and leaves the
 *   file untouched.
 *
 * A file may start with an RDB preamble (`aof-use-rdb-preamble yes`, here
 * or in the single-file AOFs of Redis 4 to 6): its keys are loaded as a
 * dump.rdb is (see rdb_loader.ts), except that none is dropped for having
 * expired, and the commands after it are replayed on top. Damage in the
 * preamble stops start-up whatever `aof-load-truncated` says, as in Redis.
 *
 * While loading, time stands still at the epoch for the keyspace, the way
 * Redis's keyIsExpired answers "not expired" while loading: a key whose
 * absolute deadline passed while the server was down must still exist for
 * the commands that follow it in the file (an INCR on it must not recreate
 * it without its TTL). Once replay is done, every key whose deadline has
 * passed is dropped.
 *
 * @module
 */

import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { type BinaryBuffer, binaryView } from "../protocol/binary.ts";
import { MAX_BULK_LENGTH } from "../protocol/parser.ts";
import type { Clock, Keyspace } from "../store/keyspace.ts";

import { LOADING_YIELD_BYTES, yieldToEventLoop } from "./event_loop.ts";
import { AofLoadError, RdbLoadError } from "./load_error.ts";
import { RdbError } from "../rdb/mod.ts";
import { describeRdbError, RdbKeyLoader } from "./rdb_loader.ts";

export { AofLoadError };

export interface LoadResult {
  commands: number;
  /** Keys loaded from an RDB preamble (0 without one). */
  preambleKeys: number;
  /** Size of the file after loading (after truncation, if any). */
  bytes: number;
  seconds: number;
  /** Byte offset the file was truncated at, if its tail was incomplete. */
  truncatedAt: number | undefined;
  /** Keys dropped after replay because their deadline had passed. */
  expiredKeys: number;
}

/** What INFO shows while a load runs. */
export interface LoadProgress {
  startedAt: number;
  totalBytes: number;
  loadedBytes: number;
}

const CHUNK_SIZE = 4 * 1024 * 1024;
const PROGRESS_INTERVAL_MS = 1000;
const ANNOTATION_MAX = 1024;
const CR = 13;
const LF = 10;
const ASTERISK = 42;
const DOLLAR = 36;
const HASH = 35;

/** A command read from the file that names no command or has the wrong arity. */
export class UnresolvedCommand {
  constructor(readonly kind: "unknown-command" | "invalid-arguments", readonly message: string) {}
}

/**
 * What the loader replays the file into. `T` is the target's resolved form
 * of a command; like Redis, every command is resolved as it is read, so a
 * damaged command inside a MULTI block is found even before its EXEC.
 */
export interface LoadTarget<T> {
  readonly log: Logger;
  readonly config: Config;
  readonly keyspace: Keyspace;
  /** Set while the file is replayed (INFO loading:1, no blocking). */
  loading: boolean;
  /** Looks a command read from the file up. */
  resolve(args: string[]): T | UnresolvedCommand;
  /** Runs it; returns the error reply's text if it failed. */
  replay(command: T, args: string[]): string | undefined;
}

/** See the module doc: nothing expires while the file is replayed. */
const LOADING_CLOCK: Clock = { now: () => 0 };

/** A place in the buffer where the file is not RESP. */
class FormatError extends Error {
  constructor(message: string, readonly position: number) {
    super(message);
    this.name = "FormatError";
  }
}

/** A command read from the file. */
interface Parsed {
  /** Undefined for an annotation line, which is skipped. */
  args: string[] | undefined;
  next: number;
}

/**
 * Reads one command starting at `start`; undefined when the bytes before
 * `end` hold only a (valid so far) prefix of one.
 */
function parseCommand(
  bytes: Uint8Array,
  view: BinaryBuffer,
  start: number,
  end: number,
): Parsed | undefined {
  if (start >= end) return undefined;
  const first = bytes[start];
  if (first === HASH) {
    const lf = bytes.subarray(start, Math.min(end, start + ANNOTATION_MAX)).indexOf(LF);
    if (lf >= 0) return { args: undefined, next: start + lf + 1 };
    if (end - start >= ANNOTATION_MAX) throw new FormatError("annotation line too long", start);
    return undefined;
  }
  if (first !== ASTERISK) {
    throw new FormatError(`expected '*', got ${describeByte(first!)}`, start);
  }
  const header = readNumberLine(bytes, start + 1, end);
  if (header === undefined) return undefined;
  const count = header[0];
  if (count < 1) throw new FormatError("invalid multibulk length", start);
  let position = header[1];
  const args: string[] = [];
  for (let i = 0; i < count; i++) {
    if (position >= end) return undefined;
    if (bytes[position] !== DOLLAR) {
      throw new FormatError(`expected '$', got ${describeByte(bytes[position]!)}`, position);
    }
    const line = readNumberLine(bytes, position + 1, end);
    if (line === undefined) return undefined;
    const [length, dataStart] = line;
    if (length > MAX_BULK_LENGTH) throw new FormatError("invalid bulk length", position);
    const dataEnd = dataStart + length;
    if (end - dataEnd < 2) return undefined;
    if (bytes[dataEnd] !== CR || bytes[dataEnd + 1] !== LF) {
      throw new FormatError("bulk string not terminated by CRLF", dataEnd);
    }
    args.push(view.latin1Slice(dataStart, dataEnd));
    position = dataEnd + 2;
  }
  return { args, next: position };
}

/** A run of digits ended by CRLF: [value, position after the LF], or undefined if incomplete. */
function readNumberLine(
  bytes: Uint8Array,
  start: number,
  end: number,
): [number, number] | undefined {
  let value = 0;
  let i = start;
  for (; i < end; i++) {
    const byte = bytes[i]!;
    if (byte === CR) break;
    if (byte < 48 || byte > 57 || i - start > 15) {
      throw new FormatError(`invalid length line (${describeByte(byte)})`, start - 1);
    }
    value = value * 10 + byte - 48;
  }
  if (i + 1 >= end) return undefined;
  if (i === start || bytes[i + 1] !== LF) {
    throw new FormatError("invalid length line", start - 1);
  }
  return [value, i + 2];
}

function describeByte(byte: number): string {
  return byte >= 0x20 && byte < 0x7f
    ? `'${String.fromCharCode(byte)}'`
    : `byte 0x${byte.toString(16).padStart(2, "0")}`;
}

/** A command for an error message: printable, and short. */
export function describeCommand(args: readonly string[]): string {
  const text = args.map((arg) => arg.replace(/[^\x20-\x7e]/g, "?")).join(" ");
  return text.length > 100 ? `${text.slice(0, 100)}...` : text;
}

/** What the loader does with what only an RDB preamble holds. */
export interface PreambleOptions {
  /** Receives each function library of the preamble (its source code). */
  loadFunction(code: string): void;
}

const NO_FUNCTIONS: PreambleOptions = { loadFunction() {} };

/**
 * Replays the AOF at `path` into `server`; a missing or empty file loads
 * nothing. Throws AofLoadError when start-up must stop.
 */
export async function loadAppendOnlyFile<T>(
  server: LoadTarget<T>,
  path: string,
  progress?: LoadProgress,
  preambleOptions: PreambleOptions = NO_FUNCTIONS,
): Promise<LoadResult> {
  const log = server.log;
  const started = performance.now();
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return {
        commands: 0,
        preambleKeys: 0,
        bytes: 0,
        seconds: 0,
        truncatedAt: undefined,
        expiredKeys: 0,
      };
    }
    throw error;
  }
  const keyspace = server.keyspace;
  const clock = keyspace.clock;
  keyspace.clock = LOADING_CLOCK;
  server.loading = true;

  let buffer = new Uint8Array(CHUNK_SIZE);
  let view = binaryView(buffer);
  let start = 0;
  let end = 0;
  /** File offset of buffer[0]. */
  let base = 0;
  let commands = 0;
  /** Commands after MULTI, run when EXEC arrives; undefined outside MULTI. */
  let transaction: [T, string[], number][] | undefined;
  let transactionOffset = 0;
  let lastReport = started;
  let size = 0;
  let preambleKeys = 0;
  let yieldedAt = 0;

  const damaged = (what: string, offset: number) =>
    new AofLoadError(
      `${what} reading the append only file ${path} at offset ${offset}; the file was left untouched: make a backup of it, then repair it (redis-check-aof --fix ${path}) or remove the damaged part`,
    );
  const run = (command: T, args: string[], offset: number) => {
    const failure = server.replay(command, args);
    if (failure !== undefined) {
      throw damaged(`Command '${describeCommand(args)}' failed (${failure})`, offset);
    }
  };

  try {
    size = (await file.stat()).size;
    if (progress) progress.totalBytes = size;
    const first = await file.read(buffer);
    if (first !== null) end = first;
    if (end >= 5 && view.latin1Slice(0, 5) === "REDIS") {
      const preamble = await loadPreamble(server, file, buffer, end, path, preambleOptions);
      preambleKeys = preamble.keys;
      base = preamble.size;
      const rest = preamble.remainder;
      if (rest.byteLength > buffer.byteLength) {
        buffer = new Uint8Array(rest.byteLength * 2);
        view = binaryView(buffer);
      }
      buffer.set(rest);
      end = rest.byteLength;
      log.notice(
        `Reading RDB preamble from AOF file ${path}: ${preambleKeys} keys, ${megabytes(base)} MB`,
      );
    }
    for (;;) {
      for (;;) {
        let parsed: Parsed | undefined;
        try {
          parsed = parseCommand(buffer, view, start, end);
        } catch (error) {
          if (!(error instanceof FormatError)) throw error;
          const offset = base + start;
          const at = base + error.position;
          throw damaged(
            `Bad file format (${error.message}${at === offset ? "" : ` at offset ${at}`})`,
            offset,
          );
        }
        if (parsed === undefined) break;
        const offset = base + start;
        start = parsed.next;
        const args = parsed.args;
        if (args === undefined) continue;
        commands++;
        const command = server.resolve(args);
        if (command instanceof UnresolvedCommand) {
          throw damaged(
            command.kind === "unknown-command"
              ? `Unknown command '${describeCommand([args[0]!])}'`
              : `Invalid command '${describeCommand(args)}' (${command.message})`,
            offset,
          );
        }
        const name = args[0]!.toLowerCase();
        if (name === "multi") {
          if (transaction !== undefined) throw damaged("Nested MULTI", offset);
          transaction = [];
          transactionOffset = offset;
        } else if (name === "exec") {
          if (transaction === undefined) throw damaged("EXEC without MULTI", offset);
          const queued = transaction;
          transaction = undefined;
          for (const [queuedCommand, queuedArgs, queuedOffset] of queued) {
            run(queuedCommand, queuedArgs, queuedOffset);
          }
        } else if (name === "discard" && transaction !== undefined) {
          transaction = undefined;
        } else if (transaction !== undefined) {
          transaction.push([command, args, offset]);
        } else {
          run(command, args, offset);
        }
        if ((commands & 1023) === 0) {
          const now = performance.now();
          if (progress) progress.loadedBytes = base + start;
          if (now - lastReport >= PROGRESS_INTERVAL_MS) {
            lastReport = now;
            log.notice(
              `Loading AOF: ${commands} commands, ${megabytes(base + start)} of ${
                megabytes(size)
              } MB (${megabytes((base + start) / ((now - started) / 1000))} MB/s)`,
            );
          }
        }
      }
      // Keep the unparsed tail, grow if a single command fills the buffer.
      if (start > 0) {
        buffer.copyWithin(0, start, end);
        base += start;
        end -= start;
        start = 0;
      }
      if (end === buffer.byteLength) {
        const grown = new Uint8Array(buffer.byteLength * 2);
        grown.set(buffer);
        buffer = grown;
        view = binaryView(buffer);
      }
      // File reads can complete without a turn of the event loop: give
      // clients theirs (and -LOADING) every LOADING_YIELD_BYTES.
      if (base + end - yieldedAt >= LOADING_YIELD_BYTES) {
        yieldedAt = base + end;
        await yieldToEventLoop();
      }
      const count = await file.read(buffer.subarray(end));
      if (count === null) break;
      end += count;
    }
  } finally {
    file.close();
    keyspace.clock = clock;
    server.loading = false;
  }

  let truncatedAt: number | undefined;
  if (transaction !== undefined || end > start) {
    if (transaction !== undefined) {
      log.warning(`Revert incomplete MULTI/EXEC transaction in AOF file ${path}`);
    }
    truncatedAt = transaction !== undefined ? transactionOffset : base + start;
    if (!server.config.aofLoadTruncated) {
      throw new AofLoadError(
        `Unexpected end of file reading the append only file ${path} at offset ${truncatedAt} (file size ${size}). You can: 1) Make a backup of your AOF file, then use redis-check-aof --fix <filename>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.`,
      );
    }
    log.warning(`!!! Warning: short read while loading the AOF file ${path}!!!`);
    log.warning(`!!! Truncating the AOF ${path} at offset ${truncatedAt} !!!`);
    try {
      await Deno.truncate(path, truncatedAt);
    } catch (error) {
      throw new AofLoadError(
        `Error truncating the AOF file ${path}: ${(error as Error).message}`,
      );
    }
    log.warning(`AOF ${path} loaded anyway because aof-load-truncated is enabled`);
  }
  const expiredKeys = dropExpiredKeys(server);
  const seconds = (performance.now() - started) / 1000;
  const bytes = truncatedAt ?? size;
  if (progress) progress.loadedBytes = bytes;
  log.notice(
    `DB loaded from append only file: ${seconds.toFixed(3)} seconds (${commands} commands, ${
      megabytes(bytes)
    } MB, ${megabytes(bytes / Math.max(seconds, 1e-6))} MB/s, ${
      Math.round(commands / Math.max(seconds, 1e-6))
    } commands/s)`,
  );
  if (expiredKeys > 0) log.notice(`${expiredKeys} expired keys dropped after loading`);
  return { commands, preambleKeys, bytes, seconds, truncatedAt, expiredKeys };
}

/**
 * Loads the RDB preamble at the start of the AOF open as `file`, whose
 * first `end` bytes are in `buffer`: its keys, its size, and the bytes read
 * past it (where the commands start).
 */
async function loadPreamble<T>(
  server: LoadTarget<T>,
  file: Deno.FsFile,
  buffer: Uint8Array,
  end: number,
  path: string,
  options: PreambleOptions,
): Promise<{ keys: number; size: number; remainder: Uint8Array }> {
  const loader = new RdbKeyLoader({
    log: server.log,
    config: server.config,
    keyspace: server.keyspace,
    get loading() {
      return server.loading;
    },
    set loading(value: boolean) {
      server.loading = value;
    },
    loadFunction: (code) => options.loadFunction(code),
  }, true);
  const reader = loader.reader;
  try {
    reader.push(buffer.subarray(0, end), loader.visit);
    while (!reader.done) {
      const count = await file.read(buffer);
      if (count === null) {
        reader.end(loader.visit);
        break;
      }
      reader.push(buffer.subarray(0, count), loader.visit);
    }
  } catch (error) {
    if (error instanceof RdbError) {
      throw new RdbLoadError(
        `${
          describeRdbError(error, `the RDB preamble of the AOF file ${path}`)
        }; AOF loading aborted`,
      );
    }
    throw error;
  }
  // The keys went in behind the keyspace's memory accounting.
  server.keyspace.recountMemory();
  return { keys: loader.keysLoaded, size: reader.summary().size, remainder: reader.remainder() };
}

/** Removes keys whose deadline passed while the server was down. */
function dropExpiredKeys<T>(server: LoadTarget<T>): number {
  const now = server.keyspace.clock.now();
  let dropped = 0;
  for (const db of server.keyspace.databases) {
    for (const [key, deadline] of db.expires) {
      if (deadline <= now) {
        db.delete(key);
        dropped++;
      }
    }
  }
  return dropped;
}

function megabytes(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}
