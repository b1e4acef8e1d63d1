/**
 * Stream commands: appending and reading (XADD, XRANGE, XREVRANGE, XLEN,
 * XREAD), removing (XDEL, XTRIM), consumer groups (XGROUP, XREADGROUP,
 * XACK, XPENDING, XCLAIM, XAUTOCLAIM, XSETID) and introspection (XINFO).
 *
 * The storage is store/stream.ts and store/stream_group.ts; this file is
 * Redis 7.0's t_stream.c command layer over it, function by function
 * (xaddCommand, xreadCommand, xclaimCommand, ...), with the same order of
 * checks, since the first failing check decides which error a client sees.
 *
 * How each command reaches the AOF is Redis's too. XADD and XTRIM are
 * logged with what they did: the ID XADD chose instead of `*` or `<ms>-*`,
 * and an approximate trim (`~`) as the exact one that has the same result
 * (`MAXLEN = <length left>`, `MINID = <first ID left>`), as
 * streamRewriteTrimArgument does. XREADGROUP, XCLAIM and XAUTOCLAIM are
 * never logged as sent: every entry they deliver or claim is logged as an
 * idempotent `XCLAIM ... FORCE JUSTID LASTID <group's last ID>` with its
 * delivery time and count (streamPropagateXCLAIM), a NOACK read as
 * `XGROUP SETID ... ENTRIESREAD` (streamPropagateGroupID), so replaying the
 * log rebuilds the groups' pending lists and positions. One deliberate
 * addition: a read that moved the group also logs that XGROUP SETID after
 * its XCLAIMs, because XCLAIM cannot restore the group's entries-read
 * counter (Redis 7.0 shows entries-read and lag as nil after a restart).
 * Everything else is logged as sent.
 *
 * Blocking reads (XREAD BLOCK, XREADGROUP BLOCK) go through blocking.ts
 * like BLPOP. That machinery offers a waiter every change of its keys;
 * Redis wakes stream readers only on what signals a stream key ready (XADD,
 * XGROUP DESTROY, the key being created, deleted or replaced). So XADD and
 * XGROUP DESTROY bump a per-stream signal count, and a waiter goes on
 * waiting unless that count moved or the key holds another object: an
 * `XGROUP SETID` moving a group back, say, does not serve a blocked
 * XREADGROUP here either, exactly as in Redis.
 *
 * @module
 */

import type { Client } from "./client.ts";
import type { Config } from "../config.ts";
import { ReplyWriter } from "../protocol/reply_writer.ts";
import {
  defaultTrimLimit,
  Stream,
  type StreamIterator,
  type StreamNodeLimits,
} from "../store/stream.ts";
import {
  type Consumer,
  type ConsumerGroup,
  INVALID_ENTRIES_READ,
  PendingEntry,
} from "../store/stream_group.ts";
import {
  formatStreamId,
  MAX_STREAM_ID,
  MIN_STREAM_ID,
  nextStreamId,
  parseAddStreamId,
  type ParsedStreamId,
  parseStreamId,
  parseStreamRangeBound,
  parseStrictStreamId,
  previousStreamId,
  type StreamId,
} from "../store/stream_id.ts";
import { parseInt64, parseInteger, requireInteger } from "./arguments.ts";
import { lookupRead } from "./access.ts";
import { blockClient } from "./blocking.ts";
import {
  BLOCKED_GROUP_DESTROYED,
  BLOCKED_STREAM_DELETED,
  BUSY_GROUP,
  CommandError,
  DOLLAR_IN_XREADGROUP,
  ENTRIES_ADDED_NEGATIVE,
  ENTRIES_READ_INVALID,
  GREATER_THAN_OUTSIDE_GROUP,
  GROUP_ONLY_IN_XREADGROUP,
  INVALID_END_ID,
  INVALID_START_ID,
  invalidStreamArgument,
  LIMIT_WITHOUT_APPROXIMATION,
  LIMIT_WITHOUT_STRATEGY,
  MAXLEN_AND_MINID,
  NO_SUCH_KEY,
  NOACK_ONLY_IN_XREADGROUP,
  noGroupForRead,
  noSuchGroup,
  noSuchKeyOrGroup,
  STREAM_EXHAUSTED,
  STREAM_ID_INVALID,
  STREAM_LIMIT_NEGATIVE,
  STREAM_MAXLEN_NEGATIVE,
  STREAM_TIMEOUT_NOT_INTEGER,
  subcommandSyntaxError,
  SYNTAX_ERROR,
  TIMEOUT_NEGATIVE,
  unrecognizedXclaimOption,
  WRONG_TYPE,
  wrongArity,
  XADD_ID_TOO_SMALL,
  XADD_ID_ZERO,
  XAUTOCLAIM_COUNT_INVALID,
  XAUTOCLAIM_COUNT_TOO_HIGH,
  XGROUP_KEY_MISSING,
  XREAD_UNBALANCED,
  XREADGROUP_WITHOUT_GROUP,
  XSETID_BELOW_GIVEN_MAX_DELETED,
  XSETID_BELOW_TOP_ITEM,
  XSETID_ENTRIES_ADDED_TOO_SMALL,
  XTRIM_WITHOUT_STRATEGY,
} from "./errors.ts";
import { type Command, command, type CommandDeclaration, type KeyReference } from "./table.ts";

/** Keyspace notification class of stream events. */
const STREAM_EVENTS = "t";
/** XREAD's COUNT for a client served after blocking without one (XREAD_BLOCKED_DEFAULT_COUNT). */
const BLOCKED_DEFAULT_COUNT = 1000;
/** XAUTOCLAIM looks at up to COUNT times this many pending entries (attempts_factor). */
const AUTOCLAIM_ATTEMPTS_FACTOR = 10;
/** XAUTOCLAIM's largest COUNT: LONG_MAX / max(sizeof(streamID), attempts_factor). */
const AUTOCLAIM_MAX_COUNT = 576460752303423487n;
/**
 * Redis allocates COUNT stream IDs (16 bytes each) up front; past the
 * 128 TB of a 64-bit address space that allocation always fails.
 */
const AUTOCLAIM_ALLOCATABLE_COUNT = 2 ** 43;

/**
 * The time stream IDs, deliveries and consumers are stamped with: the
 * keyspace clock, except while the AOF loads, when that clock stands still
 * (so nothing expires) but XCLAIM's TIME must still be compared with now.
 */
const now = (client: Client): number =>
  client.server.loading ? Date.now() : client.server.keyspace.clock.now();

// ---------------------------------------------------------------------------
// Lookups and shared pieces

/** The stream at `key` for a read (counting a hit or miss); WRONGTYPE for another type. */
function streamForRead(client: Client, key: string): Stream | undefined {
  const value = lookupRead(client, key);
  if (value === undefined || value instanceof Stream) return value;
  throw new CommandError(WRONG_TYPE);
}

/** The stream at `key` for a write (lookupKeyWrite: no hit or miss counted). */
function streamForWrite(client: Client, key: string): Stream | undefined {
  const value = client.db.lookup(key);
  if (value === undefined || value instanceof Stream) return value;
  throw new CommandError(WRONG_TYPE);
}

/**
 * The node limits of the server's streams: the live configuration, read at
 * every append, so CONFIG SET stream-node-max-* applies to existing streams
 * as it does in Redis.
 */
const nodeLimits = new WeakMap<Config, StreamNodeLimits>();

function limitsOf(config: Config): StreamNodeLimits {
  let limits = nodeLimits.get(config);
  if (limits === undefined) {
    limits = {
      get nodeMaxBytes() {
        return config.streamNodeMaxBytes;
      },
      get nodeMaxEntries() {
        return config.streamNodeMaxEntries;
      },
    };
    nodeLimits.set(config, limits);
  }
  return limits;
}

/** A new, empty stream shaped by the server's configuration. */
export function newStream(client: Client): Stream {
  return new Stream(limitsOf(client.server.config));
}

/**
 * How often each stream was signalled ready (XADD, XGROUP DESTROY): what
 * blocked readers compare to tell Redis's wake-ups from other changes.
 */
const signals = new WeakMap<Stream, number>();

function signalReady(stream: Stream): void {
  signals.set(stream, (signals.get(stream) ?? 0) + 1);
}

