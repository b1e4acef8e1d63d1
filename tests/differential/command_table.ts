/**
 * The command table compared with redis-server's: COMMAND INFO and COMMAND
 * DOCS of every command and subcommand we implement, in RESP2 and RESP3,
 * and COMMAND LIST FILTERBY ACLCAT for every category.
 *
 * Shared by command_table_test.ts (live against redis-server, or against
 * the recording) and record.ts (which writes the recording), so both play
 * the same requests. What is compared comes from our own table: a command
 * a new family declares is compared as soon as it exists, with nothing to
 * list by hand (offline, its recorded replies are reported missing until
 * `deno run -A tests/differential/record.ts command_table` is run).
 *
 * Two things in Redis's replies say nothing about a command: the order of a
 * container's subcommands (a dict's order, which changes from one
 * redis-server process to the next) and the subcommands we do not
 * implement. Container replies are therefore compared in canonical form:
 * subcommands restricted to the ones both servers know, sorted by name.
 * Every other byte is compared as is. Recordings are RESP3; the RESP2 form
 * is derived (maps and sets become arrays, `_` becomes `$-1`), which is
 * exact for these replies.
 *
 * @module
 */

import { COMMAND_FAMILIES } from "../../src/commands/families.ts";
import { ACL_CATEGORIES, type Command } from "../../src/commands/table.ts";
import { isRecordedFromRedis } from "../../src/commands/command_docs.ts";
import { bytesToLatin1, latin1Bytes, RawClient } from "../helpers/servers.ts";

/** Where the recorded redis-server replies live. */
export const RECORDED_PATH = new URL("./expected_command_table.json", import.meta.url);

/** Our commands and subcommands, top-level ones in table order, each followed by its subcommands. */
export function implementedCommands(): Command[] {
  return COMMAND_FAMILIES.flat().flatMap((cmd) => [
    cmd,
    ...(cmd.subcommandTable ? [...cmd.subcommandTable.values()] : []),
  ]);
}

/** Names we implement that redis-server 7.0 has (CLIENT SETINFO is 7.2's). */
export function comparableNames(): string[] {
  return implementedCommands().map((cmd) => cmd.name).filter(isRecordedFromRedis);
}

/** What one server says about the command table, RESP3 replies as binary strings. */
export interface TableReplies {
  /** `COMMAND INFO <name>` by name. */
  info: Record<string, string>;
  /** `COMMAND DOCS <name>` by name. */
  docs: Record<string, string>;
  /** `COMMAND LIST FILTERBY ACLCAT <category>`, sorted, by category. */
  categories: Record<string, string[]>;
}

/** A parsed reply that keeps every element's bytes. */
interface Node {
  /** The type byte and header line, without CRLF (`*10`, `$3`, `:1`). */
  header: string;
  /** The whole reply, CRLFs included. */
  raw: string;
  /** Elements of an aggregate (a map's keys and values alternate). */
  children: Node[];
}

function parseNode(text: string, start = 0): [Node, number] {
  const lineEnd = text.indexOf("\r\n", start);
  if (lineEnd < 0) throw new Error(`truncated reply at ${start}`);
  const header = text.slice(start, lineEnd);
  const type = header[0]!;
  let position = lineEnd + 2;
  const children: Node[] = [];
  if (type === "$" || type === "=" || type === "!") {
    const length = Number(header.slice(1));
    if (length >= 0) position += length + 2;
  } else if ("*~%>".includes(type)) {
    const count = Number(header.slice(1));
    const elements = count < 0 ? 0 : type === "%" ? count * 2 : count;
    for (let i = 0; i < elements; i++) {
      const [child, next] = parseNode(text, position);
      children.push(child);
      position = next;
    }
  }
  return [{ header, raw: text.slice(start, position), children }, position];
}

function parse(text: string): Node {
  const [node, end] = parseNode(text);
  if (end !== text.length) throw new Error(`${text.length - end} bytes after the reply`);
  return node;
}

/** A bulk or simple string's text. */
function stringOf(node: Node): string {
  const type = node.header[0];
  if (type === "+") return node.header.slice(1);
  return node.raw.slice(node.header.length + 2, -2);
}

