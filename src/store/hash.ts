/**
 * Hash: the value of a hash key, a Map from field to value (binary strings)
 * that also knows which encoding Redis would report for it.
 *
 * Redis keeps small hashes as a listpack, in insertion order, which is the
 * order a Map iterates in, so HGETALL, HKEYS and HRANDFIELD answer exactly as
 * Redis does for them. Redis converts a hash to a hash table when it
 * outgrows the listpack limits (`hash-max-listpack-entries`, `-value`) and
 * never converts it back; the hash remembers having crossed that line, so
 * OBJECT ENCODING, HSCAN's one-call reply and COPY agree with Redis.
 *
 * @module
 */

/** Redis 7.0's default `hash-max-listpack-entries`. */
export const HASH_MAX_LISTPACK_ENTRIES = 512;
/** Redis's default `hash-max-listpack-value`: longest field or value of a listpack. */
export const HASH_MAX_LISTPACK_VALUE = 64;

export class Hash extends Map<string, string> {
  /** Redis would hold this hash as a hash table: it outgrew the listpack limits. */
  #hashTable = false;

  /** OBJECT ENCODING: "listpack" while small, "hashtable" once it outgrew that. */
  get encoding(): "listpack" | "hashtable" {
    return this.#hashTable ? "hashtable" : "listpack";
  }

  /** Stores `field` = `value`, noting the encoding Redis would now use. */
  store(field: string, value: string): void {
    this.set(field, value);
    if (
      field.length > HASH_MAX_LISTPACK_VALUE || value.length > HASH_MAX_LISTPACK_VALUE ||
      this.size > HASH_MAX_LISTPACK_ENTRIES
    ) {
      this.#hashTable = true;
    }
  }

  /** An independent copy with the same encoding (COPY). */
  copy(): Hash {
    const copy = new Hash(this);
    copy.#hashTable = this.#hashTable;
    return copy;
  }
}
