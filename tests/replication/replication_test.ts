/**
 * Replication between servers of ours, over loopback: full sync (diskless
 * and from disk), the stream (transactions, scripts, expiry, blocking
 * pops), READONLY, WAIT and NOREPLICAS, partial resync after a cut link,
 * a backlog overrun, a promoted replica continuing its sibling, chains,
 * authentication, expiry on replicas, MASTERDOWN, FAILOVER, and a master
 * lost in the middle of a full sync.
 *
 * The servers run in this process (startOurs), so a scenario costs
 * milliseconds to set up; the data sets are compared with DEBUG DIGEST.
 */

import assert from "node:assert/strict";
import {
  call,
  connect,
  digest,
  info,
  must,
  type OurServer,
  type RawClient,
  runWorkload,
  sleep,
  startOurs,
  waitFor,
  waitForLink,
  waitForOffset,
} from "./helpers.ts";

/** Runs `body` with servers started by `start`, closing clients and servers afterwards. */
async function withServers(
  start: () => Promise<OurServer[]>,
  body: (servers: OurServer[], clients: RawClient[]) => Promise<void>,
): Promise<void> {
  const servers = await start();
  const clients: RawClient[] = [];
  try {
    for (const server of servers) clients.push(await connect(server.port));
    await body(servers, clients);
  } finally {
    for (const client of clients) await client.close();
    for (const server of servers.reverse()) await server.stop();
  }
}

function startMany(...args: string[][]): () => Promise<OurServer[]> {
  return async () => {
    const servers: OurServer[] = [];
    for (const list of args) servers.push(await startOurs(list));
    return servers;
  };
}

async function replicate(replica: RawClient, master: OurServer): Promise<void> {
  await must(replica, "REPLICAOF", "127.0.0.1", String(master.port));
  await waitForLink(replica);
}

for (const diskless of ["yes", "no"]) {
  Deno.test(`a replica gets the data set (repl-diskless-sync ${diskless}), then the stream, and refuses writes`, async () => {
    await withServers(
      startMany(["--repl-diskless-sync", diskless], []),
      async ([master, replica], [m, r]) => {
        await runWorkload(m!, 3000, 1);
        await runWorkload(m!, 500, 2, 3);
        await must(
          m!,
          "FUNCTION",
          "LOAD",
          "#!lua name=lib\nredis.register_function('f', function() return 1 end)",
        );
        await replicate(r!, master!);
        assert.equal(await digest(r!), await digest(m!));
        assert.deepEqual(
          await call(r!, "FUNCTION", "LIST", "LIBRARYNAME", "lib"),
          await call(m!, "FUNCTION", "LIST", "LIBRARYNAME", "lib"),
        );

        // The stream: plain writes, a transaction, a script, a blocking pop served later.
        await runWorkload(m!, 2000, 3);
        await must(m!, "MULTI");
        await must(m!, "INCR", "tx");
        await must(m!, "SET", "tx2", "v", "EX", "100");
        await must(m!, "EXEC");
        await must(
          m!,
          "EVAL",
          "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])",
          "2",
          "e1",
          "e2",
          "x",
        );
        const blocked = await connect(master!.port);
        await blocked.send("*3\r\n$5\r\nBLPOP\r\n$2\r\nbq\r\n$1\r\n0\r\n");
        await waitFor(
          "BLPOP to block",
          async () => Number(await info(m!, "blocked_clients", "clients")) === 1,
        );
        await must(m!, "RPUSH", "bq", "a", "b");
        assert.deepEqual(decodeArray(await blocked.readReply()), ["bq", "a"]);
        await blocked.close();
        await waitForOffset(m!, r!);
        assert.equal(await digest(r!), await digest(m!));
        assert.deepEqual(await call(r!, "LRANGE", "bq", "0", "-1"), ["b"]);

        const refused = await call(r!, "SET", "x", "1");
        assert.deepEqual(refused, {
          error: "READONLY You can't write against a read only replica.",
        });
        assert.deepEqual(await call(r!, "GET", "e1"), "x");
        const role = await call(m!, "ROLE") as unknown[];
        assert.equal(role[0], "master");
        assert.deepEqual((role[2] as unknown[][])[0]!.slice(0, 2), [
          "127.0.0.1",
          String(replica!.port),
        ]);
        const replicaRole = await call(r!, "ROLE") as unknown[];
        assert.deepEqual(replicaRole.slice(0, 4), [
          "slave",
          "127.0.0.1",
          master!.port,
          "connected",
        ]);
        assert.equal(await info(m!, "connected_slaves"), "1");
        assert.match(
          await info(m!, "slave0") ?? "",
          /^ip=127\.0\.0\.1,port=\d+,state=online,offset=\d+,lag=\d+$/,
        );
        assert.equal(await info(r!, "master_replid"), await info(m!, "master_replid"));
      },
    );
  });
}

