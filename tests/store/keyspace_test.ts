import assert from "node:assert/strict";
import { type Clock, type Database, Keyspace } from "../../src/store/keyspace.ts";
import { globMatch } from "../../src/store/glob.ts";

class ManualClock implements Clock {
  constructor(public time = 1_000_000) {}
  now(): number {
    return this.time;
  }
}

function keyspaceWithClock() {
  const clock = new ManualClock();
  const keyspace = new Keyspace(16, clock);
  const expired: string[] = [];
  keyspace.observer = {
    expired: (db: Database, key: string) => expired.push(`${db.index}:${key}`),
  };
  return { clock, keyspace, db: keyspace.databases[0]!, expired };
}

Deno.test("keyspace: a key past its deadline is gone on lookup and reported once", () => {
  const { clock, db, expired, keyspace } = keyspaceWithClock();
  db.set("session", "abc");
  db.setExpireAt("session", clock.time + 100);
  clock.time += 99;
  assert.equal(db.lookup("session"), "abc");
  clock.time += 1;
  assert.equal(db.lookup("session"), undefined);
  assert.equal(db.lookup("session"), undefined);
  assert.deepEqual(expired, ["0:session"]);
  assert.equal(db.size, 0);
  assert.equal(keyspace.expiredKeys, 1);
});

Deno.test("keyspace: set clears the deadline unless asked to keep it", () => {
  const { clock, db } = keyspaceWithClock();
  db.set("a", "1");
  db.setExpireAt("a", clock.time + 10);
  db.set("a", "2", true);
  assert.equal(db.expireAt("a"), clock.time + 10);
  db.set("a", "3");
  assert.equal(db.expireAt("a"), undefined);
});

Deno.test("keyspace: the active cycle removes unread expired keys in bounded steps", () => {
  const { clock, db, keyspace, expired } = keyspaceWithClock();
  for (let i = 0; i < 10_000; i++) {
    db.set(`k${i}`, "v");
    db.setExpireAt(`k${i}`, clock.time + (i % 2 === 0 ? 10 : 1_000_000));
  }
  clock.time += 11;
  let removed = 0;
  let runs = 0;
  while (removed < 5_000 && runs < 1_000) {
    removed += keyspace.activeExpireCycle(1);
    runs++;
  }
  assert.equal(removed, 5_000);
  assert.equal(db.size, 5_000);
  assert.equal(expired.length, 5_000);
  // Keys that are not due are never removed.
  assert.equal(keyspace.activeExpireCycle(25), 0);
  assert.equal(db.size, 5_000);
});

Deno.test("keyspace: liveKeys skips expired keys; databases are independent", () => {
  const { clock, keyspace } = keyspaceWithClock();
  const [db0, db1] = keyspace.databases;
  db0!.set("a", "1");
  db0!.set("b", "2");
  db0!.setExpireAt("b", clock.time);
  db1!.set("a", "other");
  assert.deepEqual([...db0!.liveKeys()], ["a"]);
  assert.equal(db1!.lookup("a"), "other");
  db0!.swapContent(db1!);
  assert.equal(db0!.lookup("a"), "other");
  assert.equal(db1!.lookup("a"), "1");
});

Deno.test("glob: Redis's stringmatchlen rules", () => {
  const cases: [string, string, boolean][] = [
    ["*", "anything", true],
    ["h?llo", "hello", true],
    ["h?llo", "hllo", false],
    ["h*llo", "heeeello", true],
    ["h[ae]llo", "hallo", true],
    ["h[ae]llo", "hillo", false],
    ["h[^e]llo", "hallo", true],
    ["h[^e]llo", "hello", false],
    ["h[a-b]llo", "hbllo", true],
    ["h[b-a]llo", "hallo", true],
    ["h\\*llo", "h*llo", true],
    ["h\\*llo", "hello", false],
    ["user:*:name", "user:42:name", true],
    ["*a*b*c*", "xxaxxbxxcxx", true],
    ["a*", "", false],
    ["*", "", true],
  ];
  for (const [pattern, text, expected] of cases) {
    assert.equal(globMatch(pattern, text), expected, `${pattern} ~ ${text}`);
  }
  assert.equal(globMatch("APPEND*", "appendonly", true), true);
});
