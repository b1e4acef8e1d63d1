/**
 * What a configuration parameter is, and builders for Redis's parameter
 * types: yes/no booleans, integers with a range (plain, memory with units,
 * memory-or-percent, octal), enumerations, flag sets, and strings.
 *
 * This mirrors config.c's `standardConfig`: one record per parameter with
 * its flags and a type interface (set, get, rewrite), so CONFIG GET, CONFIG
 * SET, config files and CONFIG REWRITE all read and write a parameter
 * through the same code and report the same error texts. Each builder's
 * error strings are Redis 7.0.15's, checked against redis-server.
 *
 * A parameter is stored in a typed `Config` field when something in the
 * server can act on it, and otherwise in `config.inertParameters` as the
 * text CONFIG GET shows (re-read through the same parser when needed): the
 * `inert` flag says which.
 *
 * @module
 */

import { quoteArgument, splitOnSpaces } from "./arguments.ts";
import {
  formatMemoryForRewrite,
  INT64_MAX,
  parseMemoryBig,
  parseOctal,
  parseStrictInteger,
  UINT64_MAX,
} from "./numbers.ts";
import type { RewriteState } from "./rewrite_state.ts";
import type { Config } from "./schema.ts";

/** Redis's parameter types, as this catalogue groups them. */
export type ParameterType =
  | "bool"
  | "integer"
  | "memory"
  | "memory-or-percent"
  | "octal"
  | "enum"
  | "flags"
  | "string"
  | "special";

/** Where a value is being set from; some parameters behave differently while a file loads. */
export interface SetContext {
  /** A config file line or command-line option rather than CONFIG SET. */
  readonly readingFile: boolean;
  /** Per-load memory: `save` resets the defaults on its first line only. */
  readonly load?: { saveSeen: boolean };
  /** Receives warnings Redis would log (the caller logs them). */
  readonly warn?: (message: string) => void;
}

const CONFIG_SET_CONTEXT: SetContext = { readingFile: false };

/**
 * A parameter CONFIG GET/SET, config files and CONFIG REWRITE know. An alias
 * (`hash-max-ziplist-entries`) is a separate entry whose `name` is the alias
 * and whose `alias` is the primary name, as in Redis's configs dictionary.
 * `set` returns a problem in Redis's words (CONFIG SET quotes it after "- "),
 * or undefined.
 */
export interface ConfigParameter {
  readonly name: string;
  /** On a primary entry: its alias. On an alias entry: the primary's name. */
  readonly alias: string | undefined;
  readonly isAlias: boolean;
  readonly type: ParameterType;
  /** CONFIG SET may change it (Redis's MODIFIABLE_CONFIG). */
  readonly mutable: boolean;
  /** CONFIG SET needs `enable-protected-configs` (Redis's PROTECTED_CONFIG). */
  readonly protected: boolean;
  /** Not matched by CONFIG GET patterns, only by its exact name (HIDDEN_CONFIG). */
  readonly hidden: boolean;
  /** Its value must be redacted from logs, SLOWLOG and MONITOR (SENSITIVE_CONFIG). */
  readonly sensitive: boolean;
  /** Takes several words (`save 900 1`); CONFIG SET splits its value on spaces. */
  readonly multiArgument: boolean;
  /** Refused with -LOADING while the dataset loads (DENY_LOADING_CONFIG). */
  readonly denyLoading: boolean;
  /** Has no effect in this server: accepted, validated, stored and reported only. */
  readonly inert: boolean;
  /** A set always counts as a change, even to the same value (Redis's special configs). */
  readonly alwaysChanged: boolean;
  /** The start-up value, as CONFIG GET shows it. */
  readonly defaultValue: string;
  get(config: Config): string;
  /** CONFIG SET: `value` is split on spaces for multi-argument parameters. */
  set(config: Config, value: string): string | undefined;
  /** A config file line's words after the name (or a command-line option's). */
  setArguments(config: Config, args: readonly string[], context: SetContext): string | undefined;
  /** Puts the default value in place (builds `defaultConfig()`). */
  reset(config: Config): void;
  /** Writes this parameter's lines for CONFIG REWRITE. */
  rewrite(config: Config, state: RewriteState): void;
}

/** What every parameter declaration can say besides its type. */
export interface CommonSpec {
  name: string;
  alias?: string;
  immutable?: boolean;
  protected?: boolean;
  hidden?: boolean;
  sensitive?: boolean;
  denyLoading?: boolean;
}

/** A parsed value, or the problem text. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

function problem<T>(error: string): Parsed<T> {
  return { ok: false, error };
}

/** The keys of `Config` whose type is exactly `V`. */
export type FieldOf<V> = {
  [K in keyof Config]-?: [Config[K]] extends [V] ? ([V] extends [Config[K]] ? K : never) : never;
}[keyof Config];

