import assert from "node:assert/strict";
import { bytesToBinary } from "../../src/protocol/binary.ts";
import {
  INLINE_MAX_SIZE,
  ProtocolError,
  RequestParser,
  splitInlineArguments,
} from "../../src/protocol/parser.ts";

const encoder = new TextEncoder();

function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Feeds `input` in the given pieces and collects every request. */
function parseInPieces(pieces: Uint8Array[]): string[][] {
  const parser = new RequestParser();
  const requests: string[][] = [];
  for (const piece of pieces) {
    parser.append(piece);
    for (let request = parser.next(); request !== undefined; request = parser.next()) {
      requests.push(request);
    }
  }
  return requests;
}

function parseError(input: string): string {
  const parser = new RequestParser();
  parser.append(bytes(input));
  try {
    while (parser.next() !== undefined) { /* drain */ }
  } catch (error) {
    assert.ok(error instanceof ProtocolError);
    return error.message;
  }
  assert.fail(`no protocol error for ${JSON.stringify(input)}`);
}

const PIPELINE = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n" +
  "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n" +
  "PING\r\n" +
  'SET a "b c"\n' +
  "*1\r\n$4\r\nPING\r\n";
const EXPECTED = [
  ["SET", "key", "va\r\nl"],
  ["GET", "key"],
  ["PING"],
  ["SET", "a", "b c"],
  ["PING"],
];

Deno.test("parser: a pipeline of multibulk and inline requests in one read", () => {
  assert.deepEqual(parseInPieces([bytes(PIPELINE)]), EXPECTED);
});

Deno.test("parser: the same pipeline split at every byte boundary", () => {
  const input = bytes(PIPELINE);
  for (let split = 1; split < input.length; split++) {
    assert.deepEqual(
      parseInPieces([input.subarray(0, split), input.subarray(split)]),
      EXPECTED,
      `split at ${split}`,
    );
  }
});

Deno.test("parser: the pipeline fed one byte at a time", () => {
  const input = bytes(PIPELINE);
  const pieces = Array.from(input, (_, i) => input.subarray(i, i + 1));
  assert.deepEqual(parseInPieces(pieces), EXPECTED);
});

Deno.test("parser: bulk strings are binary safe (NUL, CR LF, bytes >= 0x80)", () => {
  const value = new Uint8Array([0, 13, 10, 255, 128, 65]);
  const head = bytes(`*2\r\n$3\r\nSET\r\n$${value.length}\r\n`);
  const input = new Uint8Array([...head, ...value, 13, 10]);
  const [request] = parseInPieces([input]);
  assert.deepEqual(request, ["SET", bytesToBinary(value)]);
  assert.equal(request![1]!.length, 6);
  assert.equal(request![1]!.charCodeAt(3), 255);
});

Deno.test("parser: a large value arriving in many reads is assembled once", () => {
  const value = "x".repeat(1_000_000);
  const input = bytes(`*2\r\n$4\r\nECHO\r\n$${value.length}\r\n${value}\r\n`);
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < input.length; i += 7919) pieces.push(input.subarray(i, i + 7919));
  const requests = parseInPieces(pieces);
  assert.equal(requests.length, 1);
  assert.equal(requests[0]![1]!.length, value.length);
});

Deno.test("parser: empty multibulk requests and blank inline lines are skipped", () => {
  assert.deepEqual(parseInPieces([bytes("*0\r\n*-1\r\n\r\n   \r\nPING\r\n")]), [["PING"]]);
});

Deno.test("parser: protocol errors carry Redis's messages", () => {
  assert.equal(parseError("*abc\r\n"), "Protocol error: invalid multibulk length");
  assert.equal(parseError("*1\r\n$abc\r\n"), "Protocol error: invalid bulk length");
  assert.equal(parseError("*1\r\n$-1\r\n"), "Protocol error: invalid bulk length");
  assert.equal(parseError("*1\r\nx\r\n"), "Protocol error: expected '$', got 'x'");
  assert.equal(parseError('SET a "b\r\n'), "Protocol error: unbalanced quotes in request");
  assert.equal(parseError("*99999999999\r\n"), "Protocol error: invalid multibulk length");
  assert.equal(parseError("*1\r\n$536870913\r\n"), "Protocol error: invalid bulk length");
});

Deno.test("parser: oversized lines are rejected without waiting for them", () => {
  assert.equal(
    parseError("x".repeat(INLINE_MAX_SIZE + 1)),
    "Protocol error: too big inline request",
  );
  assert.equal(
    parseError("*" + "1".repeat(INLINE_MAX_SIZE + 1)),
    "Protocol error: too big mbulk count string",
  );
});

Deno.test("parser: a huge declared bulk length allocates nothing up front", () => {
  const parser = new RequestParser();
  parser.append(bytes("*2\r\n$3\r\nSET\r\n$536870912\r\nabc"));
  assert.equal(parser.next(), undefined);
  // Only the bytes received are buffered; the buffer did not grow to 512 MB.
  const region = parser.writableRegion(1);
  assert.ok(region.buffer.byteLength < 1024 * 1024, `buffer is ${region.buffer.byteLength}`);
});

Deno.test("inline splitting follows sdssplitargs quoting", () => {
  assert.deepEqual(splitInlineArguments(`SET a "b c"`), ["SET", "a", "b c"]);
  assert.deepEqual(splitInlineArguments(`SET 'it''s'`), undefined);
  assert.deepEqual(splitInlineArguments(`SET 'it\\'s'`), ["SET", "it's"]);
  assert.deepEqual(splitInlineArguments(`ECHO "\\x41\\n\\t\\\\"`), ["ECHO", "A\n\t\\"]);
  assert.deepEqual(splitInlineArguments(`ECHO "a"b`), undefined);
  assert.deepEqual(splitInlineArguments(`ECHO "abc`), undefined);
  assert.deepEqual(splitInlineArguments(`  a   b\tc  `), ["a", "b", "c"]);
  assert.deepEqual(splitInlineArguments(`a"b c"`), ["ab c"]);
  assert.deepEqual(splitInlineArguments(`""`), [""]);
  assert.deepEqual(splitInlineArguments(``), []);
});

Deno.test("parser: a region handed out stays where it is while requests are consumed", () => {
  // A blocked client resumed while a read is in flight consumes what is
  // buffered; the read then completes into the region it was given.
  const parser = new RequestParser();
  const encoder = new TextEncoder();
  const first = parser.writableRegion(16);
  first.set(encoder.encode("PING\r\n"));
  parser.commit(6);
  const second = parser.writableRegion(16);
  assert.deepEqual(parser.next(), ["PING"]);
  assert.equal(parser.next(), undefined);
  second.set(encoder.encode("ECHO x\r\n"));
  parser.commit(8);
  assert.deepEqual(parser.next(), ["ECHO", "x"]);
});
