/**
 * The string library (`lstrlib.c`): `byte char dump find format gfind
 * gmatch gsub len lower match rep reverse sub upper`, and the string
 * metatable whose `__index` makes `("x"):upper()` work.
 *
 * Strings are binary (one char per byte), so case mapping is ASCII-only as
 * in the C locale, and positions are byte positions. `format` hands its
 * items to number_format.ts, which prints as glibc's `sprintf` does.
 *
 * @module
 */

import {
  argumentError,
  callWithoutSuspend,
  EMPTY,
  first,
  index,
  LuaError,
  luaError,
  vm,
} from "../runtime.ts";
import { LuaTable } from "../table.ts";
import { isTruthy, type LuaFunction, type LuaResult, type LuaValue, typeName } from "../values.ts";
import {
  formatFloatItem,
  formatIntegerItem,
  type FormatSpec,
  formatTextItem,
  numberToString,
} from "../number_format.ts";
import { checkInteger, checkNumber, checkString, optInteger, typeError } from "./arguments.ts";
import { find as findPattern, isPlain, type MatchResult, replaceableRegExp } from "./pattern.ts";

/** `luaL_checkinteger`: a 64-bit integer (as a double), C-cast from the number. */
function checkLong(value: LuaValue, position: number, count: number): number {
  const number = checkNumber(value, position, count);
  if (!Number.isFinite(number) || Math.abs(number) >= 2 ** 63) return -(2 ** 63);
  return Math.trunc(number);
}

function optLong(value: LuaValue, position: number, count: number, fallback: number): number {
  return value === undefined ? fallback : checkLong(value, position, count);
}

/** `posrelat`: negative positions count from the end. */
function relative(position: number, length: number): number {
  if (position < 0) position += length + 1;
  return position >= 0 ? position : 0;
}

function captureResult(match: MatchResult, source: string): LuaValue[] {
  const captures = match.captures();
  return captures.length > 0 ? captures : [source.slice(match.start, match.end)];
}

function findAux(isFind: boolean, args: LuaValue[]): LuaResult {
  const count = args.length;
  const source = checkString(args[0], 1, count);
  const pattern = checkString(args[1], 2, count);
  let init = relative(optLong(args[2], 3, count, 1), source.length) - 1;
  if (init < 0) init = 0;
  else if (init > source.length) init = source.length;
  if (isFind && (isTruthy(args[3]) || isPlain(pattern))) {
    const at = source.indexOf(pattern, init);
    if (at < 0) return undefined;
    return [at + 1, at + pattern.length];
  }
  const match = findPattern(source, pattern, init);
  if (match === null) return undefined;
  if (isFind) return [match.start + 1, match.end, ...match.captures()];
  return captureResult(match, source);
}

function gmatch(sourceValue: LuaValue, patternValue: LuaValue): LuaResult {
  const count = arguments.length;
  const source = checkString(sourceValue, 1, count);
  const pattern = checkString(patternValue, 2, count);
  let position = 0;
  return function gmatchIterator(): LuaResult {
    while (position <= source.length) {
      const match = findPattern(source, pattern, position, true);
      if (match === null) {
        position = source.length + 1;
        return EMPTY;
      }
      position = match.end === match.start ? match.end + 1 : match.end;
      return captureResult(match, source);
    }
    return EMPTY;
  };
}

function gsub(
  sourceValue: LuaValue,
  patternValue: LuaValue,
  replacement: LuaValue,
  limit: LuaValue,
): LuaResult {
  const count = arguments.length;
  const source = checkString(sourceValue, 1, count);
  const pattern = checkString(patternValue, 2, count);
  const kind = typeof replacement;
  if (
    !(kind === "number" || kind === "string" || kind === "function" ||
      replacement instanceof LuaTable)
  ) {
    throw argumentError(3, "string/function/table expected");
  }
  const maximum = optInteger(limit, 4, count, source.length + 1);
  const template = kind === "number" ? numberToString(replacement as number) : replacement;
  if (typeof template === "string" && isPlain(pattern)) {
    // A literal pattern (matching stops at a NUL, as C strings do) and a
    // constant replacement: split and join natively.
    const nul = pattern.indexOf("\0");
    const literal = nul < 0 ? pattern : pattern.slice(0, nul);
    const constant = compileTemplate(template, 0);
    if (
      literal !== "" && constant !== null && constant.length === 1 &&
      typeof constant[0] === "string"
    ) {
      const pieces = source.split(literal);
      if (pieces.length - 1 <= maximum) return [pieces.join(constant[0]), pieces.length - 1];
    }
  }
  const fast = replaceableRegExp(pattern);
  if (fast !== null) return gsubNative(source, fast.regexp, fast.captureCount, template, maximum);
  const anchored = pattern.charCodeAt(0) === 94;
  const parts: string[] = [];
  let position = 0;
  let substitutions = 0;
  while (substitutions < maximum) {
    const match = findPattern(source, pattern, position);
    if (match === null || (anchored && match.start !== position)) break;
    if (match.start > position) parts.push(source.slice(position, match.start));
    substitutions++;
    parts.push(replacementText(match, source, template));
    if (match.end > match.start) position = match.end;
    else {
      if (match.start < source.length) parts.push(source[match.start]!);
      position = match.start + 1;
    }
    if (anchored || position > source.length) break;
  }
  if (position < source.length) parts.push(source.slice(position));
  return [parts.join(""), substitutions];
}