function signalCount(stream: Stream): number {
  return signals.get(stream) ?? 0;
}

/** A strict ID (no `-`/`+`), or Redis's invalid-ID error. */
function strictId(text: string, missingSequence: "zero" | "max" = "zero"): StreamId {
  const id = parseStrictStreamId(text, missingSequence);
  if (id === undefined) throw new CommandError(STREAM_ID_INVALID);
  return id;
}

/**
 * A range's start bound (streamParseIntervalIDOrReply, then streamIncrID
 * for an exclusive one).
 */
function rangeStart(text: string): StreamId {
  const bound = parseStreamRangeBound(text, "zero");
  if (bound === undefined) throw new CommandError(STREAM_ID_INVALID);
  if (!bound.exclusive) return bound.id;
  const next = nextStreamId(bound.id);
  if (next === undefined) throw new CommandError(INVALID_START_ID);
  return next;
}

/** A range's end bound (an exclusive one stepped back with streamDecrID). */
function rangeEnd(text: string): StreamId {
  const bound = parseStreamRangeBound(text, "max");
  if (bound === undefined) throw new CommandError(STREAM_ID_INVALID);
  if (!bound.exclusive) return bound.id;
  const previous = previousStreamId(bound.id);
  if (previous === undefined) throw new CommandError(INVALID_END_ID);
  return previous;
}

/** One entry as Redis replies it: `[id, [field, value, ...]]`. */
function writeEntry(reply: ReplyWriter, idText: string, fields: readonly string[]): void {
  reply.arrayHeader(2);
  reply.bulk(idText);
  reply.arrayHeader(fields.length);
  for (let i = 0; i < fields.length; i++) reply.bulk(fields[i]!);
}

/**
 * Writes up to `count` entries of [start, end] (0: all) as an array
 * (streamReplyWithRange without a group) and returns how many.
 */
function writeRange(
  reply: ReplyWriter,
  stream: Stream,
  start: StreamId,
  end: StreamId,
  count: number,
  reverse: boolean,
): number {
  const ids: string[] = [];
  const fieldLists: string[][] = [];
  const iterator = stream.iterator(start, end, reverse);
  while ((count === 0 || ids.length < count) && iterator.next()) {
    ids.push(iterator.idText());
    fieldLists.push(iterator.fields());
  }
  reply.arrayHeader(ids.length);
  for (let i = 0; i < ids.length; i++) writeEntry(reply, ids[i]!, fieldLists[i]!);
  return ids.length;
}

/** Entry `id` as `[id, fields]`, or a null when it is gone (XCLAIM's and XINFO's single entries). */
function writeEntryOrNull(reply: ReplyWriter, stream: Stream, id: StreamId): void {
  const fields = stream.get(id);
  if (fields === undefined) reply.nullBulk();
  else writeEntry(reply, formatStreamId(id), fields);
}

/** The ID of the last live entry (streamLastValidID); 0-0 when there is none. */
function lastValidId(stream: Stream): StreamId {
  const iterator = stream.iterator(MIN_STREAM_ID, MAX_STREAM_ID, true);
  return iterator.next() ? iterator.id : MIN_STREAM_ID;
}

/**
 * A cursor on the first live entry after `after`, or undefined when there
 * is none: XREAD's "is there anything to serve" (streamLastValidID >
 * after) without walking the last node backwards.
 */
function entriesAfter(stream: Stream, after: StreamId): StreamIterator | undefined {
  if (stream.length === 0 || !(stream.lastId > after)) return undefined;
  const start = nextStreamId(after);
  if (start === undefined) return undefined;
  const iterator = stream.iterator(start, MAX_STREAM_ID);
  return iterator.next() ? iterator : undefined;
}

/**
 * Records a change of `key` Redis makes without a keyspace notification or
 * a WATCH signal (XACK, a group read): it still dirties the data and must
 * reach an AOF rewrite in progress.
 */
function changedQuietly(client: Client, key: string): void {
  client.changedUnsignalled(key, "", "");
}

// ---------------------------------------------------------------------------
// XADD and XTRIM

type TrimStrategy = "none" | "maxlen" | "minid";

/** What streamParseAddOrTrimArgsOrReply reads: the trim and, for XADD, the ID. */
interface AddTrimArguments {
  strategy: TrimStrategy;
  approximate: boolean;
  maxLength: number;
  minId: StreamId;
  /** 0: no limit. */
  limit: number;
  /** Position of the MAXLEN/MINID value, rewritten when the trim was approximate. */
  strategyIndex: number;
  /** XADD: position of the ID argument. */
  idIndex: number;
  /** XADD: the ID requested, undefined for `*`. */
  id: ParsedStreamId | undefined;
  noMakeStream: boolean;
}

