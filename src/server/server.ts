/**
 * Server: the state one running instance shares between connections, and
 * the composition root that builds it.
 *
 * The constructor builds every part and wires it once: the command table
 * from the families, the executor (the one route by which effects reach
 * the AOF), and the typed parts that own a feature's state — `watches`,
 * `pubsub` with its keyspace notifications, `blocking`, `scanCursors`,
 * `persistence`. Parts that must hear about key changes, whole-database
 * changes, disconnects or RESET implement `KeyspaceEvents`; the server calls
 * them in a fixed order. So a bare `new Server(config, log)` (what the
 * in-process tests build) is the complete server, expiry propagation and
 * all; start-up only adds loading the AOF, the listener and the timers.
 *
 * It is also where the per-batch rhythm lives: after a connection's
 * requests have run, `flush` appends the batch's writes to the AOF
 * (fsyncing first under `always`) and only then sends every client's
 * pending replies, so no client sees an acknowledgement for a write that is
 * not in the file.
 *
 * @module
 */

import { AccessControl } from "../acl/mod.ts";
import { TableCatalogue } from "../commands/acl.ts";
import { Blocking } from "../commands/blocking.ts";
import { Client, type ClientTransport, NO_TRANSPORT } from "../commands/client.ts";
import { describeClient } from "../commands/client_info.ts";
import type { KeyspaceEvents, ServerContext, ServerStats } from "../commands/context.ts";
import { ArityError, UnknownCommandError } from "../commands/errors.ts";
import { Executor } from "../commands/executor.ts";
import { COMMAND_FAMILIES } from "../commands/families.ts";
import { KeyspaceNotifier } from "../commands/notifications.ts";
import { ServerOperations } from "../commands/operations/mod.ts";
import { PubSub } from "../commands/pubsub.ts";
import { CommandTable } from "../commands/registry.ts";
import { ScanCursors } from "../commands/scan.ts";
import { ScriptingRuntime } from "../commands/scripting/runtime.ts";
import type { Command } from "../commands/table.ts";
import { Watches } from "../commands/transactions.ts";
import { type Config, ConfigChangeListeners, VERSION } from "../config.ts";
import type { Logger } from "../log.ts";
import type { AppendOnlyFile } from "../persistence/aof.ts";
import { Persistence, type PersistenceHost } from "../persistence/lifecycle.ts";
import { UnresolvedCommand } from "../persistence/loader.ts";
import { type Clock, type Database, Keyspace, systemClock } from "../store/keyspace.ts";
import { Replication, type ReplicationHost } from "../replication/mod.ts";
import { renderInfo } from "./info.ts";
import { adjustOpenFilesLimit } from "./native.ts";
import { clientClass, overOutputLimit } from "./output_limits.ts";

/** What a server can be built with besides its configuration. */
export interface ServerOptions {
  /** Where the keyspace gets the time (tests use a manual clock). */
  clock?: Clock;
  /** Extra listeners, told of events after the server's own parts. */
  observers?: readonly KeyspaceEvents[];
}

type KeyChanged = NonNullable<KeyspaceEvents["keyChanged"]>;
type DatabaseChanged = NonNullable<KeyspaceEvents["databaseChanged"]>;
type ClientEvent = NonNullable<KeyspaceEvents["clientClosed"]>;

export class Server implements ServerContext, PersistenceHost<Command>, ReplicationHost {
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
  /** Changes since start; a command that moves it changed data. */
  dirty = 0;
  /** Set while the AOF cannot be written: writes are refused with it (MISCONF). */
  writeError: string | undefined;
  /** True while the AOF is being replayed at start-up (INFO loading:1). */
  loading = false;
  /** Port actually bound (differs from config when it asked for 0). */
  port = 0;
  /**
   * `maxclients` as it can be honoured: lowered at start-up when the
   * open-files limit cannot be raised enough (see native.ts).
   */
  maxClients: number;
  /** What CONFIG SET runs to apply a change (see #applyConfigChanges). */
  readonly configListeners = new ConfigChangeListeners();
  /** Called to stop the process (SHUTDOWN); set by main. */
  shutdownHandler: (() => Promise<void>) | undefined;

  readonly commands: CommandTable;
  readonly executor: Executor;
  readonly watches: Watches;
  readonly pubsub: PubSub;
  readonly blocking: Blocking;
  readonly scanCursors: ScanCursors;
  readonly persistence: Persistence<Command>;
  readonly operations: ServerOperations;
  readonly acl: AccessControl;
  readonly aclCatalogue: TableCatalogue;
  /** Scripting (EVAL, functions): owned by commands/scripting/runtime.ts. */
  readonly scripts: ScriptingRuntime;
  /** Replication: the backlog, attached replicas, the master link (replication/). */
  readonly replication: Replication;

