/**
 * Function libraries (functions.c and function_lua.c): FUNCTION LOAD's
 * `#!lua name=<library>` sources, the functions they register with
 * `redis.register_function`, and the registry FCALL looks functions up in.
 *
 * Loading follows functionsCreateWithLibraryCtx step by step, so each
 * refusal is the one Redis gives first: the metadata line, the library
 * name, the engine, an existing library without REPLACE, compiling,
 * running the top level (at most 500 ms, none when replaying the AOF) with
 * only `redis.register_function`, `redis.log` and the version available,
 * at least one function, and no function name taken by another library.
 * A failed REPLACE leaves the old library in place.
 *
 * Names: library names are case-sensitive, function names are looked up in
 * any case (Redis's dictionaries); within a library a duplicate is
 * case-sensitive. Libraries and functions are kept in insertion order, where
 * Redis's hash order varies between runs.
 *
 * FUNCTION RESTORE builds the payload's libraries into a fresh registry
 * first and then joins them with the FLUSH, APPEND or REPLACE policy
 * (libraryJoin), so it applies all of them or none.
 *
 * @module
 */

import { compile, LuaError, type LuaFunction, LuaSyntaxError, LuaTable } from "../../lua/mod.ts";
import { type LuaValue, rawToString, startCall } from "../../lua/mod.ts";
import { splitInlineArguments } from "../../protocol/parser.ts";
import { errorTable } from "./conversions.ts";
import type { FunctionEnvironment } from "./environments.ts";
import { scriptFlagBit } from "./flags.ts";
import { escapedMessage } from "./sandbox.ts";

/** A function registered by a library. */
export interface LibraryFunction {
  readonly name: string;
  readonly callback: LuaFunction;
  readonly description: string | undefined;
  /** flags.ts bits. */
  readonly flags: number;
  readonly library: Library;
}

/** A loaded library. */
export interface Library {
  readonly name: string;
  /** The engine as Redis names it. */
  readonly engine: "LUA";
  /** The whole source, metadata line included (FUNCTION LIST WITHCODE, DUMP, the AOF). */
  readonly code: string;
  /** Its functions by name, in registration order. */
  readonly functions: Map<string, LibraryFunction>;
}

/** A refusal with Redis's text (without `ERR `). */
export class LibraryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LibraryError";
  }
}

const NAME_RULE =
  "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/** functionsVerifyName: letters, digits and underscores, at least one. */
function validName(name: string): boolean {
  return /^[A-Za-z0-9_]+$/.test(name);
}

/** A library's metadata line (functionExtractLibMetaData). */
function readMetadata(code: string): { engine: string; name: string; body: string } {
  if (!code.startsWith("#!")) throw new LibraryError("Missing library metadata");
  const end = code.indexOf("\n");
  if (end < 0) throw new LibraryError("Invalid library metadata");
  const parts = splitInlineArguments(code.slice(0, end));
  if (parts === undefined || parts.length === 0) throw new LibraryError("Invalid library metadata");
  let name: string | undefined;
  for (const part of parts.slice(1)) {
    if (part.slice(0, 5).toLowerCase() === "name=") {
      if (name !== undefined) {
        throw new LibraryError("Invalid metadata value, name argument was given multiple times");
      }
      name = part.slice(5);
      continue;
    }
    throw new LibraryError(`Invalid metadata value given: ${part}`);
  }
  if (name === undefined) throw new LibraryError("Library name was not given");
  return { engine: parts[0]!.slice(2), name, body: code.slice(end) };
}

/** A set of libraries and the functions they registered (functionsLibCtx). */
class Registry {
  readonly libraries = new Map<string, Library>();
  /** Functions by lower-cased name. */
  readonly functions = new Map<string, LibraryFunction>();
  functionCount = 0;

  link(library: Library): void {
    for (const fn of library.functions.values()) this.functions.set(fn.name.toLowerCase(), fn);
    this.libraries.set(library.name, library);
    this.functionCount += library.functions.size;
  }

  unlink(library: Library): void {
    for (const fn of library.functions.values()) this.functions.delete(fn.name.toLowerCase());
    this.libraries.delete(library.name);
    this.functionCount -= library.functions.size;
  }

  /** The first of `library`'s functions whose name is taken here. */
  collision(library: Library): LibraryFunction | undefined {
    for (const fn of library.functions.values()) {
      if (this.functions.has(fn.name.toLowerCase())) return fn;
    }
    return undefined;
  }
}

