/**
 * Pub/Sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE,
 * SSUBSCRIBE, SUNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB.
 *
 * Channels, patterns and shard channels are three kinds of the same thing:
 * a name a client subscribes to, kept twice, in the client's own set (for
 * its counts and UNSUBSCRIBE without arguments) and in a server-wide map
 * from name to subscribers (for PUBLISH). One pair of handlers serves all
 * three kinds through a small `SubscriptionKind` table that says where each
 * is kept and what its replies are called. The server-wide maps live in the
 * server's `pubsub` part (Redis's `server.pubsub_channels`).
 *
 * Publishing writes the message into each subscriber's reply buffer and
 * marks it pending, so it leaves with the publisher's batch flush. A
 * message is encoded once per protocol, however many subscribers get it:
 * RESP2 subscribers get an array, RESP3 ones a push frame. Publishers never
 * wait for subscribers: marking one pending checks its output against
 * `client-output-buffer-limit pubsub` (the server's job, for every class of
 * client), so one that stops reading is disconnected.
 *
 * Keyspace notifications (notifications.ts) publish through the same
 * `publish`.
 *
 * @module
 */

import { type ProtocolVersion, ReplyWriter } from "../protocol/reply_writer.ts";
import type { Client } from "./client.ts";
import type { KeyspaceEvents, ServerContext } from "./context.ts";
import { globMatch } from "../store/glob.ts";
import { CommandError, subcommandSyntaxError } from "./errors.ts";
import { command, type CommandDeclaration, type CommandFlag } from "./table.ts";

/** The server-wide side of Pub/Sub: who is subscribed to what. */
export class PubSub implements KeyspaceEvents {
  readonly channels = new Map<string, Set<Client>>();
  readonly patterns = new Map<string, Set<Client>>();
  readonly shardChannels = new Map<string, Set<Client>>();

  constructor(readonly server: ServerContext) {}

  /**
   * Publishes `message` on `channel` to its subscribers and to those of
   * every matching pattern; returns how many deliveries were made (a client
   * with a channel and a pattern subscription counts twice, as in Redis).
   *
   * @example
   * ```ts
   * server.pubsub.publish("news", "hello"); // 0 when nobody listens
   * ```
   */
  publish(channel: string, message: string): number {
    let receivers = this.deliver(
      this.channels.get(channel),
      new EncodedMessage(["message", channel, message]),
    );
    if (this.patterns.size === 0) return receivers;
    for (const [pattern, subscribers] of this.patterns) {
      if (!globMatch(pattern, channel)) continue;
      receivers += this.deliver(
        subscribers,
        new EncodedMessage(["pmessage", pattern, channel, message]),
      );
    }
    return receivers;
  }

  /** Queues `message` for each of `subscribers`; returns how many there were. */
  deliver(subscribers: Set<Client> | undefined, message: EncodedMessage): number {
    if (subscribers === undefined) return 0;
    let count = 0;
    for (const subscriber of subscribers) {
      subscriber.reply.raw(message.bytes(subscriber.protocol));
      this.server.markPending(subscriber);
      count++;
    }
    return count;
  }

  clientClosed(client: Client): void {
    this.#unsubscribeAll(client);
  }

  clientReset(client: Client): void {
    this.#unsubscribeAll(client);
  }

  /** Ends every subscription of `client` without replying (disconnect, RESET). */
  #unsubscribeAll(client: Client): void {
    for (const kind of KINDS) {
      for (const name of kind.of(client)) removeSubscription(this, kind, client, name);
    }
  }
}

/** What differs between channels, patterns and shard channels. */
interface SubscriptionKind {
  /** First element of the reply to a subscription (`subscribe`, `psubscribe`, ...). */
  readonly subscribed: string;
  /** First element of the reply to an unsubscription. */
  readonly unsubscribed: string;
  /** The server-wide map of this kind: name → subscribers. */
  registry(pubsub: PubSub): Map<string, Set<Client>>;
  /** The client's own subscriptions of this kind. */
  of(client: Client): Set<string>;
  /** The count Redis puts in each (un)subscription reply of this kind. */
  count(client: Client): number;
}

/** Channels and patterns report their combined count; shard channels their own. */
const channelAndPatternCount = (client: Client) => client.channels.size + client.patterns.size;

const CHANNELS: SubscriptionKind = {
  subscribed: "subscribe",
  unsubscribed: "unsubscribe",
  registry: (pubsub) => pubsub.channels,
  of: (client) => client.channels,
  count: channelAndPatternCount,
};

const PATTERNS: SubscriptionKind = {
  subscribed: "psubscribe",
  unsubscribed: "punsubscribe",
  registry: (pubsub) => pubsub.patterns,
  of: (client) => client.patterns,
  count: channelAndPatternCount,
};

