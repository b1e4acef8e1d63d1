/**
 * The ACL engine: users, rules, selectors, permission checks, the ACL log
 * and the ACL file, as Redis 7.0's acl.c, with no dependency on the command
 * layer. The server builds an `AclCatalogue` from its command table and one
 * `AccessControl`; src/commands/acl.ts implements the ACL commands and AUTH
 * on top of it.
 *
 * @example
 * ```ts
 * const catalogue = new AclCatalogue([
 *   { name: "get", arity: 2, categories: ["read", "string", "fast"],
 *     keys: () => [{ position: 1, read: true, write: false }] },
 * ]);
 * const acl = new AccessControl({ catalogue });
 * const { user } = acl.setUser("reader", ["on", ">secret", "~cache:*", "+get"]);
 * acl.check(user, catalogue.lookup("get")!, ["GET", "cache:1"]); // undefined: allowed
 * acl.check(user, catalogue.lookup("get")!, ["GET", "other"]); // { reason: "key", position: 1 }
 * ```
 *
 * @module
 */

export {
  AccessControl,
  type AccessControlOptions,
  AclError,
  type AclLogger,
  type ChannelAllowance,
  type PubsubDefault,
  type SetUserOutcome,
  userDirectiveError,
} from "./access_control.ts";
export {
  ACL_CATEGORIES,
  AclCatalogue,
  type AclCategory,
  type AclChannelReference,
  AclCommand,
  type AclCommandSpec,
  type AclKeyReference,
  categoryBit,
  keyAccess,
  REDIS_CHANNEL_FINDERS,
} from "./catalogue.ts";
export * from "./errors.ts";
export { type AclFileSystem, formatAclFile, parseAclFile, SYSTEM_FILES } from "./file.ts";
export { AclLog, type AclLogContext, type AclLogEntry, type AclLogReason } from "./log.ts";
export { generatePassword, hashPassword } from "./passwords.ts";
export { type AclDenial, AclUser } from "./user.ts";
