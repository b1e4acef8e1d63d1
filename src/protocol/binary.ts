/**
 * Binary strings: the value representation of the whole server.
 *
 * Every key, argument and stored string is a JavaScript string holding one
 * byte per UTF-16 code unit (code units 0-255, "latin1"). V8 stores such
 * strings as one-byte strings, so they cost one byte per byte of data, they
 * are binary safe (CR LF and NUL are ordinary characters), they compare in
 * byte order (what Redis's memcmp-based ordering needs), and they can be Map
 * keys without any conversion. Converting to and from socket bytes uses the
 * runtime's native latin1 codec, which is a plain copy.
 *
 * @module
 */

import { Buffer } from "node:buffer";

/** The latin1 fast paths Node's Buffer has but its type declarations omit. */
interface Latin1Codec {
  latin1Slice(start: number, end: number): string;
  latin1Write(value: string, offset: number, length?: number): number;
}

/** A Buffer view with the native latin1 codec exposed. */
export type BinaryBuffer = Buffer & Latin1Codec;

/** Wraps `bytes` (sharing its memory) so binary strings can be sliced out of it. */
export function binaryView(bytes: Uint8Array): BinaryBuffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as BinaryBuffer;
}

/** The binary string for a byte array. */
export function bytesToBinary(bytes: Uint8Array): string {
  return binaryView(bytes).latin1Slice(0, bytes.byteLength);
}

/** The bytes of a binary string. */
export function binaryToBytes(value: string): Uint8Array {
  return Buffer.from(value, "latin1");
}

/** Encodes text (UTF-8) as a binary string, for messages built from JS text. */
export function textToBinary(text: string): string {
  return bytesToBinary(new TextEncoder().encode(text));
}

/** Decodes a binary string holding UTF-8 back to JS text, for logs and file names. */
export function binaryToText(value: string): string {
  return new TextDecoder().decode(binaryToBytes(value));
}
