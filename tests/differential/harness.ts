/**
 * The differential harness: reads a corpus file, plays it against a server
 * over one raw connection, and compares the raw replies with another run
 * (a live `redis-server`, or the replies recorded from one).
 *
 * It is separate from differential_test.ts so that record.ts can use the
 * very same parser and player; a corpus recorded one way and replayed another
 * would make every comparison suspect. The corpus format is described in
 * differential_test.ts.
 *
 * Replies are kept as binary strings (one code unit per byte, like the
 * server's own values) so they can be compared, sorted and stored in JSON
 * without any decoding step that could hide a difference.
 *
 * @module
 */

import {
  bytesToLatin1,
  escapeBytes,
  latin1Bytes,
  RawClient,
  sleep,
  splitAggregate,
} from "../helpers/servers.ts";
import { splitInlineArguments } from "../../src/protocol/parser.ts";

/** How a command's reply is compared; see the corpus format in differential_test.ts. */
export type CompareMode = "exact" | "sort" | "type" | "ignore" | "hello";

/** A command line of a corpus (or the HELLO a `@resp2`/`@resp3` directive sends). */
export interface CorpusCommand {
  kind: "command";
  /** 1-based line number in the corpus file. */
  line: number;
  /** The line as written, for reports. */
  source: string;
  /** Arguments as binary strings. */
  args: string[];
  mode: CompareMode;
}

/** One step of a corpus run. */
export type CorpusStep =
  | CorpusCommand
  | { kind: "sleep"; line: number; ms: number }
  | { kind: "newconn"; line: number };

/** A parsed corpus file. */
export interface Corpus {
  family: string;
  steps: CorpusStep[];
  /** The steps that produce a reply, in order: one recorded entry each. */
  commands: CorpusCommand[];
}

/** Thrown for a corpus line the parser does not understand. */
export class CorpusSyntaxError extends Error {
  constructor(family: string, line: number, message: string) {
    super(`${family}.txt line ${line}: ${message}`);
    this.name = "CorpusSyntaxError";
  }
}

/** The directory holding `<family>.txt` corpus files. */
export const CORPUS_DIRECTORY = new URL("./corpus/", import.meta.url);
/** The directory holding `<family>.json` recorded replies. */
export const EXPECTED_DIRECTORY = new URL("./expected/", import.meta.url);

/** How long one reply may take before the run records a timeout for it. */
export const COMMAND_TIMEOUT_MS = 5_000;

/** Prefix of the placeholders recorded when no reply arrived (never a RESP type byte). */
const NO_REPLY = "<no reply: ";

const MODIFIERS: Record<string, CompareMode> = {
  sort: "sort",
  type: "type",
  ignore: "ignore",
  hello: "hello",
};

/** Names of every corpus file (without `.txt`), sorted. */
export function listFamilies(): string[] {
  const families: string[] = [];
  for (const entry of Deno.readDirSync(CORPUS_DIRECTORY)) {
    if (entry.isFile && entry.name.endsWith(".txt")) families.push(entry.name.slice(0, -4));
  }
  return families.sort();
}

