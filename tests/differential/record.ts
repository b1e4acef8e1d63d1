/**
 * Records Redis's replies to the differential corpus, so the differential
 * tests can still check our server on machines without `redis-server`.
 *
 * ```sh
 * deno run -A tests/differential/record.ts            # every corpus file
 * deno run -A tests/differential/record.ts strings    # only corpus/strings.txt
 * deno run -A tests/differential/record.ts command_table  # COMMAND INFO/DOCS (command_table.ts)
 * ```
 *
 * Each file is played against two fresh redis-servers (exactly what the test
 * does with one). Lines whose replies differ between the two runs under
 * their comparison mode are nondeterministic and would make the test flaky:
 * they are listed, and nothing is written for that file until they are
 * fixed (usually with `!type`, `!sort` or `!ignore`).
 *
 * @module
 */

import { redisServerPath, startRedisServer } from "../helpers/servers.ts";
import { RECORDED_PATH, recordTable } from "./command_table.ts";
import {
  expectedPath,
  findMismatches,
  formatMismatches,
  listFamilies,
  loadCorpus,
  runCorpus,
  writeExpected,
} from "./harness.ts";

async function recordFamily(family: string): Promise<boolean> {
  const corpus = await loadCorpus(family);
  // Started side by side; whichever starts must be stopped even if the other fails.
  const started = await Promise.allSettled([startRedisServer(), startRedisServer()]);
  const [first, second] = started.map((result) =>
    result.status === "fulfilled" ? result.value : undefined
  );
  try {
    for (const result of started) if (result.status === "rejected") throw result.reason;
    if (first === undefined || second === undefined) throw new Error("redis-server not found");
    const [replies, again] = await Promise.all([
      runCorpus(first.port, corpus),
      runCorpus(second.port, corpus),
    ]);
    const unstable = findMismatches(corpus, replies, again);
    if (unstable.length > 0) {
      console.error(
        `${family}: NOT recorded, ${unstable.length} replies differ between two fresh ` +
          `redis-servers (use !type, !sort or !ignore):\n` +
          formatMismatches(family, unstable, "first", "second"),
      );
      return false;
    }
    await writeExpected(family, replies);
    console.log(`${family}: ${replies.length} replies -> ${expectedPath(family).pathname}`);
    return true;
  } finally {
    await Promise.all([first?.stop(), second?.stop()]);
  }
}

/** The name that records the command table rather than a corpus file. */
const TABLE = "command_table";

/** Records what redis-server says about the commands we implement (command_table.ts). */
async function recordCommandTable(): Promise<boolean> {
  const redis = await startRedisServer();
  if (redis === undefined) throw new Error("redis-server not found");
  try {
    const count = await recordTable(redis.port);
    console.log(`command_table: ${count} commands -> ${RECORDED_PATH.pathname}`);
    return true;
  } finally {
    await redis.stop();
  }
}

async function main(families: string[]): Promise<number> {
  if (redisServerPath() === undefined) {
    console.error("redis-server is not on PATH (or REDIS_SERVER_PATH); nothing recorded");
    return 1;
  }
  const known = listFamilies();
  const requested = families.length > 0 ? families : [...known, TABLE];
  const unknown = requested.filter((family) => family !== TABLE && !known.includes(family));
  if (unknown.length > 0) {
    console.error(`no such corpus file: ${unknown.map((name) => `corpus/${name}.txt`).join(", ")}`);
    return 1;
  }
  let ok = true;
  for (const family of requested) {
    const recorded = family === TABLE ? await recordCommandTable() : await recordFamily(family);
    if (!recorded) ok = false;
  }
  return ok ? 0 : 1;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args.map((arg) => arg.replace(/\.txt$/, ""))));
}
