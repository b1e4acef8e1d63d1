/**
 * MEMORY USAGE | STATS | DOCTOR | MALLOC-STATS | PURGE | HELP.
 *
 * USAGE reports Redis's figure for a key (memory_usage.ts models Redis's
 * layout, so numbers compare with redis-server's). STATS and DOCTOR give
 * the same model's totals, the ones maxmemory works on (eviction.ts):
 * `total.allocated` is INFO's used_memory, the overheads are Redis's
 * formulas (getMemoryOverheadData), while the allocator and RSS fields are
 * this process's, V8's heap and the resident set. MALLOC-STATS prints V8's
 * heap figures where Redis prints jemalloc's report; PURGE has nothing to
 * ask of V8 and answers OK, as Redis does when its allocator cannot purge.
 *
 * @module
 */

import type { Client } from "./client.ts";
import { parseInteger } from "./arguments.ts";
import { CommandError, NOT_INTEGER, SYNTAX_ERROR } from "./errors.ts";
import { helpReply } from "./help.ts";
import type { ServerContext } from "./context.ts";
import { STARTUP_MEMORY } from "./eviction.ts";
import { DEFAULT_SAMPLES, memoryUsage } from "./memory_usage.ts";
import { command, type CommandDeclaration } from "./table.ts";

/** sizeof(dictEntry) + sizeof(robj), sizeof(dictEntry), a bucket: Redis's overhead formulas. */
const MAIN_ENTRY_OVERHEAD = 24 + 16;
const EXPIRES_ENTRY_OVERHEAD = 24;
const BUCKET = 8;

/** A database's dict overheads as Redis's getMemoryOverheadData counts them. */
function databaseOverhead(size: number, expiring: number): { main: number; expires: number } {
  return {
    main: size * MAIN_ENTRY_OVERHEAD + slots(size) * BUCKET,
    expires: expiring === 0 ? 0 : expiring * EXPIRES_ENTRY_OVERHEAD + slots(expiring) * BUCKET,
  };
}

/** The dicts' share of used_memory_overhead, over every database (INFO memory). */
export function memoryOverhead(server: ServerContext): number {
  let total = 0;
  for (const db of server.keyspace.databases) {
    if (db.size === 0) continue;
    const { main, expires } = databaseOverhead(db.size, db.expires.size);
    total += main + expires;
  }
  return total;
}

/**
 * MEMORY USAGE key [SAMPLES count]: like Redis it looks the key up without
 * expiring it or counting a hit, and answers a null for a missing key.
 */
