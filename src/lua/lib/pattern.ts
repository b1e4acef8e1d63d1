/**
 * Lua 5.1 patterns (`lstrlib.c`'s matcher): classes, sets, `%b`, `%f`,
 * anchors, captures, position captures and back-references.
 *
 * Two engines with one behaviour. Patterns made only of single-character
 * items, quantifiers, captures and anchors (most patterns scripts use) are
 * translated to a JS RegExp, whose single-item greedy and lazy repetitions
 * backtrack exactly as Lua's `max_expand`/`min_expand` do; character classes
 * are translated from 256-entry membership tables, so they keep C-locale
 * meanings (`%s` is not JS's `\s`). Everything else (`%b`, `%f`, `%1`,
 * malformed patterns, which must raise Lua's errors) runs on a direct port of
 * `match()`.
 *
 * @module
 */

import { luaError } from "../runtime.ts";

const MAX_CAPTURES = 32;
const CAP_UNFINISHED = -1;
const CAP_POSITION = -2;

/** A successful match: where it is and what it captured. */
export interface MatchResult {
  start: number;
  end: number;
  /**
   * Captures (strings, or numbers for position captures); empty when the
   * pattern has none. Computed on request, as Lua only pushes captures it
   * uses (an unfinished capture is an error only then).
   */
  captures(): (string | number)[];
  /** One capture (`%1` is index 0); index 0 of a capture-less pattern is the whole match. */
  capture(index: number, whole: string): string | number;
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}
function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}
function isControl(c: number): boolean {
  return c < 32 || c === 127;
}
function isPunctuation(c: number): boolean {
  return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
    (c >= 123 && c <= 126);
}
function isHex(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** `match_class`. */
function matchClass(c: number, cl: number): boolean {
  let result: boolean;
  switch (cl | 32) {
    case 97:
      result = isAlpha(c);
      break;
    case 99:
      result = isControl(c);
      break;
    case 100:
      result = isDigit(c);
      break;
    case 108:
      result = isLower(c);
      break;
    case 112:
      result = isPunctuation(c);
      break;
    case 115:
      result = isSpace(c);
      break;
    case 117:
      result = isUpper(c);
      break;
    case 119:
      result = isAlpha(c) || isDigit(c);
      break;
    case 120:
      result = isHex(c);
      break;
    case 122:
      result = c === 0;
      break;
    default:
      return cl === c;
  }
  return isUpper(cl) ? !result : result;
}

/** The matcher state of one attempt (`MatchState`). */
class Matcher {
  readonly source: string;
  readonly pattern: string;
  /** The pattern's end: the first NUL, as C strings end there. */
  readonly patternEnd: number;
  level = 0;
  readonly captureStart: number[] = [];
  readonly captureLength: number[] = [];

  constructor(source: string, pattern: string) {
    this.source = source;
    this.pattern = pattern;
    const nul = pattern.indexOf("\0");
    this.patternEnd = nul < 0 ? pattern.length : nul;
  }

  #p(index: number): number {
    return index < this.patternEnd ? this.pattern.charCodeAt(index) : 0;
  }

  #s(index: number): number {
    return index < this.source.length ? this.source.charCodeAt(index) : 0;
  }

  classEnd(p: number): number {
    const c = this.#p(p++);
    if (c === 37) {
      if (p >= this.patternEnd) throw luaError("malformed pattern (ends with '%')");
      return p + 1;
    }
    if (c === 91) {
      if (this.#p(p) === 94) p++;
      do {
        if (p >= this.patternEnd) throw luaError("malformed pattern (missing ']')");
        const current = this.#p(p++);
        if (current === 37 && p < this.patternEnd) p++;
      } while (this.#p(p) !== 93);
      return p + 1;
    }
    return p;
  }

  #matchBracketClass(c: number, p: number, ec: number): boolean {
    let signal = true;
    if (this.#p(p + 1) === 94) {
      signal = false;
      p++;
    }
    while (++p < ec) {
      const current = this.#p(p);
      if (current === 37) {
        p++;
        if (matchClass(c, this.#p(p))) return signal;
      } else if (this.#p(p + 1) === 45 && p + 2 < ec) {
        p += 2;
        if (this.#p(p - 2) <= c && c <= this.#p(p)) return signal;
      } else if (current === c) return signal;
    }
    return !signal;
  }

  singleMatch(c: number, p: number, ep: number): boolean {
    switch (this.#p(p)) {
      case 46:
        return true;
      case 37:
        return matchClass(c, this.#p(p + 1));
      case 91:
        return this.#matchBracketClass(c, p, ep - 1);
      default:
        return this.#p(p) === c;
    }
  }

  #matchBalance(s: number, p: number): number {
    if (p >= this.patternEnd || p + 1 >= this.patternEnd) throw luaError("unbalanced pattern");
    if (this.#s(s) !== this.#p(p) || s >= this.source.length) return -1;
    const open = this.#p(p);
    const close = this.#p(p + 1);
    let depth = 1;
    while (++s < this.source.length) {
      const c = this.source.charCodeAt(s);
      if (c === close) {
        if (--depth === 0) return s + 1;
      } else if (c === open) depth++;
    }
    return -1;
  }

  #maxExpand(s: number, p: number, ep: number): number {
    let count = 0;
    while (
      s + count < this.source.length && this.singleMatch(this.source.charCodeAt(s + count), p, ep)
    ) count++;
    while (count >= 0) {
      const result = this.match(s + count, ep + 1);
      if (result >= 0) return result;
      count--;
    }
    return -1;
  }

  #minExpand(s: number, p: number, ep: number): number {
    for (;;) {
      const result = this.match(s, ep + 1);
      if (result >= 0) return result;
      if (s < this.source.length && this.singleMatch(this.source.charCodeAt(s), p, ep)) s++;
      else return -1;
    }
  }

  #startCapture(s: number, p: number, what: number): number {
    const level = this.level;
    if (level >= MAX_CAPTURES) throw luaError("too many captures");
    this.captureStart[level] = s;
    this.captureLength[level] = what;
    this.level = level + 1;
    const result = this.match(s, p);
    if (result < 0) this.level--;
    return result;
  }

  #endCapture(s: number, p: number): number {
    let level = this.level - 1;
    for (; level >= 0; level--) if (this.captureLength[level] === CAP_UNFINISHED) break;
    if (level < 0) throw luaError("invalid pattern capture");
    this.captureLength[level] = s - this.captureStart[level]!;
    const result = this.match(s, p);
    if (result < 0) this.captureLength[level] = CAP_UNFINISHED;
    return result;
  }

  #matchCapture(s: number, digit: number): number {
    const index = digit - 49;
    if (index < 0 || index >= this.level || this.captureLength[index] === CAP_UNFINISHED) {
      throw luaError("invalid capture index");
    }
    const length = this.captureLength[index]!;
    const start = this.captureStart[index]!;
    // A position capture's length is negative, which C compares as a huge size_t: no match.
    if (
      length >= 0 && this.source.length - s >= length &&
      this.source.substr(start, length) === this.source.substr(s, length)
    ) {
      return s + length;
    }
    return -1;
  }

  /** `match()`: the end of a match of pattern[p...] at source[s...], or -1. */
  match(s: number, p: number): number {
    for (;;) {
      if (p >= this.patternEnd) return s;
      const c = this.#p(p);
      switch (c) {
        case 40: // (
          if (this.#p(p + 1) === 41) return this.#startCapture(s, p + 2, CAP_POSITION);
          return this.#startCapture(s, p + 1, CAP_UNFINISHED);
        case 41: // )
          return this.#endCapture(s, p + 1);
        case 36: // $
          if (p + 1 === this.patternEnd) return s === this.source.length ? s : -1;
          break;
        case 37: { // %
          const next = this.#p(p + 1);
          if (next === 98) { // b
            s = this.#matchBalance(s, p + 2);
            if (s < 0) return -1;
            p += 4;
            continue;
          }
          if (next === 102) { // f
            p += 2;
            if (this.#p(p) !== 91) throw luaError("missing '[' after '%f' in pattern");
            const ep = this.classEnd(p);
            const previous = s === 0 ? 0 : this.source.charCodeAt(s - 1);
            if (
              this.#matchBracketClass(previous, p, ep - 1) ||
              !this.#matchBracketClass(this.#s(s), p, ep - 1)
            ) {
              return -1;
            }
            p = ep;
            continue;
          }
          if (isDigit(next)) {
            s = this.#matchCapture(s, next);
            if (s < 0) return -1;
            p += 2;
            continue;
          }
          break;
        }
      }
      // A single-character item, possibly quantified.
      const ep = this.classEnd(p);
      const matched = s < this.source.length && this.singleMatch(this.source.charCodeAt(s), p, ep);
      switch (this.#p(ep)) {
        case 63: { // ?
          if (matched) {
            const result = this.match(s + 1, ep + 1);
            if (result >= 0) return result;
          }
          p = ep + 1;
          continue;
        }
        case 42: // *
          return this.#maxExpand(s, p, ep);
        case 43: // +
          return matched ? this.#maxExpand(s + 1, p, ep) : -1;
        case 45: // -
          return this.#minExpand(s, p, ep);
        default:
          if (!matched) return -1;
          s++;
          p = ep;
      }
    }
  }

  /** `push_onecapture` for capture `index` of a match at [start, end). */
  capture(index: number, start: number, end: number): string | number {
    if (index >= this.level) {
      if (index === 0) return this.source.slice(start, end);
      throw luaError("invalid capture index");
    }
    const length = this.captureLength[index]!;
    if (length === CAP_UNFINISHED) throw luaError("unfinished capture");
    const captureStart = this.captureStart[index]!;
    if (length === CAP_POSITION) return captureStart + 1;
    return this.source.substr(captureStart, length);
  }

  captures(start: number, end: number, wholeIfNone: boolean): (string | number)[] {
    const count = this.level === 0 && wholeIfNone ? 1 : this.level;
    const values: (string | number)[] = [];
    for (let index = 0; index < count; index++) values.push(this.capture(index, start, end));
    return values;
  }
}

// ---- translation to RegExp --------------------------------------------------

interface Translation {
  regexp: RegExp;
  sticky: RegExp;
  positions: boolean[];
  captureCount: number;
  anchored: boolean;
}

const translations = new Map<string, Translation | null>();

function classMembers(probe: Matcher, p: number, ep: number): boolean[] {
  const members = new Array<boolean>(256);
  for (let c = 0; c < 256; c++) members[c] = probe.singleMatch(c, p, ep);
  return members;
}

function hex(code: number): string {
  return "\\x" + code.toString(16).padStart(2, "0");
}

function classSource(members: boolean[]): string {
  const count = members.filter(Boolean).length;
  if (count === 256) return "[\\x00-\\xff]";
  if (count === 1) return hex(members.indexOf(true));
  const parts: string[] = [];
  for (let c = 0; c < 256; c++) {
    if (!members[c]) continue;
    let end = c;
    while (end + 1 < 256 && members[end + 1]) end++;
    parts.push(end === c ? hex(c) : `${hex(c)}-${hex(end)}`);
    c = end;
  }
  return `[${parts.join("")}]`;
}

/** The pattern as a RegExp when it only uses what RegExp does identically; null otherwise. */
function translate(pattern: string): Translation | null {
  const cached = translations.get(pattern);
  if (cached !== undefined) return cached;
  let result: Translation | null = null;
  try {
    result = buildTranslation(pattern);
  } catch {
    result = null;
  }
  if (translations.size > 500) translations.clear();
  translations.set(pattern, result);
  return result;
}

function buildTranslation(pattern: string): Translation | null {
  const nul = pattern.indexOf("\0");
  const end = nul < 0 ? pattern.length : nul;
  const probe = new Matcher("", pattern);
  let p = 0;
  let anchored = false;
  if (pattern.charCodeAt(0) === 94) {
    anchored = true;
    p = 1;
  }
  const parts: string[] = [];
  const positions: boolean[] = [];
  const open: number[] = [];
  let captureCount = 0;
  while (p < end) {
    const c = pattern.charCodeAt(p);
    if (c === 40) {
      if (captureCount >= MAX_CAPTURES) return null;
      if (pattern.charCodeAt(p + 1) === 41 && p + 1 < end) {
        positions[captureCount++] = true;
        parts.push("()");
        p += 2;
        continue;
      }
      positions[captureCount] = false;
      open.push(captureCount++);
      parts.push("(");
      p++;
      continue;
    }
    if (c === 41) {
      if (open.length === 0) return null;
      open.pop();
      parts.push(")");
      p++;
      continue;
    }
    if (c === 36 && p + 1 === end) {
      parts.push("$");
      p++;
      continue;
    }
    if (c === 37) {
      const next = pattern.charCodeAt(p + 1);
      if (next === 98 || next === 102 || isDigit(next)) return null;
    }
    const ep = probe.classEnd(p);
    const members = classMembers(probe, p, ep);
    const item = classSource(members);
    const quantifier = ep < end ? pattern.charCodeAt(ep) : 0;
    switch (quantifier) {
      case 63:
        parts.push(item + "?");
        p = ep + 1;
        break;
      case 42:
        parts.push(item + "*");
        p = ep + 1;
        break;
      case 43:
        parts.push(item + "+");
        p = ep + 1;
        break;
      case 45:
        parts.push(item + "*?");
        p = ep + 1;
        break;
      default:
        parts.push(item);
        p = ep;
    }
  }
  if (open.length > 0) return null;
  const source = parts.join("");
  const flags = positions.some(Boolean) ? "d" : "";
  return {
    regexp: new RegExp(source, "g" + flags),
    sticky: new RegExp(source, "y" + flags),
    positions,
    captureCount,
    anchored,
  };
}

function fromRegExp(translation: Translation, match: RegExpExecArray): MatchResult {
  const captures: (string | number)[] = [];
  for (let index = 1; index <= translation.captureCount; index++) {
    if (translation.positions[index - 1]) captures.push(match.indices![index]![0] + 1);
    else captures.push(match[index] ?? "");
  }
  return {
    start: match.index,
    end: match.index + match[0].length,
    captures: () => captures,
    capture: (index: number, whole: string) => {
      if (index >= captures.length) {
        if (index === 0) return whole;
        throw luaError("invalid capture index");
      }
      return captures[index]!;
    },
  };
}

/**
 * Finds the first match of `pattern` in `source` at or after `init`
 * (0-based), honouring a leading `^` unless `ignoreAnchor` (gmatch treats
 * `^` literally). Captures are as `push_captures` pushes them, without the
 * whole-match default.
 */
export function find(
  source: string,
  pattern: string,
  init: number,
  ignoreAnchor = false,
): MatchResult | null {
  if (!ignoreAnchor) {
    const translation = translate(pattern);
    if (translation !== null) {
      const regexp = translation.anchored ? translation.sticky : translation.regexp;
      regexp.lastIndex = init;
      const match = regexp.exec(source);
      return match === null ? null : fromRegExp(translation, match);
    }
  } else if (pattern.charCodeAt(0) !== 94) {
    const translation = translate(pattern);
    if (translation !== null) {
      translation.regexp.lastIndex = init;
      const match = translation.regexp.exec(source);
      return match === null ? null : fromRegExp(translation, match);
    }
  }
  let p = 0;
  let anchored = false;
  if (!ignoreAnchor && pattern.charCodeAt(0) === 94) {
    anchored = true;
    p = 1;
  }
  const matcher = new Matcher(source, pattern);
  let s = init;
  do {
    matcher.level = 0;
    const end = matcher.match(s, p);
    if (end >= 0) {
      const start = s;
      return {
        start,
        end,
        captures: () => matcher.captures(start, end, false),
        capture: (index: number) => matcher.capture(index, start, end),
      };
    }
    s++;
  } while (s <= source.length && !anchored);
  return null;
}

/**
 * The global RegExp for a pattern when the translation applies and the
 * pattern is unanchored and has no position captures (what `gsub` can hand
 * to `String.prototype.replace`), with its number of captures; else null.
 */
export function replaceableRegExp(
  pattern: string,
): { regexp: RegExp; captureCount: number } | null {
  if (pattern.charCodeAt(0) === 94) return null;
  const translation = translate(pattern);
  if (translation === null || translation.positions.some(Boolean)) return null;
  return { regexp: translation.regexp, captureCount: translation.captureCount };
}

/** Whether a pattern has none of the special characters (`find` then searches plainly). */
export function isPlain(pattern: string): boolean {
  const nul = pattern.indexOf("\0");
  const text = nul < 0 ? pattern : pattern.slice(0, nul);
  return !/[\^$*+?.(\[%-]/.test(text);
}
