/**
 * The AOF loader in-process: every truncation point of a small file, damage
 * of each kind, MULTI blocks, expired keys, Redis 7 annotations.
 *
 * Loading runs against a Server object without a socket, which makes it
 * cheap enough to try every byte offset of a file. The expected state for a
 * prefix is computed independently of the loader, by running the same
 * commands through the dispatcher on a fresh server.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { NO_TRANSPORT } from "../../src/commands/client.ts";
import type { KeyspaceEvents } from "../../src/commands/context.ts";
import { dispatch } from "../../src/commands/dispatcher.ts";
import { Logger } from "../../src/log.ts";
import { persistenceInfo } from "../../src/persistence/info.ts";
import { AofLoadError, loadAppendOnlyFile } from "../../src/persistence/loader.ts";
import { Server } from "../../src/server/server.ts";
import { encodeCommand, latin1Bytes } from "../helpers/servers.ts";
import { configFrom, keyspaceSnapshot, type Snapshot, tempDir } from "./helpers.ts";

const FUTURE = String(Date.now() + 3_600_000);
const PAST = String(Date.now() - 3_600_000);

function newServer(
  args: string[] = [],
  observers: KeyspaceEvents[] = [],
): { server: Server; log: string[] } {
  const log: string[] = [];
  const server = new Server(
    configFrom(args),
    new Logger("notice", (line) => log.push(line)),
    { observers },
  );
  return { server, log };
}

/** State after running `commands` directly (no loader), MULTI blocks applied whole. */
function referenceState(commands: string[][]): Snapshot {
  const { server } = newServer();
  const client = server.connect(NO_TRANSPORT);
  for (const args of commands) {
    const name = args[0]!.toUpperCase();
    if (name === "MULTI" || name === "EXEC") continue;
    dispatch(client, args);
    client.reply.take();
  }
  return keyspaceSnapshot(server);
}

