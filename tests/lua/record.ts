/**
 * Records the expected outputs of the Lua tests from the reference
 * implementations, so the tests also run where those are not installed:
 *
 * - `expected/<name>.txt` for every `corpus/<name>.lua` and every generated
 *   property corpus, from `lua5.1`;
 * - `expected/redis_libraries.json` from a fresh `redis-server` 7.0.
 *
 * Run `deno run -A tests/lua/record.ts` after changing a corpus or the
 * cases, review the diff, commit.
 *
 * @module
 */

import { lua51Path, runLua51, writeBinary } from "./harness.ts";
import { generatedCorpora } from "./properties.ts";
import { recordRedisReplies } from "./redis_oracle.ts";

const lua = lua51Path();
if (lua === undefined) {
  console.error("lua5.1 is not installed: cannot record the corpus");
  Deno.exit(1);
}
const corpusDirectory = new URL("./corpus/", import.meta.url);
const expectedDirectory = new URL("./expected/", import.meta.url);
for (
  const entry of [...Deno.readDirSync(corpusDirectory)].sort((a, b) => a.name.localeCompare(b.name))
) {
  if (!entry.name.endsWith(".lua")) continue;
  const name = entry.name.slice(0, -4);
  const output = await runLua51(lua, new URL(entry.name, corpusDirectory).pathname);
  writeBinary(new URL(`${name}.txt`, expectedDirectory), output);
  console.log(`recorded ${name}`);
}
for (const corpus of generatedCorpora()) {
  const path = await Deno.makeTempFile({ suffix: ".lua" });
  try {
    writeBinary(path, corpus.source);
    writeBinary(new URL(`${corpus.name}.txt`, expectedDirectory), await runLua51(lua, path));
    console.log(`recorded ${corpus.name}`);
  } finally {
    await Deno.remove(path);
  }
}
if (await recordRedisReplies()) console.log("recorded redis_libraries");
else console.error("redis-server is not installed: redis_libraries.json not recorded");