function decodeArray(bytes: Uint8Array): string[] {
  return new TextDecoder().decode(bytes).split("\r\n").filter((line) =>
    line !== "" && !/^[*$]/.test(line)
  );
}

Deno.test("WAIT counts acknowledging replicas; min-replicas-to-write refuses writes with NOREPLICAS", async () => {
  await withServers(startMany([], []), async ([master], [m, r]) => {
    assert.equal(await call(m!, "WAIT", "1", "100"), 0);
    await must(m!, "CONFIG", "SET", "min-replicas-to-write", "1");
    assert.deepEqual(await call(m!, "SET", "k", "v"), {
      error: "NOREPLICAS Not enough good replicas to write.",
    });
    await replicate(r!, master!);
    await waitFor("a good replica", async () => (await call(m!, "SET", "k", "v")) === "OK");
    await must(m!, "SET", "k2", "v2");
    assert.equal(await call(m!, "WAIT", "1", "5000"), 1);
    assert.equal(await call(r!, "GET", "k2"), "v2");
    // Two replicas are never there: WAIT answers 1 when its timeout passes.
    assert.equal(await call(m!, "WAIT", "2", "200"), 1);
    assert.deepEqual(await call(r!, "WAIT", "1", "0"), {
      error:
        "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.",
    });
  });
});

Deno.test("a replica whose link was cut continues with +CONTINUE, and a backlog overrun forces a full sync", async () => {
  await withServers(startMany(["--repl-backlog-size", "16kb"], []), async ([master], [m, r]) => {
    await replicate(r!, master!);
    await runWorkload(m!, 1000, 4);
    await waitForOffset(m!, r!);
    await must(r!, "CLIENT", "KILL", "TYPE", "master");
    await runWorkload(m!, 50, 5);
    await waitForOffset(m!, r!);
    assert.equal(await info(m!, "sync_partial_ok", "stats"), "1");
    assert.equal(await info(m!, "sync_full", "stats"), "1");
    assert.equal(await digest(r!), await digest(m!));

    await must(r!, "CLIENT", "KILL", "TYPE", "master");
    // More than the 16 kB backlog goes by before the replica is back.
    await must(m!, "SET", "big", "x".repeat(40_000));
    await waitForOffset(m!, r!);
    assert.equal(await info(m!, "sync_full", "stats"), "2");
    assert.equal(await digest(r!), await digest(m!));
  });
});

Deno.test("a promoted replica lets its sibling continue through replid2; chained replicas share one offset", async () => {
  await withServers(startMany([], [], []), async ([master, a, b], [m, ra, rb]) => {
    await replicate(ra!, master!);
    await replicate(rb!, master!);
    await runWorkload(m!, 500, 6);
    await waitForOffset(m!, ra!);
    await waitForOffset(m!, rb!);
    const oldId = await info(m!, "master_replid");
    await must(ra!, "REPLICAOF", "NO", "ONE");
    assert.equal(await info(ra!, "master_replid2"), oldId);
    await must(rb!, "REPLICAOF", "127.0.0.1", String(a!.port));
    await waitForLink(rb!);
    assert.equal(await info(ra!, "sync_partial_ok", "stats"), "1");
    assert.equal(await info(ra!, "sync_full", "stats"), "0");
    await must(ra!, "SET", "after-promotion", "1");
    await waitForOffset(ra!, rb!);
    assert.equal(await call(rb!, "GET", "after-promotion"), "1");
    // And the old master follows b, a replica of a: a chain of three.
    await must(m!, "REPLICAOF", "127.0.0.1", String(b!.port));
    await waitForLink(m!);
    await runWorkload(ra!, 300, 7);
    await waitForOffset(ra!, m!);
    assert.equal(await digest(m!), await digest(ra!));
    assert.equal(await info(m!, "master_repl_offset"), await info(ra!, "master_repl_offset"));
  });
});

