/**
 * Python applications from Debian's packages, unmodified, against our
 * server: redis-py's Lock (`python3-redis`), Celery with a Redis broker and
 * result backend (`python3-celery`), and rq (`python3-rq`). Each workload
 * is a script in python/ that exits 0 and prints OK when every check held;
 * a missing package skips its test loudly (.ci/run installs them).
 *
 * @module
 */

import assert from "node:assert/strict";
import { startOurServer } from "../helpers/servers.ts";

/** Debian's interpreter, where the python3-* packages are installed. */
const PYTHON = "/usr/bin/python3";

function importable(module: string): boolean {
  try {
    const { success } = new Deno.Command(PYTHON, {
      args: ["-c", `import ${module}`],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return success;
  } catch {
    return false;
  }
}

const workloads = [
  {
    name: "redis-py's Lock keeps threads mutually exclusive and refuses a lost lock",
    script: "redis_py_lock.py",
    module: "redis",
  },
  {
    name: "Celery runs tasks, retries, groups and chords over a Redis broker and backend",
    script: "celery_worker.py",
    module: "celery",
  },
  {
    name: "rq runs enqueued jobs, dependencies and retries with a burst worker",
    script: "rq_worker.py",
    module: "rq",
  },
];

for (const workload of workloads) {
  const available = importable(workload.module);
  if (!available) {
    console.warn(`${PYTHON} cannot import ${workload.module}: SKIPPING "${workload.name}"`);
  }
  Deno.test({
    name: workload.name,
    ignore: !available,
    async fn() {
      const server = await startOurServer();
      try {
        const script = new URL(`./python/${workload.script}`, import.meta.url).pathname;
        const output = await new Deno.Command(PYTHON, {
          args: [script, String(server.port)],
          stdout: "piped",
          stderr: "piped",
          env: { PYTHONDONTWRITEBYTECODE: "1" },
        }).output();
        const stdout = new TextDecoder().decode(output.stdout);
        const stderr = new TextDecoder().decode(output.stderr);
        assert.equal(output.code, 0, `${workload.script} failed:\n${stdout}\n${stderr}`);
        assert.match(stdout, /^OK$/m);
      } finally {
        await server.stop();
      }
    },
  });
}
