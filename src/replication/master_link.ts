/**
 * The replica's side of replication: the link with our master, from the
 * TCP connection to the applied stream (Redis's connectWithMaster,
 * syncWithMaster, readSyncBulkPayload and the master client).
 *
 * One `MasterLink` is one attempt: it connects, performs the handshake
 * Redis 7.0 performs (PING, AUTH with `masteruser`/`masterauth`, REPLCONF
 * listening-port and ip-address, REPLCONF capa eof capa psync2, then PSYNC
 * with the replication id and offset we can continue from, or `? -1`),
 * and then either continues (`+CONTINUE`) or loads the RDB the master sends
 * (`+FULLRESYNC`, then `$<length>` or `$EOF:<mark>` and the bytes, which go
 * straight into the keyspace as they arrive: rdb_loader.ts's stream
 * loader). After that it applies the stream: each command runs through the
 * dispatcher on the master client, whose replies are dropped. When the
 * attempt ends, for whatever reason, its owner (the replication part)
 * starts another one a second later, as Redis's replicationCron does.
 *
 * Offsets are Redis's: a command counts once it has been applied (its
 * bytes are then passed on to our own replicas and backlog, so a chain of
 * replicas shares one stream and one offset). A MULTI block counts as a
 * whole when its EXEC has run: a link that breaks inside one leaves the
 * offset before its MULTI, and the master sends it again.
 *
 * While the master's commands run, the keyspace clock is stopped at the
 * epoch (as the AOF loader does), so no key is ever expired for them: on a
 * replica keys expire only when the master says so, with a DEL.
 *
 * @module
 */

import { dispatch } from "../commands/dispatcher.ts";
import type { Client, ClientTransport } from "../commands/client.ts";
import type { Logger } from "../log.ts";
import { RdbStreamLoader } from "../persistence/rdb_loader.ts";
import { ProtocolError, RequestParser } from "../protocol/parser.ts";
import type { Clock } from "../store/keyspace.ts";
import type { ReplicationHost } from "./host.ts";
import { announcedIp, announcedPort } from "./settings.ts";

/** Where the link is, as ROLE names it. */
export type LinkState = "connect" | "connecting" | "handshake" | "sync" | "connected";

/** What the PSYNC reply was. */
export type SyncOutcome =
  | { kind: "full"; replid: string; offset: number }
  | { kind: "continue"; replid: string | undefined };

/** What the link asks of its owner (the replication part). */
export interface MasterLinkOwner {
  readonly host: ReplicationHost;
  readonly log: Logger;
  /** The replication id and offset to continue from, if any (Redis's cached master). */
  psyncFrom(): { replid: string; offset: number } | undefined;
  /** A failover sends `PSYNC ... FAILOVER` to its target. */
  readonly failingOver: boolean;
  /** The master answered PSYNC. */
  synchronising(outcome: SyncOutcome): void;
  /** The first byte of the RDB arrived: the old data goes, loading starts. */
  loadStarting(): void;
  /** The RDB is loaded (or failed to). */
  loadFinished(ok: boolean, aux: ReadonlyMap<string, string>): void;
  /** The link is ready to apply the stream (after +CONTINUE or a loaded RDB). */
  connected(link: MasterLink): void;
  /** Stream bytes whose commands have been applied. */
  applied(bytes: Uint8Array): void;
  /** The attempt is over; `wasConnected` if the stream had started. */
  ended(link: MasterLink, wasConnected: boolean): void;
  /** The replication offset applied so far. */
  readonly offset: number;
}

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder("latin1");
const STOPPED_CLOCK: Clock = { now: () => 0 };
/** Read size while the RDB arrives, and while streaming. */
const TRANSFER_READ_SIZE = 1024 * 1024;
const STREAM_READ_SIZE = 64 * 1024;
/** While a script is busy the stream waits; it looks again after this long. */
const BUSY_RETRY_MS = 5;

/** Encodes a command as RESP (what the handshake sends). */
export function encodeCommand(args: readonly string[]): Uint8Array {
  let text = `*${args.length}\r\n`;
  for (const arg of args) text += `$${ENCODER.encode(arg).byteLength}\r\n${arg}\r\n`;
  return ENCODER.encode(text);
}

/** Thrown to end an attempt; its message is logged. */
class LinkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LinkError";
  }
}

