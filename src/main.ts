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
  await server.persistence.start();
  const listener = await listen(server);
  server.port = listener.port;
  const cronTimer = setInterval(() => server.cron(), 1000 / config.hz);

  const stopIdleCompaction = startIdleCompaction(server);

  let stopping: Promise<void> | undefined;
  const stop = (reason: string) => {
    stopping ??= (async () => {
      log.warning(reason);
      clearInterval(cronTimer);
      stopIdleCompaction();
      server.flush();
      await listener.close();
      server.persistence.stop();
      log.warning("Redis is now ready to exit, bye bye...");
    })();
    return stopping;
  };
  log.notice(`Server initialized (transport: ${config.transport})`);
  if (listener.port !== 0) {
    log.notice(`Ready to accept connections tcp on ${config.bind}:${listener.port}`);
  }
  if (listener.tlsPort !== 0) {
    log.notice(`Ready to accept connections tls on ${config.bind}:${listener.tlsPort}`);
  }
  return { server, listener, stop };
}

async function main(argv: string[]): Promise<number> {
  let commandLine;
  try {
    commandLine = parseCommandLine(argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`redis-clone: ${error.message} (see --help)`);
      return 1;
    }
    throw error;
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
