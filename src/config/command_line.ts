/**
 * The command line, with redis-server's rules: an optional config file
 * first (`-` reads it from stdin), then `--name value...` options that are
 * applied after the file, each taking every following argument up to the
 * next `--name` (`--bind 127.0.0.1 ::1`, `--save ""`, `--save 900 1`).
 *
 * As in Redis's main(), the options become config lines appended to the
 * file's text (`--port 7000` is the line `port "7000"`) and the whole text
 * is loaded at once, so a bad option is reported as a FATAL CONFIG FILE
 * ERROR at the line after the file's, exactly as redis-server reports it.
 *
 * The seed's forms keep working alongside: `-port 8080` (one dash), `-aof
 * <path>` (an AOF path, turning persistence on, which Redis does not have),
 * `--name=value`, a leading `--` (`deno task start -- --port 7000`), and
 * `-h`/`--help`, `-v`/`--version` as the first argument.
 *
 * @module
 */

import { binaryToText, quoteArgument, splitArguments, textToBinary } from "./arguments.ts";
import { defaultConfig, lookupParameter } from "./catalogue.ts";
import {
  absoluteConfigPath,
  loadConfigText,
  type LoadOptions,
  LoadSession,
  readConfigFile,
} from "./load.ts";
import { type Config, ConfigError } from "./schema.ts";

/** What the command line asked for besides configuration. */
export type CommandLine =
  | {
    action: "serve";
    config: Config;
    /** Messages Redis logs while reading its configuration (log them as warnings). */
    warnings: string[];
  }
  | { action: "help" }
  | { action: "version" };

export interface CommandLineOptions extends LoadOptions {
  /** Reads a config from stdin for `-` (default: all of the process's stdin). */
  readStdin?: () => string;
}

/** What `--help` prints. */
export const USAGE = `Usage: redis-clone [/path/to/redis.conf] [options] [-]
       redis-clone - (read config from stdin)
       redis-clone -v or --version
       redis-clone -h or --help

Every redis.conf parameter is an option: --name value [value ...], applied
after the config file (see Redis's redis.conf for the full list). Common ones:
  --port <n>                      TCP port (default 6379)
  --bind <address> [address ...]  listen addresses (default * -::*)
  --dir <path>                    working directory for the AOF (default .)
  --appendonly yes|no             append-only file persistence (default yes)
  --appendfilename <name>         AOF file name in --dir (default database.aof)
  -aof <path>                     AOF path (the seed's flag; implies --appendonly yes)
  --appendfsync always|everysec|no  fsync policy (default everysec)
  --aof-load-truncated yes|no     load an AOF whose last command was cut off (default yes)
  --auto-aof-rewrite-percentage <n>  growth that triggers a rewrite (default 100)
  --auto-aof-rewrite-min-size <bytes>  minimum size for automatic rewrite (default 64mb)
  --databases <n>                 number of databases (default 16)
  --loglevel debug|verbose|notice|warning  (default notice)
  --notify-keyspace-events <flags>  keyspace notifications (default off)
  --requirepass <password>        password of the default user
  --maxclients <n>                maximum number of clients (default 10000)
  --transport deno|node           socket layer (default deno; this server's own)

Examples:
  redis-clone /etc/redis/7000.conf --port 7777
  redis-clone --port 7777 --replicaof 127.0.0.1 8888
  echo 'maxmemory 128mb' | redis-clone -`;

/** A `-name`/`--name` (or `--name=value`) this command line treats as an option name. */
function optionName(arg: string): { name: string; value?: string } | undefined {
  const known = (name: string) =>
    name.toLowerCase() === "aof" || lookupParameter(name) !== undefined;
  const assignment = /^--?([^=\s]+)=(.*)$/s.exec(arg);
  // `--name=value` only for names we know: Redis values may contain "=".
  if (assignment && known(assignment[1]!)) return { name: assignment[1]!, value: assignment[2]! };
  // Anything after `--` is a name, as in Redis (`--port 6380` as one argument is name and value).
  if (arg.startsWith("--") && arg.length > 2) return { name: arg.slice(2) };
  // The seed's single-dash forms (`-port 8080`), only for known names so `-1` stays a value.
  const single = /^-([a-z][a-z0-9_-]*)$/i.exec(arg);
  return single && known(single[1]!) ? { name: single[1]! } : undefined;
}

