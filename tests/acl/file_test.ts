/**
 * The ACL file and start-up, compared with redis-server 7.0.15: ACL SAVE
 * writes what Redis writes, a file Redis saved loads into the same users,
 * bad files fail with Redis's exact messages (line numbers, every unknown
 * command, the first other error) and change nothing, and start-up
 * refuses what Redis refuses with the same log lines. Plus what only our
 * side can show: ACL LOAD replaces every user but keeps the default
 * user's object, and a failed save leaves the old file.
 *
 * The comparisons with Redis skip loudly without redis-server.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  AccessControl,
  AclError,
  type AclFileSystem,
  SYSTEM_FILES,
  userDirectiveError,
} from "../../src/acl/mod.ts";
import {
  freePort,
  RawClient,
  redisServerPath,
  type ReplyValue,
  startRedisServer,
} from "../helpers/servers.ts";
import { query, raw } from "../helpers/test_support.ts";
import { redisCatalogue } from "./fixture_catalogue.ts";
import { normalizeRules } from "./rule_generator.ts";

const REDIS = redisServerPath();
if (REDIS === undefined) {
  console.warn("redis-server not installed: SKIPPING the ACL file comparisons");
}

const catalogue = redisCatalogue();
const DEFAULT_LINE = "user default on nopass ~* &* +@all\n";

const USERS: string[][] = [
  ["alice", "on", ">pw", "~k*", "%R~r*", "&news", "+@read", "-keys", "+config|get"],
  ["bob", "reset", "+@all", "-@dangerous", "~*", "&*", "(+get ~x)", "(~y %W~z +set)"],
  ["carol", "off", "nopass", "skip-sanitize-payload", "-@all", "+select|0"],
];

function logger() {
  const warnings: string[] = [];
  const notices: string[] = [];
  return {
    warnings,
    notices,
    logger: {
      warning: (message: string) => warnings.push(message),
      notice: (message: string) => notices.push(message),
    },
  };
}

function normalizeFile(text: string): string[] {
  return text.split("\n").map((line) => normalizeRules(line, catalogue));
}

Deno.test({
  name: "ACL SAVE writes Redis's file and ACL LOAD reads Redis's file into the same users",
  ignore: REDIS === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "acl-file-" });
    const redisFile = join(dir, "redis.acl");
    await Deno.writeTextFile(redisFile, DEFAULT_LINE);
    const redis = (await startRedisServer(["--aclfile", redisFile]))!;
    const client = await RawClient.connect(redis.port);
    try {
      const acl = new AccessControl({ catalogue, aclfile: join(dir, "ours.acl") });
      for (const [name, ...rules] of USERS) {
        assert.equal(await raw(client, "ACL", "SETUSER", name!, ...rules), "+OK\r\n");
        acl.setUser(name!, rules);
      }
      assert.equal(await raw(client, "ACL", "SAVE"), "+OK\r\n");
      acl.save();
      const redisText = await Deno.readTextFile(redisFile);
      assert.deepEqual(
        normalizeFile(await Deno.readTextFile(acl.aclfile)),
        normalizeFile(redisText),
      );

      const loaded = new AccessControl({ catalogue, aclfile: redisFile });
      loaded.load();
      const lines = (await query(client, "ACL", "LIST") as ReplyValue[]).map(String);
      assert.deepEqual(
        loaded.users().map((user) =>
          normalizeRules(`user ${user.name} ${user.describe()}`, catalogue)
        ),
        lines.map((line) => normalizeRules(line, catalogue)),
      );
    } finally {
      await client.close();
      await redis.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Files Redis 7.0.15 rejects without crashing (an unclosed selector after other rules crashes it). */
const BAD_FILES = [
  "user default on nopass ~* &* +@all\nuser bob on +foo +bar ~x ~y bogus off\n",
  "user default on nopass ~* &* +@all\nuser bob on bogus %X~y +foo\n\n  \nfoo bar\nuser\nuser a b\nuser alice on\nuser alice off\n",
  'user default on nopass ~* &* +@all\nuser "bob" on "a\n',
  "user default on nopass ~* &* +@all\nuser bob (+get ~x\n",
  'user default on nopass ~* &* +@all\nuser bob "(+get ~x)" (+set ~y)\n',
  "USER alice on\n",
  "user a\tb on\n",
  "user  alice on\n",
  "user alice #abc !abc <nope %R~a\r\nuser bob (~x +nosuch) +@nosuch\r\n",
];