/**
 * gsub through `String.prototype.replace` with the translated RegExp: the
 * same matches in the same order (including empty ones), the replacement
 * computed by the same rules, matches past the limit left as they are.
 */
function gsubNative(
  source: string,
  regexp: RegExp,
  captureCount: number,
  replacement: LuaValue,
  maximum: number,
): LuaValue[] {
  let substitutions = 0;
  let result: string;
  const template = typeof replacement === "string"
    ? compileTemplate(replacement, captureCount)
    : null;
  if (template !== null) {
    // Native replacement patterns are much faster than a callback per match;
    // the count comes from a second native pass. Only when no limit cuts in.
    const count = source.match(regexp)?.length ?? 0;
    if (count <= maximum) {
      const pattern = template
        .map((part) =>
          typeof part === "string"
            ? part.replaceAll("$", "$$$$")
            : part === 0
            ? "$&"
            : `$${String(part).padStart(2, "0")}`
        )
        .join("");
      return [source.replace(regexp, pattern), count];
    }
  }
  if (template !== null && template.length === 1 && typeof template[0] === "string") {
    const constant = template[0];
    result = source.replace(regexp, (whole: string) => {
      if (substitutions >= maximum) return whole;
      substitutions++;
      return constant;
    });
  } else if (template !== null) {
    result = source.replace(regexp, (whole: string, ...groups: unknown[]) => {
      if (substitutions >= maximum) return whole;
      substitutions++;
      let text = "";
      for (const part of template) {
        text += typeof part === "string" ? part : part === 0 ? whole : groups[part - 1];
      }
      return text;
    });
  } else {
    result = source.replace(regexp, (whole: string, ...groups: unknown[]) => {
      if (substitutions >= maximum) return whole;
      substitutions++;
      const captures = groups.slice(0, captureCount) as string[];
      const start = groups[captureCount] as number;
      const match: MatchResult = {
        start,
        end: start + whole.length,
        captures: () => captures,
        capture: (index: number, full: string) => {
          if (index >= captures.length) {
            if (index === 0) return full;
            throw luaError("invalid capture index");
          }
          return captures[index]!;
        },
      };
      return replacementText(match, source, replacement);
    });
  }
  return [result, substitutions];
}

/**
 * A gsub replacement string as literal pieces and capture numbers (0 for
 * the whole match), or null when it refers to a capture the pattern lacks
 * (the general path then raises "invalid capture index").
 */
function compileTemplate(replacement: string, captureCount: number): (string | number)[] | null {
  const parts: (string | number)[] = [];
  let literal = "";
  for (let at = 0; at < replacement.length; at++) {
    const c = replacement.charCodeAt(at);
    if (c !== 37) {
      literal += replacement[at];
      continue;
    }
    at++;
    const next = at < replacement.length ? replacement.charCodeAt(at) : 0;
    if (next < 48 || next > 57) {
      literal += String.fromCharCode(next);
      continue;
    }
    let capture = next - 48;
    // %1 of a capture-less pattern is the whole match.
    if (capture === 1 && captureCount === 0) capture = 0;
    if (capture > captureCount) return null;
    if (literal !== "") parts.push(literal);
    literal = "";
    parts.push(capture);
  }
  if (literal !== "" || parts.length === 0) parts.push(literal);
  return parts;
}

