/**
 * The script client's reply writer: instead of encoding a command's reply
 * to RESP for `redis.call` to parse back, it builds the Lua value directly,
 * the same value conversions.ts's `replyToLua` would give for the bytes the
 * ordinary writer would have produced in the script's protocol
 * (`redis.setresp`). That spares an encode, a buffer copy and a parse per
 * `redis.call`, which is most of a small script's cost.
 *
 * It keeps the ReplyWriter interface so every command handler works
 * unchanged: scalars become values, aggregate headers open a table that the
 * next elements fill, and pre-encoded bytes (`raw`) are read token by
 * token. `length` counts the values written, which is all the executor
 * needs (a failed command's partial reply is undone with `truncate` to
 * where it started, always the beginning here).
 *
 * @module
 */

import { LuaTable, type LuaValue } from "../../lua/mod.ts";
import { formatDouble } from "../../protocol/doubles.ts";
import { ReplyWriter } from "../../protocol/reply_writer.ts";
import { commandErrorTable } from "./conversions.ts";

/** An aggregate being filled. */
interface Frame {
  kind: "array" | "map" | "set";
  /** Elements still to come (for maps: keys and values). */
  remaining: number;
  values: LuaValue[];
  holes: boolean;
}

/** `{[field] = value}`, from the engine's cached layout for that one key. */
function fieldTable(field: string, value: LuaValue): LuaTable {
  return LuaTable.fromEntries(FIELD_KEYS[field] ??= [field], [value]);
}

const FIELD_KEYS: Record<string, string[]> = {};

/** lua_settable refuses nil and NaN keys; skip them as conversions.ts does. */
function validKey(key: LuaValue): boolean {
  return key !== undefined && !(typeof key === "number" && Number.isNaN(key));
}

/** A ReplyWriter whose output is the Lua value of the reply. */
export class LuaReplyWriter extends ReplyWriter {
  readonly #frames: Frame[] = [];
  #value: LuaValue = undefined;
  #count = 0;
  /** The reply (complete) is an error. */
  #error = false;

  /** The Lua value of the reply written since the last call, and starts over. */
  takeValue(): LuaValue {
    const value = this.#value;
    this.#reset();
    return value;
  }

  /** Whether the reply written is an error (redis.call raises it). */
  get isError(): boolean {
    return this.#error;
  }

