/**
 * Tools for the tests that move data between this server and redis-server
 * (DUMP/RESTORE, MIGRATE, dump.rdb, AOF preambles): a redis-server per
 * role, our server in-process, and a way to read our keyspace as
 * redis-server would show it.
 *
 * Our server is read through redis-server on purpose: every key is DUMPed
 * here and RESTOREd into a scratch redis-server, which then describes it
 * with its own commands (XINFO STREAM FULL for streams, and so on), so the
 * comparison needs nothing of ours but DUMP, and a value that did not
 * survive the trip byte for byte cannot pass for the right one.
 *
 * @module
 */

import { call, type Canonical, type Keyspace, must, sorted, valueOfRedis } from "../rdb/helpers.ts";
import { RawClient, type RunningServer, startRedisServer } from "../helpers/servers.ts";

export { call, must } from "../rdb/helpers.ts";

/** A redis-server and one connection to it. */
export interface Redis {
  server: RunningServer;
  client: RawClient;
  close(): Promise<void>;
}

/** Starts a redis-server with `args`; undefined (after a loud warning) when it is not installed. */
export async function startRedis(args: string[] = []): Promise<Redis | undefined> {
  const server = await startRedisServer(args);
  if (server === undefined) {
    console.warn("redis-server not installed: SKIPPING the comparison with Redis");
    return undefined;
  }
  const client = await RawClient.connect(server.port);
  return {
    server,
    client,
    async close() {
      await client.close();
      await server.stop();
    },
  };
}

/**
 * The keyspace of any server (ours included) as `scratch` (a redis-server)
 * describes it: each key DUMPed from `source`, RESTOREd into `scratch` and
 * read back there. Expiry times come from `source` itself.
 */
export async function keyspaceThroughRedis(
  source: RawClient,
  scratch: RawClient,
  databases = 16,
): Promise<Keyspace> {
  const keyspace: Keyspace = new Map();
  for (let database = 0; database < databases; database++) {
    await must(source, "SELECT", String(database));
    const keys = (await must(source, "KEYS", "*")) as string[];
    for (const key of keys) {
      keyspace.set(`${database}/${key}`, {
        value: await valueThroughRedis(source, scratch, key),
        expireAt: (await must(source, "PEXPIRETIME", key)) as number,
      });
    }
  }
  await must(source, "SELECT", "0");
  return sorted(keyspace);
}

/** One key of `source`'s current database, as `scratch` describes it after a RESTORE. */
export async function valueThroughRedis(
  source: RawClient,
  scratch: RawClient,
  key: string,
): Promise<Canonical> {
  const payload = await must(source, "DUMP", key);
  if (typeof payload !== "string") throw new Error(`DUMP of ${key} gave ${String(payload)}`);
  const reply = await call(scratch, "RESTORE", "scratch-key", "0", payload, "REPLACE");
  if (reply !== "OK") {
    throw new Error(`redis-server refused our DUMP of ${key}: ${JSON.stringify(reply)}`);
  }
  const value = await valueOfRedis(scratch, "scratch-key");
  await must(scratch, "DEL", "scratch-key");
  return value;
}

/** Differences between two keyspaces, as lines naming the keys (empty when equal). */
export function keyspaceDifferences(actual: Keyspace, expected: Keyspace): string[] {
  const lines: string[] = [];
  const names = new Set([...actual.keys(), ...expected.keys()]);
  for (const name of names) {
    const got = JSON.stringify(actual.get(name));
    const want = JSON.stringify(expected.get(name));
    if (got !== want) {
      lines.push(`${printable(name)}: got ${shorten(got)}, expected ${shorten(want)}`);
    }
  }
  return lines;
}

/** Throws naming the first keys that differ. */
export function assertSameKeyspace(actual: Keyspace, expected: Keyspace, what: string): void {
  const lines = keyspaceDifferences(actual, expected);
  if (lines.length > 0) {
    throw new Error(`${what}: ${lines.length} keys differ:\n${lines.slice(0, 8).join("\n")}`);
  }
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 80);
}

function shorten(text: string | undefined): string {
  return text === undefined || text.length <= 300 ? String(text) : `${text.slice(0, 300)}...`;
}