  /** Clients with replies waiting to be sent after this batch. */
  readonly #pendingClients = new Set<Client>();
  readonly #keyChanged: KeyChanged[];
  readonly #databaseChanged: DatabaseChanged[];
  readonly #clientClosed: ClientEvent[];
  readonly #clientReset: ClientEvent[];
  #aof: AppendOnlyFile | undefined;
  /** Runs the commands of the AOF at start-up; not one of `clients`. */
  readonly #loaderClient: Client;
  #nextClientId = 1;
  #flushScheduled = false;

  constructor(readonly config: Config, readonly log: Logger, options: ServerOptions = {}) {
    this.keyspace = new Keyspace(config.databases, options.clock ?? systemClock);
    this.runId = Array.from(
      crypto.getRandomValues(new Uint8Array(20)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    this.commands = new CommandTable(COMMAND_FAMILIES);
    for (const { from, to } of config.renamedCommands) this.commands.rename(from, to);
    this.aclCatalogue = new TableCatalogue(this.commands);
    this.acl = new AccessControl({
      catalogue: this.aclCatalogue.catalogue,
      pubsubDefault: config.aclPubsubDefault,
      logMaxLength: config.aclLogMaxLen,
      aclfile: config.aclfile,
      logger: log,
    });
    this.acl.setRequirePass(config.requirepass);
    this.executor = new Executor(this);
    this.watches = new Watches();
    this.pubsub = new PubSub(this);
    this.blocking = new Blocking();
    this.scanCursors = new ScanCursors();
    this.persistence = new Persistence(this);
    this.operations = new ServerOperations(this);
    // Scripting: the Lua environments, script cache and function libraries.
    this.scripts = new ScriptingRuntime(this);
    this.replication = new Replication(this);
    this.executor.sinks.push(this.replication);
    // Order matters where parts observe each other's effects: watches and
    // waiters first, then notifications (which publish), then the rewrite.
    const parts: KeyspaceEvents[] = [
      this.watches,
      this.blocking,
      new KeyspaceNotifier(config, this.pubsub),
      this.pubsub,
      // After the change's notifications: tracking invalidations follow them.
      this.operations,
      this.persistence,
      this.replication,
      ...options.observers ?? [],
    ];
    this.#keyChanged = listeners(parts, "keyChanged");
    this.#databaseChanged = listeners(parts, "databaseChanged");
    this.#clientClosed = listeners(parts, "clientClosed");
    this.#clientReset = listeners(parts, "clientReset");
    this.keyspace.observer = {
      expired: (db, key) => {
        this.executor.expired(db.index, key);
        this.keyChanged(db, key, "expired", "x");
      },
    };
    this.#loaderClient = new Client(0, this, NO_TRANSPORT);
    this.maxClients = config.maxclients;
    this.#applyConfigChanges();
  }

  /**
   * What a CONFIG SET of these parameters must do beyond changing the
   * value (Redis's apply functions). Everything else is read from
   * `config` where it is used (timeout, client-output-buffer-limit,
   * proto-max-bulk-len, client-query-buffer-limit, tcp-keepalive for new
   * connections, the encoding thresholds...). A listener that returns an
   * error makes CONFIG SET fail and roll back.
   */
  #applyConfigChanges(): void {
    const on = (names: string | string[], apply: (config: Config) => string | void) =>
      this.configListeners.onChange(names, (config) => apply(config));
    on("loglevel", (config) => void (this.log.level = config.loglevel));
    on("appendfsync", (config) => {
      if (this.#aof !== undefined) this.#aof.policy = config.appendfsync;
    });
    on("requirepass", (config) => this.acl.setRequirePass(config.requirepass));
    on(["stop-writes-on-bgsave-error", "save"], () => this.persistence.updateWriteError());
    on("acl-pubsub-default", (config) => void (this.acl.pubsubDefault = config.aclPubsubDefault));
    on("acllog-max-len", (config) => void (this.acl.log.maxLength = config.aclLogMaxLen));
    on("maxclients", (config) => {
      const allowed = adjustOpenFilesLimit(config.maxclients, this.log);
      if (allowed < config.maxclients) {
        return `The operating system is not able to handle the specified number of clients, try with ${allowed}`;
      }
      this.maxClients = config.maxclients;
    });
    on("hz", () => this.#rescheduleCron?.());
  }

  /** Set by `startCron`: restarts the cron when `hz` changes. */
  #rescheduleCron: (() => void) | undefined;

  /** Runs `cron` `hz` times a second until the returned function is called. */
  startCron(): () => void {
    let timer: ReturnType<typeof setInterval> | undefined;
    const schedule = () => {
      clearInterval(timer);
      timer = setInterval(() => this.cron(), 1000 / this.config.hz);
    };
    schedule();
    this.#rescheduleCron = schedule;
    return () => {
      clearInterval(timer);
      this.#rescheduleCron = undefined;
    };
  }

  /**
   * Why a new connection from `host` is refused, as the error line Redis
   * sends before closing it, or undefined to admit it: over `maxclients`,
   * or protected mode (no password for the default user) for a peer that
   * is not 127.0.0.1 or ::1 exactly, as Redis compares them.
   */
  admissionError(host: string): string | undefined {
    if (this.clients.size >= this.maxClients) return MAX_CLIENTS_REACHED;
    if (
      this.config.protectedMode && host !== "127.0.0.1" && host !== "::1" &&
      !host.startsWith("/") && this.defaultUserHasNoPassword()
    ) {
      return PROTECTED_MODE_DENIED;
    }
    return undefined;
  }

  /**
   * The periodic work of Redis's serverCron, run `hz` times a second: the
   * active expiry cycle and the clients cron (idle `timeout`, soft output
   * limits of clients that stopped reading).
   */
  cron(): void {
    // While a script is busy nothing else may change data (scripting/runtime.ts).
    const removed = this.scripts.busy
      ? 0
      : (this.operations.activeExpireEnabled
        ? this.keyspace.activeExpireCycle(EXPIRE_CYCLE_BUDGET_MS)
        : 0);
    this.#clientsCron(Date.now());
    this.operations.cron(Date.now());
    if (removed > 0 || this.#pendingClients.size > 0) this.flush();
  }

  /** Redis's clientsCron: closes idle clients and ones stuck over their soft output limit. */
  #clientsCron(now: number): void {
    const idleLimitMs = this.config.timeout * 1000;
    for (const client of this.clients.values()) {
      if (
        idleLimitMs > 0 && client.blocked === undefined && client.subscriptionCount === 0 &&
        client.kind === "normal" &&
        now - client.lastInteractionAt > idleLimitMs
      ) {
        this.log.verbose("Closing idle client");
        client.transport.close();
        this.disconnect(client);
        continue;
      }
      if (client.outputSoftLimitSince !== 0) this.enforceOutputLimit(client);
    }
  }

  /** Whether the default user can log in without a password (protected mode applies). */
  defaultUserHasNoPassword(): boolean {
    return this.acl.defaultUser.noPassword;
  }

  get version(): string {
    return VERSION;
  }

  /** The AOF effects are appended to; persistence sets it once loaded. */
  get aof(): AppendOnlyFile | undefined {
    return this.#aof;
  }

  set aof(aof: AppendOnlyFile | undefined) {
    const sinks = this.executor.sinks;
    if (this.#aof !== undefined) sinks.splice(sinks.indexOf(this.#aof), 1);
    this.#aof = aof;
    if (aof !== undefined) sinks.push(aof);
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
    for (const listener of this.#clientClosed) listener(client);
  }

  clientReset(client: Client): void {
    for (const listener of this.#clientReset) listener(client);
  }

  /** See Client.changed. */
  keyChanged(db: Database, key: string, event: string, eventClass: string, signalled = true): void {
    this.dirty++;
    const listeners = this.#keyChanged;
    for (let i = 0; i < listeners.length; i++) {
      listeners[i]!(db, key, event, eventClass, signalled);
    }
  }

  /** Records that every key of `db` may have changed (FLUSHDB, SWAPDB). */
  databaseChanged(db: Database): void {
    this.dirty++;
    for (const listener of this.#databaseChanged) listener(db);
  }

  info(sections: readonly string[]): string {
    return renderInfo(this, sections);
  }

  /** Stops the process (SHUTDOWN, once it has logged and saved); false when it cannot. */
  shutdown(): boolean {
    if (this.shutdownHandler === undefined) return false;
    void this.shutdownHandler();
    return true;
  }

  /** The function libraries persistence saves (their source code). */
  functionLibraries(): readonly string[] {
    return this.scripts.libraries.sources();
  }

  /** Loads a function library read from a file; throws LibraryError when it does not load. */
  loadFunction(code: string): void {
    this.scripts.loadLibrary(code);
  }

  /** A long script is between slices (persistence waits before fixing a snapshot). */
  get unitHeld(): boolean {
    return this.executor.holding;
  }

  /** ReplicationHost: drops every function library (a full sync replaces them). */
  flushFunctions(): void {
    this.scripts.flushFunctions();
  }

  /** ReplicationHost: runs `send` once the AOF holds what ran so far (after its fsync under always). */
  afterAofFlush(send: () => void): void {
    const aof = this.#aof;
    if (aof === undefined) send();
    else aof.flush(send);
  }

  /** ReplicationHost: a replica's keys expire and are evicted only by its master's DELs. */
  replicaExpiry(replica: boolean): void {
    this.keyspace.expireOnLookup = !replica;
    // replica-ignore-maxmemory: the master's DELs are what evicts here.
    this.operations.eviction.replica = replica;
  }

  /** Looks a command read from the AOF up (see persistence/loader.ts). */
  resolve(args: string[]): Command | UnresolvedCommand {
    try {
      return this.commands.resolve(args);
    } catch (error) {
      if (error instanceof UnknownCommandError) {
        return new UnresolvedCommand("unknown-command", error.message);
      }
      if (error instanceof ArityError) {
        return new UnresolvedCommand("invalid-arguments", error.message);
      }
      throw error;
    }
  }

  /** Runs a command read from the AOF; its error reply's text if it failed. */
  replay(command: Command, args: string[]): string | undefined {
    return this.executor.replay(this.#loaderClient, command, args);
  }

  /**
   * Marks a client as having replies to send at the end of the batch, and
   * cuts it off if its unsent output is over its class's limit.
   */
  markPending(client: Client): void {
    this.#pendingClients.add(client);
    this.enforceOutputLimit(client);
  }

  /**
   * Closes `client` if its unsent output is over its class's
   * client-output-buffer-limit; returns whether it did.
   */
  enforceOutputLimit(client: Client): boolean {
    const limit = this.config.clientOutputBufferLimits[clientClass(client)];
    if (limit.hardBytes === 0 && limit.softBytes === 0) return false;
    if (!overOutputLimit(client, limit, Date.now())) return false;
    this.log.warning(
      `Client ${
        describeClient(client)
      } scheduled to be closed ASAP for overcoming of output buffer limits.`,
    );
    this.disconnect(client);
    client.reply.truncate(0);
    client.reply.take(); // Gives back the grown buffer.
    client.transport.abort();
    return true;
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
    const aof = this.#aof;
    if (aof !== undefined && aof.repliesWaitForSync) {
      const outgoing: [Client, Uint8Array[], boolean][] = [];
      for (const client of this.#pendingClients) {
        const chunks: Uint8Array[] = [];
        client.reply.drain((bytes) => chunks.push(bytes));
        outgoing.push([client, chunks, client.closeAfterReply]);
      }
      this.#pendingClients.clear();
      aof.flush(() => {
        for (const [client, chunks, close] of outgoing) {
          if (client.closed) continue;
          for (const bytes of chunks) this.#write(client, bytes);
          if (close) this.#close(client);
        }
      });
      return;
    }
    if (aof !== undefined && aof.hasPendingWrites) aof.flush(NOTHING);
    if (this.#pendingClients.size === 0) return;
    for (const client of this.#pendingClients) {
      if (client.closed) continue;
      const reply = client.reply;
      if (reply.length > 0) {
        // Large bulks come in chunks of their own (rare); the rest in one buffer.
        if (reply.chunked) reply.drain((bytes) => this.#write(client, bytes));
        else this.#write(client, reply.take());
      }
      if (client.closeAfterReply) this.#close(client);
    }
    this.#pendingClients.clear();
  }

  #write(client: Client, bytes: Uint8Array): void {
    this.stats.netOutputBytes += bytes.byteLength;
    client.transport.write(bytes);
  }

  #close(client: Client): void {
    client.transport.close();
    // Like Redis, a closing client is freed now, not when the peer hangs up.
    this.disconnect(client);
  }
}

/** The parts' implementations of one event, bound to their part. */
function listeners<E extends keyof KeyspaceEvents>(
  parts: readonly KeyspaceEvents[],
  event: E,
): NonNullable<KeyspaceEvents[E]>[] {
  const found: NonNullable<KeyspaceEvents[E]>[] = [];
  for (const part of parts) {
    const listener = part[event];
    if (listener !== undefined) found.push(listener.bind(part) as NonNullable<KeyspaceEvents[E]>);
  }
  return found;
}

const NOTHING = () => {};

/** How long one run of the active expiry cycle may take. */
const EXPIRE_CYCLE_BUDGET_MS = 25;

const MAX_CLIENTS_REACHED = "-ERR max number of clients reached";
const PROTECTED_MODE_DENIED =
  "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.";
