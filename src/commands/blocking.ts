/**
 * Blocking commands' machinery: clients waiting for keys (BLPOP, BLMOVE,
 * BLMPOP, BZPOPMIN, BZMPOP, ...), served in order when the keys get data,
 * or answered when their timeout runs out.
 *
 * It follows Redis's `blocked.c`, generic over the value type:
 *
 * - A blocking command first tries to run like its non-blocking form. Only
 *   when none of its keys can serve it does it call `blockClient`, with a
 *   `TryServe` callback that knows how to serve it later from one key. The
 *   connection then stops reading the client's pipelined requests
 *   (`client.blocked` is set; see server/connection.ts).
 * - Every key change and whole-database change (SWAPDB, FLUSHDB) that
 *   touches a key someone waits on marks that key ready: the server's
 *   `blocking` part hears of them as a `KeyspaceEvents` listener. No handler
 *   signals anything: a push, a RENAME or a SWAPDB all make keys ready the
 *   same way.
 * - After each outermost command the executor calls `serveReady`: ready
 *   keys are served in the order they became ready, and each key's clients
 *   first come, first served, until the key is gone. Serving can make more
 *   keys ready (BLMOVE pushes to its destination); those are served in the
 *   same pass, as Redis does. Each serve runs through `Executor.serve`, so
 *   it has a command's error handling and its own execution unit.
 * - A served client gets its reply written, is marked pending (the pusher's
 *   connection flushes it with its own replies, after the AOF write), and
 *   resumes its pipelined requests in a microtask, so they never run nested
 *   inside the command that woke it. The serve records its effect with
 *   `addEffect` as the non-blocking equivalent (BLPOP → LPOP).
 * - Timeouts use one `setTimeout` per blocked client, cleared whenever the
 *   client stops waiting for any reason: served, timed out, or disconnected.
 *   Nothing is left behind when the server stops.
 *
 * A blocking command must not block inside EXEC (nor while the AOF loads):
 * it then behaves as if its timeout had already expired; see
 * `blockingAllowed`.
 *
 * A server where nobody blocks pays a Map lookup per key change.
 *
 * @module
 */

import type { BlockedState, Client } from "./client.ts";
import type { KeyspaceEvents } from "./context.ts";
import type { Database } from "../store/keyspace.ts";
import { isFiniteLongDouble, type LongDouble, parseLongDouble } from "../protocol/long_double.ts";
import { CommandError, TIMEOUT_NEGATIVE, TIMEOUT_NOT_FLOAT } from "./errors.ts";

/**
 * Tries to serve a blocked client from `key` (in the database the client
 * blocked in, which is `client.db`) after the key changed.
 *
 * Returns true when the client got its complete reply and must stop
 * waiting; false to keep waiting (the key is missing, empty, or of a type
 * this command does not pop from: Redis keeps such clients blocked).
 * A serve does what its non-blocking form would: changes the data, calls
 * `client.changed` for each change, and records its effect with
 * `client.addEffect([...])` as the non-blocking command would be logged.
 *
 * Throwing a CommandError (e.g. WRONGTYPE from BLMOVE's destination) before
 * writing anything replies with that error and ends the wait, like a served
 * command failing.
 */
export type TryServe = (client: Client, key: string) => boolean;

/** Writes the reply a blocked client gets when its time runs out. */
export type TimeoutReply = (client: Client) => void;

/** The timeout reply of every Redis 7.0 blocking command: a null array. */
export const replyNullArray: TimeoutReply = (client) => client.reply.nullArray();

/**
 * Parses a blocking command's timeout argument: seconds as a double, `0`
 * meaning forever. Returns the absolute deadline in ms on the keyspace
 * clock, or 0 to wait forever. Throws Redis's errors (`ERR timeout is not a
 * float or out of range`, `ERR timeout is negative`).
 *
 * Redis 7.0 reads the number as a `long double` and waits
 * `ceil(timeout * 1000)` ms; the product is computed in long double
 * precision here too, so borderline inputs agree: `0.0001` waits 1 ms,
 * `-0.001` (which times 1000 is just above -1 in long double) means forever,
 * `-0.002` and anything at or beyond 2^63 ms (`inf`, `1e16`) are negative.
 *
 * @example
 * ```ts
 * const deadline = parseTimeout(client, args[args.length - 1]!);
 * ```
 */
export function parseTimeout(client: Client, text: string): number {
  const seconds = parseLongDouble(text);
  if (seconds === undefined) throw new CommandError(TIMEOUT_NOT_FLOAT);
  const milliseconds = timeoutMilliseconds(seconds);
  if (milliseconds < 0) throw new CommandError(TIMEOUT_NEGATIVE);
  return milliseconds === 0 ? 0 : client.server.keyspace.clock.now() + milliseconds;
}

