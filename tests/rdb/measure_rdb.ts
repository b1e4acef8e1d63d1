/**
 * Measures the RDB codec against redis-server on the same file: how long
 * redis-server takes to load it (its log's "DB loaded from disk") and to
 * SAVE it, and how long our codec takes to read it into the logical model
 * (records handed over one by one and dropped) and to write that model
 * back out to a file. A script, not a test: timings are reported, never
 * asserted.
 *
 * ```sh
 * # a file to measure, e.g. from redis-server: DEBUG POPULATE 1000000, SAVE
 * deno run --allow-all tests/rdb/measure_rdb.ts /path/to/dump.rdb [rounds]
 * ```
 *
 * @module
 */

import { dirname, join } from "node:path";
import {
  RdbFileReader,
  RdbFileWriter,
  type RdbKeyRecord,
  type RdbRecord,
} from "../../src/rdb/mod.ts";
import { freePort, RawClient, redisServerPath } from "../helpers/servers.ts";

const CHUNK = 1 << 20;

function ourRead(path: string, keep?: RdbKeyRecord[]): number {
  const file = Deno.openSync(path);
  const started = performance.now();
  const reader = new RdbFileReader();
  const chunk = new Uint8Array(CHUNK);
  const visit = (record: RdbRecord) => {
    if (record.kind === "key" && keep !== undefined) keep.push(record);
  };
  for (;;) {
    const count = file.readSync(chunk);
    if (count === null) break;
    reader.push(chunk.subarray(0, count), visit);
  }
  reader.end(visit);
  file.close();
  return performance.now() - started;
}

function ourWrite(keys: readonly RdbKeyRecord[], path: string): number {
  const file = Deno.openSync(path, { write: true, create: true, truncate: true });
  const write = (bytes: Uint8Array) => {
    for (let offset = 0; offset < bytes.length;) offset += file.writeSync(bytes.subarray(offset));
  };
  const started = performance.now();
  const writer = new RdbFileWriter();
  let database = -1;
  for (const key of keys) {
    if (key.database !== database) {
      database = key.database;
      const inDatabase = keys.filter((other) => other.database === database);
      writer.selectDatabase(
        database,
        inDatabase.length,
        inDatabase.filter((other) => other.expireAt !== undefined).length,
      );
    }
    writer.writeKey(key.key, key.value, key.expireAt === undefined ? undefined : key);
    if (writer.pendingBytes >= CHUNK) write(writer.take());
  }
  write(writer.finish());
  file.close();
  return performance.now() - started;
}

/** redis-server's load time (from its log) and SAVE time for `path`, in ms. */
async function redisTimes(path: string): Promise<[number, number] | undefined> {
  const program = redisServerPath();
  if (program === undefined) return undefined;
  const port = await freePort();
  const log = join(dirname(path), "measure-redis.log");
  const child = new Deno.Command(program, {
    args: [
      ...["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      ...["--dir", dirname(path), "--dbfilename", path.split("/").pop()!, "--logfile", log],
    ],
  }).spawn();
  try {
    let client: RawClient | undefined;
    for (let attempt = 0; attempt < 600 && client === undefined; attempt++) {
      try {
        client = await RawClient.connect(port);
        const reply = new TextDecoder().decode(await client.command("PING"));
        if (!reply.startsWith("+PONG")) {
          await client.close();
          client = undefined;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } catch {
        client = undefined;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    if (client === undefined) throw new Error("redis-server did not start");
    const loaded = /DB loaded from disk: ([\d.]+) seconds/.exec(await Deno.readTextFile(log));
    await client.command("CONFIG", "SET", "dbfilename", "measure-redis-save.rdb");
    const started = performance.now();
    await client.command("SAVE");
    const saved = performance.now() - started;
    await client.close();
    return [Number(loaded?.[1] ?? NaN) * 1000, saved];
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await Deno.remove(log).catch(() => {});
    await Deno.remove(join(dirname(path), "measure-redis-save.rdb")).catch(() => {});
  }
}

if (import.meta.main) {
  const [path, roundsText = "3"] = Deno.args;
  if (path === undefined) throw new Error("usage: measure_rdb.ts <file.rdb> [rounds]");
  const rounds = Number(roundsText);
  const keys: RdbKeyRecord[] = [];
  ourRead(path, keys);
  const output = join(dirname(path), "measure-ours.rdb");
  const results = {
    redisLoad: Infinity,
    redisSave: Infinity,
    ourRead: Infinity,
    ourWrite: Infinity,
  };
  for (let round = 0; round < rounds; round++) {
    const redis = await redisTimes(path);
    if (redis !== undefined) {
      results.redisLoad = Math.min(results.redisLoad, redis[0]);
      results.redisSave = Math.min(results.redisSave, redis[1]);
    }
    results.ourRead = Math.min(results.ourRead, ourRead(path));
    results.ourWrite = Math.min(results.ourWrite, ourWrite(keys, output));
  }
  await Deno.remove(output);
  console.log(`${keys.length} keys, best of ${rounds} rounds (ms):`);
  console.log(
    `  redis-server load ${results.redisLoad.toFixed(0)}, our read ${results.ourRead.toFixed(0)}`,
  );
  console.log(
    `  redis-server SAVE ${results.redisSave.toFixed(0)}, our write ${results.ourWrite.toFixed(0)}`,
  );
}
