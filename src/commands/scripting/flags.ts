/**
 * Script flags (Redis's scripts_flags_def): what a shebang `#!lua
 * flags=...` line or a function's `flags` table may declare, as bits, in
 * the order FUNCTION LIST prints them.
 *
 * @module
 */

/** The flags, in Redis's order; a flag's bit is 1 << its index. */
export const SCRIPT_FLAG_NAMES = [
  "no-writes",
  "allow-oom",
  "allow-stale",
  "no-cluster",
  "allow-cross-slot-keys",
] as const;

/** A flag's name. */
export type ScriptFlagName = typeof SCRIPT_FLAG_NAMES[number];

export const NO_WRITES = 1;
export const ALLOW_OOM = 2;
export const ALLOW_STALE = 4;
export const NO_CLUSTER = 8;
export const ALLOW_CROSS_SLOT_KEYS = 16;

/** The bit of a flag named `name` (exact spelling when `caseSensitive`), or 0. */
export function scriptFlagBit(name: string, caseSensitive: boolean): number {
  const wanted = caseSensitive ? name : name.toLowerCase();
  const index = (SCRIPT_FLAG_NAMES as readonly string[]).indexOf(wanted);
  return index < 0 ? 0 : 1 << index;
}

/** The names of the flags set in `flags`, in Redis's order. */
export function scriptFlagNames(flags: number): ScriptFlagName[] {
  return SCRIPT_FLAG_NAMES.filter((_, index) => (flags & (1 << index)) !== 0);
}
