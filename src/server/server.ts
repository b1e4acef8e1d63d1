/**
 * Server: the state one running instance shares between connections.
 *
 * It owns the configuration, the keyspace, the connected clients, the AOF
 * and the statistics INFO reports, and it is where the per-batch rhythm
 * lives: after a connection's requests have run, `flush` appends the
 * batch's writes to the AOF (fsyncing first under `always`) and only then
 * sends every client's pending replies, so no client sees an acknowledgement
 * for a write that is not in the file.
 *
 * Features that must hear about key changes, disconnects or readiness of
 * blocked clients (WATCH, notifications, blocking pops) register listeners
 * here rather than being called from handlers, keeping data flow one way.
 *
 * @module
 */

import { type Config, VERSION } from "../config.ts";
import type { AppendOnlyFile } from "../persistence/aof.ts";
import { Keyspace } from "../store/keyspace.ts";
import type { Database } from "../store/keyspace.ts";
import { Client, type ClientTransport } from "./client.ts";
import type { Logger } from "./log.ts";

/** Told of every change a command makes to a key. */
export type KeyChangeListener = (
  db: Database,
  key: string,
  event: string,
  eventClass: string,
) => void;

export interface ServerStats {
  connectionsReceived: number;
  commandsProcessed: number;
  rejectedConnections: number;
  keyspaceHits: number;
  keyspaceMisses: number;
  netInputBytes: number;
  netOutputBytes: number;
}

export class Server {
  readonly keyspace: Keyspace;
  readonly clients = new Map<number, Client>();
  readonly startedAt = Date.now();
  readonly runId: string;
  readonly stats: ServerStats = {
    connectionsReceived: 0,
    commandsProcessed: 0,
    rejectedConnections: 0,
    keyspaceHits: 0,
    keyspaceMisses: 0,
    netInputBytes: 0,
    netOutputBytes: 0,
  };
  /** Changes since start; a command that moves it gets logged. */
  dirty = 0;
  /** Set while the AOF cannot be written: writes are refused with it (MISCONF). */
  writeError: string | undefined;
  aof: AppendOnlyFile | undefined;
  /** True while the AOF is being replayed at start-up (INFO loading:1). */
  loading = false;
  /** Port actually bound (differs from config when it asked for 0). */
  port = 0;
  /** Clients with replies waiting to be sent after this batch. */
  readonly #pendingClients = new Set<Client>();
  readonly keyChangeListeners: KeyChangeListener[] = [];
  readonly clientClosedListeners: ((client: Client) => void)[] = [];
  /** Told when RESET returns a client to its initial state. */
  readonly clientResetListeners: ((client: Client) => void)[] = [];
  /** Told when a whole database changes at once (FLUSHDB, FLUSHALL, SWAPDB). */
  readonly databaseChangedListeners: ((db: Database) => void)[] = [];
  /** Run after each command to serve blocked clients whose keys became ready. */
  readonly readyClientServers: (() => void)[] = [];
  /** Called to stop the process (SHUTDOWN); set by main. */
  shutdownHandler: ((reason: string) => Promise<void>) | undefined;
  #nextClientId = 1;
  #flushScheduled = false;

  constructor(readonly config: Config, readonly log: Logger) {
    this.keyspace = new Keyspace(config.databases);
    this.runId = Array.from(
      crypto.getRandomValues(new Uint8Array(20)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
  }

  get version(): string {
    return VERSION;
  }

  /** Registers a new connection's client. */
  connect(transport: ClientTransport): Client {
    const client = new Client(this.#nextClientId++, this, transport);
    this.clients.set(client.id, client);
    this.stats.connectionsReceived++;
    return client;
  }

  /** Forgets a client whose connection ended. */
  disconnect(client: Client): void {
    if (client.closed) return;
    client.closed = true;
    this.clients.delete(client.id);
    this.#pendingClients.delete(client);
    for (const listener of this.clientClosedListeners) listener(client);
  }

  /** See Client.changed. */
  keyChanged(db: Database, key: string, event: string, eventClass: string): void {
    this.dirty++;
    const listeners = this.keyChangeListeners;
    for (let i = 0; i < listeners.length; i++) listeners[i]!(db, key, event, eventClass);
  }

  /** Told after CONFIG SET changed the configuration. */
  readonly configChangedListeners: (() => void)[] = [];

  /** Applies configuration changed at run time (CONFIG SET). */
  configChanged(): void {
    this.log.level = this.config.loglevel;
    if (this.aof) this.aof.policy = this.config.appendfsync;
    for (const listener of this.configChangedListeners) listener();
  }

  /** Records that every key of `db` may have changed (FLUSHDB, SWAPDB). */
  databaseChanged(db: Database): void {
    this.dirty++;
    for (const listener of this.databaseChangedListeners) listener(db);
  }

  /**
   * While set, propagated commands are collected here instead of reaching
   * the AOF (EXEC decides how to wrap what its commands logged).
   */
  propagationBuffer: [number, readonly string[]][] | undefined;

  /** Appends an executed write to the AOF (buffered until `flush`). */
  propagate(dbIndex: number, args: readonly string[]): void {
    if (this.propagationBuffer !== undefined) this.propagationBuffer.push([dbIndex, args]);
    else this.aof?.append(dbIndex, args);
  }

  /** Lets blocked clients whose keys became ready take their data. */
  serveReadyClients(): void {
    const servers = this.readyClientServers;
    for (let i = 0; i < servers.length; i++) servers[i]!();
  }

  /** Marks a client as having replies to send at the end of the batch. */
  markPending(client: Client): void {
    this.#pendingClients.add(client);
  }

  /**
   * Flushes once the current task ends, so every connection that received
   * data in this turn of the event loop shares one AOF write (a microtask:
   * setImmediate would run before the next I/O poll and starve clients).
   */
  scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(this.#scheduledFlush);
  }

  readonly #scheduledFlush = () => {
    this.#flushScheduled = false;
    this.flush();
  };

  /**
   * Ends a batch: writes the AOF, then sends all pending replies. Under
   * `appendfsync always` the replies are taken now and sent once the fsync
   * covering this batch completes (see AppendOnlyFile.flush).
   */
  flush(): void {
    const aof = this.aof;
    if (aof !== undefined && aof.repliesWaitForSync) {
      const outgoing: [Client, Uint8Array, boolean][] = [];
      for (const client of this.#pendingClients) {
        outgoing.push([client, client.reply.take(), client.closeAfterReply]);
      }
      this.#pendingClients.clear();
      aof.flush(() => {
        for (const [client, bytes, close] of outgoing) this.#send(client, bytes, close);
      });
      return;
    }
    if (aof !== undefined && aof.hasPendingWrites) aof.flush(NOTHING);
    if (this.#pendingClients.size === 0) return;
    for (const client of this.#pendingClients) {
      this.#send(
        client,
        client.reply.length > 0 ? client.reply.take() : undefined,
        client.closeAfterReply,
      );
    }
    this.#pendingClients.clear();
  }

  #send(client: Client, bytes: Uint8Array | undefined, close: boolean): void {
    if (client.closed) return;
    if (bytes !== undefined && bytes.byteLength > 0) {
      this.stats.netOutputBytes += bytes.byteLength;
      client.transport.write(bytes);
    }
    if (close) {
      client.transport.close();
      // Like Redis, a closing client is freed now, not when the peer hangs up.
      this.disconnect(client);
    }
  }
}

const NOTHING = () => {};
