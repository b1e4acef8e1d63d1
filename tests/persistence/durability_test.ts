/**
 * Durability end to end with real server processes: restart after a clean
 * stop, kill -9 under concurrent writers, graceful shutdown under every
 * fsync policy, damaged and cut-off files at start-up, and a really full
 * disk (a tiny tmpfs, when the machine lets the test mount one).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { RawClient, type RunningServer, sleep, startOurServer } from "../helpers/servers.ts";
import {
  assertSameData,
  checkAof,
  infoField,
  mountTmpfs,
  programPath,
  send,
  SERVER_TEST,
  snapshotOverSocket,
  tempDir,
  unmountTmpfs,
  waitFor,
} from "./helpers.ts";

const decoder = new TextDecoder();

function start(dir: string, args: string[] = []): Promise<RunningServer> {
  return startOurServer({ dir, args: ["--appendonly", "yes", ...args] });
}

/** Runs our server on `dir` expecting it to refuse to start; returns its exit code and log. */
async function failedStart(dir: string, args: string[] = []) {
  try {
    const server = await start(dir, args);
    await server.stop();
  } catch (error) {
    const message = String(error);
    const code = /exited with code (\d+)/.exec(message)?.[1];
    return { code: Number(code), log: message };
  }
  throw new Error("the server started but was expected to refuse");
}