function encode(commands: string[][]): Uint8Array {
  const parts = commands.map((args) => encodeCommand(args.map(latin1Bytes)));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

async function load(bytes: Uint8Array, args: string[] = []) {
  const dir = await tempDir();
  const path = join(dir, "test.aof");
  await Deno.writeFile(path, bytes);
  const { server, log } = newServer(args);
  try {
    const result = await loadAppendOnlyFile(server, path);
    return { result, server, log, after: await Deno.readFile(path) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function loadError(bytes: Uint8Array, args: string[] = []): Promise<string> {
  const dir = await tempDir();
  const path = join(dir, "test.aof");
  await Deno.writeFile(path, bytes);
  const { server } = newServer(args);
  try {
    await loadAppendOnlyFile(server, path);
  } catch (error) {
    assert.ok(error instanceof AofLoadError, String(error));
    assert.deepEqual(await Deno.readFile(path), bytes, "the damaged file must be left untouched");
    return error.message.replaceAll(path, "<path>");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  throw new Error("loading succeeded but was expected to fail");
}

/** A small file with every value type, expiry, binary data, databases and a transaction. */
const COMMANDS: string[][] = [
  ["SELECT", "0"],
  ["SET", "greeting", "hello"],
  ["SET", "binary", "a\r\nb\x00c\xff"],
  ["HSET", "user", "name", "Ada", "lang", "en"],
  ["SADD", "tags", "x", "y", "z"],
  ["INCR", "counter"],
  ["INCR", "counter"],
  ["PEXPIREAT", "greeting", FUTURE],
  ["MULTI"],
  ["INCR", "counter"],
  ["SET", "in-transaction", "1"],
  ["HDEL", "user", "lang"],
  ["EXEC"],
  ["SELECT", "2"],
  ["SET", "other-db", "v"],
  ["APPEND", "other-db", "w"],
  ["SELECT", "0"],
  ["DEL", "tags"],
  ["SET", "last", "x"],
];

Deno.test("a file cut at any byte loads exactly the complete commands before the cut", async () => {
  const bytes = encode(COMMANDS);
  // Valid end offsets and the state at each; inside a MULTI block the valid end is before MULTI.
  const ends: { offset: number; state: Snapshot }[] = [{ offset: 0, state: {} }];
  let offset = 0;
  let multiStart: number | undefined;
  for (let i = 0; i < COMMANDS.length; i++) {
    const name = COMMANDS[i]![0];
    if (name === "MULTI") multiStart = offset;
    offset += encode([COMMANDS[i]!]).byteLength;
    if (name === "EXEC") multiStart = undefined;
    if (multiStart === undefined) {
      ends.push({ offset, state: referenceState(COMMANDS.slice(0, i + 1)) });
    }
  }
  assert.equal(offset, bytes.byteLength);
  const dir = await tempDir();
  const path = join(dir, "cut.aof");
  try {
    for (let cut = 0; cut <= bytes.byteLength; cut++) {
      const valid = ends.filter((end) => end.offset <= cut).at(-1)!;
      await Deno.writeFile(path, bytes.subarray(0, cut));
      const { server } = newServer();
      const result = await loadAppendOnlyFile(server, path);
      assert.deepEqual(keyspaceSnapshot(server), valid.state, `state after a cut at ${cut}`);
      assert.equal(result.truncatedAt, valid.offset === cut ? undefined : valid.offset);
      assert.equal(
        (await Deno.stat(path)).size,
        valid.offset,
        `file truncated for a cut at ${cut}`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with aof-load-truncated no a cut-off file stops start-up and is left as it is", async () => {
  const bytes = encode(COMMANDS);
  const cut = bytes.subarray(0, bytes.byteLength - 3);
  const message = await loadError(cut, ["--aof-load-truncated", "no"]);
  const lastStart = bytes.byteLength - encode([COMMANDS.at(-1)!]).byteLength;
  assert.match(message, new RegExp(`Unexpected end of file .*<path> at offset ${lastStart}\\b`));
  assert.match(message, /aof-load-truncated/);
});

Deno.test("a MULTI block without EXEC at the end is dropped as a whole", async () => {
  const before = [["SET", "a", "1"]];
  const block = [["MULTI"], ["SET", "a", "2"], ["SET", "b", "2"]];
  const { server, result, log, after } = await load(encode([...before, ...block]));
  assert.deepEqual(keyspaceSnapshot(server), referenceState(before));
  assert.equal(result.truncatedAt, encode(before).byteLength);
  assert.equal(after.byteLength, encode(before).byteLength);
  assert.match(log.join(""), /Revert incomplete MULTI\/EXEC transaction/);
  assert.match(log.join(""), new RegExp(`Truncating the AOF .* at offset ${after.byteLength} `));
});

Deno.test("damage in the middle names the file, the offset and the command", async () => {
  const head = encode([["SET", "a", "1"], ["HSET", "h", "f", "v"]]);
  const tail = encode([["SET", "z", "26"]]);
  const join3 = (middle: Uint8Array) => {
    const out = new Uint8Array(head.byteLength + middle.byteLength + tail.byteLength);
    out.set(head);
    out.set(middle, head.byteLength);
    out.set(tail, head.byteLength + middle.byteLength);
    return out;
  };
  const at = head.byteLength;
  const text = (value: string) => new TextEncoder().encode(value);

  assert.match(
    await loadError(join3(text("garbage\r\n"))),
    new RegExp(`^Bad file format \\(expected '\\*', got 'g'\\) reading .*<path> at offset ${at};`),
  );
  assert.match(
    await loadError(join3(encode([["FROBNICATE", "x"]]))),
    new RegExp(`^Unknown command 'FROBNICATE' reading .*<path> at offset ${at};`),
  );
  assert.match(
    await loadError(join3(encode([["INCR", "h"]]))),
    new RegExp(
      `^Command 'INCR h' failed \\(WRONGTYPE Operation against a key holding the wrong kind of value\\) reading .*<path> at offset ${at};`,
    ),
  );
  assert.match(
    await loadError(join3(encode([["SET", "only-key"]]))),
    new RegExp(
      `^Invalid command 'SET only-key' \\(ERR wrong number of arguments for 'set' command\\) .* at offset ${at};`,
    ),
  );
  assert.match(
    await loadError(join3(text("*2\r\n$3\r\nGET\r\n$1\r\nabc\r\n"))),
    new RegExp(
      `^Bad file format \\(bulk string not terminated by CRLF at offset ${
        at + 18
      }\\) .* at offset ${at};`,
    ),
  );
  assert.match(
    await loadError(join3(text("*2\r\n$3\r\nGET\r\n$x\r\n"))),
    /^Bad file format \(invalid length line \('x'\) at offset \d+\)/,
  );
  assert.match(await loadError(join3(encode([["EXEC"]]))), /^EXEC without MULTI/);
  // A damaged command inside a transaction is damage too, even though it only runs at EXEC.
  assert.match(
    await loadError(join3(encode([["MULTI"], ["INCR", "h"], ["EXEC"]]))),
    /^Command 'INCR h' failed/,
  );
});

Deno.test("keys past their deadline are dropped, and commands on them replay as they ran", async () => {
  const { server, result } = await load(encode([
    ["SET", "expired", "1"],
    ["PEXPIREAT", "expired", PAST],
    // When this ran the key was still alive: it must not come back as a fresh key without TTL.
    ["INCR", "expired"],
    ["SET", "also-expired", "v", "PXAT", PAST],
    ["SET", "persisted", "1"],
    ["PEXPIREAT", "persisted", PAST],
    ["PERSIST", "persisted"],
    ["SET", "alive", "1"],
    ["PEXPIREAT", "alive", FUTURE],
  ]));
  const snapshot = keyspaceSnapshot(server);
  assert.deepEqual(Object.keys(snapshot["0"]!), ["alive", "persisted"]);
  assert.equal(snapshot["0"]!.alive!.expireAt, Number(FUTURE));
  assert.equal(snapshot["0"]!.persisted!.expireAt, -1);
  assert.equal(server.keyspace.databases[0]!.entries.has("expired"), false);
  assert.equal(result.expiredKeys, 2);
});

Deno.test("Redis 7 annotation lines are skipped", async () => {
  const annotation = new TextEncoder().encode("#TS:1700000000\r\n");
  const command = encode([["SET", "a", "1"]]);
  const bytes = new Uint8Array([...annotation, ...command, ...annotation]);
  const { server, result } = await load(bytes);
  assert.deepEqual(keyspaceSnapshot(server), referenceState([["SET", "a", "1"]]));
  assert.equal(result.truncatedAt, undefined);
});

Deno.test("a missing or empty file loads nothing", async () => {
  const { server } = newServer();
  const result = await loadAppendOnlyFile(server, "/nonexistent/dir/file.aof");
  assert.equal(result.commands, 0);
  const empty = await load(new Uint8Array(0));
  assert.deepEqual(keyspaceSnapshot(empty.server), {});
});

Deno.test("INFO shows loading:1 and the progress while a large file loads", async () => {
  const dir = await tempDir();
  const value = "v".repeat(100);
  const chunk = encode(Array.from({ length: 1000 }, (_, i) => ["SET", `key:${i}`, value]));
  const file = await Deno.open(join(dir, "database.aof"), { write: true, create: true });
  for (let i = 0; i < 100; i++) await file.write(chunk);
  file.close();
  // Sample INFO from inside the replay, half way through.
  let during = new Map<string, string>();
  let changes = 0;
  const sampler: KeyspaceEvents = {
    keyChanged: () => {
      if (++changes === 50_000) {
        during = new Map(
          persistenceInfo(server.persistence).map(([field, value]) => [field, String(value)]),
        );
      }
    },
  };
  const { server } = newServer(["--dir", dir, "--appendonly", "yes"], [sampler]);
  try {
    await server.persistence.start();
    assert.equal(during.get("loading"), "1");
    assert.equal(during.get("loading_total_bytes"), String(chunk.byteLength * 100));
    assert.ok(Number(during.get("loading_loaded_bytes")) < chunk.byteLength * 100);
    const after = new Map(
      persistenceInfo(server.persistence).map(([field, value]) => [field, String(value)]),
    );
    assert.equal(after.get("loading"), "0");
    assert.equal(after.has("loading_total_bytes"), false);
    assert.equal(after.get("aof_current_size"), String(chunk.byteLength * 100));
    assert.equal(after.get("aof_base_size"), String(chunk.byteLength * 100));
  } finally {
    server.persistence.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