function aggregate(header: string, children: readonly Node[]): string {
  return `${header}\r\n${children.map((child) => child.raw).join("")}`;
}

/**
 * A COMMAND INFO entry (the 10-element array) with its subcommands
 * restricted to `keep` and sorted by name.
 */
function canonicalInfoEntry(entry: Node, keep: ReadonlySet<string>): string {
  const children = [...entry.children];
  const subcommands = children[9];
  if (subcommands === undefined || subcommands.children.length === 0) return entry.raw;
  const kept = subcommands.children
    .map((sub) => ({ name: stringOf(sub.children[0]!), raw: canonicalInfoEntry(sub, keep) }))
    .filter((sub) => keep.has(sub.name))
    .sort((a, b) => a.name < b.name ? -1 : 1);
  children[9] = {
    header: `${subcommands.header[0]}${kept.length}`,
    raw: `${subcommands.header[0]}${kept.length}\r\n${kept.map((sub) => sub.raw).join("")}`,
    children: [],
  };
  return aggregate(entry.header, children);
}

/** A COMMAND INFO reply in canonical form (see the module doc). */
export function canonicalInfo(reply: string, keep: ReadonlySet<string>): string {
  const node = parse(reply);
  return aggregate(
    node.header,
    node.children.map((entry) =>
      entry.children.length === 10
        ? { header: "", raw: canonicalInfoEntry(entry, keep), children: [] }
        : entry
    ),
  );
}

/** A docs map (RESP3 `%` or RESP2 flat array) with "subcommands" restricted and sorted. */
function canonicalDocsMap(map: Node, keep: ReadonlySet<string>): string {
  const children = [...map.children];
  for (let i = 0; i + 1 < children.length; i += 2) {
    if (stringOf(children[i]!) !== "subcommands") continue;
    const subcommands = children[i + 1]!;
    const pairs: { name: string; raw: string }[] = [];
    for (let j = 0; j + 1 < subcommands.children.length; j += 2) {
      const name = stringOf(subcommands.children[j]!);
      if (!keep.has(name)) continue;
      pairs.push({
        name,
        raw: subcommands.children[j]!.raw + canonicalDocsMap(subcommands.children[j + 1]!, keep),
      });
    }
    pairs.sort((a, b) => a.name < b.name ? -1 : 1);
    const type = subcommands.header[0]!;
    const header = `${type}${type === "%" ? pairs.length : pairs.length * 2}`;
    children[i + 1] = {
      header,
      raw: `${header}\r\n${pairs.map((pair) => pair.raw).join("")}`,
      children: [],
    };
  }
  return aggregate(map.header, children);
}

/** A COMMAND DOCS reply in canonical form (see the module doc). */
export function canonicalDocs(reply: string, keep: ReadonlySet<string>): string {
  const node = parse(reply);
  const children = [...node.children];
  for (let i = 1; i < children.length; i += 2) {
    children[i] = { header: "", raw: canonicalDocsMap(children[i]!, keep), children: [] };
  }
  return aggregate(node.header, children);
}

/** The RESP2 form of a RESP3 COMMAND INFO/DOCS reply. */
export function resp3ToResp2(reply: string): string {
  const convert = (node: Node): string => {
    const type = node.header[0]!;
    if (type === "_") return "$-1\r\n";
    if (type === "%") {
      return `*${node.children.length}\r\n${node.children.map(convert).join("")}`;
    }
    if (type === "~" || type === "*") {
      return `*${node.children.length}\r\n${node.children.map(convert).join("")}`;
    }
    return node.raw;
  };
  return convert(parse(reply));
}

async function request(client: RawClient, ...args: string[]): Promise<string> {
  return bytesToLatin1(await client.command(...args.map(latin1Bytes)));
}

/**
 * Everything `server` says about the commands in `names`, in `protocol`.
 * Category lists are restricted to `names`: Redis's include commands we
 * do not have.
 */
