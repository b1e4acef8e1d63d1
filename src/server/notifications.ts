/**
 * Keyspace notifications: `notify-keyspace-events` and the messages it asks for.
 *
 * Every change a command makes to a key already reaches the server's key
 * change listeners as `(db, key, event, class)` (see `Client.changed`), and
 * expiry arrives the same way with event `expired`, class `x`. So
 * notifications are just one more listener: when the configured flags
 * select the event's class, it publishes `__keyspace@<db>__:<key>` with
 * the event name and/or `__keyevent@<db>__:<event>` with the key name, as
 * Redis's `notifyKeyspaceEvent` does. Publishing itself belongs to Pub/Sub,
 * which installs this listener and hands it its publish function, so this
 * module depends on nothing but the server's listener list.
 *
 * The flags are parsed here too, with Redis's letters and its error text,
 * so CONFIG SET, the command line and the listener agree on one reading.
 * The configuration keeps the flags as text (`config.notifyKeyspaceEvents`);
 * the listener re-parses only when that text changes.
 *
 * @module
 */

import type { Database } from "../store/keyspace.ts";
import type { Server } from "./server.ts";

/** Flag bits, as in Redis's server.h. */
const KEYSPACE = 1 << 0;
const KEYEVENT = 1 << 1;
const GENERIC = 1 << 2;
const STRING = 1 << 3;
const LIST = 1 << 4;
const SET = 1 << 5;
const HASH = 1 << 6;
const ZSET = 1 << 7;
const EXPIRED = 1 << 8;
const EVICTED = 1 << 9;
const STREAM = 1 << 10;
const KEY_MISS = 1 << 11;
const MODULE = 1 << 13;
const NEW = 1 << 14;
/** What `A` stands for: every class except key-miss (`m`) and new-key (`n`). */
const ALL = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/** The letter of each class, in the order Redis prints them. */
const CLASS_LETTERS: readonly [string, number][] = [
  ["g", GENERIC],
  ["$", STRING],
  ["l", LIST],
  ["s", SET],
  ["h", HASH],
  ["z", ZSET],
  ["x", EXPIRED],
  ["e", EVICTED],
  ["t", STREAM],
  ["d", MODULE],
  ["n", NEW],
];

const LETTER_FLAGS: ReadonlyMap<string, number> = new Map([
  ...CLASS_LETTERS,
  ["A", ALL],
  ["K", KEYSPACE],
  ["E", KEYEVENT],
  ["m", KEY_MISS],
]);

/** Redis's reply to a flag string with a letter it does not know. */
export const INVALID_NOTIFY_FLAGS = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";

/**
 * Reads a `notify-keyspace-events` value into flag bits, or undefined if it
 * holds a letter Redis does not accept (then CONFIG SET fails with
 * `INVALID_NOTIFY_FLAGS`).
 *
 * @example
 * ```ts
 * parseNotifyFlags("KEA") !== undefined; // true
 * parseNotifyFlags("xyz"); // undefined
 * ```
 */
export function parseNotifyFlags(text: string): number | undefined {
  let flags = 0;
  for (const letter of text) {
    const flag = LETTER_FLAGS.get(letter);
    if (flag === undefined) return undefined;
    flags |= flag;
  }
  return flags;
}

/**
 * The canonical spelling of flag bits, as CONFIG GET shows them (`KEA`
 * reads back as `AKE`, `Ksg` as `gsK`).
 *
 * @example
 * ```ts
 * formatNotifyFlags(parseNotifyFlags("KEA")!); // "AKE"
 * ```
 */
export function formatNotifyFlags(flags: number): string {
  let text = "";
  if ((flags & ALL) === ALL) {
    text = "A";
  } else {
    for (const [letter, flag] of CLASS_LETTERS) if (flags & flag) text += letter;
  }
  if (flags & KEYSPACE) text += "K";
  if (flags & KEYEVENT) text += "E";
  if (flags & KEY_MISS) text += "m";
  return text;
}

/** Delivers `message` on `channel`; returns how many subscribers got it. */
export type Publish = (server: Server, channel: string, message: string) => number;

/**
 * Registers the listener that turns key changes into notifications.
 * Pub/Sub calls this once per server (see `installPubSub`).
 */
export function installKeyspaceNotifications(server: Server, publish: Publish): void {
  let parsedText = "";
  let flags = 0;
  server.keyChangeListeners.push((db: Database, key: string, event: string, eventClass: string) => {
    const text = server.config.notifyKeyspaceEvents;
    if (text !== parsedText) {
      parsedText = text;
      flags = parseNotifyFlags(text) ?? 0;
    }
    if (flags === 0 || (flags & (LETTER_FLAGS.get(eventClass) ?? 0)) === 0) return;
    if (flags & KEYSPACE) publish(server, `__keyspace@${db.index}__:${key}`, event);
    if (flags & KEYEVENT) publish(server, `__keyevent@${db.index}__:${event}`, key);
  });
}
