/**
 * Server-assisted client-side caching (CLIENT TRACKING): which client read
 * which key, and the invalidation messages sent when those keys change.
 *
 * It follows Redis's tracking.c:
 *
 * - Default mode: the keys a tracking client reads (read-only commands,
 *   keys found through the command's key specs) go in one table shared by
 *   every database, key → ids of the clients that may cache it. When the
 *   key changes, each of them gets one `invalidate` message and the key
 *   leaves the table, so a client hears about a key once per read. OPTIN
 *   tracks only the command after `CLIENT CACHING yes`, OPTOUT all but the
 *   command after `CLIENT CACHING no`.
 * - BCAST mode: clients subscribe to key prefixes (none: every key); a
 *   change to a matching key is remembered per prefix, and once the
 *   current turn of the event loop ends (Redis: beforeSleep) each
 *   subscriber gets one message listing that prefix's keys, in key order.
 * - Messages are RESP3 pushes (`>2 invalidate [keys]`), or, with REDIRECT,
 *   go to another client: as a push if it speaks RESP3, as a Pub/Sub
 *   message on `__redis__:invalidate` if it is a RESP2 subscriber. A
 *   redirect target that went away earns the tracking client a
 *   `tracking-redir-broken` push. FLUSHDB/FLUSHALL send a null
 *   invalidation to every tracking client and empty the table.
 * - NOLOOP: no messages about keys the client changed itself. A client
 *   that changes a key it reads gets the message after its own reply, as
 *   Redis 7.0.15 does (`tracking_pending_keys`).
 *
 * The table is bounded by `tracking-table-max-keys`: beyond it, the oldest
 * keys are invalidated and forgotten. A server without tracking clients
 * pays one size check per key change.
 *
 * @module
 */

import type { Client } from "../client.ts";
import type { KeyspaceEvents, ServerContext } from "../context.ts";
import { commandKeys } from "../table.ts";
import type { Command } from "../table.ts";

/** One client's tracking options (Redis's CLIENT_TRACKING_* flags). */
export interface TrackingOptions {
  /** Client id invalidations go to; 0 for the client itself. */
  redirect: number;
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  prefixes: string[];
}

/** A tracking client's state. */
interface TrackingState extends TrackingOptions {
  /** CLIENT CACHING yes|no applies to the next command (Redis's CLIENT_TRACKING_CACHING). */
  caching: boolean;
  /** The redirect target disappeared (CLIENT_TRACKING_BROKEN_REDIR). */
  brokenRedirect: boolean;
}

/** One BCAST prefix: its subscribers and the keys changed since the last broadcast. */
interface PrefixEntry {
  readonly clients: Set<Client>;
  /** Changed key → the client that changed it (for NOLOOP), or undefined if unknown. */
  readonly keys: Map<string, Client | undefined>;
}

const INVALIDATE = "invalidate";
const REDIRECT_BROKEN = "tracking-redir-broken";
/** Where RESP2 redirect targets get their invalidations (Redis's TrackingChannelName). */
export const INVALIDATION_CHANNEL = "__redis__:invalidate";

export class ClientTracking implements KeyspaceEvents {
  readonly #states = new Map<Client, TrackingState>();
  /** key → ids of clients that read it (Redis's TrackingTable). */
  readonly #table = new Map<string, Set<number>>();
  #items = 0;
  readonly #prefixes = new Map<string, PrefixEntry>();
  #broadcastScheduled = false;
  /** The client whose command is running (Redis's server.current_client). */
  currentClient: Client | undefined;
  /** Invalidations for the current client, sent after its reply (null: a flush). */
  readonly #pending: (string | null)[] = [];

  constructor(readonly server: ServerContext) {}

  /** How many clients have tracking on (INFO `tracking_clients`). */
  get clientCount(): number {
    return this.#states.size;
  }

