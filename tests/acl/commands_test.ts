/**
 * What the ACL commands do to other clients, and the helpers the lead's
 * integration uses, on the in-process harness: who ACL DELUSER, ACL LOAD
 * and ACL SETUSER disconnect (checked against redis-server 7.0.15's
 * behaviour: DELUSER and LOAD drop every client of the users they remove,
 * LOAD all but the default user's; SETUSER only subscribers whose
 * subscriptions the new channel rules refuse), AUTH's log context inside
 * MULTI, NOAUTH, and the catalogue built from the real command table.
 *
 * @module
 */

import assert from "node:assert/strict";
import { AclCatalogue, type AclFileSystem, SYSTEM_FILES } from "../../src/acl/mod.ts";
import { authenticate, authenticationRequired, TableCatalogue } from "../../src/commands/acl.ts";
import { COMMAND_FAMILIES } from "../../src/commands/families.ts";
import { CommandTable } from "../../src/commands/registry.ts";
import { keyAccess } from "../../src/acl/mod.ts";
import { requestKeys } from "../../src/commands/table.ts";
import { aclHarness, userOf } from "./harness.ts";
import { RECORDED_COMMANDS } from "./fixture_catalogue.ts";

Deno.test("ACL DELUSER disconnects the deleted users' clients, the caller after its reply", () => {
  const { connect } = aclHarness();
  const admin = connect();
  admin.run("ACL", "SETUSER", "alice", "on", "nopass", "+@all", "~*");
  admin.run("ACL", "SETUSER", "bob", "on", "nopass", "+@all", "~*");
  const alice = connect();
  const alsoAlice = connect();
  const bob = connect();
  assert.equal(alice.run("AUTH", "alice", "x"), "+OK\r\n");
  alsoAlice.run("AUTH", "alice", "x");
  bob.run("AUTH", "bob", "x");
  assert.equal(admin.run("ACL", "DELUSER", "alice"), ":1\r\n");
  assert.equal(alice.closed(), true);
  assert.equal(alsoAlice.closed(), true);
  assert.equal(userOf(alice), "default", "a deleted user's client falls back to default");
  assert.equal(alice.client.authenticated, false);
  assert.equal(bob.closed(), false);
  assert.equal(admin.closed(), false);
  assert.equal(bob.run("ACL", "DELUSER", "bob"), ":1\r\n", "the reply is still sent");
  assert.equal(bob.closed(), true);
});

Deno.test("ACL LOAD disconnects the clients of every user but default, changed or not", () => {
  const content = "user default on nopass ~* &* +@all\nuser alice on nopass +@all ~*\n";
  const files: AclFileSystem = { ...SYSTEM_FILES, read: () => content };
  const { connect } = aclHarness({ aclfile: "users.acl", files });
  const admin = connect();
  admin.run("ACL", "LOAD");
  const alice = connect();
  alice.run("AUTH", "alice", "x");
  const other = connect();
  assert.equal(admin.run("ACL", "LOAD"), "+OK\r\n");
  assert.equal(alice.closed(), true);
  assert.equal(other.closed(), false);
  assert.equal(admin.closed(), false);
});

Deno.test("ACL SETUSER disconnects only the subscribers whose subscriptions lose permission", () => {
  const { connect } = aclHarness();
  const admin = connect();
  admin.run("ACL", "SETUSER", "sub", "on", "nopass", "+@all", "~*", "&*");
  const news = connect();
  const keeps = connect();
  const pattern = connect();
  const idle = connect();
  for (const connection of [news, keeps, pattern, idle]) connection.run("AUTH", "sub", "x");
  news.run("SUBSCRIBE", "news");
  keeps.run("SUBSCRIBE", "other:1");
  pattern.run("PSUBSCRIBE", "other:*");
  assert.equal(admin.run("ACL", "SETUSER", "sub", "resetchannels", "&other:*"), "+OK\r\n");
  assert.equal(news.closed(), true);
  assert.equal(keeps.closed(), false);
  assert.equal(pattern.closed(), false, "the pattern is allowed literally");
  assert.equal(idle.closed(), false, "clients without subscriptions stay");
  admin.run("ACL", "SETUSER", "sub", "resetchannels", "&other:1");
  assert.equal(keeps.closed(), false);
  assert.equal(pattern.closed(), true);
});