/** Stream bytes received and not yet applied, in arrival order. */
class ReceivedBytes {
  #chunks: Uint8Array[] = [];
  #head = 0;

  push(chunk: Uint8Array): void {
    if (chunk.byteLength > 0) this.#chunks.push(chunk);
  }

  /** The first `count` bytes, removed. */
  take(count: number): Uint8Array {
    const first = this.#chunks[0];
    if (first !== undefined && first.byteLength - this.#head >= count) {
      const out = first.subarray(this.#head, this.#head + count);
      this.#head += count;
      if (this.#head === first.byteLength) {
        this.#chunks.shift();
        this.#head = 0;
      }
      return out;
    }
    const out = new Uint8Array(count);
    let at = 0;
    while (at < count) {
      const chunk = this.#chunks[0]!;
      const piece = Math.min(count - at, chunk.byteLength - this.#head);
      out.set(chunk.subarray(this.#head, this.#head + piece), at);
      at += piece;
      this.#head += piece;
      if (this.#head === chunk.byteLength) {
        this.#chunks.shift();
        this.#head = 0;
      }
    }
    return out;
  }
}

/** The master client's socket as the command layer sees it: replies go nowhere. */
class MasterTransport implements ClientTransport {
  constructor(
    readonly link: MasterLink,
    readonly remoteAddress: string,
    readonly localAddress: string,
  ) {}
  write(): void {}
  close(): void {
    this.link.close("connection closed by this server");
  }
  abort(): void {
    this.link.close("connection killed");
  }
  readonly pendingBytes = 0;
  resume(): void {
    this.link.resume();
  }
}

export class MasterLink {
  state: LinkState = "connecting";
  /** When anything was last read from the master (ms). */
  lastIo = Date.now();
  /** The RDB's size (-1 until known, or for a diskless transfer), and bytes read of it. */
  transferSize = -1;
  transferRead = 0;
  /** When RDB bytes were last read (ms). */
  transferLastIo = 0;
  /** Stream bytes read from the master, applied or not (`slave_read_repl_offset`). */
  readOffset = 0;
  /** Every byte read from the master (`total_net_repl_input_bytes`). */
  bytesRead = 0;
  /** The master client, once the stream flows. */
  client: Client | undefined;
  #conn: Deno.TcpConn | undefined;
  #closed = false;
  #wasConnected = false;
  readonly #parser = new RequestParser();
  readonly #received = new ReceivedBytes();
  /** Bytes the parser consumed since the last complete command. */
  #parsed = 0;
  /** Bytes of applied commands not yet passed on (a prefix of what was received). */
  #applied = 0;
  /** Bytes of the MULTI block under way, passed on once its EXEC has run. */
  #inTransaction = 0;
  /** Bytes of a command postponed by CLIENT PAUSE, counted when it runs. */
  #postponed = 0;
  #buffer = new Uint8Array(STREAM_READ_SIZE);
  #start = 0;
  #end = 0;
  #writing: Promise<void> = Promise.resolve();
  #busyRetry: ReturnType<typeof setTimeout> | undefined;
  /** The database the master's commands run in when the stream starts. */
  #database = 0;

  constructor(
    readonly owner: MasterLinkOwner,
    readonly masterHost: string,
    readonly masterPort: number,
    database: number,
  ) {
    this.#database = database;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The database the master's commands run in (kept across reconnections). */
  get database(): number {
    return this.client?.db.index ?? this.#database;
  }

  /** Sets the database the stream starts in (an RDB's `repl-stream-db`). */
  useDatabase(index: number): void {
    this.#database = index;
  }

  /** Runs the attempt to its end (never rejects). */
  async run(): Promise<void> {
    const log = this.owner.log;
    try {
      await this.#connect();
      await this.#handshake();
    } catch (error) {
      if (!this.#closed) {
        log.warning((error as Error).message);
        this.close();
      }
    }
  }

  /** Ends the attempt (REPLICAOF, CLIENT KILL, a timeout, an error). */
  close(reason?: string): void {
    if (this.#closed) return;
    if (reason !== undefined && this.#wasConnected) {
      this.owner.log.notice(`Connection with master lost (${reason}).`);
    }
    this.#closed = true;
    clearTimeout(this.#busyRetry);
    try {
      this.#conn?.close();
    } catch {
      // Already closed.
    }
    const client = this.client;
    if (client !== undefined) this.#database = client.db.index;
    this.client = undefined;
    if (client !== undefined && !client.closed) {
      // A MULTI block cut short is dropped; its bytes come again.
      client.transaction = undefined;
      this.owner.host.disconnect(client);
    }
    this.owner.ended(this, this.#wasConnected);
  }

  /** Sends bytes to the master, in order, never blocking the caller. */
  send(bytes: Uint8Array): void {
    const conn = this.#conn;
    if (conn === undefined || this.#closed) return;
    this.#writing = this.#writing.then(async () => {
      if (this.#closed) return;
      let offset = 0;
      try {
        while (offset < bytes.byteLength) offset += await conn.write(bytes.subarray(offset));
      } catch {
        this.close("write error");
      }
    });
  }

  /** REPLCONF ACK <offset>, once the AOF holds what it acknowledges. */
  sendAck(offset: number): void {
    if (this.state !== "connected") return;
    const send = () => this.send(encodeCommand(["REPLCONF", "ACK", String(offset)]));
    const host = this.owner.host;
    if (host.afterAofFlush !== undefined) host.afterAofFlush(send);
    else send();
  }

  /** A newline, which keeps the master from timing us out while we load. */
  sendNewline(): void {
    this.send(ENCODER.encode("\n"));
  }

  async #connect(): Promise<void> {
    const log = this.owner.log;
    log.notice(`Connecting to MASTER ${this.masterHost}:${this.masterPort}`);
    log.notice("MASTER <-> REPLICA sync started");
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname: this.masterHost, port: this.masterPort });
    } catch (error) {
      throw new LinkError(`Error condition on socket for SYNC: ${describe(error)}`);
    }
    if (this.#closed) {
      conn.close();
      return;
    }
    conn.setNoDelay(true);
    this.#conn = conn;
    this.lastIo = Date.now();
    log.notice("Non blocking connect for SYNC fired the event.");
  }

  async #handshake(): Promise<void> {
    if (this.#closed) return;
    const owner = this.owner;
    const log = owner.log;
    const config = owner.host.config;
    this.state = "handshake";
    const ping = await this.#request(["PING"]);
    if (
      ping.startsWith("-") && !ping.startsWith("-NOAUTH") && !ping.startsWith("-NOPERM") &&
      !ping.startsWith("-ERR operation not permitted")
    ) {
      throw new LinkError(`Error reply to PING from master: '${ping}'`);
    }
    log.notice("Master replied to PING, replication can continue...");
    if (config.masterauth !== "") {
      const args = config.masteruser !== ""
        ? ["AUTH", config.masteruser, config.masterauth]
        : ["AUTH", config.masterauth];
      const auth = await this.#request(args);
      if (auth.startsWith("-")) throw new LinkError(`Unable to AUTH to MASTER: ${auth}`);
    }
    const port = announcedPort(config) || owner.host.port;
    const portReply = await this.#request(["REPLCONF", "listening-port", String(port)]);
    if (portReply.startsWith("-")) {
      log.notice(`(Non critical) Master does not understand REPLCONF listening-port: ${portReply}`);
    }
    const ip = announcedIp(config);
    if (ip !== "") {
      const ipReply = await this.#request(["REPLCONF", "ip-address", ip]);
      if (ipReply.startsWith("-")) {
        log.notice(`(Non critical) Master does not understand REPLCONF ip-address: ${ipReply}`);
      }
    }
    const capa = await this.#request(["REPLCONF", "capa", "eof", "capa", "psync2"]);
    if (capa.startsWith("-")) {
      log.notice(`(Non critical) Master does not understand REPLCONF capa: ${capa}`);
    }
    const from = owner.psyncFrom();
    const psync = from === undefined
      ? ["PSYNC", "?", "-1"]
      : ["PSYNC", from.replid, String(from.offset + 1)];
    if (owner.failingOver) psync.push("FAILOVER");
    if (from !== undefined) {
      log.notice(
        `Trying a partial resynchronization (request ${from.replid}:${from.offset + 1}).`,
      );
    } else {
      log.notice("Partial resynchronization not possible (no cached master)");
    }
    const reply = await this.#request(psync, true);
    if (this.#closed) return;
    if (reply.startsWith("+FULLRESYNC")) {
      const [, replid, offset] = reply.split(" ");
      if (replid === undefined || replid.length !== 40 || offset === undefined) {
        throw new LinkError(`Master replied with wrong +FULLRESYNC syntax: ${reply}`);
      }
      log.notice(`Full resync from master: ${replid}:${offset}`);
      owner.synchronising({ kind: "full", replid, offset: Number(offset) });
      await this.#receiveRdb();
      return;
    }
    if (reply.startsWith("+CONTINUE")) {
      const replid = reply.slice("+CONTINUE".length).trim();
      log.notice("Successful partial resynchronization with master.");
      owner.synchronising({ kind: "continue", replid: replid.length === 40 ? replid : undefined });
      log.notice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
      this.#startStream();
      return;
    }
    if (reply.startsWith("-NOMASTERLINK") || reply.startsWith("-LOADING")) {
      throw new LinkError(
        `Master is currently unable to PSYNC but should be in the future: ${reply}`,
      );
    }
    throw new LinkError(`Unexpected reply to PSYNC from master: ${reply}`);
  }

  /** Sends a command and reads its one-line reply (empty keep-alive lines skipped if asked). */
  async #request(args: readonly string[], skipEmptyLines = false): Promise<string> {
    this.send(encodeCommand(args));
    for (;;) {
      const line = await this.#readLine();
      if (line === "" && skipEmptyLines) continue;
      return line;
    }
  }

  /** Reads more bytes into the buffer; throws when the master closed the link. */
  async #fill(): Promise<void> {
    const conn = this.#conn;
    if (conn === undefined || this.#closed) throw new LinkError("link closed");
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end === this.#buffer.byteLength) {
      // Full: move the unread bytes to the front, or grow if they fill it.
      const pending = this.#end - this.#start;
      if (pending === this.#buffer.byteLength) {
        const grown = new Uint8Array(this.#buffer.byteLength * 2);
        grown.set(this.#buffer);
        this.#buffer = grown;
      } else {
        this.#buffer.copyWithin(0, this.#start, this.#end);
      }
      this.#start = 0;
      this.#end = pending;
    }
    let count: number | null;
    try {
      count = await conn.read(this.#buffer.subarray(this.#end));
    } catch (error) {
      if (this.#closed) throw new LinkError("link closed");
      throw new LinkError(`Error reading from MASTER: ${describe(error)}`);
    }
    if (count === null) throw new LinkError("Master closed the connection");
    this.#end += count;
    this.lastIo = Date.now();
    this.bytesRead += count;
  }

  async #readLine(): Promise<string> {
    for (;;) {
      const newline = this.#buffer.subarray(this.#start, this.#end).indexOf(10);
      if (newline >= 0) {
        let end = this.#start + newline;
        const next = end + 1;
        if (end > this.#start && this.#buffer[end - 1] === 13) end--;
        const line = DECODER.decode(this.#buffer.subarray(this.#start, end));
        this.#start = next;
        return line;
      }
      if (this.#end - this.#start > 64 * 1024) throw new LinkError("Master sent a line too long");
      await this.#fill();
    }
  }

  /** Receives the RDB after +FULLRESYNC and loads it as it arrives. */
  async #receiveRdb(): Promise<void> {
    const owner = this.owner;
    const log = owner.log;
    this.state = "sync";
    this.transferLastIo = Date.now();
    let header: string;
    do header = await this.#readLine(); while (header === "");
    if (header.startsWith("-")) {
      throw new LinkError(`MASTER aborted replication with an error: ${header}`);
    }
    if (!header.startsWith("$")) {
      throw new LinkError(
        `Bad protocol from MASTER, the first byte is not '$' (we received '${header}'), are you sure the host and port are right?`,
      );
    }
    let mark: Uint8Array | undefined;
    if (header.startsWith("$EOF:")) {
      mark = ENCODER.encode(header.slice(5));
      if (mark.byteLength !== 40) throw new LinkError(`Bad EOF mark from MASTER: ${header}`);
      log.notice("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to parser");
    } else {
      this.transferSize = Number(header.slice(1));
      if (!Number.isSafeInteger(this.transferSize) || this.transferSize < 0) {
        throw new LinkError(`Bad RDB length from MASTER: ${header}`);
      }
      log.notice(
        `MASTER <-> REPLICA sync: receiving ${this.transferSize} bytes from master to parser`,
      );
    }
    // The RDB arrives in big pieces; the buffer shrinks back for the stream.
    if (this.#buffer.byteLength < TRANSFER_READ_SIZE) {
      const grown = new Uint8Array(TRANSFER_READ_SIZE);
      grown.set(this.#buffer.subarray(this.#start, this.#end));
      this.#end -= this.#start;
      this.#start = 0;
      this.#buffer = grown;
    }
    log.notice("MASTER <-> REPLICA sync: Flushing old data");
    owner.loadStarting();
    const host = owner.host;
    const loader = new RdbStreamLoader({
      log: host.log,
      config: host.config,
      keyspace: host.keyspace,
      get loading() {
        return host.loading;
      },
      set loading(value: boolean) {
        host.loading = value;
      },
      loadFunction: (code) => host.loadFunction?.(code),
    }, "the RDB received from the MASTER");
    let ok = false;
    try {
      log.notice("MASTER <-> REPLICA sync: Loading DB in memory");
      await this.#feed(loader, mark);
      const result = loader.finish();
      ok = true;
      log.notice(
        `Done loading RDB, keys loaded: ${result.keysLoaded}, keys expired: ${result.keysExpired}.`,
      );
      log.notice("MASTER <-> REPLICA sync: Finished with success");
    } catch (error) {
      if (!this.#closed) {
        log.warning(
          `Failed trying to load the MASTER synchronization DB from socket: ${
            (error as Error).message
          }`,
        );
      }
      throw error instanceof LinkError ? error : new LinkError((error as Error).message);
    } finally {
      owner.loadFinished(ok, loader.aux);
    }
    this.#buffer = shrink(this.#buffer, this.#start, this.#end);
    this.#end -= this.#start;
    this.#start = 0;
    this.#startStream();
  }

  /** Pushes the RDB's bytes into `loader` until its end (the length, or the mark). */
  async #feed(loader: RdbStreamLoader, mark: Uint8Array | undefined): Promise<void> {
    for (;;) {
      if (mark === undefined && this.transferRead === this.transferSize) {
        if (!loader.done) throw new LinkError("The RDB from the master ended before its footer");
        if (loader.remainder().byteLength > 0) {
          throw new LinkError("The RDB from the master is shorter than its length says");
        }
        return;
      }
      if (mark !== undefined && loader.done) {
        const tail = loader.remainder();
        if (tail.byteLength >= mark.byteLength) {
          if (!tail.subarray(0, mark.byteLength).every((byte, i) => byte === mark[i])) {
            throw new LinkError("The RDB from the master is not followed by its EOF mark");
          }
          // Whatever followed the mark is the stream already: it goes back in front.
          const extra = tail.subarray(mark.byteLength);
          this.transferRead -= extra.byteLength;
          if (extra.byteLength > 0) this.#unread(extra);
          return;
        }
      }
      if (this.#start === this.#end) await this.#fill();
      let available = this.#end - this.#start;
      if (mark === undefined) {
        available = Math.min(available, this.transferSize - this.transferRead);
      }
      loader.push(this.#buffer.subarray(this.#start, this.#start + available));
      this.#start += available;
      this.transferRead += available;
      this.transferLastIo = Date.now();
    }
  }

  /** Puts `bytes` back in front of the unread input. */
  #unread(bytes: Uint8Array): void {
    const pending = this.#buffer.subarray(this.#start, this.#end);
    const joined = new Uint8Array(
      Math.max(STREAM_READ_SIZE, bytes.byteLength + pending.byteLength),
    );
    joined.set(bytes);
    joined.set(pending, bytes.byteLength);
    this.#end = bytes.byteLength + pending.byteLength;
    this.#start = 0;
    this.#buffer = joined;
  }

  /** The handshake or the load is done: create the master client and apply the stream. */
  #startStream(): void {
    if (this.#closed) return;
    const owner = this.owner;
    const host = owner.host;
    const conn = this.#conn!;
    const remote = conn.remoteAddr;
    const local = conn.localAddr;
    const transport = new MasterTransport(
      this,
      `${remote.hostname}:${remote.port}`,
      `${local.hostname}:${local.port}`,
    );
    const client = host.connect(transport);
    client.kind = "master";
    client.authenticated = true;
    client.db = host.keyspace.databases[this.#database] ?? host.keyspace.databases[0]!;
    this.client = client;
    this.state = "connected";
    this.#wasConnected = true;
    this.readOffset = owner.offset;
    owner.connected(this);
    owner.log.notice("MASTER <-> REPLICA sync: Master link is up.");
    if (this.#end > this.#start) {
      this.#take(this.#buffer.slice(this.#start, this.#end));
      this.#start = this.#end = 0;
    }
    void this.#readStream();
  }

  async #readStream(): Promise<void> {
    const conn = this.#conn!;
    const parser = this.#parser;
    try {
      for (;;) {
        // Straight into the parser's buffer; the copy kept is for our backlog and replicas.
        const region = parser.writableRegion(STREAM_READ_SIZE);
        const count = await conn.read(region);
        if (count === null) throw new LinkError("Master closed the connection");
        if (this.#closed) return;
        this.lastIo = Date.now();
        this.bytesRead += count;
        this.readOffset += count;
        this.#received.push(region.slice(0, count));
        parser.commit(count);
        this.#apply();
      }
    } catch (error) {
      if (this.#closed) return;
      this.close(error instanceof LinkError ? error.message : describe(error));
    }
  }

  /** Stream bytes arrived: parse and apply what is complete. */
  #take(bytes: Uint8Array): void {
    this.readOffset += bytes.byteLength;
    this.#received.push(bytes);
    this.#parser.append(bytes);
    this.#apply();
  }

  /** Continues after the master client was paused or a busy script finished. */
  resume(): void {
    if (this.#closed || this.client === undefined || this.client.blocked !== undefined) return;
    if (this.#postponed > 0) {
      this.#count(this.#postponed);
      this.#postponed = 0;
    }
    this.#apply();
  }

  #apply(): void {
    const client = this.client;
    if (client === undefined || this.#closed) return;
    const host = this.owner.host;
    if (host.scripts.busy) {
      this.#busyRetry ??= setTimeout(() => {
        this.#busyRetry = undefined;
        this.#apply();
      }, BUSY_RETRY_MS);
      return;
    }
    const parser = this.#parser;
    const keyspace = host.keyspace;
    const clock = keyspace.clock;
    keyspace.clock = STOPPED_CLOCK;
    let applied = false;
    try {
      while (client.blocked === undefined && !this.#closed && !client.closed) {
        const before = parser.buffered;
        let request;
        try {
          request = parser.next();
        } catch (error) {
          if (!(error instanceof ProtocolError)) throw error;
          this.owner.log.warning(`Protocol error from MASTER: ${error.message}`);
          keyspace.clock = clock;
          this.close("protocol error");
          return;
        }
        this.#parsed += before - parser.buffered;
        if (request === undefined) break;
        const size = this.#parsed;
        this.#parsed = 0;
        client.lastInteractionAt = this.lastIo;
        dispatch(client, request);
        client.reply.truncate(0);
        applied = true;
        if (client.blocked !== undefined) this.#postponed = size;
        else this.#count(size);
      }
    } finally {
      keyspace.clock = clock;
    }
    this.commit();
    if (applied) host.flush();
  }

  /** Counts a command that ran: applied at once, or with the rest of its MULTI block. */
  #count(size: number): void {
    if (this.client?.transaction !== undefined) {
      this.#inTransaction += size;
      return;
    }
    this.#applied += this.#inTransaction + size;
    this.#inTransaction = 0;
  }

  /** Passes on the bytes of the commands applied so far (before an ACK, and after each read). */
  commit(): void {
    if (this.#applied === 0 || this.#closed) return;
    const bytes = this.#received.take(this.#applied);
    this.#applied = 0;
    this.owner.applied(bytes);
  }
}

/** A buffer of at most the stream's read size holding `buffer[start, end)`. */
function shrink(
  buffer: Uint8Array<ArrayBuffer>,
  start: number,
  end: number,
): Uint8Array<ArrayBuffer> {
  const size = Math.max(STREAM_READ_SIZE, end - start);
  if (buffer.byteLength <= size) {
    buffer.copyWithin(0, start, end);
    return buffer;
  }
  const smaller = new Uint8Array(size);
  smaller.set(buffer.subarray(start, end));
  return smaller;
}

function describe(error: unknown): string {
  return (error as Error).message ?? String(error);
}
