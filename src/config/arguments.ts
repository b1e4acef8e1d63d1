/**
 * The three ways Redis cuts configuration text into words, and the one way
 * it quotes a word back.
 *
 * - `splitArguments` is sds.c's `sdssplitargs`: a config file line (and a
 *   command-line option line) becomes words, with `"double quotes"` taking
 *   `\n \r \t \b \a \\ \" \xNN` escapes, `'single quotes'` taking only `\'`,
 *   and a closing quote that must be followed by a space or the end.
 * - `splitOnSpaces` is `sdssplitlen(value, " ")`: CONFIG SET splits the value
 *   of a multi-argument parameter (`save`, `bind`) on every single space, so
 *   `"1  2"` has an empty word in the middle and is refused, as in Redis.
 * - `splitLines` is how a config file becomes lines: split on `\n`, each line
 *   trimmed of spaces, tabs, CR and LF.
 * - `quoteArgument` is `sdscatrepr`: what CONFIG REWRITE writes for string
 *   values and what the command line turns each flag value into.
 *
 * Everything works on binary strings (one byte per code unit), the server's
 * representation of arguments; `textToBinary`/`binaryToText` convert at the
 * edges (command-line arguments, file system paths, messages).
 *
 * @module
 */

import { Buffer } from "node:buffer";

/** C's isspace in the C locale. */
function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", b: "\b", a: "\x07" };

/**
 * Splits a line into words as `sdssplitargs` does; undefined for unbalanced
 * quotes (or a closing quote followed by something other than a space).
 *
 * @example
 * ```ts
 * splitArguments(`save 900 1`); // ["save", "900", "1"]
 * splitArguments(`requirepass "a b\\x41"`); // ["requirepass", "a bA"]
 * splitArguments(`bind "x`); // undefined
 * ```
 */
export function splitArguments(line: string): string[] | undefined {
  const words: string[] = [];
  let p = 0;
  const at = (index: number) => index < line.length ? line.charCodeAt(index) : 0;
  for (;;) {
    while (p < line.length && isSpace(at(p))) p++;
    if (p >= line.length) return words;
    let inDouble = false;
    let inSingle = false;
    let word = "";
    for (let done = false; !done;) {
      const c = at(p);
      if (inDouble) {
        if (
          c === 92 /* \ */ && at(p + 1) === 120 /* x */ && hexValue(at(p + 2)) >= 0 &&
          hexValue(at(p + 3)) >= 0
        ) {
          word += String.fromCharCode(hexValue(at(p + 2)) * 16 + hexValue(at(p + 3)));
          p += 3;
        } else if (c === 92 && p + 1 < line.length) {
          p++;
          const escaped = line[p]!;
          word += ESCAPES[escaped] ?? escaped;
        } else if (c === 34 /* " */) {
          if (p + 1 < line.length && !isSpace(at(p + 1))) return undefined;
          done = true;
        } else if (p >= line.length) {
          return undefined;
        } else {
          word += line[p];
        }
      } else if (inSingle) {
        if (c === 92 && at(p + 1) === 39 /* ' */) {
          p++;
          word += "'";
        } else if (c === 39) {
          if (p + 1 < line.length && !isSpace(at(p + 1))) return undefined;
          done = true;
        } else if (p >= line.length) {
          return undefined;
        } else {
          word += line[p];
        }
      } else if (p >= line.length || c === 32 || c === 10 || c === 13 || c === 9) {
        done = true;
      } else if (c === 34) {
        inDouble = true;
      } else if (c === 39) {
        inSingle = true;
      } else {
        word += line[p];
      }
      if (p < line.length) p++;
    }
    words.push(word);
  }
}

/**
 * Splits a CONFIG SET value on single spaces (`sdssplitlen`): empty text is
 * no words, and every space separates, so runs of spaces give empty words.
 */
export function splitOnSpaces(value: string): string[] {
  return value === "" ? [] : value.split(" ");
}

/** A config file's lines, each trimmed of spaces, tabs, CR and LF (as `sdstrim`). */
export function splitLines(text: string): string[] {
  return text.split("\n").map((line) => line.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, ""));
}

/**
 * Quotes a word as `sdscatrepr`: double quotes, C escapes for `\ " \n \r
 * \t \a \b`, `\xNN` for other bytes outside printable ASCII.
 *
 * @example
 * ```ts
 * quoteArgument(`a b"c`); // `"a b\"c"`
 * ```
 */
export function quoteArgument(word: string): string {
  let quoted = '"';
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    switch (c) {
      case 92:
        quoted += "\\\\";
        break;
      case 34:
        quoted += '\\"';
        break;
      case 10:
        quoted += "\\n";
        break;
      case 13:
        quoted += "\\r";
        break;
      case 9:
        quoted += "\\t";
        break;
      case 7:
        quoted += "\\a";
        break;
      case 8:
        quoted += "\\b";
        break;
      default:
        quoted += c >= 32 && c <= 126 ? word[i] : `\\x${(c & 0xff).toString(16).padStart(2, "0")}`;
    }
  }
  return quoted + '"';
}

/** The binary string (UTF-8 bytes, one per code unit) of ordinary text. */
export function textToBinary(text: string): string {
  return Buffer.from(text, "utf8").toString("latin1");
}

/** Ordinary text (for paths and messages) from a binary string of UTF-8 bytes. */
export function binaryToText(binary: string): string {
  // deno-lint-ignore no-control-regex
  if (/^[\x00-\x7f]*$/.test(binary)) return binary;
  return Buffer.from(binary, "latin1").toString("utf8");
}
