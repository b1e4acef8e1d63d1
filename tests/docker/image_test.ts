/**
 * The Docker image, tested by doing what the README says:
 *
 * ```sh
 * docker build -t redis-clone .
 * docker run -p 6379:6379 redis-clone
 * docker run -p 8080:8080 redis-clone -port 8080
 * docker run -p 6379:6379 -v $(pwd)/data:/app redis-clone -aof /app/database.aof
 * ```
 *
 * With a daemon on DOCKER_HOST (`bash .ci/docker.sh` starts one and imports
 * the stand-in base image): the build works offline and type-checks, the
 * default container serves on 6379, `-port` moves it, an AOF on a volume
 * survives `docker stop` and a new container, and `docker stop` is a clean
 * shutdown (exit code 0, Redis's "ready to exit" line, a complete AOF).
 * Containers share the host's network (`--network host`, where `-p` does
 * nothing), so each test uses a free port; 6379 only if it is free.
 *
 * Without a daemon every test is skipped, loudly.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Container, docker, dockerOk, dockerUnavailableReason, ENABLE_HINT } from "./docker_cli.ts";
import { freePort, repoRoot, sleep } from "../helpers/servers.ts";
import { parseAof, query } from "../helpers/test_support.ts";

const IMAGE = "redis-clone";
const BASE_IMAGE = "denoland/deno:2.9.3";
const READY_TO_EXIT = "Redis is now ready to exit, bye bye...";
const DEFAULT_PORT = 6379;

const unavailable = await dockerUnavailableReason();
if (unavailable !== undefined) {
  console.warn(`SKIPPED the Docker image tests: ${unavailable}. To run them, ${ENABLE_HINT}.`);
}

/** Whether nothing listens on `port` right now. */
function portIsFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "0.0.0.0", port }).close();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) return false;
    throw error;
  }
}

const defaultPortBusy = unavailable === undefined && !portIsFree(DEFAULT_PORT);
if (defaultPortBusy) {
  console.warn(
    `SKIPPED "docker run redis-clone" on its default port: something already listens on ` +
      `${DEFAULT_PORT} here, and the container shares the host's network.`,
  );
}

let built: Promise<void> | undefined;

/**
 * Builds the image once for all tests, the README's way plus `--network
 * none`: the build must not need the network (no registry, no JSR, none of
 * the npm packages the tests import).
 */
function buildImage(): Promise<void> {
  built ??= (async () => {
    const base = await docker(["image", "inspect", BASE_IMAGE]);
    assert.equal(base.code, 0, `${BASE_IMAGE} is not in the daemon: ${ENABLE_HINT}`);
    await dockerOk(["build", "--network", "none", "-t", IMAGE, "."], {
      cwd: repoRoot(),
      timeoutMs: 300_000,
    });
  })();
  return built;
}

/** Runs `test` with a container of the image, stopped and removed afterwards whatever happens. */
async function withContainer(
  args: readonly string[],
  dockerArgs: readonly string[],
  test: (container: Container) => Promise<void>,
): Promise<void> {
  await buildImage();
  const container = await Container.run(IMAGE, args, dockerArgs);
  try {
    await test(container);
  } finally {
    await container.remove();
  }
}

/** Stops the container and asserts Redis's clean shutdown: exit code 0 and the farewell line. */
async function assertCleanStop(container: Container): Promise<void> {
  const exitCode = await container.stop();
  const logs = await container.logs();
  assert.equal(exitCode, 0, `docker stop ended the server with exit code ${exitCode}:\n${logs}`);
  assert.match(logs, /Received SIGTERM scheduling shutdown/);
  assert.ok(logs.includes(READY_TO_EXIT), `no "${READY_TO_EXIT}" in the log:\n${logs}`);
}

Deno.test({
  name: "docker build -t redis-clone . builds the image without network access",
  ignore: unavailable !== undefined,
  async fn() {
    await buildImage();
    // The README's command as written, on top: all of it from the cache now.
    await dockerOk(["build", "-t", IMAGE, "."], { cwd: repoRoot(), timeoutMs: 300_000 });
    const config = JSON.parse(
      await dockerOk(["image", "inspect", "--format", "{{json .Config}}", IMAGE]),
    );
    assert.equal(config.WorkingDir, "/app");
    assert.deepEqual(Object.keys(config.ExposedPorts ?? {}), ["6379/tcp"]);
  },
});

Deno.test({
  name: "docker build fails when the server does not type-check",
  ignore: unavailable !== undefined,
  async fn() {
    await buildImage();
    const context = await Deno.makeTempDir({ prefix: "redis-clone-docker-context-" });
    try {
      for (const name of ["Dockerfile", ".dockerignore", "deno.json", "deno.lock"]) {
        await Deno.copyFile(`${repoRoot()}${name}`, `${context}/${name}`);
      }
      const copied = await new Deno.Command("cp", {
        args: ["-r", `${repoRoot()}src`, `${context}/src`],
      }).output();
      assert.equal(copied.code, 0);
      await Deno.writeTextFile(
        `${context}/src/main.ts`,
        '\nexport const notANumber: number = "a string";\n',
        { append: true },
      );
      const result = await docker(
        ["build", "--network", "none", "--force-rm", "-t", "redis-clone-type-error", "."],
        { cwd: context, timeoutMs: 300_000 },
      );
      const output = result.stdout + result.stderr;
      assert.notEqual(result.code, 0, `the build accepted a type error:\n${output}`);
      assert.match(output, /TS2322/);
    } finally {
      await Deno.remove(context, { recursive: true });
    }
  },
});

