/**
 * Random ACL rules for the property tests, and the normalisation that
 * makes Redis's rule strings comparable across servers.
 *
 * The rules mix every kind the engine knows — user flags, passwords,
 * hashes, key patterns with %R/%W, channels, commands, subcommands, first
 * arguments, categories, selectors, resets — with a share of invalid ones,
 * drawn from small pools so that later rules often meet earlier ones
 * (removing a password that exists, a pattern after `~*`, a subcommand of
 * a command just denied).
 *
 * Why normalise: Redis prints the single-command part of its rules in the
 * order of a hash table seeded at random on every start, so two
 * redis-servers with the same users print that part in different orders.
 * `normalizeRules` keeps everything else as is and sorts the per-command
 * groups by name.
 *
 * @module
 */

import type { AclCatalogue } from "../../src/acl/mod.ts";
import { ACL_CATEGORIES } from "../../src/acl/mod.ts";

const PASSWORDS = ["pw0", "pw1", "pw2", ""];
const HASHES = [
  "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
  "0000000000000000000000000000000000000000000000000000000000000000",
];
export const KEY_PATTERNS = ["k*", "r*", "w?", "x", "a*", "*b", "[ab]*", "*"];
export const CHANNEL_PATTERNS = ["ch*", "news", "p?", "s1", "*"];
const FIRST_ARGUMENTS = ["0", "1", "ab", "AB"];
const INVALID = [
  "bogus",
  "+nosuchcommand",
  "-nosuch",
  "+@nosuchcategory",
  "%X~a",
  "%RR~a",
  "%~a",
  "~a b",
  "&a b",
  "#abc",
  "!zz",
  "+config|",
  "+config|get|x",
  "+config|nosuch",
  "-select|0",
  "+get|",
  "ON",
  "",
];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

/** Command names the generator uses: some top-level commands and subcommands. */
export function commandPool(catalogue: AclCatalogue): string[] {
  const names = [
    "get",
    "set",
    "mget",
    "select",
    "config",
    "config|get",
    "config|set",
    "client",
    "client|id",
    "acl",
    "acl|whoami",
    "publish",
    "subscribe",
    "debug",
    "object|encoding",
    "auth",
    "hello",
    "ping",
    "flushall",
  ];
  for (let i = 0; i < 12; i++) {
    names.push(catalogue.byId[(i * 37) % catalogue.size]!.fullName);
  }
  return names;
}

/** One selector rule (what may appear inside parentheses). */
export function selectorRule(random: () => number, commands: readonly string[]): string {
  const roll = random();
  if (roll < 0.12) {
    return pick(random, ["~", "%R~", "%W~", "%RW~", "%r~", "%Wr~"]) + pick(random, KEY_PATTERNS);
  }
  if (roll < 0.17) return pick(random, ["allkeys", "resetkeys", "~*", "ALLKEYS"]);
  if (roll < 0.25) return "&" + pick(random, CHANNEL_PATTERNS);
  if (roll < 0.3) return pick(random, ["allchannels", "resetchannels", "&*"]);
  if (roll < 0.55) return pick(random, ["+", "-"]) + pick(random, commands);
  if (roll < 0.62) {
    return `+${pick(random, ["select", "debug", "get", "SELECT"])}|${
      pick(random, FIRST_ARGUMENTS)
    }`;
  }
  if (roll < 0.85) return pick(random, ["+@", "-@"]) + pick(random, ACL_CATEGORIES);
  return pick(random, ["+@all", "-@all", "allcommands", "nocommands", "+@ALL"]);
}

/** One user rule, selectors and invalid rules included. */
export function userRule(random: () => number, commands: readonly string[]): string {
  const roll = random();
  if (roll < 0.08) return pick(random, ["on", "off", "nopass", "resetpass"]);
  if (roll < 0.1) return pick(random, ["sanitize-payload", "skip-sanitize-payload"]);
  if (roll < 0.16) return pick(random, [">", "<"]) + pick(random, PASSWORDS);
  if (roll < 0.19) return pick(random, ["#", "!"]) + pick(random, HASHES);
  if (roll < 0.21) return pick(random, ["reset", "clearselectors"]);
  if (roll < 0.27) {
    const count = Math.floor(random() * 4);
    const inside = Array.from({ length: count }, () => selectorRule(random, commands));
    return `(${inside.join(" ")})`;
  }
  if (roll < 0.31) return pick(random, INVALID);
  return selectorRule(random, commands);
}

/**
 * Redis's rule string (an ACL LIST line, or GETUSER's `commands`) with the
 * single-command part of each selector in a canonical order: groups (a
 * command with its subcommands and first arguments) sorted by command,
 * subcommands sorted inside their group. Patterns must not contain `(`.
 */
export function normalizeRules(line: string, catalogue: AclCatalogue): string {
  const [root, ...selectors] = line.split(" (");
  return [
    normalizeTokens(root!, catalogue),
    ...selectors.map((selector) => `(${normalizeTokens(selector.slice(0, -1), catalogue)})`),
  ].join(" ");
}

function normalizeTokens(text: string, catalogue: AclCatalogue): string {
  const tokens = text.split(" ");
  const start = tokens.findIndex((token) => token === "+@all" || token === "-@all");
  if (start < 0) return text;
  let end = start + 1;
  while (end < tokens.length && /^[+-]@/.test(tokens[end]!)) end++;
  const groups = new Map<string, { head: string[]; subs: string[]; firsts: string[] }>();
  for (const token of tokens.slice(end)) {
    const name = token.slice(1);
    const base = name.split("|")[0]!;
    const group = groups.get(base) ?? { head: [], subs: [], firsts: [] };
    groups.set(base, group);
    if (!name.includes("|")) group.head.push(token);
    else if (catalogue.lookup(name)?.parent !== undefined) group.subs.push(token);
    else group.firsts.push(token);
  }
  const sorted = [...groups.keys()].sort().flatMap((base) => {
    const group = groups.get(base)!;
    return [...group.head, ...group.subs.sort(), ...group.firsts];
  });
  return [...tokens.slice(0, end), ...sorted].join(" ");
}