function usage(client: Client, args: string[]): void {
  let samples = DEFAULT_SAMPLES;
  for (let i = 3; i < args.length; i++) {
    if (args[i]!.toLowerCase() === "samples" && i + 1 < args.length) {
      const count = parseInteger(args[++i]!);
      if (count === undefined) throw new CommandError(NOT_INTEGER);
      if (count < 0) throw new CommandError(SYNTAX_ERROR);
      samples = count;
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  const key = args[2]!;
  const value = client.db.entries.get(key);
  if (value === undefined) {
    client.reply.nullBulk();
    return;
  }
  client.reply.integer(memoryUsage(key, value, samples, client.server.config.listMaxListpackSize));
}

/** What MEMORY STATS and DOCTOR compute from the process (Redis's getMemoryOverheadData). */
function overheadData(client: Client) {
  const server = client.server;
  const eviction = server.operations.eviction;
  const heap = Deno.memoryUsage();
  const clientsNormal = eviction.sampleClients();
  const used = eviction.settledUsedMemory();
  const startup = STARTUP_MEMORY;
  const databases: { index: number; main: number; expires: number }[] = [];
  let keys = 0;
  let dictionaries = 0;
  for (const db of server.keyspace.databases) {
    if (db.size === 0) continue;
    keys += db.size;
    const { main, expires } = databaseOverhead(db.size, db.expires.size);
    dictionaries += main + expires;
    databases.push({ index: db.index, main, expires });
  }
  const overhead = Math.min(used, startup + clientsNormal + dictionaries);
  return {
    peak: eviction.peakMemory,
    used,
    startup,
    clientsNormal,
    databases,
    overhead,
    keys,
    dataset: used - overhead,
    allocated: heap.heapUsed + heap.external,
    active: heap.heapTotal + heap.external,
    resident: heap.rss,
  };
}

function slots(count: number): number {
  let slots = 4;
  while (slots < count) slots *= 2;
  return slots;
}

/** A C float printed as Redis prints it (MEMORY STATS keeps its ratios as floats). */
function float(value: number): number {
  return Math.fround(Number.isFinite(value) ? value : 0);
}

function stats(client: Client): void {
  const data = overheadData(client);
  const reply = client.reply;
  const pairs: [string, () => void][] = [
    ["peak.allocated", () => reply.integer(data.peak)],
    ["total.allocated", () => reply.integer(data.used)],
    ["startup.allocated", () => reply.integer(data.startup)],
    ["replication.backlog", () => reply.integer(0)],
    ["clients.slaves", () => reply.integer(0)],
    ["clients.normal", () => reply.integer(data.clientsNormal)],
    ["cluster.links", () => reply.integer(0)],
    ["aof.buffer", () => reply.integer(0)],
    ["lua.caches", () => reply.integer(0)],
    ["functions.caches", () => reply.integer(0)],
  ];
  for (const db of data.databases) {
    pairs.push([`db.${db.index}`, () => {
      reply.mapHeader(3);
      reply.bulk("overhead.hashtable.main");
      reply.integer(db.main);
      reply.bulk("overhead.hashtable.expires");
      reply.integer(db.expires);
      reply.bulk("overhead.hashtable.slot-to-keys");
      reply.integer(0);
    }]);
  }
  const net = data.used - data.startup;
  pairs.push(
    ["overhead.total", () => reply.integer(data.overhead)],
    ["keys.count", () => reply.integer(data.keys)],
    ["keys.bytes-per-key", () => reply.integer(data.keys === 0 ? 0 : Math.floor(net / data.keys))],
    ["dataset.bytes", () => reply.integer(data.dataset)],
    ["dataset.percentage", () => reply.double(float(data.dataset * 100 / net))],
    ["peak.percentage", () => reply.double(float(data.used * 100 / data.peak))],
    ["allocator.allocated", () => reply.integer(data.allocated)],
    ["allocator.active", () => reply.integer(data.active)],
    ["allocator.resident", () => reply.integer(data.resident)],
    ["allocator-fragmentation.ratio", () => reply.double(float(data.active / data.allocated))],
    ["allocator-fragmentation.bytes", () => reply.integer(data.active - data.allocated)],
    ["allocator-rss.ratio", () => reply.double(float(data.resident / data.active))],
    ["allocator-rss.bytes", () => reply.integer(data.resident - data.active)],
    ["rss-overhead.ratio", () => reply.double(float(1))],
    ["rss-overhead.bytes", () => reply.integer(0)],
    ["fragmentation", () => reply.double(float(data.resident / data.used))],
    ["fragmentation.bytes", () => reply.integer(data.resident - data.used)],
  );
  reply.mapHeader(pairs.length);
  for (const [name, value] of pairs) {
    reply.bulk(name);
    value();
  }
}

/** Below this much data, MEMORY DOCTOR has nothing to say (Redis: 5 MB allocated). */
const DOCTOR_MINIMUM_BYTES = 5 * 1024 * 1024;

/**
 * MEMORY DOCTOR, with Redis's texts. The data's share of the heap decides
 * whether the instance is "empty" (the runtime's own heap is not the
 * user's concern); of Redis's checks, the memory peak applies here.
 */
function doctor(client: Client): void {
  const data = overheadData(client);
  let text: string;
  if (data.used - data.startup < DOCTOR_MINIMUM_BYTES) {
    text =
      "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n";
  } else if (data.peak / data.used > 1.5) {
    text = "Sam, I detected a few issues in this Redis instance memory implants:\n\n" +
      " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n" +
      "I'm here to keep you safe, Sam. I want to help you.\n";
  } else {
    text =
      "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n";
  }
  client.reply.verbatim(text);
}

function mallocStats(client: Client): void {
  const heap = Deno.memoryUsage();
  client.reply.verbatim(
    "___ Begin V8 heap statistics ___\n" +
      `rss: ${heap.rss}\nheapTotal: ${heap.heapTotal}\nheapUsed: ${heap.heapUsed}\n` +
      `external: ${heap.external}\n` +
      "--- End V8 heap statistics ---\n",
  );
}

const MEMORY_HELP = [
  "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "DOCTOR",
  "    Return memory problems reports.",
  "MALLOC-STATS",
  "    Return internal statistics report from the memory allocator.",
  "PURGE",
  "    Attempt to purge dirty pages for reclamation by the allocator.",
  "STATS",
  "    Return information about the memory usage of the server.",
  "USAGE <key> [SAMPLES <count>]",
  "    Return memory in bytes used by <key> and its value. Nested values are",
  "    sampled up to <count> times (default: 5, 0 means sample all).",
  "HELP",
  "    Prints this help.",
];

function memorySubcommand(
  name: string,
  arity: number,
  handler: CommandDeclaration["handler"],
): CommandDeclaration {
  return { name: `memory|${name}`, arity, flags: [], handler };
}

export const memoryCommands = [
  command({
    name: "memory",
    arity: -2,
    flags: [],
    subcommands: [
      memorySubcommand("doctor", 2, doctor),
      memorySubcommand("malloc-stats", 2, mallocStats),
      memorySubcommand("purge", 2, (client) => client.reply.ok()),
      memorySubcommand("stats", 2, stats),
      {
        name: "memory|usage",
        arity: -3,
        flags: ["readonly"],
        keySpecs: [{ flags: ["RO"], begin: { index: 2 }, find: { lastKey: 0 } }],
        handler: usage,
      },
      {
        name: "memory|help",
        arity: 2,
        flags: ["loading", "stale"],
        handler: (client) => helpReply(client, MEMORY_HELP),
      },
    ],
  }),
];
