/**
 * Redis's glob matcher (`stringmatchlen` in util.c), used by KEYS, SCAN
 * MATCH, PSUBSCRIBE and CONFIG GET: `*`, `?`, `[abc]`, `[^a-z]`, and `\`
 * escapes, on binary strings, optionally ignoring ASCII case.
 *
 * Like Redis 7.0 the matcher cannot be made to backtrack exponentially
 * (`a*a*a*...b` against a long run of `a`): when the rest of the pattern
 * after a `*` matches nowhere in the rest of the text, no earlier `*` can
 * help by matching more, so the whole match fails at once. With that rule
 * each `*` tries each text position at most once per enclosing attempt that
 * can still succeed, which keeps matching polynomial.
 *
 * @module
 */

/** Whether `text` matches `pattern`. */
export function globMatch(pattern: string, text: string, ignoreCase = false): boolean {
  const state: MatchState = { skipLongerMatches: false };
  return matchFrom(pattern, 0, text, 0, ignoreCase, 0, state);
}

/** Shared by the recursive calls of one match (Redis's skipLongerMatches). */
interface MatchState {
  skipLongerMatches: boolean;
}

const MAX_NESTING = 1000;

function lower(code: number): number {
  return code >= 65 && code <= 90 ? code + 32 : code;
}

function sameExactly(a: number, b: number): boolean {
  return a === b;
}

function sameIgnoringCase(a: number, b: number): boolean {
  return lower(a) === lower(b);
}

function matchFrom(
  pattern: string,
  p: number,
  text: string,
  t: number,
  ignoreCase: boolean,
  nesting: number,
  state: MatchState,
): boolean {
  // Like Redis, bound the recursion that stacked '*' can cause.
  if (nesting > MAX_NESTING) return false;
  const same = ignoreCase ? sameIgnoringCase : sameExactly;
  while (p < pattern.length && t < text.length) {
    const c = pattern.charCodeAt(p);
    if (c === 42 /* * */) {
      while (p + 1 < pattern.length && pattern.charCodeAt(p + 1) === 42) p++;
      if (p + 1 === pattern.length) return true;
      for (let from = t; from < text.length; from++) {
        if (matchFrom(pattern, p + 1, text, from, ignoreCase, nesting + 1, state)) return true;
        if (state.skipLongerMatches) return false;
      }
      // The rest matches nowhere after here: longer matches of earlier stars cannot help.
      state.skipLongerMatches = true;
      return false;
    } else if (c === 63 /* ? */) {
      t++;
    } else if (c === 91 /* [ */) {
      p++;
      const not = pattern.charCodeAt(p) === 94; /* ^ */
      if (not) p++;
      let matched = false;
      const ch = text.charCodeAt(t);
      for (;;) {
        if (p >= pattern.length) {
          p--; // Unterminated class: Redis treats the end as closing it.
          break;
        }
        const pc = pattern.charCodeAt(p);
        if (pc === 92 /* \ */ && p + 1 < pattern.length) {
          p++;
          if (same(pattern.charCodeAt(p), ch)) matched = true;
        } else if (pc === 93 /* ] */) {
          break;
        } else if (p + 2 < pattern.length && pattern.charCodeAt(p + 1) === 45 /* - */) {
          let start = pattern.charCodeAt(p);
          let end = pattern.charCodeAt(p + 2);
          let probe = ch;
          if (start > end) [start, end] = [end, start];
          if (ignoreCase) {
            start = lower(start);
            end = lower(end);
            probe = lower(probe);
          }
          p += 2;
          if (probe >= start && probe <= end) matched = true;
        } else if (same(pc, ch)) {
          matched = true;
        }
        p++;
      }
      if (not) matched = !matched;
      if (!matched) return false;
      t++;
    } else if (c === 92 /* \ */ && p + 1 < pattern.length) {
      p++;
      if (!same(pattern.charCodeAt(p), text.charCodeAt(t))) return false;
      t++;
    } else {
      if (!same(c, text.charCodeAt(t))) return false;
      t++;
    }
    p++;
  }
  if (t < text.length) return false;
  while (p < pattern.length && pattern.charCodeAt(p) === 42) p++;
  return p === pattern.length;
}
