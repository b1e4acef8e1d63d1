/**
 * Redis's special parameters: the ones with their own grammar rather than a
 * plain type (config.c's `createSpecialConfig`): `save`, `dir`, `bind`,
 * `client-output-buffer-limit`, `oom-score-adj-values`,
 * `notify-keyspace-events`, `replicaof` and
 * `latency-tracking-info-percentiles`.
 *
 * Their quirks are Redis's and are kept on purpose: a config file's first
 * `save` line replaces the default points and later ones add to them;
 * `client-output-buffer-limit` changes only the classes it names; `dir` must
 * be an existing directory (Redis chdirs into it; here it is resolved to an
 * absolute path and checked, and the server uses it as the base of its
 * files); every CONFIG SET of these counts as a change.
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import { formatNotifyFlags, INVALID_NOTIFY_FLAGS, parseNotifyFlags } from "../notify_flags.ts";
import { binaryToText, quoteArgument, textToBinary } from "./arguments.ts";
import {
  formatDecimal,
  formatMemoryForRewrite,
  parseDecimal,
  parseLooseInteger,
  parseMemoryBig,
} from "./numbers.ts";
import { type ConfigParameter, type Parsed, typedParameter } from "./parameter.ts";
import type { ClientOutputBufferLimits, Config, OutputBufferLimit, SavePoint } from "./schema.ts";

function fail<T>(error: string): Parsed<T> {
  return { ok: false, error };
}

function field<K extends keyof Config>(key: K) {
  return {
    read: (config: Config) => config[key],
    write: (config: Config, value: Config[K]) => void (config[key] = value),
    inert: false,
  };
}

// save ----------------------------------------------------------------------

/** Redis's compiled-in save points (this server's default is none; see catalogue.ts). */
export const REDIS_DEFAULT_SAVE_POINTS: readonly SavePoint[] = [
  { seconds: 3600, changes: 1 },
  { seconds: 300, changes: 100 },
  { seconds: 60, changes: 10000 },
];

/** `save` as CONFIG GET shows it: `3600 1 300 100`, or "" for none. */
export function formatSavePoints(points: readonly SavePoint[]): string {
  return points.map((point) => `${point.seconds} ${point.changes}`).join(" ");
}

/** `save <seconds> <changes> ...` (or `save ""`), kept in `save` and `savePoints`. */
export function saveParameter(defaultPoints: readonly SavePoint[]): ConfigParameter {
  return typedParameter<SavePoint[]>({
    name: "save",
    type: "special",
    multiArgument: true,
    alwaysChanged: true,
    defaultValue: defaultPoints.map((point) => ({ ...point })),
    store: {
      read: (config) => config.savePoints,
      write: (config, points) => {
        config.savePoints = points;
        config.save = formatSavePoints(points);
      },
      inert: false,
    },
    parse: (rawArgs, context, config) => {
      const args = rawArgs.length === 1 && rawArgs[0] === "" ? [] : rawArgs;
      if (args.length % 2 !== 0) return fail("Invalid save parameters");
      const numbers: bigint[] = [];
      for (const [index, arg] of args.entries()) {
        const value = parseLooseInteger(arg);
        if (value === undefined || value < (index % 2 === 0 ? 1n : 0n)) {
          return fail("Invalid save parameters");
        }
        numbers.push(value);
      }
      const points: SavePoint[] = [];
      for (let i = 0; i < numbers.length; i += 2) {
        // `changes` is a C int in Redis: larger values wrap the same way.
        const changes = Number(BigInt.asIntN(32, numbers[i + 1]!));
        points.push({ seconds: Number(numbers[i]), changes });
      }
      // In a file, the first save line replaces the defaults and later ones add to them;
      // `save ""` always starts over.
      const load = context.load;
      if (context.readingFile && load?.saveSeen && args.length > 0) {
        return { ok: true, value: [...config.savePoints, ...points] };
      }
      if (load) load.saveSeen = true;
      return { ok: true, value: points };
    },
    format: formatSavePoints,
    rewrite: (_config, state, points) => {
      if (points.length === 0) {
        state.rewriteLine("save", 'save ""', true);
      } else {
        for (const point of points) {
          state.rewriteLine("save", `save ${point.seconds} ${point.changes}`, true);
        }
      }
      state.markProcessed("save");
    },
  });
}

