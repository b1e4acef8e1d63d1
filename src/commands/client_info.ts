/**
 * How a client is described to operators: the line CLIENT LIST and CLIENT
 * INFO print, and log messages and ACL LOG entries quote, in Redis's field
 * order. A module of its own because the connection commands, the ACL
 * family and the server's log all use it.
 *
 * @module
 */

import type { Client } from "./client.ts";

/** One line of CLIENT LIST / CLIENT INFO, in Redis's field order. */
export function describeClient(client: Client, now = Date.now()): string {
  const flags = (client.transaction ? "x" : "") + (client.blocked ? "b" : "") +
    (client.subscriptionCount > 0 ? "P" : "");
  return [
    `id=${client.id}`,
    `addr=${client.transport.remoteAddress}`,
    `laddr=${client.transport.localAddress}`,
    `fd=${client.id + 7}`,
    `name=${client.name}`,
    `age=${Math.floor((now - client.createdAt) / 1000)}`,
    `idle=${Math.floor((now - client.lastInteractionAt) / 1000)}`,
    `flags=${flags || "N"}`,
    `db=${client.db.index}`,
    `sub=${client.channels.size}`,
    `psub=${client.patterns.size}`,
    `ssub=${client.shardChannels.size}`,
    `multi=${client.transaction ? client.transaction.length : -1}`,
    `qbuf=0`,
    `qbuf-free=0`,
    `argv-mem=0`,
    `multi-mem=0`,
    `rbs=1024`,
    `rbp=0`,
    `obl=0`,
    `oll=0`,
    `omem=${client.transport.pendingBytes}`,
    `tot-mem=0`,
    `events=r`,
    `cmd=${client.lastCommandName}`,
    `user=${client.user.name}`,
    `redir=-1`,
    `resp=${client.protocol}`,
    `lib-name=${client.libraryName}`,
    `lib-ver=${client.libraryVersion}`,
  ].join(" ");
}
