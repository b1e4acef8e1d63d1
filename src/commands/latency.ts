/**
 * LATENCY LATEST | HISTORY | RESET | GRAPH | DOCTOR | HISTOGRAM | HELP.
 *
 * The first five read the latency monitor (operations/latency_monitor.ts),
 * fed when `latency-monitor-threshold` is set; HISTOGRAM reads the
 * per-command latency histograms `latency-tracking` keeps (the same ones
 * INFO latencystats summarises), as Redis's latency.c answers them.
 *
 * @module
 */

import type { Client } from "./client.ts";
import { CommandError, noLatencySamples } from "./errors.ts";
import { helpReply } from "./help.ts";
import { type LatencyHistogram } from "./operations/mod.ts";
import { type Command, command, type CommandDeclaration } from "./table.ts";

function latest(client: Client): void {
  const samples = client.server.operations.latency.latest();
  const reply = client.reply;
  reply.arrayHeader(samples.length);
  for (const sample of samples) {
    reply.arrayHeader(4);
    reply.bulk(sample.event);
    reply.integer(sample.time);
    reply.integer(sample.milliseconds);
    reply.integer(sample.max);
  }
}

function history(client: Client, args: string[]): void {
  const samples = client.server.operations.latency.history(args[2]!);
  client.reply.arrayHeader(samples.length);
  for (const [time, milliseconds] of samples) {
    client.reply.arrayHeader(2);
    client.reply.integer(time);
    client.reply.integer(milliseconds);
  }
}

function graph(client: Client, args: string[]): void {
  const text = client.server.operations.latency.graph(args[2]!);
  if (text === undefined) throw new CommandError(noLatencySamples(args[2]!));
  client.reply.verbatim(text);
}

function doctor(client: Client): void {
  const config = client.server.config;
  client.reply.verbatim(
    client.server.operations.latency.doctor({
      latencyMonitorThreshold: config.latencyMonitorThreshold,
      slowlogLogSlowerThan: config.slowlogLogSlowerThan,
    }),
  );
}

/** Redis's fillCommandCDF: calls and the cumulative distribution, as a map. */
function writeDistribution(client: Client, histogram: LatencyHistogram): void {
  const reply = client.reply;
  reply.mapHeader(2);
  reply.bulk("calls");
  reply.integer(histogram.totalCount);
  reply.bulk("histogram_usec");
  const pairs = histogram.cumulativeDistribution();
  reply.mapHeader(pairs.length);
  for (const [microseconds, count] of pairs) {
    reply.integer(microseconds);
    reply.integer(count);
  }
}

/** A command by its full name (`get`, `config|get`), as Redis's lookupCommandBySds. */
function commandByFullName(client: Client, name: string): Command | undefined {
  const parts = name.split("|");
  if (parts.length > 2) return undefined;
  const cmd = client.server.commands.lookup(parts[0]!);
  if (parts.length === 1 || cmd === undefined) return cmd;
  return cmd.subcommandTable?.get(parts[1]!.toLowerCase());
}

/**
 * LATENCY HISTOGRAM [command ...]: every command with a histogram, or the
 * named ones (a container brings its subcommands), unknown names skipped.
 */
function histogram(client: Client, args: string[]): void {
  const stats = client.server.operations.commandStats;
  const found: [Command, LatencyHistogram][] = [];
  if (args.length === 2) {
    found.push(...stats.histograms());
  } else {
    for (const name of args.slice(2)) {
      const cmd = commandByFullName(client, name);
      if (cmd === undefined) continue;
      const own = stats.histogram(cmd);
      if (own !== undefined) found.push([cmd, own]);
      for (const sub of cmd.subcommandTable?.values() ?? []) {
        const histogram = stats.histogram(sub);
        if (histogram !== undefined) found.push([sub, histogram]);
      }
    }
  }
  client.reply.mapHeader(found.length);
  for (const [cmd, histogram] of found) {
    client.reply.bulk(cmd.name);
    writeDistribution(client, histogram);
  }
}

const LATENCY_HELP = [
  "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "DOCTOR",
  "    Return a human readable latency analysis report.",
  "GRAPH <event>",
  "    Return an ASCII latency graph for the <event> class.",
  "HISTORY <event>",
  "    Return time-latency samples for the <event> class.",
  "LATEST",
  "    Return the latest latency samples for all events.",
  "RESET [<event> ...]",
  "    Reset latency data of one or more <event> classes.",
  "    (default: reset all data for all event classes)",
  "HISTOGRAM [COMMAND ...]",
  "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
  "    If no commands are specified then all histograms are replied.",
  "HELP",
  "    Prints this help.",
];

/** A LATENCY subcommand: admin, noscript, loading, stale. */
function latencySubcommand(
  name: string,
  arity: number,
  handler: CommandDeclaration["handler"],
): CommandDeclaration {
  return {
    name: `latency|${name}`,
    arity,
    flags: ["admin", "noscript", "loading", "stale"],
    handler,
  };
}

export const latencyCommands = [
  command({
    name: "latency",
    arity: -2,
    flags: [],
    subcommands: [
      latencySubcommand("doctor", 2, doctor),
      latencySubcommand("graph", 3, graph),
      latencySubcommand("history", 3, history),
      latencySubcommand("latest", 2, latest),
      latencySubcommand("reset", -2, (client, args) => {
        client.reply.integer(client.server.operations.latency.reset(args.slice(2)));
      }),
      latencySubcommand("histogram", -2, histogram),
      {
        name: "latency|help",
        arity: 2,
        flags: ["loading", "stale"],
        handler: (client) => helpReply(client, LATENCY_HELP),
      },
    ],
  }),
];
