import assert from "node:assert/strict";
import {
  aofPath,
  type CommandLineOptions,
  type Config,
  ConfigError,
  parseCommandLine,
} from "../src/config.ts";
import {
  decodeReply,
  freePort,
  RawClient,
  redisServerPath,
  repoRoot,
  sleep,
  startOurServer,
} from "./helpers/servers.ts";

function serve(argv: string[], options: CommandLineOptions = {}): Config {
  const parsed = parseCommandLine(argv, options);
  assert.equal(parsed.action, "serve");
  return (parsed as Extract<typeof parsed, { action: "serve" }>).config;
}

function refusal(argv: string[], options: CommandLineOptions = {}): ConfigError {
  try {
    parseCommandLine(argv, options);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`${JSON.stringify(argv)} was accepted`);
}

function fatal(line: number, text: string, reason: string): string {
  return "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n" +
    `Reading the configuration file, at line ${line}\n>>> '${text}'\n${reason}`;
}

async function withTempDir(test: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await test(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("CLI: defaults are Redis's, with the seed's AOF on by default", () => {
  const config = serve([]);
  assert.equal(config.port, 6379);
  assert.equal(config.bind, "* -::*");
  assert.equal(config.appendonly, true);
  assert.equal(aofPath(config), "database.aof");
  assert.equal(config.appendfsync, "everysec");
  assert.equal(config.databases, 16);
  assert.equal(config.configFile, undefined);
});

Deno.test("CLI: the seed's single-dash flags keep working", () => {
  const config = serve(["-port", "8080", "-aof", "mydata.aof"]);
  assert.equal(config.port, 8080);
  assert.equal(config.appendonly, true);
  assert.equal(aofPath(config), "mydata.aof");
  assert.equal(aofPath(serve(["-aof", "/app/database.aof"])), "/app/database.aof");
  assert.equal(serve(["--appendonly", "no", "-aof", "x.aof"]).appendonly, true);
});

Deno.test("CLI: Redis-style flags", async () => {
  await withTempDir((dir) => {
    const config = serve([
      "--port",
      "7000",
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
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
    assert.equal(aofPath(config), `${dir}/x.aof`);
    assert.equal(config.databases, 4);
    assert.equal(config.loglevel, "warning");
  });
  assert.equal(serve(["--port=7001"]).port, 7001);
  assert.equal(serve(["--", "--port", "7002"]).port, 7002);
});

Deno.test("CLI: each --name takes every argument up to the next --name", () => {
  assert.equal(serve(["--bind", "127.0.0.1", "::1", "--port", "7000"]).bind, "127.0.0.1 ::1");
  assert.equal(serve(["--save", "900", "1", "300", "10"]).save, "900 1 300 10");
  assert.equal(serve(["--save", "100", "1", "--save", "200", "2"]).save, "100 1 200 2");
  // `--save` with nothing after it (or another option) means `save ""`.
  assert.equal(serve(["--save", "--port", "7000"]).save, "");
  assert.equal(serve(["--port", "7000", "--save"]).save, "");
  assert.equal(serve(["--slowlog-log-slower-than", "-1"]).slowlogLogSlowerThan, -1);
  assert.equal(serve(["--requirepass", "--secret"]).requirepass, "--secret");
  assert.equal(serve(["--port 7003"]).port, 7003);
});

Deno.test("CLI: bad options are reported as Redis reports them, after the file's lines", () => {
  assert.equal(
    refusal(["--port", "abc"]).message,
    fatal(2, 'port "abc"', "argument couldn't be parsed into an integer"),
  );
  assert.equal(refusal(["--port", "abc"]).kind, "file");
  assert.equal(
    refusal(["--nope", "1"]).message,
    fatal(2, 'nope "1"', "Bad directive or wrong number of arguments"),
  );
  assert.equal(
    refusal(["--port", "7000", "extra"]).message,
    fatal(2, 'port "7000" "extra"', "wrong number of arguments"),
  );
  assert.match(
    refusal(["--appendfsync", "sometimes"]).message,
    /one of the following: everysec, always, no$/,
  );
  assert.match(refusal(["--appendonly", "maybe"]).message, /'yes' or 'no'$/);
  assert.equal(
    refusal(["--port", "1", "--port", "x"]).message,
    fatal(3, 'port "x"', "argument couldn't be parsed into an integer"),
  );
  const stray = refusal(["stray"]);
  assert.equal(stray.kind, "log");
  assert.equal(
    stray.message,
    `Fatal error, can't open config file '${Deno.cwd()}/stray': No such file or directory`,
  );
  assert.equal(parseCommandLine(["--help"]).action, "help");
  assert.equal(parseCommandLine(["-h"]).action, "help");
  assert.equal(parseCommandLine(["-v"]).action, "version");
  assert.equal(parseCommandLine(["--version"]).action, "version");
});

Deno.test("CLI: a config file comes first, and options after it win", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/redis.conf`;
    await Deno.writeTextFile(path, "port 7000\nmaxmemory 1mb\nsave 900 1\n");
    const config = serve([path, "--port", "7001", "--save", "60", "5"]);
    assert.equal(config.port, 7001);
    assert.equal(config.maxmemory, 1024 * 1024);
    assert.equal(config.save, "900 1 60 5");
    assert.equal(config.configFile, path);
    // Errors in options count lines after the file's (3 lines, then an empty one).
    assert.equal(
      refusal([path, "--port", "x"]).message,
      fatal(5, 'port "x"', "argument couldn't be parsed into an integer"),
    );
  });
});

Deno.test("CLI: a relative config file is remembered with its absolute path", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/redis.conf`, "timeout 3\n");
    const relative = `${dir.slice(Deno.cwd().length + 1)}/redis.conf`;
    const config = dir.startsWith(`${Deno.cwd()}/`)
      ? serve([relative])
      : serve([`${dir}/redis.conf`]);
    assert.equal(config.configFile, `${dir}/redis.conf`);
    assert.equal(config.timeout, 3);
  });
});

