/**
 * What a permission check costs per request, on the real command table's
 * catalogue: the default user (one flag read), a user restricted by
 * command bitmap only, by key pattern (`~app:*`, a compiled prefix), and
 * by a glob pattern with a selector that must be tried too.
 *
 * ```sh
 * deno bench -A tests/acl/check_bench.ts
 * ```
 *
 * @module
 */

import { AccessControl } from "../../src/acl/mod.ts";
import { aclCommands, TableCatalogue } from "../../src/commands/acl.ts";
import { COMMAND_FAMILIES } from "../../src/commands/families.ts";
import { CommandTable } from "../../src/commands/registry.ts";

const table = new CommandTable([
  ...COMMAND_FAMILIES.map((family) => family.filter((cmd) => cmd.name !== "auth")),
  aclCommands,
]);
const catalogue = new TableCatalogue(table);
const acl = new AccessControl({ catalogue: catalogue.catalogue });
const get = catalogue.of(table.lookup("get")!);
const set = catalogue.of(table.lookup("set")!);
const commandsOnly = acl.setUser("commands", ["on", "+@all", "-@dangerous", "~*", "&*"]).user;
const prefix = acl.setUser("prefix", ["on", "+@all", "~app:*"]).user;
const glob = acl.setUser("glob", ["on", "+get", "~[a-c]pp:*", "(+set ~x:*)"]).user;
const getArgs = ["GET", "app:12345"];
const setArgs = ["SET", "x:1", "v"];

Deno.bench("default user", { group: "check", baseline: true }, () => {
  if (!acl.defaultUser.allowsEverything) acl.check(acl.defaultUser, get, getArgs);
});
Deno.bench("command bitmap, all keys", { group: "check" }, () => {
  acl.check(commandsOnly, get, getArgs);
});
Deno.bench("prefix key pattern", { group: "check" }, () => {
  acl.check(prefix, get, getArgs);
});
Deno.bench("glob pattern, second selector", { group: "check" }, () => {
  acl.check(glob, set, setArgs);
});
