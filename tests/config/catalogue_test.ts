import assert from "node:assert/strict";
import {
  configGet,
  configSet,
  defaultConfig,
  DELIBERATE_DEFAULTS,
  INERT_PARAMETER_NAMES,
  listenAddress,
  lookupParameter,
  OWN_PARAMETERS,
  PARAMETERS,
  parseBind,
  PRIMARY_PARAMETERS,
} from "../../src/config.ts";
import { decodeReply, RawClient, startRedisServer } from "../helpers/servers.ts";

/** Parameters whose value depends on how and where the server was started. */
const PER_RUN = new Set(["dir", "port"]);

function recordedDefaults(): Map<string, string> {
  const text = Deno.readTextFileSync(new URL("./redis_7.0.15_defaults.tsv", import.meta.url));
  const defaults = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const tab = line.indexOf("\t");
    defaults.set(line.slice(0, tab), line.slice(tab + 1));
  }
  return defaults;
}

function compareWithRedis(redis: Map<string, string>, skip: ReadonlySet<string>): string[] {
  const ours = new Map(configGet(defaultConfig(), ["*"]));
  const problems: string[] = [];
  for (const [name, value] of redis) {
    if (skip.has(name)) continue;
    const expected = DELIBERATE_DEFAULTS[name]?.ours ?? value;
    if (!ours.has(name)) problems.push(`missing ${name}`);
    else if (ours.get(name) !== expected) {
      problems.push(
        `${name}: redis ${JSON.stringify(value)}, ours ${JSON.stringify(ours.get(name))}`,
      );
    }
  }
  for (const name of ours.keys()) {
    if (!redis.has(name) && !OWN_PARAMETERS.includes(name)) problems.push(`extra ${name}`);
  }
  return problems;
}

Deno.test("catalogue: defaults equal redis-server 7.0.15's CONFIG GET * (recorded), except the deliberate ones", () => {
  const redis = recordedDefaults();
  assert.equal(redis.size, 192);
  assert.deepEqual(compareWithRedis(redis, PER_RUN), []);
  for (const [name, { redis: theirs }] of Object.entries(DELIBERATE_DEFAULTS)) {
    assert.equal(redis.get(name), theirs, `${name}: the recorded Redis default`);
  }
});

Deno.test("catalogue: defaults equal a live redis-server's CONFIG GET *", async () => {
  const server = await startRedisServer();
  if (server === undefined) {
    console.warn("redis-server not installed: SKIPPING the live defaults comparison");
    return;
  }
  const client = await RawClient.connect(server.port);
  try {
    const reply = decodeReply(await client.command("CONFIG", "GET", "*")) as string[];
    const live = new Map<string, string>();
    for (let i = 0; i < reply.length; i += 2) live.set(reply[i]!, reply[i + 1]!);
    // The test helper starts redis-server with these on its command line.
    const flags = new Set([...PER_RUN, "bind", "save", "appendonly", "daemonize"]);
    assert.deepEqual(compareWithRedis(live, flags), []);
  } finally {
    await client.close();
    await server.stop();
  }
});

Deno.test("catalogue: every Config field is set by defaultConfig()", () => {
  const config = defaultConfig();
  const optional = new Set(["replicaof", "configFile"]);
  for (const [field, value] of Object.entries(config)) {
    if (!optional.has(field)) assert.notEqual(value, undefined, field);
  }
  assert.ok("replicaof" in config && "configFile" in config);
  assert.equal(config.bind, "* -::*");
  assert.equal(config.appendonly, true);
  assert.equal(config.appendfilename, "database.aof");
  assert.equal(config.save, "");
  assert.deepEqual(config.savePoints, []);
  assert.equal(config.transport, "deno");
  assert.equal(config.protectedMode, true);
  assert.deepEqual(config.clientOutputBufferLimits.replica, {
    hardBytes: 256 * 1024 * 1024,
    softBytes: 64 * 1024 * 1024,
    softSeconds: 60,
  });
  assert.equal(config.clientQueryBufferLimit, 1024 * 1024 * 1024);
  assert.equal(config.hashMaxListpackEntries, 512);
  assert.equal(config.listMaxListpackSize, -2);
});

Deno.test("catalogue: two default configs share no arrays or objects", () => {
  const first = defaultConfig();
  const second = defaultConfig();
  first.savePoints.push({ seconds: 1, changes: 1 });
  first.clientOutputBufferLimits.normal.hardBytes = 5;
  first.latencyTrackingInfoPercentiles.push(1);
  first.inertParameters["daemonize"] = "yes";
  assert.deepEqual(second.savePoints, []);
  assert.equal(second.clientOutputBufferLimits.normal.hardBytes, 0);
  assert.deepEqual(second.latencyTrackingInfoPercentiles, [50, 99, 99.9]);
  assert.equal(second.inertParameters["daemonize"], "no");
});

