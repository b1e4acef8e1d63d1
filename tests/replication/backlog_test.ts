/**
 * The replication backlog on its own: offsets as Redis counts them, the
 * ring wrapping around, what PSYNC can be served, and resizing.
 */

import assert from "node:assert/strict";
import { ReplicationBacklog } from "../../src/replication/backlog.ts";

const MIN = 16 * 1024;

function bytes(length: number, start = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (start + i) % 251);
}

Deno.test("a new backlog starts after the offset it is given and holds nothing", () => {
  const backlog = new ReplicationBacklog(MIN, 100);
  assert.equal(backlog.offset, 100);
  assert.equal(backlog.histlen, 0);
  assert.equal(backlog.firstByteOffset, 101);
  assert.ok(backlog.covers(101));
  assert.ok(!backlog.covers(100));
  assert.ok(!backlog.covers(102));
  assert.equal(backlog.readFrom(101).byteLength, 0);
});

Deno.test("the backlog returns the stream from any offset it still holds", () => {
  const backlog = new ReplicationBacklog(MIN, 0);
  backlog.append(bytes(1000));
  assert.equal(backlog.offset, 1000);
  assert.equal(backlog.firstByteOffset, 1);
  assert.deepEqual(backlog.readFrom(1), bytes(1000));
  assert.deepEqual(backlog.readFrom(501), bytes(500, 500));
  assert.ok(backlog.covers(1001));
  assert.ok(!backlog.covers(1002));
});

Deno.test("once full, the oldest bytes fall out and the ring wraps around", () => {
  const backlog = new ReplicationBacklog(MIN, 0);
  backlog.append(bytes(MIN - 10));
  backlog.append(bytes(100, MIN - 10));
  assert.equal(backlog.offset, MIN + 90);
  assert.equal(backlog.histlen, MIN);
  assert.equal(backlog.firstByteOffset, 91);
  assert.ok(!backlog.covers(90));
  assert.deepEqual(backlog.readFrom(91), bytes(MIN, 90));
  assert.deepEqual(backlog.readFrom(MIN + 50), bytes(41, MIN + 49));
  // A write longer than the ring keeps only its tail.
  backlog.append(bytes(3 * MIN, 7));
  assert.equal(backlog.histlen, MIN);
  assert.deepEqual(backlog.readFrom(backlog.firstByteOffset), bytes(MIN, 7 + 2 * MIN));
});

Deno.test("resizing keeps as much history as fits", () => {
  const backlog = new ReplicationBacklog(2 * MIN, 0);
  backlog.append(bytes(2 * MIN));
  backlog.resize(MIN);
  assert.equal(backlog.size, MIN);
  assert.equal(backlog.histlen, MIN);
  assert.deepEqual(backlog.readFrom(MIN + 1), bytes(MIN, MIN));
  backlog.resize(4 * MIN);
  assert.equal(backlog.histlen, MIN);
  backlog.append(bytes(10, 2 * MIN));
  assert.deepEqual(backlog.readFrom(MIN + 1), bytes(MIN + 10, MIN));
});
