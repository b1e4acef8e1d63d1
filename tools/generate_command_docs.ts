/**
 * Records redis-server 7.0's command documentation as data:
 * `src/commands/command_docs.json`, read by `src/commands/command_docs.ts`.
 *
 * ```sh
 * deno run -A tools/generate_command_docs.ts               # start a redis-server, record
 * deno run -A tools/generate_command_docs.ts --port 6379   # record from a running one
 * deno run -A tools/generate_command_docs.ts --declaration xadd xlen
 * ```
 *
 * COMMAND DOCS (summary, since, group, complexity, doc flags, deprecation,
 * history, argument trees) and COMMAND INFO's tips say nothing the server
 * enforces, and Redis generates them from its own `src/commands/*.json`;
 * copying them by hand would only add typos. So they are recorded from the
 * oracle, for every Redis command (implemented or not: a family added later
 * finds its documentation already there), like the differential tests'
 * `expected/` replies. What the server does act on (arity, flags, ACL
 * categories, key specs) is declared by hand in the family files, and the
 * command-table differential test checks both halves against redis-server.
 *
 * `--declaration <name>...` prints, for new commands, the `command({...})`
 * facts redis-server reports (arity, flags, explicit ACL categories, key
 * specs) to paste into a family file.
 *
 * @module
 */

import {
  decodeReply,
  RawClient,
  type ReplyValue,
  startRedisServer,
} from "../tests/helpers/servers.ts";

const OUTPUT = new URL("../src/commands/command_docs.json", import.meta.url);

type Decoded = { [key: string]: ReplyValue };

/** COMMAND DOCS fields in the order Redis writes them, with our names. */
const DOC_FIELDS: Record<string, string> = {
  summary: "summary",
  since: "since",
  group: "group",
  complexity: "complexity",
  doc_flags: "docFlags",
  deprecated_since: "deprecatedSince",
  replaced_by: "replacedBy",
  history: "history",
  arguments: "arguments",
  subcommands: "subcommands",
};

/** Argument fields in the order Redis writes them, with our names. */
const ARGUMENT_FIELDS: Record<string, string> = {
  name: "name",
  type: "type",
  key_spec_index: "keySpecIndex",
  token: "token",
  summary: "summary",
  since: "since",
  flags: "flags",
  deprecated_since: "deprecatedSince",
  value: "value",
  arguments: "arguments",
};

/** Maps Redis's field names to ours, failing on a field or an order we do not know. */
function renameFields(
  source: Decoded,
  fields: Record<string, string>,
  where: string,
): Record<string, unknown> {
  const order = Object.keys(fields);
  const renamed: Record<string, unknown> = {};
  let last = -1;
  for (const [key, value] of Object.entries(source)) {
    const index = order.indexOf(key);
    if (index < 0) throw new Error(`${where}: unknown field ${JSON.stringify(key)}`);
    if (index < last) throw new Error(`${where}: field ${key} out of the expected order`);
    last = index;
    renamed[fields[key]!] = value;
  }
  return renamed;
}

function convertArguments(list: ReplyValue, where: string): unknown[] {
  return (list as Decoded[]).map((argument) => {
    const converted = renameFields(argument, ARGUMENT_FIELDS, `${where} argument`);
    if (converted.arguments !== undefined) {
      converted.arguments = convertArguments(
        converted.arguments as ReplyValue,
        `${where} ${converted.name}`,
      );
    }
    return converted;
  });
}

/** One command's documentation record; subcommands become records of their own. */
function convertDocs(
  name: string,
  docs: Decoded,
  tips: Map<string, string[]>,
  into: Map<string, unknown>,
): void {
  const record = renameFields(docs, DOC_FIELDS, name);
  const subcommands = record.subcommands as Decoded | undefined;
  delete record.subcommands;
  if (record.arguments !== undefined) {
    record.arguments = convertArguments(record.arguments as ReplyValue, name);
  }
  const commandTips = tips.get(name) ?? [];
  if (commandTips.length > 0) record.tips = commandTips;
  into.set(name, record);
  for (const [subName, subDocs] of Object.entries(subcommands ?? {})) {
    convertDocs(subName, subDocs as Decoded, tips, into);
  }
}