Deno.test("a wrong masterauth keeps the link down until it is fixed", async () => {
  await withServers(
    startMany(["--requirepass", "secret"], ["--masterauth", "wrong"]),
    async ([master], [m, r]) => {
      await must(m!, "AUTH", "secret");
      await must(r!, "REPLICAOF", "127.0.0.1", String(master!.port));
      await sleep(1500);
      assert.equal(await info(r!, "master_link_status"), "down");
      assert.match(master!.log() + "", /./);
      await must(r!, "CONFIG", "SET", "masterauth", "secret");
      await waitForLink(r!);
      await must(m!, "SET", "k", "v");
      await waitForOffset(m!, r!);
      assert.equal(await call(r!, "GET", "k"), "v");
    },
  );
});

Deno.test("keys expire on a replica only by the master's DEL; reads of expired keys answer nil", async () => {
  await withServers(startMany([], []), async ([master], [m, r]) => {
    await replicate(r!, master!);
    await must(m!, "DEBUG", "SET-ACTIVE-EXPIRE", "0");
    await must(m!, "SET", "short", "v", "PX", "200");
    await waitForOffset(m!, r!);
    await sleep(300);
    assert.equal(await call(r!, "GET", "short"), null);
    assert.equal(await call(r!, "DBSIZE"), 1);
    assert.equal(await call(m!, "GET", "short"), null);
    await waitForOffset(m!, r!);
    assert.equal(await call(r!, "DBSIZE"), 0);
  });
});

Deno.test("a replica with replica-serve-stale-data no answers MASTERDOWN while its link is down", async () => {
  await withServers(startMany(["--replica-serve-stale-data", "no"]), async (_servers, [r]) => {
    await must(r!, "REPLICAOF", "127.0.0.1", "1");
    assert.deepEqual(await call(r!, "GET", "k"), {
      error: "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
    });
    assert.equal(await call(r!, "ECHO", "still"), "still");
    const role = await call(r!, "ROLE") as unknown[];
    assert.deepEqual([role[0], role[2]], ["slave", 1]);
    await must(r!, "REPLICAOF", "NO", "ONE");
    assert.equal(await call(r!, "GET", "k"), null);
  });
});

Deno.test("FAILOVER hands the master role to a synced replica, which the old master then follows", async () => {
  await withServers(startMany([], []), async ([_master, replica], [m, r]) => {
    await replicate(r!, _master!);
    await must(m!, "SET", "before", "1");
    await waitForOffset(m!, r!);
    assert.deepEqual(await call(m!, "FAILOVER", "TO", "127.0.0.1", "1"), {
      error: "ERR FAILOVER target HOST and PORT is not a replica.",
    });
    await must(m!, "FAILOVER", "TIMEOUT", "5000");
    await waitFor(
      "the failover to complete",
      async () =>
        (await info(r!, "role")) === "master" && (await info(m!, "master_link_status")) === "up",
    );
    assert.equal(await info(m!, "master_port"), String(replica!.port));
    assert.equal(await info(m!, "master_failover_state"), "no-failover");
    await must(r!, "SET", "after", "2");
    await waitForOffset(r!, m!);
    assert.equal(await call(m!, "GET", "after"), "2");
    assert.equal(await info(r!, "sync_partial_ok", "stats"), "1");
  });
});

