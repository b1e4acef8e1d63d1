/**
 * The codec's primitives on their own: CRC64, LZF, RDB lengths, strings,
 * doubles and times, listpack elements at every encoding boundary, the
 * integer rules, module names. Known answers come from the Redis sources
 * (crc64.c's check value) or are cross-checked elsewhere against
 * redis-server (redis_files_test.ts).
 */

import assert from "node:assert/strict";
import { RdbCursor } from "../../src/rdb/cursor.ts";
import { canonicalInteger } from "../../src/rdb/integers.ts";
import { backlenSize, ListpackBuilder, ListpackReader } from "../../src/rdb/listpack.ts";
import {
  Crc64,
  crc64,
  lzfCompress,
  lzfDecompress,
  RdbError,
  RdbFileReader,
  RdbFileWriter,
  readRdbFile,
  writeRdbFile,
} from "../../src/rdb/mod.ts";
import { moduleTypeName } from "../../src/rdb/object_reader.ts";
import { RdbOutput } from "../../src/rdb/output.ts";
import { moduleId } from "./fixtures/builders.ts";
import { random } from "./helpers.ts";

const text = (value: string) => new TextEncoder().encode(value);

function cursorOver(bytes: Uint8Array): RdbCursor {
  const cursor = new RdbCursor();
  cursor.reset(bytes, 0, bytes.length);
  return cursor;
}

Deno.test("CRC64 is Redis's Jones CRC64: the check value of 123456789 is e9c6d914c4b8d9ca", () => {
  assert.equal(crc64(text("123456789")), 0xe9c6d914c4b8d9can);
  assert.equal(crc64(new Uint8Array(0)), 0n);
});

Deno.test("CRC64 computed in pieces equals CRC64 of the whole, for every split", () => {
  const next = random(1);
  const data = Uint8Array.from({ length: 300 }, () => Math.floor(next() * 256));
  const whole = crc64(data);
  for (let split = 0; split <= data.length; split += 7) {
    const crc = new Crc64();
    crc.update(data, 0, split);
    crc.update(data, split);
    assert.equal(crc.value(), whole);
    const stored = new Uint8Array(8);
    crc.writeTo(stored, 0);
    assert.ok(crc.matches(stored, 0));
    assert.equal(new DataView(stored.buffer).getBigUint64(0, true), whole);
  }
});

Deno.test("LZF round-trips compressible and random data and refuses to expand", () => {
  const next = random(2);
  for (let round = 0; round < 300; round++) {
    const size = 1 + Math.floor(next() * 3000);
    const alphabet = 1 + Math.floor(next() * 255);
    const input = Uint8Array.from({ length: size }, () => Math.floor(next() * alphabet));
    const output = new Uint8Array(size + Math.ceil(size / 16) + 16); // worst case: a run byte per 32
    const packed = lzfCompress(input, 0, size, output, 0, output.length);
    assert.ok(packed > 0);
    assert.deepEqual(lzfDecompress(output, 0, packed, size), input);
    // With no room to spare, incompressible data does not fit.
    const tight = lzfCompress(input, 0, size, output, 0, size - 4);
    if (tight > 0) assert.deepEqual(lzfDecompress(output, 0, tight, size), input);
  }
  const runs = new Uint8Array(10_000).fill(97);
  const output = new Uint8Array(1000);
  const packed = lzfCompress(runs, 0, runs.length, output, 0, output.length);
  assert.ok(packed > 0 && packed < 200, `${packed}`);
  assert.deepEqual(lzfDecompress(output, 0, packed, runs.length), runs);
});

Deno.test("LZF decompression refuses references before the start, overruns and wrong sizes", () => {
  assert.equal(lzfDecompress(Uint8Array.of(0x20, 0x05), 0, 2, 3), undefined); // back reference at start
  assert.equal(lzfDecompress(Uint8Array.of(2, 97, 98), 0, 3, 3), undefined); // literal runs past the input
  assert.equal(lzfDecompress(Uint8Array.of(1, 97, 98), 0, 3, 1), undefined); // output overrun
  assert.equal(lzfDecompress(Uint8Array.of(0, 97), 0, 2, 2), undefined); // short output
  assert.equal(lzfDecompress(Uint8Array.of(0, 97, 0xe0), 0, 3, 20), undefined); // truncated reference
  assert.deepEqual(lzfDecompress(Uint8Array.of(0, 97, 0x40, 0), 0, 4, 5), text("aaaaa"));
});

