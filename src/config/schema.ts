/**
 * The shape of the configuration: the `Config` record every part of the
 * server reads, the value types of its fields, and the error type of the
 * configuration layer.
 *
 * `Config` is plain data (no methods, no class instances) on purpose: it is
 * copied with `structuredClone` to stage and roll back CONFIG SET, and hot
 * paths read a typed field (`config.maxclients`) instead of looking a name up
 * in a map. Parameters that have no effect in this server are still accepted,
 * validated and reported like Redis does; their values live in
 * `inertParameters` as CONFIG GET shows them, so the typed surface only holds
 * what something can act on. The catalogue (catalogue.ts) declares every
 * parameter once and says which field, if any, holds it; `defaultConfig()`
 * is built from it, so defaults are written in exactly one place.
 *
 * @module
 */

/** The Redis version this server is compatible with (INFO, FATAL errors). */
export const VERSION = "7.0.15";
/** This server's own version. */
export const CLONE_VERSION = "0.1.0";

/** `appendfsync`. */
export type FsyncPolicy = "always" | "everysec" | "no";
/** `nothing` is not a Redis 7.0 level (7.2 added it); the logger still knows it. */
export type LogLevel = "debug" | "verbose" | "notice" | "warning" | "nothing";
/** `transport`: which socket layer serves clients. */
export type TransportKind = "node" | "deno";
/** `enable-debug-command`, `enable-protected-configs`, `enable-module-command`. */
export type ProtectedAction = "no" | "yes" | "local";
/** `maxmemory-policy`. */
export type MaxmemoryPolicy =
  | "volatile-lru"
  | "volatile-lfu"
  | "volatile-random"
  | "volatile-ttl"
  | "allkeys-lru"
  | "allkeys-lfu"
  | "allkeys-random"
  | "noeviction";
/** `acl-pubsub-default`. */
export type AclPubsubDefault = "allchannels" | "resetchannels";
/** `tls-auth-clients`. */
export type TlsAuthClients = "no" | "yes" | "optional";
/** `sanitize-dump-payload`. */
export type SanitizeDumpPayload = "no" | "yes" | "clients";
/** One word of `shutdown-on-sigint` / `shutdown-on-sigterm`; none means `default`. */
export type ShutdownOption = "save" | "nosave" | "now" | "force";

/** One class of `client-output-buffer-limit`. Zero means no limit. */
export interface OutputBufferLimit {
  hardBytes: number;
  softBytes: number;
  softSeconds: number;
}

/** `client-output-buffer-limit` by client class (Redis's `slave` class is `replica`). */
export interface ClientOutputBufferLimits {
  normal: OutputBufferLimit;
  replica: OutputBufferLimit;
  pubsub: OutputBufferLimit;
}

/** One `save <seconds> <changes>` point. */
export interface SavePoint {
  seconds: number;
  changes: number;
}

/** `replicaof <host> <port>`. */
export interface ReplicaOf {
  host: string;
  port: number;
}

/** A `rename-command` directive, in file order (`to` empty: the command is removed). */
export interface RenamedCommand {
  from: string;
  to: string;
}

/**
 * The server's configuration. Field names are the parameter names in
 * camelCase (`tcp-keepalive` → `tcpKeepalive`); memory values are bytes;
 * strings Redis stores as NULL when empty are `""` here; strings hold binary
 * strings (one byte per code unit, as commands see them).
 */
export interface Config {
  port: number;
  /** The `bind` addresses as CONFIG GET shows them (`* -::*`); see `parseBind`. */
  bind: string;
  /** As given (`.` by default); CONFIG GET shows it resolved to an absolute path. */
  dir: string;
  appendonly: boolean;
  appendfilename: string;
  appendfsync: FsyncPolicy;
  aofLoadTruncated: boolean;
  autoAofRewritePercentage: number;
  autoAofRewriteMinSize: number;
  loglevel: LogLevel;
  databases: number;
  /** Canonical flag letters (`AKE`); see notify_flags.ts. */
  notifyKeyspaceEvents: string;
  /** Socket layer (this server's own parameter); see server/listener.ts. */
  transport: TransportKind;
  /** `save` as CONFIG GET shows it (`3600 1 300 100`); `savePoints` is the parsed form. */
  save: string;
  savePoints: SavePoint[];