Deno.test("CLI: - reads the configuration from stdin, with or without a file", async () => {
  const parsed = parseCommandLine(["-", "--port", "7005"], {
    readStdin: () => "maxclients 5\nport 7004\n",
  });
  assert.equal(parsed.action, "serve");
  const { config, warnings } = parsed as Extract<typeof parsed, { action: "serve" }>;
  assert.equal(config.maxclients, 5);
  assert.equal(config.port, 7005);
  assert.equal(config.configFile, undefined);
  assert.deepEqual(warnings, ["Reading config from stdin"]);
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/a.conf`, "timeout 9\n");
    const config = serve([`${dir}/a.conf`, "-"], { readStdin: () => "timeout 10\n" });
    assert.equal(config.timeout, 10);
  });
});

Deno.test("CLI: without a config file, Redis's warning is returned for the log", () => {
  const parsed = parseCommandLine(["--port", "7000"]);
  assert.equal(parsed.action, "serve");
  assert.match(
    (parsed as Extract<typeof parsed, { action: "serve" }>).warnings[0]!,
    /no config file specified/,
  );
});

Deno.test("CLI: option errors match a live redis-server's report", async () => {
  const executable = redisServerPath();
  if (executable === undefined) {
    console.warn("redis-server not installed: SKIPPING the live command-line comparison");
    return;
  }
  const cases = [
    ["--port", "abc"],
    ["--nope", "1"],
    ["--port", "7000", "extra"],
    ["--bind", "a", "b", "--port", "x"],
    ["--save", "1"],
    ["--requirepass", "a b", "--maxmemory", "x y"],
  ];
  for (const argv of cases) {
    const output = await new Deno.Command(executable, {
      args: argv,
      stdout: "null",
      stderr: "piped",
    })
      .output();
    const theirs = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 1, String(argv));
    assert.equal(`\n${refusal(argv).message}\n`, theirs, String(argv));
  }
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

Deno.test("CLI process: a bad flag is reported on stderr and exits 1", async () => {
  const result = await runMain(["--port", "abc"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /FATAL CONFIG FILE ERROR/);
  assert.match(result.stderr, />>> 'port "abc"'/);
  assert.match(result.stderr, /argument couldn't be parsed into an integer/);
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

Deno.test("CLI process: the server runs from a config file given first", async () => {
  await withTempDir(async (dir) => {
    const port = await freePort();
    const path = `${dir}/redis.conf`;
    await Deno.writeTextFile(
      path,
      `# served from a file\nport ${port}\nbind 127.0.0.1\nappendonly no\nmaxmemory 5mb\n`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", "--allow-read", "--allow-write", "src/main.ts", path],
      cwd: repoRoot(),
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      let client: RawClient | undefined;
      for (let attempt = 0; attempt < 200 && client === undefined; attempt++) {
        try {
          client = await RawClient.connect(port);
        } catch {
          await sleep(50);
        }
      }
      assert.ok(client, "the server answers on the file's port");
      try {
        assert.deepEqual(decodeReply(await client.command("CONFIG", "GET", "maxmemory")), [
          "maxmemory",
          "5242880",
        ]);
      } finally {
        await client.close();
      }
    } finally {
      child.kill("SIGTERM");
      await child.status;
    }
  });
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
