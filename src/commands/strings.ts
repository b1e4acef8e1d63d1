/**
 * String commands.
 *
 * GET and SET are the hottest paths of the server: GET is one Map lookup
 * plus a bulk reply, and SET without options is one Map write; option
 * parsing only runs when options are present.
 *
 * @module
 */

import type { Client } from "../server/client.ts";
import { requireInteger } from "./arguments.ts";
import { getString } from "./access.ts";
import { CommandError, invalidExpireTime, SYNTAX_ERROR } from "./errors.ts";
import { command } from "./table.ts";

const INT64_MAX = 9223372036854775807;

function get(client: Client, args: string[]): void {
  const value = getString(client, args[1]!);
  if (value === undefined) client.reply.nullBulk();
  else client.reply.bulk(value);
}

/** Options of SET (and, in part, the commands that share its parser). */
interface SetOptions {
  nx: boolean;
  xx: boolean;
  get: boolean;
  keepTtl: boolean;
  /** Absolute deadline in ms, if an expiry option was given. */
  deadline: number | undefined;
}

/** Parses SET's options with Redis's exact rules for conflicts and expiry values. */
function parseSetOptions(client: Client, args: string[]): SetOptions {
  const options: SetOptions = {
    nx: false,
    xx: false,
    get: false,
    keepTtl: false,
    deadline: undefined,
  };
  let expireUnit: "EX" | "PX" | "EXAT" | "PXAT" | undefined;
  let expireText = "";
  for (let i = 3; i < args.length; i++) {
    const option = args[i]!.toUpperCase();
    const hasNext = i + 1 < args.length;
    if (option === "NX" && !options.xx) options.nx = true;
    else if (option === "XX" && !options.nx) options.xx = true;
    else if (option === "GET") options.get = true;
    else if (option === "KEEPTTL" && expireUnit === undefined) options.keepTtl = true;
    else if (
      (option === "EX" || option === "PX" || option === "EXAT" || option === "PXAT") &&
      !options.keepTtl && expireUnit === undefined && hasNext
    ) {
      expireUnit = option;
      expireText = args[++i]!;
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  if (expireUnit !== undefined) {
    let milliseconds = requireInteger(expireText);
    const seconds = expireUnit === "EX" || expireUnit === "EXAT";
    if (milliseconds <= 0 || (seconds && milliseconds > INT64_MAX / 1000)) {
      throw new CommandError(invalidExpireTime("set"));
    }
    if (seconds) milliseconds *= 1000;
    if (expireUnit === "EX" || expireUnit === "PX") {
      milliseconds += client.server.keyspace.clock.now();
    }
    if (milliseconds > INT64_MAX) throw new CommandError(invalidExpireTime("set"));
    options.deadline = milliseconds;
  }
  return options;
}

function set(client: Client, args: string[]): void {
  const key = args[1]!;
  const value = args[2]!;
  const db = client.db;
  if (args.length === 3) {
    db.set(key, value);
    client.changed(key, "set", "$");
    client.reply.ok();
    return;
  }
  const options = parseSetOptions(client, args);
  let previous: string | undefined;
  if (options.get) previous = getString(client, key);
  const found = db.has(key);
  if ((options.nx && found) || (options.xx && !found)) {
    if (options.get && previous !== undefined) client.reply.bulk(previous);
    else client.reply.nullBulk();
    return;
  }
  db.set(key, value, options.keepTtl);
  client.changed(key, "set", "$");
  if (options.deadline !== undefined) {
    // A deadline already past (EXAT in the past) expires on the next access, as in Redis.
    db.setExpireAt(key, options.deadline);
    client.propagateAs(["SET", key, value, "PXAT", String(options.deadline)]);
    client.changed(key, "expire", "g");
  } else if (options.get) {
    client.propagateAs(args.filter((arg, i) => i < 3 || arg.toUpperCase() !== "GET"));
  }
  if (options.get) {
    if (previous === undefined) client.reply.nullBulk();
    else client.reply.bulk(previous);
  } else {
    client.reply.ok();
  }
}

export const stringCommands = [
  command({
    name: "get",
    arity: 2,
    flags: ["readonly", "fast"],
    group: "string",
    summary: "Get the value of a key",
    since: "1.0.0",
    complexity: "O(1)",
    firstKey: 1,
    handler: get,
  }),
  command({
    name: "set",
    arity: -3,
    flags: ["write", "denyoom"],
    group: "string",
    summary: "Set the string value of a key",
    since: "1.0.0",
    complexity: "O(1)",
    firstKey: 1,
    handler: set,
  }),
];
