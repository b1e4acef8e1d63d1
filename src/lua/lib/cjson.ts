/**
 * `cjson`: lua-cjson 2.1.0 as Redis 7.0 bundles it, byte for byte —
 * numbers as `%.14g` (Redis's `fpconv_g_fmt` at the default precision),
 * `/` escaped as `\/`, control characters as `\u00XX`, tables that are
 * arrays (keys 1..n, not "excessively sparse") as JSON arrays and all others
 * as objects in `next` order, `cjson.null` (the NULL light userdata) for
 * JSON null, and the library's own error texts ("Expected value but found
 * T_END at character 1"). The configuration functions and `cjson.new()`
 * behave as there, each instance with its own settings.
 *
 * @module
 */

import { argumentError, luaError } from "../runtime.ts";
import { LuaTable } from "../table.ts";
import {
  LightUserdata,
  type LuaFunction,
  type LuaResult,
  type LuaValue,
  typeName,
} from "../values.ts";
import { formatFloat, numberToString } from "../number_format.ts";
import { checkInteger, checkOption, checkString } from "./arguments.ts";

/** `cjson.null`: the NULL light userdata. */
export const CJSON_NULL = new LightUserdata(0);

interface Config {
  sparseConvert: number;
  sparseRatio: number;
  sparseSafe: number;
  encodeMaxDepth: number;
  decodeMaxDepth: number;
  precision: number;
  keepBuffer: number;
  encodeInvalidNumbers: number;
  decodeInvalidNumbers: number;
}

function defaultConfig(): Config {
  return {
    sparseConvert: 0,
    sparseRatio: 2,
    sparseSafe: 10,
    encodeMaxDepth: 1000,
    decodeMaxDepth: 1000,
    precision: 14,
    keepBuffer: 1,
    encodeInvalidNumbers: 0,
    decodeInvalidNumbers: 1,
  };
}

const ESCAPES: string[] = (() => {
  const table = new Array<string>(256).fill("");
  for (let code = 0; code < 32; code++) table[code] = "\\u" + code.toString(16).padStart(4, "0");
  table[8] = "\\b";
  table[9] = "\\t";
  table[10] = "\\n";
  table[12] = "\\f";
  table[13] = "\\r";
  table[34] = '\\"';
  table[47] = "\\/";
  table[92] = "\\\\";
  table[127] = "\\u007f";
  return table;
})();

// Control characters are what this matches on purpose: cjson escapes them.
// deno-lint-ignore no-control-regex
const NEEDS_ESCAPE = /[\x00-\x1f"\/\\\x7f]/;

/** Encoded forms of recent object keys (keys repeat across the objects of a document). */
const keyCache = new Map<string, string>();

function encodeKey(key: string): string {
  let encoded = keyCache.get(key);
  if (encoded === undefined) {
    encoded = encodeString(key) + ":";
    if (keyCache.size > 512) keyCache.clear();
    if (key.length < 64) keyCache.set(key, encoded);
  }
  return encoded;
}

function encodeString(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return '"' + text + '"';
  let out = '"';
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    const escape = ESCAPES[text.charCodeAt(index)];
    if (escape !== undefined && escape !== "") {
      out += text.slice(start, index) + escape;
      start = index + 1;
    }
  }
  return out + text.slice(start) + '"';
}

function encodeError(value: LuaValue, reason: string): never {
  throw luaError(`Cannot serialise ${typeName(value)}: ${reason}`);
}

function encodeNumber(value: number, config: Config): string {
  if (config.encodeInvalidNumbers === 0) {
    if (!Number.isFinite(value)) encodeError(value, "must not be NaN or Inf");
  } else if (config.encodeInvalidNumbers === 1) {
    if (Number.isNaN(value)) return "nan";
  } else if (!Number.isFinite(value)) return "null";
  if (config.precision === 14) return numberToString(value);
  return formatFloat(value, "g", config.precision, false, false);
}

