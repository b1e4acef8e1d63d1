/**
 * Command documentation: what COMMAND DOCS says about a command (summary,
 * since, group, complexity, doc flags, deprecation, history, argument
 * trees) and COMMAND INFO's tips.
 *
 * None of it changes what the server does, and Redis generates all of it
 * from its `src/commands/*.json`, so it is recorded from redis-server 7.0
 * by `tools/generate_command_docs.ts` into `command_docs.json` (every Redis
 * command, so a family added later finds its documentation there) rather
 * than retyped next to each handler. The facts the server acts on (arity,
 * flags, ACL categories, key specs) are declared in the family files; see
 * table.ts. The command-table differential test checks both against
 * redis-server.
 *
 * @module
 */

import recorded from "./command_docs.json" with { type: "json" };

/** Command groups as COMMAND DOCS names them. */
export type CommandGroup =
  | "generic"
  | "string"
  | "list"
  | "set"
  | "sorted-set"
  | "hash"
  | "pubsub"
  | "transactions"
  | "connection"
  | "server"
  | "scripting"
  | "hyperloglog"
  | "cluster"
  | "sentinel"
  | "geo"
  | "stream"
  | "bitmap"
  | "module";

/** An argument's type, as COMMAND DOCS names it. */
export type ArgumentType =
  | "string"
  | "integer"
  | "double"
  | "key"
  | "pattern"
  | "unix-time"
  | "pure-token"
  | "oneof"
  | "block";

/** An argument's flags, as COMMAND DOCS names them. */
export type ArgumentFlag = "optional" | "multiple" | "multiple_token";

/** One node of a command's argument tree. */
export interface ArgumentDocs {
  readonly name: string;
  readonly type: ArgumentType;
  /** For a key: the index of its key spec in the command's declaration. */
  readonly keySpecIndex?: number;
  readonly token?: string;
  readonly summary?: string;
  readonly since?: string;
  readonly flags?: readonly ArgumentFlag[];
  readonly deprecatedSince?: string;
  readonly value?: string;
  /** The alternatives of a `oneof`, the parts of a `block`. */
  readonly arguments?: readonly ArgumentDocs[];
}

/** What COMMAND DOCS (and COMMAND INFO's tips) say about one command. */
export interface CommandDocs {
  /** Every Redis command has a summary and a since; a module's may not. */
  readonly summary?: string;
  readonly since?: string;
  readonly group: CommandGroup;
  readonly complexity?: string;
  readonly docFlags?: readonly ("deprecated" | "syscmd")[];
  readonly deprecatedSince?: string;
  readonly replacedBy?: string;
  /** `[version, change]` pairs. */
  readonly history?: readonly (readonly [string, string])[];
  readonly arguments?: readonly ArgumentDocs[];
  /** COMMAND INFO's tips (`nondeterministic_output`, `request_policy:...`). */
  readonly tips?: readonly string[];
}

/**
 * Commands this server has that Redis 7.0 has not. CLIENT SETINFO arrived in
 * Redis 7.2, and clients send it on connect; its documentation is 7.2's.
 */
const LATER_THAN_7_0: Readonly<Record<string, CommandDocs>> = {
  "client|setinfo": {
    summary: "Set client or connection specific info",
    since: "7.2.0",
    group: "connection",
    complexity: "O(1)",
    arguments: [{
      name: "attr",
      type: "oneof",
      arguments: [
        { name: "libname", type: "string", token: "LIB-NAME" },
        { name: "libver", type: "string", token: "LIB-VER" },
      ],
    }],
    tips: ["request_policy:all_nodes", "response_policy:all_succeeded"],
  },
};

const RECORDED = recorded.commands as unknown as Readonly<Record<string, CommandDocs>>;

/** The documentation of a command (`container|sub` for subcommands), if known. */
export function commandDocs(name: string): CommandDocs | undefined {
  return Object.hasOwn(RECORDED, name) ? RECORDED[name] : LATER_THAN_7_0[name];
}

/** Whether the documentation of `name` was recorded from redis-server 7.0. */
export function isRecordedFromRedis(name: string): boolean {
  return Object.hasOwn(RECORDED, name);
}