/** The string-typed keys of `Config` that can hold every value of `V` (enumerations). */
export type EnumFieldOf<V extends string> = {
  [K in keyof Config]-?: [V] extends [Config[K]] ? (Config[K] extends string ? K : never) : never;
}[keyof Config];

/** How a value of type T is kept in a Config: a typed field or the inert table. */
interface Store<T> {
  read(config: Config): T;
  write(config: Config, value: T): void;
  readonly inert: boolean;
}

function fieldStore<T>(field: keyof Config): Store<T> {
  const record = (config: Config) => config as unknown as Record<string, T>;
  return {
    read: (config) => record(config)[field]!,
    write: (config, value) => void (record(config)[field] = value),
    inert: false,
  };
}

function inertStore<T>(
  name: string,
  format: (value: T) => string,
  parse: (text: string) => T,
  defaultValue: T,
): Store<T> {
  return {
    read: (config) => {
      const text = config.inertParameters[name];
      return text === undefined ? defaultValue : parse(text);
    },
    write: (config, value) => void (config.inertParameters[name] = format(value)),
    inert: true,
  };
}

/** The shared parts of a typed parameter: storage, parsing, formatting, rewriting. */
interface TypedSpec<T> extends CommonSpec {
  type: ParameterType;
  multiArgument?: boolean;
  defaultValue: T;
  store: Store<T>;
  /** Reads a value; `config` is the one being set (some parameters build on its value). */
  parse(args: readonly string[], context: SetContext, config: Config): Parsed<T>;
  format(value: T): string;
  equal?(a: T, b: T): boolean;
  /** Redis's rewrite function for the type. */
  rewrite(config: Config, state: RewriteState, value: T): void;
  alwaysChanged?: boolean;
}

/** Builds a parameter record from its typed parts. */
export function typedParameter<T>(spec: TypedSpec<T>): ConfigParameter {
  const name = spec.name;
  const multiArgument = spec.multiArgument ?? false;
  const setArguments = (config: Config, args: readonly string[], context: SetContext) => {
    const parsed = spec.parse(args, context, config);
    if (!parsed.ok) return parsed.error;
    spec.store.write(config, parsed.value);
    return undefined;
  };
  return {
    name,
    alias: spec.alias,
    isAlias: false,
    type: spec.type,
    mutable: !spec.immutable,
    protected: spec.protected ?? false,
    hidden: spec.hidden ?? false,
    sensitive: spec.sensitive ?? false,
    multiArgument,
    denyLoading: spec.denyLoading ?? false,
    inert: spec.store.inert,
    alwaysChanged: spec.alwaysChanged ?? false,
    defaultValue: spec.format(spec.defaultValue),
    get: (config) => spec.format(spec.store.read(config)),
    set: (config, value) =>
      setArguments(config, multiArgument ? splitOnSpaces(value) : [value], CONFIG_SET_CONTEXT),
    setArguments,
    // A copy, so configurations never share a default array or object.
    reset: (config) => spec.store.write(config, structuredClone(spec.defaultValue)),
    rewrite: (config, state) => spec.rewrite(config, state, spec.store.read(config)),
  };
}

/** The entry an alias name finds: the primary's behaviour under the alias's name. */
export function aliasEntry(primary: ConfigParameter): ConfigParameter {
  return { ...primary, name: primary.alias!, alias: primary.name, isAlias: true };
}

// Booleans ------------------------------------------------------------------

export interface BooleanSpec extends CommonSpec {
  default: boolean;
  field?: FieldOf<boolean>;
  /** Refuses some values (Redis's is_valid_fn). */
  validate?: (value: boolean) => string | undefined;
}

function yesNo(value: boolean): string {
  return value ? "yes" : "no";
}

/** A `yes`/`no` parameter. */
export function booleanParameter(spec: BooleanSpec): ConfigParameter {
  return typedParameter<boolean>({
    ...spec,
    type: "bool",
    defaultValue: spec.default,
    store: spec.field
      ? fieldStore(spec.field)
      : inertStore(spec.name, yesNo, (text) => text === "yes", spec.default),
    parse: ([word]) => {
      const lower = word!.toLowerCase();
      if (lower !== "yes" && lower !== "no") return problem("argument must be 'yes' or 'no'");
      const value = lower === "yes";
      const invalid = spec.validate?.(value);
      return invalid === undefined ? ok(value) : problem(invalid);
    },
    format: yesNo,
    rewrite: (_config, state, value) =>
      state.rewriteLine(spec.name, `${spec.name} ${yesNo(value)}`, value !== spec.default),
  });
}

// Numbers -------------------------------------------------------------------

/** How a numeric parameter is written: plain, with memory units, `N%`, or octal. */
export type NumericUnit = "integer" | "memory" | "memory-or-percent" | "octal";