Deno.test({
  name: "docker run redis-clone with no arguments serves on 6379 and docker stop exits cleanly",
  ignore: unavailable !== undefined || defaultPortBusy,
  async fn() {
    await withContainer([], [], async (container) => {
      const client = await container.connect(DEFAULT_PORT);
      try {
        assert.match(
          await container.logs(),
          /Ready to accept connections tcp on (0\.0\.0\.0|\[::\]):6379/,
          "something other than the container answered on 6379",
        );
        assert.equal(await query(client, "PING"), "PONG");
        assert.deepEqual(await query(client, "CONFIG", "GET", "port"), ["port", "6379"]);
        assert.equal(await query(client, "SET", "key", "value"), "OK");
      } finally {
        await client.close();
      }
      await assertCleanStop(container);
      // The working directory is /app, so that is where the default AOF went.
      const changes = await dockerOk(["diff", container.name]);
      assert.match(changes, /^A \/app\/database\.aof$/m, changes);
    });
  },
});

Deno.test({
  name: "docker run redis-clone -port N serves on port N",
  ignore: unavailable !== undefined,
  async fn() {
    const port = await freePort();
    await withContainer(["-port", String(port)], [], async (container) => {
      const client = await container.connect(port);
      try {
        assert.equal(await query(client, "SET", "name", "redis clone"), "OK");
        assert.equal(await query(client, "GET", "name"), "redis clone");
        assert.deepEqual(await query(client, "CONFIG", "GET", "port"), ["port", String(port)]);
      } finally {
        await client.close();
      }
      await assertCleanStop(container);
    });
  },
});

Deno.test({
  name: "an AOF on a volume (-aof /app/database.aof) is complete after docker stop " +
    "and a new container on the volume loads it",
  ignore: unavailable !== undefined,
  async fn() {
    const data = await Deno.makeTempDir({ prefix: "redis-clone-docker-data-" });
    try {
      const volume = ["-v", `${data}:/app`];
      const port = await freePort();
      const args = ["-port", String(port), "-aof", "/app/database.aof"];
      await withContainer(args, volume, async (container) => {
        const client = await container.connect(port);
        try {
          assert.equal(await query(client, "SET", "greeting", "hello"), "OK");
          assert.equal(await query(client, "RPUSH", "queue", "a", "b", "c"), 3);
          assert.equal(await query(client, "HSET", "user:1", "name", "Ada", "age", "36"), 2);
          assert.equal(await query(client, "SET", "session", "abc", "EX", "3600"), "OK");
          for (let i = 1; i <= 3; i++) assert.equal(await query(client, "INCR", "counter"), i);
        } finally {
          await client.close();
        }
        await assertCleanStop(container);
      });

      // Every acknowledged write is in the file, and the file ends on a whole command.
      const commands = parseAof(await Deno.readFile(`${data}/database.aof`))
        .map((command) => command[0]!.toUpperCase())
        .filter((name) => name !== "SELECT");
      assert.deepEqual(commands, ["SET", "RPUSH", "HSET", "SET", "INCR", "INCR", "INCR"]);

      const secondPort = await freePort();
      const secondArgs = ["-port", String(secondPort), "-aof", "/app/database.aof"];
      await withContainer(secondArgs, volume, async (container) => {
        const client = await container.connect(secondPort);
        try {
          // The server listens while it loads the AOF: wait as a client library would.
          while (JSON.stringify(await query(client, "PING")).includes("LOADING")) await sleep(50);
          assert.equal(await query(client, "GET", "greeting"), "hello");
          assert.deepEqual(await query(client, "LRANGE", "queue", "0", "-1"), ["a", "b", "c"]);
          assert.deepEqual(await query(client, "HGETALL", "user:1"), [
            "name",
            "Ada",
            "age",
            "36",
          ]);
          const ttl = await query(client, "TTL", "session");
          assert.ok(typeof ttl === "number" && ttl > 3500 && ttl <= 3600, `TTL ${ttl}`);
          assert.equal(await query(client, "GET", "counter"), "3");
        } finally {
          await client.close();
        }
        await assertCleanStop(container);
      });
    } finally {
      await Deno.remove(data, { recursive: true });
    }
  },
});

/**
 * The arguments the entrypoint hands to `deno run ... main.ts`, seen by a
 * stand-in `deno` that prints them: the entrypoint's protected-mode logic is
 * tested before the server accepts the flag.
 */
