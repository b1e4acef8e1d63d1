/**
 * The Lua scripts real client libraries send (BullMQ, Bull, bee-queue,
 * redlock, rate-limiter-flexible; copied into fixtures/client_scripts.json
 * from their npm packages, MIT licensed) must compile, and a few of them run
 * against a small in-memory stand-in for `redis.call`, to exercise what
 * they use: KEYS/ARGV, `tonumber`, string keys and numbers, `unpack`,
 * `cjson`/`cmsgpack`.
 *
 * Every .lua file that BullMQ, Bull and bee-queue ship is compiled too,
 * from Deno's npm cache, or from LUA_CLIENT_PACKAGES (a directory of
 * unpacked npm packages) when set.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  callFunction,
  compile,
  compileChunk,
  createGlobals,
  LuaError,
  LuaTable,
  type LuaValue,
  numberToString,
} from "../../src/lua/mod.ts";

const scripts = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/client_scripts.json", import.meta.url)),
) as Record<string, string>;

Deno.test("every client library script in the fixtures compiles", () => {
  const failures: string[] = [];
  for (const [name, source] of Object.entries(scripts)) {
    try {
      compileChunk(source, "@user_script");
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message}`);
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(Object.keys(scripts).length >= 50);
});

/** Client libraries that ship their scripts as .lua files, which the client tests import. */
const LUA_SHIPPING_PACKAGES = ["bullmq", "bull", "bee-queue"];

/**
 * Where the unpacked packages are: LUA_CLIENT_PACKAGES, or else Deno's npm
 * cache, which holds the client libraries the client tests import (`deno
 * test` fetches every module's npm packages before any test runs).
 */
function packageDirectories(): string[] {
  const configured = Deno.env.get("LUA_CLIENT_PACKAGES");
  if (configured !== undefined) return [configured];
  const info = new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).outputSync();
  const cache = (JSON.parse(new TextDecoder().decode(info.stdout)) as { npmCache: string })
    .npmCache;
  return LUA_SHIPPING_PACKAGES.map((name) => `${cache}/registry.npmjs.org/${name}`);
}

Deno.test("every .lua file of the client packages compiles", async () => {
  // Loading them makes sure Deno has fetched them into its cache, even when this file runs alone.
  await Promise.all([import("bullmq"), import("bull"), import("bee-queue")]);
  const failures: string[] = [];
  const counts: Record<string, number> = {};
  const visit = (directory: string, root: string) => {
    for (const entry of Deno.readDirSync(directory)) {
      const path = `${directory}/${entry.name}`;
      if (entry.isDirectory) visit(path, root);
      else if (entry.name.endsWith(".lua")) {
        counts[root] = (counts[root] ?? 0) + 1;
        const bytes = Deno.readFileSync(path);
        let source = "";
        for (const byte of bytes) source += String.fromCharCode(byte);
        try {
          compileChunk(source, "@user_script");
        } catch (error) {
          failures.push(`${path}: ${(error as Error).message}`);
        }
      }
    }
  };
  for (const directory of packageDirectories()) visit(directory, directory);
  assert.deepEqual(failures, []);
  // Each package was found and holds scripts (BullMQ ships over 200, Bull over 30).
  for (const directory of packageDirectories()) {
    assert.ok((counts[directory] ?? 0) > 0, `no .lua files under ${directory}`);
  }
});

/** A tiny keyspace with the handful of commands the scripts below use. */
class FakeRedis {
  readonly strings = new Map<string, string>();
  readonly expiries = new Map<string, number>();
  now = 1_700_000_000_000;

  call(args: LuaValue[]): LuaValue {
    const [command, ...rest] = args.map((arg) =>
      typeof arg === "number" ? numberToString(arg) : String(arg)
    );
    const key = rest[0]!;
    switch (command!.toLowerCase()) {
      case "get":
        return this.strings.get(key) ?? false;
      case "exists":
        return this.strings.has(key) ? 1 : 0;
      case "set": {
        const nx = rest.includes("NX") || rest.includes("nx");
        if (nx && this.strings.has(key)) return false;
        this.strings.set(key, rest[1]!);
        const px = rest.findIndex((arg) => arg.toUpperCase() === "PX");
        const ex = rest.findIndex((arg) => arg.toUpperCase() === "EX");
        if (px >= 0) this.expiries.set(key, this.now + Number(rest[px + 1]));
        else if (ex >= 0) this.expiries.set(key, this.now + 1000 * Number(rest[ex + 1]));
        else this.expiries.delete(key);
        const ok = new LuaTable();
        ok.set("ok", "OK");
        return ok;
      }
      case "del": {
        const existed = this.strings.delete(key);
        this.expiries.delete(key);
        return existed ? 1 : 0;
      }
      case "pexpire":
      case "expire": {
        if (!this.strings.has(key)) return 0;
        const factor = command!.toLowerCase() === "expire" ? 1000 : 1;
        this.expiries.set(key, this.now + factor * Number(rest[1]));
        return 1;
      }
      case "pttl": {
        if (!this.strings.has(key)) return -2;
        const at = this.expiries.get(key);
        return at === undefined ? -1 : at - this.now;
      }
      case "incrby": {
        const value = Number(this.strings.get(key) ?? "0") + Number(rest[1]);
        this.strings.set(key, String(value));
        return value;
      }
      default:
        throw new LuaError(`unsupported command ${command}`);
    }
  }
}

function runScript(name: string, redis: FakeRedis, keys: string[], argv: string[]): LuaValue[] {
  const { globals } = createGlobals();
  const library = new LuaTable();
  library.set("call", (...args: LuaValue[]) => redis.call(args));
  library.set("pcall", (...args: LuaValue[]) => redis.call(args));
  globals.set("redis", library);
  const toTable = (values: string[]) => {
    const table = new LuaTable();
    values.forEach((value, index) => table.set(index + 1, value));
    return table;
  };
  globals.set("KEYS", toTable(keys));
  globals.set("ARGV", toTable(argv));
  return callFunction(compile(scripts[name]!, "@user_script", { env: globals }));
}

Deno.test("redlock's lock, extend and unlock scripts run against the fake keyspace", () => {
  const redis = new FakeRedis();
  const first = runScript("redlock/lockScript", redis, ["resource"], ["token-a", "1000"]);
  assert.equal(redis.strings.get("resource"), "token-a");
  assert.ok(first.length >= 0);
  const extended = runScript("redlock/extendScript", redis, ["resource"], ["token-a", "5000"]);
  assert.equal(extended.length === 0 || extended[0] !== undefined, true);
  assert.equal(redis.expiries.get("resource"), redis.now + 5000);
  const wrongUnlock = runScript("redlock/unlockScript", redis, ["resource"], ["token-b"]);
  assert.equal(redis.strings.get("resource"), "token-a");
  const unlocked = runScript("redlock/unlockScript", redis, ["resource"], ["token-a"]);
  assert.equal(redis.strings.has("resource"), false);
  assert.notDeepEqual(wrongUnlock, unlocked);
});

Deno.test("rate-limiter-flexible's increment script counts and reports the ttl", () => {
  const redis = new FakeRedis();
  const [first] = runScript("rate-limiter-flexible/incrTtlLuaScript", redis, ["rl:user"], [
    "1",
    "60",
  ]);
  const [second] = runScript("rate-limiter-flexible/incrTtlLuaScript", redis, ["rl:user"], [
    "2",
    "60",
  ]);
  assert.ok(first instanceof LuaTable && second instanceof LuaTable);
  assert.equal(first.get(1), 1);
  assert.equal(second.get(1), 3);
  assert.equal(second.get(2), 60000);
});