Deno.test("RDB lengths round-trip at every encoding boundary, 64-bit ones as bigints", () => {
  const values = [0, 63, 64, 16383, 16384, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER];
  const sizes = [1, 1, 2, 2, 5, 5, 9, 9];
  values.forEach((value, index) => {
    const output = new RdbOutput(false);
    output.length(value);
    assert.equal(output.size, sizes[index], `size of ${value}`);
    assert.equal(cursorOver(output.peek()).length(), value);
  });
  const output = new RdbOutput(false);
  output.lengthBig(2n ** 64n - 1n);
  assert.equal(cursorOver(output.peek()).lengthBig(), 2n ** 64n - 1n);
  assert.throws(() => cursorOver(output.peek()).length(), RdbError);
});

Deno.test("strings are integer-encoded exactly when Redis does: canonical and within int32", () => {
  const cases: [string, number][] = [
    ["0", 2],
    ["-128", 2],
    ["127", 2],
    ["128", 3],
    ["-32768", 3],
    ["32768", 5],
    ["2147483647", 5],
    ["-2147483648", 5],
    ["2147483648", 11], // beyond int32: verbatim
    ["007", 4],
    ["-0", 3],
    ["+1", 3],
    [" 1", 3],
    ["", 1],
  ];
  for (const [value, size] of cases) {
    const output = new RdbOutput(false);
    output.string(value);
    assert.equal(output.size, size, JSON.stringify(value));
    assert.equal(cursorOver(output.peek()).string(), value);
  }
});

Deno.test("long strings are LZF-compressed only when compression is on and saves 4 bytes or more", () => {
  const compressible = "abc".repeat(50);
  const compressed = new RdbOutput(true);
  compressed.string(compressible);
  assert.equal(compressed.peek()[0], 0xc3);
  assert.equal(cursorOver(compressed.peek()).string(), compressible);
  const plain = new RdbOutput(false);
  plain.string(compressible);
  assert.equal(plain.size, 2 + compressible.length);
  const next = random(4);
  const noise = String.fromCharCode(...Array.from({ length: 100 }, () => Math.floor(next() * 256)));
  const incompressible = new RdbOutput(true);
  incompressible.string(noise);
  assert.equal(incompressible.size, 2 + noise.length);
  const short = new RdbOutput(true);
  short.string("a".repeat(20)); // Redis tries LZF above 20 bytes only
  assert.equal(short.size, 21);
});

Deno.test("doubles: binary little-endian, and the old text form with its inf and nan codes", () => {
  const output = new RdbOutput(false);
  output.binaryDouble(-0.1);
  assert.equal(cursorOver(output.peek()).binaryDouble(), -0.1);
  const textual = Uint8Array.of(
    254,
    255,
    253,
    4,
    ...text("-1.5"),
    5,
    ...text("1e300"),
    2,
    ...text("x1"),
  );
  const cursor = cursorOver(textual);
  assert.equal(cursor.textDouble(), Infinity);
  assert.equal(cursor.textDouble(), -Infinity);
  assert.ok(Number.isNaN(cursor.textDouble()));
  assert.equal(cursor.textDouble(), -1.5);
  assert.equal(cursor.textDouble(), 1e300);
  assert.throws(() => cursor.textDouble(), RdbError);
});

Deno.test("millisecond times are int64 little-endian, negative ones included", () => {
  for (const value of [0, 1, -1, 1_700_000_000_123, -(2 ** 40) - 5, Number.MAX_SAFE_INTEGER]) {
    const output = new RdbOutput(false);
    output.millisecondTime(value);
    assert.equal(output.size, 8);
    assert.equal(cursorOver(output.peek()).millisecondTime(), value);
  }
});

