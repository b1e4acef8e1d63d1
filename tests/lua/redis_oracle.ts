/**
 * Runs the cases of redis_cases.ts on our engine and on a real
 * redis-server (EVAL, one fresh server, cases in order), and records
 * Redis's replies to expected/redis_libraries.json.
 *
 * @module
 */

import {
  callFunction,
  compile,
  createGlobals,
  LuaError,
  LuaSyntaxError,
} from "../../src/lua/mod.ts";
import { bytesToLatin1, latin1Bytes, RawClient, startRedisServer } from "../helpers/servers.ts";
import { PRELUDE, REDIS_CASES } from "./redis_cases.ts";

/** Where the recorded replies live. */
export const EXPECTED_PATH = new URL("./expected/redis_libraries.json", import.meta.url);

/** The script EVAL runs for a case: the prelude, then `show` of the case. */
export function scriptFor(body: string): string {
  const fn = /\breturn\b/.test(body) ? `function() ${body} end` : `function() return ${body} end`;
  return `${PRELUDE}\nreturn show(${fn})`;
}

/** Every case's reply on our engine, in one Lua state as in Redis. */
export function runOnOurs(): string[] {
  const { globals } = createGlobals();
  return REDIS_CASES.map((body) => {
    try {
      const values = callFunction(compile(scriptFor(body), "@user_script", { env: globals }));
      return String(values[0]);
    } catch (error) {
      if (error instanceof LuaError) return `error reply: ${String(error.value)}`;
      if (error instanceof LuaSyntaxError) return `error reply: ${error.message}`;
      throw error;
    }
  });
}

/** Every case's reply from a redis-server at `port` (which should be fresh). */
export async function runOnRedis(port: number): Promise<string[]> {
  const client = await RawClient.connect(port);
  try {
    const replies: string[] = [];
    for (const body of REDIS_CASES) {
      const raw = bytesToLatin1(await client.command("EVAL", latin1Bytes(scriptFor(body)), "0"));
      if (raw.startsWith("$")) replies.push(raw.slice(raw.indexOf("\r\n") + 2, raw.length - 2));
      else replies.push(`error reply: ${raw.slice(1, raw.indexOf("\r\n"))}`);
    }
    return replies;
  } finally {
    await client.close();
  }
}

/** Records Redis's replies; false when redis-server is not installed. */
export async function recordRedisReplies(): Promise<boolean> {
  const redis = await startRedisServer();
  if (redis === undefined) return false;
  try {
    const replies = await runOnRedis(redis.port);
    const record: Record<string, string> = {};
    REDIS_CASES.forEach((body, index) => (record[body] = replies[index]!));
    Deno.writeTextFileSync(EXPECTED_PATH, JSON.stringify(record, null, 1) + "\n");
    return true;
  } finally {
    await redis.stop();
  }
}
