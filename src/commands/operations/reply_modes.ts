/**
 * CLIENT REPLY ON|OFF|SKIP: clients that asked not to get the replies to
 * their own commands.
 *
 * Redis drops such replies as they are written (its CLIENT_REPLY_OFF and
 * CLIENT_REPLY_SKIP flags). Here the dispatcher's caller hands each
 * request's reply span to `requestProcessed`, which cuts it off for a
 * client that is OFF, or SKIPping this one request, so what other clients'
 * commands send it meanwhile (Pub/Sub messages, keyspace notifications,
 * invalidations) still arrives, as in Redis where those are pushed past
 * the flags; so do subscription confirmations, which Redis also pushes.
 * SKIP covers the request after CLIENT REPLY SKIP, whatever it
 * is (a refused one too), as Redis's resetClient moves SKIP_NEXT to SKIP.
 *
 * Clients in the default mode are not in the map, and a server where no
 * client changed its mode pays one size check per request.
 *
 * @module
 */

import type { Client } from "../client.ts";
import type { KeyspaceEvents } from "../context.ts";

/** A client's CLIENT REPLY state beyond the default ON. */
type ReplyMode = "off" | "skip-next" | "skip";

/**
 * Commands whose whole reply is Pub/Sub pushes (subscription
 * confirmations): Redis sends them past CLIENT REPLY OFF.
 */
const PUSHED_REPLIES = new Set([
  "subscribe",
  "unsubscribe",
  "psubscribe",
  "punsubscribe",
  "ssubscribe",
  "sunsubscribe",
]);

export class ReplyModes implements KeyspaceEvents {
  readonly #modes = new Map<Client, ReplyMode>();
  /** The client whose running request replied with pushes only. */
  #pushed: Client | undefined;

  /** Whether any client is not in the default mode (the hot-path check). */
  get active(): boolean {
    return this.#modes.size !== 0;
  }

  /** CLIENT REPLY ON. */
  on(client: Client): void {
    this.#modes.delete(client);
  }

  /** CLIENT REPLY OFF. */
  off(client: Client): void {
    this.#modes.set(client, "off");
  }

  /** CLIENT REPLY SKIP: the next request's reply is dropped (no effect while OFF). */
  skip(client: Client): void {
    if (this.#modes.get(client) !== "off") this.#modes.set(client, "skip-next");
  }

  /** A command ran for `client` (checked only while some client is not ON). */
  commandRan(client: Client, name: string): void {
    if (PUSHED_REPLIES.has(name)) this.#pushed = client;
  }

  /**
   * After one request of `client`: drops what it replied (written from
   * `replyStart` on) when the client is OFF or skipping it, then moves a
   * pending SKIP on to the next request.
   */
  requestProcessed(client: Client, replyStart: number): void {
    const pushed = this.#pushed === client;
    this.#pushed = undefined;
    const mode = this.#modes.get(client);
    if (mode === undefined) return;
    if (mode === "skip-next") {
      // CLIENT REPLY SKIP itself writes nothing; the request after it is skipped.
      this.#modes.set(client, "skip");
      return;
    }
    if (!pushed) client.reply.truncate(replyStart);
    if (mode === "skip") this.#modes.delete(client);
  }

  clientClosed(client: Client): void {
    this.#modes.delete(client);
  }

  clientReset(client: Client): void {
    this.#modes.delete(client);
  }
}
