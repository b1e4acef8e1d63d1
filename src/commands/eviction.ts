/**
 * maxmemory: what the server counts as used memory, and the eviction that
 * keeps it under the limit, as Redis 7.0's evict.c does it.
 *
 * Used memory is a model of Redis's own `used_memory`, not V8's heap: the
 * keyspace's sum of per-key estimates in Redis's layout (MEMORY USAGE's
 * figure with the dict entry as jemalloc allocates it, plus the dicts'
 * bucket arrays; store/keyspace.ts keeps it up to date on every write),
 * what redis-server 7.0.15 uses before it holds any data, and the clients:
 * a fixed cost per connection, as measured on redis-server, plus their
 * unsent replies, sampled by the cron. So `maxmemory 64mb` holds about as
 * many keys here as in Redis, and the same settings keep a cache of the
 * same size; the process's RSS is that plus the runtime's own overhead
 * (see the README's "Using it as a cache").
 *
 * Eviction follows performEvictions. Before each command (the dispatcher
 * calls `beforeCommand` when maxmemory is set) it frees memory until under
 * the limit, one key at a time: the LRU, LFU and TTL policies refill a
 * 16-entry pool, sorted by idle time (or inverted frequency, or nearness
 * of the deadline), with `maxmemory-samples` keys of every database and
 * evict the best candidate that still exists (evictionPoolPopulate); the
 * random ones take a random key from the next database in turn. allkeys
 * policies draw keys uniformly from the access table (O(1)); volatile ones
 * walk the keys that have a deadline from where the previous sample
 * stopped. An evicted key is logged to the AOF as DEL (UNLINK with
 * lazyfree-lazy-eviction), counted in `evicted_keys`, and announced
 * through the server's keyChanged as the `evicted` event of class `e`, so
 * WATCH, client tracking and keyspace notifications see it and blocked
 * clients are only woken to find the key gone. After
 * `maxmemory-eviction-tenacity`'s time limit the work continues from a
 * timer between turns of the event loop (evictionTimeProc), so a big drop
 * of maxmemory never stalls the clients. Memory that cannot be freed makes
 * `denyoom` commands, and anything but EXEC/DISCARD/QUIT/RESET inside
 * MULTI, fail with OOM; scripts follow their flags (see `scriptDeniesOom`
 * and `preCommandOutOfMemory`). Nothing is evicted while loading, while a
 * busy script yields, while clients are paused, or on a replica that
 * ignores maxmemory, as isSafeToPerformEvictions says.
 *
 * With maxmemory 0 none of this runs: the dispatcher's one comparison is
 * the whole cost per command.
 *
 * @module
 */

import type { Config, MaxmemoryPolicy } from "../config.ts";
import { idleMilliseconds, lfuCounter } from "../store/access_words.ts";
import type { Database } from "../store/keyspace.ts";
import type { Client } from "./client.ts";
import type { KeyspaceEvents, ServerContext } from "./context.ts";
import { OUT_OF_MEMORY } from "./errors.ts";
import { ALLOW_OOM, NO_WRITES } from "./scripting/flags.ts";
import type { ScriptingRuntime } from "./scripting/runtime.ts";
import { parseShebang } from "./scripting/script_cache.ts";
import type { Command } from "./table.ts";

/**
 * What redis-server 7.0.15 reports as `used_memory_startup` on x86-64: its
 * structures before any data or client (shared objects, 16 empty
 * databases, the Lua engines). It counts in the model so that maxmemory
 * leaves the data as much room as Redis leaves it.
 */
export const STARTUP_MEMORY = 876_080;
/**
 * What one connection adds to redis-server 7.0's `used_memory` once its
 * query buffer has shrunk after use (client struct, 16 KB reply buffer):
 * measured with 100 idle connections.
 */
export const CLIENT_MEMORY = 22_976;
/** How long the cron may spend estimating changed collections when maxmemory is 0. */
const CRON_SETTLE_BUDGET_MS = 2;
/** Redis's EVPOOL_SIZE. */
const POOL_SIZE = 16;
/** Commands a client inside MULTI may still send over maxmemory. */
const ALLOWED_IN_MULTI = new Set(["exec", "discard", "quit", "reset"]);

/** What one run of eviction achieved (Redis's EVICT_OK, EVICT_RUNNING, EVICT_FAIL). */
export type EvictionResult = "ok" | "running" | "fail";

