/**
 * Shared tools for the persistence tests: an in-process server with a
 * captured log, a simulated disk (to fill up, fail fsync, or lose power),
 * a real tiny tmpfs when the machine allows mounting one, and canonical
 * snapshots of a keyspace — from memory or over a socket, so ours and a real
 * redis-server can be compared the same way.
 *
 * @module
 */

import { type Config, parseCommandLine } from "../../src/config.ts";
import { type RunningServer, startServer } from "../../src/main.ts";
import type { FileSystem, PersistenceFile } from "../../src/persistence/file_system.ts";
import type { Server } from "../../src/server/server.ts";
import { Logger } from "../../src/log.ts";
import { Deque } from "../../src/store/deque.ts";
import { decodeReply, RawClient, type ReplyValue } from "../helpers/servers.ts";

/** Deno.test options for tests that run servers (their sockets outlive single ops). */
export const SERVER_TEST = { sanitizeOps: false, sanitizeResources: false } as const;

/** A fresh temporary directory. */
export function tempDir(): Promise<string> {
  return Deno.makeTempDir({ prefix: "redis-clone-persistence-" });
}

/** A server running inside the test process. */
export interface InProcessServer extends RunningServer {
  port: number;
  /** Log lines so far. */
  logText(): string;
}

/**
 * Parses server flags (as on the command line) into a Config, on a port
 * that was free a moment ago (port 0 would mean no TCP at all, as in Redis).
 */
export function configFrom(args: string[]): Config {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const parsed = parseCommandLine(["--port", String(port), "--bind", "127.0.0.1", ...args]);
  if (parsed.action !== "serve") throw new Error("not a serve command line");
  return parsed.config;
}

/** Starts our server in this process (for tests that inject a file system). */
export async function startInProcess(args: string[]): Promise<InProcessServer> {
  const lines: string[] = [];
  const log = new Logger("notice", (line) => lines.push(line));
  const running = await startServer(configFrom(args), log);
  return { ...running, port: running.listener.port, logText: () => lines.join("") };
}

/** Sends a command and decodes its reply. */
export async function send(client: RawClient, ...args: string[]): Promise<ReplyValue> {
  return decodeReply(await client.command(...args));
}

/** One key's content, in a form that compares equal across servers. */
export interface KeySnapshot {
  type: string;
  value: unknown;
  /** Absolute deadline in ms, or -1. */
  expireAt: number;
}

/** Database index → key → content, keys sorted. */
export type Snapshot = Record<string, Record<string, KeySnapshot>>;

/** Snapshot of an in-process keyspace (collections normalised: sets sorted, hashes as sorted pairs). */
export function keyspaceSnapshot(server: Server): Snapshot {
  const snapshot: Snapshot = {};
  const now = server.keyspace.clock.now();
  for (const db of server.keyspace.databases) {
    const keys: Record<string, KeySnapshot> = {};
    for (const key of [...db.entries.keys()].sort()) {
      const expireAt = db.expires.get(key) ?? -1;
      if (expireAt !== -1 && expireAt <= now) continue;
      const value = db.entries.get(key)!;
      keys[key] = { ...describeValue(value), expireAt };
    }
    if (Object.keys(keys).length > 0) snapshot[String(db.index)] = keys;
  }
  return snapshot;
}

function describeValue(value: unknown): { type: string; value: unknown } {
  if (typeof value === "string") return { type: "string", value };
  if (value instanceof Map) return { type: "hash", value: [...value].sort(compareFirst) };
  if (value instanceof Set) return { type: "set", value: [...value].sort() };
  if (value instanceof Deque) return { type: "list", value: [...value] };
  const zset = value as { size: number; range(a: number, b: number): [string, number][] };
  return { type: "zset", value: zset.range(0, zset.size - 1).map(([m, s]) => [m, String(s)]) };
}

