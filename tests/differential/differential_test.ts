/**
 * Differential tests: the same commands sent to our server and to a real
 * `redis-server` must get byte-for-byte the same replies.
 *
 * Hand-written assertions only pin down what their author thought of; a
 * corpus of commands compared against Redis itself pins down everything a
 * client can see (error texts, reply types, RESP3 encodings, edge cases)
 * with one line per case. Each file in `corpus/` becomes one `Deno.test`.
 * What Redis says about its command table (COMMAND INFO and DOCS of every
 * command we implement) is compared by command_table_test.ts instead, from
 * our table rather than a corpus.
 *
 * ## Adding cases
 *
 * 1. Write or extend `tests/differential/corpus/<family>.txt`.
 * 2. Record Redis's replies: `deno run -A tests/differential/record.ts <family>`
 *    (no names: every file). This writes `expected/<family>.json` and warns
 *    about lines whose replies vary between two fresh Redis servers (those
 *    need `!type`, `!sort` or `!ignore`).
 * 3. Commit both files. That is all.
 *
 * ## Corpus format
 *
 * One command per line, quoted like redis-cli input (Redis's sdssplitargs):
 * `SET "a b" 'c'`, `"\r\n"`, `"\x00"`. Blank lines and lines starting with
 * `#` are ignored. A line may start with a modifier:
 *
 * - `!sort CMD ...`: the reply is an aggregate whose elements are compared
 *   after sorting (SMEMBERS, KEYS, HKEYS of big hashes...). RESP3 maps sort
 *   their key/value pairs.
 * - `!type CMD ...`: only the type byte is compared, plus the length of an
 *   aggregate and whether a bulk string is null (SPOP, RANDOMKEY, PTTL).
 * - `!ignore CMD ...`: sent, reply not compared.
 * - `!hello CMD ...`: compared with the `version` and `id` fields of a HELLO
 *   reply masked, everything else exact.
 * - `!sleep <ms>` (a line of its own): wait.
 *
 * Directives, each a line of its own:
 *
 * - `@resp3` / `@resp2`: switch the connection's protocol with `HELLO 3` /
 *   `HELLO 2`; the reply is compared as with `!hello`.
 * - `@newconn`: continue on a fresh connection (RESP2, database 0, no name).
 *
 * Each file starts from an empty server (a FLUSHALL is sent first and not
 * compared) on a fresh pair of servers, over one connection.
 *
 * ## How it runs
 *
 * With `redis-server` on PATH, our server and Redis are started side by side
 * and every reply is compared live; the recorded file is checked against the
 * live Redis too, so a corpus edited without re-recording fails here rather
 * than on a machine without Redis. Without `redis-server` (or with
 * `REDIS_CLONE_DIFF_OFFLINE=1`), a loud warning is printed and our replies
 * are compared with the recorded ones.
 *
 * Every mismatch of a file is reported in one failure: line, command, and
 * both replies escaped. To check the harness itself, point "ours" at Redis:
 * `REDIS_CLONE_TEST_CMD="redis-server --save ''" deno task test tests/differential/`
 * (see tests/helpers/servers.ts).
 *
 * @module
 */

import {
  ourServerCommand,
  ourServerIsOverridden,
  redisServerPath,
  startOurServer,
  startRedisServer,
} from "../helpers/servers.ts";
import {
  type Corpus,
  expectedPath,
  findMismatches,
  formatMismatches,
  listFamilies,
  listRecordedFamilies,
  loadCorpus,
  readExpected,
  runCorpus,
} from "./harness.ts";

const offline = Deno.env.get("REDIS_CLONE_DIFF_OFFLINE") === "1" ||
  redisServerPath() === undefined;

if (offline) {
  console.warn(
    "\n*** DIFFERENTIAL TESTS: redis-server is not available (or REDIS_CLONE_DIFF_OFFLINE=1).\n" +
      "*** The live comparison with Redis is SKIPPED; comparing with recorded replies instead.\n",
  );
}