/** `lua_array_length`: the array length, or -1 for an object. */
function arrayLength(table: LuaTable, config: Config): number {
  let maximum = 0;
  let items = 0;
  if (table.nodeSize === 0) {
    // Only array-part keys: items and the largest index, without traversing.
    const array = table.array;
    for (let index = 0; index < array.length; index++) {
      if (array[index] !== undefined) {
        items++;
        maximum = index + 1;
      }
    }
    return sparseCheck(table, config, maximum, items);
  }
  let key = table.next(undefined);
  while (key !== undefined && key !== null) {
    if (typeof key === "number" && key !== 0 && Math.floor(key) === key && key >= 1) {
      if (key > maximum) maximum = key;
      items++;
    } else return -1;
    key = table.next(key);
  }
  return sparseCheck(table, config, maximum, items);
}

function sparseCheck(table: LuaTable, config: Config, maximum: number, items: number): number {
  if (
    config.sparseRatio > 0 && maximum > items * config.sparseRatio && maximum > config.sparseSafe
  ) {
    if (!config.sparseConvert) encodeError(table, "excessively sparse array");
    return -1;
  }
  return maximum;
}

/** Accumulates the encoded text (string concatenation builds ropes; cheaper than joining pieces). */
class Sink {
  text = "";
  push(piece: string): void {
    this.text += piece;
  }
}

function encodeValue(value: LuaValue, config: Config, depth: number, parts: Sink): void {
  switch (typeof value) {
    case "string":
      parts.push(encodeString(value));
      return;
    case "number":
      parts.push(encodeNumber(value, config));
      return;
    case "boolean":
      parts.push(value ? "true" : "false");
      return;
    case "undefined":
      parts.push("null");
      return;
  }
  if (value instanceof LightUserdata && value.address === 0) {
    parts.push("null");
    return;
  }
  if (!(value instanceof LuaTable)) encodeError(value, "type not supported");
  const current = depth + 1;
  if (current > config.encodeMaxDepth) {
    throw luaError(`Cannot serialise, excessive nesting (${current})`);
  }
  const length = arrayLength(value, config);
  if (length > 0) {
    parts.push("[");
    for (let index = 1; index <= length; index++) {
      if (index > 1) parts.push(",");
      encodeValue(value.getInteger(index), config, current, parts);
    }
    parts.push("]");
    return;
  }
  parts.push("{");
  let first = true;
  // The traversal `next` makes: the array part, then the nodes in order.
  const array = value.array;
  for (let index = 0; index < array.length; index++) {
    const item = array[index];
    if (item === undefined) continue;
    if (!first) parts.push(",");
    first = false;
    parts.push('"' + encodeNumber(index + 1, config) + '":');
    encodeValue(item, config, current, parts);
  }
  const keys = value.nodeKeys;
  const values = value.nodeValues;
  const nodes = value.nodeSize;
  for (let node = 0; node < nodes; node++) {
    const item = values[node];
    if (item === undefined) continue;
    const key = keys[node];
    if (!first) parts.push(",");
    first = false;
    if (typeof key === "number") parts.push('"' + encodeNumber(key, config) + '":');
    else if (typeof key === "string") parts.push(encodeKey(key));
    else encodeError(key, "table key must be a number or string");
    encodeValue(item, config, current, parts);
  }
  parts.push("}");
}

// ---- decoding ------------------------------------------------------------

type TokenType =
  | "T_OBJ_BEGIN"
  | "T_OBJ_END"
  | "T_ARR_BEGIN"
  | "T_ARR_END"
  | "T_STRING"
  | "T_NUMBER"
  | "T_BOOLEAN"
  | "T_NULL"
  | "T_COLON"
  | "T_COMMA"
  | "T_END"
  | "T_ERROR";

interface Token {
  type: TokenType;
  index: number;
  value: LuaValue;
  error: string;
}

class Decoder {
  readonly #data: string;
  readonly #config: Config;
  #position = 0;
  #depth = 0;

  constructor(data: string, config: Config) {
    this.#data = data;
    this.#config = config;
  }

