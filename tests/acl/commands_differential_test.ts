/**
 * The ACL commands and AUTH against a live redis-server 7.0.15, byte for
 * byte: tests/acl/corpus.txt is replayed on redis-server and on the ACL
 * family running in-process (harness.ts), over several connections, and
 * every reply compared; a connection our side closes (its user was
 * deleted) must be closed by Redis too, and the next command with its
 * letter opens a new one on both. The corpus format is described at its top; volatile
 * parts are masked by mode (ACL LOG's age and client description, GENPASS's
 * random digits, and the order of single commands in rule strings, which
 * Redis takes from a hash table seeded at random on every start).
 *
 * Skips loudly without redis-server.
 *
 * @module
 */

import assert from "node:assert/strict";
import { splitInlineArguments } from "../../src/protocol/parser.ts";
import {
  bytesToLatin1,
  escapeBytes,
  latin1Bytes,
  RawClient,
  redisServerPath,
  startRedisServer,
} from "../helpers/servers.ts";
import { redisCatalogue } from "./fixture_catalogue.ts";
import { aclHarness, type HarnessClient } from "./harness.ts";
import { normalizeRules } from "./rule_generator.ts";

const HAVE_REDIS = redisServerPath() !== undefined;
if (!HAVE_REDIS) {
  console.warn("redis-server not installed: SKIPPING the ACL command differential test");
}

const CORPUS = new URL("./corpus.txt", import.meta.url);

type Mode = "exact" | "rules" | "sort" | "log" | "length" | "ignore";

interface Step {
  line: number;
  connection: string;
  mode: Mode;
  args: string[];
}

function parseCorpus(text: string): Step[] {
  const steps: Step[] = [];
  text.split("\n").forEach((source, index) => {
    const trimmed = source.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const words = splitInlineArguments(trimmed);
    if (words === undefined || words.length < 2) throw new Error(`corpus line ${index + 1}`);
    let [connection, ...args] = words;
    let mode: Mode = "exact";
    if (args[0]!.startsWith("!")) {
      mode = args[0]!.slice(1) as Mode;
      args = args.slice(1);
    }
    steps.push({ line: index + 1, connection: connection!, mode, args });
  });
  return steps;
}

/**
 * Rewrites every bulk string and double of a raw reply with `transform`,
 * which also sees the bulk string before it (for `key value` pairs).
 */
function transformReply(
  raw: string,
  transform: (text: string, previous: string | undefined) => string,
): string {
  let out = "";
  let position = 0;
  let previous: string | undefined;
  while (position < raw.length) {
    const type = raw[position];
    const lineEnd = raw.indexOf("\r\n", position);
    const line = raw.slice(position + 1, lineEnd);
    if ((type === "$" || type === "=") && line !== "-1") {
      const start = lineEnd + 2;
      const content = raw.slice(start, start + Number(line));
      const changed = transform(content, previous);
      out += `${type}${changed.length}\r\n${changed}\r\n`;
      previous = content;
      position = start + Number(line) + 2;
      continue;
    }
    out += type === "," ? `,${transform(line, previous)}\r\n` : raw.slice(position, lineEnd + 2);
    previous = undefined;
    position = lineEnd + 2;
  }
  return out;
}

const catalogue = redisCatalogue();

function normalize(raw: string, mode: Mode): string {
  switch (mode) {
    case "rules":
      return transformReply(
        raw,
        (text) => /(^| )[+-]@all( |$)/.test(text) ? normalizeRules(text, catalogue) : text,
      );
    case "log":
      return transformReply(
        raw,
        (text, previous) =>
          previous === "age-seconds" || previous === "client-info" ? "<masked>" : text,
      );
    case "length":
      return transformReply(raw, (text) => "x".repeat(text.length));
    case "sort": {
      const header = raw.slice(0, raw.indexOf("\r\n") + 2);
      const items: string[] = [];
      transformReply(raw.slice(header.length), (text) => {
        items.push(text);
        return text;
      });
      return header + items.sort().map((item) => `$${item.length}\r\n${item}\r\n`).join("");
    }
    default:
      return raw;
  }
}

Deno.test({
  name: "ACL commands and AUTH reply as redis-server does (tests/acl/corpus.txt)",
  ignore: !HAVE_REDIS,
  async fn() {
    const steps = parseCorpus(await Deno.readTextFile(CORPUS));
    const redis = (await startRedisServer())!;
    const redisClients = new Map<string, RawClient>();
    const harness = aclHarness();
    const ourClients = new Map<string, HarnessClient>();
    const mismatches: string[] = [];
    try {
      for (const step of steps) {
        let redisClient = redisClients.get(step.connection);
        if (redisClient === undefined) {
          redisClient = await RawClient.connect(redis.port);
          redisClients.set(step.connection, redisClient);
        }
        let ours = ourClients.get(step.connection);
        if (ours === undefined) {
          ours = harness.connect();
          ourClients.set(step.connection, ours);
        }
        const expected = bytesToLatin1(await redisClient.command(...step.args.map(latin1Bytes)));
        const actual = ours.run(...step.args);
        // A connection the command closed (its user was deleted) must be closed on both.
        for (const [letter, connection] of ourClients) {
          if (!connection.closed()) continue;
          const redisConnection = redisClients.get(letter)!;
          if (!await redisConnection.isClosed(2_000)) {
            mismatches.push(`line ${step.line}: we closed connection ${letter}, redis did not`);
          }
          await redisConnection.close();
          redisClients.delete(letter);
          ourClients.delete(letter);
        }
        if (step.mode === "ignore") continue;
        if (normalize(actual, step.mode) !== normalize(expected, step.mode)) {
          mismatches.push(
            `line ${step.line}: ${step.connection} ${step.args.join(" ")}\n  redis: ${
              escapeBytes(expected)
            }\n  ours:  ${escapeBytes(actual)}`,
          );
        }
      }
    } finally {
      await Promise.all([...redisClients.values()].map((client) => client.close()));
      await redis.stop();
    }
    assert.deepEqual(mismatches, [], mismatches.join("\n"));
  },
});
