/**
 * Replication commands: REPLICAOF (and SLAVEOF), PSYNC, SYNC, REPLCONF,
 * FAILOVER, ROLE and WAIT, and the dispatcher's replication checks.
 *
 * The handlers parse their arguments and shape their replies here, with
 * Redis 7.0's texts; everything with state (the master link, the attached
 * replicas, the backlog, replication ids and offsets, the failover state
 * machine) belongs to the server's replication part, which handlers reach
 * through `ReplicationControl`, the interface defined here so this layer
 * does not depend on src/replication/ (the part lives above the command
 * layer, as persistence does).
 *
 * The dispatcher's checks follow Redis's processCommand. `writeRefusal`
 * sits right after the MISCONF check: a master short of good replicas
 * refuses writes (NOREPLICAS, only with both `min-replicas-to-write` and
 * `min-replicas-max-lag` set), a read-only replica refuses writes from
 * anyone but its master (READONLY). `staleRefusal` sits after the RESP2
 * subscribed-context check: a replica whose link is down refuses commands
 * without the `stale` flag while `replica-serve-stale-data` is no
 * (MASTERDOWN), and an attached replica may not touch the keyspace; the
 * dispatcher's LOADING check comes right after. EXEC counts as what its
 * queue holds. On a master without attached replicas or `min-replicas-*`
 * (the common case) both checks end at their first test. Scripts ask
 * `scriptWriteRefusal` before each write they make, as Redis's
 * scriptVerifyWriteCommandAllow does (the dispatcher lets EVAL through;
 * its writes are what a replica must refuse).
 *
 * @module
 */

import { blockingAllowed } from "./blocking.ts";
import type { Client } from "./client.ts";
import { ArgumentCursor, parseInteger, requireInteger } from "./arguments.ts";
import {
  CommandError,
  FAILOVER_TIMEOUT_NOT_POSITIVE,
  INVALID_MASTER_PORT,
  MASTER_DOWN,
  NO_GOOD_REPLICAS,
  NOT_INTEGER,
  READONLY_REPLICA,
  REPLICA_KEYSPACE,
  SYNTAX_ERROR,
  unrecognizedReplconfOption,
  WAIT_ON_REPLICA,
} from "./errors.ts";
import { millisecondsTimeout } from "./server.ts";
import { type Command, command } from "./table.ts";

/** A `host port` pair (`REPLICAOF`, `FAILOVER TO`). */
export interface ReplicaAddress {
  host: string;
  port: number;
}

/** FAILOVER's options, parsed. */
export interface FailoverRequest {
  target: ReplicaAddress | undefined;
  /** Milliseconds, 0 for none. */
  timeoutMs: number;
  force: boolean;
}

/** One replica as ROLE lists it. */
export interface RoleReplica {
  ip: string;
  port: number;
  offset: number;
}

/** What ROLE answers. */
export type RoleInfo =
  | { role: "master"; offset: number; replicas: RoleReplica[] }
  | { role: "slave"; host: string; port: number; state: string; offset: number };

/** What the replication commands and the dispatcher need of the replication part. */
export interface ReplicationControl {
  /**
   * Whether the dispatcher's checks can refuse anything: a replica, a
   * master with `min-replicas-*` set or with replicas attached. False on
   * a plain master (the common case).
   */
  readonly restrictsCommands: boolean;
  /** REPLICAOF host port is in force. */
  readonly isReplica: boolean;
  /** The link with our master is up (`master_link_status:up`). */
  readonly linkUp: boolean;
  /** `client` is our master's link (its writes pass on a read-only replica). */
  isMasterClient(client: Client): boolean;
  /** A master with `min-replicas-*` set has fewer good replicas than asked for. */
  lacksGoodReplicas(): boolean;
  /**
   * REPLICAOF host port; false when already following that master (and
   * nothing changed). Throws CommandError while a failover runs.
   */
  follow(target: ReplicaAddress, by: Client): boolean;
  /** REPLICAOF NO ONE. Throws CommandError while a failover runs. */
  stopFollowing(by: Client): void;
  /** SYNC, or PSYNC with the replid and offset asked for (and FAILOVER when given). */
  sync(
    client: Client,
    psync: { replid: string; offset: number; failover: boolean } | undefined,
  ): void;
  /** REPLCONF listening-port / ip-address / capa, before SYNC or PSYNC. */
  configureReplica(
    client: Client,
    option: "listening-port" | "ip-address" | "capa",
    value: string,
  ): void;
  /** REPLCONF ACK from an attached replica. */
  acknowledge(client: Client, offset: number): void;
  /** REPLCONF GETACK from our master: answer with REPLCONF ACK. */
  sendAck(): void;
  /** FAILOVER (not ABORT). Throws CommandError with Redis's text when it cannot start. */
  failover(request: FailoverRequest): void;
  /** FAILOVER ABORT. Throws CommandError when none is in progress. */
  abortFailover(): void;
  /** ROLE's content. */
  roleInfo(): RoleInfo;
  /** The replication offset writes so far reach (`master_repl_offset`). */
  readonly offset: number;
  /** Replicas whose acknowledged offset reached `offset`. */
  acknowledged(offset: number): number;
  /** Makes `client` wait (WAIT) until `replicas` replicas acknowledge `offset` or `deadline` (0: never). */
  waitForReplicas(client: Client, replicas: number, offset: number, deadline: number): void;
}