async function entrypointArguments(
  args: readonly string[],
  protectedMode?: string,
): Promise<string[]> {
  await buildImage();
  const bin = await Deno.makeTempDir({ prefix: "redis-clone-docker-bin-" });
  try {
    await Deno.writeTextFile(`${bin}/deno`, '#!/bin/sh\nprintf "%s\\n" "$@"\n', { mode: 0o755 });
    await Deno.writeTextFile(`${bin}/plain.conf`, "port 7000\n");
    await Deno.writeTextFile(`${bin}/protected.conf`, "port 7000\nprotected-mode yes\n");
    const environment = protectedMode === undefined
      ? []
      : ["-e", `REDIS_CLONE_PROTECTED_MODE=${protectedMode}`];
    const output = await dockerOk([
      "run",
      "--rm",
      "--network",
      "none",
      "-v",
      `${bin}:/stand-in:ro`,
      "-e",
      "PATH=/stand-in:/usr/local/bin:/usr/bin:/bin",
      ...environment,
      IMAGE,
      ...args,
    ]);
    const printed = output.split("\n").slice(0, -1);
    const main = printed.indexOf("/opt/redis-clone/src/main.ts");
    assert.ok(main >= 0, `the entrypoint did not run main.ts: ${printed.join(" ")}`);
    return printed.slice(main + 1);
  } finally {
    await Deno.remove(bin, { recursive: true });
  }
}

Deno.test({
  name: "the entrypoint adds --protected-mode where the official Redis image's does",
  ignore: unavailable !== undefined,
  async fn() {
    // The image's default is "no", as the official image; an empty switch passes arguments as given.
    assert.deepEqual(await entrypointArguments(["-port", "8080"]), [
      "--protected-mode",
      "no",
      "-port",
      "8080",
    ]);
    assert.deepEqual(await entrypointArguments(["-port", "8080"], ""), ["-port", "8080"]);
    // --version and --help must stay the first argument.
    assert.deepEqual(await entrypointArguments(["--version"]), ["--version"]);
    // Switched on: before the user's own flags, so a later --protected-mode wins...
    assert.deepEqual(await entrypointArguments(["-port", "8080"], "no"), [
      "--protected-mode",
      "no",
      "-port",
      "8080",
    ]);
    // ...after a config file, which must stay the first argument...
    assert.deepEqual(
      await entrypointArguments(["/stand-in/plain.conf", "--port", "7001"], "no"),
      ["/stand-in/plain.conf", "--protected-mode", "no", "--port", "7001"],
    );
    // ...and not at all when the config file sets protected-mode itself.
    assert.deepEqual(
      await entrypointArguments(["/stand-in/protected.conf", "--port", "7001"], "no"),
      ["/stand-in/protected.conf", "--port", "7001"],
    );
    assert.deepEqual(await entrypointArguments([], "no"), ["--protected-mode", "no"]);
  },
});

/** Whether the server accepts `--protected-mode`, asked of a container with the switch on. */
async function serverAcceptsProtectedMode(): Promise<boolean> {
  const port = await freePort();
  let accepted = false;
  await withContainer(
    ["-port", String(port), "--appendonly", "no"],
    ["-e", "REDIS_CLONE_PROTECTED_MODE=no"],
    async (container) => {
      let client;
      try {
        client = await container.connect(port);
      } catch (error) {
        if ((await container.state()).running) throw error;
        const logs = await container.logs();
        assert.match(logs, /protected-mode/, `the container failed for another reason:\n${logs}`);
        return;
      }
      try {
        assert.deepEqual(await query(client, "CONFIG", "GET", "protected-mode"), [
          "protected-mode",
          "no",
        ]);
      } finally {
        await client.close();
      }
      accepted = true;
    },
  );
  return accepted;
}

Deno.test({
  name: "the image turns protected mode off, as the official Redis image does, " +
    "once the server knows --protected-mode",
  ignore: unavailable !== undefined,
  async fn() {
    const environment: string[] = JSON.parse(
      await dockerOk(["image", "inspect", "--format", "{{json .Config.Env}}", IMAGE]),
    );
    const switchValue = environment.find((entry) => entry.startsWith("REDIS_CLONE_PROTECTED_MODE="))
      ?.split("=")[1];
    const accepted = await serverAcceptsProtectedMode();
    if (!accepted) {
      assert.equal(switchValue, "", "the Dockerfile passes a flag the server rejects");
      console.warn(
        "NOTE: the server does not accept --protected-mode yet, so the image does not pass it " +
          "(ENV REDIS_CLONE_PROTECTED_MODE in the Dockerfile stays empty until it does).",
      );
      return;
    }
    assert.equal(
      switchValue,
      "no",
      'the server accepts --protected-mode now: set ENV REDIS_CLONE_PROTECTED_MODE="no" in the ' +
        "Dockerfile, as the official Redis image runs without a config file",
    );
    const port = await freePort();
    await withContainer(["-port", String(port), "--appendonly", "no"], [], async (container) => {
      const client = await container.connect(port);
      try {
        assert.deepEqual(await query(client, "CONFIG", "GET", "protected-mode"), [
          "protected-mode",
          "no",
        ]);
      } finally {
        await client.close();
      }
    });
  },
});