  #reset(): void {
    this.#frames.length = 0;
    this.#value = undefined;
    this.#count = 0;
    this.#error = false;
  }

  override get length(): number {
    return this.#count;
  }

  override get chunked(): boolean {
    return false;
  }

  override take(): Uint8Array {
    this.#reset();
    return new Uint8Array(0);
  }

  override drain(_write: (bytes: Uint8Array) => void): void {
    this.#reset();
  }

  override startsWithError(): boolean {
    return this.isError;
  }

  override truncate(length: number): void {
    if (length === 0) this.#reset();
    else if (length !== this.#count) throw new Error("A script reply can only be undone whole");
  }

  /** One complete value: an element of the open aggregate, or the reply. */
  #emit(value: LuaValue, isError = false): void {
    this.#count++;
    const frames = this.#frames;
    let current: LuaValue = value;
    for (;;) {
      const frame = frames[frames.length - 1];
      if (frame === undefined) {
        this.#value = current;
        this.#error = isError;
        return;
      }
      if (current === undefined) frame.holes = true;
      frame.values.push(current);
      if (--frame.remaining > 0) return;
      frames.pop();
      current = this.#close(frame);
    }
  }

  #open(kind: Frame["kind"], count: number): void {
    if (count <= 0) {
      this.#emit(count < 0 ? false : this.#close({ kind, remaining: 0, values: [], holes: false }));
      return;
    }
    this.#count++;
    this.#frames.push({ kind, remaining: count, values: [], holes: false });
  }

  #close(frame: Frame): LuaValue {
    const values = frame.values;
    if (frame.kind === "map") {
      const map = new LuaTable();
      for (let i = 0; i < values.length; i += 2) {
        if (validKey(values[i])) map.set(values[i], values[i + 1]);
      }
      return fieldTable("map", map);
    }
    if (frame.kind === "set") {
      const set = new LuaTable();
      for (const member of values) if (validKey(member)) set.set(member, true);
      return fieldTable("set", set);
    }
    if (values.length === 0) return new LuaTable();
    if (!frame.holes) return LuaTable.fromSequence(values);
    const table = new LuaTable();
    for (let i = 0; i < values.length; i++) {
      if (values[i] !== undefined) table.set(i + 1, values[i]);
    }
    return table;
  }

  // ---------------------------------------------------------------------------
  // The ReplyWriter vocabulary

  override simple(text: string): void {
    this.#emit(fieldTable("ok", text));
  }

  override error(message: string): void {
    // As the encoded reply would carry it: one line.
    const line = /[\r\n]/.test(message) ? message.replace(/[\r\n]/g, " ") : message;
    this.#emit(commandErrorTable("-" + line), true);
  }

  override ok(): void {
    this.#emit(fieldTable("ok", "OK"));
  }

  override integer(value: number | bigint): void {
    this.#emit(typeof value === "bigint" ? Number(value) : value);
  }

  override bulk(value: string): void {
    this.#emit(value);
  }

  override bulkSlice(source: string, start: number, end: number): void {
    this.#emit(source.slice(start, end));
  }

  override bulkNumber(value: number | bigint): void {
    this.#emit(String(value));
  }

  override nullBulk(): void {
    this.#emit(this.protocol === 3 ? undefined : false);
  }

  override nullArray(): void {
    this.#emit(this.protocol === 3 ? undefined : false);
  }

  override arrayHeader(count: number): void {
    this.#open("array", count);
  }

  override mapHeader(count: number): void {
    if (this.protocol === 3) this.#open("map", count * 2);
    else this.#open("array", count * 2);
  }

  override setHeader(count: number): void {
    this.#open(this.protocol === 3 ? "set" : "array", count);
  }

  override pushHeader(count: number): void {
    this.#open("array", count);
  }

  override double(value: number): void {
    this.#emit(this.protocol === 3 ? fieldTable("double", value) : formatDouble(value));
  }

  override bool(value: boolean): void {
    this.#emit(this.protocol === 3 ? value : value ? 1 : 0);
  }

  override verbatim(text: string): void {
    if (this.protocol !== 3) {
      this.#emit(text);
      return;
    }
    const verbatim = new LuaTable();
    verbatim.set("string", text);
    verbatim.set("format", "txt");
    this.#emit(fieldTable("verbatim_string", verbatim));
  }

  override bulkArray(values: readonly string[]): void {
    this.#count += values.length;
    this.#emit(values.length === 0 ? new LuaTable() : LuaTable.fromSequence(values.slice()));
  }

  /** Pre-encoded RESP: read token by token (aggregate headers open tables). */
  override raw(bytes: Uint8Array): void {
    let at = 0;
    const line = (): string => {
      let end = at;
      while (bytes[end] !== 13) end++;
      let text = "";
      for (let i = at; i < end; i++) text += String.fromCharCode(bytes[i]!);
      at = end + 2;
      return text;
    };
    const body = (length: number): string => {
      let text = "";
      for (let i = at; i < at + length; i++) text += String.fromCharCode(bytes[i]!);
      at += length + 2;
      return text;
    };
    while (at < bytes.length) {
      const type = bytes[at++]!;
      switch (type) {
        case 43: // '+'
          this.simple(line());
          break;
        case 45: { // '-'
          this.#emit(commandErrorTable("-" + line()), true);
          break;
        }
        case 58: // ':'
          this.#emit(Number(line()));
          break;
        case 36: { // '$'
          const length = Number(line());
          this.#emit(length < 0 ? false : body(length));
          break;
        }
        case 42: // '*'
        case 62: { // '>'
          const count = Number(line());
          if (count < 0) this.#emit(false);
          else this.#open("array", count);
          break;
        }
        case 37: // '%'
          this.#open("map", Number(line()) * 2);
          break;
        case 126: // '~'
          this.#open("set", Number(line()));
          break;
        case 95: // '_'
          line();
          this.#emit(undefined);
          break;
        case 35: // '#'
          this.#emit(line() === "t");
          break;
        case 44: { // ','
          const text = line();
          const value = text === "inf"
            ? Infinity
            : text === "-inf"
            ? -Infinity
            : text === "nan" || text === "-nan"
            ? NaN
            : Number(text);
          this.#emit(fieldTable("double", value));
          break;
        }
        case 40: // '('
          this.#emit(fieldTable("big_number", line()));
          break;
        case 61: { // '='
          const text = body(Number(line()));
          const verbatim = new LuaTable();
          verbatim.set("string", text.slice(4));
          verbatim.set("format", text.slice(0, 3));
          this.#emit(fieldTable("verbatim_string", verbatim));
          break;
        }
        case 124: { // '|': attributes are not shown to scripts
          const count = Number(line());
          at = skipAttribute(bytes, at, count);
          break;
        }
        default:
          throw new Error(`Unexpected reply type byte ${type}`);
      }
    }
  }
}

/** Skips an attribute's `count` pairs of complete values from `start`; returns the end. */
function skipAttribute(bytes: Uint8Array, start: number, count: number): number {
  let at = start;
  let values = count * 2;
  while (values > 0) {
    const type = bytes[at++]!;
    let end = at;
    while (bytes[end] !== 13) end++;
    const header = Number(String.fromCharCode(...bytes.subarray(at, end)));
    at = end + 2;
    values--;
    if (type === 36 || type === 61) {
      if (header >= 0) at += header + 2;
    } else if (type === 42 || type === 126 || type === 62) {
      if (header > 0) values += header;
    } else if (type === 37 || type === 124) {
      if (header > 0) values += header * 2;
    }
  }
  return at;
}
