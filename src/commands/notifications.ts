/**
 * Keyspace notifications: the messages `notify-keyspace-events` asks for.
 *
 * Every change a command makes to a key already reaches the server's parts
 * as `keyChanged(db, key, event, class)` (see `Client.changed`), and expiry
 * arrives the same way with event `expired`, class `x`. So notifications
 * are one more part: when the configured flags select the event's class, it
 * publishes `__keyspace@<db>__:<key>` with the event name and/or
 * `__keyevent@<db>__:<event>` with the key name through the server's
 * Pub/Sub, as Redis's `notifyKeyspaceEvent` does. The configuration keeps
 * the flags as text (`config.notifyKeyspaceEvents`); they are re-parsed only
 * when that text changes.
 *
 * @module
 */

import type { Config } from "../config.ts";
import { KEYEVENT, KEYSPACE, notifyClassFlag, parseNotifyFlags } from "../notify_flags.ts";
import type { Database } from "../store/keyspace.ts";
import type { KeyspaceEvents } from "./context.ts";
import type { PubSub } from "./pubsub.ts";

export class KeyspaceNotifier implements KeyspaceEvents {
  #parsedText = "";
  #flags = 0;

  constructor(readonly config: Config, readonly pubsub: PubSub) {}

  keyChanged(db: Database, key: string, event: string, eventClass: string): void {
    const text = this.config.notifyKeyspaceEvents;
    if (text !== this.#parsedText) {
      this.#parsedText = text;
      this.#flags = parseNotifyFlags(text) ?? 0;
    }
    const flags = this.#flags;
    if (flags === 0 || (flags & notifyClassFlag(eventClass)) === 0) return;
    if (flags & KEYSPACE) this.pubsub.publish(`__keyspace@${db.index}__:${key}`, event);
    if (flags & KEYEVENT) this.pubsub.publish(`__keyevent@${db.index}__:${event}`, key);
  }
}
