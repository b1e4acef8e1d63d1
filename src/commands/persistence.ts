/**
 * Persistence commands: SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE.
 *
 * SAVE and BGSAVE write dump.rdb (`dbfilename` in `dir`), in Redis's RDB
 * format, synchronously or in the background (persistence/snapshot.ts);
 * BGREWRITEAOF rewrites the append-only file. The replies are Redis's, and
 * so is the interplay of the two kinds of background work, which Redis
 * runs in child processes of which only one may exist at a time: a BGSAVE
 * asked for while an AOF rewrite runs fails unless SCHEDULEd (then it
 * starts when the rewrite ends), a BGREWRITEAOF asked for while a BGSAVE
 * runs is scheduled, and inside MULTI/EXEC both are only scheduled. SAVE
 * works while a rewrite runs (it does not need a child), not while a
 * BGSAVE does.
 *
 * The handlers reach persistence through `PersistenceControl` (context.ts),
 * the part of the server's persistence (persistence/lifecycle.ts) that
 * commands may use.
 *
 * @module
 */

import type { Client } from "./client.ts";
import {
  BGSAVE_BLOCKED_BY_REWRITE,
  BGSAVE_FAILED,
  CommandError,
  REWRITE_FAILED,
  REWRITE_IN_PROGRESS,
  SAVE_FAILED,
  SAVE_IN_PROGRESS,
  SYNTAX_ERROR,
} from "./errors.ts";
import { command } from "./table.ts";

/** Inside MULTI/EXEC, where Redis only schedules background work (server.in_exec). */
function inTransaction(client: Client): boolean {
  return client.transaction !== undefined;
}

function bgrewriteaof(client: Client): void {
  const persistence = client.server.persistence;
  if (persistence.rewriteInProgress) throw new CommandError(REWRITE_IN_PROGRESS);
  if (persistence.bgsaveInProgress || inTransaction(client)) {
    persistence.rewriteScheduled = true;
    persistence.consecutiveFailures = 0;
    client.reply.simple("Background append only file rewriting scheduled");
    return;
  }
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
  if (persistence.bgsaveInProgress) throw new CommandError(SAVE_IN_PROGRESS);
  if (persistence.rewriteInProgress || inTransaction(client)) {
    if (!schedule && !inTransaction(client)) throw new CommandError(BGSAVE_BLOCKED_BY_REWRITE);
    persistence.bgsaveScheduled = true;
    client.reply.simple("Background saving scheduled");
    return;
  }
  if (!persistence.startBackgroundSave()) throw new CommandError(BGSAVE_FAILED);
  client.reply.simple("Background saving started");
}

function save(client: Client): void {
  const persistence = client.server.persistence;
  if (persistence.bgsaveInProgress) throw new CommandError(SAVE_IN_PROGRESS);
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