Deno.test("listpack elements round-trip at every integer and string encoding boundary", () => {
  const integers = [
    0,
    127,
    128,
    -1,
    -4096,
    4095,
    4096,
    -4097,
    -32768,
    32767,
    32768,
    -8388608,
    8388607,
    8388608,
    -2147483648,
    2147483647,
    2147483648,
    Number.MAX_SAFE_INTEGER,
  ];
  const strings = [
    "",
    "a",
    "x".repeat(63),
    "x".repeat(64),
    "x".repeat(4095),
    "x".repeat(4096),
    "01",
    "-0",
  ];
  const builder = new ListpackBuilder();
  for (const value of integers) builder.append(String(value));
  builder.append("9223372036854775807");
  builder.append("-9223372036854775808");
  for (const value of strings) builder.append(value);
  const reader = new ListpackReader(builder.finish());
  const decoded: string[] = [];
  const kinds: boolean[] = [];
  while (reader.next()) {
    decoded.push(reader.string());
    kinds.push(reader.isInteger);
  }
  const expected = [
    ...integers.map(String),
    "9223372036854775807",
    "-9223372036854775808",
    ...strings,
  ];
  assert.deepEqual(decoded, expected);
  assert.deepEqual(kinds, [...integers.map(() => true), true, true, ...strings.map(() => false)]);
  assert.deepEqual([127, 128, 16382, 16383, 2097150, 2097151].map(backlenSize), [1, 2, 2, 3, 3, 4]);
});

Deno.test("canonicalInteger accepts exactly what Redis's string2ll accepts", () => {
  assert.equal(canonicalInteger("0"), 0);
  assert.equal(canonicalInteger("-12"), -12);
  assert.equal(canonicalInteger("9007199254740993"), 9007199254740993n);
  assert.equal(canonicalInteger("-9223372036854775808"), -9223372036854775808n);
  for (
    const bad of ["", "-", "00", "-0", "+1", " 1", "1 ", "1.0", "9223372036854775808", "1e3", "0x1"]
  ) {
    assert.equal(canonicalInteger(bad), undefined, JSON.stringify(bad));
  }
});

Deno.test("module type names are decoded from module IDs as Redis encodes them", () => {
  assert.equal(moduleTypeName(moduleId("ReJSON-RL", 3)), "ReJSON-RL");
  assert.equal(moduleTypeName(moduleId("graphdata", 1023)), "graphdata");
});

Deno.test("the incremental writer's slices add up to the whole file, with or without a checksum", () => {
  const keys = Array.from({ length: 2000 }, (_, i) => ({
    key: `key:${i}`,
    value: { type: "string" as const, value: `value:${i}`.repeat(1 + (i % 5)) },
    expireAt: i % 3 === 0 ? 1_900_000_000_000 + i : undefined,
  }));
  const options = { createdAt: 1_800_000_000 };
  const whole = writeRdbFile({ databases: [{ index: 3, keys }] }, options);
  const writer = new RdbFileWriter(options);
  writer.selectDatabase(3, keys.length, keys.filter((key) => key.expireAt !== undefined).length);
  const slices: Uint8Array[] = [];
  for (const key of keys) {
    writer.writeKey(key.key, key.value, key);
    if (writer.pendingBytes > 1000) slices.push(writer.take());
  }
  slices.push(writer.finish());
  assert.ok(slices.length > 10);
  assert.deepEqual(new Uint8Array(slices.flatMap((slice) => [...slice])), whole);
  assert.throws(() => writer.finish());

  const read = readRdbFile(whole);
  assert.equal(read.checksum, "verified");
  assert.deepEqual(
    read.keys.map((record) => [record.database, record.key, record.value, record.expireAt]),
    keys.map((key) => [3, key.key, key.value, key.expireAt]),
  );
  const unchecked = writeRdbFile({ databases: [{ index: 0, keys }] }, { checksum: false });
  assert.deepEqual(unchecked.subarray(unchecked.length - 8), new Uint8Array(8));
  assert.equal(readRdbFile(unchecked).checksum, "disabled");
});

Deno.test("a key spanning thousands of small chunks is read whole", () => {
  const items = Array.from({ length: 50_000 }, (_, i) => `item-${i}`);
  const file = writeRdbFile({
    databases: [{ index: 0, keys: [{ key: "list", value: { type: "list", items } }] }],
  }, { compression: false });
  const reader = new RdbFileReader();
  const records = [];
  for (let offset = 0; offset < file.length; offset += 64) {
    records.push(...reader.push(file.subarray(offset, offset + 64)));
  }
  records.push(...reader.end());
  assert.deepEqual(records.map((record) => record.kind), [
    ...["aux", "aux", "aux", "aux", "aux", "select", "resize", "key"],
  ]);
  assert.deepEqual(records[7], readRdbFile(file).keys[0]);
});
