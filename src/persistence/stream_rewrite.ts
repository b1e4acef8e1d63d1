/**
 * The commands an AOF rewrite writes to recreate a stream, as Redis 7.0's
 * rewriteStreamObject writes them.
 *
 * A stream is more than its entries: the last generated ID (which XDEL and
 * XSETID can leave above the last entry), the entries-added counter and the
 * largest deleted ID (which the groups' lag depends on), and per consumer
 * group its last delivered ID, entries-read counter, consumers and pending
 * entries with their delivery time and count. So, in order:
 *
 * - one `XADD key <id> field value ...` per entry, or for an empty stream
 *   `XADD key MAXLEN 0 0-1 x y`, which creates the key and leaves it empty;
 * - `XSETID key <last-id> ENTRIESADDED <n> MAXDELETEDID <id>`;
 * - per group, in name order, `XGROUP CREATE key group <last-delivered-id>
 *   ENTRIESREAD <n>`, then per consumer, in name order, `XGROUP
 *   CREATECONSUMER` for one without pending entries, or for each of its
 *   pending entries `XCLAIM key group consumer 0 <id> TIME <ms> RETRYCOUNT
 *   <n> JUSTID FORCE`, which recreates the entry exactly (FORCE makes it
 *   pending, TIME and RETRYCOUNT restore its delivery).
 *
 * Like Redis, a pending entry whose stream entry was deleted is not
 * recreated (XCLAIM drops such entries), and a consumer's seen time starts
 * again at the load. Redis and this server load these files alike.
 *
 * It is a generator so the rewrite can yield between commands: a stream of
 * a million entries is a million XADDs.
 *
 * @module
 */

import type { Stream } from "../store/stream.ts";
import { formatStreamId } from "../store/stream_id.ts";

/**
 * The commands that recreate `stream` at `key`, one array of arguments each.
 *
 * @example
 * ```ts
 * for (const command of streamRewriteCommands("events", stream)) output.command(command);
 * // ["XADD", "events", "1-1", "f", "v"], ["XSETID", "events", "1-1", "ENTRIESADDED", "1", ...]
 * ```
 */
export function* streamRewriteCommands(key: string, stream: Stream): Generator<string[]> {
  if (stream.length > 0) {
    const iterator = stream.iterator();
    while (iterator.next()) yield ["XADD", key, iterator.idText(), ...iterator.fields()];
  } else {
    yield ["XADD", key, "MAXLEN", "0", "0-1", "x", "y"];
  }
  yield [
    "XSETID",
    key,
    formatStreamId(stream.lastId),
    "ENTRIESADDED",
    String(stream.entriesAdded),
    "MAXDELETEDID",
    formatStreamId(stream.maxDeletedEntryId),
  ];
  for (const group of stream.groups()) {
    yield [
      "XGROUP",
      "CREATE",
      key,
      group.name,
      formatStreamId(group.lastId),
      "ENTRIESREAD",
      String(group.entriesRead),
    ];
    for (const consumer of group.consumers()) {
      if (consumer.pending.size === 0) {
        yield ["XGROUP", "CREATECONSUMER", key, group.name, consumer.name];
        continue;
      }
      for (const entry of consumer.pending.values()) {
        yield [
          "XCLAIM",
          key,
          group.name,
          consumer.name,
          "0",
          formatStreamId(entry.id),
          "TIME",
          String(entry.deliveryTime),
          "RETRYCOUNT",
          String(entry.deliveryCount),
          "JUSTID",
          "FORCE",
        ];
      }
    }
  }
}
