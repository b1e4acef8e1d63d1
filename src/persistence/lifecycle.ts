/**
 * Persistence at start-up and shutdown: replay the AOF, then open it for
 * appending; at shutdown, write, fsync and close it.
 *
 * main.ts calls only these two functions, so everything about how the AOF is
 * loaded, written, repaired and rewritten stays inside src/persistence/.
 *
 * @module
 */

import { aofPath } from "../config.ts";
import type { Server } from "../server/server.ts";
import { AppendOnlyFile } from "./aof.ts";
import { loadAppendOnlyFile } from "./loader.ts";

/** Loads the AOF (if enabled) into `server` and opens it for appending. */
export async function startPersistence(server: Server): Promise<void> {
  const { config, log } = server;
  if (!config.appendonly) return;
  const path = aofPath(config);
  const result = await loadAppendOnlyFile(server, path);
  if (result.truncatedAt !== undefined) {
    log.warning(
      `!!! Warning: short read while loading the AOF file ${path}!!! AOF loaded anyway because aof-load-truncated is enabled; truncated at offset ${result.truncatedAt}`,
    );
  }
  log.notice(
    `DB loaded from append only file: ${
      result.seconds.toFixed(3)
    } seconds (${result.commands} commands, ${result.bytes} bytes)`,
  );
  server.aof = AppendOnlyFile.open(path, config.appendfsync);
  server.aof.onError = (error) => {
    log.warning(`Error writing to the AOF file: ${error.message}`);
  };
}

/** Writes what is buffered, fsyncs and closes the AOF. */
export function stopPersistence(server: Server): void {
  if (!server.aof) return;
  server.log.notice("Calling fsync() on the AOF file.");
  server.aof.close();
  server.aof = undefined;
}