/** Whether a request of `cmd` writes (EXEC: whether its queue holds a write). */
function writes(client: Client, cmd: Command, args: readonly string[]): boolean {
  if (cmd.isWrite) return true;
  if (cmd.name === "exec") {
    return client.transaction?.some((queued) => queued.command.isWrite) ?? false;
  }
  return client.server.scripts.mayWrite(cmd, args as string[]);
}

/** Whether `cmd` lacks `flag` (EXEC: whether anything queued lacks it). */
function lacks(client: Client, cmd: Command, flag: "stale"): boolean {
  if (!cmd.flags.includes(flag)) return true;
  return cmd.name === "exec" &&
    (client.transaction?.some((queued) => !queued.command.flags.includes(flag)) ?? false);
}

/**
 * The dispatcher's first replication check, after MISCONF: NOREPLICAS on a
 * master short of good replicas, READONLY on a read-only replica (never
 * for its master's link). Undefined when the request may go on.
 */
export function writeRefusal(
  client: Client,
  cmd: Command,
  args: readonly string[],
): string | undefined {
  const server = client.server;
  const replication = server.replication;
  if (!replication.restrictsCommands) return undefined;
  if (replication.isMasterClient(client)) return undefined;
  if (!replication.isReplica) {
    if (replication.lacksGoodReplicas() && writes(client, cmd, args)) return NO_GOOD_REPLICAS;
    return undefined;
  }
  if (server.config.replicaReadOnly && writes(client, cmd, args)) return READONLY_REPLICA;
  return undefined;
}

/**
 * The dispatcher's second replication check, after the RESP2 subscribed
 * context: MASTERDOWN, and attached replicas kept off the keyspace.
 * Undefined when the request may go on.
 */
export function staleRefusal(client: Client, cmd: Command): string | undefined {
  const server = client.server;
  const replication = server.replication;
  if (!replication.restrictsCommands || client.kind === "master") return undefined;
  if (
    replication.isReplica && !replication.linkUp && !server.config.replicaServeStaleData &&
    lacks(client, cmd, "stale")
  ) {
    return MASTER_DOWN;
  }
  if (
    client.kind === "replica" &&
    (cmd.isWrite || cmd.flags.includes("readonly") || cmd.flags.includes("may_replicate"))
  ) {
    return REPLICA_KEYSPACE;
  }
  return undefined;
}

/**
 * What a script's write command is refused with (scriptVerifyWriteCommandAllow):
 * READONLY on a read-only replica, NOREPLICAS on a master short of good
 * replicas; undefined when it may write. `caller` runs the script.
 */
export function scriptWriteRefusal(caller: Client): string | undefined {
  const server = caller.server;
  const replication = server.replication;
  if (!replication.restrictsCommands || replication.isMasterClient(caller)) return undefined;
  if (replication.isReplica) return server.config.replicaReadOnly ? READONLY_REPLICA : undefined;
  return replication.lacksGoodReplicas() ? NO_GOOD_REPLICAS : undefined;
}

/** `host port` as REPLICAOF and FAILOVER TO read the port: an integer in 0..65535. */
function parsePort(text: string): number {
  const port = parseInteger(text);
  if (port === undefined || port < 0 || port > 65535) throw new CommandError(INVALID_MASTER_PORT);
  return port;
}

/** REPLICAOF host port | NO ONE (SLAVEOF is the same command under its old name). */
function replicaOf(client: Client, args: string[]): void {
  const replication = client.server.replication;
  if (args[1]!.toLowerCase() === "no" && args[2]!.toLowerCase() === "one") {
    replication.stopFollowing(client);
    client.reply.ok();
    return;
  }
  const target = { host: args[1]!, port: parsePort(args[2]!) };
  if (replication.follow(target, client)) client.reply.ok();
  else client.reply.simple("OK Already connected to specified master");
}

/** PSYNC replid offset [FAILOVER]. */
function psync(client: Client, args: string[]): void {
  const offset = requireInteger(args[2]!);
  const failover = args.length > 3 && args[3]!.toLowerCase() === "failover";
  client.server.replication.sync(client, { replid: args[1]!, offset, failover });
}

/**
 * REPLCONF option value [option value ...], as Redis's replconfCommand:
 * options in pairs, ACK and GETACK answered by nothing (they are not
 * replies to a request a replica waits for).
 */