/** Names of every recorded file (without `.json`), sorted. */
export function listRecordedFamilies(): string[] {
  const families: string[] = [];
  try {
    for (const entry of Deno.readDirSync(EXPECTED_DIRECTORY)) {
      if (entry.isFile && entry.name.endsWith(".json")) families.push(entry.name.slice(0, -5));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return families.sort();
}

/** Reads and parses `corpus/<family>.txt`. */
export async function loadCorpus(family: string): Promise<Corpus> {
  const bytes = await Deno.readFile(new URL(`${family}.txt`, CORPUS_DIRECTORY));
  // Bytes become binary strings one-to-one, so UTF-8 in a corpus is sent as its bytes.
  return parseCorpus(family, bytesToLatin1(bytes));
}

/**
 * Parses corpus text (a binary string) into steps.
 *
 * @example
 * ```ts
 * parseCorpus("demo", "SET k v\n!sort KEYS *\n").commands.length; // 2
 * ```
 */
export function parseCorpus(family: string, text: string): Corpus {
  const steps: CorpusStep[] = [];
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const line = index + 1;
    const source = lines[index]!.trim();
    if (source === "" || source.startsWith("#")) continue;
    if (source.startsWith("@")) {
      switch (source) {
        case "@resp3":
        case "@resp2":
          steps.push({
            kind: "command",
            line,
            source,
            args: ["HELLO", source.slice(-1)],
            mode: "hello",
          });
          break;
        case "@newconn":
          steps.push({ kind: "newconn", line });
          break;
        default:
          throw new CorpusSyntaxError(family, line, `unknown directive ${source}`);
      }
      continue;
    }
    let mode: CompareMode = "exact";
    let command = source;
    if (source.startsWith("!")) {
      const match = /^!(\S+)\s*(.*)$/s.exec(source)!;
      const name = match[1]!;
      const rest = match[2]!;
      if (name === "sleep") {
        if (!/^\d+$/.test(rest)) {
          throw new CorpusSyntaxError(family, line, `!sleep wants milliseconds, got "${rest}"`);
        }
        steps.push({ kind: "sleep", line, ms: Number(rest) });
        continue;
      }
      const modifier = MODIFIERS[name];
      if (modifier === undefined) {
        throw new CorpusSyntaxError(family, line, `unknown modifier !${name}`);
      }
      mode = modifier;
      command = rest;
    }
    const args = splitInlineArguments(command);
    if (args === undefined) throw new CorpusSyntaxError(family, line, "unbalanced quotes");
    if (args.length === 0) throw new CorpusSyntaxError(family, line, "modifier without a command");
    steps.push({ kind: "command", line, source, args, mode });
  }
  const commands = steps.filter((step): step is CorpusCommand => step.kind === "command");
  return { family, steps, commands };
}

/**
 * Plays a corpus against the server on `port` and returns one raw reply per
 * command (binary strings). It starts with an unrecorded FLUSHALL. When a
 * reply does not come (the connection closed, or a timeout), a placeholder
 * starting with `<no reply: ` is recorded instead and the next command goes
 * over a new connection, so one failure does not hide the rest of the file.
 */
export async function runCorpus(port: number, corpus: Corpus): Promise<string[]> {
  const replies: string[] = [];
  let client: RawClient | undefined;
  let connectError = "";
  const connect = async () => {
    try {
      client = await RawClient.connect(port);
      client.replyTimeoutMs = COMMAND_TIMEOUT_MS;
    } catch (error) {
      client = undefined;
      connectError = String(error);
    }
  };
  try {
    await connect();
    await client?.command("FLUSHALL").catch(() => {});
    for (const step of corpus.steps) {
      if (step.kind === "sleep") {
        await sleep(step.ms);
        continue;
      }
      if (step.kind === "newconn") {
        await client?.close();
        await connect();
        continue;
      }
      if (client === undefined) await connect();
      if (client === undefined) {
        replies.push(`${NO_REPLY}cannot connect: ${connectError}>`);
        continue;
      }
      try {
        const reply = await client.command(...step.args.map(latin1Bytes));
        replies.push(bytesToLatin1(reply));
      } catch (error) {
        replies.push(`${NO_REPLY}${error instanceof Error ? error.message : String(error)}>`);
        await client.close();
        client = undefined;
      }
    }
  } finally {
    await client?.close();
  }
  return replies;
}

/** Whether `reply` is a placeholder for a missing reply rather than bytes from a server. */
export function isMissingReply(reply: string): boolean {
  return reply.startsWith(NO_REPLY);
}

/** Whether `actual` matches `expected` under `mode`. */
export function repliesMatch(expected: string, actual: string, mode: CompareMode): boolean {
  if (isMissingReply(expected) || isMissingReply(actual)) return expected === actual;
  switch (mode) {
    case "exact":
      return expected === actual;
    case "ignore":
      return true;
    case "type":
      return typeSignature(expected) === typeSignature(actual);
    case "sort":
      return sortedForm(expected) === sortedForm(actual);
    case "hello":
      return maskHello(expected) === maskHello(actual);
  }
}

/**
 * The type byte, plus the length line for aggregates, plus whether a bulk
 * string or aggregate is null: what `!type` compares.
 */
export function typeSignature(reply: string): string {
  const type = reply[0] ?? "";
  const header = reply.slice(0, reply.indexOf("\r\n"));
  if ("*~>%|".includes(type)) return header;
  if ("$!=".includes(type)) return header === `${type}-1` ? header : type;
  return type;
}

/**
 * An aggregate with its elements (map: key/value pairs) sorted, for `!sort`.
 * A SCAN-shaped reply (`[cursor, [elements]]`) has its inner array sorted.
 */
function sortedForm(reply: string): string {
  const parts = splitAggregate(latin1Bytes(reply));
  if (parts === undefined) return reply;
  const elements = parts.elements.map(bytesToLatin1);
  if (
    parts.header === "*2" && elements[0]!.startsWith("$") && elements[1]!.startsWith("*")
  ) {
    return `${parts.header}\r\n${elements[0]}${sortedForm(elements[1]!)}`;
  }
  const units: string[] = [];
  if (reply.startsWith("%")) {
    for (let i = 0; i < elements.length; i += 2) units.push(elements[i]! + elements[i + 1]!);
  } else {
    units.push(...elements);
  }
  units.sort();
  return `${parts.header}\r\n${units.join("")}`;
}

/**
 * A HELLO reply with the fields that legitimately differ between servers
 * (`version`, and `id`, which counts connections) masked. Works for the
 * RESP2 flat array and the RESP3 map alike, since both encode each field as
 * a bulk-string name followed by its value.
 */
export function maskHello(reply: string): string {
  return reply
    .replace(/(\$7\r\nversion\r\n)\$\d+\r\n[^\r]*\r\n/, "$1<masked>\r\n")
    .replace(/(\$2\r\nid\r\n):\d+\r\n/, "$1<masked>\r\n");
}

/** A command whose replies differ. */
export interface Mismatch {
  command: CorpusCommand;
  expected: string;
  actual: string;
}

/** Every command whose reply in `actual` does not match `expected`. */
export function findMismatches(
  corpus: Corpus,
  expected: readonly string[],
  actual: readonly string[],
): Mismatch[] {
  const mismatches: Mismatch[] = [];
  corpus.commands.forEach((command, index) => {
    const wanted = expected[index] ?? `${NO_REPLY}nothing recorded>`;
    const got = actual[index] ?? `${NO_REPLY}nothing received>`;
    if (!repliesMatch(wanted, got, command.mode)) {
      mismatches.push({ command, expected: wanted, actual: got });
    }
  });
  return mismatches;
}

const MAX_SHOWN_REPLY = 1_500;

/** A reply for a report: escaped, and shortened when very long. */
export function showReply(reply: string): string {
  if (isMissingReply(reply)) return reply;
  const shown = escapeBytes(reply.slice(0, MAX_SHOWN_REPLY));
  return reply.length > MAX_SHOWN_REPLY ? `${shown}... (${reply.length} bytes)` : shown;
}

/**
 * A report listing every mismatch with its line, command and both replies.
 *
 * @example
 * ```ts
 * formatMismatches("strings", mismatches, "redis-server", "ours");
 * ```
 */
export function formatMismatches(
  family: string,
  mismatches: readonly Mismatch[],
  expectedLabel: string,
  actualLabel: string,
): string {
  const width = Math.max(expectedLabel.length, actualLabel.length) + 1;
  const lines = mismatches.map(({ command, expected, actual }) => {
    const mode = command.mode === "exact" ? "" : `   [compared: ${command.mode}]`;
    return [
      `  ${family}.txt:${command.line}: ${printable(command.source)}${mode}`,
      `    ${(expectedLabel + ":").padEnd(width)} ${showReply(expected)}`,
      `    ${(actualLabel + ":").padEnd(width)} ${showReply(actual)}`,
    ].join("\n");
  });
  return lines.join("\n");
}

/** A corpus line as written, with control and non-ASCII bytes shown as `\xHH`. */
function printable(source: string): string {
  return source.replace(
    /[^\x20-\x7e]/g,
    (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** Path of the recorded replies for `family`. */
export function expectedPath(family: string): URL {
  return new URL(`${family}.json`, EXPECTED_DIRECTORY);
}

/** The recorded replies for `family`, or undefined when there is no file. */
export async function readExpected(family: string): Promise<string[] | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(expectedPath(family));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const replies: unknown = JSON.parse(text);
  if (!Array.isArray(replies) || !replies.every((reply) => typeof reply === "string")) {
    throw new Error(`${family}.json is not a JSON array of strings`);
  }
  return replies;
}

/**
 * Writes the recorded replies for `family`: a JSON array, one reply a line,
 * each a binary string (JSON escapes CR, LF and control bytes, so the file
 * stays readable and diffs show which reply changed).
 */
export async function writeExpected(family: string, replies: readonly string[]): Promise<void> {
  await Deno.mkdir(EXPECTED_DIRECTORY, { recursive: true });
  await Deno.writeTextFile(expectedPath(family), JSON.stringify(replies, null, 2) + "\n");
}