function readAllStdin(): string {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(64 * 1024);
  for (;;) {
    const read = Deno.stdin.readSync(buffer);
    if (read === null) break;
    chunks.push(buffer.slice(0, read));
  }
  let text = "";
  for (const chunk of chunks) text += new TextDecoder("latin1").decode(chunk);
  return text;
}

/**
 * Parses the command line into a configuration (reading the config file it
 * names); throws a `ConfigError` with Redis's report on bad input.
 *
 * @example
 * ```ts
 * const line = parseCommandLine(["/etc/redis.conf", "--port", "7000"]);
 * if (line.action === "serve") line.config.port; // 7000, whatever the file says
 * ```
 */
export function parseCommandLine(
  argv: readonly string[],
  options: CommandLineOptions = {},
): CommandLine {
  const args = argv[0] === "--" ? argv.slice(1) : [...argv];
  const first = args[0];
  if (first === "-v" || first === "--version") return { action: "version" };
  if (first === "-h" || first === "--help") return { action: "help" };

  const warnings: string[] = [];
  let configFile: string | undefined;
  let index = 0;
  if (first !== undefined && !first.startsWith("-")) {
    configFile = absoluteConfigPath(first);
    index = 1;
  }
  let fromStdin = false;
  let aofPath: string | undefined;
  let optionsText = "";
  let valueExpected = false;
  for (; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === "-" && (index === 0 || index === args.length - 1)) {
      fromStdin = true;
      continue;
    }
    const option = valueExpected ? undefined : optionName(arg);
    if (option === undefined) {
      optionsText += quoteArgument(textToBinary(arg)) + " ";
      valueExpected = false;
      continue;
    }
    if (option.name.toLowerCase() === "aof") {
      const path = option.value ?? args[++index];
      if (path === undefined) throw new ConfigError("-aof needs a path");
      aofPath = path;
      continue;
    }
    if (optionsText !== "") optionsText += "\n";
    optionsText += textToBinary(option.name) + " ";
    if (option.value !== undefined) {
      optionsText += quoteArgument(textToBinary(option.value)) + " ";
      continue;
    }
    // `--port 6380` as one argument carries its value already.
    if ((splitArguments(arg)?.length ?? 1) > 1) continue;
    valueExpected = true;
    if (option.name.toLowerCase() === "save") {
      // `--save` followed by another option (or nothing) means `--save ""`, as in Redis 7.0.1+.
      const next = args[index + 1];
      if (next === undefined || next.startsWith("--")) {
        optionsText += '""';
        valueExpected = false;
      }
    }
  }

  const session = new LoadSession({
    ...options,
    warn: (message) => {
      warnings.push(message);
      options.warn?.(message);
    },
  });
  const config = defaultConfig();
  let text = "";
  if (configFile !== undefined) text += readConfigFile(configFile, options);
  if (fromStdin) {
    warnings.push("Reading config from stdin");
    text += textToBinary((options.readStdin ?? readAllStdin)());
  }
  if (configFile === undefined && !fromStdin) {
    warnings.push(
      "Warning: no config file specified, using the default config. In order to specify a " +
        "config file use redis-clone /path/to/redis.conf",
    );
  }
  if (optionsText !== "") text += "\n" + optionsText;
  loadConfigText(config, text, session);
  if (aofPath !== undefined) {
    config.appendonly = true;
    config.appendfilename = textToBinary(aofPath);
  }
  if (session.moduleParameters.length > 0) {
    throw new ConfigError(
      "Module Configuration detected without loadmodule directive or no ApplyConfig call: aborting",
      "log",
    );
  }
  config.configFile = configFile === undefined ? undefined : textToBinary(configFile);
  return { action: "serve", config, warnings: warnings.map(binaryToText) };
}
