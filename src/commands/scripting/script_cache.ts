/**
 * The EVAL script cache (eval.c's `lctx.lua_scripts`): scripts by SHA1,
 * each compiled once when it is first seen (EVAL or SCRIPT LOAD) and kept
 * until SCRIPT FLUSH, as Redis 7.0 keeps them.
 *
 * A script may start with a shebang, `#!lua flags=no-writes,allow-oom`
 * (evalExtractShebangFlags): then it declares its flags and leaves the
 * backwards-compatible mode of scripts without one. The shebang line is
 * not compiled, but its newline is, so line numbers in error messages
 * count it.
 *
 * SHAs are looked up in any case, as Redis's case-insensitive dictionary
 * does. EVAL of a body already cached finds it by the body itself before
 * hashing, which spares the SHA1 of the common re-sent script.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";
import { compile, type LuaFunction, LuaSyntaxError, type LuaTable } from "../../lua/mod.ts";
import { splitInlineArguments } from "../../protocol/parser.ts";
import { scriptFlagBit } from "./flags.ts";

/** The SHA1 of a binary string, in lower-case hex (Redis's sha1hex). */
export function sha1hex(text: string): string {
  return createHash("sha1").update(Buffer.from(text, "latin1")).digest("hex");
}

/** A compiled EVAL script. */
export interface CachedScript {
  readonly sha: string;
  readonly body: string;
  /** Declared flags (flags.ts bits); 0 for a script without shebang. */
  readonly flags: number;
  /** No shebang: Redis's backwards-compatible EVAL mode. */
  readonly compatible: boolean;
  /** The compiled body, bound to the EVAL environment. */
  readonly main: LuaFunction;
}

/** A script's shebang, or why it is refused. */
export type Shebang =
  | { ok: true; flags: number; compatible: boolean; length: number }
  | { ok: false; error: string };

/** Reads a script's shebang line (evalExtractShebangFlags); errors without `ERR `. */
export function parseShebang(body: string): Shebang {
  if (!body.startsWith("#!")) return { ok: true, flags: 0, compatible: true, length: 0 };
  const end = body.indexOf("\n");
  if (end < 0) return { ok: false, error: "Invalid script shebang" };
  const parts = splitInlineArguments(body.slice(0, end));
  if (parts === undefined || parts.length === 0) {
    return { ok: false, error: "Invalid engine in script shebang" };
  }
  if (parts[0] !== "#!lua") {
    return { ok: false, error: `Unexpected engine in script shebang: ${parts[0]}` };
  }
  let flags = 0;
  for (const part of parts.slice(1)) {
    if (!part.startsWith("flags=")) {
      return { ok: false, error: `Unknown lua shebang option: ${part}` };
    }
    const list = part.slice(6);
    if (list.length === 0) continue;
    for (const name of list.split(",")) {
      const bit = scriptFlagBit(name, true);
      if (bit === 0) return { ok: false, error: `Unexpected flag in script shebang: ${name}` };
      flags |= bit;
    }
  }
  return { ok: true, flags, compatible: false, length: end };
}

/** A script that could not be cached, with Redis's error text (without `ERR `). */
export class ScriptCompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScriptCompileError";
  }
}

/** The EVAL scripts of one server. */
export class ScriptCache {
  readonly #bySha = new Map<string, CachedScript>();
  readonly #byBody = new Map<string, CachedScript>();
  #bodyBytes = 0;

  /** `environment` is what scripts are compiled against; `setEnvironment` changes it. */
  constructor(public environment: LuaTable) {}

  /** The script with this SHA (any case), or undefined. */
  get(sha: string): CachedScript | undefined {
    return this.#bySha.get(sha) ?? this.#bySha.get(sha.toLowerCase());
  }

  /** The cached script whose body is `body`, if any (EVAL's fast path). */
  byBody(body: string): CachedScript | undefined {
    return this.#byBody.get(body);
  }

  /**
   * The script for `body`, compiling and caching it if new
   * (luaCreateFunction). Throws ScriptCompileError.
   */
  add(body: string): CachedScript {
    const known = this.#byBody.get(body);
    if (known !== undefined) return known;
    const sha = sha1hex(body);
    const cached = this.#bySha.get(sha);
    if (cached !== undefined) return cached;
    const shebang = parseShebang(body);
    if (!shebang.ok) throw new ScriptCompileError(shebang.error);
    let main: LuaFunction;
    try {
      main = compile(body.slice(shebang.length), "@user_script", { env: this.environment });
    } catch (error) {
      if (!(error instanceof LuaSyntaxError)) throw error;
      throw new ScriptCompileError(`Error compiling script (new function): ${error.message}`);
    }
    const script: CachedScript = {
      sha,
      body,
      flags: shebang.flags,
      compatible: shebang.compatible,
      main,
    };
    this.#bySha.set(sha, script);
    this.#byBody.set(body, script);
    this.#bodyBytes += body.length;
    return script;
  }

  /** Forgets every script (SCRIPT FLUSH). */
  clear(environment: LuaTable): void {
    this.#bySha.clear();
    this.#byBody.clear();
    this.#bodyBytes = 0;
    this.environment = environment;
  }

  /** How many scripts are cached (INFO number_of_cached_scripts). */
  get size(): number {
    return this.#bySha.size;
  }

  /** An estimate of the cache's memory, as INFO's used_memory_scripts_eval. */
  get memory(): number {
    return this.#bodyBytes + this.#bySha.size * SCRIPT_OVERHEAD_BYTES;
  }
}

/** Redis's per-script overhead in the dictionary (entry, sds key, robj): about this. */
const SCRIPT_OVERHEAD_BYTES = 200;
