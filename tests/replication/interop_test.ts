/**
 * Replication with the real thing, both ways: our server as a replica of
 * redis-server 7.0 and redis-server as a replica of ours. Each direction
 * makes a full sync, then 100,000 mixed writes of every type, compares the
 * two data sets key by key (helpers.ts `digest`) and the key counts of
 * every database, cuts the link with CLIENT KILL TYPE
 * master and checks that the replica came back with a partial resync
 * (`sync_partial_ok` on the master) and the same data.
 */

import assert from "node:assert/strict";
import {
  call,
  connect,
  digest,
  info,
  must,
  type RawClient,
  runWorkload,
  startOurs,
  startRedis,
  waitForLink,
  waitForOffset,
} from "./helpers.ts";

const WRITES = 100_000;

async function keyCounts(client: RawClient): Promise<string> {
  return String(await call(client, "INFO", "keyspace")).replace(/avg_ttl=\d+/g, "");
}

async function compare(master: RawClient, replica: RawClient, what: string): Promise<void> {
  await waitForOffset(master, replica, 60_000);
  assert.equal(await keyCounts(replica), await keyCounts(master), `${what}: key counts`);
  const expected = await digest(master);
  const actual = await digest(replica);
  if (actual !== expected) {
    const ours = new Set(actual.split("\n"));
    const missing = expected.split("\n").filter((line) => !ours.has(line));
    assert.fail(`${what}: ${missing.length} keys differ, e.g. ${missing.slice(0, 3).join(" | ")}`);
  }
}

/** INFO replication's field names, in order, with slaveN numbered alike. */
async function replicationFieldNames(client: RawClient): Promise<string[]> {
  const text = String(await call(client, "INFO", "replication"));
  return text.split("\r\n").filter((line) => line.includes(":")).map((line) => line.split(":")[0]!);
}

/** Cuts the replica's link and checks it comes back with +CONTINUE. */
async function cutAndContinue(master: RawClient, replica: RawClient): Promise<void> {
  const before = Number(await info(master, "sync_partial_ok", "stats"));
  const fullBefore = Number(await info(master, "sync_full", "stats"));
  assert.equal(await call(replica, "CLIENT", "KILL", "TYPE", "master"), 1);
  await runWorkload(master, 2000, 99);
  await waitForLink(replica);
  await compare(master, replica, "after the cut link");
  assert.equal(Number(await info(master, "sync_partial_ok", "stats")), before + 1);
  assert.equal(Number(await info(master, "sync_full", "stats")), fullBefore);
}

Deno.test("our server as a replica of redis-server: full sync, 100,000 writes, a cut link continues", async () => {
  const redis = await startRedis();
  if (redis === undefined) return;
  const ours = await startOurs();
  const m = await connect(redis.port);
  const r = await connect(ours.port);
  try {
    await runWorkload(m, 5000, 10);
    await runWorkload(m, 2000, 11, 7);
    await must(r, "REPLICAOF", "127.0.0.1", String(redis.port));
    await waitForLink(r);
    await compare(m, r, "after the full sync");
    await runWorkload(m, WRITES, 12);
    await runWorkload(m, 5000, 13, 2);
    await compare(m, r, "after the writes");
    await cutAndContinue(m, r);
    // Our replica's INFO has the fields a Redis replica has, in its order.
    const twin = await startRedis(["--replicaof", "127.0.0.1", String(redis.port)]);
    const t = await connect(twin!.port);
    try {
      await waitForLink(t);
      assert.deepEqual(await replicationFieldNames(r), await replicationFieldNames(t));
      const role = await call(r, "ROLE") as unknown[];
      const twinRole = await call(t, "ROLE") as unknown[];
      assert.deepEqual(role.slice(0, 4), twinRole.slice(0, 4));
    } finally {
      await t.close();
      await twin!.stop();
    }
  } finally {
    await r.close();
    await m.close();
    await ours.stop();
    await redis.stop();
  }
});

Deno.test("redis-server as a replica of ours: full sync, 100,000 writes, a cut link continues", async () => {
  const redis = await startRedis();
  if (redis === undefined) return;
  const ours = await startOurs();
  const m = await connect(ours.port);
  const r = await connect(redis.port);
  try {
    await runWorkload(m, 5000, 20);
    await runWorkload(m, 2000, 21, 7);
    await must(r, "REPLICAOF", "127.0.0.1", String(ours.port));
    await waitForLink(r);
    await compare(m, r, "after the full sync");
    await runWorkload(m, WRITES, 22);
    await runWorkload(m, 5000, 23, 2);
    await compare(m, r, "after the writes");
    await cutAndContinue(m, r);
    // Our master's INFO has the fields Redis's has, in its order, once both have one replica.
    const other = await startRedis();
    const o = await connect(other!.port);
    const otherReplica = await startRedis(["--replicaof", "127.0.0.1", String(other!.port)]);
    const or = await connect(otherReplica!.port);
    try {
      await waitForLink(or);
      assert.deepEqual(await replicationFieldNames(m), await replicationFieldNames(o));
      const role = await call(m, "ROLE") as unknown[];
      assert.equal(role[0], "master");
      assert.deepEqual(((role[2] as unknown[][])[0]!).slice(0, 2), [
        "127.0.0.1",
        String(redis.port),
      ]);
    } finally {
      await or.close();
      await o.close();
      await otherReplica!.stop();
      await other!.stop();
    }
    // And a sync from disk, as a replica that asks again gets it.
    await must(m, "CONFIG", "SET", "repl-diskless-sync", "no");
    await must(r, "REPLICAOF", "NO", "ONE");
    await must(r, "FLUSHALL");
    await must(r, "REPLICAOF", "127.0.0.1", String(ours.port));
    await waitForLink(r);
    await compare(m, r, "after a full sync from disk");
  } finally {
    await r.close();
    await m.close();
    await ours.stop();
    await redis.stop();
  }
});