// dir -----------------------------------------------------------------------

/** `dir` as CONFIG GET shows it: absolute, resolved against the process's directory. */
export function absoluteDir(config: Config): string {
  const dir = binaryToText(config.dir);
  return textToBinary(isAbsolute(dir) ? dir : resolve(dir));
}

function directoryProblem(path: string): string | undefined {
  try {
    if (!Deno.statSync(path).isDirectory) return "Not a directory";
    return undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "No such file or directory";
    if (error instanceof Deno.errors.PermissionDenied) return "Permission denied";
    if (error instanceof Deno.errors.NotADirectory) return "Not a directory";
    return (error as Error).message;
  }
}

/** `dir`: must be an existing directory; relative paths resolve against the current `dir`. */
export function dirParameter(): ConfigParameter {
  const parameter = typedParameter<string>({
    name: "dir",
    type: "special",
    protected: true,
    denyLoading: true,
    alwaysChanged: true,
    defaultValue: ".",
    store: field("dir"),
    parse: (args, _context, config) => {
      if (args.length !== 1) return fail("wrong number of arguments");
      const path = resolve(binaryToText(absoluteDir(config)), binaryToText(args[0]!));
      const unusable = directoryProblem(path);
      return unusable === undefined ? { ok: true, value: textToBinary(path) } : fail(unusable);
    },
    format: (value) => value,
    // Redis writes the working directory whatever it is (its default is "wherever it started").
    rewrite: (config, state) =>
      state.rewriteLine("dir", `dir ${quoteArgument(absoluteDir(config))}`, true),
  });
  return { ...parameter, get: absoluteDir };
}

// client-output-buffer-limit ------------------------------------------------

const BUFFER_CLASSES = ["normal", "replica", "pubsub"] as const;
type BufferClass = (typeof BUFFER_CLASSES)[number];

/** Redis's defaults: normal unlimited, replica 256mb/64mb/60s, pubsub 32mb/8mb/60s. */
export function defaultOutputBufferLimits(): ClientOutputBufferLimits {
  return {
    normal: { hardBytes: 0, softBytes: 0, softSeconds: 0 },
    replica: { hardBytes: 256 * 1024 * 1024, softBytes: 64 * 1024 * 1024, softSeconds: 60 },
    pubsub: { hardBytes: 32 * 1024 * 1024, softBytes: 8 * 1024 * 1024, softSeconds: 60 },
  };
}

function bufferClass(name: string): BufferClass | "master" | undefined {
  const lower = name.toLowerCase();
  if (lower === "normal" || lower === "pubsub" || lower === "master") return lower;
  if (lower === "slave" || lower === "replica") return "replica";
  return undefined;
}

function sameLimit(a: OutputBufferLimit, b: OutputBufferLimit): boolean {
  return a.hardBytes === b.hardBytes && a.softBytes === b.softBytes &&
    a.softSeconds === b.softSeconds;
}

/** `client-output-buffer-limit <class> <hard> <soft> <seconds> ...`. */
export function clientOutputBufferLimitParameter(): ConfigParameter {
  const defaults = defaultOutputBufferLimits();
  return typedParameter<ClientOutputBufferLimits>({
    name: "client-output-buffer-limit",
    type: "special",
    multiArgument: true,
    alwaysChanged: true,
    defaultValue: defaults,
    store: {
      read: (config) => config.clientOutputBufferLimits,
      write: (config, limits) => void (config.clientOutputBufferLimits = structuredClone(limits)),
      inert: false,
    },
    parse: (args, _context, config) => {
      if (args.length % 4 !== 0) {
        return fail("Wrong number of arguments in buffer limit configuration.");
      }
      const limits = structuredClone(config.clientOutputBufferLimits);
      // Validate every class before changing any: all or nothing, as Redis.
      for (let i = 0; i < args.length; i += 4) {
        const kind = bufferClass(args[i]!);
        if (kind === undefined || kind === "master") {
          return fail("Invalid client class specified in buffer limit configuration.");
        }
        const hard = parseMemoryBig(args[i + 1]!);
        const soft = parseMemoryBig(args[i + 2]!);
        const seconds = parseLooseInteger(args[i + 3]!);
        if (hard === undefined || soft === undefined || seconds === undefined || seconds < 0n) {
          return fail("Error in hard, soft or soft_seconds setting in buffer limit configuration.");
        }
        limits[kind] = {
          hardBytes: Number(hard),
          softBytes: Number(soft),
          softSeconds: Number(seconds),
        };
      }
      return { ok: true, value: limits };
    },
    format: (limits) =>
      BUFFER_CLASSES.map((kind) => {
        const limit = limits[kind];
        const name = kind === "replica" ? "slave" : kind;
        return `${name} ${limit.hardBytes} ${limit.softBytes} ${limit.softSeconds}`;
      }).join(" "),
    rewrite: (_config, state, limits) => {
      for (const kind of BUFFER_CLASSES) {
        const limit = limits[kind];
        const hard = formatMemoryForRewrite(BigInt(limit.hardBytes));
        const soft = formatMemoryForRewrite(BigInt(limit.softBytes));
        state.rewriteLine(
          "client-output-buffer-limit",
          `client-output-buffer-limit ${kind} ${hard} ${soft} ${limit.softSeconds}`,
          !sameLimit(limit, defaults[kind]),
        );
      }
    },
  });
}