function compareFirst(a: [string, string], b: [string, string]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/** Snapshot of any server over a socket (ours or redis-server), via standard commands. */
export async function snapshotOverSocket(port: number, databases = 16): Promise<Snapshot> {
  const client = await RawClient.connect(port);
  const snapshot: Snapshot = {};
  try {
    for (let index = 0; index < databases; index++) {
      await send(client, "SELECT", String(index));
      const names = (await send(client, "KEYS", "*")) as string[];
      if (names.length === 0) continue;
      const keys: Record<string, KeySnapshot> = {};
      for (const key of names.sort()) {
        const type = (await send(client, "TYPE", key)) as string;
        let value: unknown;
        if (type === "string") value = await send(client, "GET", key);
        else if (type === "list") value = await send(client, "LRANGE", key, "0", "-1");
        else if (type === "set") value = ((await send(client, "SMEMBERS", key)) as string[]).sort();
        else if (type === "hash") {
          const flat = (await send(client, "HGETALL", key)) as string[];
          const pairs: [string, string][] = [];
          for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
          value = pairs.sort(compareFirst);
        } else {
          const flat = (await send(client, "ZRANGE", key, "0", "-1", "WITHSCORES")) as string[];
          const pairs: [string, string][] = [];
          for (let i = 0; i < flat.length; i += 2) {
            pairs.push([flat[i]!, String(Number(flat[i + 1]!))]);
          }
          value = pairs;
        }
        const expireAt = (await send(client, "PEXPIRETIME", key)) as number;
        keys[key] = { type, value, expireAt };
      }
      snapshot[String(index)] = keys;
    }
  } finally {
    await client.close();
  }
  return snapshot;
}

/**
 * Asserts two snapshots are equal, naming the first few keys that differ
 * (node's deepEqual diff takes minutes on snapshots of thousands of keys).
 */
export function assertSameData(actual: Snapshot, expected: Snapshot, what = "data"): void {
  const differences: string[] = [];
  const databases = new Set([...Object.keys(actual), ...Object.keys(expected)]);
  for (const db of databases) {
    const keys = new Set([...Object.keys(actual[db] ?? {}), ...Object.keys(expected[db] ?? {})]);
    for (const key of keys) {
      const got = JSON.stringify(actual[db]?.[key]);
      const want = JSON.stringify(expected[db]?.[key]);
      if (got !== want) {
        differences.push(`db ${db} key ${key}: got ${shorten(got)}, expected ${shorten(want)}`);
      }
    }
  }
  if (differences.length > 0) {
    throw new Error(
      `${what}: ${differences.length} keys differ:\n${differences.slice(0, 10).join("\n")}`,
    );
  }
}

function shorten(text: string | undefined): string {
  return text === undefined || text.length <= 200 ? String(text) : `${text.slice(0, 200)}...`;
}

/** Makes a zset snapshot score comparable with `String(Number(reply))` from a socket. */
export function normaliseScores(snapshot: Snapshot): Snapshot {
  for (const keys of Object.values(snapshot)) {
    for (const entry of Object.values(keys)) {
      if (entry.type === "zset") {
        entry.value = (entry.value as [string, string][]).map(([m, s]) => [m, String(Number(s))]);
      }
    }
  }
  return snapshot;
}

// ---------------------------------------------------------------------------
// Simulated disk

/** The error a full disk gives. */
export function noSpaceError(): Error {
  return Object.assign(new Error("No space left on device (os error 28)"), { code: "ENOSPC" });
}

class SimulatedFile implements PersistenceFile {
  bytes = new Uint8Array(1024);
  length = 0;
  /** Length at the last successful fsync: what survives a power cut. */
  durableLength = 0;
  closed = false;

  constructor(readonly disk: SimulatedDisk) {}

  content(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }

  writeSync(bytes: Uint8Array): number {
    if (this.closed) throw new Error("Bad resource ID");
    const room = this.disk.capacity - this.disk.used();
    if (room <= 0) throw noSpaceError();
    const count = Math.min(room, bytes.byteLength);
    if (this.length + count > this.bytes.byteLength) {
      const grown = new Uint8Array(Math.max(this.bytes.byteLength * 2, this.length + count));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(bytes.subarray(0, count), this.length);
    this.length += count;
    this.disk.writes++;
    return count;
  }

  truncateSync(size: number): void {
    this.length = Math.min(this.length, size);
    this.durableLength = Math.min(this.durableLength, size);
  }

  async syncData(): Promise<void> {
    const length = this.length;
    await new Promise((resolve) => setTimeout(resolve, this.disk.syncDelayMs));
    if (this.disk.failSync) throw new Error("Input/output error (os error 5)");
    this.durableLength = Math.max(this.durableLength, Math.min(length, this.length));
    this.disk.syncs++;
  }

  syncDataSync(): void {
    if (this.disk.failSync) throw new Error("Input/output error (os error 5)");
    this.durableLength = this.length;
    this.disk.syncs++;
  }

  close(): void {
    this.closed = true;
  }
}

/**
 * An in-memory FileSystem: a capacity to fill up, fsyncs that can fail or
 * take time, and `powerCut()` — what would be on the platters if the power
 * went now (only fsynced bytes, only directory entries that were fsynced).
 */
export class SimulatedDisk implements FileSystem {
  readonly files = new Map<string, SimulatedFile>();
  /** Names as a crash would find them (updated by syncDirectoryOf). */
  durableNames = new Map<string, SimulatedFile>();
  capacity = Infinity;
  failSync = false;
  syncDelayMs = 1;
  writes = 0;
  syncs = 0;

  used(): number {
    let total = 0;
    for (const file of new Set(this.files.values())) total += file.length;
    return total;
  }

  /** Current content of `path`. */
  content(path: string): Uint8Array {
    return this.files.get(path)?.content() ?? new Uint8Array(0);
  }

  /** What `path` would hold after a power cut now. */
  powerCut(path: string): Uint8Array {
    const file = this.durableNames.get(path);
    return file ? file.bytes.slice(0, file.durableLength) : new Uint8Array(0);
  }

  openAppend(path: string): { file: PersistenceFile; size: number } {
    let file = this.files.get(path);
    if (file === undefined) {
      file = new SimulatedFile(this);
      this.files.set(path, file);
    }
    return { file, size: file.length };
  }

  create(path: string): PersistenceFile {
    const file = new SimulatedFile(this);
    this.files.set(path, file);
    return file;
  }

  rename(from: string, to: string): void {
    const file = this.files.get(from);
    if (file === undefined) throw new Deno.errors.NotFound(`No such file: ${from}`);
    this.files.delete(from);
    this.files.set(to, file);
  }

  syncDirectoryOf(_path: string): void {
    this.durableNames = new Map(this.files);
  }

  remove(path: string): void {
    this.files.delete(path);
  }
}

// ---------------------------------------------------------------------------
// A real, tiny file system

/**
 * Mounts a tmpfs of `bytes` bytes and returns its path, or undefined (with
 * the reason logged) when this machine does not allow it (not root, no
 * CAP_SYS_ADMIN, no mount binary).
 */
export async function mountTmpfs(bytes: number): Promise<string | undefined> {
  const path = await tempDir();
  try {
    const result = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", path],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (result.success) return path;
    console.warn(`cannot mount a tmpfs: ${new TextDecoder().decode(result.stderr).trim()}`);
  } catch (error) {
    console.warn(`cannot mount a tmpfs: ${error}`);
  }
  await Deno.remove(path, { recursive: true });
  return undefined;
}

/** Unmounts and removes a directory from `mountTmpfs`. */
export async function unmountTmpfs(path: string): Promise<void> {
  await new Deno.Command("umount", { args: [path], stdout: "null", stderr: "null" }).output();
  await Deno.remove(path, { recursive: true });
}

/** Path of a program on PATH, or undefined. */
export function programPath(name: string): string | undefined {
  for (const directory of (Deno.env.get("PATH") ?? "").split(":")) {
    if (directory === "") continue;
    try {
      if (Deno.statSync(`${directory}/${name}`).isFile) return `${directory}/${name}`;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** Runs redis-check-aof on `path`: its exit status and output. */
export async function checkAof(path: string): Promise<{ ok: boolean; output: string }> {
  const program = programPath("redis-check-aof");
  if (program === undefined) throw new Error("redis-check-aof is not installed");
  const result = await new Deno.Command(program, { args: [path], stdout: "piped", stderr: "piped" })
    .output();
  const decoder = new TextDecoder();
  return {
    ok: result.success,
    output: decoder.decode(result.stdout) + decoder.decode(result.stderr),
  };
}

/** Polls `condition` every 20 ms until it holds or `timeoutMs` passes. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One INFO field of a server, read over a socket. */
export async function infoField(client: RawClient, field: string): Promise<string | undefined> {
  const text = (await send(client, "INFO", "persistence")) as string;
  return new RegExp(`^${field}:(.*)\\r?$`, "m").exec(text)?.[1]?.trim();
}