  #code(index: number): number {
    return index < this.#data.length ? this.#data.charCodeAt(index) : 0;
  }

  #fail(expected: string, token: Token): never {
    const found = token.type === "T_ERROR" ? token.error : token.type;
    throw luaError(`Expected ${expected} but found ${found} at character ${token.index + 1}`);
  }

  #tokenError(message: string): Token {
    return { type: "T_ERROR", index: this.#position, value: undefined, error: message };
  }

  #isInvalidNumber(): boolean {
    let p = this.#position;
    if (this.#code(p) === 43) return true;
    if (this.#code(p) === 45) p++;
    const c = this.#code(p);
    if (c === 48) {
      const next = this.#code(p + 1);
      return (next | 0x20) === 120 || (next >= 48 && next <= 57);
    }
    if (c <= 57) return false;
    const three = this.#data.slice(p, p + 3).toLowerCase();
    return three === "inf" || three === "nan";
  }

  #number(): Token {
    const index = this.#position;
    const parsed = strtodPrefix(this.#data, index);
    if (parsed.end === index) return this.#tokenError("invalid number");
    this.#position = parsed.end;
    return { type: "T_NUMBER", index, value: parsed.value, error: "" };
  }

  next(): Token {
    let c = this.#code(this.#position);
    while (c === 32 || c === 9 || c === 10 || c === 13) c = this.#code(++this.#position);
    const index = this.#position;
    const single = (type: TokenType): Token => {
      this.#position++;
      return { type, index, value: undefined, error: "" };
    };
    switch (c) {
      case 0:
        return { type: "T_END", index, value: undefined, error: "" };
      case 123:
        return single("T_OBJ_BEGIN");
      case 125:
        return single("T_OBJ_END");
      case 91:
        return single("T_ARR_BEGIN");
      case 93:
        return single("T_ARR_END");
      case 58:
        return single("T_COLON");
      case 44:
        return single("T_COMMA");
      case 34:
        return this.#string();
    }
    const unknown = c === 45 || (c >= 48 && c <= 57) || c === 116 || c === 102 || c === 110 ||
      (this.#config.decodeInvalidNumbers !== 0 && (c === 73 || c === 105 || c === 78 || c === 43));
    if (!unknown) return this.#tokenError("invalid token");
    if (c === 45 || (c >= 48 && c <= 57)) {
      if (this.#config.decodeInvalidNumbers === 0 && this.#isInvalidNumber()) {
        return this.#tokenError("invalid number");
      }
      return this.#number();
    }
    const rest = this.#data.slice(index, index + 5);
    if (rest.startsWith("true")) {
      this.#position += 4;
      return { type: "T_BOOLEAN", index, value: true, error: "" };
    }
    if (rest.startsWith("false")) {
      this.#position += 5;
      return { type: "T_BOOLEAN", index, value: false, error: "" };
    }
    if (rest.startsWith("null")) {
      this.#position += 4;
      return { type: "T_NULL", index, value: CJSON_NULL, error: "" };
    }
    if (this.#config.decodeInvalidNumbers !== 0 && this.#isInvalidNumber()) return this.#number();
    return this.#tokenError("invalid token");
  }

  #string(): Token {
    const index = this.#position;
    this.#position++;
    let out = "";
    let chunkStart = this.#position;
    for (;;) {
      const c = this.#code(this.#position);
      if (c === 34) break;
      if (c === 0) return this.#tokenError("unexpected end of string");
      if (c !== 92) {
        this.#position++;
        continue;
      }
      out += this.#data.slice(chunkStart, this.#position);
      const escape = this.#code(this.#position + 1);
      let decoded: string | null = null;
      switch (escape) {
        case 34:
          decoded = '"';
          break;
        case 92:
          decoded = "\\";
          break;
        case 47:
          decoded = "/";
          break;
        case 98:
          decoded = "\b";
          break;
        case 102:
          decoded = "\f";
          break;
        case 110:
          decoded = "\n";
          break;
        case 114:
          decoded = "\r";
          break;
        case 116:
          decoded = "\t";
          break;
        case 117: {
          const unicode = this.#unicodeEscape();
          if (unicode === null) return this.#tokenError("invalid unicode escape code");
          out += unicode;
          chunkStart = this.#position;
          continue;
        }
      }
      if (decoded === null) return this.#tokenError("invalid escape code");
      out += decoded;
      this.#position += 2;
      chunkStart = this.#position;
    }
    out += this.#data.slice(chunkStart, this.#position);
    this.#position++;
    return { type: "T_STRING", index, value: out, error: "" };
  }

  #hex4(at: number): number {
    let value = 0;
    for (let offset = 0; offset < 4; offset++) {
      const c = this.#code(at + offset);
      let digit: number;
      if (c >= 48 && c <= 57) digit = c - 48;
      else if ((c | 32) >= 97 && (c | 32) <= 102) digit = (c | 32) - 87;
      else return -1;
      value = value * 16 + digit;
    }
    return value;
  }

  #unicodeEscape(): string | null {
    let codepoint = this.#hex4(this.#position + 2);
    if (codepoint < 0) return null;
    let length = 6;
    if ((codepoint & 0xf800) === 0xd800) {
      if (codepoint & 0x400) return null;
      if (this.#code(this.#position + 6) !== 92 || this.#code(this.#position + 7) !== 117) {
        return null;
      }
      const low = this.#hex4(this.#position + 8);
      if (low < 0 || (low & 0xfc00) !== 0xdc00) return null;
      codepoint = (((codepoint & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000;
      length = 12;
    }
    this.#position += length;
    return utf8(codepoint);
  }

  #descend(): void {
    this.#depth++;
    if (this.#depth > this.#config.decodeMaxDepth) {
      throw luaError(
        `Found too many nested data structures (${this.#depth}) at character ${this.#position}`,
      );
    }
  }

  value(token: Token): LuaValue {
    switch (token.type) {
      case "T_STRING":
      case "T_NUMBER":
      case "T_BOOLEAN":
      case "T_NULL":
        return token.value;
      case "T_OBJ_BEGIN":
        return this.#object();
      case "T_ARR_BEGIN":
        return this.#array();
      default:
        this.#fail("value", token);
    }
  }

  #object(): LuaTable {
    this.#descend();
    const table = new LuaTable();
    let token = this.next();
    if (token.type === "T_OBJ_END") {
      this.#depth--;
      return table;
    }
    for (;;) {
      if (token.type !== "T_STRING") this.#fail("object key string", token);
      const key = token.value as string;
      token = this.next();
      if (token.type !== "T_COLON") this.#fail("colon", token);
      table.set(key, this.value(this.next()));
      token = this.next();
      if (token.type === "T_OBJ_END") {
        this.#depth--;
        return table;
      }
      if (token.type !== "T_COMMA") this.#fail("comma or object end", token);
      token = this.next();
    }
  }

  #array(): LuaTable {
    this.#descend();
    const table = new LuaTable();
    let token = this.next();
    if (token.type === "T_ARR_END") {
      this.#depth--;
      return table;
    }
    for (let index = 1;; index++) {
      table.setInteger(index, this.value(token));
      token = this.next();
      if (token.type === "T_ARR_END") {
        this.#depth--;
        return table;
      }
      if (token.type !== "T_COMMA") this.#fail("comma or array end", token);
      token = this.next();
    }
  }

  decode(): LuaValue {
    const value = this.value(this.next());
    const token = this.next();
    if (token.type !== "T_END") this.#fail("the end", token);
    return value;
  }
}

