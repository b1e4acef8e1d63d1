/**
 * Idle compaction: a full, memory-reducing garbage collection once the
 * server has been idle for a second after its memory grew or many clients
 * came or went.
 *
 * After a bulk load V8 keeps its young generation grown (tens of MB) and
 * holds garbage (old Map tables, request arrays) until its own memory
 * reducer gets round to it, tens of seconds later and only in part.
 * Measured with bench/memory.ts on 1M string keys, RSS per key falls from
 * about 200 to about 150 bytes with this (Redis: about 113). The collection
 * pauses the process (about 150 ms per million keys), so it only runs when
 * no command has run for a full second: never in the middle of traffic.
 * Buffers live outside the JavaScript heap (ArrayBuffers), so the process
 * RSS counts too, and so does a big change in the number of clients: after
 * thousands of clients disconnect their buffers are garbage, but nothing
 * runs that would make V8 collect them, and Redis gives that memory back.
 * `--expose-gc` is set at run time, which needs no permission or launch flag.
 *
 * @module
 */

import v8 from "node:v8";
import vm from "node:vm";
import { releaseFreedMemory } from "./native.ts";
import type { Server } from "./server.ts";

const CHECK_INTERVAL_MS = 250;
const IDLE_BEFORE_COMPACTION_MS = 1000;
/** Heap growth since the last compaction that makes another worthwhile. */
const GROWTH_THRESHOLD_BYTES = 16 * 1024 * 1024;
/** RSS growth (buffers outside the heap included) that does too. */
const RSS_GROWTH_THRESHOLD_BYTES = 32 * 1024 * 1024;
/** Clients connected or gone since the last compaction that do too. */
const CLIENT_CHURN_THRESHOLD = 512;

type CollectGarbage = (options: { type: string; execution: string; flavor: string }) => void;

let collectGarbage: CollectGarbage | undefined;

/** Starts watching for idle time; returns the function that stops it. */
export function startIdleCompaction(server: Server): () => void {
  if (collectGarbage === undefined) {
    v8.setFlagsFromString("--expose-gc");
    collectGarbage = vm.runInNewContext("gc") as CollectGarbage;
  }
  const collect = collectGarbage;
  const activity = () => server.stats.commandsProcessed + server.stats.connectionsReceived;
  let seenActivity = activity();
  let quietSince = performance.now();
  let after = { ...Deno.memoryUsage(), clients: server.clients.size };
  const timer = setInterval(() => {
    const now = performance.now();
    if (activity() !== seenActivity) {
      seenActivity = activity();
      quietSince = now;
      return;
    }
    if (now - quietSince < IDLE_BEFORE_COMPACTION_MS) return;
    const before = Deno.memoryUsage();
    const clients = server.clients.size;
    if (
      before.heapTotal < after.heapTotal + GROWTH_THRESHOLD_BYTES &&
      before.rss < after.rss + RSS_GROWTH_THRESHOLD_BYTES &&
      Math.abs(clients - after.clients) < CLIENT_CHURN_THRESHOLD
    ) {
      return;
    }
    collect({ type: "major", execution: "sync", flavor: "last-resort" });
    // glibc keeps freed chunks; hand them back as jemalloc does for Redis.
    releaseFreedMemory();
    after = { ...Deno.memoryUsage(), clients };
    server.log.verbose(
      `Idle compaction: heap ${before.heapTotal >> 20} MB -> ${after.heapTotal >> 20} MB, rss ${
        before.rss >> 20
      } MB -> ${after.rss >> 20} MB in ${(performance.now() - now).toFixed(0)} ms`,
    );
  }, CHECK_INTERVAL_MS);
  return () => clearInterval(timer);
}
