/**
 * The thresholds at which Redis stops keeping a small collection in its
 * compact encoding: `hash-max-listpack-entries`/`-value`,
 * `zset-max-listpack-entries`/`-value`, `set-max-intset-entries` and
 * `list-max-listpack-size`.
 *
 * Collections are told the limits by whoever changes them, on each change,
 * instead of reading a module-level setting: the commands pass the live
 * configuration (whose fields have these very names, so `client.server.config`
 * is an `EncodingLimits` as it is), and code that builds values outside a
 * command (the RDB reader, tests) gets Redis 7.0's defaults unless it says
 * otherwise. That is also Redis's rule for CONFIG SET: a new limit applies to
 * values created or converted afterwards, and a value already converted to
 * its big encoding never converts back.
 *
 * @module
 */

/** The encoding thresholds, named as the configuration names them. */
export interface EncodingLimits {
  /** A hash with more fields than this is a hash table. */
  readonly hashMaxListpackEntries: number;
  /** A hash with a longer field or value than this is a hash table. */
  readonly hashMaxListpackValue: number;
  /** A set of integers with more members than this is a hash table. */
  readonly setMaxIntsetEntries: number;
  /** A sorted set with more members than this is a skip list. */
  readonly zsetMaxListpackEntries: number;
  /** A sorted set with a longer member than this is a skip list. */
  readonly zsetMaxListpackValue: number;
  /**
   * Size of a list node: negative, a byte budget (-1: 4 KB ... -5: 64 KB);
   * positive, a number of entries (within an 8 KB safety limit).
   */
  readonly listMaxListpackSize: number;
}

/**
 * Redis 7.0's defaults.
 *
 * @example
 * ```ts
 * new Hash().store("field", "value", DEFAULT_ENCODING_LIMITS);
 * ```
 */
export const DEFAULT_ENCODING_LIMITS: EncodingLimits = Object.freeze({
  hashMaxListpackEntries: 512,
  hashMaxListpackValue: 64,
  setMaxIntsetEntries: 512,
  zsetMaxListpackEntries: 128,
  zsetMaxListpackValue: 64,
  listMaxListpackSize: -2,
});
