/**
 * SORT and SORT_RO (sort.c): sort a list, set or sorted set by its elements
 * or by values found through patterns (`BY weight_*`, `BY data_*->field`),
 * optionally fetch other values per element (`GET #`, `GET data_*`), cut
 * with LIMIT, and reply or STORE the result as a list.
 *
 * Order is part of the reply, so it follows sortCommandGeneric exactly:
 * - Numeric sorting compares the parsed scores and breaks ties by the
 *   element bytes, which makes it a total order. Scores are read as strtod
 *   reads them there (leading blanks, hex and infinities accepted; an empty
 *   string is 0; anything after a NUL is ignored; trailing text, NaN or an
 *   out-of-range value is the "can't be converted" error).
 * - ALPHA compares the element bytes; a reply (not STORE) compares with
 *   strcoll, which in the C/C.UTF-8 locales Redis runs in is strcmp and so
 *   stops at a NUL byte. ALPHA with BY compares only the looked-up values, a
 *   missing one first, so different elements can tie.
 * - Ties keep the order the elements were read in, because Redis sorts with
 *   glibc's qsort (a stable merge sort) — except with BY and a LIMIT that
 *   cuts the range, where Redis uses its partial quicksort (pqsort.c), ported
 *   in store/geo.ts as `partialSort`. Elements are read in list order, in
 *   ascending order for an intset-sized set (Redis's intset order), and in
 *   score order for a sorted set. Redis reads hash-table sets and sorted
 *   sets in hash order, which nobody can reproduce, so only their ties may
 *   differ from Redis.
 * - `BY` without `*` means no sorting: a list or sorted set keeps its order
 *   (DESC reverses it, LIMIT picks the range directly), a set keeps its
 *   read order — except with STORE, where Redis sorts a set ALPHA anyway so
 *   the stored list is deterministic.
 *
 * STORE writes the result as a new list (or deletes the destination when
 * the result is empty, signalling it only if it existed). It is logged as
 * its effect, `DEL destination` then `RPUSH destination ...`, so a replay
 * does not depend on the keys the patterns read.
 *
 * @module
 */

import type { Client } from "./client.ts";
import { ALLOWED } from "../acl/selector.ts";
import { partialSort } from "../store/geo.ts";
import { Deque } from "../store/deque.ts";
import { Hash } from "../store/hash.ts";
import { MemberSet } from "../store/set.ts";
import { SortedSet } from "../store/sorted_set.ts";
import { isStringValue, stringContent } from "../store/values.ts";
import { lookupRead } from "./access.ts";
import { requireInteger } from "./arguments.ts";
import {
  CommandError,
  SORT_BY_DENIED,
  SORT_GET_DENIED,
  SORT_SCORE_NOT_DOUBLE,
  SYNTAX_ERROR,
  WRONG_TYPE,
} from "./errors.ts";
import { command, type KeyFinder } from "./table.ts";

/** One element being sorted (redisSortObject). */
interface SortEntry {
  readonly element: string;
  score: number;
  /** ALPHA with BY: the value looked up, or undefined when missing. */
  compareWith: string | undefined;
}

/** The parsed options of one SORT request. */
interface SortOptions {
  descending: boolean;
  alpha: boolean;
  limitStart: number;
  limitCount: number;
  dontSort: boolean;
  sortBy: string | undefined;
  storeKey: string | undefined;
  getPatterns: string[];
}

/**
 * Reads SORT's options as Redis does: any order, later ones winning, a
 * value-taking option only when its values are there, STORE only for SORT.
 * A BY pattern without `*` turns sorting off for good, even if a later BY
 * has one.
 */
