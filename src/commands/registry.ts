/**
 * The command table: every family's declarations gathered into one lookup.
 *
 * Names are stored lower-case and upper-case, so the dispatcher finds the
 * common spellings without allocating a lower-cased copy per request. The
 * table is built on first use: families import the dispatcher (EXEC calls
 * it), so building it while modules are still being evaluated would depend
 * on import order.
 *
 * @module
 */

import { bitmapCommands } from "./bitmaps.ts";
import { connectionCommands } from "./connection.ts";
import { expireCommands } from "./expire.ts";
import { hashCommands } from "./hashes.ts";
import { keyCommands } from "./keys.ts";
import { listCommands } from "./lists.ts";
import { persistenceCommands } from "./persistence.ts";
import { pubsubCommands } from "./pubsub.ts";
import { serverCommands } from "./server.ts";
import { setCommands } from "./sets.ts";
import { sortedSetCommands } from "./sorted_sets.ts";
import { stringCommands } from "./strings.ts";
import { transactionCommands } from "./transactions.ts";
import type { Command } from "./table.ts";

function buildTable(): Map<string, Command> {
  const families: readonly (readonly Command[])[] = [
    connectionCommands,
    serverCommands,
    stringCommands,
    keyCommands,
    expireCommands,
    hashCommands,
    listCommands,
    setCommands,
    sortedSetCommands,
    bitmapCommands,
    transactionCommands,
    pubsubCommands,
    persistenceCommands,
  ];
  const table = new Map<string, Command>();
  for (const family of families) {
    for (const cmd of family) {
      if (table.has(cmd.name)) throw new Error(`Command declared twice: ${cmd.name}`);
      table.set(cmd.name, cmd);
    }
  }
  for (const [name, cmd] of [...table]) table.set(name.toUpperCase(), cmd);
  return table;
}

let table: ReadonlyMap<string, Command> | undefined;

/** Every command by lower-case and upper-case name. */
export function commandTable(): ReadonlyMap<string, Command> {
  return table ??= buildTable();
}
