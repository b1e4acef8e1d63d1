import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  ConfigError,
  configGet,
  defaultConfig,
  loadConfigText,
  LoadSession,
  quoteArgument,
  splitArguments,
  textToBinary,
} from "../../src/config.ts";
import { redisServerPath } from "../helpers/servers.ts";
import { redisRefuses } from "./oracle.ts";

/**
 * Config files recorded with redis-server 7.0.15 (started as `redis-server
 * case.conf --port 7354 --appendonly no` in tests/config/files, so relative
 * includes resolve there): either the values CONFIG GET showed, or how it
 * refused the file (its stderr, or its log line on stdout).
 */
interface FileCase {
  name: string;
  file: string;
  values?: Record<string, string>;
  code?: number;
  stderr?: string;
  stdout?: string;
}

const CASES: FileCase[] = JSON.parse(
  Deno.readTextFileSync(new URL("./config_file_cases.json", import.meta.url)),
);
const FILES = fileURLToPath(new URL("./files", import.meta.url));
const COMMANDS = new Set(["get", "set", "del", "config"]);

/**
 * What loading the case's file does here, in the shape the recording has:
 * the values of `names`, or the refusal as Redis prints it.
 */
function loadCase(text: string, names: readonly string[] = []): Record<string, string> | string {
  const config = defaultConfig();
  config.dir = FILES;
  const session = new LoadSession({ commandExists: (name) => COMMANDS.has(name) });
  try {
    // The recording's command line, appended as redis-server does.
    loadConfigText(config, textToBinary(text) + '\nport "7354" \nappendonly "no" ', session);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.kind === "file" ? `\n${error.message}\n` : error.message;
  }
  return Object.fromEntries(names.map((name) => [name, configGet(config, [name])[0]![1]]));
}

