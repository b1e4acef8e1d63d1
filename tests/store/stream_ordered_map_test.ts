/**
 * Tests for the B+ tree behind consumer group PELs: point operations,
 * ranges in both directions, neighbour lookups, and a seeded random walk
 * against a sorted array through enough inserts and deletes to split and
 * merge nodes on several levels.
 */

import assert from "node:assert/strict";
import { OrderedMap } from "../../src/store/stream_ordered_map.ts";
import { seededRandom } from "../helpers/test_support.ts";

function key(n: number): string {
  return String(n).padStart(6, "0");
}

function collect(map: OrderedMap<number>, start?: string, end?: string, reverse = false) {
  const out: string[] = [];
  map.range(start, end, (k) => {
    out.push(k);
  }, reverse);
  return out;
}

Deno.test("an empty OrderedMap has no keys, neighbours or ranges", () => {
  const map = new OrderedMap<number>();
  assert.equal(map.size, 0);
  assert.equal(map.get("a"), undefined);
  assert.equal(map.has("a"), false);
  assert.equal(map.delete("a"), false);
  assert.equal(map.firstKey(), undefined);
  assert.equal(map.lastKey(), undefined);
  assert.equal(map.ceilingKey("a"), undefined);
  assert.equal(map.floorKey("a"), undefined);
  assert.deepEqual(collect(map), []);
  assert.deepEqual(collect(map, undefined, undefined, true), []);
  assert.deepEqual([...map], []);
});

Deno.test("OrderedMap sets, replaces, gets and deletes in key order", () => {
  const map = new OrderedMap<number>();
  assert.equal(map.set("b", 2), true);
  assert.equal(map.set("a", 1), true);
  assert.equal(map.set("c", 3), true);
  assert.equal(map.set("b", 20), false, "replacing is not inserting");
  assert.equal(map.size, 3);
  assert.deepEqual([...map.entries()], [["a", 1], ["b", 20], ["c", 3]]);
  assert.deepEqual([...map.keys()], ["a", "b", "c"]);
  assert.deepEqual([...map.values()], [1, 20, 3]);
  assert.equal(map.delete("b"), true);
  assert.equal(map.get("b"), undefined);
  assert.equal(map.size, 2);
  map.clear();
  assert.equal(map.size, 0);
  assert.deepEqual([...map], []);
});

Deno.test("ranges are inclusive, stop when the visitor says so, and run backwards", () => {
  const map = new OrderedMap<number>();
  for (let i = 0; i < 1000; i += 2) map.set(key(i), i);
  assert.deepEqual(collect(map, key(10), key(16)), [key(10), key(12), key(14), key(16)]);
  assert.deepEqual(collect(map, key(11), key(15)), [key(12), key(14)]);
  assert.deepEqual(collect(map, key(11), key(15), true), [key(14), key(12)]);
  assert.deepEqual(collect(map, key(995), undefined), [key(996), key(998)]);
  assert.deepEqual(collect(map, undefined, key(3), true), [key(2), key(0)]);
  assert.deepEqual(collect(map, key(20), key(10)), []);
  const firstThree: string[] = [];
  map.range(undefined, undefined, (k) => {
    firstThree.push(k);
    return firstThree.length < 3;
  });
  assert.deepEqual(firstThree, [key(0), key(2), key(4)]);
  assert.equal(collect(map).length, 500);
  assert.equal(collect(map, undefined, undefined, true)[0], key(998));
});

Deno.test("ceilingKey and floorKey find neighbours across leaves", () => {
  const map = new OrderedMap<number>();
  for (let i = 0; i < 1000; i += 10) map.set(key(i), i);
  assert.equal(map.ceilingKey(key(15)), key(20));
  assert.equal(map.ceilingKey(key(20)), key(20));
  assert.equal(map.ceilingKey(key(20), true), key(30));
  assert.equal(map.ceilingKey(key(991)), undefined);
  assert.equal(map.floorKey(key(15)), key(10));
  assert.equal(map.floorKey(key(10)), key(10));
  assert.equal(map.floorKey(key(10), true), key(0));
  assert.equal(map.floorKey(key(0), true), undefined);
  assert.equal(map.firstKey(), key(0));
  assert.equal(map.lastKey(), key(990));
  for (let i = 0; i < 1000; i += 10) {
    assert.equal(map.ceilingKey(key(i), true), i + 10 < 1000 ? key(i + 10) : undefined);
  }
});

Deno.test("the tree stays shallow and merges back as it empties", () => {
  const map = new OrderedMap<number>();
  for (let i = 0; i < 200_000; i++) map.set(key(i), i);
  assert.ok(map.height <= 4, `height ${map.height}`);
  for (let i = 0; i < 200_000; i++) if (i % 1000 !== 0) map.delete(key(i));
  assert.equal(map.size, 200);
  assert.ok(map.height <= 2, `height ${map.height} after shrinking`);
  assert.deepEqual(collect(map).slice(0, 3), [key(0), key(1000), key(2000)]);
  for (let i = 0; i < 200_000; i += 1000) map.delete(key(i));
  assert.equal(map.height, 1);
  assert.equal(map.size, 0);
});

/** Index of the first element of sorted `keys` that is >= `k`. */
function lowerBound(keys: string[], k: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (keys[middle]! < k) low = middle + 1;
    else high = middle;
  }
  return low;
}

Deno.test("OrderedMap matches a sorted array through seeded random operations", () => {
  for (const seed of [1, 2, 3, 99]) {
    const random = seededRandom(seed);
    const map = new OrderedMap<number>();
    const keys: string[] = [];
    const values = new Map<string, number>();
    const pick = (limit: number) => Math.floor(random() * limit);
    for (let step = 0; step < 30000; step++) {
      // Grow for a while, then shrink, so merges happen on every level.
      const growing = Math.floor(step / 7500) % 2 === 0;
      const k = key(pick(20000));
      const at = lowerBound(keys, k);
      const present = keys[at] === k;
      const roll = random();
      if (roll < (growing ? 0.7 : 0.3)) {
        assert.equal(map.set(k, step), !present);
        if (!present) keys.splice(at, 0, k);
        values.set(k, step);
      } else if (roll < 0.97) {
        assert.equal(map.delete(k), present);
        if (present) keys.splice(at, 1);
        values.delete(k);
      } else {
        const start = key(pick(20000));
        const end = key(pick(20000));
        const reverse = random() < 0.5;
        const expected = keys.slice(lowerBound(keys, start), lowerBound(keys, end + "\0"));
        if (reverse) expected.reverse();
        assert.deepEqual(collect(map, start, end, reverse), expected, `seed ${seed} step ${step}`);
        assert.equal(map.ceilingKey(start), keys[lowerBound(keys, start)]);
        assert.equal(map.floorKey(end), keys[lowerBound(keys, end + "\0") - 1]);
      }
      assert.equal(map.size, keys.length);
    }
    assert.deepEqual([...map.keys()], keys);
    for (const k of keys) assert.equal(map.get(k), values.get(k));
  }
});
