/**
 * Running the real redis-server as the oracle for configuration tests: with
 * a config file as its first argument (which the shared `startRedisServer`
 * cannot do, since it puts its own flags first), or just to see how it
 * refuses a file.
 *
 * Every process is awaited and its pipes drained, so Deno's sanitizers stay
 * quiet; callers skip loudly when `redisServerPath()` is undefined.
 *
 * @module
 */

import { freePort, RawClient, redisServerPath, sleep } from "../helpers/servers.ts";

/** How redis-server reacted to a config file it refused. */
export interface RefusedStart {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs redis-server on a file expected to be refused (it exits at once). */
export async function redisRefuses(
  path: string,
  args: string[] = [],
  cwd?: string,
): Promise<RefusedStart> {
  const executable = redisServerPath();
  if (executable === undefined) throw new Error("redis-server is not installed");
  const port = await freePort();
  const output = await new Deno.Command(executable, {
    args: [path, "--port", String(port), ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

/** A redis-server started on a config file, with one connection to it. */
export interface FileServer {
  client: RawClient;
  port: number;
  stop(): Promise<void>;
}

/** Starts redis-server with `path` as its config file (and `args` after it). */
export async function startRedisWithFile(path: string, args: string[] = []): Promise<FileServer> {
  const executable = redisServerPath();
  if (executable === undefined) throw new Error("redis-server is not installed");
  const port = await freePort();
  const process = new Deno.Command(executable, {
    args: [path, "--port", String(port), "--daemonize", "no", ...args],
    stdout: "null",
    stderr: "null",
  }).spawn();
  let client: RawClient | undefined;
  for (let attempt = 0; attempt < 100 && client === undefined; attempt++) {
    try {
      client = await RawClient.connect(port);
    } catch {
      await sleep(50);
    }
  }
  if (client === undefined) {
    process.kill("SIGKILL");
    await process.status;
    throw new Error(`redis-server did not start on ${path}`);
  }
  const connected = client;
  return {
    client: connected,
    port,
    async stop() {
      await connected.close();
      process.kill("SIGTERM");
      await process.status;
    },
  };
}
