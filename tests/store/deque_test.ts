/**
 * Tests for the list storage, a quicklist of packed nodes.
 *
 * Each operation is pinned down on its own, with nodes of two or three
 * entries (`list-max-listpack-size` 2 and 3) so the node boundaries, where
 * index arithmetic goes wrong first, are everywhere; then seeded random
 * walks run every operation against a plain Array doing the same thing,
 * with every node size Redis allows and elements from empty to longer than
 * a node, and compare the two after each step. A last test checks that both
 * ends stay cheap at a million elements.
 */

import assert from "node:assert/strict";
import { Deque } from "../../src/store/deque.ts";
import { DEFAULT_ENCODING_LIMITS, type EncodingLimits } from "../../src/store/encoding_limits.ts";
import { seededRandom } from "../helpers/test_support.ts";

/** Limits with `list-max-listpack-size` `fill`. */
function fill(size: number): EncodingLimits {
  return { ...DEFAULT_ENCODING_LIMITS, listMaxListpackSize: size };
}

const TWO = fill(2);

/** A list of `values` in nodes of two entries. */
function small(values: string[]): Deque<string> {
  const list = new Deque<string>();
  for (const value of values) list.pushBack(value, TWO);
  return list;
}

const letters = (text: string) => text.split("");

Deno.test("Deque pushes and pops at both ends in order", () => {
  const deque = new Deque<string>();
  deque.pushBack("b");
  deque.pushFront("a");
  deque.pushBack("c");
  assert.deepEqual(deque.toArray(), ["a", "b", "c"]);
  assert.equal(deque.length, 3);
  assert.equal(deque.popFront(), "a");
  assert.equal(deque.popBack(), "c");
  assert.equal(deque.popBack(), "b");
  assert.equal(deque.popFront(), undefined);
  assert.equal(deque.popBack(), undefined);
  assert.equal(deque.length, 0);
  assert.deepEqual(deque.toArray(), []);
});

Deno.test("Deque pops what was pushed at the other end before it was packed", () => {
  const deque = new Deque<string>();
  for (const value of ["1", "2", "3"]) deque.pushFront(value);
  assert.equal(deque.popBack(), "1");
  for (const value of ["a", "b"]) deque.pushBack(value);
  assert.equal(deque.popFront(), "3");
  assert.deepEqual(deque.toArray(), ["2", "a", "b"]);
});

Deno.test("Deque at and set address elements from the head, across node boundaries", () => {
  const deque = small(["10", "11", "12", "13", "14"]);
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => deque.at(i)), ["10", "11", "12", "13", "14"]);
  assert.deepEqual([4, 3, 2, 1, 0].map((i) => deque.at(i)), ["14", "13", "12", "11", "10"]);
  assert.equal(deque.at(-1), undefined);
  assert.equal(deque.at(5), undefined);
  deque.set(4, "40");
  deque.set(0, "");
  deque.set(2, "a much longer element than the others");
  assert.deepEqual(deque.toArray(), [
    "",
    "11",
    "a much longer element than the others",
    "13",
    "40",
  ]);
});

Deno.test("Deque slice and visit return an inclusive range", () => {
  const deque = small(letters("abcdef"));
  assert.deepEqual(deque.slice(1, 3), ["b", "c", "d"]);
  assert.deepEqual(deque.slice(5, 5), ["f"]);
  assert.deepEqual(deque.slice(2, 1), []);
  const seen: string[] = [];
  deque.visit(1, 4, (source, from, to) => seen.push(source.slice(from, to)));
  assert.deepEqual(seen, ["b", "c", "d", "e"]);
});

Deno.test("Deque insert puts the value before the index, splitting a full node", () => {
  for (let index = 0; index <= 6; index++) {
    const deque = small(letters("012345"));
    deque.insert(index, "x", TWO);
    const expected = letters("012345");
    expected.splice(index, 0, "x");
    assert.deepEqual(deque.toArray(), expected, `insert at ${index}`);
    assert.deepEqual([...deque.reversed()], expected.reverse(), `insert at ${index}, reversed`);
  }
});

Deno.test("Deque removeAt removes one element at any position", () => {
  for (let index = 0; index < 6; index++) {
    const deque = small(letters("012345"));
    deque.removeAt(index);
    const expected = letters("012345");
    expected.splice(index, 1);
    assert.deepEqual(deque.toArray(), expected, `removeAt ${index}`);
  }
});

Deno.test("Deque retain keeps the matching elements in order and passes their index", () => {
  const deque = small(letters("56789"));
  const seen: number[] = [];
  deque.retain((value, index) => {
    seen.push(index);
    return Number(value) % 2 === 1;
  });
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  assert.deepEqual(deque.toArray(), ["5", "7", "9"]);
  deque.retain(() => false);
  assert.equal(deque.length, 0);
  deque.pushBack("1");
  assert.deepEqual(deque.toArray(), ["1"]);
});

Deno.test("Deque trim keeps an inclusive range, or nothing when it is empty", () => {
  const deque = small(letters("0123456"));
  deque.trim(2, 4);
  assert.deepEqual(deque.toArray(), ["2", "3", "4"]);
  deque.trim(0, 2);
  assert.deepEqual(deque.toArray(), ["2", "3", "4"]);
  deque.trim(1, 1);
  assert.deepEqual(deque.toArray(), ["3"]);
  deque.trim(2, 1);
  assert.deepEqual(deque.toArray(), []);
  const other = new Deque(["1", "2", "3"]);
  other.trim(3, 5);
  assert.deepEqual(other.toArray(), []);
});