function utf8(codepoint: number): string {
  if (codepoint < 0x80) return String.fromCharCode(codepoint);
  if (codepoint < 0x800) {
    return String.fromCharCode(0xc0 | (codepoint >> 6), 0x80 | (codepoint & 0x3f));
  }
  if (codepoint < 0x10000) {
    return String.fromCharCode(
      0xe0 | (codepoint >> 12),
      0x80 | ((codepoint >> 6) & 0x3f),
      0x80 | (codepoint & 0x3f),
    );
  }
  return String.fromCharCode(
    0xf0 | (codepoint >> 18),
    0x80 | ((codepoint >> 12) & 0x3f),
    0x80 | ((codepoint >> 6) & 0x3f),
    0x80 | (codepoint & 0x3f),
  );
}

/** `strtod` on a prefix, stopping at NUL as C does. */
function strtodPrefix(data: string, start: number): { value: number; end: number } {
  const match =
    /^[+-]?(?:0[xX][0-9a-fA-F]*\.?[0-9a-fA-F]*(?:[pP][+-]?\d+)?|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?)/i
      .exec(data.slice(start, start + 400));
  if (match === null) return { value: 0, end: start };
  let text = match[0];
  // A dangling exponent or hex prefix is not part of the number.
  const lower = text.toLowerCase();
  let value: number;
  const sign = text.startsWith("-") ? -1 : 1;
  const body = lower.replace(/^[+-]/, "");
  if (body.startsWith("inf")) value = sign * Infinity;
  else if (body.startsWith("nan")) value = NaN;
  else if (body.startsWith("0x")) {
    const hex = /^0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?/.exec(body)!;
    const whole = hex[1] ?? "";
    const fraction = hex[2] ?? "";
    if (whole === "" && fraction === "") {
      text = text.slice(0, text.indexOf("0") + 1);
      value = 0;
    } else {
      let mantissa = 0;
      for (const digit of whole + fraction) mantissa = mantissa * 16 + parseInt(digit, 16);
      value = sign * mantissa * 2 ** (Number(hex[3] ?? 0) - 4 * fraction.length);
    }
  } else value = Number(text);
  return { value, end: start + text.length };
}

