/**
 * Consumer groups of a stream: what XGROUP, XREADGROUP, XACK, XPENDING,
 * XCLAIM and XAUTOCLAIM read and change.
 *
 * The shapes are Redis 7.0's (stream.h): a group (streamCG) has a last
 * delivered ID, an `entries-read` counter, a PEL of every entry delivered
 * and not yet acknowledged, and consumers (streamConsumer) by name, each
 * with its own PEL. Both PELs hold the same PendingEntry objects
 * (streamNACK: delivery time, delivery count, owning consumer), so moving an
 * entry to another consumer (XCLAIM) changes one object and two indexes.
 * PELs are OrderedMaps keyed by StreamId, for XPENDING ranges and
 * XAUTOCLAIM scans in ID order with O(log n) insert and remove.
 *
 * Consumers are listed in name order and groups too (Redis keeps both in
 * radix trees): a Map plus a sort when listing, since XINFO is rare and
 * lookups by name are the hot path.
 *
 * Whatever needs the stream's entries (lag, entries-read upkeep, whether a
 * pending ID still exists) lives on Stream, which owns its groups.
 *
 * @module
 */

import { OrderedMap } from "./stream_ordered_map.ts";
import type { StreamId } from "./stream_id.ts";

/** `entries-read` when the group's position in the stream is not known (SCG_INVALID_ENTRIES_READ). */
export const INVALID_ENTRIES_READ = -1;

/** A delivered, unacknowledged entry (streamNACK). */
export class PendingEntry {
  constructor(
    readonly id: StreamId,
    /** Unix time in ms of the last delivery. */
    public deliveryTime: number,
    /** How many times the entry was delivered. */
    public deliveryCount: number,
    /** The consumer whose PEL holds the entry. */
    public consumer: Consumer,
  ) {}
}

/** A consumer of a group (streamConsumer). */
export class Consumer {
  /** This consumer's pending entries, by ID. */
  readonly pending = new OrderedMap<PendingEntry>();

  constructor(
    readonly name: string,
    /** Unix time in ms the consumer was last seen (XREADGROUP, XCLAIM...). */
    public seenTime: number,
  ) {}
}

/** What XPENDING's summary form reports. */
export interface PendingSummary {
  count: number;
  /** Smallest and largest pending IDs; undefined when nothing is pending. */
  first: StreamId | undefined;
  last: StreamId | undefined;
  /** Consumers with pending entries, in name order, with their counts. */
  consumers: Array<[name: string, count: number]>;
}

/** Filters of XPENDING's extended form. */
export interface PendingQuery {
  /** Inclusive bounds (the caller resolves `(` bounds). */
  start: StreamId;
  end: StreamId;
  count: number;
  /** Only entries idle (now - delivery time) at least this long, with `now`. */
  minIdle?: number;
  now?: number;
  /** Only this consumer's entries. */
  consumer?: Consumer;
}

/**
 * A consumer group.
 *
 * @example
 * ```ts
 * const group = new ConsumerGroup("workers", MIN_STREAM_ID, 0);
 * const alice = group.createConsumer("alice", Date.now())!;
 * group.deliver(id, alice, Date.now()); // XREADGROUP >
 * group.acknowledge(id); // XACK: true
 * ```
 */
export class ConsumerGroup {
  /** Every pending entry of the group, by ID. */
  readonly pending = new OrderedMap<PendingEntry>();
  readonly #consumers = new Map<string, Consumer>();

  constructor(
    readonly name: string,
    /** The last ID delivered to the group (XREADGROUP > reads after it). */
    public lastId: StreamId,
    /**
     * Entries read by the group, its logical position in the stream, or
     * INVALID_ENTRIES_READ when unknown (XINFO shows nil).
     */
    public entriesRead: number,
  ) {}

  /** Number of consumers. */
  get consumerCount(): number {
    return this.#consumers.size;
  }

  /** The consumer called `name`, undefined if there is none. */
  consumer(name: string): Consumer | undefined {
    return this.#consumers.get(name);
  }

