/**
 * The glob matcher: Redis's syntax, and no exponential backtracking.
 */

import assert from "node:assert/strict";
import { globMatch } from "../../src/store/glob.ts";
import { seededRandom } from "../helpers/test_support.ts";
import { RawClient, startOurServer } from "../helpers/servers.ts";

/** One pattern element of the subset the property test generates. */
type Token =
  | { kind: "star" }
  | { kind: "any" }
  | { kind: "literal"; code: number }
  | { kind: "class"; codes: Set<number>; negated: boolean };

function tokenize(pattern: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") tokens.push({ kind: "star" });
    else if (c === "?") tokens.push({ kind: "any" });
    else if (c === "\\") tokens.push({ kind: "literal", code: pattern.charCodeAt(++i) });
    else if (c === "[") {
      const close = pattern.indexOf("]", i);
      let body = pattern.slice(i + 1, close);
      const negated = body.startsWith("^");
      if (negated) body = body.slice(1);
      tokens.push({
        kind: "class",
        codes: new Set([...body].map((ch) => ch.charCodeAt(0))),
        negated,
      });
      i = close;
    } else tokens.push({ kind: "literal", code: pattern.charCodeAt(i) });
  }
  return tokens;
}

/** A dynamic-programming reference: O(pattern × text), no backtracking at all. */
function referenceMatch(pattern: string, text: string): boolean {
  const tokens = tokenize(pattern);
  // matches[j]: the first i tokens match the first j characters.
  let matches = new Array<boolean>(text.length + 1).fill(false);
  matches[0] = true;
  for (const token of tokens) {
    const next = new Array<boolean>(text.length + 1).fill(false);
    for (let j = 0; j <= text.length; j++) {
      if (token.kind === "star") {
        next[j] = matches[j]! || (j > 0 && next[j - 1]!);
      } else if (j > 0 && matches[j - 1]) {
        const code = text.charCodeAt(j - 1);
        next[j] = token.kind === "any" ||
          (token.kind === "literal" && token.code === code) ||
          (token.kind === "class" && token.codes.has(code) !== token.negated);
      }
    }
    matches = next;
  }
  return matches[text.length]!;
}

Deno.test("glob: Redis's syntax — stars, ?, classes, ranges, negation, escapes, case", () => {
  assert.equal(globMatch("h?llo", "hello"), true);
  assert.equal(globMatch("h*llo", "heeeello"), true);
  assert.equal(globMatch("h[ae]llo", "hallo"), true);
  assert.equal(globMatch("h[^e]llo", "hello"), false);
  assert.equal(globMatch("h[a-b]llo", "hbllo"), true);
  assert.equal(globMatch("h\\*llo", "h*llo"), true);
  assert.equal(globMatch("h\\*llo", "hallo"), false);
  assert.equal(globMatch("HELLO", "hello", true), true);
  assert.equal(globMatch("*", ""), true);
  assert.equal(globMatch("a*", "a"), true);
  assert.equal(globMatch("*a", ""), false);
});

Deno.test("glob: a pattern of many stars against a long string finishes at once", () => {
  const text = "a".repeat(40);
  const pattern = "a*".repeat(20) + "b";
  // With exponential backtracking these would not finish in a lifetime.
  assert.equal(globMatch(pattern, text), false);
  assert.equal(globMatch("*".repeat(3) + "a*".repeat(30) + "a", "a".repeat(5000)), true);
});

Deno.test("glob: random star-heavy patterns agree with a reference matcher", () => {
  const random = seededRandom(20261201);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const pieces = ["*", "*", "*", "a", "b", "?", "[ab]", "[^a]", "\\*", "c"];
  for (let round = 0; round < 3000; round++) {
    let pattern = "";
    const length = 1 + Math.floor(random() * 14);
    for (let i = 0; i < length; i++) pattern += pick(pieces);
    let text = "";
    const textLength = Math.floor(random() * (round % 10 === 0 ? 400 : 30));
    for (let i = 0; i < textLength; i++) text += pick(["a", "a", "a", "b", "c", "*"]);
    assert.equal(
      globMatch(pattern, text),
      referenceMatch(pattern, text),
      `pattern ${JSON.stringify(pattern)} text ${JSON.stringify(text)}`,
    );
  }
});

Deno.test("glob: KEYS with a pathological pattern answers and the server keeps serving", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  await client.command("SET", "a".repeat(40), "1");
  assert.equal(decode(await client.command("KEYS", "a*".repeat(20) + "b")), "*0\r\n");
  assert.equal(decode(await client.command("PING")), "+PONG\r\n");
});