Deno.test("catalogue: each alias reads and writes its primary", () => {
  const pairs = [
    ["slaveof", "replicaof"],
    ["lua-time-limit", "busy-reply-threshold"],
    ["hash-max-ziplist-entries", "hash-max-listpack-entries"],
    ["hash-max-ziplist-value", "hash-max-listpack-value"],
    ["zset-max-ziplist-entries", "zset-max-listpack-entries"],
    ["zset-max-ziplist-value", "zset-max-listpack-value"],
    ["list-max-ziplist-size", "list-max-listpack-size"],
    ["slave-read-only", "replica-read-only"],
    ["slave-serve-stale-data", "replica-serve-stale-data"],
    ["slave-priority", "replica-priority"],
    ["slave-announce-ip", "replica-announce-ip"],
    ["slave-announce-port", "replica-announce-port"],
    ["slave-lazy-flush", "replica-lazy-flush"],
    ["slave-ignore-maxmemory", "replica-ignore-maxmemory"],
    ["repl-ping-slave-period", "repl-ping-replica-period"],
    ["min-slaves-to-write", "min-replicas-to-write"],
    ["min-slaves-max-lag", "min-replicas-max-lag"],
    ["cluster-slave-validity-factor", "cluster-replica-validity-factor"],
    ["cluster-slave-no-failover", "cluster-replica-no-failover"],
  ];
  const aliases = [...PARAMETERS.values()].filter((entry) => entry.isAlias).map((entry) => [
    entry.name,
    entry.alias,
  ]);
  assert.deepEqual(aliases.sort(), pairs.sort());
  const config = defaultConfig();
  assert.equal(configSet(config, ["lua-time-limit", "1234"]).ok, true);
  assert.equal(config.busyReplyThreshold, 1234);
  assert.deepEqual(configGet(config, ["busy-reply-threshold"]), [["busy-reply-threshold", "1234"]]);
  assert.equal(lookupParameter("SLAVE-READ-ONLY")?.alias, "replica-read-only");
});

Deno.test("catalogue: hidden parameters answer only to their exact name", () => {
  const config = defaultConfig();
  const hidden = PRIMARY_PARAMETERS.filter((parameter) => parameter.hidden).map((p) => p.name);
  assert.deepEqual(hidden.sort(), [
    "key-load-delay",
    "loading-process-events-interval-bytes",
    "rdb-key-save-delay",
    "use-exit-on-panic",
    "watchdog-period",
  ]);
  assert.deepEqual(configGet(config, ["key-load-delay"]), [["key-load-delay", "0"]]);
  assert.deepEqual(configGet(config, ["key-load-*"]), []);
});

Deno.test("catalogue: parameters that cannot apply here are inert, the ones the server reads are typed", () => {
  for (
    const name of ["daemonize", "io-threads", "supervised", "jemalloc-bg-thread", "oom-score-adj"]
  ) {
    assert.ok(INERT_PARAMETER_NAMES.includes(name), name);
  }
  for (const name of ["maxclients", "timeout", "maxmemory", "requirepass", "appendfsync", "bind"]) {
    assert.ok(!INERT_PARAMETER_NAMES.includes(name), name);
  }
  const config = defaultConfig();
  assert.equal(configSet(config, ["io-threads-do-reads", "yes"]).ok, false);
  assert.equal(configSet(config, ["jemalloc-bg-thread", "no"]).ok, true);
  assert.equal(config.inertParameters["jemalloc-bg-thread"], "no");
  assert.deepEqual(configGet(config, ["jemalloc-bg-thread"]), [["jemalloc-bg-thread", "no"]]);
});

Deno.test("bind: parseBind reads the list, a leading - marks an address that may fail", () => {
  assert.deepEqual(parseBind("* -::*"), [
    { address: "*", optional: false },
    { address: "::*", optional: true },
  ]);
  assert.deepEqual(parseBind("127.0.0.1 -::1"), [
    { address: "127.0.0.1", optional: false },
    { address: "::1", optional: true },
  ]);
  assert.deepEqual(parseBind(""), []);
  assert.equal(listenAddress("*"), "0.0.0.0");
  assert.equal(listenAddress("::*"), "::");
  assert.equal(listenAddress("10.0.0.1"), "10.0.0.1");
});