export interface NumericSpec extends CommonSpec {
  default: bigint;
  min: bigint;
  max: bigint;
  /** Compared as unsigned 64-bit, as Redis does for unsigned C types (-1 is out of range). */
  unsigned?: boolean;
  unit?: NumericUnit;
  field?: FieldOf<number>;
  /** Adjusts an accepted value (hz is capped to 1..500 rather than refused). */
  normalize?: (value: bigint) => bigint;
}

const TWO_TO_64 = 2n ** 64n;

function parseNumber(spec: NumericSpec, text: string): Parsed<bigint> {
  const unit = spec.unit ?? "integer";
  if (unit === "memory" || unit === "memory-or-percent") {
    const bytes = parseMemoryBig(text);
    if (bytes !== undefined) return ok(bytes);
  }
  if (unit === "memory-or-percent" && text.length > 1 && text.endsWith("%")) {
    const percent = parseStrictInteger(text.slice(0, -1));
    // Stored negated, as Redis does, so one integer holds either form.
    if (percent !== undefined && percent >= 0n) return ok(-percent);
  }
  if (unit === "octal") {
    const value = parseOctal(text);
    if (value !== undefined) return ok(value);
  }
  if (unit === "integer") {
    const value = parseStrictInteger(text);
    if (value !== undefined) return ok(value);
  }
  return problem(
    unit === "memory-or-percent"
      ? "argument must be a memory or percent value"
      : unit === "memory"
      ? "argument must be a memory value"
      : unit === "octal"
      ? "argument couldn't be parsed as an octal number"
      : "argument couldn't be parsed into an integer",
  );
}

function checkBounds(spec: NumericSpec, value: bigint): string | undefined {
  const unit = spec.unit ?? "integer";
  if (spec.unsigned) {
    const asUnsigned = value < 0n ? value + TWO_TO_64 : value;
    if (asUnsigned < spec.min || asUnsigned > spec.max) {
      const show = (n: bigint) => unit === "octal" ? n.toString(8) : String(n);
      return `argument must be between ${show(spec.min)} and ${show(spec.max)} inclusive`;
    }
    return undefined;
  }
  if (unit === "memory-or-percent" && value < 0n) {
    return value < spec.min
      ? `percentage argument must be less or equal to ${-spec.min}`
      : undefined;
  }
  if (value < spec.min || value > spec.max) {
    return `argument must be between ${spec.min} and ${spec.max} inclusive`;
  }
  return undefined;
}

function formatNumber(unit: NumericUnit, value: bigint): string {
  if (unit === "memory-or-percent" && value < 0n) return `${-value}%`;
  if (unit === "octal") return value.toString(8);
  return String(value);
}

function numericFieldStore(name: string, field: FieldOf<number>): Store<bigint> {
  return {
    read: (config) => {
      const number = config[field];
      const exact = config.exactIntegers[name];
      if (exact !== undefined && Number(exact) === number) return BigInt(exact);
      return Number.isFinite(number) ? BigInt(Math.trunc(number)) : 0n;
    },
    write: (config, value) => {
      config[field] = Number(value);
      if (Number.isSafeInteger(config[field])) delete config.exactIntegers[name];
      else config.exactIntegers[name] = String(value);
    },
    inert: false,
  };
}

/** An integer parameter with a range, in one of Redis's notations. */
export function numericParameter(spec: NumericSpec): ConfigParameter {
  const unit = spec.unit ?? "integer";
  const parseText = (text: string): Parsed<bigint> => {
    const parsed = parseNumber(spec, text);
    if (!parsed.ok) return parsed;
    const outOfRange = checkBounds(spec, parsed.value);
    if (outOfRange !== undefined) return problem(outOfRange);
    return ok(spec.normalize ? spec.normalize(parsed.value) : parsed.value);
  };
  return typedParameter<bigint>({
    ...spec,
    type: unit,
    defaultValue: spec.default,
    store: spec.field
      ? numericFieldStore(spec.name, spec.field)
      : inertStore(spec.name, (value) => formatNumber(unit, value), (text) => {
        const parsed = parseNumber(spec, text);
        return parsed.ok ? parsed.value : spec.default;
      }, spec.default),
    parse: ([word]) => parseText(word!),
    format: (value) => formatNumber(unit, value),
    rewrite: (_config, state, value) => {
      let text: string;
      let force = value !== spec.default;
      if (unit === "memory-or-percent" && value < 0n) {
        text = `${-value}%`;
        force = -value !== spec.default;
      } else if (unit === "memory" || unit === "memory-or-percent") {
        text = formatMemoryForRewrite(value);
      } else {
        text = formatNumber(unit, value);
      }
      state.rewriteLine(spec.name, `${spec.name} ${text}`, force);
    },
  });
}

