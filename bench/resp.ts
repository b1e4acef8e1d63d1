/**
 * The RESP2 client side shared by the benchmark scripts (bench.ts,
 * memory.ts, stream_memory.ts and the rows in bench/*.ts): encoding
 * commands, parsing the status, error, integer, bulk and array replies they
 * read, and one pipelined connection.
 *
 * The connection is deliberately minimal: no reconnects, no RESP3, no
 * pub/sub state. The benchmarks need to put exactly the bytes they chose on
 * the wire and to read replies without a client library's per-reply
 * overhead, which would limit both servers alike and hide the difference.
 *
 * @module
 */

import { binaryView } from "../src/protocol/binary.ts";

/** Loopback, where every benchmark runs. */
export const HOST = "127.0.0.1";

/** An error reply from the server (a value, not thrown). */
export class ReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReplyError";
  }
}

/** A parsed reply; strings are binary strings (one character per byte). */
export type Reply = string | number | null | ReplyError | Reply[];

/**
 * Parses the reply starting at `start` in `bytes[..end]`: the reply and the
 * offset after it, or undefined while the bytes do not hold all of it yet.
 * Strings are binary strings (one character per byte).
 *
 * @example
 * ```ts
 * parseReply(new TextEncoder().encode(":7\r\n"), 0); // [7, 4]
 * ```
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

/** Whether `reply` is Redis's "ERR unknown command ..." (a command not implemented yet). */
export function isUnknownCommand(reply: Reply): boolean {
  return reply instanceof ReplyError && reply.message.startsWith("ERR unknown command");
}

/**
 * Encodes one command as a RESP array of bulk strings. Arguments are binary
 * strings: each character is one byte.
 *
 * @example
 * ```ts
 * encodeCommand(["PING"]); // the bytes of "*1\r\n$4\r\nPING\r\n"
 * ```
 */
export function encodeCommand(args: readonly string[]): Uint8Array {
  let length = 0;
  const header = `*${args.length}\r\n`;
  const parts: string[] = [header];
  length += header.length;
  for (const arg of args) {
    const part = `$${arg.length}\r\n${arg}\r\n`;
    parts.push(part);
    length += part.length;
  }
  const bytes = new Uint8Array(length);
  binaryView(bytes).latin1Write(parts.join(""), 0, length);
  return bytes;
}

/** Races `promise` against a timer that runs `onTimeout` and rejects; the timer never outlives it. */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  onTimeout: () => void = () => {},
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`${what} timed out after ${(ms / 1000).toFixed(0)} s`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One TCP connection speaking RESP2: writes are whole byte arrays (a
 * pipelined batch is one write), replies are parsed one at a time from a
 * growing buffer, so any number of them can be in flight.
 */
export class RespConnection {
  #conn: Deno.TcpConn;
  #buffer = new Uint8Array(16 * 1024);
  #start = 0;
  #end = 0;
  #closed = false;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects to `port` on loopback with Nagle's algorithm off. */
  static async open(port: number): Promise<RespConnection> {
    const conn = await Deno.connect({ hostname: HOST, port });
    conn.setNoDelay(true);
    return new RespConnection(conn);
  }

  /** Writes all of `bytes`. */
  async send(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
  }

  /** Sends one command and reads its reply, closing the connection if none comes in time. */
  async command(args: readonly string[], timeoutMs = 60_000): Promise<Reply> {
    await this.send(encodeCommand(args));
    return await withTimeout(this.reply(), timeoutMs, args[0] ?? "command", () => this.close());
  }

  /** The next reply. */
  async reply(): Promise<Reply> {
    for (;;) {
      if (this.#end > this.#start) {
        const parsed = parseReply(this.#buffer, this.#start, this.#end);
        if (parsed !== undefined) {
          this.#start = parsed[1];
          return parsed[0];
        }
      }
      await this.#fill();
    }
  }

  /** Reads and discards exactly `count` bytes (pub/sub deliveries of known size). */
  async skipBytes(count: number): Promise<void> {
    let remaining = count;
    for (;;) {
      const buffered = Math.min(remaining, this.#end - this.#start);
      this.#start += buffered;
      remaining -= buffered;
      if (remaining === 0) return;
      await this.#fill();
    }
  }

  async #fill(): Promise<void> {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end === this.#buffer.length) {
      const pending = this.#end - this.#start;
      const target = pending * 2 > this.#buffer.length
        ? new Uint8Array(this.#buffer.length * 2)
        : this.#buffer;
      target.set(this.#buffer.subarray(this.#start, this.#end));
      this.#buffer = target;
      this.#start = 0;
      this.#end = pending;
    }
    const read = await this.#conn.read(this.#buffer.subarray(this.#end));
    if (read === null) throw new Error("Connection closed by the server");
    this.#end += read;
  }

  /** Closes the socket; closing twice is harmless. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }
}
