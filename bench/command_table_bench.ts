/**
 * In-process benchmarks of the command layer: requests go straight to the
 * dispatcher of a server with no listener, so the figures are the cost of
 * the commands themselves (table lookup, argument cursor, data structure,
 * reply encoding), without sockets or a load generator.
 *
 * - A million ZADDs in shuffled score order (batches of 1,000 members),
 *   then ZRANK of every member: the skip list at depth. The test suite
 *   checks the same workload's correctness at 100,000 members; the speed
 *   of a million lives here, where a slow machine cannot fail a build.
 * - SET with options (`SET k v NX PX 60000 GET`), which goes through the
 *   argument cursor, against the plain `SET k v` fast path.
 * - COMMAND DOCS and COMMAND with no arguments, in RESP2 and RESP3:
 *   redis-cli sends COMMAND DOCS on every interactive connect.
 *
 * ```sh
 * deno run -A bench/command_table_bench.ts            # a million members
 * deno run -A bench/command_table_bench.ts --quick    # 100,000 members
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { ClientTransport } from "../src/commands/client.ts";
import { dispatch } from "../src/commands/dispatcher.ts";
import { defaultConfig } from "../src/config.ts";
import { Logger } from "../src/log.ts";
import { Server } from "../src/server/server.ts";

const TRANSPORT: ClientTransport = {
  write() {},
  close() {},
  abort() {},
  pendingBytes: 0,
  resume() {},
  remoteAddress: "127.0.0.1:1",
  localAddress: "127.0.0.1:2",
};

/** A deterministic pseudo-random generator (mulberry32), so runs are comparable. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Row {
  name: string;
  operations: number;
  milliseconds: number;
  note?: string;
}

function time(name: string, operations: number, run: () => string | void): Row {
  const started = performance.now();
  const note = run();
  return { name, operations, milliseconds: performance.now() - started, note: note || undefined };
}

function sortedSetRows(size: number): Row[] {
  const server = new Server({ ...defaultConfig(), appendonly: false }, new Logger("nothing"));
  const client = server.connect(TRANSPORT);
  const random = seededRandom(1);
  const order = Array.from({ length: size }, (_, i) => i);
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const batch = 1000;
  const rows = [
    time(`ZADD ${size} members (batches of ${batch})`, size, () => {
      for (let start = 0; start < size; start += batch) {
        const args = ["ZADD", "bench"];
        for (let i = start; i < start + batch; i++) args.push(String(order[i]), `m:${order[i]}`);
        dispatch(client, args);
        client.reply.take();
      }
    }),
    time(`ZRANK of each of ${size} members`, size, () => {
      for (let i = 0; i < size; i++) {
        dispatch(client, ["ZRANK", "bench", `m:${i}`]);
        if (i % 1000 === 999) client.reply.take();
      }
      client.reply.take();
    }),
  ];
  server.disconnect(client);
  return rows;
}

function stringRows(count: number): Row[] {
  const server = new Server({ ...defaultConfig(), appendonly: false }, new Logger("nothing"));
  const client = server.connect(TRANSPORT);
  const rows = [
    time(`SET k v (${count} keys)`, count, () => {
      for (let i = 0; i < count; i++) {
        dispatch(client, ["SET", `k:${i}`, "v"]);
        if (i % 1000 === 999) client.reply.take();
      }
      client.reply.take();
    }),
    time(`SET k v NX PX 60000 GET (${count} keys)`, count, () => {
      for (let i = 0; i < count; i++) {
        dispatch(client, ["SET", `o:${i}`, "v", "NX", "PX", "60000", "GET"]);
        if (i % 1000 === 999) client.reply.take();
      }
      client.reply.take();
    }),
  ];
  server.disconnect(client);
  return rows;
}

function introspectionRows(repeat: number): Row[] {
  const server = new Server({ ...defaultConfig(), appendonly: false }, new Logger("nothing"));
  const client = server.connect(TRANSPORT);
  const rows: Row[] = [];
  for (const protocol of [2, 3] as const) {
    client.protocol = protocol;
    for (const request of [["COMMAND", "DOCS"], ["COMMAND"]]) {
      rows.push(time(`${request.join(" ")} (RESP${protocol})`, repeat, () => {
        let bytes = 0;
        for (let i = 0; i < repeat; i++) {
          dispatch(client, request);
          bytes = client.reply.take().byteLength;
        }
        return `${Math.round(bytes / 1024)} KiB per reply`;
      }));
    }
  }
  server.disconnect(client);
  return rows;
}

function format(rows: readonly Row[]): string {
  const lines = ["| workload | total ms | ops/s | note |", "| --- | ---: | ---: | --- |"];
  for (const row of rows) {
    const perSecond = Math.round(row.operations / (row.milliseconds / 1000));
    lines.push(
      `| ${row.name} | ${Math.round(row.milliseconds)} | ${perSecond.toLocaleString("en-US")} | ` +
        `${row.note ?? ""} |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { quick: { type: "boolean" } } });
  const size = values.quick ? 100_000 : 1_000_000;
  const rows = [
    ...sortedSetRows(size),
    ...stringRows(size / 10),
    ...introspectionRows(values.quick ? 20 : 100),
  ];
  console.log(format(rows));
}
