/**
 * Tests for the list storage ring buffer.
 *
 * Each operation is pinned down on its own, across the wrap-around point of
 * the ring (where index arithmetic goes wrong first); then a seeded random
 * walk runs every operation against a plain Array doing the same thing and
 * compares the two after each step, growing and shrinking the ring many
 * times. A last test checks that both ends stay O(1) at a million elements.
 */

import assert from "node:assert/strict";
import { Deque } from "../../src/store/deque.ts";
import { seededRandom } from "../helpers/test_support.ts";

/** A deque holding `values` whose head sits `offset` slots into its ring. */
function wrapped(values: number[], offset: number): Deque<number> {
  const deque = new Deque<number>();
  for (let i = 0; i < offset; i++) deque.pushBack(-1);
  for (const value of values) deque.pushBack(value);
  for (let i = 0; i < offset; i++) deque.popFront();
  return deque;
}

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

Deno.test("Deque at and set address elements from the head, also across the ring's end", () => {
  for (let offset = 0; offset < 8; offset++) {
    const deque = wrapped([10, 11, 12, 13, 14], offset);
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => deque.at(i)), [10, 11, 12, 13, 14]);
    assert.equal(deque.at(-1), undefined);
    assert.equal(deque.at(5), undefined);
    deque.set(4, 40);
    deque.set(0, 0);
    assert.deepEqual(deque.toArray(), [0, 11, 12, 13, 40]);
  }
});

Deno.test("Deque slice returns an inclusive range", () => {
  const deque = wrapped([0, 1, 2, 3, 4, 5], 3);
  assert.deepEqual(deque.slice(1, 3), [1, 2, 3]);
  assert.deepEqual(deque.slice(5, 5), [5]);
  assert.deepEqual(deque.slice(2, 1), []);
});

Deno.test("Deque insert puts the value before the index, at either end and in the middle", () => {
  for (let index = 0; index <= 6; index++) {
    const deque = wrapped([0, 1, 2, 3, 4, 5], 2);
    deque.insert(index, 99);
    const expected = [0, 1, 2, 3, 4, 5];
    expected.splice(index, 0, 99);
    assert.deepEqual(deque.toArray(), expected, `insert at ${index}`);
  }
});

Deno.test("Deque removeAt removes one element at any position", () => {
  for (let index = 0; index < 6; index++) {
    const deque = wrapped([0, 1, 2, 3, 4, 5], 3);
    deque.removeAt(index);
    const expected = [0, 1, 2, 3, 4, 5];
    expected.splice(index, 1);
    assert.deepEqual(deque.toArray(), expected, `removeAt ${index}`);
  }
});

Deno.test("Deque retain keeps the matching elements in order and passes their index", () => {
  const deque = wrapped([5, 6, 7, 8, 9], 2);
  const seen: number[] = [];
  deque.retain((value, index) => {
    seen.push(index);
    return value % 2 === 1;
  });
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  assert.deepEqual(deque.toArray(), [5, 7, 9]);
  deque.retain(() => false);
  assert.equal(deque.length, 0);
  deque.pushBack(1);
  assert.deepEqual(deque.toArray(), [1]);
});

Deno.test("Deque trim keeps an inclusive range, or nothing when it is empty", () => {
  const deque = wrapped([0, 1, 2, 3, 4, 5, 6], 5);
  deque.trim(2, 4);
  assert.deepEqual(deque.toArray(), [2, 3, 4]);
  deque.trim(0, 2);
  assert.deepEqual(deque.toArray(), [2, 3, 4]);
  deque.trim(2, 1);
  assert.deepEqual(deque.toArray(), []);
  const other = new Deque([1, 2, 3]);
  other.trim(3, 5);
  assert.deepEqual(other.toArray(), []);
});

Deno.test("Deque iterates from head to tail and copies an iterable", () => {
  const deque = new Deque(["x", "y", "z"]);
  assert.deepEqual([...deque], ["x", "y", "z"]);
});

/** One random operation applied to both the deque and the model; returns its name. */
function randomStep(
  deque: Deque<number>,
  model: number[],
  random: () => number,
  growing: boolean,
): string {
  const pick = (limit: number) => Math.floor(random() * limit);
  const value = pick(1000);
  // Pushes outweigh pops in a growing phase and the reverse otherwise, so the
  // ring grows past several resize points and shrinks back through them.
  const bias = growing ? 0.15 : -0.15;
  const roll = random();
  if (roll < 0.22 + bias) {
    deque.pushBack(value);
    model.push(value);
    return `pushBack ${value}`;
  }
  if (roll < 0.44 + bias * 2) {
    deque.pushFront(value);
    model.unshift(value);
    return `pushFront ${value}`;
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
    deque.insert(index, value);
    model.splice(index, 0, value);
    return `insert ${index} ${value}`;
  }
  if (roll < 0.9 && model.length > 0) {
    const index = pick(model.length);
    deque.removeAt(index);
    model.splice(index, 1);
    return `removeAt ${index}`;
  }
  if (roll < 0.965 && model.length > 0) {
    const index = pick(model.length);
    deque.set(index, value);
    model[index] = value;
    return `set ${index} ${value}`;
  }
  if (roll < 0.967) {
    const divisor = 2 + pick(5);
    deque.retain((element) => element % divisor !== 0);
    model.splice(0, model.length, ...model.filter((element) => element % divisor !== 0));
    return `retain not divisible by ${divisor}`;
  }
  if (roll < 0.969 && model.length > 0) {
    const start = pick(model.length);
    const stop = start + pick(model.length - start);
    deque.trim(start, stop);
    model.splice(0, model.length, ...model.slice(start, stop + 1));
    return `trim ${start} ${stop}`;
  }
  const index = pick(model.length + 2) - 1;
  assert.equal(deque.at(index), model[index]);
  return `at ${index}`;
}

Deno.test("Deque matches an Array model after every step of seeded random walks", () => {
  for (const seed of [1, 2, 3, 42, 2024]) {
    const random = seededRandom(seed);
    const deque = new Deque<number>();
    const model: number[] = [];
    let longest = 0;
    for (let step = 0; step < 4000; step++) {
      const operation = randomStep(deque, model, random, Math.floor(step / 800) % 2 === 0);
      longest = Math.max(longest, model.length);
      const where = `seed ${seed}, step ${step}: ${operation}`;
      assert.equal(deque.length, model.length, where);
      assert.deepEqual(deque.toArray(), model, where);
      if (model.length > 0) {
        assert.equal(deque.at(0), model[0], where);
        assert.equal(deque.at(model.length - 1), model[model.length - 1], where);
      }
    }
    assert.ok(longest > 256, `seed ${seed} only reached ${longest} elements`);
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
