/**
 * SLOWLOG GET [count] | LEN | RESET | HELP, over the slow log the request
 * path fills (operations/slow_log.ts). GET answers the newest entries
 * first, 10 by default, all of them for -1.
 *
 * @module
 */

import type { Client } from "./client.ts";
import { parseInteger } from "./arguments.ts";
import { CommandError, SLOWLOG_COUNT_RANGE, subcommandSyntaxError } from "./errors.ts";
import { helpReply } from "./help.ts";
import { command, type CommandDeclaration } from "./table.ts";

const DEFAULT_COUNT = 10;

function slowlogGet(client: Client, args: string[]): void {
  if (args.length > 3) throw new CommandError(subcommandSyntaxError(args[1]!, args[0]!));
  let count = DEFAULT_COUNT;
  if (args.length === 3) {
    const asked = parseInteger(args[2]!);
    if (asked === undefined || asked < -1) throw new CommandError(SLOWLOG_COUNT_RANGE);
    count = asked;
  }
  const entries = client.server.operations.slowLog.newest(count);
  const reply = client.reply;
  reply.arrayHeader(entries.length);
  for (const entry of entries) {
    reply.arrayHeader(6);
    reply.integer(entry.id);
    reply.integer(entry.time);
    reply.integer(entry.microseconds);
    reply.bulkArray(entry.args);
    reply.bulk(entry.clientAddress);
    reply.bulk(entry.clientName);
  }
}

const SLOWLOG_HELP = [
  "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "GET [<count>]",
  "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
  "    Entries are made of:",
  "    id, timestamp, time in microseconds, arguments array, client IP and port,",
  "    client name",
  "LEN",
  "    Return the length of the slowlog.",
  "RESET",
  "    Reset the slowlog.",
  "HELP",
  "    Prints this help.",
];

/** A SLOWLOG subcommand: admin, loading, stale. */
function slowlogSubcommand(
  name: string,
  arity: number,
  handler: CommandDeclaration["handler"],
): CommandDeclaration {
  return { name: `slowlog|${name}`, arity, flags: ["admin", "loading", "stale"], handler };
}

export const slowlogCommands = [
  command({
    name: "slowlog",
    arity: -2,
    flags: [],
    subcommands: [
      slowlogSubcommand("get", -2, slowlogGet),
      slowlogSubcommand(
        "len",
        2,
        (client) => client.reply.integer(client.server.operations.slowLog.length),
      ),
      slowlogSubcommand("reset", 2, (client) => {
        client.server.operations.slowLog.reset();
        client.reply.ok();
      }),
      {
        name: "slowlog|help",
        arity: 2,
        flags: ["loading", "stale"],
        handler: (client) => helpReply(client, SLOWLOG_HELP),
      },
    ],
  }),
];