/**
 * evictionTimeLimitUs: how long one run of eviction may take for a
 * `maxmemory-eviction-tenacity` (0-10: 50 µs steps; then 15% more per
 * step; 100: no limit), in microseconds.
 */
export function evictionTimeLimit(tenacity: number): number {
  if (tenacity <= 10) return 50 * tenacity;
  if (tenacity < 100) return Math.floor(500 * Math.pow(1.15, tenacity - 10));
  return Infinity;
}

/**
 * Whether a script command counts as `denyoom` (evalGetCommandFlags,
 * fcallGetCommandFlags, scriptFlagsToCmdFlags): a script with a shebang or
 * a function that declares neither `allow-oom` nor `no-writes`. A script
 * without shebang keeps EVAL's own flags (not denyoom) and is checked at
 * its first write instead.
 */
export function scriptDeniesOom(
  scripts: ScriptingRuntime,
  cmd: Command,
  args: readonly string[],
): boolean {
  const permissive = ALLOW_OOM | NO_WRITES;
  switch (cmd.name) {
    case "eval":
    case "eval_ro": {
      const shebang = parseShebang(args[1] ?? "");
      return shebang.ok && !shebang.compatible && (shebang.flags & permissive) === 0;
    }
    case "evalsha":
    case "evalsha_ro": {
      const script = scripts.cache.get(args[1] ?? "");
      return script !== undefined && !script.compatible && (script.flags & permissive) === 0;
    }
    case "fcall":
    case "fcall_ro": {
      const fn = scripts.libraries.function(args[1] ?? "");
      return fn !== undefined && (fn.flags & permissive) === 0;
    }
    default:
      return false;
  }
}

/** Whether a policy picks among every key (allkeys-*) rather than those with a deadline. */
function allKeys(policy: MaxmemoryPolicy): boolean {
  return policy.startsWith("allkeys");
}

/** The part of the server that owns maxmemory: the memory model, eviction, its counters. */
export class Eviction implements KeyspaceEvents {
  /** Keys evicted since start or CONFIG RESETSTAT (INFO evicted_keys). */
  evictedKeys = 0;
  /** Highest used memory seen (INFO used_memory_peak). */
  peakMemory = STARTUP_MEMORY;
  /**
   * Whether the running top-level command found memory it could not free
   * before it started (Redis's pre_command_oom_state): a script's first
   * write is refused then, and a script with flags is not started.
   */
  preCommandOutOfMemory = false;
  /** Set by replication while this server is a replica (replica-ignore-maxmemory). */
  replica = false;

  readonly #server: ServerContext;
  /** The eviction pool: candidates sorted by ascending score, empty slots last. */
  readonly #poolScores = new Float64Array(POOL_SIZE);
  readonly #poolKeys: (string | undefined)[] = new Array(POOL_SIZE).fill(undefined);
  readonly #poolDatabases = new Int32Array(POOL_SIZE);
  /** Where the random policies look next (Redis's static next_db). */
  #nextDatabase = 0;
  /** When memory went over the limit and stayed (ms, performance.now), 0 while under. */
  #exceededSince = 0;
  /** Closed periods over the limit, in ms. */
  #exceededTotal = 0;
  /** Clients' unsent output, as the cron last summed it. */
  #clientOutput = 0;
  /** The timer that continues an eviction that ran out of time (evictionTimeProc). */
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #removeListeners: (() => void)[] = [];