function replacementText(match: MatchResult, source: string, replacement: LuaValue): string {
  const whole = source.slice(match.start, match.end);
  const capture = (index: number): string | number => match.capture(index, whole);
  if (typeof replacement === "string") {
    if (replacement.indexOf("%") < 0) return replacement;
    let text = "";
    for (let at = 0; at < replacement.length; at++) {
      const c = replacement.charCodeAt(at);
      if (c !== 37) {
        text += replacement[at];
        continue;
      }
      at++;
      const next = at < replacement.length ? replacement.charCodeAt(at) : 0;
      if (next < 48 || next > 57) text += String.fromCharCode(next);
      else if (next === 48) text += whole;
      else {
        const value = capture(next - 49);
        text += typeof value === "number" ? numberToString(value) : value;
      }
    }
    return text;
  }
  let value: LuaValue;
  if (typeof replacement === "function") {
    const captures = match.captures();
    const args = captures.length > 0 ? captures : [whole];
    value = first(callWithoutSuspend(replacement as LuaFunction, args));
  } else {
    value = index(replacement, capture(0), -1);
  }
  if (value === undefined || value === false) return whole;
  if (typeof value === "string") return value;
  if (typeof value === "number") return numberToString(value);
  throw luaError(`invalid replacement value (a ${typeName(value)})`);
}

// ---- format ---------------------------------------------------------------

function parseSpec(format: string, at: number): { spec: FormatSpec; end: number } {
  const start = at;
  while (at < format.length && "-+ #0".includes(format[at]!)) at++;
  if (at - start >= 6) throw luaError("invalid format (repeated flags)");
  const flags = format.slice(start, at);
  let width = 0;
  let digits = 0;
  while (digits < 2 && at < format.length && /[0-9]/.test(format[at]!)) {
    width = width * 10 + format.charCodeAt(at++) - 48;
    digits++;
  }
  let precision = -1;
  if (format[at] === ".") {
    at++;
    precision = 0;
    digits = 0;
    while (digits < 2 && at < format.length && /[0-9]/.test(format[at]!)) {
      precision = precision * 10 + format.charCodeAt(at++) - 48;
      digits++;
    }
  }
  if (at < format.length && /[0-9]/.test(format[at]!)) {
    throw luaError("invalid format (width or precision too long)");
  }
  return {
    spec: {
      leftAlign: flags.includes("-"),
      plus: flags.includes("+"),
      space: flags.includes(" "),
      alternate: flags.includes("#"),
      zeroPad: flags.includes("0"),
      width,
      precision,
      conversion: format[at] ?? "",
    },
    end: at + 1,
  };
}

/** C's sprintf stops a `%s`/`%c` result at the first NUL (Lua then uses strlen). */
function cutAtNul(text: string): string {
  const nul = text.indexOf("\0");
  return nul < 0 ? text : text.slice(0, nul);
}

function quoted(text: string): string {
  let out = '"';
  for (let at = 0; at < text.length; at++) {
    const c = text[at]!;
    switch (c) {
      case '"':
      case "\\":
      case "\n":
        out += "\\" + c;
        break;
      case "\r":
        out += "\\r";
        break;
      case "\0":
        out += "\\000";
        break;
      default:
        out += c;
    }
  }
  return out + '"';
}

/** `string.format`. */
export function format(...args: LuaValue[]): LuaResult {
  const count = args.length;
  const template = checkString(args[0], 1, count);
  const parts: string[] = [];
  let argument = 1;
  let at = 0;
  while (at < template.length) {
    const percent = template.indexOf("%", at);
    if (percent < 0) {
      parts.push(template.slice(at));
      break;
    }
    if (percent > at) parts.push(template.slice(at, percent));
    if (template.charCodeAt(percent + 1) === 37) {
      parts.push("%");
      at = percent + 2;
      continue;
    }
    argument++;
    if (argument > count) throw argumentError(argument, "no value");
    const { spec, end } = parseSpec(template, percent + 1);
    at = end;
    const value = args[argument - 1];
    switch (spec.conversion) {
      case "c": {
        const code = Math.trunc(checkNumber(value, argument, count)) & 255;
        parts.push(cutAtNul(formatTextItem(spec, String.fromCharCode(code))));
        break;
      }
      case "d":
      case "i":
      case "o":
      case "u":
      case "x":
      case "X":
        parts.push(formatIntegerItem(spec, checkNumber(value, argument, count)));
        break;
      case "e":
      case "E":
      case "f":
      case "g":
      case "G":
        parts.push(formatFloatItem(spec, checkNumber(value, argument, count)));
        break;
      case "q":
        parts.push(quoted(checkString(value, argument, count)));
        break;
      case "s": {
        const text = checkString(value, argument, count);
        if (spec.precision < 0 && text.length >= 100) parts.push(text);
        else parts.push(formatTextItem(spec, cutAtNul(text)));
        break;
      }
      default:
        throw luaError(`invalid option '%${spec.conversion}' to 'format'`);
    }
  }
  return parts.join("");
}