/** What FUNCTION LOAD's top level may run for, in ms (LOAD_TIMEOUT_MS). */
const LOAD_TIMEOUT_MS = 500;

/** How FUNCTION RESTORE treats libraries that exist already. */
export type RestorePolicy = "flush" | "append" | "replace";

/** The libraries of one server. */
export class FunctionLibraries {
  #registry = new Registry();
  /** The library whose top level is running (FUNCTION LOAD), for register_function. */
  #loading: Library | undefined;

  constructor(public environment: FunctionEnvironment) {}

  /** The function called `name` (any case), or undefined. */
  function(name: string): LibraryFunction | undefined {
    return this.#registry.functions.get(name) ?? this.#registry.functions.get(name.toLowerCase());
  }

  /** Every library, in load order. */
  libraries(): IterableIterator<Library> {
    return this.#registry.libraries.values();
  }

  /** The library sources, in load order (FUNCTION DUMP, the AOF rewrite, RDB files). */
  sources(): string[] {
    return [...this.#registry.libraries.values()].map((library) => library.code);
  }

  get libraryCount(): number {
    return this.#registry.libraries.size;
  }

  get functionCount(): number {
    return this.#registry.functionCount;
  }

  /**
   * Loads a library (FUNCTION LOAD [REPLACE]); returns its name. `timed`
   * limits its top level to 500 ms. Throws LibraryError.
   */
  load(code: string, replace: boolean, timed = true): string {
    return this.#create(this.#registry, code, replace, timed).name;
  }

  #create(registry: Registry, code: string, replace: boolean, timed: boolean): Library {
    const metadata = readMetadata(code);
    if (!validName(metadata.name)) throw new LibraryError(NAME_RULE);
    if (metadata.engine.toLowerCase() !== "lua") {
      throw new LibraryError(`Engine '${metadata.engine}' not found`);
    }
    const old = registry.libraries.get(metadata.name);
    if (old !== undefined && !replace) {
      throw new LibraryError(`Library '${metadata.name}' already exists`);
    }
    if (old !== undefined) registry.unlink(old);
    try {
      const library: Library = { name: metadata.name, engine: "LUA", code, functions: new Map() };
      this.#runTopLevel(library, metadata.body, timed);
      if (library.functions.size === 0) throw new LibraryError("No functions registered");
      const taken = registry.collision(library);
      if (taken !== undefined) throw new LibraryError(`Function ${taken.name} already exists`);
      registry.link(library);
      return library;
    } catch (error) {
      if (old !== undefined) registry.link(old);
      throw error;
    }
  }