  // Clients and networking.
  maxclients: number;
  /** Idle seconds before a client is closed; 0 never. */
  timeout: number;
  tcpKeepalive: number;
  clientOutputBufferLimits: ClientOutputBufferLimits;
  clientQueryBufferLimit: number;
  protoMaxBulkLen: number;
  protectedMode: boolean;
  unixsocket: string;
  /** Permission bits (`unixsocketperm 700` is 0o700). */
  unixsocketperm: number;
  trackingTableMaxKeys: number;

  // Security.
  requirepass: string;
  aclfile: string;
  aclPubsubDefault: AclPubsubDefault;
  aclLogMaxLen: number;
  enableDebugCommand: ProtectedAction;
  enableProtectedConfigs: ProtectedAction;
  enableModuleCommand: ProtectedAction;

  // Memory.
  maxmemory: number;
  maxmemoryPolicy: MaxmemoryPolicy;
  maxmemorySamples: number;
  maxmemoryEvictionTenacity: number;
  /** Bytes, or a percentage of maxmemory stored negated as Redis does (`10%` is -10). */
  maxmemoryClients: number;
  lfuLogFactor: number;
  lfuDecayTime: number;

  // Latency, slow log, scripts.
  busyReplyThreshold: number;
  slowlogLogSlowerThan: number;
  slowlogMaxLen: number;
  latencyMonitorThreshold: number;
  latencyTracking: boolean;
  latencyTrackingInfoPercentiles: number[];

  // Encodings.
  hashMaxListpackEntries: number;
  hashMaxListpackValue: number;
  zsetMaxListpackEntries: number;
  zsetMaxListpackValue: number;
  setMaxIntsetEntries: number;
  listMaxListpackSize: number;
  listCompressDepth: number;
  streamNodeMaxBytes: number;
  streamNodeMaxEntries: number;
  hllSparseMaxBytes: number;

  // Background work.
  hz: number;
  activeExpireEffort: number;

  // Persistence.
  dbfilename: string;
  rdbcompression: boolean;
  rdbchecksum: boolean;
  stopWritesOnBgsaveError: boolean;
  aofUseRdbPreamble: boolean;
  aofTimestampEnabled: boolean;
  noAppendfsyncOnRewrite: boolean;
  sanitizeDumpPayload: SanitizeDumpPayload;

  // Replication.
  replicaof: ReplicaOf | undefined;
  masterauth: string;
  masteruser: string;
  replicaReadOnly: boolean;
  replicaServeStaleData: boolean;
  replBacklogSize: number;
  replBacklogTtl: number;
  replPingReplicaPeriod: number;
  replTimeout: number;
  replDisklessSync: boolean;
  minReplicasToWrite: number;
  minReplicasMaxLag: number;

  // TLS.
  tlsPort: number;
  tlsCertFile: string;
  tlsKeyFile: string;
  tlsCaCertFile: string;
  tlsAuthClients: TlsAuthClients;
  tlsProtocols: string;

  // Process.
  shutdownTimeout: number;
  shutdownOnSigint: ShutdownOption[];
  shutdownOnSigterm: ShutdownOption[];
  pidfile: string;
  logfile: string;

  // Not parameters: what the config file said besides parameters.
  /** Absolute path of the config file (CONFIG REWRITE, INFO `config_file`), if any. */
  configFile: string | undefined;
  /** `user` directives for the ACL subsystem: the words after `user`. */
  users: string[][];
  /** `rename-command` directives for the command table. */
  renamedCommands: RenamedCommand[];

  /** Parameters with no effect here, by name, as CONFIG GET shows them. */
  inertParameters: Record<string, string>;
  /**
   * Exact decimal text of integer parameters beyond 2^53, which a number
   * cannot hold; CONFIG GET uses it while the field still equals it.
   */
  exactIntegers: Record<string, string>;
}

/**
 * Kinds of configuration failure, so main can print each as Redis does:
 * `file` is a FATAL CONFIG FILE ERROR block (Redis prints it on stderr after
 * an empty line), `log` is a one-line fatal message Redis writes as a log
 * line (`Fatal error, can't open config file '/etc/x.conf': No such file or
 * directory`), `usage` is anything else about the command line.
 */
export type ConfigErrorKind = "file" | "log" | "usage";

/** A configuration the server must refuse to start with; `kind` says how to print it. */
export class ConfigError extends Error {
  readonly kind: ConfigErrorKind;

  constructor(message: string, kind: ConfigErrorKind = "usage") {
    super(message);
    this.name = "ConfigError";
    this.kind = kind;
  }
}
