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
  stop(reason: string): Promise<void>;
}

/** Loads data, binds the port and starts serving. */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const server = new Server(config, log);
  server.maxClients = adjustOpenFilesLimit(config.maxclients, log);
  // Like Redis, users come from the config file's `user` lines or the aclfile, before any data.
  if (!server.acl.loadAtStartup(config.users)) throw new StartupError();
  await server.persistence.start();
  const listener = await listen(server);
  server.port = listener.port;
  const stopCron = server.startCron();

  const stopIdleCompaction = startIdleCompaction(server);

  let stopping: Promise<void> | undefined;
  const stop = (reason: string) => {
    stopping ??= (async () => {
      log.warning(reason);
      stopCron();
      server.operations.dispose();
      stopIdleCompaction();
      server.flush();
      await listener.close();
      server.persistence.stop();
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
  log.notice(
    config.appendonly
      ? `Append only file: ${aofPath(config)} (appendfsync ${config.appendfsync})`
      : "Persistence disabled (appendonly no)",
  );
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
  const exit = (reason: string) => running.stop(reason).then(() => Deno.exit(0));
  running.server.shutdownHandler = exit;
  Deno.addSignalListener("SIGINT", () => void exit("Received SIGINT scheduling shutdown..."));
  Deno.addSignalListener("SIGTERM", () => void exit("Received SIGTERM scheduling shutdown..."));
  return await new Promise<number>(() => {});
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
