/**
 * The reply every container's HELP subcommand sends: its lines as status
 * replies in an array, as Redis's addReplyHelp writes them.
 *
 * @module
 */

import type { Client } from "./client.ts";

/** Replies with `lines` (the usage line first) as an array of status replies. */
export function helpReply(client: Client, lines: readonly string[]): void {
  client.reply.arrayHeader(lines.length);
  for (const line of lines) client.reply.simple(line);
}