Deno.test("a script's write on a read-only replica fails with READONLY; a restarted replica syncs again", async () => {
  const master = await startOurs();
  const m = await connect(master.port);
  let replica = await startOurs(["--replicaof", "127.0.0.1", String(master.port)]);
  let r = await connect(replica.port);
  try {
    await waitForLink(r);
    const refused = await call(r, "EVAL", "return redis.call('SET', 'k', 'v')", "0") as {
      error: string;
    };
    assert.match(refused.error, /^READONLY You can't write against a read only replica\. script: /);
    assert.equal(await call(r, "EVAL", "return redis.call('GET', 'k')", "0"), null);
    await runWorkload(m, 1000, 8);
    await waitForOffset(m, r);
    await r.close();
    await replica.stop();
    await runWorkload(m, 500, 9);
    replica = await startOurs(["--replicaof", "127.0.0.1", String(master.port)]);
    r = await connect(replica.port);
    await waitForOffset(m, r);
    assert.equal(await digest(r), await digest(m));
    assert.equal(await info(m, "sync_full", "stats"), "2");
  } finally {
    await r.close();
    await m.close();
    await replica.stop();
    await master.stop();
  }
});

/**
 * A master that dies halfway through sending its RDB: it answers the
 * handshake, announces the whole file's length, sends the first half and
 * closes the connection. Resolves once it has.
 */
async function halfMaster(listener: Deno.Listener, rdb: Uint8Array): Promise<void> {
  const conn = await listener.accept();
  const encoder = new TextEncoder();
  const buffer = new Uint8Array(4096);
  let received = "";
  try {
    while (!received.includes("PSYNC")) {
      const count = await conn.read(buffer);
      if (count === null) return;
      const text = new TextDecoder().decode(buffer.subarray(0, count));
      received += text;
      for (const _ of text.matchAll(/\*\d/g)) {
        if (!received.includes("PSYNC")) await conn.write(encoder.encode("+OK\r\n"));
      }
    }
    await conn.write(encoder.encode(`+FULLRESYNC ${"a".repeat(40)} 0\r\n$${rdb.byteLength}\r\n`));
    await conn.write(rdb.subarray(0, rdb.byteLength >> 1));
    await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    conn.close();
  }
}

Deno.test("a master lost during a full sync leaves the replica empty, not half loaded; it syncs when the master is back", async () => {
  // A real RDB of 100,000 keys, from a server of ours.
  const source = await startOurs();
  const s = await connect(source.port);
  await must(s, "DEBUG", "POPULATE", "100000", "key", "100");
  await must(s, "SAVE");
  const rdb = await Deno.readFile(`${source.dir}/dump.rdb`);
  await s.close();
  await source.stop();

  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const replica = await startOurs();
  const r = await connect(replica.port);
  try {
    await must(r, "SET", "old", "data");
    const dying = halfMaster(listener, rdb);
    await must(r, "REPLICAOF", "127.0.0.1", String(port));
    await dying;
    listener.close();
    await waitFor(
      "the load to be abandoned",
      async () => !replica.server.loading && (await info(r, "master_link_status")) === "down",
    );
    assert.equal(await call(r, "DBSIZE"), 0);
    assert.match(replica.log(), /Failed trying to load the MASTER synchronization DB/);
    const master = await startOurs([], port);
    try {
      const m = await connect(port);
      await must(m, "SET", "back", "1");
      await waitForOffset(m, r);
      assert.equal(await call(r, "DBSIZE"), 1);
      assert.equal(await call(r, "GET", "back"), "1");
      await m.close();
    } finally {
      await master.stop();
    }
  } finally {
    await r.close();
    await replica.stop();
  }
});

Deno.test("clients of a replica loading its data set get -LOADING", async () => {
  const master = await startOurs();
  const m = await connect(master.port);
  await must(m, "DEBUG", "POPULATE", "300000", "key", "100");
  const replica = await startOurs();
  const r = await connect(replica.port);
  try {
    await must(r, "REPLICAOF", "127.0.0.1", String(master.port));
    await waitFor("the load to start", () => replica.server.loading, 20_000);
    assert.deepEqual(await call(r, "GET", "key:1"), {
      error: "LOADING Redis is loading the dataset in memory",
    });
    assert.equal(await info(r, "master_sync_in_progress"), "1");
    await waitForOffset(m, r, 30_000);
    assert.equal(await call(r, "DBSIZE"), 300000);
  } finally {
    await r.close();
    await m.close();
    await replica.stop();
    await master.stop();
  }
});