/** Common ranges, named as Redis's C limits. */
export const RANGE = {
  int: { min: -(2n ** 31n), max: 2n ** 31n - 1n },
  uint: 2n ** 32n - 1n,
  long: INT64_MAX,
  ulonglong: UINT64_MAX,
} as const;

// Enumerations --------------------------------------------------------------

export interface EnumSpec<E extends string> extends CommonSpec {
  values: readonly E[];
  /** Words that mean the same as an earlier one and read back as it (`relative` is `yes`). */
  synonyms?: Readonly<Record<string, E>>;
  default: E;
  field?: EnumFieldOf<E>;
  validate?: (value: E) => string | undefined;
}

function enumProblem(values: readonly string[]): string {
  return `argument(s) must be one of the following: ${values.join(", ")}`;
}

/** One word out of a fixed list (case-insensitive), shown in lower case. */
export function enumParameter<E extends string>(spec: EnumSpec<E>): ConfigParameter {
  return typedParameter<E>({
    ...spec,
    type: "enum",
    defaultValue: spec.default,
    store: spec.field
      ? fieldStore(spec.field)
      : inertStore(spec.name, (value) => value, (text) => text as E, spec.default),
    parse: ([word]) => {
      const lower = word!.toLowerCase();
      const value = spec.values.find((candidate) => candidate === lower);
      if (value === undefined) return problem(enumProblem(spec.values));
      const canonical = spec.synonyms?.[value] ?? value;
      const invalid = spec.validate?.(canonical);
      return invalid === undefined ? ok(canonical) : problem(invalid);
    },
    format: (value) => value,
    rewrite: (_config, state, value) =>
      state.rewriteLine(spec.name, `${spec.name} ${value}`, value !== spec.default),
  });
}

export interface FlagsSpec<F extends string> extends CommonSpec {
  /** The word for no flags (`default`), then the flags in the order Redis prints them. */
  none: string;
  flags: readonly F[];
  field?: FieldOf<F[]>;
  validate?: (flags: readonly F[]) => string | undefined;
}

/**
 * A set of flags written as words (`shutdown-on-sigint save now`): Redis's
 * multi-argument enumeration, where the `none` word adds nothing.
 */
export function flagsParameter<F extends string>(spec: FlagsSpec<F>): ConfigParameter {
  const words = [spec.none, ...spec.flags];
  const format = (flags: readonly F[]) => flags.length === 0 ? spec.none : flags.join(" ");
  const parse = (args: readonly string[]): Parsed<F[]> => {
    if (args.length === 0) return problem(enumProblem(words));
    const chosen = new Set<string>();
    for (const arg of args) {
      const word = words.find((candidate) => candidate === arg.toLowerCase());
      if (word === undefined) return problem(enumProblem(words));
      if (word !== spec.none) chosen.add(word);
    }
    const flags = spec.flags.filter((flag) => chosen.has(flag));
    const invalid = spec.validate?.(flags);
    return invalid === undefined ? ok(flags) : problem(invalid);
  };
  return typedParameter<F[]>({
    ...spec,
    type: "flags",
    multiArgument: true,
    defaultValue: [],
    store: spec.field ? fieldStore(spec.field) : inertStore(spec.name, format, (text) => {
      const parsed = parse(text.split(" "));
      return parsed.ok ? parsed.value : [];
    }, []),
    parse,
    format,
    rewrite: (_config, state, flags) =>
      state.rewriteLine(spec.name, `${spec.name} ${format(flags)}`, flags.length > 0),
  });
}

// Strings -------------------------------------------------------------------

export interface StringSpec extends CommonSpec {
  /** The default; `undefined` is Redis's NULL (shown as "", never written by REWRITE). */
  default?: string;
  /** An empty value means "not set" (Redis's EMPTY_STRING_IS_NULL). */
  emptyIsNull?: boolean;
  field?: FieldOf<string>;
  validate?: (value: string, config: Config) => string | undefined;
}

/** A free-form string parameter. */
export function stringParameter(spec: StringSpec): ConfigParameter {
  const nullable = spec.emptyIsNull ?? false;
  return typedParameter<string>({
    ...spec,
    type: "string",
    defaultValue: spec.default ?? "",
    store: spec.field
      ? fieldStore(spec.field)
      : inertStore(spec.name, (value) => value, (text) => text, spec.default ?? ""),
    parse: ([word], _context, config) => {
      const invalid = spec.validate?.(word!, config);
      return invalid === undefined ? ok(word!) : problem(invalid);
    },
    format: (value) => value,
    rewrite: (_config, state, value) => {
      if (nullable && value === "") {
        state.markProcessed(spec.name);
        return;
      }
      const force = spec.default === undefined || value !== spec.default;
      state.rewriteLine(spec.name, `${spec.name} ${quoteArgument(value)}`, force);
    },
  });
}
