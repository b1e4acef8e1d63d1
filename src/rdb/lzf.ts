/**
 * LZF, the compression of RDB strings (`rdbcompression yes`): liblzf's
 * format as Redis vendors it in `lzf_c.c` and `lzf_d.c`.
 *
 * The compressed stream is a sequence of runs: a control byte below 32
 * copies the next ctrl+1 bytes literally; otherwise its top 3 bits are a
 * length (7 meaning "add the next byte") and the low 5 bits plus the next
 * byte an offset back into the output, and length+2 bytes are copied from
 * there (possibly overlapping, which makes runs of one byte cheap).
 *
 * Decompression checks every reference against both buffers (liblzf's
 * CHECK_INPUT), so corrupt input is an error, never a read out of bounds.
 * Compression follows liblzf's VERY_FAST variant with a 64K-slot hash table
 * of 3-byte prefixes. Redis does not clear that table between calls, so its
 * output depends on what it compressed before; ours starts clean each time
 * (stale slots are told apart by a moving base instead of clearing 256 KB
 * per string). Redis's stale slots point into earlier, freed buffers and
 * fail its bounds check, so in practice the output is Redis's byte for
 * byte (its unrolled match loop included); in any case it is a valid LZF
 * stream that any Redis decompresses.
 *
 * @module
 */

const HASH_LOG = 16;
const HASH_SIZE = 1 << HASH_LOG;
const MAX_LITERAL = 1 << 5;
const MAX_OFFSET = 1 << 13;
const MAX_REFERENCE = (1 << 8) + (1 << 3);

/**
 * The longest output any input of `compressedLength` bytes can decompress to:
 * a 3-byte back reference expands to at most 264 bytes.
 */
export function lzfMaxExpansion(compressedLength: number): number {
  return Math.ceil(compressedLength / 3) * MAX_REFERENCE + MAX_LITERAL;
}

/**
 * Decompresses `input[start, end)` into exactly `outputLength` bytes, or
 * returns undefined if the stream is invalid or does not produce exactly
 * that many bytes (Redis's "Invalid LZF compressed string").
 *
 * @example
 * ```ts
 * const packed = new Uint8Array(64);
 * const size = lzfCompress(new Uint8Array(100), 0, 100, packed, 0, 64);
 * lzfDecompress(packed, 0, size, 100); // 100 zero bytes
 * ```
 */
export function lzfDecompress(
  input: Uint8Array,
  start: number,
  end: number,
  outputLength: number,
): Uint8Array | undefined {
  const output = new Uint8Array(outputLength);
  let inputIndex = start;
  let outputIndex = 0;
  // lzf_decompress returns 0 for a zero-length output, which Redis accepts.
  if (outputLength === 0) return output;
  if (inputIndex >= end) return undefined;
  while (inputIndex < end) {
    let control = input[inputIndex++]!;
    if (control < 32) {
      control++;
      if (outputIndex + control > outputLength || inputIndex + control > end) return undefined;
      for (let i = 0; i < control; i++) output[outputIndex++] = input[inputIndex++]!;
    } else {
      let length = control >>> 5;
      let reference = outputIndex - ((control & 0x1f) << 8) - 1;
      if (inputIndex >= end) return undefined;
      if (length === 7) {
        length += input[inputIndex++]!;
        if (inputIndex >= end) return undefined;
      }
      reference -= input[inputIndex++]!;
      length += 2;
      if (outputIndex + length > outputLength || reference < 0) return undefined;
      // Byte by byte: the source may overlap the bytes this same run writes.
      for (let i = 0; i < length; i++) output[outputIndex++] = output[reference++]!;
    }
  }
  return outputIndex === outputLength ? output : undefined;
}

/** Reusable hash table; slots hold `base + position`, anything below `base` is stale. */
const table = new Int32Array(HASH_SIZE);
let tableBase = 1;

function hashIndex(value: number): number {
  return ((value >>> (3 * 8 - HASH_LOG)) - Math.imul(value, 5)) & (HASH_SIZE - 1);
}

/**
 * Compresses `input[start, end)` into `output` from `outputStart`, using at
 * most `outputLimit` bytes. Returns the compressed size, or 0 when the
 * result would not fit (the caller then stores the data uncompressed, as
 * Redis does when compression saves fewer than 4 bytes).
 */
