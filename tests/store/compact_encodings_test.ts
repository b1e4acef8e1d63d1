/**
 * Tests for the compact encodings of hashes, sets and sorted sets: when each
 * converts (Redis's rules, with the limits passed in, so a CONFIG SET only
 * affects what changes afterwards), that it never converts back, that
 * iteration follows Redis's order for the compact form (insertion order for
 * a listpack hash, ascending for an intset), that copies keep the encoding,
 * and seeded random walks of binary data against a plain Map or Set, across
 * conversions.
 */

import assert from "node:assert/strict";
import { DEFAULT_ENCODING_LIMITS, type EncodingLimits } from "../../src/store/encoding_limits.ts";
import { Hash } from "../../src/store/hash.ts";
import { MemberSet } from "../../src/store/set.ts";
import { SortedSet } from "../../src/store/sorted_set.ts";
import { seededRandom } from "../helpers/test_support.ts";

function limits(overrides: Partial<EncodingLimits>): EncodingLimits {
  return { ...DEFAULT_ENCODING_LIMITS, ...overrides };
}

function binary(random: () => number, length: number): string {
  let text = "";
  for (let i = 0; i < length; i++) text += String.fromCharCode(Math.floor(random() * 256));
  return text;
}

// ---------------------------------------------------------------------------
// Hashes

Deno.test("a small hash is a listpack in insertion order, and a Map to its users", () => {
  const hash = new Hash();
  assert.equal(hash.store("b", "2"), true);
  assert.equal(hash.store("a", "1"), true);
  assert.equal(hash.store("b", "22"), false);
  assert.equal(hash.encoding, "listpack");
  assert.equal(hash.size, 2);
  assert.equal(hash.get("b"), "22");
  assert.equal(hash.get("c"), undefined);
  assert.ok(hash.has("a") && !hash.has("c"));
  assert.deepEqual([...hash], [["b", "22"], ["a", "1"]]);
  assert.deepEqual([...hash.keys()], ["b", "a"]);
  assert.deepEqual([...hash.values()], ["22", "1"]);
  assert.deepEqual(new Map(hash), new Map([["b", "22"], ["a", "1"]]));
  const seen: string[] = [];
  hash.forEach((value, field) => seen.push(`${field}=${value}`));
  assert.deepEqual(seen, ["b=22", "a=1"]);
  assert.ok(hash instanceof Map);
  assert.equal(hash.delete("b"), true);
  assert.equal(hash.delete("b"), false);
  assert.deepEqual([...hash], [["a", "1"]]);
});

Deno.test("a hash converts for a field or value over the value limit, never back", () => {
  const tight = limits({ hashMaxListpackValue: 4 });
  const byValue = new Hash();
  byValue.store("f", "1234", tight);
  assert.equal(byValue.encoding, "listpack");
  byValue.store("g", "12345", tight);
  assert.equal(byValue.encoding, "hashtable");
  byValue.delete("g");
  byValue.store("h", "1", tight);
  assert.equal(byValue.encoding, "hashtable");
  assert.deepEqual([...byValue], [["f", "1234"], ["h", "1"]]);
  const byField = new Hash();
  byField.store("long-field", "v", tight);
  assert.equal(byField.encoding, "hashtable");
});

Deno.test("a hash converts on one field more than the entries limit, not on an update", () => {
  const three = limits({ hashMaxListpackEntries: 3 });
  const hash = new Hash();
  for (const field of ["a", "b", "c"]) hash.store(field, field, three);
  hash.store("a", "again", three);
  assert.equal(hash.encoding, "listpack");
  hash.store("d", "d", three);
  assert.equal(hash.encoding, "hashtable");
  assert.deepEqual([...hash.keys()], ["a", "b", "c", "d"]);
  // Limits apply to the changes they come with: a laxer one later does not convert back.
  for (const field of ["a", "b", "c"]) hash.delete(field);
  hash.store("e", "e", DEFAULT_ENCODING_LIMITS);
  assert.equal(hash.encoding, "hashtable");
});

Deno.test("a hash copy keeps the encoding and shares nothing a change could reach", () => {
  for (const fields of [3, 600]) {
    const hash = new Hash();
    for (let i = 0; i < fields; i++) hash.store(`f${i}`, `v${i}`);
    const copy = hash.copy();
    assert.equal(copy.encoding, hash.encoding);
    hash.store("f0", "changed");
    hash.delete("f1");
    assert.equal(copy.get("f0"), "v0");
    assert.equal(copy.get("f1"), "v1");
    assert.equal(copy.size, fields);
  }
});

