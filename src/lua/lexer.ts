/**
 * The Lua 5.1 lexer (`llex.c`): tokens from a binary source string, with
 * the exact error texts `luaX_lexerror` produces, because Redis passes
 * compile errors to clients verbatim.
 *
 * Tokens keep the raw text Lua's token buffer would hold (`txtToken`), so
 * that "near '...'" in messages matches: names and numbers as written,
 * strings with their delimiters and escapes already decoded.
 *
 * @module
 */

import { stringToNumber } from "./values.ts";

/** Thrown for a syntax error; the message is what `luaL_loadbuffer` returns. */
export class LuaSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LuaSyntaxError";
  }
}

/** Token kinds: reserved words and symbols are their own text. */
export type TokenKind =
  | "<eof>"
  | "<name>"
  | "<string>"
  | "<number>"
  | string;

/** One token. */
export interface Token {
  kind: TokenKind;
  /** Decoded value: the name, the string's bytes, or the number. */
  value: string | number;
  /** The text Lua's buffer holds for "near" messages (names, strings, numbers). */
  raw: string;
  /** Line where the token starts. */
  line: number;
}

const RESERVED = new Set([
  "and",
  "break",
  "do",
  "else",
  "elseif",
  "end",
  "false",
  "for",
  "function",
  "if",
  "in",
  "local",
  "nil",
  "not",
  "or",
  "repeat",
  "return",
  "then",
  "true",
  "until",
  "while",
]);

/** `luaO_chunkid`: how a chunk name appears in messages. */
export function chunkId(source: string): string {
  const IDSIZE = 60;
  if (source.startsWith("=")) return source.slice(1, IDSIZE);
  if (source.startsWith("@")) {
    const name = source.slice(1);
    const room = IDSIZE - "...".length - 1;
    if (name.length > room) return "..." + name.slice(name.length - room);
    return name;
  }
  // [string "source"]
  let text = source;
  const newline = text.search(/[\n\r]/);
  const room = IDSIZE - '[string "..."]'.length - 1;
  let truncated = false;
  if (newline >= 0) {
    text = text.slice(0, newline);
    truncated = true;
  }
  if (text.length > room) {
    text = text.slice(0, room);
    truncated = true;
  }
  return truncated ? `[string "${text}..."]` : `[string "${text}"]`;
}

