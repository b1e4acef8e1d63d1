import assert from "node:assert/strict";
import { aofPath, ConfigError, parseCommandLine } from "../src/config.ts";
import { freePort, RawClient, repoRoot, startOurServer } from "./helpers/servers.ts";

function serve(argv: string[]) {
  const parsed = parseCommandLine(argv);
  assert.equal(parsed.action, "serve");
  return (parsed as Extract<typeof parsed, { action: "serve" }>).config;
}

Deno.test("CLI: defaults are Redis's, with the seed's AOF on by default", () => {
  const config = serve([]);
  assert.equal(config.port, 6379);
  assert.equal(config.bind, "0.0.0.0");
  assert.equal(config.appendonly, true);
  assert.equal(aofPath(config), "database.aof");
  assert.equal(config.appendfsync, "everysec");
  assert.equal(config.databases, 16);
});

Deno.test("CLI: the seed's single-dash flags keep working", () => {
  const config = serve(["-port", "8080", "-aof", "mydata.aof"]);
  assert.equal(config.port, 8080);
  assert.equal(config.appendonly, true);
  assert.equal(aofPath(config), "mydata.aof");
  assert.equal(aofPath(serve(["-aof", "/app/database.aof"])), "/app/database.aof");
});

Deno.test("CLI: Redis-style flags", () => {
  const config = serve([
    "--port",
    "7000",
    "--bind",
    "127.0.0.1",
    "--dir",
    "/tmp/data",
    "--appendonly",
    "no",
    "--appendfsync",
    "always",
    "--appendfilename",
    "x.aof",
    "--databases",
    "4",
    "--loglevel",
    "warning",
  ]);
  assert.equal(config.port, 7000);
  assert.equal(config.bind, "127.0.0.1");
  assert.equal(config.appendonly, false);
  assert.equal(config.appendfsync, "always");
  assert.equal(aofPath(config), "/tmp/data/x.aof");
  assert.equal(config.databases, 4);
  assert.equal(config.loglevel, "warning");
  assert.equal(serve(["--port=7001"]).port, 7001);
  assert.equal(serve(["--", "--port", "7002"]).port, 7002);
});

Deno.test("CLI: bad flags and values are one clear error", () => {
  assert.throws(() => parseCommandLine(["--nope"]), ConfigError);
  assert.throws(() => parseCommandLine(["--port", "abc"]), /Invalid value for --port: 'abc'/);
  assert.throws(() => parseCommandLine(["--port", "70000"]), ConfigError);
  assert.throws(() => parseCommandLine(["--appendfsync", "sometimes"]), /appendfsync/);
  assert.throws(() => parseCommandLine(["--appendonly", "maybe"]), /'yes' or 'no'/);
  assert.throws(() => parseCommandLine(["stray"]), ConfigError);
  assert.equal(parseCommandLine(["--help"]).action, "help");
  assert.equal(parseCommandLine(["-v"]).action, "version");
});

async function runMain(args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-read", "--allow-write", "src/main.ts", ...args],
    cwd: repoRoot(),
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("CLI process: a bad flag prints one line on stderr and exits 1", async () => {
  const result = await runMain(["--port", "abc"]);
  assert.equal(result.code, 1);
  assert.equal(result.stderr.trim().split("\n").length, 1);
  assert.match(result.stderr, /Invalid value for --port: 'abc'/);
});

Deno.test("CLI process: --help and --version", async () => {
  const help = await runMain(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--appendfsync/);
  const version = await runMain(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /redis_version=7\.0/);
});

Deno.test("CLI process: a port in use is a clear message and exit 1", async () => {
  const port = await freePort();
  const blocker = Deno.listen({ hostname: "127.0.0.1", port });
  try {
    const result = await runMain([
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--appendonly",
      "no",
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Address already in use/);
  } finally {
    blocker.close();
  }
});

Deno.test("start-up log: version, pid, AOF, loaded commands, ready", async () => {
  const dir = await Deno.makeTempDir();
  const first = await startOurServer({ args: ["--appendonly", "yes", "--dir", dir] });
  const client = await RawClient.connect(first.port);
  await client.command("SET", "k", "v");
  await client.close();
  await first.stop();
  const server = await startOurServer({ args: ["--appendonly", "yes", "--dir", dir] });
  const { code, stderr } = await server.stop();
  await Deno.remove(dir, { recursive: true });
  assert.equal(code, 0);
  assert.match(stderr, /version=.*pid=\d+/);
  assert.match(stderr, /Append only file: .*database\.aof/);
  assert.match(stderr, /DB loaded from append only file: [\d.]+ seconds \(\d+ commands/);
  assert.match(stderr, /Ready to accept connections tcp on 127\.0\.0\.1:\d+/);
  assert.match(stderr, /Received SIGTERM/);
});
