/**
 * The parameter catalogue: every parameter Redis 7.0.15 knows, declared
 * once, plus this server's own `transport`.
 *
 * Each entry says what config.c's table says: name, alias, type and range,
 * default, flags (immutable, protected, hidden, sensitive, deny-loading),
 * extra validation; and, here, which `Config` field holds it. Entries
 * without a field have no effect in this server (INERT_PARAMETER_NAMES):
 * they are accepted, validated and reported exactly as Redis would, so
 * configuration files and tools written for Redis keep working.
 *
 * Defaults are redis-server's compiled-in ones (tests compare them with a
 * live `CONFIG GET *`) except this server's deliberate choices, listed in
 * DELIBERATE_DEFAULTS: the append-only file is on and called
 * `database.aof`, there are no save points (snapshots are not written),
 * `aof-use-rdb-preamble` is off (the AOF is plain commands), and the socket
 * layer is Deno's.
 *
 * `defaultConfig()` is built by putting every default in place, so the
 * catalogue is the only place a default is written.
 *
 * @module
 */

import {
  aliasEntry,
  booleanParameter,
  type ConfigParameter,
  enumParameter,
  flagsParameter,
  numericParameter,
  RANGE,
  stringParameter,
} from "./parameter.ts";
import type { Config, SavePoint } from "./schema.ts";
import {
  bindParameter,
  clientOutputBufferLimitParameter,
  dirParameter,
  latencyPercentilesParameter,
  notifyKeyspaceEventsParameter,
  oomScoreAdjValuesParameter,
  replicaofParameter,
  saveParameter,
} from "./special.ts";

const INT = RANGE.int;
const INT_MAX = INT.max;
const UINT_MAX = RANGE.uint;
const LONG_MAX = RANGE.long;
const MB = 1024n * 1024n;

/** Defaults this server chooses differently from redis-server, with Redis's value. */
export const DELIBERATE_DEFAULTS: Readonly<Record<string, { ours: string; redis: string }>> = {
  appendonly: { ours: "yes", redis: "no" },
  appendfilename: { ours: "database.aof", redis: "appendonly.aof" },
  save: { ours: "", redis: "3600 1 300 100 60 10000" },
  "aof-use-rdb-preamble": { ours: "no", redis: "yes" },
};

/** Parameters Redis does not have. */
export const OWN_PARAMETERS: readonly string[] = ["transport"];

const NO_SAVE_POINTS: readonly SavePoint[] = [];

function isBaseName(value: string): boolean {
  return !value.includes("/") && !value.includes("\\");
}

const HOSTNAME_MAX = 256;

function announcedHostnameProblem(value: string): string | undefined {
  if (value.length >= HOSTNAME_MAX) return `Hostnames must be less than ${HOSTNAME_MAX} characters`;
  if (!/^[A-Za-z0-9.-]*$/.test(value)) {
    return "Hostnames may only contain alphanumeric characters, hyphens or dots";
  }
  return undefined;
}

/**
 * `proc-title-template` validation as Redis's `validateProcTitleTemplate`:
 * `{{` is a literal brace, `{name}` must be a known variable, and the title
 * must not expand to nothing. Expanded with an empty title, as Redis does.
 */
function procTitleTemplateProblem(template: string, config: Config): string | undefined {
  const variables: Record<string, string> = {
    title: "",
    "listen-addr": "*:6379",
    "server-mode": "",
    port: String(config.port),
    "tls-port": String(config.tlsPort),
    unixsocket: config.unixsocket,
    "config-file": config.configFile ?? "-",
  };
  let expanded = "";
  let rest = template;
  for (;;) {
    const open = rest.indexOf("{");
    if (open < 0) {
      expanded += rest;
      break;
    }
    expanded += rest.slice(0, open);
    rest = rest.slice(open + 1);
    if (rest === "") return PROC_TITLE_PROBLEM;
    if (rest.startsWith("{")) {
      expanded += "{";
      rest = rest.slice(1);
      continue;
    }
    const close = rest.indexOf("}");
    if (close < 0) return PROC_TITLE_PROBLEM;
    const value = variables[rest.slice(0, close)];
    if (value === undefined) return PROC_TITLE_PROBLEM;
    expanded += value;
    rest = rest.slice(close + 1);
  }
  return expanded.replace(/^ +| +$/g, "") === "" ? PROC_TITLE_PROBLEM : undefined;
}

