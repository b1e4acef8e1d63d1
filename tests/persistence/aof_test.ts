/**
 * The AOF writer against a simulated disk: group commit under `always`, a
 * disk that fills up (MISCONF, reads still served, recovery), a failing
 * fsync, and a power cut under each fsync policy.
 *
 * The simulated disk (helpers.ts) is injected with `replaceFileSystem`, so
 * these run our server in this process; what the clients see still goes
 * through real sockets.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { AppendOnlyFile } from "../../src/persistence/aof.ts";
import { replaceFileSystem } from "../../src/persistence/file_system.ts";
import { loadAppendOnlyFile } from "../../src/persistence/loader.ts";
import { Logger } from "../../src/log.ts";
import { Server } from "../../src/server/server.ts";
import { encodeCommand, RawClient } from "../helpers/servers.ts";
import {
  configFrom,
  infoField,
  keyspaceSnapshot,
  send,
  SERVER_TEST,
  SimulatedDisk,
  startInProcess,
  tempDir,
  waitFor,
} from "./helpers.ts";

const decoder = new TextDecoder();

/** Loads AOF bytes into a fresh server (from a real temporary file). */
async function loadBytes(bytes: Uint8Array): Promise<Server> {
  const dir = await tempDir();
  try {
    const path = join(dir, "copy.aof");
    await Deno.writeFile(path, bytes);
    const server = new Server(configFrom([]), new Logger("warning", () => {}));
    const result = await loadAppendOnlyFile(server, path);
    assert.equal(result.truncatedAt, undefined, "the file must load without repair");
    return server;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `body` with `disk` as the file system. */
async function withDisk(disk: SimulatedDisk, body: () => Promise<void>): Promise<void> {
  const previous = replaceFileSystem(disk);
  try {
    await body();
  } finally {
    replaceFileSystem(previous);
  }
}

Deno.test({
  name: "under always one fsync covers the batches of many clients, and no reply precedes it",
  ...SERVER_TEST,
  async fn() {
    const disk = new SimulatedDisk();
    disk.syncDelayMs = 20;
    await withDisk(disk, async () => {
      const aof = AppendOnlyFile.open("/sim/a.aof", "always", new Logger("nothing"));
      const file = disk.files.get("/sim/a.aof")!;
      const sent: string[] = [];
      const batch = (name: string) => {
        aof.append(0, ["SET", name, "v"]);
        const written = file.length;
        aof.flush(() => {
          assert.ok(file.durableLength >= written, `${name} replied before its data was synced`);
          sent.push(name);
        });
      };
      batch("first");
      // Written while the first sync runs: they share the next one.
      for (let i = 0; i < 10; i++) batch(`client${i}`);
      // A batch without writes still waits for the syncs before it, keeping reply order.
      aof.flush(() => sent.push("read-only"));
      await waitFor(() => sent.length === 12, 2000, "all replies");
      assert.deepEqual(sent, [
        "first",
        ...Array.from({ length: 10 }, (_, i) => `client${i}`),
        "read-only",
      ]);
      assert.equal(disk.syncs, 2);
      aof.close();
    });
  },
});

Deno.test({
  name: "a write error under always is fatal and the batch is never acknowledged",
  ...SERVER_TEST,
  async fn() {
    const disk = new SimulatedDisk();
    await withDisk(disk, async () => {
      const aof = AppendOnlyFile.open("/sim/a.aof", "always", new Logger("nothing"));
      aof.append(0, ["SET", "a", "1"]);
      aof.flush(() => {});
      await waitFor(() => !aof.syncInFlight, 1000, "first sync");
      const good = disk.content("/sim/a.aof");
      let fatal = "";
      aof.onFatal = (message) => fatal = message;
      disk.capacity = disk.used() + 5;
      aof.append(0, ["SET", "b", "2"]);
      let replied = false;
      aof.flush(() => replied = true);
      assert.equal(
        fatal,
        "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...",
      );
      assert.equal(replied, false);
      // The partial write was cut back: the file still ends after a whole command.
      assert.deepEqual(disk.content("/sim/a.aof"), good);
      aof.close();
    });
  },
});

Deno.test({
  name: "a full disk: writes refused with MISCONF, reads served, nothing half-written, recovery",
  ...SERVER_TEST,
  async fn() {
    const disk = new SimulatedDisk();
    const dir = await tempDir();
    await withDisk(disk, async () => {
      const server = await startInProcess(["--dir", dir, "--appendonly", "yes"]);
      const client = await RawClient.connect(server.port);
      const path = join(dir, "database.aof");
      try {
        assert.equal(await send(client, "SET", "a", "1"), "OK");
        const good = disk.content(path);
        disk.capacity = disk.used() + 20;
        // Under everysec the command already ran when the write fails: it is acknowledged
        // (as in Redis), and writes are refused from then on.
        assert.equal(await send(client, "SET", "big", "x".repeat(100)), "OK");
        assert.deepEqual(disk.content(path), good, "the partial write must be cut back");
        const misconf = {
          error: "MISCONF Errors writing to the AOF file: No space left on device",
        };
        assert.deepEqual(await send(client, "SET", "b", "2"), misconf);
        assert.deepEqual(await send(client, "INCR", "a"), misconf);
        assert.equal(await send(client, "GET", "a"), "1");
        assert.equal(await send(client, "GET", "big"), "x".repeat(100));
        assert.equal(await infoField(client, "aof_last_write_status"), "err");
        assert.match(server.logText(), /Short write while writing to the AOF file/);

        disk.capacity = Infinity;
        await waitFor(
          async () => (await infoField(client, "aof_last_write_status")) === "ok",
          2000,
          "the retry to succeed",
        );
        assert.equal(await send(client, "SET", "c", "3"), "OK");
        assert.match(server.logText(), /AOF write error looks solved, Redis can write again\./);
        const reloaded = await loadBytes(disk.content(path));
        assert.deepEqual(
          Object.keys(keyspaceSnapshot(reloaded)["0"]!),
          ["a", "big", "c"],
        );
      } finally {
        await client.close();
        await server.stop("test over");
        await Deno.remove(dir, { recursive: true });
      }
    });
  },
});

Deno.test({
  name: "a failing fsync under everysec refuses writes until an fsync succeeds",
  ...SERVER_TEST,
  async fn() {
    const disk = new SimulatedDisk();
    const dir = await tempDir();
    await withDisk(disk, async () => {
      const server = await startInProcess(["--dir", dir, "--appendonly", "yes"]);
      const client = await RawClient.connect(server.port);
      try {
        disk.failSync = true;
        assert.equal(await send(client, "SET", "a", "1"), "OK");
        await waitFor(
          async () => (await infoField(client, "aof_last_write_status")) === "err",
          3000,
          "the background fsync to fail",
        );
        assert.deepEqual(await send(client, "SET", "b", "2"), {
          error: "MISCONF Errors writing to the AOF file: Input/output error",
        });
        assert.equal(await send(client, "GET", "a"), "1");
        disk.failSync = false;
        await waitFor(
          async () => (await infoField(client, "aof_last_write_status")) === "ok",
          3000,
          "a later fsync to succeed",
        );
        assert.equal(await send(client, "SET", "b", "2"), "OK");
      } finally {
        await client.close();
        await server.stop("test over");
        await Deno.remove(dir, { recursive: true });
      }
    });
  },
});

/**
 * 20 clients INCR their own counters; the power is cut; the surviving file
 * must hold every counter at least at the value acknowledged `graceMs`
 * before the cut.
 */
async function powerCutTest(policy: string, graceMs: number): Promise<void> {
  const disk = new SimulatedDisk();
  disk.syncDelayMs = 2;
  const dir = await tempDir();
  await withDisk(disk, async () => {
    const server = await startInProcess([
      "--dir",
      dir,
      "--appendonly",
      "yes",
      "--appendfsync",
      policy,
    ]);
    const path = join(dir, "database.aof");
    const acknowledged: [time: number, value: number][][] = Array.from({ length: 20 }, () => []);
    let running = true;
    const clients = await Promise.all(acknowledged.map(() => RawClient.connect(server.port)));
    const work = clients.map(async (client, i) => {
      while (running) {
        const reply = decoder.decode(await client.command("INCR", `counter:${i}`));
        acknowledged[i]!.push([performance.now(), Number(reply.slice(1))]);
      }
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const cutAt = performance.now();
      const survived = disk.powerCut(path);
      running = false;
      await Promise.all(work);
      const state = keyspaceSnapshot(await loadBytes(survived))["0"] ?? {};
      for (let i = 0; i < 20; i++) {
        const history = acknowledged[i]!;
        const mustHave = history.filter(([time]) => time <= cutAt - graceMs).at(-1)?.[1] ?? 0;
        const got = Number(state[`counter:${i}`]?.value ?? 0);
        assert.ok(
          got >= mustHave,
          `counter ${i}: ${got} survived, ${mustHave} was acknowledged ${graceMs} ms before the cut`,
        );
      }
      assert.ok(acknowledged.every((history) => history.length > 10), "clients made progress");
    } finally {
      running = false;
      await Promise.all(work);
      await Promise.all(clients.map((client) => client.close()));
      await server.stop("test over");
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test({
  name: "power cut under always: every acknowledged write survives",
  ...SERVER_TEST,
  fn: () => powerCutTest("always", 0),
});

Deno.test({
  name: "power cut under everysec: at most about one second of acknowledged writes is lost",
  ...SERVER_TEST,
  // One second between syncs, plus the tick (100 ms) and slack for a busy machine.
  fn: () => powerCutTest("everysec", 1500),
});

Deno.test("SELECT is written whenever the database changes", async () => {
  const disk = new SimulatedDisk();
  await withDisk(disk, () => {
    const aof = AppendOnlyFile.open("/sim/a.aof", "no", new Logger("nothing"));
    aof.append(0, ["SET", "a", "1"]);
    aof.append(0, ["SET", "b", "1"]);
    aof.append(3, ["SET", "c", "1"]);
    aof.flush(() => {});
    aof.close();
    const expected = [
      ["SELECT", "0"],
      ["SET", "a", "1"],
      ["SET", "b", "1"],
      ["SELECT", "3"],
      ["SET", "c", "1"],
    ].map((args) => decoder.decode(encodeCommand(args))).join("");
    assert.equal(decoder.decode(disk.content("/sim/a.aof")), expected);
    return Promise.resolve();
  });
});
