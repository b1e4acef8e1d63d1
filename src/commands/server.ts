/**
 * Server commands: INFO, CONFIG, COMMAND, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB,
 * TIME, SHUTDOWN, LOLWUT (WAIT and ROLE: replication.ts).
 *
 * CONFIG GET and SET are the configuration module's pure functions
 * (config/get_set.ts) with their replies encoded here: SET is atomic and
 * applies its changes through the server's change listeners, and the
 * values of sensitive parameters are redacted from the request before
 * SLOWLOG sees it, as Redis's redactClientCommandArgument does. CONFIG
 * REWRITE writes the file with the ACL users as ACL LIST describes them.
 * CONFIG RESETSTAT resets everything INFO counts.
 *
 * COMMAND's replies are generated from the command table (the same data the
 * dispatcher uses) and the recorded documentation; see introspection.ts.
 *
 * @module
 */

import { configGet, configSet, rewriteConfigFile, VERSION } from "../config.ts";
import type { Client } from "./client.ts";
import { ArgumentCursor, parseInteger } from "./arguments.ts";
import {
  CommandError,
  DB_INDEX_OUT_OF_RANGE,
  INVALID_FIRST_DB_INDEX,
  INVALID_SECOND_DB_INDEX,
  NO_SHUTDOWN_IN_PROGRESS,
  NOT_INTEGER,
  SHUTDOWN_FAILED,
  SYNTAX_ERROR,
  TIMEOUT_NEGATIVE,
  TIMEOUT_NOT_INTEGER,
  TIMEOUT_OUT_OF_RANGE,
} from "./errors.ts";
import { commandCommand } from "./introspection.ts";
import { REDACTED } from "./operations/mod.ts";
import { isLocalClient } from "./client_list.ts";
import { helpReply } from "./help.ts";
import { command, type CommandDeclaration } from "./table.ts";

/** FLUSHDB/FLUSHALL accept ASYNC or SYNC; both complete before replying here. */
function parseFlushMode(args: string[]): void {
  const cursor = new ArgumentCursor(args);
  if (cursor.hasMore() && cursor.accept("ASYNC", "SYNC") === undefined) {
    throw new CommandError(SYNTAX_ERROR);
  }
  cursor.finish();
}

function flushDb(client: Client, args: string[]): void {
  parseFlushMode(args);
  client.db.clear();
  client.server.databaseChanged(client.db);
  client.reply.ok();
}

function flushAll(client: Client, args: string[]): void {
  parseFlushMode(args);
  const server = client.server;
  for (const db of server.keyspace.databases) {
    db.clear();
    server.databaseChanged(db);
  }
  server.persistence.flushedAll();
  client.reply.ok();
}

/**
 * SWAPDB: the databases exchange their contents. Clients blocked on keys of
 * either database are woken if the keys they wait for now have data (the
 * blocking part hears of both databases changing), as Redis's
 * scanDatabaseForReadyKeys does.
 */
function swapDb(client: Client, args: string[]): void {
  const server = client.server;
  const first = parseInteger(args[1]!);
  const second = parseInteger(args[2]!);
  if (first === undefined) throw new CommandError(INVALID_FIRST_DB_INDEX);
  if (second === undefined) throw new CommandError(INVALID_SECOND_DB_INDEX);
  const a = server.keyspace.databases[first];
  const b = server.keyspace.databases[second];
  if (a === undefined || b === undefined) throw new CommandError(DB_INDEX_OUT_OF_RANGE);
  if (a !== b) {
    a.swapContent(b);
    server.databaseChanged(a);
    server.databaseChanged(b);
  } else {
    server.dirty++;
  }
  client.reply.ok();
}

function configGetCommand(client: Client, args: string[]): void {
  const matches = configGet(client.server.config, args.slice(2));
  client.reply.mapHeader(matches.length);
  for (const [name, value] of matches) {
    client.reply.bulk(name);
    client.reply.bulk(value);
  }
}

function configSetCommand(client: Client, args: string[]): void {
  const server = client.server;
  const result = configSet(server.config, args.slice(2), {
    localClient: isLocalClient(client),
    loading: server.loading,
    apply: server.configListeners.apply,
  });
  // Like Redis, passwords never reach the slow log, even when the command fails.
  for (const index of result.sensitiveArguments) args[index + 2] = REDACTED;
  for (const warning of result.warnings) server.log.warning(warning);
  if (!result.ok) throw new CommandError(result.error);
  client.reply.ok();
}

