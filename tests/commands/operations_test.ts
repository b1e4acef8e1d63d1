/**
 * INFO statistics, SLOWLOG, LATENCY, MONITOR, CLIENT REPLY / PAUSE /
 * UNBLOCK / TRACKING / KILL on an in-process server whose request path
 * calls the operations hooks (tests/server/operations_wiring.ts supplies
 * them until the server does). Replies are compared as raw RESP.
 */

import assert from "node:assert/strict";
import { hookedServer } from "../server/operations_wiring.ts";

/** The value of `field` in INFO text. */
function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field.replace(/[|.]/g, "\\$&")}:(.*)\r$`, "m").exec(info)?.[1];
}

Deno.test("INFO commandstats counts calls, failed and rejected calls per command", () => {
  const { connect } = hookedServer();
  const { send } = connect();
  send("SET", "k", "v");
  send("SET", "k", "v", "XX");
  send("INCR", "k");
  send("GET");
  send("CONFIG", "GET", "port");
  const info = send("INFO", "commandstats");
  assert.match(
    infoField(info, "cmdstat_set")!,
    /^calls=2,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0$/,
  );
  assert.match(infoField(info, "cmdstat_incr")!, /rejected_calls=0,failed_calls=1$/);
  assert.match(
    infoField(info, "cmdstat_get")!,
    /^calls=0,usec=0,usec_per_call=0\.00,rejected_calls=1,failed_calls=0$/,
  );
  assert.match(infoField(info, "cmdstat_config|get")!, /^calls=1,/);
});

Deno.test("INFO errorstats and total_error_replies count every error reply by its code", () => {
  const { connect } = hookedServer();
  const { send } = connect();
  send("LPUSH", "list", "a");
  send("GET", "list");
  send("NOSUCHCOMMAND");
  send("INCR", "list");
  const errors = send("INFO", "errorstats");
  assert.equal(
    errors,
    "$66\r\n# Errorstats\r\nerrorstat_ERR:count=1\r\nerrorstat_WRONGTYPE:count=2\r\n\r\n",
  );
  assert.equal(infoField(send("INFO", "stats"), "total_error_replies"), "3");
  assert.equal(send("CONFIG", "RESETSTAT"), "+OK\r\n");
  assert.equal(send("INFO", "errorstats"), "$14\r\n# Errorstats\r\n\r\n");
  const stats = send("INFO", "stats");
  assert.equal(infoField(stats, "total_error_replies"), "0");
  assert.equal(infoField(stats, "total_commands_processed"), "2");
  assert.match(send("INFO", "commandstats"), /\r\ncmdstat_config\|resetstat:calls=1,/);
});

Deno.test("INFO latencystats reports the configured percentiles, nothing when tracking is off", () => {
  const { connect } = hookedServer();
  const { send } = connect();
  send("SET", "k", "v");
  assert.match(
    send("INFO", "latencystats"),
    /latency_percentiles_usec_set:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}\r\n/,
  );
  send("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99.99");
  assert.match(send("INFO", "latencystats"), /usec_set:p50=\d+\.\d{3},p99\.99=\d+\.\d{3}\r\n/);
  send("CONFIG", "SET", "latency-tracking", "no");
  assert.equal(send("INFO", "latencystats"), "$16\r\n# Latencystats\r\n\r\n");
  const histogram = send("LATENCY", "HISTOGRAM", "SET", "nosuch");
  assert.match(
    histogram,
    /^\*2\r\n\$3\r\nset\r\n\*4\r\n\$5\r\ncalls\r\n:1\r\n\$14\r\nhistogram_usec\r\n\*2\r\n:\d+\r\n:1\r\n$/,
  );
  assert.match(send("LATENCY", "HISTOGRAM", "config"), /^\*2\r\n\$10\r\nconfig\|set\r\n/);
});

Deno.test("SLOWLOG logs commands over slowlog-log-slower-than with redacted passwords", () => {
  const { connect } = hookedServer();
  const { send } = connect();
  assert.equal(send("SLOWLOG", "GET"), "*0\r\n");
  send("CLIENT", "SETNAME", "worker");
  send("CONFIG", "SET", "slowlog-log-slower-than", "0");
  send("CONFIG", "SET", "requirepass", "secret");
  send("AUTH", "secret");
  send("MULTI");
  send("SET", "a", "1");
  send("EXEC");
  const entries = send("SLOWLOG", "GET", "-1");
  // EXEC is skip_slowlog; the command it ran is logged on its own.
  assert.doesNotMatch(entries, /\$4\r\nEXEC\r\n/);
  assert.match(
    entries,
    /\*3\r\n\$3\r\nSET\r\n\$1\r\na\r\n\$1\r\n1\r\n\$11\r\n127\.0\.0\.1:1\r\n\$6\r\nworker\r\n/,
  );
  assert.match(entries, /\$11\r\nrequirepass\r\n\$10\r\n\(redacted\)\r\n/);
  assert.match(entries, /\$4\r\nAUTH\r\n\$10\r\n\(redacted\)\r\n/);
  assert.doesNotMatch(entries, /secret/);
  assert.equal(send("SLOWLOG", "LEN"), ":6\r\n");
  assert.equal(send("SLOWLOG", "RESET"), "+OK\r\n");
  assert.equal(send("SLOWLOG", "LEN"), ":1\r\n");
  send("CONFIG", "SET", "slowlog-log-slower-than", "-1");
  send("PING");
  assert.equal(send("SLOWLOG", "LEN"), ":2\r\n");
});

Deno.test("MONITOR shows commands as Redis prints them, without admin commands", () => {
  const { connect } = hookedServer();
  const monitor = connect();
  const other = connect();
  assert.equal(monitor.send("MONITOR"), "+OK\r\n");
  assert.equal(monitor.send("MONITOR"), "");
  other.send("SET", "k", 'a "b"\n');
  other.send("CONFIG", "GET", "port");
  other.send("SELECT", "2");
  other.send("MULTI");
  other.send("INCR", "n");
  other.send("EXEC");
  other.send("AUTH", "user", "pass");
  const lines = monitor.send("PING").split("\r\n").filter((line) => line !== "");
  const shown = lines.map((line) => line.replace(/^\+\d+\.\d{6} /, ""));
  assert.deepEqual(shown, [
    '[0 127.0.0.1:1] "SET" "k" "a \\"b\\"\\n"',
    '[2 127.0.0.1:1] "SELECT" "2"',
    '[2 127.0.0.1:1] "MULTI"',
    '[2 127.0.0.1:1] "INCR" "n"',
    '[2 127.0.0.1:1] "EXEC"',
    '[2 127.0.0.1:1] "AUTH" "(redacted)" "(redacted)"',
    "+PONG",
    '[0 127.0.0.1:1] "PING"',
  ]);
  const line = lines[0]!;
  assert.match(line, /^\+\d{10}\.\d{6} \[0 127\.0\.0\.1:1\] /);
  assert.match(other.send("CLIENT", "LIST"), /flags=O db=0/);
  other.send("MULTI");
  assert.equal(other.send("MONITOR"), "+QUEUED\r\n");
  assert.equal(other.send("EXEC"), "*1\r\n-ERR MONITOR isn't allowed for DENY BLOCKING client\r\n");
});

Deno.test("CLIENT REPLY OFF and SKIP drop the client's replies but not its messages", () => {
  const { connect } = hookedServer();
  const subscriber = connect();
  const publisher = connect();
  assert.equal(subscriber.send("CLIENT", "REPLY", "OFF"), "");
  // As in Redis 7.0, the subscription confirmation is pushed anyway.
  assert.equal(
    subscriber.send("SUBSCRIBE", "news"),
    "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n",
  );
  assert.equal(subscriber.send("PING"), "");
  publisher.send("PUBLISH", "news", "hello");
  assert.equal(subscriber.received(), "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n");
  publisher.send("CONFIG", "SET", "notify-keyspace-events", "KA");
  subscriber.send("PSUBSCRIBE", "__keyspace@0__:*");
  publisher.send("SET", "k", "v");
  assert.match(
    subscriber.received(),
    /pmessage\r\n\$16\r\n__keyspace@0__:\*\r\n\$16\r\n__keyspace@0__:k\r\n\$3\r\nset\r\n$/,
  );
  const { send } = connect();
  assert.equal(send("CLIENT", "REPLY", "SKIP"), "");
  assert.equal(send("NOSUCH"), "");
  assert.equal(send("ECHO", "back"), "$4\r\nback\r\n");
  assert.equal(send("CLIENT", "REPLY", "MAYBE"), "-ERR syntax error\r\n");
  send("CLIENT", "REPLY", "OFF");
  assert.equal(send("CLIENT", "REPLY", "ON"), "+OK\r\n");
});

Deno.test("CLIENT PAUSE WRITE holds writes back until UNPAUSE, reads carry on", () => {
  const { connect } = hookedServer();
  const admin = connect();
  const writer = connect();
  assert.equal(admin.send("CLIENT", "PAUSE", "100000", "WRITE"), "+OK\r\n");
  assert.equal(writer.send("SET", "k", "v"), "");
  assert.ok(writer.client.blocked !== undefined);
  assert.equal(admin.send("GET", "k"), "$-1\r\n");
  assert.match(admin.send("INFO", "clients"), /blocked_clients:0\r\n/);
  assert.equal(admin.send("CLIENT", "UNBLOCK", String(writer.client.id)), ":0\r\n");
  assert.equal(admin.send("CLIENT", "UNPAUSE"), "+OK\r\n");
  assert.equal(writer.received(), "+OK\r\n");
  assert.equal(admin.send("GET", "k"), "$1\r\nv\r\n");
  admin.send("CLIENT", "PAUSE", "100000", "ALL");
  assert.equal(writer.send("GET", "k"), "");
  assert.equal(admin.send("CLIENT", "UNPAUSE"), "");
  writer.client.blocked!.dispose();
  admin.client.blocked!.dispose();
});

Deno.test("CLIENT PAUSE and UNBLOCK check their arguments in Redis's order", () => {
  const { connect } = hookedServer();
  const { send } = connect();
  assert.equal(
    send("CLIENT", "PAUSE", "abc", "foo"),
    "-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n",
  );
  assert.equal(
    send("CLIENT", "PAUSE", "abc"),
    "-ERR timeout is not an integer or out of range\r\n",
  );
  assert.equal(send("CLIENT", "PAUSE", "-1"), "-ERR timeout is negative\r\n");
  assert.equal(
    send("CLIENT", "PAUSE", "10", "ALL", "x"),
    "-ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.\r\n",
  );
  assert.equal(
    send("CLIENT", "UNBLOCK", "x", "foo"),
    "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n",
  );
  assert.equal(send("CLIENT", "UNBLOCK", "x"), "-ERR value is not an integer or out of range\r\n");
  assert.equal(send("CLIENT", "UNBLOCK", "999"), ":0\r\n");
});

Deno.test("CLIENT UNBLOCK gives a blocked client its timeout reply or the UNBLOCKED error", () => {
  const { connect } = hookedServer();
  const admin = connect();
  const first = connect();
  const second = connect();
  assert.equal(first.send("BLPOP", "queue", "0"), "");
  assert.equal(admin.send("CLIENT", "UNBLOCK", String(first.client.id)), ":1\r\n");
  assert.equal(first.received(), "*-1\r\n");
  assert.equal(second.send("BLPOP", "queue", "0"), "");
  assert.equal(admin.send("CLIENT", "UNBLOCK", String(second.client.id), "ERROR"), ":1\r\n");
  assert.equal(second.received(), "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
  assert.equal(second.client.blocked, undefined);
  assert.match(admin.send("INFO", "errorstats"), /errorstat_UNBLOCKED:count=1/);
  assert.equal(first.send("WAIT", "1", "0"), "");
  assert.equal(admin.send("CLIENT", "UNBLOCK", String(first.client.id)), ":1\r\n");
  assert.equal(first.received(), ":0\r\n");
});

Deno.test("CLIENT TRACKING sends RESP3 invalidations, after the reply for the client's own writes", () => {
  const { connect } = hookedServer();
  const reader = connect();
  const writer = connect();
  reader.send("HELLO", "3");
  assert.equal(reader.send("CLIENT", "TRACKING", "ON"), "+OK\r\n");
  reader.send("GET", "k1");
  writer.send("SET", "k1", "v");
  assert.equal(
    reader.send("GET", "k1"),
    ">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nk1\r\n$1\r\nv\r\n",
  );
  assert.equal(
    reader.send("SET", "k1", "v2"),
    "+OK\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nk1\r\n",
  );
  reader.send("MGET", "k1", "k2");
  assert.match(writer.send("INFO", "stats"), /tracking_total_keys:2\r\ntracking_total_items:2\r\n/);
  writer.send("FLUSHDB");
  assert.equal(reader.send("PING"), ">2\r\n$10\r\ninvalidate\r\n_\r\n+PONG\r\n");
  assert.match(writer.send("INFO", "clients"), /tracking_clients:1\r\n/);
  assert.equal(reader.send("CLIENT", "GETREDIR"), ":0\r\n");
  assert.equal(writer.send("CLIENT", "GETREDIR"), ":-1\r\n");
});

Deno.test("CLIENT TRACKING NOLOOP and OPTIN follow Redis's rules", () => {
  const { connect } = hookedServer();
  const reader = connect();
  const writer = connect();
  reader.send("HELLO", "3");
  reader.send("CLIENT", "TRACKING", "ON", "OPTIN", "NOLOOP");
  reader.send("GET", "untracked");
  assert.equal(reader.send("CLIENT", "CACHING", "YES"), "+OK\r\n");
  assert.match(
    reader.send("CLIENT", "TRACKINGINFO"),
    /\$5\r\noptin\r\n\$11\r\ncaching-yes\r\n\$6\r\nnoloop/,
  );
  reader.send("GET", "tracked");
  reader.send("SET", "tracked", "mine");
  assert.equal(reader.send("PING"), "+PONG\r\n");
  reader.send("CLIENT", "CACHING", "YES");
  reader.send("GET", "tracked");
  writer.send("SET", "untracked", "x");
  writer.send("SET", "tracked", "x");
  assert.equal(reader.send("PING"), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$7\r\ntracked\r\n+PONG\r\n");
  assert.equal(
    reader.send("CLIENT", "CACHING", "NO"),
    "-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.\r\n",
  );
  assert.equal(
    reader.send("CLIENT", "TRACKING", "ON", "OPTOUT"),
    "-ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.\r\n",
  );
});

Deno.test("CLIENT TRACKING BCAST sends one message per prefix with the changed keys", async () => {
  const { connect } = hookedServer();
  const watcher = connect();
  const writer = connect();
  watcher.send("HELLO", "3");
  assert.equal(
    watcher.send("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "x", "PREFIX", "y"),
    "+OK\r\n",
  );
  assert.equal(
    watcher.send("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "xa"),
    "-ERR Prefix 'xa' overlaps with an existing prefix 'x'. Prefixes for a single client must not overlap.\r\n",
  );
  writer.send("MSET", "x2", "1", "y1", "2", "x1", "3", "q", "4");
  await Promise.resolve();
  assert.equal(
    watcher.received(),
    ">2\r\n$10\r\ninvalidate\r\n*2\r\n$2\r\nx1\r\n$2\r\nx2\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\ny1\r\n",
  );
  assert.match(writer.send("INFO", "stats"), /tracking_total_prefixes:2\r\n/);
  assert.match(writer.send("CLIENT", "LIST", "ID", String(watcher.client.id)), /flags=tB /);
});

Deno.test("CLIENT TRACKING REDIRECT reaches a RESP2 subscriber, and a vanished target is reported", () => {
  const { connect, server } = hookedServer();
  const target = connect();
  const tracker = connect();
  const writer = connect();
  target.send("SUBSCRIBE", "__redis__:invalidate");
  assert.equal(
    tracker.send("CLIENT", "TRACKING", "ON", "REDIRECT", "99"),
    "-ERR The client ID you want redirect to does not exist\r\n",
  );
  tracker.send("CLIENT", "TRACKING", "ON", "REDIRECT", String(target.client.id));
  tracker.send("GET", "a");
  writer.send("SET", "a", "1");
  assert.equal(
    target.received(),
    "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\na\r\n",
  );
  tracker.send("HELLO", "3");
  tracker.send("GET", "a");
  server.disconnect(target.client);
  writer.send("SET", "a", "2");
  assert.equal(
    tracker.send("PING"),
    `>2\r\n$21\r\ntracking-redir-broken\r\n:${target.client.id}\r\n+PONG\r\n`,
  );
  assert.match(tracker.send("CLIENT", "TRACKINGINFO"), /\$15\r\nbroken_redirect\r\n/);
});

Deno.test("LATENCY records slow commands once latency-monitor-threshold is set", () => {
  const { connect } = hookedServer({ enableDebugCommand: "yes" });
  const { send } = connect();
  assert.equal(send("LATENCY", "LATEST"), "*0\r\n");
  send("CONFIG", "SET", "latency-monitor-threshold", "1");
  send("DEBUG", "SLEEP", "0.005");
  assert.match(
    send("LATENCY", "LATEST"),
    /^\*1\r\n\*4\r\n\$7\r\ncommand\r\n:\d+\r\n:\d+\r\n:\d+\r\n$/,
  );
  assert.match(send("LATENCY", "HISTORY", "command"), /^\*1\r\n\*2\r\n:\d+\r\n:\d+\r\n$/);
  assert.match(send("LATENCY", "DOCTOR"), /1\. command: 1 latency spikes/);
  assert.match(send("LATENCY", "GRAPH", "command"), /^\$\d+\r\ncommand - high \d+ ms/);
  assert.equal(
    send("LATENCY", "GRAPH", "nosuch"),
    "-ERR No samples available for event 'nosuch'\r\n",
  );
  assert.equal(send("LATENCY", "RESET"), ":1\r\n");
});

Deno.test("CLIENT KILL filters by USER, TYPE, ID and SKIPME as Redis", () => {
  const { connect, server } = hookedServer();
  const admin = connect();
  const subscriber = connect();
  const normal = connect();
  subscriber.send("SUBSCRIBE", "c");
  assert.equal(admin.send("CLIENT", "KILL", "USER", "nobody"), "-ERR No such user 'nobody'\r\n");
  assert.equal(admin.send("CLIENT", "KILL", "TYPE", "pubsub"), ":1\r\n");
  assert.equal(subscriber.client.closed, true);
  assert.equal(
    admin.send("CLIENT", "KILL", "ID", String(normal.client.id), "SKIPME", "no"),
    ":1\r\n",
  );
  assert.equal(admin.send("CLIENT", "KILL", "USER", "default"), ":0\r\n");
  assert.equal(admin.send("CLIENT", "KILL", "USER", "default", "SKIPME", "no"), ":1\r\n");
  assert.equal(admin.client.closeAfterReply, true);
  assert.equal(server.clients.size, 1);
  assert.equal(admin.send("CLIENT", "KILL", "ID", "1", "TYPE"), "-ERR syntax error\r\n");
});

Deno.test("CLIENT LIST filters by TYPE and ID and shows NO-EVICT", () => {
  const { connect } = hookedServer();
  const admin = connect();
  const other = connect();
  other.send("CLIENT", "NO-EVICT", "ON");
  assert.match(
    admin.send("CLIENT", "LIST", "TYPE", "normal"),
    /^\$\d+\r\nid=\d+ [^\n]*\nid=\d+ [^\n]*flags=e /,
  );
  assert.equal(admin.send("CLIENT", "LIST", "TYPE", "pubsub"), "$0\r\n\r\n");
  assert.equal(admin.send("CLIENT", "LIST", "ID", "abc"), "-ERR Invalid client ID\r\n");
  assert.equal(admin.send("CLIENT", "LIST", "ID", "0"), "$0\r\n\r\n");
  assert.equal(admin.send("CLIENT", "LIST", "ID"), "-ERR syntax error\r\n");
  assert.match(admin.send("CLIENT", "INFO"), /cmd=client\|info user=default redir=-1 resp=2/);
});