  /** Creates consumer `name` (XGROUP CREATECONSUMER); undefined if it exists. */
  createConsumer(name: string, now: number): Consumer | undefined {
    if (this.#consumers.has(name)) return undefined;
    const consumer = new Consumer(name, now);
    this.#consumers.set(name, consumer);
    return consumer;
  }

  /**
   * Removes consumer `name` and its pending entries from the group
   * (XGROUP DELCONSUMER). Returns how many entries it had pending, or
   * undefined if there is no such consumer.
   */
  deleteConsumer(name: string): number | undefined {
    const consumer = this.#consumers.get(name);
    if (consumer === undefined) return undefined;
    const count = consumer.pending.size;
    for (const id of consumer.pending.keys()) this.pending.delete(id);
    this.#consumers.delete(name);
    return count;
  }

  /** Consumers in name order (XINFO CONSUMERS, XPENDING's summary). */
  consumers(): Consumer[] {
    return [...this.#consumers.values()].sort(byName);
  }

  /**
   * Records that entry `id` went to `consumer` (XREADGROUP without NOACK):
   * a new pending entry, or, when the ID was already pending (the group's
   * last ID was set back), that entry moved to `consumer` with its delivery
   * count reset to 1, as streamReplyWithRange does.
   */
  deliver(id: StreamId, consumer: Consumer, now: number): PendingEntry {
    const existing = this.pending.get(id);
    if (existing === undefined) {
      const entry = new PendingEntry(id, now, 1, consumer);
      this.pending.set(id, entry);
      consumer.pending.set(id, entry);
      return entry;
    }
    this.assign(existing, consumer);
    existing.deliveryTime = now;
    existing.deliveryCount = 1;
    return existing;
  }

  /** Moves pending `entry` to `consumer`'s PEL (XCLAIM, XAUTOCLAIM). */
  assign(entry: PendingEntry, consumer: Consumer): void {
    if (entry.consumer === consumer) return;
    entry.consumer.pending.delete(entry.id);
    entry.consumer = consumer;
    consumer.pending.set(entry.id, entry);
  }

  /**
   * Adds a pending entry for `id` if there is none (XCLAIM FORCE) and
   * returns the group's entry for it.
   */
  ensurePending(
    id: StreamId,
    consumer: Consumer,
    deliveryTime: number,
    deliveryCount: number,
  ): PendingEntry {
    const existing = this.pending.get(id);
    if (existing !== undefined) return existing;
    const entry = new PendingEntry(id, deliveryTime, deliveryCount, consumer);
    this.pending.set(id, entry);
    consumer.pending.set(id, entry);
    return entry;
  }

  /**
   * Removes `id` from the group's PEL and its consumer's (XACK, and XCLAIM or
   * XAUTOCLAIM dropping an entry deleted from the stream). False if it was
   * not pending.
   */
  acknowledge(id: StreamId): boolean {
    const entry = this.pending.get(id);
    if (entry === undefined) return false;
    this.pending.delete(id);
    entry.consumer.pending.delete(id);
    return true;
  }

  /** XPENDING's summary: count, smallest and largest ID, per-consumer counts. */
  summary(): PendingSummary {
    const consumers: Array<[string, number]> = [];
    for (const consumer of this.consumers()) {
      if (consumer.pending.size > 0) consumers.push([consumer.name, consumer.pending.size]);
    }
    return {
      count: this.pending.size,
      first: this.pending.firstKey(),
      last: this.pending.lastKey(),
      consumers,
    };
  }

  /**
   * XPENDING's extended form: up to `count` pending entries with IDs in
   * [start, end], in ID order, from the group's PEL or one consumer's, and
   * with IDLE only those idle at least `minIdle` ms.
   */
  pendingRange(query: PendingQuery): PendingEntry[] {
    const out: PendingEntry[] = [];
    if (query.count <= 0 || query.start > query.end) return out;
    const index = query.consumer === undefined ? this.pending : query.consumer.pending;
    const minIdle = query.minIdle ?? 0;
    const now = query.now ?? 0;
    index.range(query.start, query.end, (_id, entry) => {
      if (minIdle > 0 && now - entry.deliveryTime < minIdle) return true;
      out.push(entry);
      return out.length < query.count;
    });
    return out;
  }

  /** A copy whose pending entries and consumers are new objects (COPY). */
  clone(): ConsumerGroup {
    const copy = new ConsumerGroup(this.name, this.lastId, this.entriesRead);
    const consumers = new Map<Consumer, Consumer>();
    for (const consumer of this.#consumers.values()) {
      const twin = new Consumer(consumer.name, consumer.seenTime);
      copy.#consumers.set(twin.name, twin);
      consumers.set(consumer, twin);
    }
    for (const entry of this.pending.values()) {
      const owner = consumers.get(entry.consumer)!;
      const twin = new PendingEntry(entry.id, entry.deliveryTime, entry.deliveryCount, owner);
      copy.pending.set(twin.id, twin);
      owner.pending.set(twin.id, twin);
    }
    return copy;
  }
}

function byName(a: Consumer, b: Consumer): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