function configRewrite(client: Client): void {
  const server = client.server;
  const users = server.acl.users().map((user) => `${user.name} ${user.describe()}`);
  const failure = rewriteConfigFile(server.config, { users });
  if (failure !== undefined) {
    server.log.warning(`CONFIG REWRITE failed: ${failure.replace(/^ERR /, "")}`);
    throw new CommandError(failure);
  }
  server.log.notice("CONFIG REWRITE executed with success.");
  client.reply.ok();
}

/**
 * CONFIG RESETSTAT: what Redis's resetServerStats clears — the INFO
 * counters, command and error statistics, latency histograms, the
 * instantaneous rates and the memory peak. The slow log and the latency
 * monitor are kept (they have RESET subcommands of their own).
 */
function configResetStat(client: Client): void {
  const server = client.server;
  const stats = server.stats;
  stats.commandsProcessed = 0;
  stats.connectionsReceived = 0;
  stats.rejectedConnections = 0;
  stats.keyspaceHits = 0;
  stats.keyspaceMisses = 0;
  stats.netInputBytes = 0;
  stats.netOutputBytes = 0;
  server.keyspace.expiredKeys = 0;
  server.operations.resetStats();
  client.reply.ok();
}

const CONFIG_HELP = [
  "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "GET <pattern>",
  "    Return parameters matching the glob-like <pattern> and their values.",
  "SET <directive> <value>",
  "    Set the configuration <directive> to <value>.",
  "RESETSTAT",
  "    Reset statistics reported by the INFO command.",
  "REWRITE",
  "    Rewrite the configuration file.",
  "HELP",
  "    Prints this help.",
];

/**
 * SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT], as Redis 7.0's
 * shutdownCommand and prepareForShutdown: SAVE saves even without save
 * points, NOSAVE never saves, neither saves when save points are set; a
 * failed save stops the shutdown unless FORCE. There are no replicas to
 * wait for, so NOW and `shutdown-timeout` change nothing and ABORT never
 * finds a shutdown to cancel. A successful SHUTDOWN sends no reply: the
 * connection just closes, with the process.
 */
function shutdown(client: Client, args: string[]): void {
  const cursor = new ArgumentCursor(args);
  const options = new Set<string>();
  while (cursor.hasMore()) {
    const option = cursor.accept("NOSAVE", "SAVE", "NOW", "FORCE", "ABORT");
    if (option === undefined) throw new CommandError(SYNTAX_ERROR);
    options.add(option);
  }
  const abort = options.has("ABORT");
  if ((abort && options.size > 1) || (options.has("SAVE") && options.has("NOSAVE"))) {
    throw new CommandError(SYNTAX_ERROR);
  }
  if (abort) throw new CommandError(NO_SHUTDOWN_IN_PROGRESS);
  const server = client.server;
  server.log.warning("User requested shutdown...");
  // Half-loaded data is never saved, as in Redis.
  const save = !server.loading && (options.has("SAVE") ||
    (!options.has("NOSAVE") && server.config.savePoints.length > 0));
  if (save) {
    server.log.notice("Saving the final RDB snapshot before exiting.");
    if (!server.persistence.saveNow()) {
      if (!options.has("FORCE")) {
        server.log.warning("Error trying to save the DB, can't exit.");
        throw new CommandError(SHUTDOWN_FAILED);
      }
      server.log.warning("Error trying to save the DB. Exit anyway.");
    }
  }
  if (!server.shutdown()) throw new CommandError(SHUTDOWN_FAILED);
}

function time(client: Client): void {
  const micros = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
  client.reply.arrayHeader(2);
  client.reply.bulk(String(micros / 1000000n));
  client.reply.bulk(String(micros % 1000000n));
}

/** C's LLONG_MAX, as near as a double gets. */
const LLONG_MAX = 2 ** 63;

/**
 * A timeout in milliseconds as Redis's getTimeoutFromObjectOrReply reads it
 * (CLIENT PAUSE, WAIT): a 64-bit integer, not negative; returns the
 * absolute deadline in ms, or 0 for a timeout of 0.
 */
