/**
 * Job queues built on Lua scripts, unmodified, against our server, each
 * doing its README's typical workload: BullMQ (Queue, Worker, QueueEvents;
 * 1,000 jobs with retries, delays, priorities and a rate limit), Bull and
 * bee-queue (jobs with retries and delays, concurrency). They use EVALSHA
 * with EVAL fallback, `redis.call` replies of every shape, blocking
 * commands from a second connection, and streams (BullMQ's events).
 *
 * @module
 */

import assert from "node:assert/strict";
import { Queue, QueueEvents, Worker } from "bullmq";
import Bull from "bull";
import BeeQueue from "bee-queue";
import { type RunningServer, sleep, startOurServer } from "../helpers/servers.ts";

// The libraries keep timers and sockets of their own beyond close().
const sanitizers = { sanitizeOps: false, sanitizeResources: false };

/** Waits until `done()` holds, checking every 20 ms, at most `timeoutMs`. */
async function until(done: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function withServer(test: (server: RunningServer) => Promise<void>): Promise<void> {
  const server = await startOurServer();
  try {
    await test(server);
  } finally {
    await server.stop();
  }
}

Deno.test({
  name: "BullMQ processes 1,000 jobs with retries, delays, priorities and a rate limit",
  ...sanitizers,
  async fn() {
    await withServer(async (server) => {
      const connection = { host: "127.0.0.1", port: server.port, maxRetriesPerRequest: null };
      const queue = new Queue("work", { connection });
      const events = new QueueEvents("work", { connection });
      await events.waitUntilReady();
      const completedEvents = new Set<string>();
      let failedEvents = 0;
      events.on("completed", ({ jobId }) => completedEvents.add(jobId));
      events.on("failed", () => failedEvents++);

      const total = 1000;
      const firstAttemptFailures = new Set<number>();
      const worker = new Worker(
        "work",
        (job) => {
          const { index, flaky, alwaysFails } = job.data as {
            index: number;
            flaky: boolean;
            alwaysFails: boolean;
          };
          if (alwaysFails) return Promise.reject(new Error("permanent failure"));
          if (flaky && job.attemptsMade === 0) {
            firstAttemptFailures.add(index);
            return Promise.reject(new Error("transient failure"));
          }
          return Promise.resolve({ doubled: index * 2 });
        },
        { connection, concurrency: 10, limiter: { max: 400, duration: 100 } },
      );
      const workerErrors: unknown[] = [];
      worker.on("error", (error) => workerErrors.push(error));
      try {
        const jobs = Array.from({ length: total }, (_, index) => ({
          name: "job",
          data: { index, flaky: index % 10 === 0, alwaysFails: index === 7 },
          opts: {
            attempts: 3,
            backoff: { type: "fixed", delay: 20 },
            delay: index % 25 === 0 ? 50 : undefined,
            priority: index % 4 === 0 ? 1 + (index % 3) : undefined,
            jobId: `job-${index}`,
          },
        }));
        await queue.addBulk(jobs);
        await until(async () => {
          const counts = await queue.getJobCounts("completed", "failed");
          return counts.completed === total - 1 && counts.failed === 1;
        }, "every job to finish");

        const counts = await queue.getJobCounts(
          "waiting",
          "active",
          "delayed",
          "prioritized",
          "completed",
          "failed",
        );
        assert.deepEqual(counts, {
          waiting: 0,
          active: 0,
          delayed: 0,
          prioritized: 0,
          completed: total - 1,
          failed: 1,
        });
        assert.equal(firstAttemptFailures.size, total / 10);
        const retried = (await queue.getJob("job-10"))!;
        assert.equal(retried.attemptsMade, 2);
        assert.deepEqual(retried.returnvalue, { doubled: 20 });
        const delayed = (await queue.getJob("job-25"))!;
        assert.ok(delayed.processedOn! >= delayed.timestamp + 50);
        const failed = (await queue.getJob("job-7"))!;
        assert.equal(failed.attemptsMade, 3);
        assert.equal(failed.failedReason, "permanent failure");
        await until(() => completedEvents.size === total - 1, "every completed event");
        // As with Redis, QueueEvents says `failed` once a job has no attempt left.
        await until(() => failedEvents === 1, "the failed event");
        assert.deepEqual(workerErrors, []);
      } finally {
        await worker.close();
        await events.close();
        await queue.obliterate({ force: true });
        await queue.close();
      }
    });
  },
});

Deno.test({
  name: "BullMQ serves a higher priority first and pauses, resumes and removes jobs",
  ...sanitizers,
  async fn() {
    await withServer(async (server) => {
      const connection = { host: "127.0.0.1", port: server.port, maxRetriesPerRequest: null };
      const queue = new Queue("ordered", { connection });
      try {
        await queue.pause();
        await queue.add("low", { name: "low" }, { priority: 10 });
        await queue.add("high", { name: "high" }, { priority: 1 });
        await queue.add("plain", { name: "plain" });
        const removable = await queue.add("removed", { name: "removed" });
        await removable.remove();
        assert.equal(await queue.isPaused(), true);
        const order: string[] = [];
        const worker = new Worker("ordered", (job) => {
          order.push(job.data.name);
          return Promise.resolve();
        }, { connection, concurrency: 1 });
        try {
          await queue.resume();
          await until(() => order.length === 3, "the three jobs");
          // Jobs without priority come before prioritized ones, then by priority.
          assert.deepEqual(order, ["plain", "high", "low"]);
        } finally {
          await worker.close();
        }
      } finally {
        await queue.obliterate({ force: true });
        await queue.close();
      }
    });
  },
});

Deno.test({
  name: "Bull processes jobs with retries, delays and concurrency",
  ...sanitizers,
  async fn() {
    await withServer(async (server) => {
      const queue = new Bull("bull-work", { redis: { host: "127.0.0.1", port: server.port } });
      try {
        const total = 200;
        const attempts = new Map<number, number>();
        let completed = 0;
        queue.on("completed", () => completed++);
        queue.process(5, (job) => {
          const index = job.data.index as number;
          attempts.set(index, (attempts.get(index) ?? 0) + 1);
          if (index % 20 === 0 && job.attemptsMade === 0) {
            return Promise.reject(new Error("try again"));
          }
          return Promise.resolve(index + 1);
        });
        for (let index = 0; index < total; index++) {
          await queue.add({ index }, {
            attempts: 2,
            backoff: 10,
            delay: index % 50 === 0 ? 30 : 0,
            jobId: `bull-${index}`,
          });
        }
        await until(() => completed === total, "every Bull job");
        const counts = await queue.getJobCounts();
        assert.equal(counts.completed, total);
        assert.equal(counts.failed, 0);
        assert.equal(attempts.get(20), 2);
        assert.equal(attempts.get(21), 1);
        const job = (await queue.getJob("bull-21"))!;
        assert.equal(job.returnvalue, 22);
      } finally {
        await queue.obliterate({ force: true });
        await queue.close();
      }
    });
  },
});

Deno.test({
  name: "bee-queue processes jobs with retries and reports their results",
  ...sanitizers,
  async fn() {
    await withServer(async (server) => {
      const redis = { host: "127.0.0.1", port: server.port };
      const queue = new BeeQueue("bee-work", {
        redis,
        removeOnSuccess: false,
        activateDelayedJobs: true,
      });
      try {
        await queue.ready();
        const total = 200;
        const seen = new Map<number, number>();
        queue.process(5, (job: { data: { index: number } }) => {
          const index = job.data.index;
          seen.set(index, (seen.get(index) ?? 0) + 1);
          if (index % 25 === 0 && seen.get(index) === 1) return Promise.reject(new Error("again"));
          return Promise.resolve(index * 3);
        });
        const results = new Map<number, number>();
        const jobs = [];
        for (let index = 0; index < total; index++) {
          const job = queue.createJob({ index }).retries(2);
          if (index % 40 === 0) job.delayUntil(Date.now() + 50);
          job.on("succeeded", (result: number) => results.set(index, result));
          jobs.push(job.save());
        }
        await Promise.all(jobs);
        await until(() => results.size === total, "every bee-queue job");
        assert.equal(results.get(7), 21);
        assert.equal(seen.get(25), 2);
        const health = await queue.checkHealth();
        assert.equal(health.succeeded, total);
        assert.equal(health.failed, 0);
      } finally {
        await queue.destroy();
        await queue.close();
      }
    });
  },
});