function isAlpha(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isAlnum(code: number): boolean {
  return isAlpha(code) || isDigit(code);
}

/** Display form of a token kind for "'x' expected" messages (`luaX_token2str`). */
export function tokenText(kind: TokenKind): string {
  if (kind.length === 1) {
    const code = kind.charCodeAt(0);
    if (code < 32 || code === 127) return `char(${code})`;
  }
  return kind;
}

/** The lexer: call `next()` to advance; `token` is the current token. */
export class Lexer {
  readonly #source: string;
  readonly #chunk: string;
  #position = 0;
  /** Line the lexer is on (`ls->linenumber`). */
  line = 1;
  /** Line of the last consumed token (`ls->lastline`). */
  lastLine = 1;
  token: Token;
  #ahead: Token | null = null;

  constructor(source: string, chunkName: string) {
    this.#source = source;
    this.#chunk = chunkId(chunkName);
    // A first line starting with '#' is skipped (`luaL_loadfile` does it for files; Redis never sees it).
    this.token = { kind: "<eof>", value: "", raw: "", line: 1 };
  }

  /** The chunk name as messages show it. */
  get chunk(): string {
    return this.#chunk;
  }

  /** Advances to the next token. */
  next(): void {
    this.lastLine = this.line;
    if (this.#ahead !== null) {
      this.token = this.#ahead;
      this.#ahead = null;
    } else {
      this.token = this.#scan();
    }
  }

  /** The token after the current one (`luaX_lookahead`). */
  peek(): Token {
    if (this.#ahead === null) this.#ahead = this.#scan();
    return this.#ahead;
  }

  /** Raises a syntax error at the current token (`luaX_syntaxerror`). */
  syntaxError(message: string): never {
    this.#error(message, this.token);
  }

  /** A syntax error without the "near" part (`luaX_lexerror` with token 0). */
  plainError(message: string): LuaSyntaxError {
    return new LuaSyntaxError(`${this.#chunk}:${this.line}: ${message}`);
  }

  #error(message: string, token: Token | "<eof>"): never {
    let near: string;
    if (token === "<eof>") near = "<eof>";
    else if (token.kind === "<name>" || token.kind === "<string>" || token.kind === "<number>") {
      near = token.raw;
    } else near = tokenText(token.kind);
    throw new LuaSyntaxError(`${this.#chunk}:${this.line}: ${message} near '${near}'`);
  }

  #lexError(message: string, raw: string | null): never {
    if (raw === null) this.#error(message, "<eof>");
    this.#error(message, { kind: "<string>", value: "", raw, line: this.line });
  }

  #code(offset = 0): number {
    const index = this.#position + offset;
    return index < this.#source.length ? this.#source.charCodeAt(index) : -1;
  }

  /** Consumes a newline sequence (\n, \r, \n\r or \r\n) and counts the line. */
  #newline(): void {
    const first = this.#code();
    this.#position++;
    const second = this.#code();
    if ((second === 10 || second === 13) && second !== first) this.#position++;
    this.line++;
  }

  #scan(): Token {
    const source = this.#source;
    for (;;) {
      const code = this.#code();
      switch (code) {
        case -1:
          return { kind: "<eof>", value: "", raw: "<eof>", line: this.line };
        case 10:
        case 13:
          this.#newline();
          continue;
        case 32:
        case 9:
        case 11:
        case 12:
          this.#position++;
          continue;
        case 45: // -
          if (this.#code(1) !== 45) {
            this.#position++;
            return this.#symbol("-");
          }
          this.#position += 2;
          if (this.#code() === 91) {
            const level = this.#longBracketLevel();
            if (level >= 0) {
              this.#longString(level, false);
              continue;
            }
          }
          while (this.#code() !== -1 && this.#code() !== 10 && this.#code() !== 13) {
            this.#position++;
          }
          continue;
        case 91: { // [
          const level = this.#longBracketLevel();
          if (level >= 0) {
            const line = this.line;
            const text = this.#longString(level, true);
            return { kind: "<string>", value: text.value, raw: text.raw, line };
          }
          if (level === -1) {
            this.#position++;
            return this.#symbol("[");
          }
          this.#lexError("invalid long string delimiter", "[" + "=".repeat(-level - 2));
          break;
        }
        case 61: // =
          return this.#maybeEquals("=", "==");
        case 60:
          return this.#maybeEquals("<", "<=");
        case 62:
          return this.#maybeEquals(">", ">=");
        case 126: // ~
          if (this.#code(1) === 61) {
            this.#position += 2;
            return this.#symbol("~=");
          }
          this.#position++;
          return this.#symbol("~");
        case 34:
        case 39:
          return this.#string(code);
        case 46: // .
          if (this.#code(1) === 46) {
            if (this.#code(2) === 46) {
              this.#position += 3;
              return this.#symbol("...");
            }
            this.#position += 2;
            return this.#symbol("..");
          }
          if (!isDigit(this.#code(1))) {
            this.#position++;
            return this.#symbol(".");
          }
          return this.#number();
        default: {
          if (isDigit(code)) return this.#number();
          if (isAlpha(code)) {
            const start = this.#position;
            while (isAlnum(this.#code())) this.#position++;
            const word = source.slice(start, this.#position);
            if (RESERVED.has(word)) return { kind: word, value: word, raw: word, line: this.line };
            return { kind: "<name>", value: word, raw: word, line: this.line };
          }
          this.#position++;
          return this.#symbol(String.fromCharCode(code));
        }
      }
    }
  }

  #symbol(kind: string): Token {
    return { kind, value: kind, raw: kind, line: this.line };
  }

  #maybeEquals(single: string, double: string): Token {
    if (this.#code(1) === 61) {
      this.#position += 2;
      return this.#symbol(double);
    }
    this.#position++;
    return this.#symbol(single);
  }

  /**
   * At a '[': the level of a long bracket `[==[`, or -1 for a plain '[', or
   * -(level + 2) for `[=` not followed by '[' (an invalid delimiter).
   * Consumes the opening bracket only when valid.
   */
  #longBracketLevel(): number {
    let level = 0;
    while (this.#code(1 + level) === 61) level++;
    if (this.#code(1 + level) === 91) {
      this.#position += level + 2;
      return level;
    }
    return level === 0 ? -1 : -(level + 2);
  }

  #longString(level: number, isString: boolean): { value: string; raw: string } {
    const open = "[" + "=".repeat(level) + "[";
    // A newline right after the opening bracket is skipped.
    if (this.#code() === 10 || this.#code() === 13) this.#newline();
    const parts: string[] = [];
    let chunkStart = this.#position;
    for (;;) {
      const code = this.#code();
      if (code === -1) {
        this.#lexError(isString ? "unfinished long string" : "unfinished long comment", null);
      }
      if (code === 93) { // ]
        let equals = 0;
        while (this.#code(1 + equals) === 61) equals++;
        if (equals === level && this.#code(1 + equals) === 93) {
          parts.push(this.#source.slice(chunkStart, this.#position));
          this.#position += level + 2;
          const value = parts.join("");
          return { value, raw: open + value + "]" + "=".repeat(level) + "]" };
        }
        this.#position++;
        continue;
      }
      if (code === 91 && level === 0 && this.#code(1) === 91) {
        // LUA_COMPAT_LSTR 1: a nested [[ is an error, in comments too.
        this.#error("nesting of [[...]] is deprecated", {
          kind: "[",
          value: "[",
          raw: "[",
          line: this.line,
        });
      }
      if (code === 10 || code === 13) {
        parts.push(this.#source.slice(chunkStart, this.#position));
        parts.push("\n");
        this.#newline();
        chunkStart = this.#position;
        continue;
      }
      this.#position++;
    }
  }

  #string(delimiter: number): Token {
    const line = this.line;
    this.#position++;
    let value = "";
    let chunkStart = this.#position;
    const quote = String.fromCharCode(delimiter);
    for (;;) {
      const code = this.#code();
      if (code === delimiter) {
        value += this.#source.slice(chunkStart, this.#position);
        this.#position++;
        return { kind: "<string>", value, raw: quote + value + quote, line };
      }
      if (code === -1) this.#lexError("unfinished string", null);
      if (code === 10 || code === 13) {
        value += this.#source.slice(chunkStart, this.#position);
        this.#lexError("unfinished string", quote + value);
      }
      if (code !== 92) {
        this.#position++;
        continue;
      }
      value += this.#source.slice(chunkStart, this.#position);
      this.#position++;
      const escape = this.#code();
      switch (escape) {
        case 97:
          value += "\x07";
          this.#position++;
          break;
        case 98:
          value += "\b";
          this.#position++;
          break;
        case 102:
          value += "\f";
          this.#position++;
          break;
        case 110:
          value += "\n";
          this.#position++;
          break;
        case 114:
          value += "\r";
          this.#position++;
          break;
        case 116:
          value += "\t";
          this.#position++;
          break;
        case 118:
          value += "\v";
          this.#position++;
          break;
        case 10:
        case 13:
          value += "\n";
          this.#newline();
          break;
        case -1:
          // The loop reports the unfinished string at end of input.
          break;
        default: {
          if (!isDigit(escape)) {
            value += String.fromCharCode(escape);
            this.#position++;
            break;
          }
          let number = 0;
          let digits = 0;
          while (digits < 3 && isDigit(this.#code())) {
            number = number * 10 + this.#code() - 48;
            this.#position++;
            digits++;
          }
          if (number > 255) this.#lexError("escape sequence too large", quote + value);
          value += String.fromCharCode(number);
        }
      }
      chunkStart = this.#position;
    }
  }

  #number(): Token {
    const start = this.#position;
    while (isDigit(this.#code()) || this.#code() === 46) this.#position++;
    if ((this.#code() | 32) === 101) {
      this.#position++;
      if (this.#code() === 43 || this.#code() === 45) this.#position++;
    }
    while (isAlnum(this.#code())) this.#position++;
    const raw = this.#source.slice(start, this.#position);
    const value = stringToNumber(raw);
    if (value === undefined) {
      this.#error("malformed number", { kind: "<number>", value: 0, raw, line: this.line });
    }
    return { kind: "<number>", value, raw, line: this.line };
  }
}
