/**
 * Entry point: command line → configuration → server.
 *
 * Start-up follows Redis: log the version and pid, replay the AOF (the
 * server listens only once the data is back), open the AOF for appending,
 * bind the port, start the active expiry cycle and log `Ready to accept
 * connections`. SIGINT, SIGTERM and SHUTDOWN all take the same path out:
 * stop accepting, write and fsync the AOF, close it, exit 0.
 *
 * @module
 */

import {
  aofPath,
  CLONE_VERSION,
  type Config,
  ConfigError,
  parseCommandLine,
  type ShutdownOption,
  USAGE,
  VERSION,
} from "./config.ts";
import { userDirectiveError } from "./acl/mod.ts";
import { TableCatalogue } from "./commands/acl.ts";
import { COMMAND_FAMILIES } from "./commands/families.ts";
import { CommandTable } from "./commands/registry.ts";
import { Logger } from "./log.ts";
import { AofLoadError } from "./persistence/loader.ts";
import { startIdleCompaction } from "./server/idle_compaction.ts";
import { listen, type Listener, ListenError } from "./server/listener.ts";
import { adjustOpenFilesLimit } from "./server/native.ts";
import { Server } from "./server/server.ts";

/** A started server and how to stop it (also used by tests in-process). */
export interface RunningServer {
  server: Server;
  listener: Listener;
  /**
   * Stops serving and closes the files; `reason`, when given, is logged
   * first. Saves when `save` says so, by default when save points are set.
   */
  stop(reason?: string, options?: { save?: boolean }): Promise<void>;
}

/**
 * Binds the port, loads the data and starts serving. As in Redis, clients
 * can connect while the data loads and get -LOADING meanwhile.
 */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const server = new Server(config, log);
  server.maxClients = adjustOpenFilesLimit(config.maxclients, log);
  // Like Redis, users come from the config file's `user` lines or the aclfile, before any data.
  if (!server.acl.loadAtStartup(config.users)) throw new StartupError();
  server.loading = true;
  const listener = await listen(server);
  server.port = listener.port;
  try {
    await server.persistence.start();
  } catch (error) {
    await listener.close();
    throw error;
  }
  server.loading = false;
  const stopCron = server.startCron();
  // Once the data is loaded: a replica connects to its master now (replicaof).
  server.replication.start();

  const stopIdleCompaction = startIdleCompaction(server);

  let stopping: Promise<void> | undefined;
  const stop = (reason?: string, options: { save?: boolean } = {}) => {
    stopping ??= (async () => {
      if (reason !== undefined) log.warning(reason);
      stopCron();
      server.replication.stop();
      server.operations.dispose();
      server.scripts.close();
      stopIdleCompaction();
      server.flush();
      await listener.close();
      server.persistence.stop(options);
      log.warning("Redis is now ready to exit, bye bye...");
    })();
    return stopping;
  };
  log.notice(`Server initialized (transport: ${config.transport})`);
  for (const { address, tls } of listener.addresses) {
    log.notice(`Ready to accept connections ${tls ? "tls" : "tcp"} on ${address}`);
  }
  return { server, listener, stop };
}

/**
 * Saves before a signal's shutdown as `shutdown-on-sig*` says (by default
 * when save points are set); false when the save failed without `force`,
 * where Redis keeps running.
 */
function saveBeforeShutdown(server: Server, options: readonly ShutdownOption[]): boolean {
  // Half-loaded data is never saved, as in Redis.
  const save = !server.loading && (options.includes("save") ||
    (!options.includes("nosave") && server.config.savePoints.length > 0));
  if (!save) return true;
  server.log.notice("Saving the final RDB snapshot before exiting.");
  if (server.persistence.saveNow()) return true;
  if (options.includes("force")) {
    server.log.warning("Error trying to save the DB. Exit anyway.");
    return true;
  }
  server.log.warning("Error trying to save the DB, can't exit.");
  return false;
}

/** Start-up cannot go on; the reason has been logged. */
class StartupError extends Error {
  constructor() {
    super("start-up failed");
    this.name = "StartupError";
  }
}

/**
 * Reads the command line and the config file it names, checking
 * `rename-command` and `user` lines against the real command table as
 * Redis does while loading its config.
 */
function readCommandLine(argv: string[]) {
  const table = new CommandTable(COMMAND_FAMILIES);
  const catalogue = new TableCatalogue(table).catalogue;
  const users: string[] = [];
  return parseCommandLine(argv, {
    commandExists: (name) => table.lookup(name) !== undefined,
    validateUser: (words) => {
      const error = userDirectiveError(catalogue, words, users);
      if (words[0] !== undefined) users.push(words[0]);
      return error;
    },
  });
}

async function main(argv: string[]): Promise<number> {
  let commandLine;
  try {
    commandLine = readCommandLine(argv);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // As redis-server prints them: a FATAL CONFIG FILE ERROR block, a log line, or usage.
    if (error.kind === "file") console.error(`\n${error.message}`);
    else if (error.kind === "log") new Logger("notice").warning(error.message);
    else console.error(`redis-clone: ${error.message} (see --help)`);
    return 1;
  }
  if (commandLine.action === "help") {
    console.log(USAGE);
    return 0;
  }
  if (commandLine.action === "version") {
    console.log(
      `redis-clone v=${CLONE_VERSION} redis_version=${VERSION} deno=${Deno.version.deno}`,
    );
    return 0;
  }
  const config = commandLine.config;
  const log = new Logger(config.loglevel);
  for (const warning of commandLine.warnings) log.warning(warning);
  log.notice("oO0OoO0OoO0Oo redis-clone is starting oO0OoO0OoO0Oo");
  log.notice(
    `redis-clone version=${CLONE_VERSION}, Redis compatibility=${VERSION}, deno=${Deno.version.deno}, pid=${Deno.pid}, just started`,
  );
  if (config.appendonly) {
    log.notice(`Append only file: ${aofPath(config)} (appendfsync ${config.appendfsync})`);
  }
  let running: RunningServer;
  try {
    running = await startServer(config, log);
  } catch (error) {
    if (error instanceof ListenError || error instanceof AofLoadError) {
      log.warning(error.message);
      return 1;
    }
    if (error instanceof StartupError) return 1;
    throw error;
  }
  // SHUTDOWN and the signals below have logged and saved (or not) already.
  const exit = () => running.stop(undefined, { save: false }).then(() => Deno.exit(0));
  running.server.shutdownHandler = exit;
  const onSignal = (name: string, options: readonly ShutdownOption[]) => {
    log.warning(`Received ${name} scheduling shutdown...`);
    log.warning("User requested shutdown...");
    if (saveBeforeShutdown(running.server, options)) void exit();
  };
  Deno.addSignalListener("SIGINT", () => onSignal("SIGINT", config.shutdownOnSigint));
  Deno.addSignalListener("SIGTERM", () => onSignal("SIGTERM", config.shutdownOnSigterm));
  return await new Promise<number>(() => {});
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
