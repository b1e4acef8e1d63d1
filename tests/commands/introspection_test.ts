/**
 * The command table's derived facts (table.ts), the argument cursor
 * (arguments.ts), and what clients build from COMMAND DOCS: redis-cli's
 * interactive hints and HELP, driven in tmux against our server and a real
 * redis-server.
 *
 * Byte-for-byte COMMAND INFO/DOCS/LIST and GETKEYS replies are checked by
 * tests/differential (command_table_test.ts and corpus/command.txt); these
 * tests name the rules behind them: implied ACL categories, the legacy key
 * range and movablekeys, key-spec searches and the fallback to a command's
 * key finder.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ArgumentCursor } from "../../src/commands/arguments.ts";
import { CommandError, NOT_INTEGER, SYNTAX_ERROR } from "../../src/commands/errors.ts";
import {
  ACL_CATEGORIES,
  aclCategoriesOf,
  command,
  commandKeys,
  hasKeys,
  numkeysKeyFinder,
  requestKeys,
} from "../../src/commands/table.ts";
import { COMMAND_FAMILIES } from "../../src/commands/families.ts";
import {
  RawClient,
  redisCliPath,
  sleep,
  startOurServer,
  startRedisServer,
} from "../helpers/servers.ts";
import { raw } from "../helpers/test_support.ts";

const noop = () => {};

Deno.test("ACL categories: flags imply write, read, admin+dangerous, pubsub, fast or slow, blocking", () => {
  assert.deepEqual(aclCategoriesOf({ flags: ["write", "denyoom"], aclCategories: ["string"] }), [
    "write",
    "string",
    "slow",
  ]);
  assert.deepEqual(aclCategoriesOf({ flags: ["readonly", "fast"], aclCategories: ["keyspace"] }), [
    "keyspace",
    "read",
    "fast",
  ]);
  assert.deepEqual(aclCategoriesOf({ flags: ["admin", "noscript"] }), [
    "admin",
    "slow",
    "dangerous",
  ]);
  assert.deepEqual(aclCategoriesOf({ flags: ["write", "blocking", "fast"] }), [
    "write",
    "fast",
    "blocking",
  ]);
  assert.deepEqual(aclCategoriesOf({ flags: ["pubsub"] }), ["pubsub", "slow"]);
  // Scripting commands stay out of @read, as in Redis.
  assert.deepEqual(aclCategoriesOf({ flags: ["readonly"], aclCategories: ["scripting"] }), [
    "slow",
    "scripting",
  ]);
  assert.equal(ACL_CATEGORIES.length, 21);
});

Deno.test("every declared command's category mask matches its category list", () => {
  for (const cmd of COMMAND_FAMILIES.flat()) {
    for (const each of [cmd, ...(cmd.subcommandTable?.values() ?? [])]) {
      const fromMask = ACL_CATEGORIES.filter((_, bit) => (each.categoryMask & (1 << bit)) !== 0);
      assert.deepEqual(fromMask, [...each.categories], each.name);
    }
  }
});

Deno.test("legacy key range: one plain range is used as is, consecutive ranges merge", () => {
  const get = command({
    name: "get",
    arity: 2,
    flags: ["readonly"],
    keySpecs: [{ flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } }],
  });
  assert.deepEqual(get.legacyKeyRange, { first: 1, last: 1, step: 1 });
  assert.equal(get.movableKeys, false);
  const mset = command({
    name: "mset",
    arity: -3,
    flags: ["write"],
    keySpecs: [{ flags: ["OW"], begin: { index: 1 }, find: { lastKey: -1, keyStep: 2 } }],
  });
  assert.deepEqual(mset.legacyKeyRange, { first: 1, last: -1, step: 2 });
  const sunionstore = command({
    name: "sunionstore",
    arity: -3,
    flags: ["write"],
    keySpecs: [
      { flags: ["OW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } },
      { flags: ["RO", "ACCESS"], begin: { index: 2 }, find: { lastKey: -1 } },
    ],
  });
  assert.deepEqual(sunionstore.legacyKeyRange, { first: 1, last: -1, step: 1 });
  assert.equal(sunionstore.movableKeys, false);
});

Deno.test("movablekeys: a numkeys or keyword spec, or an incomplete one, makes keys movable", () => {
  const zunionstore = command({
    name: "zunionstore",
    arity: -4,
    flags: ["write"],
    keySpecs: [
      { flags: ["OW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } },
      { flags: ["RO", "ACCESS"], begin: { index: 2 }, find: { keyNumIndex: 0, firstKey: 1 } },
    ],
  });
  assert.deepEqual(zunionstore.legacyKeyRange, { first: 1, last: 1, step: 1 });
  assert.equal(zunionstore.movableKeys, true);
  const sintercard = command({
    name: "sintercard",
    arity: -3,
    flags: ["readonly"],
    keySpecs: [{ flags: ["RO"], begin: { index: 1 }, find: { keyNumIndex: 0, firstKey: 1 } }],
  });
  assert.deepEqual(sintercard.legacyKeyRange, { first: 0, last: 0, step: 0 });
  assert.equal(sintercard.movableKeys, true);
  const incomplete = command({
    name: "x",
    arity: -2,
    flags: [],
    keySpecs: [{ flags: ["RW", "INCOMPLETE"], begin: { index: 1 }, find: { lastKey: 0 } }],
  });
  assert.equal(incomplete.movableKeys, true);
});

Deno.test("requestKeys: index and range specs give positions with the spec's flags", () => {
  const lmove = command({
    name: "lmove",
    arity: 5,
    flags: ["write"],
    keySpecs: [
      { flags: ["RW", "ACCESS", "DELETE"], begin: { index: 1 }, find: { lastKey: 0 } },
      { flags: ["RW", "INSERT"], begin: { index: 2 }, find: { lastKey: 0 } },
    ],
  });
  assert.deepEqual(requestKeys(lmove, ["LMOVE", "a", "b", "LEFT", "RIGHT"]), [
    { position: 1, flags: ["RW", "ACCESS", "DELETE"] },
    { position: 2, flags: ["RW", "INSERT"] },
  ]);
  assert.deepEqual(commandKeys(lmove, ["LMOVE", "a", "b", "LEFT", "RIGHT"]), ["a", "b"]);
});

Deno.test("requestKeys: keyword searches, forwards with a limit and backwards", () => {
  // XREAD's shape: keys after STREAMS, half of what follows.
  const xread = command({
    name: "xread",
    arity: -4,
    flags: ["readonly"],
    keySpecs: [{
      flags: ["RO", "ACCESS"],
      begin: { keyword: "STREAMS", startFrom: 1 },
      find: { lastKey: -1, keyStep: 1, limit: 2 },
    }],
  });
  assert.deepEqual(
    commandKeys(xread, ["XREAD", "COUNT", "2", "streams", "a", "b", "0", "0"]),
    ["a", "b"],
  );
  // No keyword: this spec names no keys (and is not an error).
  assert.deepEqual(commandKeys(xread, ["XREAD", "COUNT", "2"]), []);
  // MIGRATE's shape: KEYS searched from the end, an incomplete spec.
  const fallback = numkeysKeyFinder(0, 1, 2);
  const migrate = command({
    name: "migrate",
    arity: -6,
    flags: ["write"],
    keySpecs: [{
      flags: ["RW", "INCOMPLETE"],
      begin: { keyword: "KEYS", startFrom: -2 },
      find: { lastKey: -1 },
    }],
    keyFinder: (args) => [{ position: args.length - 1, flags: [] }, ...fallback(args)],
  });
  // An incomplete spec hands over to the key finder.
  assert.deepEqual(requestKeys(migrate, ["MIGRATE", "h", "p", "", "0", "5", "KEYS", "a", "b"]), [
    { position: 8, flags: [] },
  ]);
});

Deno.test("requestKeys: an unreadable numkeys falls back to the key finder, which reads it as atoi", () => {
  const zunionstore = command({
    name: "zunionstore",
    arity: -4,
    flags: ["write"],
    keySpecs: [
      { flags: ["OW", "UPDATE"], begin: { index: 1 }, find: { lastKey: 0 } },
      { flags: ["RO", "ACCESS"], begin: { index: 2 }, find: { keyNumIndex: 0, firstKey: 1 } },
    ],
    keyFinder: numkeysKeyFinder(1, 2, 3),
  });
  assert.deepEqual(commandKeys(zunionstore, ["ZUNIONSTORE", "d", "2", "a", "b"]), ["d", "a", "b"]);
  // "2x" is no integer for the spec; atoi reads 2, and the destination comes last.
  assert.deepEqual(requestKeys(zunionstore, ["ZUNIONSTORE", "d", "2x", "a", "b"]), [
    { position: 3, flags: [] },
    { position: 4, flags: [] },
    { position: 1, flags: [] },
  ]);
  assert.deepEqual(commandKeys(zunionstore, ["ZUNIONSTORE", "d", "9", "a"]), []);
  assert.deepEqual(commandKeys(zunionstore, ["ZUNIONSTORE", "d", "0", "a"]), []);
});

Deno.test("a spec with VARIABLE_FLAGS defers to the key finder; channel specs name no keys", () => {
  const set = command({
    name: "set",
    arity: -3,
    flags: ["write"],
    keySpecs: [{
      flags: ["RW", "ACCESS", "UPDATE", "VARIABLE_FLAGS"],
      begin: { index: 1 },
      find: { lastKey: 0 },
    }],
    keyFinder: () => [{ position: 1, flags: ["OW", "UPDATE"] }],
  });
  assert.deepEqual(requestKeys(set, ["SET", "k", "v"]), [{ position: 1, flags: ["OW", "UPDATE"] }]);
  const spublish = command({
    name: "spublish",
    arity: 3,
    flags: ["pubsub"],
    keySpecs: [{ flags: ["NOT_KEY"], begin: { index: 1 }, find: { lastKey: 0 } }],
  });
  assert.equal(hasKeys(spublish), false);
  assert.deepEqual(requestKeys(spublish, ["SPUBLISH", "ch", "m"]), []);
  assert.equal(hasKeys(command({ name: "ping", arity: -1, flags: [], handler: noop })), false);
});

Deno.test("ArgumentCursor: flags are taken in any order and case up to the first other argument", () => {
  const cursor = new ArgumentCursor(["ZADD", "z", "ch", "NX", "nx", "1", "m"]);
  assert.equal(cursor.key(), "z");
  assert.deepEqual(cursor.flags(["NX", "XX", "CH"]), { NX: true, XX: false, CH: true });
  assert.equal(cursor.double(), 1);
  assert.equal(cursor.next(), "m");
  cursor.finish();
});

Deno.test("ArgumentCursor: accept, integers, leftovers and missing arguments fail with Redis's errors", () => {
  const cursor = new ArgumentCursor(["X", "limit", "10", "junk"]);
  assert.equal(cursor.accept("COUNT"), undefined);
  assert.equal(cursor.accept("COUNT", "LIMIT"), "LIMIT");
  assert.equal(cursor.integer(), 10);
  assert.throws(() => cursor.finish(), new CommandError(SYNTAX_ERROR));
  assert.throws(() => cursor.integer(), new CommandError(NOT_INTEGER));
  assert.throws(() => cursor.next(), new CommandError(SYNTAX_ERROR));
  assert.deepEqual(new ArgumentCursor(["X", "a", "b"]).rest(), ["a", "b"]);
});

// ---------------------------------------------------------------------------
// redis-cli's hints, built from COMMAND DOCS

function tmuxPath(): string | undefined {
  for (const directory of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (directory !== "" && Deno.statSync(`${directory}/tmux`).isFile) return `${directory}/tmux`;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

const TMUX = tmuxPath();
const REDIS_CLI = redisCliPath();
const SKIP_REASON = TMUX === undefined
  ? "tmux is not installed"
  : REDIS_CLI === undefined
  ? "redis-cli is not installed"
  : undefined;
if (SKIP_REASON !== undefined) {
  console.warn(`*** redis-cli hint test SKIPPED: ${SKIP_REASON}`);
}

/** A redis-cli in a detached tmux session on a private tmux server. */
class CliSession {
  static #count = 0;
  readonly #socket = `redis-clone-hints-${Deno.pid}-${CliSession.#count++}`;