function replconf(client: Client, args: string[]): void {
  if (args.length % 2 === 0) throw new CommandError(SYNTAX_ERROR);
  const replication = client.server.replication;
  for (let i = 1; i < args.length; i += 2) {
    const option = args[i]!.toLowerCase();
    const value = args[i + 1]!;
    if (option === "listening-port") {
      requireInteger(value);
      replication.configureReplica(client, option, value);
    } else if (option === "ip-address" || option === "capa") {
      replication.configureReplica(client, option, value);
    } else if (option === "ack") {
      const offset = parseInteger(value);
      if (offset === undefined) return;
      replication.acknowledge(client, offset);
      return;
    } else if (option === "getack") {
      if (replication.isMasterClient(client)) replication.sendAck();
      return;
    } else if (option === "rdb-only" || option === "rdb-filter-only") {
      // Accepted for redis-cli --rdb; every sync sends the whole data set.
    } else {
      throw new CommandError(unrecognizedReplconfOption(args[i]!));
    }
  }
  client.reply.ok();
}

/** FAILOVER [TO host port [FORCE]] [TIMEOUT ms] | FAILOVER ABORT. */
function failover(client: Client, args: string[]): void {
  let target: ReplicaAddress | undefined;
  let timeoutMs = 0;
  let force = false;
  let abort = false;
  const cursor = new ArgumentCursor(args);
  while (cursor.hasMore()) {
    const keyword = cursor.keyword();
    if (keyword === "TO" && target === undefined && cursor.remaining >= 2) {
      const host = cursor.next();
      const port = requireInteger(cursor.next());
      target = { host, port };
    } else if (keyword === "TIMEOUT" && timeoutMs === 0 && cursor.remaining >= 1) {
      timeoutMs = requireInteger(cursor.next());
      if (timeoutMs <= 0) throw new CommandError(FAILOVER_TIMEOUT_NOT_POSITIVE);
    } else if (keyword === "FORCE" && !force) {
      force = true;
    } else if (keyword === "ABORT" && !abort) {
      abort = true;
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  const replication = client.server.replication;
  if (abort) {
    if (args.length !== 2) throw new CommandError(SYNTAX_ERROR);
    replication.abortFailover();
    client.reply.ok();
    return;
  }
  replication.failover({ target, timeoutMs, force });
  client.reply.ok();
}

/** ROLE: master with its online replicas, or replica with its link's state. */
function role(client: Client): void {
  const info = client.server.replication.roleInfo();
  const reply = client.reply;
  if (info.role === "master") {
    reply.arrayHeader(3);
    reply.bulk("master");
    reply.integer(info.offset);
    reply.arrayHeader(info.replicas.length);
    for (const replica of info.replicas) {
      reply.arrayHeader(3);
      reply.bulk(replica.ip);
      reply.bulk(String(replica.port));
      reply.bulk(String(replica.offset));
    }
    return;
  }
  reply.arrayHeader(5);
  reply.bulk("slave");
  reply.bulk(info.host);
  reply.integer(info.port);
  reply.bulk(info.state);
  reply.integer(info.offset);
}

/**
 * WAIT numreplicas timeout: how many replicas acknowledged this client's
 * writes, at once when enough have (or inside MULTI, where it cannot
 * block), else when enough do or the timeout passes.
 */
function wait(client: Client, args: string[]): void {
  const server = client.server;
  const replication = server.replication;
  if (replication.isReplica) throw new CommandError(WAIT_ON_REPLICA);
  const wanted = parseInteger(args[1]!);
  if (wanted === undefined) throw new CommandError(NOT_INTEGER);
  const deadline = millisecondsTimeout(args[2]!, server.keyspace.clock.now());
  const offset = replication.offset;
  const acknowledged = replication.acknowledged(offset);
  if (acknowledged >= wanted || !blockingAllowed(client)) {
    client.reply.integer(acknowledged);
    return;
  }
  replication.waitForReplicas(client, wanted, offset, deadline);
}

const REPLICAOF_DECLARATION = {
  arity: 3,
  flags: ["admin", "noscript", "stale", "no_async_loading"],
  handler: replicaOf,
} as const;

export const replicationCommands = [
  command({ name: "replicaof", ...REPLICAOF_DECLARATION }),
  command({ name: "slaveof", ...REPLICAOF_DECLARATION }),
  command({
    name: "psync",
    arity: -3,
    flags: ["admin", "noscript", "no_async_loading", "no_multi"],
    handler: psync,
  }),
  command({
    name: "sync",
    arity: 1,
    flags: ["admin", "noscript", "no_async_loading", "no_multi"],
    handler: (client) => client.server.replication.sync(client, undefined),
  }),
  command({
    name: "replconf",
    arity: -1,
    flags: ["admin", "noscript", "loading", "stale", "allow_busy"],
    handler: replconf,
  }),
  command({
    name: "failover",
    arity: -1,
    flags: ["admin", "noscript", "stale"],
    handler: failover,
  }),
  command({
    name: "role",
    arity: 1,
    flags: ["noscript", "loading", "stale", "fast"],
    aclCategories: ["admin", "dangerous"],
    handler: role,
  }),
  command({
    name: "wait",
    arity: 3,
    flags: ["noscript"],
    aclCategories: ["connection"],
    handler: wait,
  }),
];
