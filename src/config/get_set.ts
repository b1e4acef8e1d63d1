/**
 * CONFIG GET and CONFIG SET as pure functions over a `Config`, with Redis
 * 7.0's replies and error texts; the command handlers only encode the result.
 *
 * CONFIG SET is atomic as in config.c's `configSetCommand`: every name is
 * checked first (unknown, immutable, protected, loading, duplicate), then
 * all values are set; if one is refused, every value of the command is put
 * back. Then the changes are applied to the running server (rebinding,
 * raising the descriptor limit, changing the fsync policy): the server
 * registers what to do per parameter on a `ConfigChangeListeners`, and if
 * one of those fails the whole command is rolled back and the listeners run
 * again with the old values, as Redis's `restoreBackupConfig` does.
 *
 * @module
 */

import { globMatch } from "../store/glob.ts";
import { lookupParameter, PARAMETERS, primaryParameter } from "./catalogue.ts";
import type { ConfigParameter } from "./parameter.ts";
import type { Config } from "./schema.ts";

/**
 * CONFIG GET: name/value pairs for every parameter a pattern matches, each
 * once. Patterns are Redis globs, case-insensitive; one without glob
 * characters is an exact lookup that also finds hidden parameters and
 * answers with the name as written (`CONFIG GET PORT` → `PORT`), as Redis
 * 7.0 does. Aliases are entries of their own (`hash-max-ziplist-entries`
 * answers under that name).
 *
 * @example
 * ```ts
 * configGet(defaultConfig(), ["maxmemory*"]);
 * // [["maxmemory", "0"], ["maxmemory-policy", "noeviction"], ...]
 * ```
 */
export function configGet(config: Config, patterns: readonly string[]): [string, string][] {
  const matches = new Map<string, [string, ConfigParameter]>();
  for (const pattern of patterns) {
    if (!/[[*?]/.test(pattern)) {
      const key = pattern.toLowerCase();
      const entry = lookupParameter(pattern);
      if (entry && !matches.has(key)) matches.set(key, [pattern, entry]);
      continue;
    }
    for (const [name, entry] of PARAMETERS) {
      if (entry.hidden || matches.has(name)) continue;
      if (globMatch(pattern, name, true)) matches.set(name, [name, entry]);
    }
  }
  return [...matches.values()].map(([name, entry]) => [name, entry.get(config)]);
}

/** An apply step that failed: which parameter it was for, and Redis's words for why. */
export interface ApplyFailure {
  name: string;
  error: string;
}

/**
 * Applies changed parameters (primary names) to the running server. With
 * `stopAtFailure` it stops at the first failure (CONFIG SET); without, it
 * runs everything and reports every failure (the rollback pass).
 */
export type ApplyChanges = (
  config: Config,
  changed: readonly string[],
  stopAtFailure: boolean,
) => ApplyFailure[];

export interface ConfigSetOptions {
  /** The client is connected over loopback or a Unix socket (`enable-protected-configs local`). */
  localClient?: boolean;
  /** The dataset is still loading: deny-loading parameters answer -LOADING. */
  loading?: boolean;
  /** Applies the changes to the server; a failure rolls the command back. */
  apply?: ApplyChanges;
}

export type ConfigSetResult =
  | {
    ok: true;
    /** Primary names of the parameters whose value changed, in argument order. */
    changed: string[];
    /** Indices (in the name/value list) of values to redact from logs and MONITOR. */
    sensitiveArguments: number[];
    warnings: string[];
  }
  | { ok: false; error: string; sensitiveArguments: number[]; warnings: string[] };

const LOADING_ERROR = "LOADING Redis is loading the dataset in memory";

function setFailed(name: string, reason?: string): string {
  return reason === undefined
    ? `ERR CONFIG SET failed (possibly related to argument '${name}')`
    : `ERR CONFIG SET failed (possibly related to argument '${name}') - ${reason}`;
}

function restore(config: Config, snapshot: Config): void {
  Object.assign(config, snapshot);
}

/**
 * CONFIG SET: `args` is the name/value list after `CONFIG SET`. Either every
 * pair is set and applied, or none is and `error` is the reply (with its
 * `ERR`/`LOADING` prefix).
 *
 * @example
 * ```ts
 * const config = defaultConfig();
 * configSet(config, ["maxmemory", "1mb", "maxmemory-policy", "allkeys-lru"]);
 * // { ok: true, changed: ["maxmemory", "maxmemory-policy"], ... }
 * configSet(config, ["maxmemory", "lots"]).ok; // false, nothing changed
 * ```
 */
export function configSet(
  config: Config,
  args: readonly string[],
  options: ConfigSetOptions = {},
): ConfigSetResult {
  const warnings: string[] = [];
  const sensitiveArguments: number[] = [];
  if (args.length < 2) {
    return {
      ok: false,
      error: "ERR wrong number of arguments for 'config|set' command",
      sensitiveArguments,
      warnings,
    };
  }
  if (args.length % 2 !== 0) {
    return { ok: false, error: "ERR syntax error", sensitiveArguments, warnings };
  }
  const allowProtected = config.enableProtectedConfigs === "yes" ||
    (config.enableProtectedConfigs === "local" && options.localClient === true);
  const entries: ConfigParameter[] = [];
  let unknownName: string | undefined;
  let refusal: string | undefined;
  let denyLoading = false;
  // Like Redis, keep looking after the first problem so every sensitive value is redacted.
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i]!;
    const entry = lookupParameter(name);
    if (!entry) {
      if (unknownName === undefined && refusal === undefined && !denyLoading) unknownName = name;
      continue;
    }
    if (entry.sensitive) sensitiveArguments.push(i + 1);
    if (unknownName !== undefined || refusal !== undefined || denyLoading) continue;
    if (!entry.mutable || (entry.protected && !allowProtected)) {
      refusal = setFailed(
        name,
        entry.mutable ? "can't set protected config" : "can't set immutable config",
      );
      continue;
    }
    if (options.loading && entry.denyLoading) {
      denyLoading = true;
      continue;
    }
    if (entries.includes(entry)) {
      refusal = setFailed(name, "duplicate parameter");
      continue;
    }
    entries.push(entry);
  }
  const refused = denyLoading
    ? LOADING_ERROR
    : unknownName !== undefined
    ? `ERR Unknown option or number of arguments for CONFIG SET - '${unknownName}'`
    : refusal;
  if (refused !== undefined) return { ok: false, error: refused, sensitiveArguments, warnings };

  const snapshot = structuredClone(config);
  const changed: string[] = [];
  const nameInCommand = new Map<string, string>();
  for (const [index, entry] of entries.entries()) {
    const before = entry.get(config);
    const problem = entry.set(config, args[index * 2 + 1]!);
    if (problem !== undefined) {
      restore(config, snapshot);
      return { ok: false, error: setFailed(entry.name, problem), sensitiveArguments, warnings };
    }
    const primary = entry.isAlias ? entry.alias! : entry.name;
    if ((entry.alwaysChanged || entry.get(config) !== before) && !changed.includes(primary)) {
      changed.push(primary);
      nameInCommand.set(primary, entry.name);
    }
  }

  const failure = changed.length > 0 ? options.apply?.(config, changed, true)[0] : undefined;
  if (failure) {
    const name = nameInCommand.get(failure.name) ?? failure.name;
    warnings.push(
      `Failed applying new configuration. Possibly related to new ${name} setting. ` +
        "Restoring previous settings.",
    );
    restore(config, snapshot);
    for (const again of options.apply!(config, changed, false)) {
      warnings.push(`Failed applying restored failed CONFIG SET command: ${again.error}`);
    }
    return { ok: false, error: setFailed(name, failure.error), sensitiveArguments, warnings };
  }
  return { ok: true, changed, sensitiveArguments, warnings };
}