/** C's `(long long) ceill(seconds * 1000.0L)` on x86-64, out of range giving LLONG_MIN. */
function timeoutMilliseconds(seconds: LongDouble): number {
  if (!isFiniteLongDouble(seconds)) return -1;
  if (seconds.significand === 0n) return 0;
  // Round the exact product to the 64-bit significand, ties to even.
  let significand = seconds.significand * 1000n;
  let exponent = seconds.exponent;
  const excess = significand.toString(2).length - LONG_DOUBLE_SIGNIFICAND_BITS;
  if (excess > 0) {
    const dropped = BigInt(excess);
    const kept = significand >> dropped;
    const remainder = significand - (kept << dropped);
    const half = 1n << (dropped - 1n);
    significand = kept;
    exponent += excess;
    if (remainder > half || (remainder === half && (kept & 1n) === 1n)) significand++;
  }
  // Integer part and whether a fraction remains, then ceil per sign.
  let whole: bigint;
  let fraction = false;
  if (exponent >= 0) {
    if (significand.toString(2).length + exponent > 63) return -1;
    whole = significand << BigInt(exponent);
  } else {
    const shift = BigInt(-exponent);
    whole = significand >> shift;
    fraction = (whole << shift) !== significand;
  }
  if (seconds.negative) return whole === 0n ? 0 : -1;
  if (fraction) whole++;
  return whole >= LLONG_LIMIT ? -1 : Number(whole);
}

const LONG_DOUBLE_SIGNIFICAND_BITS = 64;
const LLONG_LIMIT = 1n << 63n;

/**
 * Whether `client` may block now: not while EXEC runs its queue (Redis's
 * CLIENT_DENY_BLOCKING), and not while the AOF is being loaded.
 *
 * A handler only ever runs with `client.transaction` set when EXEC is
 * running it (between MULTI and EXEC the dispatcher queues commands instead
 * of running them, and EXEC detaches the queue only after running it), so
 * that is the signal; no flag has to be kept in step with EXEC.
 */
export function blockingAllowed(client: Client): boolean {
  return client.transaction === undefined && !client.server.loading;
}

/**
 * Blocks `client` until `tryServe` serves it from one of `keys` (in its
 * current database) or `deadline` (absolute ms from `parseTimeout`, 0 for
 * never) passes, when `onTimeout` writes its reply (by default a null
 * array, as every Redis 7.0 blocking command answers a timeout).
 *
 * Call it from a handler, after finding that no key can serve the command
 * now, without having written any reply. If the client may not block
 * (`blockingAllowed` is false, e.g. inside EXEC), `onTimeout` replies
 * immediately instead. Commands whose reply in that case differs from their
 * timeout reply (BLMOVE: a null bulk string) check `blockingAllowed` first.
 *
 * @example
 * ```ts
 * // BZPOPMIN key [key ...] timeout, when every key is empty:
 * blockClient(client, keys, deadline, (waiter, key) => {
 *   const zset = waiter.db.lookup(key);
 *   if (!(zset instanceof SortedSet)) return false;
 *   popAndReply(waiter, key, zset);               // writes the reply, calls changed()
 *   waiter.addEffect(["ZPOPMIN", key]);
 *   return true;
 * });
 * ```
 */
export function blockClient(
  client: Client,
  keys: readonly string[],
  deadline: number,
  tryServe: TryServe,
  onTimeout: TimeoutReply = replyNullArray,
): void {
  if (!blockingAllowed(client)) {
    onTimeout(client);
    return;
  }
  if (client.blocked !== undefined) throw new Error(`Client ${client.id} is already blocked`);
  client.server.blocking.block(client, keys, deadline, tryServe, onTimeout);
}

/**
 * Suspends `client` while `work` runs across turns of the event loop (for
 * a command that must wait for something other than a key, such as
 * MIGRATE's transfer to another server): the connection stops reading the
 * client's pipeline, as for a blocked client. When `work` settles,
 * `complete` runs through the executor as a unit of its own (so it may
 * change data, record effects and reply, with a command's error
 * handling), the reply is sent and the client resumes. A client that
 * disconnects meanwhile is never completed. The caller checks
 * `blockingAllowed` first: inside EXEC a client cannot be suspended.
 *
 * @example
 * ```ts
 * suspendClient(client, transfer(keys), (waiter, outcome) => {
 *   if (outcome.status === "rejected") throw new CommandError(`IOERR ${outcome.reason}`);
 *   waiter.reply.ok();
 * });
 * ```
 */
