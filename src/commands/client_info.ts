/**
 * How a client is described to operators: the line CLIENT LIST and CLIENT
 * INFO print (client_list.ts), which log messages and ACL LOG entries quote,
 * in Redis's field order. Its own small module so the ACL family, the
 * scripting runtime and the server's log can name a client without
 * depending on the CLIENT commands.
 *
 * @module
 */

import type { Client } from "./client.ts";
import { clientListLine } from "./client_list.ts";

/** One line of CLIENT LIST / CLIENT INFO for `client`, as Redis prints it. */
export function describeClient(client: Client, now = Date.now()): string {
  return clientListLine(client, now);
}
