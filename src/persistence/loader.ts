/**
 * AOF loader: replays the append-only file into the keyspace at start-up.
 *
 * The file is read in large chunks and fed to the same incremental parser
 * the network uses; each command runs through the dispatcher's `call` on a
 * client with no socket, so replay executes exactly the code that served
 * the original request. A command cut off at the end of the file (a crash
 * mid-write) is dropped and the file truncated to the last complete command,
 * like Redis's `aof-load-truncated yes`; anything else that does not parse
 * or run stops start-up with the byte offset, leaving the file untouched.
 *
 * @module
 */

import { call, resolveCommand } from "../commands/dispatcher.ts";
import { ProtocolError, RequestParser } from "../protocol/parser.ts";
import type { ClientTransport } from "../server/client.ts";
import type { Server } from "../server/server.ts";

/** Start-up must stop: the file is damaged in a way that is not a cut-off tail. */
export class AofLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AofLoadError";
  }
}

export interface LoadResult {
  commands: number;
  bytes: number;
  seconds: number;
  /** Byte offset the file was truncated at, if its tail was incomplete. */
  truncatedAt: number | undefined;
}

const CHUNK_SIZE = 4 * 1024 * 1024;

const silentTransport: ClientTransport = {
  write() {},
  close() {},
  pendingBytes: 0,
  resume() {},
  remoteAddress: "",
  localAddress: "",
};

/** Replays the AOF at `path` into `server`; a missing file loads nothing. */
export async function loadAppendOnlyFile(server: Server, path: string): Promise<LoadResult> {
  const started = performance.now();
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { commands: 0, bytes: 0, seconds: 0, truncatedAt: undefined };
    }
    throw error;
  }
  const client = server.connect(silentTransport);
  server.clients.delete(client.id);
  server.loading = true;
  const parser = new RequestParser();
  let commands = 0;
  let consumed = 0;
  let total = 0;
  try {
    for (;;) {
      const region = parser.writableRegion(CHUNK_SIZE);
      const count = await file.read(region);
      if (count === null) break;
      parser.commit(count);
      total += count;
      for (;;) {
        let request;
        try {
          request = parser.next();
        } catch (error) {
          if (!(error instanceof ProtocolError)) throw error;
          throw new AofLoadError(
            `Bad file format reading the append only file ${path} at offset ${consumed}: ${error.message}`,
          );
        }
        if (request === undefined) break;
        let cmd;
        try {
          cmd = resolveCommand(request);
        } catch (error) {
          throw new AofLoadError(
            `Unknown command '${
              request[0]
            }' reading the append only file ${path} at offset ${consumed}: ${
              (error as Error).message
            }`,
          );
        }
        call(client, cmd, request);
        client.reply.take();
        consumed = total - parser.buffered;
        commands++;
      }
    }
  } finally {
    file.close();
    server.loading = false;
  }
  let truncatedAt: number | undefined;
  if (consumed < total) {
    truncatedAt = consumed;
    if (!server.config.aofLoadTruncated) {
      throw new AofLoadError(
        `Unexpected end of file reading the append only file ${path} at offset ${consumed}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.`,
      );
    }
    await Deno.truncate(path, consumed);
  }
  return { commands, bytes: total, seconds: (performance.now() - started) / 1000, truncatedAt };
}