function parseOptions(client: Client, args: readonly string[], readonly: boolean): SortOptions {
  const options: SortOptions = {
    descending: false,
    alpha: false,
    limitStart: 0,
    limitCount: -1,
    dontSort: false,
    sortBy: undefined,
    storeKey: undefined,
    getPatterns: [],
  };
  let fullKeyAccess: boolean | undefined;
  const mayReadAnyKey = () => fullKeyAccess ??= hasUnrestrictedKeyAccess(client, args);
  for (let j = 2; j < args.length; j++) {
    const option = args[j]!.toLowerCase();
    const left = args.length - j - 1;
    if (option === "asc") {
      options.descending = false;
    } else if (option === "desc") {
      options.descending = true;
    } else if (option === "alpha") {
      options.alpha = true;
    } else if (option === "limit" && left >= 2) {
      options.limitStart = requireInteger(args[j + 1]!);
      options.limitCount = requireInteger(args[j + 2]!);
      j += 2;
    } else if (option === "store" && !readonly && left >= 1) {
      options.storeKey = args[++j]!;
    } else if (option === "by" && left >= 1) {
      const pattern = args[++j]!;
      options.sortBy = pattern;
      if (!pattern.includes("*")) options.dontSort = true;
      else if (!mayReadAnyKey()) throw new CommandError(SORT_BY_DENIED);
    } else if (option === "get" && left >= 1) {
      if (!mayReadAnyKey()) throw new CommandError(SORT_GET_DENIED);
      options.getPatterns.push(args[++j]!);
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  return options;
}

/**
 * Whether the client's user may read every key with this command
 * (ACLUserCheckCmdWithUnrestrictedKeyAccess): some selector allows the
 * request and has `allkeys` or a `*` pattern with read permission. BY and
 * GET patterns read keys no key spec names, so Redis refuses them otherwise.
 */
function hasUnrestrictedKeyAccess(client: Client, args: readonly string[]): boolean {
  const user = client.user;
  if (user.allowsEverything) return true;
  const cmd = client.server.commands.lookup(args[0]!);
  if (cmd === undefined) return false;
  const aclCommand = client.server.aclCatalogue.of(cmd);
  const state = { keys: undefined, position: 0 };
  return user.selectors.some((selector) =>
    selector.check(aclCommand, args, state) === ALLOWED &&
    (selector.allKeys ||
      // A key pattern's flags: 1 is read permission (selector.ts's READ).
      selector.patterns.some((pattern) => pattern.pattern === "*" && (pattern.flags & 1) !== 0))
  );
}

/**
 * lookupKeyByPattern: `#` is the element itself; otherwise the first `*`
 * becomes the element and the key is read as a string, or, with `->field`
 * after the `*`, as a hash field. A pattern without `*`, a missing key or
 * field, or a value of another type gives undefined. Like Redis's C string
 * functions, the search for `*` and `->` stops at a NUL byte.
 */
function lookupByPattern(client: Client, pattern: string, element: string): string | undefined {
  const nul = pattern.indexOf("\0");
  const text = nul < 0 ? pattern : pattern.slice(0, nul);
  if (text === "#") return element;
  const star = text.indexOf("*");
  if (star < 0) return undefined;
  const arrow = text.indexOf("->", star + 1);
  const hasField = arrow >= 0 && arrow + 2 < text.length;
  const key = pattern.slice(0, star) + element +
    pattern.slice(star + 1, hasField ? arrow : pattern.length);
  const value = lookupRead(client, key);
  if (value === undefined) return undefined;
  if (hasField) return value instanceof Hash ? value.get(pattern.slice(arrow + 2)) : undefined;
  return isStringValue(value) ? stringContent(value) : undefined;
}

/** C's isspace. */
function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const HEXADECIMAL = /^([+-]?)0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?$/i;
const INFINITY = /^[+-]?inf(inity)?$/i;

/**
 * A sort score as SORT reads it with strtod (see the module doc), or
 * undefined when Redis reports the conversion error.
 */
export function parseSortScore(value: string): number | undefined {
  const nul = value.indexOf("\0");
  const text = nul < 0 ? value : value.slice(0, nul);
  if (text.length === 0) return 0;
  let start = 0;
  while (start < text.length && isSpace(text.charCodeAt(start))) start++;
  const number = text.slice(start);
  if (INFINITY.test(number)) return number[0] === "-" ? -Infinity : Infinity;
  if (DECIMAL.test(number)) {
    const parsed = Number(number);
    // strtod's ERANGE: overflow, and underflow to zero or into the subnormals.
    if (!Number.isFinite(parsed)) return undefined;
    if (Math.abs(parsed) < 2.2250738585072014e-308 && /[1-9]/.test(number.split(/e/i)[0]!)) {
      return undefined;
    }
    return parsed;
  }
  const hex = HEXADECIMAL.exec(number);
  if (hex === null) return undefined;
  const [, sign, whole = "", fraction = "", exponent = "0"] = hex;
  if (whole.length === 0 && fraction.length === 0) return undefined;
  let parsed = whole.length > 0 ? parseInt(whole, 16) : 0;
  for (let i = 0; i < fraction.length; i++) parsed += parseInt(fraction[i]!, 16) / 16 ** (i + 1);
  parsed *= 2 ** Number(exponent);
  if (!Number.isFinite(parsed)) return undefined;
  return sign === "-" ? -parsed : parsed;
}

/** memcmp-then-length order of two binary strings (compareStringObjects). */
function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** strcoll in the C locales: strcmp, which stops at the first NUL byte. */
function collate(a: string, b: string): number {
  const nulA = a.indexOf("\0");
  const nulB = b.indexOf("\0");
  return compareBytes(nulA < 0 ? a : a.slice(0, nulA), nulB < 0 ? b : b.slice(0, nulB));
}

/** sortCompare for the request's options. */
function comparator(options: SortOptions): (a: SortEntry, b: SortEntry) => number {
  const sign = options.descending ? -1 : 1;
  const compareText = options.storeKey !== undefined ? compareBytes : collate;
  if (!options.alpha) {
    return (a, b) =>
      sign * (a.score > b.score ? 1 : a.score < b.score ? -1 : compareBytes(a.element, b.element));
  }
  if (options.sortBy !== undefined) {
    return (a, b) => {
      const first = a.compareWith;
      const second = b.compareWith;
      if (first === undefined || second === undefined) {
        return sign * (first === second ? 0 : first === undefined ? -1 : 1);
      }
      return sign * compareText(first, second);
    };
  }
  return (a, b) => sign * compareText(a.element, b.element);
}

/** The elements of a set in the order Redis reads them (an intset iterates ascending). */
function setElements(set: MemberSet): string[] {
  return Array.from(set);
}

/** SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE dest] */
function sortCommand(client: Client, args: string[], readonly: boolean): void {
  const options = parseOptions(client, args, readonly);
  const value = lookupRead(client, args[1]!);
  if (
    value !== undefined && !(value instanceof Deque) && !(value instanceof MemberSet) &&
    !(value instanceof SortedSet)
  ) {
    throw new CommandError(WRONG_TYPE);
  }
  // A set must come out the same on every replay of a STORE: sort it.
  if (options.dontSort && value instanceof MemberSet && options.storeKey !== undefined) {
    options.dontSort = false;
    options.alpha = true;
    options.sortBy = undefined;
  }
  const { descending, dontSort, sortBy } = options;

  const length = value === undefined ? 0 : value instanceof Deque ? value.length : value.size;
  let start = Math.min(Math.max(options.limitStart, 0), length);
  const limitCount = Math.min(Math.max(options.limitCount, -1), length);
  let end = limitCount < 0 ? length - 1 : start + limitCount - 1;
  if (start >= length) {
    start = length - 1;
    end = length - 2;
  }
  if (end >= length) end = length - 1;

  // Read the elements; a list or sorted set left unsorted yields just the range.
  let elements: string[];
  if (value === undefined) {
    elements = [];
  } else if (value instanceof MemberSet) {
    elements = setElements(value);
  } else if (!dontSort) {
    elements = value instanceof Deque
      ? value.toArray()
      : value.range(0, value.size - 1).map(([member]) => member);
  } else {
    const count = start !== 0 || end !== length - 1 ? end - start + 1 : length;
    elements = [];
    if (count > 0) {
      const first = descending ? length - start - count : start;
      elements = value instanceof Deque
        ? value.slice(first, first + count - 1)
        : value.range(first, first + count - 1).map(([member]) => member);
      if (descending) elements.reverse();
      end -= start;
      start = 0;
    }
  }

  const entries: SortEntry[] = elements.map((element) => ({
    element,
    score: 0,
    compareWith: undefined,
  }));
  let conversionError = false;
  if (!dontSort) {
    for (const entry of entries) {
      let sortValue: string | undefined = entry.element;
      if (sortBy !== undefined) {
        sortValue = lookupByPattern(client, sortBy, entry.element);
        if (sortValue === undefined) continue;
      }
      if (options.alpha) {
        if (sortBy !== undefined) entry.compareWith = sortValue;
      } else {
        const score = parseSortScore(sortValue);
        if (score === undefined) conversionError = true;
        else entry.score = score;
      }
    }
    const compare = comparator(options);
    if (sortBy !== undefined && (start !== 0 || end !== entries.length - 1)) {
      partialSort(entries, compare, start, end);
    } else {
      entries.sort(compare);
    }
  }

  if (conversionError) throw new CommandError(SORT_SCORE_NOT_DOUBLE);
  const patterns = options.getPatterns;
  const count = Math.max(0, end - start + 1);
  const outputLength = patterns.length > 0 ? patterns.length * count : count;
  const storeKey = options.storeKey;
  if (storeKey === undefined) {
    const reply = client.reply;
    reply.arrayHeader(outputLength);
    for (let j = start; j <= end; j++) {
      const element = entries[j]!.element;
      if (patterns.length === 0) reply.bulk(element);
      for (const pattern of patterns) {
        const found = lookupByPattern(client, pattern, element);
        if (found === undefined) reply.nullBulk();
        else reply.bulk(found);
      }
    }
    return;
  }

  const stored: string[] = [];
  for (let j = start; j <= end; j++) {
    const element = entries[j]!.element;
    if (patterns.length === 0) stored.push(element);
    for (const pattern of patterns) stored.push(lookupByPattern(client, pattern, element) ?? "");
  }
  const db = client.db;
  if (outputLength > 0) {
    db.set(storeKey, new Deque(stored, client.server.config));
    client.changed(storeKey, "sortstore", "l");
    client.addEffect(["DEL", storeKey]);
    client.addEffect(["RPUSH", storeKey, ...stored]);
  } else if (db.lookup(storeKey) !== undefined) {
    db.delete(storeKey);
    client.changed(storeKey, "del", "g");
    client.addEffect(["DEL", storeKey]);
  }
  client.reply.integer(outputLength);
}

/** Options of SORT that take arguments, for its key finder. */
const OPTION_ARGUMENTS: ReadonlyMap<string, number> = new Map([["limit", 2], ["get", 1], [
  "by",
  1,
]]);

/**
 * sortGetKeys: the sorted key, and the key after the last STORE, skipping
 * the arguments of LIMIT, GET and BY as Redis's scan does.
 */
const sortKeys: KeyFinder = (args) => {
  const keys = [{ position: 1, flags: ["RO", "ACCESS"] as const }];
  let store: number | undefined;
  for (let i = 2; i < args.length; i++) {
    const option = args[i]!.toLowerCase();
    const skip = OPTION_ARGUMENTS.get(option);
    if (skip !== undefined) i += skip;
    else if (option === "store" && i + 1 < args.length) store = i + 1;
  }
  if (store === undefined) return keys;
  return [...keys, { position: store, flags: ["OW", "UPDATE"] as const }];
};

export const sortCommands = [
  command({
    name: "sort",
    arity: -2,
    flags: ["write", "denyoom"],
    aclCategories: ["set", "sortedset", "list", "dangerous"],
    keySpecs: [
      { flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } },
      {
        flags: ["RO", "ACCESS"],
        begin: "unknown",
        find: "unknown",
        notes:
          "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort",
      },
      {
        flags: ["OW", "UPDATE"],
        begin: "unknown",
        find: "unknown",
        notes:
          "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array",
      },
    ],
    keyFinder: sortKeys,
    propagation: "effects",
    handler: (client, args) => sortCommand(client, args, false),
  }),
  command({
    name: "sort_ro",
    arity: -2,
    flags: ["readonly"],
    aclCategories: ["set", "sortedset", "list", "dangerous"],
    keySpecs: [
      { flags: ["RO", "ACCESS"], begin: { index: 1 }, find: { lastKey: 0 } },
      {
        flags: ["RO", "ACCESS"],
        begin: "unknown",
        find: "unknown",
        notes:
          "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort",
      },
    ],
    keyFinder: () => [{ position: 1, flags: ["RO", "ACCESS"] }],
    handler: (client, args) => sortCommand(client, args, true),
  }),
];