if (ourServerIsOverridden()) {
  console.warn(
    `differential tests: "ours" is REDIS_CLONE_TEST_CMD = ${ourServerCommand().join(" ")}`,
  );
}

function recordHint(family: string): string {
  return `re-record with: deno run -A tests/differential/record.ts ${family}`;
}

/** Problems with the recorded file, or an empty list. */
function checkRecorded(corpus: Corpus, recorded: string[] | undefined): string[] {
  const path = expectedPath(corpus.family).pathname;
  if (recorded === undefined) {
    return [`recorded replies missing: ${path} does not exist; ${recordHint(corpus.family)}`];
  }
  if (recorded.length !== corpus.commands.length) {
    return [
      `recorded replies are stale: ${path} has ${recorded.length} entries but the corpus has ` +
      `${corpus.commands.length} commands; ${recordHint(corpus.family)}`,
    ];
  }
  return [];
}

async function compareLive(corpus: Corpus, recorded: string[] | undefined): Promise<string[]> {
  const problems = checkRecorded(corpus, recorded);
  const recordedUsable = recorded !== undefined && problems.length === 0;
  // Started side by side; whichever starts must be stopped even if the other fails.
  const started = await Promise.allSettled([startOurServer(), startRedisServer()]);
  const ours = started[0].status === "fulfilled" ? started[0].value : undefined;
  const redis = started[1].status === "fulfilled" ? started[1].value : undefined;
  try {
    for (const result of started) if (result.status === "rejected") throw result.reason;
    if (ours === undefined) throw new Error("our server did not start");
    if (redis === undefined) throw new Error("redis-server disappeared from PATH");
    const [expected, actual] = await Promise.all([
      runCorpus(redis.port, corpus),
      runCorpus(ours.port, corpus),
    ]);
    const mismatches = findMismatches(corpus, expected, actual);
    if (mismatches.length > 0) {
      problems.push(
        `${mismatches.length} of ${corpus.commands.length} replies differ from redis-server:\n` +
          formatMismatches(corpus.family, mismatches, "redis", "ours"),
      );
    }
    if (recordedUsable) {
      const stale = findMismatches(corpus, recorded!, expected);
      if (stale.length > 0) {
        problems.push(
          `recorded replies are stale (${recordHint(corpus.family)}):\n` +
            formatMismatches(corpus.family, stale, "recorded", "redis"),
        );
      }
    }
  } finally {
    await Promise.all([ours?.stop(), redis?.stop()]);
  }
  return problems;
}

async function compareRecorded(corpus: Corpus, recorded: string[] | undefined): Promise<string[]> {
  const problems = checkRecorded(corpus, recorded);
  if (problems.length > 0) return problems;
  const ours = await startOurServer();
  try {
    const actual = await runCorpus(ours.port, corpus);
    const mismatches = findMismatches(corpus, recorded!, actual);
    if (mismatches.length > 0) {
      problems.push(
        `${mismatches.length} of ${corpus.commands.length} replies differ from the recorded ` +
          `redis-server replies:\n` +
          formatMismatches(corpus.family, mismatches, "recorded", "ours"),
      );
    }
  } finally {
    await ours.stop();
  }
  return problems;
}

for (const family of listFamilies()) {
  Deno.test(`differential: ${family} matches redis-server`, async () => {
    const corpus = await loadCorpus(family);
    const recorded = await readExpected(family);
    const problems = offline
      ? await compareRecorded(corpus, recorded)
      : await compareLive(corpus, recorded);
    if (problems.length > 0) {
      throw new Error(`differential ${family}.txt:\n${problems.join("\n\n")}`);
    }
  });
}

Deno.test("differential: every recorded file has a corpus file", () => {
  const families = new Set(listFamilies());
  const orphans = listRecordedFamilies().filter((family) => !families.has(family));
  if (orphans.length > 0) {
    throw new Error(
      `recorded replies without a corpus file (delete them): ${
        orphans.map((family) => `expected/${family}.json`).join(", ")
      }`,
    );
  }
});
