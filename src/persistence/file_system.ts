/**
 * The file operations persistence performs, behind an interface tests can
 * replace.
 *
 * The AOF writer and the rewrite touch the disk only through `FileSystem`
 * and `PersistenceFile`, a deliberately small surface: append bytes, cut the
 * file back, fsync, create, rename, fsync a directory, remove. That is all a
 * crash-safe append-only log needs, and it is small enough that a test can
 * implement it to simulate what is hard to provoke for real — a disk that
 * fills up after N bytes, a failing fsync, or a power cut that loses every
 * byte not yet fsynced. The real implementation is `Deno.FsFile` as is.
 *
 * Loading reads the file with Deno directly: reading has no failure mode
 * worth simulating that a damaged file on a real disk does not already
 * exercise.
 *
 * @module
 */

import { dirname } from "node:path";

/** An open file that is written only at its end. */
export interface PersistenceFile {
  /**
   * Appends a prefix of `bytes` (possibly all of it) and returns its length.
   * Throws when nothing could be written (disk full, I/O error).
   */
  writeSync(bytes: Uint8Array): number;
  /** Cuts the file back to `size` bytes. */
  truncateSync(size: number): void;
  /** fdatasync, off the main thread. */
  syncData(): Promise<void>;
  /** fdatasync, blocking. */
  syncDataSync(): void;
  close(): void;
}

/** Where persistence opens, renames and removes its files. */
export interface FileSystem {
  /** Opens `path` for appending, creating it if needed; also returns its size. */
  openAppend(path: string): { file: PersistenceFile; size: number };
  /** Creates `path` empty (replacing any file there), open for appending. */
  create(path: string): PersistenceFile;
  /** Atomically replaces `to` with `from`. */
  rename(from: string, to: string): void;
  /** fsyncs the directory holding `path`, so a rename there survives a crash. */
  syncDirectoryOf(path: string): void;
  /** Removes `path`; a missing file is not an error. */
  remove(path: string): void;
}

/** The real disk, through Deno's file API. */
export const denoFileSystem: FileSystem = {
  openAppend(path) {
    const file = Deno.openSync(path, { append: true, create: true });
    return { file, size: file.statSync().size };
  },
  create(path) {
    denoFileSystem.remove(path);
    return Deno.openSync(path, { append: true, createNew: true });
  },
  rename(from, to) {
    Deno.renameSync(from, to);
  },
  syncDirectoryOf(path) {
    const directory = Deno.openSync(dirname(path), { read: true });
    try {
      directory.syncSync();
    } finally {
      directory.close();
    }
  },
  remove(path) {
    try {
      Deno.removeSync(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  },
};

let current: FileSystem = denoFileSystem;

/** The file system persistence uses now. */
export function fileSystem(): FileSystem {
  return current;
}

/**
 * Makes persistence use `replacement` (tests); returns the previous one so
 * it can be restored.
 */
export function replaceFileSystem(replacement: FileSystem): FileSystem {
  const previous = current;
  current = replacement;
  return previous;
}

/**
 * The strerror(3) text of an I/O error, as Redis prints it: Deno's message
 * without its ` (os error N)` suffix and anything after it.
 *
 * @example
 * ```ts
 * describeError(new Error("No space left on device (os error 28)")); // "No space left on device"
 * ```
 */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const match = /^(.*?) \(os error \d+\)/.exec(message);
  return match ? match[1]! : message;
}