const PROC_TITLE_PROBLEM = "template format is invalid or contains unknown variables";

/** Every primary parameter, in the order of Redis's table (config.c). */
const PRIMARIES: readonly ConfigParameter[] = [
  // Booleans.
  booleanParameter({ name: "rdbchecksum", immutable: true, default: true, field: "rdbchecksum" }),
  booleanParameter({ name: "daemonize", immutable: true, default: false }),
  booleanParameter({ name: "io-threads-do-reads", immutable: true, default: false }),
  booleanParameter({ name: "always-show-logo", immutable: true, default: false }),
  booleanParameter({ name: "protected-mode", default: true, field: "protectedMode" }),
  booleanParameter({ name: "rdbcompression", default: true, field: "rdbcompression" }),
  booleanParameter({ name: "rdb-del-sync-files", default: false }),
  booleanParameter({ name: "activerehashing", default: true }),
  booleanParameter({
    name: "stop-writes-on-bgsave-error",
    default: true,
    field: "stopWritesOnBgsaveError",
  }),
  booleanParameter({ name: "set-proc-title", immutable: true, default: true }),
  booleanParameter({ name: "dynamic-hz", default: true }),
  booleanParameter({ name: "lazyfree-lazy-eviction", default: false }),
  booleanParameter({ name: "lazyfree-lazy-expire", default: false }),
  booleanParameter({ name: "lazyfree-lazy-server-del", default: false }),
  booleanParameter({ name: "lazyfree-lazy-user-del", default: false }),
  booleanParameter({ name: "lazyfree-lazy-user-flush", default: false }),
  booleanParameter({ name: "repl-disable-tcp-nodelay", default: false }),
  booleanParameter({ name: "repl-diskless-sync", default: true, field: "replDisklessSync" }),
  booleanParameter({ name: "aof-rewrite-incremental-fsync", default: true }),
  booleanParameter({
    name: "no-appendfsync-on-rewrite",
    default: false,
    field: "noAppendfsyncOnRewrite",
  }),
  booleanParameter({ name: "cluster-require-full-coverage", default: true }),
  booleanParameter({ name: "rdb-save-incremental-fsync", default: true }),
  booleanParameter({ name: "aof-load-truncated", default: true, field: "aofLoadTruncated" }),
  booleanParameter({ name: "aof-use-rdb-preamble", default: false, field: "aofUseRdbPreamble" }),
  booleanParameter({
    name: "aof-timestamp-enabled",
    default: false,
    field: "aofTimestampEnabled",
  }),
  booleanParameter({
    name: "cluster-replica-no-failover",
    alias: "cluster-slave-no-failover",
    default: false,
  }),
  booleanParameter({ name: "replica-lazy-flush", alias: "slave-lazy-flush", default: false }),
  booleanParameter({
    name: "replica-serve-stale-data",
    alias: "slave-serve-stale-data",
    default: true,
    field: "replicaServeStaleData",
  }),
  booleanParameter({
    name: "replica-read-only",
    alias: "slave-read-only",
    default: true,
    field: "replicaReadOnly",
  }),
  booleanParameter({
    name: "replica-ignore-maxmemory",
    alias: "slave-ignore-maxmemory",
    default: true,
  }),
  booleanParameter({ name: "jemalloc-bg-thread", default: true }),
  booleanParameter({
    name: "activedefrag",
    default: false,
    // What redis-server built without its bundled jemalloc (Debian's) answers.
    validate: (value) =>
      value
        ? "Active defragmentation cannot be enabled: it requires a Redis server compiled with " +
          "a modified Jemalloc like the one shipped by default with the Redis source distribution"
        : undefined,
  }),
  booleanParameter({ name: "syslog-enabled", immutable: true, default: false }),
  booleanParameter({ name: "cluster-enabled", immutable: true, default: false }),
  booleanParameter({ name: "appendonly", denyLoading: true, default: true, field: "appendonly" }),
  booleanParameter({ name: "cluster-allow-reads-when-down", default: false }),
  booleanParameter({ name: "cluster-allow-pubsubshard-when-down", default: true }),
  booleanParameter({ name: "crash-log-enabled", default: true }),
  booleanParameter({ name: "crash-memcheck-enabled", default: true }),
  booleanParameter({ name: "use-exit-on-panic", hidden: true, default: false }),
  booleanParameter({ name: "disable-thp", immutable: true, default: true }),
  booleanParameter({ name: "cluster-allow-replica-migration", default: true }),
  booleanParameter({ name: "replica-announced", default: true }),
  booleanParameter({ name: "latency-tracking", default: true, field: "latencyTracking" }),
  booleanParameter({ name: "aof-disable-auto-gc", default: false }),
  booleanParameter({ name: "replica-ignore-disk-write-errors", default: false }),

  // Strings.
  stringParameter({ name: "aclfile", immutable: true, default: "", field: "aclfile" }),
  stringParameter({ name: "unixsocket", immutable: true, emptyIsNull: true, field: "unixsocket" }),
  stringParameter({ name: "pidfile", immutable: true, emptyIsNull: true, field: "pidfile" }),
  stringParameter({ name: "replica-announce-ip", alias: "slave-announce-ip", emptyIsNull: true }),
  stringParameter({
    name: "masteruser",
    sensitive: true,
    emptyIsNull: true,
    field: "masteruser",
  }),
  stringParameter({ name: "cluster-announce-ip", emptyIsNull: true }),
  stringParameter({ name: "cluster-config-file", immutable: true, default: "nodes.conf" }),
  stringParameter({
    name: "cluster-announce-hostname",
    emptyIsNull: true,
    validate: announcedHostnameProblem,
  }),
  stringParameter({ name: "syslog-ident", immutable: true, default: "redis" }),
  stringParameter({
    name: "dbfilename",
    protected: true,
    default: "dump.rdb",
    field: "dbfilename",
    validate: (value) =>
      isBaseName(value) ? undefined : "dbfilename can't be a path, just a filename",
  }),
  stringParameter({
    name: "appendfilename",
    immutable: true,
    default: "database.aof",
    field: "appendfilename",
    validate: (value) =>
      value === ""
        ? "appendfilename can't be empty"
        : isBaseName(value)
        ? undefined
        : "appendfilename can't be a path, just a filename",
  }),
  stringParameter({
    name: "appenddirname",
    immutable: true,
    default: "appendonlydir",
    validate: (value) =>
      value === ""
        ? "appenddirname can't be empty"
        : isBaseName(value)
        ? undefined
        : "appenddirname can't be a path, just a dirname",
  }),
  stringParameter({ name: "server_cpulist", immutable: true, emptyIsNull: true }),
  stringParameter({ name: "bio_cpulist", immutable: true, emptyIsNull: true }),
  stringParameter({ name: "aof_rewrite_cpulist", immutable: true, emptyIsNull: true }),
  stringParameter({ name: "bgsave_cpulist", immutable: true, emptyIsNull: true }),
  stringParameter({ name: "ignore-warnings", default: "" }),
  stringParameter({
    name: "proc-title-template",
    default: "{title} {listen-addr} {server-mode}",
    validate: procTitleTemplateProblem,
  }),
  stringParameter({ name: "bind-source-addr", emptyIsNull: true }),
  stringParameter({ name: "logfile", immutable: true, default: "", field: "logfile" }),
  stringParameter({
    name: "masterauth",
    sensitive: true,
    emptyIsNull: true,
    field: "masterauth",
  }),
  stringParameter({
    name: "requirepass",
    sensitive: true,
    emptyIsNull: true,
    field: "requirepass",
  }),

  // Enumerations.
  enumParameter({
    name: "supervised",
    immutable: true,
    values: ["upstart", "systemd", "auto", "no"],
    default: "no",
  }),
  enumParameter({
    name: "syslog-facility",
    immutable: true,
    values: [
      "user",
      "local0",
      "local1",
      "local2",
      "local3",
      "local4",
      "local5",
      "local6",
      "local7",
    ],
    default: "local0",
  }),
  enumParameter({
    name: "repl-diskless-load",
    denyLoading: true,
    values: ["disabled", "on-empty-db", "swapdb"],
    default: "disabled",
  }),
  enumParameter({
    name: "loglevel",
    values: ["debug", "verbose", "notice", "warning"],
    default: "notice",
    field: "loglevel",
  }),
  enumParameter({
    name: "maxmemory-policy",
    values: [
      "volatile-lru",
      "volatile-lfu",
      "volatile-random",
      "volatile-ttl",
      "allkeys-lru",
      "allkeys-lfu",
      "allkeys-random",
      "noeviction",
    ],
    default: "noeviction",
    field: "maxmemoryPolicy",
  }),
  enumParameter({
    name: "appendfsync",
    values: ["everysec", "always", "no"],
    default: "everysec",
    field: "appendfsync",
  }),
  enumParameter({
    name: "oom-score-adj",
    values: ["no", "yes", "relative", "absolute"],
    synonyms: { relative: "yes" },
    default: "no",
  }),
  enumParameter({
    name: "acl-pubsub-default",
    values: ["allchannels", "resetchannels"],
    default: "resetchannels",
    field: "aclPubsubDefault",
  }),
  enumParameter({
    name: "sanitize-dump-payload",
    values: ["no", "yes", "clients"],
    default: "no",
    field: "sanitizeDumpPayload",
  }),
  enumParameter({
    name: "enable-protected-configs",
    immutable: true,
    values: ["no", "yes", "local"],
    default: "no",
    field: "enableProtectedConfigs",
  }),
  enumParameter({
    name: "enable-debug-command",
    immutable: true,
    values: ["no", "yes", "local"],
    default: "no",
    field: "enableDebugCommand",
  }),
  enumParameter({
    name: "enable-module-command",
    immutable: true,
    values: ["no", "yes", "local"],
    default: "no",
    field: "enableModuleCommand",
  }),
  enumParameter({
    name: "cluster-preferred-endpoint-type",
    values: ["ip", "hostname", "unknown-endpoint"],
    default: "ip",
  }),
  enumParameter({
    name: "propagation-error-behavior",
    values: ["ignore", "panic", "panic-on-replicas"],
    default: "ignore",
  }),
  flagsParameter({
    name: "shutdown-on-sigint",
    none: "default",
    flags: ["save", "nosave", "now", "force"],
    field: "shutdownOnSigint",
    validate: shutdownFlagsProblem,
  }),
  flagsParameter({
    name: "shutdown-on-sigterm",
    none: "default",
    flags: ["save", "nosave", "now", "force"],
    field: "shutdownOnSigterm",
    validate: shutdownFlagsProblem,
  }),

  // Integers.
  numericParameter({
    name: "databases",
    immutable: true,
    min: 1n,
    max: INT_MAX,
    default: 16n,
    field: "databases",
  }),
  numericParameter({ name: "port", min: 0n, max: 65535n, default: 6379n, field: "port" }),
  numericParameter({ name: "io-threads", immutable: true, min: 1n, max: 128n, default: 1n }),
  numericParameter({
    name: "auto-aof-rewrite-percentage",
    min: 0n,
    max: INT_MAX,
    default: 100n,
    field: "autoAofRewritePercentage",
  }),
  numericParameter({
    name: "cluster-replica-validity-factor",
    alias: "cluster-slave-validity-factor",
    min: 0n,
    max: INT_MAX,
    default: 10n,
  }),
  numericParameter({
    name: "list-max-listpack-size",
    alias: "list-max-ziplist-size",
    ...INT,
    default: -2n,
    field: "listMaxListpackSize",
  }),
  numericParameter({
    name: "tcp-keepalive",
    min: 0n,
    max: INT_MAX,
    default: 300n,
    field: "tcpKeepalive",
  }),
  numericParameter({ name: "cluster-migration-barrier", min: 0n, max: INT_MAX, default: 1n }),
  numericParameter({ name: "active-defrag-cycle-min", min: 1n, max: 99n, default: 1n }),
  numericParameter({ name: "active-defrag-cycle-max", min: 1n, max: 99n, default: 25n }),
  numericParameter({ name: "active-defrag-threshold-lower", min: 0n, max: 1000n, default: 10n }),
  numericParameter({ name: "active-defrag-threshold-upper", min: 0n, max: 1000n, default: 100n }),
  numericParameter({
    name: "lfu-log-factor",
    min: 0n,
    max: INT_MAX,
    default: 10n,
    field: "lfuLogFactor",
  }),
  numericParameter({
    name: "lfu-decay-time",
    min: 0n,
    max: INT_MAX,
    default: 1n,
    field: "lfuDecayTime",
  }),
  numericParameter({
    name: "replica-priority",
    alias: "slave-priority",
    min: 0n,
    max: INT_MAX,
    default: 100n,
  }),
  numericParameter({ name: "repl-diskless-sync-delay", min: 0n, max: INT_MAX, default: 5n }),
  numericParameter({
    name: "maxmemory-samples",
    min: 1n,
    max: INT_MAX,
    default: 5n,
    field: "maxmemorySamples",
  }),
  numericParameter({
    name: "maxmemory-eviction-tenacity",
    min: 0n,
    max: 100n,
    default: 10n,
    field: "maxmemoryEvictionTenacity",
  }),
  numericParameter({ name: "timeout", min: 0n, max: INT_MAX, default: 0n, field: "timeout" }),
  numericParameter({
    name: "replica-announce-port",
    alias: "slave-announce-port",
    min: 0n,
    max: 65535n,
    default: 0n,
  }),
  numericParameter({ name: "tcp-backlog", immutable: true, min: 0n, max: INT_MAX, default: 511n }),
  numericParameter({ name: "cluster-port", immutable: true, min: 0n, max: 65535n, default: 0n }),
  numericParameter({ name: "cluster-announce-bus-port", min: 0n, max: 65535n, default: 0n }),
  numericParameter({ name: "cluster-announce-port", min: 0n, max: 65535n, default: 0n }),
  numericParameter({ name: "cluster-announce-tls-port", min: 0n, max: 65535n, default: 0n }),
  numericParameter({
    name: "repl-timeout",
    min: 1n,
    max: INT_MAX,
    default: 60n,
    field: "replTimeout",
  }),
  numericParameter({
    name: "repl-ping-replica-period",
    alias: "repl-ping-slave-period",
    min: 1n,
    max: INT_MAX,
    default: 10n,
    field: "replPingReplicaPeriod",
  }),
  numericParameter({
    name: "list-compress-depth",
    min: 0n,
    max: INT_MAX,
    default: 0n,
    field: "listCompressDepth",
  }),
  numericParameter({ name: "rdb-key-save-delay", hidden: true, ...INT, default: 0n }),
  numericParameter({ name: "key-load-delay", hidden: true, ...INT, default: 0n }),
  numericParameter({
    name: "active-expire-effort",
    min: 1n,
    max: 10n,
    default: 1n,
    field: "activeExpireEffort",
  }),
  numericParameter({
    name: "hz",
    min: 0n,
    max: INT_MAX,
    default: 10n,
    field: "hz",
    // Redis takes hz as a hint: out-of-range values are capped, not refused.
    normalize: (value) => value < 1n ? 1n : value > 500n ? 500n : value,
  }),
  numericParameter({
    name: "min-replicas-to-write",
    alias: "min-slaves-to-write",
    min: 0n,
    max: INT_MAX,
    default: 0n,
    field: "minReplicasToWrite",
  }),
  numericParameter({
    name: "min-replicas-max-lag",
    alias: "min-slaves-max-lag",
    min: 0n,
    max: INT_MAX,
    default: 10n,
    field: "minReplicasMaxLag",
  }),
  numericParameter({ name: "watchdog-period", hidden: true, min: 0n, max: INT_MAX, default: 0n }),
  numericParameter({
    name: "shutdown-timeout",
    min: 0n,
    max: INT_MAX,
    default: 10n,
    field: "shutdownTimeout",
  }),
  numericParameter({
    name: "repl-diskless-sync-max-replicas",
    min: 0n,
    max: INT_MAX,
    default: 0n,
  }),
  numericParameter({
    name: "maxclients",
    unsigned: true,
    min: 1n,
    max: UINT_MAX,
    default: 10000n,
    field: "maxclients",
  }),
  numericParameter({
    name: "unixsocketperm",
    immutable: true,
    unsigned: true,
    unit: "octal",
    min: 0n,
    max: 0o777n,
    default: 0n,
    field: "unixsocketperm",
  }),
  numericParameter({
    name: "socket-mark-id",
    immutable: true,
    unsigned: true,
    min: 0n,
    max: UINT_MAX,
    default: 0n,
  }),
  numericParameter({
    name: "active-defrag-max-scan-fields",
    min: 1n,
    max: LONG_MAX,
    default: 1000n,
  }),
  numericParameter({
    name: "slowlog-max-len",
    min: 0n,
    max: LONG_MAX,
    default: 128n,
    field: "slowlogMaxLen",
  }),
  numericParameter({
    name: "acllog-max-len",
    min: 0n,
    max: LONG_MAX,
    default: 128n,
    field: "aclLogMaxLen",
  }),
  numericParameter({
    name: "busy-reply-threshold",
    alias: "lua-time-limit",
    min: 0n,
    max: LONG_MAX,
    default: 5000n,
    field: "busyReplyThreshold",
  }),
  numericParameter({ name: "cluster-node-timeout", min: 0n, max: LONG_MAX, default: 15000n }),
  numericParameter({
    name: "slowlog-log-slower-than",
    min: -1n,
    max: LONG_MAX,
    default: 10000n,
    field: "slowlogLogSlowerThan",
  }),
  numericParameter({
    name: "latency-monitor-threshold",
    min: 0n,
    max: LONG_MAX,
    default: 0n,
    field: "latencyMonitorThreshold",
  }),
  numericParameter({
    name: "proto-max-bulk-len",
    unit: "memory",
    min: MB,
    max: LONG_MAX,
    default: 512n * MB,
    field: "protoMaxBulkLen",
  }),
  numericParameter({
    name: "stream-node-max-entries",
    min: 0n,
    max: LONG_MAX,
    default: 100n,
    field: "streamNodeMaxEntries",
  }),
  numericParameter({
    name: "repl-backlog-size",
    unit: "memory",
    min: 1n,
    max: LONG_MAX,
    default: MB,
    field: "replBacklogSize",
  }),
  numericParameter({
    name: "maxmemory",
    unit: "memory",
    unsigned: true,
    min: 0n,
    max: RANGE.ulonglong,
    default: 0n,
    field: "maxmemory",
  }),
  numericParameter({
    name: "cluster-link-sendbuf-limit",
    unit: "memory",
    unsigned: true,
    min: 0n,
    max: RANGE.ulonglong,
    default: 0n,
  }),
  numericParameter({
    name: "hash-max-listpack-entries",
    alias: "hash-max-ziplist-entries",
    unsigned: true,
    min: 0n,
    max: LONG_MAX,
    default: 512n,
    field: "hashMaxListpackEntries",
  }),
  numericParameter({
    name: "set-max-intset-entries",
    unsigned: true,
    min: 0n,
    max: LONG_MAX,
    default: 512n,
    field: "setMaxIntsetEntries",
  }),
  numericParameter({
    name: "zset-max-listpack-entries",
    alias: "zset-max-ziplist-entries",
    unsigned: true,
    min: 0n,
    max: LONG_MAX,
    default: 128n,
    field: "zsetMaxListpackEntries",
  }),
  numericParameter({
    name: "active-defrag-ignore-bytes",
    unit: "memory",
    unsigned: true,
    min: 1n,
    max: LONG_MAX,
    default: 100n * MB,
  }),
  numericParameter({
    name: "hash-max-listpack-value",
    alias: "hash-max-ziplist-value",
    unit: "memory",
    unsigned: true,
    min: 0n,
    max: LONG_MAX,
    default: 64n,
    field: "hashMaxListpackValue",
  }),
  numericParameter({
    name: "stream-node-max-bytes",
    unit: "memory",
    unsigned: true,
    min: 0n,
    max: LONG_MAX,
    default: 4096n,
    field: "streamNodeMaxBytes",
  }),
  numericParameter({
    name: "zset-max-listpack-value",
    alias: "zset-max-ziplist-value",
    unit: "memory",
    unsigned: true,
    min: 0n,
    max: LONG_MAX,
    default: 64n,
    field: "zsetMaxListpackValue",
  }),
  numericParameter({
    name: "hll-sparse-max-bytes",
    unit: "memory",
    unsigned: true,
    min: 0n,
    max: LONG_MAX,
    default: 3000n,
    field: "hllSparseMaxBytes",
  }),
  numericParameter({
    name: "tracking-table-max-keys",
    unsigned: true,
    min: 0n,
    max: LONG_MAX,
    default: 1000000n,
    field: "trackingTableMaxKeys",
  }),
  numericParameter({
    name: "client-query-buffer-limit",
    unit: "memory",
    unsigned: true,
    min: MB,
    max: LONG_MAX,
    default: 1024n * MB,
    field: "clientQueryBufferLimit",
  }),
  numericParameter({
    name: "maxmemory-clients",
    unit: "memory-or-percent",
    min: -100n,
    max: LONG_MAX,
    default: 0n,
    field: "maxmemoryClients",
  }),
  numericParameter({
    name: "repl-backlog-ttl",
    min: 0n,
    max: LONG_MAX,
    default: 3600n,
    field: "replBacklogTtl",
  }),
  numericParameter({
    name: "auto-aof-rewrite-min-size",
    unit: "memory",
    min: 0n,
    max: LONG_MAX,
    default: 64n * MB,
    field: "autoAofRewriteMinSize",
  }),
  numericParameter({
    name: "loading-process-events-interval-bytes",
    hidden: true,
    min: 1024n,
    max: INT_MAX,
    default: 2n * MB,
  }),

  // TLS (redis-server built with TLS, as Debian's is, knows these).
  numericParameter({ name: "tls-port", min: 0n, max: 65535n, default: 0n, field: "tlsPort" }),
  numericParameter({ name: "tls-session-cache-size", min: 0n, max: INT_MAX, default: 20480n }),
  numericParameter({ name: "tls-session-cache-timeout", min: 0n, max: INT_MAX, default: 300n }),
  booleanParameter({ name: "tls-cluster", default: false }),
  booleanParameter({ name: "tls-replication", default: false }),
  enumParameter({
    name: "tls-auth-clients",
    values: ["no", "yes", "optional"],
    default: "yes",
    field: "tlsAuthClients",
  }),
  booleanParameter({ name: "tls-prefer-server-ciphers", default: false }),
  booleanParameter({ name: "tls-session-caching", default: true }),
  stringParameter({ name: "tls-cert-file", emptyIsNull: true, field: "tlsCertFile" }),
  stringParameter({ name: "tls-key-file", emptyIsNull: true, field: "tlsKeyFile" }),
  stringParameter({ name: "tls-key-file-pass", emptyIsNull: true }),
  stringParameter({ name: "tls-client-cert-file", emptyIsNull: true }),
  stringParameter({ name: "tls-client-key-file", emptyIsNull: true }),
  stringParameter({ name: "tls-client-key-file-pass", emptyIsNull: true }),
  stringParameter({ name: "tls-dh-params-file", emptyIsNull: true }),
  stringParameter({ name: "tls-ca-cert-file", emptyIsNull: true, field: "tlsCaCertFile" }),
  stringParameter({ name: "tls-ca-cert-dir", emptyIsNull: true }),
  stringParameter({ name: "tls-protocols", emptyIsNull: true, field: "tlsProtocols" }),
  stringParameter({ name: "tls-ciphers", emptyIsNull: true }),
  stringParameter({ name: "tls-ciphersuites", emptyIsNull: true }),

  // Special parameters.
  dirParameter(),
  saveParameter(NO_SAVE_POINTS),
  clientOutputBufferLimitParameter(),
  oomScoreAdjValuesParameter(),
  notifyKeyspaceEventsParameter(),
  bindParameter(),
  replicaofParameter(),
  latencyPercentilesParameter(),

  // This server's own.
  enumParameter({
    name: "transport",
    immutable: true,
    values: ["node", "deno"],
    default: "deno",
    field: "transport",
  }),
];