Deno.test("hash random walks of binary fields match a Map, across conversions", () => {
  for (const seed of [1, 2, 3, 4]) {
    const random = seededRandom(seed);
    const hash = new Hash();
    const model = new Map<string, string>();
    const walkLimits = limits({
      hashMaxListpackEntries: 5 + Math.floor(random() * 60),
      hashMaxListpackValue: 10 + Math.floor(random() * 300),
    });
    for (let step = 0; step < 3000; step++) {
      const field = binary(random, Math.floor(random() * 3)) + (step % 97);
      const roll = random();
      const where = `seed ${seed} step ${step}`;
      if (roll < 0.55) {
        const value = binary(random, Math.floor(random() * (random() < 0.1 ? 400 : 40)));
        assert.equal(hash.store(field, value, walkLimits), !model.has(field), where);
        model.set(field, value);
      } else if (roll < 0.8) {
        assert.equal(hash.delete(field), model.delete(field), where);
      } else {
        assert.equal(hash.get(field), model.get(field), where);
        assert.equal(hash.has(field), model.has(field), where);
      }
      assert.equal(hash.size, model.size, where);
    }
    assert.deepEqual([...hash], [...model]);
  }
});

// ---------------------------------------------------------------------------
// Sets

Deno.test("a set of integers is an intset, iterating in ascending order at every width", () => {
  const set = new MemberSet();
  assert.equal(set.addMembers(["5", "-3", "100", "5"], 0), 3);
  assert.equal(set.encoding, "intset");
  assert.deepEqual([...set], ["-3", "5", "100"]);
  set.addMembers(["70000", "-70000"]);
  assert.deepEqual([...set], ["-70000", "-3", "5", "100", "70000"]);
  set.addMembers(["9223372036854775807", "-9223372036854775808", "4294967296", "-4294967297"]);
  assert.equal(set.encoding, "intset");
  assert.deepEqual([...set], [
    "-9223372036854775808",
    "-4294967297",
    "-70000",
    "-3",
    "5",
    "100",
    "70000",
    "4294967296",
    "9223372036854775807",
  ]);
  assert.ok(set.has("9223372036854775807") && set.has("-4294967297") && set.has("-3"));
  assert.ok(!set.has("9223372036854775806") && !set.has("4"));
  assert.ok(set.removeMember("100"));
  assert.ok(!set.has("100"));
  assert.equal(set.size, 8);
});

Deno.test("an intset converts on a member that is not a canonical integer, never back", () => {
  for (const member of ["01", "-0", "+1", " 1", "1 ", "1.0", "9223372036854775808", "x", ""]) {
    const set = new MemberSet(["1", "2"]);
    assert.ok(!set.has(member), `${member} is not found in an intset`);
    set.addMember(member);
    assert.equal(set.encoding, "hashtable", `after adding ${JSON.stringify(member)}`);
    assert.ok(set.has(member) && set.has("1"));
    set.removeMember(member);
    assert.equal(set.encoding, "hashtable");
  }
});

Deno.test("an intset converts on one member more than set-max-intset-entries", () => {
  const three = limits({ setMaxIntsetEntries: 3 });
  const set = new MemberSet();
  set.addMembers(["1", "2", "3", "3"], 0, three);
  assert.equal(set.encoding, "intset");
  set.addMembers(["4"], 0, three);
  assert.equal(set.encoding, "hashtable");
  assert.deepEqual([...set].sort(), ["1", "2", "3", "4"]);
  assert.equal(MemberSet.expecting(513).encoding, "hashtable");
  assert.equal(MemberSet.expecting(512).encoding, "intset");
});

Deno.test("adding many members to an intset at once gives what adding them in turn gives", () => {
  const random = seededRandom(11);
  const pick = () => {
    const roll = random();
    if (roll < 0.4) return String(Math.floor(random() * 100) - 50);
    if (roll < 0.6) return String(Math.floor((random() - 0.5) * 2 ** 33));
    if (roll < 0.7) return String(Math.floor((random() - 0.5) * 2 ** 60));
    if (roll < 0.75) return "9223372036854775807";
    return roll < 0.77 ? `s${Math.floor(random() * 5)}` : String(Math.floor(random() * 2000));
  };
  for (let round = 0; round < 200; round++) {
    const batchLimits = limits({ setMaxIntsetEntries: 8 + Math.floor(random() * 60) });
    const together = new MemberSet();
    const inTurn = new MemberSet();
    for (let batch = 0; batch < 6; batch++) {
      const members = Array.from({ length: 1 + Math.floor(random() * 20) }, pick);
      let added = 0;
      for (const member of members) if (inTurn.addMember(member, batchLimits)) added++;
      assert.equal(together.addMembers(members, 0, batchLimits), added, `round ${round}`);
      assert.equal(together.encoding, inTurn.encoding, `round ${round}`);
      if (together.encoding === "intset") assert.deepEqual([...together], [...inTurn]);
      else assert.deepEqual([...together].sort(), [...inTurn].sort());
    }
  }
});