// ---- the JSON.parse fast path ------------------------------------------------

const FALLBACK = Symbol("fallback");
const ARRAY_INDEX = /^(?:0|[1-9]\d{0,9})$/;

/**
 * Decodes with the native JSON.parse when that gives exactly what cjson
 * gives; FALLBACK otherwise, and the cjson-faithful parser runs (it also
 * produces every error message). JSON.parse accepts a subset of what cjson
 * accepts, with the same meaning, except: `\u` escapes (cjson produces
 * UTF-8 bytes), object keys that look like array indices (JS reorders them,
 * which would change the table's insertion order), and nesting beyond the
 * configured depth.
 */
function decodeWithJsonParse(data: string, config: Config): LuaValue | typeof FALLBACK {
  if (data.indexOf("\\u") >= 0) return FALLBACK;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return FALLBACK;
  }
  return fromJs(parsed, 0, config.decodeMaxDepth);
}

function fromJs(value: unknown, depth: number, maximumDepth: number): LuaValue | typeof FALLBACK {
  switch (typeof value) {
    case "string":
    case "number":
    case "boolean":
      return value;
  }
  if (value === null) return CJSON_NULL;
  if (depth + 1 > maximumDepth) return FALLBACK;
  if (Array.isArray(value)) {
    const items: LuaValue[] = new Array(value.length);
    for (let index = 0; index < value.length; index++) {
      const item = fromJs(value[index], depth + 1, maximumDepth);
      if (item === FALLBACK) return FALLBACK;
      items[index] = item;
    }
    return LuaTable.fromSequence(items);
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  const values: LuaValue[] = new Array(keys.length);
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index]!;
    if (ARRAY_INDEX.test(key)) return FALLBACK;
    const item = fromJs(object[key], depth + 1, maximumDepth);
    if (item === FALLBACK) return FALLBACK;
    values[index] = item;
  }
  return LuaTable.fromEntries(keys, values);
}

// ---- the module ----------------------------------------------------------

function argumentsUpTo(count: number, limit: number): void {
  if (count > limit) throw argumentError(limit + 1, "found too many arguments");
}

function integerOption(
  value: LuaValue,
  count: number,
  index: number,
  current: number,
  minimum: number,
  maximum: number,
): number {
  if (value === undefined) return current;
  const number = checkInteger(value, index, count);
  if (number < minimum || number > maximum) {
    throw argumentError(1, `expected integer between ${minimum} and ${maximum}`);
  }
  return number;
}

function enumOption(
  value: LuaValue,
  count: number,
  index: number,
  current: number,
  options: string[],
): number {
  if (value === undefined) return current;
  if (typeof value === "boolean") return value ? 1 : 0;
  return options.indexOf(checkOption(value, index, count, null, options));
}