  constructor(server: ServerContext) {
    this.#server = server;
    const listeners = server.configListeners;
    this.#removeListeners.push(
      listeners.onChange(
        [
          "maxmemory-policy",
          "lfu-log-factor",
          "lfu-decay-time",
          "list-max-listpack-size",
        ],
        (config) => this.#apply(config),
      ),
      listeners.onChange("maxmemory", (config) => {
        this.#apply(config);
        this.#maxmemoryChanged(config);
      }),
    );
    this.#apply(server.config);
  }

  // ---------------------------------------------------------------------------
  // The memory model

  /** What the clients cost: a fixed amount each, plus unsent replies (sampled). */
  get clientsMemory(): number {
    return this.#server.clients.size * CLIENT_MEMORY + this.#clientOutput;
  }

  /** Sums the clients' unsent output now (the cron does it `hz` times a second); `clientsMemory`. */
  sampleClients(): number {
    let output = 0;
    for (const client of this.#server.clients.values()) {
      output += client.reply.length + client.transport.pendingBytes;
    }
    this.#clientOutput = output;
    return this.clientsMemory;
  }

  /**
   * The used memory eviction compares with maxmemory (Redis's
   * zmalloc_used_memory less what is not counted for eviction): startup,
   * data and clients. Collections changed in the current batch may not be
   * in it yet; `settledUsedMemory` takes them in.
   */
  usedMemory(): number {
    return STARTUP_MEMORY + this.#server.keyspace.memoryBytes + this.clientsMemory;
  }

  /** `usedMemory` once every changed collection is estimated again (INFO, MEMORY STATS). */
  settledUsedMemory(): number {
    this.#server.keyspace.settleMemory();
    const used = this.usedMemory();
    if (used > this.peakMemory) this.peakMemory = used;
    return used;
  }

  // ---------------------------------------------------------------------------
  // Hooks

  /**
   * processCommand's maxmemory step, for the dispatcher to call before
   * every command when maxmemory is set: evicts as needed, and returns the
   * OOM error text when memory could not be freed and `cmd` may not run
   * then, else undefined.
   */
  beforeCommand(client: Client, cmd: Command, args: readonly string[]): string | undefined {
    // A busy script between slices: the others' commands run without evicting.
    if (this.#server.scripts.busy) return undefined;
    const outOfMemory = this.performEvictions() === "fail";
    this.preCommandOutOfMemory = outOfMemory;
    if (!outOfMemory) return undefined;
    return this.#refusedOverLimit(client, cmd, args) ? OUT_OF_MEMORY : undefined;
  }

  /** From the server cron: the access clock, clients' output, stray writes, the peak. */
  cron(): void {
    const server = this.#server;
    const keyspace = server.keyspace;
    keyspace.updateAccessClock();
    this.sampleClients();
    keyspace.reconcile();
    // Without maxmemory nobody waits for the figure: keep the stale set small, a little at a time.
    if (!keyspace.settleEagerly) keyspace.settleMemory(CRON_SETTLE_BUDGET_MS);
    const used = this.usedMemory();
    if (used > this.peakMemory) this.peakMemory = used;
  }

  keyChanged(db: Database, key: string): void {
    db.noteChanged(key);
  }

  /** CONFIG RESETSTAT's share: the eviction counters and the memory peak. */
  resetStats(): void {
    this.evictedKeys = 0;
    this.#exceededTotal = 0;
    if (this.#exceededSince !== 0) this.#exceededSince = performance.now();
    this.peakMemory = this.usedMemory();
  }

  /** Stops the eviction timer (the server is shutting down) and the config listeners. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const remove of this.#removeListeners.splice(0)) remove();
  }

  /** INFO's total_eviction_exceeded_time (ms), the current period included. */
  get totalExceededMilliseconds(): number {
    return Math.floor(this.#exceededTotal + this.currentExceededMilliseconds);
  }

  /** INFO's current_eviction_exceeded_time: how long memory has been over the limit (ms). */
  get currentExceededMilliseconds(): number {
    return this.#exceededSince === 0 ? 0 : Math.floor(performance.now() - this.#exceededSince);
  }

  /** Whether the eviction timer is continuing a run that ran out of time. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  // ---------------------------------------------------------------------------
  // Eviction

  /**
   * performEvictions: frees memory until used memory is under maxmemory,
   * within the tenacity's time limit (the timer then continues). "fail"
   * when memory is over the limit and nothing more can be evicted.
   */
  performEvictions(): EvictionResult {
    if (!this.#safeToEvict()) return "ok";
    const server = this.#server;
    const config = server.config;
    const maxmemory = config.maxmemory;
    if (maxmemory === 0) return this.#metrics("ok");
    let used = this.usedMemory();
    if (used <= maxmemory) return this.#metrics("ok");
    // Over, by the figure of the last batch: take this one's collections in first.
    server.keyspace.settleMemory();
    used = this.usedMemory();
    if (used > this.peakMemory) this.peakMemory = used;
    if (used <= maxmemory) return this.#metrics("ok");
    const policy = config.maxmemoryPolicy;
    if (policy === "noeviction") return this.#metrics("fail");

    const limitMs = evictionTimeLimit(config.maxmemoryEvictionTenacity) / 1000;
    const started = performance.now();
    const toFree = used - maxmemory;
    const threshold = config.latencyMonitorThreshold;
    let freed = 0;
    let evicted = 0;
    let result: EvictionResult = "ok";
    while (freed < toFree) {
      const picked = policy.endsWith("random")
        ? this.#pickRandom(policy)
        : this.#pickFromPool(policy);
      if (picked === undefined) {
        result = "fail";
        break;
      }
      const [db, key] = picked;
      const before = db.memoryBytes;
      const deletionStarted = threshold !== 0 ? performance.now() : 0;
      this.#evict(db, key);
      if (threshold !== 0) {
        server.operations.latency.addSampleIfNeeded(
          "eviction-del",
          Math.floor(performance.now() - deletionStarted),
          threshold,
        );
      }
      freed += before - db.memoryBytes;
      evicted++;
      if (evicted % 16 === 0 && performance.now() - started > limitMs) {
        this.#continueLater();
        result = "running";
        break;
      }
    }
    if (result === "ok" && this.#timer !== undefined) result = "running";
    if (threshold !== 0) {
      server.operations.latency.addSampleIfNeeded(
        "eviction-cycle",
        Math.floor(performance.now() - started),
        threshold,
      );
    }
    return this.#metrics(result);
  }

  /** isSafeToPerformEvictions: not while loading, yielding, paused, or on a replica ignoring maxmemory. */
  #safeToEvict(): boolean {
    const server = this.#server;
    if (server.loading || server.scripts.busy) return false;
    if (this.replica && server.config.inertParameters["replica-ignore-maxmemory"] !== "no") {
      return false;
    }
    return server.operations.pause.mode === undefined;
  }

  /** update_metrics: opens or closes a period over the limit. */
  #metrics(result: EvictionResult): EvictionResult {
    if (result === "ok") {
      if (this.#exceededSince !== 0) {
        this.#exceededTotal += performance.now() - this.#exceededSince;
        this.#exceededSince = 0;
      }
    } else if (this.#exceededSince === 0) {
      this.#exceededSince = performance.now();
    }
    return result;
  }

  /** Removes `key` as an eviction: logged as DEL, counted, announced as `evicted`. */
  #evict(db: Database, key: string): void {
    const server = this.#server;
    db.delete(key);
    this.evictedKeys++;
    server.keyChanged(db, key, "evicted", "e");
    const lazy = server.config.inertParameters["lazyfree-lazy-eviction"] === "yes";
    server.executor.addEffect(db.index, [lazy ? "UNLINK" : "DEL", key]);
  }

  /** evictionTimeProc: another run on the next turn of the event loop, until done. */
  #continueLater(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const result = this.performEvictions();
      // Timer work is outside any batch: write the DELs and send notifications.
      this.#server.flush();
      if (result === "running") this.#continueLater();
    }, 0);
  }

  /** The best candidate of the pool that still exists, refilling it as Redis does. */
  #pickFromPool(policy: MaxmemoryPolicy): [Database, string] | undefined {
    const databases = this.#server.keyspace.databases;
    const every = allKeys(policy);
    const keys = this.#poolKeys;
    const scores = this.#poolScores;
    const owners = this.#poolDatabases;
    for (;;) {
      let total = 0;
      for (const db of databases) {
        const count = every ? db.size : db.expires.size;
        if (count === 0) continue;
        this.#populate(db, policy, every);
        total += count;
      }
      if (total === 0) return undefined;
      for (let k = POOL_SIZE - 1; k >= 0; k--) {
        const key = keys[k];
        if (key === undefined) continue;
        const db = databases[owners[k]!]!;
        keys[k] = undefined;
        scores[k] = 0;
        // A key deleted (or persisted, for volatile policies) since is a ghost: try the next.
        if (every ? db.entries.has(key) : db.expires.has(key)) return [db, key];
      }
    }
  }

  /**
   * evictionPoolPopulate: scores `maxmemory-samples` keys of `db` (idle
   * time, 255 minus the LFU counter, or how soon the deadline comes; higher
   * evicts first) and inserts those better than the pool's worst.
   */
  #populate(db: Database, policy: MaxmemoryPolicy, every: boolean): void {
    const server = this.#server;
    const keyspace = server.keyspace;
    const samples = server.config.maxmemorySamples;
    const keys = this.#poolKeys;
    const scores = this.#poolScores;
    const owners = this.#poolDatabases;
    const lfu = policy.endsWith("lfu");
    const ttl = policy === "volatile-ttl";
    for (let j = 0; j < samples; j++) {
      const key = every ? db.randomKey() : db.nextExpiringKey();
      if (key === undefined) return;
      let score: number;
      if (ttl) {
        score = Number.MAX_SAFE_INTEGER - (db.expires.get(key) ?? 0);
      } else {
        const word = db.accessWord(key);
        if (word === undefined) continue;
        score = lfu
          ? 255 - lfuCounter(word, keyspace.lfuMinutes, keyspace.lfuDecayTime)
          : idleMilliseconds(word, keyspace.lruClock);
      }
      // The first empty slot, or the first candidate scoring at least as high.
      let k = 0;
      while (k < POOL_SIZE && keys[k] !== undefined && scores[k]! < score) k++;
      if (k === 0 && keys[POOL_SIZE - 1] !== undefined) continue; // Worse than all of a full pool.
      if (k < POOL_SIZE && keys[k] === undefined) {
        // An empty slot: nothing to move.
      } else if (keys[POOL_SIZE - 1] === undefined) {
        // Room on the right: shift k.. one place right.
        for (let i = POOL_SIZE - 1; i > k; i--) {
          keys[i] = keys[i - 1];
          scores[i] = scores[i - 1]!;
          owners[i] = owners[i - 1]!;
        }
      } else {
        // Full: drop the lowest-scored candidate by shifting ..k-1 left.
        k--;
        for (let i = 0; i < k; i++) {
          keys[i] = keys[i + 1];
          scores[i] = scores[i + 1]!;
          owners[i] = owners[i + 1]!;
        }
      }
      keys[k] = key;
      scores[k] = score;
      owners[k] = db.index;
    }
  }

  /** allkeys-random, volatile-random: a random key of the next non-empty database. */
  #pickRandom(policy: MaxmemoryPolicy): [Database, string] | undefined {
    const databases = this.#server.keyspace.databases;
    const every = allKeys(policy);
    for (let i = 0; i < databases.length; i++) {
      this.#nextDatabase = (this.#nextDatabase + 1) % databases.length;
      const db = databases[this.#nextDatabase]!;
      if ((every ? db.size : db.expires.size) === 0) continue;
      const key = every ? db.randomKey() : randomExpiringKey(db);
      if (key !== undefined) return [db, key];
    }
    return undefined;
  }

  /** processCommand's reject_cmd_on_oom: denyoom commands, EXEC of them, anything queued in MULTI. */
  #refusedOverLimit(client: Client, cmd: Command, args: readonly string[]): boolean {
    if (this.#deniesOom(cmd, args)) return true;
    const queued = client.transaction;
    if (queued === undefined) return false;
    if (cmd.name === "exec") {
      return queued.some((entry) => this.#deniesOom(entry.command, entry.args));
    }
    return !ALLOWED_IN_MULTI.has(cmd.name);
  }

  #deniesOom(cmd: Command, args: readonly string[]): boolean {
    return cmd.flags.includes("denyoom") || scriptDeniesOom(this.#server.scripts, cmd, args);
  }

  // ---------------------------------------------------------------------------
  // Configuration

  /** Applies maxmemory, the policy and the LFU parameters to the keyspace. */
  #apply(config: Config): void {
    const keyspace = this.#server.keyspace;
    keyspace.settleEagerly = config.maxmemory !== 0;
    keyspace.lfuLogFactor = config.lfuLogFactor;
    keyspace.lfuDecayTime = config.lfuDecayTime;
    keyspace.listFill = config.listMaxListpackSize;
    const lfu = config.maxmemoryPolicy.endsWith("lfu");
    // Words are kept whenever something may read them; OBJECT IDLETIME starts them too.
    if (
      config.maxmemory !== 0 || config.maxmemoryPolicy !== "noeviction" ||
      keyspace.accessMode !== undefined
    ) {
      keyspace.trackAccess(lfu ? "lfu" : "lru");
    }
  }

  /** updateMaxmemory: warns when the new limit is below the usage, and evicts at once. */
  #maxmemoryChanged(config: Config): void {
    if (config.maxmemory === 0) return;
    const used = this.settledUsedMemory();
    if (config.maxmemory < used) {
      this.#server.log.warning(
        `WARNING: the new maxmemory value set via CONFIG SET (${config.maxmemory}) is smaller than the current memory usage (${used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.`,
      );
    }
    this.performEvictions();
  }
}

/** A key with a deadline a little further along the walk of `db.expires` (volatile-random). */
function randomExpiringKey(db: Database): string | undefined {
  let key = db.nextExpiringKey();
  for (let skip = Math.floor(Math.random() * 8); skip > 0 && key !== undefined; skip--) {
    key = db.nextExpiringKey();
  }
  return key;
}