export function suspendClient<T>(
  client: Client,
  work: Promise<T>,
  complete: (client: Client, outcome: PromiseSettledResult<T>) => void,
): void {
  if (client.blocked !== undefined) throw new Error(`Client ${client.id} is already blocked`);
  const suspension: BlockedState = {
    deadline: 0,
    onTimeout() {},
    dispose() {
      if (client.blocked === suspension) client.blocked = undefined;
    },
  };
  client.blocked = suspension;
  const settle = (outcome: PromiseSettledResult<T>) => {
    if (client.closed || client.blocked !== suspension) return;
    const server = client.server;
    // Nothing may change data while a long script is between slices.
    if (server.executor.holding) {
      setTimeout(() => settle(outcome), 1);
      return;
    }
    client.blocked = undefined;
    server.executor.serve(client, () => {
      complete(client, outcome);
      return true;
    });
    server.markPending(client);
    server.flush();
    queueMicrotask(() => {
      if (!client.closed && client.blocked === undefined) client.transport.resume();
    });
  };
  work.then(
    (value) => settle({ status: "fulfilled", value }),
    (reason: unknown) => settle({ status: "rejected", reason }),
  );
}

/** The clients waiting on one key of one database, first come first. */
interface WaitQueue {
  readonly db: Database;
  readonly key: string;
  /** A Set keeps insertion order and removes any member in O(1). */
  readonly waiters: Set<Waiter>;
}

/** One blocked client: what it waits for and how to answer it. */
class Waiter implements BlockedState {
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly registry: Blocking,
    readonly client: Client,
    readonly queues: readonly WaitQueue[],
    readonly deadline: number,
    readonly tryServe: TryServe,
    readonly timeoutReply: TimeoutReply,
  ) {}

  /** Arms the timer; long waits re-arm it, as timers cannot exceed 2^31-1 ms. */
  schedule(): void {
    if (this.deadline === 0) return;
    const delay = this.deadline - this.client.server.keyspace.clock.now();
    this.#timer = setTimeout(
      () => delay > MAX_TIMER_DELAY ? this.schedule() : this.onTimeout(),
      Math.min(Math.max(delay, 0), MAX_TIMER_DELAY),
    );
  }

  onTimeout(): void {
    this.timeoutReply(this.client);
    this.finish();
    // No command is running: send the reply now.
    this.client.server.flush();
  }

  /** Stops waiting after a reply was written: unregisters, sends, resumes. */
  finish(): void {
    const client = this.client;
    this.dispose();
    client.server.markPending(client);
    queueMicrotask(() => {
      if (!client.closed && client.blocked === undefined) client.transport.resume();
    });
  }

  dispose(): void {
    if (this.client.blocked === this) this.client.blocked = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const queue of this.queues) this.registry.leave(queue, this);
  }
}

/** setTimeout's longest delay. */
const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** One server's blocked clients, by database and key, and its ready keys. */
export class Blocking implements KeyspaceEvents {
  readonly #queues = new Map<Database, Map<string, WaitQueue>>();
  /** Queues whose key changed since the last serve, in the order it happened. */
  readonly #ready = new Set<WaitQueue>();

  keyChanged(db: Database, key: string): void {
    const queue = this.#queues.get(db)?.get(key);
    if (queue !== undefined) this.#ready.add(queue);
  }

  databaseChanged(db: Database): void {
    for (const queue of this.#queues.get(db)?.values() ?? []) this.#ready.add(queue);
  }

  clientClosed(client: Client): void {
    if (client.blocked instanceof Waiter) client.blocked.dispose();
  }

  block(
    client: Client,
    keys: readonly string[],
    deadline: number,
    tryServe: TryServe,
    onTimeout: TimeoutReply,
  ): void {
    const db = client.db;
    let byKey = this.#queues.get(db);
    if (byKey === undefined) {
      byKey = new Map();
      this.#queues.set(db, byKey);
    }
    const queues: WaitQueue[] = [];
    for (const key of new Set(keys)) {
      let queue = byKey.get(key);
      if (queue === undefined) {
        queue = { db, key, waiters: new Set() };
        byKey.set(key, queue);
      }
      queues.push(queue);
    }
    const waiter = new Waiter(this, client, queues, deadline, tryServe, onTimeout);
    for (const queue of queues) queue.waiters.add(waiter);
    client.blocked = waiter;
    waiter.schedule();
  }

  /** Removes `waiter` from `queue`, forgetting the queue once nobody waits. */
  leave(queue: WaitQueue, waiter: Waiter): void {
    queue.waiters.delete(waiter);
    if (queue.waiters.size !== 0) return;
    const byKey = this.#queues.get(queue.db);
    if (byKey?.get(queue.key) === queue) byKey.delete(queue.key);
    if (byKey?.size === 0) this.#queues.delete(queue.db);
  }

  /** Serves the clients of every ready key, including keys made ready meanwhile. */
  serveReady(): void {
    if (this.#ready.size === 0) return;
    while (this.#ready.size !== 0) {
      const ready = [...this.#ready];
      this.#ready.clear();
      for (const queue of ready) this.#serveQueue(queue);
    }
  }

  #serveQueue(queue: WaitQueue): void {
    // Iterating the live Set: members removed meanwhile are skipped.
    for (const waiter of queue.waiters) {
      const client = waiter.client;
      const served = client.server.executor.serve(
        client,
        () => waiter.tryServe(client, queue.key),
      );
      if (served) waiter.finish();
    }
  }
}
