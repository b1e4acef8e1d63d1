/**
 * Config files, as Redis's `loadServerConfigFromString`: lines, comments,
 * quoting, `include`, `rename-command`, `user`, and the FATAL CONFIG FILE
 * ERROR report.
 *
 * A file is read as bytes (binary strings, like every value the server
 * handles), split into lines, and each line is applied in order through the
 * parameter catalogue, so a file, the command line and CONFIG SET accept and
 * refuse exactly the same values. Like Redis, later lines win, except `save`
 * (the first `save` line replaces the default points, later ones add to
 * them), `user` and `rename-command` (collected in order for the ACL
 * subsystem and the command table), and `include` (read at the point where
 * it appears, relative to the current `dir`, with glob patterns allowed).
 *
 * The first bad line stops everything with a `ConfigError` whose message is
 * Redis's report, line number and line included, so a file that redis-server
 * refuses is refused here with the same words.
 *
 * @module
 */

import { isAbsolute, join, relative, resolve } from "node:path";
import { globMatch } from "../store/glob.ts";
import { binaryToText, splitArguments, splitLines } from "./arguments.ts";
import { lookupParameter } from "./catalogue.ts";
import type { SetContext } from "./parameter.ts";
import { type Config, ConfigError, VERSION } from "./schema.ts";
import { absoluteDir } from "./special.ts";

/** What the loader needs from the rest of the server, all optional. */
export interface LoadOptions {
  /**
   * Whether a command exists, to check `rename-command` as Redis does ("No
   * such command in rename-command"). Without it, renames are collected
   * unchecked for the command table to apply.
   */
  commandExists?: (name: string) => boolean;
  /**
   * Checks a `user` directive (its words after `user`); returns Redis's
   * reason (`Error in user declaration '...': ...`, as
   * ACLAppendUserForLoading words it) for a bad one.
   */
  validateUser?: (words: readonly string[]) => string | undefined;
  /** Reads a file as a binary string (default: the file system). */
  readFile?: (path: string) => string;
  /** Receives warnings Redis would log. */
  warn?: (message: string) => void;
}

/** State that lives for one whole load (a file, its includes and the command line). */
export class LoadSession {
  /** Redis's `save_loaded`: the first `save` line replaces the default points. */
  readonly save = { saveSeen: false };
  /** Module parameters (`name.option value`) waiting for a module that never comes. */
  readonly moduleParameters: string[] = [];
  readonly #removedCommands = new Set<string>();
  readonly #addedCommands = new Set<string>();

  constructor(readonly options: LoadOptions = {}) {}

