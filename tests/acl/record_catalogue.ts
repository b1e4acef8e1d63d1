/**
 * Records the command catalogue of a live redis-server 7.0.15 (names, arity,
 * flags, ACL categories, key specs, subcommands, from `COMMAND`) into
 * tests/acl/fixtures/redis_commands.json.
 *
 * The ACL engine's canonical rule strings depend on the whole command set
 * (Redis approximates a user's commands with categories, counting every
 * command of each category), so the engine tests run on the very catalogue
 * of the Redis they are compared with. Recorded once, committed, and used
 * on machines without redis-server too:
 *
 * ```sh
 * deno run -A tests/acl/record_catalogue.ts
 * ```
 *
 * @module
 */

import { decodeReply, RawClient, type ReplyValue, startRedisServer } from "../helpers/servers.ts";

/** One key spec as COMMAND reports it, reduced to what key extraction needs. */
export interface RecordedKeySpec {
  flags: string[];
  beginSearch: { index: number } | { keyword: string; startFrom: number };
  findKeys: { lastKey: number; keyStep: number; limit: number } | {
    keyNumIndex: number;
    firstKey: number;
    keyStep: number;
  };
}

/** One command (or subcommand) as COMMAND reports it. */
export interface RecordedCommand {
  name: string;
  arity: number;
  flags: string[];
  categories: string[];
  keySpecs: RecordedKeySpec[];
  subcommands: RecordedCommand[];
}

/** The fixture's location. */
export const CATALOGUE_FIXTURE = new URL("./fixtures/redis_commands.json", import.meta.url);

function pairs(value: ReplyValue): Map<string, ReplyValue> {
  const list = value as ReplyValue[];
  const map = new Map<string, ReplyValue>();
  for (let i = 0; i + 1 < list.length; i += 2) map.set(String(list[i]), list[i + 1]!);
  return map;
}

function keySpec(value: ReplyValue): RecordedKeySpec {
  const spec = pairs(value);
  const begin = pairs(spec.get("begin_search")!);
  const beginSpec = pairs(begin.get("spec")!);
  const find = pairs(spec.get("find_keys")!);
  const findSpec = pairs(find.get("spec")!);
  return {
    flags: (spec.get("flags") as string[]).map(String),
    beginSearch: begin.get("type") === "index" ? { index: Number(beginSpec.get("index")) } : {
      keyword: String(beginSpec.get("keyword")),
      startFrom: Number(beginSpec.get("startfrom")),
    },
    findKeys: find.get("type") === "range"
      ? {
        lastKey: Number(findSpec.get("lastkey")),
        keyStep: Number(findSpec.get("keystep")),
        limit: Number(findSpec.get("limit")),
      }
      : {
        keyNumIndex: Number(findSpec.get("keynumidx")),
        firstKey: Number(findSpec.get("firstkey")),
        keyStep: Number(findSpec.get("keystep")),
      },
  };
}

function command(value: ReplyValue): RecordedCommand {
  const info = value as ReplyValue[];
  return {
    name: String(info[0]),
    arity: Number(info[1]),
    flags: (info[2] as string[]).map(String),
    categories: (info[6] as string[]).map((category) => String(category).slice(1)),
    keySpecs: (info[8] as ReplyValue[]).map(keySpec),
    subcommands: (info[9] as ReplyValue[]).map(command).sort((a, b) => a.name < b.name ? -1 : 1),
  };
}

if (import.meta.main) {
  const redis = await startRedisServer();
  if (redis === undefined) throw new Error("redis-server is not installed");
  const client = await RawClient.connect(redis.port);
  try {
    const all = decodeReply(await client.command("COMMAND")) as ReplyValue[];
    const commands = all.map(command).sort((a, b) => a.name < b.name ? -1 : 1);
    await Deno.writeTextFile(CATALOGUE_FIXTURE, JSON.stringify(commands, null, 2) + "\n");
    console.log(`recorded ${commands.length} commands`);
  } finally {
    await client.close();
    await redis.stop();
  }
}
