/**
 * The two things this server asks of the C library that Deno has no API
 * for, as Redis does them: raising the open-files limit to fit `maxclients`
 * (Redis's adjustOpenFilesLimit) and giving freed memory back to the
 * operating system (jemalloc does that for Redis by itself; glibc's malloc
 * keeps freed chunks until `malloc_trim`).
 *
 * Both go through Deno's FFI, which needs `--allow-ffi` for the C library
 * (`deno task start` grants it for the usual Debian paths). Without that
 * permission, or on a system whose C library lacks the call, they report
 * that they could not and the server carries on as Redis does when it
 * cannot raise the limit: with fewer clients, or more memory held.
 *
 * @module
 */

/** RLIMIT_NOFILE on Linux. */
const RLIMIT_NOFILE = 7;

interface CLibrary {
  getrlimit(resource: number, limits: Uint8Array): number;
  setrlimit(resource: number, limits: Uint8Array): number;
  malloc_trim(pad: bigint): number;
}

let library: CLibrary | undefined | null;

/**
 * Where glibc lives on the usual distributions. Deno only lets a process
 * read its own /proc entries with every permission, so the path cannot be
 * looked up in /proc/self/maps; `deno task start` grants FFI for these.
 */
export const C_LIBRARY_PATHS = [
  "/usr/lib/x86_64-linux-gnu/libc.so.6",
  "/lib/x86_64-linux-gnu/libc.so.6",
  "/usr/lib/aarch64-linux-gnu/libc.so.6",
  "/lib/aarch64-linux-gnu/libc.so.6",
  "/usr/lib64/libc.so.6",
  "/lib64/libc.so.6",
];

/** The first C library path that exists and FFI may open. */
function cLibraryPath(): string | undefined {
  for (const path of C_LIBRARY_PATHS) {
    try {
      if (Deno.permissions.querySync({ name: "ffi", path }).state !== "granted") continue;
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // Not here, or not allowed.
    }
  }
  return undefined;
}

/** The C library's functions, or undefined where they cannot be had (no FFI permission). */
function cLibrary(): CLibrary | undefined {
  if (library !== undefined) return library ?? undefined;
  library = null;
  const path = cLibraryPath();
  if (path === undefined) return undefined;
  try {
    const opened = Deno.dlopen(path, {
      getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
      setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
      malloc_trim: { parameters: ["usize"], result: "i32" },
    });
    library = opened.symbols as unknown as CLibrary;
  } catch {
    library = null;
  }
  return library ?? undefined;
}

/** The soft and hard open-files limits, or undefined when they cannot be read (no FFI). */
export function openFilesLimit(): { soft: number; hard: number } | undefined {
  const libc = cLibrary();
  if (libc === undefined) return undefined;
  const limits = new BigUint64Array(2);
  if (libc.getrlimit(RLIMIT_NOFILE, new Uint8Array(limits.buffer)) !== 0) return undefined;
  return { soft: clampLimit(limits[0]!), hard: clampLimit(limits[1]!) };
}

function clampLimit(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

/**
 * Sets the soft open-files limit to `wanted` (at most the hard limit).
 * Returns the error text when the C library could not be asked or refused.
 */
export function setOpenFilesLimit(wanted: number, hard: number): string | undefined {
  const libc = cLibrary();
  if (libc === undefined) return "the C library is not available (grant --allow-ffi)";
  const limits = new BigUint64Array([BigInt(wanted), BigInt(hard)]);
  if (libc.setrlimit(RLIMIT_NOFILE, new Uint8Array(limits.buffer)) === 0) return undefined;
  return "setrlimit failed";
}

/** Gives memory freed by malloc back to the system; false if that is not possible here. */
export function releaseFreedMemory(): boolean {
  const libc = cLibrary();
  if (libc === undefined) return false;
  libc.malloc_trim(0n);
  return true;
}

/** Descriptors kept for the runtime itself, files and the listeners (Redis: 32). */
const RESERVED_DESCRIPTORS = 32;

/**
 * Redis's adjustOpenFilesLimit: makes room for `maxclients` clients by
 * raising the soft open-files limit, or, when that is not possible, lowers
 * the number of clients the server will accept to what fits. Returns the
 * `maxclients` that can be honoured.
 */
export function adjustOpenFilesLimit(
  maxclients: number,
  log: { notice(message: string): void; warning(message: string): void },
): number {
  const wanted = maxclients + RESERVED_DESCRIPTORS;
  const limits = openFilesLimit();
  if (limits === undefined) {
    // Unlike Redis (whose getrlimit cannot fail), keep maxclients: the limit is unknown, not low.
    log.warning(
      `Unable to check the open files limit for maxclients ${maxclients} (run with --allow-ffi for the C library to let the server raise it).`,
    );
    return maxclients;
  }
  if (limits.soft >= wanted) return maxclients;
  const target = Math.min(wanted, limits.hard);
  const error = target > limits.soft
    ? setOpenFilesLimit(target, limits.hard)
    : "Operation not permitted";
  const reached = error === undefined ? target : limits.soft;
  if (reached >= wanted) {
    log.notice(
      `Increased maximum number of open files to ${wanted} (it was originally set to ${limits.soft}).`,
    );
    return maxclients;
  }
  const allowed = reached - RESERVED_DESCRIPTORS;
  log.warning(
    `You requested maxclients of ${maxclients} requiring at least ${wanted} max file descriptors.`,
  );
  log.warning(
    `Server can't set maximum open files to ${wanted} because of OS error: ${
      error ?? "Operation not permitted"
    }.`,
  );
  log.warning(
    `Current maximum open files is ${reached}. maxclients has been reduced to ${allowed} to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.`,
  );
  return Math.max(allowed, 1);
}
