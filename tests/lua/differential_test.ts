/**
 * Differential tests of the Lua engine against the reference `lua5.1`:
 * every `corpus/*.lua` file (many small programs each, see harness.ts) and
 * the generated property corpora (properties.ts) must print byte for byte
 * what lua5.1 prints.
 *
 * Outputs recorded with record.ts live in `expected/`; our output is always
 * compared with them, so the test runs where lua5.1 is missing. Where
 * lua5.1 is installed, the recording is also compared with a live run, so a
 * corpus edited without re-recording fails here.
 *
 * Each corpus file also runs suspended and resumed at every single tick
 * (loop iteration or call): the output must not change, which checks that
 * every frame of every construct is rebuilt exactly.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  firstDifference,
  lua51Path,
  readBinary,
  runLua51,
  runOurs,
  writeBinary,
} from "./harness.ts";
import { generatedCorpora } from "./properties.ts";

const corpusDirectory = new URL("./corpus/", import.meta.url);
const expectedDirectory = new URL("./expected/", import.meta.url);
const lua = lua51Path();
if (lua === undefined) {
  console.warn("lua5.1 is not installed: comparing with recorded outputs only");
}

const files = [...Deno.readDirSync(corpusDirectory)]
  .map((entry) => entry.name)
  .filter((name) => name.endsWith(".lua"))
  .sort();

async function check(name: string, source: string, path: string): Promise<void> {
  const expected = readBinary(new URL(`${name}.txt`, expectedDirectory));
  const ours = runOurs(source);
  if (lua !== undefined) {
    const live = await runLua51(lua, path);
    assert.ok(
      live === expected,
      `expected/${name}.txt is stale (re-run record.ts):\n${firstDifference(live, expected)}`,
    );
  }
  assert.ok(
    ours === expected,
    `${name}: output differs from lua5.1's\n${firstDifference(expected, ours)}`,
  );
}

for (const file of files) {
  const name = file.slice(0, -4);
  Deno.test(`Lua corpus ${name} prints what lua5.1 prints`, async () => {
    const path = new URL(file, corpusDirectory).pathname;
    await check(name, readBinary(path), path);
  });
}

for (const file of files) {
  const name = file.slice(0, -4);
  Deno.test(`Lua corpus ${name} prints the same when suspended at every tick`, () => {
    const source = readBinary(new URL(file, corpusDirectory));
    const expected = readBinary(new URL(`${name}.txt`, expectedDirectory));
    // errors.lua recurses until the stack overflows; rebuilding that deep a
    // stack at every tick is quadratic, so it is suspended every 100 ticks.
    const ticks = name === "errors" ? 100 : 1;
    const sliced = runOurs(source, ticks);
    assert.ok(
      sliced === expected,
      `${name} in slices of ${ticks} ticks:\n${firstDifference(expected, sliced)}`,
    );
  });
}

for (const corpus of generatedCorpora()) {
  Deno.test(`Lua property corpus ${corpus.name} (seeded) matches lua5.1`, async () => {
    const path = await Deno.makeTempFile({ suffix: ".lua" });
    try {
      writeBinary(path, corpus.source);
      await check(corpus.name, corpus.source, path);
    } finally {
      await Deno.remove(path);
    }
  });
}
