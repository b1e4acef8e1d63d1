/**
 * EVAL scripts over real sockets, for what the differential corpus (one
 * connection, no clock, no files) cannot show: how a script's writes reach
 * the AOF and replay, WATCH and blocked clients seeing a script's writes
 * from other connections, and long scripts — BUSY for everyone else after
 * busy-reply-threshold, SCRIPT KILL of `while true do end`, of a loop
 * inside pcall and of an endless table.sort comparator, UNKILLABLE once a
 * script wrote, SHUTDOWN NOSAVE, and a slow script that ends by itself
 * with its effects logged whole.
 *
 * @module
 */

import assert from "node:assert/strict";
import { raw, readAof } from "../helpers/test_support.ts";
import {
  bytesToLatin1,
  encodeCommand,
  RawClient,
  type RunningServer,
  sleep,
  startOurServer,
} from "../helpers/servers.ts";

/** Runs `test` with `count` connections to a fresh server of ours. */
async function withClients(
  count: number,
  test: (clients: RawClient[], server: RunningServer) => Promise<void>,
  options: { args?: string[]; dir?: string } = {},
): Promise<void> {
  const server = await startOurServer(options);
  const clients: RawClient[] = [];
  try {
    for (let i = 0; i < count; i++) clients.push(await RawClient.connect(server.port));
    await test(clients, server);
  } finally {
    for (const client of clients) await client.close();
    await server.stop();
  }
}

const BUSY_SCRIPT =
  "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n";
const BUSY_FUNCTION =
  "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n";
const LONG_SCRIPTS = ["--busy-reply-threshold", "100"];

/** Sends a command without waiting for its reply. */
async function send(client: RawClient, ...args: string[]): Promise<void> {
  await client.send(encodeCommand(args));
}

/** Polls with PING until the server answers `expected` (a script became busy), at most 10 s. */
async function untilPingAnswers(client: RawClient, expected: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const reply = await raw(client, "PING");
    if (reply === expected) return;
    if (Date.now() > deadline) throw new Error(`PING kept answering ${JSON.stringify(reply)}`);
    await sleep(10);
  }
}

async function reply(client: RawClient): Promise<string> {
  return bytesToLatin1(await client.readReply(15_000));
}

