/**
 * The ACL log: recent failed logins and denied commands, keys and channels,
 * newest first, as ACL LOG shows them (acl.c's addACLLogEntry).
 *
 * Like Redis 7.0, a new event that matches one of the 10 newest entries
 * (same reason, context, object and username, within 60 seconds of it)
 * does not add an entry: it bumps that entry's count, takes its time and
 * client description, and moves it to the front. The log holds at most
 * `acllog-max-len` entries, trimmed from the oldest when an entry is added.
 * 7.0 has no entry ids or creation timestamps (7.2 added them).
 *
 * @module
 */

import type { AclDenialReason } from "./errors.ts";

/** Why an entry was logged: a denial, or a failed AUTH/HELLO. */
export type AclLogReason = AclDenialReason | "auth";

/** Where the denied request ran. */
export type AclLogContext = "toplevel" | "multi" | "lua" | "module";

/** One event to log. */
export interface AclLogEvent {
  readonly reason: AclLogReason;
  readonly context: AclLogContext;
  /** The command's full name, the key or channel, or for AUTH the command as sent. */
  readonly object: string;
  readonly username: string;
  /** The client's CLIENT INFO line. */
  readonly clientInfo: string;
}

/** One entry of ACL LOG. */
export interface AclLogEntry extends AclLogEvent {
  count: number;
  /** Unix time in ms of the last event counted in this entry. */
  time: number;
}

/** How many of the newest entries a new event is compared with. */
const GROUPING_SCAN = 10;
/** Events further apart than this (ms) are never grouped. */
const GROUPING_MAX_DELTA = 60_000;

export class AclLog {
  #entries: AclLogEntry[] = [];

  constructor(
    /** `acllog-max-len`. */
    public maxLength = 128,
    readonly clock: () => number = Date.now,
  ) {}

  /** How many entries there are. */
  get length(): number {
    return this.#entries.length;
  }

  /** Records an event, grouping it with a recent identical one. */
  add(event: AclLogEvent): void {
    const now = this.clock();
    const entries = this.#entries;
    const scan = Math.min(GROUPING_SCAN, entries.length);
    for (let i = 0; i < scan; i++) {
      const entry = entries[i]!;
      if (
        entry.reason === event.reason && entry.context === event.context &&
        Math.abs(entry.time - now) <= GROUPING_MAX_DELTA && entry.object === event.object &&
        entry.username === event.username
      ) {
        entries.splice(i, 1);
        entries.unshift({
          ...entry,
          clientInfo: event.clientInfo,
          time: now,
          count: entry.count + 1,
        });
        return;
      }
    }
    entries.unshift({ ...event, count: 1, time: now });
    if (entries.length > this.maxLength) entries.length = Math.max(this.maxLength, 0);
  }

  /** The `count` newest entries, newest first. */
  recent(count: number): readonly AclLogEntry[] {
    return this.#entries.slice(0, Math.max(count, 0));
  }

  /** ACL LOG RESET. */
  reset(): void {
    this.#entries = [];
  }
}
