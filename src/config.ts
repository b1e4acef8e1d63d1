/**
 * Configuration: the public surface of `src/config/`, re-exported so the
 * rest of the server imports one module.
 *
 * - schema.ts: the `Config` record and its value types, `ConfigError`.
 * - catalogue.ts: every Redis 7.0.15 parameter, declared once
 *   (`PARAMETERS`, `defaultConfig()`).
 * - get_set.ts: CONFIG GET / CONFIG SET as pure functions, and the change
 *   listeners the server registers to act on CONFIG SET.
 * - load.ts, command_line.ts: config files and the command line, with
 *   redis-server's rules and error reports.
 * - rewrite.ts: CONFIG REWRITE.
 *
 * @module
 */

import { isAbsolute, join } from "node:path";
import { binaryToText } from "./config/arguments.ts";
import type { Config } from "./config/schema.ts";

export {
  type AclPubsubDefault,
  type ClientOutputBufferLimits,
  CLONE_VERSION,
  type Config,
  ConfigError,
  type ConfigErrorKind,
  type FsyncPolicy,
  type LogLevel,
  type MaxmemoryPolicy,
  type OutputBufferLimit,
  type ProtectedAction,
  type RenamedCommand,
  type ReplicaOf,
  type SanitizeDumpPayload,
  type SavePoint,
  type ShutdownOption,
  type TlsAuthClients,
  type TransportKind,
  VERSION,
} from "./config/schema.ts";
export {
  defaultConfig,
  DELIBERATE_DEFAULTS,
  INERT_PARAMETER_NAMES,
  lookupParameter,
  OWN_PARAMETERS,
  PARAMETERS,
  PRIMARY_PARAMETERS,
  primaryParameter,
} from "./config/catalogue.ts";
export type { ConfigParameter, ParameterType } from "./config/parameter.ts";
export { parseMemory } from "./config/numbers.ts";
export {
  type BindAddress,
  DEFAULT_BIND,
  listenAddress,
  parseBind,
  REDIS_DEFAULT_SAVE_POINTS,
} from "./config/special.ts";
export {
  type ApplyChanges,
  type ApplyFailure,
  type ChangeListener,
  ConfigChangeListeners,
  configGet,
  configSet,
  type ConfigSetOptions,
  type ConfigSetResult,
} from "./config/get_set.ts";
export {
  fatalConfigError,
  loadConfigText,
  type LoadOptions,
  LoadSession,
  readConfigFile,
} from "./config/load.ts";
export {
  type CommandLine,
  type CommandLineOptions,
  parseCommandLine,
  USAGE,
} from "./config/command_line.ts";
export { rewriteConfigFile, rewriteConfigText, type RewriteOptions } from "./config/rewrite.ts";
export { binaryToText, quoteArgument, splitArguments, textToBinary } from "./config/arguments.ts";

/** Path of the append-only file: `appendfilename` inside `dir` unless absolute. */
export function aofPath(config: Config): string {
  const file = binaryToText(config.appendfilename);
  return isAbsolute(file) ? file : join(binaryToText(config.dir), file);
}
