/**
 * Persistence commands: BGREWRITEAOF, SAVE, BGSAVE, LASTSAVE.
 *
 * This server persists only through the AOF, and it has no RDB format to
 * write. Rather than refuse SAVE and BGSAVE (which breaks scripts, backup
 * jobs and client libraries that call them before a restart) they map to
 * the AOF rewrite, which produces the same thing an RDB file is for: a
 * compact file holding exactly the current data, from which the server
 * starts. SAVE rewrites synchronously and replies +OK, blocking like Redis's
 * SAVE; BGSAVE starts a background rewrite with Redis's replies; LASTSAVE is
 * the time of the last successful rewrite (or of start-up). As in Redis,
 * these work with `appendonly no` too: the file is written at the AOF path,
 * and is what a later start with `appendonly yes` loads. The mapping is the
 * subject of persistence/info.ts's `rdb_*` fields as well.
 *
 * @module
 */

import type { Client } from "./client.ts";
import {
  CommandError,
  REWRITE_FAILED,
  REWRITE_IN_PROGRESS,
  SAVE_FAILED,
  SAVE_IN_PROGRESS,
  SYNTAX_ERROR,
} from "./errors.ts";
import { command } from "./table.ts";

function bgrewriteaof(client: Client): void {
  const persistence = client.server.persistence;
  if (persistence.rewriteInProgress) throw new CommandError(REWRITE_IN_PROGRESS);
  if (!persistence.startRewrite()) throw new CommandError(REWRITE_FAILED);
  client.reply.simple("Background append only file rewriting started");
}

function bgsave(client: Client, args: string[]): void {
  let schedule = false;
  if (args.length > 1) {
    if (args.length !== 2 || args[1]!.toLowerCase() !== "schedule") {
      throw new CommandError(SYNTAX_ERROR);
    }
    schedule = true;
  }
  const persistence = client.server.persistence;
  if (persistence.rewriteInProgress) {
    if (!schedule) throw new CommandError(SAVE_IN_PROGRESS);
    persistence.rewriteScheduled = true;
    client.reply.simple("Background saving scheduled");
    return;
  }
  if (!persistence.startRewrite()) throw new CommandError(REWRITE_FAILED);
  client.reply.simple("Background saving started");
}

function save(client: Client): void {
  const persistence = client.server.persistence;
  if (persistence.rewriteInProgress) throw new CommandError(SAVE_IN_PROGRESS);
  if (!persistence.saveNow()) throw new CommandError(SAVE_FAILED);
  client.reply.ok();
}

function lastsave(client: Client): void {
  client.reply.integer(client.server.persistence.lastSaveTime);
}

export const persistenceCommands = [
  command({
    name: "bgrewriteaof",
    arity: 1,
    flags: ["admin", "noscript", "no_async_loading"],
    handler: bgrewriteaof,
  }),
  command({
    name: "bgsave",
    arity: -1,
    flags: ["admin", "noscript", "no_async_loading"],
    handler: bgsave,
  }),
  command({
    name: "save",
    arity: 1,
    flags: ["admin", "noscript", "no_async_loading", "no_multi"],
    handler: save,
  }),
  command({
    name: "lastsave",
    arity: 1,
    flags: ["loading", "stale", "fast"],
    aclCategories: ["admin", "dangerous"],
    handler: lastsave,
  }),
];