export function lzfCompress(
  input: Uint8Array,
  start: number,
  end: number,
  output: Uint8Array,
  outputStart: number,
  outputLimit: number,
): number {
  const inputLength = end - start;
  if (inputLength === 0 || outputLimit === 0) return 0;
  if (tableBase + inputLength + 2 > 0x7fff_0000) {
    table.fill(0);
    tableBase = 1;
  }
  const base = tableBase - start;
  tableBase += inputLength + 2;

  const outputEnd = outputStart + outputLimit;
  let outputIndex = outputStart;
  let inputIndex = start;
  let literal = 0;
  outputIndex++; // start a run

  let hash = inputLength >= 2 ? (input[start]! << 8) | input[start + 1]! : 0;
  while (inputIndex < end - 2) {
    hash = ((hash << 8) | input[inputIndex + 2]!) >>> 0;
    const slot = hashIndex(hash);
    const reference = table[slot]! - base;
    table[slot] = inputIndex + base;
    const offset = inputIndex - reference - 1;
    if (
      reference > start && offset >= 0 && offset < MAX_OFFSET &&
      input[reference + 2] === input[inputIndex + 2] &&
      input[reference] === input[inputIndex] && input[reference + 1] === input[inputIndex + 1]
    ) {
      let length = 2;
      let maxLength = end - inputIndex - length;
      if (maxLength > MAX_REFERENCE) maxLength = MAX_REFERENCE;
      if (
        outputIndex + 3 + 1 >= outputEnd && outputIndex - (literal ? 0 : 1) + 3 + 1 >= outputEnd
      ) {
        return 0;
      }
      output[outputIndex - literal - 1] = literal - 1; // stop the run
      if (literal === 0) outputIndex--; // undo an empty run
      // liblzf first compares up to 16 bytes unrolled, without the maxlen
      // bound (still inside the input: maxlen > 16 leaves room), so a match
      // can end a little further than the bound; Redis's output depends on it.
      let matched = true;
      if (maxLength > 16) {
        for (let k = 0; k < 16; k++) {
          length++;
          if (input[reference + length] !== input[inputIndex + length]) {
            matched = false;
            break;
          }
        }
      }
      if (matched) {
        do length++; while (
          length < maxLength && input[reference + length] === input[inputIndex + length]
        );
      }
      length -= 2;
      inputIndex++;
      if (length < 7) {
        output[outputIndex++] = (offset >>> 8) + (length << 5);
      } else {
        output[outputIndex++] = (offset >>> 8) + (7 << 5);
        output[outputIndex++] = length - 7;
      }
      output[outputIndex++] = offset & 0xff;
      literal = 0;
      outputIndex++; // start a run
      inputIndex += length + 1;
      if (inputIndex >= end - 2) break;
      // VERY_FAST: hash the two positions before the new one too.
      inputIndex -= 2;
      hash = (input[inputIndex]! << 8) | input[inputIndex + 1]!;
      hash = ((hash << 8) | input[inputIndex + 2]!) >>> 0;
      table[hashIndex(hash)] = inputIndex + base;
      inputIndex++;
      hash = ((hash << 8) | input[inputIndex + 2]!) >>> 0;
      table[hashIndex(hash)] = inputIndex + base;
      inputIndex++;
    } else {
      if (outputIndex >= outputEnd) return 0;
      literal++;
      output[outputIndex++] = input[inputIndex++]!;
      if (literal === MAX_LITERAL) {
        output[outputIndex - literal - 1] = literal - 1;
        literal = 0;
        outputIndex++;
      }
    }
  }
  if (outputIndex + 3 > outputEnd) return 0;
  while (inputIndex < end) {
    literal++;
    output[outputIndex++] = input[inputIndex++]!;
    if (literal === MAX_LITERAL) {
      output[outputIndex - literal - 1] = literal - 1;
      literal = 0;
      outputIndex++;
    }
  }
  output[outputIndex - literal - 1] = literal - 1;
  if (literal === 0) outputIndex--;
  return outputIndex - outputStart;
}