Deno.test("Deque holds binary elements of every length, also longer than a node", () => {
  const all = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("");
  const values = ["", "\x00", all, "x".repeat(127), "y".repeat(128), "z".repeat(16_384), all];
  const deque = new Deque<string>();
  for (const value of values) deque.pushBack(value);
  deque.pushFront(all);
  assert.deepEqual(deque.toArray(), [all, ...values]);
  assert.deepEqual([...deque.reversed()], [all, ...values].reverse());
  assert.equal(deque.popBack(), all);
  assert.equal(deque.at(6)!.length, 16_384);
});

Deno.test("Deque copy shares nothing that a change to either could reach", () => {
  const original = small(letters("abc"));
  const copy = original.copy();
  original.set(0, "changed");
  original.pushBack("d");
  copy.popBack();
  assert.deepEqual(original.toArray(), ["changed", "b", "c", "d"]);
  assert.deepEqual(copy.toArray(), ["a", "b"]);
});

/** One random operation applied to both the deque and the model; returns its name. */
function randomStep(
  deque: Deque<string>,
  model: string[],
  random: () => number,
  growing: boolean,
  limits: EncodingLimits,
): string {
  const pick = (limit: number) => Math.floor(random() * limit);
  const length = random() < 0.02 ? 300 + pick(9000) : pick(40);
  let value = "";
  for (let i = 0; i < length; i++) value += String.fromCharCode(pick(256));
  // Pushes outweigh pops in a growing phase and the reverse otherwise, so the
  // list grows past many nodes and shrinks back.
  const bias = growing ? 0.15 : -0.15;
  const roll = random();
  if (roll < 0.22 + bias) {
    deque.pushBack(value, limits);
    model.push(value);
    return `pushBack ${length}`;
  }
  if (roll < 0.44 + bias * 2) {
    deque.pushFront(value, limits);
    model.unshift(value);
    return `pushFront ${length}`;
  }
  if (roll < 0.62) {
    assert.equal(deque.popFront(), model.shift());
    return "popFront";
  }
  if (roll < 0.8) {
    assert.equal(deque.popBack(), model.pop());
    return "popBack";
  }
  if (roll < 0.85) {
    const index = pick(model.length + 1);
    deque.insert(index, value, limits);
    model.splice(index, 0, value);
    return `insert ${index}`;
  }
  if (roll < 0.9 && model.length > 0) {
    const index = pick(model.length);
    deque.removeAt(index);
    model.splice(index, 1);
    return `removeAt ${index}`;
  }
  if (roll < 0.94 && model.length > 0) {
    const index = pick(model.length);
    deque.set(index, value);
    model[index] = value;
    return `set ${index}`;
  }
  if (roll < 0.942) {
    const divisor = 2 + pick(5);
    deque.retain((element) => element.length % divisor !== 0);
    model.splice(0, model.length, ...model.filter((element) => element.length % divisor !== 0));
    return `retain not divisible by ${divisor}`;
  }
  if (roll < 0.944 && model.length > 0) {
    const start = pick(model.length);
    const stop = start + pick(model.length - start);
    deque.trim(start, stop);
    model.splice(0, model.length, ...model.slice(start, stop + 1));
    return `trim ${start} ${stop}`;
  }
  if (roll < 0.96 && model.length > 0) {
    const start = pick(model.length);
    const stop = start + pick(model.length - start);
    assert.deepEqual(deque.slice(start, stop), model.slice(start, stop + 1));
    return `slice ${start} ${stop}`;
  }
  const index = pick(model.length + 2) - 1;
  assert.equal(deque.at(index), model[index]);
  return `at ${index}`;
}

Deno.test("Deque matches an Array model after every step of seeded random walks", () => {
  const fills = [-1, -2, -5, 1, 2, 3, 16];
  for (const [n, seed] of [1, 2, 3, 42, 2024, 7, 99].entries()) {
    const random = seededRandom(seed);
    const limits = fill(fills[n]!);
    const deque = new Deque<string>();
    const model: string[] = [];
    let longest = 0;
    for (let step = 0; step < 3000; step++) {
      const operation = randomStep(deque, model, random, Math.floor(step / 600) % 2 === 0, limits);
      longest = Math.max(longest, model.length);
      const where = `seed ${seed}, fill ${fills[n]}, step ${step}: ${operation}`;
      assert.equal(deque.length, model.length, where);
      if (step % 7 === 0) {
        assert.deepEqual(deque.toArray(), model, where);
        assert.deepEqual([...deque.reversed()], [...model].reverse(), where);
      }
      if (model.length > 0) {
        assert.equal(deque.at(0), model[0], where);
        assert.equal(deque.at(model.length - 1), model[model.length - 1], where);
      }
    }
    assert.deepEqual(deque.toArray(), model);
    assert.ok(longest > 200, `seed ${seed} only reached ${longest} elements`);
  }
});

Deno.test("Deque pushes then pops a million elements at either end in well under seconds", () => {
  const started = performance.now();
  const deque = new Deque<string>();
  for (let i = 0; i < 1_000_000; i++) deque.pushFront("v");
  assert.equal(deque.length, 1_000_000);
  assert.equal(deque.at(500_000), "v");
  for (let i = 0; i < 1_000_000; i++) deque.popFront();
  for (let i = 0; i < 1_000_000; i++) deque.pushBack("w");
  for (let i = 0; i < 1_000_000; i++) deque.popBack();
  assert.equal(deque.length, 0);
  const seconds = (performance.now() - started) / 1000;
  assert.ok(seconds < 5, `took ${seconds.toFixed(2)}s`);
});