  async #tmux(...args: string[]): Promise<string> {
    const { stdout, stderr, success } = await new Deno.Command(TMUX!, {
      args: ["-L", this.#socket, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!success) throw new Error(`tmux ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
    return new TextDecoder().decode(stdout);
  }

  async start(port: number): Promise<void> {
    await this.#tmux(
      "new-session",
      "-d",
      "-x",
      "220",
      "-y",
      "40",
      `${REDIS_CLI} -p ${port}`,
    );
    await this.waitFor((screen) => screen.includes(`127.0.0.1:${port}>`));
  }

  type(keys: string, enter = false): Promise<string> {
    return this.#tmux("send-keys", "-t", "0", ...(enter ? [keys, "Enter"] : [keys]));
  }

  clearLine(): Promise<string> {
    return this.#tmux("send-keys", "-t", "0", "C-u");
  }

  /** The screen once `ready` holds (polled; the terminal updates asynchronously). */
  async waitFor(ready: (screen: string) => boolean): Promise<string> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const screen = await this.#tmux("capture-pane", "-p", "-t", "0");
      if (ready(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`tmux screen never got ready:\n${screen}`);
      await sleep(25);
    }
  }

  async stop(): Promise<void> {
    await this.#tmux("kill-server").catch(() => {});
  }
}

