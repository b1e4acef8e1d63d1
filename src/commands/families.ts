/**
 * Every command family, in the order COMMAND lists them. The server builds
 * its command table from this list; nothing else imports it, so families
 * never depend on the table being built (they reach it at run time through
 * `client.server.commands`).
 *
 * @module
 */

import { aclCommands } from "./acl.ts";
import { bitmapCommands } from "./bitmaps.ts";
import { connectionCommands } from "./connection.ts";
import { debugCommands } from "./debug.ts";
import { expireCommands } from "./expire.ts";
import { functionCommands } from "./functions.ts";
import { geoCommands } from "./geo.ts";
import { hashCommands } from "./hashes.ts";
import { hyperLogLogCommands } from "./hyperloglog.ts";
import { keyCommands } from "./keys.ts";
import { latencyCommands } from "./latency.ts";
import { listCommands } from "./lists.ts";
import { memoryCommands } from "./memory.ts";
import { migrationCommands } from "./migration.ts";
import { monitorCommands } from "./monitor.ts";
import { persistenceCommands } from "./persistence.ts";
import { pubsubCommands } from "./pubsub.ts";
import { replicationCommands } from "./replication.ts";
import { scriptingCommands } from "./scripting.ts";
import { serverCommands } from "./server.ts";
import { setCommands } from "./sets.ts";
import { slowlogCommands } from "./slowlog.ts";
import { sortCommands } from "./sort.ts";
import { sortedSetCommands } from "./sorted_sets.ts";
import { streamCommands } from "./streams.ts";
import { stringCommands } from "./strings.ts";
import type { Command } from "./table.ts";
import { transactionCommands } from "./transactions.ts";

export const COMMAND_FAMILIES: readonly (readonly Command[])[] = [
  connectionCommands,
  serverCommands,
  monitorCommands,
  slowlogCommands,
  latencyCommands,
  memoryCommands,
  debugCommands,
  stringCommands,
  keyCommands,
  expireCommands,
  hashCommands,
  listCommands,
  setCommands,
  sortedSetCommands,
  streamCommands,
  bitmapCommands,
  hyperLogLogCommands,
  geoCommands,
  sortCommands,
  transactionCommands,
  pubsubCommands,
  scriptingCommands,
  functionCommands,
  persistenceCommands,
  replicationCommands,
  migrationCommands,
  aclCommands,
];