const SHARD_CHANNELS: SubscriptionKind = {
  subscribed: "ssubscribe",
  unsubscribed: "sunsubscribe",
  registry: (pubsub) => pubsub.shardChannels,
  of: (client) => client.shardChannels,
  count: (client) => client.shardChannels.size,
};

const KINDS = [CHANNELS, PATTERNS, SHARD_CHANNELS] as const;

/** The reply to one (un)subscription; `name` is undefined for "nothing to unsubscribe". */
function confirm(client: Client, word: string, name: string | undefined, count: number): void {
  const reply = client.reply;
  reply.pushHeader(3);
  reply.bulk(word);
  if (name === undefined) reply.nullBulk();
  else reply.bulk(name);
  reply.integer(count);
}

/** SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE: one confirmation per name, repeats included. */
function subscribe(kind: SubscriptionKind) {
  return (client: Client, args: string[]): void => {
    const registry = kind.registry(client.server.pubsub);
    const own = kind.of(client);
    for (let i = 1; i < args.length; i++) {
      const name = args[i]!;
      if (!own.has(name)) {
        own.add(name);
        const subscribers = registry.get(name);
        if (subscribers === undefined) registry.set(name, new Set([client]));
        else subscribers.add(client);
      }
      confirm(client, kind.subscribed, name, kind.count(client));
    }
  };
}

/**
 * UNSUBSCRIBE, PUNSUBSCRIBE, SUNSUBSCRIBE: the named subscriptions (each
 * confirmed, subscribed or not), or without names every one of the kind,
 * and a single confirmation with a null name when there is none.
 */
function unsubscribe(kind: SubscriptionKind) {
  return (client: Client, args: string[]): void => {
    const pubsub = client.server.pubsub;
    const own = kind.of(client);
    if (args.length > 1) {
      for (let i = 1; i < args.length; i++) {
        removeSubscription(pubsub, kind, client, args[i]!);
        confirm(client, kind.unsubscribed, args[i], kind.count(client));
      }
    } else if (own.size === 0) {
      confirm(client, kind.unsubscribed, undefined, kind.count(client));
    } else {
      for (const name of own) {
        removeSubscription(pubsub, kind, client, name);
        confirm(client, kind.unsubscribed, name, kind.count(client));
      }
    }
  };
}

function removeSubscription(
  pubsub: PubSub,
  kind: SubscriptionKind,
  client: Client,
  name: string,
): void {
  if (!kind.of(client).delete(name)) return;
  const registry = kind.registry(pubsub);
  const subscribers = registry.get(name)!;
  subscribers.delete(client);
  if (subscribers.size === 0) registry.delete(name);
}

/** A message encoded at most once per protocol, however many subscribers get it. */
export class EncodedMessage {
  static readonly #encoder = new ReplyWriter();
  #resp2: Uint8Array | undefined;
  #resp3: Uint8Array | undefined;

  constructor(readonly parts: readonly string[]) {}

