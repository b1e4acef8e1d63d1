/**
 * `client-output-buffer-limit`: how much unsent output a client may pile up
 * before the server cuts it off, per class of client, as Redis's
 * checkClientOutputBufferLimits does.
 *
 * A client over its class's hard limit is closed at once; one over the soft
 * limit is closed once it has stayed over it for the soft limit's seconds.
 * A limit of 0 means none (Redis's default for normal clients). What counts
 * is what the client has not taken yet: replies written and not handed to
 * the socket plus what the socket layer still holds.
 *
 * @module
 */

import type { Client } from "../commands/client.ts";

/** One class's limits, in bytes and seconds; 0 disables a limit. */
export interface OutputBufferLimit {
  hardBytes: number;
  softBytes: number;
  softSeconds: number;
}

/** The classes Redis distinguishes (`CLIENT LIST TYPE`, the config's class names). */
export type ClientClass = "normal" | "replica" | "pubsub";

/** Redis 7.0's defaults: `normal 0 0 0`, `replica 256mb 64mb 60`, `pubsub 32mb 8mb 60`. */
export const DEFAULT_OUTPUT_LIMITS: Readonly<Record<ClientClass, OutputBufferLimit>> = {
  normal: { hardBytes: 0, softBytes: 0, softSeconds: 0 },
  replica: { hardBytes: 256 * 1024 * 1024, softBytes: 64 * 1024 * 1024, softSeconds: 60 },
  pubsub: { hardBytes: 32 * 1024 * 1024, softBytes: 8 * 1024 * 1024, softSeconds: 60 },
};

/** Redis's getClientType: subscribers are the pubsub class. */
export function clientClass(client: Client): ClientClass {
  if (client.kind === "replica") return "replica";
  return client.subscriptionCount > 0 ? "pubsub" : "normal";
}

/**
 * Whether `client` must be closed for its unsent output. Keeps the time it
 * went over the soft limit on the client; `now` is in ms.
 */
export function overOutputLimit(client: Client, limit: OutputBufferLimit, now: number): boolean {
  const pending = client.transport.pendingBytes + client.reply.length;
  if (limit.hardBytes > 0 && pending >= limit.hardBytes) return true;
  if (limit.softBytes === 0 || pending < limit.softBytes) {
    client.outputSoftLimitSince = 0;
    return false;
  }
  if (client.outputSoftLimitSince === 0) {
    client.outputSoftLimitSince = now;
    return false;
  }
  return now - client.outputSoftLimitSince > limit.softSeconds * 1000;
}