Deno.test({
  name: "data written, server stopped and restarted: everything is back, TTLs included",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    let server = await start(dir);
    try {
      const client = await RawClient.connect(server.port);
      await send(client, "SET", "plain", "value");
      await send(client, "SET", "session", "token", "EX", "1000");
      await send(client, "SET", "short", "lived", "PX", "300");
      await send(client, "HSET", "user:1", "name", "Ada", "lang", "en");
      await send(client, "RPUSH", "queue", "a", "b", "c");
      await send(client, "SADD", "tags", "x", "y");
      await send(client, "ZADD", "board", "10", "alice", "7.5", "bob");
      await send(client, "INCRBYFLOAT", "float", "1.1");
      await send(client, "PEXPIRE", "user:1", "5000000");
      await send(client, "SELECT", "9");
      await send(client, "SET", "in-db-nine", "v");
      await client.close();
      const before = await snapshotOverSocket(server.port);
      await server.stop();
      await sleep(400);
      delete before["0"]!["short"];
      server = await start(dir);
      assertSameData(await snapshotOverSocket(server.port), before);
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/**
 * 20 clients INCR their own counters until the server is killed with
 * SIGKILL; after a restart every counter holds at least its last
 * acknowledged value (and at most one more: a write may land without its
 * reply having been read).
 */
async function killWhileWriting(policy: string): Promise<void> {
  const dir = await tempDir();
  let server = await start(dir, ["--appendfsync", policy]);
  const acknowledged = new Array<number>(20).fill(0);
  const clients = await Promise.all(acknowledged.map(() => RawClient.connect(server.port)));
  try {
    const work = clients.map(async (client, i) => {
      try {
        for (;;) {
          const reply = decoder.decode(await client.command("INCR", `counter:${i}`));
          acknowledged[i] = Number(reply.slice(1));
        }
      } catch {
        // The server was killed.
      }
    });
    await sleep(1500);
    await server.kill9();
    await Promise.all(work);
    server = await start(dir, ["--appendfsync", policy]);
    if (policy === "always") {
      assert.doesNotMatch(server.stderr(), /short read/, "the file must load without repair");
    }
    const reader = await RawClient.connect(server.port);
    for (let i = 0; i < 20; i++) {
      const value = Number(await send(reader, "GET", `counter:${i}`) ?? 0);
      assert.ok(
        value >= acknowledged[i]! && value <= acknowledged[i]! + 1,
        `counter ${i}: ${value} after restart, ${acknowledged[i]} acknowledged`,
      );
    }
    assert.ok(acknowledged.every((count) => count > 5), "every client made progress");
    await reader.close();
    if (programPath("redis-check-aof")) {
      const check = await checkAof(join(dir, "database.aof"));
      assert.ok(check.ok, check.output);
    }
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "kill -9 while 20 clients write under always: every acknowledged write survives",
  ...SERVER_TEST,
  fn: () => killWhileWriting("always"),
});

Deno.test({
  name: "kill -9 while 20 clients write under everysec: the file loads, nothing acknowledged lost",
  ...SERVER_TEST,
  // A killed process loses no write(2) already made (the page cache keeps it); the
  // one-second window of everysec is about power loss, tested in aof_test.ts.
  fn: () => killWhileWriting("everysec"),
});

Deno.test({
  name: "graceful shutdown (SIGTERM, SHUTDOWN) loses nothing under any fsync policy",
  ...SERVER_TEST,
  async fn() {
    const cases = [
      { policy: "always", how: "SIGTERM" },
      { policy: "everysec", how: "SHUTDOWN" },
      { policy: "no", how: "SIGTERM" },
      { policy: "no", how: "SHUTDOWN" },
    ];
    for (const { policy, how } of cases) {
      const dir = await tempDir();
      let server = await start(dir, ["--appendfsync", policy]);
      try {
        const client = await RawClient.connect(server.port);
        // A pipeline of writes; the last ones in the same packet as SHUTDOWN.
        let pipeline = "";
        for (let i = 0; i < 2000; i++) pipeline += `SET key:${i} value:${i}\r\n`;
        await client.send(pipeline);
        for (let i = 0; i < 2000; i++) await client.readReply();
        if (how === "SHUTDOWN") {
          // Like Redis, the server exits without sending the replies of this last batch.
          await client.send("SET last-before-shutdown 1\r\nSHUTDOWN\r\n");
          const { code } = await server.stop("SIGCONT");
          assert.equal(code, 0);
        } else {
          await send(client, "SET", "last-before-shutdown", "1");
          const { code } = await server.stop("SIGTERM");
          assert.equal(code, 0);
        }
        await client.close();
        server = await start(dir, ["--appendfsync", policy]);
        const reader = await RawClient.connect(server.port);
        assert.equal(await send(reader, "DBSIZE"), 2001, `${policy} + ${how}`);
        assert.equal(await send(reader, "GET", "key:1999"), "value:1999");
        assert.equal(await send(reader, "GET", "last-before-shutdown"), "1");
        await reader.close();
      } finally {
        await server.stop();
        await Deno.remove(dir, { recursive: true });
      }
    }
  },
});

Deno.test({
  name: "start-up with a cut-off file repairs it; damage or aof-load-truncated no refuses to start",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    const path = join(dir, "database.aof");
    const good = "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n";
    try {
      await Deno.writeTextFile(path, good + "*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$5\r\n12");
      const refused = await failedStart(dir, ["--aof-load-truncated", "no"]);
      assert.equal(refused.code, 1);
      assert.match(refused.log, new RegExp(`Unexpected end of file .*${path} at offset 27`));

      const server = await start(dir);
      assert.match(server.stderr(), new RegExp(`Truncating the AOF ${path} at offset 27 !!!`));
      const client = await RawClient.connect(server.port);
      assert.equal(await send(client, "GET", "a"), "1");
      await client.close();
      await server.stop();
      assert.equal(await Deno.readTextFile(path), good);

      const damaged = good + "*2\r\n$4\r\nINCR\r\n" + good;
      await Deno.writeTextFile(path, damaged);
      const failed = await failedStart(dir);
      assert.equal(failed.code, 1);
      assert.match(
        failed.log,
        new RegExp(
          `Bad file format \\(expected '\\$', got '\\*' at offset 41\\) .*${path} at offset 27;`,
        ),
      );
      const wrongType = good + "*2\r\n$5\r\nLPUSH\r\n$1\r\na\r\n" +
        "*3\r\n$5\r\nLPUSH\r\n$1\r\na\r\n$1\r\nx\r\n" + good;
      await Deno.writeTextFile(path, wrongType);
      const failedType = await failedStart(dir);
      assert.match(failedType.log, /Invalid command 'LPUSH a' .* at offset 27/);
      assert.equal(await Deno.readTextFile(path), wrongType, "a damaged file is never modified");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Fills the tmpfs at `dir` with a file of `bytes`, leaving little room. */
async function fill(dir: string, bytes: number): Promise<string> {
  const path = join(dir, "filler");
  await Deno.writeFile(path, new Uint8Array(bytes));
  return path;
}

Deno.test({
  name: "a really full disk (tmpfs): MISCONF, reads served, recovery once there is room",
  ...SERVER_TEST,
  async fn() {
    const dir = await mountTmpfs(256 * 1024);
    if (dir === undefined) {
      console.warn(
        "SKIPPED: cannot mount a tmpfs here (the simulated disk test in aof_test.ts covers it)",
      );
      return;
    }
    let server = await start(dir);
    const client = await RawClient.connect(server.port);
    try {
      assert.equal(await send(client, "SET", "before", "1"), "OK");
      const filler = await fill(dir, 200 * 1024);
      const value = "v".repeat(10_000);
      let refused: unknown;
      for (let i = 0; i < 20 && refused === undefined; i++) {
        const reply = await send(client, "SET", `big:${i}`, value);
        if (reply !== "OK") refused = reply;
      }
      assert.deepEqual(refused, {
        error: "MISCONF Errors writing to the AOF file: No space left on device",
      });
      assert.equal(await send(client, "GET", "before"), "1");
      assert.equal(await infoField(client, "aof_last_write_status"), "err");
      assert.match(server.stderr(), /Error writing to the AOF file: No space left on device/);
      await Deno.remove(filler);
      await waitFor(
        async () => (await infoField(client, "aof_last_write_status")) === "ok",
        3000,
        "recovery",
      );
      assert.match(server.stderr(), /AOF write error looks solved/);
      assert.equal(await send(client, "SET", "after", "1"), "OK");
      const expected = await snapshotOverSocket(server.port);
      await client.close();
      await server.stop();
      server = await start(dir);
      assert.doesNotMatch(server.stderr(), /short read/);
      assertSameData(await snapshotOverSocket(server.port), expected);
    } finally {
      await client.close();
      await server.stop();
      await unmountTmpfs(dir);
    }
  },
});

Deno.test({
  name:
    "a really full disk under always: the server exits, and restarts with every acknowledged write",
  ...SERVER_TEST,
  async fn() {
    const dir = await mountTmpfs(256 * 1024);
    if (dir === undefined) {
      console.warn("SKIPPED: cannot mount a tmpfs here (aof_test.ts covers the always case)");
      return;
    }
    let server = await start(dir, ["--appendfsync", "always"]);
    const client = await RawClient.connect(server.port);
    const acknowledged: string[] = [];
    try {
      const filler = await fill(dir, 200 * 1024);
      const value = "v".repeat(5_000);
      try {
        for (let i = 0; i < 40; i++) {
          if (decoder.decode(await client.command("SET", `key:${i}`, value)) === "+OK\r\n") {
            acknowledged.push(`key:${i}`);
          }
        }
      } catch {
        // The connection closed: the server exited.
      }
      const { code, stderr } = await server.stop("SIGCONT");
      assert.equal(code, 1);
      assert.match(
        stderr,
        /Can't recover from AOF write error when the AOF fsync policy is 'always'\. Exiting\.\.\./,
      );
      await Deno.remove(filler);
      server = await start(dir, ["--appendfsync", "always"]);
      assert.doesNotMatch(server.stderr(), /short read/, "the partial write was cut back");
      const reader = await RawClient.connect(server.port);
      for (const key of acknowledged) assert.equal(await send(reader, "EXISTS", key), 1, key);
      await reader.close();
    } finally {
      await client.close();
      await server.stop();
      await unmountTmpfs(dir);
    }
  },
});
