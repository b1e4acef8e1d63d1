/**
 * RESP2 reply parsing shared by the benchmark scripts (bench.ts, memory.ts):
 * enough for the status, error, integer, bulk and array replies they read.
 *
 * @module
 */

import { binaryView } from "../src/protocol/binary.ts";

/** An error reply from the server (a value, not thrown). */
export class ReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReplyError";
  }
}

export type Reply = string | number | null | ReplyError | Reply[];

/**
 * Parses the reply starting at `start` in `bytes[..end]`: the reply and the
 * offset after it, or undefined while the bytes do not hold all of it yet.
 * Strings are binary strings (one character per byte).
 */
export function parseReply(
  bytes: Uint8Array,
  start: number,
  end = bytes.length,
): [Reply, number] | undefined {
  let cr = start;
  while (cr + 1 < end && !(bytes[cr] === 13 && bytes[cr + 1] === 10)) cr++;
  if (cr + 1 >= end) return undefined;
  const view = binaryView(bytes);
  const line = view.latin1Slice(start + 1, cr);
  const next = cr + 2;
  switch (bytes[start]) {
    case 43: // +
      return [line, next];
    case 45: // -
      return [new ReplyError(line), next];
    case 58: // :
      return [Number(line), next];
    case 36: { // $
      const length = Number(line);
      if (length < 0) return [null, next];
      if (end < next + length + 2) return undefined;
      return [view.latin1Slice(next, next + length), next + length + 2];
    }
    case 42: { // *
      const count = Number(line);
      if (count < 0) return [null, next];
      const items: Reply[] = [];
      let offset = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(bytes, offset, end);
        if (item === undefined) return undefined;
        items.push(item[0]);
        offset = item[1];
      }
      return [items, offset];
    }
    default:
      throw new Error(`Unexpected reply type byte ${bytes[start]} at offset ${start}`);
  }
}