Deno.test("a script's writes reach the AOF as its commands, several wrapped in MULTI/EXEC", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withClients(1, async ([client]) => {
      assert.equal(
        await raw(client!, "EVAL", "redis.call('SET', 'a', '1') redis.call('SET', 'b', '2')", "0"),
        "$-1\r\n",
      );
      assert.equal(await raw(client!, "EVAL", "return redis.call('INCR', 'c')", "0"), ":1\r\n");
      // Reads and failed writes log nothing.
      assert.equal(await raw(client!, "EVAL", "return redis.call('GET', 'a')", "0"), "$1\r\n1\r\n");
      assert.match(await raw(client!, "EVAL", "return redis.call('INCR', 'a', 'x')", "0"), /^-ERR/);
      // Random and time-dependent values are logged as the values written.
      await raw(
        client!,
        "EVAL",
        "redis.call('SET', 'r', math.random()) redis.call('SET', 't', redis.call('TIME')[1])",
        "0",
      );
      // SELECT inside the script: the write is logged in its database.
      await raw(client!, "EVAL", "redis.call('SELECT', 3) redis.call('SET', 'in3', 'x')", "0");
      assert.equal(await raw(client!, "SET", "after", "yes"), "+OK\r\n");
    }, { dir, args: ["--appendonly", "yes"] });

    const logged = (await readAof(dir)).filter((args) => args[0] !== "FUNCTION");
    const random = logged.find((args) => args[1] === "r")!;
    const time = logged.find((args) => args[1] === "t")!;
    assert.deepEqual(logged, [
      ["SELECT", "0"],
      ["MULTI"],
      ["SET", "a", "1"],
      ["SET", "b", "2"],
      ["EXEC"],
      ["INCR", "c"],
      ["MULTI"],
      ["SET", "r", random[2]!],
      ["SET", "t", time[2]!],
      ["EXEC"],
      ["SELECT", "3"],
      ["SET", "in3", "x"],
      ["SELECT", "0"],
      ["SET", "after", "yes"],
    ]);

    // Replaying gives the same data without running any script.
    await withClients(1, async ([client]) => {
      assert.equal(
        await raw(client!, "MGET", "a", "b", "c"),
        "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n1\r\n",
      );
      assert.equal(await raw(client!, "GET", "r"), `$${random[2]!.length}\r\n${random[2]}\r\n`);
      assert.equal(await raw(client!, "SCRIPT", "EXISTS", "x".repeat(40)), "*1\r\n:0\r\n");
      assert.equal(await raw(client!, "SELECT", "3"), "+OK\r\n");
      assert.equal(await raw(client!, "GET", "in3"), "$1\r\nx\r\n");
    }, { dir, args: ["--appendonly", "yes"] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a script's write to a watched key fails the watcher's EXEC", async () => {
  await withClients(2, async ([watcher, writer]) => {
    assert.equal(await raw(watcher!, "WATCH", "k"), "+OK\r\n");
    assert.equal(await raw(writer!, "EVAL", "return redis.call('SET', 'k', 'v')", "0"), "+OK\r\n");
    assert.equal(await raw(watcher!, "MULTI"), "+OK\r\n");
    assert.equal(await raw(watcher!, "GET", "k"), "+QUEUED\r\n");
    assert.equal(await raw(watcher!, "EXEC"), "*-1\r\n");
    // A read-only script leaves watches alone.
    assert.equal(await raw(watcher!, "WATCH", "k"), "+OK\r\n");
    assert.equal(await raw(writer!, "EVAL", "return redis.call('GET', 'k')", "0"), "$1\r\nv\r\n");
    assert.equal(await raw(watcher!, "MULTI"), "+OK\r\n");
    assert.equal(await raw(watcher!, "GET", "k"), "+QUEUED\r\n");
    assert.equal(await raw(watcher!, "EXEC"), "*1\r\n$1\r\nv\r\n");
  });
});

Deno.test("a client blocked on a list is served after the script that pushed to it", async () => {
  await withClients(2, async ([waiter, pusher]) => {
    await send(waiter!, "BLPOP", "queue", "0");
    const deadline = Date.now() + 5000;
    while (!(await raw(pusher!, "INFO", "clients")).includes("blocked_clients:1\r\n")) {
      if (Date.now() > deadline) throw new Error("the BLPOP never blocked");
      await sleep(10);
    }
    assert.equal(
      await raw(
        pusher!,
        "EVAL",
        "redis.call('RPUSH', 'queue', 'a', 'b') return redis.call('LLEN', 'queue')",
        "0",
      ),
      ":2\r\n",
    );
    assert.equal(await reply(waiter!), "*2\r\n$5\r\nqueue\r\n$1\r\na\r\n");
    assert.equal(await raw(pusher!, "LRANGE", "queue", "0", "-1"), "*1\r\n$1\r\nb\r\n");
  });
});

Deno.test("past busy-reply-threshold others get BUSY, and SCRIPT KILL stops `while true do end`", async () => {
  await withClients(2, async ([runner, other]) => {
    await send(runner!, "EVAL", "local i = 0\nwhile true do\ni = i + 1\nend", "0");
    await untilPingAnswers(other!, BUSY_SCRIPT);
    assert.equal(await raw(other!, "GET", "x"), BUSY_SCRIPT);
    assert.equal(await raw(other!, "SHUTDOWN"), BUSY_SCRIPT);
    assert.equal(await raw(other!, "FUNCTION", "STATS"), BUSY_SCRIPT);
    assert.equal(await raw(other!, "FUNCTION", "KILL"), BUSY_SCRIPT);
    // Inside MULTI a BUSY refusal dooms the transaction, as any refusal does.
    assert.equal(await raw(other!, "MULTI"), "+OK\r\n");
    assert.equal(await raw(other!, "SET", "x", "1"), BUSY_SCRIPT);
    assert.equal(
      await raw(other!, "EXEC"),
      "-EXECABORT Transaction discarded because of: " + BUSY_SCRIPT.slice(1),
    );
    assert.equal(await raw(other!, "SCRIPT", "KILL"), "+OK\r\n");
    assert.match(
      await reply(runner!),
      /^-ERR Script killed by user with SCRIPT KILL\.\.\. script: [0-9a-f]{40}, on @user_script:\d+\.\r\n$/,
    );
    assert.equal(await raw(other!, "PING"), "+PONG\r\n");
    assert.equal(await raw(runner!, "PING"), "+PONG\r\n");
    assert.equal(
      await raw(other!, "SCRIPT", "KILL"),
      "-NOTBUSY No scripts in execution right now.\r\n",
    );
  }, { args: LONG_SCRIPTS });
});

Deno.test("SCRIPT KILL stops an infinite loop inside pcall and an endless table.sort comparator", async () => {
  await withClients(2, async ([runner, other]) => {
    // As in Redis, pcall catches the kill once: a script that then returns on the same line ends.
    await send(
      runner!,
      "EVAL",
      "local ok = pcall(function() while true do end end) return 'caught'",
      "0",
    );
    await untilPingAnswers(other!, BUSY_SCRIPT);
    assert.equal(await raw(other!, "SCRIPT", "KILL"), "+OK\r\n");
    assert.equal(await reply(runner!), "$6\r\ncaught\r\n");
    for (
      const script of [
        "while true do pcall(function() while true do end end) end",
        "local t = {} for i = 1, 100 do t[i] = i end\ntable.sort(t, function(a, b) while true do end end)",
      ]
    ) {
      await send(runner!, "EVAL", script, "0");
      await untilPingAnswers(other!, BUSY_SCRIPT);
      assert.equal(await raw(other!, "SCRIPT", "KILL"), "+OK\r\n");
      const answer = await reply(runner!);
      assert.match(answer, /^-ERR Script killed by user with SCRIPT KILL\.\.\. script: /, script);
      assert.equal(await raw(other!, "PING"), "+PONG\r\n");
    }
  }, { args: LONG_SCRIPTS });
});

Deno.test("a busy script that wrote is UNKILLABLE; SHUTDOWN NOSAVE stops the server", async () => {
  await withClients(2, async ([runner, other], server) => {
    await send(runner!, "EVAL", "redis.call('SET', 'w', '1') while true do end", "0");
    await untilPingAnswers(other!, BUSY_SCRIPT);
    assert.equal(
      await raw(other!, "SCRIPT", "KILL"),
      "-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n",
    );
    await send(other!, "SHUTDOWN", "NOSAVE");
    assert.equal(await other!.isClosed(10_000), true);
    const { code } = await server.stop();
    assert.equal(code, 0);
  }, { args: LONG_SCRIPTS });
});

Deno.test("a slow script that ends by itself answers, and its effects are logged whole", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withClients(2, async ([runner, other]) => {
      // Pipelined after the script: answered only once it ends, in order.
      await runner!.send(
        new Uint8Array([
          ...encodeCommand([
            "EVAL",
            "redis.call('SET', 'started', '1')\n" +
            "local t = redis.call('TIME') local start = t[1] * 1000000 + t[2]\n" +
            "repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start > 1500000\n" +
            "redis.call('SET', 'finished', '1') return 'done'",
            "0",
          ]),
          ...encodeCommand(["GET", "finished"]),
        ]),
      );
      await untilPingAnswers(other!, BUSY_SCRIPT);
      assert.equal(await raw(other!, "GET", "started"), BUSY_SCRIPT);
      assert.equal(await reply(runner!), "$4\r\ndone\r\n");
      assert.equal(await reply(runner!), "$1\r\n1\r\n");
      assert.equal(
        await raw(other!, "MGET", "started", "finished"),
        "*2\r\n$1\r\n1\r\n$1\r\n1\r\n",
      );
    }, { dir, args: [...LONG_SCRIPTS, "--appendonly", "yes"] });
    assert.deepEqual(await readAof(dir, { select: false }), [
      ["MULTI"],
      ["SET", "started", "1"],
      ["SET", "finished", "1"],
      ["EXEC"],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FUNCTION KILL stops a busy function; SCRIPT KILL and FUNCTION STATS say it is one", async () => {
  await withClients(2, async ([runner, other]) => {
    assert.equal(
      await raw(
        other!,
        "FUNCTION",
        "LOAD",
        "#!lua name=spin\nredis.register_function('spin', function() while true do end end)",
      ),
      "$4\r\nspin\r\n",
    );
    await send(runner!, "FCALL", "spin", "0");
    await untilPingAnswers(other!, BUSY_FUNCTION);
    assert.equal(await raw(other!, "SCRIPT", "KILL"), BUSY_FUNCTION);
    const stats = await raw(other!, "FUNCTION", "STATS");
    assert.match(
      stats,
      /^\*4\r\n\$14\r\nrunning_script\r\n\*6\r\n\$4\r\nname\r\n\$4\r\nspin\r\n\$7\r\ncommand\r\n\*3\r\n\$5\r\nFCALL\r\n\$4\r\nspin\r\n\$1\r\n0\r\n\$11\r\nduration_ms\r\n:\d+\r\n/,
    );
    assert.equal(await raw(other!, "FUNCTION", "KILL"), "+OK\r\n");
    assert.match(
      await reply(runner!),
      /^-ERR Script killed by user with SCRIPT KILL\.\.\. script: spin, on @user_function:\d+\.\r\n$/,
    );
  }, { args: LONG_SCRIPTS });
});

Deno.test("without busy-reply-threshold a script runs to its end", async () => {
  await withClients(1, async ([client]) => {
    assert.equal(await raw(client!, "CONFIG", "SET", "busy-reply-threshold", "0"), "+OK\r\n");
    assert.equal(
      await raw(client!, "EVAL", "local n = 0 for i = 1, 3000000 do n = n + 1 end return n", "0"),
      ":3000000\r\n",
    );
  });
});

Deno.test("a script inside MULTI/EXEC runs whole, with the transaction's effects as one block", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withClients(1, async ([client]) => {
      assert.equal(await raw(client!, "MULTI"), "+OK\r\n");
      assert.equal(await raw(client!, "SET", "x", "1"), "+QUEUED\r\n");
      assert.equal(
        await raw(client!, "EVAL", "return redis.call('INCR', 'x')", "0"),
        "+QUEUED\r\n",
      );
      assert.equal(await raw(client!, "EXEC"), "*2\r\n+OK\r\n:2\r\n");
    }, { dir, args: [...LONG_SCRIPTS, "--appendonly", "yes"] });
    assert.deepEqual(await readAof(dir, { select: false }), [
      ["MULTI"],
      ["SET", "x", "1"],
      ["INCR", "x"],
      ["EXEC"],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the caller's database and user are the script's; ACL denials use the script texts", async () => {
  await withClients(2, async ([admin, limited]) => {
    assert.equal(
      await raw(admin!, "ACL", "SETUSER", "app", "on", "nopass", "+@all", "-set", "~allowed*"),
      "+OK\r\n",
    );
    assert.equal(await raw(limited!, "AUTH", "app", "x"), "+OK\r\n");
    assert.match(
      await raw(limited!, "EVAL", "return redis.call('SET', 'allowed', 'v')", "0"),
      /^-ERR The user executing the script can't run this command or subcommand script: [0-9a-f]{40}, on @user_script:1\.\r\n$/,
    );
    assert.match(
      await raw(limited!, "EVAL", "return redis.call('GET', 'secret')", "0"),
      /^-ERR The user executing the script can't access at least one of the keys mentioned in the command arguments script: /,
    );
    assert.equal(
      await raw(limited!, "EVAL", "return redis.call('GET', 'allowed1')", "0"),
      "$-1\r\n",
    );
    assert.equal(
      await raw(limited!, "EVAL", "return redis.acl_check_cmd('SET', 'allowed', 'v')", "0"),
      "$-1\r\n",
    );
    const log = await raw(admin!, "ACL", "LOG");
    assert.match(log, /\$7\r\ncontext\r\n\$3\r\nlua\r\n/);
  });
});
