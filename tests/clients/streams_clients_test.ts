/**
 * Streams end to end with real clients: a consumer-group job queue run by
 * ioredis (RESP3, its default) and by node-redis (its defaults), with
 * workers in `XREADGROUP BLOCK` loops on connections of their own, one
 * worker that dies holding unacknowledged jobs, and a rescuer that takes
 * them over with XAUTOCLAIM; and rq (Debian's python3-rq), whose job
 * results live in streams, through an enqueue, a worker run and a result
 * fetch.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { type RunningServer, startOurServer } from "../helpers/servers.ts";

const sanitizers = { sanitizeOps: false, sanitizeResources: false };
const JOBS = 40;
const DYING_WORKER_TAKES = 3;

/**
 * What a job-queue run observed: jobs done by each worker, jobs the rescuer
 * recovered, and the group's pending count at the end.
 */
interface QueueRun {
  done: Map<string, string>;
  rescued: string[];
  pendingAtEnd: number;
}

function assertEveryJobDoneOnce(run: QueueRun): void {
  const jobs = [...run.done.values()].sort();
  assert.equal(jobs.length, JOBS);
  assert.deepEqual(jobs, Array.from({ length: JOBS }, (_, i) => `job${i}`).sort());
  assert.equal(run.rescued.length, DYING_WORKER_TAKES);
  assert.equal(run.pendingAtEnd, 0);
}

Deno.test({
  name: "ioredis: XREADGROUP BLOCK worker loops, a dying worker, XAUTOCLAIM recovery",
  ...sanitizers,
  async fn() {
    const server = await startOurServer();
    const connect = () => new Redis({ port: server.port, host: "127.0.0.1", lazyConnect: true });
    const admin = connect();
    const workers = [connect(), connect()];
    const dying = connect();
    try {
      await Promise.all([admin, ...workers, dying].map((client) => client.connect()));
      assert.equal(await admin.xgroup("CREATE", "jobs", "workers", "$", "MKSTREAM"), "OK");
      const done = new Map<string, string>();
      // The dying worker takes its jobs first, then disconnects without acknowledging.
      for (let i = 0; i < DYING_WORKER_TAKES; i++) {
        await admin.xadd("jobs", "*", "job", `job${i}`);
      }
      const taken = await dying.xreadgroup(
        "GROUP",
        "workers",
        "dying",
        "COUNT",
        DYING_WORKER_TAKES,
        "STREAMS",
        "jobs",
        ">",
      );
      assert.ok(taken !== null);
      dying.disconnect();

      let stop = false;
      const work = async (client: Redis, name: string) => {
        while (!stop) {
          const reply = await client.xreadgroup(
            "GROUP",
            "workers",
            name,
            "COUNT",
            "5",
            "BLOCK",
            "100",
            "STREAMS",
            "jobs",
            ">",
          ) as unknown;
          for (const [id, fields] of entriesOf(reply)) {
            done.set(id, fields[1]!);
            assert.equal(await client.xack("jobs", "workers", id), 1);
          }
        }
      };
      const loops = workers.map((client, i) => work(client, `worker${i}`));
      for (let i = DYING_WORKER_TAKES; i < JOBS; i++) {
        await admin.xadd("jobs", "*", "job", `job${i}`);
      }
      while (done.size < JOBS - DYING_WORKER_TAKES) await new Promise((r) => setTimeout(r, 10));
      stop = true;
      await Promise.all(loops);

      const [cursor, claimed, deleted] = await admin.xautoclaim(
        "jobs",
        "workers",
        "rescuer",
        0,
        "0-0",
        "COUNT",
        10,
      ) as [string, [string, string[]][], string[]];
      assert.equal(cursor, "0-0");
      assert.deepEqual(deleted, []);
      const rescued = claimed.map(([id, fields]) => {
        done.set(id, fields[1]!);
        return id;
      });
      assert.equal(await admin.xack("jobs", "workers", ...rescued), rescued.length);
      const pending = await admin.xpending("jobs", "workers") as [number, ...unknown[]];
      assertEveryJobDoneOnce({ done, rescued, pendingAtEnd: pending[0] });
      assert.equal(await admin.xlen("jobs"), JOBS);
    } finally {
      for (const client of [admin, ...workers, dying]) client.disconnect();
      await server.stop();
    }
  },
});

/**
 * The entries of an XREADGROUP reply for one stream, as ioredis gives them:
 * `[[key, entries]]` over RESP2, and over RESP3 either that or the map.
 */
function entriesOf(reply: unknown): [string, string[]][] {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) {
    // RESP2 shape, or a RESP3 map ioredis flattened into [key, entries].
    const first = reply[0];
    if (Array.isArray(first)) return (first as [string, [string, string[]][]])[1];
    return reply[1] as [string, string[]][];
  }
  return Object.values(reply as Record<string, [string, string[]][]>)[0] ?? [];
}

