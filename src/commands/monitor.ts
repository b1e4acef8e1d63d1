/**
 * MONITOR: the connection starts receiving a line for every command the
 * server runs (see operations/monitors.ts for the format and
 * operations/operations.ts for which commands are shown).
 *
 * As in Redis, a client inside MULTI/EXEC (which expects one reply per
 * command) may not become a monitor, and MONITOR on a monitor does nothing,
 * not even reply. QUIT or RESET leave monitor mode.
 *
 * @module
 */

import type { Client } from "./client.ts";
import { CommandError, MONITOR_DENIED } from "./errors.ts";
import { command } from "./table.ts";

function monitor(client: Client): void {
  if (client.transaction !== undefined) throw new CommandError(MONITOR_DENIED);
  const monitors = client.server.operations.monitors;
  if (monitors.has(client)) return;
  monitors.add(client);
  client.reply.ok();
}

export const monitorCommands = [
  command({
    name: "monitor",
    arity: 1,
    flags: ["admin", "noscript", "loading", "stale"],
    handler: monitor,
  }),
];