/** streamParseAddOrTrimArgsOrReply: options of XADD (`xadd`) or XTRIM. */
function parseAddOrTrim(client: Client, args: readonly string[], xadd: boolean): AddTrimArguments {
  const parsed: AddTrimArguments = {
    strategy: "none",
    approximate: false,
    maxLength: 0,
    minId: MIN_STREAM_ID,
    limit: 0,
    strategyIndex: 0,
    idIndex: 0,
    id: undefined,
    noMakeStream: false,
  };
  let limitGiven = false;
  let i = 2;
  for (; i < args.length; i++) {
    const moreArgs = args.length - 1 - i;
    const option = args[i]!;
    if (xadd && option === "*") break;
    const upper = option.length <= 10 ? option.toUpperCase() : "";
    if ((upper === "MAXLEN" || upper === "MINID") && moreArgs > 0) {
      if (parsed.strategy !== "none") throw new CommandError(MAXLEN_AND_MINID);
      parsed.approximate = false;
      const next = args[i + 1]!;
      if (moreArgs >= 2 && next === "~") {
        parsed.approximate = true;
        i++;
      } else if (moreArgs >= 2 && next === "=") {
        i++;
      }
      const value = args[i + 1]!;
      if (upper === "MAXLEN") {
        parsed.maxLength = requireInteger(value);
        if (parsed.maxLength < 0) throw new CommandError(STREAM_MAXLEN_NEGATIVE);
        parsed.strategy = "maxlen";
      } else {
        parsed.minId = strictId(value);
        parsed.strategy = "minid";
      }
      i++;
      parsed.strategyIndex = i;
    } else if (upper === "LIMIT" && moreArgs > 0) {
      parsed.limit = requireInteger(args[i + 1]!);
      if (parsed.limit < 0) throw new CommandError(STREAM_LIMIT_NEGATIVE);
      limitGiven = true;
      i++;
    } else if (xadd && upper === "NOMKSTREAM") {
      parsed.noMakeStream = true;
    } else if (xadd) {
      const id = parseAddStreamId(option);
      if (id === undefined) throw new CommandError(STREAM_ID_INVALID);
      parsed.id = id;
      break;
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  parsed.idIndex = i;
  if (parsed.limit !== 0 && parsed.strategy === "none") {
    throw new CommandError(LIMIT_WITHOUT_STRATEGY);
  }
  if (!xadd && parsed.strategy === "none") throw new CommandError(XTRIM_WITHOUT_STRATEGY);
  if (client.server.loading) {
    // Commands from the AOF were rewritten to exact trims: never limit them.
    parsed.limit = 0;
  } else if (limitGiven) {
    if (!parsed.approximate) throw new CommandError(LIMIT_WITHOUT_APPROXIMATION);
  } else {
    parsed.limit = parsed.approximate ? defaultTrimLimit(limitsOf(client.server.config)) : 0;
  }
  return parsed;
}

/** streamTrim: the number of entries removed. */
function trim(stream: Stream, parsed: Readonly<AddTrimArguments>): number {
  if (parsed.strategy === "maxlen") {
    return stream.trimByLength(parsed.maxLength, parsed.approximate, parsed.limit);
  }
  return stream.trimByMinId(parsed.minId, parsed.approximate, parsed.limit);
}

/**
 * The command to log for an approximate trim: `~` becomes `=` and the
 * value what the trim left (streamRewriteApproxSpecifier and
 * streamRewriteTrimArgument), so a replay removes exactly the same entries.
 */
function rewriteApproximateTrim(
  effect: string[],
  stream: Stream,
  parsed: Readonly<AddTrimArguments>,
): void {
  effect[parsed.strategyIndex - 1] = "=";
  if (parsed.strategy === "maxlen") {
    effect[parsed.strategyIndex] = String(stream.length);
  } else {
    // streamGetEdgeID(first, tombstones included): the first node's master ID.
    let first = MAX_STREAM_ID;
    for (const [masterId] of stream.listpacks()) {
      first = masterId;
      break;
    }
    effect[parsed.strategyIndex] = formatStreamId(first);
  }
}

/** What `XADD key * field value ...` (no options, the common case) parses to. */
const AUTO_ID_ONLY: Readonly<AddTrimArguments> = Object.freeze({
  strategy: "none",
  approximate: false,
  maxLength: 0,
  minId: MIN_STREAM_ID,
  limit: 0,
  strategyIndex: 0,
  idIndex: 2,
  id: undefined,
  noMakeStream: false,
});

/** XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [...]. */
function xadd(client: Client, args: string[]): void {
  const parsed = args[2] === "*" ? AUTO_ID_ONLY : parseAddOrTrim(client, args, true);
  const fieldStart = parsed.idIndex + 1;
  const fieldArguments = args.length - fieldStart;
  if (fieldArguments < 2 || fieldArguments % 2 === 1) throw new CommandError(wrongArity("xadd"));
  const requested = parsed.id;
  if (requested !== undefined && requested.sequenceGiven && requested.id === MIN_STREAM_ID) {
    throw new CommandError(XADD_ID_ZERO);
  }
  const key = args[1]!;
  let stream = streamForWrite(client, key);
  if (stream === undefined) {
    if (parsed.noMakeStream) {
      client.reply.nullBulk();
      return;
    }
    stream = newStream(client);
    client.db.set(key, stream);
  }
  if (stream.isExhausted) throw new CommandError(STREAM_EXHAUSTED);
  const id = stream.resolveAddId(requested, now(client));
  if (id === undefined) throw new CommandError(XADD_ID_TOO_SMALL);
  stream.append(id, args, fieldStart);
  const idText = formatStreamId(id);
  client.reply.bulk(idText);
  signalReady(stream);
  client.changed(key, "xadd", STREAM_EVENTS);
  const effect = args.slice();
  if (requested === undefined || !requested.sequenceGiven) effect[parsed.idIndex] = idText;
  if (parsed.strategy !== "none") {
    if (trim(stream, parsed) > 0) client.changed(key, "xtrim", STREAM_EVENTS);
    if (parsed.approximate) rewriteApproximateTrim(effect, stream, parsed);
  }
  client.addEffect(effect);
}

/** XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]. */
function xtrim(client: Client, args: string[]): void {
  const parsed = parseAddOrTrim(client, args, false);
  const key = args[1]!;
  const stream = streamForWrite(client, key);
  if (stream === undefined) {
    client.reply.integer(0);
    return;
  }
  const removed = trim(stream, parsed);
  if (removed > 0) {
    client.changed(key, "xtrim", STREAM_EVENTS);
    const effect = args.slice();
    if (parsed.approximate) rewriteApproximateTrim(effect, stream, parsed);
    client.addEffect(effect);
  }
  client.reply.integer(removed);
}

/** XDEL key id [id ...]: every ID is checked before any entry goes. */
function xdel(client: Client, args: string[]): void {
  const key = args[1]!;
  const stream = streamForWrite(client, key);
  if (stream === undefined) {
    client.reply.integer(0);
    return;
  }
  const ids = args.slice(2).map((text) => strictId(text));
  let deleted = 0;
  for (const id of ids) if (stream.delete(id)) deleted++;
  if (deleted > 0) client.changed(key, "xdel", STREAM_EVENTS);
  client.reply.integer(deleted);
}

// ---------------------------------------------------------------------------
// XRANGE, XREVRANGE, XLEN

/** XRANGE key start end [COUNT n] and XREVRANGE key end start [COUNT n]. */
function xrange(client: Client, args: string[], reverse: boolean): void {
  const start = rangeStart(reverse ? args[3]! : args[2]!);
  const end = rangeEnd(reverse ? args[2]! : args[3]!);
  let count = -1;
  for (let j = 4; j < args.length; j++) {
    if (args[j]!.toUpperCase() === "COUNT" && j + 1 < args.length) {
      count = Math.max(0, requireInteger(args[j + 1]!));
      j++;
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  const stream = streamForRead(client, args[1]!);
  if (stream === undefined) {
    client.reply.arrayHeader(0);
    return;
  }
  if (count === 0) {
    client.reply.nullArray();
    return;
  }
  writeRange(client.reply, stream, start, end, count === -1 ? 0 : count, reverse);
}

function xlen(client: Client, args: string[]): void {
  client.reply.integer(streamForRead(client, args[1]!)?.length ?? 0);
}

// ---------------------------------------------------------------------------
// Consumer groups: delivering entries

/**
 * Looks consumer `name` up, refreshing its seen time (SLC_DEFAULT), or
 * creates it (streamCreateConsumer), announcing `xgroup-createconsumer`.
 * Returns it and whether it is new.
 */
function lookupOrCreateConsumer(
  client: Client,
  key: string,
  group: ConsumerGroup,
  name: string,
): [Consumer, boolean] {
  const time = now(client);
  const existing = group.consumer(name);
  if (existing !== undefined) {
    existing.seenTime = time;
    return [existing, false];
  }
  const created = group.createConsumer(name, time)!;
  client.changedUnsignalled(key, "xgroup-createconsumer", STREAM_EVENTS);
  return [created, true];
}

/** The XCLAIM that recreates pending `entry` of `group` (streamPropagateXCLAIM). */
function claimEffect(
  key: string,
  groupName: string,
  group: ConsumerGroup,
  idText: string,
  entry: PendingEntry,
): string[] {
  return [
    "XCLAIM",
    key,
    groupName,
    entry.consumer.name,
    "0",
    idText,
    "TIME",
    String(entry.deliveryTime),
    "RETRYCOUNT",
    String(entry.deliveryCount),
    "FORCE",
    "JUSTID",
    "LASTID",
    formatStreamId(group.lastId),
  ];
}

/** The XGROUP SETID that recreates the group's position (streamPropagateGroupID). */
function groupPositionEffect(key: string, groupName: string, group: ConsumerGroup): string[] {
  return [
    "XGROUP",
    "SETID",
    key,
    groupName,
    formatStreamId(group.lastId),
    "ENTRIESREAD",
    String(group.entriesRead),
  ];
}

/** What a group read is for: the group, its consumer and NOACK. */
interface GroupRead {
  readonly name: string;
  readonly group: ConsumerGroup;
  readonly consumer: Consumer;
  /** The consumer was created by this read (its creation is logged with a NOACK read). */
  readonly consumerCreated: boolean;
  readonly noAck: boolean;
}

/**
 * streamReplyWithRange for XREAD and XREADGROUP `>`: writes up to `count`
 * entries (0: all) from `entries`, a cursor on the first one (undefined:
 * none). With a group, each entry moves the group's last ID forward and,
 * without NOACK, becomes pending for the consumer; the effects that replay
 * it are recorded.
 */
function deliverEntries(
  client: Client,
  reply: ReplyWriter,
  key: string,
  stream: Stream,
  entries: StreamIterator | undefined,
  count: number,
  read: GroupRead | undefined,
): void {
  const ids: StreamId[] = [];
  const texts: string[] = [];
  const fieldLists: string[][] = [];
  if (entries !== undefined) {
    do {
      ids.push(entries.id);
      texts.push(entries.idText());
      fieldLists.push(entries.fields());
    } while ((count === 0 || ids.length < count) && entries.next());
  }
  reply.arrayHeader(ids.length);
  for (let i = 0; i < ids.length; i++) writeEntry(reply, texts[i]!, fieldLists[i]!);
  if (read === undefined) return;
  const group = read.group;
  const consumer = read.consumer;
  const time = now(client);
  const timeText = String(time);
  let positionMoved = false;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id > group.lastId) {
      stream.advanceGroup(group, id);
      positionMoved = true;
    }
    if (read.noAck) continue;
    deliverPending(group, id, consumer, time);
    // What claimEffect builds, knowing the entry: delivered now, once, to
    // this consumer, with the group's last ID usually this very entry's.
    const idText = texts[i]!;
    client.addEffect([
      "XCLAIM",
      key,
      read.name,
      consumer.name,
      "0",
      idText,
      "TIME",
      timeText,
      "RETRYCOUNT",
      "1",
      "FORCE",
      "JUSTID",
      "LASTID",
      group.lastId === id ? idText : formatStreamId(group.lastId),
    ]);
  }
  if (!positionMoved) return;
  if (read.noAck && read.consumerCreated) {
    client.addEffect(["XGROUP", "CREATECONSUMER", key, read.name, read.consumer.name]);
  }
  // Redis logs this for NOACK reads only; after XCLAIMs it also restores
  // entries-read (XCLAIM LASTID cannot), so lag survives a restart.
  client.addEffect(groupPositionEffect(key, read.name, group));
}

/**
 * Makes `id` pending for `consumer` (ConsumerGroup.deliver). Entries read
 * with `>` nearly always come after every pending one, and then the PEL
 * lookup for an earlier delivery of the same ID can be skipped.
 */
function deliverPending(
  group: ConsumerGroup,
  id: StreamId,
  consumer: Consumer,
  time: number,
): void {
  const last = group.pending.lastKey();
  if (last !== undefined && id <= last) {
    group.deliver(id, consumer, time);
    return;
  }
  const entry = new PendingEntry(id, time, 1, consumer);
  group.pending.set(id, entry);
  consumer.pending.set(id, entry);
}

/**
 * streamReplyWithRangeFromConsumerPEL: XREADGROUP with an ID, the
 * consumer's own pending entries after `after` (up to `count`, 0: all),
 * each delivered once more; an entry deleted from the stream meanwhile is
 * replied as `[id, nil]`.
 */
function deliverHistory(
  client: Client,
  reply: ReplyWriter,
  stream: Stream,
  consumer: Consumer,
  after: StreamId,
  count: number,
): void {
  const start = nextStreamId(after) ?? MIN_STREAM_ID;
  const entries: PendingEntry[] = [];
  consumer.pending.range(start, undefined, (_id, entry) => {
    entries.push(entry);
    return count === 0 || entries.length < count;
  });
  const time = now(client);
  reply.arrayHeader(entries.length);
  for (const entry of entries) {
    const fields = stream.get(entry.id);
    if (fields === undefined) {
      reply.arrayHeader(2);
      reply.bulk(formatStreamId(entry.id));
      reply.nullArray();
      continue;
    }
    writeEntry(reply, formatStreamId(entry.id), fields);
    entry.deliveryTime = time;
    entry.deliveryCount++;
  }
}

// ---------------------------------------------------------------------------
// XREAD and XREADGROUP

/** XREAD's and XREADGROUP's keys (xreadGetKeys), for requests the key specs cannot describe. */
function xreadKeyFinder(args: readonly string[]): KeyReference[] {
  let streamsAt = -1;
  for (let i = 1; i < args.length; i++) {
    const option = args[i]!.toUpperCase();
    if (option === "BLOCK" || option === "COUNT") i++;
    else if (option === "GROUP") i += 2;
    else if (option === "NOACK") continue;
    else {
      if (option === "STREAMS") streamsAt = i;
      break;
    }
  }
  const remaining = args.length - streamsAt - 1;
  if (streamsAt === -1 || remaining === 0 || remaining % 2 !== 0) return [];
  const keys: KeyReference[] = [];
  for (let i = 0; i < remaining / 2; i++) keys.push({ position: streamsAt + 1 + i, flags: [] });
  return keys;
}

/** A BLOCK value: milliseconds (getTimeoutFromObjectOrReply with UNIT_MILLISECONDS). */
function parseBlockTimeout(text: string): number {
  const milliseconds = parseInteger(text);
  if (milliseconds === undefined) throw new CommandError(STREAM_TIMEOUT_NOT_INTEGER);
  if (milliseconds < 0) throw new CommandError(TIMEOUT_NEGATIVE);
  return milliseconds;
}

/** What a client blocked in XREAD or XREADGROUP waits for. */
interface StreamWait {
  readonly keys: readonly string[];
  /** XREAD: per key, the ID new entries must exceed. */
  readonly after: Map<string, StreamId>;
  readonly count: number;
  readonly groupName: string | undefined;
  readonly consumerName: string;
  readonly noAck: boolean;
  /** Per key, the stream and its signal count when the waiter last looked. */
  readonly seen: Map<string, { stream: Stream | undefined; signals: number }>;
}

/**
 * XREAD [COUNT n] [BLOCK ms] STREAMS key [key ...] id [id ...] and
 * XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK] STREAMS ...
 */
function xread(client: Client, args: string[], groupRead: boolean): void {
  let timeout = -1;
  let count = 0;
  let streamsAt = 0;
  let streamCount = 0;
  let noAck = false;
  let groupName: string | undefined;
  let consumerName = "";
  for (let i = 1; i < args.length; i++) {
    const moreArgs = args.length - i - 1;
    const option = args[i]!.toUpperCase();
    if (option === "BLOCK" && moreArgs > 0) {
      i++;
      timeout = parseBlockTimeout(args[i]!);
    } else if (option === "COUNT" && moreArgs > 0) {
      i++;
      count = Math.max(0, requireInteger(args[i]!));
    } else if (option === "STREAMS" && moreArgs > 0) {
      streamsAt = i + 1;
      streamCount = args.length - streamsAt;
      if (streamCount % 2 !== 0) throw new CommandError(XREAD_UNBALANCED);
      streamCount /= 2;
      break;
    } else if (option === "GROUP" && moreArgs >= 2) {
      if (!groupRead) throw new CommandError(GROUP_ONLY_IN_XREADGROUP);
      groupName = args[i + 1]!;
      consumerName = args[i + 2]!;
      i += 2;
    } else if (option === "NOACK") {
      if (!groupRead) throw new CommandError(NOACK_ONLY_IN_XREADGROUP);
      noAck = true;
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  if (streamsAt === 0) throw new CommandError(SYNTAX_ERROR);
  if (groupRead && groupName === undefined) throw new CommandError(XREADGROUP_WITHOUT_GROUP);

  // Every key's type, group and ID are checked before anything is served.
  const keys = args.slice(streamsAt, streamsAt + streamCount);
  /** Per key: the ID to read after; MAX_STREAM_ID is XREADGROUP's `>`. */
  const afterIds: StreamId[] = [];
  const groups: ConsumerGroup[] = [];
  for (let i = 0; i < streamCount; i++) {
    const key = keys[i]!;
    const idText = args[streamsAt + streamCount + i]!;
    const stream = streamForRead(client, key);
    if (groupName !== undefined) {
      const group = stream?.group(groupName);
      if (group === undefined) throw new CommandError(noGroupForRead(key, groupName));
      groups.push(group);
    }
    if (idText === "$") {
      if (groupRead) throw new CommandError(DOLLAR_IN_XREADGROUP);
      afterIds.push(stream?.lastId ?? MIN_STREAM_ID);
    } else if (idText === ">") {
      if (!groupRead) throw new CommandError(GREATER_THAN_OUTSIDE_GROUP);
      afterIds.push(MAX_STREAM_ID);
    } else {
      afterIds.push(strictId(idText));
    }
  }

  // Serve what can be served now. With one key the reply goes straight out;
  // with several, how many are served is known only at the end.
  const single = streamCount === 1;
  const body = single ? client.reply : new ReplyWriter();
  body.protocol = client.protocol;
  let served = 0;
  for (let i = 0; i < streamCount; i++) {
    const key = keys[i]!;
    const stream = client.db.lookup(key);
    if (!(stream instanceof Stream)) continue;
    const after = afterIds[i]!;
    const group = groups[i];
    // XREADGROUP with an ID reads the consumer's history, always served.
    const history = group !== undefined && after !== MAX_STREAM_ID;
    const entries = history ? undefined : entriesAfter(stream, group?.lastId ?? after);
    if (!history && entries === undefined) continue;
    if (single) {
      if (client.protocol === 2) body.arrayHeader(1);
      else body.mapHeader(1);
    }
    served++;
    if (client.protocol === 2) body.arrayHeader(2);
    body.bulk(key);
    if (group === undefined) {
      deliverEntries(client, body, key, stream, entries, count, undefined);
      continue;
    }
    const [consumer, created] = lookupOrCreateConsumer(client, key, group, consumerName);
    if (history) deliverHistory(client, body, stream, consumer, after, count);
    else {
      deliverEntries(client, body, key, stream, entries, count, {
        name: groupName!,
        group,
        consumer,
        consumerCreated: created,
        noAck,
      });
    }
    changedQuietly(client, key);
  }
  if (served > 0) {
    if (!single) {
      if (client.protocol === 2) client.reply.arrayHeader(served);
      else client.reply.mapHeader(served);
      client.reply.raw(body.take());
    }
    return;
  }
  if (timeout === -1) {
    client.reply.nullArray();
    return;
  }
  const after = new Map<string, StreamId>();
  const seen = new Map<string, { stream: Stream | undefined; signals: number }>();
  for (let i = 0; i < streamCount; i++) {
    const key = keys[i]!;
    if (!after.has(key)) after.set(key, afterIds[i]!);
    const value = client.db.lookup(key);
    const stream = value instanceof Stream ? value : undefined;
    seen.set(key, { stream, signals: stream === undefined ? 0 : signalCount(stream) });
  }
  const wait: StreamWait = {
    keys,
    after,
    count: count === 0 ? BLOCKED_DEFAULT_COUNT : count,
    groupName,
    consumerName,
    noAck,
    seen,
  };
  const deadline = timeout === 0 ? 0 : now(client) + timeout;
  blockClient(client, keys, deadline, (waiter, key) => serveBlocked(waiter, key, wait));
}

/**
 * serveClientsBlockedOnStreamKey for one waiter: replies with the new
 * entries of `key` when Redis would have woken the client, or with the
 * error a blocked XREADGROUP gets when its stream or group went away.
 */
function serveBlocked(client: Client, key: string, wait: StreamWait): boolean {
  const value = client.db.lookup(key);
  const groupName = wait.groupName;
  if (!(value instanceof Stream)) {
    if (groupName !== undefined) throw new CommandError(BLOCKED_STREAM_DELETED);
    return false;
  }
  const seen = wait.seen.get(key)!;
  const signalled = signalCount(value);
  if (seen.stream === value && seen.signals === signalled) return false;
  seen.stream = value;
  seen.signals = signalled;
  let after: StreamId;
  let group: ConsumerGroup | undefined;
  if (groupName !== undefined) {
    group = value.group(groupName);
    if (group === undefined) throw new CommandError(BLOCKED_GROUP_DESTROYED);
    after = group.lastId;
  } else {
    after = wait.after.get(key)!;
  }
  if (!(value.lastId > after)) return false;
  const reply = client.reply;
  if (client.protocol === 2) {
    reply.arrayHeader(1);
    reply.arrayHeader(2);
  } else {
    reply.mapHeader(1);
  }
  reply.bulk(key);
  if (group === undefined) {
    deliverEntries(client, reply, key, value, entriesAfter(value, after), wait.count, undefined);
    return true;
  }
  const [consumer, created] = lookupOrCreateConsumer(client, key, group, wait.consumerName);
  deliverEntries(client, reply, key, value, entriesAfter(value, after), wait.count, {
    name: groupName!,
    group,
    consumer,
    consumerCreated: created,
    noAck: wait.noAck,
  });
  changedQuietly(client, key);
  return true;
}

// ---------------------------------------------------------------------------
// XGROUP

const XGROUP_HELP = [
  "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CREATE <key> <groupname> <id|$> [option]",
  "    Create a new consumer group. Options are:",
  "    * MKSTREAM",
  "      Create the empty stream if it does not exist.",
  "    * ENTRIESREAD entries_read",
  "      Set the group's entries_read counter (internal use).",
  "CREATECONSUMER <key> <groupname> <consumer>",
  "    Create a new consumer in the specified group.",
  "DELCONSUMER <key> <groupname> <consumer>",
  "    Remove the specified consumer.",
  "DESTROY <key> <groupname>",
  "    Remove the specified group.",
  "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
  "    Set the current group ID and entries_read counter.",
  "HELP",
  "    Prints this help.",
];

const XINFO_HELP = [
  "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CONSUMERS <key> <groupname>",
  "    Show consumers of <groupname>.",
  "GROUPS <key>",
  "    Show the stream consumer groups.",
  "STREAM <key> [FULL [COUNT <count>]",
  "    Show information about the stream.",
  "HELP",
  "    Prints this help.",
];

function writeHelp(client: Client, lines: readonly string[]): void {
  client.reply.arrayHeader(lines.length);
  for (const line of lines) client.reply.simple(line);
}

/** xgroupCommand: CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER. */
function xgroup(client: Client, args: string[]): void {
  const subcommand = args[1]!.toUpperCase();
  const key = args[2]!;
  const groupName = args[3]!;
  let makeStream = false;
  let entriesRead = INVALID_ENTRIES_READ;
  if (subcommand === "CREATE" || subcommand === "SETID") {
    for (let i = 5; i < args.length;) {
      const option = args[i]!.toUpperCase();
      if (subcommand === "CREATE" && option === "MKSTREAM") {
        makeStream = true;
        i++;
      } else if (option === "ENTRIESREAD" && i + 1 < args.length) {
        entriesRead = requireInteger(args[i + 1]!);
        if (entriesRead < 0 && entriesRead !== INVALID_ENTRIES_READ) {
          throw new CommandError(ENTRIES_READ_INVALID);
        }
        i += 2;
      } else {
        throw new CommandError(subcommandSyntaxError(args[1]!, args[0]!));
      }
    }
  }
  let stream = streamForWrite(client, key);
  let group: ConsumerGroup | undefined;
  if (!makeStream) {
    if (stream === undefined) throw new CommandError(XGROUP_KEY_MISSING);
    group = stream.group(groupName);
    if (
      group === undefined &&
      (subcommand === "SETID" || subcommand === "CREATECONSUMER" || subcommand === "DELCONSUMER")
    ) {
      throw new CommandError(noSuchGroup(groupName, key));
    }
  }
  switch (subcommand) {
    case "CREATE": {
      if (args.length > 8) throw new CommandError(subcommandSyntaxError(args[1]!, args[0]!));
      const idText = args[4]!;
      const id = idText === "$" ? stream?.lastId ?? MIN_STREAM_ID : strictId(idText);
      if (stream === undefined) {
        stream = newStream(client);
        client.db.set(key, stream);
      }
      if (stream.createGroup(groupName, id, entriesRead) === undefined) {
        throw new CommandError(BUSY_GROUP);
      }
      client.changedUnsignalled(key, "xgroup-create", STREAM_EVENTS);
      client.reply.ok();
      return;
    }
    case "SETID": {
      if (args.length !== 5 && args.length !== 7) {
        throw new CommandError(subcommandSyntaxError(args[1]!, args[0]!));
      }
      const idText = args[4]!;
      let id: StreamId | undefined;
      if (idText === "$") id = stream!.lastId;
      else {
        id = parseStreamId(idText);
        if (id === undefined) throw new CommandError(STREAM_ID_INVALID);
      }
      group!.lastId = id;
      group!.entriesRead = entriesRead;
      client.changedUnsignalled(key, "xgroup-setid", STREAM_EVENTS);
      client.reply.ok();
      return;
    }
    case "DESTROY": {
      if (group === undefined) {
        client.reply.integer(0);
        return;
      }
      stream!.deleteGroup(groupName);
      // Wakes the group's blocked readers, who get NOGROUP.
      signalReady(stream!);
      client.changedUnsignalled(key, "xgroup-destroy", STREAM_EVENTS);
      client.reply.integer(1);
      return;
    }
    case "CREATECONSUMER": {
      const created = group!.createConsumer(args[4]!, now(client)) !== undefined;
      if (created) client.changedUnsignalled(key, "xgroup-createconsumer", STREAM_EVENTS);
      client.reply.integer(created ? 1 : 0);
      return;
    }
    case "DELCONSUMER": {
      const pending = group!.deleteConsumer(args[4]!);
      if (pending !== undefined) {
        client.changedUnsignalled(key, "xgroup-delconsumer", STREAM_EVENTS);
      }
      client.reply.integer(pending ?? 0);
      return;
    }
  }
}

// ---------------------------------------------------------------------------
// XSETID, XACK

/** XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]. */
function xsetid(client: Client, args: string[]): void {
  const id = strictId(args[2]!);
  let entriesAdded = -1;
  let maxDeleted = MIN_STREAM_ID;
  for (let i = 3; i < args.length; i += 2) {
    const moreArgs = args.length - 1 - i;
    const option = args[i]!.toUpperCase();
    if (option === "ENTRIESADDED" && moreArgs > 0) {
      entriesAdded = requireInteger(args[i + 1]!);
      if (entriesAdded < 0) throw new CommandError(ENTRIES_ADDED_NEGATIVE);
    } else if (option === "MAXDELETEDID" && moreArgs > 0) {
      maxDeleted = strictId(args[i + 1]!);
      if (id < maxDeleted) throw new CommandError(XSETID_BELOW_GIVEN_MAX_DELETED);
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  const key = args[1]!;
  const stream = streamForWrite(client, key);
  if (stream === undefined) throw new CommandError(NO_SUCH_KEY);
  if (stream.length > 0) {
    if (id < lastValidId(stream)) throw new CommandError(XSETID_BELOW_TOP_ITEM);
    if (entriesAdded !== -1 && stream.length > entriesAdded) {
      throw new CommandError(XSETID_ENTRIES_ADDED_TOO_SMALL);
    }
  }
  stream.lastId = id;
  if (entriesAdded !== -1) stream.entriesAdded = entriesAdded;
  if (maxDeleted !== MIN_STREAM_ID) stream.maxDeletedEntryId = maxDeleted;
  client.changedUnsignalled(key, "xsetid", STREAM_EVENTS);
  client.reply.ok();
}

/** XACK key group id [id ...]: IDs are all checked first, so it acknowledges all or none. */
function xack(client: Client, args: string[]): void {
  const key = args[1]!;
  const group = streamForRead(client, key)?.group(args[2]!);
  if (group === undefined) {
    client.reply.integer(0);
    return;
  }
  const ids = args.slice(3).map((text) => strictId(text));
  let acknowledged = 0;
  for (const id of ids) if (group.acknowledge(id)) acknowledged++;
  if (acknowledged > 0) changedQuietly(client, key);
  client.reply.integer(acknowledged);
}

// ---------------------------------------------------------------------------
// XPENDING

/** XPENDING key group [[IDLE min-idle-time] start end count [consumer]]. */
function xpending(client: Client, args: string[]): void {
  const summaryOnly = args.length === 3;
  if (args.length !== 3 && (args.length < 6 || args.length > 9)) {
    throw new CommandError(SYNTAX_ERROR);
  }
  let start = MIN_STREAM_ID;
  let end = MAX_STREAM_ID;
  let count = 0;
  let minIdle = 0;
  let consumerName: string | undefined;
  if (args.length >= 6) {
    let startAt = 3;
    if (args[3]!.toUpperCase() === "IDLE") {
      minIdle = requireInteger(args[4]!);
      if (args.length < 8) throw new CommandError(SYNTAX_ERROR);
      startAt += 2;
    }
    count = Math.max(0, requireInteger(args[startAt + 2]!));
    start = rangeStart(args[startAt]!);
    end = rangeEnd(args[startAt + 1]!);
    if (startAt + 3 < args.length) consumerName = args[startAt + 3]!;
  }
  const key = args[1]!;
  const groupName = args[2]!;
  const group = streamForRead(client, key)?.group(groupName);
  if (group === undefined) throw new CommandError(noSuchKeyOrGroup(key, groupName));
  const reply = client.reply;
  if (summaryOnly) {
    const summary = group.summary();
    reply.arrayHeader(4);
    reply.integer(summary.count);
    if (summary.count === 0) {
      reply.nullBulk();
      reply.nullBulk();
      reply.nullArray();
      return;
    }
    reply.bulk(formatStreamId(summary.first!));
    reply.bulk(formatStreamId(summary.last!));
    reply.arrayHeader(summary.consumers.length);
    for (const [name, pending] of summary.consumers) {
      reply.arrayHeader(2);
      reply.bulk(name);
      reply.bulkNumber(pending);
    }
    return;
  }
  let pending = group.pending;
  if (consumerName !== undefined) {
    const consumer = group.consumer(consumerName);
    if (consumer === undefined) {
      reply.arrayHeader(0);
      return;
    }
    pending = consumer.pending;
  }
  const time = now(client);
  const entries: PendingEntry[] = [];
  if (count > 0 && start <= end) {
    pending.range(start, end, (_id, entry) => {
      if (minIdle !== 0 && time - entry.deliveryTime < minIdle) return true;
      entries.push(entry);
      return entries.length < count;
    });
  }
  reply.arrayHeader(entries.length);
  for (const entry of entries) {
    reply.arrayHeader(4);
    reply.bulk(formatStreamId(entry.id));
    reply.bulk(entry.consumer.name);
    reply.integer(Math.max(0, time - entry.deliveryTime));
    reply.integer(entry.deliveryCount);
  }
}

// ---------------------------------------------------------------------------
// XCLAIM and XAUTOCLAIM

/**
 * Drops pending `entry`, whose stream entry is gone, logging the XCLAIM
 * that drops it on replay too (XCLAIM of a missing entry deletes it).
 */
function dropDeletedPending(
  client: Client,
  key: string,
  groupName: string,
  group: ConsumerGroup,
  idText: string,
  entry: PendingEntry,
): void {
  client.addEffect(claimEffect(key, groupName, group, idText, entry));
  group.acknowledge(entry.id);
}

/**
 * XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME
 * unix-ms] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id].
 */
function xclaim(client: Client, args: string[]): void {
  const key = args[1]!;
  const groupName = args[2]!;
  const stream = streamForRead(client, key);
  const group = stream?.group(groupName);
  if (stream === undefined || group === undefined) {
    throw new CommandError(noSuchKeyOrGroup(key, groupName));
  }
  const minIdle = Math.max(
    0,
    requireInteger(args[4]!, invalidStreamArgument("min-idle-time", "XCLAIM")),
  );
  let j = 5;
  while (j < args.length && parseStrictStreamId(args[j]!) !== undefined) j++;
  const lastIdIndex = j - 1;
  const time = now(client);
  let retryCount = -1;
  let deliveryTime = -1;
  let force = false;
  let justId = false;
  let lastId = MIN_STREAM_ID;
  for (; j < args.length; j++) {
    const moreArgs = args.length - 1 - j;
    const option = args[j]!.toUpperCase();
    if (option === "FORCE") force = true;
    else if (option === "JUSTID") justId = true;
    else if (option === "IDLE" && moreArgs > 0) {
      j++;
      deliveryTime = time -
        requireInteger(args[j]!, invalidStreamArgument("IDLE option", "XCLAIM"));
    } else if (option === "TIME" && moreArgs > 0) {
      j++;
      deliveryTime = requireInteger(args[j]!, invalidStreamArgument("TIME option", "XCLAIM"));
    } else if (option === "RETRYCOUNT" && moreArgs > 0) {
      j++;
      retryCount = requireInteger(
        args[j]!,
        invalidStreamArgument("RETRYCOUNT option", "XCLAIM"),
      );
    } else if (option === "LASTID" && moreArgs > 0) {
      j++;
      lastId = strictId(args[j]!);
    } else {
      throw new CommandError(unrecognizedXclaimOption(args[j]!));
    }
  }
  let positionMoved = false;
  if (lastId > group.lastId) {
    group.lastId = lastId;
    positionMoved = true;
  }
  // A bogus time (a client's clock ahead of ours) is taken as now, not refused.
  if (deliveryTime === -1 || deliveryTime < 0 || deliveryTime > time) deliveryTime = time;

  let consumer: Consumer | undefined;
  let changed = false;
  const reply = new ReplyWriter();
  reply.protocol = client.protocol;
  let claimed = 0;
  for (let k = 5; k <= lastIdIndex; k++) {
    const idText = args[k]!;
    const id = strictId(idText);
    let entry = group.pending.get(id);
    if (!stream.has(id)) {
      if (entry !== undefined) {
        dropDeletedPending(client, key, groupName, group, idText, entry);
        positionMoved = false;
        changed = true;
      }
      continue;
    }
    let forced = false;
    if (entry === undefined) {
      if (!force) continue;
      forced = true;
    } else if (minIdle !== 0 && time - entry.deliveryTime < minIdle) continue;
    if (consumer === undefined) consumer = lookupOrCreateConsumer(client, key, group, args[3]!)[0];
    if (forced) entry = group.ensurePending(id, consumer, time, 1);
    else group.assign(entry!, consumer);
    entry!.deliveryTime = deliveryTime;
    if (retryCount >= 0) entry!.deliveryCount = retryCount;
    else if (!justId) entry!.deliveryCount++;
    if (justId) reply.bulk(formatStreamId(id));
    else writeEntryOrNull(reply, stream, id);
    claimed++;
    client.addEffect(claimEffect(key, groupName, group, idText, entry!));
    positionMoved = false;
    changed = true;
  }
  if (positionMoved) {
    client.addEffect(groupPositionEffect(key, groupName, group));
    changed = true;
  }
  if (changed) changedQuietly(client, key);
  client.reply.arrayHeader(claimed);
  client.reply.raw(reply.take());
}

/** XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]. */
function xautoclaim(client: Client, args: string[]): void {
  const minIdle = Math.max(
    0,
    requireInteger(args[4]!, invalidStreamArgument("min-idle-time", "XAUTOCLAIM")),
  );
  const start = rangeStart(args[5]!);
  let count = 100;
  let justId = false;
  for (let j = 6; j < args.length; j++) {
    const moreArgs = args.length - 1 - j;
    const option = args[j]!.toUpperCase();
    if (option === "COUNT" && moreArgs > 0) {
      const value = parseInt64(args[j + 1]!);
      if (value === undefined || value < 1n || value > AUTOCLAIM_MAX_COUNT) {
        throw new CommandError(XAUTOCLAIM_COUNT_INVALID);
      }
      count = Number(value);
      j++;
    } else if (option === "JUSTID") {
      justId = true;
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  const key = args[1]!;
  const groupName = args[2]!;
  const stream = streamForRead(client, key);
  const group = stream?.group(groupName);
  if (stream === undefined || group === undefined) {
    throw new CommandError(noSuchKeyOrGroup(key, groupName));
  }
  if (count > AUTOCLAIM_ALLOCATABLE_COUNT) throw new CommandError(XAUTOCLAIM_COUNT_TOO_HIGH);
  let attempts = count * AUTOCLAIM_ATTEMPTS_FACTOR;
  const time = now(client);
  let consumer: Consumer | undefined;
  const reply = new ReplyWriter();
  reply.protocol = client.protocol;
  let claimed = 0;
  const deleted: StreamId[] = [];
  // The iterator's position: undefined before `start`, else the last ID examined.
  let position: StreamId | undefined;
  const advance = () =>
    position === undefined
      ? group.pending.ceilingKey(start)
      : group.pending.ceilingKey(position, true);
  while (attempts-- > 0 && count > 0) {
    const id = advance();
    if (id === undefined) {
      position = MAX_STREAM_ID;
      break;
    }
    position = id;
    const entry = group.pending.get(id)!;
    const idText = formatStreamId(id);
    if (!stream.has(id)) {
      dropDeletedPending(client, key, groupName, group, idText, entry);
      deleted.push(id);
      count--;
      continue;
    }
    if (minIdle !== 0 && time - entry.deliveryTime < minIdle) continue;
    if (consumer === undefined) consumer = lookupOrCreateConsumer(client, key, group, args[3]!)[0];
    group.assign(entry, consumer);
    entry.deliveryTime = time;
    if (!justId) entry.deliveryCount++;
    if (justId) reply.bulk(idText);
    else writeEntryOrNull(reply, stream, id);
    claimed++;
    count--;
    client.addEffect(claimEffect(key, groupName, group, idText, entry));
  }
  const next = position === MAX_STREAM_ID ? undefined : advance();
  if (claimed > 0 || deleted.length > 0) changedQuietly(client, key);
  const out = client.reply;
  out.arrayHeader(3);
  out.bulk(formatStreamId(next ?? MIN_STREAM_ID));
  out.arrayHeader(claimed);
  out.raw(reply.take());
  out.arrayHeader(deleted.length);
  for (const id of deleted) out.bulk(formatStreamId(id));
}

// ---------------------------------------------------------------------------
// XINFO

/** A map field whose value is an ID. */
function idField(reply: ReplyWriter, name: string, id: StreamId): void {
  reply.bulk(name);
  reply.bulk(formatStreamId(id));
}

function integerField(reply: ReplyWriter, name: string, value: number): void {
  reply.bulk(name);
  reply.integer(value);
}

/** An integer, or a null when unknown (entries-read, lag). */
function optionalInteger(reply: ReplyWriter, value: number | undefined): void {
  if (value === undefined) reply.nullBulk();
  else reply.integer(value);
}

/** XINFO STREAM key [FULL [COUNT count]] (xinfoReplyWithStreamInfo). */
function xinfoStream(client: Client, args: string[]): void {
  const stream = xinfoLookup(client, args[2]!);
  let full = false;
  let count = 10;
  if (args.length > 3) {
    if (args.length !== 4 && args.length !== 6) {
      throw new CommandError(subcommandSyntaxError(args[1]!, args[0]!));
    }
    if (args[3]!.toUpperCase() !== "FULL") {
      throw new CommandError(subcommandSyntaxError(args[1]!, args[0]!));
    }
    full = true;
    if (args.length === 6) {
      if (args[4]!.toUpperCase() !== "COUNT") {
        throw new CommandError(subcommandSyntaxError(args[1]!, args[0]!));
      }
      count = requireInteger(args[5]!);
      if (count < 0) count = 10;
    }
  }
  const reply = client.reply;
  reply.mapHeader(full ? 9 : 10);
  integerField(reply, "length", stream.length);
  integerField(reply, "radix-tree-keys", stream.nodeCount);
  integerField(reply, "radix-tree-nodes", stream.radixTreeNodes);
  idField(reply, "last-generated-id", stream.lastId);
  idField(reply, "max-deleted-entry-id", stream.maxDeletedEntryId);
  integerField(reply, "entries-added", stream.entriesAdded);
  idField(reply, "recorded-first-entry-id", stream.firstId);
  if (!full) {
    integerField(reply, "groups", stream.groupCount);
    for (
      const [name, entry] of [["first-entry", stream.firstEntry()], [
        "last-entry",
        stream.lastEntry(),
      ]] as const
    ) {
      reply.bulk(name);
      if (entry === undefined) reply.nullBulk();
      else writeEntry(reply, formatStreamId(entry[0]), entry[1]);
    }
    return;
  }
  reply.bulk("entries");
  writeRange(reply, stream, MIN_STREAM_ID, MAX_STREAM_ID, count, false);
  reply.bulk("groups");
  const groups = stream.groups();
  reply.arrayHeader(groups.length);
  for (const group of groups) {
    reply.mapHeader(7);
    reply.bulk("name");
    reply.bulk(group.name);
    idField(reply, "last-delivered-id", group.lastId);
    reply.bulk("entries-read");
    optionalInteger(
      reply,
      group.entriesRead === INVALID_ENTRIES_READ ? undefined : group.entriesRead,
    );
    reply.bulk("lag");
    optionalInteger(reply, stream.groupLag(group));
    integerField(reply, "pel-count", group.pending.size);
    reply.bulk("pending");
    const pending = limited(group.pending.values(), count);
    reply.arrayHeader(pending.length);
    for (const entry of pending) {
      reply.arrayHeader(4);
      reply.bulk(formatStreamId(entry.id));
      reply.bulk(entry.consumer.name);
      reply.integer(entry.deliveryTime);
      reply.integer(entry.deliveryCount);
    }
    reply.bulk("consumers");
    const consumers = group.consumers();
    reply.arrayHeader(consumers.length);
    for (const consumer of consumers) {
      reply.mapHeader(4);
      reply.bulk("name");
      reply.bulk(consumer.name);
      integerField(reply, "seen-time", consumer.seenTime);
      integerField(reply, "pel-count", consumer.pending.size);
      reply.bulk("pending");
      const owned = limited(consumer.pending.values(), count);
      reply.arrayHeader(owned.length);
      for (const entry of owned) {
        reply.arrayHeader(3);
        reply.bulk(formatStreamId(entry.id));
        reply.integer(entry.deliveryTime);
        reply.integer(entry.deliveryCount);
      }
    }
  }
}

/** The first `count` values (all when 0). */
function limited<T>(values: Iterable<T>, count: number): T[] {
  const out: T[] = [];
  if (count === 0) return [...values];
  for (const value of values) {
    out.push(value);
    if (out.length === count) break;
  }
  return out;
}

/** The stream XINFO reports on: "no such key" when missing. */
function xinfoLookup(client: Client, key: string): Stream {
  const stream = streamForRead(client, key);
  if (stream === undefined) throw new CommandError(NO_SUCH_KEY);
  return stream;
}

/** XINFO GROUPS key. */
function xinfoGroups(client: Client, args: string[]): void {
  const stream = xinfoLookup(client, args[2]!);
  const reply = client.reply;
  const groups = stream.groups();
  reply.arrayHeader(groups.length);
  for (const group of groups) {
    reply.mapHeader(6);
    reply.bulk("name");
    reply.bulk(group.name);
    integerField(reply, "consumers", group.consumerCount);
    integerField(reply, "pending", group.pending.size);
    idField(reply, "last-delivered-id", group.lastId);
    reply.bulk("entries-read");
    optionalInteger(
      reply,
      group.entriesRead === INVALID_ENTRIES_READ ? undefined : group.entriesRead,
    );
    reply.bulk("lag");
    optionalInteger(reply, stream.groupLag(group));
  }
}

/** XINFO CONSUMERS key group. */
function xinfoConsumers(client: Client, args: string[]): void {
  const key = args[2]!;
  const stream = xinfoLookup(client, key);
  const group = stream.group(args[3]!);
  if (group === undefined) throw new CommandError(noSuchGroup(args[3]!, key));
  const reply = client.reply;
  const time = now(client);
  const consumers = group.consumers();
  reply.arrayHeader(consumers.length);
  for (const consumer of consumers) {
    reply.mapHeader(3);
    reply.bulk("name");
    reply.bulk(consumer.name);
    integerField(reply, "pending", consumer.pending.size);
    integerField(reply, "idle", Math.max(0, time - consumer.seenTime));
  }
}

// ---------------------------------------------------------------------------
// The table

const keyAt = (index: number, flags: KeyReference["flags"]) => ({
  flags,
  begin: { index },
  find: { lastKey: 0 },
});

/** An XGROUP subcommand declaration (all but HELP name the key at 2). */
function xgroupSubcommand(
  name: string,
  arity: number,
  flags: CommandDeclaration["flags"],
  keyFlags: KeyReference["flags"],
): CommandDeclaration {
  return {
    name: `xgroup|${name}`,
    arity,
    flags,
    aclCategories: ["stream"],
    keySpecs: [keyAt(2, keyFlags)],
    handler: xgroup,
  };
}

function xinfoSubcommand(
  name: string,
  arity: number,
  handler: (client: Client, args: string[]) => void,
): CommandDeclaration {
  return {
    name: `xinfo|${name}`,
    arity,
    flags: ["readonly"],
    aclCategories: ["stream"],
    keySpecs: [keyAt(2, ["RO", "ACCESS"])],
    handler,
  };
}

export const streamCommands: readonly Command[] = [
  command({
    name: "xadd",
    arity: -5,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["stream"],
    keySpecs: [
      {
        flags: ["RW", "UPDATE"],
        begin: { index: 1 },
        find: { lastKey: 0 },
        notes: "UPDATE instead of INSERT because of the optional trimming feature",
      },
    ],
    propagation: "effects",
    handler: xadd,
  }),
  command({
    name: "xrange",
    arity: -4,
    flags: ["readonly"],
    aclCategories: ["stream"],
    keySpecs: [keyAt(1, ["RO", "ACCESS"])],
    handler: (client, args) => xrange(client, args, false),
  }),
  command({
    name: "xrevrange",
    arity: -4,
    flags: ["readonly"],
    aclCategories: ["stream"],
    keySpecs: [keyAt(1, ["RO", "ACCESS"])],
    handler: (client, args) => xrange(client, args, true),
  }),
  command({
    name: "xlen",
    arity: 2,
    flags: ["readonly", "fast"],
    aclCategories: ["stream"],
    keySpecs: [keyAt(1, ["RO"])],
    handler: xlen,
  }),
  command({
    name: "xdel",
    arity: -3,
    flags: ["write", "fast"],
    aclCategories: ["stream"],
    keySpecs: [keyAt(1, ["RW", "DELETE"])],
    handler: xdel,
  }),
  command({
    name: "xtrim",
    arity: -4,
    flags: ["write"],
    aclCategories: ["stream"],
    keySpecs: [keyAt(1, ["RW", "DELETE"])],
    propagation: "effects",
    handler: xtrim,
  }),
  command({
    name: "xread",
    arity: -4,
    flags: ["readonly", "blocking"],
    aclCategories: ["stream"],
    keySpecs: [
      {
        flags: ["RO", "ACCESS"],
        begin: { keyword: "STREAMS", startFrom: 1 },
        find: { lastKey: -1, limit: 2 },
      },
    ],
    keyFinder: xreadKeyFinder,
    handler: (client, args) => xread(client, args, false),
  }),
  command({
    name: "xreadgroup",
    arity: -7,
    flags: ["write", "blocking"],
    aclCategories: ["stream"],
    keySpecs: [
      {
        flags: ["RO", "ACCESS"],
        begin: { keyword: "STREAMS", startFrom: 4 },
        find: { lastKey: -1, limit: 2 },
      },
    ],
    keyFinder: xreadKeyFinder,
    propagation: "effects",
    handler: (client, args) => xread(client, args, true),
  }),
  command({
    name: "xgroup",
    arity: -2,
    flags: [],
    subcommands: [
      xgroupSubcommand("create", -5, ["write", "denyoom"], ["RW", "INSERT"]),
      xgroupSubcommand("setid", -5, ["write"], ["RW", "UPDATE"]),
      xgroupSubcommand("destroy", 4, ["write"], ["RW", "DELETE"]),
      xgroupSubcommand("createconsumer", 5, ["write", "denyoom"], ["RW", "INSERT"]),
      xgroupSubcommand("delconsumer", 5, ["write"], ["RW", "DELETE"]),
      {
        name: "xgroup|help",
        arity: 2,
        flags: ["loading", "stale"],
        aclCategories: ["stream"],
        handler: (client) => writeHelp(client, XGROUP_HELP),
      },
    ],
  }),
  command({
    name: "xsetid",
    arity: -3,
    flags: ["write", "denyoom", "fast"],
    aclCategories: ["stream"],
    keySpecs: [keyAt(1, ["RW", "UPDATE"])],
    handler: xsetid,
  }),
  command({
    name: "xack",
    arity: -4,
    flags: ["write", "fast"],
    aclCategories: ["stream"],
    keySpecs: [keyAt(1, ["RW", "UPDATE"])],
    handler: xack,
  }),
  command({
    name: "xpending",
    arity: -3,
    flags: ["readonly"],
    aclCategories: ["stream"],
    keySpecs: [keyAt(1, ["RO", "ACCESS"])],
    handler: xpending,
  }),
  command({
    name: "xclaim",
    arity: -6,
    flags: ["write", "fast"],
    aclCategories: ["stream"],
    keySpecs: [keyAt(1, ["RW", "UPDATE"])],
    propagation: "effects",
    handler: xclaim,
  }),
  command({
    name: "xautoclaim",
    arity: -6,
    flags: ["write", "fast"],
    aclCategories: ["stream"],
    keySpecs: [keyAt(1, ["RW", "DELETE"])],
    propagation: "effects",
    handler: xautoclaim,
  }),
  command({
    name: "xinfo",
    arity: -2,
    flags: [],
    subcommands: [
      xinfoSubcommand("consumers", 4, xinfoConsumers),
      xinfoSubcommand("groups", 3, xinfoGroups),
      xinfoSubcommand("stream", -3, xinfoStream),
      {
        name: "xinfo|help",
        arity: 2,
        flags: ["loading", "stale"],
        aclCategories: ["stream"],
        handler: (client) => writeHelp(client, XINFO_HELP),
      },
    ],
  }),
];