function enumResult(setting: number, options: string[]): LuaValue {
  return setting === 0 || setting === 1 ? setting === 1 : options[setting];
}

function createModule(): LuaTable {
  const config = defaultConfig();
  const module = new LuaTable();
  const define = (name: string, fn: LuaFunction) => module.set(name, fn);
  const onOff = ["off", "on"];
  define("encode", function encode(value: LuaValue): LuaResult {
    if (arguments.length !== 1) throw argumentError(1, "expected 1 argument");
    const parts = new Sink();
    encodeValue(value, config, 0, parts);
    return parts.text;
  });
  define("decode", function decode(value: LuaValue): LuaResult {
    if (arguments.length !== 1) throw argumentError(1, "expected 1 argument");
    const text = checkString(value, 1, 1);
    if (text.length >= 2 && (text.charCodeAt(0) === 0 || text.charCodeAt(1) === 0)) {
      throw luaError("JSON parser does not support UTF-16 or UTF-32");
    }
    const nul = text.indexOf("\0");
    const data = nul < 0 ? text : text.slice(0, nul);
    const fast = decodeWithJsonParse(data, config);
    if (fast !== FALLBACK) return fast;
    return new Decoder(data, config).decode();
  });
  define(
    "encode_sparse_array",
    function (convert: LuaValue, ratio: LuaValue, safe: LuaValue): LuaResult {
      const count = arguments.length;
      argumentsUpTo(count, 3);
      config.sparseConvert = enumOption(convert, count, 1, config.sparseConvert, onOff);
      config.sparseRatio = integerOption(ratio, count, 2, config.sparseRatio, 0, 2147483647);
      config.sparseSafe = integerOption(safe, count, 3, config.sparseSafe, 0, 2147483647);
      return [config.sparseConvert === 1, config.sparseRatio, config.sparseSafe];
    },
  );
  define("encode_max_depth", function (depth: LuaValue): LuaResult {
    argumentsUpTo(arguments.length, 1);
    config.encodeMaxDepth = integerOption(
      depth,
      arguments.length,
      1,
      config.encodeMaxDepth,
      1,
      2147483647,
    );
    return config.encodeMaxDepth;
  });
  define("decode_max_depth", function (depth: LuaValue): LuaResult {
    argumentsUpTo(arguments.length, 1);
    config.decodeMaxDepth = integerOption(
      depth,
      arguments.length,
      1,
      config.decodeMaxDepth,
      1,
      2147483647,
    );
    return config.decodeMaxDepth;
  });
  define("encode_number_precision", function (precision: LuaValue): LuaResult {
    argumentsUpTo(arguments.length, 1);
    config.precision = integerOption(precision, arguments.length, 1, config.precision, 1, 14);
    return config.precision;
  });
  define("encode_keep_buffer", function (keep: LuaValue): LuaResult {
    argumentsUpTo(arguments.length, 1);
    config.keepBuffer = enumOption(keep, arguments.length, 1, config.keepBuffer, onOff);
    return enumResult(config.keepBuffer, onOff);
  });
  define("encode_invalid_numbers", function (setting: LuaValue): LuaResult {
    argumentsUpTo(arguments.length, 1);
    const options = ["off", "on", "null"];
    config.encodeInvalidNumbers = enumOption(
      setting,
      arguments.length,
      1,
      config.encodeInvalidNumbers,
      options,
    );
    return enumResult(config.encodeInvalidNumbers, options);
  });
  define("decode_invalid_numbers", function (setting: LuaValue): LuaResult {
    argumentsUpTo(arguments.length, 1);
    config.decodeInvalidNumbers = enumOption(
      setting,
      arguments.length,
      1,
      config.decodeInvalidNumbers,
      onOff,
    );
    return enumResult(config.decodeInvalidNumbers, onOff);
  });
  define("new", function (): LuaResult {
    return createModule();
  });
  module.set("null", CJSON_NULL);
  module.set("_NAME", "cjson");
  module.set("_VERSION", "2.1.0");
  return module;
}

/** Builds the `cjson` table. */
export function openCjson(globals: LuaTable): LuaTable {
  const module = createModule();
  globals.set("cjson", module);
  return module;
}
