/**
 * `notify-keyspace-events` flags: Redis's letters, their bits, and the one
 * reading of them that CONFIG SET, the command line and keyspace
 * notifications share. Dependency-free, so configuration can use it without
 * reaching into the command layer.
 *
 * @module
 */

/** Flag bits, as in Redis's server.h. */
export const KEYSPACE = 1 << 0;
export const KEYEVENT = 1 << 1;
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

/** The flag bit of a notify-keyspace-events class letter (`g`, `$`, `x`...), or 0. */
export function notifyClassFlag(letter: string): number {
  return LETTER_FLAGS.get(letter) ?? 0;
}
