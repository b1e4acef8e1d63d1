/**
 * The permission check on a small fake catalogue: commands, subcommands,
 * first arguments, categories, key patterns with %R/%W, channels and
 * pattern subscriptions, selectors, and which denial is reported when
 * several selectors refuse for different reasons.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  AccessControl,
  AclCatalogue,
  type AclCommandSpec,
  type AclKeyReference,
  type AclUser,
  REDIS_CHANNEL_FINDERS,
} from "../../src/acl/mod.ts";

const read = (position: number): AclKeyReference => ({ position, read: true, write: false });
const write = (position: number): AclKeyReference => ({ position, read: false, write: true });

const SPECS: AclCommandSpec[] = [
  { name: "get", arity: 2, categories: ["read", "string", "fast"], keys: () => [read(1)] },
  { name: "set", arity: -3, categories: ["write", "string", "slow"], keys: () => [write(1)] },
  {
    name: "copy",
    arity: -3,
    categories: ["keyspace", "write", "slow"],
    keys: () => [read(1), write(2)],
  },
  {
    name: "exists",
    arity: -2,
    categories: ["keyspace", "read", "fast"],
    keys: (args) => args.slice(1).map((_, i) => ({ position: i + 1, read: false, write: false })),
  },
  { name: "select", arity: 2, categories: ["fast", "connection"] },
  { name: "auth", arity: -2, categories: ["fast", "connection"], noAuth: true },
  {
    name: "config",
    arity: -2,
    categories: ["slow"],
    subcommands: [
      { name: "config|get", arity: -3, categories: ["admin", "slow", "dangerous"] },
      { name: "config|set", arity: -4, categories: ["admin", "slow", "dangerous"] },
    ],
  },
  ...["publish", "subscribe", "psubscribe"].map((name) => ({
    name,
    arity: -2,
    categories: ["pubsub", "fast"],
    channels: REDIS_CHANNEL_FINDERS.get(name),
  })),
];

function setup(...rules: string[]): { acl: AccessControl; user: AclUser; catalogue: AclCatalogue } {
  const catalogue = new AclCatalogue(SPECS);
  const acl = new AccessControl({ catalogue });
  const { user } = acl.setUser("u", ["on", "nopass", ...rules]);
  return { acl, user, catalogue };
}

function check(user: AclUser, catalogue: AclCatalogue, ...args: string[]) {
  return user.check(catalogue.resolve(args)!, args);
}

Deno.test("the default user allows everything with one flag and no bitmap reads", () => {
  const catalogue = new AclCatalogue(SPECS);
  const acl = new AccessControl({ catalogue });
  assert.equal(acl.defaultUser.allowsEverything, true);
  assert.equal(check(acl.defaultUser, catalogue, "SET", "any", "v"), undefined);
  acl.setUser("default", ["resetchannels"]);
  assert.equal(acl.defaultUser.allowsEverything, false);
  assert.deepEqual(check(acl.defaultUser, catalogue, "PUBLISH", "c", "m"), {
    reason: "channel",
    position: 1,
  });
});

Deno.test("commands are allowed one by one, by category, and with their subcommands", () => {
  const { user, catalogue } = setup("+@string", "-set", "+config|get", "~*");
  assert.equal(check(user, catalogue, "GET", "k"), undefined);
  assert.deepEqual(check(user, catalogue, "SET", "k", "v"), { reason: "command", position: 0 });
  assert.equal(check(user, catalogue, "CONFIG", "GET", "x"), undefined);
  assert.deepEqual(check(user, catalogue, "config", "set", "x", "y"), {
    reason: "command",
    position: 0,
  });
  const { user: all } = setup("+config", "-config|set", "~*");
  assert.equal(check(all, catalogue, "config", "get", "x"), undefined);
  assert.equal(check(all, catalogue, "config", "set", "x", "y")?.reason, "command");
});

Deno.test("no-auth commands are allowed to every user", () => {
  const { user, catalogue } = setup("-@all");
  assert.equal(check(user, catalogue, "AUTH", "x"), undefined);
});

Deno.test("a first argument opens an otherwise denied command, ignoring case", () => {
  const { user, catalogue } = setup("+select|0", "+select|db");
  assert.equal(check(user, catalogue, "SELECT", "0"), undefined);
  assert.equal(check(user, catalogue, "SELECT", "DB"), undefined);
  assert.equal(check(user, catalogue, "SELECT", "1")?.reason, "command");
  assert.equal(user.root.describeCommands(), "-@all +select|0 +select|db");
  user.apply("+@connection");
  user.apply("-@connection");
  assert.equal(
    check(user, catalogue, "SELECT", "0")?.reason,
    "command",
    "category rules reset them",
  );
});

Deno.test("%R and %W patterns allow only reads or only writes", () => {
  const { user, catalogue } = setup("+@all", "%R~r*", "%W~w*", "~both");
  assert.equal(check(user, catalogue, "GET", "r1"), undefined);
  assert.deepEqual(check(user, catalogue, "SET", "r1", "v"), { reason: "key", position: 1 });
  assert.equal(check(user, catalogue, "SET", "w1", "v"), undefined);
  assert.deepEqual(check(user, catalogue, "GET", "w1"), { reason: "key", position: 1 });
  assert.equal(check(user, catalogue, "COPY", "r1", "w1"), undefined);
  assert.deepEqual(check(user, catalogue, "COPY", "w1", "r1"), { reason: "key", position: 1 });
  assert.equal(check(user, catalogue, "COPY", "both", "both"), undefined);
  // A key the command neither reads nor writes matches any pattern.
  assert.equal(check(user, catalogue, "EXISTS", "r1", "w1"), undefined);
  assert.deepEqual(check(user, catalogue, "EXISTS", "r1", "zz"), { reason: "key", position: 2 });
});

Deno.test("key patterns are globs: literal, prefix, classes and escapes", () => {
  const { user, catalogue } = setup("+@all", "~lit", "~pre:*", "~[ab]?", "~x\\*");
  for (const key of ["lit", "pre:", "pre:1", "a1", "bz", "x*"]) {
    assert.equal(check(user, catalogue, "GET", key), undefined, key);
  }
  for (const key of ["li", "litx", "pre", "c1", "a12", "xy"]) {
    assert.equal(check(user, catalogue, "GET", key)?.reason, "key", key);
  }
});

Deno.test("channels match as globs, pattern subscriptions only literally", () => {
  const { user, catalogue } = setup("+@all", "~*", "resetchannels", "&news:*", "&p?");
  assert.equal(check(user, catalogue, "PUBLISH", "news:1", "m"), undefined);
  assert.deepEqual(check(user, catalogue, "PUBLISH", "other", "m"), {
    reason: "channel",
    position: 1,
  });
  assert.deepEqual(check(user, catalogue, "SUBSCRIBE", "news:a", "x", "news:b"), {
    reason: "channel",
    position: 2,
  });
  assert.equal(check(user, catalogue, "PSUBSCRIBE", "news:*", "p?"), undefined);
  assert.deepEqual(check(user, catalogue, "PSUBSCRIBE", "news:1"), {
    reason: "channel",
    position: 1,
  });
});

Deno.test("any selector may allow a request", () => {
  const { user, catalogue } = setup("+get", "~a*", "(+set ~b*)", "(+get ~c*)");
  assert.equal(check(user, catalogue, "GET", "a1"), undefined);
  assert.equal(check(user, catalogue, "SET", "b1", "v"), undefined);
  assert.equal(check(user, catalogue, "GET", "c1"), undefined);
  assert.equal(check(user, catalogue, "SET", "a1", "v")?.reason, "key");
  assert.equal(check(user, catalogue, "GET", "b1")?.reason, "key");
});

Deno.test("the denial reported is a channel before a key before a command, then the last position", () => {
  const { user, catalogue } = setup("+copy", "~a", "(+copy ~b)", "(+publish)");
  // The root refuses key 2, the first selector key 1: the later position wins.
  assert.deepEqual(check(user, catalogue, "COPY", "b", "a"), { reason: "key", position: 2 });
  // A key denial wins over the command denial of the third selector.
  assert.deepEqual(check(user, catalogue, "COPY", "x", "y"), { reason: "key", position: 1 });
  assert.deepEqual(check(user, catalogue, "PUBLISH", "c", "m"), { reason: "channel", position: 1 });
  assert.deepEqual(check(user, catalogue, "GET", "a"), { reason: "command", position: 0 });
});

Deno.test("a selector without key patterns refuses every key", () => {
  const { user, catalogue } = setup("+get");
  assert.deepEqual(check(user, catalogue, "GET", "k"), { reason: "key", position: 1 });
  assert.equal(check(user, catalogue, "SELECT", "0")?.reason, "command");
});

Deno.test("ACL SETUSER applies all of its rules or none", () => {
  const { acl, user, catalogue } = setup("+get", "~k");
  assert.throws(() => acl.setUser("u", ["+set", "~x", "+nosuch"]), /Unknown command/);
  assert.equal(check(user, catalogue, "SET", "k", "v")?.reason, "command");
  assert.equal(acl.user("u"), user, "the user keeps its identity");
  acl.setUser("u", ["+set"]);
  assert.equal(check(user, catalogue, "SET", "k", "v"), undefined);
});

Deno.test("passwords are stored hashed and checked for enabled users only", () => {
  const { acl } = setup(">secret", "off");
  const user = acl.user("u")!;
  assert.deepEqual(user.passwords, [
    "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b",
  ]);
  assert.equal(acl.authenticate("u", "secret"), undefined, "off");
  acl.setUser("u", ["on"]);
  assert.equal(acl.authenticate("u", "secret"), user);
  assert.equal(acl.authenticate("u", "wrong"), undefined);
  assert.equal(acl.authenticate("nobody", "secret"), undefined);
});

Deno.test("requirepass sets the default user's only password, an empty one makes it nopass", () => {
  const catalogue = new AclCatalogue(SPECS);
  const acl = new AccessControl({ catalogue });
  acl.setUser("default", [">old"]);
  acl.setRequirePass("x y");
  assert.equal(
    acl.defaultUser.describe(),
    "on #887fcea6a80333c6c02ae7e79735f0edad8d811f0b61431495f796f4bf6a7c19 ~* &* +@all",
  );
  acl.setRequirePass("");
  assert.equal(acl.defaultUser.describe(), "on nopass ~* &* +@all");
});

Deno.test("ACL SETUSER reports the channels a user keeps after losing some", () => {
  const catalogue = new AclCatalogue(SPECS);
  const acl = new AccessControl({ catalogue });
  acl.setUser("u", ["&*"]);
  const narrowed = acl.setUser("u", ["resetchannels", "&news:*", "&p?"]).revokedChannels!;
  assert.equal(narrowed.channel("news:1"), true);
  assert.equal(narrowed.channel("other"), false);
  assert.equal(narrowed.pattern("p?"), true);
  assert.equal(narrowed.pattern("news:1"), false);
  assert.equal(
    acl.setUser("u", ["&more"]).revokedChannels,
    undefined,
    "a superset revokes nothing",
  );
  assert.equal(acl.setUser("u", ["(&*)"]).revokedChannels, undefined, "a selector with &*");
  assert.notEqual(acl.setUser("u", ["clearselectors", "resetchannels"]).revokedChannels, undefined);
});

Deno.test("ACL LOG groups repeated events and keeps at most acllog-max-len entries", () => {
  let now = 1_000_000;
  const catalogue = new AclCatalogue(SPECS);
  const acl = new AccessControl({ catalogue, clock: () => now, logMaxLength: 3 });
  const event = (object: string) => ({
    reason: "auth" as const,
    context: "toplevel" as const,
    object: "auth",
    username: object,
    clientInfo: `info ${now}`,
  });
  acl.log.add(event("a"));
  now += 1000;
  acl.log.add(event("b"));
  now += 1000;
  acl.log.add(event("a"));
  assert.deepEqual(acl.log.recent(10).map((entry) => [entry.username, entry.count, entry.time]), [
    ["a", 2, 1_002_000],
    ["b", 1, 1_001_000],
  ]);
  assert.equal(acl.log.recent(1)[0]!.clientInfo, "info 1002000");
  now += 60_001;
  acl.log.add(event("a"));
  acl.log.add(event("c"));
  acl.log.add(event("d"));
  assert.deepEqual(acl.log.recent(10).map((entry) => [entry.username, entry.count]), [
    ["d", 1],
    ["c", 1],
    ["a", 1],
  ]);
  acl.log.reset();
  assert.equal(acl.log.length, 0);
});