/**
 * The hint redis-cli shows after `SET k v `, and what HELP SET prints, for a
 * server; `whileConnected` runs before redis-cli exits.
 */
async function cliHints(
  port: number,
  whileConnected: () => Promise<void> = () => Promise.resolve(),
): Promise<{ hint: string; help: string[] }> {
  const session = new CliSession();
  try {
    await session.start(port);
    await session.type("SET k v ");
    const hintScreen = await session.waitFor((screen) => /SET k v \S/.test(screen));
    const hint = hintScreen.split("\n").find((line) => line.includes("SET k v "))!
      .replace(/^.*SET k v /, "").trimEnd();
    await session.clearLine();
    await session.type("HELP SET", true);
    const helpScreen = await session.waitFor((screen) => /group: string/.test(screen));
    const lines = helpScreen.split("\n").map((line) => line.trimEnd());
    const start = lines.findIndex((line) => line.trim().startsWith("SET key value"));
    const help = lines.slice(start, lines.findIndex((line) => line.includes("group:")) + 1);
    await whileConnected();
    return { hint, help };
  } finally {
    await session.stop();
  }
}

Deno.test({
  name:
    "redis-cli shows the same SET hint and HELP SET as with redis-server, from our COMMAND DOCS",
  ignore: SKIP_REASON !== undefined,
  fn: async () => {
    const ours = await startOurServer();
    try {
      // HELP is answered by redis-cli itself: its last request was the COMMAND DOCS it built hints from.
      const { hint, help } = await cliHints(ours.port, async () => {
        const observer = await RawClient.connect(ours.port);
        try {
          const clients = await raw(observer, "CLIENT", "LIST");
          assert.match(clients, /cmd=command\|docs /, clients);
        } finally {
          await observer.close();
        }
      });
      assert.ok(
        hint.startsWith("[NX|XX] [GET] [EX seconds|PX milliseconds|"),
        `hint after "SET k v ": ${hint}`,
      );
      assert.equal(
        help[0]!.trim(),
        "SET key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|" +
          "PXAT unix-time-milliseconds|KEEPTTL]",
      );
      const redis = await startRedisServer();
      if (redis === undefined) {
        console.warn("redis-server not installed: hints checked against the literal only");
        return;
      }
      try {
        assert.deepEqual(await cliHints(redis.port), { hint, help });
      } finally {
        await redis.stop();
      }
    } finally {
      await ours.stop();
    }
  },
});