  bytes(protocol: ProtocolVersion): Uint8Array {
    return protocol === 3
      ? (this.#resp3 ??= this.#encode(protocol))
      : (this.#resp2 ??= this.#encode(protocol));
  }

  #encode(protocol: ProtocolVersion): Uint8Array {
    const encoder = EncodedMessage.#encoder;
    encoder.protocol = protocol;
    encoder.pushHeader(this.parts.length);
    for (const part of this.parts) encoder.bulk(part);
    return encoder.take();
  }
}

function publishCommand(client: Client, args: string[]): void {
  client.reply.integer(client.server.pubsub.publish(args[1]!, args[2]!));
}

/** SPUBLISH: shard channels have no patterns. */
function shardPublish(client: Client, args: string[]): void {
  const pubsub = client.server.pubsub;
  const channel = args[1]!;
  client.reply.integer(
    pubsub.deliver(
      pubsub.shardChannels.get(channel),
      new EncodedMessage(["smessage", channel, args[2]!]),
    ),
  );
}

/** PUBSUB CHANNELS / SHARDCHANNELS [pattern]: names with at least one subscriber. */
function activeChannels(kind: SubscriptionKind) {
  return (client: Client, args: string[]): void => {
    if (args.length > 3) throw new CommandError(subcommandSyntaxError(args[1]!, "pubsub"));
    const pattern = args[2];
    const names: string[] = [];
    for (const name of kind.registry(client.server.pubsub).keys()) {
      if (pattern === undefined || globMatch(pattern, name)) names.push(name);
    }
    client.reply.bulkArray(names);
  };
}

/** PUBSUB NUMSUB / SHARDNUMSUB [name ...]: name, count pairs (an array in RESP3 too). */
function subscriberCounts(kind: SubscriptionKind) {
  return (client: Client, args: string[]): void => {
    const registry = kind.registry(client.server.pubsub);
    const reply = client.reply;
    reply.arrayHeader((args.length - 2) * 2);
    for (let i = 2; i < args.length; i++) {
      reply.bulk(args[i]!);
      reply.integer(registry.get(args[i]!)?.size ?? 0);
    }
  };
}

const PUBSUB_HELP = [
  "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CHANNELS [<pattern>]",
  "    Return the currently active channels matching a <pattern> (default: '*').",
  "NUMPAT",
  "    Return number of subscriptions to patterns.",
  "NUMSUB [<channel> ...]",
  "    Return the number of subscribers for the specified channels, excluding",
  "    pattern subscriptions(default: no channels).",
  "SHARDCHANNELS [<pattern>]",
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  "SHARDNUMSUB [<shardchannel> ...]",
  "    Return the number of subscribers for the specified shard level channel(s)",
  "HELP",
  "    Prints this help.",
];

const SUBSCRIBE_FLAGS: readonly CommandFlag[] = ["pubsub", "noscript", "loading", "stale"];
const PUBLISH_FLAGS: readonly CommandFlag[] = ["pubsub", "loading", "stale", "fast"];
const INTROSPECTION_FLAGS: readonly CommandFlag[] = ["pubsub", "loading", "stale"];

function pubsubSubcommand(
  declaration: Omit<CommandDeclaration, "flags"> & { flags?: readonly CommandFlag[] },
): CommandDeclaration {
  return { flags: INTROSPECTION_FLAGS, ...declaration };
}

export const pubsubCommands = [
  command({
    name: "subscribe",
    arity: -2,
    flags: SUBSCRIBE_FLAGS,
    handler: subscribe(CHANNELS),
  }),
  command({
    name: "unsubscribe",
    arity: -1,
    flags: SUBSCRIBE_FLAGS,
    handler: unsubscribe(CHANNELS),
  }),
  command({
    name: "psubscribe",
    arity: -2,
    flags: SUBSCRIBE_FLAGS,
    handler: subscribe(PATTERNS),
  }),
  command({
    name: "punsubscribe",
    arity: -1,
    flags: SUBSCRIBE_FLAGS,
    handler: unsubscribe(PATTERNS),
  }),
  command({
    name: "ssubscribe",
    arity: -2,
    flags: SUBSCRIBE_FLAGS,
    keySpecs: [{ flags: ["NOT_KEY"], begin: { index: 1 }, find: { lastKey: -1 } }],
    handler: subscribe(SHARD_CHANNELS),
  }),
  command({
    name: "sunsubscribe",
    arity: -1,
    flags: SUBSCRIBE_FLAGS,
    keySpecs: [{ flags: ["NOT_KEY"], begin: { index: 1 }, find: { lastKey: -1 } }],
    handler: unsubscribe(SHARD_CHANNELS),
  }),
  command({
    name: "publish",
    arity: 3,
    flags: PUBLISH_FLAGS,
    handler: publishCommand,
  }),
  command({
    name: "spublish",
    arity: 3,
    flags: PUBLISH_FLAGS,
    keySpecs: [{ flags: ["NOT_KEY"], begin: { index: 1 }, find: { lastKey: 0 } }],
    handler: shardPublish,
  }),
  command({
    name: "pubsub",
    arity: -2,
    flags: [],
    subcommands: [
      pubsubSubcommand({
        name: "pubsub|channels",
        arity: -2,
        handler: activeChannels(CHANNELS),
      }),
      pubsubSubcommand({
        name: "pubsub|numsub",
        arity: -2,
        handler: subscriberCounts(CHANNELS),
      }),
      pubsubSubcommand({
        name: "pubsub|numpat",
        arity: 2,
        handler: (client) => client.reply.integer(client.server.pubsub.patterns.size),
      }),
      pubsubSubcommand({
        name: "pubsub|shardchannels",
        arity: -2,
        handler: activeChannels(SHARD_CHANNELS),
      }),
      pubsubSubcommand({
        name: "pubsub|shardnumsub",
        arity: -2,
        handler: subscriberCounts(SHARD_CHANNELS),
      }),
      pubsubSubcommand({
        name: "pubsub|help",
        arity: 2,
        flags: ["loading", "stale"],
        handler: (client) => {
          client.reply.arrayHeader(PUBSUB_HELP.length);
          for (const line of PUBSUB_HELP) client.reply.simple(line);
        },
      }),
    ],
  }),
];
