/**
 * Configuration: command-line flags, defaults, and the parameters CONFIG
 * GET/SET expose.
 *
 * Two flag styles are accepted side by side: Redis's (`--port 7000
 * --appendonly no`) and the seed's single-dash forms (`-port 8080`, `-aof
 * mydata.aof`), which its README and Docker commands use. Parsing goes
 * through `node:util`'s `parseArgs` after single-dash long flags are
 * normalised. Errors are `ConfigError`s with one line saying what was wrong.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { isAbsolute, join } from "node:path";
import {
  formatNotifyFlags,
  INVALID_NOTIFY_FLAGS,
  parseNotifyFlags,
} from "./notify_flags.ts";

export const VERSION = "7.0.15";
export const CLONE_VERSION = "0.1.0";

export type FsyncPolicy = "always" | "everysec" | "no";
export type LogLevel = "debug" | "verbose" | "notice" | "warning" | "nothing";
export type TransportKind = "node" | "deno";

export interface Config {
  port: number;
  bind: string;
  dir: string;
  appendonly: boolean;
  appendfilename: string;
  appendfsync: FsyncPolicy;
  aofLoadTruncated: boolean;
  autoAofRewritePercentage: number;
  autoAofRewriteMinSize: number;
  loglevel: LogLevel;
  databases: number;
  notifyKeyspaceEvents: string;
  /** Socket layer; see server/listener.ts for why there are two. */
  transport: TransportKind;
  /** Kept for CONFIG GET save (snapshots are not written). */
  save: string;
}

export function defaultConfig(): Config {
  return {
    port: 6379,
    bind: "0.0.0.0",
    dir: ".",
    appendonly: true,
    appendfilename: "database.aof",
    appendfsync: "everysec",
    aofLoadTruncated: true,
    autoAofRewritePercentage: 100,
    autoAofRewriteMinSize: 64 * 1024 * 1024,
    loglevel: "notice",
    databases: 16,
    notifyKeyspaceEvents: "",
    transport: "deno",
    save: "",
  };
}

/** Path of the append-only file: `appendfilename` inside `dir` unless absolute. */
export function aofPath(config: Config): string {
  return isAbsolute(config.appendfilename)
    ? config.appendfilename
    : join(config.dir, config.appendfilename);
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** What the command line asked for besides configuration. */
export type CommandLine =
  | { action: "serve"; config: Config }
  | { action: "help" }
  | { action: "version" };

const FLAG_OPTIONS = {
  port: { type: "string" },
  bind: { type: "string" },
  dir: { type: "string" },
  appendonly: { type: "string" },
  appendfilename: { type: "string" },
  appendfsync: { type: "string" },
  "aof-load-truncated": { type: "string" },
  "auto-aof-rewrite-percentage": { type: "string" },
  "auto-aof-rewrite-min-size": { type: "string" },
  loglevel: { type: "string" },
  databases: { type: "string" },
  "notify-keyspace-events": { type: "string" },
  transport: { type: "string" },
  save: { type: "string" },
  aof: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const;

export const USAGE = `Usage: redis-clone [options]

Options (Redis-style; the single-dash forms -port and -aof also work):
  --port <n>                      TCP port (default 6379)
  --bind <address>                listen address (default 0.0.0.0)
  --dir <path>                    working directory for the AOF (default .)
  --appendonly yes|no             append-only file persistence (default yes)
  --appendfilename <name>         AOF file name in --dir (default database.aof)
  -aof <path>                     AOF path (the seed's flag; implies --appendonly yes)
  --appendfsync always|everysec|no  fsync policy (default everysec)
  --aof-load-truncated yes|no     load an AOF whose last command was cut off (default yes)
  --auto-aof-rewrite-percentage <n>  growth that triggers a rewrite (default 100)
  --auto-aof-rewrite-min-size <bytes>  minimum size for automatic rewrite (default 64mb)
  --databases <n>                 number of databases (default 16)
  --loglevel debug|verbose|notice|warning|nothing  (default notice)
  --notify-keyspace-events <flags>  keyspace notifications (default off)
  --transport deno|node           socket layer (default deno)
  -h, --help                      show this help
  -v, --version                   show the version`;

/**
 * Turns `-port` into `--port` so parseArgs sees the seed's flags as long
 * ones, and drops a leading `--` (`deno task start -- --port 7000`).
 */
function normaliseSingleDash(argv: readonly string[]): string[] {
  const flags = argv[0] === "--" ? argv.slice(1) : argv;
  return flags.map((arg) => /^-[a-z][a-z-]+(=.*)?$/.test(arg) ? `-${arg}` : arg);
}

/** Parses the command line; throws ConfigError with one clear line on bad input. */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  let parsed;
  try {
    parsed = parseArgs({
      args: normaliseSingleDash(argv),
      options: FLAG_OPTIONS,
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new ConfigError((error as Error).message.split("\n")[0]!);
  }
  const values = parsed.values;
  if (values.help) return { action: "help" };
  if (values.version) return { action: "version" };
  const config = defaultConfig();
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== "string") continue;
    if (name === "aof") {
      config.appendonly = true;
      config.appendfilename = value;
      continue;
    }
    const parameter = PARAMETERS.get(name);
    if (!parameter?.set) throw new ConfigError(`Unknown option --${name}`);
    const problem = parameter.set(config, value);
    if (problem) throw new ConfigError(`Invalid value for --${name}: '${value}' (${problem})`);
  }
  return { action: "serve", config };
}

/**
 * A parameter CONFIG GET/SET can see. `set` returns a problem in Redis's
 * words (CONFIG SET quotes it after "- "), or undefined.
 */
export interface ConfigParameter {
  name: string;
  get(config: Config): string;
  set?(config: Config, value: string): string | undefined;
  /** Can be changed with CONFIG SET at run time. */
  mutable?: boolean;
}

function yesNo(value: string): boolean | undefined {
  const lower = value.toLowerCase();
  return lower === "yes" ? true : lower === "no" ? false : undefined;
}

/** Redis's memory units: 1k = 1000, 1kb = 1024, and so on. */
export function parseMemory(value: string): number | undefined {
  const match = /^(\d+)(k|kb|m|mb|g|gb)?$/i.exec(value);
  if (!match) return undefined;
  const units: Record<string, number> = {
    "": 1,
    k: 1e3,
    kb: 1024,
    m: 1e6,
    mb: 1024 ** 2,
    g: 1e9,
    gb: 1024 ** 3,
  };
  return Number(match[1]) * units[(match[2] ?? "").toLowerCase()]!;
}

function integerIn(min: number, max: number, apply: (config: Config, n: number) => void) {
  return (config: Config, value: string) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value)) return "argument couldn't be parsed into an integer";
    if (n < min || n > max) return `argument must be between ${min} and ${max} inclusive`;
    apply(config, n);
    return undefined;
  };
}