/** Files Redis loads. */
const GOOD_FILES = [
  "user alice on\n",
  "\n",
  "user alice  on  +get\nuser default off nopass +@all\n",
  'user bo"b on >a\\x20b\t\r\nuser default on nopass ~* &* +@all\r\n',
  "user dave on (+get ~x) (~y +set) resetchannels &c\n",
];

Deno.test({
  name: "ACL LOAD fails on bad files with Redis's messages and changes nothing",
  ignore: REDIS === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "acl-file-" });
    const file = join(dir, "users.acl");
    await Deno.writeTextFile(file, DEFAULT_LINE);
    const redis = (await startRedisServer(["--aclfile", file]))!;
    const client = await RawClient.connect(redis.port);
    try {
      const acl = new AccessControl({ catalogue, aclfile: file });
      acl.setUser("keeper", ["on", "+get"]);
      const before = acl.users().map((user) => user.describe());
      for (const content of BAD_FILES) {
        await Deno.writeTextFile(file, content);
        const expected = await raw(client, "ACL", "LOAD");
        assert.throws(() => acl.load(), (error: Error) => {
          assert.ok(error instanceof AclError);
          assert.equal(`-${error.message}\r\n`, expected, JSON.stringify(content));
          return true;
        });
        assert.deepEqual(acl.users().map((user) => user.describe()), before);
      }
      await Deno.remove(file);
      const missing = await raw(client, "ACL", "LOAD");
      assert.throws(() => acl.load(), (error: Error) => `-${error.message}\r\n` === missing);

      for (const content of GOOD_FILES) {
        // Redis keeps a default user that is off from answering us: give it back each time.
        await Deno.writeTextFile(file, content.replace("user default off", "user default on"));
        assert.equal(await raw(client, "ACL", "LOAD"), "+OK\r\n", JSON.stringify(content));
        acl.load();
        const lines = (await query(client, "ACL", "LIST") as ReplyValue[]).map(String);
        assert.deepEqual(
          acl.users().map((user) =>
            normalizeRules(`user ${user.name} ${user.describe()}`, catalogue)
          ),
          lines.map((line) => normalizeRules(line, catalogue)),
          JSON.stringify(content),
        );
      }
    } finally {
      await client.close();
      await redis.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a failed ACL SAVE answers as Redis does, logs why and keeps the old file",
  ignore: REDIS === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "acl-file-" });
    const file = join(dir, "users.acl");
    await Deno.writeTextFile(file, DEFAULT_LINE);
    const redis = (await startRedisServer(["--aclfile", file]))!;
    const client = await RawClient.connect(redis.port);
    try {
      // Renaming over a directory fails, in Redis as here.
      await Deno.remove(file);
      await Deno.mkdir(file);
      const expected = await raw(client, "ACL", "SAVE");
      const { warnings, logger: log } = logger();
      const acl = new AccessControl({ catalogue, aclfile: file, logger: log });
      assert.throws(() => acl.save(), (error: Error) => `-${error.message}\r\n` === expected);
      assert.deepEqual(warnings, ["Renaming ACL file for ACL SAVE: Is a directory"]);
      const left = [...Deno.readDirSync(dir)].map((entry) => entry.name);
      assert.deepEqual(left, ["users.acl"], "the temporary file is removed");
    } finally {
      await client.close();
      await redis.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("ACL LOAD replaces every user but keeps the default user's object", () => {
  let content = "user default on >pw ~* &* +@all\nuser alice on +get ~a\n";
  const files: AclFileSystem = { ...SYSTEM_FILES, read: () => content };
  const acl = new AccessControl({ catalogue, aclfile: "users.acl", files });
  const defaultUser = acl.defaultUser;
  const { user: alice } = acl.setUser("alice", ["on"]);
  const { user: bob } = acl.setUser("bob", ["on"]);
  const removed = acl.load();
  assert.deepEqual(removed.map((user) => user.name).sort(), ["alice", "bob"], "changed or not");
  assert.ok(alice.removed && bob.removed);
  assert.equal(acl.defaultUser, defaultUser);
  assert.equal(defaultUser.noPassword, false);
  assert.notEqual(acl.user("alice"), alice);
  content = "user alice on\n";
  acl.load();
  assert.equal(acl.defaultUser.describe(), "on nopass ~* &* +@all", "Redis's defaults when absent");
});

async function redisStartupError(args: string[]): Promise<string[]> {
  const port = await freePort();
  const output = await new Deno.Command(REDIS!, {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 1, "redis-server must refuse to start");
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  return text.split("\n").filter((line) => / # /.test(line) && !/Memory overcommit/.test(line))
    .map((line) => line.slice(line.indexOf(" # ") + 3));
}

Deno.test({
  name: "start-up refuses users in both places, bad user lines and bad files, as Redis does",
  ignore: REDIS === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "acl-file-" });
    try {
      const good = join(dir, "good.acl");
      const bad = join(dir, "bad.acl");
      await Deno.writeTextFile(good, DEFAULT_LINE);
      await Deno.writeTextFile(bad, "user default on nopass ~* &* +@all\nuser bob on bogus\n");
      const cases: { args: string[]; aclfile: string; directives: string[][] }[] = [
        {
          args: ["--aclfile", good, "--user", "alice", "on"],
          aclfile: good,
          directives: [["alice", "on"]],
        },
        {
          args: ["--user", "alice", "on", "+nosuch"],
          aclfile: "",
          directives: [["alice", "on", "+nosuch"]],
        },
        { args: ["--aclfile", bad], aclfile: bad, directives: [] },
        {
          args: ["--aclfile", join(dir, "none.acl")],
          aclfile: join(dir, "none.acl"),
          directives: [],
        },
      ];
      for (const { args, aclfile, directives } of cases) {
        const expected = await redisStartupError(args);
        const { warnings, logger: log } = logger();
        const acl = new AccessControl({ catalogue, aclfile, logger: log });
        assert.equal(acl.loadAtStartup(directives), false, args.join(" "));
        assert.deepEqual(warnings, expected.slice(-warnings.length), args.join(" "));
        assert.ok(expected.includes(warnings[0]!), `${args.join(" ")}: ${expected}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("start-up applies config users over requirepass, and warns about users left off", () => {
  const { notices, logger: log } = logger();
  const acl = new AccessControl({ catalogue, logger: log });
  acl.setRequirePass("foo");
  assert.equal(
    acl.loadAtStartup([["default", "on", ">bar", "~*", "&*", "+@all"], ["alice", "+get"]]),
    true,
  );
  assert.equal(acl.authenticate("default", "foo"), undefined);
  assert.equal(acl.authenticate("default", "bar"), acl.defaultUser);
  assert.match(acl.defaultUser.describe(), /^on sanitize-payload #/);
  assert.deepEqual(notices, [
    "The user 'alice' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.",
  ]);
});

Deno.test({
  name: "config-file user lines are checked as Redis checks them, quirks included",
  ignore: REDIS === undefined,
  async fn() {
    const cases = [
      ["alice", "on", "on", "bogus"],
      ["alice", "bogus"],
      ["alice", "on", "(+get"],
      ["alice", "on", "on", "on", "#zz"],
      ["alice", "+config|"],
    ];
    for (const directive of cases) {
      const port = await freePort();
      const output = await new Deno.Command(REDIS!, {
        args: ["--port", String(port), "--save", "", "--user", ...directive],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(output.stderr) +
        new TextDecoder().decode(output.stdout);
      const expected = text.split("\n").find((line) =>
        line.startsWith("Error in user declaration")
      );
      assert.equal(
        userDirectiveError(catalogue, ["user", ...directive], []),
        expected,
        directive.join(" "),
      );
    }
    assert.equal(userDirectiveError(catalogue, ["user", "alice", "on", "+nosuch"], []), undefined);
    assert.equal(
      userDirectiveError(catalogue, ["user", "alice", "off"], ["alice"]),
      "Error in user declaration 'alice': Duplicate user found. A user can only be defined once in config files",
    );
  },
});