export function millisecondsTimeout(text: string, now = Date.now()): number {
  const value = parseInteger(text);
  if (value === undefined) throw new CommandError(TIMEOUT_NOT_INTEGER);
  if (value < 0) throw new CommandError(TIMEOUT_NEGATIVE);
  if (value === 0) return 0;
  if (value > LLONG_MAX - now) throw new CommandError(TIMEOUT_OUT_OF_RANGE);
  return now + value;
}

/**
 * LOLWUT [VERSION v] [...]: version 5 draws Georg Nees's Schotter in
 * Braille characters, as Redis's lolwut5.c; every other version (Redis
 * 7.0's default among them) just names the version.
 */
function lolwut(client: Client, args: string[]): void {
  let version = 7;
  let rest = args.slice(1);
  if (args.length >= 3 && args[1]!.toLowerCase() === "version") {
    const asked = parseInteger(args[2]!);
    if (asked === undefined) throw new CommandError(NOT_INTEGER);
    version = asked;
    rest = args.slice(3);
  }
  if (version !== 5) {
    client.reply.bulk(`Redis ver. ${VERSION}\n`);
    return;
  }
  const numbers: number[] = [];
  for (const arg of rest.slice(0, 3)) {
    const value = parseInteger(arg);
    if (value === undefined) throw new CommandError(NOT_INTEGER);
    numbers.push(value);
  }
  const clamp = (value: number, max: number) => Math.min(Math.max(value, 1), max);
  const columns = clamp(numbers[0] ?? 66, 1000);
  const perRow = clamp(numbers[1] ?? 8, 200);
  const perColumn = clamp(numbers[2] ?? 12, 200);
  const art = renderBraille(drawSchotter(columns, perRow, perColumn));
  client.reply.bulk(
    `${art}\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ${VERSION}\n`,
  );
}

/** A black-and-white canvas of pixels. */
interface Canvas {
  width: number;
  height: number;
  pixels: Uint8Array;
}

function drawPixel(canvas: Canvas, x: number, y: number): void {
  if (x < 0 || x >= canvas.width || y < 0 || y >= canvas.height) return;
  canvas.pixels[x + y * canvas.width] = 1;
}

function pixel(canvas: Canvas, x: number, y: number): boolean {
  if (x < 0 || x >= canvas.width || y < 0 || y >= canvas.height) return false;
  return canvas.pixels[x + y * canvas.width] === 1;
}

/** Bresenham's line, as lwDrawLine. */
function drawLine(canvas: Canvas, x1: number, y1: number, x2: number, y2: number): void {
  const dx = Math.abs(x2 - x1);
  const dy = Math.abs(y2 - y1);
  const sx = x1 < x2 ? 1 : -1;
  const sy = y1 < y2 ? 1 : -1;
  let error = dx - dy;
  for (;;) {
    drawPixel(canvas, x1, y1);
    if (x1 === x2 && y1 === y2) break;
    const doubled = error * 2;
    if (doubled > -dy) {
      error -= dy;
      x1 += sx;
    }
    if (doubled < dx) {
      error += dx;
      y1 += sy;
    }
  }
}

function drawSquare(canvas: Canvas, x: number, y: number, size: number, angle: number): void {
  const side = Math.round(size / 1.4142135623);
  const xs: number[] = [];
  const ys: number[] = [];
  let k = Math.PI / 4 + angle;
  for (let j = 0; j < 4; j++) {
    xs.push(Math.round(Math.sin(k) * side + x));
    ys.push(Math.round(Math.cos(k) * side + y));
    k += Math.PI / 2;
  }
  for (let j = 0; j < 4; j++) drawLine(canvas, xs[j]!, ys[j]!, xs[(j + 1) % 4]!, ys[(j + 1) % 4]!);
}