// oom-score-adj-values --------------------------------------------------------

/** `oom-score-adj-values <master> <replica> <bgchild>` (stored; no effect here). */
export function oomScoreAdjValuesParameter(): ConfigParameter {
  const defaults = [0, 200, 800];
  const parse = (args: readonly string[], warn?: (message: string) => void): Parsed<number[]> => {
    if (args.length !== 3) return fail("wrong number of arguments");
    const values: number[] = [];
    for (const arg of args) {
      const value = parseLooseInteger(arg);
      if (value === undefined || value < -2000n || value > 2000n) {
        return fail("Invalid oom-score-adj-values, elements must be between -2000 and 2000.");
      }
      values.push(Number(value));
    }
    if (values[1]! < values[0]! || values[2]! < values[1]!) {
      warn?.(
        "The oom-score-adj-values configuration may not work for non-privileged processes! " +
          "Please consult the documentation.",
      );
    }
    return { ok: true, value: values };
  };
  const format = (values: readonly number[]) => values.join(" ");
  return typedParameter<number[]>({
    name: "oom-score-adj-values",
    type: "special",
    multiArgument: true,
    defaultValue: defaults,
    store: {
      read: (config) => {
        const text = config.inertParameters["oom-score-adj-values"];
        return text === undefined ? defaults : text.split(" ").map(Number);
      },
      write: (config, values) =>
        void (config.inertParameters["oom-score-adj-values"] = format(values)),
      inert: true,
    },
    parse: (args, context) => parse(args, context.warn),
    format,
    rewrite: (_config, state, values) =>
      state.rewriteLine(
        "oom-score-adj-values",
        `oom-score-adj-values ${format(values)}`,
        values.some((value, index) => value !== defaults[index]),
      ),
  });
}

// notify-keyspace-events ----------------------------------------------------

/** `notify-keyspace-events <letters>`, kept in canonical order (`KEA` reads back `AKE`). */
export function notifyKeyspaceEventsParameter(): ConfigParameter {
  return typedParameter<string>({
    name: "notify-keyspace-events",
    type: "special",
    alwaysChanged: true,
    defaultValue: "",
    store: field("notifyKeyspaceEvents"),
    parse: ([text]) => {
      const flags = parseNotifyFlags(text!);
      if (flags === undefined) return fail(INVALID_NOTIFY_FLAGS);
      return { ok: true, value: formatNotifyFlags(flags) };
    },
    format: (value) => value,
    rewrite: (_config, state, value) =>
      state.rewriteLine(
        "notify-keyspace-events",
        `notify-keyspace-events ${quoteArgument(value)}`,
        value !== "",
      ),
  });
}

// bind ----------------------------------------------------------------------

/** Redis's default `bind`: every IPv4 address, and every IPv6 one if available. */
export const DEFAULT_BIND = "* -::*";
const MAX_BIND_ADDRESSES = 16;