/** Tips by command name, from COMMAND INFO (element 8 of each entry). */
function collectTips(entries: ReplyValue[], into: Map<string, string[]>): void {
  for (const entry of entries as ReplyValue[][]) {
    into.set(entry[0] as string, entry[7] as string[]);
    collectTips(entry[9] as ReplyValue[], into);
  }
}

const KEY_FLAG_NAMES: Record<string, string> = {
  RO: "RO",
  RW: "RW",
  OW: "OW",
  RM: "RM",
  access: "ACCESS",
  update: "UPDATE",
  insert: "INSERT",
  delete: "DELETE",
  not_key: "NOT_KEY",
  incomplete: "INCOMPLETE",
  variable_flags: "VARIABLE_FLAGS",
};

/** ACL categories Redis adds from a command's flags (setImplicitACLCategories). */
function impliedCategories(flags: string[]): Set<string> {
  const implied = new Set<string>();
  if (flags.includes("write")) implied.add("@write");
  if (flags.includes("readonly")) implied.add("@read");
  if (flags.includes("admin")) implied.add("@admin").add("@dangerous");
  if (flags.includes("pubsub")) implied.add("@pubsub");
  if (flags.includes("fast")) implied.add("@fast");
  else implied.add("@slow");
  if (flags.includes("blocking")) implied.add("@blocking");
  return implied;
}

function describeKeySpec(spec: Decoded): string {
  const flags = (spec.flags as string[]).map((flag) => `"${KEY_FLAG_NAMES[flag] ?? flag}"`);
  const begin = spec.begin_search as Decoded;
  const beginSpec = begin.spec as Decoded;
  const beginText = begin.type === "index"
    ? `{ index: ${beginSpec.index} }`
    : begin.type === "keyword"
    ? `{ keyword: "${beginSpec.keyword}", startFrom: ${beginSpec.startfrom} }`
    : `"unknown"`;
  const find = spec.find_keys as Decoded;
  const findSpec = find.spec as Decoded;
  let findText = `"unknown"`;
  if (find.type === "range") {
    const parts = [`lastKey: ${findSpec.lastkey}`];
    if (findSpec.keystep !== 1) parts.push(`keyStep: ${findSpec.keystep}`);
    if (findSpec.limit !== 0) parts.push(`limit: ${findSpec.limit}`);
    findText = `{ ${parts.join(", ")} }`;
  } else if (find.type === "keynum") {
    const parts = [`keyNumIndex: ${findSpec.keynumidx}`, `firstKey: ${findSpec.firstkey}`];
    if (findSpec.keystep !== 1) parts.push(`keyStep: ${findSpec.keystep}`);
    findText = `{ ${parts.join(", ")} }`;
  }
  const notes = spec.notes === undefined ? "" : `, notes: ${JSON.stringify(spec.notes)}`;
  return `{ flags: [${flags.join(", ")}], begin: ${beginText}, find: ${findText}${notes} }`;
}

/** The declaration facts of one COMMAND INFO entry, as TypeScript. */
function describeDeclaration(entry: ReplyValue[]): string {
  const [name, arity, flags, , , , categories, , keySpecs] = entry as [
    string,
    number,
    string[],
    number,
    number,
    number,
    string[],
    string[],
    Decoded[],
  ];
  const declared = flags.filter((flag) => flag !== "movablekeys");
  const implied = impliedCategories(declared);
  const explicit = categories.filter((category) => !implied.has(category)).map((category) =>
    `"${category.slice(1)}"`
  );
  const lines = [
    `  command({`,
    `    name: "${name}",`,
    `    arity: ${arity},`,
    `    flags: [${declared.map((flag) => `"${flag}"`).join(", ")}],`,
  ];
  if (explicit.length > 0) lines.push(`    aclCategories: [${explicit.join(", ")}],`);
  if (keySpecs.length > 0) {
    lines.push(`    keySpecs: [`);
    for (const spec of keySpecs) lines.push(`      ${describeKeySpec(spec)},`);
    lines.push(`    ],`);
  }
  if (flags.includes("movablekeys")) {
    lines.push(`    // movablekeys: if Redis has a getkeys function for it, declare keyFinder`);
  }
  lines.push(`    handler: ...,`, `  }),`);
  return lines.join("\n");
}