function shutdownFlagsProblem(flags: readonly string[]): string | undefined {
  return flags.includes("save") && flags.includes("nosave")
    ? "shutdown options SAVE and NOSAVE can't be used simultaneously"
    : undefined;
}

/** Primary parameters in catalogue order (CONFIG REWRITE writes them in this order). */
export const PRIMARY_PARAMETERS: readonly ConfigParameter[] = PRIMARIES;

/**
 * Every entry by lower-case name, aliases included (an alias entry carries
 * the alias's name), as Redis's configs dictionary.
 */
export const PARAMETERS: ReadonlyMap<string, ConfigParameter> = new Map(
  PRIMARIES.flatMap((parameter) => {
    const entries: [string, ConfigParameter][] = [[parameter.name, parameter]];
    if (parameter.alias) entries.push([parameter.alias, aliasEntry(parameter)]);
    return entries;
  }),
);

/** The entry for a parameter or alias name, any case. */
export function lookupParameter(name: string): ConfigParameter | undefined {
  return PARAMETERS.get(name.toLowerCase());
}

/** The primary parameter a name or alias stands for. */
export function primaryParameter(name: string): ConfigParameter | undefined {
  const entry = lookupParameter(name);
  return entry?.isAlias ? PARAMETERS.get(entry.alias!) : entry;
}

/** Names of the parameters that have no effect in this server (for the README). */
export const INERT_PARAMETER_NAMES: readonly string[] = PRIMARIES.filter((parameter) =>
  parameter.inert
).map((parameter) => parameter.name);

/**
 * A configuration with every parameter at its default and nothing from a
 * config file.
 *
 * @example
 * ```ts
 * const config = defaultConfig();
 * config.port; // 6379
 * config.bind; // "* -::*"
 * ```
 */
export function defaultConfig(): Config {
  const config = {
    configFile: undefined,
    users: [],
    renamedCommands: [],
    inertParameters: {},
    exactIntegers: {},
  } as unknown as Config;
  for (const parameter of PRIMARIES) parameter.reset(config);
  return config;
}