Deno.test("a failed AUTH inside MULTI is logged with the multi context", () => {
  const { connect, acl } = aclHarness();
  const client = connect();
  client.run("MULTI");
  client.run("auth", "nobody", "x");
  assert.equal(
    client.run("EXEC"),
    "*1\r\n-WRONGPASS invalid username-password pair or user is disabled.\r\n",
  );
  const [entry] = acl.log.recent(1);
  assert.deepEqual(
    [entry!.reason, entry!.context, entry!.object, entry!.username],
    ["auth", "multi", "auth", "nobody"],
  );
  assert.match(entry!.clientInfo, /^id=\d+ addr=/);
});

Deno.test("a password on the default user requires authentication, and AUTH gives it", () => {
  const { connect } = aclHarness();
  const admin = connect();
  admin.run("ACL", "SETUSER", "default", ">secret");
  const client = connect();
  assert.equal(authenticationRequired(client.client), true);
  assert.equal(client.run("GET", "k"), "-NOAUTH Authentication required.\r\n");
  assert.equal(authenticationRequired(admin.client), false, "clients already in stay in");
  assert.throws(
    () => authenticate(client.client, "default", "wrong", "HELLO"),
    /WRONGPASS invalid username-password pair or user is disabled\./,
  );
  authenticate(client.client, "default", "secret", "HELLO");
  assert.equal(client.run("GET", "k"), "$-1\r\n");
});

Deno.test("the catalogue built from the command table knows every command and Redis's categories", () => {
  const table = new CommandTable(COMMAND_FAMILIES);
  const tableCatalogue = new TableCatalogue(table);
  const catalogue: AclCatalogue = tableCatalogue.catalogue;
  const redis = new Map(
    RECORDED_COMMANDS.flatMap((cmd) => [cmd, ...cmd.subcommands]).map((cmd) => [cmd.name, cmd]),
  );
  for (const cmd of table.all()) {
    for (const each of [cmd, ...cmd.subcommandTable?.values() ?? []]) {
      const compiled = tableCatalogue.of(each);
      assert.equal(compiled.fullName, each.name);
      assert.equal(catalogue.lookup(each.name), compiled);
      const recorded = redis.get(each.name);
      if (recorded === undefined) continue; // Commands Redis 7.0 does not have (CLIENT SETINFO).
      assert.deepEqual(each.categories, recorded.categories, each.name);
    }
  }
  const lmove = catalogue.lookup("lmove")!;
  assert.deepEqual(lmove.spec.keys!(["LMOVE", "a", "b", "LEFT", "RIGHT"]), [
    { position: 1, read: true, write: true },
    { position: 2, read: false, write: true },
  ]);
  assert.equal(catalogue.lookup("auth")!.noAuth, true);
});

Deno.test("the catalogue finds the same keys as the command table, for requests of every length", () => {
  const table = new CommandTable(COMMAND_FAMILIES);
  const tableCatalogue = new TableCatalogue(table);
  const words = ["2", "k1", "k2", "k3", "GET", "k5", "k6", "k7"];
  for (const top of table.all()) {
    for (const cmd of [top, ...top.subcommandTable?.values() ?? []]) {
      const keys = tableCatalogue.of(cmd).spec.keys;
      const prefix = cmd.name.split("|");
      for (let extra = 0; extra <= words.length; extra++) {
        const args = [...prefix, ...words.slice(0, extra)];
        const expected = requestKeys(cmd, args).map((key) => ({
          position: key.position,
          ...keyAccess(key.flags),
        }));
        assert.deepEqual(keys?.(args) ?? [], expected, args.join(" "));
      }
    }
  }
});