export async function fetchTableReplies(
  port: number,
  names: readonly string[],
  protocol: 2 | 3,
): Promise<TableReplies> {
  const client = await RawClient.connect(port);
  try {
    await client.command("HELLO", String(protocol));
    const replies: TableReplies = { info: {}, docs: {}, categories: {} };
    for (const name of names) {
      replies.info[name] = await request(client, "COMMAND", "INFO", name);
      replies.docs[name] = await request(client, "COMMAND", "DOCS", name);
    }
    const known = new Set(names);
    for (const category of ACL_CATEGORIES) {
      const reply = parse(await request(client, "COMMAND", "LIST", "FILTERBY", "ACLCAT", category));
      replies.categories[category] = reply.children.map(stringOf).filter((name) => known.has(name))
        .sort();
    }
    return replies;
  } finally {
    await client.close();
  }
}

/** `COMMAND` (no arguments) as entries by name, canonical, in `protocol`. */
export async function fetchCommandEntries(
  port: number,
  protocol: 2 | 3,
  keep: ReadonlySet<string>,
): Promise<Map<string, string>> {
  const client = await RawClient.connect(port);
  try {
    await client.command("HELLO", String(protocol));
    const reply = parse(await request(client, "COMMAND"));
    const entries = new Map<string, string>();
    for (const entry of reply.children) {
      entries.set(stringOf(entry.children[0]!), canonicalInfoEntry(entry, keep));
    }
    return entries;
  } finally {
    await client.close();
  }
}

/** One difference between two servers' descriptions of the table. */
export interface TableMismatch {
  what: string;
  expected: string;
  actual: string;
}

/**
 * Where `actual` (ours) differs from `expected` (Redis, live or recorded),
 * comparing the commands in `names`, containers in canonical form.
 */
export function compareTableReplies(
  expected: TableReplies,
  actual: TableReplies,
  names: readonly string[],
): TableMismatch[] {
  const keep = new Set(names);
  const mismatches: TableMismatch[] = [];
  for (const name of names) {
    for (const kind of ["info", "docs"] as const) {
      const recorded = expected[kind][name];
      const ours = actual[kind][name];
      if (recorded === undefined || ours === undefined) {
        mismatches.push({
          what: `COMMAND ${kind.toUpperCase()} ${name}`,
          expected: recorded ?? "<not recorded>",
          actual: ours ?? "<not fetched>",
        });
        continue;
      }
      const canonical = kind === "info" ? canonicalInfo : canonicalDocs;
      const [want, got] = [canonical(recorded, keep), canonical(ours, keep)];
      if (want !== got) {
        mismatches.push({
          what: `COMMAND ${kind.toUpperCase()} ${name}`,
          expected: want,
          actual: got,
        });
      }
    }
  }
  for (const category of ACL_CATEGORIES) {
    const want = (expected.categories[category] ?? []).filter((name) => keep.has(name)).join(" ");
    const got = (actual.categories[category] ?? []).join(" ");
    if (want !== got) {
      mismatches.push({
        what: `COMMAND LIST FILTERBY ACLCAT ${category}`,
        expected: want,
        actual: got,
      });
    }
  }
  return mismatches;
}

/** Converts recorded RESP3 replies to the RESP2 replies Redis would give. */
export function asResp2(replies: TableReplies): TableReplies {
  const convert = (record: Record<string, string>) =>
    Object.fromEntries(Object.entries(record).map(([name, reply]) => [name, resp3ToResp2(reply)]));
  return {
    info: convert(replies.info),
    docs: convert(replies.docs),
    categories: replies.categories,
  };
}

/** The recording, or undefined when there is none. */
export async function readRecordedTable(): Promise<TableReplies | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(RECORDED_PATH)) as TableReplies;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Records redis-server's RESP3 replies for every comparable command. */
export async function recordTable(port: number): Promise<number> {
  const names = comparableNames();
  const replies = await fetchTableReplies(port, names, 3);
  await Deno.writeTextFile(RECORDED_PATH, JSON.stringify(replies, null, 2) + "\n");
  // Formatted as `deno fmt` would, so that `deno task check` accepts the file.
  const { success } = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", RECORDED_PATH.pathname],
  }).output();
  if (!success) throw new Error(`deno fmt ${RECORDED_PATH.pathname} failed`);
  return names.length;
}