/**
 * A change listener: gets the config (already holding the new values) and
 * the changed names it registered for; returns an error text in Redis's
 * words to refuse the change (`Unable to listen on this port. Check server
 * logs.`), or nothing.
 */
export type ChangeListener = (
  config: Config,
  changed: readonly string[],
) => string | undefined | void;

/**
 * What the server does when parameters change, registered per parameter.
 * Pass `listeners.apply` to `configSet`. A listener registered for several
 * names (`bind` and `port`) runs once per CONFIG SET however many of them
 * changed, like Redis's shared apply functions.
 *
 * @example
 * ```ts
 * const listeners = new ConfigChangeListeners();
 * listeners.onChange("appendfsync", (config) => void (aof.policy = config.appendfsync));
 * listeners.onChange(["bind", "port"], (config) => rebind(config) ? undefined : "Failed to bind");
 * configSet(server.config, args, { apply: listeners.apply });
 * ```
 */
export class ConfigChangeListeners {
  readonly #listeners: { names: ReadonlySet<string>; listener: ChangeListener }[] = [];

  /** Registers `listener` for parameter names or aliases; returns its removal. */
  onChange(names: string | readonly string[], listener: ChangeListener): () => void {
    const primaries = new Set<string>();
    for (const name of typeof names === "string" ? [names] : names) {
      const parameter = primaryParameter(name);
      if (!parameter) throw new Error(`Unknown configuration parameter '${name}'`);
      primaries.add(parameter.name);
    }
    const registration = { names: primaries, listener };
    this.#listeners.push(registration);
    return () => {
      const index = this.#listeners.indexOf(registration);
      if (index >= 0) this.#listeners.splice(index, 1);
    };
  }

  /** Runs the listeners concerned by `changed`, in registration order. */
  readonly apply: ApplyChanges = (config, changed, stopAtFailure) => {
    const failures: ApplyFailure[] = [];
    for (const { names, listener } of [...this.#listeners]) {
      const relevant = changed.filter((name) => names.has(name));
      if (relevant.length === 0) continue;
      const error = listener(config, relevant);
      if (typeof error === "string") {
        failures.push({ name: relevant[0]!, error });
        if (stopAtFailure) break;
      }
    }
    return failures;
  };
}
