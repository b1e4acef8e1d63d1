/**
 * The differential harness for the Lua engine: a corpus file holds many
 * small programs, each introduced by a `--- name` line; every program is
 * compiled as a chunk named `=name` and called under pcall, and everything
 * it prints (plus "SYNTAX: ..." or "ERROR: ..." when it fails) makes up the
 * file's output. lua51_runner.lua does exactly the same under the reference
 * `lua5.1`, so the two outputs can be compared byte for byte.
 *
 * Programs of one file share one globals table, as they share one Lua state
 * under lua5.1. Outputs are binary strings (one char per byte).
 *
 * @module
 */

import {
  callFunction,
  compileChunk,
  createGlobals,
  LuaError,
  LuaSyntaxError,
  rawToString,
  startCall,
  toStringMeta,
} from "../../src/lua/mod.ts";

/** One program of a corpus file. */
export interface Program {
  name: string;
  source: string;
}

/** Splits a corpus file into its programs (lines before the first marker are ignored). */
export function splitPrograms(source: string): Program[] {
  const programs: { name: string; lines: string[] }[] = [];
  for (const line of source.split("\n")) {
    const marker = /^--- (.*)$/.exec(line);
    if (marker !== null) programs.push({ name: marker[1]!, lines: [] });
    else programs[programs.length - 1]?.lines.push(line);
  }
  return programs.map((program) => ({ name: program.name, source: program.lines.join("\n") }));
}

/**
 * Runs every program of a corpus file on our engine and returns the output.
 * With `ticks`, each program runs in slices of that many ticks (suspended
 * and resumed over and over), which must not change anything it prints.
 */
export function runOurs(source: string, ticks?: number): string {
  const lines: string[] = [];
  const { globals } = createGlobals({ print: (line) => lines.push(line) });
  for (const program of splitPrograms(source)) {
    lines.push(`=== ${program.name}`);
    try {
      const main = compileChunk(program.source, "=" + program.name).instantiate(globals);
      if (ticks === undefined) callFunction(main);
      else {
        const execution = startCall(main);
        while (!execution.resume({ ticks }).done);
      }
    } catch (error) {
      if (error instanceof LuaSyntaxError) lines.push("SYNTAX: " + error.message);
      else if (error instanceof LuaError) {
        let text: string;
        try {
          text = rawToString(toStringMeta(error.value));
        } catch {
          text = rawToString(error.value);
        }
        lines.push("ERROR: " + text);
      } else throw error;
    }
  }
  return lines.map((line) => line + "\n").join("");
}

/** Reads a file as a binary string. */
export function readBinary(path: string | URL): string {
  const bytes = Deno.readFileSync(path);
  let text = "";
  for (let index = 0; index < bytes.length; index += 8192) {
    text += String.fromCharCode(...bytes.subarray(index, index + 8192));
  }
  return text;
}

/** Writes a binary string to a file. */
export function writeBinary(path: string | URL, text: string): void {
  Deno.writeFileSync(path, Uint8Array.from(text, (char) => char.charCodeAt(0)));
}

/** The reference interpreter, if installed (LUA51 overrides; empty disables). */
export function lua51Path(): string | undefined {
  const override = Deno.env.get("LUA51");
  if (override !== undefined) return override === "" ? undefined : override;
  for (const directory of (Deno.env.get("PATH") ?? "").split(":")) {
    if (directory === "") continue;
    try {
      Deno.statSync(`${directory}/lua5.1`);
      return `${directory}/lua5.1`;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Runs a corpus file under lua5.1 and returns its output (binary). */
export async function runLua51(lua: string, corpusPath: string): Promise<string> {
  const runner = new URL("./lua51_runner.lua", import.meta.url).pathname;
  const output = await new Deno.Command(lua, {
    args: [runner, corpusPath],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  if (!output.success) throw new Error(`lua5.1 failed: ${new TextDecoder().decode(output.stderr)}`);
  let text = "";
  for (let index = 0; index < output.stdout.length; index += 8192) {
    text += String.fromCharCode(...output.stdout.subarray(index, index + 8192));
  }
  return text;
}

/** The first differing line of two outputs, for failure messages. */
export function firstDifference(expected: string, actual: string): string {
  const want = expected.split("\n");
  const got = actual.split("\n");
  let program = "";
  for (let index = 0; index < Math.max(want.length, got.length); index++) {
    if (want[index]?.startsWith("=== ")) program = want[index]!;
    if (want[index] !== got[index]) {
      return `${program} line ${index + 1}:\n  expected ${
        JSON.stringify(want[index])
      }\n  actual   ${JSON.stringify(got[index])}`;
    }
  }
  return "(no difference)";
}