// ---- the library -------------------------------------------------------

function lower(text: string): string {
  return text.replace(/[A-Z]+/g, (run) => run.toLowerCase());
}

function upper(text: string): string {
  return text.replace(/[a-z]+/g, (run) => run.toUpperCase());
}

/** Builds the `string` table and installs the string metatable. */
export function openString(globals: LuaTable): LuaTable {
  const library = new LuaTable();
  const define = (name: string, fn: LuaFunction) => library.set(name, fn);

  define("len", function len(text: LuaValue): LuaResult {
    return checkString(text, 1, arguments.length).length;
  });
  define("sub", function sub(text: LuaValue, from: LuaValue, to: LuaValue): LuaResult {
    const count = arguments.length;
    const source = checkString(text, 1, count);
    const length = source.length;
    let start = relative(checkLong(from, 2, count), length);
    let end = relative(optLong(to, 3, count, -1), length);
    if (start < 1) start = 1;
    if (end > length) end = length;
    return start <= end ? source.slice(start - 1, end) : "";
  });
  define("upper", function upperFn(text: LuaValue): LuaResult {
    return upper(checkString(text, 1, arguments.length));
  });
  define("lower", function lowerFn(text: LuaValue): LuaResult {
    return lower(checkString(text, 1, arguments.length));
  });
  define("rep", function rep(text: LuaValue, times: LuaValue): LuaResult {
    const count = arguments.length;
    const source = checkString(text, 1, count);
    const n = checkLong(times, 2, count);
    if (n <= 0 || source.length === 0) return "";
    if (source.length * n > 0x1fffffe8) throw new LuaError("not enough memory", 0);
    return source.repeat(n);
  });
  define("reverse", function reverse(text: LuaValue): LuaResult {
    const source = checkString(text, 1, arguments.length);
    let out = "";
    for (let at = source.length - 1; at >= 0; at--) out += source[at];
    return out;
  });
  define("byte", function byte(text: LuaValue, from: LuaValue, to: LuaValue): LuaResult {
    const count = arguments.length;
    const source = checkString(text, 1, count);
    const length = source.length;
    let start = relative(optLong(from, 2, count, 1), length);
    let end = relative(optLong(to, 3, count, start), length);
    if (start <= 0) start = 1;
    if (end > length) end = length;
    if (start > end) return EMPTY;
    if (start === end) return source.charCodeAt(start - 1);
    const n = end - start + 1;
    if (n >= 8000) throw luaError("string slice too long");
    const codes = new Array<LuaValue>(n);
    for (let offset = 0; offset < n; offset++) {
      codes[offset] = source.charCodeAt(start - 1 + offset);
    }
    return codes;
  });
  define("char", function char(...codes: LuaValue[]): LuaResult {
    let out = "";
    for (let position = 0; position < codes.length; position++) {
      const code = checkInteger(codes[position], position + 1, codes.length);
      if ((code & 255) !== code) throw argumentError(position + 1, "invalid value");
      out += String.fromCharCode(code);
    }
    return out;
  });
  define("find", function findFn(...args: LuaValue[]): LuaResult {
    return findAux(true, args);
  });
  define("match", function match(...args: LuaValue[]): LuaResult {
    return findAux(false, args);
  });
  define("gmatch", gmatch);
  define("gfind", gmatch);
  define("gsub", gsub);
  define("format", format);
  define("dump", function dump(fn: LuaValue): LuaResult {
    if (typeof fn !== "function") throw typeError(1, "function", arguments.length, fn);
    // There is no bytecode: a header that loadstring refuses as Redis does real bytecode.
    return "\x1bLuaQ\0\x01\x04\x08\x04\x08\0";
  });

  globals.set("string", library);
  const metatable = new LuaTable();
  metatable.set("__index", library);
  vm.stringMetatable = metatable;
  return library;
}