Deno.test("an intset pops and picks random members, and copies keep the encoding", () => {
  const set = new MemberSet(["10", "20", "30"]);
  const copy = set.copy();
  const picked = set.randomMember();
  assert.ok(["10", "20", "30"].includes(picked));
  const popped = [set.popRandom(), set.popRandom(), set.popRandom()].sort();
  assert.deepEqual(popped, ["10", "20", "30"]);
  assert.equal(set.size, 0);
  assert.equal(copy.encoding, "intset");
  assert.deepEqual([...copy], ["10", "20", "30"]);
  const table = new MemberSet(["a", "1"]);
  table.removeMember("a");
  assert.equal(table.copy().encoding, "hashtable");
});

Deno.test("set random walks of integers and strings match a Set, across conversions", () => {
  for (const seed of [5, 6, 7, 8]) {
    const random = seededRandom(seed);
    const set = new MemberSet();
    const model = new Set<string>();
    const walkLimits = limits({ setMaxIntsetEntries: 20 + Math.floor(random() * 200) });
    const integer = () => {
      const roll = random();
      if (roll < 0.5) return String(Math.floor(random() * 200) - 100);
      if (roll < 0.7) return String(Math.floor((random() - 0.5) * 2 ** 32));
      if (roll < 0.9) return String(BigInt(Math.floor((random() - 0.5) * 2 ** 40)) * 2n ** 24n);
      return random() < 0.5 ? "-9223372036854775808" : "9223372036854775807";
    };
    for (let step = 0; step < 3000; step++) {
      const member = seed === 8 && random() < 0.01 ? `s${step}` : integer();
      const roll = random();
      const where = `seed ${seed} step ${step}`;
      if (roll < 0.55) assert.equal(set.addMember(member, walkLimits), !model.has(member), where);
      else if (roll < 0.8) assert.equal(set.removeMember(member), model.delete(member), where);
      else assert.equal(set.has(member), model.has(member), where);
      if (roll < 0.55) model.add(member);
      if (roll > 0.99 && model.size > 0) assert.ok(model.delete(set.popRandom()), where);
      assert.equal(set.size, model.size, where);
    }
    const members = [...set];
    assert.deepEqual([...members].sort(), [...model].sort());
    if (set.encoding === "intset") {
      const values = members.map(BigInt);
      for (let i = 1; i < values.length; i++) assert.ok(values[i - 1]! < values[i]!);
    }
  }
});

// ---------------------------------------------------------------------------
// Sorted sets

Deno.test("a sorted set converts on one member more than the entries limit or a long member", () => {
  const two = limits({ zsetMaxListpackEntries: 2, zsetMaxListpackValue: 3 });
  const set = new SortedSet();
  set.add("a", 1, two);
  set.add("b", 2, two);
  set.add("a", 5, two);
  assert.equal(set.encoding, "listpack");
  set.add("c", 3, two);
  assert.equal(set.encoding, "skiplist");
  set.delete("c");
  set.delete("b");
  set.add("d", 0, DEFAULT_ENCODING_LIMITS);
  assert.equal(set.encoding, "skiplist");
  const long = new SortedSet();
  long.add("abcd", 1, two);
  assert.equal(long.encoding, "skiplist");
  assert.deepEqual([...set], [["d", 0], ["a", 5]]);
});

Deno.test("a listpack sorted set orders 0 and -0 as one score, by member", () => {
  const set = new SortedSet();
  set.add("b", 0);
  set.add("a", -0);
  set.add("c", -0);
  set.add("m", -1);
  assert.deepEqual(set.range(0, 3).map(([member]) => member), ["m", "a", "b", "c"]);
  assert.ok(Object.is(set.score("a"), -0));
  assert.equal(set.rank("c"), 3);
});

Deno.test("a sorted set copy keeps the encoding, even a skip list that has shrunk", () => {
  const small = new SortedSet();
  small.add("x", 1);
  assert.equal(small.copy().encoding, "listpack");
  const shrunk = new SortedSet();
  for (let i = 0; i < 200; i++) shrunk.add(`m${i}`, i);
  for (let i = 1; i < 200; i++) shrunk.delete(`m${i}`);
  const copy = shrunk.copy();
  assert.equal(copy.encoding, "skiplist");
  shrunk.add("m0", 9);
  assert.deepEqual([...copy], [["m0", 0]]);
});
