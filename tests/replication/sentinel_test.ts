/**
 * Redis Sentinel (Debian's redis-sentinel 7.0) watching servers of ours:
 * three sentinels, a master and two replicas, all processes. The master is
 * killed with SIGKILL; Sentinel must find out (INFO, PING, the hello
 * messages over `__sentinel__:hello`), promote a replica (REPLICAOF NO ONE
 * inside MULTI, with CONFIG REWRITE and CLIENT KILL), point the other one
 * at it, and an ioredis client configured with the sentinels must carry on
 * writing after a few seconds of errors. With `appendfsync always` and
 * every write confirmed by `WAIT 1`, no acknowledged write may be missing
 * from the new master.
 *
 * Timeouts are short (`down-after-milliseconds 1000`) so the whole
 * failover takes a few seconds.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Redis } from "ioredis";
import {
  freePort,
  LOOPBACK,
  type RunningServer,
  sleep,
  startOurServer,
} from "../helpers/servers.ts";
import { call, connect, info, must, waitFor, waitForLink } from "./helpers.ts";

/** The redis-sentinel binary, or undefined when it is not installed. */
function sentinelPath(): string | undefined {
  for (const directory of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      const candidate = join(directory, "redis-sentinel");
      if (Deno.statSync(candidate).isFile) return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** One sentinel process and its output. */
class Sentinel {
  readonly #process: Deno.ChildProcess;
  readonly #output: Promise<string>;

  constructor(binary: string, readonly port: number, config: string) {
    this.#process = new Deno.Command(binary, {
      args: [config],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const text = async (stream: ReadableStream<Uint8Array>) => {
      let all = "";
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) all += chunk;
      return all;
    };
    this.#output = Promise.all([text(this.#process.stdout), text(this.#process.stderr)])
      .then((parts) => parts.join(""));
  }

  /** Stops it and returns what it logged. */
  async stop(): Promise<string> {
    try {
      this.#process.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await this.#process.status;
    return await this.#output;
  }
}

async function startOursWithConfig(
  dir: string,
  name: string,
  lines: string[],
): Promise<RunningServer> {
  const configFile = join(dir, `${name}.conf`);
  await Deno.writeTextFile(configFile, lines.join("\n") + "\n");
  const serverDir = join(dir, name);
  await Deno.mkdir(serverDir);
  // `--appendonly yes` repeats the file's line: without it the helper adds `--appendonly no`.
  return await startOurServer({ configFile, dir: serverDir, args: ["--appendonly", "yes"] });
}

Deno.test({
  name:
    "Sentinel fails over from a killed master of ours; ioredis keeps writing and no acknowledged write is lost",
  ignore: sentinelPath() === undefined,
  async fn() {
    const binary = sentinelPath()!;
    const dir = await Deno.makeTempDir({ prefix: "redis-clone-sentinel-" });
    const common = [
      "appendonly yes",
      "appendfsync always",
      "repl-diskless-sync-delay 0",
      'save ""',
    ];
    const servers: RunningServer[] = [];
    const sentinels: Sentinel[] = [];
    let client: Redis | undefined;
    try {
      const master = await startOursWithConfig(dir, "master", common);
      servers.push(master);
      for (const name of ["replica1", "replica2"]) {
        servers.push(
          await startOursWithConfig(dir, name, [...common, `replicaof ${LOOPBACK} ${master.port}`]),
        );
      }
      for (const replica of servers.slice(1)) {
        const link = await connect(replica.port);
        await waitForLink(link);
        await link.close();
      }
      for (let i = 0; i < 3; i++) {
        const port = await freePort();
        const config = join(dir, `sentinel${i}.conf`);
        await Deno.writeTextFile(
          config,
          [
            `port ${port}`,
            `bind ${LOOPBACK}`,
            `dir ${dir}`,
            `sentinel monitor mymaster ${LOOPBACK} ${master.port} 2`,
            "sentinel down-after-milliseconds mymaster 1000",
            "sentinel failover-timeout mymaster 10000",
            "sentinel parallel-syncs mymaster 1",
          ].join("\n") + "\n",
        );
        sentinels.push(new Sentinel(binary, port, config));
      }
      // The sentinels must have found the replicas and each other (INFO, hello messages).
      await waitFor("the sentinels to know the whole setup", async () => {
        for (const sentinel of sentinels) {
          const link = await connect(sentinel.port).catch(() => undefined);
          if (link === undefined) return false;
          try {
            const replicas = await call(link, "SENTINEL", "REPLICAS", "mymaster");
            const peers = await call(link, "SENTINEL", "SENTINELS", "mymaster");
            if (!Array.isArray(replicas) || replicas.length !== 2) return false;
            if (!Array.isArray(peers) || peers.length !== 2) return false;
          } finally {
            await link.close();
          }
        }
        return true;
      }, 30_000);

      client = new Redis({
        sentinels: sentinels.map((sentinel) => ({ host: LOOPBACK, port: sentinel.port })),
        name: "mymaster",
        maxRetriesPerRequest: 1,
        retryStrategy: () => 100,
        sentinelRetryStrategy: () => 100,
        lazyConnect: false,
      });
      client.on("error", () => {});
      const acknowledged: number[] = [];
      let errors = 0;
      let firstError = 0;
      let lastError = 0;
      let killedAt = 0;
      let writesAfterFailover = 0;
      const deadline = Date.now() + 45_000;
      for (let i = 0; Date.now() < deadline && writesAfterFailover < 200; i++) {
        try {
          await client.set(`key:${i}`, String(i));
          const replicas = await client.call("WAIT", "1", "1000") as number;
          if (replicas >= 1) acknowledged.push(i);
          if (killedAt !== 0) writesAfterFailover++;
        } catch {
          errors++;
          lastError = Date.now();
          if (firstError === 0) firstError = lastError;
          await sleep(50);
        }
        if (i === 300) {
          killedAt = Date.now();
          await servers[0]!.kill9();
        }
      }
      assert.ok(
        writesAfterFailover >= 200,
        `only ${writesAfterFailover} writes after the failover`,
      );
      const outage = lastError === 0 ? 0 : lastError - killedAt;
      assert.ok(outage < 15_000, `writes failed for ${outage} ms`);

      // The new master, as the sentinels see it, has every acknowledged write.
      const link = await connect(sentinels[0]!.port);
      const address = await call(
        link,
        "SENTINEL",
        "GET-MASTER-ADDR-BY-NAME",
        "mymaster",
      ) as string[];
      await link.close();
      const newPort = Number(address[1]);
      assert.notEqual(newPort, servers[0]!.port);
      const newMaster = await connect(newPort);
      try {
        assert.equal(await info(newMaster, "role"), "master");
        const values = await call(
          newMaster,
          "MGET",
          ...acknowledged.map((i) => `key:${i}`),
        ) as (string | null)[];
        const lost = acknowledged.filter((i, index) => values[index] !== String(i));
        assert.deepEqual(lost, [], "acknowledged writes missing from the new master");
        // The other replica follows the new master.
        const other = servers.slice(1).find((server) => server.port !== newPort)!;
        const otherLink = await connect(other.port);
        try {
          await waitFor(
            "the other replica to follow the new master",
            async () =>
              (await info(otherLink, "master_port")) === String(newPort) &&
              (await info(otherLink, "master_link_status")) === "up",
            20_000,
          );
          await must(newMaster, "SET", "final", "1");
          await waitFor(
            "the final write to reach the other replica",
            async () => (await call(otherLink, "GET", "final")) === "1",
          );
        } finally {
          await otherLink.close();
        }
        // Sentinel rewrote the promoted server's config file (CONFIG REWRITE in its MULTI).
        const promotedName = servers[1]!.port === newPort ? "replica1" : "replica2";
        const rewritten = await Deno.readTextFile(join(dir, `${promotedName}.conf`));
        assert.doesNotMatch(rewritten, /^replicaof /m);
      } finally {
        await newMaster.close();
      }
      console.log(
        `failover: ${acknowledged.length} acknowledged writes, ${errors} errors over ${outage} ms`,
      );
    } finally {
      client?.disconnect();
      for (const sentinel of sentinels) await sentinel.stop();
      for (const server of servers) await server.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
