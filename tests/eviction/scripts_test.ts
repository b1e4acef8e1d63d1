/**
 * Scripts over maxmemory follow Redis's rules: a script with flags (a
 * shebang, a function) counts as `denyoom` unless it declares `allow-oom`
 * or `no-writes`; a script without flags starts, and only its first write
 * of a `denyoom` command is refused, since a script cannot stop halfway.
 * The expected replies are redis-server 7.0.15's.
 *
 * The first-write rule is checked inside the scripting runtime: those
 * tests skip, loudly, until it is wired (see support.ts).
 *
 * @module
 */

import assert from "node:assert/strict";
import { type CacheServer, cacheServer, SCRIPTS_WIRED } from "./support.ts";

const OOM = "OOM command not allowed when used memory > 'maxmemory'.";

/** A noeviction server over its limit (maxmemory 1) with `a` = `b`. */
function overLimit(): CacheServer {
  const cache = cacheServer({ maxmemoryPolicy: "noeviction" });
  cache.send("SET", "a", "b");
  cache.send(
    "FUNCTION",
    "LOAD",
    [
      "#!lua name=lib",
      "redis.register_function('plain', function() return redis.call('set', 'a', 'c') end)",
      "redis.register_function{function_name='tolerant', callback=function() " +
      "return redis.call('set', 'a', 'd') end, flags={'allow-oom'}}",
      "redis.register_function{function_name='reader', callback=function() " +
      "return redis.call('get', 'a') end, flags={'no-writes'}}",
    ].join("\n"),
  );
  cache.send("CONFIG", "SET", "maxmemory", "1");
  return cache;
}

Deno.test("over maxmemory a script with flags runs only with allow-oom or no-writes", () => {
  using cache = overLimit();
  assert.deepEqual(cache.send("EVAL", "#!lua\nreturn redis.call('get', 'a')", "0"), {
    error: OOM,
  });
  assert.equal(
    cache.send("EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'a')", "0"),
    "b",
  );
  assert.equal(
    cache.send("EVAL", "#!lua flags=allow-oom\nreturn redis.call('set', 'a', 'e')", "0"),
    "OK",
  );
  assert.deepEqual(cache.send("FCALL", "plain", "0"), { error: OOM });
  assert.equal(cache.send("FCALL", "tolerant", "0"), "OK");
  assert.equal(cache.send("FCALL", "reader", "0"), "d");
  assert.deepEqual(cache.send("FUNCTION", "LOAD", "#!lua name=other\nreturn 1"), { error: OOM });
});

Deno.test({
  name: "over maxmemory a script without flags runs, and its first write is refused",
  ignore: !SCRIPTS_WIRED,
  fn: () => {
    using cache = overLimit();
    assert.equal(cache.send("EVAL", "return redis.call('get', 'a')", "0"), "b");
    const refused = cache.send("EVAL", "return redis.call('set', 'a', 'x')", "0") as {
      error: string;
    };
    assert.match(
      refused.error,
      /^OOM command not allowed when used memory > 'maxmemory'\. script: /,
    );
    assert.deepEqual(cache.send("EVAL", "return redis.pcall('set', 'a', 'x')", "0"), {
      error: OOM,
    });
    assert.equal(cache.send("GET", "a"), "b");
  },
});

if (!SCRIPTS_WIRED) {
  console.warn(
    "The scripting runtime does not check maxmemory yet: SKIPPING the first-write test " +
      "(see the eviction report for the lines to add to scripting/runtime.ts)",
  );
}
