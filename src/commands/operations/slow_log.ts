/**
 * The slow log (SLOWLOG): the latest commands that ran for at least
 * `slowlog-log-slower-than` microseconds, newest first, at most
 * `slowlog-max-len` of them.
 *
 * It follows Redis's slowlog.c: each entry keeps an id that grows for the
 * life of the server (SLOWLOG RESET does not restart it), the Unix time,
 * the duration, the client's address and name, and the arguments as the
 * client sent them with Redis's bounds (32 arguments, the last of them
 * saying how many more there were; 128 bytes per argument, then how many
 * more bytes) and with passwords already redacted. Entries are copies, so
 * the request's argument array is not retained.
 *
 * @module
 */

/** Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING. */
const MAX_ARGUMENTS = 32;
const MAX_ARGUMENT_BYTES = 128;

/** One slow log entry, as SLOWLOG GET reports it. */
export interface SlowLogEntry {
  readonly id: number;
  /** Unix time in seconds. */
  readonly time: number;
  readonly microseconds: number;
  readonly args: readonly string[];
  readonly clientAddress: string;
  readonly clientName: string;
}

/** The arguments an entry keeps, bounded as Redis's slowlogCreateEntry bounds them. */
export function boundedArguments(args: readonly string[]): string[] {
  const count = Math.min(args.length, MAX_ARGUMENTS);
  const kept: string[] = [];
  for (let i = 0; i < count; i++) {
    if (count === MAX_ARGUMENTS && i === count - 1 && args.length > MAX_ARGUMENTS) {
      kept.push(`... (${args.length - MAX_ARGUMENTS + 1} more arguments)`);
      break;
    }
    const arg = args[i]!;
    kept.push(
      arg.length > MAX_ARGUMENT_BYTES
        ? `${arg.slice(0, MAX_ARGUMENT_BYTES)}... (${arg.length - MAX_ARGUMENT_BYTES} more bytes)`
        : arg,
    );
  }
  return kept;
}

export class SlowLog {
  /** Newest last (pushing is the hot operation); SLOWLOG GET reads it backwards. */
  readonly #entries: SlowLogEntry[] = [];
  #nextId = 0;

  get length(): number {
    return this.#entries.length;
  }

  /** Adds an entry and trims the log to `maxLength` entries. */
  push(
    args: readonly string[],
    microseconds: number,
    clientAddress: string,
    clientName: string,
    maxLength: number,
  ): void {
    this.#entries.push({
      id: this.#nextId++,
      time: Math.floor(Date.now() / 1000),
      microseconds,
      args: boundedArguments(args),
      clientAddress,
      clientName,
    });
    this.trim(maxLength);
  }

  /** Drops the oldest entries beyond `maxLength` (also when slowlog-max-len shrinks). */
  trim(maxLength: number): void {
    const excess = this.#entries.length - Math.max(maxLength, 0);
    if (excess > 0) this.#entries.splice(0, excess);
  }

  /** The newest `count` entries, newest first (all when count is -1). */
  newest(count: number): SlowLogEntry[] {
    const entries = this.#entries;
    const wanted = count < 0 ? entries.length : Math.min(count, entries.length);
    const result: SlowLogEntry[] = [];
    for (let i = entries.length - 1; result.length < wanted; i--) result.push(entries[i]!);
    return result;
  }

  /** SLOWLOG RESET: forgets the entries; ids keep counting. */
  reset(): void {
    this.#entries.length = 0;
  }
}