Deno.test({
  name: "node-redis: XREADGROUP BLOCK worker loops, a dying worker, XAUTOCLAIM recovery",
  ...sanitizers,
  async fn() {
    const server = await startOurServer();
    const url = `redis://127.0.0.1:${server.port}`;
    const admin = createClient({ url });
    const clients = [admin];
    try {
      await admin.connect();
      const duplicate = async () => {
        const client = admin.duplicate();
        clients.push(client);
        await client.connect();
        return client;
      };
      await admin.xGroupCreate("jobs", "workers", "$", { MKSTREAM: true });
      const done = new Map<string, string>();
      for (let i = 0; i < DYING_WORKER_TAKES; i++) {
        await admin.xAdd("jobs", "*", { job: `job${i}` });
      }
      const dying = await duplicate();
      const taken = await dying.xReadGroup("workers", "dying", { key: "jobs", id: ">" }, {
        COUNT: DYING_WORKER_TAKES,
      });
      assert.ok(taken !== null);
      dying.destroy();

      let stop = false;
      const work = async (name: string) => {
        const client = await duplicate();
        while (!stop) {
          const reply = await client.xReadGroup("workers", name, { key: "jobs", id: ">" }, {
            COUNT: 5,
            BLOCK: 100,
          }) as
            | { name: string; messages: { id: string; message: Record<string, string> }[] }[]
            | null;
          for (const { id, message } of reply?.[0]?.messages ?? []) {
            done.set(id, message.job!);
            assert.equal(await client.xAck("jobs", "workers", id), 1);
          }
        }
      };
      const loops = [work("worker0"), work("worker1")];
      for (let i = DYING_WORKER_TAKES; i < JOBS; i++) {
        await admin.xAdd("jobs", "*", { job: `job${i}` });
      }
      while (done.size < JOBS - DYING_WORKER_TAKES) await new Promise((r) => setTimeout(r, 10));
      stop = true;
      await Promise.all(loops);

      const claim = await admin.xAutoClaim("jobs", "workers", "rescuer", 0, "0-0", { COUNT: 10 });
      assert.equal(claim.nextId, "0-0");
      assert.deepEqual(claim.deletedMessages, []);
      const rescued = claim.messages.map((entry) => {
        const { id, message } = entry!;
        done.set(id, message.job!);
        return id;
      });
      assert.equal(await admin.xAck("jobs", "workers", rescued), rescued.length);
      const pending = await admin.xPending("jobs", "workers");
      assertEveryJobDoneOnce({ done, rescued, pendingAtEnd: pending.pending });
      const info = await admin.xInfoStream("jobs");
      assert.equal(info.length, JOBS);
      assert.equal(info.groups, 1);
      const groups = await admin.xInfoGroups("jobs");
      assert.equal(groups[0]!.pending, 0);
    } finally {
      for (const client of clients) if (client.isOpen) client.destroy();
      await server.stop();
    }
  },
});

const RQ_SCRIPT = `
import sys
from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job

connection = Redis(host="127.0.0.1", port=int(sys.argv[1]))
queue = Queue("streams-test", connection=connection)
job = queue.enqueue("operator.add", 20, 22)
SimpleWorker([queue], connection=connection).work(burst=True)
job = Job.fetch(job.id, connection=connection)
result = job.latest_result()
print("status=%s result=%s kind=%s returned=%s results=%d" % (
    job.get_status(), job.result, result.type.name, result.return_value,
    len(job.results())))
`;

async function hasPythonRq(): Promise<boolean> {
  try {
    const probe = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", "import rq"],
      stdout: "null",
      stderr: "null",
    }).output();
    return probe.success;
  } catch {
    return false;
  }
}

const rqInstalled = await hasPythonRq();
if (!rqInstalled) {
  console.warn(
    "python3-rq is not installed: SKIPPING the rq round trip (apt-get install python3-rq)",
  );
}

Deno.test({
  name: "rq: enqueue, a burst worker run, and the job's result read back from its stream",
  ...sanitizers,
  ignore: !rqInstalled,
  async fn() {
    let server: RunningServer | undefined;
    try {
      server = await startOurServer();
      const output = await new Deno.Command("/usr/bin/python3", {
        args: ["-c", RQ_SCRIPT, String(server.port)],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(output.stdout);
      const stderr = new TextDecoder().decode(output.stderr);
      const missing = /unknown command '([^']+)'/.exec(stderr);
      assert.equal(missing, null, `rq needs a command we lack: ${missing?.[1]}`);
      assert.ok(output.success, stderr);
      // rq's worker logs to stdout; the script's own line comes last.
      assert.equal(
        stdout.trim().split("\n").at(-1),
        "status=finished result=42 kind=SUCCESSFUL returned=42 results=1",
      );
    } finally {
      await server?.stop();
    }
  },
});
