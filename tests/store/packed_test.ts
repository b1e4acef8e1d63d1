/**
 * Tests for the packed-string layout the compact encodings share: lengths
 * read back from either side at every size class, scores whose chars sort
 * as the numbers do, and byte comparisons in Redis's memcmp order.
 */

import assert from "node:assert/strict";
import {
  bytesEqual,
  compareBytes,
  flatten,
  lengthAt,
  lengthBefore,
  lengthBytes,
  lengthPrefix,
  lengthSize,
  lengthSuffix,
  scoreAt,
  scoreChars,
} from "../../src/store/packed.ts";
import { seededRandom } from "../helpers/test_support.ts";

Deno.test("a length reads back from its prefix and from its suffix, at every size class", () => {
  for (const length of [0, 1, 127, 128, 300, 16_383, 16_384, 70_000, 2 ** 24 + 3, 2 ** 31 + 5]) {
    const prefix = lengthPrefix(length);
    const suffix = lengthSuffix(length);
    assert.equal(prefix.length, lengthBytes(length), `${length}`);
    assert.equal(lengthSize(prefix.charCodeAt(0)), prefix.length, `${length}`);
    assert.equal(lengthAt("x" + prefix, 1), length, `prefix of ${length}`);
    assert.equal(lengthBefore(suffix + "y", suffix.length), length, `suffix of ${length}`);
    assert.equal([...suffix].reverse().join(""), prefix, `${length} mirrored`);
    for (const char of prefix) assert.ok(char.charCodeAt(0) <= 0xff, "binary chars only");
  }
});

Deno.test("score chars round-trip every double and sort as the numbers do, -0 just below 0", () => {
  const scores = [
    -Infinity,
    -Number.MAX_VALUE,
    -1e300,
    -2.5,
    -1,
    -Number.MIN_VALUE,
    -0,
    0,
    Number.MIN_VALUE,
    1e-300,
    0.5,
    1,
    2 ** 53 + 2,
    Number.MAX_VALUE,
    Infinity,
  ];
  const chars = scores.map(scoreChars);
  scores.forEach((score, i) => {
    assert.equal(chars[i]!.length, 8);
    assert.ok(Object.is(scoreAt("ab" + chars[i]!, 2), score), `${score}`);
    if (i > 0) assert.ok(chars[i - 1]! < chars[i]!, `${scores[i - 1]} sorts before ${score}`);
  });
  const random = seededRandom(11);
  for (let i = 0; i < 10_000; i++) {
    const a = (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20);
    const b = (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20);
    const order = scoreChars(a) < scoreChars(b) ? -1 : scoreChars(a) > scoreChars(b) ? 1 : 0;
    assert.equal(order, Math.sign(a - b), `${a} vs ${b}`);
  }
});

Deno.test("compareBytes and bytesEqual follow the binary string order Redis's memcmp gives", () => {
  const random = seededRandom(12);
  const text = (length: number) =>
    Array.from({ length }, () => String.fromCharCode(Math.floor(random() * 4) * 85)).join("");
  for (let i = 0; i < 5000; i++) {
    const a = text(Math.floor(random() * 5));
    const b = text(Math.floor(random() * 5));
    const packed = "\x00" + a + "\xff";
    const order = compareBytes(packed, 1, a.length, b);
    assert.equal(Math.sign(order), a < b ? -1 : a > b ? 1 : 0, `${escape(a)} vs ${escape(b)}`);
    if (a.length === b.length) assert.equal(bytesEqual(packed, 1, b), a === b);
  }
});

Deno.test("flatten returns the same bytes", () => {
  let rope = "";
  for (let i = 0; i < 1000; i++) rope += String.fromCharCode(i & 0xff, 0xff - (i & 0xff));
  const flat = flatten(rope);
  assert.equal(flat.length, 2000);
  assert.equal(flat, rope);
  assert.equal(flat.charCodeAt(1999), 0xff - (999 & 0xff));
});