function choice<T extends string>(choices: readonly T[], apply: (config: Config, v: T) => void) {
  return (config: Config, value: string) => {
    const lower = value.toLowerCase() as T;
    if (!choices.includes(lower)) {
      return `argument(s) must be one of the following: ${choices.join(", ")}`;
    }
    apply(config, lower);
    return undefined;
  };
}

function boolean(apply: (config: Config, value: boolean) => void) {
  return (config: Config, value: string) => {
    const parsed = yesNo(value);
    if (parsed === undefined) return "argument must be 'yes' or 'no'";
    apply(config, parsed);
    return undefined;
  };
}

const PARAMETER_LIST: ConfigParameter[] = [
  {
    name: "port",
    get: (c) => String(c.port),
    set: integerIn(0, 65535, (c, n) => c.port = n),
  },
  { name: "bind", get: (c) => c.bind, set: (c, v) => void (c.bind = v) },
  { name: "dir", get: (c) => c.dir, set: (c, v) => void (c.dir = v) },
  {
    name: "appendonly",
    get: (c) => c.appendonly ? "yes" : "no",
    set: boolean((c, v) => c.appendonly = v),
  },
  {
    name: "appendfilename",
    get: (c) => c.appendfilename,
    set: (c, v) => void (c.appendfilename = v),
  },
  {
    name: "appendfsync",
    get: (c) => c.appendfsync,
    set: choice(["always", "everysec", "no"] as const, (c, v) => c.appendfsync = v),
    mutable: true,
  },
  {
    name: "aof-load-truncated",
    get: (c) => c.aofLoadTruncated ? "yes" : "no",
    set: boolean((c, v) => c.aofLoadTruncated = v),
    mutable: true,
  },
  {
    name: "auto-aof-rewrite-percentage",
    get: (c) => String(c.autoAofRewritePercentage),
    set: integerIn(0, 2147483647, (c, n) => c.autoAofRewritePercentage = n),
    mutable: true,
  },
  {
    name: "auto-aof-rewrite-min-size",
    get: (c) => String(c.autoAofRewriteMinSize),
    set: (c, v) => {
      const bytes = parseMemory(v);
      if (bytes === undefined) return "argument must be a memory value";
      c.autoAofRewriteMinSize = bytes;
      return undefined;
    },
    mutable: true,
  },
  {
    name: "loglevel",
    get: (c) => c.loglevel,
    set: choice(
      ["debug", "verbose", "notice", "warning", "nothing"] as const,
      (c, v) => c.loglevel = v,
    ),
    mutable: true,
  },
  {
    name: "databases",
    get: (c) => String(c.databases),
    set: integerIn(1, 1_000_000, (c, n) => c.databases = n),
  },
  {
    name: "notify-keyspace-events",
    get: (c) => c.notifyKeyspaceEvents,
    set: (c, v) => {
      const flags = parseNotifyFlags(v);
      if (flags === undefined) return INVALID_NOTIFY_FLAGS;
      c.notifyKeyspaceEvents = formatNotifyFlags(flags);
      return undefined;
    },
    mutable: true,
  },
  {
    name: "transport",
    get: (c) => c.transport,
    set: choice(["node", "deno"] as const, (c, v) => c.transport = v),
  },
  { name: "save", get: (c) => c.save, set: (c, v) => void (c.save = v), mutable: true },
  // Fixed values clients and tools commonly ask for.
  { name: "maxmemory", get: () => "0" },
  { name: "maxmemory-policy", get: () => "noeviction" },
  { name: "timeout", get: () => "0" },
  { name: "maxclients", get: () => "10000" },
  { name: "protected-mode", get: () => "no" },
  { name: "tcp-keepalive", get: () => "300" },
  { name: "proto-max-bulk-len", get: () => String(512 * 1024 * 1024) },
  { name: "client-query-buffer-limit", get: () => String(1024 * 1024 * 1024) },
  { name: "appenddirname", get: () => "appendonlydir" },
  { name: "aof-use-rdb-preamble", get: () => "no" },
  { name: "daemonize", get: () => "no" },
  { name: "cluster-enabled", get: () => "no" },
  { name: "requirepass", get: () => "" },
  { name: "slowlog-log-slower-than", get: () => "10000" },
  { name: "slowlog-max-len", get: () => "128" },
  { name: "hz", get: () => "10" },
];

/** Parameters by name, for CONFIG GET/SET and the command line. */
export const PARAMETERS: ReadonlyMap<string, ConfigParameter> = new Map(
  PARAMETER_LIST.map((parameter) => [parameter.name, parameter]),
);