function expectedRefusal(refusal: { stderr: string; stdout: string }): string {
  // A fatal log line: "pid:C date time # message".
  return refusal.stderr !== ""
    ? refusal.stderr
    : refusal.stdout.replace(/^\d+:C [^#]*# /, "").trim();
}

Deno.test("config file: every recorded file loads or fails as with redis-server 7.0.15", () => {
  const mismatches: string[] = [];
  for (const testCase of CASES) {
    const outcome = loadCase(testCase.file, Object.keys(testCase.values ?? {}));
    const expected = testCase.values ?? expectedRefusal({
      stderr: testCase.stderr!,
      stdout: testCase.stdout!,
    });
    if (JSON.stringify(outcome) !== JSON.stringify(expected)) {
      mismatches.push(
        `${testCase.name}: ${JSON.stringify(outcome)} (Redis: ${JSON.stringify(expected)})`,
      );
    }
  }
  assert.deepEqual(mismatches, []);
  assert.ok(CASES.length > 30);
});

Deno.test("config file: refusals match a live redis-server", async () => {
  if (redisServerPath() === undefined) {
    console.warn("redis-server not installed: SKIPPING the live config file comparison");
    return;
  }
  const dir = await Deno.makeTempDir();
  try {
    for (const name of ["inc1.conf", "inc2.conf", "bad.conf"]) {
      await Deno.copyFile(`${FILES}/${name}`, `${dir}/${name}`);
    }
    const mismatches: string[] = [];
    for (const testCase of CASES.filter((c) => c.values === undefined)) {
      await Deno.writeTextFile(`${dir}/case.conf`, testCase.file);
      const refusal = await redisRefuses(`${dir}/case.conf`, ["--appendonly", "no"], dir);
      const ours = loadCase(testCase.file);
      if (refusal.code !== 1 || ours !== expectedRefusal(refusal)) {
        mismatches.push(
          `${testCase.name}: ${JSON.stringify(ours)} (Redis: ${expectedRefusal(refusal)})`,
        );
      }
    }
    assert.deepEqual(mismatches, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("config file: the fatal error names the line and quotes it", () => {
  const config = defaultConfig();
  assert.throws(
    () => loadConfigText(config, "# comment\nport abc\n"),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.kind, "file");
      assert.equal(
        error.message,
        "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n" +
          "Reading the configuration file, at line 2\n" +
          ">>> 'port abc'\n" +
          "argument couldn't be parsed into an integer",
      );
      return true;
    },
  );
});

Deno.test("config file: later lines win, save accumulates, users and renames are collected", () => {
  const config = defaultConfig();
  loadConfigText(
    config,
    [
      "port 7000",
      "port 7001",
      "save 900 1",
      "save 300 10",
      'user alice on ">pass word" ~* +@all',
      "user bob off",
      'rename-command FLUSHALL ""',
      "rename-command CONFIG MYCONFIG",
    ].join("\n"),
  );
  assert.equal(config.port, 7001);
  assert.equal(config.save, "900 1 300 10");
  assert.deepEqual(config.users, [["alice", "on", ">pass word", "~*", "+@all"], ["bob", "off"]]);
  assert.deepEqual(config.renamedCommands, [
    { from: "FLUSHALL", to: "" },
    { from: "CONFIG", to: "MYCONFIG" },
  ]);
});

Deno.test("config file: rename-command checks against the command table as renames go", () => {
  const session = () => new LoadSession({ commandExists: (name) => COMMANDS.has(name) });
  const config = defaultConfig();
  loadConfigText(config, "rename-command get fetch\nrename-command fetch get2", session());
  assert.throws(
    () => loadConfigText(defaultConfig(), "rename-command get x\nrename-command get y", session()),
    /No such command in rename-command/,
  );
  assert.throws(
    () => loadConfigText(defaultConfig(), "rename-command get x\nrename-command set x", session()),
    /Target command name already exists/,
  );
});

Deno.test("config file: user lines go through the ACL check when one is given", () => {
  const session = new LoadSession({
    validateUser: (words) =>
      words.includes("bogus") ? "Error in user declaration 'bogus': Syntax error" : undefined,
  });
  assert.throws(
    () => loadConfigText(defaultConfig(), "user alice on bogus", session),
    /Error in user declaration 'bogus': Syntax error/,
  );
});

Deno.test("config file: includes nest, resolve against dir (not the including file), take globs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/conf.d`);
    await Deno.writeTextFile(`${dir}/conf.d/10-a.conf`, "timeout 10\ninclude leaf.conf\n");
    await Deno.writeTextFile(`${dir}/conf.d/20-b.conf`, "timeout 20\n");
    await Deno.writeTextFile(`${dir}/conf.d/.hidden.conf`, "timeout 99\n");
    await Deno.writeTextFile(`${dir}/leaf.conf`, "maxclients 77\n");
    const config = defaultConfig();
    loadConfigText(
      config,
      textToBinary(`dir ${dir}\ninclude conf.d/*.conf\ninclude nothing/*.conf\n`),
    );
    assert.equal(config.timeout, 20);
    assert.equal(config.maxclients, 77);
    const missing = defaultConfig();
    missing.dir = dir;
    assert.throws(
      () => loadConfigText(missing, "include absent.conf"),
      (error: unknown) =>
        error instanceof ConfigError && error.kind === "log" &&
        error.message ===
          "Fatal error, can't open config file 'absent.conf': No such file or directory",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("config file: loadmodule and module parameters are refused clearly", () => {
  assert.throws(
    () => loadConfigText(defaultConfig(), "loadmodule /usr/lib/redis/json.so"),
    /Module loading is not supported: loadmodule \/usr\/lib\/redis\/json.so/,
  );
  const session = new LoadSession();
  loadConfigText(defaultConfig(), "search.timeout 10", session);
  assert.deepEqual(session.moduleParameters, ["search.timeout"]);
});

Deno.test("sdssplitargs: quotes, escapes, hex bytes and single quotes", () => {
  assert.deepEqual(splitArguments("save 900 1"), ["save", "900", "1"]);
  assert.deepEqual(splitArguments("  a\t\tb  "), ["a", "b"]);
  assert.deepEqual(splitArguments('set "a b" c'), ["set", "a b", "c"]);
  assert.deepEqual(splitArguments('"\\x41\\x4a\\n\\r\\t\\b\\a\\\\\\"\\q"'), [
    'AJ\n\r\t\b\x07\\"q',
  ]);
  assert.deepEqual(splitArguments('"\\x4"'), ["x4"]);
  assert.deepEqual(splitArguments("'it\\'s' '\\n'"), ["it's", "\\n"]);
  assert.deepEqual(splitArguments('ab"c d"e'), undefined);
  assert.deepEqual(splitArguments('ab"c d" e'), ["abc d", "e"]);
  assert.deepEqual(splitArguments('""'), [""]);
  assert.deepEqual(splitArguments(""), []);
  assert.equal(splitArguments('"open'), undefined);
  assert.equal(splitArguments("'open"), undefined);
  assert.equal(splitArguments('"a"b'), undefined);
  assert.equal(splitArguments("'a'b"), undefined);
});

Deno.test("sdscatrepr: strings are quoted with C escapes and \\x for other bytes", () => {
  assert.equal(quoteArgument("plain"), '"plain"');
  assert.equal(quoteArgument('a b"c\\'), '"a b\\"c\\\\"');
  assert.equal(quoteArgument("\n\r\t\x07\b"), '"\\n\\r\\t\\a\\b"');
  assert.equal(quoteArgument("\x00\x7f\xe9"), '"\\x00\\x7f\\xe9"');
  for (const word of ["a b", "it's", '"x"', "\x01\xff", ""]) {
    assert.deepEqual(splitArguments(quoteArgument(word)), [word]);
  }
});