/** lwDrawSchotter: rows of squares ever more rotated and displaced going down. */
function drawSchotter(columns: number, perRow: number, perColumn: number): Canvas {
  const width = columns * 2;
  const padding = width > 4 ? 2 : 0;
  const side = (width - padding * 2) / perRow;
  const height = Math.trunc(side * perColumn + padding * 2);
  const canvas = { width, height, pixels: new Uint8Array(width * height) };
  for (let y = 0; y < perColumn; y++) {
    for (let x = 0; x < perRow; x++) {
      let sx = Math.trunc(x * side + side / 2 + padding);
      let sy = Math.trunc(y * side + side / 2 + padding);
      let angle = 0;
      if (y > 1) {
        const sign = () => (Math.random() < 0.5 ? -1 : 1);
        const r1 = Math.random() / perColumn * y * sign();
        const r2 = Math.random() / perColumn * y * sign();
        const r3 = Math.random() / perColumn * y * sign();
        angle = r1;
        sx = Math.trunc(sx + r2 * side / 3);
        sy = Math.trunc(sy + r3 * side / 3);
      }
      drawSquare(canvas, sx, sy, side, angle);
    }
  }
  return canvas;
}

/** Braille characters of 2×4 pixels each, UTF-8 encoded as a binary string. */
function renderBraille(canvas: Canvas): string {
  let text = "";
  for (let y = 0; y < canvas.height; y += 4) {
    for (let x = 0; x < canvas.width; x += 2) {
      let bits = 0;
      if (pixel(canvas, x, y)) bits |= 1 << 0;
      if (pixel(canvas, x, y + 1)) bits |= 1 << 1;
      if (pixel(canvas, x, y + 2)) bits |= 1 << 2;
      if (pixel(canvas, x + 1, y)) bits |= 1 << 3;
      if (pixel(canvas, x + 1, y + 1)) bits |= 1 << 4;
      if (pixel(canvas, x + 1, y + 2)) bits |= 1 << 5;
      if (pixel(canvas, x, y + 3)) bits |= 1 << 6;
      if (pixel(canvas, x + 1, y + 3)) bits |= 1 << 7;
      const code = 0x2800 + bits;
      text += String.fromCharCode(
        0xe0 | (code >> 12),
        0x80 | ((code >> 6) & 0x3f),
        0x80 | (code & 0x3f),
      );
    }
    if (y !== canvas.height - 1) text += "\n";
  }
  return text;
}

/** A CONFIG subcommand: admin, noscript, loading, stale. */
function configSubcommand(
  name: string,
  arity: number,
  handler: CommandDeclaration["handler"],
): CommandDeclaration {
  return {
    name: `config|${name}`,
    arity,
    flags: ["admin", "noscript", "loading", "stale"],
    handler,
  };
}

export const serverCommands = [
  command({
    name: "info",
    arity: -1,
    flags: ["loading", "stale"],
    aclCategories: ["dangerous"],
    handler: (client, args) => client.reply.verbatim(client.server.info(args.slice(1))),
  }),
  command({
    name: "dbsize",
    arity: 1,
    flags: ["readonly", "fast"],
    aclCategories: ["keyspace"],
    handler: (client) => client.reply.integer(client.db.size),
  }),
  command({
    name: "flushdb",
    arity: -1,
    flags: ["write"],
    aclCategories: ["keyspace", "dangerous"],
    handler: flushDb,
  }),
  command({
    name: "flushall",
    arity: -1,
    flags: ["write"],
    aclCategories: ["keyspace", "dangerous"],
    handler: flushAll,
  }),
  command({
    name: "swapdb",
    arity: 3,
    flags: ["write", "fast"],
    aclCategories: ["keyspace", "dangerous"],
    handler: swapDb,
  }),
  command({
    name: "time",
    arity: 1,
    flags: ["loading", "stale", "fast"],
    handler: time,
  }),
  command({
    name: "shutdown",
    arity: -1,
    flags: ["admin", "noscript", "loading", "stale", "no_multi", "allow_busy"],
    handler: shutdown,
  }),
  command({
    name: "lolwut",
    arity: -1,
    flags: ["readonly", "fast"],
    handler: lolwut,
  }),
  command({
    name: "config",
    arity: -2,
    flags: [],
    subcommands: [
      configSubcommand("get", -3, configGetCommand),
      configSubcommand("set", -4, configSetCommand),
      configSubcommand("resetstat", 2, configResetStat),
      configSubcommand("rewrite", 2, configRewrite),
      {
        name: "config|help",
        arity: 2,
        flags: ["loading", "stale"],
        handler: (client) => helpReply(client, CONFIG_HELP),
      },
    ],
  }),
  commandCommand,
];
