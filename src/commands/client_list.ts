/**
 * Clients as CLIENT LIST, CLIENT INFO and CLIENT KILL see them: the line
 * Redis 7.0's catClientInfoString prints, Redis's client types, and
 * whether a client is local (for `enable-*-command local` and
 * `enable-protected-configs local`).
 *
 * The line has Redis 7.0.15's fields in its order, then 7.2's `lib-name`
 * and `lib-ver` (CLIENT SETINFO is accepted, as clients send it on
 * connect). The flags come from the
 * client and from the operations part (MONITOR `O`, tracking `t` `R` `B`,
 * NO-EVICT `e`), in catClientInfoString's order. Buffer fields describe
 * what this server has: the unsent output (`omem`, `obl`), nothing for the
 * query buffer, which the connection owns and parses in place.
 *
 * @module
 */

import type { Client } from "./client.ts";

/** Redis's client types (getClientTypeByName); `slave` is an alias of `replica`. */
export type ClientType = "normal" | "replica" | "pubsub" | "master";

/** The type named `name` (any case), or undefined for an unknown one. */
export function clientTypeByName(name: string): ClientType | undefined {
  switch (name.toLowerCase()) {
    case "normal":
      return "normal";
    case "slave":
    case "replica":
      return "replica";
    case "pubsub":
      return "pubsub";
    case "master":
      return "master";
    default:
      return undefined;
  }
}

/** Redis's getClientType: a subscriber is `pubsub`, a MONITOR client `normal`. */
export function clientType(client: Client): ClientType {
  if (client.kind !== "normal") return client.kind;
  return client.subscriptionCount > 0 ? "pubsub" : "normal";
}

/** The host part of an address (`127.0.0.1:6379` → `127.0.0.1`, `[::1]:6379` → `::1`). */
function hostOf(address: string): string {
  if (address.startsWith("[")) return address.slice(1, address.indexOf("]"));
  const colon = address.lastIndexOf(":");
  return colon < 0 ? address : address.slice(0, colon);
}

/** Redis's islocalClient: a Unix socket, or exactly 127.0.0.1 or ::1. */
export function isLocalClient(client: Client): boolean {
  const address = client.transport.remoteAddress;
  if (address.startsWith("/") || address.startsWith("unix:")) return true;
  const host = hostOf(address);
  return host === "127.0.0.1" || host === "::1";
}

/** Bytes waiting to be sent to `client`. */
function pendingOutput(client: Client): number {
  return client.reply.length + client.transport.pendingBytes;
}

/** Redis's reply buffer size (PROTO_REPLY_CHUNK_BYTES): `obl` is what fits in it. */
const REPLY_BUFFER_BYTES = 16 * 1024;

/** The flags field of CLIENT LIST, in Redis's order. */
function clientFlags(client: Client): string {
  const operations = client.server.operations;
  const tracking = operations.tracking.optionsOf(client);
  let flags = "";
  if (client.kind === "replica") flags += "S";
  if (client.kind === "master") flags += "M";
  if (operations.monitors.has(client)) flags += "O";
  if (client.subscriptionCount > 0) flags += "P";
  if (client.transaction !== undefined) flags += "x";
  if (client.blocked !== undefined) flags += "b";
  if (tracking !== undefined) {
    flags += "t";
    if (tracking.brokenRedirect) flags += "R";
    if (tracking.bcast) flags += "B";
  }
  if (client.watchedKeyChanged) flags += "d";
  if (client.closeAfterReply) flags += "c";
  if (operations.noEvict.has(client)) flags += "e";
  return flags === "" ? "N" : flags;
}

/**
 * One line of CLIENT LIST / CLIENT INFO (without the newline), as Redis
 * 7.0's catClientInfoString.
 */
export function clientListLine(client: Client, now = Date.now()): string {
  const operations = client.server.operations;
  const tracking = operations.tracking.optionsOf(client);
  const output = pendingOutput(client);
  const bufferedOutput = Math.min(client.reply.length, REPLY_BUFFER_BYTES);
  return `id=${client.id} addr=${client.transport.remoteAddress} laddr=${client.transport.localAddress} fd=${
    client.id + 7
  } name=${client.name} age=${Math.floor((now - client.createdAt) / 1000)} idle=${
    Math.floor((now - client.lastInteractionAt) / 1000)
  } flags=${
    clientFlags(client)
  } db=${client.db.index} sub=${client.channels.size} psub=${client.patterns.size} ssub=${client.shardChannels.size} multi=${
    client.transaction ? client.transaction.length : -1
  } qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=${bufferedOutput} oll=0 omem=${output} tot-mem=${
    output + 1024
  } events=${
    output > 0 ? "rw" : "r"
  } cmd=${client.lastCommandName} user=${client.user.name} redir=${
    tracking === undefined ? -1 : tracking.redirect
  } resp=${client.protocol} lib-name=${client.libraryName} lib-ver=${client.libraryVersion}`;
}
