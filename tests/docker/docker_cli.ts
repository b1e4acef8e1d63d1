/**
 * The `docker` command line, as tests/docker/ uses it: whether a daemon
 * answers, running the CLI, and containers that a test starts, waits for and
 * always removes.
 *
 * Everything goes through the real `docker` client and `DOCKER_HOST`, the way
 * a person runs the README's commands; `.ci/docker.sh` provides a daemon
 * where none runs. That daemon has no bridge network, so containers use
 * `--network host` and the tests pick free ports instead of publishing them
 * with `-p`.
 *
 * @module
 */

import { RawClient, sleep } from "../helpers/servers.ts";

/** How to get a daemon, for the skip message. */
export const ENABLE_HINT = "run `bash .ci/docker.sh` and export the DOCKER_HOST=... line it prints";

/** What one `docker` invocation printed and how it ended. */
export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

const DECODER = new TextDecoder();

/** Runs `docker ...args`, killing it after `timeoutMs`. Never throws for a non-zero exit. */
export async function docker(
  args: readonly string[],
  options: { timeoutMs?: number; cwd?: string } = {},
): Promise<DockerResult> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), options.timeoutMs ?? 120_000);
  try {
    const output = await new Deno.Command("docker", {
      args: [...args],
      cwd: options.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: abort.signal,
    }).output();
    const result = {
      code: output.code,
      stdout: DECODER.decode(output.stdout),
      stderr: DECODER.decode(output.stderr),
    };
    if (abort.signal.aborted) {
      result.stderr += `\n(docker ${args.join(" ")} killed after ${
        options.timeoutMs ?? 120_000
      } ms)`;
    }
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/** Like {@link docker}, but throws with the command's output when it fails. */
export async function dockerOk(
  args: readonly string[],
  options: { timeoutMs?: number; cwd?: string } = {},
): Promise<string> {
  const result = await docker(args, options);
  if (result.code !== 0) {
    throw new Error(
      `docker ${args.join(" ")} exited with ${result.code}:\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

/** Why the docker tests cannot run here, or undefined when a daemon answers on DOCKER_HOST. */
export async function dockerUnavailableReason(): Promise<string | undefined> {
  const host = Deno.env.get("DOCKER_HOST");
  if (!host) return "DOCKER_HOST is not set";
  try {
    const result = await docker(["version", "--format", "{{.Server.Version}}"], {
      timeoutMs: 20_000,
    });
    if (result.code !== 0) {
      return `no Docker daemon answers on DOCKER_HOST=${host} (${result.stderr.trim()})`;
    }
    return undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "the docker client is not installed";
    throw error;
  }
}

let containerCount = 0;

/** A container started by a test; `remove()` in a `finally` takes it away whatever happened. */
export class Container {
  readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  /**
   * `docker run -d --network host [dockerArgs] image [args]`: started in the
   * background under a name of this test process's own.
   */
  static async run(
    image: string,
    args: readonly string[],
    dockerArgs: readonly string[] = [],
  ): Promise<Container> {
    const name = `redis-clone-test-${Deno.pid}-${++containerCount}`;
    await dockerOk([
      "run",
      "-d",
      "--network",
      "host",
      "--name",
      name,
      ...dockerArgs,
      image,
      ...args,
    ]);
    return new Container(name);
  }

  /** Everything the container wrote to stdout and stderr so far. */
  async logs(): Promise<string> {
    const result = await docker(["logs", this.name]);
    return result.stdout + result.stderr;
  }

  /** Whether it is running, and its exit code once it has stopped. */
  async state(): Promise<{ running: boolean; exitCode: number }> {
    const text = await dockerOk([
      "inspect",
      "--format",
      "{{.State.Running}} {{.State.ExitCode}}",
      this.name,
    ]);
    const [running, exitCode] = text.trim().split(" ");
    return { running: running === "true", exitCode: Number(exitCode) };
  }

  /**
   * Connects to the server inside on `port`, waiting for it to listen.
   * Throws with the container's log if it exits or does not listen in time.
   */
  async connect(port: number, timeoutMs = 30_000): Promise<RawClient> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0;; attempt++) {
      const client = await RawClient.connect(port).catch(() => undefined);
      if (client !== undefined) return client;
      if (attempt % 10 === 9) {
        const state = await this.state();
        if (!state.running) {
          throw new Error(
            `container ${this.name} exited with ${state.exitCode} before listening on ${port}:\n` +
              (await this.logs()),
          );
        }
      }
      if (Date.now() > deadline) {
        throw new Error(
          `container ${this.name} did not listen on ${port} within ${timeoutMs} ms:\n` +
            (await this.logs()),
        );
      }
      await sleep(100);
    }
  }

  /** `docker stop`: SIGTERM, then SIGKILL after `graceSeconds`. Returns the exit code. */
  async stop(graceSeconds = 20): Promise<number> {
    await dockerOk(["stop", "--time", String(graceSeconds), this.name], {
      timeoutMs: (graceSeconds + 30) * 1000,
    });
    return (await this.state()).exitCode;
  }

  /** `docker rm -f`, ignoring a container that is already gone. */
  async remove(): Promise<void> {
    await docker(["rm", "-f", this.name]);
  }
}