  /** The command table as the renames so far left it. */
  commandExists(name: string): boolean {
    const lower = name.toLowerCase();
    if (this.#addedCommands.has(lower)) return true;
    if (this.#removedCommands.has(lower)) return false;
    return this.options.commandExists?.(lower) ?? false;
  }

  renameCommand(from: string, to: string): void {
    this.#removedCommands.add(from.toLowerCase());
    this.#addedCommands.delete(from.toLowerCase());
    if (to !== "") {
      this.#addedCommands.add(to.toLowerCase());
      this.#removedCommands.delete(to.toLowerCase());
    }
  }
}

/** Directives Redis 7.0 still accepts and ignores (exactly one argument each). */
const DEPRECATED_DIRECTIVES = new Set([
  "list-max-ziplist-entries",
  "list-max-ziplist-value",
  "lua-replicate-commands",
]);

/** Redis's FATAL CONFIG FILE ERROR report (without the empty line Redis prints first). */
export function fatalConfigError(reason: string, line?: { number: number; text: string }): string {
  const header = `*** FATAL CONFIG FILE ERROR (Redis ${VERSION}) ***\n`;
  const where = line
    ? `Reading the configuration file, at line ${line.number}\n>>> '${binaryToText(line.text)}'\n`
    : "";
  return header + where + binaryToText(reason);
}

function defaultReadFile(path: string): string {
  return new TextDecoder("latin1").decode(Deno.readFileSync(path));
}

/** strerror's words for a file system error. */
export function systemErrorText(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "No such file or directory";
  if (error instanceof Deno.errors.PermissionDenied) return "Permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "Is a directory";
  if (error instanceof Deno.errors.NotADirectory) return "Not a directory";
  return error instanceof Error ? error.message : String(error);
}

/** The directory relative paths in a config file are resolved against (Redis chdirs to `dir`). */
function workingDirectory(config: Config): string {
  return binaryToText(absoluteDir(config));
}

/**
 * Expands a glob path (`/etc/redis/conf.d/*.conf`) to existing files, sorted
 * as glob(3) does; relative patterns are matched under `base` and returned
 * relative.
 */
function expandGlob(pattern: string, base: string): string[] {
  const absolute = isAbsolute(pattern);
  const segments = pattern.split("/").filter((segment) => segment !== "");
  let paths = [absolute ? "/" : base];
  for (const segment of segments) {
    const next: string[] = [];
    for (const base of paths) {
      if (!/[*?[]/.test(segment)) {
        const candidate = join(base, segment);
        try {
          Deno.statSync(candidate);
          next.push(candidate);
        } catch {
          // glob(3) drops paths that do not exist.
        }
        continue;
      }
      let names: string[];
      try {
        names = [...Deno.readDirSync(base)].map((entry) => entry.name);
      } catch {
        continue;
      }
      for (const name of names.sort()) {
        if (name.startsWith(".") && !segment.startsWith(".")) continue;
        if (globMatch(segment, name)) next.push(join(base, name));
      }
    }
    paths = next;
  }
  return absolute ? paths : paths.map((path) => relative(base, path));
}

/**
 * Reads a config file (binary string); a relative `path` is under `base`.
 * Glob patterns that match nothing read as empty, as Redis allows an empty
 * `conf.d`; a missing plain path is a fatal `ConfigError` with Redis's
 * message, naming the path as written.
 */
export function readConfigFile(
  path: string,
  options: LoadOptions = {},
  base: string = Deno.cwd(),
): string {
  const read = options.readFile ?? defaultReadFile;
  const paths = /[*?[]/.test(path) ? expandGlob(path, base) : [path];
  let text = "";
  for (const file of paths) {
    try {
      text += read(isAbsolute(file) ? file : resolve(base, file));
    } catch (error) {
      throw new ConfigError(
        `Fatal error, can't open config file '${file}': ${systemErrorText(error)}`,
        "log",
      );
    }
  }
  return text;
}

/**
 * Applies config text to `config`, line by line, as Redis's
 * `loadServerConfigFromString`. Throws a `ConfigError` (kind `file`) with
 * Redis's report at the first bad line.
 *
 * @example
 * ```ts
 * const config = defaultConfig();
 * loadConfigText(config, "port 7000\nsave 900 1\nsave 300 10\n");
 * config.save; // "900 1 300 10"
 * ```
 */
export function loadConfigText(
  config: Config,
  text: string,
  session: LoadSession = new LoadSession(),
): void {
  const options = session.options;
  const context: SetContext = { readingFile: true, load: session.save, warn: options.warn };
  const lines = splitLines(text);
  for (const [index, line] of lines.entries()) {
    if (line.startsWith("#") || line === "") continue;
    const fail = (reason: string): never => {
      throw new ConfigError(fatalConfigError(reason, { number: index + 1, text: line }), "file");
    };
    const words = splitArguments(line);
    if (words === undefined) fail("Unbalanced quotes in configuration line");
    if (words!.length === 0) continue;
    const directive = words![0]!.toLowerCase();
    let args = words!.slice(1);
    const parameter = lookupParameter(directive);
    if (parameter) {
      if (!parameter.multiArgument && args.length !== 1) fail("wrong number of arguments");
      // As Redis does, so that `--save "60 10"` means `save 60 10`.
      if (parameter.multiArgument && args.length === 1 && args[0] !== "") {
        args = splitArguments(args[0]!) ?? fail("Unbalanced quotes in configuration line");
      }
      const problem = parameter.setArguments(config, args, context);
      if (problem !== undefined) fail(problem);
      continue;
    }
    if (DEPRECATED_DIRECTIVES.has(directive) && args.length === 1) continue;
    if (directive === "include" && args.length === 1) {
      const included = readConfigFile(binaryToText(args[0]!), options, workingDirectory(config));
      loadConfigText(config, included, session);
    } else if (directive === "rename-command" && args.length === 2) {
      const [from, to] = args as [string, string];
      if (options.commandExists) {
        if (!session.commandExists(from)) fail("No such command in rename-command");
        if (to !== "" && session.commandExists(to)) fail("Target command name already exists");
      }
      session.renameCommand(from, to);
      config.renamedCommands.push({ from, to });
    } else if (directive === "user" && args.length >= 1) {
      const invalid = options.validateUser?.(args);
      if (invalid !== undefined) fail(invalid);
      config.users.push(args);
    } else if (directive === "loadmodule" && args.length >= 1) {
      throw new ConfigError(
        `Module loading is not supported: loadmodule ${binaryToText(args.join(" "))}`,
        "log",
      );
    } else if (directive.includes(".")) {
      if (args.length !== 1) fail("Module config specified without value");
      session.moduleParameters.push(directive);
    } else if (directive === "sentinel") {
      fail("sentinel directive while not in sentinel mode");
    } else {
      fail("Bad directive or wrong number of arguments");
    }
  }
  checkLoadedConfig(config);
}

/** Redis's checks after a file is read: the log file opens, no replicaof in cluster mode. */
function checkLoadedConfig(config: Config): void {
  if (config.logfile !== "") {
    const path = binaryToText(config.logfile);
    try {
      Deno.openSync(isAbsolute(path) ? path : resolve(workingDirectory(config), path), {
        append: true,
        create: true,
      }).close();
    } catch (error) {
      throw new ConfigError(
        fatalConfigError(`Can't open the log file: ${systemErrorText(error)}`),
        "file",
      );
    }
  }
  if (config.inertParameters["cluster-enabled"] === "yes" && config.replicaof !== undefined) {
    throw new ConfigError(
      fatalConfigError("replicaof directive not allowed in cluster mode"),
      "file",
    );
  }
}

/** The absolute path Redis remembers for a config file (`getAbsolutePath`). */
export function absoluteConfigPath(path: string): string {
  return isAbsolute(path) ? path : resolve(path);
}
