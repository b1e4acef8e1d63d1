/**
 * The command table against redis-server 7.0: COMMAND INFO and COMMAND DOCS
 * of every command and subcommand we implement, byte for byte in RESP2 and
 * RESP3, COMMAND (no arguments), and COMMAND LIST FILTERBY ACLCAT for every
 * category (see command_table.ts for what is compared and why containers
 * are compared in canonical form). GETKEYS, GETKEYSANDFLAGS and the INFO
 * and DOCS corner cases (several names, unknown names) are deterministic
 * and live in the ordinary corpus, corpus/command.txt.
 *
 * Without redis-server (or with REDIS_CLONE_DIFF_OFFLINE=1) our replies are
 * compared with the recording, expected_command_table.json; with it, the
 * recording is checked against the live server too, so a stale one fails
 * here. Re-record with `deno run -A tests/differential/record.ts command_table`.
 *
 * @module
 */

import { redisServerPath, startOurServer, startRedisServer } from "../helpers/servers.ts";
import { commandDocs, isRecordedFromRedis } from "../../src/commands/command_docs.ts";
import {
  asResp2,
  comparableNames,
  compareTableReplies,
  fetchCommandEntries,
  fetchTableReplies,
  implementedCommands,
  readRecordedTable,
  RECORDED_PATH,
  type TableMismatch,
  type TableReplies,
} from "./command_table.ts";
import { escapeBytes } from "../helpers/servers.ts";
import assert from "node:assert/strict";

const offline = Deno.env.get("REDIS_CLONE_DIFF_OFFLINE") === "1" ||
  redisServerPath() === undefined;
if (offline) {
  console.warn(
    "\n*** COMMAND TABLE: redis-server is not available (or REDIS_CLONE_DIFF_OFFLINE=1).\n" +
      "*** The live comparison is SKIPPED; comparing with the recorded replies instead.\n",
  );
}

const RECORD_HINT = "re-record with: deno run -A tests/differential/record.ts command_table";

function report(label: string, mismatches: readonly TableMismatch[]): string {
  return `${mismatches.length} differences (${label}):\n` +
    mismatches.slice(0, 20).map((m) =>
      `  ${m.what}\n    expected: ${escapeBytes(m.expected)}\n    ours:     ${
        escapeBytes(m.actual)
      }`
    ).join("\n");
}

/** Problems with our replies against `expected` in both protocols. */
async function compareOurs(
  expected3: TableReplies,
  expected2: TableReplies,
  label: string,
): Promise<string[]> {
  const names = comparableNames();
  const ours = await startOurServer();
  try {
    const problems: string[] = [];
    for (const [protocol, expected] of [[3, expected3], [2, expected2]] as const) {
      const actual = await fetchTableReplies(ours.port, names, protocol);
      const mismatches = compareTableReplies(expected, actual, names);
      if (mismatches.length > 0) problems.push(report(`RESP${protocol}, ${label}`, mismatches));
    }
    return problems;
  } finally {
    await ours.stop();
  }
}

Deno.test("command table: COMMAND INFO, COMMAND DOCS and ACL categories match redis-server", async () => {
  const recorded = await readRecordedTable();
  const problems: string[] = [];
  if (offline) {
    if (recorded === undefined) {
      throw new Error(`${RECORDED_PATH.pathname} missing; ${RECORD_HINT}`);
    }
    problems.push(...await compareOurs(recorded, asResp2(recorded), "recorded redis-server"));
  } else {
    const redis = (await startRedisServer())!;
    try {
      const names = comparableNames();
      const live3 = await fetchTableReplies(redis.port, names, 3);
      const live2 = await fetchTableReplies(redis.port, names, 2);
      problems.push(...await compareOurs(live3, live2, "live redis-server"));
      // The recording must say what the live server says, and its RESP2 form must be exact.
      if (recorded === undefined) {
        problems.push(`${RECORDED_PATH.pathname} missing; ${RECORD_HINT}`);
      } else {
        const stale = compareTableReplies(live3, recorded, names);
        if (stale.length > 0) {
          problems.push(`${report("recording is stale", stale)}\n${RECORD_HINT}`);
        }
        const derived = compareTableReplies(live2, asResp2(live3), names);
        if (derived.length > 0) problems.push(report("RESP2 derived from RESP3", derived));
      }
    } finally {
      await redis.stop();
    }
  }
  if (problems.length > 0) throw new Error(problems.join("\n\n"));
});

Deno.test("command table: COMMAND lists every command as COMMAND INFO describes it", async () => {
  const names = new Set(comparableNames());
  const topLevel = implementedCommands().filter((cmd) => cmd.containerName === undefined);
  const redis = offline ? undefined : await startRedisServer();
  const ours = await startOurServer();
  try {
    for (const protocol of [2, 3] as const) {
      const ourEntries = await fetchCommandEntries(ours.port, protocol, names);
      assert.deepEqual([...ourEntries.keys()], topLevel.map((cmd) => cmd.name));
      const reference = redis === undefined
        ? undefined
        : await fetchCommandEntries(redis.port, protocol, names);
      if (reference === undefined) continue;
      for (const cmd of topLevel) {
        if (!names.has(cmd.name)) continue;
        assert.equal(
          escapeBytes(ourEntries.get(cmd.name)!),
          escapeBytes(reference.get(cmd.name)!),
          `COMMAND entry of ${cmd.name}, RESP${protocol}`,
        );
      }
    }
  } finally {
    await ours.stop();
    await redis?.stop();
  }
});

Deno.test("command table: every command we implement has its documentation", () => {
  const undocumented = implementedCommands().filter((cmd) => commandDocs(cmd.name) === undefined);
  assert.deepEqual(undocumented.map((cmd) => cmd.name), []);
  // Only commands newer than Redis 7.0 are documented by hand (command_docs.ts).
  const later = implementedCommands().filter((cmd) => !isRecordedFromRedis(cmd.name));
  assert.deepEqual(later.map((cmd) => cmd.name), ["client|setinfo"]);
});

Deno.test("command table: documentation argument key specs point at declared key specs", () => {
  for (const cmd of implementedCommands()) {
    const indexes: number[] = [];
    const walk = (list: readonly { keySpecIndex?: number; arguments?: readonly unknown[] }[]) => {
      for (const argument of list) {
        if (argument.keySpecIndex !== undefined) indexes.push(argument.keySpecIndex);
        if (argument.arguments) walk(argument.arguments as typeof list);
      }
    };
    walk(commandDocs(cmd.name)?.arguments ?? []);
    for (const index of indexes) {
      assert.ok(index < cmd.keySpecs.length, `${cmd.name}: argument refers to key spec ${index}`);
    }
  }
});