  /** Compiles and runs a library's top level with the loading API (luaEngineCreate). */
  #runTopLevel(library: Library, body: string, timed: boolean): void {
    const environment = this.environment;
    let main: LuaFunction;
    try {
      main = compile(body, "@user_function", { env: environment.globals });
    } catch (error) {
      if (!(error instanceof LuaSyntaxError)) throw error;
      throw new LibraryError(`Error compiling function: ${error.message}`);
    }
    environment.loading(true);
    this.#loading = library;
    const run = startCall(main, []);
    try {
      const slice = run.resume(timed ? { milliseconds: LOAD_TIMEOUT_MS } : {});
      if (!slice.done) {
        run.abandon();
        throw new LibraryError("Error registering functions: ERR FUNCTION LOAD timeout");
      }
    } catch (error) {
      if (!(error instanceof LuaError)) throw error;
      const escaped = environment.errors.escaped(error.value);
      throw new LibraryError(`Error registering functions: ${escapedMessage(escaped.value)}`);
    } finally {
      this.#loading = undefined;
      environment.loading(false);
      environment.errors.clear();
    }
  }

  /** `redis.register_function(name, callback)` or `({function_name=..., ...})`. */
  register(args: LuaValue[]): void {
    const library = this.#loading;
    const errors = this.environment.errors;
    const fail = (message: string): never => errors.raise(errorTable(message));
    if (library === undefined) {
      fail("redis.register_function can only be called on FUNCTION LOAD command");
    }
    let name: string | undefined;
    let callback: LuaFunction | undefined;
    let description: string | undefined;
    let flags = 0;
    if (args.length === 1) {
      const named = args[0];
      if (!(named instanceof LuaTable)) {
        fail(
          "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).",
        );
      }
      const table = named as LuaTable;
      for (
        let key = table.next(undefined);
        key !== undefined && key !== null;
        key = table.next(key)
      ) {
        const value = table.nextValue;
        if (typeof key !== "string" && typeof key !== "number") {
          fail("named argument key given to redis.register_function is not a string");
        }
        const field = rawToString(key).toLowerCase();
        if (field === "function_name") {
          if (!isLuaString(value)) {
            fail("function_name argument given to redis.register_function must be a string");
          }
          name = rawToString(value);
        } else if (field === "description") {
          if (!isLuaString(value)) {
            fail("description argument given to redis.register_function must be a string");
          }
          description = rawToString(value);
        } else if (field === "callback") {
          if (typeof value !== "function") {
            fail("callback argument given to redis.register_function must be a function");
          }
          callback = value as LuaFunction;
        } else if (field === "flags") {
          if (!(value instanceof LuaTable)) {
            fail(
              "flags argument to redis.register_function must be a table representing function flags",
            );
          }
          flags = readFlags(value as LuaTable, fail);
        } else {
          fail("unknown argument given to redis.register_function");
        }
      }
      if (name === undefined) fail("redis.register_function must get a function name argument");
      if (callback === undefined) fail("redis.register_function must get a callback argument");
    } else if (args.length === 2) {
      if (!isLuaString(args[0])) {
        fail("first argument to redis.register_function must be a string");
      }
      if (typeof args[1] !== "function") {
        fail("second argument to redis.register_function must be a function");
      }
      name = rawToString(args[0]);
      callback = args[1] as LuaFunction;
    } else {
      fail("wrong number of arguments to redis.register_function");
    }
    if (!validName(name!)) fail(NAME_RULE);
    if (library!.functions.has(name!)) fail("Function already exists in the library");
    library!.functions.set(name!, {
      name: name!,
      callback: callback!,
      description,
      flags,
      library: library!,
    });
  }

  /** FUNCTION DELETE; false when there is no such library. */
  delete(name: string): boolean {
    const library = this.#registry.libraries.get(name);
    if (library === undefined) return false;
    this.#registry.unlink(library);
    return true;
  }

  /** FUNCTION FLUSH: no libraries, and a fresh environment for the next ones. */
  flush(environment: FunctionEnvironment): void {
    this.#registry = new Registry();
    this.environment = environment;
  }

  /**
   * FUNCTION RESTORE of these library sources with `policy`. Throws
   * LibraryError and then changes nothing.
   */
  restore(sources: readonly string[], policy: RestorePolicy): void {
    const incoming = new Registry();
    for (const code of sources) this.#create(incoming, code, false, false);
    if (policy === "flush") {
      this.#registry = incoming;
      return;
    }
    const current = this.#registry;
    const replaced: Library[] = [];
    const undo = () => {
      for (const library of replaced) current.link(library);
    };
    for (const library of incoming.libraries.values()) {
      const old = current.libraries.get(library.name);
      if (old === undefined) continue;
      if (policy === "append") {
        undo();
        throw new LibraryError(`Library ${library.name} already exists`);
      }
      current.unlink(old);
      replaced.push(old);
    }
    for (const library of incoming.libraries.values()) {
      const taken = current.collision(library);
      if (taken !== undefined) {
        undo();
        throw new LibraryError(`Function ${taken.name} already exists`);
      }
    }
    for (const library of incoming.libraries.values()) current.link(library);
  }

  /** An estimate of the libraries' memory (INFO used_memory_functions). */
  get memory(): number {
    let bytes = 0;
    for (const library of this.#registry.libraries.values()) {
      bytes += library.code.length + LIBRARY_OVERHEAD_BYTES;
      bytes += library.functions.size * FUNCTION_OVERHEAD_BYTES;
    }
    return bytes;
  }
}

const LIBRARY_OVERHEAD_BYTES = 150;
const FUNCTION_OVERHEAD_BYTES = 100;

/** lua_isstring: a string or a number. */
function isLuaString(value: LuaValue): boolean {
  return typeof value === "string" || typeof value === "number";
}

/** luaRegisterFunctionReadFlags: `flags[1]`, `flags[2]`, ... until nil. */
function readFlags(table: LuaTable, fail: (message: string) => never): number {
  let flags = 0;
  for (let index = 1;; index++) {
    const value = table.getInteger(index);
    if (value === undefined) return flags;
    if (!isLuaString(value)) fail("unknown flag given");
    const bit = scriptFlagBit(rawToString(value), false);
    if (bit === 0) fail("unknown flag given");
    flags |= bit;
  }
}
