/**
 * Password handling as Redis's acl.c does it: users keep only the SHA-256
 * of their passwords, as 64 lower-case hex digits (the `#<hash>` form ACL
 * LIST prints), and a login compares hashes in constant time
 * (time_independent_strcmp), so neither the stored data nor the reply time
 * gives a password away. ACL GENPASS draws from the system's secure
 * random source.
 *
 * Passwords are binary strings (one byte per code unit), as commands see
 * their arguments.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";

/** Length of a password hash in hex digits. */
export const HASH_LENGTH = 64;

/**
 * The SHA-256 of a password in lower-case hex (ACLHashPassword).
 *
 * @example
 * ```ts
 * hashPassword("foo"); // "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
 * ```
 */
export function hashPassword(password: string): string {
  return createHash("sha256").update(Buffer.from(password, "latin1")).digest("hex");
}

/** Whether `text` is a hash ACL rules accept: 64 digits `0-9a-f` (ACLCheckPasswordHash). */
export function isPasswordHash(text: string): boolean {
  if (text.length !== HASH_LENGTH) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!((code >= 48 && code <= 57) || (code >= 97 && code <= 102))) return false;
  }
  return true;
}

/** Compares two hashes without an early exit, so timing reveals nothing. */
export function hashesEqual(a: string, b: string): boolean {
  if (a.length !== HASH_LENGTH || b.length !== HASH_LENGTH) return false;
  return timingSafeEqual(Buffer.from(a, "latin1"), Buffer.from(b, "latin1"));
}

/**
 * A random password of `bits` bits as hex digits, rounded up to whole
 * digits (ACL GENPASS: 256 bits give 64 digits, 5 bits give 2).
 */
export function generatePassword(bits: number): string {
  const digits = Math.ceil(bits / 4);
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(digits / 2)));
  let text = "";
  for (const byte of bytes) text += byte.toString(16).padStart(2, "0");
  return text.slice(0, digits);
}
