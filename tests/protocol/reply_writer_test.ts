import assert from "node:assert/strict";
import { formatDouble, parseDouble } from "../../src/protocol/doubles.ts";
import { ReplyWriter } from "../../src/protocol/reply_writer.ts";

function encode(protocol: 2 | 3, write: (writer: ReplyWriter) => void): string {
  const writer = new ReplyWriter();
  writer.protocol = protocol;
  write(writer);
  return new TextDecoder("latin1").decode(writer.take());
}

Deno.test("reply writer: scalar replies", () => {
  assert.equal(encode(2, (w) => w.simple("OK")), "+OK\r\n");
  assert.equal(encode(2, (w) => w.error("ERR bad\r\nthing")), "-ERR bad  thing\r\n");
  assert.equal(encode(2, (w) => w.integer(0)), ":0\r\n");
  assert.equal(encode(2, (w) => w.integer(-1234567890123)), ":-1234567890123\r\n");
  assert.equal(encode(2, (w) => w.integer(9223372036854775807n)), ":9223372036854775807\r\n");
  assert.equal(encode(2, (w) => w.integer(9007199254740991)), ":9007199254740991\r\n");
  assert.equal(encode(2, (w) => w.bulk("")), "$0\r\n\r\n");
  assert.equal(encode(2, (w) => w.bulk("a\r\nb")), "$4\r\na\r\nb\r\n");
  const long = "y".repeat(100);
  assert.equal(encode(2, (w) => w.bulk(long)), `$100\r\n${long}\r\n`);
});

Deno.test("reply writer: binary strings are written one byte per character", () => {
  const writer = new ReplyWriter();
  writer.bulk("\u00ff\u0000\u0080");
  assert.deepEqual([...writer.take()], [36, 51, 13, 10, 255, 0, 128, 13, 10]);
});

Deno.test("reply writer: RESP2 and RESP3 forms of the same reply", () => {
  const map = (w: ReplyWriter) => {
    w.mapHeader(1);
    w.bulk("a");
    w.bulk("1");
  };
  assert.equal(encode(2, map), "*2\r\n$1\r\na\r\n$1\r\n1\r\n");
  assert.equal(encode(3, map), "%1\r\n$1\r\na\r\n$1\r\n1\r\n");
  assert.equal(encode(2, (w) => w.nullBulk()), "$-1\r\n");
  assert.equal(encode(3, (w) => w.nullBulk()), "_\r\n");
  assert.equal(encode(2, (w) => w.nullArray()), "*-1\r\n");
  assert.equal(encode(3, (w) => w.nullArray()), "_\r\n");
  assert.equal(encode(2, (w) => w.double(1.5)), "$3\r\n1.5\r\n");
  assert.equal(encode(3, (w) => w.double(1.5)), ",1.5\r\n");
  assert.equal(encode(3, (w) => w.double(-Infinity)), ",-inf\r\n");
  assert.equal(encode(2, (w) => w.bool(true)), ":1\r\n");
  assert.equal(encode(3, (w) => w.bool(false)), "#f\r\n");
  assert.equal(encode(2, (w) => w.setHeader(2)), "*2\r\n");
  assert.equal(encode(3, (w) => w.setHeader(2)), "~2\r\n");
  assert.equal(encode(3, (w) => w.pushHeader(3)), ">3\r\n");
  assert.equal(encode(3, (w) => w.verbatim("hi")), "=6\r\ntxt:hi\r\n");
  assert.equal(encode(2, (w) => w.verbatim("hi")), "$2\r\nhi\r\n");
});

Deno.test("reply writer: grows past its initial buffer", () => {
  const writer = new ReplyWriter();
  const value = "z".repeat(1 << 20);
  for (let i = 0; i < 3; i++) writer.bulk(value);
  assert.equal(writer.take().byteLength, 3 * (value.length + 12));
});

Deno.test("doubles print like Redis 7.0's %.17g", () => {
  assert.equal(formatDouble(1.1), "1.1000000000000001");
  assert.equal(formatDouble(1), "1");
  assert.equal(formatDouble(-2.5), "-2.5");
  assert.equal(formatDouble(0.1), "0.10000000000000001");
  assert.equal(formatDouble(1e20), "1e+20");
  assert.equal(formatDouble(1.5e-7), "1.4999999999999999e-07");
  assert.equal(formatDouble(123456789012345678), "1.2345678901234568e+17");
  assert.equal(formatDouble(12345678901234567), "12345678901234568");
  assert.equal(formatDouble(Infinity), "inf");
  assert.equal(formatDouble(-0), "-0");
});

Deno.test("doubles parse like strtod with Redis's checks", () => {
  assert.equal(parseDouble("1.5"), 1.5);
  assert.equal(parseDouble("-inf"), -Infinity);
  assert.equal(parseDouble("+INF"), Infinity);
  assert.equal(parseDouble("1e3"), 1000);
  assert.equal(parseDouble(".5"), 0.5);
  assert.equal(parseDouble("5."), 5);
  assert.equal(parseDouble("0x10"), 16);
  assert.equal(parseDouble("nan"), undefined);
  assert.equal(parseDouble(" 1"), undefined);
  assert.equal(parseDouble("1 "), undefined);
  assert.equal(parseDouble("abc"), undefined);
  assert.equal(parseDouble(""), undefined);
  assert.equal(parseDouble("1e400"), undefined);
});