/** Runs `deno fmt` on the file, so that `deno task check` finds it formatted. */
async function formatFile(file: URL): Promise<void> {
  const { success } = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", file.pathname],
  }).output();
  if (!success) throw new Error(`deno fmt ${file.pathname} failed`);
}

async function query(client: RawClient, ...args: string[]): Promise<ReplyValue> {
  return decodeReply(await client.command(...args));
}

async function record(port: number): Promise<void> {
  const client = await RawClient.connect(port);
  try {
    const hello = await query(client, "HELLO", "3") as Decoded;
    const version = hello.version as string;
    if (!version.startsWith("7.0.")) {
      console.warn(`warning: recording from redis-server ${version}, not 7.0`);
    }
    const tips = new Map<string, string[]>();
    collectTips(await query(client, "COMMAND", "INFO") as ReplyValue[], tips);
    const docs = await query(client, "COMMAND", "DOCS") as Decoded;
    const records = new Map<string, unknown>();
    for (const [name, commandDocs] of Object.entries(docs)) {
      convertDocs(name, commandDocs as Decoded, tips, records);
    }
    const names = [...records.keys()].sort();
    const lines = names.map((name) =>
      `    ${JSON.stringify(name)}: ${JSON.stringify(records.get(name))}`
    );
    const text =
      `{\n  "source": "redis-server ${version}: COMMAND DOCS, and COMMAND INFO for tips",\n` +
      `  "commands": {\n${lines.join(",\n")}\n  }\n}\n`;
    // Replies are written as binary strings: non-ASCII text would need encoding first.
    if ([...text].some((char) => char.charCodeAt(0) > 0x7f)) {
      throw new Error("COMMAND DOCS holds non-ASCII text");
    }
    await Deno.writeTextFile(OUTPUT, text);
    await formatFile(OUTPUT);
    console.log(`${names.length} commands -> ${OUTPUT.pathname}`);
  } finally {
    await client.close();
  }
}

async function printDeclarations(port: number, names: string[]): Promise<void> {
  const client = await RawClient.connect(port);
  try {
    await query(client, "HELLO", "3");
    const entries = await query(client, "COMMAND", "INFO", ...names) as (ReplyValue[] | null)[];
    for (const [index, entry] of entries.entries()) {
      if (entry === null) console.log(`// ${names[index]}: not a redis-server command`);
      else {
        console.log(describeDeclaration(entry));
        for (const sub of entry[9] as ReplyValue[][]) console.log(describeDeclaration(sub));
      }
    }
  } finally {
    await client.close();
  }
}

async function main(args: string[]): Promise<number> {
  let port: number | undefined;
  const portIndex = args.indexOf("--port");
  if (portIndex >= 0) {
    port = Number(args[portIndex + 1]);
    args.splice(portIndex, 2);
  }
  const server = port === undefined ? await startRedisServer() : undefined;
  if (port === undefined && server === undefined) {
    console.error("redis-server is not on PATH (or REDIS_SERVER_PATH); nothing recorded");
    return 1;
  }
  try {
    const target = port ?? server!.port;
    if (args[0] === "--declaration") await printDeclarations(target, args.slice(1));
    else await record(target);
  } finally {
    await server?.stop();
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main([...Deno.args]));