  /** INFO's `tracking_total_keys`, `tracking_total_items`, `tracking_total_prefixes`. */
  get totals(): { keys: number; items: number; prefixes: number } {
    return { keys: this.#table.size, items: this.#items, prefixes: this.#prefixes.size };
  }

  /** The tracking options of `client`, or undefined when tracking is off. */
  optionsOf(client: Client): Readonly<TrackingState> | undefined {
    return this.#states.get(client);
  }

  /**
   * CLIENT TRACKING ON with `options`, which the command has checked
   * against the client's current mode (Redis's enableTracking): the flags
   * are replaced, BCAST prefixes are added to those the client has (no
   * prefix: every key).
   */
  enable(client: Client, options: TrackingOptions): void {
    let state = this.#states.get(client);
    if (state === undefined) {
      state = { ...options, prefixes: [], caching: false, brokenRedirect: false };
      this.#states.set(client, state);
    }
    state.redirect = options.redirect;
    state.bcast = options.bcast;
    state.optin = options.optin;
    state.optout = options.optout;
    state.noloop = options.noloop;
    state.brokenRedirect = false;
    if (!options.bcast) return;
    for (const prefix of options.prefixes.length > 0 ? options.prefixes : [""]) {
      if (state.prefixes.includes(prefix)) continue;
      state.prefixes.push(prefix);
      let entry = this.#prefixes.get(prefix);
      if (entry === undefined) {
        entry = { clients: new Set(), keys: new Map() };
        this.#prefixes.set(prefix, entry);
      }
      entry.clients.add(client);
    }
  }

  /** CLIENT TRACKING OFF (also RESET and disconnects). */
  disable(client: Client): void {
    const state = this.#states.get(client);
    if (state === undefined) return;
    for (const prefix of state.prefixes) {
      const entry = this.#prefixes.get(prefix);
      if (entry === undefined) continue;
      entry.clients.delete(client);
      if (entry.clients.size === 0) this.#prefixes.delete(prefix);
    }
    this.#states.delete(client);
  }

  /** CLIENT CACHING yes|no: applies to the client's next command. */
  setCaching(client: Client): void {
    const state = this.#states.get(client);
    if (state !== undefined) state.caching = true;
  }

  /**
   * After a command of a tracking client: remembers the keys a read-only
   * command read, then clears a CLIENT CACHING that applied to it (unless
   * it was CLIENT itself, or it was queued in MULTI: then it applies to the
   * whole transaction, as Redis's resetClient keeps it).
   */
  commandExecuted(client: Client, cmd: Command, args: readonly string[]): void {
    const state = this.#states.get(client);
    if (state === undefined) return;
    if (cmd.flags.includes("readonly") && !state.bcast) {
      const tracked = state.optin ? state.caching : state.optout ? !state.caching : true;
      if (tracked) this.#remember(client, commandKeys(cmd, args));
    }
    if (client.transaction === undefined && cmd.containerName !== "client") state.caching = false;
  }

  #remember(client: Client, keys: readonly string[]): void {
    for (const key of keys) {
      let ids = this.#table.get(key);
      if (ids === undefined) {
        ids = new Set();
        this.#table.set(key, ids);
      }
      if (!ids.has(client.id)) {
        ids.add(client.id);
        this.#items++;
      }
    }
    const limit = this.server.config.trackingTableMaxKeys;
    if (limit > 0 && this.#table.size > limit) this.#evict(limit);
  }

  /** Redis's trackingLimitUsedSlots: invalidates the oldest keys until the table fits. */
  #evict(limit: number): void {
    for (const key of this.#table.keys()) {
      if (this.#table.size <= limit) break;
      this.#invalidateKey(key, undefined);
    }
  }

  keyChanged(_db: unknown, key: string): void {
    if (this.#prefixes.size !== 0) this.#rememberForBroadcast(key);
    if (this.#table.size !== 0 && this.#table.has(key)) {
      this.#invalidateKey(key, this.currentClient);
    }
  }

  databaseChanged(): void {
    if (this.#states.size !== 0) {
      for (const client of this.#states.keys()) {
        if (client === this.currentClient) this.#pending.push(null);
        else this.#send(client, null);
      }
    }
    this.#table.clear();
    this.#items = 0;
  }

  clientClosed(client: Client): void {
    this.disable(client);
    if (client === this.currentClient) this.currentClient = undefined;
  }

  clientReset(client: Client): void {
    this.disable(client);
  }

  /**
   * After the outermost command: sends the current client the
   * invalidations its own command caused, after its reply.
   */
  commandCompleted(): void {
    const client = this.currentClient;
    this.currentClient = undefined;
    if (this.#pending.length === 0) return;
    if (client !== undefined && !client.closed) {
      for (const key of this.#pending) this.#send(client, key);
    }
    this.#pending.length = 0;
  }

  #invalidateKey(key: string, changedBy: Client | undefined): void {
    const ids = this.#table.get(key)!;
    this.#table.delete(key);
    this.#items -= ids.size;
    for (const id of ids) {
      const target = this.server.clients.get(id);
      if (target === undefined) continue;
      const state = this.#states.get(target);
      // A client that switched to BCAST since it read the key is not told.
      if (state === undefined || state.bcast) continue;
      if (state.noloop && target === changedBy) continue;
      if (target === changedBy) this.#pending.push(key);
      else this.#send(target, key);
    }
  }

  #rememberForBroadcast(key: string): void {
    for (const [prefix, entry] of this.#prefixes) {
      if (!key.startsWith(prefix)) continue;
      if (!entry.keys.has(key)) entry.keys.set(key, this.currentClient);
      this.#scheduleBroadcast();
    }
  }

  #scheduleBroadcast(): void {
    if (this.#broadcastScheduled) return;
    this.#broadcastScheduled = true;
    // After the current task, like Redis's beforeSleep: one message per prefix per turn.
    queueMicrotask(() => {
      this.#broadcastScheduled = false;
      if (this.broadcast()) this.server.flush();
    });
  }

  /** Sends BCAST subscribers the keys changed under their prefixes; whether anything was sent. */
  broadcast(): boolean {
    let sent = false;
    for (const entry of this.#prefixes.values()) {
      if (entry.keys.size === 0) continue;
      const keys = [...entry.keys.keys()].sort(compareBytes);
      for (const client of entry.clients) {
        const state = this.#states.get(client);
        const own = state?.noloop ? keys.filter((key) => entry.keys.get(key) !== client) : keys;
        if (own.length === 0) continue;
        this.#send(client, own);
        sent = true;
      }
      entry.keys.clear();
    }
    return sent;
  }

  /**
   * Redis's sendTrackingMessage: `keys` is one key, several (BCAST), or
   * null for a flush.
   */
  #send(client: Client, keys: string | readonly string[] | null): void {
    const state = this.#states.get(client);
    let target = client;
    let redirected = false;
    if (state !== undefined && state.redirect !== 0) {
      const redirect = this.server.clients.get(state.redirect);
      if (redirect === undefined) {
        state.brokenRedirect = true;
        if (client.protocol === 3) {
          client.reply.pushHeader(2);
          client.reply.bulk(REDIRECT_BROKEN);
          client.reply.integer(state.redirect);
          this.server.markPending(client);
        }
        return;
      }
      target = redirect;
      redirected = true;
    }
    const reply = target.reply;
    if (target.protocol === 3) {
      reply.pushHeader(2);
      reply.bulk(INVALIDATE);
    } else if (redirected && target.subscriptionCount > 0) {
      reply.pushHeader(3);
      reply.bulk("message");
      reply.bulk(INVALIDATION_CHANNEL);
    } else {
      // RESP2 without a subscribed redirect target has nowhere to put a push.
      return;
    }
    if (keys === null) reply.nullBulk();
    else if (typeof keys === "string") {
      reply.arrayHeader(1);
      reply.bulk(keys);
    } else reply.bulkArray(keys);
    this.server.markPending(target);
  }
}

function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
