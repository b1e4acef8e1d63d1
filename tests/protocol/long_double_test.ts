/**
 * Long double emulation: sums and their printed form, checked against
 * replies recorded from Redis 7.0 on x86-64 (INCRBYFLOAT), including the
 * cases where a double or plain decimal arithmetic would print otherwise.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  addLongDoubles,
  formatLongDouble,
  isFiniteLongDouble,
  parseLongDouble,
} from "../../src/protocol/long_double.ts";

function sum(a: string, b: string): string {
  const left = parseLongDouble(a);
  const right = parseLongDouble(b);
  assert.ok(left !== undefined && right !== undefined, `${a} and ${b} should parse`);
  const total = addLongDoubles(left, right);
  return isFiniteLongDouble(total) ? formatLongDouble(total) : "not finite";
}

Deno.test("sums print as Redis prints INCRBYFLOAT results", () => {
  const cases: [string, string, string][] = [
    ["10.5", "0.1", "10.6"],
    ["10.6", "5.0e3", "5010.60000000000000009"],
    ["0.1", "0.2", "0.3"],
    ["100000000000000000000", "1", "100000000000000000000"],
    ["0", "123456789012345678901234567890", "123456789012345678899921813504"],
    ["0", "0.000000000000000005", "0"],
    ["0", "0.000000000000000015", "0.00000000000000002"],
    ["0", "3.0000000000000000000000000001", "3"],
    ["-9223372036854775808", "1.5", "-9223372036854775806.5"],
    ["1234567890123456789", "0.1", "1234567890123456789.125"],
    ["123456789012345678", "1", "123456789012345679"],
    ["1e400", "-1e400", "0"],
    ["0", "-1e-20", "0"],
    ["0", "0x1p3", "8"],
    ["0", "0x.8p1", "1"],
    ["0", "1e-4950", "0"],
  ];
  for (const [a, b, expected] of cases) assert.equal(sum(a, b), expected, `${a} + ${b}`);
});

Deno.test("huge values print every digit, and overflow is not finite", () => {
  const printed = sum("0", "1e400");
  assert.equal(printed.length, 401);
  assert.ok(printed.startsWith("10000000000000000000281880683947586514586"));
  assert.equal(sum("0", "0x1.fffffffffffffffep16383").length, 4933);
  assert.equal(sum("1e4932", "1.18973149535723176e4932"), "not finite");
  assert.equal(sum("inf", "1"), "not finite");
  assert.equal(sum("inf", "-inf"), "not finite");
});

Deno.test("parsing follows strtold with Redis's checks", () => {
  for (const valid of ["1", "+1.5", ".5", "5.", "1E2", "0x1P-2", "0x1.8", "0e5000", "-0", "inf"]) {
    assert.ok(parseLongDouble(valid) !== undefined, `${valid} should parse`);
  }
  for (
    const invalid of [
      "",
      " 1",
      "1 ",
      "\t1",
      "1\x00",
      ".",
      "1e",
      "1e+",
      "0x",
      "0x1p",
      "nan",
      "--1",
      "1,5",
      "1e5000",
      "1e-5000",
      "1".repeat(5120),
    ]
  ) {
    assert.equal(
      parseLongDouble(invalid),
      undefined,
      `${JSON.stringify(invalid)} should not parse`,
    );
  }
});
