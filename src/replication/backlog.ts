/**
 * The replication backlog: the last `repl-backlog-size` bytes of the
 * replication stream, so a replica that lost its link for a moment gets
 * `+CONTINUE` and only what it missed instead of a full resynchronisation.
 *
 * A fixed ring of bytes, as Redis's backlog before 7.0 kept it (7.0 shares
 * its reply blocks with the replicas' output buffers; here the replicas'
 * sockets queue their own copies, so the ring is the simplest shape that
 * bounds memory). Offsets are Redis's: the stream's first byte is offset 1,
 * `offset` is the last byte written (`master_repl_offset`), and the backlog
 * holds `firstByteOffset .. offset` (`histlen` bytes). A replica asking for
 * `PSYNC <replid> <n>` wants the bytes from `n` on, which the backlog can
 * give when `firstByteOffset <= n <= offset + 1`.
 *
 * @module
 */

/** The last bytes of the replication stream, addressed by stream offset. */
export class ReplicationBacklog {
  #ring: Uint8Array;
  /** Where the next byte goes in the ring. */
  #index = 0;
  #histlen = 0;
  #offset: number;

  /** An empty backlog of `size` bytes whose next byte will be offset `offset + 1`. */
  constructor(size: number, offset: number) {
    this.#ring = new Uint8Array(Math.max(size, 16 * 1024));
    this.#offset = offset;
  }

  /** The offset of the last byte written (`master_repl_offset`). */
  get offset(): number {
    return this.#offset;
  }

  /** Bytes held (`repl_backlog_histlen`). */
  get histlen(): number {
    return this.#histlen;
  }

  /** The offset of the oldest byte held (`repl_backlog_first_byte_offset`). */
  get firstByteOffset(): number {
    return this.#offset - this.#histlen + 1;
  }

  /** Capacity in bytes (`repl_backlog_size`). */
  get size(): number {
    return this.#ring.byteLength;
  }

  /** Appends stream bytes; the oldest ones fall out once the ring is full. */
  append(bytes: Uint8Array): void {
    const ring = this.#ring;
    const capacity = ring.byteLength;
    let source = bytes;
    if (source.byteLength > capacity) source = source.subarray(source.byteLength - capacity);
    const first = Math.min(source.byteLength, capacity - this.#index);
    ring.set(source.subarray(0, first), this.#index);
    if (first < source.byteLength) ring.set(source.subarray(first), 0);
    this.#index = (this.#index + source.byteLength) % capacity;
    this.#histlen = Math.min(capacity, this.#histlen + source.byteLength);
    this.#offset += bytes.byteLength;
  }

  /** Whether the stream from offset `from` on can be served from here. */
  covers(from: number): boolean {
    return from >= this.firstByteOffset && from <= this.#offset + 1;
  }

  /** A copy of the stream from offset `from` to the end; check `covers` first. */
  readFrom(from: number): Uint8Array {
    const length = this.#offset + 1 - from;
    const out = new Uint8Array(length);
    if (length === 0) return out;
    const capacity = this.#ring.byteLength;
    const start = (this.#index - length + capacity) % capacity;
    const first = Math.min(length, capacity - start);
    out.set(this.#ring.subarray(start, start + first));
    if (first < length) out.set(this.#ring.subarray(0, length - first), first);
    return out;
  }

  /**
   * Changes the capacity (CONFIG SET repl-backlog-size). The history is
   * kept when it fits, as Redis's resizeReplicationBacklog does; the
   * oldest bytes go otherwise.
   */
  resize(size: number): void {
    const capacity = Math.max(size, 16 * 1024);
    if (capacity === this.#ring.byteLength) return;
    const kept = Math.min(this.#histlen, capacity);
    const history = this.readFrom(this.#offset + 1 - kept);
    this.#ring = new Uint8Array(capacity);
    this.#ring.set(history);
    this.#index = kept % capacity;
    this.#histlen = kept;
  }
}