/** `bind <address> ...` (`-` marks an address that may fail to bind). */
export function bindParameter(): ConfigParameter {
  return typedParameter<string>({
    name: "bind",
    type: "special",
    multiArgument: true,
    alwaysChanged: true,
    defaultValue: DEFAULT_BIND,
    store: field("bind"),
    parse: (rawArgs) => {
      if (rawArgs.length > MAX_BIND_ADDRESSES) return fail("Too many bind addresses specified.");
      const args = rawArgs.length === 1 && rawArgs[0] === "" ? [] : rawArgs;
      return { ok: true, value: args.join(" ") };
    },
    format: (value) => value,
    rewrite: (_config, state, value) => {
      if (value === DEFAULT_BIND) {
        state.markProcessed("bind");
        return;
      }
      state.rewriteLine("bind", `bind ${value === "" ? '""' : value}`, true);
    },
  });
}

/** One `bind` address: `optional` when written with a leading `-`. */
export interface BindAddress {
  address: string;
  optional: boolean;
}

/**
 * Reads `Config.bind` into addresses for the listener. `*` is every IPv4
 * address (`0.0.0.0`), `::*` every IPv6 one (`::`); a `-` prefix means a
 * failure to bind that address is not fatal (Redis's default `* -::*` binds
 * IPv6 only where the host has it).
 *
 * @example
 * ```ts
 * parseBind("* -::*"); // [{ address: "*", optional: false }, { address: "::*", optional: true }]
 * ```
 */
export function parseBind(bind: string): BindAddress[] {
  return bind.split(" ").filter((word) => word !== "").map((word) =>
    word.startsWith("-")
      ? { address: word.slice(1), optional: true }
      : { address: word, optional: false }
  );
}

/** The address to hand to a socket API for one bind entry (`*` → `0.0.0.0`, `::*` → `::`). */
export function listenAddress(address: string): string {
  return address === "*" ? "0.0.0.0" : address === "::*" ? "::" : address;
}

// replicaof -----------------------------------------------------------------

/** `replicaof <host> <port>` or `replicaof no one`. */
export function replicaofParameter(): ConfigParameter {
  return typedParameter<Config["replicaof"]>({
    name: "replicaof",
    alias: "slaveof",
    type: "special",
    immutable: true,
    multiArgument: true,
    alwaysChanged: true,
    defaultValue: undefined,
    store: field("replicaof"),
    parse: (args) => {
      if (args.length !== 2) return fail("wrong number of arguments");
      if (args[0]!.toLowerCase() === "no" && args[1]!.toLowerCase() === "one") {
        return { ok: true, value: undefined };
      }
      const port = /^[ \t\n\v\f\r]*[+-]?[0-9]+$/.test(args[1]!) ? Number(args[1]) : NaN;
      if (!(port >= 0 && port <= 65535)) return fail("Invalid master port");
      return { ok: true, value: { host: args[0]!, port } };
    },
    format: (value) => value === undefined ? "" : `${value.host} ${value.port}`,
    rewrite: (config, state, value) => {
      if (value === undefined || config.inertParameters["cluster-enabled"] === "yes") {
        state.markProcessed("replicaof");
        return;
      }
      state.rewriteLine("replicaof", `replicaof ${value.host} ${value.port}`, true);
    },
  });
}

// latency-tracking-info-percentiles -----------------------------------------

/** `latency-tracking-info-percentiles <p> ...`, each between 0 and 100. */
export function latencyPercentilesParameter(): ConfigParameter {
  const format = (values: readonly number[]) => values.map(formatDecimal).join(" ");
  return typedParameter<number[]>({
    name: "latency-tracking-info-percentiles",
    type: "special",
    multiArgument: true,
    alwaysChanged: true,
    defaultValue: [50, 99, 99.9],
    store: field("latencyTrackingInfoPercentiles"),
    parse: (rawArgs) => {
      const args = rawArgs.length === 1 && rawArgs[0] === "" ? [] : rawArgs;
      const values: number[] = [];
      for (const arg of args) {
        const value = parseDecimal(arg);
        if (value === undefined) {
          return fail("Invalid latency-tracking-info-percentiles parameters");
        }
        if (value > 100 || value < 0) {
          return fail(
            "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
          );
        }
        values.push(value);
      }
      return { ok: true, value: values };
    },
    format,
    rewrite: (_config, state, values) =>
      state.rewriteLine(
        "latency-tracking-info-percentiles",
        `latency-tracking-info-percentiles ${values.length === 0 ? '""' : format(values)}`,
        true,
      ),
  });
}
